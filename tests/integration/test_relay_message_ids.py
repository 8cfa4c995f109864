"""Issue 2, relay: message ids are per connection and per direction. Chargers
using identical ids at the same time, the CSMS using identical ids towards
several chargers, and both ends of one link using the same id at once must never
get each other's answers."""

import asyncio
import random

import pytest

import ocpp_sim

ROUNDS = 40


def tagged_echo(side):
    """A DataTransfer handler answering with who answered and what it was asked,
    after a small random delay so that answers interleave."""
    async def answer(ctx):
        await asyncio.sleep(random.uniform(0, 0.004))  # reorders answers; not synchronization
        return {"status": "Accepted", "data": f"{side}:{ctx.charger_id}:{ctx.payload['data']}"}
    return answer


@pytest.mark.parametrize("versions", [("1.6", "1.6"), ("2.0.1", "2.0.1"), ("1.6", "2.0.1")])
def test_chargers_with_identical_ids_never_cross(csms, gateway, charger, sims, versions):
    gateway(chargers=["CP01", "CP02"])
    cps = {"CP01": charger("CP01", versions[0]), "CP02": charger("CP02", versions[1])}
    for cid, cp in cps.items():
        cp.boot()
    csms.on("DataTransfer", tagged_echo("csms"))

    for rnd in range(ROUNDS):
        # a batch of CALLs in flight at once per charger, the same ids on both
        ids = [f"same-{rnd}-{k}" for k in range(3)]
        coros, expected = [], []
        for cid, cp in cps.items():
            for mid in ids:
                data = f"{cid}/{mid}"
                coros.append(cp.aio.call("DataTransfer", {"vendorId": "sitegate.test", "data": data},
                                         message_id=mid))
                expected.append(f"csms:{cid}:{data}")
        results = sims.gather(*coros)
        assert [r["data"] for r in results] == expected

    for cid in cps:
        datas = [f.payload["data"] for f in csms.received(cid, action="DataTransfer", types=2)]
        assert len(datas) == ROUNDS * 3 and all(d.startswith(cid + "/") for d in datas)
    ocpp_sim.assert_no_violations(csms, *cps.values())


def test_csms_with_identical_ids_towards_chargers_never_cross(csms, gateway, charger, sims):
    gateway(chargers=["CP01", "CP02", "CP03"])
    cps = {cid: charger(cid, v) for cid, v in (("CP01", "1.6"), ("CP02", "2.0.1"), ("CP03", "1.6"))}
    for cid, cp in cps.items():
        cp.boot()
        csms.wait_connected(cid)
        cp.on("DataTransfer", tagged_echo("charger"))

    for rnd in range(ROUNDS):
        mid = f"csms-same-{rnd}"
        coros = [csms.aio.call(cid, "DataTransfer", {"vendorId": "sitegate.test", "data": f"{rnd}"},
                               message_id=mid) for cid in cps]
        results = sims.gather(*coros)
        assert [r["data"] for r in results] == [f"charger:{cid}:{rnd}" for cid in cps]
    ocpp_sim.assert_no_violations(csms, *cps.values())


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_same_id_both_ways_on_one_link(csms, gateway, charger, sims, version):
    """The charger and the CSMS each send a CALL with the same id at the same time:
    each answer goes to the one that asked."""
    gateway(chargers=["CP01"])
    cp = charger("CP01", version)
    cp.boot()
    csms.wait_connected("CP01")
    csms.on("DataTransfer", tagged_echo("csms"))
    cp.on("DataTransfer", tagged_echo("charger"))
    for rnd in range(ROUNDS):
        mid = f"both-{rnd}"
        up, down = sims.gather(
            cp.aio.call("DataTransfer", {"vendorId": "V", "data": f"up{rnd}"}, message_id=mid),
            csms.aio.call("CP01", "DataTransfer", {"vendorId": "V", "data": f"down{rnd}"},
                          message_id=mid))
        assert up["data"] == f"csms:CP01:up{rnd}"
        assert down["data"] == f"charger:CP01:down{rnd}"
    ocpp_sim.assert_no_violations(csms, cp)
