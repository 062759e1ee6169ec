/*
** http_head.c -- core.parse_head: an HTTP/1.x response head (status line
** and header lines up to the empty line) as Lua values, for the cosocket
** transport inside nginx; the curl transport's header lines go through
** the same hwc_head_push.
**
** Why in C: the head was split into lines, trimmed and lower-cased in Lua,
** a dozen string operations per header, several microseconds of a
** handler's request. Here it is one pass over bytes that are already in
** the buffer, and one table.
**
** The rules are the transport's: the status line is "HTTP/d.d DDD" then a
** space or its end (so "HTTP/1.1 2000" is refused), a line without a name
** before its ':' is ignored, names are lower-cased, values lose the blanks
** around them, and a repeated header's values are joined with ", " in
** order. The limits (the status line's length, the head's bytes and lines)
** come from the caller.
*/
#include <string.h>

#include "hwcloud.h"

static int is_blank(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

/* the end of the head: the index just past its empty line, or 0 when the
** bytes from p on do not hold one yet */
static size_t head_end(const char *s, size_t p, size_t n) {
  while (p < n) {
    const char *nl = memchr(s + p, '\n', n - p);
    size_t i;
    if (nl == NULL) return 0;
    i = (size_t)(nl - s) + 1;
    if (i < n && s[i] == '\n') return i + 1;
    if (i + 1 < n && s[i] == '\r' && s[i + 1] == '\n') return i + 2;
    p = i;
  }
  return 0;
}

/* "HTTP/x.y NNN[ reason]" (the line without its line end): the status, or
** 0 when it is not a status line */
static int status_of(const unsigned char *l, size_t n) {
  if (n < 12 || memcmp(l, "HTTP/", 5) != 0 || !hwc_is_digit(l[5]) || l[6] != '.' ||
      !hwc_is_digit(l[7]) || l[8] != ' ' || l[9] < '1' || l[9] > '9' ||
      !hwc_is_digit(l[10]) || !hwc_is_digit(l[11]) || (n > 12 && l[12] != ' '))
    return 0;
  return (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
}

/* the header line l (n bytes, no line end) into the table at t; a repeated
** name's values go to the list at lists (made on first need, at top) */
static void head_add(lua_State *L, int t, int *lists, const char *l, size_t n) {
  const char *colon = memchr(l, ':', n);
  char name[64];
  size_t nl, i, j;
  if (colon == NULL || colon == l) return;
  nl = (size_t)(colon - l);
  i = nl + 1;
  j = n;
  while (i < j && is_blank((unsigned char)l[i])) i++;
  while (j > i && is_blank((unsigned char)l[j - 1])) j--;
  if (nl <= sizeof name) {
    size_t k;
    for (k = 0; k < nl; k++) name[k] = (char)hwc_lower((unsigned char)l[k]);
    lua_pushlstring(L, name, nl);
  } else {
    luaL_Buffer b;
    size_t k;
    luaL_buffinit(L, &b);
    for (k = 0; k < nl; k++) luaL_addchar(&b, (char)hwc_lower((unsigned char)l[k]));
    luaL_pushresult(&b);
  }
  lua_pushvalue(L, -1);
  lua_rawget(L, t);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushlstring(L, l + i, j - i);
    lua_rawset(L, t);
    return;
  }
  /* repeated: name, first value on the stack; the list holds them all */
  if (*lists == 0) {
    lua_newtable(L);
    lua_insert(L, -3);
    *lists = lua_gettop(L) - 2;
  }
  lua_pushvalue(L, -2);
  lua_rawget(L, *lists);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_createtable(L, 4, 0);
    lua_pushvalue(L, -2); /* the first value */
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, -3);
    lua_pushvalue(L, -2);
    lua_rawset(L, *lists);
  }
  lua_pushlstring(L, l + i, j - i);
  lua_rawseti(L, -2, (int)lua_rawlen(L, -2) + 1);
  lua_pop(L, 3);
}

/* each list of values becomes the header's value, joined with ", " */
static void head_join(lua_State *L, int t, int lists) {
  lua_pushnil(L);
  while (lua_next(L, lists) != 0) {
    luaL_Buffer b;
    int i, n = (int)lua_rawlen(L, -1), list = lua_gettop(L);
    lua_pushvalue(L, -2);
    luaL_buffinit(L, &b);
    for (i = 1; i <= n; i++) {
      if (i > 1) luaL_addlstring(&b, ", ", 2);
      lua_rawgeti(L, list, i);
      luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    lua_rawset(L, t);
    lua_pop(L, 1);
  }
}

/* the lines up to the empty line or the end, as hwcloud.h says */
int hwc_head_push(lua_State *L, const char *s, size_t n, lua_Integer max_lines) {
  size_t p, next;
  lua_Integer lines = 0;
  int t, lists = 0;
  lua_createtable(L, 0, 8);
  t = lua_gettop(L);
  luaL_checkstack(L, 8, "hwcloud.core: headers");
  for (p = 0; p < n; p = next) {
    const char *nl = memchr(s + p, '\n', n - p);
    size_t ln = nl != NULL ? (size_t)(nl - (s + p)) : n - p;
    next = p + ln + 1;
    if (ln > 0 && s[p + ln - 1] == '\r') ln--;
    if (ln == 0) break; /* the empty line */
    if (++lines > max_lines) break;
    head_add(L, t, &lists, s + p, ln);
  }
  if (lists != 0) head_join(L, t, lists);
  lua_settop(L, t);
  return lines > max_lines ? -1 : 0;
}

/* false, msg: a head that is refused */
static int refuse(lua_State *L, const char *msg) {
  lua_settop(L, 1);
  lua_pushboolean(L, 0);
  lua_pushstring(L, msg);
  return 2;
}

/* core.parse_head(s, init, max_status, max_bytes, max_lines) ->
**   status, version, headers, next  (next: the index after the head)
**   | nil                            (no empty line yet)
**   | false, message                 (a bad status line; over a limit) */
static int l_parse_head(lua_State *L) {
  size_t n, p, end, max_status, max_bytes;
  const char *s = luaL_checklstring(L, 1, &n);
  lua_Integer init = luaL_optinteger(L, 2, 1);
  lua_Integer max_lines;
  max_status = (size_t)luaL_checkinteger(L, 3);
  max_bytes = (size_t)luaL_checkinteger(L, 4);
  max_lines = luaL_checkinteger(L, 5);
  if (init < 1 || (size_t)init > n + 1) return luaL_argerror(L, 2, "out of range");
  p = (size_t)init - 1;
  end = head_end(s, p, n);
  if (end == 0) {
    lua_pushnil(L);
    return 1;
  }
  lua_settop(L, 1);
  {
    const char *nl = memchr(s + p, '\n', end - p);
    size_t ln = (size_t)(nl - (s + p));
    int status;
    if (ln > 0 && s[p + ln - 1] == '\r') ln--;
    status = ln <= max_status ? status_of((const unsigned char *)s + p, ln) : 0;
    if (status == 0) return refuse(L, "bad status line");
    lua_pushinteger(L, status);
    lua_pushlstring(L, s + p + 5, 3);
    p = (size_t)(nl - s) + 1;
  }
  /* the header lines and the empty line that ends them */
  if (end - p > max_bytes + 2) return refuse(L, "response headers too large");
  if (hwc_head_push(L, s + p, end - p, max_lines) != 0)
    return refuse(L, "too many response header lines");
  lua_pushinteger(L, (lua_Integer)end + 1);
  return 4;
}

void hwc_open_head(lua_State *L) {
  lua_pushcfunction(L, l_parse_head);
  lua_setfield(L, -2, "parse_head");
}
