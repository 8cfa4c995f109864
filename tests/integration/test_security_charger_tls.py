"""Issue 9, the chargers' side: wss:// with the gateway's certificate, and the
OCPP security profiles per charger: 2 (Basic auth over TLS) and 3 (a client
certificate from the configured CA whose CN, or serial, is the charger's id).
The CAs and certificates are made by the test."""

import ssl

import pytest
import websockets

import ocpp_sim
from conftest import HOST, free_port, port_accepts, wait_until
from tls_pki import Pki, client_context

PASSWORD = "profile2-pw-5d1e"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    pki = Pki(tmp_path_factory.mktemp("pki"))
    pki.server_ca = pki.ca("server")
    pki.server = pki.issue(pki.server_ca, "gateway", server=True, dns=["localhost"], ips=[HOST])
    pki.charger_ca = pki.ca("chargers")
    pki.other_ca = pki.ca("other")
    for cid in ("CP03", "CP04"):
        setattr(pki, cid, pki.issue(pki.charger_ca, cid))
    pki.expired = pki.issue(pki.charger_ca, "CP03", name="CP03-expired", expired=True)
    pki.foreign = pki.issue(pki.other_ca, "CP03", name="CP03-foreign")
    return pki


def tls_gateway(gateway, pki, field="cn", chargers=None):
    port = free_port()
    gw = gateway(chargers=chargers or [
        {"id": "CP01", "security_profile": 0},
        {"id": "CP02", "security_profile": 2, "password": PASSWORD},
        {"id": "CP03", "security_profile": 3},
        {"id": "CP04", "security_profile": 3}],
        listen={"tls": {"port": port, "cert_file": pki.server.cert_path,
                        "key_file": pki.server.key_path, "ca_file": pki.charger_ca.cert_path,
                        "client_id_field": field}})
    gw.wss = f"wss://{HOST}:{port}/ocpp"
    wait_until(lambda: port_accepts(port), what="the wss:// listener")
    return gw


def connect(charger, gw, cid, ctx, **kwargs):
    return charger(cid, "1.6", full_url=f"{gw.wss}/{cid}", ssl=ctx, **kwargs)


def test_profiles_that_pass(csms, gateway, charger, pki):
    gw = tls_gateway(gateway, pki)
    # profile 3: its own certificate
    cp3 = connect(charger, gw, "CP03", client_context(pki.server_ca, pki.CP03))
    cp3.session()
    # profile 2: Basic auth over TLS, no certificate
    cp2 = connect(charger, gw, "CP02", client_context(pki.server_ca), password=PASSWORD)
    cp2.boot()
    # profile 0: over TLS too, and over ws://
    cp1 = connect(charger, gw, "CP01", client_context(pki.server_ca))
    cp1.heartbeat()
    assert [e.charger_id for e in csms.connect_events()] == ["CP03", "CP02", "CP01"]
    # the gateway's certificate verifies against its CA and names 127.0.0.1
    assert cp3.conn.ws.transport.get_extra_info("ssl_object").version() in ("TLSv1.2", "TLSv1.3")
    ocpp_sim.assert_no_violations(csms, cp3, cp2, cp1)


REFUSED = {
    # name: (charger id, certificate attribute or None, password, how it fails)
    "no-client-cert": ("CP03", None, None, 403),
    "cn-mismatch": ("CP04", "CP03", None, 403),
    "wrong-ca": ("CP03", "foreign", None, "tls"),
    "expired": ("CP03", "expired", None, "tls"),
    "profile-2-wrong-password": ("CP02", None, "wrong", 401),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused(csms, gateway, charger, pki, case):
    cid, cert, password, how = REFUSED[case]
    gw = tls_gateway(gateway, pki)
    mark = gw.log_mark()
    ctx = client_context(pki.server_ca, getattr(pki, cert) if cert else None)
    with pytest.raises((websockets.InvalidHandshake, OSError, ssl.SSLError)) as refused:
        connect(charger, gw, cid, ctx, password=password)
    if how == "tls":
        # the TLS handshake itself fails: no HTTP status at all
        assert not isinstance(refused.value, websockets.InvalidStatusCode), repr(refused.value)
    else:
        assert isinstance(refused.value, websockets.InvalidStatusCode), repr(refused.value)
        assert refused.value.status_code == how
        gw.wait_log(rf"^warn proxy: handshake refused charger={cid} status={how} reason=", since=mark)
    assert not csms.connect_events(cid)
    # a good charger still gets in afterwards
    ok = connect(charger, gw, "CP03", client_context(pki.server_ca, pki.CP03))
    ok.heartbeat()


def test_profile_2_and_3_need_tls(csms, gateway, charger, pki):
    gw = tls_gateway(gateway, pki)
    for cid, password in (("CP02", PASSWORD), ("CP03", None)):
        with pytest.raises(websockets.InvalidStatusCode) as refused:
            charger(cid, "1.6", password=password)
        assert refused.value.status_code == 403
        gw.wait_log(rf"^warn proxy: handshake refused charger={cid} status=403 reason=security "
                    rf"profile needs TLS")
    assert not csms.connect_events()


def test_client_id_from_serial(csms, gateway, charger, pki):
    by_serial = pki.issue(pki.charger_ca, "any-name", name="serial-cert", serial=0x0A1B2C3D4E)
    cid = by_serial.serial_hex
    assert cid == "0A1B2C3D4E"
    gw = tls_gateway(gateway, pki, field="serial",
                     chargers=[{"id": cid, "security_profile": 3}, {"id": "CP03", "security_profile": 3}])
    cp = connect(charger, gw, cid, client_context(pki.server_ca, by_serial))
    cp.heartbeat()
    # a certificate whose CN is the id does not do in serial mode
    with pytest.raises(websockets.InvalidStatusCode) as refused:
        connect(charger, gw, "CP03", client_context(pki.server_ca, pki.CP03))
    assert refused.value.status_code == 403
    ocpp_sim.assert_no_violations(csms, cp)


def test_old_tls_versions_refused(gateway, pki):
    """The listener speaks TLS 1.2 and 1.3 only."""
    import socket
    gw = tls_gateway(gateway, pki)
    port = int(gw.wss.rsplit(":", 1)[1].split("/")[0])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx.minimum_version = ctx.maximum_version = version
        with socket.create_connection((HOST, port), timeout=5) as raw:
            with ctx.wrap_socket(raw) as tls:
                assert tls.version() == {ssl.TLSVersion.TLSv1_2: "TLSv1.2",
                                         ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
    # TLS 1.1: refused by the server (the client allows it at security level 0)
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    with socket.create_connection((HOST, port), timeout=5) as raw:
        with pytest.raises(ssl.SSLError):
            ctx.wrap_socket(raw)
