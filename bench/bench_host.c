/*
 * bench_host.c - what a program that hosts the engine adapters
 * (bench/engine.h) gives them: bench_die and bench_path.  Shared by
 * bench/driver.c and bench/big_bench.c, which name themselves and the
 * engine they are running in bench_prog and bench_running.
 */
#include "engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

const char *bench_prog = "bench";
const struct engine *bench_running;

void bench_die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: %s: ", bench_prog,
          bench_running ? bench_running->name : "error");
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  fflush(NULL);
  _exit(3);
}

void bench_path(char *buf, size_t cap, const char *dir, const char *name) {
  int w = snprintf(buf, cap, "%s/%s", dir, name);
  if (w < 0 || (size_t)w >= cap)
    bench_die("path too long: %s/%s", dir, name);
}
