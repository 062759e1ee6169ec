/*
** sign.c -- SDK-HMAC-SHA256 request signing (core.sign) and two digest
** helpers (core.sha256_hex, core.hmac_sha256_hex).
**
** All working memory (digest context, scratch buffers, slice arrays) lives
** in one userdata shared by the functions as an upvalue, so a call makes no
** heap allocation once the buffers have grown, and a Lua error raised at
** any point cannot leak: the userdata still owns everything.
**
** A call runs in three phases. (A) read the arguments and the headers
** table, keeping pointers into the Lua strings (they stay alive because the
** arguments stay on the stack); (B) build the canonical request and the
** signature in plain C; (C) push the results. Phases A and B make no Lua
** allocation, so no finalizer can run and re-enter the signer while the
** scratch buffers are in use; phase C copies the Authorization value into a
** Lua string before anything else.
*/
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "hwcloud.h"

/* only this file touches the signer state, so its metatable name is kept
** here rather than in the shared header */
#define SIGN_STATE_MT "hwcloud.sign.state"

#define ALGORITHM "SDK-HMAC-SHA256"
#define DIGEST_LEN 32
#define BLOCK_LEN 64
#define HEX_LEN 64
#define DATE_LEN 16 /* YYYYMMDDTHHMMSSZ */
/* scratch buffers above this size are released after a call so that one
** huge URL does not pin memory for the life of the state */
#define SCRATCH_KEEP (64 * 1024)

/* hex SHA-256 of the empty string: spares a digest for bodiless requests */
static const char empty_hex[HEX_LEN + 1] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
typedef EVP_MD sign_md;
#else
typedef const EVP_MD sign_md;
#endif

typedef struct slice {
  const char *p;
  size_t n;
} slice;

/* a header: name as given (lower-cased on output), value trimmed */
typedef struct header {
  slice name;
  slice value;
} header;

/* a query parameter, percent-decoded */
typedef struct param {
  slice key;
  slice value;
} param;

typedef struct sign_state {
  sign_md *md;     /* fetched once: an implicit fetch per init is slow */
  EVP_MD_CTX *ctx; /* reused for every digest */
  hwc_buf canon;   /* canonical request */
  hwc_buf scratch; /* decoded path segments / query, then Authorization */
  header *hdrs;
  size_t hdr_cap;
  param *params;
  size_t param_cap;
} sign_state;

/* ---- state ---------------------------------------------------------- */

static void state_release(sign_state *st) {
  if (st->ctx != NULL) EVP_MD_CTX_free(st->ctx);
  st->ctx = NULL;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  if (st->md != NULL) EVP_MD_free(st->md);
#endif
  st->md = NULL;
  hwc_buf_free(&st->canon);
  hwc_buf_free(&st->scratch);
  free(st->hdrs);
  st->hdrs = NULL;
  st->hdr_cap = 0;
  free(st->params);
  st->params = NULL;
  st->param_cap = 0;
}

/* __gc: idempotent, the pointers are cleared as they are freed */
static int state_gc(lua_State *L) {
  sign_state *st = (sign_state *)lua_touserdata(L, 1);
  if (st != NULL) state_release(st);
  return 0;
}

static sign_state *state_of(lua_State *L) {
  sign_state *st = (sign_state *)lua_touserdata(L, lua_upvalueindex(1));
  /* a finalizer run at lua_close may call us after our own __gc */
  if (st == NULL || st->ctx == NULL || st->md == NULL)
    luaL_error(L, "hwcloud.core: signer state is closed");
  return st;
}

/* grows an array held in the state to hold at least need elements;
** returns the (possibly moved) block, or NULL when out of memory, in which
** case the old block is untouched and still owned by the state */
static void *grow(void *arr, size_t *cap, size_t need, size_t elem) {
  size_t ncap;
  void *p;
  if (need <= *cap) return arr;
  ncap = *cap ? *cap : 16;
  while (ncap < need) {
    if (ncap > ((size_t)-1) / 2 / elem) return NULL;
    ncap *= 2;
  }
  p = realloc(arr, ncap * elem);
  if (p != NULL) *cap = ncap;
  return p;
}

/* makes room for one more header in st->hdrs; -1 when out of memory */
static int grow_headers(sign_state *st, size_t count) {
  header *p = (header *)grow(st->hdrs, &st->hdr_cap, count + 1, sizeof *p);
  if (p == NULL) return -1;
  st->hdrs = p;
  return 0;
}

static void trim_scratch(hwc_buf *b) {
  if (b->cap > SCRATCH_KEEP) hwc_buf_free(b);
}

/* ---- digests -------------------------------------------------------- */

static void to_hex(const unsigned char *d, size_t n, char *out) {
  static const char hex[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n; i++) {
    out[2 * i] = hex[d[i] >> 4];
    out[2 * i + 1] = hex[d[i] & 15];
  }
}

/* SHA-256 over several pieces; 0 on success */
static int sha256(sign_state *st, const slice *parts, int nparts,
                  unsigned char out[DIGEST_LEN]) {
  unsigned int len = 0;
  int i;
  if (EVP_DigestInit_ex(st->ctx, st->md, NULL) != 1) return -1;
  for (i = 0; i < nparts; i++)
    if (EVP_DigestUpdate(st->ctx, parts[i].p, parts[i].n) != 1) return -1;
  if (EVP_DigestFinal_ex(st->ctx, out, &len) != 1 || len != DIGEST_LEN)
    return -1;
  return 0;
}

/* HMAC-SHA256 (RFC 2104) over several pieces, written over the digest
** context directly: cheaper per call than setting up an EVP_MAC */
static int hmac_sha256(sign_state *st, const char *key, size_t klen,
                       const slice *parts, int nparts,
                       unsigned char out[DIGEST_LEN]) {
  unsigned char k[BLOCK_LEN], pad[BLOCK_LEN], inner[DIGEST_LEN];
  slice s[2];
  size_t i;
  int rc = -1, j;
  memset(k, 0, sizeof k);
  if (klen > BLOCK_LEN) {
    /* long keys are hashed first */
    s[0].p = key;
    s[0].n = klen;
    if (sha256(st, s, 1, k) != 0) goto done;
  } else if (klen > 0) {
    memcpy(k, key, klen);
  }
  for (i = 0; i < BLOCK_LEN; i++) pad[i] = (unsigned char)(k[i] ^ 0x36);
  if (EVP_DigestInit_ex(st->ctx, st->md, NULL) != 1) goto done;
  if (EVP_DigestUpdate(st->ctx, pad, BLOCK_LEN) != 1) goto done;
  for (j = 0; j < nparts; j++)
    if (EVP_DigestUpdate(st->ctx, parts[j].p, parts[j].n) != 1) goto done;
  {
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(st->ctx, inner, &len) != 1 || len != DIGEST_LEN)
      goto done;
  }
  for (i = 0; i < BLOCK_LEN; i++) pad[i] = (unsigned char)(k[i] ^ 0x5c);
  s[0].p = (const char *)pad;
  s[0].n = BLOCK_LEN;
  s[1].p = (const char *)inner;
  s[1].n = DIGEST_LEN;
  rc = sha256(st, s, 2, out);
done:
  /* the key schedule is secret material */
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
  OPENSSL_cleanse(inner, sizeof inner);
  return rc;
}

/* ---- small string helpers ------------------------------------------- */

static unsigned char lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static int is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
         c == '\f';
}

static slice trim(const char *p, size_t n) {
  slice s;
  while (n > 0 && is_space((unsigned char)p[0])) {
    p++;
    n--;
  }
  while (n > 0 && is_space((unsigned char)p[n - 1])) n--;
  s.p = p;
  s.n = n;
  return s;
}

/* bytewise order, shorter first on a common prefix */
static int cmp_bytes(slice a, slice b) {
  size_t n = a.n < b.n ? a.n : b.n;
  int c = n ? memcmp(a.p, b.p, n) : 0;
  if (c != 0) return c;
  return (a.n > b.n) - (a.n < b.n);
}

/* bytewise order of the ASCII-lower-cased strings */
static int cmp_lower(slice a, slice b) {
  size_t i, n = a.n < b.n ? a.n : b.n;
  for (i = 0; i < n; i++) {
    unsigned char x = lower((unsigned char)a.p[i]);
    unsigned char y = lower((unsigned char)b.p[i]);
    if (x != y) return x < y ? -1 : 1;
  }
  return (a.n > b.n) - (a.n < b.n);
}

/* case-insensitive equality with a lower-case literal */
static int name_is(slice name, const char *lit) {
  size_t i, n = strlen(lit);
  if (name.n != n) return 0;
  for (i = 0; i < n; i++)
    if (lower((unsigned char)name.p[i]) != (unsigned char)lit[i]) return 0;
  return 1;
}

static int cmp_header(const void *a, const void *b) {
  return cmp_lower(((const header *)a)->name, ((const header *)b)->name);
}

static int cmp_param(const void *a, const void *b) {
  const param *x = (const param *)a, *y = (const param *)b;
  int c = cmp_bytes(x->key, y->key);
  return c != 0 ? c : cmp_bytes(x->value, y->value);
}

static int hexval(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* percent-decodes s into dst (room for n bytes); a '%' not followed by two
** hex digits stays literal, '+' stays '+'. Returns the decoded length. */
static size_t pct_decode(char *dst, const char *s, size_t n) {
  size_t i, o = 0;
  for (i = 0; i < n; i++) {
    if (s[i] == '%' && i + 2 < n) {
      int hi = hexval((unsigned char)s[i + 1]);
      int lo = hexval((unsigned char)s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        dst[o++] = (char)(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    dst[o++] = s[i];
  }
  return o;
}

static int add_lower(hwc_buf *b, slice s) {
  size_t i;
  if (hwc_buf_reserve(b, s.n) != 0) return -1;
  for (i = 0; i < s.n; i++)
    b->data[b->len++] = (char)lower((unsigned char)s.p[i]);
  return 0;
}

static int add_slice(hwc_buf *b, slice s) { return hwc_buf_add(b, s.p, s.n); }

/* ---- URL ------------------------------------------------------------ */

typedef struct url_parts {
  slice host;  /* host[:port], userinfo removed */
  slice path;  /* may be empty */
  slice query; /* without '?', may be empty */
} url_parts;

/* splits scheme://[userinfo@]host[:port][/path][?query][#fragment];
** -1 when there is no scheme or no host */
static int parse_url(const char *u, size_t n, url_parts *out) {
  size_t i = 0, a, e, h;
  while (i < n && u[i] != ':' && u[i] != '/' && u[i] != '?' && u[i] != '#')
    i++;
  if (i == 0 || i + 3 > n || u[i] != ':' || u[i + 1] != '/' || u[i + 2] != '/')
    return -1;
  a = i + 3;
  e = a;
  while (e < n && u[e] != '/' && u[e] != '?' && u[e] != '#') e++;
  /* userinfo ends at the last '@' of the authority */
  h = a;
  for (i = a; i < e; i++)
    if (u[i] == '@') h = i + 1;
  out->host.p = u + h;
  out->host.n = e - h;
  /* "host:" names no port */
  if (out->host.n > 0 && out->host.p[out->host.n - 1] == ':') out->host.n--;
  if (out->host.n == 0 || out->host.p[0] == ':') return -1;
  i = e;
  while (i < n && u[i] != '?' && u[i] != '#') i++;
  out->path.p = u + e;
  out->path.n = i - e;
  out->query.p = u + i;
  out->query.n = 0;
  if (i < n && u[i] == '?') {
    size_t q = ++i;
    while (i < n && u[i] != '#') i++;
    out->query.p = u + q;
    out->query.n = i - q;
  }
  return 0;
}

/* canonical URI: each segment decoded once and re-encoded; ends in '/' */
static int add_canonical_uri(sign_state *st, slice path) {
  hwc_buf *b = &st->canon;
  size_t i, start = 0;
  if (path.n == 0) return hwc_buf_addc(b, '/');
  for (i = 0; i <= path.n; i++) {
    const char *seg;
    size_t len;
    if (i < path.n && path.p[i] != '/') continue;
    seg = path.p + start;
    len = i - start;
    if (memchr(seg, '%', len) != NULL) {
      hwc_buf_reset(&st->scratch);
      if (hwc_buf_reserve(&st->scratch, len) != 0) return -1;
      len = pct_decode(st->scratch.data, seg, len);
      seg = st->scratch.data;
    }
    if (hwc_buf_add_urlenc(b, seg, len) != 0) return -1;
    if (i < path.n && hwc_buf_addc(b, '/') != 0) return -1;
    start = i + 1;
  }
  if (b->data[b->len - 1] != '/') return hwc_buf_addc(b, '/');
  return 0;
}

/* one query key or value: points into the URL unless it needs decoding,
** then into the scratch buffer (reserved up front, so it never moves) */
static slice query_part(sign_state *st, const char *p, size_t n) {
  slice s;
  s.p = p;
  s.n = n;
  if (n > 0 && memchr(p, '%', n) != NULL) {
    char *dst = st->scratch.data + st->scratch.len;
    s.n = pct_decode(dst, p, n);
    s.p = dst;
    st->scratch.len += s.n;
  }
  return s;
}

/* canonical query: pairs decoded, sorted by raw key then raw value,
** re-encoded, "k=v" joined with '&' */
static int add_canonical_query(sign_state *st, slice q) {
  hwc_buf *b = &st->canon;
  size_t i = 0, count = 0, k;
  if (q.n == 0) return 0;
  hwc_buf_reset(&st->scratch);
  if (hwc_buf_reserve(&st->scratch, q.n) != 0) return -1;
  while (i <= q.n) {
    size_t start = i, eq;
    while (i < q.n && q.p[i] != '&') i++;
    if (i > start) { /* empty pieces ("a=1&&b=2") carry nothing */
      param *pr = (param *)grow(st->params, &st->param_cap, count + 1,
                                sizeof *pr);
      if (pr == NULL) return -1;
      st->params = pr;
      pr = &st->params[count++];
      eq = start;
      while (eq < i && q.p[eq] != '=') eq++;
      pr->key = query_part(st, q.p + start, eq - start);
      if (eq < i)
        pr->value = query_part(st, q.p + eq + 1, i - eq - 1);
      else
        pr->value = query_part(st, q.p + i, 0);
    }
    i++;
  }
  if (count > 1) qsort(st->params, count, sizeof *st->params, cmp_param);
  for (k = 0; k < count; k++) {
    const param *pr = &st->params[k];
    if (k > 0 && hwc_buf_addc(b, '&') != 0) return -1;
    if (hwc_buf_add_urlenc(b, pr->key.p, pr->key.n) != 0 ||
        hwc_buf_addc(b, '=') != 0 ||
        hwc_buf_add_urlenc(b, pr->value.p, pr->value.n) != 0)
      return -1;
  }
  return 0;
}

/* ---- core.sign ------------------------------------------------------ */

/* UTC now as YYYYMMDDTHHMMSSZ */
static int utc_now(char out[DATE_LEN + 1]) {
  struct tm tm;
  time_t t = time(NULL);
  if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL) return -1;
  if (strftime(out, DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm) != DATE_LEN)
    return -1;
  return 0;
}

/* what phase A learns from the headers table */
typedef struct header_info {
  size_t count;
  int has_host;
  slice date;         /* X-Sdk-Date value, p == NULL when absent */
  slice content_hash; /* X-Sdk-Content-Sha256 value, p == NULL when absent */
} header_info;

/* phase A: collects the headers at index idx into st->hdrs; raises on
** misuse (nothing to free: the arrays belong to the state) */
static void collect_headers(lua_State *L, sign_state *st, int idx,
                            header_info *info) {
  memset(info, 0, sizeof *info);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    header *h;
    const char *v;
    size_t vn;
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_argerror(L, idx,
                    lua_pushfstring(L, "header names must be strings, got %s",
                                    luaL_typename(L, -2)));
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_argerror(L, idx,
                    lua_pushfstring(L, "header '%s' must be a string, got %s",
                                    lua_tostring(L, -2),
                                    luaL_typename(L, -1)));
    if (grow_headers(st, info->count) != 0)
      luaL_error(L, "hwcloud.core: out of memory");
    h = &st->hdrs[info->count++];
    h->name.p = lua_tolstring(L, -2, &h->name.n);
    v = lua_tolstring(L, -1, &vn);
    h->value = trim(v, vn);
    if (name_is(h->name, "host"))
      info->has_host = 1;
    else if (name_is(h->name, "x-sdk-date"))
      info->date = h->value;
    else if (name_is(h->name, "x-sdk-content-sha256"))
      info->content_hash = h->value;
    lua_pop(L, 1);
  }
}

static void add_header(lua_State *L, sign_state *st, header_info *info,
                       const char *name, slice value) {
  header *h;
  if (grow_headers(st, info->count) != 0)
    luaL_error(L, "hwcloud.core: out of memory");
  h = &st->hdrs[info->count++];
  h->name.p = name;
  h->name.n = strlen(name);
  h->value = value;
}

/* phase B: canonical request into st->canon; *signed_off and *signed_len
** locate the signed-headers list in it. -1 when out of memory or when a
** digest fails. */
static int build_canonical(sign_state *st, slice method, const url_parts *u,
                           const header_info *info, slice body,
                           size_t *signed_off, size_t *signed_len) {
  hwc_buf *b = &st->canon;
  char body_hex[HEX_LEN];
  slice payload;
  size_t k, off;
  hwc_buf_reset(b);
  if (add_slice(b, method) != 0 || hwc_buf_addc(b, '\n') != 0) return -1;
  if (add_canonical_uri(st, u->path) != 0 || hwc_buf_addc(b, '\n') != 0)
    return -1;
  if (add_canonical_query(st, u->query) != 0 || hwc_buf_addc(b, '\n') != 0)
    return -1;
  for (k = 0; k < info->count; k++) {
    const header *h = &st->hdrs[k];
    if (add_lower(b, h->name) != 0 || hwc_buf_addc(b, ':') != 0 ||
        add_slice(b, h->value) != 0 || hwc_buf_addc(b, '\n') != 0)
      return -1;
  }
  if (hwc_buf_addc(b, '\n') != 0) return -1;
  off = b->len;
  for (k = 0; k < info->count; k++) {
    if (k > 0 && hwc_buf_addc(b, ';') != 0) return -1;
    if (add_lower(b, st->hdrs[k].name) != 0) return -1;
  }
  *signed_len = b->len - off;
  if (hwc_buf_addc(b, '\n') != 0) return -1;
  if (info->content_hash.p != NULL) {
    payload = info->content_hash;
  } else if (body.n == 0) {
    payload.p = empty_hex;
    payload.n = HEX_LEN;
  } else {
    unsigned char d[DIGEST_LEN];
    if (sha256(st, &body, 1, d) != 0) return -1;
    to_hex(d, DIGEST_LEN, body_hex);
    payload.p = body_hex;
    payload.n = HEX_LEN;
  }
  if (add_slice(b, payload) != 0) return -1;
  *signed_off = off;
  return 0;
}

static int l_sign(lua_State *L) {
  sign_state *st = state_of(L);
  slice method, url, body, ak, sk, date;
  url_parts u;
  header_info info;
  char now[DATE_LEN + 1];
  char hex[HEX_LEN], sig_hex[HEX_LEN];
  unsigned char d[DIGEST_LEN];
  slice sts[5];
  size_t signed_off = 0, signed_len = 0, k;
  int date_generated = 0, failed = 0;

  lua_settop(L, 6);
  method.p = luaL_checklstring(L, 1, &method.n);
  url.p = luaL_checklstring(L, 2, &url.n);
  luaL_checktype(L, 3, LUA_TTABLE);
  body.p = "";
  body.n = 0;
  if (!lua_isnil(L, 4)) {
    if (lua_type(L, 4) != LUA_TSTRING)
      return luaL_argerror(L, 4, "string or nil expected");
    body.p = lua_tolstring(L, 4, &body.n);
  }
  ak.p = luaL_checklstring(L, 5, &ak.n);
  sk.p = luaL_checklstring(L, 6, &sk.n);
  /* the message names the problem only: a URL may carry userinfo */
  if (parse_url(url.p, url.n, &u) != 0)
    return luaL_argerror(L, 2, "URL must be scheme://host[:port][/path]");

  /* phase A */
  collect_headers(L, st, 3, &info);
  if (!info.has_host) add_header(L, st, &info, "host", u.host);
  if (info.date.p != NULL) {
    date = info.date;
  } else {
    if (utc_now(now) != 0)
      return luaL_error(L, "hwcloud.core: cannot read the UTC time");
    date.p = now;
    date.n = DATE_LEN;
    date_generated = 1;
    add_header(L, st, &info, "x-sdk-date", date);
  }
  qsort(st->hdrs, info.count, sizeof *st->hdrs, cmp_header);
  for (k = 1; k < info.count; k++)
    if (cmp_lower(st->hdrs[k - 1].name, st->hdrs[k].name) == 0)
      return luaL_argerror(
          L, 3,
          lua_pushfstring(L, "header '%s' given twice (names are "
                             "case-insensitive)",
                          st->hdrs[k].name.p));

  /* phase B */
  if (build_canonical(st, method, &u, &info, body, &signed_off,
                      &signed_len) != 0) {
    failed = 1;
  } else {
    slice cr;
    cr.p = st->canon.data;
    cr.n = st->canon.len;
    if (sha256(st, &cr, 1, d) != 0) failed = 1;
  }
  if (!failed) {
    to_hex(d, DIGEST_LEN, hex);
    sts[0].p = ALGORITHM "\n";
    sts[0].n = sizeof(ALGORITHM "\n") - 1;
    sts[1] = date;
    sts[2].p = "\n";
    sts[2].n = 1;
    sts[3].p = hex;
    sts[3].n = HEX_LEN;
    if (hmac_sha256(st, sk.p, sk.n, sts, 4, d) != 0) failed = 1;
  }
  if (!failed) {
    hwc_buf *a = &st->scratch;
    to_hex(d, DIGEST_LEN, sig_hex);
    hwc_buf_reset(a);
    if (hwc_buf_adds(a, ALGORITHM " Access=") != 0 || add_slice(a, ak) != 0 ||
        hwc_buf_adds(a, ", SignedHeaders=") != 0 ||
        hwc_buf_add(a, st->canon.data + signed_off, signed_len) != 0 ||
        hwc_buf_adds(a, ", Signature=") != 0 ||
        hwc_buf_add(a, sig_hex, HEX_LEN) != 0)
      failed = 1;
  }
  if (failed) {
    trim_scratch(&st->canon);
    trim_scratch(&st->scratch);
    return luaL_error(L, "hwcloud.core: signing failed (out of memory or "
                         "digest error)");
  }

  /* phase C: copy the Authorization out of the scratch buffer first */
  lua_pushlstring(L, st->scratch.data, st->scratch.len); /* 7 */
  trim_scratch(&st->canon);
  trim_scratch(&st->scratch);
  lua_createtable(L, 0, (int)(info.count + 1)); /* 8 */
  lua_pushnil(L);
  while (lua_next(L, 3) != 0) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, 8);
  }
  if (!info.has_host) {
    lua_pushlstring(L, u.host.p, u.host.n);
    lua_setfield(L, 8, "Host");
  }
  if (date_generated) {
    lua_pushlstring(L, now, DATE_LEN);
    lua_setfield(L, 8, "X-Sdk-Date");
  }
  lua_pushvalue(L, 7);
  lua_setfield(L, 8, "Authorization");
  return 1;
}

/* ---- helpers -------------------------------------------------------- */

static int l_sha256_hex(lua_State *L) {
  sign_state *st = state_of(L);
  unsigned char d[DIGEST_LEN];
  char hex[HEX_LEN];
  slice s;
  s.p = luaL_checklstring(L, 1, &s.n);
  if (sha256(st, &s, 1, d) != 0)
    return luaL_error(L, "hwcloud.core: SHA-256 failed");
  to_hex(d, DIGEST_LEN, hex);
  lua_pushlstring(L, hex, HEX_LEN);
  return 1;
}

static int l_hmac_sha256_hex(lua_State *L) {
  sign_state *st = state_of(L);
  unsigned char d[DIGEST_LEN];
  char hex[HEX_LEN];
  slice key, msg;
  key.p = luaL_checklstring(L, 1, &key.n);
  msg.p = luaL_checklstring(L, 2, &msg.n);
  if (hmac_sha256(st, key.p, key.n, &msg, 1, d) != 0)
    return luaL_error(L, "hwcloud.core: HMAC-SHA256 failed");
  to_hex(d, DIGEST_LEN, hex);
  lua_pushlstring(L, hex, HEX_LEN);
  return 1;
}

void hwc_open_sign(lua_State *L) {
  static const luaL_Reg funcs[] = {{"sign", l_sign},
                                   {"sha256_hex", l_sha256_hex},
                                   {"hmac_sha256_hex", l_hmac_sha256_hex},
                                   {NULL, NULL}};
  sign_state *st = (sign_state *)lua_newuserdatauv(L, sizeof *st, 0);
  memset(st, 0, sizeof *st);
  hwc_buf_init(&st->canon);
  hwc_buf_init(&st->scratch);
  /* the metatable goes on before anything is allocated, so __gc frees
  ** whatever part of the set-up succeeded */
  if (luaL_newmetatable(L, SIGN_STATE_MT)) {
    lua_pushcfunction(L, state_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  st->ctx = EVP_MD_CTX_new();
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  st->md = EVP_MD_fetch(NULL, "SHA256", NULL);
#else
  st->md = EVP_sha256();
#endif
  if (st->ctx == NULL || st->md == NULL)
    luaL_error(L, "hwcloud.core: cannot set up SHA-256");
  luaL_setfuncs(L, funcs, 1);
}
