/*
 * eng_sqlite.c - SQLite in WAL mode, prepared statements.
 *
 * Every connection runs PRAGMA journal_mode=WAL and PRAGMA synchronous=OFF
 * (no fsync at commit or checkpoint: the durability of fsc's
 * FSC_DURABLE_NONE and LMDB's MDB_NOSYNC) and busy_timeout 10 s.  The dict
 * is CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID (one
 * B-tree); a put is INSERT OR REPLACE in its own (autocommit) transaction,
 * so every put is visible to other processes when it returns; a get is
 * SELECT v FROM kv WHERE k=?, and the value is copied into the handle's
 * buffer before the statement is reset.  The list is a rowid table,
 * list(i INTEGER PRIMARY KEY, v BLOB).  The page cache and mmap_size are
 * SQLite's defaults (2 MB cache, no mmap).
 */
#include "engine.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sqlite_h {
  sqlite3 *db;
  sqlite3_stmt *put, *get;
  uint64_t next;
  size_t cap;
  char buf[]; /* the value of the last get */
};

static void exec(struct sqlite_h *h, const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(h->db, sql, NULL, NULL, &err) != SQLITE_OK)
    bench_die("sqlite3_exec(%s): %s", sql, err ? err : "?");
}

static sqlite3_stmt *prepare(struct sqlite_h *h, const char *sql) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK)
    bench_die("sqlite3_prepare_v2(%s): %s", sql, sqlite3_errmsg(h->db));
  return st;
}

static void *sq_open(const char *dir, enum bench_kind kind,
                     enum bench_mode mode) {
  char path[PATH_MAX];
  bench_path(path, sizeof path, dir, "store.db");
  size_t cap = bench_p.vlen + 64;
  struct sqlite_h *h = calloc(1, sizeof *h + cap);
  if (!h)
    bench_die("out of memory");
  h->cap = cap;
  int flags = mode == BM_READ ? SQLITE_OPEN_READONLY
              : mode == BM_WRITE ? SQLITE_OPEN_READWRITE
                                 : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path, &h->db, flags, NULL) != SQLITE_OK)
    bench_die("sqlite3_open_v2(%s): %s", path,
              h->db ? sqlite3_errmsg(h->db) : "out of memory");
  sqlite3_busy_timeout(h->db, 10000);
  if (mode == BM_CREATE)
    exec(h, "PRAGMA journal_mode=WAL");
  exec(h, "PRAGMA synchronous=OFF");
  if (kind == BK_DICT) {
    if (mode == BM_CREATE)
      exec(h, "CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB NOT NULL) "
              "WITHOUT ROWID");
    if (mode != BM_READ)
      h->put = prepare(h, "INSERT OR REPLACE INTO kv(k, v) VALUES(?1, ?2)");
    h->get = prepare(h, "SELECT v FROM kv WHERE k = ?1");
  } else {
    if (mode == BM_CREATE)
      exec(h, "CREATE TABLE list(i INTEGER PRIMARY KEY, v BLOB NOT NULL)");
    if (mode != BM_READ)
      h->put = prepare(h, "INSERT INTO list(i, v) VALUES(?1, ?2)");
    h->get = prepare(h, "SELECT v FROM list WHERE i = ?1");
    if (mode != BM_CREATE) {
      sqlite3_stmt *c = prepare(h, "SELECT count(*) FROM list");
      if (sqlite3_step(c) != SQLITE_ROW)
        bench_die("count: %s", sqlite3_errmsg(h->db));
      h->next = (uint64_t)sqlite3_column_int64(c, 0);
      sqlite3_finalize(c);
    }
  }
  return h;
}

static void step_done(struct sqlite_h *h, sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  if (rc != SQLITE_DONE)
    bench_die("sqlite3_step: %s", sqlite3_errmsg(h->db));
  sqlite3_reset(st);
}

static void sq_put(void *hp, const void *key, size_t klen, const void *val,
                   size_t vlen) {
  struct sqlite_h *h = hp;
  sqlite3_bind_blob(h->put, 1, key, (int)klen, SQLITE_STATIC);
  sqlite3_bind_blob(h->put, 2, val, (int)vlen, SQLITE_STATIC);
  step_done(h, h->put);
}

static int fetch(struct sqlite_h *h, const void **val, size_t *vlen) {
  int rc = sqlite3_step(h->get);
  if (rc == SQLITE_DONE) {
    sqlite3_reset(h->get);
    return 0;
  }
  if (rc != SQLITE_ROW)
    bench_die("sqlite3_step: %s", sqlite3_errmsg(h->db));
  const void *p = sqlite3_column_blob(h->get, 0);
  size_t n = (size_t)sqlite3_column_bytes(h->get, 0);
  if (n > h->cap)
    bench_die("value of %zu bytes", n);
  memcpy(h->buf, p, n);
  sqlite3_reset(h->get); /* ends the read transaction */
  *val = h->buf;
  *vlen = n;
  return 1;
}

static int sq_get(void *hp, const void *key, size_t klen, const void **val,
                  size_t *vlen) {
  struct sqlite_h *h = hp;
  sqlite3_bind_blob(h->get, 1, key, (int)klen, SQLITE_STATIC);
  return fetch(h, val, vlen);
}

static void sq_append(void *hp, const void *val, size_t vlen) {
  struct sqlite_h *h = hp;
  sqlite3_bind_int64(h->put, 1, (sqlite3_int64)h->next++);
  sqlite3_bind_blob(h->put, 2, val, (int)vlen, SQLITE_STATIC);
  step_done(h, h->put);
}

static int sq_lget(void *hp, uint64_t i, const void **val, size_t *vlen) {
  struct sqlite_h *h = hp;
  sqlite3_bind_int64(h->get, 1, (sqlite3_int64)i);
  return fetch(h, val, vlen);
}

static void sq_close(void *hp) {
  struct sqlite_h *h = hp;
  sqlite3_finalize(h->put);
  sqlite3_finalize(h->get);
  if (sqlite3_close(h->db) != SQLITE_OK)
    bench_die("sqlite3_close: %s", sqlite3_errmsg(h->db));
  free(h);
}

static void sq_version(char *buf, size_t cap) {
  snprintf(buf, cap, "SQLite %s", sqlite3_libversion());
}

const struct engine eng_sqlite = {
    .name = "sqlite",
    .label = "SQLite, journal_mode=WAL, synchronous=OFF, WITHOUT ROWID "
             "table, prepared statements, one autocommit transaction per put, "
             "default cache (2 MB), no mmap",
    .caps = ENG_SHARED | ENG_CONCURRENT | ENG_LIST | ENG_FILES,
    .version = sq_version,
    .open = sq_open,
    .put = sq_put,
    .get = sq_get,
    .append = sq_append,
    .lget = sq_lget,
    .close = sq_close,
};
