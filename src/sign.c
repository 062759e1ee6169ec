/*
** sign.c -- the signing algorithms: canonical URI, canonical query,
** canonical headers, canonical request, string to sign, signature.
** SDK-HMAC-SHA256 and SDK-HMAC-SM3 differ in the digest only; the derived
** V11-HMAC-SHA256 adds a scope to the string to sign and signs with a key
** derived (HKDF-SHA256) from the AK, SK and that scope.
**
** The digests are fetched and the context allocated once, then kept from
** call to call (OpenSSL 3's one-shot calls fetch and allocate each time);
** everything else is plain.
*/
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "hwcloud.h"

const char *const hwc_alg_names[] = {"SDK-HMAC-SHA256", "SDK-HMAC-SM3",
                                       "V11-HMAC-SHA256"};
#define DIGEST_LEN 32
#define BLOCK_LEN 64
#define HEX_LEN 64
/* scratch buffers above this size are released after a call, so one huge
** URL does not pin memory for the life of the signer */
#define SCRATCH_KEEP (64 * 1024)

/* ---- the signer's state --------------------------------------------- */

/* 0, or -1 when OpenSSL could not be set up */
int hwc_signer_init(hwc_signer *s) {
  memset(s, 0, sizeof *s); /* empty buffers and arrays */
  s->ctx = EVP_MD_CTX_new();
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  s->md[HWC_ALG_SHA256] = EVP_MD_fetch(NULL, "SHA256", NULL);
  s->md[HWC_ALG_SM3] = EVP_MD_fetch(NULL, "SM3", NULL);
#else
  s->md[HWC_ALG_SHA256] = (struct evp_md_st *)EVP_sha256();
  s->md[HWC_ALG_SM3] = (struct evp_md_st *)EVP_sm3();
#endif
  return s->ctx != NULL && s->md[HWC_ALG_SHA256] != NULL ? 0 : -1;
}

/* frees what init set up, even in part; cleared after, so a second call is
** harmless. Freeing a digest context clears its state. */
void hwc_signer_free(hwc_signer *s) {
  EVP_MD_CTX_free(s->ctx);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  EVP_MD_free(s->md[0]);
  EVP_MD_free(s->md[1]);
#endif
  hwc_buf_free(&s->canon);
  hwc_buf_free(&s->scratch);
  free(s->hdrs);
  free(s->params);
  memset(s, 0, sizeof *s);
}

/* makes room for need elements of an array, twice that (16 at first);
** -1 when out of memory (the old block is then untouched) */
static int grow(void **arr, size_t *cap, size_t need, size_t elem) {
  size_t ncap = need < 8 ? 16 : need * 2;
  void *p;
  if (need <= *cap) return 0;
  if (need > ((size_t)-1) / 2 / elem) return -1;
  p = realloc(*arr, ncap * elem);
  if (p == NULL) return -1;
  *arr = p;
  *cap = ncap;
  return 0;
}

/* appends a header to sign (-1 when out of memory) */
int hwc_signer_add(hwc_signer *s, hwc_slice name, hwc_slice value) {
  hwc_pair *h;
  if (grow((void **)&s->hdrs, &s->hdr_cap, s->nhdrs + 1, sizeof *h)) return -1;
  h = &s->hdrs[s->nhdrs++];
  h->name = name;
  h->value = value;
  return 0;
}

/* ends a call: forgets the headers, releases outsized scratch buffers */
void hwc_signer_done(hwc_signer *s) {
  s->nhdrs = 0;
  if (s->canon.cap > SCRATCH_KEEP) hwc_buf_free(&s->canon);
  if (s->scratch.cap > SCRATCH_KEEP) hwc_buf_free(&s->scratch);
}

/* ---- digests -------------------------------------------------------- */

/* digest of a then b (SHA-256 and SM3 both give 32 bytes) */
static int digest2(hwc_signer *s, const EVP_MD *md, const void *a, size_t an,
                   const void *b, size_t bn, unsigned char out[DIGEST_LEN]) {
  unsigned int len = 0;
  return md != NULL && EVP_DigestInit_ex(s->ctx, md, NULL) == 1 &&
                 EVP_DigestUpdate(s->ctx, a, an) == 1 &&
                 EVP_DigestUpdate(s->ctx, b, bn) == 1 &&
                 EVP_DigestFinal_ex(s->ctx, out, &len) == 1 &&
                 len == DIGEST_LEN
             ? 0
             : -1;
}

/* HMAC (RFC 2104) over the signer's own context and fetched digest:
** OpenSSL 3's one-shot HMAC() fetches the MAC and the digest by name on
** every call, which cost 40% of a signature. SHA-256 and SM3 both have
** 64-byte blocks. The padded key and the inner digest are wiped. */
static int hmac(hwc_signer *s, const EVP_MD *md, hwc_slice key,
                const char *msg, size_t n, unsigned char out[DIGEST_LEN]) {
  unsigned char k[BLOCK_LEN], inner[DIGEST_LEN];
  size_t i;
  int rc = 0;
  memset(k, 0, sizeof k);
  if (key.n > BLOCK_LEN) rc = digest2(s, md, key.p, key.n, "", 0, k);
  else if (key.n > 0) memcpy(k, key.p, key.n);
  for (i = 0; i < BLOCK_LEN; i++) k[i] ^= 0x36;
  if (rc == 0) rc = digest2(s, md, k, BLOCK_LEN, msg, n, inner);
  for (i = 0; i < BLOCK_LEN; i++) k[i] ^= 0x36 ^ 0x5c;
  if (rc == 0) rc = digest2(s, md, k, BLOCK_LEN, inner, DIGEST_LEN, out);
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(inner, sizeof inner);
  return rc;
}

/* ---- orders and pieces ---------------------------------------------- */

/* bytewise order, shorter first on a common prefix */
static int cmp_bytes(hwc_slice a, hwc_slice b) {
  size_t n = a.n < b.n ? a.n : b.n;
  int c = n ? memcmp(a.p, b.p, n) : 0;
  return c != 0 ? c : (a.n > b.n) - (a.n < b.n);
}

static int cmp_param(const void *a, const void *b) {
  const hwc_pair *x = (const hwc_pair *)a, *y = (const hwc_pair *)b;
  int c = cmp_bytes(x->name, y->name);
  return c != 0 ? c : cmp_bytes(x->value, y->value);
}

/* headers by the bytewise order of their lower-cased names */
static int cmp_header(const void *a, const void *b) {
  hwc_slice x = ((const hwc_pair *)a)->name, y = ((const hwc_pair *)b)->name;
  size_t i, n = x.n < y.n ? x.n : y.n;
  for (i = 0; i < n; i++) {
    unsigned char l = hwc_lower((unsigned char)x.p[i]);
    unsigned char r = hwc_lower((unsigned char)y.p[i]);
    if (l != r) return l < r ? -1 : 1;
  }
  return (x.n > y.n) - (x.n < y.n);
}

/* a key or value of the query, decoded into the scratch buffer (reserved
** up front by the caller, so it never moves) */
static hwc_slice decoded(hwc_buf *scratch, const char *p, size_t n) {
  hwc_slice d;
  d.p = scratch->data + scratch->len;
  d.n = hwc_pct_decode(scratch->data + scratch->len, p, n);
  scratch->len += d.n;
  return d;
}

/* s with each byte mapped (hwc_lower, hwc_upper) */
static int add_mapped(hwc_buf *b, hwc_slice s,
                      unsigned char (*map)(unsigned char)) {
  size_t i;
  char *o;
  if (hwc_buf_reserve(b, s.n) != 0) return -1;
  o = b->data + b->len; /* a local cursor: stores could alias b->len */
  for (i = 0; i < s.n; i++) o[i] = (char)map((unsigned char)s.p[i]);
  b->len += s.n;
  return 0;
}

/* ---- the canonical request ------------------------------------------ */

/* each path segment decoded once and re-encoded, joined with '/', ending
** in '/'; "/" for an empty path */
static int canonical_uri(hwc_signer *s, hwc_buf *b, hwc_slice path) {
  size_t i, start = 0;
  int rc = 0;
  for (i = 0; i <= path.n; i++) {
    hwc_buf *d = &s->scratch;
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

/* pairs decoded, sorted by key then value, re-encoded and joined as
** k=v&k=v (an absent '=' is an empty value; empty pieces carry nothing) */
static int canonical_query(hwc_signer *s, hwc_buf *b, hwc_slice q) {
  size_t i = 0, count = 0, k;
  int rc = 0;
  if (q.n == 0) return 0;
  hwc_buf_reset(&s->scratch);
  if (hwc_buf_reserve(&s->scratch, q.n) != 0) return -1;
  while (i <= q.n) {
    size_t start = i, eq;
    hwc_pair *pr;
    while (i < q.n && q.p[i] != '&') i++;
    if (i > start) {
      if (grow((void **)&s->params, &s->param_cap, count + 1, sizeof *pr))
        return -1;
      pr = &s->params[count++];
      for (eq = start; eq < i && q.p[eq] != '='; eq++) {
      }
      pr->name = decoded(&s->scratch, q.p + start, eq - start);
      pr->value = decoded(&s->scratch, q.p + eq + (eq < i), i - eq - (eq < i));
    }
    i++;
  }
  qsort(s->params, count, sizeof *s->params, cmp_param);
  for (k = 0; k < count; k++) {
    const hwc_pair *pr = &s->params[k];
    if (k > 0) rc |= hwc_buf_addc(b, '&');
    rc |= hwc_buf_add_urlenc(b, pr->name.p, pr->name.n);
    rc |= hwc_buf_addc(b, '=');
    rc |= hwc_buf_add_urlenc(b, pr->value.p, pr->value.n);
  }
  return rc;
}

/* name:value lines (sorted), a blank line, then the signed-headers list,
** whose place in b is given back for the Authorization value */
static int canonical_headers(hwc_signer *s, hwc_buf *b, size_t *signed_at) {
  size_t k;
  int rc = 0;
  for (k = 0; k < s->nhdrs; k++) {
    rc |= add_mapped(b, s->hdrs[k].name, hwc_lower);
    rc |= hwc_buf_addc(b, ':');
    rc |= hwc_buf_add(b, s->hdrs[k].value.p, s->hdrs[k].value.n);
    rc |= hwc_buf_addc(b, '\n');
  }
  rc |= hwc_buf_addc(b, '\n');
  *signed_at = b->len;
  for (k = 0; k < s->nhdrs; k++) {
    if (k > 0) rc |= hwc_buf_addc(b, ';');
    rc |= add_mapped(b, s->hdrs[k].name, hwc_lower);
  }
  return rc;
}

/* METHOD \n URI \n query \n headers \n signed \n payload hash */
static int canonical_request(hwc_signer *s, const hwc_sign_req *r,
                             size_t *signed_at, size_t *signed_len) {
  hwc_buf *b = &s->canon;
  char body_hex[HEX_LEN];
  hwc_slice payload = r->content_hash; /* given, else the body's digest */
  unsigned char d[DIGEST_LEN];
  int rc = 0;
  hwc_buf_reset(b);
  if (payload.p == NULL) {
    if (digest2(s, s->md[r->alg == HWC_ALG_SM3], r->body.p, r->body.n, "",
                0, d) != 0)
      return -1;
    hwc_hex(d, DIGEST_LEN, body_hex);
    payload = (hwc_slice){body_hex, HEX_LEN};
  }
  rc |= r->upper_method ? add_mapped(b, r->method, hwc_upper)
                         : hwc_buf_add(b, r->method.p, r->method.n);
  rc |= hwc_buf_addc(b, '\n');
  rc |= canonical_uri(s, b, r->path);
  rc |= hwc_buf_addc(b, '\n');
  rc |= canonical_query(s, b, r->query);
  rc |= hwc_buf_addc(b, '\n');
  rc |= canonical_headers(s, b, signed_at);
  *signed_len = b->len - *signed_at;
  rc |= hwc_buf_addc(b, '\n');
  rc |= hwc_buf_add(b, payload.p, payload.n);
  return rc;
}

/* ---- string to sign, signature, Authorization ----------------------- */

/* V11's key: HKDF-SHA256 (RFC 5869, one block) with the AK as salt, the SK
** as input and the scope as info (info has room for the counter byte);
** the key is the hex form */
static int derive_key(hwc_signer *s, const hwc_sign_req *r, char *info,
                      size_t n, char key[HEX_LEN]) {
  const EVP_MD *md = s->md[HWC_ALG_SHA256];
  unsigned char prk[DIGEST_LEN], okm[DIGEST_LEN];
  hwc_slice k = {(const char *)prk, DIGEST_LEN};
  int rc;
  info[n] = 1;
  rc = hmac(s, md, r->ak, r->sk.p, r->sk.n, prk);
  if (rc == 0) rc = hmac(s, md, k, info, n + 1, okm);
  if (rc == 0) hwc_hex(okm, DIGEST_LEN, key);
  OPENSSL_cleanse(prk, sizeof prk);
  OPENSSL_cleanse(okm, sizeof okm);
  return rc;
}

/* ALGORITHM \n date [\n scope] \n hex(digest(canonical request)), signed
** with the SK, or for V11 with the key derived for the scope (the date's
** day, '/', the request's scope); the Authorization value goes into the
** scratch buffer */
static int authorization(hwc_signer *s, const hwc_sign_req *r,
                         size_t signed_at, size_t signed_len) {
  const EVP_MD *md = s->md[r->alg == HWC_ALG_SM3];
  char sig[HEX_LEN], dkey[HEX_LEN], scope[HWC_SCOPE_MAX + 10];
  unsigned char d[DIGEST_LEN];
  hwc_buf *a = &s->scratch;
  hwc_slice key = r->sk;
  size_t sn = 0, day = r->date.n < 8 ? r->date.n : 8;
  int rc = 0;
  if (digest2(s, md, s->canon.data, s->canon.len, "", 0, d)) return -1;
  if (r->alg == HWC_ALG_V11) {
    if (r->scope.n > HWC_SCOPE_MAX) return -1;
    memcpy(scope, r->date.p, day);
    scope[day] = '/';
    memcpy(scope + day + 1, r->scope.p, r->scope.n);
    sn = day + 1 + r->scope.n;
    if (derive_key(s, r, scope, sn, dkey) != 0) return -1;
    key = (hwc_slice){dkey, HEX_LEN};
  }
  hwc_buf_reset(a); /* the string to sign, then the Authorization value */
  rc |= hwc_buf_adds(a, hwc_alg_names[r->alg]);
  rc |= hwc_buf_addc(a, '\n');
  rc |= hwc_buf_add(a, r->date.p, r->date.n);
  rc |= hwc_buf_addc(a, '\n');
  if (sn > 0) rc |= hwc_buf_add(a, scope, sn) | hwc_buf_addc(a, '\n');
  if (rc != 0 || hwc_buf_reserve(a, HEX_LEN) != 0) return -1;
  hwc_hex(d, DIGEST_LEN, a->data + a->len);
  a->len += HEX_LEN;
  rc = hmac(s, md, key, a->data, a->len, d);
  OPENSSL_cleanse(dkey, sizeof dkey);
  if (rc != 0) return -1;
  hwc_hex(d, DIGEST_LEN, sig);
  hwc_buf_reset(a);
  rc |= hwc_buf_adds(a, hwc_alg_names[r->alg]);
  rc |= hwc_buf_adds(a, sn > 0 ? " Credential=" : " Access=");
  rc |= hwc_buf_add(a, r->ak.p, r->ak.n);
  if (sn > 0) rc |= hwc_buf_addc(a, '/') | hwc_buf_add(a, scope, sn);
  rc |= hwc_buf_adds(a, ", SignedHeaders=");
  rc |= hwc_buf_add(a, s->canon.data + signed_at, signed_len);
  rc |= hwc_buf_adds(a, ", Signature=");
  rc |= hwc_buf_add(a, sig, HEX_LEN);
  return rc;
}

/* signs the headers added since the last call: 0 with the Authorization
** value in *auth (valid until hwc_signer_done), HWC_SIGN_TWICE with the
** name of a header given twice in *auth, -1 on a memory or digest error
** (or SM3 asked of an OpenSSL without it) */
int hwc_sign(hwc_signer *s, const hwc_sign_req *r, hwc_slice *auth) {
  size_t k, signed_at = 0, signed_len = 0;
  /* qsort: 5,000 headers take milliseconds, not the seconds of a
  ** quadratic sort */
  qsort(s->hdrs, s->nhdrs, sizeof *s->hdrs, cmp_header);
  for (k = 1; k < s->nhdrs; k++)
    if (cmp_header(&s->hdrs[k - 1], &s->hdrs[k]) == 0) {
      *auth = s->hdrs[k].name;
      return HWC_SIGN_TWICE;
    }
  if (canonical_request(s, r, &signed_at, &signed_len) != 0 ||
      authorization(s, r, signed_at, signed_len) != 0)
    return -1;
  *auth = (hwc_slice){s->scratch.data, s->scratch.len};
  return 0;
}
