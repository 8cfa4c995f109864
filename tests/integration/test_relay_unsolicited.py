"""Issue 2, relay: a CALLRESULT/CALLERROR that answers no pending CALL is dropped,
in both directions: never delivered, in particular never to the wrong charger.

Each check ends with a barrier: a CALL sent after the unsolicited frames over the
same link. The relay keeps order, so once the barrier has arrived, a frame that
was going to be (wrongly) forwarded would have arrived before it."""

import pytest

import ocpp_sim
from ocpp_sim import from_csms


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_unsolicited_answers_from_the_csms_never_reach_the_charger(csms, gateway, charger, version):
    gateway(chargers=["CP01"])
    cp = charger("CP01", version)
    cp.heartbeat()
    answered_id = cp.sent()[-1].id
    csms.send_raw("CP01", '[3,"nope",{}]')
    csms.send_raw("CP01", '[4,"nope-2","GenericError","unsolicited",{}]')
    # a second answer to a CALL that was already answered
    csms.send_raw("CP01", f'[3,"{answered_id}",{{"currentTime":"2024-01-01T00:00:00Z"}}]')
    csms.send_raw("CP01", f'[4,"{answered_id}","InternalError","again",{{}}]')
    reset = {"type": "Soft"} if version == "1.6" else {"type": "OnIdle"}
    assert csms.call("CP01", "Reset", reset)["status"] == "Accepted"   # the barrier
    got = from_csms(cp, csms)      # (not the gateway's own CALLs, if it sends any)
    assert [(f.type, f.action) for f in got] == [(3, "Heartbeat"), (2, "Reset")], \
        [f.text for f in got]
    assert [f.action for f in cp.received(types=(3, 4))] == ["Heartbeat"]
    ocpp_sim.assert_no_violations(csms, cp)


def test_an_answer_for_one_charger_never_reaches_another(csms, gateway, charger):
    gateway(chargers=["CP01", "CP02"])
    cp1 = charger("CP01", "1.6")
    cp2 = charger("CP02", "1.6")
    cp1.boot()
    cp2.boot()
    # CP02 has a CALL pending at the CSMS, which holds its answer back
    csms.on("DataTransfer", ocpp_sim.NO_ANSWER, charger_id="CP02")
    cp2.send_json([2, "pending-on-cp02", "DataTransfer", {"vendorId": "V", "data": "x"}])
    csms.wait_received("CP02", action="DataTransfer")
    # the CSMS sends that answer down CP01's link: it answers nothing CP01 asked
    csms.send_raw("CP01", '[3,"pending-on-cp02",{"status":"Accepted","data":"wrong link"}]')
    csms.call("CP01", "Reset", {"type": "Soft"})       # barrier on CP01's link
    assert [f.type for f in from_csms(cp1, csms)] == [3, 2]   # Boot answer, Reset
    assert [f.action for f in cp1.received(types=(3, 4))] == ["BootNotification"]
    # then the right answer on the right link
    csms.send_raw("CP02", '[3,"pending-on-cp02",{"status":"Accepted","data":"right link"}]')
    reply = cp2.wait_reply("pending-on-cp02")
    assert reply.payload["data"] == "right link"
    csms.call("CP02", "Reset", {"type": "Soft"})       # barrier on CP02's link
    assert [f.payload.get("data") for f in cp2.received(action="DataTransfer")] == ["right link"]
    ocpp_sim.assert_no_violations(csms, cp1, cp2)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_unsolicited_answers_from_a_charger_never_reach_the_csms(csms, gateway, charger, version):
    gateway(chargers=["CP01"])
    cp = charger("CP01", version)
    cp.heartbeat()
    cp.send_raw('[3,"nope",{}]')
    cp.send_raw('[4,"nope-2","GenericError","unsolicited",{}]')
    # answer a CSMS CALL twice: the second answer has nothing to answer any more
    cp.on("Reset", lambda ctx: (ctx.after(lambda: ctx.peer.send_raw(
        f'[3,"{ctx.message_id}",{{"status":"Rejected"}}]')), {"status": "Accepted"})[1])
    reset = {"type": "Soft"} if version == "1.6" else {"type": "OnIdle"}
    assert csms.call("CP01", "Reset", reset) == {"status": "Accepted"}
    cp.wait_for(lambda: len(cp.aio.sent(types=3)) >= 2, what="the second answer to be sent")
    cp.heartbeat()                                    # the barrier
    got = csms.received("CP01")
    assert [(f.type, f.action) for f in got] == [(2, "Heartbeat"), (3, "Reset"), (2, "Heartbeat")], \
        [f.text for f in got]
    ocpp_sim.assert_no_violations(csms, cp)
