/*
 * record.c - owns records in the data file: space reservation (lock-free),
 * encoding, checksums, bounds-checked reads, and retiring dead records.
 *
 * Reservation is a CAS loop on the data tail rather than a fetch-and-add:
 * with FAA, a writer that then fails to grow the file (disk full) would have
 * moved the tail past the capacity for good; with CAS the tail only ever
 * covers space that fallocate has already allocated, so ENOSPC leaves the
 * collection usable.  Growth itself is lock-free too: fallocate(2) is
 * idempotent, and the new capacity is published with a CAS-max after it.
 *
 * A record is immutable once published, except its "deleted" flag byte,
 * which the checksum does not cover.
 */
#include "internal.h"

#include <string.h>
/* XXH3 compiled in, not called through libxxhash: the checksum of a short
 * record is a few dozen instructions, about what the call and its length
 * dispatch cost.  The same algorithm (XXH3 is stable since 0.8.0). */
#define XXH_INLINE_ALL
#include <xxhash.h>

#define GROW_STEP_MAX (UINT64_C(1) << 30)

uint32_t fsc__rec_checksum(uint8_t type, const void *payload, uint64_t n) {
  return (uint32_t)XXH3_64bits_withSeed(payload, (size_t)n,
                                        ((uint64_t)type << 56) ^ n);
}

static int data_grow(struct fsc__gen *c, uint64_t need) {
  struct fsc__data_hdr *d = fsc__dhdr(c);
  uint64_t cap = ck_pr_load_64(&d->cap);
  if (need <= cap)
    return 0;
  uint64_t want = cap;
  while (want < need)
    want += want < GROW_STEP_MAX ? want : GROW_STEP_MAX;
  int rc = fsc__file_grow(&c->data, want, c->data_path);
  if (rc)
    return rc;
  /* Publish after fallocate (release); CAS-max so capacity only grows. */
  ck_pr_fence_store();
  while (cap < want && !ck_pr_cas_64_value(&d->cap, cap, want, &cap))
    ;
  return 0;
}

static int reserve(struct fsc__gen *c, uint64_t total, uint64_t *off) {
  struct fsc__data_hdr *d = fsc__dhdr(c);
  for (;;) {
    uint64_t t = ck_pr_load_64(&d->tail);
    uint64_t cap = ck_pr_load_64(&d->cap);
    if (t > cap || total > (UINT64_C(1) << 40))
      return fsc__err(FSC_ECORRUPT, "data tail %llu is beyond capacity "
                      "%llu", (unsigned long long)t, (unsigned long long)cap);
    if (t + total > cap) {
      int rc = data_grow(c, t + total);
      if (rc)
        return rc;
      continue;
    }
    if (ck_pr_cas_64(&d->tail, t, t + total)) {
      *off = t;
      return 0;
    }
    ck_pr_stall();
  }
}

int fsc__rec_alloc(struct fsc__gen *c, uint64_t n, uint64_t *off,
                   uint8_t **payload) {
  if (n > (UINT64_C(1) << 40))
    return fsc__err(FSC_EINVAL, "a record of %llu bytes is too large",
                    (unsigned long long)n);
  uint64_t total = FSC__REC_TOTAL(n);
  int rc = reserve(c, total, off);
  if (rc)
    return rc;
  uint8_t *p = fsc__ptr(c, &c->data, *off, total);
  if (!p)
    return fsc__err_last();
  ck_pr_add_64(&fsc__dhdr(c)->live_bytes, total);
  ck_pr_add_64(&fsc__dhdr(c)->records, 1);
  *payload = p + sizeof(struct fsc__rec);
  return 0;
}

void fsc__rec_seal(uint8_t *payload, uint8_t type, uint64_t n) {
  struct fsc__rec r = {0};
  r.type = type;
  r.size = n;
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
  r.checksum = fsc__rec_checksum(type, payload, n);
  /* The header last: a walker of the data file (hash.c) that meets this
   * record half-written sees a checksum that does not match. */
  memcpy(payload - sizeof r, &r, sizeof r);
  /* The bytes are published later by a CAS of a slot, after a store fence
   * issued by the caller. */
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
  uint64_t n = r->size;
  /* The whole record may lie beyond the view `r` points into (another
   * process appended it after this handle last mapped): use the pointer
   * that covers all of it, from the view fsc__ptr maps for it. */
  const struct fsc__rec *whole = NULL;
  if (n > (UINT64_C(1) << 40) ||
      !(whole = fsc__ptr(c, &c->data, off, FSC__REC_TOTAL(n))))
    return fsc__err(FSC_ECORRUPT, "record at %llu has a bad size %llu",
                    (unsigned long long)off, (unsigned long long)n);
  if (c->check_reads &&
      fsc__rec_checksum(whole->type, whole + 1, n) != whole->checksum)
    return fsc__err(FSC_ECORRUPT, "the record at %llu does not match its "
                    "checksum (the collection was not closed cleanly, and a "
                    "read-only handle cannot repair it: open it read-write "
                    "or run fsc verify --repair)", (unsigned long long)off);
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
  if (off + FSC__REC_TOTAL(r->size) > ck_pr_load_64(&fsc__dhdr(c)->tail))
    return false;
  if (!fsc__type_valid(r->type))
    return false;
  if (c->type != FSC_TYPE_ANY && r->type != c->type)
    return false;
  fsc_value v;
  if (fsc__value_decode((fsc_type)r->type, r + 1, r->size, &v) != 0)
    return false;
  return fsc__rec_checksum(r->type, r + 1, r->size) == r->checksum;
}

bool fsc__rec_verify_live(struct fsc__gen *c, uint64_t off) {
  if (!fsc__rec_verify(c, off))
    return false;
  const struct fsc__rec *r;
  if (fsc__rec_locate(c, off, &r) != 0)
    return false;
  return !(ck_pr_load_8((uint8_t *)(uintptr_t)&r->flags) & FSC__REC_DELETED);
}

/* Flag the record (of `total` bytes) dead and move its bytes from live
 * to dead. */
static void retire(struct fsc__gen *c, const struct fsc__rec *r,
                   uint64_t total) {
  ck_pr_store_8((uint8_t *)&r->flags, FSC__REC_DELETED);
  struct fsc__data_hdr *d = fsc__dhdr(c);
  ck_pr_sub_64(&d->live_bytes, total);
  ck_pr_add_64(&d->dead_bytes, total);
}

void fsc__rec_retire(struct fsc__gen *c, uint64_t off) {
  const struct fsc__rec *r;
  if (fsc__rec_locate(c, off, &r) != 0)
    return;
  retire(c, r, FSC__REC_TOTAL(r->size));
}

void fsc__rec_retire_sized(struct fsc__gen *c, uint64_t off,
                           uint64_t payload) {
  uint64_t total = FSC__REC_TOTAL(payload);
  if (off < FSC__HDR_SIZE || (off & 7u))
    return;
  const struct fsc__rec *r = fsc__ptr(c, &c->data, off, total);
  if (!r)
    return;
  retire(c, r, total);
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
  if (!fsc__type_valid(r->type) ||
      fsc__rec_checksum(r->type, r + 1, r->size) != r->checksum)
    return fsc__err(FSC_ECORRUPT, "the record at offset %llu does not "
                    "verify: repair the collection (fsc_*_verify with "
                    "FSC_VERIFY_REPAIR) before compacting it",
                    (unsigned long long)off);
  uint64_t n = r->size;
  uint8_t *pl;
  if ((rc = fsc__rec_alloc(nc, n, noff, &pl)) != 0)
    return rc;
  memcpy(pl, r + 1, (size_t)n);
  fsc__rec_seal(pl, r->type, n);
  *npl = pl;
  *type = r->type;
  *size = n;
  return 0;
}
