#!/bin/sh
# `make valgrind`: the specs that drive the C core (decode, encode, client
# over HTTP) under valgrind memcheck with Lua 5.4: no invalid access, no
# definite leak. An aggressive GC setting shakes out use-after-free.
cd "$(dirname "$0")/.." || exit 1
make --no-print-directory -s LUA=lua5.4 all || exit 1
SPECS=${VALGRIND_SPECS:-"spec/decode_spec.lua spec/encode_spec.lua spec/customers_spec.lua spec/errors_spec.lua spec/malformed_spec.lua"}
exist=""
for s in $SPECS; do [ -f "$s" ] && exist="$exist $s"; done
[ -n "$exist" ] || { echo "no C-facing spec found"; exit 1; }
# libcurl's global state (curl_global_init, never cleaned up: a library must
# not call curl_global_cleanup under a host that may use libcurl too) would
# show as "definitely lost" only because Lua 5.4 dlcloses helpcrunch/core.so,
# and libcurl with it, at exit. Preloading keeps libcurl mapped, so what is
# reported is ours.
libcurl=$(ldd build/lua5.4/helpcrunch/core.so | awk '/libcurl/ {print $3}')
LD_PRELOAD=$libcurl HELPCRUNCH_GC_STRESS=1 valgrind --quiet --error-exitcode=99 --leak-check=full \
  --errors-for-leak-kinds=definite --show-leak-kinds=definite \
  --suppressions=tools/valgrind.supp \
  lua5.4 /usr/bin/busted -o TAP $exist >/tmp/helpcrunch-valgrind.log 2>&1
rc=$?
grep -E '^not ok|^==|valgrind' /tmp/helpcrunch-valgrind.log | head -60
n=$(grep -c '^ok ' /tmp/helpcrunch-valgrind.log)
echo "valgrind: $n specs ran, exit $rc"
[ "$rc" -eq 0 ] && [ "$n" -gt 0 ]
