/*
** hash_pipe.c -- the SHA-256 of a large request body, taken on a second
** thread while the body is still being written.
**
** Signing covers the body's hash, so a 10 MB body is otherwise written
** (escaped, UTF-8 checked) and then read again to be hashed, one after the
** other, before a byte is sent. Here the writer publishes how far the body
** is complete and a helper thread hashes up to there, so the two passes
** overlap on two cores. The thread touches only the bytes already
** published and its own digest context: no Lua state, no allocation. It
** lives no longer than the writing of one string (run ... pause), during
** which the writer must not move the buffer; the writer pauses it (which
** waits until everything published is hashed) before anything that may.
** Where a thread cannot be started the hashing simply happens inline, at
** the pause: the digest is the same either way.
*/
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "hwcloud.h"

/* the helper's stack: the digest needs little */
#define PIPE_STACK (256 * 1024)
/* bytes hashed between two looks at what is published */
#define PIPE_SPAN (256 * 1024)

struct hwc_hashpipe {
  EVP_MD_CTX *ctx;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t th;
  const char *data; /* the buffer; does not move while the thread runs */
  size_t ready;     /* [0, ready) is written: under mu */
  size_t hashed;    /* [0, hashed) is hashed: the thread's while it runs */
  int stop;         /* nothing more will be published: under mu */
  int running;      /* a thread was started and not yet joined */
  int failed;       /* a digest call failed */
  int sync_ok;      /* mu and cv are initialised */
};

static void hash_span(hwc_hashpipe *h, size_t upto) {
  if (!h->failed && upto > h->hashed &&
      EVP_DigestUpdate(h->ctx, h->data + h->hashed, upto - h->hashed) != 1)
    h->failed = 1;
  h->hashed = upto;
}

static void *pipe_main(void *arg) {
  hwc_hashpipe *h = (hwc_hashpipe *)arg;
  for (;;) {
    size_t upto;
    int last;
    pthread_mutex_lock(&h->mu);
    while (h->ready == h->hashed && !h->stop) pthread_cond_wait(&h->cv, &h->mu);
    upto = h->ready;
    last = h->stop;
    pthread_mutex_unlock(&h->mu);
    /* a span at a time, so a pause waits for little more than it must */
    while (h->hashed < upto) {
      size_t next = upto - h->hashed > PIPE_SPAN ? h->hashed + PIPE_SPAN : upto;
      hash_span(h, next);
    }
    /* stop came with the last ready: nothing is published after it */
    if (last) return NULL;
  }
}

hwc_hashpipe *hwc_hashpipe_new(void) {
  hwc_hashpipe *h = (hwc_hashpipe *)calloc(1, sizeof *h);
  if (h == NULL) return NULL;
  h->ctx = EVP_MD_CTX_new();
  if (h->ctx == NULL) {
    free(h);
    return NULL;
  }
  if (pthread_mutex_init(&h->mu, NULL) == 0) {
    if (pthread_cond_init(&h->cv, NULL) == 0) h->sync_ok = 1;
    else pthread_mutex_destroy(&h->mu);
  }
  return h;
}

void hwc_hashpipe_free(hwc_hashpipe *h) {
  if (h == NULL) return;
  if (h->running) hwc_hashpipe_pause(h, h->ready);
  if (h->sync_ok) {
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
  }
  EVP_MD_CTX_free(h->ctx);
  free(h);
}

int hwc_hashpipe_begin(hwc_hashpipe *h) {
  /* a build cut short may have left a digest half made, never a thread */
  if (h->running) hwc_hashpipe_pause(h, h->ready);
  h->data = NULL;
  h->ready = h->hashed = 0;
  h->failed = EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1;
  return h->failed ? -1 : 0;
}

void hwc_hashpipe_run(hwc_hashpipe *h, const char *data, size_t ready) {
  pthread_attr_t attr;
  sigset_t all, old;
  if (h->running) hwc_hashpipe_pause(h, h->ready);
  h->data = data;
  h->ready = ready;
  h->stop = 0;
  if (!h->sync_ok || h->failed || pthread_attr_init(&attr) != 0) return;
  /* the helper takes no signal: they stay with the threads that expect
  ** them (nginx's worker among them) */
  sigfillset(&all);
  if (pthread_attr_setstacksize(&attr, PIPE_STACK) == 0 &&
      pthread_sigmask(SIG_SETMASK, &all, &old) == 0) {
    h->running = pthread_create(&h->th, &attr, pipe_main, h) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
  }
  pthread_attr_destroy(&attr);
}

void hwc_hashpipe_more(hwc_hashpipe *h, size_t ready) {
  if (!h->running) {
    h->ready = ready;
    return;
  }
  pthread_mutex_lock(&h->mu);
  h->ready = ready;
  pthread_cond_signal(&h->cv);
  pthread_mutex_unlock(&h->mu);
}

void hwc_hashpipe_pause(hwc_hashpipe *h, size_t ready) {
  if (h->running) {
    pthread_mutex_lock(&h->mu);
    h->ready = ready;
    h->stop = 1;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->th, NULL);
    h->running = 0;
  }
  /* without a thread (or when none could start) the bytes are hashed here */
  h->ready = ready;
  if (h->data != NULL) hash_span(h, ready);
}

int hwc_hashpipe_end(hwc_hashpipe *h, const char *data, size_t len,
                     char hex[64]) {
  unsigned char d[32];
  unsigned int dlen = 0;
  hwc_hashpipe_pause(h, h->ready);
  h->data = data;
  hash_span(h, len);
  h->data = NULL;
  if (h->failed || EVP_DigestFinal_ex(h->ctx, d, &dlen) != 1 || dlen != 32)
    return -1;
  hwc_hex(d, 32, hex);
  return 0;
}
