/*
 * test_overwrite.c - overwrites and deletes leave the records they
 * supersede untouched (liveness is the index's, doc/FORMAT.md "Records"),
 * and the rebuild of a dict's table from the data file alone still gives
 * every key its newest state:
 *
 *  - after N overwrites and deletes of dict keys and discards of set
 *    elements, whose records lie on pages made clean first (msync, then
 *    MADV_DONTNEED of the data mapping), the data mapping holds only the
 *    few dirty pages of the header and the appended tail
 *    (/proc/self/smaps, Private_Dirty + Shared_Dirty): no page of a
 *    superseded record was written; a list's item assignments, pops and
 *    dels do flag the records they supersede (the only trace of a stale
 *    list slot), and dirty their pages;
 *  - with every slot of the table lost, the rebuild from the data file
 *    gives each key its newest value or absence: after deletes, re-inserts
 *    and a clear (their mark records), after setdefaults of present keys,
 *    and after two processes raced on one key so that the later publish
 *    is the lower record (one writer stopped by SIGSTOP between its append
 *    and its compare-and-swap, the other publishing meanwhile).
 */
#include "check_common.h"
#include "check_records.h"
#include "check_smaps.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

/* doc/FORMAT.md */
#define I_LENWORD 64
#define I_DESC(b) (72 + 24 * (b))
#define LW_BUF(w) ((unsigned)(((w) >> 62) & 1u))

/* A collection's data file. */
static const char *data_file(const char *base) {
  return tc_fpath(base, "data");
}

static uint64_t dlen(fsc_dict *d) {
  uint64_t n = 0;
  ck_ok(fsc_dict_len(d, &n));
  return n;
}

#define BIG 3000 /* bytes: each such record on a page of its own, or two */
#define NBIG 96

static fsc_value big(char *buf, int i) {
  memset(buf, 'a' + i % 26, BIG);
  snprintf(buf, 16, "big-%d", i);
  return fsc_bytes(buf, BIG);
}

static char *key(int i) {
  static char b[4][32];
  static unsigned k;
  char *s = b[k++ % 4];
  snprintf(s, 32, "key-%d", i);
  return s;
}

/* The pages dirtied by the overwrites and deletes: the data header's and
 * the tail's (NBIG small records, some 4 KiB), a few; the superseded
 * records alone would be NBIG or more.  The kernel counts a dirty page
 * cache folio whole: the zeros written ahead of the tail
 * (src/file/grow.c) come as large folios (64 KiB here), so the tail's
 * first store dirties its folio.  `first`, the dirty pages after the
 * first write (the header and the tail's folio), is allowed twice (the
 * tail may cross into the next folio) besides DIRTY_MAX. */
#define DIRTY_MAX 6
#define DIRTY_BOUND(first) (2 * (first) + DIRTY_MAX)

START_TEST(test_dict_overwrite_clean) {
  const char *base = tc_path("dclean");
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(base, NULL, &d));
  char buf[BIG];
  for (int i = 0; i < NBIG; i++) {
    fsc_value v = big(buf, i);
    ck_ok(fsc_dict_set(d, key(i), strlen(key(i)), &v));
  }
  const char *df = data_file(base);
  tc_mapping_dirty(df, true);
  ck_assert_int_eq(tc_mapping_dirty(df, false), 0);
  /* Two thirds overwritten with a small value, one third deleted. */
  long first = 0;
  for (int i = 0; i < NBIG; i++) {
    if (i % 3 == 2) {
      ck_ok(fsc_dict_del(d, key(i), strlen(key(i))));
    } else {
      fsc_value v = fsc_i64(i);
      ck_ok(fsc_dict_set(d, key(i), strlen(key(i)), &v));
    }
    if (i == 0)
      first = tc_mapping_dirty(df, false);
  }
  long dirty = tc_mapping_dirty(df, false);
  ck_assert_msg(dirty <= DIRTY_BOUND(first), "%ld dirty pages in the data "
                "mapping after %d overwrites and deletes (%ld after the "
                "first)", dirty, NBIG, first);
  for (int i = 0; i < NBIG; i++) {
    fsc_value v;
    if (i % 3 == 2) {
      ck_fsc(fsc_dict_get(d, key(i), strlen(key(i)), &v), FSC_EKEY);
    } else {
      ck_ok(fsc_dict_get(d, key(i), strlen(key(i)), &v));
      ck_assert_int_eq(v.type, FSC_TYPE_INT64);
      ck_assert_int_eq(v.u.i64, i);
    }
  }
  ck_ok(fsc_dict_verify(d, 0, NULL));
  ck_ok(fsc_dict_compact(d));
  ck_ok(fsc_dict_verify(d, 0, NULL));
  ck_assert_uint_eq(dlen(d), NBIG - NBIG / 3);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* Elements of a set of any type: int64 ones, each followed by a large
 * bytes element so that each int64 record lies on a page of its own; the
 * int64 ones are discarded (a discard appends a small mark record of the
 * element to the tail, doc/FORMAT.md "Records"). */
START_TEST(test_set_discard_clean) {
  const char *base = tc_path("sclean");
  fsc_set *s = NULL;
  ck_ok(fsc_set_open(base, NULL, &s));
  char buf[BIG];
  for (int i = 0; i < NBIG; i++) {
    fsc_value v = fsc_i64(i), b = big(buf, i);
    ck_assert_int_eq(fsc_set_add(s, &v), 1);
    ck_assert_int_eq(fsc_set_add(s, &b), 1);
  }
  const char *df = data_file(base);
  tc_mapping_dirty(df, true);
  long first = 0;
  for (int i = 0; i < NBIG; i++) {
    fsc_value v = fsc_i64(i);
    ck_assert_int_eq(fsc_set_discard(s, &v), 1);
    if (i == 0)
      first = tc_mapping_dirty(df, false);
  }
  long dirty = tc_mapping_dirty(df, false);
  ck_assert_msg(dirty <= DIRTY_BOUND(first), "%ld dirty pages in the data "
                "mapping after %d discards (%ld after the first)", dirty,
                NBIG, first);
  ck_ok(fsc_set_verify(s, 0, NULL));
  for (int i = 0; i < NBIG; i++) {
    fsc_value v = fsc_i64(i), b = big(buf, i);
    ck_assert_int_eq(fsc_set_contains(s, &v), 0);
    ck_assert_int_eq(fsc_set_contains(s, &b), 1);
  }
  ck_ok(fsc_set_compact(s));
  ck_ok(fsc_set_verify(s, 0, NULL));
  ck_ok(fsc_set_destroy(s));
  fsc_set_free(s);
}
END_TEST

/* A list is the exception: its records carry no key and no position, so
 * the flag written into a superseded record is the only trace a check
 * (and a read-only first opener, and recovery) has of a slot damaged into
 * naming it (doc/FORMAT.md "Records", test_verify's test_list_superseded):
 * item assignments, pops and dels flag the records they supersede, which
 * dirties their pages.  What this measures is that they do. */
START_TEST(test_list_assign_pop_flags) {
  const char *base = tc_path("lflags");
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(base, NULL, &l));
  char buf[BIG];
  for (int i = 0; i < NBIG; i++) {
    fsc_value v = big(buf, i);
    ck_ok(fsc_list_append(l, &v));
  }
  const char *df = data_file(base);
  tc_mapping_dirty(df, true);
  /* Item assignment of every other item, then pops and dels at the end
   * and in the middle. */
  for (int i = 0; i < NBIG; i += 2) {
    fsc_value v = fsc_i64(i);
    ck_ok(fsc_list_set(l, i, &v));
  }
  for (int k = 0; k < 8; k++) {
    ck_ok(fsc_list_pop(l, -1, NULL));
    ck_ok(fsc_list_del(l, 10));
  }
  long dirty = tc_mapping_dirty(df, false);
  ck_assert_msg(dirty > DIRTY_MAX + NBIG / 4, "%ld dirty pages in the data "
                "mapping after %d assignments and 16 pops: the superseded "
                "records were not flagged", dirty, NBIG / 2);
  ck_ok(fsc_list_verify(l, 0, NULL));
  ck_ok(fsc_list_compact(l));
  ck_ok(fsc_list_verify(l, 0, NULL));
  uint64_t n = 0;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_uint_eq(n, NBIG - 16);
  fsc_value v;
  ck_ok(fsc_list_get(l, 0, &v));
  ck_assert_int_eq(v.type, FSC_TYPE_INT64);
  ck_assert_int_eq(v.u.i64, 0);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* Every slot of the dict's table lost (zeroed, as index pages lost with
 * the power): a repair, alone, rebuilds the table from the data file. */
static void lose_table_and_repair(const char *base, fsc_dict *d) {
  const char *ip = tc_fpath(base, "index");
  uint64_t w = tc_peek64(ip, I_LENWORD);
  uint64_t toff = tc_peek64(ip, I_DESC(LW_BUF(w)));
  uint64_t cap = tc_peek64(ip, I_DESC(LW_BUF(w)) + 8);
  void *zero = calloc(cap, 8);
  ck_assert_ptr_nonnull(zero);
  int fd = open(ip, O_RDWR);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(pwrite(fd, zero, cap * 8, (off_t)toff), (ssize_t)(cap * 8));
  close(fd);
  free(zero);
  fsc_verify_report r;
  memset(&r, 0, sizeof r);
  r.size = sizeof r;
  ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.repaired && r.healthy);
  ck_assert_uint_ge(r.tables_rebuilt, 1);
  ck_ok(fsc_dict_verify(d, 0, NULL));
}

#define NKEYS 40

static void ck_keys(fsc_dict *d, int64_t plus) {
  for (int i = 0; i < NKEYS; i++) {
    fsc_value v;
    ck_ok(fsc_dict_get(d, key(i), strlen(key(i)), &v));
    ck_assert_int_eq(v.u.i64, i + plus);
  }
}

/* Deletes and a clear leave their marks in the data file: a rebuild from
 * the data file alone (every slot lost) brings back no deleted key, no
 * cleared key, and a key deleted then set again with its last value. */
START_TEST(test_rebuild_after_deletes) {
  const char *base = tc_path("dels");
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(base, NULL, &d));
  for (int i = 0; i < NKEYS; i++) {
    fsc_value v = fsc_i64(-1);
    ck_ok(fsc_dict_set(d, key(1000 + i), strlen(key(1000 + i)), &v));
  }
  ck_ok(fsc_dict_clear(d));
  for (int i = 0; i < 2 * NKEYS; i++) {
    fsc_value v = fsc_i64(i % NKEYS == i ? i : -2);
    ck_ok(fsc_dict_set(d, key(i), strlen(key(i)), &v));
  }
  for (int i = NKEYS; i < 2 * NKEYS; i++)
    ck_ok(fsc_dict_del(d, key(i), strlen(key(i))));
  for (int i = 0; i < NKEYS; i += 4) { /* deleted, then set again */
    ck_ok(fsc_dict_del(d, key(i), strlen(key(i))));
    fsc_value v = fsc_i64(i);
    ck_ok(fsc_dict_set(d, key(i), strlen(key(i)), &v));
  }
  lose_table_and_repair(base, d);
  ck_assert_uint_eq(dlen(d), NKEYS);
  ck_keys(d, 0);
  for (int i = NKEYS; i < 2 * NKEYS; i++)
    ck_fsc(fsc_dict_contains(d, key(i), strlen(key(i))), 0);
  for (int i = 0; i < NKEYS; i++)
    ck_fsc(fsc_dict_contains(d, key(1000 + i), strlen(key(1000 + i))), 0);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* A delete on a full data file (no room for its mark record) still
 * works, and a rebuild from the data file alone still finds the key
 * absent: the removed record is flagged as its own mark, and no lower
 * (superseded) version of the key comes back. */
START_TEST(test_delete_when_full) {
  const char *base = tc_path("full");
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(base, NULL, &d));
  for (int i = 0; i < NKEYS; i++) {
    for (int64_t v = 100; v >= 0; v -= 100) { /* a superseded version */
      fsc_value x = fsc_i64(i + v);
      ck_ok(fsc_dict_set(d, key(i), strlen(key(i)), &x));
    }
  }
  fflush(NULL);
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0) {
    signal(SIGXFSZ, SIG_IGN);
    struct stat st;
    if (stat(tc_fpath(base, "data"), &st) != 0)
      _exit(2);
    struct rlimit rl = {(rlim_t)st.st_size, (rlim_t)st.st_size};
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
      _exit(3);
    /* Fill the data file to its end. */
    int n = 0, rc;
    char big[2000];
    memset(big, 'x', sizeof big);
    fsc_value b = fsc_bytes(big, sizeof big);
    while ((rc = fsc_dict_set(d, key(5000 + n), strlen(key(5000 + n)),
                              &b)) == 0)
      n++;
    if (rc != FSC_ENOSPC)
      _exit(4);
    b = fsc_bytes(big, 1);
    while (fsc_dict_set(d, key(9000), strlen(key(9000)), &b) == 0)
      ; /* the last small gaps too */
    for (int i = 0; i < NKEYS; i += 2)
      if ((rc = fsc_dict_del(d, key(i), strlen(key(i)))) != 0) {
        fprintf(stderr, "del %d: %d %s\n", i, rc, fsc_errmsg());
        _exit(10 + i);
      }
    _exit(0);
  }
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                "the child failed (status %#x)", st);
  for (int i = 0; i < NKEYS; i++)
    ck_fsc(fsc_dict_contains(d, key(i), strlen(key(i))), i % 2 ? 1 : 0);
  lose_table_and_repair(base, d);
  for (int i = 0; i < NKEYS; i++) {
    ck_fsc(fsc_dict_contains(d, key(i), strlen(key(i))), i % 2 ? 1 : 0);
    if (i % 2) {
      fsc_value v;
      ck_ok(fsc_dict_get(d, key(i), strlen(key(i)), &v));
      ck_assert_int_eq(v.u.i64, i);
    }
  }
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* setdefault of present keys (a write: it must not leave a record the
 * rebuild takes for a newer version; an append it did not publish is
 * flagged FSC__REC_VOID by fsc__hash_put). */
START_TEST(test_rebuild_skips_unpublished) {
  const char *base = tc_path("unpub");
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(base, NULL, &d));
  for (int i = 0; i < NKEYS; i++) {
    fsc_value v = fsc_i64(i);
    ck_ok(fsc_dict_set(d, key(i), strlen(key(i)), &v));
  }
  for (int i = 0; i < NKEYS; i++) {
    fsc_value dflt = fsc_i64(-1), out;
    ck_ok(fsc_dict_setdefault(d, key(i), strlen(key(i)), &dflt, &out));
    ck_assert_int_eq(out.u.i64, i);
  }
  lose_table_and_repair(base, d);
  ck_assert_uint_eq(dlen(d), NKEYS);
  ck_keys(d, 0);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* A put that fails before it publishes (here FSC_ETIMEDOUT: the table is
 * past 7/8 full and another holds the structure lock it must wait for to
 * grow) leaves its appended record flagged void: the rebuild from the
 * data file must not bring back a key whose set reported failure, nor an
 * old value an overwrite that failed never replaced. */
START_TEST(test_rebuild_skips_failed_put) {
  const char *base = tc_path("failput");
  fsc_options o = FSC_OPTIONS_INIT;
  o.lock_timeout_ms = 20;
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(base, &o, &d));
  int fd = open(tc_fpath(base, "index"), O_RDONLY);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
  int n = 0, rc;
  for (;; n++) {
    fsc_value v = fsc_i64(n);
    rc = fsc_dict_set(d, key(n), strlen(key(n)), &v);
    if (rc != 0)
      break;
    ck_assert_int_lt(n, 100000);
  }
  ck_fsc(rc, FSC_ETIMEDOUT);
  ck_fsc(fsc_dict_contains(d, key(n), strlen(key(n))), 0);
  ck_assert_int_eq(flock(fd, LOCK_UN), 0);
  close(fd);
  lose_table_and_repair(base, d);
  ck_assert_uint_eq(dlen(d), (uint64_t)n);
  ck_fsc(fsc_dict_contains(d, key(n), strlen(key(n))), 0);
  for (int i = 0; i < n; i++) {
    fsc_value v;
    ck_ok(fsc_dict_get(d, key(i), strlen(key(i)), &v));
    ck_assert_int_eq(v.u.i64, i);
  }
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* A child that opens the dict at base and sets "hot" to x0 + 1, x0 + 2,
 * ... in a loop until *stop, stopped (SIGSTOP) a while (longer as round
 * grows) after its first 100 sets; its pid. */
static pid_t stopped_setter(const char *base, volatile int *stop, int64_t x0,
                            int round) {
  *stop = 0;
  int ready[2];
  ck_assert_int_eq(pipe(ready), 0);
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0) {
    fsc_dict *o = NULL;
    if (fsc_dict_open(base, NULL, &o) != 0)
      _exit(2);
    int64_t x = x0;
    for (int n = 0; !__atomic_load_n(stop, __ATOMIC_ACQUIRE); n++) {
      fsc_value v = fsc_i64(++x);
      if (fsc_dict_set(o, "hot", 3, &v) != 0)
        _exit(3);
      if (n == 100 && write(ready[1], "x", 1) != 1)
        _exit(4);
    }
    fsc_dict_free(o);
    _exit(0);
  }
  char c;
  ck_assert_int_eq(read(ready[0], &c, 1), 1);
  close(ready[0]);
  close(ready[1]);
  struct timespec ts = {0, 200000 + 37000 * round};
  nanosleep(&ts, NULL);
  ck_assert_int_eq(kill(p, SIGSTOP), 0);
  int st;
  ck_assert_int_eq(waitpid(p, &st, WUNTRACED), p);
  ck_assert(WIFSTOPPED(st));
  return p;
}

/* Two processes set one key "hot": the child in a loop (until told to
 * stop), the parent once while the child is stopped by SIGSTOP.  When the
 * stop caught the child between its append and its compare-and-swap, the
 * child publishes last a record it appended before the parent's: its
 * value is the key's, its record the lower.  The rebuild from the data
 * file alone must give the value the dict had.  The stop lands in that
 * window in a good share of the rounds (the loop does little else). */
START_TEST(test_rebuild_after_race) {
  const char *base = tc_path("race");
  fsc_dict *d = NULL;
  /* Room for every round's sets from the start (a few MiB of them): the
   * stop must not catch the child inside a growth step that the parent's
   * set then needs, waiting for the growth lock of a stopped process
   * (the header's Caveats); growth is not what this case is about. */
  fsc_options o = FSC_OPTIONS_INIT;
  o.expected_items = (UINT64_C(32) << 20) / 48;
  ck_ok(fsc_dict_open(base, &o, &d));
  for (int i = 0; i < NKEYS; i++) {
    fsc_value v = fsc_i64(i);
    ck_ok(fsc_dict_set(d, key(i), strlen(key(i)), &v));
  }
  volatile int *stop = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ck_assert(stop != MAP_FAILED);
  int child_last = 0;
  const int rounds = 24;
  for (int round = 0; round < rounds; round++) {
    pid_t p = stopped_setter(base, stop, 1000000 * (round + 1), round);
    int st;
    __atomic_store_n(stop, 1, __ATOMIC_RELEASE);
    fsc_value mine = fsc_i64(-round - 1), now;
    ck_ok(fsc_dict_set(d, "hot", 3, &mine));
    ck_assert_int_eq(kill(p, SIGCONT), 0);
    ck_assert_int_eq(waitpid(p, &st, 0), p);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_ok(fsc_dict_get(d, "hot", 3, &now));
    child_last += now.u.i64 != mine.u.i64;
    int64_t want = now.u.i64;
    lose_table_and_repair(base, d);
    ck_ok(fsc_dict_get(d, "hot", 3, &now));
    ck_assert_msg(now.u.i64 == want, "round %d: rebuilt to %lld, the dict "
                  "had %lld", round, (long long)now.u.i64, (long long)want);
    ck_assert_uint_eq(dlen(d), NKEYS + 1);
    ck_keys(d, 0);
  }
  /* (How often the stop caught the child inside a set: its publish came
   * after the parent's.) */
  fprintf(stderr, "race: the child published last in %d of %d rounds\n",
          child_last, rounds);
  munmap((void *)stop, 4096);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* A writer of another process stopped (SIGSTOP) while it sets one key in
 * a loop: in some rounds the stop catches it between its append and its
 * compare-and-swap, which leaves a record of the key above the one its
 * slot names, as a slot damaged into naming a superseded record does
 * (doc/DURABILITY.md, "Slots naming a superseded record").  A check beside
 * it must not report that: it looks for such slots only while no other
 * handle has the collection open. */
START_TEST(test_verify_beside_stopped_writer) {
  const char *base = tc_path("vstop");
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(base, NULL, &d));
  for (int i = 0; i < NKEYS; i++) {
    fsc_value v = fsc_i64(i);
    ck_ok(fsc_dict_set(d, key(i), strlen(key(i)), &v));
  }
  volatile int *stop = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ck_assert(stop != MAP_FAILED);
  for (int round = 0; round < 16; round++) {
    pid_t p = stopped_setter(base, stop, 0, round);
    int st;
    fsc_verify_report r;
    memset(&r, 0, sizeof r);
    r.size = sizeof r;
    int rc = fsc_dict_verify(d, 0, &r);
    __atomic_store_n(stop, 1, __ATOMIC_RELEASE);
    ck_assert_int_eq(kill(p, SIGCONT), 0);
    ck_assert_int_eq(waitpid(p, &st, 0), p);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_msg(rc == 0 && r.index_superseded == 0, "round %d: %s",
                  round, fsc_errmsg());
  }
  munmap((void *)stop, 4096);
  ck_ok(fsc_dict_verify(d, 0, NULL)); /* alone now: it walks, and agrees */
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

static Suite *overwrite_suite(void) {
  Suite *s = suite_create("overwrite");
  TCase *tc = tcase_create("clean pages");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_dict_overwrite_clean);
  tcase_add_test(tc, test_set_discard_clean);
  tcase_add_test(tc, test_list_assign_pop_flags);
  suite_add_tcase(s, tc);
  tc = tcase_create("rebuild");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_rebuild_skips_unpublished);
  tcase_add_test(tc, test_rebuild_skips_failed_put);
  tcase_add_test(tc, test_rebuild_after_deletes);
  tcase_add_test(tc, test_rebuild_after_race);
  tcase_add_test(tc, test_delete_when_full);
  tcase_add_test(tc, test_verify_beside_stopped_writer);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tc_run(overwrite_suite()); }
