/*
 * hash_verify.c - owns the dict/set half of fsc_*_verify (file/verify.c is
 * the driver; file/verify.h the pass they share): the check of the hash
 * index under the structure lock (fsc__hash_vscan: the table descriptor,
 * every slot, the record it names, its tag and probe chain, keys lost from
 * the index) and its repair (fsc__hash_vrepair), the dict's and the set's
 * row of the kind operations table (hash_ops.c).  The slot encoding is
 * hash_slot.h's.
 *
 * Under the lock, a table only changes by single-slot CASes: an empty slot
 * stays empty or is filled, a key never moves, tombstones are never
 * reused.  So a key that a probe from its home slot cannot reach, or a key
 * in two slots, is damage; the slot is read again before such a problem
 * is counted.
 *
 * Repair: slots that name a damaged or dangling record, hold garbage or
 * shadow another slot of the same key are turned into tombstones (one CAS
 * each, as a delete), then the table is rebuilt from itself
 * (fsc__hash_rebuild_locked in hash_grow.c: freeze every slot, re-place
 * every key by its hash, recount), which fixes tags, probe chains, frozen
 * slots, COUNT and the used-slot count, safe while others write.  A table
 * that cannot be used, or that lost keys (COUNT far above the keys it
 * holds: index pages lost with the power), is rebuilt from the data file
 * (fsc__hash_rebuild_from_data in hash_recover.c), which needs the
 * collection alone; so is a table with a slot naming a superseded record
 * (the key's newest live record is only in the data file): one flagged
 * dead (older files flagged superseded records), or one below another
 * record of its key, which only a walk of the data file finds
 * (check_superseded, hash_supersede.c; writes no longer flag what they
 * supersede).
 *
 * Before the table: the table word and descriptors against their seal
 * (hash_grow.c); a damaged one is restored from it in a round of its own.
 * After it, for a dict: each key's origin, the record iteration meets the
 * key at (hash.c, fsc__hash_next), must verify and hold the key; a key
 * whose origin does not is given a record of its own
 * (fsc__hash_origins_fix, hash_recover.c).
 */
#include "file/verify.h"
#include "struct/hash_slot.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A dict or set record: a keyed record of this collection. */
static int keyed_parse(struct fsc__gen *c, uint64_t off,
                       const struct fsc__rec *h, void *out) {
  (void)h;
  int rc = fsc__krec_read(c, off, out);
  /* A mark (its kind in bytes the checksum covers) is no key or element,
   * whatever its flags byte says: a slot naming one is damage. */
  if (rc == 0 && ((const struct fsc__krec *)out)->mark)
    return -1;
  return rc;
}

/* Is record off (slot s) the key k?  (A record that does not parse is no
 * key, as for hash.c's probes.) */
static bool holds_key(struct fsc__vpass *p, uint64_t s, uint64_t cap,
                      const struct fsc__kkey *k,
                      const struct fsc__krec *want) {
  bool s8 = p->c->s8; /* (the file's format: fsc__ktab_desc) */
  if (!fsc__ks_tag_eq(s, fsc__ks_tag_of(k->h, cap, s8), s8))
    return false;
  struct fsc__krec r;
  if (fsc__krec_read(p->c, s & fsc__ks_offmask(s8), &r) != 0)
    return false;
  if (r.klen != want->klen ||
      (p->c->kind == FSC__KIND_SET && r.type != want->type))
    return false;
  return r.klen == 0 || memcmp(r.key, want->key, r.klen) == 0;
}

/* Key in slot i (value s, record kr, hash k): can a lookup reach it?
 * 0: yes; 1: an empty slot cuts its probe chain; 2: slot *dup holds the
 * same key earlier in the chain (this one is shadowed). */
static int reach(struct fsc__vpass *p, const uint64_t *arr, uint64_t cap,
                 uint64_t i, const struct fsc__kkey *k,
                 const struct fsc__krec *kr, uint64_t *dup) {
  uint64_t mask = cap - 1;
  for (uint64_t j = k->h & mask, n = 0; j != i && n < cap;
       j = (j + 1) & mask, n++) {
    uint64_t t = ck_pr_load_64(&arr[j]);
    if (fsc__ks_empty(t))
      return 1;
    if (fsc__ks_value(t) && holds_key(p, t & ~KS_FROZEN, cap, k, kr)) {
      *dup = j;
      return 2;
    }
  }
  return 0;
}

/* Slots the walk of the data file found naming a superseded record of
 * their key (hash_supersede.c), each once: (slot, its value, the record
 * above).  As many as the damage, not the records. */
struct stale {
  struct { uint64_t idx, s, above; bool removed; } *v;
  size_t n, cap;
  bool oom;
};

static int stale_note(void *arg, uint64_t idx, uint64_t s, uint64_t above,
                      bool removed) {
  struct stale *st = arg;
  for (size_t i = 0; i < st->n; i++)
    if (st->v[i].idx == idx)
      return 0; /* (the lowest record above it is named) */
  if (st->n == st->cap) {
    size_t n = st->cap ? st->cap * 2 : 8;
    void *m = realloc(st->v, n * sizeof *st->v);
    if (!m) {
      st->oom = true;
      return 1;
    }
    st->v = m;
    st->cap = n;
  }
  st->v[st->n].idx = idx;
  st->v[st->n].s = s;
  st->v[st->n].above = above;
  st->v[st->n].removed = removed;
  st->n++;
  return 0;
}

/* Slots of table arr (cap slots) that name a superseded record of their
 * key: a record of the key lies above the slot's (hash_supersede.c).
 * Judged only with the lock held and no other handle open (p->solo), as
 * the counters are: a writer of another process may stay paused between
 * its append and its publish, which looks the same.  A hit is judged
 * again a moment later (a thread of this process may be in that window):
 * the slot unchanged and the record above still not flagged VOID. */
static void check_superseded(struct fsc__vpass *p, const uint64_t *arr,
                             uint64_t cap) {
  struct stale st = {0};
  /* (A walk that fails, or a list of hits that could not grow, judges
   * what it found: no finding is made up.) */
  (void)fsc__hash_superseded(p->c, arr, cap, p->tail, stale_note, &st);
  fsc__err_clear();
  if (st.n) {
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  for (size_t i = 0; i < st.n; i++) {
    const struct fsc__rec *h;
    struct fsc__krec ak = {0};
    ck_pr_fence_load();
    if ((ck_pr_load_64(&arr[st.v[i].idx]) & ~KS_FROZEN) != st.v[i].s ||
        fsc__rec_locate(p->c, st.v[i].above, &h) != 0 ||
        fsc__krec_read(p->c, st.v[i].above, &ak) != 0 ||
        (fsc__krec_flags(p->c, &ak,
                         ck_pr_load_8((const uint8_t *)&h->flags)) &
         FSC__REC_VOID)) {
      fsc__err_clear();
      continue; /* a writer was between its append and its publish (a
                   mark: voided only by exactly that flag) */
    }
    if (fsc__rec_locate(p->c, st.v[i].s & fsc__ks_offmask(p->c->s8),
                        &h) != 0 ||
        (ck_pr_load_8((const uint8_t *)&h->flags) & FSC__REC_DEAD))
      continue; /* (flagged: the slot's check counted it) */
    p->superseded++;
    unsigned long long idx = st.v[i].idx;
    unsigned long long o = st.v[i].s & fsc__ks_offmask(p->c->s8);
    unsigned long long a = st.v[i].above;
    if (st.v[i].removed)
      fsc__vnote(p, &p->dangling, "hash slot %llu names the record at %llu, "
                 "but its key was deleted after that record was written "
                 "(the delete's mark at %llu lies above it): the slot names "
                 "a superseded record", idx, o, a);
    else
      fsc__vnote(p, &p->dangling, "hash slot %llu names the record at %llu, "
                 "but a newer record of its key lies above it (at %llu): "
                 "the slot names a superseded version, the value there is "
                 "stale", idx, o, a);
    /* The key's newest state is in the data file: only a rebuild from the
     * data file finds it. */
    p->need_data = true;
  }
  fsc__err_clear();
  free(st.v);
}

/* The check of the table, noting problems in p (struct fsc__kind_ops
 * vscan); with p->locked, the structure lock is held. */
void fsc__hash_vscan(struct fsc__vpass *p) {
  struct fsc__gen *c = p->c;
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  bool dict = c->kind == FSC__KIND_DICT;
  /* A growth migrating (hash_migrate.c) is valid; with the lock, a
   * writable handle finishes it so that one table holds every key.
   * Without, the active (new) table is checked, and the count below
   * takes the old table's live slots too. */
  if (p->locked && !c->rdonly && fsc__hash_migrating(c) &&
      !(ck_pr_load_64(&ih->lenword) & FSC__LW_FROZEN) &&
      fsc__hash_migrate_finish(c) != 0)
    fsc__err_clear(); /* (what is wrong is found by the scan) */
  uint64_t w = fsc__vbegin(p);
  bool frozen = (w & FSC__LW_FROZEN) != 0;
  unsigned buf = FSC__LW_BUFIDX(w);
  p->lost_slack = KS_COUNT_SLACK;
  if (frozen) {
    fsc__vnote(p, &p->structure, "a rebuild of the %s's index was interrupted "
               "(its process died holding the lock)", dict ? "dict" : "set");
    p->need_struct = true;
  }
  if (p->locked) {
    /* Under the lock the table word's BUF and EPOCH and the descriptors
     * are the sealed ones (a frozen word: BUF, EPOCH and the source
     * table's descriptor).  A live word that differs from a seal that
     * holds would make another table the index, or finish a rebuild from
     * a superseded one (doc/FORMAT.md, "The seal"). */
    uint64_t n = 0;
    enum fsc__seal_state st = fsc__ls_seal_state(ih, &n);
    if (frozen)
      n = fsc__hash_seal_frozen(c, false);
    if (n && (st == FSC__SEAL_OK || st == FSC__SEAL_LIVE)) {
      fsc__vnote(p, &p->structure, "%llu of the %s's structure words (the "
                 "table word's table and epoch, the table descriptors) differ "
                 "from their sealed copy: damage that would make another "
                 "table the index", (unsigned long long)n,
                 dict ? "dict" : "set");
      p->seal_fix = p->need_struct = true;
      return; /* the table is judged once the words are restored */
    }
    if (st == FSC__SEAL_BROKEN) {
      fsc__vnote(p, &p->structure, "the sealed copy of the %s's structure "
                 "words is damaged", dict ? "dict" : "set");
      p->seal_fix = p->need_struct = true;
    }
  }
  uint64_t off = ck_pr_load_64(&ih->desc[buf].off);
  uint64_t cap = ck_pr_load_64(&ih->desc[buf].cap);
  /* (A table with hash words is twice its slots: both lie below itail.) */
  uint64_t hwd = ck_pr_load_64(&ih->desc[buf].hw);
  bool hw = (hwd & KS_HW_HASHW) != 0, s8 = c->s8;
  if (cap < KS_MIN_CAP || cap > KS_MAX_CAP || (cap & (cap - 1)) ||
      !fsc__vregion_ok(c, off, hw ? cap * 2 : cap)) {
    fsc__vnote(p, &p->structure, "the hash table descriptor (offset %llu, "
               "capacity %llu) names no valid table", (unsigned long long)off,
               (unsigned long long)cap);
    p->need_data = true;
    return;
  }
  /* The slot format is the data file's version's (hash_slot.h): a table
   * of the other is read as garbage by every probe. */
  if (((hwd & KS_HW_SLOT8) != 0) != s8 || (hw && s8)) {
    fsc__vnote(p, &p->structure, "the hash table descriptor's slot format "
               "(hw %#llx) is not the one of the data file's version",
               (unsigned long long)hwd);
    p->need_data = true;
    return;
  }
  fsc__vcheck_spare(p, buf, off, cap);
  const uint64_t *arr = fsc__ptr(c, &c->index, off, cap * (hw ? 16 : 8));
  if (!arr) {
    fsc__vnote(p, &p->structure, "the hash table lies beyond the index "
               "capacity");
    p->need_data = true;
    return;
  }
  for (uint64_t i = 0; i < cap; i++) {
    uint64_t s = ck_pr_load_64(&arr[i]);
    int retries = 0;
    p->slots_checked++;
  again:
    if ((s & KS_FROZEN) && !frozen) {
      fsc__vnote(p, &p->structure, "hash slot %llu is frozen, but no rebuild "
                 "holds the table", (unsigned long long)i);
      p->need_struct = true;
    }
    if (fsc__ks_empty(s))
      continue;
    p->nonempty++;
    if (fsc__ks_tomb(s))
      continue;
    if (!fsc__ks_value(s)) {
      fsc__vnote(p, &p->structure, "hash slot %llu holds garbage %#llx",
                 (unsigned long long)i, (unsigned long long)s);
      p->need_struct = true;
      fsc__vmark(p, i, s, 0, false);
      continue;
    }
    p->vslots++;
    uint64_t roff = s & fsc__ks_offmask(s8), total = 0;
    struct fsc__krec kr;
    enum fsc__verdict r = fsc__vcheck_rec(p, roff, keyed_parse, &kr, &total);
    p->records_checked++;
    if (r != FSC__RV_OK) {
      ck_pr_fence_load();
      uint64_t s2 = ck_pr_load_64(&arr[i]);
      if (s2 != s && retries++ < FSC__V_SLOT_RETRY) {
        /* Replaced or deleted meanwhile: judge what is there now. */
        p->vslots--;
        p->records_checked--;
        p->nonempty--;
        s = s2;
        goto again;
      }
      fsc__vnote_bad(p, r, i, roff);
      if (r == FSC__RV_SUPERSEDED) {
        /* The key's newest live record is in the data file (the slot
         * lost it): only a rebuild from the data file finds it. */
        p->need_data = true;
        continue;
      }
      p->need_struct = true;
      fsc__vmark(p, i, s, roff, true);
      continue;
    }
    struct fsc__kkey k;
    fsc__kkey_make(&k, dict ? 0 : kr.type, kr.key, kr.klen);
    uint64_t hp;
    unsigned nb;
    if (!fsc__ks_tag_eq(s, fsc__ks_tag_of(k.h, cap, s8), s8)) {
      fsc__vnote(p, &p->structure, "hash slot %llu: its tag does not match "
                 "its key's hash (lookups miss the key)",
                 (unsigned long long)i);
      p->need_struct = true;
    } else if (hw && KS_HV_OK(ck_pr_load_64(&arr[cap + i]), FSC__LW_EPOCH(w)) &&
               KS_HV_HASH(ck_pr_load_64(&arr[cap + i])) != KS_HV_HASH(k.h)) {
      /* (A word of another epoch is not trusted: the growth reads the
       * record instead.) */
      fsc__vnote(p, &p->structure, "hash slot %llu: its hash word does not "
                 "match its key's hash (a growth would misplace the key)",
                 (unsigned long long)i);
      p->need_struct = true;
    } else {
      uint64_t dup = 0;
      int rr = reach(p, arr, cap, i, &k, &kr, &dup);
      if (rr) {
        ck_pr_fence_load();
        if (ck_pr_load_64(&arr[i]) == s) { /* still there: damage */
          if (rr == 1)
            fsc__vnote(p, &p->structure, "hash slot %llu: an empty slot cuts "
                       "its key's probe chain (lookups miss the key)",
                       (unsigned long long)i);
          else {
            fsc__vnote(p, &p->structure, "hash slots %llu and %llu hold the "
                       "same key", (unsigned long long)dup,
                       (unsigned long long)i);
            /* shadowed: lookups find dup first */
            fsc__vmark(p, i, s, roff, false);
          }
          p->need_struct = true;
        }
      } else if (s8 && (fsc__ks8_hash(s, i, cap, &hp, &nb)
                            ? ((hp ^ k.h) & (cap - 1)) != 0
                            : ((i - k.h) & (cap - 1)) < KS8_DIST_SAT)) {
        /* (Reached, but a growth would re-place it from a wrong home.  A
         * saturated distance is right for a slot that far from home.) */
        fsc__vnote(p, &p->structure, "hash slot %llu: its probe distance "
                   "does not match its key's home (a growth would misplace "
                   "the key)", (unsigned long long)i);
        p->need_struct = true;
      }
    }
    if (dict && !fsc__hash_origin_ok(c, roff, &kr)) {
      fsc__vnote(p, &p->structure, "hash slot %llu (record %llu): the "
                 "record its key's life began with (its origin, at %llu) "
                 "does not verify: iteration skips the key",
                 (unsigned long long)i, (unsigned long long)roff,
                 (unsigned long long)kr.origin);
      p->need_origin = true;
    }
    p->keys++;
    p->bytes += total;
  }
  /* A migration left in progress (by a close that was not the last; a
   * read-only handle checks it without finishing it): the keys not moved
   * yet are the old table's live slots, and gets read their records
   * through it.  Checked and counted here too, under the lock (steps take
   * it, so nothing moves meanwhile) or alone (file/verify.c's counters
   * pass: a step meanwhile moves kmig, and the pass does not count);
   * else the count would race the steps, and is left to the new table. */
  struct fsc__ktab ot = {0};
  if ((p->locked || p->solo) && fsc__ktab_desc(c, buf, &ot) == 0 && ot.oarr)
    for (uint64_t i = 0; i < ot.ocap; i++) {
      uint64_t s = ck_pr_load_64(&ot.oarr[i]), total = 0;
      if (!fsc__ks_value(s))
        continue; /* (empty, a tombstone, or moved) */
      struct fsc__krec kr;
      uint64_t roff = s & fsc__ks_offmask(s8);
      enum fsc__verdict r = fsc__vcheck_rec(p, roff, keyed_parse, &kr,
                                            &total);
      p->records_checked++;
      p->vslots++; /* (what COUNT is compared with) */
      p->keys++;
      if (r == FSC__RV_OK) {
        p->bytes += total;
        continue;
      }
      fsc__vnote(p, &p->structure, "slot %llu of the table a growth "
                 "migrates from names a record (at %llu) that does not "
                 "verify", (unsigned long long)i, (unsigned long long)roff);
      p->need_struct = true;
    }
  fsc__err_clear();
  if (p->locked && p->solo && !frozen)
    check_superseded(p, arr, cap);
  if (p->locked && !frozen) {
    /* Keys lost from the index (pages of it lost with the power) leave
     * COUNT far above the keys the table holds; only the data file has
     * them.  Counted over the slots alone (fast), until the word held
     * still meanwhile (no rebuild runs: the lock is held). */
    for (int t = 0; t < FSC__V_QUIET_TRIES; t++) {
      uint64_t w0 = ck_pr_load_64(&ih->lenword), n = 0;
      ck_pr_fence_load();
      for (uint64_t i = 0; i < cap; i++)
        n += fsc__ks_value(ck_pr_load_64(&arr[i]));
      struct fsc__ktab mt = {0};
      if (fsc__ktab_desc(c, buf, &mt) == 0 && mt.oarr)
        for (uint64_t i = 0; i < mt.ocap; i++)
          n += fsc__ks_value(ck_pr_load_64(&mt.oarr[i]));
      fsc__err_clear();
      ck_pr_fence_load();
      uint64_t w1 = ck_pr_load_64(&ih->lenword);
      if (w0 != w1)
        continue;
      if (FSC__LW_LEN(w1) > n + KS_COUNT_SLACK) {
        fsc__vnote(p, &p->counters, "the count says %llu keys, but the table "
                   "holds %llu: keys were lost from the index",
                   (unsigned long long)FSC__LW_LEN(w1), (unsigned long long)n);
        p->need_data = true;
      }
      break;
    }
  }
}

/* One round of repair for what pass p found (struct fsc__kind_ops
 * vrepair): *changed: it did something; t counts what. */
int fsc__hash_vrepair(struct fsc__vpass *p, bool *changed,
                      struct fsc__vtally *t) {
  struct fsc__gen *c = p->c;
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  struct fsc__data_hdr *d = fsc__dhdr(c);
  if (p->seal_fix) {
    /* First the structure words, restored from the seal (or the seal
     * written again from them); a frozen word's rebuild is then finished
     * from the table the seal names.  A round of its own. */
    if (ck_pr_load_64(&ih->lenword) & FSC__LW_FROZEN) {
      t->restored += fsc__hash_seal_frozen(c, true);
      int rc = fsc__hash_rebuild_locked(c, KS_RB_RECORDS);
      if (rc)
        return rc;
      t->restored++;
    } else {
      t->restored += fsc__ls_seal_fix(c);
    }
    *changed = true;
    return 0;
  }
  if (p->need_data) {
    if (!fsc__valone(c))
      return fsc__err(FSC_EAGAIN, "the index must be rebuilt from the data "
                      "file (%s), which needs the collection alone: other "
                      "handles have it open; run the repair when they have "
                      "closed it (the first open after they exit repairs "
                      "too)", p->first);
    uint64_t before = p->keys, bytes = 0;
    int rc = fsc__hash_rebuild_from_data(c, &bytes);
    if (rc)
      return rc;
    uint64_t after = fsc__hash_len(c);
    uint64_t used = ck_pr_load_64(&d->tail) - FSC__HDR_SIZE;
    ck_pr_store_64(&d->live_bytes, bytes);
    ck_pr_store_64(&d->dead_bytes, used > bytes ? used - bytes : 0);
    uint64_t nbad = 0;
    for (size_t i = 0; i < p->nmarks; i++)
      nbad += p->marks[i].key;
    if (before + nbad > after)
      t->dropped += before + nbad - after;
    else
      t->recovered += after - before - nbad;
    t->rebuilt++;
    *changed = true;
    return 0;
  }
  if (p->need_struct) {
    if (p->oom)
      return fsc__err(FSC_ENOMEM, "out of memory listing damaged slots");
    /* Slots naming a bad record, garbage, or a shadowed duplicate become
     * tombstones: one CAS each, as a delete does (if a writer changed the
     * slot meanwhile, its own value is judged by the next check). */
    uint64_t w = ck_pr_load_64(&ih->lenword);
    uint64_t *arr = fsc__ptr(c, &c->index,
                             ck_pr_load_64(&ih->desc[FSC__LW_BUFIDX(w)].off),
                             ck_pr_load_64(&ih->desc[FSC__LW_BUFIDX(w)].cap) *
                                 8);
    if (!arr)
      return fsc__err_last();
    for (size_t i = 0; i < p->nmarks; i++) {
      if (ck_pr_cas_64(&arr[p->marks[i].idx], p->marks[i].val, KS_TOMB)) {
        t->tombstoned++;
        if (p->marks[i].key)
          t->dropped++;
      } else {
        p->marks[i].key = false; /* a writer replaced it: not ours */
      }
    }
    fsc__vretire_marked(p);
    /* Then the table is rebuilt from itself: every key re-placed by its
     * hash, tombstones dropped, frozen bits cleared, COUNT and the used
     * slots recounted.  Writers' CASes fail on the frozen table and
     * retry in the new one. */
    int rc = fsc__hash_rebuild_locked(c, KS_RB_RECORDS);
    if (rc)
      return rc;
    t->rebuilt++;
    *changed = true;
    return 0;
  }
  if (p->need_origin) {
    /* Keys whose origin does not verify get a record that names itself
     * (origin_fix); the table keeps its shape (one CAS a slot). */
    struct fsc__ktab tb = {0};
    int rc = fsc__ktab_view(c, &tb);
    if (rc)
      return rc;
    uint64_t n = 0;
    if ((rc = fsc__hash_origins_fix(c, &tb, &n)) != 0)
      return rc;
    t->restored += n;
    *changed = n > 0;
    return 0;
  }
  *changed = fsc__vfix_bytes(c, p);
  t->counters += *changed;
  return 0;
}
