/* SPDX-License-Identifier: MIT */
/*
 * replay.h - what test_hostile.c and test_hostile_recover.c share: the
 * list of input files under a directory, and a Check loop test that
 * replays each through the fuzz target linked into the program (the
 * target aborts on a wrong answer).  Include after check_common.h, once.
 */
#ifndef FSC_TEST_REPLAY_H
#define FSC_TEST_REPLAY_H

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX 1024
static char *files[REPLAY_MAX];
static int nfiles;

/* The whole file at path, in a malloc'd buffer of *n bytes (+1). */
static uint8_t *slurp(const char *path, size_t *n) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ck_assert_msg(fd >= 0, "cannot open %s", path);
  struct stat st;
  ck_assert_int_eq(fstat(fd, &st), 0);
  uint8_t *p = malloc((size_t)st.st_size + 1);
  ck_assert_ptr_nonnull(p);
  ck_assert_int_eq(pread(fd, p, (size_t)st.st_size, 0), st.st_size);
  close(fd);
  *n = (size_t)st.st_size;
  return p;
}

/* Add every file of dir (not dot files) to files[]: how many were added
 * (0 if dir cannot be read). */
static int add_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d)
    return 0;
  int before = nfiles;
  struct dirent *e;
  while ((e = readdir(d)) != NULL && nfiles < REPLAY_MAX) {
    if (e->d_name[0] == '.')
      continue;
    size_t n = strlen(dir) + strlen(e->d_name) + 2;
    files[nfiles] = malloc(n);
    if (!files[nfiles])
      break;
    snprintf(files[nfiles], n, "%s/%s", dir, e->d_name);
    nfiles++;
  }
  closedir(d);
  return nfiles - before;
}

static void free_files(void) {
  for (int i = 0; i < nfiles; i++)
    free(files[i]);
  nfiles = 0;
}

/* Replay input _i through the fuzz target. */
START_TEST(test_replay) {
  size_t n;
  uint8_t *p = slurp(files[_i], &n);
  LLVMFuzzerTestOneInput(p, n);
  free(p);
}
END_TEST

#endif
