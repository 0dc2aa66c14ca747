/*
 * test_ref.c - nested collections by reference (src/coll/ref.c): every
 * parent kind holding every child kind, persistence across reopen, the
 * stored form (relative, percent-encoded), a child's mutation seen through
 * another process's parent, moving a tree, refusal of references leading
 * out of the parent's directory, the per-parent cache (one open for two
 * reads; bounded descriptors over 10,000 children), ownership of the
 * handles it gives, dangling references, cycles, and the life cycle
 * (deleting a reference keeps the child; fsc_ref_destroy removes it).
 */
#include "check_common.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const fsc_kind KINDS[] = {FSC_KIND_LIST, FSC_KIND_DICT, FSC_KIND_SET};

static bool exists(const char *base, const char *suffix) {
  char p[1200];
  struct stat st;
  snprintf(p, sizeof p, "%s%s", base, suffix);
  return stat(p, &st) == 0;
}

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  ck_assert_ptr_nonnull(d);
  int n = 0;
  while (readdir(d))
    n++;
  closedir(d);
  return n;
}

static fsc_coll *open_kind(const char *path, fsc_kind k) {
  fsc_coll *c = NULL;
  ck_ok(fsc_open(path, k, NULL, &c));
  return c;
}

/* Put one element, tagged by `tag`, into c. */
static void put(fsc_coll *c, int64_t tag) {
  fsc_value v = fsc_i64(tag);
  char key[32];
  snprintf(key, sizeof key, "k%lld", (long long)tag);
  switch (fsc_coll_kind(c)) {
  case FSC_KIND_LIST:
    ck_ok(fsc_list_append(fsc_coll_list(c), &v));
    break;
  case FSC_KIND_DICT:
    ck_ok(fsc_dict_set(fsc_coll_dict(c), key, strlen(key), &v));
    break;
  case FSC_KIND_SET:
    ck_fsc(fsc_set_add(fsc_coll_set(c), &v), 1);
    break;
  default:
    ck_abort_msg("bad kind");
  }
}

/* Does c hold the element put(c, tag) put? */
static bool holds(fsc_coll *c, int64_t tag) {
  fsc_value v = fsc_i64(tag), got;
  char key[32];
  snprintf(key, sizeof key, "k%lld", (long long)tag);
  switch (fsc_coll_kind(c)) {
  case FSC_KIND_LIST:
    return fsc_list_contains(fsc_coll_list(c), &v) == 1;
  case FSC_KIND_DICT:
    return fsc_dict_get(fsc_coll_dict(c), key, strlen(key), &got) == 0 &&
           got.type == FSC_TYPE_INT64 && got.u.i64 == tag;
  case FSC_KIND_SET:
    return fsc_set_contains(fsc_coll_set(c), &v) == 1;
  default:
    return false;
  }
}

/* Store ref in parent (under key "child" for a dict). */
static void store(fsc_coll *parent, const fsc_value *ref) {
  switch (fsc_coll_kind(parent)) {
  case FSC_KIND_LIST:
    ck_ok(fsc_list_append(fsc_coll_list(parent), ref));
    break;
  case FSC_KIND_DICT:
    ck_ok(fsc_dict_set(fsc_coll_dict(parent), "child", 5, ref));
    break;
  case FSC_KIND_SET:
    ck_fsc(fsc_set_add(fsc_coll_set(parent), ref), 1);
    break;
  default:
    ck_abort_msg("bad kind");
  }
}

/* The first reference parent holds, read back (a view). */
static fsc_value first_ref(fsc_coll *parent) {
  fsc_coll_iter it;
  fsc_value v;
  ck_ok(fsc_coll_iter_init(parent, &it));
  while (fsc_coll_iter_next(&it, NULL, &v) == 1)
    if (v.type == FSC_TYPE_REF)
      return v;
  ck_abort_msg("no reference in the parent");
  return v;
}

static void uri_is(const fsc_value *v, const char *want) {
  ck_assert_int_eq(v->type, FSC_TYPE_REF);
  ck_assert_msg(v->u.buf.len == strlen(want) &&
                    memcmp(v->u.buf.ptr, want, v->u.buf.len) == 0,
                "uri '%.*s', want '%s'", (int)v->u.buf.len,
                (const char *)v->u.buf.ptr, want);
}

START_TEST(test_every_parent_every_child) {
  const char *dir = tc_dir();
  char pp[600], cp[600];
  for (int p = 0; p < 3; p++)
    for (int k = 0; k < 3; k++) {
      snprintf(pp, sizeof pp, "%s/parent%d%d", dir, p, k);
      snprintf(cp, sizeof cp, "%s/child%d%d", dir, p, k);
      fsc_coll *parent = open_kind(pp, KINDS[p]);
      fsc_coll *child = open_kind(cp, KINDS[k]);
      put(child, 1);
      fsc_value ref;
      ck_ok(fsc_ref_make(parent, child, &ref));
      char want[700];
      snprintf(want, sizeof want, "ref://fscollection:%s?path=child%d%d",
               fsc_kind_name(KINDS[k]), p, k);
      uri_is(&ref, want); /* relative to the parent's directory */
      store(parent, &ref);
      ck_ok(fsc_coll_close(child));
      fsc_coll_free(child);
      ck_ok(fsc_coll_close(parent));
      fsc_coll_free(parent);

      /* Persisted: reopen the parent, read the reference, open it. */
      parent = open_kind(pp, KINDS[p]);
      fsc_value back = first_ref(parent);
      uri_is(&back, want);
      fsc_coll *c2 = NULL;
      ck_ok(fsc_ref_open(parent, &back, NULL, &c2));
      ck_assert_int_eq(fsc_coll_kind(c2), KINDS[k]);
      ck_assert(holds(c2, 1));
      put(c2, 2); /* goes to the child's own files */
      fsc_coll_free(c2);
      ck_ok(fsc_coll_close(parent));
      fsc_coll_free(parent);
      child = open_kind(cp, KINDS[k]);
      ck_assert(holds(child, 2));
      uint64_t n;
      ck_ok(fsc_coll_len(child, &n));
      ck_assert_uint_eq(n, 2);
      fsc_coll_free(child);
    }
}
END_TEST

START_TEST(test_typed_faces_and_errors) {
  const char *dir = tc_dir();
  char pp[600], cp[600];
  snprintf(pp, sizeof pp, "%s/shop", dir);
  snprintf(cp, sizeof cp, "%s/shop.items", dir);
  fsc_dict *d = NULL;
  fsc_list *l = NULL, *tmp = NULL;
  ck_ok(fsc_dict_open(pp, NULL, &d));
  ck_ok(fsc_list_open(cp, NULL, &l));
  ck_ok(fsc_list_open(NULL, NULL, &tmp));
  fsc_value ref, keep = fsc_i64(7);
  fsc_value before = keep;
  /* A temporary collection has no path to store. */
  ck_fsc(fsc_ref_make(fsc_dict_coll(d), fsc_list_coll(tmp), &keep),
         FSC_EINVAL);
  ck_assert(fsc_value_equal(&keep, &before)); /* out not changed */
  ck_fsc(fsc_ref_make(NULL, fsc_list_coll(l), &ref), FSC_EINVAL);
  ck_fsc(fsc_ref_make(fsc_dict_coll(d), NULL, &ref), FSC_EINVAL);
  ck_fsc(fsc_ref_make(fsc_dict_coll(d), fsc_list_coll(l), NULL), FSC_EINVAL);
  ck_ok(fsc_ref_make(fsc_dict_coll(d), fsc_list_coll(l), &ref));
  /* Making it again gives the same kept bytes. */
  fsc_value ref2;
  ck_ok(fsc_ref_make(fsc_dict_coll(d), fsc_list_coll(l), &ref2));
  ck_assert_ptr_eq(ref.u.buf.ptr, ref2.u.buf.ptr);
  ck_ok(fsc_dict_set(d, "items", 5, &ref));
  /* Not a reference. */
  fsc_coll *c = (fsc_coll *)1;
  fsc_value s = fsc_str("ref://fscollection:list?path=shop.items");
  ck_fsc(fsc_ref_open(fsc_dict_coll(d), &s, NULL, &c), FSC_ETYPE);
  ck_assert_ptr_null(c);
  ck_fsc(fsc_ref_open(fsc_dict_coll(d), NULL, NULL, &c), FSC_EINVAL);
  ck_fsc(fsc_ref_open(fsc_dict_coll(d), &ref, NULL, NULL), FSC_EINVAL);
  ck_fsc(fsc_ref_open(NULL, &ref, NULL, &c), FSC_EINVAL);
  /* Malformed ones (the value check lets them in; the open refuses). */
  static const char *bad[] = {
      "ref://fscollection:list?path=a%zzb", "ref://fscollection:list?path=a%4",
      "ref://fscollection:list?path=a%00b", "ref://fscollection:list?x=1",
      "ref://fscollection:list?path=", "ref://fscollection:tree?path=a"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    fsc_value b = {.type = FSC_TYPE_REF};
    b.u.buf.ptr = bad[i];
    b.u.buf.len = strlen(bad[i]);
    ck_assert_msg(fsc_ref_open(fsc_dict_coll(d), &b, NULL, &c) ==
                      FSC_EVALUE,
                  "%s: %s", bad[i], fsc_errmsg());
  }
  /* Through the typed faces, as the example does. */
  fsc_value got;
  ck_ok(fsc_dict_get(d, "items", 5, &got));
  ck_ok(fsc_ref_open(fsc_dict_coll(d), &got, NULL, &c));
  fsc_value apple = fsc_str("apple");
  ck_ok(fsc_list_append(fsc_coll_list(c), &apple));
  ck_assert_ptr_null(fsc_coll_dict(c)); /* a list, not a dict */
  fsc_coll_free(c);
  uint64_t n;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_uint_eq(n, 1);
  /* A closed handle. */
  fsc_list_free(tmp);
  ck_ok(fsc_list_close(l));
  ck_fsc(fsc_ref_make(fsc_dict_coll(d), fsc_list_coll(l), &ref),
         FSC_ECLOSED);
  fsc_list_free(l);
  ck_ok(fsc_dict_close(d));
  ck_fsc(fsc_ref_open(fsc_dict_coll(d), &got, NULL, &c), FSC_ECLOSED);
  fsc_dict_free(d);
}
END_TEST

/* One open for two reads; the caller's handle outlives the parent; a
 * child the caller closed is opened again. */
START_TEST(test_cache_and_ownership) {
  const char *dir = tc_dir();
  char pp[600], cp[600];
  snprintf(pp, sizeof pp, "%s/p", dir);
  snprintf(cp, sizeof cp, "%s/c", dir);
  fsc_coll *parent = open_kind(pp, FSC_KIND_LIST);
  fsc_coll *child = open_kind(cp, FSC_KIND_SET);
  fsc_value ref;
  ck_ok(fsc_ref_make(parent, child, &ref));
  store(parent, &ref);
  fsc_coll_free(child);
  fsc_value v;
  ck_ok(fsc_list_get(fsc_coll_list(parent), 0, &v));
  int fds0 = count_fds();
  fsc_coll *a = NULL, *b = NULL;
  ck_ok(fsc_ref_open(parent, &v, NULL, &a));
  int fds1 = count_fds();
  ck_assert_int_gt(fds1, fds0);
  ck_ok(fsc_ref_open(parent, &v, NULL, &b));
  ck_assert_ptr_eq(a, b);             /* the same handle: no second open */
  ck_assert_int_eq(count_fds(), fds1); /* no descriptor more */
  fsc_coll_free(b);                    /* one share dropped; a still works */
  put(a, 5);
  /* A read-only open is another entry. */
  fsc_options ro = FSC_OPTIONS_INIT;
  ro.flags = FSC_RDONLY;
  fsc_coll *r = NULL;
  ck_ok(fsc_ref_open(parent, &v, &ro, &r));
  ck_assert_ptr_ne(r, a);
  ck_assert(holds(r, 5));
  fsc_value x = fsc_i64(9);
  ck_fsc(fsc_set_add(fsc_coll_set(r), &x), FSC_EROFS);
  fsc_coll_free(r);
  /* The parent closes: its cache goes, the caller's handle stays. */
  ck_ok(fsc_coll_close(parent));
  ck_assert(holds(a, 5));
  put(a, 6);
  fsc_coll_free(a);
  fsc_coll_free(parent);
  ck_assert_int_le(count_fds(), fds0); /* the parent's too are closed */
}
END_TEST

START_TEST(test_closed_child_reopens) {
  const char *dir = tc_dir();
  char pp[600], cp[600];
  snprintf(pp, sizeof pp, "%s/p", dir);
  snprintf(cp, sizeof cp, "%s/c", dir);
  fsc_coll *parent = open_kind(pp, FSC_KIND_DICT);
  fsc_coll *child = open_kind(cp, FSC_KIND_LIST);
  fsc_value ref;
  ck_ok(fsc_ref_make(parent, child, &ref));
  fsc_coll_free(child);
  fsc_coll *a = NULL, *b = NULL;
  ck_ok(fsc_ref_open(parent, &ref, NULL, &a));
  /* Misuse: the caller closes a handle the cache shares. */
  ck_ok(fsc_coll_close(a));
  ck_ok(fsc_ref_open(parent, &ref, NULL, &b));
  ck_assert_int_eq(fsc_coll_kind(b), FSC_KIND_LIST); /* open, not stale */
  put(b, 1);
  fsc_coll_free(a); /* its share; freed for good when the cache drops it */
  fsc_coll_free(b);
  ck_ok(fsc_coll_close(parent));
  fsc_coll_free(parent);
}
END_TEST

/* A child's mutation through a second parent handle in another process. */
START_TEST(test_other_process) {
  const char *dir = tc_dir();
  char pp[600], cp[600];
  snprintf(pp, sizeof pp, "%s/p", dir);
  snprintf(cp, sizeof cp, "%s/c", dir);
  fsc_coll *parent = open_kind(pp, FSC_KIND_DICT);
  fsc_coll *child = open_kind(cp, FSC_KIND_LIST);
  fsc_value ref;
  ck_ok(fsc_ref_make(parent, child, &ref));
  ck_ok(fsc_dict_set(fsc_coll_dict(parent), "items", 5, &ref));
  fsc_coll_free(child);
  fsc_coll *mine = NULL;
  ck_ok(fsc_ref_open(parent, &ref, NULL, &mine));
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    fsc_coll *p2 = NULL, *c2 = NULL;
    fsc_value v, s = fsc_str("from the other process");
    int ok = fsc_open(pp, FSC_KIND_ANY, NULL, &p2) == 0 &&
             fsc_dict_get(fsc_coll_dict(p2), "items", 5, &v) == 0 &&
             fsc_ref_open(p2, &v, NULL, &c2) == 0 &&
             fsc_list_append(fsc_coll_list(c2), &s) == 0;
    fsc_coll_free(c2);
    fsc_coll_free(p2);
    _exit(ok ? 0 : 1);
  }
  int st;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  fsc_value got;
  ck_ok(fsc_list_get(fsc_coll_list(mine), 0, &got));
  ck_assert_int_eq(got.type, FSC_TYPE_STRING);
  ck_assert_int_eq(got.u.buf.len, strlen("from the other process"));
  fsc_coll_free(mine);
  fsc_coll_free(parent);
}
END_TEST

/* A tree moved as a directory still resolves. */
START_TEST(test_move_tree) {
  char dir[600], moved[700], sub[700], pp[800], cp[800];
  snprintf(dir, sizeof dir, "%s", tc_dir());
  snprintf(moved, sizeof moved, "%s.moved", dir);
  snprintf(sub, sizeof sub, "%s/kids", dir);
  ck_assert_int_eq(mkdir(sub, 0700), 0);
  snprintf(pp, sizeof pp, "%s/root", dir);
  snprintf(cp, sizeof cp, "%s/kids/one", dir);
  fsc_coll *parent = open_kind(pp, FSC_KIND_SET);
  fsc_coll *child = open_kind(cp, FSC_KIND_DICT);
  put(child, 42);
  fsc_value ref;
  ck_ok(fsc_ref_make(parent, child, &ref));
  uri_is(&ref, "ref://fscollection:dict?path=kids/one");
  store(parent, &ref);
  fsc_coll_free(child);
  fsc_coll_free(parent);
  ck_assert_int_eq(rename(dir, moved), 0);
  snprintf(pp, sizeof pp, "%s/root", moved);
  parent = open_kind(pp, FSC_KIND_SET);
  fsc_value back = first_ref(parent);
  fsc_coll *c = NULL;
  ck_ok(fsc_ref_open(parent, &back, NULL, &c));
  ck_assert(holds(c, 42));
  char want[800];
  snprintf(want, sizeof want, "%s/kids/one", moved);
  ck_assert_str_eq(fsc_coll_path(c), want);
  /* Set membership of a reference: the same bytes. */
  ck_fsc(fsc_set_contains(fsc_coll_set(parent), &back), 1);
  fsc_coll_free(c);
  fsc_coll_free(parent);
}
END_TEST

static fsc_value raw_ref(const char *uri) {
  fsc_value v = {.type = FSC_TYPE_REF};
  v.u.buf.ptr = uri;
  v.u.buf.len = strlen(uri);
  return v;
}

START_TEST(test_escaping_paths_refused) {
  char dir[600], in[700], out[700], pp[800], op[800], link[800];
  snprintf(dir, sizeof dir, "%s", tc_dir());
  snprintf(in, sizeof in, "%s/in", dir);
  snprintf(out, sizeof out, "%s/out", dir);
  ck_assert_int_eq(mkdir(in, 0700), 0);
  ck_assert_int_eq(mkdir(out, 0700), 0);
  snprintf(pp, sizeof pp, "%s/parent", in);
  snprintf(op, sizeof op, "%s/secret", out);
  snprintf(link, sizeof link, "%s/link", in);
  ck_assert_int_eq(symlink(out, link), 0);
  fsc_coll *parent = open_kind(pp, FSC_KIND_LIST);
  fsc_coll *secret = open_kind(op, FSC_KIND_LIST);
  put(secret, 1);
  /* Made for a child outside: stored absolute. */
  fsc_value ref;
  ck_ok(fsc_ref_make(parent, secret, &ref));
  char want[900];
  snprintf(want, sizeof want, "ref://fscollection:list?path=%s", op);
  uri_is(&ref, want);
  fsc_coll_free(secret);
  char abs_uri[900];
  snprintf(abs_uri, sizeof abs_uri, "ref://fscollection:list?path=%s", op);
  const char *planted[] = {abs_uri,
                           "ref://fscollection:list?path=../out/secret",
                           "ref://fscollection:list?path=a/../../out/secret",
                           "ref://fscollection:list?path=%2E%2E/out/secret",
                           "ref://fscollection:list?path=link/secret"};
  fsc_coll *c = NULL;
  for (size_t i = 0; i < sizeof planted / sizeof *planted; i++) {
    fsc_value v = raw_ref(planted[i]);
    ck_assert_msg(fsc_ref_open(parent, &v, NULL, &c) == FSC_EACCES,
                  "%s: %s", planted[i], fsc_errmsg());
    ck_assert_ptr_null(c);
    ck_assert_int_eq(fsc_ref_destroy(parent, &v, 0), FSC_EACCES);
    /* Allowed explicitly. */
    fsc_options o = FSC_OPTIONS_INIT;
    o.flags = FSC_REF_ALLOW_OUTSIDE;
    ck_assert_msg(fsc_ref_open(parent, &v, &o, &c) == 0, "%s: %s",
                  planted[i], fsc_errmsg());
    ck_assert(holds(c, 1));
    fsc_coll_free(c);
  }
  /* ".." that stays inside is fine. */
  fsc_coll *inner = NULL;
  char ip[800];
  snprintf(ip, sizeof ip, "%s/inner", in);
  ck_ok(fsc_open(ip, FSC_KIND_LIST, NULL, &inner));
  fsc_coll_free(inner);
  fsc_value ok = raw_ref("ref://fscollection:list?path=x/../inner");
  fsc_value okd = raw_ref("ref://fscollection:list?path=./inner");
  ck_ok(fsc_ref_open(parent, &ok, NULL, &c));
  fsc_coll_free(c);
  ck_ok(fsc_ref_open(parent, &okd, NULL, &c));
  fsc_coll_free(c);
  /* A parent opened with the flag lets its children inherit it. */
  fsc_coll_free(parent);
  fsc_options po = FSC_OPTIONS_INIT;
  po.flags |= FSC_REF_ALLOW_OUTSIDE;
  ck_ok(fsc_open(pp, FSC_KIND_LIST, &po, &parent));
  fsc_value v = raw_ref(planted[1]);
  ck_ok(fsc_ref_open(parent, &v, NULL, &c));
  fsc_coll_free(c);
  fsc_coll_free(parent);
  /* A temporary parent has no directory: relative references fail. */
  ck_ok(fsc_open(NULL, FSC_KIND_LIST, NULL, &parent));
  v = raw_ref("ref://fscollection:list?path=inner");
  ck_fsc(fsc_ref_open(parent, &v, NULL, &c), FSC_EINVAL);
  fsc_coll_free(parent);
}
END_TEST

START_TEST(test_percent_encoding) {
  char dir[600], sub[800], pp[800], cp[900];
  snprintf(dir, sizeof dir, "%s", tc_dir());
  static const char *names[] = {"a b?c%d&e=f", "na\xc3\xafve #1+2",
                                "\xe6\x97\xa5\xe6\x9c\xac", "100%"};
  snprintf(sub, sizeof sub, "%s/d\xc3\xa9j\xc3\xa0 vu?", dir);
  ck_assert_int_eq(mkdir(sub, 0700), 0);
  snprintf(pp, sizeof pp, "%s/parent", dir);
  fsc_coll *parent = open_kind(pp, FSC_KIND_DICT);
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    snprintf(cp, sizeof cp, "%s/%s", sub, names[i]);
    fsc_coll *child = open_kind(cp, FSC_KIND_LIST);
    put(child, (int64_t)i);
    fsc_value ref;
    ck_ok(fsc_ref_make(parent, child, &ref));
    /* ASCII, one '?', no raw '&' or space, and a '%' only in escapes. */
    const char *u = ref.u.buf.ptr;
    int q = 0;
    for (size_t j = 0; j < ref.u.buf.len; j++) {
      unsigned char ch = (unsigned char)u[j];
      ck_assert_msg(ch > 32 && ch < 127 && ch != '&', "uri %s", u);
      q += ch == '?';
    }
    ck_assert_int_eq(q, 1);
    char key[8];
    snprintf(key, sizeof key, "%zu", i);
    ck_ok(fsc_dict_set(fsc_coll_dict(parent), key, strlen(key), &ref));
    fsc_coll_free(child);
  }
  fsc_coll_free(parent);
  parent = open_kind(pp, FSC_KIND_DICT);
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    char key[8];
    snprintf(key, sizeof key, "%zu", i);
    fsc_value v;
    ck_ok(fsc_dict_get(fsc_coll_dict(parent), key, strlen(key), &v));
    fsc_coll *c = NULL;
    ck_ok(fsc_ref_open(parent, &v, NULL, &c));
    snprintf(cp, sizeof cp, "%s/%s", sub, names[i]);
    ck_assert_str_eq(fsc_coll_path(c), cp);
    ck_assert(holds(c, (int64_t)i));
    fsc_coll_free(c);
  }
  /* Lower-case escapes decode too. */
  fsc_value lc =
      raw_ref("ref://fscollection:list?path=d%c3%a9j%c3%a0%20vu%3f/100%25");
  fsc_coll *c = NULL;
  ck_ok(fsc_ref_open(parent, &lc, NULL, &c));
  ck_assert(holds(c, 3));
  fsc_coll_free(c);
  fsc_coll_free(parent);
}
END_TEST

/* Deleting a reference keeps the child; fsc_ref_destroy removes it; the
 * check reports it dangling without failing the parent. */
START_TEST(test_life_cycle_and_dangling) {
  const char *dir = tc_dir();
  char pp[600], cp[3][600];
  snprintf(pp, sizeof pp, "%s/p", dir);
  fsc_coll *parent = open_kind(pp, FSC_KIND_DICT);
  fsc_value one = fsc_i64(1);
  ck_ok(fsc_dict_set(fsc_coll_dict(parent), "plain", 5, &one));
  for (int i = 0; i < 3; i++) {
    snprintf(cp[i], sizeof cp[i], "%s/c%d", dir, i);
    fsc_coll *child = open_kind(cp[i], FSC_KIND_LIST);
    fsc_value ref;
    ck_ok(fsc_ref_make(parent, child, &ref));
    char key[4] = {'c', (char)('0' + i), 0};
    ck_ok(fsc_dict_set(fsc_coll_dict(parent), key, 2, &ref));
    fsc_coll_free(child);
  }
  fsc_ref_report rep = {.size = sizeof rep};
  ck_ok(fsc_ref_check(parent, 0, &rep));
  ck_assert_uint_eq(rep.values, 4);
  ck_assert_uint_eq(rep.refs, 3);
  ck_assert_uint_eq(rep.dangling, 0);
  /* Overwriting and deleting references leave the children. */
  fsc_value v0;
  ck_ok(fsc_dict_get(fsc_coll_dict(parent), "c0", 2, &v0));
  ck_ok(fsc_dict_set(fsc_coll_dict(parent), "c0", 2, &one));
  ck_ok(fsc_dict_del(fsc_coll_dict(parent), "c1", 2));
  ck_assert(exists(cp[0], ".data.fscollection"));
  ck_assert(exists(cp[1], ".index.fscollection"));
  ck_ok(fsc_dict_set(fsc_coll_dict(parent), "c0", 2, &v0));
  /* Destroy c2's files explicitly (its cached handle goes too). */
  fsc_value v2;
  ck_ok(fsc_dict_get(fsc_coll_dict(parent), "c2", 2, &v2));
  fsc_coll *c = NULL;
  ck_ok(fsc_ref_open(parent, &v2, NULL, &c));
  fsc_coll_free(c);
  ck_ok(fsc_ref_destroy(parent, &v2, 0));
  ck_assert(!exists(cp[2], ".data.fscollection"));
  ck_assert(!exists(cp[2], ".index.fscollection"));
  ck_fsc(fsc_ref_open(parent, &v2, NULL, &c), FSC_ENOENT);
  ck_fsc(fsc_ref_destroy(parent, &v2, 0), FSC_ENOENT);
  /* c0's data file goes by hand. */
  char p[700];
  snprintf(p, sizeof p, "%s.data.fscollection", cp[0]);
  ck_assert_int_eq(unlink(p), 0);
  memset(&rep, 0, sizeof rep);
  rep.size = sizeof rep;
  ck_ok(fsc_ref_check(parent, 0, &rep));
  ck_assert_uint_eq(rep.refs, 2);
  ck_assert_uint_eq(rep.dangling, 2);
  ck_assert_uint_eq(rep.outside, 0);
  ck_assert_uint_eq(rep.invalid, 0);
  ck_ok(fsc_coll_verify(parent, 0, NULL)); /* the parent is sound */
  ck_fsc(fsc_ref_check(parent, 0x100, &rep), FSC_EINVAL);
  ck_fsc(fsc_ref_check(parent, 0, NULL), FSC_EINVAL);
  /* An outside and an invalid reference are counted as such. */
  fsc_value o = raw_ref("ref://fscollection:list?path=/nowhere/x");
  fsc_value b = raw_ref("ref://fscollection:list?path=%zz");
  ck_ok(fsc_dict_set(fsc_coll_dict(parent), "o", 1, &o));
  ck_ok(fsc_dict_set(fsc_coll_dict(parent), "b", 1, &b));
  ck_ok(fsc_ref_check(parent, 0, &rep));
  ck_assert_uint_eq(rep.outside, 1);
  ck_assert_uint_eq(rep.invalid, 1);
  ck_ok(fsc_ref_check(parent, FSC_REF_ALLOW_OUTSIDE, &rep));
  ck_assert_uint_eq(rep.outside, 0);
  ck_assert_uint_eq(rep.dangling, 3);
  /* A read-only parent cannot destroy. */
  fsc_coll_free(parent);
  fsc_options ro = FSC_OPTIONS_INIT;
  ro.flags = FSC_RDONLY;
  ck_ok(fsc_open(pp, FSC_KIND_DICT, &ro, &parent));
  ck_fsc(fsc_ref_destroy(parent, &v0, 0), FSC_EROFS);
  fsc_coll_free(parent);
}
END_TEST

/* A dict holding itself: stored, opened and walked one level at a time. */
START_TEST(test_cycle) {
  const char *pp = tc_path("self");
  fsc_coll *d = open_kind(pp, FSC_KIND_DICT);
  fsc_value ref;
  ck_ok(fsc_ref_make(d, d, &ref));
  uri_is(&ref, "ref://fscollection:dict?path=self");
  ck_ok(fsc_dict_set(fsc_coll_dict(d), "me", 2, &ref));
  fsc_coll *level = d;
  for (int i = 0; i < 4; i++) {
    fsc_value v;
    fsc_coll *next = NULL;
    ck_ok(fsc_dict_get(fsc_coll_dict(level), "me", 2, &v));
    ck_ok(fsc_ref_open(level, &v, NULL, &next));
    ck_assert_str_eq(fsc_coll_path(next) + strlen(fsc_coll_path(next)) - 4,
                     "self");
    if (level != d)
      fsc_coll_free(level); /* the share; its own parent's cache keeps it */
    level = next;
  }
  fsc_coll_free(level);
  fsc_ref_report rep = {.size = sizeof rep};
  ck_ok(fsc_ref_check(d, 0, &rep));
  ck_assert_uint_eq(rep.dangling, 0);
  fsc_coll_free(d);
}
END_TEST

/* 10,000 distinct children through one parent: descriptors stay bounded
 * by the cache.  The children are hard links to one collection's files,
 * so that they cost no disk space. */
START_TEST(test_cache_bounded) {
  enum { N = 10000 };
  char dir[600], sub[700], pp[800], base[900], from[1000], to[1000];
  snprintf(dir, sizeof dir, "%s", tc_dir());
  snprintf(sub, sizeof sub, "%s/kids", dir);
  ck_assert_int_eq(mkdir(sub, 0700), 0);
  snprintf(pp, sizeof pp, "%s/parent", dir);
  snprintf(base, sizeof base, "%s/c0", sub);
  fsc_coll *c0 = open_kind(base, FSC_KIND_LIST);
  put(c0, 77);
  ck_ok(fsc_coll_close(c0));
  fsc_coll_free(c0);
  fsc_coll *parent = open_kind(pp, FSC_KIND_LIST);
  for (int i = 0; i < N; i++) {
    if (i > 0) {
      static const char *sfx[] = {".data.fscollection", ".index.fscollection"};
      for (int f = 0; f < 2; f++) {
        snprintf(from, sizeof from, "%s/c0%s", sub, sfx[f]);
        snprintf(to, sizeof to, "%s/c%d%s", sub, i, sfx[f]);
        ck_assert_int_eq(link(from, to), 0);
      }
    }
    char uri[64];
    snprintf(uri, sizeof uri, "ref://fscollection:list?path=kids/c%d", i);
    fsc_value v = raw_ref(uri);
    ck_ok(fsc_list_append(fsc_coll_list(parent), &v));
  }
  fsc_options o = FSC_OPTIONS_INIT;
  o.durability = FSC_DURABLE_NONE;
  int fds0 = count_fds(), most = fds0;
  fsc_list_iter it;
  fsc_value v;
  int rc, n = 0;
  ck_ok(fsc_list_iter_init(fsc_coll_list(parent), &it));
  while ((rc = fsc_list_iter_next(&it, &v)) == 1) {
    fsc_coll *c = NULL;
    ck_ok(fsc_ref_open(parent, &v, &o, &c));
    if (n % 997 == 0)
      ck_assert(holds(c, 77));
    fsc_coll_free(c);
    n++;
    if (n % 100 == 0) {
      int now = count_fds();
      most = now > most ? now : most;
    }
  }
  ck_assert_int_eq(rc, 0);
  ck_assert_int_eq(n, N);
  /* Each open child holds at most 3 descriptors (data, index, presence). */
  ck_assert_msg(most - fds0 <= 3 * FSC_REF_CACHE_MAX,
                "%d descriptors more with %d children", most - fds0, N);
  ck_ok(fsc_coll_close(parent));
  ck_assert_int_le(count_fds(), fds0);
  fsc_coll_free(parent);
}
END_TEST


/* Threads opening references through one parent at once: the same
 * reference gives one handle; with more children than the cache holds,
 * evictions race with opens and nothing a thread holds is freed under
 * it. */
struct race {
  fsc_coll *parent;
  fsc_value refs[FSC_REF_CACHE_MAX + 8];
  fsc_coll *first[8];
  int id, fails;
};
static struct race race_g;

static void *race_thread(void *arg) {
  int id = (int)(intptr_t)arg;
  for (int i = 0; i < 400; i++) {
    int k = i % 3 == 0 ? 0 : (i * 7 + id) % (FSC_REF_CACHE_MAX + 8);
    fsc_coll *c = NULL;
    if (fsc_ref_open(race_g.parent, &race_g.refs[k], NULL, &c) != 0) {
      __atomic_fetch_add(&race_g.fails, 1, __ATOMIC_RELAXED);
      return NULL;
    }
    uint64_t n;
    if (fsc_coll_len(c, &n) != 0 || n != 1)
      __atomic_fetch_add(&race_g.fails, 1, __ATOMIC_RELAXED);
    if (i == 0)
      race_g.first[id] = c; /* held: compared below, freed then */
    else
      fsc_coll_free(c);
  }
  return NULL;
}

START_TEST(test_threads) {
  enum { T = 8, K = FSC_REF_CACHE_MAX + 8 };
  const char *dir = tc_dir();
  char pp[600], cp[700];
  snprintf(pp, sizeof pp, "%s/p", dir);
  race_g.parent = open_kind(pp, FSC_KIND_LIST);
  for (int k = 0; k < K; k++) {
    snprintf(cp, sizeof cp, "%s/c%d", dir, k);
    fsc_coll *c = open_kind(cp, FSC_KIND_LIST);
    put(c, k);
    ck_ok(fsc_ref_make(race_g.parent, c, &race_g.refs[k]));
    fsc_coll_free(c);
  }
  /* Warm the cache with reference 0 so every thread's first open hits. */
  fsc_coll *warm = NULL;
  ck_ok(fsc_ref_open(race_g.parent, &race_g.refs[0], NULL, &warm));
  pthread_t th[T];
  for (int t = 0; t < T; t++)
    ck_assert_int_eq(
        pthread_create(&th[t], NULL, race_thread, (void *)(intptr_t)t), 0);
  for (int t = 0; t < T; t++)
    pthread_join(th[t], NULL);
  ck_assert_int_eq(race_g.fails, 0);
  for (int t = 0; t < T; t++) {
    ck_assert_ptr_eq(race_g.first[t], warm); /* one handle for all */
    ck_assert(holds(race_g.first[t], 0));
    fsc_coll_free(race_g.first[t]);
  }
  fsc_coll_free(warm);
  ck_ok(fsc_coll_close(race_g.parent));
  fsc_coll_free(race_g.parent);
}
END_TEST

static Suite *ref_suite(void) {
  Suite *s = suite_create("ref");
  TCase *tc = tcase_create("ref");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_every_parent_every_child);
  tcase_add_test(tc, test_typed_faces_and_errors);
  tcase_add_test(tc, test_cache_and_ownership);
  tcase_add_test(tc, test_closed_child_reopens);
  tcase_add_test(tc, test_other_process);
  tcase_add_test(tc, test_move_tree);
  tcase_add_test(tc, test_escaping_paths_refused);
  tcase_add_test(tc, test_percent_encoding);
  tcase_add_test(tc, test_life_cycle_and_dangling);
  tcase_add_test(tc, test_cycle);
  tcase_add_test(tc, test_cache_bounded);
  tcase_add_test(tc, test_threads);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tc_run(ref_suite()); }
