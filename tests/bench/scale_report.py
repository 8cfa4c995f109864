"""The scale benchmark's results (scale.py's JSON) as Markdown tables, the
targets of issue 11 checked, and the chart's data (scale_svg.py).

Repeated measurements show as a range, min–max; the targets are judged on
the median. What a relay adds to direct is paired per repetition: the same
moment's load on a shared machine.
"""

import statistics

PATHS = ("direct", "ref_relay", "sitegate")
MIB = 1024.0

# The storm's two gateway runs: the default connect pacing, and pacing raised.
STORM_PATHS = ("sitegate (default pacing, 200/s)", "sitegate (pacing 1000/s)")


def _rng(values, fmt="{:.0f}"):
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    lo, hi = min(values), max(values)
    return fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else f"{fmt.format(lo)}–{fmt.format(hi)}"


def _med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _by_path(reps, path):
    return [r for rep in reps for r in rep if r["path"] == path]


def _pct(r, key, direction):
    if direction == "up":
        return r["summary"]["rtt"][key]
    return r["csms_calls"]["rtt"][key] if r["csms_calls"]["rtt"]["count"] else None


def _added(reps, path, key, direction):
    """path's percentile minus direct's, per repetition."""
    out = []
    for rep in reps:
        d = next(r for r in rep if r["path"] == "direct")
        m = next(r for r in rep if r["path"] == path)
        a, b = _pct(m, key, direction), _pct(d, key, direction)
        out.append(a - b if a is not None and b is not None else None)
    return out


def latency_table(res):
    reps = res["latency"]
    a = res["args"]
    lines = [f"CALL round trips, {a['chargers']:,} chargers ({a['share_201']:.0%} OCPP 2.0.1), "
             f"{a['rate']:,.0f} CALLs/s from the chargers and {a['csms_rate']:,.0f}/s from the CSMS, "
             f"µs ({len(reps)} runs of {a['duration']:g} s: min–max):", "",
             "| path | charger → CSMS p50 / p99 / p99.9 | added p50 / p99 "
             "| CSMS → charger p50 / p99 / p99.9 | added p50 / p99 | relay CPU |",
             "|---|---:|---:|---:|---:|---:|"]
    for path in PATHS:
        rs = _by_path(reps, path)
        cells = []
        for direction in ("up", "down"):
            cells.append(" / ".join(_rng([_pct(r, k, direction) for r in rs])
                                    for k in ("p50_us", "p99_us", "p999_us")))
            cells.append("–" if path == "direct" else " / ".join(
                _rng(_added(reps, path, k, direction)) for k in ("p50_us", "p99_us")))
        cpu = "–" if path == "direct" else _rng([r.get("mid_cpu_pct") for r in rs]) + " %"
        lines.append(f"| {path} | {' | '.join(cells)} | {cpu} |")
    return lines


def saturation_table(res):
    reps = res["saturation"]
    lines = [f"Saturation: {res['args']['chargers']:,} chargers in a closed loop (each sends its "
             "next CALL when the last is answered; one in flight per charger, as OCPP-J asks):", "",
             "| path | CALLs/s | messages relayed/s (CALL + answer) | share of ref_relay "
             "| relay CPU | loadgen CPU | fast_csms CPU |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for path in PATHS:
        rs = _by_path(reps, path)
        share = []
        for rep in reps:
            ref = next(r for r in rep if r["path"] == "ref_relay")["summary"]["calls_per_s"]
            share.append(100 * next(r for r in rep if r["path"] == path)["summary"]["calls_per_s"] / ref)
        lines.append(
            f"| {path} | {_rng([r['summary']['calls_per_s'] for r in rs])} "
            f"| {_rng([2 * r['summary']['calls_per_s'] for r in rs])} "
            f"| {_rng(share)} % | "
            f"{'–' if path == 'direct' else _rng([r.get('mid_cpu_pct') for r in rs]) + ' %'} "
            f"| {_rng([r['loadgen_cpu_pct'] for r in rs])} % | {_rng([r['csms_cpu_pct'] for r in rs])} % |")
    return lines


def _cpu_per_call_us(r):
    s = r["summary"]
    calls = s["calls_per_s"] + r["csms_calls"]["answered"] / s["duration_s"]
    return r["mid_cpu_pct"] / 100 / calls * 1e6 if calls else None


def scale_table(res):
    runs = res["scale"]
    lines = ["Memory and CPU by size: each charger sends 1 CALL/s and gets 0.1/s from the CSMS "
             "(a busy site: real chargers send one every 10–60 s); RSS at the end of the window "
             "(peak in brackets):", "",
             "| chargers | sockets | sitegate RSS | ref_relay RSS | sitegate CPU | ref_relay CPU "
             "| sitegate CPU per CALL | ref_relay CPU per CALL |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in sorted({r["chargers"] for r in runs}):
        g = next((r for r in runs if r["chargers"] == n and r["path"] == "sitegate"), None)
        f = next((r for r in runs if r["chargers"] == n and r["path"] == "ref_relay"), None)

        def mem(r):
            return f"{r['rss_kib'] / MIB:.1f} MiB ({r['hwm_kib'] / MIB:.1f})" if r and "rss_kib" in r else "–"

        def cpu(r):
            return f"{r['mid_cpu_pct']:.1f} %" if r and "mid_cpu_pct" in r else "–"

        def per(r):
            v = _cpu_per_call_us(r) if r and "mid_cpu_pct" in r else None
            return f"{v:.0f} µs" if v is not None else "–"

        lines.append(f"| {n:,} | {2 * n:,} | {mem(g)} | {mem(f)} | {cpu(g)} | {cpu(f)} | {per(g)} | {per(f)} |")
    return lines


def storm_table(res):
    reps = res["storm"]
    labels = [r["path"] for r in reps[0]]
    lines = [f"Connect storm: {res['args']['chargers']:,} chargers connecting at once, s until every "
             "one is connected, until every BootNotification is answered, and until the CSMS has "
             f"had every BootNotification (every upstream socket up) ({len(reps)} runs):", "",
             "| path | all connected | all booted | all at the CSMS |", "|---|---:|---:|---:|"]
    for label in labels:
        rs = [r for rep in reps for r in rep if r["path"] == label]
        never = [r["upstream_boots"] for r in rs if r.get("upstream_s") is None]
        at_csms = (_rng([r.get("upstream_s") for r in rs], "{:.2f}") if not never else
                   f"never: {_rng(never)} of {res['args']['chargers']:,} BootNotifications")
        lines.append(f"| {label} | {_rng([r['booted']['connect_s'] for r in rs], '{:.2f}')} "
                     f"| {_rng([r['booted']['boot_s'] for r in rs], '{:.2f}')} | {at_csms} |")
    return lines


def warnings(res):
    """The runs whose gateway log had warnings."""
    lines = []
    for name in ("latency", "saturation", "scale", "storm"):
        runs = res.get(name) or []
        for r in (x for rep in runs for x in (rep if isinstance(rep, list) else [rep])):
            w = r.get("gw_warnings")
            if w:
                lines.append(f"- {name}, {r['path']}, {r['chargers']:,} chargers: {w['count']} "
                             f"warnings, the first: `{w['first']}`")
    return ["Warnings in the gateway's log:", ""] + lines + [""] if lines else []


def script_tables(res):
    lines = []
    if res.get("replay"):
        lines += ["Replaying a 100,000-message backlog (replay.py, one charger):", "",
                  "| messages | replay | msgs/s | longest gap | gateway CPU |", "|---:|---:|---:|---:|---:|"]
        lines += [f"| {int(r[0]):,} | {r[4]} s | {r[5]} | {r[7]} ms | {r[9]} s |" for r in res["replay"]]
        lines.append("")
    if res.get("profiles"):
        lines += ["Grid-meter reading → every changed profile written (meter_to_profiles.py):", "",
                  "| connectors | profiles per reaction | median | p99 | max |", "|---:|---:|---:|---:|---:|"]
        lines += [f"| {r[0]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} |" for r in res["profiles"]]
        lines.append("")
    return lines


def _num(text):
    try:
        return float(str(text).split()[0])
    except (ValueError, IndexError):
        return None


def targets(res):
    """(target, measured, met) rows for what this run measured."""
    rows = []
    if res.get("scale"):
        g = next((r for r in res["scale"] if r["chargers"] == 1000 and r["path"] == "sitegate"), None)
        if g:
            rss = g["rss_kib"] / MIB
            rows.append(("1,000 chargers: gateway RSS ≤ 40 MiB",
                         f"{rss:.1f} MiB (peak {g['hwm_kib'] / MIB:.1f})", rss <= 40))
    if res.get("latency"):
        reps = res["latency"]
        for key, name, limit in (("p50_us", "p50", 100), ("p99_us", "p99", 250)):
            added = _added(reps, "sitegate", key, "up")
            med = _med(added)
            rows.append((f"added round trip {name} ≤ {limit} µs at {res['args']['rate']:,.0f} CALLs/s",
                         f"{med:.0f} µs (runs: {_rng(added)})", med is not None and med <= limit))
    if res.get("saturation"):
        share = [100 * next(r for r in rep if r["path"] == "sitegate")["summary"]["calls_per_s"] /
                 next(r for r in rep if r["path"] == "ref_relay")["summary"]["calls_per_s"]
                 for rep in res["saturation"]]
        rows.append(("saturation ≥ 80 % of ref_relay", f"{_med(share):.0f} % (runs: {_rng(share)} %)",
                     _med(share) >= 80))
    if res.get("storm"):
        for label in STORM_PATHS:
            rs = [r for rep in res["storm"] for r in rep if r["path"] == label]
            v = [r.get("upstream_s") for r in rs]
            name = f"1,000 chargers connected and booted at the CSMS < 10 s, {label}"
            if rs and None not in v:
                rows.append((name, f"{_med(v):.1f} s (runs: {_rng(v, '{:.1f}')})", _med(v) < 10))
            elif rs:
                rows.append((name, f"never: the CSMS had {_rng([r['upstream_boots'] for r in rs])} "
                                   "BootNotifications", False))
    if res.get("profiles"):
        for r in res["profiles"]:
            if r[0] == "500":
                rows.append(("meter sample → profiles ≤ 10 ms, 500 connectors", f"{r[3]} (median)",
                             _num(r[3]) is not None and _num(r[3]) <= 10))
    if res.get("replay"):
        for r in res["replay"]:
            rows.append(("100,000-message backlog replayed < 30 s", f"{r[4]} s", _num(r[4]) < 30))
    return rows


def markdown(res):
    m = res["machine"]
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores, {m['mem_gib']} GiB, Linux {m['kernel']}, "
             f"open files {m['nofile']}; load average {res['load_before'][0]:.2f} before, "
             f"{res['load_after'][0]:.2f} after; {res['started']}.", ""]
    for name, table in (("latency", latency_table), ("saturation", saturation_table),
                        ("scale", scale_table), ("storm", storm_table)):
        if res.get(name):
            lines += table(res) + [""]
    lines += script_tables(res)
    lines += warnings(res)
    rows = targets(res)
    if rows:
        lines += ["| target | measured | met |", "|---|---:|:---:|"]
        lines += [f"| {t} | {v} | {'yes' if ok else '**no**'} |" for t, v, ok in rows]
        lines.append("")
    if res.get("problems"):
        lines += ["Problems:", ""] + [f"- {p}" for p in res["problems"]] + [""]
    return "\n".join(lines)


def chart_data(res):
    """scale_svg.write's arguments, or None when latency, saturation and scale
    were not all run."""
    if not (res.get("latency") and res.get("saturation") and res.get("scale")):
        return None
    a = res["args"]
    percentiles = (("p50", "p50_us"), ("p99", "p99_us"), ("p99.9", "p999_us"))
    rtt = (f"CALL round trip at {a['rate']:,.0f}/s", PATHS,
           [(name, [_med([r["summary"]["rtt"][key] for r in _by_path(res["latency"], p)])
                    for p in PATHS]) for name, key in percentiles])
    sat = (f"Saturation, {a['chargers']:,} chargers", PATHS,
           [_med([r["summary"]["calls_per_s"] for r in _by_path(res["saturation"], p)])
            for p in PATHS])
    sizes = sorted({r["chargers"] for r in res["scale"]})

    def pick(path, f):
        return [next((f(r) for r in res["scale"] if r["chargers"] == n and r["path"] == path), None)
                for n in sizes]

    left = ("RSS, MiB", [("sitegate RSS", pick("sitegate", lambda r: r["rss_kib"] / MIB)),
                         ("ref_relay RSS", pick("ref_relay", lambda r: r["rss_kib"] / MIB))])
    right = ("CPU, % of a core (1 CALL/s per charger)",
             [("sitegate CPU", pick("sitegate", lambda r: r["mid_cpu_pct"]))])
    m = res["machine"]
    caption = (f"{res['started']}, {m['cores']} cores ({m['cpu']}); round trips at {a['rate']:,.0f} "
               f"CALLs/s, {a['chargers']:,} chargers; medians of {a['repeat']} runs")
    return caption, rtt, sat, (sizes, left, right)
