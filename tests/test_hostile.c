/*
 * test_hostile.c - corrupt and hostile collection files: opening them and
 * using what opened gives a clean error (FSC_ECORRUPT and friends) or
 * success, and never a crash, a hang or a write outside what the index
 * handed out.
 *
 * Every file in tests/hostile/ (inputs the fuzzer found, and hand-made
 * ones) and every seed in fuzz/corpus/ is replayed through the fuzz
 * target itself (fuzz/fuzz_open.c: open as list, dict and set, read
 * everything, write a little), each in its own child with a timeout.
 * Their format: [u32 LE data file length][data file][index file].
 * Then the hand-made files are checked in detail: the right error, and
 * nothing that was stored lost.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <sys/stat.h>

#include "check_common.h"

#ifndef FSC_SRCDIR
#define FSC_SRCDIR "."
#endif

#include "replay.h"

/* Write the two files of input `name` (from tests/hostile) at a fresh base
 * path and return it. */
static const char *put(const char *name) {
  char path[600];
  snprintf(path, sizeof path, "%s/tests/hostile/%s", FSC_SRCDIR, name);
  size_t n;
  uint8_t *p = slurp(path, &n);
  ck_assert_uint_ge(n, 4);
  uint32_t dn = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
                (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  ck_assert_uint_le(dn, n - 4);
  const char *base = tc_path(name);
  char f[700];
  const uint8_t *part[2] = {p + 4, p + 4 + dn};
  size_t len[2] = {dn, n - 4 - dn};
  const char *suffix[2] = {"data", "index"};
  for (int i = 0; i < 2; i++) {
    snprintf(f, sizeof f, "%s.%s.fscollection", base, suffix[i]);
    int fd = open(f, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, part[i], len[i]), (ssize_t)len[i]);
    close(fd);
  }
  free(p);
  return base;
}

static fsc_options noncreate(void) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = 0;
  return o;
}

/* The list seed these were made from: int64 [INT64_MIN, 42, -7]. */
static void check_list_seed(fsc_list *l, uint64_t want_len) {
  uint64_t n;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_uint_eq(n, want_len);
  int64_t x;
  ck_ok(fsc_list_get_i64(l, 0, &x));
  ck_assert(x == INT64_MIN);
  ck_ok(fsc_list_get_i64(l, 1, &x));
  ck_assert_int_eq(x, 42);
  ck_ok(fsc_list_get_i64(l, 2, &x));
  ck_assert_int_eq(x, -7);
}

START_TEST(test_list_frozen_slot) {
  /* Slot 0 frozen with no record, under an unfrozen word: assignment
   * used to spin for ever waiting for a change that did not exist. */
  fsc_options o = noncreate();
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(put("list-set-frozen-slot"), &o, &l));
  fsc_value v;
  ck_fsc(fsc_list_get(l, 0, &v), FSC_ECORRUPT);
  ck_fsc(fsc_list_set_i64(l, 0, 5), FSC_ECORRUPT);
  ck_ok(fsc_list_set_i64(l, 1, 5)); /* the sound slots still work */
  fsc_list_free(l);
}
END_TEST

START_TEST(test_list_fence_at_len) {
  /* A fence left at slot[LEN] with no change holding the list: append
   * used to spin for ever. */
  fsc_options o = noncreate();
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(put("list-fence-at-len"), &o, &l));
  ck_fsc(fsc_list_append_i64(l, 1), FSC_ECORRUPT);
  check_list_seed(l, 3);
  fsc_list_free(l);
}
END_TEST

/* A structural change (insert) that copies the list into a spare array
 * the index names in the wrong place must not write there: the list and
 * its header survive, and reopen. */
static void spare_case(const char *name) {
  fsc_options o = noncreate();
  const char *base = put(name);
  char keep[600];
  snprintf(keep, sizeof keep, "%s", base);
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(keep, &o, &l));
  int rc = fsc_list_insert(l, 0, &(fsc_value){.type = FSC_TYPE_INT64,
                                              .u.i64 = 9});
  ck_assert_msg(rc == 0 || rc == FSC_ECORRUPT, "insert: %d", rc);
  if (rc == 0) {
    int64_t x;
    ck_ok(fsc_list_get_i64(l, 0, &x));
    ck_assert_int_eq(x, 9);
    ck_ok(fsc_list_pop(l, 0, NULL));
  }
  check_list_seed(l, 3);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
  l = NULL;
  ck_ok(fsc_list_open(keep, &o, &l));
  check_list_seed(l, 3);
  fsc_list_free(l);
}

START_TEST(test_list_spare_in_header) { spare_case("list-spare-in-header"); }
END_TEST
START_TEST(test_list_spare_overlaps_active) {
  spare_case("list-spare-overlaps-active");
}
END_TEST
START_TEST(test_list_itail_inside_array) {
  spare_case("list-itail-inside-array");
}
END_TEST

/* The set seed: int64 {INT64_MIN, -7} (42 was discarded). */
static void check_set_seed(fsc_set *s, bool with_new) {
  uint64_t n;
  ck_ok(fsc_set_len(s, &n));
  ck_assert_uint_eq(n, with_new ? 3 : 2);
  ck_assert_int_eq(fsc_set_contains_i64(s, INT64_MIN), 1);
  ck_assert_int_eq(fsc_set_contains_i64(s, -7), 1);
  ck_assert_int_eq(fsc_set_contains_i64(s, 42), 0);
  if (with_new)
    ck_assert_int_eq(fsc_set_contains_i64(s, 1234), 1);
}

/* kused is set huge in these, so the next add grows the table: the
 * rebuild must not write into the header, over the table it copies, or
 * at an index tail inside it. */
static void set_grow_case(const char *name) {
  fsc_options o = noncreate();
  char keep[600];
  snprintf(keep, sizeof keep, "%s", put(name));
  fsc_set *s = NULL;
  ck_ok(fsc_set_open(keep, &o, &s));
  int rc = fsc_set_add_i64(s, 1234);
  ck_assert_msg(rc == 1 || rc == FSC_ECORRUPT, "add: %d (%s)", rc,
                fsc_errmsg());
  check_set_seed(s, rc == 1);
  ck_ok(fsc_set_close(s));
  fsc_set_free(s);
  s = NULL;
  ck_ok(fsc_set_open(keep, &o, &s));
  check_set_seed(s, rc == 1);
  fsc_set_free(s);
}

START_TEST(test_set_spare_in_header) { set_grow_case("set-spare-in-header"); }
END_TEST
START_TEST(test_set_spare_overlaps_active) {
  set_grow_case("set-spare-overlaps-active");
}
END_TEST
START_TEST(test_set_itail_inside_table) {
  set_grow_case("set-itail-inside-table");
}
END_TEST

START_TEST(test_set_empty_slots_frozen) {
  /* Every empty slot frozen, the word not: add used to spin for ever. */
  fsc_options o = noncreate();
  fsc_set *s = NULL;
  ck_ok(fsc_set_open(put("set-empty-slots-frozen"), &o, &s));
  ck_fsc(fsc_set_add_i64(s, 1234), FSC_ECORRUPT);
  ck_assert_int_eq(fsc_set_contains_i64(s, -7), 1);
  fsc_set_free(s);
}
END_TEST

START_TEST(test_set_table_offset_wraps) {
  /* The table's offset near 2^64: offset + size wrapped into range, and
   * every lookup read from below the mapping. */
  fsc_options o = noncreate();
  fsc_set *s = NULL;
  ck_ok(fsc_set_open(put("set-table-offset-wraps-around"), &o, &s));
  ck_fsc(fsc_set_contains_i64(s, -7), FSC_ECORRUPT);
  ck_fsc(fsc_set_add_i64(s, 1234), FSC_ECORRUPT);
  fsc_set_free(s);
}
END_TEST

START_TEST(test_dict_spare_in_header) {
  fsc_options o = noncreate();
  char keep[600];
  snprintf(keep, sizeof keep, "%s", put("dict-spare-in-header"));
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(keep, &o, &d));
  ck_ok(fsc_dict_set_str(d, "new", "v"));
  const char *p;
  size_t n;
  ck_ok(fsc_dict_get_str(d, "k0", &p, &n)); /* updated to "" in the seed */
  ck_assert_uint_eq(n, 0);
  ck_ok(fsc_dict_get_str(d, "", &p, &n));
  ck_assert_uint_eq(n, 0);
  ck_fsc(fsc_dict_get_str(d, "key one", &p, &n), FSC_EKEY);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  d = NULL;
  ck_ok(fsc_dict_open(keep, &o, &d));
  ck_ok(fsc_dict_get_str(d, "new", &p, &n));
  ck_assert_uint_eq(n, 1);
  fsc_dict_free(d);
}
END_TEST

static Suite *hostile_suite(void) {
  Suite *s = suite_create("hostile");
  TCase *tc = tcase_create("replay");
  tcase_set_timeout(tc, 30);
  tcase_add_loop_test(tc, test_replay, 0, nfiles);
  suite_add_tcase(s, tc);
  tc = tcase_create("cases");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, test_list_frozen_slot);
  tcase_add_test(tc, test_list_fence_at_len);
  tcase_add_test(tc, test_list_spare_in_header);
  tcase_add_test(tc, test_list_spare_overlaps_active);
  tcase_add_test(tc, test_list_itail_inside_array);
  tcase_add_test(tc, test_set_spare_in_header);
  tcase_add_test(tc, test_set_spare_overlaps_active);
  tcase_add_test(tc, test_set_itail_inside_table);
  tcase_add_test(tc, test_set_empty_slots_frozen);
  tcase_add_test(tc, test_set_table_offset_wraps);
  tcase_add_test(tc, test_dict_spare_in_header);
  suite_add_tcase(s, tc);
  return s;
}

static int rm_cb(const char *p, const struct stat *sb, int flag,
                 struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  remove(p);
  return 0;
}

int main(void) {
  add_dir(FSC_SRCDIR "/tests/hostile");
  add_dir(FSC_SRCDIR "/fuzz/corpus");
  if (nfiles == 0) {
    fprintf(stderr, "test_hostile: no inputs under %s\n", FSC_SRCDIR);
    return EXIT_FAILURE;
  }
  /* Every test's files (the fuzz target's too) go under one private
   * root, removed at the end. */
  const char *tmp = getenv("TMPDIR");
  char root[512];
  snprintf(root, sizeof root, "%s/fsc-hostile-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(root)) {
    perror("mkdtemp");
    return EXIT_FAILURE;
  }
  setenv("TMPDIR", root, 1);
  int rc = tc_run(hostile_suite());
  nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
  free_files();
  return rc;
}
