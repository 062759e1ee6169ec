/*
** json.c -- the JSON writer's pieces: string escaping, the UTF-8 check and
** number formatting, used by marshal.c.
**
** Strings are scanned a word of eight bytes at a time, tested for anything
** that needs attention (a control character, '"', '\', or a byte above
** 0x7F for the UTF-8 check); a clean word is copied as it is read, so a
** 10 MB body costs about a memcpy rather than ten million branches.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwcloud.h"

/* length of the leading ASCII run of s */
static size_t ascii_run(const char *s, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x;
    memcpy(&x, s + i, 8);
    if (x & HWC_HIGHS) break;
  }
  while (i < n && (unsigned char)s[i] < 0x80) i++;
  return i;
}

/* strict UTF-8: no overlongs, no surrogates, nothing above U+10FFFF */
int hwc_utf8_valid(const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  while ((i += ascii_run(str + i, n - i)) < n) {
    unsigned char c0 = s[i], lo = 0x80, hi = 0xBF;
    size_t more;
    if (c0 >= 0xC2 && c0 <= 0xDF) {
      more = 1;
    } else if (c0 >= 0xE0 && c0 <= 0xEF) {
      more = 2;
      if (c0 == 0xE0) lo = 0xA0;
      if (c0 == 0xED) hi = 0x9F;
    } else if (c0 >= 0xF0 && c0 <= 0xF4) {
      more = 3;
      if (c0 == 0xF0) lo = 0x90;
      if (c0 == 0xF4) hi = 0x8F;
    } else {
      return 0;
    }
    if (n - i - 1 < more || s[i + 1] < lo || s[i + 1] > hi) return 0;
    if (more >= 2 && (s[i + 2] & 0xC0) != 0x80) return 0;
    if (more >= 3 && (s[i + 3] & 0xC0) != 0x80) return 0;
    i += more + 1;
  }
  return 1;
}

/* what follows '\' for a byte JSON does not take as it is: 'u' for
** \u00XX; 0 for a byte that goes through unchanged */
static const unsigned char esc_of[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    'u', 'u', 'u', 'u', 0,   0,   '"', ['\\'] = '\\'};

/* one byte, escaped or not, at o (room for 6); the bytes written */
static size_t put_byte(char *o, unsigned char ch) {
  static const char hex[] = "0123456789abcdef";
  unsigned char e = esc_of[ch];
  if (e == 0) {
    o[0] = (char)ch;
    return 1;
  }
  o[0] = '\\';
  o[1] = (char)e;
  if (e != 'u') return 2;
  o[2] = '0';
  o[3] = '0';
  o[4] = hex[ch >> 4];
  o[5] = hex[ch & 15];
  return 6;
}

/* index of the first of the eight bytes at s that needs an escape, given
** the flags m of the word test (nonzero). The lowest flag is exact (a
** borrow only spills upwards), so on a little-endian machine it is the
** lowest set bit; elsewhere the bytes are looked at. */
static size_t first_flagged(const char *s, uint64_t m) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  (void)s;
  return (size_t)__builtin_ctzll(m) >> 3;
#else
  size_t k = 0;
  (void)m;
  while (esc_of[(unsigned char)s[k]] == 0) k++;
  return k;
#endif
}

/* input bytes per reservation of their worst case (all \u00XX) */
#define CHUNK 4096

/* RFC 8259 string: escapes '"', '\' and control characters only; '/' and
** non-ASCII UTF-8 go through unchanged. -1 when out of memory.
** Scanning and copying are one pass over words of eight bytes: each word
** is stored as it is read; where it holds a byte to escape, the output
** keeps it only up to that byte, writes the escape, and the scan resumes
** right after. Room is made a chunk at a time, so the inner loop checks
** nothing but the bytes. */
int hwc_json_string(hwc_buf *b, const char *s, size_t n) {
  size_t i = 0;
  if (hwc_buf_reserve(b, n + n / 8 + 2) != 0) return -1;
  b->data[b->len++] = '"';
  while (i < n) {
    size_t end = n - i > CHUNK ? i + CHUNK : n;
    char *o;
    if (hwc_buf_reserve(b, (end - i) * 6 + 8) != 0) return -1;
    o = b->data + b->len;
    while (i + 8 <= end) {
      uint64_t x, m;
      size_t k;
      memcpy(&x, s + i, 8);
      memcpy(o, &x, 8);
      m = hwc_has_below(x, 0x20) | hwc_has_byte(x, '"') | hwc_has_byte(x, '\\');
      if (m == 0) {
        o += 8;
        i += 8;
        continue;
      }
      k = first_flagged(s + i, m);
      o += k;
      i += k;
      o += put_byte(o, (unsigned char)s[i++]);
    }
    while (i < end) o += put_byte(o, (unsigned char)s[i++]);
    b->len = (size_t)(o - b->data);
  }
  return hwc_buf_addc(b, '"');
}

/* decimal without snprintf: this runs for every integer emitted */
size_t hwc_fmt_int(long long v, char *out /* >= 21 */) {
  char tmp[24];
  size_t n = 0, i = 0;
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v
                               : (unsigned long long)v;
  do {
    tmp[n++] = (char)('0' + (int)(u % 10));
    u /= 10;
  } while (u != 0);
  if (v < 0) out[i++] = '-';
  while (n > 0) out[i++] = tmp[--n];
  return i;
}

/* shortest of %.15g/%.16g/%.17g that reads back as d; then undo a locale
** decimal comma (os.setlocale may have changed LC_NUMERIC) so the result is
** valid JSON. d must be finite. */
size_t hwc_fmt_double(double d, char *out /* >= 40 */) {
  char tmp[40];
  int prec, len = 0;
  size_t i, n = 0;
  for (prec = 15; prec <= 17; prec++) {
    len = snprintf(tmp, sizeof tmp, "%.*g", prec, d);
    if (len > 0 && len < (int)sizeof tmp && strtod(tmp, NULL) == d) break;
  }
  if (len <= 0 || len >= (int)sizeof tmp) len = 0;
  for (i = 0; i < (size_t)len; i++) {
    char ch = tmp[i];
    if ((ch >= '0' && ch <= '9') || ch == '-' || ch == '+' || ch == 'e' ||
        ch == 'E') {
      out[n++] = ch;
    } else if (n == 0 || out[n - 1] != '.') {
      out[n++] = '.'; /* one dot for a (possibly multi-byte) separator */
    }
  }
  out[n] = '\0';
  return n;
}
