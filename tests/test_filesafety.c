/*
 * test_filesafety.c - what the files of a collection let others do.
 * (test_list covers the list's file modes, its temporary directory's mode
 * and place, and symlinks planted for a list; this adds the rest.)
 *
 *  - a dict's and a set's files are created 0600, whatever the umask, or
 *    with fsc_options.mode (the umask applies to it, as for open(2));
 *  - the private directory of a temporary collection (base_path NULL) of
 *    every kind is 0700, has an unpredictable name (a different random
 *    suffix each time, not derived from the pid), and is gone once open
 *    returns;
 *  - a symlink planted in place of a dict's or set's file is not followed
 *    (its target is untouched, not created), also for a read-only open,
 *    and the error names the file;
 *  - as a user who may not write the files (0400 files of its own, or
 *    another user's 0644 files; root drops to uid 65534 in a child), an
 *    open for writing fails with FSC_EACCES and says why, creating a
 *    collection in a directory it may not write fails the same way, and a
 *    read-only open works: every element reads back, verify checks, and
 *    a repair is refused with FSC_EROFS;
 *  - compaction keeps the owner, group and mode of a shared collection:
 *    compacted under umask 077 a 0660 collection stays 0660; in a setgid
 *    group directory, another member (root here) compacting a 0660
 *    collection of uid 65534 leaves it 65534's, and 65534 opens it and
 *    reads everything; a member who cannot keep the owner (uid 65534
 *    compacting root's collection) is refused with FSC_EACCES naming the
 *    owner, and the collection is untouched.
 */
#include "check_common.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

/* ------------------------------------------------------------------ */
/* Spying on the library's mkdtemp (temporary collections)             */
/* ------------------------------------------------------------------ */

/* The directories the library created, with their mode right after. */
#define SPY_MAX 16
static int spy_n;
static char spy_dir[SPY_MAX][512];
static mode_t spy_mode[SPY_MAX];

char *mkdtemp(char *tmpl);
char *mkdtemp(char *tmpl) {
  static char *(*real)(char *);
  if (!real)
    real = (char *(*)(char *))dlsym(RTLD_NEXT, "mkdtemp");
  char *r = real(tmpl);
  struct stat st;
  if (r && spy_n < SPY_MAX && lstat(r, &st) == 0) {
    snprintf(spy_dir[spy_n], sizeof spy_dir[0], "%s", r);
    spy_mode[spy_n] = st.st_mode;
    spy_n++;
  }
  return r;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

enum kind { K_LIST, K_DICT, K_SET };
static const char *const kind_name[] = {"list", "dict", "set"};

/* An open collection of any kind. */
struct coll {
  enum kind k;
  fsc_list *l;
  fsc_dict *d;
  fsc_set *s;
};

static int coll_open(enum kind k, const char *base, const fsc_options *o,
                     struct coll *c) {
  memset(c, 0, sizeof *c);
  c->k = k;
  switch (k) {
  case K_LIST:
    return fsc_list_open(base, o, &c->l);
  case K_DICT:
    return fsc_dict_open(base, o, &c->d);
  default:
    return fsc_set_open(base, o, &c->s);
  }
}

static void coll_free(struct coll *c) {
  fsc_list_free(c->l);
  fsc_dict_free(c->d);
  fsc_set_free(c->s);
  memset(c, 0, sizeof *c);
}

/* Write element i (int64 i; dict key "k<i>"). */
static int coll_put(struct coll *c, int64_t i) {
  char k[32];
  snprintf(k, sizeof k, "k%lld", (long long)i);
  switch (c->k) {
  case K_LIST:
    return fsc_list_append_i64(c->l, i);
  case K_DICT:
    return fsc_dict_set_i64(c->d, k, i);
  default: {
    int rc = fsc_set_add_i64(c->s, i);
    return rc == 1 ? 0 : rc < 0 ? rc : -1;
  }
  }
}

/* Is element i there? */
static bool coll_has(struct coll *c, int64_t i) {
  char k[32];
  int64_t x = -1;
  snprintf(k, sizeof k, "k%lld", (long long)i);
  switch (c->k) {
  case K_LIST:
    return fsc_list_get_i64(c->l, i, &x) == 0 && x == i;
  case K_DICT:
    return fsc_dict_get_i64(c->d, k, &x) == 0 && x == i;
  default:
    return fsc_set_contains_i64(c->s, i) == 1;
  }
}

static int coll_verify(struct coll *c, unsigned flags) {
  fsc_verify_report r;
  memset(&r, 0, sizeof r);
  r.size = sizeof r;
  switch (c->k) {
  case K_LIST:
    return fsc_list_verify(c->l, flags, &r);
  case K_DICT:
    return fsc_dict_verify(c->d, flags, &r);
  default:
    return fsc_set_verify(c->s, flags, &r);
  }
}

static void paths(const char *base, char data[600], char index[600]) {
  snprintf(data, 600, "%.500s.data.fscollection", base);
  snprintf(index, 600, "%.500s.index.fscollection", base);
}

static mode_t mode_of(const char *p) {
  struct stat st;
  ck_assert_msg(lstat(p, &st) == 0, "stat %s: %s", p, strerror(errno));
  ck_assert_msg(S_ISREG(st.st_mode), "%s is no regular file", p);
  return st.st_mode & 07777;
}

/* A closed collection of kind k holding elements 0..n-1. */
static void make(enum kind k, const char *base, int n) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  struct coll c;
  ck_ok(coll_open(k, base, &o, &c));
  for (int i = 0; i < n; i++)
    ck_ok(coll_put(&c, i));
  coll_free(&c);
}

/* ------------------------------------------------------------------ */
/* File modes                                                          */
/* ------------------------------------------------------------------ */

START_TEST(test_modes_dict_set) {
  mode_t old = umask(0); /* the library asks for 0600 itself */
  const char *dir = tc_dir();
  for (enum kind k = K_DICT; k <= K_SET; k++) {
    char base[600], data[600], index[600];
    snprintf(base, sizeof base, "%s/%s-default", dir, kind_name[k]);
    paths(base, data, index);
    make(k, base, 3);
    ck_assert_msg(mode_of(data) == 0600, "%s data mode 0%o", kind_name[k],
                  mode_of(data));
    ck_assert_msg(mode_of(index) == 0600, "%s index mode 0%o", kind_name[k],
                  mode_of(index));
    /* fsc_options.mode; the umask applies, as for open(2). */
    const unsigned modes[] = {0640, 0660, 0604};
    for (int i = 0; i < 3; i++) {
      umask(i == 2 ? 0 : 022);
      snprintf(base, sizeof base, "%s/%s-%o", dir, kind_name[k], modes[i]);
      paths(base, data, index);
      fsc_options o = FSC_OPTIONS_INIT;
      o.mode = modes[i];
      struct coll c;
      ck_ok(coll_open(k, base, &o, &c));
      unsigned want = modes[i] & (i == 2 ? 07777u : ~022u);
      ck_assert_msg(mode_of(data) == want, "%s data mode 0%o, want 0%o",
                    kind_name[k], mode_of(data), want);
      ck_assert_msg(mode_of(index) == want, "%s index mode 0%o, want 0%o",
                    kind_name[k], mode_of(index), want);
      /* Reopening does not change the mode of existing files. */
      coll_free(&c);
      o.mode = 0666;
      ck_ok(coll_open(k, base, &o, &c));
      ck_assert_uint_eq(mode_of(data), want);
      coll_free(&c);
    }
  }
  umask(old);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Temporary collections                                               */
/* ------------------------------------------------------------------ */

START_TEST(test_temp_dir_private) {
  const char *dir = tc_dir();
  setenv("TMPDIR", dir, 1);
  spy_n = 0;
  struct coll c[6];
  for (int i = 0; i < 6; i++) {
    ck_ok(coll_open((enum kind)(i % 3), NULL, NULL, &c[i]));
    ck_ok(coll_put(&c[i], 0));
  }
  ck_assert_int_eq(spy_n, 6);
  char pidstr[32];
  snprintf(pidstr, sizeof pidstr, "%d", (int)getpid());
  for (int i = 0; i < 6; i++) {
    ck_assert_msg(S_ISDIR(spy_mode[i]) && (spy_mode[i] & 07777) == 0700,
                  "temporary directory %s has mode 0%o", spy_dir[i],
                  (unsigned)(spy_mode[i] & 07777));
    ck_assert_msg(strncmp(spy_dir[i], dir, strlen(dir)) == 0,
                  "%s is not in $TMPDIR %s", spy_dir[i], dir);
    /* Gone at once: nothing to find, guess or replace while it is open. */
    ck_assert_msg(access(spy_dir[i], F_OK) != 0, "%s still exists",
                  spy_dir[i]);
    /* Unpredictable: a random suffix, different every time, not the pid. */
    const char *suffix = strrchr(spy_dir[i], '_');
    ck_assert_ptr_nonnull(suffix);
    ck_assert_uint_ge(strlen(suffix + 1), 6);
    ck_assert_msg(strstr(suffix, pidstr) == NULL, "%s holds the pid",
                  spy_dir[i]);
    for (int j = 0; j < i; j++)
      ck_assert_str_ne(spy_dir[i], spy_dir[j]);
  }
  /* Nothing at all was left in $TMPDIR. */
  char cmd[700];
  snprintf(cmd, sizeof cmd, "test -z \"$(ls -A '%s')\"", dir);
  ck_assert_int_eq(system(cmd), 0);
  for (int i = 0; i < 6; i++) {
    ck_assert(coll_has(&c[i], 0));
    coll_free(&c[i]);
  }
  unsetenv("TMPDIR");
  rmdir(dir);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Symlinks                                                            */
/* ------------------------------------------------------------------ */

START_TEST(test_symlink_dict_set) {
  const char *dir = tc_dir();
  char target[600], dangling[600];
  snprintf(target, sizeof target, "%s/precious", dir);
  snprintf(dangling, sizeof dangling, "%s/would-be-created", dir);
  tc_write_text(target, "precious bytes");
  for (enum kind k = K_DICT; k <= K_SET; k++) {
    char base[600], data[600], index[600];
    snprintf(base, sizeof base, "%s/%s", dir, kind_name[k]);
    paths(base, data, index);
    for (int which = 0; which < 2; which++) {
      const char *victim = which ? data : index;
      struct coll c;
      /* A symlink to an existing file: refused, the file untouched. */
      ck_assert_int_eq(symlink(target, victim), 0);
      int rc = coll_open(k, base, NULL, &c);
      ck_assert_msg(rc < 0, "%s: open through a symlinked %s succeeded",
                    kind_name[k], victim);
      ck_assert_msg(strstr(fsc_errmsg(), victim) != NULL,
                    "the message does not name %s: %s", victim,
                    fsc_errmsg());
      coll_free(&c);
      tc_check_text(target, "precious bytes");
      unlink(data);
      unlink(index);
      /* A dangling symlink: its target is not created. */
      ck_assert_int_eq(symlink(dangling, victim), 0);
      ck_assert_int_lt(coll_open(k, base, NULL, &c), 0);
      coll_free(&c);
      ck_assert_int_eq(access(dangling, F_OK), -1);
      unlink(data);
      unlink(index);
    }
    /* Planted after the collection was made: refused, also read-only. */
    make(k, base, 5);
    char moved[700];
    snprintf(moved, sizeof moved, "%s.moved", data);
    ck_assert_int_eq(rename(data, moved), 0);
    ck_assert_int_eq(symlink(moved, data), 0);
    fsc_options ro = FSC_OPTIONS_INIT;
    ro.flags = FSC_RDONLY;
    struct coll c;
    ck_assert_int_lt(coll_open(k, base, NULL, &c), 0);
    coll_free(&c);
    ck_assert_int_lt(coll_open(k, base, &ro, &c), 0);
    ck_assert_msg(strstr(fsc_errmsg(), data) != NULL, "message: %s",
                  fsc_errmsg());
    coll_free(&c);
    unlink(data);
    ck_assert_int_eq(rename(moved, data), 0);
    ck_ok(coll_open(k, base, &ro, &c)); /* put back: it opens */
    ck_assert(coll_has(&c, 4));
    coll_free(&c);
  }
}
END_TEST

/* ------------------------------------------------------------------ */
/* Files this user may not write                                       */
/* ------------------------------------------------------------------ */

#define NOBODY 65534
#define SKIP_EXIT 77

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

/* As a user who may read but not write the files of `base`, and may not
 * write in `dir`: a write open is refused with FSC_EACCES, a read-only
 * open reads everything. */
static void unwritable(enum kind k, const char *dir, const char *base,
                       int n) {
  struct coll c;
  fsc_options o = FSC_OPTIONS_INIT;
  int rc = coll_open(k, base, &o, &c);
  CHK(rc == FSC_EACCES, "%s: write open returned %d (%s)", kind_name[k], rc,
      fsc_strerror(rc));
  CHK(strstr(fsc_errmsg(), "ermission denied") != NULL &&
          strstr(fsc_errmsg(), base) != NULL,
      "unclear message");
  coll_free(&c);
  o.flags = 0; /* no FSC_CREATE: the same */
  CHK(coll_open(k, base, &o, &c) == FSC_EACCES, "without FSC_CREATE");
  coll_free(&c);
  /* Creating a new collection where it may not write. */
  char fresh[700];
  snprintf(fresh, sizeof fresh, "%s/new-%s", dir, kind_name[k]);
  rc = coll_open(k, fresh, NULL, &c);
  CHK(rc == FSC_EACCES, "create returned %d (%s)", rc, fsc_strerror(rc));
  coll_free(&c);
  /* Read-only: everything reads back; a check works, a repair is
   * refused. */
  o.flags = FSC_RDONLY;
  rc = coll_open(k, base, &o, &c);
  CHK(rc == 0, "read-only open returned %d (%s)", rc, fsc_strerror(rc));
  for (int i = 0; i < n; i++)
    CHK(coll_has(&c, i), "element %d", i);
  CHK(coll_put(&c, n) == FSC_EROFS, "a write through a read-only handle");
  rc = coll_verify(&c, 0);
  CHK(rc == 0, "verify returned %d (%s)", rc, fsc_strerror(rc));
  rc = coll_verify(&c, FSC_VERIFY_REPAIR);
  CHK(rc == FSC_EROFS, "repair returned %d (%s)", rc, fsc_strerror(rc));
  coll_free(&c);
}

/* Run the checks as uid/gid 65534 (root), or as this user (not root). */
static void as_other_user(enum kind k, const char *dir, const char *base,
                          int n) {
  fflush(stderr);
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0) {
    if (geteuid() == 0 &&
        (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 ||
         setuid(NOBODY) != 0)) {
      fprintf(stderr, "SKIP: cannot become uid %d: %s\n", NOBODY,
              strerror(errno));
      _exit(SKIP_EXIT);
    }
    unwritable(k, dir, base, n);
    _exit(0);
  }
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert_msg(WIFEXITED(st), "the child died (status %d)", st);
  if (WEXITSTATUS(st) == SKIP_EXIT) {
    fprintf(stderr, "test_unwritable: skipped\n");
    return;
  }
  ck_assert_msg(WEXITSTATUS(st) == 0, "the child failed (exit %d): see "
                "its message above", WEXITSTATUS(st));
}

START_TEST(test_unwritable) {
  const char *dir = tc_dir();
  bool root = geteuid() == 0;
  ck_assert_int_eq(chmod(dir, 0755), 0); /* others may enter, not write */
  for (enum kind k = K_LIST; k <= K_SET; k++) {
    /* Files of the user's own, read-only (0400). */
    char base[600], data[600], index[600];
    snprintf(base, sizeof base, "%s/own-%s", dir, kind_name[k]);
    paths(base, data, index);
    make(k, base, 20);
    if (root) {
      ck_assert_int_eq(chown(data, NOBODY, NOBODY), 0);
      ck_assert_int_eq(chown(index, NOBODY, NOBODY), 0);
    }
    ck_assert_int_eq(chmod(data, 0400), 0);
    ck_assert_int_eq(chmod(index, 0400), 0);
    as_other_user(k, dir, base, 20);
    /* Another user's files, readable by all (0644): only as root can the
     * test be that other user. */
    if (root) {
      snprintf(base, sizeof base, "%s/other-%s", dir, kind_name[k]);
      paths(base, data, index);
      make(k, base, 20);
      ck_assert_int_eq(chmod(data, 0644), 0);
      ck_assert_int_eq(chmod(index, 0644), 0);
      as_other_user(k, dir, base, 20);
    }
  }
}
END_TEST


/* ------------------------------------------------------------------ */
/* Compaction keeps owner, group and mode                              */
/* ------------------------------------------------------------------ */

#define GROUP 4242

static int compact_any(struct coll *c) {
  switch (c->k) {
  case K_LIST:
    return fsc_list_compact(c->l);
  case K_DICT:
    return fsc_dict_compact(c->d);
  default:
    return fsc_set_compact(c->s);
  }
}

/* Write and delete so that compaction has something to drop. */
static void churn(struct coll *c, int n) {
  for (int i = 0; i < n; i++) {
    char k[32];
    snprintf(k, sizeof k, "k%d", i);
    if (c->k == K_LIST)
      ck_ok(fsc_list_set_i64(c->l, i, i));
    else if (c->k == K_DICT)
      ck_ok(fsc_dict_set_i64(c->d, k, i));
  }
}

static void owner_mode(const char *p, uid_t uid, gid_t gid, mode_t mode) {
  struct stat st;
  ck_assert_msg(stat(p, &st) == 0, "stat %s", p);
  ck_assert_msg(st.st_uid == uid && st.st_gid == gid &&
                    (st.st_mode & 07777) == mode,
                "%s: uid %u gid %u mode 0%o, want %u %u 0%o", p,
                (unsigned)st.st_uid, (unsigned)st.st_gid,
                (unsigned)(st.st_mode & 07777), (unsigned)uid,
                (unsigned)gid, (unsigned)mode);
}

START_TEST(test_compact_keeps_mode) {
  const char *dir = tc_dir();
  for (enum kind k = K_LIST; k <= K_SET; k++) {
    char base[600], data[600], index[600];
    snprintf(base, sizeof base, "%s/%s", dir, kind_name[k]);
    paths(base, data, index);
    make(k, base, 50);
    ck_assert_int_eq(chmod(data, 0660), 0);
    ck_assert_int_eq(chmod(index, 0640), 0);
    mode_t old = umask(077);
    struct coll c;
    ck_ok(coll_open(k, base, NULL, &c));
    churn(&c, 50);
    ck_ok(compact_any(&c));
    umask(old);
    owner_mode(data, geteuid(), getegid(), 0660);
    owner_mode(index, geteuid(), getegid(), 0640);
    ck_assert(coll_has(&c, 49));
    coll_free(&c);
  }
}
END_TEST

/* Child of test_compact_shared: as `uid` (groups: GROUP), umask 077,
 * open `base` and compact it; expect `want`. */
static void compact_as(uid_t uid, enum kind k, const char *base, int want,
                       int n) {
  fflush(stderr);
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0) {
    gid_t g = GROUP;
    if (setgroups(1, &g) != 0 || setgid(uid == 0 ? 0 : NOBODY) != 0 ||
        setuid(uid) != 0)
      _exit(SKIP_EXIT);
    umask(077);
    struct coll c;
    int rc = coll_open(k, base, NULL, &c);
    CHK(rc == 0, "open as uid %u returned %d", (unsigned)uid, rc);
    for (int i = 0; i < n; i++)
      CHK(coll_has(&c, i), "element %d before", i);
    rc = compact_any(&c);
    CHK(rc == want, "compact as uid %u returned %d (%s), want %d",
        (unsigned)uid, rc, fsc_strerror(rc), want);
    if (want == FSC_EACCES) {
      char own[64];
      snprintf(own, sizeof own, "uid %u", 0u);
      CHK(strstr(fsc_errmsg(), own) != NULL, "message does not name the "
          "owner");
    }
    for (int i = 0; i < n; i++)
      CHK(coll_has(&c, i), "element %d after", i);
    CHK(coll_put(&c, n) == 0, "a write after the compaction");
    coll_free(&c);
    _exit(0);
  }
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                "the child failed (status %d): see its message above", st);
}

START_TEST(test_compact_shared) {
  if (geteuid() != 0) {
    fprintf(stderr, "test_compact_shared: skipped (needs root to act as "
                    "two users)\n");
    return;
  }
  const char *dir = tc_dir();
  ck_assert_int_eq(chown(dir, 0, GROUP), 0);
  ck_assert_int_eq(chmod(dir, 02770), 0); /* a setgid group directory */
  for (enum kind k = K_LIST; k <= K_SET; k++) {
    char base[600], data[600], index[600];
    /* 65534's collection, compacted by root (who can keep the owner). */
    snprintf(base, sizeof base, "%s/nobody-%s", dir, kind_name[k]);
    paths(base, data, index);
    mode_t old = umask(007);
    make(k, base, 30);
    umask(old);
    ck_assert_int_eq(chown(data, NOBODY, GROUP), 0);
    ck_assert_int_eq(chown(index, NOBODY, GROUP), 0);
    ck_assert_int_eq(chmod(data, 0660), 0);
    ck_assert_int_eq(chmod(index, 0660), 0);
    struct coll c;
    ck_ok(coll_open(k, base, NULL, &c)); /* an open handle of root's */
    compact_as(0, k, base, 0, 30);
    owner_mode(data, NOBODY, GROUP, 0660);
    owner_mode(index, NOBODY, GROUP, 0660);
    ck_assert(coll_has(&c, 30)); /* the handle follows */
    coll_free(&c);
    /* ...and the owner opens it and reads everything. */
    pid_t p = fork();
    ck_assert_int_ge(p, 0);
    if (p == 0) {
      gid_t g = GROUP;
      if (setgroups(1, &g) != 0 || setgid(NOBODY) != 0 ||
          setuid(NOBODY) != 0)
        _exit(SKIP_EXIT);
      struct coll o;
      CHK(coll_open(k, base, NULL, &o) == 0, "the owner's open");
      for (int i = 0; i <= 30; i++)
        CHK(coll_has(&o, i), "element %d", i);
      coll_free(&o);
      _exit(0);
    }
    int st;
    ck_assert_int_eq(waitpid(p, &st, 0), p);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "owner failed");
    /* root's collection, compacted by 65534: refused, untouched. */
    snprintf(base, sizeof base, "%s/root-%s", dir, kind_name[k]);
    paths(base, data, index);
    umask(007);
    make(k, base, 30);
    umask(old);
    ck_assert_int_eq(chmod(data, 0660), 0);
    ck_assert_int_eq(chmod(index, 0660), 0);
    compact_as(NOBODY, k, base, FSC_EACCES, 30);
    owner_mode(data, 0, GROUP, 0660);
    owner_mode(index, 0, GROUP, 0660);
    ck_ok(coll_open(k, base, NULL, &c));
    for (int i = 0; i <= 30; i++)
      ck_assert(coll_has(&c, i));
    coll_free(&c);
  }
}
END_TEST

static Suite *filesafety_suite(void) {
  Suite *s = suite_create("filesafety");
  TCase *tc = tcase_create("files");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_modes_dict_set);
  tcase_add_test(tc, test_temp_dir_private);
  tcase_add_test(tc, test_symlink_dict_set);
  tcase_add_test(tc, test_unwritable);
  tcase_add_test(tc, test_compact_keeps_mode);
  tcase_add_test(tc, test_compact_shared);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) { return tc_run(filesafety_suite()); }
