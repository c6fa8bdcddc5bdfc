#!/bin/sh
# `make sanitize` (one check of `make test`): the specs that drive the C core against
# the ASan/UBSan build (build/asan: clang -fsanitize=address,undefined), run by an
# interpreter that carries the sanitizer runtimes (tools/asan-lua.c). Any invalid
# access, undefined behaviour or leak fails the run.
#   1. every C-facing spec with the normal collector, the fuzz spec at its full size;
#   2. the lifetime specs again under an aggressive collector: every iterator test
#      about requests in flight, breaks, errors, prefetch and max, and one full read
#      of 1,234 customers (all too slow for valgrind's GC-stress run).
# Leaks: LeakSanitizer checks at exit with no suppressions. None are needed because
# the core is loaded RTLD_NODELETE (HELPCRUNCH_KEEP), so lua_close cannot unload it
# or libcurl: libcurl's and OpenSSL's global state (curl_global_init, never cleaned
# up by a library) stays reachable, and Lua frees its own state in lua_close.
# The mock the specs start runs under Debian's plain lua5.4, outside the sanitizers.
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
make --no-print-directory -s asan || exit 1
SPECS=${SANITIZE_SPECS:-"spec/decode_spec.lua spec/encode_spec.lua spec/malformed_spec.lua
  spec/customers_spec.lua spec/errors_spec.lua spec/fuzz_spec.lua spec/iterators_spec.lua
  spec/differential_spec.lua spec/webhook_spec.lua"}
STRESS_SPECS=${SANITIZE_STRESS_SPECS:-"spec/malformed_spec.lua spec/iterators_spec.lua"}
export HELPCRUNCH_BUILD=build/asan HELPCRUNCH_KEEP="$top/build/asan/helpcrunch/core.so"
export ASAN_OPTIONS=detect_leaks=1:check_initialization_order=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
run() {   # run GC_STRESS SPEC...
  stress=$1; shift
  t0=$(date +%s)
  HELPCRUNCH_GC_STRESS=$stress timeout -k 10 900 build/asan/lua5.4 /usr/bin/busted -o TAP "$@" \
    > "$log" 2>&1
  rc=$?
  n=$(grep -c '^ok ' "$log")
  bad=$(grep -c '^not ok' "$log")
  echo "asan+ubsan${stress:+ (GC stress)}: $n specs passed, $bad failed, exit $rc, $(( $(date +%s) - t0 )) s:" \
    $(printf '%s\n' "$@" | grep -v '^--filter')
  grep -E '^not ok|^==[0-9]+==|runtime error|^SUMMARY|^    #[0-9]' "$log" | head -60
  if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ] || [ "$n" -eq 0 ]; then status=1; fi
}
run "" $SPECS
# Under GC stress each paging test costs seconds; the ones that only vary what is read
# (orders, sorts, churn, checkpoints) run above with the normal collector.
set -- 1
for name in "requested order" "carries sort" "past total" "over several pages" \
            "same customer twice" "every match once"; do
  set -- "$@" "--filter-out=$name"
done
run "$@" $STRESS_SPECS
exit $status
