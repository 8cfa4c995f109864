"""Issue 2, relay: malformed frames from a charger are never forwarded; a CALL-like
message whose id can be read gets the CALLERROR OCPP-J names; a frame over
limits.max_frame_bytes closes the charger's socket with 1009.

Expected answers follow the table in proxy/frame.c (OCPP-J 1.6 section 4.2.3 and
Table 7; OCPP 2.0.1 part 4 sections 4.2.3, 4.3 and 4.4):

    fault          1.6                    2.0.1
    bad JSON       FormationViolation     FormatViolation (id read) / RpcFrameworkError "-1"
    not an array   -                      RpcFrameworkError "-1"
    bad type       FormationViolation     RpcFrameworkError
    unknown type   GenericError           MessageTypeNotSupported
    bad id         - (no answer)          RpcFrameworkError "-1"
    structure      FormationViolation     RpcFrameworkError
A broken CALLRESULT/CALLERROR is dropped without an answer.
"""

import pytest

import ocpp_sim
from ocpp_sim import from_csms, texts

DEEP = '[2,"m-deep","Heartbeat",' + '{"a":' * 200 + "1" + "}" * 200 + "]"

# text, 1.6 answer, 2.0.1 answer: (errorCode, message id) or None for no answer
CASES = [
    ('[2,"m-trunc","Heartbeat",{', ("FormationViolation", "m-trunc"), ("FormatViolation", "m-trunc")),
    ('[2,"m-trail","Heartbeat",{}] x', ("FormationViolation", "m-trail"), ("FormatViolation", "m-trail")),
    ('[2,"m-nan","Heartbeat",{"a":NaN}]', ("FormationViolation", "m-nan"), ("FormatViolation", "m-nan")),
    ('[2,"m-comma","Heartbeat",{},]', ("FormationViolation", "m-comma"), ("FormatViolation", "m-comma")),
    (DEEP, ("FormationViolation", "m-deep"), ("FormatViolation", "m-deep")),
    ("this is not JSON", None, ("RpcFrameworkError", "-1")),
    ('{"not":"an array"}', None, ("RpcFrameworkError", "-1")),
    ('"just a string"', None, ("RpcFrameworkError", "-1")),
    ("[]", None, ("RpcFrameworkError", "-1")),
    ('["2","m-strtype","Heartbeat",{}]', ("FormationViolation", "m-strtype"),
     ("RpcFrameworkError", "m-strtype")),
    ('[2.5,"m-floattype","Heartbeat",{}]', ("FormationViolation", "m-floattype"),
     ("RpcFrameworkError", "m-floattype")),
    ('[7,"m-type7",{}]', ("GenericError", "m-type7"), ("MessageTypeNotSupported", "m-type7")),
    ('[5,"m-type5","Heartbeat",{}]', ("GenericError", "m-type5"), ("MessageTypeNotSupported", "m-type5")),
    ('[2,123,"Heartbeat",{}]', None, ("RpcFrameworkError", "-1")),
    ('[2,"","Heartbeat",{}]', None, ("RpcFrameworkError", "-1")),
    ('[2,"' + "i" * 37 + '","Heartbeat",{}]', None, ("RpcFrameworkError", "-1")),
    ('[2,"m-nopayload","Heartbeat"]', ("FormationViolation", "m-nopayload"),
     ("RpcFrameworkError", "m-nopayload")),
    ('[2,"m-arraypayload","Heartbeat",[]]', ("FormationViolation", "m-arraypayload"),
     ("RpcFrameworkError", "m-arraypayload")),
    ('[2,"m-nullpayload","Heartbeat",null]', ("FormationViolation", "m-nullpayload"),
     ("RpcFrameworkError", "m-nullpayload")),
    ('[2,"m-numaction",42,{}]', ("FormationViolation", "m-numaction"),
     ("RpcFrameworkError", "m-numaction")),
    ('[2,"m-extra","Heartbeat",{},1]', ("FormationViolation", "m-extra"), ("RpcFrameworkError", "m-extra")),
]

DROPPED = [
    '[3,"r-short"]',
    '[3,"r-array",[]]',
    '[3,"r-trunc",{',
    '[3,"r-extra",{},{}]',
    '[4,"e-short","GenericError"]',
    '[4,"e-code",1,"d",{}]',
    '[4,"e-details","GenericError","d",[]]',
]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_malformed_frames_get_the_right_callerror_and_go_nowhere(csms, gateway, charger, version):
    gw = gateway(chargers=["CP01"])
    cp = charger("CP01", version)
    cp.heartbeat()
    barriers = texts(cp.sent(action="Heartbeat", types=2))
    for n, (text, answer16, answer201) in enumerate(CASES):
        expected = answer16 if version == "1.6" else answer201
        before = len(cp.received())
        cp.send_raw(text)
        # A valid CALL after it: when its answer (from the CSMS) is back, the
        # gateway has long dealt with the malformed one.
        barrier = cp.send_json([2, f"barrier-{n}", "Heartbeat", {}])
        barriers.append(barrier.text)
        assert cp.wait_reply(f"barrier-{n}").ok
        # (CALLs the gateway itself sends the charger are none of this test's business)
        new = [f for f in cp.received()[before:] if f.id != f"barrier-{n}" and f.type != 2]
        if expected is None:
            assert new == [], f"{text!r}: no answer expected, got {[f.text for f in new]}"
        else:
            code, mid = expected
            assert len(new) == 1, f"{text[:60]!r}: expected one CALLERROR, got {[f.text for f in new]}"
            msg = new[0].msg
            assert msg is not None and msg[0] == 4, f"{text[:60]!r}: not a CALLERROR: {new[0].text}"
            assert (msg[1], msg[2]) == (mid, code), f"{text[:60]!r}: got {new[0].text}"
            assert isinstance(msg[3], str) and msg[4] == {}, new[0].text
    assert texts(csms.received("CP01")) == barriers, "a malformed frame reached the CSMS"
    assert cp.connected
    gw.wait_log(r"^warn proxy: .*CP01")         # counted and logged
    ocpp_sim.assert_no_violations(csms, cp)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_broken_answers_are_dropped_silently(csms, gateway, charger, version):
    gateway(chargers=["CP01"])
    cp = charger("CP01", version)
    cp.heartbeat()
    for text in DROPPED:
        cp.send_raw(text)
    cp.heartbeat()
    assert [f.action for f in cp.received(types=(3, 4))] == ["Heartbeat", "Heartbeat"]
    assert [f.action for f in from_csms(cp, csms)] == ["Heartbeat", "Heartbeat"]
    assert [f.action for f in csms.received("CP01")] == ["Heartbeat", "Heartbeat"]
    ocpp_sim.assert_no_violations(csms, cp)


def data_transfer_of_size(mid, size, version):
    """A DataTransfer CALL of exactly `size` bytes (ASCII)."""
    head = f'[2,"{mid}","DataTransfer",{{"vendorId":"sitegate.test","data":"'
    tail = '"}]'
    return head + "x" * (size - len(head) - len(tail)) + tail


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_oversized_frame_closes_with_1009(csms, gateway, charger, version):
    gateway(chargers=["CP01"])                  # limits.max_frame_bytes: 65536
    csms.on("DataTransfer", {"status": "Accepted"})
    cp = charger("CP01", version)
    cp.heartbeat()
    at_limit = data_transfer_of_size("big-ok", 65536, version)
    assert len(at_limit.encode()) == 65536
    cp.send_raw(at_limit)
    assert cp.wait_reply("big-ok").ok, "a frame of exactly max_frame_bytes must pass"
    assert csms.received("CP01")[-1].text == at_limit
    over = data_transfer_of_size("big-over", 65537, version)
    cp.send_raw(over)
    assert cp.wait_closed() == 1009
    assert all(f.id != "big-over" for f in csms.received("CP01"))
    csms.wait_disconnected("CP01")              # the charger is gone, so is its upstream
    ocpp_sim.assert_no_violations(csms, cp)


def test_smaller_configured_limit(csms, gateway, charger):
    gateway(chargers=["CP01", "CP02"], limits={"max_frame_bytes": 2048})
    csms.on("DataTransfer", {"status": "Accepted"})
    cp = charger("CP01", "1.6")
    other = charger("CP02", "2.0.1")
    cp.send_raw(data_transfer_of_size("small-ok", 2048, "1.6"))
    assert cp.wait_reply("small-ok").ok
    cp.send_raw(data_transfer_of_size("small-over", 2049, "1.6"))
    assert cp.wait_closed() == 1009
    other.heartbeat()                           # the others are not affected
    assert other.connected
    ocpp_sim.assert_no_violations(csms, cp, other)
