#!/usr/bin/env bash
# The Debian package, end to end (issue 8). As root, with Debian's mirror
# reachable; a few minutes, so not part of tests/run.sh:
#
#   sudo tests/package/test_deb.sh [BUILD_DIR]      (default: build-deb/)
#
#  1. configures a package build (prefix /usr, templates in /usr/share/sitegate),
#     builds sitegate and makes the .deb with CPack;
#  2. checks the package: its Depends (the libraries, libwebsockets-evlib-uv),
#     its files, its conffile;
#  3. makes a clean Debian 12 root (debootstrap, minbase), installs the .deb
#     there with apt (which must find every dependency from the package alone),
#     and checks what the post-install made: the sitegate user, /var/lib/sitegate;
#  4. starts the installed binary in that root, as the sitegate user, on the
#     installed example config (its ports moved to free ones), asks the status
#     API for the site, and stops it with SIGTERM (exit 0);
#  5. purges the package.
# Everything it starts is stopped and the root is removed on exit.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
build="$(readlink -f "${1:-$root/build-deb}")"
mirror="${SITEGATE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
step() { echo "=== deb: $*"; }
fail() { echo "deb: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap, chroot)"
for tool in debootstrap dpkg-deb dpkg-shlibdeps cpack curl python3; do
  command -v "$tool" >/dev/null || fail "$tool is missing: run tests/setup.sh"
done

step "package build in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
      -DSITEGATE_TEMPLATE_DIR=/usr/share/sitegate/meters -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >/dev/null
cmake --build "$build" -j "${SITEGATE_JOBS:-2}" --target sitegate >/dev/null
(cd "$build" && rm -f sitegate_*.deb && cpack -G DEB >/dev/null)
deb="$(ls "$build"/sitegate_*.deb)"
step "made $(basename "$deb")"

step "the package's control data and files"
depends="$(dpkg-deb -f "$deb" Depends)"
echo "    Depends: $depends"
for dep in libwebsockets-evlib-uv libwebsockets17 libuv1 libmodbus5 libpaho-mqtt1.3 libcjson1 \
           libsqlite3-0 libssl3 adduser; do
  grep -qE "(^|, )$dep( |,|$)" <<<"$depends" || fail "Depends lacks $dep"
done
files="$(dpkg-deb -c "$deb" | awk '{print $6}')"
for f in ./usr/sbin/sitegate ./usr/lib/systemd/system/sitegate.service ./etc/sitegate/sitegate.json \
         ./usr/share/sitegate/meters/eastron_sdm630.json ./usr/share/doc/sitegate/README.md; do
  grep -qxF "$f" <<<"$files" || fail "the package lacks $f"
done
dpkg-deb -I "$deb" conffiles | grep -qxF /etc/sitegate/sitegate.json || fail "no conffile"
for script in postinst prerm postrm; do
  dpkg-deb -I "$deb" "$script" >/dev/null || fail "no $script"
done

target="$(mktemp -d -t sitegate-deb-root.XXXXXX)"
chmod 0755 "$target"      # it becomes /: the sitegate user must get through it
gw_pid=""
cleanup() {
  set +e
  if [ -n "$gw_pid" ] && kill -0 "$gw_pid" 2>/dev/null; then kill -KILL "$gw_pid"; fi
  for m in "$target/proc" "$target/dev/pts" "$target/dev"; do
    mountpoint -q "$m" && umount -l "$m"
  done
  rm -rf "$target"
}
trap cleanup EXIT

step "a clean Debian 12 root (debootstrap minbase from $mirror)"
debootstrap --variant=minbase bookworm "$target" "$mirror" >"$build/debootstrap.log" 2>&1 ||
  { tail -20 "$build/debootstrap.log"; fail "debootstrap"; }
mount -t proc proc "$target/proc"
mount --bind /dev "$target/dev"
cp /etc/resolv.conf "$target/etc/resolv.conf"
cp "$deb" "$target/tmp/sitegate.deb"

step "apt-get install ./sitegate.deb in that root"
chroot "$target" env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
chroot "$target" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q /tmp/sitegate.deb \
  >"$build/apt-install.log" 2>&1 || { tail -30 "$build/apt-install.log"; fail "apt-get install"; }
chroot "$target" dpkg-query -W -f='${Status}\n' libwebsockets-evlib-uv | grep -q "install ok installed" ||
  fail "libwebsockets-evlib-uv was not installed with the package"

step "what the post-install made"
chroot "$target" getent passwd sitegate | grep -q ":/var/lib/sitegate:/usr/sbin/nologin$" ||
  fail "no sitegate user"
[ "$(chroot "$target" stat -c '%U:%G %a' /var/lib/sitegate)" = "sitegate:sitegate 750" ] ||
  fail "/var/lib/sitegate: $(chroot "$target" stat -c '%U:%G %a' /var/lib/sitegate)"
[ "$(chroot "$target" stat -c '%U:%G %a' /etc/sitegate/sitegate.json)" = "root:sitegate 640" ] ||
  fail "/etc/sitegate/sitegate.json: $(chroot "$target" stat -c '%U:%G %a' /etc/sitegate/sitegate.json)"
chroot "$target" /usr/sbin/sitegate -t -c /etc/sitegate/sitegate.json | grep -q "is valid" ||
  fail "sitegate -t on the installed config"

step "start the installed binary on the example config"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ocpp_port="$(free_port)"
status_port="$(free_port)"
python3 - "$target/etc/sitegate/sitegate.json" "$target/etc/sitegate/test.json" \
          "$ocpp_port" "$status_port" <<'PY'
import json, sys
src, dst, ocpp, status = sys.argv[1:]
cfg = json.load(open(src))
cfg["listen"]["port"] = int(ocpp)
cfg["status"]["listen"] = f"127.0.0.1:{status}"
json.dump(cfg, open(dst, "w"), indent=2)
PY
chroot "$target" chown root:sitegate /etc/sitegate/test.json
chroot "$target" chmod 0640 /etc/sitegate/test.json
chroot --userspec=sitegate:sitegate "$target" /usr/sbin/sitegate -c /etc/sitegate/test.json \
  >"$build/gateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$status_port/api/status" -o "$build/status.json" && break
  kill -0 "$gw_pid" 2>/dev/null || { cat "$build/gateway.log"; fail "the gateway exited"; }
  sleep 0.1
done
[ -s "$build/status.json" ] || { cat "$build/gateway.log"; fail "no status API within 10 s"; }
python3 - "$build/status.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["site"]["id"] == "DEPOT-01", s["site"]
assert [c["id"] for c in s["chargers"]] == ["CP01", "CP02"], s["chargers"]
PY
curl -sf "http://127.0.0.1:$status_port/" | grep -q "<title>sitegate</title>" || fail "no dashboard"
[ -f "$target/var/lib/sitegate/sitegate.db" ] || fail "no store in /var/lib/sitegate"
kill -TERM "$gw_pid"
rc=0
wait "$gw_pid" || rc=$?
gw_pid=""
[ "$rc" -eq 0 ] || { cat "$build/gateway.log"; fail "exit code $rc after SIGTERM"; }
grep -q "info gateway: stopped" "$build/gateway.log" || fail "no clean stop in the log"

step "purge"
rm -f "$target/etc/sitegate/test.json"
chroot "$target" env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q sitegate >/dev/null
[ ! -e "$target/var/lib/sitegate" ] || fail "/var/lib/sitegate left after purge"
[ ! -e "$target/usr/sbin/sitegate" ] || fail "/usr/sbin/sitegate left after purge"

echo "1 passed, 0 failed"
