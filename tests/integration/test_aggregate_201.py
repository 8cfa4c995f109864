"""Issue 10, aggregate mode toward an OCPP 2.0.1 CSMS, and chargers of either
version behind a site of either version. Behind the 2.0.1 site:

    CP01 (1.6J)  connector 1 -> EVSE 1
    CP02 (1.6J)  connector 1 -> EVSE 2
    CP03 (2.0.1) EVSE 1      -> EVSE 3

The CSMS sees one Charging Station (the site's id) with three EVSEs; the 1.6
chargers' transactions arrive as TransactionEvents with ids and seqNo of the
gateway's, the CSMS's commands reach the right charger in its own version,
a ChargingStationMaxProfile on EVSE 0 is a site limit, outages replay with
the offline flag, and what cannot be mapped is answered honestly. Then a 1.6
site with a 2.0.1 charger behind it. Every frame both ways is checked against
the official schemas of its version by the simulators."""

import copy

import ocpp_sim
from conftest import deep_merge, grid_meter, wait_until
from test_aggregate import answer_of, gateway_version, mark
from test_balancer_profiles import gateway_limit, near, start_charging

SITE = "TEST-SITE"
CHARGERS = [{"id": "CP01", "site_connectors": [1]}, {"id": "CP02", "site_connectors": [2]},
            {"id": "CP03", "site_connectors": [3]}]
VERSIONS = {"CP01": "1.6", "CP02": "1.6", "CP03": "2.0.1"}
UPSTREAM = {"mode": "aggregate", "ocpp_version": "2.0.1", "reconnect_min_s": 0.2, "reconnect_max_s": 1}
AGGREGATE = {"vendor": "sitegate", "model": "sitegate-site", "meter_interval_s": 60}
OFFLINE = {"hold_s": 1, "unknown_tags": "accept"}
CAP_KW = 44.16                          # 64 A per phase at 230 V
FAST = {"increase_interval_s": 1, "deadband_a": 0.5}


# --- helpers -----------------------------------------------------------------------

def site_gateway(gateway, version="2.0.1", chargers=CHARGERS, csms=None, name=None, **overrides):
    cfg = deep_merge({"upstream": {**UPSTREAM, "ocpp_version": version}, "aggregate": AGGREGATE},
                     overrides)
    return gateway(csms=csms, chargers=copy.deepcopy(chargers), name=name, **cfg)


def calls(csms, action=None, after=0):
    return [f for f in csms.received(SITE, action=action, types=2) if f.seq > after]


def evse_statuses(csms, after=0):
    """The site's latest connectorStatus per EVSE, as the 2.0.1 CSMS saw them."""
    return {f.payload["evseId"]: f.payload["connectorStatus"] for f in calls(csms, "StatusNotification", after)}


def statuses_are(csms, expected, after=0):
    return lambda: all(evse_statuses(csms, after).get(e) == s for e, s in expected.items())


def wait_site_up(csms, evses=(1, 2, 3)):
    csms.wait_connected(SITE)
    wait_until(lambda: calls(csms, "BootNotification"), what="the site's BootNotification")
    wait_until(lambda: set(evses) <= set(evse_statuses(csms)), what=f"a status for each of EVSEs {evses}")


def connect(charger, ids=("CP01", "CP02", "CP03"), gw=None):
    cps = {}
    for cid in ids:
        cp = charger(cid, VERSIONS[cid], gw=gw)
        assert cp.boot()["status"] == "Accepted"
        cp.status("Available", 1)
        cps[cid] = cp
    return cps


def events(csms, after=0):
    """The site's TransactionEvents by transactionId, in arrival order."""
    out = {}
    for f in calls(csms, "TransactionEvent", after):
        out.setdefault(f.payload["transactionInfo"]["transactionId"], []).append(f.payload)
    return out


def assert_consistent(evs, evse):
    """One transaction's events: Started .. Ended on one EVSE, seqNo 0, 1, 2, ..."""
    assert [e["seqNo"] for e in evs] == list(range(len(evs))), [e["seqNo"] for e in evs]
    assert evs[0]["eventType"] == "Started" and evs[-1]["eventType"] == "Ended", \
        [e["eventType"] for e in evs]
    assert all(e["eventType"] == "Updated" for e in evs[1:-1])
    assert evs[0]["evse"]["id"] == evse
    assert all(e.get("evse", {"id": evse})["id"] == evse for e in evs)


def reply(csms, action, payload):
    r = csms.call_reply(SITE, action, payload)
    return r


def received(cp, action):
    return [f.payload for f in cp.received(action=action, types=2)]


def energy(evs):
    """The last energy register of a transaction's events (Wh)."""
    values = [sv["value"] for e in evs for mv in e.get("meterValue", []) for sv in mv["sampledValue"]
              if sv.get("measurand", "Energy.Active.Import.Register") == "Energy.Active.Import.Register"]
    return values[-1]


# --- the 2.0.1 site ----------------------------------------------------------------------

def test_one_station_three_evses_and_sessions_as_transaction_events(csms, gateway, charger):
    site_gateway(gateway)
    wait_site_up(csms)
    [boot] = calls(csms, "BootNotification")
    assert boot.payload["reason"] == "PowerUp"
    assert boot.payload["chargingStation"] == {"model": "sitegate-site", "vendorName": "sitegate",
                                               "serialNumber": SITE, "firmwareVersion": gateway_version()}
    # no charger yet: every EVSE Unavailable, and no EVSE 0 status
    wait_until(statuses_are(csms, {1: "Unavailable", 2: "Unavailable", 3: "Unavailable"}))
    assert 0 not in evse_statuses(csms)
    assert all(f.payload["connectorId"] == 1 for f in calls(csms, "StatusNotification"))

    cps = connect(charger)
    wait_until(statuses_are(csms, {1: "Available", 2: "Available", 3: "Available"}),
               what="EVSEs 1..3 Available")
    before = mark(csms)
    results = {cid: cp.session(connector_id=1, meter_values=2) for cid, cp in cps.items()}
    wait_until(lambda: len(events(csms, before)) == 3 and all(
        evs[-1]["eventType"] == "Ended" for evs in events(csms, before).values()),
        what="three ended transactions")
    by_evse = {evs[0]["evse"]["id"]: (tx, evs) for tx, evs in events(csms, before).items()}
    assert set(by_evse) == {1, 2, 3}
    for evse, cid in ((1, "CP01"), (2, "CP02"), (3, "CP03")):
        tx, evs = by_evse[evse]
        assert_consistent(evs, evse)
        # a 1.6 charger's Charging status is an Updated event of its own
        assert len(evs) == (5 if VERSIONS[cid] == "1.6" else 4), [e["eventType"] for e in evs]
        assert evs[0]["idToken"] == {"idToken": "SIMTAG0001", "type": "ISO14443"}
        assert evs[-1]["transactionInfo"]["stoppedReason"] == "Local"
        assert energy(evs) == cps[cid].meter_wh, f"{cid}'s last energy register"
        assert not any(e.get("offline") for e in evs)
    # a 1.6 charger's transaction: the charger got the gateway's integer id, the CSMS a UUID
    for cid, evse in (("CP01", 1), ("CP02", 2)):
        tx, evs = by_evse[evse]
        assert isinstance(results[cid].transaction_id, int) and results[cid].transaction_id > 0
        assert len(tx) == 36 and tx.count("-") == 4, tx
        assert evs[0]["triggerReason"] == "Authorized"
        assert evs[0]["meterValue"][0]["sampledValue"][0]["context"] == "Transaction.Begin"
        assert evs[-1]["triggerReason"] == "StopAuthorized"
        # the charger's Charging status is the transaction's charging state
        assert [e["transactionInfo"].get("chargingState") for e in evs[:2]] == ["EVConnected", "Charging"]
    assert results["CP01"].transaction_id != results["CP02"].transaction_id
    # a 2.0.1 charger's transaction keeps its own id and seqNo
    assert by_evse[3][0] == results["CP03"].transaction_id
    assert list(csms.connections) == [SITE] and len(csms.connections[SITE]) == 1
    statuses_3 = [f.payload["connectorStatus"] for f in calls(csms, "StatusNotification", before)
                  if f.payload["evseId"] == 1]
    assert statuses_3 == ["Occupied", "Available"], "a status is sent when it changes"
    ocpp_sim.assert_no_violations(csms, *cps.values())


def test_request_start_on_evse_2_starts_cp02_and_request_stop_stops_it(csms, gateway, charger):
    site_gateway(gateway)
    wait_site_up(csms)
    cps = connect(charger)
    wait_until(statuses_are(csms, {1: "Available", 2: "Available", 3: "Available"}))

    r = csms.call(SITE, "RequestStartTransaction", {"evseId": 2, "remoteStartId": 42,
                                                    "idToken": {"idToken": "REMOTE-1", "type": "Central"}})
    assert r == {"status": "Accepted"}
    got = {cid: received(cp, "RemoteStartTransaction") for cid, cp in cps.items()}
    assert got == {"CP01": [], "CP02": [{"connectorId": 1, "idTag": "REMOTE-1"}], "CP03": []}
    assert received(cps["CP03"], "RequestStartTransaction") == []

    cp2 = cps["CP02"]
    before = mark(csms)
    cp2.status("Preparing", 1)
    tx16 = cp2.call("StartTransaction", {"connectorId": 1, "idTag": "REMOTE-1", "meterStart": 100,
                                         "timestamp": ocpp_sim.now_iso()})["transactionId"]
    cp2.status("Charging", 1)
    wait_until(lambda: events(csms, before), what="the remote start's TransactionEvent")
    [(tx, evs)] = events(csms, before).items()
    assert evs[0]["triggerReason"] == "RemoteStart"
    assert evs[0]["transactionInfo"]["remoteStartId"] == 42
    assert evs[0]["idToken"] == {"idToken": "REMOTE-1", "type": "Central"}
    assert evs[0]["evse"] == {"id": 2, "connectorId": 1}

    r = csms.call(SITE, "RequestStopTransaction", {"transactionId": tx})
    assert r == {"status": "Accepted"}
    assert received(cp2, "RemoteStopTransaction") == [{"transactionId": tx16}]
    cp2.call("StopTransaction", {"transactionId": tx16, "meterStop": 900, "timestamp": ocpp_sim.now_iso(),
                                 "reason": "Remote"})
    wait_until(lambda: events(csms, before)[tx][-1]["eventType"] == "Ended", what="the Ended event")
    ended = events(csms, before)[tx][-1]
    assert ended["triggerReason"] == "RemoteStop" and ended["transactionInfo"]["stoppedReason"] == "Remote"
    assert energy(events(csms, before)[tx]) == 900
    # the transaction is over: a second stop is refused
    assert csms.call(SITE, "RequestStopTransaction", {"transactionId": tx}) == {"status": "Rejected"}

    # the 2.0.1 charger gets the CSMS's request as it is, its EVSE renumbered
    r = csms.call(SITE, "RequestStartTransaction", {"evseId": 3, "remoteStartId": 43,
                                                    "idToken": {"idToken": "REMOTE-2", "type": "Central"}})
    assert r["status"] == "Accepted"
    assert received(cps["CP03"], "RequestStartTransaction") == [
        {"evseId": 1, "remoteStartId": 43, "idToken": {"idToken": "REMOTE-2", "type": "Central"}}]
    ocpp_sim.assert_no_violations(csms, *cps.values())


def test_charging_station_max_profile_lowers_the_site(csms, gateway, charger):
    site_gateway(gateway, site={"grid_limit_kw": CAP_KW}, balancer=FAST)
    wait_site_up(csms)
    cps = {cid: charger(cid, VERSIONS[cid]) for cid in ("CP01", "CP02", "CP03")}
    for cid, cp in cps.items():
        start_charging(cp, VERSIONS[cid])

    def everyone(amps):
        return lambda: all(near(gateway_limit(cp, VERSIONS[cid]), amps) for cid, cp in cps.items())
    wait_until(everyone(21.3), what="a third of 64 A each")
    profile = {"evseId": 0, "chargingProfile": {
        "id": 77, "stackLevel": 0, "chargingProfilePurpose": "ChargingStationMaxProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": [{"id": 1, "startSchedule": "2020-01-01T00:00:00Z", "chargingRateUnit": "A",
                              "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 30.0}]}]}}
    assert csms.call(SITE, "SetChargingProfile", profile) == {"status": "Accepted"}
    wait_until(everyone(10.0), what="10 A each under the CSMS's site limit")
    for cp in cps.values():
        assert all(e["profile"].get("id", e["profile"].get("chargingProfileId")) != 77 for e in cp.profile_log)
    r = csms.call(SITE, "GetCompositeSchedule", {"evseId": 0, "duration": 3600, "chargingRateUnit": "A"})
    assert r["status"] == "Accepted" and r["schedule"]["evseId"] == 0
    assert near(r["schedule"]["chargingSchedulePeriod"][0]["limit"], 30.0)
    assert csms.call(SITE, "ClearChargingProfile", {"chargingProfileId": 77}) == {"status": "Accepted"}
    wait_until(everyone(21.3), what="back to a third of 64 A each")
    ocpp_sim.assert_no_violations(csms, *cps.values())


def test_outage_replays_in_order_with_offline_flags_and_seqno(csms, gateway, charger):
    site_gateway(gateway, offline=OFFLINE)
    wait_site_up(csms)
    cps = connect(charger, ids=("CP01", "CP03"))
    wait_until(statuses_are(csms, {1: "Available", 3: "Available"}))
    csms.stop()
    # both chargers' sessions while the CSMS is away, answered by the gateway
    r1 = cps["CP01"].session(connector_id=1, meter_values=2, timeout=15)
    r3 = cps["CP03"].session(connector_id=1, meter_values=1, timeout=15)
    assert isinstance(r1.transaction_id, int) and r1.transaction_id > 0
    after = mark(csms)
    csms.start()
    wait_until(lambda: sum(len(evs) for evs in events(csms, after).values()) >= 8, timeout=20,
               what="the replayed TransactionEvents")
    evs_by_tx = events(csms, after)
    by_evse = {evs[0]["evse"]["id"]: evs for evs in evs_by_tx.values()}
    assert set(by_evse) == {1, 3}
    assert_consistent(by_evse[1], 1)
    assert_consistent(by_evse[3], 3)
    assert [len(by_evse[1]), len(by_evse[3])] == [5, 3]
    assert all(e["offline"] is True for evs in by_evse.values() for e in evs)
    assert r3.transaction_id in evs_by_tx
    # in the order the chargers sent them: CP01's transaction first, entirely
    first = by_evse[1][0]["transactionInfo"]["transactionId"]
    order = [f.payload["transactionInfo"]["transactionId"] for f in calls(csms, "TransactionEvent", after)]
    assert order == [first] * 5 + [r3.transaction_id] * 3, order
    # after the replay the CSMS gets the EVSEs' statuses now
    wait_until(statuses_are(csms, {1: "Available", 3: "Available"}, after), what="fresh statuses")
    ocpp_sim.assert_no_violations(csms, *cps.values())


def test_grid_meter_on_evse_0(csms, gateway, meter):
    meter.set(current_a=(10.0, 12.0, 8.0), energy_kwh=1234.5)
    site_gateway(gateway, meters=[grid_meter(meter)], aggregate={"meter_interval_s": 1})
    wait_site_up(csms)

    def sampled(f):
        return {(sv.get("measurand"), sv.get("phase")): (sv["value"], sv["unitOfMeasure"]["unit"])
                for mv in f.payload["meterValue"] for sv in mv["sampledValue"]}

    def reading(f):
        s = sampled(f)
        return (f.payload["evseId"] == 0 and near(s.get(("Power.Active.Import", None), (0,))[0], 6900, 345)
                and all(near(s.get(("Current.Import", ph), (0,))[0], a, 0.1)
                        for ph, a in (("L1", 10), ("L2", 12), ("L3", 8))))
    [f, *_] = wait_until(lambda: [f for f in calls(csms, "MeterValues") if reading(f)],
                         what="the grid meter on EVSE 0")
    s = sampled(f)
    assert s[("Power.Active.Import", None)][1] == "W"
    assert s[("Current.Import", "L1")][1] == "A"
    energy, unit = s[("Energy.Active.Import.Register", None)]
    assert unit == "Wh" and 1234500 <= energy <= 1236000
    t = mark(csms)
    assert csms.call(SITE, "TriggerMessage", {"requestedMessage": "MeterValues"}) == {"status": "Accepted"}
    wait_until(lambda: [f for f in calls(csms, "MeterValues", t) if f.payload["evseId"] == 0],
               timeout=3, what="the triggered reading")
    # the interval is the AlignedDataCtrlr's
    r = csms.call(SITE, "SetVariables", {"setVariableData": [{
        "component": {"name": "AlignedDataCtrlr"}, "variable": {"name": "Interval"}, "attributeValue": "600"}]})
    assert r["setVariableResult"][0]["attributeStatus"] == "Accepted"
    ocpp_sim.assert_no_violations(csms)


def test_restart_keeps_transaction_ids_and_seqno(csms, gateway, charger):
    cfg = deep_merge({"upstream": UPSTREAM, "aggregate": AGGREGATE}, {})
    gw1 = gateway(chargers=copy.deepcopy(CHARGERS), name="gw1", **cfg)
    wait_site_up(csms)
    cp1 = connect(charger, ids=("CP01",), gw=gw1)["CP01"]
    cp1.status("Preparing", 1)
    tx16 = cp1.call("StartTransaction", {"connectorId": 1, "idTag": "SIMTAG0001", "meterStart": 0,
                                         "timestamp": ocpp_sim.now_iso()})["transactionId"]
    cp1.status("Charging", 1)
    wait_until(lambda: len(calls(csms, "TransactionEvent")) == 2, what="Started and ChargingStateChanged")
    assert gw1.terminate() == 0
    gw2 = gateway(config=gw1.config, name="gw2")
    csms.wait_connected(SITE, count=2)
    cp1b = charger("CP01", "1.6", gw=gw2)
    cp1b.call("MeterValues", {"connectorId": 1, "transactionId": tx16, "meterValue": [{
        "timestamp": ocpp_sim.now_iso(), "sampledValue": [{"value": "500", "unit": "Wh"}]}]})
    cp1b.call("StopTransaction", {"transactionId": tx16, "meterStop": 700, "timestamp": ocpp_sim.now_iso()})
    wait_until(lambda: len(calls(csms, "TransactionEvent")) == 4, what="Updated and Ended after the restart")
    [(tx, evs)] = events(csms).items()
    assert_consistent(evs, 1)
    assert energy(evs) == 700
    ocpp_sim.assert_no_violations(csms, cp1, cp1b)


def test_device_model_reset_and_triggers(csms, gateway, charger):
    site_gateway(gateway, site={"grid_limit_kw": CAP_KW})
    wait_site_up(csms)
    cps = connect(charger)
    wait_until(statuses_are(csms, {1: "Available", 2: "Available", 3: "Available"}))

    def var(component, variable, evse=None, instance=None, **extra):
        c = {"name": component, **({"evse": {"id": evse}} if evse else {})}
        v = {"name": variable, **({"instance": instance} if instance else {})}
        return {"component": c, "variable": v, **extra}
    r = csms.call(SITE, "GetVariables", {"getVariableData": [
        var("OCPPCommCtrlr", "HeartbeatInterval"), var("SiteCtrlr", "SiteGridLimitKw"),
        var("EVSE", "AvailabilityState", evse=2), var("OCPPCommCtrlr", "MessageTimeout", instance="Default"),
        var("NoSuchCtrlr", "X"), var("OCPPCommCtrlr", "NoSuchVariable"),
        var("OCPPCommCtrlr", "HeartbeatInterval", attributeType="Target")]})
    res = r["getVariableResult"]
    assert [x["attributeStatus"] for x in res] == ["Accepted", "Accepted", "Accepted", "Accepted",
                                                   "UnknownComponent", "UnknownVariable",
                                                   "NotSupportedAttributeType"]
    assert res[0]["attributeValue"] == "300" and float(res[1]["attributeValue"]) == CAP_KW
    assert res[2]["attributeValue"] == "Available" and res[3]["attributeValue"] == "30"

    r = csms.call(SITE, "SetVariables", {"setVariableData": [
        {**var("SiteCtrlr", "SiteGridLimitKw"), "attributeValue": "22.08"},
        {**var("SiteCtrlr", "SiteGridLimitKw"), "attributeValue": "500"},
        {**var("OCPPCommCtrlr", "MessageTimeout", instance="Default"), "attributeValue": "5"},
        {**var("OCPPCommCtrlr", "HeartbeatInterval"), "attributeValue": "120"}]})
    assert [x["attributeStatus"] for x in r["setVariableResult"]] == ["Accepted", "Rejected", "Rejected",
                                                                      "Accepted"]
    r = csms.call(SITE, "GetVariables", {"getVariableData": [var("SiteCtrlr", "SiteGridLimitKw")]})
    assert float(r["getVariableResult"][0]["attributeValue"]) == 22.08
    r = csms.call_reply(SITE, "GetVariables", {"getVariableData": [var("SiteCtrlr", "X")] * 65})
    assert not r.ok and r.error_code == "OccurrenceConstraintViolation", "more than ItemsPerMessage"

    before = mark(csms)
    assert csms.call(SITE, "GetBaseReport", {"requestId": 7, "reportBase": "FullInventory"}) == \
        {"status": "Accepted"}
    reports = wait_until(lambda: (lambda r: r if r and not r[-1].payload.get("tbc") else None)(
        calls(csms, "NotifyReport", before)), what="the whole report")
    assert [f.payload["seqNo"] for f in reports] == list(range(len(reports)))
    assert all(f.payload["requestId"] == 7 for f in reports)
    data = [d for f in reports for d in f.payload["reportData"]]
    names = {(d["component"]["name"], d["variable"]["name"]) for d in data}
    for required in (("OCPPCommCtrlr", "HeartbeatInterval"), ("AlignedDataCtrlr", "Interval"),
                     ("SampledDataCtrlr", "TxUpdatedMeasurands"), ("AuthCtrlr", "AuthorizeRemoteStart"),
                     ("TxCtrlr", "TxStartPoint"), ("DeviceDataCtrlr", "ItemsPerMessage"),
                     ("SiteCtrlr", "SiteGridLimitKw")):
        assert required in names, required
    assert sorted(d["component"]["evse"]["id"] for d in data if d["component"]["name"] == "EVSE") == [1, 2, 3]
    before = mark(csms)
    assert csms.call(SITE, "GetBaseReport", {"requestId": 8, "reportBase": "ConfigurationInventory"}) == \
        {"status": "Accepted"}
    reports = wait_until(lambda: calls(csms, "NotifyReport", before), what="the configuration report")
    assert all(a["mutability"] == "ReadWrite" for f in reports for d in f.payload["reportData"]
               for a in d["variableAttribute"])
    assert csms.call(SITE, "GetBaseReport", {"requestId": 9, "reportBase": "SummaryInventory"}) == \
        {"status": "NotSupported"}

    # the station's own messages on request; an EVSE's from its charger
    t = mark(csms)
    assert csms.call(SITE, "TriggerMessage", {"requestedMessage": "Heartbeat"}) == {"status": "Accepted"}
    wait_until(lambda: calls(csms, "Heartbeat", t), what="the triggered heartbeat")
    assert csms.call(SITE, "TriggerMessage", {"requestedMessage": "BootNotification"}) == {"status": "Rejected"}
    assert csms.call(SITE, "TriggerMessage", {"requestedMessage": "StatusNotification",
                                              "evse": {"id": 3}}) == {"status": "Accepted"}
    assert {"requestedMessage": "StatusNotification", "evse": {"id": 1}} in \
        received(cps["CP03"], "TriggerMessage")
    assert csms.call(SITE, "TriggerMessage", {"requestedMessage": "MeterValues",
                                              "evse": {"id": 1}}) == {"status": "Accepted"}
    assert {"requestedMessage": "MeterValues", "connectorId": 1} in received(cps["CP01"], "TriggerMessage")
    wait_until(lambda: [f for f in calls(csms, "MeterValues", t) if f.payload["evseId"] == 1],
               what="CP01's triggered meter values on EVSE 1")

    # availability: one EVSE, then the whole station (every charger, in its version)
    assert csms.call(SITE, "ChangeAvailability", {"operationalStatus": "Inoperative",
                                                  "evse": {"id": 2}}) == {"status": "Accepted"}
    assert received(cps["CP02"], "ChangeAvailability") == [{"connectorId": 1, "type": "Inoperative"}]
    assert csms.call(SITE, "ChangeAvailability", {"operationalStatus": "Operative"}) == {"status": "Accepted"}
    assert {"connectorId": 0, "type": "Operative"} in received(cps["CP01"], "ChangeAvailability")
    assert received(cps["CP03"], "ChangeAvailability") == [{"operationalStatus": "Operative"}]
    assert csms.call(SITE, "UnlockConnector", {"evseId": 1, "connectorId": 1}) == {"status": "Unlocked"}
    assert received(cps["CP01"], "UnlockConnector") == [{"connectorId": 1}]
    assert csms.call(SITE, "GetLocalListVersion", {}) == {"versionNumber": 0}

    # Reset OnIdle: the site's session starts again, with a new BootNotification
    t = mark(csms)
    assert csms.call(SITE, "Reset", {"type": "OnIdle"}) == {"status": "Accepted"}
    wait_until(lambda: calls(csms, "BootNotification", t), what="the boot after the reset")
    assert calls(csms, "BootNotification", t)[0].payload["reason"] == "RemoteReset"
    ocpp_sim.assert_no_violations(csms, *cps.values())


def test_profiles_and_schedules_are_converted_for_a_16_charger(csms, gateway, charger):
    site_gateway(gateway)
    wait_site_up(csms)
    cps = connect(charger, ids=("CP02",))
    cp2 = cps["CP02"]
    before = mark(csms)
    cp2.status("Preparing", 1)
    tx16 = cp2.call("StartTransaction", {"connectorId": 1, "idTag": "SIMTAG0001", "meterStart": 0,
                                         "timestamp": ocpp_sim.now_iso()})["transactionId"]
    wait_until(lambda: events(csms, before), what="the Started event")
    [tx] = events(csms, before)
    profile = {"id": 55, "stackLevel": 1, "chargingProfilePurpose": "TxProfile",
               "chargingProfileKind": "Absolute", "transactionId": tx,
               "chargingSchedule": [{"id": 5, "startSchedule": "2020-01-01T00:00:00Z", "chargingRateUnit": "A",
                                     "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.37,
                                                                 "numberPhases": 3}]}]}
    assert csms.call(SITE, "SetChargingProfile", {"evseId": 2, "chargingProfile": profile}) == \
        {"status": "Accepted"}
    [got] = [p for p in received(cp2, "SetChargingProfile") if p["csChargingProfiles"]["chargingProfileId"] == 55]
    assert got == {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 55, "stackLevel": 1, "chargingProfilePurpose": "TxProfile",
        "chargingProfileKind": "Absolute", "transactionId": tx16,
        "chargingSchedule": {"startSchedule": "2020-01-01T00:00:00Z", "chargingRateUnit": "A",
                             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 10.3, "numberPhases": 3}]}}}
    # a TxProfile for a transaction the site does not know is refused
    other = dict(profile, transactionId="not-a-transaction")
    assert csms.call(SITE, "SetChargingProfile", {"evseId": 2, "chargingProfile": other}) == \
        {"status": "Rejected"}
    assert csms.call(SITE, "ClearChargingProfile", {"chargingProfileId": 55}) == {"status": "Accepted"}
    assert {"id": 55} in received(cp2, "ClearChargingProfile")
    cp2.on("GetCompositeSchedule", lambda ctx: {
        "status": "Accepted", "connectorId": 1, "scheduleStart": "2030-01-01T00:00:00Z",
        "chargingSchedule": {"chargingRateUnit": "A", "duration": 600,
                             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 12.0}]}})
    r = csms.call(SITE, "GetCompositeSchedule", {"evseId": 2, "duration": 600})
    assert received(cp2, "GetCompositeSchedule") == [{"connectorId": 1, "duration": 600}]
    assert r == {"status": "Accepted", "schedule": {
        "evseId": 2, "duration": 600, "scheduleStart": "2030-01-01T00:00:00Z", "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 12.0}]}}
    ocpp_sim.assert_no_violations(csms, cp2)


def test_unmappable_requests_get_honest_answers(csms, gateway, charger):
    gw = site_gateway(gateway)
    wait_site_up(csms)
    cps = connect(charger)
    r = reply(csms, "UpdateFirmware", {"requestId": 1, "firmware": {
        "location": "http://127.0.0.1/fw.bin", "retrieveDateTime": ocpp_sim.now_iso()}})
    assert not r.ok and r.error_code == "NotSupported"
    r = reply(csms, "GetLog", {"logType": "DiagnosticsLog", "requestId": 2,
                               "log": {"remoteLocation": "ftp://127.0.0.1/log"}})
    assert not r.ok and r.error_code == "NotSupported"
    assert csms.call(SITE, "GetReport", {"requestId": 3}) == {"status": "NotSupported"}
    assert csms.call(SITE, "TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"}) == \
        {"status": "NotImplemented"}
    # an idToken a 1.6 charger cannot hold (more than 20 characters)
    assert csms.call(SITE, "RequestStartTransaction", {
        "evseId": 1, "remoteStartId": 1, "idToken": {"idToken": "X" * 25, "type": "Central"}}) == \
        {"status": "Rejected"}
    assert received(cps["CP01"], "RemoteStartTransaction") == []
    # a 1.6 charger is reset as a whole, never one of its EVSEs
    assert csms.call(SITE, "Reset", {"type": "Immediate", "evseId": 1}) == {"status": "Rejected"}
    assert csms.call(SITE, "Reset", {"type": "Immediate"}) == {"status": "Rejected"}
    assert all(received(cp, "Reset") == [] for cp in cps.values())
    external = {"id": 9, "stackLevel": 0, "chargingProfilePurpose": "ChargingStationExternalConstraints",
                "chargingProfileKind": "Absolute",
                "chargingSchedule": [{"id": 9, "chargingRateUnit": "W",
                                      "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 1000}]}]}
    assert csms.call(SITE, "SetChargingProfile", {"evseId": 0, "chargingProfile": external}) == \
        {"status": "Rejected"}
    assert csms.call(SITE, "UnlockConnector", {"evseId": 9, "connectorId": 1}) == \
        {"status": "UnknownConnector"}
    assert gw.find_log(r"info proxy: CSMS's UpdateFirmware not carried by the site")
    ocpp_sim.assert_no_violations(csms, *cps.values())


def test_charger_frames_that_cannot_be_mapped_get_callerrors(csms, gateway, charger):
    site_gateway(gateway)
    wait_site_up(csms)
    cps = connect(charger, ids=("CP01", "CP03"))
    cp1, cp3 = cps["CP01"], cps["CP03"]
    before = mark(csms)
    now = ocpp_sim.now_iso()
    bad = [
        (cp3, "TransactionEvent", {"eventType": "Started", "timestamp": now, "triggerReason": "Authorized",
                                   "seqNo": 0}, "FormatViolation"),
        (cp3, "TransactionEvent", {"eventType": "Started", "timestamp": now, "triggerReason": "Authorized",
                                   "seqNo": 0, "transactionInfo": {"transactionId": 5}},
         "PropertyConstraintViolation"),
        (cp3, "Get15118EVCertificate", {"iso15118SchemaVersion": "x", "action": "Install", "exiRequest": "x"},
         "NotSupported"),
        (cp1, "StartTransaction", {"connectorId": 1, "meterStart": 0, "timestamp": now},
         "PropertyConstraintViolation"),
        (cp1, "MeterValues", {"connectorId": 1, "meterValue": "lots"}, "PropertyConstraintViolation"),
        (cp1, "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Dozing"},
         "PropertyConstraintViolation"),
    ]
    for cp, action, payload, code in bad:
        r = cp.call_reply(action, payload)
        assert not r.ok and r.error_code == code, (action, payload, r.kind, r.error_code)
    # a 2.0.1 charger's notifications about itself stay at the gateway
    assert cp3.call("NotifyEvent", {"generatedAt": now, "seqNo": 0, "eventData": [{
        "eventId": 1, "timestamp": now, "trigger": "Alerting", "actualValue": "x",
        "eventNotificationType": "HardWiredNotification", "component": {"name": "Connector"},
        "variable": {"name": "Problem"}}]}) == {}
    assert not calls(csms, after=before), "nothing of it reached the CSMS"
    # and both still charge
    cp1.session(connector_id=1, meter_values=1)
    cp3.session(connector_id=1, meter_values=1)
    wait_until(lambda: len([evs for evs in events(csms, before).values() if evs[-1]["eventType"] == "Ended"]) == 2,
               what="both sessions")
    ocpp_sim.assert_no_violations(csms)


# --- a 1.6 site, a 2.0.1 charger behind it -------------------------------------------------

def test_16_site_with_a_201_charger(csms, gateway, charger):
    site_gateway(gateway, version="1.6")
    csms.wait_connected(SITE)
    cps = connect(charger, ids=("CP01", "CP03"))
    cp3 = cps["CP03"]

    def statuses(after=0):
        return [f.payload["status"] for f in calls(csms, "StatusNotification", after)
                if f.payload["connectorId"] == 3]
    wait_until(lambda: statuses()[-1:] == ["Available"], what="connector 3 Available")
    before = mark(csms)
    result = cp3.session(connector_id=1, meter_values=2)
    wait_until(lambda: calls(csms, "StopTransaction", before), what="the stop upstream")
    tx_calls = [f for f in calls(csms, after=before)
                if f.action in ("StartTransaction", "MeterValues", "StopTransaction")]
    assert [f.action for f in tx_calls] == ["StartTransaction", "MeterValues", "MeterValues", "StopTransaction"]
    start, mv1, mv2, stop = tx_calls
    tx = answer_of(csms, start)["transactionId"]
    assert start.payload["connectorId"] == 3 and start.payload["idTag"] == "SIMTAG0001"
    assert [mv1.payload["connectorId"], mv2.payload["connectorId"]] == [3, 3]
    assert mv1.payload["transactionId"] == mv2.payload["transactionId"] == stop.payload["transactionId"] == tx
    assert stop.payload["reason"] == "Local" and stop.payload["meterStop"] == cp3.meter_wh
    assert statuses(before) == ["Preparing", "Charging", "Finishing", "Available"], statuses(before)
    assert result.transaction_id  # the charger's own string id stayed with it

    # the CSMS's 1.6 commands reach the 2.0.1 charger in 2.0.1
    r = csms.call(SITE, "RemoteStartTransaction", {"connectorId": 3, "idTag": "REMOTE-1"})
    assert r == {"status": "Accepted"}
    [req] = received(cp3, "RequestStartTransaction")
    assert req["evseId"] == 1 and req["idToken"] == {"idToken": "REMOTE-1", "type": "Central"}
    before = mark(csms)
    cp3.call("TransactionEvent", {
        "eventType": "Started", "timestamp": ocpp_sim.now_iso(), "triggerReason": "RemoteStart", "seqNo": 0,
        "transactionInfo": {"transactionId": "tx-remote", "chargingState": "Charging",
                            "remoteStartId": req["remoteStartId"]},
        "idToken": {"idToken": "REMOTE-1", "type": "Central"}, "evse": {"id": 1, "connectorId": 1}})
    wait_until(lambda: calls(csms, "StartTransaction", before), what="the remote start upstream")
    tx = answer_of(csms, calls(csms, "StartTransaction", before)[0])["transactionId"]
    assert csms.call(SITE, "RemoteStopTransaction", {"transactionId": tx}) == {"status": "Accepted"}
    assert received(cp3, "RequestStopTransaction") == [{"transactionId": "tx-remote"}]
    profile = {"chargingProfileId": 56, "stackLevel": 1, "chargingProfilePurpose": "TxProfile",
               "chargingProfileKind": "Absolute", "transactionId": tx,
               "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [
                   {"startPeriod": 0, "limit": 16.0}]}}
    assert csms.call(SITE, "SetChargingProfile", {"connectorId": 3, "csChargingProfiles": profile}) == \
        {"status": "Accepted"}
    [got] = [p for p in received(cp3, "SetChargingProfile") if p["chargingProfile"]["id"] == 56]
    assert got == {"evseId": 1, "chargingProfile": {
        "id": 56, "stackLevel": 1, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Absolute",
        "transactionId": "tx-remote", "chargingSchedule": [{"id": 56, "chargingRateUnit": "A",
                                                             "chargingSchedulePeriod": [{"startPeriod": 0,
                                                                                         "limit": 16.0}]}]}}
    assert csms.call(SITE, "UnlockConnector", {"connectorId": 3}) == {"status": "Unlocked"}
    assert received(cp3, "UnlockConnector") == [{"evseId": 1, "connectorId": 1}]
    assert csms.call(SITE, "ChangeAvailability", {"connectorId": 3, "type": "Inoperative"}) == \
        {"status": "Accepted"}
    assert received(cp3, "ChangeAvailability") == [{"operationalStatus": "Inoperative", "evse": {"id": 1}}]
    ocpp_sim.assert_no_violations(csms, *cps.values())
