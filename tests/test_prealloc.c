/*
 * test_prealloc.c - the next growth step allocated ahead of time, past
 * the file's end, off the writers' path (src/file/prealloc.c), and given
 * back at the last clean close:
 *
 *  - a dict filled past several data file steps (4 and 8 MiB) has, while
 *    it is open, blocks allocated past the end of its data file
 *    (FIEMAP, or st_blocks where the file system has no FIEMAP), and the
 *    file's size is still its published capacity; after the last close
 *    no block is past the end of either file, and every key reads back;
 *  - the same for the index file, once a table region of at least 2 MiB
 *    was taken (the next one, twice as large, is allocated ahead);
 *  - a last close by another process, which never allocated ahead, gives
 *    back what the first one allocated;
 *  - a file grown into the blocks allocated ahead reads and verifies;
 *  - a list whose data file grows in 4 MiB steps does not start a thread
 *    a step: one thread allocates several steps ahead, so a 64 MiB fill
 *    starts a few (counted by this program's pthread_create, which the
 *    library's calls reach first), and its last close still gives every
 *    block back.
 * The thread that allocates is waited for by polling (at most 20 s); no
 * time is asserted.
 */
#include "check_common.h"
#include "check_fill.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (UINT64_C(1) << 20)

/* Threads started in this process: this definition comes before the C
 * library's in the symbol lookup, so the library's pthread_create calls
 * (src/file/prealloc.c's, the only ones a list append makes) count here
 * and go on to the real one. */
static unsigned thread_starts;
int pthread_create(pthread_t *restrict t, const pthread_attr_t *restrict at,
                   void *(*fn)(void *), void *restrict arg) {
  static int (*real)(pthread_t *restrict, const pthread_attr_t *restrict,
                     void *(*)(void *), void *restrict);
  if (!real)
    *(void **)&real = dlsym(RTLD_NEXT, "pthread_create");
  if (!real)
    return EAGAIN;
  __atomic_add_fetch(&thread_starts, 1, __ATOMIC_RELAXED);
  return real(t, at, fn, arg);
}

static const char *fpath(const char *base, const char *which) {
  static char buf[2][1024];
  static int k;
  k ^= 1;
  snprintf(buf[k], sizeof buf[k], "%.900s.%.5s.fscollection", base, which);
  return buf[k];
}

/* Bytes allocated past the end of file p (rounded up to a page). */
static uint64_t past_end(const char *p) {
  int fd = open(p, O_RDONLY);
  ck_assert_msg(fd >= 0, "open %s: %s", p, strerror(errno));
  struct stat st;
  ck_assert_int_eq(fstat(fd, &st), 0);
  uint64_t end = ((uint64_t)st.st_size + 4095) / 4096 * 4096, n = 0;
  struct {
    struct fiemap m;
    struct fiemap_extent e[64];
  } q;
  memset(&q, 0, sizeof q);
  q.m.fm_start = end;
  q.m.fm_length = FIEMAP_MAX_OFFSET - end;
  q.m.fm_extent_count = 64;
  if (ioctl(fd, FS_IOC_FIEMAP, &q.m) == 0) {
    for (unsigned i = 0; i < q.m.fm_mapped_extents; i++) {
      uint64_t a = q.e[i].fe_logical, b = a + q.e[i].fe_length;
      if (b > end)
        n += b - (a > end ? a : end);
    }
  } else {
    uint64_t used = (uint64_t)st.st_blocks * 512;
    n = used > end + 4096 ? used - end - 4096 : 0;
  }
  close(fd);
  return n;
}

/* Wait until at least `want` bytes lie past the end of p: the thread
 * allocating them runs on its own (20 s at most). */
static uint64_t wait_past_end(const char *p, uint64_t want) {
  uint64_t n = 0;
  for (int i = 0; i < 2000 && (n = past_end(p)) < want; i++) {
    struct timespec ms = {0, 10000000};
    nanosleep(&ms, NULL);
  }
  return n;
}

static uint64_t word_at(const char *p, off_t off) {
  int fd = open(p, O_RDONLY);
  ck_assert_int_ge(fd, 0);
  uint64_t w = 0;
  ck_assert_int_eq(pread(fd, &w, 8, off), 8);
  close(fd);
  return w;
}

static uint64_t size_of(const char *p) {
  struct stat st;
  ck_assert_int_eq(stat(p, &st), 0);
  return (uint64_t)st.st_size;
}

/* The data file's size: its capacity, or (version 3: src/file/grow.c)
 * above it by at most the fallocate step whose zeros are not all
 * published yet. */
static void size_near_cap(const char *dp) {
  uint64_t size = size_of(dp), cap = word_at(dp, 72);
  ck_assert_msg(size >= cap && size <= cap + 8 * MIB + 65536,
                "data file of %llu bytes, capacity %llu",
                (unsigned long long)size, (unsigned long long)cap);
}

/* 200,000 keys: about 27 MiB of records (data steps of 4 and 8 MiB) and
 * tables of 2^18 slots (4 MiB regions). */
#define N 200000

START_TEST(test_data_ahead_and_given_back) {
  const char *base = tc_path("data");
  fsc_options o = tc_opts_none();
  o.flags = FSC_CREATE;
  fsc_dict *d;
  ck_ok(fsc_dict_open(base, &o, &d));
  tc_dict_fill(d, 0, N);
  const char *dp = fpath(base, "data");
  uint64_t cap = word_at(dp, 72);
  ck_assert_uint_ge(cap, 16 * MIB);
  /* The next step (4 MiB at least) past the end, the size unchanged. */
  uint64_t past = wait_past_end(dp, 4 * MIB);
  ck_assert_msg(past >= 4 * MIB, "%llu bytes allocated past the data "
                "file's end (capacity %llu)", (unsigned long long)past,
                (unsigned long long)cap);
  size_near_cap(dp);
  /* Grown into them: the keys after read back. */
  tc_dict_fill(d, N, N + 60000);
  tc_dict_check(d, N + 60000, 256);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  ck_assert_uint_eq(past_end(dp), 0);
  ck_assert_uint_eq(past_end(fpath(base, "index")), 0);
  o.flags = 0;
  ck_ok(fsc_dict_open(base, &o, &d));
  tc_dict_check(d, N + 60000, 256);
  fsc_verify_report r;
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_index_ahead_and_given_back) {
  const char *base = tc_path("index");
  fsc_options o = tc_opts_none();
  o.flags = FSC_CREATE;
  fsc_dict *d;
  ck_ok(fsc_dict_open(base, &o, &d));
  tc_dict_fill(d, 0, N);
  const char *ip = fpath(base, "index");
  /* The last table region was 4 MiB: the next, 8, is allocated ahead. */
  uint64_t past = wait_past_end(ip, 4 * MIB);
  ck_assert_msg(past >= 4 * MIB, "%llu bytes allocated past the index "
                "file's end", (unsigned long long)past);
  ck_assert_uint_eq(size_of(ip), word_at(ip, 128)); /* icap */
  tc_dict_check(d, N, 256);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  ck_assert_uint_eq(past_end(ip), 0);
  ck_assert_uint_eq(past_end(fpath(base, "data")), 0);
  o.flags = 0;
  ck_ok(fsc_dict_open(base, &o, &d));
  tc_dict_check(d, N, 256);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* The writer that allocated ahead closes first; another process, which
 * grew nothing, closes last and gives the blocks back. */
START_TEST(test_given_back_by_other_last_close) {
  const char *base = tc_path("other");
  fsc_options o = tc_opts_none();
  o.flags = FSC_CREATE;
  fsc_dict *d;
  ck_ok(fsc_dict_open(base, &o, &d));
  tc_dict_fill(d, 0, N);
  const char *dp = fpath(base, "data"), *ip = fpath(base, "index");
  ck_assert_uint_ge(wait_past_end(dp, 4 * MIB), 4 * MIB);
  ck_assert_uint_ge(wait_past_end(ip, 4 * MIB), 4 * MIB);
  int up[2], go[2];
  ck_assert_int_eq(pipe(up), 0);
  ck_assert_int_eq(pipe(go), 0);
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0) {
    /* Not the parent's descriptors: their flocks (the presence lock) are
     * shared with the parent's and would make this close not the last. */
    for (int fd = 3; fd < 1024; fd++)
      if (fd != up[1] && fd != go[0])
        close(fd);
    fsc_options co = tc_opts_none();
    fsc_dict *cd;
    char c = 0;
    int ok = fsc_dict_open(base, &co, &cd) == 0;
    if (write(up[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
      _exit(2);
    uint64_t len = 0;
    ok = ok && fsc_dict_len(cd, &len) == 0 && len == N;
    ok = ok && fsc_dict_close(cd) == 0;
    _exit(ok ? 0 : 1);
  }
  char c;
  ck_assert_int_eq(read(up[0], &c, 1), 1);
  ck_ok(fsc_dict_close(d)); /* not the last: nothing is cut */
  fsc_dict_free(d);
  ck_assert_uint_ge(past_end(dp), 4 * MIB);
  ck_assert_int_eq(write(go[1], "g", 1), 1);
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  close(up[0]);
  close(up[1]);
  close(go[0]);
  close(go[1]);
  ck_assert_uint_eq(past_end(dp), 0);
  ck_assert_uint_eq(past_end(ip), 0);
  o.flags = 0;
  ck_ok(fsc_dict_open(base, &o, &d));
  tc_dict_check(d, N, 256);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* A list appended to 64 MiB: the data file of a version-2 file (the
 * test hook; its growth is the appender's, lock-free) grows in steps of
 * 4 MiB (then an eighth, 4 to 8 MiB), about fifteen steps of at least
 * 4 MiB, each of which started a thread when each allocated only the
 * next step.  Allocating ahead the next 32 MiB (at most the file's size,
 * at least the step) starts one at 4, 8, 16, 32 and 64 MiB.  (A file of
 * version 3 or 4 takes its steps in growth jobs, one thread per 4 MiB
 * of steps, each allocating its own next step: src/file/grow.c;
 * test_list_grow_jobs below.) */
START_TEST(test_list_steps_share_a_thread) {
  const char *base = tc_path("list");
  fsc_options o = tc_opts_none();
  o.flags = FSC_CREATE;
  fsc_list *l;
  ck_assert_int_eq(setenv("FSC_TEST_DATA_VERSION", "2", 1), 0);
  ck_ok(fsc_list_open(base, &o, &l));
  ck_assert_int_eq(unsetenv("FSC_TEST_DATA_VERSION"), 0);
  static char buf[4000];
  unsigned before = __atomic_load_n(&thread_starts, __ATOMIC_RELAXED);
  for (int i = 0; i < 16384; i++) { /* 64 MiB of records */
    memset(buf, 'a' + i % 26, sizeof buf);
    memcpy(buf, &i, sizeof i);
    fsc_value v = fsc_bytes(buf, sizeof buf);
    ck_ok(fsc_list_append(l, &v));
  }
  unsigned n = __atomic_load_n(&thread_starts, __ATOMIC_RELAXED) - before;
  const char *dp = fpath(base, "data");
  uint64_t cap = word_at(dp, 72);
  ck_assert_uint_ge(cap, 64 * MIB);
  ck_assert_msg(n >= 1 && n <= 6, "%u threads started to allocate ahead "
                "while the data file grew to %llu bytes", n,
                (unsigned long long)cap);
  /* What they allocated is past the end, the size unchanged. */
  ck_assert_uint_ge(wait_past_end(dp, 4 * MIB), 4 * MIB);
  size_near_cap(dp);
  for (int i = 0; i < 16384; i += 101) {
    fsc_value got;
    ck_ok(fsc_list_get(l, i, &got));
    ck_assert_uint_eq(got.u.buf.len, sizeof buf);
    ck_assert_int_eq(memcmp(got.u.buf.ptr, &i, sizeof i), 0);
    ck_assert_int_eq(((const char *)got.u.buf.ptr)[sizeof buf - 1],
                     'a' + i % 26);
  }
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
  ck_assert_uint_eq(past_end(dp), 0);
  ck_assert_uint_eq(past_end(fpath(base, "index")), 0);
  o.flags = 0;
  ck_ok(fsc_list_open(base, &o, &l));
  uint64_t len;
  ck_ok(fsc_list_len(l, &len));
  ck_assert_uint_eq(len, 16384);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* The same 64 MiB in a file of the newest version: its steps are taken
 * ahead by growth jobs (src/file/grow.c), a thread for every 4 MiB of
 * steps at most, not one a 1 MiB step; once they are done the capacity
 * covers every record, and the last close leaves nothing past the
 * end. */
START_TEST(test_list_grow_jobs) {
  const char *base = tc_path("jobs");
  fsc_options o = tc_opts_none();
  o.flags = FSC_CREATE;
  fsc_list *l;
  ck_ok(fsc_list_open(base, &o, &l));
  static char buf[4000];
  unsigned before = __atomic_load_n(&thread_starts, __ATOMIC_RELAXED);
  for (int i = 0; i < 16384; i++) {
    memset(buf, 'a' + i % 26, sizeof buf);
    memcpy(buf, &i, sizeof i);
    fsc_value v = fsc_bytes(buf, sizeof buf);
    ck_ok(fsc_list_append(l, &v));
  }
  unsigned n = __atomic_load_n(&thread_starts, __ATOMIC_RELAXED) - before;
  ck_assert_msg(n >= 4 && n <= 20, "%u threads started while the data file "
                "grew to 64 MiB", n);
  const char *dp = fpath(base, "data");
  uint64_t tail = word_at(dp, 64);
  ck_assert_uint_ge(tail, 60 * MIB); /* (16384 records of 4016 bytes) */
  for (int i = 0; i < 5000 && word_at(dp, 72) < tail + MIB; i++)
    usleep(1000);
  ck_assert_uint_ge(word_at(dp, 72), tail + MIB);
  for (int i = 0; i < 16384; i += 97) {
    fsc_value got;
    ck_ok(fsc_list_get(l, i, &got));
    ck_assert_int_eq(memcmp(got.u.buf.ptr, &i, sizeof i), 0);
  }
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
  ck_assert_uint_eq(past_end(dp), 0);
  o.flags = 0;
  ck_ok(fsc_list_open(base, &o, &l));
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

static Suite *prealloc_suite(void) {
  Suite *s = suite_create("prealloc");
  TCase *tc = tcase_create("cases");
  tcase_set_timeout(tc, 180);
  tcase_add_test(tc, test_data_ahead_and_given_back);
  tcase_add_test(tc, test_index_ahead_and_given_back);
  tcase_add_test(tc, test_given_back_by_other_last_close);
  tcase_add_test(tc, test_list_steps_share_a_thread);
  tcase_add_test(tc, test_list_grow_jobs);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tc_run(prealloc_suite()); }
