"""Issue 3, the load balancer on the wire: chargers charging through the gateway
under a cap lower than their sum receive the gateway's own charging profiles,
whose sum respects the cap; stops, CSMS caps, chargers that refuse profiles and
multi-connector chargers are accounted for; every profile is schema-valid."""

import asyncio
import datetime

import pytest

import ocpp_sim
from conftest import wait_until

V = 230.0
# 44.16 kW over three phases at 230 V is 64 A per phase: 16 A for each of four cars.
CAP_KW = 44.16
PER_PHASE_A = 64.0
FAST = {"increase_interval_s": 1, "deadband_a": 0.5}


def schedule_of(entry, version):
    sched = entry["profile"]["chargingSchedule"]
    return sched[0] if version == "2.0.1" else sched


def gateway_limit(cp, version, connector=0):
    """The limit (A) of the gateway's profile the charger holds on a connector:
    its charger-wide cap on 0, its TxDefault on the others; None when it has none."""
    purpose = {0: "ChargePointMaxProfile" if version == "1.6" else "ChargingStationMaxProfile"}
    want = purpose.get(connector, "TxDefaultProfile")
    for e in cp.profiles:
        if e["connector"] == connector and e["profile"].get("chargingProfilePurpose") == want:
            s = schedule_of(e, version)
            assert s["chargingRateUnit"] == "A"
            return s["chargingSchedulePeriod"][0]["limit"]
    return None


def near(value, expected, tol=0.11):
    return value is not None and abs(value - expected) <= tol


def start_charging(cp, version, connector=1):
    """Boot, then a car plugged in and charging on the connector."""
    cp.boot()
    if version == "1.6":
        cp.status("Preparing", connector)
        cp.status("Charging", connector)
    else:
        cp.status("Occupied", connector)
        cp.call("TransactionEvent", {
            "eventType": "Started", "timestamp": ocpp_sim.now_iso(),
            "triggerReason": "CablePluggedIn", "seqNo": 0,
            "transactionInfo": {"transactionId": f"tx-{cp.charger_id}-{connector}",
                                "chargingState": "Charging"},
            "evse": {"id": connector, "connectorId": 1}})


def stop_charging_16(cp, connector=1):
    cp.status("Finishing", connector)
    cp.status("Available", connector)


def cap_holds(cps, version, per_phase=PER_PHASE_A):
    limits = [gateway_limit(cp, version) or 0.0 for cp in cps]
    return sum(limits) <= per_phase + 1e-9


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_four_chargers_share_the_cap_and_rise_when_one_stops(csms, gateway, charger, version):
    ids = ["CP01", "CP02", "CP03", "CP04"]
    gw = gateway(chargers=ids, site={"grid_limit_kw": CAP_KW}, balancer=FAST)
    cps = [charger(i, version) for i in ids]
    for cp in cps:
        start_charging(cp, version)

    wait_until(lambda: all(near(gateway_limit(cp, version), 16.0) for cp in cps),
               what="16 A for each of four cars")
    assert cap_holds(cps, version)
    # every profile any charger ever held kept the site under its cap
    for cp in cps:
        for e in cp.profile_log:
            assert schedule_of(e, version)["chargingSchedulePeriod"][0]["limit"] <= 32.0

    if version == "1.6":
        stop_charging_16(cps[3])
    else:
        cps[3].status("Available", 1)
    # 64 A among three: 21.3 A each (floored to 0.1 A), once the interval has passed
    wait_until(lambda: all(near(gateway_limit(cp, version), 21.3) for cp in cps[:3]),
               what="the others rising to 21.3 A")
    wait_until(lambda: near(gateway_limit(cps[3], version), 0.0), what="the stopped charger at 0 A")
    assert cap_holds(cps, version)
    gw.wait_log(r"limit sent charger=CP01 connector=0 limit=21\.3")
    ocpp_sim.assert_no_violations(csms, *cps)


def test_csms_cap_on_one_charger_is_a_limit_and_the_others_get_its_spare(csms, gateway, charger):
    ids = ["CP01", "CP02", "CP03", "CP04"]
    gw = gateway(chargers=ids, site={"grid_limit_kw": CAP_KW}, balancer=FAST)
    cps = [charger(i, "1.6") for i in ids]
    for cp in cps:
        start_charging(cp, "1.6")
    wait_until(lambda: all(near(gateway_limit(cp, "1.6"), 16.0) for cp in cps))

    profile = {"connectorId": 0, "csChargingProfiles": {
        "chargingProfileId": 77, "stackLevel": 0,
        "chargingProfilePurpose": "ChargePointMaxProfile", "chargingProfileKind": "Absolute",
        "chargingSchedule": {"startSchedule": "2020-01-01T00:00:00Z", "chargingRateUnit": "A",
                             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8.0}]}}}
    assert csms.call("CP01", "SetChargingProfile", profile)["status"] == "Accepted"

    # CP01 at the CSMS's 8 A; the other three share the remaining 56 A: 18.6 A each
    wait_until(lambda: near(gateway_limit(cps[0], "1.6"), 8.0), what="CP01 at the CSMS's cap")
    wait_until(lambda: all(near(gateway_limit(cp, "1.6"), 18.6) for cp in cps[1:]),
               what="the others taking CP01's spare")
    assert cap_holds(cps, "1.6")
    # the gateway answered the CSMS itself: the charger never saw profile 77
    assert all(e["profile"]["chargingProfileId"] != 77 for e in cps[0].profile_log)
    gw.wait_log(r"CSMS charger-wide limit taken charger=CP01 limit_a=8\.0")

    # the CSMS clears it: CP01 is back to an equal share
    assert csms.call("CP01", "ClearChargingProfile", {"id": 77})["status"] == "Accepted"
    wait_until(lambda: all(near(gateway_limit(cp, "1.6"), 16.0) for cp in cps),
               what="equal shares again")
    ocpp_sim.assert_no_violations(csms, *cps)


def test_increases_wait_until_the_decreases_are_answered(csms, gateway, charger):
    """CP01 goes down and the others go up in the same run: the others' higher
    limits must not reach them before CP01 has confirmed its lower one."""
    ids = ["CP01", "CP02", "CP03", "CP04"]
    gateway(chargers=ids, site={"grid_limit_kw": CAP_KW}, balancer=FAST)
    cps = [charger(i, "1.6") for i in ids]
    for cp in cps:
        start_charging(cp, "1.6")
    wait_until(lambda: all(near(gateway_limit(cp, "1.6"), 16.0) for cp in cps))

    async def slow_accept(ctx):
        await asyncio.sleep(1.5)
        ctx.peer.store_profile(ctx)   # logged with the time of the answer
        return {"status": "Accepted"}
    cps[0].on("SetChargingProfile", slow_accept)
    profile = {"connectorId": 0, "csChargingProfiles": {
        "chargingProfileId": 5, "stackLevel": 0,
        "chargingProfilePurpose": "ChargePointMaxProfile", "chargingProfileKind": "Absolute",
        "chargingSchedule": {"startSchedule": "2020-01-01T00:00:00Z", "chargingRateUnit": "A",
                             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8.0}]}}}
    assert csms.call("CP01", "SetChargingProfile", profile)["status"] == "Accepted"
    wait_until(lambda: all(near(gateway_limit(cp, "1.6"), 18.6) for cp in cps[1:]))

    [down] = [e for e in cps[0].profile_log if near(schedule_of(e, "1.6")["chargingSchedulePeriod"][0]["limit"], 8.0)]
    for cp in cps[1:]:
        [up] = [e for e in cp.profile_log if near(schedule_of(e, "1.6")["chargingSchedulePeriod"][0]["limit"], 18.6)]
        assert up["t"] >= down["t"], f"{cp.charger_id} went up before CP01 confirmed going down"
    ocpp_sim.assert_no_violations(csms, *cps)


def test_charger_refusing_profiles_is_counted_at_its_maximum(csms, gateway, charger):
    ids = ["CP01", "CP02", "CP03"]
    gw = gateway(chargers=ids, site={"grid_limit_kw": CAP_KW}, balancer=FAST)
    cps = [charger(i, "1.6") for i in ids]
    cps[0].on("SetChargingProfile", {"status": "Rejected"})
    for cp in cps:
        start_charging(cp, "1.6")

    # CP01 takes no limit: counted at its 32 A, the other two share the 32 A left
    gw.wait_log(r"charger-wide cap refused, falling back to TxDefaultProfile charger=CP01")
    gw.wait_log(r"charger does not take limits charger=CP01 reason=Rejected")
    wait_until(lambda: all(near(gateway_limit(cp, "1.6"), 16.0) for cp in cps[1:]),
               what="the others sharing what CP01 leaves")
    assert gateway_limit(cps[0], "1.6") is None
    ocpp_sim.assert_no_violations(csms, *cps)


def test_two_connector_charger_gets_a_cap_and_a_txdefault_per_connector(csms, gateway, charger):
    gw = gateway(chargers=[{"id": "CP01", "connectors": 2}, "CP02"],
                 site={"grid_limit_kw": CAP_KW}, balancer=FAST)
    cp1 = charger("CP01", "1.6")
    cp2 = charger("CP02", "1.6")
    start_charging(cp1, "1.6", connector=1)
    cp1.status("Preparing", 2)
    cp1.status("Charging", 2)
    start_charging(cp2, "1.6")

    # three cars, 64 A: 21.3 A each; CP01's cap is the sum of its two connectors
    wait_until(lambda: near(gateway_limit(cp1, "1.6", 1), 21.3) and
               near(gateway_limit(cp1, "1.6", 2), 21.3), what="a TxDefault per connector")
    wait_until(lambda: near(gateway_limit(cp1, "1.6"), 42.6), what="CP01's cap: both connectors")
    wait_until(lambda: near(gateway_limit(cp2, "1.6"), 21.3))
    stack = {e["profile"]["stackLevel"] for e in cp1.profiles}
    assert len(stack) == 1, "the gateway's profiles sit at one stack level"
    ocpp_sim.assert_no_violations(csms, cp1, cp2)


def test_config_overrides_unit_to_watts(csms, gateway, charger):
    gw = gateway(chargers=[{"id": "CP01", "charging_rate_unit": "W"}],
                 site={"grid_limit_kw": 11.04}, balancer=FAST)
    cp = charger("CP01", "1.6")
    start_charging(cp, "1.6")

    def watts():
        for e in cp.profiles:
            s = e["profile"]["chargingSchedule"]
            if s["chargingRateUnit"] == "W":
                return s["chargingSchedulePeriod"][0]["limit"]
        return None
    # 11.04 kW is 16 A per phase: the whole cap for the one car, sent in W
    wait_until(lambda: watts() is not None and abs(watts() - 11040.0) < 70, what="a limit in W")
    ocpp_sim.assert_no_violations(csms, cp)


def test_time_of_day_schedule_applies_at_its_boundary(csms, gateway, charger):
    now = datetime.datetime.now(datetime.timezone.utc)
    start = (now + datetime.timedelta(minutes=1)).strftime("%H:%M")
    end = (now + datetime.timedelta(minutes=3)).strftime("%H:%M")
    ids = ["CP01", "CP02"]
    gw = gateway(chargers=ids, balancer=FAST,
                 site={"grid_limit_kw": CAP_KW, "timezone": "UTC",
                       "schedule": [{"from": start, "to": end, "grid_limit_kw": 22.08}]})
    cps = [charger(i, "1.6") for i in ids]
    for cp in cps:
        start_charging(cp, "1.6")
    wait_until(lambda: all(near(gateway_limit(cp, "1.6"), 32.0) for cp in cps),
               what="both at their 32 A max before the peak window")
    # at the window's start the cap is 22.08 kW: 32 A per phase, 16 A each
    wait_until(lambda: all(near(gateway_limit(cp, "1.6"), 16.0) for cp in cps), timeout=75,
               what="the schedule's lower cap at its boundary")
    gw.wait_log(r"time-of-day check minute=\d+ entry=0")
    ocpp_sim.assert_no_violations(csms, *cps)
