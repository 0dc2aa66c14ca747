/*
 * index_mem.c - owns the advice the index file's pages get about memory
 * (issue #19: stores larger than memory, doc/DESIGN.md).
 *
 * Lookups read one slot of the active table; the rest of the index file
 * (old tables, the spare, a migration's source once moved) is read no
 * more, but its pages, dirty from the writes that made them, stay in the
 * page cache until the kernel writes them back, and under a memory limit
 * they crowd out the slots the next insert needs.  So:
 *   - fsc__mem_short: memory is short (behind.c's verdict on the data
 *     file: the kernel is evicting its recent pages);
 *   - fsc__index_writeback / fsc__index_advise: a range of the index file
 *     written back now (sync_file_range(2) SYNC_FILE_RANGE_WRITE, waited
 *     for or not) or advised (MADV_PAGEOUT of a range already clean,
 *     MADV_WILLNEED): hash_migrate.c does it behind its cursor, and to
 *     the whole old table at the migration's end, while memory is short;
 *   - fsc__index_prefetch: at open, the active table's slots are read
 *     ahead (POSIX_FADV_WILLNEED, asynchronous) when they are large
 *     (PREFETCH_MIN), not in memory already (looked at only when the
 *     index file's last page, which only opens and closes touch, was not
 *     in memory: then a run of SAMPLE_PAGES pages of the table, one
 *     mincore(2) call; then only the steps missing asked for), and fit
 *     in half the
 *     memory the process may use (the
 *     machine's, or its memory cgroup's limit, v1 or v2, the smallest on
 *     the way to the root): the first gets on a cold store then fault on
 *     the record alone, not on the slot too.
 * All of it is advice: a failure is ignored, nothing depends on it for
 * correctness or durability (doc/DURABILITY.md), and nothing here runs on
 * a get or a put that neither moves a migration nor opens.
 */
#include "internal.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

/* Slots bytes below this are not read ahead: faulted in a few gets. */
#define PREFETCH_MIN (UINT64_C(1) << 20)
#define PREFETCH_STEP (UINT64_C(128) << 10)
/* Pages looked at to find a table already in memory: a run of them in
 * the table's middle, one mincore(2) call (about 1.5 us of every warm
 * open; four calls of one page each cost 4 to 5 us). */
#define SAMPLE_PAGES 16

bool fsc__mem_short(struct fsc__gen *c) {
  return ck_pr_load_32(&c->data.tight) != 0; /* (relaxed: a hint) */
}

void fsc__index_writeback(struct fsc__gen *c, uint64_t off, uint64_t len,
                          bool wait) {
  struct fsc__file *f = &c->index;
  unsigned fl = SYNC_FILE_RANGE_WRITE;
  if (wait)
    fl |= SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WAIT_AFTER;
  pthread_mutex_lock(&f->mu); /* the fd: a retired generation closes it */
  if (f->fd >= 0 && len)
    (void)sync_file_range(f->fd, (off_t)off, (off_t)len, fl);
  pthread_mutex_unlock(&f->mu);
}

void fsc__index_advise(struct fsc__gen *c, uint64_t off, uint64_t len,
                       enum fsc__index_advice a) {
  struct fsc__view *v = ck_pr_load_ptr(&c->index.cur);
  uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
  uint64_t start = (off + page - 1) / page * page, end = off + len;
  if (!v || end > v->len)
    return;
  end = end / page * page; /* whole pages inside the range only */
  if (start >= end)
    return;
  int adv = a == FSC__IDX_PAGEOUT ? MADV_PAGEOUT : MADV_WILLNEED;
  (void)madvise(v->base + start, (size_t)(end - start), adv);
}

/* The limit of memory cgroup path p (under mnt, file name lim), or
 * UINT64_MAX: none or unreadable. */
static uint64_t cg_limit(const char *mnt, const char *p, const char *lim) {
  char path[600];
  snprintf(path, sizeof path, "%s%s/%s", mnt, p, lim);
  FILE *f = fopen(path, "re");
  uint64_t v = UINT64_MAX;
  if (f) {
    if (fscanf(f, "%" SCNu64, &v) != 1)
      v = UINT64_MAX; /* v2's "max" */
    fclose(f);
  }
  return v;
}

/* The memory this process may use: the machine's, or the smallest limit
 * of its memory cgroup and the cgroups above it. */
static uint64_t mem_budget(void) {
  long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
  uint64_t best = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz
                                       : UINT64_MAX;
  FILE *f = fopen("/proc/self/cgroup", "re");
  if (!f)
    return best;
  char line[512], p[400];
  while (fgets(line, sizeof line, f)) {
    const char *mnt, *lim;
    char *s;
    if ((s = strstr(line, ":memory:")) != NULL) {
      s += 8;
      mnt = "/sys/fs/cgroup/memory";
      lim = "memory.limit_in_bytes";
    } else if (strncmp(line, "0::", 3) == 0) {
      s = line + 3;
      mnt = "/sys/fs/cgroup";
      lim = "memory.max";
    } else {
      continue;
    }
    snprintf(p, sizeof p, "%.*s", (int)strcspn(s, "\n"), s);
    for (;;) { /* this cgroup, then each one above it */
      uint64_t v = cg_limit(mnt, strcmp(p, "/") == 0 ? "" : p, lim);
      if (v < best)
        best = v;
      char *slash = strrchr(p, '/');
      if (!slash || slash == p)
        break;
      *slash = '\0';
    }
  }
  fclose(f);
  return best;
}

/* Are the SAMPLE_PAGES pages in the middle of the np pages at p all in
 * memory?  One call: a warm open pays one system call for the question.
 * (A table evicted in part is missed when the run is still in memory;
 * after a reboot, a drop of the page cache or an eviction of the file,
 * the question is answered right.) */
FSC__OPEN_PATH
static bool warm(uint8_t *p, uint64_t np, uint64_t page) {
  unsigned char in[SAMPLE_PAGES];
  uint64_t n = np < SAMPLE_PAGES ? np : SAMPLE_PAGES;
  if (mincore(p + (np - n) / 2 * page, (size_t)(n * page), in) != 0)
    return false;
  for (uint64_t i = 0; i < n; i++)
    if (!(in[i] & 1))
      return false;
  return true;
}

FSC__OPEN_PATH
void fsc__index_prefetch(struct fsc__gen *c, uint64_t off, uint64_t len) {
  if (len < PREFETCH_MIN)
    return;
  struct fsc__file *f = &c->index;
  uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), a = off / page * page;
  uint64_t np = (off + len - a + page - 1) / page;
  struct fsc__view *v = ck_pr_load_ptr(&f->cur);
  bool mapped = v && a + np * page <= v->len;
  /* An index file whose last page the open found in memory (gen.c's
   * read_marker: a page only opens and closes touch, so it is out after
   * a reboot, a drop of the page cache, or an eviction of the file) is
   * taken to be warm, and costs nothing here.  Else its table is looked
   * at: a warm one costs one mincore(2) call and nothing else. */
  if (c->index_cached || (mapped && warm(v->base + a, np, page)) ||
      len > mem_budget() / 2)
    return;
  /* What is in memory already, page by page: asked for no more.  (Where
   * that fails, every step is asked for.) */
  unsigned char *vec = NULL;
  if (mapped && (vec = malloc((size_t)np)) != NULL &&
      mincore(v->base + a, (size_t)(np * page), vec) != 0) {
    free(vec);
    vec = NULL;
  }
  pthread_mutex_lock(&f->mu);
  /* One call reads at most the device's readahead window (Linux's
   * force_page_cache_ra): a call per PREFETCH_STEP, the smallest window
   * in use.  Each submits its reads and returns (about 10 ms for 32 MiB
   * here). */
  for (uint64_t o = 0; f->fd >= 0 && o < len; o += PREFETCH_STEP) {
    uint64_t n = len - o < PREFETCH_STEP ? len - o : PREFETCH_STEP;
    bool in = vec != NULL;
    for (uint64_t q = (off + o - a) / page;
         in && q <= (off + o + n - 1 - a) / page; q++)
      in = (vec[q] & 1) != 0;
    if (!in)
      (void)posix_fadvise(f->fd, (off_t)(off + o), (off_t)n,
                          POSIX_FADV_WILLNEED);
  }
  pthread_mutex_unlock(&f->mu);
  free(vec);
}
