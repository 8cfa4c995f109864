"""Issue 8, the status API: /api/status, /api/chargers/<id>, /api/history and
the live stream, against a running site (a grid meter, two chargers charging,
the simulated CSMS), with and without a bearer token."""

import os
import socket

import pytest

import ocpp_sim
from conftest import HOST, GatewayExited, grid_meter, wait_until
from status_fixtures import (V, Stream, charger_of, get_json, request,  # noqa: F401
                             status_section, wait_status)
from test_balancer_profiles import gateway_limit, near, start_charging

CAP_KW = 44.16            # 64 A per phase at 230 V
FAST = {"increase_interval_s": 1, "deadband_a": 0.5}


def charging_site(gateway, charger, meter, building_a=20.0, **overrides):
    meter.set(current_a=(building_a, building_a, building_a))
    gw = gateway(chargers=["CP01", "CP02"], site={"grid_limit_kw": CAP_KW, "meter_stale_s": 2},
                 balancer=FAST, meters=[grid_meter(meter)],
                 status=overrides.pop("status", status_section()), **overrides)
    cp1 = charger("CP01", "1.6")
    cp2 = charger("CP02", "2.0.1")
    start_charging(cp1, "1.6")
    start_charging(cp2, "2.0.1")
    return gw, cp1, cp2


def test_status_shape_and_values(csms, gateway, charger, meter):
    gw, cp1, cp2 = charging_site(gateway, charger, meter)
    # 64 A - 20 A of building load = 44 A: 22 A each
    wait_until(lambda: near(gateway_limit(cp1, "1.6"), 22.0) and near(gateway_limit(cp2, "2.0.1"), 22.0),
               what="22 A each")
    s = wait_status(gw, lambda s: all(c["connectors"][0]["limit_a"] == 22.0 for c in s["chargers"])
                    and s["grid"]["meter"] == "ok", "the API showing both limits")

    assert set(s) == {"site", "grid", "ev", "limits", "upstream", "queue", "demand_response",
                      "meters", "chargers"}
    assert s["site"]["id"] == "TEST-SITE"
    assert isinstance(s["site"]["uptime_s"], (int, float)) and s["site"]["time"].endswith("Z")
    assert s["grid"]["import_kw"] == pytest.approx(3 * V * 20 / 1000, abs=0.05)
    assert s["ev"]["load_kw"] == 0          # the simulated cars report no draw yet
    lim = s["limits"]
    assert lim["cap_kw"] == pytest.approx(CAP_KW)
    assert lim["cap_source"] == "config"
    assert lim["binding"] == "total" and lim["binding_source"] == "config"
    assert lim["sources"]["config"]["kw"] == pytest.approx(CAP_KW)
    assert lim["sources"]["demand_response"]["kw"] is None
    assert lim["budget_kw"] == pytest.approx(CAP_KW - 3 * V * 20 / 1000, abs=0.05)
    assert s["upstream"] == {"mode": "passthrough", "url": csms.url, "open": 2, "sessions": 2,
                             "replaying": 0}
    assert s["queue"]["depth"] == 0 and s["queue"]["oldest_age_s"] == 0
    assert s["demand_response"] is None
    (m,) = s["meters"]
    assert m["name"] == "grid" and m["role"] == "grid" and m["state"] == "ok"
    assert m["poll_errors"] == 0 and m["age_s"] < 2

    c1, c2 = charger_of(s, "CP01"), charger_of(s, "CP02")
    assert c1["online"] and c1["ocpp"] == "ocpp1.6" and c2["ocpp"] == "ocpp2.0.1"
    for c in (c1, c2):
        assert c["upstream"] == "open" and c["offline"] is False and c["queue_depth"] == 0
        assert c["smart"] is True and c["profile"] == "charge_point_max" and c["following"] is True
        assert c["limit_a"] == 22.0 and c["profile_writes"] >= 1
        (conn,) = c["connectors"]
        assert conn["id"] == 1
        assert conn["allocation_a"] == 22.0 and conn["limit_a"] == 22.0
        assert conn["allocation"] == "shared"
    assert c1["connectors"][0]["state"] == "charging"
    assert c2["connectors"][0]["state"] == "preparing"    # 2.0.1 Occupied: a car, charging or not
    assert c1["connectors"][0]["transaction"] is None
    assert c2["connectors"][0]["transaction"] == "tx-CP02-1"

    # a car drawing 10 A on every phase: its draw, and the EV load
    cp1.call("MeterValues", {"connectorId": 1, "meterValue": [{
        "timestamp": ocpp_sim.now_iso(), "sampledValue": [
            {"value": "10", "measurand": "Current.Import", "phase": p, "unit": "A"}
            for p in ("L1", "L2", "L3")]}]})
    s = wait_status(gw, lambda s: charger_of(s, "CP01")["connectors"][0]["draw_a"] == 10.0,
                    "CP01's draw")
    conn = charger_of(s, "CP01")["connectors"][0]
    assert conn["measured_a"] == [10.0, 10.0, 10.0]
    assert conn["draw_kw"] == pytest.approx(3 * V * 10 / 1000, abs=0.01)
    assert s["ev"]["load_kw"] == pytest.approx(3 * V * 10 / 1000, abs=0.01)


def test_one_charger_and_errors(csms, gateway, charger, meter):
    gw, cp1, cp2 = charging_site(gateway, charger, meter)
    wait_status(gw, lambda s: charger_of(s, "CP02")["limit_a"] is not None, "CP02 limited")
    one = get_json(gw, "/api/chargers/CP02")
    assert one["id"] == "CP02" and one["connectors"][0]["state"] == "preparing"
    assert set(one) == set(charger_of(get_json(gw, "/api/status"), "CP02"))

    status, headers, body = request(gw, "/api/chargers/NOPE")
    assert status == 404 and body == b"no such charger\n"
    assert request(gw, "/api/nothing")[0] == 404
    assert request(gw, "/etc/passwd")[0] == 404
    status, headers, _ = request(gw, "/api/status", method="POST")
    assert status == 405 and headers["allow"] == "GET"
    status, headers, body = request(gw, "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b'<script src="/app.js">' in body and b"http" not in body.replace(b"http-equiv", b"")
    assert request(gw, "/app.js")[1]["content-type"].startswith("text/javascript")
    assert request(gw, "/style.css")[1]["content-type"].startswith("text/css")
    assert headers["cache-control"] == "no-store"


def test_history_and_live_stream(csms, gateway, charger, meter):
    gw, cp1, cp2 = charging_site(gateway, charger, meter, status=status_section(max_streams=2))
    s1, s2 = Stream(gw), Stream(gw)
    try:
        assert s1.status == 200 and "content-type: text/event-stream" in s1.headers.lower()
        uptimes = []
        for _ in range(3):        # once a second
            name, data = s1.event(timeout=3)
            assert name == "status" and data["site"]["id"] == "TEST-SITE"
            uptimes.append(data["site"]["uptime_s"])
        assert uptimes[-1] > uptimes[0]
        assert s2.event(timeout=3)[0] == "status"
        # a third one is over status.max_streams
        s3 = Stream(gw)
        assert s3.status == 503
        s3.close()
    finally:
        s1.close()
        s2.close()
    wait_status(gw, lambda h: h["samples"] >= 3 and h["import_kw"][-1] is not None,
                "three samples of history", path="/api/history")
    h = get_json(gw, "/api/history")
    assert h["step_s"] == 1 and len(h["import_kw"]) == len(h["cap_kw"]) == len(h["ev_kw"]) == h["samples"]
    assert h["import_kw"][-1] == pytest.approx(3 * V * 20 / 1000, abs=0.05)
    assert h["cap_kw"][-1] == pytest.approx(CAP_KW)


def test_bearer_token(csms, gateway, charger, meter, tmp_path):
    token = "s3cret-token-0123456789"
    path = tmp_path / "status.token"
    path.write_text(token + "\n")
    os.chmod(path, 0o600)
    gw, cp1, cp2 = charging_site(gateway, charger, meter,
                                 status=status_section(token_file=str(path)))
    for p in ("/api/status", "/api/chargers/CP01", "/api/history", "/metrics"):
        status, headers, _ = request(gw, p)
        assert status == 401 and headers["www-authenticate"].startswith("Bearer")
        assert request(gw, p, token="wrong-token-0123456789")[0] == 401
        assert request(gw, p, token=token)[0] == 200
    assert request(gw, "/")[0] == 200           # the page itself holds no data
    stream = Stream(gw)
    assert stream.status == 401
    stream.close()
    stream = Stream(gw, token=token)
    assert stream.event(timeout=3)[0] == "status"
    stream.close()
    assert token not in gw.log_text()


def test_listener_taken_refuses_to_start(csms, gateway):
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        gw = gateway(status=status_section(port), start=False)
        try:
            gw.start(timeout=5)      # the charger listener may be up for a moment
        except GatewayExited:
            pass
        assert gw.wait_exit() == 1
        gw.allow_unclean_exit = True
        assert gw.find_log(r"error status: cannot listen listen=127\.0\.0\.1:%d" % port)
