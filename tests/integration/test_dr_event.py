"""Issue 7, demand response: an OpenADR event over MQTT lowers the chargers'
profiles at its start and restores them at its end; a newer version changes
the cap, the same version is acknowledged again, an older one is dropped; a
DELETE or a zero duration cancels."""

import time

from conftest import wait_until
from dr_fixtures import (FULL_A, SITE, amps, broker, dr_site, limits_are,  # noqa: F401
                         vtn, vtn_mark)
from mqtt_sim import event, iso, utcnow


def first_time(predicate, timeout, what):
    """Polls until predicate holds; returns when it first did (monotonic)."""
    wait_until(predicate, timeout=timeout, what=what)
    return time.monotonic()


def test_event_lowers_the_profiles_at_its_start_and_restores_them_at_its_end(
        csms, gateway, charger, broker, vtn):
    gw, cps = dr_site(gateway, charger, broker, vtn)
    mark = vtn_mark()
    vtn.publish(event("evt-1", start_in_s=5, duration_s=5, kw=20))
    published = time.monotonic()
    opt = vtn.wait_opt("evt-1", since=mark)
    assert opt["optType"] == "optIn" and opt["responseCode"] == 200
    assert opt["reason"] == "accepted"
    assert opt["modificationDateTime"].endswith("Z")
    lowered = first_time(limits_are(cps, amps(20)), 12, "the 20 kW cap at the event's start")
    assert lowered - published >= 4.5, f"lowered {lowered - published:.2f} s after publishing"
    gw.wait_log(r"info dr: limit in force kw=20\.0 event=evt-1 interval=0")
    restored = first_time(limits_are(cps, FULL_A), 12, "32 A again after the end")
    assert restored - published >= 9.5, f"restored {restored - published:.2f} s after publishing"
    gw.wait_log(r"info dr: no event in force, local limits only")
    gw.wait_log(r"info dr: event over event=evt-1")


def test_versions_update_reacknowledge_drop_and_delete(csms, gateway, charger, broker, vtn):
    gw, cps = dr_site(gateway, charger, broker, vtn)
    # "now" is the OpenADR start 0001-01-01
    v1 = event("evt-v", start="0001-01-01", duration_s=120, kw=20, modified="2024-01-01T00:00:01Z")
    vtn.publish(v1)
    assert vtn.wait_opt("evt-v")["optType"] == "optIn"
    wait_until(limits_are(cps, amps(20)), what="20 kW in force at once")

    # the same version again: acknowledged again, nothing else
    vtn.publish(v1, operation="UPDATE")
    again = vtn.wait_opt("evt-v", count=2)
    assert again["optType"] == "optIn" and again["modificationDateTime"] == "2024-01-01T00:00:01Z"

    # newer: replaces
    v2 = dict(v1, modificationDateTime="2024-01-01T00:00:02Z",
              intervals=[{"id": 0, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [30]}]}])
    vtn.publish(v2, operation="UPDATE")
    vtn.wait_opt("evt-v", count=3)
    wait_until(limits_are(cps, amps(30)), what="the newer version's 30 kW")

    # older: dropped, no answer, no change
    v0 = dict(v2, modificationDateTime="2024-01-01T00:00:00.5Z",
              intervals=[{"id": 0, "payloads": [{"type": "IMPORT_CAPACITY_LIMIT", "values": [5]}]}])
    vtn.publish(v0, operation="UPDATE")
    gw.wait_log(r"info dr: older version dropped event=evt-v modified=2024-01-01T00:00:00\.5Z")
    assert len(vtn.opts("evt-v")) == 3
    assert limits_are(cps, amps(30))()

    # DELETE: back to the local limits at once
    vtn.publish(v2, operation="DELETE")
    gw.wait_log(r"info dr: event cancelled event=evt-v by=DELETE")
    wait_until(limits_are(cps, FULL_A), what="32 A after the DELETE")
    # and the CREATE coming back later (a retained copy, say) stays cancelled
    vtn.publish(v1)
    gw.wait_log(r"info dr: older version dropped event=evt-v modified=2024-01-01T00:00:01Z")


def test_zero_duration_cancels(csms, gateway, charger, broker, vtn):
    gw, cps = dr_site(gateway, charger, broker, vtn)
    now = utcnow()
    v1 = event("evt-z", start=iso(now), duration_s=120, kw=20)
    vtn.publish(v1)
    wait_until(limits_are(cps, amps(20)), what="20 kW in force")
    cancel = dict(v1, modificationDateTime=iso(utcnow()),
                  intervalPeriod={"start": iso(now), "duration": "PT0S"})
    vtn.publish(cancel, operation="UPDATE", ven=SITE)
    answer = vtn.wait_opt("evt-z", count=2)
    assert answer["optType"] == "optIn" and answer["reason"] == "cancelled"
    gw.wait_log(r"info dr: event cancelled event=evt-z by=zero duration")
    wait_until(limits_are(cps, FULL_A), what="32 A after the cancellation")
