/*
 * ctr_seal.c - owns counter seals: when a counter record's checksum
 * covers its value word (FSC__CTR_SEALED), the writer in place that
 * unseals it, the log of the counters unsealed this session (struct
 * fsc__useal in the index header), and the session's clean close that
 * seals them again.  doc/FORMAT.md, "Counter records" and "The unsealed
 * log"; doc/DURABILITY.md, "Counters".
 *
 * Invariants:
 *  - a counter's checksum is its sealed or its unsealed one
 *    (fsc__rec_sum_ok accepts either: checksum.c); SEALED clear means
 *    the unsealed one.  A writer swaps the sealed checksum for the
 *    unsealed one (a CAS, checking the sealed one first) before it
 *    changes the value, then clears SEALED; a sealer sets SEALED, then
 *    swaps the checksum;
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

static uint32_t *sumw(const struct fsc__rec *r) {
  return (uint32_t *)(uintptr_t)&r->checksum;
}

static uint16_t *ctlw(const struct fsc__rec *r) {
  return (uint16_t *)(uintptr_t)&r->ctl;
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
  uint64_t n = fsc__rec_size(r);
  uint32_t us = fsc__ctr_sum(r->rtype, fsc__rec_pl(r), n, false);
  bool logged = false;
  for (;;) {
    uint32_t s = ck_pr_load_32(sumw(r));
    if (s != us) {
      /* The sealed checksum: nobody changes the value while it is there
       * (a writer swaps it first, below), so a value that does not match
       * it while it stays is damage. */
      ck_pr_fence_load();
      uint32_t ss = fsc__ctr_sum(r->rtype, fsc__rec_pl(r), n, true);
      ck_pr_fence_load();
      if (ck_pr_load_32(sumw(r)) != s)
        continue; /* another writer unsealed it meanwhile */
      if (ss != s)
        return fsc__err(FSC_ECORRUPT, "the counter at %llu does not match "
                        "its checksum: repair the collection (fsc_*_verify "
                        "with FSC_VERIFY_REPAIR)", (unsigned long long)off);
      if (!logged) {
        log_unsealed(c, off); /* before the swap: a close finds it */
        logged = true;
      }
      /* Full barrier: the unsealed checksum is visible before the value
       * changes (the caller's atomic on the value word comes after). */
      if (!ck_pr_cas_32(sumw(r), s, us))
        continue;
    }
    /* The checksum is the unsealed one: now the bit (another writer may
     * have swapped the checksum and not cleared it yet), in ctl, then in
     * the close word (its bits include ctl's: format.h).  A one-atomic
     * writer (fsc__ctr_add_cw) that finds it clear changes the value
     * after the unsealed checksum is in place. */
    ck_pr_and_16(ctlw(r), (uint16_t)~FSC__CTR_SEALED);
    uint64_t *cw = fsc__ctr_cw(r);
    if (cw)
      ck_pr_and_64(cw, ~htole64(FSC__CTR_SEALED));
    return 0;
  }
}

/* Seal the record r if it is a counter whose unsealed checksum holds;
 * `force`: even with writers counted inside (the last close: they are
 * dead; a closer that saw none inside after CLOSED: any counted since
 * leave without writing).  The bit first, then the checksum: SEALED clear
 * always means the unsealed checksum, so a writer that finds it clear
 * never changes a value a sealed checksum covers (a close that dies
 * between the two leaves SEALED with the unsealed checksum, which the
 * next writer's fsc__ctr_unseal takes as unsealed). */
static void seal_rec(const struct fsc__rec *r, bool force) {
  uint64_t n = fsc__rec_size(r);
  uint16_t g = ck_pr_load_16(ctlw(r));
  if (!(g & FSC__CTR_FLAG) || !fsc__ctr_shape_ok(n) ||
      !fsc__type_valid(fsc__rec_type(r)))
    return;
  if (!force && (g & (FSC__CTR_INSIDE | FSC__CTR_ABANDONED)))
    return;
  uint32_t us = fsc__ctr_sum(r->rtype, fsc__rec_pl(r), n, false);
  if (ck_pr_load_32(sumw(r)) != us)
    return; /* sealed already, or damaged: left for verify to judge */
  /* Locked, the close word's first (format.h): a one-atomic writer's CAS
   * after them fails (internal.h fsc__ctr_add_one, fsc__ctr_add_cw); one
   * before them is in the value summed next. */
  uint64_t *cw = fsc__ctr_cw(r);
  if (cw)
    ck_pr_or_64(cw, htole64(FSC__CTR_SEALED));
  ck_pr_or_16(ctlw(r), FSC__CTR_SEALED);
  uint32_t ss = fsc__ctr_sum(r->rtype, fsc__rec_pl(r), n, true);
  ck_pr_cas_32(sumw(r), us, ss);
}

/* The whole record at off, below the data tail; NULL if there is none
 * (an offset from the log is checked, not trusted). */
static const struct fsc__rec *locate(struct fsc__gen *c, uint64_t off) {
  uint64_t end = ck_pr_load_64(&fsc__dhdr(c)->tail);
  if (off < FSC__HDR_SIZE || (off & 7u) || off >= end ||
      end - off < sizeof(struct fsc__rec))
    return NULL;
  const struct fsc__rec *r = fsc__ptr(c, &c->data, off, sizeof *r);
  if (!r || fsc__rec_size(r) > end - off - fsc__rec_hsize(r) ||
      fsc__rec_total(r) > end - off ||
      !(r = fsc__ptr(c, &c->data, off, fsc__rec_total(r)))) {
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
    if (fsc__rec_type(r) && fsc__type_valid(fsc__rec_type(r)) &&
        (r = locate(c, p)) && fsc__rec_sum_ok(r)) {
      seal_rec(r, true);
      p += fsc__rec_total(r);
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
