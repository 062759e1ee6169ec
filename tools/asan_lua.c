/*
** tools/asan_lua.c -- a minimal Lua 5.4 interpreter for `make sanitize`: built
** with AddressSanitizer, so the sanitizer runtime lives in this program
** and the instrumented core loads into it without LD_PRELOAD (which every
** child process -- nginx, the curl CLI -- would inherit, and some hang on).
** Usage as lua5.4 with a script: asan_lua script.lua args...
*/
#include <stdio.h>
#include <stdlib.h>

#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"

static int traceback(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
  return 1;
}

int main(int argc, char **argv) {
  lua_State *L;
  int i, rc;
  if (argc < 2) {
    fprintf(stderr, "usage: %s script.lua [args]\n", argv[0]);
    return 2;
  }
  L = luaL_newstate();
  if (L == NULL) return 1;
  luaL_openlibs(L);
  /* arg[-1] the interpreter, arg[0] the script, then its arguments */
  lua_createtable(L, argc, 2);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - 1);
  }
  lua_setglobal(L, "arg");
  lua_pushcfunction(L, traceback);
  if (luaL_loadfile(L, argv[1]) != LUA_OK) {
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
    lua_close(L);
    return 1;
  }
  luaL_checkstack(L, argc, "too many arguments");
  for (i = 2; i < argc; i++) lua_pushstring(L, argv[i]);
  rc = lua_pcall(L, argc - 2, 0, 1);
  if (rc != LUA_OK) fprintf(stderr, "%s\n", lua_tostring(L, -1));
  lua_close(L);
  return rc == LUA_OK ? 0 : 1;
}
