/*
** stream.c -- a transfer's files: an upload's body in pieces (strings and
** {path=, offset=, length=} spans of files: one span for a file or a part
** of one, a multipart form's parts), read as libcurl sends, and a download
** written to a file (called from the transport's body callback). The list
** is read from Lua once, when the request is submitted; the callbacks are
** plain C that only move bytes and remember the first error.
*/
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "hwcloud.h"

/* the MD5 of what a stream moves, only when its caller compares it with
** an ETag: hashing costs more than the copy itself. A failure leaves what
** was opened to hwc_stream_close, like every failed open. */
static const char *start_md5(hwc_stream *s, int md5) {
  if (!md5) return NULL;
  s->md5 = EVP_MD_CTX_new();
  if (s->md5 != NULL && EVP_DigestInit_ex(s->md5, EVP_md5(), NULL) == 1) return NULL;
  return "cannot start an MD5 digest";
}

static char *copy(const char *p, size_t n) {
  char *c = malloc(n + 1);
  if (c == NULL) return NULL;
  memcpy(c, p, n);
  c[n] = '\0';
  return c;
}

/* One entry of the list (at the top of the stack) into *pc. The strings
** are copied (a multipart form's are a few hundred bytes); a file is looked
** at now, so one that cannot be read fails before any byte leaves and the
** length sent is known, and read only while it is sent. */
static const char *one(lua_State *L, hwc_piece *pc, const char **path) {
  struct stat st;
  size_t n;
  const char *why = NULL;
  if (lua_type(L, -1) == LUA_TSTRING) {
    const char *s = lua_tolstring(L, -1, &n);
    pc->length = (int64_t)n;
    return (pc->data = copy(s, n)) == NULL ? "out of memory" : NULL;
  }
  if (lua_type(L, -1) != LUA_TTABLE) return "a piece is not a string or a file span";
  if (hwc_getfield(L, -1, "path") != LUA_TSTRING) {
    lua_pop(L, 1);
    return "a file span has no path";
  }
  /* the path as Lua holds it: the list outlives the message made of it */
  *path = lua_tolstring(L, -1, &n);
  if (hwc_getfield(L, -2, "offset") == LUA_TNUMBER) pc->offset = (int64_t)lua_tonumber(L, -1);
  if (hwc_getfield(L, -3, "length") == LUA_TNUMBER) pc->length = (int64_t)lua_tonumber(L, -1);
  else why = "a file span has no length";
  lua_pop(L, 3);
  if (why != NULL) return why;
  if ((pc->path = copy(*path, n)) == NULL) return "out of memory";
  if (stat(pc->path, &st) != 0) return strerror(errno);
  if (!S_ISREG(st.st_mode)) return S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file";
  if (access(pc->path, R_OK) != 0) return strerror(errno);
  if (pc->offset < 0 || pc->length < 0 || pc->offset + pc->length > (int64_t)st.st_size)
    return "shorter than the length given";
  return NULL;
}

const char *hwc_stream_open_read(lua_State *L, int idx, hwc_stream *s, int md5,
                                 const char **path) {
  size_t n = (size_t)lua_rawlen(L, idx), i;
  const char *why = NULL;
  memset(s, 0, sizeof *s);
  *path = "the body";
  /* at least one entry: calloc(0) may be NULL. The stream owns the list
  ** from here, to free it (on a failure too) */
  s->pieces = calloc(n ? n : 1, sizeof *s->pieces);
  if (s->pieces == NULL) return "out of memory";
  s->npieces = n;
  for (i = 0; i < n && why == NULL; i++) {
    lua_rawgeti(L, idx, (lua_Integer)(i + 1));
    why = one(L, &s->pieces[i], path);
    lua_pop(L, 1);
    s->left += s->pieces[i].length;
  }
  return why != NULL ? why : start_md5(s, md5);
}

const char *hwc_stream_open_write(hwc_stream *s, const char *path,
                                  int64_t offset, int md5) {
  memset(s, 0, sizeof *s);
  /* at an offset: a part of a file written by several transfers */
  s->f = fopen(path, offset >= 0 ? "r+b" : "wb");
  if (s->f == NULL) return strerror(errno);
  if (offset > 0 && fseeko(s->f, (off_t)offset, SEEK_SET) != 0) return strerror(errno);
  return start_md5(s, md5);
}

/* the next bytes of the body; 0 with s->err set on a failure */
static size_t pieces_read(char *p, size_t want, hwc_stream *s) {
  size_t out = 0;
  while (out < want && s->at < s->npieces) {
    const hwc_piece *pc = &s->pieces[s->at];
    int64_t rest = pc->length - s->pos;
    size_t take = want - out;
    if ((int64_t)take > rest) take = (size_t)rest;
    if (take == 0) {
      /* a file is open only while its piece is read */
      if (s->f != NULL && fclose(s->f) != 0) s->err = errno ? errno : EIO;
      s->f = NULL;
      s->at++;
      s->pos = 0;
      if (s->err) return 0;
      continue;
    }
    if (pc->data != NULL) {
      memcpy(p + out, pc->data + s->pos, take);
    } else {
      if (s->f == NULL) {
        s->f = fopen(pc->path, "rb");
        if (s->f == NULL || fseeko(s->f, (off_t)pc->offset, SEEK_SET) != 0) {
          s->err = errno ? errno : EIO;
          return 0;
        }
      }
      take = fread(p + out, 1, take, s->f);
      if (take == 0) {
        /* an error, or the file shrank: the length sent is a promise */
        s->err = ferror(s->f) && errno ? errno : EIO;
        return 0;
      }
    }
    s->pos += (int64_t)take;
    out += take;
  }
  return out;
}

size_t hwc_stream_read(char *p, size_t size, size_t nmemb, void *ud) {
  hwc_stream *s = ud;
  size_t want = size * nmemb, got;
  if (s->left <= 0) return 0;
  if ((int64_t)want > s->left) want = (size_t)s->left;
  got = pieces_read(p, want, s);
  if (got == 0 || (s->md5 != NULL && EVP_DigestUpdate(s->md5, p, got) != 1)) {
    if (s->err == 0) s->err = EIO;
    return CURL_READFUNC_ABORT;
  }
  s->left -= (int64_t)got;
  s->done += (int64_t)got;
  return got;
}

size_t hwc_stream_write(const char *p, size_t n, hwc_stream *s) {
  if (n == 0) return 0;
  if (fwrite(p, 1, n, s->f) != n ||
      (s->md5 != NULL && EVP_DigestUpdate(s->md5, p, n) != 1)) {
    s->err = errno ? errno : EIO;
    return 0;
  }
  s->done += (int64_t)n;
  return n;
}

int hwc_stream_close(hwc_stream *s) {
  int rc = 0;
  size_t i;
  for (i = 0; i < s->npieces; i++) {
    free(s->pieces[i].data);
    free(s->pieces[i].path);
  }
  free(s->pieces);
  s->pieces = NULL;
  s->npieces = 0;
  if (s->md5 != NULL) {
    unsigned int n = 0;
    s->has_digest = EVP_DigestFinal_ex(s->md5, s->digest, &n) == 1 && n == 16;
    EVP_MD_CTX_free(s->md5);
    s->md5 = NULL;
  }
  if (s->f == NULL) return 0;
  if (fclose(s->f) != 0) {
    if (s->err == 0) s->err = errno ? errno : EIO;
    rc = -1;
  }
  s->f = NULL;
  return rc;
}
