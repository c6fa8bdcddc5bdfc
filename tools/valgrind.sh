#!/bin/sh
# `make valgrind`: the specs that drive the C core under valgrind memcheck
# with Lua 5.4: no invalid access, no definite leak.
cd "$(dirname "$0")/.." || exit 1
make --no-print-directory -s LUA=lua5.4 all || exit 1
# Every spec that drives the C core, under memcheck with the normal collector;
# then the specs about object lifetimes (requests cancelled, iterators closed,
# bodies rejected) again with an aggressive collector, which shakes out any
# use-after-free (it makes Lua ~50x slower, hence only those).
SPECS=${VALGRIND_SPECS:-"spec/decode_spec.lua spec/encode_spec.lua spec/malformed_spec.lua spec/customers_spec.lua spec/errors_spec.lua spec/fuzz_spec.lua spec/webhook_spec.lua"}
STRESS_SPECS=${VALGRIND_STRESS_SPECS:-"spec/malformed_spec.lua spec/iterators_spec.lua"}
# libcurl's global state (curl_global_init, never cleaned up: a library must
# not call curl_global_cleanup under a host that may use libcurl too) would
# show as "definitely lost" only because Lua 5.4 dlcloses helpcrunch/core.so,
# and libcurl with it, at exit. Preloading keeps libcurl mapped, so what is
# reported is ours.
libcurl=$(ldd build/lua5.4/helpcrunch/core.so | awk '/libcurl/ {print $3}')
log=/tmp/helpcrunch-valgrind.log
: > "$log"
status=0
total=0
run() {   # run GC_STRESS SPEC...
  stress=$1; shift
  LD_PRELOAD=$libcurl HELPCRUNCH_GC_STRESS=$stress valgrind --quiet --error-exitcode=99 \
    --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    --suppressions=tools/valgrind.supp \
    lua5.4 /usr/bin/busted -o TAP "$@" > "$log.part" 2>&1
  rc=$?
  cat "$log.part" >> "$log"
  n=$(grep -c '^ok ' "$log.part")
  bad=$(grep -c '^not ok' "$log.part")
  echo "valgrind${stress:+ (GC stress)}: $n specs passed, $bad failed, exit $rc: $*"
  grep -E '^not ok|^==' "$log.part" | head -40
  total=$((total + n))
  if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ] || [ "$n" -eq 0 ]; then status=1; fi
}
run "" $SPECS
run 1 $STRESS_SPECS
rm -f "$log.part"
exit $status
