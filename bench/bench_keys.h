/*
 * bench_keys.h - the keys and values every engine is given, made the same
 * way by bench/driver.c and bench/big_bench.c (so that their runs are
 * comparable): key i is 'k' padding and then the 16-digit decimal of
 * perm(i) (K >= 16 bytes), or perm(i) as 8 big-endian bytes (8 <= K < 16);
 * version i of a value is V bytes of letters whose first and last 8 bytes
 * depend on i.  Sizes from bench_p (engine.h); call bench_keys_init()
 * once first.
 */
#ifndef BENCH_KEYS_H
#define BENCH_KEYS_H

#include "bench_util.h"
#include "engine.h"

#include <stdint.h>
#include <string.h>

/* "00" .. "99": two digits a division. */
static char bench_d2[200];

static inline void bench_keys_init(void) {
  for (int i = 0; i < 100; i++) {
    bench_d2[2 * i] = (char)('0' + i / 10);
    bench_d2[2 * i + 1] = (char)('0' + i % 10);
  }
}

/* Write the varying bytes of key i into k (bench_key_template first). */
static inline void make_key(uint64_t i, char *k) {
  size_t kl = bench_p.klen;
  uint64_t x = perm(i);
  if (kl >= 16) {
    char *d = k + kl - 16;
    for (int p = 14; p >= 0; p -= 2) {
      unsigned r = (unsigned)(x % 100);
      x /= 100;
      d[p] = bench_d2[2 * r];
      d[p + 1] = bench_d2[2 * r + 1];
    }
  } else {
    be64(x, (unsigned char *)k + kl - 8);
  }
}

static inline void key_template(char *k) { memset(k, 'k', bench_p.klen); }

/* Write the varying bytes of version i of a value (value_template first). */
static inline void make_value(uint64_t i, char *buf) {
  uint64_t x = (i + 1) * UINT64_C(0x9E3779B97F4A7C15);
  uint64_t a = (x & UINT64_C(0x3F3F3F3F3F3F3F3F)) | UINT64_C(0x4040404040404040);
  x ^= x >> 29;
  uint64_t b = (x & UINT64_C(0x3F3F3F3F3F3F3F3F)) | UINT64_C(0x4040404040404040);
  memcpy(buf, &a, 8);
  memcpy(buf + bench_p.vlen - 8, &b, 8);
}

static inline void value_template(char *buf) {
  for (size_t i = 0; i < bench_p.vlen; i++)
    buf[i] = (char)('a' + i % 26);
}

#endif /* BENCH_KEYS_H */
