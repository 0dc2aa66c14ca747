/*
 * open_ro.c - owns the read-only open of a cleanly closed collection that
 * takes no structure lock: the index is open and mapped (gen_files.c);
 * this opens the data file and takes the presence lock without ever
 * flocking the index, and either hands gen.c a generation as the locked
 * open would have (0), or undoes everything it did and sends the open
 * down the locked path (1).  It never fails an open: whatever it does
 * not like, the locked path looks at again and decides.
 *
 * Why this is sound is doc/CONCURRENCY.md, "The read-only open without
 * the lock".  In short, in this order:
 *  1. `opens` (the index header's count of read-write opens, ever) is
 *     read, then the clean-close marker (pread): it must be there.  No
 *     presence lock is taken before the marker was seen: after an unclean
 *     end the first opener must find nobody present (it repairs).
 *  2. cstate is 0 (no compaction moved or is moving the files), then the
 *     data file is opened by path, with its presence description.
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
#include <unistd.h>

/* What the checks of the headers set in c (check_fhdr the kind of an
 * FSC_KIND_ANY open, load_files the types and the cache options, and the
 * index's bound), kept to be put back. */
struct was {
  enum fsc__kind kind;
  const struct fsc__kind_ops *ops;
  fsc_type type, key_type;
  bool crec;
  fsc_options opts;
  uint64_t isize, isafe;
};

/* Give back what fsc__open_ro took, leaving c as gen_files.c had it
 * before: the index open and mapped, its safe bound as mapped. */
static void undo(struct fsc__gen *c, const struct was *was) {
  fsc__file_unmap(&c->data);
  if (c->pfd >= 0)
    close(c->pfd); /* (drops the presence lock if it was taken) */
  if (c->data.fd >= 0)
    close(c->data.fd);
  c->pfd = c->data.fd = -1;
  c->kind = was->kind;
  c->ops = was->ops;
  c->type = was->type;
  c->key_type = was->key_type;
  c->crec = was->crec;
  c->opts = was->opts;
  c->isize = was->isize;
  ck_pr_store_64(&c->index.safe, was->isafe);
  fsc__err_clear();
}

FSC__OPEN_PATH
int fsc__open_ro(struct fsc__gen *c, const fsc_options *o,
                 const struct stat *is) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t isize = (uint64_t)is->st_size;
  if (isize < FSC__HDR_SIZE + FSC__TRAILER)
    return 1;
  /* 1. (The load of `opens` before the marker's read: with the marker
   * seen, no read-write open had cleared it when `opens` was read.) */
  uint64_t opens = ck_pr_load_64(&ih->opens);
  ck_pr_fence_load();
  uint8_t m = 0;
  bool cached = false;
  if (fsc__gen_read_marker(c->index.fd, isize, &m, &cached) != 0 ||
      m != FSC__CLEAN_MARKER)
    return 1;
  if (ck_pr_load_64(&ih->cstate) != 0)
    return 1;
  struct was was = {c->kind, c->ops,  c->type,  c->key_type,
                    c->crec, c->opts, c->isize, ck_pr_load_64(&c->index.safe)};
  /* 2. */
  struct stat ds;
  if (fsc__gen_files_data(c, is, &ds) != 0)
    goto fallback;
  /* 3. */
  if (flock(c->pfd, LOCK_SH | LOCK_NB) != 0)
    goto fallback;
  /* 4. (flock orders these loads after whatever the lock's last
   * exclusive holder wrote.) */
  ck_pr_fence_load();
  if (ck_pr_load_64(&ih->opens) != opens || ck_pr_load_64(&ih->cstate) != 0)
    goto fallback;
  /* 5. */
  c->isize = isize;
  if (fsc__gen_files_load(c, o, (uint64_t)ds.st_size, isize) != 0 ||
      fsc__dhdr(c)->h.generation != ih->h.generation)
    goto fallback;
  c->index_cached = cached;
  return 0;

fallback:
  undo(c, &was);
  return 1;
}
