/*
 * open_bench.c - the driver's "open + 1st get, new process" case alone:
 * fscollections against LMDB, many samples, interleaved.
 *
 *   open_bench make DIR [N]      fill DIR/fsc and DIR/lmdb with N keys
 *                                (default 1000000; 16-byte keys, 100-byte
 *                                values, as bench/driver.c), then close
 *   open_bench run DIR [REPS]    REPS rounds (default 201); each round
 *                                forks one new process per engine (the
 *                                order alternating), which opens its store
 *                                read-only by path and gets one key, timed
 *                                from before the open to after the get (as
 *                                the driver's open phase); then p50, p99
 *                                and max per engine, and the children's
 *                                mean minor page faults
 *   open_bench once ENGINE DIR   one open + get in this process (for
 *                                strace, perf and LD_DEBUG); prints the ns
 *
 * The forks share the parent's loaded libraries, so dynamic loading is
 * not in "run" (as in the driver); "once" run as a new program has it.
 * Nothing here is asserted: numbers from a shared machine are noisy.
 */
#include "bench_util.h"
#include "engine.h"
#include "bench_keys.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct bench_params bench_p;
extern const struct engine eng_fsc, eng_lmdb;
static const struct engine *const engines[] = {&eng_fsc, &eng_lmdb};
#define N_ENG 2

static const struct engine *find(const char *name) {
  for (int i = 0; i < N_ENG; i++)
    if (strcmp(engines[i]->name, name) == 0)
      return engines[i];
  bench_die("unknown engine %s (fsc or lmdb)", name);
  return NULL;
}

static void store_dir(char *buf, size_t cap, const char *dir,
                      const struct engine *e) {
  bench_path(buf, cap, dir, e->name);
}

static void make(const char *dir, uint64_t n) {
  char k[16], v[100], d[PATH_MAX];
  memset(v, 'v', sizeof v);
  if (mkdir(dir, 0700) != 0)
    bench_die("mkdir %s: exists, or cannot be made", dir);
  for (int e = 0; e < N_ENG; e++) {
    store_dir(d, sizeof d, dir, engines[e]);
    if (mkdir(d, 0700) != 0)
      bench_die("mkdir %s", d);
    void *h = engines[e]->open(d, BK_DICT, BM_CREATE);
    for (uint64_t i = 0; i < n; i++) {
      make_key(i, k);
      memcpy(v, &i, sizeof i);
      engines[e]->put(h, k, sizeof k, v, sizeof v);
    }
    if (engines[e]->flush)
      engines[e]->flush(h);
    engines[e]->close(h);
  }
}

/* Open + get key 0, timed; ns.  The key is in the heap, as the driver's
 * (whose child allocates it before the clock starts): the first malloc of
 * a new process is not the engine's. */
static uint64_t once(const struct engine *e, const char *dir) {
  char *k = malloc(16), d[PATH_MAX];
  if (!k)
    bench_die("out of memory");
  store_dir(d, sizeof d, dir, e);
  make_key(0, k);
  const void *v;
  size_t vl;
  uint64_t t0 = now_ns();
  void *h = e->open(d, BK_DICT, BM_READ);
  if (!e->get(h, k, 16, &v, &vl))
    bench_die("%s: key 0 is missing", e->name);
  uint64_t t = now_ns() - t0;
  e->close(h);
  free(k);
  return t;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void run(const char *dir, unsigned reps) {
  uint64_t *ns = mmap(NULL, sizeof(uint64_t) * N_ENG * reps * 2,
                      PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
                      0);
  if (ns == MAP_FAILED)
    bench_die("mmap");
  uint64_t *flt = ns + N_ENG * reps;
  for (unsigned r = 0; r < reps; r++) {
    for (int j = 0; j < N_ENG; j++) {
      int e = (int)((r + (unsigned)j) % N_ENG); /* alternate who goes first */
      fflush(NULL);
      pid_t pid = fork();
      if (pid < 0)
        bench_die("fork");
      if (pid == 0) {
        struct rusage a, b;
        getrusage(RUSAGE_SELF, &a);
        ns[e * reps + r] = once(engines[e], dir);
        getrusage(RUSAGE_SELF, &b);
        flt[e * reps + r] = (uint64_t)(b.ru_minflt - a.ru_minflt);
        _exit(0);
      }
      int st;
      if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
          WEXITSTATUS(st) != 0)
        bench_die("%s: the child failed", engines[e]->name);
    }
  }
  printf("open + 1st get, new process (fork), %u samples per engine, "
         "interleaved:\n", reps);
  for (int e = 0; e < N_ENG; e++) {
    uint64_t *x = ns + e * reps, fsum = 0;
    qsort(x, reps, sizeof *x, cmp_u64);
    for (unsigned r = 0; r < reps; r++)
      fsum += flt[e * reps + r];
    printf("  %-5s p50 %7.1f us  p99 %7.1f us  max %7.1f us  "
           "minor faults %.1f\n", engines[e]->name, x[reps / 2] / 1e3,
           x[reps * 99 / 100] / 1e3, x[reps - 1] / 1e3,
           (double)fsum / reps);
  }
}

int main(int argc, char **argv) {
  bench_prog = "open_bench";
  bench_keys_init();
  bench_p.klen = 16;
  bench_p.vlen = 100;
  bench_p.n = 1000000;
  if (argc >= 3 && strcmp(argv[1], "make") == 0) {
    if (argc > 3)
      bench_p.n = strtoull(argv[3], NULL, 10);
    make(argv[2], bench_p.n);
  } else if (argc >= 3 && strcmp(argv[1], "run") == 0) {
    unsigned reps = argc > 3 ? (unsigned)strtoul(argv[3], NULL, 10) : 201;
    if (reps < 1)
      reps = 1;
    run(argv[2], reps);
  } else if (argc == 4 && strcmp(argv[1], "once") == 0) {
    printf("%llu ns\n", (unsigned long long)once(find(argv[2]), argv[3]));
  } else {
    fprintf(stderr, "usage: open_bench make DIR [N] | run DIR [REPS] | "
                    "once ENGINE DIR\n");
    return 2;
  }
  return 0;
}
