/*
 * test_shared.c - shared state for worker processes: counters in place,
 * compare-and-swap, blocking pops and waiting for change, from many
 * processes at once.
 *
 *  - 8 processes x 100,000 fsc_dict_incr of one key, and of 8 keys: exact
 *    totals, each process's returned values increase, and the data file
 *    neither grows nor gains dead bytes (one counter record per key);
 *  - fsc_list_incr from 4 processes on 4 elements: exact, no growth;
 *  - fsc_dict_incr_f64 from 4 processes: exact (halves add exactly);
 *  - increments racing pops of the same key (every increment is in a
 *    popped value or in the final one: the sum is exact), racing
 *    compactions (exact total), racing sets (the final value is the last
 *    set plus at most the increments after it) and deletes;
 *  - verify (and an unclean reopen's recovery) accepts counter records;
 *  - compare-and-swap as a lock by 8 processes around a non-atomic
 *    read-modify-write: exact; list CAS increments from 4 processes: exact;
 *    CAS semantics (absent, mismatch gives the current value, delete);
 *  - a queue across 4 producers and 4 consumers with pop_wait: every item
 *    exactly once, in per-producer order per consumer; consumers SIGKILLed
 *    mid-run lose at most the one item each had popped; pops from both
 *    ends racing appends;
 *  - pop_wait: timeout, wake by another process's append, wake on close
 *    (FSC_ECLOSED); wait_change: epochs, timeout, wake.
 *
 * Children report through their exit status; the parent waits with a
 * deadline.  Files live under tc_run's private directory.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "check_common.h"
#include "check_procs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

static fsc_options opts_typed(fsc_type t) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = t;
  return o;
}

static fsc_dict *dict_open(const char *p, fsc_type t) {
  fsc_options o = opts_typed(t);
  fsc_dict *d = NULL;
  int rc = fsc_dict_open(p, &o, &d);
  if (rc) {
    fprintf(stderr, "open %s: %s\n", p, fsc_errmsg());
    _exit(90);
  }
  return d;
}

static fsc_list *list_open(const char *p, fsc_type t) {
  fsc_options o = opts_typed(t);
  fsc_list *l = NULL;
  int rc = fsc_list_open(p, &o, &l);
  if (rc) {
    fprintf(stderr, "open %s: %s\n", p, fsc_errmsg());
    _exit(90);
  }
  return l;
}

#define CHILD_OK(call)                                                        \
  do {                                                                        \
    int child_rc_ = (call);                                                   \
    if (child_rc_ != 0) {                                                     \
      fprintf(stderr, "%s:%d %s: %d %s\n", __FILE__, __LINE__, #call,         \
              child_rc_, fsc_errmsg());                                       \
      _exit(91);                                                              \
    }                                                                         \
  } while (0)

static int64_t dget(fsc_dict *d, const char *k) {
  fsc_value v;
  ck_ok(fsc_dict_get(d, k, strlen(k), &v));
  ck_assert_int_eq(v.type, FSC_TYPE_INT64);
  return v.u.i64;
}

/* ------------------------------------------------------------------ */
/* Counters in place                                                   */
/* ------------------------------------------------------------------ */

static void incr_run(int nkeys) {
  const char *p = tc_path("counters");
  fsc_dict *d = dict_open(p, FSC_TYPE_INT64);
  /* Every key exists (and is a counter) before the race: then nothing
   * may grow. */
  char key[16];
  for (int k = 0; k < nkeys; k++) {
    snprintf(key, sizeof key, "key%d", k);
    ck_ok(fsc_dict_incr(d, key, strlen(key), 0, NULL));
  }
  fsc_metrics m0, m1;
  m0.size = m1.size = sizeof m0;
  ck_ok(fsc_dict_metrics(d, &m0));
  enum { P = 8, N = 100000 };
  pid_t pids[P];
  for (int i = 0; i < P; i++) {
    if ((pids[i] = fork()) == 0) {
      fsc_dict *cd = dict_open(p, FSC_TYPE_INT64);
      int64_t last[8] = {0};
      for (int j = 0; j < N; j++) {
        char k[16];
        int ki = (j + i) % nkeys;
        snprintf(k, sizeof k, "key%d", ki);
        int64_t nv;
        CHILD_OK(fsc_dict_incr(cd, k, strlen(k), 1, &nv));
        if (nv <= last[ki])
          _exit(92); /* a process's returned values increase */
        last[ki] = nv;
      }
      fsc_dict_close(cd);
      fsc_dict_free(cd);
      _exit(0);
    }
  }
  tc_reap(pids, P, 300);
  int64_t total = 0;
  for (int k = 0; k < nkeys; k++) {
    snprintf(key, sizeof key, "key%d", k);
    int64_t v = dget(d, key);
    ck_assert_int_eq(v, (int64_t)P * N / nkeys);
    total += v;
  }
  ck_assert_int_eq(total, (int64_t)P * N);
  ck_ok(fsc_dict_metrics(d, &m1));
  ck_assert_uint_eq(m1.dead_bytes, 0);
  ck_assert_uint_eq(m1.dead_bytes, m0.dead_bytes);
  ck_assert_uint_eq(m1.live_bytes, m0.live_bytes);
  ck_assert_uint_eq(m1.data_file_bytes, m0.data_file_bytes);
  fsc_verify_report rep = {.size = sizeof rep};
  ck_ok(fsc_dict_verify(d, 0, &rep));
  ck_assert(rep.healthy);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
}

START_TEST(incr_one_key) { incr_run(1); }
END_TEST

START_TEST(incr_eight_keys) { incr_run(8); }
END_TEST

START_TEST(incr_first_converts) {
  const char *p = tc_path("conv");
  fsc_dict *d = dict_open(p, FSC_TYPE_ANY);
  fsc_value v = fsc_i64(40), got;
  ck_ok(fsc_dict_set(d, "a", 1, &v));
  int64_t nv;
  ck_ok(fsc_dict_incr(d, "a", 1, 2, &nv));
  ck_assert_int_eq(nv, 42);
  fsc_metrics m0 = {.size = sizeof m0}, m1 = {.size = sizeof m1};
  ck_ok(fsc_dict_metrics(d, &m0));
  for (int i = 0; i < 1000; i++)
    ck_ok(fsc_dict_incr(d, "a", 1, -1, &nv));
  ck_assert_int_eq(nv, -958);
  ck_ok(fsc_dict_metrics(d, &m1));
  ck_assert_uint_eq(m1.dead_bytes, m0.dead_bytes);
  ck_assert_uint_eq(m1.live_bytes, m0.live_bytes);
  /* Keys of every length: the value word is aligned by padding. */
  for (int kl = 0; kl < 20; kl++) {
    char k[32];
    memset(k, 'k', (size_t)kl);
    for (int j = 0; j < 3; j++)
      ck_ok(fsc_dict_incr(d, k, (size_t)kl, kl, &nv));
    ck_assert_int_eq(nv, 3 * kl);
  }
  /* Overflow: refused, value unchanged. */
  v = fsc_i64(INT64_MAX - 1);
  ck_ok(fsc_dict_set(d, "o", 1, &v));
  ck_ok(fsc_dict_incr(d, "o", 1, 1, &nv));
  ck_fsc(fsc_dict_incr(d, "o", 1, 1, &nv), FSC_EVALUE);
  ck_ok(fsc_dict_get(d, "o", 1, &got));
  ck_assert_int_eq(got.u.i64, INT64_MAX);
  /* Not an int64: FSC_ETYPE. */
  v = fsc_str("x");
  ck_ok(fsc_dict_set(d, "s", 1, &v));
  ck_fsc(fsc_dict_incr(d, "s", 1, 1, &nv), FSC_ETYPE);
  /* Floats. */
  double f;
  ck_ok(fsc_dict_incr_f64(d, "f", 1, 1.5, &f));
  ck_ok(fsc_dict_incr_f64(d, "f", 1, 1.5, &f));
  ck_assert(f == 3.0);
  ck_fsc(fsc_dict_incr_f64(d, "a", 1, 1.5, &f), FSC_ETYPE);
  /* Iteration, verify, compaction and reopen keep counters. */
  fsc_verify_report rep = {.size = sizeof rep};
  ck_ok(fsc_dict_verify(d, 0, &rep));
  ck_assert(rep.healthy);
  ck_ok(fsc_dict_compact(d));
  ck_ok(fsc_dict_incr(d, "a", 1, 1, &nv));
  ck_assert_int_eq(nv, -957);
  /* The copies are counters that verify, iterate and count on. */
  memset(&rep, 0, sizeof rep);
  rep.size = sizeof rep;
  ck_ok(fsc_dict_verify(d, 0, &rep));
  ck_assert(rep.healthy);
  fsc_metrics mc = {.size = sizeof mc};
  ck_ok(fsc_dict_metrics(d, &mc));
  ck_assert_uint_eq(mc.dead_bytes, 0);
  for (int kl = 0; kl < 20; kl++) {
    char k[32];
    memset(k, 'k', (size_t)kl);
    ck_ok(fsc_dict_incr(d, k, (size_t)kl, 1, &nv));
    ck_assert_int_eq(nv, 3 * kl + 1);
  }
  fsc_dict_iter it;
  fsc_value ik, iv;
  int64_t seen = 0;
  ck_ok(fsc_dict_iter_init(d, &it));
  while (fsc_dict_iter_next(&it, &ik, &iv) == 1)
    if (iv.type == FSC_TYPE_INT64 && ik.u.buf.len > 0 &&
        ((const char *)ik.u.buf.ptr)[0] == 'k')
      seen += iv.u.i64;
  ck_assert_int_eq(seen, 3 * (19 * 20 / 2) + 19);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  d = dict_open(p, FSC_TYPE_ANY);
  ck_assert_int_eq(dget(d, "a"), -957);
  ck_ok(fsc_dict_incr_f64(d, "f", 1, 0.25, &f));
  ck_assert(f == 3.25);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
}
END_TEST

START_TEST(incr_survives_crash) {
  /* A holder dies without closing: the next opener recovers, checking
   * every record's checksum; counter records must pass. */
  const char *p = tc_path("crash");
  pid_t pid = fork();
  if (pid == 0) {
    fsc_dict *d = dict_open(p, FSC_TYPE_INT64);
    fsc_list *l = list_open(tc_path("crashl"), FSC_TYPE_INT64);
    (void)l;
    for (int i = 0; i < 1000; i++) {
      CHILD_OK(fsc_dict_incr(d, "a", 1, 1, NULL));
      CHILD_OK(fsc_dict_incr(d, "bb", 2, 2, NULL));
    }
    _exit(0); /* no close: unclean */
  }
  tc_reap(&pid, 1, 60);
  fsc_dict *d = dict_open(p, FSC_TYPE_INT64);
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_dict_metrics(d, &m));
  ck_assert(!m.last_close_clean);
  ck_assert_uint_eq(m.repaired_dropped, 0);
  ck_assert_int_eq(dget(d, "a"), 1000);
  ck_assert_int_eq(dget(d, "bb"), 2000);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
}
END_TEST

/* A writer killed inside its add leaves the counter's writer count above
 * 0 (white box: the count is poked into the record header, doc/FORMAT.md
 * "Counter records").  Compaction and a pop wait for it at most 1 s, then
 * go on; the value is kept, and increments go on in the new files. */
START_TEST(incr_writer_died_inside) {
  const char *p = tc_path("died");
  fsc_dict *d = dict_open(p, FSC_TYPE_INT64);
  int64_t nv;
  ck_ok(fsc_dict_incr(d, "k", 1, 41, &nv)); /* the first record: 4096 */
  char dp[600];
  snprintf(dp, sizeof dp, "%s.data.fscollection", p);
  int fd = open(dp, O_RDWR);
  ck_assert_int_ge(fd, 0);
  uint16_t ctl;
  ck_assert_int_eq(pread(fd, &ctl, 2, 4096 + 2), 2);
  ck_assert_uint_eq(ctl, 0x9000); /* a counter, sealed, nobody inside */
  ctl = 0x9001;                   /* one writer inside, forever */
  ck_assert_int_eq(pwrite(fd, &ctl, 2, 4096 + 2), 2);
  close(fd);
  double t0 = tc_now_s();
  ck_ok(fsc_dict_compact(d));
  double dt = tc_now_s() - t0;
  ck_assert_msg(dt >= 0.9 && dt < 5.0, "compaction took %.2f s", dt);
  ck_assert_int_eq(dget(d, "k"), 41);
  ck_ok(fsc_dict_incr(d, "k", 1, 1, &nv));
  ck_assert_int_eq(nv, 42);
  fsc_verify_report rep = {.size = sizeof rep};
  ck_ok(fsc_dict_verify(d, 0, &rep));
  ck_assert(rep.healthy);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
}
END_TEST

START_TEST(list_incr_mp) {
  const char *p = tc_path("lc");
  fsc_list *l = list_open(p, FSC_TYPE_INT64);
  for (int i = 0; i < 4; i++)
    ck_ok(fsc_list_append_i64(l, 0));
  int64_t nv;
  for (int i = 0; i < 4; i++)
    ck_ok(fsc_list_incr(l, i, 0, &nv)); /* make them counters */
  fsc_metrics m0 = {.size = sizeof m0}, m1 = {.size = sizeof m1};
  ck_ok(fsc_list_metrics(l, &m0));
  enum { P = 4, N = 50000 };
  pid_t pids[P];
  for (int i = 0; i < P; i++) {
    if ((pids[i] = fork()) == 0) {
      fsc_list *cl = list_open(p, FSC_TYPE_INT64);
      for (int j = 0; j < N; j++)
        CHILD_OK(fsc_list_incr(cl, (j + i) % 4 - (j & 1 ? 4 : 0), 1, NULL));
      fsc_list_close(cl);
      fsc_list_free(cl);
      _exit(0);
    }
  }
  tc_reap(pids, P, 300);
  for (int i = 0; i < 4; i++) {
    int64_t v;
    ck_ok(fsc_list_get_i64(l, i, &v));
    ck_assert_int_eq(v, P * N / 4);
  }
  ck_ok(fsc_list_metrics(l, &m1));
  ck_assert_uint_eq(m1.dead_bytes, m0.dead_bytes);
  ck_assert_uint_eq(m1.live_bytes, m0.live_bytes);
  ck_fsc(fsc_list_incr(l, 9, 1, NULL), FSC_EINDEX);
  /* A pop returns the final value; the element's record is not reused. */
  fsc_value out;
  ck_ok(fsc_list_pop(l, -1, &out));
  ck_assert_int_eq(out.u.i64, P * N / 4);
  fsc_verify_report rep = {.size = sizeof rep};
  ck_ok(fsc_list_verify(l, 0, &rep));
  ck_assert(rep.healthy);
  ck_ok(fsc_list_compact(l));
  ck_ok(fsc_list_incr(l, 0, 5, &nv));
  ck_assert_int_eq(nv, P * N / 4 + 5);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(incr_f64_mp) {
  const char *p = tc_path("fc");
  fsc_dict *d = dict_open(p, FSC_TYPE_FLOAT);
  enum { P = 4, N = 10000 };
  pid_t pids[P];
  for (int i = 0; i < P; i++) {
    if ((pids[i] = fork()) == 0) {
      fsc_dict *cd = dict_open(p, FSC_TYPE_FLOAT);
      for (int j = 0; j < N; j++)
        CHILD_OK(fsc_dict_incr_f64(cd, "x", 1, 0.5, NULL));
      fsc_dict_close(cd);
      fsc_dict_free(cd);
      _exit(0);
    }
  }
  tc_reap(pids, P, 120);
  fsc_value v;
  ck_ok(fsc_dict_get(d, "x", 1, &v));
  ck_assert(v.u.f == P * N * 0.5);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
}
END_TEST

/* Increments racing pops of the same key: each increment is counted in
 * exactly one popped value or in the final value. */
START_TEST(incr_races_pop) {
  const char *p = tc_path("ip");
  fsc_dict *d = dict_open(p, FSC_TYPE_INT64);
  enum { P = 3, N = 40000 };
  int64_t *popped = tc_shm(sizeof(int64_t) * 2);
  pid_t pids[P + 1];
  for (int i = 0; i < P; i++) {
    if ((pids[i] = fork()) == 0) {
      fsc_dict *cd = dict_open(p, FSC_TYPE_INT64);
      for (int j = 0; j < N; j++)
        CHILD_OK(fsc_dict_incr(cd, "k", 1, 1, NULL));
      fsc_dict_close(cd);
      fsc_dict_free(cd);
      _exit(0);
    }
  }
  if ((pids[P] = fork()) == 0) {
    fsc_dict *cd = dict_open(p, FSC_TYPE_INT64);
    int64_t sum = 0;
    fsc_value dz = fsc_i64(0);
    for (int j = 0; j < 3000; j++) {
      fsc_value v;
      CHILD_OK(fsc_dict_pop(cd, "k", 1, &dz, &v));
      sum += v.u.i64;
      usleep(50);
    }
    popped[0] = sum;
    fsc_dict_close(cd);
    fsc_dict_free(cd);
    _exit(0);
  }
  tc_reap(pids, P + 1, 300);
  fsc_value dz = fsc_i64(0), v;
  ck_ok(fsc_dict_get_default(d, "k", 1, &dz, &v));
  ck_assert_int_eq(popped[0] + v.u.i64, (int64_t)P * N);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
}
END_TEST

/* Increments racing compactions of the dict: exact. */
START_TEST(incr_races_compact) {
  const char *p = tc_path("icmp");
  fsc_dict *d = dict_open(p, FSC_TYPE_INT64);
  ck_ok(fsc_dict_incr(d, "k", 1, 0, NULL));
  enum { P = 3, N = 20000, COMPACTIONS = 10 };
  /* [0]: incrementers done; [1]: compactions done; [2..]: increments. */
  int64_t *sh = tc_shm(sizeof(int64_t) * (2 + P));
  pid_t pids[P + 1];
  for (int i = 0; i < P; i++) {
    if ((pids[i] = fork()) == 0) {
      fsc_dict *cd = dict_open(p, FSC_TYPE_INT64);
      int64_t j = 0;
      /* At least N each, and on until the compactions are done. */
      while (j < N || __atomic_load_n(&sh[1], __ATOMIC_SEQ_CST) <
                          COMPACTIONS) {
        CHILD_OK(fsc_dict_incr(cd, "k", 1, 1, NULL));
        CHILD_OK(fsc_dict_incr(cd, "k2", 2, 1, NULL));
        j++;
      }
      sh[2 + i] = j;
      fsc_dict_close(cd);
      fsc_dict_free(cd);
      __atomic_add_fetch(&sh[0], 1, __ATOMIC_SEQ_CST);
      _exit(0);
    }
  }
  if ((pids[P] = fork()) == 0) {
    fsc_dict *cd = dict_open(p, FSC_TYPE_INT64);
    for (int n = 0; n < COMPACTIONS; n++) {
      CHILD_OK(fsc_dict_compact(cd));
      __atomic_add_fetch(&sh[1], 1, __ATOMIC_SEQ_CST);
      usleep(1000);
    }
    fsc_dict_close(cd);
    fsc_dict_free(cd);
    _exit(0);
  }
  tc_reap(pids, P + 1, 300);
  int64_t want = 0;
  for (int i = 0; i < P; i++)
    want += sh[2 + i];
  ck_assert_int_eq(dget(d, "k"), want);
  ck_assert_int_eq(dget(d, "k2"), want);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
}
END_TEST

/* Increments racing sets of the same key: the final value is the last
 * set's plus at most the increments made after it began. */
START_TEST(incr_races_set) {
  const char *p = tc_path("is");
  fsc_dict *d = dict_open(p, FSC_TYPE_INT64);
  enum { N = 50000, BASE = 1000000000 };
  pid_t pids[2];
  if ((pids[0] = fork()) == 0) {
    fsc_dict *cd = dict_open(p, FSC_TYPE_INT64);
    for (int j = 0; j < N; j++)
      CHILD_OK(fsc_dict_incr(cd, "k", 1, 1, NULL));
    fsc_dict_close(cd);
    fsc_dict_free(cd);
    _exit(0);
  }
  if ((pids[1] = fork()) == 0) {
    fsc_dict *cd = dict_open(p, FSC_TYPE_INT64);
    for (int j = 1; j <= 200; j++) {
      fsc_value v = fsc_i64((int64_t)j * BASE);
      CHILD_OK(fsc_dict_set(cd, "k", 1, &v));
      usleep(100);
    }
    fsc_dict_close(cd);
    fsc_dict_free(cd);
    _exit(0);
  }
  tc_reap(pids, 2, 300);
  int64_t v = dget(d, "k");
  ck_assert_int_eq(v / BASE, 200);
  ck_assert_int_le(v % BASE, N);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Compare-and-swap                                                    */
/* ------------------------------------------------------------------ */

START_TEST(cas_semantics) {
  const char *p = tc_path("cas");
  fsc_dict *d = dict_open(p, FSC_TYPE_ANY);
  fsc_value a = fsc_str("a"), b = fsc_str("b"), one = fsc_i64(1),
            onef = fsc_f64(1.0), cur;
  /* Absent: expected NULL inserts; a second one fails, giving the value. */
  ck_fsc(fsc_dict_cas(d, "k", 1, NULL, &a, &cur), 1);
  ck_fsc(fsc_dict_cas(d, "k", 1, NULL, &b, &cur), 0);
  ck_assert_int_eq(cur.type, FSC_TYPE_STRING);
  ck_assert(cur.u.buf.len == 1 && memcmp(cur.u.buf.ptr, "a", 1) == 0);
  /* Mismatch. */
  ck_fsc(fsc_dict_cas(d, "k", 1, &b, &a, &cur), 0);
  /* Match, changing type. */
  ck_fsc(fsc_dict_cas(d, "k", 1, &a, &one, &cur), 1);
  /* 1 and 1.0 differ. */
  ck_fsc(fsc_dict_cas(d, "k", 1, &onef, &a, &cur), 0);
  ck_assert_int_eq(cur.type, FSC_TYPE_INT64);
  /* In place, twice (the first makes it a counter). */
  fsc_value two = fsc_i64(2), three = fsc_i64(3);
  ck_fsc(fsc_dict_cas(d, "k", 1, &one, &two, &cur), 1);
  fsc_metrics m0 = {.size = sizeof m0}, m1 = {.size = sizeof m1};
  ck_ok(fsc_dict_metrics(d, &m0));
  ck_fsc(fsc_dict_cas(d, "k", 1, &two, &three, &cur), 1);
  ck_fsc(fsc_dict_cas(d, "k", 1, &two, &three, &cur), 0);
  ck_assert_int_eq(cur.u.i64, 3);
  ck_ok(fsc_dict_metrics(d, &m1));
  ck_assert_uint_eq(m1.dead_bytes, m0.dead_bytes);
  /* Delete on match; absent then gives type 0. */
  ck_fsc(fsc_dict_cas(d, "k", 1, &three, NULL, &cur), 1);
  ck_fsc(fsc_dict_contains(d, "k", 1), 0);
  ck_fsc(fsc_dict_cas(d, "k", 1, &three, &one, &cur), 0);
  ck_assert_int_eq(cur.type, 0);
  ck_fsc(fsc_dict_cas(d, "k", 1, NULL, NULL, &cur), FSC_EINVAL);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  /* Lists. */
  fsc_list *l = list_open(tc_path("casl"), FSC_TYPE_ANY);
  ck_ok(fsc_list_append(l, &a));
  ck_fsc(fsc_list_cas(l, 0, &b, &one, &cur), 0);
  ck_assert_int_eq(cur.type, FSC_TYPE_STRING);
  ck_fsc(fsc_list_cas(l, 0, &a, &one, &cur), 1);
  ck_fsc(fsc_list_cas(l, -1, &one, &two, &cur), 1);
  ck_fsc(fsc_list_cas(l, 0, &two, &three, &cur), 1);
  ck_fsc(fsc_list_cas(l, 1, &two, &three, &cur), FSC_EINDEX);
  int64_t v;
  ck_ok(fsc_list_get_i64(l, 0, &v));
  ck_assert_int_eq(v, 3);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

/* CAS as a lock around a non-atomic read-modify-write by 8 processes. */
START_TEST(cas_lock_mp) {
  const char *p = tc_path("lock");
  fsc_dict *d = dict_open(p, FSC_TYPE_INT64);
  fsc_value zero = fsc_i64(0);
  ck_ok(fsc_dict_set(d, "n", 1, &zero));
  enum { P = 8, N = 1500 };
  pid_t pids[P];
  for (int i = 0; i < P; i++) {
    if ((pids[i] = fork()) == 0) {
      fsc_dict *cd = dict_open(p, FSC_TYPE_INT64);
      fsc_value me = fsc_i64(getpid());
      for (int j = 0; j < N; j++) {
        int rc;
        while ((rc = fsc_dict_cas(cd, "lock", 4, NULL, &me, NULL)) == 0)
          sched_yield();
        if (rc != 1)
          _exit(94);
        fsc_value v;
        CHILD_OK(fsc_dict_get(cd, "n", 1, &v));
        fsc_value nv = fsc_i64(v.u.i64 + 1);
        CHILD_OK(fsc_dict_set(cd, "n", 1, &nv));
        if (fsc_dict_cas(cd, "lock", 4, &me, NULL, NULL) != 1)
          _exit(95);
      }
      fsc_dict_close(cd);
      fsc_dict_free(cd);
      _exit(0);
    }
  }
  tc_reap(pids, P, 300);
  ck_assert_int_eq(dget(d, "n"), P * N);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
}
END_TEST

/* CAS loops on a list element from 4 processes: exact. */
START_TEST(list_cas_mp) {
  const char *p = tc_path("lcas");
  fsc_list *l = list_open(p, FSC_TYPE_INT64);
  ck_ok(fsc_list_append_i64(l, 0));
  enum { P = 4, N = 20000 };
  pid_t pids[P];
  for (int i = 0; i < P; i++) {
    if ((pids[i] = fork()) == 0) {
      fsc_list *cl = list_open(p, FSC_TYPE_INT64);
      fsc_value cur;
      CHILD_OK(fsc_list_get(cl, 0, &cur));
      for (int j = 0; j < N; j++) {
        for (;;) {
          fsc_value nv = fsc_i64(cur.u.i64 + 1);
          int rc = fsc_list_cas(cl, 0, &cur, &nv, &cur);
          if (rc == 1) {
            cur = nv;
            break;
          }
          if (rc != 0)
            _exit(96);
        }
      }
      fsc_list_close(cl);
      fsc_list_free(cl);
      _exit(0);
    }
  }
  tc_reap(pids, P, 300);
  int64_t v;
  ck_ok(fsc_list_get_i64(l, 0, &v));
  ck_assert_int_eq(v, P * N);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Queues and waiting                                                  */
/* ------------------------------------------------------------------ */

enum { QP = 4, QC = 4, QN = 20000 };

struct qstate {
  uint32_t seen[QP][QN];  /* deliveries per item */
  int64_t delivered;
  int producers_done;
};

/* Consume until every item is delivered (or `stop_after` items, then
 * hang in pop_wait to be killed). */
static void consumer(const char *p, struct qstate *q, int64_t index) {
  fsc_list *l = list_open(p, FSC_TYPE_INT64);
  int64_t last[QP];
  for (int i = 0; i < QP; i++)
    last[i] = -1;
  for (;;) {
    fsc_value v;
    int rc = fsc_list_pop_wait(l, index, 100, &v);
    if (rc == FSC_ETIMEDOUT) {
      if (__atomic_load_n(&q->producers_done, __ATOMIC_SEQ_CST) == QP) {
        uint64_t n;
        CHILD_OK(fsc_list_len(l, &n));
        if (n == 0)
          break;
      }
      continue;
    }
    CHILD_OK(rc);
    int pi = (int)(v.u.i64 >> 32), seq = (int)(v.u.i64 & 0xffffffff);
    if (pi < 0 || pi >= QP || seq < 0 || seq >= QN)
      _exit(97);
    /* Per producer, a consumer popping the head sees increasing items. */
    if (index == 0 && seq <= last[pi])
      _exit(98);
    last[pi] = seq;
    __atomic_add_fetch(&q->seen[pi][seq], 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&q->delivered, 1, __ATOMIC_SEQ_CST);
  }
  fsc_list_close(l);
  fsc_list_free(l);
  _exit(0);
}

static void producer(const char *p, struct qstate *q, int pi) {
  fsc_list *l = list_open(p, FSC_TYPE_INT64);
  for (int j = 0; j < QN; j++)
    CHILD_OK(fsc_list_append_i64(l, ((int64_t)pi << 32) | j));
  __atomic_add_fetch(&q->producers_done, 1, __ATOMIC_SEQ_CST);
  fsc_list_close(l);
  fsc_list_free(l);
  _exit(0);
}

static void queue_run(bool both_ends, int kills) {
  const char *p = tc_path("queue");
  fsc_list *l = list_open(p, FSC_TYPE_INT64);
  struct qstate *q = tc_shm(sizeof *q);
  pid_t cons[QC + 8], prod[QP];
  int nc = 0;
  for (int i = 0; i < QC; i++)
    if ((cons[nc++] = fork()) == 0)
      consumer(p, q, both_ends && (i & 1) ? -1 : 0);
  for (int i = 0; i < QP; i++)
    if ((prod[i] = fork()) == 0)
      producer(p, q, i);
  /* SIGKILL consumers mid-run (in or out of pop_wait) and start others. */
  for (int k = 0; k < kills; k++) {
    usleep(30000);
    kill(cons[k], SIGKILL);
    int st;
    waitpid(cons[k], &st, 0);
    cons[k] = -1;
    if ((cons[nc++] = fork()) == 0)
      consumer(p, q, both_ends && (k & 1) ? -1 : 0);
  }
  tc_reap(prod, QP, 300);
  tc_reap(cons, nc, 300);
  int64_t missing = 0;
  for (int i = 0; i < QP; i++)
    for (int j = 0; j < QN; j++) {
      ck_assert_msg(q->seen[i][j] <= 1, "item %d/%d delivered %u times", i,
                    j, q->seen[i][j]);
      missing += q->seen[i][j] == 0;
    }
  /* A killed consumer may take the one item it had popped with it.  (One
   * killed between its two counts has counted an item in seen, not in
   * delivered: delivered may lag by one per kill.) */
  ck_assert_int_le(missing, kills);
  ck_assert_int_le(q->delivered + missing, QP * QN);
  ck_assert_int_ge(q->delivered + missing + kills, QP * QN);
  uint64_t n;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_uint_eq(n, 0);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}

START_TEST(queue_mpmc) { queue_run(false, 0); }
END_TEST

/* Pops from both ends interleaved with inserts, deletes, slice
 * assignments and deletions and appends, in one process, against an
 * expected array: index i is always the i-th element, whatever moved the
 * head or the tail. */
static uint64_t model_rand(uint64_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

START_TEST(queue_model) {
  fsc_list *l = list_open(tc_path("model"), FSC_TYPE_INT64);
  enum { CAP = 4096 };
  int64_t *m = malloc(CAP * sizeof *m), next = 0;
  fsc_value *got = malloc(CAP * sizeof *got);
  ck_assert(m && got);
  size_t n = 0;
  uint64_t x = 0x9E3779B97F4A7C15u;
  for (int op = 0; op < 6000; op++) {
    uint64_t r = model_rand(&x);
    int kind = (int)(r % 10);
    fsc_value v;
    if (n + 8 >= CAP)
      kind = 1 + (int)(r % 2); /* pop */
    switch (kind) {
    case 0: /* append, twice as likely as a pop */
    case 9:
    case 8:
      ck_ok(fsc_list_append_i64(l, next));
      m[n++] = next++;
      break;
    case 1: /* pop(0) */
    case 2: /* pop(-1) */
      if (n == 0) {
        ck_fsc(fsc_list_pop(l, kind == 1 ? 0 : -1, &v), FSC_EINDEX);
        break;
      }
      ck_ok(fsc_list_pop(l, kind == 1 ? 0 : -1, &v));
      if (kind == 1) {
        ck_assert_int_eq(v.u.i64, m[0]);
        memmove(m, m + 1, (n - 1) * sizeof *m);
      } else {
        ck_assert_int_eq(v.u.i64, m[n - 1]);
      }
      n--;
      break;
    case 3: { /* insert anywhere (also past either end) */
      int64_t i = (int64_t)((r >> 8) % (n + 3)) - 1;
      fsc_value nv = fsc_i64(next);
      ck_ok(fsc_list_insert(l, i, &nv));
      size_t at = i < 0 ? (n ? n - 1 : 0) : (size_t)i > n ? n : (size_t)i;
      memmove(m + at + 1, m + at, (n - at) * sizeof *m);
      m[at] = next++;
      n++;
      break;
    }
    case 4: /* del one */
      if (n == 0) {
        ck_fsc(fsc_list_del(l, 0), FSC_EINDEX);
        break;
      } else {
        size_t i = (size_t)((r >> 8) % n);
        ck_ok(fsc_list_del(l, (int64_t)i));
        memmove(m + i, m + i + 1, (n - i - 1) * sizeof *m);
        n--;
      }
      break;
    case 5: { /* del a contiguous slice */
      size_t a = n ? (size_t)((r >> 8) % (n + 1)) : 0;
      size_t b = a + (size_t)((r >> 20) % 4);
      if (b > n)
        b = n;
      ck_ok(fsc_list_slice_del(l, FSC_SLICE((int64_t)a, (int64_t)b, 1)));
      memmove(m + a, m + b, (n - b) * sizeof *m);
      n -= b - a;
      break;
    }
    case 6: { /* assign a slice: k values replace [a, b) */
      size_t a = n ? (size_t)((r >> 8) % (n + 1)) : 0;
      size_t b = a + (size_t)((r >> 20) % 3);
      size_t k = (size_t)((r >> 30) % 4);
      if (b > n)
        b = n;
      fsc_value vs[4];
      for (size_t j = 0; j < k; j++)
        vs[j] = fsc_i64(next + (int64_t)j);
      ck_ok(fsc_list_slice_set(l, FSC_SLICE((int64_t)a, (int64_t)b, 1), vs,
                               k));
      memmove(m + a + k, m + b, (n - b) * sizeof *m);
      for (size_t j = 0; j < k; j++)
        m[a + j] = next++;
      n = n - (b - a) + k;
      break;
    }
    default: { /* every other element from the head */
      size_t got_n = 0;
      ck_ok(fsc_list_slice_get(l, FSC_SLICE(FSC_NONE, FSC_NONE, 2), got,
                               CAP, &got_n));
      ck_assert_uint_eq(got_n, (n + 1) / 2);
      for (size_t j = 0; j < got_n; j++)
        ck_assert_int_eq(got[j].u.i64, m[2 * j]);
      break;
    }
    }
    uint64_t len;
    ck_ok(fsc_list_len(l, &len));
    ck_assert_uint_eq(len, n);
    if (n) { /* both ends, and one element in between */
      int64_t g;
      ck_ok(fsc_list_get_i64(l, 0, &g));
      ck_assert_int_eq(g, m[0]);
      ck_ok(fsc_list_get_i64(l, -1, &g));
      ck_assert_int_eq(g, m[n - 1]);
      size_t i = (size_t)((r >> 40) % n);
      ck_ok(fsc_list_get_i64(l, (int64_t)i, &g));
      ck_assert_int_eq(g, m[i]);
    }
    if (op % 500 == 499) { /* all of it */
      size_t got_n = 0;
      ck_ok(fsc_list_slice_get(l, FSC_SLICE(FSC_NONE, FSC_NONE, 1), got, CAP,
                               &got_n));
      ck_assert_uint_eq(got_n, n);
      for (size_t j = 0; j < n; j++)
        ck_assert_int_eq(got[j].u.i64, m[j]);
    }
  }
  free(m);
  free(got);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

/* The race queue_both_ends once lost, aimed at: a short list, producers
 * appending as fast as they can, a head and a tail consumer popping with
 * plain pop (no sleeping), so that pops of both ends meet pending appends
 * all the time.  Every item exactly once, and per producer increasing at
 * the head (at the tail only exactly-once holds: a tail consumer may take
 * j+1 and then j).  A few seconds. */
enum { SP = 2, SC = 2, SN = 30000 };

struct sstate {
  uint32_t seen[SP][SN];
  int producers_done;
  int64_t bad[4]; /* first violation: consumer, producer, seq, last */
};

static void stress_consumer(const char *p, struct sstate *q, int64_t index,
                            int who) {
  fsc_list *l = list_open(p, FSC_TYPE_INT64);
  int64_t last[SP];
  for (int i = 0; i < SP; i++)
    last[i] = -1;
  for (;;) {
    fsc_value v;
    int rc = fsc_list_pop(l, index, &v);
    if (rc == FSC_EINDEX) {
      if (__atomic_load_n(&q->producers_done, __ATOMIC_SEQ_CST) == SP) {
        uint64_t n;
        CHILD_OK(fsc_list_len(l, &n));
        if (n == 0)
          break;
      }
      continue;
    }
    CHILD_OK(rc);
    int pi = (int)(v.u.i64 >> 32), seq = (int)(v.u.i64 & 0xffffffff);
    if (pi < 0 || pi >= SP || seq < 0 || seq >= SN)
      _exit(97);
    if (index == 0 && seq <= last[pi]) {
      int64_t z = 0;
      if (__atomic_compare_exchange_n(&q->bad[0], &z, who + 1, false,
                                      __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        q->bad[1] = pi;
        q->bad[2] = seq;
        q->bad[3] = last[pi];
      }
    }
    last[pi] = seq;
    __atomic_add_fetch(&q->seen[pi][seq], 1, __ATOMIC_SEQ_CST);
  }
  fsc_list_close(l);
  fsc_list_free(l);
  _exit(0);
}

static void stress_producer(const char *p, struct sstate *q, int pi) {
  fsc_list *l = list_open(p, FSC_TYPE_INT64);
  for (int j = 0; j < SN; j++)
    CHILD_OK(fsc_list_append_i64(l, ((int64_t)pi << 32) | j));
  __atomic_add_fetch(&q->producers_done, 1, __ATOMIC_SEQ_CST);
  fsc_list_close(l);
  fsc_list_free(l);
  _exit(0);
}

START_TEST(queue_ends_stress) {
  const char *p = tc_path("qs");
  fsc_list *l = list_open(p, FSC_TYPE_INT64);
  struct sstate *q = tc_shm(sizeof *q);
  pid_t pids[SP + SC];
  for (int i = 0; i < SC; i++)
    if ((pids[i] = fork()) == 0)
      stress_consumer(p, q, i & 1 ? -1 : 0, i);
  for (int i = 0; i < SP; i++)
    if ((pids[SC + i] = fork()) == 0)
      stress_producer(p, q, i);
  tc_reap(pids, SP + SC, 300);
  int64_t dup = 0, missing = 0;
  for (int i = 0; i < SP; i++)
    for (int j = 0; j < SN; j++) {
      dup += q->seen[i][j] > 1;
      missing += q->seen[i][j] == 0;
    }
  ck_assert_msg(q->bad[0] == 0 && dup == 0 && missing == 0,
                "head consumer %lld got %lld/%lld after %lld; %lld "
                "duplicated, %lld missing", (long long)q->bad[0] - 1,
                (long long)q->bad[1], (long long)q->bad[2],
                (long long)q->bad[3], (long long)dup, (long long)missing);
  uint64_t n;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_uint_eq(n, 0);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

/* Consumers at both ends: pop(0) (lock-free, list_pop.c) and the
 * in-place pop(-1) (the lock) racing appends.  Was gated off after a rare
 * failure (a head consumer got an item at or below one it had had).  The
 * cause: an appender validated only the epoch after reading slot LEN, so
 * it could CAS the empty tag a pop(-1) had just written there while the
 * word was frozen, and its element landed above the new end (counted
 * later, out of order, or lost).  Appenders now re-check FROZEN too
 * (list.c publish_append), and the case runs again. */
START_TEST(queue_both_ends) { queue_run(true, 0); }
END_TEST

START_TEST(queue_consumers_killed) { queue_run(false, 3); }
END_TEST

/* Consumers of both ends killed (in pop_wait, in a pop(0) between its
 * claim and passing HEAD, in a pop(-1) between emptying its slot and
 * publishing): nothing acknowledged is lost, nothing delivered twice, per
 * producer order at the head. */
START_TEST(queue_ends_consumers_killed) { queue_run(true, 4); }
END_TEST

START_TEST(pop_wait_timeout) {
  fsc_list *l = list_open(tc_path("to"), FSC_TYPE_INT64);
  fsc_value v;
  double t0 = tc_now_s();
  ck_fsc(fsc_list_pop_wait(l, 0, 150, &v), FSC_ETIMEDOUT);
  double dt = tc_now_s() - t0;
  ck_assert_msg(dt >= 0.149 && dt < 1.5, "waited %.3f s", dt);
  /* Short timeouts end at their deadline, not at the end of ck_ec's
   * backoff iteration (2, 16, 128 ms: a 25 ms wait slept 128 ms, every
   * time).  A loaded machine can delay any one wakeup past the bound, so
   * the best of five tries is what must end within 60 ms of it; none may
   * end before it. */
  static const int short_ms[] = {10, 25, 60};
  for (int i = 0; i < 3; i++) {
    double best = 1e9;
    for (int t = 0; t < 5; t++) {
      t0 = tc_now_s();
      ck_fsc(fsc_list_pop_wait(l, 0, short_ms[i], &v), FSC_ETIMEDOUT);
      dt = tc_now_s() - t0;
      ck_assert_msg(dt >= short_ms[i] / 1000.0 - 0.001,
                    "a %d ms wait ended after %.3f s", short_ms[i], dt);
      if (dt < best)
        best = dt;
    }
    ck_assert_msg(best < short_ms[i] / 1000.0 + 0.06,
                  "a %d ms wait took %.3f s at best of 5", short_ms[i],
                  best);
  }
  ck_fsc(fsc_list_pop_wait(l, -1, 0, &v), FSC_ETIMEDOUT);
  ck_fsc(fsc_list_pop_wait(l, 1, 0, &v), FSC_EINVAL);
  ck_ok(fsc_list_append_i64(l, 7));
  ck_ok(fsc_list_pop_wait(l, -1, 0, &v));
  ck_assert_int_eq(v.u.i64, 7);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(pop_wait_wakes) {
  const char *p = tc_path("wk");
  fsc_list *l = list_open(p, FSC_TYPE_INT64);
  pid_t pid = fork();
  if (pid == 0) {
    fsc_list *cl = list_open(p, FSC_TYPE_INT64);
    usleep(200000);
    CHILD_OK(fsc_list_append_i64(cl, 42));
    fsc_list_close(cl);
    fsc_list_free(cl);
    _exit(0);
  }
  fsc_value v;
  double t0 = tc_now_s();
  ck_ok(fsc_list_pop_wait(l, 0, 10000, &v));
  double dt = tc_now_s() - t0;
  ck_assert_int_eq(v.u.i64, 42);
  ck_assert_msg(dt >= 0.15 && dt < 2.0, "woke after %.3f s", dt);
  tc_reap(&pid, 1, 30);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

struct closer_arg {
  fsc_list *l;
  int rc;
};

static void *waiter(void *a) {
  struct closer_arg *c = a;
  fsc_value v;
  c->rc = fsc_list_pop_wait(c->l, -1, -1, &v);
  return NULL;
}

START_TEST(pop_wait_close_wakes) {
  fsc_list *l = list_open(tc_path("cl"), FSC_TYPE_INT64);
  struct closer_arg a = {l, 12345};
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, NULL, waiter, &a), 0);
  usleep(150000);
  ck_assert_int_eq(a.rc, 12345); /* still waiting */
  ck_ok(fsc_list_close(l));
  pthread_join(t, NULL);
  ck_assert_int_eq(a.rc, FSC_ECLOSED);
  fsc_list_free(l);
}
END_TEST

START_TEST(wait_change) {
  const char *p = tc_path("wc");
  fsc_dict *d = dict_open(p, FSC_TYPE_INT64);
  uint64_t e0, e1, e2;
  ck_ok(fsc_dict_wait_change(d, FSC_EPOCH_NONE, 0, &e0));
  ck_fsc(fsc_dict_wait_change(d, e0, 50, &e1), FSC_ETIMEDOUT);
  ck_assert_uint_eq(e1, e0);
  fsc_value one = fsc_i64(1);
  ck_ok(fsc_dict_set(d, "a", 1, &one));
  ck_ok(fsc_dict_wait_change(d, e0, 0, &e1));
  ck_assert_uint_ne(e1, e0);
  pid_t pid = fork();
  if (pid == 0) {
    fsc_dict *cd = dict_open(p, FSC_TYPE_INT64);
    usleep(150000);
    CHILD_OK(fsc_dict_del(cd, "a", 1));
    fsc_dict_close(cd);
    fsc_dict_free(cd);
    _exit(0);
  }
  double t0 = tc_now_s();
  ck_ok(fsc_dict_wait_change(d, e1, 10000, &e2));
  ck_assert(tc_now_s() - t0 < 2.0);
  ck_assert_uint_ne(e2, e1);
  tc_reap(&pid, 1, 30);
  /* A read-only handle waits too (it cannot write the flag bit). */
  fsc_options ro = opts_typed(FSC_TYPE_INT64);
  ro.flags = FSC_RDONLY;
  fsc_dict *rd;
  ck_ok(fsc_dict_open(p, &ro, &rd));
  uint64_t r0, r1;
  ck_ok(fsc_dict_wait_change(rd, FSC_EPOCH_NONE, 0, &r0));
  ck_fsc(fsc_dict_wait_change(rd, r0, 30, &r1), FSC_ETIMEDOUT);
  pid = fork();
  if (pid == 0) {
    fsc_dict *cd = dict_open(p, FSC_TYPE_INT64);
    usleep(100000);
    CHILD_OK(fsc_dict_set(cd, "b", 1, &one));
    fsc_dict_close(cd);
    fsc_dict_free(cd);
    _exit(0);
  }
  ck_ok(fsc_dict_wait_change(rd, r0, 10000, &r1));
  ck_assert_uint_ne(r1, r0);
  tc_reap(&pid, 1, 30);
  ck_ok(fsc_dict_close(rd));
  fsc_dict_free(rd);
  /* A compaction moves on: the epoch never comes back. */
  ck_ok(fsc_dict_wait_change(d, FSC_EPOCH_NONE, 0, &e1));
  ck_ok(fsc_dict_compact(d));
  ck_ok(fsc_dict_wait_change(d, FSC_EPOCH_NONE, 0, &e2));
  ck_assert_uint_gt(e2, e1);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("shared");
  TCase *t = tcase_create("counters");
  tcase_set_timeout(t, 600);
  tcase_add_test(t, incr_first_converts);
  tcase_add_test(t, incr_one_key);
  tcase_add_test(t, incr_eight_keys);
  tcase_add_test(t, incr_survives_crash);
  tcase_add_test(t, incr_writer_died_inside);
  tcase_add_test(t, list_incr_mp);
  tcase_add_test(t, incr_f64_mp);
  tcase_add_test(t, incr_races_pop);
  tcase_add_test(t, incr_races_compact);
  tcase_add_test(t, incr_races_set);
  suite_add_tcase(s, t);
  t = tcase_create("cas");
  tcase_set_timeout(t, 600);
  tcase_add_test(t, cas_semantics);
  tcase_add_test(t, cas_lock_mp);
  tcase_add_test(t, list_cas_mp);
  suite_add_tcase(s, t);
  t = tcase_create("wait");
  tcase_set_timeout(t, 600);
  tcase_add_test(t, pop_wait_timeout);
  tcase_add_test(t, pop_wait_wakes);
  tcase_add_test(t, pop_wait_close_wakes);
  tcase_add_test(t, wait_change);
  tcase_add_test(t, queue_mpmc);
  tcase_add_test(t, queue_both_ends);
  tcase_add_test(t, queue_consumers_killed);
  suite_add_tcase(s, t);
  t = tcase_create("queue_stress");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, queue_model);
  tcase_add_test(t, queue_ends_consumers_killed);
  tcase_add_test(t, queue_ends_stress);
  suite_add_tcase(s, t);
  return s;
}

int main(void) { return tc_run(suite()); }
