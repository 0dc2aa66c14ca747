/*
 * check_procs.h - what the multi-process tests share: a monotonic clock in
 * seconds, anonymous shared memory for the children's reports, and the
 * reaping of children with a deadline (each must exit 0), and a child
 * that holds a file's flock.  Included by tests/test_shared.c,
 * tests/test_queue_lockfree.c, tests/test_incr_fast.c, tests/test_open.c
 * and tests/test_closeword.c.
 */
#ifndef CHECK_PROCS_H
#define CHECK_PROCS_H

#include "check_common.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

static inline double tc_now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* n bytes of zeroed memory shared with the children (anonymous,
 * MAP_SHARED). */
static inline void *tc_shm(size_t n) {
  void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                 -1, 0);
  ck_assert(p != MAP_FAILED);
  memset(p, 0, n);
  return p;
}

/* Wait for every child (pids[i] > 0); each must exit 0 within `secs` of
 * the call, else every child still running is killed and the test
 * fails. */
static inline void tc_reap(pid_t *pids, int n, double secs) {
  double end = tc_now_s() + secs;
  for (int i = 0; i < n; i++) {
    if (pids[i] <= 0)
      continue;
    int st;
    for (;;) {
      pid_t r = waitpid(pids[i], &st, WNOHANG);
      if (r == pids[i])
        break;
      if (tc_now_s() > end) {
        for (int j = i; j < n; j++)
          if (pids[j] > 0)
            kill(pids[j], SIGKILL);
        ck_abort_msg("child %d did not finish within %.0f s", i, secs);
      }
      usleep(2000);
    }
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                  "child %d ended with status %#x", i, st);
  }
}

/* A child holding flock(LOCK_EX) on each of the paths p1 and p2 (NULL:
 * none) until killed (returned once it holds them). */
static inline pid_t tc_hold_locks(const char *p1, const char *p2) {
  int pp[2];
  ck_assert_int_eq(pipe(pp), 0);
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0) {
    const char *ps[2] = {p1, p2};
    for (int i = 0; i < 2; i++) {
      if (!ps[i])
        continue;
      int fd = open(ps[i], O_RDONLY);
      if (fd < 0 || flock(fd, LOCK_EX) != 0)
        _exit(1);
    }
    if (write(pp[1], "x", 1) != 1)
      _exit(1);
    for (;;)
      pause();
  }
  char c;
  close(pp[1]);
  ck_assert_int_eq(read(pp[0], &c, 1), 1);
  close(pp[0]);
  return p;
}

/* The same on one path. */
static inline pid_t tc_hold_lock(const char *path) {
  return tc_hold_locks(path, NULL);
}

#endif
