"""Issue 5, a randomized soak (bounded in time): charging sessions on three
chargers while the CSMS goes away and comes back and the gateway is killed
with SIGKILL at random moments (mid-session, mid-outage, mid-replay). At the
end the CSMS's view must equal the chargers' view: every message a charger
was answered for, of those the CSMS must see, reached the CSMS, in the
charger's order, and every transaction id the CSMS saw is one it issued.

SITEGATE_SOAK_SEED and SITEGATE_SOAK_S change the run (the defaults keep it
short for CI); the seed is printed on failure."""

import json
import os
import random
import time

import ocpp_sim
from conftest import wait_until

SEED = int(os.environ.get("SITEGATE_SOAK_SEED", "20261121"))
DURATION_S = float(os.environ.get("SITEGATE_SOAK_S", "30"))
CHARGERS = ["CP01", "CP02", "CP03"]
MUST_SEE = {"StartTransaction", "StopTransaction", "MeterValues", "StatusNotification"}


def canon(payload):
    """A message's content, without the transaction id the gateway may rewrite."""
    p = {k: v for k, v in payload.items() if k != "transactionId"}
    return json.dumps(p, sort_keys=True)


def answered(chargers):
    """(action, content) of every CALL the CSMS must see that a charger got a
    CALLRESULT for, in the order it sent them (over all its connections)."""
    out = []
    for cp in chargers:
        ok = {f.id for f in cp.received(types=3)}
        out += [(f.action, canon(f.payload)) for f in cp.sent(types=2)
                if f.action in MUST_SEE and f.id in ok]
    return out


def test_soak_outages_and_kills_lose_nothing(csms, gateway, charger, sims):
    rng = random.Random(SEED)
    cfg = gateway.config(chargers=[{"id": c, "smart_charging": "off"} for c in CHARGERS],
                         offline={"hold_s": 1, "unknown_tags": "accept"},
                         upstream={"reconnect_min_s": 0.2, "reconnect_max_s": 1,
                                   "call_timeout_s": 5})
    sims.check_violations = False       # killed sockets leave CALLs unanswered on purpose
    gw = gateway(config=cfg, name="soak0")
    history = {c: [charger(c, "1.6", gw=gw)] for c in CHARGERS}
    running, csms_up, kills = [], True, 0
    start = time.monotonic()
    while time.monotonic() - start < DURATION_S:
        r = rng.random()
        if r < 0.15:
            (csms.stop if csms_up else csms.start)()
            csms_up = not csms_up
        elif r < 0.22 and kills < 8:
            gw.allow_unclean_exit = True
            gw.kill()
            kills += 1
            gw = gateway(config=cfg, name=f"soak{kills}")
            for c in CHARGERS:
                history[c].append(charger(c, "1.6", gw=gw))
        else:
            cp = history[rng.choice(CHARGERS)][-1]
            running.append(cp.spawn.session(meter_values=rng.randint(0, 3), timeout=8))
        time.sleep(rng.uniform(0.05, 0.6))   # the random schedule's pace, not a wait
    for fut in running:
        try:
            fut.result(30)
        except Exception:
            pass    # sessions cut by a kill: only what was answered counts
    if not csms_up:
        csms.start()

    def unmatched(c):
        """The first message the charger was answered for that the CSMS did not
        get in order (the charger's messages must be a subsequence of the
        CSMS's, duplicates from at-least-once delivery aside), or None."""
        got = [(f.action, canon(f.payload)) for f in csms.received(c, types=2)
               if f.action in MUST_SEE]
        at = 0
        for i, item in enumerate(answered(history[c])):
            while at < len(got) and got[at] != item:
                at += 1
            if at == len(got):
                return i, item
            at += 1
        return None

    try:
        wait_until(lambda: not any(unmatched(c) for c in CHARGERS), timeout=60, interval=0.2,
                   what="every answered message at the CSMS, in order")
    except TimeoutError:
        for c in CHARGERS:
            miss = unmatched(c)
            if miss:
                frames = [f for f in csms.received(c, types=2) if f.action in MUST_SEE]
                view = "\n".join(f"  conn{f.conn_no} id={f.id} {f.action} "
                                 f"{f.payload.get('timestamp')} {f.payload.get('status', '')}"
                                 for f in frames[-12:])
                print(f"seed={SEED} {c}: answered message #{miss[0]} missing or out of order: "
                      f"{miss[1][0]} {miss[1][1][:160]}\nthe CSMS's last ones:\n{view}")
        raise

    issued = set()
    for c in CHARGERS:
        starts = {f.id for f in csms.received(c, action="StartTransaction", types=2)}
        issued |= {json.loads(f.text)[2].get("transactionId") for f in csms.sent(c, types=3)
                   if f.id in starts}
    for c in CHARGERS:
        for f in csms.received(c, types=2):
            if f.action in ("MeterValues", "StopTransaction") and "transactionId" in f.payload:
                assert f.payload["transactionId"] in issued, \
                    f"seed={SEED} {c}: {f.action} names transaction {f.payload['transactionId']}, " \
                    f"which the CSMS never issued"
    assert sum(len(answered(h)) for h in history.values()) > 20, "the soak did too little"
