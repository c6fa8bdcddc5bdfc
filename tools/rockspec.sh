#!/bin/sh
# Write rockspec/NAME-scm-1.rockspec from its .in file: @LUA_MODULES@ becomes one
# install line per Lua file of that rock ("helpcrunch.init" for init.lua, so the
# file lands at helpcrunch/init.lua as `make install` puts it), @C_SOURCES@ the
# csrc/*.c files. The client rock (helpcrunch) takes every lua/ file but the
# mock's; helpcrunch-mock takes lua/helpcrunch/mock/. `make rockspec` runs it for
# both; tools/luarocks-check.sh fails when a committed rockspec misses a file.
#   sh tools/rockspec.sh helpcrunch|helpcrunch-mock [OUT]
set -e
cd "$(dirname "$0")/.."
name=$1
in=rockspec/$name-scm-1.rockspec.in
out=${2:-rockspec/$name-scm-1.rockspec}
case $name in
  helpcrunch) files=$(find lua -name '*.lua' ! -path 'lua/helpcrunch/mock/*' | LC_ALL=C sort) ;;
  helpcrunch-mock) files=$(find lua/helpcrunch/mock -name '*.lua' | LC_ALL=C sort) ;;
  *) echo "usage: $0 helpcrunch|helpcrunch-mock [OUT]" >&2; exit 2 ;;
esac
modules=$(for f in $files; do
  m=$(echo "$f" | sed -e 's|^lua/||' -e 's|\.lua$||' -e 's|/|.|g')
  printf '      ["%s"] = "%s",\n' "$m" "$f"
done)
sources=$(find csrc -name '*.c' | LC_ALL=C sort | tr '\n' ' ')
sources=${sources% }
tmp=$out.tmp.$$
awk -v modules="$modules" -v sources="$sources" '
  /@LUA_MODULES@/ { print modules; next }
  { gsub(/@C_SOURCES@/, sources); print }' "$in" > "$tmp"
mv "$tmp" "$out"
