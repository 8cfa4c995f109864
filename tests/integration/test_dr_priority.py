"""Issue 7, demand response: overlapping events resolve by priority (a lower
number wins, even with a higher limit), and a SIMPLE level maps to its
configured shed fraction of the site's cap."""

import datetime

from conftest import assert_stays, wait_until
from dr_fixtures import FULL_A, amps, broker, dr_site, limits_are, vtn  # noqa: F401
from mqtt_sim import event, iso, utcnow
from test_balancer_profiles import start_charging


def test_overlapping_events_resolve_by_priority(csms, gateway, charger, broker, vtn):
    gw, cps = dr_site(gateway, charger, broker, vtn)
    now = utcnow()
    at = lambda s: iso(now + datetime.timedelta(seconds=s))  # noqa: E731
    # low: priority 2, 20 kW, from +1 s to +10 s; high: priority 0, 30 kW,
    # from +4 s to +7 s
    vtn.publish(event("low", start=at(1), duration_s=9, kw=20, priority=2))
    vtn.publish(event("high", start=at(4), duration_s=3, kw=30, priority=0))
    vtn.wait_opt("low")
    vtn.wait_opt("high")
    wait_until(limits_are(cps, amps(20)), what="the low-priority event alone: 20 kW")
    gw.wait_log(r"info dr: limit in force kw=20\.0 event=low interval=0 priority=2")
    # the higher priority wins during the overlap, though its limit is higher
    wait_until(limits_are(cps, amps(30)), what="the high-priority event: 30 kW")
    gw.wait_log(r"info dr: limit in force kw=30\.0 event=high interval=0 priority=0")
    wait_until(limits_are(cps, amps(20)), what="back to the low-priority event")
    wait_until(limits_are(cps, FULL_A), timeout=12, what="32 A after both")


def test_simple_level_maps_to_its_shed_fraction(csms, gateway, charger, broker, vtn):
    # 44.16 kW is 64 A per phase: level 2 sheds half, 22.08 kW, 16 A each
    gw, cps = dr_site(gateway, charger, broker, vtn, site={"grid_limit_kw": 44.16},
                      simple_shed_fractions=[0, 0.25, 0.5, 0.75])
    vtn.publish(event("lvl", start="0001-01-01", duration_s=60, simple=2))
    assert vtn.wait_opt("lvl")["optType"] == "optIn"
    wait_until(limits_are(cps, 16.0), what="SIMPLE 2: 16 A each")
    gw.wait_log(r"info dr: limit in force kw=22\.1 event=lvl")
    # level 1 sheds a quarter: 33.12 kW, 24 A each
    vtn.publish(event("lvl", start="0001-01-01", duration_s=60, simple=1,
                      modified="2099-01-01T00:00:00Z"), operation="UPDATE")
    wait_until(limits_are(cps, 24.0), what="SIMPLE 1: 24 A each")
    # level 0 is normal operation
    vtn.publish(event("lvl", start="0001-01-01", duration_s=60, simple=0,
                      modified="2099-01-01T00:00:01Z"), operation="UPDATE")
    wait_until(limits_are(cps, FULL_A), what="SIMPLE 0: 32 A each")


def test_a_limit_above_the_config_cap_raises_nothing(csms, gateway, charger, broker, vtn):
    # a 20 kW site; the utility allows 500 kW
    gw, cps = dr_site(gateway, charger, broker, vtn, site={"grid_limit_kw": 20}, charging=False)
    for cp in cps:
        start_charging(cp, "1.6")
    wait_until(limits_are(cps, amps(20)), what="the config's 20 kW")
    vtn.publish(event("above", start="0001-01-01", duration_s=60, kw=500))
    assert vtn.wait_opt("above")["optType"] == "optIn"
    gw.wait_log(r"info dr: limit in force kw=20\.0 event=above")
    assert_stays(limits_are(cps, amps(20)), 1.0, what="the config's cap")
