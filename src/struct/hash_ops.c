/*
 * hash_ops.c - owns the dict's and the set's rows of the kind operations
 * table (struct fsc__kind_ops, internal.h): what the file layer calls to
 * lay out, recover, recount, compact and verify a hash index, and the hash
 * index's half of compaction: copying the live keys, in insertion order,
 * into the next generation.
 */
#include "struct/hash.h"
#include "struct/hash_slot.h"
#include "file/verify.h"

/* Compaction: freeze the table word and every slot (hash.c), so no
 * lock-free writer changes the index meanwhile. */
static int freeze(struct fsc__gen *c, void **state) {
  *state = NULL;
  return fsc__hash_freeze(c);
}

static void thaw(struct fsc__gen *c, void *state) {
  (void)state;
  fsc__hash_thaw(c);
}

static void done(void *state) { (void)state; }

/* Copy the frozen dict or set of c into nc, in insertion order. */
static int copy(struct fsc__gen *c, void *state, struct fsc__gen *nc) {
  (void)state;
  uint64_t pos = 0, off, end = fsc__hash_tail(c);
  bool dict = c->kind == FSC__KIND_DICT;
  int rc;
  if (dict && (rc = fsc__cache_copy(c, nc)) != 0)
    return rc;
  while ((rc = fsc__hash_next(c, &pos, end, &off)) == 1) {
    uint64_t noff, size, prev;
    uint8_t *pl, type;
    if ((rc = fsc__rec_copy(c, nc, off, &noff, &pl, &type, &size)) != 0)
      return rc;
    /* (The new files may address less: a data file of version 1 or 2
     * compacted into version 3, hash_slot.h.) */
    if (!fsc__ks_off_fits(nc, noff))
      return fsc__err(FSC_ENOSPC, "%s", fsc__ks_max_msg(nc));
    struct fsc__krec r;
    if ((rc = fsc__krec_read(nc, noff, &r)) != 0)
      return rc;
    struct fsc__kkey k;
    fsc__kkey_make(&k, dict ? 0 : type, r.key, r.klen);
    /* (hash_put points a dict record's origin at itself.) */
    if ((rc = fsc__hash_put(nc, &k, noff, FSC__PUT_ANY, 0, &prev)) < 0)
      return rc;
    if (dict)
      fsc__cache_count(nc, r.total);
  }
  return rc;
}

/* A new dict: the hash index, then (a cache dict) the cache block. */
static int dict_init(struct fsc__gen *c) {
  int rc = fsc__hash_init(c);
  if (rc == 0 && c->opts.cache_type != FSC_CACHE_NONE)
    rc = fsc__cache_layout(c, c->opts.cache_type, c->opts.cache_max_items,
                           c->opts.cache_max_bytes, c->opts.cache_admission);
  return rc;
}

/* Recovery and the last close's recount also recount the cache's items
 * and bytes (an insert in flight when its process died leaves its
 * reservation behind). */
static int dict_recover(struct fsc__gen *c, bool unclean) {
  int rc = fsc__hash_recover(c, unclean);
  if (rc)
    return rc;
  /* After an unclean shutdown, a bound found exceeded (a file damaged or
   * written beyond it) is evicted down to: fsc__cache_trim recounts
   * first; otherwise only the recount. */
  if (!unclean)
    return fsc__cache_recount(c);
  if (fsc__cache_trim(c) >= 0)
    return 0;
  /* A victim that would not go (a damaged record: verify reports it):
   * the open goes on, with the counters exact. */
  fsc__err_clear();
  return fsc__cache_recount(c);
}

static int dict_recount(struct fsc__gen *c) {
  int rc = fsc__hash_recount(c);
  if (rc)
    return rc;
  /* No writer died: every reservation became a key or was given back, so
   * items equals COUNT; walk the data file only if it does not. */
  const struct fsc__cache_hdr *ch = fsc__chdr(c);
  if (ch->policy == 0 || ck_pr_load_64(&ch->items) == fsc__hash_len(c))
    return 0;
  return fsc__cache_recount(c);
}

/* Verification of a cache dict also checks its bound and its item count
 * (structure lock held, and no other process has the dict open, so that
 * the pass is exact): the keys found are at most max_items and at most
 * `items` (every live key holds a reservation), and their records' bytes
 * at most max_bytes.  Reported with the
 * counters; the repair (dict_vrepair) evicts down to the bound. */
static void dict_vscan(struct fsc__vpass *p) {
  fsc__hash_vscan(p);
  const struct fsc__cache_hdr *ch = fsc__chdr(p->c);
  uint64_t mi = ck_pr_load_64(&ch->max_items);
  uint64_t mb = ck_pr_load_64(&ch->max_bytes);
  if (ch->policy == 0 || !p->locked || !fsc__valone(p->c))
    return;
  if (mi && p->keys > mi)
    fsc__vnote(p, &p->counters, "the cache dict holds %llu keys, above its "
               "bound of %llu", (unsigned long long)p->keys,
               (unsigned long long)mi);
  else if (mb && p->bytes > mb)
    fsc__vnote(p, &p->counters, "the cache dict's records hold %llu bytes, "
               "above its bound of %llu", (unsigned long long)p->bytes,
               (unsigned long long)mb);
  else if (p->keys > ck_pr_load_64(&ch->items))
    fsc__vnote(p, &p->counters, "the cache dict holds %llu keys but counts "
               "%llu", (unsigned long long)p->keys,
               (unsigned long long)ck_pr_load_64(&ch->items));
}

/* The index's repair, then (a cache dict found above its bound, alone)
 * eviction down to it. */
static int dict_vrepair(struct fsc__vpass *p, bool *changed,
                        struct fsc__vtally *t) {
  struct fsc__gen *c = p->c;
  const struct fsc__cache_hdr *ch = fsc__chdr(c);
  uint64_t mi = ck_pr_load_64(&ch->max_items);
  uint64_t mb = ck_pr_load_64(&ch->max_bytes);
  bool over = ch->policy != 0 &&
              ((mi && p->keys > mi) || (mb && p->bytes > mb));
  int rc = fsc__hash_vrepair(p, changed, t);
  if (rc || !over || !fsc__valone(c))
    return rc;
  if ((rc = fsc__cache_trim(c)) < 0)
    return rc;
  if (rc > 0) {
    *changed = true;
    t->counters++;
  }
  return 0;
}

/* The rows' common part: compaction's freeze, copy, thaw and done, and the
 * last clean close's trim (hash_trim.c), are the same for a dict and a
 * set. */
#define HASH_OPS_SHARED                                                        \
  .freeze = freeze, .copy = copy, .thaw = thaw, .done = done,                  \
  .trim = fsc__hash_trim

const struct fsc__kind_ops fsc__dict_ops = {
    .kind = FSC__KIND_DICT,
    .init = dict_init,
    .recover = dict_recover,
    .recount = dict_recount,
    .vscan = dict_vscan,
    .vrepair = dict_vrepair,
    HASH_OPS_SHARED,
};

const struct fsc__kind_ops fsc__set_ops = {
    .kind = FSC__KIND_SET,
    .init = fsc__hash_init,
    .recover = fsc__hash_recover,
    .recount = fsc__hash_recount,
    .vscan = fsc__hash_vscan,
    .vrepair = fsc__hash_vrepair,
    HASH_OPS_SHARED,
};
