#!/usr/bin/python3
"""A simulated CSMS: an OCPP-J 1.6 / 2.0.1 WebSocket server for tests and demos.

Chargers (or a gateway on their behalf) connect to ws://127.0.0.1:<port>/<prefix>/<id>
offering ocpp1.6 and/or ocpp2.0.1. Every frame received is recorded per charger id
and checked against the official OCPP JSON schemas; every CALL is answered (with a
valid default, or what the test set with on()); the CSMS can send CALLs to a
charger and await the answer, and can be stopped (closing every socket) and
started again on the same port.

    /usr/bin/python3 tests/sim/csms.py --port 9100 [--prefix /ocpp] [--password CP01=secret]
"""

import argparse
import asyncio
import base64
import collections
import http
import itertools
import os
import signal
import socket
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import websockets  # noqa: E402

import ocpp_schema  # noqa: E402
from ocpp_peer import (CallErrorReply, ConnEvent, OcppConnection, Peer, PeerClosed,  # noqa: E402
                       Violation, dumps)


def basic_auth(user, password):
    """The Authorization header value of HTTP Basic auth."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return f"Basic {token}"


def offered_subprotocols(headers):
    out = []
    for value in headers.get_all("Sec-WebSocket-Protocol"):
        out += [p.strip() for p in value.split(",") if p.strip()]
    return tuple(out)


class SimCsms(Peer):
    """The CSMS end. All methods run on the asyncio loop that started it."""

    role = "csms"

    def __init__(self, host="127.0.0.1", port=0, prefix="/ocpp", passwords=None,
                 versions=ocpp_schema.VERSIONS, heartbeat_interval=300, name="csms",
                 validate=True, on_frame=None, close_timeout=2.0, ping_interval=None, ssl=None):
        super().__init__(name, validate=validate, on_frame=on_frame, close_timeout=close_timeout)
        self.host = host
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.passwords = dict(passwords or {})   # charger id -> password it must present
        self.refuse = {}                          # charger id -> HTTP status to refuse with
        self.subprotocols = [ocpp_schema.SUBPROTOCOL[ocpp_schema.normalize_version(v)]
                             for v in versions]
        self.heartbeat_interval = heartbeat_interval
        self.ping_interval = ping_interval
        self.ssl = ssl                            # an ssl.SSLContext: wss:// instead of ws://
        self.connections = collections.defaultdict(list)  # charger id -> [OcppConnection]
        self._transaction_ids = itertools.count(1)
        self._server = None
        self._sock = self._bind(port)
        self.port = self._sock.getsockname()[1]

    # lifecycle

    def _bind(self, port):
        # The port stays bound (not listening: connecting is refused) while the CSMS
        # is stopped, so no one else can take it before a restart.
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, port))
        return s

    @property
    def url(self):
        """The base URL a gateway's upstream.url points at (without the charger id)."""
        return f"{'wss' if self.ssl else 'ws'}://{self.host}:{self.port}{self.prefix}"

    @property
    def running(self):
        return self._server is not None

    async def start(self):
        """Starts listening (again) on the same port."""
        if self._server is not None:
            return self
        if self._sock is None:
            self._sock = self._bind(self.port)
        sock, self._sock = self._sock, None
        self._server = await websockets.serve(
            self._handle, sock=sock, subprotocols=self.subprotocols,
            process_request=self._process_request, compression=None, max_size=None,
            ping_interval=self.ping_interval, close_timeout=self.close_timeout, ssl=self.ssl)
        return self

    async def stop(self, abrupt=False):
        """Closes every socket (with 1001, or abruptly without a close frame: the
        peer sees 1006) and stops listening; start() listens again on the same port."""
        if self._server is None:
            return
        server, self._server = self._server, None
        open_conns = [c for conns in self.connections.values() for c in conns if c.open]
        if abrupt:
            for c in open_conns:
                c.abort()
        server.close()
        await server.wait_closed()
        for c in open_conns:
            try:
                await asyncio.wait_for(asyncio.shield(c.closed), self.close_timeout + 2)
            except asyncio.TimeoutError:
                c.abort()
        self._sock = self._bind(self.port)

    async def restart(self, abrupt=False):
        await self.stop(abrupt=abrupt)
        return await self.start()

    async def close(self):
        """Stops for good and releases the port."""
        await self.stop()
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    # handshake

    def _charger_id(self, path):
        path = urllib.parse.urlsplit(path).path
        if not path.startswith(self.prefix + "/"):
            return None
        cid = urllib.parse.unquote(path[len(self.prefix) + 1:])
        return cid if cid and "/" not in cid else None

    def _refuse(self, cid, path, headers, status, reason):
        status = http.HTTPStatus(status)  # websockets needs the enum, not an int
        self._event(ConnEvent("refused", cid or "", time.monotonic(), path=path,
                              offered=offered_subprotocols(headers),
                              authorization=headers.get("Authorization"),
                              status=int(status), reason=reason))
        extra = [("WWW-Authenticate", 'Basic realm="sim-csms"')] if status == 401 else []
        return status, extra, (reason + "\n").encode()

    async def _process_request(self, path, headers):
        cid = self._charger_id(path)
        if cid is None:
            return self._refuse(cid, path, headers, http.HTTPStatus.NOT_FOUND,
                                f"path {path!r} is not {self.prefix}/<charger id>")
        offered = offered_subprotocols(headers)
        if not set(offered) & set(self.subprotocols):
            self.violations.append(Violation(self.name, cid, 0, "handshake",
                                             f"no supported OCPP subprotocol offered: {offered}"))
            return self._refuse(cid, path, headers, http.HTTPStatus.BAD_REQUEST,
                                f"no supported subprotocol in {offered}")
        if cid in self.refuse:
            return self._refuse(cid, path, headers, self.refuse[cid], "refused by the test")
        if cid in self.passwords:
            if headers.get("Authorization") != basic_auth(cid, self.passwords[cid]):
                return self._refuse(cid, path, headers, http.HTTPStatus.UNAUTHORIZED,
                                    "missing or wrong Basic auth")
        return None

    async def _handle(self, ws):
        path = ws.path
        cid = self._charger_id(path)
        version = ocpp_schema.VERSION_OF_SUBPROTOCOL[ws.subprotocol]
        conn = OcppConnection(self, ws, cid, version, len(self.connections[cid]) + 1)
        self.connections[cid].append(conn)
        headers = ws.request_headers
        self._event(ConnEvent("connect", cid, time.monotonic(), conn.conn_no, ws.subprotocol,
                              offered_subprotocols(headers), headers.get("Authorization"), path,
                              peer_cn=self._peer_cn(ws)))
        await conn.run()

    @staticmethod
    def _peer_cn(ws):
        cert = ws.transport.get_extra_info("peercert") if ws.transport else None
        for rdn in (cert or {}).get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    return value
        return None

    def _on_conn_closed(self, conn):
        self._event(ConnEvent("disconnect", conn.charger_id, time.monotonic(), conn.conn_no,
                              close_code=conn.close_code, close_reason=conn.close_reason))

    # state

    def next_transaction_id(self):
        return next(self._transaction_ids)

    def connection(self, charger_id):
        """The newest open connection of a charger id (else its newest one)."""
        conns = self.connections.get(charger_id) or []
        for c in reversed(conns):
            if c.open:
                return c
        if conns:
            return conns[-1]
        raise KeyError(f"{self.name}: {charger_id} never connected")

    def connect_events(self, charger_id=None, kind="connect"):
        return [e for e in self.events if e.kind == kind
                and (charger_id is None or e.charger_id == charger_id)]

    # talking to chargers

    async def call_reply(self, charger_id, action, payload, timeout=10.0, message_id=None):
        """Sends a CALL to a charger; returns the Reply (CALLRESULT or CALLERROR)."""
        return await self.connection(charger_id).call_reply(action, payload, message_id, timeout)

    async def call(self, charger_id, action, payload, timeout=10.0, message_id=None):
        """Sends a CALL; returns the CALLRESULT payload, raises CallErrorReply on a CALLERROR."""
        reply = await self.call_reply(charger_id, action, payload, timeout, message_id)
        if not reply.ok:
            raise CallErrorReply(reply)
        return reply.payload

    async def send_raw(self, charger_id, text):
        """Sends any text as one frame to the charger's newest connection."""
        return await self.connection(charger_id).send_text(text)

    async def send_json(self, charger_id, obj):
        return await self.send_raw(charger_id, dumps(obj))

    async def wait_reply(self, charger_id, message_id, timeout=10.0):
        return await self.connection(charger_id).wait_reply(message_id, timeout)

    async def disconnect(self, charger_id, code=1000, reason=""):
        await self.connection(charger_id).close(code, reason)

    async def abort(self, charger_id):
        self.connection(charger_id).abort()

    async def wait_connected(self, charger_id, count=1, timeout=10.0):
        """Waits for the count-th connection of a charger id; returns it."""
        await self.wait_for(lambda: len(self.connections.get(charger_id, [])) >= count,
                            timeout, f"connection #{count} of {charger_id}")
        return self.connections[charger_id][count - 1]

    async def wait_disconnected(self, charger_id, count=None, timeout=10.0):
        """Waits until connection #count (default: the newest) of a charger id is
        closed; returns its close code."""
        def check():
            conns = self.connections.get(charger_id, [])
            n = count or len(conns)
            return n and len(conns) >= n and not conns[n - 1].open
        await self.wait_for(check, timeout, f"{charger_id}'s connection to close")
        conns = self.connections[charger_id]
        return conns[(count or len(conns)) - 1].close_code


# --- command line ----------------------------------------------------------------

def frame_printer(prefix, stream=sys.stdout):
    """An on_frame callback printing one line per frame (and per violation)."""
    def show(peer, item):
        stamp = time.strftime("%H:%M:%S") + f".{int(time.time() * 1000) % 1000:03d}"
        if hasattr(item, "direction"):
            text = item.text if len(item.text) <= 400 else item.text[:400] + "..."
            arrow = "<-" if item.direction == "in" else "->"
            print(f"{prefix} {stamp} {item.charger_id} {arrow} {text}", file=stream, flush=True)
        else:
            print(f"{prefix} {stamp} VIOLATION {item}", file=stream, flush=True)
    return show


async def _main(args):
    passwords = {}
    for spec in args.password or []:
        cid, _, pw = spec.partition("=")
        passwords[cid] = pw
    csms = SimCsms(args.host, args.port, args.prefix, passwords=passwords,
                   heartbeat_interval=args.heartbeat_interval,
                   validate=not args.no_validate,
                   on_frame=None if args.quiet else frame_printer("csms   |"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def on_event(ev):
        if ev.kind == "connect":
            print(f"csms   | {ev.charger_id} connected ({ev.subprotocol}"
                  f"{', auth' if ev.authorization else ''})", flush=True)
        elif ev.kind == "disconnect":
            print(f"csms   | {ev.charger_id} disconnected (code {ev.close_code})", flush=True)
        elif ev.kind == "refused":
            print(f"csms   | refused {ev.path}: {ev.status} {ev.reason}", flush=True)
    original = csms._event
    csms._event = lambda ev: (original(ev), on_event(ev))
    await csms.start()
    print(f"csms   | listening on {csms.url}/<charger id> "
          f"({', '.join(csms.subprotocols)})", flush=True)
    await stop.wait()
    await csms.close()
    if csms.violations:
        print(f"csms   | {len(csms.violations)} schema/protocol violation(s)", flush=True)
        return 1
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9100)
    ap.add_argument("--prefix", default="/ocpp", help="URL path before /<charger id>")
    ap.add_argument("--password", action="append", metavar="ID=PASSWORD",
                    help="require this Basic-auth password from this charger id")
    ap.add_argument("--heartbeat-interval", type=int, default=300)
    ap.add_argument("--no-validate", action="store_true",
                    help="do not check frames against the OCPP JSON schemas")
    ap.add_argument("--quiet", action="store_true", help="do not print every frame")
    args = ap.parse_args(argv)
    try:
        return asyncio.run(_main(args))
    except ocpp_schema.SchemasMissing as e:
        print(f"csms: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["SimCsms", "basic_auth", "frame_printer", "PeerClosed"]
