#!/usr/bin/python3
"""Benchmark: replaying a backlog of queued messages to a fast CSMS (issue 5:
100,000 messages in under 30 s).

    tests/bench/replay.py [--build build-rel] [--messages 100000] [--ids 1]
                          [--meter-per-tx 200] [--replay-interval-ms 0]
                          [--timeout 180] [--keep]

1. fill_backlog writes the backlog into a fresh state directory, as the
   offline responder stores what 1.6 chargers send while the CSMS is away
   (sessions of StartTransaction, meter values, StopTransaction, statuses;
   offline transaction ids). Its time is the durable write rate (1,000 per
   commit).
2. fast_csms (--expect <messages>) stands in for the CSMS; the real sitegate
   runs with that state directory, offline.replay_interval_ms (0) and the
   identities in `chargers`; one minimal 1.6 charger per identity connects
   (it sends nothing and refuses the gateway's CALLs with NotImplemented), so
   the gateway opens the upstream socket and replays.
3. Replay time: from the gateway's first "replaying backlog" log line (stamped
   by this script as it reads the gateway's stderr) to fast_csms's last CALL
   (its wall clock; same machine). Also: fast_csms's first-to-last CALL time
   and longest gap between two CALLs, the gateway's own "replaying" to
   "replayed" time, its CPU seconds meanwhile and fast_csms's (in all), and
   the checks: every message arrived once, per-action and per-charger
   counts as filled, none out of order (payload timestamps).

Everything on 127.0.0.1, every wait bounded, every process started is
stopped. Prints a Markdown table row; exits 1 when a check fails.
A benchmark, not a test: not run by ctest.
"""

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

import websockets

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
HOST = "127.0.0.1"
REPLAYING = re.compile(r"replaying backlog charger=(\S+) messages=(\d+)")
REPLAYED = re.compile(r"backlog replayed charger=(\S+)")


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    """utime + stime of a running process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.01)


async def stop(proc, timeout=5.0):
    """SIGTERM, then SIGKILL after timeout; returns the exit code."""
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
    return proc.returncode


class GatewayLog:
    """The gateway's stderr, each line stamped (time.time()) as it is read,
    and copied to a file."""

    def __init__(self, stream, path):
        self.lines = []
        self.file = open(path, "w")
        self.task = asyncio.create_task(self._read(stream))

    async def _read(self, stream):
        while True:
            line = await stream.readline()
            if not line:
                break
            text = line.decode(errors="replace").rstrip("\n")
            self.lines.append((time.time(), text))
            self.file.write(text + "\n")

    def find(self, pattern):
        return [(t, m) for t, text in self.lines for m in [pattern.search(text)] if m]

    def tail(self, n=20):
        return "\n".join(text for _, text in self.lines[-n:])

    async def close(self):
        await asyncio.wait_for(self.task, 5)
        self.file.close()


async def charger(url, stop_event):
    """A minimal 1.6 charger: connected, silent, refusing the gateway's CALLs."""
    async with websockets.connect(url, subprotocols=["ocpp1.6"], open_timeout=10) as ws:
        while not stop_event.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), 0.2)
            except asyncio.TimeoutError:
                continue
            msg = json.loads(raw)
            if msg[0] == 2:
                await ws.send(json.dumps([4, msg[1], "NotImplemented", "bench charger", {}]))


def fill(build, state_dir, args):
    r = subprocess.run([os.path.join(build, "tests", "bench", "fill_backlog"), state_dir,
                        "--messages", str(args.messages), "--ids", str(args.ids),
                        "--meter-per-tx", str(args.meter_per_tx)],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        sys.exit(f"fill_backlog failed ({r.returncode}): {r.stderr.strip()}")
    return json.loads(r.stdout)


def gateway_config(workdir, state_dir, csms_port, ids, replay_interval_ms):
    port = free_port()
    cfg = {
        "site": {"id": "BENCH-SITE", "grid_limit_kw": 1000},
        "listen": {"address": HOST, "port": port, "path": "/ocpp"},
        "upstream": {"url": f"ws://{HOST}:{csms_port}/ocpp", "mode": "passthrough",
                     "call_timeout_s": 30, "reconnect_min_s": 0.2, "reconnect_max_s": 2},
        "chargers": [{"id": i} for i in ids],
        "offline": {"replay_interval_ms": replay_interval_ms},
        "state_dir": state_dir,
        "log_level": "info",
    }
    path = os.path.join(workdir, "sitegate.json")
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2)
    return path, port


async def run(args, workdir):
    build = os.path.abspath(os.path.join(ROOT, args.build))
    state_dir = os.path.join(workdir, "state")
    filled = fill(build, state_dir, args)
    ids = filled["identities"]

    csms = await asyncio.create_subprocess_exec(
        os.path.join(build, "tests", "bench", "fast_csms"), "--port", "0",
        "--expect", str(args.messages), "--timeout", str(args.timeout),
        stdout=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL)
    gw = None
    log = None
    stop_event = asyncio.Event()
    chargers = []
    try:
        first = (await asyncio.wait_for(csms.stdout.readline(), 10)).decode()
        if not first.startswith("port="):
            sys.exit(f"fast_csms did not start: {first!r}")
        config, gw_port = gateway_config(workdir, state_dir, int(first[5:]), ids,
                                         args.replay_interval_ms)
        gw = await asyncio.create_subprocess_exec(
            os.path.join(build, "gateway", "sitegate"), "-c", config, cwd=workdir,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)
        log = GatewayLog(gw.stderr, os.path.join(workdir, "sitegate.log"))
        await wait_for(lambda: log.find(re.compile(r"info proxy: listening")) or gw.returncode is not None,
                       10, "the gateway to listen")
        if gw.returncode is not None:
            sys.exit(f"the gateway exited ({gw.returncode}):\n{log.tail()}")
        cpu0 = cpu_seconds(gw.pid)
        chargers = [asyncio.create_task(charger(f"ws://{HOST}:{gw_port}/ocpp/{i}", stop_event))
                    for i in ids]
        out = await asyncio.wait_for(csms.stdout.read(), args.timeout + 10)
        await asyncio.wait_for(csms.wait(), 10)
        summary = json.loads(out.decode().strip().splitlines()[-1])
        if summary["reached"]:
            # Best effort: the gateway says so only at its next pump, which a
            # throttled replay may not reach before fast_csms (now gone) is lost.
            try:
                await wait_for(lambda: len(log.find(REPLAYED)) >= len(ids) or gw.returncode is not None,
                               3, "every 'backlog replayed' line")
            except TimeoutError:
                pass
        cpu = cpu_seconds(gw.pid) - cpu0 if gw.returncode is None else float("nan")
        for t in chargers:
            if t.done() and t.exception():
                raise t.exception()
    finally:
        stop_event.set()
        if gw:
            await stop(gw)
        await stop(csms)
        for t in chargers:
            try:
                await asyncio.wait_for(t, 5)
            except Exception:  # noqa: BLE001 - a charger the gateway hung up on
                pass
        if log:
            await log.close()

    replaying = log.find(REPLAYING)
    replayed = log.find(REPLAYED)
    problems = []
    if not summary["reached"]:
        problems.append(f"fast_csms got {summary['count']} of {args.messages} CALLs")
    if not replaying:
        problems.append("no 'replaying backlog' line")
    if summary["actions"] != {k: v for k, v in filled["actions"].items() if v}:
        problems.append(f"actions received {summary['actions']} != filled {filled['actions']}")
    # fill_backlog deals the messages out round robin.
    shares = {i: args.messages // len(ids) + (k < args.messages % len(ids)) for k, i in enumerate(ids)}
    if summary["identities"] != shares:
        problems.append(f"CALLs per charger {summary['identities']} != filled {shares}")
    if summary["out_of_order"]:
        problems.append(f"{summary['out_of_order']} CALLs out of order")
    if summary["bad_frames"]:
        problems.append(f"{summary['bad_frames']} bad frames")
    replay_s = summary["last_ms"] / 1000 - replaying[0][0] if replaying else float("nan")
    gw_s = (replayed[-1][0] - replaying[0][0] if replaying and len(replayed) == len(ids)
            else float("nan"))
    print(f"| {args.messages:>8} | {len(ids):>3} | {args.meter_per_tx:>5} "
          f"| {filled['rate_per_s']:>10.0f} | {replay_s:>8.2f} | {args.messages / replay_s:>8.0f} "
          f"| {summary['elapsed_s']:>8.2f} | {summary['max_gap_ms']:>7.1f} | {gw_s:>8.2f} | {cpu:>6.2f} "
          f"| {summary['cpu_s']:>6.2f} | {summary['out_of_order']:>5} |",
          flush=True)
    for p in problems:
        print(f"replay: {p}", file=sys.stderr)
    if problems:
        print(log.tail(), file=sys.stderr)
    return not problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build-rel", help="the build tree (relative to the source)")
    ap.add_argument("--messages", type=int, default=100000)
    ap.add_argument("--ids", type=int, default=1, help="identities (chargers) sharing the backlog")
    ap.add_argument("--meter-per-tx", type=int, default=200, help="MeterValues per session")
    ap.add_argument("--replay-interval-ms", type=int, default=0,
                    help="the gateway's offline.replay_interval_ms")
    ap.add_argument("--timeout", type=float, default=180, help="seconds the replay may take")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, store)")
    args = ap.parse_args()
    print("| messages | ids | meter/tx | fill msgs/s | replay s | msgs/s "
          "| csms s | max gap ms | gw s | gw cpu s | csms cpu s | out of order |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    if args.keep:
        workdir = tempfile.mkdtemp(prefix="sg_bench_replay_")
        print(f"(work directory kept: {workdir})", file=sys.stderr)
        ok = asyncio.run(run(args, workdir))
    else:
        with tempfile.TemporaryDirectory(prefix="sg_bench_replay_") as workdir:
            ok = asyncio.run(run(args, workdir))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
