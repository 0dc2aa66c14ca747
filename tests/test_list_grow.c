/*
 * test_list_grow.c - a list's pointer array grows in place
 * (src/struct/list_struct.c, extend; doc/CONCURRENCY.md "List growth"):
 *
 *  - appends that fill the array extend it where it lies (its offset in
 *    the index file never changes), doubling up to 2^15 slots a step and
 *    then 2^15 slots a step, and the list reads back right and verifies;
 *    the last clean close brings the capacity down to the length and an
 *    eighth, and the index file with it (list_ops.c, trim);
 *  - an array with more than half of it popped at the head is copied
 *    instead (from HEAD, which starts again at 0), so a long-lived queue
 *    does not keep its popped slots;
 *  - 4 processes appending at once while a fifth reads: every element
 *    exactly once, each appender's in its order, readers never see a
 *    slot they cannot read;
 *  - an appender killed at random moments, 40 times or more: each reopen
 *    recovers a healthy list holding every append acknowledged before the
 *    kill, in order.
 */
#include "check_common.h"
#include "check_procs.h"
#include "check_records.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>

#include "check_list.h"
#include "file/format.h"


static void healthy(fsc_list *l) {
  fsc_verify_report r = {.size = sizeof r};
  int rc = fsc_list_verify(l, 0, &r);
  ck_assert_msg(rc == 0 && r.healthy, "verify: %d %s", rc, fsc_errmsg());
}

/* The active array's descriptor, read from the index file. */
static void active(const char *base, uint64_t *off, uint64_t *cap) {
  const char *ip = tc_fpath(base, "index");
  uint64_t w = tc_peek64(ip, offsetof(struct fsc__index_hdr, lenword));
  unsigned b = FSC__LW_BUFIDX(w);
  off_t d = (off_t)(offsetof(struct fsc__index_hdr, desc) +
                    b * sizeof(struct fsc__list_desc));
  *off = tc_peek64(ip, d + (off_t)offsetof(struct fsc__list_desc, off));
  *cap = tc_peek64(ip, d + (off_t)offsetof(struct fsc__list_desc, cap));
}

START_TEST(grows_in_place) {
  const char *base = tc_path("inplace");
  fsc_list *l = tc_lopen(base, 0);
  uint64_t off0 = 0, cap = 0, prev = 0;
  unsigned steps = 0;
  const int64_t n = 700000;
  for (int64_t i = 0; i < n; i++) {
    ck_ok(fsc_list_append_i64(l, i * 7));
    if ((i & 1023) == 0 || i == n - 1) {
      uint64_t off;
      active(base, &off, &cap);
      if (off0 == 0)
        off0 = off;
      ck_assert_msg(off == off0, "the array moved from %llu to %llu at "
                    "%lld elements", (unsigned long long)off0,
                    (unsigned long long)off, (long long)i);
      if (cap != prev) {
        /* Doubling below 2^15 slots, then 2^15 a step (the samples may
         * skip steps). */
        if (prev >= (UINT64_C(1) << 15))
          ck_assert_uint_eq((cap - prev) % (UINT64_C(1) << 15), 0);
        prev = cap;
        steps++;
      }
    }
  }
  ck_assert_uint_ge(steps, 5);
  ck_assert_uint_ge(cap, (uint64_t)n);
  ck_assert_uint_lt(cap, (uint64_t)n + (UINT64_C(1) << 15) + 1);
  ck_assert_uint_eq(tc_llen(l), (uint64_t)n);
  for (int64_t i = 0; i < n; i += 997) {
    int64_t x = -1;
    ck_ok(fsc_list_get_i64(l, i, &x));
    ck_assert_int_eq(x, i * 7);
  }
  healthy(l);
  tc_lclose(l);
  /* The last close: the capacity comes down where the array lies. */
  uint64_t off;
  active(base, &off, &cap);
  ck_assert_uint_eq(off, off0);
  ck_assert_uint_le(cap, (uint64_t)n + n / 8 + 64);
  ck_assert_uint_ge(cap, (uint64_t)n);
  l = tc_lopen(base, 0);
  ck_assert_uint_eq(tc_llen(l), (uint64_t)n);
  int64_t x = -1;
  ck_ok(fsc_list_get_i64(l, -1, &x));
  ck_assert_int_eq(x, (n - 1) * 7);
  ck_ok(fsc_list_append_i64(l, -5)); /* and grows again from there */
  for (int64_t i = 0; i < 100000; i++)
    ck_ok(fsc_list_append_i64(l, i));
  ck_ok(fsc_list_get_i64(l, n, &x));
  ck_assert_int_eq(x, -5);
  healthy(l);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(popped_queue_is_copied) {
  const char *base = tc_path("queue");
  fsc_list *l = tc_lopen(base, 0);
  /* Fill the array to its capacity, pop most of it at the head. */
  uint64_t off0, cap0;
  int64_t i = 0;
  for (; i < 4000; i++)
    ck_ok(fsc_list_append_i64(l, i));
  active(base, &off0, &cap0);
  for (; i < (int64_t)cap0; i++)
    ck_ok(fsc_list_append_i64(l, i));
  uint64_t off1, cap1;
  active(base, &off1, &cap1);
  ck_assert_uint_eq(cap1, cap0); /* full, not grown yet */
  int64_t popped = (int64_t)cap0 * 3 / 4;
  fsc_value v;
  for (int64_t j = 0; j < popped; j++) {
    ck_ok(fsc_list_pop(l, 0, &v));
    ck_assert_int_eq(v.u.i64, j);
  }
  /* The next append grows it, by a copy from HEAD (three quarters of its
   * slots are popped). */
  ck_ok(fsc_list_append_i64(l, i));
  active(base, &off1, &cap1);
  ck_assert_uint_ne(off1, off0);
  ck_assert_uint_lt(cap1, cap0);
  int64_t left = (int64_t)cap0 + 1 - popped;
  ck_assert_uint_eq(tc_llen(l), (uint64_t)left);
  for (int64_t j = 0; j < left; j++) {
    int64_t x = -1;
    ck_ok(fsc_list_get_i64(l, j, &x));
    ck_assert_int_eq(x, popped + j);
  }
  healthy(l);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

enum { APPENDERS = 4, PER = 150000 };

START_TEST(appenders_and_reader) {
  const char *base = tc_path("mp");
  tc_lclose(tc_lopen(base, 0));
  volatile uint32_t *done = tc_shm(sizeof *done);
  pid_t pids[APPENDERS + 1];
  for (int p = 0; p < APPENDERS; p++) {
    pids[p] = fork();
    ck_assert_int_ge(pids[p], 0);
    if (pids[p] == 0) {
      fsc_list *l = tc_lopen(base, 0);
      for (int64_t i = 0; i < PER; i++)
        if (fsc_list_append_i64(l, (int64_t)p << 32 | i) != 0)
          _exit(1);
      _exit(fsc_list_close(l) != 0);
    }
  }
  /* The reader: every element below the length it read decodes and is
   * one an appender wrote. */
  pids[APPENDERS] = fork();
  ck_assert_int_ge(pids[APPENDERS], 0);
  if (pids[APPENDERS] == 0) {
    fsc_list *l = tc_lopen(base, 0);
    unsigned rounds = 0;
    while (!__atomic_load_n(done, __ATOMIC_ACQUIRE) || rounds < 3) {
      uint64_t n = 0;
      if (fsc_list_len(l, &n) != 0)
        _exit(2);
      for (uint64_t i = n > 64 ? n - 64 : 0; i < n; i++) {
        int64_t x;
        if (fsc_list_get_i64(l, (int64_t)i, &x) != 0 ||
            (x >> 32) >= APPENDERS || (x & 0xffffffff) >= PER)
          _exit(3);
      }
      rounds++;
    }
    _exit(fsc_list_close(l) != 0);
  }
  tc_reap(pids, APPENDERS, 300);
  __atomic_store_n(done, 1, __ATOMIC_RELEASE);
  tc_reap(pids + APPENDERS, 1, 60);
  fsc_list *l = tc_lopen(base, 0);
  ck_assert_uint_eq(tc_llen(l), (uint64_t)APPENDERS * PER);
  int64_t next[APPENDERS] = {0};
  fsc_list_iter it;
  ck_ok(fsc_list_iter_init(l, &it));
  fsc_value v;
  int rc;
  while ((rc = fsc_list_iter_next(&it, &v)) == 1) {
    int p = (int)(v.u.i64 >> 32);
    ck_assert_int_lt(p, APPENDERS);
    ck_assert_int_eq(v.u.i64 & 0xffffffff, next[p]);
    next[p]++;
  }
  ck_assert_int_eq(rc, 0);
  for (int p = 0; p < APPENDERS; p++)
    ck_assert_int_eq(next[p], PER);
  healthy(l);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
  munmap((void *)done, sizeof *done);
}
END_TEST

START_TEST(appender_killed) {
  const char *base = tc_path("kill");
  tc_lclose(tc_lopen(base, 0));
  volatile int64_t *acked = tc_shm(sizeof *acked);
  uint64_t seed = 0x9E3779B97F4A7C15u;
  int64_t have = 0;
  /* 40 rounds, and more (at most 400) until the list is past 100,000
   * elements, so that kills land in the later 2^15-slot steps too. */
  for (int round = 0; round < 40 || (have <= 100000 && round < 400);
       round++) {
    pid_t p = fork();
    ck_assert_int_ge(p, 0);
    if (p == 0) {
      fsc_list *l = tc_lopen(base, 0);
      for (int64_t i = have;; i++) {
        if (fsc_list_append_i64(l, i) != 0)
          _exit(1);
        __atomic_store_n(acked, i + 1, __ATOMIC_RELEASE);
      }
    }
    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
    usleep((useconds_t)(1000 + seed % 5000));
    kill(p, SIGKILL);
    int st;
    ck_assert_int_eq(waitpid(p, &st, 0), p);
    ck_assert(WIFSIGNALED(st));
    int64_t a = __atomic_load_n(acked, __ATOMIC_ACQUIRE);
    fsc_list *l = tc_lopen(base, 0);
    uint64_t n = tc_llen(l);
    /* Every acknowledged append, and perhaps the one in flight. */
    ck_assert_msg(n == (uint64_t)a || n == (uint64_t)a + 1,
                  "round %d: %llu elements, %lld acknowledged", round,
                  (unsigned long long)n, (long long)a);
    for (int64_t i = n > 2000 ? (int64_t)n - 2000 : 0; i < (int64_t)n; i++) {
      int64_t x = -1;
      ck_ok(fsc_list_get_i64(l, i, &x));
      ck_assert_int_eq(x, i);
    }
    healthy(l);
    tc_lclose(l);
    have = (int64_t)n;
    __atomic_store_n(acked, have, __ATOMIC_RELEASE);
  }
  ck_assert_int_gt(have, 100000); /* the rounds reached the larger steps */
  fsc_list *l = tc_lopen(base, 0);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
  munmap((void *)acked, sizeof *acked);
}
END_TEST

int main(void) {
  Suite *s = suite_create("list_grow");
  TCase *t = tcase_create("grow");
  tcase_set_timeout(t, 600);
  tcase_add_test(t, grows_in_place);
  tcase_add_test(t, popped_queue_is_copied);
  tcase_add_test(t, appenders_and_reader);
  tcase_add_test(t, appender_killed);
  suite_add_tcase(s, t);
  return tc_run(s);
}
