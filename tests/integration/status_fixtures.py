"""Helpers of the status tests (test_status_*.py): the status listener's
config, plain HTTP GETs against it, a live stream reader, and a strict
parser of the Prometheus text exposition format (0.0.4)."""

import http.client
import json
import math
import re
import socket
import time


from conftest import HOST, TIMEOUT, free_port, wait_until

V = 230.0


def status_section(port=None, **extra):
    section = {"listen": f"{HOST}:{port or free_port()}"}
    section.update(extra)
    return section


def status_port(gw):
    return int(gw.config["status"]["listen"].rsplit(":", 1)[1])


def request(gw, path, token=None, method="GET", timeout=TIMEOUT):
    """(status, headers as a lower-case dict, body bytes) of one request."""
    conn = http.client.HTTPConnection(HOST, status_port(gw), timeout=timeout)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        conn.request(method, path, headers=headers)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def get_json(gw, path, token=None):
    status, headers, body = request(gw, path, token)
    assert status == 200, f"GET {path}: {status} {body[:200]!r}"
    assert headers["content-type"] == "application/json"
    return json.loads(body)


def wait_status(gw, predicate, what, timeout=TIMEOUT, path="/api/status", token=None):
    """Polls the API until predicate(json) holds; returns that json."""
    seen = {}

    def check():
        seen["last"] = get_json(gw, path, token)
        return seen["last"] if predicate(seen["last"]) else None
    try:
        return wait_until(check, timeout=timeout, what=what, interval=0.1)
    except TimeoutError as e:
        raise TimeoutError(f"{e}\nlast answer: {json.dumps(seen.get('last'))[:3000]}") from None


def charger_of(status, charger_id):
    return next(c for c in status["chargers"] if c["id"] == charger_id)


class Stream:
    """A raw reader of /api/stream: its events, one JSON document each."""

    def __init__(self, gw, token=None):
        self.sock = socket.create_connection((HOST, status_port(gw)), timeout=TIMEOUT)
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.sock.sendall(f"GET /api/stream HTTP/1.1\r\nHost: x\r\n{auth}\r\n".encode())
        self.buf = b""
        head = self._until(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1])
        self.headers = head.decode()

    def _until(self, mark, deadline=None):
        deadline = deadline or time.monotonic() + TIMEOUT
        while mark not in self.buf:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no {mark!r} on the stream")
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the stream closed")
            self.buf += chunk
        i = self.buf.index(mark)
        out, self.buf = self.buf[:i], self.buf[i + len(mark):]
        return out

    def event(self, timeout=TIMEOUT):
        """The next event: (name, parsed data)."""
        block = self._until(b"\n\n", time.monotonic() + timeout).decode()
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        return name, json.loads("\n".join(data))

    def close(self):
        self.sock.close()


# --- the Prometheus text format, strictly ---------------------------------------

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE = re.compile(rf"^(?P<name>{NAME})(?:\{{(?P<labels>(?:{LABEL})(?:,{LABEL})*)?\}})?"
                    rf" (?P<value>\S+)(?: (?P<ts>-?\d+))?$")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def parse_value(text):
    if text in ("NaN", "+Inf", "-Inf"):
        return {"NaN": math.nan, "+Inf": math.inf, "-Inf": -math.inf}[text]
    if not re.fullmatch(r"-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", text):
        raise AssertionError(f"not a Prometheus number: {text!r}")
    return float(text)


def parse_metrics(text):
    """Parses an exposition and checks the rules a scraper relies on; returns
    {family: {"type", "help", "samples": [(name, {labels}, value)]}}."""
    assert text.endswith("\n"), "an exposition ends with a newline"
    families, current, seen_samples = {}, None, set()
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {n}: {line!r}"
        assert line, f"{where}: empty line"
        if line.startswith("# HELP "):
            name, _, help_text = line[7:].partition(" ")
            assert re.fullmatch(NAME, name), where
            assert name not in families, f"{where}: family {name} given twice (or not contiguous)"
            families[name] = {"help": help_text, "type": None, "samples": []}
            current = name
            continue
        if line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert name == current, f"{where}: TYPE must follow the HELP of its family"
            assert kind in TYPES, where
            assert families[name]["type"] is None, f"{where}: TYPE twice"
            families[name]["type"] = kind
            continue
        assert not line.startswith("#"), f"{where}: unexpected comment"
        m = SAMPLE.match(line)
        assert m, f"{where}: not a sample line"
        name = m.group("name")
        labels = dict(re.findall(LABEL, m.group("labels") or ""))
        value = parse_value(m.group("value"))
        fam = current
        kind = families[fam]["type"] if fam else None
        assert fam and kind, f"{where}: a sample outside a family"
        allowed = {fam}
        if kind == "histogram":
            allowed = {fam + "_bucket", fam + "_sum", fam + "_count"}
        assert name in allowed, f"{where}: sample {name} in family {fam}"
        if kind == "counter":
            assert fam.endswith("_total"), f"{where}: a counter's name ends in _total"
            assert value >= 0, where
        key = (name, tuple(sorted(labels.items())))
        assert key not in seen_samples, f"{where}: the same series twice"
        seen_samples.add(key)
        families[fam]["samples"].append((name, labels, value))
    for fam, f in families.items():
        assert f["type"], f"{fam}: no TYPE"
        if f["type"] == "histogram":
            check_histogram(fam, f["samples"])
    return families


def check_histogram(fam, samples):
    buckets = [(s[1]["le"], s[2]) for s in samples if s[0] == fam + "_bucket"]
    count = [s[2] for s in samples if s[0] == fam + "_count"]
    total = [s[2] for s in samples if s[0] == fam + "_sum"]
    assert buckets and count and total, f"{fam}: buckets, _sum and _count"
    assert buckets[-1][0] == "+Inf", f"{fam}: the last bucket is +Inf"
    bounds = [parse_value(le) for le, _ in buckets]
    assert bounds == sorted(bounds), f"{fam}: buckets in increasing le"
    values = [v for _, v in buckets]
    assert values == sorted(values), f"{fam}: buckets are cumulative"
    assert values[-1] == count[0], f"{fam}: +Inf bucket == _count"


def sample(families, family, name=None, **labels):
    """The value of one series (None if absent)."""
    for n, lb, v in families.get(family, {"samples": []})["samples"]:
        if n == (name or family) and all(lb.get(k) == str(val) for k, val in labels.items()):
            return v
    return None
