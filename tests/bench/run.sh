#!/usr/bin/env bash
# The benchmarks (not part of the test suite): builds a Release tree in
# build-rel/ and prints each benchmark's table, for the README.
#
#   tests/bench/run.sh            (after tests/setup.sh)
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
cd "$root"
cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build-rel -j "${SITEGATE_JOBS:-2}" --target sitegate bench_balancer bench_store \
    fast_csms fill_backlog loadgen ref_relay > /dev/null

echo "== allocation time (balancer_allocate), per call"
build-rel/tests/bench/bench_balancer
echo
echo "== the durable queue (SQLite, synchronous=FULL, group commit)"
build-rel/tests/bench/bench_store
echo
echo "== grid-meter reading -> every changed SetChargingProfile written"
/usr/bin/python3 tests/bench/meter_to_profiles.py --bin build-rel/gateway/sitegate
echo
echo "== replaying a 100,000-message backlog to a fast CSMS (one charger: one CALL in flight)"
/usr/bin/python3 tests/bench/replay.py --build build-rel
echo
echo "== 1,000 chargers: direct, through ref_relay and through the gateway (chart: build-rel/bench/scale.svg)"
/usr/bin/python3 tests/bench/scale.py --build build-rel --no-build --only latency,saturation,scale,storm
