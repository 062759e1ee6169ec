/*
** json.c -- the JSON writer's pieces: string escaping, the UTF-8 check and
** number formatting, used by marshal.c.
**
** One portable path, as lua-cjson's: a table says, for every byte, whether
** it goes through as it is, is escaped, or starts a UTF-8 sequence that is
** checked where it stands. Room is made a chunk at a time, so the loop
** tests nothing but bytes.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwcloud.h"

/* the length of the strict UTF-8 sequence at s (s[0] >= 0x80, n bytes
** left), 0 when it is not one: no overlongs, no surrogates, nothing above
** U+10FFFF */
static size_t utf8_seq(const unsigned char *s, size_t n) {
  unsigned char c0 = s[0], lo = 0x80, hi = 0xBF;
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
  if (n - 1 < more || s[1] < lo || s[1] > hi) return 0;
  if (more >= 2 && (s[2] & 0xC0) != 0x80) return 0;
  if (more >= 3 && (s[3] & 0xC0) != 0x80) return 0;
  return more + 1;
}

int hwc_utf8_valid(const char *str, size_t n) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  while (i < n) {
    size_t len = s[i] < 0x80 ? 1 : utf8_seq(s + i, n - i);
    if (len == 0) return 0;
    i += len;
  }
  return 1;
}

/* per byte: 0 goes through unchanged; '8' starts a UTF-8 sequence (checked);
** else what follows '\', 'u' for \u00XX */
#define U8 '8', '8', '8', '8', '8', '8', '8', '8', '8', '8', '8', '8', '8', '8', '8', '8'
static const unsigned char esc_of[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    'u', 'u', 'u', 'u', 0,   0,   '"', ['\\'] = '\\', [0x80] = U8, U8, U8, U8,
    U8, U8, U8, U8};

/* input bytes per reservation of their worst case (all \u00XX) */
#define CHUNK 4096

/* s as the inside of an RFC 8259 string: escapes '"', '\' and control
** characters only; '/' and non-ASCII UTF-8 go through unchanged, after the
** strict check. 0; -1 out of memory; -2 not UTF-8. */
static int escape(hwc_buf *b, const char *str, size_t n) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;
  while (i < n) {
    size_t end = n - i > CHUNK ? i + CHUNK : n;
    char *o;
    /* + 4: a UTF-8 sequence may run past the chunk's end */
    if (hwc_buf_reserve(b, (end - i) * 6 + 4) != 0) return -1;
    o = b->data + b->len;
    while (i < end) {
      unsigned char ch = s[i], e = esc_of[ch];
      if (e == 0) {
        *o++ = (char)ch;
        i++;
      } else if (e == '8') {
        size_t len = utf8_seq(s + i, n - i);
        if (len == 0) return -2;
        memcpy(o, s + i, len);
        o += len;
        i += len;
      } else {
        *o++ = '\\';
        *o++ = (char)e;
        if (e == 'u') {
          *o++ = '0';
          *o++ = '0';
          *o++ = hex[ch >> 4];
          *o++ = hex[ch & 15];
        }
        i++;
      }
    }
    b->len = (size_t)(o - b->data);
  }
  return 0;
}

int hwc_json_string(hwc_buf *b, const char *s, size_t n) {
  int rc;
  if (hwc_buf_reserve(b, n + n / 8 + 2) != 0) return -1;
  b->data[b->len++] = '"';
  if ((rc = escape(b, s, n)) != 0) return rc;
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
