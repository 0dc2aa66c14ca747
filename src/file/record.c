/*
 * record.c - owns records in the data file: space reservation (lock-free),
 * encoding, checksums, bounds-checked reads, and retiring dead records.
 *
 * Reservation is a CAS loop on the data tail rather than a fetch-and-add:
 * with FAA, a writer that then fails to grow the file (disk full) would have
 * moved the tail past the capacity for good; with CAS the tail only ever
 * covers space that fallocate has already allocated, so ENOSPC leaves the
 * collection usable.  Growth (grow.c) happens ahead of need: the
 * appender whose record crosses fsc__grow_mark(cap) (internal.h) raises
 * the capacity while the tail is still below cap.
 *
 * A record is immutable once published, except its "deleted" flag byte,
 * which the checksum does not cover, and the value word of a counter
 * record (FSC__CTR_FLAG in the header's `ctl` half-word: fsc_dict_incr and
 * fsc_list_incr add to it in place).  A counter's checksum covers its
 * value word only while it is sealed (checksum.c, ctr_seal.c): the first
 * writer in place unseals it; `ctl` counts the writers inside the value
 * word so that whoever needs the value final (compaction's copy, a pop
 * that returns it, a compare-and-swap that replaces the record) can close
 * it and wait for them (doc/CONCURRENCY.md, "Counters in place"; a writer
 * that checks the header and adds in one 16-byte CAS, fsc__ctr_add_one in
 * internal.h, needs no count: the closer's locked or makes its CAS fail).
 */
#include "internal.h"

#include <string.h>


/* Reserve `total` bytes at the tail; or, with align16 != 0, total + pad
 * bytes, pad (in *pad) being 0 or 8 so that the offset returned plus
 * align16 plus pad is a multiple of 16 (a dict counter's close word:
 * fsc__rec_alloc_dctr). */
static int reserve(struct fsc__gen *c, uint64_t total, uint64_t *off,
                   uint64_t align16, uint64_t *pad) {
  struct fsc__data_hdr *d = fsc__dhdr(c);
  const uint64_t base = total;
  for (;;) {
    uint64_t t = ck_pr_load_64(&d->tail);
    uint64_t cap = ck_pr_load_64(&d->cap);
    if (align16) {
      *pad = (t + align16) & 8u;
      total = base + *pad;
    }
    if (t > cap || total > (UINT64_C(1) << 40))
      return fsc__err(FSC_ECORRUPT, "data tail %llu is beyond capacity "
                      "%llu", (unsigned long long)t, (unsigned long long)cap);
    if (t + total > cap) {
      int rc = fsc__data_grow(c, t + total);
      if (rc)
        return rc;
      continue;
    }
    if (ck_pr_cas_64(&d->tail, t, t + total)) {
      *off = t;
      /* Grow ahead: the one appender whose record crosses the mark
       * allocates the next step now, so that no appender finds the file
       * full and waits for it.  An error is not this append's (its space
       * is there): it is left for the append that needs the space, which
       * grows and reports it (FSC_ENOSPC). */
      uint64_t m = fsc__grow_mark(cap);
      if (__builtin_expect(t < m && t + total >= m, 0) &&
          fsc__data_grow_ahead(c, cap) != 0)
        fsc__err_clear();
      return 0;
    }
    ck_pr_stall();
  }
}

/* After the reservation of a record of n payload bytes, total bytes in
 * all, at *off: the counters, the writeback behind, the header. */
static int alloc_done(struct fsc__gen *c, uint64_t n, uint64_t total,
                      const uint64_t *off, uint8_t **payload);

int fsc__rec_alloc(struct fsc__gen *c, uint64_t n, uint64_t *off,
                   uint8_t **payload) {
  if (n > (UINT64_C(1) << 40))
    return fsc__err(FSC_EINVAL, "a record of %llu bytes is too large",
                    (unsigned long long)n);
  uint64_t total = fsc__rec_total_n(c->crec, n);
  int rc = reserve(c, total, off, 0, NULL);
  if (rc)
    return rc;
  return alloc_done(c, n, total, off, payload);
}

int fsc__rec_alloc_dctr(struct fsc__gen *c, uint64_t head, uint64_t *off,
                        uint8_t **payload, uint64_t *n) {
  if (head > (UINT64_C(1) << 40) || (head & 7u))
    return fsc__err(FSC_EINVAL, "a counter's key of %llu bytes is too "
                    "large", (unsigned long long)head);
  /* [header][head][pad][close][value][origin]: the close word lies at
   * off + 16 + head + pad. */
  uint64_t pad = 0;
  int rc = reserve(c, sizeof(struct fsc__rec) + head + 24, off,
                   sizeof(struct fsc__rec) + head, &pad);
  if (rc)
    return rc;
  *n = head + pad + 24;
  if ((rc = alloc_done(c, *n, sizeof(struct fsc__rec) + *n, off,
                       payload)) != 0)
    return rc;
  memset(*payload, 0, (size_t)*n);
  uint16_t ctl = FSC__CTR_FLAG; /* (sealing keeps it: fsc__rec_seal) */
  memcpy((uint8_t *)fsc__rec_of_pl(*payload, *n) +
             offsetof(struct fsc__rec, ctl), &ctl, 2);
  /* Written sealed (fsc__rec_seal): the close word says so too. */
  uint64_t cw = htole64(FSC__CTR_SEALED);
  memcpy(*payload + *n - 24, &cw, 8);
  return 0;
}

static int alloc_done(struct fsc__gen *c, uint64_t n, uint64_t total,
                      const uint64_t *off, uint8_t **payload) {
  uint8_t *p = fsc__ptr(c, &c->data, *off, total);
  if (!p)
    return fsc__err_last();
  ck_pr_add_64(&fsc__dhdr(c)->live_bytes, total);
  ck_pr_add_64(&fsc__dhdr(c)->records, 1);
  /* One call per FSC__BEHIND bytes appended: by the writer whose record
   * crosses the mark (behind.c). */
  if ((*off ^ (*off + total)) >= FSC__BEHIND)
    fsc__data_behind(c, (*off + total) & ~(FSC__BEHIND - 1));
  /* A view a larger one replaced (map.c): its page table entries leave
   * a chunk an append (one load when none is pending). */
  fsc__file_drop_some(&c->data, FSC__DROP_CHUNK);
  /* A clean header: space a swap and pop gave back may hold an old one,
   * and sealing keeps the counter flag it finds there.  A compact one
   * says so from here on (fsc__rec_of_pl finds it by that bit; its
   * checksum, 0 until the seal, does not match). */
  if (c->crec && n == FSC__REC_CSIZE) {
    memset(p, 0, FSC__REC_CHDR);
    p[0] = FSC__REC_COMPACT;
    *payload = p + FSC__REC_CHDR;
    return 0;
  }
  memset(p, 0, sizeof(struct fsc__rec));
  *payload = p + sizeof(struct fsc__rec);
  return 0;
}

void fsc__rec_seal(uint8_t *payload, uint8_t type, uint64_t n) {
  fsc__rec_seal_flagged(payload, type, n, 0);
}

void fsc__rec_seal_flagged(uint8_t *payload, uint8_t type, uint64_t n,
                           uint8_t flags) {
  struct fsc__rec r = {0};
  uint8_t *h = (uint8_t *)fsc__rec_of_pl(payload, n);
  size_t hn = (size_t)(payload - h); /* the header's form, alloc's */
  r.rtype = (uint8_t)(type | (hn == FSC__REC_CHDR ? FSC__REC_COMPACT : 0));
  r.flags = flags; /* in the header's one write: never seen without it */
  r.fsize = n;
  /* A counter record (fsc__rec_alloc_counter) stays one when resealed
   * (a dict replace patches its origin before publishing it). */
  uint16_t ctl;
  memcpy(&ctl, h + offsetof(struct fsc__rec, ctl), 2);
  r.ctl = ctl & FSC__CTR_FLAG;
  /* A counter is written sealed: its value is what the writer put there
   * until a writer in place unseals it (fsc__ctr_unseal). */
  if (r.ctl)
    r.ctl |= FSC__CTR_SEALED;
  /* Zero the padding: the bytes after the payload in its last 8-byte word
   * (the payload starts 8-aligned).  One word rewritten, not a memset. */
  unsigned used = (unsigned)(n & 7u);
  if (used) {
    uint8_t *last = payload + (n & ~UINT64_C(7));
    uint64_t x;
    memcpy(&x, last, 8);
    x = htole64(le64toh(x) & ((UINT64_C(1) << (8 * used)) - 1));
    memcpy(last, &x, 8);
  }
  r.checksum = fsc__rec_sum(r.rtype, payload, n, r.ctl);
  /* The header last: a walker of the data file (hash.c) that meets this
   * record half-written sees a checksum that does not match. */
  memcpy(h, &r, hn);
  /* The bytes are published later by a CAS of a slot, after a store fence
   * issued by the caller. */
}

int fsc__rec_alloc_counter(struct fsc__gen *c, uint64_t n, uint64_t *off,
                           uint8_t **payload) {
  if (!fsc__ctr_shape_ok(n))
    return fsc__err(FSC_EINVAL, "a counter record cannot hold %llu bytes",
                    (unsigned long long)n);
  int rc = fsc__rec_alloc(c, n, off, payload);
  if (rc)
    return rc;
  /* Sealing keeps the flag (fsc__rec_seal). */
  uint16_t ctl = FSC__CTR_FLAG;
  memcpy((uint8_t *)fsc__rec_of_pl(*payload, n) +
             offsetof(struct fsc__rec, ctl), &ctl, 2);
  return 0;
}

bool fsc__ctr_is(struct fsc__gen *c, uint64_t off, uint64_t **word) {
  const struct fsc__rec *r;
  if (fsc__rec_locate(c, off, &r) != 0) {
    fsc__err_clear();
    return false;
  }
  if (!(ck_pr_load_16((uint16_t *)(uintptr_t)&r->ctl) & FSC__CTR_FLAG) ||
      !fsc__ctr_shape_ok(fsc__rec_size(r)))
    return false;
  if (word)
    *word = (uint64_t *)(uintptr_t)(fsc__rec_pl(r) +
                                    fsc__ctr_voff(fsc__rec_size(r)));
  return true;
}

int fsc__ctr_rmw(struct fsc__gen *c, uint64_t off, enum fsc__ctr_op op,
                 const uint64_t *arg, uint64_t *old) {
  const struct fsc__rec *r;
  int rc = fsc__rec_locate(c, off, &r);
  if (rc)
    return rc;
  uint16_t *ctl = (uint16_t *)(uintptr_t)&r->ctl;
  if (!(ck_pr_load_16(ctl) & FSC__CTR_FLAG) ||
      !fsc__ctr_shape_ok(fsc__rec_size(r)))
    return FSC__CTR_GONE;
  uint64_t *w = (uint64_t *)(uintptr_t)(fsc__rec_pl(r) +
                                        fsc__ctr_voff(fsc__rec_size(r)));
  /* Enter: count ourselves in, unless a closer got there first.  The add
   * is a full barrier: a closer that sets CLOSED after it waits for us;
   * one that set it before, we see. */
  uint16_t g = ck_pr_faa_16(ctl, 1);
  if (g & FSC__CTR_CLOSED) {
    ck_pr_faa_16(ctl, (uint16_t)-1);
    return FSC__CTR_GONE;
  }
  /* The first writer since the record was sealed unseals it before it
   * writes (and refuses a sealed value that does not match its checksum:
   * its answer would be built on damage).  Inside, so that a closer
   * sealing it waits for us. */
  if (__builtin_expect(g & FSC__CTR_SEALED, 0) &&
      (rc = fsc__ctr_unseal(c, off, r)) != 0) {
    ck_pr_faa_16(ctl, (uint16_t)-1);
    return rc;
  }
  rc = 0;
  switch (op) {
  case FSC__CTR_ADD:
    *old = ck_pr_faa_64(w, arg[0]);
    break;
  case FSC__CTR_CAS:
    rc = ck_pr_cas_64_value(w, arg[0], arg[1], old) ? 1 : 0;
    break;
  case FSC__CTR_ADDF: {
    uint64_t cur = ck_pr_load_64(w), nv;
    for (;;) {
      double x, a;
      memcpy(&x, &cur, 8);
      memcpy(&a, arg, 8);
      x += a;
      memcpy(&nv, &x, 8);
      if (ck_pr_cas_64_value(w, cur, nv, &cur))
        break;
      ck_pr_stall();
    }
    *old = cur;
    break;
  }
  }
  g = ck_pr_faa_16(ctl, (uint16_t)-1);
  if (__builtin_expect(g & FSC__CTR_ABANDONED, 0))
    return fsc__ctr_abandoned(off);
  return rc;
}

int fsc__ctr_add_undo(struct fsc__gen *c, uint64_t off, int64_t delta) {
  uint64_t neg = (uint64_t)0 - (uint64_t)delta, old = 0;
  fsc__ctr_rmw(c, off, FSC__CTR_ADD, &neg, &old);
  /* (old: the wrapped sum this undo took back; less delta, the value the
   * add met.) */
  return fsc__err(FSC_EVALUE, "int64 overflow: %lld + %lld",
                  (long long)(int64_t)(le64toh(old) + neg), (long long)delta);
}

int fsc__ctr_abandoned(uint64_t off) {
  return fsc__err(FSC_ETIMEDOUT, "the counter at %llu was closed while "
                  "this write stalled for longer than lock_timeout_ms: "
                  "it may not have counted", (unsigned long long)off);
}

int fsc__ctr_cas(struct fsc__gen *c, uint64_t off, const fsc_value *expected,
                 const fsc_value *desired, fsc_value *current) {
  uint64_t arg[2], old;
  uint8_t enc[16] = {0}; /* (no byte unset, whatever the type) */
  fsc__value_encode(expected, enc); /* (8 bytes: the types say so) */
  memcpy(&arg[0], enc, 8);
  fsc__value_encode(desired, enc);
  memcpy(&arg[1], enc, 8);
  int rc = fsc__ctr_rmw(c, off, FSC__CTR_CAS, arg, &old);
  if (rc == 0 && current &&
      fsc__value_decode(desired->type, memcpy(enc, &old, 8), 8, current) != 0)
    return fsc__rec_bad(off);
  return rc;
}

void fsc__ctr_close(struct fsc__gen *c, uint64_t off) {
  const struct fsc__rec *r;
  if (!fsc__ctr_is(c, off, NULL) || fsc__rec_locate(c, off, &r) != 0)
    return;
  uint16_t *ctl = (uint16_t *)(uintptr_t)&r->ctl;
  /* Locked operations: a one-atomic writer (fsc__ctr_add_one and
   * fsc__ctr_add_cw, internal.h: never counted inside) whose 16-byte CAS
   * comes after them compares a header or close word without CLOSED and
   * fails; one before them is in the value read after this.  The close
   * word first (its bits include ctl's: format.h). */
  uint64_t *cw = fsc__ctr_cw(r);
  if (cw)
    ck_pr_or_64(cw, htole64(FSC__CTR_CLOSED));
  ck_pr_or_16(ctl, FSC__CTR_CLOSED);
  uint16_t g = ck_pr_load_16(ctl);
  if (g & FSC__CTR_ABANDONED)
    return; /* only a writer an earlier closer gave up on: not final */
  if (!(g & FSC__CTR_INSIDE)) {
    /* Final: its checksum covers it.  A writer counted inside from now on
     * came after CLOSED and leaves without writing, so it does not stop
     * the seal. */
    fsc__ctr_seal(c, off, true);
    return;
  }
  /* Writers inside take a few instructions; one that stays longer was
   * stopped or killed there.  Wait as long as a lock wait may take, but
   * not beyond FSC__CTR_WAIT_MS: the closer may hold the structure lock. */
  int64_t limit = c->opts.lock_timeout_ms;
  if (limit < 0 || limit > FSC__CTR_WAIT_MS)
    limit = FSC__CTR_WAIT_MS;
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (unsigned i = 0; ck_pr_load_16(ctl) & FSC__CTR_INSIDE; i++) {
    if (i < 1000) {
      ck_pr_stall();
      continue;
    }
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ms = (int64_t)(now.tv_sec - start.tv_sec) * 1000 +
                 (now.tv_nsec - start.tv_nsec) / 1000000;
    if (ms >= limit) {
      /* A writer that resumes after this reports FSC_ETIMEDOUT. */
      ck_pr_or_16(ctl, FSC__CTR_ABANDONED);
      return;
    }
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL);
  }
  fsc__ctr_seal(c, off, true); /* (as above) */
}

int fsc__rec_write(struct fsc__gen *c, const fsc_value *v, uint64_t *off) {
  uint64_t n = fsc__value_size(v);
  uint8_t *payload;
  int rc = fsc__rec_alloc(c, n, off, &payload);
  if (rc)
    return rc;
  fsc__value_encode(v, payload);
  fsc__rec_seal(payload, (uint8_t)v->type, n);
  return 0;
}

int fsc__rec_locate_slow(struct fsc__gen *c, uint64_t off,
                         const struct fsc__rec **rp) {
  if (off < FSC__HDR_SIZE || (off & 7u))
    return fsc__err(FSC_ECORRUPT, "bad record offset %llu",
                    (unsigned long long)off);
  const struct fsc__rec *r = fsc__ptr(c, &c->data, off, sizeof *r);
  if (!r)
    return fsc__err_last();
  uint64_t n = fsc__rec_size(r);
  /* The whole record may lie beyond the view `r` points into (another
   * process appended it after this handle last mapped): use the pointer
   * that covers all of it, from the view fsc__ptr maps for it. */
  const struct fsc__rec *whole = NULL;
  if (n > (UINT64_C(1) << 40) ||
      !(whole = fsc__ptr(c, &c->data, off, fsc__rec_total(r))))
    return fsc__err(FSC_ECORRUPT, "record at %llu has a bad size %llu",
                    (unsigned long long)off, (unsigned long long)n);
  if (c->check_reads && !fsc__rec_sum_ok(whole))
    return fsc__err(FSC_ECORRUPT, "the record at %llu does not match its "
                    "checksum (the collection was not closed cleanly, and a "
                    "read-only handle cannot repair it: open it read-write "
                    "or run fsc verify --repair)", (unsigned long long)off);
  if (c->check_reads && (ck_pr_load_8((const uint8_t *)&whole->flags) &
                         ~FSC__REC_FLAGS_KNOWN) != 0)
    return fsc__err(FSC_ECORRUPT, "the record at %llu has flag bits no "
                    "build writes (the collection was not closed cleanly, "
                    "and a read-only handle cannot repair it: open it "
                    "read-write or run fsc verify --repair)",
                    (unsigned long long)off);
  *rp = whole;
  return 0;
}

int fsc__rec_bad(uint64_t off) {
  return fsc__err(FSC_ECORRUPT, "record at %llu does not decode",
                  (unsigned long long)off);
}

bool fsc__rec_verify(struct fsc__gen *c, uint64_t off) {
  const struct fsc__rec *r;
  if (fsc__rec_locate(c, off, &r) != 0)
    return false;
  if (off + fsc__rec_total(r) > ck_pr_load_64(&fsc__dhdr(c)->tail))
    return false;
  if (!fsc__rec_form_ok(c->crec, r) || !fsc__type_valid(fsc__rec_type(r)))
    return false;
  if (c->type != FSC_TYPE_ANY && fsc__rec_type(r) != c->type)
    return false;
  fsc_value v;
  if (fsc__value_decode((fsc_type)fsc__rec_type(r), fsc__rec_pl(r),
                        fsc__rec_size(r), &v) != 0)
    return false;
  return fsc__rec_sum_ok(r);
}

bool fsc__rec_verify_live(struct fsc__gen *c, uint64_t off) {
  if (!fsc__rec_verify(c, off))
    return false;
  const struct fsc__rec *r;
  if (fsc__rec_locate(c, off, &r) != 0)
    return false;
  uint8_t fl = ck_pr_load_8((uint8_t *)(uintptr_t)&r->flags);
  return !(fl & FSC__REC_DEAD) && !(fl & ~FSC__REC_FLAGS_KNOWN);
}

/* Move a record's `total` bytes (at r) from live to dead.  A dict's or
 * set's record is left untouched: its page stays clean (an overwrite or a
 * delete dirties only the tail it appends to, the slot and the header
 * counters), and a check tells a slot naming a superseded version by the
 * key's higher records (struct/hash_supersede.c).  A list's record is
 * flagged FSC__REC_DELETED: list records carry no position, so the flag
 * is the only trace a check has of a slot damaged into naming a record a
 * later write superseded (doc/FORMAT.md, "Records").  The writer flags it
 * after the slot CAS that superseded it; a check re-reads the slot. */
static void retire(struct fsc__gen *c, const struct fsc__rec *r,
                   uint64_t total) {
  struct fsc__data_hdr *d = fsc__dhdr(c);
  if (r)
    ck_pr_store_8((uint8_t *)(uintptr_t)&r->flags, FSC__REC_DELETED);
  ck_pr_sub_64(&d->live_bytes, total);
  ck_pr_add_64(&d->dead_bytes, total);
}

void fsc__rec_retire(struct fsc__gen *c, uint64_t off) {
  const struct fsc__rec *r;
  if (fsc__rec_locate(c, off, &r) != 0)
    return;
  /* (A dict or set: a read, the page stays clean.) */
  retire(c, c->kind == FSC__KIND_LIST ? r : NULL, fsc__rec_total(r));
}

void fsc__rec_retire_sized(struct fsc__gen *c, uint64_t off,
                           uint64_t payload) {
  uint64_t total = fsc__rec_total_n(c->crec, payload);
  if (off < FSC__HDR_SIZE || (off & 7u))
    return;
  const struct fsc__rec *r = NULL;
  if (c->kind == FSC__KIND_LIST &&
      !(r = fsc__ptr(c, &c->data, off, total)))
    return;
  retire(c, r, total);
}

void fsc__rec_void(struct fsc__gen *c, uint64_t off) {
  const struct fsc__rec *r;
  if (fsc__rec_locate(c, off, &r) != 0)
    return;
  ck_pr_store_8((uint8_t *)(uintptr_t)&r->flags, FSC__REC_VOID);
}

void fsc__rec_flag_removed(struct fsc__gen *c, uint64_t off) {
  const struct fsc__rec *r;
  if (fsc__rec_locate(c, off, &r) != 0)
    return;
  ck_pr_store_8((uint8_t *)(uintptr_t)&r->flags, FSC__REC_REMOVED);
}

int fsc__rec_copy(struct fsc__gen *c, struct fsc__gen *nc, uint64_t off,
                  uint64_t *noff, uint8_t **npl, uint8_t *type,
                  uint64_t *size) {
  const struct fsc__rec *r;
  int rc = fsc__rec_locate(c, off, &r);
  if (rc)
    return rc;
  /* Sealing the copy computes a fresh checksum: a damaged record would
   * come out looking sound.  Refuse it, and keep the evidence. */
  if (!fsc__rec_form_ok(c->crec, r) ||
      !fsc__type_valid(fsc__rec_type(r)) || !fsc__rec_sum_ok(r))
    return fsc__err(FSC_ECORRUPT, "the record at offset %llu does not "
                    "verify: repair the collection (fsc_*_verify with "
                    "FSC_VERIFY_REPAIR) before compacting it",
                    (unsigned long long)off);
  uint64_t n = fsc__rec_size(r);
  uint8_t *pl;
  uint64_t *w;
  if (fsc__ctr_is(c, off, &w)) {
    /* A counter: close it, so that no increment lands after the copy
     * read it (one that comes later replaces the record, and finds the
     * old files frozen or moved), then copy its final value. */
    fsc__ctr_close(c, off);
    const uint8_t *src = fsc__rec_pl(r);
    uint64_t v = ck_pr_load_64(w);
    if (n == FSC__REC_CSIZE) { /* a list element: its value is all */
      if ((rc = fsc__rec_alloc_counter(nc, n, noff, &pl)) != 0)
        return rc;
    } else {
      /* A dict counter [head][pad][close][value][origin] or [head][value]
       * [origin]: in the shape the new file writes (format.h), the key's
       * head and the origin copied, the close word placed anew. */
      uint64_t head = fsc__ctr_cwoff(src, n) ? fsc__ctr_head(src) : n - 16;
      uint64_t origin = n - 8, nn = head + 16;
      rc = nc->cw ? fsc__rec_alloc_dctr(nc, head, noff, &pl, &nn)
                  : fsc__rec_alloc_counter(nc, nn, noff, &pl);
      if (rc)
        return rc;
      memcpy(pl, src, (size_t)head);
      memcpy(pl + nn - 8, src + origin, 8);
      n = nn;
    }
    memcpy(pl + fsc__ctr_voff(n), &v, 8);
  } else {
    if ((rc = fsc__rec_alloc(nc, n, noff, &pl)) != 0)
      return rc;
    memcpy(pl, fsc__rec_pl(r), (size_t)n);
  }
  fsc__rec_seal(pl, fsc__rec_type(r), n);
  *npl = pl;
  *type = fsc__rec_type(r);
  *size = n;
  return 0;
}
