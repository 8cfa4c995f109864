#!/usr/bin/python3
"""Benchmark: a grid-meter reading in -> every changed SetChargingProfile written.

Runs the real gateway on 127.0.0.1 with N simulated 1.6 chargers (one connector
each) charging under a cap, a simulated Eastron meter, and a simulated CSMS;
then steps the building load up and down and reads the gateway's own timing of
each reaction ("limits sent after a meter reading ... in_us=", measured from
the reading's arrival on the loop to the last profile handed to the sockets).

    tests/bench/meter_to_profiles.py --bin build/gateway/sitegate [--sizes 50,500,1000]

Prints one table row per size: reactions, profiles per reaction, median, p99, max.
A benchmark, not a test: it asserts nothing and is not run by ctest.
"""

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "sim"))

from charger import SimCharger  # noqa: E402
from csms import SimCsms  # noqa: E402
from modbus_meter import SimMeter  # noqa: E402

V = 230.0
STEPS = 12
LINE = re.compile(r"limits sent after a meter reading profiles=(\d+) connectors=(\d+) in_us=(\d+)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.05)


async def run_size(binary, n, workdir):
    csms = SimCsms(port=0, validate=False)
    await csms.start()
    meter = SimMeter(port=0, name="grid")
    meter.start()
    building = 20.0
    meter.set(current_a=(building,) * 3)
    port = free_port()
    # 10 A per charger on average, so that a load step moves every charger.
    cap_kw = 3 * V * (10.0 * n + 40.0) / 1000
    cfg = {
        "site": {"id": "BENCH", "grid_limit_kw": round(cap_kw, 2), "meter_stale_s": 5},
        "listen": {"address": "127.0.0.1", "port": port, "path": "/ocpp"},
        "upstream": {"url": f"ws://127.0.0.1:{csms.port}/ocpp"},
        "chargers": [{"id": f"CP{i:04d}"} for i in range(n)],
        "balancer": {"increase_interval_s": 0, "deadband_a": 0},
        "meters": [{"name": "grid", "role": "grid", "template": "eastron_sdm630",
                    "tcp": {"host": "127.0.0.1", "port": meter.port}, "poll_ms": 250}],
        "state_dir": workdir,
        "log_level": "info",
    }
    path = os.path.join(workdir, f"bench-{n}.json")
    with open(path, "w") as f:
        json.dump(cfg, f)
    log_path = os.path.join(workdir, f"bench-{n}.log")
    log = open(log_path, "w")
    gw = subprocess.Popen([binary, "-c", path], stderr=log)
    chargers = []
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)
        url = f"ws://127.0.0.1:{port}/ocpp"
        chargers = [SimCharger(url, f"CP{i:04d}", "1.6", validate=False) for i in range(n)]
        for i in range(0, n, 100):   # connect in batches: a burst of 1,000 is another benchmark
            await asyncio.gather(*(c.connect() for c in chargers[i:i + 100]))

        async def charge(c):
            await c.boot(timeout=60)
            await c.status("Preparing", 1, timeout=60)
            await c.status("Charging", 1, timeout=60)
        await asyncio.gather(*(charge(c) for c in chargers))
        await wait_for(lambda: all(c.profiles for c in chargers), 120, "every charger's first profile")

        seen = 0
        samples = []
        for step in range(STEPS):
            building = 60.0 if step % 2 == 0 else 20.0
            meter.set(current_a=(building,) * 3)
            # every charger reacts to the step: wait for its reaction line
            def reacted():
                with open(log_path) as f:
                    return len(LINE.findall(f.read())) > seen
            await wait_for(reacted, 30, "the reaction to a load step")
            with open(log_path) as f:
                found = LINE.findall(f.read())
            samples += [(int(p), int(us)) for p, _, us in found[seen:]]
            seen = len(found)
            await asyncio.sleep(0.6)   # let the stragglers' answers settle
        big = [us for p, us in samples if p >= n // 2]
        return {"connectors": n, "reactions": len(big),
                "profiles": statistics.median([p for p, us in samples if p >= n // 2] or [0]),
                "median_us": statistics.median(big) if big else float("nan"),
                "p99_us": sorted(big)[max(0, int(len(big) * 0.99) - 1)] if big else float("nan"),
                "max_us": max(big) if big else float("nan")}
    finally:
        gw.send_signal(signal.SIGTERM)
        try:
            gw.wait(10)
        except subprocess.TimeoutExpired:
            gw.kill()
        log.close()
        for c in chargers:
            try:
                await c.abort()
            except Exception:
                pass
        await csms.stop(abrupt=True)
        meter.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.path.join(HERE, "..", "..", "build", "gateway", "sitegate"))
    ap.add_argument("--sizes", default="50,500,1000")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        print("| connectors | reactions | profiles per reaction | median | p99 | max |")
        print("|---:|---:|---:|---:|---:|---:|")
        for n in (int(x) for x in args.sizes.split(",")):
            r = asyncio.run(run_size(os.path.abspath(args.bin), n, workdir))
            print(f"| {r['connectors']} | {r['reactions']} | {r['profiles']:.0f} | "
                  f"{r['median_us'] / 1000:.2f} ms | {r['p99_us'] / 1000:.2f} ms | "
                  f"{r['max_us'] / 1000:.2f} ms |", flush=True)


if __name__ == "__main__":
    main()
