/*
 * test_closeword.c - the close word of a dict counter in a version-4 data
 * file (doc/FORMAT.md, "Counter records"; src/file/format.h
 * fsc__ctr_cwoff; src/file/record.c fsc__rec_alloc_dctr; internal.h
 * fsc__ctr_add_cw; issue #14):
 *
 *  - shape: counters of keys of 0 to 20 bytes are [klen][key][pad][0 or 8
 *    zero bytes][close][value][origin], the close word at a 16-aligned
 *    file offset, both paddings met, the values kept across a reopen;
 *  - one atomic: a watcher process reading ctl never sees a writer
 *    counted inside a close-word counter, and does on a version-3 file
 *    (three atomics there): the test tells the two paths apart;
 *  - races: 8 processes incrementing one key and 8 keys while another
 *    compacts and another sets and deletes an unrelated key; no dead
 *    bytes from increments alone; fsc_dict_cas used as a lock while
 *    others increment the lock key's record;
 *  - the close word mirrors ctl's CLOSED (a pop, a replacing CAS) and
 *    SEALED (a clean close; the first increment of a session clears it);
 *  - leftovers of a closer or sealer killed between its two steps, and an
 *    unknown bit: increments count, verify is healthy, compaction writes
 *    a clean record, the next clean close reseals;
 *  - the checksum covers the padding and key, not the close word;
 *  - versions: a version-3 dict (FSC_TEST_DATA_VERSION=3) keeps plain
 *    counters, compaction makes it version 4, and back with the hook set;
 *    fsc_dict_incr_f64 and fsc_dict_cas on close-word counters.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "check_common.h"
#include "check_procs.h"
#include "check_records.h"

#include <ck_pr.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* doc/FORMAT.md: the record header's ctl bits and the data file header. */
#define REC_HDR 16
#define CTR_FLAG 0x8000u
#define CTR_CLOSED 0x4000u
#define CTR_SEALED 0x1000u
#define CTR_INSIDE 0x0fffu
#define CW_BITS ((uint64_t)(CTR_CLOSED | CTR_SEALED))
#define DATA_VERSION_OFF 8

#define CHILD_OK(call)                                                        \
  do {                                                                        \
    int child_rc_ = (call);                                                   \
    if (child_rc_ != 0) {                                                     \
      fprintf(stderr, "%s:%d %s: %d %s\n", __FILE__, __LINE__, #call,         \
              child_rc_, fsc_errmsg());                                       \
      _exit(91);                                                              \
    }                                                                         \
  } while (0)

/* A live counter record of dict key k (a full int64 or float record
 * flagged COUNTER, not deleted, of either shape). */
static bool is_ctr(const tc_rec *r, const void *arg) {
  size_t head = (4 + strlen(arg) + 7) & ~(size_t)7;
  return tc_rec_key_is(r, arg) && (r->ctl & CTR_FLAG) &&
         !(r->flags & 1) &&
         (r->type == FSC_TYPE_INT64 || r->type == FSC_TYPE_FLOAT) &&
         (r->size == head + 16 || r->size == head + 24 ||
          r->size == head + 32);
}

/* What the test reads of a dict counter record from the data file. */
typedef struct {
  uint64_t off;  /* the record */
  uint64_t size; /* its payload size */
  uint64_t head; /* [klen][key] padded to 8 */
  off_t cw;      /* file offset of its close word, -1: plain shape */
  uint64_t pad;  /* zero bytes between head and close word (0 or 8) */
  uint16_t ctl;
  uint64_t cwv;  /* the close word (0 if none) */
  int64_t value;
} ctr;

static ctr ctr_at(const char *base, uint64_t off) {
  const char *dp = tc_fpath(base, "data");
  ctr c;
  uint32_t kl = 0;
  c.off = off;
  c.size = tc_peek64(dp, (off_t)off + 8);
  tc_peek(dp, (off_t)off + REC_HDR, &kl, 4);
  c.head = (4 + (uint64_t)kl + 7) & ~UINT64_C(7);
  tc_peek(dp, (off_t)off + 2, &c.ctl, 2);
  uint64_t pl = off + REC_HDR;
  c.value = (int64_t)tc_peek64(dp, (off_t)(pl + c.size - 16));
  if (c.size == c.head + 16) {
    c.cw = -1;
    c.pad = 0;
    c.cwv = 0;
  } else {
    c.cw = (off_t)(pl + c.size - 24);
    c.pad = c.size - c.head - 24;
    c.cwv = tc_peek64(dp, c.cw);
  }
  return c;
}

/* The last counter record written for key k. */
static ctr ctr_of(const char *base, const char *k) {
  uint64_t off = tc_rec_last(base, is_ctr, k);
  ck_assert_msg(off, "no counter record for key '%s'", k);
  return ctr_at(base, off);
}

/* c has the close-word shape: the close word 16-aligned, the padding
 * zero, no bit but CLOSED and SEALED in it, and every one of ctl's
 * CLOSED and SEALED bits in it (format.h). */
static void ck_cw_shape(const char *base, const ctr *c) {
  ck_assert_msg(c->cw >= 0, "counter at %llu has the plain shape",
                (unsigned long long)c->off);
  ck_assert_msg(c->cw % 16 == 0, "close word at %lld is not 16-aligned",
                (long long)c->cw);
  ck_assert(c->pad == 0 || c->pad == 8);
  for (uint64_t i = 0; i < c->pad; i++) {
    uint8_t b;
    tc_peek(tc_fpath(base, "data"), (off_t)(c->off + REC_HDR + c->head + i),
            &b, 1);
    ck_assert_int_eq(b, 0);
  }
  ck_assert_msg((c->cwv & ~CW_BITS) == 0, "close word %#llx",
                (unsigned long long)c->cwv);
  ck_assert_msg(((uint64_t)c->ctl & CW_BITS & ~c->cwv) == 0,
                "ctl %#x has a bit the close word %#llx has not", c->ctl,
                (unsigned long long)c->cwv);
}

static void ck_plain_shape(const ctr *c) {
  ck_assert_msg(c->cw < 0, "counter at %llu has a close word",
                (unsigned long long)c->off);
}

static unsigned data_version(const char *base) {
  uint32_t v = 0;
  tc_peek(tc_fpath(base, "data"), DATA_VERSION_OFF, &v, 4);
  return v;
}

static off_t data_size(const char *base) {
  struct stat st;
  ck_assert_int_eq(stat(tc_fpath(base, "data"), &st), 0);
  return st.st_size;
}

/* Open (or, FSC_CREATE, create) the dict at base; v3: with the test hook
 * that creates a version-3 data file set meanwhile. */
static fsc_dict *dopen(const char *base, fsc_type t, unsigned flags,
                       bool v3) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = t;
  o.flags = flags;
  fsc_dict *d = NULL;
  if (v3)
    ck_assert_int_eq(setenv("FSC_TEST_DATA_VERSION", "3", 1), 0);
  int rc = fsc_dict_open(base, &o, &d);
  ck_assert_int_eq(unsetenv("FSC_TEST_DATA_VERSION"), 0);
  ck_ok(rc);
  return d;
}

static void dclose(fsc_dict *d) {
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
}

static int64_t dget(fsc_dict *d, const char *k) {
  int64_t x = 0;
  ck_ok(fsc_dict_get_i64(d, k, &x));
  return x;
}

static int64_t dincr(fsc_dict *d, const char *k, int64_t delta) {
  int64_t x = 0;
  ck_ok(fsc_dict_incr(d, k, strlen(k), delta, &x));
  return x;
}

static fsc_verify_report verify_ok(fsc_dict *d) {
  fsc_verify_report r;
  memset(&r, 0, sizeof r);
  r.size = sizeof r;
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_assert(r.healthy);
  return r;
}

static fsc_metrics metrics(fsc_dict *d) {
  fsc_metrics m;
  memset(&m, 0, sizeof m);
  m.size = sizeof m;
  ck_ok(fsc_dict_metrics(d, &m));
  return m;
}

/* Key i of a test: i bytes, "" for 0 (distinct by length). */
static const char *key_n(char *b, size_t i) {
  memset(b, 'a' + (int)(i % 26), i);
  b[i] = 0;
  return b;
}

/* ------------------------------------------------------------------ */

START_TEST(shape_keys_0_to_20) {
  const char *base = tc_path("shape");
  fsc_dict *d = dopen(base, FSC_TYPE_INT64, FSC_CREATE, false);
  ck_assert_uint_eq(data_version(base), 4);
  char k[32];
  for (size_t i = 0; i <= 20; i++) {
    ck_assert_int_eq(dincr(d, key_n(k, i), (int64_t)i + 1), (int64_t)i + 1);
    /* Another record between two counters moves the tail on by 8 mod 16
     * for odd i: both paddings are met whatever the key lengths give. */
    if (i % 2)
      ck_ok(fsc_dict_set_i64(d, "x", (int64_t)i));
  }
  for (size_t i = 0; i <= 20; i++)
    ck_assert_int_eq(dincr(d, key_n(k, i), 1000), (int64_t)i + 1001);
  dclose(d);
  d = dopen(base, FSC_TYPE_INT64, 0, false);
  int pads[2] = {0, 0};
  for (size_t i = 0; i <= 20; i++) {
    ctr c = ctr_of(base, key_n(k, i));
    ck_cw_shape(base, &c);
    ck_assert_uint_eq(c.head, (4 + i + 7) & ~(size_t)7);
    ck_assert_int_eq(c.value, (int64_t)i + 1001);
    pads[c.pad / 8]++;
    ck_assert_int_eq(dget(d, k), (int64_t)i + 1001);
  }
  ck_assert_msg(pads[0] && pads[1], "paddings: %d of 0, %d of 8", pads[0],
                pads[1]);
  verify_ok(d);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/*
 * One writer process does 2,000,000 fsc_dict_incr of an unsealed counter
 * while a watcher maps the data file and reads the record's ctl as fast as
 * it can.  Version 4 (_i 1): the one 16-byte CAS never counts itself
 * inside, so INSIDE is never seen.  Version 3 (_i 0): three atomics, the
 * writer inside for a third of each increment: the watcher sees it (the
 * writer goes on past 2,000,000 until it has, or 60 s).
 */
START_TEST(one_atomic_never_inside) {
#if defined(__x86_64__) && defined(CK_F_PR_CAS_64_2)
  const bool v4 = _i == 1;
  const char *base = tc_path("watch");
  enum { N = 2000000 };
  fsc_dict *d = dopen(base, FSC_TYPE_INT64, FSC_CREATE, !v4);
  ck_assert_uint_eq(data_version(base), v4 ? 4 : 3);
  ck_assert_int_eq(dincr(d, "hits", 1), 1); /* a counter, sealed */
  ck_assert_int_eq(dincr(d, "hits", 1), 2); /* unsealed */
  ctr c = ctr_of(base, "hits");
  ck_assert_uint_eq(c.ctl & CTR_SEALED, 0);
  if (v4) {
    ck_cw_shape(base, &c);
    ck_assert_uint_eq(c.cwv, 0);
  } else {
    ck_plain_shape(&c);
  }
  /* [0] writer running, [1] writer done, [2] reads while it ran,
   * [3] reads that saw INSIDE nonzero, [4] increments done. */
  int64_t *sh = tc_shm(5 * sizeof(int64_t));
  pid_t pids[2];
  if ((pids[0] = fork()) == 0) {
    int fd = open(tc_fpath(base, "data"), O_RDONLY);
    const uint8_t *m = fd < 0 ? MAP_FAILED
                              : mmap(NULL, (size_t)c.off + 16, PROT_READ,
                                     MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
      _exit(92);
    const uint16_t *ctl = (const uint16_t *)(const void *)(m + c.off + 2);
    while (!__atomic_load_n(&sh[0], __ATOMIC_SEQ_CST))
      ;
    int64_t n = 0, seen = 0;
    while (!__atomic_load_n(&sh[1], __ATOMIC_SEQ_CST)) {
      if (__atomic_load_n(ctl, __ATOMIC_RELAXED) & CTR_INSIDE)
        __atomic_store_n(&sh[3], ++seen, __ATOMIC_SEQ_CST);
      if ((++n & 1023) == 0)
        __atomic_store_n(&sh[2], n, __ATOMIC_SEQ_CST);
    }
    _exit(0);
  }
  if ((pids[1] = fork()) == 0) {
    fsc_dict *cd = NULL;
    fsc_options o = FSC_OPTIONS_INIT;
    o.type = FSC_TYPE_INT64;
    CHILD_OK(fsc_dict_open(base, &o, &cd));
    __atomic_store_n(&sh[0], 1, __ATOMIC_SEQ_CST);
    double t0 = tc_now_s();
    int64_t j = 0, y = 0;
    for (;; j++) {
      if (j >= N && (j & 1023) == 0 &&
          (v4 || __atomic_load_n(&sh[3], __ATOMIC_SEQ_CST) > 0 ||
           tc_now_s() - t0 > 60))
        break;
      CHILD_OK(fsc_dict_incr(cd, "hits", 4, 1, &y));
      if (y != 2 + j + 1)
        _exit(93);
    }
    sh[4] = j;
    __atomic_store_n(&sh[1], 1, __ATOMIC_SEQ_CST);
    fsc_dict_close(cd);
    fsc_dict_free(cd);
    _exit(0);
  }
  tc_reap(pids, 2, 200);
  ck_assert_int_ge(sh[4], N);
  ck_assert_int_gt(sh[2], 0);
  if (v4)
    ck_assert_msg(sh[3] == 0, "ctl counted a writer inside in %lld of "
                  "%lld reads", (long long)sh[3], (long long)sh[2]);
  else
    ck_assert_msg(sh[3] > 0, "three atomics, and no writer seen inside in "
                  "%lld reads", (long long)sh[2]);
  ck_assert_int_eq(dget(d, "hits"), 2 + sh[4]);
  ctr e = ctr_of(base, "hits");
  ck_assert_uint_eq(e.off, c.off); /* in place */
  ck_assert_int_eq(e.value, 2 + sh[4]);
  ck_assert_uint_eq(e.ctl & (CTR_INSIDE | CTR_CLOSED), 0);
  ck_assert_uint_eq(e.cwv, 0);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
#endif
}
END_TEST

/* P processes, each n increments by 1 of `per` keys "k0".."k<per-1>" (key
 * j % per on its j-th); each answer must be above the process's last one
 * for that key. */
static void incr_procs(const char *base, pid_t *pids, int p, int n,
                       int per) {
  for (int i = 0; i < p; i++) {
    if ((pids[i] = fork()) == 0) {
      fsc_options o = FSC_OPTIONS_INIT;
      o.type = FSC_TYPE_INT64;
      fsc_dict *cd = NULL;
      CHILD_OK(fsc_dict_open(base, &o, &cd));
      int64_t last[8] = {0};
      for (int j = 0; j < n; j++) {
        char k[8];
        int e = j % per;
        snprintf(k, sizeof k, "k%d", e);
        int64_t y = 0;
        CHILD_OK(fsc_dict_incr(cd, k, strlen(k), 1, &y));
        if (y <= last[e])
          _exit(94);
        last[e] = y;
      }
      fsc_dict_close(cd);
      fsc_dict_free(cd);
      _exit(0);
    }
  }
}

/* A process that, until *stop, compacts (compact) or sets and deletes key
 * "other" (!compact); it counts its rounds in *rounds. */
static pid_t busy_proc(const char *base, bool compact, int64_t *stop,
                       int64_t *rounds) {
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p)
    return p;
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  fsc_dict *cd = NULL;
  CHILD_OK(fsc_dict_open(base, &o, &cd));
  int64_t r = 0;
  while (!__atomic_load_n(stop, __ATOMIC_SEQ_CST) || r == 0) {
    if (compact) {
      CHILD_OK(fsc_dict_compact(cd));
      usleep(200);
    } else {
      CHILD_OK(fsc_dict_set_i64(cd, "other", r));
      CHILD_OK(fsc_dict_del(cd, "other", 5));
    }
    r++;
    __atomic_add_fetch(rounds, 1, __ATOMIC_SEQ_CST);
  }
  fsc_dict_close(cd);
  fsc_dict_free(cd);
  _exit(0);
}

/* 8 processes x 100,000 increments of one key, then of 8 keys, racing a
 * compactor and a setter/deleter of another key: exact totals, healthy,
 * every counter in the close-word shape. */
START_TEST(races_compact_setdel) {
  const char *base = tc_path("races");
  enum { P = 8, N = 100000, E = 8 };
  fsc_dict *d = dopen(base, FSC_TYPE_INT64, FSC_CREATE, false);
  char k[8];
  for (int e = 0; e < E; e++) {
    snprintf(k, sizeof k, "k%d", e);
    ck_assert_int_eq(dincr(d, k, 1000 * e), 1000 * e);
  }
  /* [0] stop, [1] compactions, [2] set/del rounds. */
  int64_t *sh = tc_shm(3 * sizeof(int64_t));
  for (int per = 1; per <= E; per += E - 1) {
    pid_t pids[P + 2];
    __atomic_store_n(&sh[0], 0, __ATOMIC_SEQ_CST);
    int64_t c0 = sh[1];
    pids[P] = busy_proc(base, true, &sh[0], &sh[1]);
    pids[P + 1] = busy_proc(base, false, &sh[0], &sh[2]);
    incr_procs(base, pids, P, N, per);
    tc_reap(pids, P, 300);
    __atomic_store_n(&sh[0], 1, __ATOMIC_SEQ_CST);
    tc_reap(pids + P, 2, 120);
    ck_assert_int_gt(sh[1], c0);
  }
  ck_assert_int_gt(sh[2], 0);
  for (int e = 0; e < E; e++) {
    snprintf(k, sizeof k, "k%d", e);
    int64_t want = 1000 * e + (int64_t)P * N / E + (e == 0 ? P * N : 0);
    ck_assert_int_eq(dget(d, k), want);
    ctr c = ctr_of(base, k);
    ck_cw_shape(base, &c);
    ck_assert_int_eq(c.value, want);
  }
  int64_t x;
  ck_fsc(fsc_dict_get_i64(d, "other", &x), FSC_EKEY);
  fsc_verify_report r = verify_ok(d);
  ck_assert_uint_eq(r.length, E);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* Increments alone write nothing: 8 processes x 100,000 increments of 8
 * unsealed counters leave the dead bytes and the data file's size as
 * they were. */
START_TEST(races_no_dead_bytes) {
  const char *base = tc_path("nodead");
  enum { P = 8, N = 100000, E = 8 };
  fsc_dict *d = dopen(base, FSC_TYPE_INT64, FSC_CREATE, false);
  char k[8];
  for (int e = 0; e < E; e++) {
    snprintf(k, sizeof k, "k%d", e);
    dincr(d, k, 1);
    dincr(d, k, 1); /* unsealed */
  }
  fsc_metrics m0 = metrics(d);
  off_t sz = data_size(base);
  pid_t pids[P];
  incr_procs(base, pids, P, N, E);
  tc_reap(pids, P, 300);
  fsc_metrics m1 = metrics(d);
  ck_assert_uint_eq(m1.dead_bytes, m0.dead_bytes);
  ck_assert_uint_eq(m1.live_bytes, m0.live_bytes);
  ck_assert_int_eq(data_size(base), sz);
  for (int e = 0; e < E; e++) {
    snprintf(k, sizeof k, "k%d", e);
    ck_assert_int_eq(dget(d, k), 2 + (int64_t)P * N / E);
  }
  verify_ok(d);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/*
 * fsc_dict_cas as a lock: 4 processes take "lock" (CAS 0 -> 1), read
 * "shared", write it back plus one (not atomic: only the lock keeps it
 * exact), release (CAS 1 -> 0, which must succeed), K times each; 2 more
 * processes increment "lock" by 0 all the while (a 16-byte CAS on the
 * same record that changes nothing) and "n" by 1.
 */
START_TEST(cas_lock) {
  const char *base = tc_path("lock");
  enum { P = 4, K = 1500, Q = 2 };
  fsc_dict *d = dopen(base, FSC_TYPE_INT64, FSC_CREATE, false);
  ck_assert_int_eq(dincr(d, "lock", 0), 0);
  ck_assert_int_eq(dincr(d, "lock", 0), 0); /* unsealed */
  ck_ok(fsc_dict_set_i64(d, "shared", 0));
  int64_t *sh = tc_shm(sizeof(int64_t) * (1 + Q));
  pid_t pids[P + Q];
  for (int i = 0; i < P + Q; i++) {
    if ((pids[i] = fork()) == 0) {
      fsc_options o = FSC_OPTIONS_INIT;
      o.type = FSC_TYPE_INT64;
      fsc_dict *cd = NULL;
      CHILD_OK(fsc_dict_open(base, &o, &cd));
      if (i >= P) {
        int64_t j = 0;
        for (; !__atomic_load_n(&sh[0], __ATOMIC_SEQ_CST) || j < 1000; j++) {
          int64_t y = -1;
          CHILD_OK(fsc_dict_incr(cd, "lock", 4, 0, &y));
          if (y != 0 && y != 1)
            _exit(95);
          CHILD_OK(fsc_dict_incr(cd, "n", 1, 1, NULL));
        }
        sh[1 + i - P] = j;
      } else {
        fsc_value zero = fsc_i64(0), one = fsc_i64(1);
        for (int j = 0; j < K; j++) {
          int rc;
          while ((rc = fsc_dict_cas(cd, "lock", 4, &zero, &one, NULL)) == 0)
            ;
          if (rc != 1)
            _exit(96);
          int64_t v = 0;
          CHILD_OK(fsc_dict_get_i64(cd, "shared", &v));
          CHILD_OK(fsc_dict_set_i64(cd, "shared", v + 1));
          if (fsc_dict_cas(cd, "lock", 4, &one, &zero, NULL) != 1)
            _exit(97);
        }
      }
      fsc_dict_close(cd);
      fsc_dict_free(cd);
      _exit(0);
    }
  }
  tc_reap(pids, P, 300);
  __atomic_store_n(&sh[0], 1, __ATOMIC_SEQ_CST);
  tc_reap(pids + P, Q, 60);
  ck_assert_int_eq(dget(d, "shared"), (int64_t)P * K);
  ck_assert_int_eq(dget(d, "lock"), 0);
  ck_assert_int_eq(dget(d, "n"), sh[1] + sh[2]);
  ctr c = ctr_of(base, "lock");
  ck_cw_shape(base, &c);
  ck_assert_int_eq(c.value, 0);
  verify_ok(d);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* ------------------------------------------------------------------ */

/* CLOSED and SEALED in ctl and in the close word: a pop and a replacing
 * CAS close (both), a set does not close (doc/CONCURRENCY.md: sets and
 * dels do not close counters; the mirror holds all the same); a clean
 * close seals every counter (both); the first increment of the next
 * session unseals (both). */
START_TEST(close_seal_mirror) {
  const char *base = tc_path("mirror");
  fsc_dict *d = dopen(base, FSC_TYPE_ANY, FSC_CREATE, false);
  /* Written sealed. */
  ck_assert_int_eq(dincr(d, "p", 5), 5);
  ctr c = ctr_of(base, "p");
  ck_cw_shape(base, &c);
  ck_assert_uint_eq(c.ctl & CTR_SEALED, CTR_SEALED);
  ck_assert_uint_eq(c.cwv, CTR_SEALED);
  ck_assert_int_eq(dincr(d, "p", 5), 10);
  c = ctr_of(base, "p");
  ck_assert_uint_eq(c.ctl & (CTR_SEALED | CTR_CLOSED), 0);
  ck_assert_uint_eq(c.cwv, 0);
  /* A pop closes. */
  fsc_value v;
  ck_ok(fsc_dict_pop(d, "p", 1, NULL, &v));
  ck_assert_int_eq(v.u.i64, 10);
  ctr old = ctr_at(base, c.off);
  ck_cw_shape(base, &old);
  ck_assert_uint_eq(old.ctl & CTR_CLOSED, CTR_CLOSED);
  ck_assert_uint_eq(old.cwv & CTR_CLOSED, CTR_CLOSED);
  /* A CAS that replaces the counter by a string closes it first. */
  dincr(d, "q", 1);
  dincr(d, "q", 1);
  c = ctr_of(base, "q");
  fsc_value e = fsc_i64(2), s = fsc_str("text");
  ck_assert_int_eq(fsc_dict_cas(d, "q", 1, &e, &s, NULL), 1);
  old = ctr_at(base, c.off);
  ck_cw_shape(base, &old);
  ck_assert_uint_eq(old.ctl & CTR_CLOSED, CTR_CLOSED);
  ck_assert_uint_eq(old.cwv & CTR_CLOSED, CTR_CLOSED);
  /* A set replaces the record without closing it (doc/CONCURRENCY.md,
   * "Sets and dels do not close counters"): neither word has CLOSED. */
  dincr(d, "r", 1);
  dincr(d, "r", 1);
  c = ctr_of(base, "r");
  ck_ok(fsc_dict_set_i64(d, "r", 100));
  old = ctr_at(base, c.off);
  ck_cw_shape(base, &old);
  ck_assert_uint_eq(old.ctl & CTR_CLOSED, 0);
  ck_assert_uint_eq(old.cwv, 0);
  ck_assert_int_eq(old.value, 2);
  ck_assert_int_eq(dget(d, "r"), 100);
  ck_assert_int_eq(dincr(d, "r", 1), 101); /* a new counter */
  /* A clean close seals every counter, in both. */
  char k[32];
  for (size_t i = 0; i <= 12; i++)
    for (size_t j = 0; j <= i % 3; j++)
      dincr(d, key_n(k, i), 1);
  dclose(d);
  for (size_t i = 0; i <= 12; i++) {
    c = ctr_of(base, key_n(k, i));
    ck_cw_shape(base, &c);
    ck_assert_uint_eq(c.ctl & (CTR_SEALED | CTR_CLOSED), CTR_SEALED);
    ck_assert_uint_eq(c.cwv, CTR_SEALED);
  }
  c = ctr_of(base, "r");
  ck_assert_uint_eq(c.cwv, CTR_SEALED);
  /* The first increment of a new session unseals, in both. */
  d = dopen(base, FSC_TYPE_ANY, 0, false);
  for (size_t i = 0; i <= 12; i++) {
    ck_assert_int_eq(dincr(d, key_n(k, i), 1), (int64_t)(i % 3) + 2);
    c = ctr_of(base, k);
    ck_cw_shape(base, &c);
    ck_assert_uint_eq(c.ctl & (CTR_SEALED | CTR_CLOSED), 0);
    ck_assert_uint_eq(c.cwv, 0);
  }
  verify_ok(d);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* A close word with the given bits or'ed in by a process that died (or by
 * damage: `bits` 0x1): increments still count (on three atomics), the
 * value reads right, verify is healthy; a clean close seals the counter
 * consistently; a compaction writes a clean record.  _i: 0 CLOSED (a
 * closer killed between its two steps), 1 SEALED (a sealer killed), 2 an
 * unknown bit. */
START_TEST(crash_leftovers) {
  static const uint64_t bits[] = {CTR_CLOSED, CTR_SEALED, 0x1};
  const uint64_t b = bits[_i];
  const char *base = tc_path("leftover");
  fsc_dict *d = dopen(base, FSC_TYPE_INT64, FSC_CREATE, false);
  ck_assert_int_eq(dincr(d, "c", 1), 1);
  ck_assert_int_eq(dincr(d, "c", 1), 2); /* unsealed */
  ctr c = ctr_of(base, "c");
  ck_assert_uint_eq(c.cwv, 0);
  tc_poke64(tc_fpath(base, "data"), c.cw, c.cwv | b);
  for (int i = 1; i <= 5000; i++)
    ck_assert_int_eq(dincr(d, "c", 1), 2 + i);
  ck_assert_int_eq(dget(d, "c"), 5002);
  ctr e = ctr_of(base, "c");
  ck_assert_uint_eq(e.off, c.off); /* in place: ctl is not CLOSED */
  ck_assert_uint_eq(e.cwv, b);
  ck_assert_uint_eq(e.ctl & (CTR_CLOSED | CTR_SEALED | CTR_INSIDE), 0);
  verify_ok(d);
  /* A clean close reseals: SEALED in both, the checksum the sealed one
   * (verify after the reopen, and the next increment unseals it). */
  dclose(d);
  e = ctr_of(base, "c");
  ck_assert_uint_eq(e.ctl & CTR_SEALED, CTR_SEALED);
  ck_assert_uint_eq(e.cwv, b | CTR_SEALED);
  d = dopen(base, FSC_TYPE_INT64, 0, false);
  verify_ok(d);
  ck_assert_int_eq(dget(d, "c"), 5002);
  ck_assert_int_eq(dincr(d, "c", 1), 5003);
  e = ctr_of(base, "c");
  ck_assert_uint_eq(e.ctl & CTR_SEALED, 0);
  ck_assert_uint_eq(e.cwv, b & ~(uint64_t)CTR_SEALED);
  /* Compaction: a clean record (close word SEALED, as written), the
   * value kept; in place on one atomic from its second increment. */
  ck_ok(fsc_dict_compact(d));
  e = ctr_of(base, "c");
  ck_cw_shape(base, &e);
  ck_assert_uint_eq(e.cwv & ~(uint64_t)CTR_SEALED, 0);
  ck_assert_int_eq(e.value, 5003);
  ck_assert_int_eq(dincr(d, "c", 1), 5004);
  ck_assert_int_eq(dincr(d, "c", 1), 5005);
  ctr f = ctr_of(base, "c");
  ck_assert_uint_eq(f.off, e.off);
  ck_assert_uint_eq(f.cwv, 0);
  verify_ok(d);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

static void flip(const char *base, off_t where, uint8_t bit) {
  uint8_t b;
  tc_peek(tc_fpath(base, "data"), where, &b, 1);
  b ^= bit;
  tc_poke(tc_fpath(base, "data"), where, &b, 1);
}

/* Sealed counters of keys 0..7 bytes long closed cleanly; the index of
 * one with 8 bytes of padding before its close word in *pad8, one of a
 * key of at least 1 byte in *keyed. */
static void sealed_ctrs(const char *base, ctr *pad8, ctr *keyed) {
  fsc_dict *d = dopen(base, FSC_TYPE_INT64, FSC_CREATE, false);
  char k[32];
  for (size_t i = 0; i < 8; i++) {
    dincr(d, key_n(k, i), 40 + (int64_t)i);
    dincr(d, k, 1);
    if (i % 2)
      ck_ok(fsc_dict_set_i64(d, "x", (int64_t)i));
  }
  dclose(d);
  bool got = false;
  for (size_t i = 0; i < 8; i++) {
    ctr c = ctr_of(base, key_n(k, i));
    ck_assert_uint_eq(c.cwv, CTR_SEALED);
    if (c.pad == 8 && !got) {
      *pad8 = c;
      got = true;
    }
    if (i == 5)
      *keyed = c;
  }
  ck_assert_msg(got, "no counter with 8 bytes of padding");
}

static void ck_bad_checksum(const char *base) {
  fsc_dict *d = dopen(base, FSC_TYPE_INT64, 0, false);
  fsc_verify_report r;
  memset(&r, 0, sizeof r);
  r.size = sizeof r;
  ck_fsc(fsc_dict_verify(d, 0, &r), FSC_ECORRUPT);
  ck_assert(!r.healthy);
  ck_assert_uint_eq(r.records_bad_checksum, 1);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}

/* One bit of the padding before a sealed counter's close word, or of its
 * key: a bad checksum. */
START_TEST(damage_pad_and_key) {
  const char *base = tc_path("dpad");
  ctr p, q;
  sealed_ctrs(base, &p, &q);
  flip(base, (off_t)(p.off + REC_HDR + p.head + 3), 0x10);
  ck_bad_checksum(base);
  base = tc_path("dkey");
  sealed_ctrs(base, &p, &q);
  flip(base, (off_t)(q.off + REC_HDR + 4 + 2), 0x01);
  ck_bad_checksum(base);
}
END_TEST

/* A bit of a sealed counter's close word flipped in a closed file: the
 * checksum does not cover it, so the file opens, verifies and reads as
 * before.  _i: 0 an unknown bit set, 1 CLOSED set: increments count too
 * (on three atomics) and the counter stays sound; 2 SEALED cleared (ctl
 * still SEALED): reads only - an increment then takes the one 16-byte
 * CAS without unsealing, and the record fails its sealed checksum, as it
 * does when damage clears ctl's SEALED bit (neither word is checksummed;
 * verify reports it). */
START_TEST(damage_close_word) {
  static const uint64_t bits[] = {0x1, CTR_CLOSED, CTR_SEALED};
  const char *base = tc_path("dcw");
  ctr p, q;
  sealed_ctrs(base, &p, &q);
  tc_poke64(tc_fpath(base, "data"), p.cw, p.cwv ^ bits[_i]);
  fsc_dict *d = dopen(base, FSC_TYPE_INT64, 0, false);
  verify_ok(d);
  char k[32];
  for (size_t i = 0; i < 8; i++)
    ck_assert_int_eq(dget(d, key_n(k, i)), 41 + (int64_t)i);
  if (_i < 2) {
    for (size_t i = 0; i < 8; i++)
      ck_assert_int_eq(dincr(d, key_n(k, i), 1), 42 + (int64_t)i);
    verify_ok(d);
  }
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* ------------------------------------------------------------------ */

START_TEST(versions_compact) {
  const char *base = tc_path("v3");
  fsc_dict *d = dopen(base, FSC_TYPE_ANY, FSC_CREATE, true);
  ck_assert_uint_eq(data_version(base), 3);
  char k[32];
  for (size_t i = 0; i <= 10; i++)
    for (int j = 0; j < 3; j++)
      dincr(d, key_n(k, i), (int64_t)i);
  double f = 0;
  ck_ok(fsc_dict_incr_f64(d, "f", 1, 0.5, &f));
  ck_ok(fsc_dict_incr_f64(d, "f", 1, 0.25, &f));
  ck_assert(f == 0.75);
  for (size_t i = 0; i <= 10; i++) {
    ctr c = ctr_of(base, key_n(k, i));
    ck_plain_shape(&c);
    ck_assert_int_eq(c.value, 3 * (int64_t)i);
  }
  ctr f3 = ctr_of(base, "f");
  ck_plain_shape(&f3);
  /* Compacted: version 4, close words, the same values. */
  ck_ok(fsc_dict_compact(d));
  ck_assert_uint_eq(data_version(base), 4);
  for (size_t i = 0; i <= 10; i++) {
    ctr c = ctr_of(base, key_n(k, i));
    ck_cw_shape(base, &c);
    ck_assert_int_eq(c.value, 3 * (int64_t)i);
    ck_assert_int_eq(dget(d, k), 3 * (int64_t)i);
    ck_assert_int_eq(dincr(d, k, 1), 3 * (int64_t)i + 1);
  }
  ctr fc = ctr_of(base, "f");
  ck_cw_shape(base, &fc);
  /* fsc_dict_incr_f64 and fsc_dict_cas on close-word counters. */
  ck_ok(fsc_dict_incr_f64(d, "f", 1, 0.125, &f));
  ck_assert(f == 0.875);
  ck_ok(fsc_dict_incr_f64(d, "f", 1, 0.125, &f));
  ck_assert(f == 1.0);
  ck_assert_uint_eq(ctr_of(base, "f").off, fc.off); /* in place */
  char kb[16];
  const char *k10 = key_n(kb, 10);
  fsc_value e = fsc_i64(31), n = fsc_i64(1000), cur;
  ck_assert_int_eq(fsc_dict_cas(d, k10, 10, &e, &n, &cur), 1);
  ck_assert_int_eq(fsc_dict_cas(d, k10, 10, &e, &n, &cur), 0);
  ck_assert_int_eq(cur.u.i64, 1000);
  ck_assert_int_eq(dincr(d, k10, 1), 1001);
  fsc_value fe = fsc_f64(1.0), fn = fsc_f64(-2.5);
  ck_assert_int_eq(fsc_dict_cas(d, "f", 1, &fe, &fn, NULL), 1);
  ctr c = ctr_of(base, k10);
  ck_cw_shape(base, &c);
  ck_assert_int_eq(c.value, 1001);
  verify_ok(d);
  /* Compacted with the hook set: version 3 again, plain counters. */
  ck_assert_int_eq(setenv("FSC_TEST_DATA_VERSION", "3", 1), 0);
  int rc = fsc_dict_compact(d);
  ck_assert_int_eq(unsetenv("FSC_TEST_DATA_VERSION"), 0);
  ck_ok(rc);
  ck_assert_uint_eq(data_version(base), 3);
  for (size_t i = 0; i <= 10; i++) {
    c = ctr_of(base, key_n(k, i));
    ck_plain_shape(&c);
    int64_t want = i == 10 ? 1001 : 3 * (int64_t)i + 1;
    ck_assert_int_eq(c.value, want);
    ck_assert_int_eq(dget(d, k), want);
  }
  fsc_value fv;
  ck_ok(fsc_dict_get(d, "f", 1, &fv));
  ck_assert(fv.type == FSC_TYPE_FLOAT && fv.u.f == -2.5);
  f3 = ctr_of(base, "f");
  ck_plain_shape(&f3);
  verify_ok(d);
  dclose(d);
  /* And reopened: the values. */
  d = dopen(base, FSC_TYPE_ANY, 0, false);
  ck_assert_int_eq(dget(d, k10), 1001);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("closeword");
  TCase *tc = tcase_create("closeword");
  tcase_set_timeout(tc, 300);
  tcase_add_test(tc, shape_keys_0_to_20);
  tcase_add_loop_test(tc, one_atomic_never_inside, 0, 2);
  tcase_add_test(tc, races_compact_setdel);
  tcase_add_test(tc, races_no_dead_bytes);
  tcase_add_test(tc, cas_lock);
  tcase_add_test(tc, close_seal_mirror);
  tcase_add_loop_test(tc, crash_leftovers, 0, 3);
  tcase_add_test(tc, damage_pad_and_key);
  tcase_add_loop_test(tc, damage_close_word, 0, 3);
  tcase_add_test(tc, versions_compact);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tc_run(suite()); }
