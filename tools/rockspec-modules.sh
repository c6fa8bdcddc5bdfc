#!/bin/sh
# Print the rockspec's Lua module lines for every file under lua/ (used to
# keep rockspec/helpcrunch-scm-1.rockspec in step; luarocks-check fails when
# they drift).
cd "$(dirname "$0")/.." || exit 1
find lua -name '*.lua' | sort | while read -r f; do
  m=$(echo "$f" | sed -e 's|^lua/||' -e 's|/init\.lua$||' -e 's|\.lua$||' -e 's|/|.|g')
  printf '      ["%s"] = "%s",\n' "$m" "$f"
done
