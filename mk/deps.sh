#!/bin/sh
# Installs the Debian packages a target needs, only when something is missing.
# Usage: mk/deps.sh GROUP...   (groups: build test check docs windows pppd,
#        lua5.1 lua5.2 lua5.3 lua5.4 luajit: one Lua and its headers, luas: all five)
# Only the targets that set up a whole machine (make demo, test, check,
# windows...) call it; a plain `make` never does. Where apt-get is absent it
# names what is missing and fails: install those (or your system's
# equivalents) by hand, or set RAS_NO_DEPS=1 to skip this check.
set -e
[ -n "${RAS_NO_DEPS:-}" ] && exit 0
need=""
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
for group in "$@"; do
  case "$group" in
    build)   pkgs="build-essential pkg-config lua5.4 liblua5.4-dev"
             [ "$(uname -s)" = Linux ] && pkgs="$pkgs ppp-dev" ;;
    test)    pkgs="lua-busted lua-luassert lua-check lua-cqueues lua-luv lua-cjson luarocks tmux" ;;
    check)   pkgs="valgrind clang libclang-rt-14-dev" ;;
    docs)    pkgs="lua-ldoc" ;;
    lua5.1)  pkgs="lua5.1 liblua5.1-0-dev" ;;
    lua5.2|lua5.3|lua5.4) pkgs="$group lib$group-dev" ;;
    luajit)  pkgs="luajit libluajit-5.1-dev" ;;
    luas)    pkgs="lua5.1 liblua5.1-0-dev lua5.2 liblua5.2-dev lua5.3 liblua5.3-dev lua5.4 liblua5.4-dev
             luajit libluajit-5.1-dev" ;;
    windows) pkgs="gcc-mingw-w64-x86-64 gcc-mingw-w64-i686 wine wine64 dpkg-dev" ;;
    pppd)    pkgs="ppp ppp-dev user-mode-linux socat kmod iproute2 iputils-ping pppoe pptpd pptp-linux
             sstp-client xl2tpd" ;;
    pppd25)  pkgs="dpkg-dev libssl-dev pkg-config" ;;   # mk/pppd25.mk: fetch and build pppd 2.5
    *) echo "mk/deps.sh: unknown group $group" >&2; exit 2 ;;
  esac
  for p in $pkgs; do have_pkg "$p" || need="$need $p"; done
done
[ -z "$need" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "mk/deps.sh: missing (Debian package names):$need" >&2
  echo "mk/deps.sh: apt-get is not on this machine: install these or their equivalents," >&2
  echo "  then run again with RAS_NO_DEPS=1 (a plain \`make' needs only a C compiler and Lua's headers)" >&2
  exit 1
fi
echo "Installing:$need"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
