#!/usr/bin/env bash
# The demo site, all on 127.0.0.1: a simulated CSMS, the gateway on the example
# config, a simulated grid meter with a changing building load, and two
# simulated chargers (CP01 on OCPP 1.6J, CP02 on OCPP 2.0.1) running charging
# sessions in a loop through the gateway; the dashboard shows it all at
# http://127.0.0.1:8080/.
#
#   tests/demo.sh [--duration SECONDS]     (Ctrl-C stops it; so does the duration)
#
# Builds build/ first when needed. Everything it starts is stopped on exit.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
python=/usr/bin/python3
duration=0

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="${2:?--duration needs seconds}"; shift 2 ;;
    --duration=*) duration="${1#*=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "demo: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

csms_port=9100
gw_port=9000
meter_port=5020          # the example config's grid meter
status_port=8080         # the example config's status listener: the dashboard
for port in $csms_port $gw_port $meter_port $status_port; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "demo: something already listens on 127.0.0.1:$port; stop it first" >&2
    exit 1
  fi
done

# --- build --------------------------------------------------------------------
if [ ! -f "$root/build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$root/build"
fi
cmake --build "$root/build" -j 2 --target sitegate
bin="$root/build/gateway/sitegate"

# --- config: the example, with its state in a temporary directory --------------
tmp="$(mktemp -d -t sitegate-demo.XXXXXX)"
cfg="$tmp/sitegate.json"
# Demand response: the example's broker (mqtt://127.0.0.1:1883) is a local
# Mosquitto; the demo starts one when none runs there, or leaves DR off.
mqtt_port=1883
dr=on
if ! (exec 3<>"/dev/tcp/127.0.0.1/$mqtt_port") 2>/dev/null && ! command -v mosquitto >/dev/null; then
  echo "demo: no MQTT broker on 127.0.0.1:$mqtt_port and no mosquitto to start: demand response off"
  dr=off
fi
"$python" - "$root/config/sitegate.example.json" "$cfg" "$tmp/state" "$dr" <<'EOF'
import json, os, sys
src, dst, state, dr = sys.argv[1:]
cfg = json.load(open(src))
if dr == "off":
    del cfg["openadr"]
os.makedirs(state, exist_ok=True)
cfg["state_dir"] = state
cfg["log_level"] = "debug"          # one line per relayed message
cfg["balancer"]["increase_interval_s"] = 5   # the demo's load wanders: show it sooner
json.dump(cfg, open(dst, "w"), indent=2)
EOF

validate=()
if [ ! -f "$root/tests/node_modules/ocpp-rpc/lib/schemas/ocpp1_6.json" ]; then
  echo "demo: OCPP JSON schemas not installed (run tests/setup.sh): frames are not checked"
  validate=(--no-validate)
fi

# --- processes ----------------------------------------------------------------
pids=()
gw_pid=""
cleanup() {
  trap - EXIT INT TERM
  echo
  echo "demo: stopping"
  if [ -n "$gw_pid" ] && kill -0 "$gw_pid" 2>/dev/null; then
    kill -TERM "$gw_pid" 2>/dev/null || true     # closes every socket with 1001
  fi
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for _ in $(seq 50); do                          # up to 5 s, then SIGKILL
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() {  # wait_port PORT NAME PID: polls until it listens (10 s at most)
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || { echo "demo: $2 exited" >&2; exit 1; }
    sleep 0.1
  done
  echo "demo: $2 did not listen on 127.0.0.1:$1 within 10 s" >&2
  exit 1
}

cat <<EOF
sitegate demo
  simulated CSMS     ws://127.0.0.1:$csms_port/ocpp/<charger id>   (lines "csms   |")
  sitegate           ws://127.0.0.1:$gw_port/ocpp/<charger id>   (lines "gateway|")
  CP01 (OCPP 1.6J)   Boot, Status, Authorize, StartTransaction, MeterValues, StopTransaction
  CP02 (OCPP 2.0.1)  Boot, Status, Authorize, TransactionEvent Started/Updated/Ended
  grid meter         Modbus TCP 127.0.0.1:$meter_port (Eastron SDM630): a building load
                     wandering around 165 kW of the site's 200 kW cap; the chargers'
                     limits follow what it leaves
Each charger connects to the gateway, which opens one upstream socket per charger
to the CSMS and relays every frame unchanged both ways: "CP01 ->" is a frame the
charger sent, "CP01 <-" one the CSMS received from the gateway for CP01.
The gateway keeps the site under its 200 kW cap with its own charging profiles
("SetChargingProfile" from "sg-" ids; "limits sent after a meter reading").
  dashboard          http://127.0.0.1:$status_port/   (the whole site, live: grid import vs
                     cap vs EV load over the last hour, a bar per connector, WAN, meter and
                     demand-response state; JSON at /api/status, Prometheus at /metrics)
Config: $cfg
EOF
echo

if [ "$dr" = on ] && ! (exec 3<>"/dev/tcp/127.0.0.1/$mqtt_port") 2>/dev/null; then
  mosquitto -p "$mqtt_port" > >(sed -u 's/^/mqtt   | /') 2>&1 &
  pids+=($!)
  wait_port "$mqtt_port" "the MQTT broker" "${pids[-1]}"
fi

"$python" -u "$root/tests/sim/csms.py" --port "$csms_port" "${validate[@]}" &
pids+=($!)
wait_port "$csms_port" "the simulated CSMS" "${pids[-1]}"

"$python" -u "$root/tests/sim/modbus_meter.py" --port "$meter_port" --building-kw 165 --wander &
pids+=($!)
wait_port "$meter_port" "the simulated meter" "${pids[-1]}"

"$bin" -c "$cfg" > >(sed -u 's/^/gateway| /') 2>&1 &
gw_pid=$!
pids+=("$gw_pid")
wait_port "$gw_port" "sitegate" "$gw_pid"
wait_port "$status_port" "the status listener" "$gw_pid"
echo "demo: open the dashboard at http://127.0.0.1:$status_port/"

"$python" -u "$root/tests/sim/charger.py" --url "ws://127.0.0.1:$gw_port/ocpp" --id CP01 \
  --ocpp 1.6 --sessions 0 --interval 0.5 --pause 3 "${validate[@]}" &
pids+=($!)
"$python" -u "$root/tests/sim/charger.py" --url "ws://127.0.0.1:$gw_port/ocpp" --id CP02 \
  --ocpp 2.0.1 --sessions 0 --interval 0.5 --pause 3 "${validate[@]}" &
pids+=($!)

if [ "$duration" != 0 ]; then
  sleep "$duration"           # the demo's own running time
else
  wait "$gw_pid" || true      # until Ctrl-C (or the gateway stops)
  echo "demo: the gateway stopped"
fi
