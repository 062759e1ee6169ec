/*
** sign.c -- SDK-HMAC-SHA256 request signing (core.sign, core.sign_checked)
** and two digest helpers (core.sha256_hex, core.hmac_sha256_hex).
**
** All working memory (digest contexts, scratch buffers, slice arrays, the
** cached HMAC key schedule) lives in one userdata shared by the functions
** as an upvalue, so a call makes no heap allocation of its own once the
** buffers have grown, and a Lua error raised at any point cannot leak: the
** userdata still owns everything.
**
** A call runs in three phases. (A) read the arguments and the headers
** table, keeping pointers into the Lua strings (they stay alive because the
** arguments stay on the stack); (B) build the canonical request and the
** signature in plain C; (C) push the results. Phases A and B make no Lua
** allocation, so no finalizer can run and re-enter the signer while the
** scratch buffers are in use; phase C copies the Authorization value into a
** Lua string before anything else.
**
** core.sign raises on bad arguments. core.sign_checked (behind the public
** hwcloud.sign) also refuses what would break a request line (CR/LF and
** other control characters) and reports bad input as nil, field, message,
** so the Lua wrapper does not scan the strings a second time.
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

/* upvalues of the signing functions: the state, then header names pushed
** once so the result table is filled without re-hashing C strings */
#define UV_STATE 1
#define UV_HOST 2
#define UV_DATE 3
#define UV_AUTH 4
#define UV_TOKEN 5
#define UV_COUNT 5

#define TOKEN_HEADER "X-Security-Token"

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
  size_t lower_at; /* where the lower-cased name sits in the canonical request */
} header;

/* a query parameter, percent-decoded */
typedef struct param {
  slice key;
  slice value;
} param;

typedef struct sign_state {
  sign_md *md;     /* fetched once: an implicit fetch per init is slow */
  EVP_MD_CTX *ctx; /* reused for every digest */
  /* HMAC key schedule of the last key: the contexts after absorbing the
  ** inner and outer pads. Every request of a client signs with the same
  ** SK, so the two pad blocks are hashed once per key, not per call. */
  EVP_MD_CTX *hinner;
  EVP_MD_CTX *houter;
  unsigned char *hkey; /* copy of that key, to recognise it; wiped */
  size_t hkey_len;
  size_t hkey_cap;
  int hkey_ok; /* hinner/houter hold the schedule of hkey */
  /* X-Sdk-Date of the last second a date was generated in */
  time_t date_t;
  char date_s[DATE_LEN + 1];
  hwc_buf canon;   /* canonical request */
  hwc_buf scratch; /* decoded path segments / query, then Authorization */
  header *hdrs;
  size_t hdr_cap;
  param *params;
  size_t param_cap;
} sign_state;

/* ---- byte classes --------------------------------------------------- */

/* RFC 3986 unreserved: A-Z a-z 0-9 - _ . ~ (percent-encoding keeps them) */
#define UNRESERVED_ENTRIES                                                   \
  ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1,                                \
  ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,          \
  ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,                                \
  ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,          \
  ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,          \
  ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,          \
  ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,          \
  ['Y'] = 1, ['Z'] = 1,                                                      \
  ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,          \
  ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,          \
  ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,          \
  ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,          \
  ['y'] = 1, ['z'] = 1

static const unsigned char unreserved[256] = { UNRESERVED_ENTRIES };

/* path bytes kept as they are when a path has nothing to decode: the
** unreserved set and the segment separator '/' */
static const unsigned char path_keep[256] = { UNRESERVED_ENTRIES, ['/'] = 1 };

/* bytes that end a URL's authority */
static const unsigned char authority_end[256] = {
    ['/'] = 1, ['?'] = 1, ['#'] = 1,
};

/*
** Byte scans eight bytes at a time (every signature scans the URL, the
** keys and each header): a byte below `below`, or equal to c1 or c2 (-1:
** none). The word tests are exact for existence, which is all we ask.
*/
#define ONES ((uint64_t)0x0101010101010101u)
#define HIGHS (ONES * 0x80u)

static uint64_t word_has_below(uint64_t x, unsigned below) {
  return (x - ONES * below) & ~x & HIGHS; /* below <= 128 */
}

static uint64_t word_has(uint64_t x, int c) {
  uint64_t y;
  if (c < 0) return 0;
  y = x ^ (ONES * (unsigned)c);
  return (y - ONES) & ~y & HIGHS;
}

static int scan(const char *p, size_t n, unsigned below, int c1, int c2) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x;
    memcpy(&x, p + i, 8);
    if (word_has_below(x, below) | word_has(x, c1) | word_has(x, c2))
      return 1;
  }
  for (; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c < below || c == c1 || c == c2) return 1;
  }
  return 0;
}

/* control characters as Lua's %c sees them (C locale) */
static int has_ctl(const char *p, size_t n) { return scan(p, n, 0x20, 0x7f, -1); }

/* %c or %s: anything that could split a request line */
static int has_ctl_or_space(const char *p, size_t n) {
  return scan(p, n, 0x21, 0x7f, -1);
}

/* ---- state ---------------------------------------------------------- */

/* forgets the cached HMAC key; the copy of the key is wiped */
static void hkey_forget(sign_state *st) {
  st->hkey_ok = 0;
  if (st->hkey != NULL) OPENSSL_cleanse(st->hkey, st->hkey_cap);
  st->hkey_len = 0;
}

static void state_release(sign_state *st) {
  hkey_forget(st);
  free(st->hkey);
  st->hkey = NULL;
  st->hkey_cap = 0;
  /* freeing a digest context clears its algorithm state (the key-derived
  ** chaining values included) */
  if (st->hinner != NULL) EVP_MD_CTX_free(st->hinner);
  st->hinner = NULL;
  if (st->houter != NULL) EVP_MD_CTX_free(st->houter);
  st->houter = NULL;
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
  sign_state *st =
      (sign_state *)lua_touserdata(L, lua_upvalueindex(UV_STATE));
  /* a finalizer run at lua_close may call us after our own __gc */
  if (st == NULL || st->ctx == NULL || st->md == NULL ||
      st->hinner == NULL || st->houter == NULL)
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

static int update_parts(EVP_MD_CTX *ctx, const slice *parts, int nparts) {
  int i;
  for (i = 0; i < nparts; i++)
    if (EVP_DigestUpdate(ctx, parts[i].p, parts[i].n) != 1) return -1;
  return 0;
}

static int final32(EVP_MD_CTX *ctx, unsigned char out[DIGEST_LEN]) {
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, out, &len) != 1 || len != DIGEST_LEN) return -1;
  return 0;
}

/* SHA-256 over several pieces; 0 on success */
static int sha256(sign_state *st, const slice *parts, int nparts,
                  unsigned char out[DIGEST_LEN]) {
  if (EVP_DigestInit_ex(st->ctx, st->md, NULL) != 1) return -1;
  if (update_parts(st->ctx, parts, nparts) != 0) return -1;
  return final32(st->ctx, out);
}

/* makes hinner/houter the HMAC schedule of key (RFC 2104): the contexts
** after hashing key^ipad and key^opad. Kept while the key stays the same;
** the key is compared in constant time since it is secret. */
static int hmac_set_key(sign_state *st, const char *key, size_t klen) {
  unsigned char k[BLOCK_LEN], pad[BLOCK_LEN];
  slice s;
  size_t i;
  int rc = -1;
  if (st->hkey_ok && st->hkey_len == klen &&
      (klen == 0 || CRYPTO_memcmp(st->hkey, key, klen) == 0))
    return 0;
  hkey_forget(st);
  if (klen > st->hkey_cap) {
    /* the old copy is wiped (hkey_forget) before it is freed */
    unsigned char *p = (unsigned char *)malloc(klen);
    if (p == NULL) return -1;
    free(st->hkey);
    st->hkey = p;
    st->hkey_cap = klen;
  }
  memset(k, 0, sizeof k);
  if (klen > BLOCK_LEN) {
    /* long keys are hashed first */
    s.p = key;
    s.n = klen;
    if (sha256(st, &s, 1, k) != 0) goto done;
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
  /* the key schedule is secret material */
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
  return rc;
}

/* HMAC-SHA256 over several pieces, written over digest contexts directly
** (cheaper per call than an EVP_MAC): copies of the cached pad states */
static int hmac_sha256(sign_state *st, const char *key, size_t klen,
                       const slice *parts, int nparts,
                       unsigned char out[DIGEST_LEN]) {
  unsigned char inner[DIGEST_LEN];
  int rc = -1;
  if (hmac_set_key(st, key, klen) != 0) return -1;
  if (EVP_MD_CTX_copy_ex(st->ctx, st->hinner) != 1 ||
      update_parts(st->ctx, parts, nparts) != 0 || final32(st->ctx, inner) != 0)
    goto done;
  if (EVP_MD_CTX_copy_ex(st->ctx, st->houter) != 1 ||
      EVP_DigestUpdate(st->ctx, inner, DIGEST_LEN) != 1 ||
      final32(st->ctx, out) != 0)
    goto done;
  rc = 0;
done:
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

/* case-insensitive equality with a lower-case literal of length n */
static int name_is(slice name, const char *lit, size_t n) {
  size_t i;
  if (name.n != n) return 0;
  for (i = 0; i < n; i++)
    if (lower((unsigned char)name.p[i]) != (unsigned char)lit[i]) return 0;
  return 1;
}

#define NAME_IS(s, lit) name_is((s), lit, sizeof(lit) - 1)

/* insertion sort: a request has a handful of headers, where this beats
** qsort's indirect calls; many headers stay correct, only slower */
static void sort_headers(header *h, size_t n) {
  size_t i, j;
  for (i = 1; i < n; i++) {
    header x = h[i];
    for (j = i; j > 0 && cmp_lower(h[j - 1].name, x.name) > 0; j--)
      h[j] = h[j - 1];
    h[j] = x;
  }
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

/*
** Writers into a buffer reserved up front (build_canonical computes an
** upper bound of the canonical request), so no per-byte capacity checks.
*/

/* percent-encodes s (every byte outside the unreserved set becomes %XY,
** upper-case hex); needs room for 3 * n */
static char *put_urlenc(char *o, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (unreserved[c]) {
      *o++ = (char)c;
    } else {
      o[0] = '%';
      o[1] = hex[c >> 4];
      o[2] = hex[c & 15];
      o += 3;
    }
  }
  return o;
}

static char *put(char *o, const char *s, size_t n) {
  if (n > 0) memcpy(o, s, n);
  return o + n;
}

static char *put_lower(char *o, slice s) {
  size_t i;
  for (i = 0; i < s.n; i++) o[i] = (char)lower((unsigned char)s.p[i]);
  return o + s.n;
}

static char *put_upper(char *o, slice s) {
  size_t i;
  for (i = 0; i < s.n; i++) {
    unsigned char c = (unsigned char)s.p[i];
    o[i] = (char)((c >= 'a' && c <= 'z') ? c - 32 : c);
  }
  return o + s.n;
}

/* a + b, saturating: a saturated bound makes the reservation fail */
static size_t add_sat(size_t a, size_t b) {
  return a > ((size_t)-1) - b ? (size_t)-1 : a + b;
}

static size_t mul_sat(size_t a, size_t k) {
  return a > ((size_t)-1) / k ? (size_t)-1 : a * k;
}

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
  while (e < n && !authority_end[(unsigned char)u[e]]) e++;
  /* userinfo ends at the last '@' of the authority */
  h = a;
  for (i = a; i < e; i++)
    if (u[i] == '@') h = i + 1;
  out->host.p = u + h;
  out->host.n = e - h;
  /* "host:" names no port */
  if (out->host.n > 0 && out->host.p[out->host.n - 1] == ':') out->host.n--;
  if (out->host.n == 0 || out->host.p[0] == ':') return -1;
  /* the path ends at the first '?' or '#' (memchr: the path is most of
  ** a URL) */
  i = n;
  {
    const char *q = (const char *)memchr(u + e, '?', n - e);
    const char *f;
    if (q != NULL) i = (size_t)(q - u);
    f = (const char *)memchr(u + e, '#', i - e);
    if (f != NULL) i = (size_t)(f - u);
  }
  out->path.p = u + e;
  out->path.n = i - e;
  out->query.p = u + i;
  out->query.n = 0;
  if (i < n && u[i] == '?') {
    const char *f = (const char *)memchr(u + i + 1, '#', n - i - 1);
    size_t end = f != NULL ? (size_t)(f - u) : n;
    out->query.p = u + i + 1;
    out->query.n = end - i - 1;
  }
  return 0;
}

static int is_alpha(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* the public wrapper's URL rule, older than parse_url and kept as it was:
** scheme ALPHA *(ALPHA / DIGIT / "+" / "-" / "."), "://", then an
** authority that, after the userinfo up to its first '@', neither is
** empty nor starts with ':' */
static int url_shape_ok(const char *u, size_t n) {
  size_t i = 1, e;
  const char *at;
  if (n == 0 || !is_alpha((unsigned char)u[0])) return 0;
  while (i < n) {
    unsigned char c = (unsigned char)u[i];
    if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' &&
        c != '.')
      break;
    i++;
  }
  if (n - i < 3 || memcmp(u + i, "://", 3) != 0) return 0;
  i += 3;
  e = i;
  while (e < n && !authority_end[(unsigned char)u[e]]) e++;
  at = (const char *)memchr(u + i, '@', e - i);
  if (at != NULL) i = (size_t)(at - u) + 1;
  return i < e && u[i] != ':';
}

/* canonical URI into o: each segment decoded once and re-encoded; ends in
** '/'. Needs room for 3 * path.n + 1; NULL when out of memory. */
static char *put_canonical_uri(sign_state *st, char *o, slice path) {
  size_t i, start = 0;
  const char *first = o;
  if (path.n == 0) {
    *o++ = '/';
    return o;
  }
  if (memchr(path.p, '%', path.n) == NULL) {
    /* nothing to decode: encoding each segment and joining them with '/'
    ** is encoding the whole path with '/' kept */
    for (i = 0; i < path.n; i++) {
      unsigned char c = (unsigned char)path.p[i];
      if (path_keep[c])
        *o++ = (char)c;
      else
        o = put_urlenc(o, path.p + i, 1);
    }
    if (o[-1] != '/') *o++ = '/';
    return o;
  }
  for (i = 0; i <= path.n; i++) {
    const char *seg;
    size_t len;
    if (i < path.n && path.p[i] != '/') continue;
    seg = path.p + start;
    len = i - start;
    if (len > 0 && memchr(seg, '%', len) != NULL) {
      hwc_buf_reset(&st->scratch);
      if (hwc_buf_reserve(&st->scratch, len) != 0) return NULL;
      len = pct_decode(st->scratch.data, seg, len);
      seg = st->scratch.data;
    }
    o = put_urlenc(o, seg, len);
    if (i < path.n) *o++ = '/';
    start = i + 1;
  }
  if (o == first || o[-1] != '/') *o++ = '/';
  return o;
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

/* canonical query into o: pairs decoded, sorted by raw key then raw
** value, re-encoded, "k=v" joined with '&'. Needs room for 4 * q.n (an
** absent '=' is added); NULL when out of memory. */
static char *put_canonical_query(sign_state *st, char *o, slice q) {
  size_t i = 0, count = 0, k;
  if (q.n == 0) return o;
  hwc_buf_reset(&st->scratch);
  if (hwc_buf_reserve(&st->scratch, q.n) != 0) return NULL;
  while (i <= q.n) {
    size_t start = i, eq;
    while (i < q.n && q.p[i] != '&') i++;
    if (i > start) { /* empty pieces ("a=1&&b=2") carry nothing */
      param *pr = (param *)grow(st->params, &st->param_cap, count + 1,
                                sizeof *pr);
      if (pr == NULL) return NULL;
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
    if (k > 0) *o++ = '&';
    o = put_urlenc(o, pr->key.p, pr->key.n);
    *o++ = '=';
    o = put_urlenc(o, pr->value.p, pr->value.n);
  }
  return o;
}

/* ---- the signing functions ------------------------------------------ */

static void put2(char *o, int v) {
  o[0] = (char)('0' + v / 10);
  o[1] = (char)('0' + v % 10);
}

/* UTC now as YYYYMMDDTHHMMSSZ, formatted by hand (strftime goes through
** the locale machinery) and kept for the rest of the second */
static const char *utc_now(sign_state *st) {
  struct tm tm;
  time_t t = time(NULL);
  int y;
  if (t == (time_t)-1) return NULL;
  if (t == st->date_t) return st->date_s;
  if (gmtime_r(&t, &tm) == NULL) return NULL;
  y = tm.tm_year + 1900;
  if (y < 0 || y > 9999) return NULL;
  put2(st->date_s, y / 100);
  put2(st->date_s + 2, y % 100);
  put2(st->date_s + 4, tm.tm_mon + 1);
  put2(st->date_s + 6, tm.tm_mday);
  st->date_s[8] = 'T';
  put2(st->date_s + 9, tm.tm_hour);
  put2(st->date_s + 11, tm.tm_min);
  put2(st->date_s + 13, tm.tm_sec);
  st->date_s[15] = 'Z';
  st->date_s[16] = '\0';
  st->date_t = t;
  return st->date_s;
}

/* what phase A learns from the headers table */
typedef struct header_info {
  size_t count;
  size_t bytes;       /* sum of name and value lengths */
  int has_host;
  slice date;         /* X-Sdk-Date value, p == NULL when absent */
  slice content_hash; /* X-Sdk-Content-Sha256 value, p == NULL when absent */
} header_info;

/* results of collect_headers */
#define COLLECT_OK 0
#define COLLECT_FAILED 1  /* checked mode: nil, field, message pushed */
#define COLLECT_NUMBERS 2 /* checked mode: number values to stringify */

/* a header name the public API refuses: empty, or with a control
** character, a space or ':' */
static int bad_name(const char *p, size_t n) {
  return n == 0 || scan(p, n, 0x21, 0x7f, ':');
}

/* a header value the public API refuses: CR, LF or NUL in it */
static int bad_value(const char *p, size_t n) {
  return scan(p, n, 1, '\r', '\n');
}

/* checked mode: nil, field, message on the stack; returns 3 results */
static int input_error(lua_State *L, const char *field, const char *msg) {
  lua_pushnil(L);
  lua_pushstring(L, field);
  lua_pushstring(L, msg);
  return 3;
}

/* checked mode: the message naming a bad header (the name may hold any
** byte, so it is concatenated, not formatted) */
static void bad_header_error(lua_State *L, int key) {
  key = lua_absindex(L, key);
  lua_pushnil(L);
  lua_pushliteral(L, "headers");
  lua_pushliteral(L, "bad header name or value for '");
  lua_pushvalue(L, key);
  lua_pushliteral(L, "'");
  lua_concat(L, 3);
}

/* phase A: collects the headers at index idx into st->hdrs. core.sign
** raises on misuse (nothing to free: the arrays belong to the state).
** In checked mode, names and values are checked as the public API wants,
** the entry skip_token (when not NULL) is left out, and a number value
** ends the walk with COLLECT_NUMBERS once every entry has been checked:
** it has to become a string first, which allocates. */
static int collect_headers(lua_State *L, sign_state *st, int idx, int checked,
                           const char *skip_token, header_info *info) {
  int numbers = 0;
  memset(info, 0, sizeof *info);
  if (lua_isnil(L, idx)) return COLLECT_OK;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    header *h;
    const char *k, *v;
    size_t kn, vn;
    int vt = lua_type(L, -1);
    if (checked) {
      if (lua_type(L, -2) != LUA_TSTRING ||
          (vt != LUA_TSTRING && vt != LUA_TNUMBER)) {
        input_error(L, "headers", "names and values must be strings");
        return COLLECT_FAILED;
      }
      k = lua_tolstring(L, -2, &kn);
      /* converts the stack copy only; a collection it may cause is
      ** harmless because the walk is then redone from the start */
      if (vt == LUA_TNUMBER) numbers = 1;
      v = lua_tolstring(L, -1, &vn);
      if (bad_name(k, kn) || bad_value(v, vn)) {
        bad_header_error(L, -2);
        return COLLECT_FAILED;
      }
      if (numbers ||
          (skip_token != NULL && kn == sizeof(TOKEN_HEADER) - 1 &&
           memcmp(k, TOKEN_HEADER, kn) == 0)) {
        lua_pop(L, 1);
        continue;
      }
    } else {
      if (lua_type(L, -2) != LUA_TSTRING)
        luaL_argerror(L, idx,
                      lua_pushfstring(L,
                                      "header names must be strings, got %s",
                                      luaL_typename(L, -2)));
      if (vt != LUA_TSTRING)
        luaL_argerror(L, idx,
                      lua_pushfstring(L, "header '%s' must be a string, got %s",
                                      lua_tostring(L, -2),
                                      luaL_typename(L, -1)));
      k = lua_tolstring(L, -2, &kn);
      v = lua_tolstring(L, -1, &vn);
    }
    if (grow_headers(st, info->count) != 0)
      luaL_error(L, "hwcloud.core: out of memory");
    h = &st->hdrs[info->count++];
    h->name.p = k;
    h->name.n = kn;
    h->value = trim(v, vn);
    info->bytes = add_sat(info->bytes, add_sat(kn, h->value.n));
    if (NAME_IS(h->name, "host"))
      info->has_host = 1;
    else if (NAME_IS(h->name, "x-sdk-date"))
      info->date = h->value;
    else if (NAME_IS(h->name, "x-sdk-content-sha256"))
      info->content_hash = h->value;
    lua_pop(L, 1);
  }
  return numbers ? COLLECT_NUMBERS : COLLECT_OK;
}

/* checked mode: replaces the headers table at idx with a copy whose
** number values are strings, as tostring gives them (the caller's table
** is left alone) */
static void stringify_headers(lua_State *L, int idx) {
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

static void add_header(lua_State *L, sign_state *st, header_info *info,
                       const char *name, size_t name_n, slice value) {
  header *h;
  if (grow_headers(st, info->count) != 0)
    luaL_error(L, "hwcloud.core: out of memory");
  h = &st->hdrs[info->count++];
  h->name.p = name;
  h->name.n = name_n;
  h->value = value;
  info->bytes = add_sat(info->bytes, add_sat(name_n, value.n));
}

/* phase B: canonical request into st->canon, in one reservation;
** *signed_off and *signed_len locate the signed-headers list in it. -1
** when out of memory or when a digest fails. */
static int build_canonical(sign_state *st, slice method, int upper,
                           const url_parts *u, const header_info *info,
                           slice body, size_t *signed_off,
                           size_t *signed_len) {
  hwc_buf *b = &st->canon;
  char body_hex[HEX_LEN];
  slice payload;
  size_t k, off, bound;
  char *o;
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
  /* method \n uri \n query \n (name:value\n)* \n names;... \n payload */
  bound = add_sat(method.n, 1);
  bound = add_sat(bound, add_sat(mul_sat(u->path.n, 3), 2));
  bound = add_sat(bound, add_sat(mul_sat(u->query.n, 4), 1));
  bound = add_sat(bound, mul_sat(info->bytes, 2));
  bound = add_sat(bound, add_sat(mul_sat(info->count, 4), 2));
  bound = add_sat(bound, payload.n);
  hwc_buf_reset(b);
  if (hwc_buf_reserve(b, bound) != 0) return -1;
  o = b->data;
  o = upper ? put_upper(o, method) : put(o, method.p, method.n);
  *o++ = '\n';
  if ((o = put_canonical_uri(st, o, u->path)) == NULL) return -1;
  *o++ = '\n';
  if ((o = put_canonical_query(st, o, u->query)) == NULL) return -1;
  *o++ = '\n';
  for (k = 0; k < info->count; k++) {
    header *h = &st->hdrs[k];
    h->lower_at = (size_t)(o - b->data);
    o = put_lower(o, h->name);
    *o++ = ':';
    o = put(o, h->value.p, h->value.n);
    *o++ = '\n';
  }
  *o++ = '\n';
  off = (size_t)(o - b->data);
  for (k = 0; k < info->count; k++) {
    if (k > 0) *o++ = ';';
    o = put(o, b->data + st->hdrs[k].lower_at, st->hdrs[k].name.n);
  }
  *signed_len = (size_t)(o - b->data) - off;
  *o++ = '\n';
  o = put(o, payload.p, payload.n);
  b->len = (size_t)(o - b->data);
  *signed_off = off;
  return 0;
}

/* checked mode: ak or sk at idx: a non-empty string without control
** characters; 0 when good, else 3 (nil, field, message pushed) */
static int check_key(lua_State *L, int idx, const char *field) {
  size_t n;
  const char *p;
  if (lua_type(L, idx) != LUA_TSTRING) return input_error(L, field, "is required");
  p = lua_tolstring(L, idx, &n);
  if (n == 0) return input_error(L, field, "is required");
  if (has_ctl(p, n))
    return input_error(L, field, "must not contain control characters");
  return 0;
}

/* Arguments: method, url, headers, body, ak, sk[, security_token]
** (the token only in checked mode). Checked mode is hwcloud.sign's:
** headers may be nil, number values are signed as tostring gives them,
** the method is upper-cased, and bad input returns nil, field, message
** in the order the public API has always checked it. */
static int do_sign(lua_State *L, int checked) {
  sign_state *st = state_of(L);
  slice method, url, body, ak, sk, date, token;
  url_parts u;
  header_info info;
  char now[DATE_LEN], hex[HEX_LEN], sig_hex[HEX_LEN];
  unsigned char d[DIGEST_LEN];
  slice sts[5];
  size_t signed_off = 0, signed_len = 0, k;
  int date_generated = 0, failed = 0, rc;
  hwc_buf *a = &st->scratch;

  lua_settop(L, 7);
  token.p = NULL;
  token.n = 0;
  body.p = "";
  body.n = 0;
  if (checked) {
    if (lua_type(L, 1) != LUA_TSTRING || lua_rawlen(L, 1) == 0)
      return input_error(L, "method", "expected a non-empty string");
    method.p = lua_tolstring(L, 1, &method.n);
    if (lua_type(L, 2) != LUA_TSTRING)
      return input_error(L, "url", "expected an absolute URL with a host");
    url.p = lua_tolstring(L, 2, &url.n);
    if (!url_shape_ok(url.p, url.n))
      return input_error(L, "url", "expected an absolute URL with a host");
    if (has_ctl_or_space(url.p, url.n))
      return input_error(L, "url",
                         "must not contain spaces or control characters");
    if (!lua_isnil(L, 3) && !lua_istable(L, 3))
      return input_error(L, "headers", "expected a table");
    if (!lua_isnil(L, 4) && lua_type(L, 4) != LUA_TSTRING)
      return input_error(L, "body", "expected a string");
    if ((rc = check_key(L, 5, "ak")) != 0 || (rc = check_key(L, 6, "sk")) != 0)
      return rc;
    if (!lua_isnil(L, 7)) token.p = ""; /* checked after the headers */
  } else {
    method.p = luaL_checklstring(L, 1, &method.n);
    url.p = luaL_checklstring(L, 2, &url.n);
    luaL_checktype(L, 3, LUA_TTABLE);
    if (!lua_isnil(L, 4) && lua_type(L, 4) != LUA_TSTRING)
      return luaL_argerror(L, 4, "string or nil expected");
  }
  if (!lua_isnil(L, 4)) body.p = lua_tolstring(L, 4, &body.n);
  ak.p = luaL_checklstring(L, 5, &ak.n);
  sk.p = luaL_checklstring(L, 6, &sk.n);

  /* phase A */
  rc = collect_headers(L, st, 3, checked, token.p, &info);
  if (rc == COLLECT_NUMBERS) {
    stringify_headers(L, 3);
    rc = collect_headers(L, st, 3, checked, token.p, &info);
  }
  if (rc == COLLECT_FAILED) return 3;
  if (token.p != NULL) {
    if (lua_type(L, 7) != LUA_TSTRING)
      return input_error(L, "security_token", "expected a string");
    token.p = lua_tolstring(L, 7, &token.n);
    if (has_ctl(token.p, token.n))
      return input_error(L, "security_token",
                         "must not contain control characters");
    add_header(L, st, &info, TOKEN_HEADER, sizeof(TOKEN_HEADER) - 1,
               trim(token.p, token.n));
  }
  /* the message names the problem only: a URL may carry userinfo */
  if (parse_url(url.p, url.n, &u) != 0) {
    if (checked)
      return input_error(L, "url", "expected an absolute URL with a host");
    return luaL_argerror(L, 2, "URL must be scheme://host[:port][/path]");
  }
  if (!info.has_host) add_header(L, st, &info, "host", 4, u.host);
  if (info.date.p != NULL) {
    date = info.date;
  } else {
    const char *t = utc_now(st);
    if (t == NULL)
      return luaL_error(L, "hwcloud.core: cannot read the UTC time");
    /* a local copy: a finalizer run by phase C may sign in a later second
    ** and replace the cached one */
    memcpy(now, t, DATE_LEN);
    date.p = now;
    date.n = DATE_LEN;
    date_generated = 1;
    add_header(L, st, &info, "x-sdk-date", 10, date);
  }
  sort_headers(st->hdrs, info.count);
  for (k = 1; k < info.count; k++)
    if (cmp_lower(st->hdrs[k - 1].name, st->hdrs[k].name) == 0) {
      const char *msg = lua_pushfstring(
          L, "header '%s' given twice (names are case-insensitive)",
          st->hdrs[k].name.p);
      if (checked) {
        lua_pushnil(L);
        lua_pushliteral(L, "headers");
        lua_pushstring(L, msg);
        return 3;
      }
      return luaL_argerror(L, 3, msg);
    }

  /* phase B */
  if (build_canonical(st, method, checked, &u, &info, body, &signed_off,
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
    static const char p1[] = ALGORITHM " Access=";
    static const char p2[] = ", SignedHeaders=";
    static const char p3[] = ", Signature=";
    size_t need = add_sat(add_sat(ak.n, signed_len),
                          sizeof p1 + sizeof p2 + sizeof p3 + HEX_LEN);
    hwc_buf_reset(a);
    if (hwc_buf_reserve(a, need) != 0) {
      failed = 1;
    } else {
      char *o = a->data;
      to_hex(d, DIGEST_LEN, sig_hex);
      o = put(o, p1, sizeof p1 - 1);
      o = put(o, ak.p, ak.n);
      o = put(o, p2, sizeof p2 - 1);
      o = put(o, st->canon.data + signed_off, signed_len);
      o = put(o, p3, sizeof p3 - 1);
      o = put(o, sig_hex, HEX_LEN);
      a->len = (size_t)(o - a->data);
    }
  }
  if (failed) {
    trim_scratch(&st->canon);
    trim_scratch(&st->scratch);
    return luaL_error(L, "hwcloud.core: signing failed (out of memory or "
                         "digest error)");
  }

  /* phase C: copy the Authorization out of the scratch buffer first */
  lua_pushlstring(L, a->data, a->len); /* 8 */
  if (date_generated) lua_pushlstring(L, date.p, DATE_LEN);
  else lua_pushnil(L); /* 9 */
  trim_scratch(&st->canon);
  trim_scratch(&st->scratch);
  lua_createtable(L, 0, (int)(info.count + 1)); /* 10 */
  if (!lua_isnil(L, 3)) {
    lua_pushnil(L);
    while (lua_next(L, 3) != 0) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, 10);
    }
  }
  if (!info.has_host) {
    lua_pushvalue(L, lua_upvalueindex(UV_HOST));
    lua_pushlstring(L, u.host.p, u.host.n);
    lua_rawset(L, 10);
  }
  if (date_generated) {
    lua_pushvalue(L, lua_upvalueindex(UV_DATE));
    lua_pushvalue(L, 9);
    lua_rawset(L, 10);
  }
  if (token.p != NULL) {
    lua_pushvalue(L, lua_upvalueindex(UV_TOKEN));
    lua_pushvalue(L, 7);
    lua_rawset(L, 10);
  }
  lua_pushvalue(L, lua_upvalueindex(UV_AUTH));
  lua_pushvalue(L, 8);
  lua_rawset(L, 10);
  return 1;
}

static int l_sign(lua_State *L) { return do_sign(L, 0); }

static int l_sign_checked(lua_State *L) { return do_sign(L, 1); }

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
                                   {"sign_checked", l_sign_checked},
                                   {"sha256_hex", l_sha256_hex},
                                   {"hmac_sha256_hex", l_hmac_sha256_hex},
                                   {NULL, NULL}};
  sign_state *st = (sign_state *)lua_newuserdatauv(L, sizeof *st, 0);
  memset(st, 0, sizeof *st);
  st->date_t = (time_t)-1;
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
  lua_pushliteral(L, "Host");
  lua_pushliteral(L, "X-Sdk-Date");
  lua_pushliteral(L, "Authorization");
  lua_pushliteral(L, TOKEN_HEADER);
  luaL_setfuncs(L, funcs, UV_COUNT);
}
