#!/bin/sh
# make release-rockspec VERSION=x.y.z: the release rockspecs of version
# x.y.z, made from the scm ones (which build the main branch), in
# build/release/: hwcloud-x.y.z-1.rockspec and hwcloud-emulator-x.y.z-1.rockspec,
# whose source is the tag vx.y.z. Only the release commit makes them: the
# checkout must carry version x.y.z (src/hwcloud.h, lua/hwcloud/init.lua,
# the emulator's init.lua, a "## x.y.z" section in CHANGELOG.md) and the tag
# vx.y.z must exist and be HEAD, so the rockspec never names a tag that
# does not exist. `luarocks upload` takes them from there.
set -eu
cd "$(dirname "$0")/.."
die() { echo "release-rockspec: $*" >&2; exit 1; }
v=${1:-}
case "$v" in
  '' ) die "usage: make release-rockspec VERSION=x.y.z" ;;
  *[!0-9.]* | .* | *. | *..* ) die "VERSION must be x.y.z (digits and dots), got '$v'" ;;
esac
version_of() { sed -n "s/$2/\\1/p" "$1" | head -n 1; }
for pair in "src/hwcloud.h|^#define HWC_VERSION \"\\([^\"]*\\)\"" \
            "lua/hwcloud/init.lua|^local VERSION = \"\\([^\"]*\\)\"" \
            "emulator/lua/hwcloud/emulator/init.lua|^local _M = { _VERSION = \"\\([^\"]*\\)\" }"; do
  file=${pair%%|*}
  have=$(version_of "$file" "${pair#*|}")
  [ "$have" = "$v" ] || die "$file says version '$have', not $v: set it (and the others) in the release commit"
done
grep -q "^## $v\$" CHANGELOG.md || die "CHANGELOG.md has no '## $v' section"
tag_commit=$(git rev-parse -q --verify "refs/tags/v$v^{commit}" 2>/dev/null) ||
  die "the tag v$v does not exist: tag the release commit first (git tag -a v$v)"
[ "$tag_commit" = "$(git rev-parse HEAD)" ] || die "the tag v$v is not HEAD"
commit=$(git rev-parse HEAD)
mkdir -p build/release
# scm-1 -> x.y.z-1, branch = "main" -> tag = "vx.y.z"; the scm file's
# opening comment gives way to a line saying where this one comes from
make_one() {
  src=$1 out=$2
  {
    echo "-- Made by make release-rockspec VERSION=$v from $src at $commit (tag v$v)."
    awk -v v="$v" '
      !started && /^--/ { next }
      { started = 1 }
      /^version = "scm-1"$/ { print "version = \"" v "-1\""; next }
      /^  branch = "main",$/ { print "  tag = \"v" v "\","; next }
      { print }' "$src"
  } > "$out.tmp"
  grep -q "^version = \"$v-1\"\$" "$out.tmp" && grep -q "^  tag = \"v$v\",\$" "$out.tmp" ||
    die "$src: no 'version = \"scm-1\"' or 'branch = \"main\",' line to replace"
  mv "$out.tmp" "$out"
  echo "$out"
}
make_one hwcloud-scm-1.rockspec "build/release/hwcloud-$v-1.rockspec"
make_one emulator/hwcloud-emulator-scm-1.rockspec "build/release/hwcloud-emulator-$v-1.rockspec"
