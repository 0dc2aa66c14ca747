/*
 * eng_fsc.c - fscollections: fsc_dict (bytes keys, bytes values) and
 * fsc_list (bytes values), durability FSC_DURABLE_NONE.
 *
 * Gets use fsc_dict_get / fsc_list_get, which give a zero-copy view into
 * the shared mapping (valid until the handle closes): what a user reading
 * a value gets, with no copy, as LMDB gives.
 */
#include "engine.h"

#include <fscollections.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

struct fsc_h {
  enum bench_kind kind;
  fsc_dict *d;
  fsc_list *l;
};

static void fsc_version_(char *buf, size_t cap) {
  /* make bench passes the source tree's `git describe --dirty` */
  const char *git = getenv("BENCH_GIT");
  if (git && *git)
    snprintf(buf, cap, "fscollections %s (git %s)", fsc_version(), git);
  else
    snprintf(buf, cap, "fscollections %s", fsc_version());
}

static void *fsc_open_(const char *dir, enum bench_kind kind,
                       enum bench_mode mode) {
  char base[PATH_MAX];
  bench_path(base, sizeof base, dir, "store");
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = mode == BM_CREATE ? FSC_CREATE : mode == BM_READ ? FSC_RDONLY : 0;
  /* Nothing timed here syncs: as LMDB's MDB_NOSYNC, SQLite's
   * synchronous=OFF.  (The default, ON_CLOSE, would msync and fsync at the
   * last close.) */
  o.durability = FSC_DURABLE_NONE;
  if (mode == BM_CREATE) {
    o.type = FSC_TYPE_BYTES;
    o.key_type = FSC_TYPE_BYTES;
  }
  struct fsc_h *h = calloc(1, sizeof *h);
  if (!h)
    bench_die("out of memory");
  h->kind = kind;
  int rc = kind == BK_DICT ? fsc_dict_open(base, &o, &h->d)
                           : fsc_list_open(base, &o, &h->l);
  if (rc)
    bench_die("fsc_%s_open(%s): %s (%s)", kind == BK_DICT ? "dict" : "list",
              base, fsc_strerror(rc), fsc_errmsg());
  return h;
}

static void fsc_put_(void *hp, const void *key, size_t klen, const void *val,
                     size_t vlen) {
  struct fsc_h *h = hp;
  fsc_value v = fsc_bytes(val, vlen);
  int rc = fsc_dict_set(h->d, key, klen, &v);
  if (rc)
    bench_die("fsc_dict_set: %s (%s)", fsc_strerror(rc), fsc_errmsg());
}

static int fsc_get_(void *hp, const void *key, size_t klen, const void **val,
                    size_t *vlen) {
  struct fsc_h *h = hp;
  fsc_value v;
  int rc = fsc_dict_get(h->d, key, klen, &v);
  if (rc == FSC_EKEY)
    return 0;
  if (rc)
    bench_die("fsc_dict_get: %s (%s)", fsc_strerror(rc), fsc_errmsg());
  *val = v.u.buf.ptr;
  *vlen = v.u.buf.len;
  return 1;
}

static void fsc_append_(void *hp, const void *val, size_t vlen) {
  struct fsc_h *h = hp;
  fsc_value v = fsc_bytes(val, vlen);
  int rc = fsc_list_append(h->l, &v);
  if (rc)
    bench_die("fsc_list_append: %s (%s)", fsc_strerror(rc), fsc_errmsg());
}

static int fsc_lget_(void *hp, uint64_t i, const void **val, size_t *vlen) {
  struct fsc_h *h = hp;
  fsc_value v;
  int rc = fsc_list_get(h->l, (int64_t)i, &v);
  if (rc == FSC_EINDEX)
    return 0;
  if (rc)
    bench_die("fsc_list_get: %s (%s)", fsc_strerror(rc), fsc_errmsg());
  *val = v.u.buf.ptr;
  *vlen = v.u.buf.len;
  return 1;
}

static void fsc_close_(void *hp) {
  struct fsc_h *h = hp;
  int rc = h->kind == BK_DICT ? fsc_dict_close(h->d) : fsc_list_close(h->l);
  if (rc)
    bench_die("fsc close: %s (%s)", fsc_strerror(rc), fsc_errmsg());
  fsc_dict_free(h->d);
  fsc_list_free(h->l);
  free(h);
}

const struct engine eng_fsc = {
    .name = "fsc",
    .label = "fscollections fsc_dict / fsc_list, bytes keys and values, "
             "durability NONE (no msync/fsync); gets are zero-copy views",
    .caps = ENG_SHARED | ENG_CONCURRENT | ENG_LIST | ENG_FILES,
    .version = fsc_version_,
    .open = fsc_open_,
    .put = fsc_put_,
    .get = fsc_get_,
    .append = fsc_append_,
    .lget = fsc_lget_,
    .close = fsc_close_,
};
