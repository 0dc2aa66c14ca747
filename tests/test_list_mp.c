/*
 * test_list_mp.c - many processes and threads on one list.
 *
 * Every case forks worker processes (or starts threads) that use one list
 * at once, through the same base path or through a handle inherited across
 * fork(), and then checks invariants that only hold if no acknowledged
 * write was lost, no value was ever read torn, and nobody hung:
 *  - concurrent appends: exact length, every token once, per-writer order;
 *  - a reader racing appends, item assignment and structural changes only
 *    ever sees complete, self-checking values;
 *  - structural changes racing appends: every appended token is present
 *    exactly once unless a structural writer removed it and recorded so;
 *  - item assignment racing structural changes: each owner's last
 *    acknowledged write survives;
 *  - SIGKILL of a process in the middle of appends or structural changes
 *    leaves a list the others keep using;
 *  - a parent closing a handle its children inherited and still use is
 *    not the last closer, and leaves nobody blocked;
 *  - a record another process appended far past this handle's mapped
 *    view reads whole;
 *  - threads sharing one handle; the open_processes metric.
 *
 * FSC_TEST_VERBOSE=1 makes the cases print what they did (operation
 * counts, kills that hit a change in progress) so their strength can be
 * checked.
 * Worker processes report failures through their exit status (_exit(1)
 * after printing why); the test process waits for them and asserts.  Each
 * worker arms alarm(), so a hang shows up as a SIGALRM death, not as a
 * stuck test.
 */
#include "check_common.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

/* ------------------------------------------------------------------ */
/* Helpers for worker processes                                        */
/* ------------------------------------------------------------------ */

#define CHILD_ALARM 45 /* seconds a worker may live: a hang is a failure */

#define CFAIL(...)                                                            \
  do {                                                                        \
    char cf_buf_[512];                                                        \
    int cf_n_ = snprintf(cf_buf_, sizeof cf_buf_, "[pid %d] %s:%d: ",         \
                         (int)getpid(), __FILE__, __LINE__);                  \
    cf_n_ += snprintf(cf_buf_ + cf_n_, sizeof cf_buf_ - (size_t)cf_n_,        \
                      __VA_ARGS__);                                           \
    if (cf_n_ > (int)sizeof cf_buf_ - 2)                                      \
      cf_n_ = (int)sizeof cf_buf_ - 2;                                        \
    cf_buf_[cf_n_++] = '\n';                                                  \
    ssize_t cf_w_ = write(2, cf_buf_, (size_t)cf_n_);                         \
    (void)cf_w_;                                                              \
    return 1;                                                                 \
  } while (0)

/* In a worker: an fsc_ call that must return 0. */
#define COK(call)                                                             \
  do {                                                                        \
    int cok_rc_ = (call);                                                     \
    if (cok_rc_ != 0)                                                         \
      CFAIL("%s returned %d (%s: %s)", #call, cok_rc_,                        \
            fsc_strerror(cok_rc_), fsc_errmsg());                             \
  } while (0)

#define CREQ(cond, ...)                                                       \
  do {                                                                        \
    if (!(cond))                                                              \
      CFAIL(__VA_ARGS__);                                                     \
  } while (0)

/* State shared by the test process and its workers (MAP_SHARED). */
struct shm {
  int go;                 /* start barrier */
  int stop;               /* workers that loop until told */
  int running;            /* workers still running their fixed work */
  uint64_t acked[32];     /* per worker: operations acknowledged */
  uint64_t count[32];     /* per worker: anything else it counts */
  uint64_t last[4096];    /* per element: last acknowledged counter */
};

static struct shm *shm_new(void) {
  void *p = mmap(NULL, sizeof(struct shm), PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ck_assert_msg(p != MAP_FAILED, "mmap: %s", strerror(errno));
  memset(p, 0, sizeof(struct shm));
  return p;
}

static void shm_free(struct shm *s) { munmap(s, sizeof *s); }

static int ld(int *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void st(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static void st64(uint64_t *p, uint64_t v) {
  __atomic_store_n(p, v, __ATOMIC_RELEASE);
}
static uint64_t ld64(uint64_t *p) {
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* With FSC_TEST_VERBOSE set, cases print what they did (to stderr). */
static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...) {
  if (!getenv("FSC_TEST_VERBOSE"))
    return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static void wait_go(struct shm *s) {
  while (!ld(&s->go))
    usleep(200);
}

typedef int (*worker_fn)(int id, void *arg);

/* Fork a worker that runs fn(id, arg) and exits with its result. */
static pid_t spawn(worker_fn fn, int id, void *arg) {
  pid_t p = fork();
  ck_assert_msg(p >= 0, "fork: %s", strerror(errno));
  if (p == 0) {
    alarm(CHILD_ALARM);
    _exit(fn(id, arg) ? 1 : 0);
  }
  return p;
}

/* Wait for a worker and assert it exited with status 0. */
static void reap_ok(pid_t pid, const char *what) {
  int st;
  pid_t r;
  while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
    ;
  ck_assert_msg(r == pid, "waitpid(%s): %s", what, strerror(errno));
  if (WIFSIGNALED(st))
    ck_abort_msg("%s (pid %d) died of signal %d%s", what, (int)pid,
                 WTERMSIG(st),
                 WTERMSIG(st) == SIGALRM ? " (SIGALRM: it hung)" : "");
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                "%s (pid %d) failed with status %d (see its message above)",
                what, (int)pid, WEXITSTATUS(st));
}

/* SIGKILL a worker and reap it. */
static void kill_reap(pid_t pid) {
  kill(pid, SIGKILL);
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
}

static uint64_t rnd_state(uint64_t seed) {
  return seed * 0x9E3779B97F4A7C15u + 0x632BE59BD9B4E019u;
}

static uint64_t rnd(uint64_t *s) { /* xorshift64* */
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 0x2545F4914F6CDD1DULL;
}

static int64_t tok(unsigned w, uint64_t s) {
  return (int64_t)(((uint64_t)w << 32) | s);
}
static unsigned tok_w(int64_t t) { return (unsigned)((uint64_t)t >> 32); }
static uint64_t tok_s(int64_t t) { return (uint64_t)t & 0xffffffffu; }

static fsc_options opts_type(fsc_type t) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = t;
  return o;
}

static fsc_list *open_i64(const char *path) {
  fsc_options o = opts_type(FSC_TYPE_INT64);
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(path, &o, &l));
  return l;
}

/* Read the whole list (which nobody changes any more) as int64 values. */
static int64_t *read_all(fsc_list *l, uint64_t *n) {
  ck_ok(fsc_list_len(l, n));
  int64_t *v = malloc((size_t)(*n + 1) * sizeof *v);
  ck_assert_ptr_nonnull(v);
  fsc_list_iter it;
  fsc_value x;
  ck_ok(fsc_list_iter_init(l, &it));
  uint64_t k = 0;
  int rc;
  while ((rc = fsc_list_iter_next(&it, &x)) == 1) {
    ck_assert_msg(k < *n, "iteration yields more than len() = %llu",
                  (unsigned long long)*n);
    ck_assert_msg(x.type == FSC_TYPE_INT64, "element %llu has type %d",
                  (unsigned long long)k, (int)x.type);
    v[k++] = x.u.i64;
  }
  ck_assert_msg(rc == 0, "iteration failed at %llu: %d (%s)",
                (unsigned long long)k, rc, fsc_errmsg());
  ck_assert_msg(k == *n, "len() is %llu but %llu elements are readable",
                (unsigned long long)*n, (unsigned long long)k);
  return v;
}

/* Writers 0..nw-1 each appended tokens 0..k-1: check that exactly those are
 * present, each once, and (if `ordered`) in increasing order per writer. */
static void check_tokens(fsc_list *l, unsigned nw, uint64_t k,
                         bool ordered) {
  uint64_t n;
  int64_t *v = read_all(l, &n);
  ck_assert_msg(n == nw * k, "length %llu, want %llu (lost or duplicated "
                "appends)", (unsigned long long)n,
                (unsigned long long)(nw * k));
  uint8_t *seen = calloc(nw * k, 1);
  int64_t last[64];
  for (unsigned w = 0; w < nw; w++)
    last[w] = -1;
  for (uint64_t i = 0; i < n; i++) {
    unsigned w = tok_w(v[i]);
    uint64_t s = tok_s(v[i]);
    if (w >= nw || s >= k)
      ck_abort_msg("element %llu = %#llx is no token", (unsigned long long)i,
                   (unsigned long long)v[i]);
    if (seen[w * k + s])
      ck_abort_msg("token (%u, %llu) appears twice", w,
                   (unsigned long long)s);
    seen[w * k + s] = 1;
    if (ordered && (int64_t)s <= last[w])
      ck_abort_msg("writer %u: token %llu after %lld (order broken)", w,
                   (unsigned long long)s, (long long)last[w]);
    last[w] = (int64_t)s;
  }
  free(seen);
  free(v);
}

/* ------------------------------------------------------------------ */
/* Concurrent appends                                                  */
/* ------------------------------------------------------------------ */

#define NWRITERS 4
#define NAPPENDS 20000

struct append_arg {
  struct shm *shm;
  const char *path;   /* open this (each worker itself) ... */
  fsc_list *l;        /* ... or use this inherited handle */
  uint64_t k;
  bool close_after;
};

static int w_append(int id, void *a) {
  struct append_arg *arg = a;
  fsc_list *l = arg->l;
  if (!l) {
    fsc_options o = opts_type(FSC_TYPE_INT64);
    COK(fsc_list_open(arg->path, &o, &l));
  }
  wait_go(arg->shm);
  for (uint64_t s = 0; s < arg->k; s++) {
    COK(fsc_list_append_i64(l, tok((unsigned)id, s)));
    st64(&arg->shm->acked[id], s + 1);
  }
  /* A process reads its own appends. */
  uint64_t n;
  COK(fsc_list_len(l, &n));
  CREQ(n >= arg->k, "len %llu after %llu own appends",
       (unsigned long long)n, (unsigned long long)arg->k);
  if (arg->close_after)
    COK(fsc_list_close(l));
  fsc_list_free(l); /* inherited: closes only this process's copy */
  return 0;
}

START_TEST(test_append_by_path) {
  const char *path = tc_path("appends");
  struct shm *shm = shm_new();
  struct append_arg arg = {shm, path, NULL, NAPPENDS, true};
  pid_t pids[NWRITERS];
  /* The workers race to create the list, too. */
  for (int i = 0; i < NWRITERS; i++)
    pids[i] = spawn(w_append, i, &arg);
  st(&shm->go, 1);
  for (int i = 0; i < NWRITERS; i++)
    reap_ok(pids[i], "appender");
  fsc_list *l = open_i64(path);
  check_tokens(l, NWRITERS, NAPPENDS, true);
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_list_metrics(l, &m));
  ck_assert_msg(m.last_close_clean, "the last worker closed cleanly");
  ck_assert_uint_eq(m.length, NWRITERS * NAPPENDS);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
  shm_free(shm);
}
END_TEST

static void append_inherited(const char *path) {
  struct shm *shm = shm_new();
  fsc_list *l = NULL;
  fsc_options o = opts_type(FSC_TYPE_INT64);
  ck_ok(fsc_list_open(path, &o, &l));
  ck_ok(fsc_list_append_i64(l, tok(NWRITERS, 0))); /* parent's own */
  struct append_arg arg = {shm, NULL, l, NAPPENDS, false};
  pid_t pids[NWRITERS];
  for (int i = 0; i < NWRITERS; i++)
    pids[i] = spawn(w_append, i, &arg);
  st(&shm->go, 1);
  /* The parent keeps using its handle meanwhile: structural changes take
   * the lock against children that share its open file descriptions. */
  for (int r = 0; r < 200; r++) {
    fsc_value x = fsc_i64(tok(NWRITERS + 1, (uint64_t)r)), got;
    ck_ok(fsc_list_insert(l, 0, &x));
    ck_ok(fsc_list_pop(l, 0, &got));
    ck_assert_int_eq(got.u.i64, x.u.i64);
  }
  for (int i = 0; i < NWRITERS; i++)
    reap_ok(pids[i], "appender (inherited handle)");
  /* The children closed their copies; the parent's handle still works. */
  fsc_value first;
  ck_ok(fsc_list_pop(l, 0, &first));
  ck_assert_int_eq(first.u.i64, tok(NWRITERS, 0));
  check_tokens(l, NWRITERS, NAPPENDS, true);
  ck_ok(fsc_list_append_i64(l, 7));
  ck_ok(fsc_list_pop(l, -1, &first));
  ck_assert_int_eq(first.u.i64, 7);
  if (path) {
    ck_ok(fsc_list_close(l));
    fsc_list_free(l);
    l = open_i64(path);
    check_tokens(l, NWRITERS, NAPPENDS, true);
    ck_ok(fsc_list_destroy(l));
  }
  fsc_list_free(l);
  shm_free(shm);
}

START_TEST(test_append_inherited_handle) {
  append_inherited(tc_path("inherited"));
}
END_TEST

START_TEST(test_append_inherited_temp) { append_inherited(NULL); }
END_TEST

/* The parent closes a handle its children inherited and still use
 * (before they ever took a lock of their own).  The parent is not the last
 * closer then: no clean-close marker while they write, and nobody may be
 * left blocked on a lock the children's inherited copy holds. */
struct orphan_arg {
  struct shm *shm;
  fsc_list *l;
  const char *path;
};

static int w_outlive_parent(int id, void *a) {
  struct orphan_arg *arg = a;
  for (uint64_t s = 0; s < 1000; s++) /* lock-free only: no re-open yet */
    COK(fsc_list_append_i64(arg->l, tok((unsigned)id, s)));
  st64(&arg->shm->acked[id], 1);
  while (!ld(&arg->shm->go)) /* the parent closes its handle meanwhile */
    usleep(200);
  for (uint64_t s = 1000; s < 2000; s++)
    COK(fsc_list_append_i64(arg->l, tok((unsigned)id, s)));
  fsc_value v = fsc_i64(tok(9, (uint64_t)id)), got;
  COK(fsc_list_insert(arg->l, 0, &v)); /* structural: takes the lock */
  COK(fsc_list_pop(arg->l, 0, &got));
  CREQ(got.u.i64 == v.u.i64, "pop(0) gave %#llx",
       (unsigned long long)got.u.i64);
  st64(&arg->shm->count[id], 1);
  while (ld(&arg->shm->stop) == 0) /* close in turn */
    usleep(200);
  if (id == 1)
    while (ld64(&arg->shm->count[0]) != 2)
      usleep(200);
  COK(fsc_list_close(arg->l));
  fsc_list_free(arg->l);
  st64(&arg->shm->count[id], 2);
  return 0;
}

static int w_open_struct_close(int id, void *a) {
  struct orphan_arg *arg = a;
  fsc_list *l = NULL;
  fsc_options o = opts_type(FSC_TYPE_INT64);
  COK(fsc_list_open(arg->path, &o, &l));
  fsc_value v = fsc_i64(tok(9, 99)), got;
  COK(fsc_list_insert(l, 0, &v));
  COK(fsc_list_pop(l, 0, &got));
  COK(fsc_list_close(l));
  fsc_list_free(l);
  return 0;
}

static uint8_t marker_byte(const char *base) {
  char p[600];
  snprintf(p, sizeof p, "%s.index.fscollection", base);
  int fd = open(p, O_RDONLY);
  ck_assert_int_ge(fd, 0);
  off_t end = lseek(fd, 0, SEEK_END);
  uint8_t b = 0;
  ck_assert_int_eq(pread(fd, &b, 1, end - 1), 1);
  close(fd);
  return b;
}

START_TEST(test_parent_closes_inherited_first) {
  const char *path = tc_path("outlived");
  struct shm *shm = shm_new();
  fsc_list *l = open_i64(path);
  struct orphan_arg arg = {shm, l, path};
  pid_t c[2];
  for (int i = 0; i < 2; i++)
    c[i] = spawn(w_outlive_parent, i, &arg);
  while (!ld64(&shm->acked[0]) || !ld64(&shm->acked[1]))
    usleep(200);
  ck_ok(fsc_list_close(l)); /* the children still have it open */
  fsc_list_free(l);
  ck_assert_msg(marker_byte(path) != 0xAA, "the parent wrote the clean-close "
                "marker while its children still had the list open");
  st(&shm->go, 1);
  /* Another process opens, changes the structure and closes: no hang. */
  reap_ok(spawn(w_open_struct_close, 5, &arg), "opener after parent close");
  while (ld64(&shm->count[0]) != 1 || ld64(&shm->count[1]) != 1)
    usleep(200);
  ck_assert_uint_ne(marker_byte(path), 0xAA);
  st(&shm->stop, 1);
  for (int i = 0; i < 2; i++)
    reap_ok(c[i], "child that outlived its parent's handle");
  ck_assert_msg(marker_byte(path) == 0xAA, "the last child to close did not "
                "write the clean-close marker");
  l = open_i64(path);
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_list_metrics(l, &m));
  ck_assert(m.last_close_clean);
  check_tokens(l, 2, 2000, true);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
  shm_free(shm);
}
END_TEST

/* A handle maps the data file through views; a record another process
 * appended after this handle last mapped may start inside its newest view
 * and end far beyond it.  Reading it must use a view covering all of it
 * (a payload pointer into the old view would read past its mapping). */
static int w_big_appender(int id, void *a) {
  const char *path = a;
  fsc_list *l = NULL;
  fsc_options o = opts_type(FSC_TYPE_BYTES);
  COK(fsc_list_open(path, &o, &l));
  for (int k = 0; k < 4; k++) {
    size_t n = ((size_t)5 << 20) + (size_t)k * 4099;
    uint8_t *b = malloc(n);
    CREQ(b, "malloc");
    for (size_t i = 0; i < n; i++)
      b[i] = (uint8_t)(i * 31 + (size_t)k);
    fsc_value v = fsc_bytes(b, n);
    COK(fsc_list_append(l, &v));
    free(b);
  }
  COK(fsc_list_close(l));
  fsc_list_free(l);
  return 0;
}

START_TEST(test_read_record_beyond_view) {
  const char *path = tc_path("bigrecords");
  fsc_options o = opts_type(FSC_TYPE_BYTES);
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(path, &o, &l));
  fsc_value v = fsc_bytes("abc", 3), got;
  ck_ok(fsc_list_append(l, &v));
  ck_ok(fsc_list_get(l, 0, &got)); /* this handle has mapped the start */
  reap_ok(spawn(w_big_appender, 0, (void *)path), "big appender");
  for (int k = 0; k < 4; k++) {
    ck_ok(fsc_list_get(l, 1 + k, &got));
    size_t n = ((size_t)5 << 20) + (size_t)k * 4099;
    ck_assert_uint_eq(got.u.buf.len, n);
    const uint8_t *p = got.u.buf.ptr;
    for (size_t i = 0; i < n; i++)
      if (p[i] != (uint8_t)(i * 31 + (size_t)k))
        ck_abort_msg("record %d: byte %zu differs", k, i);
  }
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* A reader never sees a torn value                                    */
/* ------------------------------------------------------------------ */

#define SLEN 100

static uint32_t fnv(const char *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (uint8_t)p[i]) * 16777619u;
  return h;
}

/* A 100-byte string that checks itself: "WWSSSSSSSSSS" + 80 letters drawn
 * from (w, s) + 8 hex digits of a hash of the first 92 bytes. */
static void mkstr(char *b, unsigned w, uint64_t s) {
  char head[16];
  snprintf(head, sizeof head, "%02u%010llu", w % 100,
           (unsigned long long)(s % 10000000000ull));
  memcpy(b, head, 12);
  uint64_t r = rnd_state((w << 20) ^ s);
  for (int i = 12; i < 92; i++)
    b[i] = (char)('a' + rnd(&r) % 26);
  char tail[9];
  snprintf(tail, sizeof tail, "%08x", fnv(b, 92));
  memcpy(b + 92, tail, 8);
}

/* 0 if v is such a string (and its writer/seq in *w, *s). */
static int checkstr(const fsc_value *v, unsigned *w, uint64_t *s) {
  if (v->type != FSC_TYPE_STRING || v->u.buf.len != SLEN)
    return -1;
  const char *p = v->u.buf.ptr;
  char want[SLEN];
  unsigned ww = 0;
  unsigned long long ss = 0;
  for (int i = 0; i < 12; i++)
    if (p[i] < '0' || p[i] > '9')
      return -1;
  ww = (unsigned)((p[0] - '0') * 10 + (p[1] - '0'));
  for (int i = 2; i < 12; i++)
    ss = ss * 10 + (unsigned)(p[i] - '0');
  mkstr(want, ww, ss);
  if (memcmp(want, p, SLEN) != 0)
    return -1;
  if (w)
    *w = ww;
  if (s)
    *s = ss;
  return 0;
}

struct rw_arg {
  struct shm *shm;
  const char *path;
  uint64_t k;
};

static fsc_list *w_open_str(const char *path) {
  fsc_options o = opts_type(FSC_TYPE_STRING);
  fsc_list *l = NULL;
  if (fsc_list_open(path, &o, &l) != 0)
    return NULL;
  return l;
}

/* Appenders 0..1: append k strings; setters 2..3: assign random slots. */
static int w_str_writer(int id, void *a) {
  struct rw_arg *arg = a;
  fsc_list *l = w_open_str(arg->path);
  CREQ(l, "open: %s", fsc_errmsg());
  char b[SLEN];
  uint64_t r = rnd_state((uint64_t)id + 77);
  wait_go(arg->shm);
  for (uint64_t s = 0; s < arg->k; s++) {
    mkstr(b, (unsigned)id, s);
    fsc_value v = fsc_strn(b, SLEN);
    if (id < 2) {
      COK(fsc_list_append(l, &v));
    } else {
      uint64_t n;
      COK(fsc_list_len(l, &n));
      if (n == 0)
        continue;
      int rc = fsc_list_set(l, (int64_t)(rnd(&r) % n), &v);
      CREQ(rc == 0 || rc == FSC_EINDEX, "set: %d %s", rc, fsc_errmsg());
    }
  }
  fsc_list_free(l);
  return 0;
}

/* Structural changes: insert/pop at the front and middle, reverse. */
static int w_str_struct(int id, void *a) {
  struct rw_arg *arg = a;
  fsc_list *l = w_open_str(arg->path);
  CREQ(l, "open: %s", fsc_errmsg());
  char b[SLEN];
  uint64_t r = rnd_state(991), s = 0;
  wait_go(arg->shm);
  while (ld(&arg->shm->running) > 0) {
    uint64_t n;
    COK(fsc_list_len(l, &n));
    mkstr(b, (unsigned)id, s++);
    fsc_value v = fsc_strn(b, SLEN), got;
    switch (rnd(&r) % 4) {
    case 0:
      COK(fsc_list_insert(l, 0, &v));
      COK(fsc_list_pop(l, 0, &got));
      CREQ(checkstr(&got, NULL, NULL) == 0, "popped a torn value");
      break;
    case 1:
      COK(fsc_list_insert(l, (int64_t)(n / 2), &v));
      break;
    case 2:
      if (n > 10)
        COK(fsc_list_pop(l, (int64_t)(n / 3), &got));
      break;
    default:
      COK(fsc_list_reverse(l));
    }
    usleep(500);
  }
  fsc_list_free(l);
  return 0;
}

static int verify_view(const fsc_value *v, uint64_t *bad) {
  if (checkstr(v, NULL, NULL) != 0) {
    (*bad)++;
    return -1;
  }
  return 0;
}

static int w_str_reader(int id, void *a) {
  struct rw_arg *arg = a;
  fsc_list *l = w_open_str(arg->path);
  CREQ(l, "open: %s", fsc_errmsg());
  uint64_t r = rnd_state(4242), seen = 0, bad = 0, iters = 0;
  fsc_value buf[64];
  st64(&arg->shm->acked[id], 1); /* ready: the writers may start */
  wait_go(arg->shm);
  /* Until told to stop, and at least some reading even if this process
   * was scheduled late on a loaded machine. */
  while (!ld(&arg->shm->stop) || seen < 5000) {
    uint64_t n;
    COK(fsc_list_len(l, &n));
    if (n == 0)
      continue;
    fsc_value v;
    /* Random indices. */
    for (int j = 0; j < 200; j++) {
      int64_t i = (int64_t)(rnd(&r) % n);
      if (rnd(&r) & 1)
        i = i - (int64_t)n; /* negative indices too */
      int rc = fsc_list_get(l, i, &v);
      if (rc == FSC_EINDEX)
        continue; /* popped meanwhile */
      COK(rc);
      if (verify_view(&v, &bad))
        CFAIL("torn or malformed value at %lld: len %zu \"%.*s\"",
              (long long)i, v.u.buf.len, (int)v.u.buf.len,
              (const char *)v.u.buf.ptr);
      seen++;
    }
    /* Slices: one consistent snapshot of up to 64 elements. */
    size_t got = 0;
    int64_t st0 = (int64_t)(rnd(&r) % n);
    int rc = fsc_list_slice_get(l, FSC_SLICE(st0, st0 + 64, 1), buf, 64,
                                &got);
    COK(rc);
    for (size_t j = 0; j < got; j++)
      if (verify_view(&buf[j], &bad))
        CFAIL("torn value in a slice at %zu: type %d len %zu", j,
              (int)buf[j].type, buf[j].u.buf.len);
    seen += got;
    /* A full iteration now and then. */
    if (++iters % 20 == 0) {
      fsc_list_iter it;
      COK(fsc_list_iter_init(l, &it));
      while ((rc = fsc_list_iter_next(&it, &v)) == 1) {
        if (verify_view(&v, &bad))
          CFAIL("torn value while iterating at %llu: type %d len %zu "
                "\"%.*s\"", (unsigned long long)it.pos, (int)v.type,
                v.u.buf.len, (int)(v.u.buf.len > 200 ? 200 : v.u.buf.len),
                v.type == FSC_TYPE_STRING ? (const char *)v.u.buf.ptr : "");
        seen++;
      }
      COK(rc);
    }
  }
  st64(&arg->shm->count[id], seen);
  CREQ(seen > 1000, "the reader saw only %llu values",
       (unsigned long long)seen);
  fsc_list_free(l);
  return 0;
}

START_TEST(test_reader_never_torn) {
  const char *path = tc_path("strings");
  fsc_options o = opts_type(FSC_TYPE_STRING);
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(path, &o, &l));
  char b[SLEN];
  for (uint64_t s = 0; s < 100; s++) {
    mkstr(b, 9, s);
    fsc_value v = fsc_strn(b, SLEN);
    ck_ok(fsc_list_append(l, &v));
  }
  struct shm *shm = shm_new();
  struct rw_arg arg = {shm, path, 6000};
  pid_t reader = spawn(w_str_reader, 10, &arg);
  while (!ld64(&shm->acked[10]))
    usleep(200);
  shm->running = 4;
  pid_t wr[4], stp;
  for (int i = 0; i < 4; i++)
    wr[i] = spawn(w_str_writer, i, &arg);
  stp = spawn(w_str_struct, 5, &arg);
  st(&shm->go, 1);
  for (int i = 0; i < 4; i++) {
    reap_ok(wr[i], "string writer");
    __atomic_sub_fetch(&shm->running, 1, __ATOMIC_ACQ_REL);
  }
  reap_ok(stp, "structural writer");
  st(&shm->stop, 1);
  reap_ok(reader, "reader");
  note("reader: %llu values verified", (unsigned long long)shm->count[10]);
  /* Everything left decodes, and both appenders' strings are all there
   * unless the structural writer popped them. */
  uint64_t n, per[16] = {0};
  ck_ok(fsc_list_len(l, &n));
  for (uint64_t i = 0; i < n; i++) {
    fsc_value v;
    unsigned w;
    ck_ok(fsc_list_get(l, (int64_t)i, &v));
    ck_assert_msg(checkstr(&v, &w, NULL) == 0, "element %llu is malformed",
                  (unsigned long long)i);
    per[w % 16]++;
  }
  ck_assert_uint_gt(per[0] + per[1], 0);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
  shm_free(shm);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Structural changes racing appends: no acknowledged append lost      */
/* ------------------------------------------------------------------ */

#define SA_APPENDERS 3
#define SA_K 12000
#define SA_TOKMAX (1u << 17)
#define SA_STRUCT_W 8 /* structural workers' tokens: writer 8, 9, ... */

struct sa_arg {
  struct shm *shm;
  const char *path;      /* the list */
  const char *removed;   /* what structural workers removed */
  bool all_ops;          /* del, slice_set/del, remove too (one worker) */
  int nstruct;           /* structural workers */
};

static int w_sa_append(int id, void *a) {
  struct sa_arg *arg = a;
  fsc_list *l = NULL;
  fsc_options o = opts_type(FSC_TYPE_INT64);
  COK(fsc_list_open(arg->path, &o, &l));
  wait_go(arg->shm);
  for (uint64_t s = 0; s < SA_K; s++) {
    COK(fsc_list_append_i64(l, tok((unsigned)id, s)));
    if (s % 32 == 31)
      usleep(1000); /* spread the appends over many structural changes */
  }
  /* On a loaded machine the structural workers may have started late:
   * stay until they have raced at least some appends. */
  for (int p = 0; p < arg->nstruct; p++)
    while (ld64(&arg->shm->count[p]) < 50)
      usleep(1000);
  fsc_list_free(l);
  return 0;
}

/* Record a removed token in the "removed" list. */
#define REMOVED(rl, v)                                                        \
  do {                                                                        \
    COK(fsc_list_append_i64((rl), (v)));                                      \
  } while (0)

static int w_sa_struct(int id, void *a) {
  struct sa_arg *arg = a;
  fsc_list *l = NULL, *rl = NULL;
  fsc_options o = opts_type(FSC_TYPE_INT64);
  COK(fsc_list_open(arg->path, &o, &l));
  COK(fsc_list_open(arg->removed, &o, &rl));
  unsigned me = SA_STRUCT_W + (unsigned)id;
  uint64_t r = rnd_state((uint64_t)id * 31 + 5), ins = 0, ops = 0;
  wait_go(arg->shm);
  while (ld(&arg->shm->running) > 0 && ins + 8 < SA_TOKMAX) {
    uint64_t n;
    COK(fsc_list_len(l, &n));
    fsc_value got, v;
    unsigned op = (unsigned)(rnd(&r) % (arg->all_ops ? 11 : 6));
    int rc;
    st64(&arg->shm->count[id], ++ops);
    usleep(100);
    /* Keep the list long: removals only once it has some length. */
    if (n < 2000 && op != 0 && op != 1 && op != 3 && op != 4)
      continue;
    switch (op) {
    case 0: /* insert at the front, pop it (or whatever is first) */
      v = fsc_i64(tok(me, ins));
      COK(fsc_list_insert(l, 0, &v));
      st64(&arg->shm->acked[id], ++ins);
      rc = fsc_list_pop(l, 0, &got);
      if (rc == FSC_EINDEX) /* the other structural worker emptied it */
        break;
      COK(rc);
      REMOVED(rl, got.u.i64);
      break;
    case 1: /* insert in the middle */
      v = fsc_i64(tok(me, ins));
      COK(fsc_list_insert(l, (int64_t)(n / 2), &v));
      st64(&arg->shm->acked[id], ++ins);
      break;
    case 2: /* pop somewhere */
      rc = fsc_list_pop(l, n ? (int64_t)(rnd(&r) % n) : 0, &got);
      if (rc == FSC_EINDEX)
        break;
      COK(rc);
      REMOVED(rl, got.u.i64);
      break;
    case 3:
      COK(fsc_list_reverse(l));
      break;
    case 4:
      if (rnd(&r) % 4 == 0)
        COK(fsc_list_sort(l, rnd(&r) & 1));
      break;
    case 5: /* pop the last (the in-place path), racing appenders */
      rc = fsc_list_pop(l, -1, &got);
      if (rc == FSC_EINDEX)
        break;
      COK(rc);
      REMOVED(rl, got.u.i64);
      break;
    /* The rest read what they remove first: only with one structural
     * worker, since nobody else moves elements meanwhile (appends only
     * add at the end). */
    case 6: /* del */
      if (n < 3)
        break;
      {
        int64_t i = (int64_t)(rnd(&r) % (n - 1));
        COK(fsc_list_get(l, i, &got));
        COK(fsc_list_del(l, i));
        REMOVED(rl, got.u.i64);
      }
      break;
    case 7: /* slice_set: replace [i:i+3] by 2 new tokens */
      if (n < 8)
        break;
      {
        int64_t i = (int64_t)(rnd(&r) % (n - 4));
        fsc_value old[3], nv[2];
        size_t cnt;
        COK(fsc_list_slice_get(l, FSC_SLICE(i, i + 3, 1), old, 3, &cnt));
        CREQ(cnt == 3, "slice of 3 has %zu", cnt);
        nv[0] = fsc_i64(tok(me, ins));
        nv[1] = fsc_i64(tok(me, ins + 1));
        COK(fsc_list_slice_set(l, FSC_SLICE(i, i + 3, 1), nv, 2));
        ins += 2;
        st64(&arg->shm->acked[id], ins);
        for (int k = 0; k < 3; k++)
          REMOVED(rl, old[k].u.i64);
      }
      break;
    case 8: /* extended slice assignment [i:i+6:2] */
      if (n < 10)
        break;
      {
        int64_t i = (int64_t)(rnd(&r) % (n - 7));
        fsc_value old[3], nv[3];
        size_t cnt;
        COK(fsc_list_slice_get(l, FSC_SLICE(i, i + 6, 2), old, 3, &cnt));
        CREQ(cnt == 3, "extended slice of 3 has %zu", cnt);
        for (int k = 0; k < 3; k++)
          nv[k] = fsc_i64(tok(me, ins + (uint64_t)k));
        COK(fsc_list_slice_set(l, FSC_SLICE(i, i + 6, 2), nv, 3));
        ins += 3;
        st64(&arg->shm->acked[id], ins);
        for (int k = 0; k < 3; k++)
          REMOVED(rl, old[k].u.i64);
      }
      break;
    case 9: /* slice_del [i:i+2] */
      if (n < 6)
        break;
      {
        int64_t i = (int64_t)(rnd(&r) % (n - 3));
        fsc_value old[2];
        size_t cnt;
        COK(fsc_list_slice_get(l, FSC_SLICE(i, i + 2, 1), old, 2, &cnt));
        COK(fsc_list_slice_del(l, FSC_SLICE(i, i + 2, 1)));
        for (size_t k = 0; k < cnt; k++)
          REMOVED(rl, old[k].u.i64);
      }
      break;
    default: /* remove(v) of a value read first */
      if (n < 3)
        break;
      COK(fsc_list_get(l, (int64_t)(rnd(&r) % (n - 1)), &got));
      COK(fsc_list_remove(l, &got));
      REMOVED(rl, got.u.i64);
    }
  }
  st64(&arg->shm->count[id], ops);
  CREQ(ops > 20, "only %llu structural operations ran",
       (unsigned long long)ops);
  fsc_list_free(rl);
  fsc_list_free(l);
  return 0;
}

static void struct_vs_append(int nstruct, bool all_ops) {
  const char *dir = tc_dir();
  char path[600], removed[600];
  snprintf(path, sizeof path, "%s/list", dir);
  snprintf(removed, sizeof removed, "%s/removed", dir);
  struct shm *shm = shm_new();
  struct sa_arg arg = {shm, path, removed, all_ops, nstruct};
  fsc_list *l = open_i64(path), *rl = open_i64(removed);
  shm->running = SA_APPENDERS;
  pid_t ap[SA_APPENDERS], sp[4];
  for (int i = 0; i < SA_APPENDERS; i++)
    ap[i] = spawn(w_sa_append, i, &arg);
  for (int i = 0; i < nstruct; i++)
    sp[i] = spawn(w_sa_struct, i, &arg);
  st(&shm->go, 1);
  for (int i = 0; i < SA_APPENDERS; i++) {
    reap_ok(ap[i], "appender");
    __atomic_sub_fetch(&shm->running, 1, __ATOMIC_ACQ_REL);
  }
  for (int i = 0; i < nstruct; i++)
    reap_ok(sp[i], "structural worker");

  /* balance[w][s]: +1 per append/insert, -1 per recorded removal, -1 per
   * occurrence in the final list: all must end at 0. */
  unsigned nw = SA_STRUCT_W + (unsigned)nstruct;
  int32_t *bal = calloc((size_t)nw * SA_TOKMAX, sizeof *bal);
  ck_assert_ptr_nonnull(bal);
  for (unsigned w = 0; w < SA_APPENDERS; w++)
    for (uint64_t s = 0; s < SA_K; s++)
      bal[w * SA_TOKMAX + s]++;
  for (int p = 0; p < nstruct; p++)
    for (uint64_t s = 0; s < shm->acked[p]; s++)
      bal[(SA_STRUCT_W + (unsigned)p) * SA_TOKMAX + s]++;
  uint64_t nr, n;
  int64_t *rem = read_all(rl, &nr), *v = read_all(l, &n);
  for (uint64_t i = 0; i < nr; i++) {
    unsigned w = tok_w(rem[i]);
    uint64_t s = tok_s(rem[i]);
    ck_assert_msg(w < nw && s < SA_TOKMAX, "removed a non-token %#llx",
                  (unsigned long long)rem[i]);
    if (--bal[w * SA_TOKMAX + s] < 0)
      ck_abort_msg("token (%u, %llu) was removed more often than written",
                   w, (unsigned long long)s);
  }
  for (uint64_t i = 0; i < n; i++) {
    unsigned w = tok_w(v[i]);
    uint64_t s = tok_s(v[i]);
    ck_assert_msg(w < nw && s < SA_TOKMAX, "element %llu is a non-token "
                  "%#llx", (unsigned long long)i, (unsigned long long)v[i]);
    if (--bal[w * SA_TOKMAX + s] < 0)
      ck_abort_msg("token (%u, %llu) is present more often than written "
                   "(duplicated)", w, (unsigned long long)s);
  }
  for (unsigned w = 0; w < nw; w++)
    for (uint64_t s = 0; s < SA_TOKMAX; s++)
      if (bal[w * SA_TOKMAX + s] != 0)
        ck_abort_msg("token (%u, %llu) was acknowledged but is neither in "
                     "the list nor removed (lost write); list length %llu, "
                     "removed %llu", w, (unsigned long long)s,
                     (unsigned long long)n, (unsigned long long)nr);
  note("struct_vs_append(%d): %llu + %llu structural ops, %llu inserted, "
       "%llu removed, final length %llu", nstruct,
       (unsigned long long)shm->count[0], (unsigned long long)shm->count[1],
       (unsigned long long)(shm->acked[0] + shm->acked[1]),
       (unsigned long long)nr, (unsigned long long)n);
  ck_assert_uint_eq(n + nr, SA_APPENDERS * SA_K + shm->acked[0] +
                                (nstruct > 1 ? shm->acked[1] : 0));
  free(bal);
  free(rem);
  free(v);
  ck_ok(fsc_list_destroy(rl));
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(rl);
  fsc_list_free(l);
  shm_free(shm);
}

START_TEST(test_struct_vs_append_all_ops) { struct_vs_append(1, true); }
END_TEST

START_TEST(test_struct_vs_append_two_structural) {
  struct_vs_append(2, false);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Item assignment racing structural changes                           */
/* ------------------------------------------------------------------ */

/* Owned region: elements 0..M-1 hold (k << 40 | counter), owned by setter
 * k % NSET.  The structural worker only changes what lies past M (and
 * sorts, which keeps 0..M-1 in place since every other value is larger),
 * so element k stays at index k: after set(k, c) returns, get(k) must give
 * c, and in the end every element holds its owner's last counter. */
#define RG_M 64
#define RG_NSET 3
#define RG_SETS 6000
#define SCRATCH (INT64_C(1) << 62)

struct as_arg {
  struct shm *shm;
  const char *path;
  uint64_t m;     /* owned elements (region) or pairs (reverse) */
};

static int w_rg_setter(int id, void *a) {
  struct as_arg *arg = a;
  fsc_list *l = NULL;
  fsc_options o = opts_type(FSC_TYPE_INT64);
  COK(fsc_list_open(arg->path, &o, &l));
  uint64_t r = rnd_state((uint64_t)id + 1000), ctr[RG_M] = {0};
  wait_go(arg->shm);
  /* At least RG_SETS, and on until the structural worker has done some
   * changes (it may start late on a loaded machine). */
  for (int j = 0; j < RG_SETS || ld64(&arg->shm->count[20]) < 50; j++) {
    uint64_t k = (uint64_t)id + RG_NSET * (rnd(&r) % (RG_M / RG_NSET));
    uint64_t c = ++ctr[k];
    int64_t want = (int64_t)(k << 40 | c);
    COK(fsc_list_set_i64(l, (int64_t)k, want));
    st64(&arg->shm->last[k], c);
    int64_t got;
    COK(fsc_list_get_i64(l, (int64_t)k, &got));
    CREQ(got == want, "element %llu: wrote counter %llu, read back %#llx "
         "(an acknowledged assignment was lost)", (unsigned long long)k,
         (unsigned long long)c, (unsigned long long)got);
  }
  fsc_list_free(l);
  return 0;
}

static int w_rg_struct(int id, void *a) {
  struct as_arg *arg = a;
  fsc_list *l = NULL;
  fsc_options o = opts_type(FSC_TYPE_INT64);
  COK(fsc_list_open(arg->path, &o, &l));
  uint64_t r = rnd_state(555), ops = 0;
  const int64_t M = RG_M;
  wait_go(arg->shm);
  while (ld(&arg->shm->running) > 0) {
    uint64_t n;
    COK(fsc_list_len(l, &n));
    int64_t tail = (int64_t)n - M;
    fsc_value v = fsc_i64(SCRATCH | (int64_t)(rnd(&r) & 0xffffff)), got;
    fsc_value buf[64];
    size_t cnt;
    st64(&arg->shm->count[id], ++ops);
    switch (rnd(&r) % 9) {
    case 0:
      COK(fsc_list_insert(l, M + (tail > 0 ? (int64_t)(rnd(&r) %
                                                     (uint64_t)tail) : 0),
                          &v));
      break;
    case 1:
      if (tail > 0)
        COK(fsc_list_pop(l, M + (int64_t)(rnd(&r) % (uint64_t)tail), &got));
      break;
    case 2:
      if (tail > 0)
        COK(fsc_list_pop(l, -1, &got));
      break;
    case 3:
      COK(fsc_list_sort(l, false));
      break;
    case 4: /* reverse the tail through a slice assignment */
      if (tail > 1 && tail <= 64) {
        COK(fsc_list_slice_get(l, FSC_SLICE(M, FSC_NONE, 1), buf, 64, &cnt));
        for (size_t i = 0; i < cnt / 2; i++) {
          fsc_value t = buf[i];
          buf[i] = buf[cnt - 1 - i];
          buf[cnt - 1 - i] = t;
        }
        COK(fsc_list_slice_set(l, FSC_SLICE(M, M + (int64_t)cnt, 1), buf,
                               cnt));
      }
      break;
    case 5: /* extended slice over the tail */
      if (tail >= 4) {
        COK(fsc_list_slice_get(l, FSC_SLICE(M, M + 4, 2), buf, 2, &cnt));
        COK(fsc_list_slice_set(l, FSC_SLICE(M, M + 4, 2), buf, 2));
      }
      break;
    case 6:
      if (tail > 0)
        COK(fsc_list_del(l, M));
      break;
    case 7: /* grow the list (appends also take the array-growth path) */
      for (int i = 0; i < 20; i++)
        COK(fsc_list_append(l, &v));
      break;
    default:
      if (tail > 200)
        COK(fsc_list_slice_del(l, FSC_SLICE(M, FSC_NONE, 1)));
    }
  }
  st64(&arg->shm->count[id], ops);
  fsc_list_free(l);
  return 0;
}

START_TEST(test_set_vs_struct_region) {
  const char *path = tc_path("setregion");
  fsc_list *l = open_i64(path);
  for (uint64_t k = 0; k < RG_M; k++)
    ck_ok(fsc_list_append_i64(l, (int64_t)(k << 40)));
  struct shm *shm = shm_new();
  struct as_arg arg = {shm, path, RG_M};
  shm->running = RG_NSET;
  pid_t sp[RG_NSET];
  for (int i = 0; i < RG_NSET; i++)
    sp[i] = spawn(w_rg_setter, i, &arg);
  pid_t stp = spawn(w_rg_struct, 20, &arg);
  st(&shm->go, 1);
  for (int i = 0; i < RG_NSET; i++) {
    reap_ok(sp[i], "setter");
    __atomic_sub_fetch(&shm->running, 1, __ATOMIC_ACQ_REL);
  }
  reap_ok(stp, "structural worker");
  note("set_vs_struct_region: %llu structural ops",
       (unsigned long long)shm->count[20]);
  ck_assert_uint_gt(shm->count[20], 10);
  for (uint64_t k = 0; k < RG_M; k++) {
    int64_t got;
    ck_ok(fsc_list_get_i64(l, (int64_t)k, &got));
    ck_assert_msg(got == (int64_t)(k << 40 | shm->last[k]),
                  "element %llu holds %#llx, its owner's last write was "
                  "counter %llu", (unsigned long long)k,
                  (unsigned long long)got, (unsigned long long)shm->last[k]);
  }
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
  shm_free(shm);
}
END_TEST

/* Pairs under reverse: the list has 2P elements; pair p is the elements
 * at p and 2P-1-p, which reverse swaps.  Setter p % NSET writes
 * (p << 40 | counter) to one of them at random.  In the end the larger
 * counter of the pair must be the owner's last acknowledged one. */
#define PR_P 48

static int w_pr_setter(int id, void *a) {
  struct as_arg *arg = a;
  fsc_list *l = NULL;
  fsc_options o = opts_type(FSC_TYPE_INT64);
  COK(fsc_list_open(arg->path, &o, &l));
  uint64_t r = rnd_state((uint64_t)id + 2000), ctr[PR_P] = {0};
  const uint64_t N = 2 * PR_P;
  wait_go(arg->shm);
  for (int j = 0; j < RG_SETS || ld64(&arg->shm->count[20]) < 50; j++) {
    uint64_t p = (uint64_t)id + RG_NSET * (rnd(&r) % (PR_P / RG_NSET));
    uint64_t idx = (rnd(&r) & 1) ? p : N - 1 - p, c = ++ctr[p];
    COK(fsc_list_set_i64(l, (int64_t)idx, (int64_t)(p << 40 | c)));
    st64(&arg->shm->last[p], c);
    int64_t got;
    COK(fsc_list_get_i64(l, (int64_t)idx, &got));
    CREQ(((uint64_t)got >> 40) == p, "index %llu holds pair %llu, not %llu",
         (unsigned long long)idx, (unsigned long long)((uint64_t)got >> 40),
         (unsigned long long)p);
  }
  fsc_list_free(l);
  return 0;
}

static int w_pr_struct(int id, void *a) {
  struct as_arg *arg = a;
  fsc_list *l = NULL;
  fsc_options o = opts_type(FSC_TYPE_INT64);
  COK(fsc_list_open(arg->path, &o, &l));
  uint64_t ops = 0;
  wait_go(arg->shm);
  while (ld(&arg->shm->running) > 0) {
    COK(fsc_list_reverse(l));
    if (ops % 3 == 0) { /* an insert at the end, then pop it (in place) */
      fsc_value v = fsc_i64(SCRATCH), got;
      COK(fsc_list_insert(l, 2 * PR_P, &v));
      COK(fsc_list_pop(l, -1, &got));
      CREQ(got.u.i64 == SCRATCH, "popped %#llx",
           (unsigned long long)got.u.i64);
    }
    st64(&arg->shm->count[id], ++ops);
  }
  st64(&arg->shm->count[id], ops);
  fsc_list_free(l);
  return 0;
}

START_TEST(test_set_vs_reverse_pairs) {
  const char *path = tc_path("setpairs");
  fsc_list *l = open_i64(path);
  for (uint64_t i = 0; i < 2 * PR_P; i++) {
    uint64_t p = i < PR_P ? i : 2 * PR_P - 1 - i;
    ck_ok(fsc_list_append_i64(l, (int64_t)(p << 40)));
  }
  struct shm *shm = shm_new();
  struct as_arg arg = {shm, path, PR_P};
  shm->running = RG_NSET;
  pid_t sp[RG_NSET];
  for (int i = 0; i < RG_NSET; i++)
    sp[i] = spawn(w_pr_setter, i, &arg);
  pid_t stp = spawn(w_pr_struct, 20, &arg);
  st(&shm->go, 1);
  for (int i = 0; i < RG_NSET; i++) {
    reap_ok(sp[i], "setter");
    __atomic_sub_fetch(&shm->running, 1, __ATOMIC_ACQ_REL);
  }
  reap_ok(stp, "reversing worker");
  note("set_vs_reverse_pairs: %llu reverses",
       (unsigned long long)shm->count[20]);
  ck_assert_uint_gt(shm->count[20], 10);
  uint64_t n;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_uint_eq(n, 2 * PR_P);
  for (uint64_t p = 0; p < PR_P; p++) {
    int64_t a, b;
    ck_ok(fsc_list_get_i64(l, (int64_t)p, &a));
    ck_ok(fsc_list_get_i64(l, (int64_t)(2 * PR_P - 1 - p), &b));
    ck_assert_msg(((uint64_t)a >> 40) == p && ((uint64_t)b >> 40) == p,
                  "pair %llu: elements %#llx, %#llx", (unsigned long long)p,
                  (unsigned long long)a, (unsigned long long)b);
    uint64_t ca = (uint64_t)a & ((UINT64_C(1) << 40) - 1);
    uint64_t cb = (uint64_t)b & ((UINT64_C(1) << 40) - 1);
    uint64_t mx = ca > cb ? ca : cb;
    ck_assert_msg(mx == shm->last[p], "pair %llu: newest counter %llu, the "
                  "owner's last acknowledged write was %llu (lost)",
                  (unsigned long long)p, (unsigned long long)mx,
                  (unsigned long long)shm->last[p]);
  }
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
  shm_free(shm);
}
END_TEST

/* ------------------------------------------------------------------ */
/* SIGKILL in the middle                                               */
/* ------------------------------------------------------------------ */

#define KILL_ROUNDS 12
#define VICTIM_W 20 /* victims write as 20, 21, ... */

struct kill_arg {
  struct shm *shm;
  const char *path;
};

/* Survivors append until told to stop; acked[id] counts their appends. */
static int w_kill_append(int id, void *a) {
  struct kill_arg *arg = a;
  fsc_list *l = NULL;
  fsc_options o = opts_type(FSC_TYPE_INT64);
  COK(fsc_list_open(arg->path, &o, &l));
  wait_go(arg->shm);
  for (uint64_t s = 0; !ld(&arg->shm->stop); s++) {
    COK(fsc_list_append_i64(l, tok((unsigned)id, s)));
    st64(&arg->shm->acked[id], s + 1);
    if (s % 8 == 0)
      usleep(50); /* keep the list from growing without bound */
  }
  fsc_list_free(l);
  return 0;
}

/* A victim appends until killed; acked[id] counts acknowledged appends. */
static int w_victim_append(int id, void *a) {
  struct kill_arg *arg = a;
  fsc_list *l = NULL;
  fsc_options o = opts_type(FSC_TYPE_INT64);
  COK(fsc_list_open(arg->path, &o, &l));
  st64(&arg->shm->count[id], 1); /* ready */
  for (uint64_t s = 0;; s++) {
    COK(fsc_list_append_i64(l, tok((unsigned)id, s)));
    st64(&arg->shm->acked[id], s + 1);
  }
}

/* A victim doing structural changes until killed: its own tokens only go
 * in and out; it never removes anybody else's. */
static int w_victim_struct(int id, void *a) {
  struct kill_arg *arg = a;
  fsc_list *l = NULL;
  fsc_options o = opts_type(FSC_TYPE_INT64);
  COK(fsc_list_open(arg->path, &o, &l));
  st64(&arg->shm->count[id], 1); /* ready */
  for (uint64_t s = 0;; s += 2) {
    uint64_t n;
    COK(fsc_list_len(l, &n));
    fsc_value v = fsc_i64(tok((unsigned)id, s)), got;
    COK(fsc_list_insert(l, 0, &v));
    COK(fsc_list_pop(l, 0, &got));
    CREQ(got.u.i64 == v.u.i64, "pop(0) gave %#llx, inserted %#llx",
         (unsigned long long)got.u.i64, (unsigned long long)v.u.i64);
    v = fsc_i64(tok((unsigned)id, s + 1));
    COK(fsc_list_insert(l, (int64_t)(n / 2), &v));
    COK(fsc_list_pop(l, (int64_t)(n / 2), &got));
    CREQ(got.u.i64 == v.u.i64, "pop(n/2) gave %#llx, inserted %#llx",
         (unsigned long long)got.u.i64, (unsigned long long)v.u.i64);
    COK(fsc_list_reverse(l));
  }
}

/* The length word of a list, read from its index file's header
 * (doc/FORMAT.md: offset 64; bit 63 is FROZEN while a change runs). */
#define LW_OFFSET 64
#define LW_FROZEN (UINT64_C(1) << 63)
#define KILL_PRE 40000 /* elements before the victims start */
#define PRE_W 40

static const uint64_t *map_lenword(const char *base, void **map) {
  char p[600];
  snprintf(p, sizeof p, "%s.index.fscollection", base);
  int fd = open(p, O_RDONLY);
  ck_assert_msg(fd >= 0, "open %s: %s", p, strerror(errno));
  *map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  ck_assert_msg(*map != MAP_FAILED, "mmap: %s", strerror(errno));
  return (const uint64_t *)((const char *)*map + LW_OFFSET);
}

static void kill_test(worker_fn victim, bool victims_append) {
  const char *path = tc_path("killed");
  struct shm *shm = shm_new();
  struct kill_arg arg = {shm, path};
  fsc_list *l = open_i64(path);
  /* Enough elements that a structural change takes a while. */
  for (uint64_t s = 0; s < KILL_PRE; s++)
    ck_ok(fsc_list_append_i64(l, tok(PRE_W, s)));
  void *hmap;
  const uint64_t *lw = map_lenword(path, &hmap);
  pid_t ap[2];
  for (int i = 0; i < 2; i++)
    ap[i] = spawn(w_kill_append, i, &arg);
  st(&shm->go, 1);
  uint64_t r = rnd_state((uint64_t)getpid());
  int frozen_kills = 0, orphans = 0;
  for (int k = 0; k < KILL_ROUNDS; k++) {
    int id = VICTIM_W + k;
    pid_t v = spawn(victim, id, &arg);
    while (!ld64(&shm->count[id]))
      usleep(100);
    usleep((useconds_t)(1000 + rnd(&r) % 10000));
    if (!victims_append) {
      /* Kill it in the middle of a change: while the word is frozen. */
      for (long t = 0; t < 100000000 &&
                       !(__atomic_load_n(lw, __ATOMIC_ACQUIRE) & LW_FROZEN);
           t++)
        ;
      if (__atomic_load_n(lw, __ATOMIC_ACQUIRE) & LW_FROZEN)
        frozen_kills++;
    }
    kill_reap(v);
    if (__atomic_load_n(lw, __ATOMIC_ACQUIRE) & LW_FROZEN)
      orphans++; /* it died holding a change: others must finish it */
  }
  note("kill: %d kills while frozen, %d left an orphaned change",
       frozen_kills, orphans);
  if (!victims_append)
    ck_assert_msg(orphans > 0, "no victim died in the middle of a change "
                  "(%d kills while frozen): the test did not test", 
                  frozen_kills);
  /* The survivors keep going after the last kill: nobody was left
   * blocked by a dead process (they would die of SIGALRM if they hung). */
  uint64_t before = ld64(&shm->acked[0]) + ld64(&shm->acked[1]);
  for (int t = 0; t < 20000 &&
                  ld64(&shm->acked[0]) + ld64(&shm->acked[1]) < before + 200;
       t++)
    usleep(1000);
  ck_assert_msg(ld64(&shm->acked[0]) + ld64(&shm->acked[1]) >= before + 200,
                "the survivors made no progress after the kills (hang)");
  st(&shm->stop, 1);
  for (int i = 0; i < 2; i++)
    reap_ok(ap[i], "appender racing killed processes");
  uint64_t kacked[2] = {shm->acked[0], shm->acked[1]};
  {
    fsc_metrics km = {.size = sizeof km};
    ck_ok(fsc_list_metrics(l, &km));
    note("kill(%s): survivors appended %llu + %llu; length %llu, epoch "
         "%llu, repaired %llu", victims_append ? "appenders" : "structural",
         (unsigned long long)kacked[0], (unsigned long long)kacked[1],
         (unsigned long long)km.length,
         (unsigned long long)km.structural_epoch,
         (unsigned long long)km.repaired_items);
  }
  /* This handle keeps working too, structural changes included. */
  fsc_value x = fsc_i64(tok(30, 0)), got;
  ck_ok(fsc_list_insert(l, 0, &x));
  ck_ok(fsc_list_pop(l, 0, &got));
  ck_assert_int_eq(got.u.i64, x.u.i64);
  ck_ok(fsc_list_append_i64(l, tok(30, 1)));
  ck_ok(fsc_list_pop(l, -1, &got));
  ck_assert_int_eq(got.u.i64, tok(30, 1));
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);

  /* A fresh open: length = readable elements, every one decodes, the
   * survivors' tokens are all there once, victims' tokens at most once
   * (and every acknowledged victim append is there). */
  l = open_i64(path);
  uint64_t n;
  int64_t *v = read_all(l, &n);
  uint64_t kmax = kacked[0] > kacked[1] ? kacked[0] : kacked[1];
  uint8_t *seen = calloc(2 * kmax + 1, 1);
  uint8_t *pre_seen = calloc(KILL_PRE, 1);
  uint64_t nsurv = 0, npre = 0, *vcount = calloc(KILL_ROUNDS, sizeof *vcount);
  for (uint64_t i = 0; i < n; i++) {
    unsigned w = tok_w(v[i]);
    uint64_t s = tok_s(v[i]);
    if (w == PRE_W) {
      ck_assert_msg(tok_s(v[i]) < KILL_PRE && !pre_seen[tok_s(v[i])],
                    "initial element %llu duplicated or bogus",
                    (unsigned long long)tok_s(v[i]));
      pre_seen[tok_s(v[i])] = 1;
      npre++;
    } else if (w < 2) {
      ck_assert_msg(s < kacked[w] && !seen[w * kmax + s],
                    "survivor token (%u, %llu) duplicated or bogus", w,
                    (unsigned long long)s);
      seen[w * kmax + s] = 1;
      nsurv++;
    } else {
      ck_assert_msg(w >= VICTIM_W && w < VICTIM_W + KILL_ROUNDS,
                    "bogus element %#llx", (unsigned long long)v[i]);
      vcount[w - VICTIM_W]++;
    }
  }
  ck_assert_msg(npre == KILL_PRE, "%llu of %d initial elements present",
                (unsigned long long)npre, KILL_PRE);
  ck_assert_msg(nsurv == kacked[0] + kacked[1], "%llu of %llu survivor "
                "appends present", (unsigned long long)nsurv,
                (unsigned long long)(kacked[0] + kacked[1]));
  for (int k = 0; k < KILL_ROUNDS; k++) {
    uint64_t acked = shm->acked[VICTIM_W + k];
    if (victims_append)
      ck_assert_msg(vcount[k] == acked || vcount[k] == acked + 1,
                    "victim %d: %llu acknowledged appends, %llu present", k,
                    (unsigned long long)acked,
                    (unsigned long long)vcount[k]);
    else
      ck_assert_msg(vcount[k] <= 1, "victim %d left %llu elements", k,
                    (unsigned long long)vcount[k]);
  }
  if (victims_append) { /* and in order, no duplicates */
    int64_t last[KILL_ROUNDS];
    for (int k = 0; k < KILL_ROUNDS; k++)
      last[k] = -1;
    for (uint64_t i = 0; i < n; i++) {
      unsigned w = tok_w(v[i]);
      if (w < VICTIM_W || w == PRE_W)
        continue;
      ck_assert_msg((int64_t)tok_s(v[i]) == last[w - VICTIM_W] + 1,
                    "victim %u: token %llu after %lld", w,
                    (unsigned long long)tok_s(v[i]),
                    (long long)last[w - VICTIM_W]);
      last[w - VICTIM_W]++;
    }
  }
  munmap(hmap, 4096);
  free(pre_seen);
  free(seen);
  free(vcount);
  free(v);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
  shm_free(shm);
}

START_TEST(test_kill_appender) { kill_test(w_victim_append, true); }
END_TEST

START_TEST(test_kill_structural) { kill_test(w_victim_struct, false); }
END_TEST

/* ------------------------------------------------------------------ */
/* Threads sharing one handle                                          */
/* ------------------------------------------------------------------ */

#define TH_N 4
#define TH_K 20000

struct th_arg {
  fsc_list *l;
  int id;
  int *running;
  uint64_t *struct_ops; /* the structural thread's count, shared */
  int failed;
  uint64_t ops;
  char msg[256];
};

static void *th_append(void *a) {
  struct th_arg *t = a;
  for (uint64_t s = 0; s < TH_K; s++) {
    int rc = fsc_list_append_i64(t->l, tok((unsigned)t->id, s));
    if (s % 64 == 63)
      usleep(500); /* let the structural thread run meanwhile */
    if (rc) {
      snprintf(t->msg, sizeof t->msg, "append: %d %s", rc, fsc_errmsg());
      t->failed = 1;
      break;
    }
  }
  /* Stay until the structural thread has raced us a little, even if it
   * was scheduled late. */
  while (!t->failed && ld64(t->struct_ops) < 20)
    usleep(500);
  __atomic_sub_fetch(t->running, 1, __ATOMIC_ACQ_REL);
  return NULL;
}

static void *th_struct(void *a) {
  struct th_arg *t = a;
  uint64_t s = 0;
  while (ld(t->running) > 0) {
    uint64_t n;
    fsc_list_len(t->l, &n);
    fsc_value v = fsc_i64(tok(60, s++)), got;
    int64_t at = (s & 1) ? 0 : (int64_t)(n / 2);
    int rc = fsc_list_insert(t->l, at, &v);
    if (rc == 0)
      rc = fsc_list_pop(t->l, at, &got);
    if (rc == 0 && got.u.i64 != v.u.i64) {
      snprintf(t->msg, sizeof t->msg, "pop(%lld) gave %#llx, inserted "
               "%#llx", (long long)at, (unsigned long long)got.u.i64,
               (unsigned long long)v.u.i64);
      t->failed = 1;
      break;
    }
    if (rc) {
      snprintf(t->msg, sizeof t->msg, "insert/pop: %d %s", rc, fsc_errmsg());
      t->failed = 1;
      break;
    }
    st64(t->struct_ops, ++t->ops);
    /* Back-to-back changes in a tight loop starve the appenders (they
     * wait for the frozen word and lose every race for the lock): pace
     * them so the case runs in bounded time. */
    usleep(100);
  }
  if (t->failed) /* let the appenders finish */
    st64(t->struct_ops, UINT64_MAX);
  return NULL;
}

START_TEST(test_threads_one_handle) {
  fsc_list *l = open_i64(tc_path("threads"));
  pthread_t th[TH_N + 1];
  struct th_arg ta[TH_N + 1];
  int running = TH_N;
  uint64_t struct_ops = 0;
  memset(ta, 0, sizeof ta);
  for (int i = 0; i <= TH_N; i++) {
    ta[i].l = l;
    ta[i].id = i;
    ta[i].running = &running;
    ta[i].struct_ops = &struct_ops;
    ck_assert_int_eq(pthread_create(&th[i], NULL,
                                    i < TH_N ? th_append : th_struct,
                                    &ta[i]), 0);
  }
  for (int i = 0; i <= TH_N; i++) {
    pthread_join(th[i], NULL);
    ck_assert_msg(!ta[i].failed, "thread %d: %s", i, ta[i].msg);
  }
  note("threads: %llu insert/pop pairs", (unsigned long long)ta[TH_N].ops);
  ck_assert_uint_gt(ta[TH_N].ops, 0);
  check_tokens(l, TH_N, TH_K, true);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The open_processes metric                                           */
/* ------------------------------------------------------------------ */

struct hold_arg {
  const char *path;
  int ready_fd, release_fd;
};

static int w_hold(int id, void *a) {
  struct hold_arg *h = a;
  fsc_list *l = NULL;
  COK(fsc_list_open(h->path, NULL, &l));
  char c = 'r';
  CREQ(write(h->ready_fd, &c, 1) == 1, "write");
  CREQ(read(h->release_fd, &c, 1) == 1, "read");
  COK(fsc_list_close(l));
  fsc_list_free(l);
  return 0;
}

START_TEST(test_open_processes) {
  const char *path = tc_path("holders");
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(path, NULL, &l));
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_list_metrics(l, &m));
  ck_assert_uint_eq(m.open_processes, 1);
  int ready[2], release[2];
  ck_assert_int_eq(pipe(ready), 0);
  ck_assert_int_eq(pipe(release), 0);
  struct hold_arg h = {path, ready[1], release[0]};
  pid_t p[3];
  for (int i = 0; i < 3; i++)
    p[i] = spawn(w_hold, i, &h);
  for (int i = 0; i < 3; i++) {
    char c;
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
  }
  ck_ok(fsc_list_metrics(l, &m));
  ck_assert_msg(m.open_processes >= 4, "3 children and this process hold "
                "the list; open_processes is %u", m.open_processes);
  /* The header documents that the count, read from /proc/locks, may be
   * one off while other processes (other test programs run in parallel)
   * take and drop locks. */
  ck_assert_msg(m.open_processes <= 5, "open_processes is %u",
                m.open_processes);
  /* A second handle in this process is one more open description. */
  fsc_list *l2 = NULL;
  ck_ok(fsc_list_open(path, NULL, &l2));
  ck_ok(fsc_list_metrics(l2, &m));
  ck_assert_msg(m.open_processes >= 5 && m.open_processes <= 6,
                "open_processes is %u, want 5", m.open_processes);
  fsc_list_free(l2);
  char go[3] = {'g', 'g', 'g'};
  ck_assert_int_eq(write(release[1], go, 3), 3);
  for (int i = 0; i < 3; i++)
    reap_ok(p[i], "holder");
  ck_ok(fsc_list_metrics(l, &m));
  ck_assert_msg(m.open_processes <= 2, "open_processes is %u, want 1",
                m.open_processes);
  close(ready[0]);
  close(ready[1]);
  close(release[0]);
  close(release[1]);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

static TCase *tcase(Suite *s, const char *name) {
  TCase *tc = tcase_create(name);
  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  return tc;
}

static Suite *mp_suite(void) {
  Suite *s = suite_create("list_mp");
  TCase *tc = tcase(s, "appends");
  tcase_add_test(tc, test_append_by_path);
  tcase_add_test(tc, test_append_inherited_handle);
  tcase_add_test(tc, test_append_inherited_temp);
  tcase_add_test(tc, test_parent_closes_inherited_first);
  tcase_add_test(tc, test_open_processes);
  tcase_add_test(tc, test_read_record_beyond_view);
  tc = tcase(s, "threads");
  tcase_add_test(tc, test_threads_one_handle);
  tc = tcase(s, "reader");
  tcase_add_test(tc, test_reader_never_torn);
  tc = tcase(s, "structural");
  tcase_add_test(tc, test_struct_vs_append_all_ops);
  tcase_add_test(tc, test_struct_vs_append_two_structural);
  tc = tcase(s, "setters");
  tcase_add_test(tc, test_set_vs_struct_region);
  tcase_add_test(tc, test_set_vs_reverse_pairs);
  tc = tcase(s, "kill");
  tcase_add_test(tc, test_kill_appender);
  tcase_add_test(tc, test_kill_structural);
  return s;
}

int main(void) { return tc_run(mp_suite()); }
