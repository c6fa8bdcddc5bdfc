#!/bin/sh
# `make test`: every check of the project, then one line "N passed, N failed" summing
# them all: each busted test counts one; each other check (luacheck, each build, each
# exports check, the luarocks check, valgrind, ASan/UBSan) counts one.
#   sh tools/test.sh              everything (make test)
#   sh tools/test.sh --fast LUA   luacheck, the build and busted's unit and mock tiers
#                                 under LUA (make test-fast)
#
# The Lua matrix: lua5.4 runs every tier; luajit every tier but #host (nginx and
# Neovim bring their own LuaJIT and load build/luajit whatever runs busted, so once
# is enough); lua5.3 and lua5.1 the unit and mock tiers (all but #slow and #host:
# those drive the same Lua code through real waits and real hosts).
#
# On this 2-core machine six lanes run side by side, each writing to its own logs
# (the suites, which mostly wait on sockets, next to the CPU-bound memory checks,
# which run at a lower priority); the logs are printed in a fixed order at the end.
cd "$(dirname "$0")/.." || exit 1
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
start=$(date +%s)
CORE_TIERS="--exclude-tags=slow,host"
NO_HOST="--exclude-tags=host"
fast=
if [ "$1" = "--fast" ]; then
  fast=1
  MATRIX_CORE=${2:-lua5.4}
fi
# Builds share make's job slots when make runs us with -j; else use every core.
case "$MAKEFLAGS" in
  *jobserver*|*-j*) jobs= ;;
  *) jobs=-j$(nproc 2>/dev/null || echo 2) ;;
esac

# A unit of the report: $log/NAME.out is printed, $log/NAME.count holds "P F".
check() {   # check NAME TITLE COMMAND...: one pass or one fail
  name=$1 title=$2; shift 2
  t0=$(date +%s)
  if "$@" >"$log/$name.raw" 2>&1; then
    { echo "ok - $title ($(( $(date +%s) - t0 )) s)"
      [ "$(wc -l <"$log/$name.raw")" -le 8 ] && sed 's/^/    /' "$log/$name.raw"; } >"$log/$name.out"
    echo "1 0" >"$log/$name.count"
  else
    { echo "not ok - $title"; sed 's/^/    /' "$log/$name.raw" | tail -60; } >"$log/$name.out"
    echo "0 1" >"$log/$name.count"
  fi
}

suite() {   # suite LUA BUSTED_ARGS...: busted under one Lua, counted test by test
  lua=$1; shift
  name=busted-$lua
  t0=$(date +%s)
  timeout -k 10 900 sh tools/busted.sh "$lua" "$@" >"$log/$name.tap" 2>&1
  rc=$?
  p=$(grep -c '^ok ' "$log/$name.tap")
  f=$(grep -c '^not ok ' "$log/$name.tap")
  {
    echo "# busted under $lua${1:+ ($*)}"
    grep -v '^ok ' "$log/$name.tap" | grep -v '^1\.\.' | sed 's/^/    /' | head -200
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "    busted exited $rc"; fi
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "    no test ran under $lua"; fi
    echo "# $lua: $p passed, $f failed ($(( $(date +%s) - t0 )) s)"
  } >"$log/$name.out"
  echo "$p $f" >"$log/$name.count"
}

build() {   # build LUA: the core with -Werror, then its export check
  lua=$1
  check "build-$lua" "build for $lua (-Wall -Wextra -Werror)" \
    make --no-print-directory -s $jobs LUA="$lua" all
  if [ -f "$log/build-$lua.count" ] && [ "$(cat "$log/build-$lua.count")" = "1 0" ]; then
    check "exports-$lua" "only luaopen_helpcrunch_core exported ($lua)" \
      make --no-print-directory -s LUA="$lua" check-exports
    echo "$lua" >>"$log/built"
  fi
}

built() { grep -qx "$1" "$log/built" 2>/dev/null; }

# Serial first: what the memory checks and the host specs need. Everything else is built in the lanes,
# where the suites mostly wait on sockets and leave the CPU to the compiler.
check luacheck "luacheck" luacheck --quiet lua bin spec bench examples
order="luacheck"
if [ -n "$fast" ]; then
  build "$MATRIX_CORE"
  built "$MATRIX_CORE" && suite "$MATRIX_CORE" $CORE_TIERS
  order="$order build-$MATRIX_CORE exports-$MATRIX_CORE busted-$MATRIX_CORE"
else
  build lua5.4
  build luajit                      # the host specs load it, whichever lane runs them
  make --no-print-directory -s $jobs asan >"$log/asan-build" 2>&1   # sanitize reports it
  lane() {   # lane [build LUA | suite LUA [ARGS] | clang]...: one after another
    while [ $# -gt 0 ]; do
      case $1 in
        build) build "$2"; shift 2 ;;
        suite) if built "$2"; then suite "$2" $3; fi; shift 3 ;;
        clang) check clang "build with clang (-Werror)" \
                 make --no-print-directory -s $jobs CC=clang BUILD=build/clang all; shift ;;
      esac
    done
  }
  lane suite lua5.4 "" &
  lane suite luajit "$NO_HOST" clang &
  lane build lua5.3 suite lua5.3 "$CORE_TIERS" build lua5.1 suite lua5.1 "$CORE_TIERS" &
  { check luarocks "luarocks make: both rocks install and work (Lua 5.4, LuaJIT)" \
      sh tools/luarocks-check.sh
    check docs "make docs: the HTML reference builds" make --no-print-directory -s docs
    check alloc-json "every allocation of the JSON code fails in turn (ASan/UBSan)" \
      nice -n 5 sh tools/alloc-json.sh
    check alloc-client "every allocation of a client cycle fails in turn; two threads load it" \
      nice -n 5 sh tools/alloc-client.sh; } &
  check valgrind "valgrind memcheck of the C-facing specs" nice -n 5 sh tools/valgrind.sh &
  check sanitize "ASan/UBSan (clang) over the C-facing specs" nice -n 5 sh tools/sanitize.sh &
  wait
  order="$order build-lua5.4 exports-lua5.4 build-luajit exports-luajit build-lua5.3"
  order="$order exports-lua5.3 build-lua5.1 exports-lua5.1 clang busted-lua5.4 busted-luajit"
  order="$order busted-lua5.3 busted-lua5.1 luarocks docs alloc-json alloc-client valgrind"
  order="$order sanitize"
fi

passed=0
failed=0
for name in $order; do
  [ -f "$log/$name.out" ] && cat "$log/$name.out"
  [ -f "$log/$name.count" ] || continue
  read -r p f <"$log/$name.count"
  passed=$((passed + p))
  failed=$((failed + f))
done
echo "# $(( $(date +%s) - start )) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
