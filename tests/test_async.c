/* SPDX-License-Identifier: MIT */
/*
 * test_async.c - the asynchronous API (src/async/) driven by an epoll
 * loop, as an event-driven server would: every asynchronous operation and
 * its result, the order of completions per handle, cancellation (pending,
 * running, a scan from its batch callback), closing a handle and freeing
 * the loop with requests in flight, 1,000 requests in flight, submission
 * errors, an event loop that keeps turning while another process holds
 * the structure lock, and the asynchronous waits (pop_wait, wait_change)
 * ended by another process, by their timeout, by a cancel and by a close.
 */
#include "check_common.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run an epoll loop on the loop's descriptor until nothing is pending
 * (or timeout_ms): the longest gap between two iterations in *max_gap. */
static void spin(fsc_loop *loop, int timeout_ms, int64_t *max_gap) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  ck_assert_int_ge(ep, 0);
  struct epoll_event ev = {.events = EPOLLIN};
  ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, fsc_loop_fd(loop), &ev), 0);
  int64_t end = now_ms() + timeout_ms, last = now_ms();
  while (fsc_loop_pending(loop) > 0 && now_ms() < end) {
    struct epoll_event got;
    int n = epoll_wait(ep, &got, 1, 5);
    if (n == 1)
      ck_assert_int_ge(fsc_loop_run(loop), 0);
    int64_t t = now_ms();
    if (max_gap && t - last > *max_gap)
      *max_gap = t - last;
    last = t;
  }
  close(ep);
  ck_assert_int_eq(fsc_loop_pending(loop), 0);
}

/* What the callbacks saw, in the order they ran. */
#define MAXLOG 4096
static struct {
  int tag;
  int rc;
  fsc_async_result res;
} logv[MAXLOG];
static int nlog;

static void logcb(fsc_req *req, int rc, const fsc_async_result *res,
                  void *data) {
  ck_assert_int_lt(nlog, MAXLOG);
  logv[nlog].tag = (int)(intptr_t)data;
  logv[nlog].rc = rc;
  logv[nlog].res = *res;
  nlog++;
}
#define TAG(n) ((void *)(intptr_t)(n))

static fsc_loop *new_loop(unsigned threads) {
  fsc_loop_options o = FSC_LOOP_OPTIONS_INIT;
  o.threads = threads;
  fsc_loop *loop;
  ck_ok(fsc_loop_new(&o, &loop));
  nlog = 0;
  return loop;
}

static int64_t geti(fsc_list *l, int64_t i) {
  int64_t v;
  ck_ok(fsc_list_get_i64(l, i, &v));
  return v;
}

/* Scans: the matches seen, by batch. */
static int64_t seen[20000];
static int nseen, nbatches;
static int pred_gt5(const fsc_value *k, const fsc_value *v, void *data) {
  return v->type == FSC_TYPE_INT64 && v->u.i64 > 5;
}
static int collect(fsc_req *req, const fsc_scan_item *it, size_t n,
                   void *data) {
  nbatches++;
  for (size_t i = 0; i < n; i++)
    seen[nseen++] = it[i].val.type == FSC_TYPE_INT64 ? it[i].val.u.i64 : -1;
  return 0;
}

START_TEST(ops) {
  fsc_loop *loop = new_loop(2);
  const char *p = tc_path("l");
  ck_ok(fsc_open_async(loop, p, FSC_KIND_LIST, NULL, logcb, TAG(0), NULL));
  spin(loop, 10000, NULL);
  ck_assert_int_eq(nlog, 1);
  ck_ok(logv[0].rc);
  fsc_coll *c = logv[0].res.coll;
  fsc_list *l = fsc_coll_list(c);
  ck_assert_ptr_nonnull(l);
  for (int64_t v = 1; v <= 5; v++)
    ck_ok(fsc_list_append_i64(l, v)); /* [1 2 3 4 5] */
  nlog = 0;
  fsc_value nine = fsc_i64(9), three = fsc_i64(3);
  fsc_value two[2] = {fsc_i64(7), fsc_i64(8)};
  ck_ok(fsc_list_insert_async(loop, l, 0, &nine, logcb, TAG(1), NULL));
  ck_ok(fsc_list_pop_async(loop, l, -1, logcb, TAG(2), NULL));
  ck_ok(fsc_list_del_async(loop, l, 1, logcb, TAG(3), NULL));
  ck_ok(fsc_list_remove_async(loop, l, &three, logcb, TAG(4), NULL));
  ck_ok(fsc_list_slice_set_async(loop, l, FSC_SLICE(0, 0, 1), two, 2, logcb,
                                 TAG(5), NULL)); /* [7 8 9 2 4] */
  ck_ok(fsc_list_reverse_async(loop, l, logcb, TAG(6), NULL));
  ck_ok(fsc_list_sort_async(loop, l, true, logcb, TAG(7), NULL));
  ck_ok(fsc_list_slice_del_async(loop, l, FSC_SLICE(3, FSC_NONE, 1), logcb,
                                 TAG(8), NULL)); /* [9 8 7] */
  ck_ok(fsc_list_remove_async(loop, l, &three, logcb, TAG(9), NULL));
  ck_ok(fsc_list_pop_async(loop, l, 10, logcb, TAG(10), NULL));
  ck_ok(fsc_coll_sync_async(loop, c, logcb, TAG(11), NULL));
  ck_ok(fsc_coll_compact_async(loop, c, logcb, TAG(12), NULL));
  fsc_verify_report rep = {.size = sizeof rep};
  ck_ok(fsc_coll_verify_async(loop, c, 0, &rep, logcb, TAG(13), NULL));
  nseen = nbatches = 0;
  ck_ok(fsc_coll_scan_async(loop, c, pred_gt5, collect, 2, logcb, TAG(14),
                            NULL));
  spin(loop, 20000, NULL);
  ck_assert_int_eq(nlog, 14);
  int want[] = {0, 0, 0, 0, 0, 0, 0, 0, FSC_EVALUE, FSC_EINDEX, 0, 0, 0, 0};
  for (int i = 0; i < 14; i++) {
    ck_assert_int_eq(logv[i].tag, i + 1); /* in submission order */
    ck_assert_msg(logv[i].rc == want[i], "request %d: rc %d, want %d", i + 1,
                  logv[i].rc, want[i]);
  }
  ck_assert_int_eq(logv[1].res.value.type, FSC_TYPE_INT64);
  ck_assert_int_eq(logv[1].res.value.u.i64, 5); /* pop(-1) */
  ck_assert(rep.healthy);
  ck_assert_int_eq(rep.length, 3);
  uint64_t n;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_int_eq(n, 3);
  ck_assert_int_eq(geti(l, 0), 9);
  ck_assert_int_eq(geti(l, 1), 8);
  ck_assert_int_eq(geti(l, 2), 7);
  ck_assert_int_eq(nseen, 3); /* 9 8 7 all > 5, in batches of 2 */
  ck_assert_int_eq(nbatches, 2);
  ck_assert_int_eq(logv[13].res.u64, 3);
  ck_assert_int_eq(seen[0], 9);
  ck_assert_int_eq(seen[2], 7);

  /* A value's bytes are copied at submission. */
  char buf[16];
  strcpy(buf, "hello");
  fsc_value s = fsc_str(buf);
  nlog = 0;
  ck_ok(fsc_list_insert_async(loop, l, 0, &s, logcb, TAG(20), NULL));
  memset(buf, 'x', 5);
  /* A bad value is the callback's error, as the synchronous call's. */
  fsc_value bad = fsc_strn("\xff", 1);
  ck_ok(fsc_list_insert_async(loop, l, 0, &bad, logcb, TAG(21), NULL));
  ck_ok(fsc_coll_clear_async(loop, c, logcb, TAG(22), NULL));
  spin(loop, 10000, NULL);
  ck_assert_int_eq(nlog, 3);
  ck_ok(logv[0].rc);
  ck_assert_int_eq(logv[1].rc, FSC_ETYPE);
  ck_ok(logv[2].rc);
  ck_ok(fsc_list_len(l, &n));
  ck_assert_int_eq(n, 0);

  /* Dict and set scans; the close last. */
  fsc_dict *d;
  fsc_set *st;
  ck_ok(fsc_dict_open(tc_path("d"), NULL, &d));
  ck_ok(fsc_set_open(tc_path("s"), NULL, &st));
  for (int64_t i = 0; i < 10; i++) {
    char k[8];
    snprintf(k, sizeof k, "k%d", (int)i);
    ck_ok(fsc_dict_set_i64(d, k, i));
    ck_assert_int_eq(fsc_set_add_i64(st, i * 10), 1);
  }
  nlog = nseen = nbatches = 0;
  ck_ok(fsc_coll_scan_async(loop, fsc_dict_coll(d), pred_gt5, collect, 0,
                            logcb, TAG(30), NULL));
  spin(loop, 10000, NULL);
  ck_assert_int_eq(nseen, 4); /* 6 7 8 9 in insertion order */
  ck_assert_int_eq(seen[0], 6);
  ck_assert_int_eq(seen[3], 9);
  ck_assert_int_eq(nbatches, 1);
  nseen = nbatches = 0;
  ck_ok(fsc_coll_scan_async(loop, fsc_set_coll(st), NULL, collect, 3, logcb,
                            TAG(31), NULL));
  spin(loop, 10000, NULL); /* a close would cancel the running scan */
  ck_ok(fsc_coll_close_async(loop, fsc_dict_coll(d), logcb, TAG(32), NULL));
  ck_ok(fsc_coll_close_async(loop, fsc_set_coll(st), logcb, TAG(33), NULL));
  ck_ok(fsc_coll_close_async(loop, c, logcb, TAG(34), NULL));
  spin(loop, 10000, NULL);
  ck_assert_int_eq(nlog, 5);
  for (int i = 0; i < 5; i++)
    ck_ok(logv[i].rc);
  ck_assert_int_eq(nseen, 10);
  ck_assert_int_eq(nbatches, 4);
  ck_assert_int_eq(seen[9], 90);
  ck_assert_int_eq(logv[1].res.u64, 10);
  ck_assert_int_eq(fsc_list_len(l, &n), FSC_ECLOSED);
  fsc_dict_free(d);
  fsc_set_free(st);
  fsc_coll_free(c);
  fsc_loop_free(loop);
}
END_TEST

/* 1,000 requests in flight on 4 lists: each list's in submission order. */
START_TEST(many) {
  fsc_loop *loop = new_loop(4);
  fsc_list *l[4];
  for (int i = 0; i < 4; i++)
    ck_ok(fsc_list_open(NULL, NULL, &l[i]));
  for (int i = 0; i < 1000; i++) {
    fsc_value v = fsc_i64(i);
    ck_ok(fsc_list_insert_async(loop, l[i % 4], 0, &v, logcb, TAG(i), NULL));
  }
  ck_assert_int_eq(fsc_loop_pending(loop), 1000);
  spin(loop, 60000, NULL);
  ck_assert_int_eq(nlog, 1000);
  int last[4] = {-1, -1, -1, -1};
  for (int i = 0; i < 1000; i++) {
    ck_ok(logv[i].rc);
    int t = logv[i].tag;
    ck_assert_int_gt(t, last[t % 4]);
    last[t % 4] = t;
  }
  for (int i = 0; i < 4; i++) {
    uint64_t n;
    ck_ok(fsc_list_len(l[i], &n));
    ck_assert_int_eq(n, 250);
    ck_assert_int_eq(geti(l[i], 0), 996 + i); /* the last inserted first */
    ck_assert_int_eq(geti(l[i], 249), i);
    fsc_list_free(l[i]);
  }
  fsc_loop_free(loop);
}
END_TEST

/* One handle's requests wait for each other; another handle's do not. */
static int slow(fsc_req *req, fsc_coll *c, void *arg, fsc_async_result *res) {
  usleep(100 * 1000);
  return 0;
}

START_TEST(order) {
  fsc_loop *loop = new_loop(4);
  fsc_list *a, *b;
  ck_ok(fsc_list_open(NULL, NULL, &a));
  ck_ok(fsc_list_open(NULL, NULL, &b));
  fsc_value v = fsc_i64(1);
  ck_ok(fsc_async_call(loop, fsc_list_coll(a), 0, slow, NULL, logcb, TAG(1),
                       NULL));
  ck_ok(fsc_list_insert_async(loop, a, 0, &v, logcb, TAG(2), NULL));
  ck_ok(fsc_list_insert_async(loop, b, 0, &v, logcb, TAG(3), NULL));
  spin(loop, 10000, NULL);
  ck_assert_int_eq(nlog, 3);
  ck_assert_int_eq(logv[0].tag, 3); /* b did not wait for a */
  ck_assert_int_eq(logv[1].tag, 1); /* a's insert waited for the slow call */
  ck_assert_int_eq(logv[2].tag, 2);
  /* An unordered call runs beside the handle's ordered ones. */
  nlog = 0;
  ck_ok(fsc_async_call(loop, fsc_list_coll(a), FSC_ASYNC_UNORDERED, slow,
                       NULL, logcb, TAG(4), NULL));
  ck_ok(fsc_list_insert_async(loop, a, 0, &v, logcb, TAG(5), NULL));
  spin(loop, 10000, NULL);
  ck_assert_int_eq(nlog, 2);
  ck_assert_int_eq(logv[0].tag, 5);
  ck_assert_int_eq(logv[1].tag, 4);
  fsc_list_free(a);
  fsc_list_free(b);
  fsc_loop_free(loop);
}
END_TEST

/* A generic call that blocks until released or cancelled. */
static int gate;
static int blocker(fsc_req *req, fsc_coll *c, void *arg,
                   fsc_async_result *res) {
  __atomic_store_n((int *)arg, 1, __ATOMIC_RELEASE); /* started */
  while (!fsc_req_cancelled(req) && !__atomic_load_n(&gate, __ATOMIC_ACQUIRE))
    usleep(1000);
  return fsc_req_cancelled(req) ? FSC_ECANCELED : 42;
}
static void wait_started(int *started) {
  while (!__atomic_load_n(started, __ATOMIC_ACQUIRE))
    usleep(1000);
}

static int stop_after_one(fsc_req *req, const fsc_scan_item *it, size_t n,
                          void *data) {
  nbatches++;
  if ((intptr_t)data == 1)
    ck_assert_int_eq(fsc_req_cancel(req), 1); /* running: asked to stop */
  return (intptr_t)data == 2 ? -77 : 0;
}

START_TEST(cancel) {
  fsc_loop *loop = new_loop(1);
  fsc_list *l;
  ck_ok(fsc_list_open(NULL, NULL, &l));
  int started = 0;
  gate = 0;
  fsc_req *rb, *r2, *r3;
  ck_ok(fsc_async_call(loop, NULL, 0, blocker, &started, logcb, TAG(1), &rb));
  fsc_value v = fsc_i64(1);
  ck_ok(fsc_list_insert_async(loop, l, 0, &v, logcb, TAG(2), &r2));
  ck_ok(fsc_list_insert_async(loop, l, 0, &v, logcb, TAG(3), &r3));
  wait_started(&started);
  ck_assert_int_eq(fsc_req_cancel(r2), 0); /* pending */
  ck_assert_int_eq(fsc_req_cancel(rb), 1); /* running */
  spin(loop, 10000, NULL);
  ck_assert_int_eq(nlog, 3);
  ck_assert_int_eq(logv[0].tag, 2); /* cancelled while pending: at once */
  ck_assert_int_eq(logv[0].rc, FSC_ECANCELED);
  ck_assert_int_eq(logv[1].tag, 1);
  ck_assert_int_eq(logv[1].rc, FSC_ECANCELED);
  ck_assert_int_eq(logv[2].tag, 3);
  ck_ok(logv[2].rc);
  uint64_t n;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_int_eq(n, 1);

  /* A generic call's own result; a finished request is FSC_EAGAIN. */
  nlog = 0;
  gate = 1;
  started = 0;
  ck_ok(fsc_async_call(loop, NULL, 0, blocker, &started, logcb, TAG(4), &rb));
  struct pollfd pf = {.fd = fsc_loop_fd(loop), .events = POLLIN};
  ck_assert_int_eq(poll(&pf, 1, 10000), 1); /* done, not delivered */
  ck_fsc(fsc_req_cancel(rb), FSC_EAGAIN);
  spin(loop, 10000, NULL);
  ck_assert_int_eq(nlog, 1);
  ck_assert_int_eq(logv[0].rc, 42);

  /* A scan cancelled from its first batch delivers nothing more. */
  for (int i = 0; i < 1000; i++)
    ck_ok(fsc_list_append_i64(l, i));
  nlog = nbatches = 0;
  ck_ok(fsc_coll_scan_async(loop, fsc_list_coll(l), NULL, stop_after_one, 10,
                            logcb, TAG(1), NULL));
  spin(loop, 10000, NULL);
  ck_assert_int_eq(nlog, 1);
  ck_assert_int_eq(logv[0].rc, FSC_ECANCELED);
  ck_assert_int_eq(nbatches, 1);
  /* A batch callback's negative value stops the scan with it. */
  nlog = nbatches = 0;
  ck_ok(fsc_coll_scan_async(loop, fsc_list_coll(l), NULL, stop_after_one, 10,
                            logcb, TAG(2), NULL));
  spin(loop, 10000, NULL);
  ck_assert_int_eq(nlog, 1);
  ck_assert_int_eq(logv[0].rc, -77);
  ck_assert_int_eq(nbatches, 1);
  fsc_list_free(l);
  fsc_loop_free(loop);
}
END_TEST

/* Closing a handle with requests in flight: the running call is
 * cancelled, the pending ones end with FSC_ECLOSED, later submissions
 * fail, and the close's callback is the last. */
static fsc_list *freed_in_cb;
static void close_cb(fsc_req *req, int rc, const fsc_async_result *res,
                     void *data) {
  logcb(req, rc, res, data);
  fsc_list_free(freed_in_cb); /* no callback of it runs after this */
  freed_in_cb = NULL;
}

START_TEST(close_inflight) {
  fsc_loop *loop = new_loop(2);
  fsc_list *l;
  char p[512];
  snprintf(p, sizeof p, "%s", tc_path("l"));
  ck_ok(fsc_list_open(p, NULL, &l));
  for (int i = 0; i < 100; i++)
    ck_ok(fsc_list_append_i64(l, i));
  int started = 0;
  gate = 0;
  fsc_coll *c = fsc_list_coll(l);
  ck_ok(fsc_async_call(loop, c, 0, blocker, &started, logcb, TAG(1), NULL));
  fsc_value v = fsc_i64(1);
  ck_ok(fsc_list_insert_async(loop, l, 0, &v, logcb, TAG(2), NULL));
  ck_ok(fsc_list_pop_async(loop, l, 0, logcb, TAG(3), NULL));
  nseen = nbatches = 0;
  ck_ok(fsc_coll_scan_async(loop, c, NULL, collect, 1, logcb, TAG(4), NULL));
  wait_started(&started);
  freed_in_cb = l;
  ck_ok(fsc_coll_close_async(loop, c, close_cb, TAG(5), NULL));
  ck_fsc(fsc_list_insert_async(loop, l, 0, &v, logcb, TAG(6), NULL),
         FSC_ECLOSED);
  ck_fsc(fsc_coll_close_async(loop, c, logcb, TAG(7), NULL), FSC_ECLOSED);
  spin(loop, 10000, NULL);
  ck_assert_int_eq(nlog, 5);
  ck_assert_ptr_null(freed_in_cb);
  int rc_of[6] = {0};
  for (int i = 0; i < 5; i++)
    rc_of[logv[i].tag] = logv[i].rc;
  ck_assert_int_eq(logv[4].tag, 5); /* the close last */
  ck_ok(rc_of[5]);
  ck_assert_int_eq(rc_of[1], FSC_ECANCELED);
  ck_assert_int_eq(rc_of[2], FSC_ECLOSED);
  ck_assert_int_eq(rc_of[3], FSC_ECLOSED);
  ck_assert_int_eq(rc_of[4], FSC_ECLOSED);
  ck_assert_int_eq(nbatches, 0);
  /* Nothing changed: the insert and pop never ran. */
  fsc_list *again;
  ck_ok(fsc_list_open(p, NULL, &again));
  uint64_t n;
  ck_ok(fsc_list_len(again, &n));
  ck_assert_int_eq(n, 100);
  ck_assert_int_eq(geti(again, 0), 0);
  fsc_list_free(again);
  fsc_loop_free(loop);
}
END_TEST

/* Freeing the loop with requests in flight runs every callback, with
 * FSC_ECANCELED for what had not finished. */
START_TEST(free_inflight) {
  fsc_loop *loop = new_loop(1);
  fsc_list *l;
  ck_ok(fsc_list_open(NULL, NULL, &l));
  int started = 0;
  gate = 0;
  ck_ok(fsc_async_call(loop, fsc_list_coll(l), 0, blocker, &started, logcb,
                       TAG(0), NULL));
  fsc_value v = fsc_i64(1);
  for (int i = 1; i <= 5; i++)
    ck_ok(fsc_list_insert_async(loop, l, 0, &v, logcb, TAG(i), NULL));
  wait_started(&started);
  fsc_loop_free(loop);
  ck_assert_int_eq(nlog, 6);
  for (int i = 0; i < 6; i++)
    ck_assert_int_eq(logv[i].rc, FSC_ECANCELED);
  uint64_t n;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_int_eq(n, 0);
  fsc_list_free(l);
}
END_TEST

/* A failure's message reaches the callback's thread. */
static int get_far(fsc_req *req, fsc_coll *c, void *arg,
                   fsc_async_result *res) {
  fsc_value v;
  res->u64 = 7;
  return fsc_list_get(fsc_coll_list(c), 1000, &v);
}
static char cbmsg[256];
static void msg_cb(fsc_req *req, int rc, const fsc_async_result *res,
                   void *data) {
  logcb(req, rc, res, data);
  snprintf(cbmsg, sizeof cbmsg, "%s", fsc_errmsg());
}

START_TEST(generic_and_errors) {
  fsc_loop *loop = new_loop(1);
  fsc_list *l;
  ck_ok(fsc_list_open(NULL, NULL, &l));
  ck_ok(fsc_async_call(loop, fsc_list_coll(l), FSC_ASYNC_UNORDERED, get_far,
                       NULL, msg_cb, TAG(1), NULL));
  spin(loop, 10000, NULL);
  ck_assert_int_eq(nlog, 1);
  ck_assert_int_eq(logv[0].rc, FSC_EINDEX);
  ck_assert_int_eq(logv[0].res.u64, 7);
  ck_assert_msg(strstr(cbmsg, "out of range"), "message: %s", cbmsg);

  /* Submission errors: no callback. */
  fsc_value v = fsc_i64(1);
  ck_fsc(fsc_async_call(NULL, NULL, 0, get_far, NULL, logcb, NULL, NULL),
         FSC_EINVAL);
  ck_fsc(fsc_async_call(loop, NULL, 0x80, get_far, NULL, logcb, NULL, NULL),
         FSC_EINVAL);
  ck_fsc(fsc_list_insert_async(loop, l, 0, &v, NULL, NULL, NULL), FSC_EINVAL);
  ck_fsc(fsc_list_insert_async(loop, NULL, 0, &v, logcb, NULL, NULL),
         FSC_EINVAL);
  ck_fsc(fsc_list_insert_async(loop, l, 0, NULL, logcb, NULL, NULL),
         FSC_EINVAL);
  ck_fsc(fsc_list_slice_set_async(loop, l, FSC_SLICE(0, 0, 1), NULL, 2, logcb,
                                  NULL, NULL), FSC_EINVAL);
  ck_fsc(fsc_coll_scan_async(loop, fsc_list_coll(l), NULL, collect, 65537,
                             logcb, NULL, NULL), FSC_EINVAL);
  ck_fsc(fsc_coll_scan_async(loop, fsc_list_coll(l), NULL, NULL, 1, logcb,
                             NULL, NULL), FSC_EINVAL);
  fsc_options o = FSC_OPTIONS_INIT;
  o.size = 1;
  ck_fsc(fsc_open_async(loop, "x", FSC_KIND_LIST, &o, logcb, NULL, NULL),
         FSC_EINVAL);
  ck_assert_int_eq(fsc_loop_pending(loop), 0);
  ck_fsc(fsc_req_cancel(NULL), FSC_EINVAL);
  ck_fsc(fsc_loop_fd(NULL), FSC_EINVAL);
  ck_fsc(fsc_loop_run(NULL), FSC_EINVAL);
  fsc_loop_options lo = FSC_LOOP_OPTIONS_INIT;
  lo.threads = 0;
  fsc_loop *bad = (fsc_loop *)1;
  ck_fsc(fsc_loop_new(&lo, &bad), FSC_EINVAL);
  ck_assert_ptr_null(bad);
  ck_fsc(fsc_loop_new(NULL, NULL), FSC_EINVAL);

  /* An open that fails, and a kind mismatch, through the callback. */
  nlog = 0;
  o = (fsc_options)FSC_OPTIONS_INIT;
  o.flags = 0;
  ck_ok(fsc_open_async(loop, tc_path("missing"), FSC_KIND_ANY, &o, logcb,
                       TAG(2), NULL));
  fsc_dict *d;
  ck_ok(fsc_dict_open(NULL, NULL, &d));
  ck_fsc(fsc_list_pop_async(loop, (fsc_list *)(void *)d, 0, logcb, TAG(3),
                            NULL), FSC_EKIND);
  spin(loop, 10000, NULL);
  ck_assert_int_eq(nlog, 1);
  ck_assert_int_eq(logv[0].rc, FSC_ENOENT);
  ck_assert_ptr_null(logv[0].res.coll);
  fsc_dict_free(d);
  fsc_list_free(l);
  fsc_loop_free(loop);
}
END_TEST

/* Another process holds the structure lock (flock on the index file, as
 * a long structural change does): the asynchronous insert waits on a
 * worker while the event loop keeps turning, and a try handle
 * (lock_timeout_ms 0) fails at once. */
START_TEST(lock_held) {
  const char *p = tc_path("l");
  char idx[600];
  snprintf(idx, sizeof idx, "%s.index.fscollection", p);
  fsc_list *l, *try_l;
  ck_ok(fsc_list_open(p, NULL, &l));
  fsc_options o = FSC_OPTIONS_INIT;
  o.lock_timeout_ms = 0;
  ck_ok(fsc_list_open(p, &o, &try_l));
  int pfd[2];
  ck_assert_int_eq(pipe(pfd), 0);
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    int fd = open(idx, O_RDWR | O_CLOEXEC);
    if (fd < 0 || flock(fd, LOCK_EX) != 0)
      _exit(1);
    (void)!write(pfd[1], "x", 1);
    usleep(600 * 1000);
    _exit(0);
  }
  char x;
  ck_assert_int_eq(read(pfd[0], &x, 1), 1);
  fsc_loop *loop = new_loop(2);
  int64_t t0 = now_ms();
  fsc_value v = fsc_i64(5);
  ck_fsc(fsc_list_insert(try_l, 0, &v), FSC_ETIMEDOUT);
  ck_assert_int_lt(now_ms() - t0, 200);
  ck_ok(fsc_list_insert_async(loop, l, 0, &v, logcb, TAG(1), NULL));
  int64_t gap = 0;
  spin(loop, 20000, &gap);
  int64_t took = now_ms() - t0;
  int st;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  ck_assert_int_eq(nlog, 1);
  ck_ok(logv[0].rc);
  ck_assert_int_ge(took, 400); /* it waited for the lock... */
  ck_assert_msg(gap < 200, "the loop stalled %lld ms", (long long)gap);
  ck_assert_int_eq(geti(l, 0), 5);
  close(pfd[0]);
  close(pfd[1]);
  fsc_list_free(try_l);
  fsc_list_free(l);
  fsc_loop_free(loop);
}
END_TEST

/* ---- the waits: fsc_list_pop_wait_async, fsc_coll_wait_change_async ---- */

/* What a wait's callback saw (the popped bytes are the request's copy,
 * valid only during the callback: copied out here). */
static struct {
  int n, rc;
  int type;
  int64_t i64;
  char str[64];
  uint64_t u64;
  int64_t at;
} wres;
static void waitcb(fsc_req *req, int rc, const fsc_async_result *res,
                   void *data) {
  logcb(req, rc, res, data);
  wres.n++;
  wres.rc = rc;
  wres.at = now_ms();
  wres.type = res->value.type;
  wres.u64 = res->u64;
  if (rc == 0 && res->value.type == FSC_TYPE_STRING) {
    size_t n = res->value.u.buf.len;
    ck_assert_uint_lt(n, sizeof wres.str);
    memcpy(wres.str, res->value.u.buf.ptr, n);
    wres.str[n] = '\0';
  } else if (rc == 0 && res->value.type == FSC_TYPE_INT64) {
    wres.i64 = res->value.u.i64;
  }
}
static void wres_reset(void) { memset(&wres, 0, sizeof wres); }

/* Another process: after delay_ms, open the list at p and append v (a
 * string if s, else the int). */
static pid_t append_later(const char *p, int delay_ms, const char *s,
                          int64_t i) {
  pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    usleep((useconds_t)delay_ms * 1000);
    fsc_list *cl;
    if (fsc_list_open(p, NULL, &cl) != 0)
      _exit(1);
    fsc_value v = s ? fsc_str(s) : fsc_i64(i);
    int rc = fsc_list_append(cl, &v);
    fsc_list_free(cl);
    _exit(rc == 0 ? 0 : 2);
  }
  return pid;
}
static void reap(pid_t pid) {
  int st;
  ck_assert_int_eq(waitpid(pid, &st, 0), pid);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A pop wait ended by another process's append: the callback gets it. */
START_TEST(pop_wait_remote) {
  fsc_loop *loop = new_loop(2);
  const char *p = tc_path("q");
  fsc_list *l;
  ck_ok(fsc_list_open(p, NULL, &l));
  wres_reset();
  int64_t t0 = now_ms();
  ck_ok(fsc_list_pop_wait_async(loop, l, 0, 10000, waitcb, TAG(1), NULL));
  pid_t pid = append_later(p, 100, "job-7", 0);
  /* the wait does not hold back the handle's ordered requests */
  ck_ok(fsc_coll_sync_async(loop, fsc_list_coll(l), logcb, TAG(2), NULL));
  spin(loop, 10000, NULL);
  reap(pid);
  ck_assert_int_eq(wres.n, 1);
  ck_ok(wres.rc);
  ck_assert_int_eq(wres.type, FSC_TYPE_STRING);
  ck_assert_str_eq(wres.str, "job-7");
  ck_assert_int_ge(wres.at - t0, 90); /* it waited for the child */
  ck_assert_int_eq(nlog, 2);
  ck_assert_int_eq(logv[0].tag, 2); /* the sync did not wait for it */
  ck_ok(logv[0].rc);
  uint64_t n;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_int_eq(n, 0);
  /* Submission errors, and a bad index through the callback. */
  ck_fsc(fsc_list_pop_wait_async(loop, NULL, 0, 0, waitcb, NULL, NULL),
         FSC_EINVAL);
  ck_fsc(fsc_list_pop_wait_async(loop, l, 0, 0, NULL, NULL, NULL),
         FSC_EINVAL);
  ck_fsc(fsc_coll_wait_change_async(loop, NULL, 0, 0, waitcb, NULL, NULL),
         FSC_EINVAL);
  fsc_dict *d;
  ck_ok(fsc_dict_open(tc_path("d"), NULL, &d));
  ck_fsc(fsc_list_pop_wait_async(loop, (fsc_list *)(void *)d, 0, 0, waitcb,
                                 NULL, NULL),
         FSC_EKIND);
  fsc_dict_free(d);
  wres_reset();
  ck_ok(fsc_list_pop_wait_async(loop, l, 5, 0, waitcb, TAG(3), NULL));
  spin(loop, 10000, NULL);
  ck_assert_int_eq(wres.rc, FSC_EINVAL);
  fsc_list_free(l);
  fsc_loop_free(loop);
}
END_TEST

/* A pop wait on an empty list times out: nothing popped. */
START_TEST(pop_wait_timeout) {
  fsc_loop *loop = new_loop(2);
  fsc_list *l;
  ck_ok(fsc_list_open(tc_path("q"), NULL, &l));
  wres_reset();
  int64_t t0 = now_ms();
  ck_ok(fsc_list_pop_wait_async(loop, l, -1, 150, waitcb, TAG(1), NULL));
  spin(loop, 10000, NULL);
  ck_assert_int_eq(wres.n, 1);
  ck_assert_int_eq(wres.rc, FSC_ETIMEDOUT);
  ck_assert_int_ge(wres.at - t0, 140);
  ck_assert_int_lt(wres.at - t0, 3000);
  /* 0: look once, at once */
  wres_reset();
  t0 = now_ms();
  ck_ok(fsc_list_pop_wait_async(loop, l, 0, 0, waitcb, TAG(2), NULL));
  spin(loop, 10000, NULL);
  ck_assert_int_eq(wres.rc, FSC_ETIMEDOUT);
  ck_assert_int_lt(wres.at - t0, 1000);
  fsc_list_free(l);
  fsc_loop_free(loop);
}
END_TEST

/* A blocked pop wait cancelled: FSC_ECANCELED within about a slice (50
 * ms), and no element lost when an append races the cancel: either the
 * wait reports it, or it is still on the list. */
START_TEST(pop_wait_cancel) {
  fsc_loop *loop = new_loop(2);
  const char *p = tc_path("q");
  fsc_list *l;
  ck_ok(fsc_list_open(p, NULL, &l));
  wres_reset();
  fsc_req *req;
  ck_ok(fsc_list_pop_wait_async(loop, l, 0, -1, waitcb, TAG(1), &req));
  usleep(120 * 1000); /* it sleeps on the list by now */
  int64_t t0 = now_ms();
  ck_assert_int_eq(fsc_req_cancel(req), 1);
  spin(loop, 10000, NULL);
  ck_assert_int_eq(wres.n, 1);
  ck_assert_int_eq(wres.rc, FSC_ECANCELED);
  ck_assert_int_lt(wres.at - t0, 250); /* a slice (50 ms), room for load */
  /* The race: an append from another process about when the cancel
   * comes, over a range of delays. */
  int reported = 0, kept = 0;
  for (int i = 0; i < 24; i++) {
    wres_reset();
    ck_ok(fsc_list_pop_wait_async(loop, l, 0, -1, waitcb, TAG(2), &req));
    /* the cancel at 30 ms, the append from 20 to 112 ms: before it, in
     * the slice it comes in (the wait pops), or after that slice */
    pid_t pid = append_later(p, 20 + i * 4, NULL, 100 + i);
    usleep(30 * 1000);
    int c = fsc_req_cancel(req);
    ck_assert(c == 1 || c == FSC_EAGAIN);
    spin(loop, 10000, NULL);
    reap(pid);
    ck_assert_int_eq(wres.n, 1);
    uint64_t n;
    ck_ok(fsc_list_len(l, &n));
    if (wres.rc == 0) {
      ck_assert_int_eq(wres.type, FSC_TYPE_INT64);
      ck_assert_int_eq(wres.i64, 100 + i);
      ck_assert_int_eq(n, 0);
      reported++;
    } else {
      ck_assert_int_eq(wres.rc, FSC_ECANCELED);
      ck_assert_int_eq(n, 1); /* not popped: still there */
      ck_assert_int_eq(geti(l, 0), 100 + i);
      fsc_value out;
      ck_ok(fsc_list_pop(l, 0, &out));
      kept++;
    }
  }
  ck_assert_int_eq(reported + kept, 24);
  fsc_list_free(l);
  fsc_loop_free(loop);
}
END_TEST

/* A wait for change ended by another process's change: the new epoch. */
START_TEST(wait_change_remote) {
  fsc_loop *loop = new_loop(2);
  const char *p = tc_path("q");
  fsc_list *l;
  ck_ok(fsc_list_open(p, NULL, &l));
  fsc_coll *c = fsc_list_coll(l);
  uint64_t e0;
  ck_ok(fsc_coll_wait_change(c, FSC_EPOCH_NONE, 0, &e0));
  wres_reset();
  int64_t t0 = now_ms();
  ck_ok(fsc_coll_wait_change_async(loop, c, e0, 10000, waitcb, TAG(1),
                                   NULL));
  pid_t pid = append_later(p, 100, NULL, 9);
  spin(loop, 10000, NULL);
  reap(pid);
  ck_assert_int_eq(wres.n, 1);
  ck_ok(wres.rc);
  ck_assert_uint_ne(wres.u64, e0);
  ck_assert_int_ge(wres.at - t0, 90);
  uint64_t e1;
  ck_ok(fsc_coll_wait_change(c, FSC_EPOCH_NONE, 0, &e1));
  ck_assert_uint_eq(wres.u64, e1);
  ck_assert_int_eq(geti(l, 0), 9);
  fsc_list_free(l);
  fsc_loop_free(loop);
}
END_TEST

/* A wait for change with no change times out, with the epoch unchanged. */
START_TEST(wait_change_timeout) {
  fsc_loop *loop = new_loop(2);
  fsc_list *l;
  ck_ok(fsc_list_open(tc_path("q"), NULL, &l));
  ck_ok(fsc_list_append_i64(l, 1)); /* an epoch other than 0 */
  fsc_coll *c = fsc_list_coll(l);
  uint64_t e0;
  ck_ok(fsc_coll_wait_change(c, FSC_EPOCH_NONE, 0, &e0));
  ck_assert_uint_ne(e0, 0);
  wres_reset();
  int64_t t0 = now_ms();
  ck_ok(fsc_coll_wait_change_async(loop, c, e0, 150, waitcb, TAG(1), NULL));
  spin(loop, 10000, NULL);
  ck_assert_int_eq(wres.n, 1);
  ck_assert_int_eq(wres.rc, FSC_ETIMEDOUT);
  ck_assert_uint_eq(wres.u64, e0);
  ck_assert_int_ge(wres.at - t0, 140);
  ck_assert_int_lt(wres.at - t0, 3000);
  fsc_list_free(l);
  fsc_loop_free(loop);
}
END_TEST

/* fsc_coll_close_async with blocked waits in flight: each wait completes
 * first, with FSC_ECANCELED, within about a slice; then the close, whose
 * callback frees the handle. */
START_TEST(close_waits) {
  fsc_loop *loop = new_loop(3);
  fsc_list *l;
  ck_ok(fsc_list_open(tc_path("q"), NULL, &l));
  fsc_coll *c = fsc_list_coll(l);
  wres_reset();
  ck_ok(fsc_list_pop_wait_async(loop, l, 0, -1, waitcb, TAG(1), NULL));
  uint64_t e0;
  ck_ok(fsc_coll_wait_change(c, FSC_EPOCH_NONE, 0, &e0));
  ck_ok(fsc_coll_wait_change_async(loop, c, e0, -1, logcb, TAG(2), NULL));
  usleep(120 * 1000); /* both sleep by now */
  ck_assert_int_eq(nlog, 0);
  int64_t t0 = now_ms();
  freed_in_cb = l;
  ck_ok(fsc_coll_close_async(loop, c, close_cb, TAG(3), NULL));
  ck_fsc(fsc_list_pop_wait_async(loop, l, 0, -1, waitcb, TAG(4), NULL),
         FSC_ECLOSED);
  spin(loop, 10000, NULL);
  ck_assert_int_lt(now_ms() - t0, 1000);
  ck_assert_int_eq(nlog, 3);
  ck_assert_ptr_null(freed_in_cb);
  ck_assert_int_eq(logv[2].tag, 3); /* the close last */
  ck_ok(logv[2].rc);
  for (int i = 0; i < 2; i++) {
    ck_assert(logv[i].tag == 1 || logv[i].tag == 2);
    ck_assert_int_eq(logv[i].rc, FSC_ECANCELED);
  }
  /* A pop that ends the wait just as the close is submitted: the close
   * may run (and unmap) before the wait's callback, which still reads
   * the element (the request's copy). */
  for (int i = 0; i < 10; i++) {
    ck_ok(fsc_list_open(tc_path("q"), NULL, &l));
    nlog = 0;
    wres_reset();
    ck_ok(fsc_list_pop_wait_async(loop, l, 0, -1, waitcb, TAG(1), NULL));
    usleep(60 * 1000);
    ck_ok(fsc_list_append_str(l, "last-one"));
    freed_in_cb = l;
    ck_ok(fsc_coll_close_async(loop, fsc_list_coll(l), close_cb, TAG(3),
                               NULL));
    usleep(200 * 1000); /* the close runs before anything is delivered */
    spin(loop, 10000, NULL);
    ck_assert_int_eq(nlog, 2);
    ck_assert_int_eq(logv[1].tag, 3);
    if (wres.rc == 0) {
      ck_assert_int_eq(wres.type, FSC_TYPE_STRING);
      ck_assert_str_eq(wres.str, "last-one");
    } else {
      ck_assert_int_eq(wres.rc, FSC_ECANCELED);
      ck_ok(fsc_list_open(tc_path("q"), NULL, &l));
      fsc_value out;
      ck_ok(fsc_list_pop(l, 0, &out)); /* it stayed on the list */
      fsc_list_free(l);
    }
  }
  fsc_loop_free(loop);
}
END_TEST

/* A pop followed by a close: the close may run (and unmap the handle's
 * views) on a worker before the loop thread delivers the pop, whose
 * callback still reads the element (the request's copy). */
START_TEST(pop_then_close) {
  fsc_loop *loop = new_loop(2);
  for (int i = 0; i < 10; i++) {
    fsc_list *l;
    ck_ok(fsc_list_open(tc_path("pc"), NULL, &l));
    char want[64];
    snprintf(want, sizeof want, "element-%d-%s", i,
             "padding-to-make-it-longer-than-a-word");
    ck_ok(fsc_list_append_str(l, want));
    nlog = 0;
    wres_reset();
    ck_ok(fsc_list_pop_async(loop, l, -1, waitcb, TAG(1), NULL));
    usleep(50 * 1000); /* the pop runs (nothing is delivered yet) */
    freed_in_cb = l;
    ck_ok(fsc_coll_close_async(loop, fsc_list_coll(l), close_cb, TAG(2),
                               NULL));
    usleep(50 * 1000); /* the close runs, still nothing delivered */
    spin(loop, 10000, NULL);
    ck_assert_int_eq(nlog, 2);
    ck_assert_ptr_null(freed_in_cb);
    ck_ok(wres.rc);
    ck_assert_int_eq(wres.type, FSC_TYPE_STRING);
    ck_assert_str_eq(wres.str, want);
  }
  fsc_loop_free(loop);
}
END_TEST

int main(void) {
  Suite *s = suite_create("async");
  TCase *tc;
#define ADD(name, fn, secs)                                                   \
  tc = tcase_create(name);                                                    \
  tcase_set_timeout(tc, secs);                                                \
  tcase_add_test(tc, fn);                                                     \
  suite_add_tcase(s, tc);
  ADD("ops", ops, 60);
  ADD("many", many, 120);
  ADD("order", order, 60);
  ADD("cancel", cancel, 60);
  ADD("close_inflight", close_inflight, 60);
  ADD("free_inflight", free_inflight, 60);
  ADD("generic_and_errors", generic_and_errors, 60);
  ADD("lock_held", lock_held, 60);
  ADD("pop_wait_remote", pop_wait_remote, 60);
  ADD("pop_wait_timeout", pop_wait_timeout, 60);
  ADD("pop_wait_cancel", pop_wait_cancel, 120);
  ADD("wait_change_remote", wait_change_remote, 60);
  ADD("wait_change_timeout", wait_change_timeout, 60);
  ADD("close_waits", close_waits, 60);
  ADD("pop_then_close", pop_then_close, 60);
  return tc_run(s);
}
