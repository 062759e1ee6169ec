#!/bin/sh
# make check: the fast tier. luacheck over the tree, then every spec that
# needs no server (.busted's `check` task: describes tagged #server or
# #slow are left to `make test`). The last line is "N passed, N failed".
set -eu
cd "$(dirname "$0")/.."
luacheck --no-color --formatter plain -q .
exec sh tools/test.sh --run=check "$@"
