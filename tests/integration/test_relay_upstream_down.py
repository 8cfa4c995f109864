"""Issue 2, relay: the CSMS down when a charger connects, the CSMS going away and
coming back mid-session, and upstream reconnection with backoff. The charger
stays connected throughout; what it sends while the upstream is down is held, in
order, and delivered once the upstream is back."""

import pytest

import ocpp_sim
from conftest import assert_stays, wait_until
from ocpp_sim import now_iso, texts, to_csms


def send_calls(cp, calls):
    """Sends CALLs without waiting for answers; returns (ids, sent frames)."""
    ids, frames = [], []
    for i, (action, payload) in enumerate(calls):
        mid = f"held-{i}-{cp.charger_id}"
        frames.append(cp.send_json([2, mid, action, payload]))
        ids.append(mid)
    return ids, frames


def boot_calls(cp):
    return [("BootNotification", cp.boot_payload()),
            ("StatusNotification", cp.status_payload("Available", 1)),
            ("Heartbeat", {}),
            ("StatusNotification", cp.status_payload("Preparing", 1)),
            ("Heartbeat", {})]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_csms_down_when_charger_connects_then_up(sims, gateway, charger, version):
    csms = sims.csms(start=False)          # its port is reserved, connecting is refused
    gateway(csms=csms, chargers=["CP01"])
    cp = charger("CP01", version)          # the charger's handshake does not wait for the CSMS
    ids, frames = send_calls(cp, boot_calls(cp))
    assert cp.connected

    csms.start()
    replies = [cp.wait_reply(mid, timeout=20) for mid in ids]
    assert all(r.ok for r in replies), [r.error_code for r in replies]
    assert replies[0].payload["status"] == "Accepted"
    got = csms.wait_received("CP01", count=len(frames))
    assert texts(got) == texts(frames), "held frames must arrive unchanged and in order"
    cp.session()                           # and it goes on as usual
    assert texts(csms.received("CP01")) == texts(to_csms(cp, csms))
    assert cp.aio.conn_count == 1 and cp.connected
    ocpp_sim.assert_no_violations(csms, cp)


@pytest.mark.parametrize("abrupt", [False, True], ids=["close-1001", "tcp-drop"])
def test_csms_drops_and_comes_back_mid_session(csms, gateway, charger, abrupt):
    gateway(chargers=["CP01"])
    cp = charger("CP01", "1.6")
    cp.boot()
    cp.status("Preparing")
    cp.call("Authorize", {"idTag": "TAG01"})
    tx = cp.call("StartTransaction", {"connectorId": 1, "idTag": "TAG01", "meterStart": 0,
                                      "timestamp": now_iso()})["transactionId"]
    cp.transactions[1] = tx
    cp.meter_values(1)
    before = len(to_csms(cp, csms))

    csms.stop(abrupt=abrupt)
    held = []
    if not abrupt:
        # The gateway has seen the close handshake: what the charger sends now is
        # held until the CSMS is back. (After a TCP drop the gateway may still
        # write into the dead socket for a moment: no such promise there.)
        ids, held = send_calls(cp, [("MeterValues", {
            "connectorId": 1, "transactionId": tx,
            "meterValue": [{"timestamp": now_iso(), "sampledValue": [{"value": "1500"}]}]})])
    assert cp.connected, "the charger must stay connected while the CSMS is away"

    csms.start()
    conn2 = csms.wait_connected("CP01", count=2, timeout=20)
    for mid in [f.id for f in held]:
        assert cp.wait_reply(mid, timeout=20).ok
    cp.meter_values(1)
    cp.call("StopTransaction", {"transactionId": tx, "meterStop": 2000, "timestamp": now_iso()})
    cp.status("Available")

    assert cp.connected and cp.aio.conn_count == 1
    sent = to_csms(cp, csms)
    assert texts(csms.received("CP01", conn_no=1)) == texts(sent[:before])
    assert texts(csms.received("CP01", conn_no=2)) == texts(sent[before:])
    assert conn2.version == "1.6"
    ocpp_sim.assert_no_violations(csms, cp)


@pytest.mark.parametrize("rmin, rmax", [(0.2, 1.0), (0.5, 0.5)], ids=["0.2-1.0", "0.5-0.5"])
def test_upstream_reconnects_with_backoff_while_charger_connected(csms, gateway, charger, rmin, rmax):
    """Retries are spaced by reconnect_min_s at least and reconnect_max_s at most
    (jitter stays inside that range), growing from the one to the other."""
    gateway(chargers=["CP01"], upstream={"reconnect_min_s": rmin, "reconnect_max_s": rmax})
    csms.refuse["CP01"] = 503                  # the CSMS refuses CP01's handshake for now
    cp = charger("CP01", "1.6")
    ids, frames = send_calls(cp, boot_calls(cp)[:3])

    def refused():
        return [e.t for e in csms.aio.events if e.kind == "refused" and e.charger_id == "CP01"]
    wait_until(lambda: len(refused()) >= 6, timeout=20, what="6 upstream attempts")
    times = refused()
    gaps = [round(b - a, 3) for a, b in zip(times, times[1:])]
    slack = 0.03                               # timers fire late, never early
    assert all(g >= rmin - slack for g in gaps), f"retries sooner than reconnect_min_s={rmin}: {gaps}"
    assert all(g <= rmax + 1.0 for g in gaps), f"retries later than reconnect_max_s={rmax}: {gaps}"
    if rmax >= 4 * rmin:
        assert max(gaps) >= 2 * rmin, f"no exponential growth: {gaps}"
    assert cp.connected

    del csms.refuse["CP01"]                    # the CSMS lets it in: held frames arrive
    replies = [cp.wait_reply(mid, timeout=20) for mid in ids]
    assert all(r.ok for r in replies)
    assert texts(csms.wait_received("CP01", count=len(frames))) == texts(frames)

    # once the charger is gone, its upstream socket closes and is not reopened
    csms.refuse["CP01"] = 503
    csms.disconnect("CP01", code=1001)         # the upstream drops; the gateway retries...
    wait_until(lambda: len(refused()) >= len(times) + 1, timeout=20, what="a retry")
    cp.close()                                 # returns once the gateway answered the close
    start = len(refused())
    # at most one attempt already under way may still land
    assert_stays(lambda: len(refused()) <= start + 1, 2 * rmax + 1.0,
                 "no upstream retries after the charger left")
    ocpp_sim.assert_no_violations(csms, cp)


def test_charger_disconnect_closes_its_upstream(csms, gateway, charger):
    gateway(chargers=["CP01", "CP02"])
    cp1 = charger("CP01", "1.6")
    cp2 = charger("CP02", "2.0.1")
    cp1.boot()
    cp2.boot()
    csms.wait_connected("CP01")
    cp1.close()
    csms.wait_disconnected("CP01")
    assert csms.connection("CP02").open        # the other charger is untouched
    cp2.heartbeat()
    cp3 = charger("CP01", "1.6")               # and CP01 can come back
    cp3.boot()
    assert csms.wait_connected("CP01", count=2).open
    ocpp_sim.assert_no_violations(csms, cp1, cp2, cp3)
