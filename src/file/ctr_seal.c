/*
 * ctr_seal.c - owns counter seals: when a counter record's checksum
 * covers its value word (FSC__CTR_SEALED), the writer in place that
 * unseals it, the log of the counters unsealed this session (struct
 * fsc__useal in the index header), and the session's clean close that
 * seals them again.  doc/FORMAT.md, "Counter records" and "The unsealed
 * log"; doc/DURABILITY.md, "Counters".
 *
 * Invariants:
 *  - a sealed counter's value changes only after a writer has cleared
 *    SEALED and put the unsealed checksum in the same CAS of the header's
 *    first word (type, flags, ctl, checksum); readers that check a
 *    checksum do so through fsc__rec_sum_ok (record.c), which reads that
 *    word again when a check fails;
 *  - a counter unsealed since the last clean close is in the log (its
 *    writer logs it before the CAS that unseals), or the log has
 *    overflowed (n > FSC__USEAL_N) or holds a 0 entry (a writer died
 *    between claiming the entry and filling it): then the close walks
 *    every record;
 *  - sealing never blesses damage: a record is sealed only when its
 *    unsealed checksum holds.
 */
#include "internal.h"

#include <string.h>

static struct fsc__useal *useal(struct fsc__gen *c) {
  return (struct fsc__useal *)(void *)((uint8_t *)fsc__ihdr(c) +
                                       FSC__USEAL_OFF);
}

static uint64_t *hword(const struct fsc__rec *r) {
  return (uint64_t *)(uintptr_t)(const void *)r;
}

/* Note the counter at off in the log (an atomic add claims an entry). */
static void log_unsealed(struct fsc__gen *c, uint64_t off) {
  struct fsc__useal *u = useal(c);
  uint64_t i = ck_pr_faa_64(&u->n, 1);
  if (i < FSC__USEAL_N)
    ck_pr_store_64(&u->off[i], off);
}

int fsc__ctr_unseal(struct fsc__gen *c, uint64_t off,
                    const struct fsc__rec *r) {
  bool logged = false;
  for (;;) {
    uint64_t hw = ck_pr_load_64(hword(r)), again;
    struct fsc__rec h;
    memcpy(&h, &hw, 8);
    if (!(h.ctl & FSC__CTR_SEALED))
      return 0; /* another writer unsealed it */
    /* While it is sealed nobody writes the value: a mismatch that the
     * header still stands by is damage. */
    if (fsc__ctr_sum(h.type, r + 1, r->size, true) != h.checksum) {
      ck_pr_fence_load();
      again = ck_pr_load_64(hword(r));
      struct fsc__rec h2;
      memcpy(&h2, &again, 8);
      if ((h2.ctl & FSC__CTR_SEALED) && h2.checksum == h.checksum)
        return fsc__err(FSC_ECORRUPT, "the counter at %llu does not match "
                        "its checksum: repair the collection (fsc_*_verify "
                        "with FSC_VERIFY_REPAIR)", (unsigned long long)off);
      continue;
    }
    if (!logged) {
      log_unsealed(c, off); /* before the CAS: a close finds it */
      logged = true;
    }
    struct fsc__rec nh = h;
    nh.ctl = (uint16_t)(h.ctl & ~FSC__CTR_SEALED);
    nh.checksum = fsc__ctr_sum(h.type, r + 1, r->size, false);
    uint64_t nw;
    memcpy(&nw, &nh, 8);
    /* Full barrier: the unsealed header is visible before the value
     * changes (the caller's atomic on the value word comes after). */
    if (ck_pr_cas_64(hword(r), hw, nw))
      return 0;
    ck_pr_stall(); /* ctl or flags moved: again */
  }
}

/* Seal the record r (at off) if it is an unsealed counter whose unsealed
 * checksum holds; `force`: even with writers counted inside (the last
 * close: they are dead; a closer that saw none inside after CLOSED: any
 * counted since leave without writing). */
static void seal_rec(const struct fsc__rec *r, bool force) {
  uint64_t n = r->size;
  for (;;) {
    uint64_t hw = ck_pr_load_64(hword(r));
    struct fsc__rec h;
    memcpy(&h, &hw, 8);
    if (!(h.ctl & FSC__CTR_FLAG) || (h.ctl & FSC__CTR_SEALED) ||
        !fsc__ctr_shape_ok(n) || !fsc__type_valid(h.type))
      return;
    if (!force && (h.ctl & (FSC__CTR_INSIDE | FSC__CTR_ABANDONED)))
      return;
    if (fsc__ctr_sum(h.type, r + 1, n, false) != h.checksum)
      return; /* damaged: left for verify and recovery to find */
    struct fsc__rec nh = h;
    nh.ctl = (uint16_t)(h.ctl | FSC__CTR_SEALED);
    nh.checksum = fsc__ctr_sum(h.type, r + 1, n, true);
    uint64_t nw;
    memcpy(&nw, &nh, 8);
    if (ck_pr_cas_64(hword(r), hw, nw))
      return;
    ck_pr_stall();
  }
}

/* The whole record at off, below the data tail; NULL if there is none
 * (an offset from the log is checked, not trusted). */
static const struct fsc__rec *locate(struct fsc__gen *c, uint64_t off) {
  uint64_t end = ck_pr_load_64(&fsc__dhdr(c)->tail);
  if (off < FSC__HDR_SIZE || (off & 7u) || off >= end ||
      end - off < sizeof(struct fsc__rec))
    return NULL;
  const struct fsc__rec *r = fsc__ptr(c, &c->data, off, sizeof *r);
  if (!r || r->size > end - off - sizeof *r ||
      FSC__REC_TOTAL(r->size) > end - off ||
      !(r = fsc__ptr(c, &c->data, off, FSC__REC_TOTAL(r->size)))) {
    fsc__err_clear();
    return NULL;
  }
  return r;
}

void fsc__ctr_seal(struct fsc__gen *c, uint64_t off, bool force) {
  const struct fsc__rec *r = locate(c, off);
  if (r)
    seal_rec(r, force);
}

/* Every record of the data file, in order: a record whose checksum holds
 * is stepped over whole; elsewhere (space reserved and never written) the
 * walk moves on by 8 bytes. */
static void seal_all(struct fsc__gen *c) {
  uint64_t end = ck_pr_load_64(&fsc__dhdr(c)->tail);
  uint64_t p = FSC__HDR_SIZE;
  while (p + sizeof(struct fsc__rec) <= end) {
    const struct fsc__rec *r =
        fsc__ptr(c, &c->data, p, sizeof(struct fsc__rec));
    if (!r) {
      fsc__err_clear();
      return;
    }
    if (r->type && fsc__type_valid(r->type) && (r = locate(c, p)) &&
        fsc__rec_sum_ok(r)) {
      seal_rec(r, true);
      p += FSC__REC_TOTAL(r->size);
      continue;
    }
    p += 8;
  }
}

void fsc__ctr_seal_session(struct fsc__gen *c) {
  struct fsc__useal *u = useal(c);
  uint64_t n = ck_pr_load_64(&u->n);
  if (n == 0)
    return;
  bool all = n > FSC__USEAL_N;
  uint64_t used = all ? FSC__USEAL_N : n;
  for (uint64_t i = 0; i < used && !all; i++)
    if (ck_pr_load_64(&u->off[i]) == 0)
      all = true; /* a writer died before filling its entry */
  if (all)
    seal_all(c);
  else
    for (uint64_t i = 0; i < used; i++)
      fsc__ctr_seal(c, ck_pr_load_64(&u->off[i]), true);
  for (uint64_t i = 0; i < used; i++)
    ck_pr_store_64(&u->off[i], 0);
  ck_pr_store_64(&u->n, 0);
}
