#!/bin/sh
# `make test`: lint, build for lua5.4 and luajit, run the busted suite under
# both, check the exports and the luarocks build, run the C-facing specs
# under valgrind; then one line "N passed, N failed" summing them all (each
# busted test counts one; each other check counts one).
cd "$(dirname "$0")/.." || exit 1
passed=0
failed=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

check() {   # check NAME COMMAND...: one pass or one fail
  name=$1; shift
  if "$@" >"$log/out" 2>&1; then
    passed=$((passed + 1)); echo "ok - $name"
  else
    failed=$((failed + 1)); echo "not ok - $name"; sed 's/^/    /' "$log/out" | tail -40
  fi
}

suite() {   # suite LUA: busted under one Lua, counted test by test
  lua=$1
  echo "# busted under $lua"
  sh tools/busted.sh "$lua" >"$log/tap" 2>&1
  rc=$?
  grep -v '^ok ' "$log/tap" | grep -v '^1\.\.' | sed 's/^/    /' | head -200
  p=$(grep -c '^ok ' "$log/tap")
  f=$(grep -c '^not ok ' "$log/tap")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "    busted exited $rc"; fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "    no test ran under $lua"; fi
  echo "# $lua: $p passed, $f failed"
  passed=$((passed + p)); failed=$((failed + f))
}

check "luacheck" luacheck --quiet lua bin spec bench examples
for lua in lua5.4 luajit; do
  if make --no-print-directory -s LUA=$lua all >"$log/build" 2>&1; then
    passed=$((passed + 1)); echo "ok - build for $lua (-Wall -Wextra -Werror)"
    check "only luaopen_helpcrunch_core exported ($lua)" make --no-print-directory -s LUA=$lua check-exports
    suite $lua
  else
    failed=$((failed + 1)); echo "not ok - build for $lua"; sed 's/^/    /' "$log/build"
  fi
done
check "build with clang" make --no-print-directory -s CC=clang BUILD=build/clang all
check "luarocks make installs a working module" sh tools/luarocks-check.sh
check "valgrind memcheck of the C-facing specs" sh tools/valgrind.sh
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
