"""Issue 2, relay: both sockets are kept alive with WebSocket pings, and a peer
that stops answering (its TCP connection still open) is noticed and dropped.
The silent peers here are raw sockets that completed the WebSocket handshake
and then never read or answer: nothing but a ping can find them dead."""

import base64
import hashlib
import os
import socket
import threading
import time

from conftest import wait_until

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PING, CLOSE = 0x9, 0x8


def read_frame_header(sock, deadline):
    """The opcode of the next frame a peer sends us (unmasked), or None at EOF."""
    sock.settimeout(max(0.05, deadline - time.monotonic()))
    head = sock.recv(2)
    if len(head) < 2:
        return None
    length = head[1] & 0x7F
    extra = {126: 2, 127: 8}.get(length, 0)
    if extra:
        length = int.from_bytes(sock.recv(extra), "big")
    body = b""
    while len(body) < length:
        chunk = sock.recv(length - len(body))
        if not chunk:
            return None
        body += chunk
    return head[0] & 0x0F


def wait_for_ping(sock, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        op = read_frame_header(sock, deadline)
        if op == PING:
            return True
        if op is None:
            return False
    return False


def wait_for_eof(sock, timeout):
    """Reads (and ignores, never answering) until the peer hangs up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            op = read_frame_header(sock, deadline)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return True
        if op is None or op == CLOSE:
            return True
    return False


def test_silent_charger_is_pinged_then_dropped(csms, gateway):
    gw = gateway(chargers=["CP01"], listen={"ping_interval_s": 1})
    sock = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /ocpp/CP01 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n").encode())
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1024)
    assert response.startswith(b"HTTP/1.1 101"), response
    try:
        assert wait_for_ping(sock, timeout=5), "the gateway never pinged an idle charger"
        # never answered: dropped after twice the interval without a sign of life
        assert wait_for_eof(sock, timeout=8), "a charger that answers no ping was kept"
        gw.wait_log(r"charger disconnected charger=CP01")
    finally:
        sock.close()


def test_silent_csms_is_pinged_then_dropped_and_reconnected(gateway, charger):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    port = server.getsockname()[1]
    accepted = []

    def serve():
        # Two connections: the one that goes silent, then the gateway's reconnect.
        for _ in range(2):
            try:
                conn, _ = server.accept()
            except OSError:
                return
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(1024)
                if not chunk:
                    break
                request += chunk
            key = [line.split(b":", 1)[1].strip().decode() for line in request.split(b"\r\n")
                   if line.lower().startswith(b"sec-websocket-key:")][0]
            accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
            conn.sendall((f"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
                          f"Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n").encode())
            accepted.append(conn)
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        gw = gateway(chargers=[{"id": "CP01", "smart_charging": "off"}],
                     upstream_url=f"ws://127.0.0.1:{port}/ocpp",
                     upstream={"ping_interval_s": 1, "reconnect_min_s": 0.2, "reconnect_max_s": 1})
        cp = charger("CP01", "1.6")
        wait_until(lambda: accepted, what="the gateway's upstream socket")
        first = accepted[0]
        assert wait_for_ping(first, timeout=5), "the gateway never pinged an idle CSMS"
        assert wait_for_eof(first, timeout=8), "a CSMS that answers no ping was kept"
        gw.wait_log(r"upstream disconnected charger=CP01")
        wait_until(lambda: len(accepted) == 2, what="the gateway reconnecting upstream")
        assert cp.connected, "the charger stays connected while the upstream is replaced"
    finally:
        server.close()
        for conn in accepted:
            conn.close()
