"""Issue 7, demand response: events for another site or program are ignored
(and logged once); malformed, oversized and hostile messages get an optOut
when their event id can be read, are ignored otherwise, and never stop the
gateway from following the events that are right."""

import json

from conftest import wait_until
from dr_fixtures import (FULL_A, PROGRAM, SITE, amps, broker, dr_site, limits_are,  # noqa: F401
                         vtn, vtn_mark)
from mqtt_sim import event, notification


def test_other_sites_and_programs_are_ignored(csms, gateway, charger, broker, vtn):
    gw, cps = dr_site(gateway, charger, broker, vtn)
    other_site = event("not-ours", start="0001-01-01", duration_s=60, kw=5,
                       targets=["DEPOT-99"])
    other_program = event("other-prog", start="0001-01-01", duration_s=60, kw=5,
                          program="someone-elses")
    old_style_other = event("map-other", start="0001-01-01", duration_s=60, kw=5,
                            targets=[{"type": "VEN_NAME", "values": ["DEPOT-99"]}])
    for _ in range(2):
        vtn.publish(other_site)
        vtn.publish(other_program, ven=SITE)
        vtn.publish(old_style_other)
    # an event for this site after them: once it is answered, they were read
    vtn.publish(event("ours", start="0001-01-01", duration_s=60, kw=20,
                      targets=[{"type": "RESOURCE_NAME", "values": [SITE]}]))
    vtn.wait_opt("ours")
    wait_until(limits_are(cps, amps(20)), what="only our event in force")
    for ignored in ("not-ours", "other-prog", "map-other"):
        assert vtn.opts(ignored) == [], f"{ignored} was answered"
        lines = [line for line in gw.log_text().splitlines()
                 if f"info dr: event ignored event={ignored} " in line]
        assert len(lines) == 1, f"{ignored} logged {len(lines)} times"
    assert "reason=program someone-elses is not one this site is enrolled in" in gw.log_text()
    assert "reason=its targets do not include this site" in gw.log_text()


def huge_event():
    ev = event("too-big", start="0001-01-01", duration_s=60, kw=5)
    ev["eventName"] = "x" * 5000
    return json.dumps(notification(ev))


def test_malformed_oversized_and_hostile_messages(csms, gateway, charger, broker, vtn):
    gw, cps = dr_site(gateway, charger, broker, vtn, max_message_bytes=4096)
    seen = [len(cp.profile_log) for cp in cps]
    topic = f"oadr/programs/{PROGRAM}/events/create"
    good = notification(event("bad-1", start="0001-01-01", duration_s=60, kw=20))
    text = json.dumps(good)

    def edited(event_id, **changes):
        n = json.loads(text)
        n["object"]["id"] = event_id
        n["object"].update(changes)
        return json.dumps(n)

    answered = {  # event id -> what the optOut must say
        "bad-neg": (edited("bad-neg", intervals=[{"id": 0, "payloads": [
            {"type": "IMPORT_CAPACITY_LIMIT", "values": [-20]}]}]), "not negative"),
        "bad-huge": (edited("bad-huge", intervals=[{"id": 0, "payloads": [
            {"type": "IMPORT_CAPACITY_LIMIT", "values": [1e999]}]}]).replace("Infinity", "1e999"),
            "finite"),
        "bad-type": (edited("bad-type", intervals=[{"id": 0, "payloads": [
            {"type": "PRICE", "values": [0.2]}]}]), "no payload this site acts on"),
        "bad-start": (edited("bad-start", intervalPeriod={"start": "tomorrow",
                                                         "duration": "PT1H"}), "RFC 3339"),
        "bad-future": (edited("bad-future", intervalPeriod={"start": "2099-01-01T00:00:00Z",
                                                           "duration": "PT1H"}),
                       "too far in the future"),
        "bad-ids": (edited("bad-ids", intervals=[
            {"id": 1, "payloads": [{"type": "SIMPLE", "values": [1]}]},
            {"id": 1, "payloads": [{"type": "SIMPLE", "values": [1]}]}]),
            "is not above the previous interval's"),
        "bad-prio": (edited("bad-prio", priority="high"), "priority: must be an integer"),
        "bad-dup": (text.replace('"id": "bad-1"', '"id": "bad-dup", "priority": 1, "priority": 2')
                    .replace('"priority": null, ', ''), "duplicate key"),
        "bad-op": (json.dumps(dict(json.loads(edited("bad-op")), operation="PATCH")),
                   "operation: must be CREATE"),
    }
    unanswerable = [
        b"{not json", b"", b"null", b"[]", text[: len(text) // 2].encode(),
        b"\xff\xfe\x00garbage", text.encode().replace(b'"bad-1"', b'"bad-\xc3\x28"'),
        ("[" * 2000 + "]" * 2000).encode(), huge_event().encode(),
        text.replace('"bad-1"', '"bad-1\\u0000x"').encode(),
        text.replace('"bad-1"', '"../../etc"').encode(),
        json.dumps({"objectType": "EVENT", "operation": "CREATE", "object": "evt"}).encode(),
        b"{\"objectType\":\"EVENT\",\"operation\":\"CREATE\",\"object\":{\"id\":NaN}}",
    ]
    for payload in unanswerable:
        vtn.publish_raw(topic, payload)
    for payload, _ in answered.values():
        vtn.publish_raw(topic, payload)
    # a good event after all of that is still followed
    vtn.publish(event("fine", start="0001-01-01", duration_s=60, kw=20))
    assert vtn.wait_opt("fine")["optType"] == "optIn"
    wait_until(limits_are(cps, amps(20)), what="the good event in force")
    for event_id, (_, why) in answered.items():
        opt = vtn.wait_opt(event_id)
        assert opt["optType"] == "optOut" and opt["responseCode"] == 400, opt
        assert why in opt["reason"], (event_id, opt)
    # nothing else was answered: only the ids above and "fine"
    opt_topics = {t for _, t, _, _ in vtn.messages if t.endswith("/opt")}
    assert opt_topics == {f"oadr/vens/{SITE}/events/{i}/opt" for i in [*answered, "fine"]}
    log = gw.log_text()
    assert "reason=larger than openadr.max_message_bytes (4096)" in log
    assert "reason=not UTF-8 text" in log
    assert "reason=\\u0000 in a string" in log
    assert gw.running
    # and since they charge, the chargers were given nothing but the good event's limit
    for cp, first in zip(cps, seen):
        limits = [e["profile"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]
                  for e in cp.profile_log[first:]]
        assert set(limits) == {amps(20)}, limits
    wait_until(lambda: gw.running and limits_are(cps, amps(20))(), what="still alive")
