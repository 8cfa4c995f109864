"""What the simulated CSMS and chargers share: one OCPP-J WebSocket connection
(recording, schema checks, CALL tracking, auto-answers) and the Peer base class
(handlers, the frame log, violations, waiting for conditions).

Everything here runs on one asyncio loop; see ocpp_sim.SimLoop for using it
from synchronous test code.
"""

import asyncio
import collections
import dataclasses
import inspect
import itertools
import json
import re
import time
import uuid
from typing import Any, Optional

import websockets

import ocpp_answers
import ocpp_schema


REPLIES_KEPT = 10000  # answers remembered per connection, for wait_reply() after the fact


def dumps(obj):
    """The sims' serialization: compact, UTF-8 kept as is."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# --- what handlers may return -------------------------------------------------

@dataclasses.dataclass
class CallError:
    """Answer a CALL with a CALLERROR."""
    code: str
    description: str = ""
    details: Optional[dict] = None


@dataclasses.dataclass
class RawReply:
    """Answer a CALL with this exact text (may be anything, even invalid)."""
    text: str


class _NoAnswer:
    def __repr__(self):
        return "NO_ANSWER"


NO_ANSWER = _NoAnswer()  # a handler returning this leaves the CALL unanswered


# --- records -----------------------------------------------------------------

@dataclasses.dataclass
class Frame:
    """One WebSocket message, as received ('in') or sent ('out')."""
    seq: int                       # order across everything this peer saw
    charger_id: str
    conn_no: int                   # 1 for the first connection of this charger id, ...
    direction: str                 # 'in' or 'out'
    text: str                      # the raw text (for binary frames: latin-1 of the bytes)
    t: float                       # time.monotonic() of arrival / sending
    wall: float                    # time.time()
    msg: Any = None                # the parsed JSON, None when it did not parse
    type: Optional[int] = None     # 2, 3, 4 when the envelope is valid
    id: Optional[str] = None
    action: Optional[str] = None   # CALL: its action; answers: the action of the CALL answered
    payload: Any = None            # CALL/CALLRESULT payload; CALLERROR details
    error_code: Optional[str] = None
    binary: bool = False
    invalid: bool = False          # a CALL whose payload breaks its schema
    unmatched: bool = False        # an answer to no CALL this peer sent
    late: bool = False             # an answer to a CALL that had timed out

    def __str__(self):
        arrow = "<-" if self.direction == "in" else "->"
        text = self.text if len(self.text) <= 300 else self.text[:300] + f"...({len(self.text)} chars)"
        return f"{self.charger_id}#{self.conn_no} {arrow} {text}"


@dataclasses.dataclass
class Violation:
    """Something a peer received that OCPP does not allow."""
    peer: str
    charger_id: str
    conn_no: int
    kind: str        # json, envelope, schema, direction, unmatched, binary, handshake, sim
    message: str
    text: str = ""

    def __str__(self):
        text = self.text if len(self.text) <= 300 else self.text[:300] + "..."
        return f"[{self.peer} {self.charger_id}#{self.conn_no} {self.kind}] {self.message}: {text}"


@dataclasses.dataclass
class Reply:
    """The answer to a CALL."""
    message_id: str
    action: Optional[str]
    kind: str                       # 'result' or 'error'
    payload: Any                    # CALLRESULT payload, or CALLERROR details
    frame: Frame
    error_code: Optional[str] = None
    error_description: Optional[str] = None

    @property
    def ok(self):
        return self.kind == "result"


@dataclasses.dataclass
class ConnEvent:
    """A connection attempt, connect or disconnect seen by a peer."""
    kind: str                        # 'refused', 'connect', 'disconnect'
    charger_id: str
    t: float
    conn_no: int = 0
    subprotocol: Optional[str] = None
    offered: tuple = ()
    authorization: Optional[str] = None
    path: str = ""
    status: Optional[int] = None     # HTTP status of a refused handshake
    reason: str = ""
    close_code: Optional[int] = None
    close_reason: str = ""
    peer_cn: Optional[str] = None    # TLS: the subject CN of the peer's client certificate


class CallTimeout(TimeoutError):
    """No answer to a CALL within its timeout."""


class WaitTimeout(TimeoutError):
    """A condition did not become true before its deadline."""


class PeerClosed(ConnectionError):
    """The connection closed while a CALL waited for its answer (or before sending)."""

    def __init__(self, message, code=None, reason=""):
        super().__init__(message)
        self.code = code
        self.reason = reason


class CallErrorReply(Exception):
    """The peer answered a CALL with a CALLERROR (raised by call(), not call_reply())."""

    def __init__(self, reply):
        super().__init__(f"{reply.action}: CALLERROR {reply.error_code} "
                         f"{reply.error_description!r} {reply.payload}")
        self.reply = reply
        self.code = reply.error_code


@dataclasses.dataclass
class CallContext:
    """What a handler gets for one incoming CALL."""
    peer: Any
    conn: "OcppConnection"
    charger_id: str
    version: str
    action: str
    message_id: str
    payload: Any
    frame: Frame
    _after: list = dataclasses.field(default_factory=list)

    def after(self, fn):
        """Run fn() (a coroutine function or plain function) once the answer is sent."""
        self._after.append(fn)


class _Pending:
    def __init__(self, action, future, frame):
        self.action = action
        self.future = future
        self.frame = frame


_ID_IN_BROKEN_JSON = re.compile(r'^\s*\[\s*([^,\s\]]+)\s*,\s*"((?:[^"\\]|\\.)*)"')


def _readable_id(msg, text):
    """The message id of something that may be a CALL (not a CALLRESULT/CALLERROR),
    read even from broken JSON; None when there is none."""
    if isinstance(msg, list):
        if len(msg) >= 2 and isinstance(msg[1], str) and msg[0] not in (3, 4):
            return msg[1]
        return None
    if msg is not None:
        return None
    m = _ID_IN_BROKEN_JSON.match(text)
    if not m or m.group(1) in ("3", "4"):
        return None
    try:
        return json.loads(f'"{m.group(2)}"')
    except ValueError:
        return None


# --- one connection ------------------------------------------------------------

class OcppConnection:
    """One OCPP-J WebSocket, from the point of view of `peer` (a SimCsms or SimCharger)."""

    def __init__(self, peer, ws, charger_id, version, conn_no):
        self.peer = peer
        self.ws = ws
        self.charger_id = charger_id
        self.version = version
        self.conn_no = conn_no
        self.pending = {}      # message id -> _Pending, CALLs we sent
        self.expired = {}      # message id -> action, CALLs that timed out
        self.replies = collections.OrderedDict()  # message id -> Reply, the latest answers
        self.close_code = None
        self.close_reason = ""
        self.closed = asyncio.get_running_loop().create_future()
        self._tasks = set()

    @property
    def open(self):
        return not self.closed.done()

    def __repr__(self):
        return f"<OcppConnection {self.charger_id}#{self.conn_no} ocpp{self.version}>"

    # reading

    async def run(self):
        """Reads until the socket closes; then fails what still waits."""
        try:
            async for message in self.ws:
                self._on_message(message)
        except websockets.ConnectionClosed:
            pass
        except Exception as e:  # a bug in the sim: make it visible
            self.peer._violation(self, "sim", f"reader failed: {e!r}")
        finally:
            try:
                await asyncio.wait_for(self.ws.wait_closed(), self.peer.close_timeout + 1)
            except (asyncio.TimeoutError, Exception):
                pass
            self.close_code = self.ws.close_code
            self.close_reason = self.ws.close_reason or ""
            for mid, p in list(self.pending.items()):
                if not p.future.done():
                    p.future.set_exception(PeerClosed(
                        f"{self.charger_id}: connection closed ({self.close_code}) while "
                        f"{p.action} {mid} waited for its answer", self.close_code))
                    p.future.exception()  # nobody may be waiting: mark it retrieved
                self.expired[mid] = p.action
            self.pending.clear()
            if not self.closed.done():
                self.closed.set_result(self.close_code)
            self.peer._on_conn_closed(self)

    def _on_message(self, message):
        peer = self.peer
        binary = isinstance(message, bytes)
        text = message.decode("latin-1") if binary else message
        frame = peer._record(self, "in", text)
        frame.binary = binary
        if binary:
            peer._violation(self, "binary", "binary WebSocket frame (OCPP-J uses text)", text)
            return
        try:
            msg = ocpp_schema.parse_strict(text)
        except ValueError as e:
            peer._violation(self, "json", f"not JSON: {e}", text)
            return
        frame.msg = msg
        errs = ocpp_schema.envelope_errors(self.version, msg)
        if errs:
            for e in errs:
                peer._violation(self, "envelope", e, text)
            # A broken answer to a pending CALL still ends the wait (the violation
            # says what was wrong), rather than leaving the caller to time out.
            if (isinstance(msg, list) and len(msg) >= 2 and msg[0] in (3, 4)
                    and isinstance(msg[1], str) and msg[1] in self.pending):
                p = self.pending.pop(msg[1])
                frame.type, frame.id, frame.action = msg[0], msg[1], p.action
                if not p.future.done():
                    p.future.set_result(Reply(msg[1], p.action, "error", None, frame,
                                              "(broken answer)", "; ".join(errs)))
            peer._notify()
            return
        frame.type, frame.id = msg[0], msg[1]
        if frame.type == 2:
            frame.action, frame.payload = msg[2], msg[3]
            if peer.validate:
                for kind, e in ocpp_schema.call_errors(self.version, peer.role, frame.action,
                                                       frame.payload):
                    peer._violation(self, kind, e, text)
                    frame.invalid = True
            self._spawn(self._answer(frame))
        else:
            self._on_answer(frame, msg, text)
        peer._notify()

    def _on_answer(self, frame, msg, text):
        peer = self.peer
        if frame.type == 3:
            frame.payload = msg[2]
        else:
            frame.error_code, frame.payload = msg[2], msg[4]
        pending = self.pending.pop(frame.id, None)
        if pending is not None:
            frame.action = pending.action
        elif frame.id in self.expired:
            frame.action = self.expired.pop(frame.id)
            frame.late = True
        else:
            frame.unmatched = True
            if not (frame.type == 4 and frame.id == "-1" and self.version == "2.0.1"):
                kind = "CALLRESULT" if frame.type == 3 else "CALLERROR"
                peer._violation(self, "unmatched",
                                f"{kind} answers no CALL that was sent (id {frame.id!r})", text)
        if frame.type == 3 and frame.action and peer.validate:
            for e in ocpp_schema.payload_errors(self.version, frame.action, "conf", frame.payload):
                peer._violation(self, "schema", e, text)
        if pending is not None and not pending.future.done():
            reply = Reply(frame.id, pending.action, "result" if frame.type == 3 else "error",
                          frame.payload, frame)
            if frame.type == 4:
                reply.error_code, reply.error_description = msg[2], msg[3]
            pending.future.set_result(reply)
            self.replies[frame.id] = reply
            while len(self.replies) > REPLIES_KEPT:
                self.replies.popitem(last=False)

    # answering

    def _spawn(self, coro):
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, frame):
        peer = self.peer
        ctx = CallContext(peer, self, self.charger_id, self.version, frame.action,
                          frame.id, frame.payload, frame)
        try:
            answer = await peer._resolve_answer(ctx)
        except Exception as e:
            peer._violation(self, "sim", f"handler for {frame.action} raised {e!r}", frame.text)
            answer = CallError("InternalError", f"simulator handler raised {type(e).__name__}")
        if answer is NO_ANSWER:
            return
        if isinstance(answer, RawReply):
            text = answer.text
        elif isinstance(answer, CallError):
            text = dumps([4, frame.id, answer.code, answer.description, answer.details or {}])
        else:
            text = dumps([3, frame.id, answer])
        try:
            await self.send_text(text)
        except PeerClosed:
            return
        for fn in ctx._after:
            try:
                r = fn()
                if inspect.isawaitable(r):
                    await r
            except PeerClosed:
                pass
            except Exception as e:
                peer._violation(self, "sim", f"after-answer hook of {frame.action} raised {e!r}")

    # writing

    async def send_text(self, text):
        """Sends one text frame (anything: tests send invalid ones on purpose)."""
        if not self.open:
            raise PeerClosed(f"{self.charger_id}: connection is closed ({self.close_code})",
                             self.close_code, self.close_reason)
        frame = self.peer._record(self, "out", text)
        # Anything that may be a CALL and has a readable id is tracked, so its answer
        # (even a CALLERROR to a malformed message) is recognized and, when the
        # action is known, checked against the action's response schema.
        try:
            msg = json.loads(text)
        except ValueError:
            msg = None
        if isinstance(msg, list) and len(msg) >= 2 and msg[0] in (3, 4):
            frame.msg, frame.type, frame.id = msg, msg[0], msg[1]
        else:
            mid = _readable_id(msg, text)
            if isinstance(msg, list) and len(msg) == 4 and msg[0] == 2:
                frame.msg, frame.type, frame.action, frame.payload = msg, 2, msg[2], msg[3]
            frame.id = mid
            if mid is not None and mid not in self.pending:
                fut = asyncio.get_running_loop().create_future()
                action = frame.action if isinstance(frame.action, str) else None
                self.pending[mid] = _Pending(action, fut, frame)
        try:
            await self.ws.send(text)
        except websockets.ConnectionClosed as e:
            raise PeerClosed(f"{self.charger_id}: connection closed while sending",
                             e.rcvd.code if e.rcvd else None) from None
        self.peer._notify()
        return frame

    async def send_bytes(self, data):
        frame = self.peer._record(self, "out", data.decode("latin-1"))
        frame.binary = True
        try:
            await self.ws.send(data)
        except websockets.ConnectionClosed:
            raise PeerClosed(f"{self.charger_id}: connection closed while sending") from None

    async def wait_reply(self, message_id, timeout=10.0):
        """The Reply to a CALL sent earlier (by call() or send_text()), whether it
        has already arrived or not."""
        p = self.pending.get(message_id)
        if p is None:
            if message_id in self.replies:
                return self.replies[message_id]
            raise KeyError(f"no CALL {message_id!r} waits for an answer on {self!r}")
        try:
            return await asyncio.wait_for(asyncio.shield(p.future), timeout)
        except asyncio.TimeoutError:
            if self.pending.pop(message_id, None) is not None:
                self.expired[message_id] = p.action
            raise CallTimeout(f"{self.charger_id}: no answer to {p.action} {message_id} "
                              f"within {timeout} s") from None

    async def call_reply(self, action, payload, message_id=None, timeout=10.0):
        mid = message_id if message_id is not None else self.peer.new_message_id()
        await self.send_text(dumps([2, mid, action, payload]))
        return await self.wait_reply(mid, timeout)

    async def close(self, code=1000, reason=""):
        await self.ws.close(code, reason)
        await self.closed

    def abort(self):
        """Drops the TCP connection without a close frame (the peer sees 1006)."""
        if self.ws.transport is not None:
            self.ws.transport.abort()


# --- the base of both peers ----------------------------------------------------

class Peer:
    """Handlers, records and waiting, shared by SimCsms and SimCharger."""

    role = "?"   # 'csms' or 'charger': the side this peer plays

    def __init__(self, name, validate=True, on_frame=None, close_timeout=2.0):
        if validate:
            for v in ocpp_schema.VERSIONS:
                ocpp_schema.load(v)  # fail now, loudly, when the schemas are missing
        self.name = name
        self.validate = validate
        self.on_frame = on_frame           # callback(frame) for every frame, e.g. a log
        self.close_timeout = close_timeout
        self.frames = []                   # every Frame, both directions, in order
        self.violations = []
        self.events = []                   # ConnEvent
        self._handlers = []                # (charger_id or None, action or '*', handler, once)
        self._seq = itertools.count(1)
        self._waiters = set()

    # handlers

    def on(self, action, handler, charger_id=None, once=False):
        """Overrides the answer to `action` ('*' for every action): handler is a dict
        (the CALLRESULT payload), a CallError, NO_ANSWER, a RawReply, or a function
        of the CallContext (may be async) returning one of those or None (None: the
        default answer). The latest registration wins; charger_id narrows it."""
        self._handlers.append((charger_id, action, handler, once))

    def off(self, action=None, charger_id=None):
        """Removes overrides (all of them by default)."""
        self._handlers = [h for h in self._handlers
                          if not ((action is None or h[1] == action)
                                  and (charger_id is None or h[0] == charger_id))]

    def _find_handler(self, ctx):
        for i in range(len(self._handlers) - 1, -1, -1):
            cid, action, handler, once = self._handlers[i]
            if cid not in (None, ctx.charger_id) or action not in ("*", ctx.action):
                continue
            if once:
                del self._handlers[i]
            return handler
        return None

    async def _resolve_answer(self, ctx):
        handler = self._find_handler(ctx)
        if handler is None and ctx.frame.invalid:
            # Already reported as a violation; answer as a strict peer would.
            code = "FormationViolation" if ctx.version == "1.6" else "FormatViolation"
            return CallError(code, f"{ctx.action} payload does not match its schema")
        answer = None
        if handler is not None:
            if callable(handler) and not isinstance(handler, (dict, CallError, RawReply)):
                answer = handler(ctx)
                if inspect.isawaitable(answer):
                    answer = await answer
            else:
                answer = handler
        if answer is None:
            answer = self.default_answer(ctx)
        return answer

    def default_answer(self, ctx):
        table = ocpp_answers.DEFAULTS[(self.role, ctx.version)]
        if ctx.action in table:
            return table[ctx.action](ctx)
        if f"{ctx.action}.conf" not in ocpp_schema.load(ctx.version):
            return CallError("NotImplemented", f"unknown action {ctx.action}")
        if ctx.action not in ocpp_schema.responder_actions(ctx.version, self.role):
            return CallError("NotSupported", f"{ctx.action} is not sent to a {self.role}")
        return ocpp_answers.schema_default(ctx.version, ctx.action)

    def new_message_id(self):
        return str(uuid.uuid4())

    # records

    def _record(self, conn, direction, text):
        now = time.monotonic()
        frame = Frame(next(self._seq), conn.charger_id, conn.conn_no, direction, text,
                      now, time.time())
        self.frames.append(frame)
        if self.on_frame is not None:
            try:
                self.on_frame(self, frame)
            except Exception:
                pass
        return frame

    def _violation(self, conn, kind, message, text=""):
        v = Violation(self.name, conn.charger_id if conn else "", conn.conn_no if conn else 0,
                      kind, message, text)
        self.violations.append(v)
        if self.on_frame is not None:
            try:
                self.on_frame(self, v)
            except Exception:
                pass
        self._notify()

    def _event(self, event):
        self.events.append(event)
        self._notify()

    def _on_conn_closed(self, conn):
        pass

    def received(self, charger_id=None, action=None, types=None, conn_no=None):
        """Frames received, oldest first, optionally filtered (action matches CALLs
        and the answers to CALLs of that action)."""
        return self._select("in", charger_id, action, types, conn_no)

    def sent(self, charger_id=None, action=None, types=None, conn_no=None):
        """Frames sent, oldest first, filtered like received()."""
        return self._select("out", charger_id, action, types, conn_no)

    def _select(self, direction, charger_id, action, types, conn_no):
        if isinstance(types, int):
            types = (types,)
        return [f for f in self.frames
                if f.direction == direction
                and (charger_id is None or f.charger_id == charger_id)
                and (action is None or f.action == action)
                and (types is None or f.type in types)
                and (conn_no is None or f.conn_no == conn_no)]

    def clear_violations(self):
        """Forgets the violations so far (for tests that provoke some on purpose)."""
        out, self.violations = self.violations, []
        return out

    # waiting

    def _notify(self):
        for fut in list(self._waiters):
            if not fut.done():
                fut.set_result(None)
        self._waiters.clear()

    async def wait_for(self, predicate, timeout=10.0, what="a condition"):
        """Waits until predicate() is truthy (re-checked on every frame and event)
        and returns its value; WaitTimeout after `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise WaitTimeout(f"{self.name}: timed out after {timeout} s waiting for "
                                  f"{what}\n{self.describe()}")
            fut = loop.create_future()
            self._waiters.add(fut)
            # Wake up now and then anyway: some conditions depend on things (such as
            # a socket's state) that do not notify.
            try:
                await asyncio.wait_for(fut, min(remaining, 0.25))
            except asyncio.TimeoutError:
                pass

    async def wait_received(self, charger_id=None, count=1, action=None, types=None,
                            predicate=None, timeout=10.0):
        """Waits until at least `count` received frames match; returns all that match."""
        def check():
            frames = [f for f in self.received(charger_id, action, types)
                      if predicate is None or predicate(f)]
            return frames if len(frames) >= count else None
        what = f"{count} frame(s) from {charger_id or 'anyone'}" + (f" action={action}" if action else "")
        return await self.wait_for(check, timeout, what)

    def describe(self, last=12):
        """The last frames, events and violations, for error messages."""
        lines = [f"  last frames of {self.name}:"]
        lines += [f"    {f}" for f in self.frames[-last:]] or ["    (none)"]
        if self.events:
            lines.append("  events:")
            lines += [f"    {e.kind} {e.charger_id}#{e.conn_no} status={e.status} "
                      f"close={e.close_code} {e.reason}" for e in self.events[-last:]]
        if self.violations:
            lines.append("  violations:")
            lines += [f"    {v}" for v in self.violations[-last:]]
        return "\n".join(lines)
