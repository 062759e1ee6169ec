/*
** stream.c -- a transfer's file: an upload read from a span of a file
** (libcurl's read callback), or a body in pieces (bytes and spans of
** files, a multipart form), and a download written to a file (called from
** the transport's body callback). Plain C, no Lua: the callbacks only
** move bytes and remember the first error.
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
** an ETag: hashing costs more than the copy itself */
static const char *start_md5(hwc_stream *s, int md5) {
  if (!md5) return NULL;
  s->md5 = EVP_MD_CTX_new();
  if (s->md5 == NULL || EVP_DigestInit_ex(s->md5, EVP_md5(), NULL) != 1) {
    EVP_MD_CTX_free(s->md5);
    s->md5 = NULL;
    fclose(s->f);
    s->f = NULL;
    return "cannot start an MD5 digest";
  }
  return NULL;
}

const char *hwc_stream_open_read(hwc_stream *s, const char *path,
                                 int64_t offset, int64_t length, int md5) {
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
  return start_md5(s, md5);
}

const char *hwc_stream_open_write(hwc_stream *s, const char *path,
                                  int64_t offset, int md5) {
  memset(s, 0, sizeof *s);
  /* at an offset: a part of a file written by several transfers */
  s->f = fopen(path, offset >= 0 ? "r+b" : "wb");
  if (s->f == NULL) return strerror(errno);
  if (offset > 0 && fseeko(s->f, (off_t)offset, SEEK_SET) != 0) {
    int e = errno;
    fclose(s->f);
    s->f = NULL;
    return strerror(e);
  }
  return start_md5(s, md5);
}

const char *hwc_stream_open_pieces(hwc_stream *s, hwc_piece *pieces, size_t n,
                                   size_t *bad) {
  size_t i;
  memset(s, 0, sizeof *s);
  s->pieces = pieces;
  s->npieces = n;
  /* every file is looked at now: one that cannot be read is an error
  ** before any byte leaves, and the length sent is known */
  for (i = 0; i < n; i++) {
    struct stat st;
    const hwc_piece *pc = &pieces[i];
    if (pc->data == NULL) {
      if (stat(pc->path, &st) != 0) {
        *bad = i;
        return strerror(errno);
      }
      if (!S_ISREG(st.st_mode)) {
        *bad = i;
        return S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file";
      }
      if (access(pc->path, R_OK) != 0) {
        *bad = i;
        return strerror(errno);
      }
      if (pc->offset < 0 || pc->length < 0 ||
          pc->offset + pc->length > (int64_t)st.st_size) {
        *bad = i;
        return "shorter than the length given";
      }
    }
    s->left += pc->length;
  }
  return NULL;
}

/* the next bytes of a body in pieces; 0 with s->err set on a failure */
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
  if (s->pieces != NULL) {
    if ((int64_t)want > s->left) want = (size_t)s->left;
    got = pieces_read(p, want, s);
    if (got == 0) {
      if (s->err == 0) s->err = EIO;
      return CURL_READFUNC_ABORT;
    }
    s->left -= (int64_t)got;
    s->done += (int64_t)got;
    return got;
  }
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
  if (s->md5 != NULL && EVP_DigestUpdate(s->md5, p, got) != 1) {
    s->err = EIO;
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
  if (s->pieces != NULL) {
    size_t i;
    for (i = 0; i < s->npieces; i++) {
      free(s->pieces[i].data);
      free(s->pieces[i].path);
    }
    free(s->pieces);
    s->pieces = NULL;
    s->npieces = 0;
  }
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
