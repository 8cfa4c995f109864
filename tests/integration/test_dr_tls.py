"""Issue 7, demand response over mqtts:// with a test CA (made here with the
openssl command line) and a password-protected broker (mosquitto_passwd):
the gateway connects with its CA file, user name and password file; a wrong
password or an untrusted certificate is refused, logged, and retried."""

import os

import pytest

from conftest import wait_until
from dr_fixtures import FAST, SITE, amps, limits_are, openadr_config
from mqtt_sim import Mosquitto, Vtn, event, make_ca
from test_balancer_profiles import start_charging

USER, PASSWORD = "depot01", "s3cret pass"


@pytest.fixture
def tls(tmp_path):
    files = make_ca(str(tmp_path))
    broker = Mosquitto(str(tmp_path), tls=files, passwords={USER: PASSWORD, "vtn": "vtn-pw"})
    broker.start()
    vtn = Vtn(broker.port, ca=files["ca"], username="vtn", password="vtn-pw")
    yield broker, vtn, files
    vtn.close()
    broker.close()


def password_file(tmp_path, name, password):
    path = os.path.join(str(tmp_path), name)
    with open(path, "w") as f:
        f.write(password + "\n")
    return path


def test_tls_with_a_test_ca_and_a_password(csms, gateway, charger, tmp_path, tls):
    broker, vtn, files = tls
    gw = gateway(chargers=["CP01", "CP02"], site={"id": SITE, "grid_limit_kw": 200},
                 balancer=FAST, openadr=openadr_config(
                     broker, scheme="mqtts", ca_file=files["ca"], username=USER,
                     password_file=password_file(tmp_path, "mqtt.pw", PASSWORD)))
    vtn.wait_online(SITE)
    gw.wait_log(r"info dr: connected broker=mqtts://127\.0\.0\.1:")
    cps = [charger(i, "1.6") for i in ("CP01", "CP02")]
    for cp in cps:
        start_charging(cp, "1.6")
    vtn.publish(event("evt-tls", start="0001-01-01", duration_s=60, kw=20))
    assert vtn.wait_opt("evt-tls")["optType"] == "optIn"
    wait_until(limits_are(cps, amps(20)), what="the event over TLS in force")


def test_wrong_password_and_untrusted_certificate_are_refused(csms, gateway, tmp_path, tls):
    broker, vtn, files = tls
    wrong = gateway(name="wrong-pw", site={"id": SITE, "grid_limit_kw": 200},
                    openadr=openadr_config(broker, scheme="mqtts", ca_file=files["ca"],
                                           username=USER, client_id="gw-wrong",
                                           password_file=password_file(tmp_path, "bad.pw", "nope")))
    # no ca_file: the system's CAs, which do not know the test CA
    untrusted = gateway(name="untrusted", site={"id": SITE, "grid_limit_kw": 200},
                        openadr=openadr_config(broker, scheme="mqtts", username=USER,
                                               client_id="gw-untrusted", password=PASSWORD))
    for gw in (wrong, untrusted):
        gw.wait_log(r"warn dr: broker unavailable, following the stored schedule .*"
                    r"reason=connect failed")
        # retried with backoff, not given up
        wait_until(lambda: gw.log_text().count("warn dr: broker unavailable") >= 2,
                   what="a second attempt")
        assert "info dr: connected" not in gw.log_text()
    assert vtn.statuses(SITE) == []
    assert PASSWORD not in wrong.log_text() + untrusted.log_text()
