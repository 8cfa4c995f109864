"""Issue 8, running under systemd without systemd: the gateway speaks the
notify protocol itself. The test plays systemd's part: a unix datagram socket
as $NOTIFY_SOCKET (READY=1 only once it listens and the store is open, the
watchdog at half of $WATCHDOG_USEC, RELOADING=1/READY=1 around a SIGHUP,
STOPPING=1), and $JOURNAL_STREAM naming the log file (syslog priorities on
every line)."""

import os
import re
import shutil
import signal
import socket
import tempfile
import time

import pytest

from conftest import assert_stays, port_accepts


@pytest.fixture
def notify(monkeypatch):
    # A unix socket path holds 107 bytes at most: not in the (deep) build tree.
    folder = tempfile.mkdtemp(prefix="sg-notify-")
    path = os.path.join(folder, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.1)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    yield sock
    sock.close()
    shutil.rmtree(folder, ignore_errors=True)


def messages(sock, until, timeout=10):
    """Datagrams received until one satisfies until(list) (or the deadline)."""
    got, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            got.append(sock.recv(4096).decode())
        except socket.timeout:
            continue
        if until(got):
            return got
    raise TimeoutError(f"systemd heard only {got}")


def drain(sock):
    """The datagrams waiting on sock now, without waiting for more."""
    got, timeout = [], sock.gettimeout()
    sock.settimeout(0)
    try:
        while True:
            got.append(sock.recv(4096).decode())
    except BlockingIOError:
        return got
    finally:
        sock.settimeout(timeout)


def test_ready_watchdog_reload_and_stop(csms, gateway, notify, monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "200000")          # pings every 100 ms
    gw = gateway(start=False)
    gw.start()
    got = messages(notify, lambda m: any(x.startswith("READY=1") for x in m))
    ready = next(x for x in got if x.startswith("READY=1"))
    assert "STATUS=site TEST-SITE, 2 chargers configured" in ready
    assert port_accepts(gw.port)                            # READY came after the listener
    assert os.path.exists(os.path.join(gw.config["state_dir"], "sitegate.db"))

    start = time.monotonic()
    messages(notify, lambda m: m.count("WATCHDOG=1") >= 5)
    assert time.monotonic() - start < 2.0

    gw.send_signal(signal.SIGHUP)
    messages(notify, lambda m: "RELOADING=1" in m and m[m.index("RELOADING=1"):].count("READY=1"))
    gw.send_signal(signal.SIGTERM)
    messages(notify, lambda m: "STOPPING=1" in m)
    assert gw.wait_exit() == 0


def test_watchdog_for_another_process_is_ignored(csms, gateway, notify, monkeypatch):
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    monkeypatch.setenv("WATCHDOG_PID", "1")
    gw = gateway()
    messages(notify, lambda m: any(x.startswith("READY=1") for x in m))
    # five pings would have come: none may
    assert_stays(lambda: "WATCHDOG=1" not in drain(notify), 0.5, what="no watchdog pings")
    assert gw.running


def test_journal_priorities(csms, gateway, monkeypatch, tmp_path):
    gw = gateway(start=False)
    open(gw.log_path, "ab").close()           # the stream journald would give it
    st = os.stat(gw.log_path)
    monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
    gw.start()
    gw.wait_log(r"^<6>info gateway: started ")
    gw.terminate()
    lines = gw.log_text().splitlines()
    assert lines and all(re.match(r"<[3-7]>(error|warn|info|debug) \w+: ", l) for l in lines), lines[:5]
    assert any(l.startswith("<7>debug ") for l in lines)

    # stderr elsewhere (not the journal's stream): no prefixes
    monkeypatch.setenv("JOURNAL_STREAM", "1:1")
    gw2 = gateway(name="plain")
    gw2.wait_log(r"^info gateway: started ")
