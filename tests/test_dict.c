/*
 * test_dict.c - the fsc_dict API against include/fscollections.h and
 * Python's dict semantics: open/close/kind/type rules, key types, value
 * typing, every operation and its error paths, insertion order (an update
 * keeps a key's place, del + set moves it to the end, popitem takes the
 * newest), scan, metrics, typed shorthands, growth, a randomized comparison
 * with an in-memory model that keeps insertion order, round trips of every
 * value type, temporary dicts and a 1,000,000-key persistence round trip.
 *
 * Check's ck_assert_* record a mark point (a write to a pipe) on success,
 * so the loops over hundreds of thousands of keys use the FAST_* macros
 * below, which only call into Check on failure.
 */
#include "check_common.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <pthread.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

#define K(s) (s), strlen(s)

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

/* A deterministic PRNG (xorshift64*), so failures reproduce. */
static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s ? s : 0x9E3779B97F4A7C15u; }
static uint64_t rng(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * UINT64_C(2685821657736338717);
}
static unsigned rng_below(unsigned n) { return (unsigned)(rng() % n); }

static fsc_dict *dopen_opts(const char *path, fsc_type type, fsc_type ktype,
                            unsigned flags) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = type;
  o.key_type = ktype;
  o.flags = flags;
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(path, &o, &d));
  ck_assert_ptr_nonnull(d);
  return d;
}

static fsc_dict *dopen(const char *path, fsc_type type) {
  return dopen_opts(path, type, FSC_TYPE_UNSPEC, FSC_CREATE);
}

static int try_open(const char *path, fsc_type type, fsc_type ktype,
                    unsigned flags, fsc_dict **out) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = type;
  o.key_type = ktype;
  o.flags = flags;
  return fsc_dict_open(path, &o, out);
}

static bool file_exists(const char *base, const char *suffix) {
  char p[700];
  struct stat st;
  snprintf(p, sizeof p, "%s%s", base, suffix);
  return stat(p, &st) == 0;
}

/* Equality of two values written independently of the library. */
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

static bool buf_is(const fsc_value *v, const void *p, size_t n) {
  return v->u.buf.len == n && (n == 0 || memcmp(v->u.buf.ptr, p, n) == 0);
}

static int64_t get_i64(fsc_dict *d, const char *key) {
  fsc_value v;
  ck_ok(fsc_dict_get(d, K(key), &v));
  ck_assert_int_eq(v.type, FSC_TYPE_INT64);
  return v.u.i64;
}

static uint64_t dlen(fsc_dict *d) {
  uint64_t n = UINT64_MAX;
  ck_ok(fsc_dict_len(d, &n));
  return n;
}

/* Assert the dict's iteration yields exactly these keys, in this order. */
static void ck_keys(fsc_dict *d, const char *const *keys, size_t n) {
  fsc_dict_iter it;
  fsc_value k;
  ck_ok(fsc_dict_iter_init(d, &it));
  size_t i = 0;
  int rc;
  while ((rc = fsc_dict_iter_next(&it, &k, NULL)) == 1) {
    ck_assert_msg(i < n, "iteration yields more than %zu keys (extra '%.*s')",
                  n, (int)k.u.buf.len, (const char *)k.u.buf.ptr);
    ck_assert_msg(buf_is(&k, keys[i], strlen(keys[i])),
                  "key %zu is '%.*s', want '%s'", i, (int)k.u.buf.len,
                  (const char *)k.u.buf.ptr, keys[i]);
    i++;
  }
  ck_fsc(rc, 0);
  ck_assert_msg(i == n, "iteration yields %zu keys, want %zu", i, n);
  ck_assert_uint_eq(dlen(d), n);
}

static void ck_closed(int rc) {
  ck_assert_msg(rc == FSC_ECLOSED, "returned %d (%s), want FSC_ECLOSED", rc,
                fsc_strerror(rc));
  ck_assert_msg(strstr(fsc_errmsg(), "I/O operation on closed file") != NULL,
                "errmsg '%s'", fsc_errmsg());
}

static fsc_value NOVAL;

/* ------------------------------------------------------------------ */
/* Open, close, destroy, free, kinds, options                          */
/* ------------------------------------------------------------------ */

START_TEST(test_open_close_reopen) {
  const char *p = tc_path("d");
  char path[600];
  snprintf(path, sizeof path, "%s", p);
  fsc_dict *d = dopen(path, FSC_TYPE_UNSPEC);
  ck_assert_str_eq(fsc_dict_path(d), path);
  ck_assert_int_eq(fsc_dict_type(d), FSC_TYPE_ANY);
  ck_assert_int_eq(fsc_dict_key_type(d), FSC_TYPE_STRING);
  ck_assert(file_exists(path, ".data.fscollection"));
  ck_assert(file_exists(path, ".index.fscollection"));
  ck_assert_uint_eq(dlen(d), 0);
  ck_ok(fsc_dict_set_str(d, "a", "alpha"));
  ck_ok(fsc_dict_set_i64(d, "b", 42));
  ck_ok(fsc_dict_close(d));
  ck_closed(fsc_dict_close(d)); /* closing twice */
  fsc_dict_free(d);
  fsc_dict_free(NULL); /* no-op */

  d = dopen(path, FSC_TYPE_UNSPEC);
  ck_assert_uint_eq(dlen(d), 2);
  ck_assert_int_eq(get_i64(d, "b"), 42);
  const char *s;
  size_t n;
  ck_ok(fsc_dict_get_str(d, "a", &s, &n));
  ck_assert(n == 5 && memcmp(s, "alpha", 5) == 0);
  const char *order[] = {"a", "b"};
  ck_keys(d, order, 2);
  fsc_metrics m;
  memset(&m, 0, sizeof m);
  m.size = sizeof m;
  ck_ok(fsc_dict_metrics(d, &m));
  ck_assert(m.last_close_clean);
  ck_ok(fsc_dict_sync(d));
  ck_ok(fsc_dict_destroy(d));
  ck_assert(!file_exists(path, ".data.fscollection"));
  ck_assert(!file_exists(path, ".index.fscollection"));
  fsc_dict_free(d);

  /* A destroyed dict is gone: opening without FSC_CREATE fails. */
  fsc_dict *d2 = (fsc_dict *)&d2;
  ck_fsc(try_open(path, FSC_TYPE_UNSPEC, FSC_TYPE_UNSPEC, 0, &d2), FSC_ENOENT);
  ck_assert_ptr_null(d2);
}
END_TEST

START_TEST(test_free_closes) {
  const char *path = tc_path("d");
  fsc_dict *d = dopen(path, FSC_TYPE_INT64);
  ck_ok(fsc_dict_set_i64(d, "x", 7));
  fsc_dict_free(d); /* closes, then frees */
  d = dopen(path, FSC_TYPE_UNSPEC);
  ck_assert_int_eq(fsc_dict_type(d), FSC_TYPE_INT64);
  ck_assert_int_eq(get_i64(d, "x"), 7);
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_open_errors) {
  const char *path = tc_path("d");
  fsc_dict *d = (fsc_dict *)&d;
  /* Missing without FSC_CREATE. */
  ck_fsc(try_open(path, FSC_TYPE_UNSPEC, FSC_TYPE_UNSPEC, 0, &d), FSC_ENOENT);
  ck_assert_ptr_null(d);
  ck_assert(!file_exists(path, ".data.fscollection"));
  /* FSC_EXCL on an existing dict. */
  d = dopen(path, FSC_TYPE_INT64);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  d = (fsc_dict *)&d;
  ck_fsc(try_open(path, FSC_TYPE_UNSPEC, FSC_TYPE_UNSPEC,
                  FSC_CREATE | FSC_EXCL, &d),
         FSC_EINVAL);
  ck_assert_ptr_null(d);
  /* Another element type than the file's. */
  d = (fsc_dict *)&d;
  ck_fsc(try_open(path, FSC_TYPE_FLOAT, FSC_TYPE_UNSPEC, FSC_CREATE, &d),
         FSC_ETYPE);
  ck_assert_ptr_null(d);
  /* UNSPEC takes the file's type; the same type is fine. */
  d = dopen(path, FSC_TYPE_INT64);
  ck_assert_int_eq(fsc_dict_type(d), FSC_TYPE_INT64);
  fsc_dict_free(d);
  /* NULL out. */
  ck_assert_int_lt(fsc_dict_open(path, NULL, NULL), 0);
  /* An invalid key type is a bad option. */
  d = (fsc_dict *)&d;
  int rc = try_open(tc_path("k"), FSC_TYPE_UNSPEC, FSC_TYPE_INT64, FSC_CREATE,
                    &d);
  ck_assert_msg(rc == FSC_EINVAL || rc == FSC_ETYPE,
                "key_type int64 gave %d (%s)", rc, fsc_strerror(rc));
  ck_assert_ptr_null(d);
  /* NULL options mean FSC_OPTIONS_INIT (create, ANY, string keys). */
  const char *p2 = tc_path("n");
  ck_ok(fsc_dict_open(p2, NULL, &d));
  ck_assert_int_eq(fsc_dict_type(d), FSC_TYPE_ANY);
  ck_assert_int_eq(fsc_dict_key_type(d), FSC_TYPE_STRING);
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_closed_calls) {
  fsc_dict *d = dopen(tc_path("d"), FSC_TYPE_ANY);
  fsc_dict *src = dopen(tc_path("s"), FSC_TYPE_ANY);
  ck_ok(fsc_dict_set_i64(d, "a", 1));
  ck_ok(fsc_dict_close(d));
  fsc_value v = fsc_i64(1), out;
  int64_t i;
  uint64_t n;
  fsc_dict_pair pr = {"a", 1, fsc_i64(2)};
  ck_closed(fsc_dict_len(d, &n));
  ck_closed(fsc_dict_get(d, K("a"), &out));
  ck_closed(fsc_dict_get_default(d, K("a"), &v, &out));
  ck_closed(fsc_dict_contains(d, K("a")));
  ck_closed(fsc_dict_set(d, K("a"), &v));
  ck_closed(fsc_dict_del(d, K("a")));
  ck_closed(fsc_dict_pop(d, K("a"), NULL, &out));
  ck_closed(fsc_dict_popitem(d, NULL, NULL));
  ck_closed(fsc_dict_setdefault(d, K("a"), &v, &out));
  ck_closed(fsc_dict_incr(d, K("a"), 1, &i));
  ck_closed(fsc_dict_update(d, src));
  ck_closed(fsc_dict_update_pairs(d, &pr, 1));
  ck_closed(fsc_dict_clear(d));
  ck_closed(fsc_dict_equal(d, src));
  ck_closed(fsc_dict_scan(d, NULL, NULL, NULL));
  fsc_metrics m = {.size = sizeof m};
  ck_closed(fsc_dict_metrics(d, &m));
  ck_closed(fsc_dict_sync(d));
  ck_closed(fsc_dict_set_str(d, "a", "x"));
  ck_closed(fsc_dict_set_i64(d, "a", 1));
  ck_closed(fsc_dict_set_f64(d, "a", 1.0));
  ck_closed(fsc_dict_get_i64(d, "a", &i));
  ck_closed(fsc_dict_del_str(d, "a"));
  ck_assert_int_lt(fsc_dict_type(d), 0);
  ck_assert_int_lt(fsc_dict_key_type(d), 0);
  fsc_dict_iter it;
  int rc = fsc_dict_iter_init(d, &it);
  if (rc == 0)
    rc = fsc_dict_iter_next(&it, &out, NULL);
  ck_closed(rc);
  /* A closed dict as the *other* argument. */
  ck_closed(fsc_dict_update(src, d));
  ck_closed(fsc_dict_equal(src, d));
  ck_assert_str_eq(fsc_strerror(FSC_ECLOSED), "I/O operation on closed file.");
  fsc_dict_free(d);
  fsc_dict_free(src);
}
END_TEST

START_TEST(test_kind) {
  char dp[600], lp[600], sp[600];
  snprintf(dp, sizeof dp, "%s", tc_path("dict"));
  snprintf(lp, sizeof lp, "%s", tc_path("list"));
  snprintf(sp, sizeof sp, "%s", tc_path("set"));
  fsc_dict *d = dopen(dp, FSC_TYPE_ANY);
  ck_ok(fsc_dict_set_i64(d, "a", 1));
  fsc_dict_free(d);
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(lp, NULL, &l));
  ck_ok(fsc_list_append_i64(l, 1));
  fsc_list_free(l);
  fsc_set *s = NULL;
  ck_ok(fsc_set_open(sp, NULL, &s));
  fsc_set_free(s);

  /* A dict's files opened as a list or a set. */
  l = (fsc_list *)&l;
  ck_fsc(fsc_list_open(dp, NULL, &l), FSC_EKIND);
  ck_assert_ptr_null(l);
  s = (fsc_set *)&s;
  ck_fsc(fsc_set_open(dp, NULL, &s), FSC_EKIND);
  ck_assert_ptr_null(s);
  /* A list's and a set's files opened as a dict. */
  d = (fsc_dict *)&d;
  ck_fsc(fsc_dict_open(lp, NULL, &d), FSC_EKIND);
  ck_assert_ptr_null(d);
  d = (fsc_dict *)&d;
  ck_fsc(fsc_dict_open(sp, NULL, &d), FSC_EKIND);
  ck_assert_ptr_null(d);
  /* Nothing was damaged: the dict still opens and holds its key. */
  d = dopen(dp, FSC_TYPE_UNSPEC);
  ck_assert_int_eq(get_i64(d, "a"), 1);
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_rdonly) {
  const char *path = tc_path("d");
  fsc_dict *d = dopen(path, FSC_TYPE_INT64);
  ck_ok(fsc_dict_set_i64(d, "a", 1));
  fsc_dict_free(d);
  d = dopen_opts(path, FSC_TYPE_UNSPEC, FSC_TYPE_UNSPEC, FSC_RDONLY);
  fsc_value v = fsc_i64(2), out;
  fsc_dict_pair pr = {"b", 1, fsc_i64(2)};
  ck_assert_int_eq(get_i64(d, "a"), 1);
  ck_fsc(fsc_dict_contains(d, K("a")), 1);
  ck_fsc(fsc_dict_set(d, K("a"), &v), FSC_EROFS);
  ck_fsc(fsc_dict_set(d, K("b"), &v), FSC_EROFS);
  ck_fsc(fsc_dict_del(d, K("a")), FSC_EROFS);
  ck_fsc(fsc_dict_pop(d, K("a"), NULL, &out), FSC_EROFS);
  ck_fsc(fsc_dict_popitem(d, NULL, NULL), FSC_EROFS);
  ck_fsc(fsc_dict_setdefault(d, K("c"), &v, &out), FSC_EROFS);
  ck_fsc(fsc_dict_incr(d, K("a"), 1, NULL), FSC_EROFS);
  ck_fsc(fsc_dict_update_pairs(d, &pr, 1), FSC_EROFS);
  ck_fsc(fsc_dict_clear(d), FSC_EROFS);
  ck_fsc(fsc_dict_set_i64(d, "a", 5), FSC_EROFS);
  ck_assert_uint_eq(dlen(d), 1);
  ck_assert_int_eq(get_i64(d, "a"), 1);
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_two_handles) {
  const char *path = tc_path("d");
  fsc_dict *a = dopen(path, FSC_TYPE_ANY);
  fsc_dict *b = dopen(path, FSC_TYPE_UNSPEC);
  ck_ok(fsc_dict_set_i64(a, "x", 1));
  ck_ok(fsc_dict_set_i64(b, "y", 2));
  ck_assert_int_eq(get_i64(b, "x"), 1);
  ck_assert_int_eq(get_i64(a, "y"), 2);
  ck_ok(fsc_dict_del_str(b, "x"));
  ck_fsc(fsc_dict_contains(a, K("x")), 0);
  ck_ok(fsc_dict_set_i64(a, "x", 3));
  const char *order[] = {"y", "x"};
  ck_keys(b, order, 2);
  /* b sees a's growth of the table. */
  char key[32];
  for (int i = 0; i < 30000; i++) {
    snprintf(key, sizeof key, "g%d", i);
    FAST_OK(fsc_dict_set_i64(a, key, i));
  }
  for (int i = 0; i < 30000; i++) {
    snprintf(key, sizeof key, "g%d", i);
    int64_t got;
    FAST_OK(fsc_dict_get_i64(b, key, &got));
    FAST_ASSERT(got == i, "%s = %" PRId64, key, got);
  }
  ck_assert_uint_eq(dlen(b), 30002);
  ck_fsc(fsc_dict_equal(a, b), 1);
  fsc_dict_free(a);
  fsc_dict_free(b);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Keys                                                                */
/* ------------------------------------------------------------------ */

START_TEST(test_string_keys) {
  fsc_dict *d = dopen(tc_path("d"), FSC_TYPE_ANY);
  fsc_value v = fsc_i64(1), out;
  /* Invalid UTF-8 keys are FSC_ETYPE everywhere. */
  static const char *bad[] = {"\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80",
                              "\xf8\x88\x80\x80\x80"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    ck_fsc(fsc_dict_set(d, K(bad[i]), &v), FSC_ETYPE);
    ck_fsc(fsc_dict_get(d, K(bad[i]), &out), FSC_ETYPE);
    ck_fsc(fsc_dict_contains(d, K(bad[i])), FSC_ETYPE);
    ck_fsc(fsc_dict_del(d, K(bad[i])), FSC_ETYPE);
    ck_fsc(fsc_dict_setdefault(d, K(bad[i]), &v, &out), FSC_ETYPE);
    ck_fsc(fsc_dict_incr(d, K(bad[i]), 1, NULL), FSC_ETYPE);
  }
  ck_assert_uint_eq(dlen(d), 0);
  /* Multi-byte UTF-8 keys are fine, and the empty key is a key. */
  ck_ok(fsc_dict_set(d, K("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"), &v));
  ck_fsc(fsc_dict_contains(d, K("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80")),
         1);
  ck_fsc(fsc_dict_contains(d, "", 0), 0);
  ck_fsc(fsc_dict_get(d, "", 0, &out), FSC_EKEY);
  fsc_value e = fsc_str("empty");
  ck_ok(fsc_dict_set(d, "", 0, &e));
  ck_fsc(fsc_dict_contains(d, "", 0), 1);
  ck_ok(fsc_dict_get(d, "", 0, &out));
  ck_assert(veq(&out, &e));
  ck_assert_uint_eq(dlen(d), 2);
  /* A NUL byte is valid UTF-8; keys are (ptr, len), not C strings. */
  ck_ok(fsc_dict_set(d, "a\0b", 3, &v));
  ck_fsc(fsc_dict_contains(d, "a\0b", 3), 1);
  ck_fsc(fsc_dict_contains(d, "a", 1), 0);
  ck_fsc(fsc_dict_contains(d, "a\0c", 3), 0);
  /* Prefixes are different keys. */
  ck_ok(fsc_dict_set_i64(d, "abc", 3));
  ck_fsc(fsc_dict_contains(d, "ab", 2), 0);
  ck_fsc(fsc_dict_contains(d, "abcd", 4), 0);
  /* Iteration gives STRING keys. */
  fsc_dict_iter it;
  fsc_value k;
  ck_ok(fsc_dict_iter_init(d, &it));
  ck_fsc(fsc_dict_iter_next(&it, &k, NULL), 1);
  ck_assert_int_eq(k.type, FSC_TYPE_STRING);
  /* The empty key pops like any other. */
  ck_ok(fsc_dict_del(d, "", 0));
  ck_fsc(fsc_dict_contains(d, "", 0), 0);
  /* key NULL with a length is invalid. */
  ck_fsc(fsc_dict_set(d, NULL, 3, &v), FSC_EINVAL);
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_bytes_keys) {
  const char *path = tc_path("d");
  fsc_dict *d = dopen_opts(path, FSC_TYPE_INT64, FSC_TYPE_BYTES, FSC_CREATE);
  ck_assert_int_eq(fsc_dict_key_type(d), FSC_TYPE_BYTES);
  fsc_value v, out;
  static const struct {
    const char *k;
    size_t n;
  } keys[] = {{"\xff", 1},   {"\xff\xfe", 2}, {"\0", 1},  {"\0\0", 2},
              {"a", 1},      {"a\0", 2},      {"a\0b", 3}, {"a\0c", 3},
              {"\xc0\xaf", 2}, {"", 0}};
  size_t nk = sizeof keys / sizeof *keys;
  for (size_t i = 0; i < nk; i++) {
    v = fsc_i64((int64_t)i * 10);
    ck_ok(fsc_dict_set(d, keys[i].k, keys[i].n, &v));
  }
  ck_assert_uint_eq(dlen(d), nk);
  for (size_t i = 0; i < nk; i++) {
    ck_ok(fsc_dict_get(d, keys[i].k, keys[i].n, &out));
    ck_assert_int_eq(out.type, FSC_TYPE_INT64);
    ck_assert_int_eq(out.u.i64, (int64_t)i * 10);
  }
  ck_fsc(fsc_dict_contains(d, "\0\0\0", 3), 0);
  /* Iteration yields BYTES keys in insertion order. */
  fsc_dict_iter it;
  fsc_value k;
  ck_ok(fsc_dict_iter_init(d, &it));
  for (size_t i = 0; i < nk; i++) {
    ck_fsc(fsc_dict_iter_next(&it, &k, &out), 1);
    ck_assert_int_eq(k.type, FSC_TYPE_BYTES);
    ck_assert(buf_is(&k, keys[i].k, keys[i].n));
    ck_assert_int_eq(out.u.i64, (int64_t)i * 10);
  }
  ck_fsc(fsc_dict_iter_next(&it, &k, &out), 0);
  /* popitem gives a BYTES key. */
  ck_ok(fsc_dict_popitem(d, &k, &out));
  ck_assert_int_eq(k.type, FSC_TYPE_BYTES);
  ck_assert(buf_is(&k, "", 0));
  fsc_dict_free(d);

  /* Random binary keys (unique by a 4-byte prefix), across a reopen. */
  d = dopen_opts(path, FSC_TYPE_UNSPEC, FSC_TYPE_BYTES, FSC_CREATE);
  rng_seed(77);
  enum { N = 3000 };
  static uint8_t kb[N][48];
  static size_t kl[N];
  for (int i = 0; i < N; i++) {
    kl[i] = 4 + rng_below(44);
    memcpy(kb[i], &i, 4);
    for (size_t j = 4; j < kl[i]; j++)
      kb[i][j] = (uint8_t)rng();
    v = fsc_i64(i);
    FAST_OK(fsc_dict_set(d, kb[i], kl[i], &v));
  }
  fsc_dict_free(d);
  d = dopen_opts(path, FSC_TYPE_UNSPEC, FSC_TYPE_BYTES, 0);
  ck_assert_uint_eq(dlen(d), nk - 1 + N);
  for (int i = 0; i < N; i++) {
    FAST_OK(fsc_dict_get(d, kb[i], kl[i], &out));
    FAST_ASSERT(out.u.i64 == i, "key %d", i);
  }
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_key_type_mismatch) {
  char sp[600], bp[600];
  snprintf(sp, sizeof sp, "%s", tc_path("s"));
  snprintf(bp, sizeof bp, "%s", tc_path("b"));
  fsc_dict *d = dopen_opts(sp, FSC_TYPE_ANY, FSC_TYPE_STRING, FSC_CREATE);
  fsc_dict_free(d);
  d = dopen_opts(bp, FSC_TYPE_ANY, FSC_TYPE_BYTES, FSC_CREATE);
  fsc_dict_free(d);
  d = (fsc_dict *)&d;
  ck_fsc(try_open(sp, FSC_TYPE_UNSPEC, FSC_TYPE_BYTES, FSC_CREATE, &d),
         FSC_ETYPE);
  ck_assert_ptr_null(d);
  d = (fsc_dict *)&d;
  ck_fsc(try_open(bp, FSC_TYPE_UNSPEC, FSC_TYPE_STRING, FSC_CREATE, &d),
         FSC_ETYPE);
  ck_assert_ptr_null(d);
  /* UNSPEC means STRING: the string dict reopens with the defaults. */
  d = dopen(sp, FSC_TYPE_UNSPEC);
  ck_assert_int_eq(fsc_dict_key_type(d), FSC_TYPE_STRING);
  fsc_dict_free(d);
  /* The bytes dict reopens with its own key type. */
  d = dopen_opts(bp, FSC_TYPE_UNSPEC, FSC_TYPE_BYTES, 0);
  ck_assert_int_eq(fsc_dict_key_type(d), FSC_TYPE_BYTES);
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_key_too_long) {
  /* A key of FSC_KEY_MAX + 1 bytes, backed by a lazily mapped zero region
   * so that reading it is safe. */
  size_t n = (size_t)FSC_KEY_MAX + 1;
  void *p = mmap(NULL, n + 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
                                               MAP_NORESERVE, -1, 0);
  ck_assert(p != MAP_FAILED);
  fsc_dict *d = dopen_opts(tc_path("d"), FSC_TYPE_ANY, FSC_TYPE_BYTES,
                           FSC_CREATE);
  fsc_value v = fsc_i64(1);
  ck_fsc(fsc_dict_set(d, p, n, &v), FSC_EINVAL);
  ck_assert_uint_eq(dlen(d), 0);
  fsc_dict_free(d);
  munmap(p, n + 4096);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Values and typing                                                   */
/* ------------------------------------------------------------------ */

static const fsc_int128 I128 = {UINT64_C(0x0123456789abcdef),
                                INT64_C(-0x76543210fedcba98)};
static const char BYTES[] = "b\0y\0t\xff" "es";
static const char JSON[] = "{\"a\": [1, 2.5, null, \"x\"], \"b\": true}";
static const char REF[] = "ref://fscollection:list?path=/tmp/some/list";

/* One sample value of each storable type. */
static fsc_value sample(fsc_type t) {
  switch (t) {
  case FSC_TYPE_INT32:
    return fsc_i32(INT32_MIN);
  case FSC_TYPE_INT64:
    return fsc_i64(INT64_MAX);
  case FSC_TYPE_INT128:
    return fsc_i128(I128);
  case FSC_TYPE_STRING:
    return fsc_str("gr\xc3\xbc\xc3\x9f dich \xf0\x9f\x98\x80");
  case FSC_TYPE_BOOL:
    return fsc_bool(true);
  case FSC_TYPE_FLOAT:
    return fsc_f64(-2.5e-300);
  case FSC_TYPE_BYTES:
    return fsc_bytes(BYTES, sizeof BYTES - 1);
  case FSC_TYPE_JSON:
    return fsc_json(JSON, strlen(JSON));
  case FSC_TYPE_REF: {
    fsc_value v;
    v.type = FSC_TYPE_REF;
    v.u.buf.ptr = REF;
    v.u.buf.len = strlen(REF);
    return v;
  }
  default:
    ck_abort_msg("no sample for type %d", (int)t);
    return NOVAL;
  }
}

static const fsc_type ALL_TYPES[] = {
    FSC_TYPE_INT32, FSC_TYPE_INT64, FSC_TYPE_INT128, FSC_TYPE_STRING,
    FSC_TYPE_BOOL,  FSC_TYPE_FLOAT, FSC_TYPE_BYTES,  FSC_TYPE_JSON,
    FSC_TYPE_REF};
#define NTYPES (sizeof ALL_TYPES / sizeof *ALL_TYPES)

START_TEST(test_typed_values) {
  /* Each typed dict takes its type and rejects every other one, with the
   * seed's message. */
  for (size_t i = 0; i < NTYPES; i++) {
    fsc_type t = ALL_TYPES[i];
    char name[32];
    snprintf(name, sizeof name, "t%d", (int)t);
    const char *path = tc_path(name);
    char pathc[600];
    snprintf(pathc, sizeof pathc, "%s", path);
    fsc_dict *d = dopen(pathc, t);
    ck_assert_int_eq(fsc_dict_type(d), t);
    fsc_value v = sample(t), out;
    ck_ok(fsc_dict_set(d, K("k"), &v));
    for (size_t j = 0; j < NTYPES; j++) {
      fsc_type u = ALL_TYPES[j];
      if (u == t)
        continue;
      fsc_value w = sample(u);
      ck_fsc(fsc_dict_set(d, K("k"), &w), FSC_ETYPE);
      char want[128];
      snprintf(want, sizeof want, "Expected %s for %s, got %s",
               fsc_type_name(t), fsc_type_name(t), fsc_type_name(u));
      ck_assert_msg(strstr(fsc_errmsg(), want) != NULL,
                    "errmsg '%s', want '%s'", fsc_errmsg(), want);
      ck_fsc(fsc_dict_set(d, K("new"), &w), FSC_ETYPE);
      ck_fsc(fsc_dict_setdefault(d, K("new"), &w, &out), FSC_ETYPE);
    }
    ck_fsc(fsc_dict_contains(d, K("new")), 0);
    ck_assert_uint_eq(dlen(d), 1);
    fsc_dict_free(d);
    d = dopen(pathc, FSC_TYPE_UNSPEC);
    ck_assert_int_eq(fsc_dict_type(d), t);
    ck_ok(fsc_dict_get(d, K("k"), &out));
    ck_assert_msg(veq(&out, &v), "type %s does not round-trip",
                  fsc_type_name(t));
    fsc_dict_free(d);
  }
  /* The brief's example, exactly. */
  fsc_dict *d = dopen(tc_path("f"), FSC_TYPE_FLOAT);
  fsc_value s = fsc_str("x");
  ck_fsc(fsc_dict_set(d, K("k"), &s), FSC_ETYPE);
  ck_assert_msg(strstr(fsc_errmsg(), "Expected float for float, got string"),
                "errmsg '%s'", fsc_errmsg());
  ck_fsc(fsc_dict_set_str(d, "k", "x"), FSC_ETYPE);
  ck_fsc(fsc_dict_set_i64(d, "k", 1), FSC_ETYPE);
  ck_ok(fsc_dict_set_f64(d, "k", 1.5));
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_invalid_values) {
  fsc_dict *d = dopen(tc_path("d"), FSC_TYPE_ANY);
  fsc_value bad_str = fsc_strn("a\xff", 2);
  fsc_value bad_json = fsc_json("{\"a\":", 5);
  fsc_value empty_json = fsc_json("", 0);
  fsc_value bad_ref = fsc_strn("ref://nope", 10);
  bad_ref.type = FSC_TYPE_REF;
  fsc_value bad_type = fsc_i64(1);
  bad_type.type = (fsc_type)12;
  fsc_value any_type = fsc_i64(1);
  any_type.type = FSC_TYPE_ANY;
  ck_fsc(fsc_dict_set(d, K("k"), &bad_str), FSC_ETYPE);
  ck_fsc(fsc_dict_set(d, K("k"), &bad_json), FSC_ETYPE);
  ck_fsc(fsc_dict_set(d, K("k"), &empty_json), FSC_ETYPE);
  ck_fsc(fsc_dict_set(d, K("k"), &bad_ref), FSC_ETYPE);
  ck_fsc(fsc_dict_set(d, K("k"), &bad_type), FSC_ETYPE);
  ck_fsc(fsc_dict_set(d, K("k"), &any_type), FSC_ETYPE);
  ck_fsc(fsc_dict_set(d, K("k"), NULL), FSC_EINVAL);
  ck_assert_uint_eq(dlen(d), 0);
  /* An invalid value does not disturb an existing one. */
  ck_ok(fsc_dict_set_i64(d, "k", 9));
  ck_fsc(fsc_dict_set(d, K("k"), &bad_str), FSC_ETYPE);
  ck_assert_int_eq(get_i64(d, "k"), 9);
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_any_roundtrip) {
  const char *path = tc_path("d");
  char pathc[600];
  snprintf(pathc, sizeof pathc, "%s", path);
  fsc_dict *d = dopen(pathc, FSC_TYPE_ANY);
  /* Samples plus the corner values of each type. */
  fsc_int128 i128min = {0, INT64_MIN}, i128max = {UINT64_MAX, INT64_MAX};
  uint64_t nanbits = UINT64_C(0x7ff8000000000123);
  double qnan;
  memcpy(&qnan, &nanbits, 8);
  static const char nuls[] = "\0\0\0x\0";
  fsc_value vals[] = {
      fsc_i32(INT32_MIN), fsc_i32(INT32_MAX), fsc_i32(0), fsc_i32(-1),
      fsc_i64(INT64_MIN), fsc_i64(INT64_MAX), fsc_i64(0),
      fsc_i128(i128min), fsc_i128(i128max), fsc_i128(I128),
      fsc_str(""), fsc_str("plain"), sample(FSC_TYPE_STRING),
      fsc_bool(true), fsc_bool(false),
      fsc_f64(0.0), fsc_f64(-0.0), fsc_f64(INFINITY), fsc_f64(-INFINITY),
      fsc_f64(NAN), fsc_f64(qnan), fsc_f64(5e-324), fsc_f64(1.7976931348623157e308),
      fsc_bytes("", 0), fsc_bytes(nuls, sizeof nuls - 1), sample(FSC_TYPE_BYTES),
      fsc_json("null", 4), fsc_json("[]", 2), sample(FSC_TYPE_JSON),
      fsc_json("\"s\"", 3), fsc_json("1.5", 3),
      sample(FSC_TYPE_REF)};
  size_t nv = sizeof vals / sizeof *vals;
  char key[32];
  for (size_t i = 0; i < nv; i++) {
    snprintf(key, sizeof key, "v%zu", i);
    ck_ok(fsc_dict_set(d, K(key), &vals[i]));
  }
  for (int pass = 0; pass < 2; pass++) {
    ck_assert_uint_eq(dlen(d), nv);
    for (size_t i = 0; i < nv; i++) {
      fsc_value out;
      snprintf(key, sizeof key, "v%zu", i);
      ck_ok(fsc_dict_get(d, K(key), &out));
      ck_assert_msg(veq(&out, &vals[i]), "pass %d: %s (%s) differs", pass,
                    key, fsc_type_name(vals[i].type));
      ck_assert_msg(fsc_value_equal(&out, &vals[i]), "pass %d: %s", pass, key);
    }
    /* NaN keeps its bits, -0.0 its sign. */
    fsc_value out;
    snprintf(key, sizeof key, "v%d", 19);
    ck_ok(fsc_dict_get(d, K(key), &out));
    ck_assert(isnan(out.u.f));
    snprintf(key, sizeof key, "v%d", 16);
    ck_ok(fsc_dict_get(d, K(key), &out));
    ck_assert(out.u.f == 0.0 && signbit(out.u.f));
    fsc_dict_free(d);
    d = dopen(pathc, FSC_TYPE_UNSPEC);
  }
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_views_stay_valid) {
  fsc_dict *d = dopen(tc_path("d"), FSC_TYPE_STRING);
  ck_ok(fsc_dict_set_str(d, "a", "the first value"));
  fsc_value v1, v2;
  ck_ok(fsc_dict_get(d, K("a"), &v1));
  ck_ok(fsc_dict_set_str(d, "a", "the second, longer value"));
  ck_ok(fsc_dict_get(d, K("a"), &v2));
  ck_assert(buf_is(&v1, "the first value", 15));
  ck_assert(buf_is(&v2, "the second, longer value", 24));
  ck_ok(fsc_dict_del_str(d, "a"));
  ck_ok(fsc_dict_clear(d));
  for (int i = 0; i < 20000; i++) { /* growth does not move old views */
    char k[16];
    snprintf(k, sizeof k, "%d", i);
    FAST_OK(fsc_dict_set_str(d, k, "filler filler filler filler"));
  }
  ck_assert(buf_is(&v1, "the first value", 15));
  ck_assert(buf_is(&v2, "the second, longer value", 24));
  fsc_dict_free(d);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Operations                                                          */
/* ------------------------------------------------------------------ */

START_TEST(test_get_contains_default) {
  fsc_dict *d = dopen(tc_path("d"), FSC_TYPE_ANY);
  fsc_value out, dflt = fsc_str("dflt");
  ck_fsc(fsc_dict_get(d, K("a"), &out), FSC_EKEY);
  ck_fsc(fsc_dict_contains(d, K("a")), 0);
  ck_ok(fsc_dict_get_default(d, K("a"), &dflt, &out));
  ck_assert(veq(&out, &dflt));
  ck_fsc(fsc_dict_get_default(d, K("a"), NULL, &out), FSC_EKEY);
  ck_assert_uint_eq(dlen(d), 0); /* get_default does not insert */
  ck_ok(fsc_dict_set_i64(d, "a", 5));
  ck_fsc(fsc_dict_contains(d, K("a")), 1);
  ck_ok(fsc_dict_get_default(d, K("a"), &dflt, &out));
  ck_assert_int_eq(out.type, FSC_TYPE_INT64);
  ck_assert_int_eq(out.u.i64, 5);
  ck_ok(fsc_dict_get_default(d, K("a"), NULL, &out));
  ck_assert_int_eq(out.u.i64, 5);
  ck_fsc(fsc_dict_get(d, K("A"), &out), FSC_EKEY); /* case matters */
  ck_fsc(fsc_dict_get(d, K("a"), NULL), FSC_EINVAL);
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_set_overwrite_del) {
  fsc_dict *d = dopen(tc_path("d"), FSC_TYPE_ANY);
  ck_ok(fsc_dict_set_i64(d, "a", 1));
  ck_ok(fsc_dict_set_i64(d, "b", 2));
  ck_ok(fsc_dict_set_i64(d, "c", 3));
  ck_assert_uint_eq(dlen(d), 3);
  /* Overwrite: same length, new value (even of another type), same place. */
  ck_ok(fsc_dict_set_str(d, "b", "two"));
  ck_assert_uint_eq(dlen(d), 3);
  const char *s;
  size_t n;
  ck_ok(fsc_dict_get_str(d, "b", &s, &n));
  ck_assert(n == 3 && memcmp(s, "two", 3) == 0);
  const char *o1[] = {"a", "b", "c"};
  ck_keys(d, o1, 3);
  /* Overwrite with an equal value is still fine. */
  ck_ok(fsc_dict_set_i64(d, "a", 1));
  ck_keys(d, o1, 3);
  /* del. */
  ck_ok(fsc_dict_del(d, K("b")));
  ck_fsc(fsc_dict_del(d, K("b")), FSC_EKEY);
  ck_fsc(fsc_dict_del(d, K("zz")), FSC_EKEY);
  ck_fsc(fsc_dict_contains(d, K("b")), 0);
  fsc_value out;
  ck_fsc(fsc_dict_get(d, K("b"), &out), FSC_EKEY);
  const char *o2[] = {"a", "c"};
  ck_keys(d, o2, 2);
  /* del + set moves to the end. */
  ck_ok(fsc_dict_set_i64(d, "b", 20));
  const char *o3[] = {"a", "c", "b"};
  ck_keys(d, o3, 3);
  ck_ok(fsc_dict_del_str(d, "a"));
  ck_fsc(fsc_dict_del_str(d, "a"), FSC_EKEY);
  ck_ok(fsc_dict_set_i64(d, "a", 10));
  const char *o4[] = {"c", "b", "a"};
  ck_keys(d, o4, 3);
  ck_assert_int_eq(get_i64(d, "a"), 10);
  ck_assert_int_eq(get_i64(d, "b"), 20);
  ck_assert_int_eq(get_i64(d, "c"), 3);
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_pop) {
  fsc_dict *d = dopen(tc_path("d"), FSC_TYPE_ANY);
  fsc_value out, dflt = fsc_f64(2.5);
  ck_ok(fsc_dict_set_str(d, "a", "alpha"));
  ck_ok(fsc_dict_set_i64(d, "b", 2));
  ck_ok(fsc_dict_set_i64(d, "c", 3));
  ck_ok(fsc_dict_pop(d, K("a"), NULL, &out));
  ck_assert_int_eq(out.type, FSC_TYPE_STRING);
  ck_assert(buf_is(&out, "alpha", 5));
  ck_fsc(fsc_dict_contains(d, K("a")), 0);
  ck_assert_uint_eq(dlen(d), 2);
  /* Missing, no default: KeyError, nothing changes. */
  ck_fsc(fsc_dict_pop(d, K("a"), NULL, &out), FSC_EKEY);
  ck_assert_uint_eq(dlen(d), 2);
  /* Missing with a default: the default. */
  out = fsc_i64(0);
  ck_ok(fsc_dict_pop(d, K("a"), &dflt, &out));
  ck_assert(veq(&out, &dflt));
  ck_assert_uint_eq(dlen(d), 2);
  ck_fsc(fsc_dict_contains(d, K("a")), 0);
  /* Present with a default: the stored value. */
  ck_ok(fsc_dict_pop(d, K("b"), &dflt, &out));
  ck_assert_int_eq(out.type, FSC_TYPE_INT64);
  ck_assert_int_eq(out.u.i64, 2);
  /* out NULL. */
  ck_ok(fsc_dict_pop(d, K("c"), NULL, NULL));
  ck_assert_uint_eq(dlen(d), 0);
  ck_fsc(fsc_dict_pop(d, K("c"), NULL, NULL), FSC_EKEY);
  ck_ok(fsc_dict_pop(d, K("c"), &dflt, NULL));
  /* A popped key set again goes to the end. */
  ck_ok(fsc_dict_set_i64(d, "x", 1));
  ck_ok(fsc_dict_set_i64(d, "y", 2));
  ck_ok(fsc_dict_pop(d, K("x"), NULL, NULL));
  ck_ok(fsc_dict_set_i64(d, "x", 3));
  const char *o[] = {"y", "x"};
  ck_keys(d, o, 2);
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_popitem) {
  fsc_dict *d = dopen(tc_path("d"), FSC_TYPE_ANY);
  fsc_value k, v;
  ck_fsc(fsc_dict_popitem(d, &k, &v), FSC_EKEY);
  ck_assert_msg(strstr(fsc_errmsg(), "popitem(): dictionary is empty"),
                "errmsg '%s'", fsc_errmsg());
  ck_ok(fsc_dict_set_i64(d, "a", 1));
  ck_ok(fsc_dict_set_i64(d, "b", 2));
  ck_ok(fsc_dict_set_i64(d, "c", 3));
  ck_ok(fsc_dict_set_i64(d, "d", 4));
  /* Updating an older key does not make it newest. */
  ck_ok(fsc_dict_set_i64(d, "a", 10));
  ck_ok(fsc_dict_popitem(d, &k, &v));
  ck_assert_int_eq(k.type, FSC_TYPE_STRING);
  ck_assert(buf_is(&k, "d", 1));
  ck_assert_int_eq(v.u.i64, 4);
  /* del + set makes a key newest. */
  ck_ok(fsc_dict_del_str(d, "b"));
  ck_ok(fsc_dict_set_i64(d, "b", 20));
  ck_ok(fsc_dict_popitem(d, &k, NULL));
  ck_assert(buf_is(&k, "b", 1));
  /* Deleting the newest exposes the one before. */
  ck_ok(fsc_dict_set_i64(d, "e", 5));
  ck_ok(fsc_dict_del_str(d, "e"));
  ck_ok(fsc_dict_popitem(d, NULL, &v));
  ck_assert_int_eq(v.u.i64, 3); /* "c" */
  ck_fsc(fsc_dict_contains(d, K("c")), 0);
  ck_ok(fsc_dict_popitem(d, &k, &v));
  ck_assert(buf_is(&k, "a", 1));
  ck_assert_int_eq(v.u.i64, 10);
  ck_assert_uint_eq(dlen(d), 0);
  ck_fsc(fsc_dict_popitem(d, NULL, NULL), FSC_EKEY);
  /* LIFO over many keys. */
  char key[16];
  for (int i = 0; i < 200; i++) {
    snprintf(key, sizeof key, "%d", i);
    ck_ok(fsc_dict_set_i64(d, key, i));
  }
  for (int i = 199; i >= 0; i--) {
    ck_ok(fsc_dict_popitem(d, &k, &v));
    snprintf(key, sizeof key, "%d", i);
    ck_assert_msg(buf_is(&k, key, strlen(key)), "popitem gave '%.*s', want %s",
                  (int)k.u.buf.len, (const char *)k.u.buf.ptr, key);
    ck_assert_int_eq(v.u.i64, i);
  }
  ck_fsc(fsc_dict_popitem(d, &k, &v), FSC_EKEY);
  /* After clear, popitem is empty too. */
  ck_ok(fsc_dict_set_i64(d, "z", 1));
  ck_ok(fsc_dict_clear(d));
  ck_fsc(fsc_dict_popitem(d, &k, &v), FSC_EKEY);
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_setdefault) {
  fsc_dict *d = dopen(tc_path("d"), FSC_TYPE_ANY);
  fsc_value out, d1 = fsc_i64(1), d2 = fsc_str("two");
  /* Absent: inserts and gives the default. */
  ck_ok(fsc_dict_setdefault(d, K("a"), &d1, &out));
  ck_assert(veq(&out, &d1));
  ck_assert_int_eq(get_i64(d, "a"), 1);
  /* Present: gives the existing value and does not overwrite. */
  ck_ok(fsc_dict_setdefault(d, K("a"), &d2, &out));
  ck_assert_int_eq(out.type, FSC_TYPE_INT64);
  ck_assert_int_eq(out.u.i64, 1);
  ck_assert_int_eq(get_i64(d, "a"), 1);
  /* out NULL. */
  ck_ok(fsc_dict_setdefault(d, K("b"), &d2, NULL));
  ck_ok(fsc_dict_get(d, K("b"), &out));
  ck_assert(veq(&out, &d2));
  ck_assert_uint_eq(dlen(d), 2);
  /* setdefault on a present key keeps its place. */
  ck_ok(fsc_dict_setdefault(d, K("a"), &d2, NULL));
  const char *o[] = {"a", "b"};
  ck_keys(d, o, 2);
  fsc_dict_free(d);
  /* Typed: a wrong-typed default for an absent key inserts nothing. */
  d = dopen(tc_path("t"), FSC_TYPE_INT64);
  ck_fsc(fsc_dict_setdefault(d, K("a"), &d2, &out), FSC_ETYPE);
  ck_fsc(fsc_dict_contains(d, K("a")), 0);
  ck_ok(fsc_dict_setdefault(d, K("a"), &d1, &out));
  ck_assert_int_eq(out.u.i64, 1);
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_incr) {
  fsc_dict *d = dopen(tc_path("d"), FSC_TYPE_ANY);
  int64_t out = 0;
  /* Missing starts at 0. */
  ck_ok(fsc_dict_incr(d, K("n"), 5, &out));
  ck_assert_int_eq(out, 5);
  ck_ok(fsc_dict_incr(d, K("n"), -7, &out));
  ck_assert_int_eq(out, -2);
  ck_ok(fsc_dict_incr(d, K("n"), 0, NULL));
  ck_assert_int_eq(get_i64(d, "n"), -2);
  ck_ok(fsc_dict_incr(d, K("m"), 1, NULL));
  ck_assert_int_eq(get_i64(d, "m"), 1);
  /* incr keeps the key's place. */
  ck_ok(fsc_dict_incr(d, K("n"), 1, NULL));
  const char *o[] = {"n", "m"};
  ck_keys(d, o, 2);
  /* Non-int64 values: TypeError, unchanged. */
  ck_ok(fsc_dict_set_str(d, "s", "1"));
  ck_fsc(fsc_dict_incr(d, K("s"), 1, &out), FSC_ETYPE);
  fsc_value i32 = fsc_i32(1), f = fsc_f64(1.0), out_v;
  ck_ok(fsc_dict_set(d, K("i32"), &i32));
  ck_fsc(fsc_dict_incr(d, K("i32"), 1, &out), FSC_ETYPE);
  ck_ok(fsc_dict_get(d, K("i32"), &out_v));
  ck_assert(veq(&out_v, &i32));
  ck_ok(fsc_dict_set(d, K("f"), &f));
  ck_fsc(fsc_dict_incr(d, K("f"), 1, &out), FSC_ETYPE);
  ck_ok(fsc_dict_get(d, K("f"), &out_v));
  ck_assert(veq(&out_v, &f));
  /* Overflow: ValueError, unchanged. */
  ck_ok(fsc_dict_set_i64(d, "big", INT64_MAX - 1));
  ck_ok(fsc_dict_incr(d, K("big"), 1, &out));
  ck_assert_int_eq(out, INT64_MAX);
  ck_fsc(fsc_dict_incr(d, K("big"), 1, &out), FSC_EVALUE);
  ck_assert_int_eq(get_i64(d, "big"), INT64_MAX);
  ck_fsc(fsc_dict_incr(d, K("big"), INT64_MAX, &out), FSC_EVALUE);
  ck_ok(fsc_dict_set_i64(d, "small", INT64_MIN + 1));
  ck_ok(fsc_dict_incr(d, K("small"), -1, &out));
  ck_assert_int_eq(out, INT64_MIN);
  ck_fsc(fsc_dict_incr(d, K("small"), -1, &out), FSC_EVALUE);
  ck_assert_int_eq(get_i64(d, "small"), INT64_MIN);
  ck_ok(fsc_dict_incr(d, K("small"), INT64_MAX, &out));
  ck_assert_int_eq(out, -1);
  ck_ok(fsc_dict_incr(d, K("fresh"), INT64_MIN, &out));
  ck_assert_int_eq(out, INT64_MIN);
  fsc_dict_free(d);
  /* An int64 dict. */
  d = dopen(tc_path("i"), FSC_TYPE_INT64);
  for (int i = 0; i < 1000; i++)
    FAST_OK(fsc_dict_incr(d, K("c"), 2, NULL));
  ck_assert_int_eq(get_i64(d, "c"), 2000);
  fsc_dict_free(d);
  /* A float dict cannot be incremented. */
  d = dopen(tc_path("f"), FSC_TYPE_FLOAT);
  ck_fsc(fsc_dict_incr(d, K("c"), 1, &out), FSC_ETYPE);
  ck_fsc(fsc_dict_contains(d, K("c")), 0);
  ck_ok(fsc_dict_set_f64(d, "c", 1.0));
  ck_fsc(fsc_dict_incr(d, K("c"), 1, &out), FSC_ETYPE);
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_update) {
  fsc_dict *d = dopen(tc_path("d"), FSC_TYPE_ANY);
  fsc_dict *src = dopen(tc_path("s"), FSC_TYPE_ANY);
  ck_ok(fsc_dict_set_i64(d, "a", 1));
  ck_ok(fsc_dict_set_i64(d, "b", 2));
  ck_ok(fsc_dict_set_i64(src, "c", 30));
  ck_ok(fsc_dict_set_i64(src, "b", 20));
  ck_ok(fsc_dict_set_i64(src, "e", 50));
  ck_ok(fsc_dict_update(d, src));
  const char *o[] = {"a", "b", "c", "e"};
  ck_keys(d, o, 4);
  ck_assert_int_eq(get_i64(d, "a"), 1);
  ck_assert_int_eq(get_i64(d, "b"), 20);
  ck_assert_int_eq(get_i64(d, "c"), 30);
  ck_assert_int_eq(get_i64(d, "e"), 50);
  /* src unchanged. */
  const char *os[] = {"c", "b", "e"};
  ck_keys(src, os, 3);
  /* Updating from an empty dict changes nothing. */
  fsc_dict *empty = dopen(NULL, FSC_TYPE_ANY);
  ck_ok(fsc_dict_update(d, empty));
  ck_keys(d, o, 4);
  /* Into a typed dict: one wrong value and nothing is set. */
  fsc_dict *t = dopen(tc_path("t"), FSC_TYPE_INT64);
  ck_ok(fsc_dict_set_i64(t, "b", 0));
  ck_ok(fsc_dict_set_str(src, "zz", "not an int"));
  ck_fsc(fsc_dict_update(t, src), FSC_ETYPE);
  ck_assert_uint_eq(dlen(t), 1);
  ck_assert_int_eq(get_i64(t, "b"), 0);
  ck_fsc(fsc_dict_contains(t, K("c")), 0);
  ck_ok(fsc_dict_del_str(src, "zz"));
  ck_ok(fsc_dict_update(t, src));
  ck_assert_uint_eq(dlen(t), 3);
  ck_assert_int_eq(get_i64(t, "b"), 20);
  /* A bytes-keyed source whose keys are not UTF-8 cannot update a
   * string-keyed dict; nothing is set. */
  fsc_dict *bk = dopen_opts(tc_path("bk"), FSC_TYPE_ANY, FSC_TYPE_BYTES,
                            FSC_CREATE);
  fsc_value one = fsc_i64(1);
  ck_ok(fsc_dict_set(bk, "ok", 2, &one));
  ck_ok(fsc_dict_set(bk, "\xff", 1, &one));
  uint64_t before = dlen(d);
  ck_fsc(fsc_dict_update(d, bk), FSC_ETYPE);
  ck_assert_uint_eq(dlen(d), before);
  ck_fsc(fsc_dict_contains(d, K("ok")), 0);
  fsc_dict_free(bk);
  fsc_dict_free(t);
  fsc_dict_free(empty);
  fsc_dict_free(src);
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_update_pairs) {
  fsc_dict *d = dopen(tc_path("d"), FSC_TYPE_INT64);
  ck_ok(fsc_dict_set_i64(d, "x", 0));
  fsc_dict_pair ok[] = {{"a", 1, fsc_i64(1)},
                        {"x", 1, fsc_i64(10)},
                        {"b", 1, fsc_i64(2)},
                        {"a", 1, fsc_i64(3)}, /* a repeated key: last wins */
                        {"", 0, fsc_i64(4)}};
  ck_ok(fsc_dict_update_pairs(d, ok, 5));
  const char *o[] = {"x", "a", "b", ""};
  ck_keys(d, o, 4);
  ck_assert_int_eq(get_i64(d, "a"), 3);
  ck_assert_int_eq(get_i64(d, "x"), 10);
  ck_assert_int_eq(get_i64(d, ""), 4);
  ck_ok(fsc_dict_update_pairs(d, NULL, 0));
  ck_keys(d, o, 4);
  /* One wrong value type: nothing set. */
  fsc_dict_pair bad[] = {{"new1", 4, fsc_i64(1)},
                         {"x", 1, fsc_i64(99)},
                         {"new2", 4, fsc_str("no")},
                         {"new3", 4, fsc_i64(3)}};
  ck_fsc(fsc_dict_update_pairs(d, bad, 4), FSC_ETYPE);
  ck_keys(d, o, 4);
  ck_assert_int_eq(get_i64(d, "x"), 10);
  /* One invalid key: nothing set. */
  fsc_dict_pair badkey[] = {{"new1", 4, fsc_i64(1)},
                            {"\xff\xfe", 2, fsc_i64(2)}};
  ck_fsc(fsc_dict_update_pairs(d, badkey, 2), FSC_ETYPE);
  ck_keys(d, o, 4);
  fsc_dict_free(d);
  /* Invalid UTF-8 in an ANY dict's string value: nothing set. */
  d = dopen(tc_path("a"), FSC_TYPE_ANY);
  fsc_dict_pair badstr[] = {{"k1", 2, fsc_i64(1)},
                            {"k2", 2, fsc_strn("\xc3", 1)}};
  ck_fsc(fsc_dict_update_pairs(d, badstr, 2), FSC_ETYPE);
  ck_assert_uint_eq(dlen(d), 0);
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_clear) {
  fsc_dict *d = dopen(tc_path("d"), FSC_TYPE_ANY);
  ck_ok(fsc_dict_clear(d)); /* empty: fine */
  char key[16];
  for (int i = 0; i < 1000; i++) {
    snprintf(key, sizeof key, "%d", i);
    FAST_OK(fsc_dict_set_i64(d, key, i));
  }
  ck_ok(fsc_dict_clear(d));
  ck_assert_uint_eq(dlen(d), 0);
  fsc_value out;
  ck_fsc(fsc_dict_get(d, K("5"), &out), FSC_EKEY);
  ck_fsc(fsc_dict_contains(d, K("999")), 0);
  fsc_dict_iter it;
  ck_ok(fsc_dict_iter_init(d, &it));
  ck_fsc(fsc_dict_iter_next(&it, NULL, NULL), 0);
  /* Usable again, with a fresh order. */
  ck_ok(fsc_dict_set_i64(d, "5", 50));
  ck_ok(fsc_dict_set_i64(d, "1", 10));
  const char *o[] = {"5", "1"};
  ck_keys(d, o, 2);
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_dict_metrics(d, &m));
  ck_assert_uint_eq(m.length, 2);
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_equal) {
  fsc_dict *a = dopen(tc_path("a"), FSC_TYPE_ANY);
  fsc_dict *b = dopen(tc_path("b"), FSC_TYPE_ANY);
  ck_fsc(fsc_dict_equal(a, b), 1); /* both empty */
  ck_fsc(fsc_dict_equal(a, a), 1);
  ck_ok(fsc_dict_set_i64(a, "x", 1));
  ck_fsc(fsc_dict_equal(a, b), 0);
  ck_fsc(fsc_dict_equal(b, a), 0);
  ck_ok(fsc_dict_set_str(a, "y", "why"));
  /* Same items in another order. */
  ck_ok(fsc_dict_set_str(b, "y", "why"));
  ck_ok(fsc_dict_set_i64(b, "x", 1));
  ck_fsc(fsc_dict_equal(a, b), 1);
  ck_fsc(fsc_dict_equal(b, a), 1);
  /* A different value. */
  ck_ok(fsc_dict_set_i64(b, "x", 2));
  ck_fsc(fsc_dict_equal(a, b), 0);
  /* The same number of another type is another value. */
  fsc_value i32 = fsc_i32(1);
  ck_ok(fsc_dict_set(b, K("x"), &i32));
  ck_fsc(fsc_dict_equal(a, b), 0);
  ck_ok(fsc_dict_set_i64(b, "x", 1));
  ck_fsc(fsc_dict_equal(a, b), 1);
  /* Same length, different keys. */
  ck_ok(fsc_dict_del_str(b, "x"));
  ck_ok(fsc_dict_set_i64(b, "z", 1));
  ck_fsc(fsc_dict_equal(a, b), 0);
  ck_fsc(fsc_dict_equal(b, a), 0);
  /* b a superset of a. */
  ck_ok(fsc_dict_set_i64(b, "x", 1));
  ck_fsc(fsc_dict_equal(a, b), 0);
  ck_fsc(fsc_dict_equal(b, a), 0);
  /* An int64 dict equals an ANY dict with the same int64 items. */
  fsc_dict *c = dopen(tc_path("c"), FSC_TYPE_INT64);
  fsc_dict *e = dopen(tc_path("e"), FSC_TYPE_ANY);
  ck_ok(fsc_dict_set_i64(c, "k", 7));
  ck_ok(fsc_dict_set_i64(e, "k", 7));
  ck_fsc(fsc_dict_equal(c, e), 1);
  fsc_dict_free(a);
  fsc_dict_free(b);
  fsc_dict_free(c);
  fsc_dict_free(e);
}
END_TEST

START_TEST(test_iteration) {
  fsc_dict *d = dopen(tc_path("d"), FSC_TYPE_ANY);
  fsc_dict_iter it;
  fsc_value k, v;
  ck_ok(fsc_dict_iter_init(d, &it));
  ck_fsc(fsc_dict_iter_next(&it, &k, &v), 0);
  ck_fsc(fsc_dict_iter_next(&it, &k, &v), 0);
  static const char *keys[] = {"one", "two", "three", "four", "five"};
  for (int i = 0; i < 5; i++)
    ck_ok(fsc_dict_set_i64(d, keys[i], i + 1));
  /* items */
  ck_ok(fsc_dict_iter_init(d, &it));
  for (int i = 0; i < 5; i++) {
    ck_fsc(fsc_dict_iter_next(&it, &k, &v), 1);
    ck_assert(buf_is(&k, keys[i], strlen(keys[i])));
    ck_assert_int_eq(v.type, FSC_TYPE_INT64);
    ck_assert_int_eq(v.u.i64, i + 1);
  }
  ck_fsc(fsc_dict_iter_next(&it, &k, &v), 0);
  ck_fsc(fsc_dict_iter_next(&it, &k, &v), 0); /* stays at the end */
  /* values only */
  ck_ok(fsc_dict_iter_init(d, &it));
  for (int i = 0; i < 5; i++) {
    ck_fsc(fsc_dict_iter_next(&it, NULL, &v), 1);
    ck_assert_int_eq(v.u.i64, i + 1);
  }
  ck_fsc(fsc_dict_iter_next(&it, NULL, &v), 0);
  /* keys only */
  ck_keys(d, keys, 5);
  /* neither: just counts */
  ck_ok(fsc_dict_iter_init(d, &it));
  int c = 0, rc;
  while ((rc = fsc_dict_iter_next(&it, NULL, NULL)) == 1)
    c++;
  ck_fsc(rc, 0);
  ck_assert_int_eq(c, 5);
  /* Two iterators are independent. */
  fsc_dict_iter i1, i2;
  ck_ok(fsc_dict_iter_init(d, &i1));
  ck_ok(fsc_dict_iter_init(d, &i2));
  ck_fsc(fsc_dict_iter_next(&i1, &k, NULL), 1);
  ck_fsc(fsc_dict_iter_next(&i1, &k, NULL), 1);
  ck_assert(buf_is(&k, "two", 3));
  ck_fsc(fsc_dict_iter_next(&i2, &k, NULL), 1);
  ck_assert(buf_is(&k, "one", 3));
  /* Updates keep places; delete + set moves to the end. */
  ck_ok(fsc_dict_set_i64(d, "three", 33));
  ck_ok(fsc_dict_set_i64(d, "one", 11));
  ck_ok(fsc_dict_del_str(d, "two"));
  ck_ok(fsc_dict_set_i64(d, "two", 22));
  const char *o[] = {"one", "three", "four", "five", "two"};
  ck_keys(d, o, 5);
  int64_t want[] = {11, 33, 4, 5, 22};
  ck_ok(fsc_dict_iter_init(d, &it));
  for (int i = 0; i < 5; i++) {
    ck_fsc(fsc_dict_iter_next(&it, NULL, &v), 1);
    ck_assert_int_eq(v.u.i64, want[i]);
  }
  /* Deleting a key while iterating: never yields it after, no errors. */
  ck_ok(fsc_dict_iter_init(d, &it));
  ck_fsc(fsc_dict_iter_next(&it, &k, NULL), 1); /* one */
  ck_ok(fsc_dict_del_str(d, "four"));
  int seen = 1;
  while ((rc = fsc_dict_iter_next(&it, &k, NULL)) == 1) {
    ck_assert(!buf_is(&k, "four", 4));
    seen++;
  }
  ck_fsc(rc, 0);
  ck_assert_int_eq(seen, 4);
  fsc_dict_free(d);
}
END_TEST

/* Scan callbacks. */
struct scan_ctx {
  int calls_pred, calls_emit;
  int stop_pred_at, stop_emit_at; /* -1: never */
  char got[64][16];
};

static int pred_even(const fsc_value *k, const fsc_value *v, void *ctx) {
  struct scan_ctx *c = ctx;
  ck_assert_int_eq(v->type, FSC_TYPE_INT64);
  ck_assert_int_eq(k->type, FSC_TYPE_STRING);
  if (c->calls_pred++ == c->stop_pred_at)
    return -3;
  return v->u.i64 % 2 == 0;
}

static int emit_collect(const fsc_value *k, const fsc_value *v, void *ctx) {
  struct scan_ctx *c = ctx;
  (void)v;
  if (c->calls_emit == c->stop_emit_at)
    return -7;
  snprintf(c->got[c->calls_emit], 16, "%.*s", (int)k->u.buf.len,
           (const char *)k->u.buf.ptr);
  c->calls_emit++;
  return 0;
}

START_TEST(test_scan) {
  fsc_dict *d = dopen(tc_path("d"), FSC_TYPE_ANY);
  char key[16];
  for (int i = 0; i < 20; i++) {
    snprintf(key, sizeof key, "k%d", i);
    ck_ok(fsc_dict_set_i64(d, key, i));
  }
  ck_ok(fsc_dict_set_i64(d, "k4", 5)); /* now odd, keeps its place */
  ck_ok(fsc_dict_del_str(d, "k0"));
  ck_ok(fsc_dict_set_i64(d, "k0", 100)); /* moves to the end */
  struct scan_ctx c = {0, 0, -1, -1, {{0}}};
  ck_ok(fsc_dict_scan(d, pred_even, emit_collect, &c));
  ck_assert_int_eq(c.calls_pred, 20);
  const char *want[] = {"k2", "k6", "k8", "k10", "k12", "k14", "k16", "k18",
                        "k0"};
  ck_assert_int_eq(c.calls_emit, 9);
  for (int i = 0; i < 9; i++)
    ck_assert_str_eq(c.got[i], want[i]);
  /* emit stops the scan. */
  struct scan_ctx c2 = {0, 0, -1, 3, {{0}}};
  ck_fsc(fsc_dict_scan(d, pred_even, emit_collect, &c2), -7);
  ck_assert_int_eq(c2.calls_emit, 3);
  ck_assert_int_eq(c2.calls_pred, 10); /* k1 .. k10 */
  /* pred stops the scan. */
  struct scan_ctx c3 = {0, 0, 4, -1, {{0}}};
  ck_fsc(fsc_dict_scan(d, pred_even, emit_collect, &c3), -3);
  ck_assert_int_eq(c3.calls_pred, 5);
  ck_assert_int_eq(c3.calls_emit, 1); /* k2 */
  /* An empty dict: no callback. */
  fsc_dict *e = dopen(NULL, FSC_TYPE_ANY);
  struct scan_ctx c4 = {0, 0, -1, -1, {{0}}};
  ck_ok(fsc_dict_scan(e, pred_even, emit_collect, &c4));
  ck_assert_int_eq(c4.calls_pred + c4.calls_emit, 0);
  fsc_dict_free(e);
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_metrics) {
  const char *path = tc_path("d");
  char pathc[600];
  snprintf(pathc, sizeof pathc, "%s", path);
  fsc_dict *d = dopen(pathc, FSC_TYPE_STRING);
  fsc_metrics m;
  memset(&m, 0, sizeof m);
  m.size = sizeof m;
  ck_ok(fsc_dict_metrics(d, &m));
  ck_assert_uint_eq(m.length, 0);
  ck_assert_uint_eq(m.dead_bytes, 0);
  ck_assert(m.open_processes >= 1);
  ck_assert(m.data_file_bytes > 0 && m.index_file_bytes > 0);
  ck_assert_uint_eq(m.total_disk_usage_bytes,
                    m.data_file_bytes + m.index_file_bytes);
  char key[16];
  for (int i = 0; i < 100; i++) {
    snprintf(key, sizeof key, "k%d", i);
    ck_ok(fsc_dict_set_str(d, key, "some value of some length"));
  }
  fsc_metrics m1 = {.size = sizeof m1};
  ck_ok(fsc_dict_metrics(d, &m1));
  ck_assert_uint_eq(m1.length, 100);
  ck_assert(m1.live_bytes >= 100 * (3 + 25));
  ck_assert_uint_eq(m1.dead_bytes, 0);
  ck_assert(m1.fragmentation_ratio == 0.0);
  /* Overwrites make dead bytes. */
  for (int i = 0; i < 50; i++) {
    snprintf(key, sizeof key, "k%d", i);
    ck_ok(fsc_dict_set_str(d, key, "another value"));
  }
  fsc_metrics m2 = {.size = sizeof m2};
  ck_ok(fsc_dict_metrics(d, &m2));
  ck_assert_uint_eq(m2.length, 100);
  ck_assert(m2.dead_bytes >= 50 * 25);
  ck_assert(m2.fragmentation_ratio > 0.0 && m2.fragmentation_ratio < 1.0);
  double r = (double)m2.dead_bytes / (double)(m2.live_bytes + m2.dead_bytes);
  ck_assert(fabs(m2.fragmentation_ratio - r) < 1e-9);
  ck_assert(m2.wasted_bytes >= m2.dead_bytes);
  /* Deletes make more and shrink live bytes. */
  for (int i = 50; i < 100; i++) {
    snprintf(key, sizeof key, "k%d", i);
    ck_ok(fsc_dict_del_str(d, key));
  }
  fsc_metrics m3 = {.size = sizeof m3};
  ck_ok(fsc_dict_metrics(d, &m3));
  ck_assert_uint_eq(m3.length, 50);
  ck_assert(m3.dead_bytes > m2.dead_bytes);
  ck_assert(m3.live_bytes < m2.live_bytes);
  /* pop too. */
  ck_ok(fsc_dict_pop(d, K("k0"), NULL, NULL));
  fsc_metrics m4 = {.size = sizeof m4};
  ck_ok(fsc_dict_metrics(d, &m4));
  ck_assert_uint_eq(m4.length, 49);
  ck_assert(m4.dead_bytes > m3.dead_bytes);
  /* structural_epoch moves on clear. */
  ck_ok(fsc_dict_clear(d));
  fsc_metrics m5 = {.size = sizeof m5};
  ck_ok(fsc_dict_metrics(d, &m5));
  ck_assert_uint_eq(m5.length, 0);
  ck_assert(m5.structural_epoch > m4.structural_epoch);
  ck_assert_int_lt(fsc_dict_metrics(d, NULL), 0);
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_shorthands) {
  fsc_dict *d = dopen(tc_path("d"), FSC_TYPE_ANY);
  const char *s;
  size_t n;
  int64_t i;
  double f;
  ck_ok(fsc_dict_set_str(d, "s", "text"));
  ck_ok(fsc_dict_set_i64(d, "i", -12345678901234));
  ck_ok(fsc_dict_set_f64(d, "f", 0.1));
  ck_ok(fsc_dict_get_str(d, "s", &s, &n));
  ck_assert(n == 4 && memcmp(s, "text", 4) == 0);
  ck_ok(fsc_dict_get_i64(d, "i", &i));
  ck_assert_int_eq(i, -12345678901234);
  ck_ok(fsc_dict_get_f64(d, "f", &f));
  ck_assert(f == 0.1);
  /* Wrong types. */
  ck_fsc(fsc_dict_get_str(d, "i", &s, &n), FSC_ETYPE);
  ck_fsc(fsc_dict_get_i64(d, "s", &i), FSC_ETYPE);
  ck_fsc(fsc_dict_get_i64(d, "f", &i), FSC_ETYPE);
  ck_fsc(fsc_dict_get_f64(d, "i", &f), FSC_ETYPE);
  fsc_value i32 = fsc_i32(3);
  ck_ok(fsc_dict_set(d, K("i32"), &i32));
  ck_fsc(fsc_dict_get_i64(d, "i32", &i), FSC_ETYPE);
  /* Missing. */
  ck_fsc(fsc_dict_get_str(d, "nope", &s, &n), FSC_EKEY);
  ck_fsc(fsc_dict_get_i64(d, "nope", &i), FSC_EKEY);
  ck_fsc(fsc_dict_get_f64(d, "nope", &f), FSC_EKEY);
  /* Invalid UTF-8. */
  ck_fsc(fsc_dict_set_str(d, "k", "\xff"), FSC_ETYPE);
  ck_fsc(fsc_dict_set_str(d, "\xff", "v"), FSC_ETYPE);
  /* del_str. */
  ck_ok(fsc_dict_del_str(d, "s"));
  ck_fsc(fsc_dict_del_str(d, "s"), FSC_EKEY);
  ck_assert_uint_eq(dlen(d), 3);
  /* An empty string value. */
  ck_ok(fsc_dict_set_str(d, "e", ""));
  ck_ok(fsc_dict_get_str(d, "e", &s, &n));
  ck_assert_uint_eq(n, 0);
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_temporary) {
  /* A private $TMPDIR lets us see what a temporary dict leaves behind. */
  const char *base = tc_dir();
  char tmp[300];
  snprintf(tmp, sizeof tmp, "%s", base);
  const char *old_tmp = getenv("TMPDIR");
  char saved[300];
  snprintf(saved, sizeof saved, "%s", old_tmp ? old_tmp : "");
  setenv("TMPDIR", tmp, 1);
  fsc_dict *d = dopen(NULL, FSC_TYPE_ANY);
  fsc_dict *d2 = dopen(NULL, FSC_TYPE_ANY);
  ck_assert_ptr_null(fsc_dict_path(d));
  ck_ok(fsc_dict_set_i64(d, "a", 1));
  ck_ok(fsc_dict_set_i64(d2, "a", 2));
  ck_assert_int_eq(get_i64(d, "a"), 1); /* independent */
  ck_assert_int_eq(get_i64(d2, "a"), 2);
  char key[16];
  for (int i = 0; i < 20000; i++) { /* growth works on a temporary dict */
    snprintf(key, sizeof key, "%d", i);
    FAST_OK(fsc_dict_set_i64(d, key, i));
  }
  ck_assert_uint_eq(dlen(d), 20001);
  /* Nothing visible in $TMPDIR even while open (unlinked at once). */
  DIR *dir = opendir(tmp);
  ck_assert_ptr_nonnull(dir);
  struct dirent *e;
  int entries = 0;
  while ((e = readdir(dir)) != NULL)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
      entries++;
  closedir(dir);
  ck_assert_msg(entries == 0, "%d entries left in $TMPDIR while open",
                entries);
  ck_ok(fsc_dict_close(d));
  ck_ok(fsc_dict_destroy(d2));
  fsc_dict_free(d);
  fsc_dict_free(d2);
  dir = opendir(tmp);
  entries = 0;
  while ((e = readdir(dir)) != NULL)
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
      entries++;
  closedir(dir);
  ck_assert_int_eq(entries, 0);
  rmdir(tmp);
  /* Put $TMPDIR back (the suite also runs in one process, CK_FORK=no). */
  if (old_tmp)
    setenv("TMPDIR", saved, 1);
  else
    unsetenv("TMPDIR");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Growth                                                              */
/* ------------------------------------------------------------------ */

START_TEST(test_growth) {
  enum { N = 200000 };
  const char *path = tc_path("d");
  char pathc[600];
  snprintf(pathc, sizeof pathc, "%s", path);
  fsc_dict *d = dopen(pathc, FSC_TYPE_INT64);
  char key[32];
  for (int i = 0; i < N; i++) {
    snprintf(key, sizeof key, "key-%d", i);
    FAST_OK(fsc_dict_set_i64(d, key, (int64_t)i * 3));
  }
  ck_assert_uint_eq(dlen(d), N);
  for (int i = 0; i < N; i++) {
    snprintf(key, sizeof key, "key-%d", i);
    int64_t v;
    FAST_OK(fsc_dict_get_i64(d, key, &v));
    FAST_ASSERT(v == (int64_t)i * 3, "%s = %" PRId64, key, v);
  }
  FAST_FSC(fsc_dict_contains(d, K("key-200000")), 0);
  FAST_FSC(fsc_dict_contains(d, K("key--1")), 0);
  /* Iteration order. */
  fsc_dict_iter it;
  fsc_value k, v;
  ck_ok(fsc_dict_iter_init(d, &it));
  int i = 0, rc;
  while ((rc = fsc_dict_iter_next(&it, &k, &v)) == 1) {
    FAST_ASSERT(i < N, "too many items");
    int len = snprintf(key, sizeof key, "key-%d", i);
    FAST_ASSERT(buf_is(&k, key, (size_t)len) && v.u.i64 == (int64_t)i * 3,
                "item %d is '%.*s'", i, (int)k.u.buf.len,
                (const char *)k.u.buf.ptr);
    i++;
  }
  ck_fsc(rc, 0);
  ck_assert_int_eq(i, N);
  /* Delete the even half. */
  for (i = 0; i < N; i += 2) {
    snprintf(key, sizeof key, "key-%d", i);
    FAST_OK(fsc_dict_del_str(d, key));
  }
  ck_assert_uint_eq(dlen(d), N / 2);
  for (int pass = 0; pass < 2; pass++) {
    for (i = 0; i < N; i++) {
      snprintf(key, sizeof key, "key-%d", i);
      int64_t x;
      if (i % 2) {
        FAST_OK(fsc_dict_get_i64(d, key, &x));
        FAST_ASSERT(x == (int64_t)i * 3, "%s", key);
      } else {
        FAST_FSC(fsc_dict_get_i64(d, key, &x), FSC_EKEY);
      }
    }
    ck_ok(fsc_dict_iter_init(d, &it));
    i = 1;
    while ((rc = fsc_dict_iter_next(&it, &k, NULL)) == 1) {
      int len = snprintf(key, sizeof key, "key-%d", i);
      FAST_ASSERT(buf_is(&k, key, (size_t)len), "pass %d: item is '%.*s', "
                  "want %s", pass, (int)k.u.buf.len,
                  (const char *)k.u.buf.ptr, key);
      i += 2;
    }
    ck_fsc(rc, 0);
    ck_assert_int_eq(i, N + 1);
    ck_assert_uint_eq(dlen(d), N / 2);
    /* Across a reopen. */
    fsc_dict_free(d);
    d = dopen(pathc, FSC_TYPE_UNSPEC);
  }
  /* Re-adding the deleted keys puts them after the odd ones. */
  for (i = 0; i < N; i += 2) {
    snprintf(key, sizeof key, "key-%d", i);
    FAST_OK(fsc_dict_set_i64(d, key, -i));
  }
  ck_assert_uint_eq(dlen(d), N);
  ck_ok(fsc_dict_iter_init(d, &it));
  for (i = 0; i < N; i++) {
    int want = i < N / 2 ? 2 * i + 1 : 2 * (i - N / 2);
    int len = snprintf(key, sizeof key, "key-%d", want);
    FAST_FSC(fsc_dict_iter_next(&it, &k, NULL), 1);
    FAST_ASSERT(buf_is(&k, key, (size_t)len), "item %d", i);
  }
  ck_fsc(fsc_dict_iter_next(&it, &k, NULL), 0);
  ck_ok(fsc_dict_destroy(d)); /* big files: do not leave them */
  fsc_dict_free(d);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Randomized comparison with a model                                  */
/* ------------------------------------------------------------------ */

enum { RK = 300 };

typedef struct dmodel {
  int order[RK]; /* key ids in insertion order */
  int n;
  bool present[RK];
  int64_t val[RK];
} dmodel;

static void m_set(dmodel *m, int k, int64_t v) {
  if (!m->present[k]) {
    m->order[m->n++] = k;
    m->present[k] = true;
  }
  m->val[k] = v;
}

static void m_del(dmodel *m, int k) {
  ck_assert(m->present[k]);
  int i = 0;
  while (m->order[i] != k)
    i++;
  memmove(&m->order[i], &m->order[i + 1], (size_t)(m->n - i - 1) * sizeof(int));
  m->n--;
  m->present[k] = false;
}

/* Keys: "rk<id>" for string keys; with bytes keys, a NUL and an 0xff byte
 * around the id. */
static size_t mkkey(bool bin, int k, char *buf) {
  if (!bin)
    return (size_t)sprintf(buf, "rk%d", k);
  buf[0] = '\0';
  int n = sprintf(buf + 1, "%d", k);
  buf[n + 1] = (char)0xff;
  return (size_t)n + 2;
}

static void m_check(fsc_dict *d, const dmodel *m, bool bin, int step) {
  uint64_t n;
  FAST_OK(fsc_dict_len(d, &n));
  FAST_ASSERT(n == (uint64_t)m->n, "step %d: len %" PRIu64 ", model %d", step,
              n, m->n);
  char key[32];
  for (int k = 0; k < RK; k++) {
    size_t kl = mkkey(bin, k, key);
    fsc_value v;
    int rc = fsc_dict_get(d, key, kl, &v);
    if (m->present[k]) {
      FAST_ASSERT(rc == 0 && v.type == FSC_TYPE_INT64 && v.u.i64 == m->val[k],
                  "step %d: key %d: rc %d value %" PRId64 ", model %" PRId64,
                  step, k, rc, v.u.i64, m->val[k]);
    } else {
      FAST_ASSERT(rc == FSC_EKEY, "step %d: key %d: rc %d, model: absent",
                  step, k, rc);
    }
  }
  fsc_dict_iter it;
  fsc_value ik, iv;
  FAST_OK(fsc_dict_iter_init(d, &it));
  for (int i = 0; i < m->n; i++) {
    int rc = fsc_dict_iter_next(&it, &ik, &iv);
    size_t kl = mkkey(bin, m->order[i], key);
    FAST_ASSERT(rc == 1, "step %d: iteration ends at %d of %d (rc %d)", step,
                i, m->n, rc);
    FAST_ASSERT(buf_is(&ik, key, kl) && iv.u.i64 == m->val[m->order[i]],
                "step %d: item %d: key of %zu bytes, model key rk%d", step, i,
                ik.u.buf.len, m->order[i]);
  }
  FAST_FSC(fsc_dict_iter_next(&it, &ik, &iv), 0);
}

static void random_ops(bool bin, uint64_t seed, int nops) {
  fsc_dict *d = dopen_opts(tc_path("r"), FSC_TYPE_ANY,
                           bin ? FSC_TYPE_BYTES : FSC_TYPE_STRING, FSC_CREATE);
  static dmodel m;
  memset(&m, 0, sizeof m);
  rng_seed(seed);
  char key[32];
  for (int step = 0; step < nops; step++) {
    int k = (int)rng_below(RK);
    size_t kl = mkkey(bin, k, key);
    int64_t x = (int64_t)rng_below(1000000) - 500000;
    fsc_value v = fsc_i64(x), out, okey;
    unsigned op = rng_below(1000);
    if (op < 350) { /* set */
      FAST_OK(fsc_dict_set(d, key, kl, &v));
      m_set(&m, k, x);
    } else if (op < 500) { /* del */
      int rc = fsc_dict_del(d, key, kl);
      if (m.present[k]) {
        FAST_ASSERT(rc == 0, "step %d: del rc %d", step, rc);
        m_del(&m, k);
      } else {
        FAST_ASSERT(rc == FSC_EKEY, "step %d: del of missing: %d", step, rc);
      }
    } else if (op < 600) { /* pop, half with a default */
      bool with = rng_below(2);
      fsc_value dflt = fsc_i64(-1);
      int rc = fsc_dict_pop(d, key, kl, with ? &dflt : NULL, &out);
      if (m.present[k]) {
        FAST_ASSERT(rc == 0 && out.u.i64 == m.val[k], "step %d: pop", step);
        m_del(&m, k);
      } else if (with) {
        FAST_ASSERT(rc == 0 && out.u.i64 == -1, "step %d: pop dflt", step);
      } else {
        FAST_ASSERT(rc == FSC_EKEY, "step %d: pop missing: %d", step, rc);
      }
    } else if (op < 650) { /* popitem */
      int rc = fsc_dict_popitem(d, &okey, &out);
      if (m.n == 0) {
        FAST_ASSERT(rc == FSC_EKEY, "step %d: popitem of empty: %d", step, rc);
      } else {
        int newest = m.order[m.n - 1];
        size_t nl = mkkey(bin, newest, key);
        FAST_ASSERT(rc == 0 && buf_is(&okey, key, nl) &&
                        out.u.i64 == m.val[newest],
                    "step %d: popitem rc %d, model newest rk%d", step, rc,
                    newest);
        m_del(&m, newest);
      }
    } else if (op < 750) { /* setdefault */
      FAST_OK(fsc_dict_setdefault(d, key, kl, &v, &out));
      if (!m.present[k])
        m_set(&m, k, x);
      FAST_ASSERT(out.u.i64 == m.val[k], "step %d: setdefault", step);
    } else if (op < 850) { /* incr */
      int64_t r;
      FAST_OK(fsc_dict_incr(d, key, kl, x, &r));
      m_set(&m, k, (m.present[k] ? m.val[k] : 0) + x);
      FAST_ASSERT(r == m.val[k], "step %d: incr", step);
    } else if (op < 999) { /* get / contains */
      int rc = fsc_dict_contains(d, key, kl);
      FAST_ASSERT(rc == (m.present[k] ? 1 : 0), "step %d: contains %d", step,
                  rc);
    } else { /* clear */
      FAST_OK(fsc_dict_clear(d));
      memset(&m, 0, sizeof m);
    }
    if (step % 100 == 99)
      m_check(d, &m, bin, step);
  }
  m_check(d, &m, bin, nops);
  fsc_dict_free(d);
}

START_TEST(test_random_string_keys) { random_ops(false, 12345, 6000); }
END_TEST

START_TEST(test_random_bytes_keys) { random_ops(true, 987654321, 6000); }
END_TEST


/* ------------------------------------------------------------------ */
/* Recovery, churn, threads, large items                               */
/* ------------------------------------------------------------------ */

/* Make the dict's index useless (zero every byte after the header page,
 * which also clears the clean-close marker), so that the next open must
 * rebuild the index from the data file alone. */
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

/* Fill a dict with a history of sets, overwrites, deletes, re-inserts and
 * a clear; the model gets the expected final state. */
static void write_history(fsc_dict *d, dmodel *m) {
  char key[32];
  memset(m, 0, sizeof *m);
  for (int k = 0; k < 40; k++) { /* then cleared */
    size_t kl = mkkey(false, k, key);
    fsc_value v = fsc_i64(-k);
    ck_ok(fsc_dict_set(d, key, kl, &v));
  }
  ck_ok(fsc_dict_clear(d));
  for (int k = 0; k < RK; k++) {
    size_t kl = mkkey(false, k, key);
    fsc_value v = fsc_i64(k);
    ck_ok(fsc_dict_set(d, key, kl, &v));
    m_set(m, k, k);
  }
  for (int k = 0; k < RK; k += 3) { /* overwrite: keeps the place */
    size_t kl = mkkey(false, k, key);
    fsc_value v = fsc_i64(k * 100);
    ck_ok(fsc_dict_set(d, key, kl, &v));
    m_set(m, k, k * 100);
  }
  for (int k = 1; k < RK; k += 5) { /* delete */
    size_t kl = mkkey(false, k, key);
    ck_ok(fsc_dict_del(d, key, kl));
    m_del(m, k);
  }
  for (int k = 1; k < RK; k += 10) { /* re-insert: at the end */
    size_t kl = mkkey(false, k, key);
    fsc_value v = fsc_i64(k + 7);
    ck_ok(fsc_dict_set(d, key, kl, &v));
    m_set(m, k, k + 7);
  }
  ck_ok(fsc_dict_incr(d, K("rk2"), 5, NULL));
  m_set(m, 2, m->val[2] + 5);
  ck_ok(fsc_dict_pop(d, K("rk4"), NULL, NULL));
  m_del(m, 4);
  fsc_value k2, v2;
  ck_ok(fsc_dict_popitem(d, &k2, &v2));
  m_del(m, m->order[m->n - 1]);
}

START_TEST(test_unclean_close) {
  char path[600];
  snprintf(path, sizeof path, "%s", tc_path("u"));
  static dmodel m;
  pid_t pid = fork();
  ck_assert(pid >= 0);
  if (pid == 0) { /* the writer dies without closing */
    fsc_dict *d = NULL;
    if (fsc_dict_open(path, NULL, &d) != 0)
      _exit(2);
    write_history(d, &m);
    _exit(0);
  }
  int st;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  /* Replay the model (write_history on a throwaway temporary dict). */
  fsc_dict *t = dopen(NULL, FSC_TYPE_ANY);
  write_history(t, &m);
  fsc_dict_free(t);
  fsc_dict *d = dopen(path, FSC_TYPE_UNSPEC);
  fsc_metrics mt = {.size = sizeof mt};
  ck_ok(fsc_dict_metrics(d, &mt));
  ck_assert(!mt.last_close_clean);
  m_check(d, &m, false, -1);
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_rebuild_from_data) {
  char path[600];
  snprintf(path, sizeof path, "%s", tc_path("r"));
  static dmodel m;
  fsc_dict *d = dopen(path, FSC_TYPE_ANY);
  write_history(d, &m);
  m_check(d, &m, false, -2);
  fsc_dict_free(d);
  wreck_index(path);
  d = dopen(path, FSC_TYPE_UNSPEC);
  fsc_metrics mt = {.size = sizeof mt};
  ck_ok(fsc_dict_metrics(d, &mt));
  ck_assert(!mt.last_close_clean);
  ck_assert_msg(mt.repaired_items > 0, "repaired_items %" PRIu64,
                mt.repaired_items);
  ck_assert_uint_eq(mt.length, (uint64_t)m.n);
  m_check(d, &m, false, -3);
  /* Usable after the repair, and order continues. */
  ck_ok(fsc_dict_set_i64(d, "after", 1));
  fsc_value k;
  ck_ok(fsc_dict_popitem(d, &k, NULL));
  ck_assert(buf_is(&k, "after", 5));
  ck_ok(fsc_dict_popitem(d, &k, NULL));
  char key[32];
  size_t kl = mkkey(false, m.order[m.n - 1], key);
  ck_assert(buf_is(&k, key, kl));
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_popitem_after_reopen) {
  char path[600];
  snprintf(path, sizeof path, "%s", tc_path("p"));
  fsc_dict *d = dopen(path, FSC_TYPE_INT64);
  ck_ok(fsc_dict_set_i64(d, "a", 1));
  ck_ok(fsc_dict_set_i64(d, "b", 2));
  ck_ok(fsc_dict_set_i64(d, "c", 3));
  ck_ok(fsc_dict_set_i64(d, "a", 10));
  ck_ok(fsc_dict_del_str(d, "b"));
  ck_ok(fsc_dict_set_i64(d, "b", 20));
  fsc_dict_free(d);
  d = dopen(path, FSC_TYPE_UNSPEC);
  const char *o[] = {"a", "c", "b"};
  ck_keys(d, o, 3);
  fsc_value k, v;
  ck_ok(fsc_dict_popitem(d, &k, &v));
  ck_assert(buf_is(&k, "b", 1) && v.u.i64 == 20);
  ck_ok(fsc_dict_popitem(d, &k, &v));
  ck_assert(buf_is(&k, "c", 1) && v.u.i64 == 3);
  ck_ok(fsc_dict_popitem(d, &k, &v));
  ck_assert(buf_is(&k, "a", 1) && v.u.i64 == 10);
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_iter_while_updating) {
  /* Updating values during iteration (legal in Python) yields every key
   * exactly once, in order. */
  enum { N = 500 };
  fsc_dict *d = dopen(tc_path("d"), FSC_TYPE_INT64);
  char key[32];
  for (int i = 0; i < N; i++) {
    snprintf(key, sizeof key, "k%d", i);
    ck_ok(fsc_dict_set_i64(d, key, i));
  }
  rng_seed(5);
  fsc_dict_iter it;
  fsc_value k, v;
  ck_ok(fsc_dict_iter_init(d, &it));
  int i = 0, rc;
  while ((rc = fsc_dict_iter_next(&it, &k, &v)) == 1) {
    snprintf(key, sizeof key, "k%d", i);
    FAST_ASSERT(i < N && buf_is(&k, key, strlen(key)),
                "item %d is '%.*s', want %s", i, (int)k.u.buf.len,
                (const char *)k.u.buf.ptr, key);
    /* the value is the latest one written */
    FAST_ASSERT(v.u.i64 == i + (int64_t)N * (v.u.i64 >= N),
                "item %d value %" PRId64, i, v.u.i64);
    /* update this key and a later one */
    FAST_OK(fsc_dict_set_i64(d, key, i + N));
    int j = i + (int)rng_below(N - i);
    snprintf(key, sizeof key, "k%d", j);
    FAST_OK(fsc_dict_set_i64(d, key, j + N));
    i++;
  }
  ck_fsc(rc, 0);
  ck_assert_int_eq(i, N);
  /* Inserting during iteration: every old key still exactly once. */
  ck_ok(fsc_dict_iter_init(d, &it));
  i = 0;
  while ((rc = fsc_dict_iter_next(&it, &k, NULL)) == 1) {
    if (i < N) {
      snprintf(key, sizeof key, "k%d", i);
      FAST_ASSERT(buf_is(&k, key, strlen(key)), "item %d", i);
      snprintf(key, sizeof key, "new%d", i);
      if (i % 2)
        FAST_OK(fsc_dict_set_i64(d, key, i));
    }
    i++;
    FAST_ASSERT(i <= N + N / 2, "iteration does not end");
  }
  ck_fsc(rc, 0);
  ck_assert_int_ge(i, N);
  fsc_dict_free(d);
}
END_TEST


START_TEST(test_iter_at_most_once) {
  /* Header: iteration while other writers work "yields each key at most
   * once".  Another handle (standing for another process) deletes a key
   * the iterator has already yielded and sets it again. */
  char path[600];
  snprintf(path, sizeof path, "%s", tc_path("d"));
  fsc_dict *d = dopen(path, FSC_TYPE_INT64);
  fsc_dict *w = dopen(path, FSC_TYPE_UNSPEC);
  ck_ok(fsc_dict_set_i64(d, "a", 1));
  ck_ok(fsc_dict_set_i64(d, "b", 2));
  ck_ok(fsc_dict_set_i64(d, "c", 3));
  fsc_dict_iter it;
  fsc_value k;
  ck_ok(fsc_dict_iter_init(d, &it));
  ck_fsc(fsc_dict_iter_next(&it, &k, NULL), 1);
  ck_assert(buf_is(&k, "a", 1));
  ck_ok(fsc_dict_del_str(w, "a"));
  ck_ok(fsc_dict_set_i64(w, "a", 10));
  int seen_a = 1, seen_b = 0, seen_c = 0, rc;
  while ((rc = fsc_dict_iter_next(&it, &k, NULL)) == 1) {
    seen_a += buf_is(&k, "a", 1);
    seen_b += buf_is(&k, "b", 1);
    seen_c += buf_is(&k, "c", 1);
  }
  ck_fsc(rc, 0);
  ck_assert_int_eq(seen_b, 1); /* present for the whole iteration */
  ck_assert_int_eq(seen_c, 1);
  ck_assert_msg(seen_a == 1, "key 'a' yielded %d times", seen_a);
  fsc_dict_free(w);
  fsc_dict_free(d);
}
END_TEST


START_TEST(test_update_self) {
  /* d.update(d) is a no-op in Python: same items, same order, and it
   * terminates although every item is rewritten while iterating. */
  fsc_dict *d = dopen(tc_path("d"), FSC_TYPE_ANY);
  const char *o[] = {"x", "y", "z"};
  for (int i = 0; i < 3; i++)
    ck_ok(fsc_dict_set_i64(d, o[i], i));
  ck_ok(fsc_dict_update(d, d));
  ck_keys(d, o, 3);
  for (int i = 0; i < 3; i++)
    ck_assert_int_eq(get_i64(d, o[i]), i);
  fsc_dict_free(d);
}
END_TEST

struct sdctx {
  fsc_dict *d;
  int id;
  int rc;
  int64_t got;
};

static void *thr_setdefault(void *arg) {
  struct sdctx *t = arg;
  fsc_value dflt = fsc_i64(t->id), out;
  t->rc = fsc_dict_setdefault(t->d, K("once"), &dflt, &out);
  t->got = out.u.i64;
  return NULL;
}

START_TEST(test_setdefault_race) {
  /* Of several racing setdefaults exactly one inserts: all see its value. */
  for (int round = 0; round < 50; round++) {
    fsc_dict *d = dopen(NULL, FSC_TYPE_INT64);
    pthread_t th[8];
    struct sdctx c[8];
    for (int i = 0; i < 8; i++) {
      c[i] = (struct sdctx){d, i + 1, 0, 0};
      ck_assert_int_eq(pthread_create(&th[i], NULL, thr_setdefault, &c[i]),
                       0);
    }
    for (int i = 0; i < 8; i++)
      pthread_join(th[i], NULL);
    int64_t stored = get_i64(d, "once");
    for (int i = 0; i < 8; i++) {
      ck_assert_msg(c[i].rc == 0, "thread %d: %d", i, c[i].rc);
      ck_assert_msg(c[i].got == stored, "round %d: thread %d got %" PRId64
                    ", stored %" PRId64, round, i, c[i].got, stored);
    }
    ck_assert_uint_eq(dlen(d), 1);
    fsc_dict_free(d);
  }
}
END_TEST


struct wctx {
  fsc_dict *d;
  int stop; /* __atomic: read by the writer thread */
  int rc;
};

static void *thr_writer(void *arg) {
  struct wctx *t = arg;
  char key[32];
  uint64_t x = 88172645463325252u;
  for (int i = 0; !__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE) &&
                  t->rc == 0 && i < 400000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    if (i % 2) { /* a new key, then sometimes delete an older new key */
      snprintf(key, sizeof key, "new%d", i);
      t->rc = fsc_dict_set_i64(t->d, key, i);
      if (t->rc == 0 && i % 3 == 0 && i > 100) {
        snprintf(key, sizeof key, "new%d", i - 99);
        int rc = fsc_dict_del_str(t->d, key);
        t->rc = rc == FSC_EKEY ? 0 : rc;
      }
    } else { /* update an original key (keeps its place) */
      snprintf(key, sizeof key, "orig%d", (int)(x % 20000));
      t->rc = fsc_dict_set_i64(t->d, key, -i);
    }
  }
  return NULL;
}

START_TEST(test_iter_concurrent) {
  /* While another thread inserts (through table growth), deletes and
   * updates, every pass of an iterator yields each original key exactly
   * once, in insertion order, and no key twice. */
  enum { N0 = 20000 };
  char path[600];
  snprintf(path, sizeof path, "%s", tc_path("c"));
  fsc_dict *d = dopen(path, FSC_TYPE_INT64);
  fsc_dict *r = dopen(path, FSC_TYPE_UNSPEC); /* the reader's own handle */
  char key[32];
  for (int i = 0; i < N0; i++) {
    snprintf(key, sizeof key, "orig%d", i);
    FAST_OK(fsc_dict_set_i64(d, key, i));
  }
  struct wctx w = {d, 0, 0};
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, thr_writer, &w), 0);
  static unsigned char seen_new[400000];
  for (int pass = 0; pass < 6; pass++) {
    fsc_dict *h = pass % 2 ? r : d;
    memset(seen_new, 0, sizeof seen_new);
    fsc_dict_iter it;
    fsc_value k, v;
    int next_orig = 0, rc;
    FAST_OK(fsc_dict_iter_init(h, &it));
    while ((rc = fsc_dict_iter_next(&it, &k, &v)) == 1) {
      char buf[40];
      int n;
      snprintf(buf, sizeof buf, "%.*s", (int)k.u.buf.len,
               (const char *)k.u.buf.ptr);
      FAST_ASSERT(v.type == FSC_TYPE_INT64, "torn value type %d", v.type);
      if (sscanf(buf, "orig%d", &n) == 1) {
        FAST_ASSERT(n == next_orig, "pass %d: orig%d after orig%d", pass, n,
                    next_orig - 1);
        next_orig++;
      } else {
        FAST_ASSERT(sscanf(buf, "new%d", &n) == 1 && n >= 0 && n < 400000,
                    "pass %d: unexpected key '%s'", pass, buf);
        FAST_ASSERT(!seen_new[n], "pass %d: %s yielded twice", pass, buf);
        seen_new[n] = 1;
      }
    }
    FAST_ASSERT(rc == 0, "pass %d: iteration failed: %d (%s)", pass, rc,
                fsc_errmsg());
    FAST_ASSERT(next_orig == N0, "pass %d: %d of %d original keys", pass,
                next_orig, N0);
  }
  __atomic_store_n(&w.stop, 1, __ATOMIC_RELEASE);
  pthread_join(th, NULL);
  ck_assert_msg(w.rc == 0, "writer: %d (%s)", w.rc, fsc_strerror(w.rc));
  fsc_dict_free(r);
  ck_ok(fsc_dict_destroy(d)); /* big files: do not leave them */
  fsc_dict_free(d);
}
END_TEST


START_TEST(test_sigkill_writer) {
  /* A writer killed at a random moment loses no acknowledged write, and
   * the dict it leaves is consistent (len = items iterated, every
   * iterated key readable, insertion order kept) and writable. */
  struct ack {
    volatile int64_t sets, dels;
  } *ack = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                -1, 0);
  ck_assert(ack != MAP_FAILED);
  rng_seed(99);
  for (int round = 0; round < 8; round++) {
    char path[600];
    snprintf(path, sizeof path, "%s", tc_path("k"));
    ack->sets = ack->dels = 0;
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
      fsc_dict *d = NULL;
      if (fsc_dict_open(path, NULL, &d) != 0)
        _exit(2);
      char key[32];
      for (int64_t i = 0;; i++) {
        snprintf(key, sizeof key, "k%" PRId64, i);
        if (fsc_dict_set_i64(d, key, i) != 0)
          _exit(3);
        __atomic_store_n(&ack->sets, i + 1, __ATOMIC_SEQ_CST);
        if (i >= 50 && i % 2 == 0) {
          snprintf(key, sizeof key, "k%" PRId64, i - 50);
          if (fsc_dict_del_str(d, key) != 0)
            _exit(4);
          __atomic_store_n(&ack->dels, ack->dels + 1, __ATOMIC_SEQ_CST);
        }
      }
    }
    while (__atomic_load_n(&ack->sets, __ATOMIC_SEQ_CST) < 200)
      usleep(100);
    usleep(1000 + rng_below(30000));
    kill(pid, SIGKILL);
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFSIGNALED(st), "writer exited by itself: %d", st);
    int64_t sets = ack->sets, dels = ack->dels;
    fsc_dict *d = dopen(path, FSC_TYPE_UNSPEC);
    char key[32];
    int64_t present = 0;
    for (int64_t j = 0; j < sets + 2; j++) {
      snprintf(key, sizeof key, "k%" PRId64, j);
      int64_t x;
      int rc = fsc_dict_get_i64(d, key, &x);
      bool deleted = j % 2 == 0 && j < 2 * dels;
      bool maybe = j == 2 * dels || j >= sets; /* in flight */
      if (rc == 0) {
        FAST_ASSERT(x == j, "round %d: k%" PRId64 " = %" PRId64, round, j, x);
        FAST_ASSERT(!deleted, "round %d: deleted k%" PRId64 " is back",
                    round, j);
        present++;
      } else {
        FAST_ASSERT(rc == FSC_EKEY, "round %d: get k%" PRId64 ": %d (%s)",
                    round, j, rc, fsc_errmsg());
        FAST_ASSERT(deleted || maybe, "round %d: acknowledged k%" PRId64
                    " lost (sets %" PRId64 ", dels %" PRId64 ")", round, j,
                    sets, dels);
      }
    }
    ck_assert_uint_eq(dlen(d), (uint64_t)present);
    fsc_dict_iter it;
    fsc_value k;
    int rc;
    int64_t n = 0, last = -1;
    ck_ok(fsc_dict_iter_init(d, &it));
    while ((rc = fsc_dict_iter_next(&it, &k, NULL)) == 1) {
      int64_t j;
      char buf[40];
      snprintf(buf, sizeof buf, "%.*s", (int)k.u.buf.len,
               (const char *)k.u.buf.ptr);
      FAST_ASSERT(sscanf(buf, "k%" SCNd64, &j) == 1 && j > last,
                  "round %d: '%s' after k%" PRId64, round, buf, last);
      last = j;
      n++;
    }
    ck_fsc(rc, 0);
    ck_assert_int_eq(n, present);
    ck_ok(fsc_dict_set_i64(d, "after", 1));
    ck_assert_uint_eq(dlen(d), (uint64_t)present + 1);
    fsc_dict_free(d);
  }
  munmap(ack, 4096);
}
END_TEST

START_TEST(test_churn) {
  /* Many distinct keys inserted and deleted, few live at a time: the
   * table must not fill up with tombstones. */
  fsc_dict *d = dopen(tc_path("c"), FSC_TYPE_INT64);
  char key[32];
  enum { N = 300000, LIVE = 16 };
  for (int i = 0; i < N; i++) {
    snprintf(key, sizeof key, "c%d", i);
    FAST_OK(fsc_dict_set_i64(d, key, i));
    if (i >= LIVE) {
      snprintf(key, sizeof key, "c%d", i - LIVE);
      FAST_OK(fsc_dict_del_str(d, key));
    }
    if (i % 997 == 0) {
      snprintf(key, sizeof key, "missing%d", i);
      FAST_FSC(fsc_dict_contains(d, K(key)), 0);
    }
  }
  ck_assert_uint_eq(dlen(d), LIVE);
  for (int i = N - LIVE; i < N; i++) {
    snprintf(key, sizeof key, "c%d", i);
    ck_assert_int_eq(get_i64(d, key), i);
  }
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_dict_metrics(d, &m));
  ck_assert_uint_eq(m.length, LIVE);
  /* The index must not have grown with the number of keys ever seen. */
  ck_assert_msg(m.index_file_bytes < 64 * 1024 * 1024,
                "index file %" PRIu64 " bytes for %d live keys",
                m.index_file_bytes, LIVE);
  ck_ok(fsc_dict_destroy(d)); /* big files: do not leave them */
  fsc_dict_free(d);
}
END_TEST

enum { NTHREADS = 4, PER_THREAD = 20000 };

struct tctx {
  fsc_dict *d;
  const char *path;
  int id;
  int rc;
};

static void *thr_incr(void *arg) {
  struct tctx *t = arg;
  fsc_dict *d = t->d;
  if (!d && fsc_dict_open(t->path, NULL, &d) != 0) {
    t->rc = -1;
    return NULL;
  }
  for (int i = 0; i < PER_THREAD && t->rc == 0; i++) {
    int rc = fsc_dict_incr(d, K("counter"), 1, NULL);
    if (rc == 0)
      rc = fsc_dict_incr(d, K("down"), -2, NULL);
    if (rc)
      t->rc = rc;
  }
  if (!t->d)
    fsc_dict_free(d);
  return NULL;
}

static void *thr_set(void *arg) {
  struct tctx *t = arg;
  char key[32];
  for (int i = 0; i < PER_THREAD && t->rc == 0; i++) {
    snprintf(key, sizeof key, "t%d-%d", t->id, i);
    t->rc = fsc_dict_set_i64(t->d, key, i);
    if (t->rc == 0 && i % 4 == 3) { /* and delete some */
      snprintf(key, sizeof key, "t%d-%d", t->id, i - 1);
      t->rc = fsc_dict_del_str(t->d, key);
    }
  }
  return NULL;
}

START_TEST(test_threads) {
  char path[600];
  snprintf(path, sizeof path, "%s", tc_path("t"));
  fsc_dict *d = dopen(path, FSC_TYPE_INT64);
  pthread_t th[2 * NTHREADS];
  struct tctx ctx[2 * NTHREADS];
  /* incr: half the threads share d, half open their own handle. */
  for (int i = 0; i < 2 * NTHREADS; i++) {
    ctx[i] = (struct tctx){i < NTHREADS ? d : NULL, path, i, 0};
    ck_assert_int_eq(pthread_create(&th[i], NULL, thr_incr, &ctx[i]), 0);
  }
  for (int i = 0; i < 2 * NTHREADS; i++) {
    pthread_join(th[i], NULL);
    ck_assert_msg(ctx[i].rc == 0, "thread %d: %d (%s)", i, ctx[i].rc,
                  fsc_strerror(ctx[i].rc));
  }
  ck_assert_int_eq(get_i64(d, "counter"), 2 * NTHREADS * PER_THREAD);
  ck_assert_int_eq(get_i64(d, "down"), -2 * 2 * NTHREADS * PER_THREAD);
  /* Distinct keys from several threads at once, through growth. */
  for (int i = 0; i < NTHREADS; i++) {
    ctx[i] = (struct tctx){d, path, i, 0};
    ck_assert_int_eq(pthread_create(&th[i], NULL, thr_set, &ctx[i]), 0);
  }
  for (int i = 0; i < NTHREADS; i++) {
    pthread_join(th[i], NULL);
    ck_assert_msg(ctx[i].rc == 0, "thread %d: %d (%s)", i, ctx[i].rc,
                  fsc_strerror(ctx[i].rc));
  }
  ck_assert_uint_eq(dlen(d), 2 + NTHREADS * PER_THREAD * 3 / 4);
  char key[32];
  for (int t = 0; t < NTHREADS; t++)
    for (int i = 0; i < PER_THREAD; i++) {
      snprintf(key, sizeof key, "t%d-%d", t, i);
      int64_t x;
      int rc = fsc_dict_get_i64(d, key, &x);
      if (i % 4 == 2)
        FAST_ASSERT(rc == FSC_EKEY, "%s deleted but rc %d", key, rc);
      else
        FAST_ASSERT(rc == 0 && x == i, "%s: rc %d", key, rc);
    }
  /* Per thread, iteration order is that thread's insertion order. */
  int last[NTHREADS];
  for (int t = 0; t < NTHREADS; t++)
    last[t] = -1;
  fsc_dict_iter it;
  fsc_value k;
  int rc, n = 0;
  ck_ok(fsc_dict_iter_init(d, &it));
  while ((rc = fsc_dict_iter_next(&it, &k, NULL)) == 1) {
    int t, i;
    char buf[64];
    snprintf(buf, sizeof buf, "%.*s", (int)k.u.buf.len,
             (const char *)k.u.buf.ptr);
    n++;
    if (sscanf(buf, "t%d-%d", &t, &i) != 2)
      continue;
    FAST_ASSERT(t >= 0 && t < NTHREADS && i > last[t], "order: %s after %d",
                buf, last[t]);
    last[t] = i;
  }
  ck_fsc(rc, 0);
  ck_assert_int_eq(n, 2 + NTHREADS * PER_THREAD * 3 / 4);
  ck_ok(fsc_dict_destroy(d)); /* big files: do not leave them */
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_large_items) {
  char path[600];
  snprintf(path, sizeof path, "%s", tc_path("l"));
  fsc_dict *d = dopen_opts(path, FSC_TYPE_ANY, FSC_TYPE_BYTES, FSC_CREATE);
  size_t vn = 8u << 20, kn = 1u << 20;
  char *val = malloc(vn), *key = malloc(kn);
  ck_assert(val && key);
  for (size_t i = 0; i < vn; i++)
    val[i] = (char)(i * 131 + (i >> 13));
  for (size_t i = 0; i < kn; i++)
    key[i] = (char)(i * 7 + 3);
  fsc_value v = fsc_bytes(val, vn), out;
  ck_ok(fsc_dict_set(d, key, kn, &v));
  ck_ok(fsc_dict_set(d, key, kn - 1, &v)); /* a prefix is another key */
  fsc_value small = fsc_i64(1);
  ck_ok(fsc_dict_set(d, "s", 1, &small));
  for (int pass = 0; pass < 2; pass++) {
    ck_assert_uint_eq(dlen(d), 3);
    ck_ok(fsc_dict_get(d, key, kn, &out));
    ck_assert(out.type == FSC_TYPE_BYTES && buf_is(&out, val, vn));
    ck_ok(fsc_dict_get(d, key, kn - 1, &out));
    ck_assert(buf_is(&out, val, vn));
    ck_ok(fsc_dict_get(d, "s", 1, &out));
    ck_assert(veq(&out, &small));
    fsc_dict_free(d);
    d = dopen_opts(path, FSC_TYPE_UNSPEC, FSC_TYPE_BYTES, 0);
  }
  fsc_value k;
  fsc_dict_iter it;
  ck_ok(fsc_dict_iter_init(d, &it));
  ck_fsc(fsc_dict_iter_next(&it, &k, &out), 1);
  ck_assert(buf_is(&k, key, kn));
  ck_fsc(fsc_dict_iter_next(&it, &k, &out), 1);
  ck_assert(buf_is(&k, key, kn - 1));
  ck_ok(fsc_dict_destroy(d)); /* big files: do not leave them */
  fsc_dict_free(d);
  free(val);
  free(key);
}
END_TEST

START_TEST(test_durable_always) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.durability = FSC_DURABLE_ALWAYS;
  char path[600];
  snprintf(path, sizeof path, "%s", tc_path("a"));
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(path, &o, &d));
  for (int i = 0; i < 50; i++) {
    char key[16];
    snprintf(key, sizeof key, "%d", i);
    ck_ok(fsc_dict_set_i64(d, key, i));
  }
  ck_ok(fsc_dict_del_str(d, "3"));
  ck_ok(fsc_dict_incr(d, K("4"), 1, NULL));
  fsc_dict_free(d);
  d = dopen(path, FSC_TYPE_UNSPEC);
  ck_assert_uint_eq(dlen(d), 49);
  ck_assert_int_eq(get_i64(d, "4"), 5);
  fsc_dict_free(d);
}
END_TEST

/* ------------------------------------------------------------------ */
/* One million keys                                                    */
/* ------------------------------------------------------------------ */

static void big_value(int i, char *buf) { /* 100 bytes */
  int n = sprintf(buf, "value-%d-", i);
  for (int j = n; j < 100; j++)
    buf[j] = (char)('a' + (i + j) % 26);
}

START_TEST(test_million) {
  enum { N = 1000000 };
  const char *path = tc_path("m");
  char pathc[600];
  snprintf(pathc, sizeof pathc, "%s", path);
  fsc_dict *d = dopen(pathc, FSC_TYPE_STRING);
  char key[32], val[128];
  for (int i = 0; i < N; i++) {
    snprintf(key, sizeof key, "k%015d", i); /* 16 bytes */
    big_value(i, val);
    fsc_value v = fsc_strn(val, 100);
    FAST_OK(fsc_dict_set(d, key, 16, &v));
  }
  ck_assert_uint_eq(dlen(d), N);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  d = dopen(pathc, FSC_TYPE_UNSPEC);
  ck_assert_int_eq(fsc_dict_type(d), FSC_TYPE_STRING);
  ck_assert_uint_eq(dlen(d), N);
  for (int i = 0; i < N; i++) {
    snprintf(key, sizeof key, "k%015d", i);
    big_value(i, val);
    fsc_value out;
    FAST_OK(fsc_dict_get(d, key, 16, &out));
    FAST_ASSERT(out.type == FSC_TYPE_STRING && buf_is(&out, val, 100),
                "key %s", key);
  }
  FAST_FSC(fsc_dict_contains(d, "k000000001000000", 16), 0);
  /* Order survives the reopen. */
  fsc_dict_iter it;
  fsc_value k;
  ck_ok(fsc_dict_iter_init(d, &it));
  for (int i = 0; i < N; i++) {
    snprintf(key, sizeof key, "k%015d", i);
    FAST_FSC(fsc_dict_iter_next(&it, &k, NULL), 1);
    FAST_ASSERT(buf_is(&k, key, 16), "item %d", i);
  }
  ck_fsc(fsc_dict_iter_next(&it, &k, NULL), 0);
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_dict_metrics(d, &m));
  ck_assert_uint_eq(m.length, N);
  ck_assert(m.last_close_clean);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* ------------------------------------------------------------------ */

static Suite *dict_suite(void) {
  Suite *s = suite_create("dict");
  TCase *tc = tcase_create("api");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_open_close_reopen);
  tcase_add_test(tc, test_free_closes);
  tcase_add_test(tc, test_open_errors);
  tcase_add_test(tc, test_closed_calls);
  tcase_add_test(tc, test_kind);
  tcase_add_test(tc, test_rdonly);
  tcase_add_test(tc, test_two_handles);
  tcase_add_test(tc, test_string_keys);
  tcase_add_test(tc, test_bytes_keys);
  tcase_add_test(tc, test_key_type_mismatch);
  tcase_add_test(tc, test_key_too_long);
  tcase_add_test(tc, test_typed_values);
  tcase_add_test(tc, test_invalid_values);
  tcase_add_test(tc, test_any_roundtrip);
  tcase_add_test(tc, test_views_stay_valid);
  tcase_add_test(tc, test_get_contains_default);
  tcase_add_test(tc, test_set_overwrite_del);
  tcase_add_test(tc, test_pop);
  tcase_add_test(tc, test_popitem);
  tcase_add_test(tc, test_setdefault);
  tcase_add_test(tc, test_incr);
  tcase_add_test(tc, test_update);
  tcase_add_test(tc, test_update_pairs);
  tcase_add_test(tc, test_clear);
  tcase_add_test(tc, test_equal);
  tcase_add_test(tc, test_iteration);
  tcase_add_test(tc, test_scan);
  tcase_add_test(tc, test_metrics);
  tcase_add_test(tc, test_shorthands);
  tcase_add_test(tc, test_temporary);
  suite_add_tcase(s, tc);

  TCase *big = tcase_create("growth");
  tcase_set_timeout(big, 60);
  tcase_add_test(big, test_growth);
  tcase_add_test(big, test_random_string_keys);
  tcase_add_test(big, test_random_bytes_keys);
  tcase_add_test(big, test_unclean_close);
  tcase_add_test(big, test_rebuild_from_data);
  tcase_add_test(big, test_popitem_after_reopen);
  tcase_add_test(big, test_iter_while_updating);
  tcase_add_test(big, test_iter_at_most_once);
  tcase_add_test(big, test_update_self);
  tcase_add_test(big, test_setdefault_race);
  tcase_add_test(big, test_iter_concurrent);
  tcase_add_test(big, test_sigkill_writer);
  tcase_add_test(big, test_churn);
  tcase_add_test(big, test_threads);
  tcase_add_test(big, test_large_items);
  tcase_add_test(big, test_durable_always);
  suite_add_tcase(s, big);

  TCase *mil = tcase_create("million");
  tcase_set_timeout(mil, 120);
  tcase_add_test(mil, test_million);
  suite_add_tcase(s, mil);
  return s;
}

int main(void) {
  Suite *s = dict_suite();
  return tc_run(s);
}
