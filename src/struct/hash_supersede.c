/*
 * hash_supersede.c - owns the search for dict/set slots that name a
 * superseded record of their key: the check that the verify scan
 * (hash_verify.c), the recovery of a first opener (hash_recover.c,
 * table_sound) and a read-only first opener (through the verify scan)
 * share.
 *
 * Writes do not flag the record they supersede (doc/FORMAT.md, "Records"),
 * so a slot damaged into naming an older version of its key (bit rot, or
 * an index page written back older than the data pages) names a record
 * that verifies.  What gives it away is the order of the data file: a
 * replace publishes its record above the record it supersedes, and a
 * delete appends its mark (FSC__REC_REMOVED) above the record it removes
 * (hash.c, put_above and fsc__hash_del).  So a record X of key K that lies
 * above the record R the table's slot for K names, and that is not
 * flagged VOID (its writer never published it), CLEARED (a clear's mark,
 * of no key) or DELETED (legacy: superseded or never published, in
 * older files), says the slot is stale: X, or a record above it, is K's
 * newest state.  The rebuild from the data file (hash_recover.c) judges
 * the same way: a record above a surviving slot's record replaces it.
 *
 * The walk reads the data file once and, for each record, probes the
 * table as a lookup does (O(1) memory).  What it cannot tell apart from
 * damage, and reports the same (doc/DURABILITY.md): a writer that died
 * between appending X and publishing it (the repair then takes X, a write
 * that was in flight), and an insert that raced a delete of its key (its
 * record appended below the delete's mark, published after the delete).
 * A live writer between its append and its publish looks the same for a
 * moment: callers that run beside writers judge a hit again (hash_verify.c).
 */
#include "struct/hash_slot.h"

/* The flags of a record that is no evidence of a newer state of its key. */
#define NOT_NEWER (FSC__REC_VOID | FSC__REC_CLEARED | FSC__REC_DELETED)

/* The slot of table arr (cap slots) that a lookup of k reaches, or cap;
 * its value (the frozen bit cleared) in *s. */
static uint64_t lookup(struct fsc__gen *c, const uint64_t *arr, uint64_t cap,
                       const struct fsc__kkey *k, uint64_t *s) {
  uint64_t mask = cap - 1, i = k->h & mask;
  uint64_t tag = fsc__ks_tag_of(k->h, cap, c->s8); /* (the file's format) */
  for (uint64_t n = 0; n < cap; n++, i = (i + 1) & mask) {
    uint64_t v = ck_pr_load_64(&arr[i]) & ~KS_FROZEN;
    if (fsc__ks_empty(v))
      return cap;
    if (!fsc__ks_value(v) || !fsc__ks_tag_eq(v, tag, c->s8))
      continue;
    ck_pr_fence_load(); /* the record is read after the slot naming it */
    struct fsc__krec cur;
    if (fsc__krec_matches(c, v & fsc__ks_offmask(c->s8), k, &cur)) {
      *s = v;
      return i;
    }
  }
  return cap;
}

int fsc__hash_superseded(struct fsc__gen *c, const uint64_t *arr,
                         uint64_t cap, uint64_t end,
                         fsc__hash_superseded_fn fn, void *arg) {
  bool dict = fsc__hash_is_dict(c);
  uint64_t pos = 0, x;
  struct fsc__krec kr;
  int rc;
  while ((rc = fsc__hash_walk(c, &pos, end, &x, &kr)) == 1) {
    const struct fsc__rec *h;
    if (fsc__rec_locate(c, x, &h) != 0)
      continue;
    /* (A mark: its kind from its checksummed bytes.) */
    uint8_t fl = fsc__krec_flags(c, &kr,
                                 ck_pr_load_8((const uint8_t *)&h->flags));
    if (fl & NOT_NEWER)
      continue;
    struct fsc__kkey k;
    fsc__kkey_make(&k, dict ? 0 : kr.type, kr.key, kr.klen);
    uint64_t s = 0, i = lookup(c, arr, cap, &k, &s);
    if (i == cap || (s & fsc__ks_offmask(c->s8)) >= x)
      continue;
    /* (FSC__REC_REMOVED: the key was deleted above the slot's record.) */
    bool removed = (fl & FSC__REC_REMOVED) != 0;
    if ((rc = fn(arg, i, s, x, removed)) != 0)
      break;
  }
  if (rc < 0)
    return rc;
  fsc__err_clear(); /* (records that do not parse are no evidence) */
  return 0;
}
