"""The scale benchmark's chart (scale.py), as SVG written by hand: no
plotting library needed. Three panels side by side: CALL round trips per
path (grouped bars, log scale), saturation throughput per path (bars), and
the gateway's RSS and CPU against the number of chargers (lines).
"""

import math
from xml.sax.saxutils import escape

W, H = 1200, 420
PANEL_W, TOP, BOTTOM, LEFT = 340, 60, 340, 60
COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2"]
FONT = 'font-family="sans-serif"'


def _text(x, y, s, size=12, anchor="middle", extra=""):
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'{FONT} {extra}>{escape(str(s))}</text>')


def _fmt(v):
    if v >= 10000:
        return f"{v / 1000:.0f}k"
    if v >= 1000:
        return f"{v / 1000:.1f}k"
    return f"{v:.0f}" if v >= 10 else f"{v:.1f}"


def _axis_ticks(lo, hi, log):
    if log:
        return [10 ** e for e in range(int(math.floor(math.log10(lo))), int(math.ceil(math.log10(hi))) + 1)]
    step = 10 ** math.floor(math.log10(hi / 4 or 1))
    for m in (1, 2, 5, 10):
        if hi / (step * m) <= 6:
            step *= m
            break
    return [i * step for i in range(int(hi // step) + 2)]


def _bars(x0, title, unit, groups, series, log=False):
    """groups: names on the x axis; series: [(name, [value per group])]."""
    out = [_text(x0 + PANEL_W / 2, TOP - 30, title, 14, extra='font-weight="bold"')]
    values = [v for _, vs in series for v in vs if v and v > 0]
    if not values:
        return out
    lo, hi = (min(values) / 2, max(values) * 1.5) if log else (0, max(values) * 1.15)
    ticks = [t for t in _axis_ticks(lo, hi, log) if (t > 0 or not log)]
    lo, hi = (ticks[0], ticks[-1]) if log else (0, ticks[-1])

    def y(v):
        if log:
            return BOTTOM - (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * (BOTTOM - TOP)
        return BOTTOM - v / hi * (BOTTOM - TOP)

    for t in ticks:
        out.append(f'<line x1="{x0 + LEFT}" x2="{x0 + PANEL_W}" y1="{y(t):.1f}" y2="{y(t):.1f}" '
                   'stroke="#ddd"/>')
        out.append(_text(x0 + LEFT - 5, y(t) + 4, _fmt(t), 10, "end"))
    out.append(_text(x0 + 14, (TOP + BOTTOM) / 2, unit, 11,
                     extra=f'transform="rotate(-90 {x0 + 14} {(TOP + BOTTOM) / 2})"'))
    gw = (PANEL_W - LEFT) / len(groups)
    bw = gw * 0.8 / len(series)
    for g, name in enumerate(groups):
        gx = x0 + LEFT + g * gw + gw * 0.1
        out.append(_text(gx + gw * 0.4, BOTTOM + 16, name, 11))
        for s, (_, vs) in enumerate(series):
            v = vs[g]
            if not v or v <= 0:
                continue
            top = y(v)
            out.append(f'<rect x="{gx + s * bw:.1f}" y="{top:.1f}" width="{bw - 1:.1f}" '
                       f'height="{BOTTOM - top:.1f}" fill="{COLORS[s % len(COLORS)]}"/>')
            out.append(_text(gx + s * bw + bw / 2, top - 3, _fmt(v), 9))
    out += _legend(x0 + LEFT, BOTTOM + 34, [name for name, _ in series])
    return out


def _legend(x, y, names):
    out = []
    for i, name in enumerate(names):
        lx = x + i * 95
        out.append(f'<rect x="{lx}" y="{y - 9}" width="10" height="10" fill="{COLORS[i % len(COLORS)]}"/>')
        out.append(_text(lx + 14, y, name, 11, "start"))
    return out


def _lines(x0, title, xs, left, right):
    """left/right: (unit, [(name, [value per x])]) on their own axes."""
    out = [_text(x0 + PANEL_W / 2, TOP - 30, title, 14, extra='font-weight="bold"')]
    xmax = max(xs)

    def px(v):
        return x0 + LEFT + v / xmax * (PANEL_W - LEFT - 40)

    for v in xs:
        out.append(_text(px(v), BOTTOM + 16, _fmt(v), 10))
    out.append(_text(x0 + LEFT + (PANEL_W - LEFT) / 2, BOTTOM + 30, "chargers", 11))
    names = []
    for side, (unit, series) in enumerate((left, right)):
        vals = [v for _, vs in series for v in vs if v is not None]
        if not vals:
            continue
        ticks = _axis_ticks(0, max(vals) * 1.15, False)
        hi = ticks[-1]

        def py(v, hi=hi):
            return BOTTOM - v / hi * (BOTTOM - TOP)

        ax = x0 + LEFT if side == 0 else x0 + PANEL_W - 40
        for t in ticks:
            if side == 0:
                out.append(f'<line x1="{x0 + LEFT}" x2="{x0 + PANEL_W - 40}" y1="{py(t):.1f}" '
                           f'y2="{py(t):.1f}" stroke="#ddd"/>')
            out.append(_text(ax + (-5 if side == 0 else 5), py(t) + 4, _fmt(t), 10,
                             "end" if side == 0 else "start"))
        lx = x0 + 14 if side == 0 else x0 + PANEL_W + 10
        out.append(_text(lx, (TOP + BOTTOM) / 2, unit, 11,
                         extra=f'transform="rotate(-90 {lx} {(TOP + BOTTOM) / 2})"'))
        for name, vs in series:
            color = COLORS[len(names) % len(COLORS)]
            names.append(name)
            pts = [(px(x), py(v)) for x, v in zip(xs, vs) if v is not None]
            dash = ' stroke-dasharray="5,3"' if side == 1 else ""
            out.append('<polyline fill="none" stroke-width="2" stroke="{}"{} points="{}"/>'.format(
                color, dash, " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)))
            out += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{color}"/>' for a, b in pts]
    out += _legend(x0 + LEFT - 40, BOTTOM + 50, names)
    return out


def write(path, caption, rtt, saturation, scale):
    """rtt: (title, paths, [(percentile name, [µs per path])]); saturation:
    (title, paths, [CALLs/s per path]); scale: (chargers, left (unit, series),
    right (unit, series))."""
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
             f'viewBox="0 0 {W} {H}">', f'<rect width="{W}" height="{H}" fill="white"/>']
    parts += _bars(20, rtt[0], "µs (log scale)", rtt[1], rtt[2], log=True)
    parts += _bars(420, saturation[0], "CALLs/s", saturation[1], [("CALLs/s", saturation[2])])
    parts += _lines(820, "sitegate RSS and CPU", scale[0], scale[1], scale[2])
    parts.append(_text(W / 2, H - 8, caption, 11, extra='fill="#555"'))
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")
