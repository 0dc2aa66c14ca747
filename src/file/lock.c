/*
 * lock.c - owns the structure lock and what fork() does to it.
 *
 * The structure lock is two halves taken in order: the handle's pthread
 * mutex (flock is per open file description, so threads sharing one handle
 * would otherwise all "hold" it at once), then flock(LOCK_EX) on the index
 * file.  The kernel releases flock when a holder dies, so a lock can never
 * be stale; the next holder finds any half-done change (a frozen length
 * word) and finishes it (list_struct.c).
 *
 * The presence lock is flock(LOCK_SH) on the data file, held by every open
 * handle for its whole life through a descriptor of its own that is never
 * mapped (c->pfd); it tells the first opener and the last closer apart
 * (coll.c).
 *
 * The growth lock of a data file of version 3 (grow.c) is an OFD lock
 * on one byte of the data file (fsc__ofd_lock_timed): like flock, per
 * open file description and released by the kernel when its holder dies.
 *
 * Every wait for a flock is bounded by the handle's lock_timeout_ms
 * (fsc__flock_timed): anyone who can open a collection file can flock it,
 * so a lock held forever by another user must not hang us forever.  An
 * uncontended lock costs one flock(2) call (LOCK_NB first).
 *
 * fork(): a child shares its parent's open file descriptions, hence their
 * flocks.  Before its first lock or close, the child reopens both files
 * (fsc__lock_reopen: by path when the path still names them, else
 * through /proc/self/fd, which works for unlinked temporary files too),
 * takes its own presence lock, and drops its references to the parent's
 * descriptions without unlocking them.
 *
 * The wait of a writer that met a frozen length or table word
 * (fsc__frozen_wait) is here too: both structures' writers spin on it
 * before they take the lock (list_struct.c, hash.c).
 */
#include "internal.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define FROZEN_SPINS 4096
#define FROZEN_WAIT_NS 2000000 /* 2 ms */

static int flock_retry(int fd, int op) {
  while (flock(fd, op) != 0) {
    if (errno != EINTR)
      return -1;
  }
  return 0;
}

FSC__OPEN_PATH
void fsc__flock_unlock(int fd) { flock_retry(fd, LOCK_UN); }

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The pid /proc/locks names as holding a flock on fd's file; 0: unknown. */
static long lock_holder(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0)
    return 0;
  char want[96];
  snprintf(want, sizeof want, "%02x:%02x:%llu", major(st.st_dev),
           minor(st.st_dev), (unsigned long long)st.st_ino);
  FILE *fp = fopen("/proc/locks", "re");
  if (!fp)
    return 0;
  char line[256];
  long pid = 0;
  while (!pid && fgets(line, sizeof line, fp)) {
    /* "12: FLOCK  ADVISORY  WRITE 4242 08:01:1234 0 EOF" (waiters: "->") */
    if (strstr(line, "->") || !strstr(line, "FLOCK") || !strstr(line, want))
      continue;
    char *save = NULL, *tok = strtok_r(line, " \t\n", &save);
    for (int i = 0; tok && i < 4; i++)
      tok = strtok_r(NULL, " \t\n", &save);
    if (tok)
      pid = strtol(tok, NULL, 10);
  }
  fclose(fp);
  return pid > 0 ? pid : 0;
}

/* One attempt at a lock that does not wait: 0 taken, 1 held by another
 * description, -1 an error (errno). */
typedef int (*try_fn)(int fd, int arg);

static int try_flock(int fd, int op) {
  if (flock(fd, op | LOCK_NB) == 0)
    return 0;
  return errno == EWOULDBLOCK || errno == EINTR ? 1 : -1;
}

/* An OFD write lock on byte `off` of fd's file (fcntl(2), F_OFD_SETLK):
 * per open file description like flock, released by the kernel when the
 * last descriptor of it closes (a killed holder too), and independent of
 * the flocks on the same file. */
static int try_ofd(int fd, int off) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = off;
  fl.l_len = 1;
  if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
    return 0;
  return errno == EAGAIN || errno == EACCES || errno == EINTR ? 1 : -1;
}

/* Try, then spin a little and sleep with a backoff capped at max_ns,
 * until the lock is taken (0), the deadline passes (1), *word (when not
 * NULL) reaches want (2), or an error (-1). */
static int wait_until(try_fn try, int fd, int arg, int64_t timeout_ms,
                      const uint64_t *word, uint64_t want, long max_ns) {
  int r = try(fd, arg);
  if (r <= 0)
    return r; /* the common case: one call */
  int64_t deadline = now_ns() + (timeout_ms < 0 ? 0 : timeout_ms) * 1000000;
  long sleep_ns = 1000;
  for (int i = 0;; i++) {
    /* (acquire: what the word publishes is then visible) */
    if (word && ck_pr_load_64(word) >= want) {
      ck_pr_fence_load();
      return 2;
    }
    if (i < 16)
      sched_yield(); /* a short spin: most holders are done in microseconds */
    else {
      struct timespec ts = {0, sleep_ns};
      nanosleep(&ts, NULL);
      if (sleep_ns < max_ns)
        sleep_ns *= 2; /* exponential backoff, capped */
      if (sleep_ns > max_ns)
        sleep_ns = max_ns;
    }
    if ((r = try(fd, arg)) <= 0)
      return r;
    if (timeout_ms >= 0 && now_ns() >= deadline)
      return 1;
  }
}

static int wait_timed(try_fn try, int fd, int arg, int64_t timeout_ms) {
  return wait_until(try, fd, arg, timeout_ms, NULL, 0, 1000000);
}

FSC__OPEN_PATH
int fsc__flock_timed(int fd, int op, int64_t timeout_ms, const char *path) {
  if (flock(fd, op | LOCK_NB) == 0)
    return 0; /* the common case: one call */
  if (errno != EWOULDBLOCK && errno != EINTR)
    return fsc__err_errno(errno, "flock", path);
  if (timeout_ms < 0) { /* FSC_LOCK_WAIT_FOREVER */
    if (flock_retry(fd, op) != 0)
      return fsc__err_errno(errno, "flock", path);
    return 0;
  }
  int r = wait_timed(try_flock, fd, op, timeout_ms);
  if (r < 0)
    return fsc__err_errno(errno, "flock", path);
  if (r == 0)
    return 0;
  long pid = lock_holder(fd);
  if (pid)
    return fsc__err(FSC_ETIMEDOUT, "timed out after %lld ms waiting for the "
                    "lock on %s, held by pid %ld (lock_timeout_ms)",
                    (long long)timeout_ms, path ? path : "(file)", pid);
  return fsc__err(FSC_ETIMEDOUT, "timed out after %lld ms waiting for the "
                  "lock on %s (lock_timeout_ms)", (long long)timeout_ms,
                  path ? path : "(file)");
}

static int ofd_lock_wait(int fd, int off, int64_t timeout_ms,
                         const char *path, const uint64_t *word,
                         uint64_t want) {
  /* Watching a word, the backoff stops at 100 us: the word is what the
   * waiter waits for, the lock only a way to make it true itself. */
  int r = wait_until(try_ofd, fd, off, timeout_ms, word, want,
                     word ? 100000 : 1000000);
  if (r < 0)
    return fsc__err_errno(errno, "fcntl(F_OFD_SETLK)", path);
  if (r == 0 || r == 2)
    return r == 2;
  return fsc__err(FSC_ETIMEDOUT, "timed out after %lld ms waiting for the "
                  "growth lock of %s (lock_timeout_ms)",
                  (long long)timeout_ms, path ? path : "(file)");
}

int fsc__ofd_lock_timed(int fd, int off, int64_t timeout_ms,
                        const char *path) {
  return ofd_lock_wait(fd, off, timeout_ms, path, NULL, 0);
}

int fsc__ofd_lock_or_word(int fd, int off, int64_t timeout_ms,
                          const char *path, const uint64_t *word,
                          uint64_t want) {
  return ofd_lock_wait(fd, off, timeout_ms, path, word, want);
}

void fsc__ofd_unlock(int fd, int off) {
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_UNLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = off;
  fl.l_len = 1;
  while (fcntl(fd, F_OFD_SETLK, &fl) != 0 && errno == EINTR)
    ;
}

FSC__OPEN_PATH
int fsc__lock_reopen(int fd, const struct stat *st, const char *path,
                     int flags) {
  /* By path first: opening /proc/self/fd/N costs a new process the
   * instantiation of its /proc/<pid> entries (tens of microseconds, most
   * of a first open), a path lookup a few.  It must still name fd's file
   * (same device and inode): a collection compacted away meanwhile, a
   * temporary one (unlinked), or a file a user put in its place is
   * reached through /proc/self/fd, which names the file itself. */
  if (path) {
    int nfd = open(path, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (nfd >= 0) {
      struct stat a, b;
      if (!st && fstat(fd, &b) == 0)
        st = &b;
      if (st && fstat(nfd, &a) == 0 && a.st_ino == st->st_ino &&
          a.st_dev == st->st_dev)
        return nfd;
      close(nfd);
    }
  }
  char p[64];
  snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
  return open(p, flags | O_CLOEXEC);
}

int fsc__lock_presence_refork(struct fsc__gen *c) {
  int pfd = fsc__lock_reopen(c->pfd, NULL, c->data_path, O_RDONLY);
  if (pfd < 0)
    return fsc__err_errno(errno, "reopening the data file", c->data_path);
  int rc = fsc__flock_timed(pfd, LOCK_SH, c->opts.lock_timeout_ms,
                            c->data_path);
  if (rc != 0) {
    close(pfd);
    return rc;
  }
  /* Closing the old description drops its lock unless a child that
   * inherited it still holds it open: then the child is present. */
  close(c->pfd);
  c->pfd = pfd;
  return 0;
}

int fsc__lock_refork(struct fsc__gen *c) {
  int flags = c->rdonly ? O_RDONLY : O_RDWR;
  int ifd = fsc__lock_reopen(c->index.fd, NULL, c->index_path, flags);
  if (ifd < 0)
    return fsc__err_errno(errno, "reopening the index file after fork",
                          c->index_path);
  int dfd = fsc__lock_reopen(c->data.fd, NULL, c->data_path, flags);
  if (dfd < 0) {
    int e = errno;
    close(ifd);
    return fsc__err_errno(e, "reopening the data file after fork",
                          c->data_path);
  }
  int rc = fsc__lock_presence_refork(c);
  if (rc != 0) {
    close(ifd);
    close(dfd);
    return rc;
  }
  /* close(2) of the inherited descriptors does not release the parent's
   * locks: the parent still references those open file descriptions. */
  close(c->index.fd);
  close(c->data.fd);
  c->index.fd = ifd;
  c->data.fd = dfd;
  c->owner = getpid();
  /* This process now uses the handle as a writer of its own: count it as
   * an opener, as its close will count a closer (coll.c, `writers`). */
  if (!c->rdonly)
    ck_pr_add_64(&fsc__ihdr(c)->writers, 1);
  return 0;
}

/* The lock just taken (mutex and flock): a generation compacted away
 * stays frozen for good, the caller must move to the new files
 * (FSC__EMOVED); MOVING under a lock we hold means the compaction's
 * process died: finish or undo it.  On an error the lock is dropped. */
static int lock_taken(struct fsc__gen *c) {
  uint64_t cs = ck_pr_load_64(&fsc__ihdr(c)->cstate);
  if (__builtin_expect(cs != 0, 0)) {
    int rc = (cs & FSC__CS_MOVING) ? fsc__switch_resolve(c) : FSC__EMOVED;
    if (rc != 0) {
      fsc__unlock(c);
      return rc;
    }
  }
  return 0;
}

int fsc__lock(struct fsc__gen *c) {
  pthread_mutex_lock(&c->mu);
  /* A retired generation whose descriptors are closed (handle.c closes
   * them holding this mutex, so the check cannot race the close). */
  if (__builtin_expect(c->index.fd < 0, 0)) {
    pthread_mutex_unlock(&c->mu);
    return FSC__EMOVED;
  }
  if (c->owner != getpid()) {
    int rc = fsc__lock_refork(c);
    if (rc != 0) {
      pthread_mutex_unlock(&c->mu);
      return rc;
    }
  }
  int lrc = fsc__flock_timed(c->index.fd, LOCK_EX, c->opts.lock_timeout_ms,
                             c->index_path);
  if (lrc != 0) {
    pthread_mutex_unlock(&c->mu);
    return lrc;
  }
  return lock_taken(c);
}

int fsc__lock_try(struct fsc__gen *c) {
  if (pthread_mutex_trylock(&c->mu) != 0)
    return 1; /* another thread of ours holds it */
  if (__builtin_expect(c->index.fd < 0, 0)) {
    pthread_mutex_unlock(&c->mu);
    return FSC__EMOVED;
  }
  if (c->owner != getpid()) {
    int rc = fsc__lock_refork(c);
    if (rc != 0) {
      pthread_mutex_unlock(&c->mu);
      return rc;
    }
  }
  if (flock(c->index.fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    pthread_mutex_unlock(&c->mu);
    if (e == EWOULDBLOCK || e == EINTR)
      return 1; /* another process holds it */
    return fsc__err_errno(e, "flock", c->index_path);
  }
  return lock_taken(c);
}

void fsc__unlock(struct fsc__gen *c) {
  fsc__flock_unlock(c->index.fd);
  pthread_mutex_unlock(&c->mu);
}

/* One pass over /proc/locks: how many flock holders of `want` (dev:ino). */
static int count_pass(const char *want, uint32_t *out) {
  FILE *fp = fopen("/proc/locks", "re");
  if (!fp)
    return -1;
  char line[256];
  uint32_t n = 0;
  while (fgets(line, sizeof line, fp)) {
    /* "12: FLOCK  ADVISORY  READ  4242 08:01:1234 0 EOF"; lines of waiters
     * contain "->" and do not hold the lock. */
    if (strstr(line, "->") || !strstr(line, "FLOCK"))
      continue;
    char *save = NULL; /* strtok_r: metrics may run in many threads */
    for (char *tok = strtok_r(line, " \t\n", &save); tok;
         tok = strtok_r(NULL, " \t\n", &save)) {
      if (strcmp(tok, want) == 0) {
        n++;
        break;
      }
    }
  }
  fclose(fp);
  *out = n;
  return 0;
}

uint32_t fsc__lock_count_holders(struct fsc__gen *c) {
  struct stat st;
  if (fsc__file_stat(&c->data, &st) != 0)
    return 1;
  char want[96];
  snprintf(want, sizeof want, "%02x:%02x:%llu", major(st.st_dev),
           minor(st.st_dev), (unsigned long long)st.st_ino);
  /* /proc/locks is produced a page per read(2): when other processes take
   * or drop locks meanwhile, one pass can see an entry twice or miss one.
   * Take three passes in a row that agree (a few tries, then the most
   * recent count). */
  uint32_t n = 0, prev = UINT32_MAX;
  int same = 0;
  for (int i = 0; i < 12 && same < 2; i++) {
    if (count_pass(want, &n) != 0)
      return 1;
    same = n == prev ? same + 1 : 0;
    prev = n;
  }
  return n ? n : 1;
}

int fsc__frozen_wait(struct fsc__gen *c) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  int64_t start = 0;
  for (int i = 0; i < FROZEN_SPINS; i++) {
    if (!(ck_pr_load_64(&ih->lenword) & FSC__LW_FROZEN))
      return 0;
    if (fsc__gen_moved(c))
      return FSC__EMOVED;
    if (i < 64) {
      ck_pr_stall();
      continue;
    }
    /* Bounded in time too: on a loaded machine a yield can hand the CPU
     * away for a whole time slice, and 4096 of them took seconds.  After
     * FROZEN_WAIT_NS the caller goes to the lock (which waits for a live
     * changer, or finishes a dead one's change). */
    if ((i & 63) == 0) {
      int64_t t = now_ns();
      if (!start)
        start = t;
      else if (t - start > FROZEN_WAIT_NS)
        return 1;
    }
    sched_yield();
  }
  return 1;
}
