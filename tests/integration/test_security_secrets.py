"""Issue 9: secrets never reach the logs, the status API or the metrics. A
gateway with every kind of secret (chargers' passwords and their hashes,
upstream Basic-auth passwords, the TLS server key, the client keys toward the
CSMS, the status API's token) runs good and bad handshakes on both sides at
debug level; then every line it wrote and every answer of its status
listener is scanned for each secret and for the encodings it travels in (the
Basic-auth header, the key files' base64 lines)."""

import base64

import pytest
import websockets

import ocpp_sim
from conftest import HOST, free_port, hash_password, port_accepts, wait_until
from status_fixtures import request, status_section
from tls_pki import Pki, client_context, server_context

CHARGER_PW = "charger-secret-8c1f2a"
STATUS_TOKEN = "status-token-5be0c7d9a1f3"
UPSTREAM_PW = "upstream-secret-41d9e7"


def secrets_of(pki, hashed):
    out = {CHARGER_PW, UPSTREAM_PW, hashed, STATUS_TOKEN,
           base64.b64encode(f"CP01:{CHARGER_PW}".encode()).decode(),
           base64.b64encode(f"CP01:{UPSTREAM_PW}".encode()).decode(),
           base64.b64encode(f"CP01:wrong-{CHARGER_PW}".encode()).decode()}
    for issued in (pki.server, pki.site, pki.cp02_up):
        for line in issued.key_pem().splitlines():
            if line and not line.startswith("-----"):
                out.add(line)
    # the hash's salt and digest on their own
    out.update(part for part in hashed.split("$")[2:] if len(part) >= 16)
    return out


def test_no_secret_in_any_log(sims, gateway, charger, tmp_path):
    pki = Pki(tmp_path / "pki")
    ca = pki.ca("test")
    pki.server = pki.issue(ca, "gateway", server=True, dns=["localhost"], ips=[HOST])
    pki.csms = pki.issue(ca, "csms-server", server=True, dns=["localhost", HOST], ips=[HOST])
    pki.site = pki.issue(ca, "TEST-SITE")
    pki.cp02_up = pki.issue(ca, "CP02", name="CP02-up")
    pki.cp02 = pki.issue(ca, "CP02")
    hashed = hash_password(CHARGER_PW)
    token_file = tmp_path / "status.token"
    token_file.write_text(STATUS_TOKEN + "\n")
    csms = sims.csms(ssl=server_context(pki.csms, ca), passwords={"CP01": UPSTREAM_PW, "CP03": UPSTREAM_PW})
    tls_port = free_port()
    gw = gateway(csms=csms, chargers=[
        {"id": "CP01", "password_hash": hashed, "security_profile": 1,
         "upstream_password": UPSTREAM_PW},
        {"id": "CP02", "security_profile": 3, "upstream_cert_file": pki.cp02_up.cert_path,
         "upstream_key_file": pki.cp02_up.key_path},
        {"id": "CP03", "upstream_password": "not-what-the-csms-wants-" + UPSTREAM_PW}],
        listen={"tls": {"port": tls_port, "cert_file": pki.server.cert_path,
                        "key_file": pki.server.key_path, "ca_file": ca.cert_path}},
        upstream={"ca_file": ca.cert_path, "cert_file": pki.site.cert_path,
                  "key_file": pki.site.key_path},
        status=status_section(token_file=str(token_file)))
    wait_until(lambda: port_accepts(tls_port), what="the wss:// listener")
    wss = f"wss://{HOST}:{tls_port}/ocpp"

    cp1 = charger("CP01", "1.6", password=CHARGER_PW)
    cp1.session()
    cp2 = charger("CP02", "2.0.1", full_url=f"{wss}/CP02", ssl=client_context(ca, pki.cp02))
    cp2.boot()
    for bad in ({"password": "wrong-" + CHARGER_PW}, {}):
        with pytest.raises(websockets.InvalidStatusCode):
            charger("CP01", "1.6", **bad)
    with pytest.raises(websockets.InvalidStatusCode):
        charger("CP02", "2.0.1", full_url=f"{wss}/CP02", ssl=client_context(ca))
    cp3 = charger("CP03", "1.6")               # refused upstream: 401
    wait_until(lambda: csms.connect_events("CP03", kind="refused"), what="CP03 refused upstream")
    cp3.heartbeat(timeout=20)
    assert csms.connect_events("CP02")[0].peer_cn == "CP02"
    ocpp_sim.assert_no_violations(csms, cp1, cp2)
    answers = ""
    for path in ("/api/status", "/api/chargers/CP01", "/api/chargers/CP02", "/api/history",
                 "/metrics"):
        status, _, body = request(gw, path, STATUS_TOKEN)
        assert status == 200, path
        answers += body.decode(errors="replace")
    assert request(gw, "/api/status", "wrong-" + STATUS_TOKEN)[0] == 401
    assert gw.terminate() == 0
    found = sorted(s for s in secrets_of(pki, hashed) if s in answers)
    assert not found, f"secrets in the status API: {found}"

    text = gw.log_text()
    with open(gw.stdout_path, errors="replace") as f:
        text += f.read()
    assert "handshake refused charger=CP01" in text          # the scan saw the failures
    found = sorted(s for s in secrets_of(pki, hashed) if s in text)
    assert not found, f"secrets in the log: {found}"
