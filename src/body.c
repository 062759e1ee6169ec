/*
** body.c -- a large request body kept in the C buffer core.build wrote it
** in, handed to the signer and the transport as it is.
**
** Made into a Lua string, a 10 MB body costs a copy and, since the string
** is new memory each call, about 2,800 fresh pages (7 ms here against
** 0.6 ms for warm ones). A held body is a userdata over the buffer
** instead. The call that made it releases it once its tries are over, and
** the buffer goes back to the builder's spare slot, so a run of large calls
** writes into warm pages; __gc releases a body no call released. The spare
** is reference-counted by the builder and the bodies: it outlives whichever
** of them the collector (or lua_close) finalizes first.
*/
#include <stdlib.h>
#include <string.h>

#include "hwcloud.h"

#define BODY_MT "hwcloud.body"

struct hwc_spare {
  hwc_buf buf; /* a released body's buffer, empty when none */
  int refs;    /* the builder's state and every unreleased body */
};

typedef struct hwc_body {
  hwc_buf buf;       /* the bytes; data == NULL once released */
  hwc_spare *home;   /* where the buffer goes back; NULL: it is freed */
} hwc_body;

hwc_spare *hwc_spare_new(void) {
  hwc_spare *sp = (hwc_spare *)malloc(sizeof *sp);
  if (sp == NULL) return NULL;
  hwc_buf_init(&sp->buf);
  sp->refs = 1;
  return sp;
}

void hwc_spare_unref(hwc_spare *sp) {
  if (sp == NULL || --sp->refs > 0) return;
  hwc_buf_free(&sp->buf);
  free(sp);
}

hwc_buf *hwc_spare_buf(hwc_spare *sp) { return &sp->buf; }

static void release(hwc_body *bd) {
  hwc_spare *sp = bd->home;
  bd->home = NULL;
  if (sp != NULL && sp->buf.data == NULL && sp->refs > 1) {
    sp->buf = bd->buf; /* the builder still lives to take it back */
    sp->buf.len = 0;
  } else {
    hwc_buf_free(&bd->buf);
  }
  hwc_buf_init(&bd->buf);
  hwc_spare_unref(sp);
}

static hwc_body *check_body(lua_State *L) {
  return (hwc_body *)luaL_checkudata(L, 1, BODY_MT);
}

static int body_release(lua_State *L) {
  release(check_body(L));
  return 0;
}

static int body_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)check_body(L)->buf.len);
  return 1;
}

/* the bytes as a string (a copy): for the cosocket transport and logs */
static int body_tostring(lua_State *L) {
  hwc_body *bd = check_body(L);
  if (bd->buf.data == NULL)
    return luaL_error(L, "hwcloud.core: the body was released");
  lua_pushlstring(L, bd->buf.data, bd->buf.len);
  return 1;
}

int hwc_body_push(lua_State *L, hwc_buf *b, hwc_spare *home) {
  hwc_body *bd = (hwc_body *)lua_newuserdatauv(L, sizeof *bd, 0);
  hwc_buf_init(&bd->buf);
  bd->home = NULL;
  if (luaL_newmetatable(L, BODY_MT)) {
    static const luaL_Reg meta[] = {{"__gc", body_release},
                                    {"__len", body_len},
                                    {"__tostring", body_tostring},
                                    {NULL, NULL}};
    static const luaL_Reg methods[] = {{"release", body_release}, {NULL, NULL}};
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
  }
  lua_setmetatable(L, -2);
  /* nothing below allocates from Lua: the buffer cannot be lost between */
  bd->buf = *b;
  hwc_buf_init(b);
  if (home != NULL) {
    home->refs++;
    bd->home = home;
  }
  return 1;
}

/* the body at idx, or NULL (luaL_testudata, which Lua 5.1 lacks) */
static hwc_body *test_body(lua_State *L, int idx) {
  void *p = lua_touserdata(L, idx);
  int same;
  if (p == NULL || !lua_getmetatable(L, idx)) return NULL;
  luaL_getmetatable(L, BODY_MT);
  same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same ? (hwc_body *)p : NULL;
}

int hwc_body_bytes(lua_State *L, int idx, const char **p, size_t *n) {
  hwc_body *bd;
  if (lua_type(L, idx) == LUA_TSTRING) {
    *p = lua_tolstring(L, idx, n);
    return 1;
  }
  bd = test_body(L, idx);
  if (bd == NULL) return 0;
  if (bd->buf.data == NULL) return -1;
  *p = bd->buf.data;
  *n = bd->buf.len;
  return 1;
}
