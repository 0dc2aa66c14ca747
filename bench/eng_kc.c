/*
 * eng_kc.c - Kyoto Cabinet HashDB (file hash database, .kch) through its C
 * API (kclangc.h).
 *
 * Created with bnum = 2N (its documented tuning: about the number of
 * records or more); everything else is the default: no transactions
 * (KCOAUTOTRAN off), no sync (KCOAUTOSYNC off), a 64 MiB mapped region.
 * Gets copy the value into the handle's buffer with kcdbgetbuf (no
 * malloc).  The list is emulated: the key is the index as 8 big-endian
 * bytes.
 *
 * A writer holds an exclusive file lock and readers a shared one, so a
 * second process can open the store only when no writer has it open: no
 * concurrent reader and writer processes.
 */
#include "bench_util.h"
#include "engine.h"

#include <inttypes.h>
#include <kclangc.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct kc_h {
  KCDB *db;
  uint64_t next;
  size_t cap;
  char buf[]; /* the value of the last get */
};

static void *kc_open(const char *dir, enum bench_kind kind,
                     enum bench_mode mode) {
  char path[PATH_MAX + 64], file[PATH_MAX];
  bench_path(file, sizeof file, dir, "store.kch");
  snprintf(path, sizeof path, "%s#bnum=%" PRIu64, file, 2 * bench_p.n + 1);
  size_t cap = bench_p.vlen + 64;
  struct kc_h *h = calloc(1, sizeof *h + cap);
  if (!h)
    bench_die("out of memory");
  h->cap = cap;
  h->db = kcdbnew();
  uint32_t m = mode == BM_READ    ? KCOREADER
               : mode == BM_WRITE ? KCOWRITER
                                  : KCOWRITER | KCOCREATE | KCOTRUNCATE;
  if (!kcdbopen(h->db, path, m))
    bench_die("kcdbopen(%s): %s", path, kcdbemsg(h->db));
  if (kind == BK_LIST && mode != BM_CREATE)
    h->next = (uint64_t)kcdbcount(h->db);
  return h;
}

static void kc_put(void *hp, const void *key, size_t klen, const void *val,
                   size_t vlen) {
  struct kc_h *h = hp;
  if (!kcdbset(h->db, key, klen, val, vlen))
    bench_die("kcdbset: %s", kcdbemsg(h->db));
}

static int kc_get(void *hp, const void *key, size_t klen, const void **val,
                  size_t *vlen) {
  struct kc_h *h = hp;
  int32_t n = kcdbgetbuf(h->db, key, klen, h->buf, h->cap);
  if (n < 0) {
    if (kcdbecode(h->db) == KCENOREC)
      return 0;
    bench_die("kcdbgetbuf: %s", kcdbemsg(h->db));
  }
  *val = h->buf;
  *vlen = (size_t)n;
  return 1;
}

static void kc_append(void *hp, const void *val, size_t vlen) {
  struct kc_h *h = hp;
  unsigned char k[8];
  be64(h->next++, k);
  kc_put(h, k, 8, val, vlen);
}

static int kc_lget(void *hp, uint64_t i, const void **val, size_t *vlen) {
  unsigned char k[8];
  be64(i, k);
  return kc_get(hp, k, 8, val, vlen);
}

static void kc_close(void *hp) {
  struct kc_h *h = hp;
  if (!kcdbclose(h->db))
    bench_die("kcdbclose: %s", kcdbemsg(h->db));
  kcdbdel(h->db);
  free(h);
}

static void kc_version(char *buf, size_t cap) {
  snprintf(buf, cap, "Kyoto Cabinet %s", KCVERSION);
}

const struct engine eng_kc = {
    .name = "kc",
    .label = "Kyoto Cabinet HashDB (.kch, C API), bnum=2N, defaults "
             "otherwise (64 MiB mapped region, no transactions, no sync); "
             "kcdbgetbuf; list: 8-byte index keys",
    .caps = ENG_SHARED | ENG_LIST | ENG_FILES,
    .why_not_concurrent = "a writer holds an exclusive file lock: other "
                          "processes cannot open the store meanwhile",
    .version = kc_version,
    .open = kc_open,
    .put = kc_put,
    .get = kc_get,
    .append = kc_append,
    .lget = kc_lget,
    .close = kc_close,
};
