/*
 * list_pop.c - owns the pop at the head of a list, which takes no lock:
 * fsc_list_pop(l, 0) and fsc_list_pop_wait(l, 0) of a list (not
 * auto_compact), and HEAD, the slot of element 0 (doc/CONCURRENCY.md,
 * "Pops at the head").
 *
 * The list is slots [HEAD, END) of the active array: END is the length
 * word's LEN, HEAD is the head word (FSC__LH_*, doc/FORMAT.md), tagged
 * with the epoch of the length word it belongs to.  A pop:
 *  1. reads (w, HEAD = h) consistently and slot[h] = v, re-checking that
 *     neither the epoch nor the head word moved (fsc__ls_moved);
 *  2. claims it: CAS slot[h] v -> TAKEN(v) (FSC__SLOT_TAKEN).  Only one
 *     claim, setter or change's freeze can win the slot's value;
 *  3. passes HEAD: CAS head word (E, h) -> (E, h + 1).  Anyone who finds
 *     slot HEAD TAKEN makes the same CAS (a popper, a setter, a change's
 *     freeze: list_struct.c settle_head), so a popper killed between 2
 *     and 3 leaves a state the next one finishes.
 * The pop takes effect at 3 (HEAD passing h): until then readers read
 * TAKEN(v) at HEAD as v, and the popper returns only once HEAD is past h.
 * The element a killed popper claimed is gone once anyone passes HEAD:
 * that, and only that, is lost (the documented contract).
 *
 * Appenders are untouched: they fill slot END and never meet HEAD (a
 * popper claims only below END).  A structural change freezes the word,
 * settles HEAD and freezes slot HEAD (so step 2 fails, and the popper
 * waits for the word), and publishes the head word of its new epoch
 * before the length word.
 */
#include "struct/list_struct.h"

#define POP_SPINS 256

void fsc__ls_head_pass(struct fsc__index_hdr *ih, unsigned buf,
                       uint64_t h) {
  for (unsigned tries = 0; tries < (1u << 20); tries++) {
    uint64_t lh = ck_pr_load_64(&ih->lhead);
    ck_pr_fence_load(); /* the head word before the length word */
    uint64_t w = ck_pr_load_64(&ih->lenword);
    /* Another array: a change copied the list from past our slot. */
    if (FSC__LW_BUFIDX(w) != buf)
      return;
    bool ok;
    uint64_t cur = fsc__lh_resolve(lh, w, &ok);
    if (!ok) { /* a change between its two stores */
      ck_pr_stall();
      continue;
    }
    /* Past h: someone passed it.  Below h: not our list any more (a
     * change published and the array came back; see the ABA note in
     * doc/CONCURRENCY.md). */
    if (cur != h)
      return;
    /* Release: the claim (2) is before HEAD passes it. */
    if (ck_pr_cas_64(&ih->lhead, lh, FSC__LH_MAKE(FSC__LW_EPOCH(w), h + 1)))
      return;
  }
}

int fsc__ls_pop_first(struct fsc__gen *c, uint64_t *off) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  for (unsigned tries = 0;; tries++) {
    uint64_t w = 0, lh = 0, h = 0, *arr, cap;
    int rc = fsc__ls_hview(c, &w, &lh, &h, &arr, &cap);
    if (rc)
      return rc;
    if (w & FSC__LW_FROZEN) { /* a change: wait for it (or finish it) */
      if ((rc = fsc__ls_wait(c)) != 0)
        return rc;
      continue;
    }
    if (h >= FSC__LW_LEN(w)) /* HEAD was h while END was LEN(w) */
      return fsc__err(FSC_EINDEX, "pop from empty list");
    uint64_t s = ck_pr_load_64(&arr[h]);
    if (fsc__ls_moved(ih, w, lh))
      continue;
    if (FSC__SLOT_IS_TAKEN(s)) { /* claimed, HEAD not yet passed: help */
      ck_pr_cas_64(&ih->lhead, lh, FSC__LH_MAKE(FSC__LW_EPOCH(w), h + 1));
      continue;
    }
    if (!FSC__SLOT_IS_VALUE(s) || (s & FSC__SLOT_FROZEN)) {
      /* A change froze the slot before we saw its frozen word; one that
       * stays so under the same unfrozen words is damage. */
      if (tries > POP_SPINS) {
        if (ck_pr_load_64(&ih->lenword) == w &&
            ck_pr_load_64(&ih->lhead) == lh)
          return fsc__err(FSC_ECORRUPT, "list slot %llu holds no record",
                          (unsigned long long)h);
        tries = 0;
      }
      ck_pr_stall();
      continue;
    }
    /* s was read at HEAD within w's epoch and lh: the CAS wins the value
     * only if no setter, claim or change's freeze took it since. */
    if (ck_pr_cas_64(&arr[h], s, FSC__SLOT_TAKEN(s))) {
      fsc__ls_head_pass(ih, FSC__LW_BUFIDX(w), h);
      *off = FSC__SLOT_OFF(s);
      return 0;
    }
  }
}
