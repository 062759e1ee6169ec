#!/bin/sh
# Runs every spec under Lua 5.4 from the checkout (make test builds first).
# The last line of the output is "N passed, N failed".
set -eu
cd "$(dirname "$0")/.."
# Lua 5.4 reads LUA_PATH_5_4, LUA_CPATH_5_4 and LUA_INIT_5_4 before the
# plain ones: a user's, naming an installed hwcloud, would win over these
unset LUA_PATH_5_4 LUA_CPATH_5_4 LUA_INIT_5_4
export LUA_PATH="lua/?.lua;lua/?/init.lua;emulator/lua/?.lua;emulator/lua/?/init.lua;spec/?.lua;;"
# HWCLOUD_CPATH: another build of the core (make sanitize uses build/sanitize)
export LUA_CPATH="${HWCLOUD_CPATH:-build/5.4}/?.so;;"
# child Lua processes of the specs load hwcloud from this checkout only
# (spec/helpers/checkout.lua makes one that resolves elsewhere an error)
export LUA_INIT="@$PWD/spec/helpers/checkout.lua"
# HWCLOUD_LUA: another interpreter (make sanitize's, built with the sanitizers)
if [ -n "${HWCLOUD_LUA:-}" ]; then
  exec "$HWCLOUD_LUA" /usr/bin/busted --lua="$HWCLOUD_LUA" "$@"
fi
exec lua5.4 /usr/bin/busted "$@"
