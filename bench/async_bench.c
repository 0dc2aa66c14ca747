/* SPDX-License-Identifier: MIT */
/*
 * async_bench.c - what an event loop sees while other processes hold the
 * structure lock for long operations: the time of each loop iteration
 * (from epoll_wait's return to the next call: the loop's own work) and
 * how late each 1 ms timer tick is served, with structural changes done
 * synchronously in the loop, then through the asynchronous API.
 *
 * PROCS processes (default 4) sort a shared list of N elements (default
 * 200000) over and over, each sort holding the structure lock for its
 * whole run.  The loop, on every tick, makes one structural change
 * (insert at 0 then pop(0)): in "sync" mode by calling fsc_list_insert and
 * fsc_list_pop, in "async" mode with fsc_list_insert_async and
 * fsc_list_pop_async, completions read from fsc_loop_fd.
 *
 *   async_bench [-p PROCS] [-n N] [-s SECONDS_PER_MODE] [DIR]
 *
 * Prints, per mode: iterations, p50/p99/max iteration time and p99/max
 * tick lateness, in microseconds.  The claim it checks: with the
 * asynchronous API the loop never stalls longer than its own callbacks.
 */
#include <fscollections.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void check(const char *what, int rc) {
  if (rc < 0) {
    fprintf(stderr, "async_bench: %s: %s (%s)\n", what, fsc_strerror(rc),
            fsc_errmsg());
    exit(1);
  }
}

static int cmp64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static int64_t pct(int64_t *v, size_t n, double p) {
  if (n == 0)
    return 0;
  size_t i = (size_t)ceil(p * (double)n) - 1;
  return v[i < n ? i : n - 1];
}

static void done_cb(fsc_req *req, int rc, const fsc_async_result *res,
                    void *data) {
  (void)req, (void)res, (void)data;
  check("async change", rc);
}

static void run_mode(const char *base, bool async, int seconds) {
  fsc_list *l;
  fsc_options o = FSC_OPTIONS_INIT;
  o.lock_timeout_ms = FSC_LOCK_WAIT_FOREVER;
  check("open", fsc_list_open(base, &o, &l));
  fsc_loop *loop = NULL;
  check("loop", fsc_loop_new(NULL, &loop));
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  struct itimerspec it = {{0, 1000000}, {0, 1000000}};
  timerfd_settime(tfd, 0, &it, NULL);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = tfd};
  epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
  ev.data.fd = fsc_loop_fd(loop);
  epoll_ctl(ep, EPOLL_CTL_ADD, fsc_loop_fd(loop), &ev);

  size_t cap = (size_t)seconds * 4000 + 1000, n = 0, nlate = 0;
  int64_t *iter = malloc(cap * sizeof *iter);
  int64_t *late = malloc(cap * sizeof *late);
  int64_t end = now_us() + (int64_t)seconds * 1000000;
  int64_t next_tick = now_us() + 1000;
  fsc_value v = fsc_i64(-1);
  while (now_us() < end || (async && fsc_loop_pending(loop) > 0)) {
    struct epoll_event got[2];
    int k = epoll_wait(ep, got, 2, 100);
    int64_t t0 = now_us();
    for (int i = 0; i < k; i++) {
      if (got[i].data.fd == tfd) {
        uint64_t exp;
        if (read(tfd, &exp, sizeof exp) != sizeof exp)
          continue;
        if (nlate < cap)
          late[nlate++] = t0 - next_tick > 0 ? t0 - next_tick : 0;
        next_tick = t0 + 1000;
        if (t0 >= end)
          continue;
        if (async) {
          if (fsc_loop_pending(loop) < 64) {
            check("insert", fsc_list_insert_async(loop, l, 0, &v, done_cb,
                                                  NULL, NULL));
            check("pop", fsc_list_pop_async(loop, l, 0, done_cb, NULL,
                                            NULL));
          }
        } else {
          check("insert", fsc_list_insert(l, 0, &v));
          check("pop", fsc_list_pop(l, 0, NULL));
        }
      } else {
        check("run", fsc_loop_run(loop));
      }
    }
    if (n < cap)
      iter[n++] = now_us() - t0;
  }
  qsort(iter, n, sizeof *iter, cmp64);
  qsort(late, nlate, sizeof *late, cmp64);
  printf("%-5s  iterations %6zu  iteration us p50 %6lld p99 %8lld max %8lld"
         "  tick lateness us p99 %8lld max %8lld\n",
         async ? "async" : "sync", n, (long long)pct(iter, n, 0.5),
         (long long)pct(iter, n, 0.99), (long long)(n ? iter[n - 1] : 0),
         (long long)pct(late, nlate, 0.99),
         (long long)(nlate ? late[nlate - 1] : 0));
  free(iter);
  free(late);
  fsc_loop_free(loop);
  close(tfd);
  close(ep);
  fsc_list_free(l);
}

int main(int argc, char **argv) {
  int procs = 4, seconds = 3, opt;
  long nelem = 200000;
  while ((opt = getopt(argc, argv, "p:n:s:")) != -1) {
    if (opt == 'p')
      procs = atoi(optarg);
    else if (opt == 'n')
      nelem = atol(optarg);
    else if (opt == 's')
      seconds = atoi(optarg);
    else {
      fprintf(stderr, "usage: async_bench [-p PROCS] [-n N] [-s SECONDS] "
              "[DIR]\n");
      return 2;
    }
  }
  char tmp[] = "/tmp/fsc-async-bench-XXXXXX";
  const char *dir = optind < argc ? argv[optind] : mkdtemp(tmp);
  if (!dir) {
    perror("mkdtemp");
    return 1;
  }
  char base[4096];
  snprintf(base, sizeof base, "%s/async_bench", dir);
  fsc_list *l;
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  check("create", fsc_list_open(base, &o, &l));
  for (long i = 0; i < nelem; i++)
    check("append", fsc_list_append_i64(l, (i * 7919) % nelem));
  fsc_list_free(l);

  pid_t *kids = calloc((size_t)procs, sizeof *kids);
  for (int p = 0; p < procs; p++) {
    kids[p] = fork();
    if (kids[p] == 0) {
      fsc_list *cl;
      fsc_options co = FSC_OPTIONS_INIT;
      co.lock_timeout_ms = FSC_LOCK_WAIT_FOREVER;
      check("child open", fsc_list_open(base, &co, &cl));
      for (bool rev = false;; rev = !rev)
        check("sort", fsc_list_sort(cl, rev)); /* killed by the parent */
    }
  }
  printf("%d processes sorting a list of %ld elements (each sort holds the "
         "structure lock), %d s per mode\n", procs, nelem, seconds);
  run_mode(base, false, seconds);
  run_mode(base, true, seconds);
  for (int p = 0; p < procs; p++)
    kill(kids[p], SIGKILL);
  for (int p = 0; p < procs; p++)
    waitpid(kids[p], NULL, 0);
  free(kids);
  check("open", fsc_list_open(base, NULL, &l));
  fsc_list_destroy(l);
  fsc_list_free(l);
  if (optind >= argc)
    rmdir(dir);
  return 0;
}
