/*
 * big_bench.c - stores many times larger than the memory their process may
 * use (issue #19): the fill, then cold uniform and Zipf(0.99) gets, under a
 * memory cgroup, for fsc, LMDB and tkrzw side by side in the same run
 * (the adapters of bench/driver.c: bench/eng_*.c, bench/engine.h).
 *
 * For each ratio R (-r, default 4,10) the key count is N = R x limit /
 * B (B: -b, default 144, the bytes of one 16-byte-key, 100-byte-value
 * record in fsc's data file, doc/FORMAT.md), the same N for every engine,
 * so every engine's files are at least R times the limit.  Per engine,
 * each phase a new child process (PR_SET_PDEATHSIG) with a wall-clock cap
 * (-c): a phase that does not end in time is killed and reported as "did
 * not finish at K keys after S s".
 *   fill      in the cgroup: N puts of new keys: ns per put
 *   get-u     the store's files are written back (fdatasync) and dropped
 *             from the page cache (posix_fadvise DONTNEED); a new process
 *             in the cgroup opens the store read-only and does G uniform
 *             random gets, each timed: mean, p50, p99, max (us), major
 *             faults (ru_majflt) and bytes read from storage
 *             (/proc/self/io read_bytes) per get
 *   get-z     the same, keys drawn from Zipf(0.99) (hot keys scattered
 *             over the key space, not in put order)
 *   pread     the floor: G random 4 KiB preads of the engine's largest
 *             file, O_DIRECT when the filesystem supports it, else after
 *             DONTNEED with POSIX_FADV_RANDOM; same cgroup
 *   fill-free the same N puts in a new store outside the cgroup (no
 *             limit): the divisor of the fill ratio
 * Targets (printed, never asserted): fill <= 3x fill-free, get <= 1.5x
 * pread, faults per get <= 1.2, fsc at least as fast as LMDB.
 *
 * The memory limit is a cgroup made under the one this process is in
 * (v1: memory.limit_in_bytes and memory.memsw.limit_in_bytes; v2:
 * memory.max and memory.swap.max), removed at the end.  Not root, or no
 * writable memory cgroup: a message and exit status 0 (skipped).
 *
 * Usage: big_bench [-m MiB] [-r R[,R...]] [-b BYTES] [-g GETS] [-c SECS]
 *                  [-s SWAP_MiB] [-e ENGINES] [-d DIR] [-t FILE.tsv]
 * bench/README.md ("bench/big_bench") tells how to read the output.  The
 * run's files are in a private mkdtemp directory, removed at the end and
 * on SIGINT, SIGTERM and SIGHUP.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "bench_util.h"
#include "engine.h"
#include "bench_keys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_RATIOS 6
#define SEED_UNI UINT64_C(0x9E3779B97F4A7C15)
#define SEED_ZIPF UINT64_C(0xD1B54A32D192ED03)
#define SEED_PREAD UINT64_C(0xA0761D6478BD642F)
#define ZIPF_THETA 0.99

struct bench_params bench_p;

static const struct engine *const all_engines[] = {
    &eng_fsc,
#ifdef BENCH_HAVE_LMDB
    &eng_lmdb,
    &eng_lmdb_batch,
#endif
#ifdef BENCH_HAVE_TKRZW
    &eng_tkrzw,
#endif
};
#define N_ALL (sizeof all_engines / sizeof all_engines[0])

enum phase { P_FILL, P_GETU, P_GETZ, P_PREAD, P_FREE, P_COUNT };
static const char *const phase_name[P_COUNT] = {"fill", "get-u", "get-z",
                                                "pread", "fill-free"};
enum st { S_NONE = 0, S_OK, S_DNF, S_FAIL, S_SKIP };

struct phase_res {
  int st;
  uint64_t done;  /* operations done so far (the child updates it) */
  double secs;    /* wall time of the phase (the child's timed loop) */
  double ns_op;   /* mean ns per operation */
  uint64_t majflt, rbytes; /* over the timed loop */
  bool rbytes_ok;
  double resident; /* share of the files in the page cache before (gets) */
  uint64_t peak;   /* the cgroup's peak usage (bytes; 0: unknown) */
  uint64_t files;  /* allocated bytes of the store after the fill */
  int direct;      /* pread: 1 with O_DIRECT */
  char msg[200];
  struct hist h;
};

struct results {
  uint64_t n[MAX_RATIOS];
  struct phase_res p[MAX_RATIOS][N_ALL][P_COUNT];
};
static struct results *g_res;

static struct {
  uint64_t limit_mib, swap_mib, bpk, gets;
  unsigned cap_s;
  double ratios[MAX_RATIOS];
  unsigned nratios;
  const char *only, *dir_parent, *tsv;
  bool made_parent;
  char root[PATH_MAX];
  /* the cgroup */
  int cgv; /* 1 or 2 */
  char cg[PATH_MAX];
  bool cg_made;
} cfg;

static volatile sig_atomic_t g_stop;
static volatile pid_t g_child;
static uint64_t *g_idx; /* the G key indices of a get phase */
static char *g_key, *g_val;

static inline uint64_t consume(const void *ptr, size_t n) {
  const unsigned char *p = ptr;
  uint64_t a = 0, b = 0;
  if (n >= 8) {
    memcpy(&a, p, 8);
    memcpy(&b, p + n - 8, 8);
  }
  return n + a + (b ^ (b >> 7));
}

/* ------------------------------------------------------------------ */
/* Files                                                                */
/* ------------------------------------------------------------------ */

static int rm_one(const char *p, const struct stat *sb, int flag,
                  struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  remove(p);
  return 0;
}

static void rm_tree(const char *dir) {
  nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Allocated bytes of the regular files in dir; the largest one's path in
 * big (if not NULL). */
static uint64_t dir_bytes(const char *dir, char *big, size_t cap) {
  char path[PATH_MAX];
  uint64_t sum = 0, best = 0;
  struct stat st;
  DIR *d = opendir(dir);
  if (!d)
    return 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    bench_path(path, sizeof path, dir, e->d_name);
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    sum += (uint64_t)st.st_blocks * 512u;
    if (big && (uint64_t)st.st_size > best) {
      best = (uint64_t)st.st_size;
      snprintf(big, cap, "%s", path);
    }
  }
  closedir(d);
  return sum;
}

/* Write back and drop from the page cache every file in dir; returns the
 * share of their pages still resident afterwards (mincore). */
static double drop_cache(const char *dir) {
  char path[PATH_MAX];
  uint64_t pages = 0, res = 0;
  long pg = sysconf(_SC_PAGESIZE);
  DIR *d = opendir(dir);
  if (!d)
    return NAN;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.')
      continue;
    bench_path(path, sizeof path, dir, e->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      continue;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      fdatasync(fd);
      posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
      size_t len = (size_t)st.st_size;
      void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
      if (m != MAP_FAILED) {
        size_t np = (len + (size_t)pg - 1) / (size_t)pg;
        unsigned char *v = malloc(np);
        if (v && mincore(m, len, v) == 0)
          for (size_t i = 0; i < np; i++)
            res += v[i] & 1;
        free(v);
        munmap(m, len);
        pages += np;
      }
    }
    close(fd);
  }
  closedir(d);
  return pages ? (double)res / (double)pages : 0;
}

/* The read_ahead_kb of the block device under dir, as text. */
static const char *readahead_of(const char *dir) {
  static char out[200];
  struct stat st;
  snprintf(out, sizeof out, "unknown");
  if (stat(dir, &st) != 0)
    return out;
  static const char *const fmt[] = {
      "/sys/dev/block/%u:%u/queue/read_ahead_kb",
      "/sys/dev/block/%u:%u/../queue/read_ahead_kb", /* a partition */
      "/sys/class/bdi/%u:%u/read_ahead_kb"};
  for (unsigned k = 0; k < 3; k++) {
    char path[128];
    unsigned long long kb;
    snprintf(path, sizeof path, fmt[k], major(st.st_dev), minor(st.st_dev));
    FILE *f = fopen(path, "re");
    if (!f)
      continue;
    int ok = fscanf(f, "%llu", &kb) == 1;
    fclose(f);
    if (ok) {
      snprintf(out, sizeof out, "%llu KiB (%s)", kb, path);
      break;
    }
  }
  return out;
}

/* ------------------------------------------------------------------ */
/* The cgroup                                                           */
/* ------------------------------------------------------------------ */

static int write_str(const char *dir, const char *file, const char *s) {
  char path[PATH_MAX];
  bench_path(path, sizeof path, dir, file);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  ssize_t w = write(fd, s, strlen(s));
  int err = w < 0 ? -errno : 0;
  close(fd);
  return err;
}

static uint64_t read_u64(const char *dir, const char *file) {
  char path[PATH_MAX];
  unsigned long long v = 0;
  bench_path(path, sizeof path, dir, file);
  FILE *f = fopen(path, "re");
  if (!f)
    return 0;
  if (fscanf(f, "%llu", &v) != 1)
    v = 0;
  fclose(f);
  return v;
}

/* This process's cgroup path in hierarchy v1 (controller "memory") or v2
 * ("" controllers), from /proc/self/cgroup; "/" if not found. */
static void own_cgroup(int v, char *out, size_t cap) {
  snprintf(out, cap, "/");
  FILE *f = fopen("/proc/self/cgroup", "re");
  if (!f)
    return;
  char line[PATH_MAX + 64];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2)
      continue;
    *c2 = 0;
    bool hit = false;
    if (v == 2) {
      hit = c1 == line + 1 && line[0] == '0' && c1[1] == 0; /* "0::" */
    } else {
      for (char *t = strtok(c1 + 1, ","); t; t = strtok(NULL, ","))
        hit |= strcmp(t, "memory") == 0;
    }
    if (hit) {
      snprintf(out, cap, "%s", c2 + 1);
      break;
    }
  }
  fclose(f);
}

/* Make the run's cgroup and set its limits; 0, or -1 with why. */
static int cg_setup(char *why, size_t wl) {
  if (geteuid() != 0) {
    snprintf(why, wl, "not root (uid %u): the memory limit is a cgroup",
             (unsigned)geteuid());
    return -1;
  }
  char base[PATH_MAX], own[PATH_MAX / 2], name[64];
  const char *mnt;
  if (access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0) {
    cfg.cgv = 1;
    mnt = "/sys/fs/cgroup/memory";
  } else if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0) {
    cfg.cgv = 2;
    mnt = "/sys/fs/cgroup";
  } else {
    snprintf(why, wl, "no memory cgroup: neither /sys/fs/cgroup/memory "
                      "(v1) nor /sys/fs/cgroup/cgroup.controllers (v2)");
    return -1;
  }
  own_cgroup(cfg.cgv, own, sizeof own);
  snprintf(base, sizeof base, "%s%s", mnt, own);
  if (access(base, W_OK) != 0) /* (a cgroup namespace: own is its root) */
    snprintf(base, sizeof base, "%s", mnt);
  if (cfg.cgv == 2) {
    FILE *f = NULL;
    char ctl[PATH_MAX], line[512] = "";
    bench_path(ctl, sizeof ctl, base, "cgroup.subtree_control");
    if ((f = fopen(ctl, "re")) != NULL) {
      if (!fgets(line, sizeof line, f))
        line[0] = 0;
      fclose(f);
    }
    if (!strstr(line, "memory") &&
        write_str(base, "cgroup.subtree_control", "+memory") != 0) {
      snprintf(why, wl, "cannot enable the memory controller below %s "
                        "(cgroup v2: it holds processes?): %s", base,
                        strerror(errno));
      return -1;
    }
  }
  snprintf(name, sizeof name, "fsc_big_bench_%ld", (long)getpid());
  bench_path(cfg.cg, sizeof cfg.cg, base, name);
  if (mkdir(cfg.cg, 0755) != 0) {
    snprintf(why, wl, "cannot make a cgroup %s: %s", cfg.cg, strerror(errno));
    cfg.cg[0] = 0;
    return -1;
  }
  cfg.cg_made = true;
  char lim[32], memsw[32];
  uint64_t l = cfg.limit_mib << 20, s = cfg.swap_mib << 20;
  snprintf(lim, sizeof lim, "%" PRIu64, l);
  int rc;
  if (cfg.cgv == 1) {
    snprintf(memsw, sizeof memsw, "%" PRIu64, l + s);
    rc = write_str(cfg.cg, "memory.limit_in_bytes", lim);
    if (!rc) {
      int r2 = write_str(cfg.cg, "memory.memsw.limit_in_bytes", memsw);
      if (r2 && r2 != -ENOENT)
        rc = r2;
      else if (r2 == -ENOENT)
        printf("note: no memory.memsw.limit_in_bytes (swap accounting off):"
               " memory only\n");
    }
  } else {
    snprintf(memsw, sizeof memsw, "%" PRIu64, s);
    rc = write_str(cfg.cg, "memory.max", lim);
    if (!rc) {
      int r2 = write_str(cfg.cg, "memory.swap.max", memsw);
      if (r2 == -ENOENT)
        printf("note: no memory.swap.max: memory only\n");
      else if (r2)
        rc = r2;
    }
  }
  if (rc) {
    snprintf(why, wl, "cannot set the limit of %s: %s", cfg.cg,
             strerror(-rc));
    return -1;
  }
  return 0;
}

static void cg_join(void) {
  char pid[32];
  snprintf(pid, sizeof pid, "%ld", (long)getpid());
  int rc = write_str(cfg.cg, "cgroup.procs", pid);
  if (rc)
    bench_die("joining the cgroup %s: %s", cfg.cg, strerror(-rc));
}

static void cg_reset_peak(void) {
  if (cfg.cgv == 1)
    write_str(cfg.cg, "memory.max_usage_in_bytes", "0");
}

static uint64_t cg_peak(void) {
  return read_u64(cfg.cg, cfg.cgv == 1 ? "memory.max_usage_in_bytes"
                                       : "memory.peak");
}

static void cleanup(void) {
  if (g_child > 0)
    kill(g_child, SIGKILL);
  if (cfg.root[0])
    rm_tree(cfg.root);
  if (cfg.made_parent)
    rmdir(cfg.dir_parent);
  if (cfg.cg_made && rmdir(cfg.cg) != 0)
    fprintf(stderr, "big_bench: rmdir %s: %s\n", cfg.cg, strerror(errno));
}

static void on_signal(int sig) {
  g_stop = sig;
  if (g_child > 0)
    kill(g_child, SIGKILL);
}

static void stop_if_asked(void) {
  if (!g_stop)
    return;
  int sig = g_stop;
  fprintf(stderr, "big_bench: interrupted; removing %s\n", cfg.root);
  if (g_child > 0)
    waitpid(g_child, NULL, 0);
  g_child = 0;
  cleanup();
  signal(sig, SIG_DFL);
  raise(sig);
  _exit(128 + sig);
}

/* ------------------------------------------------------------------ */
/* Key sequences                                                        */
/* ------------------------------------------------------------------ */

static uint64_t gcd(uint64_t a, uint64_t b) {
  while (b) {
    uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/* G indices of stored keys: uniform, or Zipf(0.99) by rank (Gray et al.'s
 * generator, as YCSB's), rank r being key (r * A) mod n with A coprime to
 * n, so the hot keys are scattered over the put order (and the files). */
static void make_indices(uint64_t *idx, uint64_t g, uint64_t n, bool zipf) {
  uint64_t s = zipf ? SEED_ZIPF : SEED_UNI;
  if (!zipf) {
    for (uint64_t j = 0; j < g; j++)
      idx[j] = rand_index(&s, n);
    return;
  }
  double zetan = 0;
  for (uint64_t i = n; i >= 1; i--) /* (small terms first: less rounding) */
    zetan += pow((double)i, -ZIPF_THETA);
  double zeta2 = 1 + pow(0.5, ZIPF_THETA);
  double alpha = 1 / (1 - ZIPF_THETA);
  double eta = (1 - pow(2.0 / (double)n, 1 - ZIPF_THETA)) / (1 - zeta2 / zetan);
  uint64_t a = (UINT64_C(0x9E3779B97F4A7C15) % n) | 1;
  while (gcd(a, n) != 1)
    a += 2;
  for (uint64_t j = 0; j < g; j++) {
    double u = (double)(xorshift(&s) >> 11) * 0x1p-53, uz = u * zetan;
    uint64_t r;
    if (uz < 1)
      r = 0;
    else if (uz < zeta2)
      r = 1;
    else
      r = (uint64_t)((double)n * pow(eta * u - eta + 1, alpha));
    if (r >= n)
      r = n - 1;
    idx[j] = (uint64_t)(((unsigned __int128)r * a) % n);
  }
}

/* ------------------------------------------------------------------ */
/* The phases (each in a child process)                                 */
/* ------------------------------------------------------------------ */

/* Bytes this process has caused to be read from storage; false if the
 * kernel does not count them. */
static bool io_read_bytes(uint64_t *out) {
  FILE *f = fopen("/proc/self/io", "re");
  if (!f)
    return false;
  char line[128];
  bool ok = false;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "read_bytes: %" SCNu64, out) == 1)
      ok = true;
  fclose(f);
  return ok;
}

static uint64_t majflt(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (uint64_t)ru.ru_majflt;
}

static void ph_fill(struct phase_res *r, const char *dir) {
  const struct engine *e = bench_running;
  uint64_t n = bench_p.n;
  void *h = e->open(dir, BK_DICT, BM_CREATE);
  uint64_t f0 = majflt(), t0 = now_ns();
  for (uint64_t i = 0; i < n; i++) {
    make_key(i, g_key);
    make_value(i, g_val);
    e->put(h, g_key, bench_p.klen, g_val, bench_p.vlen);
    if ((i & 1023) == 0)
      __atomic_store_n(&r->done, i, __ATOMIC_RELAXED);
  }
  if (e->flush)
    e->flush(h);
  uint64_t t = now_ns() - t0;
  __atomic_store_n(&r->done, n, __ATOMIC_RELAXED);
  r->majflt = majflt() - f0;
  r->secs = (double)t / 1e9;
  r->ns_op = (double)t / (double)n;
  e->close(h);
}

static void ph_get(struct phase_res *r, const char *dir) {
  const struct engine *e = bench_running;
  uint64_t g = cfg.gets, want = 0, acc = 0, io0 = 0, io1 = 0;
  for (uint64_t j = 0; j < g; j++) { /* the checksum the gets must give */
    make_value(g_idx[j], g_val);
    want += consume(g_val, bench_p.vlen);
  }
  void *h = e->open(dir, BK_DICT, BM_READ);
  bool io = io_read_bytes(&io0);
  uint64_t f0 = majflt(), t0 = now_ns(), prev = t0;
  for (uint64_t j = 0; j < g; j++) {
    make_key(g_idx[j], g_key);
    const void *v;
    size_t vl;
    if (!e->get(h, g_key, bench_p.klen, &v, &vl))
      bench_die("get: key %" PRIu64 " is missing", g_idx[j]);
    acc += consume(v, vl);
    uint64_t t = now_ns();
    hist_add(&r->h, t - prev);
    prev = t;
    if ((j & 255) == 0)
      __atomic_store_n(&r->done, j, __ATOMIC_RELAXED);
  }
  uint64_t t = prev - t0;
  r->majflt = majflt() - f0;
  r->rbytes_ok = io && io_read_bytes(&io1);
  r->rbytes = io1 - io0;
  __atomic_store_n(&r->done, g, __ATOMIC_RELAXED);
  r->secs = (double)t / 1e9;
  r->ns_op = (double)t / (double)g;
  e->close(h);
  if (acc != want)
    bench_die("the values read are not the values written (checksum "
              "%" PRIx64 ", expected %" PRIx64 ")", acc, want);
}

static void ph_pread(struct phase_res *r, const char *file) {
  int fd = open(file, O_RDONLY | O_DIRECT | O_CLOEXEC);
  r->direct = fd >= 0;
  if (fd < 0) {
    if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
      bench_die("open %s: %s", file, strerror(errno));
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM);
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < 4096)
    bench_die("%s: no 4 KiB to read", file);
  /* The allocated bytes at most: LMDB's file is as large as its map and
   * sparse; its pages are at the front. */
  uint64_t size = (uint64_t)st.st_size, alloc = (uint64_t)st.st_blocks * 512;
  uint64_t pages = (size < alloc ? size : alloc) / 4096, s = SEED_PREAD,
           g = cfg.gets, tries = 0;
  if (!pages)
    bench_die("%s: no 4 KiB to read", file);
  void *buf;
  if (posix_memalign(&buf, 4096, 4096) != 0)
    bench_die("out of memory");
  uint64_t io0 = 0, io1 = 0;
  bool io = io_read_bytes(&io0);
  uint64_t t0 = now_ns(), prev = t0;
  static const unsigned char zero[4096];
  uint64_t skipped_ns = 0;
  for (uint64_t j = 0; j < g;) {
    off_t off = (off_t)(rand_index(&s, pages) * 4096);
    if (pread(fd, buf, 4096, off) != 4096)
      bench_die("pread %s at %lld: %s", file, (long long)off,
                strerror(errno));
    uint64_t t = now_ns();
    /* A page of zeros is a hole or space allocated ahead (fallocate),
     * which the file system answers without reading the disk: not a
     * read of data, drawn again. */
    if (++tries > 50 * g)
      bench_die("%s: too few pages of data to read", file);
    if (memcmp(buf, zero, 4096) == 0) {
      skipped_ns += t - prev;
      prev = t;
      continue;
    }
    hist_add(&r->h, t - prev);
    prev = t;
    j++;
    if ((j & 255) == 0)
      __atomic_store_n(&r->done, j, __ATOMIC_RELAXED);
  }
  r->rbytes_ok = io && io_read_bytes(&io1);
  r->rbytes = io1 - io0;
  r->secs = (double)(prev - t0) / 1e9;
  r->ns_op = (double)(prev - t0 - skipped_ns) / (double)g;
  __atomic_store_n(&r->done, g, __ATOMIC_RELAXED);
  free(buf);
  close(fd);
}

static const char *const done_unit[P_COUNT] = {"keys", "gets", "gets",
                                               "reads", "keys"};

/* Run phase ph of engine ei at ratio ri in a new child process (in the
 * cgroup unless it is the fill without a limit), under the wall-clock
 * cap.  arg: the store's directory, or the file (pread). */
static void run_phase(unsigned ri, unsigned ei, enum phase ph,
                      const char *arg) {
  struct phase_res *r = &g_res->p[ri][ei][ph];
  bool in_cg = ph != P_FREE;
  if (in_cg)
    cg_reset_peak();
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    r->st = S_FAIL;
    snprintf(r->msg, sizeof r->msg, "fork: %s", strerror(errno));
    return;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    bench_running = all_engines[ei];
    if (in_cg)
      cg_join();
    if (ph == P_FILL || ph == P_FREE)
      ph_fill(r, arg);
    else if (ph == P_PREAD)
      ph_pread(r, arg);
    else
      ph_get(r, arg);
    fflush(NULL);
    _exit(0);
  }
  g_child = pid;
  uint64_t t0 = now_ns(), cap = (uint64_t)cfg.cap_s * 1000000000u,
           next_note = 60;
  int st = -1;
  for (;;) {
    pid_t w = waitpid(pid, &st, WNOHANG);
    if (w == pid)
      break;
    if (w < 0 && errno != EINTR) {
      st = -1;
      break;
    }
    stop_if_asked();
    double el = (double)(now_ns() - t0) / 1e9;
    if (now_ns() - t0 >= cap) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
      g_child = 0;
      r->st = S_DNF;
      r->secs = el;
      uint64_t done = __atomic_load_n(&r->done, __ATOMIC_RELAXED);
      int n = snprintf(r->msg, sizeof r->msg,
                       "did not finish at %" PRIu64 " %s after %.0f s", done,
                       done_unit[ph], el);
      if (done && n > 0 && (size_t)n < sizeof r->msg)
        snprintf(r->msg + n, sizeof r->msg - (size_t)n,
                 " (%.1f us per %s until then)", el * 1e6 / (double)done,
                 ph == P_FILL || ph == P_FREE ? "put" : "get");
      printf("  %s %g x: %s: %s\n", all_engines[ei]->name, cfg.ratios[ri],
             phase_name[ph], r->msg);
      if (in_cg)
        r->peak = cg_peak();
      return;
    }
    if (el >= (double)next_note) {
      printf("  %s %g x: %s: %" PRIu64 " %s after %.0f s\n",
             all_engines[ei]->name, cfg.ratios[ri], phase_name[ph],
             __atomic_load_n(&r->done, __ATOMIC_RELAXED), done_unit[ph], el);
      fflush(stdout);
      next_note += 60;
    }
    usleep(20000);
  }
  g_child = 0;
  stop_if_asked();
  if (in_cg)
    r->peak = cg_peak();
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
    r->st = S_OK;
  } else {
    r->st = S_FAIL;
    if (WIFSIGNALED(st))
      snprintf(r->msg, sizeof r->msg,
               "killed by signal %d at %" PRIu64 " %s%s", WTERMSIG(st),
               r->done, done_unit[ph],
               WTERMSIG(st) == SIGKILL && in_cg
                   ? " (the cgroup's OOM killer?)" : "");
    else
      snprintf(r->msg, sizeof r->msg, "failed (exit status %d) at %" PRIu64
               " %s", WIFEXITED(st) ? WEXITSTATUS(st) : -1, r->done,
               done_unit[ph]);
    printf("  %s %g x: %s: %s\n", all_engines[ei]->name, cfg.ratios[ri],
           phase_name[ph], r->msg);
  }
}

/* ------------------------------------------------------------------ */
/* Report                                                               */
/* ------------------------------------------------------------------ */

enum kind { K_KEYS, K_FILES, K_XLIM, K_PEAK, K_NSOP, K_FILLX, K_MEAN, K_P50,
            K_P99, K_MAX, K_FLT, K_KIB, K_RES, K_VSPREAD, K_DIRECT };
static const struct row {
  const char *label, *id;
  enum phase ph;
  enum kind k;
} rows[] = {
    {"keys", "keys", P_FILL, K_KEYS},
    {"files after the fill (MiB)", "files_mib", P_FILL, K_FILES},
    {"files / limit", "files_x_limit", P_FILL, K_XLIM},
    {"cgroup peak during the fill (MiB)", "fill_cgroup_peak_mib", P_FILL,
     K_PEAK},
    {"fill under the limit (ns/put)", "fill_ns", P_FILL, K_NSOP},
    {"fill without a limit (ns/put)", "fill_free_ns", P_FREE, K_NSOP},
    {"fill: limit / no limit [<= 3]", "fill_x_free", P_FILL, K_FILLX},
    {"uniform get, cold: mean (us)", "get_u_mean_us", P_GETU, K_MEAN},
    {"  p50 (us)", "get_u_p50_us", P_GETU, K_P50},
    {"  p99 (us)", "get_u_p99_us", P_GETU, K_P99},
    {"  max (us)", "get_u_max_us", P_GETU, K_MAX},
    {"  major faults / get [<= 1.2]", "get_u_majflt", P_GETU, K_FLT},
    {"  KiB read from storage / get", "get_u_read_kib", P_GETU, K_KIB},
    {"  resident at the start (%)", "get_u_resident_pct", P_GETU, K_RES},
    {"  mean / pread mean [<= 1.5]", "get_u_x_pread", P_GETU, K_VSPREAD},
    {"Zipf(0.99) get, cold: mean (us)", "get_z_mean_us", P_GETZ, K_MEAN},
    {"  p50 (us)", "get_z_p50_us", P_GETZ, K_P50},
    {"  p99 (us)", "get_z_p99_us", P_GETZ, K_P99},
    {"  max (us)", "get_z_max_us", P_GETZ, K_MAX},
    {"  major faults / get [<= 1.2]", "get_z_majflt", P_GETZ, K_FLT},
    {"  KiB read from storage / get", "get_z_read_kib", P_GETZ, K_KIB},
    {"  mean / pread mean [<= 1.5]", "get_z_x_pread", P_GETZ, K_VSPREAD},
    {"floor: random 4 KiB pread: mean (us)", "pread_mean_us", P_PREAD,
     K_MEAN},
    {"  p50 (us)", "pread_p50_us", P_PREAD, K_P50},
    {"  p99 (us)", "pread_p99_us", P_PREAD, K_P99},
    {"  max (us)", "pread_max_us", P_PREAD, K_MAX},
    {"  KiB read from storage / read", "pread_read_kib", P_PREAD, K_KIB},
    {"  O_DIRECT (1) or fadvise (0)", "pread_direct", P_PREAD, K_DIRECT},
};
#define N_ROWS (sizeof rows / sizeof rows[0])

static bool g_sel[N_ALL];

/* The value of a row for engine ei at ratio ri; *st: S_OK, or the
 * phase's status (S_DNF, S_FAIL, S_SKIP, S_NONE) when there is none. */
static double row_value(const struct row *w, unsigned ri, unsigned ei,
                        int *st) {
  const struct phase_res *r = &g_res->p[ri][ei][w->ph];
  const struct phase_res *pr = &g_res->p[ri][ei][P_PREAD];
  double lim = (double)(cfg.limit_mib << 20);
  *st = S_OK;
  switch (w->k) {
  case K_KEYS:
    return (double)g_res->n[ri];
  case K_FILES:
  case K_XLIM:
    if (!r->files) {
      *st = S_NONE;
      return NAN;
    }
    return w->k == K_FILES ? (double)r->files / 1048576.0
                           : (double)r->files / lim;
  case K_PEAK:
    if (!r->peak)
      *st = S_NONE;
    return (double)r->peak / 1048576.0;
  default:
    break;
  }
  if (r->st != S_OK) {
    *st = r->st;
    return NAN;
  }
  switch (w->k) {
  case K_NSOP:
    return r->ns_op;
  case K_FILLX: {
    const struct phase_res *f = &g_res->p[ri][ei][P_FREE];
    if (f->st != S_OK) {
      *st = f->st;
      return NAN;
    }
    return r->ns_op / f->ns_op;
  }
  case K_MEAN:
    return r->ns_op / 1e3;
  case K_P50:
    return hist_quantile(&r->h, 0.5) / 1e3;
  case K_P99:
    return hist_quantile(&r->h, 0.99) / 1e3;
  case K_MAX:
    return (double)r->h.max / 1e3;
  case K_FLT:
    return (double)r->majflt / (double)cfg.gets;
  case K_KIB:
    if (!r->rbytes_ok)
      *st = S_NONE;
    return (double)r->rbytes / 1024.0 / (double)cfg.gets;
  case K_RES:
    return r->resident * 100;
  case K_VSPREAD:
    if (pr->st != S_OK) {
      *st = pr->st;
      return NAN;
    }
    return r->ns_op / pr->ns_op;
  case K_DIRECT:
    return r->direct;
  default:
    return NAN;
  }
}

static const char *st_text(int st) {
  return st == S_DNF ? "DNF" : st == S_FAIL ? "FAIL" : st == S_SKIP ? "-"
                                                                   : "n/a";
}

static void fmt_cell(char *b, size_t cap, double v, int st, enum kind k) {
  if (st != S_OK)
    snprintf(b, cap, "%s", st_text(st));
  else if (k == K_KEYS || k == K_DIRECT || k == K_NSOP)
    snprintf(b, cap, "%.0f", v);
  else if (v >= 100)
    snprintf(b, cap, "%.0f", v);
  else if (v >= 10)
    snprintf(b, cap, "%.1f", v);
  else
    snprintf(b, cap, "%.2f", v);
}

static void print_tables(void) {
  for (unsigned ri = 0; ri < cfg.nratios; ri++) {
    printf("\n%g x the limit (%" PRIu64 " MiB): %" PRIu64 " keys, %" PRIu64
           " gets per phase\n  %-40s", cfg.ratios[ri], cfg.limit_mib,
           g_res->n[ri], cfg.gets, "");
    for (unsigned ei = 0; ei < N_ALL; ei++)
      if (g_sel[ei])
        printf(" %11s", all_engines[ei]->name);
    printf("\n");
    for (unsigned k = 0; k < N_ROWS; k++) {
      printf("  %-40s", rows[k].label);
      for (unsigned ei = 0; ei < N_ALL; ei++) {
        if (!g_sel[ei])
          continue;
        int st;
        char b[32];
        double v = row_value(&rows[k], ri, ei, &st);
        fmt_cell(b, sizeof b, v, st, rows[k].k);
        printf(" %11s", b);
      }
      printf("\n");
    }
    for (unsigned ei = 0; ei < N_ALL; ei++)
      for (unsigned ph = 0; ph < P_COUNT; ph++)
        if (g_sel[ei] && g_res->p[ri][ei][ph].msg[0])
          printf("  %s, %s: %s\n", all_engines[ei]->name, phase_name[ph],
                 g_res->p[ri][ei][ph].msg);
  }
}

/* One target line: met / missed / not measured. */
static void target(const char *what, double v, int st, bool ok_if_below,
                   double bound) {
  if (st != S_OK)
    printf("  %-58s %s\n", what, st == S_DNF ? "missed (did not finish)"
                                             : "not measured");
  else
    printf("  %-58s %6.2f  %s\n", what, v,
           (ok_if_below ? v <= bound : v >= bound) ? "met" : "MISSED");
}

static int find_engine(const char *name) {
  for (unsigned ei = 0; ei < N_ALL; ei++)
    if (g_sel[ei] && strcmp(all_engines[ei]->name, name) == 0)
      return (int)ei;
  return -1;
}

static void print_targets(void) {
  int f = find_engine("fsc"), l = find_engine("lmdb");
  if (f < 0)
    return;
  printf("\ntargets (fsc; speed is never asserted)\n");
  for (unsigned ri = 0; ri < cfg.nratios; ri++) {
    char what[160];
    int st;
    double v;
    double x = cfg.ratios[ri];
    static const char *const pick[] = {"fill_x_free", "get_u_x_pread",
                                       "get_z_x_pread", "get_u_majflt",
                                       "get_z_majflt"};
    for (unsigned k = 0; k < sizeof pick / sizeof pick[0]; k++) {
      const struct row *w = rows;
      while (strcmp(w->id, pick[k]) != 0)
        w++;
      v = row_value(w, ri, (unsigned)f, &st);
      snprintf(what, sizeof what, "%g x: %s%s", x,
               w->ph == P_GETU ? "uniform get: " : w->ph == P_GETZ
                                                       ? "Zipf get: " : "",
               w->label[0] == ' ' ? w->label + 2 : w->label);
      bool fault = w->k == K_FLT;
      target(what, v, st, true, fault ? 1.2 : w->k == K_FILLX ? 3 : 1.5);
    }
    if (l < 0)
      continue;
    static const enum phase cmp[] = {P_FILL, P_GETU, P_GETZ};
    for (unsigned k = 0; k < 3; k++) {
      const struct phase_res *a = &g_res->p[ri][f][cmp[k]],
                             *b = &g_res->p[ri][l][cmp[k]];
      snprintf(what, sizeof what, "%g x: %s: LMDB / fsc [>= 1]", x,
               phase_name[cmp[k]]);
      if ((a->st == S_OK || a->st == S_DNF) &&
          (b->st == S_OK || b->st == S_DNF) &&
          (a->st == S_DNF || b->st == S_DNF)) {
        /* by the rate within the cap: seconds per operation done */
        double ra = a->st == S_OK ? a->ns_op : a->secs * 1e9 / (double)a->done,
               rb = b->st == S_OK ? b->ns_op : b->secs * 1e9 / (double)b->done;
        snprintf(what + strlen(what), sizeof what - strlen(what),
                 " (rate until the cap)");
        target(what, a->done && b->done ? rb / ra : NAN,
               a->done && b->done ? S_OK : S_NONE, false, 1);
      } else
        target(what, a->st == S_OK && b->st == S_OK ? b->ns_op / a->ns_op
                                                    : NAN,
               a->st == S_OK && b->st == S_OK ? S_OK : a->st == S_OK
                                                           ? b->st : a->st,
               false, 1);
    }
  }
}

static void write_tsv(const char *path) {
  FILE *f = fopen(path, "we");
  if (!f) {
    fprintf(stderr, "big_bench: %s: %s\n", path, strerror(errno));
    return;
  }
  fprintf(f, "ratio\tlimit_mib\tengine\tmetric\tvalue\tstatus\n");
  for (unsigned ri = 0; ri < cfg.nratios; ri++)
    for (unsigned ei = 0; ei < N_ALL; ei++) {
      if (!g_sel[ei])
        continue;
      for (unsigned k = 0; k < N_ROWS; k++) {
        int st;
        double v = row_value(&rows[k], ri, ei, &st);
        if (st == S_OK)
          fprintf(f, "%g\t%" PRIu64 "\t%s\t%s\t%.6g\tok\n", cfg.ratios[ri],
                  cfg.limit_mib, all_engines[ei]->name, rows[k].id, v);
        else
          fprintf(f, "%g\t%" PRIu64 "\t%s\t%s\tNA\t%s\n", cfg.ratios[ri],
                  cfg.limit_mib, all_engines[ei]->name, rows[k].id,
                  st == S_DNF ? "dnf" : st == S_FAIL ? "fail"
                                  : st == S_SKIP ? "skipped" : "na");
      }
    }
  fclose(f);
}

/* ------------------------------------------------------------------ */
/* main                                                                 */
/* ------------------------------------------------------------------ */

/* The cold gets and the floor on the store in dir (big: its largest
 * file), the page cache dropped before each. */
static void do_gets(unsigned ri, unsigned ei, const char *dir,
                    const char *big) {
  struct phase_res *p = g_res->p[ri][ei];
  for (int z = 0; z < 2; z++) {
    enum phase ph = z ? P_GETZ : P_GETU;
    make_indices(g_idx, cfg.gets, g_res->n[ri], z);
    p[ph].resident = drop_cache(dir);
    run_phase(ri, ei, ph, dir);
  }
  drop_cache(dir);
  run_phase(ri, ei, P_PREAD, big);
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: big_bench [-m MiB] [-r R[,R...]] [-b BYTES] [-g GETS] "
          "[-c SECS] [-s SWAP_MiB]\n"
          "                 [-e ENGINES] [-d DIR] [-t FILE.tsv]\n"
          "  -m  the cgroup's memory limit in MiB (default 512)\n"
          "  -r  file sizes as multiples of the limit (default 4,10)\n"
          "  -b  bytes per key for the key count N = R x limit / b "
          "(default 144)\n"
          "  -g  gets (and preads) per get phase (default 100000)\n"
          "  -c  wall-clock cap of each phase in seconds (default 600)\n"
          "  -s  swap allowed beyond the limit, MiB (default 0: memory+swap"
          " = memory)\n"
          "  -e  engines, comma-separated (default fsc,lmdb,tkrzw; also "
          "lmdb_b1000)\n"
          "  -d  parent of the run's private directory (default $TMPDIR "
          "or /tmp)\n"
          "  -t  write the results as TSV\n");
}

static bool engine_wanted(const char *name) {
  const char *p = cfg.only ? cfg.only : "fsc,lmdb,tkrzw";
  size_t k = strlen(name);
  while (*p) {
    size_t m = strcspn(p, ",");
    if (m == k && strncmp(p, name, k) == 0)
      return true;
    p += m + (p[m] == ',');
  }
  return false;
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out) {
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || end == s || v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  cfg.limit_mib = 512;
  cfg.bpk = 144;
  cfg.gets = 100000;
  cfg.cap_s = 600;
  cfg.ratios[0] = 4;
  cfg.ratios[1] = 10;
  cfg.nratios = 2;
  bench_p.klen = 16;
  bench_p.vlen = 100;
  int opt;
  uint64_t v;
  while ((opt = getopt(argc, argv, "m:r:b:g:c:s:e:d:t:h")) != -1) {
    switch (opt) {
    case 'm':
      if (parse_u64(optarg, 16, UINT64_C(1) << 30, &cfg.limit_mib)) {
        fprintf(stderr, "big_bench: -m: 16 .. 2^30 MiB\n");
        return 2;
      }
      break;
    case 'r': {
      cfg.nratios = 0;
      for (char *p = optarg; *p;) {
        char *end;
        double x = strtod(p, &end);
        if (end == p || x < 0.1 || x > 1000 || cfg.nratios == MAX_RATIOS ||
            (*end && *end != ',')) {
          fprintf(stderr, "big_bench: -r: up to %d ratios, each 0.1 .. "
                          "1000, comma-separated\n", MAX_RATIOS);
          return 2;
        }
        cfg.ratios[cfg.nratios++] = x;
        p = end + (*end == ',');
      }
      break;
    }
    case 'b':
      if (parse_u64(optarg, 16, 1 << 20, &cfg.bpk)) {
        fprintf(stderr, "big_bench: -b: 16 .. 1048576\n");
        return 2;
      }
      break;
    case 'g':
      if (parse_u64(optarg, 100, UINT64_C(1) << 30, &cfg.gets)) {
        fprintf(stderr, "big_bench: -g: 100 .. 2^30\n");
        return 2;
      }
      break;
    case 'c':
      if (parse_u64(optarg, 1, 86400, &v)) {
        fprintf(stderr, "big_bench: -c: 1 .. 86400 s\n");
        return 2;
      }
      cfg.cap_s = (unsigned)v;
      break;
    case 's':
      if (parse_u64(optarg, 0, UINT64_C(1) << 30, &cfg.swap_mib)) {
        fprintf(stderr, "big_bench: -s: 0 .. 2^30 MiB\n");
        return 2;
      }
      break;
    case 'e':
      cfg.only = optarg;
      break;
    case 'd':
      cfg.dir_parent = optarg;
      break;
    case 't':
      cfg.tsv = optarg;
      break;
    case 'h':
      usage(stdout);
      return 0;
    default:
      usage(stderr);
      return 2;
    }
  }
  if (optind != argc) {
    usage(stderr);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  bench_prog = "big_bench";
  bench_keys_init();
  unsigned nsel = 0;
  for (unsigned ei = 0; ei < N_ALL; ei++)
    nsel += g_sel[ei] = engine_wanted(all_engines[ei]->name);
  printf("big_bench: stores of %zu-byte keys and %zu-byte values at ",
         bench_p.klen, bench_p.vlen);
  for (unsigned ri = 0; ri < cfg.nratios; ri++)
    printf("%s%g", ri ? ", " : "", cfg.ratios[ri]);
  printf(" x a %" PRIu64 " MiB memory limit (memory+swap: +%" PRIu64
         " MiB); %" PRIu64 " gets per phase; each phase capped at %u s\n",
         cfg.limit_mib, cfg.swap_mib, cfg.gets, cfg.cap_s);
#ifndef BENCH_HAVE_LMDB
  printf("skipped: lmdb: not built (configure did not find liblmdb-dev)\n");
#endif
#ifndef BENCH_HAVE_TKRZW
  printf("skipped: tkrzw: not built (configure did not find "
         "libtkrzw-dev)\n");
#endif
  for (unsigned ei = 0; ei < N_ALL; ei++)
    if (g_sel[ei] && all_engines[ei]->version) {
      char ver[200];
      all_engines[ei]->version(ver, sizeof ver);
      printf("  %s: %s\n", all_engines[ei]->name, ver);
    }
  if (!nsel) {
    fprintf(stderr, "big_bench: -e: no engine built here matches\n");
    return 2;
  }

  char why[PATH_MAX + 200];
  if (cg_setup(why, sizeof why) != 0) {
    printf("big_bench: skipped: %s\n", why);
    cleanup();
    return 0;
  }
  printf("cgroup v%d: %s\n", cfg.cgv, cfg.cg);

  const char *parent = cfg.dir_parent;
  if (!parent) {
    parent = getenv("TMPDIR");
    if (!parent || !*parent)
      parent = "/tmp";
  } else if (mkdir(parent, 0700) == 0) {
    cfg.made_parent = true;
  }
  bench_path(cfg.root, sizeof cfg.root, parent, "fsc_big_XXXXXX");
  if (!mkdtemp(cfg.root)) {
    fprintf(stderr, "big_bench: mkdtemp %s: %s\n", cfg.root,
            strerror(errno));
    cfg.root[0] = 0;
    cleanup();
    return 1;
  }
  bench_p.tmpdir = cfg.root;
  printf("files in %s; the device's readahead: %s\n", cfg.root,
         readahead_of(cfg.root));
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  g_res = mmap(NULL, sizeof *g_res, PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  g_idx = malloc(cfg.gets * sizeof *g_idx);
  g_key = malloc(bench_p.klen);
  g_val = malloc(bench_p.vlen);
  if (g_res == MAP_FAILED || !g_idx || !g_key || !g_val) {
    fprintf(stderr, "big_bench: out of memory\n");
    cleanup();
    return 1;
  }
  key_template(g_key);
  value_template(g_val);

  uint64_t t_start = now_ns();
  bool failed = false;
  for (unsigned ri = 0; ri < cfg.nratios; ri++) {
    uint64_t n = (uint64_t)(cfg.ratios[ri] * (double)(cfg.limit_mib << 20) /
                            (double)cfg.bpk);
    if (n < 1000)
      n = 1000;
    g_res->n[ri] = bench_p.n = n;
    printf("%g x: %" PRIu64 " keys\n", cfg.ratios[ri], n);
    for (unsigned ei = 0; ei < N_ALL; ei++) {
      if (!g_sel[ei])
        continue;
      const char *name = all_engines[ei]->name;
      struct phase_res *p = g_res->p[ri][ei];
      char dir[PATH_MAX], sub[64], big[PATH_MAX] = "";
      snprintf(sub, sizeof sub, "%s-%gx", name, cfg.ratios[ri]);
      bench_path(dir, sizeof dir, cfg.root, sub);
      if (mkdir(dir, 0700) != 0) {
        fprintf(stderr, "big_bench: mkdir %s: %s\n", dir, strerror(errno));
        failed = true;
        continue;
      }
      run_phase(ri, ei, P_FILL, dir);
      p[P_FILL].files = dir_bytes(dir, big, sizeof big);
      bool filled = p[P_FILL].st == S_OK;
      if (filled) {
        printf("  %s %g x: fill %.1f s, %.0f ns/put, files %.0f MiB\n", name,
               cfg.ratios[ri], p[P_FILL].secs, p[P_FILL].ns_op,
               (double)p[P_FILL].files / 1048576.0);
        do_gets(ri, ei, dir, big);
      }
      rm_tree(dir);
      snprintf(sub, sizeof sub, "%s-%gx-free", name, cfg.ratios[ri]);
      bench_path(dir, sizeof dir, cfg.root, sub);
      if (mkdir(dir, 0700) == 0) {
        run_phase(ri, ei, P_FREE, dir);
        if (p[P_FREE].st == S_OK) {
          p[P_FREE].files = dir_bytes(dir, big, sizeof big);
          printf("  %s %g x: fill without a limit %.1f s, %.0f ns/put\n",
                 name, cfg.ratios[ri], p[P_FREE].secs, p[P_FREE].ns_op);
          if (!filled) { /* the gets read the store filled without a limit */
            p[P_FILL].files = p[P_FREE].files;
            do_gets(ri, ei, dir, big);
            snprintf(p[P_FREE].msg, sizeof p[P_FREE].msg,
                     "the gets read the store of the fill without a limit "
                     "(%.0f MiB)", (double)p[P_FREE].files / 1048576.0);
          }
        }
        rm_tree(dir);
      }
      for (unsigned ph = P_GETU; ph <= P_PREAD; ph++)
        if (p[ph].st == S_NONE)
          p[ph].st = S_SKIP;
      for (int ph = 0; ph < P_COUNT; ph++)
        failed |= p[ph].st == S_FAIL;
    }
  }
  print_tables();
  print_targets();
  printf("\ntotal %.0f s; a shared machine skews absolute times, the ratios "
         "of one run less\n", (double)(now_ns() - t_start) / 1e9);
  if (cfg.tsv)
    write_tsv(cfg.tsv);
  cleanup();
  return failed ? 1 : 0;
}
