"""Issue 2, relay: whole sessions arrive at the CSMS unchanged and in order, and
the CSMS's answers reach the charger unchanged and in order, in both versions."""

import pytest

import ocpp_sim
from ocpp_sim import from_csms, texts, to_csms


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_full_session_arrives_unchanged_and_in_order(csms, gateway, charger, version):
    gateway(chargers=["CP01"])
    cp = charger("CP01", version)
    first = cp.session(meter_values=3, ev_needs=version == "2.0.1")
    second = cp.session(meter_values=1)

    sent = to_csms(cp, csms)
    got = csms.wait_received("CP01", count=len(sent))
    assert texts(got) == texts(sent), "the CSMS must get the charger's frames byte for byte, in order"
    if version == "1.6":
        assert [f.action for f in first.sent] == [
            "BootNotification", "StatusNotification", "StatusNotification", "Authorize",
            "StartTransaction", "StatusNotification", "MeterValues", "MeterValues", "MeterValues",
            "StopTransaction", "StatusNotification", "StatusNotification"]
        assert second.transaction_id == first.transaction_id + 1
    else:
        assert [f.action for f in first.sent] == [
            "BootNotification", "StatusNotification", "StatusNotification", "Authorize",
            "TransactionEvent", "NotifyEVChargingNeeds", "TransactionEvent", "TransactionEvent",
            "TransactionEvent", "TransactionEvent", "StatusNotification"]
        events = [f.payload["eventType"] for f in got if f.action == "TransactionEvent"]
        assert events == ["Started", "Updated", "Updated", "Updated", "Ended", "Started", "Updated", "Ended"]

    # every answer the charger got is the CSMS's frame, unchanged, in order
    assert texts(from_csms(cp, csms)) == texts(csms.sent("CP01"))
    assert len(csms.sent("CP01")) == len(sent)

    # one upstream socket, with the charger's subprotocol
    [conn] = csms.connect_events("CP01")
    assert conn.subprotocol == cp.subprotocol == ocpp_sim.ocpp_schema.SUBPROTOCOL[version]
    assert conn.path == "/ocpp/CP01"
    ocpp_sim.assert_no_violations(csms, cp)


def test_two_chargers_two_versions_at_once(csms, gateway, charger, sims):
    gateway(chargers=["CP01", "CP02"])
    cp1 = charger("CP01", "1.6")
    cp2 = charger("CP02", "2.0.1")
    r1, r2 = sims.gather(cp1.aio.session(meter_values=5), cp2.aio.session(meter_values=5))
    for cp in (cp1, cp2):
        sent = to_csms(cp, csms)
        got = csms.wait_received(cp.charger_id, count=len(sent))
        assert texts(got) == texts(sent)
        assert texts(from_csms(cp, csms)) == texts(csms.sent(cp.charger_id))
    assert csms.connect_events("CP01")[0].subprotocol == "ocpp1.6"
    assert csms.connect_events("CP02")[0].subprotocol == "ocpp2.0.1"
    ocpp_sim.assert_no_violations(csms, cp1, cp2)


# Valid OCPP-J that a relay which re-serializes JSON would change: spacing,
# escapes, raw UTF-8 (two- to four-byte), number spellings, key order.
ODD_16 = [
    '[2, "odd-1" , "Heartbeat" , { } ]',
    '[ 2 ,\n"odd-2",\t"DataTransfer", {"vendorId":"com.example","messageId":"m",'
    '"data":"caf\u00e9 \\u00e9 \\"q\\" \\\\ \\/ \\n \u2615 \U0001F600"}]',
    '[2,"odd-3","DataTransfer",{"data":"z","vendorId":"V"}]',
    '[2,"odd-4","StatusNotification",{"status":"Available","errorCode":"NoError",'
    '"connectorId":1,"timestamp":"2024-01-02T03:04:05Z","info":"\u00fc\u00f1\u00ee"}]',
]
ODD_201 = [
    '[2, "odd-1" , "Heartbeat" , { } ]',
    '[2,"odd-2","DataTransfer",{"vendorId":"V","data":{"n":[1,2.50,-0,1E3,0.1e-2,-12345678901234567890],'
    '"s":"\\ud83d\\ude00\U0001F600","t":true,"f":false,"z":null,"o":{}}}]',
    '[2,"odd-3","DataTransfer",{"data":[ ],"vendorId":"V"}]',
]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_frames_are_relayed_byte_for_byte(csms, gateway, charger, version):
    gateway(chargers=["CP01"])
    cp = charger("CP01", version)
    cp.heartbeat()
    # the CSMS answers in its own odd spelling: it must arrive unchanged too
    csms.on("DataTransfer", lambda ctx: ocpp_sim.RawReply(
        f'[3 , "{ctx.message_id}",{{ "status" :"Accepted" , "data":"\u00e4\\u00e4 {ctx.message_id}"}}]'))
    odd = ODD_16 if version == "1.6" else ODD_201
    for text in odd:
        cp.send_raw(text)
    replies = [cp.wait_reply(f"odd-{i + 1}") for i in range(len(odd))]
    assert all(r.ok for r in replies)
    got = csms.wait_received("CP01", count=1 + len(odd))
    assert texts(got)[1:] == odd
    assert [r.frame.text for r in replies] == texts(csms.sent("CP01"))[1:]

    # and the other way: a CSMS CALL in an odd spelling, and the charger's answer
    cp.on("DataTransfer", lambda ctx: ocpp_sim.RawReply(
        f'[3,"{ctx.message_id}" , {{"status":"Accepted","data" : "\u0444"}}]'))
    call = '[2 ,"csms-odd-1", "DataTransfer",{"vendorId" : "V", "data":"\u00df\\t"} ]'
    csms.send_raw("CP01", call)
    reply = csms.wait_reply("CP01", "csms-odd-1")
    assert reply.ok and reply.payload["data"] == "\u0444"
    assert texts(from_csms(cp, csms))[-1] == call
    assert reply.frame.text == [f.text for f in cp.sent() if f.id == "csms-odd-1"][-1]
    ocpp_sim.assert_no_violations(csms, cp)
