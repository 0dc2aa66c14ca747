/*
 * ops.c - every asynchronous operation of include/fscollections.h
 * ("Asynchronous API"): each is a request (loop.c) whose function runs
 * the synchronous public call on a worker.  This file owns the copies of
 * what the caller passes in (values, paths, options: a request never
 * points into the caller's memory, except fsc_coll_verify_async's report
 * and fsc_async_call's argument, as the header says), and the scan's two
 * batch buffers.
 *
 * The waits (fsc_list_pop_wait_async, fsc_coll_wait_change_async) are
 * at the end of the file, under "Waits".
 */
#include "async/async.h"

#include <stdlib.h>

/* ---- copies of values ---- */

static bool has_bytes(const fsc_value *v) {
  return v->type == FSC_TYPE_STRING || v->type == FSC_TYPE_BYTES ||
         v->type == FSC_TYPE_JSON || v->type == FSC_TYPE_REF;
}

/* The bytes a copy of v needs: its payload, unless the value is one the
 * synchronous call rejects without reading it (NULL pointer, or above
 * the 2^39-byte limit), which is passed on as it is. */
static size_t value_extra(const fsc_value *v) {
  if (!has_bytes(v) || !v->u.buf.ptr || v->u.buf.len > (UINT64_C(1) << 39))
    return 0;
  return v->u.buf.len;
}

/* Copy *src into *dst, its bytes to *space (advanced). */
static void value_copy(fsc_value *dst, const fsc_value *src, char **space) {
  *dst = *src;
  size_t n = value_extra(src);
  if (has_bytes(src) && src->u.buf.ptr && src->u.buf.len == 0)
    dst->u.buf.ptr = ""; /* never the caller's pointer */
  if (n) {
    memcpy(*space, src->u.buf.ptr, n);
    dst->u.buf.ptr = *space;
    *space += n;
  }
}

/* Prepare a request whose argument is a struct of `size` bytes followed
 * by the bytes of n values (copied into `*vals`, an array the caller's
 * struct points to, or NULL with n == 0). */
static struct fsc_req *prepare_vals(fsc_loop *loop, fsc_coll *c,
                                    unsigned flags, fsc_async_fn fn,
                                    size_t size, const fsc_value *vs,
                                    size_t n, fsc_value **copies,
                                    fsc_async_cb cb, void *data) {
  size_t extra = 0;
  for (size_t i = 0; i < n; i++) {
    size_t e = value_extra(&vs[i]);
    if (e > SIZE_MAX / 4 - extra) {
      fsc__err(FSC_ENOMEM, "asynchronous call: values too large to copy");
      return NULL;
    }
    extra += e;
  }
  size = (size + 15) & ~(size_t)15;
  if (n > (SIZE_MAX / 4 - extra) / sizeof(fsc_value)) {
    fsc__err(FSC_ENOMEM, "asynchronous call: too many values");
    return NULL;
  }
  struct fsc_req *r = fsc__async_prepare(loop, c, flags, fn,
                                         size + n * sizeof(fsc_value) + extra,
                                         cb, data);
  if (!r)
    return NULL;
  char *base = fsc__req_arg(r);
  fsc_value *arr = (fsc_value *)(void *)(base + size);
  char *space = (char *)(arr + n);
  for (size_t i = 0; i < n; i++)
    value_copy(&arr[i], &vs[i], &space);
  if (copies)
    *copies = n ? arr : NULL;
  return r;
}

static int need(const void *p, const char *fn, const char *what) {
  if (!p)
    return fsc__err(FSC_EINVAL, "%s: %s is NULL", fn, what);
  return 0;
}

/* ---- open, close, sync, compact, verify, clear ---- */

struct open_arg {
  fsc_kind kind;
  bool has_opts;
  fsc_options opts;
  char *path; /* NULL: a temporary collection; else in the request */
};

static int run_open(fsc_req *r, fsc_coll *c, void *arg,
                    fsc_async_result *res) {
  struct open_arg *a = arg;
  return fsc_open(a->path, a->kind, a->has_opts ? &a->opts : NULL,
                  &res->coll);
}

int fsc_open_async(fsc_loop *loop, const char *base_path, fsc_kind kind,
                   const fsc_options *opts, fsc_async_cb cb, void *data,
                   fsc_req **req) {
  fsc__err_clear();
  if (opts && (opts->size < offsetof(fsc_options, flags) + sizeof(unsigned) ||
               opts->size > 4096))
    return fsc__err(FSC_EINVAL, "fsc_options.size %zu is not valid (start "
                    "from FSC_OPTIONS_INIT)", opts->size);
  size_t plen = base_path ? strlen(base_path) + 1 : 0;
  struct fsc_req *r = fsc__async_prepare(loop, NULL, 0, run_open,
                                         sizeof(struct open_arg) + plen, cb,
                                         data);
  if (!r)
    return fsc__err_last();
  struct open_arg *a = fsc__req_arg(r);
  a->kind = kind;
  if (opts) {
    size_t n = opts->size < sizeof a->opts ? opts->size : sizeof a->opts;
    memcpy(&a->opts, opts, n);
    a->opts.size = n;
    a->has_opts = true;
  }
  if (base_path) {
    a->path = (char *)(a + 1);
    memcpy(a->path, base_path, plen);
  }
  return fsc__async_queue(r, req);
}

static int run_close(fsc_req *r, fsc_coll *c, void *arg,
                     fsc_async_result *res) {
  return fsc_coll_close(c);
}
static int run_sync(fsc_req *r, fsc_coll *c, void *arg,
                    fsc_async_result *res) {
  return fsc_coll_sync(c);
}
static int run_compact(fsc_req *r, fsc_coll *c, void *arg,
                       fsc_async_result *res) {
  return fsc_coll_compact(c);
}
static int run_clear(fsc_req *r, fsc_coll *c, void *arg,
                     fsc_async_result *res) {
  return fsc_coll_clear(c);
}

/* A request on a handle with no argument. */
static int on_handle(fsc_loop *loop, fsc_coll *c, unsigned flags,
                     fsc_async_fn fn, const char *name, fsc_async_cb cb,
                     void *data, fsc_req **req) {
  fsc__err_clear();
  if (need(c, name, "the handle"))
    return FSC_EINVAL;
  struct fsc_req *r = fsc__async_prepare(loop, c, flags, fn, 0, cb, data);
  return r ? fsc__async_queue(r, req) : fsc__err_last();
}

int fsc_coll_close_async(fsc_loop *loop, fsc_coll *c, fsc_async_cb cb,
                         void *data, fsc_req **req) {
  return on_handle(loop, c, FSC__REQ_CLOSE, run_close,
                   "fsc_coll_close_async", cb, data, req);
}
int fsc_coll_sync_async(fsc_loop *loop, fsc_coll *c, fsc_async_cb cb,
                        void *data, fsc_req **req) {
  return on_handle(loop, c, 0, run_sync, "fsc_coll_sync_async", cb, data,
                   req);
}
int fsc_coll_compact_async(fsc_loop *loop, fsc_coll *c, fsc_async_cb cb,
                           void *data, fsc_req **req) {
  return on_handle(loop, c, 0, run_compact, "fsc_coll_compact_async", cb,
                   data, req);
}
int fsc_coll_clear_async(fsc_loop *loop, fsc_coll *c, fsc_async_cb cb,
                         void *data, fsc_req **req) {
  return on_handle(loop, c, 0, run_clear, "fsc_coll_clear_async", cb, data,
                   req);
}

struct verify_arg {
  unsigned flags;
  fsc_verify_report *report;
};

static int run_verify(fsc_req *r, fsc_coll *c, void *arg,
                      fsc_async_result *res) {
  struct verify_arg *a = arg;
  return fsc_coll_verify(c, a->flags, a->report);
}

int fsc_coll_verify_async(fsc_loop *loop, fsc_coll *c, unsigned flags,
                          fsc_verify_report *report, fsc_async_cb cb,
                          void *data, fsc_req **req) {
  fsc__err_clear();
  if (need(c, "fsc_coll_verify_async", "the handle"))
    return FSC_EINVAL;
  struct fsc_req *r = fsc__async_prepare(loop, c, 0, run_verify,
                                         sizeof(struct verify_arg), cb, data);
  if (!r)
    return fsc__err_last();
  struct verify_arg *a = fsc__req_arg(r);
  a->flags = flags;
  a->report = report;
  return fsc__async_queue(r, req);
}

/* ---- the list's structural operations ---- */

/* The list face of the request's handle: the same pointer (doc/DESIGN.md,
 * "The objects"), so that a handle closed meanwhile is the list call's
 * FSC_ECLOSED. */
static fsc_list *as_list(fsc_coll *c) { return (fsc_list *)(void *)c; }

struct list_arg {
  int64_t index;
  bool reverse;
  fsc_slice slice;
  size_t n;
  fsc_value *vals; /* the copies, after the struct */
  void *copy;      /* a popped element's bytes (run_pop), or NULL */
};

static void list_drop(void *arg) {
  struct list_arg *a = arg;
  free(a->copy);
}

/* Keep a popped element's bytes in the request (freed after the
 * callback): the element is off the list, and a close submitted after the
 * pop may run on a worker, ending the handle's views, before the loop
 * thread delivers the pop's completion. */
static void keep_popped(struct list_arg *a, fsc_value *v) {
  if (!has_bytes(v) || v->u.buf.len == 0)
    return;
  a->copy = malloc(v->u.buf.len);
  if (a->copy) {
    memcpy(a->copy, v->u.buf.ptr, v->u.buf.len);
    v->u.buf.ptr = a->copy;
  } /* else the view, valid until the handle closes: the pop stands */
}

static int run_insert(fsc_req *r, fsc_coll *c, void *arg,
                      fsc_async_result *res) {
  struct list_arg *a = arg;
  return fsc_list_insert(as_list(c), a->index, &a->vals[0]);
}
static int run_pop(fsc_req *r, fsc_coll *c, void *arg,
                   fsc_async_result *res) {
  struct list_arg *a = arg;
  int rc = fsc_list_pop(as_list(c), a->index, &res->value);
  if (rc == 0)
    keep_popped(a, &res->value);
  return rc;
}
static int run_del(fsc_req *r, fsc_coll *c, void *arg,
                   fsc_async_result *res) {
  struct list_arg *a = arg;
  return fsc_list_del(as_list(c), a->index);
}
static int run_remove(fsc_req *r, fsc_coll *c, void *arg,
                      fsc_async_result *res) {
  struct list_arg *a = arg;
  return fsc_list_remove(as_list(c), &a->vals[0]);
}
static int run_reverse(fsc_req *r, fsc_coll *c, void *arg,
                       fsc_async_result *res) {
  return fsc_list_reverse(as_list(c));
}
static int run_sort(fsc_req *r, fsc_coll *c, void *arg,
                    fsc_async_result *res) {
  struct list_arg *a = arg;
  return fsc_list_sort(as_list(c), a->reverse);
}
static int run_slice_set(fsc_req *r, fsc_coll *c, void *arg,
                         fsc_async_result *res) {
  struct list_arg *a = arg;
  return fsc_list_slice_set(as_list(c), a->slice, a->vals, a->n);
}
static int run_slice_del(fsc_req *r, fsc_coll *c, void *arg,
                         fsc_async_result *res) {
  struct list_arg *a = arg;
  return fsc_list_slice_del(as_list(c), a->slice);
}

/* Submit a list operation with n values copied (vs may be NULL if n 0).
 */
static int list_op(fsc_loop *loop, fsc_list *l, fsc_async_fn fn,
                   const char *name, struct list_arg *in, const fsc_value *vs,
                   size_t n, fsc_async_cb cb, void *data, fsc_req **req) {
  fsc__err_clear();
  if (need(l, name, "the list"))
    return FSC_EINVAL;
  if (n > 0 && !vs)
    return fsc__err(FSC_EINVAL, "%s: the values are NULL", name);
  /* The typed face says it is a list; a cast could lie, and the list's
   * calls do not check (a closed handle is the call's FSC_ECLOSED). */
  int kind = fsc_coll_kind(fsc_list_coll(l));
  if (kind > 0 && kind != FSC_KIND_LIST)
    return fsc__err(FSC_EKIND, "%s: the collection is a %s, not a list",
                    name, fsc_kind_name((fsc_kind)kind));
  fsc__err_clear();
  fsc_value *copies;
  struct fsc_req *r = prepare_vals(loop, fsc_list_coll(l), 0, fn,
                                   sizeof *in, vs, n, &copies, cb, data);
  if (!r)
    return fsc__err_last();
  struct list_arg *a = fsc__req_arg(r);
  *a = *in;
  a->n = n;
  a->vals = copies;
  a->copy = NULL;
  fsc__req_set_drop(r, list_drop);
  return fsc__async_queue(r, req);
}

int fsc_list_insert_async(fsc_loop *loop, fsc_list *l, int64_t index,
                          const fsc_value *v, fsc_async_cb cb, void *data,
                          fsc_req **req) {
  if (!v)
    return fsc__err(FSC_EINVAL, "fsc_list_insert_async: the value is NULL");
  struct list_arg a = {.index = index};
  return list_op(loop, l, run_insert, "fsc_list_insert_async", &a, v, 1, cb,
                 data, req);
}
int fsc_list_pop_async(fsc_loop *loop, fsc_list *l, int64_t index,
                       fsc_async_cb cb, void *data, fsc_req **req) {
  struct list_arg a = {.index = index};
  return list_op(loop, l, run_pop, "fsc_list_pop_async", &a, NULL, 0, cb,
                 data, req);
}
int fsc_list_del_async(fsc_loop *loop, fsc_list *l, int64_t index,
                       fsc_async_cb cb, void *data, fsc_req **req) {
  struct list_arg a = {.index = index};
  return list_op(loop, l, run_del, "fsc_list_del_async", &a, NULL, 0, cb,
                 data, req);
}
int fsc_list_remove_async(fsc_loop *loop, fsc_list *l, const fsc_value *v,
                          fsc_async_cb cb, void *data, fsc_req **req) {
  if (!v)
    return fsc__err(FSC_EINVAL, "fsc_list_remove_async: the value is NULL");
  struct list_arg a = {0};
  return list_op(loop, l, run_remove, "fsc_list_remove_async", &a, v, 1, cb,
                 data, req);
}
int fsc_list_reverse_async(fsc_loop *loop, fsc_list *l, fsc_async_cb cb,
                           void *data, fsc_req **req) {
  struct list_arg a = {0};
  return list_op(loop, l, run_reverse, "fsc_list_reverse_async", &a, NULL, 0,
                 cb, data, req);
}
int fsc_list_sort_async(fsc_loop *loop, fsc_list *l, bool reverse,
                        fsc_async_cb cb, void *data, fsc_req **req) {
  struct list_arg a = {.reverse = reverse};
  return list_op(loop, l, run_sort, "fsc_list_sort_async", &a, NULL, 0, cb,
                 data, req);
}
int fsc_list_slice_set_async(fsc_loop *loop, fsc_list *l, fsc_slice s,
                             const fsc_value *vs, size_t n, fsc_async_cb cb,
                             void *data, fsc_req **req) {
  struct list_arg a = {.slice = s};
  return list_op(loop, l, run_slice_set, "fsc_list_slice_set_async", &a, vs,
                 n, cb, data, req);
}
int fsc_list_slice_del_async(fsc_loop *loop, fsc_list *l, fsc_slice s,
                             fsc_async_cb cb, void *data, fsc_req **req) {
  struct list_arg a = {.slice = s};
  return list_op(loop, l, run_slice_del, "fsc_list_slice_del_async", &a,
                 NULL, 0, cb, data, req);
}

/* ---- scans ---- */

struct scan_arg {
  fsc_scan_pred pred;
  fsc_scan_batch batch;
  size_t cap;
  size_t n[2];
  fsc_scan_item *buf[2]; /* after the struct, cap items each */
};

static int scan_batch(struct fsc_req *r, unsigned which) {
  struct scan_arg *a = fsc__req_arg(r);
  return a->batch(r, a->buf[which], a->n[which], fsc__req_data(r));
}

static int run_scan(fsc_req *r, fsc_coll *c, void *arg,
                    fsc_async_result *res) {
  struct scan_arg *a = arg;
  void *data = fsc__req_data(r);
  fsc_coll_iter it;
  int rc = fsc_coll_iter_init(c, &it);
  if (rc < 0)
    return rc;
  unsigned cur = 0;
  fsc_value k, v;
  a->n[0] = a->n[1] = 0;
  while ((rc = fsc_coll_iter_next(&it, &k, &v)) == 1) {
    if (fsc_req_cancelled(r)) {
      rc = fsc__err(FSC_ECANCELED, "the scan was cancelled");
      break;
    }
    if (a->pred) {
      int p = a->pred(&k, &v, data);
      if (p < 0) {
        rc = p;
        break;
      }
      if (p == 0)
        continue;
    }
    a->buf[cur][a->n[cur]++] = (fsc_scan_item){k, v};
    res->u64++;
    if (a->n[cur] == a->cap) {
      if ((rc = fsc__scan_post(r, cur)) < 0)
        break;
      cur ^= 1; /* its batch was consumed: fsc__scan_post waited */
      a->n[cur] = 0;
    }
  }
  if (rc == 0 && a->n[cur] > 0)
    rc = fsc__scan_post(r, cur);
  if (rc == 0)
    rc = fsc__scan_flush(r); /* the last batch's callback may stop it */
  return rc;
}

int fsc_coll_scan_async(fsc_loop *loop, fsc_coll *c, fsc_scan_pred pred,
                        fsc_scan_batch batch, size_t batch_size,
                        fsc_async_cb cb, void *data, fsc_req **req) {
  fsc__err_clear();
  if (need(c, "fsc_coll_scan_async", "the handle") ||
      need((void *)(uintptr_t)batch, "fsc_coll_scan_async",
           "the batch callback"))
    return FSC_EINVAL;
  if (batch_size == 0)
    batch_size = 64;
  if (batch_size > 65536)
    return fsc__err(FSC_EINVAL, "fsc_coll_scan_async: batch_size %zu is "
                    "above 65536", batch_size);
  size_t size = (sizeof(struct scan_arg) + 15) & ~(size_t)15;
  struct fsc_req *r = fsc__async_prepare(
      loop, c, 0, run_scan, size + 2 * batch_size * sizeof(fsc_scan_item),
      cb, data);
  if (!r)
    return fsc__err_last();
  struct scan_arg *a = fsc__req_arg(r);
  a->pred = pred;
  a->batch = batch;
  a->cap = batch_size;
  a->buf[0] = (fsc_scan_item *)(void *)((char *)a + size);
  a->buf[1] = a->buf[0] + batch_size;
  fsc__req_set_batch(r, scan_batch);
  return fsc__async_queue(r, req);
}

/*
 * ---- Waits ----
 *
 * fsc_list_pop_wait and fsc_coll_wait_change block by design.  Their
 * asynchronous forms are requests flagged FSC_ASYNC_UNORDERED (so that a
 * wait does not hold back the handle's other requests, among them the
 * insert that would end it), and cancellable.
 *
 * Cancellation: fsc__req_wait_sliced (loop.c) cuts the wait into slices
 * of FSC__WAIT_SLICE_MS and checks the request's cancel flag between
 * them, so fsc_req_cancel, fsc_coll_close_async and fsc_loop_free end a
 * blocked wait within one slice, with FSC_ECANCELED (a close then runs:
 * it waits for the handle's unordered requests to end), without any
 * change to the waits themselves; a pop that succeeds in the last slice
 * is reported as the pop it is, never lost (fsc__req_wait_sliced returns
 * what the slice returned, and looks at the flag only before a slice).
 *
 * No wake hook (fsc__req_set_wake) is registered: the waits sleep on the
 * collection's change event count in the shared data file (file/wait.c),
 * and the only way to wake a handle's waiters early is
 * fsc__ec_close_handle, which marks the handle closing for good.  A
 * futex wake without a bump does not end ck_ec64_wait (it sleeps again
 * while the count is unchanged), and a bump is a change every process's
 * wait_change would report.  So a cancel is seen at the end of the
 * current slice (at most FSC__WAIT_SLICE_MS).  Adding an interrupt would
 * need a per-handle "interrupted" word that file/wait.c checks on every
 * futex return, and the async layer may not call the file layer.
 *
 * The popped element is copied into the request (freed after the
 * callback): the close of the handle may run on a worker before the loop
 * thread delivers the wait's completion, and the close ends the views.
 */

struct wait_arg {
  fsc_coll *c;
  int64_t index;
  uint64_t since;
  int64_t timeout_ms;
  fsc_async_result *res;
  void *copy; /* the popped element's bytes (pop_wait_once), or NULL */
};

static void wait_drop(void *arg) {
  struct wait_arg *a = arg;
  free(a->copy);
}

static int pop_wait_once(void *ctx, int64_t slice_ms) {
  struct wait_arg *a = ctx;
  return fsc_list_pop_wait(as_list(a->c), a->index, slice_ms,
                           &a->res->value);
}

static int run_pop_wait(fsc_req *r, fsc_coll *c, void *arg,
                        fsc_async_result *res) {
  struct wait_arg *a = arg;
  a->c = c;
  a->res = res;
  int rc = fsc__req_wait_sliced(r, a->timeout_ms, FSC__WAIT_SLICE_MS,
                                pop_wait_once, a);
  fsc_value *v = &res->value;
  if (rc == 0 && has_bytes(v) && v->u.buf.len > 0) {
    /* The element is off the list: keep its bytes past a close. */
    a->copy = malloc(v->u.buf.len);
    if (a->copy) {
      memcpy(a->copy, v->u.buf.ptr, v->u.buf.len);
      v->u.buf.ptr = a->copy;
    } /* else the view, valid until the handle closes: the pop stands */
  }
  return rc;
}

int fsc_list_pop_wait_async(fsc_loop *loop, fsc_list *l, int64_t index,
                            int64_t timeout_ms, fsc_async_cb cb, void *data,
                            fsc_req **req) {
  fsc__err_clear();
  if (need(l, "fsc_list_pop_wait_async", "the list"))
    return FSC_EINVAL;
  int kind = fsc_coll_kind(fsc_list_coll(l));
  if (kind > 0 && kind != FSC_KIND_LIST)
    return fsc__err(FSC_EKIND, "fsc_list_pop_wait_async: the collection is "
                    "a %s, not a list", fsc_kind_name((fsc_kind)kind));
  fsc__err_clear();
  struct fsc_req *r = fsc__async_prepare(loop, fsc_list_coll(l),
                                         FSC_ASYNC_UNORDERED, run_pop_wait,
                                         sizeof(struct wait_arg), cb, data);
  if (!r)
    return fsc__err_last();
  struct wait_arg *a = fsc__req_arg(r);
  a->index = index;
  a->timeout_ms = timeout_ms;
  fsc__req_set_drop(r, wait_drop);
  return fsc__async_queue(r, req);
}

static int change_once(void *ctx, int64_t slice_ms) {
  struct wait_arg *a = ctx;
  return fsc_coll_wait_change(a->c, a->since, slice_ms, &a->res->u64);
}

static int run_wait_change(fsc_req *r, fsc_coll *c, void *arg,
                           fsc_async_result *res) {
  struct wait_arg *a = arg;
  a->c = c;
  a->res = res;
  return fsc__req_wait_sliced(r, a->timeout_ms, FSC__WAIT_SLICE_MS,
                              change_once, a);
}

int fsc_coll_wait_change_async(fsc_loop *loop, fsc_coll *c,
                               uint64_t since_epoch, int64_t timeout_ms,
                               fsc_async_cb cb, void *data, fsc_req **req) {
  fsc__err_clear();
  if (need(c, "fsc_coll_wait_change_async", "the handle"))
    return FSC_EINVAL;
  struct fsc_req *r = fsc__async_prepare(loop, c, FSC_ASYNC_UNORDERED,
                                         run_wait_change,
                                         sizeof(struct wait_arg), cb, data);
  if (!r)
    return fsc__err_last();
  struct wait_arg *a = fsc__req_arg(r);
  a->since = since_epoch;
  a->timeout_ms = timeout_ms;
  return fsc__async_queue(r, req);
}
