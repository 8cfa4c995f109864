#!/usr/bin/python3
"""Benchmark: 1,000 chargers on one gateway (issue 11), in one run.

    tests/bench/scale.py [--build build-perf] [--repeat 3] [--only latency,...]

The same traffic (loadgen: OCPP 1.6J chargers with a 2.0.1 share, sessions
with MeterValues; fast_csms answering, and sending CALLs of its own) three
ways: direct (loadgen → fast_csms), through ref_relay (the barest relay
libwebsockets on libuv allows: the cost of one WebSocket hop), and through
sitegate in passthrough mode (the N chargers in its config, smart charging
on: each charger reports it and gets the gateway's profiles, the balancer
runs on every MeterValues, as on a real site). Scenarios (--only):

  latency     CALL round trips at --rate CALLs/s from --chargers chargers
              plus --csms-rate CALLs/s from the CSMS to them: p50/p99/p99.9
              both ways, and what each relay adds to direct (paired per
              repetition).
  saturation  closed loop (each charger sends its next CALL when the last is
              answered), --chargers chargers: CALLs/s, and sitegate's share
              of ref_relay's.
  scale       sitegate's (and ref_relay's) RSS and CPU at 100, 500, 1,000
              and 2,000 chargers, each sending 1 CALL/s (the CSMS 0.1/s per
              charger): a busy site; real chargers send one every 10-60 s.
  storm       1,000 chargers connecting at once: the time until all are
              connected, until every BootNotification is answered, and until
              the CSMS has had every one (the gateway may answer some itself),
              with the gateway's default upstream.reconnect_rate_per_s (200)
              and with 1,000.
  replay      replay.py: a 100,000-message backlog replayed to fast_csms.
  profiles    meter_to_profiles.py: a grid-meter reading → profiles written,
              500 connectors.

sitegate runs with upstream.reconnect_rate_per_s 1000 (except the storm's
default case) and limits.charger_frames_per_s 1000 (the default 100 would
refuse part of the closed loop): both only pace, they cost the same per
frame. Prints Markdown tables; writes <out>/scale.json, scale.md and
scale.svg (--out, default <build>/bench). Each repetition runs the three
paths in turn, so that a load change on a shared machine hits all three.
Exits 1 when a run saw errors (lost sockets, CALLERRORs, out-of-order).
A benchmark, not a test: not run by ctest (tests/bench/smoke.py is).
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

import scale_procs as sp  # noqa: E402
import scale_report  # noqa: E402
import scale_svg  # noqa: E402

PATHS = ("direct", "ref_relay", "sitegate")
PREFIX = "LG"
# CALLs of one loadgen session (Authorize to Heartbeat, 10 MeterValues): its
# chargers start spread over them, so a window measures the steady mix only
# after each charger has been through one.
SESSION_CALLS = 16
GW_FAST = {"upstream": {"reconnect_rate_per_s": 1000}, "limits": {"charger_frames_per_s": 1000}}
GW_DEFAULT_PACING = {"limits": {"charger_frames_per_s": 1000}}


class Bench:
    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.build = os.path.abspath(os.path.join(ROOT, args.build))
        self.bin = lambda *p: os.path.join(self.build, *p)
        self.sitegate = (os.path.abspath(args.sitegate) if args.sitegate
                         else self.bin("gateway", "sitegate"))
        self.runs = 0
        self.problems = []

    def _log(self, name):
        return os.path.join(self.workdir, f"{self.runs:03d}-{name}.log")

    def _middle(self, path, csms_port, n, gw_overrides):
        """The relay under test (None for direct) and the URL chargers use."""
        if path == "direct":
            return None, f"ws://{sp.HOST}:{csms_port}/ocpp"
        if path == "ref_relay":
            proc, port = sp.start_listening("ref_relay", [
                self.bin("tests", "bench", "ref_relay"), "--upstream",
                f"ws://{sp.HOST}:{csms_port}/ocpp"], self._log("ref_relay"))
            return proc, f"ws://{sp.HOST}:{port}/ocpp"
        state = os.path.join(self.workdir, f"state-{self.runs}")
        os.makedirs(state)
        cfg = os.path.join(self.workdir, f"sitegate-{self.runs}.json")
        port = sp.sitegate_config(cfg, state, csms_port, n, PREFIX, gw_overrides)
        proc = sp.Proc("sitegate", [self.sitegate, "-c", cfg],
                       self._log("sitegate"), cwd=self.workdir)
        try:
            sp.wait_port(port, proc)
        except Exception:
            proc.stop()
            raise
        return proc, f"ws://{sp.HOST}:{port}/ocpp"

    def run(self, path, n, rate, csms_rate, duration, gw_overrides=None, label=None):
        """One measurement; a dict of what it found."""
        self.runs += 1
        a = self.args
        label = label or path
        print(f"  [{self.runs}] {label}: {n} chargers, "
              f"{'closed loop' if rate == 0 else f'{rate:g} CALLs/s'}"
              f"{'' if duration else ', connect storm'} (load {os.getloadavg()[0]:.2f})",
              file=sys.stderr, flush=True)
        csms, csms_port = sp.start_listening("fast_csms", [
            self.bin("tests", "bench", "fast_csms"), "--call-rate", str(csms_rate)],
            self._log("fast_csms"))
        mid = load = r = None
        warmup = a.warmup if rate == 0 else max(a.warmup, SESSION_CALLS * n / rate)
        try:
            mid, url = self._middle(path, csms_port, n, gw_overrides or GW_FAST)
            t_start = time.monotonic()
            load = sp.Proc("loadgen", [
                self.bin("tests", "bench", "loadgen"), "--url", url, "--chargers", str(n),
                "--share-201", str(a.share_201), "--prefix", PREFIX, "--rate", str(rate),
                "--warmup", str(warmup), "--duration", str(duration),
                "--boot-timeout", str(a.boot_timeout)], self._log("loadgen"))
            r = {"path": label, "chargers": n, "rate": rate, "csms_rate": csms_rate}
            r["booted"] = load.event("booted", a.boot_timeout + 15)
            if mid:
                r["rss_kib_booted"] = mid.memory_kib()[0]
            if duration:
                self._window(r, load, csms, mid, warmup, duration)
            else:
                r["upstream_s"], r["upstream_boots"] = self._all_booted_upstream(csms, n, t_start)
            code = load.stop(grace=30)
            if code != 0:
                self._problem(r, f"loadgen exited {code}: {load.tail(5)}")
            if r["booted"]["booted"] != n:
                self._problem(r, f"{r['booted']['booted']} of {n} chargers booted")
            return r
        finally:
            if load:
                load.stop()
            if mid:
                r_mid = mid.stop()
                if r_mid not in (0, None):
                    self.problems.append(f"{label}: {mid.name} exited {r_mid}")
            csms.stop()
            self._check_logs(label, path, r)

    def _window(self, r, load, csms, mid, warmup, duration):
        """The measuring window: fast_csms's statistics bracketed by two
        snapshots, the relay's CPU and memory read around it."""
        load.event("measuring", warmup + 30)
        csms.signal(signal.SIGUSR1)
        snap0 = csms.event("snapshot", 5)
        t0, mid_cpu0 = time.monotonic(), mid.cpu_s() if mid else 0.0
        s = load.event("summary", duration + 30)
        t1, mid_cpu1 = time.monotonic(), mid.cpu_s() if mid else 0.0
        csms.signal(signal.SIGUSR1)
        snap1 = csms.event("snapshot", 5)
        r.update(summary=s, csms_calls=snap1["csms_calls"],
                 csms_cpu_pct=100 * (snap1["cpu_s"] - snap0["cpu_s"]) / (t1 - t0),
                 loadgen_cpu_pct=100 * s["cpu_s"] / s["duration_s"])
        if mid:
            r["mid_cpu_pct"] = 100 * (mid_cpu1 - mid_cpu0) / (t1 - t0)
            r["rss_kib"], r["hwm_kib"] = mid.memory_kib()
        if s["errors"] or s["closed"] or s["unmatched"] or s["missed"]:
            self._problem(r, f"loadgen: errors={s['errors']} closed={s['closed']} "
                             f"unmatched={s['unmatched']} missed={s['missed']}")
        c = snap1["csms_calls"]
        if c["errors"] or c["unmatched"] or c["missed"]:
            self._problem(r, f"CSMS CALLs: errors={c['errors']} unmatched={c['unmatched']} "
                             f"missed={c['missed']}")

    def _all_booted_upstream(self, csms, n, t_start):
        """When the CSMS has had every BootNotification (the gateway may have
        answered some itself): (seconds from the storm's start, to 0.1 s, or
        None if it never did, BootNotifications it had). Given up once every
        upstream socket is up and no BootNotification came for 3 s."""
        boots, last_change = -1, time.monotonic()
        while time.monotonic() - t_start < self.args.boot_timeout:
            csms.signal(signal.SIGUSR1)
            snap = csms.event("snapshot", 5)
            now = time.monotonic()
            if snap["boots"] >= n:
                return now - t_start, snap["boots"]
            if snap["boots"] != boots:
                boots, last_change = snap["boots"], now
            elif snap["connections"] >= n and now - last_change > 3:
                break
            time.sleep(0.1)
        return None, boots

    def _check_logs(self, label, path, r):
        """Out-of-order CALLs are a problem; the gateway's warnings are noted
        in the run's results (some runs provoke them on purpose)."""
        with open(self._log("fast_csms"), errors="replace") as f:
            if "out-of-order" in f.read():
                self.problems.append(f"{label}: fast_csms saw CALLs out of order")
        if path != "sitegate" or r is None:
            return
        with open(self._log("sitegate"), errors="replace") as f:
            warned = [line.strip() for line in f if line.startswith(("warn ", "error "))]
        if warned:
            r["gw_warnings"] = {"count": len(warned), "first": warned[0]}

    def _problem(self, r, what):
        r.setdefault("problems", []).append(what)
        self.problems.append(f"{r['path']} ({r['chargers']} chargers): {what}")

    # ---- the scenarios ----

    def latency(self):
        a = self.args
        return [[self.run(p, a.chargers, a.rate, a.csms_rate, a.duration) for p in PATHS]
                for _ in range(a.repeat)]

    def saturation(self):
        a = self.args
        return [[self.run(p, a.chargers, 0, 0, a.duration) for p in PATHS] for _ in range(a.repeat)]

    def scale(self):
        a = self.args
        return [self.run(p, n, n * 1.0, n * 0.1, a.duration)
                for n in a.sizes for p in ("ref_relay", "sitegate")]

    def storm(self):
        a = self.args
        out = []
        for _ in range(a.repeat):
            out.append([self.run("direct", a.chargers, 0, 0, 0),
                        self.run("ref_relay", a.chargers, 0, 0, 0),
                        self.run("sitegate", a.chargers, 0, 0, 0, GW_DEFAULT_PACING,
                                 scale_report.STORM_PATHS[0]),
                        self.run("sitegate", a.chargers, 0, 0, 0, GW_FAST,
                                 scale_report.STORM_PATHS[1])])
        return out

    def _script(self, argv, timeout):
        print(f"  {os.path.basename(argv[1])} (load {os.getloadavg()[0]:.2f})", file=sys.stderr,
              flush=True)
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        if r.returncode != 0:
            self.problems.append(f"{os.path.basename(argv[1])} exited {r.returncode}: "
                                 f"{r.stderr.strip()[-500:]}")
        return [line for line in r.stdout.splitlines() if re.match(r"\|\s*\d", line)]

    def replay(self):
        rows = self._script(["/usr/bin/python3", os.path.join(HERE, "replay.py"),
                             "--build", self.args.build], 600)
        return [[c.strip() for c in row.strip("|").split("|")] for row in rows]

    def profiles(self):
        rows = self._script(["/usr/bin/python3", os.path.join(HERE, "meter_to_profiles.py"),
                             "--bin", self.sitegate, "--sizes", "500"], 900)
        return [[c.strip() for c in row.strip("|").split("|")] for row in rows]


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    return {"cpu": model, "cores": os.cpu_count(), "mem_gib": round(mem_kib / 2**20),
            "kernel": platform.release(), "nofile": os.sysconf("SC_OPEN_MAX")}


def build(args):
    tree = os.path.join(ROOT, args.build)
    subprocess.run(["cmake", "-S", ROOT, "-B", tree, "-DCMAKE_BUILD_TYPE=Release"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", tree, "-j", os.environ.get("SITEGATE_JOBS", "2"),
                    "--target", "sitegate", "fast_csms", "loadgen", "ref_relay", "fill_backlog"],
                   check=True, stdout=subprocess.DEVNULL)


SCENARIOS = ("latency", "saturation", "scale", "storm", "replay", "profiles")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build-perf", help="the Release tree (relative to the source)")
    ap.add_argument("--no-build", action="store_true", help="use the tree as it is")
    ap.add_argument("--sitegate", help="another gateway binary to measure (a candidate change); "
                    "the tools, and replay's gateway, still come from --build")
    ap.add_argument("--only", default=",".join(SCENARIOS), help="scenarios, comma-separated")
    ap.add_argument("--repeat", type=int, default=3, help="repetitions of latency, saturation, storm")
    ap.add_argument("--chargers", type=int, default=1000)
    ap.add_argument("--rate", type=float, default=2000, help="CALLs/s from the chargers (latency)")
    ap.add_argument("--csms-rate", type=float, default=200, help="CALLs/s from the CSMS (latency)")
    ap.add_argument("--share-201", type=float, default=0.2, help="share of OCPP 2.0.1 chargers")
    ap.add_argument("--sizes", default="100,500,1000,2000", help="charger counts (scale)")
    ap.add_argument("--warmup", type=float, default=3,
                    help="s of traffic before measuring; at a set rate at least one session per charger")
    ap.add_argument("--duration", type=float, default=10, help="seconds of each measuring window")
    ap.add_argument("--boot-timeout", type=float, default=90)
    ap.add_argument("--out", help="where the results go (default <build>/bench)")
    ap.add_argument("--chart-copy", help="also copy the chart here (e.g. docs/perf/scale.svg)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = ap.parse_args()
    args.sizes = [int(x) for x in args.sizes.split(",")]
    only = [s for s in args.only.split(",") if s]
    if any(s not in SCENARIOS for s in only) or args.repeat < 1:
        ap.error(f"--only takes {', '.join(SCENARIOS)}; --repeat at least 1")
    if not args.no_build:
        build(args)
    out = args.out or os.path.join(ROOT, args.build, "bench")
    os.makedirs(out, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="sg_bench_scale_")
    results = {"machine": machine(), "args": {k: v for k, v in vars(args).items()},
               "load_before": os.getloadavg(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    bench = Bench(args, workdir)
    try:
        for name in only:
            print(f"== {name}", file=sys.stderr, flush=True)
            results[name] = getattr(bench, name)()
    finally:
        results["load_after"] = os.getloadavg()
        results["problems"] = bench.problems
        with open(os.path.join(out, "scale.json"), "w") as f:
            json.dump(results, f, indent=1)
        if args.keep:
            print(f"(work directory kept: {workdir})", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report = scale_report.markdown(results)
    with open(os.path.join(out, "scale.md"), "w") as f:
        f.write(report)
    print(report)
    chart = scale_report.chart_data(results)
    if chart:
        svg = os.path.join(out, "scale.svg")
        scale_svg.write(svg, *chart)
        if args.chart_copy:
            shutil.copyfile(svg, os.path.join(ROOT, args.chart_copy))
        print(f"chart: {svg}", file=sys.stderr)
    for p in bench.problems:
        print(f"scale: {p}", file=sys.stderr)
    sys.exit(1 if bench.problems else 0)


if __name__ == "__main__":
    main()
