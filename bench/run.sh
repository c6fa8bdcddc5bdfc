#!/bin/sh
# `make bench`: every benchmark, both Lua versions, one report on stdout.
# Timings are medians of alternating runs on this machine; the callgrind
# figures count instructions, so they are comparable across noisy runs.
cd "$(dirname "$0")/.." || exit 1
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
for lua in lua5.4 luajit; do
  "$lua" bench/decode_bench.lua 15 || exit 1
  echo
done
# Instructions per page decoded (callgrind), net of loading the interpreter.
page=$(mktemp)
trap 'rm -f "$page"' EXIT
lua5.4 -e 'local c = dofile("bench/common.lua")
  local m = c.mock { customers = 300, seed = 1 }
  io.write(c.fetch(m.url .. "/customers?offset=100&limit=100")); m:stop()' > "$page"
count() {   # count LUA DECODER N -> instructions
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" bench/callgrind_decode.lua \
    "$2" "$page" "$3" 2>&1 | sed -n 's/.*refs: *//p' | tr -d ','
}
echo "instructions per page decoded (valgrind --tool=callgrind, 50 pages, net of a 0-page run)"
for lua in lua5.4 luajit; do
  for dec in helpcrunch cjson; do
    base=$(count "$lua" "$dec" 0)
    full=$(count "$lua" "$dec" 50)
    echo "  $lua $dec: $(( (full - base) / 50 )) instructions/page"
  done
done
echo
# The export against static nginx pages (wall clock, alternating runs), then
# the same export in instructions, layer by layer and per function.
lua5.4 bench/export_bench.lua 5 || exit 1
echo
echo "load average before callgrind: $(cut -d' ' -f1-3 /proc/loadavg)"
lua5.4 bench/export_callgrind.lua 10 60 || exit 1
echo
luajit bench/transport_bench.lua 5 || exit 1
echo
lua5.4 bench/mock_bench.lua 3 || true

echo
lua5.4 bench/ratelimit_bench.lua 7 || true

echo
lua5.4 bench/wait_bench.lua 2 || true
