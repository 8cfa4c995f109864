"""Issue 8, live reload: SIGHUP reads the config file again. A new cap moves
the chargers' profiles without dropping a session; a broken file leaves the
running config as it was; a change that needs a restart (a listener, the
upstream) is refused whole and named in the log."""

import copy
import json
import signal

from conftest import port_accepts, wait_until
from status_fixtures import get_json, status_section
from test_balancer_profiles import gateway_limit, near, start_charging

FAST = {"increase_interval_s": 1, "deadband_a": 0.5}
V = 230.0


def kw_for(amps_per_phase):
    return round(3 * V * amps_per_phase / 1000, 2)


def charging(gateway, charger, cap_a=64.0, **overrides):
    """Two 1.6 chargers charging; no grid meter: the cap is the EVs' alone."""
    gw = gateway(chargers=["CP01", "CP02"], site={"grid_limit_kw": kw_for(cap_a)}, balancer=FAST,
                 status=status_section(), **overrides)
    cps = [charger(i, "1.6") for i in ("CP01", "CP02")]
    for cp in cps:
        start_charging(cp, "1.6")
    return gw, cps


def both(cps, amps):
    return lambda: all(near(gateway_limit(cp, "1.6"), amps) for cp in cps)


def rewrite(gw, change):
    """Writes the gateway's config file anew, changed by change(cfg), and sends SIGHUP."""
    cfg = copy.deepcopy(gw.config)
    change(cfg)
    with open(gw.config_path, "w") as f:
        json.dump(cfg, f, indent=2)
    mark = gw.log_mark()
    gw.send_signal(signal.SIGHUP)
    return cfg, mark


def connections(peer, cp_id=None):
    """How many sockets a peer has had (frames carry their socket's number)."""
    return max((f.conn_no for f in peer.received(cp_id)), default=0)


def test_new_cap_moves_the_profiles_without_dropping_a_session(csms, gateway, charger):
    gw, cps = charging(gateway, charger)
    wait_until(both(cps, 32.0), what="32 A each under a 64 A cap")
    upstream_before = {cp.charger_id: connections(csms, cp.charger_id) for cp in cps}

    def lower(cfg):
        cfg["site"]["grid_limit_kw"] = kw_for(40.0)
        cfg["site"]["margin_kw"] = 0
    _, mark = rewrite(gw, lower)
    gw.wait_log(r"info reload: config applied changed=site.grid_limit_kw site.margin_kw ", since=mark)
    wait_until(both(cps, 20.0), what="20 A each under the new 40 A cap")
    s = get_json(gw, "/api/status")
    assert s["limits"]["cap_kw"] == kw_for(40.0)

    # priorities and charger limits too: CP01 first, CP02 at most 10 A
    def reprioritize(cfg):
        cfg["site"]["grid_limit_kw"] = kw_for(40.0)
        cfg["chargers"] = [{"id": "CP01", "priority": 5}, {"id": "CP02", "max_current_a": 10}]
    _, mark = rewrite(gw, reprioritize)
    gw.wait_log(r"info reload: config applied changed=.*chargers\[0\]\.priority "
                r"chargers\[1\]\.max_current_a", since=mark)
    wait_until(lambda: near(gateway_limit(cps[1], "1.6"), 10.0) and near(gateway_limit(cps[0], "1.6"), 30.0),
               what="CP02 at its new 10 A maximum, CP01 gets the rest")

    # Nothing was dropped: the chargers' sockets and their upstream sockets are the ones they had.
    for cp in cps:
        cp.heartbeat()
        assert connections(cp) == 1
        assert connections(csms, cp.charger_id) == upstream_before[cp.charger_id] == 1
    m = get_json(gw, "/api/status")
    assert all(c["online"] and c["upstream"] == "open" for c in m["chargers"])
    assert not gw.find_log(r"charger (connected|disconnected)", since=mark)


def test_broken_config_leaves_the_running_one(csms, gateway, charger):
    gw, cps = charging(gateway, charger, cap_a=40.0)
    wait_until(both(cps, 20.0), what="20 A each")
    mark = gw.log_mark()
    with open(gw.config_path, "w") as f:
        f.write('{"site": {"id": "TEST-SITE", "grid_limit_kw": 10,')      # cut short
    gw.send_signal(signal.SIGHUP)
    gw.wait_log(r"error reload: config refused, the running one stays: invalid JSON at line 1",
                since=mark)

    def invalid(cfg):
        cfg["site"]["grid_limit_kw"] = -5
    _, mark = rewrite(gw, invalid)
    gw.wait_log(r"error reload: config refused, the running one stays: site\.grid_limit_kw: ", since=mark)
    assert gw.running
    cps[0].heartbeat()                         # still relaying
    assert both(cps, 20.0)()
    s = get_json(gw, "/api/status")
    assert s["limits"]["cap_kw"] == kw_for(40.0)

    # and a good file afterwards is taken
    def fine(cfg):
        cfg["site"]["grid_limit_kw"] = kw_for(30.0)
    _, mark = rewrite(gw, fine)
    gw.wait_log(r"info reload: config applied changed=site\.grid_limit_kw ", since=mark)
    wait_until(both(cps, 15.0), what="15 A each under the 30 A cap")


def test_listener_change_is_refused_and_named(csms, gateway, charger, tmp_path):
    gw, cps = charging(gateway, charger, cap_a=40.0)
    wait_until(both(cps, 20.0), what="20 A each")
    old_port = gw.port

    def move(cfg):
        cfg["listen"]["port"] = old_port + 1 if old_port < 65535 else old_port - 1
        cfg["upstream"]["url"] = "ws://127.0.0.1:1/elsewhere"
        cfg["status"]["listen"] = "127.0.0.1:1"
        cfg["state_dir"] = str(tmp_path / "elsewhere")
        cfg["site"]["grid_limit_kw"] = kw_for(30.0)     # hot, but the whole file is refused
    _, mark = rewrite(gw, move)
    gw.wait_log(r"warn reload: config refused, the running one stays: these keys need a restart: "
                r"listen\.port upstream\.url state_dir status\.listen$", since=mark)
    assert port_accepts(old_port) and gw.running
    for cp in cps:
        cp.heartbeat()
        assert connections(cp) == 1
    assert both(cps, 20.0)()
    s = get_json(gw, "/api/status")          # the old status listener, the old cap
    assert s["limits"]["cap_kw"] == kw_for(40.0)
