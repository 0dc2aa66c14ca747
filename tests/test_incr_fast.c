/*
 * test_incr_fast.c - the fast paths of fsc_dict_incr and fsc_list_incr
 * (coll/dict_counter.c, coll/list.c, struct/hash_ctr.c; issue #14) and
 * every way out of them into the full path, which must answer exactly as
 * it did before there was a fast path:
 *
 *  - the record not a counter yet (absent key, plain value, plain list
 *    element), a value of another type, keys of every length class the
 *    key compare has, a string key that is not ASCII (valid and invalid
 *    UTF-8), the empty key, an over-long key;
 *  - a counter closed (CLOSED set in its record: replaced, the value
 *    kept), one whose closer gave up on a writer (ABANDONED: the add
 *    counts and reports FSC_ETIMEDOUT);
 *  - int64 overflow (FSC_EVALUE, the value unchanged), a NULL, closed or
 *    read-only handle, durability ALWAYS, swap-and-pop lists, an error
 *    left from an earlier call (cleared as by every public call), a list
 *    whose HEAD moved and whose elements shifted;
 *  - a growth migrating (the active table's KS_HW_MIG) with the structure
 *    lock held, so that it stays in progress: counters in the old table
 *    and in the new are incremented in place, the data file not growing;
 *  - list increments of element 0 from two processes racing a third that
 *    pops element 0 (each pop closes the counter it returns) and compacts
 *    (which closes every counter): every increment is in a popped value
 *    or in an element left, exactly once;
 *  - on x86-64, the one-atomic path (lock cmpxchg16b over a compact
 *    counter's header and value word, when 16-aligned): a watcher process
 *    never sees ctl count a writer inside; exact totals of 8 processes on
 *    one element and on 8; both paths on the same records at once
 *    (counters at 8 mod 16, writers with durability ALWAYS); racing
 *    compare-and-swaps in place.
 * (A sealed counter whose value was damaged: tests/test_counter_seal.c,
 * through the same fast paths.)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "check_common.h"
#include "check_procs.h"
#include "check_records.h"

#include <ck_pr.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* The record header and index header words the tests reach
 * (doc/FORMAT.md). */
#define CTR_FLAG 0x8000u
#define CTR_CLOSED 0x4000u
#define CTR_ABANDONED 0x2000u
#define I_LENWORD 64
#define I_DESC(b) (72 + 24 * (b))
#define LW_BUF(w) ((unsigned)(((w) >> 62) & 1u))
#define HW_MIG (UINT64_C(1) << 62)

static off_t data_size(const char *base) {
  struct stat st;
  ck_assert_int_eq(stat(tc_fpath(base, "data"), &st), 0);
  return st.st_size;
}

/* A counter record of dict key k (a full record: [u32 klen][k], padded to
 * 8, then 0 or 8 zero bytes and the close word (data file version 4) or
 * not, then the value word and the origin). */
static bool is_dict_ctr(const tc_rec *r, const void *arg) {
  size_t kl = strlen(arg), head = (4 + kl + 7) & ~(size_t)7;
  return tc_rec_key_is(r, arg) && (r->ctl & CTR_FLAG) &&
         (r->size == head + 16 || r->size == head + 24 ||
          r->size == head + 32);
}

/* The offset of the last counter record written for dict key k. */
static uint64_t dict_ctr(const char *base, const char *k) {
  uint64_t found = tc_rec_last(base, is_dict_ctr, k);
  ck_assert_msg(found, "no counter record for key %s", k);
  return found;
}

/* A list counter record holding *(int64_t *)arg (compact or full). */
static bool is_list_ctr(const tc_rec *r, const void *arg) {
  int64_t x;
  memcpy(&x, r->pl, 8);
  return (r->ctl & CTR_FLAG) && r->size == 8 && x == *(const int64_t *)arg;
}

/* The offset of the last list counter record holding value v. */
static uint64_t list_ctr(const char *base, int64_t v) {
  uint64_t found = tc_rec_last(base, is_list_ctr, &v);
  ck_assert_msg(found, "no list counter record holding %lld", (long long)v);
  return found;
}

static uint16_t ctl_at(const char *base, uint64_t rec) {
  uint16_t ctl;
  tc_peek(tc_fpath(base, "data"), (off_t)(rec + 2), &ctl, 2);
  return ctl;
}

static void ctl_or(const char *base, uint64_t rec, uint16_t bits) {
  uint16_t ctl = (uint16_t)(ctl_at(base, rec) | bits);
  tc_poke(tc_fpath(base, "data"), (off_t)(rec + 2), &ctl, 2);
}

static fsc_dict *dopen(const char *base, fsc_type t, unsigned flags,
                       fsc_durability dur) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = t;
  o.flags = flags;
  o.durability = dur;
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(base, &o, &d));
  return d;
}

static fsc_list *lopen(const char *base, fsc_type t, unsigned flags,
                       bool auto_compact) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = t;
  o.flags = flags;
  o.auto_compact = auto_compact;
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(base, &o, &l));
  return l;
}

static int64_t dget(fsc_dict *d, const void *k, size_t kl) {
  fsc_value v;
  ck_ok(fsc_dict_get(d, k, kl, &v));
  ck_assert_int_eq(v.type, FSC_TYPE_INT64);
  return v.u.i64;
}

static int64_t lget(fsc_list *l, int64_t i) {
  int64_t x = 0;
  ck_ok(fsc_list_get_i64(l, i, &x));
  return x;
}

/* n increments of key k by delta, each answer checked. */
static void dincr_n(fsc_dict *d, const void *k, size_t kl, int64_t from,
                    int64_t delta, int n) {
  for (int i = 1; i <= n; i++) {
    int64_t x = 0;
    ck_ok(fsc_dict_incr(d, k, kl, delta, &x));
    ck_assert_int_eq(x, from + delta * i);
  }
}

/* ------------------------------------------------------------------ */

START_TEST(dict_not_yet_counter) {
  const char *base = tc_path("d1");
  fsc_dict *d = dopen(base, FSC_TYPE_INT64, FSC_CREATE, FSC_DURABLE_NONE);
  int64_t x = 0;
  /* Absent, then a counter. */
  ck_ok(fsc_dict_incr(d, "hits", 4, 5, &x));
  ck_assert_int_eq(x, 5);
  dincr_n(d, "hits", 4, 5, 2, 10);
  /* A plain record, then a counter. */
  ck_ok(fsc_dict_set_i64(d, "p", 10));
  dincr_n(d, "p", 1, 10, 1, 3);
  ck_assert_int_eq(dget(d, "p", 1), 13);
  /* Set again (a plain record replaces the counter), then in place. */
  ck_ok(fsc_dict_set_i64(d, "hits", 100));
  dincr_n(d, "hits", 4, 100, -3, 4);
  ck_assert_int_eq(dget(d, "hits", 4), 88);
  /* Deleted, then absent again. */
  ck_ok(fsc_dict_del(d, "hits", 4));
  dincr_n(d, "hits", 4, 0, 1, 2);
  /* In place: the data file does not grow. */
  off_t sz = data_size(base);
  dincr_n(d, "p", 1, 13, 7, 1000);
  ck_assert_int_eq(data_size(base), sz);
  uint64_t len = 0;
  ck_ok(fsc_dict_len(d, &len));
  ck_assert_uint_eq(len, 2);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

START_TEST(dict_keys) {
  const char *base = tc_path("d2");
  fsc_dict *d = dopen(base, FSC_TYPE_INT64, FSC_CREATE, FSC_DURABLE_NONE);
  /* Every length class of the key compare, and keys that differ only in
   * their last byte. */
  static const size_t lens[] = {0, 1, 3, 4, 7, 8, 15, 16, 17, 100};
  char k[2][128];
  for (size_t j = 0; j < sizeof lens / sizeof lens[0]; j++) {
    size_t n = lens[j];
    memset(k[0], 'a', sizeof k[0]);
    memset(k[1], 'a', sizeof k[1]);
    if (n)
      k[1][n - 1] = 'b';
    dincr_n(d, k[0], n, 0, 1, 3);
    if (n)
      dincr_n(d, k[1], n, 0, 10, 3);
    ck_assert_int_eq(dget(d, k[0], n), 3);
    if (n)
      ck_assert_int_eq(dget(d, k[1], n), 30);
  }
  /* The empty key, as NULL or not. */
  int64_t x = 0;
  ck_ok(fsc_dict_incr(d, NULL, 0, 1, &x));
  ck_assert_int_eq(x, 4);
  ck_ok(fsc_dict_incr(d, "", 0, 1, &x));
  ck_assert_int_eq(x, 5);
  ck_fsc(fsc_dict_incr(d, NULL, 3, 1, &x), FSC_EINVAL);
  /* Valid UTF-8 that is not ASCII; invalid UTF-8. */
  dincr_n(d, "caf\xc3\xa9", 5, 0, 2, 3);
  ck_assert_int_eq(dget(d, "caf\xc3\xa9", 5), 6);
  ck_fsc(fsc_dict_incr(d, "caf\xff", 4, 1, &x), FSC_ETYPE);
  ck_fsc(fsc_dict_incr(d, "\x80\x80\x80\x80\x80\x80\x80\x80", 8, 1, &x),
         FSC_ETYPE);
  /* An invalid byte at every place of keys of 1 to 24 bytes: refused
   * (the ASCII test of the fast path misses none). */
  for (size_t n = 1; n <= 24; n++)
    for (size_t at = 0; at < n; at++) {
      char b[32];
      memset(b, 'z', sizeof b);
      b[at] = (char)0xff;
      ck_fsc(fsc_dict_incr(d, b, n, 1, &x), FSC_ETYPE);
    }
  /* Over-long. */
  ck_fsc(fsc_dict_incr(d, "k", (size_t)FSC_KEY_MAX + 1, 1, &x), FSC_EINVAL);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  /* Bytes keys: any byte. */
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  o.key_type = FSC_TYPE_BYTES;
  base = tc_path("d2b");
  ck_ok(fsc_dict_open(base, &o, &d));
  dincr_n(d, "\xff\x00\x80", 3, 0, 4, 5);
  dincr_n(d, "\xff\x00\x81", 3, 0, 1, 5);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

START_TEST(dict_other_types) {
  const char *base = tc_path("d3");
  fsc_dict *d = dopen(base, FSC_TYPE_ANY, FSC_CREATE, FSC_DURABLE_NONE);
  int64_t x = 0;
  dincr_n(d, "n", 1, 0, 1, 3);
  fsc_value s = fsc_str("text");
  ck_ok(fsc_dict_set(d, "s", 1, &s));
  ck_fsc(fsc_dict_incr(d, "s", 1, 1, &x), FSC_ETYPE);
  /* A float counter: the int64 increment refuses it, in place or not. */
  double f = 0;
  ck_ok(fsc_dict_incr_f64(d, "f", 1, 0.5, &f));
  ck_ok(fsc_dict_incr_f64(d, "f", 1, 0.5, &f));
  ck_assert(f == 1.0);
  ck_fsc(fsc_dict_incr(d, "f", 1, 1, &x), FSC_ETYPE);
  ck_ok(fsc_dict_incr_f64(d, "f", 1, 0.25, &f));
  ck_assert(f == 1.25);
  ck_assert_int_eq(dget(d, "n", 1), 3);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  /* A dict of strings refuses int64 increments. */
  d = dopen(tc_path("d3s"), FSC_TYPE_STRING, FSC_CREATE, FSC_DURABLE_NONE);
  ck_fsc(fsc_dict_incr(d, "n", 1, 1, &x), FSC_ETYPE);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

START_TEST(dict_overflow) {
  const char *base = tc_path("d4");
  fsc_dict *d = dopen(base, FSC_TYPE_INT64, FSC_CREATE, FSC_DURABLE_NONE);
  int64_t x = 0;
  ck_ok(fsc_dict_incr(d, "m", 1, INT64_MAX - 1, &x));
  ck_ok(fsc_dict_incr(d, "m", 1, 1, &x));
  ck_assert_int_eq(x, INT64_MAX);
  ck_fsc(fsc_dict_incr(d, "m", 1, 1, &x), FSC_EVALUE);
  ck_assert_str_eq(fsc_errmsg(), "int64 overflow: 9223372036854775807 + 1");
  ck_assert_int_eq(dget(d, "m", 1), INT64_MAX);
  ck_ok(fsc_dict_incr(d, "m", 1, INT64_MIN, &x));
  ck_assert_int_eq(x, -1);
  ck_ok(fsc_dict_incr(d, "m", 1, INT64_MIN + 1, &x));
  ck_assert_int_eq(x, INT64_MIN);
  ck_fsc(fsc_dict_incr(d, "m", 1, -1, &x), FSC_EVALUE);
  ck_assert_int_eq(dget(d, "m", 1), INT64_MIN);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

START_TEST(dict_handles) {
  const char *base = tc_path("d5");
  int64_t x = 0;
  ck_fsc(fsc_dict_incr(NULL, "k", 1, 1, &x), FSC_EINVAL);
  fsc_dict *d = dopen(base, FSC_TYPE_INT64, FSC_CREATE, FSC_DURABLE_NONE);
  dincr_n(d, "k", 1, 0, 1, 3);
  /* An error left by an earlier call is cleared, as by any call. */
  fsc_value v;
  ck_fsc(fsc_dict_get(d, "absent", 6, &v), FSC_EKEY);
  ck_assert_str_ne(fsc_errmsg(), "");
  ck_ok(fsc_dict_incr(d, "k", 1, 1, &x));
  ck_assert_int_eq(x, 4);
  ck_assert_str_eq(fsc_errmsg(), "");
  /* Read-only. */
  fsc_dict *r = dopen(base, FSC_TYPE_INT64, FSC_RDONLY, FSC_DURABLE_NONE);
  ck_fsc(fsc_dict_incr(r, "k", 1, 1, &x), FSC_EROFS);
  ck_ok(fsc_dict_close(r));
  fsc_dict_free(r);
  /* Durability ALWAYS: through the full path (a sync per write). */
  fsc_dict *a = dopen(base, FSC_TYPE_INT64, 0, FSC_DURABLE_ALWAYS);
  ck_ok(fsc_dict_incr(a, "k", 1, 10, &x));
  ck_assert_int_eq(x, 14);
  ck_ok(fsc_dict_close(a));
  fsc_dict_free(a);
  /* Closed. */
  ck_ok(fsc_dict_close(d));
  ck_fsc(fsc_dict_incr(d, "k", 1, 1, &x), FSC_ECLOSED);
  fsc_dict_free(d);
  d = dopen(base, FSC_TYPE_INT64, 0, FSC_DURABLE_NONE);
  ck_assert_int_eq(dget(d, "k", 1), 14);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* The close word of the dict counter at rec (data file version 4: the
 * payload's 8 bytes before the value word), or -1 if it has none. */
static off_t dict_cw(const char *base, uint64_t rec) {
  uint64_t size = tc_peek64(tc_fpath(base, "data"), (off_t)(rec + 8));
  uint32_t kl = 0;
  tc_peek(tc_fpath(base, "data"), (off_t)(rec + 16), &kl, 4);
  uint64_t head = (4 + (uint64_t)kl + 7) & ~UINT64_C(7);
  return size == head + 16 ? -1 : (off_t)(rec + 16 + size - 24);
}

/* Run in a data file of version 3 (no close words: the test hook) and of
 * version 4 (`_i`: 0 and 1). */
START_TEST(dict_ctl_bits) {
  const char *base = tc_path("d6");
  if (_i == 0)
    ck_assert_int_eq(setenv("FSC_TEST_DATA_VERSION", "3", 1), 0);
  fsc_dict *d = dopen(base, FSC_TYPE_INT64, FSC_CREATE, FSC_DURABLE_NONE);
  ck_assert_int_eq(unsetenv("FSC_TEST_DATA_VERSION"), 0);
  dincr_n(d, "hits", 4, 0, 1, 5);
  /* Closed (as compaction, a pop or a replacing CAS leaves it while the
   * slot still names it): replaced by a new counter, the value kept.  A
   * closer sets the bit in the close word too (doc/FORMAT.md). */
  uint64_t r0 = dict_ctr(base, "hits");
  off_t cw = dict_cw(base, r0);
  ck_assert_int_eq(cw >= 0, _i == 1);
  if (cw >= 0) {
    ck_assert_int_eq(cw % 16, 0); /* one aligned block with the value */
    tc_poke64(tc_fpath(base, "data"), cw,
              tc_peek64(tc_fpath(base, "data"), cw) | CTR_CLOSED);
  }
  ctl_or(base, r0, CTR_CLOSED);
  dincr_n(d, "hits", 4, 5, 1, 5);
  uint64_t r1 = dict_ctr(base, "hits");
  ck_assert_uint_gt(r1, r0);
  ck_assert_uint_eq(ctl_at(base, r1) & CTR_CLOSED, 0);
  ck_assert_int_eq(dget(d, "hits", 4), 10);
  if (_i == 0) {
    /* Abandoned (a closer gave up on a writer inside): the add counts,
     * and the writer that leaves reports it.  (A three-atomic writer: a
     * one-atomic writer on a close word is never inside, and a closer
     * sets CLOSED before it can give up, which sends it here.) */
    ctl_or(base, r1, CTR_ABANDONED);
    int64_t x = 0;
    ck_fsc(fsc_dict_incr(d, "hits", 4, 1, &x), FSC_ETIMEDOUT);
    ck_assert_int_eq(dget(d, "hits", 4), 11);
  }
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* Is a migration in progress (the active table's hw has KS_HW_MIG)? */
static bool migrating(const char *base) {
  const char *ip = tc_fpath(base, "index");
  uint64_t w = tc_peek64(ip, I_LENWORD);
  return (tc_peek64(ip, I_DESC(LW_BUF(w)) + 16) & HW_MIG) != 0;
}

START_TEST(dict_migrating) {
  const char *base = tc_path("d7");
  fsc_dict *d = dopen(base, FSC_TYPE_INT64, FSC_CREATE, FSC_DURABLE_NONE);
  enum { C = 64 };
  char k[32];
  for (int i = 0; i < C; i++) {
    int n = snprintf(k, sizeof k, "c%d", i);
    dincr_n(d, k, (size_t)n, 0, 1, 1);
  }
  /* Fill until a growth migrates a table of some size. */
  long i = 0;
  for (; i < 200000 && !(i >= 3000 && migrating(base)); i++) {
    snprintf(k, sizeof k, "f%ld", i);
    ck_ok(fsc_dict_set_i64(d, k, i));
  }
  ck_assert_msg(migrating(base), "no migration after %ld keys", i);
  /* The structure lock held (flock of a descriptor of our own): no
   * writer steps the migration on, so the counters are met in both
   * tables. */
  int lfd = open(tc_fpath(base, "index"), O_RDONLY);
  ck_assert_int_ge(lfd, 0);
  ck_assert_int_eq(flock(lfd, LOCK_EX), 0);
  off_t sz = data_size(base);
  for (int j = 0; j < C; j++) {
    int n = snprintf(k, sizeof k, "c%d", j);
    dincr_n(d, k, (size_t)n, 1, 3, 20);
  }
  ck_assert(migrating(base));
  ck_assert_int_eq(data_size(base), sz); /* all of them in place */
  close(lfd);
  for (int j = 0; j < C; j++) {
    int n = snprintf(k, sizeof k, "c%d", j);
    ck_assert_int_eq(dget(d, k, (size_t)n), 61);
  }
  fsc_verify_report r;
  memset(&r, 0, sizeof r);
  r.size = sizeof r;
  ck_ok(fsc_dict_verify(d, 0, &r)); /* (finishes the migration) */
  ck_assert(r.healthy);
  ck_assert(!migrating(base));
  for (int j = 0; j < C; j++) {
    int n = snprintf(k, sizeof k, "c%d", j);
    dincr_n(d, k, (size_t)n, 61, 1, 2);
  }
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* ------------------------------------------------------------------ */

START_TEST(list_not_yet_counter) {
  const char *base = tc_path("l1");
  fsc_list *l = lopen(base, FSC_TYPE_INT64, FSC_CREATE, false);
  int64_t x = 0;
  ck_fsc(fsc_list_incr(l, 0, 1, &x), FSC_EINDEX); /* empty */
  ck_ok(fsc_list_append_i64(l, 5));
  ck_ok(fsc_list_append_i64(l, 50));
  ck_ok(fsc_list_append_i64(l, 500));
  for (int i = 1; i <= 3; i++) {
    ck_ok(fsc_list_incr(l, 0, 1, &x));
    ck_assert_int_eq(x, 5 + i);
    ck_ok(fsc_list_incr(l, -1, 2, &x));
    ck_assert_int_eq(x, 500 + 2 * i);
  }
  ck_fsc(fsc_list_incr(l, 3, 1, &x), FSC_EINDEX);
  ck_fsc(fsc_list_incr(l, -4, 1, &x), FSC_EINDEX);
  /* In place: the data file does not grow. */
  off_t sz = data_size(base);
  for (int i = 1; i <= 1000; i++) {
    ck_ok(fsc_list_incr(l, 2, -1, &x));
    ck_assert_int_eq(x, 506 - i);
  }
  ck_assert_int_eq(data_size(base), sz);
  /* HEAD moves (a pop at the head), elements shift (an insert at 0). */
  fsc_value v;
  ck_ok(fsc_list_pop(l, 0, &v));
  ck_assert_int_eq(v.u.i64, 8);
  ck_ok(fsc_list_incr(l, 0, 1, &x));
  ck_assert_int_eq(x, 51);
  fsc_value z = fsc_i64(7);
  ck_ok(fsc_list_insert(l, 0, &z));
  ck_ok(fsc_list_incr(l, 1, 1, &x));
  ck_assert_int_eq(x, 52);
  ck_ok(fsc_list_incr(l, 0, 1, &x));
  ck_assert_int_eq(x, 8);
  ck_assert_int_eq(lget(l, 2), -494);
  /* Set again (a plain record), then in place. */
  ck_ok(fsc_list_set_i64(l, 1, 1000));
  ck_ok(fsc_list_incr(l, 1, 1, &x));
  ck_ok(fsc_list_incr(l, 1, 1, &x));
  ck_assert_int_eq(x, 1002);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(list_other_types) {
  fsc_list *l = lopen(tc_path("l2"), FSC_TYPE_ANY, FSC_CREATE, false);
  int64_t x = 0;
  fsc_value s = fsc_str("text"), f = fsc_f64(1.5);
  ck_ok(fsc_list_append(l, &s));
  ck_ok(fsc_list_append(l, &f));
  ck_ok(fsc_list_append_i64(l, 1));
  ck_fsc(fsc_list_incr(l, 0, 1, &x), FSC_ETYPE);
  ck_fsc(fsc_list_incr(l, 1, 1, &x), FSC_ETYPE);
  ck_ok(fsc_list_incr(l, 2, 1, &x));
  ck_ok(fsc_list_incr(l, 2, 1, &x));
  ck_assert_int_eq(x, 3);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
  l = lopen(tc_path("l2s"), FSC_TYPE_STRING, FSC_CREATE, false);
  ck_ok(fsc_list_append(l, &s));
  ck_fsc(fsc_list_incr(l, 0, 1, &x), FSC_ETYPE);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(list_overflow_and_handles) {
  const char *base = tc_path("l3");
  int64_t x = 0;
  ck_fsc(fsc_list_incr(NULL, 0, 1, &x), FSC_EINVAL);
  fsc_list *l = lopen(base, FSC_TYPE_INT64, FSC_CREATE, false);
  ck_ok(fsc_list_append_i64(l, INT64_MAX - 1));
  ck_ok(fsc_list_incr(l, 0, 1, &x)); /* (now a counter) */
  ck_assert_int_eq(x, INT64_MAX);
  ck_fsc(fsc_list_incr(l, 0, 1, &x), FSC_EVALUE);
  ck_assert_str_eq(fsc_errmsg(), "int64 overflow: 9223372036854775807 + 1");
  ck_assert_int_eq(lget(l, 0), INT64_MAX);
  ck_ok(fsc_list_incr(l, 0, -INT64_MAX, &x));
  ck_assert_int_eq(x, 0);
  /* An error left by an earlier call is cleared, as by any call. */
  ck_fsc(fsc_list_incr(l, 9, 1, &x), FSC_EINDEX);
  ck_ok(fsc_list_incr(l, 0, 1, &x));
  ck_assert_int_eq(x, 1);
  ck_assert_str_eq(fsc_errmsg(), "");
  /* Read-only; closed. */
  fsc_list *r = lopen(base, FSC_TYPE_INT64, FSC_RDONLY, false);
  ck_fsc(fsc_list_incr(r, 0, 1, &x), FSC_EROFS);
  ck_ok(fsc_list_close(r));
  fsc_list_free(r);
  ck_ok(fsc_list_close(l));
  ck_fsc(fsc_list_incr(l, 0, 1, &x), FSC_ECLOSED);
  fsc_list_free(l);
  /* Swap and pop (auto_compact): plain records rewritten, not counters. */
  l = lopen(base, FSC_TYPE_INT64, 0, true);
  for (int i = 1; i <= 5; i++) {
    ck_ok(fsc_list_incr(l, 0, 2, &x));
    ck_assert_int_eq(x, 1 + 2 * i);
  }
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(list_ctl_bits) {
  const char *base = tc_path("l4");
  fsc_list *l = lopen(base, FSC_TYPE_INT64, FSC_CREATE, false);
  int64_t x = 0;
  ck_ok(fsc_list_append_i64(l, 0));
  ck_ok(fsc_list_append_i64(l, 0));
  ck_ok(fsc_list_incr(l, 1, 0x1234567, &x));
  ck_ok(fsc_list_incr(l, 1, 0x1000000, &x)); /* in place */
  uint64_t r0 = list_ctr(base, 0x2234567);
  ctl_or(base, r0, CTR_CLOSED);
  ck_ok(fsc_list_incr(l, 1, 1, &x));
  ck_assert_int_eq(x, 0x2234568);
  uint64_t r1 = list_ctr(base, 0x2234568);
  ck_assert_uint_gt(r1, r0);
  ck_ok(fsc_list_incr(l, 1, 1, &x)); /* in place in the new one */
  ck_assert_int_eq(x, 0x2234569);
  ck_assert_uint_eq(list_ctr(base, 0x2234569), r1);
  ctl_or(base, r1, CTR_ABANDONED);
  ck_fsc(fsc_list_incr(l, 1, 1, &x), FSC_ETIMEDOUT);
  ck_assert_int_eq(lget(l, 1), 0x223456a);
  ck_assert_int_eq(lget(l, 0), 0);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

#define CHILD_OK(call)                                                        \
  do {                                                                        \
    int child_rc_ = (call);                                                   \
    if (child_rc_ != 0) {                                                     \
      fprintf(stderr, "%s:%d %s: %d %s\n", __FILE__, __LINE__, #call,         \
              child_rc_, fsc_errmsg());                                       \
      _exit(91);                                                              \
    }                                                                         \
  } while (0)

START_TEST(list_races_pop_compact) {
  const char *base = tc_path("l5");
  enum { P = 2, N = 30000, E = 400, POPS = 300, COMPACTIONS = 6 };
  fsc_list *l = lopen(base, FSC_TYPE_INT64, FSC_CREATE, false);
  for (int i = 0; i < E; i++)
    ck_ok(fsc_list_append_i64(l, 0));
  /* [0]: the popped values' sum; [1]: pops done; [2..]: increments. */
  int64_t *sh = tc_shm(sizeof(int64_t) * (2 + P));
  pid_t pids[P + 1];
  for (int i = 0; i < P; i++) {
    if ((pids[i] = fork()) == 0) {
      fsc_list *cl = lopen(base, FSC_TYPE_INT64, 0, false);
      int64_t j = 0;
      /* At least N each, and on until the pops are done. */
      for (; j < N || !__atomic_load_n(&sh[1], __ATOMIC_SEQ_CST); j++)
        CHILD_OK(fsc_list_incr(cl, 0, 1, NULL));
      sh[2 + i] = j;
      fsc_list_close(cl);
      fsc_list_free(cl);
      _exit(0);
    }
  }
  if ((pids[P] = fork()) == 0) {
    fsc_list *cl = lopen(base, FSC_TYPE_INT64, 0, false);
    int64_t sum = 0;
    for (int j = 0; j < POPS; j++) {
      fsc_value v;
      CHILD_OK(fsc_list_pop(cl, 0, &v));
      sum += v.u.i64;
      if (j % (POPS / COMPACTIONS) == 0)
        CHILD_OK(fsc_list_compact(cl));
      usleep(100);
    }
    sh[0] = sum;
    __atomic_store_n(&sh[1], 1, __ATOMIC_SEQ_CST);
    fsc_list_close(cl);
    fsc_list_free(cl);
    _exit(0);
  }
  tc_reap(pids, P + 1, 300);
  uint64_t n = 0;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_uint_eq(n, E - POPS);
  int64_t left = 0;
  for (uint64_t i = 0; i < n; i++)
    left += lget(l, (int64_t)i);
  int64_t want = 0;
  for (int i = 0; i < P; i++)
    want += sh[2 + i];
  ck_assert_int_ge(want, (int64_t)P * N);
  ck_assert_int_eq(sh[0] + left, want);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* One atomic (x86-64: lock cmpxchg16b over a compact counter's header and
 * value word; doc/CONCURRENCY.md, "Counters in place")                  */
/* ------------------------------------------------------------------ */

#define CTR_INSIDE 0x0fffu

/*
 * One writer process increments an aligned, unsealed int64 list counter
 * while a watcher process maps the data file and reads the record's ctl
 * as fast as it can: the one-atomic path never counts itself inside
 * (its CAS writes the header back as it was), and with no other writer it
 * never fails and falls back, so INSIDE is never seen nonzero.  On the
 * three-atomic path the writer is inside for a third of each increment:
 * the watcher sees it within a few thousand reads (the writer goes on
 * until the watcher has read ctl 2,000,000 times while it ran, or 20 s).
 */
START_TEST(list_one_atomic_never_inside) {
  /* The library's condition for the path (src/internal.h FSC__CTR_ONE),
   * with the same Concurrency Kit and flags (a TSan build's compiler
   * builtins have no ck_pr_cas_64_2: three atomics there). */
#if defined(__x86_64__) && defined(CK_F_PR_CAS_64_2)
  const char *base = tc_path("l6");
  enum { N = 200000, SAMPLES = 2000000 };
  fsc_list *l = lopen(base, FSC_TYPE_INT64, FSC_CREATE, false);
  ck_ok(fsc_list_append_i64(l, 0));
  ck_ok(fsc_list_append_i64(l, 7));
  int64_t x = 0;
  ck_ok(fsc_list_incr(l, 1, 1, &x)); /* a counter now (written sealed) */
  ck_ok(fsc_list_incr(l, 1, 1, &x)); /* unsealed: in place from here */
  ck_assert_int_eq(x, 9);
  uint64_t rec = list_ctr(base, 9);
  /* An int64 list's records are all compact (16 bytes) from 4096 on. */
  ck_assert_uint_eq(rec % 16, 0);
  off_t sz = data_size(base);
  /* [0] writer running, [1] writer done, [2] reads while it ran,
   * [3] reads that saw INSIDE nonzero, [4] increments done. */
  int64_t *sh = tc_shm(5 * sizeof(int64_t));
  pid_t pids[2];
  if ((pids[0] = fork()) == 0) {
    int fd = open(tc_fpath(base, "data"), O_RDONLY);
    const uint8_t *m = fd < 0 ? MAP_FAILED
                              : mmap(NULL, (size_t)rec + 16, PROT_READ,
                                     MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
      _exit(92);
    const uint16_t *ctl = (const uint16_t *)(const void *)(m + rec + 2);
    while (!__atomic_load_n(&sh[0], __ATOMIC_SEQ_CST))
      ;
    int64_t n = 0, seen = 0;
    while (!__atomic_load_n(&sh[1], __ATOMIC_SEQ_CST)) {
      if (__atomic_load_n(ctl, __ATOMIC_RELAXED) & CTR_INSIDE)
        seen++;
      if ((++n & 1023) == 0)
        __atomic_store_n(&sh[2], n, __ATOMIC_SEQ_CST);
    }
    sh[3] = seen;
    _exit(0);
  }
  if ((pids[1] = fork()) == 0) {
    fsc_list *cl = lopen(base, FSC_TYPE_INT64, 0, false);
    __atomic_store_n(&sh[0], 1, __ATOMIC_SEQ_CST);
    double t0 = tc_now_s();
    int64_t j = 0, y = 0;
    for (;; j++) {
      if (j >= N && (j & 1023) == 0 &&
          (__atomic_load_n(&sh[2], __ATOMIC_SEQ_CST) >= SAMPLES ||
           tc_now_s() - t0 > 20))
        break;
      CHILD_OK(fsc_list_incr(cl, 1, 1, &y));
      if (y != 9 + j + 1)
        _exit(93);
    }
    sh[4] = j;
    __atomic_store_n(&sh[1], 1, __ATOMIC_SEQ_CST);
    fsc_list_close(cl);
    fsc_list_free(cl);
    _exit(0);
  }
  tc_reap(pids, 2, 100);
  ck_assert_int_ge(sh[4], N);
  ck_assert_int_gt(sh[2], 0);
  ck_assert_msg(sh[3] == 0, "ctl counted a writer inside in %lld of %lld "
                "reads", (long long)sh[3], (long long)sh[2]);
  ck_assert_int_eq(lget(l, 1), 9 + sh[4]);
  ck_assert_uint_eq(list_ctr(base, 9 + sh[4]), rec); /* in place */
  ck_assert_uint_eq(ctl_at(base, rec) & (CTR_INSIDE | CTR_CLOSED), 0);
  ck_assert_int_eq(data_size(base), sz);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
#endif
}
END_TEST

/* Increments on the one-atomic path racing compare-and-swaps of the same
 * counter in place (fsc__ctr_rmw: inside the three-atomic protocol): 2
 * processes x 100,000 increments, one process with 2,000 successful
 * swaps each adding 1,000.  Exact total.  (Closers racing it: the pops and
 * compactions of list_races_pop_compact.) */
START_TEST(list_one_atomic_races_cas) {
  const char *base = tc_path("l9");
  enum { P = 2, N = 100000, K = 2000 };
  fsc_list *l = lopen(base, FSC_TYPE_INT64, FSC_CREATE, false);
  int64_t x = 0;
  ck_ok(fsc_list_append_i64(l, 0));
  ck_ok(fsc_list_incr(l, 0, 1, &x));
  ck_ok(fsc_list_incr(l, 0, 1, &x)); /* unsealed */
  ck_assert_uint_eq(list_ctr(base, 2) % 16, 0);
  pid_t pids[P + 1];
  for (int i = 0; i < P; i++) {
    if ((pids[i] = fork()) == 0) {
      fsc_list *cl = lopen(base, FSC_TYPE_INT64, 0, false);
      for (int j = 0; j < N; j++)
        CHILD_OK(fsc_list_incr(cl, 0, 1, NULL));
      fsc_list_close(cl);
      fsc_list_free(cl);
      _exit(0);
    }
  }
  if ((pids[P] = fork()) == 0) {
    fsc_list *cl = lopen(base, FSC_TYPE_INT64, 0, false);
    int64_t cur = 0;
    CHILD_OK(fsc_list_get_i64(cl, 0, &cur));
    for (int k = 0; k < K;) {
      fsc_value e = fsc_i64(cur), d = fsc_i64(cur + 1000), now;
      int rc = fsc_list_cas(cl, 0, &e, &d, &now);
      if (rc < 0)
        CHILD_OK(rc);
      if (rc == 1) {
        k++;
        cur += 1000;
      } else {
        cur = now.u.i64;
      }
    }
    fsc_list_close(cl);
    fsc_list_free(cl);
    _exit(0);
  }
  tc_reap(pids, P + 1, 240);
  ck_assert_int_eq(lget(l, 0), 2 + (int64_t)P * N + 1000 * (int64_t)K);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* P processes, each n increments of `per` elements of the list at base
 * (element j % per on its j-th), `dur` its durability; each answer must
 * be more than the element's value before it. */
static void incr_procs(const char *base, fsc_type t, pid_t *pids, int p,
                       int n, int per, fsc_durability dur) {
  for (int i = 0; i < p; i++) {
    if ((pids[i] = fork()) == 0) {
      fsc_options o = FSC_OPTIONS_INIT;
      o.type = t;
      o.durability = dur;
      fsc_list *cl = NULL;
      CHILD_OK(fsc_list_open(base, &o, &cl));
      for (int j = 0; j < n; j++) {
        int64_t e = j % per, y = 0, before = 0;
        CHILD_OK(fsc_list_get_i64(cl, e, &before));
        CHILD_OK(fsc_list_incr(cl, e, 1, &y));
        if (y <= before)
          _exit(94);
      }
      fsc_list_close(cl);
      fsc_list_free(cl);
      _exit(0);
    }
  }
}

/* 8 processes x 100,000 increments of one element, then of 8 elements:
 * exact totals, all in place (the data file does not grow). */
START_TEST(list_one_atomic_totals) {
  const char *base = tc_path("l7");
  enum { P = 8, N = 100000, E = 8 };
  fsc_list *l = lopen(base, FSC_TYPE_INT64, FSC_CREATE, false);
  int64_t x = 0;
  for (int e = 0; e < E; e++) {
    ck_ok(fsc_list_append_i64(l, 1000 * e));
    ck_ok(fsc_list_incr(l, e, 1, &x));
    ck_ok(fsc_list_incr(l, e, 1, &x)); /* unsealed */
    ck_assert_uint_eq(list_ctr(base, 1000 * e + 2) % 16, 0);
  }
  off_t sz = data_size(base);
  pid_t pids[P];
  incr_procs(base, FSC_TYPE_INT64, pids, P, N, 1, FSC_DURABLE_NONE);
  tc_reap(pids, P, 240);
  ck_assert_int_eq(lget(l, 0), 2 + (int64_t)P * N);
  incr_procs(base, FSC_TYPE_INT64, pids, P, N, E, FSC_DURABLE_NONE);
  tc_reap(pids, P, 240);
  for (int e = 0; e < E; e++)
    ck_assert_int_eq(lget(l, e), 1000 * e + 2 + (int64_t)P * N / E +
                                     (e == 0 ? (int64_t)P * N : 0));
  ck_assert_int_eq(data_size(base), sz);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/*
 * Both protocols on the same records at once: a list of any type whose 8
 * counters alternate between 16-aligned records (one atomic) and records
 * at 8 mod 16 (three atomics: a 24-byte string record written between
 * them shifts the tail), incremented by 6 processes with the fast path
 * and 2 with durability ALWAYS (every increment through fsc__ctr_rmw's
 * enter, add, leave, and a sync).  Exact totals.
 */
START_TEST(list_one_atomic_mixed) {
  const char *base = tc_path("l8");
  enum { P = 6, N = 50000, Q = 2, M = 200, E = 8 };
  fsc_list *l = lopen(base, FSC_TYPE_ANY, FSC_CREATE, false);
  int64_t x = 0;
  for (int e = 0; e < E; e++)
    ck_ok(fsc_list_append_i64(l, 1000 * e));
  ck_ok(fsc_list_append_str(l, "abc"));
  /* The tail is at 8 mod 16 now (8 records of 16 bytes, one of 24); each
   * counter record is written at the tail, and a string record between
   * two counters moves it on by 24. */
  fsc_value str = fsc_str("abc");
  int aligned = 0;
  for (int e = 0; e < E; e++) {
    ck_ok(fsc_list_incr(l, e, 1, &x));
    ck_ok(fsc_list_incr(l, e, 1, &x)); /* unsealed */
    ck_ok(fsc_list_set(l, E, &str));
    uint64_t rec = list_ctr(base, 1000 * e + 2);
    ck_assert_uint_eq(rec % 16, e % 2 ? 0 : 8);
    aligned += rec % 16 == 0;
  }
  ck_assert_int_eq(aligned, E / 2);
  pid_t pids[P + Q];
  incr_procs(base, FSC_TYPE_ANY, pids, P, N, E, FSC_DURABLE_NONE);
  incr_procs(base, FSC_TYPE_ANY, pids + P, Q, M, E, FSC_DURABLE_ALWAYS);
  tc_reap(pids, P + Q, 240);
  for (int e = 0; e < E; e++)
    ck_assert_int_eq(lget(l, e), 1000 * e + 2 + (int64_t)P * N / E +
                                     (int64_t)Q * M / E);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("incr_fast");
  TCase *tc = tcase_create("incr_fast");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, dict_not_yet_counter);
  tcase_add_test(tc, dict_keys);
  tcase_add_test(tc, dict_other_types);
  tcase_add_test(tc, dict_overflow);
  tcase_add_test(tc, dict_handles);
  tcase_add_loop_test(tc, dict_ctl_bits, 0, 2);
  tcase_add_test(tc, dict_migrating);
  tcase_add_test(tc, list_not_yet_counter);
  tcase_add_test(tc, list_other_types);
  tcase_add_test(tc, list_overflow_and_handles);
  tcase_add_test(tc, list_ctl_bits);
  tcase_add_test(tc, list_races_pop_compact);
  tcase_add_test(tc, list_one_atomic_never_inside);
  tcase_add_test(tc, list_one_atomic_totals);
  tcase_add_test(tc, list_one_atomic_mixed);
  tcase_add_test(tc, list_one_atomic_races_cas);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tc_run(suite()); }
