#!/bin/sh
# The Debian packages the project needs: the one list. `make demo` installs the
# demo set, `make test` (and `make deps`) the test set, which holds the demo set.
# As root, apt-get installs what is missing; otherwise this prints the exact
# `sudo apt-get install ...` line and fails.
#   sh tools/deps.sh [demo|test|fresh] [--list]
# --list prints the set's packages, one per line, and installs nothing.

# package                 set    used by
TABLE='
gcc                       demo   the C core (cc)
make                      demo   this build
pkg-config                demo   compile flags of Lua and libcurl
libcurl4-openssl-dev      demo   libcurl and its headers
libssl-dev                demo   libcrypto (HMAC-SHA1 of webhook signatures)
lua5.4                    demo   the primary interpreter
liblua5.4-dev             demo   its headers
luajit2                   demo   LuaJIT 2.1, as in OpenResty (the plain luajit package conflicts)
libluajit2-5.1-dev        demo   its headers
lua-socket                demo   the mock server
lua-cjson                 demo   the mock server
lua-busted                test   the spec runner
lua-check                 test   luacheck
lua-dkjson                test   benchmark baseline
luarocks                  test   the luarocks check (both rocks, Lua 5.4 and LuaJIT)
valgrind                  test   memcheck of the C-facing specs
curl                      test   benchmarks, host specs
clang                     test   the clang build and the ASan/UBSan pass
libclang-rt-14-dev        test   the sanitizer runtimes
lua5.1                    test   the Lua matrix
liblua5.1-0-dev           test   the Lua matrix
lua5.3                    test   the Lua matrix
liblua5.3-dev             test   the Lua matrix
nginx                     test   host tier (OpenResty-style), static files for benchmarks
libnginx-mod-http-lua     test   host tier
neovim                    test   host tier (nvim --headless)
redis-server              test   shared rate limits
lua-redis                 test   shared rate limits
lua-argparse              test   the helpcrunch command
lua-luv                   test   the libuv transport
lua-ldoc                  test   make docs
locales                   test   locale-independence specs
ca-certificates           test   TLS
git                       test   clones (fresh-machine check)
mmdebstrap                fresh  tools/fresh-machine.sh
'

set_=${1:-test}
case $set_ in
  demo) want="demo" ;;
  test) want="demo test" ;;
  fresh) want="fresh" ;;
  *) echo "usage: $0 [demo|test|fresh] [--list]" >&2; exit 2 ;;
esac
pkgs=$(echo "$TABLE" | awk -v want=" $want " 'NF >= 2 && index(want, " " $2 " ") { print $1 }')
if [ "$2" = "--list" ]; then echo "$pkgs"; exit 0; fi

missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "helpcrunch: not a Debian system; install the equivalents of:$missing"
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "helpcrunch: missing Debian packages:$missing"
  echo "install them with:"
  echo "  sudo apt-get install -y --no-install-recommends$missing"
  exit 1
fi
n=$(echo $missing | wc -w)
echo "helpcrunch: installing $n Debian packages for make $set_ (apt-get, once):$missing"
log=$(mktemp)
export DEBIAN_FRONTEND=noninteractive
if apt-get update >"$log" 2>&1 &&
   apt-get install -y --no-install-recommends $missing >>"$log" 2>&1; then
  rm -f "$log"
  exit 0
fi
tail -30 "$log"
echo "helpcrunch: apt-get install failed (the whole log: $log)"
exit 1
