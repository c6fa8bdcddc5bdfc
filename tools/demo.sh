#!/bin/sh
# `make demo` (after tools/deps.sh and the build): start the bundled mock on a
# free loopback port, run examples/ against it, stop it.
LUA=${1:-lua5.4}
cd "$(dirname "$0")/.." || exit 1
build=$LUA
out=$(mktemp)
"$LUA" bin/helpcrunch-mock --port 0 --customers 1234 --seed 1 >"$out" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$out"' EXIT INT TERM
i=0
while ! grep -q '^listening on' "$out" 2>/dev/null; do
  i=$((i + 1)); [ $i -gt 100 ] && { echo "the mock did not start"; exit 1; }
  sleep 0.05
done
url=$(sed -n 's/^listening on //p' "$out" | head -1)
echo "helpcrunch-mock listening on $url (1234 generated customers)"
status=0
for ex in examples/*.lua; do
  echo "== $LUA $ex"
  HELPCRUNCH_BASE_URL=$url HELPCRUNCH_API_KEY=demo-token \
  LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="build/$build/?.so;;" \
    "$LUA" "$ex" || status=1
done
if [ $status -eq 0 ]; then
  echo "== make demo: every example ran against helpcrunch-mock ($LUA). Next: make test;"
  echo "   against the real API: HELPCRUNCH_API_KEY=... $LUA examples/customers.lua"
fi
exit $status
