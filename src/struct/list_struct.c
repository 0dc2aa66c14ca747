/*
 * list_struct.c - owns the list's structural-change protocol: how a change
 * that moves elements (insert, pop, del, slices, sort, reverse, clear,
 * growth) coexists with lock-free readers, appenders and item assignment in
 * any process, and how a change whose process died is finished.
 * doc/CONCURRENCY.md tells the same story in prose, with the proofs.
 *
 * The list is a length word (LEN, EPOCH, BUF, FROZEN) and two pointer
 * arrays in the index file, desc[0] and desc[1]; BUF names the active one.
 *
 *  - Readers validate: they read the word, the active array, a slot, and
 *    re-read the word; if EPOCH or BUF moved they retry.
 *  - Appenders CAS slot[LEN] from empty to their record, then CAS the word
 *    from LEN to LEN+1; anyone who finds slot[LEN] filled helps bump it.
 *    A filled slot is a promise: it is counted, by a bump or by adoption.
 *  - A change takes the lock, CASes FROZEN into the word (appenders and
 *    setters now wait), adopts a filled slot[LEN], and CASes slot[LEN] to
 *    FENCE so no appender can fill it.  A full change also freezes every
 *    slot (bit 0) so a racing item assignment's CAS fails and retries after
 *    the change, instead of being lost in the copy.  It writes the new list
 *    into the spare array and publishes it with one store of the word:
 *    (spare, EPOCH+1, new LEN, unfrozen).  Before that store the old list
 *    is intact, so a death at any point loses nothing acknowledged.
 *  - Emptied slots of a reused array are tagged with the new epoch, and an
 *    appender re-validates the epoch after reading the slot it will CAS, so
 *    the expected value of its CAS cannot recur (no ABA short of 2^22
 *    changes while one appender is descheduled between two instructions).
 *  - The next lock holder that finds the word frozen knows its holder died
 *    (flock was released by the kernel) and republishes the intact list.
 *  - Before publishing, a change seals the structure words (the word's BUF
 *    and EPOCH, both descriptors) into the header (fsc__ls_seal): while
 *    the word is not frozen they equal the seal, so recovery and verify
 *    can tell a damaged word from the newest list and restore it, instead
 *    of rolling the list back to the older array (doc/FORMAT.md).
 */
#include "struct/list_struct.h"

#include <stdlib.h>
#include <string.h>

static uint64_t next_epoch(uint64_t e) {
  return (e + 1) & FSC__LW_EPOCH_MASK;
}

int fsc__ls_bad_desc(unsigned b, uint64_t off, uint64_t n) {
  return fsc__err(FSC_ECORRUPT, "list array %u is invalid (offset %llu, "
                  "capacity %llu)", b, (unsigned long long)off,
                  (unsigned long long)n);
}

int fsc__ls_bad_head(uint64_t lh, uint64_t w) {
  return fsc__err(FSC_ECORRUPT, "list head word %#llx does not go with "
                  "its length word %#llx", (unsigned long long)lh,
                  (unsigned long long)w);
}

void fsc__ls_store_words(struct fsc__index_hdr *ih, unsigned buf,
                         uint64_t e, uint64_t head, uint64_t n) {
  uint64_t w = FSC__LW_MAKE(buf, e, head + n);
  /* The head word of the new epoch first: a reader pairs a head word with
   * the length word it loads after it (fsc__ls_load), and one that loads
   * this head word with the old length word sees two epochs and reads
   * again.  (The seal's store fence orders it before the word.) */
  ck_pr_store_64(&ih->lhead, FSC__LH_MAKE(e, head));
  fsc__ls_seal(ih, w);
  ck_pr_store_64(&ih->lenword, w);
}

int fsc__ls_bad_len(uint64_t len, uint64_t cap) {
  return fsc__err(FSC_ECORRUPT, "list length %llu exceeds its array "
                  "capacity %llu", (unsigned long long)len,
                  (unsigned long long)cap);
}

/* fsc__ls_desc_array and fsc__ls_view are inline in list_struct.h. */

/* ------------------------------------------------------------------ */
/* The seal                                                            */
/* ------------------------------------------------------------------ */

#define SEAL_BITS (FSC__LW_BUF | (FSC__LW_EPOCH_MASK << FSC__LW_EPOCH_SHIFT))

static uint64_t seal_mix(uint64_t h, uint64_t x) {
  h ^= x + UINT64_C(0x9E3779B97F4A7C15) + (h << 6) + (h >> 2);
  h ^= h >> 31;
  h *= UINT64_C(0xBF58476D1CE4E5B9);
  return h ^ (h >> 29);
}

static uint64_t seal_sum(uint64_t word, const struct fsc__list_desc *d) {
  uint64_t h = UINT64_C(0x5EA15EA15EA15EA1);
  h = seal_mix(h, word);
  for (int b = 0; b < 2; b++) {
    h = seal_mix(h, d[b].off);
    h = seal_mix(h, d[b].cap);
    h = seal_mix(h, d[b].hw);
  }
  return h ? h : 1;
}

static void live_desc(struct fsc__index_hdr *ih, struct fsc__list_desc *d) {
  for (int b = 0; b < 2; b++) {
    d[b].off = ck_pr_load_64(&ih->desc[b].off);
    d[b].cap = ck_pr_load_64(&ih->desc[b].cap);
    d[b].hw = ck_pr_load_64(&ih->desc[b].hw);
  }
}

/* The seal of the word w and the descriptors d (fsc__ls_seal). */
static void seal_with(struct fsc__index_hdr *ih, uint64_t w,
                      const struct fsc__list_desc *d) {
  uint64_t word = w & SEAL_BITS;
  struct fsc__list_seal *s = &ih->seal;
  ck_pr_store_64(&s->word, word);
  for (int b = 0; b < 2; b++) {
    ck_pr_store_64(&s->desc[b].off, d[b].off);
    ck_pr_store_64(&s->desc[b].cap, d[b].cap);
    ck_pr_store_64(&s->desc[b].hw, d[b].hw);
  }
  ck_pr_store_64(&s->sum, seal_sum(word, d));
  ck_pr_fence_store(); /* the seal before the word it describes */
}

void fsc__ls_seal(struct fsc__index_hdr *ih, uint64_t w) {
  struct fsc__list_desc d[2];
  live_desc(ih, d);
  seal_with(ih, w, d);
}

static void seal_load(struct fsc__index_hdr *ih, uint64_t *word,
                      struct fsc__list_desc *d, uint64_t *sum) {
  struct fsc__list_seal *s = &ih->seal;
  *word = ck_pr_load_64(&s->word);
  for (int b = 0; b < 2; b++) {
    d[b].off = ck_pr_load_64(&s->desc[b].off);
    d[b].cap = ck_pr_load_64(&s->desc[b].cap);
    d[b].hw = ck_pr_load_64(&s->desc[b].hw);
  }
  *sum = ck_pr_load_64(&s->sum);
}

enum fsc__seal_state fsc__ls_seal_state(struct fsc__index_hdr *ih,
                                        uint64_t *differ) {
  uint64_t word, sum;
  struct fsc__list_desc sd[2], ld[2];
  seal_load(ih, &word, sd, &sum);
  live_desc(ih, ld);
  uint64_t lw = ck_pr_load_64(&ih->lenword) & SEAL_BITS;
  uint64_t n = lw != word;
  for (int b = 0; b < 2; b++)
    n += (ld[b].off != sd[b].off) + (ld[b].cap != sd[b].cap) +
         (ld[b].hw != sd[b].hw);
  *differ = n;
  if (sum == 0)
    return FSC__SEAL_NONE;
  /* A seal whose sum fails is the damaged word (one at a time): the live
   * words are whole, whether or not they differ from it. */
  if (seal_sum(word, sd) != sum || (word & ~SEAL_BITS))
    return FSC__SEAL_BROKEN;
  return n ? FSC__SEAL_LIVE : FSC__SEAL_OK;
}

uint64_t fsc__ls_seal_fix(struct fsc__gen *c) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t n = 0;
  enum fsc__seal_state st = fsc__ls_seal_state(ih, &n);
  if (st == FSC__SEAL_OK)
    return 0;
  if (st != FSC__SEAL_LIVE) {
    fsc__ls_seal(ih, ck_pr_load_64(&ih->lenword));
    return 0;
  }
  uint64_t word, sum;
  struct fsc__list_desc sd[2];
  seal_load(ih, &word, sd, &sum);
  for (int b = 0; b < 2; b++) {
    ck_pr_store_64(&ih->desc[b].off, sd[b].off);
    ck_pr_store_64(&ih->desc[b].cap, sd[b].cap);
    ck_pr_store_64(&ih->desc[b].hw, sd[b].hw);
  }
  ck_pr_fence_store();
  /* Appenders move LEN meanwhile (lock-free): keep theirs. */
  uint64_t w = ck_pr_load_64(&ih->lenword);
  while (!ck_pr_cas_64_value(&ih->lenword, w, (w & ~SEAL_BITS) | word, &w))
    ck_pr_stall();
  return n;
}

/* Freeze slot i (fetch-or of bit 0) and return its value. */
static uint64_t slot_freeze(uint64_t *slot) {
  uint64_t s = ck_pr_load_64(slot);
  while (FSC__SLOT_IS_VALUE(s) && !(s & FSC__SLOT_FROZEN) &&
         !ck_pr_cas_64_value(slot, s, s | FSC__SLOT_FROZEN, &s))
    ck_pr_stall();
  return s;
}

/* HEAD, with the word frozen (sn physical: len is END): finish the pop a
 * TAKEN slot at HEAD shows (its popper may be dead), then freeze slot HEAD
 * so that no pop claims it while the change runs (a popper's CAS expects
 * the unfrozen value), and count sn from HEAD.  A head word of another
 * epoch is a change that died between storing it and the length word, or
 * damage: HEAD is then where the TAKEN slots end (only pops leave them,
 * and only below HEAD or at it). */
static void settle_head(struct fsc__index_hdr *ih, struct fsc__lsnap *sn) {
  uint64_t end = sn->len, w = FSC__LW_MAKE(sn->buf, sn->epoch, end), h;
  for (;;) {
    uint64_t lh = ck_pr_load_64(&ih->lhead);
    bool ok;
    h = fsc__lh_resolve(lh, w, &ok);
    /* (Below HEAD only TAKEN slots: anything else there is an element a
     * damaged HEAD skipped.) */
    if (ok && h > 0 && !FSC__SLOT_IS_TAKEN(ck_pr_load_64(&sn->src[h - 1])))
      ok = false;
    if (!ok) {
      for (h = 0; h < end && FSC__SLOT_IS_TAKEN(ck_pr_load_64(&sn->src[h]));)
        h++;
      ck_pr_store_64(&ih->lhead, FSC__LH_MAKE(sn->epoch, h));
      continue;
    }
    if (h >= end)
      break;
    uint64_t s = slot_freeze(&sn->src[h]);
    if (!FSC__SLOT_IS_TAKEN(s))
      break;
    /* (A popper passing HEAD makes the same CAS: one of them moves it.) */
    ck_pr_cas_64(&ih->lhead, lh, FSC__LH_MAKE(sn->epoch, h + 1));
  }
  sn->head = h;
  sn->acap = sn->cap;
  sn->src += h;
  sn->cap -= h;
  sn->len -= h;
  sn->nfrozen = sn->len ? 1 : 0;
}

/* Thaw element 0's slot, frozen by settle_head, before a change that
 * leaves it in place publishes. */
static void thaw_head(struct fsc__lsnap *sn) {
  if (sn->len && FSC__SLOT_IS_VALUE(ck_pr_load_64(&sn->src[0])))
    ck_pr_and_64(&sn->src[0], ~FSC__SLOT_FROZEN);
}

/* Freeze the word, adopt a pending append, fence.  Lock held.  Returns 1
 * if the word was already frozen: its holder died (an orphan). */
static int freeze(struct fsc__gen *c, struct fsc__lsnap *sn) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t w;
  int orphan = 0;
  for (;;) {
    w = ck_pr_load_64(&ih->lenword);
    if (w & FSC__LW_FROZEN) {
      orphan = 1;
      break;
    }
    if (ck_pr_cas_64(&ih->lenword, w, w | FSC__LW_FROZEN)) {
      w |= FSC__LW_FROZEN;
      break;
    }
    ck_pr_stall();
  }
  memset(sn, 0, sizeof *sn);
  sn->buf = FSC__LW_BUFIDX(w);
  sn->epoch = FSC__LW_EPOCH(w);
  sn->len = FSC__LW_LEN(w);
  int rc = fsc__ls_desc_array(c, sn->buf, &sn->src, &sn->cap);
  if (rc == 0 && sn->len > sn->cap)
    rc = fsc__err(FSC_ECORRUPT, "list length exceeds its array capacity");
  if (rc) {
    if (!orphan) /* leave the list as it was */
      ck_pr_store_64(&ih->lenword, w & ~FSC__LW_FROZEN);
    return rc;
  }
  /* Adopt: a filled slot[len] is an append that is promised (at most one
   * can exist, appenders only fill slot[LEN]).  Then close slot[len]. */
  while (sn->len < sn->cap) {
    uint64_t s = ck_pr_load_64(&sn->src[sn->len]);
    if (FSC__SLOT_IS_VALUE(s)) {
      sn->len++;
      continue;
    }
    if (s == FSC__SLOT_FENCE || ck_pr_cas_64(&sn->src[sn->len], s,
                                             FSC__SLOT_FENCE))
      break;
  }
  if (sn->len != FSC__LW_LEN(w))
    ck_pr_store_64(&ih->lenword,
                   FSC__LW_MAKE(sn->buf, sn->epoch, sn->len) | FSC__LW_FROZEN);
  /* Everything at or above hw is untouched by this array's current life. */
  uint64_t hw = sn->len < sn->cap ? sn->len + 1 : sn->cap;
  if (ih->desc[sn->buf].hw < hw)
    ih->desc[sn->buf].hw = hw;
  settle_head(ih, sn);
  return orphan;
}

/* Freeze every slot and copy the offsets out; skip (and count) anything
 * that is not a value, which only a dead change can leave behind. */
static int snapshot(struct fsc__lsnap *sn, uint64_t *skipped) {
  sn->old = malloc((size_t)(sn->len ? sn->len : 1) * sizeof *sn->old);
  if (!sn->old)
    return fsc__err(FSC_ENOMEM, "out of memory copying %llu slots",
                    (unsigned long long)sn->len);
  uint64_t k = 0;
  for (uint64_t i = 0; i < sn->len; i++) {
    uint64_t s = slot_freeze(&sn->src[i]);
    if (FSC__SLOT_IS_VALUE(s))
      sn->old[k++] = FSC__SLOT_OFF(s);
  }
  sn->nfrozen = sn->len;
  *skipped = sn->len - k;
  sn->len = k;
  return 0;
}

static void finish(struct fsc__gen *c, struct fsc__lsnap *sn) {
  free(sn->old);
  sn->old = NULL;
  fsc__unlock(c);
}

/* Publish arr as the list without unlocking. */
static int publish(struct fsc__gen *c, struct fsc__lsnap *sn,
                   const uint64_t *arr, uint64_t n, uint64_t min_cap) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  unsigned t = sn->buf ^ 1u;
  uint64_t e1 = next_epoch(sn->epoch);
  uint64_t want = n > min_cap ? n : min_cap;
  if (want < 64)
    want = 64;
  uint64_t toff = ck_pr_load_64(&ih->desc[t].off);
  uint64_t tcap = ck_pr_load_64(&ih->desc[t].cap);
  uint64_t hw = ih->desc[t].hw;
  /* The active array, which the new one must not overlap.  Only a hostile
   * or broken index names a spare (or an itail) that would. */
  uint64_t aoff = ck_pr_load_64(&ih->desc[sn->buf].off);
  uint64_t aend = aoff + sn->acap * 8;
  bool fresh = toff == 0 || tcap < want;
  if (!fresh && (toff < FSC__HDR_SIZE || (toff & 7u) ||
                 tcap > (UINT64_C(1) << 40) ||
                 toff + tcap * 8 > ck_pr_load_64(&ih->itail) ||
                 (toff < aend && aoff < toff + tcap * 8)))
    fresh = true; /* not a region this list handed out: never write it */
  if (fresh) {
    /* A new region at the index tail.  itail is persisted before the
     * region is used, so a region is never handed out twice.  Headroom
     * (twice the length, at least the active capacity) keeps appends from
     * growing it again at once. */
    tcap = want;
    if (tcap < 2 * n)
      tcap = 2 * n;
    if (tcap < sn->cap)
      tcap = sn->cap;
    uint64_t bytes = tcap * 8;
    toff = ih->itail;
    if (toff < aend && aoff < toff + bytes)
      return fsc__err(FSC_ECORRUPT, "the index tail %llu lies inside the "
                      "list's array", (unsigned long long)toff);
    int rc = fsc__index_grow(c, toff + bytes + FSC__TRAILER);
    if (rc)
      return rc;
    ck_pr_store_64(&ih->itail, toff + bytes);
    hw = tcap; /* fill it all: the bytes may not be zero */
  }
  uint64_t *dst = fsc__ptr(c, &c->index, toff, tcap * 8);
  if (!dst)
    return fsc__err_last();
  /* No appender or setter can CAS into the spare array successfully
   * (every slot it could target is frozen, fenced or newer), but one that
   * read this array in an older life may still load a slot or try (and
   * fail) a CAS on it: so one atomic store per slot, never memcpy, which
   * may write a word in pieces (a data race, and a torn word a stale CAS
   * could match). */
  for (uint64_t i = 0; i < n; i++)
    ck_pr_store_64(&dst[i], arr[i]);
  uint64_t empty = fresh ? 0 : FSC__SLOT_EMPTY(e1);
  if (hw > tcap)
    hw = tcap;
  for (uint64_t i = n; i < hw; i++)
    ck_pr_store_64(&dst[i], empty);
  ck_pr_fence_store();
  ck_pr_store_64(&ih->desc[t].off, toff);
  ck_pr_store_64(&ih->desc[t].cap, tcap);
  ih->desc[t].hw = n;
  /* The array and its descriptor are complete before the word (release);
   * the new array starts at HEAD 0. */
  fsc__ls_store_words(ih, t, e1, 0, n);
  return 0;
}

/* Republish the intact list a dead change left frozen.  Lock held. */
static int repair_orphan(struct fsc__gen *c, struct fsc__lsnap *sn) {
  uint64_t skipped = 0;
  int rc = snapshot(sn, &skipped);
  if (rc == 0)
    rc = publish(c, sn, sn->old, sn->len, 0);
  if (rc == 0)
    ck_pr_add_64(&fsc__ihdr(c)->repaired, skipped);
  free(sn->old);
  sn->old = NULL;
  return rc;
}

/* Undo a change that has not published: the list stays as it was, under
 * a new epoch.  Lock held (and kept). */
static void unfreeze(struct fsc__gen *c, struct fsc__lsnap *sn) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  /* No setter can have changed a frozen slot: clearing bit 0 restores it. */
  for (uint64_t i = 0; i < sn->nfrozen; i++)
    ck_pr_and_64(&sn->src[i], ~FSC__SLOT_FROZEN);
  uint64_t e1 = next_epoch(sn->epoch);
  if (sn->len < sn->cap)
    ck_pr_store_64(&sn->src[sn->len], FSC__SLOT_EMPTY(e1));
  ck_pr_fence_store();
  fsc__ls_store_words(ih, sn->buf, e1, sn->head, sn->len);
  free(sn->old);
  sn->old = NULL;
}

static int begin_locked(struct fsc__gen *c, struct fsc__lsnap *sn,
                        bool full) {
  int rc;
  while ((rc = freeze(c, sn)) == 1) {
    if (c->rdonly)
      return fsc__err(FSC_EAGAIN, "a writer died in the middle of a change; "
                      "open the list read-write to repair it");
    if ((rc = repair_orphan(c, sn)) != 0)
      return rc;
  }
  if (rc)
    return rc;
  if (full) {
    uint64_t skipped;
    if ((rc = snapshot(sn, &skipped)) != 0) {
      unfreeze(c, sn);
      return rc;
    }
  }
  return 0;
}

int fsc__ls_begin(struct fsc__gen *c, struct fsc__lsnap *sn, bool full) {
  int rc = fsc__lock(c);
  if (rc)
    return rc;
  if ((rc = begin_locked(c, sn, full)) != 0)
    fsc__unlock(c);
  return rc;
}

void fsc__ls_abort(struct fsc__gen *c, struct fsc__lsnap *sn) {
  unfreeze(c, sn);
  fsc__unlock(c);
}

int fsc__ls_commit(struct fsc__gen *c, struct fsc__lsnap *sn,
                   const uint64_t *arr, uint64_t n, uint64_t min_cap) {
  int rc = publish(c, sn, arr, n, min_cap);
  if (rc) {
    fsc__ls_abort(c, sn);
    return rc;
  }
  finish(c, sn);
  return 0;
}

int fsc__ls_pop_last(struct fsc__gen *c, uint64_t *off) {
  struct fsc__lsnap sn;
  int rc = fsc__ls_begin(c, &sn, false);
  if (rc)
    return rc;
  if (sn.len == 0) {
    fsc__ls_abort(c, &sn);
    return fsc__err(FSC_EINDEX, "pop from empty list");
  }
  uint64_t s = slot_freeze(&sn.src[sn.len - 1]);
  if (!FSC__SLOT_IS_VALUE(s)) {
    fsc__ls_abort(c, &sn);
    return fsc__err(FSC_ECORRUPT, "list slot %llu holds no record",
                    (unsigned long long)(sn.len - 1));
  }
  *off = FSC__SLOT_OFF(s);
  uint64_t e1 = next_epoch(sn.epoch);
  /* Readers that see the emptied slot retry until the word moves. */
  ck_pr_store_64(&sn.src[sn.len - 1], FSC__SLOT_EMPTY(e1));
  if (sn.len < sn.cap)
    ck_pr_store_64(&sn.src[sn.len], FSC__SLOT_EMPTY(e1));
  if (sn.len > 1)
    thaw_head(&sn);
  ck_pr_fence_store();
  fsc__ls_store_words(fsc__ihdr(c), sn.buf, e1, sn.head, sn.len - 1);
  finish(c, &sn);
  return 0;
}

/* Slots an extension in place adds at most (256 KiB of slots): what one
 * append that finds the array full does before it goes on. */
#define EXTEND_MAX (UINT64_C(1) << 15)

/*
 * Growth in place (lock held): when the active array is the last region
 * of the index file (it ends at itail, as an appended-to list's does after
 * its first growth) and at most half of it lies below HEAD, the region
 * is extended past itail by as many slots as it has, at most EXTEND_MAX,
 * and its descriptor's capacity raised; no slot moves, so nothing is
 * frozen or copied and the word keeps its epoch.  The new slots hold 0
 * (an empty slot of a region's first life) before the capacity that lets
 * an appender reach them is stored (release), and the seal is written
 * with the new capacity before the live descriptor: a death between
 * them leaves a seal that recovery restores the descriptor from (the
 * region is allocated and itail past it by then).  Returns 0 when grown
 * (or not full any more), 1 when the array cannot grow in place (the
 * caller copies), or an error.
 */
static int extend(struct fsc__gen *c) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t w = 0, h0 = 0, head = 0;
  int rc = fsc__ls_load(c, &w, &h0, &head);
  if (rc)
    return rc;
  if (w & FSC__LW_FROZEN)
    return 1; /* a dead change: begin_locked repairs it */
  unsigned b = FSC__LW_BUFIDX(w);
  uint64_t aoff = ck_pr_load_64(&ih->desc[b].off);
  uint64_t acap = ck_pr_load_64(&ih->desc[b].cap);
  if (aoff < FSC__HDR_SIZE || (aoff & 7u) || acap == 0 ||
      acap > (UINT64_C(1) << 36))
    return 1; /* (the copy's checks report it) */
  if (FSC__LW_LEN(w) < acap)
    return 0; /* someone else grew it meanwhile */
  if (aoff + acap * 8 != ck_pr_load_64(&ih->itail) || head > acap / 2)
    return 1;
  uint64_t ncap = acap + (acap < EXTEND_MAX ? acap : EXTEND_MAX);
  if ((rc = fsc__index_grow(c, aoff + ncap * 8 + FSC__TRAILER)) != 0)
    return rc;
  ih = fsc__ihdr(c); /* (the growth may have mapped a new view) */
  ck_pr_store_64(&ih->itail, aoff + ncap * 8);
  uint64_t *arr = fsc__ptr(c, &c->index, aoff, ncap * 8);
  if (!arr)
    return fsc__err_last();
  /* No appender reaches a slot at or past acap before the capacity below,
   * and nothing else lies there: zeros written through the page cache
   * (several times cheaper than faulting fresh pages in through the
   * mapping, map.c), over the region's old bytes (the trailer's among
   * them); where the write falls short, atomic stores. */
  if (!fsc__fd_zero(c->index.fd, aoff + acap * 8, (ncap - acap) * 8))
    for (uint64_t i = acap; i < ncap; i++)
      ck_pr_store_64(&arr[i], 0);
  struct fsc__list_desc d[2];
  live_desc(ih, d);
  d[b].cap = ncap;
  seal_with(ih, w, d); /* (its fence: the slots and the seal first) */
  ck_pr_store_64(&ih->desc[b].cap, ncap);
  return 0;
}

int fsc__ls_grow(struct fsc__gen *c) {
  struct fsc__lsnap sn;
  int rc = fsc__lock(c);
  if (rc)
    return rc;
  rc = extend(c);
  if (rc <= 0) {
    fsc__unlock(c);
    return rc;
  }
  fsc__err_clear();
  rc = begin_locked(c, &sn, true);
  if (rc) {
    fsc__unlock(c);
    return rc;
  }
  if (sn.len < sn.cap) { /* someone else grew it meanwhile */
    fsc__ls_abort(c, &sn);
    return 0;
  }
  /* (From HEAD: a queue's popped slots are not copied, and the new array
   * starts at HEAD 0; twice the length keeps growth amortized O(1).) */
  return fsc__ls_commit(c, &sn, sn.old, sn.len, sn.len * 2);
}

int fsc__ls_wait(struct fsc__gen *c) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  int rc = fsc__frozen_wait(c);
  if (rc != 1)
    return rc;
  /* Still frozen: its holder is slow or dead.  The lock tells which. */
  struct fsc__lsnap sn;
  if ((rc = fsc__lock(c)) != 0)
    return rc;
  if (ck_pr_load_64(&ih->lenword) & FSC__LW_FROZEN) {
    if (c->rdonly)
      rc = fsc__err(FSC_EAGAIN, "a writer died in the middle of a change; "
                    "open the list read-write to repair it");
    else if ((rc = freeze(c, &sn)) == 1)
      rc = repair_orphan(c, &sn);
    else if (rc == 0) /* its holder finished meanwhile: undo our freeze */
      unfreeze(c, &sn);
  }
  fsc__unlock(c);
  return rc < 0 ? rc : 0;
}

int fsc__ls_recover_locked(struct fsc__gen *c,
                           bool (*keep)(struct fsc__gen *, uint64_t),
                           uint64_t *kept_bytes, uint64_t *dropped,
                           uint64_t *adopted) {
  struct fsc__lsnap sn;
  uint64_t len0 = FSC__LW_LEN(ck_pr_load_64(&fsc__ihdr(c)->lenword));
  int rc = freeze(c, &sn);
  if (rc < 0)
    return rc;
  len0 = len0 > sn.head ? len0 - sn.head : 0;
  *adopted = sn.len > len0 ? sn.len - len0 : 0;
  uint64_t skipped = 0;
  if ((rc = snapshot(&sn, &skipped)) != 0) {
    unfreeze(c, &sn);
    return rc;
  }
  uint64_t m = 0, bytes = 0;
  for (uint64_t i = 0; i < sn.len; i++) {
    if (!keep(c, sn.old[i]))
      continue;
    const struct fsc__rec *r = fsc__ptr(c, &c->data, sn.old[i], sizeof *r);
    bytes += fsc__rec_total(r);
    sn.old[m++] = sn.old[i];
  }
  *dropped = skipped + (sn.len - m);
  *kept_bytes = bytes;
  rc = publish(c, &sn, sn.old, m, 0);
  free(sn.old);
  sn.old = NULL;
  return rc;
}

int fsc__ls_rebase_locked(struct fsc__gen *c) {
  struct fsc__lsnap sn;
  int rc = begin_locked(c, &sn, true);
  if (rc)
    return rc;
  if ((rc = publish(c, &sn, sn.old, sn.len, 0)) != 0) {
    unfreeze(c, &sn);
    return rc;
  }
  free(sn.old);
  return 0;
}

/* Compaction (compact.c) holds the lock and copies the list out of the
 * frozen array slot by slot. */
int fsc__ls_begin_locked(struct fsc__gen *c, struct fsc__lsnap *sn) {
  return begin_locked(c, sn, false);
}

uint64_t fsc__ls_freeze_slot(struct fsc__lsnap *sn, uint64_t i) {
  uint64_t s = slot_freeze(&sn->src[i]);
  if (i + 1 > sn->nfrozen)
    sn->nfrozen = i + 1;
  return s;
}

void fsc__ls_abort_locked(struct fsc__gen *c, struct fsc__lsnap *sn) {
  unfreeze(c, sn);
}

/* ------------------------------------------------------------------ */
/* Swap and pop (auto_compact)                                         */
/* ------------------------------------------------------------------ */

/* Undo a light freeze in which only slots a and b were frozen. */
static void unfreeze_two(struct fsc__gen *c, struct fsc__lsnap *sn,
                         uint64_t a, uint64_t b) {
  ck_pr_and_64(&sn->src[a], ~FSC__SLOT_FROZEN);
  ck_pr_and_64(&sn->src[b], ~FSC__SLOT_FROZEN);
  unfreeze(c, sn); /* and element 0's slot (settle_head) */
}

int fsc__ls_begin_at(struct fsc__gen *c, struct fsc__lsnap *sn, bool full,
                     int64_t index, const char *empty_msg,
                     const char *range_msg, uint64_t *i) {
  int rc = fsc__ls_begin(c, sn, full);
  if (rc)
    return rc;
  uint64_t n = sn->len;
  int64_t ii = index < 0 ? index + (int64_t)n : index;
  if (n == 0 || ii < 0 || (uint64_t)ii >= n) {
    fsc__ls_abort(c, sn);
    return fsc__err(FSC_EINDEX, "%s", n == 0 ? empty_msg : range_msg);
  }
  *i = (uint64_t)ii;
  return 0;
}

/*
 * Remove element `index` of a list of a fixed-size type by moving the
 * last element into its place, in O(1), and give the space back:
 *  A. (one change) slot[L] emptied, slot[i] := the last element's record
 *     rL, published as LEN-1 with a new epoch.  The removed record ri is
 *     now unreferenced; its value is decoded into *out.
 *  B. If rL is the data file's last record, a second change copies rL's
 *     bytes over ri, points slot[i] back at ri (the same value), publishes
 *     a new epoch, and moves the data tail back over rL with a CAS (an
 *     append that reserved meanwhile makes it fail: rL is then dead).
 * Records are rewritten here, so readers of fixed-size lists re-check the
 * epoch after reading a record (list.c): one holding ri or rL from before
 * a publish sees the epoch move and reads again.  A reader inside change
 * A's window may see the moved element at index i just before the pop is
 * published (the documented cost of swap and pop).
 */
int fsc__ls_swap_pop(struct fsc__gen *c, int64_t index, fsc_value *out,
                     const char *empty_msg, const char *range_msg) {
  struct fsc__lsnap sn;
  uint64_t i;
  int rc = fsc__ls_begin_at(c, &sn, false, index, empty_msg, range_msg, &i);
  if (rc)
    return rc;
  uint64_t n = sn.len, L = n - 1;
  uint64_t si = slot_freeze(&sn.src[i]);
  uint64_t sl = i == L ? si : slot_freeze(&sn.src[L]);
  if (!FSC__SLOT_IS_VALUE(si) || !FSC__SLOT_IS_VALUE(sl)) {
    unfreeze_two(c, &sn, i, L);
    fsc__unlock(c);
    return fsc__err(FSC_ECORRUPT, "list slot %llu holds no record",
                    (unsigned long long)(FSC__SLOT_IS_VALUE(si) ? L : i));
  }
  uint64_t ri = FSC__SLOT_OFF(si), rl = FSC__SLOT_OFF(sl);
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  struct fsc__data_hdr *d = fsc__dhdr(c);
  uint64_t total = fsc__rec_total_n(c->crec, fsc__type_fixed_size(c->type));
  /* A: the logical pop.  slot[L] is emptied before slot[i] takes rL, so
   * a reader that meets rL at i finds L gone when it gets there. */
  uint64_t e1 = next_epoch(sn.epoch);
  ck_pr_store_64(&sn.src[L], FSC__SLOT_EMPTY(e1));
  if (n < sn.cap)
    ck_pr_store_64(&sn.src[n], FSC__SLOT_EMPTY(e1)); /* the fence */
  ck_pr_fence_store();
  if (i != L)
    ck_pr_store_64(&sn.src[i], rl);
  if (i != 0 && L != 0)
    thaw_head(&sn);
  ck_pr_fence_store();
  fsc__ls_store_words(ih, sn.buf, e1, sn.head, L);
  /* The value goes out before its bytes can be reused; a counter's is
   * final once it is closed (record.c). */
  fsc__ctr_close(c, ri);
  if (out && (rc = fsc__rec_read(c, ri, out)) != 0)
    out = NULL; /* reported below, after the list is consistent */
  int rrc = rc;
  /* B: give the space back. */
  uint64_t free_off = i == L ? ri : rl; /* the record no slot will name */
  bool moved = false;
  /* A counter's bytes are never rewritten or handed out again (a writer
   * that read its offset may still touch its header): only compaction
   * takes their space back. */
  bool ctr = fsc__ctr_is(c, ri, NULL) || fsc__ctr_is(c, rl, NULL);
  if (i != L && !ctr && rl + total == ck_pr_load_64(&d->tail)) {
    struct fsc__lsnap sb;
    /* Pops at the head may have moved HEAD since A: i counts from A's. */
    uint64_t p = sn.head + i;
    int frc = freeze(c, &sb);
    if (frc == 0 && p >= sb.head && p - sb.head < sb.len) {
      uint64_t j = p - sb.head;
      uint64_t s = slot_freeze(&sb.src[j]);
      const uint8_t *from = fsc__ptr(c, &c->data, rl, total);
      uint8_t *to = fsc__ptr(c, &c->data, ri, total);
      if (FSC__SLOT_IS_VALUE(s) && FSC__SLOT_OFF(s) == rl && from && to) {
        /* ri is unreferenced since A: only readers holding it from
         * before A's epoch can read it, and they read again. */
        memcpy(to, from, (size_t)total);
        ck_pr_fence_store();
        ck_pr_store_64(&sb.src[j], ri);
        uint64_t e2 = next_epoch(sb.epoch);
        if (sb.len < sb.cap)
          ck_pr_store_64(&sb.src[sb.len], FSC__SLOT_EMPTY(e2));
        if (j != 0)
          thaw_head(&sb);
        ck_pr_fence_store();
        fsc__ls_store_words(ih, sb.buf, e2, sb.head, sb.len);
        moved = true;
      } else {
        ck_pr_and_64(&sb.src[j], ~FSC__SLOT_FROZEN);
        unfreeze(c, &sb);
      }
    } else if (frc == 0) {
      unfreeze(c, &sb); /* (frozen, but i went to a pop at the head) */
    }
    fsc__err_clear();
    if (!moved)
      free_off = ri;
  }
  if (!fsc__ctr_is(c, free_off, NULL) &&
      free_off + total == ck_pr_load_64(&d->tail) &&
      ck_pr_cas_64(&d->tail, free_off + total, free_off)) {
    ck_pr_sub_64(&d->live_bytes, total); /* gone, not dead */
  } else {
    fsc__rec_retire_sized(c, free_off, fsc__type_fixed_size(c->type));
  }
  fsc__unlock(c);
  return rrc;
}
