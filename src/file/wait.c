/*
 * wait.c - owns waiting across processes for a collection to change: the
 * change event count in the data header (`events`, doc/FORMAT.md) and the
 * futex operations Concurrency Kit's event count (ck_ec64) runs on.
 *
 * Writers call fsc__ec_bump (internal.h) after every change they publish:
 * one atomic add of 2 to the word; only when bit 0 ("someone waits") was
 * set does ck_ec clear it and make the futex wake system call.  A waiter
 * reads the count, checks its condition (a list element to pop, a change
 * since an epoch), and sleeps with ck_ec64_wait until the count differs
 * from what it read; ck_ec sets bit 0 before it sleeps, so a change
 * published after the check either sees the bit and wakes it, or lands
 * before the futex call and makes the kernel's compare fail.
 *
 * The futex is the word's low 32 bits in a MAP_SHARED mapping, so the
 * operations are the shared ones (no FUTEX_PRIVATE_FLAG): the kernel keys
 * the wait on the page, and a writer in any process wakes it.  Nothing
 * per waiter is recorded in the file: a waiter killed while it sleeps
 * leaves at most bit 0 set, which costs the next writer one needless wake.
 *
 * A read-only handle cannot write bit 0 (its mapping has no PROT_WRITE):
 * it naps on the futex for at most 2 ms at a time (wait_rdonly).
 *
 * Before it sleeps, a read-write waiter watches the count for at most
 * SPIN_NS (spin_briefly): a hand-off between two processes that are both
 * running (a producer answering within microseconds) then costs no futex
 * sleep and wake-up, which is most of its latency.  Between batches of
 * loads it yields the CPU: with more runnable processes than cores the
 * producer may be waiting for this one, and a pure spin then delayed the
 * hand-off by the whole spin (measured: p50 40 us instead of 9).  The
 * spin is bounded in time, never a poll: after it the waiter sleeps on
 * the futex as before, and a deadline or a close ends it early.
 *
 * Closing a handle wakes the handle's own waiters: close sets `closing`,
 * bumps the count (waking every waiter of the collection; those of other
 * handles see no change they want and sleep again), and waits until the
 * handle's `waiters` count is 0, so no waiter touches the mapping after
 * close unmaps it.
 */
#include "internal.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

static int ec_gettime(const struct ck_ec_ops *ops, struct timespec *out) {
  (void)ops;
  return clock_gettime(CLOCK_MONOTONIC, out);
}

/* FUTEX_WAIT takes a relative timeout: the time left to `deadline`. */
static void futex_wait(const uint32_t *addr, uint32_t expected,
                       const struct timespec *deadline) {
  struct timespec rel, *tp = NULL;
  if (deadline) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    rel.tv_sec = deadline->tv_sec - now.tv_sec;
    rel.tv_nsec = deadline->tv_nsec - now.tv_nsec;
    if (rel.tv_nsec < 0) {
      rel.tv_nsec += 1000000000L;
      rel.tv_sec--;
    }
    if (rel.tv_sec < 0)
      return;
    tp = &rel;
  }
  /* Shared (no FUTEX_PRIVATE_FLAG): the word is in a MAP_SHARED file. */
  syscall(SYS_futex, addr, FUTEX_WAIT, expected, tp, NULL, 0);
}

static void ec_wait32(const struct ck_ec_wait_state *st, const uint32_t *addr,
                      uint32_t expected, const struct timespec *deadline) {
  (void)st;
  futex_wait(addr, expected, deadline);
}

static void ec_wait64(const struct ck_ec_wait_state *st, const uint64_t *addr,
                      uint64_t expected, const struct timespec *deadline) {
  (void)st;
  /* The low half of the little-endian word (ck_ec.h allows it). */
  futex_wait((const uint32_t *)addr, (uint32_t)expected, deadline);
}

static void ec_wake32(const struct ck_ec_ops *ops, const uint32_t *addr) {
  (void)ops;
  syscall(SYS_futex, addr, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

static void ec_wake64(const struct ck_ec_ops *ops, const uint64_t *addr) {
  (void)ops;
  syscall(SYS_futex, (const uint32_t *)addr, FUTEX_WAKE, INT32_MAX, NULL,
          NULL, 0);
}

static const struct ck_ec_ops ec_ops = {
  .gettime = ec_gettime,
  .wait32 = ec_wait32,
  .wait64 = ec_wait64,
  .wake32 = ec_wake32,
  .wake64 = ec_wake64,
  /* ck_ec's defaults: a short spin, then futex sleeps whose timeout
   * (2 ms, x8 each time, none after 1 s) only guards against a flag flip
   * lost to a racing update (ck_ec.h) */
};

const struct ck_ec_mode fsc__ec_mode = {.ops = &ec_ops,
                                        .single_producer = false};

static struct ck_ec64 *ec_of(struct fsc__gen *c) {
  return (struct ck_ec64 *)&fsc__dhdr(c)->events;
}

uint64_t fsc__ec_value(struct fsc__gen *c) {
  return ck_ec64_value(ec_of(c));
}

void fsc__ec_deadline(int64_t timeout_ms, struct timespec *d, bool *has) {
  *has = timeout_ms >= 0;
  if (!*has)
    return;
  clock_gettime(CLOCK_MONOTONIC, d);
  d->tv_sec += (time_t)(timeout_ms / 1000);
  d->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (d->tv_nsec >= 1000000000L) {
    d->tv_nsec -= 1000000000L;
    d->tv_sec++;
  }
}

static bool past(const struct timespec *d) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec > d->tv_sec ||
         (now.tv_sec == d->tv_sec && now.tv_nsec >= d->tv_nsec);
}

/* A read-only handle maps the header without PROT_WRITE, so it cannot set
 * bit 0 (ck_ec64_wait would fault): it sleeps on the futex anyway, woken
 * when a read-write waiter had set the bit, else after RDONLY_NAP_NS, and
 * checks the count again.  A bounded nap, not a wake: documented. */
#define RDONLY_NAP_NS 2000000L
static int wait_rdonly(struct fsc__gen *c, uint64_t seen,
                       const struct timespec *deadline) {
  const uint64_t *w = &fsc__dhdr(c)->events;
  for (;;) {
    uint64_t now = ck_pr_load_64(w);
    if ((now >> 1) != seen)
      return 0;
    if (deadline && past(deadline))
      return FSC_ETIMEDOUT;
    if (ck_pr_load_32(&c->h->closing))
      return 0;
    struct timespec nap;
    clock_gettime(CLOCK_MONOTONIC, &nap);
    nap.tv_nsec += RDONLY_NAP_NS;
    if (nap.tv_nsec >= 1000000000L) {
      nap.tv_nsec -= 1000000000L;
      nap.tv_sec++;
    }
    if (deadline && (deadline->tv_sec < nap.tv_sec ||
                     (deadline->tv_sec == nap.tv_sec &&
                      deadline->tv_nsec < nap.tv_nsec)))
      nap = *deadline;
    futex_wait((const uint32_t *)w, (uint32_t)now, &nap);
  }
}

/* The spin before the sleep: how long a waiter watches the count. */
#define SPIN_NS 30000L
/* Loads of the count between two looks at the clock. */
#define SPIN_BATCH 64

/* Spin for at most SPIN_NS (and not past the deadline) until the count
 * moves from `seen` or the handle begins to close: 1 if it did. */
static int spin_briefly(struct fsc__gen *c, uint64_t seen,
                        const struct timespec *deadline) {
  struct ck_ec64 *ec = ec_of(c);
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    for (int i = 0; i < SPIN_BATCH; i++) {
      /* A plain load: the caller looks again after a moved count, and
       * what it reads then is ordered by that look's own loads. */
      if (ck_ec64_value(ec) != seen || ck_pr_load_32(&c->h->closing))
        return 1;
      ck_pr_stall();
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ns = (long)(now.tv_sec - t0.tv_sec) * 1000000000L +
              (now.tv_nsec - t0.tv_nsec);
    if (ns >= SPIN_NS || (deadline && past(deadline)))
      return 0;
    /* The producer may be waiting for this very CPU (more runnable
     * processes than cores): let it run rather than spin it out. */
    sched_yield();
  }
}

/* ck_ec's backoff sleeps its own iteration (2 ms, 16 ms, 128 ms, ...)
 * and looks at the caller's deadline only between them, so a 25 ms wait
 * slept 128 ms: cut each iteration at the caller's deadline (ck_ec.h lets
 * the predicate move the iteration's deadline earlier). */
static int ec_clamp(const struct ck_ec_wait_state *st, struct timespec *it) {
  const struct timespec *dl = st->data;
  if (dl && (dl->tv_sec < it->tv_sec ||
             (dl->tv_sec == it->tv_sec && dl->tv_nsec < it->tv_nsec)))
    *it = *dl;
  return 0;
}

int fsc__ec_wait(struct fsc__gen *c, uint64_t seen,
                 const struct timespec *deadline) {
  struct fsc__handle *h = c->h;
  ck_pr_inc_32(&h->waiters);
  /* A close that began before we counted ourselves: it may already be
   * waiting for `waiters` to drain, or past it; leave now.  (The add
   * above is a full barrier on every platform ck supports.) */
  if (ck_pr_load_32(&h->closing) || fsc__gen_closed(c)) {
    ck_pr_dec_32(&h->waiters);
    return fsc__err(FSC_ECLOSED, "the handle was closed while waiting");
  }
  int rc = 0;
  if (deadline && past(deadline)) {
    rc = FSC_ETIMEDOUT;
  } else if (c->rdonly) {
    rc = wait_rdonly(c, seen, deadline);
  } else if (spin_briefly(c, seen, deadline)) {
    rc = 0; /* the count moved (or a close began: told below) */
  } else if (ck_ec64_wait_pred(ec_of(c), &fsc__ec_mode, seen, ec_clamp,
                               (void *)(uintptr_t)deadline, deadline) != 0) {
    rc = ck_ec64_value(ec_of(c)) != seen ? 0 : FSC_ETIMEDOUT;
  }
  int closing = (int)ck_pr_load_32(&h->closing);
  ck_pr_dec_32(&h->waiters); /* the last access to h or c */
  if (closing)
    return fsc__err(FSC_ECLOSED, "the handle was closed while waiting");
  if (rc)
    return fsc__err(FSC_ETIMEDOUT, "no change within the timeout");
  return 0;
}

void fsc__ec_close_handle(struct fsc__handle *h) {
  ck_pr_store_32(&h->closing, 1);
  ck_pr_fence_memory(); /* closing before the count, against fsc__ec_wait */
  if (ck_pr_load_32(&h->waiters) == 0)
    return;
  struct fsc__gen *c = fsc__cur(h);
  /* Every generation this handle maps may have a waiter (one that has
   * not yet followed a compaction): wake them all. */
  for (struct fsc__gen *g = c; g; g = g->next)
    if (g->data.views[0].base)
      ck_ec64_inc(ec_of(g), &fsc__ec_mode);
  while (ck_pr_load_32(&h->waiters) != 0) {
    for (struct fsc__gen *g = c; g; g = g->next)
      if (g->data.views[0].base)
        ck_ec64_inc(ec_of(g), &fsc__ec_mode);
    sched_yield();
  }
}
