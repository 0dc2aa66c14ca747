/*
 * grow_pause.c - the pause a dict's growth costs the writer that grows
 * the table and a writer in another process.
 *
 * Each round fills a new dict to 1000 keys below the growth of a table of
 * -c slots (a table grows when an insert would take it past 3/4 full:
 * doc/FORMAT.md, "kused"; the table doubles from its first 1024 slots, so
 * -c is a power of two of at least 2048), forks a writer that overwrites
 * keys already present as fast as it can, timing each, then inserts -n
 * new keys (2000), timing each: the longest of them is the growth.
 * Prints, per round, the grower's longest put and its 99.9th percentile,
 * and the other writer's longest overwrite and 99.9th percentile (what
 * the growth costs a writer that did not grow it), then the median of
 * each over the rounds.  With the incremental migration (the default;
 * FSC_GROW_MIGRATE=0 in the environment for the stop-the-world growth:
 * src/struct/hash_migrate.c) the growth is spread
 * over the inserts that follow it: -n of at least a thirty-second of -c
 * sees the migration through.  Also prints how many of the grower's puts
 * took over 200 us (GP_DEBUG=1 in the environment: each one over 2 ms,
 * with its index among the inserts).  Speed is never asserted.
 *
 * Usage: grow_pause [-c SLOTS] [-r ROUNDS] [-n INSERTS] [-d DIR]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fscollections.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int put(fsc_dict *d, long i) {
  char k[32], v[100];
  int n = snprintf(k, sizeof k, "key-%012ld", i);
  memset(v, 'a' + (int)(i % 26), sizeof v - 1);
  v[sizeof v - 1] = 0;
  fsc_value x = fsc_str(v);
  return fsc_dict_set(d, k, (size_t)n, &x);
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The 99.9th percentile of the n times in t (sorted here). */
static double p999(double *t, long n) {
  qsort(t, (size_t)n, sizeof *t, cmp);
  return t[n - 1 - n / 1000];
}

int main(int argc, char **argv) {
  long cap = 2097152, ins = 2000;
  int rounds = 3, opt;
  const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  while ((opt = getopt(argc, argv, "c:r:n:d:")) != -1) {
    if (opt == 'c')
      cap = atol(optarg);
    else if (opt == 'n')
      ins = atol(optarg);
    else if (opt == 'r')
      rounds = atoi(optarg);
    else if (opt == 'd')
      dir = optarg;
    else {
      fprintf(stderr, "usage: grow_pause [-c SLOTS] [-r ROUNDS] "
                      "[-n INSERTS] [-d DIR]\n");
      return 2;
    }
  }
  if (cap < 2048 || (cap & (cap - 1)) || rounds < 1 || rounds > 100 ||
      ins < 2000 || ins > cap) {
    fprintf(stderr, "grow_pause: -c is a power of two >= 2048, -r 1..100, "
                    "-n 2000..SLOTS\n");
    return 2;
  }
  /* The other writer's times (shared: it is a child) and the grower's. */
  const long otmax = 1L << 22;
  double *ot = mmap(NULL, (size_t)otmax * sizeof *ot, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  double *gt = calloc((size_t)ins, sizeof *gt);
  double *g9 = calloc((size_t)rounds, sizeof *g9);
  double *o9 = calloc((size_t)rounds, sizeof *o9);
  if (ot == MAP_FAILED || !gt || !g9 || !o9)
    return 1;
  long fill = cap / 4 * 3 - 1000;
  double *g = calloc((size_t)rounds, sizeof *g);
  double *o = calloc((size_t)rounds, sizeof *o);
  volatile double *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (!g || !o || shared == MAP_FAILED)
    return 1;
  char base[4096];
  snprintf(base, sizeof base, "%s/grow_pause.%ld", dir, (long)getpid());
  fsc_options opts = FSC_OPTIONS_INIT;
  opts.type = FSC_TYPE_STRING;
  for (int r = 0; r < rounds; r++) {
    fsc_dict *d = NULL;
    if (fsc_dict_open(base, &opts, &d) != 0)
      return 1;
    for (long i = 0; i < fill; i++)
      if (put(d, i) != 0)
        return 1;
    shared[0] = 0;
    pid_t p = fork();
    if (p == 0) {
      fsc_dict *e = NULL;
      if (fsc_dict_open(base, &opts, &e) != 0)
        _exit(1);
      double mx = 0;
      long n = 0;
      for (; !shared[0]; n++) {
        double t0 = now_us();
        if (put(e, n % fill) != 0)
          _exit(1);
        double dt = now_us() - t0;
        if (dt > mx)
          mx = dt;
        ot[n % otmax] = dt;
      }
      shared[1] = mx;
      shared[2] = p999(ot, n < otmax ? n : otmax);
      fsc_dict_close(e);
      _exit(0);
    }
    usleep(300000); /* the writer is writing */
    double mx = 0;
    for (long i = fill; i < fill + ins; i++) {
      double t0 = now_us();
      if (put(d, i) != 0)
        return 1;
      double dt = now_us() - t0;
      if (dt > mx)
        mx = dt;
      gt[i - fill] = dt;
    }
    long slow = 0;
    for (long i = 0; i < ins; i++)
      slow += gt[i] > 200;
    if (getenv("GP_DEBUG"))
      for (long i = 0; i < ins; i++)
        if (gt[i] > 2000)
          fprintf(stderr, "put %ld took %.0f us\n", i, gt[i]);
    printf("round %d: grower's puts over 200 us: %ld of %ld\n", r + 1, slow,
           ins);
    g9[r] = p999(gt, ins);
    usleep(300000);
    shared[0] = 1;
    int st;
    if (waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st))
      return 1;
    g[r] = mx;
    o[r] = shared[1];
    o9[r] = shared[2];
    printf("round %d: growth of a %ld-slot table: grower's longest put %.0f us "
           "(p99.9 %.1f us), other writer's longest overwrite %.0f us "
           "(p99.9 %.1f us)\n",
           r + 1, cap, g[r], g9[r], o[r], o9[r]);
    if (fsc_dict_destroy(d) != 0)
      return 1;
    fsc_dict_free(d);
  }
  qsort(g, (size_t)rounds, sizeof *g, cmp);
  qsort(o, (size_t)rounds, sizeof *o, cmp);
  qsort(g9, (size_t)rounds, sizeof *g9, cmp);
  qsort(o9, (size_t)rounds, sizeof *o9, cmp);
  printf("median of %d: grower max %.0f us p99.9 %.1f us, other writer max "
         "%.0f us p99.9 %.1f us\n", rounds, g[rounds / 2], g9[rounds / 2],
         o[rounds / 2], o9[rounds / 2]);
  free(g);
  free(o);
  free(g9);
  free(o9);
  free(gt);
  munmap(ot, (size_t)otmax * sizeof *ot);
  return 0;
}
