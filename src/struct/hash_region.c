/*
 * hash_region.c - owns what the rebuilds (hash_grow.c, hash_recover.c) and
 * the growth by migration (hash_migrate.c) share below them: the region a
 * new table is laid out in (fsc__hash_spare_region) and the hash of a
 * stored key (fsc__krec_hash), by which they place keys whose hash word
 * is not trusted.  Its own file so that hash_grow.c may finish a
 * migration first and hash_migrate.c still call neither.  Also the
 * region every lookup reads, read ahead at open (fsc__hash_prefetch).
 *
 * Invariant, kept here: a region handed out is one the index file holds,
 * clear of the table being copied; new space moves itail before it is
 * used, so no region is handed out twice, even by a rebuild that dies.
 */
#include "struct/hash_slot.h"

/* XXH3 compiled in, as in hash.c: the rebuilds rehash keys. */
#define XXH_INLINE_ALL
#include <xxhash.h>

/* A table region of cap slots for the spare buffer t: the spare itself if
 * it has that capacity, else new space at the index tail. */
int fsc__hash_spare_region(struct fsc__gen *c, unsigned t, uint64_t cap,
                           uint64_t aoff, uint64_t abytes, uint64_t *off,
                           bool *fresh) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  /* desc.hw is the slots the region has room for (a table may use less
   * of it after a rebuild that shrank it).  The region must be one the
   * index handed out, clear of the table being copied [aoff, +abytes):
   * only a hostile or broken index names another, never written.
   * Every table this code lays out is of the file's format
   * (fsc__ks_hwfmt): with hash words (16 bytes a slot) a region has room
   * for them only if its hw has KS_HW_HASHW; one without (a file written
   * before hash words) is given up; of 8-byte slots, only a region whose
   * hw has KS_HW_SLOT8 is reused.  New space
   * leaves desc[t] as it is: the caller gives the old region up
   * (desc[t].hw = 0) once the table word is frozen, so that the words the
   * seal covers change only under a frozen word. */
  uint64_t toff = ck_pr_load_64(&ih->desc[t].off);
  uint64_t hw = ck_pr_load_64(&ih->desc[t].hw), room = KS_HW_ROOM(hw);
  uint64_t sb = fsc__ks_bytes(c);
  if ((hw & fsc__ks_hwfmt(c)) && toff >= FSC__HDR_SIZE && !(toff & 7u) &&
      room >= cap && room <= KS_MAX_CAP &&
      toff + room * sb <= ck_pr_load_64(&ih->itail) &&
      (toff + room * sb <= aoff || aoff + abytes <= toff)) {
    *off = toff;
    *fresh = false;
    return 0;
  }
  *fresh = true;
  return fsc__hash_new_region(c, cap, aoff, abytes, off);
}

int fsc__hash_new_region(struct fsc__gen *c, uint64_t cap, uint64_t aoff,
                         uint64_t abytes, uint64_t *off) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t sb = fsc__ks_bytes(c); /* (the file's format: hash_slot.h) */
  uint64_t start = ih->itail, end = start + cap * sb + FSC__TRAILER;
  if (start < aoff + abytes && aoff < start + cap * sb)
    return fsc__err(FSC_ECORRUPT, "the index tail %llu lies inside the "
                    "hash table", (unsigned long long)start);
  int rc = fsc__index_grow(c, end);
  if (rc)
    return rc;
  /* itail moves before the region is used: it is never handed out twice,
   * even if this rebuild dies. */
  ck_pr_store_64(&ih->itail, start + cap * sb);
  *off = start;
  return 0;
}

/* The hash of the key of record off.  Reads only the header and the key
 * (not the origin at the record's end: a rebuild rehashes every key, and
 * a second cache line per key would double its cost). */
int fsc__krec_hash(struct fsc__gen *c, uint64_t off, uint64_t *h) {
  const struct fsc__rec *r;
  int rc = fsc__rec_locate(c, off, &r);
  if (rc)
    return rc;
  const uint8_t *pl = fsc__rec_pl(r);
  if (fsc__rec_size(r) < 4 || fsc__krec_klen(pl) > fsc__rec_size(r) - 4)
    return fsc__err(FSC_ECORRUPT, "record at %llu has a bad key length",
                    (unsigned long long)off);
  *h = XXH3_64bits_withSeed(pl + 4, fsc__krec_klen(pl),
                            fsc__hash_is_dict(c) ? 0 : fsc__rec_type(r));
  return 0;
}

FSC__OPEN_PATH
void fsc__hash_prefetch(struct fsc__gen *c) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t w = ck_pr_load_64(&ih->lenword);
  unsigned b = FSC__LW_BUFIDX(w);
  uint64_t off = ck_pr_load_64(&ih->desc[b].off);
  uint64_t cap = ck_pr_load_64(&ih->desc[b].cap);
  /* Only the slots (a lookup reads no hash word), and only a region the
   * index file holds (a damaged word is recovery's or verify's). */
  if (off < FSC__HDR_SIZE || cap < KS_MIN_CAP || cap > KS_MAX_CAP ||
      (cap & (cap - 1)) || off + cap * 8 > ck_pr_load_64(&ih->itail))
    return;
  fsc__index_prefetch(c, off, cap * 8);
}
