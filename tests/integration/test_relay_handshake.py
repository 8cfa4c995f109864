"""Issue 2, relay: which chargers may connect (subprotocol, charger id, Basic-auth
password), what the gateway logs when it refuses, and the credentials and
subprotocol it uses towards the CSMS."""

import pytest
import websockets

import ocpp_sim
from conftest import basic_auth

CHARGER_PASSWORD = "charger-pw-7f3a"
UPSTREAM_PASSWORD = "upstream-pw-91c2"

REFUSALS = {
    # name: (charger id, SimCharger kwargs, HTTP status expected or None for any refusal)
    "no-subprotocol": ("CP01", {"subprotocols": []}, None),
    "unknown-subprotocol": ("CP01", {"subprotocols": ["ocpp1.5"]}, None),
    "unknown-charger": ("CP99", {}, None),
    "missing-password": ("CPPW", {}, 401),
    "wrong-password": ("CPPW", {"password": "not-the-password"}, 401),
    "password-of-another-charger": ("CPPW", {"password": "other-pw"}, 401),
}


def start_gateway(gateway, **overrides):
    return gateway(chargers=["CP01", {"id": "CPPW", "password": CHARGER_PASSWORD},
                             {"id": "CPOT", "password": "other-pw"}], **overrides)


@pytest.mark.parametrize("case", list(REFUSALS))
def test_handshake_refused(csms, gateway, charger, case):
    cid, kwargs, status = REFUSALS[case]
    gw = start_gateway(gateway)
    mark = gw.log_mark()
    with pytest.raises((websockets.InvalidHandshake, OSError)) as refused:
        charger(cid, "1.6", **kwargs)
    if status is not None:
        assert isinstance(refused.value, websockets.InvalidStatusCode), repr(refused.value)
        assert refused.value.status_code == status
    # logged, with the charger id and a reason
    line = gw.wait_log(rf"^warn proxy: .*\b{cid}\b.*$", since=mark).group(0)
    assert "reason" in line or "status" in line, line
    # nothing went upstream for it
    assert not csms.connect_events(cid) and not csms.connect_events(cid, kind="refused")
    # and the gateway goes on serving others
    ok = charger("CPPW", "2.0.1", password=CHARGER_PASSWORD)
    ok.heartbeat()
    assert CHARGER_PASSWORD not in gw.log_text()
    ocpp_sim.assert_no_violations(csms, ok)


def test_accepted_with_the_right_password_and_either_version(csms, gateway, charger):
    gw = start_gateway(gateway)
    cp = charger("CPPW", "1.6", password=CHARGER_PASSWORD)
    cp.session()
    cp2 = charger("CP01", "2.0.1", subprotocols=["ocpp2.0.1", "ocpp1.6"])
    assert cp2.subprotocol in ("ocpp2.0.1", "ocpp1.6")
    cp2.aio.version = cp2.subprotocol[4:]
    cp2.boot()
    assert csms.connect_events("CP01")[0].subprotocol == cp2.subprotocol
    # the charger's own credentials are not sent upstream (none configured here)
    assert csms.connect_events("CPPW")[0].authorization is None
    assert CHARGER_PASSWORD not in gw.log_text()
    ocpp_sim.assert_no_violations(csms, cp, cp2)


def test_unknown_chargers_allowed_when_configured(csms, gateway, charger):
    start_gateway(gateway, listen={"allow_unknown_chargers": True})
    cp = charger("CP77", "2.0.1")
    cp.session()
    [ev] = csms.connect_events("CP77")
    assert ev.path == "/ocpp/CP77" and ev.subprotocol == "ocpp2.0.1"
    # a configured password is still required
    with pytest.raises(websockets.InvalidStatusCode) as refused:
        charger("CPPW", "1.6")
    assert refused.value.status_code == 401
    ocpp_sim.assert_no_violations(csms, cp)


def test_upstream_basic_auth(sims, gateway, charger):
    csms = sims.csms(passwords={"CP01": UPSTREAM_PASSWORD, "CPPW": UPSTREAM_PASSWORD + "-2"})
    gw = gateway(csms=csms, chargers=[
        {"id": "CP01", "upstream_password": UPSTREAM_PASSWORD},
        {"id": "CPPW", "password": CHARGER_PASSWORD, "upstream_password": UPSTREAM_PASSWORD + "-2"},
        "CP02"])
    cp1 = charger("CP01", "1.6")
    cp1.session()
    [ev] = csms.connect_events("CP01")
    assert ev.authorization == basic_auth("CP01", UPSTREAM_PASSWORD)
    # the charger's own password is checked by the gateway; the CSMS gets the upstream one
    cpw = charger("CPPW", "2.0.1", password=CHARGER_PASSWORD)
    cpw.session()
    assert csms.connect_events("CPPW")[0].authorization == basic_auth("CPPW", UPSTREAM_PASSWORD + "-2")
    # no upstream password configured: no Authorization header
    cp2 = charger("CP02", "1.6")
    cp2.boot()
    assert csms.connect_events("CP02")[0].authorization is None
    assert not csms.connect_events(kind="refused")
    log = gw.log_text()
    assert UPSTREAM_PASSWORD not in log and CHARGER_PASSWORD not in log
    ocpp_sim.assert_no_violations(csms, cp1, cpw, cp2)


def test_wrong_upstream_password_keeps_charger_connected(sims, gateway, charger):
    """The CSMS refusing the gateway's credentials (401) is an upstream failure:
    the charger stays connected and the gateway keeps trying."""
    csms = sims.csms(passwords={"CP01": "the-real-one"})
    gateway(csms=csms, chargers=[{"id": "CP01", "upstream_password": "an-old-one"}])
    cp = charger("CP01", "1.6")
    csms.wait_for(lambda: len(csms.aio.connect_events("CP01", kind="refused")) >= 2,
                  timeout=20, what="two refused upstream attempts")
    refused = csms.connect_events("CP01", kind="refused")
    assert all(e.status == 401 for e in refused)
    assert all(e.authorization == basic_auth("CP01", "an-old-one") for e in refused)
    assert cp.connected
    ocpp_sim.assert_no_violations(csms, cp)
