"""Simulated OCPP peers for sitegate's tests: the one module tests import.

    import ocpp_sim                       # with tests/sim on sys.path
    loop = ocpp_sim.SimLoop()             # an asyncio loop in a thread
    csms = loop.blocking(ocpp_sim.SimCsms(port=0))
    csms.start()
    cp = loop.blocking(ocpp_sim.SimCharger(csms.url, "CP01", "1.6"))
    cp.connect()
    cp.session()
    ocpp_sim.assert_no_violations(csms, cp)
    loop.close()

SimCsms and SimCharger are asyncio objects (async code uses them directly, as the
command-line tools do). Wrapped by SimLoop.blocking(), their coroutine methods
run to completion from synchronous code (each with its own deadline), their
other methods run on the loop's thread, and `.aio` is the asyncio object, for
running several things at once with SimLoop.gather()/spawn().
"""

import asyncio
import concurrent.futures
import inspect
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ocpp_schema  # noqa: E402,F401
from charger import SessionRefused, SessionResult, SimCharger  # noqa: E402,F401
from csms import SimCsms, basic_auth, frame_printer  # noqa: E402,F401
from ocpp_answers import minimal_instance, now_iso  # noqa: E402,F401
from ocpp_peer import (NO_ANSWER, CallContext, CallError, CallErrorReply, CallTimeout,  # noqa: E402,F401
                       ConnEvent, Frame, PeerClosed, RawReply, Reply, Violation, WaitTimeout,
                       dumps)
from ocpp_schema import SchemasMissing  # noqa: E402,F401

DEFAULT_TIMEOUT = 120.0  # the outer bound of any one blocking call (inner waits are shorter)


class SimLoop:
    """An asyncio loop running in a daemon thread, for synchronous test code."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="sim-loop", daemon=True)
        self._thread.start()
        self._closed = False

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro, timeout=DEFAULT_TIMEOUT):
        """Runs a coroutine on the loop and returns its result (or raises its exception)."""
        fut = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return fut.result(timeout)
        except concurrent.futures.TimeoutError:
            if fut.done():  # the coroutine itself raised a TimeoutError (CallTimeout, ...)
                raise
            fut.cancel()
            raise WaitTimeout(f"simulator call did not finish within {timeout} s") from None

    def spawn(self, coro):
        """Starts a coroutine on the loop; returns a concurrent.futures.Future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def gather(self, *coros, timeout=DEFAULT_TIMEOUT, return_exceptions=False):
        """Runs coroutines concurrently on the loop; returns their results in order."""
        async def together():
            return await asyncio.gather(*coros, return_exceptions=return_exceptions)
        return self.run(together(), timeout)

    def call(self, fn, *args, **kwargs):
        """Runs a plain function on the loop's thread and returns its result."""
        async def on_loop():
            return fn(*args, **kwargs)
        return self.run(on_loop())

    def blocking(self, obj, timeout=DEFAULT_TIMEOUT):
        """A synchronous face of an asyncio object living on this loop."""
        return Blocking(obj, self, timeout)

    def close(self):
        """Cancels whatever still runs and stops the loop."""
        if self._closed:
            return
        self._closed = True

        async def cancel_all():
            me = asyncio.current_task()
            tasks = [t for t in asyncio.all_tasks() if t is not me]
            for t in tasks:
                t.cancel()
            await asyncio.wait(tasks, timeout=5) if tasks else None
        try:
            self.run(cancel_all(), timeout=10)
        except Exception:
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        if not self._thread.is_alive():
            self.loop.close()


class Blocking:
    """Wraps a SimCsms/SimCharger: coroutine methods block until done, other
    methods run on the loop's thread, attributes read through. `.aio` is the
    wrapped object; `.spawn.<method>(...)` starts a coroutine method without
    waiting and returns a concurrent.futures.Future."""

    def __init__(self, obj, sim_loop, timeout=DEFAULT_TIMEOUT):
        object.__setattr__(self, "aio", obj)
        object.__setattr__(self, "sim_loop", sim_loop)
        object.__setattr__(self, "_timeout", timeout)

    def __getattr__(self, name):
        attr = getattr(self.aio, name)
        if inspect.iscoroutinefunction(attr):
            def run_blocking(*args, **kwargs):
                return self.sim_loop.run(attr(*args, **kwargs), self._timeout)
            run_blocking.__doc__ = attr.__doc__
            return run_blocking
        if inspect.ismethod(attr):
            def on_loop(*args, **kwargs):
                return self.sim_loop.call(attr, *args, **kwargs)
            on_loop.__doc__ = attr.__doc__
            return on_loop
        return attr

    def __setattr__(self, name, value):
        setattr(self.aio, name, value)

    @property
    def spawn(self):
        outer = self

        class _Spawner:
            def __getattr__(self, name):
                attr = getattr(outer.aio, name)

                def start(*args, **kwargs):
                    return outer.sim_loop.spawn(attr(*args, **kwargs))
                return start
        return _Spawner()

    def __repr__(self):
        return f"<Blocking {self.aio!r}>"


def _unwrap(peer):
    return peer.aio if isinstance(peer, Blocking) else peer


def violations(*peers):
    """Every violation the given peers recorded."""
    out = []
    for p in peers:
        out += list(_unwrap(p).violations)
    return out


def assert_no_violations(*peers):
    """Fails, listing them, when any of the peers received a frame that breaks the
    OCPP JSON schemas or OCPP-J (or a simulator handler failed)."""
    found = violations(*peers)
    if found:
        lines = "\n".join(f"  {v}" for v in found[:50])
        more = f"\n  ... and {len(found) - 50} more" if len(found) > 50 else ""
        raise AssertionError(f"{len(found)} OCPP violation(s):\n{lines}{more}")


def texts(frames):
    """The raw texts of frames."""
    return [f.text for f in frames]


# A gateway may talk to chargers itself (charging profiles, configuration reads):
# relay checks compare what the CSMS and a charger exchanged and leave that out.

def _atomic(cp, csms, fn):
    """Runs fn(charger, csms) on the loop's thread when given blocking faces, so
    that it sees one consistent snapshot of both peers' records."""
    if isinstance(cp, Blocking):
        return cp.sim_loop.call(fn, cp.aio, _unwrap(csms))
    return fn(cp, _unwrap(csms))


def _from_csms(cp, csms, charger_id):
    sent = set(texts(csms.sent(charger_id or cp.charger_id)))
    return [f for f in cp.received() if f.text in sent]


def _gateway_calls(cp, csms, charger_id):
    sent = set(texts(csms.sent(charger_id or cp.charger_id, types=2)))
    return [f for f in cp.received(types=2) if f.text not in sent]


def _to_csms(cp, csms, charger_id):
    own = {f.id for f in _gateway_calls(cp, csms, charger_id)}
    return [f for f in cp.sent() if not (f.type in (3, 4) and f.id in own)]


def from_csms(cp, csms, charger_id=None):
    """The frames the charger received that the CSMS sent to it (same text), in
    the order the charger got them."""
    return _atomic(cp, csms, lambda c, s: _from_csms(c, s, charger_id))


def gateway_calls(cp, csms, charger_id=None):
    """The CALLs the charger received that the CSMS did not send (the gateway's own)."""
    return _atomic(cp, csms, lambda c, s: _gateway_calls(c, s, charger_id))


def to_csms(cp, csms, charger_id=None):
    """The frames the charger sent that are the CSMS's to receive: all of them but
    its answers to the gateway's own CALLs."""
    return _atomic(cp, csms, lambda c, s: _to_csms(c, s, charger_id))

__all__ = [
    "SimLoop", "Blocking", "SimCsms", "SimCharger", "SessionResult", "SessionRefused",
    "CallContext", "CallError", "CallErrorReply", "CallTimeout", "ConnEvent", "Frame",
    "NO_ANSWER", "PeerClosed", "RawReply", "Reply", "SchemasMissing", "Violation",
    "WaitTimeout", "assert_no_violations", "basic_auth", "dumps", "frame_printer",
    "minimal_instance", "now_iso", "ocpp_schema", "texts", "violations", "from_csms",
    "gateway_calls", "to_csms",
]
