#!/usr/bin/env bash
# Installs everything sitegate needs to build and test on Debian 12, then the
# test-only npm dependencies (the official OCPP JSON schemas, via ocpp-rpc;
# playwright-core, which drives Debian's chromium for the dashboard test).
# Idempotent: packages already installed are not touched, so re-runs are fast.
#
#   tests/setup.sh            (as root, or a user with sudo)
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"

packages=(
  build-essential cmake pkg-config
  libuv1-dev libwebsockets-dev libwebsockets-evlib-uv libmodbus-dev libpaho-mqtt-dev
  libcjson-dev libsqlite3-dev libssl-dev
  mosquitto mosquitto-clients openssl
  python3-pytest python3-websockets python3-pymodbus python3-paho-mqtt python3-jsonschema
  python3-cryptography binutils
  clang libclang-rt-14-dev socat
  python3-prometheus-client chromium   # the metrics parser; the dashboard's browser
  debootstrap curl                     # tests/package/test_deb.sh (opt-in)
)
# Node.js may come from elsewhere (NodeSource ships npm inside its nodejs
# package, which conflicts with Debian's npm): only ask apt for what is missing.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
else
  echo "setup: Debian packages already installed"
fi

schemas="$root/tests/node_modules/ocpp-rpc/lib/schemas"
stamp="$root/tests/node_modules/.package-lock.json"
up_to_date() {
  [ -f "$schemas/ocpp1_6.json" ] && [ -f "$schemas/ocpp2_0_1.json" ] && [ -f "$stamp" ] || return 1
  [ -f "$root/tests/node_modules/playwright-core/package.json" ] || return 1
  for f in "$root/tests/package.json" "$root/tests/package-lock.json"; do
    [ -f "$f" ] && [ "$f" -nt "$stamp" ] && return 1
  done
  return 0
}
if up_to_date; then
  echo "setup: OCPP JSON schemas already installed"
else
  echo "setup: npm install --prefix tests (OCPP JSON schemas, playwright-core)"
  npm install --prefix "$root/tests" --no-audit --no-fund
fi
test -f "$schemas/ocpp1_6.json" && test -f "$schemas/ocpp2_0_1.json" || {
  echo "setup: OCPP JSON schemas missing under $schemas after npm install" >&2
  exit 1
}
echo "setup: done"
