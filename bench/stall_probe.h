/*
 * stall_probe.h - the machine's own stalls, measured beside the engines
 * (stall_probe.c says what each probe times).
 */
#ifndef BENCH_STALL_PROBE_H
#define BENCH_STALL_PROBE_H

#include <stddef.h>
#include <stdint.h>

struct stall_stats {
  size_t n;       /* intervals timed */
  double mean_us; /* their mean, p50, p99.9 and maximum, in us */
  double p50_us;
  double p999_us;
  double max_us;
};

/* A loop that only reads the clock for secs seconds: statistics over its
 * gaps longer than 1 us (n: how many).  0, or -1 out of memory. */
int stall_probe_spin(double secs, struct stall_stats *st);

/* The first write to each page of a new file of `bytes` in dir
 * (fallocated, mapped shared, unlinked at once), each timed.  0, or -1
 * (errno) when the file cannot be made, allocated or mapped. */
int stall_probe_faults(const char *dir, uint64_t bytes,
                       struct stall_stats *st);

#endif
