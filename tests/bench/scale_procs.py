"""The processes of the scale benchmark (scale.py): fast_csms, ref_relay,
sitegate and loadgen, started, read and stopped, with the numbers /proc
tells about them (CPU seconds, RSS).

Every wait is bounded; every process started is stopped (SIGTERM, then
SIGKILL after a few seconds), by its own pid.
"""

import json
import os
import queue
import signal
import socket
import subprocess
import threading
import time

HOST = "127.0.0.1"


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Proc:
    """A child process whose stdout lines are read by a thread into a queue
    (stderr goes to a log file)."""

    def __init__(self, name, argv, log_path, cwd=None):
        self.name = name
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log,
                                  stdin=subprocess.DEVNULL, cwd=cwd, text=True)
        self.lines = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.p.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    @property
    def pid(self):
        return self.p.pid

    def line(self, timeout):
        """The next stdout line; raises at the timeout or at the end."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"{self.name}: no output within {timeout} s") from None
        if line is None:
            raise RuntimeError(f"{self.name} exited ({self.p.wait()}): {self.tail()}")
        return line

    def event(self, name, timeout):
        """The next JSON line whose "event" is name (other lines are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.line(max(0.01, deadline - time.monotonic()))
            if line.startswith("{"):
                obj = json.loads(line)
                if obj.get("event") == name:
                    return obj

    def cpu_s(self):
        """utime + stime so far (Linux /proc)."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory_kib(self):
        """(VmRSS, VmHWM) in KiB."""
        got = {}
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    got[key] = int(value.split()[0])
        return got.get("VmRSS", 0), got.get("VmHWM", 0)

    def signal(self, signum):
        if self.p.poll() is None:
            self.p.send_signal(signum)

    def stop(self, timeout=10.0, grace=0.0):
        """After grace seconds to exit by itself, SIGTERM, then SIGKILL; the
        exit code."""
        if grace > 0:
            try:
                self.p.wait(grace)
            except subprocess.TimeoutExpired:
                pass
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.reader.join(5)
        self.log.close()
        return self.p.returncode

    def tail(self, n=15):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return "".join(f.readlines()[-n:])


def start_listening(name, argv, log_path, timeout=10.0):
    """A tool that prints "port=<N>" first (fast_csms, ref_relay): (proc, port)."""
    proc = Proc(name, argv, log_path)
    try:
        first = proc.line(timeout)
        if not first.startswith("port="):
            raise RuntimeError(f"{name} did not start: {first!r}")
        return proc, int(first[5:])
    except Exception:
        proc.stop()
        raise


def wait_port(port, proc, timeout=15.0):
    """Until something accepts on 127.0.0.1:port (the gateway is listening)."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.p.poll() is not None:
            raise RuntimeError(f"{proc.name} exited ({proc.p.returncode}): {proc.tail()}")
        try:
            socket.create_connection((HOST, port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{proc.name} is not listening on {port}") from None
            time.sleep(0.05)


def sitegate_config(path, state_dir, csms_port, n, prefix, overrides):
    """A passthrough config listing the n loadgen chargers; returns the port.
    overrides: {"section": {key: value}} merged in."""
    port = free_port()
    cfg = {
        # A cap no allocation reaches: the balancer runs and its profiles go
        # out, but nobody is throttled.
        "site": {"id": "BENCH-SITE", "grid_limit_kw": 100000},
        "listen": {"address": HOST, "port": port, "path": "/ocpp"},
        "upstream": {"url": f"ws://{HOST}:{csms_port}/ocpp", "mode": "passthrough"},
        "chargers": [{"id": f"{prefix}{i:05d}"} for i in range(n)],
        "state_dir": state_dir,
        "log_level": "info",
    }
    for section, values in overrides.items():
        cfg.setdefault(section, {}).update(values)
    with open(path, "w") as f:
        json.dump(cfg, f)
    return port
