/*
** marshal.c -- core.build: validate a request against its operation schema,
** then produce "path?query" and the JSON body.
**
** Memory: build's output buffers live in a userdata held as its upvalue.
** An error raised anywhere (out of memory, a malformed schema) therefore
** cannot leak them, and a warm call allocates nothing on the C heap. build
** reads tables with raw accesses only; the ways back into Lua are an
** operation's first build (its plan, see plan_of) and a finalizer run by
** an allocation, which l_build handles (see there). No
** global state: each lua_State that loads the module gets its own buffers.
**
** The JSON writer's pieces (escaping, UTF-8, numbers) are in json.c.
**
** Errors: a request that breaks the schema returns nil, field, rule and,
** for three rules, what lua/hwcloud/marshal.lua words the message from
** (an error path: the wording is not C's business); only the library's
** own misuse (op not a table, malformed schema) raises.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hwcloud.h"

#define MARSHAL_STATE_MT "hwcloud.marshal.state"

/* tables nested deeper than this are refused; also stops cycles */
#define MAX_DEPTH 64
/* a buffer that grew beyond this is released after the call, so one huge
** body does not pin memory for the life of the process */
#define KEEP_CAP (64 * 1024)

/* build's buffers: the outputs, then the error's field path */
enum { B_PATH, B_QUERY, B_BODY, B_FIELD, B_COUNT };
/* l_build_body's stack slots for what an error's wording needs */
enum { ERR_DETAIL = 5, ERR_VALUE = 6 };
typedef struct mstate {
  hwc_buf b[B_COUNT];
  int busy; /* a build is using these buffers */
} mstate;

/* schema types */
enum { K_STRING, K_INTEGER, K_NUMBER, K_BOOLEAN, K_ARRAY, K_OBJECT, K_FREE,
       K_MAP, K_ANY };
/* field locations: a body field, the query, the path, a request header
** (validated here, sent by the caller), or the whole body itself; the
** numbers of hwcloud.marshal's LOCATIONS */
enum { LOC_BODY, LOC_QUERY, LOC_PATH, LOC_HEADER, LOC_WHOLE };
/* shapes of a Lua table seen as JSON */
enum { TC_EMPTY, TC_ARRAY, TC_OBJECT, TC_MIXED };

/* one step of the field path: a key, or a 1-based index when key is NULL */
typedef struct seg {
  const char *key;
  size_t len;
  long long idx;
} seg;

typedef struct ctx {
  lua_State *L;
  mstate *st;
  int nbody; /* body fields written so far */
  int whole; /* the body was given whole (location "whole_body") */
  int locs;  /* stack index of the plan's top-level locations */
  const char *rule; /* the rule broken, a literal */
  int nseg;
  seg segs[MAX_DEPTH + 2];
} ctx;

/* ---------------------------------------------------------------- helpers */

static void need(lua_State *L, int rc) {
  if (rc != 0) luaL_error(L, "hwcloud.core: not enough memory");
}

/* a malformed schema or op: the library's own bug, so raise. Not
** luaL_argerror: the body runs under lua_pcall, where it cannot name us. */
static HWC_NORETURN void misuse(lua_State *L, const char *msg) {
  luaL_error(L, "bad argument #1 to 'build' (%s)", msg);
  abort(); /* not reached: luaL_error raises */
}

static void put(ctx *c, hwc_buf *b, const char *p, size_t n) {
  need(c->L, hwc_buf_add(b, p, n));
}

static void putc_(ctx *c, hwc_buf *b, char ch) {
  need(c->L, hwc_buf_addc(b, ch));
}

static void puts_(ctx *c, hwc_buf *b, const char *s) {
  need(c->L, hwc_buf_adds(b, s));
}

static void put_urlenc(ctx *c, hwc_buf *b, const char *s, size_t n) {
  need(c->L, hwc_buf_add_urlenc(b, s, n));
}

/* Schema keys, kept as upvalues 2.. of build's body:
** pushing an upvalue is cheaper than interning the C string again on every
** lookup (LuaJIT hashes it each time). */
enum { KEY_TYPE, KEY_FIELDS, KEY_ORDER, KEY_REQUIRED, KEY_ENUM, KEY_ITEMS,
       KEY_VALUES, KEY_COUNT };
static const char *const key_names[KEY_COUNT] = {
    "type", "fields", "order", "required", "enum", "items", "values"};

/* pushes t[key] without metamethods; returns its type. t must be an
** absolute index. */
static int rawgetk(lua_State *L, int t, int key) {
  lua_pushvalue(L, lua_upvalueindex(2 + key));
  lua_rawget(L, t);
  return lua_type(L, -1);
}

static int is_null(lua_State *L, int idx) {
  return lua_type(L, idx) == LUA_TLIGHTUSERDATA &&
         lua_touserdata(L, idx) == NULL;
}

/* an integer, or a float with an integral value that fits in 64 bits */
static int as_integer(lua_State *L, int idx, long long *out) {
  lua_Number d;
  if (lua_type(L, idx) != LUA_TNUMBER) return 0;
#if LUA_VERSION_NUM >= 503
  if (lua_isinteger(L, idx)) {
    *out = (long long)lua_tointeger(L, idx);
    return 1;
  }
#endif
  d = lua_tonumber(L, idx);
  /* the comparisons also turn NaN away; the cast is defined in range */
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return 0;
  if ((lua_Number)(long long)d != d) return 0;
  *out = (long long)d;
  return 1;
}

static void json_string(ctx *c, hwc_buf *b, const char *s, size_t n) {
  need(c->L, hwc_json_string(b, s, n) == -1);
}

static void put_int(ctx *c, hwc_buf *b, long long v) {
  char tmp[24];
  put(c, b, tmp, hwc_fmt_int(v, tmp));
}

static void put_double(ctx *c, hwc_buf *b, double d) {
  char tmp[40];
  put(c, b, tmp, hwc_fmt_double(d, tmp));
}

/* ----------------------------------------------------------------- schema */

/* the schema's type; raises on a malformed schema */
static int kind_of(lua_State *L, int s) {
  const char *t;
  int k = -1;
  if (lua_type(L, s) != LUA_TTABLE) misuse(L, "schema is not a table");
  if (rawgetk(L, s, KEY_TYPE) == LUA_TSTRING) {
    t = lua_tostring(L, -1);
    if (strcmp(t, "string") == 0) k = K_STRING;
    else if (strcmp(t, "integer") == 0) k = K_INTEGER;
    else if (strcmp(t, "number") == 0) k = K_NUMBER;
    else if (strcmp(t, "boolean") == 0) k = K_BOOLEAN;
    else if (strcmp(t, "array") == 0) k = K_ARRAY;
    else if (strcmp(t, "any") == 0) k = K_ANY;
    else if (strcmp(t, "map") == 0) k = K_MAP;
    else if (strcmp(t, "object") == 0) k = K_FREE;
  }
  lua_pop(L, 1);
  if (k == K_FREE) {
    if (rawgetk(L, s, KEY_FIELDS) == LUA_TTABLE) k = K_OBJECT;
    lua_pop(L, 1);
  }
  if (k < 0) misuse(L, "schema has a missing or unknown type");
  return k;
}

static int is_required(lua_State *L, int fs) {
  int r;
  rawgetk(L, fs, KEY_REQUIRED);
  r = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return r;
}

/* ----------------------------------------------------------------- errors */

/* one step down the field path: a key, or the index idx when key is NULL */
static void seg_push(ctx *c, const char *key, size_t len, long long idx) {
  seg *g = &c->segs[c->nseg++];
  g->key = key;
  g->len = len;
  g->idx = idx;
}

/* records the current path as the error's field and the rule it broke.
** Always returns -1 so callers can `return fail(c, rule)`. */
static int fail(ctx *c, const char *rule) {
  hwc_buf *f = &c->st->b[B_FIELD];
  int i;
  c->rule = rule;
  hwc_buf_reset(f);
  if (c->nseg == 0) puts_(c, f, "request");
  for (i = 0; i < c->nseg; i++) {
    const seg *g = &c->segs[i];
    if (g->key != NULL) {
      if (i > 0) putc_(c, f, '.');
      put(c, f, g->key, g->len);
    } else {
      putc_(c, f, '[');
      put_int(c, f, g->idx);
      putc_(c, f, ']');
    }
  }
  return -1;
}

/* a rule whose message names more than the field: the values at detail
** and v go back with it (0: none) */
static int fail_with(ctx *c, const char *rule, int detail, int v) {
  lua_State *L = c->L;
  if (detail != 0) {
    lua_pushvalue(L, detail);
    lua_replace(L, ERR_DETAIL);
  }
  if (v != 0) {
    lua_pushvalue(L, v);
    lua_replace(L, ERR_VALUE);
  }
  return fail(c, rule);
}

/* "expected <what>, got ...", worded from the value */
static int type_error(ctx *c, const char *expected, int v) {
  lua_pushstring(c->L, expected);
  return fail_with(c, "expected", lua_gettop(c->L), v);
}

/* a string value: checked as UTF-8 and, with an output, written in the
** same pass (0 | -1 with the error set) */
static int string_value(ctx *c, hwc_buf *out, const char *s, size_t n) {
  int rc = out == NULL ? (hwc_utf8_valid(s, n) ? 0 : -2)
                       : hwc_json_string(out, s, n);
  need(c->L, rc == -1);
  return rc == 0 ? 0 : fail(c, "must be valid UTF-8");
}

/* a table's JSON shape: keys exactly 1..n is an array, all-string keys an
** object, anything else mixed */
static int table_class(lua_State *L, int t) {
  size_t len = (size_t)lua_rawlen(L, t), nint = 0;
  int str = 0, other = 0;
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    long long k;
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) str = 1;
    else if (hwc_isinteger(L, -1) && as_integer(L, -1, &k) && k >= 1 &&
             (size_t)k <= len)
      nint++;
    else other = 1;
  }
  if (!str && !other && nint == 0) return TC_EMPTY;
  if (!other && nint == 0) return TC_OBJECT;
  if (!str && !other && nint == len) return TC_ARRAY;
  return TC_MIXED;
}

static int check_enum(ctx *c, int s, const char *str, size_t n) {
  lua_State *L = c->L;
  int e, i, len;
  if (rawgetk(L, s, KEY_ENUM) != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  e = lua_gettop(L);
  len = (int)lua_rawlen(L, e);
  for (i = 1; i <= len; i++) {
    size_t en;
    const char *es;
    lua_rawgeti(L, e, i);
    es = lua_tolstring(L, -1, &en);
    if (es != NULL && lua_type(L, -1) == LUA_TSTRING && en == n &&
        memcmp(es, str, n) == 0) {
      lua_pop(L, 2);
      return 0;
    }
    lua_pop(L, 1);
  }
  return fail_with(c, "must be one of", e, 0);
}

/* every key of a closed object must be a declared field. Runs before the
** fields are checked: a misspelt key explains a missing field better than
** "is required". Of several unknown keys the smallest is reported, so the
** answer does not depend on table iteration order. */
static int check_keys(ctx *c, int fields, int order, int v) {
  lua_State *L = c->L;
  int best;
  lua_pushnil(L); /* slot for the smallest unknown key */
  best = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, v) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) {
      lua_pop(L, 2);
      return fail(c, "keys must be strings");
    }
    lua_pushvalue(L, -1);
    lua_rawget(L, fields);
    if (lua_isnil(L, -1)) {
      size_t kl, bl;
      const char *k = lua_tolstring(L, -2, &kl), *b;
      int smaller = 1;
      if (lua_type(L, best) == LUA_TSTRING) {
        int cmp;
        b = lua_tolstring(L, best, &bl);
        cmp = memcmp(k, b, kl < bl ? kl : bl);
        smaller = cmp < 0 || (cmp == 0 && kl < bl);
      }
      if (smaller) {
        lua_pushvalue(L, -2);
        lua_replace(L, best);
      }
    }
    lua_pop(L, 1);
  }
  if (lua_type(L, best) == LUA_TSTRING) {
    size_t kl;
    const char *k = lua_tolstring(L, best, &kl);
    seg_push(c, k, kl, 0); /* the known names go back for "did you mean" */
    return fail_with(c, "unknown field", order, best);
  }
  lua_pop(L, 1);
  return 0;
}

/* ---------------------------------------------------------- validate+emit */

static int emit_kind(ctx *c, int s, int kind, int v, hwc_buf *out);

/* one level down: refused past MAX_DEPTH (also stops cycles) */
static int deeper(ctx *c) {
  if (c->nseg > MAX_DEPTH) return fail(c, "nested too deep");
  luaL_checkstack(c->L, 12, "hwcloud.core.build: nesting");
  return 0;
}

/* v must be a table and not a sequence */
static int check_object(ctx *c, int v) {
  if (lua_type(c->L, v) != LUA_TTABLE) return type_error(c, "object", v);
  if (deeper(c) != 0) return -1;
  if (lua_rawlen(c->L, v) > 0 && table_class(c->L, v) == TC_ARRAY)
    return fail(c, "expected object, got array");
  return 0;
}

/* "name": inside an object, after a comma unless it is the first */
static void member_key(ctx *c, hwc_buf *out, int *count, const char *k,
                       size_t kl) {
  if ((*count)++ > 0) putc_(c, out, ',');
  json_string(c, out, k, kl);
  putc_(c, out, ':');
}

/* v[1..n], each checked against the schema at is (of kind ikind) */
static int emit_items(ctx *c, int is, int ikind, int v, int n, hwc_buf *out) {
  lua_State *L = c->L;
  int i, rc = 0;
  if (out) putc_(c, out, '[');
  for (i = 1; i <= n && rc == 0; i++) {
    if (out && i > 1) putc_(c, out, ',');
    lua_rawgeti(L, v, i);
    seg_push(c, NULL, 0, i);
    rc = emit_kind(c, is, ikind, lua_gettop(L), out);
    c->nseg--;
    lua_pop(L, 1);
  }
  if (rc == 0 && out) putc_(c, out, ']');
  return rc;
}

/* the members of an object: string keys in UTF-8, each value checked
** against the schema at vs (of kind vkind) */
static int emit_members(ctx *c, int vs, int vkind, int v, hwc_buf *out) {
  lua_State *L = c->L;
  int count = 0;
  if (out) putc_(c, out, '{');
  lua_pushnil(L);
  while (lua_next(L, v) != 0) {
    size_t kl;
    const char *k;
    if (lua_type(L, -2) != LUA_TSTRING) return fail(c, "keys must be strings");
    k = lua_tolstring(L, -2, &kl);
    if (!hwc_utf8_valid(k, kl)) return fail(c, "keys must be valid UTF-8");
    if (out) member_key(c, out, &count, k, kl);
    seg_push(c, k, kl, 0);
    if (emit_kind(c, vs, vkind, lua_gettop(L), out) != 0) return -1;
    c->nseg--;
    lua_pop(L, 1);
  }
  if (out) putc_(c, out, '}');
  return 0;
}

/* any JSON value; used by free-form objects and `any`. A non-empty sequence
** is an array, an empty table {} (the schema said nothing more). */
static int emit_any(ctx *c, int v, hwc_buf *out) {
  lua_State *L = c->L;
  switch (lua_type(L, v)) {
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, v, &n);
      return string_value(c, out, s, n);
    }
    case LUA_TBOOLEAN:
      if (out) puts_(c, out, lua_toboolean(L, v) ? "true" : "false");
      return 0;
    case LUA_TNUMBER: {
      long long i;
      double d;
      if (hwc_isinteger(L, v) && as_integer(L, v, &i)) {
        if (out) put_int(c, out, i);
        return 0;
      }
      d = (double)lua_tonumber(L, v);
      if (!isfinite(d)) return fail(c, "must be a finite number");
      if (out) put_double(c, out, d);
      return 0;
    }
    case LUA_TLIGHTUSERDATA:
      if (is_null(L, v)) {
        if (out) puts_(c, out, "null");
        return 0;
      }
      break;
    case LUA_TTABLE: {
      int n = (int)lua_rawlen(L, v);
      if (deeper(c) != 0) return -1;
      /* no array part means no sequence: skip the classifying pass */
      switch (n > 0 ? table_class(L, v) : TC_OBJECT) {
        case TC_ARRAY: return emit_items(c, 0, K_ANY, v, n, out);
        case TC_MIXED: return fail(c, "keys must be strings");
        default: return emit_members(c, 0, K_ANY, v, out);
      }
    }
    default:
      break;
  }
  return type_error(c, "JSON value", v);
}

/* a map: string keys, each value checked against `values` (any when the
** schema names none); an empty table is {} */
static int emit_map(ctx *c, int s, int v, hwc_buf *out) {
  lua_State *L = c->L;
  int values, rc;
  if (check_object(c, v) != 0) return -1;
  rawgetk(L, s, KEY_VALUES);
  values = lua_gettop(L);
  rc = emit_members(c, values, lua_isnil(L, values) ? K_ANY : kind_of(L, values),
                    v, out);
  lua_settop(L, values - 1);
  return rc;
}

static int emit_array(ctx *c, int s, int v, hwc_buf *out) {
  lua_State *L = c->L;
  int items, rc, cls;
  if (lua_type(L, v) != LUA_TTABLE) return type_error(c, "array", v);
  if (deeper(c) != 0) return -1;
  cls = table_class(L, v);
  if (cls != TC_EMPTY && cls != TC_ARRAY)
    return fail(c, "expected array, got object");
  rawgetk(L, s, KEY_ITEMS);
  items = lua_gettop(L);
  rc = emit_items(c, items, lua_isnil(L, items) ? K_ANY : kind_of(L, items), v,
                  cls == TC_EMPTY ? 0 : (int)lua_rawlen(L, v), out);
  lua_settop(L, items - 1);
  return rc;
}

/* writes "name": into the top-level body, opening it on the first field */
static void body_key(ctx *c, const char *name, size_t n) {
  hwc_buf *b = &c->st->b[B_BODY];
  putc_(c, b, c->nbody++ == 0 ? '{' : ',');
  json_string(c, b, name, n);
  putc_(c, b, ':');
}

/* a path parameter: a non-empty string that is not . or .., or an integer
** (a parameter described as any value takes those too) */
static int check_path_value(ctx *c, int fs, int kind, int v) {
  lua_State *L = c->L;
  long long i;
  if (kind == K_ANY) kind = lua_type(L, v) == LUA_TSTRING ? K_STRING : K_INTEGER;
  if (kind != K_STRING && kind != K_INTEGER)
    return fail(c, "cannot be sent in a path (only a string or an integer can)");
  if (lua_type(L, v) == LUA_TSTRING) {
    size_t n;
    const char *s = lua_tolstring(L, v, &n);
    if (kind == K_INTEGER) return type_error(c, "integer", v);
    if (!hwc_utf8_valid(s, n)) return fail(c, "must be valid UTF-8");
    if (n == 0) return fail(c, "must not be empty");
    if (s[0] == '.' && (n == 1 || (n == 2 && s[1] == '.')))
      return fail(c, "must not be '.' or '..'");
    return check_enum(c, fs, s, n);
  }
  if (as_integer(L, v, &i)) return 0;
  return type_error(c, kind == K_INTEGER ? "integer" : "string", v);
}

/* a request header: a scalar without CR or LF (the caller sends it) */
static int header_field(ctx *c, int fs, int kind, int v) {
  lua_State *L = c->L;
  if (kind != K_STRING && kind != K_INTEGER && kind != K_NUMBER &&
      kind != K_BOOLEAN && kind != K_ANY)
    misuse(L, "header parameters must be scalars");
  if (lua_type(L, v) == LUA_TTABLE) return type_error(c, "string", v);
  if (emit_kind(c, fs, kind, v, NULL) != 0) return -1;
  if (lua_type(L, v) == LUA_TSTRING) {
    size_t n, i;
    const char *s = lua_tolstring(L, v, &n);
    for (i = 0; i < n; i++)
      if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
        return fail(c, "must not contain CR, LF or NUL");
  }
  return 0;
}

/* one k=v pair of the query string; the value is already validated. A
** table (a parameter described as a map or an object) has no query form:
** the official SDKs send its Python or Go print-out. */
static int query_pair(ctx *c, const char *name, size_t nlen, int kind,
                      int v) {
  lua_State *L = c->L;
  hwc_buf *q = &c->st->b[B_QUERY];
  long long i;
  if (is_null(L, v)) return 0;
  if (lua_type(L, v) == LUA_TTABLE)
    return fail(c, "cannot be sent in a query (only scalars and arrays of scalars can)");
  putc_(c, q, q->len == 0 ? '?' : '&');
  put_urlenc(c, q, name, nlen);
  putc_(c, q, '=');
  switch (lua_type(L, v)) {
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, v, &n);
      put_urlenc(c, q, s, n);
      return 0;
    }
    case LUA_TBOOLEAN:
      puts_(c, q, lua_toboolean(L, v) ? "true" : "false");
      return 0;
    case LUA_TNUMBER: {
      char tmp[40];
      if ((kind == K_INTEGER || hwc_isinteger(L, v)) && as_integer(L, v, &i))
        put(c, q, tmp, hwc_fmt_int(i, tmp));
      else
        put_urlenc(c, q, tmp, hwc_fmt_double((double)lua_tonumber(L, v), tmp));
      return 0;
    }
    default:
      misuse(L, "query parameters must be scalars or arrays of scalars");
  }
  return 0;
}

static int query_field(ctx *c, int fs, int kind, int v, const char *name,
                       size_t nlen) {
  lua_State *L = c->L;
  int i, n, ikind = K_ANY;
  if (emit_kind(c, fs, kind, v, NULL) != 0) return -1;
  if (kind != K_ARRAY) return query_pair(c, name, nlen, kind, v);
  if (rawgetk(L, fs, KEY_ITEMS) == LUA_TTABLE)
    ikind = kind_of(L, lua_gettop(L));
  lua_pop(L, 1);
  n = table_class(L, v) == TC_ARRAY ? (int)lua_rawlen(L, v) : 0;
  for (i = 1; i <= n; i++) {
    int rc;
    lua_rawgeti(L, v, i);
    rc = query_pair(c, name, nlen, ikind, lua_gettop(L));
    lua_pop(L, 1);
    if (rc != 0) return rc;
  }
  return 0;
}

/* where the i-th field of the request's `order` goes, from the plan */
static int top_location(ctx *c, int i) {
  int loc;
  lua_rawgeti(c->L, c->locs, i);
  loc = (int)lua_tointeger(c->L, -1);
  lua_pop(c->L, 1);
  return loc;
}

/* a closed object: keys checked, then each field in `order`. At the top
** level (top != 0) fields go to the path, the query or the body by their
** location; nested objects always write to `out`. */
static int emit_object(ctx *c, int s, int v, hwc_buf *out, int top) {
  lua_State *L = c->L;
  int fields, order, i, n, count = 0;
  if (check_object(c, v) != 0) return -1;
  rawgetk(L, s, KEY_FIELDS);
  fields = lua_gettop(L);
  if (rawgetk(L, s, KEY_ORDER) != LUA_TTABLE)
    misuse(L, "object schema without `order` (not prepared)");
  order = lua_gettop(L);
  if (check_keys(c, fields, order, v) != 0) {
    lua_pop(L, 2);
    return -1;
  }
  if (!top && out) putc_(c, out, '{');
  n = (int)lua_rawlen(L, order);
  for (i = 1; i <= n; i++) {
    size_t nlen;
    const char *name;
    int fs, val, vt, rc = 0;
    lua_rawgeti(L, order, i);
    if (lua_type(L, -1) != LUA_TSTRING)
      misuse(L, "`order` holds a non-string");
    name = lua_tolstring(L, -1, &nlen);
    lua_pushvalue(L, -1);
    lua_rawget(L, fields);
    fs = lua_gettop(L);
    if (lua_type(L, fs) != LUA_TTABLE)
      misuse(L, "`order` names a field that is not in `fields`");
    lua_pushvalue(L, fs - 1);
    lua_rawget(L, v);
    val = fs + 1;
    vt = lua_type(L, val);
    seg_push(c, name, nlen, 0);
    if (vt == LUA_TNIL || is_null(L, val)) {
      int loc = top ? top_location(c, i) : LOC_BODY;
      if (loc == LOC_PATH || is_required(L, fs)) {
        rc = fail(c, "is required");
      } else if (vt != LUA_TNIL && loc == LOC_BODY) {
        if (top) {
          body_key(c, name, nlen);
          puts_(c, &c->st->b[B_BODY], "null");
        } else if (out) {
          member_key(c, out, &count, name, nlen);
          puts_(c, out, "null");
        }
      }
    } else if (top) {
      int loc = top_location(c, i), kind = kind_of(L, fs);
      if (loc == LOC_PATH)
        rc = check_path_value(c, fs, kind, val);
      else if (loc == LOC_QUERY)
        rc = query_field(c, fs, kind, val, name, nlen);
      else if (loc == LOC_HEADER)
        rc = header_field(c, fs, kind, val);
      else if (loc == LOC_WHOLE) {
        if (c->nbody > 0) misuse(L, "a whole_body field beside body fields");
        c->whole = 1;
        rc = emit_kind(c, fs, kind, val, &c->st->b[B_BODY]);
      } else {
        if (c->whole) misuse(L, "a whole_body field beside body fields");
        body_key(c, name, nlen);
        rc = emit_kind(c, fs, kind, val, &c->st->b[B_BODY]);
      }
    } else {
      if (out) member_key(c, out, &count, name, nlen);
      rc = emit_kind(c, fs, kind_of(L, fs), val, out);
    }
    if (rc != 0) return -1; /* the caller's stack is reset on return */
    c->nseg--;
    lua_pop(L, 3);
  }
  lua_pop(L, 2);
  if (!top && out) putc_(c, out, '}');
  return 0;
}

/* validates v against schema s (of the given kind) and, when out is not
** NULL, appends its JSON */
static int emit_kind(ctx *c, int s, int kind, int v, hwc_buf *out) {
  lua_State *L = c->L;
  switch (kind) {
    case K_STRING: {
      size_t n;
      const char *str;
      if (lua_type(L, v) != LUA_TSTRING) return type_error(c, "string", v);
      str = lua_tolstring(L, v, &n);
      if (string_value(c, out, str, n) != 0) return -1;
      return check_enum(c, s, str, n);
    }
    case K_INTEGER: {
      long long i;
      if (!as_integer(L, v, &i)) return type_error(c, "integer", v);
      if (out) put_int(c, out, i);
      return 0;
    }
    case K_NUMBER:
      if (lua_type(L, v) != LUA_TNUMBER) return type_error(c, "number", v);
      return emit_any(c, v, out);
    case K_BOOLEAN:
      if (lua_type(L, v) != LUA_TBOOLEAN) return type_error(c, "boolean", v);
      if (out) puts_(c, out, lua_toboolean(L, v) ? "true" : "false");
      return 0;
    case K_ARRAY:
      return emit_array(c, s, v, out);
    case K_MAP:
      return emit_map(c, s, v, out);
    case K_OBJECT: {
      int top = lua_gettop(L), rc = emit_object(c, s, v, out, 0);
      lua_settop(L, top);
      return rc;
    }
    case K_FREE:
      return check_object(c, v) != 0 ? -1 : emit_any(c, v, out);
    default:
      return emit_any(c, v, out);
  }
}

/* ------------------------------------------------------------------ build */

/*
** Plans: what build learns about an operation once, the first time it
** builds it, kept in a weak-keyed table (build's upvalue) so a plan goes
** with its operation. An operation is not changed once built. A plan is
** {request schema, path pieces, locations}: a piece is a literal string,
** {name} for a {name} the request fills in, or false for the client's
** {project_id}; locations[i] is where the i-th field of the request's
** `order` goes (LOC_*). hwcloud.marshal.plan makes and checks it: a
** set-up path, once an operation.
*/
enum { PLAN_SCHEMA = 1, PLAN_PIECES = 2, PLAN_LOCS = 3 };

/* pushes the plan of the op at index 1, made on first use */
static int plan_of(ctx *c) {
  lua_State *L = c->L;
  lua_pushvalue(L, 1);
  lua_rawget(L, lua_upvalueindex(1));
  if (lua_istable(L, -1)) return lua_gettop(L);
  lua_pop(L, 1);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "hwcloud.marshal");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "plan");
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, -2);
  lua_rawset(L, lua_upvalueindex(1));
  return lua_gettop(L);
}

/* the path from the plan's pieces, percent-encoded; then the query.
** Fields were validated by then. */
static int fill_path(ctx *c, int pieces, int req) {
  lua_State *L = c->L;
  hwc_buf *out = &c->st->b[B_PATH];
  int i, n = (int)lua_rawlen(L, pieces);
  for (i = 1; i <= n; i++) {
    size_t len = 0;
    const char *s;
    int t;
    lua_rawgeti(L, pieces, i);
    t = lua_type(L, -1);
    if (t == LUA_TSTRING) {
      s = lua_tolstring(L, -1, &len);
      put(c, out, s, len);
    } else if (t == LUA_TBOOLEAN) {
      s = lua_tolstring(L, 3, &len);
      if (s == NULL || len == 0) {
        seg_push(c, "project_id", 10, 0);
        return fail(c, "is required (set project_id on the client or "
                           "HUAWEICLOUD_SDK_PROJECT_ID)");
      }
      put_urlenc(c, out, s, len);
    } else {
      lua_rawgeti(L, -1, 1);
      lua_rawget(L, req);
      if (lua_type(L, -1) == LUA_TSTRING) {
        s = lua_tolstring(L, -1, &len);
        put_urlenc(c, out, s, len);
      } else {
        long long v = 0;
        char tmp[24];
        (void)as_integer(L, -1, &v); /* validated: an integer */
        put(c, out, tmp, hwc_fmt_int(v, tmp));
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  put(c, out, c->st->b[B_QUERY].data, c->st->b[B_QUERY].len);
  return 0;
}

/* stack: 1 op, 2 req, 3 project_id, 4 state */
static int build(ctx *c) {
  lua_State *L = c->L;
  int plan = plan_of(c), schema, pieces;
  lua_rawgeti(L, plan, PLAN_SCHEMA);
  schema = lua_gettop(L);
  lua_rawgeti(L, plan, PLAN_PIECES);
  pieces = lua_gettop(L);
  lua_rawgeti(L, plan, PLAN_LOCS);
  c->locs = lua_gettop(L);
  if (lua_isnil(L, 2)) {
    lua_newtable(L);
    lua_replace(L, 2);
  }
  if (lua_type(L, 2) != LUA_TTABLE) return type_error(c, "object", 2);
  if (emit_object(c, schema, 2, NULL, 1) != 0) return -1;
  if (fill_path(c, pieces, 2) != 0) return -1;
  if (c->whole) {
    /* the body was written whole */
  } else if (c->nbody > 0) {
    putc_(c, &c->st->b[B_BODY], '}');
  } else {
    return 1; /* no body fields given: no body, as the official SDKs */
  }
  return 0;
}

/* empties the buffers, releasing those grown past keep bytes */
static void trim(mstate *st, size_t keep) {
  int i;
  for (i = 0; i < B_COUNT; i++) {
    if (st->b[i].cap > keep) hwc_buf_free(&st->b[i]);
    else hwc_buf_reset(&st->b[i]);
  }
}

static void push_buf(lua_State *L, const hwc_buf *b) {
  lua_pushlstring(L, b->len > 0 ? b->data : "", b->len);
}

/* the body of build, run under lua_pcall by l_build: 1 op, 2 req,
** 3 project_id, 4 the state whose buffers to use, 5-6 ERR_* */
static int l_build_body(lua_State *L) {
  mstate *st = (mstate *)lua_touserdata(L, 4);
  ctx c;
  int rc;
  c.L = L;
  c.st = st;
  c.nbody = 0;
  c.whole = 0;
  c.locs = 0;
  c.rule = NULL;
  c.nseg = 0;
  lua_settop(L, ERR_VALUE); /* the error's slots */
  trim(st, KEEP_CAP); /* a previous call may have raised with data still here */
  rc = build(&c);
  if (rc < 0) {
    lua_pushnil(L);
    push_buf(L, &st->b[B_FIELD]);
    lua_pushstring(L, c.rule);
    lua_pushvalue(L, ERR_DETAIL);
    lua_pushvalue(L, ERR_VALUE);
    return 5;
  }
  push_buf(L, &st->b[B_PATH]);
  if (rc != 0) {
    lua_pushnil(L);
    return 2;
  }
  push_buf(L, &st->b[B_BODY]);
  return 2;
}

static void state_init(mstate *st) {
  int i;
  for (i = 0; i < B_COUNT; i++) hwc_buf_init(&st->b[i]);
  st->busy = 0;
}

/* core.build(op, req, project_id) -> path, body | nil, field, message.
** Any allocation may run a finalizer, and a finalizer may call
** build again: the shared buffers are then busy and the inner call gets
** private ones. The body runs under lua_pcall so that `busy` is cleared
** whatever happens, and an error is re-raised only after that. */
static int l_build(lua_State *L) {
  mstate *st = (mstate *)lua_touserdata(L, lua_upvalueindex(1));
  int base, rc, t3, shared;
  lua_settop(L, 3);
  luaL_checktype(L, 1, LUA_TTABLE);
  t3 = lua_type(L, 3);
  if (t3 != LUA_TNIL && t3 != LUA_TSTRING)
    luaL_argerror(L, 3, "project_id must be a string or nil");
  shared = !st->busy;
  if (shared) {
    lua_pushvalue(L, lua_upvalueindex(1));
  } else {
    st = (mstate *)lua_newuserdatauv(L, sizeof *st, 0);
    state_init(st);
    luaL_getmetatable(L, MARSHAL_STATE_MT);
    lua_setmetatable(L, -2);
  }
  st->busy = 1;
  base = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  lua_pushvalue(L, base);
  rc = lua_pcall(L, 4, LUA_MULTRET, 0);
  st->busy = 0;
  trim(st, shared ? KEEP_CAP : 0);
  if (rc != 0) return lua_error(L);
  return lua_gettop(L) - base;
}

static int state_gc(lua_State *L) {
  /* hwc_buf_free leaves an empty buffer: a second call is harmless */
  trim((mstate *)luaL_checkudata(L, 1, MARSHAL_STATE_MT), 0);
  return 0;
}

void hwc_open_marshal(lua_State *L) {
  int i;
  mstate *st = (mstate *)lua_newuserdatauv(L, sizeof *st, 0);
  state_init(st);
  if (luaL_newmetatable(L, MARSHAL_STATE_MT)) {
    lua_pushcfunction(L, state_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  /* the body: upvalue 1 the plans (weak keys: a plan goes with its
  ** operation), keys from 2 */
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  for (i = 0; i < KEY_COUNT; i++) lua_pushstring(L, key_names[i]);
  lua_pushcclosure(L, l_build_body, 1 + KEY_COUNT);
  lua_pushcclosure(L, l_build, 2); /* upvalues: the state, the body */
  lua_setfield(L, -2, "build");
}
