/*
 * cache.h - shared by dict.c and cache.c (not installed): the bound of a
 * cache dict, enforced around the dict's writes (coll/cache.c).
 */
#ifndef FSC_CACHE_H
#define FSC_CACHE_H

#include "struct/hash.h"

/* Is generation c a cache dict?  One load of a header word. */
static inline bool fsc__cache_on(const struct fsc__gen *c) {
  return ck_pr_load_64(&fsc__chdr(c)->policy) != 0;
}

/* Compute-once's claim of the bucket of a key hash (fsc__claim_init):
 * take returns 1 when the claim is ours, 0 after a wait for another
 * claimer (at most 50 ms; look for the key again), or FSC_ETIMEDOUT once
 * the handle's lock_timeout_ms has passed; a claimer whose process is
 * gone loses its claim.  drop releases and wakes the waiters. */
struct fsc__claim {
  uint32_t *w;        /* sequence (futex word), then the claimer's pid */
  uint32_t me;
  int64_t deadline;   /* ms, monotonic; -1: not waited yet */
  int64_t timeout_ms;
};
void fsc__claim_init(struct fsc__gen *c, uint64_t h, struct fsc__claim *cl);
int fsc__claim_take(struct fsc__claim *cl);
void fsc__claim_drop(struct fsc__claim *cl);

/* The same write on a cache dict: reserve room under the bound (evicting
 * first), write and publish, stamp the key's clock word.  Returns
 * fsc__hash_put's 1 or 0, or FSC__PUT_REFUSED: the admission filter
 * refused the insert of a set (FSC__PUT_ANY) that had to evict; the
 * value is in the retired record *roff (readable until the handle
 * closes), not in the dict. */
#define FSC__PUT_REFUSED 2
int fsc__cache_put(struct fsc__gen *c, const struct fsc__kkey *k,
                   const fsc_value *v, enum fsc__put_mode mode,
                   uint64_t expect, uint64_t deadline, uint64_t *roff,
                   uint64_t *prev);
/* A reader met key k's record off expired: a writable handle deletes it
 * (the lazy half of the reclaim), counting the expiration. */
void fsc__ttl_reclaim(struct fsc__gen *c, const struct fsc__kkey *k,
                      uint64_t off);
/* A writer's bounded sweep: up to n sampled keys, the expired ones
 * deleted (only once the dict has had a key with a deadline). */
void fsc__ttl_sweep(struct fsc__gen *c, unsigned n);
/* A key left the cache dict (its removed record `old`): give back its
 * room.  After a clear: recount from what is left. */
void fsc__cache_forget(struct fsc__gen *c, uint64_t old);
void fsc__cache_cleared(struct fsc__gen *c);
/* A get on a cache dict: a hit on key hash h (refresh its clock word), or
 * a miss; counted in this handle's metrics. */
/* (The counters are a load and a store, not a locked increment: threads
 * sharing a handle may lose a count, never tear one.) */
static inline void fsc__cache_hit(struct fsc__gen *c, uint64_t h) {
  ck_pr_store_64(&c->chits, ck_pr_load_64(&c->chits) + 1);
  fsc__cache_touch(c, h);
}
static inline void fsc__cache_miss(struct fsc__gen *c) {
  ck_pr_store_64(&c->cmisses, ck_pr_load_64(&c->cmisses) + 1);
}

#endif
