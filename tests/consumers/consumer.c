/* SPDX-License-Identifier: MIT */
/*
 * consumer.c - the program every consumer project under tests/consumers/
 * builds against an installed libfscollections: it opens a list at the
 * base path given, appends, reads back, destroys it and prints
 * "fscollections VERSION: ok".  Exit 0 only if all of that worked.
 */
#include <fscollections.h>
#include <stdio.h>

int main(int argc, char **argv) {
  fsc_list *l;
  fsc_options o = FSC_OPTIONS_INIT;
  int64_t v = 0;
  uint64_t n = 0;
  int rc;

  if (argc != 2) {
    fprintf(stderr, "usage: consumer BASE_PATH\n");
    return 2;
  }
  o.type = FSC_TYPE_INT64;
  rc = fsc_list_open(argv[1], &o, &l);
  if (rc) {
    fprintf(stderr, "open %s: %s (%s)\n", argv[1], fsc_strerror(rc), fsc_errmsg());
    return 1;
  }
  rc = fsc_list_append_i64(l, 42);
  if (!rc) rc = fsc_list_len(l, &n);
  if (!rc) rc = fsc_list_get_i64(l, -1, &v);
  if (rc || n != 1 || v != 42) {
    fprintf(stderr, "list: rc %d, len %llu, last %lld\n", rc,
            (unsigned long long)n, (long long)v);
    fsc_list_destroy(l);
    fsc_list_free(l);
    return 1;
  }
  rc = fsc_list_destroy(l);
  fsc_list_free(l);
  if (rc) return 1;
  printf("fscollections %s: ok\n", fsc_version());
  return 0;
}
