/*
 * async.h - what the async layer's files share (doc/DESIGN.md, "Layers":
 * the async layer sits above coll and uses only the public API and the
 * base layer's errors).  loop.c owns the loop, its workers, the queues
 * and the life of a request; ops.c builds every asynchronous operation
 * on fsc__async_submit.
 */
#ifndef FSC_ASYNC_H
#define FSC_ASYNC_H

#include "internal.h"

/* An event on the loop's completion queue: a request's completion, or
 * one batch of a scan.  Delivered by fsc_loop_run in queue order. */
struct fsc__ev {
  struct fsc__ev *next;
  int type; /* FSC__EV_DONE or FSC__EV_BATCH */
  struct fsc_req *req;
  unsigned which; /* a batch: which of the scan's two buffers */
};
enum { FSC__EV_DONE = 1, FSC__EV_BATCH = 2 };

/* Request flags beyond the public FSC_ASYNC_UNORDERED. */
#define FSC__REQ_CLOSE 0x100u /* the handle's close: runs last (loop.c) */

/*
 * A request in two steps: fsc__async_prepare allocates it with `argsize`
 * zeroed bytes of argument (fsc__req_arg; fn receives that pointer), which
 * the caller fills; fsc__async_queue hands it to the loop (0, or
 * FSC_ENOMEM, and then the request is freed and no callback runs).
 * fsc__req_set_drop: a function run on the argument when the request is
 * freed (after its callback), to release what it owns.
 */
struct fsc_req *fsc__async_prepare(fsc_loop *loop, fsc_coll *c,
                                   unsigned flags, fsc_async_fn fn,
                                   size_t argsize, fsc_async_cb cb,
                                   void *data);
void *fsc__req_arg(struct fsc_req *r);
void fsc__req_set_drop(struct fsc_req *r, void (*drop)(void *arg));
int fsc__async_queue(struct fsc_req *r, fsc_req **out);

/*
 * Scans: post a filled batch (buffer `which`) to the loop, after waiting
 * until the loop has consumed the batch posted before (the scan keeps two
 * buffers).  Returns 0, or FSC_ECANCELED when the request was cancelled
 * meanwhile, or the batch callback's negative value when it stopped the
 * scan.  fsc__scan_batch_done is fsc_loop_run's side.
 */
int fsc__scan_post(struct fsc_req *r, unsigned which);
int fsc__scan_flush(struct fsc_req *r);
int fsc__scan_deliver(struct fsc_req *r, unsigned which);
/* The scan's side of a delivery: run the batch callback on buffer
 * `which` (set by ops.c); and the request's user data. */
void fsc__req_set_batch(struct fsc_req *r,
                        int (*batch_fn)(struct fsc_req *r, unsigned which));
void *fsc__req_data(struct fsc_req *r);

/*
 * A blocking wait made cancellable without the waiter's cooperation: call
 * once(ctx, slice_ms) with slices of at most slice_ms until it returns
 * anything but FSC_ETIMEDOUT, the request is cancelled (FSC_ECANCELED)
 * or timeout_ms has passed (FSC_ETIMEDOUT; timeout_ms < 0: no limit).
 * A cancel is then seen within one slice.  See ops.c, "Waits".
 */
#define FSC__WAIT_SLICE_MS 50
int fsc__req_wait_sliced(struct fsc_req *r, int64_t timeout_ms,
                         int64_t slice_ms,
                         int (*once)(void *ctx, int64_t slice_ms), void *ctx);

/*
 * A running request's wake-up: fsc_req_cancel (and a close or the loop's
 * end) calls wake(ctx) after setting the cancel flag, so that a wait that
 * sleeps on something it can be woken from (a futex word, an eventfd)
 * returns at once instead of at the end of its slice.  Set it from fn,
 * before blocking; clear it (NULL) before fn returns.
 */
void fsc__req_set_wake(struct fsc_req *r, void (*wake)(void *ctx), void *ctx);

#endif
