#!/bin/sh
# make memcheck: the C core under valgrind (the same check make test runs).
set -eu
cd "$(dirname "$0")/.."
exec sh tools/test.sh spec/memcheck_spec.lua
