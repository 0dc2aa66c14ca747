/*
 * map.c - owns a collection file's mappings and its growth.
 *
 * Rule 8 of doc/DESIGN.md lives here: growth never moves memory under a
 * reader.  A handle maps a file through "views"; when the file has grown
 * past the newest view, a larger view is mapped and published with one
 * pointer store, and the older views stay mapped until the handle closes,
 * so every pointer handed out stays valid.  Views may extend past the end
 * of the file (mmap allows it), but nothing ever touches a byte beyond the
 * capacity published in the file's header, and capacity is published only
 * after fallocate(2) has allocated it: a full disk is FSC_ENOSPC, never a
 * SIGBUS.  Nothing here ever truncates a file (only the last clean close
 * does, when no process maps it: gen.c).
 *
 * Growth steps (fsc__file_grow_size): a file doubles while it is small,
 * then grows by FSC__GROW_MIN (4 MiB) at a time, then by an eighth of its
 * size once that is larger, and by at most FSC__GROW_MAX (8 MiB): one
 * step is one fallocate(2) on some writer's operation, so it is bounded
 * (a file system that zeroes what it allocates, tmpfs, takes about a
 * millisecond for 8 MiB; ext4 marks extents in tens of microseconds),
 * and at most 8 MiB of a large file is unused.  (A region that needs
 * more, a hash table, still gets it in one call: the step is at least
 * what is needed.)  The blocks of the step after are allocated ahead,
 * past the file's end, by a thread (prealloc.c): on ext4 an allocation
 * may read block bitmaps from the disk, which the writer then skips.  The data file grows ahead of its tail (record.c), and
 * the last clean close trims what is left (gen.c).
 *
 * Views (view_len): a view reaches far past the file's end (64 MiB, then
 * 16 times the last), so that a file grows inside one view for most of
 * its life; replacing a view costs a page fault for every page touched
 * again and the old view's page table entries, which are dropped a
 * bounded chunk at a time (fsc__file_drop_later, fsc__file_drop_some) and
 * never in one call.
 *
 * Access hints (fsc_options.access): every view is madvise(2)d with the
 * handle's hint, MADV_RANDOM by default, so that a fault on a file larger
 * than memory reads one page and not the device's readahead window.  A
 * walk in file order (compaction's copy, verify's scan) marks the range it
 * walks MADV_SEQUENTIAL and gives it the handle's hint back after
 * (fsc__file_advise).  Hints are advice: a failure is ignored.
 *
 * Growth past the process's file size limit (RLIMIT_FSIZE, ulimit -f)
 * would raise SIGXFSZ, whose default action kills the process: growth is
 * checked against the limit first and fails with FSC_ENOSPC instead, so
 * the signal is never raised, whatever the application does with it.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIN_VIEW (UINT64_C(1) << 20)
#define GROW_ALIGN (UINT64_C(64) << 10)

static uint64_t round_up(uint64_t x, uint64_t to) {
  return (x + to - 1) / to * to;
}

uint64_t fsc__file_grow_size(uint64_t cap, uint64_t need) {
  uint64_t step = cap < FSC__GROW_MIN ? cap : cap / 8;
  if (step < FSC__GROW_MIN && cap >= FSC__GROW_MIN)
    step = FSC__GROW_MIN;
  if (step > FSC__GROW_MAX)
    step = FSC__GROW_MAX;
  uint64_t want = cap + step;
  if (want < need)
    want = need;
  return round_up(want, GROW_ALIGN);
}

static int advice_of(int access) {
  return access == FSC_ACCESS_NORMAL       ? MADV_NORMAL
         : access == FSC_ACCESS_SEQUENTIAL ? MADV_SEQUENTIAL
                                           : MADV_RANDOM;
}

void fsc__file_advise(struct fsc__file *f, uint64_t off, uint64_t len,
                      bool seq) {
  struct fsc__view *v = ck_pr_load_ptr(&f->cur);
  if (!v || off >= v->len)
    return;
  uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
  uint64_t start = off / page * page;
  uint64_t end = len > v->len - off ? v->len : off + len;
  end = round_up(end, page);
  if (end > v->len)
    end = v->len;
  (void)madvise(v->base + start, (size_t)(end - start),
                seq ? MADV_SEQUENTIAL : advice_of(f->access));
  /* The first stretch is asked for at once: the walk starts there. */
  if (seq && f->access != FSC_ACCESS_SEQUENTIAL)
    (void)madvise(v->base + start,
                  (size_t)(end - start < MIN_VIEW ? end - start : MIN_VIEW),
                  MADV_WILLNEED);
}

/* MADV_POPULATE_WRITE (Linux 5.14): fault a range in writable in one
 * call.  Older kernels refuse it (EINVAL): then one write fault a page, an
 * atomic add of 0, which leaves whatever another thread stores there. */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
void fsc__mem_populate(void *p, uint64_t len) {
  uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
  uintptr_t a = (uintptr_t)p, start = a / page * page;
  uintptr_t end = (uintptr_t)round_up(a + len, page);
  if (!len || madvise((void *)start, (size_t)(end - start),
                      MADV_POPULATE_WRITE) == 0)
    return;
  /* The first word of each page the range covers (8-aligned: p is). */
  for (uintptr_t q = a; q < a + len; q = (q / page + 1) * page)
    ck_pr_add_64((uint64_t *)(q & ~(uintptr_t)7), 0);
}

void fsc__file_zero(struct fsc__file *f, uint64_t off, uint64_t len) {
  if (f->fd >= 0)
    fsc__fd_zero(f->fd, off, len);
}

bool fsc__fd_zero(int fd, uint64_t off, uint64_t len) {
  /* Never written: not const, so that it lies in .bss (no file bytes). */
  static uint8_t zeros[64 << 10];
  struct rlimit rl;
  if (fd < 0 || off > UINT64_MAX - len ||
      (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
       off + len > (uint64_t)rl.rlim_cur))
    return false;
  while (len > 0) {
    size_t n = len < sizeof zeros ? (size_t)len : sizeof zeros;
    ssize_t r = pwrite(fd, zeros, n, (off_t)off);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return false;
    off += (uint64_t)r;
    len -= (uint64_t)r;
  }
  return true;
}

void fsc__mem_drop(void *p, uint64_t len) {
  uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
  uintptr_t a = (uintptr_t)p;
  uintptr_t start = (uintptr_t)round_up(a, page), end = (a + len) / page * page;
  if (start < end)
    (void)madvise((void *)start, (size_t)(end - start), MADV_DONTNEED);
}

/* Queue [p, p + len) for fsc__file_drop_run (mu held). */
static void drop_later_locked(struct fsc__file *f, void *p, uint64_t len) {
  uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
  uintptr_t a = (uintptr_t)p;
  uintptr_t start = (uintptr_t)round_up(a, page), end = (a + len) / page * page;
  if (start >= end)
    return;
  if (f->ndrops == FSC__MAX_DROPS) {
    /* (Never in practice: a range is gone after a few thousand calls,
     * and a new one comes at a migration's end or a new view.) */
    fsc__mem_drop(f->drops[0].p, f->drops[0].len);
    ck_pr_sub_64(&f->dropping, f->drops[0].len);
    memmove(&f->drops[0], &f->drops[1], (FSC__MAX_DROPS - 1) *
                                            sizeof f->drops[0]);
    f->ndrops--;
  }
  f->drops[f->ndrops].p = (uint8_t *)start;
  f->drops[f->ndrops].len = end - start;
  f->ndrops++;
  ck_pr_add_64(&f->dropping, end - start);
}

void fsc__file_drop_later(struct fsc__file *f, void *p, uint64_t len) {
  pthread_mutex_lock(&f->mu);
  drop_later_locked(f, p, len);
  pthread_mutex_unlock(&f->mu);
}

/* Drop at most max bytes of the oldest pending range (mu held). */
static void drop_chunk_locked(struct fsc__file *f, uint64_t max) {
  if (f->ndrops > 0) {
    struct fsc__drop *d = &f->drops[0];
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t n = d->len < max ? d->len : max / page * page;
    if (n == 0)
      n = page; /* (max below a page: one, the least there is; d->len is
                   a multiple of it) */
    (void)madvise(d->p, (size_t)n, MADV_DONTNEED);
    d->p += n;
    d->len -= n;
    ck_pr_sub_64(&f->dropping, n);
    if (d->len == 0) {
      memmove(&f->drops[0], &f->drops[1], (FSC__MAX_DROPS - 1) *
                                              sizeof f->drops[0]);
      f->ndrops--;
    }
  }
}

void fsc__file_drop_run(struct fsc__file *f, uint64_t max) {
  pthread_mutex_lock(&f->mu);
  drop_chunk_locked(f, max);
  pthread_mutex_unlock(&f->mu);
}

/* The length of a new view of at least `need` bytes: a large stretch of
 * address space past the file's end (views may reach past it: nothing
 * touches a byte beyond the published capacity), so that the file grows
 * for a long time inside one view.  A new view is what costs: the old one
 * must give its page table entries back (view_add), and every page is
 * faulted in again through the new one.  On 64-bit, twice VIEW_MIN (64
 * MiB) at least, and VIEW_MUL (16) times the previous view: address
 * space, not memory (a shared file mapping reserves no swap and no page
 * until it is touched), so a file is mapped at most three times on its
 * way to 16 GiB (64 MiB, 1 GiB, 16 GiB; before, a view 4 times the last:
 * 2, 8, 32, 128, 512 MiB, 2 GiB...).  Not larger at first: a small
 * collection's close would pay for it (munmap of a 4 GiB view, about
 * 10 us against 4), and so does every open: a first view of 1 GiB (tried:
 * a 4M-key dict then filled with one view of each file, and its filling
 * thread took 25,300 page faults instead of 34,400) made a warm reopen
 * and first get 147-159 us instead of 122-133 on this 2-core VM, the page
 * table pages of a fresh gigabyte of address space made and freed with
 * each handle.  The fallback (a smaller view, 2 times what is needed
 * or 4 times the last) is what an address-space limit (RLIMIT_AS,
 * ulimit -v) leaves room for. */
#define VIEW_MIN (UINT64_C(32) << 20)
#define VIEW_MUL 16
static uint64_t view_len(struct fsc__file *f, uint64_t need, bool small) {
  small = small || sizeof(void *) < 8; /* (32-bit: no room to spare) */
  uint64_t min = small ? MIN_VIEW : VIEW_MIN, mul = small ? 4 : VIEW_MUL;
  uint64_t len = need < min ? min : need;
  if (f->nviews > 0 && len < f->views[f->nviews - 1].len * (mul / 2))
    len = f->views[f->nviews - 1].len * (mul / 2);
  return round_up(len * 2, (uint64_t)sysconf(_SC_PAGESIZE));
}

/* Map a new view of at least `need` bytes and publish it. Caller holds mu
 * (or is the only user, at open). */
FSC__OPEN_PATH
static int view_add(struct fsc__file *f, uint64_t need) {
  if (f->fd < 0) /* retired: FSC__GEN moves to the new generation */
    return fsc__err(FSC__EMOVED, "this generation of the files is retired");
  if (f->nviews == FSC__MAX_VIEWS)
    return fsc__err(FSC_ENOMEM, "too many views of one file");
  uint64_t len = view_len(f, need, false);
  void *p = len > SIZE_MAX / 2 ? MAP_FAILED
                               : mmap(NULL, (size_t)len, f->prot, MAP_SHARED,
                                      f->fd, 0);
  if (p == MAP_FAILED && (len = view_len(f, need, true)) <= SIZE_MAX / 2)
    p = mmap(NULL, (size_t)len, f->prot, MAP_SHARED, f->fd, 0);
  if (p == MAP_FAILED)
    return fsc__err_errno(errno, "mmap", NULL);
  if (f->access != FSC_ACCESS_NORMAL) /* (NORMAL is what mmap gives) */
    (void)madvise(p, (size_t)len, advice_of(f->access));
  struct fsc__view *v = &f->views[f->nviews];
  v->base = p;
  v->len = len;
  f->nviews++;
  /* The view's fields must be visible before the pointer to it. */
  ck_pr_fence_store();
  ck_pr_store_ptr(&f->cur, v);
  /* The view before maps the same first bytes, and every new pointer
   * comes from this one: a page touched through both would be counted
   * twice in the process's RSS (each mapping has its own page table
   * entries; a 1M-key dict read after it was filled: 341 MB, not 224),
   * and a page mapped twice is one behind.c's MADV_PAGEOUT leaves alone.
   * MADV_DONTNEED on a shared file mapping drops only those entries: the
   * page cache keeps the bytes and their dirty state, and a pointer still
   * into the old view (a value handed out, a thread mid-lookup) faults the
   * same page back in.  Spread over later calls (fsc__file_drop_some):
   * at once it is a pause of 0.2 to 0.3 us a resident page (27 ms for
   * 512 MB, on the put that happened to need the new view). */
  if (f->nviews > 1)
    drop_later_locked(f, f->views[f->nviews - 2].base,
                      f->views[f->nviews - 2].len);
  return 0;
}

FSC__OPEN_PATH
int fsc__file_map(struct fsc__file *f, uint64_t need) {
  f->nviews = 0;
  f->cur = NULL;
  f->safe = 0;
  f->ndrops = 0;
  f->dropping = 0;
  f->ahead_from = f->ahead_end = 0;
  pthread_mutex_init(&f->mu, NULL);
  pthread_mutex_init(&f->gmu, NULL);
  int rc = view_add(f, need);
  if (rc == 0)
    f->safe = need; /* the caller checked the file is at least this long */
  return rc;
}

void fsc__file_unmap(struct fsc__file *f) {
  if (!f->cur)
    return; /* never mapped */
  for (unsigned i = 0; i < f->nviews; i++)
    munmap(f->views[i].base, (size_t)f->views[i].len);
  f->nviews = 0;
  f->cur = NULL;
  f->safe = 0;
  f->ndrops = 0; /* (the ranges were in views just unmapped) */
  f->dropping = 0;
  pthread_mutex_destroy(&f->mu);
  pthread_mutex_destroy(&f->gmu);
}

/* Map [0, cap) of the file, cap being its published capacity (mu held),
 * and let fsc__ptr's fast path reach it. */
static int map_through(struct fsc__file *f, uint64_t cap) {
  int rc = 0;
  if (cap > f->cur->len && (rc = view_add(f, cap)) != 0)
    return rc;
  if (cap > ck_pr_load_64(&f->safe))
    ck_pr_store_64(&f->safe, cap);
  return 0;
}

int fsc__file_ensure(struct fsc__file *f, uint64_t end) {
  int rc = 0;
  pthread_mutex_lock(&f->mu);
  /* Acquire: the capacity word is published after fallocate. */
  uint64_t cap = ck_pr_load_64(f->capword);
  ck_pr_fence_load();
  if (end > cap) {
    rc = fsc__err(FSC_ECORRUPT,
                  "offset %llu is beyond the file's capacity %llu",
                  (unsigned long long)end, (unsigned long long)cap);
    goto out;
  }
  rc = map_through(f, cap);
  /* A handle that only reads never appends or inserts (the callers of
   * fsc__file_drop_some): it drops what is pending here, where it comes
   * each time the file has grown, 1 MiB (about 0.1 ms) a time. */
  drop_chunk_locked(f, UINT64_C(1) << 20);
out:
  pthread_mutex_unlock(&f->mu);
  return rc;
}

int fsc__file_grow(struct fsc__file *f, uint64_t size, const char *path) {
  return fsc__file_grow_from(f, 0, size, path);
}

int fsc__fd_grow(int fd, uint64_t from, uint64_t size, const char *path) {
  /* fallocate, not posix_fallocate: glibc's fallback for file systems
   * without fallocate writes zeros into the file, which would race with
   * other processes writing records there. */
  /* (Read each time: the application may raise the limit later.) */
  struct rlimit rl;
  if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      size > (uint64_t)rl.rlim_cur)
    return fsc__err(FSC_ENOSPC, "growing %s to %llu bytes would pass the "
                    "process's file size limit (RLIMIT_FSIZE, ulimit -f) of "
                    "%llu bytes", path ? path : "(collection file)",
                    (unsigned long long)size, (unsigned long long)rl.rlim_cur);
  if (from > size)
    from = size;
  while (fallocate(fd, 0, (off_t)from, (off_t)(size - from)) != 0) {
    if (errno == EINTR)
      continue;
    if (errno == EOPNOTSUPP)
      return fsc__err(FSC_EIO, "%s: the file system does not support "
                               "fallocate(2), which fscollections needs",
                      path ? path : "(collection file)");
    return fsc__err_errno(errno, "growing", path);
  }
  return 0;
}

int fsc__file_grow_from(struct fsc__file *f, uint64_t from, uint64_t size,
                        const char *path) {
  /* Not yet mapped: a new file, one user, mu not yet initialised.  (An
   * atomic load: view_add publishes cur while other threads grow.)
   * Under mu: a lock-free writer still working in a retired generation
   * must not fallocate a descriptor number fsc__file_close_fd has closed
   * and open(2) has since reused. */
  bool mapped = ck_pr_load_ptr(&f->cur) != NULL;
  if (mapped)
    pthread_mutex_lock(&f->mu);
  int rc = f->fd < 0 ? FSC__EMOVED : fsc__fd_grow(f->fd, from, size, path);
  if (mapped)
    pthread_mutex_unlock(&f->mu);
  return rc;
}

int fsc__index_grow(struct fsc__gen *c, uint64_t end) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t icap = ck_pr_load_64(&ih->icap);
  if (end <= icap)
    return 0;
  uint64_t ncap = fsc__file_grow_size(icap, end); /* amortised */
  /* From icap: holes below it (a trimmed index) stay holes. */
  int rc = fsc__file_grow_from(&c->index, icap, ncap, c->index_path);
  if (rc)
    return rc;
  ck_pr_fence_store(); /* capacity is published after fallocate */
  ck_pr_store_64(&ih->icap, ncap);
  /* The next growth, allocated ahead off this path (prealloc.c): twice
   * this one (a dict's next table is twice this one's), at most
   * FSC__PREALLOC_INDEX_MAX (a table that never grows again keeps that
   * much disk until the last close). */
  uint64_t next = 2 * (ncap - icap);
  fsc__file_prealloc(&c->index, ncap, next < FSC__PREALLOC_INDEX_MAX
                                          ? next
                                          : FSC__PREALLOC_INDEX_MAX);
  return 0;
}

void fsc__advise_walk(struct fsc__gen *c, bool seq) {
  fsc__file_advise(&c->data, FSC__HDR_SIZE,
                   ck_pr_load_64(&fsc__dhdr(c)->tail) - FSC__HDR_SIZE, seq);
  fsc__file_advise(&c->index, FSC__HDR_SIZE,
                   ck_pr_load_64(&fsc__ihdr(c)->itail) - FSC__HDR_SIZE, seq);
}

void fsc__file_punch(struct fsc__file *f, uint64_t off, uint64_t end) {
  uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
  uint64_t a = round_up(off, page), b = end / page * page;
  if (f->fd < 0 || a >= b)
    return;
  if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)a,
                (off_t)(b - a)) != 0)
    return; /* (a file system without holes keeps the bytes) */
}

int fsc__file_stat(struct fsc__file *f, struct stat *st) {
  if (!ck_pr_load_ptr(&f->cur))
    return fstat(f->fd, st) == 0 ? 0 : -1;
  pthread_mutex_lock(&f->mu);
  int rc = f->fd < 0 ? FSC__EMOVED : fstat(f->fd, st) == 0 ? 0 : -1;
  pthread_mutex_unlock(&f->mu);
  return rc;
}

int fsc__file_sync(struct fsc__file *f, bool msync_too) {
  int rc = 0;
  pthread_mutex_lock(&f->mu);
  if (f->fd < 0) {
    rc = FSC__EMOVED;
    goto out;
  }
  uint64_t cap = ck_pr_load_64(f->capword);
  uint64_t len = cap < f->cur->len ? cap : f->cur->len;
  if (msync_too && msync(f->cur->base, (size_t)len, MS_SYNC) != 0)
    rc = fsc__err_errno(errno, "msync", NULL);
  else if (fsync(f->fd) != 0 && errno != EINVAL && errno != EBADF)
    rc = fsc__err_errno(errno, "fsync", NULL);
out:
  pthread_mutex_unlock(&f->mu);
  return rc;
}

void fsc__file_close_fd(struct fsc__file *f) {
  pthread_mutex_lock(&f->mu);
  if (f->fd >= 0) {
    /* Map what the file holds first, so that a reader still working in
     * this generation never needs a new view (view_add needs the fd). */
    (void)map_through(f, ck_pr_load_64(f->capword)); /* best effort */
    close(f->fd);
    f->fd = -1;
  }
  pthread_mutex_unlock(&f->mu);
}
