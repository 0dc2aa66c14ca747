/*
 * test_open.c - what opening and creating a collection does with the files
 * it finds at the path (doc/DURABILITY.md, "What a hostile or careless
 * user can and cannot do"):
 *
 *  - files that exist and are not empty are never re-initialised: headers
 *    zeroed in both files (with FSC_CREATE, the default) is FSC_ECORRUPT
 *    and every byte stays as it was; a foreign file (a copy of a program)
 *    is "not a collection"; a data/index pair from two collections of the
 *    same kind is caught by the file ids in the headers;
 *  - creation is atomic and exclusive: files another user pre-created at
 *    the paths (empty, 0666, in a sticky world-writable directory) are
 *    never adopted; empty files left by an own crashed creation (0600) are
 *    re-used; a create refused for a symlink at the data path leaves
 *    nothing behind;
 *  - an existing collection whose files are writable by others, or owned
 *    by two users, is refused with FSC_EACCES; a 0660 collection in a
 *    group directory opens for another member of the group;
 *  - a FIFO at a collection path is refused at once (no hang), also for a
 *    read-only open;
 *  - lock_timeout_ms bounds every lock wait: someone holding flock on the
 *    index or the data file makes opens, structural changes and closes
 *    fail with FSC_ETIMEDOUT naming the file and the holder's pid, and a
 *    close that timed out still released the handle;
 *  - a mode with setuid/setgid/sticky bits is FSC_EINVAL;
 *  - the typed _get_ shorthands of list and dict return FSC_EINVAL for a
 *    NULL output;
 *  - a close that is not the last one never writes the clean-close marker,
 *    even when another file was put at the data file's path meanwhile;
 *    read-only handles of a collection whose last session closed cleanly
 *    all report that session, whichever opened first.
 */
#include "check_common.h"
#include "check_procs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>

#define NOBODY 65534

static void paths(const char *base, char data[600], char index[600]) {
  snprintf(data, 600, "%.500s.data.fscollection", base);
  snprintf(index, 600, "%.500s.index.fscollection", base);
}

/* A closed int64 list holding 0..n-1. */
static void make_list(const char *base, int n) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  fsc_list *l;
  ck_ok(fsc_list_open(base, &o, &l));
  for (int i = 0; i < n; i++)
    ck_ok(fsc_list_append_i64(l, i));
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}

static uint64_t list_len(fsc_list *l) {
  uint64_t n = 0;
  ck_ok(fsc_list_len(l, &n));
  return n;
}

static void check_list(const char *base, int n) {
  fsc_list *l;
  ck_ok(fsc_list_open(base, NULL, &l));
  ck_assert_uint_eq(list_len(l), (uint64_t)n);
  for (int i = 0; i < n; i++) {
    int64_t x = -1;
    ck_ok(fsc_list_get_i64(l, i, &x));
    ck_assert_int_eq(x, i);
  }
  fsc_list_free(l);
}

/* The whole content of a file (malloc'ed), its size in *n. */
static char *slurp(const char *p, size_t *n) {
  int fd = open(p, O_RDONLY);
  ck_assert_msg(fd >= 0, "open %s: %s", p, strerror(errno));
  struct stat st;
  ck_assert_int_eq(fstat(fd, &st), 0);
  char *b = malloc((size_t)st.st_size + 1);
  ck_assert_ptr_nonnull(b);
  ck_assert_int_eq(pread(fd, b, (size_t)st.st_size, 0), st.st_size);
  close(fd);
  *n = (size_t)st.st_size;
  return b;
}

static void zero8(const char *p) {
  int fd = open(p, O_WRONLY);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(pwrite(fd, "\0\0\0\0\0\0\0\0", 8, 0), 8);
  close(fd);
}

static bool exists(const char *p) {
  struct stat st;
  return lstat(p, &st) == 0;
}

static void touch(const char *p, mode_t mode) {
  int fd = open(p, O_CREAT | O_EXCL | O_WRONLY, mode);
  ck_assert_msg(fd >= 0, "create %s: %s", p, strerror(errno));
  ck_assert_int_eq(fchmod(fd, mode), 0);
  close(fd);
}

/* ------------------------------------------------------------------ */
/* Headers that are not a collection's                                 */
/* ------------------------------------------------------------------ */

START_TEST(test_zeroed_headers_not_reinitialised) {
  const char *base = tc_path("zeroed");
  char data[600], index[600];
  paths(base, data, index);
  make_list(base, 1000);
  zero8(data);
  zero8(index);
  size_t dn, in;
  char *d0 = slurp(data, &dn), *i0 = slurp(index, &in);
  /* The default options (FSC_CREATE), FSC_CREATE alone, and no flags. */
  fsc_options def = FSC_OPTIONS_INIT;
  const unsigned flags[] = {def.flags, FSC_CREATE, 0, FSC_RDONLY};
  for (int i = 0; i < 4; i++) {
    fsc_options o = FSC_OPTIONS_INIT;
    o.flags = flags[i];
    fsc_list *l = NULL;
    ck_fsc(fsc_list_open(base, &o, &l), FSC_ECORRUPT);
    ck_assert_ptr_null(l);
    ck_assert_msg(strstr(fsc_errmsg(), "not a collection") != NULL,
                  "message: %s", fsc_errmsg());
    size_t dn2, in2;
    char *d1 = slurp(data, &dn2), *i1 = slurp(index, &in2);
    ck_assert_msg(dn2 == dn && memcmp(d0, d1, dn) == 0, "data file changed");
    ck_assert_msg(in2 == in && memcmp(i0, i1, in) == 0, "index changed");
    free(d1);
    free(i1);
  }
  /* Only the index zeroed, the data file intact: the same. */
  free(d0);
  free(i0);
  const char *b2 = tc_path("zeroed-index");
  paths(b2, data, index);
  make_list(b2, 10);
  zero8(index);
  fsc_dict *dd = NULL;
  fsc_list *l = NULL;
  ck_fsc(fsc_list_open(b2, NULL, &l), FSC_ECORRUPT);
  ck_fsc(fsc_dict_open(b2, NULL, &dd), FSC_ECORRUPT);
  /* A dict too. */
  const char *b3 = tc_path("zeroed-dict");
  paths(b3, data, index);
  ck_ok(fsc_dict_open(b3, NULL, &dd));
  ck_ok(fsc_dict_set_i64(dd, "a", 1));
  fsc_dict_free(dd);
  zero8(data);
  zero8(index);
  dd = NULL;
  ck_fsc(fsc_dict_open(b3, NULL, &dd), FSC_ECORRUPT);
  ck_assert_ptr_null(dd);
}
END_TEST

START_TEST(test_foreign_file) {
  char base[600], donor[600], data[600], index[600], ddata[600], dindex[600];
  snprintf(base, sizeof base, "%s", tc_path("foreign"));
  snprintf(donor, sizeof donor, "%s", tc_path("donor"));
  paths(donor, ddata, dindex);
  paths(base, data, index);
  /* A program copied to both paths, then to the index path only, then
   * a file too short to hold a header. */
  for (int step = 0; step < 3; step++) {
    char cmd[1400];
    if (step < 2) {
      snprintf(cmd, sizeof cmd, "cp /bin/ls '%s'", index);
      ck_assert_int_eq(system(cmd), 0);
      if (step == 0) {
        snprintf(cmd, sizeof cmd, "cp /bin/ls '%s'", data);
        ck_assert_int_eq(system(cmd), 0);
      } else {
        make_list(donor, 1); /* a collection's data file, a foreign index */
        unlink(data);
        snprintf(cmd, sizeof cmd, "cp '%s' '%s'", ddata, data);
        ck_assert_int_eq(system(cmd), 0);
      }
    } else {
      unlink(index);
      unlink(data);
      FILE *f = fopen(index, "w");
      ck_assert_ptr_nonnull(f);
      fputs("hello\n", f);
      fclose(f);
      f = fopen(data, "w");
      fputs("hello\n", f);
      fclose(f);
    }
    for (int ro = 0; ro < 2; ro++) {
      fsc_options o = FSC_OPTIONS_INIT;
      o.flags = ro ? FSC_RDONLY : FSC_CREATE;
      fsc_list *l = NULL;
      ck_fsc(fsc_list_open(base, &o, &l), FSC_ECORRUPT);
      ck_assert_msg(strstr(fsc_errmsg(), "not a collection") != NULL &&
                        strstr(fsc_errmsg(), index) != NULL,
                    "step %d: message: %s", step, fsc_errmsg());
    }
  }
}
END_TEST

START_TEST(test_pair_from_two_collections) {
  const char *a = tc_path("pair-a");
  char ad[600], ai[600], bd[600], bi[600];
  paths(a, ad, ai);
  char b[600];
  snprintf(b, sizeof b, "%s-b", a);
  paths(b, bd, bi);
  make_list(a, 5);
  make_list(b, 7);
  ck_assert_int_eq(rename(bi, ai), 0); /* b's index beside a's data */
  fsc_list *l = NULL;
  ck_fsc(fsc_list_open(a, NULL, &l), FSC_ECORRUPT);
  ck_assert_msg(strstr(fsc_errmsg(), "different collections") != NULL &&
                    strstr(fsc_errmsg(), ad) && strstr(fsc_errmsg(), ai),
                "message: %s", fsc_errmsg());
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = FSC_RDONLY;
  ck_fsc(fsc_list_open(a, &o, &l), FSC_ECORRUPT);
  /* Nothing was changed: b's data with its own index... gone, but a's
   * data file still holds a's 5 records. */
  size_t n;
  char *d = slurp(ad, &n);
  ck_assert(memcmp(d, "FSCDATA", 7) == 0);
  free(d);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Creation: atomic, exclusive, never adopting others' files           */
/* ------------------------------------------------------------------ */

START_TEST(test_default_creates) {
  /* FSC_CREATE stays in FSC_OPTIONS_INIT (documented): a new path makes a
   * new collection; without it, FSC_ENOENT. */
  fsc_options o = FSC_OPTIONS_INIT;
  ck_assert(o.flags & FSC_CREATE);
  const char *base = tc_path("typo");
  fsc_list *l = NULL;
  o.flags = 0;
  ck_fsc(fsc_list_open(base, &o, &l), FSC_ENOENT);
  char data[600], index[600];
  paths(base, data, index);
  ck_assert(!exists(data) && !exists(index));
  ck_ok(fsc_list_open(base, NULL, &l));
  fsc_list_free(l);
  ck_assert(exists(data) && exists(index));
}
END_TEST

START_TEST(test_symlink_create_leaves_nothing) {
  const char *dir = tc_dir();
  char base[600], data[600], index[600], target[700];
  snprintf(base, sizeof base, "%s/c", dir);
  snprintf(target, sizeof target, "%s/target", dir);
  paths(base, data, index);
  ck_assert_int_eq(symlink(target, data), 0);
  fsc_list *l = NULL;
  int rc = fsc_list_open(base, NULL, &l);
  ck_assert_int_lt(rc, 0);
  ck_assert_msg(strstr(fsc_errmsg(), data) != NULL, "message: %s",
                fsc_errmsg());
  ck_assert_msg(!exists(index), "an index file was left behind");
  ck_assert(!exists(target));
  unlink(data);
  /* Nothing else in the directory either. */
  char cmd[700];
  snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", dir);
  ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Empty files of our own, not writable by others, left by a crashed
 * creation: re-used.  Writable by group or others: refused. */
START_TEST(test_own_empty_files) {
  const char *dir = tc_dir();
  char base[600], data[600], index[600];
  mode_t old = umask(0);
  for (int which = 0; which < 3; which++) { /* both, index only, data only */
    snprintf(base, sizeof base, "%s/own%d", dir, which);
    paths(base, data, index);
    if (which != 2)
      touch(index, 0600);
    if (which != 1)
      touch(data, 0600);
    fsc_list *l = NULL;
    ck_ok(fsc_list_open(base, NULL, &l));
    ck_ok(fsc_list_append_i64(l, 42));
    fsc_list_free(l);
    ck_ok(fsc_list_open(base, NULL, &l));
    ck_assert_uint_eq(list_len(l), 1);
    fsc_list_free(l);
  }
  for (int which = 0; which < 3; which++) {
    snprintf(base, sizeof base, "%s/open%d", dir, which);
    paths(base, data, index);
    if (which != 2)
      touch(index, 0666);
    if (which != 1)
      touch(data, 0620);
    fsc_list *l = NULL;
    ck_fsc(fsc_list_open(base, NULL, &l), FSC_EACCES);
    ck_assert_msg(strstr(fsc_errmsg(), "writable") != NULL, "message: %s",
                  fsc_errmsg());
    struct stat st;
    if (which != 2)
      ck_assert(stat(index, &st) == 0 && st.st_size == 0);
    if (which != 1)
      ck_assert(stat(data, &st) == 0 && st.st_size == 0);
  }
  umask(old);
}
END_TEST

/* Run fn in a child as uid/gid `id` (supplementary groups `groups`), with
 * umask `mask`.  Returns false (and says so) if the switch is refused. */
static int as_user(uid_t uid, gid_t gid, int ngroups, const gid_t *groups,
                   mode_t mask, void (*fn)(void *), void *arg) {
  fflush(stderr);
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0) {
    if (setgroups((size_t)ngroups, groups) != 0 || setgid(gid) != 0 ||
        setuid(uid) != 0)
      _exit(77);
    umask(mask);
    fn(arg);
    _exit(0);
  }
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert_msg(WIFEXITED(st), "child died (status %d)", st);
  return WEXITSTATUS(st);
}

#define CHK(cond, ...)                                                       \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__,      \
              #cond);                                                        \
      fprintf(stderr, __VA_ARGS__);                                          \
      fprintf(stderr, " (fsc_errmsg: %s)\n", fsc_errmsg());                 \
      _exit(10);                                                             \
    }                                                                        \
  } while (0)

static void attacker_plants(void *arg) {
  const char **p = arg; /* index or NULL, data */
  for (int i = 0; i < 2; i++) {
    if (!p[i])
      continue;
    int fd = open(p[i], O_CREAT | O_EXCL | O_WRONLY, 0666);
    CHK(fd >= 0, "plant %s: %s", p[i], strerror(errno));
    CHK(fchmod(fd, 0666) == 0, "fchmod");
    close(fd);
  }
}

START_TEST(test_precreated_by_other_user) {
  if (geteuid() != 0) {
    fprintf(stderr, "test_precreated_by_other_user: skipped (needs root "
                    "to act as a second user)\n");
    return;
  }
  const char *dir = tc_dir();
  ck_assert_int_eq(chmod(dir, 01777), 0); /* like /tmp */
  for (int which = 0; which < 2; which++) { /* both paths, data only */
    char base[600], data[600], index[600];
    snprintf(base, sizeof base, "%s/victim%d", dir, which);
    paths(base, data, index);
    const char *plant[2] = {which == 0 ? index : NULL, data};
    gid_t g = NOBODY;
    int ex = as_user(NOBODY, NOBODY, 1, &g, 0, attacker_plants, plant);
    if (ex == 77) {
      fprintf(stderr, "test_precreated_by_other_user: skipped\n");
      return;
    }
    ck_assert_int_eq(ex, 0);
    fsc_list *l = NULL;
    ck_fsc(fsc_list_open(base, NULL, &l), FSC_EACCES);
    ck_assert_ptr_null(l);
    ck_assert_msg(strstr(fsc_errmsg(), which == 0 ? index : data) != NULL,
                  "message does not name the file: %s", fsc_errmsg());
    /* Not adopted: still the attacker's, still empty; no index left. */
    struct stat st;
    ck_assert(stat(data, &st) == 0 && st.st_uid == NOBODY &&
              st.st_size == 0);
    if (which == 0)
      ck_assert(stat(index, &st) == 0 && st.st_uid == NOBODY &&
                st.st_size == 0);
    else
      ck_assert_msg(!exists(index), "an index was left beside the "
                                    "attacker's data file");
  }
}
END_TEST

/* An existing collection writable by others, or whose files have two
 * owners: refused. */
START_TEST(test_existing_unsafe_modes) {
  const char *base = tc_path("unsafe");
  char data[600], index[600];
  paths(base, data, index);
  make_list(base, 3);
  const char *victims[2] = {data, index};
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(chmod(victims[i], 0666), 0);
    for (int ro = 0; ro < 2; ro++) {
      fsc_options o = FSC_OPTIONS_INIT;
      o.flags = ro ? FSC_RDONLY : FSC_CREATE;
      fsc_list *l = NULL;
      ck_fsc(fsc_list_open(base, &o, &l), FSC_EACCES);
      ck_assert_msg(strstr(fsc_errmsg(), victims[i]) != NULL &&
                        strstr(fsc_errmsg(), "writable by every user"),
                    "message: %s", fsc_errmsg());
    }
    ck_assert_int_eq(chmod(victims[i], 0600), 0);
  }
  check_list(base, 3);
  if (geteuid() == 0) {
    ck_assert_int_eq(chown(data, NOBODY, NOBODY), 0);
    fsc_list *l = NULL;
    ck_fsc(fsc_list_open(base, NULL, &l), FSC_EACCES);
    ck_assert_msg(strstr(fsc_errmsg(), "owned by different users"),
                  "message: %s", fsc_errmsg());
    ck_assert_int_eq(chown(data, 0, 0), 0);
    check_list(base, 3);
  }
}
END_TEST

static void member_opens(void *arg) {
  const char *base = arg;
  fsc_list *l = NULL;
  int rc = fsc_list_open(base, NULL, &l);
  CHK(rc == 0, "group member's open returned %d", rc);
  int64_t x = -1;
  CHK(fsc_list_get_i64(l, 2, &x) == 0 && x == 2, "read");
  CHK(fsc_list_append_i64(l, 3) == 0, "append");
  CHK(fsc_list_insert(l, 0, &(fsc_value){.type = FSC_TYPE_INT64}) == 0,
      "insert");
  CHK(fsc_list_close(l) == 0, "close");
  fsc_list_free(l);
}

START_TEST(test_group_sharing) {
  if (geteuid() != 0) {
    fprintf(stderr, "test_group_sharing: skipped (needs root)\n");
    return;
  }
  const char *dir = tc_dir();
  const gid_t grp = 4242;
  ck_assert_int_eq(chown(dir, 0, grp), 0);
  ck_assert_int_eq(chmod(dir, 02770), 0); /* setgid group directory */
  char base[600], data[600], index[600];
  snprintf(base, sizeof base, "%s/shared", dir);
  paths(base, data, index);
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  o.mode = 0660;
  mode_t old = umask(007);
  fsc_list *l;
  ck_ok(fsc_list_open(base, &o, &l));
  for (int i = 0; i < 3; i++)
    ck_ok(fsc_list_append_i64(l, i));
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
  umask(old);
  int ex = as_user(NOBODY, NOBODY, 1, &grp, 077, member_opens, base);
  ck_assert_msg(ex == 0, "the group member failed (exit %d)", ex);
  ck_ok(fsc_list_open(base, NULL, &l));
  ck_assert_uint_eq(list_len(l), 5);
  fsc_list_free(l);
}
END_TEST

/* Many processes creating one new collection at once: every one opens the
 * same collection (none re-creates it under another), nothing is lost. */
START_TEST(test_concurrent_create) {
  char base[600], data[600], index[600];
  for (int round = 0; round < 5; round++) {
    snprintf(base, sizeof base, "%s", tc_path("race"));
    paths(base, data, index);
    enum { N = 8 };
    pid_t kids[N];
    int go[2];
    ck_assert_int_eq(pipe(go), 0);
    for (int i = 0; i < N; i++) {
      kids[i] = fork();
      ck_assert_int_ge(kids[i], 0);
      if (kids[i] == 0) {
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) != 0)
          _exit(2);
        fsc_options o = FSC_OPTIONS_INIT;
        o.type = FSC_TYPE_INT64;
        fsc_list *l = NULL;
        int rc = fsc_list_open(base, &o, &l);
        CHK(rc == 0, "open returned %d", rc);
        CHK(fsc_list_append_i64(l, i) == 0, "append");
        CHK(fsc_list_close(l) == 0, "close");
        fsc_list_free(l);
        _exit(0);
      }
    }
    close(go[0]);
    close(go[1]); /* all start at once */
    for (int i = 0; i < N; i++) {
      int st;
      ck_assert_int_eq(waitpid(kids[i], &st, 0), kids[i]);
      ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child %d: %d",
                    i, st);
    }
    fsc_list *l;
    ck_ok(fsc_list_open(base, NULL, &l));
    ck_assert_uint_eq(list_len(l), N);
    fsc_list_free(l);
    /* Only the two files: no private file was left beside them. */
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "test $(ls -A \"$(dirname '%s')\" | wc -l) "
             "-eq 2", base);
    ck_assert_int_eq(system(cmd), 0);
  }
}
END_TEST

/* ------------------------------------------------------------------ */
/* FIFOs                                                               */
/* ------------------------------------------------------------------ */

START_TEST(test_fifo) {
  const char *dir = tc_dir();
  for (int which = 0; which < 2; which++) {
    char base[600], data[600], index[600];
    snprintf(base, sizeof base, "%s/fifo%d", dir, which);
    paths(base, data, index);
    if (which == 1)
      make_list(base, 2);
    const char *victim = which ? data : index;
    unlink(victim);
    ck_assert_int_eq(mkfifo(victim, 0600), 0);
    for (int ro = 0; ro < 2; ro++) {
      fsc_options o = FSC_OPTIONS_INIT;
      o.flags = ro ? FSC_RDONLY : FSC_CREATE;
      fsc_list *l = NULL;
      alarm(5); /* a hang is a failure, not a stuck test */
      int rc = fsc_list_open(base, &o, &l);
      alarm(0);
      ck_assert_int_lt(rc, 0);
      ck_assert_msg(strstr(fsc_errmsg(), victim) != NULL &&
                        strstr(fsc_errmsg(), "regular file"),
                    "message: %s", fsc_errmsg());
    }
  }
}
END_TEST

/* ------------------------------------------------------------------ */
/* Lock timeouts                                                       */
/* ------------------------------------------------------------------ */

static void release_lock(pid_t p) {
  kill(p, SIGKILL);
  waitpid(p, NULL, 0);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void expect_timeout(int rc, double t0, const char *file, pid_t pid) {
  double el = now_ms() - t0;
  ck_assert_msg(rc == FSC_ETIMEDOUT, "returned %d (%s: %s), want "
                "FSC_ETIMEDOUT", rc, fsc_strerror(rc), fsc_errmsg());
  ck_assert_msg(el >= 150 && el < 3000, "gave up after %.0f ms", el);
  char ps[32];
  snprintf(ps, sizeof ps, "pid %d", (int)pid);
  ck_assert_msg(strstr(fsc_errmsg(), file) != NULL &&
                    strstr(fsc_errmsg(), ps) != NULL,
                "message: %s", fsc_errmsg());
}

START_TEST(test_lock_timeout) {
  fsc_options def = FSC_OPTIONS_INIT;
  ck_assert_int_eq(def.lock_timeout_ms, 10000);
  const char *base = tc_path("locked");
  char data[600], index[600];
  paths(base, data, index);
  make_list(base, 3);
  fsc_options o = FSC_OPTIONS_INIT;
  o.lock_timeout_ms = 200;
  /* The structure lock (index file): open, a structural change, close. */
  fsc_list *l = NULL, *w = NULL;
  ck_ok(fsc_list_open(base, &o, &w));
  pid_t p = tc_hold_lock(index);
  double t0 = now_ms();
  int rc = fsc_list_open(base, &o, &l);
  expect_timeout(rc, t0, index, p);
  ck_assert_ptr_null(l);
  t0 = now_ms();
  rc = fsc_list_insert(w, 0, &(fsc_value){.type = FSC_TYPE_INT64});
  expect_timeout(rc, t0, index, p);
  /* Lock-free writes and reads go on. */
  ck_ok(fsc_list_append_i64(w, 3));
  int64_t x;
  ck_ok(fsc_list_get_i64(w, 3, &x));
  t0 = now_ms();
  rc = fsc_list_close(w);
  expect_timeout(rc, t0, index, p);
  uint64_t n0;
  ck_fsc(fsc_list_len(w, &n0), FSC_ECLOSED); /* released all the same */
  fsc_list_free(w);
  release_lock(p);
  /* The close did not write the marker: the next opener checks. */
  ck_ok(fsc_list_open(base, &o, &l));
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_list_metrics(l, &m));
  ck_assert(!m.last_close_clean);
  ck_assert_uint_eq(list_len(l), 4);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
  /* The presence lock (data file): an exclusive holder blocks opens. */
  p = tc_hold_lock(data);
  t0 = now_ms();
  rc = fsc_list_open(base, &o, &l);
  expect_timeout(rc, t0, data, p);
  release_lock(p);
  /* 0: one try, no wait. */
  p = tc_hold_lock(index);
  o.lock_timeout_ms = 0;
  t0 = now_ms();
  ck_fsc(fsc_list_open(base, &o, &l), FSC_ETIMEDOUT);
  ck_assert(now_ms() - t0 < 100);
  /* FSC_LOCK_WAIT_FOREVER waits until the holder goes. */
  o.lock_timeout_ms = FSC_LOCK_WAIT_FOREVER;
  pid_t k = fork();
  ck_assert_int_ge(k, 0);
  if (k == 0) {
    usleep(300000);
    kill(p, SIGKILL);
    _exit(0);
  }
  t0 = now_ms();
  ck_ok(fsc_list_open(base, &o, &l));
  ck_assert(now_ms() - t0 >= 250);
  fsc_list_free(l);
  waitpid(k, NULL, 0);
  waitpid(p, NULL, 0);
  /* An older caller's options (without lock_timeout_ms) get the default,
   * and the options are validated. */
  o = def;
  o.size = offsetof(fsc_options, lock_timeout_ms);
  ck_ok(fsc_list_open(base, &o, &l));
  fsc_list_free(l);
  o = def;
  o.lock_timeout_ms = -2;
  ck_fsc(fsc_list_open(base, &o, &l), FSC_EINVAL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Small things                                                        */
/* ------------------------------------------------------------------ */

START_TEST(test_mode_special_bits) {
  const char *base = tc_path("modes");
  char data[600], index[600];
  paths(base, data, index);
  const unsigned bad[] = {07777, 04600, 02600, 01600};
  for (int i = 0; i < 4; i++) {
    fsc_options o = FSC_OPTIONS_INIT;
    o.mode = bad[i];
    fsc_list *l = NULL;
    ck_fsc(fsc_list_open(base, &o, &l), FSC_EINVAL);
    ck_assert(!exists(data) && !exists(index));
  }
  fsc_options o = FSC_OPTIONS_INIT;
  o.mode = 0640;
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(base, &o, &l));
  fsc_list_free(l);
}
END_TEST

START_TEST(test_typed_null_outputs) {
  fsc_list *l;
  fsc_dict *d;
  ck_ok(fsc_list_open(NULL, NULL, &l));
  ck_ok(fsc_dict_open(NULL, NULL, &d));
  ck_ok(fsc_list_append_i64(l, 1));
  ck_ok(fsc_list_append_f64(l, 1.5));
  ck_ok(fsc_list_append_str(l, "s"));
  ck_ok(fsc_dict_set_i64(d, "i", 1));
  ck_ok(fsc_dict_set_f64(d, "f", 1.5));
  ck_ok(fsc_dict_set_str(d, "s", "s"));
  const char *p;
  size_t n;
  ck_fsc(fsc_list_get_i64(l, 0, NULL), FSC_EINVAL);
  ck_fsc(fsc_list_get_f64(l, 1, NULL), FSC_EINVAL);
  ck_fsc(fsc_list_get_str(l, 2, NULL, &n), FSC_EINVAL);
  ck_fsc(fsc_list_get_str(l, 2, &p, NULL), FSC_EINVAL);
  ck_fsc(fsc_dict_get_i64(d, "i", NULL), FSC_EINVAL);
  ck_fsc(fsc_dict_get_f64(d, "f", NULL), FSC_EINVAL);
  ck_fsc(fsc_dict_get_str(d, "s", NULL, &n), FSC_EINVAL);
  ck_fsc(fsc_dict_get_str(d, "s", &p, NULL), FSC_EINVAL);
  ck_assert_msg(strstr(fsc_errmsg(), "NULL"), "message: %s", fsc_errmsg());
  ck_fsc(fsc_dict_set_str(d, "k", NULL), FSC_EINVAL);
  ck_assert_msg(strstr(fsc_errmsg(), "NULL value"), "message: %s",
                fsc_errmsg());
  /* A missing key still says so first?  No: a NULL output is a caller
   * bug whatever the key; but a NULL handle is EINVAL too. */
  ck_fsc(fsc_dict_get_i64(NULL, "i", NULL), FSC_EINVAL);
  fsc_list_free(l);
  fsc_dict_free(d);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The presence lock                                                   */
/* ------------------------------------------------------------------ */

/* The final byte of a file (the index's clean-close marker). */
static int last_byte(const char *p) {
  size_t n;
  char *b = slurp(p, &n);
  ck_assert_uint_gt(n, 0);
  int r = (unsigned char)b[n - 1];
  free(b);
  return r;
}

/* A handle's presence lock is re-taken at close on a new description of
 * the data file it opened (lock.c, fsc__lock_reopen): by path only while
 * the path still names that file.  Here a copy was put in the data
 * file's place while two handles have it open: the first close must not
 * lock the copy, find itself alone there and write the clean-close marker
 * while the other handle still writes; the last close still writes it. */
START_TEST(test_presence_follows_the_file) {
  const char *base = tc_path("pres");
  char data[600], index[600], copy[620];
  paths(base, data, index);
  snprintf(copy, sizeof copy, "%s.copy", data);
  make_list(base, 3);
  ck_assert_int_eq(last_byte(index), 0xAA);
  fsc_list *a, *b;
  ck_ok(fsc_list_open(base, NULL, &a));
  ck_ok(fsc_list_open(base, NULL, &b));
  ck_ok(fsc_list_append_i64(a, 3));
  ck_assert_int_eq(last_byte(index), 0); /* open: the marker is cleared */
  size_t n;
  char *bytes = slurp(data, &n);
  int fd = open(copy, O_CREAT | O_EXCL | O_WRONLY, 0600);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(write(fd, bytes, n), (ssize_t)n);
  close(fd);
  free(bytes);
  ck_assert_int_eq(rename(copy, data), 0);
  ck_ok(fsc_list_close(a));
  fsc_list_free(a);
  /* b is open: the close of a was not the last one */
  ck_assert_int_eq(last_byte(index), 0);
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_list_metrics(b, &m));
  ck_assert_uint_eq(m.open_processes, 1);
  ck_ok(fsc_list_append_i64(b, 4));
  ck_ok(fsc_list_close(b));
  fsc_list_free(b);
  ck_assert_int_eq(last_byte(index), 0xAA); /* the last close's marker */
}
END_TEST

/* Two read-only handles of a collection whose last session closed
 * cleanly (a writer's, which repaired what the session before, ended by
 * a writer that died, left) report the same previous session whichever
 * of them opened first: a clean end, and what its last close repaired.
 * (A read-only opener that finds the clean-close marker does not ask
 * whether it is the first: gen.c.) */
START_TEST(test_readers_after_clean_close) {
  const char *base = tc_path("readers");
  char data[600], index[600];
  paths(base, data, index);
  make_list(base, 3);
  pid_t p = fork();
  ck_assert(p >= 0);
  if (p == 0) { /* a writer that dies without closing */
    fsc_list *cl;
    if (fsc_list_open(base, NULL, &cl) != 0 ||
        fsc_list_append_i64(cl, 3) != 0)
      _exit(1);
    _exit(0);
  }
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  fsc_list *w;
  ck_ok(fsc_list_open(base, NULL, &w));
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_list_metrics(w, &m));
  ck_assert(!m.last_close_clean); /* it found the writer's unclean end */
  ck_ok(fsc_list_close(w));
  fsc_list_free(w);
  ck_assert_int_eq(last_byte(index), 0xAA);
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = FSC_RDONLY;
  fsc_list *a, *b;
  ck_ok(fsc_list_open(base, &o, &a));
  ck_ok(fsc_list_open(base, &o, &b));
  fsc_metrics ma = {.size = sizeof ma}, mb = {.size = sizeof mb};
  ck_ok(fsc_list_metrics(a, &ma));
  ck_ok(fsc_list_metrics(b, &mb));
  ck_assert(ma.last_close_clean);
  ck_assert(mb.last_close_clean);
  ck_assert_uint_eq(mb.repaired_at_close, ma.repaired_at_close);
  ck_assert_uint_eq(ma.open_processes, 2);
  ck_assert_uint_eq(ma.length, 4);
  ck_ok(fsc_list_close(b));
  ck_ok(fsc_list_close(a));
  fsc_list_free(a);
  fsc_list_free(b);
  ck_assert_int_eq(last_byte(index), 0xAA);
}
END_TEST

static Suite *open_suite(void) {
  Suite *s = suite_create("open");
  TCase *tc = tcase_create("open");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_zeroed_headers_not_reinitialised);
  tcase_add_test(tc, test_foreign_file);
  tcase_add_test(tc, test_pair_from_two_collections);
  tcase_add_test(tc, test_default_creates);
  tcase_add_test(tc, test_symlink_create_leaves_nothing);
  tcase_add_test(tc, test_own_empty_files);
  tcase_add_test(tc, test_precreated_by_other_user);
  tcase_add_test(tc, test_existing_unsafe_modes);
  tcase_add_test(tc, test_group_sharing);
  tcase_add_test(tc, test_concurrent_create);
  tcase_add_test(tc, test_fifo);
  tcase_add_test(tc, test_lock_timeout);
  tcase_add_test(tc, test_mode_special_bits);
  tcase_add_test(tc, test_typed_null_outputs);
  tcase_add_test(tc, test_presence_follows_the_file);
  tcase_add_test(tc, test_readers_after_clean_close);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tc_run(open_suite()); }
