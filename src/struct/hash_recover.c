/*
 * hash_recover.c - owns a dict/set index's life outside the lock-free
 * operations: laying out a new one, the recovery of the first opener after
 * an unclean exit (or of the last closer after a writer died), the
 * recount of the last closer, and the rebuild of the index from the data
 * file alone, which that recovery and verify's repair (hash_verify.c) use
 * when the table lost keys or cannot be trusted.  Each runs with the
 * structure lock held; the rebuild from the data file also needs the
 * collection alone (no other process writing).  Recovery first restores
 * a table word or descriptor that differs from its seal (hash_grow.c), so
 * that the table kept, or the rebuild finished, is the newest.
 */
#include "struct/hash_slot.h"

#include <string.h>

int fsc__hash_init(struct fsc__gen *c) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t icap = ck_pr_load_64(&ih->icap);
  /* 16 bytes a slot (the slot and its hash word) or 8 (8-byte slots),
   * by the data file's version (hash_slot.h). */
  uint64_t sb = fsc__ks_bytes(c);
  uint64_t room = (icap - FSC__HDR_SIZE - FSC__TRAILER) / sb;
  uint64_t cap = KS_MIN_CAP;
  while (cap * 2 <= room)
    cap *= 2;
  if (cap > room)
    return fsc__err(FSC_EIO, "the initial index file is too small");
  /* expected_items: room for that many keys at most 3/4 full, the load
   * at which fsc__hash_put grows the table (no growth while filling). */
  uint64_t want = c->opts.expected_items;
  if (want && fsc__ktab_cap_for((want + 1) * 4 / 3 + 1) > cap) {
    cap = fsc__ktab_cap_for((want + 1) * 4 / 3 + 1);
    int rc = fsc__index_grow(c, FSC__HDR_SIZE + cap * sb + FSC__TRAILER);
    if (rc)
      return rc;
  }
  /* The table is zeroed: fallocated space (empty slots, no hash words). */
  ih->desc[0].off = FSC__HDR_SIZE;
  ih->desc[0].cap = cap;
  ih->desc[0].hw = cap | fsc__ks_hwfmt(c);
  ih->itail = FSC__HDR_SIZE + cap * sb;
  ih->kused = 0;
  fsc__ls_seal(ih, FSC__LW_MAKE(0, 0, 0));
  ih->lenword = FSC__LW_MAKE(0, 0, 0);
  return 0;
}

/* Does the keyed record at off verify: bounds, layout, type, checksum? */
static bool krec_verify(struct fsc__gen *c, uint64_t off,
                        struct fsc__krec *r) {
  const struct fsc__rec *h;
  if (fsc__rec_locate(c, off, &h) != 0 ||
      off + fsc__rec_total(h) > ck_pr_load_64(&fsc__dhdr(c)->tail) ||
      !fsc__rec_form_ok(c->crec, h) ||
      fsc__krec_read(c, off, r) != 0)
    return false;
  return fsc__rec_sum_ok(h);
}

bool fsc__hash_origin_ok(struct fsc__gen *c, uint64_t off,
                         const struct fsc__krec *kr) {
  if (kr->origin == off)
    return true;
  struct fsc__krec o;
  const struct fsc__rec *h;
  if (!krec_verify(c, kr->origin, &o) ||
      fsc__rec_locate(c, kr->origin, &h) != 0 ||
      !fsc__type_valid(fsc__rec_type(h)))
    return false; /* (flagged deleted is normal: it is a dead record) */
  return o.origin == kr->origin && o.klen == kr->klen &&
         (o.klen == 0 || memcmp(o.key, kr->key, o.klen) == 0);
}

/* Give the key of *slot (value s) a life of its own again: a copy of its
 * record that names itself, swapped in with one CAS (a writer that
 * replaced the record meanwhile wins; its record is judged next time),
 * the old record retired.  1 if the slot was rewritten. */
static int origin_fix(struct fsc__gen *c, const struct fsc__ktab *t,
                      uint64_t i, uint64_t s) {
  uint64_t *slot = &t->arr[i];
  uint64_t off = s & fsc__ks_offmask(t->s8), noff;
  struct fsc__krec kr;
  fsc_value v;
  int rc = fsc__krec_read(c, off, &kr);
  if (rc)
    return rc;
  if (fsc__value_decode((fsc_type)kr.type, kr.val, kr.vlen, &v) != 0)
    return fsc__rec_bad(off);
  struct fsc__kkey k;
  fsc__kkey_make(&k, 0, kr.key, kr.klen);
  if ((rc = fsc__krec_write(c, &k, &v, &noff)) != 0)
    return rc;
  /* (An 8-byte slot keeps its hash bits and distance: the same key, the
   * same place.) */
  uint64_t ns = t->s8 ? (s & ~fsc__ks_offmask(true)) | noff
                      : KS_MAKE(k.h, noff);
  if (!ck_pr_cas_64(slot, s, ns)) {
    fsc__rec_void(c, noff);
    fsc__rec_retire(c, noff);
    return 0;
  }
  fsc__rec_retire(c, off);
  return 1;
}

int fsc__hash_origins_fix(struct fsc__gen *c, const struct fsc__ktab *t,
                          uint64_t *fixed) {
  *fixed = 0;
  if (!fsc__hash_is_dict(c))
    return 0;
  for (uint64_t i = 0; i < t->cap; i++) {
    uint64_t s = ck_pr_load_64(&t->arr[i]);
    struct fsc__krec kr;
    uint64_t o = s & fsc__ks_offmask(t->s8);
    if (!fsc__ks_value(s) || (s & KS_FROZEN) || !krec_verify(c, o, &kr) ||
        fsc__hash_origin_ok(c, o, &kr))
      continue;
    int rc = origin_fix(c, t, i, s);
    if (rc < 0)
      return rc;
    *fixed += (uint64_t)rc;
  }
  return 0;
}

/* (fsc__hash_superseded's callback: one stale slot is enough.) */
static int found_one(void *arg, uint64_t idx, uint64_t s, uint64_t above,
                     bool removed) {
  (void)idx, (void)s, (void)above, (void)removed;
  *(bool *)arg = true;
  return 1;
}

/* Is the active table sound?  Every key slot names a record that verifies,
 * carries its key's tag, and is found by a lookup (so no duplicate shadows
 * it and no empty slot cuts its probe chain), and no record of its key
 * lies above that record (hash_supersede.c).  *live is the keys counted,
 * which the caller compares with COUNT. */
static bool table_sound(struct fsc__gen *c, uint64_t *live,
                        uint64_t *live_bytes) {
  struct fsc__ktab t = {0};
  if (fsc__ktab_view(c, &t) != 0 || (t.w & FSC__LW_FROZEN) || t.oarr)
    return false;
  uint64_t n = 0, bytes = 0;
  for (uint64_t i = 0; i < t.cap; i++) {
    uint64_t s = t.arr[i];
    if (s & KS_FROZEN)
      return false;
    if (fsc__ks_empty(s) || fsc__ks_tomb(s))
      continue;
    if (!fsc__ks_value(s))
      return false;
    uint64_t off = s & fsc__ks_offmask(t.s8), h, hp;
    uint64_t found;
    unsigned nb;
    struct fsc__krec r;
    if (!krec_verify(c, off, &r) || fsc__krec_hash(c, off, &h) != 0 ||
        !fsc__ks_tag_eq(s, fsc__ks_tag_of(h, t.cap, t.s8), t.s8))
      return false;
    /* (8-byte slots: a known distance names the key's home, or a growth
     * would misplace it) */
    if (t.s8 && fsc__ks8_hash(s, i, t.cap, &hp, &nb) &&
        ((hp ^ h) & (t.cap - 1)) != 0)
      return false;
    const struct fsc__rec *rh;
    if (fsc__rec_locate(c, off, &rh) != 0 ||
        (ck_pr_load_8((uint8_t *)(uintptr_t)&rh->flags) & FSC__REC_DEAD) ||
        r.mark)
      return false; /* (an older file) a superseded version, or a slot
                       naming a mark: the data file has the newest */
    struct fsc__kkey k;
    fsc__kkey_make(&k, fsc__hash_is_dict(c) ? 0 : r.type, r.key, r.klen);
    if (fsc__hash_find(c, &k, &found) != 1 || found != off)
      return false;
    n++;
    bytes += r.total;
  }
  /* A slot naming a superseded version of its key (a record of the key
   * lies above it: hash_supersede.c): the data file has the newest. */
  bool stale = false;
  if (fsc__hash_superseded(c, t.arr, t.cap, ck_pr_load_64(&fsc__dhdr(c)->tail),
                           found_one, &stale) != 0 ||
      stale) {
    fsc__err_clear();
    return false;
  }
  *live_bytes = bytes;
  *live = n;
  return true;
}

/* Set COUNT to n if it differs (a writer killed between its slot CAS and
 * its count update leaves it one off).  Only when no other process can
 * write, with the structure lock held: at the first open after an unclean
 * exit, or at the last close. */
static uint64_t count_fix(struct fsc__gen *c, uint64_t n) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t w = ck_pr_load_64(&ih->lenword);
  if (FSC__LW_LEN(w) == n)
    return 0;
  ck_pr_store_64(&ih->lenword, (w & ~FSC__LW_LEN_MASK) | n);
  return FSC__LW_LEN(w) > n ? FSC__LW_LEN(w) - n : n - FSC__LW_LEN(w);
}

/* Set the used-slot count (kused) to the slots of the active table that
 * are not empty, if it differs: a writer killed between its slot CAS and
 * its increment leaves it one low.  1 if it changed.  The same conditions
 * as count_fix. */
static uint64_t kused_fix(struct fsc__gen *c) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  struct fsc__ktab t = {0};
  if (fsc__ktab_view(c, &t) != 0 || (t.w & FSC__LW_FROZEN)) {
    fsc__err_clear();
    return 0;
  }
  uint64_t n = 0;
  for (uint64_t i = 0; i < t.cap; i++)
    n += !fsc__ks_empty(ck_pr_load_64(&t.arr[i]));
  if (ck_pr_load_64(&ih->kused) == n)
    return 0;
  ck_pr_store_64(&ih->kused, n);
  return 1;
}

int fsc__hash_recount(struct fsc__gen *c) {
  struct fsc__ktab t = {0};
  int rc = fsc__ktab_view(c, &t);
  if (rc)
    return rc;
  if (t.w & FSC__LW_FROZEN) /* a rebuilder died: finish it (it counts) */
    return fsc__hash_rebuild_locked(c, KS_RB_RECORDS);
  if (t.oarr) { /* a growth migrating: finished, then counted */
    if ((rc = fsc__hash_migrate_finish(c)) != 0 ||
        (rc = fsc__ktab_view(c, &t)) != 0)
      return rc;
  }
  uint64_t n = 0;
  for (uint64_t i = 0; i < t.cap; i++)
    n += fsc__ks_value(ck_pr_load_64(&t.arr[i]));
  count_fix(c, n);
  kused_fix(c);
  return 0;
}

/* The flags of the record at off (0xff if it cannot be located). */
static uint8_t rec_flags(struct fsc__gen *c, uint64_t off) {
  const struct fsc__rec *h;
  if (fsc__rec_locate(c, off, &h) != 0)
    return 0xff;
  return ck_pr_load_8((const uint8_t *)&h->flags);
}

/* An entry of the table being rebuilt, besides KS_MAKE(hash, record):
 * bit 0 (KS_FROZEN) its record is what a slot of the surviving table
 * named; bit 1 (KS_TOMB) its record is a delete's mark (the key is
 * absent).  Both are cleared (a mark becomes a tombstone) before the
 * table is published. */
#define RB_TABLE KS_FROZEN
#define RB_GONE KS_TOMB

/* Place record r (key k, parsed in kr) into the table dst being built:
 * `bits` RB_TABLE (a surviving slot's record), RB_GONE (a delete's mark
 * record), or 0.  The higher record of a key wins, a surviving slot's
 * too: a replace publishes a record above the one it supersedes (hash.c,
 * put_above), and a delete's mark lies above the record it removes
 * (hash.c, fsc__hash_del), so a record above the slot's says the slot
 * names a superseded version (hash_supersede.c; the check judges the
 * same way).  `only_table`: r lies below the last clear's mark, so it
 * only removes a surviving slot's lower record of the key (the key is
 * absent then), and is placed nowhere else.  Keeps *live (keys) and
 * *bytes (their records); stores the slot's hash word, of epoch e1, in
 * the words after the cap slots (none in a table of 8-byte slots). */
static void rebuild_place(struct fsc__gen *c, uint64_t *dst, uint64_t cap,
                          uint64_t e1, const struct fsc__kkey *k, uint64_t r,
                          const struct fsc__krec *kr, uint64_t bits,
                          bool only_table, uint64_t *live, uint64_t *bytes) {
  uint64_t mask = cap - 1;
  bool s8 = c->s8;
  uint64_t tag = fsc__ks_tag_of(k->h, cap, s8);
  for (uint64_t i = k->h & mask;; i = (i + 1) & mask) {
    uint64_t s = dst[i];
    struct fsc__krec cur = {0};
    if (s == 0 && only_table)
      return;
    if (s != 0) {
      uint64_t o = s & fsc__ks_offmask(s8);
      if (!fsc__ks_tag_eq(s, tag, s8) || !fsc__krec_matches(c, o, k, &cur))
        continue;
      if (o >= r || (only_table && !(s & RB_TABLE)))
        return; /* a higher record stands */
      if (only_table)
        bits = RB_GONE;
      if (!(s & RB_GONE)) {
        (*live)--;
        *bytes -= cur.total;
      }
    }
    dst[i] = fsc__ks_make(s8, k->h, i, cap, r) | bits;
    if (!s8)
      dst[cap + i] = KS_HV_MAKE(k->h, e1); /* its hash word (epoch e1) */
    if (!(bits & RB_GONE)) {
      (*live)++;
      *bytes += kr->total;
    }
    return;
  }
}

/*
 * Rebuild the index from the data file, preferring what survives of the
 * table (doc/DURABILITY.md says what this promises):
 *  1. every slot of the active table (if its descriptor is usable) that
 *     names a record that verifies, holds a key of its tag and is not
 *     flagged (FSC__REC_DEAD) gives its key that record, unless a record
 *     of the key (as in 2, below the clear's mark too) lies above it: the
 *     slot names a superseded version (hash_supersede.c);
 *  2. a key no such slot names gets its highest record in the data file
 *     above the last clear's mark (FSC__REC_CLEARED) that verifies and is
 *     not flagged FSC__REC_VOID (never published) or FSC__REC_DELETED
 *     (superseded, in older files); if that is a delete's
 *     mark (FSC__REC_REMOVED), the key is absent.  A record's flags are
 *     the ones fsc__krec_flags gives it: a mark's kind from its
 *     checksummed bytes, never its flags byte's damage.
 */
int fsc__hash_rebuild_from_data(struct fsc__gen *c, uint64_t *live_bytes) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  struct fsc__data_hdr *d = fsc__dhdr(c);
  uint64_t end = ck_pr_load_64(&d->tail), pos = 0, r, m = 0, floor = 0;
  struct fsc__krec kr;
  int rc;
  while ((rc = fsc__hash_walk(c, &pos, end, &r, &kr)) == 1) {
    m++;
    if (fsc__krec_flags(c, &kr, rec_flags(c, r)) & FSC__REC_CLEARED)
      floor = r;
  }
  if (rc < 0)
    return rc;
  uint64_t cap = fsc__ktab_cap_for(2 * (m + 1)), toff;
  uint64_t w = ck_pr_load_64(&ih->lenword);
  unsigned t = FSC__LW_BUFIDX(w) ^ 1u;
  uint64_t e1 = (FSC__LW_EPOCH(w) + 1) & FSC__LW_EPOCH_MASK;
  /* Force new space: the spare may be what is damaged. */
  ck_pr_store_64(&ih->desc[t].off, 0);
  bool fresh;
  if ((rc = fsc__hash_spare_region(c, t, cap, 0, 0, &toff, &fresh)) != 0) {
    fsc__ls_seal(ih, w); /* the spare given up: the words as they are */
    return rc; /* (the active table is replaced, not copied) */
  }
  if (fresh) /* the old region is given up */
    ck_pr_store_64(&ih->desc[t].hw, 0);
  uint64_t sb = fsc__ks_bytes(c);
  uint64_t *dst = fsc__ptr(c, &c->index, toff, cap * sb);
  if (!dst) {
    fsc__ls_seal(ih, w);
    return fsc__err_last();
  }
  memset(dst, 0, (size_t)(cap * sb)); /* slots, then any hash words */
  uint64_t live = 0, bytes = 0;
  bool dict = fsc__hash_is_dict(c);
  struct fsc__ktab old = {0};
  uint64_t ooff = ck_pr_load_64(&ih->desc[FSC__LW_BUFIDX(w)].off);
  if (fsc__ktab_desc(c, FSC__LW_BUFIDX(w), &old) == 0 &&
      (ooff + old.cap * (old.hv ? 16 : 8) <= toff ||
       toff + cap * sb <= ooff)) {
    for (uint64_t i = 0; i < old.cap; i++) {
      uint64_t s = ck_pr_load_64(&old.arr[i]) & ~KS_FROZEN;
      uint64_t o = s & fsc__ks_offmask(old.s8);
      if (!fsc__ks_value(s) || o >= end || !krec_verify(c, o, &kr) ||
          (rec_flags(c, o) & FSC__REC_DEAD) || kr.mark)
        continue; /* (a slot naming a mark: damage) */
      struct fsc__kkey k;
      fsc__kkey_make(&k, dict ? 0 : kr.type, kr.key, kr.klen);
      if (fsc__ks_tag_eq(s, fsc__ks_tag_of(k.h, old.cap, old.s8), old.s8))
        rebuild_place(c, dst, cap, e1, &k, o, &kr, RB_TABLE, false, &live,
                      &bytes);
    }
  }
  fsc__err_clear(); /* (what did not verify is not an error here) */
  pos = 0;
  while ((rc = fsc__hash_walk(c, &pos, end, &r, &kr)) == 1) {
    uint8_t fl = fsc__krec_flags(c, &kr, rec_flags(c, r));
    if (fl & (FSC__REC_DELETED | FSC__REC_VOID | FSC__REC_CLEARED))
      continue;
    struct fsc__kkey k;
    fsc__kkey_make(&k, dict ? 0 : kr.type, kr.key, kr.klen);
    /* A mark of this build says what it is in its checksummed bytes
     * (fsc__krec_flags, above).  A dict record of origin 0 is an earlier
     * build's mark: no live record has it (its origin is itself or a
     * record before it).  One without its flag (the flags byte is outside
     * the checksum: damage) is taken for a removal of its key, never for
     * a value of it: a clear mark's empty key would otherwise come back
     * as a key never written. */
    bool gone = (fl & FSC__REC_REMOVED) || (dict && kr.origin == 0);
    rebuild_place(c, dst, cap, e1, &k, r, &kr, gone ? RB_GONE : 0,
                  r < floor, &live, &bytes);
  }
  if (rc < 0) {
    fsc__ls_seal(ih, w);
    return rc;
  }
  uint64_t used = 0;
  for (uint64_t i = 0; i < cap; i++) {
    uint64_t s = dst[i];
    if (s & RB_GONE) {
      dst[i] = KS_TOMB; /* a deleted key: a tombstone keeps probe chains */
      if (!c->s8)
        dst[cap + i] = 0;
    } else {
      dst[i] = s & ~RB_TABLE;
    }
    used += s != 0;
  }
  ck_pr_fence_store();
  ck_pr_store_64(&ih->desc[t].off, toff);
  ck_pr_store_64(&ih->desc[t].cap, cap);
  ck_pr_store_64(&ih->desc[t].hw, cap | fsc__ks_hwfmt(c));
  /* (a growth's migration is over: every key came from the data file) */
  ck_pr_store_64(&ih->desc[t ^ 1u].hw,
                 ck_pr_load_64(&ih->desc[t ^ 1u].hw) & ~KS_HW_MIG);
  ck_pr_store_64(&ih->kmig, 0);
  ck_pr_store_64(&ih->kused, used);
  ck_pr_store_64(&ih->kcount_ep, e1 | KS_CEP_VALID); /* it recounted */
  fsc__ls_seal(ih, FSC__LW_MAKE(t, e1, live)); /* (fences its stores) */
  ck_pr_store_64(&ih->lenword, FSC__LW_MAKE(t, e1, live));
  *live_bytes = bytes;
  return 0;
}

int fsc__hash_recover(struct fsc__gen *c, bool unclean) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  struct fsc__data_hdr *d = fsc__dhdr(c);
  uint64_t rep[FSC__REP_N] = {0};
  ck_pr_store_64(&ih->repaired, 0);
  if (!unclean) {
    for (int k = 0; k < FSC__REP_AT_CLOSE; k++)
      ck_pr_store_64(&ih->rep[k], 0);
    return 0;
  }
  int rc;
  /* The structure words first: one that differs from the seal is damage
   * (it would make another table the index, or finish a "rebuild" from
   * a superseded table): restored from the seal, never rolled back. */
  if (ck_pr_load_64(&ih->lenword) & FSC__LW_FROZEN) {
    rep[FSC__REP_RESTORED] += fsc__hash_seal_frozen(c, true);
    if ((rc = fsc__hash_rebuild_locked(c, KS_RB_RECORDS)) != 0 &&
        rc != FSC_ECORRUPT)
      return rc;
    rep[FSC__REP_RESTORED]++; /* the interrupted rebuild, finished */
  } else {
    rep[FSC__REP_RESTORED] += fsc__ls_seal_fix(c);
  }
  /* A growth's migration (its mover may have died mid-step: a step is
   * redone safely) is finished before the table is judged; one that
   * cannot finish leaves the judgement to the rebuild from the data. */
  if (fsc__hash_migrating(c) && fsc__hash_migrate_finish(c) != 0)
    fsc__err_clear();
  uint64_t before = fsc__hash_len(c), bytes = 0, n = 0;
  /* A writer killed between its slot CAS and its count update leaves COUNT
   * one off, so a small difference is corrected.  A table that lost more
   * keys than that (pages of the index lost with the power), or a slot
   * that names a superseded record or one that fails its checksum, is
   * rebuilt from the data file. */
  if (table_sound(c, &n, &bytes) &&
      (n >= before || before - n <= KS_COUNT_SLACK)) {
    rep[FSC__REP_COUNTERS] += count_fix(c, n);
  } else {
    if ((rc = fsc__hash_rebuild_from_data(c, &bytes)) != 0)
      return rc;
    uint64_t after = fsc__hash_len(c);
    rep[FSC__REP_REBUILT]++;
    if (after < before)
      rep[FSC__REP_DROPPED] += before - after;
  }
  /* Iteration meets a dict key at its origin: a key whose origin does
   * not verify is given a record of its own (its bytes replace the old
   * record's in the live count). */
  struct fsc__ktab tb = {0};
  uint64_t nfix = 0;
  if ((rc = fsc__ktab_view(c, &tb)) != 0 ||
      (rc = fsc__hash_origins_fix(c, &tb, &nfix)) != 0)
    return rc;
  if (nfix) {
    uint64_t n2 = 0, b2 = 0;
    rep[FSC__REP_RESTORED] += nfix;
    if (table_sound(c, &n2, &b2))
      bytes = b2;
  }
  rep[FSC__REP_COUNTERS] += kused_fix(c);
  uint64_t used = ck_pr_load_64(&d->tail) - FSC__HDR_SIZE;
  uint64_t dead = used > bytes ? used - bytes : 0;
  if (ck_pr_load_64(&d->live_bytes) != bytes ||
      ck_pr_load_64(&d->dead_bytes) != dead)
    rep[FSC__REP_COUNTERS]++;
  ck_pr_store_64(&d->live_bytes, bytes);
  ck_pr_store_64(&d->dead_bytes, dead);
  fsc__gen_note_repairs(c, rep);
  fsc__err_clear();
  return 0;
}
