/*
 * test_compact.c - compaction: manual for every kind and type, the
 * generation switch seen by other handles and processes, writers racing
 * it, a process killed anywhere inside it, the threshold, and swap-and-pop
 * (auto_compact).
 */
#include "check_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <pthread.h>
#include <time.h>

static fsc_metrics metrics_list(fsc_list *l) {
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_list_metrics(l, &m));
  return m;
}

static fsc_metrics metrics_dict(fsc_dict *d) {
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_dict_metrics(d, &m));
  return m;
}

static fsc_metrics metrics_set(fsc_set *s) {
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_set_metrics(s, &m));
  return m;
}

static bool exists(const char *base, const char *suffix) {
  char p[700];
  snprintf(p, sizeof p, "%s%s", base, suffix);
  struct stat st;
  return stat(p, &st) == 0;
}

/* The i-th test value of type t (ANY cycles through the types). */
static fsc_value val_of(fsc_type t, int64_t i, char *buf, size_t cap) {
  if (t == FSC_TYPE_ANY) {
    t = (fsc_type)(FSC_TYPE_INT32 + (i % 9));
    if (t == FSC_TYPE_BOOL) /* two values only: keep elements distinct */
      t = FSC_TYPE_INT64;
  }
  switch (t) {
  case FSC_TYPE_INT32:
    return fsc_i32((int32_t)i);
  case FSC_TYPE_INT64:
    return fsc_i64(i * 1000003);
  case FSC_TYPE_INT128: {
    fsc_int128 x = {.lo = (uint64_t)i, .hi = -i};
    return fsc_i128(x);
  }
  case FSC_TYPE_BOOL:
    return fsc_bool(i & 1);
  case FSC_TYPE_FLOAT:
    return fsc_f64((double)i / 4);
  case FSC_TYPE_STRING:
    snprintf(buf, cap, "string-%lld-é", (long long)i);
    return fsc_str(buf);
  case FSC_TYPE_BYTES:
    snprintf(buf, cap, "b%lld", (long long)i);
    buf[0] = 0; /* a NUL inside */
    return fsc_bytes(buf, strlen(buf + 1) + 1);
  case FSC_TYPE_JSON:
    snprintf(buf, cap, "{\"i\": %lld}", (long long)i);
    return fsc_json(buf, strlen(buf));
  case FSC_TYPE_REF:
    snprintf(buf, cap, "ref://fscollection:list?path=/x/%lld", (long long)i);
    {
      fsc_value r = {.type = FSC_TYPE_REF};
      r.u.buf.ptr = buf;
      r.u.buf.len = strlen(buf);
      return r;
    }
  default:
    return fsc_i64(i);
  }
}

static unsigned fsc__fixed(fsc_type t) {
  return t == FSC_TYPE_INT32 ? 4 : t == FSC_TYPE_INT128 ? 16
         : t == FSC_TYPE_BOOL ? 1 : 8;
}

static const fsc_type all_types[] = {
    FSC_TYPE_INT32,  FSC_TYPE_INT64, FSC_TYPE_INT128, FSC_TYPE_BOOL,
    FSC_TYPE_FLOAT,  FSC_TYPE_STRING, FSC_TYPE_BYTES, FSC_TYPE_JSON,
    FSC_TYPE_REF,    FSC_TYPE_ANY};

/* A list of every type: overwrite, pop and delete, compact, and find
 * exactly the model, with dead bytes gone, in this handle, in another one
 * opened before, and after a reopen. */
START_TEST(test_list_every_type) {
  fsc_type t = all_types[_i];
  const char *base = tc_path("l");
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = t;
  fsc_list *l, *other;
  ck_ok(fsc_list_open(base, &o, &l));
  ck_ok(fsc_list_open(base, NULL, &other));
  enum { N = 3000 };
  static int64_t model[N];
  int64_t n = 0;
  char buf[128];
  for (int64_t i = 0; i < N; i++) {
    fsc_value v = val_of(t, i, buf, sizeof buf);
    ck_ok(fsc_list_append(l, &v));
    model[n++] = i;
  }
  for (int64_t i = 0; i < N; i += 3) { /* overwrite a third */
    fsc_value v = val_of(t, i + N, buf, sizeof buf);
    ck_ok(fsc_list_set(l, i, &v));
    model[i] = i + N;
  }
  for (int k = 0; k < 200; k++) { /* pop from the middle and the end */
    int64_t at = k % 2 ? n - 1 : (k * 7) % n;
    ck_ok(fsc_list_del(l, at));
    memmove(model + at, model + at + 1, (size_t)(n - at - 1) * 8);
    n--;
  }
  fsc_metrics before = metrics_list(l);
  ck_assert_uint_gt(before.dead_bytes, 0);
  ck_ok(fsc_list_compact(l));
  fsc_metrics after = metrics_list(l);
  ck_assert_uint_eq(after.dead_bytes, 0);
  ck_assert(after.fragmentation_ratio == 0.0);
  ck_assert_uint_eq(after.live_bytes, before.live_bytes);
  ck_assert_uint_eq(after.generation, before.generation + 1);
  ck_assert_uint_eq(after.length, (uint64_t)n);
  ck_assert_uint_lt(after.data_file_bytes, before.data_file_bytes + 1);
  ck_assert(!exists(base, ".data.fscollection.compact"));
  ck_assert(!exists(base, ".index.fscollection.compact"));
  fsc_list *hs[2] = {l, other};
  for (int h = 0; h < 2; h++) {
    uint64_t len;
    ck_ok(fsc_list_len(hs[h], &len));
    ck_assert_uint_eq(len, (uint64_t)n);
    for (int64_t i = 0; i < n; i++) {
      fsc_value got, want = val_of(t, model[i], buf, sizeof buf);
      ck_ok(fsc_list_get(hs[h], i, &got));
      ck_assert_msg(fsc_value_equal(&got, &want), "element %lld differs",
                    (long long)i);
    }
  }
  /* Both handles keep writing in the new files. */
  fsc_value v = val_of(t, 7, buf, sizeof buf);
  ck_ok(fsc_list_append(other, &v));
  ck_ok(fsc_list_append(l, &v));
  ck_ok(fsc_list_close(other));
  ck_ok(fsc_list_close(l));
  fsc_list_free(other);
  fsc_list_free(l);
  ck_ok(fsc_list_open(base, NULL, &l));
  fsc_metrics m = metrics_list(l);
  ck_assert_uint_eq(m.length, (uint64_t)n + 2);
  ck_assert_uint_eq(m.generation, before.generation + 1);
  ck_assert(m.last_close_clean);
  for (int64_t i = 0; i < n; i++) {
    fsc_value got, want = val_of(t, model[i], buf, sizeof buf);
    ck_ok(fsc_list_get(l, i, &got));
    ck_assert(fsc_value_equal(&got, &want));
  }
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* A dict of every value type: insertion order, updates keeping their
 * place, deletes, then compaction gives the same items in the same
 * order. */
START_TEST(test_dict_every_type) {
  fsc_type t = all_types[_i];
  const char *base = tc_path("d");
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = t;
  fsc_dict *d;
  ck_ok(fsc_dict_open(base, &o, &d));
  enum { N = 2000 };
  char key[32], buf[128];
  for (int i = 0; i < N; i++) {
    snprintf(key, sizeof key, "key-%d", i);
    fsc_value v = val_of(t, i, buf, sizeof buf);
    ck_ok(fsc_dict_set(d, key, strlen(key), &v));
  }
  for (int i = 0; i < N; i += 4) { /* update: keeps the key's place */
    snprintf(key, sizeof key, "key-%d", i);
    fsc_value v = val_of(t, i + 1, buf, sizeof buf);
    ck_ok(fsc_dict_set(d, key, strlen(key), &v));
  }
  for (int i = 1; i < N; i += 4) { /* delete a quarter */
    snprintf(key, sizeof key, "key-%d", i);
    ck_ok(fsc_dict_del(d, key, strlen(key)));
  }
  fsc_metrics before = metrics_dict(d);
  ck_assert_uint_gt(before.dead_bytes, 0);
  ck_ok(fsc_dict_compact(d));
  fsc_metrics after = metrics_dict(d);
  ck_assert_uint_eq(after.dead_bytes, 0);
  ck_assert_uint_eq(after.length, before.length);
  ck_assert_uint_eq(after.generation, before.generation + 1);
  ck_assert_uint_lt(after.live_bytes, before.live_bytes + 1);
  /* Iteration order is insertion order, as before. */
  fsc_dict_iter it;
  fsc_value k, v;
  int i = 0, rc;
  ck_ok(fsc_dict_iter_init(d, &it));
  while ((rc = fsc_dict_iter_next(&it, &k, &v)) == 1) {
    while (i % 4 == 1)
      i++;
    snprintf(key, sizeof key, "key-%d", i);
    ck_assert_uint_eq(k.u.buf.len, strlen(key));
    ck_assert(memcmp(k.u.buf.ptr, key, k.u.buf.len) == 0);
    fsc_value want = val_of(t, i % 4 == 0 ? i + 1 : i, buf, sizeof buf);
    ck_assert(fsc_value_equal(&v, &want));
    i++;
  }
  ck_assert_int_eq(rc, 0);
  ck_assert_int_eq(i, N);
  /* Still a working dict: updates, inserts, deletes. */
  fsc_value x = val_of(t, 5, buf, sizeof buf);
  ck_ok(fsc_dict_set(d, "new", 3, &x));
  ck_ok(fsc_dict_del(d, "key-0", 5));
  ck_fsc(fsc_dict_del(d, "key-1", 5), FSC_EKEY);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_set_every_type) {
  fsc_type t = all_types[_i];
  if (t == FSC_TYPE_BOOL)
    return; /* two elements: covered by ANY */
  const char *base = tc_path("s");
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = t;
  fsc_set *s;
  ck_ok(fsc_set_open(base, &o, &s));
  enum { N = 2000 };
  char buf[128];
  for (int i = 0; i < N; i++) {
    fsc_value v = val_of(t, i, buf, sizeof buf);
    ck_fsc(fsc_set_add(s, &v), 1);
  }
  for (int i = 0; i < N; i += 2) {
    fsc_value v = val_of(t, i, buf, sizeof buf);
    ck_ok(fsc_set_remove(s, &v));
  }
  fsc_metrics before = metrics_set(s);
  ck_ok(fsc_set_compact(s));
  fsc_metrics after = metrics_set(s);
  ck_assert_uint_eq(after.dead_bytes, 0);
  ck_assert_uint_eq(after.length, before.length);
  for (int i = 0; i < N; i++) {
    fsc_value v = val_of(t, i, buf, sizeof buf);
    ck_assert_int_eq(fsc_set_contains(s, &v), i % 2);
  }
  uint64_t len;
  ck_ok(fsc_set_len(s, &len));
  ck_assert_uint_eq(len, before.length);
  fsc_set_iter it;
  fsc_value e;
  uint64_t seen = 0;
  int rc;
  ck_ok(fsc_set_iter_init(s, &it));
  while ((rc = fsc_set_iter_next(&it, &e)) == 1) {
    ck_assert_int_eq(fsc_set_contains(s, &e), 1);
    seen++;
  }
  ck_assert_int_eq(rc, 0);
  ck_assert_uint_eq(seen, len);
  ck_ok(fsc_set_destroy(s));
  fsc_set_free(s);
}
END_TEST

/* Zero-copy views handed out before a compaction stay readable until the
 * handle closes; iterators begun before say FSC_EAGAIN. */
START_TEST(test_views_survive) {
  const char *base = tc_path("v");
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_STRING;
  fsc_dict *d;
  ck_ok(fsc_dict_open(base, &o, &d));
  ck_ok(fsc_dict_set_str(d, "a", "the value of a"));
  ck_ok(fsc_dict_set_str(d, "a", "the second value of a"));
  ck_ok(fsc_dict_set_str(d, "b", "bee"));
  const char *p;
  size_t n;
  ck_ok(fsc_dict_get_str(d, "a", &p, &n));
  fsc_dict_iter it;
  fsc_value k, v;
  ck_ok(fsc_dict_iter_init(d, &it));
  ck_fsc(fsc_dict_iter_next(&it, &k, &v), 1);
  ck_ok(fsc_dict_compact(d));
  ck_assert_uint_eq(n, strlen("the second value of a"));
  ck_assert(memcmp(p, "the second value of a", n) == 0);
  ck_fsc(fsc_dict_iter_next(&it, &k, &v), FSC_EAGAIN);
  ck_ok(fsc_dict_compact(d)); /* again: generation 3 */
  ck_assert(memcmp(p, "the second value of a", n) == 0);
  fsc_metrics m = metrics_dict(d);
  ck_assert_uint_eq(m.generation, 3);
  ck_ok(fsc_dict_reclaim(d));
  ck_ok(fsc_dict_get_str(d, "b", &p, &n));
  ck_assert(n == 3 && memcmp(p, "bee", 3) == 0);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* A temporary collection compacts within its process. */
START_TEST(test_temporary) {
  fsc_list *l;
  ck_ok(fsc_list_open(NULL, NULL, &l));
  for (int i = 0; i < 1000; i++)
    ck_ok(fsc_list_append_i64(l, i));
  for (int i = 0; i < 500; i++)
    ck_ok(fsc_list_pop(l, 0, NULL));
  ck_ok(fsc_list_compact(l));
  fsc_metrics m = metrics_list(l);
  ck_assert_uint_eq(m.dead_bytes, 0);
  ck_assert_uint_eq(m.length, 500);
  for (int i = 0; i < 500; i++) {
    int64_t x;
    ck_ok(fsc_list_get_i64(l, i, &x));
    ck_assert_int_eq(x, i + 500);
  }
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

/* Read-only handles cannot compact, but follow one. */
START_TEST(test_rdonly_follows) {
  const char *base = tc_path("r");
  fsc_list *w, *r;
  ck_ok(fsc_list_open(base, NULL, &w));
  for (int i = 0; i < 100; i++)
    ck_ok(fsc_list_append_i64(w, i));
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = FSC_RDONLY;
  ck_ok(fsc_list_open(base, &o, &r));
  ck_fsc(fsc_list_compact(r), FSC_EROFS);
  ck_ok(fsc_list_del(w, 0));
  ck_ok(fsc_list_compact(w));
  ck_ok(fsc_list_append_i64(w, 100));
  uint64_t n;
  ck_ok(fsc_list_len(r, &n));
  ck_assert_uint_eq(n, 100);
  int64_t x;
  ck_ok(fsc_list_get_i64(r, 99, &x));
  ck_assert_int_eq(x, 100);
  fsc_metrics m = metrics_list(r);
  ck_assert_uint_eq(m.generation, 2);
  ck_ok(fsc_list_close(r));
  ck_ok(fsc_list_destroy(w));
  fsc_list_free(r);
  fsc_list_free(w);
}
END_TEST

START_TEST(test_options_checked) {
  const char *base = tc_path("o");
  fsc_options o = FSC_OPTIONS_INIT;
  fsc_list *l;
  fsc_dict *d;
  o.auto_compact = true;
  o.type = FSC_TYPE_STRING;
  ck_fsc(fsc_list_open(base, &o, &l), FSC_EINVAL);
  o.type = FSC_TYPE_ANY;
  ck_fsc(fsc_list_open(base, &o, &l), FSC_EINVAL);
  o.type = FSC_TYPE_INT64;
  ck_fsc(fsc_dict_open(base, &o, &d), FSC_EINVAL);
  o = (fsc_options)FSC_OPTIONS_INIT;
  o.compaction_threshold = 1.5;
  ck_fsc(fsc_list_open(base, &o, &l), FSC_EINVAL);
  o.compaction_threshold = -0.1;
  ck_fsc(fsc_list_open(base, &o, &l), FSC_EINVAL);
  o.compaction_threshold = 0.0 / 0.0;
  ck_fsc(fsc_list_open(base, &o, &l), FSC_EINVAL);
  /* An older caller's smaller options struct: no compaction fields. */
  o = (fsc_options)FSC_OPTIONS_INIT;
  o.size = offsetof(fsc_options, compaction_threshold);
  ck_ok(fsc_list_open(base, &o, &l));
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* compaction_threshold: the write that crosses it compacts. */
START_TEST(test_threshold) {
  const char *base = tc_path("t");
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_STRING;
  o.compaction_threshold = 0.25;
  fsc_dict *d, *plain;
  ck_ok(fsc_dict_open(base, &o, &d));
  ck_ok(fsc_dict_open(base, NULL, &plain));
  char big[1000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = 0;
  /* 1000 live keys of ~1 KB: 1 MB live. */
  for (int i = 0; i < 1000; i++) {
    char key[16];
    snprintf(key, sizeof key, "k%d", i);
    ck_ok(fsc_dict_set_str(d, key, big));
  }
  /* A handle without the option never compacts, whatever it leaves. */
  for (int i = 0; i < 1500; i++) {
    char key[16];
    snprintf(key, sizeof key, "k%d", i % 1000);
    ck_ok(fsc_dict_set_str(plain, key, big));
  }
  fsc_metrics m = metrics_dict(d);
  ck_assert_uint_eq(m.generation, 1);
  ck_assert(m.fragmentation_ratio > 0.5);
  /* One write through the compacting handle crosses it. */
  ck_ok(fsc_dict_set_str(d, "k0", "small"));
  m = metrics_dict(d);
  ck_assert_uint_eq(m.generation, 2);
  ck_assert_uint_lt(m.dead_bytes, 2048);
  ck_assert_uint_eq(m.length, 1000);
  m = metrics_dict(plain);
  ck_assert_uint_eq(m.generation, 2);
  const char *p;
  size_t n;
  ck_ok(fsc_dict_get_str(plain, "k0", &p, &n));
  ck_assert(n == 5 && memcmp(p, "small", 5) == 0);
  ck_ok(fsc_dict_close(plain));
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(plain);
  fsc_dict_free(d);
}
END_TEST

/* Writers in other processes append and count while this one compacts,
 * over and over: every acknowledged write is in the final contents. */
START_TEST(test_compact_under_writers) {
  const char *base = tc_path("w");
  char lbase[600], dbase[600];
  snprintf(lbase, sizeof lbase, "%s-list", base);
  snprintf(dbase, sizeof dbase, "%s-dict", base);
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  fsc_list *l;
  fsc_dict *d;
  ck_ok(fsc_list_open(lbase, &o, &l));
  ck_ok(fsc_dict_open(dbase, &o, &d));
  enum { WRITERS = 3, PER = 3000 };
  pid_t pids[WRITERS];
  for (int w = 0; w < WRITERS; w++) {
    pids[w] = fork();
    ck_assert_int_ge(pids[w], 0);
    if (pids[w] == 0) {
      fsc_list *cl;
      fsc_dict *cd;
      if (fsc_list_open(lbase, NULL, &cl) || fsc_dict_open(dbase, NULL, &cd))
        _exit(2);
      for (int i = 0; i < PER; i++) {
        char key[16];
        snprintf(key, sizeof key, "c%d", i % 50);
        int rc = fsc_list_append_i64(cl, (int64_t)w * PER + i);
        if (rc == 0)
          rc = fsc_dict_incr(cd, key, strlen(key), 1, NULL);
        if (rc == 0 && i % 7 == 0) { /* a structural change, and a dead
                                          record left behind */
          fsc_value junk = fsc_i64(INT64_C(1) << 40 | (w * PER + i));
          rc = fsc_list_append(cl, &junk);
          if (rc == 0)
            rc = fsc_list_remove(cl, &junk);
        }
        if (rc) {
          fprintf(stderr, "writer %d: %s: %s\n", w, fsc_strerror(rc),
                  fsc_errmsg());
          _exit(1);
        }
      }
      fsc_list_close(cl);
      fsc_dict_close(cd);
      _exit(0);
    }
  }
  /* A reader process walks the list and reads the counters throughout:
   * every value it meets is one a writer wrote. */
  int stop_pipe[2];
  ck_assert_int_eq(pipe(stop_pipe), 0);
  pid_t reader = fork();
  ck_assert_int_ge(reader, 0);
  if (reader == 0) {
    close(stop_pipe[1]);
    fcntl(stop_pipe[0], F_SETFL, O_NONBLOCK);
    fsc_list *rl;
    fsc_dict *rd;
    if (fsc_list_open(lbase, NULL, &rl) || fsc_dict_open(dbase, NULL, &rd))
      _exit(2);
    char b;
    while (read(stop_pipe[0], &b, 1) < 0) {
      uint64_t n;
      if (fsc_list_len(rl, &n))
        _exit(3);
      for (uint64_t i = 0; i < n; i += 13) {
        int64_t x;
        int rc = fsc_list_get_i64(rl, (int64_t)i, &x);
        if (rc == FSC_EINDEX)
          break;
        if (rc || x < 0 || (x >= WRITERS * PER && !(x >> 40))) {
          fprintf(stderr, "reader: %s, value %lld\n", fsc_errmsg(),
                  (long long)x);
          _exit(4);
        }
      }
      int64_t c;
      int rc = fsc_dict_get_i64(rd, "c0", &c);
      if (rc && rc != FSC_EKEY)
        _exit(5);
    }
    _exit(0);
  }
  close(stop_pipe[0]);
  int compactions = 0;
  for (;;) {
    int done = 0;
    for (int w = 0; w < WRITERS; w++) {
      int st;
      if (pids[w] == 0) {
        done++;
        continue;
      }
      pid_t r = waitpid(pids[w], &st, WNOHANG);
      if (r == pids[w]) {
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                      "writer %d failed", w);
        pids[w] = 0;
        done++;
      }
    }
    if (done == WRITERS)
      break;
    if (compactions == 300) { /* enough (slow writers, e.g. valgrind) */
      usleep(10000);
      continue;
    }
    ck_ok(fsc_list_compact(l));
    ck_ok(fsc_dict_compact(d));
    compactions++;
  }
  ck_assert_int_gt(compactions, 0);
  close(stop_pipe[1]);
  int rst;
  waitpid(reader, &rst, 0);
  ck_assert_msg(WIFEXITED(rst) && WEXITSTATUS(rst) == 0,
                "the reader failed (status 0x%x)", rst);
  /* The list: each writer's values appear once each, in its order. */
  uint64_t n;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_uint_eq(n, WRITERS * PER);
  int64_t next[WRITERS] = {0};
  for (uint64_t i = 0; i < n; i++) {
    int64_t x;
    ck_ok(fsc_list_get_i64(l, (int64_t)i, &x));
    int w = (int)(x / PER);
    ck_assert_int_lt(w, WRITERS);
    ck_assert_int_eq(x % PER, next[w]);
    next[w]++;
  }
  int64_t total = 0;
  for (int k = 0; k < 50; k++) {
    char key[16];
    snprintf(key, sizeof key, "c%d", k);
    int64_t x;
    ck_ok(fsc_dict_get_i64(d, key, &x));
    total += x;
  }
  ck_assert_int_eq(total, WRITERS * PER);
  ck_ok(fsc_list_destroy(l));
  ck_ok(fsc_dict_destroy(d));
  fsc_list_free(l);
  fsc_dict_free(d);
}
END_TEST

/* A compacting process killed at a random moment: the next open finds
 * the old or the new collection, whole, and no left-over files. */
START_TEST(test_kill_during_compaction) {
  const char *base = tc_path("k");
  char lbase[600], dbase[600];
  snprintf(lbase, sizeof lbase, "%s-list", base);
  snprintf(dbase, sizeof dbase, "%s-dict", base);
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_STRING;
  enum { N = 20000 };
  {
    fsc_list *l;
    fsc_dict *d;
    ck_ok(fsc_list_open(lbase, &o, &l));
    ck_ok(fsc_dict_open(dbase, &o, &d));
    for (int i = 0; i < N; i++) {
      char s[32];
      snprintf(s, sizeof s, "v%d", i);
      ck_ok(fsc_list_append_str(l, s));
      ck_ok(fsc_dict_set_str(d, s, s));
      if (i % 2)
        ck_ok(fsc_dict_set_str(d, s, s)); /* a dead record */
    }
    ck_ok(fsc_list_close(l));
    ck_ok(fsc_dict_close(d));
    fsc_list_free(l);
    fsc_dict_free(d);
  }
  /* Kill within about three compactions' time (as long as one takes on
   * this machine, under valgrind or not). */
  struct timespec t0, t1;
  {
    fsc_list *l;
    fsc_dict *d;
    ck_ok(fsc_list_open(lbase, NULL, &l));
    ck_ok(fsc_dict_open(dbase, NULL, &d));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_ok(fsc_list_compact(l));
    ck_ok(fsc_dict_compact(d));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_ok(fsc_list_close(l));
    ck_ok(fsc_dict_close(d));
    fsc_list_free(l);
    fsc_dict_free(d);
  }
  unsigned span = (unsigned)((t1.tv_sec - t0.tv_sec) * 1000000 +
                             (t1.tv_nsec - t0.tv_nsec) / 1000) * 3 + 1000;
  unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
  int rounds = 12, moved = 0;
  for (int r = 0; r < rounds; r++) {
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      fsc_list *l;
      fsc_dict *d;
      if (fsc_list_open(lbase, NULL, &l) || fsc_dict_open(dbase, NULL, &d))
        _exit(2);
      for (;;) {
        if (fsc_list_compact(l) || fsc_dict_compact(d))
          _exit(1);
      }
    }
    usleep(1000 + rand_r(&seed) % span);
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    ck_assert(WIFSIGNALED(st));
    fsc_list *l;
    fsc_dict *d;
    ck_ok(fsc_list_open(lbase, NULL, &l));
    ck_ok(fsc_dict_open(dbase, NULL, &d));
    ck_assert(!exists(lbase, ".data.fscollection.compact"));
    ck_assert(!exists(lbase, ".index.fscollection.compact"));
    ck_assert(!exists(dbase, ".data.fscollection.compact"));
    ck_assert(!exists(dbase, ".index.fscollection.compact"));
    uint64_t n;
    ck_ok(fsc_list_len(l, &n));
    ck_assert_uint_eq(n, N);
    ck_ok(fsc_dict_len(d, &n));
    ck_assert_uint_eq(n, N);
    for (int i = 0; i < N; i += 97) {
      char s[32];
      const char *p;
      size_t len;
      snprintf(s, sizeof s, "v%d", i);
      ck_ok(fsc_list_get_str(l, i, &p, &len));
      ck_assert(len == strlen(s) && memcmp(p, s, len) == 0);
      ck_ok(fsc_dict_get_str(d, s, &p, &len));
      ck_assert(len == strlen(s) && memcmp(p, s, len) == 0);
    }
    fsc_metrics m = metrics_list(l);
    moved += m.generation > 2; /* the child compacted at least once */
    /* Still writable, then back to the shape the next round expects. */
    ck_ok(fsc_list_append_str(l, "extra"));
    ck_ok(fsc_list_pop(l, -1, NULL));
    ck_ok(fsc_list_close(l));
    ck_ok(fsc_dict_close(d));
    fsc_list_free(l);
    fsc_dict_free(d);
  }
  ck_assert_int_gt(moved, 0);
}
END_TEST


static fsc_list *open_swap(const char *base, fsc_type t) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = t;
  o.auto_compact = true;
  fsc_list *l;
  ck_ok(fsc_list_open(base, &o, &l));
  return l;
}

/* The seed's example, and swap-and-pop against a model for every
 * fixed-size type. */
START_TEST(test_swap_pop_semantics) {
  fsc_list *l = open_swap(tc_path("sp"), FSC_TYPE_INT64);
  ck_ok(fsc_list_append_i64(l, 100));
  ck_ok(fsc_list_append_i64(l, 200));
  ck_ok(fsc_list_append_i64(l, 300));
  fsc_value v;
  ck_ok(fsc_list_pop(l, 1, &v));
  ck_assert_int_eq(v.u.i64, 200);
  int64_t x;
  uint64_t n;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_uint_eq(n, 2);
  ck_ok(fsc_list_get_i64(l, 0, &x));
  ck_assert_int_eq(x, 100);
  ck_ok(fsc_list_get_i64(l, 1, &x));
  ck_assert_int_eq(x, 300);
  ck_ok(fsc_list_append_i64(l, 400));
  ck_ok(fsc_list_append_i64(l, 500)); /* [100, 300, 400, 500] */
  ck_ok(fsc_list_del(l, 0));           /* [500, 300, 400] */
  int64_t want[] = {500, 300, 400};
  for (int i = 0; i < 3; i++) {
    ck_ok(fsc_list_get_i64(l, i, &x));
    ck_assert_int_eq(x, want[i]);
  }
  ck_fsc(fsc_list_pop(l, 3, NULL), FSC_EINDEX);
  ck_fsc(fsc_list_pop(l, -4, NULL), FSC_EINDEX);
  ck_ok(fsc_list_pop(l, -1, &v)); /* the last: no swap */
  ck_assert_int_eq(v.u.i64, 400);
  ck_ok(fsc_list_pop(l, 0, NULL));
  ck_ok(fsc_list_pop(l, 0, &v));
  ck_assert_int_eq(v.u.i64, 300);
  ck_fsc(fsc_list_pop(l, 0, NULL), FSC_EINDEX);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);

  static const fsc_type fixed[] = {FSC_TYPE_INT32, FSC_TYPE_INT64,
                                   FSC_TYPE_INT128, FSC_TYPE_BOOL,
                                   FSC_TYPE_FLOAT};
  for (unsigned t = 0; t < 5; t++) {
    l = open_swap(tc_path("spm"), fixed[t]);
    static int64_t model[4000];
    int64_t n2 = 0;
    unsigned seed = 7 + t;
    char buf[8];
    for (int step = 0; step < 6000; step++) {
      if (n2 == 0 || rand_r(&seed) % 3) {
        fsc_value e = val_of(fixed[t], step, buf, sizeof buf);
        ck_ok(fsc_list_append(l, &e));
        model[n2++] = step;
      } else {
        int64_t i = (int64_t)(rand_r(&seed) % (unsigned)n2);
        fsc_value got, exp = val_of(fixed[t], model[i], buf, sizeof buf);
        ck_ok(fsc_list_pop(l, i, &got));
        ck_assert(fsc_value_equal(&got, &exp));
        model[i] = model[n2 - 1];
        n2--;
      }
    }
    ck_ok(fsc_list_len(l, &n));
    ck_assert_uint_eq(n, (uint64_t)n2);
    for (int64_t i = 0; i < n2; i++) {
      fsc_value got, exp = val_of(fixed[t], model[i], buf, sizeof buf);
      ck_ok(fsc_list_get(l, i, &got));
      ck_assert(fsc_value_equal(&got, &exp));
    }
    /* Appends and swap-pops only: every removed record's space came
     * back, nothing is dead. */
    fsc_metrics m = metrics_list(l);
    ck_assert_uint_eq(m.dead_bytes, 0);
    ck_assert_uint_eq(m.live_bytes, (uint64_t)n2 * tc_rec_bytes(fsc__fixed(fixed[t])));
    ck_ok(fsc_list_destroy(l));
    fsc_list_free(l);
  }
}
END_TEST

/* O(1) space: a queue of constant length under append + pop(i) cycles
 * keeps the data file where it was. */
START_TEST(test_swap_pop_space) {
  fsc_list *l = open_swap(tc_path("sq"), FSC_TYPE_INT64);
  for (int i = 0; i < 10000; i++)
    ck_ok(fsc_list_append_i64(l, i));
  fsc_metrics m0 = metrics_list(l);
  for (int i = 0; i < 100000; i++) {
    ck_ok(fsc_list_append_i64(l, i));
    ck_ok(fsc_list_pop(l, (i * 7919) % 10000, NULL));
  }
  fsc_metrics m1 = metrics_list(l);
  ck_assert_uint_eq(m1.length, 10000);
  ck_assert_uint_eq(m1.dead_bytes, 0);
  ck_assert_uint_eq(m1.live_bytes, m0.live_bytes);
  ck_assert_uint_eq(m1.data_file_bytes, m0.data_file_bytes);
  /* Without auto_compact the same work leaves 100000 dead records. */
  fsc_list *p;
  ck_ok(fsc_list_open(tc_path("sq2"), NULL, &p));
  for (int i = 0; i < 1000; i++)
    ck_ok(fsc_list_append_i64(p, i));
  for (int i = 0; i < 1000; i++) {
    ck_ok(fsc_list_append_i64(p, i));
    ck_ok(fsc_list_pop(p, 0, NULL));
  }
  fsc_metrics mp = metrics_list(p);
  ck_assert_uint_eq(mp.dead_bytes, 1000 * tc_rec_bytes(8));
  ck_ok(fsc_list_destroy(p));
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(p);
  fsc_list_free(l);
}
END_TEST

/* Readers in other processes never see a torn or foreign value while a
 * writer swap-pops and appends (records are rewritten in place). */
START_TEST(test_swap_pop_readers) {
  const char *base = tc_path("sr");
  /* static: reachable from the readers forked below, which valgrind's
   * leak check (run at their _exit) would otherwise count as lost. */
  static fsc_list *l;
  l = open_swap(base, FSC_TYPE_INT128);
  for (int64_t i = 0; i < 2000; i++) {
    fsc_int128 x = {.lo = (uint64_t)i, .hi = ~i};
    fsc_value v = fsc_i128(x);
    ck_ok(fsc_list_append(l, &v));
  }
  enum { READERS = 2 };
  pid_t pids[READERS];
  for (int r = 0; r < READERS; r++) {
    pids[r] = fork();
    if (pids[r] == 0) {
      fsc_list *rl;
      if (fsc_list_open(base, NULL, &rl)) {
        fprintf(stderr, "reader: open: %s\n", fsc_errmsg());
        _exit(2);
      }
      unsigned seed = (unsigned)getpid();
      for (int k = 0; k < 400000; k++) {
        fsc_value v;
        int rc = fsc_list_get(rl, rand_r(&seed) % 2000, &v);
        if (rc == FSC_EINDEX)
          continue;
        if (rc || v.u.i128.hi != ~(int64_t)v.u.i128.lo) {
          fprintf(stderr, "reader: rc %d (%s), lo %llu hi %lld\n", rc,
                  fsc_errmsg(), (unsigned long long)v.u.i128.lo,
                  (long long)v.u.i128.hi);
          _exit(1);
        }
      }
      fsc_list_free(rl);
      _exit(0);
    }
  }
  unsigned seed = 3;
  int64_t next = 2000;
  for (int k = 0; k < 60000; k++) {
    ck_ok(fsc_list_pop(l, rand_r(&seed) % 1990, NULL));
    fsc_int128 x = {.lo = (uint64_t)next, .hi = ~next};
    next++;
    fsc_value v = fsc_i128(x);
    ck_ok(fsc_list_append(l, &v));
  }
  for (int r = 0; r < READERS; r++) {
    int st;
    waitpid(pids[r], &st, 0);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "reader %d failed (status 0x%x)", r, st);
  }
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST


/* Threads of one process share handles while another thread compacts
 * them: the handle moves between generations under their feet. */
struct thr {
  fsc_list *l;
  fsc_dict *d, *d2; /* d2: a second handle, which follows d's compactions */
  int id, fails;
};

enum { TH = 3, TPER = 4000 };

static void *thr_main(void *arg) {
  struct thr *t = arg;
  for (int i = 0; i < TPER; i++) {
    int rc = fsc_list_append_i64(t->l, (int64_t)t->id * TPER + i);
    if (rc == 0)
      rc = fsc_dict_incr(t->d, "n", 1, 1, NULL);
    if (rc == 0)
      rc = fsc_dict_incr(t->d2, "m", 1, 1, NULL);
    fsc_metrics m = {.size = sizeof m};
    if (rc == 0 && i % 64 == 0)
      rc = fsc_dict_metrics(t->d2, &m);
    fsc_value v;
    if (rc == 0 && (rc = fsc_list_get(t->l, i / 2, &v)) == 0 &&
        v.type != FSC_TYPE_INT64)
      rc = -1;
    if (rc) {
      fprintf(stderr, "thread %d: %s: %s\n", t->id, fsc_strerror(rc),
              fsc_errmsg());
      t->fails++;
      return NULL;
    }
  }
  return NULL;
}

START_TEST(test_threads) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  fsc_list *l;
  fsc_dict *d;
  ck_ok(fsc_list_open(tc_path("tl"), &o, &l));
  char dpath[600];
  snprintf(dpath, sizeof dpath, "%s", tc_path("td"));
  ck_ok(fsc_dict_open(dpath, &o, &d));
  fsc_dict *d2;
  ck_ok(fsc_dict_open(dpath, NULL, &d2));
  pthread_t th[TH];
  struct thr t[TH];
  for (int i = 0; i < TH; i++) {
    t[i] = (struct thr){l, d, d2, i, 0};
    pthread_create(&th[i], NULL, thr_main, &t[i]);
  }
  for (int k = 0; k < 40; k++) {
    ck_ok(fsc_list_compact(l));
    ck_ok(fsc_dict_compact(d));
  }
  for (int i = 0; i < TH; i++) {
    pthread_join(th[i], NULL);
    ck_assert_int_eq(t[i].fails, 0);
  }
  uint64_t n;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_uint_eq(n, TH * TPER);
  int64_t next[TH] = {0}, x;
  for (uint64_t i = 0; i < n; i++) {
    ck_ok(fsc_list_get_i64(l, (int64_t)i, &x));
    ck_assert_int_eq(x % TPER, next[x / TPER]++);
  }
  ck_ok(fsc_dict_get_i64(d, "n", &x));
  ck_assert_int_eq(x, TH * TPER);
  ck_ok(fsc_dict_get_i64(d, "m", &x));
  ck_assert_int_eq(x, TH * TPER);
  fsc_metrics m = metrics_list(l);
  ck_assert_uint_eq(m.generation, 41);
  ck_ok(fsc_dict_close(d2));
  fsc_dict_free(d2);
  ck_ok(fsc_list_destroy(l));
  ck_ok(fsc_dict_destroy(d));
  fsc_list_free(l);
  fsc_dict_free(d);
}
END_TEST


/* A damaged record is not laundered into a sound one: compaction refuses
 * it and changes nothing; after a repair it goes through. */
START_TEST(test_refuses_damage) {
  const char *base = tc_path("dmg");
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_STRING;
  fsc_list *l;
  ck_ok(fsc_list_open(base, &o, &l));
  for (int i = 0; i < 10; i++)
    ck_ok(fsc_list_append_str(l, "a string of some length"));
  ck_ok(fsc_list_set(l, 5, &(fsc_value){.type = FSC_TYPE_STRING,
                                         .u.buf = {"x", 1}}));
  char p[700];
  snprintf(p, sizeof p, "%s.data.fscollection", base);
  int fd = open(p, O_RDWR);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(pwrite(fd, "Z", 1, 4096 + 16 + 3), 1); /* element 0 */
  close(fd);
  ck_fsc(fsc_list_compact(l), FSC_ECORRUPT);
  ck_assert_msg(strstr(fsc_errmsg(), "does not verify"), "%s", fsc_errmsg());
  fsc_metrics m = metrics_list(l);
  ck_assert_uint_eq(m.generation, 1);
  ck_assert_uint_eq(m.length, 10);
  ck_assert(!exists(base, ".data.fscollection.compact"));
  fsc_verify_report r = {.size = sizeof r};
  ck_ok(fsc_list_verify(l, FSC_VERIFY_REPAIR, &r));
  ck_ok(fsc_list_compact(l));
  m = metrics_list(l);
  ck_assert_uint_eq(m.generation, 2);
  ck_assert_uint_eq(m.length, 9);
  ck_assert_uint_eq(m.dead_bytes, 0);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d)
    return -1;
  int n = 0;
  while (readdir(d))
    n++;
  closedir(d);
  return n;
}

/* Following many compactions costs no descriptors: a handle closes those
 * of the generations it leaves (keeping their mappings, so views stay
 * valid), in the compacting handle and in the one that follows.  Run in a
 * child with a low RLIMIT_NOFILE, where keeping them would fail with
 * EMFILE long before the last round. */
START_TEST(test_descriptors_bounded) {
  const char *base = tc_path("fds");
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    struct rlimit rl = {64, 64};
    setrlimit(RLIMIT_NOFILE, &rl); /* valgrind may refuse: counted below */
    fsc_options o = FSC_OPTIONS_INIT;
    o.type = FSC_TYPE_STRING;
    fsc_dict *a, *b;
    fsc_list *la, *lb;
    char lbase[600];
    snprintf(lbase, sizeof lbase, "%s-list", base);
    if (fsc_dict_open(base, &o, &a) || fsc_dict_open(base, NULL, &b) ||
        fsc_list_open(lbase, &o, &la) || fsc_list_open(lbase, NULL, &lb))
      _exit(2);
    if (fsc_dict_set_str(b, "k", "the first value") ||
        fsc_list_append_str(lb, "element zero"))
      _exit(3);
    const char *view, *lview;
    size_t vn, ln;
    if (fsc_dict_get_str(a, "k", &view, &vn) ||
        fsc_list_get_str(la, 0, &lview, &ln))
      _exit(4);
    int before = count_fds();
    for (int i = 0; i < 300; i++) {
      char v[32];
      snprintf(v, sizeof v, "value %d", i);
      const char *p;
      size_t n;
      fsc_value fv = fsc_str(v);
      if (fsc_dict_set_str(b, "k", v) || fsc_dict_compact(b) ||
          fsc_list_set(lb, 0, &fv) || fsc_list_compact(lb)) {
        fprintf(stderr, "round %d: %s\n", i, fsc_errmsg());
        _exit(5);
      }
      /* a follows b to the new files, and sees b's write */
      if (fsc_dict_get_str(a, "k", &p, &n) || n != strlen(v) ||
          memcmp(p, v, n) != 0 || fsc_list_get_str(la, 0, &p, &n) ||
          n != strlen(v) || memcmp(p, v, n) != 0) {
        fprintf(stderr, "round %d: %s\n", i, fsc_errmsg());
        _exit(6);
      }
    }
    int after = count_fds();
    if (after > before + 8) {
      fprintf(stderr, "descriptors: %d before, %d after\n", before, after);
      _exit(7);
    }
    /* The first views still read what they read (old mappings kept). */
    if (vn != strlen("the first value") ||
        memcmp(view, "the first value", vn) != 0 ||
        ln != strlen("element zero") || memcmp(lview, "element zero", ln))
      _exit(8);
    fsc_metrics m;
    if (fsc_dict_metrics(a, &m) || m.generation != 301 ||
        m.data_file_bytes == 0)
      _exit(9);
    if (fsc_dict_reclaim(a) || fsc_dict_sync(a) || fsc_list_sync(la))
      _exit(10);
    if (fsc_dict_close(a) || fsc_dict_destroy(b) || fsc_list_close(la) ||
        fsc_list_destroy(lb))
      _exit(11);
    fsc_dict_free(a);
    fsc_dict_free(b);
    fsc_list_free(la);
    fsc_list_free(lb);
    _exit(0);
  }
  int st;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                "the child failed (status 0x%x)", st);
}
END_TEST

static Suite *compact_suite(void) {
  Suite *s = suite_create("compact");
  TCase *tc = tcase_create("compact");
  tcase_set_timeout(tc, 120);
  int ntypes = (int)(sizeof all_types / sizeof all_types[0]);
  tcase_add_loop_test(tc, test_list_every_type, 0, ntypes);
  tcase_add_loop_test(tc, test_dict_every_type, 0, ntypes);
  tcase_add_loop_test(tc, test_set_every_type, 0, ntypes);
  tcase_add_test(tc, test_views_survive);
  tcase_add_test(tc, test_descriptors_bounded);
  tcase_add_test(tc, test_temporary);
  tcase_add_test(tc, test_rdonly_follows);
  tcase_add_test(tc, test_options_checked);
  tcase_add_test(tc, test_threshold);
  tcase_add_test(tc, test_compact_under_writers);
  tcase_add_test(tc, test_kill_during_compaction);
  tcase_add_test(tc, test_refuses_damage);
  tcase_add_test(tc, test_swap_pop_semantics);
  tcase_add_test(tc, test_swap_pop_space);
  tcase_add_test(tc, test_swap_pop_readers);
  suite_add_tcase(s, tc);
  TCase *th = tcase_create("threads");
  tcase_set_timeout(th, 300);
  tcase_add_test(th, test_threads);
  suite_add_tcase(s, th);
  return s;
}

int main(void) { return tc_run(compact_suite()); }
