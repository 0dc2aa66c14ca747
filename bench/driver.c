/*
 * driver.c - fscollections against the engines users would otherwise pick,
 * measured side by side in one run on the same workloads.
 *
 * Engines (bench/eng_*.c, each built only when configure found its
 * library): fsc, floor (an in-process hash table in private memory), lmdb
 * and lmdb_b1000, tkrzw, kc (Kyoto Cabinet), sqlite, redis.  Each engine
 * runs all its workloads in a child process of its own, so that its peak
 * RSS is its own; workloads of other processes fork grandchildren.
 *
 * Workloads (N keys of K bytes, V-byte values; defaults 1,000,000, 16, 100).
 * No workload reads the store untimed before its clock starts; every
 * workload of a new process times each operation on its own into a
 * histogram (struct hist, bench_util.h) and reports the worst case beside
 * the mean:
 *   put       N puts of new keys (key i = the digits of a permutation of i)
 *   grow      a new process puts G new keys into a new store (-p, default
 *             4,000,000; first round): p50, p99, p99.9, max per put
 *   get       N gets of random stored keys, in the process that put them
 *   get2      cold: a new process opens the store by path and does the same
 *             N gets from its first one: mean, p99, max
 *   oput      cold: a new writer process overwrites N random stored keys
 *   rw        a reader and a new writer process, started together, for
 *             S seconds (-w S,S2: 3 s every round, 10 s in the first):
 *             ops/s of each (the writer's over its first 3 s), the
 *             writer's put p99 and max
 *   list      N appends of V-byte values, then N gets by random index
 *   open      after each round, 7 passes over the engines, each a new
 *             process that opens the N-entry store and gets one key:
 *             median and max
 *   disk      allocated bytes (st_blocks * 512) of the store's files after
 *             close, and peak RSS (getrusage ru_maxrss of the engine's
 *             process after put + get; Redis: the server's VmHWM)
 *
 * Every value read is checked: its first and last 8 bytes are folded into
 * a checksum that must equal the one computed from the values written.
 *
 * Usage: driver [-n N] [-q] [-r ROUNDS] [-k KEYLEN] [-v VALLEN] [-e LIST]
 *               [-p G] [-w S[,S2]] [-d DIR] [-t FILE.tsv] [-m FILE.md] [-g FILE.png]
 *               [-G plot.gp] [-N notes.md] [-H]
 * bench/README.md tells how to read the output.  Speed is never asserted:
 * the exit status is 0 unless an engine fails (a crash, an error, or a
 * value read back that is not the value written); an engine that was not
 * built, or cannot start here, is reported as skipped.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "bench_util.h"
#include "engine.h"
#include "bench_keys.h"
#include "stall_probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef BENCH_CFLAGS
#define BENCH_CFLAGS "?"
#endif

#define DEFAULT_N 1000000u
#define QUICK_N 100000u
#define DEFAULT_ROUNDS 3u
#define MAX_ROUNDS 15u
#define OPEN_REPS 31u
#define DEFAULT_GROW UINT64_C(4000000)
#define SEED_COLD_WRITER UINT64_C(0xE7037ED1A0B428DB)
#define SEED_GET UINT64_C(0x9E3779B97F4A7C15)
#define SEED_LIST UINT64_C(0xD1B54A32D192ED03)
#define SEED_WRITER UINT64_C(0xA0761D6478BD642F)
#define WRITER_LIMIT_NS (UINT64_C(600) * 1000000000u) /* safety stop */
#define START_LIMIT_NS (UINT64_C(120) * 1000000000u)

struct bench_params bench_p;

/* ------------------------------------------------------------------ */
/* Engines and workloads                                                */
/* ------------------------------------------------------------------ */

static const struct engine *const all_engines[] = {
    &eng_fsc,
    &eng_floor,
#ifdef BENCH_HAVE_LMDB
    &eng_lmdb,
    &eng_lmdb_batch,
#endif
#ifdef BENCH_HAVE_TKRZW
    &eng_tkrzw,
#endif
#ifdef BENCH_HAVE_KC
    &eng_kc,
#endif
#ifdef BENCH_HAVE_SQLITE
    &eng_sqlite,
#endif
#ifdef BENCH_HAVE_REDIS
    &eng_redis,
#endif
};
#define N_ALL (sizeof all_engines / sizeof all_engines[0])

/* Engines that this build left out, and why. */
static const struct {
  const char *name, *pkg;
  bool built;
} known[] = {
#ifdef BENCH_HAVE_LMDB
    {"lmdb, lmdb_b1000", "liblmdb-dev", true},
#else
    {"lmdb, lmdb_b1000", "liblmdb-dev", false},
#endif
#ifdef BENCH_HAVE_TKRZW
    {"tkrzw", "libtkrzw-dev", true},
#else
    {"tkrzw", "libtkrzw-dev", false},
#endif
#ifdef BENCH_HAVE_KC
    {"kc", "libkyotocabinet-dev", true},
#else
    {"kc", "libkyotocabinet-dev", false},
#endif
#ifdef BENCH_HAVE_SQLITE
    {"sqlite", "libsqlite3-dev", true},
#else
    {"sqlite", "libsqlite3-dev", false},
#endif
#ifdef BENCH_HAVE_REDIS
    {"redis", "libhiredis-dev (and redis-server to run)", true},
#else
    {"redis", "libhiredis-dev (and redis-server to run)", false},
#endif
};

enum wl {
  W_PUT,
  W_GROW_P50,
  W_GROW_P99,
  W_GROW_P999,
  W_GROW_MAX,
  W_GET,
  W_GET2,
  W_GET2_P99,
  W_GET2_MAX,
  W_OPUT,
  W_OPUT_P99,
  W_OPUT_MAX,
  W_RW_READER,
  W_RW_WRITER,
  W_RW_WP99,
  W_RW_WMAX,
  W_RW2_READER,
  W_RW2_WRITER,
  W_RW2_WP99,
  W_RW2_WMAX,
  W_LAPPEND,
  W_LAPPEND_P99,
  W_LAPPEND_MAX,
  W_LGET,
  W_OPEN,
  W_OPEN_MAX,
  W_DISK,
  W_RSS,
  W_COUNT
};

enum unit { U_NS, U_OPS, U_US, U_BYTES };
static const char *const unit_name[] = {"ns/op", "ops/s", "us", "bytes"};

/* Not const: the labels of the grow and reader/writer rows name their size
 * and duration (set_labels). */
static struct {
  const char *id, *shortname, *label, *chartname;
  enum unit unit;
  bool chart; /* in the ns/op chart */
} wdef[W_COUNT] = {
    /* id (TSV), short name (ratio lines), label (tables), chart label */
    [W_PUT] = {"dict_put_new", "put", "put (new key)", "put (new key)", U_NS,
               true},
    [W_GROW_P50] = {"grow_put_p50", "grw50", "put while growing: p50", "",
                    U_US, false},
    [W_GROW_P99] = {"grow_put_p99", "grw99", "put while growing: p99", "",
                    U_US, false},
    [W_GROW_P999] = {"grow_put_p999", "grw999", "put while growing: p99.9",
                     "", U_US, false},
    [W_GROW_MAX] = {"grow_put_max", "grwmax",
                    "put while growing: max (longest pause)", "", U_US,
                    false},
    [W_GET] = {"dict_get_random", "get", "get (random key), warm: same process",
               "get (warm)", U_NS, true},
    [W_GET2] = {"dict_get_second_process", "get2",
                "get, cold: new process, no warm-up (mean)", "get (cold)",
                U_NS, true},
    [W_GET2_P99] = {"dict_get_cold_p99", "get2-99", "get, cold: p99", "",
                    U_US, false},
    [W_GET2_MAX] = {"dict_get_cold_max", "get2-mx", "get, cold: max", "",
                    U_US, false},
    [W_OPUT] = {"dict_overwrite_cold", "oput",
                "overwrite, cold: new writer process (mean)",
                "overwrite (cold)", U_NS, true},
    [W_OPUT_P99] = {"dict_overwrite_cold_p99", "oput-99",
                    "overwrite, cold: p99", "", U_US, false},
    [W_OPUT_MAX] = {"dict_overwrite_cold_max", "oput-mx",
                    "overwrite, cold: max", "", U_US, false},
    [W_RW_READER] = {"rw_reader_ops", "rw-rd", "reader, beside a writer",
                     "rw: reader", U_OPS, true},
    [W_RW_WRITER] = {"rw_writer_ops", "rw-wr", "writer, beside a reader",
                     "rw: writer", U_OPS, true},
    [W_RW_WP99] = {"rw_writer_put_p99", "rw-w99", "writer: put p99", "",
                   U_US, false},
    [W_RW_WMAX] = {"rw_writer_put_max", "rw-wmx", "writer: put max", "",
                   U_US, false},
    [W_RW2_READER] = {"rw2_reader_ops", "rw2-rd", "reader, beside a writer",
                      "", U_OPS, false},
    [W_RW2_WRITER] = {"rw2_writer_ops", "rw2-wr", "writer, beside a reader",
                      "", U_OPS, false},
    [W_RW2_WP99] = {"rw2_writer_put_p99", "rw2-w99", "writer: put p99", "",
                    U_US, false},
    [W_RW2_WMAX] = {"rw2_writer_put_max", "rw2-wmx", "writer: put max", "",
                    U_US, false},
    [W_LAPPEND] = {"list_append", "l-app", "list append", "list append", U_NS,
                   true},
    [W_LAPPEND_P99] = {"list_append_p99", "l-app99",
                       "list append: p99 (a second list, each append timed)",
                       "", U_US, false},
    [W_LAPPEND_MAX] = {"list_append_max", "l-appmx",
                       "list append: max (longest pause)", "", U_US, false},
    [W_LGET] = {"list_get_random", "l-get", "list get (random index)",
                "list get", U_NS, true},
    [W_OPEN] = {"open_store", "open",
                "open + 1st get, new process: median", "open", U_US, false},
    [W_OPEN_MAX] = {"open_store_max", "open-mx",
                    "open + 1st get, new process: max", "", U_US, false},
    [W_DISK] = {"disk_bytes", "disk", "disk after close (allocated)", "disk",
                U_BYTES, false},
    [W_RSS] = {"peak_rss_bytes", "rss", "peak RSS (put + get)", "rss", U_BYTES,
               false},
};

enum st { S_NONE = 0, S_OK, S_NA, S_FAIL };

struct cell {
  double v;
  int st;
};

/* Results, in memory shared with the engine children. */
struct results {
  struct cell c[N_ALL][MAX_ROUNDS][W_COUNT];
  double rw_cpu[N_ALL][MAX_ROUNDS]; /* lowest CPU share of reader/writer */
  double loop_cpu[N_ALL][MAX_ROUNDS]; /* CPU share of the engine process
                                         over its put and get loops */
  double open_ns[N_ALL][MAX_ROUNDS][OPEN_REPS]; /* the open samples */
};
static struct results *g_res;

/* ------------------------------------------------------------------ */
/* Configuration, helpers                                               */
/* ------------------------------------------------------------------ */

static struct {
  uint64_t n;
  unsigned rounds;
  const char *dir_parent; /* -d */
  bool made_parent;
  char root[PATH_MAX];    /* the run's private mkdtemp directory */
  const char *tsv, *md, *png, *plot_script, *notes;
  const char *only; /* -e */
  uint64_t grow;    /* -p: keys of the put-while-growing workload (0: off) */
  unsigned rw_secs[2]; /* -w: the reader/writer durations (0: off) */
  bool load;        /* -L: run a load beside the whole run */
  double clock_ns;  /* the cost of one now_ns() call, measured */
  int argc;
  char **argv;
} cfg;

static volatile sig_atomic_t g_stop;
static volatile pid_t g_child, g_helper;


/* Fold a value read into a checksum (its length and its first and last 8
 * bytes: two cache lines of a 100-byte value). */
static inline uint64_t consume(const void *ptr, size_t n) {
  const unsigned char *p = ptr;
  uint64_t a = 0, b = 0;
  if (n >= 8) {
    memcpy(&a, p, 8);
    memcpy(&b, p + n - 8, 8);
  }
  return n + a + (b ^ (b >> 7));
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *xs, unsigned n) {
  qsort(xs, n, sizeof *xs, cmp_double);
  return n % 2 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

static double loadavg1(void) {
  double l = NAN;
  FILE *f = fopen("/proc/loadavg", "re");
  if (f) {
    if (fscanf(f, "%lf", &l) != 1)
      l = NAN;
    fclose(f);
  }
  return l;
}

static int rm_one(const char *p, const struct stat *sb, int flag,
                  struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  remove(p);
  return 0;
}

static void rm_tree(const char *dir) {
  nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Allocated bytes of the regular files directly in dir. */
static uint64_t dir_bytes(const char *dir) {
  char path[PATH_MAX];
  uint64_t sum = 0;
  struct stat st;
  DIR *d = opendir(dir);
  if (!d)
    return 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    bench_path(path, sizeof path, dir, e->d_name);
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
      sum += (uint64_t)st.st_blocks * 512u;
  }
  closedir(d);
  return sum;
}

/* ------------------------------------------------------------------ */
/* Timed loops (in an engine child or grandchild)                       */
/* ------------------------------------------------------------------ */

static char *g_key, *g_val; /* buffers of K and V bytes */

static double loop_put(void *h) {
  const struct engine *e = bench_running;
  uint64_t n = bench_p.n;
  uint64_t t0 = now_ns();
  for (uint64_t i = 0; i < n; i++) {
    make_key(i, g_key);
    make_value(i, g_val);
    e->put(h, g_key, bench_p.klen, g_val, bench_p.vlen);
  }
  if (e->flush)
    e->flush(h);
  return (double)(now_ns() - t0) / (double)n;
}

/* The checksum N random gets must give (the same sequence, untimed). */
static uint64_t expected_sum(uint64_t seed) {
  uint64_t s = seed, acc = 0;
  for (uint64_t j = 0; j < bench_p.n; j++) {
    make_value(rand_index(&s, bench_p.n), g_val);
    acc += consume(g_val, bench_p.vlen);
  }
  return acc;
}

static double loop_get(void *h, uint64_t *sum) {
  const struct engine *e = bench_running;
  uint64_t n = bench_p.n, s = SEED_GET, acc = 0;
  uint64_t t0 = now_ns();
  for (uint64_t j = 0; j < n; j++) {
    uint64_t i = rand_index(&s, n);
    make_key(i, g_key);
    const void *v;
    size_t vl;
    if (!e->get(h, g_key, bench_p.klen, &v, &vl))
      bench_die("get: key %" PRIu64 " is missing", i);
    acc += consume(v, vl);
  }
  double ns = (double)(now_ns() - t0) / (double)n;
  *sum = acc;
  return ns;
}

static double loop_append(void *h) {
  const struct engine *e = bench_running;
  uint64_t n = bench_p.n;
  uint64_t t0 = now_ns();
  for (uint64_t i = 0; i < n; i++) {
    make_value(i, g_val);
    e->append(h, g_val, bench_p.vlen);
  }
  if (e->flush)
    e->flush(h);
  return (double)(now_ns() - t0) / (double)n;
}

/* The appends of loop_append into a new list, each timed (one clock read
 * an append, which the mean of loop_append leaves out): their latency
 * in *hist. */
static void loop_append_timed(void *h, struct hist *hist) {
  const struct engine *e = bench_running;
  uint64_t n = bench_p.n;
  uint64_t prev = now_ns();
  for (uint64_t i = 0; i < n; i++) {
    make_value(i, g_val);
    e->append(h, g_val, bench_p.vlen);
    uint64_t t = now_ns();
    hist_add(hist, t - prev);
    prev = t;
  }
  if (e->flush)
    e->flush(h);
}

static double loop_lget(void *h, uint64_t *sum) {
  const struct engine *e = bench_running;
  uint64_t n = bench_p.n, s = SEED_LIST, acc = 0;
  uint64_t t0 = now_ns();
  for (uint64_t j = 0; j < n; j++) {
    uint64_t i = rand_index(&s, n);
    const void *v;
    size_t vl;
    if (!e->lget(h, i, &v, &vl))
      bench_die("list get: index %" PRIu64 " is missing", i);
    acc += consume(v, vl);
  }
  double ns = (double)(now_ns() - t0) / (double)n;
  *sum = acc;
  return ns;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* The share of wall_ns that this process spent on a CPU since cpu0. */
static double cpu_share(double cpu0, uint64_t wall_ns) {
  return wall_ns ? (cpu_seconds() - cpu0) / ((double)wall_ns / 1e9) : NAN;
}

/* ------------------------------------------------------------------ */
/* Other processes (grandchildren of the driver)                        */
/* ------------------------------------------------------------------ */

struct mp {
  int ready, go, reader_done;
  double open_ns[OPEN_REPS];
  double get2_ns;
  uint64_t get2_sum;
  double reader_ns, writer_ns;
  uint64_t reader_ops, writer_ops, writer_ops3; /* (ops3: in the first 3 s) */
  double writer_secs;
  double reader_cpu, writer_cpu;
  struct hist hist; /* per-operation latency of the timed child */
};

/* Before each timed phase: write back every dirty page (sync(2) returns
 * once the writeback is done), so that a phase does not pay, as write
 * throttling or reclaim, for the pages an earlier phase or an earlier
 * engine left dirty.  The page cache stays as it is (no drop). */
static void settle(void) {
  fflush(NULL);
  sync();
}

/* Fork a grandchild that runs fn and exits; 0 if it succeeded. */
static int run_child(void (*fn)(struct mp *, const char *, unsigned),
                     struct mp *sh, const char *dir, unsigned arg,
                     pid_t *out_pid) {
  settle();
  pid_t pid = fork();
  if (pid < 0)
    bench_die("fork: %s", strerror(errno));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    fn(sh, dir, arg);
    fflush(NULL);
    _exit(0);
  }
  if (out_pid) {
    *out_pid = pid;
    return 0;
  }
  int st = -1; /* (-1: not "exited with 0" if waitpid fails) */
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int wait_ok(pid_t pid) {
  int st = -1; /* (-1: not "exited with 0" if waitpid fails) */
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static void open_child(struct mp *sh, const char *dir, unsigned rep) {
  key_template(g_key);
  make_key(0, g_key);
  uint64_t t0 = now_ns();
  void *h = bench_running->open(dir, BK_DICT, BM_READ);
  const void *v;
  size_t vl;
  if (!bench_running->get(h, g_key, bench_p.klen, &v, &vl))
    bench_die("open: key 0 is missing");
  sh->open_ns[rep] = (double)(now_ns() - t0);
  bench_running->close(h);
}

/* A new process that just opened the store by path does N random gets,
 * with no warm-up: each get is timed on its own (the histogram); the mean
 * is the whole loop, with its N clock reads (cfg.clock_ns each). */
static void get2_child(struct mp *sh, const char *dir, unsigned unused) {
  (void)unused;
  const struct engine *e = bench_running;
  void *h = e->open(dir, BK_DICT, BM_READ);
  uint64_t n = bench_p.n, s = SEED_GET, acc = 0;
  uint64_t t0 = now_ns(), prev = t0;
  for (uint64_t j = 0; j < n; j++) {
    uint64_t i = rand_index(&s, n);
    make_key(i, g_key);
    const void *v;
    size_t vl;
    if (!e->get(h, g_key, bench_p.klen, &v, &vl))
      bench_die("get: key %" PRIu64 " is missing", i);
    acc += consume(v, vl);
    uint64_t t = now_ns();
    hist_add(&sh->hist, t - prev);
    prev = t;
  }
  sh->get2_ns = (double)(prev - t0) / (double)n; /* (with the clock reads) */
  sh->get2_sum = acc;
  e->close(h);
}

/* A new writer process: N overwrites of random stored keys with new
 * values, no warm-up, each timed (the first operations of a short-lived
 * worker). */
static void oput_child(struct mp *sh, const char *dir, unsigned round) {
  const struct engine *e = bench_running;
  void *h = e->open(dir, BK_DICT, BM_WRITE);
  uint64_t n = bench_p.n, s = SEED_COLD_WRITER;
  uint64_t vbase = (uint64_t)(round + 40) << 40;
  uint64_t t0 = now_ns(), prev = t0;
  for (uint64_t j = 0; j < n; j++) {
    make_key(rand_index(&s, n), g_key);
    make_value(vbase + j, g_val);
    e->put(h, g_key, bench_p.klen, g_val, bench_p.vlen);
    if (j + 1 == n && e->flush)
      e->flush(h);
    uint64_t t = now_ns();
    hist_add(&sh->hist, t - prev);
    prev = t;
  }
  sh->writer_ns = (double)(prev - t0) / (double)n;
  e->close(h);
}

/* Put while growing: a new process makes a new store (sized, where the
 * engine wants a size, for cfg.grow keys) and puts cfg.grow new keys, each
 * timed, so that every growth of the engine's index or file is in the
 * histogram as the pause one put saw. */
static void grow_child(struct mp *sh, const char *dir, unsigned unused) {
  (void)unused;
  const struct engine *e = bench_running;
  bench_p.n = cfg.grow; /* the adapters size for this */
  void *h = e->open(dir, BK_DICT, BM_CREATE);
  uint64_t n = cfg.grow;
  uint64_t t0 = now_ns(), prev = t0;
  for (uint64_t i = 0; i < n; i++) {
    make_key(i, g_key);
    make_value(i, g_val);
    e->put(h, g_key, bench_p.klen, g_val, bench_p.vlen);
    if (i + 1 == n && e->flush)
      e->flush(h);
    uint64_t t = now_ns();
    hist_add(&sh->hist, t - prev);
    prev = t;
  }
  sh->writer_ns = (double)(prev - t0) / (double)n;
  e->close(h);
}

static void mp_start(struct mp *sh) {
  __atomic_add_fetch(&sh->ready, 1, __ATOMIC_ACQ_REL);
  while (!__atomic_load_n(&sh->go, __ATOMIC_ACQUIRE))
    sched_yield();
}

/* Random gets until the writer says stop (reader_done). */
static void reader_child(struct mp *sh, const char *dir, unsigned unused) {
  (void)unused;
  const struct engine *e = bench_running;
  void *h = e->open(dir, BK_DICT, BM_READ);
  mp_start(sh);
  double cpu0 = cpu_seconds();
  uint64_t n = bench_p.n, s = SEED_GET, ops = 0;
  uint64_t t0 = now_ns();
  for (;;) {
    for (int j = 0; j < 64; j++, ops++) {
      uint64_t i = rand_index(&s, n);
      make_key(i, g_key);
      const void *v;
      size_t vl;
      if (!e->get(h, g_key, bench_p.klen, &v, &vl))
        bench_die("reader: key %" PRIu64 " is missing", i);
      sh->get2_sum += consume(v, vl);
    }
    if (__atomic_load_n(&sh->reader_done, __ATOMIC_ACQUIRE))
      break;
  }
  uint64_t wall = now_ns() - t0;
  sh->reader_ns = (double)wall / (double)ops;
  sh->reader_ops = ops;
  sh->reader_cpu = cpu_share(cpu0, wall);
  e->close(h);
}

/* A new writer process beside the reader: overwrites random stored keys
 * for `secs` seconds from the common start, each put timed; then tells the
 * reader to stop. */
static void writer_child(struct mp *sh, const char *dir, unsigned arg) {
  unsigned round = arg & 0xFFu, secs = arg >> 8;
  void *h = bench_running->open(dir, BK_DICT, BM_WRITE);
  const struct engine *e = bench_running;
  uint64_t n = bench_p.n, s = SEED_WRITER + round + secs, ops = 0;
  uint64_t vbase = (uint64_t)(round + 2 + secs) << 40; /* new versions */
  uint64_t limit = (uint64_t)secs * 1000000000u, at3 = UINT64_C(3000000000);
  mp_start(sh);
  double cpu0 = cpu_seconds();
  uint64_t t0 = now_ns(), prev = t0;
  for (;;) {
    make_key(rand_index(&s, n), g_key);
    make_value(vbase + ops, g_val);
    e->put(h, g_key, bench_p.klen, g_val, bench_p.vlen);
    ops++;
    uint64_t t = now_ns();
    hist_add(&sh->hist, t - prev);
    prev = t;
    if (t - t0 <= at3)
      sh->writer_ops3 = ops;
    if (t - t0 >= limit || t - t0 > WRITER_LIMIT_NS)
      break;
  }
  if (e->flush)
    e->flush(h);
  __atomic_store_n(&sh->reader_done, 1, __ATOMIC_RELEASE);
  uint64_t wall = now_ns() - t0;
  sh->writer_secs = (double)wall / 1e9;
  sh->writer_ns = (double)wall / (double)ops;
  sh->writer_ops = ops;
  sh->writer_cpu = cpu_share(cpu0, wall);
  bench_running->close(h);
}

/* ------------------------------------------------------------------ */
/* One engine, one round (the engine child)                             */
/* ------------------------------------------------------------------ */

static void say(const char *what, double v, enum unit u, const char *more) {
  const struct engine *e = bench_running;
  if (u == U_BYTES)
    printf("  %-11s %-40s %10.1f MB%s\n", e->name, what, v / 1e6, more);
  else
    printf("  %-11s %-40s %10.1f %s%s\n", e->name, what, v,
           unit_name[u], more);
  fflush(stdout);
}

static void put_cell(struct cell *c, int w, double v) {
  c[w].v = v;
  c[w].st = S_OK;
}

static void engine_child(unsigned ei, unsigned round) {
  const struct engine *e = bench_running = all_engines[ei];
  struct cell *c = g_res->c[ei][round];
  char edir[PATH_MAX], ddir[PATH_MAX], ldir[PATH_MAX];
  bench_path(edir, sizeof edir, cfg.root, e->name);
  bench_path(ddir, sizeof ddir, edir, "dict");
  bench_path(ldir, sizeof ldir, edir, "list");
  if (mkdir(ddir, 0700) != 0 || mkdir(ldir, 0700) != 0)
    bench_die("mkdir %s: %s", ddir, strerror(errno));
  g_key = malloc(bench_p.klen);
  g_val = malloc(bench_p.vlen);
  if (!g_key || !g_val)
    bench_die("out of memory");
  key_template(g_key);
  value_template(g_val);

  /* Marked now; the workloads overwrite what they measure. */
  if (!(e->caps & ENG_SHARED))
    for (int w = W_GET2; w <= W_OPEN_MAX; w++)
      if (w != W_LAPPEND && w != W_LAPPEND_P99 && w != W_LAPPEND_MAX &&
          w != W_LGET)
        c[w].st = S_NA;
  if (!(e->caps & ENG_CONCURRENT))
    for (int w = W_RW_READER; w <= W_RW2_WMAX; w++)
      c[w].st = S_NA;
  if (!(e->caps & ENG_LIST))
    c[W_LAPPEND].st = c[W_LAPPEND_P99].st = c[W_LAPPEND_MAX].st =
        c[W_LGET].st = S_NA;
  if (!(e->caps & ENG_FILES))
    c[W_DISK].st = S_NA;

  /* put, get */
  settle();
  void *h = e->open(ddir, BK_DICT, BM_CREATE);
  double cpu0 = cpu_seconds();
  uint64_t wall0 = now_ns();
  put_cell(c, W_PUT, loop_put(h));
  say(wdef[W_PUT].label, c[W_PUT].v, U_NS, "");
  uint64_t sum;
  double g = loop_get(h, &sum);
  g_res->loop_cpu[ei][round] = cpu_share(cpu0, now_ns() - wall0);
  uint64_t want = expected_sum(SEED_GET);
  if (sum != want)
    bench_die("get: the values read are not the values put (checksum "
              "%016" PRIx64 ", want %016" PRIx64 ")", sum, want);
  put_cell(c, W_GET, g);
  char more[128];
  snprintf(more, sizeof more, "  (on a CPU %.0f%% of put + get)",
           100 * g_res->loop_cpu[ei][round]);
  say(wdef[W_GET].label, g, U_NS, more);
  uint64_t rss = e->peak_rss ? e->peak_rss() : 0;
  if (!rss) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    rss = (uint64_t)ru.ru_maxrss * 1024u;
  }
  put_cell(c, W_RSS, (double)rss);
  say(wdef[W_RSS].label, (double)rss, U_BYTES, "");
  e->close(h);
  if (e->caps & ENG_FILES) {
    put_cell(c, W_DISK, (double)dir_bytes(ddir));
    say(wdef[W_DISK].label, c[W_DISK].v, U_BYTES, "");
  }

  struct mp *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (sh == MAP_FAILED)
    bench_die("mmap: %s", strerror(errno));
  if (e->caps & ENG_SHARED) {
    /* open: a new process each time; engines in files are opened by the
     * driver after the round, interleaved with the others (open_phase) */
    if (e->setup) {
      unsigned ok = 0;
      for (unsigned r = 0; r < OPEN_REPS; r++)
        ok += run_child(open_child, sh, ddir, r, NULL) == 0;
      if (ok == OPEN_REPS) {
        memcpy(g_res->open_ns[ei][round], sh->open_ns, sizeof sh->open_ns);
      } else {
        c[W_OPEN].st = c[W_OPEN_MAX].st = S_FAIL;
      }
    }
    /* a new process that just opened the store: cold gets */
    memset(sh, 0, sizeof *sh);
    if (run_child(get2_child, sh, ddir, 0, NULL) == 0) {
      if (sh->get2_sum != want)
        bench_die("2nd process: the values read are not the values put");
      put_cell(c, W_GET2, sh->get2_ns);
      put_cell(c, W_GET2_P99, hist_quantile(&sh->hist, 0.99) / 1e3);
      put_cell(c, W_GET2_MAX, (double)sh->hist.max / 1e3);
      snprintf(more, sizeof more, "  (p50 %.2f, p99 %.2f, max %.0f us)",
               hist_quantile(&sh->hist, 0.5) / 1e3, c[W_GET2_P99].v,
               c[W_GET2_MAX].v);
      say(wdef[W_GET2].label, sh->get2_ns, U_NS, more);
    } else {
      c[W_GET2].st = c[W_GET2_P99].st = c[W_GET2_MAX].st = S_FAIL;
    }
    /* a reader and a new writer at the same time, for each duration */
    for (unsigned k = 0; k < 2 && (e->caps & ENG_CONCURRENT); k++) {
      unsigned secs = cfg.rw_secs[k];
      int w0 = k ? W_RW2_READER : W_RW_READER;
      if (!secs || (k && round > 0))
        continue; /* (the second duration: the first round only) */
      memset(sh, 0, sizeof *sh);
      pid_t rp, wp;
      run_child(reader_child, sh, ddir, 0, &rp);
      run_child(writer_child, sh, ddir, round | secs << 8, &wp);
      uint64_t t0 = now_ns();
      while (__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE) < 2) {
        int st;
        if (waitpid(rp, &st, WNOHANG) == rp ||
            waitpid(wp, &st, WNOHANG) == wp ||
            now_ns() - t0 > START_LIMIT_NS) {
          __atomic_store_n(&sh->reader_done, 1, __ATOMIC_RELEASE);
          kill(rp, SIGKILL);
          kill(wp, SIGKILL);
          break;
        }
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
      }
      __atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
      int wok = wait_ok(wp);
      if (wok != 0) /* stop the reader */
        __atomic_store_n(&sh->reader_done, 1, __ATOMIC_RELEASE);
      int rok = wait_ok(rp);
      if (rok == 0 && wok == 0) {
        double wops = secs >= 3 ? (double)sh->writer_ops3 / 3.0
                                : (double)sh->writer_ops / sh->writer_secs;
        if (k) /* the long run: over all of it */
          wops = (double)sh->writer_ops / sh->writer_secs;
        put_cell(c, w0, 1e9 / sh->reader_ns);
        put_cell(c, w0 + 1, wops);
        put_cell(c, w0 + 2, hist_quantile(&sh->hist, 0.99) / 1e3);
        put_cell(c, w0 + 3, (double)sh->hist.max / 1e3);
        if (!k)
          g_res->rw_cpu[ei][round] = fmin(sh->reader_cpu, sh->writer_cpu);
        snprintf(more, sizeof more, "  (%.1f ns/op, %u s)", sh->reader_ns,
                 secs);
        say(wdef[w0].label, c[w0].v, U_OPS, more);
        snprintf(more, sizeof more,
                 "  (%" PRIu64 " puts; p99 %.1f us, max %.0f us)",
                 sh->writer_ops, c[w0 + 2].v, c[w0 + 3].v);
        say(wdef[w0 + 1].label, c[w0 + 1].v, U_OPS, more);
      } else {
        for (int w = w0; w < w0 + 4; w++)
          c[w].st = S_FAIL;
      }
    }
    /* a new writer process: cold overwrites */
    memset(sh, 0, sizeof *sh);
    if (run_child(oput_child, sh, ddir, round, NULL) == 0) {
      put_cell(c, W_OPUT, sh->writer_ns);
      put_cell(c, W_OPUT_P99, hist_quantile(&sh->hist, 0.99) / 1e3);
      put_cell(c, W_OPUT_MAX, (double)sh->hist.max / 1e3);
      snprintf(more, sizeof more, "  (p50 %.2f, p99 %.2f, max %.0f us)",
               hist_quantile(&sh->hist, 0.5) / 1e3, c[W_OPUT_P99].v,
               c[W_OPUT_MAX].v);
      say(wdef[W_OPUT].label, sh->writer_ns, U_NS, more);
    } else {
      c[W_OPUT].st = c[W_OPUT_P99].st = c[W_OPUT_MAX].st = S_FAIL;
    }
  }

  if (e->caps & ENG_LIST) {
    settle();
    h = e->open(ldir, BK_LIST, BM_CREATE);
    put_cell(c, W_LAPPEND, loop_append(h));
    say(wdef[W_LAPPEND].label, c[W_LAPPEND].v, U_NS, "");
    double lg = loop_lget(h, &sum);
    if (sum != expected_sum(SEED_LIST))
      bench_die("list get: the values read are not the values appended");
    put_cell(c, W_LGET, lg);
    say(wdef[W_LGET].label, lg, U_NS, "");
    e->close(h);
    /* The worst case: a second list, each append timed. */
    char ldir2[PATH_MAX];
    bench_path(ldir2, sizeof ldir2, edir, "list2");
    if (mkdir(ldir2, 0700) != 0)
      bench_die("mkdir %s: %s", ldir2, strerror(errno));
    settle();
    h = e->open(ldir2, BK_LIST, BM_CREATE);
    memset(&sh->hist, 0, sizeof sh->hist);
    loop_append_timed(h, &sh->hist);
    e->close(h);
    put_cell(c, W_LAPPEND_P99, hist_quantile(&sh->hist, 0.99) / 1e3);
    put_cell(c, W_LAPPEND_MAX, (double)sh->hist.max / 1e3);
    snprintf(more, sizeof more, "  (p50 %.2f, p99.9 %.2f us)",
             hist_quantile(&sh->hist, 0.5) / 1e3,
             hist_quantile(&sh->hist, 0.999) / 1e3);
    say(wdef[W_LAPPEND_MAX].label, c[W_LAPPEND_MAX].v, U_US, more);
  }

  /* put while growing: the first round only */
  if (cfg.grow && round == 0) {
    char gdir[PATH_MAX];
    bench_path(gdir, sizeof gdir, edir, "grow");
    if (mkdir(gdir, 0700) != 0)
      bench_die("mkdir %s: %s", gdir, strerror(errno));
    memset(sh, 0, sizeof *sh);
    if (run_child(grow_child, sh, gdir, 0, NULL) == 0) {
      put_cell(c, W_GROW_P50, hist_quantile(&sh->hist, 0.5) / 1e3);
      put_cell(c, W_GROW_P99, hist_quantile(&sh->hist, 0.99) / 1e3);
      put_cell(c, W_GROW_P999, hist_quantile(&sh->hist, 0.999) / 1e3);
      put_cell(c, W_GROW_MAX, (double)sh->hist.max / 1e3);
      snprintf(more, sizeof more,
               "  (mean %.0f ns; p50 %.2f p99 %.2f p99.9 %.1f us)",
               sh->writer_ns, c[W_GROW_P50].v, c[W_GROW_P99].v,
               c[W_GROW_P999].v);
      say(wdef[W_GROW_MAX].label, c[W_GROW_MAX].v, U_US, more);
    } else {
      for (int w = W_GROW_P50; w <= W_GROW_MAX; w++)
        c[w].st = S_FAIL;
    }
    rm_tree(gdir);
  }
  munmap(sh, sizeof *sh);
  fflush(NULL);
  _exit(0);
}

/* ------------------------------------------------------------------ */
/* The driver's process                                                 */
/* ------------------------------------------------------------------ */

static bool g_selected[N_ALL];
static bool g_failed; /* an engine failed: the exit status is 1 */
static bool g_ran_ok[N_ALL]; /* the engine's child of this round exited 0 */
static char g_version[N_ALL][128];
static char g_skip[N_ALL][192]; /* why an engine did not run ("": it did) */

/* -L: a load beside the whole run: one busy loop per core, and a writer
 * that writes 64 MiB into the run's directory, fsyncs it and starts again
 * (the CPUs and the file system's journal are both contended, as on a
 * machine that runs other work).  Children of the driver, which kills and
 * reaps them. */
#define MAX_LOAD 65
static volatile pid_t g_load[MAX_LOAD];

static void load_child(int writer) {
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* (the driver gone: so is the load) */
  if (!writer)
    for (;;)
      __asm__ volatile("" ::: "memory");
  char path[PATH_MAX];
  bench_path(path, sizeof path, cfg.root, "load.dat");
  static char buf[1 << 20];
  memset(buf, 0x5a, sizeof buf);
  for (;;) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
      _exit(1);
    for (int i = 0; i < 64; i++)
      if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf)
        break;
    fsync(fd);
    close(fd);
  }
}

static void load_start(long cores) {
  for (long i = 0; i <= cores && i < MAX_LOAD; i++) {
    pid_t p = fork();
    if (p < 0) {
      fprintf(stderr, "driver: -L: fork: %s\n", strerror(errno));
      exit(1);
    }
    if (p == 0)
      load_child(i == 0);
    g_load[i] = p;
  }
}

static void load_stop(void) {
  for (int i = 0; i < MAX_LOAD; i++)
    if (g_load[i] > 0) {
      kill(g_load[i], SIGKILL);
      waitpid(g_load[i], NULL, 0);
      g_load[i] = 0;
    }
}

static void cleanup(void) {
  load_stop();
  if (g_child > 0)
    kill(g_child, SIGKILL);
  for (unsigned i = 0; i < N_ALL; i++)
    if (all_engines[i]->teardown)
      all_engines[i]->teardown();
  if (cfg.root[0])
    rm_tree(cfg.root);
  if (cfg.made_parent)
    rmdir(cfg.dir_parent);
}

static void on_signal(int sig) {
  g_stop = sig;
  if (g_child > 0)
    kill(g_child, SIGKILL);
  if (g_helper > 0)
    kill(g_helper, SIGKILL);
  for (int i = 0; i < MAX_LOAD; i++)
    if (g_load[i] > 0)
      kill(g_load[i], SIGKILL);
}

static void stop_if_asked(void) {
  if (!g_stop)
    return;
  int sig = g_stop;
  fprintf(stderr, "driver: interrupted; removing %s\n", cfg.root);
  cleanup();
  signal(sig, SIG_DFL);
  raise(sig);
  _exit(128 + sig);
}

/* Engines whose store the driver's open phase opens after the round. */
static bool opened_by_driver(const struct engine *e) {
  return (e->caps & ENG_SHARED) && (e->caps & ENG_FILES) && !e->setup;
}

static void run_engine(unsigned ei, unsigned round) {
  const struct engine *e = all_engines[ei];
  char edir[PATH_MAX];
  bench_path(edir, sizeof edir, cfg.root, e->name);
  if (mkdir(edir, 0700) != 0) {
    fprintf(stderr, "driver: mkdir %s: %s\n", edir, strerror(errno));
    exit(1);
  }
  if (e->setup) {
    char why[256] = "";
    pid_t p = e->setup(edir, why, sizeof why);
    if (p < 0) {
      snprintf(g_skip[ei], sizeof g_skip[ei], "%s", why);
      printf("  %-11s skipped: %s\n", e->name, why);
      rm_tree(edir);
      return;
    }
    g_helper = p;
  }
  if (e->version && !g_version[ei][0])
    e->version(g_version[ei], sizeof g_version[ei]);
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    perror("driver: fork");
    exit(1);
  }
  if (pid == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    engine_child(ei, round);
  }
  g_child = pid;
  int st = -1;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    stop_if_asked();
  g_child = 0;
  stop_if_asked();
  bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
  g_ran_ok[ei] = ok;
  struct cell *c = g_res->c[ei][round];
  for (int w = 0; w < W_COUNT; w++)
    if (c[w].st == S_NONE && w != W_OPEN && w != W_OPEN_MAX)
      c[w].st = ok ? S_NA : S_FAIL;
  if (!ok)
    g_failed = true;
  if (!ok)
    printf("  %-11s FAILED (%s %d): the workloads it did not finish are "
           "reported as failed\n", e->name,
           WIFSIGNALED(st) ? "signal" : "exit status",
           WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
  if (e->teardown)
    e->teardown();
  g_helper = 0;
  if (!(ok && opened_by_driver(e))) /* (else open_phase removes it) */
    rm_tree(edir);
}

/* After a round: OPEN_REPS passes over the engines whose stores are files
 * (kept by run_engine), each pass a new process per engine that opens the
 * store by path and gets one key, so that the samples of all engines are
 * interleaved in time; then the median and the maximum of each engine's
 * samples, and the stores are removed. */
static void open_child_main(unsigned ei, unsigned round, unsigned rep) {
  const struct engine *e = bench_running = all_engines[ei];
  char edir[PATH_MAX], ddir[PATH_MAX];
  bench_path(edir, sizeof edir, cfg.root, e->name);
  bench_path(ddir, sizeof ddir, edir, "dict");
  g_key = malloc(bench_p.klen);
  if (!g_key)
    bench_die("out of memory");
  key_template(g_key);
  make_key(0, g_key);
  uint64_t t0 = now_ns();
  void *h = e->open(ddir, BK_DICT, BM_READ);
  const void *v;
  size_t vl;
  if (!e->get(h, g_key, bench_p.klen, &v, &vl))
    bench_die("open: key 0 is missing");
  g_res->open_ns[ei][round][rep] = (double)(now_ns() - t0);
  e->close(h);
  fflush(NULL);
  _exit(0);
}

static void open_phase(unsigned round) {
  bool bad[N_ALL] = {false};
  settle();
  for (unsigned rep = 0; rep < OPEN_REPS; rep++) {
    for (unsigned i = 0; i < N_ALL; i++) {
      if (!g_selected[i] || g_skip[i][0] || !opened_by_driver(all_engines[i]) ||
          !g_ran_ok[i] || bad[i])
        continue;
      fflush(NULL);
      pid_t pid = fork();
      if (pid < 0) {
        perror("driver: fork");
        exit(1);
      }
      if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        open_child_main(i, round, rep);
      }
      g_child = pid;
      int st = -1;
      while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        stop_if_asked();
      g_child = 0;
      stop_if_asked();
      if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        bad[i] = true;
        g_failed = true;
      }
    }
  }
  for (unsigned i = 0; i < N_ALL; i++) {
    if (!g_selected[i] || g_skip[i][0])
      continue;
    struct cell *c = g_res->c[i][round];
    const struct engine *e = all_engines[i];
    if (bad[i]) {
      c[W_OPEN].st = c[W_OPEN_MAX].st = S_FAIL;
    } else if ((e->caps & ENG_SHARED) && g_ran_ok[i] &&
               c[W_OPEN].st != S_FAIL) {
      double xs[OPEN_REPS], mx = 0;
      memcpy(xs, g_res->open_ns[i][round], sizeof xs);
      for (unsigned r = 0; r < OPEN_REPS; r++)
        mx = fmax(mx, xs[r]);
      c[W_OPEN].v = median(xs, OPEN_REPS) / 1e3;
      c[W_OPEN_MAX].v = mx / 1e3;
      c[W_OPEN].st = c[W_OPEN_MAX].st = S_OK;
      printf("  %-11s %-40s %10.1f us  (max %.0f us, %u new processes)\n",
             e->name, wdef[W_OPEN].label, c[W_OPEN].v, c[W_OPEN_MAX].v,
             OPEN_REPS);
    }
    if (opened_by_driver(e)) {
      char edir[PATH_MAX];
      bench_path(edir, sizeof edir, cfg.root, e->name);
      rm_tree(edir);
    }
  }
}

/* Rows that are a maximum: their summary is the maximum of the rounds. */
static bool is_worst(int w) {
  return w == W_GROW_MAX || w == W_GET2_MAX || w == W_OPUT_MAX ||
         w == W_RW_WMAX || w == W_RW2_WMAX || w == W_OPEN_MAX ||
         w == W_LAPPEND_MAX;
}

/* The median over the rounds of one cell (the maximum for the rows that
 * are one): S_OK if any round measured it. */
static struct cell summary(unsigned ei, int w) {
  double xs[MAX_ROUNDS];
  unsigned n = 0;
  int st = S_NONE;
  for (unsigned r = 0; r < cfg.rounds; r++) {
    struct cell c = g_res->c[ei][r][w];
    if (c.st == S_OK)
      xs[n++] = c.v;
    else if (st == S_NONE || c.st == S_FAIL)
      st = c.st;
  }
  struct cell out = {NAN, n ? S_OK : st};
  if (n && is_worst(w)) { /* the worst case of all rounds */
    out.v = xs[0];
    for (unsigned k = 1; k < n; k++)
      out.v = fmax(out.v, xs[k]);
  } else if (n) {
    out.v = median(xs, n);
  }
  return out;
}

/* The cost of a peer against fsc's: > 1 means fsc does better. */
static double vs_fsc(int w, struct cell peer, struct cell fsc) {
  if (peer.st != S_OK || fsc.st != S_OK || !(peer.v > 0) || !(fsc.v > 0))
    return NAN;
  return wdef[w].unit == U_OPS ? fsc.v / peer.v : peer.v / fsc.v;
}

static const char *na_reason(unsigned ei, int w) {
  const struct engine *e = all_engines[ei];
  if (g_skip[ei][0])
    return g_skip[ei];
  if (w >= W_RW_READER && w <= W_RW2_WMAX)
    w = W_RW_READER;
  switch (w) {
  case W_GET2:
  case W_GET2_P99:
  case W_GET2_MAX:
  case W_OPUT:
  case W_OPUT_P99:
  case W_OPUT_MAX:
  case W_OPEN:
  case W_OPEN_MAX:
    return e->why_not_shared ? e->why_not_shared : "not shared";
  case W_RW_READER:
    if (!(e->caps & ENG_SHARED))
      return e->why_not_shared ? e->why_not_shared : "not shared";
    return e->why_not_concurrent ? e->why_not_concurrent : "not supported";
  case W_LAPPEND:
  case W_LAPPEND_P99:
  case W_LAPPEND_MAX:
  case W_LGET:
    return e->why_not_list ? e->why_not_list : "no list";
  case W_DISK:
    return e->why_no_files ? e->why_no_files : "no files";
  default:
    return "not measured";
  }
}

/* The labels that name the run's sizes and durations. */
static void set_labels(void) {
  static char grow[4][96], rw[8][96];
  static const char *const what[4] = {"p50", "p99", "p99.9",
                                      "max (longest pause)"};
  for (int k = 0; k < 4; k++) {
    snprintf(grow[k], sizeof grow[k], "put while growing 0 -> %" PRIu64
             " keys: %s", cfg.grow, what[k]);
    wdef[W_GROW_P50 + k].label = grow[k];
  }
  for (int k = 0; k < 2; k++) {
    unsigned d = cfg.rw_secs[k];
    int w0 = k ? W_RW2_READER : W_RW_READER;
    snprintf(rw[4 * k], 96, "rw %u s: reader beside a new writer", d);
    snprintf(rw[4 * k + 1], 96, "rw %u s: new writer, ops/s over its %s",
             d, k == 0 && d >= 3 ? "first 3 s" : "whole run");
    snprintf(rw[4 * k + 2], 96, "rw %u s: writer's put p99", d);
    snprintf(rw[4 * k + 3], 96, "rw %u s: writer's put max", d);
    for (int j = 0; j < 4; j++)
      wdef[w0 + j].label = rw[4 * k + j];
  }
}

/* A row that some engine measured (or failed): not a workload turned off
 * (-p 0, -w 3,0). */
static bool row_on(int w) {
  for (unsigned i = 0; i < N_ALL; i++)
    if (g_selected[i] && !g_skip[i][0] && summary(i, w).st != S_NA &&
        summary(i, w).st != S_NONE)
      return true;
  return false;
}

/* A value for a table cell. */
static void fmt_value(char *buf, size_t cap, int w, struct cell c) {
  if (c.st == S_FAIL) {
    snprintf(buf, cap, "failed");
    return;
  }
  if (c.st != S_OK) {
    snprintf(buf, cap, "n/a");
    return;
  }
  switch (wdef[w].unit) {
  case U_NS:
    snprintf(buf, cap, c.v < 100 ? "%.1f" : "%.0f", c.v);
    break;
  case U_OPS:
    snprintf(buf, cap, "%.0f", c.v);
    break;
  case U_US:
    snprintf(buf, cap, c.v < 10 ? "%.2f" : c.v < 100 ? "%.1f" : "%.0f",
             c.v);
    break;
  case U_BYTES:
    snprintf(buf, cap, "%.1f", c.v / 1e6);
    break;
  }
}

static const char *unit_label(int w) {
  switch (wdef[w].unit) {
  case U_NS:
    return "ns/op";
  case U_OPS:
    return "ops/s";
  case U_US:
    return "us";
  default:
    return "MB";
  }
}

/* ---- machine description ---- */

struct machine {
  char cpu[160], kernel[256], fs[384], mem[64], compiler[160];
  long cores;
  bool hypervisor;
};

static void describe_fs(const char *dir, char *out, size_t cap) {
  char real[PATH_MAX];
  if (!realpath(dir, real))
    snprintf(real, sizeof real, "%s", dir);
  FILE *f = fopen("/proc/self/mountinfo", "re");
  char line[4096], best_mp[PATH_MAX] = "", best_fs[64] = "?",
       best_src[PATH_MAX] = "?";
  unsigned best_maj = 0, best_min = 0;
  size_t best = 0;
  while (f && fgets(line, sizeof line, f)) {
    unsigned maj, min;
    char mp[PATH_MAX], fstype[64], src[PATH_MAX];
    if (sscanf(line, "%*s %*s %u:%u %*s %4095s", &maj, &min, mp) != 3)
      continue;
    const char *dash = strstr(line, " - ");
    if (!dash || sscanf(dash + 3, "%63s %4095s", fstype, src) != 2)
      continue;
    size_t l = strlen(mp);
    bool prefix = strcmp(mp, "/") == 0 ||
                  (strncmp(real, mp, l) == 0 &&
                   (real[l] == '/' || real[l] == 0));
    if (prefix && l >= best) {
      best = l;
      snprintf(best_mp, sizeof best_mp, "%s", mp);
      snprintf(best_fs, sizeof best_fs, "%s", fstype);
      snprintf(best_src, sizeof best_src, "%s", src);
      best_maj = maj;
      best_min = min;
    }
  }
  if (f)
    fclose(f);
  char rot[128], disk[64] = "";
  snprintf(rot, sizeof rot, "/sys/dev/block/%u:%u/queue/rotational",
           best_maj, best_min);
  FILE *r = fopen(rot, "re");
  if (!r) {
    snprintf(rot, sizeof rot, "/sys/dev/block/%u:%u/../queue/rotational",
             best_maj, best_min);
    r = fopen(rot, "re");
  }
  if (r) {
    int v;
    if (fscanf(r, "%d", &v) == 1)
      snprintf(disk, sizeof disk, "; the kernel reports rotational=%d", v);
    fclose(r);
  }
  snprintf(out, cap, "%.100s (%s on %.60s, mounted at %.60s%s)", real,
           best_fs, best_src, best_mp, disk);
}

static void describe_machine(struct machine *m) {
  memset(m, 0, sizeof *m);
  snprintf(m->cpu, sizeof m->cpu, "?");
  FILE *f = fopen("/proc/cpuinfo", "re");
  char line[1024];
  while (f && fgets(line, sizeof line, f)) {
    char *colon = strchr(line, ':');
    if (!colon)
      continue;
    if (strncmp(line, "model name", 10) == 0 && m->cpu[0] == '?') {
      colon += 2;
      colon[strcspn(colon, "\n")] = 0;
      snprintf(m->cpu, sizeof m->cpu, "%s", colon);
    } else if (strncmp(line, "flags", 5) == 0 && strstr(colon, " hypervisor")) {
      m->hypervisor = true;
    }
  }
  if (f)
    fclose(f);
  m->cores = sysconf(_SC_NPROCESSORS_ONLN);
  struct utsname u;
  if (uname(&u) == 0)
    snprintf(m->kernel, sizeof m->kernel, "%s %s %s", u.sysname, u.release,
             u.machine);
  f = fopen("/proc/meminfo", "re");
  unsigned long long kb = 0;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
      break;
  if (f)
    fclose(f);
  snprintf(m->mem, sizeof m->mem, "%.1f GiB", kb / 1048576.0);
  describe_fs(cfg.root, m->fs, sizeof m->fs);
#ifdef __VERSION__
  snprintf(m->compiler, sizeof m->compiler, "%s", __VERSION__);
#endif
}

/* ---- output ---- */

static void fputs_md_escaped(const char *s, FILE *f) {
  for (; *s; s++) {
    if (*s == '|')
      fputs("\\|", f);
    else
      fputc(*s, f);
  }
}

static void write_tsv(const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "driver: %s: %s\n", path, strerror(errno));
    return;
  }
  fprintf(f, "workload\tengine\tvalue\tunit\tvs_fsc\tnote\n");
  for (int w = 0; w < W_COUNT; w++) {
    struct cell fsc = summary(0, w);
    for (unsigned i = 0; i < N_ALL; i++) {
      if (!g_selected[i])
        continue;
      struct cell c = summary(i, w);
      double x = vs_fsc(w, c, fsc);
      fprintf(f, "%s\t%s\t", wdef[w].id, all_engines[i]->name);
      if (c.st == S_OK)
        fprintf(f, "%.6g", c.v);
      else
        fprintf(f, "NA");
      fprintf(f, "\t%s\t", unit_name[wdef[w].unit]);
      if (isnan(x))
        fprintf(f, "NA");
      else
        fprintf(f, "%.4f", x);
      fprintf(f, "\t%s\n", c.st == S_OK     ? ""
                           : c.st == S_FAIL ? "failed"
                                            : na_reason(i, w));
    }
  }
  fclose(f);
  printf("TSV written to %s\n", path);
}

static void write_plot_data(const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "driver: %s: %s\n", path, strerror(errno));
    return;
  }
  fprintf(f, "workload");
  for (unsigned i = 0; i < N_ALL; i++)
    if (g_selected[i] && !g_skip[i][0])
      fprintf(f, " %s", all_engines[i]->name);
  fprintf(f, "\n");
  for (int w = 0; w < W_COUNT; w++) {
    if (!wdef[w].chart)
      continue;
    fprintf(f, "\"%s\"", wdef[w].chartname);
    for (unsigned i = 0; i < N_ALL; i++) {
      if (!g_selected[i] || g_skip[i][0])
        continue;
      struct cell c = summary(i, w);
      if (c.st != S_OK)
        fprintf(f, " ?");
      else
        fprintf(f, " %.6g", wdef[w].unit == U_OPS ? 1e9 / c.v : c.v);
    }
    fprintf(f, "\n");
  }
  fclose(f);
}

static bool make_chart(const char *png, const char *data) {
  if (!cfg.plot_script)
    return false;
  char cmd[3 * PATH_MAX + 512];
  snprintf(cmd, sizeof cmd,
           "gnuplot -e \"datafile='%s'; outfile='%s'; "
           "subtitle='N = %" PRIu64 " keys of %zu bytes, %zu-byte values'\" "
           "'%s'",
           data, png, bench_p.n, bench_p.klen, bench_p.vlen,
           cfg.plot_script);
  fflush(NULL);
  int rc = system(cmd);
  if (rc != 0) {
    fprintf(stderr, "driver: chart not made: gnuplot failed or is missing "
                    "(apt-get install -y gnuplot-nox)\n");
    return false;
  }
  printf("chart written to %s\n", png);
  return true;
}

/* Markdown: one row per workload, one column per peer. */
static void print_ratios_md(FILE *f) {
  fprintf(f, "| workload |");
  for (unsigned i = 1; i < N_ALL; i++)
    if (g_selected[i] && !g_skip[i][0])
      fprintf(f, " %s |", all_engines[i]->name);
  fprintf(f, "\n|---|");
  for (unsigned i = 1; i < N_ALL; i++)
    if (g_selected[i] && !g_skip[i][0])
      fprintf(f, "---:|");
  fprintf(f, "\n");
  for (int w = 0; w < W_COUNT; w++) {
    if (!row_on(w))
      continue;
    fprintf(f, "| %s |", wdef[w].label);
    for (unsigned i = 1; i < N_ALL; i++) {
      if (!g_selected[i] || g_skip[i][0])
        continue;
      double x = vs_fsc(w, summary(i, w), summary(0, w));
      if (isnan(x))
        fprintf(f, " - |");
      else
        fprintf(f, x < 10 ? " %.2fx |" : " %.1fx |", x);
    }
    fprintf(f, "\n");
  }
}

static void print_ratios(FILE *f, bool md) {
  /* One line per peer: its cost over fsc's for every workload. */
  if (md) {
    print_ratios_md(f);
    return;
  }
  if (md) {
    fprintf(f, "| peer |");
    for (int w = 0; w < W_COUNT; w++)
      fprintf(f, " %s |", wdef[w].label);
    fprintf(f, "\n|---|");
    for (int w = 0; w < W_COUNT; w++)
      fprintf(f, "---:|");
    fprintf(f, "\n");
  } else {
    fprintf(f, "  %-11s", "peer");
    for (int w = 0; w < W_COUNT; w++)
      fprintf(f, " %7s", wdef[w].shortname);
    fprintf(f, "\n");
  }
  for (unsigned i = 1; i < N_ALL; i++) {
    if (!g_selected[i] || g_skip[i][0])
      continue;
    if (md)
      fprintf(f, "| %s |", all_engines[i]->name);
    else
      fprintf(f, "  %-11s", all_engines[i]->name);
    for (int w = 0; w < W_COUNT; w++) {
      double x = vs_fsc(w, summary(i, w), summary(0, w));
      char b[32];
      if (isnan(x))
        snprintf(b, sizeof b, "-");
      else
        snprintf(b, sizeof b, x < 10 ? "%.2fx" : "%.1fx", x);
      if (md)
        fprintf(f, " %s |", b);
      else
        fprintf(f, " %7s", b);
    }
    fprintf(f, "\n");
  }
}

/* " fsc 99%, lmdb 98%, ..." from one of the per-round share arrays. */
static void print_cpu_shares(FILE *f, size_t off) {
  const char *sep = " ";
  for (unsigned i = 0; i < N_ALL; i++) {
    const double(*a)[MAX_ROUNDS] =
        (const void *)((const char *)g_res + off);
    double xs[MAX_ROUNDS];
    unsigned k = 0;
    for (unsigned r = 0; r < cfg.rounds; r++)
      if (g_selected[i] && a[i][r] > 0)
        xs[k++] = a[i][r];
    if (k) {
      fprintf(f, "%s%s %.0f%%", sep, all_engines[i]->name,
              median(xs, k) * 100);
      sep = ", ";
    }
  }
}

/* The machine's own stalls (stall_probe.c), before the engines ran (0)
 * and after them (1): the floor under every maximum of the run. */
#define STALL_SPIN_S 3.0
#define STALL_FAULT_BYTES (UINT64_C(256) << 20)
static struct {
  struct stall_stats spin[2], flt[2];
  bool spin_ok[2], flt_ok[2];
} g_stall;

static void stall_describe(FILE *f, int when, const char *bullet) {
  const struct stall_stats *sp = &g_stall.spin[when], *fl = &g_stall.flt[when];
  fprintf(f, "%s%s the engines: ", bullet, when ? "after" : "before");
  if (g_stall.spin_ok[when])
    fprintf(f, "a loop that only reads the clock, %.0f s: %zu gaps over "
               "1 us, p99.9 %.1f us, max %.0f us",
            STALL_SPIN_S, sp->n, sp->p999_us, sp->max_us);
  else
    fprintf(f, "the clock loop could not run");
  if (g_stall.flt_ok[when])
    fprintf(f, "; the first write to each of %zu new pages of a shared "
               "file mapping: mean %.2f us, p50 %.2f, p99.9 %.1f, max "
               "%.0f us\n",
            fl->n, fl->mean_us, fl->p50_us, fl->p999_us, fl->max_us);
  else
    fprintf(f, "; the page fault probe could not run\n");
}

static void stall_run(int when) {
  g_stall.spin_ok[when] =
      stall_probe_spin(STALL_SPIN_S, &g_stall.spin[when]) == 0;
  g_stall.flt_ok[when] = stall_probe_faults(cfg.root, STALL_FAULT_BYTES,
                                            &g_stall.flt[when]) == 0;
  stall_describe(stdout, when, "machine stalls (bench/stall_probe.c), ");
  fflush(stdout);
}

static void write_markdown(const char *path, const struct machine *m,
                           const char *date, double load0, double load1,
                           double secs, const char *png) {
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "driver: %s: %s\n", path, strerror(errno));
    return;
  }
  const char *args = getenv("BENCH_ARGS");
  fprintf(f, "# Benchmarks: fscollections and the engines users would "
             "otherwise pick\n\n");
  fprintf(f, "<!-- Generated by bench/driver (make bench). Do not edit: "
             "run it again. -->\n\n");
  fprintf(f, "Every number below comes from one run of `bench/driver` on "
             "%s, which took %.0f s.\nAll engines ran the same workloads "
             "in that run, one after the other, each in a process of its "
             "own.\n\n", date, secs);
  fprintf(f, "## How it was produced\n\n");
  if (args) { /* run by make bench */
    fprintf(f, "- Command: `make bench");
    if (*args)
      fprintf(f, " BENCH_ARGS=\"%s\"", args);
    const char *pa = getenv("BENCH_PEER_ARGS");
    if (pa && *pa)
      fprintf(f, " BENCH_PEER_ARGS=\"%s\"", pa);
    fprintf(f, "` in a build directory, which ran (among others):\n  `");
  } else {
    fprintf(f, "- Command, in a build directory:\n  `");
  }
  fprintf(f, "bench/driver");
  for (int i = 1; i < cfg.argc; i++)
    fprintf(f, " %s", cfg.argv[i]);
  fprintf(f, "`\n");
  fprintf(f, "- Size: N = %" PRIu64 " keys of %zu bytes, %zu-byte values; "
             "%u round%s (the median is shown).\n", bench_p.n, bench_p.klen,
          bench_p.vlen, cfg.rounds, cfg.rounds == 1 ? "" : "s");
  fprintf(f, "- CPU: %s%s, %ld cores online; memory %s.\n", m->cpu,
          m->hypervisor ? " (virtual machine)" : "", m->cores, m->mem);
  fprintf(f, "- Kernel: %s.\n", m->kernel);
  fprintf(f, "- Store files in a private temporary directory under %s.\n",
          m->fs);
  fprintf(f, "- Compiler: %s, CFLAGS `%s`.\n", m->compiler, BENCH_CFLAGS);
  fprintf(f, "- Load average (1 min): %.2f at the start, %.2f at the end "
             "(the run's own processes count in it).\n", load0, load1);
  fprintf(f, "- The machine's own stalls in this run (bench/stall_probe.c: "
             "no engine involved; a maximum in the tables near these can "
             "be the machine's, not the engine's):\n");
  stall_describe(f, 0, "  - ");
  stall_describe(f, 1, "  - ");
  if (cfg.load)
    fprintf(f, "- Loaded (`-L`): %ld busy loops and a writer that writes "
               "and fsyncs 64 MiB again and again in the run's directory "
               "ran beside the whole run.\n", m->cores);
  fprintf(f, "\n### Engines\n\n| engine | version | configuration |\n"
             "|---|---|---|\n");
  for (unsigned i = 0; i < N_ALL; i++) {
    if (!g_selected[i])
      continue;
    fprintf(f, "| %s | %s | ", all_engines[i]->name,
            g_version[i][0] ? g_version[i] : "?");
    fputs_md_escaped(all_engines[i]->label, f);
    if (g_skip[i][0])
      fprintf(f, " **Skipped: %s**", g_skip[i]);
    fprintf(f, " |\n");
  }
  for (unsigned k = 0; k < sizeof known / sizeof known[0]; k++)
    if (!known[k].built)
      fprintf(f, "| %s | - | **not built**: configure did not find %s |\n",
              known[k].name, known[k].pkg);

  fprintf(f, "\n## Results\n\nTimes per operation; lower is better, except "
             "ops/s; MB = 10^6 bytes. `n/a`: the engine cannot do it (see below).\n\n");
  fprintf(f, "| workload | unit |");
  for (unsigned i = 0; i < N_ALL; i++)
    if (g_selected[i] && !g_skip[i][0])
      fprintf(f, " %s |", all_engines[i]->name);
  fprintf(f, "\n|---|---|");
  for (unsigned i = 0; i < N_ALL; i++)
    if (g_selected[i] && !g_skip[i][0])
      fprintf(f, "---:|");
  fprintf(f, "\n");
  for (int w = 0; w < W_COUNT; w++) {
    if (!row_on(w))
      continue;
    fprintf(f, "| %s | %s |", wdef[w].label, unit_label(w));
    for (unsigned i = 0; i < N_ALL; i++) {
      if (!g_selected[i] || g_skip[i][0])
        continue;
      char b[64];
      fmt_value(b, sizeof b, w, summary(i, w));
      fprintf(f, " %s |", b);
    }
    fprintf(f, "\n");
  }
  fprintf(f, "\nWhy a cell is `n/a`:\n\n");
  for (unsigned i = 0; i < N_ALL; i++) {
    if (!g_selected[i] || g_skip[i][0])
      continue;
    const char *last = NULL;
    for (int w = 0; w < W_COUNT; w++) {
      struct cell c = summary(i, w);
      if (c.st != S_NA || !row_on(w))
        continue;
      const char *why = na_reason(i, w);
      if (last && strcmp(last, why) == 0)
        continue;
      fprintf(f, "- %s: %s.\n", all_engines[i]->name, why);
      last = why;
    }
  }
  fprintf(f, "\n## fsc against each peer\n\nThe peer's cost divided by "
             "fsc's, from the same run (for ops/s: fsc's ops/s divided by "
             "the peer's). Above 1: fsc does better. Absolute times drift "
             "on a shared machine; these ratios hold much better.\n\n");
  print_ratios(f, true);
  if (png) {
    const char *base = strrchr(png, '/');
    fprintf(f, "\n![ns per operation, log scale](%s)\n", base ? base + 1 : png);
  }
  fprintf(f, "\nShare of the wall time spent on a CPU (median over the "
             "rounds), a check that nothing else took the cores: the engine's "
             "process over its put and get loops:");
  print_cpu_shares(f, offsetof(struct results, loop_cpu));
  fprintf(f, "; the lower of the reader's and the writer's in the "
             "reader/writer workload:");
  print_cpu_shares(f, offsetof(struct results, rw_cpu));
  fprintf(f, ". Near 100%%, the process had a core to itself. A Redis "
             "client waits for its server, so its share is low by "
             "design.\n");
  if (cfg.notes) {
    FILE *n = fopen(cfg.notes, "r");
    if (n) {
      char buf[4096];
      size_t k;
      fputc('\n', f);
      while ((k = fread(buf, 1, sizeof buf, n)) > 0)
        fwrite(buf, 1, k, f);
      fclose(n);
    } else {
      fprintf(stderr, "driver: %s: %s\n", cfg.notes, strerror(errno));
    }
  }
  fclose(f);
  printf("Markdown written to %s\n", path);
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: driver [-n N] [-q] [-r ROUNDS] [-k KEYLEN] [-v VALLEN] "
          "[-e ENGINES]\n"
          "              [-d DIR] [-t FILE.tsv] [-m FILE.md] [-g FILE.png] "
          "[-G plot.gp] [-N notes.md] [-p G] [-w S,S2] [-H] [-L]\n"
          "  -n N        entries per store (default %u)\n"
          "  -q          quick: N = %u\n"
          "  -r ROUNDS   run every engine ROUNDS times, interleaved; report "
          "the median (default %u)\n"
          "  -k, -v      key and value bytes (default 16 and 100; K >= 8, "
          "V >= 16)\n"
          "  -e LIST     only these engines (comma-separated names; fsc "
          "always runs)\n"
          "  -d DIR      make the private temporary directory in DIR "
          "(default $TMPDIR or /tmp)\n"
          "  -t FILE     write the results as TSV\n"
          "  -m FILE     write the Markdown report (with -N: append that "
          "file's notes)\n"
          "  -g FILE     draw the ns/op chart with gnuplot and -G SCRIPT\n"
          "  -p G        put while growing: G new keys into a new store, "
          "each put timed\n"
          "              (default %" PRIu64 "; 0: off; the first round "
          "only)\n"
          "  -w S[,S2]   reader beside a new writer for S seconds (every "
          "round) and S2\n"
          "              seconds (the first round; default 3,10; 0: off)\n"
          "  -H          the floor asks for transparent huge pages\n"
          "  -L          loaded: beside the whole run, a busy loop per core "
          "and a writer\n"
          "              that writes and fsyncs 64 MiB again and again in "
          "the run's directory\n",
          DEFAULT_N, QUICK_N, DEFAULT_ROUNDS, DEFAULT_GROW);
}

static bool engine_wanted(const char *name) {
  if (!cfg.only || strcmp(name, "fsc") == 0)
    return true;
  size_t l = strlen(name);
  for (const char *p = cfg.only; *p;) {
    size_t k = strcspn(p, ",");
    if (k == l && strncmp(p, name, l) == 0)
      return true;
    p += k;
    if (*p == ',')
      p++;
  }
  return false;
}

int main(int argc, char **argv) {
  cfg.n = DEFAULT_N;
  cfg.rounds = DEFAULT_ROUNDS;
  cfg.grow = DEFAULT_GROW;
  cfg.rw_secs[0] = 3;
  cfg.rw_secs[1] = 10;
  cfg.argc = argc;
  cfg.argv = argv;
  bench_p.klen = 16;
  bench_p.vlen = 100;
  int opt;
  while ((opt = getopt(argc, argv, "n:qr:k:v:e:d:t:m:g:G:N:p:w:HLh")) != -1) {
    char *end;
    switch (opt) {
    case 'n':
      cfg.n = strtoull(optarg, &end, 10);
      if (*end || cfg.n < 1000 || cfg.n > (UINT64_C(1) << 32)) {
        fprintf(stderr, "driver: -n: 1000 .. 2^32\n");
        return 2;
      }
      break;
    case 'q':
      cfg.n = QUICK_N;
      break;
    case 'r':
      cfg.rounds = (unsigned)strtoul(optarg, &end, 10);
      if (*end || cfg.rounds < 1 || cfg.rounds > MAX_ROUNDS) {
        fprintf(stderr, "driver: -r: 1 .. %u\n", MAX_ROUNDS);
        return 2;
      }
      break;
    case 'k':
      bench_p.klen = strtoul(optarg, &end, 10);
      if (*end || bench_p.klen < 8 || bench_p.klen > 4096) {
        fprintf(stderr, "driver: -k: 8 .. 4096\n");
        return 2;
      }
      break;
    case 'v':
      bench_p.vlen = strtoul(optarg, &end, 10);
      if (*end || bench_p.vlen < 16 || bench_p.vlen > (1u << 20)) {
        fprintf(stderr, "driver: -v: 16 .. 1048576\n");
        return 2;
      }
      break;
    case 'e':
      cfg.only = optarg;
      break;
    case 'd':
      cfg.dir_parent = optarg;
      break;
    case 't':
      cfg.tsv = optarg;
      break;
    case 'm':
      cfg.md = optarg;
      break;
    case 'g':
      cfg.png = optarg;
      break;
    case 'G':
      cfg.plot_script = optarg;
      break;
    case 'N':
      cfg.notes = optarg;
      break;
    case 'H':
      bench_p.floor_thp = true;
      break;
    case 'L':
      cfg.load = true;
      break;
    case 'p':
      cfg.grow = strtoull(optarg, &end, 10);
      if (*end || (cfg.grow && cfg.grow < 1000) ||
          cfg.grow > (UINT64_C(1) << 32)) {
        fprintf(stderr, "driver: -p: 0 (off) or 1000 .. 2^32\n");
        return 2;
      }
      break;
    case 'w': {
      unsigned a = 0, b = 0;
      int k = sscanf(optarg, "%u,%u", &a, &b);
      if (k < 1 || a > 600 || b > 600 || (k == 2 && b && !a)) {
        fprintf(stderr, "driver: -w: SECS[,SECS2], each 0 (off) .. 600\n");
        return 2;
      }
      cfg.rw_secs[0] = a;
      cfg.rw_secs[1] = k == 2 ? b : 0;
      break;
    }
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (optind != argc) {
    usage(stderr);
    return 2;
  }
  bench_p.n = cfg.n;
  set_labels();
  { /* the cost of one clock read (in every per-operation time): the
     * fastest of 20 batches, so that a descheduling does not count */
    cfg.clock_ns = INFINITY;
    for (int b = 0; b < 20; b++) {
      uint64_t t0 = now_ns();
      for (int i = 0; i < 10000; i++)
        (void)now_ns(); /* (a vDSO call: not folded away) */
      cfg.clock_ns = fmin(cfg.clock_ns, (double)(now_ns() - t0) / 1e4);
    }
  }
  bench_prog = "driver";
  bench_keys_init();

  /* The private temporary directory. */
  const char *parent = cfg.dir_parent;
  if (!parent) {
    parent = getenv("TMPDIR");
    if (!parent || !*parent)
      parent = "/tmp";
  } else if (mkdir(parent, 0700) == 0) {
    cfg.made_parent = true;
  }
  bench_path(cfg.root, sizeof cfg.root, parent, "fsc_peers_XXXXXX");
  if (!mkdtemp(cfg.root)) {
    fprintf(stderr, "driver: mkdtemp %s: %s\n", cfg.root, strerror(errno));
    return 1;
  }
  bench_p.tmpdir = cfg.root;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: waitpid returns EINTR */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  g_res = mmap(NULL, sizeof *g_res, PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (g_res == MAP_FAILED) {
    perror("driver: mmap");
    cleanup();
    return 1;
  }

  struct machine m;
  describe_machine(&m);
  time_t now = time(NULL);
  char date[64];
  strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
  double load0 = loadavg1();
  uint64_t t_start = now_ns();
  printf("fscollections against its peers: N = %" PRIu64 " keys of %zu "
         "bytes, %zu-byte values, %u round%s; files in %s\n",
         bench_p.n, bench_p.klen, bench_p.vlen, cfg.rounds,
         cfg.rounds == 1 ? "" : "s", cfg.root);
  printf("machine: %s%s, %ld cores, %s, %s; load average %.2f\n", m.cpu,
         m.hypervisor ? " (VM)" : "", m.cores, m.mem, m.kernel, load0);
  printf("temp dir: %s\n", m.fs);
  if (cfg.load) {
    printf("loaded (-L): %ld busy loops and a writer (64 MiB, fsync, "
           "again) run beside the whole run\n", m.cores);
    load_start(m.cores);
  }
  for (unsigned k = 0; k < sizeof known / sizeof known[0]; k++)
    if (!known[k].built)
      printf("skipped: %s: not built (configure did not find %s)\n",
             known[k].name, known[k].pkg);
  for (unsigned i = 0; i < N_ALL; i++)
    g_selected[i] = engine_wanted(all_engines[i]->name);
  for (const char *p = cfg.only; p && *p;) { /* names that match nothing */
    size_t k = strcspn(p, ",");
    bool hit = false;
    for (unsigned i = 0; i < N_ALL; i++)
      hit |= strlen(all_engines[i]->name) == k &&
             strncmp(all_engines[i]->name, p, k) == 0;
    if (!hit && k)
      printf("skipped: %.*s: not built here, or no such engine\n", (int)k,
             p);
    p += k + (p[k] == ',');
  }

  stall_run(0);
  for (unsigned r = 0; r < cfg.rounds; r++) {
    if (cfg.rounds > 1)
      printf("round %u of %u\n", r + 1, cfg.rounds);
    for (unsigned i = 0; i < N_ALL; i++)
      if (g_selected[i] && !g_skip[i][0]) {
        g_ran_ok[i] = false;
        run_engine(i, r);
      }
    open_phase(r);
  }
  stall_run(1);
  double secs = (double)(now_ns() - t_start) / 1e9;
  double load1 = loadavg1();
  load_stop();

  /* The summary. */
  printf("\nresults (median of %u round%s; a max: the largest of them)\n  %-62s", cfg.rounds,
         cfg.rounds == 1 ? "" : "s", "workload");
  for (unsigned i = 0; i < N_ALL; i++)
    if (g_selected[i] && !g_skip[i][0])
      printf(" %10s", all_engines[i]->name);
  printf("\n");
  for (int w = 0; w < W_COUNT; w++) {
    if (!row_on(w))
      continue;
    char lab[160];
    snprintf(lab, sizeof lab, "%s (%s)", wdef[w].label, unit_label(w));
    printf("  %-62s", lab);
    for (unsigned i = 0; i < N_ALL; i++) {
      if (!g_selected[i] || g_skip[i][0])
        continue;
      char b[64];
      fmt_value(b, sizeof b, w, summary(i, w));
      printf(" %10s", b);
    }
    printf("\n");
  }
  printf("\nratios against each peer, same run: peer cost / fsc cost "
         "(ops/s: fsc / peer); above 1: fsc does better\n");
  print_ratios(stdout, false);
  printf("  (put/get: dict, warm; grw*: put while growing; get2: cold get, "
         "a new process; oput: cold overwrite, a new writer;\n   "
         "rw*: reader and new writer at once (-99/-mx: the writer's put p99 "
         "and max); l-app/l-get: list;\n   open: new process opens + 1 get; "
         "disk: allocated bytes; rss: peak RSS)\n");
  printf("one clock read costs %.1f ns; every per-operation time (the "
         "percentiles, the cold means) includes one\n", cfg.clock_ns);
  for (unsigned i = 0; i < N_ALL; i++)
    if (g_selected[i] && g_skip[i][0])
      printf("skipped: %s: %s\n", all_engines[i]->name, g_skip[i]);
  printf("total time %.1f s; load average %.2f at the start, %.2f at the "
         "end (this run's own processes count in it)%s\n", secs, load0, load1,
         load0 > 0.5 * (double)m.cores
             ? "\nwarning: other work was running at the start: absolute "
               "times are skewed, ratios less so"
             : "");

  for (unsigned i = 0; i < N_ALL; i++) {
    double xs[MAX_ROUNDS];
    unsigned k = 0;
    for (unsigned r = 0; r < cfg.rounds; r++)
      if (g_selected[i] && g_res->loop_cpu[i][r] > 0)
        xs[k++] = g_res->loop_cpu[i][r];
    double share = k ? median(xs, k) : 1;
    if (share < 0.9 && !all_engines[i]->setup) /* (a server's client waits) */
      printf("warning: %s was on a CPU only %.0f%% of its put and get loops: "
             "other work took the cores, its times are inflated\n",
             all_engines[i]->name, share * 100);
  }
  if (cfg.tsv)
    write_tsv(cfg.tsv);
  bool chart = false;
  if (cfg.png) {
    char data[PATH_MAX];
    bench_path(data, sizeof data, cfg.root, "plot.dat");
    write_plot_data(data);
    chart = make_chart(cfg.png, data);
  }
  if (cfg.md)
    write_markdown(cfg.md, &m, date, load0, load1, secs,
                   chart ? cfg.png : NULL);
  cleanup();
  if (g_failed)
    fprintf(stderr, "driver: an engine failed (see above)\n");
  return g_failed ? 1 : 0;
}
