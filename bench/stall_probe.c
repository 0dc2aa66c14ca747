/*
 * stall_probe.c - what the machine itself does to a worst case, measured
 * in the same run as the engines (bench/driver): the floor under every
 * "max" the driver reports.
 *
 *  - spin: a loop that only reads the clock, for a few seconds.  A gap
 *    between two reads is time the process did not run (preempted by
 *    another task, or the virtual CPU held up by its host): no engine's
 *    operation can be shorter than the gap it happened to meet.
 *  - faults: the first write to each page of a new region of a shared
 *    mapping of a file, allocated first (fallocate), as the file-backed
 *    engines grow theirs.  Each write is timed alone: its time is that of
 *    the page fault it takes (and of whatever the kernel, or a hypervisor
 *    that traps page table writes, does in it).  An engine that writes
 *    new pages meets the same faults, in some of its operations.
 *
 * Neither touches an engine; both print the same statistics (the mean,
 * p50, p99.9 and the maximum of the timed intervals).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* fallocate */
#endif
#include "stall_probe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static uint64_t clock_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

/* The statistics of n intervals in ns (sorted here), into *st in us. */
static void summarize(uint32_t *ns, size_t n, struct stall_stats *st) {
  memset(st, 0, sizeof *st);
  if (n == 0)
    return;
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += ns[i];
  qsort(ns, n, sizeof *ns, cmp_u32);
  st->n = n;
  st->mean_us = sum / (double)n / 1e3;
  st->p50_us = ns[n / 2] / 1e3;
  st->p999_us = ns[(size_t)((double)n * 0.999)] / 1e3;
  st->max_us = ns[n - 1] / 1e3;
}

/* Spin: every gap above 1 us is kept (at most cap of them: a gap of 1 us
 * or less is the loop itself); the statistics are over the gaps kept,
 * n being how many there were. */
int stall_probe_spin(double secs, struct stall_stats *st) {
  const size_t cap = 1u << 20;
  uint32_t *gaps = malloc(cap * sizeof *gaps);
  if (!gaps)
    return -1;
  size_t n = 0;
  uint64_t t0 = clock_ns(), end = t0 + (uint64_t)(secs * 1e9), prev = t0;
  for (;;) {
    uint64_t t = clock_ns(), g = t - prev;
    prev = t;
    if (g > 1000 && n < cap)
      gaps[n++] = g > UINT32_MAX ? UINT32_MAX : (uint32_t)g;
    if (t >= end)
      break;
  }
  summarize(gaps, n, st);
  free(gaps);
  return 0;
}

int stall_probe_faults(const char *dir, uint64_t bytes,
                       struct stall_stats *st) {
  long page = sysconf(_SC_PAGESIZE);
  size_t pages = (size_t)(bytes / (uint64_t)page);
  char path[4096];
  if (snprintf(path, sizeof path, "%s/stall_probe", dir) >= (int)sizeof path)
    return -1;
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return -1;
  unlink(path); /* (gone when the descriptor closes, whatever happens) */
  uint32_t *ns = malloc(pages * sizeof *ns);
  int rc = -1;
  if (!ns || fallocate(fd, 0, 0, (off_t)bytes) != 0)
    goto out;
  volatile uint8_t *p = mmap(NULL, (size_t)bytes, PROT_READ | PROT_WRITE,
                             MAP_SHARED, fd, 0);
  if (p == MAP_FAILED)
    goto out;
  for (size_t i = 0; i < pages; i++) {
    uint64_t t = clock_ns();
    p[i * (size_t)page] = 1;
    uint64_t d = clock_ns() - t;
    ns[i] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
  }
  munmap((void *)p, (size_t)bytes);
  summarize(ns, pages, st);
  rc = 0;
out:
  free(ns);
  close(fd);
  return rc;
}
