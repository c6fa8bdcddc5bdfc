#!/bin/sh
# `make luarocks-check` (one check of `make test`): plain `luarocks make` of both
# rocks into a throwaway tree, for Lua 5.4 and for LuaJIT (the 5.1 ABI, built with
# LuaJIT's own headers), from a copy of the sources so the checkout gets no build
# artefacts. Then, from outside the checkout:
#   - each rock installed exactly its own modules (every lua/ file of it, nothing of
#     the other) and `helpcrunch-mock` is a command;
#   - `luarocks show`: the client depends on Lua only (libcurl is its external
#     dependency), the mock on luasocket and lua-cjson;
#   - the installed client loads, decodes, and reads a customer from the installed
#     mock, and the installed `helpcrunch` command counts its customers.
# The client is made with no variable and no flag at all: libcurl is found through
# LuaRocks' own search (multiarch lib dirs on Debian; see the rockspec). The mock is
# made with --deps-mode=none: Debian's lua-socket and lua-cjson are packages, not rocks.
cd "$(dirname "$0")/.." || exit 1
work=$(mktemp -d)
mock_pid=
trap '[ -n "$mock_pid" ] && kill $mock_pid 2>/dev/null; rm -rf "$work"' EXIT
mkdir "$work/src" "$work/run"
cp -R csrc lua bin rockspec "$work/src/"

fail() { echo "luarocks-check ($label): $*"; [ -f "$work/log" ] && tail -30 "$work/log"; exit 1; }

# The modules a rock must install, one per line, sorted (as `luarocks show --modules`).
expected() {
  case $1 in
    helpcrunch) echo helpcrunch.core
                find lua -name '*.lua' ! -path 'lua/helpcrunch/mock/*' ;;
    helpcrunch-mock) find lua/helpcrunch/mock -name '*.lua' ;;
  esac | sed -e 's|^lua/||' -e 's|\.lua$||' -e 's|/|.|g' | LC_ALL=C sort
}

check_abi() {   # check_abi LABEL LUA_VERSION INTERPRETER [VAR=VALUE...]
  label=$1 ver=$2 lua=$3
  shift 3
  tree=$work/tree-$label
  rocks() { luarocks --lua-version="$ver" --tree="$tree" "$@"; }
  (cd "$work/src" && rocks make rockspec/helpcrunch-scm-1.rockspec "$@") \
    >"$work/log" 2>&1 || fail "luarocks make rockspec/helpcrunch-scm-1.rockspec $* failed"
  (cd "$work/src" && rocks make --deps-mode=none rockspec/helpcrunch-mock-scm-1.rockspec) \
    >"$work/log" 2>&1 || fail "luarocks make rockspec/helpcrunch-mock-scm-1.rockspec failed"
  rm -f "$work/log"

  for rock in helpcrunch helpcrunch-mock; do
    expected $rock > "$work/want"
    rocks show --modules $rock 2>&1 | tr ' \t' '\n\n' | grep . | LC_ALL=C sort > "$work/got"
    if ! cmp -s "$work/want" "$work/got"; then
      diff "$work/want" "$work/got" | sed 's/^/    /'
      fail "rock $rock: modules differ from lua/ (< missing, > extra; run make rockspec)"
    fi
    while read -r m; do
      f=$(echo "$m" | tr . /)
      [ -f "$tree/share/lua/$ver/$f.lua" ] || [ -f "$tree/lib/lua/$ver/$f.so" ] ||
        fail "rock $rock: $m is listed but not installed"
    done < "$work/want"
  done
  [ -x "$tree/bin/helpcrunch-mock" ] || fail "no helpcrunch-mock command in $tree/bin"
  [ -x "$tree/bin/helpcrunch" ] || fail "no helpcrunch command in $tree/bin"
  deps=$(rocks show --deps helpcrunch)
  if echo "$deps" | grep -v '^lua ' | grep -q .; then
    fail "the client rock depends on more than Lua: $deps"
  fi
  deps=$(rocks show --deps helpcrunch-mock)
  echo "$deps" | grep -q '^luasocket' && echo "$deps" | grep -q '^lua-cjson' ||
    fail "the mock rock lacks luasocket or lua-cjson: $deps"

  # From outside the checkout, only the tree's paths (and the system's, for LuaSocket).
  export LUA_PATH="$tree/share/lua/$ver/?.lua;$tree/share/lua/$ver/?/init.lua;;"
  export LUA_CPATH="$tree/lib/lua/$ver/?.so;;"
  cd "$work/run" || exit 1
  # Each ABI's mock writes its own file, created before the mock starts: the shell
  # opens the redirection in the child, so a shared name could still show the last
  # mock's (dead) address to the first grep.
  out=$work/mock-$label.out
  : >"$out"
  "$lua" "$tree/lib/luarocks/rocks-$ver/helpcrunch-mock/scm-1/bin/helpcrunch-mock" \
    --port 0 --customers 20 --seed 1 --exit-with-parent >>"$out" 2>&1 &
  mock_pid=$!
  i=0
  until grep -q '^listening on' "$out"; do
    i=$((i + 1))
    [ $i -gt 100 ] && fail "the installed mock did not start: $(cat "$out")"
    sleep 0.05
  done
  url=$(sed -n 's/^listening on //p' "$out")
  HC_TREE=$tree HC_URL=$url "$lua" -e '
    local tree = os.getenv("HC_TREE")
    local hc = require "helpcrunch"
    for _, m in ipairs({ "helpcrunch", "helpcrunch.core", "helpcrunch.mock" }) do
      local where = package.searchpath(m, package.path) or package.searchpath(m, package.cpath)
      assert(where and where:sub(1, #tree) == tree, m .. " loaded from " .. tostring(where))
    end
    assert(hc._VERSION == "0.1.0")
    local v = assert(hc.decode("{\"id\": 1, \"firstSeen\": \"2\", \"customData\": null}"))
    assert(v.id == 1 and v.firstSeen == 2 and next(v.customData) == nil)
    if math.type then assert(math.type(v.id) == "integer") end
    local client = hc.new { token = "t", base_url = os.getenv("HC_URL"), rate_limit = false }
    local c = assert(client.customers:get(4994))
    assert(c.id == 4994, "customer " .. tostring(c.id))
    client:close()
    print("luarocks-installed helpcrunch " .. hc._VERSION .. " works under " ..
          (jit and jit.version or _VERSION))' || fail "the installed rocks do not work"
  n=$(HELPCRUNCH_API_KEY=t HELPCRUNCH_BASE_URL=$url "$lua" \
      "$tree/lib/luarocks/rocks-$ver/helpcrunch/scm-1/bin/helpcrunch" count 2>&1)
  [ "$n" = 20 ] || fail "the installed helpcrunch command: $n"
  kill $mock_pid 2>/dev/null; wait $mock_pid 2>/dev/null; mock_pid=
  unset LUA_PATH LUA_CPATH
  cd - >/dev/null || exit 1
}

check_abi lua5.4 5.4 lua5.4
# Debian's LuaRocks takes the 5.1 headers from liblua5.1-0-dev (/usr/include/lua5.1);
# LuaJIT's own are where its pkg-config file says.
check_abi luajit 5.1 luajit LUA_INCDIR="$(pkg-config --variable=includedir luajit)"
echo "luarocks-check: both rocks install and work for Lua 5.4 and LuaJIT"
