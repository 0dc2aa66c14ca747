/*
 * test_queue_lockfree.c - the pop at the head of a list takes no lock
 * (src/struct/list_pop.c, doc/CONCURRENCY.md "Pops at the head"):
 *  - pop(0) and pop_wait(0) succeed, and appends go on, while another
 *    process holds the structure lock (a structural change times out,
 *    and so do pop(-1), del(-1) and pop_wait(-1), popping nothing);
 *  - a popper that died between claiming slot HEAD and passing HEAD: the
 *    claimed element is element 0 until someone passes HEAD, then gone;
 *    the next pop, a reopen's recovery and verify finish it; a clean close
 *    leaves HEAD 0;
 *  - a file without a head word (written before heads: 0) opens and pops;
 *  - a model of random append / pop(0) / pop(-1) / insert / set / del /
 *    get / len against an array, verify after each step;
 *  - 4 producers and 4 consumers (pop_wait at 0 and at -1): every item
 *    exactly once, each producer's items in order at the head; and with
 *    consumers SIGKILLed mid-run: nothing twice, at most one item lost per
 *    killed consumer (the one it had claimed), nothing else missing.
 */
#include "check_common.h"
#include "check_procs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "check_list.h"
#include "file/format.h"


static int64_t lget(fsc_list *l, int64_t i) {
  int64_t x = -1;
  ck_ok(fsc_list_get_i64(l, i, &x));
  return x;
}

static int lset(fsc_list *l, int64_t i, int64_t x) {
  return fsc_list_set(l, i, &(fsc_value){.type = FSC_TYPE_INT64, .u.i64 = x});
}

static int64_t lpop(fsc_list *l, int64_t i) {
  fsc_value v;
  ck_ok(fsc_list_pop(l, i, &v));
  ck_assert_int_eq(v.type, FSC_TYPE_INT64);
  return v.u.i64;
}

static void healthy(fsc_list *l) {
  fsc_verify_report r = {.size = sizeof r};
  int rc = fsc_list_verify(l, 0, &r);
  ck_assert_msg(rc == 0 && r.healthy, "verify: %d %s", rc, fsc_errmsg());
}

/* A claim whose popper died leaves its record counted live (as a pop
 * killed before it retires its record always has): verify reports the
 * byte counters, its repair corrects them, and the list is healthy. */
static void repaired(fsc_list *l) {
  fsc_verify_report r = {.size = sizeof r};
  int rc = fsc_list_verify(l, FSC_VERIFY_REPAIR, &r);
  ck_assert_msg(rc == 0 && r.healthy, "verify: %d %s", rc, fsc_errmsg());
  healthy(l);
}

static const char *ipath(const char *base) {
  static char p[700];
  snprintf(p, sizeof p, "%s.index.fscollection", base);
  return p;
}

static uint64_t peek64(const char *p, off_t off) {
  uint64_t v = 0;
  int fd = open(p, O_RDONLY);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(pread(fd, &v, 8, off), 8);
  close(fd);
  return v;
}

static void poke64(const char *p, off_t off, uint64_t v) {
  int fd = open(p, O_RDWR);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(pwrite(fd, &v, 8, off), 8);
  close(fd);
}

#define I_LENWORD offsetof(struct fsc__index_hdr, lenword)
#define I_LHEAD offsetof(struct fsc__index_hdr, lhead)
#define I_DESC(b) (offsetof(struct fsc__index_hdr, desc) + 24 * (b))

/* The file offset of slot HEAD (the list's, as the files say now). */
static off_t head_slot(const char *base, uint64_t *head) {
  const char *ip = ipath(base);
  uint64_t w = peek64(ip, I_LENWORD), lh = peek64(ip, I_LHEAD);
  bool ok;
  *head = fsc__lh_resolve(lh, w, &ok);
  ck_assert(ok);
  uint64_t arr = peek64(ip, I_DESC(FSC__LW_BUFIDX(w)));
  return (off_t)(arr + 8 * *head);
}

/* ------------------------------------------------------------------ */

START_TEST(pop_head_takes_no_lock) {
  const char *p = tc_path("nolock");
  char base[600];
  snprintf(base, sizeof base, "%s", p);
  fsc_list *l = tc_lopen(base, 300);
  for (int64_t i = 0; i < 10; i++)
    ck_ok(fsc_list_append_i64(l, i));
  pid_t h = tc_hold_lock(ipath(base));
  /* The lock is held: a structural change times out... */
  ck_fsc(fsc_list_insert(l, 3, &(fsc_value){.type = FSC_TYPE_INT64}),
         FSC_ETIMEDOUT);
  /* ...so does a pop at the tail (it takes the lock: doc/CONCURRENCY.md,
   * "Why pop(-1) takes the lock"), and it pops nothing... */
  fsc_value t = {0};
  ck_fsc(fsc_list_pop(l, -1, &t), FSC_ETIMEDOUT);
  ck_fsc(fsc_list_del(l, -1), FSC_ETIMEDOUT);
  ck_fsc(fsc_list_pop_wait(l, -1, 0, &t), FSC_ETIMEDOUT);
  ck_assert_uint_eq(tc_llen(l), 10);
  ck_assert_int_eq(lget(l, -1), 9);
  /* ...pops at the head and appends do not wait for it. */
  for (int64_t i = 0; i < 4; i++)
    ck_assert_int_eq(lpop(l, 0), i);
  ck_ok(fsc_list_append_i64(l, 10));
  fsc_value v;
  ck_ok(fsc_list_pop_wait(l, 0, 1000, &v));
  ck_assert_int_eq(v.u.i64, 4);
  ck_ok(fsc_list_del(l, 0)); /* 5 */
  ck_assert_uint_eq(tc_llen(l), 5);
  ck_assert_int_eq(lget(l, 0), 6);
  ck_assert_int_eq(lget(l, -1), 10);
  int64_t x;
  ck_ok(lset(l, 0, 60));
  ck_ok(fsc_list_get_i64(l, 0, &x));
  ck_assert_int_eq(x, 60);
  kill(h, SIGKILL);
  waitpid(h, NULL, 0);
  healthy(l);
  ck_assert_int_eq(lpop(l, -1), 10); /* (the locked end) */
  ck_assert_int_eq(lpop(l, 0), 60);
  ck_assert_uint_eq(tc_llen(l), 3);
  tc_lclose(l);
}
END_TEST

/* The state a popper killed between its claim and passing HEAD leaves:
 * slot HEAD TAKEN, HEAD not moved.  Made here by writing the TAKEN tag
 * into the slot, as that popper's CAS did. */
static void claim_head(const char *base) {
  uint64_t h;
  off_t at = head_slot(base, &h);
  uint64_t s = peek64(ipath(base), at);
  ck_assert(FSC__SLOT_IS_VALUE(s));
  poke64(ipath(base), at, FSC__SLOT_TAKEN(s));
}

START_TEST(dead_claim_finished_by_next_pop) {
  const char *base = tc_path("claim");
  fsc_list *l = tc_lopen(base, 0);
  for (int64_t i = 0; i < 10; i++)
    ck_ok(fsc_list_append_i64(l, i));
  ck_assert_int_eq(lpop(l, 0), 0);
  claim_head(base); /* element 1, claimed by a popper that died */
  /* Until HEAD passes it, the claimed element is element 0. */
  ck_assert_uint_eq(tc_llen(l), 9);
  ck_assert_int_eq(lget(l, 0), 1);
  ck_assert_int_eq(lget(l, -9), 1);
  /* The next pop passes HEAD (1 is gone: its popper had it) and pops 2. */
  ck_assert_int_eq(lpop(l, 0), 2);
  ck_assert_uint_eq(tc_llen(l), 7);
  ck_assert_int_eq(lget(l, 0), 3);
  repaired(l);
  /* A setter meeting a claim passes HEAD too, then sets element 0. */
  claim_head(base); /* 3 */
  ck_ok(lset(l, 0, 40));
  ck_assert_uint_eq(tc_llen(l), 6);
  ck_assert_int_eq(lget(l, 0), 40);
  /* And a structural change (insert) settles HEAD before it copies. */
  claim_head(base); /* 40 */
  ck_ok(fsc_list_insert(l, 1, &(fsc_value){.type = FSC_TYPE_INT64,
                                           .u.i64 = 99}));
  ck_assert_uint_eq(tc_llen(l), 6);
  int64_t want[] = {5, 99, 6, 7, 8, 9};
  for (int i = 0; i < 6; i++)
    ck_assert_int_eq(lget(l, i), want[i]);
  repaired(l);
  tc_lclose(l);
}
END_TEST

START_TEST(crash_mid_pop_recovers) {
  const char *base = tc_path("crash");
  pid_t c = fork();
  ck_assert_int_ge(c, 0);
  if (c == 0) {
    fsc_list *l = tc_lopen(base, 0);
    for (int64_t i = 0; i < 100; i++)
      if (fsc_list_append_i64(l, i))
        _exit(1);
    fsc_value v;
    for (int i = 0; i < 3; i++)
      if (fsc_list_pop(l, 0, &v) || v.u.i64 != i)
        _exit(2);
    claim_head(base); /* 3: claimed, then the process dies */
    _exit(0);         /* no close: the next opener recovers */
  }
  tc_reap(&c, 1, 60);
  uint64_t h;
  head_slot(base, &h);
  ck_assert_uint_eq(h, 3);
  fsc_list *l = tc_lopen(base, 0);
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_list_metrics(l, &m));
  ck_assert(!m.last_close_clean);
  ck_assert_uint_eq(tc_llen(l), 96);
  ck_assert_int_eq(lget(l, 0), 4);
  ck_assert_int_eq(lget(l, -1), 99);
  healthy(l);
  ck_assert_int_eq(lpop(l, 0), 4);
  tc_lclose(l);
  /* The last clean close rebased the list: HEAD 0, no TAKEN slot left
   * (what a library without heads reads right). */
  off_t at = head_slot(base, &h);
  ck_assert_uint_eq(h, 0);
  ck_assert(FSC__SLOT_IS_VALUE(peek64(ipath(base), at)));
  l = tc_lopen(base, 0);
  ck_assert_uint_eq(tc_llen(l), 95);
  ck_assert_int_eq(lget(l, 0), 5);
  healthy(l);
  tc_lclose(l);
}
END_TEST

/* A file written before heads: the head word is 0 (HEAD 0), whatever the
 * length word's epoch. */
START_TEST(file_without_head_word) {
  const char *base = tc_path("old");
  fsc_list *l = tc_lopen(base, 0);
  for (int64_t i = 0; i < 10; i++)
    ck_ok(fsc_list_append_i64(l, i));
  ck_ok(fsc_list_insert(l, 0, &(fsc_value){.type = FSC_TYPE_INT64,
                                           .u.i64 = -1})); /* epoch 1 */
  tc_lclose(l);
  poke64(ipath(base), I_LHEAD, 0);
  ck_assert_uint_ne(FSC__LW_EPOCH(peek64(ipath(base), I_LENWORD)), 0);
  l = tc_lopen(base, 0);
  ck_assert_uint_eq(tc_llen(l), 11);
  ck_assert_int_eq(lget(l, 0), -1);
  ck_assert_int_eq(lpop(l, 0), -1);
  ck_assert_int_eq(lpop(l, 0), 0);
  ck_assert_int_eq(lget(l, 0), 1);
  ck_assert_uint_eq(tc_llen(l), 9);
  healthy(l);
  tc_lclose(l);
}
END_TEST

/* A head word that does not go with its length word (damage): reported,
 * and verify's repair finds HEAD where the TAKEN slots end. */
START_TEST(damaged_head_word) {
  const char *base = tc_path("dmg");
  fsc_list *l = tc_lopen(base, 0);
  for (int64_t i = 0; i < 10; i++)
    ck_ok(fsc_list_append_i64(l, i));
  ck_assert_int_eq(lpop(l, 0), 0);
  ck_assert_int_eq(lpop(l, 0), 1);
  uint64_t lh = peek64(ipath(base), I_LHEAD);
  poke64(ipath(base), I_LHEAD, lh ^ (UINT64_C(1) << 45)); /* its epoch */
  int64_t x;
  ck_fsc(fsc_list_get_i64(l, 0, &x), FSC_ECORRUPT);
  fsc_verify_report r = {.size = sizeof r};
  ck_ok(fsc_list_verify(l, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.repaired);
  ck_assert_uint_eq(tc_llen(l), 8);
  ck_assert_int_eq(lget(l, 0), 2);
  healthy(l);
  /* A HEAD moved forward over elements (2 and 3 hidden), and one moved
   * back over popped slots: verify finds both, the repair takes HEAD from
   * the slots. */
  ck_assert_int_eq(lpop(l, 0), 2);
  for (int k = 0; k < 2; k++) {
    lh = peek64(ipath(base), I_LHEAD);
    uint64_t moved = k == 0 ? lh + 2 : lh - 2;
    poke64(ipath(base), I_LHEAD, moved);
    fsc_verify_report r2 = {.size = sizeof r2};
    ck_fsc(fsc_list_verify(l, 0, &r2), FSC_ECORRUPT);
    ck_assert(!r2.healthy);
    r2 = (fsc_verify_report){.size = sizeof r2};
    ck_ok(fsc_list_verify(l, FSC_VERIFY_REPAIR, &r2));
    ck_assert(r2.repaired);
    ck_assert_uint_eq(tc_llen(l), 7);
    ck_assert_int_eq(lget(l, 0), 3);
    healthy(l);
  }
  tc_lclose(l);
}
END_TEST

static uint64_t xs(uint64_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

START_TEST(model_ends) {
  fsc_list *l = tc_lopen(tc_path("model"), 0);
  enum { CAP = 1024, STEPS = 3000 };
  int64_t *m = malloc(CAP * sizeof *m), next = 0;
  ck_assert_ptr_nonnull(m);
  size_t n = 0;
  uint64_t x = 0x9E3779B97F4A7C15u;
  for (int step = 0; step < STEPS; step++) {
    unsigned op = (unsigned)(xs(&x) % 100);
    int64_t v;
    if (op < 35 && n < CAP) { /* append */
      ck_ok(fsc_list_append_i64(l, next));
      m[n++] = next++;
    } else if (op < 60) { /* pop(0) */
      fsc_value o;
      if (n == 0) {
        ck_fsc(fsc_list_pop(l, 0, &o), FSC_EINDEX);
        continue;
      }
      ck_assert_int_eq(lpop(l, 0), m[0]);
      memmove(m, m + 1, --n * sizeof *m);
    } else if (op < 72) { /* pop(-1) */
      if (n == 0)
        continue;
      ck_assert_int_eq(lpop(l, -1), m[--n]);
    } else if (op < 78 && n < CAP) { /* insert */
      size_t at = n ? (size_t)(xs(&x) % (n + 1)) : 0;
      ck_ok(fsc_list_insert(l, (int64_t)at, &(fsc_value){
                                               .type = FSC_TYPE_INT64,
                                               .u.i64 = next}));
      memmove(m + at + 1, m + at, (n - at) * sizeof *m);
      m[at] = next++;
      n++;
    } else if (op < 83 && n) { /* set */
      size_t at = (size_t)(xs(&x) % n);
      ck_ok(lset(l, (int64_t)at, next));
      m[at] = next++;
    } else if (op < 86 && n) { /* del from the middle */
      size_t at = (size_t)(xs(&x) % n);
      ck_ok(fsc_list_del(l, (int64_t)at));
      memmove(m + at, m + at + 1, (n - at - 1) * sizeof *m);
      n--;
    } else if (n) { /* get, from either end */
      size_t at = (size_t)(xs(&x) % n);
      ck_ok(fsc_list_get_i64(l, (int64_t)at, &v));
      ck_assert_int_eq(v, m[at]);
      ck_ok(fsc_list_get_i64(l, (int64_t)at - (int64_t)n, &v));
      ck_assert_int_eq(v, m[at]);
    }
    ck_assert_uint_eq(tc_llen(l), n);
    if (step % 10 == 0)
      healthy(l);
  }
  healthy(l);
  free(m);
  tc_lclose(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Producers and consumers                                             */
/* ------------------------------------------------------------------ */

enum { NP = 4, NC = 4, NI = 25000, KILLS = 8 };

struct qs {
  uint32_t seen[NP][NI];
  int64_t delivered, producers_done, bad;
};

static void producer(const char *p, struct qs *q, int id) {
  fsc_list *l = tc_lopen(p, 0);
  for (int64_t j = 0; j < NI; j++)
    if (fsc_list_append_i64(l, id * 1000000 + j) != 0)
      _exit(91);
  __atomic_add_fetch(&q->producers_done, 1, __ATOMIC_SEQ_CST);
  fsc_list_close(l);
  fsc_list_free(l);
  _exit(0);
}

/* Pop with pop_wait at `end` until the producers are done and the list
 * stays empty; at the head, each producer's items must come in order. */
static void consumer(const char *p, struct qs *q, int64_t end) {
  fsc_list *l = tc_lopen(p, 0);
  int64_t last[NP];
  for (int i = 0; i < NP; i++)
    last[i] = -1;
  for (;;) {
    fsc_value v;
    int rc = fsc_list_pop_wait(l, end, 50, &v);
    if (rc == FSC_ETIMEDOUT) {
      uint64_t n = 1;
      if (__atomic_load_n(&q->producers_done, __ATOMIC_SEQ_CST) == NP &&
          fsc_list_len(l, &n) == 0 && n == 0)
        break;
      continue;
    }
    if (rc != 0)
      _exit(92);
    int64_t pid = v.u.i64 / 1000000, seq = v.u.i64 % 1000000;
    if (pid < 0 || pid >= NP || seq < 0 || seq >= NI)
      _exit(93);
    __atomic_add_fetch(&q->seen[pid][seq], 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&q->delivered, 1, __ATOMIC_SEQ_CST);
    if (end == 0) {
      if (seq <= last[pid])
        __atomic_store_n(&q->bad, v.u.i64 + 1, __ATOMIC_SEQ_CST);
      last[pid] = seq;
    }
  }
  fsc_list_close(l);
  fsc_list_free(l);
  _exit(0);
}

static void run_queue(int kills) {
  const char *p = tc_path("q");
  char base[600];
  snprintf(base, sizeof base, "%s", p);
  fsc_list *l = tc_lopen(base, 0);
  struct qs *q = tc_shm(sizeof *q);
  pid_t cons[NC + KILLS], prod[NP];
  int nc = 0;
  for (int i = 0; i < NC; i++)
    if ((cons[nc++] = fork()) == 0)
      consumer(base, q, i & 1 ? -1 : 0);
  for (int i = 0; i < NP; i++)
    if ((prod[i] = fork()) == 0)
      producer(base, q, i);
  uint64_t x = 12345;
  for (int k = 0; k < kills; k++) {
    usleep((useconds_t)(5000 + xs(&x) % 40000));
    int victim = k % NC;
    kill(cons[victim], SIGKILL);
    waitpid(cons[victim], NULL, 0);
    if ((cons[victim] = fork()) == 0)
      consumer(base, q, victim & 1 ? -1 : 0);
  }
  tc_reap(prod, NP, 300);
  tc_reap(cons, NC, 300);
  (void)nc;
  int64_t dup = 0, missing = 0;
  for (int i = 0; i < NP; i++)
    for (int j = 0; j < NI; j++) {
      dup += q->seen[i][j] > 1;
      missing += q->seen[i][j] == 0;
    }
  ck_assert_msg(q->bad == 0, "a head consumer got %lld out of order",
                (long long)q->bad - 1);
  ck_assert_int_eq(dup, 0);
  /* Each killed consumer may take the one item it had claimed (or
   * popped and not yet counted) with it; nothing else is lost. */
  ck_assert_int_le(missing, kills);
  /* (delivered lags seen by one for a consumer killed between them) */
  ck_assert_int_le(q->delivered + missing, NP * NI);
  ck_assert_int_ge(q->delivered + missing + kills, NP * NI);
  ck_assert_uint_eq(tc_llen(l), 0);
  if (kills)
    repaired(l); /* a killed popper's record may still count as live */
  else
    healthy(l);
  tc_lclose(l);
}

START_TEST(producers_consumers_both_ends) { run_queue(0); }
END_TEST

START_TEST(consumers_killed) { run_queue(KILLS); }
END_TEST

/* Threads of one process sharing one handle (for ThreadSanitizer:
 * tools/tsan.sh test_queue_lockfree:threads): 2 appenders, 2 poppers at
 * the head, 1 popper at the tail, 1 reader of element 0 and the length. */
enum { TA = 2, TN = 20000 };
struct tq {
  fsc_list *l;
  int id;
  uint32_t *seen;     /* [TA * TN] */
  int64_t *appended;  /* appenders done */
  int64_t *delivered;
  int64_t *bad;
};

static void *t_append(void *a) {
  struct tq *t = a;
  for (int64_t j = 0; j < TN; j++)
    if (fsc_list_append_i64(t->l, t->id * 1000000 + j) != 0)
      __atomic_store_n(t->bad, 1, __ATOMIC_SEQ_CST);
  __atomic_add_fetch(t->appended, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static void *t_pop(void *a) {
  struct tq *t = a;
  int64_t last[TA] = {-1, -1}, end = t->id < 2 ? 0 : -1;
  for (;;) {
    fsc_value v;
    int rc = fsc_list_pop(t->l, end, &v);
    if (rc == FSC_EINDEX) {
      if (__atomic_load_n(t->appended, __ATOMIC_SEQ_CST) == TA &&
          __atomic_load_n(t->delivered, __ATOMIC_SEQ_CST) == TA * TN)
        return NULL;
      continue;
    }
    if (rc != 0) {
      __atomic_store_n(t->bad, 2, __ATOMIC_SEQ_CST);
      return NULL;
    }
    int64_t p = v.u.i64 / 1000000, q = v.u.i64 % 1000000;
    if (p < 0 || p >= TA || q < 0 || q >= TN) {
      __atomic_store_n(t->bad, 3, __ATOMIC_SEQ_CST);
      return NULL;
    }
    __atomic_add_fetch(&t->seen[p * TN + q], 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(t->delivered, 1, __ATOMIC_SEQ_CST);
    if (end == 0) {
      if (q <= last[p])
        __atomic_store_n(t->bad, 4, __ATOMIC_SEQ_CST);
      last[p] = q;
    }
  }
}

static void *t_read(void *a) {
  struct tq *t = a;
  while (__atomic_load_n(t->delivered, __ATOMIC_SEQ_CST) < TA * TN) {
    int64_t x;
    uint64_t n;
    int rc = fsc_list_get_i64(t->l, 0, &x);
    if ((rc != 0 && rc != FSC_EINDEX) || fsc_list_len(t->l, &n) != 0 ||
        n > TA * TN)
      __atomic_store_n(t->bad, 5, __ATOMIC_SEQ_CST);
  }
  return NULL;
}

START_TEST(threads_share_a_handle) {
  fsc_list *l = tc_lopen(tc_path("thr"), 0);
  uint32_t *seen = calloc(TA * TN, sizeof *seen);
  ck_assert_ptr_nonnull(seen);
  int64_t appended = 0, delivered = 0, bad = 0;
  struct tq t[TA + 4];
  pthread_t th[TA + 4];
  for (int i = 0; i < TA + 4; i++)
    t[i] = (struct tq){l, i, seen, &appended, &delivered, &bad};
  for (int i = 0; i < TA; i++)
    ck_assert_int_eq(pthread_create(&th[i], NULL, t_append, &t[i]), 0);
  for (int i = 0; i < 3; i++) {
    t[TA + i].id = i; /* 0, 1: the head; 2: the tail */
    ck_assert_int_eq(pthread_create(&th[TA + i], NULL, t_pop, &t[TA + i]), 0);
  }
  ck_assert_int_eq(pthread_create(&th[TA + 3], NULL, t_read, &t[TA + 3]), 0);
  for (int i = 0; i < TA + 4; i++)
    pthread_join(th[i], NULL);
  ck_assert_int_eq(bad, 0);
  for (int i = 0; i < TA * TN; i++)
    ck_assert_msg(seen[i] == 1, "item %d delivered %u times", i, seen[i]);
  ck_assert_uint_eq(tc_llen(l), 0);
  healthy(l);
  free(seen);
  tc_lclose(l);
}
END_TEST

int main(void) {
  Suite *s = suite_create("queue_lockfree");
  TCase *t = tcase_create("head");
  tcase_set_timeout(t, 120);
  tcase_add_test(t, pop_head_takes_no_lock);
  tcase_add_test(t, dead_claim_finished_by_next_pop);
  tcase_add_test(t, crash_mid_pop_recovers);
  tcase_add_test(t, file_without_head_word);
  tcase_add_test(t, damaged_head_word);
  tcase_add_test(t, model_ends);
  suite_add_tcase(s, t);
  t = tcase_create("threads");
  tcase_set_timeout(t, 600);
  tcase_add_test(t, threads_share_a_handle);
  suite_add_tcase(s, t);
  t = tcase_create("mp");
  tcase_set_timeout(t, 600);
  tcase_add_test(t, producers_consumers_both_ends);
  tcase_add_test(t, consumers_killed);
  suite_add_tcase(s, t);
  return tc_run(s);
}
