/*
 * test_counter_seal.c - counters that recovery and verify can vouch for
 * (doc/FORMAT.md, "Counter records"; doc/DURABILITY.md, "Counters"):
 *
 *  - after a clean close every counter is sealed (its checksum covers the
 *    value word): a bit flipped in the value is found by verify (and
 *    dropped by its repair) and refused by the next in-place increment,
 *    never handed back as a value;
 *  - after an unclean shutdown, a counter the crashed session did not
 *    touch is still sealed: the read-only first opener refuses it, the
 *    read-write one's recovery drops and reports it, and a counter the
 *    crashed session touched keeps its last value;
 *  - more counters touched in one session than the unsealed log holds
 *    (the overflow path) are all sealed at close;
 *  - a sealed counter reopened, incremented by several processes and
 *    closed is sealed again with the right value;
 *  - a list element counter the same as a dict's;
 *  - a verify racing the writers that unseal counters reports nothing.
 */
#include "check_common.h"
#include "check_records.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* doc/FORMAT.md */
#define REC_HDR 16
#define CTR_FLAG 0x8000u
#define CTR_SEALED 0x1000u

/* A record of dict key k not flagged deleted: a full record whose
 * payload starts [u32 klen][k]. */
static bool is_dict_rec(const tc_rec *r, const void *arg) {
  return tc_rec_key_is(r, arg) && r->size >= 4 + strlen(arg) &&
         r->size < 4096 && r->type != 0 && !(r->flags & 1);
}

/* The offset of the live (last written) record of dict key k. */
static uint64_t dict_rec(const char *base, const char *k) {
  uint64_t found = tc_rec_last(base, is_dict_rec, k);
  ck_assert_msg(found, "no live record for key %s", k);
  return found;
}

/* A compact int64 record of value *(int64_t *)arg, not flagged deleted. */
static bool is_i64_rec(const tc_rec *r, const void *arg) {
  int64_t v;
  memcpy(&v, r->pl, 8);
  return r->compact && r->type == FSC_TYPE_INT64 &&
         v == *(const int64_t *)arg && !(r->flags & 1);
}

static uint16_t ctl_at(const char *base, uint64_t rec) {
  uint16_t ctl;
  tc_peek(tc_fpath(base, "data"), (off_t)(rec + 2), &ctl, 2);
  return ctl;
}

/* A dict counter's value word (key padded to 8 after its u32 length). */
static off_t dict_vword(const char *base, uint64_t rec) {
  /* The value word is the payload's 8 bytes before its last 8, in either
   * shape of a dict counter (with a close word or without). */
  uint64_t size = 0;
  tc_peek(tc_fpath(base, "data"), (off_t)(rec + 8), &size, 8);
  return (off_t)(rec + REC_HDR + size - 16);
}

static void flip(const char *base, off_t where, uint8_t bit) {
  uint8_t b;
  tc_peek(tc_fpath(base, "data"), where, &b, 1);
  b ^= bit;
  tc_poke(tc_fpath(base, "data"), where, &b, 1);
}

static fsc_dict *dopen(const char *base, unsigned flags) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  o.flags = flags;
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(base, &o, &d));
  return d;
}

static bool dclean(fsc_dict *d) {
  fsc_metrics m;
  memset(&m, 0, sizeof m);
  m.size = sizeof m;
  ck_ok(fsc_dict_metrics(d, &m));
  return m.last_close_clean;
}

static fsc_verify_report rep(void) {
  fsc_verify_report r;
  memset(&r, 0, sizeof r);
  r.size = sizeof r;
  return r;
}

static void ck_sealed(const char *base, uint64_t rec) {
  uint16_t ctl = ctl_at(base, rec);
  ck_assert_msg((ctl & (CTR_FLAG | CTR_SEALED)) == (CTR_FLAG | CTR_SEALED),
                "record %llu: ctl %#x is not a sealed counter",
                (unsigned long long)rec, ctl);
}

/* Counters "a" (incremented three times in place) and "b" (twice), and a
 * plain key "p", closed cleanly. */
static void two_counters(const char *base) {
  fsc_dict *d = dopen(base, FSC_CREATE);
  int64_t x;
  for (int i = 0; i < 3; i++)
    ck_ok(fsc_dict_incr(d, "a", 1, 10, &x));
  ck_assert_int_eq(x, 30);
  for (int i = 0; i < 2; i++)
    ck_ok(fsc_dict_incr(d, "b", 1, 7, &x));
  ck_assert_int_eq(x, 14);
  ck_ok(fsc_dict_set_i64(d, "p", 5));
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
}

START_TEST(test_clean_close_sealed) {
  const char *base = tc_path("clean");
  two_counters(base);
  uint64_t ra = dict_rec(base, "a"), rb = dict_rec(base, "b");
  ck_sealed(base, ra);
  ck_sealed(base, rb);
  /* A sound sealed counter verifies, and counts on from its value. */
  fsc_dict *d = dopen(base, 0);
  fsc_verify_report r = rep();
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_assert(r.healthy);
  int64_t x;
  ck_ok(fsc_dict_incr(d, "b", 1, 1, &x));
  ck_assert_int_eq(x, 15);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  ck_sealed(base, rb);
  /* One bit of a's value flipped after the clean close. */
  flip(base, dict_vword(base, ra), 0x04);
  d = dopen(base, 0);
  ck_assert(dclean(d));
  r = rep();
  ck_fsc(fsc_dict_verify(d, 0, &r), FSC_ECORRUPT);
  ck_assert(!r.healthy);
  ck_assert_uint_eq(r.records_bad_checksum, 1);
  /* An increment in place reads the value: it refuses the damaged one. */
  ck_fsc(fsc_dict_incr(d, "a", 1, 1, &x), FSC_ECORRUPT);
  ck_assert_msg(strstr(fsc_errmsg(), "checksum"), "%s", fsc_errmsg());
  /* b is sound. */
  ck_ok(fsc_dict_incr(d, "b", 1, 1, &x));
  ck_assert_int_eq(x, 16);
  r = rep();
  ck_ok(fsc_dict_verify(d, FSC_VERIFY_REPAIR, &r));
  ck_assert(r.repaired);
  ck_assert_uint_eq(r.items_dropped, 1);
  ck_fsc(fsc_dict_get_i64(d, "a", &x), FSC_EKEY);
  ck_ok(fsc_dict_get_i64(d, "b", &x));
  ck_assert_int_eq(x, 16);
  ck_ok(fsc_dict_get_i64(d, "p", &x));
  ck_assert_int_eq(x, 5);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_unclean_untouched) {
  const char *base = tc_path("unclean");
  two_counters(base);
  /* A session that increments a in place and dies without closing. */
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0) {
    fsc_options o = FSC_OPTIONS_INIT;
    o.type = FSC_TYPE_INT64;
    fsc_dict *cd = NULL;
    int64_t x;
    if (fsc_dict_open(base, &o, &cd) || fsc_dict_incr(cd, "a", 1, 1, &x) ||
        x != 31)
      _exit(1);
    _exit(0);
  }
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  /* b, untouched by the crashed session, damaged afterwards. */
  uint64_t rb = dict_rec(base, "b");
  ck_sealed(base, rb);
  ck_assert(!(ctl_at(base, dict_rec(base, "a")) & CTR_SEALED));
  flip(base, dict_vword(base, rb), 0x01);
  /* The read-only first opener refuses it, at open or at the read. */
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  o.flags = FSC_RDONLY;
  fsc_dict *d = NULL;
  int rc = fsc_dict_open(base, &o, &d);
  if (rc == 0) {
    int64_t x;
    rc = fsc_dict_get_i64(d, "b", &x);
    ck_assert_msg(rc != 0, "a damaged counter read back as %lld",
                  (long long)x);
    fsc_dict_free(d);
    d = NULL;
  }
  ck_assert_int_eq(rc, FSC_ECORRUPT);
  /* The read-write first opener's recovery drops and reports it. */
  d = dopen(base, 0);
  ck_assert(!dclean(d));
  fsc_metrics m;
  memset(&m, 0, sizeof m);
  m.size = sizeof m;
  ck_ok(fsc_dict_metrics(d, &m));
  ck_assert_uint_ge(m.repaired_dropped, 1);
  int64_t x;
  ck_fsc(fsc_dict_get_i64(d, "b", &x), FSC_EKEY);
  ck_ok(fsc_dict_get_i64(d, "a", &x));
  ck_assert_int_eq(x, 31);
  fsc_verify_report r = rep();
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_assert(r.healthy);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  /* The clean close seals what the crashed session left unsealed. */
  ck_sealed(base, dict_rec(base, "a"));
  d = dopen(base, 0);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* More counters touched in one session than the log of unsealed counters
 * holds: every one is sealed at close all the same. */
START_TEST(test_overflow_sealed) {
  const char *base = tc_path("many");
  enum { N = 600 };
  fsc_dict *d = dopen(base, FSC_CREATE);
  char k[32];
  int64_t x;
  for (int i = 0; i < N; i++) {
    snprintf(k, sizeof k, "k%04d", i);
    ck_ok(fsc_dict_incr(d, k, strlen(k), i, &x));
  }
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  /* A new session touches every one in place. */
  d = dopen(base, 0);
  for (int i = 0; i < N; i++) {
    snprintf(k, sizeof k, "k%04d", i);
    ck_ok(fsc_dict_incr(d, k, strlen(k), 1, &x));
    ck_assert_int_eq(x, i + 1);
  }
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  for (int i = 0; i < N; i += 37) {
    snprintf(k, sizeof k, "k%04d", i);
    ck_sealed(base, dict_rec(base, k));
  }
  snprintf(k, sizeof k, "k%04d", N - 1);
  ck_sealed(base, dict_rec(base, k));
  /* The first one touched, damaged: found. */
  uint64_t r0 = dict_rec(base, "k0000");
  flip(base, dict_vword(base, r0), 0x80);
  d = dopen(base, 0);
  fsc_verify_report r = rep();
  ck_fsc(fsc_dict_verify(d, 0, &r), FSC_ECORRUPT);
  ck_assert_uint_eq(r.records_bad_checksum, 1);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

START_TEST(test_multiprocess_resealed) {
  const char *base = tc_path("mp");
  enum { P = 3, M = 2000 };
  fsc_dict *d = dopen(base, FSC_CREATE);
  int64_t x;
  ck_ok(fsc_dict_incr(d, "c", 1, 100, &x));
  ck_ok(fsc_dict_incr(d, "c", 1, 1, &x));
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  ck_sealed(base, dict_rec(base, "c"));
  d = dopen(base, 0); /* held open while the children count */
  pid_t kids[P];
  for (int i = 0; i < P; i++) {
    kids[i] = fork();
    ck_assert_int_ge(kids[i], 0);
    if (kids[i] == 0) {
      fsc_options o = FSC_OPTIONS_INIT;
      o.type = FSC_TYPE_INT64;
      fsc_dict *cd = NULL;
      if (fsc_dict_open(base, &o, &cd))
        _exit(1);
      for (int j = 0; j < M; j++)
        if (fsc_dict_incr(cd, "c", 1, 1, NULL))
          _exit(2);
      _exit(fsc_dict_close(cd) ? 3 : 0);
    }
  }
  for (int i = 0; i < P; i++) {
    int st;
    ck_assert_int_eq(waitpid(kids[i], &st, 0), kids[i]);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  uint64_t rc = dict_rec(base, "c");
  ck_sealed(base, rc);
  d = dopen(base, 0);
  ck_ok(fsc_dict_get_i64(d, "c", &x));
  ck_assert_int_eq(x, 101 + P * M);
  fsc_verify_report r = rep();
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_assert(r.healthy);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  /* Sealed with that value: a flip in it is found. */
  flip(base, dict_vword(base, rc), 0x10);
  d = dopen(base, 0);
  r = rep();
  ck_fsc(fsc_dict_verify(d, 0, &r), FSC_ECORRUPT);
  ck_assert_uint_eq(r.records_bad_checksum, 1);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* A verify while other processes unseal counters (their first increment
 * of the session) never calls a sound counter damaged: a check that read
 * the sealed header and then a changed value reads the header again. */
START_TEST(test_verify_while_unsealing) {
  const char *base = tc_path("race");
  enum { N = 400, P = 2 };
  fsc_dict *d = dopen(base, FSC_CREATE);
  char k[32];
  for (int i = 0; i < N; i++) {
    snprintf(k, sizeof k, "k%04d", i);
    ck_ok(fsc_dict_incr(d, k, strlen(k), 1, NULL));
  }
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  d = dopen(base, 0);
  pid_t kids[P];
  for (int p = 0; p < P; p++) {
    kids[p] = fork();
    ck_assert_int_ge(kids[p], 0);
    if (kids[p] == 0) {
      fsc_options o = FSC_OPTIONS_INIT;
      o.type = FSC_TYPE_INT64;
      fsc_dict *cd = NULL;
      if (fsc_dict_open(base, &o, &cd))
        _exit(1);
      char kk[32];
      for (int round = 0; round < 3; round++)
        for (int i = 0; i < N; i++) {
          snprintf(kk, sizeof kk, "k%04d", (i * 7 + p * 13) % N);
          if (fsc_dict_incr(cd, kk, strlen(kk), 1, NULL))
            _exit(2);
        }
      _exit(fsc_dict_close(cd) ? 3 : 0);
    }
  }
  int done = 0, checks = 0;
  while (done < P) {
    fsc_verify_report r = rep();
    int rc = fsc_dict_verify(d, 0, &r);
    ck_assert_msg(rc == 0 && r.records_bad == 0, "verify: %d (%s), %llu bad",
                  rc, fsc_errmsg(), (unsigned long long)r.records_bad);
    checks++;
    for (int p = 0; p < P; p++) {
      int st;
      if (kids[p] > 0 && waitpid(kids[p], &st, WNOHANG) == kids[p]) {
        ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        kids[p] = -1;
        done++;
      }
    }
  }
  ck_assert_int_gt(checks, 0);
  int64_t x;
  ck_ok(fsc_dict_get_i64(d, "k0000", &x));
  ck_assert_int_eq(x, 1 + 3 * P);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  ck_sealed(base, dict_rec(base, "k0399"));
  d = dopen(base, 0);
  fsc_verify_report r = rep();
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_assert(r.healthy);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* A list element counter: sealed at close, a flip found by verify and
 * refused by the next increment. */
START_TEST(test_list_counter_sealed) {
  const char *base = tc_path("list");
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  o.flags = FSC_CREATE;
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(base, &o, &l));
  int64_t x;
  ck_ok(fsc_list_append_i64(l, 1));
  ck_ok(fsc_list_append_i64(l, 2));
  for (int i = 0; i < 3; i++)
    ck_ok(fsc_list_incr(l, 1, 5, &x));
  ck_assert_int_eq(x, 17);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
  /* The element's record: the newest int64 record of value 17, in the
   * compact form (doc/FORMAT.md, "Compact records": type | 0x80, the
   * payload 8 bytes in). */
  int64_t want = 17;
  uint64_t rec = tc_rec_last(base, is_i64_rec, &want);
  ck_assert(rec);
  ck_sealed(base, rec);
  flip(base, (off_t)(rec + 8), 0x02);
  o.flags = 0;
  ck_ok(fsc_list_open(base, &o, &l));
  fsc_verify_report r = rep();
  ck_fsc(fsc_list_verify(l, 0, &r), FSC_ECORRUPT);
  ck_assert_uint_eq(r.records_bad_checksum, 1);
  ck_fsc(fsc_list_incr(l, 1, 1, &x), FSC_ECORRUPT);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

static Suite *seal_suite(void) {
  Suite *s = suite_create("counter_seal");
  TCase *tc = tcase_create("seal");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_clean_close_sealed);
  tcase_add_test(tc, test_unclean_untouched);
  tcase_add_test(tc, test_overflow_sealed);
  tcase_add_test(tc, test_multiprocess_resealed);
  tcase_add_test(tc, test_list_counter_sealed);
  tcase_add_test(tc, test_verify_while_unsealing);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tc_run(seal_suite()); }
