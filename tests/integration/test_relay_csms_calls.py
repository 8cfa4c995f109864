"""Issue 2, relay: CALLs the CSMS sends (RemoteStartTransaction, RequestStartTransaction,
Reset, ...) reach the right charger unchanged, and its answers (CALLRESULT or
CALLERROR) come back to the CSMS unchanged."""

import ocpp_sim
from ocpp_sim import from_csms, texts, to_csms


def connect_all(csms, charger, specs):
    chargers = {}
    for cid, version in specs:
        cp = charger(cid, version)
        cp.boot()                 # the upstream socket is up once Boot was answered
        csms.wait_connected(cid)
        chargers[cid] = cp
    return chargers


def calls_received(cp, csms):
    """The CSMS's CALLs as the charger got them (not the gateway's own)."""
    return [f for f in from_csms(cp, csms) if f.type == 2]


def answers_sent(cp, csms):
    """The charger's answers to the CSMS's CALLs."""
    return [f for f in to_csms(cp, csms) if f.type in (3, 4)]


def test_csms_calls_reach_the_right_charger(csms, gateway, charger):
    gateway(chargers=["CP01", "CP02", "CP03"])
    cps = connect_all(csms, charger, [("CP01", "1.6"), ("CP02", "2.0.1"), ("CP03", "1.6")])

    r = csms.call("CP01", "RemoteStartTransaction", {"connectorId": 1, "idTag": "REMOTE01"})
    assert r == {"status": "Accepted"}
    r = csms.call("CP02", "RequestStartTransaction",
                  {"evseId": 1, "remoteStartId": 42, "idToken": {"idToken": "REMOTE02", "type": "Central"}})
    assert r["status"] == "Accepted"
    assert csms.call("CP03", "Reset", {"type": "Soft"}) == {"status": "Accepted"}
    assert csms.call("CP02", "Reset", {"type": "OnIdle"}) == {"status": "Accepted"}

    got = {cid: [(f.action, f.payload) for f in calls_received(cp, csms)] for cid, cp in cps.items()}
    assert got["CP01"] == [("RemoteStartTransaction", {"connectorId": 1, "idTag": "REMOTE01"})]
    assert got["CP02"] == [
        ("RequestStartTransaction",
         {"evseId": 1, "remoteStartId": 42, "idToken": {"idToken": "REMOTE02", "type": "Central"}}),
        ("Reset", {"type": "OnIdle"})]
    assert got["CP03"] == [("Reset", {"type": "Soft"})]

    # byte for byte, both ways
    for cid, cp in cps.items():
        csms_calls = [f.text for f in csms.sent(cid, types=2)]
        assert texts(calls_received(cp, csms)) == csms_calls
        assert texts(csms.received(cid, types=(3, 4))) == texts(answers_sent(cp, csms))
    ocpp_sim.assert_no_violations(csms, *cps.values())


def test_charger_answers_come_back_as_given(csms, gateway, charger):
    gateway(chargers=["CP01", "CP02"])
    cps = connect_all(csms, charger, [("CP01", "1.6"), ("CP02", "2.0.1")])
    cp1, cp2 = cps["CP01"], cps["CP02"]

    cp1.on("Reset", {"status": "Rejected"})
    assert csms.call("CP01", "Reset", {"type": "Hard"}) == {"status": "Rejected"}
    cp1.on("RemoteStopTransaction", ocpp_sim.CallError("NotSupported", "not here", {"why": "sim"}))
    reply = csms.call_reply("CP01", "RemoteStopTransaction", {"transactionId": 7})
    assert (reply.kind, reply.error_code, reply.error_description, reply.payload) == \
        ("error", "NotSupported", "not here", {"why": "sim"})
    cp2.on("RequestStopTransaction", ocpp_sim.CallError("InternalError", "boom"))
    reply = csms.call_reply("CP02", "RequestStopTransaction", {"transactionId": "tx-1"})
    assert (reply.kind, reply.error_code) == ("error", "InternalError")
    cp2.on("Reset", {"status": "Scheduled"})
    assert csms.call("CP02", "Reset", {"type": "OnIdle", "evseId": 1}) == {"status": "Scheduled"}

    # a charger that answers late (after other traffic) still gets its answer home
    release = []

    async def slow_answer(ctx):
        await cp1.aio.wait_for(lambda: release, timeout=10, what="the test's go")
        return {"status": "Accepted"}
    cp1.on("ChangeAvailability", slow_answer)
    pending = csms.spawn.call("CP01", "ChangeAvailability", {"connectorId": 0, "type": "Inoperative"})
    cp1.wait_call("ChangeAvailability")
    cp1.heartbeat()  # charger-to-CSMS traffic while the CSMS's CALL waits
    release.append(True)
    assert pending.result(10) == {"status": "Accepted"}

    for cid, cp in cps.items():
        assert texts(csms.received(cid, types=(3, 4))) == texts(answers_sent(cp, csms))
    ocpp_sim.assert_no_violations(csms, cp1, cp2)
