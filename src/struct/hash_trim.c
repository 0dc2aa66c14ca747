/*
 * hash_trim.c - owns the dict's and set's part of the last clean close
 * (file/gen.c, trim_tails): the index bytes that no longer hold anything
 * are given back to the file system as holes.
 *
 * A growth lays each new table out at the index tail and gives the old
 * one up (hash_grow.c), so after growing to a table of C slots the index
 * file also holds the tables of C/2, C/4, ... 64 slots before it: as many
 * bytes again as the live table, written once and never read.  No table
 * can move into that space (it is 64 slots short of the live one), so
 * the close punches it out instead: the file keeps its size and its
 * offsets, and its allocated bytes drop to the header, the live table and
 * a cache's clock words and frequency sketch.
 *
 * Invariants, and where they are kept:
 *  - Only the last clean close trims: the structure lock held and no
 *    other process mapping the files or able to map them before the
 *    unlock (gen.c), so no view of a punched byte survives it.
 *  - A punched byte is never written again without being fallocated
 *    first, so no store into the mapping can meet a hole and raise
 *    SIGBUS on a full disk: the regions punched are ones nothing names
 *    (tables given up, desc.hw = 0), the spare, which the trim gives
 *    up too, under a frozen word and a new seal (doc/FORMAT.md, "The
 *    seal"), and the next table a migration prepared ahead, whose hint
 *    (kprep) the trim clears; new space is only ever taken at the index tail, which
 *    fsc__index_grow fallocates from the old capacity up, leaving holes
 *    below it as they are.
 *  - What is kept is computed from what the header names, checked
 *    against the header and itail first: a region that is not one this
 *    index could have handed out means damage, and then nothing is
 *    punched (best effort: a trim that does nothing costs only bytes).
 */
#include "struct/hash_slot.h"

#define MAX_KEEP 3

struct region {
  uint64_t start, end;
};

/* Append [start, start + len) to keep[], if it lies inside the regions
 * the index handed out; false if it does not (damage). */
static bool keep_add(struct region *keep, unsigned *n, uint64_t start,
                     uint64_t len, uint64_t itail) {
  if (start < FSC__HDR_SIZE || start > itail || len > itail - start)
    return false;
  keep[(*n)++] = (struct region){start, start + len};
  return true;
}

int fsc__hash_trim(struct fsc__gen *c) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  const struct fsc__cache_hdr *ch = fsc__chdr(c);
  uint64_t w = ck_pr_load_64(&ih->lenword);
  if ((w & FSC__LW_FROZEN) || fsc__hash_migrating(c))
    return 0; /* a rebuild or a migration to finish (the close's recount
                 finishes a migration before this): not a clean index */
  uint64_t itail = ck_pr_load_64(&ih->itail);
  unsigned b = FSC__LW_BUFIDX(w), n = 0;
  struct region keep[MAX_KEEP];
  /* The live table: its region's room (hw), at least its capacity. */
  uint64_t off = ck_pr_load_64(&ih->desc[b].off);
  uint64_t cap = ck_pr_load_64(&ih->desc[b].cap);
  uint64_t hw = ck_pr_load_64(&ih->desc[b].hw);
  uint64_t room = KS_HW_ROOM(hw) > cap ? KS_HW_ROOM(hw) : cap;
  if (cap < KS_MIN_CAP || cap > KS_MAX_CAP || room > KS_MAX_CAP ||
      !keep_add(keep, &n, off, room * ((hw & KS_HW_HASHW) ? 16 : 8), itail))
    return 0;
  /* A cache's clock words and admission sketch (hash_evict.c,
   * hash_sketch.c): zero offsets in every other collection. */
  uint64_t clk = ck_pr_load_64(&ch->clk_off), ck_n = ck_pr_load_64(&ch->clk_n);
  if (clk && (ck_n > (UINT64_C(1) << 40) ||
              !keep_add(keep, &n, clk, ck_n * 4, itail)))
    return 0;
  uint64_t sk = ck_pr_load_64(&ch->sk_off), sk_n = ck_pr_load_64(&ch->sk_n);
  if (sk && (sk_n > (UINT64_C(1) << 40) ||
             !keep_add(keep, &n, sk,
                       sizeof(struct fsc__sketch_hdr) + sk_n * 8, itail)))
    return 0;
  /* Give the spare up, so that no later rebuild lays a table out in
   * punched space (it takes new space at the tail instead). */
  if (ck_pr_load_64(&ih->desc[!b].hw) != 0) {
    ck_pr_store_64(&ih->lenword, w | FSC__LW_FROZEN);
    ck_pr_fence_store();
    ck_pr_store_64(&ih->desc[!b].hw, 0);
    fsc__ls_seal(ih, w);
    ck_pr_store_64(&ih->lenword, w);
    ck_pr_fence_store(); /* the spare given up before its bytes go */
  }
  /* The next table prepared ahead (kprep, hash_migrate.c) is a hint,
   * checked before use: given up, its region is punched like the others
   * and the next growth takes new space. */
  ck_pr_store_64(&ih->kprep[3], 0);
  ck_pr_fence_store();
  /* Punch every gap between the kept regions (sorted: at most three). */
  for (unsigned i = 1; i < n; i++)
    for (unsigned j = i; j > 0 && keep[j].start < keep[j - 1].start; j--) {
      struct region t = keep[j];
      keep[j] = keep[j - 1];
      keep[j - 1] = t;
    }
  uint64_t at = FSC__HDR_SIZE;
  for (unsigned i = 0; i < n; i++) {
    if (keep[i].start > at)
      fsc__file_punch(&c->index, at, keep[i].start);
    if (keep[i].end > at)
      at = keep[i].end;
  }
  if (itail > at)
    fsc__file_punch(&c->index, at, itail);
  return 0;
}
