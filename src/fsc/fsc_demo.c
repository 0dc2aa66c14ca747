/* SPDX-License-Identifier: MIT */
/*
 * fsc_demo.c - owns `fsc demo`, the project's main job in one command:
 * worker processes share, by path, three collections in one directory
 *
 *   DIR/jobs      a list used as a job queue: producers append (lock-free),
 *                 consumers fsc_list_pop_wait(0) (sleeping on the list's
 *                 change event count while it is empty: no polling);
 *   DIR/counters  a dict of int64 counters every worker bumps with
 *                 fsc_dict_incr (in place: one atomic add, no increment
 *                 lost, no growth);
 *   DIR/done      a set of finished job ids: a job done twice shows here;
 *
 * and the parent then verifies that every job was done exactly once and
 * that the counters add up exactly.
 */
#include "fsc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_WORKERS 64
#define QUEUE_MAX 1000
#define LAT_SAMPLES 100000 /* jobs whose hand-off latency is measured */

struct demo {
  const char *dir;
  char jobs_path[4096], counters_path[4096], done_path[4096];
  int workers, producers, consumers;
  int64_t njobs;
  int64_t lat_stride;      /* every lat_stride-th job is timed */
  double *lat_appended;    /* shared (MAP_SHARED before fork): when a timed
                              job was appended, then how long until it was
                              popped, in seconds */
};

/* The timed job's slot, or NULL. */
static double *lat_slot(const struct demo *d, int64_t id) {
  if (!d->lat_appended || id % d->lat_stride != 0 ||
      id / d->lat_stride >= LAT_SAMPLES)
    return NULL;
  return &d->lat_appended[id / d->lat_stride];
}

/* One line in one write(2), so that workers' lines do not interleave. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > (int)sizeof buf - 1)
    n = (int)sizeof buf - 1;
  ssize_t w = write(STDOUT_FILENO, buf, (size_t)n);
  (void)w;
}

static void die(const char *what, int rc) {
  cli_msg("demo: %s: %s: %s", what, fsc_strerror(rc), fsc_errmsg());
  _exit(CLI_IO);
}

struct handles {
  fsc_list *jobs;
  fsc_dict *counters;
  fsc_set *done;
};

static int open_all(const struct demo *d, struct handles *h) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  int rc;
  if ((rc = fsc_list_open(d->jobs_path, &o, &h->jobs)) != 0)
    return cli_fail(d->jobs_path, rc);
  if ((rc = fsc_dict_open(d->counters_path, &o, &h->counters)) != 0)
    return cli_fail(d->counters_path, rc);
  if ((rc = fsc_set_open(d->done_path, &o, &h->done)) != 0)
    return cli_fail(d->done_path, rc);
  return CLI_OK;
}

static void close_all(struct handles *h) {
  fsc_list_free(h->jobs);
  fsc_dict_free(h->counters);
  fsc_set_free(h->done);
}

static void incr(fsc_dict *c, const char *key, int64_t delta) {
  int rc = fsc_dict_incr(c, key, strlen(key), delta, NULL);
  if (rc)
    die("incr", rc);
}

static int64_t counter(fsc_dict *c, const char *key) {
  int64_t v = 0;
  int rc = fsc_dict_get_i64(c, key, &v);
  return rc == 0 ? v : 0;
}

/* A bounded queue: a producer waits while the queue holds QUEUE_MAX jobs
 * (pop(0) shifts the list, so its cost grows with the length, as for a
 * Python list), sleeping until the list changes (no polling).  A queue
 * that stops draining for 30 s means the consumers are gone. */
static void wait_for_room(fsc_list *jobs) {
  uint64_t n = 0, epoch = FSC_EPOCH_NONE;
  double since = cli_now();
  for (;;) {
    int rc = fsc_list_wait_change(jobs, epoch, 1000, &epoch);
    if (rc && rc != FSC_ETIMEDOUT)
      die("wait_change", rc);
    if (fsc_list_len(jobs, &n) != 0 || n < QUEUE_MAX)
      return;
    if (rc == 0) {
      since = cli_now();
    } else if (cli_now() - since > 30) {
      cli_msg("demo: the queue has not drained for 30 s");
      _exit(CLI_FAIL);
    }
  }
}

static void producer(const struct demo *d, struct handles *h, int w, int p) {
  int64_t lo = d->njobs * p / d->producers;
  int64_t hi = d->njobs * (p + 1) / d->producers;
  char key[64];
  snprintf(key, sizeof key, "worker.%d.produced", w);
  for (int64_t id = lo; id < hi; id++) {
    uint64_t n = 0;
    if (d->workers > 1 && fsc_list_len(h->jobs, &n) == 0 && n >= QUEUE_MAX)
      wait_for_room(h->jobs);
    double *t = lat_slot(d, id);
    if (t)
      *t = cli_now();
    int rc = fsc_list_append_i64(h->jobs, id); /* lock-free */
    if (rc)
      die("append", rc);
    incr(h->counters, "jobs.produced", 1);
    incr(h->counters, "sum.produced", id);
    incr(h->counters, key, 1);
  }
  incr(h->counters, "producers.finished", 1);
  say("worker %d (producer): appended jobs %lld..%lld (%lld jobs)\n", w,
      (long long)lo, (long long)hi - 1, (long long)(hi - lo));
}

static void consumer(const struct demo *d, struct handles *h, int w) {
  char key[64];
  snprintf(key, sizeof key, "worker.%d.done", w);
  int64_t took = 0, dups = 0, first = -1, last = -1;
  for (;;) {
    fsc_value v;
    /* The oldest job; sleeps while the queue is empty. */
    int rc = fsc_list_pop_wait(h->jobs, 0, 200, &v);
    if (rc == FSC_ETIMEDOUT) {
      /* Empty: done once every producer has finished and the queue is
       * still empty after that (their last appends came before). */
      if (counter(h->counters, "producers.finished") == d->producers) {
        uint64_t n = 1;
        fsc_list_len(h->jobs, &n);
        if (n == 0)
          break;
      }
      continue;
    }
    if (rc)
      die("pop_wait", rc);
    int64_t id = v.u.i64;
    double *t = lat_slot(d, id);
    if (t)
      *t = cli_now() - *t; /* from "appended at" to "waited" */
    rc = fsc_set_add(h->done, &(fsc_value){.type = FSC_TYPE_INT64,
                                          .u.i64 = id});
    if (rc < 0)
      die("add", rc);
    if (rc == 0) { /* already there: done twice */
      dups++;
      incr(h->counters, "jobs.done_twice", 1);
    }
    incr(h->counters, "jobs.done", 1);
    incr(h->counters, "sum.done", id);
    incr(h->counters, key, 1);
    if (first < 0)
      first = id;
    last = id;
    took++;
  }
  say("worker %d (consumer): took %lld jobs from the queue (first %lld, "
      "last %lld)%s\n", w, (long long)took, (long long)first,
      (long long)last, dups ? " DUPLICATES" : "");
}

static int worker(const struct demo *d, int w, int fd_go) {
  struct handles h;
  if (open_all(d, &h)) /* by path, as an unrelated process would */
    return CLI_IO;
  char go;
  if (read(fd_go, &go, 1) < 0) /* EOF: everyone has started */
    return CLI_IO;
  if (d->workers == 1) {
    producer(d, &h, w, 0);
    consumer(d, &h, w);
  } else if (w < d->producers) {
    producer(d, &h, w, w);
  } else {
    consumer(d, &h, w);
  }
  close_all(&h);
  return CLI_OK;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int verify(const struct demo *d, struct handles *h, int failed,
                  double secs) {
  int64_t n = d->njobs;
  uint64_t left = 0, ndone = 0;
  fsc_list_len(h->jobs, &left);
  fsc_set_len(h->done, &ndone);
  int64_t missing = 0;
  for (int64_t id = 0; id < n; id++)
    if (fsc_set_contains_i64(h->done, id) != 1)
      missing++;

  say("\ncounters (%s, in insertion order):\n", d->counters_path);
  int64_t by_workers_done = 0, by_workers_produced = 0;
  fsc_dict_iter it;
  fsc_value k, v;
  fsc_dict_iter_init(h->counters, &it);
  while (fsc_dict_iter_next(&it, &k, &v) == 1) {
    say("  %-22.*s %lld\n", (int)k.u.buf.len, (const char *)k.u.buf.ptr,
        (long long)v.u.i64);
    size_t kl = k.u.buf.len;
    const char *ks = k.u.buf.ptr;
    if (kl > 7 && memcmp(ks, "worker.", 7) == 0) {
      if (memcmp(ks + kl - 5, ".done", 5) == 0)
        by_workers_done += v.u.i64;
      else if (kl > 9 && memcmp(ks + kl - 9, ".produced", 9) == 0)
        by_workers_produced += v.u.i64;
    }
  }
  int64_t produced = counter(h->counters, "jobs.produced");
  int64_t done = counter(h->counters, "jobs.done");
  int64_t twice = counter(h->counters, "jobs.done_twice");
  int64_t sum_p = counter(h->counters, "sum.produced");
  int64_t sum_d = counter(h->counters, "sum.done");
  int64_t want_sum = n * (n - 1) / 2;

  bool jobs_ok = !failed && left == 0 && (int64_t)ndone == n &&
                 missing == 0 && twice == 0;
  bool sums_ok = produced == n && done == n && by_workers_done == n &&
                 by_workers_produced == n && sum_p == want_sum &&
                 sum_d == want_sum;
  say("\nverified:\n");
  say("  jobs:     %lld queued, %llu done (the set), %lld missing, %lld done "
      "twice, %llu left in the queue, %d workers failed\n", (long long)n,
      (unsigned long long)ndone, (long long)missing, (long long)twice,
      (unsigned long long)left, failed);
  say("  counters: jobs.produced %lld, jobs.done %lld, sum of worker.*.done "
      "%lld, sum of worker.*.produced %lld (want %lld each)\n",
      (long long)produced, (long long)done, (long long)by_workers_done,
      (long long)by_workers_produced, (long long)n);
  say("  sums:     sum.produced %lld, sum.done %lld (want 0+1+...+%lld = "
      "%lld)\n", (long long)sum_p, (long long)sum_d, (long long)(n - 1),
      (long long)want_sum);
  say("  time:     %.2f s (%.0f jobs/s, %.0f counter increments/s)\n", secs,
      secs > 0 ? (double)n / secs : 0,
      secs > 0 ? (double)(6 * n) / secs : 0);
  if (d->lat_appended) {
    int64_t m = d->njobs / d->lat_stride;
    if (m > LAT_SAMPLES)
      m = LAT_SAMPLES;
    qsort(d->lat_appended, (size_t)m, sizeof(double), cmp_double);
    if (m > 0)
      say("  hand-off: append to pop_wait return, %lld jobs timed: p50 %.1f "
          "us, p99 %.1f us, max %.1f us\n", (long long)m,
          d->lat_appended[m / 2] * 1e6,
          d->lat_appended[(m - 1) * 99 / 100] * 1e6,
          d->lat_appended[m - 1] * 1e6);
  }
  fsc_metrics cm = {.size = sizeof cm};
  if (fsc_dict_metrics(h->counters, &cm) == 0)
    say("  counters: %llu keys in a %llu-byte data file, %llu dead bytes "
        "(increments are in place)\n", (unsigned long long)cm.length,
        (unsigned long long)cm.data_file_bytes,
        (unsigned long long)cm.dead_bytes);
  say("look inside: fsc stat %s; fsc dump %s\n", d->counters_path,
      d->counters_path);
  if (jobs_ok && sums_ok) {
    say("OK: every job was done exactly once and the counters add up "
        "exactly\n");
    return CLI_OK;
  }
  say("FAILED: %s\n", !jobs_ok ? "jobs were lost, left or done twice"
                               : "the counters do not add up");
  return CLI_FAIL;
}

int cli_cmd_demo(const struct cli_opts *o, int argc, char **argv) {
  struct demo d;
  memset(&d, 0, sizeof d);
  d.workers = o->workers > 0 ? (int)o->workers : 4;
  d.njobs = o->jobs >= 0 ? o->jobs : 100000;
  if (o->workers > MAX_WORKERS || o->workers == 0 || o->jobs > 100000000) {
    cli_msg("demo: 1..%d workers and 0..100000000 jobs", MAX_WORKERS);
    return CLI_USAGE;
  }
  char tmpl[4096];
  if (argc > 0) {
    d.dir = argv[0];
    if (mkdir(d.dir, 0700) != 0 && errno != EEXIST) {
      cli_msg("demo: %s: %s", d.dir, strerror(errno));
      return CLI_IO;
    }
  } else {
    const char *tmp = getenv("TMPDIR");
    snprintf(tmpl, sizeof tmpl, "%s/fsc-demo-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!(d.dir = mkdtemp(tmpl))) {
      cli_msg("demo: mkdtemp %s: %s", tmpl, strerror(errno));
      return CLI_IO;
    }
  }
  snprintf(d.jobs_path, sizeof d.jobs_path, "%.4000s/jobs", d.dir);
  snprintf(d.counters_path, sizeof d.counters_path, "%.4000s/counters",
           d.dir);
  snprintf(d.done_path, sizeof d.done_path, "%.4000s/done", d.dir);
  d.producers = d.workers == 1 ? 1 : d.workers / 2;
  d.consumers = d.workers == 1 ? 1 : d.workers - d.producers;

  struct handles h;
  int ex = open_all(&d, &h);
  if (ex)
    return ex;
  int rc;
  if ((rc = fsc_list_clear(h.jobs)) != 0 ||
      (rc = fsc_dict_clear(h.counters)) != 0 ||
      (rc = fsc_set_clear(h.done)) != 0) {
    close_all(&h);
    return cli_fail(d.dir, rc);
  }
  say("fscollections %s demo: %d worker processes (%d producing, %d "
      "consuming) share, by path, in %s:\n", fsc_version(), d.workers,
      d.workers == 1 ? 1 : d.producers, d.workers == 1 ? 1 : d.consumers,
      d.dir);
  say("  jobs      a list used as a queue: producers append (lock-free) "
      "while it holds\n            fewer than %d jobs, consumers "
      "pop_wait(0) (no polling)\n",
      QUEUE_MAX);
  say("  counters  a dict of int64 counters: every worker calls "
      "fsc_dict_incr (in place)\n");
  say("  done      a set of the job ids done: a job done twice would show "
      "here\n");
  say("%lld jobs in all.\n\n", (long long)d.njobs);

  d.lat_stride = d.njobs / LAT_SAMPLES + 1;
  void *lat = mmap(NULL, LAT_SAMPLES * sizeof(double), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  d.lat_appended = lat == MAP_FAILED ? NULL : lat;
  int go[2];
  if (pipe(go) != 0) {
    cli_msg("demo: pipe: %s", strerror(errno));
    close_all(&h);
    return CLI_IO;
  }
  fflush(NULL);
  pid_t pids[MAX_WORKERS];
  int started = 0;
  for (int w = 0; w < d.workers; w++) {
    pids[w] = fork();
    if (pids[w] < 0) {
      cli_msg("demo: fork: %s", strerror(errno));
      break;
    }
    if (pids[w] == 0) {
      close(go[1]);
      _exit(worker(&d, w, go[0]));
    }
    started++;
  }
  close(go[0]);
  double t0 = cli_now();
  close(go[1]); /* go */
  int failed = d.workers - started;
  for (int w = 0; w < started; w++) {
    int st;
    while (waitpid(pids[w], &st, 0) < 0 && errno == EINTR)
      ;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
      failed++;
  }
  double secs = cli_now() - t0;
  ex = verify(&d, &h, failed, secs);
  close_all(&h);
  if (d.lat_appended)
    munmap(d.lat_appended, LAT_SAMPLES * sizeof(double));
  return ex;
}
