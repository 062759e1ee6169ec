/*
** buf.c -- growable byte buffer, percent-encoding and hex, shared by the
** signer, the marshaller and the transport.
*/
#include <stdlib.h>
#include <string.h>

#include "hwcloud.h"

void hwc_buf_init(hwc_buf *b) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void hwc_buf_free(hwc_buf *b) {
  free(b->data);
  hwc_buf_init(b);
}

void hwc_buf_reset(hwc_buf *b) { b->len = 0; }

int hwc_buf_reserve(hwc_buf *b, size_t extra) {
  size_t need, cap;
  char *p;
  if (extra > SIZE_MAX - b->len - 1) return -1;
  need = b->len + extra + 1; /* room for a terminator */
  if (need <= b->cap) return 0;
  cap = b->cap ? b->cap : 64;
  while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  p = realloc(b->data, cap);
  if (p == NULL) return -1;
  b->data = p;
  b->cap = cap;
  return 0;
}

int hwc_buf_add_slow(hwc_buf *b, const void *p, size_t n) {
  if (n == 0) return 0;
  if (hwc_buf_reserve(b, n) != 0) return -1;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

int hwc_buf_adds(hwc_buf *b, const char *s) {
  return hwc_buf_add(b, s, strlen(s));
}

int hwc_buf_cstr(hwc_buf *b) {
  if (hwc_buf_reserve(b, 0) != 0) return -1;
  b->data[b->len] = '\0';
  return 0;
}

/* RFC 3986 unreserved bytes, which percent-encoding keeps: a table, since
** every byte of every path, query and signature goes through it */
static const unsigned char unreserved[256] = {
    ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1, ['0'] = 1, ['1'] = 1,
    ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1,
    ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
    ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1,
    ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1,
    ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
    ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1,
    ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

int hwc_buf_add_urlenc(hwc_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  char *o;
  /* worst case every byte triples; reserve once */
  if (n > (SIZE_MAX - 1) / 3) return -1;
  if (hwc_buf_reserve(b, n * 3) != 0) return -1;
  /* a local cursor: stores through b->data could alias b->len */
  o = b->data + b->len;
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
  b->len = (size_t)(o - b->data);
  return 0;
}

void hwc_hex(const unsigned char *d, size_t n, char *out) {
  static const char hex[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n; i++) {
    out[2 * i] = hex[d[i] >> 4];
    out[2 * i + 1] = hex[d[i] & 15];
  }
}

int hwc_hexval(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = hwc_lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

size_t hwc_pct_decode(char *dst, const char *s, size_t n) {
  size_t i, o = 0;
  for (i = 0; i < n; i++) {
    int hi, lo;
    if (s[i] == '%' && i + 2 < n && (hi = hwc_hexval((unsigned char)s[i + 1])) >= 0 &&
        (lo = hwc_hexval((unsigned char)s[i + 2])) >= 0) {
      dst[o++] = (char)(hi * 16 + lo);
      i += 2;
    } else {
      dst[o++] = s[i];
    }
  }
  return o;
}

int hwc_has_ctl(const char *s, size_t n, int space) {
  /* no early exit: the compiler can then check many bytes at once (the
  ** signer runs this over every URL, header and key) */
  unsigned char below = space ? 0x21 : 0x20;
  int bad = 0;
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    bad |= (c < below) | (c == 0x7f);
  }
  return bad;
}
