/*
 * hash_ctr.c - owns the dict increment's fast path below the collection
 * (issue #14, doc/CONCURRENCY.md "Counters in place"): the key's hash,
 * its slot in the active table, the counter record the slot names, and the
 * add in place on it, in one call doing only what that common case needs.
 * Whatever else it meets - a frozen word, a growth migrating, an absent
 * key, a record that is not an int64 counter of the plain shape, a closed
 * or sealed counter, anything that does not check out - it leaves
 * untouched for the full path (coll/dict_counter.c: fsc__hash_find_rec,
 * then fsc__ctr_rmw), which decides it and reports what is wrong.
 *
 * Invariant: the checks are the full path's, or stricter.  The table is
 * the one the word names, with the descriptor checks of fsc__ktab_desc;
 * the probe is hash.c's probe (tags, tombstones, the fence before a
 * record is read, a garbage slot refused); a record is read only within
 * what fsc__rec_locate_try bounds, its key only within its payload; the
 * word is re-checked (fsc__ktab_changed) after the probe and before the
 * add, as kprobe does before fsc__ctr_rmw.
 */
#include "struct/hash_slot.h"

/* XXH3 compiled in, as in hash.c: the hash fsc__kkey_make gives a dict key
 * (seed 0), which the slots' tags store (part of the format: hash_region.c
 * rehashes stored keys with it too). */
#define XXH_INLINE_ALL
#include <xxhash.h>

int fsc__hash_ctr_add(struct fsc__gen *c, const void *key, uint32_t klen,
                      uint64_t arg, uint64_t *old, uint64_t *off) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t h = XXH3_64bits_withSeed(key, klen, 0);
  uint64_t w = fsc__ktab_word(ih);
  if (__builtin_expect((w & FSC__LW_FROZEN) != 0, 0))
    return 1; /* a rebuild, a compaction or a dead writer's leftovers */
  unsigned b = FSC__LW_BUFIDX(w);
  uint64_t aoff = ck_pr_load_64(&ih->desc[b].off);
  uint64_t cap = ck_pr_load_64(&ih->desc[b].cap);
  uint64_t hwd = ck_pr_load_64(&ih->desc[b].hw);
  if (__builtin_expect(aoff < FSC__HDR_SIZE || (aoff & 7u) ||
                           cap < KS_MIN_CAP || cap > KS_MAX_CAP ||
                           (cap & (cap - 1)) || (hwd & KS_HW_MIG) != 0 ||
                           ((hwd & KS_HW_SLOT8) != 0) != c->s8, 0))
    return 1; /* damage (fsc__ktab_desc tells), or two tables to probe */
  const uint64_t *arr = fsc__ptr_try(&c->index, aoff, cap * 8);
  if (__builtin_expect(!arr, 0))
    return 1; /* not mapped yet */
  bool s8 = c->s8;
  uint64_t mask = cap - 1, i = h & mask, tag = fsc__ks_tag_of(h, cap, s8);
  for (uint64_t n = 0; n < cap; n++, i = (i + 1) & mask) {
    uint64_t s = ck_pr_load_64(&arr[i]);
    if (fsc__ks_empty(s))
      return 1; /* absent: the full path writes the first counter */
    if (fsc__ks_tomb(s))
      continue;
    if (__builtin_expect(!fsc__ks_value(s), 0))
      return 1; /* garbage, or a table being reused */
    if (!fsc__ks_tag_eq(s, tag, s8))
      continue;
    ck_pr_fence_load(); /* the record is read after the slot naming it */
    uint64_t o = s & fsc__ks_offmask(s8);
    const struct fsc__rec *r = fsc__rec_locate_try(c, o);
    if (__builtin_expect(!r, 0))
      return 1;
    uint64_t sz = fsc__rec_size(r); /* (read once) */
    const uint8_t *pl = fsc__rec_pl(r);
    if (__builtin_expect(sz < 4, 0))
      return 1;
    uint32_t kl = fsc__krec_klen(pl);
    if (__builtin_expect((uint64_t)kl + 4 + 8 > sz, 0))
      return 1; /* not a dict record's shape: the full path reads it */
    if (kl != klen || !fsc__key_eq(pl + 4, key, klen))
      continue; /* another key with the same tag */
    /* The key's record: an int64 counter [klen][key][pad][value][origin]
     * or [klen][key][pad][0 or 8 bytes][close][value][origin] without a
     * deadline (doc/FORMAT.md; format.h fsc__ctr_cwoff), or the full
     * path's to handle. */
    uint64_t voff = (4 + (uint64_t)kl + 7) & ~UINT64_C(7);
    if (__builtin_expect((pl[3] & 0x80u) != 0 || /* FSC__KLEN_TTL */
                             fsc__rec_type(r) != FSC_TYPE_INT64 ||
                             (sz != voff + 16 && sz != voff + 24 &&
                              sz != voff + 32),
                         0))
      return 1;
    if (__builtin_expect(fsc__ktab_changed(ih, w), 0))
      return 1; /* a rebuild published under the probe */
#ifdef FSC__CTR_ONE
    /* A close word on a 16-aligned offset: one 16-byte CAS. */
    if (sz != voff + 16) {
      uint64_t *blk = (uint64_t *)(uintptr_t)(pl + sz - 24);
      if (__builtin_expect(((uintptr_t)blk & 15u) == 0, 1) &&
          fsc__ctr_add_cw(blk, arg, old)) {
        *off = o;
        return 0;
      }
    }
#endif
    int rc = fsc__ctr_add_try(r, sz, o, arg, old);
    if (rc == 0)
      *off = o;
    return rc;
  }
  return 1;
}
