/*
 * grow.c - owns the data file's growth: the capacity (struct
 * fsc__data_hdr `cap`) that bounds every reservation (record.c), and the
 * steps that raise it.
 *
 * Invariant, every version: [0, cap) is allocated (fallocate) before cap
 * is published (a release store), and cap only grows (a CAS-max), so a
 * reservation below cap never meets SIGBUS and a failed growth (disk
 * full) leaves the collection usable.
 *
 * Data files of versions 1 and 2 grow lock-free: any appender that needs
 * room fallocates the next step (map.c's sizes) and publishes it;
 * fallocate is idempotent, so racing growers are harmless.  The first
 * store to each new page then takes a fault that reads an unwritten
 * extent: the kernel allocates a page-cache page, zeroes it and maps it,
 * 1 to 5 us a page on ext4.
 *
 * Data files of version 3 (FSC__DATA_VERSION_ZEROED) grow under the
 * growth lock, an OFD lock on one byte of the data file (lock.c), taken
 * after the file's gmu (threads of one process share the description,
 * which the OFD lock does not tell apart).
 * The holder re-reads cap, makes sure the file is allocated past the
 * next FSC__ZERO_STEP (a fallocate step as above, when the file's size
 * is not already past it), writes zeros over [cap, new cap) with
 * pwrite(2), then publishes the new cap.  Written through the page cache,
 * those pages are there, dirty, when the appenders' stores come: a fault
 * then costs about a fifth.  The zeros are safe only because no byte at or
 * past cap can hold a record (nobody reserves there), and no other grower
 * can publish while the holder writes: every grower of such a file takes
 * the lock, and builds that do not know the lock refuse version 3.  A
 * holder killed mid-step loses the lock with its last descriptor; its
 * zeros and its fallocate are harmless to repeat.  The file's size may
 * stay above cap by up to a fallocate step; the last clean close cuts it
 * back to the tail (gen.c), under the growth lock.
 *
 * The step ahead (the appender whose record crosses fsc__grow_mark(cap),
 * record.c) of a version-3 file of at least GROW_JOB_MIN is a growth job
 * (fsc__data_grow_ahead): a detached thread (prealloc.c, fsc__bg_start)
 * that owns a new open of the file (its OFD lock excludes this process's
 * other growers as well as other processes') and its own mapping of the
 * header page, so that it outlives nothing it uses: a handle that closes,
 * a generation retired, a fork.  It takes the steps the appender would
 * have taken, one lock and one MiB at a time, up to GROW_JOB_AHEAD past
 * the capacity the appender saw, and on while the tail is past the mark
 * of the capacity it reached (an appender that crossed a mark while it
 * read an older capacity started no job).  The appender goes on at once:
 * zeroing fresh page-cache memory costs 0.1 to 3 ms a MiB, which no write
 * pays now.  A job that cannot start, fails, falls behind or dies with
 * its process changes nothing else: the appender that needs the space
 * grows (fsc__data_grow), and starts the job the next mark would have.
 * While it waits for the lock it watches cap, and goes on as soon as a
 * holder's step covers its need (fsc__ofd_lock_or_word): a job retakes
 * the lock at once after each step, so the lock alone would keep it
 * waiting for the job's last.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A growth step of a version-3 file zeroes and publishes this much (or
 * as much as the file has when it is smaller: doubling). */
#define FSC__ZERO_STEP (UINT64_C(1) << 20)

static uint64_t round64k(uint64_t x) {
  return (x + 65535) & ~UINT64_C(65535);
}

/* Versions 1 and 2: lock-free. */
static int grow_free(struct fsc__gen *c, uint64_t need) {
  struct fsc__data_hdr *d = fsc__dhdr(c);
  uint64_t cap = ck_pr_load_64(&d->cap);
  if (need <= cap)
    return 0;
  uint64_t want = fsc__file_grow_size(cap, need); /* map.c's steps */
  /* From cap: [0, cap) was allocated before cap was published (by
   * induction from the file's creation), so only the step is new, and a
   * file system that allocates page by page (tmpfs) is not walked over
   * the whole file each time. */
  int rc = fsc__file_grow_from(&c->data, cap, want, c->data_path);
  if (rc)
    return rc;
  /* Publish after fallocate (release); CAS-max so capacity only grows. */
  ck_pr_fence_store();
  while (cap < want && !ck_pr_cas_64_value(&d->cap, cap, want, &cap))
    ;
  /* The step after this one, allocated ahead off this path (prealloc.c). */
  fsc__file_prealloc(&c->data, want, fsc__file_grow_size(want, want) - want);
  return 0;
}

/* Version 3, the growth lock held through fd, the data header at d:
 * raise cap to at least need: 1 if this call raised it, 0 if it was
 * there already, or an error.  A fallocate step sets *ahead to where the
 * next one starts (for prealloc.c, called after the lock is dropped). */
static int grow_zeroed_locked(struct fsc__data_hdr *d, int fd,
                              const char *path, uint64_t need,
                              uint64_t *ahead) {
  uint64_t cap = ck_pr_load_64(&d->cap);
  if (need <= cap)
    return 0; /* another grower's step covered it */
  struct stat st;
  if (fstat(fd, &st) != 0)
    return fsc__err_errno(errno, "fstat", path);
  uint64_t size = (uint64_t)st.st_size;
  uint64_t step = cap < FSC__ZERO_STEP ? cap : FSC__ZERO_STEP;
  uint64_t ncap = round64k(need > cap + step ? need : cap + step);
  if (size < cap)
    size = cap; /* (a file cut short under us: fallocate from cap) */
  if (ncap > size) {
    uint64_t want = fsc__file_grow_size(size, ncap);
    int rc = fsc__fd_grow(fd, size, want, path);
    if (rc)
      return rc;
    *ahead = want;
    size = want;
  }
  /* No record lies at or past cap, and no one else publishes while we
   * hold the lock: the zeros overwrite nothing.  Best effort: a short
   * write leaves allocated bytes that read as zeros anyway. */
  (void)fsc__fd_zero(fd, cap, ncap - cap);
  /* Publish after the zeros and the fallocate (release). */
  ck_pr_fence_store();
  while (cap < ncap && !ck_pr_cas_64_value(&d->cap, cap, ncap, &cap))
    ;
  return 1;
}

/* 1 if this call raised cap, 0 if another had, or an error. */
static int grow_zeroed(struct fsc__gen *c, uint64_t need) {
  struct fsc__file *f = &c->data;
  if (need <= ck_pr_load_64(&fsc__dhdr(c)->cap))
    return 0;
  /* A child after fork shares its parent's descriptions, hence the
   * parent's OFD locks: it takes its own first (lock.c). */
  if (c->owner != getpid()) {
    pthread_mutex_lock(&c->mu);
    int rc = c->owner != getpid() ? fsc__lock_refork(c) : 0;
    pthread_mutex_unlock(&c->mu);
    if (rc)
      return rc;
  }
  /* The step works on a duplicate of the handle's descriptor (the same
   * open file description, so the same OFD lock), made under mu: it is
   * this generation's file, and stays open if the generation retires
   * meanwhile.  mu is not held through the step: a reader of this
   * process that needs a new view (fsc__file_ensure) must not wait for
   * another process's holder of the growth lock. */
  pthread_mutex_lock(&f->mu);
  int fd = f->fd < 0 ? -2 : fcntl(f->fd, F_DUPFD_CLOEXEC, 0);
  int e = errno;
  pthread_mutex_unlock(&f->mu);
  if (fd == -2)
    return FSC__EMOVED;
  if (fd < 0)
    return fsc__err_errno(e, "dup", c->data_path);
  uint64_t ahead = 0;
  pthread_mutex_lock(&f->gmu);
  /* The lock, or the space published meanwhile by its holder (a job's
   * step): then there is nothing to do (fsc__ofd_lock_or_word). */
  int rc = fsc__ofd_lock_or_word(fd, FSC__GROW_LOCK_OFF,
                                 c->opts.lock_timeout_ms, c->data_path,
                                 &fsc__dhdr(c)->cap, need);
  if (rc == 0) {
    rc = grow_zeroed_locked(fsc__dhdr(c), fd, c->data_path, need, &ahead);
    fsc__ofd_unlock(fd, FSC__GROW_LOCK_OFF);
  } else if (rc == 1) {
    rc = 0;
  }
  pthread_mutex_unlock(&f->gmu);
  close(fd);
  /* The step after this one, allocated ahead off this path. */
  if (ahead)
    fsc__file_prealloc(f, ahead, fsc__file_grow_size(ahead, ahead) - ahead);
  return rc;
}

/* A version-3 file of at least this capacity takes its steps ahead in a
 * background thread (smaller ones in the appender: a small collection
 * starts no thread).  At 4 MiB the mark lies 1 MiB below cap, and from
 * 8 MiB on 2 MiB: room for the appenders while a job starts and takes
 * its first step (a job that falls behind makes an appender that needs
 * the space wait for the growth lock and grow). */
#define GROW_JOB_MIN (UINT64_C(4) << 20)
/* How far past the mark's capacity one job raises it (in steps of
 * FSC__ZERO_STEP): one thread for several steps, about one every
 * GROW_JOB_AHEAD - 2 MiB appended (the mark lies 2 MiB below cap). */
#define GROW_JOB_AHEAD (UINT64_C(4) << 20)
/* The most steps one job takes. */
#define GROW_JOB_STEPS 64

static bool gjob_start(struct fsc__gen *c, uint64_t need);

int fsc__data_grow(struct fsc__gen *c, uint64_t need) {
  if (!c->zgrow)
    return grow_free(c, need);
  int rc = grow_zeroed(c, need);
  /* An appender needed the space: the job of the last mark died with its
   * process, failed, or fell behind.  The step just published (one
   * FSC__ZERO_STEP, less than the mark's distance below cap from
   * GROW_JOB_MIN on) leaves the tail past the new capacity's mark, which
   * no later appender crosses: without a job started here every later
   * step would be taken by an appender that needs it, waiting for the
   * lock.  Started by the one appender that raised cap past need (the
   * others found it raised), failure left to the next appender in need. */
  if (rc > 0) {
    struct fsc__data_hdr *d = fsc__dhdr(c);
    uint64_t cap = ck_pr_load_64(&d->cap);
    if (cap >= GROW_JOB_MIN && ck_pr_load_64(&d->tail) >= fsc__grow_mark(cap))
      (void)gjob_start(c, cap + GROW_JOB_AHEAD);
  }
  return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------------ */
/* The step ahead, in the background                                   */
/* ------------------------------------------------------------------ */


/* The generations of this process with a job running, one claim each:
 * an appender that crosses a mark while its generation's job runs starts
 * none (that job goes on: gjob_more), nor does one that needed the space.
 * Keyed by the generation's address as a number (a job never touches its
 * generation, which may be freed meanwhile: an address reused only means
 * that the next appender in need grows).  A key has one slot; a collision
 * starts the job unclaimed.  Cleared in a forked child, which has no
 * threads (gjob_forget, a fork handler). */
#define GJOB_SLOTS 64
static uint64_t gjob_keys[GJOB_SLOTS];

static uint64_t *gjob_slot(uint64_t key) {
  return &gjob_keys[(key >> 6) % GJOB_SLOTS];
}

static pthread_once_t gjob_once = PTHREAD_ONCE_INIT;

static void gjob_forget(void) {
  for (int i = 0; i < GJOB_SLOTS; i++)
    ck_pr_store_64(&gjob_keys[i], 0);
}

static void gjob_init(void) { (void)pthread_atfork(NULL, NULL, gjob_forget); }

/* What a job owns: an open file description of its own (a new open of
 * the file, so its OFD lock excludes this process's other growers too),
 * its own mapping of the header page, the need, and its claim (key, 0
 * when unclaimed). */
struct gjob {
  int fd;
  struct fsc__data_hdr *d;
  uint64_t need;
  int64_t timeout_ms;
  uint64_t key;
};

/* Whether job j has a step to take: cap below its need, raised to
 * GROW_JOB_AHEAD past cap when the tail is past cap's mark (an appender
 * crossed it while this job ran, or while it read an older capacity, and
 * started no job). */
static bool gjob_more(struct gjob *j) {
  uint64_t cap = ck_pr_load_64(&j->d->cap);
  if (ck_pr_load_64(&j->d->tail) >= fsc__grow_mark(cap) &&
      j->need < cap + GROW_JOB_AHEAD)
    j->need = cap + GROW_JOB_AHEAD;
  return cap < j->need;
}

static void *gjob_run(void *arg) {
  struct gjob *j = arg;
  uint64_t ahead = 0;
  unsigned steps = 0;
  bool ok = true;
  /* One step (FSC__ZERO_STEP) at a time, each published as soon as it is
   * zeroed and the lock dropped between them (an appender that needs the
   * space waits for one step at most), while gjob_more (at most
   * GROW_JOB_STEPS).  Then the claim goes, and gjob_more is asked again:
   * a mark crossed between the last look and the release started no job
   * (the claim was there), so this one takes it on, claimed again (if
   * another appender claimed meanwhile, its job does). */
  for (;;) {
    while (ok && steps < GROW_JOB_STEPS && gjob_more(j)) {
      uint64_t cap = ck_pr_load_64(&j->d->cap);
      if (fsc__ofd_lock_timed(j->fd, FSC__GROW_LOCK_OFF, j->timeout_ms,
                              "the data file") != 0) {
        ok = false;
        break;
      }
      int rc = grow_zeroed_locked(j->d, j->fd, "the data file", cap + 1,
                                  &ahead);
      fsc__ofd_unlock(j->fd, FSC__GROW_LOCK_OFF);
      steps++;
      ok = rc >= 0 && ck_pr_load_64(&j->d->cap) > cap;
    }
    if (!j->key)
      break;
    /* Release, then look (a full barrier between the store and the
     * loads, against the appender's claim-after-reservation: one of the
     * two sees the other). */
    ck_pr_cas_64(gjob_slot(j->key), j->key, 0);
    ck_pr_fence_memory();
    if (!ok || steps >= GROW_JOB_STEPS || !gjob_more(j) ||
        !ck_pr_cas_64(gjob_slot(j->key), 0, j->key))
      break;
  }
  /* The step after, allocated ahead here (past the end: KEEP_SIZE), as
   * fsc__file_prealloc would from the appender. */
  if (ahead) {
    uint64_t n = fsc__file_grow_size(ahead, ahead) - ahead;
    while (fallocate(j->fd, FALLOC_FL_KEEP_SIZE, (off_t)ahead, (off_t)n) !=
               0 &&
           errno == EINTR)
      ;
  }
  fsc__err_clear(); /* (a failure is the appender's to meet and report) */
  munmap(j->d, FSC__HDR_SIZE);
  int fd = j->fd;
  free(j);
  fsc__bg_end(fd);
  return NULL;
}

/* Start a job raising cap to need: false if none could be started. */
static bool gjob_start(struct fsc__gen *c, uint64_t need) {
  struct fsc__file *f = &c->data;
  /* This generation's claim (a full barrier after the tail's CAS that
   * crossed the mark, before the load of the slot: the job releasing
   * sees that tail, or this appender its release). */
  uint64_t key = (uint64_t)(uintptr_t)c;
  pthread_once(&gjob_once, gjob_init);
  ck_pr_fence_memory();
  if (ck_pr_load_64(gjob_slot(key)) == key)
    return true; /* its job goes on (gjob_more) */
  if (!ck_pr_cas_64(gjob_slot(key), 0, key))
    key = 0; /* (another generation's: unclaimed) */
  struct gjob *j = malloc(sizeof *j);
  if (!j)
    goto fail;
  /* A new open file description, made under mu (a retired generation
   * closes f->fd): not a dup, whose description (the handle's) a child
   * forked meanwhile would share; the job's own a child closes
   * (prealloc.c, fsc__bg_start). */
  int fd = -1;
  pthread_mutex_lock(&f->mu);
  if (f->fd >= 0) {
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", f->fd);
    fd = open(p, O_RDWR | O_CLOEXEC);
  }
  pthread_mutex_unlock(&f->mu);
  void *m = fd < 0 ? MAP_FAILED
                   : mmap(NULL, FSC__HDR_SIZE, PROT_READ | PROT_WRITE,
                          MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) {
    if (fd >= 0)
      close(fd);
    free(j);
    goto fail;
  }
  j->fd = fd;
  j->d = m;
  j->need = need;
  j->timeout_ms = c->opts.lock_timeout_ms;
  j->key = key;
  if (fsc__bg_start(gjob_run, j, fd) != 0) {
    munmap(m, FSC__HDR_SIZE);
    close(fd);
    free(j);
    goto fail;
  }
  return true;
fail:
  if (key)
    ck_pr_cas_64(gjob_slot(key), key, 0);
  return false;
}

int fsc__data_grow_ahead(struct fsc__gen *c, uint64_t cap) {
  if (c->zgrow && cap >= GROW_JOB_MIN && gjob_start(c, cap + GROW_JOB_AHEAD))
    return 0;
  return fsc__data_grow(c, cap + 1);
}
