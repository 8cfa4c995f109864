"""Issue 8, GET /metrics: the Prometheus text exposition format, checked
strictly here (status_fixtures.parse_metrics) and by the Prometheus project's
own parser (python3-prometheus-client), with the values of a running site:
frames per direction and action, the CSMS round-trip histogram, bad frames,
chargers and upstreams, allocations, the grid, the meters and demand
response."""

import json

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import grid_meter, wait_until
from dr_fixtures import broker, dr_site, vtn, vtn_mark  # noqa: F401
from mqtt_sim import event
from status_fixtures import (V, parse_metrics, request, sample,  # noqa: F401
                             status_section)
from test_balancer_profiles import gateway_limit, near, start_charging

CAP_KW = 44.16


def scrape(gw):
    status, headers, body = request(gw, "/metrics")
    assert status == 200
    assert headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    text = body.decode()
    families = parse_metrics(text)
    # The reference parser reads it too, to as many families.
    assert len(list(text_string_to_metric_families(text))) == len(families)
    return families


def test_metrics_of_a_running_site(csms, gateway, charger, meter):
    meter.set(current_a=(20.0, 20.0, 20.0))
    gw = gateway(chargers=["CP01", "CP02"], site={"grid_limit_kw": CAP_KW, "meter_stale_s": 1},
                 balancer={"increase_interval_s": 1, "deadband_a": 0.5},
                 meters=[grid_meter(meter)], status=status_section())
    cp1, cp2 = charger("CP01", "1.6"), charger("CP02", "1.6")
    for cp in (cp1, cp2):
        start_charging(cp, "1.6")
    wait_until(lambda: near(gateway_limit(cp1, "1.6"), 22.0) and near(gateway_limit(cp2, "1.6"), 22.0),
               what="22 A each")
    cp1.send_raw("this is not json")
    m = wait_until(lambda: (lambda f: f if sample(f, "sitegate_bad_frames_total") == 1 else None)(scrape(gw)),
                   what="the bad frame counted")

    boots = sample(m, "sitegate_frames_total", direction="from_charger", type="call",
                   action="BootNotification")
    assert boots == 2
    assert sample(m, "sitegate_frames_total", direction="from_csms", type="result",
                  action="BootNotification") == 2
    assert sample(m, "sitegate_frames_total", direction="from_charger", type="result",
                  action="SetChargingProfile") >= 2       # the gateway's own profiles, answered
    rtt = m["sitegate_csms_call_duration_seconds"]
    assert rtt["type"] == "histogram"
    count = sample(m, "sitegate_csms_call_duration_seconds", "sitegate_csms_call_duration_seconds_count")
    assert count >= 6      # two boots, four statuses: every CALL the CSMS answered
    assert sample(m, "sitegate_csms_call_duration_seconds", "sitegate_csms_call_duration_seconds_bucket",
                  le="+Inf") == count
    assert sample(m, "sitegate_chargers_connected") == 2
    assert sample(m, "sitegate_upstreams_open") == 2
    assert sample(m, "sitegate_upstream_up", charger="CP01") == 1
    assert sample(m, "sitegate_charger_up", charger="CP02") == 1
    assert sample(m, "sitegate_pending_calls", toward="csms") == 0
    assert sample(m, "sitegate_charger_profile_writes_total", charger="CP01") >= 1
    assert sample(m, "sitegate_charger_following", charger="CP01") == 1
    assert sample(m, "sitegate_connector_allocation_amperes", charger="CP01", connector=1) == 22
    assert sample(m, "sitegate_connector_limit_amperes", charger="CP02", connector=1) == 22
    assert sample(m, "sitegate_grid_import_kilowatts") == pytest.approx(3 * V * 20 / 1000, abs=0.05)
    assert sample(m, "sitegate_site_cap_kilowatts") == pytest.approx(CAP_KW)
    assert sample(m, "sitegate_site_limit_kilowatts", source="config") == pytest.approx(CAP_KW)
    assert sample(m, "sitegate_site_binding", binding="total") == 1
    assert sample(m, "sitegate_queue_depth") == 0
    assert sample(m, "sitegate_replay_lag_seconds") == 0
    assert sample(m, "sitegate_meter_poll_errors_total", meter="grid") == 0
    assert sample(m, "sitegate_meter_stale", meter="grid") == 0
    assert sample(m, "sitegate_info", site="TEST-SITE") == 1
    assert "sitegate_mqtt_up" not in m          # no demand response configured

    # The meter fails: errors count up and it goes stale.
    meter.garbage()
    gw.wait_log(r"warn modbus: meter failing name=grid")
    m = wait_until(lambda: (lambda f: f if sample(f, "sitegate_meter_stale", meter="grid") == 1 else None)(
        scrape(gw)), timeout=15, what="the meter stale")
    assert sample(m, "sitegate_meter_poll_errors_total", meter="grid") >= 1
    assert sample(m, "sitegate_grid_import_kilowatts") is None     # not known: left out


def test_demand_response_and_mqtt_state(csms, gateway, charger, broker, vtn):
    gw, cps = dr_site(gateway, charger, broker, vtn, config={"status": status_section()})
    m = scrape(gw)
    assert sample(m, "sitegate_mqtt_up") == 1
    assert sample(m, "sitegate_dr_event_active") == 0
    assert sample(m, "sitegate_dr_limit_kilowatts") is None
    mark = vtn_mark()
    vtn.publish(event("evt-m", start_in_s=0.5, duration_s=60, kw=20))
    vtn.wait_opt("evt-m", since=mark)
    m = wait_until(lambda: (lambda f: f if sample(f, "sitegate_dr_event_active") == 1 else None)(scrape(gw)),
                   what="the event in force")
    assert sample(m, "sitegate_dr_limit_kilowatts") == 20
    assert sample(m, "sitegate_site_cap_kilowatts") == 20
    assert sample(m, "sitegate_site_limit_kilowatts", source="demand_response") == 20
    status, _, body = request(gw, "/api/status")
    dr = json.loads(body)["demand_response"]
    assert dr == {"mqtt": "up", "limit_kw": 20, "event": "evt-m", "interval": 0}
    broker.stop()
    wait_until(lambda: sample(scrape(gw), "sitegate_mqtt_up") == 0, what="MQTT down")
