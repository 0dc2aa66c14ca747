/*
 * list_bench.c - how fast fsc_list is, and how far from the floor.
 *
 * Every number is ns per operation (median of -r repetitions), measured with
 * clock_gettime(CLOCK_MONOTONIC) around a loop of N operations.  In the same
 * run the benchmark measures a "floor": the same two-level layout as the
 * library (an array of uint64 record offsets into an arena of records, each
 * a 16-byte header + payload padded to 8 bytes), but in private heap memory
 * with no validation, checksums, atomics or sharing.  fsc/floor says what
 * the library's guarantees cost.  bench/README.md tells how to read it.
 *
 *   (a) one process:  append, random get (and, for information, a random
 *       get whose index depends on the value read before), random item
 *       assignment, len;
 *   (b) two processes on one base path: a reader (random get) alone, then
 *       with a writer appending, then with a writer assigning;
 *   (c) memory and open: heap per open handle (mallinfo2 around
 *       fsc_list_open), the time to open a cleanly closed list, and (for
 *       information) the time to open after a crash (verifies every record).
 *
 * Usage: list_bench [-n N] [-q] [-r REPS] [-d DIR] [-t FILE.tsv]
 *
 * Speed is checked here, never by timed assertions in the tests: the
 * targets are printed as PASS/MISS and never change the exit status.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fscollections.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

/* ------------------------------------------------------------------ */
/* Configuration and small helpers                                      */
/* ------------------------------------------------------------------ */

#define DEFAULT_N 1000000u
#define QUICK_N 100000u
#define DEFAULT_REPS 3u
#define OPEN_REPS 11u   /* opens are cheap: more samples for the median */
#define STR_LEN 100u    /* bytes of each string value */
#define SEED_GET UINT64_C(0x9E3779B97F4A7C15)
#define SEED_SET UINT64_C(0xD1B54A32D192ED03)
#define SEED_MPW UINT64_C(0xA0761D6478BD642F)
#define MP_LIMIT_NS (UINT64_C(60) * 1000000000u) /* writer safety stop */

/* Targets (printed, never asserted). */
#define TARGET_GET_X 3.0
#define TARGET_APPEND_X 5.0
#define TARGET_MP_READER_X 2.0
#define TARGET_HEAP_BYTES (64u * 1024u)

enum kind { K_I64 = 0, K_STR = 1, K_COUNT = 2 };
static const char *const kind_name[K_COUNT] = {"int64", "str100"};
static const fsc_type kind_type[K_COUNT] = {FSC_TYPE_INT64, FSC_TYPE_STRING};

static struct {
  uint64_t n;
  unsigned reps;
  char dir[PATH_MAX];
  const char *tsv;
  bool made_dir;
} cfg;

/* Files to remove at exit (and on SIGINT/SIGTERM: unlink is
 * async-signal-safe, so the full paths are built in advance). */
#define MAX_BASES 8
static char g_files[MAX_BASES * 2][PATH_MAX];
static volatile sig_atomic_t g_nfiles;

static uint64_t g_sink; /* every value read is folded in here and printed */

static void cleanup_files(void) {
  for (int i = 0; i < g_nfiles; i++)
    unlink(g_files[i]);
  if (cfg.made_dir)
    rmdir(cfg.dir);
}

static void on_signal(int sig) {
  cleanup_files();
  signal(sig, SIG_DFL);
  raise(sig);
}

static void die(const char *what, int rc) {
  fprintf(stderr, "list_bench: %s: %s (%s)\n", what,
          rc < 0 ? fsc_strerror(rc) : strerror(rc), rc < 0 ? fsc_errmsg() : "");
  cleanup_files();
  exit(1);
}

/* Register base path dir/name and return it (static storage). */
static const char *base_path(const char *name) {
  static char bases[MAX_BASES][PATH_MAX];
  static int nbases;
  for (int i = 0; i < nbases; i++) {
    const char *slash = strrchr(bases[i], '/');
    if (slash && strcmp(slash + 1, name) == 0)
      return bases[i];
  }
  if (nbases == MAX_BASES)
    die("too many base paths", EINVAL);
  char *b = bases[nbases++];
  int w = snprintf(b, PATH_MAX, "%s/%s", cfg.dir, name);
  if (w < 0 || w >= PATH_MAX - 32)
    die(name, ENAMETOOLONG);
  snprintf(g_files[g_nfiles], PATH_MAX, "%s.data.fscollection", b);
  snprintf(g_files[g_nfiles + 1], PATH_MAX, "%s.index.fscollection", b);
  g_nfiles += 2;
  return b;
}

/* CPU time of the calling process: with wall time, it tells whether the
 * process was descheduled (another program competing for the CPUs). */
static inline uint64_t cpu_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}


/* The i-th value of a workload.  Strings are STR_LEN bytes of ASCII
 * (0x40..0x7F, valid UTF-8); one 8-byte store makes each one distinct. */
static inline fsc_value make_value(enum kind k, uint64_t i, char *buf) {
  uint64_t x = (i + 1) * UINT64_C(0x9E3779B97F4A7C15);
  fsc_value v;
  if (k == K_I64) {
    v.type = FSC_TYPE_INT64;
    v.u.i64 = (int64_t)x;
    return v;
  }
  x = (x & UINT64_C(0x3F3F3F3F3F3F3F3F)) | UINT64_C(0x4040404040404040);
  memcpy(buf, &x, 8);
  v.type = FSC_TYPE_STRING;
  v.u.buf.ptr = buf;
  v.u.buf.len = STR_LEN;
  return v;
}

static void init_strbuf(char *buf) {
  for (unsigned i = 0; i < STR_LEN; i++)
    buf[i] = (char)('a' + i % 26);
}

/* Fold a value read into the checksum: touches the payload's first and
 * last bytes, so the read cannot be skipped. */
static inline uint64_t consume(const fsc_value *v) {
  if (v->type == FSC_TYPE_INT64)
    return (uint64_t)v->u.i64;
  const unsigned char *p = v->u.buf.ptr;
  size_t n = v->u.buf.len;
  return n ? n + p[0] + ((uint64_t)p[n - 1] << 8) : 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(const double *xs, unsigned n) {
  double tmp[64];
  if (n > 64)
    n = 64;
  memcpy(tmp, xs, n * sizeof *xs);
  qsort(tmp, n, sizeof *tmp, cmp_double);
  return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

/* Bytes of heap in use (sbrk arenas + mmapped chunks), or -1. */
static long long heap_used(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
  struct mallinfo2 mi = mallinfo2();
  return (long long)(mi.uordblks + mi.hblkhd);
#else
  return -1;
#endif
}

static fsc_options list_options(enum kind k, unsigned flags) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = kind_type[k];
  o.flags = flags;
  /* Durability only decides whether close/sync run msync+fsync; nothing
   * measured here syncs, and NONE keeps hundreds of MB of writeback out of
   * the run.  The clean-close marker is written all the same. */
  o.durability = FSC_DURABLE_NONE;
  return o;
}

static fsc_list *open_list(const char *base, enum kind k, unsigned flags) {
  fsc_options o = list_options(k, flags);
  fsc_list *l = NULL;
  int rc = fsc_list_open(base, &o, &l);
  if (rc)
    die(base, rc);
  return l;
}

/* ------------------------------------------------------------------ */
/* Results: collected for the TSV and the summary                      */
/* ------------------------------------------------------------------ */

struct row {
  char workload[64];
  const char *engine;
  double value; /* ns per op (bytes for *_bytes workloads) */
  double ratio; /* NAN: none */
};
static struct row g_rows[128];
static unsigned g_nrows;

static void add_row(enum kind k, const char *workload, const char *engine,
                    double value, double ratio) {
  if (g_nrows == sizeof g_rows / sizeof g_rows[0])
    return;
  struct row *r = &g_rows[g_nrows++];
  int w = snprintf(r->workload, sizeof r->workload, "%s/%s", kind_name[k],
                   workload);
  if (w < 0 || (size_t)w >= sizeof r->workload)
    die("workload name too long", EINVAL);
  r->engine = engine;
  r->value = value;
  r->ratio = ratio;
}

struct target {
  char what[80];
  double got, limit;
  const char *unit;
  bool pass;
};
static struct target g_targets[16];
static unsigned g_ntargets;

static void add_target(const char *what, double got, double limit,
                       const char *unit) {
  if (g_ntargets == sizeof g_targets / sizeof g_targets[0])
    return;
  struct target *t = &g_targets[g_ntargets++];
  snprintf(t->what, sizeof t->what, "%s", what);
  t->got = got;
  t->limit = limit;
  t->unit = unit;
  t->pass = got <= limit;
}

/* ------------------------------------------------------------------ */
/* The floor: the library's layout in private heap memory               */
/* ------------------------------------------------------------------ */

/* Out of line, like a library call, and opaque to interprocedural
 * analysis so that a loop of floor_len() calls is not folded away. */
#if defined(__GNUC__) && !defined(__clang__)
#define FLOOR_FN __attribute__((noinline, noipa))
#else
#define FLOOR_FN __attribute__((noinline))
#endif

struct floor_rec { /* the layout of the library's record header */
  uint8_t type;
  uint8_t flags;
  uint16_t reserved;
  uint32_t checksum;
  uint64_t size;
};
_Static_assert(sizeof(struct floor_rec) == 16, "16-byte record header");

struct floor_list {
  uint64_t *offs; /* element i's record is at arena + offs[i] */
  uint64_t len, cap;
  uint8_t *arena;
  uint64_t tail, arena_cap;
};

static void floor_init(struct floor_list *f, uint64_t arena_bytes) {
  f->cap = 1024;
  f->len = 0;
  f->offs = malloc(f->cap * sizeof *f->offs);
  /* Reserved up front; a large malloc is mmapped and faulted in lazily,
   * as the library's fallocated data file is. */
  f->arena = malloc(arena_bytes);
  f->tail = 0;
  f->arena_cap = arena_bytes;
  if (!f->offs || !f->arena)
    die("floor: malloc", ENOMEM);
}

static void floor_free(struct floor_list *f) {
  free(f->offs);
  free(f->arena);
  memset(f, 0, sizeof *f);
}

static inline uint64_t floor_write(struct floor_list *f, const fsc_value *v) {
  uint64_t n = v->type == FSC_TYPE_INT64 ? 8 : v->u.buf.len;
  uint64_t total = (sizeof(struct floor_rec) + n + 7) & ~UINT64_C(7);
  if (total > f->arena_cap - f->tail)
    return UINT64_MAX;
  uint64_t off = f->tail; /* bump */
  f->tail += total;
  uint8_t *p = f->arena + off;
  uint8_t *payload = p + sizeof(struct floor_rec);
  if (v->type == FSC_TYPE_INT64)
    memcpy(payload, &v->u.i64, 8);
  else
    memcpy(payload, v->u.buf.ptr, n);
  memset(payload + n, 0, total - sizeof(struct floor_rec) - n);
  struct floor_rec r = {.type = (uint8_t)v->type, .size = n};
  memcpy(p, &r, sizeof r);
  return off;
}

FLOOR_FN static int floor_append(struct floor_list *f, const fsc_value *v) {
  uint64_t off = floor_write(f, v);
  if (off == UINT64_MAX)
    return FSC_ENOSPC;
  if (f->len == f->cap) {
    uint64_t *p = realloc(f->offs, 2 * f->cap * sizeof *p);
    if (!p)
      return FSC_ENOMEM;
    f->offs = p;
    f->cap *= 2;
  }
  f->offs[f->len++] = off;
  return 0;
}

FLOOR_FN static int floor_get(struct floor_list *f, int64_t index,
                              fsc_value *out) {
  uint64_t n = f->len;
  int64_t i = index < 0 ? index + (int64_t)n : index;
  if (i < 0 || (uint64_t)i >= n)
    return FSC_EINDEX;
  const uint8_t *p = f->arena + f->offs[i];
  struct floor_rec r;
  memcpy(&r, p, sizeof r);
  out->type = (fsc_type)r.type;
  if (r.type == FSC_TYPE_INT64) {
    memcpy(&out->u.i64, p + sizeof r, 8);
  } else {
    out->u.buf.ptr = p + sizeof r;
    out->u.buf.len = r.size;
  }
  return 0;
}

FLOOR_FN static int floor_set(struct floor_list *f, int64_t index,
                              const fsc_value *v) {
  uint64_t n = f->len;
  int64_t i = index < 0 ? index + (int64_t)n : index;
  if (i < 0 || (uint64_t)i >= n)
    return FSC_EINDEX;
  uint64_t off = floor_write(f, v);
  if (off == UINT64_MAX)
    return FSC_ENOSPC;
  f->offs[i] = off;
  return 0;
}

FLOOR_FN static int floor_len(struct floor_list *f, uint64_t *out) {
  *out = f->len;
  return 0;
}

/* ------------------------------------------------------------------ */
/* (a) One process                                                      */
/* ------------------------------------------------------------------ */

enum { OP_APPEND, OP_GET, OP_GET_DEP, OP_SET, OP_LEN, OP_COUNT };
static const char *const op_name[OP_COUNT] = {
    "append", "get_random", "get_random_dependent", "set_random", "len"};
static const char *const op_label[OP_COUNT] = {
    "append", "get (random index)", "get (dependent, info)",
    "set (random index)", "len"};

struct single_result {
  double fsc[OP_COUNT], floor[OP_COUNT]; /* median ns/op */
};

static uint64_t record_bytes(enum kind k) {
  uint64_t n = k == K_I64 ? 8 : STR_LEN;
  return (sizeof(struct floor_rec) + n + 7) & ~UINT64_C(7);
}

static void bench_single(enum kind k, const char *base,
                         struct single_result *res) {
  const uint64_t n = cfg.n;
  const unsigned reps = cfg.reps;
  double tf[OP_COUNT][64], tl[OP_COUNT][64];
  char buf[STR_LEN];
  init_strbuf(buf);
  fsc_list *l = NULL;
  struct floor_list fl = {0};
  /* The last append repetition's lists are kept; every set repetition
   * then adds n records to the floor's arena. */
  uint64_t arena = record_bytes(k) * n * (1 + reps) + 4096;

  for (unsigned r = 0; r < reps; r++) { /* append, to fresh lists */
    if (l) {
      int rc = fsc_list_destroy(l);
      if (rc)
        die("fsc_list_destroy", rc);
      fsc_list_free(l);
    }
    l = open_list(base, k, FSC_CREATE);
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
      fsc_value v = make_value(k, i, buf);
      int rc = fsc_list_append(l, &v);
      if (rc)
        die("fsc_list_append", rc);
    }
    tf[OP_APPEND][r] = (double)(now_ns() - t0) / (double)n;

    floor_free(&fl);
    floor_init(&fl, arena);
    t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
      fsc_value v = make_value(k, i, buf);
      int rc = floor_append(&fl, &v);
      if (rc)
        die("floor_append", rc);
    }
    tl[OP_APPEND][r] = (double)(now_ns() - t0) / (double)n;
  }

  for (unsigned r = 0; r < reps; r++) { /* random get */
    uint64_t s = SEED_GET, sum_f = 0, sum_l = 0;
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
      fsc_value v;
      int rc = fsc_list_get(l, rand_index(&s, n), &v);
      if (rc)
        die("fsc_list_get", rc);
      sum_f += consume(&v);
    }
    tf[OP_GET][r] = (double)(now_ns() - t0) / (double)n;

    s = SEED_GET;
    t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
      fsc_value v;
      int rc = floor_get(&fl, rand_index(&s, n), &v);
      if (rc)
        die("floor_get", rc);
      sum_l += consume(&v);
    }
    tl[OP_GET][r] = (double)(now_ns() - t0) / (double)n;
    if (sum_f != sum_l)
      die("random get: fsc and floor read different values", EIO);
    g_sink += sum_f + sum_l;
  }

  /* Random get where each index depends on the value read before it:
   * latency-bound (no overlap of cache misses between operations).
   * Informational: it separates memory latency from per-call work. */
  for (unsigned r = 0; r < reps; r++) {
    uint64_t s = SEED_GET, sum_f = 0, sum_l = 0;
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
      fsc_value v;
      int rc = fsc_list_get(l, rand_index(&s, n), &v);
      if (rc)
        die("fsc_list_get", rc);
      uint64_t c = consume(&v);
      sum_f += c;
      s ^= c & 1; /* a data dependency on the value read */
      s += !s;
    }
    tf[OP_GET_DEP][r] = (double)(now_ns() - t0) / (double)n;

    s = SEED_GET;
    t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
      fsc_value v;
      int rc = floor_get(&fl, rand_index(&s, n), &v);
      if (rc)
        die("floor_get", rc);
      uint64_t c = consume(&v);
      sum_l += c;
      s ^= c & 1;
      s += !s;
    }
    tl[OP_GET_DEP][r] = (double)(now_ns() - t0) / (double)n;
    if (sum_f != sum_l)
      die("dependent get: fsc and floor read different values", EIO);
    g_sink += sum_f + sum_l;
  }

  for (unsigned r = 0; r < reps; r++) { /* random item assignment */
    uint64_t s = SEED_SET + r, vbase = n * (r + 1);
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
      fsc_value v = make_value(k, vbase + i, buf);
      int rc = fsc_list_set(l, rand_index(&s, n), &v);
      if (rc)
        die("fsc_list_set", rc);
    }
    tf[OP_SET][r] = (double)(now_ns() - t0) / (double)n;

    s = SEED_SET + r;
    t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
      fsc_value v = make_value(k, vbase + i, buf);
      int rc = floor_set(&fl, rand_index(&s, n), &v);
      if (rc)
        die("floor_set", rc);
    }
    tl[OP_SET][r] = (double)(now_ns() - t0) / (double)n;
  }

  for (unsigned r = 0; r < reps; r++) { /* len */
    uint64_t sum = 0, m;
    uint64_t t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
      int rc = fsc_list_len(l, &m);
      if (rc)
        die("fsc_list_len", rc);
      sum += m;
    }
    tf[OP_LEN][r] = (double)(now_ns() - t0) / (double)n;
    t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
      floor_len(&fl, &m);
      sum += m;
    }
    tl[OP_LEN][r] = (double)(now_ns() - t0) / (double)n;
    if (sum != 2 * n * n)
      die("len: wrong length", EIO);
    g_sink += sum;
  }

  /* Sanity (untimed): after the same appends and assignments, both
   * engines hold the same values. */
  for (uint64_t i = 0; i < n; i++) {
    fsc_value a, b;
    int rc = fsc_list_get(l, (int64_t)i, &a);
    if (rc)
      die("fsc_list_get", rc);
    floor_get(&fl, (int64_t)i, &b);
    bool same = a.type == b.type &&
                (a.type == FSC_TYPE_INT64
                     ? a.u.i64 == b.u.i64
                     : a.u.buf.len == b.u.buf.len &&
                           memcmp(a.u.buf.ptr, b.u.buf.ptr, a.u.buf.len) == 0);
    if (!same)
      die("fsc and floor lists differ after the set workload", EIO);
  }

  fsc_list_free(l); /* a clean close: (c) and (b) reopen this list */
  floor_free(&fl);
  for (int op = 0; op < OP_COUNT; op++) {
    res->fsc[op] = median(tf[op], reps);
    res->floor[op] = median(tl[op], reps);
  }
}

/* ------------------------------------------------------------------ */
/* (b) Two processes on one base path                                   */
/* ------------------------------------------------------------------ */

enum mp_mode { MP_ALONE, MP_APPEND, MP_SET, MP_MODES };
static const char *const mp_name[MP_MODES] = {"alone", "appender", "setter"};

struct mp_shared {
  int ready;       /* processes at the start line */
  int nprocs;      /* processes that must be there */
  int reader_done; /* set by the reader when its loop ends */
  int failed;
  double reader_ns, writer_ns;
  double reader_cpu, writer_cpu; /* CPU time / wall time of the loop */
  uint64_t writer_ops;
  uint64_t sink;
};

static void mp_start(struct mp_shared *sh) {
  __atomic_add_fetch(&sh->ready, 1, __ATOMIC_ACQ_REL);
  while (__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE) < sh->nprocs)
    sched_yield();
}

static void mp_fail(struct mp_shared *sh, const char *who, int rc) {
  fprintf(stderr, "list_bench: %s: %s (%s)\n", who, fsc_strerror(rc),
          fsc_errmsg());
  __atomic_store_n(&sh->failed, 1, __ATOMIC_RELEASE);
  __atomic_store_n(&sh->reader_done, 1, __ATOMIC_RELEASE);
  _exit(2);
}

static void mp_reader(struct mp_shared *sh, const char *base, enum kind k,
                      uint64_t n) {
  fsc_options o = list_options(k, FSC_RDONLY);
  fsc_list *l = NULL;
  int rc = fsc_list_open(base, &o, &l);
  if (rc)
    mp_fail(sh, "reader: fsc_list_open", rc);
  mp_start(sh); /* (no warm-up: cold, as a new worker) */
  uint64_t s = SEED_GET, sum = 0;
  uint64_t c0 = cpu_ns(), t0 = now_ns();
  for (uint64_t i = 0; i < n; i++) {
    fsc_value v;
    if ((rc = fsc_list_get(l, rand_index(&s, n), &v)) != 0)
      mp_fail(sh, "reader: fsc_list_get", rc);
    sum += consume(&v);
  }
  uint64_t t1 = now_ns();
  sh->reader_cpu = (double)(cpu_ns() - c0) / (double)(t1 - t0);
  __atomic_store_n(&sh->reader_done, 1, __ATOMIC_RELEASE);
  sh->reader_ns = (double)(t1 - t0) / (double)n;
  __atomic_fetch_add(&sh->sink, sum, __ATOMIC_RELAXED);
  fsc_list_free(l);
  _exit(0);
}

static void mp_writer(struct mp_shared *sh, const char *base, enum kind k,
                      uint64_t n, enum mp_mode mode, unsigned rep) {
  fsc_list *l = NULL;
  fsc_options o = list_options(k, 0);
  int rc = fsc_list_open(base, &o, &l);
  if (rc)
    mp_fail(sh, "writer: fsc_list_open", rc);
  char buf[STR_LEN];
  init_strbuf(buf);
  uint64_t s = SEED_MPW + rep, ops = 0, vbase = (uint64_t)(rep + 10) * n * 8;
  mp_start(sh); /* (no warm-up: cold, as a new worker) */
  uint64_t c0 = cpu_ns(), t0 = now_ns(), t1;
  for (;;) {
    for (int j = 0; j < 64; j++, ops++) {
      fsc_value v = make_value(k, vbase + ops, buf);
      rc = mode == MP_APPEND ? fsc_list_append(l, &v)
                             : fsc_list_set(l, rand_index(&s, n), &v);
      if (rc)
        mp_fail(sh, mode == MP_APPEND ? "writer: fsc_list_append"
                                      : "writer: fsc_list_set", rc);
    }
    if (__atomic_load_n(&sh->reader_done, __ATOMIC_ACQUIRE))
      break;
    if ((ops & 8191) == 0 && now_ns() - t0 > MP_LIMIT_NS)
      break;
  }
  t1 = now_ns();
  sh->writer_cpu = (double)(cpu_ns() - c0) / (double)(t1 - t0);
  sh->writer_ns = (double)(t1 - t0) / (double)ops;
  sh->writer_ops = ops;
  fsc_list_free(l);
  _exit(0);
}

/* One run: fork the reader (and a writer), wait for both. */
static void mp_run(const char *base, enum kind k, enum mp_mode mode,
                   unsigned rep, struct mp_shared *out) {
  struct mp_shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED)
    die("mmap", errno);
  memset(sh, 0, sizeof *sh);
  sh->nprocs = mode == MP_ALONE ? 1 : 2;
  fflush(NULL);
  pid_t pids[2];
  int np = 0;
  for (int who = 0; who < sh->nprocs; who++) {
    pid_t p = fork();
    if (p < 0)
      die("fork", errno);
    if (p == 0) {
      if (who == 0)
        mp_reader(sh, base, k, cfg.n);
      else
        mp_writer(sh, base, k, cfg.n, mode, rep);
    }
    pids[np++] = p;
  }
  bool ok = true;
  for (int i = 0; i < np; i++) {
    int st;
    while (waitpid(pids[i], &st, 0) < 0)
      if (errno != EINTR)
        die("waitpid", errno);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
      ok = false;
  }
  if (!ok || sh->failed)
    die("a benchmark child process failed", EIO);
  *out = *sh;
  munmap(sh, sizeof *sh);
}

struct mp_result {
  double reader[MP_MODES]; /* median ns/op */
  double min_cpu[MP_MODES];  /* lowest CPU share of reader or writer */
  double writer[MP_MODES];
  uint64_t writer_ops[MP_MODES];
};

static void bench_mp(enum kind k, const char *base, struct mp_result *res) {
  double rd[MP_MODES][64], wr[MP_MODES][64];
  memset(res, 0, sizeof *res);
  for (unsigned r = 0; r < cfg.reps; r++) {
    for (int m = 0; m < MP_MODES; m++) { /* interleaved: drift hits all */
      struct mp_shared sh;
      mp_run(base, k, (enum mp_mode)m, r, &sh);
      rd[m][r] = sh.reader_ns;
      wr[m][r] = sh.writer_ns;
      double c = sh.reader_cpu;
      if (m != MP_ALONE && sh.writer_cpu < c)
        c = sh.writer_cpu;
      if (r == 0 || c < res->min_cpu[m])
        res->min_cpu[m] = c;
      res->writer_ops[m] += sh.writer_ops;
      g_sink += sh.sink;
    }
  }
  for (int m = 0; m < MP_MODES; m++) {
    res->reader[m] = median(rd[m], cfg.reps);
    res->writer[m] = m == MP_ALONE ? 0 : median(wr[m], cfg.reps);
    res->writer_ops[m] /= cfg.reps;
  }
}

/* ------------------------------------------------------------------ */
/* (c) Heap per open list, open time                                    */
/* ------------------------------------------------------------------ */

struct open_result {
  long long heap_n, heap_1, leak; /* bytes */
  double open_n, open_1;          /* ns, cleanly closed */
  double open_crash;              /* ns, after a crash (verifies all) */
  long long heap_crash;           /* heap held after that open */
};

/* Heap held by one open handle of `base`, and the bytes not returned
 * after fsc_list_free. */
static long long heap_of_open(const char *base, enum kind k,
                              long long *leak) {
  long long before = heap_used();
  fsc_list *l = open_list(base, k, 0);
  long long after = heap_used();
  fsc_list_free(l);
  long long freed = heap_used();
  if (before < 0)
    return -1;
  if (leak)
    *leak = freed - before;
  return after - before;
}

static double time_open(const char *base, enum kind k) {
  double t[OPEN_REPS];
  for (unsigned r = 0; r < OPEN_REPS; r++) {
    uint64_t t0 = now_ns();
    fsc_list *l = open_list(base, k, 0);
    t[r] = (double)(now_ns() - t0);
    fsc_list_free(l);
  }
  return median(t, OPEN_REPS);
}

/* A process opens the list and dies without closing it (no clean-close
 * marker); time the next open, which verifies every record. */
static double time_open_after_crash(const char *base, enum kind k,
                                    long long *heap) {
  double t[64];
  for (unsigned r = 0; r < cfg.reps; r++) {
    fflush(NULL);
    pid_t p = fork();
    if (p < 0)
      die("fork", errno);
    if (p == 0) {
      fsc_options o = list_options(k, 0);
      fsc_list *l = NULL;
      _exit(fsc_list_open(base, &o, &l) == 0 ? 0 : 2); /* no close */
    }
    int st;
    while (waitpid(p, &st, 0) < 0)
      if (errno != EINTR)
        die("waitpid", errno);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
      die("crash child failed", EIO);
    long long before = heap_used();
    uint64_t t0 = now_ns();
    fsc_list *l = open_list(base, k, 0);
    t[r] = (double)(now_ns() - t0);
    *heap = before < 0 ? -1 : heap_used() - before;
    fsc_metrics m;
    memset(&m, 0, sizeof m);
    m.size = sizeof m;
    if (fsc_list_metrics(l, &m) == 0 &&
        (m.last_close_clean || m.length != cfg.n || m.repaired_items))
      die("open after a crash: unexpected metrics", EIO);
    fsc_list_free(l);
  }
  return median(t, cfg.reps);
}

static void bench_open(enum kind k, const char *base, const char *small,
                       struct open_result *res) {
  /* A one-element list to compare with. */
  char buf[STR_LEN];
  init_strbuf(buf);
  fsc_list *l = open_list(small, k, FSC_CREATE);
  fsc_value v = make_value(k, 0, buf);
  int rc = fsc_list_append(l, &v);
  if (rc)
    die("fsc_list_append", rc);
  fsc_list_free(l);
  /* Warm up: one-time allocations of the process are not the handle's. */
  heap_of_open(small, k, NULL);
  heap_of_open(base, k, NULL);
  res->heap_1 = heap_of_open(small, k, NULL);
  res->heap_n = heap_of_open(base, k, &res->leak);
  res->open_1 = time_open(small, k);
  res->open_n = time_open(base, k);
  res->open_crash = time_open_after_crash(base, k, &res->heap_crash);
}

/* ------------------------------------------------------------------ */
/* Output                                                               */
/* ------------------------------------------------------------------ */

static void write_tsv(const char *path) {
  FILE *fp = fopen(path, "w");
  if (!fp)
    die(path, errno);
  fprintf(fp, "workload\tengine\tns_per_op\tratio\n");
  for (unsigned i = 0; i < g_nrows; i++) {
    const struct row *r = &g_rows[i];
    fprintf(fp, "%s\t%s\t%.2f\t", r->workload, r->engine, r->value);
    if (isnan(r->ratio))
      fprintf(fp, "NA\n");
    else
      fprintf(fp, "%.3f\n", r->ratio);
  }
  if (fclose(fp) != 0)
    die(path, errno);
}

static void usage(FILE *fp) {
  fprintf(fp,
          "usage: list_bench [-n N] [-q] [-r REPS] [-d DIR] [-t FILE.tsv]\n"
          "  -n N      elements per list (default %u)\n"
          "  -q        quick run: N = %u\n"
          "  -r REPS   repetitions of each measurement; the median is "
          "reported (default %u)\n"
          "  -d DIR    directory for the list files (default: a new "
          "mkdtemp directory\n"
          "            under $TMPDIR or /tmp); the files are removed at "
          "the end\n"
          "  -t FILE   also write the results as TSV (workload, engine, "
          "ns_per_op, ratio)\n",
          DEFAULT_N, QUICK_N, DEFAULT_REPS);
}

static void parse_args(int argc, char **argv) {
  cfg.n = DEFAULT_N;
  cfg.reps = DEFAULT_REPS;
  const char *dir = NULL;
  int opt;
  while ((opt = getopt(argc, argv, "n:qr:d:t:h")) != -1) {
    char *end;
    switch (opt) {
    case 'n':
      errno = 0;
      cfg.n = strtoull(optarg, &end, 10);
      if (errno || *end || cfg.n < 1 || cfg.n > (UINT64_C(1) << 36)) {
        fprintf(stderr, "list_bench: -n wants a count >= 1\n");
        exit(2);
      }
      break;
    case 'q':
      cfg.n = QUICK_N;
      break;
    case 'r': {
      unsigned long r = strtoul(optarg, &end, 10);
      if (*end || r < 1 || r > 64) {
        fprintf(stderr, "list_bench: -r wants 1..64\n");
        exit(2);
      }
      cfg.reps = (unsigned)r;
      break;
    }
    case 'd':
      dir = optarg;
      break;
    case 't':
      cfg.tsv = optarg;
      break;
    case 'h':
      usage(stdout);
      exit(0);
    default:
      usage(stderr);
      exit(2);
    }
  }
  if (optind != argc) {
    usage(stderr);
    exit(2);
  }
  if (dir) {
    if (mkdir(dir, 0700) == 0)
      cfg.made_dir = true;
    else if (errno != EEXIST)
      die(dir, errno);
    if (strlen(dir) > PATH_MAX - 64)
      die(dir, ENAMETOOLONG);
    snprintf(cfg.dir, sizeof cfg.dir, "%s", dir);
  } else {
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
      tmp = "/tmp";
    if (strlen(tmp) > PATH_MAX - 64)
      die(tmp, ENAMETOOLONG);
    snprintf(cfg.dir, sizeof cfg.dir, "%s/fsc_bench_XXXXXX", tmp);
    if (!mkdtemp(cfg.dir))
      die("mkdtemp", errno);
    cfg.made_dir = true;
  }
}

/* A CPU share as a percentage (accounting jitter can exceed 100%). */
static double pct(double share) { return share > 1.0 ? 100.0 : 100 * share; }

static double ratio(double a, double b) { return b > 0 ? a / b : NAN; }

int main(int argc, char **argv) {
  parse_args(argc, argv);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGHUP, on_signal);
  signal(SIGPIPE, on_signal);
  setvbuf(stdout, NULL, _IOLBF, 0);

  printf("fscollections %s list benchmark: N = %" PRIu64 ", %u repetitions"
         " (median), files in %s\n", fsc_version(), cfg.n, cfg.reps, cfg.dir);
  machine_line();
  uint64_t t_start = now_ns();

  struct single_result sr[K_COUNT];
  struct open_result orr[K_COUNT];
  struct mp_result mr[K_COUNT];
  const char *bases[K_COUNT], *smalls[K_COUNT];
  for (int k = 0; k < K_COUNT; k++) {
    char name[32];
    snprintf(name, sizeof name, "bench_%s", kind_name[k]);
    bases[k] = base_path(name);
    snprintf(name, sizeof name, "bench_%s_one", kind_name[k]);
    smalls[k] = base_path(name);
  }

  printf("\n(a) one process: ns per operation, N operations each\n");
  printf("  %-7s %-20s %12s %12s %10s\n", "values", "operation", "fsc",
         "floor", "fsc/floor");
  uint64_t a_wall = now_ns(), a_cpu = cpu_ns();
  for (int k = 0; k < K_COUNT; k++) {
    bench_single((enum kind)k, bases[k], &sr[k]);
    for (int op = 0; op < OP_COUNT; op++) {
      double q = ratio(sr[k].fsc[op], sr[k].floor[op]);
      printf("  %-7s %-20s %12.1f %12.1f %9.2fx\n", kind_name[k],
             op_label[op], sr[k].fsc[op], sr[k].floor[op], q);
      add_row((enum kind)k, op_name[op], "fsc", sr[k].fsc[op], q);
      add_row((enum kind)k, op_name[op], "floor", sr[k].floor[op], 1.0);
    }
  }

  double a_share = (double)(cpu_ns() - a_cpu) / (double)(now_ns() - a_wall);
  printf("  (this process was on a CPU %.0f%% of the wall time of (a))\n",
         100 * a_share);
  if (a_share < 0.9)
    printf("  WARNING: another program competed for the CPUs, so (a) is "
           "skewed; rerun on a quiet machine\n");

  printf("\n(c) memory and open (N = %" PRIu64 "; clean opens: median of"
         " %u)\n", cfg.n, OPEN_REPS);
  for (int k = 0; k < K_COUNT; k++) {
    bench_open((enum kind)k, bases[k], smalls[k], &orr[k]);
    char b1[32], bn[32], bl[32], bc[32];
    fmt_bytes(b1, sizeof b1, orr[k].heap_1);
    fmt_bytes(bn, sizeof bn, orr[k].heap_n);
    fmt_bytes(bl, sizeof bl, orr[k].leak);
    fmt_bytes(bc, sizeof bc, orr[k].heap_crash);
    printf("  %-7s %-44s %14s\n", kind_name[k],
           "heap per open list, N elements", bn);
    printf("  %-7s %-44s %14s\n", kind_name[k],
           "heap per open list, 1 element", b1);
    printf("  %-7s %-44s %14s\n", kind_name[k],
           "heap not returned by fsc_list_free", bl);
    printf("  %-7s %-44s %11.1f us\n", kind_name[k],
           "open, N elements, closed cleanly", orr[k].open_n / 1e3);
    printf("  %-7s %-44s %11.1f us\n", kind_name[k],
           "open, 1 element, closed cleanly", orr[k].open_1 / 1e3);
    printf("  %-7s %-44s %11.1f us  (%.1f ns per element; heap held "
           "after: %s)\n", kind_name[k],
           "open after a crash (verifies N records)",
           orr[k].open_crash / 1e3, orr[k].open_crash / (double)cfg.n, bc);
    add_row((enum kind)k, "open_clean_N", "fsc", orr[k].open_n,
            ratio(orr[k].open_n, orr[k].open_1));
    add_row((enum kind)k, "open_clean_1", "fsc", orr[k].open_1, 1.0);
    add_row((enum kind)k, "open_after_crash_N", "fsc", orr[k].open_crash,
            ratio(orr[k].open_crash, orr[k].open_1));
    if (orr[k].heap_n >= 0) {
      add_row((enum kind)k, "heap_per_open_list_N_bytes", "fsc",
              (double)orr[k].heap_n,
              ratio((double)orr[k].heap_n, (double)orr[k].heap_1));
      add_row((enum kind)k, "heap_per_open_list_1_bytes", "fsc",
              (double)orr[k].heap_1, 1.0);
    }
  }

  printf("\n(b) two processes on one base path: reader = N random gets;"
         " writer runs until the reader ends\n");
  printf("  %-7s %-22s %12s %9s %12s %14s %12s %8s\n", "values", "writer",
         "reader ns", "vs alone", "writer ns", "vs 1-process", "writer ops",
         "min cpu");
  double worst_cpu = 1.0;
  for (int k = 0; k < K_COUNT; k++) {
    bench_mp((enum kind)k, bases[k], &mr[k]);
    double alone = mr[k].reader[MP_ALONE];
    const int single_op[MP_MODES] = {-1, OP_APPEND, OP_SET};
    for (int m = 0; m < MP_MODES; m++) {
      double q = ratio(mr[k].reader[m], alone);
      char wname[64];
      snprintf(wname, sizeof wname, "mp_reader_%s%s",
               m == MP_ALONE ? "" : "with_", mp_name[m]);
      add_row((enum kind)k, wname, "fsc", mr[k].reader[m], q);
      if (m == MP_ALONE) {
        printf("  %-7s %-22s %12.1f %8.2fx %12s %14s %12s %7.0f%%\n",
               kind_name[k], "none (reader alone)", alone, 1.0, "-", "-", "-",
               pct(mr[k].min_cpu[m]));
        if (mr[k].min_cpu[m] < worst_cpu)
          worst_cpu = mr[k].min_cpu[m];
        continue;
      }
      double wq = ratio(mr[k].writer[m], sr[k].fsc[single_op[m]]);
      printf("  %-7s %-22s %12.1f %8.2fx %12.1f %13.2fx %12" PRIu64
             " %7.0f%%\n", kind_name[k],
             m == MP_APPEND ? "appending" : "setting (random)",
             mr[k].reader[m], q, mr[k].writer[m], wq, mr[k].writer_ops[m],
             pct(mr[k].min_cpu[m]));
      if (mr[k].min_cpu[m] < worst_cpu)
        worst_cpu = mr[k].min_cpu[m];
      snprintf(wname, sizeof wname, "mp_%s", mp_name[m]);
      add_row((enum kind)k, wname, "fsc", mr[k].writer[m], wq);
    }
  }

  printf("  (min cpu: the lowest share of its wall time that the reader or "
         "writer spent on a CPU)\n");
  if (worst_cpu < 0.9)
    printf("  WARNING: a process was off the CPU %.0f%% of the time: another "
           "program competed\n  for the CPUs, so (b) is skewed; rerun on a "
           "quiet machine\n", 100 * (1 - worst_cpu));

  /* Targets. */
  for (int k = 0; k < K_COUNT; k++) {
    char w[80];
    snprintf(w, sizeof w, "%s random get <= %.0fx floor", kind_name[k],
             TARGET_GET_X);
    add_target(w, ratio(sr[k].fsc[OP_GET], sr[k].floor[OP_GET]),
               TARGET_GET_X, "x");
    snprintf(w, sizeof w, "%s append <= %.0fx floor", kind_name[k],
             TARGET_APPEND_X);
    add_target(w, ratio(sr[k].fsc[OP_APPEND], sr[k].floor[OP_APPEND]),
               TARGET_APPEND_X, "x");
    for (int m = MP_APPEND; m <= MP_SET; m++) {
      snprintf(w, sizeof w, "%s reader with %s <= %.0fx reader alone",
               kind_name[k], mp_name[m], TARGET_MP_READER_X);
      add_target(w, ratio(mr[k].reader[m], mr[k].reader[MP_ALONE]),
                 TARGET_MP_READER_X, "x");
    }
    if (orr[k].heap_n >= 0) {
      long long worst =
          orr[k].heap_n > orr[k].heap_1 ? orr[k].heap_n : orr[k].heap_1;
      snprintf(w, sizeof w, "%s heap per open list <= 64 KiB", kind_name[k]);
      add_target(w, (double)worst, TARGET_HEAP_BYTES, "B");
    }
  }
  printf("\ntargets (printed, not asserted)\n");
  unsigned pass = 0;
  for (unsigned i = 0; i < g_ntargets; i++) {
    const struct target *t = &g_targets[i];
    if (t->unit[0] == 'x')
      printf("  %-44s %9.2fx  %s\n", t->what, t->got,
             t->pass ? "PASS" : "MISS");
    else
      printf("  %-44s %8.0f %s  %s\n", t->what, t->got, t->unit,
             t->pass ? "PASS" : "MISS");
    pass += t->pass;
  }
  for (int k = 0; k < K_COUNT; k++) {
    if (orr[k].heap_n < 0)
      continue;
    char w[80];
    snprintf(w, sizeof w, "%s heap independent of length", kind_name[k]);
    printf("  %-44s %s\n", w,
           orr[k].heap_n == orr[k].heap_1 ? "yes (same bytes for 1 and N)"
                                          : "NO (differs between 1 and N)");
  }
  printf("  %u of %u targets met\n", pass, g_ntargets);

  if (cfg.tsv) {
    write_tsv(cfg.tsv);
    printf("\nTSV written to %s\n", cfg.tsv);
  }
  printf("\nchecksum %016" PRIx64 "; total time %.1f s; load average at "
         "the end %.2f\n", g_sink, (double)(now_ns() - t_start) / 1e9,
         loadavg());
  cleanup_files();
  return 0;
}
