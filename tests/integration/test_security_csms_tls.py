"""Issue 9, the CSMS's side: wss:// with the CSMS's certificate verified
against upstream.ca_file and its host name checked (by default), and a client
certificate per upstream identity (security profile 3): upstream.cert_file
by default, chargers[].upstream_cert_file for one charger. The CAs and
certificates are made by the test; the simulated CSMS requires a client
certificate from the gateways' CA."""

import re

import pytest

import ocpp_sim
from conftest import HOST, wait_until
from tls_pki import Pki, server_context

WARNING = r"^warn proxy: upstream.tls_verify is off"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    pki = Pki(tmp_path_factory.mktemp("pki"))
    pki.csms_ca = pki.ca("csms")
    pki.gw_ca = pki.ca("gateways")
    pki.other_ca = pki.ca("other")
    pki.csms_cert = pki.issue(pki.csms_ca, "csms", name="csms-server", server=True, dns=["localhost", HOST], ips=[HOST])
    pki.csms_expired = pki.issue(pki.csms_ca, "csms", name="csms-expired", server=True,
                                 dns=["localhost", HOST], ips=[HOST], expired=True)
    pki.csms_elsewhere = pki.issue(pki.csms_ca, "csms", name="csms-elsewhere", server=True,
                                   dns=["csms.example.net"])
    pki.site = pki.issue(pki.gw_ca, "TEST-SITE")
    pki.cp02 = pki.issue(pki.gw_ca, "CP02")
    pki.foreign = pki.issue(pki.other_ca, "TEST-SITE", name="foreign-site")
    return pki


def tls_csms(sims, pki, cert=None, client_ca="gw_ca"):
    return sims.csms(ssl=server_context(cert or pki.csms_cert,
                                        getattr(pki, client_ca) if client_ca else None))


def start(gateway, csms, pki, ca="csms_ca", cert="site", **upstream):
    up = {"ca_file": getattr(pki, ca).cert_path}
    if cert:
        up.update(cert_file=getattr(pki, cert).cert_path, key_file=getattr(pki, cert).key_path)
    up.update(upstream)
    return gateway(csms=csms, chargers=[
        "CP01", {"id": "CP02", "upstream_cert_file": pki.cp02.cert_path,
                 "upstream_key_file": pki.cp02.key_path}], upstream=up)


def test_client_certificates_per_identity(sims, gateway, charger, pki):
    csms = tls_csms(sims, pki)
    assert csms.url.startswith("wss://")
    gw = start(gateway, csms, pki)
    cp1 = charger("CP01", "1.6")
    cp1.session()
    cp2 = charger("CP02", "2.0.1")
    cp2.boot()
    [ev1] = csms.connect_events("CP01")
    [ev2] = csms.connect_events("CP02")
    assert ev1.peer_cn == "TEST-SITE"      # the default certificate
    assert ev2.peer_cn == "CP02"           # the charger's own
    assert not gw.find_log(WARNING)
    ocpp_sim.assert_no_violations(csms, cp1, cp2)


FAILS = {
    # name: (CSMS certificate, gateway's ca_file, gateway's client cert, CSMS's client CA)
    "csms-cert-from-unknown-ca": ("csms_cert", "other_ca", "site", "gw_ca"),
    "csms-cert-expired": ("csms_expired", "csms_ca", "site", "gw_ca"),
    "csms-host-name-mismatch": ("csms_elsewhere", "csms_ca", "site", "gw_ca"),
    "no-client-cert": ("csms_cert", "csms_ca", None, "gw_ca"),
    "client-cert-from-wrong-ca": ("csms_cert", "csms_ca", "foreign", "gw_ca"),
}


@pytest.mark.parametrize("case", list(FAILS))
def test_upstream_refused(sims, gateway, charger, pki, case):
    csms_cert, ca, cert, client_ca = FAILS[case]
    csms = tls_csms(sims, pki, getattr(pki, csms_cert), client_ca)
    gw = gateway(csms=csms, chargers=["CP01"], upstream=dict(
        ca_file=getattr(pki, ca).cert_path,
        **({"cert_file": getattr(pki, cert).cert_path, "key_file": getattr(pki, cert).key_path}
           if cert else {})))
    cp = charger("CP01", "1.6")
    # (with TLS 1.3 a refused client certificate shows only when the client
    # reads; lws then gives up at its handshake timeout, 20 s)
    gw.wait_log(r"^warn proxy: upstream connect failed charger=CP01", timeout=30)
    assert not csms.connect_events("CP01")
    # the charger is answered by the gateway meanwhile, and stays connected
    assert cp.connected
    cp.heartbeat(timeout=20)
    assert cp.connected


def test_verification_off_is_explicit_and_logged(sims, gateway, charger, pki):
    csms = tls_csms(sims, pki, pki.csms_elsewhere)
    gw = start(gateway, csms, pki, ca="other_ca", tls_verify=False)
    gw.wait_log(WARNING)
    cp = charger("CP01", "1.6")
    cp.boot()
    assert csms.connect_events("CP01")
    ocpp_sim.assert_no_violations(csms, cp)
    # at every start
    assert gw.terminate() == 0
    gw.start()
    wait_until(lambda: len(re.findall(WARNING, gw.log_text(), re.M)) == 2,
               what="the warning again at the second start")
