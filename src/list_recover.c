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
 * dropped is reported by fsc_metrics.repaired_items.
 */
#include "list_struct.h"

int fsc__list_init(struct fsc__coll *c) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t icap = ck_pr_load_64(&ih->icap);
  uint64_t cap = (icap - FSC__HDR_SIZE - FSC__TRAILER) / 8;
  ih->desc[0].off = FSC__HDR_SIZE;
  ih->desc[0].cap = cap;
  ih->desc[0].hw = 0;
  ih->itail = FSC__HDR_SIZE + cap * 8;
  ih->lenword = FSC__LW_MAKE(0, 0, 0);
  return 0;
}

int fsc__list_recover(struct fsc__coll *c, bool unclean) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  struct fsc__data_hdr *d = fsc__dhdr(c);
  if (!unclean) {
    ck_pr_store_64(&ih->repaired, 0);
    return 0;
  }
  uint64_t kept = 0, dropped = 0;
  int rc = fsc__ls_recover_locked(c, fsc__rec_verify, &kept, &dropped);
  if (rc)
    return rc;
  uint64_t tail = ck_pr_load_64(&d->tail);
  uint64_t used = tail - FSC__HDR_SIZE;
  ck_pr_store_64(&d->live_bytes, kept);
  ck_pr_store_64(&d->dead_bytes, used > kept ? used - kept : 0);
  ck_pr_store_64(&ih->repaired, dropped);
  return 0;
}
