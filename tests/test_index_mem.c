/*
 * test_index_mem.c - the advice the index file's pages get about memory
 * (src/file/index_mem.c, and its callers in src/struct/hash_region.c and
 * src/struct/hash_migrate.c):
 *
 *  - at open, a dict whose table's slots are at least 1 MiB and fit in
 *    half the memory the process may use has them read ahead: after the
 *    index file was dropped from the page cache, an open brings the slots
 *    in (mincore(2)) and not the table's hash words;
 *  - an open that finds the index file's last page in memory (another
 *    open just read it) takes the table to be warm and reads nothing
 *    ahead;
 *  - in a memory cgroup whose limit is less than twice the slots, the open
 *    reads nothing ahead;
 *  - a fill under a memory limit (24 MiB) whose table grows while memory
 *    is short: the new table is not faulted in ahead (the index header's
 *    kprep hint never covers it), and once the migration ends at most a
 *    quarter of the old table is in memory (the last chunks behind the
 *    cursor may still be being written back); every key reads back.
 * The cgroup cases need root and a writable memory controller (v1 or v2);
 * without them they print why and pass.
 */
#include "check_common.h"
#include "check_cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The index header's words the tests reach (doc/FORMAT.md). */
#define I_LENWORD 64
#define I_DESC(b) (72 + 24 * (b))
#define LW_BUF(w) ((unsigned)(((w) >> 62) & 1u))
#define HW_MIG (UINT64_C(1) << 62)
#define I_KPREP(i) (304 + 8 * (i))

static const char *fpath(const char *base, const char *which) {
  static char buf[1024];
  snprintf(buf, sizeof buf, "%.900s.%.5s.fscollection", base, which);
  return buf;
}

/* (-1 on failure: usable in a child, which must not ck_assert.) */
static uint64_t peek64(const char *p, off_t off) {
  uint64_t v = UINT64_MAX;
  int fd = open(p, O_RDONLY);
  if (fd < 0)
    return v;
  if (pread(fd, &v, 8, off) != 8)
    v = UINT64_MAX;
  close(fd);
  return v;
}

/* The share of [off, off + len) of file p in the page cache; -1: error. */
static double resident(const char *p, uint64_t off, uint64_t len) {
  int fd = open(p, O_RDONLY);
  if (fd < 0)
    return -1;
  size_t np = (size_t)((len + 4095) / 4096);
  void *m = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, fd, (off_t)off);
  close(fd);
  unsigned char *vec = malloc(np);
  if (m == MAP_FAILED || !vec || mincore(m, (size_t)len, vec) != 0) {
    free(vec);
    return -1;
  }
  size_t in = 0;
  for (size_t i = 0; i < np; i++)
    in += vec[i] & 1;
  free(vec);
  munmap(m, (size_t)len);
  return (double)in / (double)np;
}

/* Write file p back and drop it from the page cache. */
static void drop(const char *p) {
  int fd = open(p, O_RDWR);
  ck_assert_msg(fd >= 0, "open %s: %s", p, strerror(errno));
  ck_assert_int_eq(fdatasync(fd), 0);
  ck_assert_int_eq(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
  close(fd);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static void key_of(char *k, long i) { snprintf(k, 32, "key-%09ld", i); }

/* A new dict at base sized for `expected` keys, holding n small ones. */
static void make_dict(const char *base, uint64_t expected, long n) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = FSC_CREATE;
  o.expected_items = expected;
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(base, &o, &d));
  char k[32];
  for (long i = 0; i < n; i++) {
    key_of(k, i);
    fsc_value v = fsc_i64(i);
    ck_ok(fsc_dict_set(d, k, strlen(k), &v));
  }
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
}

/* The active table of the dict at base: offset and capacity. */
static void active(const char *base, uint64_t *off, uint64_t *cap) {
  const char *ip = fpath(base, "index");
  unsigned b = LW_BUF(peek64(ip, I_LENWORD));
  *off = peek64(ip, I_DESC(b));
  *cap = peek64(ip, I_DESC(b) + 8);
}

/* The share of the last page of file p in the page cache.  An open takes
 * an index file whose last page (its clean-close marker) is in memory for
 * warm, and then reads nothing ahead (src/file/open_ro.c's
 * fsc__marker_read, src/file/index_mem.c): a test of the cold open drops
 * that page too, and looks. */
static double last_page_resident(const char *p) {
  struct stat st;
  if (stat(p, &st) != 0 || st.st_size <= 0)
    return -1;
  return resident(p, (uint64_t)(st.st_size - 1) / 4096 * 4096, 4096);
}

/* drop(p) until its last page is out too (a few tries: the kernel keeps a
 * page that something holds for the moment); false if it stayed. */
static bool drop_cold(const char *p) {
  for (int t = 0; t < 20; t++) {
    drop(p);
    if (last_page_resident(p) == 0)
      return true;
    sleep_ms(50);
  }
  return false;
}

START_TEST(test_slots_read_ahead_at_open) {
  const char *base = tc_path("ahead");
  make_dict(base, 300000, 2000); /* 512 Ki slots: 4 MiB */
  uint64_t off, cap;
  active(base, &off, &cap);
  ck_assert_uint_ge(cap * 8, 1u << 20);
  const char *ip = fpath(base, "index");
  if (!drop_cold(ip)) {
    fprintf(stderr, "test_slots_read_ahead_at_open: the page cache keeps "
            "the index file's last page after POSIX_FADV_DONTNEED: "
            "skipped\n");
    return;
  }
  ck_assert_double_lt(resident(ip, off, cap * 8), 0.05);
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = FSC_RDONLY;
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(base, &o, &d));
  double r = 0;
  for (int t = 0; t < 100 && (r = resident(ip, off, cap * 8)) < 0.95; t++)
    sleep_ms(50); /* the reads were only started */
  ck_assert_msg(r >= 0.95, "%.0f%% of the slots in memory after the open "
                "(the last page: %.0f%%)", 100 * r,
                100 * last_page_resident(ip));
  /* Only the slots: the hash words after them (read by growths alone)
   * are not read ahead. */
  double h = resident(ip, off + cap * 8, cap * 8);
  ck_assert_msg(h < 0.05, "%.0f%% of the hash words read at open", 100 * h);
  char k[32];
  for (long i = 0; i < 2000; i += 37) {
    key_of(k, i);
    fsc_value v;
    ck_ok(fsc_dict_get(d, k, strlen(k), &v));
    ck_assert_int_eq(v.u.i64, i);
  }
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_small_table_not_read_ahead) {
  const char *base = tc_path("small");
  make_dict(base, 20000, 2000); /* 32 Ki slots: 256 KiB, below 1 MiB */
  uint64_t off, cap;
  active(base, &off, &cap);
  ck_assert_uint_lt(cap * 8, 1u << 20);
  const char *ip = fpath(base, "index");
  drop(ip);
  fsc_dict *d = NULL;
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = FSC_RDONLY;
  ck_ok(fsc_dict_open(base, &o, &d));
  sleep_ms(200);
  double r = resident(ip, off, cap * 8);
  ck_assert_msg(r < 0.2, "%.0f%% of a small table read at open", 100 * r);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
}
END_TEST

/* The open looks at the table only when the index file's last page (the
 * clean-close marker's, which only opens and closes touch) was out of
 * memory: an index whose last page another open just read is taken to be
 * warm, and its table is not read ahead even where it is not in memory
 * (here: dropped, then the last page read back). */
START_TEST(test_recent_open_not_read_ahead) {
  const char *base = tc_path("recent");
  make_dict(base, 300000, 2000); /* 4 MiB of slots, as above */
  uint64_t off, cap;
  active(base, &off, &cap);
  const char *ip = fpath(base, "index");
  drop(ip);
  int fd = open(ip, O_RDONLY);
  ck_assert_int_ge(fd, 0);
  struct stat st;
  ck_assert_int_eq(fstat(fd, &st), 0);
  char b;
  ck_assert_int_eq(pread(fd, &b, 1, st.st_size - 1), 1);
  close(fd);
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = FSC_RDONLY;
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(base, &o, &d));
  sleep_ms(200);
  double r = resident(ip, off, cap * 8);
  ck_assert_msg(r < 0.2, "%.0f%% of the table read at open", 100 * r);
  /* The gets fault in what they need. */
  char k[32];
  for (long i = 0; i < 2000; i += 37) {
    key_of(k, i);
    fsc_value v;
    ck_ok(fsc_dict_get(d, k, strlen(k), &v));
    ck_assert_int_eq(v.u.i64, i);
  }
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  /* Dropped whole, the next open reads it ahead again. */
  drop(ip);
  ck_ok(fsc_dict_open(base, &o, &d));
  for (int t = 0; t < 100 && (r = resident(ip, off, cap * 8)) < 0.95; t++)
    sleep_ms(50);
  ck_assert_msg(r >= 0.95, "%.0f%% of the slots in memory after the open",
                100 * r);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_no_read_ahead_past_budget) {
  char cg[1100], why[1200];
  if (!tc_cg_make(cg, sizeof cg, "index_mem", 16, why, sizeof why)) {
    printf("test_no_read_ahead_past_budget: skipped: %s\n", why);
    return;
  }
  const char *base = tc_path("budget");
  make_dict(base, 1500000, 2000); /* 2 Mi slots: 16 MiB, the limit */
  uint64_t off, cap;
  active(base, &off, &cap);
  const char *ip = fpath(base, "index");
  drop(ip);
  int p[2];
  ck_assert_int_eq(pipe(p), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(p[0]);
    if (!tc_cg_join(cg))
      _exit(3);
    fsc_options o = FSC_OPTIONS_INIT;
    o.flags = FSC_RDONLY;
    fsc_dict *d = NULL;
    if (fsc_dict_open(base, &o, &d) != 0)
      _exit(4);
    sleep_ms(300);
    double r = resident(ip, off, cap * 8);
    if (fsc_dict_close(d) != 0)
      _exit(5);
    fsc_dict_free(d);
    _exit(write(p[1], &r, sizeof r) == (ssize_t)sizeof r ? 0 : 6);
  }
  close(p[1]);
  double r = -1;
  ssize_t n = read(p[0], &r, sizeof r);
  close(p[0]);
  int st = tc_cg_wait(pid, cg);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                "the child failed (status %d)", st);
  ck_assert_int_eq(n, (ssize_t)sizeof r);
  ck_assert_msg(r >= 0 && r < 0.1, "%.0f%% of 16 MiB of slots read ahead "
                "under a 16 MiB limit", 100 * r);
}
END_TEST

#define VAL 1000
#define GROWN_CAP (UINT64_C(1) << 19) /* the table the fill grows into */

static fsc_value big_val(char *buf, long i) {
  memset(buf, 'a' + (int)(i % 26), VAL);
  snprintf(buf, 24, "v-%ld", i);
  return fsc_bytes(buf, VAL);
}

/* In the child, under the limit: fill until the growth into GROWN_CAP
 * slots has ended; out: [0] the share of the old table in memory then
 * (x 1000), [1] whether kprep covered the new table whole, [2] keys read
 * back wrong, [3] keys put. */
static int fill_child(const char *base, long out[4]) {
  const char *ip = fpath(base, "index");
  fsc_dict *d = NULL;
  if (fsc_dict_open(base, NULL, &d) != 0)
    return 4;
  static char buf[VAL];
  char k[32];
  long i = 0;
  uint64_t w = 0, off = 0, cap = 0, hw = 0;
  for (;; i++) {
    key_of(k, i);
    fsc_value v = big_val(buf, i);
    if (fsc_dict_set(d, k, strlen(k), &v) != 0)
      return 5;
    if (i < 190000 || i % 64)
      continue;
    w = peek64(ip, I_LENWORD);
    off = peek64(ip, I_DESC(LW_BUF(w)));
    cap = peek64(ip, I_DESC(LW_BUF(w)) + 8);
    hw = peek64(ip, I_DESC(LW_BUF(w)) + 16);
    if ((cap == GROWN_CAP && !(hw & HW_MIG)) || i > 400000)
      break;
  }
  if (cap != GROWN_CAP)
    return 6;
  unsigned ob = LW_BUF(w) ^ 1u;
  uint64_t ooff = peek64(ip, I_DESC(ob)), ocap = peek64(ip, I_DESC(ob) + 8);
  /* (16 bytes a slot with hash words, data file version 2; 8 without) */
  uint64_t sb = (hw & (UINT64_C(1) << 63)) ? 16 : 8;
  double r = resident(ip, ooff, ocap * sb);
  out[0] = (long)(r * 1000);
  out[1] = peek64(ip, I_KPREP(0)) == off &&
           peek64(ip, I_KPREP(1)) == GROWN_CAP &&
           peek64(ip, I_KPREP(2)) == GROWN_CAP * sb;
  out[3] = i + 1;
  for (long j = 0; j <= i; j += 97) {
    key_of(k, j);
    fsc_value got, want = big_val(buf, j);
    if (fsc_dict_get(d, k, strlen(k), &got) != 0 || got.u.buf.len != VAL ||
        memcmp(got.u.buf.ptr, want.u.buf.ptr, VAL) != 0)
      out[2]++;
  }
  if (fsc_dict_close(d) != 0)
    return 7;
  fsc_dict_free(d);
  return 0;
}

START_TEST(test_growth_under_limit) {
  if (sysconf(_SC_PAGESIZE) != 4096)
    return;
  if (tc_cg_asan()) {
    printf("test_growth_under_limit: skipped: built with AddressSanitizer, "
           "whose own memory passes the 24 MiB limit\n");
    return;
  }
  char cg[1100], why[1200];
  if (!tc_cg_make(cg, sizeof cg, "index_mem", 24, why, sizeof why)) {
    printf("test_growth_under_limit: skipped: %s\n", why);
    return;
  }
  const char *base = tc_path("grow");
  int p[2];
  ck_assert_int_eq(pipe(p), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    close(p[0]);
    if (!tc_cg_join(cg))
      _exit(3);
    long out[4] = {-1, -1, 0, 0};
    int rc = fill_child(base, out);
    if (rc)
      _exit(rc);
    _exit(write(p[1], out, sizeof out) == (ssize_t)sizeof out ? 0 : 8);
  }
  close(p[1]);
  long got[4] = {-1, -1, -1, -1};
  ssize_t n = read(p[0], got, sizeof got);
  close(p[0]);
  int st = tc_cg_wait(pid, cg);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                "the filling child failed (status %d)", st);
  ck_assert_int_eq(n, (ssize_t)sizeof got);
  ck_assert_msg(got[2] == 0, "%ld keys read back wrong", got[2]);
  ck_assert_msg(got[1] == 0, "the table a growth under a 24 MiB limit "
                "(after %ld keys of %d bytes) was faulted in ahead", got[3],
                VAL);
  ck_assert_msg(got[0] <= 250, "%.1f%% of the old table in memory after "
                "the migration under a 24 MiB limit", got[0] / 10.0);
}
END_TEST

static Suite *index_mem_suite(void) {
  Suite *s = suite_create("index_mem");
  TCase *tc = tcase_create("index_mem");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_slots_read_ahead_at_open);
  tcase_add_test(tc, test_small_table_not_read_ahead);
  tcase_add_test(tc, test_recent_open_not_read_ahead);
  tcase_add_test(tc, test_no_read_ahead_past_budget);
  tcase_add_test(tc, test_growth_under_limit);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tc_run(index_mem_suite()); }
