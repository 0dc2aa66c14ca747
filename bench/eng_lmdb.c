/*
 * eng_lmdb.c - LMDB, two variants:
 *
 *   lmdb        one write transaction per put (every put is visible to
 *               other processes when it returns, as fscollections' are);
 *   lmdb_b1000  one write transaction per 1000 puts (the last one is
 *               committed by flush, inside the timed loop).
 *
 * Both open the environment with MDB_NOSYNC | MDB_NOMETASYNC (no fsync at
 * commit: the same durability as fsc's FSC_DURABLE_NONE) and MDB_WRITEMAP
 * (the fast write path), plus MDB_NOTLS.  Gets run in a read-only
 * transaction that is renewed every 1000 gets and after any write of the
 * same handle: a reader that held one snapshot for its whole run would
 * keep a concurrent writer from reusing any page.  Values are zero-copy
 * views into the map.  The list is a database with MDB_INTEGERKEY (the key
 * is the index as a native uint64) filled with MDB_APPEND.
 */
#include "engine.h"

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RENEW_EVERY 1000u
#define BATCH 1000u

struct lmdb_h {
  MDB_env *env;
  MDB_dbi dbi;
  MDB_txn *w; /* the open write transaction (batched variant) */
  MDB_txn *r; /* the read transaction (reset or live) */
  bool r_live, dirty;
  unsigned batch, pending, reads;
  enum bench_kind kind;
  uint64_t next; /* list: the next index */
};

#define CHECK(call)                                                           \
  do {                                                                        \
    int rc_ = (call);                                                         \
    if (rc_)                                                                  \
      bench_die("%s: %s", #call, mdb_strerror(rc_));                          \
  } while (0)

static size_t mapsize(void) {
  /* Room for N entries several times over (the concurrent writer's
   * copy-on-write pages too); the file is sparse. */
  return ((size_t)256 << 20) +
         (size_t)bench_p.n * (bench_p.klen + bench_p.vlen + 64) * 8;
}

static void *lmdb_open_(const char *dir, enum bench_kind kind,
                        enum bench_mode mode, unsigned batch) {
  struct lmdb_h *h = calloc(1, sizeof *h);
  if (!h)
    bench_die("out of memory");
  h->kind = kind;
  h->batch = batch;
  unsigned flags = MDB_NOTLS;
  flags |= mode == BM_READ ? MDB_RDONLY
                           : MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP;
  CHECK(mdb_env_create(&h->env));
  CHECK(mdb_env_set_mapsize(h->env, mapsize()));
  CHECK(mdb_env_open(h->env, dir, flags, 0600));
  MDB_txn *t;
  CHECK(mdb_txn_begin(h->env, NULL, mode == BM_READ ? MDB_RDONLY : 0, &t));
  unsigned dflags = kind == BK_LIST ? MDB_INTEGERKEY : 0;
  CHECK(mdb_dbi_open(t, NULL, dflags, &h->dbi));
  if (kind == BK_LIST && mode != BM_CREATE) {
    MDB_stat st;
    CHECK(mdb_stat(t, h->dbi, &st));
    h->next = st.ms_entries;
  }
  CHECK(mdb_txn_commit(t));
  return h;
}

static void *lmdb_open1(const char *dir, enum bench_kind kind,
                        enum bench_mode mode) {
  return lmdb_open_(dir, kind, mode, 1);
}

static void *lmdb_openb(const char *dir, enum bench_kind kind,
                        enum bench_mode mode) {
  return lmdb_open_(dir, kind, mode, BATCH);
}

static void commit(struct lmdb_h *h) {
  if (h->w) {
    CHECK(mdb_txn_commit(h->w));
    h->w = NULL;
    h->pending = 0;
  }
}

static void write1(struct lmdb_h *h, MDB_val *k, MDB_val *v,
                   unsigned flags) {
  if (!h->w) {
    if (h->r_live) { /* the snapshot would be stale after this write */
      mdb_txn_reset(h->r);
      h->r_live = false;
    }
    CHECK(mdb_txn_begin(h->env, NULL, 0, &h->w));
  }
  CHECK(mdb_put(h->w, h->dbi, k, v, flags));
  h->dirty = true;
  if (++h->pending >= h->batch)
    commit(h);
}

static void lmdb_put(void *hp, const void *key, size_t klen, const void *val,
                     size_t vlen) {
  MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
  write1(hp, &k, &v, 0);
}

static void lmdb_append(void *hp, const void *val, size_t vlen) {
  struct lmdb_h *h = hp;
  uint64_t i = h->next++;
  MDB_val k = {sizeof i, &i}, v = {vlen, (void *)val};
  write1(h, &k, &v, MDB_APPEND);
}

static void lmdb_flush(void *hp) { commit(hp); }

static MDB_txn *reader(struct lmdb_h *h) {
  if (h->w)
    commit(h); /* a get sees this handle's own writes */
  if (h->r_live && (h->dirty || ++h->reads % RENEW_EVERY == 0)) {
    mdb_txn_reset(h->r);
    h->r_live = false;
  }
  if (!h->r_live) {
    if (h->r)
      CHECK(mdb_txn_renew(h->r));
    else
      CHECK(mdb_txn_begin(h->env, NULL, MDB_RDONLY, &h->r));
    h->r_live = true;
    h->dirty = false;
  }
  return h->r;
}

static int lmdb_get(void *hp, const void *key, size_t klen, const void **val,
                    size_t *vlen) {
  struct lmdb_h *h = hp;
  MDB_val k = {klen, (void *)key}, v;
  int rc = mdb_get(reader(h), h->dbi, &k, &v);
  if (rc == MDB_NOTFOUND)
    return 0;
  if (rc)
    bench_die("mdb_get: %s", mdb_strerror(rc));
  *val = v.mv_data;
  *vlen = v.mv_size;
  return 1;
}

static int lmdb_lget(void *hp, uint64_t i, const void **val, size_t *vlen) {
  return lmdb_get(hp, &i, sizeof i, val, vlen);
}

static void lmdb_close_(void *hp) {
  struct lmdb_h *h = hp;
  commit(h);
  if (h->r)
    mdb_txn_abort(h->r);
  mdb_env_close(h->env);
  free(h);
}

static void lmdb_version(char *buf, size_t cap) {
  int a, b, c;
  mdb_version(&a, &b, &c);
  snprintf(buf, cap, "LMDB %d.%d.%d", a, b, c);
}

#define LMDB_COMMON                                                           \
  .caps = ENG_SHARED | ENG_CONCURRENT | ENG_LIST | ENG_FILES,                 \
  .version = lmdb_version, .put = lmdb_put, .get = lmdb_get,                  \
  .append = lmdb_append, .lget = lmdb_lget, .flush = lmdb_flush,              \
  .close = lmdb_close_

const struct engine eng_lmdb = {
    .name = "lmdb",
    .label = "LMDB, MDB_NOSYNC|MDB_NOMETASYNC|MDB_WRITEMAP, one write "
             "transaction per put; gets in a read txn renewed every 1000",
    .open = lmdb_open1,
    LMDB_COMMON,
};

const struct engine eng_lmdb_batch = {
    .name = "lmdb_b1000",
    .label = "LMDB as above, one write transaction per 1000 puts "
             "(the last committed inside the timed loop)",
    .open = lmdb_openb,
    LMDB_COMMON,
};
