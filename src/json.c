/*
** json.c -- the JSON writer's pieces: string escaping, the UTF-8 check and
** number formatting, used by marshal.c.
**
** Strings are scanned sixteen bytes at a time (SSE2; eight, as a word,
** elsewhere), tested for anything that needs attention (a control
** character, '"', '\', or a byte above 0x7F, checked as UTF-8 where it
** stands); clean bytes are copied as they are read, so escaping and the
** UTF-8 check of a 10 MB body are one pass, not ten million branches.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hwcloud.h"

#if defined(__SSE2__) && !defined(HWC_NO_SSE2)
#include <emmintrin.h>
#endif

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
  while ((i += ascii_run(str + i, n - i)) < n) {
    size_t len = utf8_seq(s + i, n - i);
    if (len == 0) return 0;
    i += len;
  }
  return 1;
}

/* what follows '\' for a byte JSON does not take as it is: 'u' for
** \u00XX; 0 for a byte that goes through unchanged */
static const unsigned char esc_of[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    'u', 'u', 'u', 'u', 0,   0,   '"', ['\\'] = '\\'};

/* the ASCII byte ch at o, escaped or not (room for 6); the bytes written */
static size_t put_ascii(char *o, unsigned char ch) {
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

/* the input bytes of one scan step, and the flags of those that stop it:
** a control character, '"', '\' or a byte above 0x7F (checked as UTF-8).
** The lowest flag is exact either way (a borrow only spills upwards), so
** the first flagged byte is its index. */
#if defined(__SSE2__) && !defined(HWC_NO_SSE2)
#define STEP 16
typedef unsigned flags;
static flags flags_at(const char *s) {
  __m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
  /* signed: the bytes above 0x7F are negative, below 0x20 with controls */
  __m128i m = _mm_or_si128(_mm_cmplt_epi8(x, _mm_set1_epi8(0x20)),
                           _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
                                        _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))));
  return (unsigned)_mm_movemask_epi8(m);
}
static size_t first_flag(const char *s, flags m) {
  (void)s;
  return (size_t)__builtin_ctz(m);
}
#else
#define STEP 8
typedef uint64_t flags;
static flags flags_at(const char *s) {
  uint64_t x;
  memcpy(&x, s, 8);
  return hwc_has_below(x, 0x20) | hwc_has_byte(x, '"') |
         hwc_has_byte(x, '\\') | (x & HWC_HIGHS);
}
static size_t first_flag(const char *s, flags m) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  (void)s;
  return (size_t)__builtin_ctzll(m) >> 3;
#else
  size_t k = 0;
  (void)m;
  while ((unsigned char)s[k] < 0x80 && esc_of[(unsigned char)s[k]] == 0) k++;
  return k;
#endif
}
#endif

/* input bytes per reservation of their worst case (all \u00XX) */
#define CHUNK 4096

/* s as the inside of an RFC 8259 string: escapes '"', '\' and control
** characters only; '/' and non-ASCII UTF-8 go through unchanged, after the
** strict check. 0; -1 out of memory; -2 not UTF-8. One pass: each step's
** bytes are stored as they are read; where one of them needs attention,
** the output keeps them only up to it, writes it escaped (or checked, for
** UTF-8), and the scan resumes right after. Room is made a chunk at a
** time, so the inner loop checks nothing but bytes. */
static int escape(hwc_buf *b, const char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    size_t end = n - i > CHUNK ? i + CHUNK : n;
    char *o;
    /* + STEP: a step stores all its bytes; + 4: a UTF-8 sequence may
    ** run past the chunk's end */
    if (hwc_buf_reserve(b, (end - i) * 6 + STEP + 4) != 0) return -1;
    o = b->data + b->len;
    while (i + STEP <= end) {
      flags m;
      size_t k, len;
      memcpy(o, s + i, STEP);
      m = flags_at(s + i);
      if (m == 0) {
        o += STEP;
        i += STEP;
        continue;
      }
      k = first_flag(s + i, m);
      o += k;
      i += k;
      if ((unsigned char)s[i] < 0x80) {
        o += put_ascii(o, (unsigned char)s[i++]);
        continue;
      }
      len = utf8_seq((const unsigned char *)s + i, n - i);
      if (len == 0) return -2;
      /* the step stored the sequence already, unless it runs past it */
      if (k + len > STEP) memcpy(o, s + i, len);
      o += len;
      i += len;
    }
    while (i < end) {
      unsigned char ch = (unsigned char)s[i];
      size_t len = 1;
      if (ch >= 0x80) {
        if ((len = utf8_seq((const unsigned char *)s + i, n - i)) == 0) return -2;
        memcpy(o, s + i, len);
        o += len;
      } else {
        o += put_ascii(o, ch);
      }
      i += len;
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

/* input bytes escaped between two publications to the hash pipe */
#define SLICE (64 * 1024)
/* the most escape() reserves beyond what a slice can write */
#define SLICE_ROOM (SLICE * 6 + 64)

/* hwc_json_string with the body's hash taken beside it: the buffer is
** sized so the escaping of a slice cannot move it, and each slice done is
** published to the pipe's thread. Text that escapes to more than the room
** made first pauses the pipe to grow the buffer. On success the thread is
** left reading: the caller pauses it before b may move. */
int hwc_json_string_hashed(hwc_buf *b, const char *s, size_t n,
                           hwc_hashpipe *h) {
  size_t i = 0;
  int rc = 0;
  if (hwc_buf_reserve(b, n + n / 8 + SLICE_ROOM) != 0) return -1;
  b->data[b->len++] = '"';
  hwc_hashpipe_run(h, b->data, b->len);
  while (i < n && rc == 0) {
    size_t k = n - i > SLICE ? SLICE : n - i, back = 0;
    /* a slice ends between characters (a sequence cut in two would read
    ** as bad); more than three continuation bytes are bad anyway */
    while (i + k < n && back < 3 && ((unsigned char)s[i + k] & 0xC0) == 0x80) {
      k--;
      back++;
    }
    if (b->cap - b->len <= SLICE_ROOM) {
      hwc_hashpipe_pause(h, b->len);
      if (hwc_buf_reserve(b, SLICE_ROOM) != 0) return -1;
      hwc_hashpipe_run(h, b->data, b->len);
    }
    rc = escape(b, s + i, k);
    i += k;
    hwc_hashpipe_more(h, b->len);
  }
  if (rc != 0) {
    hwc_hashpipe_pause(h, b->len);
    return rc;
  }
  /* room for the quote is there (SLICE_ROOM): the thread goes on */
  b->data[b->len++] = '"';
  hwc_hashpipe_more(h, b->len);
  return 0;
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
