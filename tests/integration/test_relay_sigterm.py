"""Issue 2, relay: SIGTERM (or SIGINT) during traffic closes every socket, chargers
and upstream, with 1001 and exits 0 within 5 seconds."""

import re
import signal
import time

import pytest

import ocpp_sim

SPECS = [("CP01", "1.6"), ("CP02", "2.0.1"), ("CP03", "1.6")]


async def charger_traffic(cp):
    """Heartbeats and meter values as fast as answers come, until the socket closes."""
    n = 0
    while True:
        try:
            if n % 2:
                await cp.heartbeat(timeout=10)
            else:
                await cp.meter_values(1, timeout=10)
        except (ocpp_sim.PeerClosed, ocpp_sim.CallTimeout):
            return n
        n += 1


async def csms_traffic(csms, cid):
    n = 0
    while True:
        try:
            await csms.call(cid, "DataTransfer", {"vendorId": "sitegate.test", "data": str(n)},
                            timeout=10)
        except (ocpp_sim.PeerClosed, ocpp_sim.CallTimeout):
            return n
        n += 1


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_during_traffic(csms, gateway, charger, sims, sig):
    gw = gateway(chargers=[cid for cid, _ in SPECS])
    cps = {}
    for cid, version in SPECS:
        cps[cid] = charger(cid, version)
        cps[cid].boot()
        csms.wait_connected(cid)
    futures = [sims.spawn(charger_traffic(cp.aio)) for cp in cps.values()]
    futures += [sims.spawn(csms_traffic(csms.aio, cid)) for cid in cps]
    for cid in cps:                      # traffic flows both ways on every link
        csms.wait_received(cid, count=20, types=2)
        cps[cid].wait_received(count=10, types=2)

    started = time.monotonic()
    gw.send_signal(sig)
    rc = gw.wait_exit(timeout=5.0)
    elapsed = time.monotonic() - started
    assert rc == 0, f"exit code {rc} after {signal.Signals(sig).name}\n{gw.log_tail()}"
    assert elapsed < 5.0

    for cid, cp in cps.items():
        assert cp.wait_closed() == 1001, f"{cid}: charger socket closed with {cp.close_code}"
        assert csms.wait_disconnected(cid) == 1001, f"{cid}: upstream socket closed with " \
                                                    f"{csms.connection(cid).close_code}"
    for f in futures:
        assert f.result(15) > 0          # each loop did some work, then saw the close
    assert len(csms.connect_events()) == len(SPECS)
    # the relay's totals, logged on the way out, count what went through
    m = re.search(r"info gateway: totals frames_from_chargers=(\d+) frames_from_csms=(\d+) "
                  r"bad_frames=0", gw.log_text())
    assert m, "no totals line at shutdown"
    assert int(m.group(1)) >= 3 * 20 and int(m.group(2)) >= 3 * 20
    ocpp_sim.assert_no_violations(csms, *cps.values())


def test_sigterm_when_idle_and_with_upstream_down(sims, gateway, charger):
    csms = sims.csms(start=False)        # upstream unreachable: the gateway is retrying
    gw = gateway(csms=csms, chargers=["CP01", "CP02"])
    cp = charger("CP01", "1.6")
    cp.send_json([2, "held-1", "Heartbeat", {}])
    started = time.monotonic()
    assert gw.terminate(timeout=5.0) == 0
    assert time.monotonic() - started < 5.0
    assert cp.wait_closed() == 1001
    ocpp_sim.assert_no_violations(cp)
