/*
 * list_disk.c - disk bytes of a list of N int64: fscollections against
 * LMDB in the same run (issue #20, "smaller files").
 *
 *   list_disk [N] [DIR]   N int64 (default 1000000) appended to an
 *                         fsc_list of FSC_TYPE_INT64 (durability NONE) and
 *                         to LMDB the way bench/eng_lmdb.c stores a list
 *                         (MDB_INTEGERKEY: the index as an 8-byte key, an
 *                         8-byte value, MDB_APPEND), both variants: one
 *                         write transaction per append (lmdb) and one per
 *                         1000 (lmdb_b1000); each store closed, then its
 *                         files' allocated bytes (st_blocks * 512) and
 *                         their sizes, per element, and the ratio to the
 *                         smaller LMDB.  DIR (default $TMPDIR or /tmp)
 *                         gets a private directory, removed at the end.
 *
 * Nothing is asserted here (tests/test_list_records.c asserts the
 * 16 bytes per element); the append time is printed for information only:
 * numbers from a shared machine are noisy.
 */
#include "bench_util.h"
#include "engine.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fscollections.h"

struct bench_params bench_p;
extern const struct engine eng_lmdb, eng_lmdb_batch;

struct bytes {
  uint64_t alloc, size;
};

/* The allocated bytes and sizes of the regular files in dir. */
static struct bytes dir_bytes(const char *dir) {
  struct bytes b = {0, 0};
  char path[4096];
  DIR *d = opendir(dir);
  if (!d)
    bench_die("opendir %s", dir);
  struct dirent *e;
  struct stat st;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    bench_path(path, sizeof path, dir, e->d_name);
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
      b.alloc += (uint64_t)st.st_blocks * 512u;
      b.size += (uint64_t)st.st_size;
    }
  }
  closedir(d);
  return b;
}

static double now_s(void) { return (double)now_ns() / 1e9; }

static struct bytes run_fsc(const char *dir, uint64_t n, double *secs) {
  char base[4096];
  bench_path(base, sizeof base, dir, "l");
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  o.durability = FSC_DURABLE_NONE;
  fsc_list *l = NULL;
  if (fsc_list_open(base, &o, &l) != 0)
    bench_die("fsc_list_open(%s): %s", base, fsc_errmsg());
  double t0 = now_s();
  for (uint64_t i = 0; i < n; i++)
    if (fsc_list_append_i64(l, (int64_t)i) != 0)
      bench_die("fsc_list_append_i64: %s", fsc_errmsg());
  *secs = now_s() - t0;
  if (fsc_list_close(l) != 0)
    bench_die("fsc_list_close: %s", fsc_errmsg());
  fsc_list_free(l);
  return dir_bytes(dir);
}

static struct bytes run_engine(const struct engine *e, const char *dir,
                               uint64_t n, double *secs) {
  bench_running = e;
  void *h = e->open(dir, BK_LIST, BM_CREATE);
  double t0 = now_s();
  for (uint64_t i = 0; i < n; i++) {
    int64_t v = (int64_t)i;
    e->append(h, &v, sizeof v);
  }
  e->flush(h);
  *secs = now_s() - t0;
  e->close(h);
  bench_running = NULL;
  return dir_bytes(dir);
}

/* Remove dir and the files in it (the stores' directories are flat). */
static void rm_dir(const char *dir) {
  char path[4096];
  DIR *d = opendir(dir);
  if (!d)
    return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    bench_path(path, sizeof path, dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(dir);
}

static void row(const char *name, struct bytes b, uint64_t n, double secs,
                uint64_t ref) {
  printf("%-11s %12llu %12llu %8.2f %8.3f %7.3f\n", name,
         (unsigned long long)b.alloc, (unsigned long long)b.size,
         (double)b.alloc / (double)n, (double)b.alloc / (double)ref, secs);
}

int main(int argc, char **argv) {
  bench_prog = "list_disk";
  uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
  const char *tmp = argc > 2 ? argv[2] : getenv("TMPDIR");
  if (!tmp || !*tmp)
    tmp = "/tmp";
  if (n == 0)
    bench_die("N must be at least 1");
  char root[4096], d[3][4096];
  snprintf(root, sizeof root, "%s/list_disk-XXXXXX", tmp);
  if (!mkdtemp(root))
    bench_die("mkdtemp %s", root);
  const char *names[3] = {"fsc", "lmdb", "lmdb_b1000"};
  for (int i = 0; i < 3; i++) {
    bench_path(d[i], sizeof d[i], root, names[i]);
    if (mkdir(d[i], 0700) != 0)
      bench_die("mkdir %s", d[i]);
  }
  bench_p.n = n;
  bench_p.klen = 8;
  bench_p.vlen = 8;
  bench_p.tmpdir = root;
  double secs[3];
  struct bytes b[3];
  b[0] = run_fsc(d[0], n, &secs[0]);
  b[1] = run_engine(&eng_lmdb, d[1], n, &secs[1]);
  b[2] = run_engine(&eng_lmdb_batch, d[2], n, &secs[2]);
  uint64_t ref = b[1].alloc < b[2].alloc ? b[1].alloc : b[2].alloc;
  printf("list of %llu int64, closed; disk = allocated bytes (st_blocks * "
         "512), size = st_size\n", (unsigned long long)n);
  printf("%-11s %12s %12s %8s %8s %7s\n", "engine", "disk", "size",
         "disk/el", "/lmdb", "append_s");
  for (int i = 0; i < 3; i++)
    row(names[i], b[i], n, secs[i], ref);
  for (int i = 0; i < 3; i++)
    rm_dir(d[i]);
  rmdir(root);
  return 0;
}
