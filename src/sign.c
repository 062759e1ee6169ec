/*
** sign.c -- SDK-HMAC-SHA256 request signing (core.sign_checked, core.sign)
** and two digest helpers (core.sha256_hex, core.hmac_sha256_hex).
**
** The file reads as the algorithm: canonical URI, canonical query,
** canonical headers, canonical request, string to sign, signature. One
** entry point (sign_request) reports bad input as nil, field, message;
** core.sign is a thin wrapper that raises instead.
**
** Ownership: the digest contexts, the cached HMAC key pads and the scratch
** buffers live in one userdata shared by the functions as an upvalue, so a
** Lua error raised at any point leaks nothing. Spans point into the Lua
** argument strings, which stay on the stack for the whole call. Between
** reading the headers and pushing the results no Lua allocation happens,
** so no finalizer can re-enter the signer while the buffers are in use.
*/
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "hwcloud.h"

/* only this file touches the signer state */
#define SIGN_STATE_MT "hwcloud.sign.state"

#define ALGORITHM "SDK-HMAC-SHA256"
#define DIGEST_LEN 32
#define BLOCK_LEN 64
#define HEX_LEN 64
#define DATE_LEN 16 /* YYYYMMDDTHHMMSSZ */
/* scratch buffers above this size are released after a call, so one huge
** URL does not pin memory for the life of the state */
#define SCRATCH_KEEP (64 * 1024)

#define TOKEN_HEADER "X-Security-Token"

/* hex SHA-256 of the empty string: spares a digest for bodiless requests */
static const char empty_hex[HEX_LEN + 1] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
typedef EVP_MD sign_md;
#else
typedef const EVP_MD sign_md;
#endif

typedef struct header {
  hwc_slice name;  /* as given; lower-cased on output */
  hwc_slice value; /* trimmed */
} header;

typedef struct param { /* a query parameter, percent-decoded */
  hwc_slice key;
  hwc_slice value;
} param;

typedef struct sign_state {
  /* OpenSSL 3's one-shot calls fetch the algorithm and allocate a context
  ** each time; fetched once and reused instead */
  sign_md *md;
  EVP_MD_CTX *ctx;
  /* HMAC contexts after absorbing the inner and outer pads of the last
  ** key: a client signs every request with the same SK, so the pads are
  ** hashed once per key, not per call */
  EVP_MD_CTX *hinner, *houter;
  unsigned char *hkey; /* that key, to recognise it; wiped when replaced */
  size_t hkey_len, hkey_cap;
  int hkey_ok;
  hwc_buf canon;   /* the canonical request */
  hwc_buf scratch; /* decoded path segments and query, then Authorization */
  header *hdrs;
  size_t hdr_cap;
  param *params;
  size_t param_cap;
} sign_state;

/* one request being signed */
typedef struct request {
  hwc_slice method, body, ak, sk, token; /* token.p == NULL: none */
  hwc_url url;
  size_t nhdrs;
  int has_host;
  hwc_slice date;         /* X-Sdk-Date, given or generated */
  hwc_slice content_hash; /* X-Sdk-Content-Sha256 when given */
  char date_buf[DATE_LEN + 1];
  int date_generated;
  int upper_method;
} request;

/* ---- state ---------------------------------------------------------- */

static void hkey_forget(sign_state *st) {
  st->hkey_ok = 0;
  if (st->hkey != NULL) OPENSSL_cleanse(st->hkey, st->hkey_cap);
  st->hkey_len = 0;
}

/* __gc: idempotent, each pointer is cleared as it is freed. Freeing a
** digest context clears its state, the key-derived values included. */
static int state_gc(lua_State *L) {
  sign_state *st = (sign_state *)lua_touserdata(L, 1);
  if (st == NULL) return 0;
  hkey_forget(st);
  free(st->hkey);
  st->hkey = NULL;
  st->hkey_cap = 0;
  EVP_MD_CTX_free(st->hinner);
  st->hinner = NULL;
  EVP_MD_CTX_free(st->houter);
  st->houter = NULL;
  EVP_MD_CTX_free(st->ctx);
  st->ctx = NULL;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  EVP_MD_free(st->md);
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
  return 0;
}

static sign_state *state_of(lua_State *L) {
  sign_state *st = (sign_state *)lua_touserdata(L, lua_upvalueindex(1));
  /* a finalizer run at lua_close may call us after our own __gc */
  if (st == NULL || st->ctx == NULL || st->md == NULL)
    luaL_error(L, "hwcloud.core: signer state is closed");
  return st;
}

/* makes room for need elements in an array of the state; -1 when out of
** memory (the old block is then untouched) */
static int grow(void **arr, size_t *cap, size_t need, size_t elem) {
  size_t ncap = *cap ? *cap : 16;
  void *p;
  if (need <= *cap) return 0;
  while (ncap < need) {
    if (ncap > ((size_t)-1) / 2 / elem) return -1;
    ncap *= 2;
  }
  p = realloc(*arr, ncap * elem);
  if (p == NULL) return -1;
  *arr = p;
  *cap = ncap;
  return 0;
}

static void trim_scratch(hwc_buf *b) {
  if (b->cap > SCRATCH_KEEP) hwc_buf_free(b);
}

/* ---- digests -------------------------------------------------------- */

static int final32(EVP_MD_CTX *ctx, unsigned char out[DIGEST_LEN]) {
  unsigned int len = 0;
  return EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == DIGEST_LEN ? 0
                                                                       : -1;
}

static int sha256(sign_state *st, const char *p, size_t n,
                  unsigned char out[DIGEST_LEN]) {
  if (EVP_DigestInit_ex(st->ctx, st->md, NULL) != 1 ||
      EVP_DigestUpdate(st->ctx, p, n) != 1)
    return -1;
  return final32(st->ctx, out);
}

/* makes hinner/houter the HMAC pads of key (RFC 2104), unless they already
** are; the key is compared in constant time since it is secret */
static int hmac_set_key(sign_state *st, const char *key, size_t klen) {
  unsigned char k[BLOCK_LEN], pad[BLOCK_LEN];
  size_t i;
  int rc = -1;
  if (st->hkey_ok && st->hkey_len == klen &&
      (klen == 0 || CRYPTO_memcmp(st->hkey, key, klen) == 0))
    return 0;
  hkey_forget(st);
  if (klen > st->hkey_cap) {
    unsigned char *p = (unsigned char *)malloc(klen);
    if (p == NULL) return -1;
    free(st->hkey); /* wiped by hkey_forget */
    st->hkey = p;
    st->hkey_cap = klen;
  }
  memset(k, 0, sizeof k);
  if (klen > BLOCK_LEN) { /* long keys are hashed first */
    if (sha256(st, key, klen, k) != 0) goto done;
  } else if (klen > 0) {
    memcpy(k, key, klen);
  }
  for (i = 0; i < BLOCK_LEN; i++) pad[i] = (unsigned char)(k[i] ^ 0x36);
  if (EVP_DigestInit_ex(st->hinner, st->md, NULL) != 1 ||
      EVP_DigestUpdate(st->hinner, pad, BLOCK_LEN) != 1)
    goto done;
  for (i = 0; i < BLOCK_LEN; i++) pad[i] = (unsigned char)(k[i] ^ 0x5c);
  if (EVP_DigestInit_ex(st->houter, st->md, NULL) != 1 ||
      EVP_DigestUpdate(st->houter, pad, BLOCK_LEN) != 1)
    goto done;
  if (klen > 0) memcpy(st->hkey, key, klen);
  st->hkey_len = klen;
  st->hkey_ok = 1;
  rc = 0;
done:
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
  return rc;
}

/* HMAC-SHA256 from copies of the cached pad contexts */
static int hmac_sha256(sign_state *st, hwc_slice key, const char *msg,
                       size_t n, unsigned char out[DIGEST_LEN]) {
  unsigned char inner[DIGEST_LEN];
  int rc = -1;
  if (hmac_set_key(st, key.p, key.n) != 0) return -1;
  if (EVP_MD_CTX_copy_ex(st->ctx, st->hinner) == 1 &&
      EVP_DigestUpdate(st->ctx, msg, n) == 1 && final32(st->ctx, inner) == 0 &&
      EVP_MD_CTX_copy_ex(st->ctx, st->houter) == 1 &&
      EVP_DigestUpdate(st->ctx, inner, DIGEST_LEN) == 1 &&
      final32(st->ctx, out) == 0)
    rc = 0;
  OPENSSL_cleanse(inner, sizeof inner);
  return rc;
}

/* ---- strings -------------------------------------------------------- */

static int is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
         c == '\f';
}

static hwc_slice trim(const char *p, size_t n) {
  hwc_slice s;
  while (n > 0 && is_space((unsigned char)p[0])) p++, n--;
  while (n > 0 && is_space((unsigned char)p[n - 1])) n--;
  s.p = p;
  s.n = n;
  return s;
}

/* bytewise order, shorter first on a common prefix */
static int cmp_bytes(hwc_slice a, hwc_slice b) {
  size_t n = a.n < b.n ? a.n : b.n;
  int c = n ? memcmp(a.p, b.p, n) : 0;
  return c != 0 ? c : (a.n > b.n) - (a.n < b.n);
}

/* bytewise order of the lower-cased strings */
static int cmp_lower(hwc_slice a, hwc_slice b) {
  size_t i, n = a.n < b.n ? a.n : b.n;
  for (i = 0; i < n; i++) {
    unsigned char x = hwc_lower((unsigned char)a.p[i]);
    unsigned char y = hwc_lower((unsigned char)b.p[i]);
    if (x != y) return x < y ? -1 : 1;
  }
  return (a.n > b.n) - (a.n < b.n);
}

static int name_is(hwc_slice name, const char *lower_lit) {
  size_t i, n = strlen(lower_lit);
  if (name.n != n) return 0;
  for (i = 0; i < n; i++)
    if (hwc_lower((unsigned char)name.p[i]) != (unsigned char)lower_lit[i])
      return 0;
  return 1;
}

/* a header name the API refuses: empty, or with a control character, a
** space or ':'; a value: with CR, LF or NUL */
static int bad_name(const char *p, size_t n) {
  return n == 0 || hwc_has_ctl(p, n, 1) || memchr(p, ':', n) != NULL;
}

static int bad_value(const char *p, size_t n) {
  return memchr(p, '\r', n) || memchr(p, '\n', n) || memchr(p, '\0', n);
}

/* a key or value of the query, decoded into the scratch buffer (reserved
** up front by the caller, so it never moves) */
static hwc_slice decoded(hwc_buf *scratch, const char *p, size_t n) {
  hwc_slice s;
  s.p = scratch->data + scratch->len;
  s.n = hwc_pct_decode(scratch->data + scratch->len, p, n);
  scratch->len += s.n;
  return s;
}

static int add_lower(hwc_buf *b, hwc_slice s) {
  size_t i;
  if (hwc_buf_reserve(b, s.n) != 0) return -1;
  for (i = 0; i < s.n; i++)
    b->data[b->len++] = (char)hwc_lower((unsigned char)s.p[i]);
  return 0;
}

/* ---- the canonical request ------------------------------------------ */

/* each path segment decoded once and re-encoded, joined with '/', ending
** in '/'; "/" for an empty path */
static int canonical_uri(sign_state *st, hwc_buf *b, hwc_slice path) {
  size_t i, start = 0;
  int rc = 0;
  for (i = 0; i <= path.n; i++) {
    hwc_buf *d = &st->scratch;
    if (i < path.n && path.p[i] != '/') continue;
    if (memchr(path.p + start, '%', i - start) == NULL) {
      rc |= hwc_buf_add_urlenc(b, path.p + start, i - start);
    } else {
      hwc_buf_reset(d);
      if (hwc_buf_reserve(d, i - start) != 0) return -1;
      d->len = hwc_pct_decode(d->data, path.p + start, i - start);
      rc |= hwc_buf_add_urlenc(b, d->data, d->len);
    }
    if (i < path.n) rc |= hwc_buf_addc(b, '/');
    start = i + 1;
  }
  if (rc == 0 && (b->len == 0 || b->data[b->len - 1] != '/'))
    rc = hwc_buf_addc(b, '/');
  return rc;
}

static int cmp_param(const void *a, const void *b) {
  const param *x = (const param *)a, *y = (const param *)b;
  int c = cmp_bytes(x->key, y->key);
  return c != 0 ? c : cmp_bytes(x->value, y->value);
}

/* pairs decoded, sorted by key then value, re-encoded and joined as
** k=v&k=v (an absent '=' is an empty value; empty pieces carry nothing) */
static int canonical_query(sign_state *st, hwc_buf *b, hwc_slice q) {
  size_t i = 0, count = 0, k;
  int rc = 0;
  if (q.n == 0) return 0;
  hwc_buf_reset(&st->scratch);
  if (hwc_buf_reserve(&st->scratch, q.n) != 0) return -1;
  while (i <= q.n) {
    size_t start = i, eq;
    param *pr;
    while (i < q.n && q.p[i] != '&') i++;
    if (i > start) {
      if (grow((void **)&st->params, &st->param_cap, count + 1, sizeof *pr))
        return -1;
      pr = &st->params[count++];
      for (eq = start; eq < i && q.p[eq] != '='; eq++) {
      }
      pr->key = decoded(&st->scratch, q.p + start, eq - start);
      pr->value = decoded(&st->scratch, q.p + eq + (eq < i), i - eq - (eq < i));
    }
    i++;
  }
  qsort(st->params, count, sizeof *st->params, cmp_param);
  for (k = 0; k < count; k++) {
    const param *pr = &st->params[k];
    if (k > 0) rc |= hwc_buf_addc(b, '&');
    rc |= hwc_buf_add_urlenc(b, pr->key.p, pr->key.n);
    rc |= hwc_buf_addc(b, '=');
    rc |= hwc_buf_add_urlenc(b, pr->value.p, pr->value.n);
  }
  return rc;
}

static int cmp_header(const void *a, const void *b) {
  return cmp_lower(((const header *)a)->name, ((const header *)b)->name);
}

/* name:value lines, a blank line, then the signed-headers list, whose
** place in b is given back for the Authorization value */
static int canonical_headers(sign_state *st, const request *r, hwc_buf *b,
                             size_t *signed_at) {
  size_t k;
  int rc = 0;
  for (k = 0; k < r->nhdrs; k++) {
    rc |= add_lower(b, st->hdrs[k].name);
    rc |= hwc_buf_addc(b, ':');
    rc |= hwc_buf_add(b, st->hdrs[k].value.p, st->hdrs[k].value.n);
    rc |= hwc_buf_addc(b, '\n');
  }
  rc |= hwc_buf_addc(b, '\n');
  *signed_at = b->len;
  for (k = 0; k < r->nhdrs; k++) {
    if (k > 0) rc |= hwc_buf_addc(b, ';');
    rc |= add_lower(b, st->hdrs[k].name);
  }
  return rc;
}

/* METHOD \n URI \n query \n headers \n signed \n payload hash */
static int canonical_request(sign_state *st, const request *r,
                             size_t *signed_at, size_t *signed_len) {
  hwc_buf *b = &st->canon;
  char body_hex[HEX_LEN];
  const char *payload = empty_hex;
  size_t k, payload_n = HEX_LEN;
  int rc = 0;
  hwc_buf_reset(b);
  if (r->content_hash.p != NULL) {
    payload = r->content_hash.p;
    payload_n = r->content_hash.n;
  } else if (r->body.n > 0) {
    unsigned char d[DIGEST_LEN];
    if (sha256(st, r->body.p, r->body.n, d) != 0) return -1;
    hwc_hex(d, DIGEST_LEN, body_hex);
    payload = body_hex;
  }
  if (r->upper_method) {
    if (hwc_buf_reserve(b, r->method.n) != 0) return -1;
    for (k = 0; k < r->method.n; k++)
      b->data[b->len++] = (char)hwc_upper((unsigned char)r->method.p[k]);
  } else {
    rc |= hwc_buf_add(b, r->method.p, r->method.n);
  }
  rc |= hwc_buf_addc(b, '\n');
  rc |= canonical_uri(st, b, r->url.path);
  rc |= hwc_buf_addc(b, '\n');
  rc |= canonical_query(st, b, r->url.query);
  rc |= hwc_buf_addc(b, '\n');
  rc |= canonical_headers(st, r, b, signed_at);
  *signed_len = b->len - *signed_at;
  rc |= hwc_buf_addc(b, '\n');
  rc |= hwc_buf_add(b, payload, payload_n);
  return rc;
}

/* ---- string to sign, signature, Authorization ----------------------- */

/* SDK-HMAC-SHA256 \n date \n hex(SHA-256(canonical request)), signed with
** the SK; the Authorization value goes into the scratch buffer */
static int authorization(sign_state *st, const request *r, size_t signed_at,
                         size_t signed_len) {
  char sig[HEX_LEN];
  unsigned char d[DIGEST_LEN];
  hwc_buf *a = &st->scratch;
  int rc = 0;
  if (sha256(st, st->canon.data, st->canon.len, d) != 0) return -1;
  hwc_buf_reset(a);
  /* the string to sign, built in the scratch buffer first */
  rc |= hwc_buf_adds(a, ALGORITHM "\n");
  rc |= hwc_buf_add(a, r->date.p, r->date.n);
  rc |= hwc_buf_addc(a, '\n');
  if (rc != 0 || hwc_buf_reserve(a, HEX_LEN) != 0) return -1;
  hwc_hex(d, DIGEST_LEN, a->data + a->len);
  a->len += HEX_LEN;
  if (hmac_sha256(st, r->sk, a->data, a->len, d) != 0) return -1;
  hwc_hex(d, DIGEST_LEN, sig);
  hwc_buf_reset(a);
  rc |= hwc_buf_adds(a, ALGORITHM " Access=");
  rc |= hwc_buf_add(a, r->ak.p, r->ak.n);
  rc |= hwc_buf_adds(a, ", SignedHeaders=");
  rc |= hwc_buf_add(a, st->canon.data + signed_at, signed_len);
  rc |= hwc_buf_adds(a, ", Signature=");
  rc |= hwc_buf_add(a, sig, HEX_LEN);
  return rc;
}

/* ---- reading the arguments ------------------------------------------ */

static int input_error(lua_State *L, const char *field, const char *msg) {
  lua_pushnil(L);
  lua_pushstring(L, field);
  lua_pushstring(L, msg);
  return 3;
}

/* the message names a bad header: "header 'name" then what is wrong (the
** name may hold any byte, so it is concatenated, not formatted) */
static int bad_header(lua_State *L, int key, const char *what) {
  key = lua_absindex(L, key);
  lua_pushnil(L);
  lua_pushliteral(L, "headers");
  lua_pushliteral(L, "header '");
  lua_pushvalue(L, key);
  lua_pushstring(L, what);
  lua_concat(L, 3);
  return 3;
}

/* checks the headers table at idx: string names, string values (or, with
** numbers_ok, numbers, which are replaced by a copy of the table with them
** as tostring gives them; the caller's table is left alone), nothing that
** would break a header line. 0 when good, else 3 (nil, field, message). */
static int check_headers(lua_State *L, int idx, int numbers_ok) {
  int numbers = 0;
  if (lua_isnil(L, idx)) return 0;
  if (!lua_istable(L, idx)) return input_error(L, "headers", "expected a table");
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    int vt = lua_type(L, -1);
    size_t kn, vn;
    const char *k, *v;
    if (lua_type(L, -2) != LUA_TSTRING)
      return input_error(L, "headers", "names must be strings");
    if (vt != LUA_TSTRING && (vt != LUA_TNUMBER || !numbers_ok))
      return bad_header(L, -2, numbers_ok ? "' must be a string or a number"
                                          : "' must be a string");
    numbers |= vt == LUA_TNUMBER;
    k = lua_tolstring(L, -2, &kn);
    v = lua_tolstring(L, -1, &vn); /* converts the stack copy only */
    if (bad_name(k, kn) || bad_value(v, vn))
      return bad_header(L, -2, "' has a bad name or value");
    lua_pop(L, 1);
  }
  if (numbers) {
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
      if (lua_type(L, -1) == LUA_TNUMBER) lua_tolstring(L, -1, NULL);
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, -4);
    }
    lua_replace(L, idx);
  }
  return 0;
}

/* the headers (already checked) into st->hdrs, noting Host, X-Sdk-Date
** and X-Sdk-Content-Sha256; with a security token, an X-Security-Token
** entry is left out (the token replaces it) */
static int collect_headers(lua_State *L, sign_state *st, int idx,
                           request *r) {
  r->nhdrs = 0;
  if (lua_isnil(L, idx)) return 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    header *h;
    size_t kn, vn;
    const char *k = lua_tolstring(L, -2, &kn);
    const char *v = lua_tolstring(L, -1, &vn);
    lua_pop(L, 1);
    if (r->token.p != NULL && kn == sizeof(TOKEN_HEADER) - 1 &&
        memcmp(k, TOKEN_HEADER, kn) == 0)
      continue;
    if (grow((void **)&st->hdrs, &st->hdr_cap, r->nhdrs + 1, sizeof *h)) {
      lua_pop(L, 1);
      return -1;
    }
    h = &st->hdrs[r->nhdrs++];
    h->name.p = k;
    h->name.n = kn;
    h->value = trim(v, vn);
    if (name_is(h->name, "host")) r->has_host = 1;
    else if (name_is(h->name, "x-sdk-date")) r->date = h->value;
    else if (name_is(h->name, "x-sdk-content-sha256")) r->content_hash = h->value;
  }
  return 0;
}

/* a header the signer adds (Host, X-Sdk-Date, X-Security-Token) */
static int add_header(sign_state *st, request *r, const char *name,
                      hwc_slice value) {
  header *h;
  if (grow((void **)&st->hdrs, &st->hdr_cap, r->nhdrs + 1, sizeof *h))
    return -1;
  h = &st->hdrs[r->nhdrs++];
  h->name.p = name;
  h->name.n = strlen(name);
  h->value = value;
  return 0;
}

/* UTC now as YYYYMMDDTHHMMSSZ */
static int utc_now(char out[DATE_LEN + 1]) {
  struct tm tm;
  time_t t = time(NULL);
  if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL) return -1;
  return strftime(out, DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm) == DATE_LEN ? 0
                                                                         : -1;
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

/* method, url, headers, body, ak, sk[, security_token]: the arguments
** checked in the order the public API has always checked them (number
** header values only in the checked form); 0 when good, else 3 (nil,
** field, message pushed) */
static int read_request(lua_State *L, request *r, int url_flags) {
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
  if ((msg = hwc_url_parse(url, n, url_flags, &r->url)) != NULL)
    return input_error(L, "url", msg);
  if (!lua_isnil(L, 3) && !lua_istable(L, 3))
    return input_error(L, "headers", "expected a table");
  if (!lua_isnil(L, 4) && lua_type(L, 4) != LUA_TSTRING)
    return input_error(L, "body", "expected a string");
  r->body.p = "";
  if (!lua_isnil(L, 4)) r->body.p = lua_tolstring(L, 4, &r->body.n);
  if ((rc = check_key(L, 5, "ak", &r->ak)) != 0 ||
      (rc = check_key(L, 6, "sk", &r->sk)) != 0 ||
      (rc = check_headers(L, 3, r->upper_method)) != 0)
    return rc;
  if (!lua_isnil(L, 7)) {
    if (lua_type(L, 7) != LUA_TSTRING)
      return input_error(L, "security_token", "expected a string");
    r->token.p = lua_tolstring(L, 7, &r->token.n);
    if (hwc_has_ctl(r->token.p, r->token.n, 0))
      return input_error(L, "security_token",
                         "must not contain control characters");
  }
  return 0;
}

/* the result: a copy of the headers with Host, X-Sdk-Date (when made
** here), X-Security-Token and Authorization added; the Authorization
** value is on top of the stack */
static void push_result(lua_State *L, const request *r) {
  int auth = lua_gettop(L), out;
  lua_createtable(L, 0, (int)r->nhdrs + 2);
  out = lua_gettop(L);
  if (!lua_isnil(L, 3)) {
    lua_pushnil(L);
    while (lua_next(L, 3) != 0) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, out);
    }
  }
  if (!r->has_host) {
    lua_pushlstring(L, r->url.hostport.p, r->url.hostport.n);
    lua_setfield(L, out, "Host");
  }
  if (r->date_generated) {
    lua_pushlstring(L, r->date.p, r->date.n);
    lua_setfield(L, out, "X-Sdk-Date");
  }
  if (r->token.p != NULL) {
    lua_pushvalue(L, 7);
    lua_setfield(L, out, TOKEN_HEADER);
  }
  lua_pushvalue(L, auth);
  lua_setfield(L, out, "Authorization");
}

/* the one entry point: signed headers, or nil, field, message. checked
** (hwcloud.sign's form) upper-cases the method and refuses spaces and
** control characters in the URL. */
static int sign_request(lua_State *L, int checked) {
  sign_state *st = state_of(L);
  request r;
  size_t k, signed_at = 0, signed_len = 0;
  int rc;
  memset(&r, 0, sizeof r);
  r.upper_method = checked;
  lua_settop(L, 7);
  if ((rc = read_request(L, &r, checked ? 0 : HWC_URL_LAX)) != 0) return rc;
  /* from here to the pushes below no Lua allocation happens */
  if (collect_headers(L, st, 3, &r) != 0) goto failed;
  if (r.token.p != NULL &&
      add_header(st, &r, TOKEN_HEADER, trim(r.token.p, r.token.n)) != 0)
    goto failed;
  if (!r.has_host && add_header(st, &r, "host", r.url.hostport) != 0)
    goto failed;
  if (r.date.p == NULL) {
    if (utc_now(r.date_buf) != 0)
      return luaL_error(L, "hwcloud.core: cannot read the UTC time");
    r.date.p = r.date_buf;
    r.date.n = DATE_LEN;
    r.date_generated = 1;
    if (add_header(st, &r, "x-sdk-date", r.date) != 0) goto failed;
  }
  qsort(st->hdrs, r.nhdrs, sizeof *st->hdrs, cmp_header);
  for (k = 1; k < r.nhdrs; k++)
    if (cmp_header(&st->hdrs[k - 1], &st->hdrs[k]) == 0) {
      lua_pushnil(L);
      lua_pushliteral(L, "headers");
      lua_pushfstring(L, "header '%s' given twice (names are case-insensitive)",
                      st->hdrs[k].name.p);
      return 3;
    }
  if (canonical_request(st, &r, &signed_at, &signed_len) != 0 ||
      authorization(st, &r, signed_at, signed_len) != 0)
    goto failed;
  lua_pushlstring(L, st->scratch.data, st->scratch.len);
  trim_scratch(&st->canon);
  trim_scratch(&st->scratch);
  push_result(L, &r);
  return 1;
failed:
  trim_scratch(&st->canon);
  trim_scratch(&st->scratch);
  return luaL_error(L, "hwcloud.core: signing failed (out of memory or "
                       "digest error)");
}

/* core.sign_checked (behind hwcloud.sign): headers may be nil, number
** values are signed as tostring gives them, the method is upper-cased */
static int l_sign_checked(lua_State *L) { return sign_request(L, 1); }

static int arg_of(const char *field) {
  static const char *const fields[] = {"method", "url", "headers", "body",
                                       "ak", "sk"};
  int i;
  for (i = 0; i < 6; i++)
    if (strcmp(field, fields[i]) == 0) return i + 1;
  return 3;
}

/* core.sign(method, url, headers, body, ak, sk): the transport's form,
** stricter about types (a headers table of strings), the method and the
** URL as given, raising on bad input */
static int l_sign(lua_State *L) {
  luaL_checkstring(L, 1);
  luaL_checkstring(L, 2);
  luaL_checktype(L, 3, LUA_TTABLE);
  if (!lua_isnil(L, 4) && lua_type(L, 4) != LUA_TSTRING)
    luaL_argerror(L, 4, "string or nil expected");
  luaL_checkstring(L, 5);
  luaL_checkstring(L, 6);
  lua_settop(L, 6);
  if (sign_request(L, 0) == 3) {
    const char *field = lua_tostring(L, -2);
    return luaL_argerror(L, arg_of(field),
                         lua_pushfstring(L, "%s: %s", field, lua_tostring(L, -1)));
  }
  return 1;
}

/* ---- digest helpers ------------------------------------------------- */

static int l_sha256_hex(lua_State *L) {
  sign_state *st = state_of(L);
  unsigned char d[DIGEST_LEN];
  char hex[HEX_LEN];
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  if (sha256(st, s, n, d) != 0)
    return luaL_error(L, "hwcloud.core: SHA-256 failed");
  hwc_hex(d, DIGEST_LEN, hex);
  lua_pushlstring(L, hex, HEX_LEN);
  return 1;
}

static int l_hmac_sha256_hex(lua_State *L) {
  sign_state *st = state_of(L);
  unsigned char d[DIGEST_LEN];
  char hex[HEX_LEN];
  hwc_slice key;
  size_t n;
  const char *msg;
  key.p = luaL_checklstring(L, 1, &key.n);
  msg = luaL_checklstring(L, 2, &n);
  if (hmac_sha256(st, key, msg, n, d) != 0)
    return luaL_error(L, "hwcloud.core: HMAC-SHA256 failed");
  hwc_hex(d, DIGEST_LEN, hex);
  lua_pushlstring(L, hex, HEX_LEN);
  return 1;
}

void hwc_open_sign(lua_State *L) {
  static const luaL_Reg funcs[] = {{"sign", l_sign},
                                   {"sign_checked", l_sign_checked},
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
  st->hinner = EVP_MD_CTX_new();
  st->houter = EVP_MD_CTX_new();
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  st->md = EVP_MD_fetch(NULL, "SHA256", NULL);
#else
  st->md = EVP_sha256();
#endif
  if (st->ctx == NULL || st->hinner == NULL || st->houter == NULL ||
      st->md == NULL)
    luaL_error(L, "hwcloud.core: cannot set up SHA-256");
  luaL_setfuncs(L, funcs, 1);
}
