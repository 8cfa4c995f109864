#!/usr/bin/python3
"""Smoke test of the benchmark tools (ctest bench.smoke): 10 loadgen chargers
(a 2.0.1 share among them) talk to fast_csms for 2 s, through ref_relay,
and through sitegate when --sitegate is given; fast_csms sends CALLs of its
own meanwhile. Checks that every charger booted, CALLs flowed and were
answered both ways, and nothing was lost, refused or out of order. Times
nothing: the numbers are scale.py's.

    tests/bench/smoke.py --bench-dir <build>/tests/bench [--sitegate <build>/gateway/sitegate]
"""

import argparse
import os
import signal
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import scale_procs as sp  # noqa: E402

CHARGERS = 10


def check(via, bench, workdir, sitegate):
    def log(name):
        return os.path.join(workdir, f"{name}.log")

    csms, csms_port = sp.start_listening("fast_csms", [
        os.path.join(bench, "fast_csms"), "--call-rate", "20"], log("fast_csms"))
    mid = load = None
    problems = []
    try:
        url = f"ws://{sp.HOST}:{csms_port}/ocpp"
        if via == "ref_relay":
            mid, port = sp.start_listening("ref_relay", [
                os.path.join(bench, "ref_relay"), "--upstream", url], log("ref_relay"))
            url = f"ws://{sp.HOST}:{port}/ocpp"
        elif via == "sitegate":
            state = os.path.join(workdir, "state")
            os.makedirs(state)
            cfg = os.path.join(workdir, "sitegate.json")
            port = sp.sitegate_config(cfg, state, csms_port, CHARGERS, "SM", {})
            mid = sp.Proc("sitegate", [sitegate, "-c", cfg], log("sitegate"), cwd=workdir)
            sp.wait_port(port, mid)
            url = f"ws://{sp.HOST}:{port}/ocpp"
        load = sp.Proc("loadgen", [
            os.path.join(bench, "loadgen"), "--url", url, "--chargers", str(CHARGERS),
            "--share-201", "0.3", "--prefix", "SM", "--rate", "100", "--warmup", "0.5",
            "--duration", "2", "--boot-timeout", "20"], log("loadgen"))
        booted = load.event("booted", 30)
        load.event("measuring", 10)
        s = load.event("summary", 20)
        code = load.stop(grace=10)
        csms.signal(signal.SIGUSR1)
        calls = csms.event("snapshot", 5)["csms_calls"]
        if booted["booted"] != CHARGERS or code != 0:
            problems.append(f"booted {booted['booted']} of {CHARGERS}, loadgen exit {code}")
        # Functional only: how many went (or were missed) depends on the load.
        if not s["calls"] or s["errors"] or s["closed"] or s["unmatched"]:
            problems.append(f"charger CALLs: {s}")
        if not calls["answered"] or calls["errors"] or calls["unmatched"]:
            problems.append(f"CSMS CALLs: {calls}")
        if via == "sitegate" and not s["answered"].get("SetChargingProfile"):
            problems.append(f"the gateway's profiles never came: {s['answered']}")
    except Exception as e:  # noqa: BLE001 - reported with the logs below
        problems.append(f"{type(e).__name__}: {e}")
    finally:
        for p in (load, mid):
            if p and p.stop() not in (0, None):
                problems.append(f"{p.name} exited {p.p.returncode}")
        if csms.stop() != 0:
            problems.append(f"fast_csms exited {csms.p.returncode}")
    with open(log("fast_csms"), errors="replace") as f:
        if "out-of-order" in f.read():
            problems.append("fast_csms saw CALLs out of order")
    for p in problems:
        print(f"smoke {via}: {p}", file=sys.stderr)
    for name in ("loadgen", "fast_csms", "ref_relay", "sitegate") if problems else ():
        if os.path.exists(log(name)):
            with open(log(name), errors="replace") as f:
                print(f"--- {name}:\n{''.join(f.readlines()[-10:])}", file=sys.stderr)
    print(f"smoke {via}: {'ok' if not problems else 'FAILED'}")
    return not problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench-dir", required=True, help="where fast_csms, loadgen, ref_relay are")
    ap.add_argument("--sitegate", help="the gateway binary: also through it")
    args = ap.parse_args()
    args.bench_dir = os.path.abspath(args.bench_dir)
    args.sitegate = args.sitegate and os.path.abspath(args.sitegate)
    ok = True
    with tempfile.TemporaryDirectory(prefix="sg_bench_smoke_") as workdir:
        for via in ("direct", "ref_relay") + (("sitegate",) if args.sitegate else ()):
            os.makedirs(os.path.join(workdir, via))
            ok &= check(via, args.bench_dir, os.path.join(workdir, via), args.sitegate)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
