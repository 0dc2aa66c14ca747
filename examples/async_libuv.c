/* SPDX-License-Identifier: MIT */
/*
 * async_libuv.c - the asynchronous API in a libuv loop: the pipeline the
 * Python fscollections package shows with AsyncFSDict and AsyncFSList.
 *
 * A parent dict holds a child list by reference (a FSC_TYPE_REF value made
 * by fsc_ref_make); the program opens the parent, creates the child and
 * stores the reference to it, reads the reference back and opens the
 * child through it (fsc_ref_open, on a worker), appends to the child with
 * an asynchronous request, scans it asynchronously printing the matches
 * batch by batch, and closes both.  The fsc_loop's descriptor is
 * watched by a uv_poll_t; its callback calls fsc_loop_run.
 *
 *   async_libuv [DIR]      (default: a new directory under /tmp, removed
 *                           at the end)
 */
#include <fscollections.h>
#include <uv.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static fsc_loop *loop;
static uv_poll_t poller;
static fsc_dict *parent;
static fsc_list *child;
static int closing;

static void die(const char *what, int rc) {
  fprintf(stderr, "async_libuv: %s: %s (%s)\n", what, fsc_strerror(rc),
          fsc_errmsg());
  exit(1);
}
static void check(const char *what, int rc) {
  if (rc < 0)
    die(what, rc);
}

static void on_fsc_ready(uv_poll_t *h, int status, int events) {
  check("fsc_loop_run", fsc_loop_run(loop));
}

static void closed(fsc_req *req, int rc, const fsc_async_result *res,
                   void *data) {
  check("close", rc);
  fsc_coll_free(data); /* the handle's last callback */
  if (--closing == 0)
    uv_poll_stop(&poller); /* nothing left: uv_run returns */
}

static void close_all(void) {
  /* A child from fsc_ref_open is released, never closed: the parent's
   * cache holds it too, and closes it with the parent. */
  fsc_list_free(child);
  child = NULL;
  closing = 1;
  check("close", fsc_coll_close_async(loop, fsc_dict_coll(parent), closed,
                                      fsc_dict_coll(parent), NULL));
}

static int has_e(const fsc_value *k, const fsc_value *v, void *data) {
  return v->type == FSC_TYPE_STRING &&
         memchr(v->u.buf.ptr, 'e', v->u.buf.len) != NULL;
}

static int print_matches(fsc_req *req, const fsc_scan_item *it, size_t n,
                         void *data) {
  for (size_t i = 0; i < n; i++)
    printf("match: child[%lld] = %.*s\n", (long long)it[i].key.u.i64,
           (int)it[i].val.u.buf.len, (const char *)it[i].val.u.buf.ptr);
  return 0;
}

static void scanned(fsc_req *req, int rc, const fsc_async_result *res,
                    void *data) {
  check("scan", rc);
  printf("scan: %llu matches\n", (unsigned long long)res->u64);
  close_all();
}

/* The asynchronous append: a generic request (append itself never waits
 * for the lock, but an append that grows the files may). */
static int append_words(fsc_req *req, fsc_coll *c, void *arg,
                        fsc_async_result *res) {
  static const char *words[] = {"apple", "kiwi", "cherry", "fig", "pear",
                                "plum", "melon"};
  for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
    int rc = fsc_list_append_str(fsc_coll_list(c), words[i]);
    if (rc < 0)
      return rc;
    res->u64++;
  }
  return 0;
}

static void appended(fsc_req *req, int rc, const fsc_async_result *res,
                     void *data) {
  check("append", rc);
  printf("appended %llu words to the child list\n",
         (unsigned long long)res->u64);
  check("scan", fsc_coll_scan_async(loop, fsc_list_coll(child), has_e,
                                    print_matches, 2, scanned, NULL, NULL));
}

static void child_opened(fsc_req *req, int rc, const fsc_async_result *res,
                         void *data) {
  check("open child", rc);
  child = fsc_coll_list(res->coll);
  check("append", fsc_async_call(loop, res->coll, 0, append_words, NULL,
                                 appended, NULL, NULL));
}

/* Follow the reference, as a reader of the parent would: on a worker,
 * since opening the child may wait for its lock (an ordered request on
 * the parent). */
static int open_ref(fsc_req *req, fsc_coll *c, void *arg,
                    fsc_async_result *res) {
  fsc_value got;
  int rc = fsc_dict_get(fsc_coll_dict(c), "items", 5, &got);
  if (rc < 0)
    return rc;
  printf("parent[\"items\"] -> %.*s\n", (int)got.u.buf.len,
         (const char *)got.u.buf.ptr);
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_STRING;
  return fsc_ref_open(c, &got, &o, &res->coll);
}

static void maker_closed(fsc_req *req, int rc, const fsc_async_result *res,
                         void *data) {
  check("close child", rc);
  fsc_coll_free(data);
  check("open child", fsc_async_call(loop, fsc_dict_coll(parent), 0,
                                     open_ref, NULL, child_opened, NULL,
                                     NULL));
}

/* The child exists: store the reference to it in the parent, and close
 * the handle that made it. */
static void child_made(fsc_req *req, int rc, const fsc_async_result *res,
                       void *data) {
  check("create child", rc);
  fsc_value ref;
  check("ref", fsc_ref_make(fsc_dict_coll(parent), res->coll, &ref));
  check("set", fsc_dict_set(parent, "items", 5, &ref)); /* lock-free */
  check("close child", fsc_coll_close_async(loop, res->coll, maker_closed,
                                            res->coll, NULL));
}

static void parent_opened(fsc_req *req, int rc, const fsc_async_result *res,
                          void *data) {
  check("open parent", rc);
  parent = fsc_coll_dict(res->coll);
  const char *dir = data;
  char child_path[PATH_MAX];
  snprintf(child_path, sizeof child_path, "%s/child", dir);
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_STRING;
  check("create child", fsc_open_async(loop, child_path, FSC_KIND_LIST, &o,
                                       child_made, NULL, NULL));
}

int main(int argc, char **argv) {
  char tmp[] = "/tmp/fsc-async-libuv-XXXXXX";
  const char *dir = argc > 1 ? argv[1] : mkdtemp(tmp);
  if (!dir) {
    perror("mkdtemp");
    return 1;
  }
  check("loop", fsc_loop_new(NULL, &loop));
  uv_loop_t *uv = uv_default_loop();
  uv_poll_init(uv, &poller, fsc_loop_fd(loop));
  uv_poll_start(&poller, UV_READABLE, on_fsc_ready);

  char parent_path[PATH_MAX];
  snprintf(parent_path, sizeof parent_path, "%s/parent", dir);
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_ANY;
  check("open parent", fsc_open_async(loop, parent_path, FSC_KIND_DICT, &o,
                                      parent_opened, (void *)dir, NULL));
  uv_run(uv, UV_RUN_DEFAULT);
  uv_close((uv_handle_t *)&poller, NULL);
  uv_run(uv, UV_RUN_DEFAULT);
  uv_loop_close(uv);
  fsc_loop_free(loop);

  if (argc <= 1) { /* our own directory: remove what we made */
    const char *names[] = {"parent", "child"};
    for (int i = 0; i < 2; i++) {
      char p[PATH_MAX + 32];
      snprintf(p, sizeof p, "%s/%s.data.fscollection", dir, names[i]);
      unlink(p);
      snprintf(p, sizeof p, "%s/%s.index.fscollection", dir, names[i]);
      unlink(p);
    }
    rmdir(dir);
  }
  return 0;
}
