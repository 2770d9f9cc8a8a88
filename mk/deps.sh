#!/bin/sh
# Installs the Debian packages a target needs, only when something is missing.
# Usage: mk/deps.sh GROUP...   (groups: build test check windows pppd)
set -e
need=""
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
for group in "$@"; do
  case "$group" in
    build)   pkgs="build-essential pkg-config lua5.4 liblua5.4-dev"
             [ "$(uname -s)" = Linux ] && pkgs="$pkgs ppp-dev" ;;
    test)    pkgs="lua-busted lua-luassert lua-check lua-cqueues lua-luv lua-cjson luarocks tmux" ;;
    check)   pkgs="valgrind clang libclang-rt-14-dev" ;;
    docs)    pkgs="lua-ldoc" ;;
    windows) pkgs="gcc-mingw-w64-x86-64 gcc-mingw-w64-i686 wine wine64 dpkg-dev" ;;
    pppd)    pkgs="ppp ppp-dev user-mode-linux socat kmod iproute2 iputils-ping pppoe pptpd pptp-linux
             sstp-client xl2tpd" ;;
    pppd25)  pkgs="dpkg-dev libssl-dev pkg-config" ;;   # mk/pppd25.mk: fetch and build pppd 2.5
    *) echo "mk/deps.sh: unknown group $group" >&2; exit 2 ;;
  esac
  for p in $pkgs; do have_pkg "$p" || need="$need $p"; done
done
[ -z "$need" ] && exit 0
echo "Installing:$need"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
