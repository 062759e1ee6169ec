/*
** hwcloud.h -- private header of the hwcloud C core.
** Version, metatable names, the Lua 5.1/LuaJIT compat shims and the
** declarations the source files share. Nothing here is public API.
*/
#ifndef HWCLOUD_H
#define HWCLOUD_H

#include <stddef.h>
#include <stdint.h>

#include "lua.h"
#include "lauxlib.h"

#define HWC_VERSION "0.1.0"

/* metatable names */
#define HWC_TRANSPORT_MT "hwcloud.transport"
#define HWC_CORE_STATE_MT "hwcloud.core.state"

/*
** Compat: the module builds against Lua 5.4 and against LuaJIT (5.1 ABI).
** Only the handful of calls we use are shimmed.
*/
#if LUA_VERSION_NUM < 502
#define lua_rawlen(L, i) lua_objlen((L), (i))
#define lua_absindex(L, i) \
  (((i) > 0 || (i) <= LUA_REGISTRYINDEX) ? (i) : lua_gettop(L) + (i) + 1)
#define lua_pushglobaltable(L) lua_pushvalue((L), LUA_GLOBALSINDEX)
#define lua_newuserdatauv(L, sz, nuv) lua_newuserdata((L), (sz))
#define luaL_setfuncs(L, l, nup) hwc_compat_setfuncs((L), (l), (nup))
void hwc_compat_setfuncs(lua_State *L, const luaL_Reg *l, int nup);
#elif LUA_VERSION_NUM < 504
#define lua_newuserdatauv(L, sz, nuv) lua_newuserdata((L), (sz))
#endif

/* lua_getfield that returns the type on every version */
static inline int hwc_getfield(lua_State *L, int idx, const char *k) {
#if LUA_VERSION_NUM < 503
  lua_getfield(L, idx, k);
  return lua_type(L, -1);
#else
  return lua_getfield(L, idx, k);
#endif
}

/* for helpers that always raise (luaL_error does not return): tells the
** compiler and static analysers what follows them is unreachable */
#if defined(__GNUC__)
#define HWC_NORETURN __attribute__((noreturn))
#else
#define HWC_NORETURN
#endif

/* integer test that works on 5.1 (no integer subtype there) */
int hwc_isinteger(lua_State *L, int idx);

/*
** Growable byte buffer (buf.c). Every function returns 0 on success and -1
** when memory ran out; on failure the buffer keeps what it had.
*/
typedef struct hwc_buf {
  char *data;
  size_t len;
  size_t cap;
} hwc_buf;

void hwc_buf_init(hwc_buf *b);
void hwc_buf_free(hwc_buf *b);
void hwc_buf_reset(hwc_buf *b);
int hwc_buf_reserve(hwc_buf *b, size_t extra);
int hwc_buf_add(hwc_buf *b, const void *p, size_t n);
int hwc_buf_addc(hwc_buf *b, char c);
int hwc_buf_adds(hwc_buf *b, const char *s);
/* NUL-terminates without counting the terminator in len */
int hwc_buf_cstr(hwc_buf *b);

/* percent-encoding shared by signing and marshaling (buf.c):
** every byte outside A-Z a-z 0-9 - _ . ~ becomes %XY, upper-case hex */
int hwc_buf_add_urlenc(hwc_buf *b, const char *s, size_t n);

/*
** Registration: each file adds its functions to the module table on top
** of the stack. Called once from luaopen_hwcloud_core.
*/
void hwc_open_sign(lua_State *L);
void hwc_open_marshal(lua_State *L);
void hwc_open_http(lua_State *L);

#endif
