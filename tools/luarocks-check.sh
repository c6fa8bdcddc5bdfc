#!/bin/sh
# `luarocks make` into a throwaway tree, then require the installed module
# from outside the checkout and decode something with it.
cd "$(dirname "$0")/.." || exit 1
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
CURL_INCDIR=$(pkg-config --variable=includedir libcurl)
[ -f "$CURL_INCDIR/curl/curl.h" ] || CURL_INCDIR=/usr/include/x86_64-linux-gnu
luarocks --lua-version=5.4 --tree="$tree" make --deps-mode=none \
  rockspec/helpcrunch-scm-1.rockspec CURL_INCDIR="$CURL_INCDIR" \
  CURL_LIBDIR=/usr/lib/x86_64-linux-gnu || exit 1
top=$(pwd)
cd "$tree" || exit 1
LUA_PATH="$tree/share/lua/5.4/?.lua;$tree/share/lua/5.4/?/init.lua;;" \
LUA_CPATH="$tree/lib/lua/5.4/?.so;;" lua5.4 -e '
  local hc = require "helpcrunch"
  assert(package.searchpath("helpcrunch.core", package.cpath):find(os.getenv("PWD"), 1, true))
  local v = assert(hc.decode("{\"id\": 1, \"firstSeen\": \"2\"}"))
  assert(v.firstSeen == 2 and math.type(v.id) == "integer")
  assert(hc._VERSION == "0.1.0")
  print("luarocks-installed helpcrunch " .. hc._VERSION .. " works")'
# Every Lua file of the checkout must have been installed.
for f in $(cd "$top" && find lua -name '*.lua'); do
  [ -f "$tree/share/lua/5.4/${f#lua/}" ] || { echo "not installed by the rockspec: $f (run make rockspec)"; exit 1; }
done
