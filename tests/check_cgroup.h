/*
 * check_cgroup.h - a memory cgroup for the tests that run a child under a
 * memory limit (tests/test_behind.c, tests/test_index_mem.c): made (v1 or
 * v2, when the test runs as root where the memory controller is
 * writable), joined by the child, and removed once the child is reaped.
 */
#ifndef FSC_CHECK_CGROUP_H
#define FSC_CHECK_CGROUP_H

#include "check_common.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

/* Whether this program is built with AddressSanitizer, whose own memory
 * (its shadow and allocator) counts against a cgroup's limit: the filling
 * child of test_index_mem's growth under a 24 MiB limit reached an
 * anonymous RSS of 29 MB there and was killed by the cgroup's OOM killer
 * on the VM of 2026-12-07 15:5x UTC (the normal build's child stays well
 * under).  A test whose limit is of that order skips under ASan; the
 * normal build runs it. */
static inline bool tc_cg_asan(void) {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

/* A memory cgroup limited to `mib` (v1 or v2), named "fsc_test_<tag>_<pid>",
 * its path in cg; false (and why, in why) if none can be made here. */
static inline bool tc_cg_make(char *cg, size_t cap, const char *tag,
                              unsigned mib, char *why, size_t wl) {
  const char *mnt, *lim, *sw;
  if (geteuid() != 0) {
    snprintf(why, wl, "not root");
    return false;
  }
  if (access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0) {
    mnt = "/sys/fs/cgroup/memory";
    lim = "memory.limit_in_bytes";
    sw = "memory.memsw.limit_in_bytes";
  } else if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0) {
    mnt = "/sys/fs/cgroup";
    lim = "memory.max";
    sw = "memory.swap.max";
  } else {
    snprintf(why, wl, "no memory cgroup");
    return false;
  }
  snprintf(cg, cap, "%s/fsc_test_%s_%ld", mnt, tag, (long)getpid());
  if (mkdir(cg, 0755) != 0) {
    snprintf(why, wl, "mkdir %s: %s", cg, strerror(errno));
    return false;
  }
  char path[1300], v[32];
  snprintf(path, sizeof path, "%s/%s", cg, lim);
  FILE *f = fopen(path, "w");
  bool ok = f && fprintf(f, "%llu", (unsigned long long)mib << 20) > 0;
  if (f && fclose(f) != 0)
    ok = false;
  if (!ok) {
    snprintf(why, wl, "cannot set %.1000s", path);
    rmdir(cg);
    return false;
  }
  /* No swap beyond the limit, where it is accounted (else the default). */
  snprintf(path, sizeof path, "%s/%s", cg, sw);
  snprintf(v, sizeof v, "%llu", strcmp(sw, "memory.swap.max") == 0
                                    ? 0ULL
                                    : (unsigned long long)mib << 20);
  if ((f = fopen(path, "w")) != NULL) {
    fputs(v, f);
    fclose(f);
  }
  return true;
}

/* Move the calling process into cg; false if it could not. */
static inline bool tc_cg_join(const char *cg) {
  char path[1300], me[32];
  snprintf(path, sizeof path, "%s/cgroup.procs", cg);
  snprintf(me, sizeof me, "%ld", (long)getpid());
  FILE *f = fopen(path, "w");
  return f && fputs(me, f) >= 0 && fclose(f) == 0;
}

/* Wait for child pid and remove cg (retried for a second while the
 * kernel still counts the child in it); the child's exit status. */
static inline int tc_cg_wait(pid_t pid, const char *cg) {
  int st = 0;
  waitpid(pid, &st, 0);
  for (int t = 0; t < 100 && rmdir(cg) != 0; t++) {
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return st;
}

#endif
