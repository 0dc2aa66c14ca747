/*
 * eng_redis.c - Redis next to the workers, over a unix socket (hiredis).
 *
 * The driver's process starts its own server for the run:
 *   redis-server --port 0 --unixsocket DIR/r.sock --unixsocketperm 700
 *                --save '' --appendonly no --dir DIR
 * (no TCP port, no persistence: nothing is ever written to disk) and stops
 * it afterwards.  Every operation is one command and one round trip over
 * the socket (SET, GET, RPUSH, LINDEX), as a worker would issue them, with
 * no pipelining.  The data lives in the server: peak RSS is the server's
 * (VmHWM), and there are no disk bytes.  "Opening" the store is
 * connecting to the server.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LIST_KEY "bench:list"

static pid_t g_server;
static char g_sock[PATH_MAX], g_server_version[64];

struct redis_h {
  redisContext *c;
  redisReply *last; /* the reply of the last get */
};

static redisContext *connect_(char *why, size_t whylen) {
  redisContext *c = redisConnectUnix(g_sock);
  if (!c || c->err) {
    if (why)
      snprintf(why, whylen, "connect %.200s: %.100s", g_sock,
               c ? c->errstr : "out of memory");
    if (c)
      redisFree(c);
    return NULL;
  }
  return c;
}

static redisReply *cmd(redisContext *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  redisReply *r = redisvCommand(c, fmt, ap);
  va_end(ap);
  if (!r)
    bench_die("redis: %s", c->errstr);
  if (r->type == REDIS_REPLY_ERROR)
    bench_die("redis: %s", r->str);
  return r;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static pid_t redis_setup(const char *dir, char *why, size_t whylen) {
  bench_path(g_sock, sizeof g_sock, dir, "r.sock");
  char log[PATH_MAX];
  bench_path(log, sizeof log, dir, "redis.log");
  const char *bin = getenv("REDIS_SERVER");
  if (!bin || !*bin)
    bin = "redis-server";
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(why, whylen, "fork: %s", strerror(errno));
    return -1;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the driver */
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execlp(bin, "redis-server", "--port", "0", "--unixsocket", g_sock,
           "--unixsocketperm", "700", "--save", "", "--appendonly", "no",
           "--dir", dir, "--daemonize", "no", (char *)NULL);
    _exit(127);
  }
  g_server = pid;
  for (int i = 0; i < 1000; i++) { /* up to 10 s */
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) {
      g_server = 0;
      if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
        snprintf(why, whylen, "%s not found (apt-get install -y "
                 "redis-server)", bin);
      else
        snprintf(why, whylen, "%s exited at start (see its log)", bin);
      return -1;
    }
    redisContext *c = connect_(NULL, 0);
    if (c) {
      redisReply *r = redisCommand(c, "INFO server");
      if (r && r->type == REDIS_REPLY_STRING) {
        const char *v = strstr(r->str, "redis_version:");
        if (v) {
          v += strlen("redis_version:");
          snprintf(g_server_version, sizeof g_server_version, "%.*s",
                   (int)strcspn(v, "\r\n"), v);
        }
      }
      if (r)
        freeReplyObject(r);
      redisFree(c);
      return pid;
    }
    sleep_ms(10);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  g_server = 0;
  snprintf(why, whylen, "%s did not answer on %s within 10 s", bin, g_sock);
  return -1;
}

static void redis_teardown(void) {
  if (g_server <= 0)
    return;
  kill(g_server, SIGTERM); /* no save points: it exits without saving */
  for (int i = 0; i < 500; i++) {
    if (waitpid(g_server, NULL, WNOHANG) == g_server) {
      g_server = 0;
      return;
    }
    sleep_ms(10);
  }
  kill(g_server, SIGKILL);
  waitpid(g_server, NULL, 0);
  g_server = 0;
}

static uint64_t redis_peak_rss(void) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)g_server);
  FILE *f = fopen(path, "re");
  unsigned long long kb = 0;
  if (!f)
    return 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "VmHWM: %llu kB", &kb) == 1)
      break;
  fclose(f);
  return (uint64_t)kb * 1024u;
}

static void *redis_open(const char *dir, enum bench_kind kind,
                        enum bench_mode mode) {
  (void)dir;
  (void)kind;
  char why[PATH_MAX + 64];
  struct redis_h *h = calloc(1, sizeof *h);
  if (!h)
    bench_die("out of memory");
  if (!(h->c = connect_(why, sizeof why)))
    bench_die("redis: %s", why);
  if (mode == BM_CREATE)
    freeReplyObject(cmd(h->c, "FLUSHALL"));
  return h;
}

static void redis_put(void *hp, const void *key, size_t klen, const void *val,
                      size_t vlen) {
  struct redis_h *h = hp;
  freeReplyObject(cmd(h->c, "SET %b %b", key, klen, val, vlen));
}

static int take(struct redis_h *h, redisReply *r, const void **val,
                size_t *vlen) {
  if (h->last)
    freeReplyObject(h->last);
  h->last = r;
  if (r->type == REDIS_REPLY_NIL)
    return 0;
  if (r->type != REDIS_REPLY_STRING)
    bench_die("redis: unexpected reply type %d", r->type);
  *val = r->str;
  *vlen = r->len;
  return 1;
}

static int redis_get(void *hp, const void *key, size_t klen, const void **val,
                     size_t *vlen) {
  struct redis_h *h = hp;
  return take(h, cmd(h->c, "GET %b", key, klen), val, vlen);
}

static void redis_append(void *hp, const void *val, size_t vlen) {
  struct redis_h *h = hp;
  freeReplyObject(cmd(h->c, "RPUSH " LIST_KEY " %b", val, vlen));
}

static int redis_lget(void *hp, uint64_t i, const void **val, size_t *vlen) {
  struct redis_h *h = hp;
  return take(h, cmd(h->c, "LINDEX " LIST_KEY " %llu",
                     (unsigned long long)i), val, vlen);
}

static void redis_close(void *hp) {
  struct redis_h *h = hp;
  if (h->last)
    freeReplyObject(h->last);
  redisFree(h->c);
  free(h);
}

static void redis_version(char *buf, size_t cap) {
  snprintf(buf, cap, "redis-server %s, hiredis %d.%d.%d",
           *g_server_version ? g_server_version : "?", HIREDIS_MAJOR,
           HIREDIS_MINOR, HIREDIS_PATCH);
}

const struct engine eng_redis = {
    .name = "redis",
    .label = "Redis over a unix socket (hiredis), its own server with no "
             "persistence; one command per round trip (SET/GET/RPUSH/LINDEX)",
    .caps = ENG_SHARED | ENG_CONCURRENT | ENG_LIST,
    .why_no_files = "in memory only: persistence is off",
    .setup = redis_setup,
    .teardown = redis_teardown,
    .peak_rss = redis_peak_rss,
    .version = redis_version,
    .open = redis_open,
    .put = redis_put,
    .get = redis_get,
    .append = redis_append,
    .lget = redis_lget,
    .close = redis_close,
};
