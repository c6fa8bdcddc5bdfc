# helpcrunch-lua
#   make                 build helpcrunch.core for Lua 5.4 (LUA=luajit for LuaJIT 2.1)
#   make test            install missing Debian packages, lint, build both, run the suite
#   make demo            build, start the bundled mock, run examples/ against it
#   make bench           benchmarks (bench/), both Lua versions
#   make valgrind        the C-facing specs under valgrind memcheck
#   make install PREFIX=/usr/local LUA=lua5.4|luajit
#   make deps            install the Debian packages the project needs (root), or name them

LUA      ?= lua5.4
PREFIX   ?= /usr/local
CC       ?= cc

ifeq ($(LUA),luajit)
  LUA_PC  := luajit
  LUA_VER := 5.1
else
  LUA_PC  := $(LUA)
  LUA_VER := $(patsubst lua%,%,$(LUA))
endif

PKG_CONFIG ?= pkg-config
LUA_CFLAGS  := $(shell $(PKG_CONFIG) --cflags $(LUA_PC) 2>/dev/null)
CURL_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null || curl-config --cflags 2>/dev/null)
CURL_LIBS   := $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null || curl-config --libs 2>/dev/null)
CRYPTO_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcrypto 2>/dev/null)
CRYPTO_LIBS   := $(shell $(PKG_CONFIG) --libs libcrypto 2>/dev/null || echo -lcrypto)

WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
CFLAGS   ?= -O2 -g
ALL_CFLAGS = $(CFLAGS) -std=c99 -D_POSIX_C_SOURCE=200809L -fPIC -fvisibility=hidden \
             $(WARN) $(LUA_CFLAGS) $(CURL_CFLAGS) $(CRYPTO_CFLAGS)
LDFLAGS_SO := -shared

SRCS  := $(wildcard csrc/*.c)
HDRS  := $(wildcard csrc/*.h)
BUILD := build/$(LUA)
OBJS  := $(patsubst csrc/%.c,$(BUILD)/obj/%.o,$(SRCS))
CORE  := $(BUILD)/helpcrunch/core.so
LUAFILES := $(shell find lua -name '*.lua' 2>/dev/null)
BINS  := bin/helpcrunch-mock bin/helpcrunch

.PHONY: rockspec all test test-one demo bench valgrind install uninstall deps lint clean check-exports luarocks-check

all: $(CORE)

$(BUILD)/obj/%.o: csrc/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(CORE): $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_SO) -o $@ $(OBJS) $(CURL_LIBS) $(CRYPTO_LIBS) $(LDFLAGS)

# Only luaopen_helpcrunch_core may leave the shared object.
check-exports: $(CORE)
	@exported=$$(nm -D --defined-only $(CORE) | awk '$$2 ~ /^[TDBR]$$/ {print $$3}'); \
	if [ "$$exported" != "luaopen_helpcrunch_core" ]; then \
	  echo "unexpected exported symbols:"; echo "$$exported"; exit 1; fi; \
	echo "exports: luaopen_helpcrunch_core only"

deps:
	@sh tools/deps.sh

lint:
	luacheck --quiet lua bin spec bench examples

# One Lua version: build and run the busted suite, printing TAP (counted by
# tools/test.sh). Used by `make test` for lua5.4 and luajit.
test-one: $(CORE)
	@sh tools/busted.sh $(LUA)

test: deps
	@sh tools/test.sh

demo: deps $(CORE)
	@sh tools/demo.sh $(LUA)

bench: deps
	@$(MAKE) --no-print-directory LUA=lua5.4 all
	@$(MAKE) --no-print-directory LUA=luajit all
	@sh bench/run.sh

valgrind: $(CORE)
	@sh tools/valgrind.sh

luarocks-check:
	@sh tools/luarocks-check.sh

install: $(CORE)
	install -d $(DESTDIR)$(PREFIX)/lib/lua/$(LUA_VER)/helpcrunch
	install -m 0755 $(CORE) $(DESTDIR)$(PREFIX)/lib/lua/$(LUA_VER)/helpcrunch/core.so
	cd lua && for f in $$(find helpcrunch -name '*.lua'); do \
	  install -d $(DESTDIR)$(PREFIX)/share/lua/$(LUA_VER)/$$(dirname $$f); \
	  install -m 0644 $$f $(DESTDIR)$(PREFIX)/share/lua/$(LUA_VER)/$$f; done
	install -d $(DESTDIR)$(PREFIX)/bin
	for b in $(BINS); do \
	  sed '1s|^#!.*|#!/usr/bin/env $(LUA)|' $$b > $(DESTDIR)$(PREFIX)/bin/$$(basename $$b); \
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
