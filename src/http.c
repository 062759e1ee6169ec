/*
** http.c -- core.transport: a libcurl multi handle and a pool of easy
** handles, owned by one userdata.
**
** Ownership rule: every C resource (easy handle, header list, buffers) is
** always reachable from the userdata -- on the idle list, the active list
** or the done list -- so a Lua error (bad argument, out of memory) raised
** at any point leaves nothing behind that __gc cannot free. libcurl never
** calls into Lua: the write and header callbacks only fill C buffers.
*/
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "hwcloud.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_TIMEOUT_MS 30000L
#define DEFAULT_MAX_RESPONSE ((curl_off_t)64 * 1024 * 1024)
/* Idle easy handles kept for reuse, and connections the multi handle
** keeps open over all hosts, until a run asks for more (l_size). libcurl's
** default is four per easy handle in the multi, so a burst of N requests
** may leave 4N idle sockets behind. One per request in flight is what a
** fan-out needs to find a connection ready for every request on its next
** round; below that libcurl closes each one as it comes back and the next
** round opens it again. */
#define POOL_MAX 64
/* the most a run may ask for: beyond, a fan-out is bounded by file
** descriptors, not by reuse */
#define SIZE_MAX_CONNECTIONS 100000
/* Bounds on one response's header block (the ngx transport has the
** same): beyond them the transfer fails rather than collect without end. */
#define MAX_HEADER_LINES 500
#define MAX_HEADER_BYTES (256 * 1024)
/* libcurl's buffer for a transfer to or from a file (its default is 16 KiB) */
#define STREAM_BUFFER (512L * 1024L)
/* response buffers larger than this are freed, not kept in the pool */
#define KEEP_BUF_MAX (64 * 1024)

typedef struct hwc_req {
  struct hwc_req *prev, *next; /* on exactly one list of the transport */
  CURL *easy;
  struct curl_slist *headers;
  int body_ref;      /* the body: the Lua string itself, held in the
                     ** registry until the request is released (LUA_NOREF) */
  hwc_buf resp;      /* response body */
  hwc_buf hdrs;      /* final response's header lines, each ending in \n */
  /* from here on, one request's state: zeroed when it is released */
  lua_Integer id;
  curl_off_t max_response;
  CURLcode result;   /* set when the transfer is done */
  int too_big;       /* write callback refused: body over max_response */
  int oom;           /* a callback ran out of memory */
  int once;          /* must not be sent twice: no libcurl resend */
  int starts;        /* times libcurl began sending it (on_prereq) */
  int resend_refused; /* libcurl wanted to send it again and was stopped */
  int hdr_lines;     /* header lines of the current response */
  int hdr_too_big;   /* header callback refused: over the limits below */
  hwc_stream up;     /* a body sent in pieces (opts.upload_pieces) */
  hwc_stream down;   /* a 2xx body written to a file (opts.download_file) */
  char errbuf[CURL_ERROR_SIZE];
} hwc_req;
#define REQ_STATE offsetof(hwc_req, id)

typedef struct hwc_list {
  hwc_req *head;
  size_t n;
} hwc_list;

typedef struct hwc_transport {
  CURLM *multi;      /* NULL once closed */
  hwc_list idle;     /* pooled easy handles, ready for reuse */
  hwc_list active;   /* added to the multi handle */
  hwc_list done;     /* finished, not yet handed to Lua */
  long connect_timeout_ms;
  long timeout_ms;
  curl_off_t max_response;
  CURLSH *share;     /* TLS sessions shared by every easy handle */
  long pool_max;     /* idle handles kept, connections kept open */
  long max_connections; /* the client's cap; 0 when none */
  lua_Integer connects; /* new connections opened, for benchmarks */
  int verify_tls;
  int http2;
  char *ca_file;     /* malloc'd copies; NULL when unset */
  char *proxy;
  char *user_agent;
  hwc_buf scratch;   /* header line rewriting in submit */
} hwc_transport;

/* ---------------------------------------------------------------- lists */

static void list_push(hwc_list *l, hwc_req *r) {
  r->prev = NULL;
  r->next = l->head;
  if (l->head) l->head->prev = r;
  l->head = r;
  l->n++;
}

static void list_unlink(hwc_list *l, hwc_req *r) {
  if (r->prev) r->prev->next = r->next;
  else l->head = r->next;
  if (r->next) r->next->prev = r->prev;
  r->prev = r->next = NULL;
  l->n--;
}

/* ------------------------------------------------------------ requests */

/* Forget everything about the last request but keep the easy handle and
** small buffers, so the next request allocates nothing. */
static void req_clear(lua_State *L, hwc_req *r) {
  if (r->body_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, r->body_ref);
  r->body_ref = LUA_NOREF;
  (void)hwc_stream_close(&r->up);
  (void)hwc_stream_close(&r->down);
  curl_slist_free_all(r->headers);
  r->headers = NULL;
  if (r->resp.cap > KEEP_BUF_MAX) hwc_buf_free(&r->resp);
  if (r->hdrs.cap > KEEP_BUF_MAX) hwc_buf_free(&r->hdrs);
  hwc_buf_reset(&r->resp);
  hwc_buf_reset(&r->hdrs);
  memset((char *)r + REQ_STATE, 0, sizeof *r - REQ_STATE);
}

static void req_free(lua_State *L, hwc_req *r) {
  req_clear(L, r);
  if (r->easy) curl_easy_cleanup(r->easy);
  hwc_buf_free(&r->resp);
  hwc_buf_free(&r->hdrs);
  free(r);
}

/* A finished request goes back to the pool (or away when the pool is full). */
static void req_release(lua_State *L, hwc_transport *t, hwc_req *r) {
  if (t->idle.n >= (size_t)t->pool_max) {
    req_free(L, r);
    return;
  }
  req_clear(L, r);
  list_push(&t->idle, r);
}

/* ----------------------------------------------------- libcurl callbacks */

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud) {
  hwc_req *r = ud;
  size_t n = size * nmemb;
  if (r->down.f != NULL) {
    /* only a success goes to the file; an error's body is read here */
    long status = 0;
    if (curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
        status >= 200 && status < 300)
      return hwc_stream_write(p, n, &r->down);
  }
  if ((curl_off_t)n > r->max_response - (curl_off_t)r->resp.len) {
    r->too_big = 1;
    return 0; /* any short count aborts with CURLE_WRITE_ERROR */
  }
  if (r->resp.cap == 0) {
    /* first chunk: size the buffer from Content-Length when it is sane */
    curl_off_t cl = -1;
    if (curl_easy_getinfo(r->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) ==
            CURLE_OK &&
        cl > 0 && cl <= r->max_response && (size_t)cl > n)
      (void)hwc_buf_reserve(&r->resp, (size_t)cl); /* a hint only */
  }
  if (hwc_buf_add(&r->resp, p, n) != 0) {
    r->oom = 1;
    return 0;
  }
  return n;
}

#if LIBCURL_VERSION_NUM >= 0x075000
/* Called each time libcurl is about to send the request on a connection
** (after connect, TLS and proxy set-up). Counting the starts tells a
** request that may have reached a server from one that never left, even
** when a later step fails with a connect error: libcurl starts a request
** again on its own when a reused connection closed before any answer
** (lib/transfer.c, Curl_retry_request) or an HTTP/2 stream was refused,
** and that second connect may be refused. The server may have acted on
** the first one, so for a `once` request the second start is refused and
** the transfer fails (CURLE_ABORTED_BY_CALLBACK) as sent. */
static int on_prereq(void *ud, char *remote_ip, char *local_ip,
                     int remote_port, int local_port) {
  hwc_req *r = ud;
  (void)remote_ip;
  (void)local_ip;
  (void)remote_port;
  (void)local_port;
  if (r->starts++ == 0 || !r->once) return CURL_PREREQFUNC_OK;
  r->resend_refused = 1;
  return CURL_PREREQFUNC_ABORT;
}
#endif

static int is_ows(char c) { return c == ' ' || c == '\t'; }

/* Header lines arrive one at a time, CRLF included, and are kept as they
** came ("Name: value\n"...), read into a table by hwc_head_push, the
** cosocket transport's parser of a head. A status
** line starts a new response (1xx, proxy CONNECT, the final one), so it
** discards what was collected; only the final response's headers survive. */
static size_t on_header(char *p, size_t size, size_t nmemb, void *ud) {
  hwc_req *r = ud;
  hwc_buf *h = &r->hdrs;
  size_t n = size * nmemb, len = n;
  while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n')) len--;
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
    hwc_buf_reset(h);
    r->hdr_lines = 0;
    return n;
  }
  if (len == 0 || (is_ows(p[0]) && h->len == 0)) return n;
  if (++r->hdr_lines > MAX_HEADER_LINES ||
      h->len + len > (size_t)MAX_HEADER_BYTES) {
    r->hdr_too_big = 1;
    return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
  }
  if (is_ows(p[0])) {
    /* obsolete line folding: the previous line goes on after one space */
    while (len > 0 && is_ows(p[0])) p++, len--;
    h->data[h->len - 1] = ' ';
  }
  if (hwc_buf_add(h, p, len) != 0 || hwc_buf_addc(h, '\n') != 0) {
    r->oom = 1;
    return 0;
  }
  return n;
}

/* ------------------------------------------------------------ helpers */

static hwc_transport *check_transport(lua_State *L) {
  return luaL_checkudata(L, 1, HWC_TRANSPORT_MT);
}

/* Pushes option `name` of the table at idx and returns 1 when it is set
** (raising, the option named, when it is not a `ty`); 0 when absent. */
static int opt(lua_State *L, int idx, const char *name, int ty) {
  if (hwc_getfield(L, idx, name) == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  if (lua_type(L, -1) != ty)
    luaL_error(L, "hwcloud.transport: option '%s' must be a %s, got %s", name,
               lua_typename(L, ty), luaL_typename(L, -1));
  return 1;
}

/* A number option from lo to hi (whole: an integer), else raises with
** `rule`; dflt when absent. */
static lua_Number opt_number(lua_State *L, int idx, const char *name,
                             lua_Number lo, lua_Number hi, int whole,
                             const char *rule, lua_Number dflt) {
  lua_Number n;
  if (!opt(L, idx, name, LUA_TNUMBER)) return dflt;
  n = lua_tonumber(L, -1);
  lua_pop(L, 1);
  if (!(n >= lo && n <= hi) || (whole && n != floor(n)))
    luaL_error(L, "hwcloud.transport: option '%s' must be %s", name, rule);
  return n;
}

/* Seconds to milliseconds for libcurl: positive and finite; at least 1 ms
** because 0 would mean "no timeout" to libcurl, at most INT_MAX (~24 days). */
static long opt_seconds(lua_State *L, int idx, const char *name, long dflt) {
  lua_Number ms = 1000 * opt_number(L, idx, name, DBL_MIN, DBL_MAX, 0,
                                    "a positive, finite number of seconds",
                                    (lua_Number)dflt / 1000);
  return ms < 1 ? 1 : ms > (lua_Number)INT_MAX ? INT_MAX : (long)ms;
}

/* An optional string option, copied into malloc'd memory at *dst. */
static void opt_string(lua_State *L, int idx, const char *name, char **dst) {
  size_t len;
  if (!opt(L, idx, name, LUA_TSTRING)) return;
  if (strlen(lua_tolstring(L, -1, &len)) != len)
    luaL_error(L, "hwcloud.transport: option '%s' contains a NUL byte", name);
  *dst = strdup(lua_tostring(L, -1));
  if (*dst == NULL) luaL_error(L, "hwcloud.transport: out of memory");
  lua_pop(L, 1);
}

static int opt_boolean(lua_State *L, int idx, const char *name, int dflt) {
  if (!opt(L, idx, name, LUA_TBOOLEAN)) return dflt;
  dflt = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return dflt;
}

/* nil, "hwcloud.transport: <why>": what a request that is not sent gets */
static int fail(lua_State *L, const char *why) {
  lua_pushnil(L);
  lua_pushfstring(L, "hwcloud.transport: %s", why);
  return 2;
}

/* RFC 9110 token characters: what a method or a header name may hold. */
static int is_tchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9'))
    return 1;
  return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* ------------------------------------------------------------- close */

/* Frees everything the userdata owns. Each step is idempotent, so it also
** serves a half-built transport whose constructor raised. */
static void transport_close(lua_State *L, hwc_transport *t) {
  hwc_list *lists[] = {&t->active, &t->done, &t->idle};
  hwc_req *r;
  int i;
  for (i = 0; i < 3; i++)
    while ((r = lists[i]->head) != NULL) {
      /* ignoring the result: the handle is destroyed right after anyway */
      if (lists[i] == &t->active) (void)curl_multi_remove_handle(t->multi, r->easy);
      list_unlink(lists[i], r);
      req_free(L, r);
    }
  if (t->multi != NULL) (void)curl_multi_cleanup(t->multi);
  t->multi = NULL;
  /* after every easy handle that used it */
  if (t->share != NULL) (void)curl_share_cleanup(t->share);
  t->share = NULL;
  free(t->ca_file);
  free(t->proxy);
  free(t->user_agent);
  t->ca_file = t->proxy = t->user_agent = NULL;
  hwc_buf_free(&t->scratch);
}

static int l_close(lua_State *L) {
  transport_close(L, check_transport(L));
  return 0;
}

/* ---------------------------------------------------------- constructor */

static int l_transport(lua_State *L) {
  hwc_transport *t;
  CURLMcode mc;
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  /* The userdata exists, zeroed and with its __gc, before anything is
  ** allocated, so an error in option parsing cannot leak. */
  t = lua_newuserdatauv(L, sizeof *t, 0);
  memset(t, 0, sizeof *t);
  hwc_buf_init(&t->scratch);
  luaL_getmetatable(L, HWC_TRANSPORT_MT);
  lua_setmetatable(L, -2);

  t->connect_timeout_ms =
      opt_seconds(L, 1, "connect_timeout", DEFAULT_CONNECT_TIMEOUT_MS);
  t->timeout_ms = opt_seconds(L, 1, "timeout", DEFAULT_TIMEOUT_MS);
  t->verify_tls = opt_boolean(L, 1, "verify_tls", 1);
  t->http2 = opt_boolean(L, 1, "http2", 1);
  t->max_response = (curl_off_t)opt_number(
      L, 1, "max_response", 0, 9.0e15, 0, "a non-negative number of bytes",
      (lua_Number)DEFAULT_MAX_RESPONSE);
  opt_string(L, 1, "ca_file", &t->ca_file);
  opt_string(L, 1, "proxy", &t->proxy);
  opt_string(L, 1, "user_agent", &t->user_agent);
  t->max_connections = (long)opt_number(
      L, 1, "max_connections", 1, SIZE_MAX_CONNECTIONS, 1,
      "a whole number from 1 to 100000", 0);
  t->pool_max = POOL_MAX;
  if (t->max_connections > 0 && t->max_connections < t->pool_max)
    t->pool_max = t->max_connections;

  /* a connection to a host the transport has met resumes its TLS session
  ** (an abbreviated handshake) instead of a full one */
  t->share = curl_share_init();
  if (t->share == NULL || curl_share_setopt(t->share, CURLSHOPT_SHARE,
                                            CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)
    return luaL_error(L, "hwcloud.transport: cannot share TLS sessions");

  t->multi = curl_multi_init();
  if (t->multi == NULL)
    return luaL_error(L, "hwcloud.transport: curl_multi_init failed");
  /* HTTP/2 multiplexing lets many requests to one host share a connection */
  mc = curl_multi_setopt(t->multi, CURLMOPT_PIPELINING,
                         (long)(t->http2 ? CURLPIPE_MULTIPLEX : CURLPIPE_NOTHING));
  if (mc == CURLM_OK)
    mc = curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, t->pool_max);
  /* the cap holds per host and in all: beyond it transfers queue inside
  ** libcurl for a connection rather than open another */
  if (mc == CURLM_OK && t->max_connections > 0)
    mc = curl_multi_setopt(t->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                           t->max_connections);
  if (mc == CURLM_OK && t->max_connections > 0)
    mc = curl_multi_setopt(t->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                           t->max_connections);
  if (mc != CURLM_OK)
    return luaL_error(L, "hwcloud.transport: curl_multi_setopt: %s",
                      curl_multi_strerror(mc));
  return 1;
}

/* t:size(n): the concurrency of the coming run. The pool and the kept
** connections grow to n (within max_connections) so a fan-out of n reuses
** its connections round after round; they never shrink, since the next
** run is likely the same size. Returns the size in effect. */
static int l_size(lua_State *L) {
  hwc_transport *t = check_transport(L);
  lua_Number n = luaL_checknumber(L, 2);
  long want = n >= SIZE_MAX_CONNECTIONS ? SIZE_MAX_CONNECTIONS : n >= 1 ? (long)n : 1;
  if (t->multi == NULL) return luaL_error(L, "hwcloud.transport: closed");
  if (t->max_connections > 0 && want > t->max_connections)
    want = t->max_connections;
  if (want > t->pool_max) {
    CURLMcode mc = curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, want);
    if (mc != CURLM_OK)
      return luaL_error(L, "hwcloud.transport: CURLMOPT_MAXCONNECTS: %s",
                        curl_multi_strerror(mc));
    t->pool_max = want;
  }
  lua_pushinteger(L, (lua_Integer)t->pool_max);
  return 1;
}

/* t:stats() -> {connects = new connections opened so far} */
static int l_stats(lua_State *L) {
  hwc_transport *t = check_transport(L);
  lua_createtable(L, 0, 1);
  lua_pushinteger(L, t->connects);
  lua_setfield(L, -2, "connects");
  return 1;
}

/* -------------------------------------------------------------- submit */

/* Appends a line to r->headers: 0, or -1 when out of memory. */
static int append(hwc_req *r, const char *line) {
  struct curl_slist *l = curl_slist_append(r->headers, line);
  if (l == NULL) return -1;
  r->headers = l;
  return 0;
}

/* Checks one "Name: value" header and appends it to r->headers. An empty
** value becomes "Name;", libcurl's spelling for "send it empty" ("Name:"
** would remove the header instead). Returns NULL or an error message that
** never quotes the header (it may carry a secret). */
static const char *add_header(hwc_transport *t, hwc_req *r, const char *s,
                              size_t len, int *has_ctype) {
  size_t i, colon, v;
  for (colon = 0; colon < len && is_tchar((unsigned char)s[colon]); colon++) {}
  if (colon == 0 || colon == len || s[colon] != ':')
    return "is not a \"Name: value\" line";
  for (i = colon; i < len; i++)
    if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
      return "contains CR, LF or NUL";
  if (colon == 12 && hwc_ieq(s, "content-type", 12)) *has_ctype = 1;
  for (v = colon + 1; v < len && is_ows(s[v]); v++) {}
  if (v == len) {
    hwc_buf_reset(&t->scratch);
    if (hwc_buf_add(&t->scratch, s, colon) != 0 ||
        hwc_buf_addc(&t->scratch, ';') != 0 || hwc_buf_cstr(&t->scratch) != 0)
      return "out of memory";
    s = t->scratch.data;
  }
  return append(r, s) != 0 ? "out of memory" : NULL;
}

#define SETOPT(opt, val)                                     \
  do {                                                       \
    CURLcode rc_ = curl_easy_setopt(e, opt, val);            \
    if (rc_ != CURLE_OK) {                                   \
      lua_pushnil(L);                                        \
      lua_pushfstring(L, "hwcloud.transport: %s: %s", #opt,  \
                      curl_easy_strerror(rc_));              \
      return 2;                                              \
    }                                                        \
  } while (0)

/* Sets every option of one request on r's (freshly reset) easy handle.
** Returns 0 when ready, or 2 with nil, message pushed. */
static int prepare(lua_State *L, hwc_transport *t, hwc_req *r,
                   const char *method, size_t mlen, const char *url,
                   int body_idx, long connect_ms, long total_ms) {
  CURL *e = r->easy;
  size_t i, n = lua_rawlen(L, 4);
  int has_ctype = 0, is_head = 0, is_get = 0, is_post = 0, wants_body = 0;

  for (i = 1; i <= n; i++) {
    size_t hlen = 0;
    const char *h, *why;
    lua_rawgeti(L, 4, (lua_Integer)i);
    h = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &hlen) : NULL;
    if (h == NULL)
      why = lua_pushfstring(L, "is a %s, not a string", luaL_typename(L, -1));
    else
      why = add_header(t, r, h, hlen, &has_ctype);
    if (why != NULL) return fail(L, lua_pushfstring(L, "header #%d %s", (int)i, why));
    lua_pop(L, 1);
  }

  if (mlen == 4 && memcmp(method, "HEAD", 4) == 0) is_head = 1;
  else if (mlen == 3 && memcmp(method, "GET", 3) == 0) is_get = 1;
  else if (mlen == 4 && memcmp(method, "POST", 4) == 0) is_post = 1;
  /* these carry a body even when empty: Content-Length: 0 must be sent */
  wants_body = is_post || (mlen == 3 && memcmp(method, "PUT", 3) == 0) ||
               (mlen == 5 && memcmp(method, "PATCH", 5) == 0);
  if (!is_head && !lua_isnil(L, body_idx)) wants_body = 1;

  /* libcurl adds these on its own; an empty "Name:" suppresses them */
  if (append(r, "Expect:") != 0 ||
      (wants_body && !has_ctype && append(r, "Content-Type:") != 0))
    return fail(L, "out of memory");

  SETOPT(CURLOPT_PRIVATE, (void *)r);
  SETOPT(CURLOPT_SHARE, t->share);
  SETOPT(CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
  SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
#else
  SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  SETOPT(CURLOPT_NOSIGNAL, 1L);     /* no SIGALRM: we may share a process */
  SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
  SETOPT(CURLOPT_PATH_AS_IS, 1L);   /* the signature covers the raw path */
  SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
#if LIBCURL_VERSION_NUM >= 0x074100
  /* gateways commonly close idle connections after 60 s; reusing an older
  ** one (libcurl's default allows 118 s) invites a request on a connection
  ** the server is closing, which a `once` request must then give up */
  SETOPT(CURLOPT_MAXAGE_CONN, 50L);
#endif
  SETOPT(CURLOPT_ERRORBUFFER, r->errbuf);
  SETOPT(CURLOPT_WRITEFUNCTION, on_body);
  SETOPT(CURLOPT_WRITEDATA, (void *)r);
  SETOPT(CURLOPT_HEADERFUNCTION, on_header);
  SETOPT(CURLOPT_HEADERDATA, (void *)r);
  SETOPT(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  SETOPT(CURLOPT_TIMEOUT_MS, total_ms);
  if (t->http2) {
    /* HTTP/2 only when TLS negotiates it; 1.1 otherwise. Without nghttp2
    ** libcurl refuses the option, which simply means HTTP/1.1. */
    if (curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                         (long)CURL_HTTP_VERSION_2TLS) != CURLE_OK)
      SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    /* over TLS, wait for a connection that may multiplex rather than
    ** open many; plain http never multiplexes, so waiting would only delay */
    if (strlen(url) > 8 && hwc_ieq(url, "https://", 8))
      SETOPT(CURLOPT_PIPEWAIT, 1L);
  } else {
    SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  }
  if (!t->verify_tls) {
    SETOPT(CURLOPT_SSL_VERIFYPEER, 0L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 0L);
    SETOPT(CURLOPT_PROXY_SSL_VERIFYPEER, 0L);
    SETOPT(CURLOPT_PROXY_SSL_VERIFYHOST, 0L);
  }
  if (t->ca_file) SETOPT(CURLOPT_CAINFO, t->ca_file);
  /* without the option libcurl honours the *_proxy environment variables */
  if (t->proxy) SETOPT(CURLOPT_PROXY, t->proxy);
  if (t->user_agent) SETOPT(CURLOPT_USERAGENT, t->user_agent);
  else SETOPT(CURLOPT_USERAGENT, "hwcloud/" HWC_VERSION);

  if (is_head) {
    SETOPT(CURLOPT_NOBODY, 1L);
  } else if (r->up.pieces != NULL) {
    /* the body streams from its pieces, read as libcurl sends */
    SETOPT(CURLOPT_UPLOAD, 1L);
    SETOPT(CURLOPT_READFUNCTION, hwc_stream_read);
    SETOPT(CURLOPT_READDATA, (void *)&r->up);
    SETOPT(CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->up.left);
    SETOPT(CURLOPT_CUSTOMREQUEST, method);
  } else if (wants_body) {
    size_t blen = 0;
    const char *b = "";
    if (!lua_isnil(L, body_idx)) {
      /* the body is not copied (10 MB would cost a malloc, its page faults
      ** and a memcpy): the string is kept in the registry, so it outlives
      ** the transfer; it never moves */
      b = lua_tolstring(L, body_idx, &blen);
      lua_pushvalue(L, body_idx);
      r->body_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
    /* one buffer: headers and a small body leave in one send() */
    SETOPT(CURLOPT_POSTFIELDS, b);
    if (!is_post) SETOPT(CURLOPT_CUSTOMREQUEST, method);
  } else if (is_get) {
    SETOPT(CURLOPT_HTTPGET, 1L);
  } else {
    SETOPT(CURLOPT_CUSTOMREQUEST, method);
  }
  SETOPT(CURLOPT_HTTPHEADER, r->headers);
  /* a file transfer moves in large pieces: fewer callbacks and writes */
  if (r->down.f != NULL) SETOPT(CURLOPT_BUFFERSIZE, STREAM_BUFFER);
#if LIBCURL_VERSION_NUM >= 0x073E00
  if (r->up.pieces != NULL) SETOPT(CURLOPT_UPLOAD_BUFFERSIZE, STREAM_BUFFER);
#endif
#if LIBCURL_VERSION_NUM >= 0x075000
  SETOPT(CURLOPT_PREREQFUNCTION, on_prereq);
  SETOPT(CURLOPT_PREREQDATA, (void *)r);
#else
  /* no way to refuse a restart: never reuse a connection for it */
  if (r->once) SETOPT(CURLOPT_FRESH_CONNECT, 1L);
#endif
  return 0;
}

/* opts.upload_pieces (strings and {path, offset, length} spans of files)
** and opts.download_file (with download_offset): the files are looked at
** or opened now, so one that cannot be is nil, message before anything is
** sent. opts.file_md5: the bytes sent or received are hashed (the
** completion's file_md5), for a caller that compares them with an ETag.
** Returns 0, or 2 pushed. */
static int open_streams(lua_State *L, hwc_req *r, int opts) {
  const char *why = NULL, *path = NULL, *what = "cannot read ";
  int md5;
  hwc_getfield(L, opts, "file_md5");
  md5 = lua_toboolean(L, -1);
  if (hwc_getfield(L, opts, "upload_pieces") == LUA_TTABLE)
    why = hwc_stream_open_read(L, lua_gettop(L), &r->up, md5, &path);
  if (why == NULL && hwc_getfield(L, opts, "download_file") == LUA_TSTRING) {
    lua_Number off = -1;
    path = lua_tostring(L, -1);
    if (hwc_getfield(L, opts, "download_offset") == LUA_TNUMBER) off = lua_tonumber(L, -1);
    what = "cannot write ";
    why = hwc_stream_open_write(&r->down, path, (int64_t)off, md5);
  }
  if (why == NULL) {
    lua_settop(L, opts);
    return 0;
  }
  return fail(L, lua_pushfstring(L, "%s%s: %s", what, path, why));
}

static int l_submit(lua_State *L) {
  hwc_transport *t = check_transport(L);
  lua_Integer id;
  size_t mlen, ulen, i;
  const char *method, *url;
  long connect_ms, total_ms;
  hwc_req *r;
  CURLMcode mc;
  int nret, once = 0;

  if (!hwc_isinteger(L, 2)) luaL_argerror(L, 2, "integer id expected");
  id = lua_tointeger(L, 2);
  method = luaL_checklstring(L, 3, &mlen);
  url = luaL_checklstring(L, 4, &ulen);
  /* the headers array moves to index 4 below; check it now */
  luaL_checktype(L, 5, LUA_TTABLE);
  if (!lua_isnoneornil(L, 6)) luaL_checktype(L, 6, LUA_TSTRING);
  if (!lua_isnoneornil(L, 7)) luaL_checktype(L, 7, LUA_TTABLE);
  lua_settop(L, 7);
  connect_ms = t->connect_timeout_ms;
  total_ms = t->timeout_ms;
  if (!lua_isnil(L, 7)) {
    connect_ms = opt_seconds(L, 7, "connect_timeout", connect_ms);
    total_ms = opt_seconds(L, 7, "timeout", total_ms);
    once = opt_boolean(L, 7, "once", 0);
  }
  if (t->multi == NULL) return fail(L, "closed");
  if (mlen == 0 || mlen > 32) return fail(L, "method must be an HTTP token");
  for (i = 0; i < mlen; i++)
    if (!is_tchar((unsigned char)method[i])) return fail(L, "method must be an HTTP token");
  if (strlen(url) != ulen) return fail(L, "URL contains a NUL byte");

  /* Take a pooled handle (cleared when it was released), or make one. It
  ** stays on the idle list while it is being prepared, so an error below
  ** leaves it owned by the pool. */
  r = t->idle.head;
  if (r == NULL) {
    r = calloc(1, sizeof *r);
    if (r == NULL) return fail(L, "out of memory");
    hwc_buf_init(&r->resp);
    hwc_buf_init(&r->hdrs);
    r->body_ref = LUA_NOREF;
    list_push(&t->idle, r);
    r->easy = curl_easy_init();
    if (r->easy == NULL) return fail(L, "out of memory");
  } else {
    curl_easy_reset(r->easy);
  }
  r->id = id;
  r->max_response = t->max_response;
  r->once = once;
  nret = lua_isnil(L, 7) ? 0 : open_streams(L, r, 7);
  lua_remove(L, 1); /* prepare() reads headers at 4 and the body at 5 */
  if (nret == 0) nret = prepare(L, t, r, method, mlen, url, 5, connect_ms, total_ms);
  if (nret == 0 && (mc = curl_multi_add_handle(t->multi, r->easy)) != CURLM_OK)
    nret = fail(L, lua_pushfstring(L, "curl_multi_add_handle: %s", curl_multi_strerror(mc)));
  if (nret != 0) {
    req_clear(L, r);
    return nret;
  }
  list_unlink(&t->idle, r);
  list_push(&t->active, r);
  lua_pushboolean(L, 1);
  return 1;
}

/* ---------------------------------------------------------------- poll */

/* Moves every finished transfer from the multi handle to the done list.
** Plain C, no Lua: nothing here can raise. */
static void collect(hwc_transport *t) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(t->multi, &left)) != NULL) {
    hwc_req *r;
    char *priv = NULL;
    long nc = 0;
    if (m->msg != CURLMSG_DONE) continue;
    if (curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv) !=
            CURLE_OK ||
        priv == NULL)
      continue; /* cannot happen: every handle we add carries PRIVATE */
    r = (hwc_req *)(void *)priv;
    r->result = m->data.result;
    /* the file is complete (flushed) before Lua hears of it */
    (void)hwc_stream_close(&r->down);
    (void)hwc_stream_close(&r->up);
    if (curl_easy_getinfo(r->easy, CURLINFO_NUM_CONNECTS, &nc) == CURLE_OK && nc > 0)
      t->connects += nc;
    /* done with it either way; m is invalid after remove_handle */
    (void)curl_multi_remove_handle(t->multi, r->easy);
    list_unlink(&t->active, r);
    list_push(&t->done, r);
  }
}

static const char *drive(hwc_transport *t) {
  int running;
  CURLMcode mc = curl_multi_perform(t->multi, &running);
  if (mc != CURLM_OK) return curl_multi_strerror(mc);
  collect(t);
  return NULL;
}

/* false only when no byte of the request can have reached the server.
** A request libcurl began to send (starts > 0) may have, whatever the
** final code says: its own reconnect after a dropped kept-alive
** connection can fail to connect. CURLE_UNSUPPORTED_PROTOCOL is not on
** the list: it also reports an answer without a status line (HTTP/0.9)
** or with a status libcurl cannot read, which come after the request. */
static int maybe_sent(CURLcode rc, const hwc_req *r) {
  long reqsize = 0;
  if (r->starts > 0) return 1;
  switch (rc) {
    case CURLE_URL_MALFORMAT:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
#if LIBCURL_VERSION_NUM >= 0x074900
    case CURLE_PROXY:
#endif
      return 0;
    default:
      break;
  }
  if (curl_easy_getinfo(r->easy, CURLINFO_REQUEST_SIZE, &reqsize) != CURLE_OK)
    return 1; /* unknown: assume the worst for retries */
  return reqsize != 0;
}

/* Sets c.http_version of the completion on top: "1.0", "1.1", "2", "3". */
static void push_http_version(lua_State *L, const hwc_req *r) {
  long v = 0;
  if (curl_easy_getinfo(r->easy, CURLINFO_HTTP_VERSION, &v) != CURLE_OK) return;
  if (v == CURL_HTTP_VERSION_1_0) lua_pushliteral(L, "1.0");
  else if (v == CURL_HTTP_VERSION_1_1) lua_pushliteral(L, "1.1");
  else if (v == CURL_HTTP_VERSION_2_0) lua_pushliteral(L, "2");
  else if (v == 30) lua_pushliteral(L, "3"); /* CURL_HTTP_VERSION_3, libcurl 7.66 */
  else return;
  lua_setfield(L, -2, "http_version");
}

/* Pushes the completion table of a done request. May raise (memory):
** the request is still on the done list then, and comes back next poll. */
static void push_completion(lua_State *L, hwc_req *r) {
  double total = 0;
  if (curl_easy_getinfo(r->easy, CURLINFO_TOTAL_TIME, &total) != CURLE_OK)
    total = 0;
  lua_createtable(L, 0, 7);
  lua_pushinteger(L, r->id);
  lua_setfield(L, -2, "id");
  lua_pushnumber(L, (lua_Number)total);
  lua_setfield(L, -2, "time");
  if (r->result == CURLE_OK) {
    long status = 0;
    if (curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status) !=
        CURLE_OK)
      status = 0;
    lua_pushinteger(L, (lua_Integer)status);
    lua_setfield(L, -2, "status");
    push_http_version(L, r);
    lua_pushlstring(L, r->resp.data ? r->resp.data : "", r->resp.len);
    lua_setfield(L, -2, "body");
    hwc_head_push(L, r->hdrs.data, r->hdrs.len, MAX_HEADER_LINES);
    lua_setfield(L, -2, "headers");
    if (r->down.done > 0 || r->down.err != 0) {
      lua_pushnumber(L, (lua_Number)r->down.done);
      lua_setfield(L, -2, "file_bytes");
    }
    if (r->down.err != 0) {
      lua_pushstring(L, strerror(r->down.err));
      lua_setfield(L, -2, "file_error");
    }
    /* the MD5 of what went to or came from the file, hex, for ETags */
    if (r->down.has_digest || r->up.has_digest) {
      char hex[32];
      hwc_hex(r->down.has_digest ? r->down.digest : r->up.digest, 16, hex);
      lua_pushlstring(L, hex, 32);
      lua_setfield(L, -2, "file_md5");
    }
    return;
  }
  lua_pushstring(L, r->result == CURLE_OPERATION_TIMEDOUT ? "timeout"
                                                          : "transport");
  lua_setfield(L, -2, "error");
  if (r->too_big) {
    char msg[80]; /* formatted here: lua_pushfstring has no 64-bit %d */
    snprintf(msg, sizeof msg,
             "response larger than max_response (%" CURL_FORMAT_CURL_OFF_T
             " bytes)", r->max_response);
    lua_pushstring(L, msg);
  } else if (r->hdr_too_big) {
    lua_pushliteral(L, "response headers too large (over 500 lines or 256 KiB)");
  } else if (r->oom) {
    lua_pushliteral(L, "out of memory while receiving the response");
  } else if (r->resend_refused) {
    lua_pushliteral(L, "the connection closed before any answer; the request "
                       "may have reached the server, so it was not sent "
                       "again");
  } else if (r->down.err != 0 || r->up.err != 0) {
    lua_pushfstring(L, "%s the file: %s", r->up.err ? "cannot read" : "cannot write",
                    strerror(r->up.err ? r->up.err : r->down.err));
  } else if (r->errbuf[0] != '\0') {
    lua_pushstring(L, r->errbuf);
  } else {
    lua_pushstring(L, curl_easy_strerror(r->result));
  }
  lua_setfield(L, -2, "message");
  lua_pushinteger(L, (lua_Integer)r->result);
  lua_setfield(L, -2, "code");
  /* a refused resend follows a first try that may have arrived */
  lua_pushboolean(L, r->too_big || r->resend_refused ||
                         maybe_sent(r->result, r));
  lua_setfield(L, -2, "sent");
  if (r->too_big) {
    /* the same request would meet the same answer: never worth a retry */
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "too_big");
  }
}

static int l_poll(lua_State *L) {
  hwc_transport *t = check_transport(L);
  lua_Number w = luaL_optnumber(L, 2, 0);
  const char *err;
  lua_Integer k = 0;
  hwc_req *r;
  if (t->multi == NULL) return luaL_error(L, "hwcloud.transport: closed");
  if (!(w > 0)) w = 0;
  if (w > (lua_Number)INT_MAX) w = (lua_Number)INT_MAX;

  err = drive(t);
  if (err == NULL && t->done.n == 0 && w > 0) {
    /* wait until something completes or wait_ms is spent; with nothing
    ** in flight curl_multi_poll simply sleeps the whole time */
    double deadline = 1000 * hwc_now() + (double)w, left = (double)w;
    while (err == NULL && t->done.n == 0 && left >= 1) {
      CURLMcode mc = curl_multi_poll(t->multi, NULL, 0, (int)left, NULL);
      if (mc != CURLM_OK) {
        err = curl_multi_strerror(mc);
        break;
      }
      err = drive(t);
      left = deadline - 1000 * hwc_now();
    }
  }
  if (err != NULL) return luaL_error(L, "hwcloud.transport: %s", err);

  /* Build the whole array first and release afterwards: if memory runs
  ** out half-way, every completion is still on the done list for the next
  ** poll and none is lost. */
  lua_createtable(L, (int)(t->done.n < INT_MAX ? t->done.n : 0), 0);
  for (r = t->done.head; r != NULL; r = r->next) {
    push_completion(L, r);
    lua_rawseti(L, -2, ++k);
  }
  while ((r = t->done.head) != NULL) {
    list_unlink(&t->done, r);
    req_release(L, t, r);
  }
  return 1;
}

/* In flight, plus finished ones a failed poll could not hand over yet:
** the caller keeps polling while this is non-zero and loses nothing. */
static int l_pending(lua_State *L) {
  hwc_transport *t = check_transport(L);
  lua_pushinteger(L, (lua_Integer)(t->active.n + t->done.n));
  return 1;
}

static int l_tostring(lua_State *L) {
  hwc_transport *t = check_transport(L);
  if (t->multi == NULL) lua_pushliteral(L, "hwcloud.transport (closed)");
  else lua_pushfstring(L, "hwcloud.transport (%d pending)",
                       (int)(t->active.n + t->done.n));
  return 1;
}

void hwc_open_http(lua_State *L) {
  static const luaL_Reg methods[] = {
      {"submit", l_submit},
      {"poll", l_poll},
      {"pending", l_pending},
      {"size", l_size},
      {"stats", l_stats},
      {"close", l_close},
      {NULL, NULL}};
  static const luaL_Reg meta[] = {
      {"__gc", l_close},
#if LUA_VERSION_NUM >= 504
      {"__close", l_close},
#endif
      {"__tostring", l_tostring},
      {NULL, NULL}};
  if (luaL_newmetatable(L, HWC_TRANSPORT_MT)) {
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, l_transport);
  lua_setfield(L, -2, "transport");
}
