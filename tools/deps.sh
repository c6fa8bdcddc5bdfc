#!/bin/sh
# Install the Debian packages the project needs (as root, with apt-get), or
# name the missing ones and how to install them. Used by `make test`,
# `make demo` and `make bench`.
PKGS="gcc make pkg-config lua5.4 liblua5.4-dev luajit2 libluajit2-5.1-dev
libcurl4-openssl-dev libssl-dev lua-cjson lua-socket lua-busted lua-check lua-dkjson luarocks
valgrind curl"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "helpcrunch: installing Debian packages:$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null \
    || { echo "helpcrunch: apt-get install failed"; exit 1; }
else
  echo "helpcrunch: missing Debian packages:$missing"
  echo "install them with:  sudo apt-get install$missing"
  exit 1
fi
