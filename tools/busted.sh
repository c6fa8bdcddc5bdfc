#!/bin/sh
# Run the busted suite under one Lua (lua5.4 or luajit) with TAP output.
# Extra arguments go to busted (e.g. a spec file). Exit status: busted's.
LUA=${1:-lua5.4}
shift 2>/dev/null
cd "$(dirname "$0")/.." || exit 1
exec busted --lua="$LUA" -o TAP "$@"
