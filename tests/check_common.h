/*
 * check_common.h - helpers shared by the Check test programs: temporary
 * base paths, assertions on fsc_ return codes that print fsc_errmsg(),
 * and the main() that runs a suite in forked children with a timeout.
 */
#ifndef FSC_CHECK_COMMON_H
#define FSC_CHECK_COMMON_H

#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fscollections.h"

/* Check's ck_assert_msg, on which every ck_assert_* macro is built,
 * records each assertion that passes (_mark_point: a write(2) to the
 * runner), so a case that asserts in a loop over a million keys spent most
 * of its time in the kernel (test_migrate's "single" case: 35 s).  Here a
 * passing assertion does nothing and a failing one fails as before.  What
 * is lost is the "last checkpoint" Check names when a case dies of a
 * signal or a timeout; mark_point() still sets one where a case wants it. */
#ifndef FSC_TEST_MARK_POINTS /* (defined by a file that keeps Check's) */
#undef ck_assert_msg
#define ck_assert_msg(expr, ...)                                              \
  ((expr) ? (void)0                                                           \
          : _ck_assert_failed(__FILE__, __LINE__,                             \
                              "Assertion '" #expr "' failed", ##__VA_ARGS__))
#endif

/* Assert an fsc_ call returned `want`, showing the library's message. */
#define ck_fsc(call, want)                                                    \
  do {                                                                        \
    int ck_fsc_rc_ = (call);                                                  \
    ck_assert_msg(ck_fsc_rc_ == (want), "%s returned %d (%s: %s), want %d",   \
                  #call, ck_fsc_rc_, fsc_strerror(ck_fsc_rc_), fsc_errmsg(),  \
                  (int)(want));                                               \
  } while (0)
#define ck_ok(call) ck_fsc(call, 0)

/* Bytes a record of `payload` bytes takes in a data file this library
 * created (doc/FORMAT.md, "Records" and "Compact records"): 16 for an
 * 8-byte payload (compact), else a 16-byte header, the payload, padding. */
static inline unsigned long long tc_rec_bytes(unsigned long long payload) {
  return payload == 8 ? 16 : (16 + payload + 7) / 8 * 8;
}
/* Where a record's payload starts: 8 bytes in (compact) or 16. */
static inline unsigned tc_rec_hdr(unsigned long long payload) {
  return payload == 8 ? 8 : 16;
}

/* A fresh directory for one test; base paths go inside it. */
static inline const char *tc_dir(void) {
  static char dir[256];
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/fsc-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    abort();
  }
  return dir;
}

/* A base path inside a fresh directory: "<dir>/<name>". */
static inline const char *tc_path(const char *name) {
  static char path[512];
  snprintf(path, sizeof path, "%s/%s", tc_dir(), name);
  return path;
}

/* Remove a collection's files (best effort, for cleanup). */
static inline void tc_rm(const char *base) {
  char p[600];
  snprintf(p, sizeof p, "%s.data.fscollection", base);
  unlink(p);
  snprintf(p, sizeof p, "%s.index.fscollection", base);
  unlink(p);
}

/* A file p holding exactly `text` (created 0600, or truncated). */
static inline void tc_write_text(const char *p, const char *text) {
  int fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, 0600);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
}

/* File p holds exactly `text` (under 256 bytes): left untouched. */
static inline void tc_check_text(const char *p, const char *text) {
  char buf[256] = {0};
  int fd = open(p, O_RDONLY);
  ck_assert_int_ge(fd, 0);
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  ck_assert_int_eq(n, (ssize_t)strlen(text));
  ck_assert_str_eq(buf, text);
}

/* tc_run's removal of its private directory: first make every directory
 * writable and searchable (a test may have taken its bits away), then
 * remove depth first. */
static inline int tc_rm_open_(const char *p, const struct stat *st, int type,
                              struct FTW *f) {
  (void)f;
  if (type == FTW_D || type == FTW_DNR)
    chmod(p, (st->st_mode & 07777) | 0700);
  return 0;
}
static inline int tc_rm_one_(const char *p, const struct stat *st, int type,
                             struct FTW *f) {
  (void)st, (void)type, (void)f;
  remove(p);
  return 0;
}

/* Run one suite with Check in fork mode (each test in its own child with a
 * timeout) and return the exit status for the test driver.  Everything the
 * tests make lives in one private directory under $TMPDIR (TMPDIR points
 * there while they run), which is removed afterwards whatever the tests
 * did, so no test leaves a file behind, even when it fails or is killed by
 * its timeout. */
static inline int tc_run(Suite *s) {
  const char *tmp = getenv("TMPDIR");
  char dir[512];
  snprintf(dir, sizeof dir, "%s/fsc-test-run-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    abort();
  }
  chmod(dir, 0755); /* tests that drop privileges must reach their files */
  setenv("TMPDIR", dir, 1);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  nftw(dir, tc_rm_open_, 16, FTW_PHYS);
  nftw(dir, tc_rm_one_, 16, FTW_PHYS | FTW_DEPTH);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
