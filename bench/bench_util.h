/*
 * bench_util.h - what every benchmark program shares: the clock, the
 * seeded random indices and the key permutation, so that every program
 * (and every engine within one) sees the same sequences.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdint.h>
#include <time.h>

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

#endif
