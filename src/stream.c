/*
** stream.c -- a transfer's file: an upload read from a span of a file
** (libcurl's read callback) and a download written to a file (called from
** the transport's body callback). Plain C, no Lua: the callbacks only
** move bytes and remember the first error.
*/
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "hwcloud.h"

const char *hwc_stream_open_read(hwc_stream *s, const char *path,
                                 int64_t offset, int64_t length) {
  struct stat st;
  memset(s, 0, sizeof *s);
  s->f = fopen(path, "rb");
  if (s->f == NULL) return strerror(errno);
  if (fstat(fileno(s->f), &st) != 0 || !S_ISREG(st.st_mode)) {
    const char *why = S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file";
    fclose(s->f);
    s->f = NULL;
    return why;
  }
  if (offset < 0 || offset > (int64_t)st.st_size) offset = (int64_t)st.st_size;
  if (length < 0 || length > (int64_t)st.st_size - offset)
    length = (int64_t)st.st_size - offset;
  if (fseeko(s->f, (off_t)offset, SEEK_SET) != 0) {
    int e = errno;
    fclose(s->f);
    s->f = NULL;
    return strerror(e);
  }
  s->left = length;
  return NULL;
}

const char *hwc_stream_open_write(hwc_stream *s, const char *path) {
  memset(s, 0, sizeof *s);
  s->f = fopen(path, "wb");
  if (s->f == NULL) return strerror(errno);
  return NULL;
}

size_t hwc_stream_read(char *p, size_t size, size_t nmemb, void *ud) {
  hwc_stream *s = ud;
  size_t want = size * nmemb, got;
  if (s->left <= 0) return 0;
  if ((int64_t)want > s->left) want = (size_t)s->left;
  got = fread(p, 1, want, s->f);
  if (got < want && ferror(s->f)) {
    s->err = errno ? errno : EIO;
    return CURL_READFUNC_ABORT;
  }
  if (got == 0) {
    /* the file shrank under us: the length sent is a promise */
    s->err = EIO;
    return CURL_READFUNC_ABORT;
  }
  s->left -= (int64_t)got;
  s->done += (int64_t)got;
  return got;
}

size_t hwc_stream_write(const char *p, size_t n, hwc_stream *s) {
  if (n == 0) return 0;
  if (fwrite(p, 1, n, s->f) != n) {
    s->err = errno ? errno : EIO;
    return 0;
  }
  s->done += (int64_t)n;
  return n;
}

int hwc_stream_close(hwc_stream *s) {
  int rc = 0;
  if (s->f == NULL) return 0;
  if (fclose(s->f) != 0) {
    if (s->err == 0) s->err = errno ? errno : EIO;
    rc = -1;
  }
  s->f = NULL;
  return rc;
}
