# helpcrunch-lua
#   make demo            install what is missing (Debian), build, start the mock, run examples/
#   make test            install what is missing, then everything: lint, builds for every Lua,
#                        the suite under lua5.4, luajit, lua5.3, lua5.1, valgrind, ASan/UBSan,
#                        luarocks; ends with one line "N passed, N failed"
#   make test-fast       lint, build and the unit and mock tiers under LUA (about 30 s)
#   make                 build helpcrunch.core for LUA: lua5.4 (default), luajit, lua5.3,
#                        lua5.1, or any interpreter name such as lua (its version is asked)
#   make valgrind        the C-facing specs under valgrind memcheck
#   make sanitize        the C-facing specs against the ASan/UBSan build (build/asan)
#   make luarocks-check  both rocks through luarocks make, for Lua 5.4 and LuaJIT
#   make bench           benchmarks (bench/), Lua 5.4 and LuaJIT
#   make install PREFIX=/usr/local LUA=lua5.4|luajit|...
#   make deps            install every Debian package of tools/deps.sh (root), or name them
#   make rockspec        regenerate both rockspecs' module lists from lua/
#
# Nothing here runs a tool before `tools/deps.sh` has had the chance to install it:
# demo, test and bench install first and then build in a sub-make, and every flag
# that asks pkg-config is computed when first used, not when this file is read.

LUA      ?= lua5.4
PREFIX   ?= /usr/local
CC       ?= cc
PKG_CONFIG ?= pkg-config

# $(call lazy,VAR,COMMAND): VAR is COMMAND's output, run the first time VAR is used.
lazy = $(eval $1 := $$(shell $2))$($1)

# The interpreter's canonical name (luajit, lua5.1 .. lua5.4): from LUA when it says,
# else asked of the interpreter (LUA=lua must not install into lib/lua//).
LUA_NAME := $(or $(filter luajit lua5.1 lua5.2 lua5.3 lua5.4,$(notdir $(LUA))),$(shell \
  $(LUA) -e 'io.write(jit and "luajit" or "lua" .. _VERSION:match("%d+%.%d+"))' 2>/dev/null),$(LUA))
LUA_VER  := $(if $(filter luajit,$(LUA_NAME)),5.1,$(patsubst lua%,%,$(LUA_NAME)))

LUA_CFLAGS  = $(call lazy,LUA_CFLAGS,$(PKG_CONFIG) --cflags $(LUA_NAME) 2>/dev/null)
CURL_CFLAGS = $(call lazy,CURL_CFLAGS,$(PKG_CONFIG) --cflags libcurl 2>/dev/null || curl-config --cflags 2>/dev/null)
CURL_LIBS   = $(call lazy,CURL_LIBS,$(PKG_CONFIG) --libs libcurl 2>/dev/null || curl-config --libs 2>/dev/null)
CRYPTO_CFLAGS = $(call lazy,CRYPTO_CFLAGS,$(PKG_CONFIG) --cflags libcrypto 2>/dev/null)
CRYPTO_LIBS   = $(call lazy,CRYPTO_LIBS,$(PKG_CONFIG) --libs libcrypto 2>/dev/null || echo -lcrypto)

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS   ?= -O2 -g
ALL_CFLAGS = $(CFLAGS) -std=c99 -D_POSIX_C_SOURCE=200809L -fPIC -fvisibility=hidden \
             $(WARN) $(LUA_CFLAGS) $(CURL_CFLAGS) $(CRYPTO_CFLAGS)
LDFLAGS_SO := -shared

SRCS  := $(wildcard csrc/*.c)
HDRS  := $(wildcard csrc/*.h)
BUILD ?= build/$(LUA_NAME)
OBJS  := $(patsubst csrc/%.c,$(BUILD)/obj/%.o,$(SRCS))
CORE  := $(BUILD)/helpcrunch/core.so
BINS  := bin/helpcrunch-mock bin/helpcrunch

# The ASan/UBSan build of the core (Lua 5.4 ABI), used by `make sanitize`.
ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
              -fno-sanitize-recover=undefined

.PHONY: all demo test test-fast deps lint check-exports valgrind asan sanitize \
        luarocks-check bench install uninstall clean rockspec

all: $(CORE)

# Objects and the library are written under a temporary name and renamed, so two
# builds of the same tree at once (make -j, or two make runs) never leave a torn file.
$(BUILD)/obj/%.o: csrc/%.c $(HDRS)
	@test -n "$(LUA_CFLAGS)" || { echo "no Lua headers for $(LUA_NAME) (pkg-config $(LUA_NAME)): run make deps"; exit 1; }
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@.$$$$.tmp && mv -f $@.$$$$.tmp $@

$(CORE): $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_SO) -o $@.$$$$.tmp $(OBJS) $(CURL_LIBS) $(CRYPTO_LIBS) $(LDFLAGS) && mv -f $@.$$$$.tmp $@

# Only luaopen_helpcrunch_core may leave the shared object.
check-exports: $(CORE)
	@exported=$$(nm -D --defined-only $(CORE) | awk '$$2 ~ /^[TDBR]$$/ {print $$3}'); \
	if [ "$$exported" != "luaopen_helpcrunch_core" ]; then \
	  echo "unexpected exported symbols:"; echo "$$exported"; exit 1; fi; \
	echo "exports: luaopen_helpcrunch_core only"

# The ASan/UBSan core and the interpreter that carries the sanitizer runtimes
# (tools/asan-lua.c says why not LD_PRELOAD).
asan:
	+@$(MAKE) --no-print-directory LUA=lua5.4 CC=clang BUILD=build/asan \
	  CFLAGS="$(ASAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" all build/asan/lua5.4

build/asan/lua5.4: tools/asan-lua.c
	@mkdir -p $(dir $@)
	clang -std=c99 $(ASAN_FLAGS) $(WARN) $(call lazy,LUA54_CFLAGS,$(PKG_CONFIG) --cflags lua5.4) \
	  $< -o $@.$$$$.tmp $(call lazy,LUA54_LIBS,$(PKG_CONFIG) --libs lua5.4) -ldl && mv -f $@.$$$$.tmp $@

deps:
	@sh tools/deps.sh test

lint:
	luacheck --quiet lua bin spec bench examples

# The first command on a fresh machine: install, then build in a sub-make (whose
# flags are computed after the install), then run.
demo:
	@sh tools/deps.sh demo
	+@$(MAKE) --no-print-directory LUA=$(LUA) all
	@sh tools/demo.sh $(LUA)

test:
	@sh tools/deps.sh test
	@sh tools/locales.sh || true
	+@sh tools/test.sh

test-fast:
	@sh tools/deps.sh test
	@sh tools/locales.sh || true
	+@sh tools/test.sh --fast $(LUA)

valgrind:
	+@$(MAKE) --no-print-directory LUA=lua5.4 all
	@sh tools/valgrind.sh

sanitize: asan
	@sh tools/sanitize.sh

luarocks-check:
	@sh tools/luarocks-check.sh

bench:
	@sh tools/deps.sh test
	+@$(MAKE) --no-print-directory LUA=lua5.4 all
	+@$(MAKE) --no-print-directory LUA=luajit all
	@sh bench/run.sh

install: $(CORE)
	@test -n "$(LUA_VER)" || { echo "cannot tell the Lua version of LUA=$(LUA)"; exit 1; }
	install -d $(DESTDIR)$(PREFIX)/lib/lua/$(LUA_VER)/helpcrunch
	install -m 0755 $(CORE) $(DESTDIR)$(PREFIX)/lib/lua/$(LUA_VER)/helpcrunch/core.so
	cd lua && for f in $$(find helpcrunch -name '*.lua'); do \
	  install -d $(DESTDIR)$(PREFIX)/share/lua/$(LUA_VER)/$$(dirname $$f); \
	  install -m 0644 $$f $(DESTDIR)$(PREFIX)/share/lua/$(LUA_VER)/$$f; done
	install -d $(DESTDIR)$(PREFIX)/bin
	for b in $(BINS); do \
	  sed '1s|^#!.*|#!/usr/bin/env $(LUA_NAME)|' $$b > $(DESTDIR)$(PREFIX)/bin/$$(basename $$b); \
	  chmod 0755 $(DESTDIR)$(PREFIX)/bin/$$(basename $$b); done

uninstall:
	rm -rf $(DESTDIR)$(PREFIX)/lib/lua/$(LUA_VER)/helpcrunch \
	       $(DESTDIR)$(PREFIX)/share/lua/$(LUA_VER)/helpcrunch
	for b in $(BINS); do rm -f $(DESTDIR)$(PREFIX)/bin/$$(basename $$b); done

clean:
	rm -rf build

# Regenerate both rockspecs' module lists from lua/ (luarocks-check fails when
# a committed rockspec misses a file).
rockspec:
	@sh tools/rockspec.sh helpcrunch
	@sh tools/rockspec.sh helpcrunch-mock

# ---- fuzzing (issue 11) ----
# The JSON code's libFuzzer targets and allocation-failure sweep; the logic is
# in tools/fuzz.sh and tools/alloc-json.sh.
.PHONY: fuzz fuzz-minimize alloc-json decode-floor

# FUZZ_SECONDS=N bounds the run (default 240, both targets).
fuzz:
	@sh tools/fuzz.sh

# fuzz, then merge what was found into fuzz/corpus/ (minimised).
fuzz-minimize:
	@FUZZ_MINIMIZE=1 sh tools/fuzz.sh

# Every allocation of the JSON code made to fail in turn, under ASan.
alloc-json:
	@sh tools/alloc-json.sh

# The C API floor of decoding (tools/decode-floor.c), which bench/decode_bench.lua
# builds and reports; not part of the module.
decode-floor: $(BUILD)/decode_floor.so

$(BUILD)/decode_floor.so: tools/decode-floor.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -std=c99 -fPIC $(WARN) $(LUA_CFLAGS) -shared -o $@ tools/decode-floor.c

# Every allocation of a create/get/list/all/close cycle (Lua's and libcurl's)
# made to fail in turn, under ASan and UBSan; and the module loaded from two
# threads at once.
.PHONY: alloc-client
alloc-client:
	@sh tools/alloc-client.sh

# ---- docs and the CLI (issue 17) ----
# The HTML reference of every module (LDoc, from config.ld) into docs/, which is
# generated, not committed; the logic is in tools/docs.sh.
.PHONY: docs
docs:
	@sh tools/docs.sh
