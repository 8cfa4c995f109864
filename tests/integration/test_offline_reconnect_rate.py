"""Issue 5: after a WAN outage, hundreds of upstream sockets come back spread
over time, at upstream.reconnect_rate_per_s (a one-second burst allowed), in
the order they asked, not all at once."""

from conftest import wait_until

N = 200
RATE = 50.0


def test_200_chargers_reconnect_at_the_configured_rate(csms, gateway, charger):
    gateway(chargers=[],
            listen={"allow_unknown_chargers": True},
            charger_defaults={"smart_charging": "off"},
            upstream={"reconnect_rate_per_s": RATE, "reconnect_min_s": 0.2, "reconnect_max_s": 1})
    cps = [charger(f"CP{i:03d}", "1.6") for i in range(N)]
    wait_until(lambda: len({e.charger_id for e in csms.connect_events()}) == N, timeout=30,
               what="every charger's upstream socket")

    csms.stop()
    wait_until(lambda: len(csms.connect_events(kind="disconnect")) >= N, timeout=30,
               what="every upstream socket lost")
    before = len(csms.connect_events())
    csms.start()
    wait_until(lambda: len(csms.connect_events()) - before >= N, timeout=60,
               what="every upstream socket back")

    times = sorted(e.t for e in csms.connect_events()[before:])[:N]
    spread = times[-1] - times[0]
    # 200 at 50/s with a burst of 50: at least (200 - 50) / 50 = 3 s
    assert spread >= (N - RATE) / RATE * 0.9, f"{N} reconnects within {spread:.2f} s"
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= 2 * RATE + 5, f"{busiest} reconnects within one second"
    assert all(cp.connected for cp in cps), "chargers stay connected through the outage"


def test_chargers_waiting_for_a_connect_slot_are_not_an_outage(sims, csms, gateway, charger):
    # 30 chargers at 5 connects/s: the last gets its upstream socket about 5 s
    # after it booted, far past hold_s. Waiting for its turn is not an outage:
    # every BootNotification must reach the CSMS, none answered locally.
    n, rate = 30, 5.0
    gw = gateway(chargers=[], listen={"allow_unknown_chargers": True},
                 charger_defaults={"smart_charging": "off"},
                 offline={"hold_s": 1}, upstream={"reconnect_rate_per_s": rate})
    cps = [charger(f"CP{i:03d}", "1.6") for i in range(n)]
    answers = sims.gather(*(cp.aio.boot(timeout=20) for cp in cps), timeout=30)
    assert all(a["status"] == "Accepted" for a in answers)
    booted = {f.charger_id for f in csms.received(action="BootNotification", types=2)}
    assert booted == {cp.charger_id for cp in cps}, f"{n - len(booted)} boots never reached the CSMS"
    assert not gw.find_log(r"CSMS unreachable, answering in its place")
