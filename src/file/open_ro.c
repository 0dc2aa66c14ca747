/*
 * open_ro.c - owns the clean-close marker's reading, and the steps of the
 * read-only open that takes no structure lock: a read-only open of a
 * cleanly closed collection, which gen_files.c runs (open_unlocked) with
 * the index open and mapped, either ends as the locked open would have,
 * or undoes what it did and takes the locked open.  It never fails an
 * open: whatever it does not like, the locked open looks at again.
 *
 * Why this is sound is doc/CONCURRENCY.md, "The read-only open without
 * the lock".  In short, in this order:
 *  1. `opens` (the index header's count of read-write opens, ever) is
 *     read, then the clean-close marker (pread): it must be there.  No
 *     presence lock is taken before the marker was seen: after an unclean
 *     end the first opener must find nobody present (it repairs).
 *     cstate is 0 (no compaction moved or is moving the files).
 *  2. The data file is opened by path, with its presence description
 *     (gen_files.c).
 *  3. The presence lock, shared and without waiting: refused while a
 *     first opener holds it exclusively (it may be repairing) or a last
 *     closer does (it trims and writes the marker).  Held, neither can
 *     start until this handle closes.
 *  4. `opens` and cstate again: unchanged, no read-write open completed
 *     since step 1 (one that was first held the presence lock
 *     exclusively until after it counted itself: step 3 waited for it),
 *     so the files are the ones the marker vouched for; cstate still 0,
 *     so the data file opened in step 2 is this index's.
 *  5. The headers are checked (gen_files.c, as the locked open does),
 *     after step 3: a last close's trim lowers the capacities before it
 *     cuts the files, and it was over before step 3.
 */
#include "internal.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

FSC__OPEN_PATH
int fsc__marker_at(int fd, uint64_t size, uint64_t *at) {
  struct stat st;
  if (!size) {
    if (fstat(fd, &st) != 0)
      return -1;
    size = (uint64_t)st.st_size;
  }
  if (size < 1)
    return -1;
  *at = size - 1;
  return 0;
}

/* *cached: the marker's page was in memory (read with RWF_NOWAIT, which
 * reads only what the page cache holds).  The page is touched by opens
 * and closes alone, so an index file that was dropped from memory, or
 * left unused long enough for its pages to be evicted, has it out: the
 * open then looks whether its table is cold (index_mem.c).  Where
 * RWF_NOWAIT is refused, or the page is out, a plain pread. */
FSC__OPEN_PATH
int fsc__marker_read(int fd, uint64_t size, uint8_t *b, bool *cached) {
  uint64_t at;
  *cached = false;
  if (fsc__marker_at(fd, size, &at) != 0)
    return -1;
#ifdef RWF_NOWAIT /* (glibc 2.27, musl 1.1.24) */
  struct iovec iov = {b, 1};
  if (preadv2(fd, &iov, 1, (off_t)at, RWF_NOWAIT) == 1) {
    *cached = true;
    return 0;
  }
#endif
  return pread(fd, b, 1, (off_t)at) == 1 ? 0 : -1;
}

FSC__OPEN_PATH
int fsc__open_ro_begin(struct fsc__gen *c, uint64_t isize,
                       struct fsc__open_ro *r) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  if (isize < FSC__HDR_SIZE + FSC__TRAILER)
    return 1;
  /* (The load of `opens` before the marker's read: with the marker seen,
   * no read-write open had cleared it when `opens` was read.) */
  r->opens = ck_pr_load_64(&ih->opens);
  ck_pr_fence_load();
  uint8_t m = 0;
  if (fsc__marker_read(c->index.fd, isize, &m, &r->cached) != 0 ||
      m != FSC__CLEAN_MARKER)
    return 1;
  if (ck_pr_load_64(&ih->cstate) != 0)
    return 1;
  /* What the checks of the headers set in c (check_fhdr the kind of an
   * FSC_KIND_ANY open, load_files the types and the cache options, and
   * the index's bound), kept for fsc__open_ro_undo. */
  r->kind = c->kind;
  r->ops = c->ops;
  r->type = c->type;
  r->key_type = c->key_type;
  r->crec = c->crec;
  r->zgrow = c->zgrow;
  r->opts = c->opts;
  r->isize = c->isize;
  r->isafe = ck_pr_load_64(&c->index.safe);
  return 0;
}

FSC__OPEN_PATH
int fsc__open_ro_lock(struct fsc__gen *c, const struct fsc__open_ro *r) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  if (flock(c->pfd, LOCK_SH | LOCK_NB) != 0)
    return 1;
  /* (flock orders these loads after whatever the lock's last exclusive
   * holder wrote.) */
  ck_pr_fence_load();
  return ck_pr_load_64(&ih->opens) != r->opens ||
         ck_pr_load_64(&ih->cstate) != 0;
}

void fsc__open_ro_undo(struct fsc__gen *c, const struct fsc__open_ro *r) {
  fsc__file_unmap(&c->data);
  if (c->pfd >= 0)
    close(c->pfd); /* (drops the presence lock if it was taken) */
  if (c->data.fd >= 0)
    close(c->data.fd);
  c->pfd = c->data.fd = -1;
  c->kind = r->kind;
  c->ops = r->ops;
  c->type = r->type;
  c->key_type = r->key_type;
  c->crec = r->crec;
  c->zgrow = r->zgrow;
  c->opts = r->opts;
  c->isize = r->isize;
  ck_pr_store_64(&c->index.safe, r->isafe);
  fsc__err_clear();
}
