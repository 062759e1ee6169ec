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

.PHONY: all luajit deps test demo bench memcheck ubsan emulator install clean services \
  services-check wire-fixtures docs docs-check

all: $(CORE)

$(CORE): $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LIBFLAG) -o $@ $(OBJS) $(CURL_LIBS) $(SSL_LIBS) $(LDFLAGS)

$(BUILD)/obj/%.o: src/%.c src/hwcloud.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

luajit:
	$(MAKE) LUA=luajit

# Installs the Debian packages the build, the tests and the demo need
# (only what is missing; needs root).
deps:
	@sh tools/deps.sh

test: deps
	$(MAKE) all
	$(MAKE) LUA=luajit
	@sh tools/test.sh

demo: deps
	$(MAKE) all
	@sh tools/demo.sh

bench: deps
	$(MAKE) all
	@sh tools/bench.sh

# The C core under valgrind: signing, marshaling and the transport against
# the emulator; fails on any error or leak.
memcheck: deps
	$(MAKE) all
	@sh tools/memcheck.sh

# The specs that drive the C core, against a build with UBSan that stops
# at the first undefined behaviour.
UBSAN = -fsanitize=undefined -fno-sanitize-recover=all
ubsan: deps
	$(MAKE) BUILD=build/ubsan CFLAGS="-O1 -g $(UBSAN)" LDFLAGS="$(UBSAN)"
	HWCLOUD_CPATH=build/ubsan sh tools/test.sh spec/core_spec.lua spec/sign_spec.lua spec/public_sign_spec.lua \
	  spec/marshal_spec.lua spec/transport_spec.lua spec/client_spec.lua spec/retry_spec.lua

emulator:
	bin/hwcloud-emulator --port 8080

# Installs the rock with Debian's luarocks (see README). Debian keeps
# curl/curl.h under the multiarch include folder, hence CURL_INCDIR.
ROCKSPEC = hwcloud-0.1.0-1.rockspec
install: deps
	luarocks --lua-version=5.4 make --deps-mode=none $(ROCKSPEC) \
	  CURL_INCDIR=$(patsubst -I%,%,$(firstword $(CURL_CFLAGS) -I/usr/include)) \
	  CURL_LIBDIR=$$($(PKG_CONFIG) --variable=libdir libcurl)

# Generated service descriptions (lua/hwcloud/services/gen/) from the
# official SDKs: a checkout or a bare git mirror of each.
# `make services` writes them, `make services-check` fails when they are stale.
PYTHON3 ?= /usr/bin/python3

services services-check:
	@if [ -z "$(SDK_GO)" ] || [ -z "$(SDK_PYTHON)" ]; then \
	  echo "make $@: set SDK_GO=<huaweicloud-sdk-go-v3 checkout or mirror>" \
	    "and SDK_PYTHON=<huaweicloud-sdk-python-v3 checkout or mirror>" >&2; exit 2; fi
	$(PYTHON3) tools/gen_services.py --go "$(SDK_GO)" --python "$(SDK_PYTHON)" \
	  $(if $(filter services-check,$@),--check)

# Rebuilds spec/fixtures/wire/*.json: what the official Python SDK puts on
# the wire for every operation of these services (see its README). Needs
# Debian's python3 with the packages listed there; CI does not run it.
wire-fixtures:
	@test -n "$(SDK_PYTHON)" || { echo "make wire-fixtures: set SDK_PYTHON=<huaweicloud-sdk-python-v3 checkout or mirror>" >&2; exit 2; }
	$(PYTHON3) tools/capture_wire.py --sdk "$(SDK_PYTHON)"

clean:
	rm -rf build

# What is generated from the service descriptions: the registry's index, the
# API reference (doc/api/) and the LuaLS definitions (types/).
# `make docs` writes them; `make docs-check` (run by `make test`) fails when
# they are stale.
docs: all
	LUA_CPATH="$(BUILD)/?.so;;" lua5.4 tools/gen_docs.lua

docs-check: all
	LUA_CPATH="$(BUILD)/?.so;;" lua5.4 tools/gen_docs.lua --check
