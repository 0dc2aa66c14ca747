/*
 * compact_bench.c - compaction throughput and the heap it uses.
 *
 * Builds a list and a dict whose data files hold -s MB (default 1024) of
 * records, half of them dead (every element / key written twice), then
 * times fsc_*_compact.  Prints, for each:
 *   - MB/s of live bytes written to the new files, and of the old data
 *     file's bytes (what the compaction had to get through);
 *   - the peak heap during the compaction (mallinfo2 sampled every 200 us
 *     by a second thread, minus the heap before), which is bounded and
 *     does not grow with the collection;
 *   - the pause a writer in another process sees: the longest time one
 *     append waited while the compaction ran;
 *   - metrics before and after (dead bytes, fragmentation, file sizes).
 * The peer figure is the same bytes copied by a plain read()/write() of
 * the data file to a new file in the same directory (cp's work), measured
 * in the same run: fsc/cp says what copying record by record costs.
 *
 * Usage: compact_bench [-s MB] [-v BYTES] [-d DIR]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fscollections.h>

#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc) {
  fprintf(stderr, "compact_bench: %s: %s: %s\n", what, fsc_strerror(rc),
          fsc_errmsg());
  exit(1);
}

static size_t heap_now(void) {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

static atomic_bool sampling;
static atomic_size_t heap_peak;

static void *sampler(void *arg) {
  (void)arg;
  while (atomic_load(&sampling)) {
    size_t h = heap_now();
    if (h > atomic_load(&heap_peak))
      atomic_store(&heap_peak, h);
    usleep(200);
  }
  return NULL;
}

/* A writer process appending to `base` (a list) and reporting its longest
 * wait for one append through a pipe, until killed by SIGTERM. */
static volatile sig_atomic_t stop;
static void on_term(int sig) {
  (void)sig;
  stop = 1;
}

static pid_t start_writer(const char *base, int fd[2], bool dict) {
  if (pipe(fd) != 0)
    exit(1);
  pid_t pid = fork();
  if (pid != 0) {
    close(fd[1]);
    return pid;
  }
  close(fd[0]);
  signal(SIGTERM, on_term);
  fsc_list *l = NULL;
  fsc_dict *d = NULL;
  int rc = dict ? fsc_dict_open(base, NULL, &d) : fsc_list_open(base, NULL, &l);
  if (rc)
    _exit(2);
  double worst = 0;
  uint64_t n = 0;
  while (!stop) {
    double t0 = now();
    if (dict) {
      char key[32];
      snprintf(key, sizeof key, "writer-%" PRIu64, n % 1000);
      rc = fsc_dict_set_str(d, key, "from another process");
    } else {
      rc = fsc_list_append_str(l, "from another process");
    }
    double dt = now() - t0;
    if (rc)
      _exit(3);
    if (dt > worst)
      worst = dt;
    n++;
    usleep(100);
  }
  if (write(fd[1], &worst, sizeof worst) != sizeof worst)
    _exit(4);
  _exit(0);
}

static double stop_writer(pid_t pid, int fd[2]) {
  kill(pid, SIGTERM);
  double worst = -1;
  if (read(fd[0], &worst, sizeof worst) != sizeof worst)
    worst = -1;
  close(fd[0]);
  waitpid(pid, NULL, 0);
  return worst;
}

static void print_metrics(const char *when, const fsc_metrics *m) {
  printf("  %-7s length %" PRIu64 ", live %.1f MB, dead %.1f MB, "
         "fragmentation %.2f, data file %.1f MB, index file %.1f MB\n",
         when, m->length, m->live_bytes / 1e6, m->dead_bytes / 1e6,
         m->fragmentation_ratio, m->data_file_bytes / 1e6,
         m->index_file_bytes / 1e6);
}

/* cp's work on the same bytes: read the data file, write a new one. */
static double copy_mbps(const char *base) {
  char src[600], dst[600];
  snprintf(src, sizeof src, "%s.data.fscollection", base);
  snprintf(dst, sizeof dst, "%s.copy", base);
  int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC,
                                           0600);
  if (in < 0 || out < 0)
    return 0;
  static char buf[1 << 20];
  double t0 = now();
  ssize_t r;
  uint64_t total = 0;
  while ((r = read(in, buf, sizeof buf)) > 0) {
    if (write(out, buf, (size_t)r) != r)
      break;
    total += (uint64_t)r;
  }
  double dt = now() - t0;
  close(in);
  close(out);
  unlink(dst);
  return total / 1e6 / dt;
}

struct result {
  double secs, live_mbps, scan_mbps, heap_mb, pause_ms, cp_mbps;
};

static struct result run(const char *base, bool dict, uint64_t mb,
                         size_t vlen) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_STRING;
  o.durability = FSC_DURABLE_NONE;
  char *val = malloc(vlen + 1);
  memset(val, 'v', vlen);
  val[vlen] = 0;
  uint64_t rec = (16 + vlen + (dict ? 32 : 0) + 7) / 8 * 8;
  uint64_t n = mb * 1000000 / rec / 2; /* each written twice */
  fsc_list *l = NULL;
  fsc_dict *d = NULL;
  int rc = dict ? fsc_dict_open(base, &o, &d) : fsc_list_open(base, &o, &l);
  if (rc)
    die("open", rc);
  char key[32];
  for (int pass = 0; pass < 2; pass++) {
    for (uint64_t i = 0; i < n; i++) {
      val[i % vlen] = (char)('a' + pass);
      if (dict) {
        snprintf(key, sizeof key, "key-%012" PRIu64, i);
        rc = fsc_dict_set_str(d, key, val);
      } else if (pass == 0) {
        rc = fsc_list_append_str(l, val);
      } else {
        fsc_value v = fsc_str(val);
        rc = fsc_list_set(l, (int64_t)i, &v);
      }
      if (rc)
        die("fill", rc);
    }
  }
  fsc_metrics before = {.size = sizeof before}, after = {.size = sizeof after};
  rc = dict ? fsc_dict_metrics(d, &before) : fsc_list_metrics(l, &before);
  if (rc)
    die("metrics", rc);
  struct result r;
  r.cp_mbps = copy_mbps(base);
  int fd[2];
  pid_t w = start_writer(base, fd, dict);
  usleep(200000);
  size_t h0 = heap_now();
  atomic_store(&heap_peak, h0);
  atomic_store(&sampling, true);
  pthread_t th;
  pthread_create(&th, NULL, sampler, NULL);
  double t0 = now();
  rc = dict ? fsc_dict_compact(d) : fsc_list_compact(l);
  r.secs = now() - t0;
  atomic_store(&sampling, false);
  pthread_join(th, NULL);
  if (rc)
    die("compact", rc);
  usleep(100000);
  r.pause_ms = stop_writer(w, fd) * 1e3;
  rc = dict ? fsc_dict_metrics(d, &after) : fsc_list_metrics(l, &after);
  if (rc)
    die("metrics", rc);
  r.heap_mb = (double)(atomic_load(&heap_peak) - h0) / 1e3;
  r.live_mbps = after.live_bytes / 1e6 / r.secs;
  r.scan_mbps = before.data_file_bytes / 1e6 / r.secs;
  printf("%s: %" PRIu64 " elements of %zu bytes, written twice; %s\n",
         dict ? "dict" : "list", n, vlen,
         dict ? "another process sets keys" : "another process appends");
  print_metrics("before", &before);
  print_metrics("after", &after);
  printf("  compaction %.2f s: %.0f MB/s of live bytes written, %.0f MB/s "
         "of the old data file; heap peak +%.1f KB; longest append in "
         "another process %.1f ms\n",
         r.secs, r.live_mbps, r.scan_mbps, r.heap_mb, r.pause_ms);
  printf("  cp of the old data file: %.0f MB/s; compaction/cp %.2fx the "
         "time per byte of the old file\n",
         r.cp_mbps, r.cp_mbps / r.scan_mbps);
  if (dict) {
    fsc_dict_destroy(d);
    fsc_dict_free(d);
  } else {
    fsc_list_destroy(l);
    fsc_list_free(l);
  }
  free(val);
  return r;
}

int main(int argc, char **argv) {
  uint64_t mb = 1024;
  size_t vlen = 1000;
  const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  int opt;
  while ((opt = getopt(argc, argv, "s:v:d:q")) != -1) {
    switch (opt) {
    case 's':
      mb = strtoull(optarg, NULL, 10);
      break;
    case 'v':
      vlen = strtoul(optarg, NULL, 10);
      break;
    case 'd':
      dir = optarg;
      break;
    case 'q':
      mb = 64;
      break;
    default:
      fprintf(stderr, "usage: compact_bench [-s MB] [-v BYTES] [-d DIR] "
                      "[-q]\n");
      return 2;
    }
  }
  char tmpl[512];
  snprintf(tmpl, sizeof tmpl, "%s/compact_bench.XXXXXX", dir);
  if (!mkdtemp(tmpl)) {
    perror("mkdtemp");
    return 1;
  }
  char base[600];
  printf("compact_bench: %" PRIu64 " MB of records, half dead, values of "
         "%zu bytes, in %s\n", mb, vlen, tmpl);
  snprintf(base, sizeof base, "%s/list", tmpl);
  run(base, false, mb, vlen);
  snprintf(base, sizeof base, "%s/dict", tmpl);
  run(base, true, mb, vlen);
  rmdir(tmpl);
  return 0;
}
