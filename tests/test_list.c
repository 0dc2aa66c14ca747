/*
 * test_list.c - the list's public functions, except slices (test_list_slice.c)
 * and multi-process use and persistence (test_list_mp.c, test_persist.c):
 * open/close/destroy and their options, temporary lists, file modes and
 * symlinks, element access, append/extend/insert/pop/del, search, reverse,
 * sort (stability), clear, equality, iteration, scan, metrics, sync, typed
 * shorthands, NULL arguments, growth, zero-copy views, and a long random
 * sequence of operations checked against an in-memory model.
 */
#include "check_common.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* ------------------------------------------------------------------ */
/* Spying on the library's unlink/rmdir (temporary lists)              */
/* ------------------------------------------------------------------ */

/* While `spy_on`, the modes of what the library unlinks and removes are
 * recorded just before it does, so a test can see the private directory
 * and files of a temporary list, which exist only inside fsc_list_open. */
static int spy_on;
static int spy_ndirs, spy_nfiles;
static mode_t spy_dir_mode, spy_file_mode[4];
static char spy_dir[512];

int rmdir(const char *path);
int unlink(const char *path);

int rmdir(const char *path) {
  static int (*real)(const char *);
  if (!real)
    real = (int (*)(const char *))dlsym(RTLD_NEXT, "rmdir");
  struct stat st;
  if (spy_on && stat(path, &st) == 0) {
    spy_dir_mode = st.st_mode;
    snprintf(spy_dir, sizeof spy_dir, "%s", path);
    spy_ndirs++;
  }
  return real(path);
}

int unlink(const char *path) {
  static int (*real)(const char *);
  if (!real)
    real = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
  struct stat st;
  if (spy_on && lstat(path, &st) == 0 && spy_nfiles < 4)
    spy_file_mode[spy_nfiles++] = st.st_mode;
  return real(path);
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* A test directory and a base path inside it. */
struct tp {
  char dir[256];
  char base[512];
  char data[600];
  char index[600];
};

static void tp_init(struct tp *t, const char *name) {
  snprintf(t->dir, sizeof t->dir, "%s", tc_dir());
  snprintf(t->base, sizeof t->base, "%s/%s", t->dir, name);
  snprintf(t->data, sizeof t->data, "%s.data.fscollection", t->base);
  snprintf(t->index, sizeof t->index, "%s.index.fscollection", t->base);
}

static int dir_entries(const char *dir) {
  DIR *d = opendir(dir);
  if (!d)
    return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
      n++;
  closedir(d);
  return n;
}

/* Remove everything in the test directory, then the directory. */
static void tp_clean(struct tp *t) {
  DIR *d = opendir(t->dir);
  if (d) {
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
        continue;
      snprintf(p, sizeof p, "%s/%s", t->dir, e->d_name);
      unlink(p);
    }
    closedir(d);
  }
  rmdir(t->dir);
}

static fsc_list *open_temp(fsc_type t) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = t;
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(NULL, &o, &l));
  ck_assert_ptr_nonnull(l);
  return l;
}

static void done(fsc_list *l) {
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}

static uint64_t len_of(fsc_list *l) {
  uint64_t n = 12345;
  ck_ok(fsc_list_len(l, &n));
  return n;
}

static int64_t get_i64(fsc_list *l, int64_t i) {
  int64_t v = 0;
  ck_ok(fsc_list_get_i64(l, i, &v));
  return v;
}

/* An int64 list holding vals[0..n). */
static fsc_list *i64_list(const int64_t *vals, size_t n) {
  fsc_list *l = open_temp(FSC_TYPE_INT64);
  for (size_t i = 0; i < n; i++)
    ck_ok(fsc_list_append_i64(l, vals[i]));
  return l;
}

static void expect_i64(fsc_list *l, const int64_t *want, size_t n) {
  ck_assert_uint_eq(len_of(l), n);
  for (size_t i = 0; i < n; i++) {
    int64_t v = get_i64(l, (int64_t)i);
    ck_assert_msg(v == want[i], "element %zu is %lld, want %lld", i,
                  (long long)v, (long long)want[i]);
  }
}

static const char *CLOSED_MSG = "I/O operation on closed file.";

/* Set $TMPDIR for one test; restore_tmpdir() puts it back (so the tests
 * also run in one process, CK_FORK=no). */
static char saved_tmpdir[512];
static int had_tmpdir;
static void set_tmpdir(const char *dir) {
  const char *old = getenv("TMPDIR");
  had_tmpdir = old != NULL;
  snprintf(saved_tmpdir, sizeof saved_tmpdir, "%s", old ? old : "");
  ck_assert_int_eq(setenv("TMPDIR", dir, 1), 0);
}
static void restore_tmpdir(void) {
  if (had_tmpdir)
    setenv("TMPDIR", saved_tmpdir, 1);
  else
    unsetenv("TMPDIR");
}

/* ------------------------------------------------------------------ */
/* Life: open, close, destroy, free                                    */
/* ------------------------------------------------------------------ */

START_TEST(test_open_create_and_reopen) {
  struct tp t;
  tp_init(&t, "l");
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(t.base, NULL, &l)); /* NULL options: create, ANY */
  ck_assert_ptr_nonnull(l);
  ck_assert_str_eq(fsc_list_path(l), t.base);
  ck_assert_int_eq(fsc_list_type(l), FSC_TYPE_ANY);
  ck_assert_uint_eq(len_of(l), 0);
  ck_assert_int_eq(access(t.data, F_OK), 0);
  ck_assert_int_eq(access(t.index, F_OK), 0);
  ck_ok(fsc_list_append_i64(l, 42));
  ck_ok(fsc_list_append_str(l, "x"));
  done(l);
  /* Reopen without FSC_CREATE: the same list. */
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = 0;
  ck_ok(fsc_list_open(t.base, &o, &l));
  ck_assert_int_eq(fsc_list_type(l), FSC_TYPE_ANY);
  ck_assert_uint_eq(len_of(l), 2);
  ck_assert_int_eq(get_i64(l, 0), 42);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
  tp_clean(&t);
}
END_TEST

/* Every call on a handle that was closed (or destroyed) is FSC_ECLOSED. */
static void check_all_closed(fsc_list *l, fsc_list *other,
                             fsc_list_iter *it) {
  fsc_value v = fsc_i64(1), out;
  uint64_t u;
  size_t n;
  int64_t i64;
  double d;
  const char *p;
  fsc_metrics m;
  memset(&m, 0, sizeof m);
  m.size = sizeof m;
  fsc_list_iter it2;
#define CLOSED(call)                                                          \
  do {                                                                        \
    ck_fsc(call, FSC_ECLOSED);                                                \
    ck_assert_str_eq(fsc_errmsg(), CLOSED_MSG);                               \
  } while (0)
  CLOSED(fsc_list_close(l));
  CLOSED(fsc_list_destroy(l));
  CLOSED(fsc_list_type(l));
  CLOSED(fsc_list_len(l, &u));
  CLOSED(fsc_list_get(l, 0, &out));
  CLOSED(fsc_list_append(l, &v));
  CLOSED(fsc_list_extend(l, &v, 1));
  CLOSED(fsc_list_set(l, 0, &v));
  CLOSED(fsc_list_insert(l, 0, &v));
  CLOSED(fsc_list_pop(l, -1, &out));
  CLOSED(fsc_list_pop(l, 0, NULL));
  CLOSED(fsc_list_del(l, 0));
  CLOSED(fsc_list_index(l, &v, FSC_NONE, FSC_NONE, &u));
  CLOSED(fsc_list_count(l, &v, &u));
  CLOSED(fsc_list_remove(l, &v));
  CLOSED(fsc_list_contains(l, &v));
  CLOSED(fsc_list_reverse(l));
  CLOSED(fsc_list_sort(l, false));
  CLOSED(fsc_list_clear(l));
  CLOSED(fsc_list_slice_get(l, FSC_SLICE(0, 1, 1), &out, 1, &n));
  CLOSED(fsc_list_slice_set(l, FSC_SLICE(0, 1, 1), &v, 1));
  CLOSED(fsc_list_slice_del(l, FSC_SLICE(0, 1, 1)));
  CLOSED(fsc_list_equal(l, other));
  CLOSED(fsc_list_equal(other, l));
  CLOSED(fsc_list_iter_init(l, &it2));
  CLOSED(fsc_list_iter_next(it, &out));
  CLOSED(fsc_list_scan(l, NULL, NULL, NULL));
  CLOSED(fsc_list_metrics(l, &m));
  CLOSED(fsc_list_sync(l));
  CLOSED(fsc_list_append_i64(l, 1));
  CLOSED(fsc_list_append_f64(l, 1.0));
  CLOSED(fsc_list_append_str(l, "s"));
  CLOSED(fsc_list_get_i64(l, 0, &i64));
  CLOSED(fsc_list_get_f64(l, 0, &d));
  CLOSED(fsc_list_get_str(l, 0, &p, &n));
  CLOSED(fsc_list_set_i64(l, 0, 1));
#undef CLOSED
}

START_TEST(test_closed_after_close) {
  struct tp t;
  tp_init(&t, "l");
  fsc_list *l, *other = open_temp(FSC_TYPE_ANY);
  ck_ok(fsc_list_open(t.base, NULL, &l));
  ck_ok(fsc_list_append_i64(l, 1));
  fsc_list_iter it;
  ck_ok(fsc_list_iter_init(l, &it));
  ck_ok(fsc_list_close(l));
  check_all_closed(l, other, &it);
  fsc_list_free(l);
  /* Close keeps the files. */
  ck_assert_int_eq(access(t.data, F_OK), 0);
  ck_assert_int_eq(access(t.index, F_OK), 0);
  done(other);
  tp_clean(&t);
}
END_TEST

START_TEST(test_closed_after_destroy) {
  struct tp t;
  tp_init(&t, "l");
  fsc_list *l, *other = open_temp(FSC_TYPE_ANY);
  ck_ok(fsc_list_open(t.base, NULL, &l));
  ck_ok(fsc_list_append_i64(l, 1));
  fsc_list_iter it;
  ck_ok(fsc_list_iter_init(l, &it));
  ck_ok(fsc_list_destroy(l));
  /* Destroy deletes both files. */
  ck_assert_int_eq(access(t.data, F_OK), -1);
  ck_assert_int_eq(access(t.index, F_OK), -1);
  check_all_closed(l, other, &it);
  fsc_list_free(l);
  /* It is gone: opening without FSC_CREATE fails. */
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = 0;
  fsc_list *l2 = (fsc_list *)&o;
  ck_fsc(fsc_list_open(t.base, &o, &l2), FSC_ENOENT);
  ck_assert_ptr_null(l2);
  done(other);
  tp_clean(&t);
}
END_TEST

START_TEST(test_closed_temp_list) {
  fsc_list *l = open_temp(FSC_TYPE_INT64), *other = open_temp(FSC_TYPE_ANY);
  fsc_list_iter it;
  ck_ok(fsc_list_iter_init(l, &it));
  ck_ok(fsc_list_destroy(l)); /* a temporary list: just closes */
  check_all_closed(l, other, &it);
  fsc_list_free(l);
  done(other);
}
END_TEST

START_TEST(test_close_twice_and_free) {
  fsc_list *l = open_temp(FSC_TYPE_ANY);
  ck_ok(fsc_list_close(l));
  ck_fsc(fsc_list_close(l), FSC_ECLOSED);
  ck_assert_str_eq(fsc_errmsg(), CLOSED_MSG);
  ck_fsc(fsc_list_destroy(l), FSC_ECLOSED);
  fsc_list_free(l);
  fsc_list_free(NULL); /* no-op */
  /* free of an open handle closes it (the files stay). */
  struct tp t;
  tp_init(&t, "l");
  ck_ok(fsc_list_open(t.base, NULL, &l));
  ck_ok(fsc_list_append_i64(l, 7));
  fsc_list_free(l);
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = 0;
  ck_ok(fsc_list_open(t.base, &o, &l));
  ck_assert_uint_eq(len_of(l), 1);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
  tp_clean(&t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Open options                                                        */
/* ------------------------------------------------------------------ */

START_TEST(test_open_excl) {
  struct tp t;
  tp_init(&t, "l");
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = FSC_CREATE | FSC_EXCL;
  fsc_list *l;
  ck_ok(fsc_list_open(t.base, &o, &l)); /* missing: created */
  ck_ok(fsc_list_append_i64(l, 1));
  fsc_list *l2 = (fsc_list *)&o;
  ck_fsc(fsc_list_open(t.base, &o, &l2), FSC_EINVAL); /* open: exists */
  ck_assert_ptr_null(l2);
  done(l);
  ck_fsc(fsc_list_open(t.base, &o, &l2), FSC_EINVAL); /* closed: exists */
  ck_assert_ptr_null(l2);
  /* The failed opens did no harm. */
  o.flags = 0;
  ck_ok(fsc_list_open(t.base, &o, &l));
  ck_assert_uint_eq(len_of(l), 1);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
  tp_clean(&t);
}
END_TEST

START_TEST(test_open_missing_without_create) {
  struct tp t;
  tp_init(&t, "missing");
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = 0;
  fsc_list *l = (fsc_list *)&o;
  ck_fsc(fsc_list_open(t.base, &o, &l), FSC_ENOENT);
  ck_assert_ptr_null(l);
  ck_assert_str_ne(fsc_errmsg(), "");
  /* Nothing was created. */
  ck_assert_int_eq(dir_entries(t.dir), 0);
  o.flags = FSC_RDONLY;
  ck_fsc(fsc_list_open(t.base, &o, &l), FSC_ENOENT);
  ck_assert_int_eq(dir_entries(t.dir), 0);
  /* A missing directory. */
  char deep[700];
  snprintf(deep, sizeof deep, "%s/no/such/dir/l", t.dir);
  o.flags = FSC_CREATE;
  int rc = fsc_list_open(deep, &o, &l);
  ck_assert_int_lt(rc, 0);
  ck_assert_ptr_null(l);
  tp_clean(&t);
}
END_TEST

START_TEST(test_open_rdonly) {
  struct tp t;
  tp_init(&t, "l");
  fsc_list *w, *r;
  ck_ok(fsc_list_open(t.base, NULL, &w));
  ck_ok(fsc_list_append_i64(w, 10));
  ck_ok(fsc_list_append_i64(w, 20));
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = FSC_RDONLY;
  ck_ok(fsc_list_open(t.base, &o, &r));
  /* Reads work. */
  ck_assert_uint_eq(len_of(r), 2);
  ck_assert_int_eq(get_i64(r, -1), 20);
  fsc_value v = fsc_i64(10), out;
  ck_assert_int_eq(fsc_list_contains(r, &v), 1);
  ck_assert_int_eq(fsc_list_equal(r, w), 1);
  ck_ok(fsc_list_sync(r));
  /* Every write is FSC_EROFS. */
  ck_fsc(fsc_list_append(r, &v), FSC_EROFS);
  ck_fsc(fsc_list_append_i64(r, 1), FSC_EROFS);
  ck_fsc(fsc_list_extend(r, &v, 1), FSC_EROFS);
  ck_fsc(fsc_list_set(r, 0, &v), FSC_EROFS);
  ck_fsc(fsc_list_set_i64(r, 0, 1), FSC_EROFS);
  ck_fsc(fsc_list_insert(r, 0, &v), FSC_EROFS);
  ck_fsc(fsc_list_pop(r, -1, &out), FSC_EROFS);
  ck_fsc(fsc_list_pop(r, 0, NULL), FSC_EROFS);
  ck_fsc(fsc_list_del(r, 0), FSC_EROFS);
  ck_fsc(fsc_list_remove(r, &v), FSC_EROFS);
  ck_fsc(fsc_list_reverse(r), FSC_EROFS);
  ck_fsc(fsc_list_sort(r, false), FSC_EROFS);
  ck_fsc(fsc_list_clear(r), FSC_EROFS);
  ck_fsc(fsc_list_slice_set(r, FSC_SLICE(0, 1, 1), &v, 1), FSC_EROFS);
  ck_fsc(fsc_list_slice_del(r, FSC_SLICE(0, 1, 1)), FSC_EROFS);
  /* Nothing changed; the writer's changes are seen by the reader. */
  ck_assert_uint_eq(len_of(r), 2);
  ck_ok(fsc_list_append_i64(w, 30));
  ck_assert_uint_eq(len_of(r), 3);
  ck_assert_int_eq(get_i64(r, 2), 30);
  done(r);
  /* RDONLY with CREATE or EXCL is contradictory. */
  o.flags = FSC_RDONLY | FSC_CREATE;
  fsc_list *x = (fsc_list *)&o;
  ck_fsc(fsc_list_open(t.base, &o, &x), FSC_EINVAL);
  ck_assert_ptr_null(x);
  o.flags = FSC_RDONLY | FSC_EXCL;
  ck_fsc(fsc_list_open(t.base, &o, &x), FSC_EINVAL);
  /* A temporary list cannot be read-only. */
  o.flags = FSC_RDONLY;
  ck_fsc(fsc_list_open(NULL, &o, &x), FSC_EINVAL);
  ck_ok(fsc_list_destroy(w));
  fsc_list_free(w);
  tp_clean(&t);
}
END_TEST

START_TEST(test_open_bad_options) {
  struct tp t;
  tp_init(&t, "l");
  fsc_list *l;
  const fsc_options def = FSC_OPTIONS_INIT;
  fsc_options o;
#define BAD(field, value)                                                     \
  do {                                                                        \
    o = def;                                                                  \
    o.field = value;                                                          \
    l = (fsc_list *)&o;                                                       \
    ck_fsc(fsc_list_open(t.base, &o, &l), FSC_EINVAL);                        \
    ck_assert_ptr_null(l);                                                    \
    ck_assert_str_ne(fsc_errmsg(), "");                                       \
    l = (fsc_list *)&o;                                                       \
    ck_fsc(fsc_list_open(NULL, &o, &l), FSC_EINVAL);                          \
    ck_assert_ptr_null(l);                                                    \
  } while (0)
  BAD(size, 0);
  BAD(size, 1);
  BAD(size, offsetof(fsc_options, flags)); /* too small to hold flags */
  BAD(size, 1u << 20);                     /* absurdly large */
  BAD(flags, 0x8u);
  BAD(flags, FSC_CREATE | 0x100u);
  BAD(flags, ~0u);
  BAD(type, (fsc_type)10);
  BAD(type, (fsc_type)14);
  BAD(type, (fsc_type)16);
  BAD(type, (fsc_type)-1);
  BAD(mode, 010000u);
  BAD(mode, ~0u);
  BAD(durability, (fsc_durability)3);
  BAD(durability, (fsc_durability)-1);
#undef BAD
  /* None of those created anything. */
  ck_assert_int_eq(dir_entries(t.dir), 0);
  /* Bad base paths and out. */
  l = (fsc_list *)&o;
  ck_fsc(fsc_list_open("", NULL, &l), FSC_EINVAL);
  ck_assert_ptr_null(l);
  ck_fsc(fsc_list_open(t.base, NULL, NULL), FSC_EINVAL);
  ck_assert_int_eq(dir_entries(t.dir), 0);
  /* A base path that is a directory's name plus suffix in a non-directory. */
  char notdir[700];
  snprintf(notdir, sizeof notdir, "%s/file", t.dir);
  int fd = open(notdir, O_CREAT | O_WRONLY, 0600);
  ck_assert_int_ge(fd, 0);
  close(fd);
  char under[800];
  snprintf(under, sizeof under, "%s/l", notdir);
  ck_assert_int_lt(fsc_list_open(under, NULL, &l), 0);
  tp_clean(&t);
}
END_TEST

START_TEST(test_open_old_options_size) {
  /* A caller compiled against an older, smaller fsc_options: the fields
   * it does not know take their defaults. */
  struct tp t;
  tp_init(&t, "l");
  fsc_options o;
  memset(&o, 0xff, sizeof o); /* garbage beyond the caller's size */
  o.size = offsetof(fsc_options, flags) + sizeof o.flags;
  o.type = FSC_TYPE_INT64;
  o.flags = FSC_CREATE;
  fsc_list *l;
  ck_ok(fsc_list_open(t.base, &o, &l));
  ck_assert_int_eq(fsc_list_type(l), FSC_TYPE_INT64);
  ck_ok(fsc_list_append_i64(l, 5));
  done(l);
  struct stat st;
  ck_assert_int_eq(stat(t.data, &st), 0);
  ck_assert_uint_eq(st.st_mode & 07777, 0600); /* default mode */
  tp_clean(&t);
}
END_TEST

START_TEST(test_open_type_mismatch) {
  struct tp t;
  tp_init(&t, "l");
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_STRING;
  fsc_list *l;
  ck_ok(fsc_list_open(t.base, &o, &l));
  ck_assert_int_eq(fsc_list_type(l), FSC_TYPE_STRING);
  ck_ok(fsc_list_append_str(l, "a"));
  /* Another type, while open and after close. */
  fsc_type others[] = {FSC_TYPE_INT64, FSC_TYPE_BYTES, FSC_TYPE_ANY,
                       FSC_TYPE_JSON};
  for (int i = 0; i < 4; i++) {
    fsc_options p = FSC_OPTIONS_INIT;
    p.type = others[i];
    fsc_list *x = (fsc_list *)&p;
    ck_fsc(fsc_list_open(t.base, &p, &x), FSC_ETYPE);
    ck_assert_ptr_null(x);
    ck_assert_str_ne(fsc_errmsg(), "");
  }
  done(l);
  fsc_options p = FSC_OPTIONS_INIT;
  p.type = FSC_TYPE_INT32;
  fsc_list *x = NULL;
  ck_fsc(fsc_list_open(t.base, &p, &x), FSC_ETYPE);
  /* The same type, or UNSPEC, opens it. */
  p.type = FSC_TYPE_UNSPEC;
  ck_ok(fsc_list_open(t.base, &p, &x));
  ck_assert_int_eq(fsc_list_type(x), FSC_TYPE_STRING);
  ck_fsc(fsc_list_append_i64(x, 1), FSC_ETYPE); /* still a string list */
  done(x);
  p.type = FSC_TYPE_STRING;
  ck_ok(fsc_list_open(t.base, &p, &x));
  ck_assert_uint_eq(len_of(x), 1);
  ck_ok(fsc_list_destroy(x));
  fsc_list_free(x);
  tp_clean(&t);
}
END_TEST

START_TEST(test_open_every_element_type) {
  static const fsc_type types[] = {
      FSC_TYPE_INT32, FSC_TYPE_INT64, FSC_TYPE_INT128, FSC_TYPE_STRING,
      FSC_TYPE_BOOL,  FSC_TYPE_FLOAT, FSC_TYPE_BYTES,  FSC_TYPE_JSON,
      FSC_TYPE_REF,   FSC_TYPE_ANY};
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    fsc_list *l = open_temp(types[i]);
    ck_assert_int_eq(fsc_list_type(l), (int)types[i]);
    done(l);
  }
  /* UNSPEC for a new list means ANY. */
  fsc_list *l = open_temp(FSC_TYPE_UNSPEC);
  ck_assert_int_eq(fsc_list_type(l), FSC_TYPE_ANY);
  done(l);
}
END_TEST

START_TEST(test_open_durability_modes) {
  fsc_durability ds[] = {FSC_DURABLE_NONE, FSC_DURABLE_ON_CLOSE,
                         FSC_DURABLE_ALWAYS};
  for (int k = 0; k < 3; k++) {
    struct tp t;
    tp_init(&t, "l");
    fsc_options o = FSC_OPTIONS_INIT;
    o.durability = ds[k];
    fsc_list *l;
    ck_ok(fsc_list_open(t.base, &o, &l));
    ck_ok(fsc_list_append_i64(l, 1));
    int64_t two[1] = {2};
    fsc_value v = fsc_i64(two[0]);
    ck_ok(fsc_list_extend(l, &v, 1));
    ck_ok(fsc_list_insert(l, 0, &v));
    ck_ok(fsc_list_set_i64(l, 0, 0));
    ck_ok(fsc_list_pop(l, 0, NULL));
    ck_ok(fsc_list_sync(l));
    ck_assert_uint_eq(len_of(l), 2);
    done(l);
    o.flags = 0;
    ck_ok(fsc_list_open(t.base, &o, &l));
    ck_assert_uint_eq(len_of(l), 2);
    ck_assert_int_eq(get_i64(l, 0), 1);
    ck_assert_int_eq(get_i64(l, 1), 2);
    ck_ok(fsc_list_destroy(l));
    fsc_list_free(l);
    tp_clean(&t);
  }
}
END_TEST

/* ------------------------------------------------------------------ */
/* Files: temporary lists, modes, symlinks                             */
/* ------------------------------------------------------------------ */

START_TEST(test_temp_list_leaves_nothing) {
  struct tp t;
  tp_init(&t, "unused");
  set_tmpdir(t.dir);
  ck_assert_int_eq(dir_entries(t.dir), 0);
  spy_on = 1;
  spy_ndirs = spy_nfiles = 0;
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(NULL, NULL, &l));
  spy_on = 0;
  ck_assert_ptr_null(fsc_list_path(l));
  /* Unlinked at once: nothing in $TMPDIR even while it is open. */
  ck_assert_int_eq(dir_entries(t.dir), 0);
  /* The private directory was 0700 and inside $TMPDIR; its two files
   * were regular files of mode 0600. */
  ck_assert_int_eq(spy_ndirs, 1);
  ck_assert_msg(S_ISDIR(spy_dir_mode) && (spy_dir_mode & 07777) == 0700,
                "temporary directory mode 0%o", (unsigned)spy_dir_mode);
  ck_assert_msg(strncmp(spy_dir, t.dir, strlen(t.dir)) == 0 &&
                    spy_dir[strlen(t.dir)] == '/',
                "temporary directory %s is not in %s", spy_dir, t.dir);
  ck_assert_int_eq(spy_nfiles, 2);
  for (int i = 0; i < 2; i++)
    ck_assert_msg(S_ISREG(spy_file_mode[i]) &&
                      (spy_file_mode[i] & 07777) == 0600,
                  "temporary file mode 0%o", (unsigned)spy_file_mode[i]);
  /* It works as a list. */
  for (int i = 0; i < 3000; i++)
    ck_ok(fsc_list_append_i64(l, i));
  ck_ok(fsc_list_insert(l, 0, &(fsc_value){.type = FSC_TYPE_INT64}));
  ck_assert_uint_eq(len_of(l), 3001);
  ck_assert_int_eq(get_i64(l, -1), 2999);
  ck_ok(fsc_list_sync(l));
  fsc_metrics m;
  memset(&m, 0, sizeof m);
  m.size = sizeof m;
  ck_ok(fsc_list_metrics(l, &m));
  ck_assert_uint_eq(m.length, 3001);
  ck_assert_uint_gt(m.data_file_bytes, 0);
  ck_assert_int_eq(dir_entries(t.dir), 0);
  done(l);
  ck_assert_int_eq(dir_entries(t.dir), 0);
  /* Destroy of a temporary list. */
  ck_ok(fsc_list_open(NULL, NULL, &l));
  ck_ok(fsc_list_append_i64(l, 1));
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
  ck_assert_int_eq(dir_entries(t.dir), 0);
  /* Two temporary lists are independent. */
  fsc_list *a, *b;
  ck_ok(fsc_list_open(NULL, NULL, &a));
  ck_ok(fsc_list_open(NULL, NULL, &b));
  ck_ok(fsc_list_append_i64(a, 1));
  ck_assert_uint_eq(len_of(b), 0);
  done(a);
  done(b);
  ck_assert_int_eq(dir_entries(t.dir), 0);
  restore_tmpdir();
  tp_clean(&t);
}
END_TEST

START_TEST(test_temp_list_bad_tmpdir) {
  struct tp t;
  tp_init(&t, "x");
  char missing[700];
  snprintf(missing, sizeof missing, "%s/does-not-exist", t.dir);
  set_tmpdir(missing);
  fsc_list *l = (fsc_list *)&t;
  ck_assert_int_lt(fsc_list_open(NULL, NULL, &l), 0);
  ck_assert_ptr_null(l);
  ck_assert_str_ne(fsc_errmsg(), "");
  restore_tmpdir();
  tp_clean(&t);
}
END_TEST

START_TEST(test_file_modes) {
  mode_t old_umask = umask(022);
  struct tp t;
  tp_init(&t, "def");
  fsc_list *l;
  ck_ok(fsc_list_open(t.base, NULL, &l));
  struct stat st;
  ck_assert_int_eq(stat(t.data, &st), 0);
  ck_assert_uint_eq(st.st_mode & 07777, 0600);
  ck_assert_int_eq(stat(t.index, &st), 0);
  ck_assert_uint_eq(st.st_mode & 07777, 0600);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
  unsigned modes[] = {0640, 0604, 0400 | 0200};
  for (int i = 0; i < 3; i++) {
    snprintf(t.base + strlen(t.dir), sizeof t.base - strlen(t.dir), "/m%d",
             i);
    snprintf(t.data, sizeof t.data, "%s.data.fscollection", t.base);
    snprintf(t.index, sizeof t.index, "%s.index.fscollection", t.base);
    fsc_options o = FSC_OPTIONS_INIT;
    o.mode = modes[i];
    ck_ok(fsc_list_open(t.base, &o, &l));
    ck_ok(fsc_list_append_i64(l, 1));
    ck_assert_int_eq(stat(t.data, &st), 0);
    ck_assert_msg((st.st_mode & 07777) == modes[i], "data mode 0%o, want 0%o",
                  st.st_mode & 07777, modes[i]);
    ck_assert_int_eq(stat(t.index, &st), 0);
    ck_assert_msg((st.st_mode & 07777) == modes[i],
                  "index mode 0%o, want 0%o", st.st_mode & 07777, modes[i]);
    done(l);
  }
  umask(old_umask);
  tp_clean(&t);
}
END_TEST

START_TEST(test_symlink_refused) {
  struct tp t;
  tp_init(&t, "l");
  char target[700], dangling[700];
  snprintf(target, sizeof target, "%s/precious", t.dir);
  snprintf(dangling, sizeof dangling, "%s/would-be-created", t.dir);
  tc_write_text(target, "precious bytes");
  fsc_list *l;
  /* In place of the index file. */
  ck_assert_int_eq(symlink(target, t.index), 0);
  l = (fsc_list *)&t;
  ck_fsc(fsc_list_open(t.base, NULL, &l), FSC_EINVAL);
  ck_assert_ptr_null(l);
  tc_check_text(target, "precious bytes");
  unlink(t.index);
  unlink(t.data);
  /* In place of the data file. */
  ck_assert_int_eq(symlink(target, t.data), 0);
  ck_fsc(fsc_list_open(t.base, NULL, &l), FSC_EINVAL);
  ck_assert_ptr_null(l);
  tc_check_text(target, "precious bytes");
  unlink(t.index);
  unlink(t.data);
  /* A dangling symlink: its target is not created. */
  ck_assert_int_eq(symlink(dangling, t.index), 0);
  ck_assert_int_lt(fsc_list_open(t.base, NULL, &l), 0);
  ck_assert_int_eq(access(dangling, F_OK), -1);
  unlink(t.index);
  unlink(t.data);
  /* A symlink planted after the list was created and closed. */
  ck_ok(fsc_list_open(t.base, NULL, &l));
  ck_ok(fsc_list_append_i64(l, 1));
  done(l);
  char moved[700];
  snprintf(moved, sizeof moved, "%s/moved.data", t.dir);
  ck_assert_int_eq(rename(t.data, moved), 0);
  ck_assert_int_eq(symlink(moved, t.data), 0);
  ck_assert_int_lt(fsc_list_open(t.base, NULL, &l), 0);
  ck_assert_ptr_null(l);
  tp_clean(&t);
}
END_TEST

START_TEST(test_non_regular_file_refused) {
  struct tp t;
  tp_init(&t, "l");
  ck_assert_int_eq(mkdir(t.data, 0700), 0); /* a directory as data file */
  fsc_list *l = (fsc_list *)&t;
  ck_assert_int_lt(fsc_list_open(t.base, NULL, &l), 0);
  ck_assert_ptr_null(l);
  rmdir(t.data);
  tp_clean(&t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* len / get / set                                                     */
/* ------------------------------------------------------------------ */

START_TEST(test_get_set_indices) {
  int64_t vals[] = {10, 11, 12, 13, 14};
  fsc_list *l = i64_list(vals, 5);
  ck_assert_uint_eq(len_of(l), 5);
  for (int64_t i = 0; i < 5; i++) {
    ck_assert_int_eq(get_i64(l, i), 10 + i);
    ck_assert_int_eq(get_i64(l, i - 5), 10 + i); /* -5 .. -1 */
  }
  fsc_value v;
  int64_t bad[] = {5, 6, -6, -7, 100, INT64_MAX, INT64_MIN, INT64_MIN + 1};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    ck_fsc(fsc_list_get(l, bad[k], &v), FSC_EINDEX);
    ck_assert_str_eq(fsc_errmsg(), "list index out of range");
    fsc_value x = fsc_i64(0);
    ck_fsc(fsc_list_set(l, bad[k], &x), FSC_EINDEX);
    ck_assert_str_eq(fsc_errmsg(), "list assignment index out of range");
    ck_fsc(fsc_list_set_i64(l, bad[k], 0), FSC_EINDEX);
    int64_t o;
    ck_fsc(fsc_list_get_i64(l, bad[k], &o), FSC_EINDEX);
  }
  /* set with negative indices. */
  ck_ok(fsc_list_set_i64(l, -1, 99));
  ck_ok(fsc_list_set_i64(l, -5, 77));
  fsc_value x = fsc_i64(55);
  ck_ok(fsc_list_set(l, 2, &x));
  int64_t want[] = {77, 11, 55, 13, 99};
  expect_i64(l, want, 5);
  done(l);
  /* An empty list has no index at all. */
  l = open_temp(FSC_TYPE_ANY);
  ck_assert_uint_eq(len_of(l), 0);
  ck_fsc(fsc_list_get(l, 0, &v), FSC_EINDEX);
  ck_fsc(fsc_list_get(l, -1, &v), FSC_EINDEX);
  ck_fsc(fsc_list_set(l, 0, &x), FSC_EINDEX);
  ck_fsc(fsc_list_set(l, -1, &x), FSC_EINDEX);
  ck_assert_uint_eq(len_of(l), 0);
  done(l);
}
END_TEST

START_TEST(test_set_changes_type_in_any_list) {
  fsc_list *l = open_temp(FSC_TYPE_ANY);
  ck_ok(fsc_list_append_i64(l, 1));
  fsc_value s = fsc_str("now a string");
  ck_ok(fsc_list_set(l, 0, &s));
  const char *p;
  size_t n;
  ck_ok(fsc_list_get_str(l, 0, &p, &n));
  ck_assert_uint_eq(n, strlen("now a string"));
  ck_assert_int_eq(memcmp(p, "now a string", n), 0);
  ck_assert_uint_eq(len_of(l), 1);
  done(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* append / extend                                                     */
/* ------------------------------------------------------------------ */

START_TEST(test_append_and_extend) {
  fsc_list *l = open_temp(FSC_TYPE_INT64);
  ck_ok(fsc_list_append_i64(l, 1));
  fsc_value v = fsc_i64(2);
  ck_ok(fsc_list_append(l, &v));
  fsc_value vs[3] = {fsc_i64(3), fsc_i64(4), fsc_i64(5)};
  ck_ok(fsc_list_extend(l, vs, 3));
  ck_ok(fsc_list_extend(l, vs, 0));
  ck_ok(fsc_list_extend(l, NULL, 0));
  int64_t want[] = {1, 2, 3, 4, 5};
  expect_i64(l, want, 5);
  ck_fsc(fsc_list_extend(l, NULL, 2), FSC_EINVAL);
  /* One invalid value: nothing appended, wherever it is. */
  for (int bad = 0; bad < 3; bad++) {
    fsc_value mix[3] = {fsc_i64(6), fsc_i64(7), fsc_i64(8)};
    mix[bad] = fsc_str("not an int");
    ck_fsc(fsc_list_extend(l, mix, 3), FSC_ETYPE);
    ck_assert_str_eq(fsc_errmsg(), "Expected int64 for int64, got string");
    expect_i64(l, want, 5);
  }
  done(l);
  /* In an ANY list: invalid UTF-8 or JSON in the middle. */
  l = open_temp(FSC_TYPE_ANY);
  fsc_value mix[4] = {fsc_i64(1), fsc_str("ok"), fsc_strn("\xc0\x80", 2),
                      fsc_i32(2)};
  ck_fsc(fsc_list_extend(l, mix, 4), FSC_ETYPE);
  ck_assert_uint_eq(len_of(l), 0);
  mix[2] = fsc_json("{", 1);
  ck_fsc(fsc_list_extend(l, mix, 4), FSC_ETYPE);
  ck_assert_uint_eq(len_of(l), 0);
  mix[2] = fsc_bytes(NULL, 3);
  ck_fsc(fsc_list_extend(l, mix, 4), FSC_EINVAL);
  ck_assert_uint_eq(len_of(l), 0);
  /* Failed extends left no live bytes behind. */
  fsc_metrics m;
  memset(&m, 0, sizeof m);
  ck_ok(fsc_list_metrics(l, &m));
  ck_assert_uint_eq(m.live_bytes, 0);
  mix[2] = fsc_json("[]", 2);
  ck_ok(fsc_list_extend(l, mix, 4));
  ck_assert_uint_eq(len_of(l), 4);
  for (int i = 0; i < 4; i++) {
    fsc_value g;
    ck_ok(fsc_list_get(l, i, &g));
    ck_assert(fsc_value_equal(&g, &mix[i]));
  }
  done(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* insert                                                              */
/* ------------------------------------------------------------------ */

/* Python's list.insert position. */
static size_t py_insert_pos(int64_t index, size_t n) {
  if (index < 0) {
    if (index < -(int64_t)n)
      return 0;
    return (size_t)(index + (int64_t)n);
  }
  return (uint64_t)index > n ? n : (size_t)index;
}

START_TEST(test_insert_every_position) {
  int64_t base[] = {0, 1, 2, 3, 4};
  int64_t idx[] = {-100, -7, -6, -5, -4, -3, -2, -1, 0, 1,
                   2,    3,  4,  5,  6,  7,  100, INT64_MIN, INT64_MAX};
  for (size_t k = 0; k < sizeof idx / sizeof idx[0]; k++) {
    fsc_list *l = i64_list(base, 5);
    fsc_value v = fsc_i64(99);
    ck_ok(fsc_list_insert(l, idx[k], &v));
    int64_t want[6];
    size_t at = py_insert_pos(idx[k], 5);
    for (size_t i = 0, j = 0; i < 6; i++)
      want[i] = i == at ? 99 : base[j++];
    expect_i64(l, want, 6);
    done(l);
  }
  /* Into an empty list, at any index. */
  int64_t e[] = {0, 5, -5, -1, 100};
  for (size_t k = 0; k < 5; k++) {
    fsc_list *l = open_temp(FSC_TYPE_INT64);
    fsc_value v = fsc_i64(7);
    ck_ok(fsc_list_insert(l, e[k], &v));
    int64_t want[] = {7};
    expect_i64(l, want, 1);
    done(l);
  }
  /* Clamping as Python: -100 goes first, 100 last. */
  fsc_list *l = i64_list(base, 5);
  fsc_value a = fsc_i64(-1), b = fsc_i64(5);
  ck_ok(fsc_list_insert(l, -100, &a));
  ck_ok(fsc_list_insert(l, 100, &b));
  int64_t want[] = {-1, 0, 1, 2, 3, 4, 5};
  expect_i64(l, want, 7);
  /* A wrong type is refused and the list is unchanged. */
  fsc_value s = fsc_str("x");
  ck_fsc(fsc_list_insert(l, 0, &s), FSC_ETYPE);
  expect_i64(l, want, 7);
  done(l);
}
END_TEST

START_TEST(test_insert_front_many) {
  /* Repeated inserts at the front build the reversed sequence and grow
   * the pointer array through inserts alone. */
  fsc_list *l = open_temp(FSC_TYPE_INT64);
  const int n = 2500;
  for (int i = 0; i < n; i++) {
    fsc_value v = fsc_i64(i);
    ck_ok(fsc_list_insert(l, 0, &v));
  }
  ck_assert_uint_eq(len_of(l), (uint64_t)n);
  for (int i = 0; i < n; i++)
    ck_assert_int_eq(get_i64(l, i), n - 1 - i);
  done(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* pop / del                                                           */
/* ------------------------------------------------------------------ */

START_TEST(test_pop) {
  int64_t base[] = {0, 1, 2, 3, 4, 5};
  fsc_list *l = i64_list(base, 6);
  fsc_value v;
  ck_ok(fsc_list_pop(l, -1, &v)); /* Python's default */
  ck_assert_int_eq(v.type, FSC_TYPE_INT64);
  ck_assert_int_eq(v.u.i64, 5);
  ck_ok(fsc_list_pop(l, 0, &v));
  ck_assert_int_eq(v.u.i64, 0);
  ck_ok(fsc_list_pop(l, -2, &v)); /* [1,2,3,4] -> 3 */
  ck_assert_int_eq(v.u.i64, 3);
  ck_ok(fsc_list_pop(l, 1, NULL)); /* out may be NULL: [1,2,4] -> 2 */
  int64_t want[] = {1, 4};
  expect_i64(l, want, 2);
  /* Out of range. */
  int64_t bad[] = {2, 3, -3, 100, INT64_MAX, INT64_MIN};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    ck_fsc(fsc_list_pop(l, bad[k], &v), FSC_EINDEX);
    ck_assert_str_eq(fsc_errmsg(), "pop index out of range");
  }
  expect_i64(l, want, 2);
  ck_ok(fsc_list_pop(l, -1, &v));
  ck_assert_int_eq(v.u.i64, 4);
  ck_ok(fsc_list_pop(l, -1, &v));
  ck_assert_int_eq(v.u.i64, 1);
  /* From an empty list, whatever the index. */
  int64_t any[] = {-1, 0, 1, -2, 5};
  for (size_t k = 0; k < 5; k++) {
    ck_fsc(fsc_list_pop(l, any[k], &v), FSC_EINDEX);
    ck_assert_str_eq(fsc_errmsg(), "pop from empty list");
    ck_fsc(fsc_list_pop(l, any[k], NULL), FSC_EINDEX);
  }
  ck_assert_uint_eq(len_of(l), 0);
  /* Usable again. */
  ck_ok(fsc_list_append_i64(l, 8));
  ck_ok(fsc_list_pop(l, 0, &v));
  ck_assert_int_eq(v.u.i64, 8);
  done(l);
}
END_TEST

START_TEST(test_pop_variable_size) {
  fsc_list *l = open_temp(FSC_TYPE_ANY);
  ck_ok(fsc_list_append_str(l, "first"));
  fsc_value b = fsc_bytes("\0bytes\0", 7);
  ck_ok(fsc_list_append(l, &b));
  ck_ok(fsc_list_append_str(l, "last"));
  fsc_value v;
  ck_ok(fsc_list_pop(l, 1, &v));
  ck_assert(fsc_value_equal(&v, &b));
  ck_ok(fsc_list_pop(l, -1, &v));
  ck_assert_int_eq(v.type, FSC_TYPE_STRING);
  ck_assert_uint_eq(v.u.buf.len, 4);
  ck_assert_int_eq(memcmp(v.u.buf.ptr, "last", 4), 0);
  ck_assert_uint_eq(len_of(l), 1);
  done(l);
}
END_TEST

START_TEST(test_del) {
  int64_t base[] = {0, 1, 2, 3, 4, 5};
  fsc_list *l = i64_list(base, 6);
  ck_ok(fsc_list_del(l, 0));
  ck_ok(fsc_list_del(l, -1));
  ck_ok(fsc_list_del(l, 1)); /* [1,2,3,4] -> [1,3,4] */
  ck_ok(fsc_list_del(l, -3)); /* -> [3,4] */
  int64_t want[] = {3, 4};
  expect_i64(l, want, 2);
  int64_t bad[] = {2, -3, 50, INT64_MIN, INT64_MAX};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    ck_fsc(fsc_list_del(l, bad[k]), FSC_EINDEX);
    ck_assert_str_eq(fsc_errmsg(), "list assignment index out of range");
  }
  expect_i64(l, want, 2);
  ck_ok(fsc_list_del(l, 0));
  ck_ok(fsc_list_del(l, 0));
  ck_fsc(fsc_list_del(l, 0), FSC_EINDEX);
  ck_fsc(fsc_list_del(l, -1), FSC_EINDEX);
  ck_assert_str_eq(fsc_errmsg(), "list assignment index out of range");
  ck_assert_uint_eq(len_of(l), 0);
  done(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* index / count / remove / contains                                   */
/* ------------------------------------------------------------------ */

START_TEST(test_index) {
  /*                 0  1  2  3  4  5  6 */
  int64_t base[] = {5, 7, 5, 9, 7, 5, 1};
  fsc_list *l = i64_list(base, 7);
  fsc_value five = fsc_i64(5), seven = fsc_i64(7), one = fsc_i64(1),
            none = fsc_i64(42), five32 = fsc_i32(5);
  uint64_t at = 999;
  ck_ok(fsc_list_index(l, &five, FSC_NONE, FSC_NONE, &at));
  ck_assert_uint_eq(at, 0);
  ck_ok(fsc_list_index(l, &five, 1, FSC_NONE, &at));
  ck_assert_uint_eq(at, 2);
  ck_ok(fsc_list_index(l, &five, 3, FSC_NONE, &at));
  ck_assert_uint_eq(at, 5);
  ck_ok(fsc_list_index(l, &seven, 2, 5, &at));
  ck_assert_uint_eq(at, 4);
  ck_ok(fsc_list_index(l, &five, -4, FSC_NONE, &at)); /* from 3 */
  ck_assert_uint_eq(at, 5);
  ck_ok(fsc_list_index(l, &five, -100, 1, &at)); /* clamped to 0 */
  ck_assert_uint_eq(at, 0);
  ck_ok(fsc_list_index(l, &one, 0, 100, &at));
  ck_assert_uint_eq(at, 6);
  ck_ok(fsc_list_index(l, &one, FSC_NONE, FSC_NONE, &at));
  ck_assert_uint_eq(at, 6);
  ck_ok(fsc_list_index(l, &seven, FSC_NONE, -1, &at));
  ck_assert_uint_eq(at, 1);
  /* Missing, or only outside [start, stop). */
  at = 999;
  ck_fsc(fsc_list_index(l, &none, FSC_NONE, FSC_NONE, &at), FSC_EVALUE);
  ck_assert_str_ne(fsc_errmsg(), "");
  ck_fsc(fsc_list_index(l, &seven, 5, FSC_NONE, &at), FSC_EVALUE);
  ck_fsc(fsc_list_index(l, &five, 1, 2, &at), FSC_EVALUE);
  ck_fsc(fsc_list_index(l, &one, FSC_NONE, -1, &at), FSC_EVALUE);
  ck_fsc(fsc_list_index(l, &five, 4, 2, &at), FSC_EVALUE); /* empty range */
  ck_fsc(fsc_list_index(l, &five, 7, FSC_NONE, &at), FSC_EVALUE);
  ck_fsc(fsc_list_index(l, &five, 100, FSC_NONE, &at), FSC_EVALUE);
  ck_fsc(fsc_list_index(l, &five, FSC_NONE, -100, &at), FSC_EVALUE);
  /* Equality is by type: int32 5 is not in an int64 list. */
  ck_fsc(fsc_list_index(l, &five32, FSC_NONE, FSC_NONE, &at), FSC_EVALUE);
  done(l);
  l = open_temp(FSC_TYPE_ANY);
  ck_fsc(fsc_list_index(l, &five, FSC_NONE, FSC_NONE, &at), FSC_EVALUE);
  done(l);
}
END_TEST

START_TEST(test_count_contains) {
  fsc_list *l = open_temp(FSC_TYPE_ANY);
  fsc_value vs[] = {fsc_i64(1), fsc_i32(1),    fsc_f64(1.0), fsc_i64(1),
                    fsc_str("1"), fsc_bool(true), fsc_i64(1)};
  ck_ok(fsc_list_extend(l, vs, 7));
  uint64_t c = 99;
  ck_ok(fsc_list_count(l, &vs[0], &c));
  ck_assert_uint_eq(c, 3);
  ck_ok(fsc_list_count(l, &vs[1], &c));
  ck_assert_uint_eq(c, 1);
  ck_ok(fsc_list_count(l, &vs[2], &c));
  ck_assert_uint_eq(c, 1);
  ck_ok(fsc_list_count(l, &vs[4], &c));
  ck_assert_uint_eq(c, 1);
  fsc_value missing = fsc_i64(2), f2 = fsc_f64(-0.0);
  ck_ok(fsc_list_count(l, &missing, &c));
  ck_assert_uint_eq(c, 0);
  for (int i = 0; i < 7; i++)
    ck_assert_int_eq(fsc_list_contains(l, &vs[i]), 1);
  ck_assert_int_eq(fsc_list_contains(l, &missing), 0);
  ck_assert_int_eq(fsc_list_contains(l, &f2), 0);
  done(l);
  l = open_temp(FSC_TYPE_ANY);
  ck_ok(fsc_list_count(l, &vs[0], &c));
  ck_assert_uint_eq(c, 0);
  ck_assert_int_eq(fsc_list_contains(l, &vs[0]), 0);
  done(l);
}
END_TEST

START_TEST(test_remove) {
  int64_t base[] = {3, 1, 3, 2, 3};
  fsc_list *l = i64_list(base, 5);
  fsc_value three = fsc_i64(3), two = fsc_i64(2), nine = fsc_i64(9);
  ck_ok(fsc_list_remove(l, &three)); /* the first occurrence */
  int64_t w1[] = {1, 3, 2, 3};
  expect_i64(l, w1, 4);
  ck_ok(fsc_list_remove(l, &two));
  int64_t w2[] = {1, 3, 3};
  expect_i64(l, w2, 3);
  ck_fsc(fsc_list_remove(l, &nine), FSC_EVALUE);
  ck_assert_str_eq(fsc_errmsg(), "list.remove(x): x not in list");
  fsc_value three32 = fsc_i32(3);
  ck_fsc(fsc_list_remove(l, &three32), FSC_EVALUE);
  expect_i64(l, w2, 3);
  ck_ok(fsc_list_remove(l, &three));
  ck_ok(fsc_list_remove(l, &three));
  ck_fsc(fsc_list_remove(l, &three), FSC_EVALUE);
  int64_t w3[] = {1};
  expect_i64(l, w3, 1);
  done(l);
  l = open_temp(FSC_TYPE_ANY);
  ck_fsc(fsc_list_remove(l, &three), FSC_EVALUE);
  done(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* reverse                                                             */
/* ------------------------------------------------------------------ */

START_TEST(test_reverse) {
  for (size_t n = 0; n <= 9; n++) {
    int64_t base[9], want[9];
    for (size_t i = 0; i < n; i++) {
      base[i] = (int64_t)(i * 10);
      want[n - 1 - i] = base[i];
    }
    fsc_list *l = i64_list(base, n);
    ck_ok(fsc_list_reverse(l));
    expect_i64(l, want, n);
    ck_ok(fsc_list_reverse(l)); /* twice: back to the start */
    expect_i64(l, base, n);
    done(l);
  }
}
END_TEST

/* ------------------------------------------------------------------ */
/* sort                                                                */
/* ------------------------------------------------------------------ */

static void expect_values(fsc_list *l, const fsc_value *want, size_t n) {
  ck_assert_uint_eq(len_of(l), n);
  for (size_t i = 0; i < n; i++) {
    fsc_value g;
    ck_ok(fsc_list_get(l, (int64_t)i, &g));
    ck_assert_msg(fsc_value_equal(&g, &want[i]), "position %zu differs (%s)",
                  i, fsc_type_name(g.type));
  }
}

START_TEST(test_sort_stable) {
  /* int32 1, int64 1, float 1.0 and true compare equal by value but are
   * different values: a stable sort keeps their order. */
  fsc_value in[] = {fsc_i64(2),  fsc_i32(1),   fsc_f64(1.0), fsc_i64(0),
                    fsc_i64(1),  fsc_bool(true), fsc_f64(0.5), fsc_i32(0),
                    fsc_f64(-0.0)};
  fsc_list *l = open_temp(FSC_TYPE_ANY);
  ck_ok(fsc_list_extend(l, in, 9));
  ck_ok(fsc_list_sort(l, false));
  fsc_value asc[] = {in[3], in[7], in[8], in[6], in[1],
                     in[2], in[4], in[5], in[0]};
  expect_values(l, asc, 9);
  done(l);
  /* reverse=True: descending, equal elements in their original order. */
  l = open_temp(FSC_TYPE_ANY);
  ck_ok(fsc_list_extend(l, in, 9));
  ck_ok(fsc_list_sort(l, true));
  fsc_value desc[] = {in[0], in[1], in[2], in[4], in[5],
                      in[6], in[3], in[7], in[8]};
  expect_values(l, desc, 9);
  done(l);
}
END_TEST

/* A stable sort of many keys with many ties: int64 k and float k are
 * equal keys with distinguishable values. */
static int cmp_stable(const void *a, const void *b) {
  const int64_t *x = a, *y = b; /* {key, original position} */
  if (x[0] != y[0])
    return x[0] < y[0] ? -1 : 1;
  return x[1] < y[1] ? -1 : x[1] > y[1];
}
static int cmp_stable_desc(const void *a, const void *b) {
  const int64_t *x = a, *y = b;
  if (x[0] != y[0])
    return x[0] > y[0] ? -1 : 1;
  return x[1] < y[1] ? -1 : x[1] > y[1];
}

START_TEST(test_sort_stable_large) {
  enum { N = 5000 };
  static int64_t pairs[N][2];
  static fsc_value vals[N];
  srand(12345);
  for (int rev = 0; rev < 2; rev++) {
    fsc_list *l = open_temp(FSC_TYPE_ANY);
    for (int i = 0; i < N; i++) {
      int64_t k = rand() % 50 - 25;
      pairs[i][0] = k;
      pairs[i][1] = i;
      vals[i] = (rand() & 1) ? fsc_i64(k) : fsc_f64((double)k);
    }
    ck_ok(fsc_list_extend(l, vals, N));
    ck_ok(fsc_list_sort(l, rev != 0));
    qsort(pairs, N, sizeof pairs[0], rev ? cmp_stable_desc : cmp_stable);
    for (int i = 0; i < N; i++) {
      fsc_value g;
      ck_ok(fsc_list_get(l, i, &g));
      ck_assert_msg(fsc_value_equal(&g, &vals[pairs[i][1]]),
                    "reverse=%d position %d", rev, i);
    }
    done(l);
  }
}
END_TEST

START_TEST(test_sort_strings_by_code_point) {
  const char *in[] = {"b",
                      "a",
                      "\xc3\xa9",         /* U+00E9 */
                      "z",
                      "\xe2\x82\xac",     /* U+20AC */
                      "\xf0\x9f\x98\x80", /* U+1F600 */
                      "A",
                      "",
                      "ab",
                      "\xef\xbf\xbd", /* U+FFFD */
                      "a"};
  const char *want[] = {"",
                        "A",
                        "a",
                        "a",
                        "ab",
                        "b",
                        "z",
                        "\xc3\xa9",
                        "\xe2\x82\xac",
                        "\xef\xbf\xbd",
                        "\xf0\x9f\x98\x80"};
  size_t n = sizeof in / sizeof in[0];
  for (int t = 0; t < 2; t++) {
    fsc_list *l = open_temp(t ? FSC_TYPE_ANY : FSC_TYPE_STRING);
    for (size_t i = 0; i < n; i++)
      ck_ok(fsc_list_append_str(l, in[i]));
    ck_ok(fsc_list_sort(l, false));
    for (size_t i = 0; i < n; i++) {
      const char *p;
      size_t len;
      ck_ok(fsc_list_get_str(l, (int64_t)i, &p, &len));
      ck_assert_msg(len == strlen(want[i]) && memcmp(p, want[i], len) == 0,
                    "position %zu", i);
    }
    ck_ok(fsc_list_sort(l, true));
    for (size_t i = 0; i < n; i++) {
      const char *p;
      size_t len;
      ck_ok(fsc_list_get_str(l, (int64_t)i, &p, &len));
      const char *w = want[n - 1 - i];
      ck_assert_msg(len == strlen(w) && memcmp(p, w, len) == 0,
                    "reverse position %zu", i);
    }
    done(l);
  }
}
END_TEST

START_TEST(test_sort_bytes_lexicographic) {
  struct {
    const char *p;
    size_t n;
  } in[] = {{"\xff", 1}, {"\x00", 1}, {"\x00\x00", 2}, {"", 0},
            {"\x7f", 1}, {"\x80", 1}, {"a", 1},        {"\x00\x01", 2},
            {"ab", 2},   {"\xff\x00", 2}};
  int order[] = {3, 1, 2, 7, 6, 8, 4, 5, 0, 9};
  size_t n = sizeof in / sizeof in[0];
  fsc_list *l = open_temp(FSC_TYPE_BYTES);
  fsc_value vals[10];
  for (size_t i = 0; i < n; i++) {
    vals[i] = fsc_bytes(in[i].p, in[i].n);
    ck_ok(fsc_list_append(l, &vals[i]));
  }
  ck_ok(fsc_list_sort(l, false));
  for (size_t i = 0; i < n; i++) {
    fsc_value g;
    ck_ok(fsc_list_get(l, (int64_t)i, &g));
    ck_assert_msg(fsc_value_equal(&g, &vals[order[i]]), "position %zu", i);
  }
  done(l);
}
END_TEST

START_TEST(test_sort_small_and_numbers) {
  fsc_list *l = open_temp(FSC_TYPE_ANY);
  ck_ok(fsc_list_sort(l, false)); /* empty */
  ck_ok(fsc_list_sort(l, true));
  ck_assert_uint_eq(len_of(l), 0);
  ck_ok(fsc_list_append_i64(l, 5));
  ck_ok(fsc_list_sort(l, false)); /* one */
  ck_assert_int_eq(get_i64(l, 0), 5);
  done(l);
  /* int64 extremes and floats. */
  int64_t in[] = {0, INT64_MAX, -3, INT64_MIN, 17, -3, 2};
  l = i64_list(in, 7);
  ck_ok(fsc_list_sort(l, false));
  int64_t want[] = {INT64_MIN, -3, -3, 0, 2, 17, INT64_MAX};
  expect_i64(l, want, 7);
  ck_ok(fsc_list_sort(l, true));
  int64_t rwant[] = {INT64_MAX, 17, 2, 0, -3, -3, INT64_MIN};
  expect_i64(l, rwant, 7);
  done(l);
  l = open_temp(FSC_TYPE_FLOAT);
  double fin[] = {2.5, -INFINITY, 0.0, 1e-300, INFINITY, -1.5};
  for (int i = 0; i < 6; i++)
    ck_ok(fsc_list_append_f64(l, fin[i]));
  ck_ok(fsc_list_sort(l, false));
  double fw[] = {-INFINITY, -1.5, 0.0, 1e-300, 2.5, INFINITY};
  for (int i = 0; i < 6; i++) {
    double d;
    ck_ok(fsc_list_get_f64(l, i, &d));
    ck_assert(d == fw[i]);
  }
  done(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* clear / equal                                                       */
/* ------------------------------------------------------------------ */

START_TEST(test_clear) {
  int64_t base[] = {1, 2, 3};
  fsc_list *l = i64_list(base, 3);
  ck_ok(fsc_list_clear(l));
  ck_assert_uint_eq(len_of(l), 0);
  fsc_value v;
  ck_fsc(fsc_list_get(l, 0, &v), FSC_EINDEX);
  fsc_metrics m;
  memset(&m, 0, sizeof m);
  ck_ok(fsc_list_metrics(l, &m));
  ck_assert_uint_eq(m.length, 0);
  ck_assert_uint_eq(m.live_bytes, 0);
  ck_assert_uint_gt(m.dead_bytes, 0);
  ck_ok(fsc_list_clear(l)); /* clear of an empty list */
  ck_ok(fsc_list_append_i64(l, 4));
  int64_t want[] = {4};
  expect_i64(l, want, 1);
  done(l);
}
END_TEST

START_TEST(test_equal) {
  int64_t a[] = {1, 2, 3};
  fsc_list *x = i64_list(a, 3), *y = i64_list(a, 3);
  ck_assert_int_eq(fsc_list_equal(x, y), 1);
  ck_assert_int_eq(fsc_list_equal(y, x), 1);
  ck_assert_int_eq(fsc_list_equal(x, x), 1);
  ck_ok(fsc_list_set_i64(y, 2, 4));
  ck_assert_int_eq(fsc_list_equal(x, y), 0);
  ck_ok(fsc_list_set_i64(y, 2, 3));
  ck_assert_int_eq(fsc_list_equal(x, y), 1);
  ck_ok(fsc_list_append_i64(y, 4));
  ck_assert_int_eq(fsc_list_equal(x, y), 0);
  ck_assert_int_eq(fsc_list_equal(y, x), 0);
  ck_ok(fsc_list_pop(y, -1, NULL));
  ck_ok(fsc_list_reverse(y));
  ck_assert_int_eq(fsc_list_equal(x, y), 0); /* order matters */
  /* An ANY list with the same int64 values is equal; int32s are not. */
  fsc_list *z = open_temp(FSC_TYPE_ANY);
  for (int i = 0; i < 3; i++)
    ck_ok(fsc_list_append_i64(z, a[i]));
  ck_assert_int_eq(fsc_list_equal(x, z), 1);
  fsc_value one32 = fsc_i32(1);
  ck_ok(fsc_list_set(z, 0, &one32));
  ck_assert_int_eq(fsc_list_equal(x, z), 0);
  done(z);
  /* Empty lists are equal. */
  fsc_list *e1 = open_temp(FSC_TYPE_ANY), *e2 = open_temp(FSC_TYPE_STRING);
  ck_assert_int_eq(fsc_list_equal(e1, e2), 1);
  ck_assert_int_eq(fsc_list_equal(e1, x), 0);
  done(e1);
  done(e2);
  done(x);
  done(y);
}
END_TEST

/* ------------------------------------------------------------------ */
/* iteration / scan                                                    */
/* ------------------------------------------------------------------ */

START_TEST(test_iteration) {
  int64_t a[] = {4, 5, 6};
  fsc_list *l = i64_list(a, 3);
  fsc_list_iter it;
  ck_ok(fsc_list_iter_init(l, &it));
  fsc_value v;
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(fsc_list_iter_next(&it, &v), 1);
    ck_assert_int_eq(v.u.i64, a[i]);
  }
  ck_assert_int_eq(fsc_list_iter_next(&it, &v), 0);
  ck_assert_int_eq(fsc_list_iter_next(&it, &v), 0); /* stays at the end */
  /* An element appended after the end was reached is seen next. */
  ck_ok(fsc_list_append_i64(l, 7));
  ck_assert_int_eq(fsc_list_iter_next(&it, &v), 1);
  ck_assert_int_eq(v.u.i64, 7);
  ck_assert_int_eq(fsc_list_iter_next(&it, &v), 0);
  /* Python-like shifting: popping an element before the position moves
   * what is seen next. */
  ck_ok(fsc_list_iter_init(l, &it)); /* [4,5,6,7] */
  ck_assert_int_eq(fsc_list_iter_next(&it, &v), 1); /* 4 */
  ck_assert_int_eq(fsc_list_iter_next(&it, &v), 1); /* 5 */
  ck_ok(fsc_list_pop(l, 0, NULL));                  /* [5,6,7] */
  ck_assert_int_eq(fsc_list_iter_next(&it, &v), 1);
  ck_assert_int_eq(v.u.i64, 7);
  ck_assert_int_eq(fsc_list_iter_next(&it, &v), 0);
  done(l);
  /* Empty list: 0 at once. */
  l = open_temp(FSC_TYPE_ANY);
  ck_ok(fsc_list_iter_init(l, &it));
  ck_assert_int_eq(fsc_list_iter_next(&it, &v), 0);
  done(l);
  /* Iterating a large list sees every element in order. */
  l = open_temp(FSC_TYPE_INT64);
  for (int i = 0; i < 5000; i++)
    ck_ok(fsc_list_append_i64(l, i * 3));
  ck_ok(fsc_list_iter_init(l, &it));
  int64_t k = 0;
  int rc;
  while ((rc = fsc_list_iter_next(&it, &v)) == 1) {
    ck_assert_int_eq(v.u.i64, k * 3);
    k++;
  }
  ck_assert_int_eq(rc, 0);
  ck_assert_int_eq(k, 5000);
  done(l);
}
END_TEST

struct scan_ctx {
  int preds, emits;
  int stop_pred_at, stop_emit_at;
  uint64_t idx[64];
  int64_t vals[64];
};

static int pred_even(const fsc_value *v, void *p) {
  struct scan_ctx *c = p;
  c->preds++;
  if (c->stop_pred_at && c->preds == c->stop_pred_at)
    return -5;
  return v->type == FSC_TYPE_INT64 && v->u.i64 % 2 == 0;
}

static int emit_collect(uint64_t index, const fsc_value *v, void *p) {
  struct scan_ctx *c = p;
  if (c->emits < 64) {
    c->idx[c->emits] = index;
    c->vals[c->emits] = v->u.i64;
  }
  c->emits++;
  if (c->stop_emit_at && c->emits == c->stop_emit_at)
    return -7;
  return 0;
}

START_TEST(test_scan) {
  int64_t a[] = {1, 2, 3, 4, 5, 6, 7, 8};
  fsc_list *l = i64_list(a, 8);
  struct scan_ctx c;
  memset(&c, 0, sizeof c);
  ck_ok(fsc_list_scan(l, pred_even, emit_collect, &c));
  ck_assert_int_eq(c.preds, 8);
  ck_assert_int_eq(c.emits, 4);
  for (int i = 0; i < 4; i++) {
    ck_assert_uint_eq(c.idx[i], (uint64_t)(2 * i + 1));
    ck_assert_int_eq(c.vals[i], 2 * i + 2);
  }
  /* No predicate: every element is emitted. */
  memset(&c, 0, sizeof c);
  ck_ok(fsc_list_scan(l, NULL, emit_collect, &c));
  ck_assert_int_eq(c.emits, 8);
  ck_assert_uint_eq(c.idx[7], 7);
  ck_assert_int_eq(c.vals[7], 8);
  /* No emit: the predicate still sees every element. */
  memset(&c, 0, sizeof c);
  ck_ok(fsc_list_scan(l, pred_even, NULL, &c));
  ck_assert_int_eq(c.preds, 8);
  ck_assert_int_eq(c.emits, 0);
  /* Early stop by the predicate: its value is returned. */
  memset(&c, 0, sizeof c);
  c.stop_pred_at = 3;
  ck_assert_int_eq(fsc_list_scan(l, pred_even, emit_collect, &c), -5);
  ck_assert_int_eq(c.preds, 3);
  ck_assert_int_eq(c.emits, 1); /* only element 2 */
  /* Early stop by emit. */
  memset(&c, 0, sizeof c);
  c.stop_emit_at = 2;
  ck_assert_int_eq(fsc_list_scan(l, pred_even, emit_collect, &c), -7);
  ck_assert_int_eq(c.emits, 2);
  ck_assert_int_eq(c.preds, 4); /* stopped right after element 4 */
  done(l);
  /* Empty list: no call at all. */
  l = open_temp(FSC_TYPE_ANY);
  memset(&c, 0, sizeof c);
  ck_ok(fsc_list_scan(l, pred_even, emit_collect, &c));
  ck_assert_int_eq(c.preds + c.emits, 0);
  done(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* metrics / sync                                                      */
/* ------------------------------------------------------------------ */

static fsc_metrics metrics_of(fsc_list *l) {
  fsc_metrics m;
  memset(&m, 0, sizeof m);
  m.size = sizeof m;
  ck_ok(fsc_list_metrics(l, &m));
  return m;
}

START_TEST(test_metrics) {
  struct tp t;
  tp_init(&t, "l");
  fsc_list *l;
  ck_ok(fsc_list_open(t.base, NULL, &l));
  fsc_metrics m = metrics_of(l);
  ck_assert_uint_eq(m.size, sizeof m);
  ck_assert_uint_eq(m.length, 0);
  ck_assert_uint_eq(m.live_bytes, 0);
  ck_assert_uint_eq(m.dead_bytes, 0);
  ck_assert(m.fragmentation_ratio == 0.0);
  ck_assert_uint_gt(m.data_file_bytes, 0);
  ck_assert_uint_gt(m.index_file_bytes, 0);
  ck_assert_uint_eq(m.total_disk_usage_bytes,
                    m.data_file_bytes + m.index_file_bytes);
  ck_assert(m.last_close_clean);
  ck_assert_uint_ge(m.open_processes, 1);
  ck_assert_uint_ge(m.generation, 1);
  ck_assert_uint_eq(m.repaired_items, 0);
  for (int i = 0; i < 3; i++)
    ck_assert_uint_eq(m.reserved[i], 0);
  /* The sizes are the files'. */
  struct stat st;
  ck_assert_int_eq(stat(t.data, &st), 0);
  ck_assert_uint_eq(m.data_file_bytes, (uint64_t)st.st_size);
  ck_assert_int_eq(stat(t.index, &st), 0);
  ck_assert_uint_eq(m.index_file_bytes, (uint64_t)st.st_size);

  for (int i = 0; i < 10; i++)
    ck_ok(fsc_list_append_i64(l, i));
  fsc_metrics a = metrics_of(l);
  ck_assert_uint_eq(a.length, 10);
  ck_assert_uint_gt(a.live_bytes, 0);
  ck_assert_uint_eq(a.live_bytes % 10, 0); /* ten records of one size */
  ck_assert_uint_eq(a.dead_bytes, 0);
  ck_assert(a.fragmentation_ratio == 0.0);
  uint64_t rec = a.live_bytes / 10;
  ck_assert_uint_ge(rec, 8);

  /* set: the old record is dead, the new one live. */
  ck_ok(fsc_list_set_i64(l, 3, 33));
  fsc_metrics b = metrics_of(l);
  ck_assert_uint_eq(b.length, 10);
  ck_assert_uint_eq(b.live_bytes, a.live_bytes);
  ck_assert_uint_eq(b.dead_bytes, rec);
  ck_assert(fabs(b.fragmentation_ratio -
                 (double)rec / (double)(rec + b.live_bytes)) < 1e-12);
  /* pop: its record moves from live to dead. */
  ck_ok(fsc_list_pop(l, -1, NULL));
  ck_ok(fsc_list_pop(l, 0, NULL));
  fsc_metrics c = metrics_of(l);
  ck_assert_uint_eq(c.length, 8);
  ck_assert_uint_eq(c.live_bytes, b.live_bytes - 2 * rec);
  ck_assert_uint_eq(c.dead_bytes, b.dead_bytes + 2 * rec);
  ck_assert(fabs(c.fragmentation_ratio -
                 (double)c.dead_bytes /
                     (double)(c.dead_bytes + c.live_bytes)) < 1e-12);
  ck_assert(c.fragmentation_ratio > b.fragmentation_ratio);
  /* del and remove too. */
  ck_ok(fsc_list_del(l, 0));
  fsc_value v = fsc_i64(5);
  ck_ok(fsc_list_remove(l, &v));
  fsc_metrics d = metrics_of(l);
  ck_assert_uint_eq(d.length, 6);
  ck_assert_uint_eq(d.live_bytes, 6 * rec);
  ck_assert_uint_eq(d.dead_bytes, c.dead_bytes + 2 * rec);
  /* Structural changes bump the epoch. */
  ck_ok(fsc_list_reverse(l));
  fsc_metrics e = metrics_of(l);
  ck_assert_uint_gt(e.structural_epoch, d.structural_epoch);
  ck_assert_uint_eq(e.live_bytes, d.live_bytes); /* reverse moves nothing */
  /* Another handle on the same files is another open description. */
  fsc_list *l2;
  ck_ok(fsc_list_open(t.base, NULL, &l2));
  fsc_metrics f = metrics_of(l2);
  ck_assert_uint_ge(f.open_processes, 2);
  ck_assert_uint_eq(f.length, 6);
  ck_assert_uint_eq(f.live_bytes, e.live_bytes);
  done(l2);
  ck_ok(fsc_list_sync(l));
  /* A caller's smaller struct: only its size is written. */
  unsigned char buf[sizeof(fsc_metrics) + 16];
  memset(buf, 0xAB, sizeof buf);
  fsc_metrics *sm = (fsc_metrics *)buf;
  sm->size = offsetof(fsc_metrics, live_bytes);
  ck_ok(fsc_list_metrics(l, sm));
  ck_assert_uint_eq(sm->length, 6);
  ck_assert_uint_eq(buf[offsetof(fsc_metrics, live_bytes)], 0xAB);
  ck_assert_uint_eq(buf[sizeof(fsc_metrics)], 0xAB);
  /* size 0 means "fill what you know". */
  fsc_metrics z;
  memset(&z, 0, sizeof z);
  ck_ok(fsc_list_metrics(l, &z));
  ck_assert_uint_eq(z.length, 6);
  ck_assert_uint_gt(z.data_file_bytes, 0);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
  tp_clean(&t);
}
END_TEST

START_TEST(test_sync) {
  struct tp t;
  tp_init(&t, "l");
  fsc_list *l;
  ck_ok(fsc_list_open(t.base, NULL, &l));
  ck_ok(fsc_list_sync(l)); /* empty */
  for (int i = 0; i < 100; i++)
    ck_ok(fsc_list_append_i64(l, i));
  ck_ok(fsc_list_sync(l));
  ck_ok(fsc_list_sync(l));
  ck_assert_uint_eq(len_of(l), 100);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
  l = open_temp(FSC_TYPE_ANY);
  ck_ok(fsc_list_append_str(l, "x"));
  ck_ok(fsc_list_sync(l));
  done(l);
  tp_clean(&t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* typed shorthands                                                    */
/* ------------------------------------------------------------------ */

START_TEST(test_typed_shorthands) {
  fsc_list *l = open_temp(FSC_TYPE_ANY);
  ck_ok(fsc_list_append_i64(l, -5));
  ck_ok(fsc_list_append_f64(l, 2.75));
  ck_ok(fsc_list_append_str(l, "text"));
  fsc_value i32 = fsc_i32(3), by = fsc_bytes("text", 4);
  ck_ok(fsc_list_append(l, &i32));
  ck_ok(fsc_list_append(l, &by));
  int64_t i;
  double d;
  const char *p;
  size_t n;
  ck_ok(fsc_list_get_i64(l, 0, &i));
  ck_assert_int_eq(i, -5);
  ck_ok(fsc_list_get_f64(l, 1, &d));
  ck_assert(d == 2.75);
  ck_ok(fsc_list_get_str(l, 2, &p, &n));
  ck_assert_uint_eq(n, 4);
  ck_assert_int_eq(memcmp(p, "text", 4), 0);
  /* Another type: FSC_ETYPE, the outputs untouched. */
  i = 77;
  ck_fsc(fsc_list_get_i64(l, 2, &i), FSC_ETYPE); /* a string */
  ck_assert_str_ne(fsc_errmsg(), "");
  ck_assert_int_eq(i, 77);
  ck_fsc(fsc_list_get_i64(l, 1, &i), FSC_ETYPE); /* a float */
  ck_fsc(fsc_list_get_i64(l, 3, &i), FSC_ETYPE); /* an int32 */
  ck_fsc(fsc_list_get_f64(l, 0, &d), FSC_ETYPE); /* an int64 */
  ck_fsc(fsc_list_get_str(l, 4, &p, &n), FSC_ETYPE); /* bytes */
  ck_fsc(fsc_list_get_str(l, 0, &p, &n), FSC_ETYPE);
  ck_assert_int_eq(i, 77);
  /* Out of range. */
  ck_fsc(fsc_list_get_i64(l, 5, &i), FSC_EINDEX);
  ck_fsc(fsc_list_get_f64(l, -6, &d), FSC_EINDEX);
  ck_fsc(fsc_list_get_str(l, 5, &p, &n), FSC_EINDEX);
  /* set_i64 replaces whatever was there, in an ANY list. */
  ck_ok(fsc_list_set_i64(l, 2, 12));
  ck_ok(fsc_list_get_i64(l, 2, &i));
  ck_assert_int_eq(i, 12);
  ck_ok(fsc_list_set_i64(l, -1, 13));
  ck_ok(fsc_list_get_i64(l, 4, &i));
  ck_assert_int_eq(i, 13);
  done(l);
  /* In typed lists the shorthands are checked like any value. */
  l = open_temp(FSC_TYPE_STRING);
  ck_ok(fsc_list_append_str(l, "s"));
  ck_fsc(fsc_list_append_i64(l, 1), FSC_ETYPE);
  ck_assert_str_eq(fsc_errmsg(), "Expected string for string, got int64");
  ck_fsc(fsc_list_append_f64(l, 1.0), FSC_ETYPE);
  ck_assert_str_eq(fsc_errmsg(), "Expected string for string, got float");
  ck_fsc(fsc_list_set_i64(l, 0, 1), FSC_ETYPE);
  ck_fsc(fsc_list_append_str(l, "\xff"), FSC_ETYPE);
  ck_fsc(fsc_list_get_i64(l, 0, &i), FSC_ETYPE);
  ck_assert_uint_eq(len_of(l), 1);
  done(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* NULL arguments                                                      */
/* ------------------------------------------------------------------ */

START_TEST(test_null_arguments) {
  fsc_list *l = open_temp(FSC_TYPE_ANY);
  ck_ok(fsc_list_append_i64(l, 1));
  fsc_value v = fsc_i64(1), out;
  uint64_t u;
  size_t n;
  int64_t i;
  double d;
  const char *p;
  fsc_metrics m;
  memset(&m, 0, sizeof m);
  fsc_list_iter it;
#define NUL(call)                                                             \
  do {                                                                        \
    ck_fsc(call, FSC_EINVAL);                                                 \
    ck_assert_str_ne(fsc_errmsg(), "");                                       \
  } while (0)
  /* NULL handle. */
  NUL(fsc_list_close(NULL));
  NUL(fsc_list_destroy(NULL));
  NUL(fsc_list_type(NULL));
  NUL(fsc_list_len(NULL, &u));
  NUL(fsc_list_get(NULL, 0, &out));
  NUL(fsc_list_append(NULL, &v));
  NUL(fsc_list_extend(NULL, &v, 1));
  NUL(fsc_list_set(NULL, 0, &v));
  NUL(fsc_list_insert(NULL, 0, &v));
  NUL(fsc_list_pop(NULL, -1, &out));
  NUL(fsc_list_del(NULL, 0));
  NUL(fsc_list_index(NULL, &v, FSC_NONE, FSC_NONE, &u));
  NUL(fsc_list_count(NULL, &v, &u));
  NUL(fsc_list_remove(NULL, &v));
  NUL(fsc_list_contains(NULL, &v));
  NUL(fsc_list_reverse(NULL));
  NUL(fsc_list_sort(NULL, false));
  NUL(fsc_list_clear(NULL));
  NUL(fsc_list_equal(NULL, l));
  NUL(fsc_list_equal(l, NULL));
  NUL(fsc_list_iter_init(NULL, &it));
  NUL(fsc_list_scan(NULL, NULL, NULL, NULL));
  NUL(fsc_list_metrics(NULL, &m));
  NUL(fsc_list_sync(NULL));
  NUL(fsc_list_append_i64(NULL, 1));
  NUL(fsc_list_append_f64(NULL, 1));
  NUL(fsc_list_append_str(NULL, "x"));
  NUL(fsc_list_get_i64(NULL, 0, &i));
  NUL(fsc_list_get_f64(NULL, 0, &d));
  NUL(fsc_list_get_str(NULL, 0, &p, &n));
  NUL(fsc_list_set_i64(NULL, 0, 1));
  ck_assert_ptr_null(fsc_list_path(NULL));
  /* NULL outputs and inputs. */
  NUL(fsc_list_open(NULL, NULL, NULL));
  NUL(fsc_list_len(l, NULL));
  NUL(fsc_list_get(l, 0, NULL));
  NUL(fsc_list_append(l, NULL));
  NUL(fsc_list_set(l, 0, NULL));
  NUL(fsc_list_insert(l, 0, NULL));
  NUL(fsc_list_index(l, NULL, FSC_NONE, FSC_NONE, &u));
  NUL(fsc_list_index(l, &v, FSC_NONE, FSC_NONE, NULL));
  NUL(fsc_list_count(l, NULL, &u));
  NUL(fsc_list_count(l, &v, NULL));
  NUL(fsc_list_remove(l, NULL));
  NUL(fsc_list_contains(l, NULL));
  NUL(fsc_list_iter_init(l, NULL));
  NUL(fsc_list_iter_next(NULL, &out));
  NUL(fsc_list_metrics(l, NULL));
  NUL(fsc_list_append_str(l, NULL));
  NUL(fsc_list_get_i64(l, 0, NULL));
  NUL(fsc_list_get_f64(l, 0, NULL));
  NUL(fsc_list_get_str(l, 0, NULL, &n));
  NUL(fsc_list_get_str(l, 0, &p, NULL));
  /* An iterator that was never initialised with a list. */
  memset(&it, 0, sizeof it);
  NUL(fsc_list_iter_next(&it, &out));
#undef NUL
  /* None of that changed the list. */
  ck_assert_uint_eq(len_of(l), 1);
  ck_assert_int_eq(get_i64(l, 0), 1);
  done(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* growth / views                                                      */
/* ------------------------------------------------------------------ */

START_TEST(test_growth_100000) {
  fsc_list *l = open_temp(FSC_TYPE_INT64);
  fsc_metrics m0 = metrics_of(l);
  const int64_t N = 100000;
  for (int64_t i = 0; i < N; i++)
    ck_ok(fsc_list_append_i64(l, i * 7 - 3));
  ck_assert_uint_eq(len_of(l), (uint64_t)N);
  for (int64_t i = 0; i < N; i++) {
    int64_t v = 0;
    int rc = fsc_list_get_i64(l, i, &v);
    if (rc != 0 || v != i * 7 - 3)
      ck_abort_msg("element %lld: rc %d value %lld", (long long)i, rc,
                   (long long)v);
  }
  ck_assert_int_eq(get_i64(l, -1), (N - 1) * 7 - 3);
  fsc_metrics m1 = metrics_of(l);
  ck_assert_uint_eq(m1.length, (uint64_t)N);
  ck_assert_uint_gt(m1.index_file_bytes, m0.index_file_bytes);
  ck_assert_uint_gt(m1.data_file_bytes, m0.data_file_bytes);
  ck_assert_uint_ge(m1.index_file_bytes, (uint64_t)N * 8);
  /* Structural changes still work at that size. */
  fsc_value v = fsc_i64(-1);
  ck_ok(fsc_list_insert(l, 0, &v));
  ck_ok(fsc_list_pop(l, N / 2, NULL));
  ck_assert_int_eq(get_i64(l, 0), -1);
  ck_assert_int_eq(get_i64(l, 1), -3);
  ck_assert_uint_eq(len_of(l), (uint64_t)N);
  ck_assert_int_eq(get_i64(l, -1), (N - 1) * 7 - 3);
  /* Extend past capacity too. */
  static fsc_value batch[20000];
  for (int i = 0; i < 20000; i++)
    batch[i] = fsc_i64(i);
  ck_ok(fsc_list_extend(l, batch, 20000));
  ck_assert_uint_eq(len_of(l), (uint64_t)N + 20000);
  ck_assert_int_eq(get_i64(l, -1), 19999);
  ck_assert_int_eq(get_i64(l, N), 0);
  done(l);
}
END_TEST

START_TEST(test_view_survives_changes) {
  fsc_list *l = open_temp(FSC_TYPE_ANY);
  const char *s1 = "the first string value, long enough to matter";
  const char *s2 = "a second string";
  static const unsigned char blob[] = {0, 1, 2, 3, 0xff, 0, 7};
  ck_ok(fsc_list_append_str(l, s1));
  ck_ok(fsc_list_append_str(l, s2));
  fsc_value b = fsc_bytes(blob, sizeof blob);
  ck_ok(fsc_list_append(l, &b));
  ck_ok(fsc_list_append_str(l, "fourth"));
  fsc_value v1, v2, v3, popped;
  ck_ok(fsc_list_get(l, 0, &v1));
  ck_ok(fsc_list_get(l, 1, &v2));
  ck_ok(fsc_list_get(l, 2, &v3));
  /* Pop the element a view points to; the view is still good. */
  ck_ok(fsc_list_pop(l, 0, NULL));
  ck_assert_uint_eq(v1.u.buf.len, strlen(s1));
  ck_assert_int_eq(memcmp(v1.u.buf.ptr, s1, strlen(s1)), 0);
  /* Overwrite the next one. */
  ck_ok(fsc_list_set_i64(l, 0, 5));
  ck_assert_int_eq(memcmp(v2.u.buf.ptr, s2, strlen(s2)), 0);
  /* A popped value is a view too. */
  ck_ok(fsc_list_pop(l, -1, &popped));
  ck_assert_uint_eq(popped.u.buf.len, 6);
  /* Clear, then grow the data file far past its first mapping. */
  ck_ok(fsc_list_clear(l));
  static unsigned char big[256 * 1024];
  memset(big, 0x5a, sizeof big);
  fsc_value bb = fsc_bytes(big, sizeof big);
  for (int i = 0; i < 40; i++) /* 10 MiB */
    ck_ok(fsc_list_append(l, &bb));
  fsc_value last;
  ck_ok(fsc_list_get(l, -1, &last));
  ck_assert_uint_eq(last.u.buf.len, sizeof big);
  ck_assert_int_eq(memcmp(last.u.buf.ptr, big, sizeof big), 0);
  /* Every old view is still readable and unchanged. */
  ck_assert_int_eq(memcmp(v1.u.buf.ptr, s1, strlen(s1)), 0);
  ck_assert_int_eq(memcmp(v2.u.buf.ptr, s2, strlen(s2)), 0);
  ck_assert(fsc_value_equal(&v3, &b));
  ck_assert_int_eq(memcmp(popped.u.buf.ptr, "fourth", 6), 0);
  /* And views handed out before the growth by this handle stay valid
   * after more set/pop of big values. */
  for (int i = 0; i < 10; i++)
    ck_ok(fsc_list_pop(l, 0, NULL));
  ck_assert_int_eq(memcmp(last.u.buf.ptr, big, sizeof big), 0);
  ck_assert_int_eq(memcmp(v1.u.buf.ptr, s1, strlen(s1)), 0);
  done(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Random operations against an in-memory model                        */
/* ------------------------------------------------------------------ */

/* Elements are int32 or int64 values from a small range, so there are
 * many duplicates (for remove/index/count) and many ties that compare
 * equal across types but are distinct values (for sort stability). */
struct melem {
  int is32;
  int64_t v;
};

#define MODEL_MAX 4096
static struct melem model[MODEL_MAX];
static size_t mlen;

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rnd(void) { /* xorshift64*, fixed seed */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545F4914F6CDD1Du;
}
static int64_t rnd_range(int64_t lo, int64_t hi) { /* [lo, hi] */
  return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static fsc_value mval(struct melem e) {
  return e.is32 ? fsc_i32((int32_t)e.v) : fsc_i64(e.v);
}

static struct melem rnd_elem(void) {
  struct melem e = {(int)(rnd() & 1), rnd_range(-8, 8)};
  return e;
}

static int melem_eq(struct melem a, struct melem b) {
  return a.is32 == b.is32 && a.v == b.v;
}

static void model_check(fsc_list *l, int step) {
  uint64_t n;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_msg(n == mlen, "step %d: length %llu, model %zu", step,
                (unsigned long long)n, mlen);
  for (size_t i = 0; i < mlen; i++) {
    fsc_value g, w = mval(model[i]);
    ck_ok(fsc_list_get(l, (int64_t)i, &g));
    ck_assert_msg(fsc_value_equal(&g, &w), "step %d: element %zu differs",
                  step, i);
  }
}

/* Python's index normalisation for get/set/pop/del; -1 if out of range. */
static int64_t py_index(int64_t i, size_t n) {
  if (i < 0)
    i += (int64_t)n;
  return i < 0 || (uint64_t)i >= n ? -1 : i;
}

static void model_insert(size_t at, struct melem e) {
  memmove(model + at + 1, model + at, (mlen - at) * sizeof model[0]);
  model[at] = e;
  mlen++;
}

static void model_remove_at(size_t at) {
  memmove(model + at, model + at + 1, (mlen - at - 1) * sizeof model[0]);
  mlen--;
}

static int cmp_model(const void *a, const void *b, int desc) {
  const struct melem *x = a, *y = b;
  (void)desc;
  return x->v < y->v ? -1 : x->v > y->v;
}

/* Stable sort of the model (insertion sort: the model is small). */
static void model_sort(int desc) {
  for (size_t i = 1; i < mlen; i++) {
    struct melem e = model[i];
    size_t j = i;
    while (j > 0) {
      int c = cmp_model(&model[j - 1], &e, desc);
      /* Move e before model[j-1] only if strictly out of order. */
      if (desc ? c < 0 : c > 0) {
        model[j] = model[j - 1];
        j--;
      } else {
        break;
      }
    }
    model[j] = e;
  }
}

START_TEST(test_random_ops_vs_model) {
  fsc_list *l = open_temp(FSC_TYPE_ANY);
  mlen = 0;
  rng_state = 0x9E3779B97F4A7C15u;
  const int STEPS = 4000;
  int counts[12] = {0};
  for (int step = 0; step < STEPS; step++) {
    int op = (int)(rnd() % 100);
    /* Keep the list from growing without bound. */
    if (mlen > 600 && op < 30)
      op += 40;
    int64_t n = (int64_t)mlen;
    if (op < 20) { /* append */
      struct melem e = rnd_elem();
      fsc_value v = mval(e);
      ck_ok(fsc_list_append(l, &v));
      model[mlen++] = e;
      counts[0]++;
    } else if (op < 25) { /* extend */
      size_t k = (size_t)rnd_range(0, 5);
      fsc_value vs[5];
      for (size_t j = 0; j < k; j++) {
        struct melem e = rnd_elem();
        vs[j] = mval(e);
        model[mlen++] = e;
      }
      ck_ok(fsc_list_extend(l, vs, k));
      counts[1]++;
    } else if (op < 40) { /* insert, anywhere incl. out of range */
      int64_t at = rnd_range(-n - 3, n + 3);
      struct melem e = rnd_elem();
      fsc_value v = mval(e);
      ck_ok(fsc_list_insert(l, at, &v));
      model_insert(py_insert_pos(at, mlen), e);
      counts[2]++;
    } else if (op < 52) { /* pop */
      int64_t at = (rnd() % 3 == 0) ? -1 : rnd_range(-n - 2, n + 1);
      int64_t k = py_index(at, mlen);
      fsc_value g;
      if (k < 0) {
        ck_fsc(fsc_list_pop(l, at, &g), FSC_EINDEX);
      } else {
        fsc_value w = mval(model[k]);
        ck_ok(fsc_list_pop(l, at, &g));
        ck_assert_msg(fsc_value_equal(&g, &w), "step %d: popped value",
                      step);
        model_remove_at((size_t)k);
      }
      counts[3]++;
    } else if (op < 60) { /* del */
      int64_t at = rnd_range(-n - 2, n + 1);
      int64_t k = py_index(at, mlen);
      if (k < 0) {
        ck_fsc(fsc_list_del(l, at), FSC_EINDEX);
      } else {
        ck_ok(fsc_list_del(l, at));
        model_remove_at((size_t)k);
      }
      counts[4]++;
    } else if (op < 72) { /* set */
      int64_t at = rnd_range(-n - 2, n + 1);
      int64_t k = py_index(at, mlen);
      struct melem e = rnd_elem();
      fsc_value v = mval(e);
      if (k < 0) {
        ck_fsc(fsc_list_set(l, at, &v), FSC_EINDEX);
      } else {
        ck_ok(fsc_list_set(l, at, &v));
        model[k] = e;
      }
      counts[5]++;
    } else if (op < 82) { /* remove */
      struct melem e = rnd_elem();
      fsc_value v = mval(e);
      size_t k = 0;
      while (k < mlen && !melem_eq(model[k], e))
        k++;
      if (k == mlen) {
        ck_fsc(fsc_list_remove(l, &v), FSC_EVALUE);
      } else {
        ck_ok(fsc_list_remove(l, &v));
        model_remove_at(k);
      }
      counts[6]++;
    } else if (op < 86) { /* reverse */
      ck_ok(fsc_list_reverse(l));
      for (size_t i = 0, j = mlen; i + 1 < j; i++, j--) {
        struct melem t = model[i];
        model[i] = model[j - 1];
        model[j - 1] = t;
      }
      counts[7]++;
    } else if (op < 90) { /* sort */
      int desc = (int)(rnd() & 1);
      ck_ok(fsc_list_sort(l, desc != 0));
      model_sort(desc);
      counts[8]++;
    } else if (op < 97) { /* index / count / contains */
      struct melem e = rnd_elem();
      fsc_value v = mval(e);
      int64_t start = rnd_range(-n - 2, n + 2);
      int64_t want = -1;
      size_t s = py_insert_pos(start, mlen), cnt = 0;
      for (size_t k = s; k < mlen; k++)
        if (melem_eq(model[k], e)) {
          want = (int64_t)k;
          break;
        }
      for (size_t k = 0; k < mlen; k++)
        cnt += melem_eq(model[k], e);
      uint64_t at, c;
      if (want < 0) {
        ck_fsc(fsc_list_index(l, &v, start, FSC_NONE, &at), FSC_EVALUE);
      } else {
        ck_ok(fsc_list_index(l, &v, start, FSC_NONE, &at));
        ck_assert_msg(at == (uint64_t)want, "step %d: index %llu, want %lld",
                      step, (unsigned long long)at, (long long)want);
      }
      ck_ok(fsc_list_count(l, &v, &c));
      ck_assert_msg(c == cnt, "step %d: count", step);
      ck_assert_int_eq(fsc_list_contains(l, &v), cnt > 0);
      counts[9]++;
    } else if (op < 98) { /* clear (rare) */
      ck_ok(fsc_list_clear(l));
      mlen = 0;
      counts[10]++;
    } else { /* get at random indices */
      int64_t at = rnd_range(-n - 2, n + 1);
      int64_t k = py_index(at, mlen);
      fsc_value g;
      if (k < 0) {
        ck_fsc(fsc_list_get(l, at, &g), FSC_EINDEX);
      } else {
        fsc_value w = mval(model[k]);
        ck_ok(fsc_list_get(l, at, &g));
        ck_assert(fsc_value_equal(&g, &w));
      }
      counts[11]++;
    }
    ck_assert_msg(mlen < MODEL_MAX, "model overflow");
    uint64_t len;
    ck_ok(fsc_list_len(l, &len));
    ck_assert_msg(len == mlen, "step %d (op %d): length %llu, model %zu",
                  step, op, (unsigned long long)len, mlen);
    if (step % 16 == 0)
      model_check(l, step);
  }
  model_check(l, STEPS);
  /* Every kind of operation actually ran. */
  for (int k = 0; k < 12; k++)
    ck_assert_msg(counts[k] > 0, "operation %d never ran", k);
  /* The metrics agree with the model. */
  fsc_metrics m = metrics_of(l);
  ck_assert_uint_eq(m.length, mlen);
  done(l);
}
END_TEST

/* ------------------------------------------------------------------ */

static Suite *list_suite(void) {
  Suite *s = suite_create("list");
  TCase *tc;

  tc = tcase_create("life");
  tcase_add_test(tc, test_open_create_and_reopen);
  tcase_add_test(tc, test_closed_after_close);
  tcase_add_test(tc, test_closed_after_destroy);
  tcase_add_test(tc, test_closed_temp_list);
  tcase_add_test(tc, test_close_twice_and_free);
  suite_add_tcase(s, tc);

  tc = tcase_create("open_options");
  tcase_add_test(tc, test_open_excl);
  tcase_add_test(tc, test_open_missing_without_create);
  tcase_add_test(tc, test_open_rdonly);
  tcase_add_test(tc, test_open_bad_options);
  tcase_add_test(tc, test_open_old_options_size);
  tcase_add_test(tc, test_open_type_mismatch);
  tcase_add_test(tc, test_open_every_element_type);
  tcase_add_test(tc, test_open_durability_modes);
  suite_add_tcase(s, tc);

  tc = tcase_create("files");
  tcase_add_test(tc, test_temp_list_leaves_nothing);
  tcase_add_test(tc, test_temp_list_bad_tmpdir);
  tcase_add_test(tc, test_file_modes);
  tcase_add_test(tc, test_symlink_refused);
  tcase_add_test(tc, test_non_regular_file_refused);
  suite_add_tcase(s, tc);

  tc = tcase_create("access");
  tcase_add_test(tc, test_get_set_indices);
  tcase_add_test(tc, test_set_changes_type_in_any_list);
  tcase_add_test(tc, test_append_and_extend);
  suite_add_tcase(s, tc);

  tc = tcase_create("insert_pop_del");
  tcase_set_timeout(tc, 15);
  tcase_add_test(tc, test_insert_every_position);
  tcase_add_test(tc, test_insert_front_many);
  tcase_add_test(tc, test_pop);
  tcase_add_test(tc, test_pop_variable_size);
  tcase_add_test(tc, test_del);
  suite_add_tcase(s, tc);

  tc = tcase_create("search");
  tcase_add_test(tc, test_index);
  tcase_add_test(tc, test_count_contains);
  tcase_add_test(tc, test_remove);
  suite_add_tcase(s, tc);

  tc = tcase_create("reorder");
  tcase_set_timeout(tc, 15);
  tcase_add_test(tc, test_reverse);
  tcase_add_test(tc, test_sort_stable);
  tcase_add_test(tc, test_sort_stable_large);
  tcase_add_test(tc, test_sort_strings_by_code_point);
  tcase_add_test(tc, test_sort_bytes_lexicographic);
  tcase_add_test(tc, test_sort_small_and_numbers);
  tcase_add_test(tc, test_clear);
  tcase_add_test(tc, test_equal);
  suite_add_tcase(s, tc);

  tc = tcase_create("iteration");
  tcase_add_test(tc, test_iteration);
  tcase_add_test(tc, test_scan);
  suite_add_tcase(s, tc);

  tc = tcase_create("metrics");
  tcase_add_test(tc, test_metrics);
  tcase_add_test(tc, test_sync);
  suite_add_tcase(s, tc);

  tc = tcase_create("shorthands_and_nulls");
  tcase_add_test(tc, test_typed_shorthands);
  tcase_add_test(tc, test_null_arguments);
  suite_add_tcase(s, tc);

  tc = tcase_create("growth_and_views");
  tcase_set_timeout(tc, 25);
  tcase_add_test(tc, test_growth_100000);
  tcase_add_test(tc, test_view_survives_changes);
  suite_add_tcase(s, tc);

  tc = tcase_create("model");
  tcase_set_timeout(tc, 25);
  tcase_add_test(tc, test_random_ops_vs_model);
  suite_add_tcase(s, tc);

  return s;
}

int main(void) {
  Suite *s = list_suite();
  return tc_run(s);
}
