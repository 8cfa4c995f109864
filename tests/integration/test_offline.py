"""Issue 5, outages: the gateway answers chargers as a local CSMS while the CSMS
is unreachable, keeps what the CSMS must see in its durable store, and replays
it in order when the CSMS is back, with 1.6 transaction ids made consistent."""

import json
import socket

import pytest

import ocpp_sim
from conftest import HOST, wait_until

OFFLINE = {"hold_s": 1, "unknown_tags": "accept"}
UPSTREAM = {"reconnect_min_s": 0.2, "reconnect_max_s": 1}


def tx_calls(csms, charger_id="CP01"):
    return [f for f in csms.received(charger_id, types=2)
            if f.action in ("StartTransaction", "MeterValues", "StopTransaction")]


def offline_gateway(gateway, **overrides):
    cfg = {"offline": dict(OFFLINE), "upstream": dict(UPSTREAM),
           "chargers": [{"id": "CP01", "smart_charging": "off"}]}
    cfg.update(overrides)
    chargers = cfg.pop("chargers")
    return gateway(chargers=chargers, **cfg)


def test_session_while_the_csms_is_down_is_replayed_in_order(csms, gateway, charger):
    gw = offline_gateway(gateway)
    cp = charger("CP01", "1.6")
    cp.boot()
    csms.stop()
    result = cp.session(meter_values=3)            # all of it answered by the gateway
    local_tx = result.transaction_id
    assert local_tx < 0, "a transaction started offline gets a local (negative) id"
    gw.wait_log(r"CSMS unreachable, answering in its place charger=CP01")

    csms.start()
    wait_until(lambda: len(tx_calls(csms)) == 5, timeout=15, what="the replayed transaction")
    got = tx_calls(csms)
    assert [f.action for f in got] == ["StartTransaction", "MeterValues", "MeterValues",
                                      "MeterValues", "StopTransaction"]
    # the CSMS's own id throughout, as if it had been online
    [start_answer] = [json.loads(f.text)[2] for f in csms.sent("CP01", types=3) if f.id == got[0].id]
    real = start_answer["transactionId"]
    assert real > 0
    assert all(f.payload["transactionId"] == real for f in got[1:])
    # original timestamps and values, exactly as the charger sent them
    sent = {f.action: [] for f in got}
    for f in cp.sent():
        if f.type == 2 and f.action in sent:
            sent[f.action].append(f.payload)
    assert got[0].payload == sent["StartTransaction"][-1]
    assert got[-1].payload["timestamp"] == sent["StopTransaction"][-1]["timestamp"]
    assert [f.payload["meterValue"] for f in got[1:4]] == [p["meterValue"] for p in sent["MeterValues"][-3:]]
    gw.wait_log(r"offline transaction has its CSMS id charger=CP01 local=-\d+ csms=\d+")
    gw.wait_log(r"backlog replayed charger=CP01")
    ocpp_sim.assert_no_violations(csms, cp)


def test_call_held_during_a_first_connect_that_fails_is_answered_after_hold_s(gateway, charger):
    # A CSMS that takes the TCP connection and never answers the upgrade: the
    # gateway's first connect is still under way when the Heartbeat comes, so
    # it is held for the CALL timeout (60 s) at first. When the handshake
    # times out the CSMS is known unreachable, and the held CALL is answered
    # hold_s after it was sent, not a minute later.
    with socket.create_server((HOST, 0), backlog=8) as silent:
        url = f"ws://{HOST}:{silent.getsockname()[1]}/ocpp"
        gw = gateway(upstream_url=url, chargers=[{"id": "CP01", "smart_charging": "off"}],
                     offline=dict(OFFLINE), limits={"handshake_timeout_s": 2},
                     upstream={**UPSTREAM, "call_timeout_s": 60})
        cp = charger("CP01", "1.6")
        answer = cp.heartbeat(timeout=20)
        assert "currentTime" in answer
        gw.wait_log(r"upstream handshake timed out charger=CP01")
        gw.wait_log(r"CSMS unreachable, answering in its place charger=CP01")


def test_transaction_started_offline_is_translated_both_ways_after_the_outage(csms, gateway, charger):
    gw = offline_gateway(gateway)
    cp = charger("CP01", "1.6")
    cp.boot()
    csms.stop()
    cp.status("Preparing", 1)
    answer = cp.call("StartTransaction", {"connectorId": 1, "idTag": "SIMTAG0001", "meterStart": 0,
                                          "timestamp": ocpp_sim.now_iso()})
    local = answer["transactionId"]
    assert local < 0
    csms.start()
    wait_until(lambda: csms.received("CP01", action="StartTransaction", types=2), timeout=15)
    gw.wait_log(r"backlog replayed charger=CP01")
    [start] = csms.received("CP01", action="StartTransaction", types=2)
    [answer] = [json.loads(f.text)[2] for f in csms.sent("CP01", types=3) if f.id == start.id]
    real = answer["transactionId"]

    # still running: the charger's MeterValues reach the CSMS with the CSMS's id...
    cp.call("MeterValues", {"connectorId": 1, "transactionId": local, "meterValue": [{
        "timestamp": ocpp_sim.now_iso(), "sampledValue": [{"value": "1000"}]}]})
    wait_until(lambda: csms.received("CP01", action="MeterValues", types=2))
    assert csms.received("CP01", action="MeterValues", types=2)[-1].payload["transactionId"] == real
    # ...and the CSMS's RemoteStopTransaction reaches the charger with the local id
    assert csms.call("CP01", "RemoteStopTransaction", {"transactionId": real})["status"] == "Accepted"
    [remote] = cp.received(action="RemoteStopTransaction", types=2)
    assert remote.payload["transactionId"] == local
    ocpp_sim.assert_no_violations(csms, cp)


@pytest.mark.parametrize("policy,expected", [("reject", "Invalid"), ("accept", "Accepted")])
def test_unknown_tag_offline_follows_the_policy(csms, gateway, charger, policy, expected):
    offline_gateway(gateway, offline={**OFFLINE, "unknown_tags": policy})
    cp = charger("CP01", "1.6")
    cp.boot()
    csms.stop()
    assert cp.call("Authorize", {"idTag": "NEVER-SEEN"}, timeout=10)["idTagInfo"]["status"] == expected


def test_tag_the_csms_accepted_is_accepted_offline_from_the_cache(csms, gateway, charger):
    offline_gateway(gateway, offline={**OFFLINE, "unknown_tags": "reject"})
    cp = charger("CP01", "1.6")
    cp.boot()
    assert cp.call("Authorize", {"idTag": "KNOWN-TAG"})["idTagInfo"]["status"] == "Accepted"
    csms.stop()
    assert cp.call("Authorize", {"idTag": "KNOWN-TAG"}, timeout=10)["idTagInfo"]["status"] == "Accepted"
    assert cp.call("Authorize", {"idTag": "OTHER-TAG"}, timeout=10)["idTagInfo"]["status"] == "Invalid"


def test_local_list_from_the_csms_is_used_offline(csms, gateway, charger):
    offline_gateway(gateway, offline={**OFFLINE, "unknown_tags": "reject"})
    cp = charger("CP01", "1.6")
    cp.boot()
    assert csms.call("CP01", "SendLocalList", {
        "listVersion": 3, "updateType": "Full", "localAuthorizationList": [
            {"idTag": "LIST-OK", "idTagInfo": {"status": "Accepted"}},
            {"idTag": "LIST-BLOCKED", "idTagInfo": {"status": "Blocked"}}]})["status"] == "Accepted"
    csms.stop()
    assert cp.call("Authorize", {"idTag": "LIST-OK"}, timeout=10)["idTagInfo"]["status"] == "Accepted"
    assert cp.call("Authorize", {"idTag": "LIST-BLOCKED"}, timeout=10)["idTagInfo"]["status"] == "Blocked"


def test_site_list_from_the_config_is_used_offline_after_the_csms_list(csms, gateway, charger):
    site_list = [{"id_tag": "FLEET-1"}, {"id_tag": "STOLEN", "status": "Blocked"},
                 {"id_tag": "OLD-CARD", "expiry": "2020-01-01T00:00:00Z"},
                 {"id_tag": "CSMS-KNOWS", "status": "Accepted"}]
    offline_gateway(gateway, offline={**OFFLINE, "unknown_tags": "accept", "local_list": site_list})
    cp = charger("CP01", "2.0.1")
    cp.boot()
    assert csms.call("CP01", "SendLocalList", {
        "versionNumber": 2, "updateType": "Full", "localAuthorizationList": [
            {"idToken": {"idToken": "CSMS-KNOWS", "type": "ISO14443"},
             "idTokenInfo": {"status": "Blocked"}}]})["status"] == "Accepted"
    csms.stop()

    def status(tag):
        answer = cp.call("Authorize", {"idToken": {"idToken": tag, "type": "ISO14443"}}, timeout=10)
        return answer["idTokenInfo"]["status"]
    assert status("FLEET-1") == "Accepted"
    assert status("STOLEN") == "Blocked"          # the site's list wins over unknown_tags
    assert status("OLD-CARD") == "Expired"
    assert status("CSMS-KNOWS") == "Blocked"      # the CSMS's own list comes first
    assert status("ANYONE") == "Accepted"         # unknown: the policy


def test_gateway_killed_during_the_outage_loses_nothing(csms, gateway, charger):
    cfg = gateway.config(chargers=[{"id": "CP01", "smart_charging": "off"}],
                         offline=dict(OFFLINE), upstream=dict(UPSTREAM))
    gw = gateway(config=cfg)
    cp = charger("CP01", "1.6")
    cp.boot()
    csms.stop()
    cp.session(meter_values=2)                       # stored, answered once durable
    gw.allow_unclean_exit = True
    gw.kill()                                        # kill -9: no chance to flush anything
    csms.start()
    gw2 = gateway(config=cfg, name="gw-restarted")
    cp2 = charger("CP01", "1.6", gw=gw2)             # the charger comes back; replay follows
    wait_until(lambda: len(tx_calls(csms)) == 4, timeout=15, what="the replay after a kill -9")
    assert [f.action for f in tx_calls(csms)] == ["StartTransaction", "MeterValues", "MeterValues",
                                                  "StopTransaction"]
    gw2.wait_log(r"backlog replayed charger=CP01")
    ocpp_sim.assert_no_violations(csms, cp, cp2)


def test_backlog_of_a_charger_that_stays_away_is_replayed(csms, gateway, charger):
    gw = offline_gateway(gateway)
    cp = charger("CP01", "2.0.1")
    cp.boot()
    csms.stop()
    cp.session(meter_values=2)                       # stored, answered by the gateway
    cp.close()
    gw.wait_log(r"upstream kept for the backlog charger=CP01")
    csms.start()
    wait_until(lambda: len(csms.received("CP01", action="TransactionEvent", types=2)) >= 2,
               timeout=15, what="the replay with the charger away")
    gw.wait_log(r"backlog replayed charger=CP01")
    csms.wait_disconnected("CP01")                   # opened for the backlog only
    events = csms.received("CP01", action="TransactionEvent", types=2)
    kinds = [f.payload["eventType"] for f in events]
    assert kinds[0] == "Started" and kinds[-1] == "Ended"
    assert [f.payload["seqNo"] for f in events] == sorted(f.payload["seqNo"] for f in events)
    ocpp_sim.assert_no_violations(csms, cp)


def test_backlog_left_by_a_kill_is_replayed_without_its_charger(csms, gateway, charger):
    cfg = gateway.config(chargers=[{"id": "CP01", "smart_charging": "off"}],
                         offline=dict(OFFLINE), upstream=dict(UPSTREAM))
    gw = gateway(config=cfg)
    cp = charger("CP01", "1.6")
    cp.boot()
    csms.stop()
    cp.session(meter_values=1)
    gw.allow_unclean_exit = True
    gw.kill()
    cp.close()
    csms.start()
    gw2 = gateway(config=cfg, name="gw-restarted")   # no charger will come back
    gw2.wait_log(r"replaying the backlog of a charger that is not connected charger=CP01 ocpp=ocpp1.6")
    wait_until(lambda: len(tx_calls(csms)) == 3, timeout=15, what="the replay after a restart")
    assert [f.action for f in tx_calls(csms)] == ["StartTransaction", "MeterValues", "StopTransaction"]
    gw2.wait_log(r"backlog replayed charger=CP01")
    csms.wait_disconnected("CP01")
    ocpp_sim.assert_no_violations(csms, cp)


def test_charger_is_asked_for_its_statuses_after_the_replay(csms, gateway, charger):
    gw = offline_gateway(gateway)
    cp = charger("CP01", "1.6")
    cp.boot()
    csms.stop()
    cp.session(meter_values=1)
    csms.start()
    gw.wait_log(r"backlog replayed charger=CP01")
    # the gateway's own TriggerMessage; the fresh status then reaches the CSMS after the stop
    wait_until(lambda: any(f.action == "TriggerMessage" for f in cp.received(types=2)),
               timeout=10, what="the status snapshot request")
    stop = csms.received("CP01", action="StopTransaction", types=2)[-1]
    wait_until(lambda: [f for f in csms.received("CP01", action="StatusNotification", types=2)
                        if f.t > stop.t], timeout=10, what="a fresh StatusNotification")
    [trigger] = [f for f in cp.received(types=2) if f.action == "TriggerMessage"]
    assert trigger.payload == {"requestedMessage": "StatusNotification"}
    assert not [f for f in csms.received("CP01") if f.id == trigger.id], "its answer stays local"
    ocpp_sim.assert_no_violations(csms, cp)


def test_replayed_message_refused_by_the_csms_is_kept_aside(csms, gateway, charger):
    gw = offline_gateway(gateway)
    cp = charger("CP01", "1.6")
    cp.boot()
    csms.stop()
    cp.session(meter_values=2)
    csms.on("MeterValues", ocpp_sim.CallError("InternalError", "no"), once=True)
    csms.start()
    gw.wait_log(r"CSMS refused a replayed message, kept aside charger=CP01 action=MeterValues")
    # the rest goes on: the stop arrives
    wait_until(lambda: csms.received("CP01", action="StopTransaction", types=2), timeout=15)
    ocpp_sim.assert_no_violations(csms, cp)


def test_close_chargers_option_drops_the_charger_with_its_upstream(csms, gateway, charger):
    gw = offline_gateway(gateway, offline={**OFFLINE, "close_chargers": True})
    cp = charger("CP01", "1.6")
    cp.boot()
    csms.stop()
    assert cp.wait_closed() == 1001, "the charger's socket closes with its upstream's"
    gw.wait_log(r"closing the charger with its upstream charger=CP01")


def test_chargers_stay_connected_by_default_when_the_csms_goes(csms, gateway, charger):
    gw = offline_gateway(gateway)
    cp = charger("CP01", "1.6")
    cp.boot()
    csms.stop()
    gw.wait_log(r"upstream disconnected charger=CP01")
    assert cp.heartbeat() and cp.connected
