#!/bin/sh
# `make fuzz`: the JSON fuzz targets (fuzz/fuzz_decode.c: the decoder with
# customer normalisation; fuzz/fuzz_encode.c: the encoder), built with clang
# -fsanitize=fuzzer,address,undefined against Lua 5.4 and the csrc/ JSON
# sources, run for FUZZ_SECONDS in all (default 240: two thirds decoder, one
# third encoder) from a seed corpus: fuzz/corpus/, spec/fixtures/ and pages
# of the local mock. Then line and branch coverage of csrc/json_*.c and
# csrc/customer.c over the corpus (llvm-profdata/llvm-cov, when installed).
#
#   FUZZ_SECONDS=N      total seconds of fuzzing (both targets)
#   FUZZ_MINIMIZE=1     afterwards, merge what was found into fuzz/corpus/ (minimised)
#   FUZZ_COVERAGE=0     skip the coverage report
#
# Working corpora persist in build/fuzz/corpus/ between runs; a finding is
# written to build/fuzz/findings/ and the run fails, naming the command that
# replays it. Needs: clang, libclang-rt-14-dev (libFuzzer and the
# sanitizers), liblua5.4-dev, libcurl4-openssl-dev (headers), lua5.4 and
# lua-socket (mock seeds), llvm-14 (coverage).
cd "$(dirname "$0")/.." || exit 1
TOTAL=${FUZZ_SECONDS:-240}
OUT=build/fuzz
CC=${FUZZ_CC:-clang}
SRCS="csrc/json_decode.c csrc/json_encode.c csrc/json_number.c csrc/customer.c"
INC="$(pkg-config --cflags lua5.4) $(pkg-config --cflags libcurl 2>/dev/null)"
LIBS="$(pkg-config --libs lua5.4) -lm"
WARN="-std=gnu99 -Wall -Wextra -Werror -D_GNU_SOURCE"

if ! command -v "$CC" >/dev/null 2>&1; then
  echo "fuzz: $CC not found: apt-get install -y clang libclang-rt-14-dev" >&2
  exit 1
fi
mkdir -p "$OUT/findings" "$OUT/corpus/decode" "$OUT/corpus/encode" "$OUT/seeds/decode"

# ---- build ------------------------------------------------------------------
for t in decode encode; do
  # shellcheck disable=SC2086
  if ! $CC -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined $WARN $INC \
       -o "$OUT/fuzz_$t" "fuzz/fuzz_$t.c" $SRCS $LIBS; then
    echo "fuzz: building fuzz_$t failed (libFuzzer: apt-get install -y libclang-rt-14-dev)" >&2
    exit 1
  fi
done

# ---- seeds ------------------------------------------------------------------
rm -f "$OUT"/seeds/decode/*
cp spec/fixtures/*.json "$OUT/seeds/decode/"
if ! lua5.4 tools/fuzz-seeds.lua "$OUT/seeds/decode" 40 >"$OUT/seeds.log" 2>&1; then
  echo "fuzz: no mock seeds (lua-socket?):"; sed 's/^/    /' "$OUT/seeds.log"
fi

# ---- fuzz -------------------------------------------------------------------
status=0
run() {   # run TARGET SECONDS MAX_LEN FLAGS [SEED_DIR]: new inputs go to build/fuzz/corpus/TARGET
  t=$1 secs=$2 maxlen=$3 flags=$4 seeds=${5:-}
  echo "fuzz_$t: $secs s ..."
  # shellcheck disable=SC2086
  ASAN_OPTIONS=detect_leaks=1 \
    "$OUT/fuzz_$t" $flags -max_total_time="$secs" -max_len="$maxlen" -timeout=20 -rss_limit_mb=3072 \
      -print_final_stats=1 -artifact_prefix="$OUT/findings/$t-" \
      "$OUT/corpus/$t" "fuzz/corpus/$t" $seeds >"$OUT/$t.log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$t.log")
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$OUT/$t.log")
  cov=$(grep -o 'cov: [0-9]*' "$OUT/$t.log" | tail -1)
  files=$(find "$OUT/corpus/$t" -type f | wc -l)
  echo "fuzz_$t: ${execs:-0} executions (${speed:-0}/s), $cov, working corpus $files files, exit $rc"
  if [ "$rc" -ne 0 ]; then
    status=1
    grep -E 'FUZZ ORACLE FAILED|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error' "$OUT/$t.log" | head -5
    grep -A3 'FUZZ ORACLE FAILED' "$OUT/$t.log" | tail -3
    art=$(ls -t "$OUT"/findings/"$t"-* 2>/dev/null | head -1)
    [ -n "$art" ] && echo "    replay: $OUT/fuzz_$t $art   (log: $OUT/$t.log)"
  fi
}
dec=$((TOTAL * 2 / 3))
enc=$((TOTAL - dec))
run decode "$dec" 8192 -dict=fuzz/json.dict "$OUT/seeds/decode"
run encode "$enc" 1024 ""

# ---- minimise into fuzz/corpus/ ------------------------------------------------
if [ "${FUZZ_MINIMIZE:-0}" = 1 ]; then
  for t in decode encode; do
    mkdir -p "$OUT/min/$t"
    rm -f "$OUT"/min/"$t"/*
    extra=""
    [ "$t" = decode ] && extra="$OUT/seeds/decode"
    # edges only (no hit counts, no value profile): the smallest set that
    # still reaches every edge the corpora reach
    # shellcheck disable=SC2086
    "$OUT/fuzz_$t" -merge=1 -use_counters=0 -use_value_profile=0 "$OUT/min/$t" \
      "fuzz/corpus/$t" "$OUT/corpus/$t" $extra >"$OUT/merge-$t.log" 2>&1 || status=1
    rm -f fuzz/corpus/"$t"/*
    mkdir -p "fuzz/corpus/$t"
    for f in "$OUT"/min/"$t"/*; do cp "$f" "fuzz/corpus/$t/"; done
    echo "fuzz/corpus/$t: $(ls "fuzz/corpus/$t" | wc -l) files, $(du -sk "fuzz/corpus/$t" | cut -f1) KB"
  done
fi

# ---- coverage -----------------------------------------------------------------
if [ "${FUZZ_COVERAGE:-1}" = 1 ]; then
  PROFDATA=$(command -v llvm-profdata-14 || command -v llvm-profdata)
  COV=$(command -v llvm-cov-14 || command -v llvm-cov)
  if [ -z "$PROFDATA" ] || [ -z "$COV" ]; then
    echo "fuzz: no coverage report (apt-get install -y llvm-14)"
  else
    for t in decode encode; do
      # shellcheck disable=SC2086
      $CC -g -O1 -fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping $WARN $INC \
        -o "$OUT/cov_$t" "fuzz/fuzz_$t.c" $SRCS $LIBS || exit 1
      extra=""
      [ "$t" = decode ] && extra="$OUT/seeds/decode"
      # shellcheck disable=SC2086
      LLVM_PROFILE_FILE="$OUT/cov_$t.profraw" "$OUT/cov_$t" -runs=0 "$OUT/corpus/$t" "fuzz/corpus/$t" \
        $extra >/dev/null 2>&1
    done
    "$PROFDATA" merge -o "$OUT/cov.profdata" "$OUT/cov_decode.profraw" "$OUT/cov_encode.profraw"
    echo "coverage over the corpora (both targets), csrc/json_*.c and csrc/customer.c:"
    # shellcheck disable=SC2086
    "$COV" report "$OUT/cov_decode" -object "$OUT/cov_encode" -instr-profile="$OUT/cov.profdata" \
      $SRCS | sed 's/^/    /'
  fi
fi

if [ "$status" -ne 0 ]; then echo "fuzz: FINDINGS (see above)"; exit 1; fi
echo "fuzz: no finding"
