#!/usr/bin/python3
"""A simulated Modbus TCP meter for tests and the demo (python3-pymodbus 3.0.0).

By default it is an Eastron SDM630 (the `eastron_sdm630` template: float32 input
registers, high word first; voltages at 0x00, currents 0x06, phase powers 0x0C,
total power 0x34, imported kWh 0x48); `layout="transformer"` is a transformer
monitor with a custom map (TRANSFORMER_REGISTERS, to put in the gateway's config).
Registers are served at their wire addresses: pymodbus 3.0.0 would shift every
address by one (its "zero_mode" off), so the datastore is built with zero_mode on.

    import modbus_meter                       # with tests/sim on sys.path
    meter = modbus_meter.SimMeter(port=0)     # 0: a free port; meter.port says which
    meter.start()
    meter.set(power_w=40000)                  # spread over the phases, currents follow
    meter.set(current_a=(10, 12, 8))          # powers follow (230 V, power factor 1)
    meter.set(power_w=12000, power_phase_w=(10000, 10000, 10000))  # as given: inconsistent
    meter.garbage()                           # NaN in every register
    meter.silence()                           # connections accepted, never answered
    meter.normal()                            # undo garbage() and silence()
    meter.stop(); meter.start()               # refused while stopped; the same port after
    meter.close()

    /usr/bin/python3 tests/sim/modbus_meter.py --port 5020 --building-kw 40 --wander

Every method is synchronous and thread-safe: the server runs on an asyncio loop
in a thread of its own.
"""

import argparse
import asyncio
import concurrent.futures
import logging
import math
import random
import signal
import socket
import struct
import sys
import threading
import time

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server.async_io import ModbusConnectedRequestHandler, ModbusTcpServer
from pymodbus.transaction import ModbusSocketFramer

HOST = "127.0.0.1"
SDM630_TEMPLATE = "eastron_sdm630"
REGISTERS = 512          # per table, from address 0
TIMEOUT = 10.0           # bound of every call into the sim's loop

# SDM630 input registers (wire addresses), each a float32 high word first.
SDM630 = {
    "voltage_v": (0x00, 0x02, 0x04),
    "current_a": (0x06, 0x08, 0x0A),
    "power_phase_w": (0x0C, 0x0E, 0x10),
    "power_w": 0x34,
    "energy_kwh": 0x48,
}

# The transformer monitor: holding registers, oil and winding temperature as
# signed tenths of a degree, load in whole kVA.
TRANSFORMER = {"oil_temp_c": 0, "winding_temp_c": 1, "load_kva": 2}
TRANSFORMER_REGISTERS = {
    "oil_temp_c": {"address": 0, "function": "holding", "type": "s16", "scale": 0.1},
    "winding_temp_c": {"address": 1, "function": "holding", "type": "s16", "scale": 0.1},
    "load_kva": {"address": 2, "function": "holding", "type": "u16"},
}

NAN_F32 = (0x7FC0, 0x0000)

# pymodbus logs a dropped connection as an ERROR; the sim drops them on purpose.
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


def f32_words(value):
    """A float as two registers, high word first (the SDM630's order)."""
    hi, lo = struct.unpack(">HH", struct.pack(">f", value))
    return [hi, lo]


def s16_word(value):
    return int(round(value)) & 0xFFFF


class SimMeter:
    """One simulated meter on host:port. Values are kept as floats and written to
    the registers on every change; energy grows with the imported power."""

    def __init__(self, port=0, host=HOST, layout="sdm630", voltage_v=230.0, name="meter"):
        if layout not in ("sdm630", "transformer"):
            raise ValueError(f"unknown layout {layout!r}")
        self.host = host
        self.layout = layout
        self.name = name
        self.requests = 0                      # requests received (answered or not)
        self._mode = "normal"                  # normal | garbage | silent
        self._lock = threading.Lock()
        self.values = {
            "voltage_v": [float(voltage_v)] * 3,
            "current_a": [0.0] * 3,
            "power_phase_w": [0.0] * 3,
            "power_w": 0.0,
            "energy_kwh": 0.0,
            "oil_temp_c": 40.0,
            "winding_temp_c": 50.0,
            "load_kva": 0.0,
        }
        self._energy_at = time.monotonic()
        self._input = ModbusSequentialDataBlock(0, [0] * REGISTERS)
        self._holding = ModbusSequentialDataBlock(0, [0] * REGISTERS)
        slave = ModbusSlaveContext(ir=self._input, hr=self._holding, zero_mode=True)
        self._context = ModbusServerContext(slaves=slave, single=True)  # any unit id
        self._sock = self._bind(port)
        self.port = self._sock.getsockname()[1]
        self._server = None                    # pymodbus's server object (framer, decoder)
        self._aserver = None                   # the asyncio server while started
        self._ticker = None
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=f"sim-{name}", daemon=True)
        self._write_now()             # before the loop serves anything
        self._thread.start()

    # --- lifecycle -----------------------------------------------------------

    def _bind(self, port):
        # Bound but not listening while stopped: connecting is refused, and no
        # one else takes the port before start() listens on it again.
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, port))
        return s

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(TIMEOUT)

    def start(self):
        """Listens (again) on the same port."""
        self._call(self._start())
        return self

    async def _start(self):
        if self._aserver:
            return
        if self._server is None:
            self._server = ModbusTcpServer(self._context, ModbusSocketFramer,
                                           address=(self.host, self.port),
                                           response_manipulator=self._manipulate,
                                           loop=self.loop)
        if self._sock is None:
            self._sock = self._bind(self.port)
        self._sock.listen(16)
        self._aserver = await self.loop.create_server(
            lambda: ModbusConnectedRequestHandler(self._server), sock=self._sock)
        self._sock = None                      # the asyncio server owns it now
        if self._ticker is None:
            self._ticker = self.loop.create_task(self._tick())

    def stop(self):
        """Closes the listener and every connection: the meter is gone."""
        self._call(self._stop())

    async def _stop(self):
        if self._aserver is None:
            return
        self._aserver.close()
        for handler in list(self._server.active_connections.values()):
            if handler.transport:
                handler.transport.abort()
            if handler.handler_task:
                handler.handler_task.cancel()
        self._server.active_connections.clear()
        await self._aserver.wait_closed()
        self._aserver = None
        self._sock = self._bind(self.port)

    async def _close(self):
        await self._stop()
        if self._ticker:
            self._ticker.cancel()
            try:
                await self._ticker
            except asyncio.CancelledError:
                pass
            self._ticker = None

    def close(self):
        """Stops serving and ends the sim's thread."""
        if not self._thread.is_alive():
            return
        try:
            self._call(self._close())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(TIMEOUT)
            if self._sock:
                self._sock.close()
                self._sock = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    @property
    def running(self):
        return self._aserver is not None

    # --- what it serves -----------------------------------------------------

    def _manipulate(self, response):
        self.requests += 1
        if self._mode == "silent":
            response.should_respond = False    # pymodbus then sends nothing
        return response, False

    def silence(self):
        """Accepts connections and requests but never answers (reads time out)."""
        self._mode = "silent"

    def garbage(self):
        """Serves NaN in every value register."""
        with self._lock:
            self._mode = "garbage"
        self._write_registers()

    def normal(self):
        """Answers again with the current values."""
        with self._lock:
            self._mode = "normal"
        self._write_registers()

    def set(self, current_a=None, voltage_v=None, power_w=None, power_phase_w=None,
            energy_kwh=None, oil_temp_c=None, winding_temp_c=None, load_kva=None):
        """Changes the measured values. Given currents, the powers follow
        (V * I per phase); given powers, the currents follow. A total power
        alone is spread evenly over the phases; phase powers alone sum to the
        total; both given are served as given (even when they disagree)."""
        with self._lock:
            v = self.values
            if voltage_v is not None:
                v["voltage_v"] = [float(x) for x in _three(voltage_v)]
            if current_a is not None:
                v["current_a"] = [float(x) for x in _three(current_a)]
                if power_w is None and power_phase_w is None:
                    v["power_phase_w"] = [u * i for u, i in zip(v["voltage_v"], v["current_a"])]
                    v["power_w"] = sum(v["power_phase_w"])
            if power_phase_w is not None:
                v["power_phase_w"] = [float(x) for x in _three(power_phase_w)]
                v["power_w"] = float(power_w) if power_w is not None else sum(v["power_phase_w"])
            elif power_w is not None:
                v["power_w"] = float(power_w)
                v["power_phase_w"] = [float(power_w) / 3] * 3
            if current_a is None and (power_w is not None or power_phase_w is not None):
                v["current_a"] = [abs(p) / u if u else 0.0
                                  for p, u in zip(v["power_phase_w"], v["voltage_v"])]
            if energy_kwh is not None:
                v["energy_kwh"] = float(energy_kwh)
            if oil_temp_c is not None:
                v["oil_temp_c"] = float(oil_temp_c)
            if winding_temp_c is not None:
                v["winding_temp_c"] = float(winding_temp_c)
            if load_kva is not None:
                v["load_kva"] = float(load_kva)
        self._write_registers()

    def read_registers(self, function, address, count):
        """The raw registers as served ("input" or "holding"), for self-checks."""
        block = self._input if function == "input" else self._holding
        out = []
        self._on_loop(lambda: out.extend(block.getValues(address, count)))
        return out

    def _on_loop(self, fn):
        """Runs fn on the sim's loop, where requests are answered, so that no
        request ever sees half of a float that is being rewritten."""
        if threading.current_thread() is self._thread:
            fn()
            return
        fut = concurrent.futures.Future()

        def run():
            try:
                fn()
                fut.set_result(None)
            except BaseException as e:  # noqa: B902 - handed back to the caller
                fut.set_exception(e)
        self.loop.call_soon_threadsafe(run)
        fut.result(TIMEOUT)

    def _accumulate_energy(self):
        now = time.monotonic()
        dt = now - self._energy_at
        self._energy_at = now
        p = self.values["power_w"]
        if p > 0 and dt > 0:
            self.values["energy_kwh"] += p * dt / 3600.0 / 1000.0

    def _write_registers(self):
        self._on_loop(self._write_now)

    def _write_now(self):
        with self._lock:
            self._accumulate_energy()
            v = self.values
            garbage = self._mode == "garbage"
            if self.layout == "sdm630":
                def put(address, value):
                    words = list(NAN_F32) if garbage else f32_words(value)
                    self._input.setValues(address, words)
                for i in range(3):
                    put(SDM630["voltage_v"][i], v["voltage_v"][i])
                    put(SDM630["current_a"][i], v["current_a"][i])
                    put(SDM630["power_phase_w"][i], v["power_phase_w"][i])
                put(SDM630["power_w"], v["power_w"])
                put(SDM630["energy_kwh"], v["energy_kwh"])
            else:
                # Integers have no NaN: garbage is an absurd reading instead.
                t = TRANSFORMER
                oil = 32767 if garbage else s16_word(v["oil_temp_c"] * 10)
                winding = 32767 if garbage else s16_word(v["winding_temp_c"] * 10)
                load = 65535 if garbage else int(round(v["load_kva"])) & 0xFFFF
                self._holding.setValues(t["oil_temp_c"], [oil])
                self._holding.setValues(t["winding_temp_c"], [winding])
                self._holding.setValues(t["load_kva"], [load])

    async def _tick(self):
        # The energy counter follows the power even when nothing else changes.
        while True:
            await asyncio.sleep(0.5)
            self._write_now()


def _three(x):
    if isinstance(x, (int, float)):
        return (x, x, x)
    if len(x) != 3:
        raise ValueError("three values, one per phase")
    return tuple(x)


# --- command line -----------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default=HOST)
    ap.add_argument("--port", type=int, default=5020)
    ap.add_argument("--layout", choices=("sdm630", "transformer"), default="sdm630")
    ap.add_argument("--building-kw", type=float, default=40.0,
                    help="the site's other loads, spread evenly over the three phases")
    ap.add_argument("--voltage", type=float, default=230.0)
    ap.add_argument("--wander", action="store_true",
                    help="let the building load drift between 50 %% and 150 %% of --building-kw")
    ap.add_argument("--interval", type=float, default=2.0, help="seconds between drifts")
    ap.add_argument("--oil-temp-c", type=float, default=60.0, help="transformer layout")
    ap.add_argument("--quiet", action="store_true", help="do not print every change")
    args = ap.parse_args(argv)

    meter = SimMeter(port=args.port, host=args.host, layout=args.layout,
                     voltage_v=args.voltage)
    meter.set(power_w=args.building_kw * 1000, oil_temp_c=args.oil_temp_c,
              load_kva=args.building_kw)
    meter.start()
    what = SDM630_TEMPLATE if args.layout == "sdm630" else "transformer map"
    print(f"meter  | listening on {args.host}:{meter.port} ({what}), "
          f"building load {args.building_kw:g} kW", flush=True)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    kw = args.building_kw
    rng = random.Random()
    while not stop.wait(args.interval if args.wander else 3600):
        lo, hi = 0.5 * args.building_kw, 1.5 * args.building_kw
        kw = min(hi, max(lo, kw + rng.uniform(-0.1, 0.1) * args.building_kw))
        meter.set(power_w=kw * 1000, load_kva=kw,
                  oil_temp_c=args.oil_temp_c + 5 * math.sin(time.monotonic() / 60))
        if not args.quiet:
            print(f"meter  | building load {kw:.1f} kW", flush=True)
    meter.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["SimMeter", "SDM630", "SDM630_TEMPLATE", "TRANSFORMER", "TRANSFORMER_REGISTERS"]
