/*
** json_decode.c -- core.decode(text): an answer's JSON as Lua values.
**
** Why not lua-cjson's decode: 2.1.0 makes every number a float, so an
** integer field reads 600.0 and an id beyond 2^53 loses digits; and it
** grows each table key by key. Here an integer literal that fits 64 bits
** is a Lua integer (on Lua 5.1 and LuaJIT, which have no integer subtype,
** the nearest double), and a container's first members wait on the Lua
** stack so its table is made once, at its size.
**
** Strict RFC 8259, as the official SDKs' decoders are: no comments, no
** trailing commas, no control characters inside strings, no leading
** zeros, nothing after the value but whitespace. null is the light
** userdata NULL, which is cjson.null and hwcloud.null. A lone surrogate
** escape becomes U+FFFD. String bytes are passed through as sent.
**
** An empty array gets core.empty_array_mt as its metatable (as
** lua-cjson's empty_array_mt), so an encoder can tell [] from {} when
** no schema says which: the one shared marker is the decoder's upvalue.
**
** It also counts the numbers written as floats with an integral value
** (8080.0): only those can be an integer field services.conform must change.
**
** Errors: text that is not JSON returns nil and what was wrong at which
** byte; only running out of memory raises. No C heap is used (escaped
** strings are built in a luaL_Buffer), so an error leaks nothing.
** The text is a Lua string, so a NUL follows its last byte: scans stop
** there without a bounds check and the position tells end from NUL.
*/
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwcloud.h"

/* containers nested deeper than this are refused (lua-cjson's default) */
#define MAX_DEPTH 1000
/* members held on the stack before their table is made */
#define BATCH 32
/* deeper containers fill their table as they go, so the held members of
** all levels stay far inside LuaJIT's stack limit (65,500 slots) */
#define BATCH_DEPTH 64

typedef struct reader {
  lua_State *L;
  const char *text, *end; /* end: the NUL after the last byte */
  const char *at;         /* where the error is */
  const char *what;       /* what it is */
  char point;             /* the locale's decimal point, for strtod */
  lua_Integer whole;      /* floats with an integral value (8080.0, 1e3) */
} reader;

static const char *value(reader *r, const char *p, int depth);

static const char *fail(reader *r, const char *p, const char *what) {
  r->at = p;
  r->what = p >= r->end ? "unexpected end of text" : what;
  return NULL;
}

static const char *ws(const char *p) {
  while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
  return p;
}

/* nonzero when a byte of the eight in x is below n (n <= 0x80): exact as
** to "any byte?", whatever a borrow does to the flags above the lowest */
#define ONES ((uint64_t)0x0101010101010101u)
#define HAS_BELOW(x, n) (((x) - ONES * (n)) & ~(x) & (ONES * 0x80u))

/* the length of the run at p with no '"', '\\' or control byte (the NUL
** at end is one) */
static size_t plain_run(const char *p, const char *end) {
  const char *s = p;
  while (end - p >= 8) {
    uint64_t x;
    memcpy(&x, p, 8);
    if (HAS_BELOW(x ^ (ONES * '"'), 1) | HAS_BELOW(x ^ (ONES * '\\'), 1) |
        HAS_BELOW(x, 0x20))
      break; /* exact: one of these eight bytes stops the run */
    p += 8;
  }
  while (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20) p++;
  return (size_t)(p - s);
}

static int hex4(const char *p, unsigned *out) {
  int i;
  unsigned v = 0;
  for (i = 0; i < 4; i++) {
    int h = hwc_hexval((unsigned char)p[i]);
    if (h < 0) return -1; /* also stops at the NUL: p[i] is never past it */
    v = v << 4 | (unsigned)h;
  }
  *out = v;
  return 0;
}

static void add_utf8(luaL_Buffer *b, unsigned c) {
  char u[4];
  size_t n;
  if (c < 0x80) {
    u[0] = (char)c;
    n = 1;
  } else if (c < 0x800) {
    u[0] = (char)(0xC0 | c >> 6);
    u[1] = (char)(0x80 | (c & 0x3F));
    n = 2;
  } else if (c < 0x10000) {
    u[0] = (char)(0xE0 | c >> 12);
    u[1] = (char)(0x80 | (c >> 6 & 0x3F));
    u[2] = (char)(0x80 | (c & 0x3F));
    n = 3;
  } else {
    u[0] = (char)(0xF0 | c >> 18);
    u[1] = (char)(0x80 | (c >> 12 & 0x3F));
    u[2] = (char)(0x80 | (c >> 6 & 0x3F));
    u[3] = (char)(0x80 | (c & 0x3F));
    n = 4;
  }
  luaL_addlstring(b, u, n);
}

/* \uXXXX at p (after the backslash and 'u'), with a following low
** surrogate when p is a high one; returns past what it read */
static const char *unicode(reader *r, const char *p, luaL_Buffer *b) {
  unsigned c, lo;
  if (hex4(p, &c) != 0) return fail(r, p, "expected four hex digits after \\u");
  p += 4;
  if (c >= 0xD800 && c <= 0xDBFF && p[0] == '\\' && p[1] == 'u' &&
      hex4(p + 2, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
    c = 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00);
    p += 6;
  } else if (c >= 0xD800 && c <= 0xDFFF) {
    c = 0xFFFD;
  }
  add_utf8(b, c);
  return p;
}

/* the rest of a string holding escapes: run is where its text began, p
** the first backslash */
static const char *escaped(reader *r, const char *run, const char *p) {
  luaL_Buffer b;
  luaL_buffinit(r->L, &b);
  luaL_addlstring(&b, run, (size_t)(p - run));
  for (;;) {
    if (*p == '"') {
      luaL_pushresult(&b);
      return p + 1;
    }
    if (*p == '\\') {
      char c = p[1], e = 0;
      switch (c) {
      case '"': case '\\': case '/': e = c; break;
      case 'b': e = '\b'; break;
      case 'f': e = '\f'; break;
      case 'n': e = '\n'; break;
      case 'r': e = '\r'; break;
      case 't': e = '\t'; break;
      case 'u':
        p = unicode(r, p + 2, &b);
        if (p == NULL) return NULL;
        break;
      default: return fail(r, p + 1, "invalid escape in string");
      }
      if (e != 0) {
        luaL_addchar(&b, e);
        p += 2;
      }
    } else {
      return fail(r, p, "control character in string");
    }
    run = p;
    p += plain_run(p, r->end);
    luaL_addlstring(&b, run, (size_t)(p - run));
  }
}

/* p: after the opening quote */
static const char *string(reader *r, const char *p) {
  const char *run = p;
  p += plain_run(p, r->end);
  if (*p == '"') {
    lua_pushlstring(r->L, run, (size_t)(p - run));
    return p + 1;
  }
  if (*p == '\\') return escaped(r, run, p);
  return fail(r, p, "control character in string");
}

static const char *floating(reader *r, const char *s, const char *p) {
  char tmp[64];
  size_t n = (size_t)(p - s), i;
  double v;
  if (r->point == '.') {
    v = strtod(s, NULL); /* the grammar is checked: strtod stops at p */
  } else {
    /* os.setlocale changed LC_NUMERIC: strtod wants its decimal point */
    char *buf = n < sizeof tmp ? tmp : (char *)lua_newuserdata(r->L, n + 1);
    for (i = 0; i < n; i++) buf[i] = s[i] == '.' ? r->point : s[i];
    buf[n] = '\0';
    v = strtod(buf, NULL);
    if (buf != tmp) lua_pop(r->L, 1);
  }
  /* what services.conform may make an integer where the schema says so */
  if (v == floor(v) && v >= -9223372036854775808.0 && v < 9223372036854775808.0)
    r->whole++;
  lua_pushnumber(r->L, (lua_Number)v);
  return p;
}

static const char *number(reader *r, const char *p) {
  const char *s = p;
  unsigned long long m = 0;
  int digits = 0, neg = 0, frac = 0;
  if (*p == '-') {
    neg = 1;
    p++;
  }
  if (*p == '0') {
    p++;
    if (hwc_is_digit((unsigned char)*p)) return fail(r, p, "leading zero in number");
    digits = 1;
  } else if (hwc_is_digit((unsigned char)*p)) {
    for (; hwc_is_digit((unsigned char)*p); p++, digits++)
      if (digits < 19) m = m * 10 + (unsigned)(*p - '0');
  } else {
    return fail(r, p, "expected a digit");
  }
  if (*p == '.') {
    frac = 1;
    if (!hwc_is_digit((unsigned char)*++p)) return fail(r, p, "expected a digit after '.'");
    while (hwc_is_digit((unsigned char)*p)) p++;
  }
  if (*p == 'e' || *p == 'E') {
    frac = 1;
    p++;
    if (*p == '+' || *p == '-') p++;
    if (!hwc_is_digit((unsigned char)*p)) return fail(r, p, "expected a digit in the exponent");
    while (hwc_is_digit((unsigned char)*p)) p++;
  }
  /* an integer is exact when it fits 64 bits: 19 digits at most */
  if (frac || digits > 19 || m > (neg ? 9223372036854775808ULL
                                      : 9223372036854775807ULL))
    return floating(r, s, p);
  {
    long long v = !neg ? (long long)m
                  : m == 9223372036854775808ULL ? -9223372036854775807LL - 1
                                                : -(long long)m;
#if LUA_VERSION_NUM >= 503
    lua_pushinteger(r->L, (lua_Integer)v);
#else
    lua_pushnumber(r->L, (lua_Number)v);
#endif
  }
  return p;
}

/* the n members above base (key-value pairs for an object) become a
** table at base + 1; pairs are set in order, so the last of two equal keys
** wins, as in the official SDKs' decoders */
static void make_table(lua_State *L, int base, int n, int cap, int obj) {
  int i, t = base + 1;
  lua_createtable(L, obj ? 0 : cap, obj ? cap : 0);
  lua_insert(L, t);
  if (!obj) {
    for (i = n; i >= 1; i--) lua_rawseti(L, t, i);
    return;
  }
  for (i = 0; i < n; i++) {
    lua_pushvalue(L, t + 1 + 2 * i);
    lua_pushvalue(L, t + 2 + 2 * i);
    lua_rawset(L, t);
  }
  lua_settop(L, t);
}

/* an array, or an object (obj); p: after its '[' or '{' and whitespace */
static const char *container(reader *r, const char *p, int depth, int obj) {
  lua_State *L = r->L;
  int base = lua_gettop(L), n = 0, made = 0;
  int batch = depth <= BATCH_DEPTH ? BATCH : 0;
  char close = obj ? '}' : ']';
  luaL_checkstack(L, 2 * batch + 8, "hwcloud.core.decode: nesting");
  if (*p == close) {
    lua_createtable(L, 0, 0);
    if (!obj) {
      lua_pushvalue(L, lua_upvalueindex(1));
      lua_setmetatable(L, -2);
    }
    return p + 1;
  }
  for (;;) {
    if (obj) {
      if (*p != '"') return fail(r, p, "expected a string key");
      if ((p = string(r, p + 1)) == NULL) return NULL;
      p = ws(p);
      if (*p != ':') return fail(r, p, "expected ':'");
      p = ws(p + 1);
    }
    if ((p = value(r, p, depth + 1)) == NULL) return NULL;
    n++;
    if (made && obj) {
      lua_rawset(L, base + 1);
    } else if (made) {
      lua_rawseti(L, base + 1, n);
    } else if (n > batch) {
      make_table(L, base, n, n * 2, obj);
      made = 1;
    }
    p = ws(p);
    if (*p == close) break;
    if (*p != ',') return fail(r, p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    p = ws(p + 1);
  }
  if (!made) make_table(L, base, n, n, obj);
  return p + 1;
}

/* p: at the value's first byte; pushes exactly one value on success */
static const char *value(reader *r, const char *p, int depth) {
  switch (*p) {
  case '"': return string(r, p + 1);
  case '{':
  case '[':
    if (depth > MAX_DEPTH) return fail(r, p, "nested too deep");
    return container(r, ws(p + 1), depth, *p == '{');
  case 't':
    if (strncmp(p, "true", 4) != 0) break;
    lua_pushboolean(r->L, 1);
    return p + 4;
  case 'f':
    if (strncmp(p, "false", 5) != 0) break;
    lua_pushboolean(r->L, 0);
    return p + 5;
  case 'n':
    if (strncmp(p, "null", 4) != 0) break;
    lua_pushlightuserdata(r->L, NULL);
    return p + 4;
  case '-': case '0': case '1': case '2': case '3': case '4':
  case '5': case '6': case '7': case '8': case '9':
    return number(r, p);
  default: break;
  }
  return fail(r, p, "expected a value");
}

/* core.decode(text) -> value, whole | nil, "what at byte N"; whole: how
** many numbers were floats with an integral value (for services.conform) */
static int l_decode(lua_State *L) {
  size_t n;
  const char *p;
  reader r;
  luaL_checktype(L, 1, LUA_TSTRING);
  r.L = L;
  r.text = lua_tolstring(L, 1, &n);
  r.end = r.text + n;
  r.at = NULL;
  r.what = NULL;
  r.point = localeconv()->decimal_point[0];
  r.whole = 0;
  lua_settop(L, 1);
  luaL_checkstack(L, 2 * BATCH + 8, "hwcloud.core.decode");
  p = value(&r, ws(r.text), 1);
  if (p != NULL) {
    p = ws(p);
    if (p == r.end) {
      lua_pushinteger(L, r.whole);
      return 2;
    }
    fail(&r, p, "unexpected text after the value");
  }
  {
    char msg[160];
    snprintf(msg, sizeof msg, "%s at byte %lu", r.what,
             (unsigned long)(r.at - r.text) + 1);
    lua_settop(L, 1);
    lua_pushnil(L);
    lua_pushstring(L, msg);
  }
  return 2;
}

void hwc_open_decode(lua_State *L) {
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "hwcloud.empty_array");
  lua_setfield(L, -2, "__name");
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "empty_array_mt");
  lua_pushcclosure(L, l_decode, 1);
  lua_setfield(L, -2, "decode");
}
