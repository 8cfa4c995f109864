"""Issue 6, aggregate mode: the CSMS sees the whole site as one OCPP 1.6 charge
point (the site's id) whose connectors are the chargers' connectors. Three
chargers sit behind it, CP02 with two connectors:

    CP01 connector 1 -> site connector 1     (mapped in the config)
    CP02 connector 1 -> site connector 2     (mapped in the config)
    CP02 connector 2 -> site connector 3     (mapped in the config)
    CP03 connector 1 -> site connector 4     (the next free number, persisted)

The gateway boots upstream as the site, answers the chargers' Boot/Heartbeat
itself, forwards their transaction messages with connector and message ids
translated, routes the CSMS's commands to the charger owning the connector,
reports the grid meter on connector 0, takes a ChargePointMaxProfile on
connector 0 as a site limit, and keeps the outage handling of issue 5 on the
site's one identity. Every frame is checked against the official schemas by
the simulators."""

import asyncio
import copy
import json
import random
import re
import subprocess


import ocpp_sim
from conftest import assert_stays, deep_merge, grid_meter, sitegate_bin, wait_until
from test_balancer_profiles import gateway_limit, near, start_charging

SITE = "TEST-SITE"                     # site.id of conftest.make_config
CHARGERS = [{"id": "CP01", "connectors": 1, "site_connectors": [1]},
            {"id": "CP02", "connectors": 2, "site_connectors": [2, 3]},
            {"id": "CP03", "connectors": 1}]
CONNECTORS = {"CP01": 1, "CP02": 2, "CP03": 1}
SITE_OF = {("CP01", 1): 1, ("CP02", 1): 2, ("CP02", 2): 3, ("CP03", 1): 4}
AGGREGATE = {"vendor": "sitegate", "model": "sitegate-site", "meter_interval_s": 60}
UPSTREAM = {"mode": "aggregate", "reconnect_min_s": 0.2, "reconnect_max_s": 1}
OFFLINE = {"hold_s": 1, "unknown_tags": "accept"}
TX_ACTIONS = ("StartTransaction", "MeterValues", "StopTransaction")
CAP_KW = 44.16                         # 64 A per phase at 230 V
FAST = {"increase_interval_s": 1, "deadband_a": 0.5}


# --- helpers -----------------------------------------------------------------------

def site_gateway(gateway, chargers=CHARGERS, csms=None, **overrides):
    """A gateway in aggregate mode (overrides are merged into its config)."""
    cfg = deep_merge({"upstream": UPSTREAM, "aggregate": AGGREGATE}, overrides)
    return gateway(csms=csms, chargers=copy.deepcopy(chargers), **cfg)


def site_config(gateway, chargers=CHARGERS, name=None, **overrides):
    cfg = deep_merge({"upstream": UPSTREAM, "aggregate": AGGREGATE}, overrides)
    return gateway.config(chargers=copy.deepcopy(chargers), name=name, **cfg)


def gateway_version():
    out = subprocess.run([sitegate_bin(), "--version"], capture_output=True, timeout=10)
    return out.stdout.decode().split()[-1]          # "sitegate 0.1.0" -> "0.1.0"


def mark(peer):
    """A position in a peer's frame log: frames after it have a larger seq."""
    frames = peer.frames
    return frames[-1].seq if frames else 0


def site_calls(csms, action=None, after=0):
    """The CALLs the CSMS received from the site (of an action), after a mark."""
    return [f for f in csms.received(SITE, action=action, types=2) if f.seq > after]


def site_statuses(csms, after=0):
    """The site's latest status per site connector, as the CSMS saw them."""
    out = {}
    for f in site_calls(csms, "StatusNotification", after):
        out[f.payload["connectorId"]] = f.payload["status"]
    return out


def statuses_are(csms, expected, after=0):
    """A predicate: the CSMS's latest status of each connector in `expected` is
    the one given."""
    def check():
        got = site_statuses(csms, after)
        return all(got.get(c) == s for c, s in expected.items())
    return check


def answer_of(csms, call):
    """The payload of the CSMS's CALLRESULT to a CALL it received."""
    for f in csms.sent(SITE, types=3):
        if f.id == call.id and f.seq > call.seq:
            return json.loads(f.text)[2]
    return None


def connect_site(charger, gw=None, ids=("CP01", "CP02", "CP03"), status="Available",
                 connectors=CONNECTORS):
    """The chargers connected, booted (answered by the gateway), and their
    connectors reported."""
    cps = {}
    for cid in ids:
        cp = charger(cid, "1.6", gw=gw, connectors=connectors.get(cid, 1))
        r = cp.boot()
        assert r["status"] == "Accepted" and r["interval"] > 0, f"{cid}'s boot answer: {r}"
        for c in range(1, cp.connectors + 1):
            cp.status(status, c)
        cps[cid] = cp
    return cps


def wait_site_up(csms, gw, connectors=4):
    """The site's own boot reached the CSMS and every site connector has a status."""
    csms.wait_connected(SITE)
    wait_until(lambda: site_calls(csms, "BootNotification"), what="the site's BootNotification")
    wait_until(lambda: set(range(connectors + 1)) <= set(site_statuses(csms)),
               what=f"a status for each of the site connectors 0..{connectors}")


def has_value(f, value):
    """Whether a MeterValues CALL carries a sampled value of exactly this text."""
    return any(sv.get("value") == value for mv in f.payload.get("meterValue", [])
               for sv in mv.get("sampledValue", []))


def sampled(mv_payload):
    """measurand (phase) -> (value, unit) of a 1.6 MeterValues payload."""
    out = {}
    for mv in mv_payload["meterValue"]:
        for sv in mv["sampledValue"]:
            key = sv.get("measurand", "Energy.Active.Import.Register")
            if "phase" in sv:
                key += "." + sv["phase"]
            out[key] = (float(sv["value"]), sv.get("unit"))
    return out


def overlapping_ids(csms, charger_id=SITE):
    """Message ids of CALLs the CSMS received while an earlier CALL with the same
    id was still unanswered (OCPP-J forbids that)."""
    events = sorted([(f.seq, 0, f.id) for f in csms.received(charger_id, types=2)]
                    + [(f.seq, 1, f.id) for f in csms.sent(charger_id, types=(3, 4))])
    open_ids, bad = set(), []
    for _, kind, mid in events:
        if kind == 0:
            if mid in open_ids:
                bad.append(mid)
            open_ids.add(mid)
        else:
            open_ids.discard(mid)
    return bad


def connector_ids_in_range(csms, n=4):
    """Every connectorId the site sent upstream is one of its own, 0..n."""
    bad = [f for f in csms.received(SITE, types=2)
           if isinstance(f.payload, dict) and "connectorId" in f.payload
           and not 0 <= f.payload["connectorId"] <= n]
    assert not bad, f"connector ids outside 0..{n} upstream: {[str(f) for f in bad[:5]]}"


def config_value(csms, key):
    r = csms.call(SITE, "GetConfiguration", {"key": [key]})
    [entry] = [e for e in r.get("configurationKey", []) if e["key"] == key]
    return entry


# --- the site as one charge point ----------------------------------------------------

def test_csms_sees_one_identity_with_four_connectors_and_a_session_on_connector_3(
        csms, gateway, charger):
    gw = site_gateway(gateway)
    wait_site_up(csms, gw)
    # no charger yet: every site connector is Unavailable
    wait_until(statuses_are(csms, {1: "Unavailable", 2: "Unavailable", 3: "Unavailable",
                                   4: "Unavailable"}),
               what="connectors 1..4 Unavailable before any charger connects")
    [boot] = site_calls(csms, "BootNotification")
    assert boot.payload["chargePointVendor"] == "sitegate"
    assert boot.payload["chargePointModel"] == "sitegate-site"
    assert boot.payload["chargePointSerialNumber"] == SITE
    assert gateway_version() in boot.payload.get("firmwareVersion", ""), boot.payload

    cps = connect_site(charger)
    wait_until(statuses_are(csms, {c: "Available" for c in (1, 2, 3, 4)}),
               what="connectors 1..4 Available once the chargers report")
    # CP03 is not mapped in the config: the next free number
    gw.wait_log(r"info proxy: site connector assigned charger=CP03 connector=1 site_connector=4\b")

    cp2 = cps["CP02"]
    before = mark(csms)
    result = cp2.session(connector_id=2, meter_values=2)
    calls = [f for f in site_calls(csms, after=before) if f.action in TX_ACTIONS]
    assert [f.action for f in calls] == ["StartTransaction", "MeterValues", "MeterValues",
                                        "StopTransaction"]
    start, mv1, mv2, stop = calls
    tx = answer_of(csms, start)["transactionId"]
    assert result.transaction_id == tx, "the charger got the CSMS's transaction id"
    assert start.payload["connectorId"] == 3
    assert [mv1.payload["connectorId"], mv2.payload["connectorId"]] == [3, 3]
    assert mv1.payload["transactionId"] == mv2.payload["transactionId"] == stop.payload["transactionId"] == tx
    # apart from the connector, the charger's payloads as sent
    [sent_start] = [f.payload for f in cp2.sent(action="StartTransaction", types=2)]
    assert start.payload == {**sent_start, "connectorId": 3}
    [sent_stop] = [f.payload for f in cp2.sent(action="StopTransaction", types=2)]
    assert stop.payload == sent_stop
    statuses_3 = [f.payload["status"] for f in site_calls(csms, "StatusNotification", before)
                  if f.payload["connectorId"] == 3]
    assert statuses_3 == ["Preparing", "Charging", "Finishing", "Available"]
    assert all(f.payload["connectorId"] == 3
               for f in site_calls(csms, "StatusNotification", before)), \
        "the session moved only connector 3"

    # one identity, one socket; the chargers' own boots stayed at the gateway
    assert list(csms.connections) == [SITE]
    assert len(csms.connections[SITE]) == 1
    assert len(site_calls(csms, "BootNotification")) == 1
    assert not [e for e in csms.events if e.kind == "refused"]
    connector_ids_in_range(csms)
    ocpp_sim.assert_no_violations(csms, *cps.values())


def test_chargers_boot_and_heartbeat_stay_local_and_the_site_heartbeats(sims, gateway, charger):
    csms = sims.csms(heartbeat_interval=2)
    gw = site_gateway(gateway, csms=csms)
    wait_site_up(csms, gw)
    cps = connect_site(charger)
    # a burst of the chargers' own heartbeats and boots: answered, never forwarded
    t0 = mark(csms)
    for _ in range(5):
        for cp in cps.values():
            assert "currentTime" in cp.heartbeat()
    for cp in cps.values():
        assert cp.boot()["status"] == "Accepted"
    burst = site_calls(csms, "Heartbeat", t0)
    assert len(burst) <= 1, f"{len(burst)} heartbeats reached the CSMS during the chargers' burst"
    assert len(site_calls(csms, "BootNotification")) == 1, "a charger's boot reached the CSMS"
    boots = site_calls(csms, "BootNotification")
    assert boots[0].payload["chargePointSerialNumber"] == SITE

    # the site's own heartbeats, every 2 s as the CSMS said
    t1 = mark(csms)
    beats = wait_until(lambda: (lambda h: h if len(h) >= 3 else None)(site_calls(csms, "Heartbeat", t1)),
                       timeout=10, what="three heartbeats of the site")
    gaps = [b.t - a.t for a, b in zip(beats, beats[1:])]
    assert all(1.5 <= g <= 3.5 for g in gaps), f"heartbeat gaps {gaps} for an interval of 2 s"
    ocpp_sim.assert_no_violations(csms, *cps.values())


def test_remote_start_on_connector_3_starts_cp02_connector_2(csms, gateway, charger):
    gw = site_gateway(gateway)
    wait_site_up(csms, gw)
    cps = connect_site(charger)
    wait_until(statuses_are(csms, {c: "Available" for c in (1, 2, 3, 4)}))

    r = csms.call(SITE, "RemoteStartTransaction", {"connectorId": 3, "idTag": "REMOTE-1"})
    assert r == {"status": "Accepted"}
    got = {cid: [f.payload for f in cp.received(action="RemoteStartTransaction", types=2)]
           for cid, cp in cps.items()}
    assert got == {"CP01": [], "CP02": [{"connectorId": 2, "idTag": "REMOTE-1"}], "CP03": []}

    # the charger starts on its connector 2: the CSMS sees connector 3
    cp2 = cps["CP02"]
    before = mark(csms)
    cp2.status("Preparing", 2)
    tx = cp2.call("StartTransaction", {"connectorId": 2, "idTag": "REMOTE-1", "meterStart": 0,
                                       "timestamp": ocpp_sim.now_iso()})["transactionId"]
    cp2.status("Charging", 2)
    [start] = site_calls(csms, "StartTransaction", before)
    assert start.payload["connectorId"] == 3
    assert answer_of(csms, start)["transactionId"] == tx

    # RemoteStopTransaction finds the charger running that transaction
    assert csms.call(SITE, "RemoteStopTransaction", {"transactionId": tx}) == {"status": "Accepted"}
    got = {cid: [f.payload for f in cp.received(action="RemoteStopTransaction", types=2)]
           for cid, cp in cps.items()}
    assert got == {"CP01": [], "CP02": [{"transactionId": tx}], "CP03": []}
    cp2.call("StopTransaction", {"transactionId": tx, "meterStop": 100,
                                 "timestamp": ocpp_sim.now_iso(), "reason": "Remote"})
    wait_until(lambda: site_calls(csms, "StopTransaction", before), what="the stop upstream")
    assert site_calls(csms, "StopTransaction", before)[-1].payload["transactionId"] == tx
    ocpp_sim.assert_no_violations(csms, *cps.values())


def test_csms_commands_are_routed_with_connectors_translated(csms, gateway, charger):
    gw = site_gateway(gateway)
    wait_site_up(csms, gw)
    cps = connect_site(charger)
    cp1, cp2, cp3 = cps["CP01"], cps["CP02"], cps["CP03"]
    wait_until(statuses_are(csms, {c: "Available" for c in (1, 2, 3, 4)}))

    def received(cp, action):
        return [f.payload for f in cp.received(action=action, types=2)]

    assert csms.call(SITE, "UnlockConnector", {"connectorId": 3}) == {"status": "Unlocked"}
    assert received(cp2, "UnlockConnector") == [{"connectorId": 2}]
    assert received(cp1, "UnlockConnector") == received(cp3, "UnlockConnector") == []

    expiry = ocpp_sim.now_iso(3600)
    assert csms.call(SITE, "ReserveNow", {"connectorId": 4, "expiryDate": expiry,
                                          "idTag": "RESERVED", "reservationId": 9}) == {"status": "Accepted"}
    assert received(cp3, "ReserveNow") == [{"connectorId": 1, "expiryDate": expiry,
                                            "idTag": "RESERVED", "reservationId": 9}]
    assert csms.call(SITE, "CancelReservation", {"reservationId": 9}) == {"status": "Accepted"}
    assert received(cp3, "CancelReservation") == [{"reservationId": 9}]
    assert received(cp1, "CancelReservation") == received(cp2, "CancelReservation") == []

    # TriggerMessage on a connector: the charger is asked, its answer comes up translated
    before = mark(csms)
    assert csms.call(SITE, "TriggerMessage", {"requestedMessage": "StatusNotification",
                                              "connectorId": 4}) == {"status": "Accepted"}
    assert {"requestedMessage": "StatusNotification", "connectorId": 1} in received(cp3, "TriggerMessage")
    wait_until(lambda: [f for f in site_calls(csms, "StatusNotification", before)
                        if f.payload["connectorId"] == 4], what="the triggered status on 4")
    assert csms.call(SITE, "TriggerMessage", {"requestedMessage": "MeterValues",
                                              "connectorId": 3}) == {"status": "Accepted"}
    assert {"requestedMessage": "MeterValues", "connectorId": 2} in received(cp2, "TriggerMessage")
    wait_until(lambda: [f for f in site_calls(csms, "MeterValues", before)
                        if f.payload["connectorId"] == 3], what="the triggered meter values on 3")

    # availability: one connector, or the whole site (fanned out to every charger)
    assert csms.call(SITE, "ChangeAvailability", {"connectorId": 3, "type": "Inoperative"}) == \
        {"status": "Accepted"}
    assert received(cp2, "ChangeAvailability") == [{"connectorId": 2, "type": "Inoperative"}]
    assert csms.call(SITE, "ChangeAvailability", {"connectorId": 0, "type": "Operative"}) == \
        {"status": "Accepted"}
    for cp in cps.values():
        assert {"connectorId": 0, "type": "Operative"} in received(cp, "ChangeAvailability"), \
            f"{cp.charger_id} did not get the site-wide ChangeAvailability"

    # a CSMS Tx profile on connector 3 reaches CP02's connector 2, unchanged otherwise
    profile = {"chargingProfileId": 55, "stackLevel": 1, "chargingProfilePurpose": "TxDefaultProfile",
               "chargingProfileKind": "Absolute",
               "chargingSchedule": {"startSchedule": "2020-01-01T00:00:00Z", "chargingRateUnit": "A",
                                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.0}]}}
    assert csms.call(SITE, "SetChargingProfile", {"connectorId": 3, "csChargingProfiles": profile}) == \
        {"status": "Accepted"}
    assert [e for e in cp2.profile_log if e["profile"]["chargingProfileId"] == 55] and \
        all(e["connector"] == 2 for e in cp2.profile_log if e["profile"]["chargingProfileId"] == 55)
    assert {"connectorId": 2, "csChargingProfiles": profile} in received(cp2, "SetChargingProfile")
    assert csms.call(SITE, "ClearChargingProfile", {"id": 55, "connectorId": 3}) == {"status": "Accepted"}
    assert {"id": 55, "connectorId": 2} in received(cp2, "ClearChargingProfile")

    # GetCompositeSchedule: connector translated down, and back up in the answer
    cp2.on("GetCompositeSchedule", lambda ctx: {
        "status": "Accepted", "connectorId": ctx.payload["connectorId"],
        "scheduleStart": ocpp_sim.now_iso(),
        "chargingSchedule": {"chargingRateUnit": "A", "duration": 600,
                             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 12.0}]}})
    r = csms.call(SITE, "GetCompositeSchedule", {"connectorId": 3, "duration": 600})
    assert received(cp2, "GetCompositeSchedule") == [{"connectorId": 2, "duration": 600}]
    assert r["status"] == "Accepted" and r["connectorId"] == 3, r
    assert r["chargingSchedule"]["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": 12.0}]
    connector_ids_in_range(csms)
    ocpp_sim.assert_no_violations(csms, *cps.values())


def test_two_chargers_with_identical_message_ids_never_cross(csms, gateway, charger, sims):
    gw = site_gateway(gateway)
    wait_site_up(csms, gw)
    cps = connect_site(charger)

    async def echo(ctx):
        await asyncio.sleep(random.uniform(0, 0.004))   # reorders answers; not synchronization
        return {"status": "Accepted", "data": f"csms:{ctx.payload['data']}"}
    csms.on("DataTransfer", echo)

    before = mark(csms)
    rounds = 20
    for rnd in range(rounds):
        ids = [f"same-{rnd}-{k}" for k in range(3)]
        coros, expected = [], []
        for cid, cp in cps.items():
            for mid in ids:
                data = f"{cid}/{mid}"
                coros.append(cp.aio.call("DataTransfer", {"vendorId": "sitegate.test", "data": data},
                                         message_id=mid))
                expected.append(f"csms:{data}")
        # and the same id for two status notifications, on different chargers
        coros.append(cps["CP02"].aio.call("StatusNotification", cps["CP02"].aio.status_payload(
            "Available", 2), message_id=f"status-{rnd}"))
        coros.append(cps["CP03"].aio.call("StatusNotification", cps["CP03"].aio.status_payload(
            "Available", 1), message_id=f"status-{rnd}"))
        expected += [{}, {}]
        results = sims.gather(*coros)
        assert [r["data"] for r in results[:-2]] == expected[:-2]
        assert results[-2:] == [{}, {}]

    datas = [f.payload["data"] for f in site_calls(csms, "DataTransfer", before)]
    assert sorted(datas) == sorted(f"{cid}/same-{r}-{k}" for cid in cps for r in range(rounds)
                                   for k in range(3))
    assert not overlapping_ids(csms), "two CALLs with one id in flight at once on the site's socket"
    statuses = [f.payload["connectorId"] for f in site_calls(csms, "StatusNotification", before)]
    assert sorted(statuses) == sorted([3, 4] * rounds)
    ocpp_sim.assert_no_violations(csms, *cps.values())


# --- limits and meters ----------------------------------------------------------------

def test_site_charge_point_max_profile_and_site_cap_lower_everyone(csms, gateway, charger):
    gw = site_gateway(gateway, site={"grid_limit_kw": CAP_KW}, balancer=FAST)
    wait_site_up(csms, gw)
    cp1 = charger("CP01", "1.6")
    cp2 = charger("CP02", "1.6", connectors=2)
    cp3 = charger("CP03", "1.6")
    cps = [cp1, cp2, cp3]
    start_charging(cp1, "1.6")
    start_charging(cp2, "1.6", connector=1)
    cp2.status("Preparing", 2)
    cp2.status("Charging", 2)
    start_charging(cp3, "1.6")

    def everyone(amps):
        return lambda: (near(gateway_limit(cp1, "1.6"), amps) and near(gateway_limit(cp3, "1.6"), amps)
                        and near(gateway_limit(cp2, "1.6", 1), amps)
                        and near(gateway_limit(cp2, "1.6", 2), amps)
                        and near(gateway_limit(cp2, "1.6"), 2 * amps, 0.21))
    # four cars under 64 A: 16 A each (CP02's cap is both its connectors)
    wait_until(everyone(16.0), what="16 A for each of the four cars")

    # the CSMS caps the site at 32 A per phase: 8 A each
    site_profile = {"connectorId": 0, "csChargingProfiles": {
        "chargingProfileId": 77, "stackLevel": 0,
        "chargingProfilePurpose": "ChargePointMaxProfile", "chargingProfileKind": "Absolute",
        "chargingSchedule": {"startSchedule": "2020-01-01T00:00:00Z", "chargingRateUnit": "A",
                             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32.0}]}}}
    assert csms.call(SITE, "SetChargingProfile", site_profile) == {"status": "Accepted"}
    wait_until(everyone(8.0), what="8 A each under the CSMS's site limit")
    for cp in cps:
        assert all(e["profile"]["chargingProfileId"] != 77 for e in cp.profile_log), \
            f"{cp.charger_id} got the CSMS's site profile itself"

    # the site's composite schedule shows the CSMS's limit
    r = csms.call(SITE, "GetCompositeSchedule", {"connectorId": 0, "duration": 3600,
                                                 "chargingRateUnit": "A"})
    assert r["status"] == "Accepted" and r["connectorId"] == 0, r
    first = r["chargingSchedule"]["chargingSchedulePeriod"][0]
    assert r["chargingSchedule"]["chargingRateUnit"] == "A"
    assert first["startPeriod"] == 0 and near(first["limit"], 32.0), r

    assert csms.call(SITE, "ClearChargingProfile", {"id": 77}) == {"status": "Accepted"}
    wait_until(everyone(16.0), what="16 A each again once the CSMS cleared its limit")

    # the site cap as a configuration key: lower is taken, higher than the config refused
    r = csms.call(SITE, "ChangeConfiguration", {"key": "SiteGridLimitKw", "value": "22.08"})
    assert r == {"status": "Accepted"}
    wait_until(everyone(8.0), what="8 A each under SiteGridLimitKw 22.08")
    r = csms.call(SITE, "ChangeConfiguration", {"key": "SiteGridLimitKw", "value": "60"})
    assert r == {"status": "Rejected"}, "SiteGridLimitKw may not rise above site.grid_limit_kw"
    assert near(float(config_value(csms, "SiteGridLimitKw")["value"]), 22.08, 0.01)
    ocpp_sim.assert_no_violations(csms, *cps)


def test_site_meter_arrives_on_connector_0(csms, gateway, charger, meter):
    meter.set(current_a=(10.0, 12.0, 8.0), energy_kwh=1234.5)
    gw = site_gateway(gateway, meters=[grid_meter(meter)], aggregate={"meter_interval_s": 1})
    wait_site_up(csms, gw)

    def site_meter_values(after=0):
        return [f for f in site_calls(csms, "MeterValues", after) if f.payload["connectorId"] == 0]

    def reading_near(f, power_w, currents):
        s = sampled(f.payload)
        return (near(s.get("Power.Active.Import", (None,))[0], power_w, 0.05 * power_w)
                and all(near(s.get(f"Current.Import.{ph}", (None,))[0], a, 0.1)
                        for ph, a in zip(("L1", "L2", "L3"), currents)))
    # 230 V x (10 + 12 + 8) A = 6900 W
    [f, *_] = wait_until(lambda: [f for f in site_meter_values() if reading_near(f, 6900.0, (10, 12, 8))],
                         what="the grid meter's reading on connector 0")
    s = sampled(f.payload)
    assert s["Power.Active.Import"][1] == "W"
    assert all(s[f"Current.Import.{ph}"][1] == "A" for ph in ("L1", "L2", "L3"))
    energy, unit = s["Energy.Active.Import.Register"]
    assert unit == "Wh" and 1234500 <= energy <= 1236000, s
    assert "transactionId" not in f.payload

    # every second, and following the meter
    t = mark(csms)
    wait_until(lambda: len(site_meter_values(t)) >= 2, timeout=5, what="meter values every second")
    meter.set(current_a=(20.0, 20.0, 20.0))
    wait_until(lambda: [f for f in site_meter_values(t) if reading_near(f, 13800.0, (20, 20, 20))],
               what="the new reading")

    # a charger's own connector-0 meter values are answered, never forwarded
    cp1 = charger("CP01", "1.6")
    cp1.boot()
    assert cp1.call("MeterValues", {"connectorId": 0, "meterValue": [{
        "timestamp": ocpp_sim.now_iso(),
        "sampledValue": [{"value": "987654", "measurand": "Energy.Active.Import.Register",
                          "unit": "Wh"}]}]}) == {}
    # ...while those of a connector go up on its site connector
    cp1.call("MeterValues", {"connectorId": 1, "meterValue": [{
        "timestamp": ocpp_sim.now_iso(), "sampledValue": [{"value": "424242", "unit": "Wh"}]}]})
    wait_until(lambda: [f for f in site_calls(csms, "MeterValues") if has_value(f, "424242")],
               what="CP01's connector-1 meter values upstream")
    assert [f.payload["connectorId"] for f in site_calls(csms, "MeterValues")
            if has_value(f, "424242")] == [1]

    # MeterValueSampleInterval changes the pace: 30 s, then nothing more for a while
    assert csms.call(SITE, "ChangeConfiguration",
                     {"key": "MeterValueSampleInterval", "value": "30"}) == {"status": "Accepted"}
    assert config_value(csms, "MeterValueSampleInterval")["value"] == "30"
    t = mark(csms)
    assert_stays(lambda: len(site_meter_values(t)) <= 1, 3.0,   # one may have been on its way
                 what="no site meter values for 3 s after MeterValueSampleInterval 30")
    # TriggerMessage MeterValues on connector 0: the gateway sends a reading at once
    t = mark(csms)
    assert csms.call(SITE, "TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 0}) == \
        {"status": "Accepted"}
    wait_until(lambda: site_meter_values(t), timeout=3, what="the triggered site reading")
    assert not [f for f in site_calls(csms, "MeterValues") if has_value(f, "987654")], \
        "a charger's connector-0 meter values reached the CSMS"
    assert not [f for f in cp1.received(action="TriggerMessage", types=2)
                if f.payload.get("requestedMessage") == "MeterValues"]
    ocpp_sim.assert_no_violations(csms, cp1)


# --- presence, faults, numbering -------------------------------------------------------

def test_charger_disconnect_shows_unavailable_and_its_fault_covers_its_connectors(
        csms, gateway, charger):
    gw = site_gateway(gateway)
    wait_site_up(csms, gw)
    cps = connect_site(charger)
    wait_until(statuses_are(csms, {c: "Available" for c in (1, 2, 3, 4)}))

    cps["CP02"].close()
    wait_until(statuses_are(csms, {2: "Unavailable", 3: "Unavailable"}),
               what="CP02's connectors Unavailable once it is gone")
    assert statuses_are(csms, {1: "Available", 4: "Available"})(), site_statuses(csms)

    # a charger-level fault: all of CP01's site connectors (just 1) are Faulted
    before = mark(csms)
    cps["CP01"].call("StatusNotification", {"connectorId": 0, "errorCode": "GroundFailure",
                                            "status": "Faulted", "timestamp": ocpp_sim.now_iso()})
    wait_until(statuses_are(csms, {1: "Faulted"}, before), what="site connector 1 Faulted")
    faulted = [f.payload for f in site_calls(csms, "StatusNotification", before)]
    assert {p["connectorId"] for p in faulted if p["status"] == "Faulted"} == {1}, faulted

    # CP02 comes back
    cp2 = charger("CP02", "1.6", connectors=2)
    cp2.boot()
    cp2.status("Available", 1)
    cp2.status("Available", 2)
    wait_until(statuses_are(csms, {2: "Available", 3: "Available"}), what="CP02 back")
    connector_ids_in_range(csms)
    ocpp_sim.assert_no_violations(csms, cp2, *cps.values())


def test_two_connector_charger_fault_covers_both_site_connectors(csms, gateway, charger):
    gw = site_gateway(gateway)
    wait_site_up(csms, gw)
    cp2 = connect_site(charger, ids=("CP02",))["CP02"]
    wait_until(statuses_are(csms, {2: "Available", 3: "Available"}))
    before = mark(csms)
    cp2.call("StatusNotification", {"connectorId": 0, "errorCode": "PowerSwitchFailure",
                                    "status": "Faulted", "timestamp": ocpp_sim.now_iso()})
    wait_until(statuses_are(csms, {2: "Faulted", 3: "Faulted"}, before),
               what="site connectors 2 and 3 Faulted")
    ocpp_sim.assert_no_violations(csms, cp2)


def test_restart_keeps_the_numbering(csms, gateway, charger):
    first = [{"id": "CP01"}, {"id": "CP02", "connectors": 2}, {"id": "CP03"}]
    cfg = site_config(gateway, chargers=first, name="gw1")
    gw1 = gateway(config=cfg, name="gw1")
    numbers = {}
    for cid, c in (("CP01", 1), ("CP02", 1), ("CP02", 2), ("CP03", 1)):
        m = gw1.wait_log(rf"info proxy: site connector assigned charger={cid} connector={c} "
                         rf"site_connector=(\d+)")
        numbers[(cid, c)] = int(m.group(1))
    assert numbers == SITE_OF, "free numbers in config order"
    wait_site_up(csms, gw1)
    assert gw1.terminate() == 0
    csms.wait_disconnected(SITE)

    # the config order changes and a new charger comes first: the old numbers stay
    cfg2 = copy.deepcopy(cfg)
    cfg2["chargers"] = [{"id": "CP04"}, {"id": "CP03"}, {"id": "CP02", "connectors": 2}, {"id": "CP01"}]
    gw2 = gateway(config=cfg2, name="gw2")
    m = gw2.wait_log(r"info proxy: site connector assigned charger=CP04 connector=1 site_connector=(\d+)")
    assert int(m.group(1)) == 5, "the new charger gets the next free number"
    for m in re.finditer(r"site connector assigned charger=(CP0[123]) connector=(\d) site_connector=(\d+)",
                         gw2.log_text()):
        assert int(m.group(3)) == numbers[(m.group(1), int(m.group(2)))], m.group(0)
    csms.wait_connected(SITE, count=2)
    conn2 = csms.connections[SITE][1]
    after = max(f.seq for f in csms.frames if f.conn_no == 1) if csms.frames else 0
    wait_until(lambda: set(range(6)) <= set(site_statuses(csms, after)),
               what="statuses of site connectors 0..5 after the restart")
    assert conn2.open
    assert config_value(csms, "NumberOfConnectors")["value"] == "5"

    cps = connect_site(charger, gw=gw2, ids=("CP01", "CP02", "CP03", "CP04"),
                       connectors={"CP02": 2})
    before = mark(csms)
    for cp in cps.values():
        cp.status("Preparing", 1)
    wait_until(statuses_are(csms, {1: "Preparing", 2: "Preparing", 4: "Preparing", 5: "Preparing"},
                            before), what="each charger's connector 1 on its old site connector")
    cps["CP02"].status("Preparing", 2)
    wait_until(statuses_are(csms, {3: "Preparing"}, before), what="CP02's connector 2 on 3")
    connector_ids_in_range(csms, 5)
    ocpp_sim.assert_no_violations(csms, *cps.values())


# --- outages ------------------------------------------------------------------------------

def test_outage_in_aggregate_mode_replays_in_order(csms, gateway, charger):
    gw = site_gateway(gateway, offline=OFFLINE)
    wait_site_up(csms, gw)
    cps = connect_site(charger, ids=("CP01", "CP02"))
    cp1, cp2 = cps["CP01"], cps["CP02"]
    wait_until(statuses_are(csms, {1: "Available", 2: "Available", 3: "Available"}))
    csms.stop()

    def start(cp, connector):
        r = cp.call("StartTransaction", {"connectorId": connector, "idTag": "SIMTAG0001",
                                         "meterStart": 1000, "timestamp": ocpp_sim.now_iso()},
                    timeout=10)
        assert r["idTagInfo"]["status"] == "Accepted"
        return r["transactionId"]

    def meter(cp, connector, tx, wh):
        cp.call("MeterValues", {"connectorId": connector, "transactionId": tx, "meterValue": [{
            "timestamp": ocpp_sim.now_iso(), "sampledValue": [{"value": str(wh), "unit": "Wh"}]}]})

    def stop(cp, tx, wh):
        cp.call("StopTransaction", {"transactionId": tx, "meterStop": wh,
                                    "timestamp": ocpp_sim.now_iso(), "reason": "Local"})

    # two chargers' transactions, interleaved, all answered by the gateway
    a = start(cp1, 1)
    b = start(cp2, 2)
    assert a < 0 and b < 0 and a != b, f"local transaction ids {a}, {b}"
    meter(cp1, 1, a, 1100)
    meter(cp2, 2, b, 1200)
    stop(cp2, b, 1300)
    meter(cp1, 1, a, 1400)
    stop(cp1, a, 1500)
    sent = [f for cp in (cp1, cp2) for f in cp.sent(types=2) if f.action in TX_ACTIONS]
    sent.sort(key=lambda f: f.wall)

    after = mark(csms)
    csms.start()
    wait_until(lambda: len([f for f in site_calls(csms, after=after) if f.action in TX_ACTIONS]) >= 7,
               timeout=20, what="the replayed transactions")
    got = [f for f in site_calls(csms, after=after) if f.action in TX_ACTIONS]
    assert [f.action for f in got] == ["StartTransaction", "StartTransaction", "MeterValues",
                                      "MeterValues", "StopTransaction", "MeterValues",
                                      "StopTransaction"]
    s_a, s_b, mv_a1, mv_b, stop_b, mv_a2, stop_a = got
    assert s_a.payload["connectorId"] == 1 and s_b.payload["connectorId"] == 3
    assert mv_a1.payload["connectorId"] == mv_a2.payload["connectorId"] == 1
    assert mv_b.payload["connectorId"] == 3
    real_a, real_b = answer_of(csms, s_a)["transactionId"], answer_of(csms, s_b)["transactionId"]
    assert real_a > 0 and real_b > 0 and real_a != real_b
    assert [f.payload["transactionId"] for f in (mv_a1, mv_a2, stop_a)] == [real_a] * 3
    assert mv_b.payload["transactionId"] == stop_b.payload["transactionId"] == real_b
    # original payloads and timestamps, connector and transaction ids aside
    for up, down in zip(got, sent):
        assert up.payload.get("timestamp") == down.payload.get("timestamp"), (str(up), str(down))
        assert up.payload.get("meterValue") == down.payload.get("meterValue")
    assert [f.payload.get("meterStop") for f in (stop_b, stop_a)] == [1300, 1500]
    assert list(csms.connections) == [SITE]
    connector_ids_in_range(csms)
    ocpp_sim.assert_no_violations(csms, cp1, cp2)


def test_transaction_started_offline_is_translated_both_ways_after_the_outage(csms, gateway, charger):
    gw = site_gateway(gateway, offline=OFFLINE)
    wait_site_up(csms, gw)
    cp2 = connect_site(charger, ids=("CP02",))["CP02"]
    csms.stop()
    local = cp2.call("StartTransaction", {"connectorId": 2, "idTag": "SIMTAG0001", "meterStart": 0,
                                          "timestamp": ocpp_sim.now_iso()}, timeout=10)["transactionId"]
    assert local < 0
    after = mark(csms)
    csms.start()
    [start] = wait_until(lambda: site_calls(csms, "StartTransaction", after), timeout=20,
                         what="the replayed StartTransaction")
    assert start.payload["connectorId"] == 3
    real = wait_until(lambda: answer_of(csms, start), what="the CSMS's answer")["transactionId"]

    # still running: its meter values go up with the CSMS's id...
    t = mark(csms)
    cp2.call("MeterValues", {"connectorId": 2, "transactionId": local, "meterValue": [{
        "timestamp": ocpp_sim.now_iso(), "sampledValue": [{"value": "1000", "unit": "Wh"}]}]}, timeout=10)
    [mv] = wait_until(lambda: site_calls(csms, "MeterValues", t), what="the meter values upstream")
    assert mv.payload["transactionId"] == real and mv.payload["connectorId"] == 3
    # ...and the CSMS's RemoteStopTransaction reaches CP02 with the local id
    assert csms.call(SITE, "RemoteStopTransaction", {"transactionId": real}) == {"status": "Accepted"}
    assert [f.payload for f in cp2.received(action="RemoteStopTransaction", types=2)] == \
        [{"transactionId": local}]
    cp2.call("StopTransaction", {"transactionId": local, "meterStop": 2000,
                                 "timestamp": ocpp_sim.now_iso(), "reason": "Remote"})
    [stop] = wait_until(lambda: site_calls(csms, "StopTransaction", t), what="the stop upstream")
    assert stop.payload["transactionId"] == real
    ocpp_sim.assert_no_violations(csms, cp2)


def test_local_list_is_held_by_the_gateway_and_used_offline(csms, gateway, charger):
    gw = site_gateway(gateway, offline={**OFFLINE, "unknown_tags": "reject"})
    wait_site_up(csms, gw)
    cps = connect_site(charger, ids=("CP01", "CP03"))
    assert csms.call(SITE, "SendLocalList", {
        "listVersion": 7, "updateType": "Full", "localAuthorizationList": [
            {"idTag": "LIST-OK", "idTagInfo": {"status": "Accepted"}},
            {"idTag": "LIST-BLOCKED", "idTagInfo": {"status": "Blocked"}}]}) == {"status": "Accepted"}
    assert csms.call(SITE, "GetLocalListVersion", {}) == {"listVersion": 7}
    for cp in cps.values():
        assert not cp.received(action="SendLocalList", types=2)
        assert not cp.received(action="GetLocalListVersion", types=2)
    csms.stop()
    cp = cps["CP03"]
    assert cp.call("Authorize", {"idTag": "LIST-OK"}, timeout=10)["idTagInfo"]["status"] == "Accepted"
    assert cp.call("Authorize", {"idTag": "LIST-BLOCKED"}, timeout=10)["idTagInfo"]["status"] == "Blocked"
    assert cp.call("Authorize", {"idTag": "NOBODY"}, timeout=10)["idTagInfo"]["status"] == "Invalid"
    ocpp_sim.assert_no_violations(csms, *cps.values())


# --- the site's own configuration and commands ------------------------------------------------

def test_configuration_keys_are_the_gateways(csms, gateway, charger):
    gw = site_gateway(gateway, site={"grid_limit_kw": 200})
    wait_site_up(csms, gw)
    cps = connect_site(charger, ids=("CP01",))

    r = csms.call(SITE, "GetConfiguration", {})
    keys = {e["key"]: e for e in r["configurationKey"]}
    for k in ("HeartbeatInterval", "MeterValueSampleInterval", "NumberOfConnectors", "SiteGridLimitKw"):
        assert k in keys, f"GetConfiguration lacks {k}: {sorted(keys)}"
    assert keys["NumberOfConnectors"]["value"] == "4" and keys["NumberOfConnectors"]["readonly"] is True
    assert keys["MeterValueSampleInterval"]["value"] == "60"
    assert near(float(keys["SiteGridLimitKw"]["value"]), 200.0, 0.001)
    assert keys["SiteGridLimitKw"]["readonly"] is False
    r = csms.call(SITE, "GetConfiguration", {"key": ["NumberOfConnectors", "NoSuchKey"]})
    assert [e["key"] for e in r["configurationKey"]] == ["NumberOfConnectors"]
    assert r.get("unknownKey") == ["NoSuchKey"]

    def change(key, value):
        return csms.call(SITE, "ChangeConfiguration", {"key": key, "value": value})["status"]
    assert change("NumberOfConnectors", "9") == "Rejected"
    assert change("NoSuchKey", "1") == "NotSupported"
    assert change("SiteGridLimitKw", "250") == "Rejected"
    assert change("SiteGridLimitKw", "not-a-number") == "Rejected"
    assert change("SiteGridLimitKw", "150") == "Accepted"
    assert near(float(config_value(csms, "SiteGridLimitKw")["value"]), 150.0, 0.001)
    assert change("MeterValueSampleInterval", "15") == "Accepted"
    assert config_value(csms, "MeterValueSampleInterval")["value"] == "15"

    # HeartbeatInterval takes effect: heartbeats every second from now on
    assert change("HeartbeatInterval", "1") == "Accepted"
    assert config_value(csms, "HeartbeatInterval")["value"] == "1"
    t = mark(csms)
    wait_until(lambda: len(site_calls(csms, "Heartbeat", t)) >= 2, timeout=5,
               what="heartbeats at the new 1 s interval")
    # none of this reached a charger
    for cp in cps.values():
        assert not cp.received(action="ChangeConfiguration", types=2)
    ocpp_sim.assert_no_violations(csms, *cps.values())


def test_reset_soft_reboots_the_site_and_hard_is_refused(csms, gateway, charger):
    gw = site_gateway(gateway)
    wait_site_up(csms, gw)
    cps = connect_site(charger)
    wait_until(statuses_are(csms, {c: "Available" for c in (1, 2, 3, 4)}))

    assert csms.call(SITE, "Reset", {"type": "Hard"}) == {"status": "Rejected"}
    before = mark(csms)
    assert csms.call(SITE, "Reset", {"type": "Soft"}) == {"status": "Accepted"}
    wait_until(lambda: site_calls(csms, "BootNotification", before), what="a new BootNotification")
    assert len(site_calls(csms, "BootNotification", before)) == 1
    [boot] = site_calls(csms, "BootNotification", before)
    assert boot.payload["chargePointSerialNumber"] == SITE
    # the new session reports every connector again, as the chargers last said
    wait_until(lambda: set(range(5)) <= set(site_statuses(csms, boot.seq)),
               what="statuses 0..4 after the soft reset")
    assert statuses_are(csms, {c: "Available" for c in (1, 2, 3, 4)}, boot.seq)(), \
        site_statuses(csms, boot.seq)
    for cp in cps.values():
        assert not cp.received(action="Reset", types=2), f"{cp.charger_id} was reset"
        assert cp.connected
    ocpp_sim.assert_no_violations(csms, *cps.values())


def test_hard_reset_fans_out_when_allowed(csms, gateway, charger):
    gw = site_gateway(gateway, aggregate={"allow_hard_reset": True})
    wait_site_up(csms, gw)
    cps = connect_site(charger)
    assert csms.call(SITE, "Reset", {"type": "Hard"}) == {"status": "Accepted"}
    for cp in cps.values():
        wait_until(lambda: cp.received(action="Reset", types=2), what=f"{cp.charger_id}'s Reset")
        assert [f.payload for f in cp.received(action="Reset", types=2)] == [{"type": "Hard"}]
    ocpp_sim.assert_no_violations(csms, *cps.values())


def test_firmware_and_diagnostics_are_not_supported(csms, gateway, charger):
    gw = site_gateway(gateway)
    wait_site_up(csms, gw)
    cps = connect_site(charger, ids=("CP01",))
    r = csms.call_reply(SITE, "UpdateFirmware", {"location": "http://127.0.0.1/fw.bin",
                                                 "retrieveDate": ocpp_sim.now_iso()})
    assert not r.ok and r.error_code == "NotSupported", (r.kind, r.error_code, r.payload)
    r = csms.call_reply(SITE, "GetDiagnostics", {"location": "ftp://127.0.0.1/diag"})
    assert not r.ok and r.error_code == "NotSupported", (r.kind, r.error_code, r.payload)
    for cp in cps.values():
        assert not cp.received(action="UpdateFirmware", types=2)
        assert not cp.received(action="GetDiagnostics", types=2)
    ocpp_sim.assert_no_violations(csms, *cps.values())


def test_trigger_messages_for_the_site_are_answered_by_the_gateway(csms, gateway, charger):
    gw = site_gateway(gateway)
    wait_site_up(csms, gw)
    cps = connect_site(charger)
    wait_until(statuses_are(csms, {c: "Available" for c in (1, 2, 3, 4)}))

    def trigger(what, **extra):
        before = mark(csms)
        r = csms.call(SITE, "TriggerMessage", {"requestedMessage": what, **extra})
        assert r == {"status": "Accepted"}, f"TriggerMessage {what}: {r}"
        return before
    t = trigger("BootNotification")
    wait_until(lambda: site_calls(csms, "BootNotification", t), what="the triggered BootNotification")
    assert site_calls(csms, "BootNotification", t)[0].payload["chargePointSerialNumber"] == SITE
    t = trigger("Heartbeat")
    wait_until(lambda: site_calls(csms, "Heartbeat", t), what="the triggered Heartbeat")
    t = trigger("StatusNotification")
    wait_until(lambda: set(range(5)) <= set(site_statuses(csms, t)),
               what="the triggered statuses of connectors 0..4")
    assert statuses_are(csms, {c: "Available" for c in (1, 2, 3, 4)}, t)()
    for cp in cps.values():
        asked = [f.payload["requestedMessage"] for f in cp.received(action="TriggerMessage", types=2)]
        assert "BootNotification" not in asked and "Heartbeat" not in asked, \
            f"{cp.charger_id} was asked for {asked}"
    ocpp_sim.assert_no_violations(csms, *cps.values())


# --- beyond the list: found while testing ----------------------------------------------

def test_csms_clear_charging_profile_keeps_the_gateways_limits(csms, gateway, charger):
    """A CSMS ClearChargingProfile without an id or purpose clears every profile on
    the connector (or the charger), the gateway's own limits included: they must be
    put back, or the charger runs at its maximum while the balancer counts it at its
    share (passthrough mode does this, smart_charging.c smart__take_clear)."""
    gw = site_gateway(gateway, site={"grid_limit_kw": CAP_KW}, balancer=FAST)
    wait_site_up(csms, gw)
    cp1 = charger("CP01", "1.6")
    cp2 = charger("CP02", "1.6", connectors=2)
    cp3 = charger("CP03", "1.6")
    cps = [cp1, cp2, cp3]
    start_charging(cp1, "1.6")
    start_charging(cp2, "1.6", connector=1)
    cp2.status("Preparing", 2)
    cp2.status("Charging", 2)
    start_charging(cp3, "1.6")

    def everyone(amps):
        return lambda: (near(gateway_limit(cp1, "1.6"), amps) and near(gateway_limit(cp3, "1.6"), amps)
                        and near(gateway_limit(cp2, "1.6", 1), amps)
                        and near(gateway_limit(cp2, "1.6", 2), amps)
                        and near(gateway_limit(cp2, "1.6"), 2 * amps, 0.21))
    wait_until(everyone(16.0), what="16 A for each of the four cars")

    # one connector's profiles: CP02's connector 2 loses the gateway's TxDefault
    r = csms.call(SITE, "ClearChargingProfile", {"connectorId": 3})
    assert r["status"] in ("Accepted", "Unknown")
    assert {"connectorId": 2} in [f.payload for f in cp2.received(action="ClearChargingProfile", types=2)]
    wait_until(everyone(16.0), what="the gateway's limit back on CP02's connector 2 after the "
                                    "CSMS cleared that connector")
    # the whole site: every charger loses every profile
    r = csms.call(SITE, "ClearChargingProfile", {})
    assert r["status"] in ("Accepted", "Unknown")
    for cp in cps:
        assert {} in [f.payload for f in cp.received(action="ClearChargingProfile", types=2)]
    wait_until(everyone(16.0), what="the gateway's limits back on every charger after a "
                                    "site-wide ClearChargingProfile")
    ocpp_sim.assert_no_violations(csms, *cps)


def max_in_flight(csms, charger_id=SITE):
    """The most CALLs of a charge point the CSMS had received and not yet answered."""
    events = sorted([(f.seq, 1) for f in csms.received(charger_id, types=2)]
                    + [(f.seq, -1) for f in csms.sent(charger_id, types=(3, 4))])
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


def test_site_sends_one_call_at_a_time(csms, gateway, charger, sims):
    """OCPP-J 1.6, 4.1.1 Synchronicity: a charge point SHOULD NOT send a CALL before
    every CALL it sent before was answered or timed out. The site is one charge
    point: its own messages and its chargers' share that rule (the gateway keeps
    it towards chargers, README "one at a time, as OCPP-J asks")."""
    async def slow(ctx):
        await asyncio.sleep(0.05)                       # a CSMS at some distance
        return None                                     # the default answer
    csms.on("StatusNotification", slow)
    csms.on("DataTransfer", slow)
    gw = site_gateway(gateway)
    wait_site_up(csms, gw)                               # the boot's five statuses
    cps = connect_site(charger)
    coros = [cp.aio.call("DataTransfer", {"vendorId": "sitegate.test", "data": str(k)}, timeout=10)
             for cp in cps.values() for k in range(3)]
    sims.gather(*coros)
    most = max_in_flight(csms)
    assert most == 1, f"up to {most} CALLs of the site were in flight at once on its socket"
    ocpp_sim.assert_no_violations(csms, *cps.values())


def test_remote_stop_reaches_the_charger_after_a_gateway_restart(csms, gateway, charger):
    """A gateway restart (an upgrade, a power cut of the gateway alone) during a
    session: the CSMS can still stop it remotely, before the charger's next
    meter values."""
    cfg = site_config(gateway, name="gw1")
    gw1 = gateway(config=cfg, name="gw1")
    wait_site_up(csms, gw1)
    cp2 = connect_site(charger, ids=("CP02",))["CP02"]
    cp2.status("Preparing", 2)
    tx = cp2.call("StartTransaction", {"connectorId": 2, "idTag": "SIMTAG0001", "meterStart": 0,
                                       "timestamp": ocpp_sim.now_iso()})["transactionId"]
    cp2.status("Charging", 2)
    assert gw1.terminate() == 0
    gw2 = gateway(config=cfg, name="gw2")
    csms.wait_connected(SITE, count=2)
    cp2b = charger("CP02", "1.6", gw=gw2, connectors=2)
    cp2b.boot()
    cp2b.status("Charging", 2)
    wait_until(lambda: [f for f in csms.received(SITE, action="StatusNotification", types=2, conn_no=2)
                        if f.payload["connectorId"] == 3 and f.payload["status"] == "Charging"],
               what="CP02 charging again after the restart")
    r = csms.call(SITE, "RemoteStopTransaction", {"transactionId": tx})
    assert r == {"status": "Accepted"}, f"RemoteStopTransaction of a running transaction: {r}"
    assert [f.payload for f in cp2b.received(action="RemoteStopTransaction", types=2)] == \
        [{"transactionId": tx}]
    ocpp_sim.assert_no_violations(csms, cp2, cp2b)


def test_transaction_never_stopped_is_forgotten_when_its_connector_starts_another(
        csms, gateway, charger):
    """A charger that lost a StopTransaction (a reboot mid-session) starts the
    next transaction on the same connector: the first is over. The CSMS's
    RemoteStopTransaction of it is refused, before and after a gateway
    restart (the store keeps no entry for it: it would stay for ever); the
    new one is still routed."""
    cfg = site_config(gateway, name="gw1")
    gw1 = gateway(config=cfg, name="gw1")
    wait_site_up(csms, gw1)
    cp2 = connect_site(charger, ids=("CP02",))["CP02"]
    txs = []
    for _ in range(2):
        cp2.status("Preparing", 2)
        txs.append(cp2.call("StartTransaction", {"connectorId": 2, "idTag": "SIMTAG0001",
                                                 "meterStart": 0,
                                                 "timestamp": ocpp_sim.now_iso()})["transactionId"])
        cp2.status("Charging", 2)
    lost, running = txs
    assert csms.call(SITE, "RemoteStopTransaction", {"transactionId": lost}) == {"status": "Rejected"}
    gw1.wait_log(r"forgot transactions never stopped charger=CP02 connector=2 count=1")
    assert gw1.terminate() == 0
    gw2 = gateway(config=cfg, name="gw2")
    csms.wait_connected(SITE, count=2)
    cp2b = charger("CP02", "1.6", gw=gw2, connectors=2)
    cp2b.boot()
    assert csms.call(SITE, "RemoteStopTransaction", {"transactionId": lost}) == {"status": "Rejected"}
    assert csms.call(SITE, "RemoteStopTransaction", {"transactionId": running}) == {"status": "Accepted"}
    assert [f.payload for f in cp2b.received(action="RemoteStopTransaction", types=2)] == \
        [{"transactionId": running}]
    ocpp_sim.assert_no_violations(csms, cp2, cp2b)


def test_charger_back_without_a_boot_leaves_unavailable(csms, gateway, charger):
    """The gateway itself told the CSMS that a charger's connectors are Unavailable
    when it left; when the charger is back (a network blip: a new socket, no
    reboot, so no statuses of its own, which OCPP 1.6 does not ask for) the CSMS
    must not be left with that picture: the gateway asks for its statuses
    (TriggerMessage StatusNotification), as it does after a replay."""
    gw = site_gateway(gateway)
    wait_site_up(csms, gw)
    cps = connect_site(charger, ids=("CP02",))
    wait_until(statuses_are(csms, {2: "Available", 3: "Available"}))
    cps["CP02"].close()
    wait_until(statuses_are(csms, {2: "Unavailable", 3: "Unavailable"}))
    cp2 = charger("CP02", "1.6", connectors=2)
    assert "currentTime" in cp2.heartbeat()
    wait_until(statuses_are(csms, {2: "Available", 3: "Available"}),
               what="CP02's connectors out of Unavailable once it is back")
    ocpp_sim.assert_no_violations(csms, cp2, *cps.values())


def test_answer_for_a_replaced_socket_never_reaches_the_new_one(csms, gateway, charger):
    """A charger opens a new socket while a CALL of its old one waits for the CSMS
    (passthrough: "CALLs of the old socket are answered to no one now"): the late
    answer must not arrive on the new socket, where it answers no CALL."""
    gw = site_gateway(gateway)
    wait_site_up(csms, gw)
    old = connect_site(charger, ids=("CP01",))["CP01"]

    async def slow(ctx):
        await asyncio.sleep(1.0)
        return {"status": "Accepted", "data": "late"}
    csms.on("DataTransfer", slow, once=True)
    before = mark(csms)
    old.spawn.call_reply("DataTransfer", {"vendorId": "sitegate.test", "data": "old"}, timeout=5)
    [up] = wait_until(lambda: site_calls(csms, "DataTransfer", before), what="the old socket's CALL upstream")
    new = charger("CP01", "1.6")
    gw.wait_log(r"charger reconnected, replacing its old socket charger=CP01")
    wait_until(lambda: answer_of(csms, up), timeout=5, what="the CSMS's late answer")
    assert new.call("DataTransfer", {"vendorId": "sitegate.test", "data": "new"})["status"] == "Accepted"
    stray = [str(f) for f in new.received(types=(3, 4)) if f.unmatched]
    assert not stray, f"the new socket got the old socket's answer: {stray}"
    new.clear_violations()   # reported above; the sims' teardown would repeat it
    ocpp_sim.assert_no_violations(csms)
