#!/bin/sh
# `make alloc-client`: allocation failure in the client. fuzz/alloc_client.c,
# built with ASan and UBSan against Lua 5.4, libcurl and every csrc/ file,
# runs a create / get / list / all / close cycle against the mock with the
# k-th allocation (Lua's or libcurl's) failing, for every k, in two modes;
# each run must be the normal result (values checked), a memory error, or an
# error libcurl reported; lua_close must give back every byte and ASan/LSan
# must find no double free or leak. Then two threads load the module at once,
# 50 times (the curl_global_init guard). One summary line; exit 1 on failure.
cd "$(dirname "$0")/.." || exit 1
OUT=build/alloc-client
CC=${ALLOC_CC:-$(command -v clang || command -v gcc)}
mkdir -p "$OUT"
# shellcheck disable=SC2046
$CC -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -std=gnu99 -Wall -Wextra \
  -Werror -D_GNU_SOURCE -pthread $(pkg-config --cflags lua5.4 libcurl libcrypto) \
  -o "$OUT/alloc_client" fuzz/alloc_client.c csrc/*.c \
  $(pkg-config --libs lua5.4 libcurl libcrypto) -lm || exit 1

log=$OUT/mock.out
lua5.4 bin/helpcrunch-mock --port 0 --customers 40 --seed 2 >"$log" 2>/dev/null &
mock=$!
trap 'kill $mock 2>/dev/null; wait $mock 2>/dev/null' EXIT INT TERM
i=0
until grep -q '^listening on' "$log" 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 200 ] && { echo "alloc-client: the mock did not start"; exit 1; }
  sleep 0.05
done
url=$(sed -n 's/^listening on //p' "$log" | head -1)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(pwd)/tools/lsan.supp:print_suppressions=0}
"$OUT/alloc_client" "$url" >"$OUT/sweep.log" 2>&1 || { tail -30 "$OUT/sweep.log"; echo "alloc-client: FAILED"; exit 1; }
"$OUT/alloc_client" --threads >"$OUT/threads.log" 2>&1 || { tail -30 "$OUT/threads.log"; echo "alloc-client: threads FAILED"; exit 1; }
grep '^  ' "$OUT/sweep.log"
tail -1 "$OUT/sweep.log"
tail -1 "$OUT/threads.log"
