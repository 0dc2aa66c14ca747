/*
 * check_list.h - small helpers for tests of int64 lists that many cases
 * and child processes share: open (a child that cannot open exits 90),
 * close, length, and "verify says healthy".
 */
#ifndef FSC_CHECK_LIST_H
#define FSC_CHECK_LIST_H

#include "check_common.h"

#include <stdio.h>
#include <unistd.h>

/* Open (creating) an int64 list at p; lock_ms 0 keeps the default lock
 * timeout. */
static inline fsc_list *tc_lopen(const char *p, int64_t lock_ms) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  if (lock_ms)
    o.lock_timeout_ms = lock_ms;
  fsc_list *l = NULL;
  int rc = fsc_list_open(p, &o, &l);
  if (rc) {
    fprintf(stderr, "open %s: %s\n", p, fsc_errmsg());
    _exit(90);
  }
  return l;
}

static inline void tc_lclose(fsc_list *l) {
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}

static inline uint64_t tc_llen(fsc_list *l) {
  uint64_t n = 0;
  ck_ok(fsc_list_len(l, &n));
  return n;
}

#endif
