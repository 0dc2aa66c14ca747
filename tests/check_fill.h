/*
 * check_fill.h - the dict the file tests fill (tests/test_files.c,
 * tests/test_prealloc.c): keys of 16 digits, values of 100 bytes that name
 * their key, durability NONE (no multi-MiB fsync under load), and the
 * check that every key (or every few, further apart as they go) reads
 * back.
 */
#ifndef FSC_CHECK_FILL_H
#define FSC_CHECK_FILL_H

#include "check_common.h"

#include <stdint.h>

/* Key i: 16 decimal digits and a NUL. */
static inline void tc_key_of(char k[17], uint64_t i) {
  char t[24];
  snprintf(t, sizeof t, "%016llu",
           (unsigned long long)(i % 10000000000000000ull));
  memcpy(k, t, 17);
}

/* The value of key i: 100 bytes that name it. */
static inline void tc_value_of(char v[100], uint64_t i) {
  memset(v, 'a' + (int)(i % 26), 100);
  memcpy(v, &i, sizeof i);
}

static inline fsc_options tc_opts_none(void) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.durability = FSC_DURABLE_NONE; /* no multi-MiB fsync under load */
  return o;
}

/* Set keys [from, to) to their values. */
static inline void tc_dict_fill(fsc_dict *d, uint64_t from, uint64_t to) {
  char k[17], v[100];
  for (uint64_t i = from; i < to; i++) {
    tc_key_of(k, i);
    tc_value_of(v, i);
    fsc_value val = fsc_bytes(v, 100);
    ck_ok(fsc_dict_set(d, k, 16, &val));
  }
}

/* d holds n keys, and keys 0, 1, ... read back their values: after key i
 * the next checked is i + 1 + i / thin. */
static inline void tc_dict_check(fsc_dict *d, uint64_t n, uint64_t thin) {
  uint64_t len;
  ck_ok(fsc_dict_len(d, &len));
  ck_assert_uint_eq(len, n);
  char k[17], v[100];
  for (uint64_t i = 0; i < n; i += 1 + i / thin) {
    tc_key_of(k, i);
    tc_value_of(v, i);
    fsc_value out;
    ck_ok(fsc_dict_get(d, k, 16, &out));
    ck_assert_uint_eq(out.u.buf.len, 100);
    ck_assert(memcmp(out.u.buf.ptr, v, 100) == 0);
  }
}

#endif
