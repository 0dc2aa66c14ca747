/*
 * loop.c - the asynchronous layer's engine: fsc_loop (worker threads, the
 * pending queue, the completion queue and its eventfd), the life of a
 * request (pending, running, done, delivered), per-handle order, close
 * and cancellation, and the generic request fsc_async_call that every
 * operation of ops.c is made of.
 *
 * Invariants (all kept under loop->mu):
 *  - A request is in exactly one place: the pending list (state PENDING),
 *    the running list (RUNNING), or, as its `done` event, the completion
 *    queue (DONE) until fsc_loop_run delivers it and frees it.  So its
 *    callback runs exactly once, and only on the thread of fsc_loop_run
 *    or fsc_loop_free.
 *  - Per handle (struct acoll): at most one ordered request runs, and a
 *    worker takes the first pending one in submission order, so a
 *    handle's ordered requests run, and complete, in order.  The close
 *    request runs only when nothing else of its handle runs, and once it
 *    is submitted nothing more of the handle is queued (a submission
 *    fails with FSC_ECLOSED), so its callback is the handle's last.  When
 *    it has run, its acoll no longer names the handle (the address may be
 *    reused by a new handle).
 *  - loop->inflight counts requests queued and not yet freed;
 *    fsc_loop_free delivers until it is 0.
 *  - The eventfd is written when an event goes into an empty completion
 *    queue; fsc_loop_run reads it before it takes the queue, so an event
 *    is never left without the descriptor readable.
 */
#include "async/async.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

enum { REQ_PENDING = 1, REQ_RUNNING = 2, REQ_DONE = 3 };

/* A handle's state in the loop: created by its first request, freed with
 * its last. */
struct acoll {
  struct acoll *next;
  fsc_coll *c;
  unsigned refs;      /* requests of c not yet freed */
  bool running;       /* an ordered request of c runs */
  unsigned unordered; /* unordered requests of c that run */
  bool closing;       /* a close was submitted */
};

struct fsc_req {
  struct fsc_req *prev, *next; /* the pending or running list */
  fsc_loop *loop;
  struct acoll *ac; /* NULL: no handle */
  fsc_coll *coll;
  unsigned flags;
  int state;
  int rc;
  int cancel; /* atomic: read by the worker without the lock */
  fsc_async_fn fn;
  void *arg;
  fsc_async_cb cb;
  void *data;
  fsc_async_result res;
  void (*drop)(void *arg);
  void (*wake)(void *ctx);
  void *wake_ctx;
  int (*batch_fn)(struct fsc_req *r, unsigned which);
  int posted;  /* a scan: the buffer posted and not consumed, or -1 */
  int stop_rc; /* a scan: a batch callback's negative return */
  struct fsc__ev done;
  struct fsc__ev batch[2];
  char msg[256]; /* the worker's fsc_errmsg() for a failure */
  max_align_t own[]; /* the argument's copy (fsc__async_prepare) */
};

struct fsc_loop {
  pthread_mutex_t mu;
  pthread_cond_t work;  /* workers: a request may be runnable */
  pthread_cond_t batch; /* scans: a batch was consumed, or a cancel */
  int efd;
  unsigned nthreads;
  pthread_t *threads;
  bool stopping;
  bool in_run; /* fsc_loop_run is delivering (a nested call does nothing) */
  struct fsc_req *pending, *pending_tail;
  struct fsc_req *running;
  struct fsc__ev *dhead, *dtail;
  struct acoll *colls;
  int64_t inflight; /* atomic for fsc_loop_pending */
};

/* ---- lists, under loop->mu ---- */

static void list_unlink(struct fsc_req **head, struct fsc_req **tail,
                        struct fsc_req *r) {
  if (r->prev)
    r->prev->next = r->next;
  else
    *head = r->next;
  if (r->next)
    r->next->prev = r->prev;
  else if (tail)
    *tail = r->prev;
  r->prev = r->next = NULL;
}

static void ev_push(fsc_loop *loop, struct fsc__ev *ev) {
  bool was_empty = loop->dhead == NULL;
  ev->next = NULL;
  if (loop->dtail)
    loop->dtail->next = ev;
  else
    loop->dhead = ev;
  loop->dtail = ev;
  if (was_empty) {
    uint64_t one = 1;
    ssize_t w;
    do
      w = write(loop->efd, &one, sizeof one);
    while (w < 0 && errno == EINTR);
    /* EAGAIN: the counter is at its maximum, so the fd is readable. */
  }
}

static void complete(struct fsc_req *r, int rc) {
  r->rc = rc;
  r->state = REQ_DONE;
  r->done.type = FSC__EV_DONE;
  r->done.req = r;
  ev_push(r->loop, &r->done);
}

/* Ask a running request to stop: the flag, the scans' condition, and the
 * wait's wake-up. */
static void cancel_running(struct fsc_req *r) {
  __atomic_store_n(&r->cancel, 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&r->loop->batch);
  if (r->wake)
    r->wake(r->wake_ctx);
}

static struct acoll *acoll_get(fsc_loop *loop, fsc_coll *c) {
  for (struct acoll *a = loop->colls; a; a = a->next)
    if (a->c == c)
      return a;
  struct acoll *a = calloc(1, sizeof *a);
  if (!a)
    return NULL;
  a->c = c;
  a->next = loop->colls;
  loop->colls = a;
  return a;
}

static void acoll_put(fsc_loop *loop, struct acoll *a) {
  if (--a->refs > 0)
    return;
  for (struct acoll **p = &loop->colls; *p; p = &(*p)->next)
    if (*p == a) {
      *p = a->next;
      break;
    }
  free(a);
}

/* The first pending request a worker may run (see the invariants). */
static struct fsc_req *pick(fsc_loop *loop) {
  for (struct fsc_req *r = loop->pending; r; r = r->next) {
    struct acoll *a = r->ac;
    if (!a || (r->flags & FSC_ASYNC_UNORDERED))
      return r;
    if (r->flags & FSC__REQ_CLOSE) {
      if (!a->running && a->unordered == 0)
        return r;
    } else if (!a->running)
      return r;
  }
  return NULL;
}

static void *worker(void *p) {
  fsc_loop *loop = p;
  pthread_mutex_lock(&loop->mu);
  for (;;) {
    struct fsc_req *r = pick(loop);
    if (!r) {
      if (loop->stopping)
        break;
      pthread_cond_wait(&loop->work, &loop->mu);
      continue;
    }
    list_unlink(&loop->pending, &loop->pending_tail, r);
    r->next = loop->running;
    if (loop->running)
      loop->running->prev = r;
    loop->running = r;
    r->state = REQ_RUNNING;
    bool ordered = r->ac && !(r->flags & FSC_ASYNC_UNORDERED);
    if (ordered)
      r->ac->running = true;
    else if (r->ac)
      r->ac->unordered++;
    pthread_mutex_unlock(&loop->mu);

    fsc__err_clear();
    int rc = r->fn(r, r->coll, r->arg, &r->res);
    if (rc < 0)
      snprintf(r->msg, sizeof r->msg, "%s", fsc_errmsg());

    pthread_mutex_lock(&loop->mu);
    list_unlink(&loop->running, NULL, r);
    if (ordered)
      r->ac->running = false;
    else if (r->ac)
      r->ac->unordered--;
    r->wake = NULL;
    if (r->flags & FSC__REQ_CLOSE)
      r->ac->c = NULL; /* the handle may be freed, its address reused:
                          a later request on that address is another's */
    complete(r, rc);
    pthread_cond_broadcast(&loop->work); /* its handle may be free now */
  }
  pthread_mutex_unlock(&loop->mu);
  return NULL;
}

/* ---- the loop ---- */

int fsc_loop_new(const fsc_loop_options *opts, fsc_loop **out) {
  fsc__err_clear();
  if (!out)
    return fsc__err(FSC_EINVAL, "fsc_loop_new: out is NULL");
  *out = NULL;
  fsc_loop_options o = FSC_LOOP_OPTIONS_INIT;
  if (opts) {
    if (opts->size < offsetof(fsc_loop_options, threads) + sizeof(unsigned) ||
        opts->size > 4096)
      return fsc__err(FSC_EINVAL, "fsc_loop_options.size %zu is not valid "
                      "(start from FSC_LOOP_OPTIONS_INIT)", opts->size);
    o.threads = opts->threads;
  }
  if (o.threads < 1 || o.threads > 64)
    return fsc__err(FSC_EINVAL, "fsc_loop_options.threads %u: want 1..64",
                    o.threads);
  fsc_loop *loop = calloc(1, sizeof *loop);
  pthread_t *th = calloc(o.threads, sizeof *th);
  if (!loop || !th) {
    free(loop);
    free(th);
    return fsc__err(FSC_ENOMEM, "fsc_loop_new: out of memory");
  }
  loop->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (loop->efd < 0) {
    int e = errno;
    free(loop);
    free(th);
    return fsc__err_errno(e, "eventfd", NULL);
  }
  pthread_mutex_init(&loop->mu, NULL);
  pthread_cond_init(&loop->work, NULL);
  pthread_cond_init(&loop->batch, NULL);
  loop->threads = th;
  for (unsigned i = 0; i < o.threads; i++) {
    int e = pthread_create(&th[i], NULL, worker, loop);
    if (e != 0) {
      loop->nthreads = i;
      fsc_loop_free(loop);
      return fsc__err(FSC_EIO, "pthread_create: %s", strerror(e));
    }
  }
  loop->nthreads = o.threads;
  *out = loop;
  return 0;
}

int fsc_loop_fd(const fsc_loop *loop) {
  fsc__err_clear();
  if (!loop)
    return fsc__err(FSC_EINVAL, "fsc_loop_fd: NULL loop");
  return loop->efd;
}

int64_t fsc_loop_pending(const fsc_loop *loop) {
  fsc__err_clear();
  if (!loop)
    return fsc__err(FSC_EINVAL, "fsc_loop_pending: NULL loop");
  return __atomic_load_n(&loop->inflight, __ATOMIC_ACQUIRE);
}

static void req_free(struct fsc_req *r) {
  fsc_loop *loop = r->loop;
  pthread_mutex_lock(&loop->mu);
  if (r->ac)
    acoll_put(loop, r->ac);
  __atomic_sub_fetch(&loop->inflight, 1, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&loop->mu);
  if (r->drop)
    r->drop(r->arg);
  free(r);
}

/* Deliver what is on the completion queue now; the count. */
static int deliver(fsc_loop *loop) {
  pthread_mutex_lock(&loop->mu);
  struct fsc__ev *ev = loop->dhead;
  loop->dhead = loop->dtail = NULL;
  pthread_mutex_unlock(&loop->mu);
  int n = 0;
  while (ev) {
    struct fsc__ev *next = ev->next; /* ev dies with its request */
    struct fsc_req *r = ev->req;
    if (ev->type == FSC__EV_BATCH) {
      fsc__scan_deliver(r, ev->which);
    } else {
      if (r->rc < 0)
        fsc__err(r->rc, "%s", r->msg[0] ? r->msg : fsc_strerror(r->rc));
      else
        fsc__err_clear();
      r->cb(r, r->rc, &r->res, r->data);
      req_free(r);
    }
    n++;
    ev = next;
  }
  return n;
}

int fsc_loop_run(fsc_loop *loop) {
  fsc__err_clear();
  if (!loop)
    return fsc__err(FSC_EINVAL, "fsc_loop_run: NULL loop");
  if (loop->in_run)
    return 0; /* called from a callback: the outer call goes on */
  uint64_t v;
  while (read(loop->efd, &v, sizeof v) < 0 && errno == EINTR)
    ;
  loop->in_run = true;
  int n = deliver(loop);
  loop->in_run = false;
  return n;
}

void fsc_loop_free(fsc_loop *loop) {
  if (!loop)
    return;
  pthread_mutex_lock(&loop->mu);
  loop->stopping = true;
  while (loop->pending) {
    struct fsc_req *r = loop->pending;
    list_unlink(&loop->pending, &loop->pending_tail, r);
    complete(r, FSC_ECANCELED);
    snprintf(r->msg, sizeof r->msg, "the loop was freed first");
  }
  for (struct fsc_req *r = loop->running; r; r = r->next)
    cancel_running(r);
  pthread_cond_broadcast(&loop->work);
  pthread_mutex_unlock(&loop->mu);
  for (unsigned i = 0; i < loop->nthreads; i++)
    pthread_join(loop->threads[i], NULL);
  /* Callbacks may submit more: those complete at once (stopping). */
  loop->in_run = true;
  while (__atomic_load_n(&loop->inflight, __ATOMIC_ACQUIRE) > 0)
    if (deliver(loop) == 0)
      break; /* cannot happen: every queued request is on the queue now */
  uint64_t v;
  (void)!read(loop->efd, &v, sizeof v);
  close(loop->efd);
  while (loop->colls) {
    struct acoll *a = loop->colls;
    loop->colls = a->next;
    free(a);
  }
  pthread_cond_destroy(&loop->batch);
  pthread_cond_destroy(&loop->work);
  pthread_mutex_destroy(&loop->mu);
  free(loop->threads);
  free(loop);
}

/* ---- requests ---- */

struct fsc_req *fsc__async_prepare(fsc_loop *loop, fsc_coll *c,
                                   unsigned flags, fsc_async_fn fn,
                                   size_t argsize, fsc_async_cb cb,
                                   void *data) {
  if (!loop || !fn || !cb) {
    fsc__err(FSC_EINVAL, "asynchronous call: NULL %s",
             !loop ? "loop" : !fn ? "function" : "callback");
    return NULL;
  }
  if (argsize > SIZE_MAX / 2) {
    fsc__err(FSC_ENOMEM, "asynchronous call: argument of %zu bytes",
             argsize);
    return NULL;
  }
  struct fsc_req *r = calloc(1, sizeof *r + argsize);
  if (!r) {
    fsc__err(FSC_ENOMEM, "asynchronous call: out of memory");
    return NULL;
  }
  r->loop = loop;
  r->coll = c;
  r->flags = flags;
  r->fn = fn;
  r->cb = cb;
  r->data = data;
  r->arg = argsize ? (void *)r->own : NULL;
  r->posted = -1;
  return r;
}

void *fsc__req_arg(struct fsc_req *r) { return r->arg; }

void fsc__req_set_drop(struct fsc_req *r, void (*drop)(void *arg)) {
  r->drop = drop;
}

void fsc__req_set_batch(struct fsc_req *r,
                        int (*batch_fn)(struct fsc_req *r, unsigned which)) {
  r->batch_fn = batch_fn;
}

void *fsc__req_data(struct fsc_req *r) { return r->data; }

int fsc__async_queue(struct fsc_req *r, fsc_req **out) {
  fsc_loop *loop = r->loop;
  pthread_mutex_lock(&loop->mu);
  if (r->coll) {
    r->ac = acoll_get(loop, r->coll);
    if (!r->ac) {
      pthread_mutex_unlock(&loop->mu);
      if (r->drop)
        r->drop(r->arg);
      free(r);
      return fsc__err(FSC_ENOMEM, "asynchronous call: out of memory");
    }
    r->ac->refs++;
  }
  if (r->ac && r->ac->closing && !loop->stopping) {
    /* After the close was submitted nothing more is queued, so that the
     * close's callback is the handle's last. */
    acoll_put(loop, r->ac);
    pthread_mutex_unlock(&loop->mu);
    if (r->drop)
      r->drop(r->arg);
    free(r);
    return fsc__err(FSC_ECLOSED, "the handle is being closed "
                    "(fsc_coll_close_async)");
  }
  __atomic_add_fetch(&loop->inflight, 1, __ATOMIC_RELEASE);
  if (out)
    *out = r;
  if (loop->stopping) {
    snprintf(r->msg, sizeof r->msg, "the loop is being freed");
    complete(r, FSC_ECANCELED);
  } else {
    r->state = REQ_PENDING;
    r->prev = loop->pending_tail;
    if (loop->pending_tail)
      loop->pending_tail->next = r;
    else
      loop->pending = r;
    loop->pending_tail = r;
    if (r->flags & FSC__REQ_CLOSE) {
      /* What was submitted before the close and has not started ends
       * with FSC_ECLOSED; what runs is asked to stop. */
      r->ac->closing = true;
      struct fsc_req *p = loop->pending, *next;
      for (; p; p = next) {
        next = p->next;
        if (p->ac == r->ac && p != r) {
          list_unlink(&loop->pending, &loop->pending_tail, p);
          snprintf(p->msg, sizeof p->msg, "the handle was closed "
                   "(fsc_coll_close_async) before this request ran");
          complete(p, FSC_ECLOSED);
        }
      }
      for (p = loop->running; p; p = p->next)
        if (p->ac == r->ac)
          cancel_running(p);
    }
    pthread_cond_broadcast(&loop->work);
  }
  pthread_mutex_unlock(&loop->mu);
  return 0;
}

int fsc_async_call(fsc_loop *loop, fsc_coll *c, unsigned flags,
                   fsc_async_fn fn, void *arg, fsc_async_cb cb, void *data,
                   fsc_req **req) {
  fsc__err_clear();
  if (flags & ~FSC_ASYNC_UNORDERED)
    return fsc__err(FSC_EINVAL, "fsc_async_call: unknown flags %#x", flags);
  struct fsc_req *r = fsc__async_prepare(loop, c, flags, fn, 0, cb, data);
  if (!r)
    return fsc__err_last();
  r->arg = arg;
  return fsc__async_queue(r, req);
}

int fsc_req_cancel(fsc_req *r) {
  fsc__err_clear();
  if (!r)
    return fsc__err(FSC_EINVAL, "fsc_req_cancel: NULL request");
  fsc_loop *loop = r->loop;
  int rc;
  pthread_mutex_lock(&loop->mu);
  switch (r->state) {
  case REQ_PENDING:
    list_unlink(&loop->pending, &loop->pending_tail, r);
    snprintf(r->msg, sizeof r->msg, "cancelled before it started");
    complete(r, FSC_ECANCELED);
    rc = 0;
    break;
  case REQ_RUNNING:
    cancel_running(r);
    rc = 1;
    break;
  default:
    rc = fsc__err(FSC_EAGAIN, "fsc_req_cancel: the request has finished; "
                  "its callback carries its result");
  }
  pthread_mutex_unlock(&loop->mu);
  return rc;
}

bool fsc_req_cancelled(const fsc_req *r) {
  return r && __atomic_load_n(&r->cancel, __ATOMIC_ACQUIRE) != 0;
}

void fsc__req_set_wake(struct fsc_req *r, void (*wake)(void *ctx),
                       void *ctx) {
  pthread_mutex_lock(&r->loop->mu);
  r->wake = wake;
  r->wake_ctx = ctx;
  bool cancelled = wake && r->cancel;
  pthread_mutex_unlock(&r->loop->mu);
  if (cancelled)
    wake(ctx); /* cancelled before the hook was set */
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int fsc__req_wait_sliced(struct fsc_req *r, int64_t timeout_ms,
                         int64_t slice_ms,
                         int (*once)(void *ctx, int64_t slice_ms), void *ctx) {
  int64_t deadline = timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms;
  for (;;) {
    if (fsc_req_cancelled(r))
      return fsc__err(FSC_ECANCELED, "the wait was cancelled");
    int64_t left = deadline == INT64_MAX ? slice_ms : deadline - now_ms();
    if (left < 0)
      left = 0;
    int rc = once(ctx, left < slice_ms ? left : slice_ms);
    if (rc != FSC_ETIMEDOUT)
      return rc;
    if (deadline != INT64_MAX && now_ms() >= deadline)
      return fsc__err(FSC_ETIMEDOUT, "timed out after %lld ms",
                      (long long)timeout_ms);
  }
}

/* ---- scans: the two buffers between a worker and the loop ---- */

int fsc__scan_post(struct fsc_req *r, unsigned which) {
  fsc_loop *loop = r->loop;
  int rc = 0;
  pthread_mutex_lock(&loop->mu);
  while (r->posted != -1 && !r->cancel && r->stop_rc == 0)
    pthread_cond_wait(&loop->batch, &loop->mu);
  if (r->cancel)
    rc = FSC_ECANCELED;
  else if (r->stop_rc)
    rc = r->stop_rc;
  else {
    r->posted = (int)which;
    r->batch[which].type = FSC__EV_BATCH;
    r->batch[which].req = r;
    r->batch[which].which = which;
    ev_push(loop, &r->batch[which]);
  }
  pthread_mutex_unlock(&loop->mu);
  if (rc == FSC_ECANCELED)
    fsc__err(rc, "the scan was cancelled");
  return rc;
}

int fsc__scan_flush(struct fsc_req *r) {
  fsc_loop *loop = r->loop;
  int rc = 0;
  pthread_mutex_lock(&loop->mu);
  while (r->posted != -1 && !r->cancel && r->stop_rc == 0)
    pthread_cond_wait(&loop->batch, &loop->mu);
  if (r->stop_rc)
    rc = r->stop_rc;
  else if (r->cancel)
    rc = FSC_ECANCELED;
  pthread_mutex_unlock(&loop->mu);
  if (rc == FSC_ECANCELED)
    fsc__err(rc, "the scan was cancelled");
  return rc;
}

int fsc__scan_deliver(struct fsc_req *r, unsigned which) {
  int rc = 0;
  /* A cancelled scan delivers nothing more. */
  if (!fsc_req_cancelled(r) && r->batch_fn)
    rc = r->batch_fn(r, which);
  fsc_loop *loop = r->loop;
  pthread_mutex_lock(&loop->mu);
  if (rc < 0 && r->stop_rc == 0)
    r->stop_rc = rc;
  if (r->posted == (int)which)
    r->posted = -1;
  pthread_cond_broadcast(&loop->batch);
  pthread_mutex_unlock(&loop->mu);
  return rc;
}
