/* SPDX-License-Identifier: MIT */
/*
 * test_fsc.c - the fsc command-line tool, driven as a user drives it: the
 * built binary ($FSC_BIN, set by `make check`; ./fsc otherwise) run with
 * fork/exec, its exit codes, standard output and standard error checked.
 *
 *  - --help, help CMD, --version, usage errors;
 *  - the point commands on a dict, a list and a set;
 *  - stat (text and --json), verify after clean and unclean closes, compact;
 *  - dump | load round trips of every type: typed lists of each type, an any
 *    list of everything, dicts with string and binary keys, sets, and
 *    hand-written input;
 *  - load refusing a non-empty target without --force, malformed input;
 *  - errors on a missing path, a wrong kind, a wrong type and a corrupt
 *    file: one line on stderr, a documented exit code, never a signal;
 *  - the demo: it runs and says OK, and its counters can be inspected.
 */
#include "check_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* ------------------------------------------------------------------ */
/* Running fsc                                                         */
/* ------------------------------------------------------------------ */

struct res {
  int code; /* exit status, or 128 + signal */
  char *out, *err;
  size_t outlen;
};

static const char *fsc_bin(void) {
  const char *b = getenv("FSC_BIN");
  return b && *b ? b : "./fsc";
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
  size_t cap = 4096, n = 0;
  char *b = malloc(cap);
  size_t r;
  while ((r = fread(b + n, 1, cap - n - 1, f)) > 0) {
    n += r;
    if (cap - n < 2) {
      cap *= 2;
      b = realloc(b, cap);
    }
  }
  fclose(f);
  b[n] = '\0';
  if (len)
    *len = n;
  return b;
}

/* Run fsc with args (NULL-terminated), stdin from `in` (a file, or NULL
 * for /dev/null). */
static struct res run_v(const char *in, const char *const *args) {
  char outp[] = "/tmp/fsc-out-XXXXXX", errp[] = "/tmp/fsc-err-XXXXXX";
  int ofd = mkstemp(outp), efd = mkstemp(errp);
  ck_assert(ofd >= 0 && efd >= 0);
  const char *argv[64];
  int n = 0;
  argv[n++] = "fsc";
  for (; args[n - 1] && n < 63; n++)
    argv[n] = args[n - 1];
  argv[n] = NULL;
  pid_t pid = fork();
  ck_assert(pid >= 0);
  if (pid == 0) {
    int ifd = open(in ? in : "/dev/null", O_RDONLY);
    if (ifd < 0)
      _exit(126);
    dup2(ifd, 0);
    dup2(ofd, 1);
    dup2(efd, 2);
    execv(fsc_bin(), (char *const *)argv);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    ck_assert(errno == EINTR);
  close(ofd);
  close(efd);
  struct res r;
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  r.out = slurp(outp, &r.outlen);
  r.err = slurp(errp, NULL);
  unlink(outp);
  unlink(errp);
  ck_assert_msg(r.code != 127, "cannot run %s", fsc_bin());
  ck_assert_msg(r.code < 128, "fsc died of signal %d; stderr: %s",
                r.code - 128, r.err);
  return r;
}

#define RUN(...) run_v(NULL, (const char *const[]){__VA_ARGS__, NULL})
#define RUN_IN(in, ...) run_v(in, (const char *const[]){__VA_ARGS__, NULL})

static void res_free(struct res *r) {
  free(r->out);
  free(r->err);
}

/* Expect an exit code, showing stderr when it differs. */
#define EXPECT(r, want)                                                       \
  ck_assert_msg((r).code == (want), "exit %d, want %d; stdout: %s stderr: %s", \
                (r).code, (want), (r).out, (r).err)

/* Run, expect `want`, and check stdout equals `out` (if not NULL). */
static void expect(int want, const char *out, const char *const *args) {
  struct res r = run_v(NULL, args);
  EXPECT(r, want);
  if (out)
    ck_assert_msg(strcmp(r.out, out) == 0, "%s: stdout '%s', want '%s'",
                  args[0], r.out, out);
  res_free(&r);
}
#define EXPECT_RUN(want, out, ...)                                            \
  expect(want, out, (const char *const[]){__VA_ARGS__, NULL})

/* An error: one line on stderr starting "fsc: ", containing `has`. */
static void expect_error(int want, const char *has, const char *const *args) {
  struct res r = run_v(NULL, args);
  EXPECT(r, want);
  ck_assert_msg(strncmp(r.err, "fsc: ", 5) == 0, "stderr: %s", r.err);
  char *nl = strchr(r.err, '\n');
  ck_assert_msg(nl && nl[1] == '\0', "not one line: %s", r.err);
  if (has)
    ck_assert_msg(strstr(r.err, has), "stderr '%s' lacks '%s'", r.err, has);
  res_free(&r);
}
#define EXPECT_ERROR(want, has, ...)                                          \
  expect_error(want, has, (const char *const[]){__VA_ARGS__, NULL})

static char *cat(const char *a, const char *b) {
  static char buf[8][1024];
  static int k;
  char *s = buf[k++ % 8];
  snprintf(s, 1024, "%s%s", a, b);
  return s;
}

/* ------------------------------------------------------------------ */
/* Help, version, usage                                                */
/* ------------------------------------------------------------------ */

START_TEST(test_help_version) {
  struct res r = RUN("--version");
  EXPECT(r, 0);
  ck_assert(strstr(r.out, FSC_VERSION_STRING));
  res_free(&r);
  r = RUN("--help");
  EXPECT(r, 0);
  ck_assert(strstr(r.out, "commands:") && strstr(r.out, "exit status"));
  ck_assert(strstr(r.out, "demo") && strstr(r.out, "dump"));
  res_free(&r);
  r = RUN("help", "get");
  EXPECT(r, 0);
  ck_assert(strstr(r.out, "usage: fsc get PATH KEY|INDEX"));
  res_free(&r);
  r = RUN("load", "--help");
  EXPECT(r, 0);
  ck_assert(strstr(r.out, "usage: fsc load"));
  res_free(&r);
  r = run_v(NULL, (const char *const[]){NULL});
  EXPECT(r, 2);
  ck_assert(strstr(r.err, "usage:"));
  res_free(&r);
  EXPECT_ERROR(2, "unknown command", "frobnicate");
  EXPECT_ERROR(2, "unknown option", "stat", "--frob", "x");
  EXPECT_ERROR(2, "usage: fsc get", "get", "onlyone");
  EXPECT_ERROR(2, "not a type", "create", "--type", "quux", "list", "/x");
  EXPECT_ERROR(2, "not a kind", "create", "tree", "/tmp/x");
  EXPECT_ERROR(2, "help", "help", "nothing");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Point commands                                                      */
/* ------------------------------------------------------------------ */

START_TEST(test_dict_commands) {
  const char *p = tc_path("d");
  EXPECT_RUN(0, "", "create", "--type", "int64", "dict", p);
  EXPECT_ERROR(1, "already exists", "create", "dict", p);
  EXPECT_RUN(0, "", "set", p, "a", "5");
  EXPECT_RUN(0, "5\n", "get", p, "a");
  EXPECT_RUN(0, "", "set", p, "b", "-7"); /* a negative number: an arg */
  EXPECT_RUN(0, "-7\n", "get", p, "b");
  EXPECT_RUN(0, "8\n", "incr", p, "a", "3");
  EXPECT_RUN(0, "1\n", "incr", p, "c");
  EXPECT_RUN(0, "3\n", "len", p);
  EXPECT_RUN(0, "true\n", "contains", p, "a");
  EXPECT_RUN(1, "false\n", "contains", p, "zz");
  EXPECT_ERROR(1, "key not found", "get", p, "zz");
  EXPECT_ERROR(2, "not an int64", "set", p, "a", "five");
  EXPECT_ERROR(2, "wrong value type", "set", "--type", "string", p, "a", "x");
  EXPECT_RUN(0, "{\"t\":\"int64\",\"v\":8}\n", "get", "--json", p, "a");
  EXPECT_RUN(0, "", "del", p, "b");
  EXPECT_ERROR(1, "key not found", "del", p, "b");
  EXPECT_RUN(0, "8\n", "pop", p, "a");
  EXPECT_RUN(0, "1\n", "len", p);
  EXPECT_ERROR(2, "needs a set", "add", p, "x");
  EXPECT_ERROR(2, "needs a list", "append", p, "x");
  EXPECT_RUN(0, "", "clear", p);
  EXPECT_RUN(0, "0\n", "len", p);
  EXPECT_RUN(0, "", "destroy", p);
  EXPECT_ERROR(4, "does not exist", "len", p);
}
END_TEST

START_TEST(test_list_commands) {
  const char *p = tc_path("l");
  EXPECT_RUN(0, "", "create", "-t", "string", "list", p);
  EXPECT_RUN(0, "", "append", p, "x", "y", "z", "--", "-w");
  EXPECT_RUN(0, "4\n", "len", p);
  EXPECT_RUN(0, "-w\n", "get", p, "--", "-1");
  EXPECT_RUN(0, "z\n", "get", p, "-2");
  EXPECT_ERROR(1, "index out of range", "get", p, "9");
  EXPECT_ERROR(2, "not a list index", "get", p, "one");
  EXPECT_RUN(0, "x\n", "pop", p, "0");
  EXPECT_RUN(0, "-w\n", "pop", p);
  EXPECT_RUN(0, "", "set", p, "0", "Y");
  EXPECT_RUN(0, "Y\n", "get", p, "0");
  EXPECT_RUN(0, "", "remove", p, "Y");
  EXPECT_ERROR(1, "value not found", "remove", p, "Y");
  EXPECT_RUN(0, "true\n", "contains", p, "z");
  EXPECT_RUN(0, "z", "get", "--raw", p, "0");
  EXPECT_RUN(0, "", "del", p, "0");
  EXPECT_ERROR(1, "index out of range", "pop", p);
  EXPECT_ERROR(2, "needs a set", "add", p, "x");
  EXPECT_ERROR(2, "needs a dict", "incr", p, "k");

  /* An any list: values are what they look like (12 is an int64) unless
   * --type says otherwise. */
  const char *q = tc_path("any");
  EXPECT_RUN(0, "", "create", "list", q);
  EXPECT_RUN(0, "", "append", q, "12");
  EXPECT_RUN(0, "", "append", "--type", "int128", q,
             "-170141183460469231731687303715884105728");
  EXPECT_RUN(0, "", "append", "--type", "float", q, "0.1");
  EXPECT_RUN(0, "", "append", "--type", "bool", q, "true");
  EXPECT_RUN(0, "", "append", "--type", "json", q, "{\"a\":[1,2]}");
  EXPECT_ERROR(2, "wrong value type", "append", "--type", "json", q, "{oops");
  EXPECT_RUN(0, "{\"t\":\"int64\",\"v\":12}\n", "get", "-j", q, "0");
  EXPECT_RUN(0, "-170141183460469231731687303715884105728\n", "get", q, "1");
  EXPECT_RUN(0, "0.1\n", "get", q, "2");
  EXPECT_RUN(0, "{\"t\":\"float\",\"v\":\"0x1.999999999999ap-4\"}\n", "get",
             "--json", q, "2");
  EXPECT_RUN(0, "true\n", "get", q, "3");
  EXPECT_RUN(0, "{\"a\":[1,2]}\n", "get", q, "4");
}
END_TEST

START_TEST(test_set_and_bytes_commands) {
  const char *s = tc_path("s");
  EXPECT_RUN(0, "", "create", "--type", "int64", "set", s);
  EXPECT_RUN(0, "", "add", s, "1", "2", "3", "2");
  EXPECT_RUN(0, "3\n", "len", s);
  EXPECT_RUN(0, "true\n", "contains", s, "2");
  EXPECT_RUN(1, "false\n", "contains", s, "9");
  EXPECT_RUN(0, "", "remove", s, "2");
  EXPECT_ERROR(1, "key not found", "remove", s, "2");
  EXPECT_RUN(0, "3\n", "pop", s);
  EXPECT_ERROR(2, "needs a dict or a list", "get", s, "1");
  EXPECT_ERROR(2, "not an int64", "add", s, "x");

  /* Binary keys and bytes values, in base64 or hex. */
  const char *d = tc_path("b");
  EXPECT_RUN(0, "", "create", "--type", "bytes", "--key-type", "bytes",
             "dict", d);
  EXPECT_RUN(0, "", "set", "--hex", d, "00ff", "010200");
  EXPECT_RUN(0, "010200\n", "get", "--hex", d, "00ff");
  EXPECT_RUN(0, "AQIA\n", "get", d, "AP8=");
  EXPECT_ERROR(2, "not a bytes", "set", d, "AP8=", "***");
  struct res r = RUN("get", "--raw", d, "AP8=");
  EXPECT(r, 0);
  ck_assert_uint_eq(r.outlen, 3);
  ck_assert(memcmp(r.out, "\x01\x02\x00", 3) == 0);
  res_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* stat, verify, compact                                               */
/* ------------------------------------------------------------------ */

START_TEST(test_stat) {
  const char *p = tc_path("st");
  EXPECT_RUN(0, "", "create", "-t", "int64", "dict", p);
  EXPECT_RUN(0, "", "set", p, "k", "1");
  struct res r = RUN("stat", p);
  EXPECT(r, 0);
  ck_assert_msg(strstr(r.out, "kind:              dict\n") &&
                    strstr(r.out, "type:              int64\n") &&
                    strstr(r.out, "key type:          string\n") &&
                    strstr(r.out, "length:            1\n") &&
                    strstr(r.out, "last close clean:  yes\n"),
                "%s", r.out);
  res_free(&r);
  r = RUN("stat", "--json", p);
  EXPECT(r, 0);
  json_error_t je;
  json_t *j = json_loads(r.out, 0, &je);
  ck_assert_msg(j, "not JSON: %s", r.out);
  ck_assert_str_eq(json_string_value(json_object_get(j, "kind")), "dict");
  ck_assert_int_eq(json_integer_value(json_object_get(j, "length")), 1);
  ck_assert(json_is_true(json_object_get(j, "last_close_clean")));
  ck_assert(json_integer_value(json_object_get(j, "data_file_bytes")) > 0);
  json_decref(j);
  res_free(&r);
}
END_TEST

/* fsc compact: dead bytes go, a handle held open meanwhile follows, the
 * JSON report parses, and errors are one line with exit 4. */
START_TEST(test_compact) {
  const char *p = tc_path("cp");
  fsc_dict *d;
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_STRING;
  ck_ok(fsc_dict_open(p, &o, &d));
  for (int i = 0; i < 200; i++) {
    char k[16];
    snprintf(k, sizeof k, "k%d", i % 20);
    ck_ok(fsc_dict_set_str(d, k, "a value that will be dead soon"));
  }
  struct res r = RUN("compact", p);
  EXPECT(r, 0);
  ck_assert_msg(strstr(r.out, "generation 1 -> 2"), "%s", r.out);
  ck_assert_msg(strstr(r.out, "dead bytes  "), "%s", r.out);
  ck_assert_msg(strstr(r.out, " -> 0\n"), "%s", r.out);
  res_free(&r);
  /* This process's handle moves to the new files at its next call. */
  ck_ok(fsc_dict_set_str(d, "k0", "after"));
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_dict_metrics(d, &m));
  ck_assert_uint_eq(m.generation, 2);
  ck_assert_uint_eq(m.length, 20);
  EXPECT_RUN(0, "after\n", "get", p, "k0");
  r = RUN("compact", "--json", p);
  EXPECT(r, 0);
  json_error_t je;
  json_t *j = json_loads(r.out, 0, &je);
  ck_assert_msg(j, "not JSON: %s", r.out);
  json_t *before = json_object_get(j, "before"), *after = json_object_get(j, "after");
  ck_assert_int_eq(json_integer_value(json_object_get(before, "generation")), 2);
  ck_assert_int_eq(json_integer_value(json_object_get(after, "generation")), 3);
  ck_assert_int_gt(json_integer_value(json_object_get(before, "dead_bytes")), 0);
  ck_assert_int_eq(json_integer_value(json_object_get(after, "dead_bytes")), 0);
  ck_assert_int_eq(json_integer_value(json_object_get(after, "length")), 20);
  json_decref(j);
  res_free(&r);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  EXPECT_ERROR(4, "does not exist", "compact", cat(p, "-missing"));
  EXPECT_ERROR(2, "", "compact");
}
END_TEST

START_TEST(test_verify) {
  const char *p = tc_path("v");
  fsc_dict *d;
  ck_ok(fsc_dict_open(p, NULL, &d));
  ck_ok(fsc_dict_set_str(d, "a", "1"));
  fsc_dict_free(d);
  struct res r = RUN("verify", p);
  EXPECT(r, 0);
  ck_assert_msg(strstr(r.out, "previous close:  clean") &&
                    strstr(r.out, "OK\n") && strstr(r.out, "1 elements"),
                "%s", r.out);
  res_free(&r);

  /* A process that exits without closing: the next writer's open
   * verifies and repairs, and verify says so. */
  pid_t pid = fork();
  if (pid == 0) {
    fsc_dict *c;
    if (fsc_dict_open(p, NULL, &c) || fsc_dict_set_str(c, "b", "2"))
      _exit(1);
    _exit(0);
  }
  int st;
  waitpid(pid, &st, 0);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  r = RUN("verify", "--json", p);
  EXPECT(r, 0);
  json_t *j = json_loads(r.out, 0, NULL);
  ck_assert_msg(j, "not JSON: %s", r.out);
  ck_assert(json_is_true(json_object_get(j, "ok")));
  ck_assert(json_is_false(json_object_get(j, "last_close_clean")));
  ck_assert_int_eq(json_integer_value(json_object_get(j, "elements_read")), 2);
  json_decref(j);
  res_free(&r);
  /* A check is read-only: the marker is still missing.  --repair opens
   * as a writer (repairing at open) and its close is clean. */
  r = RUN("verify", p);
  EXPECT(r, 0);
  ck_assert_msg(strstr(r.out, "previous close:  NOT clean"), "%s", r.out);
  res_free(&r);
  r = RUN("verify", "--repair", p);
  EXPECT(r, 0);
  ck_assert_msg(strstr(r.out, "repair:          nothing changed") &&
                    strstr(r.out, "OK\n"),
                "%s", r.out);
  res_free(&r);
  r = RUN("verify", p);
  EXPECT(r, 0);
  ck_assert(strstr(r.out, "previous close:  clean"));
  res_free(&r);

  /* Damage: the payload of the value of "a" ([u32 1]["a"][u64 value]... of
   * the first record, at 4096 + 16).  The check finds it (exit 3, the
   * report in text and JSON) and writes nothing; --repair drops it. */
  char dpath[700];
  snprintf(dpath, sizeof dpath, "%s.data.fscollection", p);
  int fd = open(dpath, O_RDWR);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(pwrite(fd, "Z", 1, 4096 + 16 + 4 + 1), 1);
  close(fd);
  r = RUN("verify", p);
  EXPECT(r, 3);
  ck_assert_msg(strstr(r.out, "1 bad (0 bounds, 0 type, 1 checksum)") &&
                    strstr(r.out, "PROBLEM: ") &&
                    strstr(r.err, "checksum") &&
                    strstr(r.err, "--repair"),
                "%s%s", r.out, r.err);
  res_free(&r);
  r = RUN("verify", "--json", p);
  EXPECT(r, 3);
  j = json_loads(r.out, 0, NULL);
  ck_assert_msg(j, "not JSON: %s", r.out);
  ck_assert(json_is_false(json_object_get(j, "ok")));
  json_t *vj = json_object_get(j, "verify");
  ck_assert(json_is_false(json_object_get(vj, "healthy")));
  ck_assert_int_eq(json_integer_value(json_object_get(vj, "records_checked")),
                   2);
  ck_assert_int_eq(
      json_integer_value(json_object_get(vj, "records_bad_checksum")), 1);
  ck_assert(json_is_string(json_object_get(j, "problem")));
  json_decref(j);
  res_free(&r);
  r = RUN("verify", "--repair", "--json", p);
  EXPECT(r, 0);
  j = json_loads(r.out, 0, NULL);
  ck_assert_msg(j, "not JSON: %s", r.out);
  vj = json_object_get(j, "verify");
  ck_assert(json_is_true(json_object_get(j, "ok")));
  ck_assert(json_is_true(json_object_get(vj, "healthy")));
  ck_assert(json_is_true(json_object_get(vj, "repaired")));
  ck_assert_int_eq(json_integer_value(json_object_get(vj, "items_dropped")),
                   1);
  ck_assert_int_eq(json_integer_value(json_object_get(j, "elements_read")),
                   1);
  json_decref(j);
  res_free(&r);
  EXPECT_RUN(0, "2\n", "get", p, "b");
  EXPECT_ERROR(1, "key not found: 'a'", "get", p, "a");
  /* --repair without write permission: exit 4, says why. */
  char ipath[700];
  snprintf(ipath, sizeof ipath, "%s.index.fscollection", p);
  if (geteuid() != 0) {
    ck_assert_int_eq(chmod(ipath, 0400), 0);
    EXPECT_ERROR(4, "write permission", "verify", "--repair", p);
    EXPECT_RUN(0, NULL, "verify", p);
    chmod(ipath, 0600);
  }
}
END_TEST

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

static void poke(const char *path, off_t off, const char *bytes, size_t n) {
  int fd = open(path, O_RDWR);
  ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
  ck_assert_int_eq(pwrite(fd, bytes, n, off), (ssize_t)n);
  close(fd);
}

START_TEST(test_errors) {
  const char *dir = tc_dir();
  char missing[600], other[600];
  snprintf(missing, sizeof missing, "%s/nothing", dir);
  snprintf(other, sizeof other, "%s/other", dir);
  const char *const cmds[][3] = {{"stat", NULL, NULL},   {"dump", NULL, NULL},
                                 {"len", NULL, NULL},    {"verify", NULL, NULL},
                                 {"get", "k", NULL},     {"set", "k", "v"},
                                 {"append", "v", NULL},  {"add", "v", NULL}};
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
    const char *args[6] = {cmds[i][0], missing, cmds[i][1], cmds[i][2], NULL};
    expect_error(4, cat(missing, ": collection does not exist"), args);
  }
  /* A file of another kind. */
  EXPECT_RUN(0, "", "create", "list", other);
  EXPECT_ERROR(2, "needs a dict", "incr", other, "k");
  /* A regular file that is no collection. */
  char junk[700];
  snprintf(junk, sizeof junk, "%s.index.fscollection", missing);
  FILE *f = fopen(junk, "w");
  fputs("hello, not a collection at all\n", f);
  fclose(f);
  snprintf(junk, sizeof junk, "%s.data.fscollection", missing);
  f = fopen(junk, "w");
  fputs("hello\n", f);
  fclose(f);
  EXPECT_ERROR(3, "corrupt", "stat", missing);

  /* A corrupt collection: overwrite the magic of each file in turn. */
  for (int which = 0; which < 2; which++) {
    char p[600];
    snprintf(p, sizeof p, "%s/c%d", dir, which);
    EXPECT_RUN(0, "", "create", "-t", "int64", "dict", p);
    EXPECT_RUN(0, "", "set", p, "a", "1");
    poke(cat(p, which ? ".data.fscollection" : ".index.fscollection"), 0,
         "XXXXXXXX", 8);
    EXPECT_ERROR(3, "corrupt", "stat", p);
    EXPECT_ERROR(3, "corrupt", "verify", p);
    EXPECT_ERROR(3, "corrupt", "dump", p);
    EXPECT_ERROR(3, "corrupt", "get", p, "a");
  }
}
END_TEST

/* ------------------------------------------------------------------ */
/* dump | load                                                         */
/* ------------------------------------------------------------------ */

/* dump `from` to a file, load it into `to`; returns the dump's text. */
static char *dump_load(const char *from, const char *to) {
  char file[700];
  snprintf(file, sizeof file, "%s.jsonl", from);
  struct res r = RUN("dump", from, file);
  EXPECT(r, 0);
  ck_assert_msg(r.err[0] == '\0', "dump wrote to stderr: %s", r.err);
  res_free(&r);
  r = RUN("load", to, file);
  EXPECT(r, 0);
  res_free(&r);
  /* The same through stdin/stdout. */
  r = RUN("dump", from);
  EXPECT(r, 0);
  char *text = slurp(file, NULL);
  ck_assert_str_eq(r.out, text);
  res_free(&r);
  return text;
}

static fsc_value v_i128(uint64_t lo, int64_t hi) {
  return fsc_i128((fsc_int128){lo, hi});
}
static fsc_value v_bits(uint64_t bits) {
  double d;
  memcpy(&d, &bits, 8);
  return fsc_f64(d);
}
static fsc_value v_json(const char *s) { return fsc_json(s, strlen(s)); }
static fsc_value v_ref(const char *s) {
  fsc_value v = fsc_str(s);
  v.type = FSC_TYPE_REF;
  return v;
}

/* Every type, with extremes and odd values. */
static size_t samples(fsc_value *v) {
  size_t n = 0;
  v[n++] = fsc_i32(INT32_MIN);
  v[n++] = fsc_i32(INT32_MAX);
  v[n++] = fsc_i32(0);
  v[n++] = fsc_i64(INT64_MIN);
  v[n++] = fsc_i64(INT64_MAX);
  v[n++] = fsc_i64(-1);
  v[n++] = v_i128(0, INT64_MIN);            /* -2^127 */
  v[n++] = v_i128(UINT64_MAX, INT64_MAX);   /* 2^127 - 1 */
  v[n++] = v_i128(UINT64_MAX, -1);          /* -1 */
  v[n++] = v_i128(12345, 678);
  v[n++] = fsc_bool(true);
  v[n++] = fsc_bool(false);
  v[n++] = fsc_f64(3.0);
  v[n++] = fsc_f64(0.1);
  v[n++] = fsc_f64(-0.0);
  v[n++] = fsc_f64(INFINITY);
  v[n++] = fsc_f64(-INFINITY);
  v[n++] = v_bits(UINT64_C(0x7ff8000000000000));  /* nan */
  v[n++] = v_bits(UINT64_C(0xfff8000000000000));  /* -nan */
  v[n++] = v_bits(UINT64_C(0x7ff0000000000001));  /* a signalling nan */
  v[n++] = v_bits(1);                             /* the least subnormal */
  v[n++] = fsc_f64(1.7976931348623157e308);
  v[n++] = fsc_str("");
  v[n++] = fsc_str("plain");
  v[n++] = fsc_strn("nul\0inside", 10);
  v[n++] = fsc_str("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \"q\" \\ \n\t");
  v[n++] = fsc_bytes("", 0);
  v[n++] = fsc_bytes("\x00\xff\x80\x01\n", 5);
  v[n++] = fsc_bytes("ab", 2);
  v[n++] = v_json("{\"a\":[1,2.5,null,true],\"b\":\"x\"}");
  v[n++] = v_json("{ \"spaced\" : 1e5 }"); /* not canonical */
  v[n++] = v_json("\"\\u0000nul\"");
  v[n++] = v_json("42");
  v[n++] = v_ref("ref://fscollection:list?path=/tmp/x");
  v[n++] = v_ref("ref://fscollection:dict?path=/tmp/\xff\xfe");  /* not UTF-8 */
  return n;
}

/* --lock-timeout bounds the wait for a lock someone else holds; a FIFO
 * at a collection path fails at once (no hang). */
START_TEST(test_lock_timeout_and_fifo) {
  const char *dir = tc_dir();
  char base[600], index[700], fifo[600], fifoidx[700];
  snprintf(base, sizeof base, "%s/locked", dir);
  snprintf(index, sizeof index, "%s.index.fscollection", base);
  EXPECT_RUN(0, "", "create", "list", base);
  int fd = open(index, O_RDONLY | O_CLOEXEC);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(flock(fd, LOCK_EX), 0); /* held by this process */
  EXPECT_ERROR(4, "timed out", "--lock-timeout", "200", "append", base, "1");
  EXPECT_ERROR(4, index, "--lock-timeout=0", "len", base);
  EXPECT_ERROR(2, "non-negative", "--lock-timeout", "soon", "len", base);
  close(fd);
  EXPECT_RUN(0, "", "--lock-timeout", "-1", "append", base, "1");
  EXPECT_RUN(0, "1\n", "len", base);
  snprintf(fifo, sizeof fifo, "%s/fifo", dir);
  snprintf(fifoidx, sizeof fifoidx, "%s.index.fscollection", fifo);
  ck_assert_int_eq(mkfifo(fifoidx, 0600), 0);
  EXPECT_ERROR(2, "FIFO", "stat", fifo);
  EXPECT_ERROR(2, "FIFO", "verify", fifo);
}
END_TEST

START_TEST(test_roundtrip_lists) {
  fsc_value all[64];
  size_t n = samples(all);
  const char *dir = tc_dir();
  char a[600], b[600];
  /* One list of everything (any), then a typed list per type. */
  snprintf(a, sizeof a, "%s/any", dir);
  snprintf(b, sizeof b, "%s/any2", dir);
  fsc_list *la, *lb;
  ck_ok(fsc_list_open(a, NULL, &la));
  ck_ok(fsc_list_extend(la, all, n));
  fsc_list_free(la);
  free(dump_load(a, b));
  ck_ok(fsc_list_open(a, NULL, &la));
  ck_ok(fsc_list_open(b, NULL, &lb));
  ck_assert_int_eq(fsc_list_type(lb), FSC_TYPE_ANY);
  ck_assert_int_eq(fsc_list_equal(la, lb), 1);
  uint64_t len;
  ck_ok(fsc_list_len(lb, &len));
  ck_assert_uint_eq(len, n);
  fsc_list_free(la);
  fsc_list_free(lb);

  for (int t = FSC_TYPE_INT32; t <= FSC_TYPE_REF; t++) {
    snprintf(a, sizeof a, "%s/t%d", dir, t);
    snprintf(b, sizeof b, "%s/t%d-copy", dir, t);
    fsc_options o = FSC_OPTIONS_INIT;
    o.type = (fsc_type)t;
    ck_ok(fsc_list_open(a, &o, &la));
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
      if (all[i].type == (fsc_type)t) {
        ck_ok(fsc_list_append(la, &all[i]));
        k++;
      }
    ck_assert(k > 0);
    fsc_list_free(la);
    char *text = dump_load(a, b);
    ck_assert_msg(strncmp(text, "{\"fscollections\":1,\"kind\":\"list\"", 32) == 0,
                  "%s", text);
    ck_assert_msg(strstr(text, "\"t\":") == NULL, "typed, tagged: %s", text);
    free(text);
    ck_ok(fsc_list_open(a, NULL, &la));
    ck_ok(fsc_list_open(b, NULL, &lb));
    ck_assert_int_eq(fsc_list_type(lb), t);
    ck_assert_msg(fsc_list_equal(la, lb) == 1, "type %s", fsc_type_name(t));
    fsc_list_free(la);
    fsc_list_free(lb);
  }
}
END_TEST

START_TEST(test_roundtrip_dicts_sets) {
  fsc_value all[64];
  size_t n = samples(all);
  const char *dir = tc_dir();
  char a[600], b[600];

  /* String keys (multibyte, NUL, empty), any values. */
  snprintf(a, sizeof a, "%s/ds", dir);
  snprintf(b, sizeof b, "%s/ds2", dir);
  fsc_dict *da, *db;
  ck_ok(fsc_dict_open(a, NULL, &da));
  for (size_t i = 0; i < n; i++) {
    char key[32];
    int kl = snprintf(key, sizeof key, "k\xc3\xa9%zu", i);
    if (i == 3)
      kl = 0;
    if (i == 4)
      key[0] = '\0'; /* a NUL inside the key */
    ck_ok(fsc_dict_set(da, key, (size_t)kl, &all[i]));
  }
  ck_ok(fsc_dict_del_str(da, "k\xc3\xa9" "5")); /* a dead record */
  fsc_dict_free(da);
  free(dump_load(a, b));
  ck_ok(fsc_dict_open(a, NULL, &da));
  ck_ok(fsc_dict_open(b, NULL, &db));
  ck_assert_int_eq(fsc_dict_equal(da, db), 1);
  /* Insertion order is kept. */
  fsc_dict_iter ia, ib;
  fsc_value ka, kb;
  ck_ok(fsc_dict_iter_init(da, &ia));
  ck_ok(fsc_dict_iter_init(db, &ib));
  int ra, rb;
  while ((ra = fsc_dict_iter_next(&ia, &ka, NULL)) == 1) {
    rb = fsc_dict_iter_next(&ib, &kb, NULL);
    ck_assert_int_eq(rb, 1);
    ck_assert(fsc_value_equal(&ka, &kb));
  }
  ck_assert_int_eq(ra, 0);
  fsc_dict_free(da);
  fsc_dict_free(db);

  /* Binary keys, bytes values. */
  snprintf(a, sizeof a, "%s/db", dir);
  snprintf(b, sizeof b, "%s/db2", dir);
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_BYTES;
  o.key_type = FSC_TYPE_BYTES;
  ck_ok(fsc_dict_open(a, &o, &da));
  for (int i = 0; i < 300; i++) {
    unsigned char key[4] = {(unsigned char)i, 0, 0xff, (unsigned char)(i >> 8)};
    fsc_value v = fsc_bytes(key, (size_t)(i % 4));
    ck_ok(fsc_dict_set(da, key, 4, &v));
  }
  fsc_dict_free(da);
  char *text = dump_load(a, b);
  ck_assert(strstr(text, "\"key_type\":\"bytes\""));
  free(text);
  ck_ok(fsc_dict_open(a, NULL, &da));
  ck_ok(fsc_dict_open(b, NULL, &db));
  ck_assert_int_eq(fsc_dict_key_type(db), FSC_TYPE_BYTES);
  ck_assert_int_eq(fsc_dict_type(db), FSC_TYPE_BYTES);
  ck_assert_int_eq(fsc_dict_equal(da, db), 1);
  fsc_dict_free(da);
  fsc_dict_free(db);

  /* Sets: any, and typed float (NaNs and zeros by their bits). */
  for (int typed = 0; typed < 2; typed++) {
    snprintf(a, sizeof a, "%s/s%d", dir, typed);
    snprintf(b, sizeof b, "%s/s%d-copy", dir, typed);
    fsc_set *sa, *sb;
    fsc_options so = FSC_OPTIONS_INIT;
    so.type = typed ? FSC_TYPE_FLOAT : FSC_TYPE_ANY;
    ck_ok(fsc_set_open(a, &so, &sa));
    for (size_t i = 0; i < n; i++)
      if (!typed || all[i].type == FSC_TYPE_FLOAT)
        ck_assert_int_ge(fsc_set_add(sa, &all[i]), 0);
    fsc_set_free(sa);
    free(dump_load(a, b));
    ck_ok(fsc_set_open(a, NULL, &sa));
    ck_ok(fsc_set_open(b, NULL, &sb));
    ck_assert_int_eq(fsc_set_equal(sa, sb), 1);
    fsc_set_free(sa);
    fsc_set_free(sb);
  }
}
END_TEST

static char *write_file(const char *dir, const char *name, const char *text) {
  static char p[8][700];
  static int k;
  char *path = p[k++ % 8];
  snprintf(path, 700, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  ck_assert(f);
  fputs(text, f);
  fclose(f);
  return path;
}

START_TEST(test_load_rules) {
  const char *dir = tc_dir();
  char p[600];
  snprintf(p, sizeof p, "%s/x", dir);
  /* Hand-written input: untagged values in an any dict, a json object. */
  const char *in = write_file(
      dir, "in.jsonl",
      "{\"fscollections\":1,\"kind\":\"dict\",\"type\":\"any\"}\n"
      "\n"
      "{\"k\":\"s\",\"v\":\"text\"}\n"
      "{\"k\":\"i\",\"v\":7}\n"
      "{\"k\":\"f\",\"v\":2.5}\n"
      "{\"k\":\"b\",\"v\":false}\n"
      "{\"k\":\"j\",\"v\":{\"x\":[1]}}\n"
      "{\"k\":\"h\",\"t\":\"int128\",\"v\":\"-5\"}\n"
      "{\"end\":true,\"count\":6}\n");
  struct res r = RUN_IN(in, "load", p);
  EXPECT(r, 0);
  res_free(&r);
  EXPECT_RUN(0, "text\n", "get", p, "s");
  EXPECT_RUN(0, "{\"t\":\"int64\",\"v\":7}\n", "get", "--json", p, "i");
  EXPECT_RUN(0, "2.5\n", "get", p, "f");
  EXPECT_RUN(0, "false\n", "get", p, "b");
  EXPECT_RUN(0, "{\"x\":[1]}\n", "get", p, "j");
  EXPECT_RUN(0, "-5\n", "get", p, "h");

  /* A non-empty target needs --force; then it is replaced. */
  EXPECT_ERROR(1, "not empty", "load", p, in);
  const char *in2 = write_file(
      dir, "in2.jsonl",
      "{\"fscollections\":1,\"kind\":\"list\",\"type\":\"int32\"}\n"
      "{\"v\":1}\n{\"v\":2}\n{\"end\":true,\"count\":2}\n");
  EXPECT_ERROR(1, "use --force", "load", p, in2);
  EXPECT_RUN(0, "", "load", "--force", p, in2);
  EXPECT_RUN(0, "2\n", "len", p);
  EXPECT_RUN(0, "2\n", "get", p, "1");
  EXPECT_RUN(0, "", "load", "-f", p, in2); /* same kind: replaced too */
  EXPECT_RUN(0, "2\n", "len", p);

  /* Malformed input: the line is named; exit 2. */
  char q[600];
  snprintf(q, sizeof q, "%s/y", dir);
  const char *bad[] = {
      "",
      "not json\n",
      "{\"kind\":\"list\"}\n",
      "{\"fscollections\":2,\"kind\":\"list\"}\n",
      "{\"fscollections\":1,\"kind\":\"tree\"}\n",
      "{\"fscollections\":1,\"kind\":\"list\",\"type\":\"int32\"}\n{\"v\":\"x\"}\n",
      "{\"fscollections\":1,\"kind\":\"list\",\"type\":\"int32\"}\n{\"v\":4294967296}\n",
      "{\"fscollections\":1,\"kind\":\"list\",\"type\":\"bytes\"}\n{\"v\":\"!!\"}\n",
      "{\"fscollections\":1,\"kind\":\"list\",\"type\":\"int64\"}\n{\"v\":1}\n{\"end\":true,\"count\":5}\n",
      "{\"fscollections\":1,\"kind\":\"set\",\"type\":\"int64\"}\n{\"t\":\"string\",\"v\":\"a\"}\n",
      "{\"fscollections\":1,\"kind\":\"dict\",\"type\":\"int64\"}\n{\"v\":1}\n",
      "{\"fscollections\":1,\"kind\":\"list\",\"type\":\"json\"}\n{\"text\":\"{bad\"}\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *f = write_file(dir, "bad.jsonl", bad[i]);
    r = RUN("load", "--force", q, f);
    ck_assert_msg(r.code == 2, "input %zu: exit %d: %s", i, r.code, r.err);
    ck_assert_msg(strncmp(r.err, "fsc: ", 5) == 0, "input %zu: %s", i, r.err);
    res_free(&r);
  }
  /* No end line: loaded, with a warning. */
  const char *trunc = write_file(
      dir, "t.jsonl",
      "{\"fscollections\":1,\"kind\":\"set\",\"type\":\"string\"}\n"
      "{\"v\":\"a\"}\n");
  r = RUN("load", "--force", q, trunc);
  EXPECT(r, 0);
  ck_assert(strstr(r.err, "truncated"));
  res_free(&r);
  EXPECT_RUN(0, "true\n", "contains", q, "a");
}
END_TEST

START_TEST(test_progress) {
  const char *p = tc_path("big");
  fsc_list *l;
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  ck_ok(fsc_list_open(p, &o, &l));
  for (int i = 0; i < 5000; i++)
    ck_ok(fsc_list_append_i64(l, i));
  fsc_list_free(l);
  /* stderr is no terminal: quiet.  --progress draws the bar anyway. */
  struct res r = RUN("verify", p);
  EXPECT(r, 0);
  ck_assert_str_eq(r.err, "");
  res_free(&r);
  r = RUN("dump", "--progress", p);
  EXPECT(r, 0);
  ck_assert_msg(strstr(r.err, "dump [") && strstr(r.err, "100%") &&
                    strstr(r.err, "5000/5000"),
                "%s", r.err);
  res_free(&r);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The demo                                                            */
/* ------------------------------------------------------------------ */

START_TEST(test_demo) {
  const char *dir = tc_dir();
  struct res r = RUN("demo", "-w", "4", "-n", "3000", dir);
  EXPECT(r, 0);
  ck_assert_msg(strstr(r.out, "OK: every job was done exactly once"), "%s",
                r.out);
  ck_assert(strstr(r.out, "worker 0 (producer)"));
  ck_assert(strstr(r.out, "worker 3 (consumer)"));
  res_free(&r);
  char counters[600];
  snprintf(counters, sizeof counters, "%s/counters", dir);
  EXPECT_RUN(0, "3000\n", "get", counters, "jobs.done");
  EXPECT_RUN(0, "4498500\n", "get", counters, "sum.done");
  EXPECT_RUN(0, "3000\n", "len", cat(dir, "/done"));
  EXPECT_RUN(0, "0\n", "len", cat(dir, "/jobs"));
  /* One worker does both; a second run in the same directory starts over. */
  r = RUN("demo", "--workers=1", "--jobs=500", dir);
  EXPECT(r, 0);
  ck_assert(strstr(r.out, "OK:"));
  res_free(&r);
  EXPECT_RUN(0, "500\n", "get", counters, "jobs.done");
  EXPECT_ERROR(2, "workers", "demo", "-w", "0", dir);
}
END_TEST


/* ------------------------------------------------------------------ */
/* Messages said once, with a hint; --json on one line; any values     */
/* ------------------------------------------------------------------ */

/* Exit `want` and stderr exactly `err`. */
static void expect_stderr(int want, const char *err, const char *const *args) {
  struct res r = run_v(NULL, args);
  EXPECT(r, want);
  ck_assert_msg(strcmp(r.err, err) == 0, "%s: stderr\n'%s'\nwant\n'%s'",
                args[0], r.err, err);
  res_free(&r);
}
#define EXPECT_STDERR(want, err, ...)                                         \
  expect_stderr(want, err, (const char *const[]){__VA_ARGS__, NULL})

START_TEST(test_messages) {
  const char *dir = tc_dir();
  char p[600], d[600], l[600], want[4096];
  snprintf(p, sizeof p, "%s/nothere", dir);
  snprintf(want, sizeof want, "fsc: %s: collection does not exist\n", p);
  EXPECT_STDERR(4, want, "stat", p);
  EXPECT_STDERR(4, want, "get", p, "k");

  snprintf(d, sizeof d, "%s/d", dir);
  EXPECT_RUN(0, "", "create", "dict", d);
  snprintf(want, sizeof want, "fsc: %s: key not found: 'nope'\n", d);
  EXPECT_STDERR(1, want, "get", d, "nope");

  /* A path typed with a file's suffix: the base path to use. */
  snprintf(want, sizeof want,
           "fsc: %s.data.fscollection: collection does not exist; name a "
           "collection by its base path, without .data.fscollection: %s\n",
           d, d);
  EXPECT_STDERR(4, want, "stat", cat(d, ".data.fscollection"));
  snprintf(want, sizeof want,
           "fsc: %s.index.fscollection: collection does not exist; name a "
           "collection by its base path, without .index.fscollection: %s\n",
           d, d);
  EXPECT_STDERR(4, want, "len", cat(d, ".index.fscollection"));

  /* Only the data file (or only the index file): damaged, not missing. */
  snprintf(l, sizeof l, "%s/l", dir);
  EXPECT_RUN(0, "", "create", "list", l);
  ck_assert_int_eq(unlink(cat(l, ".index.fscollection")), 0);
  snprintf(want, sizeof want,
           "fsc: %s: collection is incomplete: %s.data.fscollection exists "
           "but %s.index.fscollection is missing\n", l, l, l);
  EXPECT_STDERR(3, want, "stat", l);
  EXPECT_STDERR(3, want, "dump", l);

  /* --json: one JSON document on one line, for every command. */
  EXPECT_RUN(0, "", "set", d, "k", "v");
  const char *const json_cmds[][5] = {{"stat", "--json", d, NULL},
                                      {"verify", "--json", d, NULL},
                                      {"compact", "--json", d, NULL},
                                      {"get", "--json", d, "k"}};
  for (size_t i = 0; i < sizeof json_cmds / sizeof json_cmds[0]; i++) {
    struct res r = run_v(NULL, json_cmds[i]);
    EXPECT(r, 0);
    char *nl = strchr(r.out, '\n');
    ck_assert_msg(nl && nl[1] == '\0', "%s --json: not one line: %s",
                  json_cmds[i][0], r.out);
    json_t *j = json_loads(r.out, 0, NULL);
    ck_assert_msg(j, "%s --json: not JSON: %s", json_cmds[i][0], r.out);
    json_decref(j);
    res_free(&r);
  }
}
END_TEST

/* Values typed for an any collection are what they look like; --type
 * string keeps them strings. */
START_TEST(test_any_values) {
  char p[600];
  snprintf(p, sizeof p, "%s/a", tc_dir());
  EXPECT_RUN(0, "", "create", "list", p);
  EXPECT_RUN(0, "", "append", p, "1", "-3", "2.5", "1e3", "-.5", "true",
             "false", "x", "inf", "0x10", "", "1.2.3", "99999999999999999999");
  EXPECT_RUN(0, "", "append", "--type", "string", p, "7");
  const char *want[] = {"int64", "int64", "float",  "float",  "float",
                        "bool",  "bool",  "string", "string", "string",
                        "string", "string", "int128", "string"};
  size_t n = sizeof want / sizeof want[0];
  for (size_t i = 0; i < n; i++) {
    char idx[16];
    snprintf(idx, sizeof idx, "%zu", i);
    struct res r = RUN("get", "--json", p, idx);
    EXPECT(r, 0);
    json_t *j = json_loads(r.out, 0, NULL);
    ck_assert_msg(j, "not JSON: %s", r.out);
    ck_assert_msg(strcmp(json_string_value(json_object_get(j, "t")), want[i]) == 0,
                  "element %zu: %s, want type %s", i, r.out, want[i]);
    json_decref(j);
    res_free(&r);
  }
  EXPECT_RUN(0, "7\n", "get", p, "-1");
  EXPECT_RUN(0, "1\n", "get", p, "0");
  EXPECT_RUN(0, "1000\n", "get", p, "3");
}
END_TEST

/* Whether DIR holds a name starting with `prefix`. */
static bool dir_has(const char *dir, const char *prefix) {
  DIR *d = opendir(dir);
  ck_assert(d != NULL);
  struct dirent *e;
  bool found = false;
  while ((e = readdir(d)) != NULL)
    if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
      found = true;
  closedir(d);
  return found;
}

/* fsc load is all or nothing: a bad line leaves the target as it was (no
 * collection, or the old one), and nothing beside it; --force refuses a
 * collection another process has open. */
START_TEST(test_load_atomic) {
  const char *dir = tc_dir();
  char p[600], want[2048];
  snprintf(p, sizeof p, "%s/t", dir);
  const char *bad = write_file(
      dir, "bad.jsonl",
      "{\"fscollections\":1,\"kind\":\"list\",\"type\":\"int64\"}\n"
      "{\"v\":1}\n{\"v\":2}\n{\"v\":\"three\"}\n{\"end\":true,\"count\":3}\n");
  const char *good = write_file(
      dir, "good.jsonl",
      "{\"fscollections\":1,\"kind\":\"list\",\"type\":\"int64\"}\n"
      "{\"v\":10}\n{\"v\":20}\n{\"v\":30}\n{\"end\":true,\"count\":3}\n");

  /* A new path: nothing is created. */
  struct res r = RUN("load", p, bad);
  EXPECT(r, 2);
  ck_assert_msg(strstr(r.err, ":4: "), "%s", r.err);
  res_free(&r);
  ck_assert(!dir_has(dir, "t."));
  ck_assert(!dir_has(dir, "t"));

  /* A loaded one: a bad --force load leaves it whole. */
  EXPECT_RUN(0, "", "load", p, good);
  EXPECT_RUN(0, "3\n", "len", p);
  r = RUN("load", "--force", p, bad);
  EXPECT(r, 2);
  res_free(&r);
  EXPECT_RUN(0, "3\n", "len", p);
  EXPECT_RUN(0, "10\n", "get", p, "0");
  EXPECT_RUN(0, "30\n", "get", p, "2");
  ck_assert(!dir_has(dir, "t.loading-"));

  /* Open in another process (this one): --force refuses. */
  fsc_list *l;
  ck_ok(fsc_list_open(p, NULL, &l));
  snprintf(want, sizeof want,
           "fsc: %s: open in 1 other process: fsc load replaces the "
           "collection's files, so close it everywhere first\n", p);
  EXPECT_STDERR(1, want, "load", "--force", p, good);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);

  /* Closed: replaced, with the new type. */
  const char *strs = write_file(
      dir, "s.jsonl",
      "{\"fscollections\":1,\"kind\":\"set\",\"type\":\"string\"}\n"
      "{\"v\":\"a\"}\n{\"end\":true,\"count\":1}\n");
  EXPECT_RUN(0, "", "load", "--force", p, strs);
  EXPECT_RUN(0, "1\n", "len", p);
  EXPECT_RUN(0, "true\n", "contains", p, "a");
  ck_assert(!dir_has(dir, "t.loading-"));
}
END_TEST


/* ------------------------------------------------------------------ */
/* References: stat, verify, dump --follow, load of a tree             */
/* ------------------------------------------------------------------ */

static int occurrences(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
    n++;
  return n;
}

START_TEST(test_references) {
  char dir[600], kids[700], p[700], items[800], s[800], copy[700], cp[800];
  snprintf(dir, sizeof dir, "%s", tc_dir());
  snprintf(kids, sizeof kids, "%s/kids", dir);
  ck_assert_int_eq(mkdir(kids, 0700), 0);
  snprintf(p, sizeof p, "%s/p", dir);
  snprintf(items, sizeof items, "%s/items", kids);
  snprintf(s, sizeof s, "%s/s", kids);
  fsc_coll *root, *il, *st;
  ck_ok(fsc_open(p, FSC_KIND_DICT, NULL, &root));
  ck_ok(fsc_open(items, FSC_KIND_LIST, NULL, &il));
  ck_ok(fsc_open(s, FSC_KIND_SET, NULL, &st));
  ck_ok(fsc_list_append_str(fsc_coll_list(il), "apple"));
  fsc_value ref;
  ck_ok(fsc_ref_make(root, il, &ref));
  ck_ok(fsc_dict_set(fsc_coll_dict(root), "items", 5, &ref));
  ck_ok(fsc_ref_make(root, root, &ref)); /* a cycle */
  ck_ok(fsc_dict_set(fsc_coll_dict(root), "me", 2, &ref));
  ck_ok(fsc_ref_make(il, st, &ref));     /* a grandchild */
  ck_ok(fsc_list_append(fsc_coll_list(il), &ref));
  ck_ok(fsc_ref_make(il, root, &ref));   /* up: outside kids/ */
  ck_ok(fsc_list_append(fsc_coll_list(il), &ref));
  fsc_value gone = fsc_str("x");
  gone.type = FSC_TYPE_REF;
  gone.u.buf.ptr = "ref://fscollection:set?path=gone";
  gone.u.buf.len = strlen(gone.u.buf.ptr);
  ck_ok(fsc_dict_set(fsc_coll_dict(root), "gone", 4, &gone));
  fsc_coll_free(st);
  fsc_coll_free(il);
  fsc_coll_free(root);

  /* stat and verify count them; a dangling one is no problem of p. */
  struct res r = RUN("stat", p);
  EXPECT(r, 0);
  ck_assert_msg(strstr(r.out, "references:        3 (1 dangling, 0 outside "
                              "its directory, 0 malformed)"), "%s", r.out);
  res_free(&r);
  r = RUN("stat", "--json", p);
  EXPECT(r, 0);
  ck_assert_msg(strstr(r.out, "\"references\":{\"count\":3,\"dangling\":1,"
                              "\"outside\":0,\"invalid\":0}"), "%s", r.out);
  res_free(&r);
  r = RUN("verify", p);
  EXPECT(r, 0);
  ck_assert_msg(strstr(r.out, "references:      3 (1 dangling"), "%s", r.out);
  res_free(&r);
  r = RUN("stat", items);
  EXPECT(r, 0);
  ck_assert_msg(strstr(r.out, "references:        2 (0 dangling, 1 outside"),
                "%s", r.out);
  res_free(&r);

  /* dump shows references as such; --follow walks the tree once. */
  r = RUN("dump", p);
  EXPECT(r, 0);
  ck_assert_int_eq(occurrences(r.out, "\"fscollections\""), 1);
  ck_assert_msg(strstr(r.out, "{\"k\":\"items\",\"t\":\"ref\",\"v\":"
                              "\"ref://fscollection:list?path=kids/items\"}"),
                "%s", r.out);
  res_free(&r);
  r = RUN("dump", "--follow", p);
  EXPECT(r, 0);
  ck_assert_int_eq(occurrences(r.out, "\"fscollections\""), 3);
  ck_assert_int_eq(occurrences(r.out, "\"path\":\"kids/items\""), 1);
  ck_assert_int_eq(occurrences(r.out, "\"path\":\"kids/s\""), 1);
  ck_assert_msg(strstr(r.err, "dangling"), "%s", r.err);
  ck_assert_msg(strstr(r.err, "leads outside"), "%s", r.err);
  const char *dump = write_file(dir, "tree.jsonl", r.out);
  char *first = strdup(r.out);
  res_free(&r);

  /* load restores the tree elsewhere: relative references still work. */
  snprintf(copy, sizeof copy, "%s/copy", dir);
  ck_assert_int_eq(mkdir(copy, 0700), 0);
  snprintf(cp, sizeof cp, "%s/p", copy);
  r = RUN("load", cp, dump);
  EXPECT(r, 0);
  res_free(&r);
  r = RUN("dump", "--follow", cp);
  EXPECT(r, 0);
  ck_assert_str_eq(r.out, first);
  res_free(&r);
  free(first);
  ck_ok(fsc_open(cp, FSC_KIND_DICT, NULL, &root));
  fsc_value v;
  fsc_coll *c = NULL;
  ck_ok(fsc_dict_get(fsc_coll_dict(root), "items", 5, &v));
  ck_ok(fsc_ref_open(root, &v, NULL, &c));
  ck_ok(fsc_list_get(fsc_coll_list(c), 0, &v));
  ck_assert_int_eq(v.u.buf.len, 5);
  ck_assert(memcmp(v.u.buf.ptr, "apple", 5) == 0);
  fsc_coll_free(c);
  fsc_coll_free(root);

  /* A section may not climb out of PATH's directory. */
  const char *evil = write_file(
      dir, "evil.jsonl",
      "{\"fscollections\":1,\"kind\":\"list\"}\n{\"end\":true,\"count\":0}\n"
      "{\"fscollections\":1,\"path\":\"../evil\",\"kind\":\"list\"}\n"
      "{\"end\":true,\"count\":0}\n");
  snprintf(cp, sizeof cp, "%s/q", copy);
  EXPECT_ERROR(2, "without \"..\"", "load", cp, evil);
  ck_assert(!dir_has(dir, "evil.data"));
  ck_assert(!dir_has(dir, "evil.index"));
}
END_TEST

static Suite *suite(void) {
  Suite *s = suite_create("fsc");
  TCase *tc = tcase_create("cli");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_help_version);
  tcase_add_test(tc, test_dict_commands);
  tcase_add_test(tc, test_list_commands);
  tcase_add_test(tc, test_set_and_bytes_commands);
  tcase_add_test(tc, test_stat);
  tcase_add_test(tc, test_compact);
  tcase_add_test(tc, test_verify);
  tcase_add_test(tc, test_errors);
  tcase_add_test(tc, test_lock_timeout_and_fifo);
  tcase_add_test(tc, test_roundtrip_lists);
  tcase_add_test(tc, test_roundtrip_dicts_sets);
  tcase_add_test(tc, test_load_rules);
  tcase_add_test(tc, test_progress);
  tcase_add_test(tc, test_demo);
  tcase_add_test(tc, test_messages);
  tcase_add_test(tc, test_any_values);
  tcase_add_test(tc, test_load_atomic);
  tcase_add_test(tc, test_references);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tc_run(suite()); }
