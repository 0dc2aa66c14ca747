/*
 * list_verify.c - owns the list's half of fsc_*_verify (file/verify.c is
 * the driver; file/verify.h the pass they share): the check of the
 * pointer array under the structure lock (fsc__list_vscan: the structure
 * words against their seal, the descriptors, the length, every slot and
 * the record it names) and its repair (fsc__list_vrepair), the list's row
 * of the kind operations table (list_ops.c).
 *
 * Repair, one layer a round (the driver checks again after each):
 *  - damaged structure words are restored from the seal first (a round of
 *    its own: fsc__ls_seal_fix);
 *  - a length above the array's capacity is taken from the slots;
 *  - then a structure, length or record problem is repaired by the list's
 *    own recovery (fsc__ls_recover_locked): freeze, keep the elements
 *    whose record verifies (fsc__rec_verify_live), republish.  That is a
 *    structural change, safe while others write.
 *  - byte counters: corrected by what a quiet pass measured.
 */
#include "file/verify.h"
#include "struct/list_struct.h"

/* Slots above the length a check looks at for hidden elements. */
#define ABOVE_LOOK 64

/* A list record holds one value. */
static int list_parse(struct fsc__gen *c, uint64_t off,
                      const struct fsc__rec *h, void *out) {
  (void)c;
  (void)off;
  (void)out;
  fsc_value v;
  return fsc__value_decode((fsc_type)fsc__rec_type(h), fsc__rec_pl(h),
                           fsc__rec_size(h), &v);
}

/* The check of the list, noting problems in p (struct fsc__kind_ops
 * vscan); with p->locked, the structure lock is held. */
void fsc__list_vscan(struct fsc__vpass *p) {
  struct fsc__gen *c = p->c;
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t w = fsc__vbegin(p);
  bool frozen = (w & FSC__LW_FROZEN) != 0;
  unsigned buf = FSC__LW_BUFIDX(w);
  uint64_t len = FSC__LW_LEN(w);
  if (frozen) {
    fsc__vnote(p, &p->structure, "a structural change of the list was "
               "interrupted (its process died holding the lock)");
    p->need_struct = true;
  }
  bool by_seal = false; /* judge the array by the seal's descriptors */
  if (!frozen && p->locked) {
    /* Under the lock only LEN moves: the other words must be the sealed
     * ones.  A live word that differs from a seal that holds is damage
     * that would make another array (an older list) the list; judge the
     * array by the seal's words (see internal.h, struct fsc__list_seal). */
    uint64_t n = 0;
    enum fsc__seal_state st = fsc__ls_seal_state(ih, &n);
    if (st == FSC__SEAL_LIVE) {
      fsc__vnote(p, &p->structure, "%llu of the list's structure words (the "
                 "length word's array and epoch, the array descriptors) "
                 "differ from their sealed copy: damage that would make "
                 "another array the list", (unsigned long long)n);
      p->seal_fix = p->need_struct = by_seal = true;
      w = (w & ~(FSC__LW_BUF | (FSC__LW_EPOCH_MASK << FSC__LW_EPOCH_SHIFT))) |
          ck_pr_load_64(&ih->seal.word);
      buf = FSC__LW_BUFIDX(w);
    } else if (st == FSC__SEAL_BROKEN) {
      fsc__vnote(p, &p->structure, "the sealed copy of the list's structure "
                 "words is damaged");
      p->seal_fix = p->need_struct = true;
    }
  }
  const struct fsc__list_desc *dsc =
      by_seal ? &ih->seal.desc[buf] : &ih->desc[buf];
  uint64_t off = ck_pr_load_64(&dsc->off);
  uint64_t cap = ck_pr_load_64(&dsc->cap);
  if (!fsc__vregion_ok(c, off, cap)) {
    fsc__vnote(p, &p->structure, "the list's array descriptor (offset %llu, "
               "capacity %llu) names no region of the index",
               (unsigned long long)off, (unsigned long long)cap);
    p->unrepairable = true;
    return;
  }
  if (!by_seal)
    fsc__vcheck_spare(p, buf, off, cap);
  if (len > cap) {
    fsc__vnote(p, &p->counters, "the list's length %llu exceeds its array's "
               "capacity %llu", (unsigned long long)len,
               (unsigned long long)cap);
    /* (With the array sound, the repair takes the length from its
     * slots.) */
    if (frozen || by_seal)
      p->unrepairable = true;
    else
      p->len_over = true;
    return;
  }
  uint64_t *arr = fsc__ptr(c, &c->index, off, cap * 8);
  if (!arr) {
    fsc__vnote(p, &p->structure, "the list's array lies beyond the index "
               "capacity");
    p->unrepairable = true;
    return;
  }
  /* The list is slots [HEAD, LEN): below HEAD, slots pops took.  A head
   * word of another epoch is damage (or a change that died between its
   * two stores): HEAD is where the TAKEN slots end, as the repair will
   * find it (list_struct.c settle_head). */
  bool hok;
  uint64_t lh = ck_pr_load_64(&ih->lhead);
  uint64_t head = fsc__lh_resolve(lh, w, &hok);
  if (!hok) {
    for (head = 0; head < len && FSC__SLOT_IS_TAKEN(ck_pr_load_64(&arr[head]));)
      head++;
    if (!frozen) {
      fsc__vnote(p, &p->structure, "the list's head word %#llx does not go "
                 "with its length word", (unsigned long long)lh);
      p->need_struct = true;
    }
  } else if (head > 0 && !FSC__SLOT_IS_TAKEN(ck_pr_load_64(&arr[head - 1]))) {
    /* Below HEAD, only slots pops took: an element there is one a damaged
     * head word hides (the repair finds HEAD from the slots). */
    fsc__vnote(p, &p->structure, "list slot %llu, below the head %llu, is "
               "not a popped slot", (unsigned long long)(head - 1),
               (unsigned long long)head);
    p->need_struct = true;
  }
  uint64_t empty_below = 0;
  for (uint64_t i = head; i <= len && i < cap; i++) {
    uint64_t s = ck_pr_load_64(&arr[i]);
    p->slots_checked++;
    if (i < len && FSC__SLOT_IS_TAKEN(s)) {
      /* A pop at the head, which takes no lock, claimed it (at HEAD, or
       * HEAD moved here since it was read): no longer an element, and no
       * damage.  Past a HEAD that has not moved it is damage. */
      ck_pr_fence_load();
      if (i > head && ck_pr_load_64(&ih->lhead) == lh) {
        fsc__vnote(p, &p->structure, "list slot %llu, past the head %llu, "
                   "is a popped slot", (unsigned long long)i,
                   (unsigned long long)head);
        p->need_struct = true;
        continue;
      }
      /* Until HEAD passes it, readers take the claimed slot's record as
       * element HEAD (list_pop.c): it must be a sound record, or they
       * read garbage.  Damaged, the repair's rebuild drops the slot (it
       * finishes the pop). */
      uint64_t total = 0;
      enum fsc__verdict r = fsc__vcheck_rec(p, FSC__SLOT_OFF(s), list_parse,
                                            NULL, &total);
      p->records_checked++;
      if (r != FSC__RV_OK && ck_pr_load_64(&arr[i]) == s) {
        fsc__vnote_bad(p, r, i, FSC__SLOT_OFF(s));
        p->need_struct = true;
      }
      continue;
    }
    if (i == len) {
      /* Slot LEN: empty, a pending append (a promised element, counted by
       * the next append or change), or a fence while a change holds the
       * list.  Anything else, or a fence under an unfrozen word, is
       * damage that blocks appenders. */
      if (FSC__SLOT_IS_VALUE(s)) {
        p->pending = true; /* and on to the record check */
      } else if (FSC__SLOT_IS_TAKEN(s)) {
        /* Appended and popped at the head since the word was read (both
         * lock-free): the list moved on; damage only under the same
         * words. */
        ck_pr_fence_load();
        if (ck_pr_load_64(&ih->lenword) == w &&
            ck_pr_load_64(&ih->lhead) == lh) {
          fsc__vnote(p, &p->structure, "list slot %llu (the length) is a "
                     "popped slot", (unsigned long long)i);
          p->need_struct = true;
        }
        break;
      } else if (s == FSC__SLOT_FENCE) {
        if (!frozen) {
          fsc__vnote(p, &p->structure, "list slot %llu (the length) is "
                     "fenced, but no change holds the list",
                     (unsigned long long)i);
          p->need_struct = true;
        }
        break;
      } else if (s != 0 && !(s & FSC__SLOT_EMPTY_FLAG)) {
        fsc__vnote(p, &p->structure, "list slot %llu (the length) holds "
                   "garbage %#llx", (unsigned long long)i,
                   (unsigned long long)s);
        p->need_struct = true;
        break;
      } else {
        break;
      }
    }
    if (!FSC__SLOT_IS_VALUE(s)) {
      p->need_struct = true;
      if (s != 0 && !(s & FSC__SLOT_EMPTY_FLAG) && s != FSC__SLOT_FENCE) {
        p->elems++;
        if ((s & 6u) == 0) { /* an offset, inside the header page */
          p->records_checked++;
          fsc__vnote_bad(p, FSC__RV_DANGLING, i, FSC__SLOT_OFF(s));
        } else
          fsc__vnote(p, &p->structure, "list slot %llu holds garbage %#llx",
                     (unsigned long long)i, (unsigned long long)s);
        continue;
      }
      /* Below the length every slot holds an element, except under a
       * change that died (a half-done pop), counted above. */
      if (!frozen)
        empty_below++;
      p->phantoms++;
      continue;
    }
    if ((s & FSC__SLOT_FROZEN) && !frozen) {
      fsc__vnote(p, &p->structure, "list slot %llu is frozen, but no change "
                 "holds the list", (unsigned long long)i);
      p->need_struct = true;
    }
    enum fsc__verdict r = FSC__RV_OK;
    uint64_t total = 0;
    for (int k = 0; k < FSC__V_SLOT_RETRY; k++) {
      r = fsc__vcheck_rec(p, FSC__SLOT_OFF(s), list_parse, NULL,
                          &total);
      if (r == FSC__RV_OK)
        break;
      /* A record never changes; if the slot did (an item assignment),
       * the bad record is no longer the list's: check the new one. */
      ck_pr_fence_load();
      uint64_t s2 = ck_pr_load_64(&arr[i]);
      if (s2 == s || !FSC__SLOT_IS_VALUE(s2))
        break;
      s = s2;
    }
    p->records_checked++;
    p->elems++;
    if (r != FSC__RV_OK) {
      fsc__vnote_bad(p, r, i, FSC__SLOT_OFF(s));
      p->need_struct = true;
      /* (A record whose extent is known is retired once dropped.) */
      if (r == FSC__RV_SUM || r == FSC__RV_TYPE)
        fsc__vmark(p, i, FSC__SLOT_OFF(s), FSC__SLOT_OFF(s), true);
      continue;
    }
    p->bytes += total;
  }
  if (empty_below)
    fsc__vnote(p, &p->counters, "the list's length says %llu elements, but "
               "%llu of those slots hold none", (unsigned long long)len,
               (unsigned long long)empty_below);
  /* Above slot LEN nothing is ever filled while the word holds still
   * (appenders fill slot LEN only, and the lock keeps changes out): an
   * element there is one a damaged (shrunken) length hides, whatever
   * slot LEN holds (damage to it too may make it read as empty).  The
   * first ABOVE_LOOK slots above it are looked at. */
  uint64_t above = len + 1;
  while (p->locked && !frozen && above < cap && above <= len + ABOVE_LOOK &&
         !FSC__SLOT_IS_VALUE(ck_pr_load_64(&arr[above])))
    above++;
  if (p->locked && !frozen && above < cap && above <= len + ABOVE_LOOK) {
    ck_pr_fence_load();
    if (FSC__LW_LEN(ck_pr_load_64(&ih->lenword)) == len) {
      fsc__vnote(p, &p->counters, "list slot %llu, above the length %llu, "
                 "holds an element: the length word lost elements",
                 (unsigned long long)above, (unsigned long long)len);
      p->need_struct = true;
    }
  }
}

/* Allocate now the index space the list's republish may need, so that a
 * full disk fails before the list is frozen, not inside the change
 * (fsc__ls_recover_locked does not abort a change it cannot publish). */
static int list_reserve_index(struct fsc__gen *c) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t w = ck_pr_load_64(&ih->lenword);
  unsigned buf = FSC__LW_BUFIDX(w);
  uint64_t len = FSC__LW_LEN(w) + 1; /* and a pending append */
  uint64_t cap = ck_pr_load_64(&ih->desc[buf].cap);
  uint64_t slots = 2 * len > cap ? 2 * len : cap;
  if (slots < 64)
    slots = 64;
  return fsc__index_grow(c, ck_pr_load_64(&ih->itail) + slots * 8 +
                                FSC__TRAILER);
}

/* One round of repair for what pass p found (struct fsc__kind_ops
 * vrepair): *changed: it did something; t counts what. */
int fsc__list_vrepair(struct fsc__vpass *p, bool *changed,
                      struct fsc__vtally *t) {
  struct fsc__gen *c = p->c;
  if (p->seal_fix) {
    /* First the structure words: the array to keep is the one the seal
     * names; the next round judges it. */
    t->restored += fsc__ls_seal_fix(c);
    *changed = true;
    return 0;
  }
  if (p->unrepairable)
    return fsc__err(FSC_ECORRUPT, "the list cannot be repaired: %s",
                    p->first);
  if (p->len_over) {
    /* A length no array of this capacity can hold: take it from the
     * slots (the elements are the leading values), then judge again. */
    struct fsc__index_hdr *ih = fsc__ihdr(c);
    uint64_t w = ck_pr_load_64(&ih->lenword);
    unsigned b = FSC__LW_BUFIDX(w);
    uint64_t cap = ck_pr_load_64(&ih->desc[b].cap);
    uint64_t *arr = fsc__ptr(c, &c->index, ck_pr_load_64(&ih->desc[b].off),
                             cap * 8);
    if (!arr)
      return fsc__err_last();
    uint64_t k = 0; /* (past the slots pops took: HEAD) */
    while (k < cap && FSC__SLOT_IS_TAKEN(ck_pr_load_64(&arr[k])))
      k++;
    while (k < cap && FSC__SLOT_IS_VALUE(ck_pr_load_64(&arr[k])))
      k++;
    /* (No appender moves a LEN above the capacity: it waits for growth,
     * which needs the lock we hold.) */
    if (FSC__LW_LEN(w) > cap &&
        ck_pr_cas_64(&ih->lenword, w, (w & ~FSC__LW_LEN_MASK) | k))
      t->counters++;
    *changed = true;
    return 0;
  }
  if (p->need_struct) {
    int rc = list_reserve_index(c);
    if (rc)
      return rc;
    uint64_t w = ck_pr_load_64(&fsc__ihdr(c)->lenword);
    uint64_t kept = 0, n = 0, adopted = 0;
    rc = fsc__ls_recover_locked(c, fsc__rec_verify_live, &kept, &n,
                                &adopted);
    if (rc)
      return rc;
    /* (Slots below the length that held no element were no elements.) */
    t->dropped += n > p->phantoms ? n - p->phantoms : 0;
    if (w & FSC__LW_FROZEN)
      t->restored++; /* the interrupted change, finished */
    /* Elements above the length adopted back (one pending append is a
     * count corrected; more are elements a damaged length hid). */
    t->restored += adopted > 1 ? adopted - 1 : 0;
    if (adopted || p->phantoms)
      t->counters++;
    fsc__vretire_marked(p);
    *changed = true;
    return 0;
  }
  *changed = fsc__vfix_bytes(c, p);
  t->counters += *changed;
  return 0;
}
