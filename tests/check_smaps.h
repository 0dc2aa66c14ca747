/*
 * check_smaps.h - a file's pages as this process maps them, read from
 * /proc/self/smaps: the dirty pages of every mapping of the file, with
 * the mappings first written back and dropped if asked.  Included by
 * tests/test_behind.c and tests/test_overwrite.c.
 */
#ifndef FSC_CHECK_SMAPS_H
#define FSC_CHECK_SMAPS_H

#include "check_common.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

/* For each mapping of `file` in this process (/proc/self/smaps, matched
 * by inode: a file the library created is shown under the name of the
 * temporary file it was made as): with `clean`, write it back (msync) and
 * drop its pages from the mapping (MADV_DONTNEED: they come back, clean,
 * on the next access).  The dirty pages (Private_Dirty + Shared_Dirty,
 * 4 KiB) of all of them; the test fails if the file has no mapping. */
static inline long tc_mapping_dirty(const char *file, bool clean) {
  struct stat fst;
  ck_assert_int_eq(stat(file, &fst), 0);
  FILE *f = fopen("/proc/self/smaps", "r");
  ck_assert_ptr_nonnull(f);
  char line[1400];
  bool ours = false;
  long kb = 0;
  int found = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, hi, ino;
    size_t hex = strspn(line, "0123456789abcdef");
    if (hex && line[hex] == '-' &&
        sscanf(line, "%lx-%lx %*s %*s %*s %lu", &lo, &hi, &ino) == 3) {
      /* A mapping's first line: range perms offset dev inode [path]. */
      ours = ino == (unsigned long)fst.st_ino;
      found += ours;
      if (ours && clean) {
        void *a = (void *)(uintptr_t)lo;
        ck_assert_int_eq(msync(a, hi - lo, MS_SYNC), 0);
        ck_assert_int_eq(madvise(a, hi - lo, MADV_DONTNEED), 0);
      }
      continue;
    }
    long v;
    if (ours && (sscanf(line, "Private_Dirty: %ld kB", &v) == 1 ||
                 sscanf(line, "Shared_Dirty: %ld kB", &v) == 1))
      kb += v;
  }
  fclose(f);
  ck_assert_int_gt(found, 0);
  return kb / 4;
}

#endif
