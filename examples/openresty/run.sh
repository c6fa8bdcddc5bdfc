#!/bin/sh
# Serve examples/openresty against the bundled mock: start helpcrunch-mock and
# nginx (Debian's, with libnginx-mod-http-lua) on free loopback ports, print
# the URL, run until Ctrl-C. Needs build/luajit (make LUA=luajit).
#   examples/openresty/run.sh            # then open the URL it prints
cd "$(dirname "$0")/../.." || exit 1
root=$(pwd)
[ -f build/luajit/helpcrunch/core.so ] || make --no-print-directory -s LUA=luajit || exit 1
prefix=$(mktemp -d /tmp/helpcrunch-openresty.XXXXXX)
mkdir -p "$prefix/logs"
mock_pid= nginx_pid=
cleanup() {
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null && wait "$mock_pid" 2>/dev/null
  rm -rf "$prefix"
}
trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT

luajit bin/helpcrunch-mock \
  --port 0 --customers 120 --seed 7 --token example-token >"$prefix/mock.out" 2>"$prefix/mock.err" &
mock_pid=$!
i=0
until url=$(sed -n 's/^listening on //p' "$prefix/mock.out") && [ -n "$url" ]; do
  i=$((i + 1))
  if [ $i -gt 100 ]; then echo "the mock did not start:"; cat "$prefix/mock.err"; exit 1; fi
  sleep 0.05
done
port=$(luajit -e 'local s = require("socket").bind("127.0.0.1", 0); local _, p = s:getsockname(); s:close(); print(p)')
sed -e "s|/path/to/helpcrunch-lua|$root|g" -e "s|listen 8080;|listen 127.0.0.1:$port;|" \
  examples/openresty/nginx.conf >"$prefix/nginx.conf"
HELPCRUNCH_API_KEY=example-token HELPCRUNCH_BASE_URL=$url \
  nginx -p "$prefix/" -c "$prefix/nginx.conf" -e "$prefix/logs/error.log" &
nginx_pid=$!
sleep 0.3
if ! kill -0 "$nginx_pid" 2>/dev/null; then echo "nginx did not start:"; cat "$prefix/logs/error.log"; exit 1; fi
echo "mock:  $url"
echo "nginx: http://127.0.0.1:$port/customers   (error log: $prefix/logs/error.log; Ctrl-C stops both)"
wait "$nginx_pid"
