/*
 * eng_tkrzw.c - tkrzw HashDBM through its C API (tkrzw_langc.h).
 *
 * Created with num_buckets = 2N (its documented tuning: the bucket count
 * should be about the number of records or more); everything else is the
 * default: in-place updates, no compression, no sync (tkrzw syncs only
 * when asked, or with sync_hard).  tkrzw_dbm_get returns a malloc'd copy
 * of the value, freed at the next call.  The list is emulated: the key is
 * the index as 8 big-endian bytes.
 *
 * A writable open takes an exclusive file lock and a read-only open a
 * shared one, so a second process can open the store only when no writer
 * has it open: no concurrent reader and writer processes.
 */
#include "bench_util.h"
#include "engine.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tkrzw_langc.h>

struct tkrzw_h {
  TkrzwDBM *db;
  char *last; /* the value handed out by the last get */
  uint64_t next;
};

static void *tk_open(const char *dir, enum bench_kind kind,
                     enum bench_mode mode) {
  char path[PATH_MAX], params[128];
  bench_path(path, sizeof path, dir, "store.tkh");
  if (mode == BM_CREATE)
    snprintf(params, sizeof params,
             "dbm=HashDBM,truncate=true,num_buckets=%" PRIu64,
             2 * bench_p.n + 1);
  else
    snprintf(params, sizeof params, "dbm=HashDBM");
  struct tkrzw_h *h = calloc(1, sizeof *h);
  if (!h)
    bench_die("out of memory");
  h->db = tkrzw_dbm_open(path, mode != BM_READ, params);
  if (!h->db)
    bench_die("tkrzw_dbm_open(%s): %s", path,
              tkrzw_get_last_status_message());
  if (kind == BK_LIST && mode != BM_CREATE)
    h->next = (uint64_t)tkrzw_dbm_count(h->db);
  return h;
}

static void tk_put(void *hp, const void *key, size_t klen, const void *val,
                   size_t vlen) {
  struct tkrzw_h *h = hp;
  if (!tkrzw_dbm_set(h->db, key, (int32_t)klen, val, (int32_t)vlen, true))
    bench_die("tkrzw_dbm_set: %s", tkrzw_get_last_status_message());
}

static int tk_get(void *hp, const void *key, size_t klen, const void **val,
                  size_t *vlen) {
  struct tkrzw_h *h = hp;
  free(h->last);
  int32_t n = 0;
  h->last = tkrzw_dbm_get(h->db, key, (int32_t)klen, &n);
  if (!h->last) {
    if (tkrzw_get_last_status_code() == TKRZW_STATUS_NOT_FOUND_ERROR)
      return 0;
    bench_die("tkrzw_dbm_get: %s", tkrzw_get_last_status_message());
  }
  *val = h->last;
  *vlen = (size_t)n;
  return 1;
}

static void tk_append(void *hp, const void *val, size_t vlen) {
  struct tkrzw_h *h = hp;
  unsigned char k[8];
  be64(h->next++, k);
  tk_put(h, k, 8, val, vlen);
}

static int tk_lget(void *hp, uint64_t i, const void **val, size_t *vlen) {
  unsigned char k[8];
  be64(i, k);
  return tk_get(hp, k, 8, val, vlen);
}

static void tk_close(void *hp) {
  struct tkrzw_h *h = hp;
  free(h->last);
  if (!tkrzw_dbm_close(h->db))
    bench_die("tkrzw_dbm_close: %s", tkrzw_get_last_status_message());
  free(h);
}

static void tk_version(char *buf, size_t cap) {
  snprintf(buf, cap, "tkrzw %s", TKRZW_PACKAGE_VERSION);
}

const struct engine eng_tkrzw = {
    .name = "tkrzw",
    .label = "tkrzw HashDBM (C API), num_buckets=2N, defaults otherwise, no "
             "sync; gets return a malloc'd copy; list: 8-byte index keys",
    .caps = ENG_SHARED | ENG_LIST | ENG_FILES,
    .why_not_concurrent = "a writer holds an exclusive file lock: other "
                          "processes cannot open the store meanwhile",
    .version = tk_version,
    .open = tk_open,
    .put = tk_put,
    .get = tk_get,
    .append = tk_append,
    .lget = tk_lget,
    .close = tk_close,
};
