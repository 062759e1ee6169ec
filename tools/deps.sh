#!/bin/sh
# Installs the Debian packages hwcloud's build, tests, demo and benchmarks
# need, but only those missing. Quiet when everything is there.
set -eu
PKGS="build-essential pkg-config lua5.4 liblua5.4-dev luajit2 libluajit2-5.1-dev
lua5.1 liblua5.1-0-dev lua5.3 liblua5.3-dev zip unzip
libcurl4-openssl-dev libssl-dev openssl curl lua-cjson lua-expat lua-busted lua-socket lua-check luarocks cppcheck
nginx libnginx-mod-http-lua wrk valgrind clang libclang-rt-dev"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
# node and npm may come from Debian or from elsewhere: ask for the commands
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "hwcloud: missing Debian packages:$missing" >&2
  echo "hwcloud: run as root, or: sudo apt-get install$missing" >&2
  exit 1
fi
echo "hwcloud: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Debian starts nginx as a service on install; hwcloud runs its own.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now nginx >/dev/null 2>&1 || true; fi
service nginx stop >/dev/null 2>&1 || true
exit 0
