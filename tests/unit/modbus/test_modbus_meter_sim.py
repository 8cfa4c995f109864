"""Self-test of the simulated meter (tests/sim/modbus_meter.py) with pymodbus's
own client: what it serves sits at the wire addresses the eastron_sdm630
template names (pymodbus 3.0.0 shifts addresses by one unless told not to),
set() keeps the values consistent, and garbage(), silence(), stop() and
start() do what the integration tests rely on. Runs without the gateway."""

import json
import os
import signal
import socket
import struct
import subprocess
import sys

import pytest
from pymodbus.client import ModbusTcpClient

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "sim"))

import modbus_meter  # noqa: E402
from waits import wait_until  # noqa: E402

TEMPLATE = os.path.join(SOURCE_DIR, "config", "meters", "eastron_sdm630.json")


def f32(words):
    return struct.unpack(">f", struct.pack(">HH", *words))[0]


@pytest.fixture
def meter():
    m = modbus_meter.SimMeter(port=0)
    m.start()
    yield m
    m.close()


@pytest.fixture
def client(meter):
    c = ModbusTcpClient("127.0.0.1", port=meter.port, timeout=1, retries=0)
    assert c.connect()
    yield c
    c.close()


def read(client, function, address, count):
    fn = client.read_input_registers if function == "input" else client.read_holding_registers
    r = fn(address, count, slave=1)
    assert not r.isError(), f"{function} {address}+{count}: {r}"
    return r.registers


def test_served_where_the_template_says(meter, client):
    meter.set(current_a=(10, 20, 30), voltage_v=(230, 231, 232), energy_kwh=1234.5)
    template = json.load(open(TEMPLATE))
    expected = {
        "voltage_l1": 230, "voltage_l2": 231, "voltage_l3": 232,
        "current_l1": 10, "current_l2": 20, "current_l3": 30,
        "power_l1": 2300, "power_l2": 4620, "power_l3": 6960,
        "power": 2300 + 4620 + 6960,
        "energy_import": 1234.5 * 1000,
    }
    assert set(template) == set(expected)
    for quantity, entry in template.items():
        assert entry["type"] == "float32" and entry["word_order"] == "big"
        words = read(client, entry["function"], entry["address"], 2)
        value = f32(words) * entry.get("scale", 1)
        assert value == pytest.approx(expected[quantity], rel=1e-6, abs=1.0), quantity
    # No shift by one: the register before voltage_l2 is the low word of voltage_l1.
    assert read(client, "input", 0, 3)[2] == modbus_meter.f32_words(231)[0]


def test_set_keeps_totals_and_phases_consistent(meter, client):
    meter.set(power_w=30000)
    assert f32(read(client, "input", 0x0C, 2)) == pytest.approx(10000)
    assert f32(read(client, "input", 0x06, 2)) == pytest.approx(10000 / 230, rel=1e-6)
    meter.set(power_phase_w=(1000, 2000, 3000))
    assert f32(read(client, "input", 0x34, 2)) == pytest.approx(6000)
    # Both given: served as given, even inconsistent (for the rejection tests).
    meter.set(power_w=12000, power_phase_w=(10000, 10000, 10000))
    assert f32(read(client, "input", 0x34, 2)) == pytest.approx(12000)
    assert f32(read(client, "input", 0x10, 2)) == pytest.approx(10000)


def test_energy_grows_with_import(meter, client):
    meter.set(power_w=3.6e6, energy_kwh=0)  # 1 kWh per second
    first = f32(read(client, "input", 0x48, 2))
    wait_until(lambda: f32(read(client, "input", 0x48, 2)) >= first + 0.9, what="a kWh imported")


def test_garbage_then_normal(meter, client):
    meter.set(power_w=1000)
    meter.garbage()
    assert read(client, "input", 0x34, 2) == list(modbus_meter.NAN_F32)
    assert f32(read(client, "input", 0x00, 2)) != f32(read(client, "input", 0x00, 2))  # NaN
    meter.normal()
    assert f32(read(client, "input", 0x34, 2)) == pytest.approx(1000)


def test_silence_times_out(meter, client):
    meter.silence()
    before = meter.requests
    r = client.read_input_registers(0x34, 2, slave=1)
    assert r.isError()
    assert meter.requests > before  # received, not answered
    meter.normal()
    client.close()
    assert client.connect()
    assert not client.read_input_registers(0x34, 2, slave=1).isError()


def test_stop_refuses_and_start_reuses_the_port(meter, client):
    port = meter.port
    meter.stop()
    assert not meter.running
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    meter.start()
    assert meter.port == port
    c = ModbusTcpClient("127.0.0.1", port=port, timeout=1)
    assert c.connect()
    assert not c.read_input_registers(0, 2, slave=1).isError()
    c.close()


def test_any_unit_id(meter, client):
    meter.set(power_w=500)
    for unit in (1, 2, 247):
        r = client.read_input_registers(0x34, 2, slave=unit)
        assert not r.isError()
        assert f32(r.registers) == pytest.approx(500)


def test_transformer_layout():
    with modbus_meter.SimMeter(port=0, layout="transformer") as m:
        m.set(oil_temp_c=-12.3, winding_temp_c=98.7, load_kva=412)
        c = ModbusTcpClient("127.0.0.1", port=m.port, timeout=1)
        assert c.connect()
        regs = c.read_holding_registers(0, 3, slave=1).registers
        s16 = [r - 65536 if r >= 32768 else r for r in regs[:2]]
        regs_map = modbus_meter.TRANSFORMER_REGISTERS
        assert s16[0] * regs_map["oil_temp_c"]["scale"] == pytest.approx(-12.3)
        assert s16[1] * regs_map["winding_temp_c"]["scale"] == pytest.approx(98.7)
        assert regs[2] == 412
        m.garbage()
        assert c.read_holding_registers(0, 1, slave=1).registers == [32767]  # 3276.7 C
        c.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_command_line_wanders_and_stops_on_sigterm():
    port = free_port()
    proc = subprocess.Popen([sys.executable, os.path.join(SOURCE_DIR, "tests", "sim",
                                                          "modbus_meter.py"),
                             "--port", str(port), "--building-kw", "40", "--wander",
                             "--interval", "0.1", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        c = ModbusTcpClient("127.0.0.1", port=port, timeout=1)
        wait_until(c.connect, what="the simulated meter to listen")
        first = f32(c.read_input_registers(0x34, 2, slave=1).registers)
        assert first == pytest.approx(40000)
        seen = set()

        def moved():
            seen.add(round(f32(c.read_input_registers(0x34, 2, slave=1).registers)))
            return len(seen) > 3
        wait_until(moved, what="the building load to wander")
        assert all(20000 <= kw <= 60000 for kw in seen)
        c.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) == 0
        assert b"listening on 127.0.0.1:" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
