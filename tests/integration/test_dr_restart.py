"""Issue 7, demand response survives: a gateway killed mid-event keeps the
event (from its store, not from the broker) after it restarts; a broker that
stops mid-event does not keep the event from ending on time; on reconnect
the gateway subscribes again and acknowledges the retained events again."""

import time

from conftest import wait_until
from dr_fixtures import (FULL_A, SITE, amps, broker, dr_site, limits_are,  # noqa: F401
                         openadr_config, vtn, vtn_mark, FAST)
from mqtt_sim import Mosquitto, Vtn, event
from test_balancer_profiles import start_charging


def test_gateway_restarted_mid_event_keeps_the_event(csms, gateway, charger, broker, vtn):
    gw, cps = dr_site(gateway, charger, broker, vtn)
    vtn.publish(event("evt-r", start_in_s=1, duration_s=9, kw=20))  # not retained
    ends = time.monotonic() + 10
    vtn.wait_opt("evt-r")
    wait_until(limits_are(cps, amps(20)), what="20 kW in force")
    mark = vtn_mark()
    gw.kill()
    # the broker says it for the gateway: the last will
    vtn.wait_status(SITE, "offline", since=mark)

    gw2 = gateway(config=gw.config, name="gw2")
    gw2.wait_log(r"info dr: event restored event=evt-r")
    gw2.wait_log(r"info dr: limit in force kw=20\.0 event=evt-r")
    vtn.wait_online(SITE, since=mark)
    cps2 = [charger(i, "1.6", gw=gw2) for i in ("CP01", "CP02")]
    for cp in cps2:
        start_charging(cp, "1.6")
    wait_until(limits_are(cps2, amps(20)), what="the restarted gateway keeps 20 kW")
    # and ends it on time
    wait_until(limits_are(cps2, FULL_A), timeout=20, what="32 A after the end")
    assert time.monotonic() >= ends - 0.5


def test_broker_stopped_mid_event_the_event_still_ends_on_time(csms, gateway, charger, broker,
                                                               vtn):
    gw, cps = dr_site(gateway, charger, broker, vtn)
    vtn.publish(event("evt-b", start="0001-01-01", duration_s=5, kw=20))
    published = time.monotonic()
    vtn.wait_opt("evt-b")
    wait_until(limits_are(cps, amps(20)), what="20 kW in force")
    broker.stop()
    gw.wait_log(r"warn dr: broker unavailable, following the stored schedule")
    wait_until(limits_are(cps, FULL_A), timeout=12, what="32 A at the end, without the broker")
    assert time.monotonic() - published >= 4.5
    gw.wait_log(r"info dr: event over event=evt-b")
    # the broker back: connected and subscribed again
    broker.start()
    wait_until(lambda: gw.log_text().count("info dr: connected broker=") >= 2, timeout=10,
               what="the gateway connected again")


def test_reconnect_resubscribes_and_acknowledges_retained_events(csms, gateway, charger,
                                                                 tmp_path):
    broker = Mosquitto(str(tmp_path), persistent=True, name="persistent")
    broker.start()
    vtn = Vtn(broker.port)
    try:
        gw = gateway(chargers=["CP01", "CP02"], site={"id": SITE, "grid_limit_kw": 200},
                     balancer=FAST, openadr=openadr_config(broker))
        vtn.wait_online(SITE)
        cps = [charger(i, "1.6") for i in ("CP01", "CP02")]
        for cp in cps:
            start_charging(cp, "1.6")
        vtn.publish(event("evt-k", start="0001-01-01", duration_s=120, kw=20), retain=True)
        vtn.wait_opt("evt-k")
        wait_until(limits_are(cps, amps(20)), what="20 kW in force")
        broker.stop()       # keeps the retained event (persistence)
        gw.wait_log(r"warn dr: broker unavailable")
        broker.start()
        gw.wait_log(r"debug dr: event unchanged, acknowledged again event=evt-k")
        assert gw.log_text().count("info dr: connected broker=") == 2
        assert gw.log_text().count("info dr: event accepted event=evt-k") == 1
        assert limits_are(cps, amps(20))()
    finally:
        vtn.close()
        broker.close()
