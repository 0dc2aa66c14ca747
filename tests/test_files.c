/*
 * test_files.c - what the files cost on disk and how they are mapped
 * (src/file/map.c, gen.c; doc/FORMAT.md, "Growth and trim"):
 *
 *  - growth steps: while a collection is open its data file holds at most
 *    an eighth (or 4 MiB, plus the 64 KiB rounding) more than its records
 *    use;
 *  - trim: after the last clean close the data file ends at the page after
 *    its tail, and a list's index file after its arrays; the next opener
 *    reads everything back, grows the trimmed file again, and verify finds
 *    nothing wrong;
 *  - a reader process opening and scanning in a loop while two writer
 *    processes append and close (and the last closer trims) never meets
 *    a truncated mapping (no SIGBUS), nor does either writer, and every
 *    key reads back right;
 *  - access hints: the data and index mappings carry MADV_RANDOM by
 *    default ("rr" in /proc/self/smaps), MADV_SEQUENTIAL ("sr") or
 *    neither as fsc_options.access says, and keep the handle's hint after
 *    a compaction, a verify and a scan (which mark what they walk
 *    sequential: seen from inside the scan's callback);
 *    an unknown access is FSC_EINVAL;
 *  - the files a dead compaction leaves are removed by the first
 *    read-write open after the writer died, and not looked for by the
 *    open of a cleanly closed collection.
 */
#include "check_common.h"
#include "check_fill.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HDR 4096u
#define MIB (UINT64_C(1) << 20)

static uint64_t file_size(const char *base, const char *suffix) {
  char p[600];
  snprintf(p, sizeof p, "%s%s", base, suffix);
  struct stat st;
  ck_assert_msg(stat(p, &st) == 0, "stat %s: %s", p, strerror(errno));
  return (uint64_t)st.st_size;
}

static uint64_t page_up(uint64_t x) {
  uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
  return (x + pg - 1) / pg * pg;
}

/* Bytes the data file's records use: its tail (only inserts here, so no
 * space was given back). */
static uint64_t used_of(const fsc_metrics *m) {
  return HDR + m->live_bytes + m->dead_bytes;
}

/* 300,000 keys of 16 bytes with 100-byte values: about 40 MiB of records,
 * past the 4 MiB steps, so the eighths are what is measured. */
START_TEST(test_dict_growth_and_trim) {
  const char *base = tc_path("d");
  char b[512];
  snprintf(b, sizeof b, "%s", base);
  fsc_options o = tc_opts_none();
  fsc_dict *d;
  ck_ok(fsc_dict_open(b, &o, &d));
  const uint64_t n = 300000;
  tc_dict_fill(d, 0, n);
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_dict_metrics(d, &m));
  uint64_t used = used_of(&m);
  /* Open: the capacity runs ahead of the tail by at most 6 MiB (a growth
   * job raises it 4 MiB past the capacity whose mark, 2 MiB below it, the
   * tail crossed: src/file/grow.c), and the file's size ahead of the
   * capacity by at most two allocation steps (the one a growth took and
   * the one allocated ahead after it, in the background), each
   * max(an eighth, 4 MiB) of the size, at most 8 MiB, rounded to 64 KiB.
   * Doubling, as before, left up to the whole size unused. */
  uint64_t ahead = used + 6 * MIB;
  uint64_t step = ahead / 8 > 4 * MIB ? ahead / 8 : 4 * MIB;
  if (step > 8 * MIB)
    step = 8 * MIB;
  ck_assert_msg(m.data_file_bytes <= ahead + 2 * (step + 65536),
                "data file %llu bytes for %llu used",
                (unsigned long long)m.data_file_bytes,
                (unsigned long long)used);
  ck_assert_uint_ge(m.data_file_bytes, used);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  /* Closed by the last closer: trimmed to the page after the tail. */
  uint64_t dsz = file_size(b, ".data.fscollection");
  ck_assert_msg(dsz == page_up(used), "data file %llu after close, %llu "
                "used", (unsigned long long)dsz, (unsigned long long)used);
  /* Reopen: everything is there, the trimmed file grows again. */
  ck_ok(fsc_dict_open(b, &o, &d));
  fsc_metrics m2 = {.size = sizeof m2};
  ck_ok(fsc_dict_metrics(d, &m2));
  ck_assert(m2.last_close_clean);
  ck_assert_uint_eq(m2.repaired_items, 0);
  tc_dict_check(d, n, 64);
  tc_dict_fill(d, n, n + 1000);
  tc_dict_check(d, n + 1000, 64);
  fsc_verify_report r = {.size = sizeof r};
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_assert(r.healthy);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  ck_ok(fsc_dict_open(b, &o, &d));
  tc_dict_check(d, n + 1000, 64);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* Allocated bytes of a file (st_blocks: holes do not count). */
static uint64_t file_alloc(const char *base, const char *suffix) {
  char p[600];
  snprintf(p, sizeof p, "%s%s", base, suffix);
  struct stat st;
  ck_assert_msg(stat(p, &st) == 0, "stat %s: %s", p, strerror(errno));
  return (uint64_t)st.st_blocks * 512;
}

/* The live table's capacity (doc/FORMAT.md: the word at 64, its BUF bit
 * 62; the descriptors at 72, 24 bytes each, cap the second word). */
static uint64_t table_cap(const char *base) {
  char p[600];
  snprintf(p, sizeof p, "%s.index.fscollection", base);
  FILE *f = fopen(p, "rb");
  ck_assert_ptr_nonnull(f);
  uint64_t hdr[16];
  ck_assert_uint_eq(fread(hdr, 8, 16, f), 16);
  fclose(f);
  unsigned b = (unsigned)((hdr[8] >> 62) & 1u);
  return hdr[(72 + 24 * b + 8) / 8];
}

/* Bytes a slot of the active table takes: 16 with its hash word (data
 * file version 2), 8 (version 3: 8-byte slots, doc/FORMAT.md). */
static uint64_t slot_bytes(const char *base) {
  char p[600];
  snprintf(p, sizeof p, "%s.index.fscollection", base);
  FILE *f = fopen(p, "rb");
  ck_assert_ptr_nonnull(f);
  uint64_t hdr[16];
  ck_assert_uint_eq(fread(hdr, 8, 16, f), 16);
  fclose(f);
  unsigned b = (unsigned)((hdr[8] >> 62) & 1u);
  return (hdr[(72 + 24 * b + 16) / 8] >> 63) ? 16 : 8;
}

/* A dict's index after growth holds every table it outgrew (as many bytes
 * again as the live one); the last clean close punches them out
 * (struct/hash_trim.c): the index file's allocated bytes are then its
 * header, the live table (16 bytes a slot) and little more.  The next
 * opener reads every key, grows past another doubling (the new table at
 * the tail, never in a hole), and verify finds nothing wrong. */
START_TEST(test_dict_index_holes) {
  const char *base = tc_path("holes");
  fsc_options o = tc_opts_none();
  fsc_dict *d;
  ck_ok(fsc_dict_open(base, &o, &d));
  const uint64_t n = 200000;
  tc_dict_fill(d, 0, n);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  uint64_t cap = table_cap(base);
  uint64_t alloc = file_alloc(base, ".index.fscollection");
  uint64_t size = file_size(base, ".index.fscollection");
  /* (before: 2 x the table, the tables outgrown below the live one) */
  ck_assert_msg(alloc <= HDR + cap * slot_bytes(base) + 65536,
                "index: %llu bytes allocated for a table of %llu slots "
                "(%llu bytes long)", (unsigned long long)alloc,
                (unsigned long long)cap, (unsigned long long)size);
  ck_assert_uint_ge(size, HDR + cap * slot_bytes(base) * 3 / 2); /* offsets kept */
  ck_ok(fsc_dict_open(base, &o, &d));
  tc_dict_check(d, n, 64);
  tc_dict_fill(d, n, 2 * n + 10000);
  tc_dict_check(d, 2 * n + 10000, 64);
  fsc_verify_report r = {.size = sizeof r};
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_assert(r.healthy);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  ck_assert_uint_gt(table_cap(base), cap);
  cap = table_cap(base);
  alloc = file_alloc(base, ".index.fscollection");
  ck_assert_msg(alloc <= HDR + cap * slot_bytes(base) + 65536,
                "index: %llu bytes allocated for a table of %llu slots",
                (unsigned long long)alloc, (unsigned long long)cap);
  ck_ok(fsc_dict_open(base, &o, &d));
  tc_dict_check(d, 2 * n + 10000, 64);
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_assert(r.healthy);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* A cache dict's clock words and admission sketch lie in the index too:
 * the trim keeps them (the sketch's reject count survives the close). */
START_TEST(test_cache_index_holes) {
  const char *base = tc_path("choles");
  fsc_options o = tc_opts_none();
  o.cache_type = FSC_CACHE_LRU;
  o.cache_max_items = 3000;
  fsc_dict *d;
  ck_ok(fsc_dict_open(base, &o, &d));
  char k[17], v[100];
  memset(v, 'v', sizeof v);
  fsc_value val = fsc_bytes(v, 100);
  for (int round = 0; round < 3; round++)
    for (uint64_t i = 0; i < 2000; i++) { /* asked for often: hot */
      tc_key_of(k, i);
      ck_ok(fsc_dict_set(d, k, 16, &val));
      fsc_value out;
      ck_ok(fsc_dict_get(d, k, 16, &out));
    }
  for (uint64_t i = 100000; i < 140000; i++) { /* a scan of one-offs */
    tc_key_of(k, i);
    ck_ok(fsc_dict_set(d, k, 16, &val));
  }
  fsc_cache_metrics cm = {.size = sizeof cm};
  ck_ok(fsc_dict_cache_metrics(d, &cm));
  ck_assert_uint_gt(cm.admission_rejects, 0);
  uint64_t rejects = cm.admission_rejects, evictions = cm.evictions;
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  ck_ok(fsc_dict_open(base, &o, &d));
  fsc_cache_metrics cm2 = {.size = sizeof cm2};
  ck_ok(fsc_dict_cache_metrics(d, &cm2));
  ck_assert_uint_eq(cm2.admission_rejects, rejects);
  ck_assert_uint_eq(cm2.evictions, evictions);
  fsc_verify_report r = {.size = sizeof r};
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_assert(r.healthy);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* The resident kilobytes of every mapping of `file` in this process
 * (/proc/self/smaps, "Rss:", matched by inode), how many mappings, and
 * the largest one's bytes (largest may be NULL). */
static long mapped_rss_kb(const char *file, int *maps, uint64_t *largest) {
  struct stat fst;
  ck_assert_int_eq(stat(file, &fst), 0);
  FILE *f = fopen("/proc/self/smaps", "r");
  ck_assert_ptr_nonnull(f);
  char line[1400];
  bool ours = false;
  long kb = 0;
  *maps = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long lo, hi, ino;
    size_t hex = strspn(line, "0123456789abcdef");
    if (hex && line[hex] == '-' &&
        sscanf(line, "%lx-%lx %*s %*s %*s %lu", &lo, &hi, &ino) == 3) {
      ours = ino == (unsigned long)fst.st_ino;
      *maps += ours;
      if (ours && largest && hi - lo > *largest)
        *largest = hi - lo;
      continue;
    }
    long v;
    if (ours && sscanf(line, "Rss: %ld kB", &v) == 1)
      kb += v;
  }
  fclose(f);
  return kb;
}

/* The data file grows ahead of its tail, a bounded step at a time
 * (record.c, map.c): after every append of a lone writer the tail is
 * below the mark fsc__grow_mark puts below the capacity (the appender
 * that crossed it grew the file before it returned, or, from 4 MiB on,
 * started a job that does so moments later: grow.c), and the capacity
 * is at most the 2 MiB ahead and a job's 4 MiB past the tail, the file
 * at most a step (8 MiB, rounded to 64 KiB) past the capacity; its allocated blocks at most
 * 32 MiB more (no more than its size, but a step), allocated past its
 * end ahead of time (src/file/prealloc.c; tests/test_prealloc.c).
 * Before, the steps were an eighth of the file (up to 1 GiB), taken by
 * the append that found the file full. */
START_TEST(test_data_grows_ahead) {
  const char *base = tc_path("ahead");
  char dp[600];
  snprintf(dp, sizeof dp, "%s.data.fscollection", base);
  fsc_options o = tc_opts_none();
  fsc_dict *d;
  ck_ok(fsc_dict_open(base, &o, &d));
  int fd = open(dp, O_RDONLY);
  ck_assert_int_ge(fd, 0);
  uint64_t grew = 0, last = 0;
  for (uint64_t i = 0; i < 200000; i += 50) {
    tc_dict_fill(d, i, i + 50);
    uint64_t tail = 0, cap = 0;
    ck_assert_int_eq(pread(fd, &tail, 8, 64), 8);
    ck_assert_int_eq(pread(fd, &cap, 8, 72), 8);
    uint64_t ahead = cap / 4 < 2 * MIB ? cap / 4 : 2 * MIB;
    /* (From 4 MiB on the step ahead is a background job's, grow.c: give
     * it a moment.) */
    for (int w = 0; w < 2000 && tail >= cap - ahead; w++) {
      usleep(1000);
      ck_assert_int_eq(pread(fd, &cap, 8, 72), 8);
      ahead = cap / 4 < 2 * MIB ? cap / 4 : 2 * MIB;
    }
    ck_assert_msg(tail < cap - ahead, "tail %llu, capacity %llu: not grown "
                  "ahead", (unsigned long long)tail, (unsigned long long)cap);
    ck_assert_msg(cap - tail <= 6 * MIB + 128 * 1024, "tail %llu, capacity "
                  "%llu", (unsigned long long)tail, (unsigned long long)cap);
    struct stat st;
    ck_assert_int_eq(fstat(fd, &st), 0);
    /* (Version 3, src/file/grow.c: the capacity is published a zeroed
     * MiB at a time, inside the last fallocate step.) */
    uint64_t size = (uint64_t)st.st_size;
    ck_assert_msg(size >= cap && size <= cap + 8 * MIB + 65536,
                  "size %llu, capacity %llu", (unsigned long long)size,
                  (unsigned long long)cap);
    uint64_t past = size < 32 * MIB ? size : 32 * MIB;
    if (past < 8 * MIB)
      past = 8 * MIB;
    ck_assert_msg((uint64_t)st.st_blocks * 512 <= size + past + 65536,
                  "%llu bytes allocated for a capacity of %llu",
                  (unsigned long long)st.st_blocks * 512,
                  (unsigned long long)cap);
    grew += cap != last;
    last = cap;
  }
  close(fd);
  ck_assert_uint_ge(last, 24 * MIB); /* (past the 4 MiB and 8 MiB steps) */
  ck_assert_uint_ge(grew, 5);
  tc_dict_check(d, 200000, 64);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* Fill a dict of n keys and read every key back; then all mappings of
 * the data file together hold at most its size (plus a little), there
 * are *maps of them, and the largest is *largest bytes. */
static void views_fill_read(const char *base, uint64_t n, int *maps,
                            uint64_t *largest);

/* A file that grows is mapped through ever larger views (map.c), each
 * from offset 0; a page written through an older view and read through
 * the newer one must not stay resident in both: the process's RSS would
 * count it twice (a 1M-key dict filled, then read: 341 MB, against 224
 * for the fill alone).  A view reaches far past the file (map.c,
 * view_len: 64 MiB at least, then 16 times the last), so a fill of 20 MB
 * never needs a second one: one mapping. */
START_TEST(test_views_not_counted_twice) {
  int maps = 0;
  uint64_t largest = 0;
  views_fill_read(tc_path("views"), 150000, &maps, &largest);
  if (sizeof(void *) >= 8)
    ck_assert_int_eq(maps, 1);
}
END_TEST

/* A fill of about 110 MB outgrows the first view (64 MiB): a second view
 * of 1 GiB, and the first one's page table entries are dropped a chunk a
 * 4 MiB of appends (fsc__file_drop_later), all of them before the fill
 * ends: the same bound on what is resident. */
START_TEST(test_views_replaced) {
  int maps = 0;
  uint64_t largest = 0;
  views_fill_read(tc_path("views"), 800000, &maps, &largest);
  ck_assert_int_ge(maps, 2); /* (the fill did grow through views) */
  if (sizeof(void *) >= 8)
    ck_assert_uint_ge(largest, UINT64_C(1) << 30);
}
END_TEST

/* Under an address-space limit (RLIMIT_AS) with no room for the 1 GiB
 * view, a view falls back to four times the last (256 MiB): the fill
 * still works, through smaller views, with the same bound on what is
 * resident.  (Each test runs in its own child: the limit ends with it.) */
START_TEST(test_views_small_address_space) {
  long pages = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(fscanf(f, "%ld", &pages), 1);
  fclose(f);
  struct rlimit rl;
  ck_assert_int_eq(getrlimit(RLIMIT_AS, &rl), 0);
  rlim_t lim = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + (768u << 20);
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < lim)
    lim = rl.rlim_max;
  rl.rlim_cur = lim;
  ck_assert_int_eq(setrlimit(RLIMIT_AS, &rl), 0);
  int maps = 0;
  uint64_t largest = 0;
  views_fill_read(tc_path("views"), 800000, &maps, &largest);
  ck_assert_int_ge(maps, 2);
  ck_assert_uint_lt(largest, UINT64_C(1) << 30);
}
END_TEST

static void views_fill_read(const char *base, uint64_t n, int *maps,
                            uint64_t *largest) {
  fsc_options o = tc_opts_none();
  fsc_dict *d;
  ck_ok(fsc_dict_open(base, &o, &d));
  tc_dict_fill(d, 0, n);
  tc_dict_check(d, n, 64);
  char k[17];
  for (uint64_t i = 0; i < n; i++) { /* every key, not dict_check's few */
    tc_key_of(k, i);
    fsc_value out;
    ck_ok(fsc_dict_get(d, k, 16, &out));
  }
  char p[600];
  snprintf(p, sizeof p, "%s.data.fscollection", base);
  long kb = mapped_rss_kb(p, maps, largest);
  uint64_t size = file_size(base, ".data.fscollection");
  ck_assert_msg((uint64_t)kb * 1024 <= size + size / 16,
                "%ld kB resident in %d mappings of a %llu-byte file", kb,
                *maps, (unsigned long long)size);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}

/* A growth's migration reads the old table until its last slot is moved;
 * then the table is read no more, and its pages leave this process's RSS
 * (hash_migrate.c).  110,000 keys: the growth from 2^17 to 2^18 slots
 * started at 98,305 and its migration (64 old slots an insert) ended at
 * about 100,400; the next table is prepared from 5/8 of 2^18 only.  The
 * index mapping then holds the live table (16 bytes a slot) and little
 * more (before: the old table's 2 MiB too). */
START_TEST(test_old_table_not_resident) {
  const char *base = tc_path("oldtab");
  fsc_options o = tc_opts_none();
  fsc_dict *d;
  ck_ok(fsc_dict_open(base, &o, &d));
  tc_dict_fill(d, 0, 110000);
  uint64_t cap = table_cap(base);
  ck_assert_uint_eq(cap, UINT64_C(1) << 18);
  char p[600];
  snprintf(p, sizeof p, "%s.index.fscollection", base);
  int maps = 0;
  long kb = mapped_rss_kb(p, &maps, NULL);
  ck_assert_msg((uint64_t)kb * 1024 <= HDR + cap * slot_bytes(base) + 256 * 1024,
                "%ld kB of the index resident for a table of %llu slots",
                kb, (unsigned long long)cap);
  tc_dict_check(d, 110000, 64);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* A list of int64: 16 bytes of record (the compact form: an 8-byte header
 * and the value, doc/FORMAT.md) and one 8-byte slot per element.  While open, the index holds the
 * active array (room for up to twice the length) and the arrays it
 * outgrew; the last close moves the array down to the header with room
 * for an eighth more (list_ops.c, trim): at most 9/8 slots and 64 more. */
START_TEST(test_list_trim) {
  const char *base = tc_path("l");
  char b[512];
  snprintf(b, sizeof b, "%s", base);
  fsc_options o = tc_opts_none();
  o.type = FSC_TYPE_INT64;
  fsc_list *l;
  ck_ok(fsc_list_open(b, &o, &l));
  const uint64_t n = 200000;
  for (uint64_t i = 0; i < n; i++)
    ck_ok(fsc_list_append_i64(l, (int64_t)i * 3));
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
  uint64_t dsz = file_size(b, ".data.fscollection");
  uint64_t isz = file_size(b, ".index.fscollection");
  ck_assert_msg(dsz == page_up(HDR + 16 * n), "data file %llu bytes",
                (unsigned long long)dsz);
  ck_assert_msg(isz <= page_up(HDR + 8 * (n + n / 8 + 64) + 64),
                "index file %llu bytes", (unsigned long long)isz);
  ck_ok(fsc_list_open(b, &o, &l));
  uint64_t len;
  ck_ok(fsc_list_len(l, &len));
  ck_assert_uint_eq(len, n);
  for (uint64_t i = 0; i < n; i += 97) {
    int64_t x;
    ck_ok(fsc_list_get_i64(l, (int64_t)i, &x));
    ck_assert_int_eq(x, (int64_t)i * 3);
  }
  for (uint64_t i = 0; i < n; i++) /* grows both trimmed files again */
    ck_ok(fsc_list_append_i64(l, -(int64_t)i));
  int64_t x;
  ck_ok(fsc_list_get_i64(l, -1, &x));
  ck_assert_int_eq(x, -(int64_t)(n - 1));
  fsc_verify_report r = {.size = sizeof r};
  ck_ok(fsc_list_verify(l, 0, &r));
  ck_assert(r.healthy);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
  ck_ok(fsc_list_open(b, &o, &l));
  ck_ok(fsc_list_len(l, &len));
  ck_assert_uint_eq(len, 2 * n);
  ck_ok(fsc_list_get_i64(l, (int64_t)n - 1, &x));
  ck_assert_int_eq(x, (int64_t)(n - 1) * 3);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* A second handle (here: in this process) keeps the files untrimmed: only
 * the last closer trims. */
START_TEST(test_no_trim_while_shared) {
  const char *base = tc_path("s");
  char b[512];
  snprintf(b, sizeof b, "%s", base);
  fsc_options o = tc_opts_none();
  fsc_dict *d, *d2;
  ck_ok(fsc_dict_open(b, &o, &d));
  ck_ok(fsc_dict_open(b, &o, &d2));
  tc_dict_fill(d, 0, 5000);
  uint64_t before = file_size(b, ".data.fscollection");
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  ck_assert_uint_eq(file_size(b, ".data.fscollection"), before);
  tc_dict_check(d2, 5000, 64);
  ck_ok(fsc_dict_close(d2));
  fsc_dict_free(d2);
  ck_assert_uint_lt(file_size(b, ".data.fscollection"), before);
}
END_TEST

/* A reader process opens, reads every record (a scan: the newest ones
 * included, near the end a trim would cut) and closes in a loop, while two
 * writer processes open, append keys and close: a close that is the last
 * trims, one that is not must not (an appender in the other writer may
 * hold space below the old capacity, and writing it after a cut would be
 * a SIGBUS). */
static bool key_ok(const fsc_value *k, const fsc_value *v) {
  if (k->u.buf.len != 16 || v->u.buf.len != 100)
    return false;
  char t[17];
  memcpy(t, k->u.buf.ptr, 16);
  t[16] = '\0';
  uint64_t i = strtoull(t, NULL, 10);
  char want[100];
  tc_value_of(want, i);
  return memcmp(v->u.buf.ptr, want, 100) == 0;
}

static int count_pred(const fsc_value *k, const fsc_value *v, void *ctx) {
  if (!key_ok(k, v))
    return -1000;
  ++*(uint64_t *)ctx;
  return 0;
}

static double secs_since(const struct timespec *t0) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) +
         (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static int reader(const char *b, double secs) {
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  long rounds = 0;
  do {
    fsc_options o = tc_opts_none();
    o.flags = FSC_RDONLY;
    fsc_dict *d;
    int rc = fsc_dict_open(b, &o, &d);
    if (rc != 0) {
      fprintf(stderr, "reader: open: %d %s\n", rc, fsc_errmsg());
      return 10;
    }
    uint64_t n = 0, len;
    if (fsc_dict_scan(d, count_pred, NULL, &n) != 0)
      return 11;
    if (fsc_dict_len(d, &len) != 0 || len < 64 || n < 64)
      return 12;
    if (fsc_dict_close(d) != 0)
      return 13;
    fsc_dict_free(d);
    rounds++;
  } while (secs_since(&t0) < secs);
  return rounds > 0 ? 0 : 14;
}

/* Writer w adds keys w * 10^9 + 0, 1, ... (50 a session); *added counts. */
static int writer(const char *b, int w, double secs, uint64_t *added) {
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  uint64_t next = (uint64_t)w * 1000000000u;
  char k[17], v[100];
  do {
    fsc_options o = tc_opts_none();
    fsc_dict *d;
    if (fsc_dict_open(b, &o, &d) != 0)
      return 20;
    for (int j = 0; j < 50; j++, next++) {
      tc_key_of(k, next);
      tc_value_of(v, next);
      fsc_value val = fsc_bytes(v, 100);
      if (fsc_dict_set(d, k, 16, &val) != 0)
        return 21;
      __atomic_add_fetch(added, 1, __ATOMIC_SEQ_CST);
    }
    if (fsc_dict_close(d) != 0)
      return 22;
    fsc_dict_free(d);
  } while (secs_since(&t0) < secs);
  return 0;
}

START_TEST(test_opener_during_last_close) {
  const char *base = tc_path("c");
  char b[512];
  snprintf(b, sizeof b, "%s", base);
  fsc_options o = tc_opts_none();
  fsc_dict *d;
  ck_ok(fsc_dict_open(b, &o, &d));
  tc_dict_fill(d, 0, 64);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  uint64_t *added = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ck_assert(added != MAP_FAILED);
  *added = 0;
  pid_t kids[3];
  for (int i = 0; i < 3; i++) {
    kids[i] = fork();
    ck_assert(kids[i] >= 0);
    if (kids[i] == 0)
      _exit(i == 0 ? reader(b, 1.5) : writer(b, i, 1.5, added));
  }
  for (int i = 0; i < 3; i++) {
    int st;
    ck_assert_int_eq(waitpid(kids[i], &st, 0), kids[i]);
    ck_assert_msg(WIFEXITED(st), "%s died of signal %d",
                  i ? "a writer" : "the reader",
                  WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    ck_assert_msg(WEXITSTATUS(st) == 0, "%s failed: %d",
                  i ? "a writer" : "the reader", WEXITSTATUS(st));
  }
  uint64_t n = 64 + *added;
  munmap(added, 4096);
  ck_ok(fsc_dict_open(b, &o, &d));
  uint64_t len, seen = 0;
  ck_ok(fsc_dict_len(d, &len));
  ck_assert_uint_eq(len, n);
  ck_ok(fsc_dict_scan(d, count_pred, NULL, &seen));
  ck_assert_uint_eq(seen, n);
  fsc_verify_report rep = {.size = sizeof rep};
  ck_ok(fsc_dict_verify(d, 0, &rep));
  ck_assert(rep.healthy);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* The VmFlags of every mapping of the file at `path` in /proc/self/smaps
 * (found by inode: a new collection's files were mapped before they had a
 * name): how many mappings, and how many carry `flag` ("rr", "sr"). */
static void vmflags(const char *path, const char *flag, int *maps,
                    int *with) {
  struct stat st;
  ck_assert(stat(path, &st) == 0);
  FILE *f = fopen("/proc/self/smaps", "re");
  ck_assert(f != NULL);
  char line[1024];
  bool in = false;
  *maps = *with = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long long lo, hi, off, ino;
    char perms[8], dev[16];
    if (sscanf(line, "%llx-%llx %7s %llx %15s %llu", &lo, &hi, perms, &off,
               dev, &ino) == 6) {
      /* A mapping's first line: "start-end perms off dev inode path". */
      in = ino == (unsigned long long)st.st_ino && perms[3] == 's';
      if (in)
        (*maps)++;
      continue;
    }
    if (in && strncmp(line, "VmFlags:", 8) == 0) {
      char pat[8];
      snprintf(pat, sizeof pat, " %s", flag);
      for (char *q = strstr(line + 8, pat); q; q = strstr(q + 1, pat))
        if (q[3] == ' ' || q[3] == '\n' || q[3] == '\0') {
          (*with)++;
          break;
        }
    }
  }
  fclose(f);
}

static void expect_hint(const char *b, const char *flag, bool want) {
  const char *sfx[2] = {".data.fscollection", ".index.fscollection"};
  for (int i = 0; i < 2; i++) {
    char p[600];
    snprintf(p, sizeof p, "%s%s", b, sfx[i]);
    int maps, with;
    vmflags(p, flag, &maps, &with);
    ck_assert_msg(maps > 0, "%s is not mapped", p);
    ck_assert_msg(want ? with == maps : with == 0,
                  "%s: %d of %d mappings have %s", p, with, maps, flag);
  }
}

/* fsc_dict_scan's predicate: the mappings are sequential while it runs. */
static const char *scan_base;
static int scan_seen;
static int seq_pred(const fsc_value *k, const fsc_value *v, void *ctx) {
  (void)k, (void)v, (void)ctx;
  if (scan_seen++ == 0) {
    int maps, with;
    char p[600];
    snprintf(p, sizeof p, "%s.data.fscollection", scan_base);
    vmflags(p, "sr", &maps, &with);
    /* (The walked range is split off the view: the header page and the
     * room after the tail keep the handle's hint.) */
    ck_assert_msg(with >= 1, "during the scan: %d of %d data mappings "
                  "sequential", with, maps);
  }
  return 0;
}

START_TEST(test_access_hints) {
  const char *base = tc_path("h");
  char b[512];
  snprintf(b, sizeof b, "%s", base);
  fsc_options o = tc_opts_none();
  fsc_dict *d;
  ck_ok(fsc_dict_open(b, &o, &d)); /* the default: random */
  tc_dict_fill(d, 0, 2000);
  expect_hint(b, "rr", true);
  expect_hint(b, "sr", false);
  ck_ok(fsc_dict_compact(d)); /* walks sequential, then gives it back */
  expect_hint(b, "rr", true);
  scan_base = b;
  scan_seen = 0;
  ck_ok(fsc_dict_scan(d, seq_pred, NULL, NULL));
  ck_assert_int_eq(scan_seen, 2000);
  expect_hint(b, "rr", true);
  expect_hint(b, "sr", false);
  fsc_verify_report r = {.size = sizeof r};
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_assert(r.healthy);
  expect_hint(b, "rr", true);
  expect_hint(b, "sr", false);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);

  o.access = FSC_ACCESS_SEQUENTIAL;
  ck_ok(fsc_dict_open(b, &o, &d));
  expect_hint(b, "sr", true);
  expect_hint(b, "rr", false);
  ck_ok(fsc_dict_verify(d, 0, &r));
  expect_hint(b, "sr", true);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);

  o.access = FSC_ACCESS_NORMAL;
  ck_ok(fsc_dict_open(b, &o, &d));
  expect_hint(b, "sr", false);
  expect_hint(b, "rr", false);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);

  o.access = 3;
  d = NULL;
  ck_fsc(fsc_dict_open(b, &o, &d), FSC_EINVAL);
  ck_assert_ptr_null(d);
  o.access = -1;
  ck_fsc(fsc_dict_open(b, &o, &d), FSC_EINVAL);
  tc_rm(b);
}
END_TEST

/* A caller built before `access` existed (a smaller fsc_options) gets the
 * default, random. */
START_TEST(test_access_older_caller) {
  const char *base = tc_path("o");
  char b[512];
  snprintf(b, sizeof b, "%s", base);
  fsc_options o = tc_opts_none();
  o.access = 77; /* beyond the older caller's size: never read */
  o.size = offsetof(fsc_options, access);
  fsc_list *l;
  ck_ok(fsc_list_open(b, &o, &l));
  ck_ok(fsc_list_append_i64(l, 1));
  expect_hint(b, "rr", true);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

static bool exists_sfx(const char *b, const char *sfx) {
  char p[600];
  snprintf(p, sizeof p, "%s%s", b, sfx);
  return access(p, F_OK) == 0;
}

static void touch_sfx(const char *b, const char *sfx) {
  char p[600];
  snprintf(p, sizeof p, "%s%s", b, sfx);
  FILE *f = fopen(p, "w");
  ck_assert(f != NULL);
  fclose(f);
}

/* Files a dead compaction left (here: planted) are not looked for by the
 * open of a cleanly closed collection (no unlink at every open); the
 * first read-write opener after a writer died removes them. */
START_TEST(test_compact_leftovers) {
  const char *base = tc_path("x");
  char b[512];
  snprintf(b, sizeof b, "%s", base);
  fsc_options o = tc_opts_none();
  fsc_list *l;
  ck_ok(fsc_list_open(b, &o, &l));
  ck_ok(fsc_list_append_i64(l, 5));
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
  touch_sfx(b, ".data.fscollection.compact");
  touch_sfx(b, ".index.fscollection.compact");
  ck_ok(fsc_list_open(b, &o, &l));
  ck_assert(exists_sfx(b, ".data.fscollection.compact"));
  ck_assert(exists_sfx(b, ".index.fscollection.compact"));
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
  pid_t p = fork();
  ck_assert(p >= 0);
  if (p == 0) { /* a writer that dies without closing */
    fsc_list *cl;
    if (fsc_list_open(b, &o, &cl) != 0 || fsc_list_append_i64(cl, 6) != 0)
      _exit(1);
    _exit(0);
  }
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  ck_ok(fsc_list_open(b, &o, &l));
  ck_assert(!exists_sfx(b, ".data.fscollection.compact"));
  ck_assert(!exists_sfx(b, ".index.fscollection.compact"));
  uint64_t n;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_uint_eq(n, 2);
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_list_metrics(l, &m));
  ck_assert(!m.last_close_clean);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

static Suite *files_suite(void) {
  Suite *s = suite_create("files");
  TCase *tc = tcase_create("cases");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_dict_growth_and_trim);
  tcase_add_test(tc, test_dict_index_holes);
  tcase_add_test(tc, test_cache_index_holes);
  tcase_add_test(tc, test_data_grows_ahead);
  tcase_add_test(tc, test_views_not_counted_twice);
  tcase_add_test(tc, test_views_replaced);
  tcase_add_test(tc, test_views_small_address_space);
  tcase_add_test(tc, test_old_table_not_resident);
  tcase_add_test(tc, test_list_trim);
  tcase_add_test(tc, test_no_trim_while_shared);
  tcase_add_test(tc, test_opener_during_last_close);
  tcase_add_test(tc, test_access_hints);
  tcase_add_test(tc, test_access_older_caller);
  tcase_add_test(tc, test_compact_leftovers);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tc_run(files_suite()); }
