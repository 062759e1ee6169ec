/*
** url.c -- the one URL parser of the C core (hwc_url_parse), used by the
** signer and exposed as core.parse_url(url) -> {scheme, host, port, path,
** query, userinfo} | nil, message. No allocation: the parts are spans of
** the string given.
*/
#include <string.h>

#include "hwcloud.h"

static int is_alpha(unsigned char c) {
  return hwc_lower(c) >= 'a' && hwc_lower(c) <= 'z';
}

/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 3.1) */
static size_t scheme_len(const char *s, size_t n) {
  size_t i = 1;
  if (n == 0 || !is_alpha((unsigned char)s[0])) return 0;
  while (i < n && (is_alpha((unsigned char)s[i]) ||
                   hwc_is_digit((unsigned char)s[i]) || s[i] == '+' ||
                   s[i] == '-' || s[i] == '.'))
    i++;
  return i;
}

/* host[:port] of an authority: a bracketed IPv6 address or a name, then
** an optional port (digits, 1-65535; "host:" names none) */
static const char *parse_hostport(const char *p, size_t n, hwc_url *u) {
  size_t i;
  long port = 0;
  u->hostport.p = p;
  u->hostport.n = n;
  if (n > 0 && p[0] == '[') {
    const char *close = (const char *)memchr(p, ']', n);
    size_t k;
    if (close == NULL || close == p + 1) return "has a bad IPv6 address";
    for (k = 1; p + k < close; k++) {
      unsigned char c = (unsigned char)p[k];
      if (hwc_hexval(c) < 0 && c != ':' && c != '.')
        return "has a bad IPv6 address";
    }
    u->host.p = p + 1;
    u->host.n = (size_t)(close - p) - 1;
    i = (size_t)(close - p) + 1;
    if (i < n && p[i] != ':') return "has a bad IPv6 address";
  } else {
    for (i = 0; i < n && p[i] != ':'; i++)
      if (p[i] == '[' || p[i] == ']') return "must be an absolute URL with a host";
    u->host.p = p;
    u->host.n = i;
  }
  if (u->host.n == 0) return "must be an absolute URL with a host";
  if (i == n) return NULL;
  /* p[i] == ':' */
  if (i + 1 == n) {
    u->hostport.n = i; /* "host:" is "host" */
    return NULL;
  }
  for (i++; i < n; i++) {
    if (!hwc_is_digit((unsigned char)p[i])) return "has an invalid port";
    port = port * 10 + (p[i] - '0');
    if (port > 65535) return "has an invalid port";
  }
  if (port == 0) return "has an invalid port";
  u->port = (int)port;
  return NULL;
}

const char *hwc_url_parse(const char *s, size_t n, int flags, hwc_url *u) {
  size_t i, a, e;
  const char *q, *f;
  memset(u, 0, sizeof *u);
  i = scheme_len(s, n);
  if (i == 0 || n - i < 3 || memcmp(s + i, "://", 3) != 0)
    return "must be an absolute URL with a host";
  if (!(flags & HWC_URL_LAX) && hwc_has_ctl(s, n, 1))
    return "must not contain spaces or control characters";
  u->scheme.p = s;
  u->scheme.n = i;
  a = i + 3;
  for (e = a; e < n && s[e] != '/' && s[e] != '?' && s[e] != '#'; e++) {
  }
  /* userinfo ends at the last '@' of the authority */
  for (i = e; i > a; i--)
    if (s[i - 1] == '@') {
      u->userinfo.p = s + a;
      u->userinfo.n = i - 1 - a;
      a = i;
      break;
    }
  {
    const char *msg = parse_hostport(s + a, e - a, u);
    if (msg != NULL) return msg;
  }
  /* the path ends at '?' or '#', the query at '#' */
  f = (const char *)memchr(s + e, '#', n - e);
  if (f != NULL) n = (size_t)(f - s);
  q = (const char *)memchr(s + e, '?', n - e);
  u->path.p = s + e;
  u->path.n = (q != NULL ? (size_t)(q - s) : n) - e;
  if (q != NULL) {
    u->query.p = q + 1;
    u->query.n = (size_t)(s + n - q) - 1;
  }
  return NULL;
}

static void set_slice(lua_State *L, const char *k, hwc_slice v) {
  lua_pushlstring(L, v.p, v.n);
  lua_setfield(L, -2, k);
}

/* core.parse_url(url): the port is the one named, else 443 for https and
** 80 for http (nil for other schemes); query and userinfo are nil when
** absent; the scheme is lower-cased */
static int l_parse_url(lua_State *L) {
  size_t n, k;
  const char *s = luaL_checklstring(L, 1, &n);
  luaL_Buffer b;
  hwc_url u;
  const char *msg = hwc_url_parse(s, n, 0, &u);
  if (msg != NULL) {
    lua_pushnil(L);
    lua_pushfstring(L, "url %s", msg);
    return 2;
  }
  if (u.port == 0 && u.scheme.n == 5 && hwc_ieq(u.scheme.p, "https", 5)) u.port = 443;
  if (u.port == 0 && u.scheme.n == 4 && hwc_ieq(u.scheme.p, "http", 4)) u.port = 80;
  lua_createtable(L, 0, 6);
  luaL_buffinit(L, &b);
  for (k = 0; k < u.scheme.n; k++) luaL_addchar(&b, (char)hwc_lower((unsigned char)u.scheme.p[k]));
  luaL_pushresult(&b);
  lua_setfield(L, -2, "scheme");
  set_slice(L, "host", u.host);
  if (u.port != 0) {
    lua_pushinteger(L, u.port);
    lua_setfield(L, -2, "port");
  }
  set_slice(L, "path", u.path);
  if (u.query.p != NULL) set_slice(L, "query", u.query);
  if (u.userinfo.p != NULL) set_slice(L, "userinfo", u.userinfo);
  return 1;
}

void hwc_open_url(lua_State *L) {
  lua_pushcfunction(L, l_parse_url);
  lua_setfield(L, -2, "parse_url");
}
