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
  uint64_t room = (icap - FSC__HDR_SIZE - FSC__TRAILER) / 8;
  uint64_t cap = KS_MIN_CAP;
  while (cap * 2 <= room)
    cap *= 2;
  if (cap > room)
    return fsc__err(FSC_EIO, "the initial index file is too small");
  ih->desc[0].off = FSC__HDR_SIZE;
  ih->desc[0].cap = cap;
  ih->desc[0].hw = cap;
  ih->itail = FSC__HDR_SIZE + cap * 8;
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
      off + FSC__REC_TOTAL(h->size) > ck_pr_load_64(&fsc__dhdr(c)->tail) ||
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
      fsc__rec_locate(c, kr->origin, &h) != 0 || !fsc__type_valid(h->type))
    return false; /* (flagged deleted is normal: it is a dead record) */
  return o.origin == kr->origin && o.klen == kr->klen &&
         (o.klen == 0 || memcmp(o.key, kr->key, o.klen) == 0);
}

/* Give the key of *slot (value s) a life of its own again: a copy of its
 * record that names itself, swapped in with one CAS (a writer that
 * replaced the record meanwhile wins; its record is judged next time),
 * the old record retired.  1 if the slot was rewritten. */
static int origin_fix(struct fsc__gen *c, uint64_t *slot, uint64_t s) {
  uint64_t off = s & KS_OFF_MASK, noff;
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
  if (!ck_pr_cas_64(slot, s, KS_MAKE(k.h, noff))) {
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
    if (!fsc__ks_value(s) || (s & KS_FROZEN) ||
        !krec_verify(c, s & KS_OFF_MASK, &kr) ||
        fsc__hash_origin_ok(c, s & KS_OFF_MASK, &kr))
      continue;
    int rc = origin_fix(c, &t->arr[i], s);
    if (rc < 0)
      return rc;
    *fixed += (uint64_t)rc;
  }
  return 0;
}

/* Is the active table sound?  Every key slot names a record that verifies,
 * carries its key's tag, and is found by a lookup (so no duplicate shadows
 * it and no empty slot cuts its probe chain).  *live is the keys counted,
 * which the caller compares with COUNT. */
static bool table_sound(struct fsc__gen *c, uint64_t *live,
                        uint64_t *live_bytes) {
  struct fsc__ktab t = {0};
  if (fsc__ktab_view(c, &t) != 0 || (t.w & FSC__LW_FROZEN))
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
    uint64_t off = s & KS_OFF_MASK, h, found;
    struct fsc__krec r;
    if (!krec_verify(c, off, &r) || fsc__krec_hash(c, off, &h) != 0 ||
        KS_TAG(h) != (s >> KS_OFF_BITS))
      return false;
    const struct fsc__rec *rh;
    if (fsc__rec_locate(c, off, &rh) != 0 ||
        (ck_pr_load_8((uint8_t *)(uintptr_t)&rh->flags) & FSC__REC_DELETED))
      return false; /* a superseded version: the data file has the newest */
    struct fsc__kkey k;
    fsc__kkey_make(&k, fsc__hash_is_dict(c) ? 0 : r.type, r.key, r.klen);
    if (fsc__hash_find(c, &k, &found) != 1 || found != off)
      return false;
    n++;
    bytes += r.total;
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

int fsc__hash_recount(struct fsc__gen *c) {
  struct fsc__ktab t = {0};
  int rc = fsc__ktab_view(c, &t);
  if (rc)
    return rc;
  if (t.w & FSC__LW_FROZEN) /* a rebuilder died: finish it (it counts) */
    return fsc__hash_rebuild_locked(c, false);
  uint64_t n = 0;
  for (uint64_t i = 0; i < t.cap; i++)
    n += fsc__ks_value(ck_pr_load_64(&t.arr[i]));
  count_fix(c, n);
  return 0;
}

/* Rebuild the index from the data file alone: every record that verifies
 * and is not flagged deleted, the later record of a key winning. */
int fsc__hash_rebuild_from_data(struct fsc__gen *c, uint64_t *live_bytes) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  struct fsc__data_hdr *d = fsc__dhdr(c);
  uint64_t end = ck_pr_load_64(&d->tail), pos = 0, r, m = 0;
  struct fsc__krec kr;
  int rc;
  while ((rc = fsc__hash_walk(c, &pos, end, &r, &kr)) == 1)
    m++;
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
  uint64_t *dst = fsc__ptr(c, &c->index, toff, cap * 8);
  if (!dst) {
    fsc__ls_seal(ih, w);
    return fsc__err_last();
  }
  memset(dst, 0, (size_t)(cap * 8));
  uint64_t mask = cap - 1, live = 0, bytes = 0;
  pos = 0;
  while ((rc = fsc__hash_walk(c, &pos, end, &r, &kr)) == 1) {
    const struct fsc__rec *h;
    if (fsc__rec_locate(c, r, &h) != 0 || (h->flags & FSC__REC_DELETED))
      continue;
    struct fsc__kkey k;
    fsc__kkey_make(&k, fsc__hash_is_dict(c) ? 0 : kr.type, kr.key, kr.klen);
    uint64_t i = k.h & mask;
    for (;; i = (i + 1) & mask) {
      uint64_t s = dst[i];
      if (s == 0) {
        dst[i] = KS_MAKE(k.h, r);
        live++;
        bytes += kr.total;
        break;
      }
      uint64_t o = s & KS_OFF_MASK;
      struct fsc__krec cur = {0};
      if ((s >> KS_OFF_BITS) == KS_TAG(k.h) &&
          fsc__krec_matches(c, o, &k, &cur)) {
        struct fsc__krec old;
        if (fsc__krec_read(c, o, &old) == 0)
          bytes -= old.total;
        fsc__rec_retire(c, o);
        dst[i] = KS_MAKE(k.h, r);
        bytes += kr.total;
        break;
      }
    }
  }
  if (rc < 0) {
    fsc__ls_seal(ih, w);
    return rc;
  }
  ck_pr_fence_store();
  ck_pr_store_64(&ih->desc[t].off, toff);
  ck_pr_store_64(&ih->desc[t].cap, cap);
  ck_pr_store_64(&ih->desc[t].hw, cap);
  ck_pr_store_64(&ih->kused, live);
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
    if ((rc = fsc__hash_rebuild_locked(c, false)) != 0 && rc != FSC_ECORRUPT)
      return rc;
    rep[FSC__REP_RESTORED]++; /* the interrupted rebuild, finished */
  } else {
    rep[FSC__REP_RESTORED] += fsc__ls_seal_fix(c);
  }
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
