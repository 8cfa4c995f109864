"""Fixtures of the integration suite: the real sitegate binary against simulated
CSMSs and chargers (tests/sim), all on 127.0.0.1, every wait bounded.

    sims      the asyncio loop of the simulators, and everything made on it
    csms      a started SimCsms (blocking face) on a port of its own
    gateway   a factory: gateway(csms=..., chargers=[...], **config overrides)
              starts $SITEGATE_BIN -c <config in tmp_path> and waits until it listens
    charger   a factory: charger("CP01", "1.6", ...) -> a connected SimCharger
              (blocking face) talking to the newest gateway

Environment: SITEGATE_BIN (the daemon; ctest sets it), SITEGATE_SOURCE_DIR.
"""

import base64
import copy
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.environ.get("SITEGATE_SOURCE_DIR") or os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "sim"))

import ocpp_sim  # noqa: E402
from modbus_meter import SimMeter  # noqa: E402
from waits import HOST, POLL, TIMEOUT, free_port, port_accepts, wait_until  # noqa: E402,F401

SHUTDOWN_TIMEOUT = 5.0      # SIGTERM -> exit, as the gateway promises

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer", "SUMMARY: UndefinedBehaviorSanitizer")


# --- helpers ---------------------------------------------------------------------

def assert_stays(predicate, seconds, what="a condition", interval=POLL):
    """Checks that predicate() stays truthy for a whole observation window: for
    "nothing more happens" checks, which can only be made over a bounded time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert predicate(), f"{what} stopped holding"
        time.sleep(interval)


def sitegate_bin():
    path = os.environ.get("SITEGATE_BIN") or os.path.join(SOURCE_DIR, "build", "gateway", "sitegate")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"the sitegate binary {path} does not exist: build it first "
                    f"(cmake -S . -B build && cmake --build build), or set SITEGATE_BIN")
    return path


_hash_cache = {}


def hash_password(password):
    """`sitegate --hash-password` of a plaintext (read on its stdin)."""
    if password not in _hash_cache:
        r = subprocess.run([sitegate_bin(), "--hash-password"], input=password.encode(),
                           capture_output=True, timeout=TIMEOUT)
        out = r.stdout.decode().strip()
        if r.returncode != 0 or not out:
            pytest.fail(f"sitegate --hash-password failed (exit {r.returncode}): "
                        f"{r.stderr.decode().strip()}")
        _hash_cache[password] = out
    return _hash_cache[password]


def basic_auth(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def deep_merge(base, overrides):
    """A copy of base with overrides merged in (dicts recursively; None deletes a key)."""
    out = copy.deepcopy(base)
    for k, v in (overrides or {}).items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def charger_entry(spec):
    """A config `chargers` entry from "CP01" or {"id", "password", "upstream_password", ...}
    ("password" is the plaintext; it becomes password_hash)."""
    if isinstance(spec, str):
        return {"id": spec}
    entry = dict(spec)
    if "password" in entry:
        entry["password_hash"] = hash_password(entry.pop("password"))
    return entry


def make_config(listen_port, upstream_url, chargers, state_dir, overrides=None):
    """The gateway's JSON config (a dict) for one test."""
    base = {
        "site": {"id": "TEST-SITE", "grid_limit_kw": 200},
        "listen": {"address": HOST, "port": listen_port, "path": "/ocpp",
                   "ping_interval_s": 30, "allow_unknown_chargers": False},
        "upstream": {"url": upstream_url, "mode": "passthrough", "call_timeout_s": 30,
                     "ping_interval_s": 30, "reconnect_min_s": 0.2, "reconnect_max_s": 2},
        "chargers": [charger_entry(c) for c in chargers],
        "limits": {"max_frame_bytes": 65536, "max_pending_calls": 64, "hold_frames": 1000},
        "state_dir": state_dir,
        "log_level": "debug",
    }
    return deep_merge(base, overrides)


# --- the gateway process -----------------------------------------------------------

class Gateway:
    """One sitegate process started by a test."""

    def __init__(self, binary, config, workdir, name="gw"):
        self.binary = binary
        self.config = config
        self.name = name
        self.workdir = workdir
        self.config_path = os.path.join(workdir, f"{name}.json")
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.stdout_path = os.path.join(workdir, f"{name}.stdout")
        self.proc = None
        self.allow_unclean_exit = False  # set by tests that kill it on purpose
        self._sent_term = False
        self._sent_kill = False

    @property
    def port(self):
        return self.config["listen"]["port"]

    @property
    def url(self):
        """The base URL chargers connect to (their id is appended)."""
        return f"ws://{HOST}:{self.port}{self.config['listen']['path']}"

    @property
    def pid(self):
        return self.proc.pid

    @property
    def returncode(self):
        return self.proc.poll() if self.proc else None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout=TIMEOUT):
        with open(self.config_path, "w") as f:
            json.dump(self.config, f, indent=2)
        log = open(self.log_path, "ab")
        out = open(self.stdout_path, "ab")
        try:
            self.proc = subprocess.Popen([self.binary, "-c", self.config_path],
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=log,
                                         cwd=self.workdir, start_new_session=True)
        finally:
            log.close()
            out.close()
        deadline = time.monotonic() + timeout
        while not port_accepts(self.port):
            if self.proc.poll() is not None:
                raise GatewayExited(self, f"{self.name} exited with {self.proc.returncode} "
                                          f"before listening on {self.port}")
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{self.name} did not listen on {self.port} within "
                                   f"{timeout} s\n{self.log_tail()}")
            time.sleep(POLL)
        return self

    # the log

    def log_text(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_mark(self):
        """A position in the log: wait_log(since=mark) looks only at what follows."""
        return len(self.log_text())

    def log_tail(self, lines=40):
        tail = self.log_text().splitlines()[-lines:]
        return f"--- last lines of {self.log_path} ---\n" + "\n".join(tail)

    def find_log(self, pattern, since=0):
        return re.search(pattern, self.log_text()[since:], re.MULTILINE)

    def wait_log(self, pattern, timeout=TIMEOUT, since=0):
        """Waits for a log line matching a regex (re.MULTILINE); returns the match."""
        deadline = time.monotonic() + timeout
        while True:
            m = self.find_log(pattern, since)
            if m:
                return m
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no log line matching {pattern!r} within {timeout} s\n"
                                   f"{self.log_tail()}")
            time.sleep(POLL)

    def sanitizer_report(self):
        text = self.log_text()
        for marker in SANITIZER_MARKERS:
            i = text.find(marker)
            if i >= 0:
                return text[max(0, i - 200):i + 4000]
        return None

    # signals

    def send_signal(self, sig):
        if sig == signal.SIGTERM or sig == signal.SIGINT:
            self._sent_term = True
        if sig == signal.SIGKILL:
            self._sent_kill = True
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=SHUTDOWN_TIMEOUT):
        """Waits for the process to exit; returns its exit code (TimeoutError if it does not)."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"{self.name} (pid {self.pid}) still running after {timeout} s\n"
                               f"{self.log_tail()}") from None

    def terminate(self, timeout=SHUTDOWN_TIMEOUT, sig=signal.SIGTERM):
        """SIGTERM, then the exit code (TimeoutError when it takes longer than timeout)."""
        if self.running:
            self.send_signal(sig)
        return self.wait_exit(timeout)

    def kill(self):
        """SIGKILL to the gateway and everything in its process group."""
        self._sent_kill = True
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            pass

    def stop(self):
        """Teardown: SIGTERM, wait, SIGKILL if needed (always, for the whole group).
        Returns a list of problems (a crash, a slow or unclean exit, sanitizer reports)."""
        problems = []
        if self.proc is None:
            return problems
        if self.running:
            self.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(SHUTDOWN_TIMEOUT)
            except subprocess.TimeoutExpired:
                problems.append(f"{self.name} did not exit within {SHUTDOWN_TIMEOUT} s of SIGTERM")
        rc = self.proc.poll()
        # Whatever is left of its process group goes too (the gateway itself, when
        # it ignored SIGTERM).
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if rc is None:
            self._sent_kill = True
            self.proc.wait(TIMEOUT)
            rc = self.proc.returncode
        if not self.allow_unclean_exit and not self._sent_kill and rc not in (0, None):
            problems.append(f"{self.name} exited with {rc}"
                            + (" after SIGTERM" if self._sent_term else " on its own"))
        report = self.sanitizer_report()
        if report:
            problems.append(f"sanitizer report in {self.log_path}:\n{report}")
        if problems:
            problems.append(self.log_tail())
        return problems


class GatewayExited(RuntimeError):
    def __init__(self, gw, message):
        super().__init__(f"{message}\n{gw.log_tail()}")
        self.gateway = gw


class GatewayFactory:
    """gateway(csms=None, chargers=("CP01", "CP02"), **overrides) -> a started Gateway.

    csms: the SimCsms upstream (default: the `csms` fixture); upstream_url
    overrides it. chargers: ids or dicts ({"id", "password", "upstream_password"}).
    overrides are merged into the config (e.g. limits={"max_frame_bytes": 1024})."""

    def __init__(self, request, tmp_path):
        self._request = request
        self._tmp = tmp_path
        self.started = []

    @property
    def latest(self):
        if not self.started:
            raise RuntimeError("no gateway started in this test")
        return self.started[-1]

    def config(self, csms=None, chargers=("CP01", "CP02"), upstream_url=None, port=None,
               name=None, **overrides):
        if upstream_url is None:
            csms = csms if csms is not None else self._request.getfixturevalue("csms")
            upstream_url = csms.url
        name = name or f"gw{len(self.started) + 1}"
        state_dir = os.path.join(str(self._tmp), f"{name}-state")
        os.makedirs(state_dir, exist_ok=True)
        return make_config(port or free_port(), upstream_url, chargers, state_dir, overrides)

    def __call__(self, csms=None, chargers=("CP01", "CP02"), upstream_url=None, port=None,
                 name=None, start=True, config=None, **overrides):
        binary = sitegate_bin()
        name = name or f"gw{len(self.started) + 1}"
        for attempt in range(3):
            cfg = config or self.config(csms, chargers, upstream_url, port, name, **overrides)
            gw = Gateway(binary, cfg, str(self._tmp), name)
            self.started.append(gw)
            if not start:
                return gw
            try:
                return gw.start()
            except GatewayExited as e:
                # Someone took the port between free_port() and the bind: try another.
                bind_race = (port is None and config is None
                             and re.search(r"address already in use|bind", e.gateway.log_text(), re.I))
                if not bind_race or attempt == 2:
                    raise
                gw.allow_unclean_exit = True

    def stop_all(self):
        problems = []
        for gw in reversed(self.started):
            problems += gw.stop()
        return problems


# --- the simulators ------------------------------------------------------------------

class Sims:
    """The simulators of one test, on one asyncio loop; closed at teardown."""

    def __init__(self):
        self.loop = ocpp_sim.SimLoop()
        self.peers = []
        self.check_violations = True   # teardown fails on violations unless a test opts out

    def csms(self, start=True, port=0, **kwargs):
        """A SimCsms (blocking face), started unless start=False. Its port is bound
        even while it is stopped (connecting is refused), so it stays ours."""
        c = self.loop.blocking(ocpp_sim.SimCsms(port=port, **kwargs))
        self.peers.append(c)
        if start:
            c.start()
        return c

    def charger(self, url, charger_id, version="1.6", connect=True, **kwargs):
        """A SimCharger (blocking face) on base URL `url`, connected unless connect=False."""
        ch = self.loop.blocking(ocpp_sim.SimCharger(url, charger_id, version, **kwargs))
        self.peers.append(ch)
        if connect:
            ch.connect()
        return ch

    def gather(self, *coros, timeout=ocpp_sim.DEFAULT_TIMEOUT, return_exceptions=False):
        return self.loop.gather(*coros, timeout=timeout, return_exceptions=return_exceptions)

    def spawn(self, coro):
        return self.loop.spawn(coro)

    def close(self):
        for p in reversed(self.peers):
            try:
                p.close()
            except Exception:
                pass
        self.loop.close()


@pytest.fixture
def sims():
    s = Sims()
    yield s
    found = ocpp_sim.violations(*s.peers) if s.check_violations else []
    s.close()
    if found:
        lines = "\n".join(f"  {v}" for v in found[:30])
        pytest.fail(f"{len(found)} OCPP violation(s) seen by the simulators:\n{lines}",
                    pytrace=False)


@pytest.fixture
def csms(sims):
    """A started simulated CSMS on its own port."""
    return sims.csms()


@pytest.fixture
def gateway(request, tmp_path, sims):
    factory = GatewayFactory(request, tmp_path)
    yield factory
    problems = factory.stop_all()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def charger(sims, gateway):
    """charger("CP01", "1.6", gw=None, connect=True, **SimCharger kwargs): a
    simulated charger of the newest gateway (or of gw)."""
    def make(charger_id="CP01", version="1.6", gw=None, connect=True, **kwargs):
        gw = gw or gateway.latest
        return sims.charger(gw.url, charger_id, version, connect=connect, **kwargs)
    return make


@pytest.fixture
def meter():
    """A simulated grid meter (Modbus TCP, Eastron SDM630 map) on a port of its own."""
    m = SimMeter(port=0, name="grid")
    m.start()
    yield m
    m.close()


def grid_meter(m, **extra):
    """The meters[] entry that polls the simulated grid meter m."""
    entry = {"name": "grid", "role": "grid", "template": "eastron_sdm630",
             "tcp": {"host": HOST, "port": m.port}, "poll_ms": 200, "timeout_ms": 300}
    entry.update(extra)
    return entry
