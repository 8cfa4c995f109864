"""Issue 7, demand response reports: periodic and at each interval's end, in
the OpenADR 3.1 report shape, with plausible values from the grid meter (the
Modbus test meter) and the chargers' meter values: the site's import, the EV
load, the cap in force and the flexibility left."""

import datetime

import ocpp_sim
from conftest import wait_until
from dr_fixtures import SITE, amps, broker, dr_site, limits_are, vtn, vtn_mark  # noqa: F401
from mqtt_sim import event, iso, report_values, utcnow

V = 230.0


def near(a, b, tol=0.3):
    return a is not None and abs(a - b) <= tol


def test_reports_carry_plausible_values(csms, gateway, charger, broker, vtn, meter):
    meter.set(current_a=(20.0, 20.0, 20.0))      # 13.8 kW at the grid connection
    gw, cps = dr_site(gateway, charger, broker, vtn, report_interval_s=1, config={"meters": [
        {"name": "grid", "role": "grid", "template": "eastron_sdm630",
         "tcp": {"host": "127.0.0.1", "port": meter.port}, "poll_ms": 200}]})
    # CP01 draws 10 A per phase: 6.9 kW of the 13.8, and the gateway steers it
    cps[0].call("MeterValues", {"connectorId": 1, "meterValue": [{
        "timestamp": ocpp_sim.now_iso(), "sampledValue": [
            {"value": "10.0", "measurand": "Current.Import", "phase": p, "unit": "A"}
            for p in ("L1", "L2", "L3")]}]})

    def plausible_periodic(cap):
        def check():
            reports = [r for r in vtn.reports() if r["reportName"] == "periodic"]
            if not reports:
                return False
            v = report_values(reports[-1])
            return (near(v.get("DEMAND"), 13.8) and near(v.get("EV_DEMAND"), 6.9) and
                    near(v.get("IMPORT_CAPACITY_LIMIT"), cap) and
                    near(v.get("DOWN_REGULATION_AVAILABLE"), 6.9)) and reports[-1]
        return check

    report = wait_until(plausible_periodic(200), what="a periodic report with the site's values")
    assert report["clientName"] == SITE and "eventID" not in report
    assert report["resources"][0]["resourceName"] == SITE
    assert report["resources"][0]["intervalPeriod"]["duration"] == "PT1S"
    assert {d["payloadType"] for d in report["payloadDescriptors"]} == {
        "DEMAND", "EV_DEMAND", "IMPORT_CAPACITY_LIMIT", "DOWN_REGULATION_AVAILABLE"}
    assert all(d["units"] == "KW" and d["readingType"] == "DIRECT_READ"
               for d in report["payloadDescriptors"])
    # every report_interval_s
    mark = vtn_mark()
    wait_until(lambda: len([r for r in vtn.reports(since=mark)
                            if r["reportName"] == "periodic"]) >= 2, timeout=4,
               what="two more periodic reports in about 2 s")

    vtn.publish(event("evt-rep", start_in_s=1, duration_s=3, kw=20))
    during = wait_until(plausible_periodic(20), what="a report with the event's 20 kW cap")
    assert during["eventID"] == "evt-rep"
    # 20 kW minus the 6.9 kW of other loads, for two cars
    wait_until(limits_are(cps, amps(20 - 6.9)), what="the EVs get what the other loads leave")

    def end_report():
        ends = [r for r in vtn.reports() if r["reportName"] == "interval end"]
        return ends and ends[0]
    end = wait_until(end_report, timeout=8, what="the report at the interval's end")
    assert end["eventID"] == "evt-rep"
    assert end["resources"][0]["intervalPeriod"]["duration"] == "PT3S"
    v = report_values(end)
    assert near(v["IMPORT_CAPACITY_LIMIT"], 20), v
    assert near(v["DEMAND"], 13.8), v
    # after the event: the config cap again
    wait_until(plausible_periodic(200), what="a report with the config cap again")


def test_every_interval_end_is_reported_when_many_end_at_once(gateway, charger, broker, vtn):
    # More intervals ending on one tick than the gateway collects without an
    # allocation (16): each still gets its report.
    dr_site(gateway, charger, broker, vtn, charging=False)
    ends_at = utcnow() + datetime.timedelta(seconds=4)
    ids = [f"evt-many-{i:02d}" for i in range(20)]
    for i, eid in enumerate(ids):
        vtn.publish(event(eid, start=iso(ends_at - datetime.timedelta(seconds=2)), duration_s=2,
                          kw=100 + i))

    def reported():
        return sorted(r.get("eventID") for r in vtn.reports()
                      if r["reportName"] == "interval end")
    wait_until(lambda: len(reported()) >= len(ids), timeout=10,
               what="an interval-end report for each of the 20 events")
    assert reported() == ids
