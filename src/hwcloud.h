/*
** hwcloud.h -- private header of the hwcloud C core.
** Version, metatable names, the Lua 5.1/LuaJIT compat shims and the
** declarations the source files share. Nothing here is public API.
*/
#ifndef HWCLOUD_H
#define HWCLOUD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

#define HWC_VERSION "0.2.0-dev"

/* metatable names */
#define HWC_TRANSPORT_MT "hwcloud.transport"

/*
** Compat: the module builds against Lua 5.4 and against LuaJIT (5.1 ABI).
** Only the handful of calls we use are shimmed.
*/
#if LUA_VERSION_NUM < 502
#define lua_rawlen(L, i) lua_objlen((L), (i))
#define lua_newuserdatauv(L, sz, nuv) lua_newuserdata((L), (sz))
#define luaL_setfuncs(L, l, nup) hwc_compat_setfuncs((L), (l), (nup))
void hwc_compat_setfuncs(lua_State *L, const luaL_Reg *l, int nup);
#elif LUA_VERSION_NUM < 504
#define lua_newuserdatauv(L, sz, nuv) lua_newuserdata((L), (sz))
#endif

/* lua_getfield that returns the type on every version */
static inline int hwc_getfield(lua_State *L, int idx, const char *k) {
#if LUA_VERSION_NUM < 503
  lua_getfield(L, idx, k);
  return lua_type(L, -1);
#else
  return lua_getfield(L, idx, k);
#endif
}

/* for helpers that always raise (luaL_error does not return): tells the
** compiler and static analysers what follows them is unreachable */
#if defined(__GNUC__)
#define HWC_NORETURN __attribute__((noreturn))
#else
#define HWC_NORETURN
#endif

/* integer test that works on 5.1 (no integer subtype there) */
static inline int hwc_isinteger(lua_State *L, int idx) {
#if LUA_VERSION_NUM >= 503
  return lua_isinteger(L, idx);
#else
  lua_Number n;
  if (lua_type(L, idx) != LUA_TNUMBER) return 0;
  n = lua_tonumber(L, idx);
  return n == (lua_Number)(long long)n && n >= -9007199254740992.0 &&
         n <= 9007199254740992.0;
#endif
}

/* a span of bytes inside a string someone else owns */
typedef struct hwc_slice {
  const char *p;
  size_t n;
} hwc_slice;

/* ASCII case, the one helper for it (the C locale's tolower, without the
** locale lookup) */
static inline unsigned char hwc_lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static inline unsigned char hwc_upper(unsigned char c) {
  return (c >= 'a' && c <= 'z') ? (unsigned char)(c - 32) : c;
}

/* whether a and b (n bytes each) are equal but for ASCII case */
static inline int hwc_ieq(const char *a, const char *b, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (hwc_lower((unsigned char)a[i]) != hwc_lower((unsigned char)b[i])) return 0;
  return 1;
}

/* an ASCII digit (the C locale's isdigit, without the locale) */
static inline int hwc_is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* monotonic seconds (core.c) */
double hwc_now(void);

/* n bytes as 2n lower-case hex digits (digests); no terminator (buf.c) */
void hwc_hex(const unsigned char *d, size_t n, char *out);
/* 0-15 for a hex digit of either case, else -1 (buf.c) */
int hwc_hexval(unsigned char c);
/* percent-decodes s into dst (room for n bytes); a '%' not followed by two
** hex digits stays literal, '+' stays '+'. Returns the decoded length. */
size_t hwc_pct_decode(char *dst, const char *s, size_t n);
/* whether s holds a control character or DEL (and, with space, ' '):
** what would split a request or header line */
int hwc_has_ctl(const char *s, size_t n, int space);

/*
** Growable byte buffer (buf.c). Every function returns 0 on success and -1
** when memory ran out; on failure the buffer keeps what it had.
*/
typedef struct hwc_buf {
  char *data;
  size_t len;
  size_t cap;
} hwc_buf;

void hwc_buf_init(hwc_buf *b);
void hwc_buf_free(hwc_buf *b);
void hwc_buf_reset(hwc_buf *b);
int hwc_buf_reserve(hwc_buf *b, size_t extra);
int hwc_buf_add_slow(hwc_buf *b, const void *p, size_t n);
/* inline: the signer and the JSON writer add short pieces all the time */
static inline int hwc_buf_add(hwc_buf *b, const void *p, size_t n) {
  if (n == 0) return 0;
  if (n >= b->cap - b->len) return hwc_buf_add_slow(b, p, n);
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

static inline int hwc_buf_addc(hwc_buf *b, char c) {
  if (b->len + 1 >= b->cap) return hwc_buf_add_slow(b, &c, 1);
  b->data[b->len++] = c;
  return 0;
}
int hwc_buf_adds(hwc_buf *b, const char *s);
/* NUL-terminates without counting the terminator in len */
int hwc_buf_cstr(hwc_buf *b);

/* percent-encoding shared by signing and marshaling (buf.c):
** every byte outside A-Z a-z 0-9 - _ . ~ becomes %XY, upper-case hex */
int hwc_buf_add_urlenc(hwc_buf *b, const char *s, size_t n);

/*
** JSON writing (json.c): hwc_json_string appends s quoted and escaped
** after the strict UTF-8 check (0; -1 when out of memory; -2 when s is not
** UTF-8, leaving part of it written); hwc_utf8_valid is the same check
** (1 when valid); the formatters write a JSON number and return its length.
*/
int hwc_json_string(hwc_buf *b, const char *s, size_t n);
int hwc_utf8_valid(const char *s, size_t n);
size_t hwc_fmt_int(long long v, char *out /* >= 21 bytes */);
size_t hwc_fmt_double(double d, char *out /* >= 40 bytes, finite d */);

/*
** URL parsing (url.c): scheme://[userinfo@]host[:port][/path][?query]
** [#fragment], host a name or a bracketed IPv6 address. Spans point into
** the parsed string. hwc_url_parse returns NULL when the URL is good, else
** a message naming the rule broken (never the URL: it may hold a password).
*/
typedef struct hwc_url {
  hwc_slice scheme;   /* as written */
  hwc_slice userinfo; /* p == NULL when absent */
  hwc_slice host;     /* without the brackets of an IPv6 address */
  hwc_slice hostport; /* host[:port] as written (brackets kept), for Host */
  hwc_slice path;     /* may be empty */
  hwc_slice query;    /* without '?'; p == NULL when there is no '?' */
  int port;           /* 0 when not named */
} hwc_url;

/* HWC_URL_LAX lets spaces and control characters through (core.sign: its
** URLs come from the marshaller, and its specs sign raw spaces) */
#define HWC_URL_LAX 1
const char *hwc_url_parse(const char *s, size_t n, int flags, hwc_url *u);

/*
** The signer (sign.c): SDK-HMAC-SHA256, SDK-HMAC-SM3 and the derived
** V11-HMAC-SHA256 over spans, no Lua; sign_lua.c keeps one in a userdata
** and reads the Lua arguments into it. Its state is reused from call to
** call. OpenSSL's own struct tags, so this header need not include it.
*/
/* a header (name as given, value trimmed) or a query parameter (both
** percent-decoded) */
typedef struct hwc_pair {
  hwc_slice name, value;
} hwc_pair;

typedef struct hwc_signer {
  struct evp_md_st *md[2]; /* by HWC_ALG_*; SM3's NULL where OpenSSL lacks it */
  struct evp_md_ctx_st *ctx;
  hwc_buf canon;   /* the canonical request */
  hwc_buf scratch; /* decoded path and query, then Authorization */
  hwc_pair *hdrs; /* the headers to sign, hwc_signer_add appends */
  size_t nhdrs, hdr_cap;
  hwc_pair *params; /* the query's, sorted */
  size_t param_cap;
  long long date_at; /* the second date was made for (strftime per call
                     ** was 4% of a signature) */
  char date[17];     /* X-Sdk-Date, YYYYMMDDTHHMMSSZ */
} hwc_signer;

#define HWC_ALG_SHA256 0 /* SDK-HMAC-SHA256 */
#define HWC_ALG_SM3 1    /* SDK-HMAC-SM3 */
#define HWC_ALG_V11 2    /* V11-HMAC-SHA256: a key derived per day and scope */
extern const char *const hwc_alg_names[]; /* by HWC_ALG_* */
#define HWC_SCOPE_MAX 200 /* V11's "region/service", at most */

/* one request: spans into strings the caller keeps alive */
typedef struct hwc_sign_req {
  hwc_slice method, body, ak, sk;
  hwc_slice path, query;  /* from the URL */
  hwc_slice date;         /* X-Sdk-Date, also among the headers */
  hwc_slice content_hash; /* X-Sdk-Content-Sha256 (-Sm3) given, else p NULL */
  hwc_slice scope;        /* V11: "region/service", the date goes before it */
  int alg;                /* HWC_ALG_* */
  int upper_method;
} hwc_sign_req;

int hwc_signer_init(hwc_signer *s);
void hwc_signer_free(hwc_signer *s);
int hwc_signer_add(hwc_signer *s, hwc_slice name, hwc_slice value);
#define HWC_SIGN_TWICE 1
int hwc_sign(hwc_signer *s, const hwc_sign_req *r, hwc_slice *auth);
void hwc_signer_done(hwc_signer *s);

/*
** Response headers as a Lua table (http_head.c), for both transports:
** hwc_head_push pushes the table of the "Name: value" lines in s (each
** ending in LF or CRLF, up to an empty line or the end), names lower-cased,
** values trimmed, a repeated name's values joined with ", " in order.
** Returns 0, or -1 (the table holding the first max_lines) past max_lines.
*/
int hwc_head_push(lua_State *L, const char *s, size_t n, lua_Integer max_lines);

/*
** Registration: each file adds its functions to the module table on top
** of the stack. Called once from luaopen_hwcloud_core.
*/
/*
** File streams of one transfer (stream.c): an upload's body in pieces (a
** file or a span of one, a multipart form), a download written to a file,
** so neither passes through memory whole. open_* return NULL or a message
** (strerror's); after a failure hwc_stream_close still frees what was
** opened. read and write have libcurl's callback shapes (ud: the stream);
** close returns 0, or -1 when the file could not be flushed.
*/
/* a piece of a body sent in pieces: bytes, or a span of a file */
typedef struct hwc_piece {
  char *data;     /* the bytes (malloc'd), or NULL for a span of a file */
  char *path;     /* the file of a span (malloc'd) */
  int64_t offset; /* where the span starts in the file */
  int64_t length; /* bytes of the piece */
} hwc_piece;

typedef struct hwc_stream {
  FILE *f;      /* download: the file; upload: the piece's file being read */
  int64_t left; /* upload: bytes still to send */
  int64_t done; /* bytes moved so far */
  int err;      /* errno of the first failed read or write, else 0 */
  struct evp_md_ctx_st *md5; /* MD5 of the bytes moved, when asked for */
  unsigned char digest[16];  /* set by close when md5 was running */
  int has_digest;
  hwc_piece *pieces; /* upload: the body's pieces (owned), else NULL */
  size_t npieces;
  size_t at;         /* the piece being read */
  int64_t pos;       /* bytes of it read so far */
} hwc_stream;
/* the list of pieces at idx; md5: take the MD5 of the bytes moved (digest,
** set by close); *path: the file a failure is about, else "the body" */
const char *hwc_stream_open_read(lua_State *L, int idx, hwc_stream *s, int md5,
                                 const char **path);
/* offset < 0: the file is made anew; else written from offset on */
const char *hwc_stream_open_write(hwc_stream *s, const char *path,
                                  int64_t offset, int md5);
size_t hwc_stream_read(char *p, size_t size, size_t nmemb, void *ud);
size_t hwc_stream_write(const char *p, size_t n, hwc_stream *s);
int hwc_stream_close(hwc_stream *s);

void hwc_open_sign(lua_State *L);
void hwc_open_url(lua_State *L);
void hwc_open_marshal(lua_State *L);
void hwc_open_decode(lua_State *L);
void hwc_open_head(lua_State *L);
void hwc_open_http(lua_State *L);
void hwc_open_fileio(lua_State *L);
void hwc_open_digest(lua_State *L);

#endif
