#!/bin/sh
# make rock: a source rock of the checkout, offline. The tracked files (as
# they are in the work tree) go into a tarball, a copy of the rockspec
# points its source at that tarball, and luarocks pack puts both into
# build/rock/<name>-<version>.src.rock, which `luarocks install` builds
# without fetching anything.
set -eu
cd "$(dirname "$0")/.."
ROCKSPEC=${1:-hwcloud-scm-1.rockspec}
name_version=$(basename "$ROCKSPEC" .rockspec)     # hwcloud-scm-1
dir_name=${name_version%-*}                         # hwcloud-scm
out=build/rock
rm -rf "$out/stage"
mkdir -p "$out/stage"
abs_out=$(cd "$out" && pwd)
git ls-files -z | tar --null -T - --transform "s,^,$dir_name/," -czf "$abs_out/stage/$dir_name.tar.gz"
# the source block, rewritten: a local tarball and the folder inside it
awk -v url="file://$abs_out/stage/$dir_name.tar.gz" -v dir="$dir_name" '
  /^source = \{/ { print "source = {"; print "  url = \"" url "\","; print "  dir = \"" dir "\","; skip = 1; next }
  skip && /^\}/ { print; skip = 0; next }
  !skip { print }' "$ROCKSPEC" > "$out/stage/$name_version.rockspec"
(cd "$out" && rm -f "$name_version.src.rock" && luarocks pack "stage/$name_version.rockspec" >/dev/null)
rm -rf "$out/stage"
echo "$out/$name_version.src.rock"
