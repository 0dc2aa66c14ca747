/*
 * test_grow_data.c - the data file's growth (src/file/grow.c; doc/FORMAT.md,
 * "Versions"; doc/CONCURRENCY.md, "Data file growth"):
 *
 *  - a new collection's data file is version 4 (version 3 and later grow
 *    so), and its growth writes zeros ahead: the pages between the tail and the capacity are in the
 *    page cache before any record is written there (mincore of a fresh
 *    mapping), where a version-2 file's are not;
 *  - the growth lock: while another open file description holds the OFD
 *    lock on the data file's byte 0, an append that must grow waits at
 *    most lock_timeout_ms and fails with FSC_ETIMEDOUT, nothing stored is
 *    lost, and the append goes through once the lock is free; a version-2
 *    file grows without it;
 *  - appenders in four processes (two of them children forked after the
 *    open, which grow through their parent's handle) racing growth steps
 *    from a small file: every element is there exactly once and verify
 *    finds nothing wrong (a grower that wrote its zeros over published
 *    bytes would leave zeroed elements);
 *  - a grower killed while it holds the lock leaves a collection the next
 *    appender grows;
 *  - the step ahead runs in a background thread (grow.c, gjob): with the
 *    growth lock held elsewhere and no limit on lock waits, the append
 *    that crosses the mark returns (it used to wait for the lock), the
 *    capacity is raised once the lock is free, and a child forked while
 *    the thread waits does not keep the thread's descriptor of the data
 *    file open (prealloc.c, fsc__bg_start).
 */
#include "check_common.h"
#include "check_records.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define D_VERSION 8 /* struct fsc__fhdr: u32 version at 8 */
#define D_TAIL 64
#define D_CAP 72
#define MIB (UINT64_C(1) << 20)

static fsc_options opts(void) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.durability = FSC_DURABLE_NONE;
  o.type = FSC_TYPE_INT64;
  return o;
}

static fsc_list *list_open(const char *base, int64_t tmo) {
  fsc_options o = opts();
  o.lock_timeout_ms = tmo;
  fsc_list *l;
  ck_ok(fsc_list_open(base, &o, &l));
  return l;
}

static void append_range(fsc_list *l, int64_t from, int64_t to) {
  for (int64_t i = from; i < to; i++) {
    fsc_value v = fsc_i64(i);
    ck_ok(fsc_list_append(l, &v));
  }
}

/* Pages of [from, to) of the file at p that the page cache holds. */
static uint64_t resident(const char *p, uint64_t from, uint64_t to) {
  uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
  from = (from + pg - 1) / pg * pg;
  if (to <= from)
    return 0;
  int fd = open(p, O_RDONLY);
  ck_assert_int_ge(fd, 0);
  void *m = mmap(NULL, (size_t)to, PROT_READ, MAP_SHARED, fd, 0);
  ck_assert(m != MAP_FAILED);
  size_t n = (size_t)((to - from + pg - 1) / pg);
  unsigned char *vec = malloc(n);
  ck_assert_ptr_nonnull(vec);
  ck_assert_int_eq(mincore((char *)m + from, (size_t)(to - from), vec), 0);
  uint64_t k = 0;
  for (size_t i = 0; i < n; i++)
    k += vec[i] & 1;
  free(vec);
  munmap(m, (size_t)to);
  close(fd);
  return k;
}

/* Make base a new, empty list whose data file says `version`. */
static void make_version(const char *base, uint32_t version) {
  fsc_list *l = list_open(base, 5000);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
  const char *dp = tc_fpath(base, "data");
  uint64_t w = tc_peek64(dp, D_VERSION);
  ck_assert_uint_eq(w & 0xffffffffu, 4);
  tc_poke64(dp, D_VERSION, (w & ~UINT64_C(0xffffffff)) | version);
}

/* Append until the capacity has grown `steps` times; then the pages from
 * the one after the tail's to the capacity that the cache holds, and how
 * many there are. */
static void grow_and_look(const char *base, int steps, uint64_t *in,
                          uint64_t *all) {
  fsc_list *l = list_open(base, 5000);
  const char *dp = tc_fpath(base, "data");
  int64_t i = 0;
  for (int s = 0; s < steps; s++) {
    uint64_t cap = tc_peek64(dp, D_CAP);
    while (tc_peek64(dp, D_CAP) == cap)
      append_range(l, i, i + 64), i += 64;
  }
  /* (The tail's page and the one after: an append may be writing.) */
  uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
  uint64_t tail = tc_peek64(dp, D_TAIL) + 2 * pg, cap = tc_peek64(dp, D_CAP);
  ck_assert_uint_gt(cap, tail + 16 * pg);
  *in = resident(dp, tail, cap);
  *all = (cap - (tail + pg - 1) / pg * pg) / pg;
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}

START_TEST(test_zeros_ahead) {
  uint64_t in, all;
  char base[512];
  snprintf(base, sizeof base, "%s", tc_path("z3"));
  fsc_list *l = list_open(base, 5000);
  ck_assert_uint_eq(tc_peek64(tc_fpath(base, "data"), D_VERSION) &
                        0xffffffffu, 4);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
  grow_and_look(base, 8, &in, &all);
  ck_assert_msg(in == all, "version 3: %llu of the %llu pages between the "
                "tail and the capacity are in the page cache",
                (unsigned long long)in, (unsigned long long)all);
  /* The control: version 2 grows lock-free, without zeros. */
  char b2[512];
  snprintf(b2, sizeof b2, "%s", tc_path("z2"));
  make_version(b2, 2);
  grow_and_look(b2, 8, &in, &all);
  ck_assert_msg(in < all / 4, "version 2: %llu of %llu pages resident",
                (unsigned long long)in, (unsigned long long)all);
}
END_TEST

/* Hold the growth lock from a description of our own. */
static int hold_growth_lock(const char *base) {
  int fd = open(tc_fpath(base, "data"), O_RDWR);
  ck_assert_int_ge(fd, 0);
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = 0;
  fl.l_len = 1;
  ck_assert_int_eq(fcntl(fd, F_OFD_SETLK, &fl), 0);
  return fd;
}

/* Append until an append fails; its error.  *n: the elements appended. */
static int append_until_error(fsc_list *l, int64_t *n, int64_t limit) {
  for (; *n < limit; (*n)++) {
    fsc_value v = fsc_i64(*n);
    int rc = fsc_list_append(l, &v);
    if (rc)
      return rc;
  }
  return 0;
}

static void check_elements(fsc_list *l, int64_t n) {
  uint64_t len;
  ck_ok(fsc_list_len(l, &len));
  ck_assert_uint_eq(len, (uint64_t)n);
  for (int64_t i = 0; i < n; i++) {
    fsc_value v;
    ck_ok(fsc_list_get(l, i, &v));
    ck_assert_int_eq(v.u.i64, i);
  }
}

/* Append n, n + 1, ... while the word at offset `word` of the data file
 * at dp is below `until`: the next n. */
static int64_t append_while_below(fsc_list *l, const char *dp, off_t word,
                                  uint64_t until, int64_t n) {
  for (; tc_peek64(dp, word) < until; n++)
    ck_ok(fsc_list_append(l, &(fsc_value){.type = FSC_TYPE_INT64,
                                            .u.i64 = n}));
  return n;
}

/* The end of a case: the list verifies healthy, then goes. */
static void verify_destroy(fsc_list *l) {
  fsc_verify_report r = {.size = sizeof r};
  ck_ok(fsc_list_verify(l, 0, &r));
  ck_assert(r.healthy);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}

START_TEST(test_growth_lock_bounded) {
  char base[512];
  snprintf(base, sizeof base, "%s", tc_path("lk"));
  fsc_list *l = list_open(base, 100);
  int fd = hold_growth_lock(base);
  int64_t n = 0;
  int rc = append_until_error(l, &n, 4000000);
  ck_assert_int_eq(rc, FSC_ETIMEDOUT);
  ck_assert_msg(strstr(fsc_errmsg(), "growth lock") != NULL, "message: %s",
                fsc_errmsg());
  ck_assert_int_gt(n, 1000);
  check_elements(l, n);
  close(fd); /* the lock goes with its description */
  int64_t m = n;
  ck_ok(append_until_error(l, &m, n + 300000));
  check_elements(l, m);
  fsc_verify_report r;
  ck_ok(fsc_list_verify(l, 0, &r));
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);

  /* A version-2 file: the lock is not its. */
  char b2[512];
  snprintf(b2, sizeof b2, "%s", tc_path("lk2"));
  make_version(b2, 2);
  l = list_open(b2, 100);
  fd = hold_growth_lock(b2);
  n = 0;
  ck_ok(append_until_error(l, &n, 300000));
  close(fd);
  check_elements(l, n);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* How many of this process's descriptors are open on the file at p: the
 * inodes their /proc/self/fd links lead to (stat(2) of the link, not
 * fstat(2) of a descriptor another thread may be closing; the links'
 * names would not do: a collection's files are made unnamed and linked
 * in, so a descriptor opened then names no path). */
static int fds_on(const char *p) {
  struct stat want, st;
  char fdp[300];
  ck_assert_int_eq(stat(p, &want), 0);
  DIR *dir = opendir("/proc/self/fd");
  ck_assert_ptr_nonnull(dir);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    snprintf(fdp, sizeof fdp, "/proc/self/fd/%s", e->d_name);
    if (stat(fdp, &st) == 0 && st.st_dev == want.st_dev &&
        st.st_ino == want.st_ino)
      n++;
  }
  closedir(dir);
  return n;
}

/* Wait until every other thread of this process sleeps in nanosleep(2)
 * (a growth job waiting for the lock: src/file/lock.c, wait_until), for
 * a fork while a job runs.  GCC's AddressSanitizer (its libsanitizer, up
 * to GCC 12 at least) takes no allocator lock around fork(2): a child
 * forked while another thread is inside malloc or free (a job thread
 * starting: ASan's own thread set-up frees) inherits that size class's
 * lock held, and the child's first thread to allocate from it waits for
 * ever.  test_job_claim_after_fork failed so 4 runs in 30 (gdb: the
 * child's job threads in SizeClassAllocator64::GetFromAllocator).
 * glibc's malloc takes its locks around fork, so an ordinary build does
 * not need this; the tests fork at a quiet moment so that they test the
 * library and not the sanitizer. */
static void threads_asleep(void) {
  const long me = (long)syscall(SYS_gettid);
  for (int tries = 0; tries < 10000; tries++) {
    DIR *dir = opendir("/proc/self/task");
    ck_assert_ptr_nonnull(dir);
    bool quiet = true;
    struct dirent *e;
    while (quiet && (e = readdir(dir)) != NULL) {
      if (e->d_name[0] == '.' || atol(e->d_name) == me)
        continue;
      char p[300], buf[64] = "";
      snprintf(p, sizeof p, "/proc/self/task/%s/syscall", e->d_name);
      FILE *f = fopen(p, "r");
      if (!f)
        continue; /* (a thread that ended meanwhile) */
      long nr = -1;
      if (fgets(buf, sizeof buf, f) && sscanf(buf, "%ld", &nr) != 1)
        nr = -1; /* "running" */
      fclose(f);
      quiet = nr == SYS_clock_nanosleep
#ifdef SYS_nanosleep
              || nr == SYS_nanosleep
#endif
          ;
    }
    closedir(dir);
    if (quiet)
      return;
    usleep(1000);
  }
  ck_abort_msg("a thread of this process did not go to sleep in 10 s");
}

START_TEST(test_step_ahead_background) {
  char base[512];
  snprintf(base, sizeof base, "%s", tc_path("bg"));
  fsc_list *l = list_open(base, -1); /* lock waits without a limit */
  const char *dp = tc_fpath(base, "data");
  const int handle = fds_on(dp); /* the handle's own (no job yet) */
  int64_t n = 0;
  /* To 4 MiB (smaller files take their steps in the appender). */
  for (; tc_peek64(dp, D_CAP) < 4 * MIB; n++)
    ck_ok(fsc_list_append(l, &(fsc_value){.type = FSC_TYPE_INT64,
                                            .u.i64 = n}));
  uint64_t cap = tc_peek64(dp, D_CAP);
  uint64_t mark = cap - (cap / 4 < 2 * MIB ? cap / 4 : 2 * MIB);
  ck_assert_uint_lt(tc_peek64(dp, D_TAIL) + 64, mark);
  int fd = hold_growth_lock(base);
  /* The job that raised cap to here may still be closing its descriptor. */
  const int before = handle + 1;
  for (int i = 0; i < 2000 && fds_on(dp) != before; i++)
    usleep(1000);
  ck_assert_int_eq(fds_on(dp), before);
  /* Across the mark, still below cap: no append needs the space. */
  n = append_while_below(l, dp, D_TAIL, mark + 64, n);
  ck_assert_uint_lt(tc_peek64(dp, D_TAIL), cap);
  ck_assert_uint_eq(tc_peek64(dp, D_CAP), cap); /* the job waits */
  /* The job's own descriptor; a child forked now closes its copy. */
  for (int i = 0; i < 2000 && fds_on(dp) == before; i++)
    usleep(1000);
  ck_assert_int_eq(fds_on(dp), before + 1);
  threads_asleep();
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0)
    _exit(fds_on(dp) == before ? 0 : 1);
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                "the child kept the job's descriptor (status %#x)", st);
  close(fd); /* the lock goes with its description */
  for (int i = 0; i < 10000 && tc_peek64(dp, D_CAP) == cap; i++)
    usleep(1000);
  ck_assert_uint_gt(tc_peek64(dp, D_CAP), cap);
  for (int i = 0; i < 2000 && fds_on(dp) != handle; i++)
    usleep(1000);
  ck_assert_int_eq(fds_on(dp), handle); /* the job ended (and our lock) */
  int64_t m = n;
  ck_ok(append_until_error(l, &m, n + 200000));
  check_elements(l, m);
  verify_destroy(l);
}
END_TEST

#define PROCS 4
#define PER 60000

/* Appender w: values w * PER + i, i < PER. */
static void appender(fsc_list *l, const char *base, int w) {
  fsc_list *own = l ? l : list_open(base, 10000);
  for (int64_t i = 0; i < PER; i++) {
    fsc_value v = fsc_i64((int64_t)w * PER + i);
    if (fsc_list_append(own, &v) != 0)
      _exit(10 + w);
  }
  if (!l) {
    if (fsc_list_close(own) != 0)
      _exit(20 + w);
    fsc_list_free(own);
  }
  _exit(0);
}

START_TEST(test_growth_race_procs) {
  char base[512];
  snprintf(base, sizeof base, "%s", tc_path("race"));
  fsc_list *l = list_open(base, 10000);
  pid_t pids[PROCS];
  for (int w = 0; w < PROCS; w++) {
    pids[w] = fork();
    ck_assert_int_ge(pids[w], 0);
    if (pids[w] == 0) /* two through the parent's handle, two their own */
      appender(w < 2 ? l : NULL, base, w);
  }
  for (int w = 0; w < PROCS; w++) {
    int st;
    ck_assert_int_eq(waitpid(pids[w], &st, 0), pids[w]);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "appender %d: status %d", w, st);
  }
  uint64_t len;
  ck_ok(fsc_list_len(l, &len));
  ck_assert_uint_eq(len, (uint64_t)PROCS * PER);
  uint8_t *seen = calloc(PROCS * PER, 1);
  ck_assert_ptr_nonnull(seen);
  int64_t last[PROCS];
  for (int w = 0; w < PROCS; w++)
    last[w] = -1;
  for (uint64_t i = 0; i < len; i++) {
    fsc_value v;
    ck_ok(fsc_list_get(l, (int64_t)i, &v));
    ck_assert_int_ge(v.u.i64, 0);
    ck_assert_int_lt(v.u.i64, PROCS * PER);
    ck_assert_msg(!seen[v.u.i64], "element %lld twice", (long long)v.u.i64);
    seen[v.u.i64] = 1;
    int w = (int)(v.u.i64 / PER);
    ck_assert_int_gt(v.u.i64, last[w]); /* each appender's in its order */
    last[w] = v.u.i64;
  }
  free(seen);
  fsc_verify_report r;
  ck_ok(fsc_list_verify(l, 0, &r));
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* A child that holds the growth lock as a grower does, then is killed
 * there (SIGKILL): the next appender takes the lock. */
START_TEST(test_growth_lock_holder_killed) {
  char base[512];
  snprintf(base, sizeof base, "%s", tc_path("kill"));
  fsc_list *l = list_open(base, 5000);
  append_range(l, 0, 1000);
  int p[2];
  ck_assert_int_eq(pipe(p), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int fd = hold_growth_lock(base);
    (void)fd;
    char c = 1;
    if (write(p[1], &c, 1) != 1)
      _exit(1);
    for (;;)
      pause();
  }
  char c;
  ck_assert_int_eq(read(p[0], &c, 1), 1);
  kill(pid, SIGKILL);
  int st;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  int64_t n = 1000;
  ck_ok(append_until_error(l, &n, 400000));
  check_elements(l, n);
  close(p[0]);
  close(p[1]);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

static uint64_t mark_of(uint64_t cap) {
  return cap - (cap / 4 < 2 * MIB ? cap / 4 : 2 * MIB);
}

/* The job started at a mark dies with its process (the appender that
 * crossed the mark exits at once, as a short-lived worker does): the next
 * appender needs the space and takes a step itself.  The tail is then
 * past the new capacity's mark, which nobody crosses; that appender
 * starts the job, so the capacity gets ahead of the tail again instead
 * of every later step being taken by an appender in need. */
START_TEST(test_lost_job_resumed) {
  char base[512];
  snprintf(base, sizeof base, "%s", tc_path("lost"));
  fsc_list *l = list_open(base, 10000);
  const char *dp = tc_fpath(base, "data");
  int64_t n = append_while_below(l, dp, D_CAP, 4 * MIB, 0);
  uint64_t cap = tc_peek64(dp, D_CAP);
  ck_assert_uint_lt(tc_peek64(dp, D_TAIL) + 64, mark_of(cap));
  int fd = hold_growth_lock(base);
  threads_asleep(); /* (the job of 4 MiB may still run) */
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0) { /* across the mark (a job starts, waits for the lock), out */
    fsc_list *o = list_open(base, 10000);
    for (int64_t i = n; tc_peek64(dp, D_TAIL) < mark_of(cap) + 64; i++)
      if (fsc_list_append(o, &(fsc_value){.type = FSC_TYPE_INT64,
                                            .u.i64 = i}) != 0)
        _exit(1);
    _exit(tc_peek64(dp, D_CAP) == cap ? 0 : 2);
  }
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: %#x", st);
  close(fd);
  ck_assert_uint_eq(tc_peek64(dp, D_CAP), cap); /* the job died */
  /* The list's length, then the appends that need the space. */
  uint64_t len;
  ck_ok(fsc_list_len(l, &len));
  int64_t m = (int64_t)len;
  while (tc_peek64(dp, D_CAP) == cap) {
    ck_ok(fsc_list_append(l, &(fsc_value){.type = FSC_TYPE_INT64,
                                            .u.i64 = m}));
    m++;
  }
  for (int i = 0; i < 10000 &&
                  tc_peek64(dp, D_TAIL) >= mark_of(tc_peek64(dp, D_CAP));
       i++)
    usleep(1000);
  uint64_t tail = tc_peek64(dp, D_TAIL), ncap = tc_peek64(dp, D_CAP);
  ck_assert_msg(tail < mark_of(ncap), "tail %llu, capacity %llu: its mark "
                "%llu is behind the tail", (unsigned long long)tail,
                (unsigned long long)ncap,
                (unsigned long long)mark_of(ncap));
  verify_destroy(l);
}
END_TEST

/* A job's claim (one job a generation, src/file/grow.c) is the process's:
 * a child forked while its parent's job runs has no such thread, and
 * its own crossing of a mark starts its own job. */
START_TEST(test_job_claim_after_fork) {
  char base[512];
  snprintf(base, sizeof base, "%s", tc_path("fork"));
  fsc_list *l = list_open(base, 10000);
  const char *dp = tc_fpath(base, "data");
  const int handle = fds_on(dp);
  int64_t n = append_while_below(l, dp, D_CAP, 4 * MIB, 0);
  for (int i = 0; i < 10000 && fds_on(dp) != handle; i++)
    usleep(1000);
  ck_assert_int_eq(fds_on(dp), handle); /* the first job ended */
  uint64_t cap = tc_peek64(dp, D_CAP);
  int fd = hold_growth_lock(base);
  n = append_while_below(l, dp, D_TAIL, mark_of(cap) + 64, n);
  for (int i = 0; i < 2000 && fds_on(dp) != handle + 2; i++)
    usleep(1000);
  ck_assert_int_eq(fds_on(dp), handle + 2); /* the job, waiting */
  int go[2];
  ck_assert_int_eq(pipe(go), 0);
  threads_asleep();
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0) {
    close(fd);
    char c;
    if (read(go[0], &c, 1) != 1)
      _exit(1);
    /* Across now's mark; or, if the tail is past it already (the parent's
     * job stopped short of GROW_JOB_AHEAD), past now itself: the appender
     * in need then grows and starts the job (src/file/grow.c,
     * fsc__data_grow).  Either way the child's claim decides. */
    uint64_t now = tc_peek64(dp, D_CAP);
    uint64_t until = tc_peek64(dp, D_TAIL) < mark_of(now) ? mark_of(now) + 64
                                                          : now + 64;
    for (int64_t i = n; tc_peek64(dp, D_TAIL) < until; i++)
      if (fsc_list_append(l, &(fsc_value){.type = FSC_TYPE_INT64,
                                            .u.i64 = i}) != 0)
        _exit(2);
    for (int i = 0; i < 10000 && tc_peek64(dp, D_TAIL) >=
                                     mark_of(tc_peek64(dp, D_CAP));
         i++)
      usleep(1000);
    _exit(tc_peek64(dp, D_TAIL) < mark_of(tc_peek64(dp, D_CAP)) ? 0 : 3);
  }
  close(fd); /* (and the child's copy: the lock is free) */
  for (int i = 0; i < 10000 && fds_on(dp) != handle; i++)
    usleep(1000);
  ck_assert_int_eq(fds_on(dp), handle); /* the parent's job ended */
  ck_assert_uint_gt(tc_peek64(dp, D_CAP), cap);
  ck_assert_int_eq(write(go[1], "g", 1), 1);
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  close(go[0]);
  close(go[1]);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                "the child's crossing started no job (status %#x)", st);
  verify_destroy(l);
}
END_TEST

/* An appender waiting for the growth lock stops waiting once the holder
 * has published the space it needs (a job takes its steps back to back,
 * dropping and retaking the lock: a waiter that only tried the lock
 * waited for the job's last step).  Here the test is the holder: it
 * keeps the lock, allocates a MiB more and publishes it; the appender,
 * a child blocked at the mark, finishes with the lock still held (on the
 * old code it waits for the lock and times out). */
START_TEST(test_waiter_sees_published_space) {
  char base[512];
  snprintf(base, sizeof base, "%s", tc_path("pub"));
  fsc_list *l = list_open(base, 20000);
  const char *dp = tc_fpath(base, "data");
  int64_t n = append_while_below(l, dp, D_CAP, MIB, 0);
  uint64_t cap = tc_peek64(dp, D_CAP);
  ck_assert_uint_lt(cap, 4 * MIB); /* (steps in the appender: no job) */
  int fd = hold_growth_lock(base);
  const int64_t upto = n + (int64_t)(cap / 16); /* (past the mark) */
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0) {
    for (int64_t i = n; i < upto; i++)
      if (fsc_list_append(l, &(fsc_value){.type = FSC_TYPE_INT64,
                                            .u.i64 = i}) != 0)
        _exit(1);
    _exit(0);
  }
  /* The child blocked: the tail still, the capacity unchanged. */
  uint64_t t = 0;
  for (int i = 0; i < 100; i++) {
    usleep(20000);
    uint64_t now = tc_peek64(dp, D_TAIL);
    if (now == t && i > 5)
      break;
    t = now;
  }
  int st;
  ck_assert_int_eq(waitpid(p, &st, WNOHANG), 0);
  ck_assert_uint_eq(tc_peek64(dp, D_CAP), cap);
  /* Grow as a holder does: allocate, then publish (release). */
  ck_assert_int_eq(posix_fallocate(fd, 0, (off_t)(cap + MIB)), 0);
  uint64_t *hdr = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                       0);
  ck_assert(hdr != MAP_FAILED);
  __atomic_store_n(&hdr[D_CAP / 8], cap + MIB, __ATOMIC_RELEASE);
  munmap(hdr, 4096);
  pid_t w = 0;
  for (int i = 0; i < 5000 && (w = waitpid(p, &st, WNOHANG)) == 0; i++)
    usleep(1000);
  if (w == 0) { /* still blocked: free it, then fail */
    close(fd);
    fd = -1;
    ck_assert_int_eq(waitpid(p, &st, 0), p);
  }
  ck_assert_msg(w == p, "the appender waited for the lock although its "
                "space was published");
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  if (fd >= 0)
    close(fd);
  check_elements(l, upto);
  verify_destroy(l);
}
END_TEST

static Suite *grow_data_suite(void) {
  Suite *s = suite_create("grow_data");
  TCase *tc = tcase_create("cases");
  tcase_set_timeout(tc, 180);
  tcase_add_test(tc, test_zeros_ahead);
  tcase_add_test(tc, test_growth_lock_bounded);
  tcase_add_test(tc, test_growth_race_procs);
  tcase_add_test(tc, test_growth_lock_holder_killed);
  tcase_add_test(tc, test_step_ahead_background);
  tcase_add_test(tc, test_lost_job_resumed);
  tcase_add_test(tc, test_job_claim_after_fork);
  tcase_add_test(tc, test_waiter_sees_published_space);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tc_run(grow_data_suite()); }
