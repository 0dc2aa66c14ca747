/*
 * dict_bench.c - how fast fsc_dict is, against the floor and against LMDB.
 *
 * Every number is ns per operation (median of -r repetitions), measured with
 * clock_gettime(CLOCK_MONOTONIC) around a loop of N operations.  Three
 * engines hold the same N keys (16-byte zero-padded decimals of a permuted
 * index) with 100-byte values:
 *
 *   fsc    fsc_dict: bytes keys and bytes values, durability NONE;
 *   floor  the physical limit of the library's design without sharing: an
 *          open-addressing table (linear probing, 64-bit slots of record
 *          offset + 20-bit hash tag, XXH3, the library's growth policy)
 *          over a private heap arena of records laid out as the library's
 *          (16-byte header + [u32 klen][key][value][u64 origin], 8-aligned),
 *          with no checksum, atomics, validation or sharing;
 *   lmdb   LMDB with MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP: one write
 *          transaction per put (every put visible at once, as fsc's), and a
 *          batched variant (one transaction per 1000 puts); gets inside one
 *          long-held MDB_RDONLY transaction.
 *
 *   (a) one process: put of new keys, random get (hits), random get of
 *       missing keys;
 *   (b) a second process that has just opened the store by path (fork +
 *       open) does the same random gets;
 *   (c) one writer process and one reader process at the same time;
 *   (d) open of a cleanly closed N-key store, disk bytes, heap per open
 *       dict (mallinfo2 around fsc_dict_open: must not depend on N).
 *
 * Usage: dict_bench [-n N] [-q] [-r REPS] [-d DIR] [-t FILE.tsv] [-H]
 *
 * Speed is checked here, never by timed assertions in the tests: the
 * targets are printed as PASS/MISS and never change the exit status.
 * bench/README.md tells how to read the output.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fscollections.h>
#include <lmdb.h>
#include <xxhash.h>

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
#define MAX_N (UINT64_C(1) << 31)
#define DEFAULT_REPS 3u
#define OPEN_REPS 11u   /* opens are cheap: more samples for the median */
#define KEY_LEN 16u     /* bytes of each key */
#define VAL_LEN 100u    /* bytes of each value */
#define LMDB_BATCH 1000u /* puts per transaction, batched variant */
#define LMDB_RENEW 1000u /* (c) LMDB reader: gets per read transaction */
#define SEED_ORDER UINT64_C(0x2545F4914F6CDD1D)
#define SEED_GET UINT64_C(0x9E3779B97F4A7C15)
#define SEED_MISS UINT64_C(0xD1B54A32D192ED03)
#define SEED_MPW UINT64_C(0xA0761D6478BD642F)
#define MP_LIMIT_NS (UINT64_C(60) * 1000000000u) /* writer safety stop */

/* Targets (printed, never asserted). */
#define TARGET_GET_FLOOR_X 1.5  /* random get <= 1.5x the floor */
#define TARGET_GET_LMDB_X 2.5   /* random get >= 2.5x faster than LMDB */
#define TARGET_PUT_FLOOR_X 1.5  /* put of a new key <= 1.5x the floor */
#define TARGET_PUT_LMDB_X 2.5   /* put >= 2.5x faster than LMDB 1 txn/put */
#define TARGET_SECOND_X 1.2     /* second-process get <= 1.2x the first */

#define LMDB_WFLAGS (MDB_NOSUBDIR | MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP)

static struct {
  uint64_t n;
  unsigned reps;
  char dir[PATH_MAX];
  const char *tsv;
  bool made_dir;
  size_t mapsize; /* LMDB map size: big enough for N keys and (c) */
  bool floor_thp; /* -H: the floor's memory on transparent huge pages */
} cfg;

/* Files to remove at exit (and on SIGINT/SIGTERM: unlink is
 * async-signal-safe, so the full paths are built in advance). */
#define MAX_FILES 16
static char g_files[MAX_FILES][PATH_MAX];
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
  fprintf(stderr, "dict_bench: %s: %s (%s)\n", what,
          rc < 0 ? fsc_strerror(rc) : strerror(rc), rc < 0 ? fsc_errmsg() : "");
  cleanup_files();
  exit(1);
}

static void die_mdb(const char *what, int rc) {
  fprintf(stderr, "dict_bench: %s: %s\n", what, mdb_strerror(rc));
  cleanup_files();
  exit(1);
}

static void add_file(const char *path) {
  if (g_nfiles == MAX_FILES)
    die("too many files", EINVAL);
  snprintf(g_files[g_nfiles], PATH_MAX, "%s", path);
  g_nfiles++;
}

/* dir/name (static storage, one per call site), registered for removal:
 * for fsc the two collection files, for LMDB (MDB_NOSUBDIR) the data file
 * and its lock file. */
static void make_path(char *out, const char *name, bool lmdb) {
  int w = snprintf(out, PATH_MAX, "%s/%s", cfg.dir, name);
  if (w < 0 || w >= PATH_MAX - 32)
    die(name, ENAMETOOLONG);
  char f[PATH_MAX + 32];
  if (lmdb) {
    add_file(out);
    snprintf(f, sizeof f, "%s-lock", out);
    add_file(f);
  } else {
    snprintf(f, sizeof f, "%s.data.fscollection", out);
    add_file(f);
    snprintf(f, sizeof f, "%s.index.fscollection", out);
    add_file(f);
  }
}

static char g_fsc_base[PATH_MAX], g_fsc_one[PATH_MAX];
static char g_lmdb_path[PATH_MAX], g_lmdb_batch_path[PATH_MAX];

/* Key i is the 16-digit zero-padded decimal of perm(i): keys 0..N-1 are
 * stored, N..2N-1 are the missing keys. */
static char g_d2[200]; /* "00" "01" ... "99" */

static void init_digits(void) {
  for (int i = 0; i < 100; i++) {
    g_d2[2 * i] = (char)('0' + i / 10);
    g_d2[2 * i + 1] = (char)('0' + i % 10);
  }
}

static inline void make_key(uint64_t i, char *k) {
  uint64_t x = perm(i); /* < 2^50 < 10^16: 16 digits */
  for (int p = KEY_LEN - 2; p >= 0; p -= 2) {
    unsigned r = (unsigned)(x % 100);
    x /= 100;
    k[p] = g_d2[2 * r];
    k[p + 1] = g_d2[2 * r + 1];
  }
}

/* The value of version `i`: VAL_LEN bytes of ASCII; its first and last 8
 * bytes depend on i.  buf holds the template (init_valbuf). */
static inline void make_value(uint64_t i, char *buf) {
  uint64_t x = (i + 1) * UINT64_C(0x9E3779B97F4A7C15);
  uint64_t a = (x & UINT64_C(0x3F3F3F3F3F3F3F3F)) | UINT64_C(0x4040404040404040);
  x ^= x >> 29;
  uint64_t b = (x & UINT64_C(0x3F3F3F3F3F3F3F3F)) | UINT64_C(0x4040404040404040);
  memcpy(buf, &a, 8);
  memcpy(buf + VAL_LEN - 8, &b, 8);
}

static void init_valbuf(char *buf) {
  for (unsigned i = 0; i < VAL_LEN; i++)
    buf[i] = (char)('a' + i % 26);
}

/* Fold a value read into the checksum: touches its first and last bytes
 * (two cache lines), so the read cannot be skipped. */
static inline uint64_t consume(const void *ptr, size_t n) {
  const unsigned char *p = ptr;
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

/* Apparent size and allocated bytes of a file (0 if absent). */
static void file_bytes(const char *path, uint64_t *size, uint64_t *alloc) {
  struct stat st;
  if (stat(path, &st) != 0) {
    *size = *alloc = 0;
    return;
  }
  *size = (uint64_t)st.st_size;
  *alloc = (uint64_t)st.st_blocks * 512u;
}

static double ratio(double a, double b) { return b > 0 ? a / b : NAN; }

/* From /proc/self/smaps: resident kB and kB mapped with 2 MiB pages, of
 * the collection files' mappings (FilePmdMapped) and of anonymous memory
 * (AnonHugePages: the floor).  Zeros if unavailable. */
static void smaps_huge(uint64_t *fsc_rss, uint64_t *fsc_pmd,
                       uint64_t *anon_rss, uint64_t *anon_huge) {
  *fsc_rss = *fsc_pmd = *anon_rss = *anon_huge = 0;
  FILE *fp = fopen("/proc/self/smaps", "re");
  if (!fp)
    return;
  char line[PATH_MAX + 128];
  int cur = 0; /* 1: an fsc file mapping, 2: anonymous, 0: other */
  while (fgets(line, sizeof line, fp)) {
    size_t h = strspn(line, "0123456789abcdef");
    if (h > 0 && line[h] == '-') { /* "start-end perms off dev inode path" */
      const char *path = strchr(line, '/');
      cur = path ? (strstr(path, ".fscollection") ? 1 : 0)
                 : (!strchr(line, '[') || strstr(line, "[heap]") ? 2 : 0);
      continue;
    }
    unsigned long long kb;
    if (sscanf(line, "Rss: %llu kB", &kb) == 1) {
      if (cur == 1)
        *fsc_rss += kb;
      else if (cur == 2)
        *anon_rss += kb;
    } else if (cur == 1 && sscanf(line, "FilePmdMapped: %llu kB", &kb) == 1) {
      *fsc_pmd += kb;
    } else if (cur == 2 && sscanf(line, "AnonHugePages: %llu kB", &kb) == 1) {
      *anon_huge += kb;
    }
  }
  fclose(fp);
}

/* ------------------------------------------------------------------ */
/* Results: collected for the TSV and the summary                      */
/* ------------------------------------------------------------------ */

struct row {
  char workload[64];
  const char *engine;
  double value; /* ns per op (bytes for *_bytes workloads) */
  double ratio; /* vs the floor; NAN: none */
};
static struct row g_rows[64];
static unsigned g_nrows;

static void add_row(const char *workload, const char *engine, double value,
                    double vs_floor) {
  if (g_nrows == sizeof g_rows / sizeof g_rows[0])
    return;
  struct row *r = &g_rows[g_nrows++];
  int w = snprintf(r->workload, sizeof r->workload, "dict/%s", workload);
  if (w < 0 || (size_t)w >= sizeof r->workload)
    die("workload name too long", EINVAL);
  r->engine = engine;
  r->value = value;
  r->ratio = vs_floor;
}

struct target {
  char what[80];
  char note[48]; /* context, e.g. what the floor achieves */
  double got, limit;
  bool ge; /* pass if got >= limit (else got <= limit) */
  bool pass;
};
static struct target g_targets[16];
static unsigned g_ntargets;

static void add_target(const char *what, double got, double limit, bool ge,
                       const char *note) {
  if (g_ntargets == sizeof g_targets / sizeof g_targets[0])
    return;
  struct target *t = &g_targets[g_ntargets++];
  snprintf(t->what, sizeof t->what, "%s", what);
  snprintf(t->note, sizeof t->note, "%s", note ? note : "");
  t->got = got;
  t->limit = limit;
  t->ge = ge;
  t->pass = ge ? got >= limit : got <= limit;
}

/* ------------------------------------------------------------------ */
/* fscollections and LMDB: opening                                      */
/* ------------------------------------------------------------------ */

static fsc_dict *open_dict(const char *base, unsigned flags) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_BYTES;     /* opaque bytes, as LMDB stores them */
  o.key_type = FSC_TYPE_BYTES;
  o.flags = flags;
  /* Durability only decides whether close/sync run msync+fsync; nothing
   * measured here syncs (LMDB runs with MDB_NOSYNC).  The clean-close
   * marker is written all the same. */
  o.durability = FSC_DURABLE_NONE;
  fsc_dict *d = NULL;
  int rc = fsc_dict_open(base, &o, &d);
  if (rc)
    die(base, rc);
  return d;
}

struct lmdb {
  MDB_env *env;
  MDB_dbi dbi;
};

/* Open (creating) the LMDB environment at path.  flags: LMDB_WFLAGS, or
 * MDB_NOSUBDIR | MDB_RDONLY for a reader. */
static int lmdb_open_rc(const char *path, unsigned flags, struct lmdb *l) {
  int rc = mdb_env_create(&l->env);
  if (rc)
    return rc;
  if ((rc = mdb_env_set_mapsize(l->env, cfg.mapsize)) != 0 ||
      (rc = mdb_env_open(l->env, path, flags, 0600)) != 0) {
    mdb_env_close(l->env);
    return rc;
  }
  MDB_txn *t;
  if ((rc = mdb_txn_begin(l->env, NULL, flags & MDB_RDONLY, &t)) != 0) {
    mdb_env_close(l->env);
    return rc;
  }
  if ((rc = mdb_dbi_open(t, NULL, 0, &l->dbi)) != 0) {
    mdb_txn_abort(t);
    mdb_env_close(l->env);
    return rc;
  }
  return mdb_txn_commit(t);
}

static void lmdb_open(const char *path, unsigned flags, struct lmdb *l) {
  int rc = lmdb_open_rc(path, flags, l);
  if (rc)
    die_mdb(path, rc);
}

static void lmdb_close(struct lmdb *l) {
  if (l->env)
    mdb_env_close(l->env);
  l->env = NULL;
}

static void lmdb_remove(const char *path) {
  char f[PATH_MAX + 8];
  unlink(path);
  snprintf(f, sizeof f, "%s-lock", path);
  unlink(f);
}

static uint64_t lmdb_entries(struct lmdb *l) {
  MDB_stat st;
  int rc = mdb_env_stat(l->env, &st);
  if (rc)
    die_mdb("mdb_env_stat", rc);
  return (uint64_t)st.ms_entries;
}

/* ------------------------------------------------------------------ */
/* The floor: the library's design in private heap memory              */
/* ------------------------------------------------------------------ */

/* Out of line, like a library call, and opaque to interprocedural
 * analysis so that the loops are not folded into the caller. */
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

/* A slot, as the library's: hash tag in bits 63..44, record offset in
 * bits 43..3; 0 is empty. */
#define FL_OFF_BITS 44
#define FL_OFF_MASK ((((uint64_t)1 << FL_OFF_BITS) - 1) & ~UINT64_C(7))
#define FL_TAG(h) ((uint64_t)(h) >> FL_OFF_BITS)
#define FL_MIN_CAP UINT64_C(1024) /* the library's first table (16 KiB) */
#define FL_ARENA_START 64u        /* offset 0 would read as empty */

struct floor_dict {
  uint64_t *slots;
  uint64_t cap, count;
  uint8_t *arena;
  uint64_t tail, arena_cap;
};

static uint64_t floor_rec_bytes(void) {
  return (sizeof(struct floor_rec) + 4 + KEY_LEN + VAL_LEN + 8 + 7) &
         ~UINT64_C(7);
}

/* Private heap memory for the floor: plain malloc/calloc by default (a
 * large block is mmapped and faulted in lazily, as the library's
 * fallocated files are).  With -H, blocks of 2 MiB and more are 2 MiB
 * aligned and madvise(MADV_HUGEPAGE)d, for a floor on transparent huge
 * pages; (d) shows how much of each engine's memory the kernel mapped with
 * 2 MiB pages. */
static void *floor_alloc(size_t bytes, bool zero) {
  const size_t huge = (size_t)2 << 20;
  if (!cfg.floor_thp || bytes < huge)
    return zero ? calloc(1, bytes) : malloc(bytes);
  size_t len = (bytes + huge - 1) & ~(huge - 1);
  void *p = NULL;
  if (posix_memalign(&p, huge, len) != 0)
    return NULL;
  (void)madvise(p, len, MADV_HUGEPAGE); /* a hint: EINVAL without THP */
  if (zero)
    memset(p, 0, bytes); /* as the library's rebuild fills its table */
  return p;
}

static void floor_init(struct floor_dict *f, uint64_t arena_bytes) {
  f->cap = FL_MIN_CAP;
  f->count = 0;
  f->slots = floor_alloc(f->cap * sizeof *f->slots, true);
  /* Reserved up front and faulted in lazily, as the library's fallocated
   * data file is. */
  f->arena = floor_alloc(arena_bytes, false);
  f->tail = FL_ARENA_START;
  f->arena_cap = arena_bytes;
  if (!f->slots || !f->arena)
    die("floor: malloc", ENOMEM);
}

static void floor_free(struct floor_dict *f) {
  free(f->slots);
  free(f->arena);
  memset(f, 0, sizeof *f);
}

static inline uint32_t floor_klen(const uint8_t *rec) {
  uint32_t kl;
  memcpy(&kl, rec + sizeof(struct floor_rec), 4);
  return kl;
}

static inline bool floor_key_eq(const struct floor_dict *f, uint64_t off,
                                const void *key, uint32_t klen) {
  const uint8_t *rec = f->arena + off;
  return floor_klen(rec) == klen &&
         memcmp(rec + sizeof(struct floor_rec) + 4, key, klen) == 0;
}

/* Bump the arena and write [hdr][u32 klen][key][value][u64 origin]. */
static inline uint64_t floor_write(struct floor_dict *f, const void *key,
                                   uint32_t klen, const void *val,
                                   uint32_t vlen, uint64_t origin) {
  uint64_t n = 4 + (uint64_t)klen + vlen + 8;
  uint64_t total = (sizeof(struct floor_rec) + n + 7) & ~UINT64_C(7);
  if (total > f->arena_cap - f->tail)
    return 0;
  uint64_t off = f->tail;
  f->tail += total;
  uint8_t *p = f->arena + off, *pl = p + sizeof(struct floor_rec);
  memcpy(pl, &klen, 4);
  memcpy(pl + 4, key, klen);
  memcpy(pl + 4 + klen, val, vlen);
  if (!origin)
    origin = off;
  memcpy(pl + n - 8, &origin, 8);
  memset(pl + n, 0, total - sizeof(struct floor_rec) - n);
  struct floor_rec r = {.type = (uint8_t)FSC_TYPE_BYTES, .size = n};
  memcpy(p, &r, sizeof r);
  return off;
}

/* Double the table (the library's policy: to the power of two >= 2 *
 * (count + 1)), rehashing every key from its record, as the library's
 * rebuild does. */
static void floor_grow(struct floor_dict *f) {
  uint64_t ncap = FL_MIN_CAP;
  while (ncap < 2 * (f->count + 1))
    ncap <<= 1;
  uint64_t *ns = floor_alloc(ncap * sizeof *ns, true), mask = ncap - 1;
  if (!ns)
    die("floor: malloc", ENOMEM);
  for (uint64_t j = 0; j < f->cap; j++) {
    uint64_t s = f->slots[j];
    if (!s)
      continue;
    const uint8_t *rec = f->arena + (s & FL_OFF_MASK);
    uint64_t h = XXH3_64bits(rec + sizeof(struct floor_rec) + 4,
                             floor_klen(rec));
    uint64_t i = h & mask;
    while (ns[i])
      i = (i + 1) & mask;
    ns[i] = s;
  }
  free(f->slots);
  f->slots = ns;
  f->cap = ncap;
}

/* d[key] = val: 1 if inserted, 0 if replaced, negative on error. */
FLOOR_FN static int floor_put(struct floor_dict *f, const void *key,
                              size_t klen, const void *val, size_t vlen) {
  uint64_t h = XXH3_64bits(key, klen);
  if ((f->count + 1) * 4 > f->cap * 3)
    floor_grow(f);
  uint64_t mask = f->cap - 1, i = h & mask, tag = FL_TAG(h);
  for (;; i = (i + 1) & mask) {
    uint64_t s = f->slots[i];
    if (!s) {
      uint64_t off = floor_write(f, key, (uint32_t)klen, val, (uint32_t)vlen,
                                 0);
      if (!off)
        return FSC_ENOSPC;
      f->slots[i] = (tag << FL_OFF_BITS) | off;
      f->count++;
      return 1;
    }
    uint64_t o = s & FL_OFF_MASK;
    if ((s >> FL_OFF_BITS) == tag && floor_key_eq(f, o, key, (uint32_t)klen)) {
      const uint8_t *old = f->arena + o;
      uint64_t on, origin;
      memcpy(&on, old + 8, 8);
      memcpy(&origin, old + sizeof(struct floor_rec) + on - 8, 8);
      uint64_t off = floor_write(f, key, (uint32_t)klen, val, (uint32_t)vlen,
                                 origin);
      if (!off)
        return FSC_ENOSPC;
      f->slots[i] = (tag << FL_OFF_BITS) | off;
      return 0;
    }
  }
}

/* d[key]: 0 with a view of the value, or FSC_EKEY. */
FLOOR_FN static int floor_get(struct floor_dict *f, const void *key,
                              size_t klen, fsc_value *out) {
  uint64_t h = XXH3_64bits(key, klen);
  uint64_t mask = f->cap - 1, i = h & mask, tag = FL_TAG(h);
  for (;; i = (i + 1) & mask) {
    uint64_t s = f->slots[i];
    if (!s)
      return FSC_EKEY;
    uint64_t o = s & FL_OFF_MASK;
    if ((s >> FL_OFF_BITS) == tag && floor_key_eq(f, o, key, (uint32_t)klen)) {
      const uint8_t *p = f->arena + o;
      struct floor_rec r;
      memcpy(&r, p, sizeof r);
      out->type = (fsc_type)r.type;
      out->u.buf.ptr = p + sizeof r + 4 + klen;
      out->u.buf.len = r.size - 4 - klen - 8;
      return 0;
    }
  }
}

/* ------------------------------------------------------------------ */
/* (a) One process                                                      */
/* ------------------------------------------------------------------ */

enum eng { E_FSC, E_FLOOR, E_LMDB, E_LMDB_BATCH, E_COUNT };
static const char *const eng_name[E_COUNT] = {"fsc", "floor", "lmdb",
                                              "lmdb_batch1000"};
enum { OP_PUT, OP_GET, OP_MISS, OP_COUNT };
static const char *const op_name[OP_COUNT] = {"put_new", "get_random_hit",
                                              "get_random_miss"};
static const char *const op_label[OP_COUNT] = {
    "put (new key)", "get (random, hit)", "get (random, missing)"};

struct single_result {
  double ns[E_COUNT][OP_COUNT]; /* median ns/op; 0: not measured */
  uint64_t get_sum;             /* checksum of one random-get pass */
  uint64_t disk_size[E_COUNT], disk_alloc[E_COUNT];
  uint64_t fsc_record_bytes; /* bytes of records in the data file */
  /* kB from /proc/self/smaps after (a): resident, and mapped by PMDs */
  uint64_t fsc_rss_kb, fsc_pmd_kb, anon_rss_kb, anon_huge_kb;
};

struct stores {
  fsc_dict *d;
  struct floor_dict fl;
  struct lmdb lm;
};

/* The put order: a Fisher-Yates shuffle of [0, n) (xorshift, fixed seed),
 * read sequentially by the put loops. */
static uint32_t *put_order(uint64_t n) {
  uint32_t *o = malloc(n * sizeof *o);
  if (!o)
    die("malloc", ENOMEM);
  for (uint64_t i = 0; i < n; i++)
    o[i] = (uint32_t)i;
  uint64_t s = SEED_ORDER;
  for (uint64_t i = n - 1; i > 0; i--) {
    uint64_t j = rand_index(&s, i + 1);
    uint32_t t = o[i];
    o[i] = o[j];
    o[j] = t;
  }
  return o;
}

static double put_fsc(fsc_dict *d, const uint32_t *order, uint64_t n) {
  char key[KEY_LEN], val[VAL_LEN];
  init_valbuf(val);
  uint64_t t0 = now_ns();
  for (uint64_t j = 0; j < n; j++) {
    uint64_t i = order[j];
    make_key(i, key);
    make_value(i, val);
    fsc_value v = fsc_bytes(val, VAL_LEN);
    int rc = fsc_dict_set(d, key, KEY_LEN, &v);
    if (rc)
      die("fsc_dict_set", rc);
  }
  return (double)(now_ns() - t0) / (double)n;
}

static double put_floor(struct floor_dict *f, const uint32_t *order,
                        uint64_t n) {
  char key[KEY_LEN], val[VAL_LEN];
  init_valbuf(val);
  uint64_t t0 = now_ns();
  for (uint64_t j = 0; j < n; j++) {
    uint64_t i = order[j];
    make_key(i, key);
    make_value(i, val);
    int rc = floor_put(f, key, KEY_LEN, val, VAL_LEN);
    if (rc != 1)
      die("floor_put", rc < 0 ? rc : EEXIST);
  }
  return (double)(now_ns() - t0) / (double)n;
}

/* batch 1: one write transaction per put. */
static double put_lmdb(struct lmdb *l, const uint32_t *order, uint64_t n,
                       unsigned batch) {
  char key[KEY_LEN], val[VAL_LEN];
  init_valbuf(val);
  MDB_txn *t = NULL;
  int rc;
  uint64_t t0 = now_ns();
  for (uint64_t j = 0; j < n; j++) {
    uint64_t i = order[j];
    make_key(i, key);
    make_value(i, val);
    if (!t && (rc = mdb_txn_begin(l->env, NULL, 0, &t)) != 0)
      die_mdb("mdb_txn_begin", rc);
    MDB_val k = {KEY_LEN, key}, v = {VAL_LEN, val};
    if ((rc = mdb_put(t, l->dbi, &k, &v, 0)) != 0)
      die_mdb("mdb_put", rc);
    if ((j + 1) % batch == 0 || j + 1 == n) {
      if ((rc = mdb_txn_commit(t)) != 0)
        die_mdb("mdb_txn_commit", rc);
      t = NULL;
    }
  }
  return (double)(now_ns() - t0) / (double)n;
}

/* N random gets of stored keys (miss = false) or of missing keys. */
static double get_fsc(fsc_dict *d, uint64_t n, bool miss, uint64_t *sum) {
  char key[KEY_LEN];
  uint64_t s = miss ? SEED_MISS : SEED_GET, acc = 0;
  uint64_t t0 = now_ns();
  for (uint64_t j = 0; j < n; j++) {
    make_key(rand_index(&s, n) + (miss ? n : 0), key);
    fsc_value v;
    int rc = fsc_dict_get(d, key, KEY_LEN, &v);
    if (rc == 0)
      acc += consume(v.u.buf.ptr, v.u.buf.len);
    else if (rc == FSC_EKEY)
      acc += 1;
    else
      die("fsc_dict_get", rc);
  }
  double ns = (double)(now_ns() - t0) / (double)n;
  *sum = acc;
  return ns;
}

static double get_floor(struct floor_dict *f, uint64_t n, bool miss,
                        uint64_t *sum) {
  char key[KEY_LEN];
  uint64_t s = miss ? SEED_MISS : SEED_GET, acc = 0;
  uint64_t t0 = now_ns();
  for (uint64_t j = 0; j < n; j++) {
    make_key(rand_index(&s, n) + (miss ? n : 0), key);
    fsc_value v;
    int rc = floor_get(f, key, KEY_LEN, &v);
    if (rc == 0)
      acc += consume(v.u.buf.ptr, v.u.buf.len);
    else
      acc += 1;
  }
  double ns = (double)(now_ns() - t0) / (double)n;
  *sum = acc;
  return ns;
}

/* Gets inside one long-held read transaction (begun before the clock
 * starts). */
static double get_lmdb(struct lmdb *l, uint64_t n, bool miss,
                       uint64_t *sum) {
  char key[KEY_LEN];
  uint64_t s = miss ? SEED_MISS : SEED_GET, acc = 0;
  MDB_txn *t;
  int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &t);
  if (rc)
    die_mdb("mdb_txn_begin", rc);
  uint64_t t0 = now_ns();
  for (uint64_t j = 0; j < n; j++) {
    make_key(rand_index(&s, n) + (miss ? n : 0), key);
    MDB_val k = {KEY_LEN, key}, v;
    rc = mdb_get(t, l->dbi, &k, &v);
    if (rc == 0)
      acc += consume(v.mv_data, v.mv_size);
    else if (rc == MDB_NOTFOUND)
      acc += 1;
    else
      die_mdb("mdb_get", rc);
  }
  double ns = (double)(now_ns() - t0) / (double)n;
  mdb_txn_abort(t);
  *sum = acc;
  return ns;
}

static void bench_single(struct stores *st, struct single_result *res) {
  const uint64_t n = cfg.n;
  const unsigned reps = cfg.reps;
  double t[E_COUNT][OP_COUNT][64];
  memset(res, 0, sizeof *res);
  uint32_t *order = put_order(n);

  for (unsigned r = 0; r < reps; r++) { /* put, each time to a new store */
    if (st->d) {
      int rc = fsc_dict_destroy(st->d);
      if (rc)
        die("fsc_dict_destroy", rc);
      fsc_dict_free(st->d);
    }
    st->d = open_dict(g_fsc_base, FSC_CREATE);
    t[E_FSC][OP_PUT][r] = put_fsc(st->d, order, n);

    floor_free(&st->fl);
    floor_init(&st->fl, floor_rec_bytes() * n + 4096);
    t[E_FLOOR][OP_PUT][r] = put_floor(&st->fl, order, n);

    lmdb_close(&st->lm);
    lmdb_remove(g_lmdb_path);
    lmdb_open(g_lmdb_path, LMDB_WFLAGS, &st->lm);
    t[E_LMDB][OP_PUT][r] = put_lmdb(&st->lm, order, n, 1);

    struct lmdb b = {0};
    lmdb_remove(g_lmdb_batch_path);
    lmdb_open(g_lmdb_batch_path, LMDB_WFLAGS, &b);
    t[E_LMDB_BATCH][OP_PUT][r] = put_lmdb(&b, order, n, LMDB_BATCH);
    if (lmdb_entries(&b) != n)
      die("lmdb (batched) does not hold N keys", EIO);
    if (r + 1 == reps)
      file_bytes(g_lmdb_batch_path, &res->disk_size[E_LMDB_BATCH],
                 &res->disk_alloc[E_LMDB_BATCH]);
    lmdb_close(&b);
    lmdb_remove(g_lmdb_batch_path);
  }
  free(order);

  /* Sanity (untimed): every engine holds exactly N keys. */
  uint64_t len = 0;
  int rc = fsc_dict_len(st->d, &len);
  if (rc)
    die("fsc_dict_len", rc);
  if (len != n || st->fl.count != n || lmdb_entries(&st->lm) != n)
    die("an engine does not hold N keys after the puts", EIO);

  for (int op = OP_GET; op <= OP_MISS; op++) {
    bool miss = op == OP_MISS;
    for (unsigned r = 0; r < reps; r++) {
      uint64_t sf, sl, sm;
      t[E_FSC][op][r] = get_fsc(st->d, n, miss, &sf);
      t[E_FLOOR][op][r] = get_floor(&st->fl, n, miss, &sl);
      t[E_LMDB][op][r] = get_lmdb(&st->lm, n, miss, &sm);
      if (sf != sl || sf != sm)
        die(miss ? "missing-key get: the engines disagree"
                 : "random get: the engines read different values", EIO);
      if (miss && sf != n)
        die("missing-key get found a key", EIO);
      if (!miss)
        res->get_sum = sf;
      g_sink += sf + sl + sm;
    }
  }

  for (int e = 0; e < E_COUNT; e++)
    for (int op = 0; op < OP_COUNT; op++)
      if (op == OP_PUT || e != E_LMDB_BATCH)
        res->ns[e][op] = median(t[e][op], reps);

  /* Disk (memory, for the floor) after N puts. */
  fsc_metrics m;
  memset(&m, 0, sizeof m);
  m.size = sizeof m;
  if ((rc = fsc_dict_metrics(st->d, &m)) != 0)
    die("fsc_dict_metrics", rc);
  char f[PATH_MAX + 32];
  uint64_t sz, al;
  snprintf(f, sizeof f, "%s.data.fscollection", g_fsc_base);
  file_bytes(f, &res->disk_size[E_FSC], &res->disk_alloc[E_FSC]);
  snprintf(f, sizeof f, "%s.index.fscollection", g_fsc_base);
  file_bytes(f, &sz, &al);
  res->disk_size[E_FSC] += sz;
  res->disk_alloc[E_FSC] += al;
  if (res->disk_size[E_FSC] != m.total_disk_usage_bytes)
    die("fsc metrics disagree with the file sizes", EIO);
  res->fsc_record_bytes = m.live_bytes + m.dead_bytes;
  file_bytes(g_lmdb_path, &res->disk_size[E_LMDB], &res->disk_alloc[E_LMDB]);
  snprintf(f, sizeof f, "%s-lock", g_lmdb_path);
  file_bytes(f, &sz, &al);
  res->disk_size[E_LMDB] += sz;
  res->disk_alloc[E_LMDB] += al;
  res->disk_size[E_FLOOR] = res->disk_alloc[E_FLOOR] =
      st->fl.tail + st->fl.cap * 8;
  smaps_huge(&res->fsc_rss_kb, &res->fsc_pmd_kb, &res->anon_rss_kb,
             &res->anon_huge_kb);
}

/* ------------------------------------------------------------------ */
/* (b), (c) Other processes                                             */
/* ------------------------------------------------------------------ */

enum { PE_FSC, PE_LMDB, PE_COUNT }; /* engines that other processes open */
static const char *const pe_name[PE_COUNT] = {"fsc", "lmdb"};

struct mp_shared {
  int ready;       /* processes at the start line */
  int nprocs;      /* processes that must be there */
  int reader_done; /* set by the reader when its loop ends */
  int failed;
  double open_ns, cold_ns, warm_ns; /* (b) */
  double reader_ns, writer_ns;      /* (c) */
  uint64_t cold_sum, writer_ops;
  uint64_t sink;
};

static void mp_start(struct mp_shared *sh) {
  __atomic_add_fetch(&sh->ready, 1, __ATOMIC_ACQ_REL);
  while (__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE) < sh->nprocs)
    sched_yield();
}

static void mp_fail(struct mp_shared *sh, const char *who, int rc,
                    bool mdb) {
  fprintf(stderr, "dict_bench: %s: %s (%s)\n", who,
          mdb ? mdb_strerror(rc) : fsc_strerror(rc), mdb ? "" : fsc_errmsg());
  __atomic_store_n(&sh->failed, 1, __ATOMIC_RELEASE);
  __atomic_store_n(&sh->reader_done, 1, __ATOMIC_RELEASE);
  _exit(2);
}

/* A child's handle on one engine. */
struct phandle {
  int eng;
  fsc_dict *d;
  struct lmdb lm;
  MDB_txn *rt; /* LMDB: the read transaction of a reader */
};

static void ph_open(struct mp_shared *sh, struct phandle *h, int eng,
                    bool writer) {
  memset(h, 0, sizeof *h);
  h->eng = eng;
  if (eng == PE_FSC) {
    fsc_options o = FSC_OPTIONS_INIT;
    o.flags = writer ? 0 : FSC_RDONLY;
    o.durability = FSC_DURABLE_NONE;
    int rc = fsc_dict_open(g_fsc_base, &o, &h->d);
    if (rc)
      mp_fail(sh, "child: fsc_dict_open", rc, false);
    return;
  }
  int rc = lmdb_open_rc(g_lmdb_path,
                        writer ? LMDB_WFLAGS : MDB_NOSUBDIR | MDB_RDONLY,
                        &h->lm);
  if (rc)
    mp_fail(sh, "child: mdb_env_open", rc, true);
  if (!writer && (rc = mdb_txn_begin(h->lm.env, NULL, MDB_RDONLY, &h->rt)))
    mp_fail(sh, "child: mdb_txn_begin", rc, true);
}

/* Close cleanly: an LMDB reader that died holding its slot would pin its
 * snapshot for every later writer (until mdb_reader_check). */
static void ph_close(struct phandle *h) {
  if (h->eng == PE_FSC) {
    fsc_dict_free(h->d);
    return;
  }
  if (h->rt)
    mdb_txn_abort(h->rt);
  lmdb_close(&h->lm);
}

/* One get of key i in a child; the value's checksum. */
static inline uint64_t ph_get(struct mp_shared *sh, struct phandle *h,
                              uint64_t i) {
  char key[KEY_LEN];
  make_key(i, key);
  if (h->eng == PE_FSC) {
    fsc_value v;
    int rc = fsc_dict_get(h->d, key, KEY_LEN, &v);
    if (rc)
      mp_fail(sh, "child: fsc_dict_get", rc, false);
    return consume(v.u.buf.ptr, v.u.buf.len);
  }
  MDB_val k = {KEY_LEN, key}, v;
  int rc = mdb_get(h->rt, h->lm.dbi, &k, &v);
  if (rc)
    mp_fail(sh, "child: mdb_get", rc, true);
  return consume(v.mv_data, v.mv_size);
}

/* N random gets (the first process's sequence); ns/op. */
static double ph_get_pass(struct mp_shared *sh, struct phandle *h,
                          uint64_t *sum, bool renew) {
  uint64_t n = cfg.n, s = SEED_GET, acc = 0;
  uint64_t t0 = now_ns();
  for (uint64_t j = 0; j < n; j++) {
    acc += ph_get(sh, h, rand_index(&s, n));
    if (renew && (j + 1) % LMDB_RENEW == 0) {
      /* (c): a reader that held one snapshot for its whole run would keep
       * the writer from reusing any page (its file would grow by a few
       * pages per put); it takes a new one every LMDB_RENEW gets. */
      mdb_txn_reset(h->rt);
      int rc = mdb_txn_renew(h->rt);
      if (rc)
        mp_fail(sh, "child: mdb_txn_renew", rc, true);
    }
  }
  double ns = (double)(now_ns() - t0) / (double)n;
  *sum = acc;
  return ns;
}

/* (b): open by path, N random gets on the fresh mapping, then the same
 * N again (for information). */
static void second_child(struct mp_shared *sh, int eng) {
  struct phandle h;
  uint64_t t0 = now_ns(), sum;
  ph_open(sh, &h, eng, false);
  sh->open_ns = (double)(now_ns() - t0);
  sh->cold_ns = ph_get_pass(sh, &h, &sh->cold_sum, false);
  sh->warm_ns = ph_get_pass(sh, &h, &sum, false);
  __atomic_fetch_add(&sh->sink, sh->cold_sum + sum, __ATOMIC_RELAXED);
  ph_close(&h);
  _exit(0);
}

static void reader_child(struct mp_shared *sh, int eng) {
  struct phandle h;
  uint64_t sum;
  ph_open(sh, &h, eng, false); /* (no warm-up: cold, as a new worker) */
  mp_start(sh);
  sh->reader_ns = ph_get_pass(sh, &h, &sum, eng == PE_LMDB);
  __atomic_store_n(&sh->reader_done, 1, __ATOMIC_RELEASE);
  __atomic_fetch_add(&sh->sink, sum, __ATOMIC_RELAXED);
  ph_close(&h);
  _exit(0);
}

/* (c): overwrite random stored keys with new values (fsc_dict_set / one
 * LMDB write transaction per put) until the reader is done. */
static void writer_child(struct mp_shared *sh, int eng, unsigned rep) {
  struct phandle h;
  ph_open(sh, &h, eng, true);
  char key[KEY_LEN], val[VAL_LEN];
  init_valbuf(val);
  uint64_t n = cfg.n, s = SEED_MPW + rep, ops = 0;
  uint64_t vbase = (uint64_t)(rep + 2) * (UINT64_C(1) << 40);
  mp_start(sh);
  uint64_t t0 = now_ns();
  for (;;) {
    for (int j = 0; j < 64; j++, ops++) {
      uint64_t i = rand_index(&s, n);
      make_key(i, key);
      make_value(vbase + ops, val);
      int rc;
      if (eng == PE_FSC) {
        fsc_value v = fsc_bytes(val, VAL_LEN);
        if ((rc = fsc_dict_set(h.d, key, KEY_LEN, &v)) != 0)
          mp_fail(sh, "writer: fsc_dict_set", rc, false);
      } else {
        MDB_txn *t;
        MDB_val k = {KEY_LEN, key}, v = {VAL_LEN, val};
        if ((rc = mdb_txn_begin(h.lm.env, NULL, 0, &t)) != 0 ||
            (rc = mdb_put(t, h.lm.dbi, &k, &v, 0)) != 0 ||
            (rc = mdb_txn_commit(t)) != 0)
          mp_fail(sh, "writer: mdb put", rc, true);
      }
    }
    if (__atomic_load_n(&sh->reader_done, __ATOMIC_ACQUIRE))
      break;
    if ((ops & 8191) == 0 && now_ns() - t0 > MP_LIMIT_NS)
      break;
  }
  sh->writer_ns = (double)(now_ns() - t0) / (double)ops;
  sh->writer_ops = ops;
  ph_close(&h);
  _exit(0);
}

/* Fork `nprocs` children (0: the (b) reader; 1: the (c) reader and
 * writer) and wait for them. */
static void mp_run(int eng, bool concurrent, unsigned rep,
                   struct mp_shared *out) {
  struct mp_shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED)
    die("mmap", errno);
  memset(sh, 0, sizeof *sh);
  sh->nprocs = concurrent ? 2 : 1;
  fflush(NULL);
  pid_t pids[2];
  int np = 0;
  for (int who = 0; who < sh->nprocs; who++) {
    pid_t p = fork();
    if (p < 0)
      die("fork", errno);
    if (p == 0) {
      if (!concurrent)
        second_child(sh, eng);
      else if (who == 0)
        reader_child(sh, eng);
      else
        writer_child(sh, eng, rep);
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

struct second_result {
  double open_ns[PE_COUNT], cold[PE_COUNT], warm[PE_COUNT];
};

static void bench_second(const struct single_result *sr,
                         struct second_result *res) {
  double o[PE_COUNT][64], c[PE_COUNT][64], w[PE_COUNT][64];
  for (unsigned r = 0; r < cfg.reps; r++) {
    for (int e = 0; e < PE_COUNT; e++) {
      struct mp_shared sh;
      mp_run(e, false, r, &sh);
      if (sh.cold_sum != sr->get_sum)
        die("second process: read other values than the first", EIO);
      o[e][r] = sh.open_ns;
      c[e][r] = sh.cold_ns;
      w[e][r] = sh.warm_ns;
      g_sink += sh.sink;
    }
  }
  for (int e = 0; e < PE_COUNT; e++) {
    res->open_ns[e] = median(o[e], cfg.reps);
    res->cold[e] = median(c[e], cfg.reps);
    res->warm[e] = median(w[e], cfg.reps);
  }
}

struct conc_result {
  double reader[PE_COUNT], writer[PE_COUNT]; /* median ns/op */
  uint64_t writer_ops[PE_COUNT];             /* mean per repetition */
};

static void bench_concurrent(struct conc_result *res) {
  double rd[PE_COUNT][64], wr[PE_COUNT][64];
  memset(res, 0, sizeof *res);
  for (unsigned r = 0; r < cfg.reps; r++) {
    for (int e = 0; e < PE_COUNT; e++) {
      struct mp_shared sh;
      mp_run(e, true, r, &sh);
      rd[e][r] = sh.reader_ns;
      wr[e][r] = sh.writer_ns;
      res->writer_ops[e] += sh.writer_ops;
      g_sink += sh.sink;
    }
  }
  for (int e = 0; e < PE_COUNT; e++) {
    res->reader[e] = median(rd[e], cfg.reps);
    res->writer[e] = median(wr[e], cfg.reps);
    res->writer_ops[e] /= cfg.reps;
  }
}

/* ------------------------------------------------------------------ */
/* (d) Open, heap                                                       */
/* ------------------------------------------------------------------ */

struct open_result {
  double fsc_n, fsc_1, lmdb_n;     /* ns per open of a cleanly closed store */
  long long heap_n, heap_1, leak;  /* bytes, fsc_dict_open */
  long long lmdb_heap;             /* bytes, one LMDB environment (info) */
};

/* Heap held by one open handle of base, and the bytes not returned by
 * fsc_dict_free. */
static long long heap_of_open(const char *base, long long *leak) {
  long long before = heap_used();
  fsc_dict *d = open_dict(base, 0);
  long long after = heap_used();
  fsc_dict_free(d);
  long long freed = heap_used();
  if (before < 0)
    return -1;
  if (leak)
    *leak = freed - before;
  return after - before;
}

static double time_open_fsc(const char *base) {
  double t[OPEN_REPS];
  for (unsigned r = 0; r < OPEN_REPS; r++) {
    uint64_t t0 = now_ns();
    fsc_dict *d = open_dict(base, 0);
    t[r] = (double)(now_ns() - t0);
    fsc_dict_free(d);
  }
  return median(t, OPEN_REPS);
}

/* mdb_env_create + set_mapsize + env_open + the dbi in a transaction. */
static double time_open_lmdb(void) {
  double t[OPEN_REPS];
  for (unsigned r = 0; r < OPEN_REPS; r++) {
    struct lmdb l;
    uint64_t t0 = now_ns();
    lmdb_open(g_lmdb_path, LMDB_WFLAGS, &l);
    t[r] = (double)(now_ns() - t0);
    lmdb_close(&l);
  }
  return median(t, OPEN_REPS);
}

static void bench_open(struct open_result *res) {
  /* A one-key dict to compare with. */
  char key[KEY_LEN], val[VAL_LEN];
  init_valbuf(val);
  make_key(0, key);
  make_value(0, val);
  fsc_dict *d = open_dict(g_fsc_one, FSC_CREATE);
  fsc_value v = fsc_bytes(val, VAL_LEN);
  int rc = fsc_dict_set(d, key, KEY_LEN, &v);
  if (rc)
    die("fsc_dict_set", rc);
  fsc_dict_free(d);
  /* Warm up: one-time allocations of the process are not the handle's. */
  heap_of_open(g_fsc_one, NULL);
  heap_of_open(g_fsc_base, NULL);
  res->heap_1 = heap_of_open(g_fsc_one, NULL);
  res->heap_n = heap_of_open(g_fsc_base, &res->leak);
  res->fsc_1 = time_open_fsc(g_fsc_one);
  res->fsc_n = time_open_fsc(g_fsc_base);
  res->lmdb_n = time_open_lmdb();
  long long before = heap_used();
  struct lmdb l;
  lmdb_open(g_lmdb_path, LMDB_WFLAGS, &l);
  res->lmdb_heap = before < 0 ? -1 : heap_used() - before;
  lmdb_close(&l);
}

/* ------------------------------------------------------------------ */
/* Output                                                               */
/* ------------------------------------------------------------------ */

static void write_tsv(const char *path) {
  FILE *fp = fopen(path, "w");
  if (!fp)
    die(path, errno);
  fprintf(fp, "workload\tengine\tns_per_op\tratio_vs_floor\n");
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
          "usage: dict_bench [-n N] [-q] [-r REPS] [-d DIR] [-t FILE.tsv] "
          "[-H]\n"
          "  -n N      keys per store (default %u)\n"
          "  -q        quick run: N = %u\n"
          "  -r REPS   repetitions of each measurement; the median is "
          "reported (default %u)\n"
          "  -d DIR    directory for the store files (default: a new "
          "mkdtemp directory\n"
          "            under $TMPDIR or /tmp); the files are removed at "
          "the end\n"
          "  -t FILE   also write the results as TSV (workload, engine, "
          "ns_per_op,\n"
          "            ratio_vs_floor)\n"
          "  -H        put the floor's memory on transparent huge pages "
          "(MADV_HUGEPAGE)\n",
          DEFAULT_N, QUICK_N, DEFAULT_REPS);
}

static void parse_args(int argc, char **argv) {
  cfg.n = DEFAULT_N;
  cfg.reps = DEFAULT_REPS;
  const char *dir = NULL;
  int opt;
  while ((opt = getopt(argc, argv, "n:qr:d:t:Hh")) != -1) {
    char *end;
    switch (opt) {
    case 'n':
      errno = 0;
      cfg.n = strtoull(optarg, &end, 10);
      if (errno || *end || cfg.n < 1 || cfg.n > MAX_N) {
        fprintf(stderr, "dict_bench: -n wants a count in 1..%" PRIu64 "\n",
                MAX_N);
        exit(2);
      }
      break;
    case 'q':
      cfg.n = QUICK_N;
      break;
    case 'r': {
      unsigned long r = strtoul(optarg, &end, 10);
      if (*end || r < 1 || r > 64) {
        fprintf(stderr, "dict_bench: -r wants 1..64\n");
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
    case 'H':
      cfg.floor_thp = true;
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
    snprintf(cfg.dir, sizeof cfg.dir, "%s/fsc_dbench_XXXXXX", tmp);
    if (!mkdtemp(cfg.dir))
      die("mkdtemp", errno);
    cfg.made_dir = true;
  }
  /* LMDB's map: ~200 B per key after random inserts; generous headroom
   * for (c), where the writer copies pages while readers pin snapshots.
   * With MDB_WRITEMAP the file is this long but sparse. */
  cfg.mapsize = (size_t)(cfg.n * 1024 + (UINT64_C(256) << 20));
}

int main(int argc, char **argv) {
  parse_args(argc, argv);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGHUP, on_signal);
  signal(SIGPIPE, on_signal);
  setvbuf(stdout, NULL, _IOLBF, 0);
  init_digits();
  make_path(g_fsc_base, "dict_n", false);
  make_path(g_fsc_one, "dict_one", false);
  make_path(g_lmdb_path, "lmdb_n.mdb", true);
  make_path(g_lmdb_batch_path, "lmdb_batch.mdb", true);

  printf("fscollections %s dict benchmark: N = %" PRIu64 " keys (%u-byte "
         "keys, %u-byte values), %u repetitions (median), files in %s\n",
         fsc_version(), cfg.n, KEY_LEN, VAL_LEN, cfg.reps, cfg.dir);
  machine_line();
  printf("engines: fsc   = fsc_dict, bytes keys and values, durability "
         "NONE\n"
         "         floor = private open-addressing table + heap arena%s, the "
         "library's record layout, XXH3, no sharing\n"
         "         lmdb  = %s, MDB_NOSYNC|MDB_NOMETASYNC|MDB_WRITEMAP, one "
         "write txn per put; lmdb/b%u: one txn per %u puts;\n"
         "                 gets in one long-held MDB_RDONLY txn\n",
         cfg.floor_thp ? " (MADV_HUGEPAGE)" : "", mdb_version(NULL, NULL, NULL),
         LMDB_BATCH, LMDB_BATCH);
  uint64_t t_start = now_ns();

  struct stores st;
  memset(&st, 0, sizeof st);
  struct single_result sr;
  printf("\n(a) one process: ns per operation, N operations each\n");
  printf("  %-22s %9s %9s %9s %9s %10s %9s\n", "operation", "fsc", "floor",
         "lmdb", "lmdb/b1000", "fsc/floor", "lmdb/fsc");
  bench_single(&st, &sr);
  for (int op = 0; op < OP_COUNT; op++) {
    double f = sr.ns[E_FSC][op], fl = sr.ns[E_FLOOR][op];
    double lm = sr.ns[E_LMDB][op], lb = sr.ns[E_LMDB_BATCH][op];
    char lbs[16] = "-";
    if (lb > 0)
      snprintf(lbs, sizeof lbs, "%.1f", lb);
    printf("  %-22s %9.1f %9.1f %9.1f %10s %9.2fx %8.2fx\n", op_label[op], f,
           fl, lm, lbs, ratio(f, fl), ratio(lm, f));
    for (int e = 0; e < E_COUNT; e++)
      if (sr.ns[e][op] > 0)
        add_row(op_name[op], eng_name[e], sr.ns[e][op],
                ratio(sr.ns[e][op], fl));
  }
  if (sr.ns[E_LMDB_BATCH][OP_PUT] > 0)
    printf("  (put: lmdb/b1000 vs fsc %.2fx)\n",
           ratio(sr.ns[E_LMDB_BATCH][OP_PUT], sr.ns[E_FSC][OP_PUT]));

  printf("\n(b) a second process opens the store by path (fork + open) and "
         "does the same N random gets\n");
  printf("  %-7s %10s %20s %14s %20s %14s\n", "engine", "open us",
         "get ns, just opened", "vs 1st process", "get ns, 2nd pass (info)",
         "vs 1st process");
  struct second_result sp;
  bench_second(&sr, &sp);
  for (int e = 0; e < PE_COUNT; e++) {
    double first = sr.ns[e == PE_FSC ? E_FSC : E_LMDB][OP_GET];
    printf("  %-7s %10.1f %20.1f %13.2fx %23.1f %14.2fx\n", pe_name[e],
           sp.open_ns[e] / 1e3, sp.cold[e], ratio(sp.cold[e], first),
           sp.warm[e], ratio(sp.warm[e], first));
    add_row("get_second_process", pe_name[e], sp.cold[e],
            ratio(sp.cold[e], sr.ns[E_FLOOR][OP_GET]));
    add_row("get_second_process_2nd_pass", pe_name[e], sp.warm[e],
            ratio(sp.warm[e], sr.ns[E_FLOOR][OP_GET]));
  }

  printf("\n(c) one writer process and one reader process at the same time"
         " (reader: N random gets;\n    writer: overwrites random stored keys"
         " until the reader ends; lmdb reader renews its txn every %u gets)\n",
         LMDB_RENEW);
  printf("  %-7s %10s %13s %9s %10s %13s %12s\n", "engine", "reader ns",
         "reader ops/s", "vs alone", "writer ns", "writer ops/s",
         "writer ops");
  struct conc_result cr;
  bench_concurrent(&cr);
  for (int e = 0; e < PE_COUNT; e++) {
    printf("  %-7s %10.1f %13.0f %8.2fx %10.1f %13.0f %12" PRIu64 "\n",
           pe_name[e], cr.reader[e], 1e9 / cr.reader[e],
           ratio(cr.reader[e], sp.warm[e]), cr.writer[e], 1e9 / cr.writer[e],
           cr.writer_ops[e]);
    add_row("concurrent_reader_get", pe_name[e], cr.reader[e],
            ratio(cr.reader[e], sr.ns[E_FLOOR][OP_GET]));
    add_row("concurrent_writer_overwrite", pe_name[e], cr.writer[e], NAN);
  }

  /* (d): close everything cleanly, then open again. */
  fsc_dict_free(st.d);
  st.d = NULL;
  lmdb_close(&st.lm);
  struct open_result orr;
  bench_open(&orr);
  printf("\n(d) open, disk and memory (N = %" PRIu64 "; opens: median of %u)"
         "\n", cfg.n, OPEN_REPS);
  printf("  %-46s %11.1f us\n", "fsc  open, N keys, closed cleanly",
         orr.fsc_n / 1e3);
  printf("  %-46s %11.1f us\n", "fsc  open, 1 key, closed cleanly",
         orr.fsc_1 / 1e3);
  printf("  %-46s %11.1f us\n", "lmdb open (env + dbi), N keys", orr.lmdb_n /
         1e3);
  add_row("open_clean_N", "fsc", orr.fsc_n, NAN);
  add_row("open_clean_1", "fsc", orr.fsc_1, NAN);
  add_row("open_clean_N", "lmdb", orr.lmdb_n, NAN);
  const int de[3] = {E_FSC, E_LMDB, E_LMDB_BATCH};
  const char *dl[3] = {"fsc  disk, N keys (data + index files)",
                       "lmdb disk, N keys (data + lock; 1 txn/put)",
                       "lmdb disk, N keys (batched puts)"};
  for (int j = 0; j < 3; j++) {
    int e = de[j];
    printf("  %-46s %11.1f MB allocated (%.0f B/key; file size %.1f MB)\n",
           dl[j], (double)sr.disk_alloc[e] / 1e6,
           (double)sr.disk_alloc[e] / (double)cfg.n,
           (double)sr.disk_size[e] / 1e6);
    add_row("disk_allocated_bytes", eng_name[e], (double)sr.disk_alloc[e],
            ratio((double)sr.disk_alloc[e], (double)sr.disk_alloc[E_FLOOR]));
  }
  printf("  %-46s %11.1f MB (%.0f B/key)\n",
         "fsc  of which records (the rest: headroom)",
         (double)sr.fsc_record_bytes / 1e6,
         (double)sr.fsc_record_bytes / (double)cfg.n);
  printf("  %-46s %11.1f MB (%.0f B/key)\n",
         "floor memory, N keys (arena + table)",
         (double)sr.disk_alloc[E_FLOOR] / 1e6,
         (double)sr.disk_alloc[E_FLOOR] / (double)cfg.n);
  add_row("disk_allocated_bytes", "floor", (double)sr.disk_alloc[E_FLOOR],
          1.0);
  printf("  %-46s %11.1f MiB of %.1f MiB resident\n",
         "fsc  file mappings on 2 MiB pages (PMD)",
         (double)sr.fsc_pmd_kb / 1024, (double)sr.fsc_rss_kb / 1024);
  printf("  %-46s %11.1f MiB of %.1f MiB resident\n",
         "anonymous memory (floor) on 2 MiB pages",
         (double)sr.anon_huge_kb / 1024, (double)sr.anon_rss_kb / 1024);
  char bn[32], b1[32], bl[32], bm[32];
  fmt_bytes(bn, sizeof bn, orr.heap_n);
  fmt_bytes(b1, sizeof b1, orr.heap_1);
  fmt_bytes(bl, sizeof bl, orr.leak);
  fmt_bytes(bm, sizeof bm, orr.lmdb_heap);
  printf("  %-46s %14s\n", "fsc  heap per open dict, N keys", bn);
  printf("  %-46s %14s\n", "fsc  heap per open dict, 1 key", b1);
  printf("  %-46s %14s\n", "fsc  heap not returned by fsc_dict_free", bl);
  printf("  %-46s %14s\n", "lmdb heap per open environment (info)", bm);
  if (orr.heap_n >= 0) {
    add_row("heap_per_open_dict_N_bytes", "fsc", (double)orr.heap_n, NAN);
    add_row("heap_per_open_dict_1_bytes", "fsc", (double)orr.heap_1, NAN);
  }
  if (orr.lmdb_heap >= 0)
    add_row("heap_per_open_env_bytes", "lmdb", (double)orr.lmdb_heap, NAN);

  /* Targets. */
  char w[80];
  double fg = sr.ns[E_FSC][OP_GET], fp = sr.ns[E_FSC][OP_PUT];
  snprintf(w, sizeof w, "random get <= %.1fx floor", TARGET_GET_FLOOR_X);
  char note[48];
  add_target(w, ratio(fg, sr.ns[E_FLOOR][OP_GET]), TARGET_GET_FLOOR_X, false,
             NULL);
  snprintf(w, sizeof w, "random get >= %.1fx faster than lmdb",
           TARGET_GET_LMDB_X);
  snprintf(note, sizeof note, "(the floor: %.2fx)",
           ratio(sr.ns[E_LMDB][OP_GET], sr.ns[E_FLOOR][OP_GET]));
  add_target(w, ratio(sr.ns[E_LMDB][OP_GET], fg), TARGET_GET_LMDB_X, true,
             note);
  snprintf(w, sizeof w, "put (new key) <= %.1fx floor", TARGET_PUT_FLOOR_X);
  add_target(w, ratio(fp, sr.ns[E_FLOOR][OP_PUT]), TARGET_PUT_FLOOR_X, false,
             NULL);
  snprintf(w, sizeof w, "put (new key) >= %.1fx faster than lmdb 1 txn/put",
           TARGET_PUT_LMDB_X);
  snprintf(note, sizeof note, "(the floor: %.2fx)",
           ratio(sr.ns[E_LMDB][OP_PUT], sr.ns[E_FLOOR][OP_PUT]));
  add_target(w, ratio(sr.ns[E_LMDB][OP_PUT], fp), TARGET_PUT_LMDB_X, true,
             note);
  snprintf(w, sizeof w, "second-process get <= %.1fx first process",
           TARGET_SECOND_X);
  add_target(w, ratio(sp.cold[PE_FSC], fg), TARGET_SECOND_X, false, NULL);
  printf("\ntargets (printed, not asserted)\n");
  unsigned pass = 0, total = g_ntargets;
  for (unsigned i = 0; i < g_ntargets; i++) {
    const struct target *t = &g_targets[i];
    printf("  %-50s %8.2fx  %s%s%s\n", t->what, t->got,
           t->pass ? "PASS" : "MISS", t->note[0] ? "  " : "", t->note);
    pass += t->pass;
  }
  if (orr.heap_n >= 0) {
    bool same = orr.heap_n == orr.heap_1;
    printf("  %-50s %9s  %s (%lld B for N keys, %lld B for 1)\n",
           "heap per open dict independent of size", "", same ? "PASS" :
           "MISS", orr.heap_n, orr.heap_1);
    pass += same;
    total++;
  }
  printf("  %u of %u targets met\n", pass, total);

  if (cfg.tsv) {
    write_tsv(cfg.tsv);
    printf("\nTSV written to %s\n", cfg.tsv);
  }
  floor_free(&st.fl);
  printf("\nchecksum %016" PRIx64 "; total time %.1f s; load average at "
         "the end %.2f\n", g_sink, (double)(now_ns() - t_start) / 1e9,
         loadavg());
  cleanup_files();
  return 0;
}
