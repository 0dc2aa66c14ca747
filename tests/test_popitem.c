/*
 * test_popitem.c - fsc_dict_popitem and fsc_set_pop against a model that
 * keeps insertion order, through the cache of the walk each handle keeps
 * (src/struct/hash_newest.c):
 *
 *  - two handles of one dict in one process, each with its own cache,
 *    take turns at random sets, overwrites, deletes, re-inserts and pops
 *    (and now and then a compaction or a clear): every pop gives the
 *    model's newest key, whichever handle changed the dict since the
 *    other's last pop;
 *  - a record that no longer verifies (a dead one, damaged in place while
 *    the dict is open) leaves a gap the cache waits at and then gives up,
 *    in a file smaller than the cache's first chunk and in one whose
 *    damage lies in an older chunk: pops keep the exact order;
 *  - counters (fsc_dict_incr) among plain values come out in insertion
 *    order with their totals;
 *  - a child forked with a warm cache pops its parent's keys in order, and
 *    the parent then pops what the child left, in order;
 *  - a set drained by pops from two processes (one through a handle its
 *    parent opened) while two others add: every element comes out exactly
 *    once, and "empty" only once it is;
 *  - threads popping through one handle (and one through its own) while
 *    another thread adds: every key comes out exactly once (the "threads"
 *    case: tools/tsan.sh runs it);
 *  - draining 200,000 keys by popitem (quadratic without the cache: a
 *    walk of every record a pop).
 */
#include "check_common.h"
#include "check_records.h"

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define NKEYS 4000 /* the model's capacity */
#define KEYSPACE 400 /* the keys of the random steps */

/* The model: keys in insertion order, and each key's value. */
struct model {
  int order[NKEYS];
  int n;
  int64_t val[NKEYS];
  bool in[NKEYS];
};

static int m_find(const struct model *m, int k) {
  for (int i = 0; i < m->n; i++)
    if (m->order[i] == k)
      return i;
  return -1;
}

static void m_set(struct model *m, int k, int64_t v) {
  if (!m->in[k]) {
    m->order[m->n++] = k;
    m->in[k] = true;
  }
  m->val[k] = v;
}

static void m_del(struct model *m, int k) {
  int i = m_find(m, k);
  if (i < 0)
    return;
  memmove(&m->order[i], &m->order[i + 1],
          (size_t)(m->n - i - 1) * sizeof m->order[0]);
  m->n--;
  m->in[k] = false;
}

static void keyname(char *b, size_t n, int k) { snprintf(b, n, "k%05d", k); }

static fsc_dict *dopen(const char *base) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.durability = FSC_DURABLE_NONE;
  o.type = FSC_TYPE_INT64;
  o.compaction_threshold = 0;
  fsc_dict *d;
  ck_ok(fsc_dict_open(base, &o, &d));
  return d;
}

/* popitem on d gives the model's newest key and value (or EKEY when the
 * model is empty), and the model drops it. */
static void pop_check(fsc_dict *d, struct model *m, int step) {
  fsc_value k, v;
  int rc = fsc_dict_popitem(d, &k, &v);
  if (m->n == 0) {
    ck_assert_msg(rc == FSC_EKEY, "step %d: popitem of an empty dict: %d",
                  step, rc);
    return;
  }
  ck_assert_msg(rc == 0, "step %d: popitem: %d %s", step, rc, fsc_errmsg());
  int want = m->order[m->n - 1];
  char kn[32];
  keyname(kn, sizeof kn, want);
  ck_assert_msg(k.u.buf.len == strlen(kn) && !memcmp(k.u.buf.ptr, kn, strlen(kn)),
                "step %d: popitem gave '%.*s', the newest is %s", step,
                (int)k.u.buf.len, (const char *)k.u.buf.ptr, kn);
  ck_assert_msg(v.type == FSC_TYPE_INT64 && v.u.i64 == m->val[want],
                "step %d: popitem's value %" PRId64 ", want %" PRId64, step,
                v.u.i64, m->val[want]);
  m_del(m, want);
}

/* One random operation on d (or on both for a compaction). */
static void step_on(fsc_dict *d, struct model *m, int step, unsigned *seed) {
  int op = (int)(rand_r(seed) % 1000);
  int k = (int)(rand_r(seed) % KEYSPACE);
  char kn[32];
  keyname(kn, sizeof kn, k);
  if (op < 450) { /* set: new key to the end, an update keeps its place */
    fsc_value v = fsc_i64(step);
    ck_ok(fsc_dict_set(d, kn, strlen(kn), &v));
    m_set(m, k, step);
  } else if (op < 600) { /* delete */
    int rc = fsc_dict_del(d, kn, strlen(kn));
    ck_assert_msg(rc == (m->in[k] ? 0 : FSC_EKEY), "step %d: del %s: %d",
                  step, kn, rc);
    m_del(m, k);
  } else if (op < 640 && m->n > 0) { /* the oldest key deleted and set again */
    int o = m->order[0];
    keyname(kn, sizeof kn, o);
    ck_ok(fsc_dict_del(d, kn, strlen(kn)));
    m_del(m, o);
    fsc_value v = fsc_i64(-step);
    ck_ok(fsc_dict_set(d, kn, strlen(kn), &v));
    m_set(m, o, -step);
  } else if (op < 995) {
    pop_check(d, m, step);
  } else if (op < 998) {
    ck_ok(fsc_dict_compact(d));
  } else {
    ck_ok(fsc_dict_clear(d));
    m->n = 0;
    memset(m->in, 0, sizeof m->in);
  }
}

START_TEST(test_two_handles_model) {
  char base[512];
  snprintf(base, sizeof base, "%s", tc_path("two"));
  fsc_dict *a = dopen(base), *b = dopen(base);
  static struct model m;
  memset(&m, 0, sizeof m);
  unsigned seed = 12345;
  for (int step = 0; step < 40000; step++) {
    /* Runs of a few steps on one handle, then the other. */
    fsc_dict *d = (step / (1 + (int)(rand_r(&seed) % 7))) % 2 ? a : b;
    step_on(d, &m, step, &seed);
  }
  while (m.n > 0)
    pop_check(m.n % 3 ? a : b, &m, -1);
  pop_check(a, &m, -2);
  pop_check(b, &m, -3);
  ck_ok(fsc_dict_close(b));
  fsc_dict_free(b);
  ck_ok(fsc_dict_destroy(a));
  fsc_dict_free(a);
}
END_TEST

/* Where the 8 bytes of v first appear in base's data file (past its
 * header page), or -1. */
static off_t find_value(const char *base, int64_t v) {
  size_t n;
  uint8_t *all = tc_slurp(base, &n);
  off_t at = -1;
  for (size_t i = 4096; i + 8 <= n; i++)
    if (memcmp(all + i, &v, 8) == 0) {
      at = (off_t)i;
      break;
    }
  free(all);
  return at;
}

#define UNIQ INT64_C(0x3c5a3c5a00000000)

/* nfirst keys, key 7 deleted and set again and its dead record damaged,
 * then pops through d and a new handle e (adding now and then) until
 * empty. */
static void gap_run(const char *name, int nfirst) {
  char base[512];
  snprintf(base, sizeof base, "%s", tc_path(name));
  fsc_dict *d = dopen(base);
  static struct model m;
  memset(&m, 0, sizeof m);
  char kn[32];
  for (int k = 0; k < nfirst; k++) {
    keyname(kn, sizeof kn, k);
    fsc_value v = fsc_i64(UNIQ + k);
    ck_ok(fsc_dict_set(d, kn, strlen(kn), &v));
    m_set(&m, k, UNIQ + k);
  }
  pop_check(d, &m, 0); /* (the cache is warm: its frontier is the tail) */
  /* Key 7 deleted and set again: its first record (value UNIQ + 7) is
   * dead, no key's origin (an overwrite would keep it as the key's
   * origin, which iteration needs).  Damage it (its value's bytes) while
   * the dict is open: the walk no longer verifies it.  Below the frontier
   * of d's cache; a fresh handle meets it as a gap. */
  fsc_value nv = fsc_i64(1000007);
  keyname(kn, sizeof kn, 7);
  ck_ok(fsc_dict_del(d, kn, strlen(kn)));
  m_del(&m, 7);
  ck_ok(fsc_dict_set(d, kn, strlen(kn), &nv));
  m_set(&m, 7, 1000007);
  const char *dp = tc_fpath(base, "data");
  off_t at = find_value(base, UNIQ + 7);
  ck_assert_int_gt(at, 0);
  int64_t bad = INT64_C(0x5a5a5a5a5a5a5a5a);
  tc_poke(dp, at, &bad, 8);
  fsc_dict *e = dopen(base); /* its first walk meets the damage */
  for (int step = 1; m.n > 0; step++) {
    int k = nfirst + step;
    if (step % 3 == 0 && step < 400 && k < NKEYS) {
      keyname(kn, sizeof kn, k);
      fsc_value v = fsc_i64(k);
      ck_ok(fsc_dict_set(step % 2 ? d : e, kn, strlen(kn), &v));
      m_set(&m, k, k);
    }
    pop_check(step % 2 ? e : d, &m, step);
  }
  pop_check(e, &m, -1);
  pop_check(d, &m, -2);
  ck_ok(fsc_dict_close(e));
  fsc_dict_free(e);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}

/* A file smaller than the first chunk: each new cache walks it all. */
START_TEST(test_gap_given_up) { gap_run("gap", 200); }
END_TEST

/* A larger file: the damaged record lies in a chunk below the first one
 * (src/struct/hash_newest.c, nst_older). */
START_TEST(test_gap_in_older_chunk) { gap_run("gapold", 3000); }
END_TEST

/* Counters (fsc_dict_incr: a key made by its first increment, then
 * added to in place) among plain values: popitem gives them in insertion
 * order with their current totals, through a fresh handle (whose cache
 * starts a chunk below the tail) and the writer's own. */
START_TEST(test_counters_in_order) {
  char base[512];
  snprintf(base, sizeof base, "%s", tc_path("ctr"));
  fsc_dict *d = dopen(base);
  static struct model m;
  memset(&m, 0, sizeof m);
  char kn[32];
  for (int k = 0; k < 3000; k++) {
    keyname(kn, sizeof kn, k);
    if (k % 3 == 0) {
      int64_t x;
      ck_ok(fsc_dict_incr(d, kn, strlen(kn), k, &x));
      m_set(&m, k, k);
    } else {
      fsc_value v = fsc_i64(-k);
      ck_ok(fsc_dict_set(d, kn, strlen(kn), &v));
      m_set(&m, k, -k);
    }
  }
  for (int k = 0; k < 3000; k += 3) { /* in place: no new record */
    int64_t x;
    keyname(kn, sizeof kn, k);
    ck_ok(fsc_dict_incr(d, kn, strlen(kn), 5, &x));
    m_set(&m, k, m.val[k] + 5);
  }
  fsc_dict *e = dopen(base);
  for (int step = 0; m.n > 0; step++)
    pop_check(step % 2 ? d : e, &m, step);
  pop_check(d, &m, -1);
  ck_ok(fsc_dict_close(e));
  fsc_dict_free(e);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_fork_warm_cache) {
  char base[512];
  snprintf(base, sizeof base, "%s", tc_path("fork"));
  fsc_dict *d = dopen(base);
  static struct model m;
  memset(&m, 0, sizeof m);
  char kn[32];
  for (int k = 0; k < 300; k++) {
    keyname(kn, sizeof kn, k);
    fsc_value v = fsc_i64(k * 10);
    ck_ok(fsc_dict_set(d, kn, strlen(kn), &v));
    m_set(&m, k, k * 10);
  }
  for (int i = 0; i < 20; i++)
    pop_check(d, &m, i);
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0) {
    /* The child: its own cache, the parent's keys, in order; and three
     * keys of its own at the end. */
    for (int i = 0; i < 50; i++) {
      int want = m.order[m.n - 1];
      fsc_value k;
      if (fsc_dict_popitem(d, &k, NULL) != 0)
        _exit(1);
      keyname(kn, sizeof kn, want);
      if (k.u.buf.len != strlen(kn) || memcmp(k.u.buf.ptr, kn, strlen(kn)))
        _exit(2);
      m_del(&m, want);
    }
    for (int k = 300; k < 303; k++) {
      keyname(kn, sizeof kn, k);
      fsc_value v = fsc_i64(k * 10);
      if (fsc_dict_set(d, kn, strlen(kn), &v) != 0)
        _exit(3);
    }
    _exit(0);
  }
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: %#x", st);
  for (int i = 0; i < 50; i++)
    m_del(&m, m.order[m.n - 1]);
  for (int k = 300; k < 303; k++)
    m_set(&m, k, k * 10);
  for (int i = 0; m.n > 0; i++)
    pop_check(d, &m, 1000 + i);
  pop_check(d, &m, -1);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

#define ADDS 10000 /* per adder */
#define ADDERS 2

/* What the popping processes share (a MAP_SHARED page): which elements
 * came out, how many, and how many adders are done. */
struct pshared {
  unsigned char seen[ADDERS * ADDS];
  int64_t got;
  int adders_done;
  int bad;
};

/* Pop until the adders are done and a pop after that finds the set
 * empty; each element into sh->seen (twice is bad). */
static void popper(fsc_set *s, struct pshared *sh) {
  for (;;) {
    bool done = __atomic_load_n(&sh->adders_done, __ATOMIC_ACQUIRE) ==
                ADDERS;
    fsc_value v;
    int rc = fsc_set_pop(s, &v);
    if (rc == FSC_EKEY) {
      if (done)
        return;
      continue;
    }
    if (rc != 0 || v.u.i64 < 0 || v.u.i64 >= ADDERS * ADDS ||
        __atomic_exchange_n(&sh->seen[v.u.i64], 1, __ATOMIC_RELAXED)) {
      __atomic_store_n(&sh->bad, 1, __ATOMIC_RELAXED);
      return;
    }
    __atomic_fetch_add(&sh->got, 1, __ATOMIC_RELAXED);
  }
}

START_TEST(test_set_pop_beside_adders) {
  char base[512];
  snprintf(base, sizeof base, "%s", tc_path("set"));
  fsc_options o = FSC_OPTIONS_INIT;
  o.durability = FSC_DURABLE_NONE;
  o.type = FSC_TYPE_INT64;
  fsc_set *s;
  ck_ok(fsc_set_open(base, &o, &s));
  struct pshared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ck_assert(sh != MAP_FAILED);
  int go[2];
  ck_assert_int_eq(pipe(go), 0);
  pid_t pids[ADDERS + 1];
  for (int w = 0; w <= ADDERS; w++) {
    pids[w] = fork();
    ck_assert_int_ge(pids[w], 0);
    if (pids[w] != 0)
      continue;
    char c;
    if (read(go[0], &c, 1) != 1)
      _exit(2);
    if (w == ADDERS) { /* the second popper: the parent's handle */
      popper(s, sh);
      _exit(0);
    }
    fsc_set *a; /* an adder: its own handle */
    if (fsc_set_open(base, &o, &a) != 0)
      _exit(1);
    for (int64_t i = (int64_t)w * ADDS; i < (int64_t)(w + 1) * ADDS; i++)
      if (fsc_set_add_i64(a, i) != 1) {
        fprintf(stderr, "add %lld: %s\n", (long long)i, fsc_errmsg());
        _exit(3);
      }
    __atomic_fetch_add(&sh->adders_done, 1, __ATOMIC_RELEASE);
    if (fsc_set_close(a) != 0)
      _exit(4);
    fsc_set_free(a);
    _exit(0);
  }
  ck_assert_int_eq(write(go[1], "ggg", ADDERS + 1), ADDERS + 1);
  popper(s, sh);
  for (int w = 0; w <= ADDERS; w++) {
    int st;
    ck_assert_int_eq(waitpid(pids[w], &st, 0), pids[w]);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "process %d: %#x",
                  w, st);
  }
  ck_assert_msg(!sh->bad, "an element popped twice, or a pop failed");
  ck_assert_int_eq(sh->got, ADDERS * ADDS);
  uint64_t len;
  ck_ok(fsc_set_len(s, &len));
  ck_assert_uint_eq(len, 0);
  close(go[0]);
  close(go[1]);
  munmap(sh, sizeof *sh);
  ck_ok(fsc_set_destroy(s));
  fsc_set_free(s);
}
END_TEST

#define T_PRE 6000
#define T_ADD 3000
#define T_POPPERS 4

struct tshared {
  fsc_dict *d, *own;
  int added_done; /* atomic */
  unsigned char seen[T_PRE + T_ADD]; /* atomic bytes */
  int64_t got; /* atomic */
  int bad;     /* atomic: a value out of range or popped twice */
};

static void *t_popper(void *arg) {
  struct tshared *t = arg;
  static int which;
  fsc_dict *d = __atomic_fetch_add(&which, 1, __ATOMIC_RELAXED) == 0 ? t->own
                                                                     : t->d;
  for (;;) {
    fsc_value v;
    int rc = fsc_dict_popitem(d, NULL, &v);
    if (rc == FSC_EKEY) {
      if (__atomic_load_n(&t->added_done, __ATOMIC_ACQUIRE)) {
        /* Once more after the adder's end: its last keys. */
        if ((rc = fsc_dict_popitem(d, NULL, &v)) == FSC_EKEY)
          return NULL;
      } else {
        continue;
      }
    }
    if (rc != 0) {
      __atomic_store_n(&t->bad, 1, __ATOMIC_RELAXED);
      return NULL;
    }
    if (v.u.i64 < 0 || v.u.i64 >= T_PRE + T_ADD ||
        __atomic_exchange_n(&t->seen[v.u.i64], 1, __ATOMIC_RELAXED))
      __atomic_store_n(&t->bad, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&t->got, 1, __ATOMIC_RELAXED);
  }
}

static void *t_adder(void *arg) {
  struct tshared *t = arg;
  char kn[32];
  for (int k = T_PRE; k < T_PRE + T_ADD; k++) {
    snprintf(kn, sizeof kn, "t%06d", k);
    fsc_value v = fsc_i64(k);
    if (fsc_dict_set(t->d, kn, strlen(kn), &v) != 0)
      __atomic_store_n(&t->bad, 1, __ATOMIC_RELAXED);
  }
  __atomic_store_n(&t->added_done, 1, __ATOMIC_RELEASE);
  return NULL;
}

START_TEST(test_threads) {
  char base[512];
  snprintf(base, sizeof base, "%s", tc_path("thr"));
  static struct tshared t;
  memset(&t, 0, sizeof t);
  t.d = dopen(base);
  t.own = dopen(base);
  char kn[32];
  for (int k = 0; k < T_PRE; k++) {
    snprintf(kn, sizeof kn, "t%06d", k);
    fsc_value v = fsc_i64(k);
    ck_ok(fsc_dict_set(t.d, kn, strlen(kn), &v));
  }
  pthread_t th[T_POPPERS + 1];
  ck_assert_int_eq(pthread_create(&th[0], NULL, t_adder, &t), 0);
  for (int i = 1; i <= T_POPPERS; i++)
    ck_assert_int_eq(pthread_create(&th[i], NULL, t_popper, &t), 0);
  for (int i = 0; i <= T_POPPERS; i++)
    pthread_join(th[i], NULL);
  ck_assert_int_eq(t.bad, 0);
  /* A popper that met "empty" between the adder's last key and its own
   * last look may have left one: the rest comes out here. */
  fsc_value v;
  while (fsc_dict_popitem(t.d, NULL, &v) == 0) {
    ck_assert(v.u.i64 >= 0 && v.u.i64 < T_PRE + T_ADD && !t.seen[v.u.i64]);
    t.seen[v.u.i64] = 1;
    t.got++;
  }
  ck_assert_int_eq(t.got, T_PRE + T_ADD);
  ck_ok(fsc_dict_close(t.own));
  fsc_dict_free(t.own);
  ck_ok(fsc_dict_destroy(t.d));
  fsc_dict_free(t.d);
}
END_TEST

#define DRAIN 200000

START_TEST(test_drain_large) {
  char base[512];
  snprintf(base, sizeof base, "%s", tc_path("drain"));
  fsc_dict *d = dopen(base);
  char kn[32];
  for (int k = 0; k < DRAIN; k++) {
    snprintf(kn, sizeof kn, "d%07d", k);
    fsc_value v = fsc_i64(k);
    ck_ok(fsc_dict_set(d, kn, strlen(kn), &v));
  }
  for (int k = DRAIN - 1; k >= 0; k--) {
    fsc_value kk, v;
    int rc = fsc_dict_popitem(d, &kk, &v);
    if (rc != 0 || v.u.i64 != k)
      ck_abort_msg("pop %d: rc %d, value %" PRId64, k, rc, v.u.i64);
  }
  ck_fsc(fsc_dict_popitem(d, NULL, NULL), FSC_EKEY);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

int main(void) {
  Suite *s = suite_create("popitem");
  TCase *tc = tcase_create("cases");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, test_two_handles_model);
  tcase_add_test(tc, test_gap_given_up);
  tcase_add_test(tc, test_gap_in_older_chunk);
  tcase_add_test(tc, test_counters_in_order);
  tcase_add_test(tc, test_fork_warm_cache);
  tcase_add_test(tc, test_set_pop_beside_adders);
  tcase_add_test(tc, test_drain_large);
  suite_add_tcase(s, tc);
  TCase *th = tcase_create("threads");
  tcase_set_timeout(th, 300);
  tcase_add_test(th, test_threads);
  suite_add_tcase(s, th);
  return tc_run(s);
}
