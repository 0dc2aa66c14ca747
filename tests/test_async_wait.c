/* SPDX-License-Identifier: MIT */
/*
 * test_async_wait.c - the cancellable wait of the asynchronous layer
 * (fsc__req_wait_sliced and the wake hook fsc__req_set_wake in
 * src/async/loop.c), which fsc_list_pop_wait and fsc_coll_wait_change's
 * asynchronous forms are built on (src/async/ops.c, "Waits").  They are
 * internal, so this program is linked with src/async/loop.c and
 * src/base/error.c themselves rather than the library; the waits are
 * stand-ins that block as a wait for another process's append would.
 */
#include "check_common.h"

#include <pthread.h>
#include <time.h>

#include "async/async.h"

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int got_rc = 1, ncalls;
static int64_t done_at;
static void cb(fsc_req *req, int rc, const fsc_async_result *res,
               void *data) {
  got_rc = rc;
  done_at = now_ms();
}

/* Run the loop until the callback ran (polling its descriptor). */
static void spin(fsc_loop *loop) {
  int64_t end = now_ms() + 10000;
  while (fsc_loop_pending(loop) > 0 && now_ms() < end) {
    fsc_loop_run(loop);
    usleep(1000);
  }
  ck_assert_int_eq(fsc_loop_pending(loop), 0);
}

/* A wait that never sees its event: sleeps its slice, times out. */
static int never(void *ctx, int64_t slice_ms) {
  __atomic_add_fetch(&ncalls, 1, __ATOMIC_RELAXED);
  usleep((useconds_t)slice_ms * 1000);
  return FSC_ETIMEDOUT;
}
/* A wait whose event comes at the third slice. */
static int third(void *ctx, int64_t slice_ms) {
  return __atomic_add_fetch(&ncalls, 1, __ATOMIC_RELAXED) == 3
             ? 0
             : FSC_ETIMEDOUT;
}

struct waitarg {
  int64_t timeout_ms, slice_ms;
  int (*once)(void *, int64_t);
};
static int run_wait(fsc_req *r, fsc_coll *c, void *arg,
                    fsc_async_result *res) {
  struct waitarg *a = arg;
  return fsc__req_wait_sliced(r, a->timeout_ms, a->slice_ms, a->once, NULL);
}

START_TEST(sliced) {
  fsc_loop *loop;
  ck_ok(fsc_loop_new(NULL, &loop));
  /* Cancelled while blocked: it ends within a slice. */
  struct waitarg a = {-1, 20, never};
  fsc_req *r;
  ck_ok(fsc_async_call(loop, NULL, FSC_ASYNC_UNORDERED, run_wait, &a, cb,
                       NULL, &r));
  while (__atomic_load_n(&ncalls, __ATOMIC_RELAXED) < 3)
    usleep(1000);
  int64_t t0 = now_ms();
  ck_assert_int_eq(fsc_req_cancel(r), 1);
  spin(loop);
  ck_assert_int_eq(got_rc, FSC_ECANCELED);
  ck_assert_int_lt(done_at - t0, 500);
  /* Its own timeout. */
  struct waitarg b = {100, 20, never};
  t0 = now_ms();
  ck_ok(fsc_async_call(loop, NULL, 0, run_wait, &b, cb, NULL, NULL));
  spin(loop);
  ck_assert_int_eq(got_rc, FSC_ETIMEDOUT);
  ck_assert_int_ge(done_at - t0, 100);
  /* Success in a later slice. */
  ncalls = 0;
  struct waitarg c = {-1, 20, third};
  ck_ok(fsc_async_call(loop, NULL, 0, run_wait, &c, cb, NULL, NULL));
  spin(loop);
  ck_assert_int_eq(got_rc, 0);
  ck_assert_int_eq(ncalls, 3);
  fsc_loop_free(loop);
}
END_TEST

/* A wait that can be woken: the wake hook ends it at once, whatever its
 * slice (an hour here). */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool woken, blocked;
static void wake(void *ctx) {
  pthread_mutex_lock(&mu);
  woken = true;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}
static int wakeable(void *ctx, int64_t slice_ms) {
  pthread_mutex_lock(&mu);
  blocked = true;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += slice_ms / 1000;
  while (!woken && pthread_cond_timedwait(&cv, &mu, &ts) == 0)
    ;
  pthread_mutex_unlock(&mu);
  return FSC_ETIMEDOUT; /* nothing happened: the cancel flag decides */
}
static int run_wakeable(fsc_req *r, fsc_coll *c, void *arg,
                        fsc_async_result *res) {
  fsc__req_set_wake(r, wake, NULL);
  int rc = fsc__req_wait_sliced(r, -1, 3600 * 1000, wakeable, NULL);
  fsc__req_set_wake(r, NULL, NULL);
  return rc;
}

START_TEST(woken_by_cancel) {
  fsc_loop *loop;
  ck_ok(fsc_loop_new(NULL, &loop));
  fsc_req *r;
  ck_ok(fsc_async_call(loop, NULL, FSC_ASYNC_UNORDERED, run_wakeable, NULL,
                       cb, NULL, &r));
  for (;;) {
    pthread_mutex_lock(&mu);
    bool b = blocked;
    pthread_mutex_unlock(&mu);
    if (b)
      break;
    usleep(1000);
  }
  int64_t t0 = now_ms();
  ck_assert_int_eq(fsc_req_cancel(r), 1);
  spin(loop);
  ck_assert_int_eq(got_rc, FSC_ECANCELED);
  ck_assert_int_lt(done_at - t0, 1000);
  /* And by the loop's end, with the callback run by fsc_loop_free. */
  woken = blocked = false;
  got_rc = 1;
  ck_ok(fsc_async_call(loop, NULL, FSC_ASYNC_UNORDERED, run_wakeable, NULL,
                       cb, NULL, NULL));
  for (;;) {
    pthread_mutex_lock(&mu);
    bool b = blocked;
    pthread_mutex_unlock(&mu);
    if (b)
      break;
    usleep(1000);
  }
  fsc_loop_free(loop);
  ck_assert_int_eq(got_rc, FSC_ECANCELED);
}
END_TEST

int main(void) {
  Suite *s = suite_create("async_wait");
  TCase *tc = tcase_create("sliced");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, sliced);
  suite_add_tcase(s, tc);
  tc = tcase_create("woken_by_cancel");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, woken_by_cancel);
  suite_add_tcase(s, tc);
  return tc_run(s);
}
