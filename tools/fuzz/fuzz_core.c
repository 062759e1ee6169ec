/*
** tools/fuzz/fuzz_core.c -- libFuzzer entry for the C core: one Lua 5.4
** state with hwcloud.core preloaded runs tools/fuzz/driver.lua on every
** input (build, conform, sign, the JSON writer and reader, the
** response head parser). A broken invariant raises in the driver and
** aborts here, so libFuzzer keeps the input; ASan and UBSan catch the
** rest.
**
** The state is the harness's own, made once (libFuzzer calls in one
** thread); the core itself keeps no state of its own.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

int luaopen_hwcloud_core(lua_State *L);
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static lua_State *fuzz_state(void) {
  static lua_State *L = NULL;
  if (L != NULL) return L;
  L = luaL_newstate();
  if (L == NULL) abort();
  luaL_openlibs(L);
  luaL_requiref(L, "hwcloud.core", luaopen_hwcloud_core, 0);
  lua_pop(L, 1);
  if (luaL_dostring(L, "package.path = 'lua/?.lua;lua/?/init.lua;' .. package.path") ||
      luaL_loadfile(L, "tools/fuzz/driver.lua") || lua_pcall(L, 0, 1, 0)) {
    fprintf(stderr, "fuzz: %s\n", lua_tostring(L, -1));
    abort();
  }
  lua_setfield(L, LUA_REGISTRYINDEX, "hwcloud.fuzz.one");
  return L;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  (void)fuzz_state();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  lua_State *L = fuzz_state();
  lua_getfield(L, LUA_REGISTRYINDEX, "hwcloud.fuzz.one");
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    fprintf(stderr, "fuzz: %s\n", lua_tostring(L, -1));
    abort();
  }
  return 0;
}
