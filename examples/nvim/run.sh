#!/bin/sh
# Try the example plugin against the bundled mock:
#   sh examples/nvim/run.sh        then  :HelpCrunchSearch example  or  :HelpCrunchCustomer 4994
# (needs `make LUA=luajit`: Neovim runs LuaJIT).
cd "$(dirname "$0")/../.." || exit 1
[ -f build/luajit/helpcrunch/core.so ] || make LUA=luajit || exit 1
out=$(mktemp)
lua5.4 bin/helpcrunch-mock --port 0 --customers 300 >"$out" 2>/dev/null &
mock=$!
trap 'kill $mock 2>/dev/null; rm -f "$out"' EXIT INT TERM
until grep -q '^listening on' "$out"; do sleep 0.05; done
HELPCRUNCH_BASE_URL=$(sed -n 's/^listening on //p' "$out") HELPCRUNCH_API_KEY=demo-token \
  nvim --cmd "set rtp+=examples/nvim" \
       --cmd "lua package.path='lua/?.lua;lua/?/init.lua;examples/nvim/lua/?.lua;'..package.path" \
       --cmd "lua package.cpath='build/luajit/?.so;'..package.cpath" "$@"
