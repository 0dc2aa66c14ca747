/*
 * test_behind.c - what the appender does behind the data file's tail
 * (src/file/behind.c):
 *
 *  - after a fill of 64 MiB of records, the data mapping's pages behind
 *    the tail do not stay dirty: within 10 s (the kernel's own flusher
 *    waits 30 s by default) at most the last few 4 MiB stretches and the
 *    header are dirty (/proc/self/smaps, Private_Dirty + Shared_Dirty);
 *  - with memory to spare, nothing is dropped: most of the file is still
 *    in the page cache (mincore(2)) and every record reads back.
 */
#include "check_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define VAL 4000
#define N 16384 /* 64 MiB of records */
#define STRETCH_PAGES 1024 /* FSC__BEHIND (4 MiB) in 4 KiB pages */

/* The dirty 4 KiB pages of every mapping of `file` in this process
 * (matched by inode: a file the library created shows under the name of
 * the temporary file it was made as). */
static long mapping_dirty(const char *file) {
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
      ours = ino == (unsigned long)fst.st_ino;
      found += ours;
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

/* The share of the file's pages in the page cache. */
static double resident(const char *file) {
  int fd = open(file, O_RDONLY);
  ck_assert_msg(fd >= 0, "open %s: %s", file, strerror(errno));
  struct stat st;
  ck_assert_int_eq(fstat(fd, &st), 0);
  size_t len = (size_t)st.st_size, np = (len + 4095) / 4096;
  void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
  ck_assert_ptr_ne(m, MAP_FAILED);
  unsigned char *vec = malloc(np);
  ck_assert_ptr_nonnull(vec);
  ck_assert_int_eq(mincore(m, len, vec), 0);
  size_t in = 0;
  for (size_t i = 0; i < np; i++)
    in += vec[i] & 1;
  free(vec);
  munmap(m, len);
  close(fd);
  return (double)in / (double)np;
}

static fsc_value val(char *buf, int i) {
  memset(buf, 'a' + i % 26, VAL);
  snprintf(buf, 16, "v-%d", i);
  return fsc_bytes(buf, VAL);
}

START_TEST(test_fill_written_back) {
  if (sysconf(_SC_PAGESIZE) != 4096)
    return; /* the page counts below are in 4 KiB pages */
  const char *base = tc_path("fill");
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(base, NULL, &l));
  static char buf[VAL];
  for (int i = 0; i < N; i++) {
    fsc_value v = val(buf, i);
    ck_ok(fsc_list_append(l, &v));
  }
  char df[1100];
  snprintf(df, sizeof df, "%s.data.fscollection", base);
  /* Written back behind the tail: the stretch the tail is in, the two
   * before it (the last's writeback is asked for at the next mark), the
   * header's, and slack. */
  long dirty = 0, max = 4 * STRETCH_PAGES + 64;
  for (int t = 0; t < 100; t++) {
    if ((dirty = mapping_dirty(df)) <= max)
      break;
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  ck_assert_msg(dirty <= max, "%ld pages of the data mapping still dirty "
                "10 s after the fill (at most %ld expected)", dirty, max);
  /* Nothing was dropped: memory was not short. */
  double r = resident(df);
  ck_assert_msg(r >= 0.75, "only %.0f%% of the data file is in memory",
                100 * r);
  for (int i = 0; i < N; i += 97) {
    fsc_value got;
    ck_ok(fsc_list_get(l, i, &got));
    fsc_value want = val(buf, i);
    ck_assert_uint_eq(got.u.buf.len, VAL);
    ck_assert_int_eq(memcmp(got.u.buf.ptr, want.u.buf.ptr, VAL), 0);
  }
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

static Suite *behind_suite(void) {
  Suite *s = suite_create("behind");
  TCase *tc = tcase_create("behind");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_fill_written_back);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tc_run(behind_suite()); }
