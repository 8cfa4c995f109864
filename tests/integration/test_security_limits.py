"""Issue 9, hostile peers: each limit under `limits` exceeded by a hostile
client while a normal charger keeps working, and each refusal counted in the
log. Hostile clients that must come from another address connect from
127.0.0.2 (still loopback)."""

import socket
import time

import pytest
import websockets

import ocpp_sim
from conftest import HOST, wait_until

OTHER = "127.0.0.2"


def raw(gw, source=None, rcvbuf=None):
    """A plain TCP connection to the gateway's charger port."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if source:
        s.bind((source, 0))
    try:
        s.settimeout(5)
        s.connect((HOST, gw.port))
    except OSError:
        s.close()
        raise
    return s


@pytest.fixture
def raws():
    """raws(gw, source=None, rcvbuf=None): raw() sockets, all closed at teardown."""
    made = []

    def make(gw, source=None, rcvbuf=None):
        made.append(raw(gw, source, rcvbuf))
        return made[-1]
    yield make
    for s in made:
        s.close()


def closed_by_peer(s, timeout=5):
    """Whether the gateway closes s within timeout (reads until EOF or reset)."""
    s.settimeout(timeout)
    try:
        while s.recv(4096):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def stays_open(s, seconds):
    s.settimeout(seconds)
    try:
        return s.recv(1) != b""
    except socket.timeout:
        return True
    except ConnectionResetError:
        return False


def test_max_connections(csms, gateway, charger, raws):
    gw = gateway(chargers=["CP01", "CP02"], limits={"max_connections": 4})
    cp = charger("CP01", "1.6")
    cp.boot()
    hostile = [raws(gw) for _ in range(3)]      # with CP01: the limit
    extra = raws(gw)
    assert closed_by_peer(extra)
    gw.wait_log(r"^warn proxy: connection refused address=\S+ reason=limits.max_connections "
                r"connections=4")
    cp.heartbeat()                               # the charger inside works on
    for s in hostile:
        s.close()
    # once they are gone there is room again
    cp2 = wait_until(lambda: _try_connect(charger, "CP02"), what="CP02 to get a socket")
    cp2.heartbeat()
    ocpp_sim.assert_no_violations(csms, cp, cp2)


def _try_connect(charger, cid):
    try:
        return charger(cid, "1.6")
    except (OSError, TimeoutError, websockets.exceptions.InvalidHandshake):
        return None                              # refused, reset or timed out


def test_max_connections_per_address(csms, gateway, charger, raws):
    gw = gateway(chargers=["CP01"], limits={"max_connections_per_address": 2})
    hostile = [raws(gw, OTHER) for _ in range(2)]
    third = raws(gw, OTHER)
    assert closed_by_peer(third)
    gw.wait_log(r"^warn proxy: connection refused address=127\.0\.0\.2 "
                r"reason=limits.max_connections_per_address connections=2")
    assert all(stays_open(s, 0.2) for s in hostile)
    cp = charger("CP01", "1.6")                  # from 127.0.0.1: not affected
    cp.session()
    ocpp_sim.assert_no_violations(csms, cp)


def test_handshake_timeout(csms, gateway, charger, raws):
    gw = gateway(chargers=["CP01"], limits={"handshake_timeout_s": 1})
    silent = raws(gw)
    slow = raws(gw)
    slow.sendall(b"GET /ocpp/CP01 HTTP/1.1\r\nHost: x\r\n")   # and never the rest
    cp = charger("CP01", "2.0.1")
    t0 = time.monotonic()
    assert closed_by_peer(silent, timeout=5) and closed_by_peer(slow, timeout=5)
    assert time.monotonic() - t0 < 4
    gw.wait_log(r"^warn proxy: handshakes timed out count=\d+ limit_s=1")
    cp.heartbeat()                               # an established socket has no deadline
    assert cp.connected
    ocpp_sim.assert_no_violations(csms, cp)


def test_frame_rate(csms, gateway, charger, sims):
    gw = gateway(chargers=["CP01", "CPX"], limits={"charger_frames_per_s": 5})
    cp = charger("CP01", "1.6")
    cp.boot()
    flood = charger("CPX", "1.6", validate=False)
    flood.boot()
    # 15 CALLs at once: the burst (10, less the boot's) goes through, the rest
    # is refused (fewer than a burst in a row: not closed yet)
    ids = [f"flood-{i}" for i in range(15)]
    for i in ids:
        flood.send_json([2, i, "Heartbeat", {}])
    replies = [flood.wait_reply(i) for i in ids]
    refused = [r for r in replies if not r.ok]
    assert refused and all(r.error_code == "GenericError" and
                           r.error_description == "rate limit exceeded" for r in refused)
    assert len(csms.received("CPX", action="Heartbeat", types=(2,))) == 15 - len(refused)
    gw.wait_log(r"^warn proxy: frame rate exceeded charger=CPX limit_per_s=5")
    # a flood that goes on is closed with 1008
    for i in range(60):
        try:
            flood.send_json([2, f"more-{i}", "Heartbeat", {}])
        except ConnectionError:
            break                                # closed already
    flood.wait_closed()
    assert flood.close_code == 1008
    gw.wait_log(r"^warn proxy: closing charger reason=frame rate charger=CPX")
    cp.heartbeat()
    assert cp.connected
    sims.check_violations = False                # the flood's own unanswered CALLs


def test_idle_timeout(csms, gateway, charger):
    gw = gateway(chargers=["CP01", "CPX"], limits={"idle_timeout_s": 1})
    cp = charger("CP01", "1.6")
    idle = charger("CPX", "1.6")
    idle.boot()
    t0 = time.monotonic()
    while idle.connected and time.monotonic() - t0 < 6:
        cp.heartbeat()                           # the busy one stays
        time.sleep(0.2)
    assert not idle.connected and idle.close_code == 1000
    gw.wait_log(r"^info proxy: closing charger reason=idle charger=CPX idle_s=1")
    assert cp.connected
    ocpp_sim.assert_no_violations(csms, cp)


def test_slow_reader_is_closed_not_buffered(csms, gateway, charger, sims, raws):
    """A charger that sends CALLs but never reads the answers: the gateway
    queues at most limits.max_queued_bytes for it, then closes it."""
    big = "x" * 30000
    csms.on("DataTransfer", lambda ctx: {"status": "Accepted", "data": big})
    gw = gateway(chargers=["CP01", "CPX"], limits={
        "max_frame_bytes": 32768, "max_queued_bytes": 65536, "charger_frames_per_s": 0})
    cp = charger("CP01", "1.6")
    cp.boot()
    s = raws(gw, rcvbuf=4096)
    s.sendall(b"GET /ocpp/CPX HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
              b"Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    assert b" 101 " in head.split(b"\r\n")[0]
    # CALLs, masked as a client must, in waves that the CALLs in flight
    # (limits.max_pending_calls) allow; their answers (~12 MB, more than the
    # kernel's socket buffers) are never read
    for i in range(400):
        payload = ('[2,"dt-%d","DataTransfer",{"vendorId":"x"}]' % i).encode()
        frame = bytes([0x81, 0x80 | len(payload)]) + b"\0\0\0\0" + payload
        try:
            s.sendall(frame)
        except OSError:
            break                                # closed already
        if i % 40 == 39:
            if gw.find_log(r"^warn proxy: closed a charger that does not read"):
                break
            time.sleep(0.1)
    gw.wait_log(r"^warn proxy: closed a charger that does not read charger=CPX "
                r"max_queued_bytes=65536", timeout=20)
    cp.heartbeat()
    assert cp.connected
    sims.check_violations = False                # the CSMS saw CALLs of a socket now gone
