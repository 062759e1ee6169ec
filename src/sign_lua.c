/*
** sign_lua.c -- the signer's Lua face: core.sign. Reads and checks the
** arguments, hands spans of them to sign.c, pushes the signed headers as
** "Name: value" lines.
**
** Ownership: the signer lives in one userdata shared by the functions as
** an upvalue, so a Lua error raised at any point leaks nothing. Spans
** point into the Lua argument strings, which stay on the stack for the
** whole call. From the headers' pass to pushing the results no Lua
** allocation happens (but for an error's message, which ends the call), so
** no finalizer can re-enter the signer while its buffers are in use.
*/
#include <string.h>
#include <time.h>

#include "hwcloud.h"

#define SIGNER_MT "hwcloud.signer"
#define DATE_LEN 16 /* YYYYMMDDTHHMMSSZ */
#define TOKEN_HEADER "X-Security-Token"
#define LIT(s) ((hwc_slice){(s), sizeof(s) - 1})

/* one call: the request for sign.c and what only this side needs */
typedef struct call {
  hwc_sign_req req;
  hwc_url url;
  hwc_slice token; /* p == NULL: none */
  int has_host;
  char date_buf[DATE_LEN + 1]; /* X-Sdk-Date when made here */
} call;

static int signer_gc(lua_State *L) {
  hwc_signer_free((hwc_signer *)lua_touserdata(L, 1));
  return 0;
}

/* ---- checking the arguments ----------------------------------------- */

static int input_error(lua_State *L, const char *field, const char *msg) {
  lua_pushnil(L);
  lua_pushstring(L, field);
  lua_pushstring(L, msg);
  return 3;
}

/* the message names a bad header: "header 'name" then what is wrong (the
** name may hold any byte, so it is concatenated, not formatted) */
static int bad_header(lua_State *L, hwc_slice name, const char *what) {
  lua_pushnil(L);
  lua_pushliteral(L, "headers");
  lua_pushliteral(L, "header '");
  lua_pushlstring(L, name.p, name.n);
  lua_pushstring(L, what);
  lua_concat(L, 3);
  return 3;
}

/* a header name the API refuses: empty, or with a control character, a
** space or ':'; a value: with CR, LF or NUL */
static int bad_line(const char *k, size_t kn, const char *v, size_t vn) {
  return kn == 0 || hwc_has_ctl(k, kn, 1) || memchr(k, ':', kn) != NULL ||
         memchr(v, '\r', vn) || memchr(v, '\n', vn) || memchr(v, '\0', vn);
}

/* the number values of the headers table at 3 as strings, in a copy that
** replaces it (the caller's table is left alone) */
static void numbers_to_strings(lua_State *L) {
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, 3) != 0) {
    if (lua_type(L, -1) == LUA_TNUMBER) lua_tolstring(L, -1, NULL);
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -4);
  }
  lua_replace(L, 3);
}

/* ak or sk at idx: a non-empty string without control characters */
static int check_key(lua_State *L, int idx, const char *field,
                     hwc_slice *out) {
  if (lua_type(L, idx) != LUA_TSTRING || lua_rawlen(L, idx) == 0)
    return input_error(L, field, "is required");
  out->p = lua_tolstring(L, idx, &out->n);
  if (hwc_has_ctl(out->p, out->n, 0))
    return input_error(L, field, "must not contain control characters");
  return 0;
}

/* the algorithm (10) by its Authorization name, HWC_ALG_SHA256 for nil, 3
** for none of them */
static int algorithm_of(lua_State *L) {
  size_t n = 0;
  const char *a;
  int alg;
  if (lua_isnil(L, 10)) return HWC_ALG_SHA256;
  a = lua_type(L, 10) == LUA_TSTRING ? lua_tolstring(L, 10, &n) : "";
  for (alg = 0; alg < 3; alg++)
    if (n == strlen(hwc_alg_names[alg]) &&
        memcmp(a, hwc_alg_names[alg], n) == 0)
      break;
  return alg;
}

static int is_space(unsigned char ch) {
  return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\v' ||
         ch == '\f';
}

static hwc_slice trim(const char *p, size_t n) {
  while (n > 0 && is_space((unsigned char)p[0])) p++, n--;
  while (n > 0 && is_space((unsigned char)p[n - 1])) n--;
  return (hwc_slice){p, n};
}

static int name_is(hwc_slice name, const char *lower_lit) {
  return name.n == strlen(lower_lit) && hwc_ieq(name.p, lower_lit, name.n);
}

/* whether name is the caller's X-Security-Token, which the token replaces */
static int replaced(const call *c, hwc_slice name) {
  return c->token.p != NULL && name.n == sizeof(TOKEN_HEADER) - 1 &&
         memcmp(name.p, TOKEN_HEADER, name.n) == 0;
}

#define NUMBERS 4 /* add_headers met a number value the call may sign */

/* the caller's headers (3) checked and added to the signer in one pass:
** string names, string values (or, checked, numbers: NUMBERS, to be
** turned into strings first), nothing that would break a header line.
** Host, X-Sdk-Date and X-Sdk-Content-Sha256 (-Sm3) are noted; with a
** security token, an X-Security-Token entry is left out (the token
** replaces it). 0, 3 (nil, field, message), NUMBERS, or -1 when out of
** memory. */
static int add_headers(lua_State *L, hwc_signer *s, call *c) {
  int numbers_ok = c->req.upper_method;
  lua_pushnil(L);
  while (lua_next(L, 3) != 0) {
    int vt = lua_type(L, -1);
    hwc_slice name, value;
    if (lua_type(L, -2) != LUA_TSTRING)
      return input_error(L, "headers", "names must be strings");
    if (vt == LUA_TNUMBER && numbers_ok) return NUMBERS;
    name.p = lua_tolstring(L, -2, &name.n);
    if (vt != LUA_TSTRING)
      return bad_header(L, name, numbers_ok ? "' must be a string or a number"
                                            : "' must be a string");
    value.p = lua_tolstring(L, -1, &value.n);
    if (bad_line(name.p, name.n, value.p, value.n))
      return bad_header(L, name, "' has a bad name or value");
    lua_pop(L, 1);
    if (replaced(c, name)) continue;
    value = trim(value.p, value.n);
    if (hwc_signer_add(s, name, value) != 0) return -1;
    if (name_is(name, "host")) c->has_host = 1;
    else if (name_is(name, "x-sdk-date")) c->req.date = value;
    else if (name_is(name, c->req.alg == HWC_ALG_SM3 ? "x-sdk-content-sm3"
                                                      : "x-sdk-content-sha256"))
      c->req.content_hash = value;
  }
  return 0;
}

/* method, url, headers, body, ak, sk, headers' entries, algorithm and
** scope, security_token: checked in the order the public API has always
** checked them, the headers added to the signer on the way (number values
** only in the checked form). 0 when good, 3 (nil, field, message) when
** not, -1 when out of memory. */
static int read_call(lua_State *L, hwc_signer *s, call *c, int url_flags) {
  hwc_sign_req *r = &c->req;
  const char *msg, *url;
  size_t n;
  int rc;
  if (lua_type(L, 1) != LUA_TSTRING || lua_rawlen(L, 1) == 0)
    return input_error(L, "method", "expected a non-empty string");
  r->method.p = lua_tolstring(L, 1, &r->method.n);
  if (lua_type(L, 2) != LUA_TSTRING)
    return input_error(L, "url", "must be an absolute URL with a host");
  url = lua_tolstring(L, 2, &n);
  /* the message names the rule only: a URL may carry a password */
  if ((msg = hwc_url_parse(url, n, url_flags, &c->url)) != NULL)
    return input_error(L, "url", msg);
  r->path = c->url.path;
  r->query = c->url.query;
  if (!lua_isnil(L, 3) && !lua_istable(L, 3))
    return input_error(L, "headers", "expected a table");
  r->body.p = "";
  if (!lua_isnil(L, 4)) {
    if (lua_type(L, 4) != LUA_TSTRING)
      return input_error(L, "body", "expected a string");
    r->body.p = lua_tolstring(L, 4, &r->body.n);
  }
  if ((rc = check_key(L, 5, "ak", &r->ak)) != 0 ||
      (rc = check_key(L, 6, "sk", &r->sk)) != 0)
    return rc;
  /* what the headers' pass needs; their errors come after its own */
  r->alg = algorithm_of(L);
  if (lua_type(L, 7) == LUA_TSTRING)
    c->token.p = lua_tolstring(L, 7, &c->token.n);
  if (!lua_isnil(L, 3))
    while ((rc = add_headers(L, s, c)) == NUMBERS) {
      lua_pop(L, 2);
      numbers_to_strings(L);
      s->nhdrs = 0;
      c->has_host = 0;
      r->date.p = r->content_hash.p = NULL;
    }
  if (rc != 0) return rc;
  if (r->alg == 3)
    return input_error(L, "sign_algorithm",
                       "must be SDK-HMAC-SHA256, SDK-HMAC-SM3 or "
                       "V11-HMAC-SHA256");
  if (r->alg == HWC_ALG_V11) {
    if (lua_type(L, 11) == LUA_TSTRING)
      r->scope.p = lua_tolstring(L, 11, &r->scope.n);
    if (r->scope.n == 0 || r->scope.n > HWC_SCOPE_MAX ||
        hwc_has_ctl(r->scope.p, r->scope.n, 1))
      return input_error(L, "sign_scope",
                         "V11-HMAC-SHA256 needs \"region/service\" (at most "
                         "200 bytes, no spaces or control characters)");
  }
  if (!lua_isnil(L, 7) && c->token.p == NULL)
    return input_error(L, "security_token", "expected a string");
  if (c->token.p != NULL && hwc_has_ctl(c->token.p, c->token.n, 0))
    return input_error(L, "security_token",
                       "must not contain control characters");
  return 0;
}

/* Host, X-Sdk-Date (UTC now) and X-Security-Token when the caller did not
** give them (-1 when out of memory, -2 when the clock cannot be read) */
static int add_own_headers(hwc_signer *s, call *c) {
  if (c->token.p != NULL &&
      hwc_signer_add(s, LIT(TOKEN_HEADER), trim(c->token.p, c->token.n)) != 0)
    return -1;
  if (!c->has_host && hwc_signer_add(s, LIT("host"), c->url.hostport) != 0)
    return -1;
  if (c->req.date.p == NULL) {
    struct tm tm;
    time_t t = time(NULL);
    if (t == (time_t)-1) return -2;
    if (s->date[0] == '\0' || (long long)t != s->date_at) {
      if (gmtime_r(&t, &tm) == NULL ||
          strftime(s->date, sizeof s->date, "%Y%m%dT%H%M%SZ", &tm) != DATE_LEN)
        return -2;
      s->date_at = (long long)t;
    }
    /* a copy: a finalizer run while the lines are pushed may sign again */
    memcpy(c->date_buf, s->date, DATE_LEN);
    c->req.date = (hwc_slice){c->date_buf, DATE_LEN};
    if (hwc_signer_add(s, LIT("x-sdk-date"), c->req.date) != 0) return -1;
  }
  return 0;
}

/* ---- the result ----------------------------------------------------- */

/* one "Name: value" line as entry *n + 1 of the list at out (short lines,
** most of them, are put together on the C stack) */
static void add_line(lua_State *L, int out, int *n, hwc_slice name,
                     hwc_slice v) {
  char tmp[256];
  if (name.n + v.n + 2 <= sizeof tmp) {
    memcpy(tmp, name.p, name.n);
    tmp[name.n] = ':';
    tmp[name.n + 1] = ' ';
    memcpy(tmp + name.n + 2, v.p, v.n);
    lua_pushlstring(L, tmp, name.n + 2 + v.n);
  } else {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, name.p, name.n);
    luaL_addlstring(&b, ": ", 2);
    luaL_addlstring(&b, v.p, v.n);
    luaL_pushresult(&b);
  }
  lua_rawseti(L, out, ++*n);
}

/* the caller's headers (but an X-Security-Token the token replaces), then
** Host, X-Sdk-Date (when made here), X-Security-Token and Authorization, as
** "Name: value" lines in a new list that starts with the entries of the
** list at prefix (0: none), room made for nh more; the Authorization value
** is on top of the stack */
static void push_lines(lua_State *L, const call *c, int prefix, int nh) {
  int auth = lua_gettop(L), out, n = 0, i;
  int np = prefix != 0 ? (int)lua_rawlen(L, prefix) : 0;
  hwc_slice k, v;
  lua_createtable(L, np + nh, 0);
  out = lua_gettop(L);
  for (i = 1; i <= np; i++) {
    lua_rawgeti(L, prefix, i);
    lua_rawseti(L, out, ++n);
  }
  if (!lua_isnil(L, 3)) {
    lua_pushnil(L);
    while (lua_next(L, 3) != 0) {
      k.p = lua_tolstring(L, -2, &k.n);
      v.p = lua_tolstring(L, -1, &v.n);
      if (!replaced(c, k)) add_line(L, out, &n, k, v);
      lua_pop(L, 1);
    }
  }
  if (!c->has_host) add_line(L, out, &n, LIT("Host"), c->url.hostport);
  if (c->req.date.p == c->date_buf)
    add_line(L, out, &n, LIT("X-Sdk-Date"), c->req.date);
  if (c->token.p != NULL) add_line(L, out, &n, LIT(TOKEN_HEADER), c->token);
  v.p = lua_tolstring(L, auth, &v.n);
  add_line(L, out, &n, LIT("Authorization"), v);
}

/* core.sign(method, url, headers, body, ak, sk[, security_token[, prefix
** [, checked[, algorithm[, scope]]]]]) -> list | nil, field, message: the
** one entry point. The list is prefix's entries (the lines every request
** starts with), then the signed headers as "Name: value" lines: what a
** transport sends. checked is hwcloud.sign's form: the method upper-cased,
** number header values signed as tostring gives them, spaces and control
** characters in the URL refused; it gives, for the map hwcloud.sign makes
** of the caller's headers, the values of Authorization and of the
** X-Sdk-Date and Host added here (nil when given) instead of the list. */
static int l_sign(lua_State *L) {
  hwc_signer *s = (hwc_signer *)lua_touserdata(L, lua_upvalueindex(1));
  int checked = lua_toboolean(L, 9);
  call c;
  hwc_slice auth;
  int rc, nh;
  /* a finalizer run at lua_close may call us after our own __gc */
  if (s->ctx == NULL)
    return luaL_error(L, "hwcloud.core: signer state is closed");
  lua_settop(L, 11);
  if (!lua_isnil(L, 8)) luaL_checktype(L, 8, LUA_TTABLE);
  memset(&c, 0, sizeof c);
  c.req.upper_method = checked;
  s->nhdrs = 0; /* a call cut short by an error left nothing to reuse */
  rc = read_call(L, s, &c, checked ? 0 : HWC_URL_LAX);
  if (rc > 0) return rc;
  if (rc == 0) rc = add_own_headers(s, &c);
  if (rc == 0) rc = hwc_sign(s, &c.req, &auth);
  if (rc == HWC_SIGN_TWICE) {
    hwc_signer_done(s);
    /* the name is a Lua string or a literal: NUL-terminated */
    return input_error(L, "headers", lua_pushfstring(L, "header '%s' given "
                       "twice (names are case-insensitive)", auth.p));
  }
  if (rc == 0) lua_pushlstring(L, auth.p, auth.n);
  nh = (int)s->nhdrs + 1;
  hwc_signer_done(s);
  if (rc == -2) return luaL_error(L, "hwcloud.core: cannot read the UTC time");
  if (rc != 0)
    return luaL_error(L, "hwcloud.core: signing failed (out of memory or "
                         "digest error)");
  if (!checked) {
    push_lines(L, &c, lua_isnil(L, 8) ? 0 : 8, nh);
    return 1;
  }
  if (c.req.date.p == c.date_buf)
    lua_pushlstring(L, c.req.date.p, c.req.date.n);
  else lua_pushnil(L);
  if (!c.has_host) lua_pushlstring(L, c.url.hostport.p, c.url.hostport.n);
  else lua_pushnil(L);
  return 3;
}

void hwc_open_sign(lua_State *L) {
  static const luaL_Reg funcs[] = {{"sign", l_sign}, {NULL, NULL}};
  hwc_signer *s = (hwc_signer *)lua_newuserdatauv(L, sizeof *s, 0);
  memset(s, 0, sizeof *s);
  /* the metatable goes on before anything is allocated, so __gc frees
  ** whatever part of the set-up succeeded */
  if (luaL_newmetatable(L, SIGNER_MT)) {
    lua_pushcfunction(L, signer_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  if (hwc_signer_init(s) != 0)
    luaL_error(L, "hwcloud.core: cannot set up SHA-256");
  luaL_setfuncs(L, funcs, 1);
}
