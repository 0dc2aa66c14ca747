/*
 * test_set.c - the fsc_set API against include/fscollections.h and
 * Python's set semantics: add/discard/remove/contains/pop/clear/len,
 * iteration in add order, the identity rules of the header (type + encoded
 * bytes: int32 1, int64 1 and float 1.0 differ; NaN is found again; 0.0 and
 * -0.0 differ), typed sets, set algebra into a new set and in place checked
 * against a model on random sets, the predicates including empty sets,
 * kinds, growth, persistence of every element type, typed shorthands, scan.
 *
 * Loops over many elements use FAST_* macros, which call into Check only on
 * failure (ck_assert_* write a mark point to a pipe on every success).
 */
#include "check_common.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/stat.h>

#define FAST_ASSERT(cond, ...)                                                \
  do {                                                                        \
    if (!(cond))                                                              \
      ck_abort_msg(__VA_ARGS__);                                              \
  } while (0)

#define FAST_FSC(call, want)                                                  \
  do {                                                                        \
    int fast_rc_ = (call);                                                    \
    if (fast_rc_ != (want))                                                   \
      ck_abort_msg("%s returned %d (%s: %s), want %d", #call, fast_rc_,       \
                   fsc_strerror(fast_rc_), fsc_errmsg(), (int)(want));        \
  } while (0)
#define FAST_OK(call) FAST_FSC(call, 0)

static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s ? s : 0x9E3779B97F4A7C15u; }
static uint64_t rng(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * UINT64_C(2685821657736338717);
}
static unsigned rng_below(unsigned n) { return (unsigned)(rng() % n); }

static fsc_set *sopen_opts(const char *path, fsc_type type, unsigned flags) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = type;
  o.flags = flags;
  fsc_set *s = NULL;
  ck_ok(fsc_set_open(path, &o, &s));
  ck_assert_ptr_nonnull(s);
  return s;
}

static fsc_set *sopen(const char *path, fsc_type type) {
  return sopen_opts(path, type, FSC_CREATE);
}

static uint64_t slen(fsc_set *s) {
  uint64_t n = UINT64_MAX;
  ck_ok(fsc_set_len(s, &n));
  return n;
}

static bool veq(const fsc_value *a, const fsc_value *b) {
  if (a->type != b->type)
    return false;
  switch (a->type) {
  case FSC_TYPE_INT32:
    return a->u.i32 == b->u.i32;
  case FSC_TYPE_INT64:
    return a->u.i64 == b->u.i64;
  case FSC_TYPE_INT128:
    return a->u.i128.lo == b->u.i128.lo && a->u.i128.hi == b->u.i128.hi;
  case FSC_TYPE_BOOL:
    return a->u.b == b->u.b;
  case FSC_TYPE_FLOAT:
    return memcmp(&a->u.f, &b->u.f, sizeof(double)) == 0;
  case FSC_TYPE_STRING:
  case FSC_TYPE_BYTES:
  case FSC_TYPE_JSON:
  case FSC_TYPE_REF:
    return a->u.buf.len == b->u.buf.len &&
           (a->u.buf.len == 0 ||
            memcmp(a->u.buf.ptr, b->u.buf.ptr, a->u.buf.len) == 0);
  default:
    return false;
  }
}

/* Assert the set iterates exactly these int64 elements in this order. */
static void ck_order_i64(fsc_set *s, const int64_t *want, size_t n) {
  fsc_set_iter it;
  fsc_value v;
  ck_ok(fsc_set_iter_init(s, &it));
  size_t i = 0;
  int rc;
  while ((rc = fsc_set_iter_next(&it, &v)) == 1) {
    ck_assert_msg(i < n, "more than %zu elements", n);
    ck_assert_int_eq(v.type, FSC_TYPE_INT64);
    ck_assert_msg(v.u.i64 == want[i], "element %zu is %" PRId64 ", want %"
                  PRId64, i, v.u.i64, want[i]);
    i++;
  }
  ck_fsc(rc, 0);
  ck_assert_msg(i == n, "%zu elements, want %zu", i, n);
  ck_assert_uint_eq(slen(s), n);
}

static fsc_value f64bits(uint64_t bits) {
  double d;
  memcpy(&d, &bits, 8);
  return fsc_f64(d);
}

static void ck_closed(int rc) {
  ck_assert_msg(rc == FSC_ECLOSED, "returned %d (%s), want FSC_ECLOSED", rc,
                fsc_strerror(rc));
  ck_assert_msg(strstr(fsc_errmsg(), "I/O operation on closed file") != NULL,
                "errmsg '%s'", fsc_errmsg());
}

/* ------------------------------------------------------------------ */
/* Basics                                                              */
/* ------------------------------------------------------------------ */

START_TEST(test_open_close) {
  char path[600];
  snprintf(path, sizeof path, "%s", tc_path("s"));
  fsc_set *s = sopen(path, FSC_TYPE_UNSPEC);
  ck_assert_str_eq(fsc_set_path(s), path);
  ck_assert_int_eq(fsc_set_type(s), FSC_TYPE_ANY);
  ck_assert_uint_eq(slen(s), 0);
  ck_fsc(fsc_set_add_i64(s, 1), 1);
  ck_ok(fsc_set_close(s));
  fsc_value v = fsc_i64(1), out;
  uint64_t n;
  ck_closed(fsc_set_close(s));
  ck_closed(fsc_set_len(s, &n));
  ck_closed(fsc_set_add(s, &v));
  ck_closed(fsc_set_discard(s, &v));
  ck_closed(fsc_set_remove(s, &v));
  ck_closed(fsc_set_contains(s, &v));
  ck_closed(fsc_set_pop(s, &out));
  ck_closed(fsc_set_clear(s));
  ck_closed(fsc_set_add_i64(s, 2));
  ck_closed(fsc_set_contains_i64(s, 1));
  ck_closed(fsc_set_add_str(s, "x"));
  ck_closed(fsc_set_contains_str(s, "x"));
  ck_closed(fsc_set_scan(s, NULL, NULL, NULL));
  ck_closed(fsc_set_sync(s));
  fsc_metrics m = {.size = sizeof m};
  ck_closed(fsc_set_metrics(s, &m));
  ck_assert_int_lt(fsc_set_type(s), 0);
  fsc_set_iter it;
  int rc = fsc_set_iter_init(s, &it);
  if (rc == 0)
    rc = fsc_set_iter_next(&it, &out);
  ck_closed(rc);
  fsc_set *other = sopen(NULL, FSC_TYPE_ANY);
  ck_closed(fsc_set_union(other, other, s));
  ck_closed(fsc_set_issubset(other, s));
  ck_closed(fsc_set_equal(s, other));
  fsc_set_free(other);
  fsc_set_free(s);
  fsc_set_free(NULL);

  s = sopen(path, FSC_TYPE_UNSPEC);
  ck_assert_uint_eq(slen(s), 1);
  ck_fsc(fsc_set_contains_i64(s, 1), 1);
  ck_ok(fsc_set_sync(s));
  ck_ok(fsc_set_destroy(s));
  fsc_set_free(s);
  struct stat st;
  char p[700];
  snprintf(p, sizeof p, "%s.data.fscollection", path);
  ck_assert(stat(p, &st) != 0);
  snprintf(p, sizeof p, "%s.index.fscollection", path);
  ck_assert(stat(p, &st) != 0);
  /* Gone: no FSC_CREATE gives FSC_ENOENT. */
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = 0;
  s = (fsc_set *)&s;
  ck_fsc(fsc_set_open(path, &o, &s), FSC_ENOENT);
  ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_open_errors) {
  char path[600];
  snprintf(path, sizeof path, "%s", tc_path("s"));
  fsc_set *s = sopen(path, FSC_TYPE_INT64);
  fsc_set_free(s);
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_STRING;
  s = (fsc_set *)&s;
  ck_fsc(fsc_set_open(path, &o, &s), FSC_ETYPE);
  ck_assert_ptr_null(s);
  o = (fsc_options)FSC_OPTIONS_INIT;
  o.flags = FSC_CREATE | FSC_EXCL;
  s = (fsc_set *)&s;
  ck_fsc(fsc_set_open(path, &o, &s), FSC_EINVAL);
  ck_assert_ptr_null(s);
  s = sopen(path, FSC_TYPE_UNSPEC);
  ck_assert_int_eq(fsc_set_type(s), FSC_TYPE_INT64);
  fsc_set_free(s);
  /* Read-only. */
  s = sopen_opts(path, FSC_TYPE_UNSPEC, FSC_RDONLY);
  ck_fsc(fsc_set_add_i64(s, 1), FSC_EROFS);
  fsc_value v = fsc_i64(1);
  ck_fsc(fsc_set_discard(s, &v), FSC_EROFS);
  ck_fsc(fsc_set_remove(s, &v), FSC_EROFS);
  ck_fsc(fsc_set_pop(s, NULL), FSC_EROFS);
  ck_fsc(fsc_set_clear(s), FSC_EROFS);
  ck_fsc(fsc_set_contains_i64(s, 1), 0);
  fsc_set_free(s);
}
END_TEST

START_TEST(test_kind) {
  char sp[600], dp[600], lp[600];
  snprintf(sp, sizeof sp, "%s", tc_path("set"));
  snprintf(dp, sizeof dp, "%s", tc_path("dict"));
  snprintf(lp, sizeof lp, "%s", tc_path("list"));
  fsc_set *s = sopen(sp, FSC_TYPE_ANY);
  ck_fsc(fsc_set_add_str(s, "x"), 1);
  fsc_set_free(s);
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(dp, NULL, &d));
  fsc_dict_free(d);
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(lp, NULL, &l));
  fsc_list_free(l);
  /* A set's files as a dict or a list. */
  d = (fsc_dict *)&d;
  ck_fsc(fsc_dict_open(sp, NULL, &d), FSC_EKIND);
  ck_assert_ptr_null(d);
  l = (fsc_list *)&l;
  ck_fsc(fsc_list_open(sp, NULL, &l), FSC_EKIND);
  ck_assert_ptr_null(l);
  /* A dict's and a list's files as a set. */
  s = (fsc_set *)&s;
  ck_fsc(fsc_set_open(dp, NULL, &s), FSC_EKIND);
  ck_assert_ptr_null(s);
  s = (fsc_set *)&s;
  ck_fsc(fsc_set_open(lp, NULL, &s), FSC_EKIND);
  ck_assert_ptr_null(s);
  s = sopen(sp, FSC_TYPE_UNSPEC);
  ck_fsc(fsc_set_contains_str(s, "x"), 1);
  fsc_set_free(s);
}
END_TEST

START_TEST(test_add_discard_remove) {
  fsc_set *s = sopen(tc_path("s"), FSC_TYPE_ANY);
  fsc_value a = fsc_str("a"), b = fsc_str("b"), c = fsc_i64(3);
  ck_fsc(fsc_set_contains(s, &a), 0);
  ck_fsc(fsc_set_add(s, &a), 1);
  ck_fsc(fsc_set_add(s, &a), 0);
  ck_fsc(fsc_set_add(s, &b), 1);
  ck_fsc(fsc_set_add(s, &c), 1);
  ck_assert_uint_eq(slen(s), 3);
  ck_fsc(fsc_set_contains(s, &a), 1);
  ck_fsc(fsc_set_contains(s, &c), 1);
  /* discard: 1 removed, 0 absent. */
  ck_fsc(fsc_set_discard(s, &b), 1);
  ck_fsc(fsc_set_discard(s, &b), 0);
  ck_fsc(fsc_set_contains(s, &b), 0);
  ck_assert_uint_eq(slen(s), 2);
  /* remove: 0, or KeyError. */
  ck_ok(fsc_set_remove(s, &a));
  ck_fsc(fsc_set_remove(s, &a), FSC_EKEY);
  ck_fsc(fsc_set_remove(s, &b), FSC_EKEY);
  ck_assert_uint_eq(slen(s), 1);
  /* Re-adding works. */
  ck_fsc(fsc_set_add(s, &a), 1);
  ck_fsc(fsc_set_contains(s, &a), 1);
  ck_assert_uint_eq(slen(s), 2);
  /* Empty string and empty bytes are elements (and different ones). */
  fsc_value es = fsc_str(""), eb = fsc_bytes("", 0);
  ck_fsc(fsc_set_add(s, &es), 1);
  ck_fsc(fsc_set_add(s, &eb), 1);
  ck_fsc(fsc_set_add(s, &es), 0);
  ck_assert_uint_eq(slen(s), 4);
  /* NULL value. */
  ck_fsc(fsc_set_add(s, NULL), FSC_EINVAL);
  /* Invalid values. */
  fsc_value bad = fsc_strn("\xff", 1), badj = fsc_json("{", 1);
  ck_fsc(fsc_set_add(s, &bad), FSC_ETYPE);
  ck_fsc(fsc_set_add(s, &badj), FSC_ETYPE);
  ck_assert_uint_eq(slen(s), 4);
  fsc_set_free(s);
}
END_TEST

START_TEST(test_pop_clear) {
  fsc_set *s = sopen(tc_path("s"), FSC_TYPE_INT64);
  fsc_value out;
  ck_fsc(fsc_set_pop(s, &out), FSC_EKEY);
  ck_assert_msg(strstr(fsc_errmsg(), "pop from an empty set"), "errmsg '%s'",
                fsc_errmsg());
  for (int i = 1; i <= 5; i++)
    ck_fsc(fsc_set_add_i64(s, i * 10), 1);
  ck_fsc(fsc_set_add_i64(s, 10), 0); /* re-add does not make it newest */
  ck_ok(fsc_set_pop(s, &out));
  ck_assert_int_eq(out.type, FSC_TYPE_INT64);
  ck_assert_int_eq(out.u.i64, 50);
  ck_fsc(fsc_set_contains_i64(s, 50), 0);
  /* discard + add makes an element newest. */
  fsc_value v20 = fsc_i64(20);
  ck_fsc(fsc_set_discard(s, &v20), 1);
  ck_fsc(fsc_set_add(s, &v20), 1);
  ck_ok(fsc_set_pop(s, &out));
  ck_assert_int_eq(out.u.i64, 20);
  ck_ok(fsc_set_pop(s, NULL)); /* 40 */
  ck_fsc(fsc_set_contains_i64(s, 40), 0);
  ck_assert_uint_eq(slen(s), 2);
  ck_ok(fsc_set_clear(s));
  ck_assert_uint_eq(slen(s), 0);
  ck_fsc(fsc_set_contains_i64(s, 10), 0);
  ck_fsc(fsc_set_pop(s, &out), FSC_EKEY);
  ck_ok(fsc_set_clear(s));
  ck_fsc(fsc_set_add_i64(s, 10), 1);
  ck_fsc(fsc_set_add_i64(s, 7), 1);
  int64_t o[] = {10, 7};
  ck_order_i64(s, o, 2);
  /* pop until empty gives each element once, newest first. */
  for (int i = 0; i < 100; i++)
    ck_fsc(fsc_set_add_i64(s, 1000 + i), 1);
  int popped = 0;
  int64_t last = INT64_MAX;
  while (fsc_set_pop(s, &out) == 0) {
    if (popped < 100) {
      ck_assert_int_eq(out.u.i64, 1099 - popped);
      ck_assert(out.u.i64 < last);
      last = out.u.i64;
    }
    popped++;
  }
  ck_assert_int_eq(popped, 102);
  ck_assert_uint_eq(slen(s), 0);
  fsc_set_free(s);
}
END_TEST

START_TEST(test_iteration_order) {
  fsc_set *s = sopen(tc_path("s"), FSC_TYPE_ANY);
  fsc_set_iter it;
  fsc_value v;
  ck_ok(fsc_set_iter_init(s, &it));
  ck_fsc(fsc_set_iter_next(&it, &v), 0);
  int64_t add[] = {5, 3, 9, 1, 7};
  for (int i = 0; i < 5; i++)
    ck_fsc(fsc_set_add_i64(s, add[i]), 1);
  ck_order_i64(s, add, 5);
  ck_fsc(fsc_set_add_i64(s, 5), 0); /* present: keeps its place */
  ck_order_i64(s, add, 5);
  fsc_value three = fsc_i64(3);
  ck_fsc(fsc_set_discard(s, &three), 1);
  int64_t o2[] = {5, 9, 1, 7};
  ck_order_i64(s, o2, 4);
  ck_fsc(fsc_set_add(s, &three), 1); /* re-added: at the end */
  int64_t o3[] = {5, 9, 1, 7, 3};
  ck_order_i64(s, o3, 5);
  /* Iteration past the end stays at the end. */
  ck_ok(fsc_set_iter_init(s, &it));
  int n = 0;
  while (fsc_set_iter_next(&it, &v) == 1)
    n++;
  ck_assert_int_eq(n, 5);
  ck_fsc(fsc_set_iter_next(&it, &v), 0);
  /* Each element once, with mixed types. */
  fsc_set *m = sopen(NULL, FSC_TYPE_ANY);
  fsc_value vals[] = {fsc_str("x"), fsc_i32(1), fsc_i64(1), fsc_f64(1.0),
                      fsc_bytes("x", 1), fsc_bool(false)};
  for (int i = 0; i < 6; i++)
    ck_fsc(fsc_set_add(m, &vals[i]), 1);
  for (int i = 0; i < 6; i++)
    ck_fsc(fsc_set_add(m, &vals[i]), 0);
  ck_ok(fsc_set_iter_init(m, &it));
  for (int i = 0; i < 6; i++) {
    ck_fsc(fsc_set_iter_next(&it, &v), 1);
    ck_assert_msg(veq(&v, &vals[i]), "element %d", i);
  }
  ck_fsc(fsc_set_iter_next(&it, &v), 0);
  fsc_set_free(m);
  fsc_set_free(s);
}
END_TEST

START_TEST(test_identity) {
  fsc_set *s = sopen(tc_path("s"), FSC_TYPE_ANY);
  fsc_int128 one128 = {1, 0};
  fsc_value ones[] = {fsc_i32(1),        fsc_i64(1),   fsc_f64(1.0),
                      fsc_bool(true),    fsc_i128(one128), fsc_str("1"),
                      fsc_bytes("1", 1), fsc_json("1", 1)};
  size_t n = sizeof ones / sizeof *ones;
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(fsc_set_add(s, &ones[i]) == 1, "one of type %s",
                  fsc_type_name(ones[i].type));
  ck_assert_uint_eq(slen(s), n);
  for (size_t i = 0; i < n; i++) {
    ck_fsc(fsc_set_contains(s, &ones[i]), 1);
    ck_fsc(fsc_set_add(s, &ones[i]), 0);
  }
  /* Discarding int64 1 leaves int32 1 and float 1.0. */
  ck_fsc(fsc_set_discard(s, &ones[1]), 1);
  ck_fsc(fsc_set_contains(s, &ones[0]), 1);
  ck_fsc(fsc_set_contains(s, &ones[1]), 0);
  ck_fsc(fsc_set_contains(s, &ones[2]), 1);
  /* NaN is found again; other NaN bit patterns are other elements. */
  fsc_value nan = fsc_f64(NAN);
  fsc_value nan2 = f64bits(UINT64_C(0x7ff8000000000001));
  fsc_value nneg = f64bits(UINT64_C(0xfff8000000000000));
  ck_fsc(fsc_set_contains(s, &nan), 0);
  ck_fsc(fsc_set_add(s, &nan), 1);
  ck_fsc(fsc_set_add(s, &nan), 0);
  ck_fsc(fsc_set_contains(s, &nan), 1);
  if (memcmp(&nan.u.f, &nan2.u.f, 8) != 0) {
    ck_fsc(fsc_set_contains(s, &nan2), 0);
    ck_fsc(fsc_set_add(s, &nan2), 1);
  }
  if (memcmp(&nan.u.f, &nneg.u.f, 8) != 0)
    ck_fsc(fsc_set_add(s, &nneg), 1);
  ck_ok(fsc_set_remove(s, &nan));
  ck_fsc(fsc_set_contains(s, &nan), 0);
  /* 0.0 and -0.0 differ. */
  fsc_value pz = fsc_f64(0.0), nz = fsc_f64(-0.0);
  ck_fsc(fsc_set_add(s, &pz), 1);
  ck_fsc(fsc_set_contains(s, &nz), 0);
  ck_fsc(fsc_set_add(s, &nz), 1);
  ck_fsc(fsc_set_discard(s, &pz), 1);
  ck_fsc(fsc_set_contains(s, &nz), 1);
  ck_fsc(fsc_set_contains(s, &pz), 0);
  /* JSON compares as text. */
  fsc_value j1 = fsc_json("[1,2]", 5), j2 = fsc_json("[1, 2]", 6);
  ck_fsc(fsc_set_add(s, &j1), 1);
  ck_fsc(fsc_set_contains(s, &j2), 0);
  ck_fsc(fsc_set_add(s, &j2), 1);
  /* A string and a ref with the same text differ. */
  const char *rt = "ref://fscollection:set?path=/x";
  fsc_value rs = fsc_str(rt), rr = fsc_str(rt);
  rr.type = FSC_TYPE_REF;
  ck_fsc(fsc_set_add(s, &rs), 1);
  ck_fsc(fsc_set_contains(s, &rr), 0);
  ck_fsc(fsc_set_add(s, &rr), 1);
  /* bool false is not int 0, and bytes with NULs are exact. */
  fsc_value f = fsc_bool(false), z = fsc_i32(0);
  ck_fsc(fsc_set_add(s, &f), 1);
  ck_fsc(fsc_set_contains(s, &z), 0);
  fsc_value b1 = fsc_bytes("a\0b", 3), b2 = fsc_bytes("a\0c", 3),
            b3 = fsc_bytes("a", 1);
  ck_fsc(fsc_set_add(s, &b1), 1);
  ck_fsc(fsc_set_contains(s, &b2), 0);
  ck_fsc(fsc_set_contains(s, &b3), 0);
  fsc_set_free(s);
}
END_TEST

START_TEST(test_typed) {
  fsc_set *s = sopen(tc_path("s"), FSC_TYPE_INT64);
  ck_assert_int_eq(fsc_set_type(s), FSC_TYPE_INT64);
  fsc_value str = fsc_str("1"), i32 = fsc_i32(1), f = fsc_f64(1.0);
  ck_fsc(fsc_set_add(s, &str), FSC_ETYPE);
  ck_assert_msg(strstr(fsc_errmsg(), "Expected int64 for int64, got string"),
                "errmsg '%s'", fsc_errmsg());
  ck_fsc(fsc_set_add(s, &i32), FSC_ETYPE);
  ck_assert_msg(strstr(fsc_errmsg(), "Expected int64 for int64, got int32"),
                "errmsg '%s'", fsc_errmsg());
  ck_fsc(fsc_set_add(s, &f), FSC_ETYPE);
  ck_fsc(fsc_set_add_str(s, "x"), FSC_ETYPE);
  ck_assert_uint_eq(slen(s), 0);
  ck_fsc(fsc_set_add_i64(s, 1), 1);
  fsc_set_free(s);
  s = sopen(tc_path("f"), FSC_TYPE_FLOAT);
  ck_fsc(fsc_set_add_str(s, "x"), FSC_ETYPE);
  ck_assert_msg(strstr(fsc_errmsg(), "Expected float for float, got string"),
                "errmsg '%s'", fsc_errmsg());
  ck_fsc(fsc_set_add_i64(s, 1), FSC_ETYPE);
  ck_fsc(fsc_set_add(s, &f), 1);
  fsc_set_free(s);
  s = sopen(tc_path("str"), FSC_TYPE_STRING);
  fsc_value bad = fsc_strn("ok\xc3", 3);
  ck_fsc(fsc_set_add(s, &bad), FSC_ETYPE);
  fsc_value by = fsc_bytes("ok", 2);
  ck_fsc(fsc_set_add(s, &by), FSC_ETYPE);
  ck_fsc(fsc_set_add_str(s, "ok"), 1);
  ck_assert_uint_eq(slen(s), 1);
  fsc_set_free(s);
}
END_TEST

START_TEST(test_shorthands) {
  fsc_set *s = sopen(tc_path("s"), FSC_TYPE_ANY);
  ck_fsc(fsc_set_add_str(s, "hello"), 1);
  ck_fsc(fsc_set_add_str(s, "hello"), 0);
  ck_fsc(fsc_set_add_str(s, ""), 1);
  ck_fsc(fsc_set_add_i64(s, -5), 1);
  ck_fsc(fsc_set_add_i64(s, -5), 0);
  ck_fsc(fsc_set_add_i64(s, INT64_MIN), 1);
  ck_fsc(fsc_set_contains_str(s, "hello"), 1);
  ck_fsc(fsc_set_contains_str(s, "hell"), 0);
  ck_fsc(fsc_set_contains_str(s, ""), 1);
  ck_fsc(fsc_set_contains_i64(s, -5), 1);
  ck_fsc(fsc_set_contains_i64(s, 5), 0);
  ck_fsc(fsc_set_contains_i64(s, INT64_MIN), 1);
  ck_fsc(fsc_set_add_str(s, "\xff"), FSC_ETYPE);
  /* The shorthands store ordinary string / int64 elements. */
  fsc_value hs = fsc_str("hello"), m5 = fsc_i64(-5);
  ck_fsc(fsc_set_contains(s, &hs), 1);
  ck_fsc(fsc_set_contains(s, &m5), 1);
  ck_assert_uint_eq(slen(s), 4);
  fsc_set_free(s);
}
END_TEST

struct sscan {
  int preds, emits, stop_emit_at;
  uint64_t idx[64];
  int64_t val[64];
};

static int pred_odd(const fsc_value *v, void *ctx) {
  struct sscan *c = ctx;
  c->preds++;
  ck_assert_int_eq(v->type, FSC_TYPE_INT64);
  return (v->u.i64 & 1) != 0;
}

static int emit_rec(uint64_t index, const fsc_value *v, void *ctx) {
  struct sscan *c = ctx;
  if (c->emits == c->stop_emit_at)
    return -9;
  c->idx[c->emits] = index;
  c->val[c->emits] = v->u.i64;
  c->emits++;
  return 0;
}

START_TEST(test_scan) {
  fsc_set *s = sopen(tc_path("s"), FSC_TYPE_INT64);
  for (int i = 10; i < 20; i++)
    ck_fsc(fsc_set_add_i64(s, i), 1);
  fsc_value v12 = fsc_i64(11);
  ck_fsc(fsc_set_discard(s, &v12), 1);
  ck_fsc(fsc_set_add_i64(s, 11), 1); /* 11 moves to the end */
  /* Order: 10 12 13 14 15 16 17 18 19 11. */
  struct sscan c = {0, 0, -1, {0}, {0}};
  ck_ok(fsc_set_scan(s, pred_odd, emit_rec, &c));
  ck_assert_int_eq(c.preds, 10);
  ck_assert_int_eq(c.emits, 5);
  int64_t wv[] = {13, 15, 17, 19, 11};
  uint64_t wi[] = {2, 4, 6, 8, 9};
  for (int i = 0; i < 5; i++) {
    ck_assert_int_eq(c.val[i], wv[i]);
    ck_assert_uint_eq(c.idx[i], wi[i]);
  }
  /* Without pred: every element, index = position. */
  struct sscan c2 = {0, 0, -1, {0}, {0}};
  ck_ok(fsc_set_scan(s, NULL, emit_rec, &c2));
  ck_assert_int_eq(c2.emits, 10);
  for (int i = 0; i < 10; i++)
    ck_assert_uint_eq(c2.idx[i], (uint64_t)i);
  /* Early stop. */
  struct sscan c3 = {0, 0, 2, {0}, {0}};
  ck_fsc(fsc_set_scan(s, pred_odd, emit_rec, &c3), -9);
  ck_assert_int_eq(c3.emits, 2);
  ck_assert_int_eq(c3.preds, 7); /* 10 12 13 14 15 16 17 */
  fsc_set_free(s);
}
END_TEST

START_TEST(test_metrics) {
  fsc_set *s = sopen(tc_path("s"), FSC_TYPE_STRING);
  for (int i = 0; i < 50; i++) {
    char v[16];
    snprintf(v, sizeof v, "e%d", i);
    ck_fsc(fsc_set_add_str(s, v), 1);
  }
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_set_metrics(s, &m));
  ck_assert_uint_eq(m.length, 50);
  ck_assert(m.live_bytes > 0);
  ck_assert_uint_eq(m.dead_bytes, 0);
  ck_assert(m.open_processes >= 1);
  ck_assert_uint_eq(m.total_disk_usage_bytes,
                    m.data_file_bytes + m.index_file_bytes);
  fsc_value e0 = fsc_str("e0");
  ck_fsc(fsc_set_discard(s, &e0), 1);
  fsc_metrics m2 = {.size = sizeof m2};
  ck_ok(fsc_set_metrics(s, &m2));
  ck_assert_uint_eq(m2.length, 49);
  ck_assert(m2.dead_bytes > 0);
  fsc_set_free(s);
}
END_TEST

START_TEST(test_temporary) {
  fsc_set *a = sopen(NULL, FSC_TYPE_ANY), *b = sopen(NULL, FSC_TYPE_ANY);
  ck_assert_ptr_null(fsc_set_path(a));
  ck_fsc(fsc_set_add_i64(a, 1), 1);
  ck_fsc(fsc_set_contains_i64(b, 1), 0);
  ck_ok(fsc_set_destroy(a));
  ck_ok(fsc_set_close(b));
  fsc_set_free(a);
  fsc_set_free(b);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Predicates and algebra                                              */
/* ------------------------------------------------------------------ */

static fsc_set *set_of(const int64_t *v, size_t n) {
  fsc_set *s = sopen(NULL, FSC_TYPE_ANY);
  for (size_t i = 0; i < n; i++)
    ck_assert_int_ge(fsc_set_add_i64(s, v[i]), 0);
  return s;
}

START_TEST(test_predicates) {
  int64_t va[] = {1, 2, 3}, vb[] = {3, 2}, vc[] = {4}, va2[] = {3, 1, 2};
  fsc_set *a = set_of(va, 3), *b = set_of(vb, 2), *c = set_of(vc, 1),
          *a2 = set_of(va2, 3), *e = set_of(NULL, 0), *e2 = set_of(NULL, 0);
  /* isdisjoint */
  ck_fsc(fsc_set_isdisjoint(a, c), 1);
  ck_fsc(fsc_set_isdisjoint(c, a), 1);
  ck_fsc(fsc_set_isdisjoint(a, b), 0);
  ck_fsc(fsc_set_isdisjoint(e, e2), 1);
  ck_fsc(fsc_set_isdisjoint(e, a), 1);
  ck_fsc(fsc_set_isdisjoint(a, e), 1);
  ck_fsc(fsc_set_isdisjoint(a, a), 0);
  ck_fsc(fsc_set_isdisjoint(e, e), 1);
  /* issubset */
  ck_fsc(fsc_set_issubset(b, a), 1);
  ck_fsc(fsc_set_issubset(a, b), 0);
  ck_fsc(fsc_set_issubset(a, a), 1);
  ck_fsc(fsc_set_issubset(a, a2), 1);
  ck_fsc(fsc_set_issubset(e, a), 1);
  ck_fsc(fsc_set_issubset(e, e2), 1);
  ck_fsc(fsc_set_issubset(a, e), 0);
  ck_fsc(fsc_set_issubset(c, a), 0);
  /* issuperset */
  ck_fsc(fsc_set_issuperset(a, b), 1);
  ck_fsc(fsc_set_issuperset(b, a), 0);
  ck_fsc(fsc_set_issuperset(a, a2), 1);
  ck_fsc(fsc_set_issuperset(a, e), 1);
  ck_fsc(fsc_set_issuperset(e, e2), 1);
  ck_fsc(fsc_set_issuperset(e, a), 0);
  ck_fsc(fsc_set_issuperset(a, c), 0);
  /* equal: order does not matter */
  ck_fsc(fsc_set_equal(a, a2), 1);
  ck_fsc(fsc_set_equal(a2, a), 1);
  ck_fsc(fsc_set_equal(a, a), 1);
  ck_fsc(fsc_set_equal(a, b), 0);
  ck_fsc(fsc_set_equal(b, a), 0);
  ck_fsc(fsc_set_equal(e, e2), 1);
  ck_fsc(fsc_set_equal(e, a), 0);
  ck_fsc(fsc_set_equal(a, e), 0);
  /* same size, different elements */
  int64_t vd[] = {1, 2, 4};
  fsc_set *d = set_of(vd, 3);
  ck_fsc(fsc_set_equal(a, d), 0);
  ck_fsc(fsc_set_issubset(a, d), 0);
  /* int32 3 is not int64 3 */
  fsc_set *t = sopen(NULL, FSC_TYPE_ANY);
  fsc_value i1 = fsc_i32(1), i2 = fsc_i32(2), i3 = fsc_i32(3);
  ck_fsc(fsc_set_add(t, &i1), 1);
  ck_fsc(fsc_set_add(t, &i2), 1);
  ck_fsc(fsc_set_add(t, &i3), 1);
  ck_fsc(fsc_set_equal(a, t), 0);
  ck_fsc(fsc_set_isdisjoint(a, t), 1);
  /* An int64 set equals an ANY set of the same int64 elements. */
  fsc_set *ti = sopen(NULL, FSC_TYPE_INT64);
  for (int i = 1; i <= 3; i++)
    ck_fsc(fsc_set_add_i64(ti, i), 1);
  ck_fsc(fsc_set_equal(a, ti), 1);
  ck_fsc(fsc_set_issubset(ti, a), 1);
  /* After a discard the relation follows. */
  fsc_value three = fsc_i64(3);
  ck_fsc(fsc_set_discard(a2, &three), 1);
  ck_fsc(fsc_set_equal(a, a2), 0);
  ck_fsc(fsc_set_issubset(a2, a), 1);
  ck_fsc(fsc_set_issuperset(a2, a), 0);
  fsc_set *all[] = {a, b, c, a2, e, e2, d, t, ti};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    fsc_set_free(all[i]);
}
END_TEST

enum { UNIV = 120 };
enum op { OP_UNION, OP_INTER, OP_DIFF, OP_SYMDIFF };
static const char *op_name[] = {"union", "intersection", "difference",
                                "symmetric_difference"};

static int do_op(enum op op, fsc_set *out, fsc_set *a, fsc_set *b) {
  switch (op) {
  case OP_UNION:
    return fsc_set_union(out, a, b);
  case OP_INTER:
    return fsc_set_intersection(out, a, b);
  case OP_DIFF:
    return fsc_set_difference(out, a, b);
  default:
    return fsc_set_symmetric_difference(out, a, b);
  }
}

static bool model_op(enum op op, bool x, bool y) {
  switch (op) {
  case OP_UNION:
    return x || y;
  case OP_INTER:
    return x && y;
  case OP_DIFF:
    return x && !y;
  default:
    return x != y;
  }
}

/* Assert s holds exactly the elements with want[i] true (0 <= i < UNIV),
 * each once. */
static void ck_contents(fsc_set *s, const bool *want, const char *what,
                        int round) {
  size_t n = 0;
  for (int i = 0; i < UNIV; i++) {
    int rc = fsc_set_contains_i64(s, i);
    FAST_ASSERT(rc == (want[i] ? 1 : 0), "%s round %d: contains(%d) = %d, "
                "want %d", what, round, i, rc, want[i]);
    n += want[i];
  }
  uint64_t len;
  FAST_OK(fsc_set_len(s, &len));
  FAST_ASSERT(len == n, "%s round %d: len %" PRIu64 ", want %zu", what, round,
              len, n);
  bool seen[UNIV] = {0};
  fsc_set_iter it;
  fsc_value v;
  int rc;
  size_t c = 0;
  FAST_OK(fsc_set_iter_init(s, &it));
  while ((rc = fsc_set_iter_next(&it, &v)) == 1) {
    FAST_ASSERT(v.type == FSC_TYPE_INT64 && v.u.i64 >= 0 && v.u.i64 < UNIV &&
                    want[v.u.i64] && !seen[v.u.i64],
                "%s round %d: iteration yields %" PRId64, what, round,
                v.u.i64);
    seen[v.u.i64] = true;
    c++;
  }
  FAST_ASSERT(rc == 0 && c == n, "%s round %d: iteration %zu of %zu (rc %d)",
              what, round, c, n, rc);
}

static fsc_set *model_set(const bool *m) {
  fsc_set *s = sopen(NULL, FSC_TYPE_ANY);
  /* add in a scrambled order */
  for (int k = 0; k < UNIV; k++) {
    int i = (k * 37) % UNIV;
    if (m[i])
      FAST_FSC(fsc_set_add_i64(s, i), 1);
  }
  return s;
}

START_TEST(test_algebra_random) {
  rng_seed(4242);
  char what[64];
  for (int round = 0; round < 40; round++) {
    bool ma[UNIV], mb[UNIV], want[UNIV];
    /* Vary density; some rounds make empty or identical sets. */
    unsigned da = rng_below(101), db = rng_below(101);
    if (round % 10 == 3)
      da = 0;
    if (round % 10 == 7)
      db = 0;
    for (int i = 0; i < UNIV; i++) {
      ma[i] = rng_below(100) < da;
      mb[i] = rng_below(100) < db;
    }
    if (round % 10 == 5)
      memcpy(mb, ma, sizeof ma);
    fsc_set *a = model_set(ma), *b = model_set(mb);
    for (int op = 0; op < 4; op++) {
      for (int i = 0; i < UNIV; i++)
        want[i] = model_op((enum op)op, ma[i], mb[i]);
      /* Into a new temporary set. */
      fsc_set *out = sopen(NULL, FSC_TYPE_ANY);
      snprintf(what, sizeof what, "%s into new", op_name[op]);
      FAST_OK(do_op((enum op)op, out, a, b));
      ck_contents(out, want, what, round);
      /* Into a set with previous contents: they are replaced. */
      for (int i = 0; i < UNIV; i += 7)
        FAST_ASSERT(fsc_set_add_i64(out, i) >= 0, "refill");
      FAST_ASSERT(fsc_set_add_i64(out, 100000) >= 0, "refill");
      snprintf(what, sizeof what, "%s into used", op_name[op]);
      FAST_OK(do_op((enum op)op, out, a, b));
      ck_contents(out, want, what, round);
      FAST_FSC(fsc_set_contains_i64(out, 100000), 0);
      fsc_set_free(out);
      /* In place: a OP= b, on a copy of a. */
      fsc_set *ac = model_set(ma);
      snprintf(what, sizeof what, "%s in place", op_name[op]);
      FAST_OK(do_op((enum op)op, ac, ac, b));
      ck_contents(ac, want, what, round);
      fsc_set_free(ac);
      /* Inputs unchanged. */
      snprintf(what, sizeof what, "%s input a", op_name[op]);
      ck_contents(a, ma, what, round);
      snprintf(what, sizeof what, "%s input b", op_name[op]);
      ck_contents(b, mb, what, round);
    }
    /* Predicates against the model. */
    bool sub = true, sup = true, dis = true, eq = true;
    for (int i = 0; i < UNIV; i++) {
      if (ma[i] && !mb[i])
        sub = false;
      if (mb[i] && !ma[i])
        sup = false;
      if (ma[i] && mb[i])
        dis = false;
      if (ma[i] != mb[i])
        eq = false;
    }
    FAST_FSC(fsc_set_issubset(a, b), sub);
    FAST_FSC(fsc_set_issuperset(a, b), sup);
    FAST_FSC(fsc_set_isdisjoint(a, b), dis);
    FAST_FSC(fsc_set_equal(a, b), eq);
    fsc_set_free(a);
    fsc_set_free(b);
  }
}
END_TEST

START_TEST(test_algebra_self) {
  /* out == a == b. */
  int64_t v[] = {1, 2, 3};
  bool m[UNIV] = {0}, none[UNIV] = {0};
  m[1] = m[2] = m[3] = true;
  for (int op = 0; op < 4; op++) {
    fsc_set *a = set_of(v, 3);
    ck_ok(do_op((enum op)op, a, a, a));
    bool want_some = op == OP_UNION || op == OP_INTER;
    ck_contents(a, want_some ? m : none, op_name[op], -1);
    fsc_set_free(a);
  }
  /* Results keep working as sets. */
  fsc_set *a = set_of(v, 3), *b = set_of(v + 1, 2);
  fsc_set *out = sopen(NULL, FSC_TYPE_ANY);
  ck_ok(fsc_set_difference(out, a, b));
  ck_fsc(fsc_set_add_i64(out, 1), 0);
  ck_fsc(fsc_set_add_i64(out, 2), 1);
  ck_assert_uint_eq(slen(out), 2);
  fsc_value x;
  ck_ok(fsc_set_pop(out, &x));
  ck_assert_uint_eq(slen(out), 1);
  fsc_set_free(out);
  fsc_set_free(a);
  fsc_set_free(b);
}
END_TEST

START_TEST(test_algebra_types) {
  /* A mixed ANY input, a typed input, a typed output. */
  fsc_set *a = sopen(NULL, FSC_TYPE_ANY), *b = sopen(NULL, FSC_TYPE_INT64);
  ck_fsc(fsc_set_add_i64(a, 1), 1);
  ck_fsc(fsc_set_add_str(a, "s"), 1);
  ck_fsc(fsc_set_add_i64(b, 1), 1);
  ck_fsc(fsc_set_add_i64(b, 2), 1);
  fsc_set *any = sopen(NULL, FSC_TYPE_ANY), *ti = sopen(NULL, FSC_TYPE_INT64);
  ck_ok(fsc_set_union(any, a, b));
  ck_assert_uint_eq(slen(any), 3);
  ck_fsc(fsc_set_contains_str(any, "s"), 1);
  /* The string does not fit an int64 output. */
  ck_fsc(fsc_set_union(ti, a, b), FSC_ETYPE);
  /* The intersection does. */
  ck_ok(fsc_set_intersection(ti, a, b));
  ck_assert_uint_eq(slen(ti), 1);
  ck_fsc(fsc_set_contains_i64(ti, 1), 1);
  /* b -= a in place on a typed set. */
  ck_ok(fsc_set_difference(b, b, a));
  ck_assert_uint_eq(slen(b), 1);
  ck_fsc(fsc_set_contains_i64(b, 2), 1);
  /* a ^= b */
  ck_ok(fsc_set_symmetric_difference(a, a, b));
  ck_assert_uint_eq(slen(a), 3);
  ck_fsc(fsc_set_contains_i64(a, 2), 1);
  ck_fsc(fsc_set_contains_i64(a, 1), 1);
  ck_fsc(fsc_set_contains_str(a, "s"), 1);
  fsc_set_free(a);
  fsc_set_free(b);
  fsc_set_free(any);
  fsc_set_free(ti);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Growth, persistence, random ops                                     */
/* ------------------------------------------------------------------ */

START_TEST(test_growth) {
  enum { N = 200000 };
  char path[600];
  snprintf(path, sizeof path, "%s", tc_path("g"));
  fsc_set *s = sopen(path, FSC_TYPE_INT64);
  for (int i = 0; i < N; i++)
    FAST_FSC(fsc_set_add_i64(s, (int64_t)i * 7919), 1);
  for (int i = 0; i < N; i += 1000)
    FAST_FSC(fsc_set_add_i64(s, (int64_t)i * 7919), 0);
  ck_assert_uint_eq(slen(s), N);
  for (int i = 0; i < N; i++) {
    FAST_FSC(fsc_set_contains_i64(s, (int64_t)i * 7919), 1);
    FAST_FSC(fsc_set_contains_i64(s, (int64_t)i * 7919 + 1), 0);
  }
  fsc_set_iter it;
  fsc_value v;
  ck_ok(fsc_set_iter_init(s, &it));
  for (int i = 0; i < N; i++) {
    FAST_FSC(fsc_set_iter_next(&it, &v), 1);
    FAST_ASSERT(v.u.i64 == (int64_t)i * 7919, "element %d is %" PRId64, i,
                v.u.i64);
  }
  ck_fsc(fsc_set_iter_next(&it, &v), 0);
  /* Discard the even half. */
  for (int i = 0; i < N; i += 2) {
    v = fsc_i64((int64_t)i * 7919);
    FAST_FSC(fsc_set_discard(s, &v), 1);
  }
  for (int pass = 0; pass < 2; pass++) {
    ck_assert_uint_eq(slen(s), N / 2);
    for (int i = 0; i < N; i++)
      FAST_FSC(fsc_set_contains_i64(s, (int64_t)i * 7919), i % 2);
    ck_ok(fsc_set_iter_init(s, &it));
    for (int i = 1; i < N; i += 2) {
      FAST_FSC(fsc_set_iter_next(&it, &v), 1);
      FAST_ASSERT(v.u.i64 == (int64_t)i * 7919, "pass %d: element is %"
                  PRId64 ", want %" PRId64, pass, v.u.i64, (int64_t)i * 7919);
    }
    ck_fsc(fsc_set_iter_next(&it, &v), 0);
    fsc_set_free(s);
    s = sopen(path, FSC_TYPE_UNSPEC);
  }
  ck_ok(fsc_set_destroy(s)); /* big files: do not leave them */
  fsc_set_free(s);
}
END_TEST

static const fsc_int128 I128 = {UINT64_C(0xfedcba9876543210), -2};
static const char REF1[] = "ref://fscollection:dict?path=/a/b";
static const char REF2[] = "ref://fscollection:list?path=/c";

/* A few distinct values of type t into vals; returns how many. */
static size_t samples(fsc_type t, fsc_value *vals) {
  size_t n = 0;
  switch (t) {
  case FSC_TYPE_INT32:
    vals[n++] = fsc_i32(INT32_MIN);
    vals[n++] = fsc_i32(0);
    vals[n++] = fsc_i32(INT32_MAX);
    break;
  case FSC_TYPE_INT64:
    vals[n++] = fsc_i64(INT64_MIN);
    vals[n++] = fsc_i64(-1);
    vals[n++] = fsc_i64(INT64_MAX);
    break;
  case FSC_TYPE_INT128:
    vals[n++] = fsc_i128(I128);
    vals[n++] = fsc_i128((fsc_int128){0, 0});
    vals[n++] = fsc_i128((fsc_int128){UINT64_MAX, INT64_MAX});
    break;
  case FSC_TYPE_STRING:
    vals[n++] = fsc_str("");
    vals[n++] = fsc_str("caf\xc3\xa9");
    vals[n++] = fsc_strn("nul\0inside", 10);
    break;
  case FSC_TYPE_BOOL:
    vals[n++] = fsc_bool(true);
    vals[n++] = fsc_bool(false);
    break;
  case FSC_TYPE_FLOAT:
    vals[n++] = fsc_f64(NAN);
    vals[n++] = fsc_f64(0.0);
    vals[n++] = fsc_f64(-0.0);
    vals[n++] = fsc_f64(-INFINITY);
    vals[n++] = fsc_f64(3.141592653589793);
    break;
  case FSC_TYPE_BYTES:
    vals[n++] = fsc_bytes("", 0);
    vals[n++] = fsc_bytes("\0\0", 2);
    vals[n++] = fsc_bytes("\xff\x00\x01", 3);
    break;
  case FSC_TYPE_JSON:
    vals[n++] = fsc_json("{\"k\": [1, 2]}", 13);
    vals[n++] = fsc_json("null", 4);
    vals[n++] = fsc_json("\"text\"", 6);
    break;
  case FSC_TYPE_REF:
    vals[n] = fsc_str(REF1);
    vals[n++].type = FSC_TYPE_REF;
    vals[n] = fsc_str(REF2);
    vals[n++].type = FSC_TYPE_REF;
    break;
  default:
    ck_abort_msg("type %d", (int)t);
  }
  return n;
}

static const fsc_type ALL_TYPES[] = {
    FSC_TYPE_INT32, FSC_TYPE_INT64, FSC_TYPE_INT128, FSC_TYPE_STRING,
    FSC_TYPE_BOOL,  FSC_TYPE_FLOAT, FSC_TYPE_BYTES,  FSC_TYPE_JSON,
    FSC_TYPE_REF};
#define NTYPES (sizeof ALL_TYPES / sizeof *ALL_TYPES)

static void ck_set_holds(fsc_set *s, const fsc_value *vals, size_t n,
                         const char *what) {
  ck_assert_msg(slen(s) == n, "%s: len %" PRIu64 ", want %zu", what, slen(s),
                n);
  for (size_t i = 0; i < n; i++)
    ck_assert_msg(fsc_set_contains(s, &vals[i]) == 1, "%s: element %zu (%s)",
                  what, i, fsc_type_name(vals[i].type));
  fsc_set_iter it;
  fsc_value v;
  ck_ok(fsc_set_iter_init(s, &it));
  for (size_t i = 0; i < n; i++) {
    ck_fsc(fsc_set_iter_next(&it, &v), 1);
    ck_assert_msg(veq(&v, &vals[i]), "%s: element %zu in iteration", what, i);
  }
  ck_fsc(fsc_set_iter_next(&it, &v), 0);
}

START_TEST(test_persist_types) {
  fsc_value all[64];
  size_t nall = 0;
  char anyp[600];
  snprintf(anyp, sizeof anyp, "%s", tc_path("any"));
  fsc_set *any = sopen(anyp, FSC_TYPE_ANY);
  for (size_t ti = 0; ti < NTYPES; ti++) {
    fsc_type t = ALL_TYPES[ti];
    fsc_value vals[8];
    size_t n = samples(t, vals);
    char path[600];
    snprintf(path, sizeof path, "%s", tc_path(fsc_type_name(t)));
    fsc_set *s = sopen(path, t);
    for (size_t i = 0; i < n; i++) {
      ck_assert_msg(fsc_set_add(s, &vals[i]) == 1, "%s element %zu",
                    fsc_type_name(t), i);
      ck_assert_msg(fsc_set_add(s, &vals[i]) == 0, "%s element %zu again",
                    fsc_type_name(t), i);
      ck_fsc(fsc_set_add(any, &vals[i]), 1);
      all[nall++] = vals[i];
    }
    ck_set_holds(s, vals, n, fsc_type_name(t));
    fsc_set_free(s);
    s = sopen(path, FSC_TYPE_UNSPEC);
    ck_assert_int_eq(fsc_set_type(s), t);
    ck_set_holds(s, vals, n, fsc_type_name(t));
    fsc_set_free(s);
  }
  ck_set_holds(any, all, nall, "any");
  fsc_set_free(any);
  any = sopen(anyp, FSC_TYPE_UNSPEC);
  ck_assert_int_eq(fsc_set_type(any), FSC_TYPE_ANY);
  ck_set_holds(any, all, nall, "any reopened");
  fsc_set_free(any);
}
END_TEST

enum { RV = 200 };

START_TEST(test_random_ops) {
  char path[600];
  snprintf(path, sizeof path, "%s", tc_path("r"));
  fsc_set *s = sopen(path, FSC_TYPE_INT64);
  int order[RV], n = 0;
  bool present[RV] = {0};
  rng_seed(31337);
  for (int step = 0; step < 6000; step++) {
    int x = (int)rng_below(RV);
    fsc_value v = fsc_i64(x), out;
    unsigned op = rng_below(100);
    if (op < 45) {
      int rc = fsc_set_add(s, &v);
      FAST_ASSERT(rc == (present[x] ? 0 : 1), "step %d add %d: %d", step, x,
                  rc);
      if (!present[x]) {
        present[x] = true;
        order[n++] = x;
      }
    } else if (op < 95) {
      bool rem = op < 70;
      int rc = rem ? fsc_set_remove(s, &v) : fsc_set_discard(s, &v);
      if (present[x]) {
        FAST_ASSERT(rc == (rem ? 0 : 1), "step %d del %d: %d", step, x, rc);
        int i = 0;
        while (order[i] != x)
          i++;
        memmove(&order[i], &order[i + 1], (size_t)(n - i - 1) * sizeof(int));
        n--;
        present[x] = false;
      } else {
        FAST_ASSERT(rc == (rem ? FSC_EKEY : 0), "step %d del missing %d: %d",
                    step, x, rc);
      }
    } else {
      int rc = fsc_set_pop(s, &out);
      if (n == 0) {
        FAST_ASSERT(rc == FSC_EKEY, "step %d pop empty: %d", step, rc);
      } else {
        FAST_ASSERT(rc == 0 && out.u.i64 == order[n - 1],
                    "step %d pop: rc %d got %" PRId64 " want %d", step, rc,
                    out.u.i64, order[n - 1]);
        present[order[--n]] = false;
      }
    }
    if (step % 100 == 99 || step == 5999) {
      uint64_t len;
      FAST_OK(fsc_set_len(s, &len));
      FAST_ASSERT(len == (uint64_t)n, "step %d: len %" PRIu64 " want %d",
                  step, len, n);
      for (int i = 0; i < RV; i++)
        FAST_FSC(fsc_set_contains_i64(s, i), present[i]);
      fsc_set_iter it;
      FAST_OK(fsc_set_iter_init(s, &it));
      for (int i = 0; i < n; i++) {
        FAST_FSC(fsc_set_iter_next(&it, &out), 1);
        FAST_ASSERT(out.u.i64 == order[i], "step %d: element %d is %" PRId64
                    ", want %d", step, i, out.u.i64, order[i]);
      }
      FAST_FSC(fsc_set_iter_next(&it, &out), 0);
    }
    if (step == 3000) { /* and across a reopen */
      fsc_set_free(s);
      s = sopen(path, FSC_TYPE_UNSPEC);
    }
  }
  fsc_set_free(s);
}
END_TEST


/* ------------------------------------------------------------------ */
/* Recovery, churn, threads                                            */
/* ------------------------------------------------------------------ */

/* Zero everything after the index file's header page (the hash table and
 * the clean-close marker): the next open rebuilds from the data file. */
static void wreck_index(const char *base) {
  char p[700];
  snprintf(p, sizeof p, "%s.index.fscollection", base);
  FILE *f = fopen(p, "r+b");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
  long size = ftell(f);
  ck_assert(size > 4096);
  ck_assert_int_eq(fseek(f, 4096, SEEK_SET), 0);
  static char zero[65536];
  for (long left = size - 4096; left > 0;) {
    size_t n = left > (long)sizeof zero ? sizeof zero : (size_t)left;
    ck_assert_uint_eq(fwrite(zero, 1, n, f), n);
    left -= (long)n;
  }
  ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_rebuild_from_data) {
  char path[600];
  snprintf(path, sizeof path, "%s", tc_path("r"));
  fsc_set *s = sopen(path, FSC_TYPE_ANY);
  for (int i = 0; i < 30; i++) /* then cleared */
    ck_fsc(fsc_set_add_i64(s, 1000 + i), 1);
  ck_ok(fsc_set_clear(s));
  int order[RV], n = 0;
  bool present[RV] = {0};
  for (int i = 0; i < RV; i++) {
    ck_fsc(fsc_set_add_i64(s, i), 1);
    order[n++] = i;
    present[i] = true;
  }
  for (int i = 0; i < RV; i += 3) {
    fsc_value v = fsc_i64(i);
    ck_fsc(fsc_set_discard(s, &v), 1);
    present[i] = false;
  }
  for (int i = 0; i < RV; i += 9) { /* re-added: at the end */
    ck_fsc(fsc_set_add_i64(s, i), 1);
    present[i] = true;
  }
  fsc_value popped;
  ck_ok(fsc_set_pop(s, &popped)); /* the last re-added */
  present[popped.u.i64] = false;
  /* The expected order: survivors of the first pass, then re-added. */
  int want[RV * 2], nw = 0;
  for (int i = 0; i < n; i++)
    if (order[i] % 3 != 0)
      want[nw++] = order[i];
  for (int i = 0; i < RV; i += 9)
    if (present[i])
      want[nw++] = i;
  ck_fsc(fsc_set_add_str(s, "str"), 1);
  fsc_set_free(s);
  wreck_index(path);
  s = sopen(path, FSC_TYPE_UNSPEC);
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_set_metrics(s, &m));
  ck_assert(!m.last_close_clean);
  ck_assert(m.repaired_items > 0);
  ck_assert_uint_eq(m.length, (uint64_t)nw + 1);
  for (int i = 0; i < RV; i++)
    ck_assert_msg(fsc_set_contains_i64(s, i) == present[i], "element %d", i);
  for (int i = 0; i < 30; i++)
    ck_fsc(fsc_set_contains_i64(s, 1000 + i), 0);
  ck_fsc(fsc_set_contains_str(s, "str"), 1);
  fsc_set_iter it;
  fsc_value v;
  ck_ok(fsc_set_iter_init(s, &it));
  for (int i = 0; i < nw; i++) {
    ck_fsc(fsc_set_iter_next(&it, &v), 1);
    ck_assert_msg(v.type == FSC_TYPE_INT64 && v.u.i64 == want[i],
                  "element %d is %" PRId64 ", want %d", i, v.u.i64, want[i]);
  }
  ck_fsc(fsc_set_iter_next(&it, &v), 1);
  ck_assert_int_eq(v.type, FSC_TYPE_STRING);
  ck_fsc(fsc_set_iter_next(&it, &v), 0);
  fsc_set_free(s);
}
END_TEST


START_TEST(test_iter_at_most_once) {
  /* "weakly consistent in the dict's sense": each element at most once,
   * even when another writer discards an element already yielded and adds
   * it again. */
  char path[600];
  snprintf(path, sizeof path, "%s", tc_path("s"));
  fsc_set *s = sopen(path, FSC_TYPE_INT64);
  fsc_set *w = sopen(path, FSC_TYPE_UNSPEC);
  for (int i = 1; i <= 3; i++)
    ck_fsc(fsc_set_add_i64(s, i), 1);
  fsc_set_iter it;
  fsc_value v;
  ck_ok(fsc_set_iter_init(s, &it));
  ck_fsc(fsc_set_iter_next(&it, &v), 1);
  ck_assert_int_eq(v.u.i64, 1);
  fsc_value one = fsc_i64(1);
  ck_fsc(fsc_set_discard(w, &one), 1);
  ck_fsc(fsc_set_add(w, &one), 1);
  int seen[4] = {0, 1, 0, 0}, rc;
  while ((rc = fsc_set_iter_next(&it, &v)) == 1) {
    ck_assert(v.u.i64 >= 1 && v.u.i64 <= 3);
    seen[v.u.i64]++;
  }
  ck_fsc(rc, 0);
  ck_assert_int_eq(seen[2], 1);
  ck_assert_int_eq(seen[3], 1);
  ck_assert_msg(seen[1] == 1, "element 1 yielded %d times", seen[1]);
  fsc_set_free(w);
  fsc_set_free(s);
}
END_TEST

START_TEST(test_churn) {
  fsc_set *s = sopen(tc_path("c"), FSC_TYPE_INT64);
  enum { N = 300000, LIVE = 16 };
  for (int i = 0; i < N; i++) {
    FAST_FSC(fsc_set_add_i64(s, i), 1);
    if (i >= LIVE) {
      fsc_value v = fsc_i64(i - LIVE);
      FAST_FSC(fsc_set_discard(s, &v), 1);
    }
    if (i % 997 == 0)
      FAST_FSC(fsc_set_contains_i64(s, -i - 1), 0);
  }
  ck_assert_uint_eq(slen(s), LIVE);
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_set_metrics(s, &m));
  ck_assert_msg(m.index_file_bytes < 64 * 1024 * 1024,
                "index file %" PRIu64 " bytes", m.index_file_bytes);
  ck_ok(fsc_set_destroy(s)); /* big files: do not leave them */
  fsc_set_free(s);
}
END_TEST

enum { NTH = 4, NEL = 30000, NPOP = 1000 };

struct sctx {
  fsc_set *s;
  const char *path;
  int rc;
  int added; /* adds that returned 1 */
  int popped;
  bool *seen; /* per element, for pops (shared; each slot written once) */
};

static void *thr_add(void *arg) {
  struct sctx *t = arg;
  fsc_set *s = t->s;
  if (!s && fsc_set_open(t->path, NULL, &s) != 0) {
    t->rc = -1;
    return NULL;
  }
  for (int i = 0; i < NEL; i++) {
    int rc = fsc_set_add_i64(s, i);
    if (rc < 0) {
      t->rc = rc;
      break;
    }
    t->added += rc;
  }
  if (!t->s)
    fsc_set_free(s);
  return NULL;
}

static void *thr_pop(void *arg) {
  struct sctx *t = arg;
  fsc_value v;
  int rc;
  while ((rc = fsc_set_pop(t->s, &v)) == 0) {
    if (v.u.i64 < 0 || v.u.i64 >= NEL ||
        __atomic_exchange_n(&t->seen[v.u.i64], true, __ATOMIC_SEQ_CST)) {
      t->rc = -2; /* out of range or popped twice */
      return NULL;
    }
    t->popped++;
  }
  if (rc != FSC_EKEY)
    t->rc = rc;
  return NULL;
}

START_TEST(test_threads) {
  char path[600];
  snprintf(path, sizeof path, "%s", tc_path("t"));
  fsc_set *s = sopen(path, FSC_TYPE_INT64);
  pthread_t th[2 * NTH];
  struct sctx ctx[2 * NTH];
  /* Every thread adds the same elements: each is new exactly once. */
  for (int i = 0; i < 2 * NTH; i++) {
    ctx[i] = (struct sctx){i < NTH ? s : NULL, path, 0, 0, 0, NULL};
    ck_assert_int_eq(pthread_create(&th[i], NULL, thr_add, &ctx[i]), 0);
  }
  int added = 0;
  for (int i = 0; i < 2 * NTH; i++) {
    pthread_join(th[i], NULL);
    ck_assert_msg(ctx[i].rc == 0, "thread %d: %d", i, ctx[i].rc);
    added += ctx[i].added;
  }
  ck_assert_int_eq(added, NEL);
  ck_assert_uint_eq(slen(s), NEL);
  for (int i = 0; i < NEL; i++)
    FAST_FSC(fsc_set_contains_i64(s, i), 1);
  fsc_set_free(s);
  /* Concurrent pops take each element once.  fsc_set_pop walks the data
   * file (documented cost), so popping everything is quadratic: a fresh
   * set of NPOP elements keeps this short. */
  s = sopen(NULL, FSC_TYPE_INT64);
  for (int i = 0; i < NPOP; i++)
    FAST_FSC(fsc_set_add_i64(s, i), 1);
  bool *seen = calloc(NEL, sizeof *seen);
  for (int i = 0; i < NTH; i++) {
    ctx[i] = (struct sctx){s, path, 0, 0, 0, seen};
    ck_assert_int_eq(pthread_create(&th[i], NULL, thr_pop, &ctx[i]), 0);
  }
  int popped = 0;
  for (int i = 0; i < NTH; i++) {
    pthread_join(th[i], NULL);
    ck_assert_msg(ctx[i].rc == 0, "pop thread %d: %d", i, ctx[i].rc);
    popped += ctx[i].popped;
  }
  ck_assert_int_eq(popped, NPOP);
  ck_assert_uint_eq(slen(s), 0);
  for (int i = 0; i < NPOP; i++)
    ck_assert(seen[i]);
  free(seen);
  fsc_set_free(s);
}
END_TEST

static Suite *set_suite(void) {
  Suite *s = suite_create("set");
  TCase *tc = tcase_create("api");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_open_close);
  tcase_add_test(tc, test_open_errors);
  tcase_add_test(tc, test_kind);
  tcase_add_test(tc, test_add_discard_remove);
  tcase_add_test(tc, test_pop_clear);
  tcase_add_test(tc, test_iteration_order);
  tcase_add_test(tc, test_identity);
  tcase_add_test(tc, test_typed);
  tcase_add_test(tc, test_shorthands);
  tcase_add_test(tc, test_scan);
  tcase_add_test(tc, test_metrics);
  tcase_add_test(tc, test_temporary);
  tcase_add_test(tc, test_predicates);
  tcase_add_test(tc, test_algebra_self);
  tcase_add_test(tc, test_algebra_types);
  tcase_add_test(tc, test_persist_types);
  suite_add_tcase(s, tc);
  TCase *big = tcase_create("model");
  tcase_set_timeout(big, 60);
  tcase_add_test(big, test_algebra_random);
  tcase_add_test(big, test_growth);
  tcase_add_test(big, test_random_ops);
  tcase_add_test(big, test_rebuild_from_data);
  tcase_add_test(big, test_iter_at_most_once);
  tcase_add_test(big, test_churn);
  suite_add_tcase(s, big);
  /* (A case of its own: tools/tsan.sh runs it, CK_RUN_CASE=threads.) */
  TCase *th = tcase_create("threads");
  tcase_set_timeout(th, 60);
  tcase_add_test(th, test_threads);
  suite_add_tcase(s, th);
  return s;
}

int main(void) {
  Suite *s = set_suite();
  return tc_run(s);
}
