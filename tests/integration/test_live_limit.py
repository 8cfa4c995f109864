"""Issue 4, the live site limit: the grid meter (Modbus TCP) closes the loop.
Building-load steps move the chargers' profiles, a silent or lying meter puts
the site on its fail-safe budget, a hot transformer is derated, profiles are
leased over a safe default, and a charger that ignores its limit is counted at
what it draws."""


import ocpp_sim
from conftest import grid_meter, wait_until
from modbus_meter import TRANSFORMER_REGISTERS, SimMeter
from test_balancer_profiles import gateway_limit, near, start_charging

V = 230.0
CAP_KW = 44.16           # 64 A per phase
FAST = {"increase_interval_s": 1, "deadband_a": 0.5}


def building(m, amps):
    """The site's other loads, the same on each phase (the EVs report no draw)."""
    m.set(current_a=(amps, amps, amps))


def two_charging(gateway, charger, meter, site=None, balancer=None, meters=None):
    gw = gateway(chargers=["CP01", "CP02"],
                 site={"grid_limit_kw": CAP_KW, "meter_stale_s": 1, **(site or {})},
                 balancer={**FAST, **(balancer or {})},
                 meters=meters if meters is not None else [grid_meter(meter)])
    cps = [charger(i, "1.6") for i in ("CP01", "CP02")]
    for cp in cps:
        start_charging(cp, "1.6")
    return gw, cps


def both(cps, amps):
    return lambda: all(near(gateway_limit(cp, "1.6"), amps) for cp in cps)


def test_building_load_steps_move_the_profiles(csms, gateway, charger, meter):
    building(meter, 20.0)
    gw, cps = two_charging(gateway, charger, meter)
    # 64 A - 20 A of building load = 44 A: 22 A each
    wait_until(both(cps, 22.0), what="22 A each with 20 A of building load")

    building(meter, 40.0)        # step up: 24 A left, 12 A each, at the next poll
    wait_until(both(cps, 12.0), what="12 A each after the step up")

    building(meter, 10.0)        # step down: 54 A, 27 A each, after the increase interval
    wait_until(both(cps, 27.0), what="27 A each after the step down")
    ocpp_sim.assert_no_violations(csms, *cps)


def test_silent_meter_puts_the_site_on_its_worst_case(csms, gateway, charger, meter):
    building(meter, 5.0)
    # live: 64 - 5 = 59 A, 29.5 A each
    gw, cps = two_charging(gateway, charger, meter, site={"other_load_max_kw": 13.8})
    wait_until(both(cps, 29.5))
    meter.stop()
    gw.wait_log(r"grid meter stale, fail-safe budget")
    # the worst case, not the last reading: 44.16 - 13.8 kW = 44 A per phase, 22 A each
    wait_until(both(cps, 22.0), what="22 A each on the fail-safe")
    meter.start()
    gw.wait_log(r"grid meter readings back, live budget")
    wait_until(both(cps, 29.5), what="the live budget back")


def test_silent_meter_with_a_phase_cap_assumes_the_worst_phase(csms, gateway, charger, meter):
    building(meter, 5.0)
    # a 64 A phase cap; 6.9 kW of other loads could all be on one phase: 30 A
    gw, cps = two_charging(gateway, charger, meter,
                           site={"phase_limit_a": 64, "other_load_max_kw": 6.9})
    wait_until(both(cps, 29.5))
    meter.stop()
    wait_until(both(cps, 17.0), what="(64 - 30) / 2 = 17 A each on the fail-safe")


def test_fallback_ev_budget_when_the_meter_is_silent(csms, gateway, charger, meter):
    building(meter, 10.0)
    gw, cps = two_charging(gateway, charger, meter, site={"fallback_ev_kw": 11.04})
    wait_until(both(cps, 27.0))
    meter.stop()
    # 11.04 kW is 16 A per phase for the EVs together: 8 A each
    wait_until(both(cps, 8.0), what="the fallback EV budget")


def test_meter_returning_garbage_is_rejected(csms, gateway, charger, meter):
    building(meter, 10.0)
    gw, cps = two_charging(gateway, charger, meter)
    wait_until(both(cps, 27.0))
    meter.garbage()
    gw.wait_log(r"warn modbus: meter failing name=grid")
    gw.wait_log(r"grid meter stale, fail-safe budget")
    # no worst case configured: the other loads may take the whole cap
    wait_until(both(cps, 0.0), what="everyone paused on the fail-safe")


def test_hot_transformer_is_derated(csms, gateway, charger, meter):
    building(meter, 0.0)
    trafo = SimMeter(port=0, layout="transformer", name="trafo")
    trafo.start()
    try:
        trafo.set(oil_temp_c=60.0)
        transformer = {"name": "trafo", "role": "transformer",
                       "tcp": {"host": "127.0.0.1", "port": trafo.port}, "poll_ms": 200,
                       "rating_kva": 30, "derating": [{"temp_c": 85, "percent": 100},
                                                      {"temp_c": 105, "percent": 60}],
                       "registers": {"oil_temp_c": TRANSFORMER_REGISTERS["oil_temp_c"]}}
        gw, cps = two_charging(gateway, charger, meter, meters=[grid_meter(meter), transformer])
        # cool: 30 kVA = 43.4 A per phase, 21.7 A each
        wait_until(both(cps, 21.7), what="the transformer's full rating")
        trafo.set(oil_temp_c=95.0)   # 80 % of 30 kVA = 24 kW: 34.7 A, 17.3 A each
        wait_until(both(cps, 17.3), what="derated at 95 degrees")
    finally:
        trafo.close()


def test_profiles_are_leased_over_a_safe_default(csms, gateway, charger, meter):
    building(meter, 0.0)
    gw, cps = two_charging(gateway, charger, meter,
                           balancer={"lease_s": 4, "safe_limit_a": 6})

    def by_id(cp, pid):
        return [e["profile"] for e in cp.profiles if e["profile"]["chargingProfileId"] == pid]

    def dynamic_limit(cp):
        found = by_id(cp, 1000)
        return found and found[0]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]
    wait_until(lambda: all(dynamic_limit(cp) == 32.0 for cp in cps), what="32 A each, leased")
    cp = cps[0]
    [safe] = [e for e in cp.profiles if e["profile"]["chargingProfileId"] != 1000]
    [dynamic] = [e for e in cp.profiles if e["profile"]["chargingProfileId"] == 1000]
    assert safe["connector"] == dynamic["connector"] == 0
    assert safe["profile"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 6.0
    assert safe["profile"]["stackLevel"] == dynamic["profile"]["stackLevel"] - 1
    assert "validTo" not in safe["profile"] and "validTo" in dynamic["profile"]
    # renewed before it runs out: a second write of the same limit within the lease
    first = len(cp.profile_log)
    wait_until(lambda: len([e for e in cp.profile_log[first:]
                            if e["profile"]["chargingProfileId"] == 1000]) >= 1,
               timeout=4, what="the lease renewed within its 4 s")


def test_charger_ignoring_its_limit_is_counted_at_its_draw(csms, gateway, charger, meter):
    building(meter, 0.0)
    gw, cps = two_charging(gateway, charger, meter, site={"grid_limit_kw": 22.08},
                           balancer={"apply_window_s": 1})
    # 32 A per phase: 16 A each
    wait_until(both(cps, 16.0))
    cp = cps[0]

    def draws(amps):
        cp.call("MeterValues", {"connectorId": 1, "meterValue": [{
            "timestamp": ocpp_sim.now_iso(), "sampledValue": [
                {"value": f"{amps:.1f}", "measurand": "Current.Import", "phase": p, "unit": "A"}
                for p in ("L1", "L2", "L3")]}]})
    draws(30.0)
    wait_until(lambda: (draws(30.0), gw.find_log(r"charger draws above its limit, counted at its draw charger=CP01"))[1],
               timeout=10, interval=0.3, what="CP01 flagged after the apply window")
    # CP01 counted at 32 A (its max): CP02 is left with 0 A... paused below its 6 A minimum
    wait_until(lambda: near(gateway_limit(cps[1], "1.6"), 0.0), what="CP02 gets what is left")
