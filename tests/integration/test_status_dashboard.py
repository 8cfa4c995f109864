"""Issue 8, the dashboard in a real browser: Debian's Chromium, driven by
playwright-core (dashboard_driver.mjs). The page loads from the gateway alone,
shows the chargers of the running test site, and follows the site live; a
screenshot is kept in the build tree ($SITEGATE_ARTIFACT_DIR)."""

import json
import os
import shutil
import subprocess

import pytest

import ocpp_sim
from conftest import HERE, SOURCE_DIR, grid_meter, wait_until
from status_fixtures import status_port, status_section  # noqa: F401
from test_balancer_profiles import gateway_limit, near, start_charging

NODE_MODULES = os.path.join(SOURCE_DIR, "tests", "node_modules")


class Browser:
    """One headless Chromium page, one JSON command at a time."""

    def __init__(self):
        for need, what in (("node", "Node.js"), ("/usr/bin/chromium", "Debian's chromium")):
            if not shutil.which(need):
                pytest.fail(f"{what} is not installed: run tests/setup.sh")
        if not os.path.isdir(os.path.join(NODE_MODULES, "playwright-core")):
            pytest.fail("playwright-core is not installed under tests/node_modules: run tests/setup.sh")
        env = dict(os.environ, NODE_PATH=NODE_MODULES)
        self.proc = subprocess.Popen(["node", os.path.join(HERE, "dashboard_driver.mjs")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     cwd=os.path.join(SOURCE_DIR, "tests"), env=env,
                                     start_new_session=True)

    def do(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the browser driver exited ({self.proc.wait(5)}) on {cmd}")
        answer = json.loads(line)
        if not answer["ok"]:
            raise AssertionError(f"{cmd}: {answer['error']}")
        return answer.get("value")

    def close(self):
        try:
            if self.proc.poll() is None:
                self.do(op="quit")
                self.proc.wait(10)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, 9)
                self.proc.wait(5)


@pytest.fixture
def browser():
    b = Browser()
    yield b
    b.close()


def artifact(name):
    folder = os.environ.get("SITEGATE_ARTIFACT_DIR") or os.path.join(SOURCE_DIR, "build", "artifacts")
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, name)


def draw(cp, amps):
    """The car on connector 1 draws this much on every phase (MeterValues)."""
    cp.call("MeterValues", {"connectorId": 1, "meterValue": [{
        "timestamp": ocpp_sim.now_iso(), "sampledValue": [
            {"value": str(amps), "measurand": "Current.Import", "phase": p, "unit": "A"}
            for p in ("L1", "L2", "L3")]}]})


def connector(charger_id):
    return f'document.querySelector(\'.connector[data-charger="{charger_id}"][data-connector="1"]\')'


def test_dashboard_shows_the_site_and_follows_it(csms, gateway, charger, meter, browser):
    meter.set(current_a=(20.0, 20.0, 20.0))
    gw = gateway(chargers=["CP01", "CP02"], site={"grid_limit_kw": 44.16},
                 balancer={"increase_interval_s": 1, "deadband_a": 0.5},
                 meters=[grid_meter(meter)], status=status_section())
    cp1, cp2 = charger("CP01", "1.6"), charger("CP02", "1.6")
    start_charging(cp1, "1.6")
    cp2.boot()
    wait_until(lambda: near(gateway_limit(cp1, "1.6"), 32.0), what="CP01 at 32 A")

    browser.do(op="goto", url=f"http://127.0.0.1:{status_port(gw)}/")
    browser.do(op="wait", js=f"{connector('CP02')} !== null && "
                             "Number(document.getElementById('updated').dataset.updates) >= 2")
    assert browser.do(op="eval", js="document.getElementById('site-id').textContent") == "TEST-SITE"
    assert browser.do(op="eval", js=f"{connector('CP01')}.dataset.state") == "charging"
    assert browser.do(op="eval", js=f"{connector('CP02')}.dataset.state") == "available"
    assert browser.do(op="eval", js="document.getElementById('meter').textContent") == "meter ok"
    assert browser.do(op="eval", js="document.getElementById('wan').textContent") == "WAN 2/2 up"
    assert browser.do(op="eval", js="document.getElementById('binding').textContent") == "none"
    assert browser.do(op="eval", js="document.getElementById('cap').textContent") == "44.2 kW"
    assert browser.do(op="eval", js="document.getElementById('import').textContent") == "13.8 kW"
    assert browser.do(op="eval", js=f"{connector('CP01')}.querySelector('.nums').textContent") == \
        "draw – / alloc 32.0 A"
    # the chart has its hour: the history the page fetched, then a sample a second
    drawn = browser.do(op="eval", js="""(() => { const c = document.getElementById('chart');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; })()""")
    assert drawn > 1000

    # The site changes: CP02's car arrives, the building load rises. The page follows.
    start_charging(cp2, "1.6")
    meter.set(current_a=(30.0, 30.0, 30.0))
    wait_until(lambda: near(gateway_limit(cp1, "1.6"), 17.0) and near(gateway_limit(cp2, "1.6"), 17.0),
               what="17 A each with 30 A of building load")
    browser.do(op="wait", js=f"{connector('CP02')}.dataset.state === 'charging' && "
                             f"{connector('CP02')}.querySelector('.nums').textContent.endsWith('17.0 A')")
    assert browser.do(op="eval", js="document.getElementById('binding').textContent") == "config"
    assert browser.do(op="eval", js="document.getElementById('import').textContent") == "20.7 kW"
    # CP01's car reports its draw: its bar fills
    draw(cp1, 10.0)
    browser.do(op="wait", js=f"{connector('CP01')}.querySelector('.nums').textContent.startsWith('draw 10.0 A')"
                             f" && {connector('CP01')}.querySelector('.draw').style.width !== '0%'")
    assert browser.do(op="eval", js="document.getElementById('ev').textContent") == "6.9 kW"
    path = artifact("dashboard.png")
    browser.do(op="screenshot", path=path)
    assert os.path.getsize(path) > 10000
    assert browser.do(op="problems") == []
