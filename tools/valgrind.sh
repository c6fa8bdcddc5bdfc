#!/bin/sh
# `make valgrind` (one check of `make test`): the specs that drive the C core under
# valgrind memcheck with Lua 5.4: no invalid access, no uninitialised read, no
# definite leak.
#   1. every C-facing spec with the normal collector; the fuzz spec at 200 calls per
#      function (FUZZ_N; valgrind is ~30x slower, tools/sanitize.sh runs the full size);
#   2. the lifetime tests (bodies rejected, an iterator broken off with a request in
#      flight, one that raises) again with an aggressive collector, which shakes out
#      any use-after-free. Only those (chosen by name, --filter): under valgrind GC
#      stress costs seconds per test, and the whole iterators spec took 8 minutes;
#      tools/sanitize.sh runs every lifetime test and a full read under GC stress
#      with ASan, which catches the same bugs at native speed.
cd "$(dirname "$0")/.." || exit 1
make --no-print-directory -s LUA=lua5.4 all || exit 1
SPECS=${VALGRIND_SPECS:-"spec/decode_spec.lua spec/encode_spec.lua spec/malformed_spec.lua
  spec/customers_spec.lua spec/errors_spec.lua spec/fuzz_spec.lua spec/webhook_spec.lua"}
STRESS_SPECS=${VALGRIND_STRESS_SPECS:-"spec/malformed_spec.lua spec/iterators_spec.lua"}
# libcurl's global state (curl_global_init, never cleaned up: a library must
# not call curl_global_cleanup under a host that may use libcurl too) would
# show as "definitely lost" only because Lua 5.4 dlcloses helpcrunch/core.so,
# and libcurl with it, at exit. Preloading keeps libcurl mapped, so what is
# reported is ours.
libcurl=$(ldd build/lua5.4/helpcrunch/core.so | awk '/libcurl/ {print $3}')
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
run() {   # run GC_STRESS BUSTED_ARGS...
  stress=$1; shift
  t0=$(date +%s)
  LD_PRELOAD=$libcurl HELPCRUNCH_GC_STRESS=$stress FUZZ_N=${FUZZ_N:-200} \
    timeout -k 10 900 valgrind --quiet --error-exitcode=99 \
    --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    --suppressions=tools/valgrind.supp lua5.4 /usr/bin/busted -o TAP "$@" > "$log" 2>&1
  rc=$?
  n=$(grep -c '^ok ' "$log")
  bad=$(grep -c '^not ok' "$log")
  echo "valgrind${stress:+ (GC stress)}: $n specs passed, $bad failed, exit $rc, $(( $(date +%s) - t0 )) s:" \
    $(printf '%s\n' "$@" | grep -v '^--filter')
  grep -E '^not ok|^==' "$log" | head -40
  if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ] || [ "$n" -eq 0 ]; then status=1; fi
}
run "" $SPECS
set -- 1
for name in "malformed response bodies" "releases the prefetched" "break after" \
            "raises the error object"; do
  set -- "$@" "--filter=$name"
done
run "$@" $STRESS_SPECS
exit $status
