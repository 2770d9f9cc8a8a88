#!/bin/sh
# Proves that a plain `make` runs no package manager: builds the checkout into
# OUT/build with a PATH that holds only the tools a build uses (a C compiler,
# make, pkg-config, a shell and coreutils) and no apt-get, apt, dpkg,
# dpkg-query or sudo. The old Makefile, whose build ran mk/deps.sh, fails here:
# without dpkg-query every package looks missing and there is no apt-get.
# Then checks that both files were built and that the module loads.
# Usage: mk/noapt-check.sh OUT LUA    (make noapt-check: OUT=build/noapt)
set -eu
out=${1:?usage: mk/noapt-check.sh OUT LUA}
lua=${2:-lua5.4}
rm -rf "$out"
mkdir -p "$out/bin"
bin=$(cd "$out/bin" && pwd)

# gcc finds as and ld (and collect2 finds ld) through PATH.
for t in sh make cc gcc as ld pkg-config mkdir rm cp uname cat grep; do
  p=$(command -v "$t") || { echo "noapt-check: $t is not installed" >&2; exit 1; }
  ln -s "$p" "$bin/$t"
done
for t in apt-get apt dpkg dpkg-query sudo; do
  if PATH=$bin command -v "$t" >/dev/null 2>&1; then
    echo "noapt-check: $t is reachable on the test PATH" >&2; exit 1
  fi
done

log=$out/make.log
if ! env -u MAKEFLAGS -u MAKELEVEL PATH="$bin" make --no-print-directory BUILD="$out/build" \
    LUA="$lua" all >"$log" 2>&1; then
  cat "$log" >&2
  echo "noapt-check: make failed with no package tool on PATH" >&2
  exit 1
fi
if grep -q 'deps\.sh\|apt-get\|dpkg' "$log"; then
  cat "$log" >&2
  echo "noapt-check: make mentioned a package tool" >&2
  exit 1
fi
[ -f "$out/build/ras.so" ] || { echo "noapt-check: $out/build/ras.so was not built" >&2; exit 1; }
if [ -f /usr/include/pppd/pppd.h ] && [ "$(uname -s)" = Linux ]; then
  [ -f "$out/build/ras_pppd.so" ] || { echo "noapt-check: the plugin was not built" >&2; exit 1; }
fi
LUA_CPATH="$out/build/?.so" "$lua" -e '
  local ras = require "ras"
  local ctx = assert(ras.open("sim", { entries = { Office = {} } }))
  assert(ctx:dial { entry = "Office" }:wait(5).state == "Connected")
  ctx:close()'
echo "noapt-check: make built $out/build/ras.so$( [ -f "$out/build/ras_pppd.so" ] && echo " and ras_pppd.so") with no apt-get, dpkg or sudo on PATH"
