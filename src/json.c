/*
** json.c -- the JSON writer's pieces: string escaping, the UTF-8 check and
** number formatting, used by marshal.c.
**
** Strings are scanned in runs: a word of eight bytes at a time is tested
** for anything that needs attention (a control character, '"', '\', or a
** byte above 0x7F for the UTF-8 check) and a clean run is copied whole, so
** a 10 MB body costs about a memcpy rather than ten million branches.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwcloud.h"

#define ONES ((uint64_t)0x0101010101010101u)
#define HIGHS (ONES * 0x80u)

/* nonzero when a byte of x is below n (n <= 0x80) */
static uint64_t has_below(uint64_t x, unsigned n) {
  return (x - ONES * n) & ~x & HIGHS;
}

/* nonzero when a byte of x equals c */
static uint64_t has_byte(uint64_t x, unsigned char c) {
  return has_below(x ^ (ONES * c), 1);
}

static int plain(unsigned char c) { return c >= 0x20 && c != '"' && c != '\\'; }

/* length of the leading run of s that JSON takes as it is */
static size_t plain_run(const char *s, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x;
    memcpy(&x, s + i, 8);
    if (has_below(x, 0x20) | has_byte(x, '"') | has_byte(x, '\\')) break;
  }
  while (i < n && plain((unsigned char)s[i])) i++;
  return i;
}

/* length of the leading ASCII run of s */
static size_t ascii_run(const char *s, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x;
    memcpy(&x, s + i, 8);
    if (x & HIGHS) break;
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

/* RFC 8259 string: escapes '"', '\' and control characters only; '/' and
** non-ASCII UTF-8 go through unchanged. -1 when out of memory. */
int hwc_json_string(hwc_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t i = 0;
  if (hwc_buf_reserve(b, n + 2) != 0) return -1;
  b->data[b->len++] = '"';
  while (i < n) {
    size_t run = plain_run(s + i, n - i);
    unsigned char ch;
    char esc[6] = {'\\', 'u', '0', '0', 0, 0};
    size_t elen = 2;
    if (hwc_buf_add(b, s + i, run) != 0) return -1;
    if ((i += run) == n) break;
    ch = (unsigned char)s[i++];
    switch (ch) {
      case '"': esc[1] = '"'; break;
      case '\\': esc[1] = '\\'; break;
      case '\b': esc[1] = 'b'; break;
      case '\f': esc[1] = 'f'; break;
      case '\n': esc[1] = 'n'; break;
      case '\r': esc[1] = 'r'; break;
      case '\t': esc[1] = 't'; break;
      default:
        esc[4] = hex[ch >> 4];
        esc[5] = hex[ch & 15];
        elen = 6;
    }
    if (hwc_buf_add(b, esc, elen) != 0) return -1;
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
