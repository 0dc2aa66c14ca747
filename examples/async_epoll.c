/* SPDX-License-Identifier: MIT */
/*
 * async_epoll.c - the asynchronous API in a bare epoll loop.
 *
 * The loop watches two descriptors: the fsc_loop's (completions are
 * ready) and a timerfd that ticks every 10 ms, standing for the rest of a
 * server's work.  It opens a list asynchronously, fills it with the
 * synchronous (lock-free) append, then sends structural work to the
 * workers (insert, sort, a scan that prints the matches batch by batch,
 * compaction, verification) and closes the list asynchronously.  The
 * ticks go on while the workers run: the loop never waits for the lock or
 * the disk.
 *
 *   async_epoll [BASE_PATH]     (default: a temporary list)
 */
#include <fscollections.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

static int ticks, done;
static fsc_list *list;
static fsc_loop *loop;

static void die(const char *what, int rc) {
  fprintf(stderr, "async_epoll: %s: %s (%s)\n", what, fsc_strerror(rc),
          fsc_errmsg());
  exit(1);
}

static void check(const char *what, int rc) {
  if (rc < 0)
    die(what, rc);
}

static int is_multiple_of_7(const fsc_value *k, const fsc_value *v,
                            void *data) {
  return v->type == FSC_TYPE_INT64 && v->u.i64 % 7 == 0;
}

static int print_batch(fsc_req *req, const fsc_scan_item *items, size_t n,
                       void *data) {
  printf("scan batch of %zu:", n);
  for (size_t i = 0; i < n; i++)
    printf(" [%lld]=%lld", (long long)items[i].key.u.i64,
           (long long)items[i].val.u.i64);
  printf("\n");
  return 0;
}

static void step(fsc_req *req, int rc, const fsc_async_result *res,
                 void *data) {
  const char *what = data;
  check(what, rc);
  printf("%s: done (ticks so far: %d)\n", what, ticks);
}

static void closed(fsc_req *req, int rc, const fsc_async_result *res,
                   void *data) {
  check("close", rc);
  fsc_list_free(list); /* its last callback: nothing of it runs after */
  list = NULL;
  done = 1;
}

/* The close comes after the last request's callback: a close submitted
 * earlier would end the requests that have not started with
 * FSC_ECLOSED. */
static void verified(fsc_req *req, int rc, const fsc_async_result *res,
                     void *data) {
  step(req, rc, res, "verify");
  check("close", fsc_coll_close_async(loop, fsc_list_coll(list), closed,
                                      NULL, NULL));
}

static void opened(fsc_req *req, int rc, const fsc_async_result *res,
                   void *data) {
  check("open", rc);
  list = fsc_coll_list(res->coll);
  for (int64_t i = 100; i > 0; i--) /* lock-free: fine on the loop */
    check("append", fsc_list_append_i64(list, i));
  fsc_value v = fsc_i64(0);
  fsc_coll *c = fsc_list_coll(list);
  /* One handle's requests run in this order. */
  check("insert", fsc_list_insert_async(loop, list, 0, &v, step, "insert",
                                        NULL));
  check("sort", fsc_list_sort_async(loop, list, false, step, "sort", NULL));
  check("scan", fsc_coll_scan_async(loop, c, is_multiple_of_7, print_batch,
                                    5, step, "scan", NULL));
  check("compact", fsc_coll_compact_async(loop, c, step, "compact", NULL));
  check("verify", fsc_coll_verify_async(loop, c, 0, NULL, verified, NULL,
                                        NULL));
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : NULL;
  check("loop", fsc_loop_new(NULL, &loop));
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (ep < 0 || tfd < 0) {
    perror("epoll/timerfd");
    return 1;
  }
  struct itimerspec it = {{0, 10000000}, {0, 10000000}};
  timerfd_settime(tfd, 0, &it, NULL);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fsc_loop_fd(loop)};
  epoll_ctl(ep, EPOLL_CTL_ADD, fsc_loop_fd(loop), &ev);
  ev.data.fd = tfd;
  epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);

  check("open", fsc_open_async(loop, path, FSC_KIND_LIST, NULL, opened, NULL,
                               NULL));
  while (!done) {
    struct epoll_event got[2];
    int n = epoll_wait(ep, got, 2, 1000);
    for (int i = 0; i < n; i++) {
      if (got[i].data.fd == tfd) {
        uint64_t exp;
        if (read(tfd, &exp, sizeof exp) == sizeof exp)
          ticks += (int)exp;
      } else {
        check("run", fsc_loop_run(loop));
      }
    }
  }
  printf("finished after %d ticks of 10 ms\n", ticks);
  fsc_loop_free(loop);
  close(tfd);
  close(ep);
  return 0;
}
