/*
 * test_list_records.c - the compact record form (doc/FORMAT.md, "Compact
 * records"): a data file this build creates (version 2 or 3) stores every
 * 8-byte payload (int64 and float list elements, int32 set elements) in 16
 * bytes: an 8-byte header whose type byte has bit 7 set, then the value.
 * The list's operations on such records (append, get, set, pop, incr,
 * cas, swap and pop, compaction, verify, recovery), damage to them found
 * and repaired, the size on disk, and a file of the earlier format
 * (version 1, full headers only) that still opens, reads and is written
 * in its own form until a compaction rewrites it.
 */
#include "check_common.h"
#include "check_records.h"

#include <fcntl.h>
#include <stdint.h>

#define HDR 4096
#define D_VERSION 8
#define D_TAIL 64
#define COMPACT 0x80u

static uint8_t peek8(const char *p, off_t at) {
  uint8_t x;
  tc_peek(p, at, &x, 1);
  return x;
}

static uint64_t dtail(const char *base) {
  return tc_peek64(tc_fpath(base, "data"), D_TAIL);
}

static fsc_list *lopen(const char *base, fsc_type t, bool auto_compact) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = t;
  o.auto_compact = auto_compact;
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(base, &o, &l));
  return l;
}

static void lclose(fsc_list *l) {
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}

static int64_t lget(fsc_list *l, int64_t i) {
  int64_t x = 0;
  ck_ok(fsc_list_get_i64(l, i, &x));
  return x;
}

static uint64_t llen(fsc_list *l) {
  uint64_t n = 0;
  ck_ok(fsc_list_len(l, &n));
  return n;
}

static fsc_verify_report rep(void) {
  fsc_verify_report r;
  memset(&r, 0, sizeof r);
  r.size = sizeof r;
  return r;
}

static void ck_healthy(fsc_list *l, uint64_t n) {
  fsc_verify_report r = rep();
  ck_ok(fsc_list_verify(l, 0, &r));
  ck_assert(r.healthy);
  ck_assert_uint_eq(r.records_checked, n);
  ck_assert_uint_eq(r.records_bad, 0);
}

static uint64_t generation(fsc_list *l) {
  fsc_metrics m;
  memset(&m, 0, sizeof m);
  m.size = sizeof m;
  ck_ok(fsc_list_metrics(l, &m));
  return m.generation;
}

/* The record of element i: the list's slot (the index's first array
 * holds the elements of a list that never moved its head). */
static uint64_t rec_of(const char *base, int64_t i) {
  const char *ip = tc_fpath(base, "index");
  uint64_t w = tc_peek64(ip, 64);
  uint64_t arr = tc_peek64(ip, 72 + 24 * ((w >> 62) & 1));
  return tc_peek64(ip, (off_t)(arr + 8 * (uint64_t)i)) & ~UINT64_C(7);
}

/* The clean-close marker cleared: the next opener recovers. */
static void unmark(const char *base) {
  const char *ip = tc_fpath(base, "index");
  struct stat st;
  ck_assert_int_eq(stat(ip, &st), 0);
  uint8_t z = 0;
  tc_poke(ip, st.st_size - 1, &z, 1);
}

/* ------------------------------------------------------------------ */
/* Operations on compact records                                       */
/* ------------------------------------------------------------------ */

START_TEST(test_int64_ops) {
  const char *base = tc_path("i");
  fsc_list *l = lopen(base, FSC_TYPE_INT64, false);
  ck_assert_uint_eq(tc_peek64(tc_fpath(base, "data"), D_VERSION) & 0xffffffffu,
                    4);
  for (int64_t i = 0; i < 100; i++)
    ck_ok(fsc_list_append_i64(l, i * 10));
  /* 16 bytes each, the type byte flagged, the value 8 bytes in. */
  ck_assert_uint_eq(dtail(base), HDR + 100 * 16);
  char dpb[700];
  const char *dp = strcpy(dpb, tc_fpath(base, "data"));
  for (int64_t i = 0; i < 100; i++) {
    uint64_t r = rec_of(base, i);
    ck_assert_uint_eq(r, HDR + 16 * (uint64_t)i);
    ck_assert_uint_eq(peek8(dp, (off_t)r), COMPACT | FSC_TYPE_INT64);
    ck_assert_int_eq((int64_t)tc_peek64(dp, (off_t)r + 8), i * 10);
    ck_assert_int_eq(lget(l, i), i * 10);
  }
  /* set: one more record; incr: the first replaces the element with a
   * counter record, the next ones add in place; cas in place. */
  ck_ok(fsc_list_set_i64(l, 5, 555));
  ck_assert_uint_eq(dtail(base), HDR + 101 * 16);
  int64_t x;
  ck_ok(fsc_list_incr(l, 7, 3, &x));
  ck_assert_int_eq(x, 73);
  uint64_t t = dtail(base);
  for (int k = 0; k < 5; k++)
    ck_ok(fsc_list_incr(l, 7, 1, &x));
  ck_assert_int_eq(x, 78);
  ck_assert_uint_eq(dtail(base), t); /* in place */
  uint64_t r7 = rec_of(base, 7);
  ck_assert_uint_eq(peek8(dp, (off_t)r7), COMPACT | FSC_TYPE_INT64);
  uint16_t ctl;
  tc_peek(dp, (off_t)r7 + 2, &ctl, 2);
  ck_assert_uint_ne(ctl & 0x8000u, 0); /* a counter */
  fsc_value e = fsc_i64(78), d = fsc_i64(-78), cur;
  ck_fsc(fsc_list_cas(l, 7, &e, &d, &cur), 1);
  ck_assert_int_eq(lget(l, 7), -78);
  ck_fsc(fsc_list_cas(l, 7, &e, &d, &cur), 0);
  ck_assert_int_eq(cur.u.i64, -78);
  e = fsc_i64(80);
  d = fsc_i64(88);
  ck_fsc(fsc_list_cas(l, 8, &e, &d, &cur), 1);
  ck_assert_int_eq(lget(l, 8), 88);
  fsc_value out;
  ck_ok(fsc_list_pop(l, -1, &out));
  ck_assert_int_eq(out.u.i64, 990);
  ck_ok(fsc_list_pop(l, 0, &out));
  ck_assert_int_eq(out.u.i64, 0);
  ck_ok(fsc_list_pop(l, 6, &out)); /* element 7 now: the counter */
  ck_assert_int_eq(out.u.i64, -78);
  ck_assert_uint_eq(llen(l), 97);
  ck_healthy(l, 97);
  lclose(l);
  /* Reopened: the same values; compacted: 16 bytes each again. */
  l = lopen(base, FSC_TYPE_INT64, false);
  ck_assert_int_eq(lget(l, 0), 10);
  ck_assert_int_eq(lget(l, 4), 555);
  ck_assert_int_eq(lget(l, 6), 88);
  ck_assert_int_eq(lget(l, 96), 980);
  ck_ok(fsc_list_compact(l));
  ck_assert_uint_eq(generation(l), 2);
  ck_assert_uint_eq(dtail(base), HDR + 97 * 16);
  ck_assert_int_eq(lget(l, 4), 555);
  ck_assert_int_eq(lget(l, 6), 88);
  ck_ok(fsc_list_incr(l, 6, 2, &x));
  ck_assert_int_eq(x, 90);
  ck_healthy(l, 97);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(test_float_ops) {
  const char *base = tc_path("f");
  fsc_list *l = lopen(base, FSC_TYPE_FLOAT, false);
  for (int i = 0; i < 50; i++)
    ck_ok(fsc_list_append_f64(l, i + 0.5));
  ck_assert_uint_eq(dtail(base), HDR + 50 * 16);
  ck_assert_uint_eq(peek8(tc_fpath(base, "data"), HDR),
                    COMPACT | FSC_TYPE_FLOAT);
  double x;
  ck_ok(fsc_list_get_f64(l, 49, &x));
  ck_assert(x == 49.5);
  fsc_value v = fsc_f64(-1.25);
  ck_ok(fsc_list_set(l, 3, &v));
  fsc_value e = fsc_f64(4.5), d = fsc_f64(44.5), cur;
  ck_fsc(fsc_list_cas(l, 4, &e, &d, &cur), 1);
  ck_ok(fsc_list_get_f64(l, 3, &x));
  ck_assert(x == -1.25);
  ck_ok(fsc_list_get_f64(l, 4, &x));
  ck_assert(x == 44.5);
  fsc_value out;
  ck_ok(fsc_list_pop(l, 10, &out));
  ck_assert(out.u.f == 10.5);
  ck_healthy(l, 49);
  ck_ok(fsc_list_compact(l));
  ck_assert_uint_eq(dtail(base), HDR + 49 * 16);
  ck_ok(fsc_list_get_f64(l, 4, &x));
  ck_assert(x == 44.5);
  ck_healthy(l, 49);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* A heterogeneous list: compact and full records side by side. */
START_TEST(test_mixed_forms) {
  const char *base = tc_path("m");
  fsc_list *l = lopen(base, FSC_TYPE_ANY, false);
  fsc_value vals[] = {fsc_i64(7), fsc_str("a string"), fsc_f64(2.5),
                      fsc_i32(-3), fsc_bool(true), fsc_str("12345678")};
  const size_t n = sizeof vals / sizeof *vals;
  for (int rep_ = 0; rep_ < 3; rep_++)
    for (size_t i = 0; i < n; i++)
      ck_ok(fsc_list_append(l, &vals[i]));
  ck_healthy(l, 3 * n);
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < 3 * n; i++) {
      fsc_value v;
      ck_ok(fsc_list_get(l, (int64_t)i, &v));
      ck_assert_int_eq(v.type, vals[i % n].type);
      if (v.type == FSC_TYPE_INT64)
        ck_assert_int_eq(v.u.i64, 7);
    }
    lclose(l);
    l = lopen(base, FSC_TYPE_ANY, false);
    ck_ok(fsc_list_compact(l));
    ck_healthy(l, 3 * n);
  }
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* Swap and pop rewrites the last record in place over the popped one and
 * gives the tail back, 16 bytes at a time. */
START_TEST(test_swap_pop) {
  const char *base = tc_path("s");
  fsc_list *l = lopen(base, FSC_TYPE_INT64, true);
  for (int64_t i = 0; i < 10; i++)
    ck_ok(fsc_list_append_i64(l, i));
  fsc_value out;
  ck_ok(fsc_list_pop(l, 2, &out));
  ck_assert_int_eq(out.u.i64, 2);
  ck_assert_uint_eq(dtail(base), HDR + 9 * 16);
  ck_assert_int_eq(lget(l, 2), 9);
  ck_ok(fsc_list_pop(l, -1, &out));
  ck_assert_int_eq(out.u.i64, 8);
  ck_assert_uint_eq(dtail(base), HDR + 8 * 16);
  int64_t x;
  ck_ok(fsc_list_incr(l, 2, 5, &x));
  ck_assert_int_eq(x, 14);
  ck_healthy(l, 8);
  lclose(l);
  l = lopen(base, FSC_TYPE_INT64, true);
  ck_assert_int_eq(lget(l, 2), 14);
  ck_healthy(l, 8);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* A set's int32 elements (4-byte key length + 4 bytes) are compact
 * records too: add, find, discard, iterate, rebuild, compact. */
START_TEST(test_set_int32) {
  const char *base = tc_path("set");
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT32;
  fsc_set *s = NULL;
  ck_ok(fsc_set_open(base, &o, &s));
  for (int i = 0; i < 200; i++) {
    fsc_value v = fsc_i32(i);
    ck_fsc(fsc_set_add(s, &v), 1);
  }
  ck_assert_uint_eq(peek8(tc_fpath(base, "data"), HDR),
                    COMPACT | FSC_TYPE_INT32);
  for (int i = 0; i < 200; i += 2) {
    fsc_value v = fsc_i32(i);
    ck_fsc(fsc_set_discard(s, &v), 1);
  }
  fsc_set_iter it;
  fsc_value v;
  ck_ok(fsc_set_iter_init(s, &it));
  int seen = 0;
  while (fsc_set_iter_next(&it, &v) == 1) {
    ck_assert_int_eq(v.u.i32 % 2, 1);
    seen++;
  }
  ck_assert_int_eq(seen, 100);
  fsc_verify_report r = rep();
  ck_ok(fsc_set_verify(s, 0, &r));
  ck_assert(r.healthy);
  ck_ok(fsc_set_close(s));
  fsc_set_free(s);
  /* An unclean end: the opener checks every slot; then compact. */
  unmark(base);
  ck_ok(fsc_set_open(base, &o, &s));
  ck_ok(fsc_set_compact(s));
  for (int i = 0; i < 200; i++) {
    v = fsc_i32(i);
    ck_fsc(fsc_set_contains(s, &v), i % 2);
  }
  r = rep();
  ck_ok(fsc_set_verify(s, 0, &r));
  ck_assert(r.healthy);
  ck_ok(fsc_set_destroy(s));
  fsc_set_free(s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Damage                                                              */
/* ------------------------------------------------------------------ */

/* Ways to damage a compact record's first byte: the COMPACT bit cleared
 * (the value becomes a full header's size: 30, a record that runs over
 * its neighbours, or one far past the tail), a type bit flipped (int64 to
 * float, the checksum's seed changes), both. */
static const struct {
  uint8_t xor_;
  uint64_t value;
} damage[] = {
    {COMPACT, 30},         {COMPACT, UINT64_C(1) << 50},
    {0x04, 30},            {COMPACT | 0x01, 30},
    {COMPACT, 8},
};

START_TEST(test_damage_found_and_repaired) {
  const char *base = tc_path("d");
  fsc_list *l = lopen(base, FSC_TYPE_INT64, false);
  for (int64_t i = 0; i < 10; i++)
    ck_ok(fsc_list_append_i64(l, i * 10));
  char dpb[700];
  const char *dp = strcpy(dpb, tc_fpath(base, "data"));
  uint64_t r3 = rec_of(base, 3);
  tc_poke(dp, (off_t)r3 + 8, &damage[_i].value, 8);
  uint8_t t = peek8(dp, (off_t)r3) ^ damage[_i].xor_;
  tc_poke(dp, (off_t)r3, &t, 1);
  fsc_verify_report r = rep();
  ck_fsc(fsc_list_verify(l, 0, &r), FSC_ECORRUPT);
  ck_assert(!r.healthy);
  ck_assert_uint_eq(r.records_bad, 1);
  r = rep();
  ck_ok(fsc_list_verify(l, FSC_VERIFY_REPAIR, &r));
  ck_assert_uint_eq(r.items_dropped, 1);
  ck_assert_uint_eq(llen(l), 9);
  ck_assert_int_eq(lget(l, 3), 40);
  ck_healthy(l, 9);
  /* The same damage after an unclean end: the opener drops it. */
  ck_ok(fsc_list_append_i64(l, 100));
  uint64_t r0 = rec_of(base, 0);
  lclose(l);
  tc_poke(dp, (off_t)r0 + 8, &damage[_i].value, 8);
  t = peek8(dp, (off_t)r0) ^ damage[_i].xor_;
  tc_poke(dp, (off_t)r0, &t, 1);
  unmark(base);
  l = lopen(base, FSC_TYPE_INT64, false);
  ck_assert_uint_eq(llen(l), 9);
  ck_assert_int_eq(lget(l, 0), 10);
  ck_assert_int_eq(lget(l, 8), 100);
  ck_healthy(l, 9);
  ck_ok(fsc_list_compact(l));
  ck_healthy(l, 9);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Files of the earlier format                                         */
/* ------------------------------------------------------------------ */

/* A data file of version 1 (what every earlier build writes): made here
 * from a new empty list by setting its version back, which is all that
 * differs while it holds no record.  This build opens it, writes full
 * 24-byte records into it (an earlier build can still read them), reads
 * them back, repairs it, and a compaction rewrites it as version 4. */
START_TEST(test_version1_file) {
  const char *base = tc_path("v1");
  fsc_list *l = lopen(base, FSC_TYPE_INT64, false);
  lclose(l);
  char dpb[700];
  const char *dp = strcpy(dpb, tc_fpath(base, "data"));
  uint32_t v1 = 1;
  tc_poke(dp, D_VERSION, &v1, 4);
  l = lopen(base, FSC_TYPE_INT64, false);
  for (int64_t i = 0; i < 100; i++)
    ck_ok(fsc_list_append_i64(l, i));
  ck_assert_uint_eq(dtail(base), HDR + 100 * 24);
  ck_assert_uint_eq(peek8(dp, HDR), FSC_TYPE_INT64); /* full */
  ck_assert_uint_eq(tc_peek64(dp, HDR + 8), 8);
  ck_assert_int_eq((int64_t)tc_peek64(dp, HDR + 24 + 16), 1);
  int64_t x;
  ck_ok(fsc_list_incr(l, 5, 10, &x));
  ck_ok(fsc_list_incr(l, 5, 10, &x));
  ck_assert_int_eq(x, 25);
  fsc_value e = fsc_i64(6), d = fsc_i64(66), cur;
  ck_fsc(fsc_list_cas(l, 6, &e, &d, &cur), 1);
  fsc_value out;
  ck_ok(fsc_list_pop(l, 0, &out));
  ck_assert_int_eq(out.u.i64, 0);
  ck_healthy(l, 99);
  lclose(l);
  /* Still version 1, still full records: an earlier build reads it. */
  ck_assert_uint_eq(tc_peek64(dp, D_VERSION) & 0xffffffffu, 1);
  uint64_t r = rec_of(base, 1);
  ck_assert_uint_eq(peek8(dp, (off_t)r), FSC_TYPE_INT64);
  ck_assert_uint_eq(tc_peek64(dp, (off_t)r + 8), 8);
  /* A COMPACT bit in a file of version 1 is damage. */
  r = rec_of(base, 10);
  uint8_t t = FSC_TYPE_INT64 | COMPACT;
  tc_poke(dp, (off_t)r, &t, 1);
  l = lopen(base, FSC_TYPE_INT64, false);
  ck_assert_int_eq(lget(l, 4), 25);
  ck_assert_int_eq(lget(l, 5), 66);
  fsc_verify_report rp = rep();
  ck_fsc(fsc_list_verify(l, 0, &rp), FSC_ECORRUPT);
  ck_assert_uint_eq(rp.records_bad, 1);
  rp = rep();
  ck_ok(fsc_list_verify(l, FSC_VERIFY_REPAIR, &rp));
  ck_assert_uint_eq(rp.items_dropped, 1);
  ck_healthy(l, 98);
  /* Compaction writes version 4: compact records (and growth under the
   * growth lock, src/file/grow.c). */
  ck_ok(fsc_list_compact(l));
  ck_assert_uint_eq(tc_peek64(dp, D_VERSION) & 0xffffffffu, 4);
  ck_assert_uint_eq(dtail(base), HDR + 98 * 16);
  ck_assert_int_eq(lget(l, 0), 1);
  ck_assert_int_eq(lget(l, 4), 25);
  ck_assert_int_eq(lget(l, 97), 99);
  ck_healthy(l, 98);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* A set of version 1 with full 8-byte records: walks and rebuilds read
 * them (the form is the first byte's, whatever the version says). */
START_TEST(test_version1_set) {
  const char *base = tc_path("v1s");
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT32;
  fsc_set *s = NULL;
  /* (made as the previous build did: version 2, tables with hash words,
   * the form a version 1 file's tables have) */
  ck_assert_int_eq(setenv("FSC_TEST_DATA_VERSION", "2", 1), 0);
  ck_ok(fsc_set_open(base, &o, &s));
  ck_assert_int_eq(unsetenv("FSC_TEST_DATA_VERSION"), 0);
  ck_ok(fsc_set_close(s));
  fsc_set_free(s);
  uint32_t v1 = 1;
  tc_poke(tc_fpath(base, "data"), D_VERSION, &v1, 4);
  ck_ok(fsc_set_open(base, &o, &s));
  for (int i = 0; i < 50; i++) {
    fsc_value v = fsc_i32(i);
    ck_fsc(fsc_set_add(s, &v), 1);
  }
  ck_assert_uint_eq(peek8(tc_fpath(base, "data"), HDR), FSC_TYPE_INT32);
  ck_ok(fsc_set_close(s));
  fsc_set_free(s);
  unmark(base);
  ck_ok(fsc_set_open(base, &o, &s));
  fsc_set_iter it;
  fsc_value v;
  ck_ok(fsc_set_iter_init(s, &it));
  int seen = 0;
  while (fsc_set_iter_next(&it, &v) == 1)
    seen++;
  ck_assert_int_eq(seen, 50);
  fsc_verify_report r = rep();
  ck_ok(fsc_set_verify(s, 0, &r));
  ck_assert(r.healthy);
  ck_ok(fsc_set_destroy(s));
  fsc_set_free(s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Size on disk                                                        */
/* ------------------------------------------------------------------ */

/* 100000 int64 appended with durability NONE, closed: the data file is
 * its header page and 16 bytes per element, rounded to a page. */
START_TEST(test_size_on_disk) {
  const char *base = tc_path("z");
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  o.durability = FSC_DURABLE_NONE;
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(base, &o, &l));
  const uint64_t n = 100000;
  for (uint64_t i = 0; i < n; i++)
    ck_ok(fsc_list_append_i64(l, (int64_t)i));
  lclose(l);
  struct stat st;
  ck_assert_int_eq(stat(tc_fpath(base, "data"), &st), 0);
  ck_assert_uint_le((uint64_t)st.st_size, (HDR + 16 * n + 4095) / 4096 * 4096);
}
END_TEST

static Suite *records_suite(void) {
  Suite *s = suite_create("list_records");
  TCase *tc = tcase_create("ops");
  tcase_add_test(tc, test_int64_ops);
  tcase_add_test(tc, test_float_ops);
  tcase_add_test(tc, test_mixed_forms);
  tcase_add_test(tc, test_swap_pop);
  tcase_add_test(tc, test_set_int32);
  suite_add_tcase(s, tc);
  tc = tcase_create("damage");
  tcase_add_loop_test(tc, test_damage_found_and_repaired, 0,
                      (int)(sizeof damage / sizeof *damage));
  suite_add_tcase(s, tc);
  tc = tcase_create("version1");
  tcase_add_test(tc, test_version1_file);
  tcase_add_test(tc, test_version1_set);
  suite_add_tcase(s, tc);
  tc = tcase_create("size");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_size_on_disk);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tc_run(records_suite()); }
