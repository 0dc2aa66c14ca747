/*
 * hash.c - owns the dict/set index's lock-free side: keyed records (their
 * layout and parse) and key hashes, probing the open-addressing table of
 * 64-bit slots in the mapped index file, lookup, insert, replace, delete,
 * clear, and insertion-order iteration (the walk of the data file).  What a
 * writer that meets a rebuild does (kwait, count_add) is here; the
 * rebuilds themselves are hash_grow.c's, the recovery and the rebuild from
 * the data file hash_recover.c's, the check and repair hash_verify.c's.
 * doc/CONCURRENCY.md tells the same story in prose.
 *
 * The table word (the index header's lenword) is (FROZEN, BUF, EPOCH,
 * COUNT), the list's layout: BUF names the active table, desc[BUF].
 *
 * A slot holds a key (its hash's tag and its record's offset), an empty
 * mark or a tombstone, and a frozen bit: the encoding is hash_slot.h's.
 *
 * Invariants, and where they are kept:
 *  - Lookups are lock-free: probe from hash & (cap - 1) until an empty
 *    slot; then re-check the word: if EPOCH or BUF moved, a rebuild
 *    published meanwhile and the probe is retried (probe,
 *    fsc__hash_find_rec).
 *  - Every write is one CAS of one slot, after the record it names is
 *    complete (fence_store before each CAS).  A key's slot never moves
 *    within a table's life, and tombstones are never reused, so writers
 *    of one key meet at one slot (hash_put, hash_del).
 *  - COUNT moves with a CAS on the word that keeps EPOCH and BUF, so an
 *    increment owed to a slot of an older table is dropped: the rebuild
 *    that published the newer table counted that slot itself (count_add).
 *  - An insert's winner writes the slot's hash word after its CAS, tagged
 *    with its view's EPOCH; a rebuild trusts only words of the table's own
 *    epoch, and reads the record for any other (hash_slot.h).
 *  - A rebuild (growth, tombstone clean-up, clear) holds the lock, freezes
 *    the word, then every slot (a racing CAS fails and retries after it),
 *    fills the spare table, and publishes it with one store of the word.
 *    Before that store the old table is intact, so a rebuilder that dies
 *    loses nothing: the next one that finds the word frozen redoes it
 *    (fsc__hash_rebuild_locked in hash_grow.c, kwait).
 */
#include "struct/hash_slot.h"

#include <time.h>

#include <sched.h>
#include <stdlib.h>
#include <string.h>
/* XXH3 compiled in (as in record.c): a 16-byte key hashes in a few dozen
 * instructions, about what the library call and its dispatch cost. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#define WAIT_SPINS 4096

/* ------------------------------------------------------------------ */
/* Keys and keyed records                                              */
/* ------------------------------------------------------------------ */

/* (flatten: XXH3 inlined here, in the open path's section, so that a new
 * process's first get does not fault in another page of code for it.) */
FSC__OPEN_PATH __attribute__((flatten))
void fsc__kkey_make(struct fsc__kkey *k, uint8_t type, const void *p,
                    size_t n) {
  k->p = p;
  k->n = (uint32_t)n;
  k->type = type;
  k->h = XXH3_64bits_withSeed(p, n, type);
}

/* Little-endian fields of a keyed record (unaligned: the origin follows
 * the key and the value; the key length is fsc__krec_klen). */
static uint64_t get_u64(const uint8_t *p) {
  uint64_t x;
  memcpy(&x, p, 8);
  return le64toh(x);
}
static void put_u64(uint8_t *p, uint64_t x) {
  x = htole64(x);
  memcpy(p, &x, 8);
}

/* Inline into the lookups, where a hit parses one record. */
#define HOT static inline __attribute__((always_inline))

/* Parse a payload of n bytes at pl as a keyed record of this collection. */
HOT int krec_parse(const struct fsc__gen *c, uint8_t type,
                   const uint8_t *pl, uint64_t n, struct fsc__krec *r) {
  if (n < 4)
    return -1;
  uint32_t kl = fsc__krec_klen(pl);
  bool ttl = (pl[3] & 0x80u) != 0; /* FSC__KLEN_TTL, little-endian */
  if (ttl && !fsc__hash_is_dict(c))
    return -1;
  uint64_t tail = fsc__hash_is_dict(c) ? (ttl ? 16 : 8) : 0;
  if ((uint64_t)kl + 4 + tail > n)
    return -1;
  if (!fsc__type_valid(type) || (c->type != FSC_TYPE_ANY && type != c->type))
    return -1;
  r->type = type;
  r->key = pl + 4;
  r->klen = kl;
  r->val = pl + 4 + kl;
  r->vlen = n - 4 - kl - tail;
  /* A counter record (FSC__CTR_FLAG in its header, which precedes every
   * payload in the mapping) pads its key to 8 bytes so that its value
   * word is aligned: [klen][key][pad][value][origin], or with a close
   * word before the value, [klen][key][pad][0 or 8 zero bytes][close]
   * [value][origin] (doc/FORMAT.md; format.h fsc__ctr_cwoff). */
  const struct fsc__rec *h = fsc__rec_of_pl(pl, n);
  if (__builtin_expect(ck_pr_load_16((uint16_t *)(uintptr_t)&h->ctl) &
                           FSC__CTR_FLAG, 0)) {
    uint64_t voff = (4 + (uint64_t)kl + 7) & ~UINT64_C(7);
    if (!fsc__hash_is_dict(c) ||
        (n != voff + 16 && n != voff + 24 && n != voff + 32))
      return -1;
    r->val = pl + n - 16;
    r->vlen = 8;
  }
  r->mark = 0;
  if (fsc__hash_is_dict(c)) {
    size_t f = fsc__type_fixed_size((fsc_type)type);
    if (f && r->vlen != f)
      return -1;
    r->origin = get_u64(pl + n - 8);
    r->deadline = ttl ? get_u64(pl + n - 16) : 0;
    /* A mark record (mark_write) holds its kind where a value record has
     * its origin, which names a record (at or above FSC__HDR_SIZE): the
     * checksum covers it.  (Origin 0: an earlier build's mark, told by
     * its flag, fsc__krec_flags.) */
    if (__builtin_expect(r->origin < FSC__HDR_SIZE, 0) &&
        (r->origin == FSC__REC_REMOVED || r->origin == FSC__REC_CLEARED))
      r->mark = (uint8_t)r->origin;
  } else {
    r->deadline = 0;
    size_t f = fsc__type_fixed_size((fsc_type)type);
    if (f && kl != f)
      return -1;
    if (__builtin_expect(r->vlen != 0, 0)) {
      /* A mark record (mark_write): the element, then its kind in a
       * little-endian u64 that the checksum covers. */
      uint64_t m;
      if (r->vlen != 8 || ((m = get_u64(r->val)) != FSC__REC_REMOVED &&
                           m != FSC__REC_CLEARED))
        return -1;
      r->mark = (uint8_t)m;
    }
  }
  r->total = fsc__rec_total(h);
  return 0;
}

HOT int krec_read(struct fsc__gen *c, uint64_t off, struct fsc__krec *r) {
  const struct fsc__rec *h;
  int rc = fsc__rec_locate(c, off, &h);
  if (rc)
    return rc;
  if (krec_parse(c, fsc__rec_type(h), fsc__rec_pl(h), fsc__rec_size(h),
                 r) != 0)
    return fsc__err(FSC_ECORRUPT, "record at %llu is not a valid %s record",
                    (unsigned long long)off,
                    fsc__hash_is_dict(c) ? "dict" : "set");
  if (!fsc__hash_is_dict(c))
    r->origin = off;
  return 0;
}

uint64_t fsc__ttl_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int fsc__krec_read(struct fsc__gen *c, uint64_t off, struct fsc__krec *r) {
  return krec_read(c, off, r);
}

int fsc__krec_write(struct fsc__gen *c, const struct fsc__kkey *k,
                    const fsc_value *v, uint64_t *off) {
  return fsc__krec_write_ttl(c, k, v, 0, off);
}

/* A write of key k is coming: start loading the cache lines of its home
 * slot and of the slot's hash word (for writing; a table of 8-byte slots
 * has none), so that both misses
 * overlap each other and the record's write instead of following it: the
 * probe reads the slot, and the locked add after the hash word's store
 * would wait for that store's miss.  A hint only: it reads the table word
 * and descriptor without checking them against each other (a rebuild may
 * publish meanwhile: the probe that follows does it right), and a
 * prefetch never faults, whatever the address. */
HOT void warm_home(struct fsc__gen *c, const struct fsc__kkey *k) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  unsigned b = FSC__LW_BUFIDX(ck_pr_load_64(&ih->lenword));
  uint64_t off = ck_pr_load_64(&ih->desc[b].off);
  uint64_t cap = ck_pr_load_64(&ih->desc[b].cap);
  uint64_t hw = ck_pr_load_64(&ih->desc[b].hw);
  if (cap < KS_MIN_CAP || cap > KS_MAX_CAP || (cap & (cap - 1)))
    return;
  bool hv = (hw & KS_HW_HASHW) != 0;
  const uint64_t *arr = fsc__ptr_try(&c->index, off, cap * (hv ? 16 : 8));
  if (!arr)
    return;
  uint64_t i = k->h & (cap - 1);
  __builtin_prefetch(arr + i, 1);
  if (hv)
    __builtin_prefetch(arr + cap + i, 1);
}

int fsc__krec_write_ttl(struct fsc__gen *c, const struct fsc__kkey *k,
                        const fsc_value *v, uint64_t deadline,
                        uint64_t *off) {
  warm_home(c, k);
  bool dict = fsc__hash_is_dict(c);
  uint64_t vn = dict ? fsc__value_size(v) : 0;
  if (!dict)
    deadline = 0;
  uint64_t n = 4 + (uint64_t)k->n + vn + (dict ? 8 : 0) + (deadline ? 8 : 0);
  uint8_t *pl;
  int rc = fsc__rec_alloc(c, n, off, &pl);
  if (rc)
    return rc;
  if (!fsc__ks_off_fits(c, *off)) {
    fsc__rec_seal(pl, dict ? (uint8_t)v->type : k->type, n);
    fsc__rec_retire(c, *off);
    return fsc__err(FSC_ENOSPC, "%s", fsc__ks_max_msg(c));
  }
  pl[0] = (uint8_t)k->n;
  pl[1] = (uint8_t)(k->n >> 8);
  pl[2] = (uint8_t)(k->n >> 16);
  pl[3] = (uint8_t)((k->n >> 24) | (deadline ? 0x80u : 0));
  if (k->n)
    memcpy(pl + 4, k->p, k->n);
  if (dict) {
    fsc__value_encode(v, pl + 4 + k->n);
    if (deadline)
      put_u64(pl + n - 16, deadline);
    put_u64(pl + n - 8, *off);
  }
  fsc__rec_seal(pl, dict ? (uint8_t)v->type : k->type, n);
  return 0;
}

/* Point an unpublished dict record's origin at `origin`. */
static int set_origin(struct fsc__gen *c, uint64_t roff, uint64_t origin) {
  const struct fsc__rec *h;
  int rc = fsc__rec_locate(c, roff, &h);
  if (rc)
    return rc;
  uint8_t *pl = (uint8_t *)(uintptr_t)fsc__rec_pl(h);
  uint64_t n = fsc__rec_size(h);
  if (get_u64(pl + n - 8) != origin) {
    put_u64(pl + n - 8, origin);
    fsc__rec_seal(pl, fsc__rec_type(h), n);
  }
  return 0;
}

/* Does the record at off hold key k?  It is parsed into *r, which a
 * lookup hands on to its caller (so a hit parses the record once). */
HOT bool key_matches(struct fsc__gen *c, uint64_t off,
                     const struct fsc__kkey *k, struct fsc__krec *r) {
  if (krec_read(c, off, r) != 0)
    return false;
  if (r->klen != k->n || (!fsc__hash_is_dict(c) && r->type != k->type))
    return false;
  return fsc__key_eq(r->key, k->p, k->n);
}


bool fsc__krec_matches(struct fsc__gen *c, uint64_t off,
                       const struct fsc__kkey *k, struct fsc__krec *r) {
  return key_matches(c, off, k, r);
}

/* ------------------------------------------------------------------ */
/* Probing a table                                                     */
/* ------------------------------------------------------------------ */

enum probe_result { P_FOUND, P_EMPTY, P_FULL, P_ODD };

/* Probe t for k: P_FOUND (slot *idx holds *slot naming record *off,
 * parsed in *rec if rec is not NULL) or P_EMPTY (*idx is the first empty
 * slot, holding *slot).  P_ODD: a slot that is no valid state (a stale
 * table being reused, or corruption). */
FSC__OPEN_PATH
static enum probe_result probe(struct fsc__gen *c, const struct fsc__ktab *t,
                               const struct fsc__kkey *k, uint64_t *idx,
                               uint64_t *slot, uint64_t *off,
                               struct fsc__krec *rec) {
  uint64_t mask = t->cap - 1, i = k->h & mask;
  uint64_t tag = fsc__ks_tag_of(k->h, t->cap, t->s8);
  uint64_t om = fsc__ks_offmask(t->s8);
  struct fsc__krec scratch;
  if (!rec)
    rec = &scratch;
  for (uint64_t n = 0; n < t->cap; n++, i = (i + 1) & mask) {
    uint64_t s = ck_pr_load_64(&t->arr[i]);
    if (fsc__ks_empty(s)) {
      *idx = i;
      *slot = s;
      return P_EMPTY;
    }
    if (fsc__ks_tomb(s))
      continue;
    if (!fsc__ks_value(s))
      return P_ODD;
    if (!fsc__ks_tag_eq(s, tag, t->s8))
      continue;
    ck_pr_fence_load(); /* the record is read after the slot naming it */
    uint64_t o = s & om;
    if (key_matches(c, o, k, rec)) {
      *idx = i;
      *slot = s;
      *off = o;
      return P_FOUND;
    }
  }
  return P_FULL;
}

/* A writer met a frozen word: wait for the rebuild; after a while take
 * the lock, which finishes a rebuild whose process died. */
static int kwait(struct fsc__gen *c) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  int rc = fsc__frozen_wait(c);
  if (rc != 1)
    return rc;
  if ((rc = fsc__lock(c)) != 0)
    return rc;
  if (ck_pr_load_64(&ih->lenword) & FSC__LW_FROZEN)
    rc = c->rdonly ? fsc__err(FSC_EAGAIN, "a writer died in the middle of "
                              "a rebuild; open read-write to repair it")
                   : fsc__hash_rebuild_locked(c, 0);
  fsc__unlock(c);
  return rc;
}

/* A probe of a migrating view (hash_migrate.c): the old table's chain
 * first.  A live slot holding k (frozen by a mover or not) is the answer,
 * and t then names the old table (t->old); a MOVED slot holding k, or the
 * chain's end, sends the probe to the new table.  A writer (wr) first
 * freezes the empty slot that ends the old chain, so that a writer still
 * holding a view from before the migration cannot insert k there (its
 * CAS fails): nobody inserts into the old table any more. */
static __attribute__((noinline)) int
kprobe_mig(struct fsc__gen *c, struct fsc__ktab *t, const struct fsc__kkey *k,
           bool wr, uint64_t *idx, uint64_t *s, uint64_t *o,
           struct fsc__krec *cur, enum probe_result *r) {
  struct fsc__krec scratch;
  struct fsc__krec *rec = cur ? cur : &scratch;
  uint64_t mask = t->ocap - 1, i = k->h & mask;
  uint64_t tag = fsc__ks_tag_of(k->h, t->ocap, t->s8);
  uint64_t *end = NULL, es = 0;
  bool found = false, odd = false;
  for (uint64_t n = 0; n < t->ocap; n++, i = (i + 1) & mask) {
    uint64_t x = ck_pr_load_64(&t->oarr[i]);
    if (fsc__ks_empty(x)) {
      end = &t->oarr[i];
      es = x;
      break;
    }
    if (fsc__ks_tomb(x))
      continue;
    bool moved = fsc__ks_moved(x);
    if (!moved && !fsc__ks_value(x)) {
      odd = true;
      *idx = i;
      break;
    }
    if (!fsc__ks_tag_eq(x, tag, t->s8))
      continue;
    ck_pr_fence_load(); /* the record is read after the slot naming it */
    uint64_t ro = x & fsc__ks_offmask(t->s8);
    if (key_matches(c, ro, k, rec)) {
      if (!moved) {
        found = true;
        *idx = i;
        *s = x;
        *o = ro;
      }
      break;
    }
  }
  if (odd || found) {
    if (fsc__ktab_changed(fsc__ihdr(c), t->w))
      return 1;
    if (odd)
      return fsc__err(FSC_ECORRUPT, "hash slot %llu of the table a growth "
                      "migrates from holds garbage", (unsigned long long)*idx);
    t->arr = t->oarr;
    t->hv = t->ohv;
    t->cap = t->ocap;
    t->old = true;
    *r = P_FOUND;
    return 0;
  }
  if (wr && end && !(es & KS_FROZEN) &&
      !ck_pr_cas_64(end, es, es | KS_FROZEN))
    return 1; /* a key landed there meanwhile: probe again */
  *r = probe(c, t, k, idx, s, o, cur);
  if (fsc__ktab_changed(fsc__ihdr(c), t->w))
    return 1;
  if (*r == P_ODD)
    return fsc__err(FSC_ECORRUPT, "hash slot %llu holds garbage",
                    (unsigned long long)*idx);
  return 0;
}

/* One probe for k on a fresh view of the table: 0 with *r (a garbage slot
 * already refused), 1 when the table changed under the probe (probe
 * again), or an error.  A writer (wr) first waits out a rebuild that froze
 * the table word (kwait), then probes again; a reader probes what it sees.
 * While a growth migrates, both tables (kprobe_mig).
 * Inline: every get, set and delete comes through here. */
HOT int kprobe(struct fsc__gen *c, struct fsc__ktab *t,
              const struct fsc__kkey *k, bool wr, uint64_t *idx,
              uint64_t *s, uint64_t *o, struct fsc__krec *cur,
              enum probe_result *r) {
  int rc = fsc__ktab_view(c, t);
  if (rc)
    return rc;
  if (wr && (t->w & FSC__LW_FROZEN))
    return (rc = kwait(c)) != 0 ? rc : 1;
  if (__builtin_expect(t->oarr != NULL, 0))
    return kprobe_mig(c, t, k, wr, idx, s, o, cur, r);
  *r = probe(c, t, k, idx, s, o, cur);
  if (fsc__ktab_changed(fsc__ihdr(c), t->w))
    return 1;
  if (*r == P_ODD)
    return fsc__err(FSC_ECORRUPT, "hash slot %llu holds garbage",
                    (unsigned long long)*idx);
  return 0;
}

/* A writer met slot *p frozen under the unfrozen word w it probed with.
 * A rebuild freezes the word before any slot, and one that gives up
 * unfreezes its slots before the word: a slot still frozen after the word
 * is seen unchanged and unfrozen is damage (a hostile or broken file),
 * not a rebuild to wait for (waiting would spin for ever). */
static int frozen_slot(struct fsc__gen *c, const struct fsc__ktab *t,
                       const uint64_t *p) {
  if (t->old) /* a mover froze it: wait until it is moved */
    return fsc__hash_migrate_wait(c, p);
  uint64_t w = t->w;
  if (ck_pr_load_64(&fsc__ihdr(c)->lenword) == w) {
    ck_pr_fence_load();
    if (ck_pr_load_64(p) & KS_FROZEN)
      return fsc__err(FSC_ECORRUPT, "a hash slot is frozen, but no rebuild "
                      "holds the table");
  }
  return kwait(c);
}

/* COUNT += d for a slot CASed while the word was w (unfrozen).  Dropped
 * if a rebuild that recounts has published since: it counted the slot
 * itself.  A growth's migration recounts nothing: an increment owed to a
 * slot of the table it copies from still counts (fsc__hash_recounted). */
static int count_add(struct fsc__gen *c, uint64_t w, int d) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  for (unsigned spins = 0;; spins++) {
    uint64_t w2 = ck_pr_load_64(&ih->lenword);
    if (fsc__hash_recounted(ih, w, w2))
      return 0;
    if (w2 & FSC__LW_FROZEN) { /* an aborted rebuild keeps the epoch */
      /* Frozen for a compaction, which copies our slot and counts it in
       * the new files: the write is done (retrying it would apply it
       * twice). */
      int rc = kwait(c);
      if (rc == FSC__EMOVED)
        return 0;
      if (rc)
        return rc;
      continue;
    }
    if (d < 0 && FSC__LW_LEN(w2) == 0) {
      /* The insert of this very key has not counted itself yet.  It will
       * soon; if its process died, a rebuild recounts. */
      if (spins < WAIT_SPINS) {
        sched_yield();
        continue;
      }
      int rc = fsc__lock(c);
      if (rc)
        return rc == FSC__EMOVED ? 0 : rc; /* the compaction counted it */
      if (ck_pr_load_64(&ih->lenword) == w2)
        rc = fsc__hash_rebuild_locked(c, 0);
      fsc__unlock(c);
      return rc;
    }
    if (ck_pr_cas_64(&ih->lenword, w2, w2 + (uint64_t)(int64_t)d))
      return 0;
  }
}

/* count_add after a slot CAS that published: the write is done whatever
 * the count does, so it reports success.  An increment count_add could
 * not apply (its wait for a frozen word, or the lock it takes to recount,
 * timed out or failed) leaves COUNT off by one, as a writer killed between
 * its CAS and its count does (within KS_COUNT_SLACK, hash_slot.h), until
 * the next rebuild recounts; failing the call instead would make its
 * caller retire, or a user retry, a record the table names. */
static void count_done(struct fsc__gen *c, uint64_t w, int d) {
  if (count_add(c, w, d) != 0)
    fsc__err_clear();
}

/* ------------------------------------------------------------------ */
/* Lock-free operations                                                */
/* ------------------------------------------------------------------ */

uint64_t fsc__hash_len(struct fsc__gen *c) {
  return FSC__LW_LEN(ck_pr_load_64(&fsc__ihdr(c)->lenword));
}

int fsc__hash_find(struct fsc__gen *c, const struct fsc__kkey *k,
                   uint64_t *off) {
  return fsc__hash_find_rec(c, k, off, NULL);
}

FSC__OPEN_PATH
int fsc__hash_find_rec(struct fsc__gen *c, const struct fsc__kkey *k,
                       uint64_t *off, struct fsc__krec *rec) {
  for (;;) {
    struct fsc__ktab t;
    uint64_t idx, s, o = 0;
    enum probe_result r;
    int rc = kprobe(c, &t, k, false, &idx, &s, &o, rec, &r);
    if (rc == 1)
      continue;
    if (rc)
      return rc;
    if (r != P_FOUND)
      return 0;
    *off = o;
    return 1;
  }
}

/*
 * A replace publishes a record that lies above the one it supersedes, so
 * that a key's highest record that was ever published is its newest (what
 * the rebuild from the data file alone relies on, hash_recover.c).  Two
 * writers of one key may append in one order and publish in the other:
 * the one that finds the live record above its own appends a copy of its
 * record (above it, then) and publishes that; its first record stays
 * unpublished (fsc__hash_put voids it).  A counter record (FSC__CTR_FLAG)
 * is not copied (1 without it: fsc__hash_put's callers publish counters
 * with FSC__PUT_EXPECT of the record they read, which lies below theirs):
 * 0 then, or 1 with *roff the copy, or an error.
 */
static int reappend(struct fsc__gen *c, uint64_t *roff) {
  const struct fsc__rec *h;
  int rc = fsc__rec_locate(c, *roff, &h);
  if (rc)
    return rc;
  if (h->ctl & FSC__CTR_FLAG)
    return 0;
  uint64_t n = fsc__rec_size(h), noff;
  uint8_t type = fsc__rec_type(h), *pl;
  if ((rc = fsc__rec_alloc(c, n, &noff, &pl)) != 0)
    return rc;
  /* (The allocation may have remapped: locate ours again.) */
  if ((rc = fsc__rec_locate(c, *roff, &h)) != 0)
    return rc;
  memcpy(pl, fsc__rec_pl(h), (size_t)n);
  fsc__rec_seal(pl, type, n);
  if (!fsc__ks_off_fits(c, noff)) {
    fsc__rec_void(c, noff);
    fsc__rec_retire(c, noff);
    return fsc__err(FSC_ENOSPC, "%s", fsc__ks_max_msg(c));
  }
  *roff = noff;
  return 1;
}

/* fsc__hash_put, publishing *roff or (when the live record lies above
 * it) a copy appended above that, whose offset replaces *roff. */
static int put_above(struct fsc__gen *c, const struct fsc__kkey *k,
                     uint64_t *roff_io, enum fsc__put_mode mode,
                     uint64_t expect, uint64_t *prev) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  bool dict = fsc__hash_is_dict(c);
  const uint64_t first = *roff_io;
  uint64_t roff = first;
  *prev = 0;
  for (;;) {
    struct fsc__ktab t;
    uint64_t idx = 0, s = 0, old = 0;
    struct fsc__krec cur; /* the live record, parsed by a hit */
    enum probe_result r;
    int rc = kprobe(c, &t, k, true, &idx, &s, &old, &cur, &r);
    if (rc == 1)
      continue;
    if (rc)
      return rc;
    if (r == P_FOUND) {
      *prev = old;
      if (mode == FSC__PUT_ABSENT)
        return 0;
      if (mode == FSC__PUT_EXPECT && old != expect)
        return FSC_EAGAIN;
      if (s & KS_FROZEN) { /* a rebuild froze it after our view */
        if ((rc = frozen_slot(c, &t, &t.arr[idx])) != 0)
          return rc;
        continue;
      }
      if (old > roff) {
        /* A writer that appended after us published first: publish a
         * copy above its record instead (ours is then never published). */
        if ((rc = reappend(c, roff_io)) < 0)
          return rc;
        if (rc) {
          if (roff != first) { /* an earlier copy, never published */
            fsc__rec_void(c, roff);
            fsc__rec_retire(c, roff);
          }
          roff = *roff_io;
          continue;
        }
      }
      /* An update keeps the key's place.  (The live record is immutable
       * once published: its origin is the one the probe parsed.) */
      if (dict && (rc = set_origin(c, roff, cur.origin)) != 0)
        return rc;
      ck_pr_fence_store(); /* the record before the slot naming it */
      if (ck_pr_cas_64(&t.arr[idx], s,
                       fsc__ks_make(t.s8, k->h, idx, t.cap, roff))) {
        fsc__rec_retire(c, old);
        /* A growth migrating: an overwrite moves the next old slots too
         * (after the publish, never failing it), or a workload without
         * inserts would leave the migration where it is for good. */
        if (__builtin_expect(t.oarr != NULL, 0))
          fsc__hash_migrate_nudge(c);
        return 0;
      }
      continue;
    }
    *prev = 0;
    if (mode == FSC__PUT_EXPECT && expect != 0)
      return FSC_EAGAIN;
    uint64_t used = ck_pr_load_64(&ih->kused) + 1;
    if (t.oarr) {
      /* A growth migrating: the new table must keep room for the old
       * table's keys not moved yet, at most COUNT and at most the old
       * slots above kmig (hash_migrate.c). */
      uint64_t km = ck_pr_load_64(&ih->kmig), len = FSC__LW_LEN(t.w);
      uint64_t rest = km < t.ocap ? t.ocap - km : 0;
      used += rest < len ? rest : len;
    }
    if (r == P_FULL || used * 4 > t.cap * 3) {
      /* Past 3/4 full the table grows.  Up to 7/8, a writer that finds
       * the lock taken (by a rebuild laying out the spare table before
       * it freezes this one, hash_grow.c) inserts here instead of
       * waiting; past 7/8, or with no free slot, it waits. */
      bool room = r != P_FULL && used * 8 <= t.cap * 7;
      if ((rc = fsc__hash_grow(c, t.w, room)) < 0)
        return rc;
      if (rc == 0)
        continue;
    }
    if (s & KS_FROZEN) {
      if ((rc = frozen_slot(c, &t, &t.arr[idx])) != 0)
        return rc;
      continue;
    }
    if (dict && (rc = set_origin(c, roff, roff)) != 0)
      return rc;
    ck_pr_fence_store(); /* the record before the slot naming it */
    if (ck_pr_cas_64(&t.arr[idx], s,
                     fsc__ks_make(t.s8, k->h, idx, t.cap, roff))) {
      /* The slot's hash word, for the rebuilds (hash_slot.h): only the
       * winner of the slot writes it, with the epoch of its view, so a
       * late store into a later life of this memory is not trusted.  (A
       * replace keeps the key, hence the word.) */
      if (t.hv)
        ck_pr_store_64(&t.hv[idx], KS_HV_MAKE(k->h, FSC__LW_EPOCH(t.w)));
      ck_pr_inc_64(&ih->kused);
      count_done(c, t.w, 1);
      /* A growth migrating: this insert moves the next old slots, if
       * the lock is free; with live keys past 5/8 of the table (the next
       * change is a growth), it prepares the next one's table
       * (hash_migrate.c).  Both after the publish: a failure there leaves
       * the work to the next insert and does not fail this one (every
       * error of put_above comes before its slot CAS). */
      if (t.oarr && fsc__hash_migrate_help(c) != 0)
        fsc__err_clear();
      if (!t.oarr && FSC__LW_LEN(t.w) * 8 > t.cap * 5 &&
          fsc__hash_migrate_on() && fsc__hash_migrate_prep(c, &t) != 0)
        fsc__err_clear();
      /* The table a migration left behind leaves this process's RSS a
       * bounded chunk an insert (map.c; one load when nothing is left). */
      fsc__file_drop_some(&c->index, FSC__DROP_CHUNK);
      return 1;
    }
  }
}

int fsc__hash_put(struct fsc__gen *c, const struct fsc__kkey *k,
                  uint64_t roff, enum fsc__put_mode mode, uint64_t expect,
                  uint64_t *prev) {
  uint64_t cur = roff;
  int rc = put_above(c, k, &cur, mode, expect, prev);
  /* Every error of put_above comes before its slot CAS (count_done). */
  bool unpublished = rc < 0 ||
                     (rc == 0 && mode == FSC__PUT_ABSENT && *prev);
  if (unpublished || (rc >= 0 && cur != roff)) {
    /* Ours and never published (the caller retires roff when it was not
     * published): flagged void for the rebuild from the data file. */
    fsc__rec_void(c, roff);
    if (cur != roff) {
      if (unpublished) {
        fsc__rec_void(c, cur);
        fsc__rec_retire(c, cur);
      } else {
        fsc__rec_retire(c, roff);
      }
    }
  }
  return rc;
}

/*
 * Append a mark record (doc/FORMAT.md, "Mark records"): a keyed record of
 * type `type` for key [key, klen] whose last u64 is `flag` again, its
 * kind: a dict record with a zero value of the type's fixed size (none
 * for a variable one) and the kind in place of the origin (which names a
 * record, at or above FSC__HDR_SIZE, in any value record), or a set's
 * key and then the kind (an element record has nothing after its key).
 * So the checksum says it is a mark, and which, whatever its flags byte
 * says (fsc__krec_flags).  Flagged `flag` (FSC__REC_REMOVED or
 * FSC__REC_CLEARED) and retired at once (its bytes are dead: no slot ever
 * names it).  Iteration never meets it (it is no key's origin).  *off:
 * its offset.
 */
static int mark_write(struct fsc__gen *c, uint8_t type, const void *key,
                      uint32_t klen, uint8_t flag, uint64_t *off) {
  bool dict = fsc__hash_is_dict(c);
  uint64_t f = dict ? fsc__type_fixed_size((fsc_type)type) : 0;
  uint64_t n = 4 + (uint64_t)klen + f + 8; /* (the kind) */
  uint8_t *pl;
  int rc = fsc__rec_alloc(c, n, off, &pl);
  if (rc)
    return rc;
  memset(pl, 0, (size_t)n);
  pl[0] = (uint8_t)klen;
  pl[1] = (uint8_t)(klen >> 8);
  pl[2] = (uint8_t)(klen >> 16);
  pl[3] = (uint8_t)(klen >> 24);
  if (klen)
    memcpy(pl + 4, key, klen);
  put_u64(pl + n - 8, flag);
  /* The flag in the header's one write: a writer killed after it leaves
   * a sound record that is flagged, never an unflagged one with a zero
   * value that a rebuild would take for the key's newest version. */
  fsc__rec_seal_flagged(pl, type, n, flag);
  fsc__rec_retire(c, *off);
  if (!fsc__ks_off_fits(c, *off))
    return fsc__err(FSC_ENOSPC, "%s", fsc__ks_max_msg(c));
  return 0;
}

/*
 * A delete leaves its trace in the data file, not in the record it
 * removes: a mark record of the key (FSC__REC_REMOVED) appended before the
 * slot becomes a tombstone, and above the record it removes (written
 * again if a writer published a higher one meanwhile).  The rebuild from
 * the data file (hash_recover.c) then finds the key absent when its
 * highest record is that mark.
 */
int fsc__hash_del(struct fsc__gen *c, const struct fsc__kkey *k,
                  uint64_t expect, uint64_t *old) {
  uint64_t moff = 0; /* our mark record */
  bool nomark = false; /* the data file is full: flag the record instead */
  int rc;
  for (;;) {
    struct fsc__ktab t;
    uint64_t idx = 0, s = 0, o = 0;
    enum probe_result r;
    rc = kprobe(c, &t, k, true, &idx, &s, &o, NULL, &r);
    if (rc == 1)
      continue;
    if (rc)
      goto unpublished;
    if (r != P_FOUND || (expect && o != expect)) {
      if (moff)
        fsc__rec_void(c, moff); /* (retired when written) */
      return 0;
    }
    if (s & KS_FROZEN) {
      if ((rc = frozen_slot(c, &t, &t.arr[idx])) != 0)
        goto unpublished;
      continue;
    }
    if (moff < o && !nomark) {
      const struct fsc__rec *h;
      if ((rc = fsc__rec_locate(c, o, &h)) != 0)
        goto unpublished;
      uint8_t type = fsc__hash_is_dict(c) ? fsc__rec_type(h) : k->type;
      if (moff)
        fsc__rec_void(c, moff);
      moff = 0;
      rc = mark_write(c, type, k->p, k->n, FSC__REC_REMOVED, &moff);
      if (rc == FSC_ENOSPC) {
        /* No room for a mark: a delete must still work on a full disk.
         * The removed record becomes its own mark (flagged REMOVED),
         * after the CAS (before it, a structural change that froze the
         * slot would leave a live slot naming a flagged record): the
         * rebuild from the data file still finds the key absent.  Only
         * here does a write touch the record it supersedes. */
        nomark = true;
        moff = 0;
        fsc__err_clear();
        continue;
      }
      if (rc)
        goto unpublished;
      continue; /* (look again: the key may have moved on meanwhile) */
    }
    ck_pr_fence_store(); /* the mark record before the slot */
    if (ck_pr_cas_64(&t.arr[idx], s, KS_TOMB)) {
      if (nomark)
        fsc__rec_flag_removed(c, o);
      fsc__rec_retire(c, o);
      *old = o;
      count_done(c, t.w, -1);
      /* A growth migrating: a delete moves the next old slots too (as
       * an overwrite does, in put_above). */
      if (__builtin_expect(t.oarr != NULL, 0))
        fsc__hash_migrate_nudge(c);
      return 1;
    }
  }
unpublished: /* the key was not removed: neither is its mark a removal */
  if (moff)
    fsc__rec_void(c, moff);
  return rc;
}

int fsc__hash_clear(struct fsc__gen *c) {
  int rc = fsc__lock(c);
  if (rc)
    return rc;
  /* The clear's mark (FSC__REC_CLEARED): the rebuild from the data file
   * takes no record below it.  Its shape is any keyed record's of this
   * collection (an empty key, or a zero element of the set's type). */
  static const uint8_t zero[16];
  uint8_t type = c->type == FSC_TYPE_ANY ? (uint8_t)FSC_TYPE_BYTES
                                         : (uint8_t)c->type;
  uint32_t klen = fsc__hash_is_dict(c)
                      ? 0
                      : (uint32_t)fsc__type_fixed_size((fsc_type)type);
  uint64_t moff;
  if ((rc = mark_write(c, type, zero, klen, FSC__REC_CLEARED, &moff)) == 0)
    rc = fsc__hash_rebuild_locked(c, KS_RB_CLEAR);
  fsc__unlock(c);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Walking the data file: iteration order                              */
/* ------------------------------------------------------------------ */

/*
 * The next keyed record at or after *pos and below end that verifies
 * (checksum included).  A record still being written, or left half-written
 * by a writer that died, does not verify: the walk then moves on 8 bytes at
 * a time until a record verifies again.  Records are 8-aligned and space is
 * handed out contiguously, so the next complete record is found.
 */
int fsc__hash_walk(struct fsc__gen *c, uint64_t *pos, uint64_t end,
                   uint64_t *roff, struct fsc__krec *kr) {
  uint64_t p = *pos < FSC__HDR_SIZE ? FSC__HDR_SIZE : (*pos + 7) & ~7ull;
  while (p + sizeof(struct fsc__rec) <= end) {
    const struct fsc__rec *h =
        fsc__ptr(c, &c->data, p, sizeof(struct fsc__rec));
    if (!h)
      return fsc__err_last();
    /* The form from the first byte (format.h): a compact record's size
     * is implied, a full one's follows. */
    uint8_t rt = ck_pr_load_8((const uint8_t *)&h->rtype);
    uint8_t type = (uint8_t)(rt & FSC__REC_TYPE_MASK);
    bool cf = (rt & FSC__REC_COMPACT) != 0;
    uint64_t n = cf ? FSC__REC_CSIZE
                    : ck_pr_load_64((const uint64_t *)&h->fsize);
    uint64_t tot = cf ? FSC__REC_CHDR + FSC__REC_CSIZE : FSC__REC_TOTAL(n);
    if (type && fsc__type_valid(type) && cf == (c->crec && n == 8) &&
        (cf || n <= end - p - sizeof(struct fsc__rec)) && tot <= end - p) {
      /* The record may lie past the view h points into: map all of it. */
      const struct fsc__rec *whole = fsc__ptr(c, &c->data, p, tot);
      if (!whole)
        return fsc__err_last();
      h = whole;
      const uint8_t *pl = (const uint8_t *)h + (cf ? FSC__REC_CHDR
                                                   : sizeof *h);
      if (krec_parse(c, type, pl, n, kr) == 0 &&
          fsc__rec_sum_ok(h)) {
        if (!fsc__hash_is_dict(c))
          kr->origin = p;
        *roff = p;
        *pos = p + tot;
        return 1;
      }
    }
    p += 8;
  }
  *pos = p;
  return 0;
}

int fsc__hash_live_origin(struct fsc__gen *c, uint64_t r,
                       const struct fsc__krec *kr, uint64_t *live) {
  if (kr->origin != r)
    return 0;
  struct fsc__kkey k;
  fsc__kkey_make(&k, fsc__hash_is_dict(c) ? 0 : kr->type, kr->key, kr->klen);
  uint64_t off;
  int rc = fsc__hash_find(c, &k, &off);
  if (rc <= 0)
    return rc;
  /* Read the live record's origin after the lookup that found it
   * published, even when it is r itself: the walk may have read r while
   * it was unpublished and still named itself, before its writer pointed
   * it at the origin of the record it replaced. */
  struct fsc__krec cur;
  if ((rc = fsc__krec_read(c, off, &cur)) != 0)
    return rc;
  if (cur.origin != r)
    return 0;
  *live = off;
  return 1;
}

int fsc__hash_del_rec(struct fsc__gen *c, uint64_t off, struct fsc__krec *r,
                      uint64_t *old) {
  int rc = fsc__krec_read(c, off, r);
  if (rc)
    return rc;
  struct fsc__kkey k;
  fsc__kkey_make(&k, 0, r->key, r->klen);
  return fsc__hash_del(c, &k, off, old);
}

uint64_t fsc__hash_tail(struct fsc__gen *c) {
  return ck_pr_load_64(&fsc__dhdr(c)->tail);
}

int fsc__hash_next(struct fsc__gen *c, uint64_t *pos, uint64_t end,
                   uint64_t *off) {
  for (;;) {
    uint64_t r;
    struct fsc__krec kr;
    int rc = fsc__hash_walk(c, pos, end, &r, &kr);
    if (rc <= 0)
      return rc;
    if ((rc = fsc__hash_live_origin(c, r, &kr, off)) != 0)
      return rc;
  }
}

int fsc__hash_iter_begin(struct fsc__gen *c, uint64_t *pos,
                         uint64_t mark[2]) {
  if (fsc__gen_moved(c))
    return FSC__EMOVED;
  *pos = 0;
  mark[0] = fsc__hash_tail(c);
  mark[1] = fsc__dhdr(c)->h.generation;
  return 0;
}

int fsc__hash_iter_next(struct fsc__gen *c, uint64_t *pos,
                        const uint64_t mark[2], const char *kind,
                        uint64_t *off) {
  if (fsc__dhdr(c)->h.generation != mark[1])
    return fsc__err(FSC_EAGAIN, "the %s was compacted during the "
                    "iteration; start it again", kind);
  return fsc__hash_next(c, pos, mark[0], off);
}

