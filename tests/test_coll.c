/*
 * test_coll.c - the kind-neutral handle (src/coll/coll.c): fsc_open with
 * every kind and with FSC_KIND_ANY, the conversions between fsc_coll and
 * the typed faces, and every fsc_coll_ operation on every kind, including
 * the errors of NULL, closed, read-only and wrong-kind handles.
 */
#include "check_common.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const fsc_kind KINDS[] = {FSC_KIND_LIST, FSC_KIND_DICT, FSC_KIND_SET};

static bool exists(const char *base, const char *suffix) {
  char p[600];
  struct stat st;
  snprintf(p, sizeof p, "%s%s", base, suffix);
  return stat(p, &st) == 0;
}

/* Put three elements into c through its typed face: list [10, 20, 30],
 * dict {a: 10, b: 20, c: 30}, set {10, 20, 30}. */
static void fill3(fsc_coll *c) {
  static const char *keys[] = {"a", "b", "c"};
  for (int i = 0; i < 3; i++) {
    fsc_value v = fsc_i64(10 * (i + 1));
    switch (fsc_coll_kind(c)) {
    case FSC_KIND_LIST:
      ck_ok(fsc_list_append(fsc_coll_list(c), &v));
      break;
    case FSC_KIND_DICT:
      ck_ok(fsc_dict_set(fsc_coll_dict(c), keys[i], 1, &v));
      break;
    case FSC_KIND_SET:
      ck_fsc(fsc_set_add(fsc_coll_set(c), &v), 1);
      break;
    default:
      ck_abort_msg("bad kind %d", fsc_coll_kind(c));
    }
  }
}

static fsc_coll *open_new(const char *base, fsc_kind k) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  fsc_coll *c = NULL;
  ck_ok(fsc_open(base, k, &o, &c));
  ck_assert_ptr_nonnull(c);
  return c;
}

START_TEST(test_kind_names) {
  ck_assert_str_eq(fsc_kind_name(FSC_KIND_LIST), "list");
  ck_assert_str_eq(fsc_kind_name(FSC_KIND_DICT), "dict");
  ck_assert_str_eq(fsc_kind_name(FSC_KIND_SET), "set");
  ck_assert_str_eq(fsc_kind_name(FSC_KIND_ANY), "any");
  ck_assert_str_eq(fsc_kind_name((fsc_kind)9), "unknown");
  ck_assert_int_eq(fsc_kind_parse("list"), FSC_KIND_LIST);
  ck_assert_int_eq(fsc_kind_parse("dict"), FSC_KIND_DICT);
  ck_assert_int_eq(fsc_kind_parse("set"), FSC_KIND_SET);
  ck_assert_int_eq(fsc_kind_parse("tree"), FSC_EINVAL);
  ck_assert_ptr_nonnull(strstr(fsc_errmsg(), "tree"));
  ck_assert_int_eq(fsc_kind_parse("any"), FSC_EINVAL);
  ck_assert_int_eq(fsc_kind_parse(NULL), FSC_EINVAL);
}
END_TEST

/* Every kind through fsc_open, and FSC_KIND_ANY finding each again. */
START_TEST(test_open_each_kind_and_any) {
  for (size_t i = 0; i < 3; i++) {
    const char *base = tc_path("c");
    fsc_coll *c = open_new(base, KINDS[i]);
    ck_assert_int_eq(fsc_coll_kind(c), KINDS[i]);
    ck_assert_int_eq(fsc_coll_type(c), FSC_TYPE_INT64);
    ck_assert_str_eq(fsc_coll_path(c), base);
    fill3(c);
    ck_ok(fsc_coll_close(c));
    fsc_coll_free(c);

    fsc_coll *a = NULL;
    ck_ok(fsc_open(base, FSC_KIND_ANY, NULL, &a));
    ck_assert_int_eq(fsc_coll_kind(a), KINDS[i]);
    ck_assert_int_eq(fsc_coll_type(a), FSC_TYPE_INT64);
    uint64_t n = 0;
    ck_ok(fsc_coll_len(a, &n));
    ck_assert_uint_eq(n, 3);
    ck_ok(fsc_coll_destroy(a));
    fsc_coll_free(a);
    ck_assert(!exists(base, ".data.fscollection"));
    ck_assert(!exists(base, ".index.fscollection"));
  }
}
END_TEST

/* FSC_KIND_ANY never creates; a temporary collection needs a kind; a
 * kind out of range is refused. */
START_TEST(test_any_never_creates) {
  const char *base = tc_path("none");
  fsc_coll *c = (fsc_coll *)0x1;
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = FSC_CREATE | FSC_EXCL;
  ck_fsc(fsc_open(base, FSC_KIND_ANY, &o, &c), FSC_ENOENT);
  ck_assert_ptr_null(c);
  ck_assert(!exists(base, ".data.fscollection"));
  ck_assert(!exists(base, ".index.fscollection"));
  ck_fsc(fsc_open(NULL, FSC_KIND_ANY, NULL, &c), FSC_EINVAL);
  ck_assert_ptr_nonnull(strstr(fsc_errmsg(), "temporary"));
  ck_fsc(fsc_open(base, (fsc_kind)4, NULL, &c), FSC_EINVAL);
  ck_fsc(fsc_open(base, (fsc_kind)-1, NULL, &c), FSC_EINVAL);
  ck_fsc(fsc_open(base, FSC_KIND_LIST, NULL, NULL), FSC_EINVAL);
  ck_assert(!exists(base, ".index.fscollection"));
}
END_TEST

/* A collection opened as another kind: FSC_EKIND, through fsc_open and
 * through the typed opens, and nothing changes. */
START_TEST(test_wrong_kind_refused) {
  for (size_t i = 0; i < 3; i++) {
    const char *base = tc_path("k");
    fsc_coll *c = open_new(base, KINDS[i]);
    fill3(c);
    for (size_t j = 0; j < 3; j++) {
      if (j == i)
        continue;
      fsc_coll *w = (fsc_coll *)0x1;
      ck_fsc(fsc_open(base, KINDS[j], NULL, &w), FSC_EKIND);
      ck_assert_ptr_null(w);
      ck_assert_ptr_nonnull(strstr(fsc_errmsg(), fsc_kind_name(KINDS[i])));
    }
    fsc_list *l;
    fsc_dict *d;
    fsc_set *s;
    if (KINDS[i] != FSC_KIND_LIST)
      ck_fsc(fsc_list_open(base, NULL, &l), FSC_EKIND);
    if (KINDS[i] != FSC_KIND_DICT)
      ck_fsc(fsc_dict_open(base, NULL, &d), FSC_EKIND);
    if (KINDS[i] != FSC_KIND_SET)
      ck_fsc(fsc_set_open(base, NULL, &s), FSC_EKIND);
    uint64_t n = 0;
    ck_ok(fsc_coll_len(c, &n));
    ck_assert_uint_eq(n, 3);
    ck_ok(fsc_coll_destroy(c));
    fsc_coll_free(c);
  }
}
END_TEST

/* The faces are one handle: conversions return the same pointer, a
 * conversion to another kind gives NULL and FSC_EKIND, and a handle
 * closed through one face is closed through all. */
START_TEST(test_faces) {
  ck_assert_ptr_null(fsc_list_coll(NULL));
  ck_assert_ptr_null(fsc_dict_coll(NULL));
  ck_assert_ptr_null(fsc_set_coll(NULL));
  ck_assert_ptr_null(fsc_coll_list(NULL));
  ck_assert_ptr_nonnull(strstr(fsc_errmsg(), "NULL"));

  fsc_list *l;
  ck_ok(fsc_list_open(NULL, NULL, &l));
  fsc_coll *c = fsc_list_coll(l);
  ck_assert_ptr_eq(fsc_coll_list(c), l);
  ck_assert_ptr_null(fsc_coll_dict(c));
  ck_assert_ptr_nonnull(strstr(fsc_errmsg(), "is a list, not a dict"));
  ck_assert_ptr_null(fsc_coll_set(c));
  ck_assert_ptr_nonnull(strstr(fsc_errmsg(), "is a list, not a set"));
  /* A NULL face fails at its first use. */
  ck_fsc(fsc_dict_set_i64(fsc_coll_dict(c), "k", 1), FSC_EINVAL);
  ck_fsc(fsc_set_add_i64(fsc_coll_set(c), 1), FSC_EINVAL);

  ck_ok(fsc_list_append_i64(l, 7));
  uint64_t n = 0;
  ck_ok(fsc_coll_len(c, &n));
  ck_assert_uint_eq(n, 1);
  ck_ok(fsc_list_close(l));
  /* Closed through the typed face: closed through the neutral one. */
  ck_fsc(fsc_coll_len(c, &n), FSC_ECLOSED);
  ck_fsc(fsc_coll_close(c), FSC_ECLOSED);
  ck_assert_ptr_null(fsc_coll_list(c));
  ck_assert_str_eq(fsc_errmsg(), "I/O operation on closed file.");
  fsc_coll_free(c); /* freed through the other face: once */

  fsc_dict *d;
  ck_ok(fsc_dict_open(NULL, NULL, &d));
  ck_assert_ptr_eq(fsc_coll_dict(fsc_dict_coll(d)), d);
  ck_assert_ptr_null(fsc_coll_list(fsc_dict_coll(d)));
  fsc_dict_free(d);
  fsc_set *s;
  ck_ok(fsc_set_open(NULL, NULL, &s));
  ck_assert_ptr_eq(fsc_coll_set(fsc_set_coll(s)), s);
  ck_assert_ptr_null(fsc_coll_dict(fsc_set_coll(s)));
  fsc_set_free(s);
}
END_TEST

/* Every operation of fsc_coll on every kind. */
START_TEST(test_every_operation) {
  for (size_t i = 0; i < 3; i++) {
    const char *base = tc_path("ops");
    fsc_coll *c = open_new(base, KINDS[i]);
    fill3(c);
    uint64_t n = 0;
    ck_ok(fsc_coll_len(c, &n));
    ck_assert_uint_eq(n, 3);

    fsc_metrics m = {.size = sizeof m};
    ck_ok(fsc_coll_metrics(c, &m));
    ck_assert_uint_eq(m.length, 3);
    ck_assert_uint_eq(m.generation, 1);
    ck_assert(m.live_bytes > 0);
    ck_ok(fsc_coll_sync(c));

    fsc_verify_report r = {.size = sizeof r};
    ck_ok(fsc_coll_verify(c, 0, &r));
    ck_assert(r.healthy);
    ck_assert_uint_eq(r.length, 3);
    ck_assert_uint_eq(r.records_checked, 3);

    /* Iteration: list [10, 20, 30] with indices; dict a..c in insertion
     * order; set members 10, 20, 30 in some order. */
    fsc_coll_iter it;
    fsc_value k, v;
    int64_t seen = 0;
    int got = 0, rc;
    ck_ok(fsc_coll_iter_init(c, &it));
    while ((rc = fsc_coll_iter_next(&it, &k, &v)) == 1) {
      ck_assert_int_eq(v.type, FSC_TYPE_INT64);
      switch (KINDS[i]) {
      case FSC_KIND_LIST:
        ck_assert_int_eq(k.type, FSC_TYPE_INT64);
        ck_assert_int_eq(k.u.i64, got);
        ck_assert_int_eq(v.u.i64, 10 * (got + 1));
        break;
      case FSC_KIND_DICT:
        ck_assert_int_eq(k.type, FSC_TYPE_STRING);
        ck_assert_uint_eq(k.u.buf.len, 1);
        ck_assert_int_eq(((const char *)k.u.buf.ptr)[0], "abc"[got]);
        ck_assert_int_eq(v.u.i64, 10 * (got + 1));
        break;
      default:
        ck_assert(fsc_value_equal(&k, &v));
        break;
      }
      seen += v.u.i64;
      got++;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(got, 3);
    ck_assert_int_eq(seen, 60);
    ck_fsc(fsc_coll_iter_next(NULL, &k, &v), FSC_EINVAL);
    ck_fsc(fsc_coll_iter_init(c, NULL), FSC_EINVAL);

    /* Compaction moves to generation 2; reclaim drops the old one. */
    ck_ok(fsc_coll_compact(c));
    ck_ok(fsc_coll_metrics(c, &m));
    ck_assert_uint_eq(m.generation, 2);
    ck_assert_uint_eq(m.length, 3);
    ck_ok(fsc_coll_reclaim(c));

    ck_ok(fsc_coll_clear(c));
    ck_ok(fsc_coll_len(c, &n));
    ck_assert_uint_eq(n, 0);
    ck_ok(fsc_coll_iter_init(c, &it));
    ck_assert_int_eq(fsc_coll_iter_next(&it, NULL, NULL), 0);
    ck_ok(fsc_coll_close(c));
    fsc_coll_free(c);
    /* Closed cleanly: a read-only open through ANY sees it empty and
     * clean. */
    fsc_options ro = FSC_OPTIONS_INIT;
    ro.flags = FSC_RDONLY;
    ck_ok(fsc_open(base, FSC_KIND_ANY, &ro, &c));
    ck_ok(fsc_coll_metrics(c, &m));
    ck_assert(m.last_close_clean);
    ck_assert_uint_eq(m.length, 0);
    ck_fsc(fsc_coll_clear(c), FSC_EROFS);
    ck_fsc(fsc_coll_compact(c), FSC_EROFS);
    ck_fsc(fsc_coll_verify(c, FSC_VERIFY_REPAIR, NULL), FSC_EROFS);
    ck_ok(fsc_coll_verify(c, 0, NULL));
    ck_ok(fsc_coll_close(c));
    fsc_coll_free(c);
    ck_ok(fsc_open(base, KINDS[i], NULL, &c));
    ck_ok(fsc_coll_destroy(c));
    fsc_coll_free(c);
  }
}
END_TEST

/* NULL and closed handles: FSC_EINVAL and FSC_ECLOSED from every call. */
START_TEST(test_null_and_closed) {
  uint64_t n;
  fsc_metrics m = {.size = sizeof m};
  fsc_coll_iter it;
  ck_fsc(fsc_coll_close(NULL), FSC_EINVAL);
  ck_fsc(fsc_coll_destroy(NULL), FSC_EINVAL);
  fsc_coll_free(NULL);
  ck_assert_ptr_null(fsc_coll_path(NULL));
  ck_fsc(fsc_coll_kind(NULL), FSC_EINVAL);
  ck_fsc(fsc_coll_type(NULL), FSC_EINVAL);
  ck_fsc(fsc_coll_len(NULL, &n), FSC_EINVAL);
  ck_fsc(fsc_coll_clear(NULL), FSC_EINVAL);
  ck_fsc(fsc_coll_metrics(NULL, &m), FSC_EINVAL);
  ck_fsc(fsc_coll_sync(NULL), FSC_EINVAL);
  ck_fsc(fsc_coll_compact(NULL), FSC_EINVAL);
  ck_fsc(fsc_coll_reclaim(NULL), FSC_EINVAL);
  ck_fsc(fsc_coll_verify(NULL, 0, NULL), FSC_EINVAL);
  ck_fsc(fsc_coll_iter_init(NULL, &it), FSC_EINVAL);

  for (size_t i = 0; i < 3; i++) {
    fsc_coll *c;
    ck_ok(fsc_open(NULL, KINDS[i], NULL, &c));
    ck_ok(fsc_coll_len(c, &n));
    ck_fsc(fsc_coll_len(c, NULL), FSC_EINVAL);
    ck_fsc(fsc_coll_metrics(c, NULL), FSC_EINVAL);
    ck_assert_ptr_null(fsc_coll_path(c)); /* temporary */
    ck_fsc(fsc_coll_verify(c, 0x80, NULL), FSC_EINVAL);
    ck_ok(fsc_coll_close(c));
    ck_fsc(fsc_coll_close(c), FSC_ECLOSED);
    ck_fsc(fsc_coll_destroy(c), FSC_ECLOSED);
    ck_fsc(fsc_coll_kind(c), FSC_ECLOSED);
    ck_fsc(fsc_coll_type(c), FSC_ECLOSED);
    ck_fsc(fsc_coll_len(c, &n), FSC_ECLOSED);
    ck_fsc(fsc_coll_clear(c), FSC_ECLOSED);
    ck_fsc(fsc_coll_metrics(c, &m), FSC_ECLOSED);
    ck_fsc(fsc_coll_sync(c), FSC_ECLOSED);
    ck_fsc(fsc_coll_compact(c), FSC_ECLOSED);
    ck_fsc(fsc_coll_reclaim(c), FSC_ECLOSED);
    ck_fsc(fsc_coll_verify(c, 0, NULL), FSC_ECLOSED);
    ck_fsc(fsc_coll_iter_init(c, &it), FSC_ECLOSED);
    ck_assert_ptr_null(fsc_coll_list(c));
    ck_assert_ptr_null(fsc_coll_dict(c));
    ck_assert_ptr_null(fsc_coll_set(c));
    fsc_coll_free(c);
  }
}
END_TEST

/* A neutral handle in one process sees what a typed handle in another
 * process writes, and FSC_KIND_ANY opens follow a compaction. */
START_TEST(test_across_processes) {
  const char *base = tc_path("mp");
  fsc_coll *c = open_new(base, FSC_KIND_DICT);
  pid_t pid = fork();
  ck_assert(pid >= 0);
  if (pid == 0) {
    fsc_dict *d;
    if (fsc_dict_open(base, NULL, &d) != 0)
      _exit(1);
    for (int i = 0; i < 100; i++) {
      char k[16];
      snprintf(k, sizeof k, "k%d", i);
      if (fsc_dict_set_i64(d, k, i) != 0)
        _exit(2);
    }
    if (fsc_dict_compact(d) != 0)
      _exit(3);
    fsc_dict_free(d);
    _exit(0);
  }
  int st;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  uint64_t n = 0;
  ck_ok(fsc_coll_len(c, &n));
  ck_assert_uint_eq(n, 100);
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_coll_metrics(c, &m));
  ck_assert_uint_eq(m.generation, 2);
  int64_t v = 0;
  ck_ok(fsc_dict_get_i64(fsc_coll_dict(c), "k42", &v));
  ck_assert_int_eq(v, 42);
  ck_ok(fsc_coll_destroy(c));
  fsc_coll_free(c);
}
END_TEST

static Suite *coll_suite(void) {
  Suite *s = suite_create("coll");
  TCase *tc = tcase_create("coll");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_kind_names);
  tcase_add_test(tc, test_open_each_kind_and_any);
  tcase_add_test(tc, test_any_never_creates);
  tcase_add_test(tc, test_wrong_kind_refused);
  tcase_add_test(tc, test_faces);
  tcase_add_test(tc, test_every_operation);
  tcase_add_test(tc, test_null_and_closed);
  tcase_add_test(tc, test_across_processes);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tc_run(coll_suite()); }
