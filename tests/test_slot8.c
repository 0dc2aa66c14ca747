/*
 * test_slot8.c - the dict/set hash tables of 8-byte slots (data file
 * version 3; doc/FORMAT.md, "Hash slots"; src/struct/hash_slot.h):
 *
 *  - a new dict or set is created at data file version 4 (version 3's
 *    tables, and close words on dict counters) with tables of that format
 *    (the descriptor's KS_HW_SLOT8, no hash words: 8 bytes a slot in the
 *    index file); a new list's data file is version 4 too and works; a
 *    dict created as an earlier build did (version 2, the test hook
 *    FSC_TEST_DATA_VERSION=2) keeps tables with hash words through its
 *    growths, and compaction makes it version 4;
 *  - a data file of version 5 is refused with FSC_EVERSION;
 *  - the encoding: the field's marker, the distance and its saturation,
 *    the tag compare with fewer bits, and a doubling's re-placement from
 *    the slot alone (the helpers of hash_slot.h);
 *  - growth from 64 slots to 2^17 with the data file's pages dropped
 *    before each growth: the growths read (almost) no page of the records
 *    (mincore; a few reads of the lookups' tag false positives allowed);
 *  - keys inserted into the 64-slot table, whose field runs out after 15
 *    doublings, are still found after growing to 2^22 slots (the growth
 *    reads their records);
 *  - slots whose distance is saturated (unknown), or whose field holds no
 *    bit, are found, and re-placed right by a growth (from their records).
 *
 * One case: CK_RUN_CASE='case name'.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "check_common.h"
#include "check_records.h"

#include "struct/hash_slot.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>

/* The index header's words the tests reach (doc/FORMAT.md). */
#define I_LENWORD 64
#define I_DESC(b) (72 + 24 * (b))
#define LW_BUF(w) ((unsigned)(((w) >> 62) & 1u))
#define HW_HASHW (UINT64_C(1) << 63)
#define HW_MIG (UINT64_C(1) << 62)
#define HW_SLOT8 (UINT64_C(1) << 61)

/* The data file's version (struct fsc__fhdr: u32 at 8). */
static unsigned data_version(const char *base) {
  return (unsigned)(tc_peek64(tc_fpath(base, "data"), 8) & 0xffffffffu);
}

/* The active table's descriptor: offset, capacity, hw. */
static void active(const char *base, uint64_t *off, uint64_t *cap,
                   uint64_t *hw) {
  const char *ip = tc_fpath(base, "index");
  uint64_t w = tc_peek64(ip, I_LENWORD);
  *off = tc_peek64(ip, I_DESC(LW_BUF(w)));
  *cap = tc_peek64(ip, I_DESC(LW_BUF(w)) + 8);
  *hw = tc_peek64(ip, I_DESC(LW_BUF(w)) + 16);
}

static void files_v2(bool v2) {
  if (v2)
    ck_assert_int_eq(setenv("FSC_TEST_DATA_VERSION", "2", 1), 0);
  else
    ck_assert_int_eq(unsetenv("FSC_TEST_DATA_VERSION"), 0);
}

static fsc_dict *dict_open(const char *base, uint64_t expected) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  o.expected_items = expected;
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(base, &o, &d));
  return d;
}

static const char *key(long i) {
  static char b[4][32];
  static unsigned k;
  char *s = b[k++ % 4];
  snprintf(s, 32, "key-%ld", i);
  return s;
}

static void ck_has(fsc_dict *d, long i) {
  int64_t x = -1;
  ck_fsc(fsc_dict_get_i64(d, key(i), &x), 0);
  ck_assert_int_eq(x, i);
}

static void ck_healthy(fsc_dict *d, uint64_t n) {
  fsc_verify_report r;
  memset(&r, 0, sizeof r);
  r.size = sizeof r;
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_assert(r.healthy);
  ck_assert_uint_eq(r.length, n);
}

static uint64_t dlen(fsc_dict *d) {
  uint64_t n = 0;
  ck_ok(fsc_dict_len(d, &n));
  return n;
}

/* ------------------------------------------------------------------ */
/* The format a new file gets                                          */
/* ------------------------------------------------------------------ */

START_TEST(test_new_format) {
  const char *base = strdup(tc_path("fmt"));
  fsc_dict *d = dict_open(base, 100000);
  ck_assert_uint_eq(data_version(base), 4); /* (3 and close words) */
  uint64_t off, cap, hw;
  active(base, &off, &cap, &hw);
  ck_assert(hw & HW_SLOT8);
  ck_assert(!(hw & HW_HASHW));
  ck_assert_uint_ge(cap, 131072);
  /* 8 bytes a slot: the index file holds the table, no hash words. */
  fsc_metrics m;
  memset(&m, 0, sizeof m);
  m.size = sizeof m;
  ck_ok(fsc_dict_metrics(d, &m));
  ck_assert_uint_ge(m.index_file_bytes, off + cap * 8);
  ck_assert_uint_lt(m.index_file_bytes, off + cap * 12);
  for (long i = 0; i < 1000; i++)
    ck_ok(fsc_dict_set_i64(d, key(i), i));
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  d = dict_open(base, 0);
  for (long i = 0; i < 1000; i++)
    ck_has(d, i);
  ck_healthy(d, 1000);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);

  /* A set: the same. */
  const char *sbase = strdup(tc_path("fmtset"));
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  fsc_set *s = NULL;
  ck_ok(fsc_set_open(sbase, &o, &s));
  for (long i = 0; i < 500; i++)
    ck_assert_int_eq(fsc_set_add_i64(s, i), 1);
  ck_assert_uint_eq(data_version(sbase), 4);
  active(sbase, &off, &cap, &hw);
  ck_assert((hw & (HW_SLOT8 | HW_HASHW)) == HW_SLOT8);
  for (long i = 0; i < 500; i++)
    ck_assert_int_eq(fsc_set_contains_i64(s, i), 1);
  ck_assert_int_eq(fsc_set_contains_i64(s, 500), 0);
  ck_ok(fsc_set_destroy(s));
  fsc_set_free(s);

  /* A list (no table): version 4 too, and it works across a reopen. */
  const char *lbase = strdup(tc_path("fmtlist"));
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(lbase, &o, &l));
  for (long i = 0; i < 3000; i++)
    ck_ok(fsc_list_append_i64(l, i * 3));
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
  ck_assert_uint_eq(data_version(lbase), 4);
  l = NULL;
  ck_ok(fsc_list_open(lbase, &o, &l));
  for (long i = 0; i < 3000; i += 7) {
    int64_t x = -1;
    ck_ok(fsc_list_get_i64(l, i, &x));
    ck_assert_int_eq(x, i * 3);
  }
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
  free((void *)lbase);
  free((void *)sbase);
  free((void *)base);
}
END_TEST

/* A dict made as the previous build did (version 2): its tables keep hash
 * words through growths; compaction rewrites it at version 3. */
START_TEST(test_v2_dict) {
  const char *base = strdup(tc_path("v2"));
  files_v2(true);
  fsc_dict *d = dict_open(base, 0);
  files_v2(false);
  ck_assert_uint_eq(data_version(base), 2);
  long n = 20000;
  for (long i = 0; i < n; i++)
    ck_ok(fsc_dict_set_i64(d, key(i), i));
  uint64_t off, cap, hw;
  active(base, &off, &cap, &hw);
  ck_assert_uint_ge(cap, 16384);
  ck_assert((hw & (HW_SLOT8 | HW_HASHW)) == HW_HASHW);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  d = dict_open(base, 0);
  for (long i = n; i < 2 * n; i++)
    ck_ok(fsc_dict_set_i64(d, key(i), i));
  for (long i = 0; i < 2 * n; i++)
    ck_has(d, i);
  ck_healthy(d, (uint64_t)(2 * n));
  ck_assert_uint_eq(data_version(base), 2);
  active(base, &off, &cap, &hw);
  ck_assert((hw & (HW_SLOT8 | HW_HASHW)) == HW_HASHW);
  /* Compaction writes new files: the newest version (4: 8-byte slots,
   * and close words on counters). */
  ck_ok(fsc_dict_compact(d));
  ck_assert_uint_eq(data_version(base), 4);
  active(base, &off, &cap, &hw);
  ck_assert((hw & (HW_SLOT8 | HW_HASHW)) == HW_SLOT8);
  for (long i = 0; i < 2 * n; i++)
    ck_has(d, i);
  ck_healthy(d, (uint64_t)(2 * n));
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  free((void *)base);
}
END_TEST

START_TEST(test_version5_refused) {
  const char *base = strdup(tc_path("v5"));
  fsc_dict *d = dict_open(base, 0);
  ck_ok(fsc_dict_set_i64(d, "a", 1));
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  const char *dp = tc_fpath(base, "data");
  uint64_t v = tc_peek64(dp, 8);
  ck_assert_uint_eq(v & 0xffffffffu, 4);
  tc_poke64(dp, 8, (v & ~UINT64_C(0xffffffff)) | 5u);
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  d = NULL;
  ck_fsc(fsc_dict_open(base, &o, &d), FSC_EVERSION);
  ck_assert_msg(strstr(fsc_errmsg(), "version 5"), "%s", fsc_errmsg());
  fsc_dict_free(d);
  tc_poke64(dp, 8, v); /* (back, so that the files can be removed) */
  d = dict_open(base, 0);
  int64_t x = 0;
  ck_ok(fsc_dict_get_i64(d, "a", &x));
  ck_assert_int_eq(x, 1);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  free((void *)base);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The encoding                                                        */
/* ------------------------------------------------------------------ */

START_TEST(test_encoding) {
  const uint64_t h = UINT64_C(0x9e3779b97f4a7c15), off = 4096 * 5 + 8;
  for (uint64_t cap = 64; cap <= (UINT64_C(1) << 30); cap <<= 1) {
    unsigned lg = (unsigned)__builtin_ctzll(cap);
    uint64_t home = h & (cap - 1);
    for (uint64_t d = 0; d < 300 && d < cap; d += 37) {
      uint64_t i = (home + d) & (cap - 1);
      uint64_t s = fsc__ks_make(true, h, i, cap, off);
      ck_assert_uint_eq(s & 7u, 0);
      ck_assert(fsc__ks_value(s));
      ck_assert_uint_eq(s & KS8_OFF_MASK, off);
      /* the field: the marker at bit 15, the 15 bits above the home */
      ck_assert_uint_eq(s >> 48, (1u << 15) | ((h >> lg) & 0x7fff));
      ck_assert(fsc__ks_tag_eq(s, fsc__ks_tag_of(h, cap, true), true));
      ck_assert(!fsc__ks_tag_eq(s, fsc__ks_tag_of(h ^ (cap << 3), cap, true),
                                true));
      uint64_t hp;
      unsigned nb;
      bool known = fsc__ks8_hash(s, i, cap, &hp, &nb);
      ck_assert(known == (d < 255));
      ck_assert_uint_eq((s >> 40) & 255, d < 255 ? d : 255);
      if (!known)
        continue;
      ck_assert_uint_eq(nb, lg + 15);
      ck_assert_uint_eq(hp, h & ((UINT64_C(1) << nb) - 1));
      /* A doubling, from the slot alone: the new home takes the lowest
       * field bit, the field one bit fewer. */
      uint64_t nhome = h & (2 * cap - 1);
      ck_assert_uint_eq(hp & (2 * cap - 1), nhome);
      uint64_t s2 = fsc__ks8_make(hp, nb, nhome, 2 * cap, off);
      ck_assert_uint_eq(s2 >> 48, (1u << 14) | ((h >> (lg + 1)) & 0x3fff));
      ck_assert_uint_eq(s2 >> 48, (s >> 48) >> 1);
      ck_assert(fsc__ks_tag_eq(s2, fsc__ks_tag_of(h, 2 * cap, true), true));
    }
  }
  /* Fifteen doublings leave the field 1 (no bit): every tag matches (the
   * record decides), and the slot names only the home's bits. */
  uint64_t cap = 64, hp = h, i = h & 63;
  unsigned nb = 64;
  uint64_t s = fsc__ks8_make(hp, nb, i, cap, off);
  for (int g = 0; g < 15; g++) {
    ck_assert(fsc__ks8_hash(s, i, cap, &hp, &nb));
    cap *= 2;
    i = hp & (cap - 1);
    ck_assert_uint_ge(nb, (unsigned)__builtin_ctzll(cap));
    s = fsc__ks8_make(hp, nb, i, cap, off);
  }
  ck_assert_uint_eq(s >> 48, 1);
  ck_assert(fsc__ks_tag_eq(s, 0x1234, true));
  ck_assert(fsc__ks8_hash(s, i, cap, &hp, &nb));
  ck_assert_uint_eq(nb, 21); /* the 2^21 table's home bits only */
  ck_assert_uint_eq(hp, h & (cap - 1));
  /* The old format's tag: the top 20 bits, compared whole. */
  uint64_t o = fsc__ks_make(false, h, 0, 64, off);
  ck_assert_uint_eq(o, KS_MAKE(h, off));
  ck_assert(fsc__ks_tag_eq(o, fsc__ks_tag_of(h, 64, false), false));
  ck_assert(!fsc__ks_tag_eq(o, fsc__ks_tag_of(h ^ (UINT64_C(1) << 50), 64,
                                              false), false));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Growth reads the index only                                          */
/* ------------------------------------------------------------------ */

/* Resident pages of [from, to) of the file at p (whole pages inside). */
static size_t resident(const char *p, uint64_t from, uint64_t to) {
  int fd = open(p, O_RDONLY);
  ck_assert_int_ge(fd, 0);
  long pg = sysconf(_SC_PAGESIZE);
  from = (from + (uint64_t)pg - 1) / (uint64_t)pg * (uint64_t)pg;
  to = to / (uint64_t)pg * (uint64_t)pg;
  if (to <= from) {
    close(fd);
    return 0;
  }
  void *m = mmap(NULL, to - from, PROT_READ, MAP_SHARED, fd, (off_t)from);
  ck_assert(m != MAP_FAILED);
  size_t np = (to - from) / (uint64_t)pg, n = 0;
  unsigned char *vec = malloc(np);
  ck_assert_int_eq(mincore(m, to - from, vec), 0);
  for (size_t i = 0; i < np; i++)
    n += vec[i] & 1;
  free(vec);
  munmap(m, to - from);
  close(fd);
  return n;
}

static void drop_cache(const char *p) {
  int fd = open(p, O_RDONLY);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(fdatasync(fd), 0);
  ck_assert_int_eq(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
  close(fd);
}

/* Values of 300 bytes: records of ~340 bytes, a data file of many pages. */
static void put_big(fsc_dict *d, long i) {
  char v[300];
  memset(v, 'a' + (int)(i % 26), sizeof v);
  snprintf(v, 24, "v-%ld-", i);
  fsc_value x = fsc_bytes(v, sizeof v);
  ck_ok(fsc_dict_set(d, key(i), strlen(key(i)), &x));
}

static void ck_big(fsc_dict *d, long i) {
  fsc_value got;
  char v[300];
  memset(v, 'a' + (int)(i % 26), sizeof v);
  snprintf(v, 24, "v-%ld-", i);
  ck_ok(fsc_dict_get(d, key(i), strlen(key(i)), &got));
  ck_assert_uint_eq(got.u.buf.len, sizeof v);
  ck_assert(memcmp(got.u.buf.ptr, v, sizeof v) == 0);
}

START_TEST(test_growth_reads_no_data) {
  const char *base = strdup(tc_path("nodata"));
  const char *dp = strdup(tc_fpath(base, "data"));
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_BYTES;
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(base, &o, &d));
  /* (A clear leaves the smallest table: a new one fills the first
   * allocation of the index file.) */
  ck_ok(fsc_dict_clear(d));
  uint64_t off, cap, hw;
  active(base, &off, &cap, &hw);
  ck_assert_uint_eq(cap, 64);
  long n = 0;
  int checked = 0;
  while (cap < (UINT64_C(1) << 17)) {
    /* Up to just below this table's growth (at 3/4 full). */
    while ((uint64_t)(n + 8) * 4 <= cap * 3)
      put_big(d, n++);
    ck_ok(fsc_dict_close(d));
    fsc_dict_free(d);
    uint64_t tail = tc_peek64(dp, 64); /* struct fsc__data_hdr.tail */
    drop_cache(dp);
    d = NULL;
    ck_ok(fsc_dict_open(base, &o, &d));
    /* Insert until the table doubled and its migration ended. */
    uint64_t c0 = cap;
    while (cap == c0 || (hw & HW_MIG)) {
      put_big(d, n++);
      active(base, &off, &cap, &hw);
    }
    ck_assert_uint_eq(cap, 2 * c0);
    ck_assert((hw & (HW_SLOT8 | HW_HASHW)) == HW_SLOT8);
    /* (The kernel reads around the header page and the tail's writes:
     * the first 256 KiB and the last 4 MiB are left out.) */
    if (tail > (8u << 20)) {
      uint64_t pages = (tail - (4u << 20) - (256u << 10)) / 4096;
      size_t after = resident(dp, 256u << 10, tail - (4u << 20));
      ck_assert_msg(after * 16 < pages, "the growth to %llu slots read "
                    "%zu pages of the data file (of %llu): it rehashed "
                    "from the records", (unsigned long long)cap, after,
                    (unsigned long long)pages);
      checked++;
    }
  }
  ck_assert_int_ge(checked, 1);
  for (long i = 0; i < n; i += 3)
    ck_big(d, i);
  ck_assert_uint_eq(dlen(d), (uint64_t)n);
  ck_healthy(d, (uint64_t)n);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  free((void *)dp);
  free((void *)base);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Keys whose field ran out                                            */
/* ------------------------------------------------------------------ */

START_TEST(test_field_runs_out) {
  const char *base = strdup(tc_path("runout"));
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  fsc_set *s = NULL;
  ck_ok(fsc_set_open(base, &o, &s));
  ck_ok(fsc_set_clear(s)); /* (the smallest table: 64 slots) */
  uint64_t off, cap, hw;
  /* Eight keys written into the 64-slot table: 15 bits of field, used
   * up by 15 doublings (at 2^21 slots); the 16th reads their records. */
  for (long i = 0; i < 8; i++)
    ck_assert_int_eq(fsc_set_add_i64(s, -1 - i), 1);
  active(base, &off, &cap, &hw);
  ck_assert_uint_eq(cap, 64);
  long n = 0;
  while (cap < (UINT64_C(1) << 22) || (hw & HW_MIG)) {
    for (int j = 0; j < 4096; j++)
      ck_assert_int_eq(fsc_set_add_i64(s, n++), 1);
    active(base, &off, &cap, &hw);
    if (cap == (UINT64_C(1) << 21) && !(hw & HW_MIG))
      for (long i = 0; i < 8; i++) /* (their field is 1: no tag bit) */
        ck_assert_int_eq(fsc_set_contains_i64(s, -1 - i), 1);
  }
  for (long i = 0; i < 8; i++)
    ck_assert_int_eq(fsc_set_contains_i64(s, -1 - i), 1);
  ck_assert_int_eq(fsc_set_contains_i64(s, -9), 0);
  for (long i = 0; i < n; i += 997)
    ck_assert_int_eq(fsc_set_contains_i64(s, i), 1);
  uint64_t len = 0;
  ck_ok(fsc_set_len(s, &len));
  ck_assert_uint_eq(len, (uint64_t)n + 8);
  fsc_verify_report r;
  memset(&r, 0, sizeof r);
  r.size = sizeof r;
  ck_ok(fsc_set_verify(s, 0, &r));
  ck_assert(r.healthy);
  ck_ok(fsc_set_destroy(s));
  fsc_set_free(s);
  free((void *)base);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Saturated distances and empty fields                                */
/* ------------------------------------------------------------------ */

/* Every key slot of the active table: distance saturated (255: the home
 * unknown) for odd ones, field 1 (no hash bit) for even ones.  Both are
 * states a slot can be in (a probe run of 255 slots, a key that survived
 * 15 doublings); no lookup may miss the key, and a growth must re-place
 * it from its record: by a migration, or (rebuild) by the stop-the-world
 * rebuild (FSC_GROW_MIGRATE=0, read once by this test's process). */
static void saturated(bool rebuild) {
  if (rebuild)
    ck_assert_int_eq(setenv("FSC_GROW_MIGRATE", "0", 1), 0);
  const char *base = strdup(tc_path("sat"));
  fsc_dict *d = dict_open(base, 0);
  const long n = 3000;
  for (long i = 0; i < n; i++)
    ck_ok(fsc_dict_set_i64(d, key(i), i));
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  const char *ip = tc_fpath(base, "index");
  uint64_t off, cap, hw;
  active(base, &off, &cap, &hw);
  ck_assert(hw & HW_SLOT8);
  long sat = 0, bare = 0;
  for (uint64_t i = 0; i < cap; i++) {
    uint64_t s = tc_peek64(ip, (off_t)(off + 8 * i));
    if ((s & 7u) || (s & KS8_OFF_MASK) < 4096)
      continue;
    if (i & 1) {
      s |= UINT64_C(255) << 40;
      sat++;
    } else {
      s = (s & ((UINT64_C(1) << 48) - 1)) | (UINT64_C(1) << 48);
      bare++;
    }
    tc_poke64(ip, (off_t)(off + 8 * i), s);
  }
  ck_assert_int_eq(sat + bare, n);
  ck_assert_int_gt(sat, 100);
  ck_assert_int_gt(bare, 100);
  d = dict_open(base, 0);
  for (long i = 0; i < n; i++)
    ck_has(d, i);
  int64_t x;
  ck_fsc(fsc_dict_get_i64(d, "absent", &x), FSC_EKEY);
  /* Grow (twice): the slots are re-placed from their records. */
  uint64_t c0 = cap;
  long m = n;
  while (cap < 4 * c0 || (hw & HW_MIG)) {
    ck_ok(fsc_dict_set_i64(d, key(m), m));
    m++;
    active(base, &off, &cap, &hw);
  }
  for (long i = 0; i < m; i++)
    ck_has(d, i);
  ck_healthy(d, (uint64_t)m);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  free((void *)base);
}

START_TEST(test_saturated) { saturated(false); }
END_TEST

START_TEST(test_saturated_rebuild) { saturated(true); }
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("slot8");
  struct {
    const char *name;
    const TTest *t;
  } cases[] = {
      {"new_format", test_new_format},
      {"v2_dict", test_v2_dict},
      {"version5", test_version5_refused},
      {"encoding", test_encoding},
      {"nodata", test_growth_reads_no_data},
      {"field_runs_out", test_field_runs_out},
      {"saturated", test_saturated},
      {"saturated_rebuild", test_saturated_rebuild},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    TCase *tc = tcase_create(cases[i].name);
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, cases[i].t);
    suite_add_tcase(s, tc);
  }
  return s;
}

int main(void) { return tc_run(suite()); }
