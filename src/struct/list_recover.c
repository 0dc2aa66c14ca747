/*
 * list_recover.c - owns a new list's initial layout and the verification
 * and repair that the first opener runs after an unclean shutdown.
 *
 * A clean open is O(1): the headers were checked by coll.c and nothing
 * else is read.  After an unclean shutdown (no clean-close marker) the
 * list is verified: every element's record must lie inside the written
 * part of the data file, decode, have the list's type and a valid
 * checksum.  Elements that fail are dropped (a list cannot be rebuilt from
 * the data file: records do not carry their position), a structural change
 * that died is finished, and the counters are recomputed.  What was
 * dropped is reported by fsc_metrics.repaired_items.  Before that, the
 * structure words (length word, descriptors) are compared with their seal
 * (internal.h, struct fsc__list_seal) and a damaged one restored, so that
 * the list kept is the newest one, never an older array.  Each kind of
 * repair is counted apart (fsc_metrics.repaired_*, enum fsc__rep).
 */
#include "struct/list_struct.h"

int fsc__list_init(struct fsc__gen *c) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t icap = ck_pr_load_64(&ih->icap);
  uint64_t cap = (icap - FSC__HDR_SIZE - FSC__TRAILER) / 8;
  ih->desc[0].off = FSC__HDR_SIZE;
  ih->desc[0].cap = cap;
  ih->desc[0].hw = 0;
  ih->itail = FSC__HDR_SIZE + cap * 8;
  fsc__ls_seal(ih, FSC__LW_MAKE(0, 0, 0));
  ih->lenword = FSC__LW_MAKE(0, 0, 0);
  return 0;
}

int fsc__list_recover(struct fsc__gen *c, bool unclean) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  struct fsc__data_hdr *d = fsc__dhdr(c);
  uint64_t rep[FSC__REP_N] = {0};
  if (!unclean) {
    ck_pr_store_64(&ih->repaired, 0);
    for (int k = 0; k < FSC__REP_AT_CLOSE; k++)
      ck_pr_store_64(&ih->rep[k], 0);
    return 0;
  }
  uint64_t w = ck_pr_load_64(&ih->lenword);
  if (!(w & FSC__LW_FROZEN)) {
    /* The structure words first: a damaged one restored from the seal
     * (a frozen word is republished, and sealed, below). */
    rep[FSC__REP_RESTORED] += fsc__ls_seal_fix(c);
  } else {
    rep[FSC__REP_RESTORED]++; /* the interrupted change, finished */
  }
  w = ck_pr_load_64(&ih->lenword);
  if (!(w & FSC__LW_FROZEN)) {
    /* A length no array of this capacity can hold (damage): take it from
     * the slots, the elements being the leading values. */
    unsigned b = FSC__LW_BUFIDX(w);
    uint64_t cap = ck_pr_load_64(&ih->desc[b].cap);
    uint64_t *arr = NULL;
    if (FSC__LW_LEN(w) > cap &&
        fsc__ls_desc_array(c, b, &arr, &cap) == 0) {
      uint64_t k = 0; /* (past the slots pops took: HEAD) */
      while (k < cap && FSC__SLOT_IS_TAKEN(ck_pr_load_64(&arr[k])))
        k++;
      while (k < cap && FSC__SLOT_IS_VALUE(ck_pr_load_64(&arr[k])))
        k++;
      ck_pr_store_64(&ih->lenword, (w & ~FSC__LW_LEN_MASK) | k);
      rep[FSC__REP_COUNTERS]++;
    }
    fsc__err_clear();
  }
  uint64_t kept = 0, dropped = 0, adopted = 0;
  int rc = fsc__ls_recover_locked(c, fsc__rec_verify_live, &kept, &dropped,
                                  &adopted);
  if (rc)
    return rc;
  rep[FSC__REP_DROPPED] = dropped;
  /* One pending append adopted is the length corrected; more are
   * elements a damaged length hid, restored. */
  rep[FSC__REP_COUNTERS] += adopted ? 1 : 0;
  rep[FSC__REP_RESTORED] += adopted > 1 ? adopted - 1 : 0;
  uint64_t tail = ck_pr_load_64(&d->tail);
  uint64_t used = tail - FSC__HDR_SIZE;
  uint64_t dead = used > kept ? used - kept : 0;
  if (ck_pr_load_64(&d->live_bytes) != kept ||
      ck_pr_load_64(&d->dead_bytes) != dead)
    rep[FSC__REP_COUNTERS]++;
  ck_pr_store_64(&d->live_bytes, kept);
  ck_pr_store_64(&d->dead_bytes, dead);
  fsc__gen_note_repairs(c, rep);
  return 0;
}
