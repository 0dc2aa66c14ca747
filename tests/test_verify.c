/*
 * test_verify.c - fsc_list_verify, fsc_dict_verify and fsc_set_verify: the
 * check of a live collection and its repair.
 *
 *  - a sound collection, after every kind of operation (so the counters
 *    the check compares are kept exact by the library), is healthy;
 *  - the report: versioned by size, zero-filled, the flags and the
 *    handle states it refuses (read-only repair is FSC_EROFS);
 *  - each kind of damage, made with pwrite into the files of an open
 *    collection, is found and counted where the report says it is (bad
 *    checksum, bad type, dangling slot, broken length, frozen word, byte
 *    counters, dict COUNT, hash tags, duplicate keys, lost index slots),
 *    and repaired: what is dropped is exactly the damaged element, every
 *    other element is intact, and a second check is healthy;
 *  - a repair that needs the collection alone gets FSC_EAGAIN while
 *    another process has it open, and changes nothing;
 *  - while other processes append, assign and set, a check reports no
 *    problem that is not there, and a repair loses no acknowledged write.
 */
#include "check_common.h"
#include "check_records.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* doc/FORMAT.md */
#define HDR 4096
#define REC_HDR 16
#define D_TAIL 64
#define D_LIVE 80
#define D_DEAD 88
#define I_LENWORD 64
#define I_DESC(b) (72 + 24 * (b))
#define I_KUSED 160
#define I_SEAL 224
#define LW_FROZEN (UINT64_C(1) << 63)
#define LW_LEN(w) ((w) & ((UINT64_C(1) << 40) - 1))
#define LW_BUF(w) ((unsigned)(((w) >> 62) & 1u))

/* tc_fpath (check_records.h) into a caller's buffer: the helpers below
 * use their own. */
static const char *fpath_in(char buf[1024], const char *base,
                            const char *which) {
  snprintf(buf, 1024, "%.900s.%.5s.fscollection", base, which);
  return buf;
}

static fsc_verify_report rep(void) {
  fsc_verify_report r;
  memset(&r, 0xEE, sizeof r); /* the library must fill every field */
  r.size = sizeof r;
  return r;
}

static void show(const char *what, const fsc_verify_report *r) {
  fprintf(stderr,
          "%s: healthy %d repaired %d counters_checked %d length %llu "
          "records %llu bad %llu (bounds %llu type %llu sum %llu) slots "
          "%llu index %llu (dangling %llu structure %llu counters %llu) "
          "repaired %llu dropped %llu left %llu [%s]\n",
          what, r->healthy, r->repaired, r->counters_checked,
          (unsigned long long)r->length,
          (unsigned long long)r->records_checked,
          (unsigned long long)r->records_bad,
          (unsigned long long)r->records_bad_bounds,
          (unsigned long long)r->records_bad_type,
          (unsigned long long)r->records_bad_checksum,
          (unsigned long long)r->slots_checked,
          (unsigned long long)r->index_problems,
          (unsigned long long)r->index_dangling,
          (unsigned long long)r->index_structure,
          (unsigned long long)r->index_counters,
          (unsigned long long)r->items_repaired,
          (unsigned long long)r->items_dropped,
          (unsigned long long)r->problems_left, fsc_errmsg());
}

/* A healthy report with nothing repaired. */
static void ck_healthy(const fsc_verify_report *r, uint64_t length) {
  if (!r->healthy || r->index_problems || r->records_bad ||
      r->problems_left || r->length != length)
    show("expected healthy", r);
  ck_assert(r->healthy);
  ck_assert_uint_eq(r->size, sizeof *r);
  ck_assert_uint_eq(r->records_bad, 0);
  ck_assert_uint_eq(r->index_problems, 0);
  ck_assert_uint_eq(r->problems_left, 0);
  ck_assert_uint_eq(r->items_repaired, 0);
  ck_assert_uint_eq(r->items_dropped, 0);
  ck_assert(!r->repaired);
  ck_assert_uint_eq(r->length, length);
  for (int i = 0; i < 3; i++)
    ck_assert_uint_eq(r->reserved[i], 0);
}

/* The sums hold. */
static void ck_sums(const fsc_verify_report *r) {
  ck_assert_uint_eq(r->records_bad, r->records_bad_bounds +
                                        r->records_bad_type +
                                        r->records_bad_checksum);
  ck_assert_uint_eq(r->index_problems, r->index_dangling +
                                           r->index_structure +
                                           r->index_counters);
}

static fsc_list *list_open(const char *base, fsc_type t) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = t;
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(base, &o, &l));
  return l;
}

static fsc_dict *dict_open(const char *base, fsc_type t) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = t;
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(base, &o, &d));
  return d;
}

static fsc_set *set_open(const char *base, fsc_type t) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = t;
  fsc_set *s = NULL;
  ck_ok(fsc_set_open(base, &o, &s));
  return s;
}

/* The record offset list slot i names (the active array). */
static uint64_t list_slot_at(const char *base, uint64_t i, off_t *where) {
  char ib[1024];
  const char *ip = fpath_in(ib, base, "index");
  uint64_t w = tc_peek64(ip, I_LENWORD);
  uint64_t arr = tc_peek64(ip, I_DESC(LW_BUF(w)));
  if (where)
    *where = (off_t)(arr + 8 * i);
  return tc_peek64(ip, (off_t)(arr + 8 * i));
}

/* Recompute the checksum of the record at off after changing it. */
static void reseal(const char *dp, uint64_t off) {
  uint8_t h[REC_HDR];
  tc_peek(dp, (off_t)off, h, sizeof h);
  uint64_t n = tc_rec_size_at(dp, off);
  uint8_t *pl = malloc(n ? n : 1);
  tc_peek(dp, (off_t)(off + tc_rec_hdr_at(dp, off)), pl, n);
  uint32_t sum = (uint32_t)XXH3_64bits_withSeed(pl, n,
                                                ((uint64_t)h[0] << 56) ^ n);
  tc_poke(dp, (off_t)(off + 4), &sum, 4);
  free(pl);
}

/* The active hash table: its offset and capacity. */
static void table_of(const char *base, uint64_t *off, uint64_t *cap) {
  char ib[1024];
  const char *ip = fpath_in(ib, base, "index");
  uint64_t w = tc_peek64(ip, I_LENWORD);
  *off = tc_peek64(ip, I_DESC(LW_BUF(w)));
  *cap = tc_peek64(ip, I_DESC(LW_BUF(w)) + 8);
}

/* (bits 39..3: the offset in both slot formats for files below 1 TiB) */
#define KS_OFF(s) ((s) & ((((uint64_t)1 << 40) - 1) & ~UINT64_C(7)))
#define KS_IS_KEY(s) (((s) & 7u) == 0 && KS_OFF(s) >= HDR)

/* The slot (index and value) holding a dict key or a set element's
 * payload `key`; aborts the test if there is none. */
static uint64_t slot_of(const char *base, const void *key, uint32_t klen,
                        uint64_t *idx) {
  uint64_t toff, cap;
  table_of(base, &toff, &cap);
  char ib[1024], db[1024];
  const char *ip = fpath_in(ib, base, "index");
  const char *dp = fpath_in(db, base, "data");
  for (uint64_t i = 0; i < cap; i++) {
    uint64_t s = tc_peek64(ip, (off_t)(toff + 8 * i));
    if (!KS_IS_KEY(s))
      continue;
    uint32_t kl;
    unsigned hn = tc_rec_hdr_at(dp, KS_OFF(s));
    tc_peek(dp, (off_t)(KS_OFF(s) + hn), &kl, 4);
    if (kl != klen)
      continue;
    char buf[256];
    ck_assert_uint_le(kl, sizeof buf);
    tc_peek(dp, (off_t)(KS_OFF(s) + hn + 4), buf, kl);
    if (memcmp(buf, key, kl) == 0) {
      *idx = i;
      return s;
    }
  }
  ck_abort_msg("key not found in the table");
  return 0;
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

static uint64_t dlen(fsc_dict *d) {
  uint64_t n = 0;
  ck_ok(fsc_dict_len(d, &n));
  return n;
}

/* A list of n int64 values i*10 (closed cleanly, then opened again). */
static fsc_list *int_list(const char *base, int n) {
  fsc_list *l = list_open(base, FSC_TYPE_INT64);
  for (int i = 0; i < n; i++)
    ck_ok(fsc_list_append_i64(l, i * 10));
  return l;
}

/* The list holds i*10 for i in [0, n) except `skip` (-1: none). */
static void ck_list_values(fsc_list *l, int n, int skip) {
  ck_assert_uint_eq(llen(l), (uint64_t)(n - (skip >= 0)));
  for (int i = 0, k = 0; i < n; i++) {
    if (i == skip)
      continue;
    ck_assert_int_eq(lget(l, k++), i * 10);
  }
}

static char *key(int i) {
  static char b[4][32];
  static unsigned k;
  char *s = b[k++ % 4];
  snprintf(s, 32, "key-%d", i);
  return s;
}

static fsc_dict *int_dict(const char *base, int n) {
  fsc_dict *d = dict_open(base, FSC_TYPE_INT64);
  for (int i = 0; i < n; i++)
    ck_ok(fsc_dict_set_i64(d, key(i), i));
  return d;
}

/* The dict holds key(i) = i for i in [0, n) except `skip`. */
static void ck_dict_values(fsc_dict *d, int n, int skip) {
  ck_assert_uint_eq(dlen(d), (uint64_t)(n - (skip >= 0)));
  for (int i = 0; i < n; i++) {
    int64_t x;
    if (i == skip) {
      ck_fsc(fsc_dict_get_i64(d, key(i), &x), FSC_EKEY);
      continue;
    }
    ck_ok(fsc_dict_get_i64(d, key(i), &x));
    ck_assert_int_eq(x, i);
  }
  /* Iteration agrees with the length. */
  fsc_dict_iter it;
  fsc_value k, v;
  uint64_t seen = 0;
  int rc;
  ck_ok(fsc_dict_iter_init(d, &it));
  while ((rc = fsc_dict_iter_next(&it, &k, &v)) == 1)
    seen++;
  ck_assert_int_eq(rc, 0);
  ck_assert_uint_eq(seen, dlen(d));
}

/* ------------------------------------------------------------------ */
/* Sound collections                                                   */
/* ------------------------------------------------------------------ */

START_TEST(test_sound_list) {
  const char *base = tc_path("l");
  fsc_list *l = list_open(base, FSC_TYPE_ANY);
  fsc_verify_report r = rep();
  ck_ok(fsc_list_verify(l, 0, &r)); /* empty */
  ck_healthy(&r, 0);
  ck_assert(r.counters_checked);
  ck_assert_uint_eq(r.records_checked, 0);
  /* Every operation, and growth of both files and of the array. */
  for (int i = 0; i < 5000; i++)
    ck_ok(fsc_list_append_i64(l, i));
  ck_ok(fsc_list_append_str(l, "a string"));
  fsc_value vs[3] = {fsc_str("x"), fsc_f64(2.5), fsc_bytes("\0\1", 2)};
  ck_ok(fsc_list_extend(l, vs, 3));
  ck_ok(fsc_list_set_i64(l, 7, -7));
  fsc_value v = fsc_json("[1,2]", 5);
  ck_ok(fsc_list_set(l, 8, &v));
  ck_ok(fsc_list_insert(l, 0, &vs[0]));
  fsc_value got;
  ck_ok(fsc_list_pop(l, -1, &got));
  ck_ok(fsc_list_pop(l, 3, &got));
  ck_ok(fsc_list_del(l, 10));
  ck_ok(fsc_list_slice_del(l, FSC_SLICE(100, 200, 3)));
  ck_ok(fsc_list_slice_set(l, FSC_SLICE(0, 5, 1), vs, 2));
  ck_ok(fsc_list_reverse(l));
  fsc_value gone = fsc_str("never there"), there = fsc_i64(100);
  ck_fsc(fsc_list_remove(l, &gone), FSC_EVALUE);
  ck_ok(fsc_list_remove(l, &there));
  uint64_t n = llen(l);
  r = rep();
  ck_ok(fsc_list_verify(l, 0, &r));
  ck_healthy(&r, n);
  ck_assert(r.counters_checked);
  ck_assert_uint_eq(r.records_checked, n);
  ck_assert_uint_ge(r.slots_checked, n);
  /* Repair of a sound list changes nothing. */
  r = rep();
  ck_ok(fsc_list_verify(l, FSC_VERIFY_REPAIR, &r));
  ck_healthy(&r, n);
  /* A typed list, sorted, cleared. */
  fsc_list *t = int_list(tc_path("t"), 3000);
  ck_ok(fsc_list_sort(t, true));
  r = rep();
  ck_ok(fsc_list_verify(t, 0, &r));
  ck_healthy(&r, 3000);
  ck_ok(fsc_list_clear(t));
  ck_ok(fsc_list_append_i64(t, 1));
  r = rep();
  ck_ok(fsc_list_verify(t, 0, &r));
  ck_healthy(&r, 1);
  ck_ok(fsc_list_destroy(t));
  fsc_list_free(t);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(test_sound_dict_set) {
  fsc_dict *d = dict_open(tc_path("d"), FSC_TYPE_ANY);
  fsc_verify_report r = rep();
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_healthy(&r, 0);
  ck_assert_uint_ge(r.slots_checked, 64);
  /* Growth (several rebuilds), replacements, deletes, every writer. */
  for (int i = 0; i < 3000; i++)
    ck_ok(fsc_dict_set_i64(d, key(i), i));
  for (int i = 0; i < 3000; i += 3)
    ck_ok(fsc_dict_set_str(d, key(i), "replaced"));
  for (int i = 1; i < 3000; i += 7)
    ck_ok(fsc_dict_del_str(d, key(i)));
  fsc_value out, dflt = fsc_i64(5);
  ck_ok(fsc_dict_pop(d, key(2), strlen(key(2)), NULL, &out));
  ck_ok(fsc_dict_popitem(d, NULL, NULL));
  ck_ok(fsc_dict_setdefault(d, "new", 3, &dflt, &out));
  ck_ok(fsc_dict_setdefault(d, "new", 3, &dflt, &out));
  int64_t x;
  ck_ok(fsc_dict_incr(d, "ctr", 3, 5, &x));
  ck_ok(fsc_dict_incr(d, "ctr", 3, 5, &x));
  uint64_t n = dlen(d);
  r = rep();
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_healthy(&r, n);
  ck_assert(r.counters_checked);
  ck_assert_uint_eq(r.records_checked, n);
  r = rep();
  ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r));
  ck_healthy(&r, n);
  ck_ok(fsc_dict_clear(d));
  r = rep();
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_healthy(&r, 0);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);

  fsc_set *s = set_open(tc_path("s"), FSC_TYPE_ANY);
  for (int i = 0; i < 2000; i++)
    ck_assert_int_eq(fsc_set_add_i64(s, i), 1);
  ck_assert_int_eq(fsc_set_add_str(s, "one"), 1);
  ck_assert_int_eq(fsc_set_add_str(s, "one"), 0);
  fsc_value e = fsc_i64(10);
  ck_assert_int_eq(fsc_set_discard(s, &e), 1);
  ck_ok(fsc_set_pop(s, NULL));
  uint64_t sn;
  ck_ok(fsc_set_len(s, &sn));
  r = rep();
  ck_ok(fsc_set_verify(s, 0, &r));
  ck_healthy(&r, sn);
  ck_assert(r.counters_checked);
  ck_assert_uint_eq(r.records_checked, sn);
  ck_ok(fsc_set_destroy(s));
  fsc_set_free(s);
}
END_TEST

/* The report grows by its size: an older caller's smaller struct is
 * filled only that far; 0 means "all you know". */
START_TEST(test_report_versioning) {
  fsc_list *l = int_list(tc_path("v"), 10);
  struct {
    fsc_verify_report r;
    unsigned char guard[64];
  } big;
  memset(&big, 0xAB, sizeof big);
  size_t small = offsetof(fsc_verify_report, records_checked);
  big.r.size = small;
  ck_ok(fsc_list_verify(l, 0, &big.r));
  ck_assert_uint_eq(big.r.size, small);
  ck_assert(big.r.healthy);
  const unsigned char *b = (const unsigned char *)&big.r;
  for (size_t i = small; i < sizeof big; i++)
    ck_assert_msg(b[i] == 0xAB, "byte %zu beyond the caller's size written",
                  i);
  memset(&big, 0xAB, sizeof big);
  big.r.size = 0;
  ck_ok(fsc_list_verify(l, 0, &big.r));
  ck_assert_uint_eq(big.r.size, sizeof(fsc_verify_report));
  ck_assert_uint_eq(big.r.length, 10);
  for (size_t i = 0; i < sizeof big.guard; i++)
    ck_assert_uint_eq(big.guard[i], 0xAB);
  /* A NULL report: just the verdict. */
  ck_ok(fsc_list_verify(l, FSC_VERIFY_REPAIR, NULL));
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(test_refusals) {
  const char *base = tc_path("ro");
  fsc_list *l = int_list(base, 10);
  fsc_verify_report r = rep();
  ck_fsc(fsc_list_verify(l, 0x80, &r), FSC_EINVAL);
  ck_assert(!r.healthy);
  ck_assert_uint_eq(r.records_checked, 0);
  ck_fsc(fsc_list_verify(NULL, 0, &r), FSC_EINVAL);
  ck_fsc(fsc_dict_verify(NULL, 0, NULL), FSC_EINVAL);
  ck_fsc(fsc_set_verify(NULL, 0, NULL), FSC_EINVAL);
  /* A read-only handle checks, but cannot repair. */
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = FSC_RDONLY;
  fsc_list *ro = NULL;
  ck_ok(fsc_list_open(base, &o, &ro));
  r = rep();
  ck_ok(fsc_list_verify(ro, 0, &r));
  ck_healthy(&r, 10);
  r = rep();
  ck_fsc(fsc_list_verify(ro, FSC_VERIFY_REPAIR, &r), FSC_EROFS);
  ck_assert_str_ne(fsc_errmsg(), "");
  ck_assert_uint_eq(r.records_checked, 0);
  ck_ok(fsc_list_close(ro));
  ck_fsc(fsc_list_verify(ro, 0, &r), FSC_ECLOSED);
  fsc_list_free(ro);
  fsc_dict *d = dict_open(tc_path("rd"), FSC_TYPE_INT64);
  ck_ok(fsc_dict_close(d));
  ck_fsc(fsc_dict_verify(d, 0, NULL), FSC_ECLOSED);
  fsc_dict_free(d);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Damaged lists                                                       */
/* ------------------------------------------------------------------ */

/* Flip one payload byte of element 3: a get does not notice, the check
 * does, and the repair drops exactly that element. */
START_TEST(test_list_bad_checksum) {
  const char *base = tc_path("sum");
  fsc_list *l = int_list(base, 10);
  uint64_t off = list_slot_at(base, 3, NULL);
  uint8_t b;
  unsigned hn = tc_rec_hdr_at(tc_fpath(base, "data"), off);
  ck_assert_uint_eq(hn, 8); /* compact (doc/FORMAT.md) */
  tc_peek(tc_fpath(base, "data"), (off_t)(off + hn), &b, 1);
  ck_assert_uint_eq(b, 30);
  b ^= 0x40;
  tc_poke(tc_fpath(base, "data"), (off_t)(off + hn), &b, 1);
  ck_assert_int_eq(lget(l, 3), 30 ^ 0x40); /* reads do not checksum */
  fsc_verify_report r = rep();
  ck_fsc(fsc_list_verify(l, 0, &r), FSC_ECORRUPT);
  ck_sums(&r);
  ck_assert(!r.healthy && !r.repaired);
  ck_assert_uint_eq(r.records_checked, 10);
  ck_assert_uint_eq(r.records_bad, 1);
  ck_assert_uint_eq(r.records_bad_checksum, 1);
  ck_assert_uint_eq(r.index_problems, 0);
  ck_assert_uint_eq(r.problems_left, 1);
  ck_assert_msg(strstr(fsc_errmsg(), "checksum"), "%s", fsc_errmsg());
  ck_assert_uint_eq(llen(l), 10); /* a check changes nothing */
  r = rep();
  ck_ok(fsc_list_verify(l, FSC_VERIFY_REPAIR, &r));
  ck_sums(&r);
  ck_assert(r.healthy && r.repaired);
  ck_assert_uint_eq(r.records_bad_checksum, 1);
  ck_assert_uint_eq(r.items_dropped, 1);
  ck_assert_uint_eq(r.problems_left, 0);
  ck_assert_uint_eq(r.length, 9);
  ck_list_values(l, 10, 3);
  r = rep();
  ck_ok(fsc_list_verify(l, 0, &r));
  ck_healthy(&r, 9);
  /* It keeps working, and survives a reopen. */
  ck_ok(fsc_list_append_i64(l, 100));
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
  l = list_open(base, FSC_TYPE_INT64);
  ck_assert_uint_eq(llen(l), 10);
  ck_assert_int_eq(lget(l, -1), 100);
  r = rep();
  ck_ok(fsc_list_verify(l, 0, &r));
  ck_healthy(&r, 10);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* A record with a valid checksum but a type the list cannot hold (an
 * int32 record in an int64 list), and one whose payload does not decode
 * (a bool byte of 7 in an any list). */
START_TEST(test_list_bad_type) {
  const char *base = tc_path("type");
  fsc_list *l = int_list(base, 5);
  const char *dp = tc_fpath(base, "data");
  uint64_t off = list_slot_at(base, 2, NULL);
  uint8_t t = FSC_TYPE_INT32;
  uint64_t n = 4;
  tc_poke(dp, (off_t)off, &t, 1);
  tc_poke(dp, (off_t)(off + 8), &n, 8);
  reseal(dp, off);
  fsc_verify_report r = rep();
  ck_fsc(fsc_list_verify(l, 0, &r), FSC_ECORRUPT);
  ck_sums(&r);
  ck_assert_uint_eq(r.records_bad_type, 1);
  ck_assert_uint_eq(r.records_bad, 1);
  r = rep();
  ck_ok(fsc_list_verify(l, FSC_VERIFY_REPAIR, &r));
  ck_assert_uint_eq(r.items_dropped, 1);
  ck_list_values(l, 5, 2);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);

  base = tc_path("bool");
  l = list_open(base, FSC_TYPE_ANY);
  fsc_value tv = fsc_bool(true);
  for (int i = 0; i < 4; i++)
    ck_ok(fsc_list_append(l, &tv));
  dp = tc_fpath(base, "data");
  off = list_slot_at(base, 1, NULL);
  uint8_t seven = 7;
  tc_poke(dp, (off_t)(off + tc_rec_hdr_at(dp, off)), &seven, 1);
  reseal(dp, off);
  r = rep();
  ck_fsc(fsc_list_verify(l, 0, &r), FSC_ECORRUPT);
  ck_assert_uint_eq(r.records_bad_type, 1);
  r = rep();
  ck_ok(fsc_list_verify(l, FSC_VERIFY_REPAIR, &r));
  ck_assert_uint_eq(llen(l), 3);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* A live record whose flags byte (outside the checksum) has a bit no
 * build writes: verify counts it as a bad record and the repair drops
 * the element; a read-only first opener after an unclean end refuses to
 * hand it out. */
START_TEST(test_list_unknown_flag) {
  const char *base = tc_path("uflag");
  fsc_list *l = int_list(base, 5);
  const char *dp = tc_fpath(base, "data");
  uint64_t off = list_slot_at(base, 3, NULL);
  uint8_t fl = 0x80;
  tc_poke(dp, (off_t)(off + 1), &fl, 1);
  fsc_verify_report r = rep();
  ck_fsc(fsc_list_verify(l, 0, &r), FSC_ECORRUPT);
  ck_sums(&r);
  ck_assert_uint_eq(r.records_bad_type, 1);
  ck_assert_uint_eq(r.records_bad, 1);
  /* read-only, after an unclean end: the marker cleared */
  fsc_list_close(l);
  fsc_list_free(l);
  const char *ip = tc_fpath(base, "index");
  struct stat st;
  ck_assert_int_eq(stat(ip, &st), 0);
  uint8_t zero = 0;
  tc_poke(ip, st.st_size - 1, &zero, 1);
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  o.flags = FSC_RDONLY;
  fsc_list *ro;
  ck_ok(fsc_list_open(base, &o, &ro));
  int64_t x;
  ck_fsc(fsc_list_get_i64(ro, 3, &x), FSC_ECORRUPT);
  ck_assert_msg(strstr(fsc_errmsg(), "flag bits"), "%s", fsc_errmsg());
  ck_ok(fsc_list_get_i64(ro, 2, &x));
  ck_assert_int_eq(x, 20);
  fsc_list_close(ro);
  fsc_list_free(ro);
  l = list_open(base, FSC_TYPE_INT64);
  r = rep();
  ck_ok(fsc_list_verify(l, FSC_VERIFY_REPAIR, &r));
  ck_assert_uint_eq(llen(l), 4);
  ck_ok(fsc_list_verify(l, 0, NULL));
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* Slots naming offsets outside the written data: past the tail, inside
 * the header page; and a record whose size runs past the tail. */
START_TEST(test_list_dangling_and_bounds) {
  const char *base = tc_path("dang");
  fsc_list *l = int_list(base, 20);
  const char *ip = tc_fpath(base, "index"), *dp = tc_fpath(base, "data");
  off_t at5, at6;
  list_slot_at(base, 5, &at5);
  list_slot_at(base, 6, &at6);
  uint64_t tail = tc_peek64(dp, D_TAIL);
  tc_poke64(ip, at5, tail + 4096);
  tc_poke64(ip, at6, 1024);
  /* Element 9's record, compact: its COMPACT bit cleared makes the
   * payload a full header's size, and that size runs past the tail. */
  uint64_t off9 = list_slot_at(base, 9, NULL);
  uint64_t huge = tail;
  uint8_t t9;
  tc_peek(dp, (off_t)off9, &t9, 1);
  ck_assert_uint_eq(t9, 0x80 | FSC_TYPE_INT64);
  t9 &= 0x7f;
  tc_poke(dp, (off_t)off9, &t9, 1);
  tc_poke64(dp, (off_t)(off9 + 8), huge);
  fsc_verify_report r = rep();
  ck_fsc(fsc_list_verify(l, 0, &r), FSC_ECORRUPT);
  ck_sums(&r);
  ck_assert_uint_eq(r.index_dangling, 2);
  ck_assert_uint_eq(r.records_bad_bounds, 1);
  ck_assert_uint_eq(r.records_checked, 20);
  /* A get of a dangling slot is refused, never a crash. */
  int64_t x;
  ck_fsc(fsc_list_get_i64(l, 5, &x), FSC_ECORRUPT);
  r = rep();
  ck_ok(fsc_list_verify(l, FSC_VERIFY_REPAIR, &r));
  ck_assert_uint_eq(r.items_dropped, 3);
  ck_assert_uint_eq(r.length, 17);
  ck_assert_uint_eq(llen(l), 17);
  ck_assert_int_eq(lget(l, 5), 70);
  ck_assert_int_eq(lget(l, 7), 100);
  r = rep();
  ck_ok(fsc_list_verify(l, 0, &r));
  ck_healthy(&r, 17);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* A length word that claims two elements more than the slots hold. */
START_TEST(test_list_length) {
  const char *base = tc_path("len");
  fsc_list *l = int_list(base, 8);
  const char *ip = tc_fpath(base, "index");
  uint64_t w = tc_peek64(ip, I_LENWORD);
  tc_poke64(ip, I_LENWORD, w + 2);
  ck_assert_uint_eq(llen(l), 10);
  fsc_verify_report r = rep();
  ck_fsc(fsc_list_verify(l, 0, &r), FSC_ECORRUPT);
  ck_sums(&r);
  ck_assert_uint_eq(r.index_counters, 1);
  ck_assert_uint_eq(r.records_bad, 0);
  ck_assert_msg(strstr(fsc_errmsg(), "length"), "%s", fsc_errmsg());
  r = rep();
  ck_ok(fsc_list_verify(l, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy);
  ck_assert_uint_ge(r.items_repaired, 1);
  ck_list_values(l, 8, -1);
  ck_ok(fsc_list_append_i64(l, 80));
  ck_list_values(l, 9, -1);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* The word left frozen by a structural change whose process died. */
START_TEST(test_list_frozen_word) {
  const char *base = tc_path("frozen");
  fsc_list *l = int_list(base, 30);
  const char *ip = tc_fpath(base, "index");
  tc_poke64(ip, I_LENWORD, tc_peek64(ip, I_LENWORD) | LW_FROZEN);
  fsc_verify_report r = rep();
  ck_fsc(fsc_list_verify(l, 0, &r), FSC_ECORRUPT);
  ck_sums(&r);
  ck_assert_uint_eq(r.index_structure, 1);
  ck_assert_msg(strstr(fsc_errmsg(), "interrupted"), "%s", fsc_errmsg());
  r = rep();
  ck_ok(fsc_list_verify(l, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy && r.repaired);
  ck_assert_uint_eq(r.items_dropped, 0);
  ck_assert_uint_eq(tc_peek64(ip, I_LENWORD) & LW_FROZEN, 0);
  ck_list_values(l, 30, -1);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* Byte counters that drifted (as a writer killed between reserving and
 * counting leaves them): found only by the counter comparison, corrected
 * by the measured difference, nothing dropped. */
START_TEST(test_list_byte_counters) {
  const char *base = tc_path("bytes");
  fsc_list *l = int_list(base, 100);
  const char *dp = tc_fpath(base, "data");
  uint64_t live = tc_peek64(dp, D_LIVE), dead = tc_peek64(dp, D_DEAD);
  ck_assert_uint_eq(live, 100 * tc_rec_bytes(8));
  tc_poke64(dp, D_LIVE, live + 48);
  tc_poke64(dp, D_DEAD, dead + 8);
  fsc_verify_report r = rep();
  ck_fsc(fsc_list_verify(l, 0, &r), FSC_ECORRUPT);
  ck_sums(&r);
  ck_assert(r.counters_checked);
  ck_assert_uint_eq(r.index_counters, 2);
  ck_assert_uint_eq(r.records_bad, 0);
  ck_assert_msg(strstr(fsc_errmsg(), "live bytes"), "%s", fsc_errmsg());
  r = rep();
  ck_ok(fsc_list_verify(l, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy && r.repaired);
  ck_assert_uint_eq(r.items_repaired, 2);
  ck_assert_uint_eq(r.items_dropped, 0);
  ck_assert_uint_eq(tc_peek64(dp, D_LIVE), live);
  ck_assert_uint_eq(tc_peek64(dp, D_DEAD), dead);
  fsc_metrics m;
  memset(&m, 0, sizeof m);
  m.size = sizeof m;
  ck_ok(fsc_list_metrics(l, &m));
  ck_assert_uint_eq(m.live_bytes, live);
  ck_list_values(l, 100, -1);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Damaged dicts and sets                                              */
/* ------------------------------------------------------------------ */

START_TEST(test_dict_bad_record) {
  const char *base = tc_path("dbad");
  fsc_dict *d = int_dict(base, 200);
  uint64_t idx;
  uint64_t s = slot_of(base, "key-17", 6, &idx);
  /* The value's last byte ([u32 len][key][i64 value][u64 origin]). */
  off_t at = (off_t)(KS_OFF(s) + REC_HDR + 4 + 6 + 7);
  uint8_t b = 0x55;
  tc_poke(tc_fpath(base, "data"), at, &b, 1);
  fsc_verify_report r = rep();
  ck_fsc(fsc_dict_verify(d, 0, &r), FSC_ECORRUPT);
  ck_sums(&r);
  ck_assert_uint_eq(r.records_checked, 200);
  ck_assert_uint_eq(r.records_bad_checksum, 1);
  ck_assert_uint_eq(r.index_problems, 0);
  r = rep();
  ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy && r.repaired);
  ck_assert_uint_eq(r.items_dropped, 1);
  ck_assert_uint_eq(r.length, 199);
  ck_dict_values(d, 200, 17);
  r = rep();
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_healthy(&r, 199);
  /* Usable: the key can be set again; and after a reopen. */
  ck_ok(fsc_dict_set_i64(d, "key-17", 17));
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  d = dict_open(base, FSC_TYPE_INT64);
  ck_dict_values(d, 200, -1);
  r = rep();
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_healthy(&r, 200);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* A slot whose hash tag was damaged: lookups miss the key.  The rebuild
 * places it by its hash again; nothing is lost. */
START_TEST(test_dict_bad_tag) {
  const char *base = tc_path("tag");
  fsc_dict *d = int_dict(base, 100);
  uint64_t idx, toff, cap;
  uint64_t s = slot_of(base, "key-42", 6, &idx);
  table_of(base, &toff, &cap);
  tc_poke64(tc_fpath(base, "index"), (off_t)(toff + 8 * idx),
         s ^ (UINT64_C(1) << 50));
  int64_t x;
  ck_fsc(fsc_dict_get_i64(d, "key-42", &x), FSC_EKEY);
  fsc_verify_report r = rep();
  ck_fsc(fsc_dict_verify(d, 0, &r), FSC_ECORRUPT);
  ck_sums(&r);
  ck_assert_uint_eq(r.index_structure, 1);
  ck_assert_uint_eq(r.records_bad, 0);
  ck_assert_msg(strstr(fsc_errmsg(), "tag"), "%s", fsc_errmsg());
  r = rep();
  ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy);
  ck_assert_uint_eq(r.items_dropped, 0);
  ck_dict_values(d, 100, -1);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* A key copied into the slot after its own (a key in two slots, the
 * second shadowed), and a COUNT off by three. */
START_TEST(test_dict_duplicate_and_count) {
  const char *base = tc_path("dup");
  fsc_dict *d = int_dict(base, 50);
  const char *ip = tc_fpath(base, "index");
  uint64_t toff, cap, idx = 0, s = 0;
  table_of(base, &toff, &cap);
  int k;
  for (k = 0; k < 50; k++) {
    char *kk = key(k);
    s = slot_of(base, kk, (uint32_t)strlen(kk), &idx);
    if (tc_peek64(ip, (off_t)(toff + 8 * ((idx + 1) & (cap - 1)))) == 0)
      break;
  }
  ck_assert_int_lt(k, 50);
  tc_poke64(ip, (off_t)(toff + 8 * ((idx + 1) & (cap - 1))), s);
  tc_poke64(ip, I_KUSED, tc_peek64(ip, I_KUSED) + 1);
  tc_poke64(ip, I_LENWORD, tc_peek64(ip, I_LENWORD) + 1);
  fsc_verify_report r = rep();
  ck_fsc(fsc_dict_verify(d, 0, &r), FSC_ECORRUPT);
  ck_sums(&r);
  ck_assert_uint_eq(r.index_structure, 1);
  ck_assert_msg(strstr(fsc_errmsg(), "same key"), "%s", fsc_errmsg());
  r = rep();
  ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy);
  ck_assert_uint_eq(r.items_dropped, 0);
  ck_dict_values(d, 50, -1);
  /* COUNT three too high (a deleter killed before counting, thrice). */
  tc_poke64(ip, I_LENWORD, tc_peek64(ip, I_LENWORD) + 3);
  ck_assert_uint_eq(dlen(d), 53);
  r = rep();
  ck_fsc(fsc_dict_verify(d, 0, &r), FSC_ECORRUPT);
  ck_assert(r.counters_checked);
  ck_assert_uint_eq(r.index_counters, 1);
  ck_assert_msg(strstr(fsc_errmsg(), "count"), "%s", fsc_errmsg());
  r = rep();
  ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy);
  ck_dict_values(d, 50, -1);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* Index slots lost (zeroed, as pages of the index lost with the power):
 * COUNT far above the keys the table holds.  Only the data file has the
 * keys: the repair rebuilds from it, which needs the dict alone. */
START_TEST(test_dict_lost_slots) {
  const char *base = tc_path("lost");
  fsc_dict *d = int_dict(base, 300);
  const char *ip = tc_fpath(base, "index");
  uint64_t toff, cap;
  table_of(base, &toff, &cap);
  int zeroed = 0;
  for (uint64_t i = 0; i < cap && zeroed < 40; i += 3) {
    if (KS_IS_KEY(tc_peek64(ip, (off_t)(toff + 8 * i)))) {
      tc_poke64(ip, (off_t)(toff + 8 * i), 0);
      zeroed++;
    }
  }
  ck_assert_int_eq(zeroed, 40);
  fsc_verify_report r = rep();
  ck_fsc(fsc_dict_verify(d, 0, &r), FSC_ECORRUPT);
  ck_sums(&r);
  ck_assert_uint_ge(r.index_counters, 1);
  ck_assert_uint_eq(r.records_checked, 260);

  /* Another process has it open: the repair is refused, nothing changes. */
  int go[2], done[2];
  ck_assert_int_eq(pipe(go), 0);
  ck_assert_int_eq(pipe(done), 0);
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0) {
    fsc_dict *o = NULL;
    char c = 0;
    if (fsc_dict_open(base, NULL, &o) != 0)
      _exit(2);
    if (write(go[1], "x", 1) != 1 || read(done[0], &c, 1) != 1)
      _exit(3);
    fsc_dict_free(o);
    fsc_dict_free(d); /* the parent's, inherited: closed here only */
    _exit(0);
  }
  char c;
  ck_assert_int_eq(read(go[0], &c, 1), 1);
  uint64_t before = tc_peek64(ip, I_LENWORD);
  r = rep();
  ck_fsc(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r), FSC_EAGAIN);
  ck_assert_msg(strstr(fsc_errmsg(), "alone"), "%s", fsc_errmsg());
  ck_assert(!r.healthy && !r.repaired);
  ck_assert_uint_eq(tc_peek64(ip, I_LENWORD), before);
  ck_assert_int_eq(write(done[1], "x", 1), 1);
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);

  /* Alone now: rebuilt from the data file, every key back. */
  r = rep();
  ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r));
  if (!r.healthy)
    show("lost slots repair", &r);
  ck_assert(r.healthy && r.repaired);
  ck_assert_uint_eq(r.items_dropped, 0);
  ck_assert_uint_ge(r.items_repaired, 40);
  ck_assert_uint_eq(r.length, 300);
  ck_dict_values(d, 300, -1);
  r = rep();
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_healthy(&r, 300);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* A set: a damaged element, garbage in a slot, a frozen slot. */
START_TEST(test_set_damage) {
  const char *base = tc_path("set");
  fsc_set *s = set_open(base, FSC_TYPE_STRING);
  char b[32];
  for (int i = 0; i < 100; i++) {
    snprintf(b, sizeof b, "elem-%03d", i);
    ck_assert_int_eq(fsc_set_add_str(s, b), 1);
  }
  const char *ip = tc_fpath(base, "index"), *dp = tc_fpath(base, "data");
  uint64_t idx, toff, cap;
  uint64_t sl = slot_of(base, "elem-007", 8, &idx);
  uint8_t x = 'X';
  tc_poke(dp, (off_t)(KS_OFF(sl) + REC_HDR + 4 + 2), &x, 1);
  table_of(base, &toff, &cap);
  uint64_t e = 0;
  for (e = 0; e < cap; e++)
    if (tc_peek64(ip, (off_t)(toff + 8 * e)) == 0)
      break;
  tc_poke64(ip, (off_t)(toff + 8 * e), 0x10002); /* no valid state */
  tc_poke64(ip, I_KUSED, tc_peek64(ip, I_KUSED) + 1);
  uint64_t idx2, sl2 = slot_of(base, "elem-050", 8, &idx2);
  tc_poke64(ip, (off_t)(toff + 8 * idx2), sl2 | 1); /* frozen, no rebuild */
  fsc_verify_report r = rep();
  ck_fsc(fsc_set_verify(s, 0, &r), FSC_ECORRUPT);
  ck_sums(&r);
  if (r.index_structure != 2)
    show("set damage", &r);
  ck_assert_uint_eq(r.records_bad_checksum, 1);
  ck_assert_uint_eq(r.index_structure, 2);
  r = rep();
  ck_ok(fsc_set_verify(s, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy);
  ck_assert_uint_eq(r.items_dropped, 1);
  uint64_t n;
  ck_ok(fsc_set_len(s, &n));
  ck_assert_uint_eq(n, 99);
  for (int i = 0; i < 100; i++) {
    snprintf(b, sizeof b, "elem-%03d", i);
    ck_assert_int_eq(fsc_set_contains_str(s, b), i != 7);
  }
  /* The frozen slot no longer blocks writers. */
  fsc_value v = fsc_str("elem-050");
  ck_assert_int_eq(fsc_set_discard(s, &v), 1);
  ck_assert_int_eq(fsc_set_add_str(s, "elem-007"), 1);
  r = rep();
  ck_ok(fsc_set_verify(s, 0, &r));
  ck_healthy(&r, 99);
  ck_ok(fsc_set_destroy(s));
  fsc_set_free(s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* While others write                                                  */
/* ------------------------------------------------------------------ */

#define W_N 20000

/* Append 0..W_N-1 to the list, assign to a few slots, set keys in the
 * dict; report each acknowledged write count through the exit status. */
static void writer(const char *lbase, const char *dbase, int id) {
  fsc_list *l = NULL;
  fsc_dict *d = NULL;
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  if (fsc_list_open(lbase, &o, &l) || fsc_dict_open(dbase, &o, &d))
    _exit(2);
  char k[32];
  for (int i = 0; i < W_N; i++) {
    if (fsc_list_append_i64(l, (int64_t)id * 1000000 + i) != 0)
      _exit(3);
    if (i % 10 == 0 && fsc_list_set_i64(l, 0, i) != 0)
      _exit(4);
    snprintf(k, sizeof k, "w%d-%d", id, i % 3000);
    if (fsc_dict_set_i64(d, k, i) != 0)
      _exit(5);
    if (i % 7 == 0) {
      snprintf(k, sizeof k, "w%d-%d", id, (i / 7) % 3000);
      int rc = fsc_dict_del_str(d, k);
      if (rc != 0 && rc != FSC_EKEY)
        _exit(6);
      snprintf(k, sizeof k, "w%d-%d", id, (i / 7) % 3000);
      if (fsc_dict_set_i64(d, k, -1) != 0)
        _exit(7);
    }
  }
  fsc_list_free(l);
  fsc_dict_free(d);
  _exit(0);
}

/* Checks and repairs of damaged and sound collections while two writer
 * processes write: no check reports a problem that is not there, and no
 * acknowledged write is lost. */
START_TEST(test_concurrent_writers) {
  const char *dir = tc_dir();
  char lbase[600], dbase[600];
  snprintf(lbase, sizeof lbase, "%s/l", dir);
  snprintf(dbase, sizeof dbase, "%s/d", dir);
  /* Damage one element of each before the writers start. */
  fsc_list *l = int_list(lbase, 10);
  fsc_dict *d = int_dict(dbase, 10);
  uint64_t off = list_slot_at(lbase, 4, NULL);
  uint8_t b = 0xFF;
  const char *ldp = tc_fpath(lbase, "data");
  tc_poke(ldp, (off_t)(off + tc_rec_hdr_at(ldp, off) + 2), &b, 1);
  uint64_t idx, s = slot_of(dbase, "key-4", 5, &idx);
  tc_poke(tc_fpath(dbase, "data"), (off_t)(KS_OFF(s) + REC_HDR + 4 + 5), &b, 1);
  /* (Closed across the fork, so that the writers inherit no handle; the
   * last close leaves the damage where it is.) */
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  pid_t pid[2];
  for (int w = 0; w < 2; w++) {
    pid[w] = fork();
    ck_assert_int_ge(pid[w], 0);
    if (pid[w] == 0)
      writer(lbase, dbase, w + 1);
  }
  l = list_open(lbase, FSC_TYPE_INT64);
  d = dict_open(dbase, FSC_TYPE_INT64);
  /* Repair while they write: the damaged element goes, nothing else. */
  fsc_verify_report r = rep();
  ck_ok(fsc_list_verify(l, FSC_VERIFY_REPAIR, &r));
  ck_assert_uint_eq(r.records_bad, 1);
  ck_assert_uint_eq(r.items_dropped, 1);
  r = rep();
  ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r));
  ck_assert_uint_eq(r.records_bad, 1);
  ck_assert_uint_eq(r.items_dropped, 1);
  /* Checks while they write find nothing. */
  int checks = 0, quiet = 0, st, status[2];
  bool done[2] = {false, false};
  for (;;) {
    int alive = 0;
    for (int w = 0; w < 2; w++) {
      if (!done[w] && waitpid(pid[w], &status[w], WNOHANG) == pid[w])
        done[w] = true;
      alive += !done[w];
    }
    r = rep();
    int rc = fsc_list_verify(l, 0, &r);
    if (rc)
      show("list check while writing", &r);
    ck_assert_int_eq(rc, 0);
    quiet += r.counters_checked; /* (only once the writers are gone) */
    r = rep();
    rc = fsc_dict_verify(d, 0, &r);
    if (rc)
      show("dict check while writing", &r);
    ck_assert_int_eq(rc, 0);
    r = rep();
    rc = fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r);
    if (rc || r.repaired)
      show("dict repair while writing", &r);
    ck_assert_int_eq(rc, 0);
    ck_assert(!r.repaired);
    checks++;
    if (!alive)
      break;
  }
  (void)quiet;
  for (int w = 0; w < 2; w++) {
    st = status[w];
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "writer %d: status %d", w, st);
  }
  ck_assert_int_gt(checks, 0);
  /* Every acknowledged append is there, in each writer's order, and the
   * survivors of the first ten; every dict key written last. */
  uint64_t n = llen(l);
  ck_assert_uint_eq(n, 9 + 2 * W_N);
  int64_t next[3] = {0, 0, 0};
  for (uint64_t i = 1; i < n; i++) {
    int64_t x = lget(l, (int64_t)i);
    if (x < 1000000) {
      ck_assert_uint_lt(i, 9);
      continue;
    }
    int w = (int)(x / 1000000);
    ck_assert(w == 1 || w == 2);
    ck_assert_int_eq(x % 1000000, next[w]++);
  }
  ck_assert_int_eq(next[1], W_N);
  ck_assert_int_eq(next[2], W_N);
  for (int w = 1; w <= 2; w++)
    for (int k = 0; k < 3000; k++) {
      char kk[32];
      snprintf(kk, sizeof kk, "w%d-%d", w, k);
      int64_t x;
      ck_ok(fsc_dict_get_i64(d, kk, &x));
    }
  int64_t x;
  ck_fsc(fsc_dict_get_i64(d, "key-4", &x), FSC_EKEY);
  /* Alone again: the counters are judged, and right. */
  r = rep();
  ck_ok(fsc_list_verify(l, 0, &r));
  ck_healthy(&r, n);
  ck_assert(r.counters_checked);
  r = rep();
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_healthy(&r, dlen(d));
  ck_assert(r.counters_checked);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* A writer killed at a random moment while this process keeps the list
 * and dict open (so no open-time recovery runs): the repair leaves them
 * healthy with every acknowledged write. */
START_TEST(test_killed_writer_repaired) {
  const char *dir = tc_dir();
  char lbase[600], dbase[600];
  snprintf(lbase, sizeof lbase, "%s/l", dir);
  snprintf(dbase, sizeof dbase, "%s/d", dir);
  fsc_list *l = list_open(lbase, FSC_TYPE_INT64);
  fsc_dict *d = dict_open(dbase, FSC_TYPE_INT64);
  for (int round = 0; round < 5; round++) {
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    pid_t p = fork();
    ck_assert_int_ge(p, 0);
    if (p == 0) {
      close(pfd[0]);
      fsc_list *cl = list_open(lbase, FSC_TYPE_INT64);
      fsc_dict *cd = dict_open(dbase, FSC_TYPE_INT64);
      char k[32];
      for (int64_t i = 0;; i++) {
        if (fsc_list_append_i64(cl, i) != 0)
          _exit(3);
        snprintf(k, sizeof k, "k%d", (int)(i % 500));
        if (fsc_dict_set_i64(cd, k, i) != 0)
          _exit(4);
        if (i == 1000 && write(pfd[1], "x", 1) != 1)
          _exit(5);
      }
    }
    close(pfd[1]);
    char c;
    ck_assert_int_eq(read(pfd[0], &c, 1), 1);
    close(pfd[0]);
    usleep(1000 * (unsigned)(round * 3 + 1));
    kill(p, SIGKILL);
    int st;
    ck_assert_int_eq(waitpid(p, &st, 0), p);
    ck_assert(WIFSIGNALED(st));
    uint64_t n = llen(l);
    fsc_verify_report r = rep();
    int rc = fsc_list_verify(l, FSC_VERIFY_REPAIR, &r);
    if (rc)
      show("list after kill", &r);
    ck_ok(rc);
    ck_assert(r.healthy);
    ck_assert_uint_eq(r.items_dropped, 0);
    ck_assert_uint_ge(llen(l), n); /* a promised append may be counted */
    r = rep();
    rc = fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r);
    if (rc)
      show("dict after kill", &r);
    ck_ok(rc);
    ck_assert(r.healthy);
    ck_assert_uint_eq(r.items_dropped, 0);
    ck_assert_uint_eq(dlen(d), 500);
  }
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The list's structure words, and superseded records                  */
/* ------------------------------------------------------------------ */

/* The list 999, 0, 10, ..., (n-1)*10 (an insert(0) last: the active array
 * is the second one). */
static fsc_list *inserted_list(const char *base, int n) {
  fsc_list *l = int_list(base, n);
  fsc_value v = fsc_i64(999);
  ck_ok(fsc_list_insert(l, 0, &v));
  return l;
}

static bool list_is_inserted(fsc_list *l, int n) {
  uint64_t len = 0;
  if (fsc_list_len(l, &len) != 0 || len != (uint64_t)n + 1)
    return false;
  for (int i = 0; i <= n; i++) {
    int64_t x;
    if (fsc_list_get_i64(l, i, &x) != 0 || x != (i ? (i - 1) * 10 : 999))
      return false;
  }
  return true;
}

/* Bit 62 of the length word (BUF) flipped: the older array would become
 * the list, silently losing the insert.  The check finds it; the repair
 * restores the word from its sealed copy, and says so. */
START_TEST(test_list_buf_flip) {
  const char *base = tc_path("buf");
  fsc_list *l = inserted_list(base, 20);
  const char *ip = tc_fpath(base, "index");
  uint64_t w = tc_peek64(ip, I_LENWORD);
  tc_poke64(ip, I_LENWORD, w ^ (UINT64_C(1) << 62));
  fsc_verify_report r = rep();
  ck_fsc(fsc_list_verify(l, 0, &r), FSC_ECORRUPT);
  ck_sums(&r);
  ck_assert_uint_ge(r.index_structure, 1);
  r = rep();
  int rc = fsc_list_verify(l, FSC_VERIFY_REPAIR, &r);
  if (rc || !list_is_inserted(l, 20))
    show("buf flip repair", &r);
  ck_ok(rc);
  ck_assert(r.healthy && r.repaired);
  ck_assert_uint_ge(r.items_restored, 1);
  ck_assert_uint_eq(r.items_dropped, 0);
  ck_assert(list_is_inserted(l, 20));
  r = rep();
  ck_ok(fsc_list_verify(l, 0, &r));
  ck_healthy(&r, 21);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* The whole class: any one of the seven structure words (the length word,
 * both descriptors' offset, capacity and high water) or of the eight words
 * of their seal damaged, in any of
 * many bits, is either harmless (the list reads back whole) or found by
 * the check; after the repair the list is whole again, or the report says
 * what was dropped.  Never "healthy" over a list that lost elements. */
START_TEST(test_list_structure_words) {
  static const int bits[] = {0, 1, 3, 4, 6, 9, 12, 20, 39, 40, 45, 61, 62, 63};
  const char *ip;
  int cases = 0, found = 0;
  /* Words 0..6: the live ones; 7..14: their seal (doc/FORMAT.md). */
  for (int word = 0; word < 15; word++) {
    for (size_t b = 0; b < sizeof bits / sizeof bits[0]; b++) {
      const char *base = tc_path("words");
      fsc_list *l = inserted_list(base, 12);
      ip = tc_fpath(base, "index");
      off_t at = word == 0  ? I_LENWORD
                 : word < 7 ? I_DESC((word - 1) / 3) + 8 * ((word - 1) % 3)
                            : I_SEAL + 8 * (word - 7);
      tc_poke64(ip, at, tc_peek64(ip, at) ^ (UINT64_C(1) << bits[b]));
      fsc_verify_report r = rep();
      int rc = fsc_list_verify(l, 0, &r);
      ck_sums(&r);
      cases++;
      if (rc == 0) {
        if (!list_is_inserted(l, 12))
          ck_abort_msg("word %d bit %d: healthy, but the list is not whole",
                       word, bits[b]);
      } else {
        ck_assert_int_eq(rc, FSC_ECORRUPT);
        found++;
      }
      r = rep();
      rc = fsc_list_verify(l, FSC_VERIFY_REPAIR, &r);
      if (rc == 0 && !list_is_inserted(l, 12) && r.items_dropped == 0) {
        show("structure word repair", &r);
        ck_abort_msg("word %d bit %d: the repair lost elements and reports "
                     "nothing dropped", word, bits[b]);
      }
      /* Every one of them is repairable, and nothing is lost: the seal
       * restores the words, a length is taken from the slots. */
      ck_assert_msg(rc == 0, "word %d bit %d: not repaired: %s", word,
                    bits[b], fsc_errmsg());
      ck_assert_msg(list_is_inserted(l, 12) && r.items_dropped == 0,
                    "word %d bit %d: the repair lost elements", word,
                    bits[b]);
      if (rc == 0) {
        r = rep();
        ck_ok(fsc_list_verify(l, 0, &r));
        /* And it keeps working. */
        fsc_value five = fsc_i64(5);
        ck_ok(fsc_list_insert(l, 0, &five));
        ck_ok(fsc_list_append_i64(l, 6));
        ck_ok(fsc_list_verify(l, 0, NULL));
      } else {
        ck_assert_int_eq(rc, FSC_ECORRUPT);
      }
      ck_ok(fsc_list_destroy(l));
      fsc_list_free(l);
    }
  }
  ck_assert_int_gt(found, cases / 2);
}
END_TEST

/* An older file flags a superseded dict record deleted (the record's
 * flags byte, doc/FORMAT.md "Records"); the library no longer writes the
 * flag into dict and set records but still honours it.  Set it as such a
 * writer did. */
static void legacy_flag(const char *base, uint64_t off) {
  uint8_t f = 1; /* FSC__REC_DELETED */
  tc_poke(tc_fpath(base, "data"), (off_t)(off + 1), &f, 1);
}

/* A list slot pointed back at the record an item assignment superseded
 * (the assignment flagged it deleted: list records carry no position, so
 * the flag is what tells a stale slot, doc/FORMAT.md "Records"): the
 * check reports it, the repair drops the element and says so. */
START_TEST(test_list_superseded) {
  const char *base = tc_path("lsup");
  fsc_list *l = int_list(base, 10);
  off_t where;
  uint64_t old = list_slot_at(base, 4, &where);
  ck_ok(fsc_list_set_i64(l, 4, 77));
  ck_assert_int_eq(lget(l, 4), 77);
  tc_poke64(tc_fpath(base, "index"), where, old);
  ck_assert_int_eq(lget(l, 4), 40); /* the stale value */
  fsc_verify_report r = rep();
  ck_fsc(fsc_list_verify(l, 0, &r), FSC_ECORRUPT);
  ck_sums(&r);
  ck_assert_uint_eq(r.index_superseded, 1);
  ck_assert_uint_eq(r.index_dangling, 1);
  ck_assert_msg(strstr(fsc_errmsg(), "superseded"), "%s", fsc_errmsg());
  r = rep();
  ck_ok(fsc_list_verify(l, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy && r.repaired);
  ck_assert_uint_eq(r.items_dropped, 1);
  ck_list_values(l, 10, 4);
  ck_ok(fsc_list_verify(l, 0, NULL));
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* A dict slot pointed back at the older version of its key's record (a
 * counter 3 then 30), as this library writes it (_i 0: nothing written
 * into the older record; the newer one lies above it) and as an older
 * file has it (_i 1: the older record flagged deleted): the check
 * reports it; the repair finds the newest live version in the data
 * file. */
START_TEST(test_dict_superseded) {
  const char *base = tc_path("dsup");
  fsc_dict *d = int_dict(base, 50);
  ck_ok(fsc_dict_set_i64(d, "ctr", 3));
  uint64_t idx;
  uint64_t s3 = slot_of(base, "ctr", 3, &idx);
  ck_ok(fsc_dict_set_i64(d, "ctr", 30));
  uint64_t toff, cap;
  table_of(base, &toff, &cap);
  tc_poke64(tc_fpath(base, "index"), (off_t)(toff + 8 * idx), s3);
  if (_i)
    legacy_flag(base, KS_OFF(s3));
  int64_t x = 0;
  ck_ok(fsc_dict_get_i64(d, "ctr", &x));
  ck_assert_int_eq(x, 3); /* the stale value */
  fsc_verify_report r = rep();
  ck_fsc(fsc_dict_verify(d, 0, &r), FSC_ECORRUPT);
  ck_sums(&r);
  ck_assert_uint_eq(r.index_superseded, 1);
  ck_assert_msg(strstr(fsc_errmsg(), "superseded"), "%s", fsc_errmsg());
  r = rep();
  ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy && r.repaired);
  ck_assert_uint_eq(r.items_dropped, 0);
  ck_assert_uint_ge(r.tables_rebuilt, 1);
  ck_ok(fsc_dict_get_i64(d, "ctr", &x));
  ck_assert_int_eq(x, 30);
  ck_assert_uint_eq(dlen(d), 51);
  for (int i = 0; i < 50; i++) {
    ck_ok(fsc_dict_get_i64(d, key(i), &x));
    ck_assert_int_eq(x, i);
  }
  ck_ok(fsc_dict_verify(d, 0, NULL));
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* A dict slot that a delete made a tombstone, turned back (damage) into
 * naming the record the delete removed: the delete's mark lies above that
 * record, so the check reports the slot as naming a superseded record and
 * the repair (a rebuild from the data file) finds the key absent. */
START_TEST(test_dict_deleted_slot_revived) {
  const char *base = tc_path("ddel");
  fsc_dict *d = int_dict(base, 50);
  ck_ok(fsc_dict_set_i64(d, "gone", 5));
  uint64_t idx;
  uint64_t s5 = slot_of(base, "gone", 4, &idx);
  ck_ok(fsc_dict_del(d, "gone", 4));
  ck_ok(fsc_dict_verify(d, 0, NULL));
  uint64_t toff, cap;
  table_of(base, &toff, &cap);
  tc_poke64(tc_fpath(base, "index"), (off_t)(toff + 8 * idx), s5);
  int64_t x = 0;
  ck_ok(fsc_dict_get_i64(d, "gone", &x));
  ck_assert_int_eq(x, 5); /* back from the dead */
  fsc_verify_report r = rep();
  ck_fsc(fsc_dict_verify(d, 0, &r), FSC_ECORRUPT);
  ck_sums(&r);
  ck_assert_uint_eq(r.index_superseded, 1);
  ck_assert_msg(strstr(fsc_errmsg(), "deleted"), "%s", fsc_errmsg());
  r = rep();
  ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy && r.repaired);
  ck_assert_uint_ge(r.tables_rebuilt, 1);
  ck_fsc(fsc_dict_get_i64(d, "gone", &x), FSC_EKEY);
  ck_assert_uint_eq(dlen(d), 50);
  for (int i = 0; i < 50; i++) {
    ck_ok(fsc_dict_get_i64(d, key(i), &x));
    ck_assert_int_eq(x, i);
  }
  ck_ok(fsc_dict_verify(d, 0, NULL));
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* The same for a set: a discarded element's slot turned back into naming
 * its record; the discard's mark lies above it. */
START_TEST(test_set_discarded_slot_revived) {
  const char *base = tc_path("sdel");
  fsc_set *s = set_open(base, FSC_TYPE_STRING);
  char b[16];
  for (int i = 0; i < 20; i++) {
    snprintf(b, sizeof b, "elem-%03d", i);
    ck_assert_int_eq(fsc_set_add_str(s, b), 1);
  }
  ck_assert_int_eq(fsc_set_add_str(s, "gone"), 1);
  uint64_t idx;
  uint64_t sg = slot_of(base, "gone", 4, &idx);
  fsc_value v = fsc_str("gone");
  ck_assert_int_eq(fsc_set_discard(s, &v), 1);
  ck_ok(fsc_set_verify(s, 0, NULL));
  uint64_t toff, cap;
  table_of(base, &toff, &cap);
  tc_poke64(tc_fpath(base, "index"), (off_t)(toff + 8 * idx), sg);
  ck_assert_int_eq(fsc_set_contains_str(s, "gone"), 1); /* back */
  fsc_verify_report r = rep();
  ck_fsc(fsc_set_verify(s, 0, &r), FSC_ECORRUPT);
  ck_sums(&r);
  ck_assert_uint_eq(r.index_superseded, 1);
  r = rep();
  ck_ok(fsc_set_verify(s, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy && r.repaired);
  ck_assert_int_eq(fsc_set_contains_str(s, "gone"), 0);
  uint64_t n;
  ck_ok(fsc_set_len(s, &n));
  ck_assert_uint_eq(n, 20);
  for (int i = 0; i < 20; i++) {
    snprintf(b, sizeof b, "elem-%03d", i);
    ck_assert_int_eq(fsc_set_contains_str(s, b), 1);
  }
  ck_ok(fsc_set_verify(s, 0, NULL));
  ck_ok(fsc_set_destroy(s));
  fsc_set_free(s);
}
END_TEST

/* Damage to a mark record's flags byte (the byte the record checksum
 * does not cover, doc/FORMAT.md "Records"), and the ways the marks'
 * tests below bring on a rebuild from the data file, shared by the set's
 * and the dict's.  mark_flag: the flags byte of the mark at moff in data
 * file dp is `want` (the mark is where the test looks); make it `bad`. */
static void mark_flag(const char *dp, uint64_t moff, uint8_t want,
                      uint8_t bad) {
  uint8_t fl = 0;
  tc_peek(dp, (off_t)moff + 1, &fl, 1);
  ck_assert_uint_eq(fl, want);
  tc_poke(dp, (off_t)moff + 1, &bad, 1);
}

/* Slot idx of the active table of base holds s again (a removed key's
 * slot turned back into naming its record: damage that the mark above
 * the record gives away). */
static void slot_revive(const char *base, uint64_t idx, uint64_t s) {
  uint64_t toff, cap;
  table_of(base, &toff, &cap);
  tc_poke64(tc_fpath(base, "index"), (off_t)(toff + 8 * idx), s);
}

/* n key slots of the active table lost (zeroed: far more than a count's
 * slack, so the repair and the recovery rebuild from the data file). */
static void slots_lose(const char *base, int n) {
  const char *ip = tc_fpath(base, "index");
  uint64_t toff, cap;
  table_of(base, &toff, &cap);
  int zeroed = 0;
  for (uint64_t i = 0; i < cap && zeroed < n; i++) {
    if (KS_IS_KEY(tc_peek64(ip, (off_t)(toff + 8 * i)))) {
      tc_poke64(ip, (off_t)(toff + 8 * i), 0);
      zeroed++;
    }
  }
  ck_assert_int_eq(zeroed, n);
}

/* The clean-close marker of a closed collection cleared: the next opener
 * recovers, as after an unclean end. */
static void unclean(const char *base) {
  struct stat st;
  char ib[1024];
  const char *ip = fpath_in(ib, base, "index");
  ck_assert_int_eq(stat(ip, &st), 0);
  uint8_t zero = 0;
  tc_poke(ip, st.st_size - 1, &zero, 1);
}

/* The u64 that ends the payload of the record at moff: a dict record's
 * origin, a set mark's kind. */
static off_t rec_last_word(const char *dp, uint64_t moff) {
  return (off_t)(moff + tc_rec_hdr_at(dp, moff) + tc_rec_size_at(dp, moff) - 8);
}

/* A set's removal mark whose flags byte is damaged, each single-bit
 * change of REMOVED (0x4): the mark must not read as the element, live
 * again, when the index is rebuilt from the data file.  The rebuild is
 * brought on as in test_set_discarded_slot_revived (the discarded
 * element's slot turned back into naming its record); with or without
 * the flag, the mark above that record says the element was removed. */
static const uint8_t mark_flag_damage[] = {0x00, 0x05, 0x06, 0x0c, 0x14};

START_TEST(test_set_mark_flag_damaged) {
  uint8_t bad = mark_flag_damage[_i];
  const char *base = tc_path("smark");
  char db[1024];
  const char *dp = fpath_in(db, base, "data");
  fsc_set *s = set_open(base, FSC_TYPE_STRING);
  char b[16];
  for (int i = 0; i < 20; i++) {
    snprintf(b, sizeof b, "elem-%03d", i);
    ck_assert_int_eq(fsc_set_add_str(s, b), 1);
  }
  ck_assert_int_eq(fsc_set_add_str(s, "gone"), 1);
  uint64_t idx;
  uint64_t sg = slot_of(base, "gone", 4, &idx);
  uint64_t moff = tc_peek64(dp, D_TAIL); /* the discard's mark goes here */
  fsc_value v = fsc_str("gone");
  ck_assert_int_eq(fsc_set_discard(s, &v), 1);
  mark_flag(dp, moff, 0x4, bad); /* (REMOVED) */
  slot_revive(base, idx, sg);
  fsc_verify_report r = rep();
  ck_fsc(fsc_set_verify(s, 0, &r), FSC_ECORRUPT);
  r = rep();
  ck_ok(fsc_set_verify(s, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy && r.repaired);
  ck_assert_uint_ge(r.tables_rebuilt, 1);
  ck_assert_msg(fsc_set_contains_str(s, "gone") == 0,
                "flags %#x: the removed element is back", bad);
  uint64_t n;
  ck_ok(fsc_set_len(s, &n));
  ck_assert_uint_eq(n, 20);
  for (int i = 0; i < 20; i++) {
    snprintf(b, sizeof b, "elem-%03d", i);
    ck_assert_int_eq(fsc_set_contains_str(s, b), 1);
  }
  ck_ok(fsc_set_verify(s, 0, NULL));
  /* The same after an unclean end: the first opener's recovery. */
  ck_assert_int_eq(fsc_set_add_str(s, "gone"), 1);
  sg = slot_of(base, "gone", 4, &idx);
  moff = tc_peek64(dp, D_TAIL);
  ck_assert_int_eq(fsc_set_discard(s, &v), 1);
  ck_ok(fsc_set_close(s));
  fsc_set_free(s);
  mark_flag(dp, moff, 0x4, bad);
  slot_revive(base, idx, sg);
  unclean(base);
  s = set_open(base, FSC_TYPE_STRING);
  ck_assert_msg(fsc_set_contains_str(s, "gone") == 0,
                "flags %#x: the removed element is back after recovery", bad);
  ck_ok(fsc_set_len(s, &n));
  ck_assert_uint_eq(n, 20);
  ck_ok(fsc_set_verify(s, 0, NULL));
  ck_ok(fsc_set_destroy(s));
  fsc_set_free(s);
}
END_TEST

/* The same for a set's clear mark: its flag damaged, it must neither
 * bring back the elements the clear removed nor read as an element of
 * its own (the zero element: an empty string).  The rebuild is brought on
 * by slots lost from the index. */
START_TEST(test_set_clear_mark_flag_damaged) {
  uint8_t bad = (uint8_t)(_i ? 0x09 : 0x00); /* CLEARED (0x8), a bit off */
  const char *base = tc_path("sclr");
  char db[1024];
  const char *dp = fpath_in(db, base, "data");
  fsc_set *s = set_open(base, FSC_TYPE_STRING);
  char b[16];
  for (int i = 0; i < 10; i++) {
    snprintf(b, sizeof b, "old-%03d", i);
    ck_assert_int_eq(fsc_set_add_str(s, b), 1);
  }
  uint64_t moff = tc_peek64(dp, D_TAIL); /* the clear's mark goes here */
  ck_ok(fsc_set_clear(s));
  for (int i = 0; i < 60; i++) {
    snprintf(b, sizeof b, "new-%03d", i);
    ck_assert_int_eq(fsc_set_add_str(s, b), 1);
  }
  mark_flag(dp, moff, 0x8, bad); /* (CLEARED) */
  slots_lose(base, 30); /* the repair rebuilds */
  fsc_verify_report r = rep();
  ck_ok(fsc_set_verify(s, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy && r.repaired);
  ck_assert_uint_ge(r.tables_rebuilt, 1);
  ck_assert_msg(fsc_set_contains_str(s, "") == 0,
                "flags %#x: the clear's mark reads as an element", bad);
  for (int i = 0; i < 10; i++) {
    snprintf(b, sizeof b, "old-%03d", i);
    ck_assert_msg(fsc_set_contains_str(s, b) == 0,
                  "flags %#x: %s, cleared, is back", bad, b);
  }
  for (int i = 0; i < 60; i++) {
    snprintf(b, sizeof b, "new-%03d", i);
    ck_assert_int_eq(fsc_set_contains_str(s, b), 1);
  }
  uint64_t n;
  ck_ok(fsc_set_len(s, &n));
  ck_assert_uint_eq(n, 60);
  ck_ok(fsc_set_verify(s, 0, NULL));
  ck_ok(fsc_set_destroy(s));
  fsc_set_free(s);
}
END_TEST

/* A set's removal mark as earlier builds wrote it (the element alone, no
 * kind word after it: told by its flag): still a removal in a rebuild. */
START_TEST(test_set_old_mark) {
  const char *base = tc_path("soldm");
  char db[1024];
  const char *dp = fpath_in(db, base, "data");
  fsc_set *s = set_open(base, FSC_TYPE_STRING);
  for (int i = 0; i < 5; i++) {
    char b[16];
    snprintf(b, sizeof b, "elem-%03d", i);
    ck_assert_int_eq(fsc_set_add_str(s, b), 1);
  }
  ck_assert_int_eq(fsc_set_add_str(s, "gone"), 1);
  uint64_t idx;
  uint64_t sg = slot_of(base, "gone", 4, &idx);
  uint64_t moff = tc_peek64(dp, D_TAIL);
  fsc_value v = fsc_str("gone");
  ck_assert_int_eq(fsc_set_discard(s, &v), 1);
  /* This build's mark: [u32 4]["gone"][u64 4]; cut to the old layout,
   * 8 payload bytes: the compact form in this file (doc/FORMAT.md,
   * "Compact records"; the 16 bytes left behind are no record: a walk
   * steps over them). */
  uint64_t n = tc_peek64(dp, (off_t)moff + 8);
  ck_assert_uint_eq(n, 4 + 4 + 8);
  ck_assert_uint_eq(tc_peek64(dp, rec_last_word(dp, moff)), 4);
  tc_poke64(dp, rec_last_word(dp, moff), 0);
  tc_poke64(dp, (off_t)moff + 8, tc_peek64(dp, (off_t)moff + 16));
  uint8_t t;
  tc_peek(dp, (off_t)moff, &t, 1);
  t |= 0x80;
  tc_poke(dp, (off_t)moff, &t, 1);
  reseal(dp, moff);
  slot_revive(base, idx, sg);
  fsc_verify_report r = rep();
  ck_ok(fsc_set_verify(s, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy && r.repaired);
  ck_assert_uint_ge(r.tables_rebuilt, 1);
  ck_assert_int_eq(fsc_set_contains_str(s, "gone"), 0);
  ck_ok(fsc_set_len(s, &n));
  ck_assert_uint_eq(n, 5);
  ck_ok(fsc_set_verify(s, 0, NULL));
  ck_ok(fsc_set_destroy(s));
  fsc_set_free(s);
}
END_TEST

/* As test_set_mark_flag_damaged, for a dict's removal mark (this build's
 * has its kind where a value record has its origin): its flags byte
 * damaged, the removed key must stay removed when the index is rebuilt
 * from the data file, by the repair and by the recovery of an unclean end
 * (the key's slot turned back into naming its record, as in
 * test_dict_deleted_slot_revived). */
START_TEST(test_dict_mark_flag_damaged) {
  uint8_t bad = mark_flag_damage[_i];
  const char *base = tc_path("dmark");
  char db[1024];
  const char *dp = fpath_in(db, base, "data");
  fsc_dict *d = int_dict(base, 20);
  ck_ok(fsc_dict_set_i64(d, "gone", 5));
  uint64_t idx;
  uint64_t sg = slot_of(base, "gone", 4, &idx);
  uint64_t moff = tc_peek64(dp, D_TAIL); /* the delete's mark goes here */
  ck_ok(fsc_dict_del(d, "gone", 4));
  mark_flag(dp, moff, 0x4, bad); /* (REMOVED) */
  slot_revive(base, idx, sg);
  fsc_verify_report r = rep();
  ck_fsc(fsc_dict_verify(d, 0, &r), FSC_ECORRUPT);
  r = rep();
  ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy && r.repaired);
  ck_assert_uint_ge(r.tables_rebuilt, 1);
  int64_t x = 0;
  ck_assert_msg(fsc_dict_get_i64(d, "gone", &x) == FSC_EKEY,
                "flags %#x: the removed key is back", bad);
  ck_dict_values(d, 20, -1);
  ck_ok(fsc_dict_verify(d, 0, NULL));
  /* The same after an unclean end: the first opener's recovery. */
  ck_ok(fsc_dict_set_i64(d, "gone", 6));
  sg = slot_of(base, "gone", 4, &idx);
  moff = tc_peek64(dp, D_TAIL);
  ck_ok(fsc_dict_del(d, "gone", 4));
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  mark_flag(dp, moff, 0x4, bad);
  slot_revive(base, idx, sg);
  unclean(base);
  d = dict_open(base, FSC_TYPE_INT64);
  ck_assert_msg(fsc_dict_get_i64(d, "gone", &x) == FSC_EKEY,
                "flags %#x: the removed key is back after recovery", bad);
  ck_dict_values(d, 20, -1);
  ck_ok(fsc_dict_verify(d, 0, NULL));
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* A dict cleared (key(0..9)), then given new-000..new-059: the clear's
 * mark, whatever its flags byte says (`bad`), is neither a key of its own
 * (its empty key) nor lost, so no cleared key is back. */
static void ck_dict_cleared(fsc_dict *d, uint8_t bad) {
  int64_t x = 0;
  ck_assert_msg(fsc_dict_get_i64(d, "", &x) == FSC_EKEY,
                "flags %#x: the clear's mark reads as a key", bad);
  for (int i = 0; i < 10; i++)
    ck_assert_msg(fsc_dict_get_i64(d, key(i), &x) == FSC_EKEY,
                  "flags %#x: %s, cleared, is back", bad, key(i));
  char b[16];
  for (int i = 0; i < 60; i++) {
    snprintf(b, sizeof b, "new-%03d", i);
    ck_ok(fsc_dict_get_i64(d, b, &x));
    ck_assert_int_eq(x, i);
  }
  ck_assert_uint_eq(dlen(d), 60);
  ck_ok(fsc_dict_verify(d, 0, NULL));
}

/* A dict's clear mark with its flags byte damaged (CLEARED lost, turned
 * into REMOVED, or a bit added), then slots lost from the index: the
 * repair's rebuild and the recovery's keep the clear's cut-off. */
static const uint8_t clear_flag_damage[] = {0x00, 0x04, 0x09};

START_TEST(test_dict_clear_mark_flag_damaged) {
  uint8_t bad = clear_flag_damage[_i];
  const char *base = tc_path("dclr");
  char db[1024];
  const char *dp = fpath_in(db, base, "data");
  fsc_dict *d = int_dict(base, 10);
  uint64_t moff = tc_peek64(dp, D_TAIL); /* the clear's mark goes here */
  ck_ok(fsc_dict_clear(d));
  char b[16];
  for (int i = 0; i < 60; i++) {
    snprintf(b, sizeof b, "new-%03d", i);
    ck_ok(fsc_dict_set_i64(d, b, i));
  }
  mark_flag(dp, moff, 0x8, bad); /* (CLEARED) */
  slots_lose(base, 30);
  fsc_verify_report r = rep();
  ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy && r.repaired);
  ck_assert_uint_ge(r.tables_rebuilt, 1);
  ck_dict_cleared(d, bad);
  /* The same after an unclean end: the first opener's recovery. */
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  slots_lose(base, 30);
  unclean(base);
  d = dict_open(base, FSC_TYPE_INT64);
  ck_dict_cleared(d, bad);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* Dict marks as earlier builds wrote them (origin 0, told by their flag):
 * a removal (its flag intact; lost: a dict record of origin 0 is a
 * removal whatever its flag; CLEARED added: a record of a key is no
 * clear's mark) and a clear still count in a rebuild. */
START_TEST(test_dict_old_mark) {
  static const uint8_t flags[] = {0x4, 0x0, 0xc};
  const char *base = tc_path("doldm");
  char db[1024];
  const char *dp = fpath_in(db, base, "data");
  fsc_dict *d = int_dict(base, 5);
  for (size_t f = 0; f < sizeof flags; f++) {
    ck_ok(fsc_dict_set_i64(d, "gone", 5));
    uint64_t idx;
    uint64_t sg = slot_of(base, "gone", 4, &idx);
    uint64_t moff = tc_peek64(dp, D_TAIL);
    ck_ok(fsc_dict_del(d, "gone", 4));
    /* This build's mark: [u32 4]["gone"][int64 0][u64 kind 4], where a
     * value record has its origin; the old layout has origin 0. */
    ck_assert_uint_eq(tc_peek64(dp, rec_last_word(dp, moff)), 4);
    tc_poke64(dp, rec_last_word(dp, moff), 0);
    reseal(dp, moff);
    mark_flag(dp, moff, 0x4, flags[f]);
    slot_revive(base, idx, sg);
    fsc_verify_report r = rep();
    ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r));
    ck_assert(r.healthy && r.repaired);
    ck_assert_uint_ge(r.tables_rebuilt, 1);
    int64_t x;
    ck_assert_msg(fsc_dict_get_i64(d, "gone", &x) == FSC_EKEY,
                  "flags %#x: the removed key is back", flags[f]);
    ck_dict_values(d, 5, -1);
  }
  uint64_t moff = tc_peek64(dp, D_TAIL);
  ck_ok(fsc_dict_clear(d));
  ck_assert_uint_eq(tc_peek64(dp, rec_last_word(dp, moff)), 8);
  tc_poke64(dp, rec_last_word(dp, moff), 0);
  reseal(dp, moff);
  char b[16];
  for (int i = 0; i < 60; i++) {
    snprintf(b, sizeof b, "new-%03d", i);
    ck_ok(fsc_dict_set_i64(d, b, i));
  }
  slots_lose(base, 30);
  fsc_verify_report r = rep();
  ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy && r.repaired);
  ck_assert_uint_ge(r.tables_rebuilt, 1);
  int64_t x;
  for (int i = 0; i < 5; i++)
    ck_fsc(fsc_dict_get_i64(d, key(i), &x), FSC_EKEY);
  ck_assert_uint_eq(dlen(d), 60);
  ck_ok(fsc_dict_verify(d, 0, NULL));
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* A delete on a full data file flags the removed record itself REMOVED
 * (no room for a mark; doc/FORMAT.md "Mark records").  Made here by hand:
 * the mark voided (as if never written), the removed record flagged.
 * That flag damaged into REMOVED|DELETED (0x5) or REMOVED|CLEARED (0xc)
 * must neither bring back the key's older value nor cut off, as a
 * clear's mark would, the keys whose slots were lost. */
static const uint8_t self_mark_damage[] = {0x05, 0x0c};

START_TEST(test_dict_self_mark_flag_damaged) {
  uint8_t bad = self_mark_damage[_i];
  const char *base = tc_path("dself");
  char db[1024];
  const char *dp = fpath_in(db, base, "data");
  fsc_dict *d = int_dict(base, 40);
  ck_ok(fsc_dict_set_i64(d, "gone", 5));
  ck_ok(fsc_dict_set_i64(d, "gone", 6));
  uint64_t idx;
  uint64_t sg = slot_of(base, "gone", 4, &idx);
  uint64_t moff = tc_peek64(dp, D_TAIL);
  ck_ok(fsc_dict_del(d, "gone", 4));
  mark_flag(dp, moff, 0x4, 0x2);       /* no mark (VOID) */
  mark_flag(dp, KS_OFF(sg), 0x0, bad); /* its own mark, damaged */
  slots_lose(base, 30);
  fsc_verify_report r = rep();
  ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy && r.repaired);
  ck_assert_uint_ge(r.tables_rebuilt, 1);
  int64_t x = 0;
  ck_assert_msg(fsc_dict_get_i64(d, "gone", &x) == FSC_EKEY,
                "flags %#x: the removed key is back (%lld)", bad,
                (long long)x);
  ck_dict_values(d, 40, -1);
  ck_ok(fsc_dict_verify(d, 0, NULL));
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* The same for a set: a discard on a full data file flags the discarded
 * element's record REMOVED, its own mark; damaged into REMOVED|DELETED or
 * REMOVED|CLEARED it must neither bring the element back nor cut off, as
 * a clear's mark would, the elements whose slots were lost. */
START_TEST(test_set_self_mark_flag_damaged) {
  uint8_t bad = self_mark_damage[_i];
  const char *base = tc_path("sself");
  char db[1024];
  const char *dp = fpath_in(db, base, "data");
  fsc_set *s = set_open(base, FSC_TYPE_STRING);
  char b[16];
  for (int i = 0; i < 40; i++) {
    snprintf(b, sizeof b, "elem-%03d", i);
    ck_assert_int_eq(fsc_set_add_str(s, b), 1);
  }
  ck_assert_int_eq(fsc_set_add_str(s, "gone"), 1);
  uint64_t idx;
  uint64_t sg = slot_of(base, "gone", 4, &idx);
  uint64_t moff = tc_peek64(dp, D_TAIL);
  fsc_value v = fsc_str("gone");
  ck_assert_int_eq(fsc_set_discard(s, &v), 1);
  mark_flag(dp, moff, 0x4, 0x2);       /* no mark (VOID) */
  mark_flag(dp, KS_OFF(sg), 0x0, bad); /* its own mark, damaged */
  slots_lose(base, 30);
  fsc_verify_report r = rep();
  ck_ok(fsc_set_verify(s, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy && r.repaired);
  ck_assert_uint_ge(r.tables_rebuilt, 1);
  ck_assert_msg(fsc_set_contains_str(s, "gone") == 0,
                "flags %#x: the removed element is back", bad);
  for (int i = 0; i < 40; i++) {
    snprintf(b, sizeof b, "elem-%03d", i);
    ck_assert_msg(fsc_set_contains_str(s, b) == 1, "flags %#x: %s lost",
                  bad, b);
  }
  uint64_t n;
  ck_ok(fsc_set_len(s, &n));
  ck_assert_uint_eq(n, 40);
  ck_ok(fsc_set_verify(s, 0, NULL));
  ck_ok(fsc_set_destroy(s));
  fsc_set_free(s);
}
END_TEST

/* The dict's keys in iteration order, joined by ',' into out; the
 * iteration's return code. */
static int dict_order(fsc_dict *d, char *out, size_t n) {
  fsc_dict_iter it;
  fsc_value k;
  out[0] = 0;
  int rc = fsc_dict_iter_init(d, &it);
  while (rc == 0 && (rc = fsc_dict_iter_next(&it, &k, NULL)) == 1) {
    size_t l = strlen(out);
    snprintf(out + l, n - l, "%s%.*s", l ? "," : "", (int)k.u.buf.len,
             (const char *)k.u.buf.ptr);
    rc = 0;
  }
  return rc;
}

/* Iteration meets a key at the record its life began with (its origin,
 * doc/FORMAT.md "Keyed records"), dead once the key was set again.  That
 * record damaged: iteration skips the key while len and get see it.  The
 * check reports it; the repair gives the key a record of its own (the
 * key moves to the end of the order) and says so. */
START_TEST(test_dict_origin_damaged) {
  const char *base = tc_path("dorig");
  fsc_dict *d = dict_open(base, FSC_TYPE_INT64);
  ck_ok(fsc_dict_set_i64(d, "a", 1));
  ck_ok(fsc_dict_set_i64(d, "b", 2));
  ck_ok(fsc_dict_set_i64(d, "c", 3));
  uint64_t idx;
  uint64_t first = KS_OFF(slot_of(base, "b", 1, &idx));
  ck_ok(fsc_dict_set_i64(d, "b", 20)); /* its first record is now dead */
  char order[64];
  ck_ok(dict_order(d, order, sizeof order));
  ck_assert_str_eq(order, "a,b,c");
  uint8_t zero = 0;
  tc_poke(tc_fpath(base, "data"), (off_t)first, &zero, 1); /* its type byte */
  ck_assert_int_eq(dict_order(d, order, sizeof order), 0);
  ck_assert_str_eq(order, "a,c"); /* the damage the check must see */
  ck_assert_uint_eq(dlen(d), 3);
  fsc_verify_report r = rep();
  ck_fsc(fsc_dict_verify(d, 0, &r), FSC_ECORRUPT);
  ck_sums(&r);
  ck_assert_uint_eq(r.index_structure, 1);
  ck_assert_msg(strstr(fsc_errmsg(), "iteration skips the key"), "%s",
                fsc_errmsg());
  r = rep();
  ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy && r.repaired);
  ck_assert_uint_eq(r.items_dropped, 0);
  ck_assert_uint_eq(r.items_restored, 1);
  ck_ok(dict_order(d, order, sizeof order));
  ck_assert_str_eq(order, "a,c,b");
  int64_t x = 0;
  ck_ok(fsc_dict_get_i64(d, "b", &x));
  ck_assert_int_eq(x, 20);
  ck_assert_uint_eq(dlen(d), 3);
  r = rep();
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_healthy(&r, 3);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* The dict's table word damaged after a clear: its BUF bit flipped (the
 * word names the superseded, pre-clear table), alone or with FROZEN (a
 * "rebuild" to finish from that table).  The seal of the structure words
 * says which table is the dict: the check reports the damage, the repair
 * restores the word, and nothing is rolled back (the cleared key stays
 * gone, the later one stays). */
START_TEST(test_dict_table_word_sealed) {
  for (int frozen = 0; frozen < 2; frozen++) {
    const char *base = tc_path(frozen ? "dsealf" : "dseal");
    fsc_dict *d = dict_open(base, FSC_TYPE_INT64);
    ck_ok(fsc_dict_set_i64(d, "old", 1));
    ck_ok(fsc_dict_clear(d));
    ck_ok(fsc_dict_set_i64(d, "new", 2));
    const char *ip = tc_fpath(base, "index");
    uint64_t w = tc_peek64(ip, I_LENWORD);
    ck_assert(!(w & LW_FROZEN));
    tc_poke64(ip, I_LENWORD,
           w ^ (UINT64_C(1) << 62) ^ (frozen ? LW_FROZEN : 0));
    fsc_verify_report r = rep();
    ck_fsc(fsc_dict_verify(d, 0, &r), FSC_ECORRUPT);
    ck_sums(&r);
    ck_assert_uint_ge(r.index_structure, 1);
    r = rep();
    ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r));
    ck_assert(r.healthy && r.repaired);
    int64_t x = 0;
    ck_fsc(fsc_dict_get_i64(d, "old", &x), FSC_EKEY);
    ck_ok(fsc_dict_get_i64(d, "new", &x));
    ck_assert_int_eq(x, 2);
    ck_assert_uint_ge(r.items_restored, 1);
    ck_assert_uint_eq(r.items_dropped, 0);
    ck_assert_uint_eq(dlen(d), 1);
    r = rep();
    ck_ok(fsc_dict_verify(d, 0, &r));
    ck_healthy(&r, 1);
    ck_ok(fsc_dict_destroy(d));
    fsc_dict_free(d);
  }
}
END_TEST

/* A handle whose collection another handle compacted (new files, a new
 * generation) is followed to the new files: the check is of those. */
START_TEST(test_after_compaction) {
  const char *lbase = tc_path("cl");
  fsc_list *l = int_list(lbase, 2000), *other = list_open(lbase,
                                                          FSC_TYPE_INT64);
  for (int i = 0; i < 1000; i++)
    ck_ok(fsc_list_set_i64(other, i, i * 10)); /* dead bytes */
  ck_ok(fsc_list_compact(other));
  fsc_verify_report r = rep();
  ck_ok(fsc_list_verify(l, 0, &r)); /* l still maps the old files */
  ck_healthy(&r, 2000);
  ck_assert(!r.counters_checked); /* two handles are open */
  ck_list_values(l, 2000, -1);
  fsc_list_free(other);
  r = rep();
  ck_ok(fsc_list_verify(l, FSC_VERIFY_REPAIR, &r));
  ck_healthy(&r, 2000);
  ck_assert(r.counters_checked);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);

  const char *dbase = tc_path("cd");
  fsc_dict *d = int_dict(dbase, 500), *od = dict_open(dbase, FSC_TYPE_INT64);
  for (int i = 0; i < 500; i++)
    ck_ok(fsc_dict_set_i64(od, key(i), i));
  ck_ok(fsc_dict_compact(od));
  fsc_dict_free(od);
  r = rep();
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_healthy(&r, 500);
  ck_assert(r.counters_checked);
  ck_dict_values(d, 500, -1);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

static TCase *tcase(Suite *s, const char *name) {
  TCase *tc = tcase_create(name);
  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  return tc;
}

static Suite *verify_suite(void) {
  Suite *s = suite_create("verify");
  TCase *tc = tcase(s, "sound");
  tcase_add_test(tc, test_sound_list);
  tcase_add_test(tc, test_sound_dict_set);
  tcase_add_test(tc, test_report_versioning);
  tcase_add_test(tc, test_refusals);
  tcase_add_test(tc, test_after_compaction);
  tc = tcase(s, "list");
  tcase_add_test(tc, test_list_bad_checksum);
  tcase_add_test(tc, test_list_bad_type);
  tcase_add_test(tc, test_list_unknown_flag);
  tcase_add_test(tc, test_list_dangling_and_bounds);
  tcase_add_test(tc, test_list_length);
  tcase_add_test(tc, test_list_frozen_word);
  tcase_add_test(tc, test_list_byte_counters);
  tc = tcase(s, "keyed");
  tcase_add_test(tc, test_dict_bad_record);
  tcase_add_test(tc, test_dict_bad_tag);
  tcase_add_test(tc, test_dict_duplicate_and_count);
  tcase_add_test(tc, test_dict_lost_slots);
  tcase_add_test(tc, test_set_damage);
  tc = tcase(s, "truth");
  tcase_add_test(tc, test_list_buf_flip);
  tcase_add_test(tc, test_list_structure_words);
  tcase_add_test(tc, test_list_superseded);
  tcase_add_loop_test(tc, test_dict_superseded, 0, 2);
  tcase_add_test(tc, test_dict_deleted_slot_revived);
  tcase_add_test(tc, test_set_discarded_slot_revived);
  tcase_add_loop_test(tc, test_set_mark_flag_damaged, 0,
                      (int)sizeof mark_flag_damage);
  tcase_add_loop_test(tc, test_set_clear_mark_flag_damaged, 0, 2);
  tcase_add_test(tc, test_set_old_mark);
  tcase_add_loop_test(tc, test_dict_mark_flag_damaged, 0,
                      (int)sizeof mark_flag_damage);
  tcase_add_loop_test(tc, test_dict_clear_mark_flag_damaged, 0,
                      (int)sizeof clear_flag_damage);
  tcase_add_test(tc, test_dict_old_mark);
  tcase_add_loop_test(tc, test_dict_self_mark_flag_damaged, 0,
                      (int)sizeof self_mark_damage);
  tcase_add_loop_test(tc, test_set_self_mark_flag_damaged, 0,
                      (int)sizeof self_mark_damage);
  tcase_add_test(tc, test_dict_origin_damaged);
  tcase_add_test(tc, test_dict_table_word_sealed);
  tc = tcase(s, "concurrent");
  tcase_add_test(tc, test_concurrent_writers);
  tcase_add_test(tc, test_killed_writer_repaired);
  return s;
}

int main(void) { return tc_run(verify_suite()); }
