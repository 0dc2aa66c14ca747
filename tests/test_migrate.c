/*
 * test_migrate.c - growth of the dict/set index by an incremental
 * migration (doc/CONCURRENCY.md, "Growth by migration"), switched on for
 * this program with FSC_GROW_MIGRATE=1:
 *
 *  - one process grows a dict from 64 slots to a million keys; at random
 *    points where a migration is in progress (the active table's
 *    KS_HW_MIG, read from the file) every key written so far is read;
 *  - a reader process and two writer processes race the migrations
 *    (inserts, overwrites, deletes): every key the reader knows present
 *    is found, and at the end every key holds its last value, len exact;
 *  - two writer processes insert the same keys at once, through
 *    migrations (a writer with a view from before a start must not land a
 *    key in the old table that the other put in the new one): no key
 *    twice, len exact;
 *  - a mover killed in the middle of a step (FSC_TEST_MIGRATE_DIE, the
 *    library's test hook) leaves a migration that the next writer
 *    finishes (its overwrite of a frozen slot redoes the step), and that
 *    the next open finishes (recovery): every acknowledged key is there;
 *    and one killed in a start's window (sealed, word still frozen),
 *    whose orphan the next writer's rebuild finishes;
 *  - delete, overwrite and re-insert of keys not moved yet and moved;
 *    verify mid-migration (read-only handle: the migration is valid) and
 *    after (a writable handle's verify finishes it);
 *  - compaction and clear in the middle of a migration;
 *  - a file as an earlier build leaves it (grown by the stop-the-world
 *    rebuild, the new header words zero) opens and grows by migrations;
 *  - every growth of a single writer copies into the region prepared
 *    ahead (kprep) while the table filled past 5/8;
 *  - preparing writes zeros over its chunks (through the file): a kprep
 *    damaged to name the live table has nothing written (not a chunk
 *    claimed, every key kept); a writer killed in the middle of a chunk
 *    (FSC_TEST_PREP_DIE, with the lock held) leaves a region the next
 *    writer finishes and the growth uses;
 *  - a cache-bounded dict growing;
 *  - threads sharing one handle insert and delete through migrations
 *    (the structure lock is then mostly taken by another thread's step:
 *    inserts go on into the new table, which must keep room for the keys
 *    not moved yet);
 *  - a workload without inserts ends a migration: only overwrites, only
 *    deletes, only inserts a cache's admission refuses, each within a
 *    step (64 old slots) a call, every key then as last written;
 *  - closes in the middle of a migration: the last close, and a close
 *    while another process goes on writing: every key after a reopen.
 *
 * One case: CK_RUN_CASE='case name'.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "check_common.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

/* The index header's words the tests reach (doc/FORMAT.md). */
#define I_LENWORD 64
#define I_DESC(b) (72 + 24 * (b))
#define LW_BUF(w) ((unsigned)(((w) >> 62) & 1u))
#define HW_MIG (UINT64_C(1) << 62)
#define HW_HASHW (UINT64_C(1) << 63)
#define I_KMIG 288
#define I_KCOUNT_EP 296
#define I_KPREP(i) (304 + 8 * (i))

static const char *fpath(const char *base, const char *which) {
  static char buf[1024];
  snprintf(buf, sizeof buf, "%.900s.%.5s.fscollection", base, which);
  return buf;
}

static uint64_t peek64(const char *p, off_t off) {
  uint64_t v = 0;
  int fd = open(p, O_RDONLY);
  ck_assert_msg(fd >= 0, "open %s: %s", p, strerror(errno));
  ck_assert_int_eq(pread(fd, &v, 8, off), 8);
  close(fd);
  return v;
}

/* Is a migration in progress (the active table's hw has KS_HW_MIG)? */
static bool migrating(const char *base) {
  /* One read of the header's first 512 bytes (tests call this after
   * every put). */
  const char *ip = fpath(base, "index");
  uint64_t h[64];
  int fd = open(ip, O_RDONLY);
  ck_assert_msg(fd >= 0, "open %s: %s", ip, strerror(errno));
  ck_assert_int_eq(pread(fd, h, sizeof h, 0), (ssize_t)sizeof h);
  close(fd);
  uint64_t w = h[I_LENWORD / 8];
  return (h[(I_DESC(LW_BUF(w)) + 16) / 8] & HW_MIG) != 0;
}
static uint64_t table_cap(const char *base) {
  const char *ip = fpath(base, "index");
  return peek64(ip, I_DESC(LW_BUF(peek64(ip, I_LENWORD))) + 8);
}

static fsc_dict *dict_open(const char *base, unsigned flags) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  if (flags & FSC_RDONLY)
    o.flags &= ~FSC_CREATE;
  o.flags |= flags;
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(base, &o, &d));
  return d;
}

static int iput(fsc_dict *d, long k, int64_t v) {
  char kb[32];
  int n = snprintf(kb, sizeof kb, "k%ld", k);
  fsc_value x = fsc_i64(v);
  return fsc_dict_set(d, kb, (size_t)n, &x);
}
static int iget(fsc_dict *d, long k, int64_t *v) {
  char kb[32];
  int n = snprintf(kb, sizeof kb, "k%ld", k);
  fsc_value x;
  int rc = fsc_dict_get(d, kb, (size_t)n, &x);
  if (rc == 0) {
    if (x.type != FSC_TYPE_INT64)
      return -1000;
    *v = x.u.i64;
  }
  return rc;
}
static int idel(fsc_dict *d, long k) {
  char kb[32];
  int n = snprintf(kb, sizeof kb, "k%ld", k);
  return fsc_dict_del(d, kb, (size_t)n);
}

static void ck_val(fsc_dict *d, long k, int64_t want) {
  int64_t v = 0;
  int rc = iget(d, k, &v);
  ck_assert_msg(rc == 0, "key k%ld: get returned %d (%s)", k, rc,
                fsc_errmsg());
  ck_assert_msg(v == want, "key k%ld: value %lld, want %lld", k,
                (long long)v, (long long)want);
}
static void ck_gone(fsc_dict *d, long k) {
  int64_t v;
  ck_fsc(iget(d, k, &v), FSC_EKEY);
}
static void ck_len(fsc_dict *d, uint64_t n) {
  uint64_t len;
  ck_ok(fsc_dict_len(d, &len));
  ck_assert_uint_eq(len, n);
}
static void ck_healthy(fsc_dict *d, uint64_t n) {
  fsc_verify_report r;
  memset(&r, 0, sizeof r);
  r.size = sizeof r;
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_assert_msg(r.healthy, "verify: not healthy");
  ck_assert_uint_eq(r.length, n);
}

/* Fill d (keys from..to-1, value = key) until a migration is in progress
 * after key `at` at least: the key it stopped after (below to). */
static long fill_until_migrating(fsc_dict *d, const char *base, long from,
                                 long at, long to) {
  for (long i = from; i < to; i++) {
    ck_ok(iput(d, i, i));
    if (i >= at && migrating(base))
      return i + 1;
  }
  ck_abort_msg("no migration in progress after %ld keys", to);
  return to;
}

/* ------------------------------------------------------------------ */

START_TEST(test_mig_single) {
  const char *base = tc_path("single");
  fsc_dict *d = dict_open(base, 0);
  const long n = 1L << 20;
  unsigned seed = (unsigned)time(NULL);
  fprintf(stderr, "test_mig_single: seed %u\n", seed);
  srand(seed);
  int checks = 0;
  long next_check = 1000 + rand() % 4000;
  for (long i = 0; i < n; i++) {
    ck_ok(iput(d, i, i));
    /* (A migration lasts a table's slots / 256 inserts, 8 or more here:
     * look every 4th.) */
    if (i < next_check || i % 4 != 0 || !migrating(base))
      continue;
    /* In the middle of a migration: every key written so far. */
    for (long j = 0; j <= i; j++)
      ck_val(d, j, j);
    ck_gone(d, i + 1);
    ck_len(d, (uint64_t)i + 1);
    checks++;
    next_check = i + 1 + (long)(rand() % (int)(i + 1)) / 2;
  }
  ck_assert_int_ge(checks, 5);
  ck_assert_uint_ge(table_cap(base), 2 * (uint64_t)n);
  for (long j = 0; j < n; j++)
    ck_val(d, j, j);
  ck_len(d, (uint64_t)n);
  ck_healthy(d, (uint64_t)n);
  ck_assert(!migrating(base)); /* (the verify finished the last one) */
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* ------------------------------------------------------------------ */
/* A reader and two writers race the migrations                        */
/* ------------------------------------------------------------------ */

#define MP_N 150000L /* keys a writer inserts */

/* Writer w's sequence (keys w * MP_N + j): insert j (value j); at every
 * third, overwrite key i / 2 (value + 10 * MP_N) unless it is a multiple
 * of 7; at every seventh, delete key i - 7 (a multiple of 7).  The
 * parent replays it to know the end state. */
static void mp_seq(long i, long *ow, long *del) {
  *ow = (i % 3 == 0 && (i / 2) % 7 != 0) ? i / 2 : -1;
  *del = (i % 7 == 0 && i >= 7) ? i - 7 : -1;
}

static void mp_writer(const char *base, int w, volatile long *done) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  fsc_dict *d = NULL;
  if (fsc_dict_open(base, &o, &d) != 0)
    _exit(10);
  long b = w * MP_N;
  for (long i = 0; i < MP_N; i++) {
    long ow, del;
    mp_seq(i, &ow, &del);
    if (iput(d, b + i, i) != 0)
      _exit(11);
    if (ow >= 0 && iput(d, b + ow, ow + 10 * MP_N) != 0)
      _exit(12);
    if (del >= 0 && idel(d, b + del) != 0)
      _exit(13);
    __atomic_store_n(&done[w], i + 1, __ATOMIC_RELEASE);
  }
  _exit(fsc_dict_close(d) == 0 ? 0 : 14);
}

static void mp_reader(const char *base, volatile long *done) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  o.flags = (o.flags & ~FSC_CREATE) | FSC_RDONLY;
  fsc_dict *d = NULL;
  if (fsc_dict_open(base, &o, &d) != 0)
    _exit(20);
  unsigned r = 12345;
  long reads = 0;
  for (;;) {
    long a = __atomic_load_n(&done[0], __ATOMIC_ACQUIRE);
    long b = __atomic_load_n(&done[1], __ATOMIC_ACQUIRE);
    if (a == MP_N && b == MP_N)
      break;
    int w = (int)((r = r * 1103515245u + 12345u) >> 16) & 1;
    long lim = w ? b : a;
    if (lim < 8)
      continue;
    long j = (long)((r = r * 1103515245u + 12345u) >> 8) % lim;
    if (j % 7 == 0)
      continue; /* (deleted, or about to be) */
    int64_t v = 0;
    int rc = iget(d, w * MP_N + j, &v);
    if (rc != 0 || (v != j && v != j + 10 * MP_N)) {
      fprintf(stderr, "reader: k%ld: rc %d value %lld\n", w * MP_N + j, rc,
              (long long)v);
      _exit(21);
    }
    reads++;
  }
  _exit(reads > 1000 ? 0 : 22);
}

START_TEST(test_mig_mp) {
  const char *base = strdup(tc_path("mp"));
  volatile long *done = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ck_assert(done != MAP_FAILED);
  fsc_dict *d = dict_open(base, 0); /* created, 64 slots */
  pid_t p[3];
  for (int i = 0; i < 3; i++) {
    p[i] = fork();
    ck_assert_int_ge(p[i], 0);
    if (p[i] == 0) {
      if (i < 2)
        mp_writer(base, i, done);
      mp_reader(base, done);
    }
  }
  /* (The race must meet migrations: count the times one is seen.) */
  int mids = 0;
  while (__atomic_load_n(&done[0], __ATOMIC_ACQUIRE) < MP_N ||
         __atomic_load_n(&done[1], __ATOMIC_ACQUIRE) < MP_N) {
    mids += migrating(base);
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        si.si_pid != 0 && (si.si_code != CLD_EXITED || si.si_status != 0))
      break; /* one failed: its status is told below */
  }
  ck_assert_int_gt(mids, 0);
  for (int i = 0; i < 3; i++) {
    int st;
    ck_assert_int_eq(waitpid(p[i], &st, 0), p[i]);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "process %d ended with status %#x", i, st);
  }
  uint64_t live = 0;
  for (int w = 0; w < 2; w++) {
    static int64_t val[MP_N];
    for (long i = 0; i < MP_N; i++) {
      long ow, del;
      mp_seq(i, &ow, &del);
      val[i] = i;
      if (ow >= 0)
        val[ow] = ow + 10 * MP_N;
      if (del >= 0)
        val[del] = -1;
    }
    for (long i = 0; i < MP_N; i++) {
      if (val[i] < 0) {
        ck_gone(d, w * MP_N + i);
      } else {
        ck_val(d, w * MP_N + i, val[i]);
        live++;
      }
    }
  }
  ck_len(d, live);
  ck_healthy(d, live);
  munmap((void *)done, 4096);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  free((void *)base);
}
END_TEST

/* Both writers insert keys 0..SAME_N-1 in the same order, and delete and
 * insert again every tenth one. */
#define SAME_N 200000L
static void same_writer(const char *base, int w) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  fsc_dict *d = NULL;
  if (fsc_dict_open(base, &o, &d) != 0)
    _exit(10);
  for (long i = 0; i < SAME_N; i++) {
    if (iput(d, i, i) != 0)
      _exit(11);
    if (i % 10 == 5) {
      int rc = idel(d, i - 5);
      if (rc != 0 && rc != FSC_EKEY)
        _exit(12);
      if (iput(d, i - 5, i - 5) != 0)
        _exit(13);
    }
  }
  (void)w;
  _exit(fsc_dict_close(d) == 0 ? 0 : 14);
}

START_TEST(test_mig_same_keys) {
  const char *base = strdup(tc_path("same"));
  fsc_dict *d = dict_open(base, 0);
  pid_t p[2];
  for (int i = 0; i < 2; i++) {
    p[i] = fork();
    ck_assert_int_ge(p[i], 0);
    if (p[i] == 0)
      same_writer(base, i);
  }
  for (int i = 0; i < 2; i++) {
    int st;
    ck_assert_int_eq(waitpid(p[i], &st, 0), p[i]);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "writer %d ended with status %#x", i, st);
  }
  for (long i = 0; i < SAME_N; i++)
    ck_val(d, i, i);
  ck_len(d, (uint64_t)SAME_N);
  ck_healthy(d, (uint64_t)SAME_N); /* (a key in two slots is reported) */
  /* Deleting every key leaves none behind (a second copy would stay). */
  for (long i = 0; i < SAME_N; i++)
    ck_ok(idel(d, i));
  for (long i = 0; i < SAME_N; i++)
    ck_gone(d, i);
  ck_len(d, 0);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  free((void *)base);
}
END_TEST

/* ------------------------------------------------------------------ */
/* A mover killed in the middle of a step                              */
/* ------------------------------------------------------------------ */

/* The child fills keys from `from` on (value = key), acknowledging each in
 * *acked, and is killed by the hook in the middle of its step `step`. */
static void kill_child(const char *base, long from, int step,
                       volatile long *acked) {
  char s[16];
  snprintf(s, sizeof s, "%d", step);
  if (step > 0)
    setenv("FSC_TEST_MIGRATE_DIE", s, 1);
  else /* at a start: after its seal, the word still frozen */
    setenv("FSC_TEST_MIGRATE_DIE_START", "1", 1);
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  fsc_dict *d = NULL;
  if (fsc_dict_open(base, &o, &d) != 0)
    _exit(10);
  for (long i = from;; i++) {
    if (iput(d, i, i) != 0)
      _exit(11);
    __atomic_store_n(acked, i, __ATOMIC_RELEASE);
  }
}

/* Kill a mover mid-step (at_start: a starter between its seal and its
 * word); *acked: the last key it acknowledged. */
static void kill_mover(const char *base, long from, volatile long *acked,
                       bool at_start) {
  int step = at_start ? 0 : 1 + rand() % 40;
  *acked = from - 1;
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0)
    kill_child(base, from, step, acked);
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
                "the mover ended with status %#x, not killed", st);
  if (at_start) /* the word left frozen */
    ck_assert(peek64(fpath(base, "index"), I_LENWORD) >> 63);
  else
    ck_assert(migrating(base)); /* left in the middle */
}

START_TEST(test_mig_kill) {
  unsigned seed = (unsigned)time(NULL);
  fprintf(stderr, "test_mig_kill: seed %u\n", seed);
  srand(seed);
  volatile long *acked = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ck_assert(acked != MAP_FAILED);
  /* 1: this process stays open; after the kill its overwrites meet the
   * slots the mover froze (they wait, then redo the step) and its
   * inserts finish the migration. */
  const char *base = strdup(tc_path("kill1"));
  fsc_dict *d = dict_open(base, 0);
  for (long i = 0; i < 5000; i++)
    ck_ok(iput(d, i, i));
  for (int round = 0; round < 4; round++) {
    uint64_t len;
    ck_ok(fsc_dict_len(d, &len));
    long from = (long)len;
    kill_mover(base, from, acked, round == 3);
    long a = *acked;
    int64_t v;
    for (long i = 0; i <= a; i++)
      ck_val(d, i, i);
    int rc = iget(d, a + 1, &v); /* the put in flight may have landed */
    ck_assert(rc == 0 || rc == FSC_EKEY);
    long n = rc == 0 ? a + 2 : a + 1;
    ck_gone(d, n);
    /* One write (it meets the frozen slot or word the mover left and
     * finishes its work), then every key read before any is rewritten. */
    ck_ok(iput(d, n, n));
    n++;
    for (long i = 0; i < n; i++)
      ck_val(d, i, i);
    ck_ok(iput(d, 0, 1)); /* (key 0: moved early, or not yet) */
    for (long i = 0; i < n; i++)
      ck_val(d, i, i ? i : 1);
    ck_len(d, (uint64_t)n);
    for (long i = 0; i < n; i++)
      ck_ok(iput(d, i, i + 1)); /* overwrites */
    for (long i = 0; i < n; i++)
      ck_val(d, i, i + 1);
    for (long i = 0; i < n; i++)
      ck_ok(iput(d, i, i));
    for (long i = n; i < n + 30000; i++)
      ck_ok(iput(d, i, i));
    for (long i = 0; i < n + 30000; i++)
      ck_val(d, i, i);
    ck_len(d, (uint64_t)n + 30000);
  }
  /* The killed writers' puts in flight left records counted live that no
   * key names: the close after a writer died repairs that (as after any
   * killed writer), then the dict is healthy. */
  uint64_t len;
  ck_ok(fsc_dict_len(d, &len));
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  d = dict_open(base, 0);
  for (long i = 0; i < (long)len; i++)
    ck_val(d, i, i);
  ck_len(d, len);
  ck_healthy(d, len);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  free((void *)base);

  /* 2: nobody else has it open: the next open (unclean: recovery)
   * finishes the migration. */
  base = strdup(tc_path("kill2"));
  d = dict_open(base, 0);
  for (long i = 0; i < 3000; i++)
    ck_ok(iput(d, i, i));
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  kill_mover(base, 3000, acked, false);
  long a = *acked;
  d = dict_open(base, 0);
  ck_assert(!migrating(base));
  for (long i = 0; i <= a; i++)
    ck_val(d, i, i);
  int64_t v;
  int rc = iget(d, a + 1, &v);
  ck_assert(rc == 0 || rc == FSC_EKEY);
  ck_len(d, (uint64_t)(rc == 0 ? a + 2 : a + 1));
  ck_healthy(d, (uint64_t)(rc == 0 ? a + 2 : a + 1));
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  free((void *)base);
  munmap((void *)acked, 4096);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Writes and verify in the middle of a migration                      */
/* ------------------------------------------------------------------ */

START_TEST(test_mig_writes) {
  const char *base = tc_path("writes");
  fsc_dict *d = dict_open(base, 0);
  long n = fill_until_migrating(d, base, 0, 20000, 200000);
  ck_assert(migrating(base));
  /* Overwrites and deletes move the migration on too, when they find the
   * structure lock free: held here (flock of a descriptor of our own), so
   * that they leave it where it is and meet keys not moved yet and keys
   * moved. */
  int lfd = open(fpath(base, "index"), O_RDONLY);
  ck_assert_int_ge(lfd, 0);
  ck_assert_int_eq(flock(lfd, LOCK_EX), 0);
  for (long i = 0; i < n; i += 3)
    ck_ok(iput(d, i, -i)); /* overwrite */
  for (long i = 1; i < n; i += 3)
    ck_ok(idel(d, i)); /* delete */
  ck_assert(migrating(base));
  close(lfd);
  for (long i = 0; i < n; i++) {
    if (i % 3 == 1)
      ck_gone(d, i);
    else
      ck_val(d, i, i % 3 == 0 ? -i : i);
  }
  uint64_t live = (uint64_t)(n - (n + 1) / 3);
  ck_len(d, live);
  /* verify on a read-only handle: the migration is valid as it is */
  fsc_dict *r = dict_open(base, FSC_RDONLY);
  ck_healthy(r, live);
  ck_assert(migrating(base));
  ck_ok(fsc_dict_close(r));
  fsc_dict_free(r);
  /* re-insert the deleted keys (inserts: the migration moves on) */
  for (long i = 1; i < n; i += 3)
    ck_ok(iput(d, i, i + 7));
  for (long i = 0; i < n; i++)
    ck_val(d, i, i % 3 == 0 ? -i : i % 3 == 1 ? i + 7 : i);
  ck_len(d, (uint64_t)n);
  ck_healthy(d, (uint64_t)n); /* a writable handle's verify finishes it */
  ck_assert(!migrating(base));
  for (long i = 0; i < n; i++)
    ck_val(d, i, i % 3 == 0 ? -i : i % 3 == 1 ? i + 7 : i);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_mig_compact_clear) {
  const char *base = tc_path("cc");
  fsc_dict *d = dict_open(base, 0);
  long n = fill_until_migrating(d, base, 0, 20000, 200000);
  /* (The structure lock held meanwhile: the deletes leave the migration
   * in progress, see test_mig_writes.) */
  int lfd = open(fpath(base, "index"), O_RDONLY);
  ck_assert_int_ge(lfd, 0);
  ck_assert_int_eq(flock(lfd, LOCK_EX), 0);
  for (long i = 0; i < n; i += 2)
    ck_ok(idel(d, i));
  close(lfd);
  ck_assert(migrating(base));
  ck_ok(fsc_dict_compact(d));
  ck_assert(!migrating(base));
  for (long i = 0; i < n; i++) {
    if (i % 2 == 0)
      ck_gone(d, i);
    else
      ck_val(d, i, i);
  }
  ck_len(d, (uint64_t)(n / 2));
  ck_healthy(d, (uint64_t)(n / 2));
  /* again, then clear in the middle */
  long m = fill_until_migrating(d, base, n, n + 1000, n + 400000);
  ck_assert(migrating(base));
  ck_ok(fsc_dict_clear(d));
  ck_assert(!migrating(base));
  ck_len(d, 0);
  for (long i = 0; i < m; i += 97)
    ck_gone(d, i);
  /* The spare region left by the clear is larger than the tables the
   * refill grows through: they still migrate (into new space). */
  for (long i = 0; i < 5000; i++) {
    ck_ok(iput(d, i, i * 2));
    if (migrating(base))
      break;
    ck_assert_int_lt(i, 4999);
  }
  for (long i = 0; i < 5000; i++)
    ck_ok(iput(d, i, i * 2));
  for (long i = 0; i < 5000; i++)
    ck_val(d, i, i * 2);
  ck_len(d, 5000);
  ck_healthy(d, 5000);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_mig_cache) {
  const char *base = tc_path("cache");
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  o.cache_type = FSC_CACHE_LRU;
  o.cache_max_items = 20000;
  o.cache_admission = FSC_CACHE_ADMIT_OFF; /* (every new key admitted) */
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(base, &o, &d));
  int mids = 0;
  for (long i = 0; i < 100000; i++) {
    ck_ok(iput(d, i, i));
    if ((i & 63) == 0) {
      ck_val(d, i, i); /* (not evicted yet: it was just touched) */
      mids += migrating(base);
    }
  }
  ck_assert_int_gt(mids, 0);
  uint64_t len;
  ck_ok(fsc_dict_len(d, &len));
  ck_assert_uint_le(len, 20000);
  ck_assert_uint_gt(len, 10000);
  long found = 0;
  for (long i = 0; i < 100000; i++) {
    int64_t v = 0;
    int rc = iget(d, i, &v);
    ck_assert(rc == 0 || rc == FSC_EKEY);
    if (rc == 0) {
      ck_assert_int_eq(v, i);
      found++;
    }
  }
  ck_assert_uint_eq((uint64_t)found, len);
  ck_healthy(d, len);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* Bytes a slot of the active table of the index at ip takes: 16 with its
 * hash word (data file version 2), 8 (version 3: 8-byte slots). */
static uint64_t slot_bytes(const char *ip) {
  uint64_t w = peek64(ip, I_LENWORD);
  return (peek64(ip, I_DESC(LW_BUF(w)) + 16) & HW_HASHW) ? 16 : 8;
}

START_TEST(test_mig_prep) {
  const char *base = tc_path("prep");
  const char *ip = fpath(base, "index");
  fsc_dict *d = dict_open(base, 0);
  int starts = 0, prepared = 0;
  bool was = false, whole = false;
  uint64_t poff = 0;
  for (long i = 0; i < 60000; i++) {
    ck_ok(iput(d, i, i));
    bool now = migrating(base);
    if (now && !was) {
      starts++;
      uint64_t w = peek64(ip, I_LENWORD);
      prepared += whole && peek64(ip, I_DESC(LW_BUF(w))) == poff;
    }
    if (!now) {
      poff = peek64(ip, I_KPREP(0));
      whole = (peek64(ip, I_KPREP(3)) >> 63) &&
              peek64(ip, I_KPREP(2)) ==
                  peek64(ip, I_KPREP(1)) * slot_bytes(ip);
    }
    was = now;
  }
  ck_assert_int_ge(starts, 5);
  ck_assert_int_eq(prepared, starts);
  for (long i = 0; i < 60000; i++)
    ck_val(d, i, i);
  ck_healthy(d, 60000);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

static void poke64(const char *p, off_t off, uint64_t v) {
  int fd = open(p, O_RDWR);
  ck_assert_msg(fd >= 0, "open %s: %s", p, strerror(errno));
  ck_assert_int_eq(pwrite(fd, &v, 8, off), 8);
  close(fd);
}

/* Is the region prepared ahead for a table of at least `min` slots there
 * (kprep valid, for twice the active table), with some of its chunks done
 * but not all? */
static bool prep_partial(const char *base, uint64_t min) {
  const char *ip = fpath(base, "index");
  uint64_t cap = table_cap(base), pcap = peek64(ip, I_KPREP(1));
  uint64_t done = peek64(ip, I_KPREP(2));
  return cap >= min && !migrating(base) &&
         (peek64(ip, I_KPREP(3)) >> 63) && pcap == 2 * cap && done > 0 &&
         done < pcap * slot_bytes(ip);
}

/* Fill d (keys from on, value = key) until the region prepared ahead for
 * a table of at least 65536 slots (8 chunks of PREP_CHUNK, 128 KiB, or
 * more: src/struct/hash_migrate.c) is partly done (prep_partial): the key
 * it stopped after. */
static long fill_until_prep(fsc_dict *d, const char *base, long from) {
  for (long i = from; i < from + 200000; i++) {
    ck_ok(iput(d, i, i));
    if (prep_partial(base, 65536))
      return i + 1;
  }
  ck_abort_msg("no region partly prepared");
  return 0;
}

START_TEST(test_mig_prep_guard) {
  const char *base = tc_path("prep_guard");
  const char *ip = fpath(base, "index");
  fsc_dict *d = dict_open(base, 0);
  long n = fill_until_prep(d, base, 0);
  /* kprep damaged: its region is the live table (the epoch and capacity
   * still right), its chunks none done.  Writing zeros there would lose
   * the keys: nothing is written, not a chunk is claimed. */
  uint64_t w = peek64(ip, I_LENWORD);
  poke64(ip, I_KPREP(0), peek64(ip, I_DESC(LW_BUF(w))));
  poke64(ip, I_KPREP(2), 0);
  for (int k = 0; k < 64; k++, n++)
    ck_ok(iput(d, n, n));
  ck_assert(!migrating(base));
  ck_assert_uint_eq(peek64(ip, I_KPREP(2)), 0);
  for (long i = 0; i < n; i++)
    ck_val(d, i, i);
  /* The growth takes new space instead; every key through it. */
  long m = fill_until_migrating(d, base, n, n, n + 200000);
  ck_assert(peek64(ip, I_DESC(LW_BUF(peek64(ip, I_LENWORD)))) !=
            peek64(ip, I_KPREP(0)));
  for (long i = m; i < m + 20000; i++)
    ck_ok(iput(d, i, i));
  m += 20000;
  for (long i = 0; i < m; i++)
    ck_val(d, i, i);
  ck_len(d, (uint64_t)m);
  ck_healthy(d, (uint64_t)m);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_mig_prep_kill) {
  const char *base = strdup(tc_path("prep_kill"));
  const char *ip = fpath(base, "index");
  volatile long *acked = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ck_assert(acked != MAP_FAILED);
  fsc_dict *d = dict_open(base, 0);
  long n = fill_until_prep(d, base, 0);
  /* A writer killed in its second chunk, which it claimed holding the
   * lock: the next writer takes the lock (the kernel released it) and
   * prepares the rest, and the growth copies into the region. */
  uint64_t done = peek64(ip, I_KPREP(2)), po = peek64(ip, I_KPREP(0));
  *acked = n - 1;
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0) {
    setenv("FSC_TEST_PREP_DIE", "2", 1);
    fsc_options o = FSC_OPTIONS_INIT;
    o.type = FSC_TYPE_INT64;
    fsc_dict *c = NULL;
    if (fsc_dict_open(base, &o, &c) != 0)
      _exit(10);
    for (long i = n; i < n + 100000; i++) {
      if (iput(c, i, i) != 0)
        _exit(11);
      __atomic_store_n(acked, i, __ATOMIC_RELEASE);
    }
    _exit(12); /* (not killed) */
  }
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
                "the preparer ended with status %#x, not killed", st);
  ck_assert(!migrating(base));
  ck_assert_uint_eq(peek64(ip, I_KPREP(0)), po);
  ck_assert_uint_gt(peek64(ip, I_KPREP(2)), done);
  long a = *acked;
  int64_t v;
  int rc = iget(d, a + 1, &v); /* the put in flight may have landed */
  ck_assert(rc == 0 || rc == FSC_EKEY);
  n = rc == 0 ? a + 2 : a + 1;
  for (long i = 0; i < n; i++)
    ck_val(d, i, i);
  /* This writer goes on: the region is finished, then used. */
  long m = fill_until_migrating(d, base, n, n, n + 200000);
  ck_assert_uint_eq(peek64(ip, I_DESC(LW_BUF(peek64(ip, I_LENWORD)))), po);
  for (long i = m; i < m + 20000; i++)
    ck_ok(iput(d, i, i));
  m += 20000;
  for (long i = 0; i < m; i++)
    ck_val(d, i, i);
  ck_len(d, (uint64_t)m);
  /* (The killed writer's put in flight: the close after it repairs.) */
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  d = dict_open(base, 0);
  for (long i = 0; i < m; i++)
    ck_val(d, i, i);
  ck_len(d, (uint64_t)m);
  ck_healthy(d, (uint64_t)m);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  free((void *)base);
  munmap((void *)acked, 4096);
}
END_TEST

START_TEST(test_mig_old_file) {
  const char *base = tc_path("old");
  /* A child with migrations off (it reads the switch first) writes the
   * file as the stop-the-world growth leaves it. */
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0) {
    setenv("FSC_GROW_MIGRATE", "0", 1);
    fsc_options o = FSC_OPTIONS_INIT;
    o.type = FSC_TYPE_INT64;
    fsc_dict *d = NULL;
    if (fsc_dict_open(base, &o, &d) != 0)
      _exit(10);
    for (long i = 0; i < 3000; i++)
      if (iput(d, i, i) != 0 || migrating(base))
        _exit(11);
    _exit(fsc_dict_close(d) == 0 ? 0 : 12);
  }
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer: %#x", st);
  /* The words an earlier build never writes: zero. */
  poke64(fpath(base, "index"), I_KMIG, 0);
  poke64(fpath(base, "index"), I_KCOUNT_EP, 0);
  fsc_dict *d = dict_open(base, 0);
  for (long i = 0; i < 3000; i++)
    ck_val(d, i, i);
  ck_len(d, 3000);
  long n = fill_until_migrating(d, base, 3000, 3000, 100000);
  for (long i = 0; i < n; i++)
    ck_val(d, i, i);
  for (long i = n; i < 100000; i++)
    ck_ok(iput(d, i, i));
  for (long i = 0; i < 100000; i++)
    ck_val(d, i, i);
  ck_len(d, 100000);
  ck_healthy(d, 100000);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Threads of one handle                                               */
/* ------------------------------------------------------------------ */

#define TH_N 4
#define TH_KEYS 20000L
#define TH_ROUNDS 12

struct th {
  fsc_dict *d;
  int id;
  int rc;
};

/* Thread id inserts keys id * TH_KEYS + i (value i) and deletes every
 * fourth key it wrote (i - 1 when i % 4 == 3). */
static void *th_run(void *arg) {
  struct th *t = arg;
  long b = t->id * TH_KEYS;
  for (long i = 0; i < TH_KEYS && t->rc == 0; i++) {
    t->rc = iput(t->d, b + i, i);
    if (t->rc == 0 && i % 4 == 3)
      t->rc = idel(t->d, b + i - 1);
    if (t->rc)
      fprintf(stderr, "thread %d: key %ld: %s\n", t->id, b + i,
              fsc_errmsg());
  }
  return NULL;
}

START_TEST(test_mig_threads) {
  /* Rounds on new dicts: each grows through migrations from 64 slots. */
  for (int round = 0; round < TH_ROUNDS; round++) {
    char name[32];
    snprintf(name, sizeof name, "threads%d", round);
    const char *base = tc_path(name);
    fsc_dict *d = dict_open(base, 0);
    pthread_t th[TH_N];
    struct th ctx[TH_N];
    for (int i = 0; i < TH_N; i++) {
      ctx[i] = (struct th){d, i, 0};
      ck_assert_int_eq(pthread_create(&th[i], NULL, th_run, &ctx[i]), 0);
    }
    for (int i = 0; i < TH_N; i++) {
      ck_assert_int_eq(pthread_join(th[i], NULL), 0);
      ck_assert_msg(ctx[i].rc == 0, "round %d thread %d: %d (%s)", round, i,
                    ctx[i].rc, fsc_strerror(ctx[i].rc));
    }
    for (int t = 0; t < TH_N; t++)
      for (long i = 0; i < TH_KEYS; i++) {
        if (i % 4 == 2)
          ck_gone(d, t * TH_KEYS + i);
        else
          ck_val(d, t * TH_KEYS + i, i);
      }
    ck_len(d, (uint64_t)TH_N * TH_KEYS * 3 / 4);
    ck_healthy(d, (uint64_t)TH_N * TH_KEYS * 3 / 4);
    ck_ok(fsc_dict_destroy(d));
    fsc_dict_free(d);
  }
}
END_TEST

/* ------------------------------------------------------------------ */
/* Workloads without inserts still finish a migration                  */
/* ------------------------------------------------------------------ */

/* The capacity of the table a migration in progress copies from. */
static uint64_t old_cap(const char *base) {
  const char *ip = fpath(base, "index");
  return peek64(ip, I_DESC(LW_BUF(peek64(ip, I_LENWORD)) ^ 1u) + 8);
}

/* The calls a migration from a table of ocap slots may take, at most: a
 * step (64 old slots) a call, and a few calls of slack. */
static long mig_bound(uint64_t ocap) { return (long)(ocap / 64) + 8; }

START_TEST(test_mig_overwrite_only) {
  const char *base = tc_path("owonly");
  fsc_dict *d = dict_open(base, 0);
  long n = fill_until_migrating(d, base, 0, 20000, 200000);
  uint64_t ocap = old_cap(base);
  long bound = mig_bound(ocap), calls = 0;
  /* Only overwrites of existing keys (value -key - 1), round robin from
   * the last inserted: each one moves the next old slots. */
  for (long i = n - 1; migrating(base); i = i ? i - 1 : n - 1) {
    ck_assert_msg(calls < bound, "still migrating after %ld overwrites "
                  "(old table of %llu slots)", calls,
                  (unsigned long long)ocap);
    ck_ok(iput(d, i, -i - 1));
    calls++;
  }
  fprintf(stderr, "overwrite_only: %ld overwrites finished a migration "
          "from %llu slots\n", calls, (unsigned long long)ocap);
  for (long i = 0; i < n; i++)
    ck_val(d, i, i >= n - calls ? -i - 1 : i);
  ck_len(d, (uint64_t)n);
  ck_healthy(d, (uint64_t)n);
  /* Every key again, after the next open. */
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  d = dict_open(base, 0);
  for (long i = 0; i < n; i++)
    ck_val(d, i, i >= n - calls ? -i - 1 : i);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_mig_delete_only) {
  const char *base = tc_path("delonly");
  fsc_dict *d = dict_open(base, 0);
  long n = fill_until_migrating(d, base, 0, 20000, 200000);
  uint64_t ocap = old_cap(base);
  long bound = mig_bound(ocap), calls = 0;
  /* Only deletes of existing keys, every third from key 0. */
  for (long i = 0; migrating(base); i += 3) {
    ck_assert_msg(calls < bound && i < n, "still migrating after %ld "
                  "deletes (old table of %llu slots)", calls,
                  (unsigned long long)ocap);
    ck_ok(idel(d, i));
    calls++;
  }
  fprintf(stderr, "delete_only: %ld deletes finished a migration from "
          "%llu slots\n", calls, (unsigned long long)ocap);
  for (long i = 0; i < n; i++) {
    if (i % 3 == 0 && i / 3 < calls)
      ck_gone(d, i);
    else
      ck_val(d, i, i);
  }
  ck_len(d, (uint64_t)(n - calls));
  ck_healthy(d, (uint64_t)(n - calls));
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* A cache dict at its bound whose new keys admission refuses: the
 * refused inserts move the migration on too. */
START_TEST(test_mig_cache_refused) {
  const char *base = tc_path("refused");
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  o.cache_type = FSC_CACHE_LRU;
  /* Just past the growth of the 16384-slot table (at 3/4 of it). */
  o.cache_max_items = 12300;
  o.cache_admission = FSC_CACHE_ADMIT_ON;
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(base, &o, &d));
  for (long i = 0; i < 12300; i++)
    ck_ok(iput(d, i, i));
  ck_assert(migrating(base));
  uint64_t ocap = old_cap(base);
  long bound = mig_bound(ocap), calls = 0;
  fsc_cache_metrics m0, m1;
  memset(&m0, 0, sizeof m0);
  m0.size = sizeof m0;
  m1 = m0;
  ck_ok(fsc_dict_cache_metrics(d, &m0));
  for (long i = 12300; migrating(base); i++) {
    ck_assert_msg(calls < bound, "still migrating after %ld inserts at the "
                  "bound (old table of %llu slots)", calls,
                  (unsigned long long)ocap);
    ck_ok(iput(d, i, i)); /* (refused: 0 as well) */
    calls++;
  }
  ck_ok(fsc_dict_cache_metrics(d, &m1));
  /* Most were refused (else the inserts admitted did the moving). */
  ck_assert_msg((long)(m1.admission_rejects - m0.admission_rejects) * 2 >
                calls, "%llu of %ld inserts refused",
                (unsigned long long)(m1.admission_rejects -
                                     m0.admission_rejects), calls);
  uint64_t len;
  ck_ok(fsc_dict_len(d, &len));
  ck_assert_uint_le(len, 12300);
  ck_healthy(d, len);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Closes in the middle of a migration                                 */
/* ------------------------------------------------------------------ */

/* The child opens the dict (sh[0] = 1), waits for sh[1], inserts keys
 * from..to-1 (value = key; sh[2]: how many done) and closes. */
static void close_child(const char *base, long from, long to,
                        volatile long *sh) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  fsc_dict *d = NULL;
  if (fsc_dict_open(base, &o, &d) != 0)
    _exit(10);
  __atomic_store_n(&sh[0], 1, __ATOMIC_RELEASE); /* open */
  while (!__atomic_load_n(&sh[1], __ATOMIC_ACQUIRE))
    sched_yield();
  for (long i = from; i < to; i++) {
    if (iput(d, i, i) != 0)
      _exit(11);
    __atomic_store_n(&sh[2], i + 1 - from, __ATOMIC_RELEASE);
    /* The first time it finds a migration in progress (a step or more
     * done, more to do), it says so and waits for the parent's close
     * (a migration lasts a few hundred inserts: polled from outside, the
     * parent could miss it). */
    if (!__atomic_load_n(&sh[3], __ATOMIC_ACQUIRE) && i - from >= 1000 &&
        migrating(base)) {
      __atomic_store_n(&sh[3], 1, __ATOMIC_RELEASE);
      while (!__atomic_load_n(&sh[4], __ATOMIC_ACQUIRE))
        sched_yield();
    }
  }
  _exit(fsc_dict_close(d) == 0 ? 0 : 12);
}

START_TEST(test_mig_close) {
  volatile long *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                           MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ck_assert(sh != MAP_FAILED);
  /* 1: the last close in the middle of a migration (nothing else open). */
  const char *base = strdup(tc_path("close1"));
  fsc_dict *d = dict_open(base, 0);
  long n = fill_until_migrating(d, base, 0, 20000, 200000);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  d = dict_open(base, 0);
  ck_assert(!migrating(base)); /* (the last close or the open ended it) */
  for (long i = 0; i < n; i++)
    ck_val(d, i, i);
  ck_len(d, (uint64_t)n);
  ck_healthy(d, (uint64_t)n);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  free((void *)base);

  /* 2: this process closes in the middle of a migration while a child
   * goes on inserting (through this migration and the next ones), then
   * the child closes. */
  base = strdup(tc_path("close2"));
  d = dict_open(base, 0);
  n = fill_until_migrating(d, base, 0, 20000, 200000);
  memset((void *)sh, 0, 4096);
  const long more = 120000;
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0)
    close_child(base, n, n + more, sh);
  while (!__atomic_load_n(&sh[0], __ATOMIC_ACQUIRE))
    sched_yield();
  for (long i = 0; i < n; i += 5)
    ck_ok(iput(d, i, -i)); /* overwrites: some old slots move */
  __atomic_store_n(&sh[1], 1, __ATOMIC_RELEASE);
  /* Close while a migration is in progress and the child writes. */
  int seen = 0;
  for (;;) {
    if (__atomic_load_n(&sh[3], __ATOMIC_ACQUIRE)) {
      seen = migrating(base);
      break;
    }
    if (__atomic_load_n(&sh[2], __ATOMIC_ACQUIRE) >= more)
      break;
    sched_yield();
  }
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  __atomic_store_n(&sh[4], 1, __ATOMIC_RELEASE);
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                "the child ended with status %#x", st);
  ck_assert_msg(seen, "no migration seen while the child wrote");
  d = dict_open(base, 0);
  ck_assert(!migrating(base));
  for (long i = 0; i < n + more; i++)
    ck_val(d, i, i < n && i % 5 == 0 ? -i : i);
  ck_len(d, (uint64_t)(n + more));
  ck_healthy(d, (uint64_t)(n + more));
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  free((void *)base);
  munmap((void *)sh, 4096);
}
END_TEST

/* A writer's close that is not the last (a read-only handle is still
 * open) leaves its migration in progress and the marker cleared; the
 * reader closes last (it writes nothing).  The next read-only opener is
 * the first of a session that was not closed cleanly: it checks the
 * table, and a table in the middle of a migration is sound, its keys in
 * both tables (it once counted the new table's alone against COUNT and
 * refused the open as corrupt). */
START_TEST(test_mig_reader_last) {
  const char *base = tc_path("rlast");
  fsc_dict *d = dict_open(base, 0);
  long n = fill_until_migrating(d, base, 0, 20000, 200000);
  fsc_dict *r = dict_open(base, FSC_RDONLY);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  ck_assert(migrating(base));
  ck_ok(fsc_dict_close(r));
  fsc_dict_free(r);
  r = dict_open(base, FSC_RDONLY);
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_dict_metrics(r, &m));
  ck_assert(!m.last_close_clean);
  ck_len(r, (uint64_t)n);
  for (long i = 0; i < n; i++)
    ck_val(r, i, i);
  ck_healthy(r, (uint64_t)n);
  ck_ok(fsc_dict_close(r));
  fsc_dict_free(r);
  d = dict_open(base, 0); /* and a writer after it */
  ck_len(d, (uint64_t)n);
  ck_healthy(d, (uint64_t)n);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("migrate");
  struct {
    const char *name;
    const TTest *t;
  } cases[] = {
      {"single", test_mig_single},
      {"mp", test_mig_mp},
      {"same_keys", test_mig_same_keys},
      {"kill", test_mig_kill},
      {"writes", test_mig_writes},
      {"compact_clear", test_mig_compact_clear},
      {"cache", test_mig_cache},
      {"threads", test_mig_threads},
      {"old_file", test_mig_old_file},
      {"prep", test_mig_prep},
      {"prep_guard", test_mig_prep_guard},
      {"prep_kill", test_mig_prep_kill},
      {"overwrite_only", test_mig_overwrite_only},
      {"delete_only", test_mig_delete_only},
      {"cache_refused", test_mig_cache_refused},
      {"close", test_mig_close},
      {"reader_last", test_mig_reader_last},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    TCase *tc = tcase_create(cases[i].name);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, cases[i].t);
    suite_add_tcase(s, tc);
  }
  return s;
}

int main(void) {
  /* (FSC_GROW_MIGRATE=0 in the environment runs the same cases against
   * the stop-the-world growth: the cases that look for a migration in
   * progress then fail, as they must.  Migration is the default.) */
  return tc_run(suite());
}
