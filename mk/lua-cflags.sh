#!/bin/sh
# Prints the compiler flags for one Lua version's headers, or says what is
# missing and exits 1. Runs no package manager (a plain `make` never does).
# Usage: mk/lua-cflags.sh VERSION   (5.1 5.2 5.3 5.4, or jit for LuaJIT 2.1)
#
# Order: LUA_INCDIR (a directory holding lua.h), then pkg-config under the
# names distributions use (Debian lua5.4, Fedora/Arch lua/lua-5.4, FreeBSD
# lua54; LuaJIT: luajit), then the usual include directories. A candidate
# counts only if its lua.h is that version: `lua.pc` may be any version.
set -u
v=${1:?usage: mk/lua-cflags.sh 5.1|5.2|5.3|5.4|jit}

case "$v" in
  5.1|5.2|5.3|5.4)
    num=50${v#5.}              # LUA_VERSION_NUM: 501 ... 504
    nodot=${v%.*}${v#*.}       # 54
    names="lua$v lua-$v lua$nodot lua"
    dirs="/usr/include/lua$v /usr/local/include/lua$v /usr/local/include/lua$nodot /usr/include /usr/local/include"
    debian="lua$v liblua$v-dev"
    [ "$v" = 5.1 ] && debian="lua5.1 liblua5.1-0-dev" ;;
  jit)
    num=501
    names="luajit"
    dirs="/usr/include/luajit-2.1 /usr/local/include/luajit-2.1"
    debian="luajit libluajit-5.1-dev" ;;
  *) echo "mk/lua-cflags.sh: unknown Lua version '$v' (5.1 5.2 5.3 5.4 jit)" >&2; exit 2 ;;
esac

# is_version DIR: DIR/lua.h is this version (LuaJIT: and DIR has luajit.h).
is_version() {
  [ -f "$1/lua.h" ] || return 1
  [ "$v" != jit ] || [ -f "$1/luajit.h" ] || return 1
  if [ "$num" = 501 ]; then
    # 5.1's lua.h has no LUA_VERSION_NUM.
    grep -q '#define LUA_VERSION[ 	]*"Lua 5\.1' "$1/lua.h" ||
      grep -q '#define LUA_VERSION_NUM[ 	]*501' "$1/lua.h"
  else
    grep -q "#define LUA_VERSION_NUM[ 	]*$num" "$1/lua.h"
  fi
}

if [ -n "${LUA_INCDIR:-}" ]; then
  if is_version "$LUA_INCDIR"; then echo "-I$LUA_INCDIR"; exit 0; fi
  echo "ras: LUA_INCDIR=$LUA_INCDIR holds no lua.h of Lua $v" >&2
  exit 1
fi

if command -v pkg-config >/dev/null 2>&1; then
  for n in $names; do
    flags=$(pkg-config --cflags "$n" 2>/dev/null) || continue
    for f in $flags; do
      case "$f" in -I*) if is_version "${f#-I}"; then echo "$flags"; exit 0; fi ;; esac
    done
    # No -I (headers in the default path): take the name if its version fits.
    if [ -z "$flags" ] || ! echo "$flags" | grep -q -- '-I'; then
      for d in /usr/include /usr/local/include; do
        if is_version "$d"; then echo "$flags"; exit 0; fi
      done
    fi
  done
fi

for d in $dirs; do
  if is_version "$d"; then echo "-I$d"; exit 0; fi
done

{
  echo "ras: Lua $v headers not found (lua.h of that version)."
  echo "  looked: LUA_INCDIR (unset), pkg-config $names, $dirs"
  command -v pkg-config >/dev/null 2>&1 || echo "  (pkg-config is not installed)"
  echo "  install them (Debian/Ubuntu: $debian; Fedora: lua-devel or luajit-devel;"
  echo "  Alpine: lua$v-dev) or run make LUA_INCDIR=/path/to/lua/include"
} >&2
exit 1
