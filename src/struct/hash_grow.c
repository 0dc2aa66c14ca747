/*
 * hash_grow.c - owns the rebuilds of the dict/set index that run while
 * others read and write it: growth and tombstone clean-up (a writer that
 * found the table full), clear, the finish of a rebuild whose process
 * died, verify's repair of a damaged table (hash_verify.c), and
 * compaction's freeze and thaw of the table (the regions they lay tables
 * out in, and the hash of a stored key they rehash by, are
 * hash_region.c's; growth by migration is hash_migrate.c's).  The
 * lock-free side that
 * meets a rebuild (kwait, count_add) is hash.c's; the slot encoding is
 * hash_slot.h's.
 *
 * Invariants, and where they are kept:
 *  - A rebuild holds the structure lock, freezes the word, then every
 *    slot (a racing CAS fails and retries after it), fills the spare
 *    table, and publishes it with one store of the word
 *    (fsc__hash_rebuild_locked).  Before that store the old table is
 *    intact, so a rebuilder that dies loses nothing: the next one that
 *    finds the word frozen redoes it.
 *  - A growth lays the spare table out (region, page faults, empty
 *    slots of the new epoch) before it freezes anything, changing no word
 *    the seal covers: the old region is given up (desc.hw = 0) only under
 *    the frozen word (fsc__hash_rebuild_locked, spare_layout).
 *  - The spare table's region is one the index handed out, clear of the
 *    active table; new space moves itail before it is used, so no region
 *    is handed out twice (fsc__hash_spare_region, hash_region.c).
 *  - Empty slots of a reused table carry the new epoch (KS_EMPTY), so a
 *    writer that slept through two rebuilds cannot CAS into a slot it saw
 *    empty in an older life of the same memory.
 *  - Before the store of the word that publishes, a rebuild seals the
 *    structure words (the word's BUF and EPOCH, both descriptors:
 *    fsc__ls_seal, the list's, doc/FORMAT.md "The seal"); one that gives
 *    up seals them as it leaves them.  So while the word is not frozen
 *    they equal the seal, and while it is frozen the word's BUF and EPOCH
 *    and the source table's descriptor do: the finish of an orphan
 *    restores those from the seal first (fsc__hash_seal_frozen), so that
 *    it never copies a superseded table a damaged word names.
 */
#include "struct/hash_slot.h"

#include <string.h>

static uint64_t slot_freeze(uint64_t *slot) {
  uint64_t s = ck_pr_load_64(slot);
  while (!(s & KS_FROZEN) &&
         !ck_pr_cas_64_value(slot, s, s | KS_FROZEN, &s))
    ck_pr_stall();
  return s & ~KS_FROZEN;
}

/* Place record off (its key's hash known in the low nb bits of h, at
 * least log2(cap); 64 with hash words) in a table being built, of 8-byte
 * slots if s8.  No one else writes
 * it, but a reader or writer that met this memory in an older life of the
 * table may still load (or fail a CAS on) a slot: atomic stores, so that
 * no word is ever seen half-written (also in the fill of
 * fsc__hash_rebuild_locked). */
static void place(bool s8, uint64_t *dst, uint64_t cap, uint64_t fill,
                  uint64_t h, unsigned nb, uint64_t off, uint64_t epoch) {
  uint64_t mask = cap - 1, i = h & mask;
  while (dst[i] != fill)
    i = (i + 1) & mask;
  if (s8) {
    ck_pr_store_64(&dst[i], fsc__ks8_make(h, nb, i, cap, off));
    return;
  }
  ck_pr_store_64(&dst[cap + i], KS_HV_MAKE(h, epoch)); /* its hash word */
  ck_pr_store_64(&dst[i], KS_MAKE(h, off));
}

#define SEAL_BITS (FSC__LW_BUF | (FSC__LW_EPOCH_MASK << FSC__LW_EPOCH_SHIFT))

uint64_t fsc__hash_seal_frozen(struct fsc__gen *c, bool fix) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t differ;
  enum fsc__seal_state st = fsc__ls_seal_state(ih, &differ);
  if (st != FSC__SEAL_OK && st != FSC__SEAL_LIVE)
    return 0; /* no seal, or a broken one: the finish seals again */
  uint64_t sw = ck_pr_load_64(&ih->seal.word);
  unsigned sb = FSC__LW_BUFIDX(sw);
  struct fsc__list_desc *ld = &ih->desc[sb];
  const struct fsc__list_desc *sd = &ih->seal.desc[sb];
  uint64_t w = ck_pr_load_64(&ih->lenword);
  uint64_t n = ((w & SEAL_BITS) != sw) +
               (ck_pr_load_64(&ld->off) != ck_pr_load_64(&sd->off)) +
               (ck_pr_load_64(&ld->cap) != ck_pr_load_64(&sd->cap)) +
               (ck_pr_load_64(&ld->hw) != ck_pr_load_64(&sd->hw));
  if (!n || !fix)
    return n;
  ck_pr_store_64(&ld->off, ck_pr_load_64(&sd->off));
  ck_pr_store_64(&ld->cap, ck_pr_load_64(&sd->cap));
  ck_pr_store_64(&ld->hw, ck_pr_load_64(&sd->hw));
  ck_pr_fence_store();
  while (!ck_pr_cas_64_value(&ih->lenword, w, (w & ~SEAL_BITS) | sw, &w))
    ck_pr_stall();
  return n;
}

/* The spare table a rebuild lays out: its region (room slots at off,
 * fresh: new space at the index tail), the capacity it is laid out for
 * and the value of its empty slots. */
struct spare {
  uint64_t off, room, cap, fill;
  bool fresh;
};

/* Lay out spare table t for cap slots of epoch e1 (structure lock held):
 * a region (fsc__hash_spare_region, clear of the source table src), its
 * pages faulted in, every slot empty and no hash word (of the file's
 * format: hash_slot.h). */
static int spare_layout(struct fsc__gen *c, unsigned t, uint64_t cap,
                        uint64_t e1, const struct fsc__ktab *src,
                        struct spare *sp) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t toff;
  bool fresh;
  int rc = fsc__hash_spare_region(c, t, cap,
                                  ck_pr_load_64(&ih->desc[src->buf].off),
                                  src->cap * 8, &toff, &fresh);
  if (rc)
    return rc;
  uint64_t room = fresh ? cap : KS_HW_ROOM(ck_pr_load_64(&ih->desc[t].hw));
  uint64_t *dst = fsc__ptr(c, &c->index, toff, cap * fsc__ks_bytes(c));
  if (!dst)
    return fsc__err_last();
  fsc__mem_populate(dst, cap * fsc__ks_bytes(c));
  uint64_t fill = fresh ? 0 : KS_EMPTY(e1);
  for (uint64_t i = 0; i < cap; i++) {
    ck_pr_store_64(&dst[i], fill);
    if (!c->s8)
      ck_pr_store_64(&dst[cap + i], 0); /* no hash word yet */
  }
  *sp = (struct spare){toff, room, cap, fill, fresh};
  return 0;
}

/* Structure lock held.  Freeze, copy the live keys into the spare table
 * (none with KS_RB_CLEAR; rehashed by their hash words, or with
 * KS_RB_RECORDS, or for a slot without a trusted word, by their records'
 * keys), publish.  Also finishes a rebuild whose process
 * died (the word is then frozen already).
 *
 * The spare table is laid out before the freeze when it can be (a growth
 * or clean-up that finds the word unfrozen): its region, the growth of the
 * index file, the page faults of the new table and the fill of its empty
 * slots cost the writers nothing, since they keep writing the old table
 * meanwhile; the frozen window is the freeze of the slots and the copy.
 * That is safe because only a rebuild (lock held) moves EPOCH, so the
 * epoch e1 of the empty slots is the one the publish gives, and because
 * the spare table is no table the word names: a writer that probed it
 * in an older life re-checks the word after its probe (kprobe), and one
 * that sleeps between that check and its CAS fails the CAS, whether the
 * fill came before the freeze or after.  The capacity is guessed from the
 * word's COUNT; when the count of live slots under the freeze asks for
 * more room than that, the table is laid out again under the freeze (as
 * all of it was before). */
int fsc__hash_rebuild_locked(struct fsc__gen *c, int mode) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  bool clear = (mode & KS_RB_CLEAR) != 0;
  bool trust = !(mode & KS_RB_RECORDS);
  struct spare sp = {0};
  bool early = false;
  int rc;
  uint64_t w = ck_pr_load_64(&ih->lenword);
  /* A growth migrating: finished first, so that the table copied holds
   * every key (hash_migrate.c). */
  if (!(w & FSC__LW_FROZEN) && fsc__hash_migrating(c)) {
    if ((rc = fsc__hash_migrate_finish(c)) != 0)
      return rc;
    w = ck_pr_load_64(&ih->lenword);
  }
  if (!clear && !(w & FSC__LW_FROZEN)) {
    struct fsc__ktab pre = {0};
    if ((rc = fsc__ktab_desc(c, FSC__LW_BUFIDX(w), &pre)) != 0)
      return rc;
    uint64_t e1 = (FSC__LW_EPOCH(w) + 1) & FSC__LW_EPOCH_MASK;
    if ((rc = spare_layout(c, pre.buf ^ 1u,
                           fsc__ktab_cap_for(2 * (FSC__LW_LEN(w) + 1)), e1,
                           &pre, &sp)) != 0)
      return rc; /* nothing frozen, no sealed word changed */
    early = true;
  }
  for (;;) {
    w = ck_pr_load_64(&ih->lenword);
    if (w & FSC__LW_FROZEN) {
      /* An orphan: its rebuilder died.  Finished from the table the seal
       * names (a damaged word would name a superseded one). */
      uint64_t n = fsc__hash_seal_frozen(c, true);
      if (n) {
        ck_pr_add_64(&ih->repaired, n);
        w = ck_pr_load_64(&ih->lenword);
      }
      early = false; /* (not ours: lay the spare out again) */
      break;
    }
    if (ck_pr_cas_64(&ih->lenword, w, w | FSC__LW_FROZEN)) {
      w |= FSC__LW_FROZEN;
      break;
    }
  }
  /* An orphan whose seal names a migrating table (a start killed between
   * its seal and its word): its keys are in two tables, and the spare
   * region is the old one.  The migration is finished first, under the
   * frozen word (hash_migrate.c). */
  if ((rc = fsc__hash_migrate_finish_frozen(c)) != 0)
    return rc;
  w = ck_pr_load_64(&ih->lenword);
  struct fsc__ktab src = {0};
  rc = fsc__ktab_desc(c, FSC__LW_BUFIDX(w), &src);
  if (rc)
    return rc; /* left frozen: the table itself is corrupt */
  uint64_t n = 0, bad = 0;
  for (uint64_t i = 0; i < src.cap; i++) {
    uint64_t s = slot_freeze(&src.arr[i]);
    if (fsc__ks_value(s))
      n++;
  }
  uint64_t cap = clear ? KS_MIN_CAP : fsc__ktab_cap_for(2 * (n + 1));
  unsigned t = src.buf ^ 1u;
  uint64_t e1 = (FSC__LW_EPOCH(w) + 1) & FSC__LW_EPOCH_MASK;
  if (early && sp.cap != cap && cap <= sp.room) {
    /* Fewer slots than the guess: the same region, laid out again (its
     * pages are in already). */
    uint64_t *d = fsc__ptr(c, &c->index, sp.off, cap * fsc__ks_bytes(c));
    if (!d) {
      rc = fsc__err_last();
      goto unfreeze;
    }
    for (uint64_t i = 0; i < cap * (fsc__ks_bytes(c) / 8); i++)
      ck_pr_store_64(&d[i], i < cap ? sp.fill : 0);
    sp.cap = cap;
  } else if (!early || sp.cap != cap) {
    if ((rc = spare_layout(c, t, cap, e1, &src, &sp)) != 0)
      goto unfreeze;
  }
  uint64_t toff = sp.off, fill = sp.fill;
  bool fresh = sp.fresh;
  if (fresh) /* the old region is given up (under the frozen word) */
    ck_pr_store_64(&ih->desc[t].hw, 0);
  uint64_t *dst = fsc__ptr(c, &c->index, toff, cap * fsc__ks_bytes(c));
  if (!dst) {
    rc = fsc__err_last();
    goto unfreeze;
  }
  uint64_t live = 0, ep = FSC__LW_EPOCH(w);
  if (!clear) {
    for (uint64_t i = 0; i < src.cap; i++) {
      uint64_t s = ck_pr_load_64(&src.arr[i]) & ~KS_FROZEN, h;
      if (!fsc__ks_value(s))
        continue;
      uint64_t off = s & fsc__ks_offmask(src.s8);
      uint64_t hv = src.hv ? ck_pr_load_64(&src.hv[i]) : 0;
      unsigned nb = 64, sb = 0; /* (bits of h known: all, or the slot's) */
      bool known = false;
      if (trust && src.hv && KS_HV_OK(hv, ep)) {
        h = KS_HV_FULL(hv, s); /* the index alone: no data page read */
        known = true;
      } else if (trust && src.s8 && fsc__ks8_hash(s, i, src.cap, &h, &sb) &&
                 sb >= fsc__ks_lg(cap)) {
        nb = sb; /* the slot alone: its home and field cover the new home */
        known = true;
      }
      if (!known && fsc__krec_hash(c, off, &h) != 0) {
        bad++; /* a slot naming no valid record: dropped */
        continue;
      }
      place(src.s8, dst, cap, fill, h, nb, off, e1);
      live++;
    }
  }
  ck_pr_fence_store(); /* the table is complete before its descriptor */
  ck_pr_store_64(&ih->desc[t].off, toff);
  ck_pr_store_64(&ih->desc[t].cap, cap);
  /* (Neither table is migrating once this publishes: a start whose
   * process died under the frozen word left KS_HW_MIG in the spare's.) */
  ck_pr_store_64(&ih->desc[t].hw, (fresh ? sp.room
                                         : KS_HW_ROOM(ck_pr_load_64(
                                               &ih->desc[t].hw))) |
                                      fsc__ks_hwfmt(c));
  ck_pr_store_64(&ih->desc[src.buf].hw,
                 ck_pr_load_64(&ih->desc[src.buf].hw) & ~KS_HW_MIG);
  ck_pr_store_64(&ih->kused, live);
  /* This publish recounted: increments owed to older slots are dropped
   * (count_add in hash.c, fsc__hash_recounted). */
  ck_pr_store_64(&ih->kcount_ep, e1 | KS_CEP_VALID);
  /* The seal of what is published (doc/FORMAT.md "The seal"); its fence
   * orders the descriptor before the word. */
  fsc__ls_seal(ih, FSC__LW_MAKE(t, e1, live));
  ck_pr_store_64(&ih->lenword, FSC__LW_MAKE(t, e1, live));
  if (bad)
    ck_pr_add_64(&ih->repaired, bad);
  if (clear) {
    for (uint64_t i = 0; i < src.cap; i++) {
      uint64_t s = ck_pr_load_64(&src.arr[i]) & ~KS_FROZEN;
      if (fsc__ks_value(s))
        fsc__rec_retire(c, s & fsc__ks_offmask(src.s8));
    }
  }
  fsc__err_clear();
  return 0;

unfreeze:
  /* The old table stays, under the same epoch and count: writers that
   * CASed a slot before the freeze still count themselves. */
  for (uint64_t i = 0; i < src.cap; i++)
    ck_pr_and_64(&src.arr[i], ~KS_FROZEN);
  /* (The spare's descriptor may have changed: seal the words as they
   * are; its fence orders the slots before the word.) */
  fsc__ls_seal(ih, w & ~FSC__LW_FROZEN);
  ck_pr_store_64(&ih->lenword, w & ~FSC__LW_FROZEN);
  return rc;
}

/* Compaction (lock held): freeze the word and every slot of the table,
 * after finishing a rebuild whose process died. */
int fsc__hash_freeze(struct fsc__gen *c) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t w;
  for (;;) {
    w = ck_pr_load_64(&ih->lenword);
    if (!(w & FSC__LW_FROZEN) && fsc__hash_migrating(c)) {
      int rc = fsc__hash_migrate_finish(c); /* the copy reads one table */
      if (rc)
        return rc;
      continue;
    }
    if (w & FSC__LW_FROZEN) {
      int rc = fsc__hash_rebuild_locked(c, 0);
      if (rc)
        return rc;
      continue;
    }
    if (ck_pr_cas_64(&ih->lenword, w, w | FSC__LW_FROZEN))
      break;
  }
  struct fsc__ktab t = {0};
  int rc = fsc__ktab_desc(c, FSC__LW_BUFIDX(w), &t);
  if (rc) {
    ck_pr_store_64(&ih->lenword, w);
    return rc;
  }
  for (uint64_t i = 0; i < t.cap; i++)
    slot_freeze(&t.arr[i]);
  return 0;
}

/* Undo fsc__hash_freeze (lock held). */
void fsc__hash_thaw(struct fsc__gen *c) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t w = ck_pr_load_64(&ih->lenword);
  struct fsc__ktab t = {0};
  if (fsc__ktab_desc(c, FSC__LW_BUFIDX(w), &t) == 0)
    for (uint64_t i = 0; i < t.cap; i++)
      ck_pr_and_64(&t.arr[i], ~KS_FROZEN);
  ck_pr_fence_store();
  ck_pr_store_64(&ih->lenword, w & ~FSC__LW_FROZEN);
}

/* Grow (or clean tombstones from) the table seen with word w: a writer
 * that found it full, or too full to insert.  With nowait, 1 if the lock
 * is taken (most often by a rebuild laying out the spare table, which has
 * not frozen this one yet). */
int fsc__hash_grow(struct fsc__gen *c, uint64_t w, bool nowait) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  int rc = nowait ? fsc__lock_try(c) : fsc__lock(c);
  if (rc)
    return rc;
  uint64_t now = ck_pr_load_64(&ih->lenword);
  if ((now & FSC__LW_FROZEN) || !((now ^ w) & ~FSC__LW_LEN_MASK)) {
    /* (else another writer grew it) */
    rc = 1;
    if (!(now & FSC__LW_FROZEN) && fsc__hash_migrate_on()) {
      /* Growth by migration (hash_migrate.c): a migration that the
       * inserts outran is finished first. */
      rc = fsc__hash_migrating(c) ? fsc__hash_migrate_finish(c) : 0;
      if (rc == 0 &&
          (rc = fsc__hash_migrate_start(c, ck_pr_load_64(&ih->lenword))) == 0)
        rc = fsc__hash_migrate_step(c);
    }
    if (rc == 1)
      rc = fsc__hash_rebuild_locked(c, 0);
  }
  fsc__unlock(c);
  return rc;
}
