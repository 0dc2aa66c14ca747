/* SPDX-License-Identifier: MIT */
/*
 * demo.c - worker processes sharing lists through one base path.
 *
 * The parent creates two lists, "jobs" and "done", under one directory and
 * forks worker processes.  Each worker opens the lists by path (as an
 * unrelated process would), appends its own jobs to "jobs" (lock-free),
 * then all workers drain the queue with pop(0) (a structural change under
 * the lock) and append what they did to "done".  The parent checks that
 * every job was done exactly once and prints the verified total.
 *
 *   demo [-w WORKERS] [-j JOBS_PER_WORKER] [DIR]
 */
#include <fscollections.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_WORKERS 64

static void die(const char *what, int rc) {
  fprintf(stderr, "demo: %s: %s (%s)\n", what, fsc_strerror(rc),
          fsc_errmsg());
  exit(1);
}

static fsc_list *open_list(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_STRING;
  fsc_list *l;
  int rc = fsc_list_open(path, &o, &l);
  if (rc)
    die(path, rc);
  return l;
}

/* A line for the terminal, written in one write(2) so that the lines of
 * different workers do not interleave. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > (int)sizeof buf - 1)
    n = (int)sizeof buf - 1;
  ssize_t w = write(STDOUT_FILENO, buf, (size_t)n);
  (void)w;
}

static int worker(const char *dir, int id, int njobs, int fd_go) {
  fsc_list *jobs = open_list(dir, "jobs");
  fsc_list *done = open_list(dir, "done");
  char job[128];
  for (int j = 0; j < njobs; j++) {
    snprintf(job, sizeof job, "job %d.%d", id, j);
    int rc = fsc_list_append_str(jobs, job);
    if (rc)
      die("append", rc);
  }
  uint64_t n;
  fsc_list_len(jobs, &n);
  say("worker %d: appended %d jobs (job %d.0 .. job %d.%d); queue length "
      "now %llu\n", id, njobs, id, id, njobs - 1, (unsigned long long)n);

  /* Wait until every worker has queued its jobs. */
  char go;
  if (read(fd_go, &go, 1) != 1)
    return 1;

  int took = 0;
  char first[128] = "", last[128] = "";
  for (;;) {
    fsc_value v;
    int rc = fsc_list_pop(jobs, 0, &v); /* the oldest job */
    if (rc == FSC_EINDEX)
      break; /* the queue is empty */
    if (rc)
      die("pop", rc);
    /* v is a view into the mapping, valid until the list is closed. */
    snprintf(last, sizeof last, "%.*s", (int)v.u.buf.len,
             (const char *)v.u.buf.ptr);
    if (!took)
      snprintf(first, sizeof first, "%s", last);
    char rec[160];
    snprintf(rec, sizeof rec, "%s by worker %d", last, id);
    if ((rc = fsc_list_append_str(done, rec)) != 0)
      die("append", rc);
    took++;
  }
  say("worker %d: took %d jobs from the queue (first \"%s\", last \"%s\")\n",
      id, took, first, last);
  fsc_list_free(jobs);
  fsc_list_free(done);
  return 0;
}

int main(int argc, char **argv) {
  int nworkers = 4, njobs = 5000, opt;
  while ((opt = getopt(argc, argv, "w:j:h")) != -1) {
    switch (opt) {
    case 'w':
      nworkers = atoi(optarg);
      break;
    case 'j':
      njobs = atoi(optarg);
      break;
    default:
      fprintf(stderr, "usage: %s [-w WORKERS] [-j JOBS] [DIR]\n", argv[0]);
      return opt == 'h' ? 0 : 2;
    }
  }
  if (nworkers < 1 || nworkers > MAX_WORKERS || njobs < 0) {
    fprintf(stderr, "demo: 1..%d workers, jobs >= 0\n", MAX_WORKERS);
    return 2;
  }
  char tmpl[] = "/tmp/fsc-demo-XXXXXX";
  const char *dir = optind < argc ? argv[optind] : mkdtemp(tmpl);
  if (!dir) {
    perror("mkdtemp");
    return 1;
  }
  say("fscollections %s demo: %d worker processes share the lists in %s\n",
      fsc_version(), nworkers, dir);

  /* Start from empty lists (the parent keeps them open for the check). */
  fsc_list *jobs = open_list(dir, "jobs");
  fsc_list *done = open_list(dir, "done");
  fsc_list_clear(jobs);
  fsc_list_clear(done);

  int go[2];
  if (pipe(go) != 0) {
    perror("pipe");
    return 1;
  }
  pid_t pids[MAX_WORKERS];
  for (int w = 0; w < nworkers; w++) {
    pids[w] = fork();
    if (pids[w] < 0) {
      perror("fork");
      return 1;
    }
    if (pids[w] == 0) {
      close(go[1]);
      _exit(worker(dir, w, njobs, go[0]));
    }
  }
  close(go[0]);
  /* Release the workers into the draining phase once all jobs are in. */
  uint64_t n = 0, want = (uint64_t)nworkers * (uint64_t)njobs;
  uint64_t epoch = FSC_EPOCH_NONE;
  /* Sleep until the list changes (no polling: fsc_list_wait_change). */
  while (fsc_list_len(jobs, &n) == 0 && n < want) {
    int rc = fsc_list_wait_change(jobs, epoch, 10000, &epoch);
    if (rc && rc != FSC_ETIMEDOUT)
      die("wait_change", rc);
  }
  for (int w = 0; w < nworkers; w++)
    if (write(go[1], "g", 1) != 1)
      return 1;
  close(go[1]);

  int failed = 0;
  for (int w = 0; w < nworkers; w++) {
    int st;
    waitpid(pids[w], &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
      failed++;
  }

  /* Verify: every job done exactly once, the queue empty. */
  uint64_t left, ndone;
  fsc_list_len(jobs, &left);
  fsc_list_len(done, &ndone);
  char *seen = calloc(want ? want : 1, 1);
  uint64_t dup = 0, bad = 0;
  fsc_list_iter it;
  fsc_value v;
  fsc_list_iter_init(done, &it);
  while (fsc_list_iter_next(&it, &v) == 1) {
    int w, j;
    char text[160];
    snprintf(text, sizeof text, "%.*s", (int)v.u.buf.len,
             (const char *)v.u.buf.ptr);
    if (sscanf(text, "job %d.%d", &w, &j) != 2 || w < 0 || w >= nworkers ||
        j < 0 || j >= njobs) {
      bad++;
      continue;
    }
    if (seen[(uint64_t)w * (uint64_t)njobs + (uint64_t)j]++)
      dup++;
  }
  uint64_t missing = 0;
  for (uint64_t i = 0; i < want; i++)
    missing += !seen[i];
  free(seen);
  fsc_metrics m = {.size = sizeof m};
  fsc_list_metrics(done, &m);
  say("verified: %llu jobs queued, %llu done, %llu missing, %llu done twice, "
      "%llu malformed, %llu left in the queue; %d workers failed\n",
      (unsigned long long)want, (unsigned long long)ndone,
      (unsigned long long)missing, (unsigned long long)dup,
      (unsigned long long)bad, (unsigned long long)left, failed);
  say("the \"done\" list: %llu elements, %llu live bytes, %llu bytes on "
      "disk\n", (unsigned long long)m.length,
      (unsigned long long)m.live_bytes,
      (unsigned long long)m.total_disk_usage_bytes);
  bool ok = !failed && !missing && !dup && !bad && !left && ndone == want;
  fsc_list_free(jobs);
  fsc_list_free(done);
  say("%s\n", ok ? "OK: every job was done exactly once"
                 : "FAILED: the totals do not add up");
  return ok ? 0 : 1;
}
