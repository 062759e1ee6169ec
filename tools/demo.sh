#!/bin/sh
# make demo: start the bundled emulator on a free port, run the deployment
# workflow example against it, stop the emulator.
set -eu
cd "$(dirname "$0")/.."
# the checkout's code, whatever the user's environment names: Lua 5.4 reads
# the versioned variables first, and LUA_INIT could load another copy
unset LUA_PATH_5_4 LUA_CPATH_5_4 LUA_INIT LUA_INIT_5_4
export LUA_PATH="lua/?.lua;lua/?/init.lua;emulator/lua/?.lua;emulator/lua/?/init.lua;;"
export LUA_CPATH="build/5.4/?.so;;"
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

tries=0
while :; do
  port=$(awk 'BEGIN { srand(); print 20000 + int(rand() * 30000) }')
  bin/hwcloud-emulator --port "$port" --job-seconds 2 >"$work/out" 2>"$work/err" &
  pid=$!
  i=0
  # up to 60 s: nginx starts in a fraction of a second, but a busy machine
  # can stretch that
  while [ $i -lt 600 ] && kill -0 "$pid" 2>/dev/null && ! grep -q "listening on" "$work/out"; do
    sleep 0.1; i=$((i + 1))
  done
  if grep -q "listening on" "$work/out"; then break; fi
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""
  tries=$((tries + 1))
  if [ $tries -ge 5 ]; then echo "demo: the emulator did not start:" >&2; cat "$work/err" >&2; exit 1; fi
done
echo "emulator: $(cat "$work/out")"
# one server's reinstall will fail, so the demo shows how failures surface
curl -fsS -X POST -H 'Content-Type: application/json' -d '{"ids":["srv-api-02"]}' \
  "http://127.0.0.1:$port/_emulator/fail" >/dev/null
echo
HWCLOUD_ENDPOINT="http://127.0.0.1:$port" lua5.4 examples/deploy_workflow.lua
