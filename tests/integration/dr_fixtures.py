"""Fixtures and helpers of the demand-response tests (test_dr_*.py): a real
Mosquitto broker on a port of its own, a simulated utility (tests/sim/
mqtt_sim.py), and a gateway whose two chargers charge at their 32 A until an
event says otherwise.

Without a grid meter the balancer shares the cap as if the EVs were the
site's only load: a 20 kW limit is 28.98 A per phase at 230 V, 14.4 A for
each of two three-phase cars (floored to 0.1 A)."""

import math
import os
import sys
import time

import pytest

from conftest import SOURCE_DIR, wait_until
from test_balancer_profiles import gateway_limit, near, start_charging

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "sim"))

from mqtt_sim import Mosquitto, Vtn  # noqa: E402

SITE = "DEPOT-01"
PROGRAM = "ev-peak-dr"
FAST = {"increase_interval_s": 1, "deadband_a": 0.5}
FULL_A = 32.0


def amps(kw, chargers=2, v=230.0):
    """Each car's share of a kW cap, floored to 0.1 A like the balancer."""
    return math.floor(kw * 1000 / (3 * v) / chargers * 10 + 1e-9) / 10


@pytest.fixture
def broker(tmp_path):
    b = Mosquitto(str(tmp_path))
    b.start()
    yield b
    b.close()


@pytest.fixture
def vtn(broker):
    v = Vtn(broker.port)
    yield v
    v.close()


def openadr_config(broker, scheme="mqtt", **extra):
    cfg = {"broker": f"{scheme}://127.0.0.1:{broker.port}", "ven_id": SITE,
           "programs": [PROGRAM], "report_interval_s": 60, "reconnect_min_s": 0.2,
           "reconnect_max_s": 1, "keepalive_s": 5}
    cfg.update(extra)
    return cfg


def limits_are(cps, want):
    return lambda: all(near(gateway_limit(cp, "1.6"), want) for cp in cps)


def dr_site(gateway, charger, broker, vtn, site=None, charging=True, config=None, **openadr):
    """A started gateway on the broker, subscribed (its status is online),
    with CP01 and CP02 charging at their maximum. config: more top-level
    keys; openadr: keys of the openadr section."""
    mark = vtn_mark()
    gw = gateway(chargers=["CP01", "CP02"], site={"id": SITE, "grid_limit_kw": 200, **(site or {})},
                 balancer=FAST, openadr=openadr_config(broker, **openadr), **(config or {}))
    vtn.wait_online(SITE, since=mark)
    cps = [charger(i, "1.6") for i in ("CP01", "CP02")]
    if charging:
        for cp in cps:
            start_charging(cp, "1.6")
        wait_until(limits_are(cps, FULL_A), what="both cars at 32 A")
    return gw, cps


def vtn_mark():
    """A time mark for Vtn waits: messages at or after it."""
    return time.monotonic()
