/*
 * test_cache.c - bounded (cache) dicts and compute-once, from the outside:
 *
 *  - options: a policy needs a bound; an open asking for another policy or
 *    bound than the file's is FSC_EINVAL, FSC_CACHE_NONE adopts the file's;
 *  - each policy evicts what it should on small hand-made sequences (FIFO
 *    exactly; LRU and LFU on clear cases), counting evictions;
 *  - the byte bound; a record larger than it is FSC_EVALUE;
 *  - compaction keeps the policy, the bound and the order;
 *  - 4 writer processes insert 10x the bound while a reader process samples
 *    len and the cache items: never above the bound;
 *  - compute-once: 8 processes miss one key at once, the function runs
 *    once, all get the value; a computing process SIGKILLed mid-compute:
 *    another takes over.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "check_common.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define K(s) (s), strlen(s)

/* A base path in one directory per test process (tc_path makes a new
 * directory at every call; processes of one test must share the path). */
static const char *P(const char *name) {
  static char dir[256], path[512];
  if (!dir[0])
    snprintf(dir, sizeof dir, "%s", tc_dir());
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return path;
}

static int64_t dlen(fsc_dict *d) {
  uint64_t n = 0;
  if (fsc_dict_len(d, &n) != 0)
    return -1;
  return (int64_t)n;
}

/* A cache dict without the admission filter (the tests of the policies
 * themselves: every new key is stored); aopen below chooses. */
static fsc_dict *copen(const char *name, int policy, uint64_t items,
                       uint64_t bytes) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  o.cache_type = policy;
  o.cache_max_items = items;
  o.cache_max_bytes = bytes;
  o.cache_admission = FSC_CACHE_ADMIT_OFF;
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(P(name), &o, &d));
  return d;
}

static void dclose(fsc_dict *d) {
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
}

static bool has(fsc_dict *d, const char *k) {
  int rc = fsc_dict_contains(d, K(k));
  ck_assert_int_ge(rc, 0);
  return rc == 1;
}

static uint64_t evictions(fsc_dict *d) {
  fsc_cache_metrics m = {.size = sizeof m};
  ck_ok(fsc_dict_cache_metrics(d, &m));
  return m.evictions;
}

START_TEST(test_options) {
  fsc_options o = FSC_OPTIONS_INIT;
  fsc_dict *d = NULL;
  o.cache_type = FSC_CACHE_LRU;
  ck_fsc(fsc_dict_open(P("o"), &o, &d), FSC_EINVAL); /* no bound */
  o.cache_type = 9;
  o.cache_max_items = 4;
  ck_fsc(fsc_dict_open(P("o"), &o, &d), FSC_EINVAL);
  o.cache_type = FSC_CACHE_NONE;
  ck_fsc(fsc_dict_open(P("o"), &o, &d), FSC_EINVAL); /* bound alone */
  d = copen("o", FSC_CACHE_LRU, 4, 0);
  fsc_options p = FSC_OPTIONS_INIT;
  p.cache_type = FSC_CACHE_LFU;
  p.cache_max_items = 4;
  fsc_dict *e = NULL;
  ck_fsc(fsc_dict_open(P("o"), &p, &e), FSC_EINVAL);
  p.cache_type = FSC_CACHE_LRU;
  p.cache_max_items = 5;
  ck_fsc(fsc_dict_open(P("o"), &p, &e), FSC_EINVAL);
  /* NONE adopts the file's policy and bound */
  ck_ok(fsc_dict_open(P("o"), NULL, &e));
  for (int i = 0; i < 10; i++) {
    char k[8];
    snprintf(k, sizeof k, "k%d", i);
    ck_ok(fsc_dict_set_i64(e, k, i));
  }
  ck_assert_int_eq(dlen(d), 4);
  fsc_cache_metrics m = {.size = sizeof m};
  ck_ok(fsc_dict_cache_metrics(d, &m));
  ck_assert_int_eq(m.cache_type, FSC_CACHE_LRU);
  ck_assert_uint_eq(m.max_items, 4);
  ck_assert_uint_eq(m.items, 4);
  ck_assert_uint_eq(m.evictions, 6);
  /* a plain dict is not bounded */
  fsc_dict *plain = NULL;
  ck_ok(fsc_dict_open(P("plain"), NULL, &plain));
  ck_ok(fsc_dict_cache_metrics(plain, &m));
  ck_assert_int_eq(m.cache_type, FSC_CACHE_NONE);
  dclose(plain);
  dclose(e);
  dclose(d);
}
END_TEST

/* A bound larger than any table (up to UINT64_MAX keys) is accepted and
 * bounds nothing in practice: the clock and the sketch are sized at their
 * ceilings (the sizing once doubled past 2^63 and looped for ever). */
START_TEST(test_huge_bound) {
  const uint64_t bounds[] = {UINT64_MAX, UINT64_C(1) << 62,
                             (UINT64_C(1) << 58) + 1};
  const int policies[] = {FSC_CACHE_LRU, FSC_CACHE_LFU, FSC_CACHE_FIFO};
  for (int b = 0; b < 3; b++)
    for (int p = 0; p < 3; p++) {
      char name[16];
      snprintf(name, sizeof name, "huge%d%d", b, p);
      fsc_options o = FSC_OPTIONS_INIT;
      o.type = FSC_TYPE_INT64;
      o.cache_type = policies[p];
      o.cache_max_items = bounds[b];
      o.cache_admission = FSC_CACHE_ADMIT_ON;
      fsc_dict *d = NULL;
      ck_ok(fsc_dict_open(P(name), &o, &d));
      for (int i = 0; i < 100; i++) {
        char k[8];
        snprintf(k, sizeof k, "k%d", i);
        ck_ok(fsc_dict_set_i64(d, k, i));
      }
      ck_assert_int_eq(dlen(d), 100);
      ck_assert_uint_eq(evictions(d), 0);
      fsc_cache_metrics m = {.size = sizeof m};
      ck_ok(fsc_dict_cache_metrics(d, &m));
      ck_assert_uint_eq(m.max_items, bounds[b]);
      dclose(d);
    }
}
END_TEST

/* A cache block damaged into an unknown policy, or a policy without a
 * bound, is refused at open (FSC_ECORRUPT), not used. */
START_TEST(test_bad_cache_block) {
  struct {
    uint64_t policy, items, bytes;
  } bad[] = {{9, 4, 0}, {FSC_CACHE_LRU, 0, 0}, {0, 4, 0}, {1ull << 40, 4, 0}};
  for (int i = 0; i < 4; i++) {
    fsc_dict *d = copen("blk", FSC_CACHE_LRU, 4, 0);
    ck_ok(fsc_dict_set_i64(d, "a", 1));
    dclose(d);
    char ipath[512];
    snprintf(ipath, sizeof ipath, "%s.index.fscollection", P("blk"));
    int fd = open(ipath, O_RDWR);
    ck_assert_int_ge(fd, 0);
    uint64_t w[3] = {bad[i].policy, bad[i].items, bad[i].bytes};
    /* (the cache block: index file offset 3072, doc/FORMAT.md) */
    ck_assert_int_eq(pwrite(fd, w, sizeof w, 3072), (ssize_t)sizeof w);
    close(fd);
    fsc_options o = FSC_OPTIONS_INIT;
    o.flags = 0;
    ck_fsc(fsc_dict_open(P("blk"), &o, &d), FSC_ECORRUPT);
    ck_assert_ptr_null(d);
    /* (a healthy one for the next round) */
    ck_assert_int_eq(unlink(ipath), 0);
    snprintf(ipath, sizeof ipath, "%s.data.fscollection", P("blk"));
    ck_assert_int_eq(unlink(ipath), 0);
  }
}
END_TEST

START_TEST(test_fifo_exact) {
  fsc_dict *d = copen("fifo", FSC_CACHE_FIFO, 3, 0);
  int64_t v;
  ck_ok(fsc_dict_set_i64(d, "a", 1));
  ck_ok(fsc_dict_set_i64(d, "b", 2));
  ck_ok(fsc_dict_set_i64(d, "c", 3));
  ck_ok(fsc_dict_get_i64(d, "a", &v)); /* FIFO ignores use */
  ck_ok(fsc_dict_set_i64(d, "d", 4));
  ck_assert(!has(d, "a") && has(d, "b") && has(d, "c") && has(d, "d"));
  ck_ok(fsc_dict_set_i64(d, "b", 20)); /* an update keeps its place */
  ck_ok(fsc_dict_set_i64(d, "e", 5));
  ck_assert(!has(d, "b") && has(d, "c") && has(d, "d") && has(d, "e"));
  ck_ok(fsc_dict_del_str(d, "d"));
  ck_ok(fsc_dict_set_i64(d, "f", 6)); /* room: nothing evicted */
  ck_assert(has(d, "c") && has(d, "e") && has(d, "f"));
  ck_ok(fsc_dict_set_i64(d, "g", 7));
  ck_assert(!has(d, "c") && has(d, "e") && has(d, "f") && has(d, "g"));
  ck_assert_uint_eq(evictions(d), 3);
  /* a long run: always exactly the last 3 */
  for (int i = 0; i < 200; i++) {
    char k[16];
    snprintf(k, sizeof k, "n%d", i);
    ck_ok(fsc_dict_set_i64(d, k, i));
    ck_assert_int_eq(dlen(d), 3);
    for (int j = i - 5; j <= i; j++) {
      if (j < 0)
        continue;
      snprintf(k, sizeof k, "n%d", j);
      ck_assert_int_eq(has(d, k), j > i - 3);
    }
  }
  dclose(d);
}
END_TEST

START_TEST(test_lru) {
  fsc_dict *d = copen("lru", FSC_CACHE_LRU, 4, 0);
  int64_t v;
  ck_ok(fsc_dict_set_i64(d, "a", 1));
  ck_ok(fsc_dict_set_i64(d, "b", 2));
  ck_ok(fsc_dict_set_i64(d, "c", 3));
  ck_ok(fsc_dict_set_i64(d, "d", 4));
  ck_ok(fsc_dict_get_i64(d, "a", &v));
  ck_ok(fsc_dict_set_i64(d, "e", 5)); /* b is the least recent */
  ck_assert(has(d, "a") && !has(d, "b") && has(d, "c"));
  ck_ok(fsc_dict_get_i64(d, "c", &v));
  ck_ok(fsc_dict_set_i64(d, "f", 6)); /* now d */
  ck_assert(has(d, "a") && has(d, "c") && !has(d, "d") && has(d, "e") &&
            has(d, "f"));
  /* a hot key used between every insert survives a long run */
  for (int i = 0; i < 500; i++) {
    char k[16];
    snprintf(k, sizeof k, "n%d", i);
    ck_ok(fsc_dict_get_i64(d, "a", &v));
    ck_ok(fsc_dict_set_i64(d, k, i));
    ck_assert_int_le(dlen(d), 4);
  }
  ck_assert(has(d, "a"));
  dclose(d);
}
END_TEST

START_TEST(test_lfu) {
  fsc_dict *d = copen("lfu", FSC_CACHE_LFU, 3, 0);
  int64_t v;
  ck_ok(fsc_dict_set_i64(d, "a", 1));
  ck_ok(fsc_dict_set_i64(d, "b", 2));
  ck_ok(fsc_dict_set_i64(d, "c", 3));
  for (int i = 0; i < 100; i++) {
    ck_ok(fsc_dict_get_i64(d, "a", &v));
    ck_ok(fsc_dict_get_i64(d, "b", &v));
  }
  ck_ok(fsc_dict_set_i64(d, "d", 4)); /* c: used least */
  ck_assert(has(d, "a") && has(d, "b") && !has(d, "c") && has(d, "d"));
  /* a scan of one-off keys never displaces the two frequent ones */
  for (int i = 0; i < 300; i++) {
    char k[16];
    snprintf(k, sizeof k, "s%d", i);
    ck_ok(fsc_dict_set_i64(d, k, i));
    if (i % 10 == 0) {
      ck_ok(fsc_dict_get_i64(d, "a", &v));
      ck_ok(fsc_dict_get_i64(d, "b", &v));
    }
  }
  ck_assert(has(d, "a") && has(d, "b"));
  dclose(d);
}
END_TEST

START_TEST(test_bytes_bound) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_BYTES;
  o.cache_type = FSC_CACHE_FIFO;
  o.cache_max_bytes = 4096;
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(P("bytes"), &o, &d));
  char buf[5000];
  memset(buf, 'x', sizeof buf);
  fsc_value big = fsc_bytes(buf, sizeof buf);
  ck_fsc(fsc_dict_set(d, K("big"), &big), FSC_EVALUE);
  fsc_value v = fsc_bytes(buf, 1000); /* 1000 + 1 + 4 + 8 + 16 -> 1032 */
  for (int i = 0; i < 20; i++) {
    char k[8];
    snprintf(k, sizeof k, "%d", i);
    ck_ok(fsc_dict_set(d, K(k), &v));
    fsc_cache_metrics m = {.size = sizeof m};
    ck_ok(fsc_dict_cache_metrics(d, &m));
    ck_assert_uint_le(m.bytes, 4096);
    ck_assert_int_le(dlen(d), 3);
  }
  ck_assert_int_eq(dlen(d), 3);
  ck_assert(has(d, "19") && has(d, "17") && !has(d, "16"));
  dclose(d);
}
END_TEST

START_TEST(test_compact_keeps) {
  fsc_dict *d = copen("cmp", FSC_CACHE_FIFO, 3, 0);
  for (int i = 0; i < 10; i++) {
    char k[8];
    snprintf(k, sizeof k, "k%d", i);
    ck_ok(fsc_dict_set_i64(d, k, i));
  }
  ck_ok(fsc_dict_compact(d));
  fsc_cache_metrics m = {.size = sizeof m};
  ck_ok(fsc_dict_cache_metrics(d, &m));
  ck_assert_int_eq(m.cache_type, FSC_CACHE_FIFO);
  ck_assert_uint_eq(m.max_items, 3);
  ck_assert_uint_eq(m.items, 3);
  ck_assert_uint_eq(m.evictions, 7);
  ck_ok(fsc_dict_set_i64(d, "z", 1)); /* k7 is the oldest */
  ck_assert(!has(d, "k7") && has(d, "k8") && has(d, "k9") && has(d, "z"));
  dclose(d);
  /* and across a reopen */
  fsc_dict *e = NULL;
  ck_ok(fsc_dict_open(P("cmp"), NULL, &e));
  ck_ok(fsc_dict_cache_metrics(e, &m));
  ck_assert_uint_eq(m.items, 3);
  ck_assert_int_eq(m.cache_type, FSC_CACHE_FIFO);
  dclose(e);
}
END_TEST

/* verify checks the bound: a file whose keys pass it (the bound written
 * lower behind the library's back) is reported. */
START_TEST(test_verify_bound) {
  fsc_dict *d = copen("vb", FSC_CACHE_LRU, 10, 0);
  for (int i = 0; i < 10; i++) {
    char k[8];
    snprintf(k, sizeof k, "k%d", i);
    ck_ok(fsc_dict_set_i64(d, k, i));
  }
  fsc_verify_report rep = {.size = sizeof rep};
  ck_ok(fsc_dict_verify(d, 0, &rep));
  ck_assert(rep.healthy);
  dclose(d);
  char ipath[600];
  snprintf(ipath, sizeof ipath, "%s.index.fscollection", P("vb"));
  int fd = open(ipath, O_RDWR);
  ck_assert_int_ge(fd, 0);
  uint64_t five = 5; /* max_items, at 3080 (doc/FORMAT.md) */
  ck_assert_int_eq(pwrite(fd, &five, 8, 3080), 8);
  close(fd);
  ck_ok(fsc_dict_open(P("vb"), NULL, &d));
  memset(&rep, 0, sizeof rep);
  rep.size = sizeof rep;
  int rc = fsc_dict_verify(d, 0, &rep);
  ck_assert(rc == 0 || rc == FSC_ECORRUPT);
  ck_assert(!rep.healthy);
  ck_assert_uint_ge(rep.index_counters, 1);
  ck_assert_ptr_nonnull(strstr(fsc_errmsg(), "bound"));
  dclose(d);
}
END_TEST

/* TTL: absent to every process once expired, reclaimed, kept across a
 * reopen and a compaction; expire; the errors. */
START_TEST(test_ttl) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(P("ttl"), &o, &d));
  fsc_value one = fsc_i64(1), x;
  ck_fsc(fsc_dict_set_ttl(d, K("a"), &one, 0), FSC_EINVAL);
  ck_fsc(fsc_dict_expire(d, K("nope"), 100), FSC_EKEY);
  ck_ok(fsc_dict_set_ttl(d, K("a"), &one, 300));
  ck_ok(fsc_dict_set_i64(d, "b", 2));
  ck_ok(fsc_dict_set_i64(d, "c", 3));
  ck_ok(fsc_dict_expire(d, K("c"), 300));
  ck_ok(fsc_dict_set_ttl(d, K("long"), &one, 600000));
  ck_ok(fsc_dict_get(d, K("a"), &x));
  ck_assert_int_eq(x.u.i64, 1);
  ck_ok(fsc_dict_compact(d)); /* the deadlines go along */
  dclose(d);
  ck_ok(fsc_dict_open(P("ttl"), NULL, &d));
  ck_assert(has(d, "a") && has(d, "b") && has(d, "c"));
  pid_t p = fork();
  ck_assert(p >= 0);
  if (p == 0) { /* another process sees them, then sees them go */
    fsc_dict *e = NULL;
    int bad = fsc_dict_open(P("ttl"), NULL, &e) != 0 ||
              fsc_dict_contains(e, K("a")) != 1 ||
              fsc_dict_contains(e, K("c")) != 1;
    usleep(450 * 1000);
    bad |= fsc_dict_contains(e, K("a")) != 0 ||
           fsc_dict_get(e, K("c"), &x) != FSC_EKEY ||
           fsc_dict_contains(e, K("b")) != 1 ||
           fsc_dict_contains(e, K("long")) != 1;
    fsc_dict_close(e);
    _exit(bad ? 1 : 0);
  }
  usleep(450 * 1000);
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  ck_fsc(fsc_dict_get(d, K("a"), &x), FSC_EKEY);
  ck_assert(!has(d, "c") && has(d, "b") && has(d, "long"));
  fsc_dict_iter it;
  fsc_value k, v;
  int n = 0, rc;
  ck_ok(fsc_dict_iter_init(d, &it));
  while ((rc = fsc_dict_iter_next(&it, &k, &v)) == 1)
    n++;
  ck_assert_int_eq(rc, 0);
  ck_assert_int_eq(n, 2);
  /* the readers that met them deleted them */
  ck_assert_int_eq(dlen(d), 2);
  fsc_cache_metrics m = {.size = sizeof m};
  ck_ok(fsc_dict_cache_metrics(d, &m));
  ck_assert_uint_eq(m.expirations, 2);
  ck_fsc(fsc_dict_expire(d, K("a"), 100), FSC_EKEY);
  ck_ok(fsc_dict_set_i64(d, "a", 5)); /* a plain set: no TTL */
  dclose(d);
}
END_TEST

/* A bounded dict's writers sweep expired keys. */
START_TEST(test_ttl_sweep) {
  fsc_dict *d = copen("ttlsw", FSC_CACHE_LRU, 1000, 0);
  fsc_value one = fsc_i64(1);
  for (int i = 0; i < 50; i++) {
    char key[16];
    snprintf(key, sizeof key, "t%d", i);
    ck_ok(fsc_dict_set_ttl(d, K(key), &one, 50));
  }
  usleep(120 * 1000);
  /* The sweep samples a few slots per write, at random: 200 writes find
   * every expired key nearly always; go on (overwriting the same 200
   * keys) until they have, within a bound that random sampling passes
   * with a probability below 1e-9. */
  fsc_cache_metrics m = {.size = sizeof m};
  int writes = 0;
  for (; writes < 20000; writes++) {
    char key[16];
    snprintf(key, sizeof key, "p%d", writes % 200);
    ck_ok(fsc_dict_set_i64(d, key, writes % 200));
    if (writes >= 199) {
      ck_ok(fsc_dict_cache_metrics(d, &m));
      if (m.expirations == 50)
        break;
    }
  }
  ck_ok(fsc_dict_cache_metrics(d, &m));
  ck_assert_msg(m.expirations == 50, "%llu of 50 expired keys swept after "
                "%d writes", (unsigned long long)m.expirations, writes);
  /* no reader met them */
  ck_assert_int_eq(dlen(d), 200);
  ck_assert_uint_eq(m.items, 200);
  dclose(d);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Admission, expired victims, repair (issue #15)                      */
/* ------------------------------------------------------------------ */

static fsc_dict *aopen(const char *name, int policy, uint64_t items,
                       int admission) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  o.cache_type = policy;
  o.cache_max_items = items;
  o.cache_admission = admission;
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(P(name), &o, &d));
  return d;
}

/* The cache-aside pattern: a get, and a set on a miss.  1 on a hit. */
static int access_key(fsc_dict *d, const char *k, int64_t v) {
  int64_t x;
  int rc = fsc_dict_get_i64(d, k, &x);
  if (rc == 0)
    return 1;
  ck_assert_int_eq(rc, FSC_EKEY);
  ck_ok(fsc_dict_set_i64(d, k, v));
  return 0;
}

/* A hot set used repeatedly, then a scan of one-off keys five times the
 * bound, then the hot set again: with admission most of it is still
 * there (without, LRU keeps none of it). */
START_TEST(test_admission_scan) {
  enum { BOUND = 100, HOT = 50, SCAN = BOUND * 5 };
  for (int policy = FSC_CACHE_LRU; policy <= FSC_CACHE_LFU; policy++) {
    char name[16];
    snprintf(name, sizeof name, "adm%d", policy);
    fsc_dict *d = aopen(name, policy, BOUND, FSC_CACHE_ADMIT_ON);
    for (int round = 0; round < 10; round++)
      for (int i = 0; i < HOT; i++) {
        char k[16];
        snprintf(k, sizeof k, "h%d", i);
        access_key(d, k, i);
      }
    for (int i = 0; i < SCAN; i++) {
      char k[16];
      snprintf(k, sizeof k, "s%d", i);
      access_key(d, k, i);
      ck_assert_int_le(dlen(d), BOUND);
    }
    int hits = 0;
    for (int i = 0; i < HOT; i++) {
      char k[16];
      snprintf(k, sizeof k, "h%d", i);
      hits += access_key(d, k, i);
    }
    ck_assert_int_ge(hits, HOT * 8 / 10);
    fsc_cache_metrics m = {.size = sizeof m};
    ck_ok(fsc_dict_cache_metrics(d, &m));
    ck_assert_int_eq(m.admission, 1);
    ck_assert_uint_gt(m.admission_rejects, SCAN / 2);
    ck_assert_uint_le(m.items, BOUND);
    /* a rejected set succeeds, stores nothing; get_or_compute still gives
     * the value it computed */
    ck_ok(fsc_dict_set_i64(d, "once", 7));
    ck_assert(!has(d, "once") || m.admission_rejects == 0);
    dclose(d);
  }
  /* FSC_CACHE_ADMIT_OFF: no filter, a new key is always stored */
  fsc_dict *d = aopen("admoff", FSC_CACHE_LRU, 4, FSC_CACHE_ADMIT_OFF);
  for (int i = 0; i < 20; i++) {
    char k[16];
    snprintf(k, sizeof k, "k%d", i);
    ck_ok(fsc_dict_set_i64(d, k, i));
    ck_assert(has(d, k));
  }
  fsc_cache_metrics m = {.size = sizeof m};
  ck_ok(fsc_dict_cache_metrics(d, &m));
  ck_assert_int_eq(m.admission, 0);
  ck_assert_uint_eq(m.admission_rejects, 0);
  dclose(d);
  ck_ok(fsc_dict_open(P("admoff"), NULL, &d)); /* compaction keeps it off */
  ck_ok(fsc_dict_compact(d));
  ck_ok(fsc_dict_cache_metrics(d, &m));
  ck_assert_int_eq(m.admission, 0);
  dclose(d);
  fsc_options o = FSC_OPTIONS_INIT;
  o.cache_type = FSC_CACHE_LRU;
  o.cache_max_items = 4;
  o.cache_admission = 3;
  ck_fsc(fsc_dict_open(P("admbad"), &o, &d), FSC_EINVAL);
}
END_TEST

static int compute_42(const void *key, size_t klen, void *ctx,
                      fsc_value *out) {
  (void)key;
  (void)klen;
  (*(int *)ctx)++;
  *out = fsc_i64(42);
  return 0;
}

/* A rejected insert of get_or_compute: the computed value is returned
 * (once: the function runs once), not stored. */
START_TEST(test_admission_compute) {
  fsc_dict *d = aopen("admgoc", FSC_CACHE_LRU, 4, FSC_CACHE_ADMIT_ON);
  for (int r = 0; r < 3; r++)
    for (int i = 0; i < 4; i++) {
      char k[16];
      snprintf(k, sizeof k, "k%d", i);
      access_key(d, k, i);
    }
  fsc_value v;
  int runs = 0;
  ck_ok(fsc_dict_get_or_compute(d, K("new"), compute_42, &runs, &v));
  ck_assert_int_eq(runs, 1);
  ck_assert_int_eq(v.type, FSC_TYPE_INT64);
  ck_assert_int_eq(v.u.i64, 42);
  fsc_cache_metrics m = {.size = sizeof m};
  ck_ok(fsc_dict_cache_metrics(d, &m));
  ck_assert_uint_eq(m.admission_rejects, 1);
  ck_assert(!has(d, "new"));
  ck_assert_int_eq(dlen(d), 4);
  dclose(d);
}
END_TEST

/* A refused insert's record is flagged void (never published), so a
 * rebuild of the table from the data file (here: COUNT raised far above
 * the keys, as index pages lost with the power leave it) does not take it
 * for the key's value: the key stays absent. */
START_TEST(test_admission_rebuild) {
  fsc_dict *d = aopen("admreb", FSC_CACHE_LRU, 4, FSC_CACHE_ADMIT_ON);
  for (int r = 0; r < 3; r++)
    for (int i = 0; i < 4; i++) {
      char k[16];
      snprintf(k, sizeof k, "k%d", i);
      access_key(d, k, i);
    }
  ck_ok(fsc_dict_set_i64(d, "new", 7));
  fsc_cache_metrics m = {.size = sizeof m};
  ck_ok(fsc_dict_cache_metrics(d, &m));
  ck_assert_uint_eq(m.admission_rejects, 1);
  ck_assert(!has(d, "new"));
  dclose(d);
  char ipath[600];
  snprintf(ipath, sizeof ipath, "%s.index.fscollection", P("admreb"));
  int fd = open(ipath, O_RDWR);
  ck_assert_int_ge(fd, 0);
  uint64_t w = 0;
  ck_assert_int_eq(pread(fd, &w, 8, 64), 8); /* the table word */
  w += 100; /* COUNT, its low bits */
  ck_assert_int_eq(pwrite(fd, &w, 8, 64), 8);
  close(fd);
  ck_ok(fsc_dict_open(P("admreb"), NULL, &d));
  uint64_t ev = evictions(d);
  fsc_verify_report rep = {.size = sizeof rep};
  ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &rep));
  ck_assert(rep.repaired);
  ck_assert_uint_ge(rep.tables_rebuilt, 1);
  /* (A key that came back would put the dict over its bound: the repair
   * would then evict one.) */
  ck_assert_uint_eq(evictions(d), ev);
  ck_assert(!has(d, "new"));
  ck_assert_int_eq(dlen(d), 4);
  for (int i = 0; i < 4; i++) {
    char k[16];
    snprintf(k, sizeof k, "k%d", i);
    ck_assert(has(d, k));
  }
  dclose(d);
}
END_TEST

/* The sketch is a hint: compaction keeps it (and the filter); garbage
 * written over it (a crash in the middle of anything) is not damage to
 * verify, and the dict goes on within its bound. */
START_TEST(test_admission_kept) {
  enum { BOUND = 50 };
  fsc_dict *d = aopen("admkeep", FSC_CACHE_LFU, BOUND, FSC_CACHE_ADMIT_ON);
  for (int i = 0; i < BOUND * 4; i++) {
    char k[16];
    snprintf(k, sizeof k, "k%d", i % (BOUND + 10));
    access_key(d, k, i);
  }
  fsc_cache_metrics m = {.size = sizeof m}, m2 = {.size = sizeof m2};
  ck_ok(fsc_dict_cache_metrics(d, &m));
  ck_assert_uint_gt(m.admission_rejects, 0);
  ck_ok(fsc_dict_compact(d));
  ck_ok(fsc_dict_cache_metrics(d, &m2));
  ck_assert_int_eq(m2.admission, 1);
  ck_assert_uint_eq(m2.admission_rejects, m.admission_rejects);
  dclose(d);
  /* garbage over the sketch: sk_off, sk_n at 3112, 3120 (doc/FORMAT.md) */
  char ipath[600];
  snprintf(ipath, sizeof ipath, "%s.index.fscollection", P("admkeep"));
  int fd = open(ipath, O_RDWR);
  ck_assert_int_ge(fd, 0);
  uint64_t sk[2];
  ck_assert_int_eq(pread(fd, sk, 16, 3112), 16);
  ck_assert_uint_ne(sk[0], 0);
  ck_assert_uint_ge(sk[1], 512);
  uint8_t junk[4096];
  memset(junk, 0xa5, sizeof junk);
  for (uint64_t o = 0; o < 64 + sk[1] * 8; o += sizeof junk) {
    size_t n = 64 + sk[1] * 8 - o < sizeof junk ? 64 + sk[1] * 8 - o
                                                : sizeof junk;
    ck_assert_int_eq(pwrite(fd, junk, n, (off_t)(sk[0] + o)), (ssize_t)n);
  }
  close(fd);
  ck_ok(fsc_dict_open(P("admkeep"), NULL, &d));
  fsc_verify_report rep = {.size = sizeof rep};
  ck_ok(fsc_dict_verify(d, 0, &rep));
  ck_assert(rep.healthy);
  for (int i = 0; i < BOUND * 4; i++) {
    char k[16];
    snprintf(k, sizeof k, "g%d", i % (BOUND + 10));
    access_key(d, k, i);
    ck_assert_int_le(dlen(d), BOUND);
  }
  ck_ok(fsc_dict_verify(d, 0, &rep));
  ck_assert(rep.healthy);
  dclose(d);
}
END_TEST

/* A victim search takes an expired key before a live one: with one
 * expired key among the 16 of a full cache, the next insert evicts it,
 * not the oldest (FIFO, exact) or least recent (LRU) live key.  (The
 * writers' sweep may find it first, a quarter of the time: 6 rounds.) */
START_TEST(test_evict_expired_first) {
  enum { BOUND = 16 };
  fsc_value one = fsc_i64(1);
  for (int policy = FSC_CACHE_LRU; policy <= FSC_CACHE_FIFO; policy++) {
    if (policy == FSC_CACHE_LFU)
      continue;
    char name[16];
    snprintf(name, sizeof name, "exp%d", policy);
    fsc_dict *d = aopen(name, policy, BOUND, FSC_CACHE_ADMIT_OFF);
    for (int round = 0; round < 6; round++) {
      char k[32];
      for (int i = 0; i < BOUND; i++) {
        snprintf(k, sizeof k, "r%d-%d", round, i);
        if (i == BOUND - 1)
          ck_ok(fsc_dict_set_ttl(d, K(k), &one, 30));
        else
          ck_ok(fsc_dict_set_i64(d, k, i));
      }
      usleep(80 * 1000);
      snprintf(k, sizeof k, "r%d-new", round);
      ck_ok(fsc_dict_set_i64(d, k, 0));
      snprintf(k, sizeof k, "r%d-0", round); /* the oldest live key */
      ck_assert_msg(has(d, k), "policy %d round %d: %s evicted before the "
                    "expired key", policy, round, k);
      snprintf(k, sizeof k, "r%d-%d", round, BOUND - 1);
      ck_assert(!has(d, k));
      ck_assert_int_eq(dlen(d), BOUND);
    }
    fsc_cache_metrics m = {.size = sizeof m};
    ck_ok(fsc_dict_cache_metrics(d, &m));
    ck_assert_uint_ge(m.expirations, 6);
    dclose(d);
  }
}
END_TEST

/* Write max_items (at 3080, doc/FORMAT.md) into a closed cache dict's
 * index file, and (unclean) clear its clean-close marker. */
static void shrink_bound(const char *name, uint64_t max, bool unclean) {
  char ipath[600];
  snprintf(ipath, sizeof ipath, "%s.index.fscollection", P(name));
  int fd = open(ipath, O_RDWR);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(pwrite(fd, &max, 8, 3080), 8);
  if (unclean) {
    off_t end = lseek(fd, 0, SEEK_END);
    uint8_t z = 0;
    ck_assert_int_eq(pwrite(fd, &z, 1, end - 1), 1);
  }
  close(fd);
}

/* A file whose keys exceed its bound: the first open after an unclean
 * shutdown (recovery) evicts down to it; so does verify's repair. */
START_TEST(test_repair_evicts) {
  for (int unclean = 1; unclean >= 0; unclean--) {
    const char *name = unclean ? "rep_recover" : "rep_verify";
    fsc_dict *d = aopen(name, FSC_CACHE_LRU, 20, FSC_CACHE_ADMIT_OFF);
    for (int i = 0; i < 20; i++) {
      char k[16];
      snprintf(k, sizeof k, "k%d", i);
      ck_ok(fsc_dict_set_i64(d, k, i));
    }
    dclose(d);
    shrink_bound(name, 8, unclean);
    ck_ok(fsc_dict_open(P(name), NULL, &d));
    fsc_verify_report rep = {.size = sizeof rep};
    if (!unclean) {
      ck_assert_int_eq(dlen(d), 20); /* a clean open leaves them */
      ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &rep));
      ck_assert(rep.repaired);
      memset(&rep, 0, sizeof rep);
      rep.size = sizeof rep;
    }
    ck_assert_int_eq(dlen(d), 8);
    fsc_cache_metrics m = {.size = sizeof m};
    ck_ok(fsc_dict_cache_metrics(d, &m));
    ck_assert_uint_eq(m.items, 8);
    ck_assert_uint_ge(m.evictions, 12);
    ck_ok(fsc_dict_verify(d, 0, &rep));
    ck_assert(rep.healthy);
    ck_ok(fsc_dict_set_i64(d, "after", 1)); /* and the bound holds */
    ck_assert_int_eq(dlen(d), 8);
    dclose(d);
  }
}
END_TEST

/* The byte bound too: a dict whose records pass its cache_max_bytes is
 * reported by verify and evicted down to the bound by its repair. */
START_TEST(test_repair_evicts_bytes) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  o.cache_type = FSC_CACHE_LRU;
  o.cache_max_bytes = 100000;
  o.cache_admission = FSC_CACHE_ADMIT_OFF;
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(P("rep_bytes"), &o, &d));
  for (int i = 0; i < 20; i++) {
    char k[16];
    snprintf(k, sizeof k, "k%d", i + 10); /* 3-byte keys: 40-byte records */
    ck_ok(fsc_dict_set_i64(d, k, i));
  }
  fsc_cache_metrics m = {.size = sizeof m};
  ck_ok(fsc_dict_cache_metrics(d, &m));
  ck_assert_uint_eq(m.bytes, 20 * 40);
  dclose(d);
  char ipath[600];
  snprintf(ipath, sizeof ipath, "%s.index.fscollection", P("rep_bytes"));
  int fd = open(ipath, O_RDWR);
  ck_assert_int_ge(fd, 0);
  uint64_t mb = 8 * 40;
  ck_assert_int_eq(pwrite(fd, &mb, 8, 3088), 8); /* max_bytes */
  close(fd);
  ck_ok(fsc_dict_open(P("rep_bytes"), NULL, &d));
  fsc_verify_report rep = {.size = sizeof rep};
  ck_fsc(fsc_dict_verify(d, 0, &rep), FSC_ECORRUPT);
  ck_assert(!rep.healthy);
  ck_assert_ptr_nonnull(strstr(fsc_errmsg(), "bytes, above its bound"));
  memset(&rep, 0, sizeof rep);
  rep.size = sizeof rep;
  ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &rep));
  ck_assert(rep.repaired);
  memset(&m, 0, sizeof m);
  m.size = sizeof m;
  ck_ok(fsc_dict_cache_metrics(d, &m));
  ck_assert_uint_le(m.bytes, mb);
  ck_assert_uint_le(dlen(d), 8);
  memset(&rep, 0, sizeof rep);
  rep.size = sizeof rep;
  ck_ok(fsc_dict_verify(d, 0, &rep));
  ck_assert(rep.healthy);
  dclose(d);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Many processes                                                      */
/* ------------------------------------------------------------------ */

struct shm {
  volatile int stop;
  volatile int over;        /* the reader saw len or items over the bound */
  volatile int samples;
  volatile int ready;       /* the reader has opened the dict */
  volatile int computed;    /* compute function runs */
  volatile int claimed;     /* the victim has entered compute */
};

static struct shm *shm_new(void) {
  void *p = mmap(NULL, sizeof(struct shm), PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ck_assert(p != MAP_FAILED);
  memset(p, 0, sizeof(struct shm));
  return p;
}

static int wait_all(pid_t *pids, int n) {
  int bad = 0;
  for (int i = 0; i < n; i++) {
    int st;
    if (waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st) ||
        WEXITSTATUS(st) != 0)
      bad++;
  }
  return bad;
}

/* _i: 0 the policies' default admission, 1 admission on (FIFO too). */
START_TEST(test_bound_mp) {
  enum { BOUND = 200, WRITERS = 4, EACH = BOUND * 10 / WRITERS * 4 };
  int adm = _i ? FSC_CACHE_ADMIT_ON : FSC_CACHE_ADMIT_DEFAULT;
  for (int policy = FSC_CACHE_LRU; policy <= FSC_CACHE_FIFO; policy++) {
    char name[16];
    snprintf(name, sizeof name, "mp%d-%d", policy, _i);
    fsc_dict *d = aopen(name, policy, BOUND, adm);
    struct shm *sh = shm_new();
    pid_t rd = fork();
    ck_assert(rd >= 0);
    if (rd == 0) {
      fsc_dict *r = NULL;
      if (fsc_dict_open(P(name), NULL, &r) != 0)
        _exit(2);
      sh->ready = 1;
      while (!sh->stop) {
        fsc_cache_metrics m = {.size = sizeof m};
        int64_t n = dlen(r);
        if (fsc_dict_cache_metrics(r, &m) != 0)
          _exit(3);
        if (n > BOUND || m.items > BOUND)
          sh->over = 1;
        sh->samples++;
      }
      fsc_dict_close(r);
      _exit(0);
    }
    /* The reader samples from before the first write (on a loaded machine
     * it could otherwise start after the last). */
    for (int t = 0; !sh->ready && t < 10000; t++)
      usleep(1000);
    pid_t w[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
      w[i] = fork();
      ck_assert(w[i] >= 0);
      if (w[i] == 0) {
        fsc_dict *x = NULL;
        if (fsc_dict_open(P(name), NULL, &x) != 0)
          _exit(2);
        for (int j = 0; j < EACH; j++) {
          char k[32];
          snprintf(k, sizeof k, "w%d-%d", i, j);
          if (fsc_dict_set_i64(x, k, j) != 0)
            _exit(4);
          if (j % 3 == 0) { /* some reads, some deletes */
            int64_t v;
            snprintf(k, sizeof k, "w%d-%d", i, j / 2);
            fsc_dict_get_i64(x, k, &v);
          }
          if (j % 17 == 0) {
            snprintf(k, sizeof k, "w%d-%d", i, j - 1);
            fsc_dict_pop(x, k, strlen(k), &(fsc_value){0}, NULL);
          }
        }
        fsc_dict_close(x);
        _exit(0);
      }
    }
    ck_assert_int_eq(wait_all(w, WRITERS), 0);
    for (int t = 0; sh->samples <= 10 && t < 10000; t++)
      usleep(1000);
    sh->stop = 1;
    ck_assert_int_eq(wait_all(&rd, 1), 0);
    ck_assert_int_gt(sh->samples, 10);
    ck_assert_int_eq(sh->over, 0);
    ck_assert_int_le(dlen(d), BOUND);
    ck_assert_int_ge(dlen(d), BOUND - 1);
    fsc_cache_metrics m = {.size = sizeof m};
    ck_ok(fsc_dict_cache_metrics(d, &m));
    ck_assert_uint_eq(m.items, (uint64_t)dlen(d));
    /* (one-off keys: with admission most are refused instead) */
    ck_assert_uint_gt(m.evictions + m.admission_rejects, (uint64_t)BOUND * 5);
    /* (the default: on for LRU and LFU, off for FIFO) */
    ck_assert_int_eq(m.admission,
                     adm == FSC_CACHE_ADMIT_ON || policy != FSC_CACHE_FIFO);
    fsc_verify_report rep;
    ck_ok(fsc_dict_verify(d, 0, &rep));
    dclose(d);
    munmap(sh, sizeof *sh);
  }
}
END_TEST

/* Writers SIGKILLed at random points: the bound holds throughout, and the
 * next session's counts are exact (a killed insert's reservation is
 * recounted). */
START_TEST(test_writer_killed) {
  enum { BOUND = 100 };
  fsc_dict *d = copen("kill", FSC_CACHE_LFU, BOUND, 0);
  for (int round = 0; round < 6; round++) {
    pid_t w = fork();
    ck_assert(w >= 0);
    if (w == 0) {
      fsc_dict *x = NULL;
      if (fsc_dict_open(P("kill"), NULL, &x) != 0)
        _exit(2);
      for (int j = 0;; j++) {
        char k[32];
        int64_t v;
        snprintf(k, sizeof k, "r%d-%d", round, j);
        fsc_dict_set_i64(x, k, j);
        fsc_dict_get_i64(x, k, &v);
      }
    }
    usleep((useconds_t)(20000 + 15000 * round));
    kill(w, SIGKILL);
    int st;
    ck_assert_int_eq(waitpid(w, &st, 0), w);
    fsc_cache_metrics m = {.size = sizeof m};
    ck_ok(fsc_dict_cache_metrics(d, &m));
    ck_assert_int_le(dlen(d), BOUND);
    ck_assert_uint_le(m.items, BOUND);
    ck_assert_uint_ge(m.items, (uint64_t)dlen(d));
  }
  dclose(d); /* the last close: a writer died, so it recovers */
  ck_ok(fsc_dict_open(P("kill"), NULL, &d));
  fsc_cache_metrics m = {.size = sizeof m};
  ck_ok(fsc_dict_cache_metrics(d, &m));
  ck_assert_uint_eq(m.items, (uint64_t)dlen(d));
  ck_assert_int_le(dlen(d), BOUND);
  /* Each killed writer may have evicted a key for an insert it never
   * made (a cache may always hold less than its bound): at most one key
   * per kill. */
  ck_assert_int_ge(dlen(d), BOUND - 6);
  ck_ok(fsc_dict_set_i64(d, "after", 1)); /* and it goes on */
  ck_assert(has(d, "after"));
  ck_assert_int_le(dlen(d), BOUND);
  fsc_verify_report rep = {.size = sizeof rep};
  ck_ok(fsc_dict_verify(d, 0, &rep));
  ck_assert(rep.healthy);
  dclose(d);
}
END_TEST

static struct shm *g_sh;

static int slow_compute(const void *key, size_t klen, void *ctx,
                        fsc_value *out) {
  (void)key;
  (void)klen;
  __atomic_add_fetch(&g_sh->computed, 1, __ATOMIC_SEQ_CST);
  g_sh->claimed = 1;
  if (ctx) /* the victim: never finishes */
    for (;;)
      pause();
  usleep(200 * 1000);
  *out = fsc_i64(4242);
  return 0;
}

START_TEST(test_compute_once) {
  enum { N = 8 };
  fsc_dict *d = copen("goc", FSC_CACHE_LRU, 100, 0);
  g_sh = shm_new();
  pid_t p[N];
  for (int i = 0; i < N; i++) {
    p[i] = fork();
    ck_assert(p[i] >= 0);
    if (p[i] == 0) {
      fsc_dict *x = NULL;
      fsc_value v;
      if (fsc_dict_open(P("goc"), NULL, &x) != 0)
        _exit(2);
      if (fsc_dict_get_or_compute(x, K("hot"), slow_compute, NULL, &v) != 0)
        _exit(3);
      if (v.type != FSC_TYPE_INT64 || v.u.i64 != 4242)
        _exit(4);
      fsc_dict_close(x);
      _exit(0);
    }
  }
  ck_assert_int_eq(wait_all(p, N), 0);
  ck_assert_int_eq(g_sh->computed, 1);
  int64_t v;
  ck_ok(fsc_dict_get_i64(d, "hot", &v));
  ck_assert_int_eq(v, 4242);
  /* a hit does not compute */
  fsc_value x;
  ck_ok(fsc_dict_get_or_compute(d, K("hot"), slow_compute, NULL, &x));
  ck_assert_int_eq(g_sh->computed, 1);
  /* a compute error is returned and nothing is stored */
  ck_fsc(fsc_dict_get_or_compute(d, K("hot"), NULL, NULL, &x), FSC_EINVAL);
  dclose(d);
  munmap(g_sh, sizeof *g_sh);
}
END_TEST

START_TEST(test_compute_claimer_killed) {
  fsc_dict *d = copen("gock", FSC_CACHE_FIFO, 100, 0);
  g_sh = shm_new();
  pid_t victim = fork();
  ck_assert(victim >= 0);
  if (victim == 0) {
    fsc_dict *x = NULL;
    fsc_value v;
    if (fsc_dict_open(P("gock"), NULL, &x) != 0)
      _exit(2);
    fsc_dict_get_or_compute(x, K("k"), slow_compute, (void *)1, &v);
    _exit(5); /* never */
  }
  while (!g_sh->claimed)
    usleep(1000);
  pid_t other = fork();
  ck_assert(other >= 0);
  if (other == 0) {
    fsc_dict *x = NULL;
    fsc_value v;
    if (fsc_dict_open(P("gock"), NULL, &x) != 0)
      _exit(2);
    if (fsc_dict_get_or_compute(x, K("k"), slow_compute, NULL, &v) != 0)
      _exit(3);
    _exit(v.u.i64 == 4242 ? 0 : 4);
  }
  usleep(100 * 1000); /* the other is waiting on the claim */
  kill(victim, SIGKILL);
  int st;
  waitpid(victim, &st, 0);
  ck_assert(WIFSIGNALED(st));
  ck_assert_int_eq(wait_all(&other, 1), 0);
  ck_assert_int_eq(g_sh->computed, 2);
  int64_t v;
  ck_ok(fsc_dict_get_i64(d, "k", &v));
  ck_assert_int_eq(v, 4242);
  dclose(d);
  munmap(g_sh, sizeof *g_sh);
}
END_TEST

static Suite *cache_suite(void) {
  Suite *s = suite_create("cache");
  TCase *t = tcase_create("policies");
  tcase_set_timeout(t, 60);
  tcase_add_test(t, test_options);
  tcase_add_test(t, test_fifo_exact);
  tcase_add_test(t, test_huge_bound);
  tcase_add_test(t, test_bad_cache_block);
  tcase_add_test(t, test_lru);
  tcase_add_test(t, test_lfu);
  tcase_add_test(t, test_bytes_bound);
  tcase_add_test(t, test_compact_keeps);
  tcase_add_test(t, test_verify_bound);
  tcase_add_test(t, test_ttl);
  tcase_add_test(t, test_ttl_sweep);
  tcase_add_test(t, test_admission_scan);
  tcase_add_test(t, test_admission_compute);
  tcase_add_test(t, test_admission_rebuild);
  tcase_add_test(t, test_admission_kept);
  tcase_add_test(t, test_evict_expired_first);
  tcase_add_test(t, test_repair_evicts);
  tcase_add_test(t, test_repair_evicts_bytes);
  suite_add_tcase(s, t);
  TCase *mp = tcase_create("processes");
  tcase_set_timeout(mp, 120);
  tcase_add_loop_test(mp, test_bound_mp, 0, 2);
  tcase_add_test(mp, test_writer_killed);
  tcase_add_test(mp, test_compute_once);
  tcase_add_test(mp, test_compute_claimer_killed);
  suite_add_tcase(s, mp);
  return s;
}

int main(void) { return tc_run(cache_suite()); }
