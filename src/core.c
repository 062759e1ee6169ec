/*
** core.c -- module glue for hwcloud.core: registers what the other files
** provide. No state lives here; libcurl's global init runs once per load.
*/
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "hwcloud.h"

int luaopen_hwcloud_core(lua_State *L);

#if LUA_VERSION_NUM < 502
void hwc_compat_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  luaL_checkstack(L, nup, "too many upvalues");
  for (; l->name != NULL; l++) {
    int i;
    for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}
#endif

/* monotonic seconds, for deadlines and backoff that must not jump with
** the wall clock (0 if the clock cannot be read, which POSIX rules out) */
double hwc_now(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0;
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* core.now() */
static int core_now(lua_State *L) {
  lua_pushnumber(L, (lua_Number)hwc_now());
  return 1;
}

/* core.isatty(fd): whether progress may redraw a line in place. */
static int core_isatty(lua_State *L) {
  lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)) == 1);
  return 1;
}

int luaopen_hwcloud_core(lua_State *L) {
  static const luaL_Reg funcs[] = {
      {"now", core_now}, {"isatty", core_isatty}, {NULL, NULL}};
  /* curl_global_init is reference-counted since 7.84 and thread-safe;
  ** calling it per load keeps no state of our own. */
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return luaL_error(L, "hwcloud.core: curl_global_init failed");
  lua_newtable(L);
  lua_pushliteral(L, HWC_VERSION);
  lua_setfield(L, -2, "version");
  luaL_setfuncs(L, funcs, 0);
  hwc_open_sign(L);
  hwc_open_url(L);
  hwc_open_marshal(L);
  hwc_open_decode(L);
  hwc_open_head(L);
  hwc_open_http(L);
  hwc_open_fileio(L);
  hwc_open_digest(L);
  return 1;
}
