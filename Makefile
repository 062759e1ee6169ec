# hwcloud -- build, test, demo, bench.
# `make` builds the C core for Lua 5.4; `make LUA=luajit` builds it for LuaJIT.

LUA        ?= 5.4
CC         ?= cc
PKG_CONFIG ?= pkg-config

ifeq ($(LUA),luajit)
  LUA_INC  ?= $(shell $(PKG_CONFIG) --cflags luajit 2>/dev/null || echo -I/usr/include/luajit-2.1)
  BUILD    ?= build/luajit
else
  LUA_INC  ?= $(shell $(PKG_CONFIG) --cflags lua$(LUA) 2>/dev/null || echo -I/usr/include/lua$(LUA))
  BUILD    ?= build/$(LUA)
endif

CURL_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags libcurl)
CURL_LIBS   ?= $(shell $(PKG_CONFIG) --libs libcurl)
SSL_CFLAGS  ?= $(shell $(PKG_CONFIG) --cflags libcrypto)
SSL_LIBS    ?= $(shell $(PKG_CONFIG) --libs libcrypto)

# -Werror in development and CI (here); a user's LuaRocks build uses the
# rockspec, which passes no warning flags, so a newer compiler's new
# warnings cannot break an install. `make WERROR=` builds without it.
WERROR ?= -Werror
WARN    = -Wall -Wextra $(WERROR) -Wshadow -Wmissing-prototypes -Wstrict-prototypes -pedantic
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c99 -D_POSIX_C_SOURCE=200809L -fPIC $(WARN) $(CFLAGS) $(LUA_INC) $(CURL_CFLAGS) $(SSL_CFLAGS)
LIBFLAG ?= -shared

SRCS = $(wildcard src/*.c)
OBJS = $(patsubst src/%.c,$(BUILD)/obj/%.o,$(SRCS))
CORE = $(BUILD)/hwcloud/core.so

.PHONY: all luajit deps dev-deps check test matrix rock rock-emulator rock-build rock-install release-rockspec demo bench memcheck sanitize ubsan asan fuzz emulator install \
  clean services services-check catalog catalog-check vectors vectors-check wire-fixtures docs docs-check

all: $(CORE)

$(CORE): $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAG) -o $@ $(OBJS) $(CURL_LIBS) $(SSL_LIBS) $(LDFLAGS)

$(BUILD)/obj/%.o: src/%.c src/hwcloud.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The API reference (doc/api/) and the LuaLS types (types/), derived from
# the descriptions, not committed: built with the default build's core (a
# LuaJIT or sanitizer core does not load in lua5.4), as make docs does.
ifeq ($(BUILD),build/5.4)
all: $(BUILD)/docs.stamp
endif
$(BUILD)/docs.stamp: $(CORE) tools/gen_docs.lua $(shell find lua -name '*.lua')
	LUA_CPATH="$(BUILD)/?.so;;" lua5.4 tools/gen_docs.lua
	@touch $@

luajit:
	$(MAKE) LUA=luajit

# Installs the Debian packages that are missing (needs root): `make deps`
# what the library and the emulator need (make, make demo, make install);
# `make dev-deps` that and the developers' tools (busted, luacheck,
# cppcheck, the other Lua versions, valgrind, clang, wrk, Node.js), which
# make test, CI and the other development targets install.
deps:
	@sh tools/deps.sh

dev-deps:
	@sh tools/deps.sh dev

# The fast tier: luacheck and the specs that need no server (a few
# seconds; describes tagged #server or #slow are left to make test).
# messages_spec compares the LuaJIT build's messages with 5.4's
check: all
	$(MAKE) LUA=luajit
	@sh tools/check.sh

test: dev-deps
	$(MAKE) all
	$(MAKE) LUA=luajit
	@sh tools/test.sh

# The client specs under Lua 5.1, 5.3 and LuaJIT (make test covers 5.4
# and nginx), each against its own build of the core.
matrix: dev-deps
	$(MAKE) all
	$(MAKE) LUA=5.1
	$(MAKE) LUA=5.3
	$(MAKE) LUA=luajit
	@sh tools/matrix.sh

# A source rock of the checkout, offline: build/rock/hwcloud-scm-1.src.rock
# (`luarocks install --deps-mode=none` it with the CURL_* variables of install).
rock:
	@sh tools/rock.sh $(ROCKSPEC)

# The rockspec's two make steps, run by luarocks with its own CC, CFLAGS,
# LIBFLAG, include and library folders, BUILD and ROCK_LUA (the Lua it
# installs for): rock-build builds the core, then what gen_docs derives from
# the committed descriptions (doc/api/, types/); rock-install copies those
# and doc/internals.md into the rock's folder (ROCK_PREFIX). The lib, Lua
# modules, bin and conf files are installed by luarocks (build.install).
ROCK_LUA ?= lua5.4
rock-build: $(CORE)
	env -u LUA_INIT -u LUA_INIT_5_4 -u LUA_INIT_5_3 -u LUA_INIT_5_2 -u LUA_PATH_5_4 -u LUA_PATH_5_3 -u LUA_PATH_5_2 \
	  -u LUA_CPATH_5_4 -u LUA_CPATH_5_3 -u LUA_CPATH_5_2 \
	  LUA_PATH="lua/?.lua;lua/?/init.lua;;" LUA_CPATH="$(BUILD)/?.so;;" $(ROCK_LUA) tools/gen_docs.lua

rock-install:
	@test -n "$(ROCK_PREFIX)" || { echo "make rock-install: set ROCK_PREFIX (luarocks does)" >&2; exit 2; }
	mkdir -p "$(ROCK_PREFIX)/doc/api" "$(ROCK_PREFIX)/types/hwcloud"
	cp doc/api/*.md "$(ROCK_PREFIX)/doc/api/"
	cp doc/internals.md "$(ROCK_PREFIX)/doc/"
	cp types/hwcloud/*.lua "$(ROCK_PREFIX)/types/hwcloud/"

# The emulator's source rock: build/rock/hwcloud-emulator-scm-1.src.rock
rock-emulator:
	@sh tools/rock.sh emulator/hwcloud-emulator-scm-1.rockspec

# The release rockspecs of VERSION (build/release/), made from the scm ones
# at the release commit, which carries VERSION and its tag v$(VERSION)
# (tools/release_rockspec.sh says what it checks).
release-rockspec:
	@sh tools/release_rockspec.sh "$(VERSION)"

demo: deps
	$(MAKE) all
	@sh tools/demo.sh

bench: dev-deps
	$(MAKE) all
	@sh tools/bench.sh

# The C core under valgrind: signing, marshaling and the transport against
# the emulator; fails on any error or leak.
memcheck: dev-deps
	$(MAKE) all
	@sh tools/memcheck.sh

# The specs that drive the C core, once, against a core built with ASan
# and UBSan together (stopping at the first memory error or undefined
# behaviour), run by a small interpreter built with them too
# (tools/asan_lua.c), so no child process inherits the sanitizers (specs
# that start a child lua5.4 on the core get the runtime late:
# verify_asan_link_order=0). Leaks are memcheck's business. `make ubsan`
# and `make asan` are the same run.
SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_SPECS = spec/core_spec.lua spec/sign_spec.lua spec/public_sign_spec.lua spec/marshal_spec.lua \
  spec/transport_spec.lua spec/client_spec.lua spec/retry_spec.lua spec/robust_spec.lua \
  spec/fuzz_spec.lua
LUA54_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags lua5.4 2>/dev/null || echo -I/usr/include/lua5.4)
LUA54_LIBS   ?= $(shell $(PKG_CONFIG) --libs lua5.4 2>/dev/null || echo -llua5.4)
sanitize: dev-deps
	$(MAKE) BUILD=build/sanitize CFLAGS="-O1 -g $(SAN)" LDFLAGS="$(SAN)"
	$(CC) -std=c99 $(WARN) -O1 -g $(SAN) $(LUA54_CFLAGS) tools/asan_lua.c \
	  -o build/sanitize/lua $(LUA54_LIBS)
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:verify_asan_link_order=0 \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 HWCLOUD_LUA=build/sanitize/lua \
	  HWCLOUD_CPATH=build/sanitize sh tools/test.sh $(SAN_SPECS)

ubsan asan: sanitize

# libFuzzer on the C core (build, conform, sign, the JSON
# writer) under ASan and UBSan, with a fixed seed and a time budget:
# tools/fuzz/driver.lua says what each input does and what must hold.
# Past crashers go to tools/fuzz/corpus/ (and become specs).
FUZZ_CC   ?= clang
FUZZ_TIME ?= 60
FUZZ_SEED ?= 20261201
FUZZ_SAN   = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
fuzz: dev-deps
	@mkdir -p build/fuzz/corpus
	$(FUZZ_CC) -std=c99 -D_POSIX_C_SOURCE=200809L $(WARN) -Wno-unused-command-line-argument \
	  -O1 -g $(FUZZ_SAN) -Isrc $(LUA54_CFLAGS) \
	  $(CURL_CFLAGS) $(SSL_CFLAGS) tools/fuzz/fuzz_core.c $(SRCS) -o build/fuzz/fuzz_core \
	  $(LUA54_LIBS) $(CURL_LIBS) $(SSL_LIBS)
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
	  build/fuzz/fuzz_core -seed=$(FUZZ_SEED) -max_total_time=$(FUZZ_TIME) -max_len=2048 \
	  -rss_limit_mb=2048 -print_final_stats=1 build/fuzz/corpus tools/fuzz/corpus

emulator:
	bin/hwcloud-emulator --port 8080

# Installs the rock with Debian's luarocks (see README). Debian keeps
# curl/curl.h under the multiarch include folder, hence CURL_INCDIR.
# A checkout is unreleased code: its rockspec is the scm one (version scm-1;
# release rockspecs are made at a release, make release-rockspec).
ROCKSPEC ?= hwcloud-scm-1.rockspec
install: deps
	luarocks --lua-version=5.4 make --deps-mode=none $(ROCKSPEC) \
	  CURL_INCDIR=$(patsubst -I%,%,$(firstword $(CURL_CFLAGS) -I/usr/include)) \
	  CURL_LIBDIR=$$($(PKG_CONFIG) --variable=libdir libcurl)

# Generated service descriptions (lua/hwcloud/services/gen/: every service
# version of the official SDKs) and the catalog (lua/hwcloud/services/index.lua)
# from plain checkouts (or bare git mirrors, much slower) of each SDK.
# `make services` writes them; `make services-check` fails when they are
# stale, and skips with a message when SDK_GO/SDK_PYTHON are not set.
# `make catalog` rewrites the index alone (from the committed descriptions,
# the overlays and manifest.lua; no SDK needed) and `make catalog-check`
# (run by make check) fails when it is stale.
PYTHON3 ?= /usr/bin/python3

services:
	@if [ -z "$(SDK_GO)" ] || [ -z "$(SDK_PYTHON)" ]; then \
	  echo "make $@: set SDK_GO=<huaweicloud-sdk-go-v3 checkout or mirror>" \
	    "and SDK_PYTHON=<huaweicloud-sdk-python-v3 checkout or mirror>" >&2; exit 2; fi
	$(PYTHON3) tools/gen_services.py --go "$(SDK_GO)" --python "$(SDK_PYTHON)"
	lua5.4 tools/gen_catalog.lua

services-check: catalog-check
	@if [ -z "$(SDK_GO)" ] || [ -z "$(SDK_PYTHON)" ]; then \
	  echo "make $@: skipped: set SDK_GO and SDK_PYTHON to check the descriptions against the SDKs"; \
	else $(PYTHON3) tools/gen_services.py --go "$(SDK_GO)" --python "$(SDK_PYTHON)" --check; fi

# The SM3 and derived signature vectors (spec/fixtures/vectors/), made by the
# official Python SDK's own signers; the check skips without SDK_PYTHON.
vectors:
	@if [ -z "$(SDK_PYTHON)" ]; then echo "make $@: set SDK_PYTHON=<huaweicloud-sdk-python-v3 checkout>" >&2; exit 2; fi
	PYTHONPATH="$(SDK_PYTHON)/huaweicloud-sdk-core" $(PYTHON3) tools/gen_sign_vectors.py "$(SDK_PYTHON)"

vectors-check:
	@if [ -z "$(SDK_PYTHON)" ]; then echo "make $@: skipped: set SDK_PYTHON to check the signature vectors"; \
	else d=$$(mktemp -d) && PYTHONPATH="$(SDK_PYTHON)/huaweicloud-sdk-core" $(PYTHON3) tools/gen_sign_vectors.py "$(SDK_PYTHON)" $$d \
	  && diff -r $$d spec/fixtures/vectors && rm -rf $$d; fi

catalog:
	lua5.4 tools/gen_catalog.lua
	lua5.4 tools/sync_modules.lua

catalog-check:
	@lua5.4 tools/gen_catalog.lua --check

# Rebuilds spec/fixtures/wire/*.jsonl: what the official Python SDK puts on
# the wire for every operation of every service version of the catalog (see
# its README; two worker processes, a few minutes). Needs Debian's python3
# with the packages make dev-deps installs; CI does not run it.
wire-fixtures:
	@test -n "$(SDK_PYTHON)" || { echo "make wire-fixtures: set SDK_PYTHON=<huaweicloud-sdk-python-v3 checkout or mirror>" >&2; exit 2; }
	$(PYTHON3) tools/capture_wire.py --sdk "$(SDK_PYTHON)"
	PYTHONPATH="$(SDK_PYTHON)/huaweicloud-sdk-core:$(SDK_PYTHON)/huaweicloud-sdk-cce:$(SDK_PYTHON)/huaweicloud-sdk-ucs:$(SDK_PYTHON)/huaweicloud-sdk-ims" \
	  $(PYTHON3) tools/capture_nonjson.py "$(SDK_PYTHON)"

clean:
	rm -rf build

# What is built from the catalog, not committed, installed with the rock:
# the API reference (doc/api/) and the LuaLS definitions (types/).
docs: all
	LUA_CPATH="$(BUILD)/?.so;;" lua5.4 tools/gen_docs.lua

docs-check: all
	LUA_CPATH="$(BUILD)/?.so;;" lua5.4 tools/gen_docs.lua --check
