/*
 * behind.c - owns what the appender does behind the data file's tail.
 *
 * Records are appended; once written, the pages behind the tail are
 * needed again only when a reader looks one of their records up.  Left
 * alone they stay dirty until the kernel's flusher writes them (30 s
 * later by default).  Under a memory limit (a cgroup) smaller than the
 * files, reclaim then meets a page cache full of dirty data pages, which
 * it cannot drop before their writeback, and evicts the index's pages
 * (which the next put needs) in their place: each is written and read
 * back.
 *
 * So the data file is cut into stretches of FSC__BEHIND bytes, and when
 * the tail passes the end of stretch k (the writer whose record crosses
 * the mark does it: one call per FSC__BEHIND appended, none per
 * operation), while memory is short:
 *   - stretch k-1 is written back: sync_file_range(2)
 *     SYNC_FILE_RANGE_WRITE starts the writes and does not wait.  (Not
 *     stretch k: the last records before the mark may still be being
 *     written by other writers; a page written during its writeback is
 *     simply dirty again.)
 *   - stretch k-3 (clean by now: its writeback began two marks ago) is
 *     dropped from memory, MADV_PAGEOUT: a later read of one of its
 *     records reads its page back from the file.
 * Memory is short from when the kernel has evicted a page of the probe,
 * stretch k-11 (mincore(2)), looked at every PROBE_EVERY marks, until
 * TIGHT_PROBES probes in a row find theirs whole.  A probe
 * is a stretch whose index is a multiple of PROBE_EVERY, appended since
 * this handle saw its first mark (an older one may be out of memory only
 * because the file was opened cold); probes are never dropped here, so
 * their eviction is the kernel's doing.  With memory to spare nothing is
 * written back early and nothing dropped (the cost is one mincore per
 * PROBE_EVERY marks), and both stop when the pressure does.
 * Stretch 0 (the file header, written on every put) is never touched.
 * All of it is advice: a failure is ignored, and no durability option
 * depends on it (doc/DURABILITY.md).
 */
#include "internal.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define PROBE_EVERY 8 /* stretches: the probes are never dropped */
#define PROBE_BACK 11 /* stretches behind the one just ended */
#define DROP_BACK 3
/* Probes that must find their stretch whole before dropping stops: while
 * it drops, the kernel has room and evicts later, so one whole probe
 * alone does not mean the pressure is gone. */
#define TIGHT_PROBES 16

/* Has the kernel evicted a page of [off, off + FSC__BEHIND) of view v? */
static bool evicted(struct fsc__view *v, uint64_t off) {
  unsigned char vec[FSC__BEHIND / 4096];
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  if (page != 4096 || off + FSC__BEHIND > v->len ||
      mincore(v->base + off, (size_t)FSC__BEHIND, vec) != 0)
    return false;
  for (size_t i = 0; i < sizeof vec; i++)
    if (!(vec[i] & 1))
      return true;
  return false;
}

void fsc__data_behind(struct fsc__gen *c, uint64_t mark) {
  struct fsc__file *f = &c->data;
  const uint64_t b = FSC__BEHIND, k = mark / b - 1; /* stretch k just ended */
  /* (Relaxed: a hint; a lost race only moves the first probe.) */
  if (!ck_pr_load_64(&f->behind_from))
    ck_pr_cas_64(&f->behind_from, 0, mark);
  struct fsc__view *v = ck_pr_load_ptr(&f->cur);
  if (!v)
    return;
  if (k > PROBE_BACK && (k - PROBE_BACK) % PROBE_EVERY == 0 &&
      (k - PROBE_BACK) * b >= ck_pr_load_64(&f->behind_from)) {
    uint32_t t = ck_pr_load_32(&f->tight);
    if (evicted(v, (k - PROBE_BACK) * b))
      ck_pr_store_32(&f->tight, TIGHT_PROBES);
    else if (t)
      ck_pr_store_32(&f->tight, t - 1);
  }
  if (!ck_pr_load_32(&f->tight))
    return;
  if (k >= 2) {
    pthread_mutex_lock(&f->mu); /* the fd: a retired generation closes it */
    if (f->fd >= 0)
      (void)sync_file_range(f->fd, (off_t)((k - 1) * b), (off_t)b,
                            SYNC_FILE_RANGE_WRITE);
    pthread_mutex_unlock(&f->mu);
  }
  uint64_t d = k - DROP_BACK;
  if (k > DROP_BACK && d % PROBE_EVERY != 0 && (d + 1) * b <= v->len)
    (void)madvise(v->base + d * b, (size_t)b, MADV_PAGEOUT);
}
