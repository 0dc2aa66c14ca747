/*
 * bench_util.h - what every benchmark program shares: the clock, the
 * seeded random indices and the key permutation, so that every program
 * (and every engine within one) sees the same sequences.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* xorshift64 (Marsaglia), fixed seeds: every engine sees the same keys and
 * indices in the same order. */
static inline uint64_t xorshift(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

/* A random index in [0, n) (Lemire's multiply-shift, no division). */
static inline uint64_t rand_index(uint64_t *s, uint64_t n) {
  return (uint64_t)(((unsigned __int128)xorshift(s) * n) >> 64);
}

/* A bijection of [0, 2^50): key i is derived from perm(i), so keys are put
 * in an order unrelated to their byte order or their hash.  Computed in
 * the loop (about a dozen multiplications), not read from a table, so that
 * no engine pays a cache miss for its key. */
#define PERM_MASK ((UINT64_C(1) << 50) - 1)
static inline uint64_t perm(uint64_t x) {
  x = (x * UINT64_C(0x9E3779B97F4A7C15)) & PERM_MASK; /* odd: invertible */
  x ^= x >> 23;
  x = (x * UINT64_C(0xD1B54A32D192ED03)) & PERM_MASK;
  x ^= x >> 26;
  return x;
}

/* i as 8 big-endian bytes: list keys that sort in index order. */
static inline void be64(uint64_t i, unsigned char k[8]) {
  for (int b = 7; b >= 0; b--, i >>= 8)
    k[b] = (unsigned char)i;
}

/* A log-linear latency histogram: values below 64 ns exactly, above
 * that 32 sub-buckets per power of two (at most 1/32 = 3% relative error
 * on a percentile), up to 2^44 ns; the maximum is kept exactly.  About 11 KB,
 * so it fits in memory shared with a child however many operations it
 * counts. */
#define HIST_SUB 32u
#define HIST_EXACT 64u
#define HIST_BUCKETS (HIST_EXACT + (44u - 6u) * HIST_SUB)
struct hist {
  uint64_t count, sum, max;
  uint64_t b[HIST_BUCKETS];
};

static inline unsigned hist_bucket(uint64_t v) {
  if (v < HIST_EXACT)
    return (unsigned)v;
  unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= 6 */
  if (e >= 44u)
    return HIST_BUCKETS - 1;
  return HIST_EXACT + (e - 6u) * HIST_SUB +
         (unsigned)((v >> (e - 5u)) & (HIST_SUB - 1));
}

static inline void hist_add(struct hist *h, uint64_t v) {
  h->b[hist_bucket(v)]++;
  h->count++;
  h->sum += v;
  if (v > h->max)
    h->max = v;
}

/* The value at quantile q (0 < q <= 1): the upper bound of the bucket that
 * holds the ceil(q * count)-th smallest value, never above the maximum. */
static inline double hist_quantile(const struct hist *h, double q) {
  if (!h->count)
    return 0;
  uint64_t rank = (uint64_t)(q * (double)h->count + 0.999999);
  if (rank < 1)
    rank = 1;
  uint64_t acc = 0;
  for (unsigned i = 0; i < HIST_BUCKETS; i++) {
    acc += h->b[i];
    if (acc >= rank) {
      uint64_t hi;
      if (i < HIST_EXACT) {
        hi = i;
      } else {
        unsigned e = 6u + (i - HIST_EXACT) / HIST_SUB;
        uint64_t sub = (i - HIST_EXACT) % HIST_SUB;
        hi = ((HIST_SUB + sub + 1) << (e - 5u)) - 1;
      }
      return (double)(hi < h->max ? hi : h->max);
    }
  }
  return (double)h->max;
}

/* The 1-minute load average: other work on the machine skews every
 * number, so the run says what it competed with. */
static inline double loadavg(void) {
  double l = -1;
  FILE *fp = fopen("/proc/loadavg", "re");
  if (fp) {
    if (fscanf(fp, "%lf", &l) != 1)
      l = -1;
    fclose(fp);
  }
  return l;
}

static inline void machine_line(void) {
  char model[128] = "unknown CPU";
  FILE *fp = fopen("/proc/cpuinfo", "re");
  if (fp) {
    char line[256];
    while (fgets(line, sizeof line, fp)) {
      if (strncmp(line, "model name", 10) == 0) {
        char *c = strchr(line, ':');
        if (c) {
          c += 1 + (c[1] == ' ');
          c[strcspn(c, "\n")] = '\0';
          snprintf(model, sizeof model, "%s", c);
        }
        break;
      }
    }
    fclose(fp);
  }
  printf("machine: %ld CPUs online, %s; load average %.2f\n",
         sysconf(_SC_NPROCESSORS_ONLN), model, loadavg());
}

static inline void fmt_bytes(char *out, size_t n, long long b) {
  if (b < 0)
    snprintf(out, n, "n/a");
  else
    snprintf(out, n, "%lld B", b);
}

#endif
