/*
 * prealloc.c - owns the allocation of a file's next growth step ahead of
 * time, off the writers' path, and its release at the last close; and
 * the background threads that do it and grow.c's growth jobs
 * (fsc__bg_start: detached, every signal blocked, counted for the last
 * close, their descriptors closed in a child forked meanwhile).
 *
 * A growth step is one fallocate(2) made by a writer (map.c, record.c's
 * grow-ahead, a dict's next table in hash_region.c).  On ext4 that call
 * allocates blocks, and when the block group it reaches has its bitmap out
 * of memory it reads the bitmap from the disk, synchronously
 * (ext4_mb_init_cache, ext4_wait_block_bitmap): a 4M-key fill measured
 * 8 MiB data steps of 5 and 6 ms and a 64 MiB table region of 2.7 ms, in
 * the put that grew.  So after a growth step whose next step is at least
 * PREALLOC_MIN bytes, the writer starts a detached thread that allocates
 * ahead past the new end with FALLOC_FL_KEEP_SIZE: blocks past the end of
 * the file, which change neither its size nor any capacity a header
 * publishes (map.c's rule: nothing is published before its own
 * fallocate).  Starting a thread costs the writer about 10 us, so one
 * allocates several steps: PREALLOC_AHEAD bytes, but at least the next
 * step and at most the file's size (so a small file does not get more
 * past its end than it holds); and a growth whose next step lies inside
 * what the handle last had allocated ahead (ahead_from, ahead_end: under
 * mu) starts none.  A list growing in 4 MiB steps starts one at 4, 8, 16
 * and 32 MiB, then one a 32 MiB.  The writer that grows into them later
 * makes the same fallocate(2) as before, which finds them allocated and
 * takes a couple of microseconds.  The thread owns its own open of the
 * file (a new description: below) and its arguments, and touches no
 * mapping and no header, so it outlives nothing it uses (a handle that
 * closes, a generation retired, a fork);
 * it blocks every signal.  If it cannot be started, or has not finished,
 * or fails (a full disk), the writer allocates as before: prealloc is
 * advice, and ENOSPC stays the growth's error.
 *
 * Blocks past the end of a file stay allocated after the last close
 * unless something gives them back: the last clean close (gen.c,
 * trim_tails) waits a bounded time for this process's threads, and cuts
 * each file at its own size when FIEMAP shows blocks past it
 * (fsc__file_prealloc_trim; ftruncate to the same size frees them), so
 * the disk a closed collection takes is what it was without this.  A
 * session that ended otherwise (a crash, a close that was not the last)
 * leaves them for the next growth of that file, which uses them, or for
 * the next last clean close.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Steps smaller than this are allocated by their writer alone: a small
 * collection starts no thread. */
#define PREALLOC_MIN (UINT64_C(4) << 20)
/* What one thread allocates, at most the file's size and at least the
 * next step. */
#define PREALLOC_AHEAD (UINT64_C(32) << 20)
/* How long the last close waits for this process's threads, at most. */
#define WAIT_MS 2000

struct job {
  int fd;
  uint64_t off, len;
};

/* Threads of this process still allocating, and the process that started
 * them (a child of fork has the count and not the threads: its first
 * start resets it).  Both ck_pr.  A reset racing another thread's start
 * in that child can only undercount: the last close then waits less, and
 * at worst leaves a step past the end for the next growth or close. */
static uint32_t running;
static uint32_t running_pid;

/*
 * The descriptors the background threads of this process own, each as
 * fd + 1 (0: a free entry; ck_pr).  A child forked while a thread runs
 * has its descriptor and not the thread: the child's fork handler closes
 * them, so that the child does not keep the thread's open file
 * description (and, for a growth job, the OFD lock it may hold: grow.c)
 * open for as long as it lives.  An entry is taken before the thread
 * starts and given back before the descriptor is closed, so the handler
 * never closes a number that another thread reused; a fork between an
 * open and its entry (or between giving it back and the close) leaves
 * the child one descriptor it does not know, as before.  Threads beyond
 * BG_FDS run without an entry.
 */
#define BG_FDS 64
static uint32_t bg_fds[BG_FDS];
static pthread_once_t bg_once = PTHREAD_ONCE_INIT;

static void bg_child(void) {
  for (int i = 0; i < BG_FDS; i++) {
    uint32_t v = ck_pr_load_32(&bg_fds[i]);
    if (v) {
      close((int)v - 1);
      ck_pr_store_32(&bg_fds[i], 0);
    }
  }
}

static void bg_init(void) { (void)pthread_atfork(NULL, NULL, bg_child); }

static void bg_fd_add(int fd) {
  for (int i = 0; i < BG_FDS; i++)
    if (ck_pr_cas_32(&bg_fds[i], 0, (uint32_t)fd + 1))
      return;
}

static void bg_fd_drop(int fd) {
  for (int i = 0; i < BG_FDS; i++)
    if (ck_pr_cas_32(&bg_fds[i], (uint32_t)fd + 1, 0))
      return;
}

int fsc__bg_start(void *(*fn)(void *), void *arg, int fd) {
  pthread_once(&bg_once, bg_init);
  pthread_attr_t at;
  sigset_t all, old;
  int rc = pthread_attr_init(&at);
  if (rc != 0)
    return -1;
  (void)pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  (void)pthread_attr_setstacksize(&at, UINT64_C(64) << 10);
  /* The thread inherits the creator's mask: all blocked, so that no
   * signal of the application is ever handled on it. */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  uint32_t me = (uint32_t)getpid();
  if (ck_pr_load_32(&running_pid) != me) {
    ck_pr_store_32(&running, 0); /* (a forked child's count: no thread) */
    ck_pr_store_32(&running_pid, me);
  }
  ck_pr_inc_32(&running);
  if (fd >= 0)
    bg_fd_add(fd);
  pthread_t t;
  rc = pthread_create(&t, &at, fn, arg);
  if (rc != 0) {
    if (fd >= 0)
      bg_fd_drop(fd);
    ck_pr_dec_32(&running);
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&at);
  return rc == 0 ? 0 : -1;
}

void fsc__bg_end(int fd) {
  if (fd >= 0) {
    bg_fd_drop(fd);
    close(fd);
  }
  ck_pr_dec_32(&running);
}

static void *job_run(void *arg) {
  struct job *j = arg;
  while (fallocate(j->fd, FALLOC_FL_KEEP_SIZE, (off_t)j->off,
                   (off_t)j->len) != 0 &&
         errno == EINTR)
    ;
  int fd = j->fd;
  free(j);
  fsc__bg_end(fd);
  return NULL;
}

/* The range a failed start had claimed is given up (under mu), so that
 * the next growth tries again; unless another start claimed since. */
static void ahead_undo(struct fsc__file *f, uint64_t off, uint64_t end) {
  pthread_mutex_lock(&f->mu);
  if (f->ahead_from == off && f->ahead_end == end)
    f->ahead_from = f->ahead_end = 0;
  pthread_mutex_unlock(&f->mu);
}

void fsc__file_prealloc(struct fsc__file *f, uint64_t off, uint64_t len) {
  if (len < PREALLOC_MIN || !ck_pr_load_ptr(&f->cur))
    return;
  uint64_t n = off < PREALLOC_AHEAD ? off : PREALLOC_AHEAD;
  if (n < len)
    n = len;
  struct rlimit rl;
  if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      off + n > (uint64_t)rl.rlim_cur) {
    if (off + len > (uint64_t)rl.rlim_cur)
      return; /* (the growth there will fail with FSC_ENOSPC anyway) */
    n = (uint64_t)rl.rlim_cur - off;
  }
  struct job *j = malloc(sizeof *j);
  if (!j)
    return;
  /* A descriptor of its own, opened under mu (a retired generation
   * closes f->fd): a new open file description, not a dup(2), because
   * flocks belong to descriptions.  A dup would keep the description of
   * the handle's locks open for as long as the thread runs, and in a
   * child forked meanwhile (which has the descriptor and not the thread)
   * for ever: a lock the parent held when it was killed would outlive it
   * (lock.c, on fork).  Under mu too: is the next step inside what this
   * handle had allocated ahead last (then nothing to do), else claim the
   * new range.  (Only advice: a thread that failed or has not finished
   * leaves the range claimed but not allocated, and the writer that
   * reaches it allocates as it would have.) */
  pthread_mutex_lock(&f->mu);
  j->fd = -1;
  bool covered = f->ahead_from <= off && off + len <= f->ahead_end;
  if (!covered && f->fd >= 0) {
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", f->fd);
    j->fd = open(p, O_RDWR | O_CLOEXEC);
    if (j->fd >= 0) {
      f->ahead_from = off;
      f->ahead_end = off + n;
    }
  }
  pthread_mutex_unlock(&f->mu);
  if (j->fd < 0) {
    free(j);
    return;
  }
  j->off = off;
  j->len = n;
  int fd = j->fd;
  if (fsc__bg_start(job_run, j, fd) != 0) {
    close(j->fd);
    free(j);
    ahead_undo(f, off, off + n);
  }
}

/* Has the file blocks past its size (end)?  FIEMAP from the first page
 * past it; where the file system has no FIEMAP, st_blocks against the
 * size (which misses them only in a file with as many bytes of holes). */
static bool blocks_past(int fd, const struct stat *st) {
  uint64_t end = ((uint64_t)st->st_size + 4095) / 4096 * 4096;
  struct {
    struct fiemap m;
    struct fiemap_extent e[1];
  } q;
  memset(&q, 0, sizeof q);
  q.m.fm_start = end;
  q.m.fm_length = FIEMAP_MAX_OFFSET - end;
  q.m.fm_extent_count = 1;
  if (ioctl(fd, FS_IOC_FIEMAP, &q.m) == 0)
    return q.m.fm_mapped_extents > 0;
  /* (st_blocks also counts the extent tree's blocks: a page's slack.) */
  return (uint64_t)st->st_blocks * 512 > end + 4096;
}

void fsc__file_prealloc_trim(struct fsc__file *f) {
  if (ck_pr_load_32(&running_pid) == (uint32_t)getpid())
    for (int i = 0; i < WAIT_MS && ck_pr_load_32(&running) != 0; i++) {
      struct timespec ms = {0, 1000000};
      nanosleep(&ms, NULL);
    }
  struct stat st;
  if (f->fd < 0 || fstat(f->fd, &st) != 0)
    return;
  /* The same size: ext4 and XFS free the blocks past it. */
  if (blocks_past(f->fd, &st) && ftruncate(f->fd, st.st_size) != 0) {
    /* (best effort: the blocks stay for the next growth) */
  }
}
