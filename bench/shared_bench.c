/* SPDX-License-Identifier: MIT */
/*
 * shared_bench.c - shared state for worker processes against its peers,
 * all measured in the same run:
 *
 *  1. incr: one counter incremented by 1, 2 and 4 processes:
 *     fsc_dict_incr and fsc_list_incr (in place) against a plain atomic add
 *     in private memory (the floor), an atomic add in a shared mapping, a
 *     process-shared pthread mutex around a counter in a shared mapping,
 *     Redis INCR over a unix socket, and (when built with LMDB) an LMDB
 *     read-modify-write transaction;
 *  2. ping-pong: two processes hand one item back and forth; the hand-off
 *     latency (half a round trip) p50/p99/max: fsc_list_pop_wait against a
 *     pipe and Redis BLPOP;
 *  3. queue: 2 producers and 2 consumers move items: fsc append +
 *     fsc_list_pop_wait against a pipe and Redis RPUSH/BLPOP.
 *
 * Redis is spoken to in its protocol (RESP) directly, so no client
 * library is needed; it is skipped if redis-server is not on PATH (or
 * $REDIS_SERVER).
 *
 *   shared_bench [-q] [-n N] [-d DIR] [-t FILE.tsv]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fscollections.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef BENCH_HAVE_LMDB
#include <lmdb.h>
#endif

static char g_dir[512];
static FILE *g_tsv;
static char g_sock[600];
static pid_t g_redis;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "shared_bench: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static void *shm(size_t n) {
  void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                 -1, 0);
  if (p == MAP_FAILED)
    die("mmap: %s", strerror(errno));
  memset(p, 0, n);
  return p;
}

static void path(char *out, size_t n, const char *name) {
  snprintf(out, n, "%s/%s", g_dir, name);
}

/* ------------------------------------------------------------------ */
/* A minimal Redis client (RESP over a unix socket)                    */
/* ------------------------------------------------------------------ */

struct rc {
  int fd;
  char buf[4096];
  size_t len, pos;
};

static int rc_connect(struct rc *r) {
  r->len = r->pos = 0;
  r->fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  snprintf(a.sun_path, sizeof a.sun_path, "%.100s", g_sock);
  if (connect(r->fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(r->fd);
    return -1;
  }
  return 0;
}

static void rc_send(struct rc *r, int argc, const char **argv) {
  char out[512];
  int n = snprintf(out, sizeof out, "*%d\r\n", argc);
  for (int i = 0; i < argc; i++)
    n += snprintf(out + n, sizeof out - (size_t)n, "$%zu\r\n%s\r\n",
                  strlen(argv[i]), argv[i]);
  if (write(r->fd, out, (size_t)n) != n)
    die("redis write: %s", strerror(errno));
}

static int rc_getc(struct rc *r) {
  if (r->pos == r->len) {
    ssize_t k = read(r->fd, r->buf, sizeof r->buf);
    if (k <= 0)
      die("redis read: %s", k ? strerror(errno) : "EOF");
    r->len = (size_t)k;
    r->pos = 0;
  }
  return (unsigned char)r->buf[r->pos++];
}

static void rc_line(struct rc *r, char *line, size_t n) {
  size_t i = 0;
  for (;;) {
    int ch = rc_getc(r);
    if (ch == '\r') {
      rc_getc(r);
      break;
    }
    if (i + 1 < n)
      line[i++] = (char)ch;
  }
  line[i] = 0;
}

/* Read one reply; an integer or the last bulk string's value in *v. */
static void rc_reply(struct rc *r, long long *v) {
  char line[256];
  rc_line(r, line, sizeof line);
  switch (line[0]) {
  case ':':
    *v = atoll(line + 1);
    return;
  case '+':
    return;
  case '$': {
    long long n = atoll(line + 1);
    if (n < 0)
      return;
    char val[256];
    size_t i = 0;
    for (long long k = 0; k < n + 2; k++) {
      int ch = rc_getc(r);
      if (k < n && i + 1 < sizeof val)
        val[i++] = (char)ch;
    }
    val[i] = 0;
    *v = atoll(val);
    return;
  }
  case '*': {
    long long n = atoll(line + 1);
    for (long long k = 0; k < n; k++)
      rc_reply(r, v);
    return;
  }
  default:
    die("redis: %s", line);
  }
}

static long long rc_cmd(struct rc *r, int argc, const char **argv) {
  long long v = 0;
  rc_send(r, argc, argv);
  rc_reply(r, &v);
  return v;
}

static bool redis_start(void) {
  path(g_sock, sizeof g_sock, "r.sock");
  const char *bin = getenv("REDIS_SERVER");
  if (!bin || !*bin)
    bin = "redis-server";
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open("/dev/null", O_WRONLY);
    dup2(fd, 1);
    dup2(fd, 2);
    execlp(bin, "redis-server", "--port", "0", "--unixsocket", g_sock,
           "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
           "--dir", g_dir, "--daemonize", "no", (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 500; i++) {
    struct rc r;
    if (rc_connect(&r) == 0) {
      close(r.fd);
      g_redis = pid;
      return true;
    }
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid)
      return false;
    usleep(10000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return false;
}

static void redis_stop(void) {
  if (g_redis > 0) {
    kill(g_redis, SIGTERM);
    waitpid(g_redis, NULL, 0);
    g_redis = 0;
  }
}

/* ------------------------------------------------------------------ */
/* 1. incr                                                             */
/* ------------------------------------------------------------------ */

enum eng { E_PRIVATE, E_SHM_ATOMIC, E_MUTEX, E_FSC_DICT, E_FSC_LIST,
           E_REDIS, E_LMDB, E_N };
static const char *eng_name[E_N] = {
    "atomic add, private memory", "atomic add, shared mapping",
    "pthread mutex, shared mapping", "fsc_dict_incr", "fsc_list_incr",
    "Redis INCR (unix socket)", "LMDB read-modify-write txn"};

struct shared_ctr {
  pthread_mutex_t mu;
  uint64_t counter;
  uint64_t loop_ns[8]; /* each child's loop alone (not its open/close) */
};

static uint64_t g_t0, g_loop; /* this child's loop start, its time */

static void incr_child(enum eng e, struct shared_ctr *sc, uint64_t n) {
  g_t0 = now_ns();
  switch (e) {
  case E_PRIVATE: {
    uint64_t *mine = malloc(64);
    *mine = 0;
    for (uint64_t i = 0; i < n; i++)
      __atomic_fetch_add(mine, 1, __ATOMIC_SEQ_CST);
    if (*mine != n)
      _exit(2);
    free(mine);
    break;
  }
  case E_SHM_ATOMIC:
    for (uint64_t i = 0; i < n; i++)
      __atomic_fetch_add(&sc->counter, 1, __ATOMIC_SEQ_CST);
    break;
  case E_MUTEX:
    for (uint64_t i = 0; i < n; i++) {
      pthread_mutex_lock(&sc->mu);
      sc->counter++;
      pthread_mutex_unlock(&sc->mu);
    }
    break;
  case E_FSC_DICT: {
    char p[600];
    path(p, sizeof p, "ctr_dict");
    fsc_options o = FSC_OPTIONS_INIT;
    o.type = FSC_TYPE_INT64;
    fsc_dict *d;
    if (fsc_dict_open(p, &o, &d))
      _exit(3);
    g_t0 = now_ns();
    for (uint64_t i = 0; i < n; i++)
      if (fsc_dict_incr(d, "hits", 4, 1, NULL))
        _exit(4);
    g_loop = now_ns() - g_t0;
    g_t0 = 0;
    fsc_dict_close(d);
    fsc_dict_free(d);
    break;
  }
  case E_FSC_LIST: {
    char p[600];
    path(p, sizeof p, "ctr_list");
    fsc_options o = FSC_OPTIONS_INIT;
    o.type = FSC_TYPE_INT64;
    fsc_list *l;
    if (fsc_list_open(p, &o, &l))
      _exit(3);
    g_t0 = now_ns();
    for (uint64_t i = 0; i < n; i++)
      if (fsc_list_incr(l, 0, 1, NULL))
        _exit(4);
    g_loop = now_ns() - g_t0;
    g_t0 = 0;
    fsc_list_close(l);
    fsc_list_free(l);
    break;
  }
  case E_REDIS: {
    struct rc r;
    if (rc_connect(&r))
      _exit(5);
    const char *argv[] = {"INCR", "hits"};
    g_t0 = now_ns();
    for (uint64_t i = 0; i < n; i++)
      rc_cmd(&r, 2, argv);
    close(r.fd);
    break;
  }
  case E_LMDB: {
#ifdef BENCH_HAVE_LMDB
    char p[600];
    path(p, sizeof p, "lmdb");
    MDB_env *env;
    MDB_dbi dbi;
    if (mdb_env_create(&env) || mdb_env_open(env, p, MDB_NOSUBDIR |
                                             MDB_NOSYNC, 0600))
      _exit(6);
    for (uint64_t i = 0; i < n; i++) {
      MDB_txn *t;
      mdb_txn_begin(env, NULL, 0, &t);
      mdb_dbi_open(t, NULL, 0, &dbi);
      MDB_val k = {4, "hits"}, v;
      uint64_t x = 0;
      if (mdb_get(t, dbi, &k, &v) == 0)
        memcpy(&x, v.mv_data, 8);
      x++;
      v.mv_size = 8;
      v.mv_data = &x;
      mdb_put(t, dbi, &k, &v, 0);
      mdb_txn_commit(t);
    }
    mdb_env_close(env);
#endif
    break;
  }
  default:
    break;
  }
}

/* ns per increment seen by one process (wall time / n), and the total. */
static double incr_run(enum eng e, int procs, uint64_t n, uint64_t *total) {
  struct shared_ctr *sc = shm(sizeof *sc);
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutex_init(&sc->mu, &a);
  /* Set up: the counter exists (and is a counter record). */
  char p[600];
  if (e == E_FSC_DICT) {
    path(p, sizeof p, "ctr_dict");
    fsc_options o = FSC_OPTIONS_INIT;
    o.type = FSC_TYPE_INT64;
    fsc_dict *d;
    if (fsc_dict_open(p, &o, &d) || fsc_dict_clear(d) ||
        fsc_dict_incr(d, "hits", 4, 0, NULL))
      die("dict: %s", fsc_errmsg());
    fsc_dict_close(d);
    fsc_dict_free(d);
  } else if (e == E_FSC_LIST) {
    path(p, sizeof p, "ctr_list");
    fsc_options o = FSC_OPTIONS_INIT;
    o.type = FSC_TYPE_INT64;
    fsc_list *l;
    if (fsc_list_open(p, &o, &l) || fsc_list_clear(l) ||
        fsc_list_append_i64(l, 0) || fsc_list_incr(l, 0, 0, NULL))
      die("list: %s", fsc_errmsg());
    fsc_list_close(l);
    fsc_list_free(l);
  } else if (e == E_REDIS) {
    struct rc r;
    if (rc_connect(&r))
      die("redis connect");
    const char *argv[] = {"DEL", "hits"};
    rc_cmd(&r, 2, argv);
    close(r.fd);
  }
  int go[2];
  if (pipe(go))
    die("pipe");
  pid_t pids[8];
  for (int i = 0; i < procs; i++) {
    if ((pids[i] = fork()) == 0) {
      close(go[1]);
      char c;
      if (read(go[0], &c, 1) < 0)
        _exit(1);
      incr_child(e, sc, n);
      /* The loop's time: the engines that open files time it themselves
       * (g_loop), the others from the start. */
      uint64_t t = g_t0 ? now_ns() - g_t0 : g_loop;
      __atomic_store_n(&sc->loop_ns[i], t, __ATOMIC_SEQ_CST);
      _exit(0);
    }
  }
  close(go[0]);
  uint64_t t0 = now_ns();
  close(go[1]);
  for (int i = 0; i < procs; i++) {
    int st;
    waitpid(pids[i], &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st))
      die("%s: a child failed", eng_name[e]);
  }
  uint64_t dt = now_ns() - t0;
  (void)dt;
  dt = 0; /* the slowest child's loop */
  for (int i = 0; i < procs; i++)
    if (sc->loop_ns[i] > dt)
      dt = sc->loop_ns[i];
  *total = n * (uint64_t)procs;
  /* Check the total where there is one to check. */
  uint64_t got = *total;
  if (e == E_SHM_ATOMIC || e == E_MUTEX)
    got = sc->counter;
  if (e == E_FSC_DICT) {
    fsc_options o = FSC_OPTIONS_INIT;
    o.type = FSC_TYPE_INT64;
    fsc_dict *d;
    int64_t v = 0;
    if (fsc_dict_open(p, &o, &d) == 0) {
      fsc_dict_get_i64(d, "hits", &v);
      fsc_dict_close(d);
      fsc_dict_free(d);
    }
    got = (uint64_t)v;
  }
  if (e == E_FSC_LIST) {
    fsc_options o = FSC_OPTIONS_INIT;
    o.type = FSC_TYPE_INT64;
    fsc_list *l;
    int64_t v = 0;
    if (fsc_list_open(p, &o, &l) == 0) {
      fsc_list_get_i64(l, 0, &v);
      fsc_list_close(l);
      fsc_list_free(l);
    }
    got = (uint64_t)v;
  }
  if (got != *total)
    die("%s: total %llu, want %llu", eng_name[e], (unsigned long long)got,
        (unsigned long long)*total);
  munmap(sc, sizeof *sc);
  return (double)dt / (double)n;
}

static void part_incr(uint64_t n, bool redis) {
  printf("\n1. one counter incremented by P processes, %llu increments "
         "each: wall ns per increment per process (lower is better), "
         "and total increments/s\n", (unsigned long long)n);
  int ps[] = {1, 2, 4};
  for (int pi = 0; pi < 3; pi++) {
    int P = ps[pi];
    double base = 0, fsc_ns = 0;
    printf("  P = %d\n", P);
    for (int e = 0; e < E_N; e++) {
      if (e == E_REDIS && !redis)
        continue;
#ifndef BENCH_HAVE_LMDB
      if (e == E_LMDB)
        continue;
#endif
      uint64_t nn = e == E_REDIS || e == E_LMDB ? n / 10 : n;
      uint64_t total;
      double ns = incr_run((enum eng)e, P, nn, &total);
      if (e == E_PRIVATE)
        base = ns;
      if (e == E_FSC_DICT)
        fsc_ns = ns;
      double per_s = (double)P * 1e9 / ns;
      printf("    %-32s %9.1f ns  %12.0f incr/s  %6.2fx the private "
             "atomic add\n", eng_name[e], ns, per_s,
             base > 0 ? ns / base : 1.0);
      if (fsc_ns > 0 && e > E_FSC_DICT)
        printf("    %-32s %9s    (%.2fx fsc_dict_incr's time)\n", "", "",
               ns / fsc_ns);
      if (g_tsv)
        fprintf(g_tsv, "incr_p%d\t%s\t%.1f\t%.3f\n", P, eng_name[e], ns,
                base > 0 ? ns / base : 1.0);
    }
  }
}

/* ------------------------------------------------------------------ */
/* 2. ping-pong                                                        */
/* ------------------------------------------------------------------ */

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

enum pp { PP_FSC, PP_PIPE, PP_REDIS };
static const char *pp_name[] = {"fsc_list_pop_wait", "pipe",
                                "Redis BLPOP (unix socket)"};

struct ppch {
  fsc_list *in, *out;
  int rfd, wfd;
  struct rc r;
  const char *inkey, *outkey;
};

static void pp_open(enum pp k, struct ppch *c, bool side_a, int *pa, int *pb) {
  if (k == PP_FSC) {
    char p1[600], p2[600];
    path(p1, sizeof p1, "ping");
    path(p2, sizeof p2, "pong");
    fsc_options o = FSC_OPTIONS_INIT;
    o.type = FSC_TYPE_INT64;
    fsc_list *a, *b;
    if (fsc_list_open(p1, &o, &a) || fsc_list_open(p2, &o, &b))
      die("open: %s", fsc_errmsg());
    c->out = side_a ? a : b;
    c->in = side_a ? b : a;
  } else if (k == PP_PIPE) {
    c->wfd = side_a ? pa[1] : pb[1];
    c->rfd = side_a ? pb[0] : pa[0];
  } else {
    if (rc_connect(&c->r))
      die("redis connect");
    c->outkey = side_a ? "ping" : "pong";
    c->inkey = side_a ? "pong" : "ping";
  }
}

static void pp_send(enum pp k, struct ppch *c, int64_t v) {
  if (k == PP_FSC) {
    if (fsc_list_append_i64(c->out, v))
      die("append: %s", fsc_errmsg());
  } else if (k == PP_PIPE) {
    if (write(c->wfd, &v, 8) != 8)
      die("write");
  } else {
    char s[32];
    snprintf(s, sizeof s, "%lld", (long long)v);
    const char *argv[] = {"RPUSH", c->outkey, s};
    rc_cmd(&c->r, 3, argv);
  }
}

static int64_t pp_recv(enum pp k, struct ppch *c) {
  if (k == PP_FSC) {
    fsc_value v;
    int rc = fsc_list_pop_wait(c->in, 0, -1, &v);
    if (rc)
      die("pop_wait: %s", fsc_errmsg());
    return v.u.i64;
  } else if (k == PP_PIPE) {
    int64_t v;
    if (read(c->rfd, &v, 8) != 8)
      die("read");
    return v;
  } else {
    const char *argv[] = {"BLPOP", c->inkey, "0"};
    return rc_cmd(&c->r, 3, argv);
  }
}

/* The pipe goes first so that the others can be compared with it. */
static void part_pingpong_ordered(uint64_t n, bool redis) {
  printf("\n2. ping-pong between two processes, %llu round trips: hand-off "
         "latency (half a round trip)\n", (unsigned long long)n);
  int order[] = {PP_PIPE, PP_FSC, PP_REDIS};
  double pipe_p50 = 0;
  for (int oi = 0; oi < 3; oi++) {
    int k = order[oi];
    if (k == PP_REDIS && !redis)
      continue;
    if (k == PP_FSC) {
      char p1[600], p2[600];
      path(p1, sizeof p1, "ping");
      path(p2, sizeof p2, "pong");
      fsc_options o = FSC_OPTIONS_INIT;
      o.type = FSC_TYPE_INT64;
      fsc_list *a, *b;
      if (fsc_list_open(p1, &o, &a) || fsc_list_open(p2, &o, &b))
        die("open: %s", fsc_errmsg());
      fsc_list_clear(a);
      fsc_list_clear(b);
      fsc_list_close(a);
      fsc_list_close(b);
      fsc_list_free(a);
      fsc_list_free(b);
    }
    int pa[2], pb[2];
    if (pipe(pa) || pipe(pb))
      die("pipe");
    pid_t pid = fork();
    if (pid == 0) {
      struct ppch c;
      pp_open((enum pp)k, &c, false, pa, pb);
      for (uint64_t i = 0; i < n; i++)
        pp_send((enum pp)k, &c, pp_recv((enum pp)k, &c));
      _exit(0);
    }
    struct ppch c;
    pp_open((enum pp)k, &c, true, pa, pb);
    uint64_t *lat = malloc(n * sizeof *lat);
    for (uint64_t i = 0; i < n; i++) {
      uint64_t t0 = now_ns();
      pp_send((enum pp)k, &c, (int64_t)i);
      if (pp_recv((enum pp)k, &c) != (int64_t)i)
        die("%s: wrong item", pp_name[k]);
      lat[i] = (now_ns() - t0) / 2;
    }
    waitpid(pid, NULL, 0);
    qsort(lat, n, sizeof *lat, cmp_u64);
    double p50 = (double)lat[n / 2] / 1e3;
    double p99 = (double)lat[n * 99 / 100] / 1e3;
    double mx = (double)lat[n - 1] / 1e3;
    if (k == PP_PIPE)
      pipe_p50 = p50;
    printf("  %-28s p50 %8.1f us  p99 %8.1f us  max %9.1f us", pp_name[k],
           p50, p99, mx);
    if (k != PP_PIPE && pipe_p50 > 0)
      printf("  (p50 %.2fx the pipe's)", p50 / pipe_p50);
    printf("\n");
    if (g_tsv)
      fprintf(g_tsv, "pingpong_p50_us\t%s\t%.2f\t%.3f\n", pp_name[k], p50,
              pipe_p50 > 0 ? p50 / pipe_p50 : 1.0);
    free(lat);
    close(pa[0]), close(pa[1]), close(pb[0]), close(pb[1]);
    if (k == PP_FSC) {
      fsc_list_close(c.in);
      fsc_list_close(c.out);
      fsc_list_free(c.in);
      fsc_list_free(c.out);
    }
  }
}

/* ------------------------------------------------------------------ */
/* 3. queue throughput, 2 producers and 2 consumers                    */
/* ------------------------------------------------------------------ */

#define PP_FSC_BOUNDED 3
#define QUEUE_BOUND 1000

static void part_queue(uint64_t n, bool redis) {
  printf("\n3. a queue, 2 producers and 2 consumers, %llu items: items/s "
         "(higher is better)\n", (unsigned long long)n);
  int order[] = {PP_PIPE, PP_FSC, PP_FSC_BOUNDED, PP_REDIS};
  double pipe_rate = 0, redis_rate = 0, fsc_rate = 0;
  for (int oi = 0; oi < 4; oi++) {
    int k = order[oi];
    bool bounded = k == PP_FSC_BOUNDED;
    if (bounded)
      k = PP_FSC;
    if (k == PP_REDIS && !redis)
      continue;
    char qp[600];
    path(qp, sizeof qp, "queue");
    fsc_options o = FSC_OPTIONS_INIT;
    o.type = FSC_TYPE_INT64;
    if (k == PP_FSC) {
      fsc_list *l;
      if (fsc_list_open(qp, &o, &l) || fsc_list_clear(l))
        die("open: %s", fsc_errmsg());
      fsc_list_close(l);
      fsc_list_free(l);
    } else if (k == PP_REDIS) {
      struct rc r;
      if (rc_connect(&r))
        die("redis");
      const char *argv[] = {"DEL", "q"};
      rc_cmd(&r, 2, argv);
      close(r.fd);
    }
    int pf[2];
    if (pipe(pf))
      die("pipe");
    int go[2];
    if (pipe(go))
      die("pipe");
    pid_t pids[4];
    for (int w = 0; w < 4; w++) {
      if ((pids[w] = fork()) == 0) {
        close(go[1]);
        fsc_list *l = NULL;
        struct rc r;
        if (k == PP_FSC && fsc_list_open(qp, &o, &l))
          _exit(3);
        if (k == PP_REDIS && rc_connect(&r))
          _exit(3);
        char c;
        if (read(go[0], &c, 1) < 0)
          _exit(1);
        bool prod = w < 2;
        if (prod) {
          for (uint64_t i = 0; i <= n / 2; i++) {
            int64_t v = i == n / 2 ? -1 : (int64_t)i; /* -1: stop */
            if (k == PP_FSC) {
              uint64_t len = 0, ep = FSC_EPOCH_NONE;
              /* Bounded: wait for room (pop(0) costs O(length)). */
              while (bounded && fsc_list_len(l, &len) == 0 &&
                     len >= QUEUE_BOUND)
                fsc_list_wait_change(l, ep, 100, &ep);
              if (fsc_list_append_i64(l, v))
                _exit(4);
            } else if (k == PP_PIPE) {
              if (write(pf[1], &v, 8) != 8)
                _exit(4);
            } else {
              char s[32];
              snprintf(s, sizeof s, "%lld", (long long)v);
              const char *argv[] = {"RPUSH", "q", s};
              rc_cmd(&r, 3, argv);
            }
          }
        } else {
          for (;;) {
            int64_t v;
            if (k == PP_FSC) {
              fsc_value x;
              if (fsc_list_pop_wait(l, 0, -1, &x))
                _exit(5);
              v = x.u.i64;
            } else if (k == PP_PIPE) {
              if (read(pf[0], &v, 8) != 8)
                _exit(5);
            } else {
              const char *argv[] = {"BLPOP", "q", "0"};
              long long x = rc_cmd(&r, 3, argv);
              v = x;
            }
            if (v < 0)
              break;
          }
        }
        if (l) {
          fsc_list_close(l);
          fsc_list_free(l);
        }
        _exit(0);
      }
    }
    close(go[0]);
    uint64_t t0 = now_ns();
    close(go[1]);
    for (int w = 0; w < 4; w++) {
      int st;
      waitpid(pids[w], &st, 0);
      if (!WIFEXITED(st) || WEXITSTATUS(st))
        die("%s: a worker failed (status 0x%x)", pp_name[k], st);
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    double rate = (double)n / secs;
    close(pf[0]), close(pf[1]);
    if (k == PP_PIPE)
      pipe_rate = rate;
    if (k == PP_REDIS)
      redis_rate = rate;
    if (k == PP_FSC && rate > fsc_rate)
      fsc_rate = rate;
    const char *name = bounded ? "fsc, at most 1000 queued"
                       : k == PP_FSC ? "fsc append + pop_wait"
                       : k == PP_PIPE ? "pipe" : "Redis RPUSH/BLPOP";
    printf("  %-28s %10.0f items/s\n", name, rate);
    if (g_tsv)
      fprintf(g_tsv, "queue_2x2_items_s\t%s\t%.0f\t\n", name, rate);
  }
  if (fsc_rate > 0 && pipe_rate > 0)
    printf("  fsc (best): %.2fx the pipe's rate", fsc_rate / pipe_rate);
  if (fsc_rate > 0 && redis_rate > 0)
    printf(", %.2fx Redis's", fsc_rate / redis_rate);
  printf("\n");
}

int main(int argc, char **argv) {
  uint64_t n = 1000000;
  const char *dir = NULL, *tsv = NULL;
  int opt;
  while ((opt = getopt(argc, argv, "qn:d:t:")) != -1) {
    switch (opt) {
    case 'q':
      n = 100000;
      break;
    case 'n':
      n = strtoull(optarg, NULL, 10);
      break;
    case 'd':
      dir = optarg;
      break;
    case 't':
      tsv = optarg;
      break;
    default:
      fprintf(stderr, "usage: shared_bench [-q] [-n N] [-d DIR] "
              "[-t FILE.tsv]\n  -n N   increments per process (default "
              "1000000; -q: 100000); ping-pong N/20 round trips; queue N "
              "items\n");
      return 2;
    }
  }
  if (n < 100)
    n = 100;
  if (dir) {
    snprintf(g_dir, sizeof g_dir, "%s", dir);
  } else {
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/fsc-shared-bench-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_dir))
      die("mkdtemp: %s", strerror(errno));
  }
  if (tsv && !(g_tsv = fopen(tsv, "a")))
    die("%s: %s", tsv, strerror(errno));
  bool redis = redis_start();
  printf("shared_bench (fscollections %s): %s%s\n", fsc_version(),
         redis ? "Redis running on a unix socket" : "Redis not found: "
                                                    "skipped",
#ifdef BENCH_HAVE_LMDB
         ", LMDB"
#else
         ", no LMDB (not built with it)"
#endif
  );
  part_incr(n, redis);
  part_pingpong_ordered(n / 20, redis);
  part_queue(n, redis);
  redis_stop();
  /* Remove what we made. */
  const char *names[] = {"ctr_dict", "ctr_list", "ping", "pong", "queue"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    char p[700];
    snprintf(p, sizeof p, "%s/%s.data.fscollection", g_dir, names[i]);
    unlink(p);
    snprintf(p, sizeof p, "%s/%s.index.fscollection", g_dir, names[i]);
    unlink(p);
  }
  char p[700];
  snprintf(p, sizeof p, "%s/lmdb", g_dir);
  unlink(p);
  snprintf(p, sizeof p, "%s/lmdb-lock", g_dir);
  unlink(p);
  if (!dir)
    rmdir(g_dir);
  if (g_tsv)
    fclose(g_tsv);
  return 0;
}
