#!/bin/sh
# make check: the fast tier. luacheck over the tree, then every spec that
# needs no server (.busted's `check` task: describes tagged #server or
# #slow are left to `make test`). The last line is "N passed, N failed".
set -eu
cd "$(dirname "$0")/.."
# the cache (under build/) keeps the per-file results of unchanged files;
# the configuration is applied afresh each run
mkdir -p build
luacheck --no-color --formatter plain -q --cache build/luacheck.cache .
exec sh tools/test.sh --run=check "$@"
