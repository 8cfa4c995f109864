"""The simulators against each other, without the gateway: they must speak valid
OCPP, and their schema checks must catch what is invalid (so that a relay test
passing means something)."""

import json

import pytest

import ocpp_schema
import ocpp_sim
from ocpp_answers import minimal_instance


def test_schemas_are_installed():
    for version in ocpp_schema.VERSIONS:
        table = ocpp_schema.load(version)  # raises SchemasMissing naming tests/setup.sh
        assert "BootNotification.req" in table and "BootNotification.conf" in table
    assert len(ocpp_schema.actions("1.6")) >= 28
    assert len(ocpp_schema.actions("2.0.1")) >= 60


def test_missing_schemas_fail_loudly(monkeypatch, tmp_path):
    monkeypatch.setenv("SITEGATE_OCPP_SCHEMAS", str(tmp_path))
    monkeypatch.setattr(ocpp_schema, "_cache", {})
    with pytest.raises(ocpp_schema.SchemasMissing, match="tests/setup.sh"):
        ocpp_sim.SimCsms(port=0)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_full_sessions_pass_validation(sims, version):
    csms = sims.csms()
    cp = sims.charger(csms.url, "CP01", version)
    first = cp.session(ev_needs=version == "2.0.1")
    second = cp.session(meter_values=3)
    assert cp.booted
    got = csms.wait_received("CP01", count=len(first.sent) + len(second.sent), types=2)
    assert ocpp_sim.texts(got) == ocpp_sim.texts(first.sent + second.sent)
    if version == "1.6":
        assert isinstance(first.transaction_id, int)
        assert second.transaction_id == first.transaction_id + 1
    # the answers the charger got are the CSMS's frames, in order
    assert ocpp_sim.texts(cp.received()) == ocpp_sim.texts(csms.sent("CP01"))
    ocpp_sim.assert_no_violations(csms, cp)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_every_default_answer_is_valid(sims, version):
    """Each side answers every action it may receive with a schema-valid payload."""
    csms = sims.csms()
    cp = sims.charger(csms.url, "CP01", version)
    for action in ocpp_schema.responder_actions(version, "charger"):
        payload = minimal_instance(ocpp_schema.schema(version, action, "req"))
        reply = csms.call_reply("CP01", action, payload)
        assert reply.ok, f"{action}: {reply.error_code} {reply.error_description}"
    for action in ocpp_schema.responder_actions(version, "csms"):
        payload = minimal_instance(ocpp_schema.schema(version, action, "req"))
        reply = cp.call_reply(action, payload)
        assert reply.ok, f"{action}: {reply.error_code} {reply.error_description}"
    ocpp_sim.assert_no_violations(csms, cp)


def test_csms_commands_are_answered_and_recorded(sims):
    csms = sims.csms()
    cp16 = sims.charger(csms.url, "CP01", "1.6")
    cp201 = sims.charger(csms.url, "CP02", "2.0.1")
    assert csms.call("CP01", "RemoteStartTransaction", {"idTag": "T1", "connectorId": 1}) == \
        {"status": "Accepted"}
    r = csms.call("CP02", "RequestStartTransaction", {"idToken": {"idToken": "T1", "type": "ISO14443"},
                                                       "remoteStartId": 7})
    assert r["status"] == "Accepted"
    profile = {"connectorId": 0, "csChargingProfiles": {
        "chargingProfileId": 1, "stackLevel": 5, "chargingProfilePurpose": "ChargePointMaxProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": {
            "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.1}]}}}
    assert csms.call("CP01", "SetChargingProfile", profile) == {"status": "Accepted"}
    assert cp16.profiles[-1]["profile"]["chargingProfileId"] == 1
    assert csms.call("CP01", "ClearChargingProfile", {"id": 1}) == {"status": "Accepted"}
    assert csms.call("CP01", "ClearChargingProfile", {"id": 1}) == {"status": "Unknown"}
    conf = csms.call("CP01", "GetConfiguration", {"key": ["ChargeProfileMaxStackLevel", "Nope"]})
    assert conf["configurationKey"][0]["value"] == "10" and conf["unknownKey"] == ["Nope"]
    v = csms.call("CP02", "GetVariables", {"getVariableData": [
        {"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": "RateUnit"}}]})
    assert v["getVariableResult"][0]["attributeValue"] == "A,W"
    # TriggerMessage: answered, then the requested message is sent
    csms.call("CP01", "TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 1})
    csms.wait_received("CP01", action="StatusNotification", types=2)
    # overrides: fixed payload, CALLERROR, function, no answer
    cp16.on("Reset", {"status": "Rejected"})
    assert csms.call("CP01", "Reset", {"type": "Soft"}) == {"status": "Rejected"}
    cp16.on("Reset", ocpp_sim.CallError("NotSupported", "no"))
    assert csms.call_reply("CP01", "Reset", {"type": "Soft"}).error_code == "NotSupported"
    cp16.on("Reset", lambda ctx: {"status": "Accepted" if ctx.payload["type"] == "Hard" else "Rejected"})
    assert csms.call("CP01", "Reset", {"type": "Hard"}) == {"status": "Accepted"}
    cp16.on("Reset", ocpp_sim.NO_ANSWER)
    with pytest.raises(ocpp_sim.CallTimeout):
        csms.call("CP01", "Reset", {"type": "Hard"}, timeout=0.3)
    ocpp_sim.assert_no_violations(csms, cp16, cp201)


def test_invalid_payloads_are_flagged(sims):
    """Validation cannot silently pass: each kind of bad frame is reported."""
    sims.check_violations = False
    csms = sims.csms()
    cp = sims.charger(csms.url, "CP01", "1.6")
    # a CALL missing a required field
    cp.call_reply("BootNotification", {"chargePointVendor": "V"})
    # a decimal limit that is not a multiple of 0.1 (and one that is: not flagged)
    cp.on("SetChargingProfile", {"status": "Accepted"})
    for limit in (7.35, 16.1):
        csms.call("CP01", "SetChargingProfile", {"connectorId": 0, "csChargingProfiles": {
            "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "ChargePointMaxProfile",
            "chargingProfileKind": "Absolute", "chargingSchedule": {
                "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]}}})
    # an answer that breaks the response schema
    csms.on("Heartbeat", {"currentTime": "yesterday"})
    cp.call_reply("Heartbeat", {})
    csms.on("Authorize", {"idTagInfo": {"status": "Maybe"}})
    cp.call_reply("Authorize", {"idTag": "T"})
    # a broken envelope, an unknown action, a wrong direction, an unsolicited answer
    cp.send_raw('[2,"x1","Heartbeat"]')
    cp.send_raw('[2,"x2","NoSuchAction",{}]')
    cp.send_raw('[2,"x3","RemoteStartTransaction",{"idTag":"T"}]')
    cp.send_raw('[3,"never-sent",{}]')
    cp.send_raw('not json')
    cp.send_raw('[2,"x4","Heartbeat",{"a":NaN}]')
    cp.send_bytes(b'[2,"x5","Heartbeat",{}]')
    cp.call("Heartbeat", {})  # everything before it has arrived
    kinds = {}
    for v in csms.aio.violations + cp.aio.violations:
        kinds.setdefault(v.kind, []).append(v.message)
    flat = json.dumps(kinds)
    assert "chargePointModel" in flat                       # required field
    assert "7.35" in flat and "16.1" not in flat            # multipleOf, decimal-exact
    assert "yesterday" in flat or "date-time" in flat      # format of a response
    assert "Maybe" in flat                                  # enum of a response
    assert "needs 4 elements" in flat                       # envelope
    assert "NoSuchAction" in flat                           # unknown action
    assert "not sent by a charger" in flat                  # direction
    assert "never-sent" in flat or "answers no CALL" in flat
    assert "not JSON" in flat and "NaN" in flat             # JSON, strict
    assert "binary" in kinds
    assert set(kinds) >= {"schema", "envelope", "direction", "unmatched", "json", "binary"}


def test_refusals_stop_restart_and_close_codes(sims):
    csms = sims.csms(passwords={"CP09": "s3cret"})
    with pytest.raises(Exception) as e:
        sims.charger(csms.url, "CP09", "1.6")
    assert getattr(e.value, "status_code", None) == 401
    ok = sims.charger(csms.url, "CP09", "1.6", password="s3cret")
    ev = csms.connect_events("CP09")[-1]
    assert ev.authorization == ocpp_sim.basic_auth("CP09", "s3cret")
    refused = csms.connect_events("CP09", kind="refused")
    assert refused and refused[0].status == 401 and refused[0].authorization is None
    # stop: every socket is closed with 1001; the port refuses connections
    csms.stop()
    assert ok.wait_closed() == 1001
    with pytest.raises(OSError):
        sims.charger(csms.url, "CP10", "1.6")
    # restart on the same port
    csms.start()
    again = sims.charger(csms.url, "CP09", "2.0.1", password="s3cret")
    assert again.subprotocol == "ocpp2.0.1"
    again.heartbeat()
    assert csms.wait_disconnected("CP09", count=1) == 1001
    assert len(csms.connections["CP09"]) == 2
    # an abrupt stop: no close frame
    csms.stop(abrupt=True)
    assert again.wait_closed() == 1006
    csms.start()
    # the CSMS closing one charger with a code
    third = sims.charger(csms.url, "CP09", "1.6", password="s3cret")
    csms.disconnect("CP09", code=4001, reason="bye")
    assert third.wait_closed() == 4001
    ocpp_sim.assert_no_violations(csms, ok, again, third)
