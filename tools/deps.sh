#!/bin/sh
# Installs the Debian packages hwcloud needs, but only those missing; quiet
# when everything is there.
#
#   sh tools/deps.sh        what the library and the emulator need: `make`,
#                           `make demo`, `make install` (make deps)
#   sh tools/deps.sh dev    that, and what developing hwcloud needs: the
#                           specs, the other Lua versions, the checkers, the
#                           sanitizers, valgrind, the fuzzer and the
#                           benchmarks' peers (make dev-deps; make test, CI)
#   sh tools/deps.sh list [user|dev]   the set's packages, one a line
set -eu
# the library: a C compiler, Lua 5.4 and its headers, libcurl, OpenSSL,
# lua-cjson, lua-expat (object storage's XML), lua-argparse (the hwcloud
# command's parser); the emulator: nginx with its Lua module and the curl command
# (its admin API's client, hwcloud.emulator.testing); make install: luarocks
USER_PKGS="build-essential pkg-config lua5.4 liblua5.4-dev
libcurl4-openssl-dev libssl-dev curl lua-cjson lua-expat lua-argparse luarocks
nginx libnginx-mod-http-lua"
# development: LuaJIT (the nginx client path), Lua 5.1 and 5.3 (make
# matrix), busted, lua-socket (specs), luacheck, cppcheck, openssl (the
# specs' certificates), zip/unzip (make rock), valgrind, clang and its
# runtime (sanitizers, fuzzer), wrk and Node.js (make bench's peers), zsh
# and fish (the completion scripts' specs), and what the official Python
# SDK's core imports (make vectors, make wire-fixtures)
DEV_PKGS="luajit2 libluajit2-5.1-dev lua5.1 liblua5.1-0-dev lua5.3 liblua5.3-dev
openssl zip unzip lua-busted lua-socket lua-check cppcheck valgrind clang libclang-rt-dev wrk
zsh fish
python3-requests python3-pyasn1 python3-simplejson python3-dateutil python3-six
python3-yaml python3-certifi python3-defusedxml python3-requests-toolbelt python3-pymongo
python3-bson"

# `sh tools/deps.sh list [user|dev]` prints the set, one package a line
list=
if [ "${1:-}" = list ]; then list=1; shift; fi
case "${1:-user}" in
  user) PKGS=$USER_PKGS; dev= ;;
  dev) PKGS="$USER_PKGS $DEV_PKGS nodejs npm"; dev=1 ;;
  *) echo "usage: sh tools/deps.sh [list] [user|dev]" >&2; exit 2 ;;
esac
if [ -n "$list" ]; then
  for p in $PKGS; do echo "$p"; done
  exit 0
fi
PKGS=$(echo $PKGS | sed 's/ nodejs npm$//')
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$dev" ]; then
  # node and npm may come from Debian or from elsewhere: ask for the commands
  command -v node >/dev/null 2>&1 || missing="$missing nodejs"
  command -v npm >/dev/null 2>&1 || missing="$missing npm"
fi
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
case "$missing" in
  *" nginx"*)
    if command -v systemctl >/dev/null 2>&1; then systemctl disable --now nginx >/dev/null 2>&1 || true; fi
    service nginx stop >/dev/null 2>&1 || true ;;
esac
exit 0
