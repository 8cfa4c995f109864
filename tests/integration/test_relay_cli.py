"""Issue 2, command line: -t checks a config (0 when valid; otherwise non-zero with
a message naming the JSON path), --version, -h, --hash-password.

Exit codes as README.md documents them: 0 valid, 2 bad command line, 3 invalid config."""

import json
import re
import subprocess

import pytest

from conftest import TIMEOUT, free_port, make_config, sitegate_bin


def run(args, stdin=None):
    r = subprocess.run([sitegate_bin()] + args, input=stdin, capture_output=True,
                       timeout=TIMEOUT, text=True)
    return r.returncode, r.stdout + r.stderr


def write_config(tmp_path, cfg, name="sitegate.json"):
    path = tmp_path / name
    path.write_text(cfg if isinstance(cfg, str) else json.dumps(cfg, indent=2))
    return str(path)


def valid_config(tmp_path, **overrides):
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    return make_config(free_port(), "ws://127.0.0.1:9/ocpp", ["CP01", "CP02"], str(state), overrides)


def test_check_valid_config(tmp_path):
    rc, out = run(["-t", "-c", write_config(tmp_path, valid_config(tmp_path))])
    assert rc == 0, out


def test_check_valid_config_with_every_relay_key(tmp_path):
    cfg = valid_config(tmp_path, listen={"allow_unknown_chargers": True},
                       upstream={"url": "wss://csms.example.com:443/ocpp/v16"})
    cfg["chargers"] = [{"id": "CP01", "upstream_password": "up"}, {"id": "CP-02_x"}]
    rc, out = run(["-t", "-c", write_config(tmp_path, cfg)])
    assert rc == 0, out


INVALID = [
    # (name, mutation of the config, JSON path the message must name)
    ("url-scheme", {"upstream": {"url": "http://127.0.0.1:9/ocpp"}}, "upstream.url"),
    ("mode", {"upstream": {"mode": "sideways"}}, "upstream.mode"),
    ("port-range", {"listen": {"port": 70000}}, "listen.port"),
    ("port-type", {"listen": {"port": "9000"}}, "listen.port"),
    ("grid-limit-type", {"site": {"grid_limit_kw": "lots"}}, "site.grid_limit_kw"),
    ("log-level", {"log_level": "loud"}, "log_level"),
    ("unknown-top-key", {"upstreams": {}}, "upstreams"),
    ("unknown-nested-key", {"listen": {"prot": 9000}}, "listen.prot"),
    ("frame-limit", {"limits": {"max_frame_bytes": -1}}, "limits.max_frame_bytes"),
    ("reconnect-order", {"upstream": {"reconnect_min_s": 5, "reconnect_max_s": 1}}, "upstream.reconnect"),
]


@pytest.mark.parametrize("name, mutation, path", INVALID, ids=[c[0] for c in INVALID])
def test_check_invalid_config_names_the_path(tmp_path, name, mutation, path):
    rc, out = run(["-t", "-c", write_config(tmp_path, valid_config(tmp_path, **mutation))])
    assert rc == 3, f"{name}: exit {rc}\n{out}"
    assert path in out, f"{name}: the message does not name {path}:\n{out}"


def test_check_duplicate_and_missing_charger_ids(tmp_path):
    cfg = valid_config(tmp_path)
    cfg["chargers"] = [{"id": "CP01"}, {"id": "CP01"}]
    rc, out = run(["-t", "-c", write_config(tmp_path, cfg)])
    assert rc == 3 and "chargers" in out, out
    cfg["chargers"] = [{"upstream_password": "x"}]
    rc, out = run(["-t", "-c", write_config(tmp_path, cfg, "b.json")])
    assert rc == 3 and "chargers" in out, out


def test_check_broken_json_and_missing_file(tmp_path):
    rc, out = run(["-t", "-c", write_config(tmp_path, '{"site": {"id": "X",}')])
    assert rc != 0 and out.strip(), out
    rc, out = run(["-t", "-c", str(tmp_path / "does-not-exist.json")])
    assert rc != 0 and out.strip(), out


def test_version_and_help():
    rc, out = run(["--version"])
    assert rc == 0 and re.search(r"\d+\.\d+\.\d+", out), out
    rc, out = run(["-h"])
    assert rc == 0 and "-c" in out and "-t" in out, out
    rc, out = run(["--no-such-option"])
    assert rc == 2, out
    rc, out = run([])
    assert rc == 2, out


def test_hash_password_is_salted_and_secret():
    rc1, h1 = run(["--hash-password"], stdin="correct horse")
    rc2, h2 = run(["--hash-password"], stdin="correct horse")
    assert rc1 == 0 and rc2 == 0, h1 + h2
    h1, h2 = h1.strip(), h2.strip()
    assert h1 and h2 and h1 != h2, "two hashes of one password must differ (salt)"
    assert "correct horse" not in h1
