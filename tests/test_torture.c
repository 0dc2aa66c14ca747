/*
 * test_torture.c - kill-anywhere torture: writer processes run mixed
 * operations on a list, a dict and a set that share a directory, and
 * report every operation to the parent through a pipe, once before it
 * starts (intent) and once after it returned (ack, with its result).  The
 * parent kills writers with SIGKILL at random moments, then reopens the
 * collections and checks them against a model built from the acks alone:
 *
 *  - every acknowledged write is there, every acknowledged delete is not;
 *  - the one operation a killed writer had in flight may or may not have
 *    happened (the check accepts either and adopts what it finds);
 *  - nothing is torn (every element decodes and has the writer's form),
 *    len agrees with iteration, and the collections keep working;
 *  - a writer that survives a kill of the other finishes its quota within
 *    a deadline: a kill while holding the structure lock blocks no one.
 *
 * Odd rounds kill every writer (no clean close: the next open recovers);
 * even rounds kill one and let the other finish (the survivor's close is
 * the last close).
 *
 * Half the list pops are fsc_list_pop_wait of the head or the tail (the
 * queue workload: a consumer killed while it waits or pops).
 *
 * FSC_TORTURE_ROUNDS sets the number of rounds (default 150; `make
 * torture` runs 3000) and FSC_TORTURE_SEED the seed.
 */
#include "check_common.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>

#define WRITERS 2
#define KEYS 400           /* dict keys and set elements per writer */
#define QUOTA 3000         /* operations of a writer per round */
#define SURVIVOR_DEADLINE 20.0

enum opk {
  OP_DSET, OP_DDEL, OP_INCR, OP_SADD, OP_SDISC, OP_LAPP, OP_LINS, OP_LPOP,
  OP_LSORT, OP_COMPACT
};

struct msg {
  uint32_t writer;
  uint32_t phase; /* 0 intent, 1 ack */
  uint32_t op;
  int32_t rc;
  int64_t a, b;   /* op arguments / results */
};

static char dir[512], lpath[600], dpath[600], spath[600];
static uint64_t seed;
static unsigned kills_mid_op[OP_COMPACT + 1];

static uint64_t rnd(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ */
/* The model                                                           */
/* ------------------------------------------------------------------ */

/* A small open-addressing set of list tokens (never 0). */
struct tokset {
  uint64_t *t;
  size_t cap, n;
};

static void ts_grow(struct tokset *s);
static bool ts_has(const struct tokset *s, uint64_t x) {
  if (!s->cap)
    return false;
  for (size_t i = x % s->cap;; i = (i + 1) % s->cap) {
    if (s->t[i] == x)
      return true;
    if (s->t[i] == 0)
      return false;
  }
}
static void ts_add(struct tokset *s, uint64_t x) {
  if ((s->n + 1) * 2 > s->cap)
    ts_grow(s);
  size_t i = x % s->cap;
  while (s->t[i] && s->t[i] != x)
    i = (i + 1) % s->cap;
  if (!s->t[i])
    s->n++;
  s->t[i] = x;
}
static void ts_del(struct tokset *s, uint64_t x) {
  size_t i = x % s->cap;
  while (s->t[i] != x) {
    if (!s->t[i])
      return;
    i = (i + 1) % s->cap;
  }
  /* Backward-shift deletion keeps every probe chain unbroken. */
  for (size_t j = (i + 1) % s->cap; s->t[j]; j = (j + 1) % s->cap) {
    size_t home = s->t[j] % s->cap;
    bool between = i <= j ? (home <= i || home > j) : (home <= i && home > j);
    if (between) {
      s->t[i] = s->t[j];
      i = j;
    }
  }
  s->t[i] = 0;
  s->n--;
}
static void ts_grow(struct tokset *s) {
  struct tokset o = *s;
  s->cap = o.cap ? o.cap * 2 : 1024;
  s->n = 0;
  s->t = calloc(s->cap, sizeof *s->t);
  for (size_t i = 0; i < o.cap; i++)
    if (o.t[i])
      ts_add(s, o.t[i]);
  free(o.t);
}

struct model {
  int64_t dval[WRITERS][KEYS]; /* -1: absent */
  bool sin[WRITERS][KEYS];
  int64_t ctr[WRITERS];
  struct tokset list;
  /* Tokens popped before the parent read their append's ack (the acks of
   * two writers come through two pipes, in no common order). */
  struct tokset early;
};

static struct model M;

/* What a writer had in flight when it died (its last intent unacked). */
struct inflight {
  bool any;
  struct msg m;
};

static void dkey(char *k, size_t n, unsigned w, int64_t i) {
  snprintf(k, n, "w%u-%04" PRId64, w, i);
}

/* ------------------------------------------------------------------ */
/* Writers                                                             */
/* ------------------------------------------------------------------ */

static void send_msg(int fd, const struct msg *m) {
  /* One write(2) of less than PIPE_BUF bytes is atomic. */
  while (write(fd, m, sizeof *m) < 0 && errno == EINTR)
    ;
}

static fsc_options opts(fsc_type t) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = t;
  return o;
}

static int writer(unsigned w, int round, int fd) {
  fsc_options ol = opts(FSC_TYPE_INT64), od = opts(FSC_TYPE_INT64),
              os = opts(FSC_TYPE_INT64);
  fsc_list *l;
  fsc_dict *d;
  fsc_set *s;
  if (fsc_list_open(lpath, &ol, &l) || fsc_dict_open(dpath, &od, &d) ||
      fsc_set_open(spath, &os, &s)) {
    fprintf(stderr, "writer %u: open: %s\n", w, fsc_errmsg());
    return 2;
  }
  uint64_t r = seed ^ ((uint64_t)round << 20) ^ (w + 1) * 0x9E3779B97F4A7C15u;
  char k[32];
  for (int i = 0; i < QUOTA; i++) {
    struct msg m = {.writer = w};
    unsigned x = (unsigned)(rnd(&r) % 100);
    int64_t key = (int64_t)(rnd(&r) % KEYS);
    /* A list token: unique over the whole run. */
    int64_t tok = ((int64_t)(round * WRITERS + w + 1) << 24) | i;
    m.op = x < 22   ? OP_DSET
           : x < 32 ? OP_DDEL
           : x < 40 ? OP_INCR
           : x < 52 ? OP_SADD
           : x < 58 ? OP_SDISC
           : x < 72 ? OP_LAPP
           : x < 78 ? OP_LINS
           : x < 96 ? OP_LPOP
           : x < 98 ? OP_LSORT
                    : OP_COMPACT;
    m.a = key;
    m.b = m.op == OP_DSET ? ((int64_t)round << 32 | i)
          : m.op == OP_LAPP || m.op == OP_LINS ? tok
                                                : 0;
    send_msg(fd, &m);
    int rc = 0;
    fsc_value v;
    uint64_t n;
    switch (m.op) {
    case OP_DSET:
      dkey(k, sizeof k, w, key);
      rc = fsc_dict_set_i64(d, k, m.b);
      break;
    case OP_DDEL:
      dkey(k, sizeof k, w, key);
      rc = fsc_dict_del_str(d, k);
      break;
    case OP_INCR:
      snprintf(k, sizeof k, "ctr%u", w);
      rc = fsc_dict_incr(d, k, strlen(k), 1, &m.b);
      break;
    case OP_SADD:
      rc = fsc_set_add_i64(s, (int64_t)w * 1000000 + key);
      break;
    case OP_SDISC:
      v = fsc_i64((int64_t)w * 1000000 + key);
      rc = fsc_set_discard(s, &v);
      break;
    case OP_LAPP:
      rc = fsc_list_append_i64(l, tok);
      break;
    case OP_LINS:
      fsc_list_len(l, &n);
      v = fsc_i64(tok);
      rc = fsc_list_insert(l, (int64_t)(rnd(&r) % (n + 1)), &v);
      break;
    case OP_LPOP:
      if (rnd(&r) & 1) { /* the queue workload: a blocking pop of an end */
        rc = fsc_list_pop_wait(l, (rnd(&r) & 1) ? 0 : -1, 1, &v);
        if (rc == FSC_ETIMEDOUT)
          rc = FSC_EINDEX; /* nothing popped, as pop on an empty list */
      } else {
        fsc_list_len(l, &n);
        rc = fsc_list_pop(l, n ? (int64_t)(rnd(&r) % n) : -1, &v);
      }
      if (rc == 0)
        m.b = v.u.i64;
      break;
    case OP_LSORT:
      rc = key % 2 ? fsc_list_sort(l, key % 4 == 1) : fsc_list_reverse(l);
      break;
    case OP_COMPACT: /* changes no content: the model stays */
      rc = key % 3 == 0   ? fsc_list_compact(l)
           : key % 3 == 1 ? fsc_dict_compact(d)
                          : fsc_set_compact(s);
      break;
    }
    m.phase = 1;
    m.rc = rc;
    send_msg(fd, &m);
    if (rc < 0 && rc != FSC_EKEY && rc != FSC_EINDEX) {
      fprintf(stderr, "writer %u op %u: %s (%s)\n", w, m.op,
              fsc_strerror(rc), fsc_errmsg());
      return 3;
    }
  }
  fsc_list_free(l);
  fsc_dict_free(d);
  fsc_set_free(s);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Applying acks, checking                                             */
/* ------------------------------------------------------------------ */

static void apply(const struct msg *m) {
  unsigned w = m->writer;
  switch (m->op) {
  case OP_DSET:
    ck_assert_int_eq(m->rc, 0);
    M.dval[w][m->a] = m->b;
    break;
  case OP_DDEL:
    ck_assert_msg((m->rc == 0) == (M.dval[w][m->a] >= 0),
                  "del w%u-%04" PRId64 " returned %d but the model says "
                  "%s: a write or a delete was lost",
                  w, m->a, m->rc, M.dval[w][m->a] >= 0 ? "present" : "absent");
    M.dval[w][m->a] = -1;
    break;
  case OP_INCR:
    ck_assert_int_eq(m->rc, 0);
    ck_assert_msg(m->b == M.ctr[w] + 1, "incr of ctr%u gave %" PRId64
                  ", the model says %" PRId64, w, m->b, M.ctr[w] + 1);
    M.ctr[w] = m->b;
    break;
  case OP_SADD:
    ck_assert_msg(m->rc == (M.sin[w][m->a] ? 0 : 1), "set add returned %d, "
                  "model says %s", m->rc, M.sin[w][m->a] ? "present" : "absent");
    M.sin[w][m->a] = true;
    break;
  case OP_SDISC:
    ck_assert_msg(m->rc == (M.sin[w][m->a] ? 1 : 0), "set discard returned "
                  "%d, model says %s", m->rc,
                  M.sin[w][m->a] ? "present" : "absent");
    M.sin[w][m->a] = false;
    break;
  case OP_LAPP:
  case OP_LINS:
    ck_assert_int_eq(m->rc, 0);
    if (ts_has(&M.early, (uint64_t)m->b))
      ts_del(&M.early, (uint64_t)m->b); /* popped already */
    else
      ts_add(&M.list, (uint64_t)m->b);
    break;
  case OP_LPOP:
    if (m->rc == 0) {
      ck_assert_msg(!ts_has(&M.early, (uint64_t)m->b), "token %" PRId64
                    " popped twice", m->b);
      if (ts_has(&M.list, (uint64_t)m->b))
        ts_del(&M.list, (uint64_t)m->b);
      else
        ts_add(&M.early, (uint64_t)m->b);
    }
    break;
  default:
    break;
  }
}

static void check_dict(const struct inflight *inf) {
  fsc_options o = opts(FSC_TYPE_INT64);
  fsc_dict *d;
  ck_ok(fsc_dict_open(dpath, &o, &d));
  char k[32];
  for (unsigned w = 0; w < WRITERS; w++) {
    for (int64_t i = 0; i < KEYS; i++) {
      int64_t v = -1;
      dkey(k, sizeof k, w, i);
      int rc = fsc_dict_get_i64(d, k, &v);
      ck_assert_msg(rc == 0 || rc == FSC_EKEY, "get %s: %d %s", k, rc,
                    fsc_errmsg());
      if (rc == FSC_EKEY)
        v = -1;
      if (v == M.dval[w][i])
        continue;
      const struct msg *m = &inf[w].m;
      bool maybe = inf[w].any && m->a == i &&
                   ((m->op == OP_DSET && v == m->b) ||
                    (m->op == OP_DDEL && v == -1));
      ck_assert_msg(maybe, "%s is %" PRId64 ", the acknowledged state is %"
                    PRId64 " (lost or phantom write)", k, v, M.dval[w][i]);
      M.dval[w][i] = v; /* the in-flight op happened */
    }
    int64_t c = 0;
    snprintf(k, sizeof k, "ctr%u", w);
    int rc = fsc_dict_get_i64(d, k, &c);
    ck_assert(rc == 0 || rc == FSC_EKEY);
    if (c != M.ctr[w]) {
      ck_assert_msg(inf[w].any && inf[w].m.op == OP_INCR &&
                    c == M.ctr[w] + 1, "ctr%u is %" PRId64 ", acknowledged %"
                    PRId64, w, c, M.ctr[w]);
      M.ctr[w] = c;
    }
  }
  /* len agrees with iteration, and every item has the writers' form. */
  uint64_t n = 0, len;
  fsc_dict_iter it;
  fsc_value kk, vv;
  int rc;
  ck_ok(fsc_dict_iter_init(d, &it));
  while ((rc = fsc_dict_iter_next(&it, &kk, &vv)) == 1) {
    ck_assert(vv.type == FSC_TYPE_INT64);
    ck_assert(kk.u.buf.len > 0 && ((const char *)kk.u.buf.ptr)[0] != 0);
    n++;
  }
  ck_assert_int_eq(rc, 0);
  ck_ok(fsc_dict_len(d, &len));
  ck_assert_msg(len == n, "dict len %" PRIu64 " but iteration yields %"
                PRIu64, len, n);
  /* Still usable. */
  ck_ok(fsc_dict_set_i64(d, "probe", 1));
  ck_ok(fsc_dict_del_str(d, "probe"));
  fsc_dict_free(d);
}

static void check_set(const struct inflight *inf) {
  fsc_options o = opts(FSC_TYPE_INT64);
  fsc_set *s;
  ck_ok(fsc_set_open(spath, &o, &s));
  uint64_t n = 0, want = 0, len;
  for (unsigned w = 0; w < WRITERS; w++) {
    for (int64_t i = 0; i < KEYS; i++) {
      int in = fsc_set_contains_i64(s, (int64_t)w * 1000000 + i);
      ck_assert(in == 0 || in == 1);
      if ((bool)in != M.sin[w][i]) {
        const struct msg *m = &inf[w].m;
        ck_assert_msg(inf[w].any && m->a == i &&
                      ((m->op == OP_SADD && in) ||
                       (m->op == OP_SDISC && !in)),
                      "set element %u/%" PRId64 " is %s, acknowledged %s", w,
                      i, in ? "in" : "out", M.sin[w][i] ? "in" : "out");
        M.sin[w][i] = in;
      }
      want += M.sin[w][i];
    }
  }
  fsc_set_iter it;
  fsc_value v;
  int rc;
  ck_ok(fsc_set_iter_init(s, &it));
  while ((rc = fsc_set_iter_next(&it, &v)) == 1) {
    ck_assert(v.type == FSC_TYPE_INT64);
    n++;
  }
  ck_assert_int_eq(rc, 0);
  ck_ok(fsc_set_len(s, &len));
  ck_assert_msg(n == want && len == want, "set: iteration %" PRIu64
                ", len %" PRIu64 ", model %" PRIu64, n, len, want);
  fsc_set_free(s);
}

static void check_list(const struct inflight *inf) {
  fsc_options o = opts(FSC_TYPE_INT64);
  fsc_list *l;
  ck_ok(fsc_list_open(lpath, &o, &l));
  uint64_t len;
  ck_ok(fsc_list_len(l, &len));
  struct tokset seen = {0};
  int extra = 0, pops = 0;
  for (unsigned w = 0; w < WRITERS; w++)
    pops += inf[w].any && inf[w].m.op == OP_LPOP;
  fsc_list_iter it;
  fsc_value v;
  int rc;
  uint64_t n = 0;
  ck_ok(fsc_list_iter_init(l, &it));
  while ((rc = fsc_list_iter_next(&it, &v)) == 1) {
    ck_assert(v.type == FSC_TYPE_INT64 && v.u.i64 > 0);
    uint64_t t = (uint64_t)v.u.i64;
    ck_assert_msg(!ts_has(&seen, t), "token %" PRIx64 " is in the list "
                  "twice", t);
    ts_add(&seen, t);
    n++;
    if (!ts_has(&M.list, t)) {
      /* Only an in-flight append or insert may add an unacked token. */
      bool ok = false;
      for (unsigned w = 0; w < WRITERS; w++)
        ok |= inf[w].any && (inf[w].m.op == OP_LAPP ||
                             inf[w].m.op == OP_LINS) &&
              (uint64_t)inf[w].m.b == t;
      ck_assert_msg(ok, "token %" PRIx64 " in the list was never "
                    "appended (phantom)", t);
      extra++;
    }
  }
  ck_assert_int_eq(rc, 0);
  ck_assert_msg(len == n, "list len %" PRIu64 " but iteration yields %"
                PRIu64, len, n);
  /* Every acknowledged token is there, but for what in-flight pops took. */
  uint64_t missing = 0;
  for (size_t i = 0; i < M.list.cap; i++)
    if (M.list.t[i] && !ts_has(&seen, M.list.t[i]))
      missing++;
  uint64_t lost_tok = 0;
  for (size_t i = 0; i < M.list.cap; i++)
    if (M.list.t[i] && !ts_has(&seen, M.list.t[i]))
      lost_tok = M.list.t[i];
  ck_assert_msg(missing <= (uint64_t)pops, "%" PRIu64 " acknowledged list "
                "elements are lost (in-flight pops: %d; e.g. token %" PRIx64
                "; in flight: %u/%u)", missing, pops, lost_tok,
                inf[0].any ? inf[0].m.op : 99, inf[1].any ? inf[1].m.op : 99);
  free(M.list.t);
  M.list = seen; /* adopt: the in-flight ops resolved as found */
  (void)extra;
  ck_ok(fsc_list_append_i64(l, 1));
  fsc_value x;
  ck_ok(fsc_list_pop(l, -1, &x));
  ck_assert(x.u.i64 == 1);
  fsc_list_free(l);
}

/* ------------------------------------------------------------------ */
/* A round                                                             */
/* ------------------------------------------------------------------ */

/* Read what is in the pipe; returns false at EOF. */
static bool drain(int fd, struct inflight *inf, struct msg *buf,
                  size_t *have) {
  ssize_t got = read(fd, (char *)buf + *have, sizeof *buf - *have);
  if (got <= 0)
    return got < 0 && errno == EINTR;
  *have += (size_t)got;
  if (*have == sizeof *buf) {
    *have = 0;
    static FILE *log;
    if (!log && getenv("FSC_TORTURE_LOG"))
      log = fopen(getenv("FSC_TORTURE_LOG"), "w");
    if (log)
      fprintf(log, "w%u ph%u op%u rc%d a%" PRId64 " b%" PRId64 "\n",
              buf->writer, buf->phase, buf->op, buf->rc, buf->a, buf->b);
    ck_assert(buf->writer < WRITERS);
    if (buf->phase == 0) {
      inf[buf->writer].any = true;
      inf[buf->writer].m = *buf;
    } else {
      apply(buf);
      inf[buf->writer].any = false;
    }
  }
  return true;
}

static void one_round(int round, uint64_t *rs) {
  int fds[WRITERS][2];
  pid_t pid[WRITERS];
  for (unsigned w = 0; w < WRITERS; w++) {
    ck_assert_int_eq(pipe(fds[w]), 0);
    pid[w] = fork();
    ck_assert(pid[w] >= 0);
    if (pid[w] == 0) {
      for (unsigned u = 0; u <= w; u++)
        close(fds[u][0]);
      _exit(writer(w, round, fds[w][1]));
    }
    close(fds[w][1]);
  }
  bool kill_all = round % 2 == 1;
  unsigned victim = (unsigned)(rnd(rs) % WRITERS);
  double kill_at = now() + (double)(rnd(rs) % 15000) / 1e6;
  if (getenv("FSC_TORTURE_NOKILL"))
    kill_at = now() + 1e9;
  bool killed[WRITERS] = {false}, open_fd[WRITERS];
  struct inflight inf[WRITERS] = {{0}};
  struct msg buf[WRITERS];
  size_t have[WRITERS] = {0};
  for (unsigned w = 0; w < WRITERS; w++)
    open_fd[w] = true;
  double deadline = now() + SURVIVOR_DEADLINE;
  for (;;) {
    bool any = false;
    for (unsigned w = 0; w < WRITERS; w++)
      any |= open_fd[w];
    if (!any)
      break;
    if (now() >= kill_at) {
      for (unsigned w = 0; w < WRITERS; w++)
        if ((kill_all || w == victim) && !killed[w]) {
          kill(pid[w], SIGKILL);
          killed[w] = true;
        }
    }
    ck_assert_msg(now() < deadline, "round %d: a writer did not finish "
                  "within %.0f s after the other was killed: blocked", round,
                  SURVIVOR_DEADLINE);
    struct pollfd p[WRITERS];
    for (unsigned w = 0; w < WRITERS; w++) {
      p[w].fd = open_fd[w] ? fds[w][0] : -1;
      p[w].events = POLLIN;
    }
    poll(p, WRITERS, 1);
    for (unsigned w = 0; w < WRITERS; w++)
      if (open_fd[w] && (p[w].revents & (POLLIN | POLLHUP)))
        if (!drain(fds[w][0], inf, &buf[w], &have[w])) {
          open_fd[w] = false;
          close(fds[w][0]);
        }
  }
  for (unsigned w = 0; w < WRITERS; w++) {
    int st;
    ck_assert_int_eq(waitpid(pid[w], &st, 0), pid[w]);
    ck_assert_msg(WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) == 0),
                  "round %d writer %u failed (status %d)", round, w, st);
    if (WIFEXITED(st))
      inf[w].any = false; /* finished its quota: nothing in flight */
    else if (inf[w].any)
      kills_mid_op[inf[w].m.op]++;
  }
  /* A token popped early whose append was never acknowledged: only the
   * in-flight append of a killed writer may be that. */
  for (size_t i = 0; i < M.early.cap; i++) {
    uint64_t t = M.early.t[i];
    if (!t)
      continue;
    bool ok = false;
    for (unsigned w = 0; w < WRITERS; w++)
      ok |= inf[w].any && (inf[w].m.op == OP_LAPP ||
                           inf[w].m.op == OP_LINS) &&
            (uint64_t)inf[w].m.b == t;
    ck_assert_msg(ok, "round %d: token %" PRIx64 " was popped but never "
                  "appended", round, t);
  }
  free(M.early.t);
  memset(&M.early, 0, sizeof M.early);
  if (getenv("FSC_TORTURE_DEBUG")) {
    fsc_metrics m = {.size = sizeof m};
    fsc_set *s;
    fsc_dict *d;
    fsc_list *l;
    fsc_options o = opts(FSC_TYPE_INT64);
    fsc_set_open(spath, &o, &s);
    fsc_set_metrics(s, &m);
    fprintf(stderr, "round %d kill_all %d: set clean %d repaired %llu; ",
            round, kill_all, m.last_close_clean,
            (unsigned long long)m.repaired_items);
    fsc_set_free(s);
    fsc_dict_open(dpath, &o, &d);
    fsc_dict_metrics(d, &m);
    fprintf(stderr, "dict clean %d repaired %llu; ", m.last_close_clean,
            (unsigned long long)m.repaired_items);
    fsc_dict_free(d);
    fsc_list_open(lpath, &o, &l);
    fsc_list_metrics(l, &m);
    fprintf(stderr, "list clean %d repaired %llu\n", m.last_close_clean,
            (unsigned long long)m.repaired_items);
    fsc_list_free(l);
  }
  check_dict(inf);
  check_set(inf);
  check_list(inf);
}

START_TEST(test_torture) {
  const char *r = getenv("FSC_TORTURE_ROUNDS");
  const char *sd = getenv("FSC_TORTURE_SEED");
  int rounds = r ? atoi(r) : 150;
  seed = sd ? strtoull(sd, NULL, 0) : (uint64_t)time(NULL);
  if (!seed)
    seed = 1;
  fprintf(stderr, "torture: %d rounds, FSC_TORTURE_SEED=%" PRIu64 "\n",
          rounds, seed);
  snprintf(dir, sizeof dir, "%s", tc_dir());
  snprintf(lpath, sizeof lpath, "%s/list", dir);
  snprintf(dpath, sizeof dpath, "%s/dict", dir);
  snprintf(spath, sizeof spath, "%s/set", dir);
  for (unsigned w = 0; w < WRITERS; w++)
    for (int i = 0; i < KEYS; i++)
      M.dval[w][i] = -1;
  uint64_t rs = seed * 2654435761u + 1;
  double t0 = now();
  for (int round = 0; round < rounds; round++)
    one_round(round, &rs);
  unsigned mid = 0;
  for (int i = 0; i <= OP_COMPACT; i++)
    mid += kills_mid_op[i];
  fprintf(stderr, "torture: %d rounds in %.1f s; %u kills inside an "
          "operation (dict set %u, del %u, incr %u; set add %u, discard %u; "
          "list append %u, insert %u, pop %u, sort/reverse %u; compact "
          "%u)\n", rounds,
          now() - t0, mid, kills_mid_op[OP_DSET], kills_mid_op[OP_DDEL],
          kills_mid_op[OP_INCR], kills_mid_op[OP_SADD], kills_mid_op[OP_SDISC],
          kills_mid_op[OP_LAPP], kills_mid_op[OP_LINS], kills_mid_op[OP_LPOP],
          kills_mid_op[OP_LSORT], kills_mid_op[OP_COMPACT]);
  ck_assert_msg(mid >= (unsigned)rounds / 4, "only %u of %d rounds killed "
                "a writer inside an operation", mid, rounds);
  tc_rm(lpath);
  tc_rm(dpath);
  tc_rm(spath);
  rmdir(dir);
}
END_TEST

int main(void) {
  Suite *s = suite_create("torture");
  TCase *tc = tcase_create("kill");
  tcase_set_timeout(tc, 3600);
  tcase_add_test(tc, test_torture);
  suite_add_tcase(s, tc);
  return tc_run(s);
}
