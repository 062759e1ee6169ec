/*
** buf.c -- growable byte buffer and percent-encoding, shared by the
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
  while (cap < need) {
    if (cap > SIZE_MAX / 2) {
      cap = need;
      break;
    }
    cap *= 2;
  }
  p = realloc(b->data, cap);
  if (p == NULL) return -1;
  b->data = p;
  b->cap = cap;
  return 0;
}

int hwc_buf_add(hwc_buf *b, const void *p, size_t n) {
  if (n == 0) return 0;
  if (hwc_buf_reserve(b, n) != 0) return -1;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

int hwc_buf_addc(hwc_buf *b, char c) {
  if (hwc_buf_reserve(b, 1) != 0) return -1;
  b->data[b->len++] = c;
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

static int unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
         c == '~';
}

int hwc_buf_add_urlenc(hwc_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  /* worst case every byte triples; reserve once */
  if (n > (SIZE_MAX - 1) / 3) return -1;
  if (hwc_buf_reserve(b, n * 3) != 0) return -1;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (unreserved(c)) {
      b->data[b->len++] = (char)c;
    } else {
      b->data[b->len++] = '%';
      b->data[b->len++] = hex[c >> 4];
      b->data[b->len++] = hex[c & 15];
    }
  }
  return 0;
}
