#!/bin/sh
# make matrix: the client specs (those that do not run the client inside
# nginx) under Lua 5.1, 5.3 and LuaJIT, each against its own build of the
# core (build/5.1, build/5.3, build/luajit; make matrix builds them).
# `make test` covers Lua 5.4 and nginx. Extra arguments replace the list.
set -eu
cd "$(dirname "$0")/.."
SPECS="spec/sign_spec.lua spec/public_sign_spec.lua spec/marshal_spec.lua spec/errors_spec.lua
spec/config_spec.lua spec/client_spec.lua spec/retry_spec.lua spec/parallel_spec.lua
spec/transport_spec.lua spec/credentials_spec.lua spec/workflow_spec.lua spec/progress_spec.lua
spec/messages_spec.lua spec/hooks_spec.lua emulator/spec/emulator_testing_spec.lua spec/options_spec.lua spec/call_spec.lua spec/retry_policy_spec.lua
spec/decode_spec.lua spec/head_spec.lua spec/throttle_spec.lua spec/engine_spec.lua
spec/journal_file_spec.lua"
[ $# -gt 0 ] && SPECS="$*"
export LUA_PATH="lua/?.lua;lua/?/init.lua;emulator/lua/?.lua;emulator/lua/?/init.lua;spec/?.lua;;"
status=0
for rt in 5.1 5.3 luajit; do
  case $rt in luajit) lua=luajit ;; *) lua=lua$rt ;; esac
  echo "== $lua"
  # .busted names lua5.4 and build/5.4: --lua and HWCLOUD_CPATH override them
  # shellcheck disable=SC2086
  HWCLOUD_LUA="$lua" HWCLOUD_CPATH="build/$rt" LUA_CPATH="build/$rt/?.so;;" \
    $lua /usr/bin/busted --lua="$(command -v $lua)" $SPECS || status=1
done
exit $status
