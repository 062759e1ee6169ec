/*
** pieces.c -- a request body given in pieces (opts.upload_pieces: a list
** of strings and {path=, offset=, length=} spans of files), turned into
** the piece list stream.c reads from as libcurl sends. The strings are
** copied (a multipart form's are a few hundred bytes); files are read
** only while they are sent.
*/
#include <stdlib.h>
#include <string.h>

#include "hwcloud.h"

static char *copy(const char *p, size_t n) {
  char *c = malloc(n + 1);
  if (c == NULL) return NULL;
  memcpy(c, p, n);
  c[n] = '\0';
  return c;
}

/* one entry of the list (at the top of the stack) into *pc */
static const char *one(lua_State *L, hwc_piece *pc, const char **path) {
  size_t n;
  if (lua_type(L, -1) == LUA_TSTRING) {
    const char *s = lua_tolstring(L, -1, &n);
    pc->data = copy(s, n);
    pc->length = (int64_t)n;
    return pc->data == NULL ? "out of memory" : NULL;
  }
  if (lua_type(L, -1) != LUA_TTABLE) return "a piece is not a string or a file span";
  if (hwc_getfield(L, -1, "path") != LUA_TSTRING) {
    lua_pop(L, 1);
    return "a file span has no path";
  }
  *path = lua_tolstring(L, -1, &n);
  pc->path = copy(*path, n);
  lua_pop(L, 1);
  if (pc->path == NULL) return "out of memory";
  if (hwc_getfield(L, -1, "offset") == LUA_TNUMBER) pc->offset = (int64_t)lua_tonumber(L, -1);
  lua_pop(L, 1);
  if (hwc_getfield(L, -1, "length") != LUA_TNUMBER) {
    lua_pop(L, 1);
    return "a file span has no length";
  }
  pc->length = (int64_t)lua_tonumber(L, -1);
  lua_pop(L, 1);
  return NULL;
}

const char *hwc_pieces_open(lua_State *L, int idx, hwc_stream *s,
                            const char **path) {
  size_t n = (size_t)lua_rawlen(L, idx), i, bad = 0;
  const char *why = NULL;
  /* at least one entry: calloc(0) may be NULL */
  hwc_piece *pieces = calloc(n ? n : 1, sizeof *pieces);
  *path = "the body";
  if (pieces == NULL) return "out of memory";
  for (i = 0; i < n && why == NULL; i++) {
    lua_rawgeti(L, idx, (lua_Integer)(i + 1));
    why = one(L, &pieces[i], path);
    lua_pop(L, 1);
  }
  if (why != NULL) {
    /* the stream owns the list from here, to free it */
    memset(s, 0, sizeof *s);
    s->pieces = pieces;
    s->npieces = n;
    return why;
  }
  why = hwc_stream_open_pieces(s, pieces, n, &bad);
  if (why != NULL) {
    /* the path as Lua holds it: the copy goes when the stream closes */
    lua_rawgeti(L, idx, (lua_Integer)(bad + 1));
    if (hwc_getfield(L, -1, "path") == LUA_TSTRING) *path = lua_tostring(L, -1);
    lua_pop(L, 2);
  }
  return why;
}
