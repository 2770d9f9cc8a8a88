#!/bin/sh
# make rock-check: the rockspec with LuaRocks, offline, for one Lua version.
#   1. luarocks lint
#   2. luarocks make into a private tree, then a dial with the module from it
#   3. luarocks test: the rockspec's test section (busted). LuaRocks wants
#      busted as a rock; Debian's busted is not one, so a rockspec that installs
#      the system's /usr/bin/busted script (the same Debian busted libraries)
#      registers it in that tree first. The private tree is in rocks_trees
#      (a config file), which is where `luarocks test` looks for busted.
# Usage: mk/rock-check.sh ROCKSPEC TREE LUA_VERSION LUA [SPEC...]
set -eu
rockspec=$1 tree=$2 v=$3 lua=$4
shift 4
root=$(pwd)
rm -rf "$tree"
mkdir -p "$tree/busted-rock"
tree=$(cd "$tree" && pwd)

luarocks --lua-version="$v" lint "$rockspec"

luarocks --lua-version="$v" --tree "$tree" make "$rockspec" >"$tree/make.log" 2>&1 ||
  { cat "$tree/make.log" >&2; exit 1; }
rm -f "$root/ras.so"  # luarocks builds in the checkout
LUA_CPATH="$tree/lib/lua/$v/?.so" "$lua" spec/support/smoke.lua "installed by luarocks for Lua $v"

# The system's busted as a rock (version: the Debian package's, else 0).
bv=$(dpkg-query -W -f='${Version}' lua-busted 2>/dev/null | sed 's/[-+~].*//') || bv=
cp /usr/bin/busted "$tree/busted-rock/busted"
cat >"$tree/busted-rock/busted-${bv:-0}-0.rockspec" <<EOF
rockspec_format = "3.0"
package = "busted"
version = "${bv:-0}-0"
source = { url = "git+file:///dev/null" }
description = { summary = "The system's busted (/usr/bin/busted), registered for luarocks test" }
build = { type = "builtin", modules = {}, install = { bin = { busted = "busted" } } }
EOF
(cd "$tree/busted-rock" && luarocks --lua-version="$v" --tree "$tree" make "busted-${bv:-0}-0.rockspec") \
  >"$tree/busted.log" 2>&1 || { cat "$tree/busted.log" >&2; exit 1; }
printf 'rocks_trees = { { name = "rock-check", root = "%s" } }\n' "$tree" >"$tree/config.lua"
# The tree's ras.so comes first on the wrapper's cpath: the installed rock is tested.
LUAROCKS_CONFIG="$tree/config.lua" luarocks --lua-version="$v" --tree "$tree" test "$rockspec" -- "$@" \
  >"$tree/test.log" 2>&1 || { cat "$tree/test.log" >&2; echo "rock-check: luarocks test failed" >&2; exit 1; }
echo "rock-check: luarocks test for Lua $v ran busted on ${*:-the suite}:"
grep -E '^[0-9]+ passed, [0-9]+ failed' "$tree/test.log"
