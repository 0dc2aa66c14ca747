/*
 * pop_bench.c - emptying a dict by popitem (the newest key each time),
 * fscollections against LMDB in the same run.
 *
 *   pop_bench [-n N] [-d DIR]
 *
 * Each engine gets N keys of 16 bytes ("p" and 15 digits, in increasing
 * order, so that the newest key is also LMDB's last) with 8-byte values,
 * written and closed by this process; then a new process (fork) opens the
 * store and pops every key, each pop timed on its own, from the first
 * (fsc's first pop walks the data file: no untimed warm-up).  LMDB's pop
 * is one write transaction: a cursor to the last key, read, delete,
 * commit (MDB_NOSYNC | MDB_NOMETASYNC, as fsc's FSC_DURABLE_NONE does no
 * sync either).  Printed: ns per pop (mean, p50, p99, p99.9, max), the
 * first pop alone, and fsc's mean over LMDB's.  Nothing is asserted.
 *
 * fscollections before the walk cache (src/struct/hash_newest.c) walked
 * every record written since the last compaction on each pop: emptying N
 * keys took O(N^2).
 */
#include "bench_util.h"

#include <fscollections.h>
#include <lmdb.h>

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what, const char *msg) {
  fprintf(stderr, "pop_bench: %s: %s\n", what, msg);
  exit(1);
}

static void key_of(uint64_t i, char k[16]) {
  char b[32];
  snprintf(b, sizeof b, "p%015" PRIu64, i);
  memcpy(k, b, 16);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

struct result {
  double mean, first;
  uint64_t p50, p99, p999, max;
};

static void summarize(uint64_t *ns, uint64_t n, struct result *r) {
  double sum = 0;
  for (uint64_t i = 0; i < n; i++)
    sum += (double)ns[i];
  r->mean = sum / (double)n;
  r->first = (double)ns[0];
  qsort(ns, n, sizeof *ns, cmp_u64);
  r->p50 = ns[n / 2];
  r->p99 = ns[n * 99 / 100];
  r->p999 = ns[n * 999 / 1000];
  r->max = ns[n - 1];
}

/* ---- fscollections ---- */

static fsc_options fsc_opts(void) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.durability = FSC_DURABLE_NONE;
  o.type = FSC_TYPE_INT64;
  return o;
}

static void fsc_fill(const char *base, uint64_t n) {
  fsc_options o = fsc_opts();
  fsc_dict *d;
  if (fsc_dict_open(base, &o, &d) != 0)
    die("fsc_dict_open", fsc_errmsg());
  char k[16];
  for (uint64_t i = 0; i < n; i++) {
    key_of(i, k);
    fsc_value v = fsc_i64((int64_t)i);
    if (fsc_dict_set(d, k, 16, &v) != 0)
      die("fsc_dict_set", fsc_errmsg());
  }
  if (fsc_dict_close(d) != 0)
    die("fsc_dict_close", fsc_errmsg());
  fsc_dict_free(d);
}

static void fsc_drain(const char *base, uint64_t n, uint64_t *ns) {
  fsc_options o = fsc_opts();
  fsc_dict *d;
  if (fsc_dict_open(base, &o, &d) != 0)
    die("fsc_dict_open", fsc_errmsg());
  for (uint64_t i = 0; i < n; i++) {
    fsc_value k, v;
    uint64_t t0 = now_ns();
    int rc = fsc_dict_popitem(d, &k, &v);
    ns[i] = now_ns() - t0;
    if (rc != 0 || v.u.i64 != (int64_t)(n - 1 - i))
      die("fsc_dict_popitem", rc ? fsc_errmsg() : "not the newest key");
  }
  if (fsc_dict_destroy(d) != 0)
    die("fsc_dict_destroy", fsc_errmsg());
  fsc_dict_free(d);
}

/* ---- LMDB ---- */

static void mdb_chk(int rc, const char *what) {
  if (rc != 0)
    die(what, mdb_strerror(rc));
}

static MDB_env *lmdb_open(const char *dir, MDB_dbi *dbi) {
  MDB_env *env;
  mdb_chk(mdb_env_create(&env), "mdb_env_create");
  mdb_chk(mdb_env_set_mapsize(env, UINT64_C(1) << 34), "mdb_env_set_mapsize");
  mdb_chk(mdb_env_open(env, dir, MDB_NOSYNC | MDB_NOMETASYNC, 0600),
          "mdb_env_open");
  MDB_txn *t;
  mdb_chk(mdb_txn_begin(env, NULL, 0, &t), "mdb_txn_begin");
  mdb_chk(mdb_dbi_open(t, NULL, 0, dbi), "mdb_dbi_open");
  mdb_chk(mdb_txn_commit(t), "mdb_txn_commit");
  return env;
}

static void lmdb_fill(const char *dir, uint64_t n) {
  MDB_dbi dbi;
  MDB_env *env = lmdb_open(dir, &dbi);
  char k[16];
  MDB_txn *t = NULL;
  for (uint64_t i = 0; i < n; i++) {
    if (!t)
      mdb_chk(mdb_txn_begin(env, NULL, 0, &t), "mdb_txn_begin");
    key_of(i, k);
    int64_t x = (int64_t)i;
    MDB_val kv = {16, k}, vv = {8, &x};
    mdb_chk(mdb_put(t, dbi, &kv, &vv, MDB_APPEND), "mdb_put");
    if (i % 10000 == 9999 || i == n - 1) {
      mdb_chk(mdb_txn_commit(t), "mdb_txn_commit");
      t = NULL;
    }
  }
  mdb_env_close(env);
}

static void lmdb_drain(const char *dir, uint64_t n, uint64_t *ns) {
  MDB_dbi dbi;
  MDB_env *env = lmdb_open(dir, &dbi);
  for (uint64_t i = 0; i < n; i++) {
    uint64_t t0 = now_ns();
    MDB_txn *t;
    MDB_cursor *c;
    MDB_val kv, vv;
    mdb_chk(mdb_txn_begin(env, NULL, 0, &t), "mdb_txn_begin");
    mdb_chk(mdb_cursor_open(t, dbi, &c), "mdb_cursor_open");
    mdb_chk(mdb_cursor_get(c, &kv, &vv, MDB_LAST), "mdb_cursor_get");
    int64_t x;
    memcpy(&x, vv.mv_data, 8);
    mdb_chk(mdb_cursor_del(c, 0), "mdb_cursor_del");
    mdb_cursor_close(c);
    mdb_chk(mdb_txn_commit(t), "mdb_txn_commit");
    ns[i] = now_ns() - t0;
    if (x != (int64_t)(n - 1 - i))
      die("lmdb pop", "not the last key");
  }
  mdb_env_close(env);
}

/* ---- driver ---- */

/* Run drain in a new process; its latencies come back through a pipe. */
static void in_child(void (*drain)(const char *, uint64_t, uint64_t *),
                     const char *where, uint64_t n, uint64_t *ns) {
  int p[2];
  if (pipe(p) != 0)
    die("pipe", "failed");
  pid_t pid = fork();
  if (pid < 0)
    die("fork", "failed");
  if (pid == 0) {
    close(p[0]);
    uint64_t *mine = malloc(n * sizeof *mine);
    if (!mine)
      _exit(1);
    drain(where, n, mine);
    const char *b = (const char *)mine;
    size_t left = n * sizeof *mine;
    while (left > 0) {
      ssize_t w = write(p[1], b, left);
      if (w <= 0)
        _exit(1);
      b += w;
      left -= (size_t)w;
    }
    _exit(0);
  }
  close(p[1]);
  char *b = (char *)ns;
  size_t left = n * sizeof *ns;
  while (left > 0) {
    ssize_t r = read(p[0], b, left);
    if (r <= 0)
      die("the child's results", "short");
    b += r;
    left -= (size_t)r;
  }
  close(p[0]);
  int st;
  if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
    die("the child", "failed");
}

static void row(const char *name, const struct result *r) {
  printf("| %s | %.0f | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %" PRIu64
         " | %.0f |\n",
         name, r->mean, r->p50, r->p99, r->p999, r->max, r->first);
}

int main(int argc, char **argv) {
  uint64_t n = 1000000;
  const char *dir = getenv("TMPDIR");
  if (!dir || !*dir)
    dir = "/tmp";
  int opt;
  while ((opt = getopt(argc, argv, "n:d:")) != -1) {
    if (opt == 'n')
      n = strtoull(optarg, NULL, 10);
    else if (opt == 'd')
      dir = optarg;
    else {
      fprintf(stderr, "usage: pop_bench [-n N] [-d DIR]\n");
      return 2;
    }
  }
  if (n < 1000)
    n = 1000;
  char top[PATH_MAX - 64], base[PATH_MAX], ldir[PATH_MAX];
  snprintf(top, sizeof top, "%s/pop_bench-XXXXXX", dir);
  if (!mkdtemp(top))
    die("mkdtemp", top);
  snprintf(base, sizeof base, "%s/fsc", top);
  snprintf(ldir, sizeof ldir, "%s/lmdb", top);
  if (mkdir(ldir, 0700) != 0)
    die("mkdir", ldir);
  uint64_t *ns = malloc(n * sizeof *ns);
  if (!ns)
    die("malloc", "out of memory");
  struct result rf, rl;
  fsc_fill(base, n);
  in_child(fsc_drain, base, n, ns);
  summarize(ns, n, &rf);
  lmdb_fill(ldir, n);
  in_child(lmdb_drain, ldir, n, ns);
  summarize(ns, n, &rl);
  char p[PATH_MAX + 16];
  snprintf(p, sizeof p, "%s/data.mdb", ldir);
  unlink(p);
  snprintf(p, sizeof p, "%s/lock.mdb", ldir);
  unlink(p);
  rmdir(ldir);
  rmdir(top);
  free(ns);
  printf("## popitem until empty: %" PRIu64 " keys, a new process\n\n", n);
  printf("| engine | mean ns | p50 | p99 | p99.9 | max | first pop |\n");
  printf("|---|---:|---:|---:|---:|---:|---:|\n");
  row("fsc", &rf);
  row("lmdb", &rl);
  printf("\nfsc mean / lmdb mean: %.2fx\n", rf.mean / rl.mean);
  return 0;
}
