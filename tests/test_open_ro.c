/*
 * test_open_ro.c - the read-only open of a cleanly closed collection
 * takes no structure lock (src/file/open_ro.c, doc/CONCURRENCY.md "The
 * read-only open without the lock"):
 *  - it succeeds while another process holds the structure lock, and
 *    reports the clean end; a read-write open, and a read-only open of a
 *    collection without the marker (a writer died, or one is open), still
 *    take the lock and time out;
 *  - it never reads the files while another holds the presence lock
 *    exclusively (a first opener repairing, a last closer trimming): it
 *    takes the locked path and waits;
 *  - readers opening read-only in a loop, racing writers that append and
 *    close (the last close trims both files and writes the marker),
 *    writers that die without closing (the next first opener repairs) and
 *    read-write openers, always open, and read a list whose element i is
 *    i (no SIGBUS past a trimmed end, no stale length); the same for a
 *    dict whose key k maps to k, with compactions moving it meanwhile.
 */
#include "check_common.h"
#include "check_procs.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

static void paths(const char *base, char data[600], char index[600]) {
  snprintf(data, 600, "%s.data.fscollection", base);
  snprintf(index, 600, "%s.index.fscollection", base);
}

static void make_list(const char *base, int64_t n) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  fsc_list *l;
  ck_ok(fsc_list_open(base, &o, &l));
  for (int64_t i = 0; i < n; i++)
    ck_ok(fsc_list_append_i64(l, i));
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}

static void unhold(pid_t p) {
  kill(p, SIGKILL);
  waitpid(p, NULL, 0);
}

static fsc_options ro_opts(int64_t lock_ms) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = FSC_RDONLY;
  o.lock_timeout_ms = lock_ms;
  return o;
}

START_TEST(test_ro_open_takes_no_lock) {
  const char *base = tc_path("nolock");
  char data[600], index[600];
  paths(base, data, index);
  make_list(base, 5);
  pid_t p = tc_hold_lock(index);
  fsc_options o = ro_opts(100);
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(base, &o, &l));
  uint64_t n;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_uint_eq(n, 5);
  int64_t x;
  ck_ok(fsc_list_get_i64(l, 4, &x));
  ck_assert_int_eq(x, 4);
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_list_metrics(l, &m));
  ck_assert(m.last_close_clean);
  ck_assert_uint_eq(m.open_processes, 1);
  /* A second reader in the same process, the same way. */
  fsc_list *l2 = NULL;
  ck_ok(fsc_list_open(base, &o, &l2));
  fsc_list_free(l2); /* (its close waits for the lock: free only) */
  /* A read-write open takes the lock. */
  fsc_options w = FSC_OPTIONS_INIT;
  w.lock_timeout_ms = 100;
  fsc_list *wl = NULL;
  ck_fsc(fsc_list_open(base, &w, &wl), FSC_ETIMEDOUT);
  unhold(p);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
  /* A writer open: its open cleared the marker; a reader takes the lock. */
  ck_ok(fsc_list_open(base, &w, &wl));
  p = tc_hold_lock(index);
  ck_fsc(fsc_list_open(base, &o, &l), FSC_ETIMEDOUT);
  unhold(p);
  ck_ok(fsc_list_open(base, &o, &l)); /* and opens once it is free */
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
  ck_ok(fsc_list_close(wl));
  fsc_list_free(wl);
  /* A writer that died: no marker; the reader takes the lock (it is the
   * first opener: it checks the collection before its open returns). */
  pid_t k = fork();
  ck_assert_int_ge(k, 0);
  if (k == 0) {
    fsc_list *cl;
    if (fsc_list_open(base, NULL, &cl) != 0 ||
        fsc_list_append_i64(cl, 5) != 0)
      _exit(1);
    _exit(0);
  }
  int st;
  ck_assert_int_eq(waitpid(k, &st, 0), k);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  p = tc_hold_lock(index);
  ck_fsc(fsc_list_open(base, &o, &l), FSC_ETIMEDOUT);
  unhold(p);
  ck_ok(fsc_list_open(base, &o, &l));
  ck_ok(fsc_list_metrics(l, &m));
  ck_assert(!m.last_close_clean);
  ck_ok(fsc_list_len(l, &n));
  ck_assert_uint_eq(n, 6);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

/* A first opener repairing holds both locks, the presence lock
 * exclusively; so does a last closer while it trims and writes the
 * marker.  A read-only open must not read the files then: it waits (and
 * here times out), and opens once they are free. */
START_TEST(test_ro_open_waits_for_exclusive_presence) {
  const char *base = tc_path("excl");
  char data[600], index[600];
  paths(base, data, index);
  make_list(base, 3);
  fsc_options o = ro_opts(150);
  fsc_list *l = NULL;
  pid_t p = tc_hold_locks(index, data);
  ck_fsc(fsc_list_open(base, &o, &l), FSC_ETIMEDOUT);
  ck_assert_ptr_null(l);
  unhold(p);
  /* The presence lock alone held exclusively: the same. */
  p = tc_hold_lock(data);
  ck_fsc(fsc_list_open(base, &o, &l), FSC_ETIMEDOUT);
  unhold(p);
  ck_ok(fsc_list_open(base, &o, &l));
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Races                                                               */
/* ------------------------------------------------------------------ */

#define RACE_SECS 2.0

/* A reader: open read-only, check every element (element i is i) and the
 * length against what the writers had at least made durable, close;
 * until the time is up.  Exit 0, or the step that failed. */
static void list_reader(const char *base, double end, uint64_t *opens) {
  fsc_options o = ro_opts(10000);
  o.type = FSC_TYPE_INT64;
  while (tc_now_s() < end) {
    fsc_list *l;
    int rc = fsc_list_open(base, &o, &l);
    if (rc) {
      fprintf(stderr, "reader open: %s\n", fsc_errmsg());
      _exit(10);
    }
    uint64_t n;
    if (fsc_list_len(l, &n) != 0 || n < 100)
      _exit(11);
    for (uint64_t i = 0; i < n; i++) {
      int64_t x;
      if (fsc_list_get_i64(l, (int64_t)i, &x) != 0 || x != (int64_t)i) {
        fprintf(stderr, "reader: [%llu] = %lld (%s)\n",
                (unsigned long long)i, (long long)x, fsc_errmsg());
        _exit(12);
      }
    }
    if (fsc_list_close(l) != 0)
      _exit(13);
    fsc_list_free(l);
    __atomic_add_fetch(opens, 1, __ATOMIC_RELAXED);
  }
  _exit(0);
}

/* A writer (one at a time): open, append the next 50 elements, close (a
 * last close: it trims both files and writes the marker), or every third
 * round die without closing (the next opener is a first opener after an
 * unclean end: it repairs).  Exit 0 when the time is up or it died on
 * purpose. */
static void list_writer(const char *base, double end) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  for (int round = 1; tc_now_s() < end; round++) {
    fsc_list *l;
    if (fsc_list_open(base, &o, &l) != 0) {
      fprintf(stderr, "writer open: %s\n", fsc_errmsg());
      _exit(20);
    }
    uint64_t n;
    if (fsc_list_len(l, &n) != 0)
      _exit(21);
    for (int j = 0; j < 50; j++)
      if (fsc_list_append_i64(l, (int64_t)(n + (uint64_t)j)) != 0)
        _exit(22);
    if (round % 3 == 0)
      _exit(0); /* the kernel drops its locks */
    if (fsc_list_close(l) != 0)
      _exit(23);
    fsc_list_free(l);
  }
  _exit(0);
}

static pid_t spawn_writer(const char *base, double end) {
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0)
    list_writer(base, end);
  return p;
}

START_TEST(test_race_list_readers_writers) {
  const char *base = tc_path("race");
  make_list(base, 100);
  enum { NR = 3 };
  uint64_t *opens = tc_shm(sizeof *opens);
  double end = tc_now_s() + RACE_SECS;
  pid_t pids[NR + 1];
  int np = 0;
  for (int i = 0; i < NR; i++) {
    pids[np] = fork();
    ck_assert_int_ge(pids[np], 0);
    if (pids[np] == 0)
      list_reader(base, end, opens);
    np++;
  }
  /* The writer, respawned when it dies on purpose. */
  pid_t w = spawn_writer(base, end);
  int died = 0;
  while (tc_now_s() < end) {
    int st;
    if (waitpid(w, &st, WNOHANG) == w) {
      ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                    "writer ended with status %#x", st);
      died++;
      w = spawn_writer(base, end);
    }
    usleep(1000);
  }
  pids[np++] = w;
  tc_reap(pids, np, 60);
  ck_assert_uint_gt(*opens, 10);
  ck_assert_int_gt(died, 0);
  /* What is left verifies, and every element is its index. */
  fsc_list *l;
  fsc_options o = FSC_OPTIONS_INIT;
  ck_ok(fsc_list_open(base, &o, &l));
  uint64_t n;
  ck_ok(fsc_list_len(l, &n));
  for (uint64_t i = 0; i < n; i++) {
    int64_t x;
    ck_ok(fsc_list_get_i64(l, (int64_t)i, &x));
    ck_assert_int_eq(x, (int64_t)i);
  }
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

/* The dict: key "k<i>" maps to i.  Writers put new keys and (one in
 * four rounds) compact, readers open read-only, get every key they were
 * told exists and iterate. */
static void key_of(uint64_t i, char *k, size_t cap) {
  snprintf(k, cap, "k%llu", (unsigned long long)i);
}

static void dict_reader(const char *base, double end, volatile uint64_t *done,
                        uint64_t *opens) {
  fsc_options o = ro_opts(10000);
  while (tc_now_s() < end) {
    uint64_t have = __atomic_load_n(done, __ATOMIC_ACQUIRE);
    fsc_dict *d;
    if (fsc_dict_open(base, &o, &d) != 0) {
      fprintf(stderr, "dict reader open: %s\n", fsc_errmsg());
      _exit(30);
    }
    uint64_t n;
    if (fsc_dict_len(d, &n) != 0 || n < have)
      _exit(31);
    for (uint64_t i = 0; i < have; i++) {
      char k[32];
      key_of(i, k, sizeof k);
      int64_t v;
      if (fsc_dict_get_i64(d, k, &v) != 0 || v != (int64_t)i) {
        fprintf(stderr, "dict reader: %s (%s)\n", k, fsc_errmsg());
        _exit(32);
      }
    }
    if (fsc_dict_close(d) != 0)
      _exit(33);
    fsc_dict_free(d);
    __atomic_add_fetch(opens, 1, __ATOMIC_RELAXED);
  }
  _exit(0);
}

static void dict_writer(const char *base, double end, volatile uint64_t *done) {
  for (int round = 0; tc_now_s() < end; round++) {
    fsc_dict *d;
    if (fsc_dict_open(base, NULL, &d) != 0) {
      fprintf(stderr, "dict writer open: %s\n", fsc_errmsg());
      _exit(40);
    }
    uint64_t from = __atomic_load_n(done, __ATOMIC_ACQUIRE);
    for (uint64_t i = from; i < from + 40; i++) {
      char k[32];
      key_of(i, k, sizeof k);
      if (fsc_dict_set_i64(d, k, (int64_t)i) != 0)
        _exit(41);
    }
    __atomic_store_n(done, from + 40, __ATOMIC_RELEASE);
    if (round % 4 == 3 && fsc_dict_compact(d) != 0) {
      fprintf(stderr, "compact: %s\n", fsc_errmsg());
      _exit(42);
    }
    if (fsc_dict_close(d) != 0)
      _exit(43);
    fsc_dict_free(d);
  }
  _exit(0);
}

START_TEST(test_race_dict_readers_writer_compacting) {
  const char *base = tc_path("drace");
  fsc_dict *d;
  ck_ok(fsc_dict_open(base, NULL, &d));
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  uint64_t *opens = tc_shm(sizeof *opens);
  volatile uint64_t *done = tc_shm(sizeof *done);
  double end = tc_now_s() + RACE_SECS;
  enum { NR = 3 };
  pid_t pids[NR + 1];
  for (int i = 0; i < NR; i++) {
    pids[i] = fork();
    ck_assert_int_ge(pids[i], 0);
    if (pids[i] == 0)
      dict_reader(base, end, done, opens);
  }
  pids[NR] = fork();
  ck_assert_int_ge(pids[NR], 0);
  if (pids[NR] == 0)
    dict_writer(base, end, done);
  tc_reap(pids, NR + 1, 60);
  ck_assert_uint_gt(*opens, 10);
  ck_assert_uint_gt(*done, 40);
}
END_TEST

static Suite *open_ro_suite(void) {
  Suite *s = suite_create("open_ro");
  TCase *tc = tcase_create("open_ro");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_ro_open_takes_no_lock);
  tcase_add_test(tc, test_ro_open_waits_for_exclusive_presence);
  tcase_add_test(tc, test_race_list_readers_writers);
  tcase_add_test(tc, test_race_dict_readers_writer_compacting);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tc_run(open_ro_suite()); }
