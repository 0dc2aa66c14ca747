/*
 * test_grow.c - the growth of the dict/set hash index (doc/FORMAT.md,
 * "Hash words"; doc/CONCURRENCY.md, "Growth"):
 *
 *  - growth never reads the data file: the data file's pages are dropped
 *    from the page cache, keys are inserted until the table grows, and
 *    mincore() shows that no page of the records written before became
 *    resident (the growth rehashed from the index's hash words alone, in
 *    a data file of version 2; from the 8-byte slots, version 3, where
 *    the inserts' probes read the few records whose 15-bit tags matched
 *    by chance);
 *  - a damaged hash word is found by verify and repaired;
 *  - a table without hash words (the layout of files written before them)
 *    still opens, reads, grows (from the records, converting it) and
 *    verifies healthy;
 *  (the cases of hash words make their files at version 2 with the
 *  library's test hook, FSC_TEST_DATA_VERSION=2);
 *  - a dict whose data file is version 1 keeps tables with hash words (16
 *    bytes a slot) through its growths;
 *  - fsc_options.expected_items sizes the table (no growth while filling
 *    to that count, for a dict and a set) and the data file's first
 *    allocation; it is refused above its bound, and an older caller's
 *    options (without the field) get the default;
 *  - growth while several processes put, get and delete the same keys:
 *    exact final contents, and a reader never misses a key it knows is
 *    present;
 *  - SIGKILL of writers at random moments while the table grows, several
 *    rounds: the reopened dict verifies healthy, every acknowledged key
 *    holds its value, and nothing beyond the put in flight exists;
 *  - while another holds the structure lock (a growth laying out its new
 *    table), inserts go on in the old table up to 7/8 full, then wait;
 *  - a COUNT far from the keys (the rebuild's guess of the capacity
 *    wrong both ways) still grows to exact contents.
 *
 * One case: CK_RUN_CASE='case name'.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "check_common.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

/* The index header's words the tests reach (doc/FORMAT.md). */
#define I_LENWORD 64
#define I_DESC(b) (72 + 24 * (b))
#define I_SEAL_SUM (224 + 8 + 48)
#define LW_BUF(w) ((unsigned)(((w) >> 62) & 1u))
#define HW_HASHW (UINT64_C(1) << 63)

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

static void poke64(const char *p, off_t off, uint64_t v) {
  int fd = open(p, O_RDWR);
  ck_assert_msg(fd >= 0, "open %s: %s", p, strerror(errno));
  ck_assert_int_eq(pwrite(fd, &v, 8, off), 8);
  close(fd);
}

static fsc_metrics metrics(fsc_dict *d) {
  fsc_metrics m;
  memset(&m, 0, sizeof m);
  m.size = sizeof m;
  ck_ok(fsc_dict_metrics(d, &m));
  return m;
}

static fsc_dict *dict_open(const char *base, uint64_t expected) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_STRING;
  o.expected_items = expected;
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(base, &o, &d));
  return d;
}

/* Key i's value: 100 bytes that name it (records of ~150 bytes, so that
 * the data file has many pages). */
static void value_of(int i, char *v, size_t n) {
  int k = snprintf(v, n, "value-%d-", i);
  for (size_t j = (size_t)k; j + 1 < n; j++)
    v[j] = (char)('a' + (i + (int)j) % 26);
  v[n - 1] = 0;
}

static int set_str(fsc_dict *d, const char *k, const char *v) {
  fsc_value x = fsc_str(v);
  return fsc_dict_set(d, k, strlen(k), &x);
}

static void put(fsc_dict *d, int i) {
  char k[32], v[101];
  snprintf(k, sizeof k, "key-%d", i);
  value_of(i, v, sizeof v);
  ck_ok(set_str(d, k, v));
}

/* Does *got hold string v? */
static bool str_is(const fsc_value *got, const char *v) {
  return got->type == FSC_TYPE_STRING && got->u.buf.len == strlen(v) &&
         memcmp(got->u.buf.ptr, v, got->u.buf.len) == 0;
}

static void check_all(fsc_dict *d, int n) {
  char k[32], v[101];
  for (int i = 0; i < n; i++) {
    snprintf(k, sizeof k, "key-%d", i);
    value_of(i, v, sizeof v);
    fsc_value got;
    ck_ok(fsc_dict_get(d, k, strlen(k), &got));
    ck_assert_msg(str_is(&got, v), "%s: wrong value", k);
  }
  uint64_t len;
  ck_ok(fsc_dict_len(d, &len));
  ck_assert_uint_eq(len, (uint64_t)n);
}

static void ck_healthy(fsc_dict *d, uint64_t n) {
  fsc_verify_report r;
  memset(&r, 0, sizeof r);
  r.size = sizeof r;
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_assert(r.healthy);
  ck_assert_uint_eq(r.length, n);
}

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
  for (size_t i = 0; i < np; i++) {
    n += vec[i] & 1;
    if ((vec[i] & 1) && getenv("FSC_TEST_SHOW_PAGES"))
      fprintf(stderr, "resident: page at %llu\n",
              (unsigned long long)(from + i * (uint64_t)pg));
  }
  free(vec);
  munmap(m, to - from);
  close(fd);
  return n;
}

/* Drop the file's pages from the page cache (they are clean: the close
 * before synced them), and check that they are gone. */
static void drop_cache(const char *p) {
  int fd = open(p, O_RDONLY);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(fdatasync(fd), 0);
  ck_assert_int_eq(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
  close(fd);
}

/* ------------------------------------------------------------------ */
/* Growth reads only the index                                         */
/* ------------------------------------------------------------------ */

/* Create files as the previous build did (data file version 2, tables
 * with hash words: the library's test hook) while v2, else as this build
 * does (version 3, 8-byte slots). */
static void files_v2(bool v2) {
  if (v2)
    ck_assert_int_eq(setenv("FSC_TEST_DATA_VERSION", "2", 1), 0);
  else
    ck_assert_int_eq(unsetenv("FSC_TEST_DATA_VERSION"), 0);
}

/* Tables with hash words (version 2) read no data page at all; 8-byte
 * slots (version 3) carry 15 hash bits above the home where the old tag
 * had 20, so the inserts' probes read a few records whose tags matched
 * by chance (one compare in 2^15 or fewer): a growth that rehashed from
 * the records would read nearly every page. */
static void reads_no_data(bool v2) {
  const char *base = strdup(tc_path(v2 ? "nodata2" : "nodata"));
  files_v2(v2);
  fsc_dict *d = dict_open(base, 0);
  files_v2(false);
  /* Fill to just below a growth: the table grows at 3/4 full, so fill
   * until the epoch moves, then to 60 % of the new table. */
  int n = 0;
  uint64_t e = metrics(d).structural_epoch;
  /* (metrics() reads /proc/locks: ask once every 64 puts.) */
  while (n < 60000 || n % 64 != 0 || metrics(d).structural_epoch == e)
    put(d, n++);
  e = metrics(d).structural_epoch;
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  const char *dp = strdup(fpath(base, "data"));
  uint64_t tail = peek64(dp, 64); /* struct fsc__data_hdr.tail */
  drop_cache(dp);
  /* (Some file systems keep pages that another process maps: none does.) */
  size_t before = resident(dp, 4096, tail);
  if (before > (tail - 4096) / 4096 / 10) {
    fprintf(stderr, "test_grow_reads_no_data: the page cache keeps %zu "
            "pages after POSIX_FADV_DONTNEED: skipped\n", before);
    free((void *)dp);
    free((void *)base);
    return;
  }
  d = dict_open(base, 0);
  /* Insert new keys until the table grows (a rebuild of every key). */
  int m = n;
  do {
    for (int i = 0; i < 64; i++)
      put(d, m++);
  } while (metrics(d).structural_epoch == e);
  /* The kernel's read-around of the faults on the header page and near
   * the tail brings in their neighbours: leave the first 256 KiB and the
   * last 4 MiB out. */
  ck_assert_uint_gt(tail, 8u << 20);
  size_t after = resident(dp, 256u << 10, tail - (4u << 20));
  uint64_t pages = (tail - (4u << 20) - (256u << 10)) / 4096;
  ck_assert_msg(v2 ? after == 0 : after * 16 < pages, "growth read %zu "
                "pages of the data file (of %llu): it rehashed from the "
                "records", after, (unsigned long long)pages);
  check_all(d, m);
  ck_healthy(d, (uint64_t)m);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  free((void *)dp);
  free((void *)base);
}

START_TEST(test_grow_reads_no_data) { reads_no_data(false); }
END_TEST

START_TEST(test_grow_reads_no_data_v2) { reads_no_data(true); }
END_TEST

/* A table without hash words, as every file written before them has:
 * the descriptor's hw without its flag (and no seal, as files written
 * before seals: a sum of 0).  It opens, reads, takes writes, grows (from
 * the records: the new table has hash words) and verifies healthy. */
START_TEST(test_grow_old_layout) {
  const char *base = strdup(tc_path("old"));
  files_v2(true); /* (hash words are the version 2 tables') */
  fsc_dict *d = dict_open(base, 0);
  files_v2(false);
  for (int i = 0; i < 300; i++)
    put(d, i);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  const char *ip = strdup(fpath(base, "index"));
  uint64_t w = peek64(ip, I_LENWORD);
  off_t hwat = I_DESC(LW_BUF(w)) + 16;
  uint64_t hw = peek64(ip, hwat);
  ck_assert(hw & HW_HASHW);
  poke64(ip, hwat, hw & ~HW_HASHW);
  poke64(ip, I_SEAL_SUM, 0);
  d = dict_open(base, 0);
  check_all(d, 300);
  ck_healthy(d, 300);
  uint64_t e = metrics(d).structural_epoch;
  int n = 300;
  while (metrics(d).structural_epoch == e)
    put(d, n++);
  for (int i = 0; i < 100; i++)
    put(d, n++);
  check_all(d, n);
  ck_healthy(d, (uint64_t)n);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  w = peek64(ip, I_LENWORD);
  ck_assert(peek64(ip, I_DESC(LW_BUF(w)) + 16) & HW_HASHW);
  d = dict_open(base, 0);
  check_all(d, n);
  ck_healthy(d, (uint64_t)n);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  free((void *)ip);
  free((void *)base);
}
END_TEST

/* The table form a data file of version 1 gets (what every earlier build
 * writes; made here from a new empty dict by setting its version back, all
 * that differs while it holds no record): after growths, the active table
 * has hash words (its descriptor's hw flag, 16 bytes a slot: the index
 * file holds the cap hash words after the slots) and every key's slot has
 * its hash word written; the data file stays version 1 and verifies. */
START_TEST(test_grow_v1_tables) {
  const char *base = strdup(tc_path("v1tab"));
  files_v2(true);
  fsc_dict *d = dict_open(base, 0);
  files_v2(false);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  const char *dp = strdup(fpath(base, "data"));
  const char *ip = strdup(fpath(base, "index"));
  uint64_t ver = peek64(dp, 8); /* struct fsc__fhdr: u32 version at 8 */
  ck_assert_uint_eq(ver & 0xffffffffu, 2);
  poke64(dp, 8, (ver & ~UINT64_C(0xffffffff)) | 1u);
  d = dict_open(base, 0);
  int n = 0;
  for (int g = 0; g < 3; g++) {
    uint64_t e = metrics(d).structural_epoch;
    while (metrics(d).structural_epoch == e)
      put(d, n++);
  }
  for (int i = 0; i < 500; i++)
    put(d, n++);
  check_all(d, n);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  ck_assert_uint_eq(peek64(dp, 8) & 0xffffffffu, 1);
  uint64_t w = peek64(ip, I_LENWORD);
  uint64_t toff = peek64(ip, I_DESC(LW_BUF(w)));
  uint64_t cap = peek64(ip, I_DESC(LW_BUF(w)) + 8);
  ck_assert(peek64(ip, I_DESC(LW_BUF(w)) + 16) & HW_HASHW);
  ck_assert_uint_ge(cap, 1024);
  struct stat st;
  ck_assert_int_eq(stat(ip, &st), 0);
  ck_assert_uint_ge((uint64_t)st.st_size, toff + 16 * cap);
  uint64_t keys = 0;
  for (uint64_t i = 0; i < cap; i++) {
    uint64_t s = peek64(ip, (off_t)(toff + 8 * i));
    if ((s & 7u) || (s & ((UINT64_C(1) << 44) - 1)) < 4096)
      continue; /* not a key */
    keys++;
    uint64_t hv = peek64(ip, (off_t)(toff + 8 * cap + 8 * i));
    ck_assert_msg(hv >> 40 != 0, "slot %llu: no hash word",
                  (unsigned long long)i);
  }
  ck_assert_uint_eq(keys, (uint64_t)n);
  d = dict_open(base, 0);
  check_all(d, n);
  ck_healthy(d, (uint64_t)n);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  free((void *)ip);
  free((void *)dp);
  free((void *)base);
}
END_TEST

/* A hash word damaged on disk (its epoch intact, a hash bit flipped):
 * verify finds it, the repair rehashes from the records, and the next
 * growth misplaces nothing.  (A growth that trusted it would put the key
 * where no lookup looks.) */
START_TEST(test_grow_bad_hash_word) {
  const char *base = strdup(tc_path("badhw"));
  files_v2(true);
  fsc_dict *d = dict_open(base, 0);
  files_v2(false);
  for (int i = 0; i < 40; i++)
    put(d, i);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  const char *ip = strdup(fpath(base, "index"));
  uint64_t w = peek64(ip, I_LENWORD);
  uint64_t toff = peek64(ip, I_DESC(LW_BUF(w)));
  uint64_t cap = peek64(ip, I_DESC(LW_BUF(w)) + 8);
  int flipped = 0;
  for (uint64_t i = 0; i < cap && !flipped; i++) {
    uint64_t s = peek64(ip, (off_t)(toff + 8 * i));
    if ((s & 7u) || (s & ((UINT64_C(1) << 44) - 1)) < 4096)
      continue; /* not a key */
    off_t at = (off_t)(toff + 8 * cap + 8 * i);
    uint64_t hv = peek64(ip, at);
    ck_assert_uint_ne(hv >> 40, 0); /* written, with its epoch */
    poke64(ip, at, hv ^ 1u);
    flipped = 1;
  }
  ck_assert(flipped);
  d = dict_open(base, 0);
  fsc_verify_report r;
  memset(&r, 0, sizeof r);
  r.size = sizeof r;
  ck_fsc(fsc_dict_verify(d, 0, &r), FSC_ECORRUPT);
  ck_assert_msg(strstr(fsc_errmsg(), "hash word"), "%s", fsc_errmsg());
  memset(&r, 0, sizeof r);
  r.size = sizeof r;
  ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.healthy);
  ck_assert_uint_eq(r.items_dropped, 0);
  ck_healthy(d, 40);
  uint64_t e = metrics(d).structural_epoch;
  int n = 40;
  while (metrics(d).structural_epoch == e)
    put(d, n++);
  check_all(d, n);
  ck_healthy(d, (uint64_t)n);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  free((void *)ip);
  free((void *)base);
}
END_TEST

/* ------------------------------------------------------------------ */
/* expected_items                                                      */
/* ------------------------------------------------------------------ */

START_TEST(test_expected_items_dict) {
  const char *base = strdup(tc_path("expect"));
  const int n = 200000;
  fsc_dict *d = dict_open(base, (uint64_t)n);
  fsc_metrics m0 = metrics(d);
  ck_assert_uint_ge(m0.data_file_bytes, (uint64_t)n * 48);
  for (int i = 0; i < n; i++)
    put(d, i);
  fsc_metrics m1 = metrics(d);
  ck_assert_uint_eq(m1.structural_epoch, m0.structural_epoch);
  ck_assert_uint_eq(m1.index_file_bytes, m0.index_file_bytes);
  check_all(d, n);
  ck_healthy(d, (uint64_t)n);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  free((void *)base);
  /* The same fill without the option grows (the check above can fail). */
  d = dict_open(tc_path("noexpect"), 0);
  m0 = metrics(d);
  for (int i = 0; i < 2000; i++)
    put(d, i);
  ck_assert_uint_ne(metrics(d).structural_epoch, m0.structural_epoch);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_expected_items_set) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  o.expected_items = 50000;
  fsc_set *s = NULL;
  ck_ok(fsc_set_open(tc_path("set"), &o, &s));
  fsc_metrics m0;
  memset(&m0, 0, sizeof m0);
  m0.size = sizeof m0;
  ck_ok(fsc_coll_metrics(fsc_set_coll(s), &m0));
  for (int64_t i = 0; i < 50000; i++)
    {
      fsc_value x = fsc_i64(i);
      ck_fsc(fsc_set_add(s, &x), 1); /* (1: added) */
    }
  fsc_metrics m1;
  memset(&m1, 0, sizeof m1);
  m1.size = sizeof m1;
  ck_ok(fsc_coll_metrics(fsc_set_coll(s), &m1));
  ck_assert_uint_eq(m1.structural_epoch, m0.structural_epoch);
  ck_assert_uint_eq(m1.length, 50000);
  ck_ok(fsc_set_destroy(s));
  fsc_set_free(s);
}
END_TEST

START_TEST(test_expected_items_options) {
  fsc_options o = FSC_OPTIONS_INIT;
  ck_assert_uint_eq(o.expected_items, 0);
  o.expected_items = (UINT64_C(1) << 38) + 1;
  fsc_dict *d = NULL;
  ck_fsc(fsc_dict_open(tc_path("big"), &o, &d), FSC_EINVAL);
  ck_assert(strstr(fsc_errmsg(), "expected_items"));
  /* An older caller's struct ends before the field: the default (0),
   * whatever lies beyond its size. */
  o.size = offsetof(fsc_options, expected_items);
  ck_ok(fsc_dict_open(tc_path("older"), &o, &d));
  fsc_metrics m;
  memset(&m, 0, sizeof m);
  m.size = sizeof m;
  ck_ok(fsc_dict_metrics(d, &m));
  ck_assert_uint_lt(m.index_file_bytes, 1u << 20);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  /* An existing dict keeps its sizes. */
  const char *base = strdup(tc_path("exists"));
  d = dict_open(base, 0);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  d = dict_open(base, 1000000);
  ck_assert_uint_lt(metrics(d).index_file_bytes, 1u << 20);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  free((void *)base);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Growth under processes that put, get and delete the same keys        */
/* ------------------------------------------------------------------ */

#define MP_KEYS 200000
#define MP_WRITERS 3

/* Writer w owns keys i with i % MP_WRITERS == w: it puts them all in
 * order; keys with i % 7 == 0 it deletes again once put, and puts back at
 * the end.  Overwrites of a shared hot set (keys of the reader, known
 * present) racing the growth. */
static int writer(const char *base, int w) {
  fsc_dict *d = NULL;
  fsc_options o = FSC_OPTIONS_INIT;
  if (fsc_dict_open(base, &o, &d) != 0)
    return 10;
  char k[32], v[101];
  for (int i = w; i < MP_KEYS; i += MP_WRITERS) {
    snprintf(k, sizeof k, "key-%d", i);
    value_of(i, v, sizeof v);
    if (set_str(d, k, v) != 0)
      return 11;
    if (i % 7 == 0 && fsc_dict_del(d, k, strlen(k)) != 0)
      return 12;
    if (i % 97 == 0) { /* overwrite a hot key with its own value */
      int h = (i / 97) % 64;
      snprintf(k, sizeof k, "hot-%d", h);
      if (set_str(d, k, "hot") != 0)
        return 13;
    }
  }
  for (int i = w; i < MP_KEYS; i += MP_WRITERS) {
    if (i % 7)
      continue;
    snprintf(k, sizeof k, "key-%d", i);
    value_of(i, v, sizeof v);
    if (set_str(d, k, v) != 0)
      return 14;
  }
  if (fsc_dict_close(d) != 0)
    return 15;
  fsc_dict_free(d);
  return 0;
}

/* The reader: the 64 hot keys are present throughout; a get must find
 * every one, every time, until the writers are done (*stop). */
static int reader(const char *base, volatile int *stop) {
  fsc_dict *d = NULL;
  fsc_options o = FSC_OPTIONS_INIT;
  if (fsc_dict_open(base, &o, &d) != 0)
    return 20;
  char k[32];
  uint64_t gets = 0;
  while (!__atomic_load_n(stop, __ATOMIC_ACQUIRE)) {
    for (int h = 0; h < 64; h++) {
      snprintf(k, sizeof k, "hot-%d", h);
      fsc_value v;
      int rc = fsc_dict_get(d, k, strlen(k), &v);
      if (rc != 0) {
        fprintf(stderr, "reader: %s missing (%d) after %llu gets\n", k, rc,
                (unsigned long long)gets);
        return 21;
      }
      gets++;
    }
  }
  fsc_dict_close(d);
  fsc_dict_free(d);
  return gets > 0 ? 0 : 22;
}

START_TEST(test_grow_mp) {
  const char *base = strdup(tc_path("mp"));
  fsc_dict *d = dict_open(base, 0);
  for (int h = 0; h < 64; h++) {
    char k[32];
    snprintf(k, sizeof k, "hot-%d", h);
    ck_ok(set_str(d, k, "hot"));
  }
  volatile int *stop = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ck_assert(stop != MAP_FAILED);
  *stop = 0;
  pid_t rd = fork();
  ck_assert_int_ge(rd, 0);
  if (rd == 0)
    _exit(reader(base, stop));
  pid_t wr[MP_WRITERS];
  for (int w = 0; w < MP_WRITERS; w++) {
    wr[w] = fork();
    ck_assert_int_ge(wr[w], 0);
    if (wr[w] == 0)
      _exit(writer(base, w));
  }
  for (int w = 0; w < MP_WRITERS; w++) {
    int st;
    ck_assert_int_eq(waitpid(wr[w], &st, 0), wr[w]);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "writer %d: status %d", w, st);
  }
  __atomic_store_n(stop, 1, __ATOMIC_RELEASE);
  int st;
  ck_assert_int_eq(waitpid(rd, &st, 0), rd);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "reader: status %d",
                st);
  char k[32], v[101];
  for (int i = 0; i < MP_KEYS; i++) {
    snprintf(k, sizeof k, "key-%d", i);
    value_of(i, v, sizeof v);
    fsc_value got;
    ck_ok(fsc_dict_get(d, k, strlen(k), &got));
    ck_assert_msg(str_is(&got, v), "%s: wrong value", k);
  }
  uint64_t len;
  ck_ok(fsc_dict_len(d, &len));
  ck_assert_uint_eq(len, MP_KEYS + 64);
  /* Iteration meets every key once. */
  uint64_t seen = 0;
  fsc_dict_iter it;
  ck_ok(fsc_dict_iter_init(d, &it));
  int rc;
  while ((rc = fsc_dict_iter_next(&it, NULL, NULL)) == 1)
    seen++;
  ck_assert_int_eq(rc, 0);
  ck_assert_uint_eq(seen, MP_KEYS + 64);
  ck_healthy(d, MP_KEYS + 64);
  munmap((void *)stop, 4096);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  free((void *)base);
}
END_TEST

/* ------------------------------------------------------------------ */
/* SIGKILL of writers while the table grows                            */
/* ------------------------------------------------------------------ */

#define KILL_WRITERS 2
#define KILL_ROUNDS 4

/* Writer w puts keys w, w + KILL_WRITERS, ... (value_of) from `from` on,
 * publishing in acked[w] each key it got acknowledged, until killed. */
static void kill_writer(const char *base, int w, int from,
                        volatile int *acked) {
  fsc_dict *d = NULL;
  fsc_options o = FSC_OPTIONS_INIT;
  if (fsc_dict_open(base, &o, &d) != 0)
    _exit(30);
  char k[32], v[101];
  for (int i = from;; i++) {
    int key = i * KILL_WRITERS + w;
    snprintf(k, sizeof k, "key-%d", key);
    value_of(key, v, sizeof v);
    if (set_str(d, k, v) != 0)
      _exit(31);
    __atomic_store_n(&acked[w], i, __ATOMIC_RELEASE);
  }
}

/* Rounds of: writers put new keys while the table grows; both are killed
 * at a random moment; the next open recovers.  Then the dict verifies
 * healthy, every acknowledged key holds its value, and no key beyond the
 * one each writer had in flight exists. */
START_TEST(test_grow_kill) {
  const char *base = strdup(tc_path("kill"));
  volatile int *acked = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ck_assert(acked != MAP_FAILED);
  int next[KILL_WRITERS] = {0};
  unsigned seed = (unsigned)time(NULL);
  fprintf(stderr, "test_grow_kill: seed %u\n", seed);
  srand(seed);
  fsc_dict *d = dict_open(base, 0);
  for (int round = 0; round < KILL_ROUNDS; round++) {
    pid_t pid[KILL_WRITERS];
    for (int w = 0; w < KILL_WRITERS; w++) {
      acked[w] = next[w] - 1;
      pid[w] = fork();
      ck_assert_int_ge(pid[w], 0);
      if (pid[w] == 0)
        kill_writer(base, w, next[w], acked);
    }
    /* Let them pass a growth or two (tens to hundreds of thousands of
     * keys on an idle machine), then kill each at its own moment. */
    for (int w = 0; w < KILL_WRITERS; w++) {
      struct timespec ts = {0, (20 + rand() % 100) * 1000000L};
      nanosleep(&ts, NULL);
      kill(pid[w], SIGKILL);
    }
    for (int w = 0; w < KILL_WRITERS; w++) {
      int st;
      ck_assert_int_eq(waitpid(pid[w], &st, 0), pid[w]);
      ck_assert_msg(WIFSIGNALED(st), "writer %d exited with %d", w, st);
    }
    /* The test's own handle stays open: the next open is not the first,
     * so close it and open again to have the recovery run. */
    ck_ok(fsc_dict_close(d));
    fsc_dict_free(d);
    d = dict_open(base, 0);
    ck_healthy(d, metrics(d).length);
    uint64_t total = 0;
    char k[32], v[101];
    for (int w = 0; w < KILL_WRITERS; w++) {
      int a = __atomic_load_n(&acked[w], __ATOMIC_ACQUIRE);
      for (int i = 0; i <= a; i++) {
        int key = i * KILL_WRITERS + w;
        snprintf(k, sizeof k, "key-%d", key);
        value_of(key, v, sizeof v);
        fsc_value got;
        ck_ok(fsc_dict_get(d, k, strlen(k), &got));
        ck_assert_msg(str_is(&got, v), "%s: wrong value", k);
      }
      /* The put in flight may have landed; nothing after it. */
      int in_flight = (a + 1) * KILL_WRITERS + w;
      snprintf(k, sizeof k, "key-%d", in_flight);
      fsc_value got;
      int rc = fsc_dict_get(d, k, strlen(k), &got);
      ck_assert(rc == 0 || rc == FSC_EKEY);
      total += (uint64_t)a + 1 + (rc == 0);
      snprintf(k, sizeof k, "key-%d", in_flight + KILL_WRITERS);
      ck_fsc(fsc_dict_get(d, k, strlen(k), &got), FSC_EKEY);
      next[w] = a + 2; /* (a + 1 may exist: start after it) */
      if (rc != 0)
        next[w] = a + 1;
    }
    ck_assert_uint_eq(metrics(d).length, total);
  }
  ck_assert_int_gt(next[0] + next[1], 1000);
  munmap((void *)acked, 4096);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
  free((void *)base);
}
END_TEST

/* ------------------------------------------------------------------ */
/* A writer does not wait for a growth that has not frozen the table   */
/* ------------------------------------------------------------------ */

/* Another holder of the structure lock (here the test itself, with a
 * flock of its own on the index file; in use, a rebuild laying out the
 * spare table before it freezes the old one): inserts go on in the old
 * table up to 7/8 of its slots instead of waiting at 3/4; past that they
 * wait (FSC_ETIMEDOUT with a short lock_timeout_ms).  Once the lock is
 * free the table grows and every key is there. */
START_TEST(test_grow_lock_held) {
  const char *base = tc_path("held");
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_STRING;
  o.lock_timeout_ms = 20;
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(base, &o, &d));
  const char *ip = fpath(base, "index");
  uint64_t cap = peek64(ip, I_DESC(LW_BUF(peek64(ip, I_LENWORD))) + 8);
  ck_assert_uint_ge(cap, 64);
  int fd = open(ip, O_RDONLY);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
  int n = 0;
  for (;; n++) {
    char k[32], v[101];
    snprintf(k, sizeof k, "key-%d", n);
    value_of(n, v, sizeof v);
    int rc = set_str(d, k, v);
    if (rc == FSC_ETIMEDOUT)
      break;
    ck_assert_msg(rc == 0, "key %d: %d", n, rc);
    ck_assert_int_le(n, (int)cap);
  }
  /* (before: the insert that took the table past 3/4 waited) */
  ck_assert_int_eq(n, (int)(cap * 7 / 8));
  check_all(d, n);
  ck_assert_int_eq(flock(fd, LOCK_UN), 0);
  close(fd);
  for (int i = n; i < (int)cap * 2; i++)
    put(d, i);
  ck_assert_uint_gt(peek64(ip, I_DESC(LW_BUF(peek64(ip, I_LENWORD))) + 8),
                    cap);
  check_all(d, (int)cap * 2);
  ck_healthy(d, cap * 2);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* The rebuild guesses the new table's capacity from COUNT before it
 * freezes the table (doc/CONCURRENCY.md, "Rebuild", step 0).  A COUNT
 * below the keys (within the slack a dead writer may leave: with many
 * tombstones the guess is then too small, and the table is laid out again
 * under the freeze) or far above (too large: laid out again inside the
 * same region, which a later growth reuses) still grows to exact
 * contents, a healthy table and an exact COUNT.  The stop-the-world
 * growth's guess: this case turns the migration off (FSC_GROW_MIGRATE=0,
 * read once per process: each case runs in a child of its own), which
 * recounts nothing until the next recount (tests/test_migrate.c). */
START_TEST(test_grow_wrong_guess) {
  setenv("FSC_GROW_MIGRATE", "0", 1);
  for (int lie = 0; lie < 2; lie++) {
    char name[16];
    snprintf(name, sizeof name, "guess%d", lie);
    const char *base = tc_path(name);
    fsc_dict *d = dict_open(base, 0);
    for (int i = 0; i < 300; i++)
      put(d, i);
    for (int i = 0; i < 250; i++) { /* tombstones: 50 live keys */
      char k[32];
      snprintf(k, sizeof k, "key-%d", i);
      ck_ok(fsc_dict_del(d, k, strlen(k)));
    }
    ck_ok(fsc_dict_close(d));
    fsc_dict_free(d);
    const char *ip = fpath(base, "index");
    uint64_t w = peek64(ip, I_LENWORD), len = lie ? 100000 : 40;
    ck_assert_uint_eq(w & ((UINT64_C(1) << 40) - 1), 50);
    poke64(ip, I_LENWORD, (w & ~((UINT64_C(1) << 40) - 1)) | len);
    d = dict_open(base, 0);
    for (int i = 300; i < 7000; i++)
      put(d, i);
    char k[32], v[101];
    for (int i = 0; i < 7000; i++) {
      snprintf(k, sizeof k, "key-%d", i);
      fsc_value got;
      int rc = fsc_dict_get(d, k, strlen(k), &got);
      if (i < 250) {
        ck_fsc(rc, FSC_EKEY);
        continue;
      }
      ck_ok(rc);
      value_of(i, v, sizeof v);
      ck_assert_msg(str_is(&got, v), "%s: wrong value", k);
    }
    uint64_t n;
    ck_ok(fsc_dict_len(d, &n));
    ck_assert_uint_eq(n, 6750);
    ck_healthy(d, 6750);
    ck_ok(fsc_dict_destroy(d));
    fsc_dict_free(d);
  }
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("grow");
  struct {
    const char *name;
    const TTest *t;
  } cases[] = {
      {"nodata", test_grow_reads_no_data},
      {"nodata_v2", test_grow_reads_no_data_v2},
      {"old_layout", test_grow_old_layout},
      {"v1_tables", test_grow_v1_tables},
      {"bad_hash_word", test_grow_bad_hash_word},
      {"expected_dict", test_expected_items_dict},
      {"expected_set", test_expected_items_set},
      {"expected_options", test_expected_items_options},
      {"mp", test_grow_mp},
      {"kill", test_grow_kill},
      {"lock_held", test_grow_lock_held},
      {"wrong_guess", test_grow_wrong_guess},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    TCase *tc = tcase_create(cases[i].name);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, cases[i].t);
    suite_add_tcase(s, tc);
  }
  return s;
}

int main(void) { return tc_run(suite()); }
