#!/bin/sh
# The emulator's start-up and size with the whole catalog: seconds from
# launch to "listening", to the first answer of a catalog operation (the
# route index built), the worker's resident memory then, and after one
# request to every service version (each one's description loaded).
# Prints: key=value lines (start_s, first_s, rss_index_kb, rss_all_kb,
# versions). Run by tools/bench.sh (section "emulator").
set -eu
cd "$(dirname "$0")/.."
run=$(mktemp -d "${TMPDIR:-/tmp}/hwcloud-bench-emu.XXXXXX")
pid=
cleanup() {
  [ -z "$pid" ] || { kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  rm -rf "$run"
}
trap cleanup EXIT
now() { date +%s.%N; }
t0=$(now)
bin/hwcloud-emulator --port 0 >"$run/out" 2>"$run/err" </dev/null &
pid=$!
i=0
while ! grep -q "listening on" "$run/out"; do
  kill -0 "$pid" 2>/dev/null || { cat "$run/err" >&2; exit 1; }
  i=$((i + 1))
  [ $i -lt 1200 ] || { echo "the emulator did not start" >&2; exit 1; }
  sleep 0.01
done
t1=$(now)
url=$(sed -n 's/^listening on //p' "$run/out")
pid_list="$pid"
# the worker: the launcher's nginx's child
master=$(pgrep -P "$pid" nginx | head -1)
worker=$(pgrep -P "$master" | head -1)
# a catalog operation (answered 401 without credentials, after routing)
curl -s -o /dev/null "$url/v1/0123456789abcdef0123456789abcdef/cloudservers/detail"
t2=$(now)
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$worker/status"; }
rss_index=$(rss)
LUA_PATH="emulator/lua/?.lua;emulator/lua/?/init.lua;lua/?.lua;lua/?/init.lua;;" lua5.4 -e '
  local catalog = require "hwcloud.emulator.catalog"
  local services = require "hwcloud.services"
  for _, name in ipairs(services.names()) do
    if name:find("_v%d+$") then
      local e = services.entry(name)
      -- the first operation of the version, its parameters filled
      local svc = assert(services.load(name))
      local ops = {}
      for op in pairs(svc.all) do ops[#ops + 1] = op end
      table.sort(ops)
      local op = svc.all[ops[1]]
      if op and e then print((op.path:gsub("{[^}]*}", "x"))) end
    end
  end' >"$run/paths"
while read -r p; do curl -s -o /dev/null "$url$p"; done <"$run/paths"
echo "start_s=$(echo "$t1 - $t0" | bc)"
echo "first_s=$(echo "$t2 - $t0" | bc)"
echo "rss_index_kb=$rss_index"
echo "rss_all_kb=$(rss)"
echo "versions=$(wc -l <"$run/paths")"
: "$pid_list"
