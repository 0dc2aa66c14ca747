/*
 * test_fullfs.c - collections whose files cannot grow.
 *
 * Two ways to make growth fail, each in a forked child:
 *  - RLIMIT_FSIZE, once with SIGXFSZ ignored and once with its default
 *    disposition (which kills the process): the library checks the limit
 *    before it grows a file, so it never raises the signal and reports
 *    FSC_ENOSPC naming the limit;
 *  - a small tmpfs mounted by the test in a private mount namespace (a
 *    real ENOSPC); skipped, with a note, where mounting is not permitted.
 *
 * For the data file (records), the list's pointer array and the dict's
 * and set's hash table (index file growth): every append, item
 * assignment, dict set and set add that needs space fails with
 * FSC_ENOSPC and a message, the process gets no SIGBUS, nothing already
 * stored is lost (every earlier item reads back and fsc_*_verify says
 * healthy, counters included), and the collection stays usable: once the
 * limit is raised or space freed, writes work again, and a reopen finds
 * everything.
 */
#include "check_common.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* ------------------------------------------------------------------ */
/* Helpers (the scenarios run in forked children: plain checks that    */
/* print what failed and exit non-zero)                                */
/* ------------------------------------------------------------------ */

#define FAIL_EXIT 10
#define SKIP_EXIT 77

#define CHK(cond, ...)                                                       \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__,      \
              #cond);                                                        \
      fprintf(stderr, __VA_ARGS__);                                          \
      fprintf(stderr, " (fsc_errmsg: %s)\n", fsc_errmsg());                 \
      _exit(FAIL_EXIT);                                                      \
    }                                                                        \
  } while (0)
#define CHK_RC(call, want)                                                   \
  do {                                                                       \
    int chk_rc_ = (call);                                                    \
    CHK(chk_rc_ == (want), "%s returned %d (%s), want %d", #call, chk_rc_,   \
        fsc_strerror(chk_rc_), (int)(want));                                 \
  } while (0)
#define CHK_OK(call) CHK_RC(call, 0)

static off_t fsize(const char *base, const char *which) {
  char p[1024];
  snprintf(p, sizeof p, "%s.%s.fscollection", base, which);
  struct stat st;
  CHK(stat(p, &st) == 0, "stat %s: %s", p, strerror(errno));
  return st.st_size;
}

/* The data file's header word at `off` (64: tail, 72: cap; FORMAT.md). */
static uint64_t data_word(const char *base, off_t off) {
  char p[1024];
  snprintf(p, sizeof p, "%s.data.fscollection", base);
  uint64_t v = 0;
  int fd = open(p, O_RDONLY);
  CHK(fd >= 0, "open %s: %s", p, strerror(errno));
  CHK(pread(fd, &v, 8, off) == 8, "pread %s", p);
  close(fd);
  return v;
}

static void set_fsize_limit(rlim_t lim) {
  struct rlimit rl;
  CHK(getrlimit(RLIMIT_FSIZE, &rl) == 0, "getrlimit");
  rl.rlim_cur = lim;
  CHK(setrlimit(RLIMIT_FSIZE, &rl) == 0, "setrlimit: %s", strerror(errno));
}

/* The check after a failed write: healthy, counters judged. */
static void healthy(int rc, const fsc_verify_report *r, uint64_t len) {
  CHK(rc == 0 && r->healthy, "verify returned %d, healthy %d, problems %llu",
      rc, r->healthy, (unsigned long long)r->problems_left);
  CHK(r->counters_checked, "counters not checked");
  CHK(r->length == len, "verify length %llu, want %llu",
      (unsigned long long)r->length, (unsigned long long)len);
}

static fsc_verify_report rep(void) {
  fsc_verify_report r;
  memset(&r, 0, sizeof r);
  r.size = sizeof r;
  return r;
}

static fsc_options opts(fsc_type t) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = t;
  return o;
}

/* Does run_child leave SIGXFSZ at its default disposition (which kills
 * the process) rather than ignore it?  Set by the rlimit loop tests. */
static bool sigxfsz_default;

/* Run fn(arg) in a child whose file size limit is `lim` (0: none) and
 * which ignores SIGXFSZ unless sigxfsz_default.  Returns the child's exit
 * status; a signal (a SIGBUS, a SIGXFSZ) fails the test. */
static int run_child(void (*fn)(const char *), const char *arg, rlim_t lim) {
  fflush(stderr);
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0) {
    signal(SIGXFSZ, sigxfsz_default ? SIG_DFL : SIG_IGN);
    if (lim)
      set_fsize_limit(lim);
    fn(arg);
    _exit(0);
  }
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert_msg(!WIFSIGNALED(st), "the child died of signal %d (%s)",
                WIFSIGNALED(st) ? WTERMSIG(st) : 0,
                WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "");
  ck_assert(WIFEXITED(st));
  return WEXITSTATUS(st);
}

static void expect_ok(void (*fn)(const char *), const char *arg, rlim_t lim) {
  int ex = run_child(fn, arg, lim);
  ck_assert_msg(ex == 0, "the child failed (exit %d): see its message above",
                ex);
}

static char *key(int i) {
  static char b[4][48];
  static unsigned k;
  char *s = b[k++ % 4];
  snprintf(s, 48, "key-%06d", i);
  return s;
}

/* A 150-byte string element i. */
static const char *elem(int i) {
  static char b[160];
  snprintf(b, sizeof b, "element-%06d-", i);
  size_t n = strlen(b);
  memset(b + n, 'x', 150 - n);
  b[150] = '\0';
  return b;
}

/* ------------------------------------------------------------------ */
/* The scenarios                                                       */
/* ------------------------------------------------------------------ */

static int64_t list_n; /* elements stored, for the parent's reopen */

/* The list scenarios' element type: int128 where the data file must be
 * the one that fills (its 32-byte records outgrow the index's 8-byte
 * slots; an int64's compact 16-byte record does not, doc/FORMAT.md), else
 * int64.  lappend and lget_i store and read element i either way. */
static fsc_type list_t = FSC_TYPE_INT64;
static int lappend(fsc_list *l, int64_t i) {
  if (list_t != FSC_TYPE_INT128)
    return fsc_list_append_i64(l, i);
  fsc_value v = fsc_i128((fsc_int128){(uint64_t)i, i < 0 ? -1 : 0});
  return fsc_list_append(l, &v);
}
static int lget_i(fsc_list *l, int64_t i, int64_t *x) {
  fsc_value v;
  int rc = fsc_list_get(l, i, &v);
  if (rc == 0)
    *x = v.type == FSC_TYPE_INT128 ? (int64_t)v.u.i128.lo : v.u.i64;
  return rc;
}

static void list_check_all(fsc_list *l, int64_t n) {
  uint64_t len;
  CHK_OK(fsc_list_len(l, &len));
  CHK(len == (uint64_t)n, "length %llu, want %lld", (unsigned long long)len,
      (long long)n);
  for (int64_t i = 0; i < n; i++) {
    int64_t x;
    CHK_OK(lget_i(l, i, &x));
    CHK(x == i, "element %lld is %lld", (long long)i, (long long)x);
  }
}

/* Fill the list until a write fails; the file `which` must be the one
 * that could not grow. */
static void list_until_full(const char *base, const char *which) {
  list_t = strcmp(which, "data") == 0 ? FSC_TYPE_INT128 : FSC_TYPE_INT64;
  fsc_options o = opts(list_t);
  fsc_list *l = NULL;
  CHK_OK(fsc_list_open(base, &o, &l));
  off_t before = fsize(base, which);
  set_fsize_limit((rlim_t)before);
  int64_t n = 0;
  int rc;
  while ((rc = lappend(l, n)) == 0)
    n++;
  CHK(rc == FSC_ENOSPC, "append returned %d (%s)", rc, fsc_strerror(rc));
  CHK(strstr(fsc_errmsg(), "RLIMIT_FSIZE") != NULL, "message '%s' does not "
      "name the limit", fsc_errmsg());
  /* The message names the file that could not grow. */
  char want[512];
  snprintf(want, sizeof want, "%s.%s.fscollection", base, which);
  CHK(strstr(fsc_errmsg(), want) != NULL, "message '%s' does not name %s",
      fsc_errmsg(), want);
  CHK(n >= 1000, "only %lld appends fitted", (long long)n);
  CHK(fsize(base, which) == before, "the %s file grew", which);
  if (strcmp(which, "data") == 0) {
    /* The data file grows ahead (record.c): the append that crossed the
     * mark below the capacity tried to grow it and could not; that append
     * and the ones after it still succeeded, up to the capacity (a record
     * is 32 bytes); only the one that did not fit failed. */
    uint64_t tail = data_word(base, 64), cap = data_word(base, 72);
    CHK(tail <= cap && cap - tail < 32, "appends failed with %llu bytes of "
        "%llu left", (unsigned long long)(cap - tail),
        (unsigned long long)cap);
  }
  /* Nothing stored is lost; every write that needs space fails cleanly,
   * again and again; reads and the check work. */
  list_check_all(l, n);
  fsc_value vs[2] = {fsc_i64(1), fsc_i64(2)};
  if (list_t == FSC_TYPE_INT128) {
    vs[0] = fsc_i128((fsc_int128){1, 0});
    vs[1] = fsc_i128((fsc_int128){2, 0});
  }
  CHK_RC(lappend(l, -1), FSC_ENOSPC);
  CHK_RC(fsc_list_extend(l, vs, 2), FSC_ENOSPC);
  fsc_value five = list_t == FSC_TYPE_INT128
                       ? fsc_i128((fsc_int128){5, 0}) : fsc_i64(5);
  if (strcmp(which, "data") == 0)
    CHK_RC(fsc_list_set(l, 0, &five), FSC_ENOSPC);
  list_check_all(l, n);
  fsc_verify_report r = rep();
  rc = fsc_list_verify(l, 0, &r);
  healthy(rc, &r, (uint64_t)n);
  /* Space again: writes work, the file grows, the check is healthy. */
  set_fsize_limit(RLIM_INFINITY);
  for (int k = 0; k < 2000; k++)
    CHK_OK(lappend(l, n++));
  CHK(fsize(base, which) > before, "the %s file did not grow", which);
  list_check_all(l, n);
  r = rep();
  rc = fsc_list_verify(l, 0, &r);
  healthy(rc, &r, (uint64_t)n);
  CHK_OK(fsc_list_close(l));
  fsc_list_free(l);
  list_n = n;
  /* The parent reopens it. */
  FILE *f = fopen(base, "w");
  CHK(f != NULL, "note");
  fprintf(f, "%lld\n", (long long)n);
  fclose(f);
}

static void list_data_full(const char *base) {
  list_until_full(base, "data");
}

static void list_array_full(const char *base) {
  list_until_full(base, "index");
}

/* The parent: reopen, everything is there, the last close was clean. */
static void reopen_list(const char *base, fsc_type t) {
  long long n = -1;
  FILE *f = fopen(base, "r");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(fscanf(f, "%lld", &n), 1);
  fclose(f);
  unlink(base);
  fsc_options o = opts(t);
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(base, &o, &l));
  uint64_t len;
  ck_ok(fsc_list_len(l, &len));
  ck_assert_uint_eq(len, (uint64_t)n);
  for (int64_t i = 0; i < n; i += 97) {
    int64_t x;
    ck_ok(lget_i(l, i, &x));
    ck_assert_int_eq(x, i);
  }
  fsc_metrics m;
  memset(&m, 0, sizeof m);
  m.size = sizeof m;
  ck_ok(fsc_list_metrics(l, &m));
  ck_assert(m.last_close_clean);
  fsc_verify_report r = rep();
  ck_ok(fsc_list_verify(l, 0, &r));
  ck_assert(r.healthy);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}

static void dict_check_all(fsc_dict *d, int n) {
  uint64_t len;
  CHK_OK(fsc_dict_len(d, &len));
  CHK(len == (uint64_t)n, "length %llu, want %d", (unsigned long long)len, n);
  for (int i = 0; i < n; i++) {
    int64_t x;
    CHK_OK(fsc_dict_get_i64(d, key(i), &x));
    CHK(x == i, "%s is %lld", key(i), (long long)x);
  }
}

/* The hash table cannot be rebuilt larger (the index file cannot grow):
 * the insert that needs the rebuild fails; replacing and deleting keys
 * does not need space in the index and still works. */
static void dict_rehash_full(const char *base) {
  fsc_options o = opts(FSC_TYPE_INT64);
  fsc_dict *d = NULL;
  CHK_OK(fsc_dict_open(base, &o, &d));
  off_t before = fsize(base, "index");
  set_fsize_limit((rlim_t)before);
  int n = 0, rc;
  while ((rc = fsc_dict_set_i64(d, key(n), n)) == 0)
    n++;
  CHK(rc == FSC_ENOSPC, "set returned %d (%s)", rc, fsc_strerror(rc));
  CHK(strstr(fsc_errmsg(), ".index.fscollection") != NULL, "message: %s",
      fsc_errmsg());
  CHK(n >= 300 && n <= 1024, "%d keys fitted in the first table", n);
  CHK(fsize(base, "index") == before, "the index grew");
  int64_t x;
  CHK_RC(fsc_dict_get_i64(d, key(n), &x), FSC_EKEY);
  dict_check_all(d, n);
  CHK_RC(fsc_dict_set_i64(d, "another new key", 1), FSC_ENOSPC);
  CHK_OK(fsc_dict_set_i64(d, key(3), 3)); /* a replacement fits */
  dict_check_all(d, n);
  fsc_verify_report r = rep();
  rc = fsc_dict_verify(d, 0, &r);
  healthy(rc, &r, (uint64_t)n);
  set_fsize_limit(RLIM_INFINITY);
  for (int k = 0; k < 3000; k++, n++)
    CHK_OK(fsc_dict_set_i64(d, key(n), n));
  CHK(fsize(base, "index") > before, "the index did not grow");
  dict_check_all(d, n);
  r = rep();
  rc = fsc_dict_verify(d, 0, &r);
  healthy(rc, &r, (uint64_t)n);
  CHK_OK(fsc_dict_close(d));
  fsc_dict_free(d);
  CHK_OK(fsc_dict_open(base, &o, &d));
  dict_check_all(d, n);
  CHK_OK(fsc_dict_destroy(d));
  fsc_dict_free(d);
}

/* The data file cannot grow: dict sets and set adds fail, with the
 * set's table growing on the way (index growth is allowed here). */
static void keyed_data_full(const char *dir) {
  char dbase[600], sbase[600];
  snprintf(dbase, sizeof dbase, "%s/d", dir);
  snprintf(sbase, sizeof sbase, "%s/s", dir);
  fsc_options o = opts(FSC_TYPE_STRING);
  fsc_set *s = NULL;
  fsc_dict *d = NULL;
  CHK_OK(fsc_set_open(sbase, &o, &s));
  CHK_OK(fsc_dict_open(dbase, &o, &d));
  off_t before = fsize(sbase, "data");
  set_fsize_limit((rlim_t)before);
  int n = 0, rc;
  while ((rc = fsc_set_add_str(s, elem(n))) == 1)
    n++;
  CHK(rc == FSC_ENOSPC, "add returned %d (%s)", rc, fsc_strerror(rc));
  CHK(n > 1000, "only %d elements fitted (the table grows at 768)", n);
  CHK(fsize(sbase, "data") == before, "the data file grew");
  uint64_t len;
  CHK_OK(fsc_set_len(s, &len));
  CHK(len == (uint64_t)n, "set length %llu, want %d",
      (unsigned long long)len, n);
  for (int i = 0; i < n; i++)
    CHK(fsc_set_contains_str(s, elem(i)) == 1, "element %d lost", i);
  CHK_RC(fsc_set_add_str(s, elem(n)), FSC_ENOSPC);
  CHK(fsc_set_add_str(s, elem(0)) == 0, "re-adding a present element");
  fsc_verify_report r = rep();
  rc = fsc_set_verify(s, 0, &r);
  healthy(rc, &r, (uint64_t)n);
  /* The dict: as many as fit, then FSC_ENOSPC for new keys and for
   * replacements (a replacement writes a record). */
  int m = 0;
  while ((rc = fsc_dict_set_str(d, key(m), elem(m))) == 0)
    m++;
  CHK(rc == FSC_ENOSPC, "dict set returned %d (%s)", rc, fsc_strerror(rc));
  CHK(m > 1000, "only %d items fitted", m);
  CHK_RC(fsc_dict_set_str(d, key(0), elem(0)), FSC_ENOSPC);
  for (int i = 0; i < m; i++) {
    const char *v;
    size_t vl;
    CHK_OK(fsc_dict_get_str(d, key(i), &v, &vl));
    CHK(vl == 150 && memcmp(v, elem(i), 150) == 0, "%s changed", key(i));
  }
  r = rep();
  rc = fsc_dict_verify(d, 0, &r);
  healthy(rc, &r, (uint64_t)m);
  /* A delete needs no space, and frees none: still full for new keys. */
  CHK_OK(fsc_dict_del_str(d, key(0)));
  set_fsize_limit(RLIM_INFINITY);
  CHK(fsc_set_add_str(s, elem(n)) == 1, "add after the limit rose");
  CHK_OK(fsc_dict_set_str(d, key(0), "back"));
  r = rep();
  rc = fsc_set_verify(s, 0, &r);
  healthy(rc, &r, (uint64_t)n + 1);
  r = rep();
  rc = fsc_dict_verify(d, 0, &r);
  healthy(rc, &r, (uint64_t)m);
  CHK_OK(fsc_set_destroy(s));
  fsc_set_free(s);
  CHK_OK(fsc_dict_destroy(d));
  fsc_dict_free(d);
}

/* ------------------------------------------------------------------ */
/* A real full file system: tmpfs                                      */
/* ------------------------------------------------------------------ */

static void fill_file(const char *p, size_t bytes) {
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  CHK(fd >= 0, "open %s: %s", p, strerror(errno));
  CHK(fallocate(fd, 0, 0, (off_t)bytes) == 0, "fallocate filler: %s",
      strerror(errno));
  close(fd);
}

static void tmpfs_full(const char *dir) {
  if (unshare(CLONE_NEWNS) != 0) {
    fprintf(stderr, "SKIP tmpfs: unshare(CLONE_NEWNS): %s\n",
            strerror(errno));
    _exit(SKIP_EXIT);
  }
  if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0 ||
      mount("fsc-test", dir, "tmpfs", 0, "size=2m,mode=0700") != 0) {
    fprintf(stderr, "SKIP tmpfs: mount: %s\n", strerror(errno));
    _exit(SKIP_EXIT);
  }
  char base[600], dbase[600], filler[600];
  snprintf(base, sizeof base, "%s/l", dir);
  snprintf(dbase, sizeof dbase, "%s/d", dir);
  snprintf(filler, sizeof filler, "%s/filler", dir);
  /* Most of the 2 MiB is taken: the list's data file can double once. */
  fill_file(filler, 1200u << 10);
  fsc_options o = opts(FSC_TYPE_INT64);
  fsc_list *l = NULL;
  CHK_OK(fsc_list_open(base, &o, &l));
  int64_t n = 0;
  int rc;
  while ((rc = fsc_list_append_i64(l, n)) == 0)
    n++;
  CHK(rc == FSC_ENOSPC, "append returned %d (%s)", rc, fsc_strerror(rc));
  CHK(strstr(fsc_errmsg(), "space") != NULL, "message: %s", fsc_errmsg());
  CHK(n > 10000, "only %lld appends fitted", (long long)n);
  list_check_all(l, n);
  fsc_verify_report r = rep();
  rc = fsc_list_verify(l, 0, &r);
  healthy(rc, &r, (uint64_t)n);
  /* A dict in what is left: full too, index or data. */
  fsc_dict *d = NULL;
  rc = fsc_dict_open(dbase, &o, &d);
  int m = 0;
  if (rc == 0) {
    while ((rc = fsc_dict_set_i64(d, key(m), m)) == 0)
      m++;
    CHK(rc == FSC_ENOSPC, "dict set returned %d (%s)", rc, fsc_strerror(rc));
    dict_check_all(d, m);
    r = rep();
    rc = fsc_dict_verify(d, 0, &r);
    healthy(rc, &r, (uint64_t)m);
  } else {
    CHK(rc == FSC_ENOSPC, "dict open returned %d (%s)", rc,
        fsc_strerror(rc));
  }
  /* Free space: writes work again, and grow the files. */
  CHK(unlink(filler) == 0, "unlink filler");
  for (int k = 0; k < 20000; k++)
    CHK_OK(fsc_list_append_i64(l, n++));
  list_check_all(l, n);
  if (d) {
    for (int k = 0; k < 2000; k++, m++)
      CHK_OK(fsc_dict_set_i64(d, key(m), m));
    dict_check_all(d, m);
    CHK_OK(fsc_dict_close(d));
    fsc_dict_free(d);
    CHK_OK(fsc_dict_open(dbase, &o, &d));
    dict_check_all(d, m);
    r = rep();
    rc = fsc_dict_verify(d, 0, &r);
    healthy(rc, &r, (uint64_t)m);
    fsc_dict_free(d);
  }
  CHK_OK(fsc_list_close(l));
  fsc_list_free(l);
  CHK_OK(fsc_list_open(base, &o, &l));
  list_check_all(l, n);
  r = rep();
  rc = fsc_list_verify(l, 0, &r);
  healthy(rc, &r, (uint64_t)n);
  fsc_list_free(l);
  umount2(dir, MNT_DETACH);
}

/* ------------------------------------------------------------------ */
/* The tests                                                           */
/* ------------------------------------------------------------------ */

START_TEST(test_list_data_full) {
  sigxfsz_default = _i == 1;
  const char *base = tc_path("l");
  expect_ok(list_data_full, base, 0);
  reopen_list(base, FSC_TYPE_INT128);
}
END_TEST

START_TEST(test_list_array_full) {
  sigxfsz_default = _i == 1;
  const char *base = tc_path("a");
  expect_ok(list_array_full, base, 0);
  reopen_list(base, FSC_TYPE_INT64);
}
END_TEST

START_TEST(test_dict_rehash_full) {
  sigxfsz_default = _i == 1;
  expect_ok(dict_rehash_full, tc_path("d"), 0);
}
END_TEST

START_TEST(test_keyed_data_full) {
  sigxfsz_default = _i == 1;
  expect_ok(keyed_data_full, tc_dir(), 0);
}
END_TEST

START_TEST(test_tmpfs_full) {
  const char *dir = tc_dir();
  int ex = run_child(tmpfs_full, dir, 0);
  if (ex == SKIP_EXIT) {
    fprintf(stderr, "test_tmpfs_full: skipped (mounting a tmpfs is not "
                    "permitted here)\n");
    return;
  }
  ck_assert_msg(ex == 0, "the child failed (exit %d): see its message above",
                ex);
}
END_TEST

static Suite *fullfs_suite(void) {
  Suite *s = suite_create("fullfs");
  TCase *tc = tcase_create("rlimit");
  tcase_set_timeout(tc, 120);
  tcase_add_loop_test(tc, test_list_data_full, 0, 2); /* SIGXFSZ ignored, default */
  tcase_add_loop_test(tc, test_list_array_full, 0, 2); /* SIGXFSZ ignored, default */
  tcase_add_loop_test(tc, test_dict_rehash_full, 0, 2); /* SIGXFSZ ignored, default */
  tcase_add_loop_test(tc, test_keyed_data_full, 0, 2); /* SIGXFSZ ignored, default */
  suite_add_tcase(s, tc);
  tc = tcase_create("tmpfs");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_tmpfs_full);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tc_run(fullfs_suite()); }
