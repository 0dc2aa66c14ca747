/*
 * hash.h - shared by dict.c and set.c (not installed): keyed records and
 * the lock-free hash index of hash.c (and its recovery, hash_recover.c).
 *
 * A keyed record's payload (doc/FORMAT.md):
 *   dict: [u32 key length][key bytes][value payload][u64 origin], or with
 *         bit 31 of the key length set (FSC__KLEN_TTL) [u32 key length]
 *         [key bytes][value payload][u64 deadline][u64 origin]
 *   set:  [u32 key length][key bytes]        (key = the element's payload)
 * A mark record (hash.c, mark_write) ends with its kind in a u64: a
 * dict's in place of the origin, a set's after the key.
 * The record's type byte is the value's (dict) or the element's (set)
 * type.  `origin` is the offset of the record that first inserted the key
 * in its current life: iteration follows origins, which is how a dict keeps
 * insertion order without a second shared structure (doc/CONCURRENCY.md).
 */
#ifndef FSC_HASH_H
#define FSC_HASH_H

#include "internal.h"

/* A key to look up: bytes, the set element's type (0 for dict keys), and
 * its hash. */
struct fsc__kkey {
  const uint8_t *p;
  uint32_t n;
  uint8_t type;
  uint64_t h;
};

/* A keyed record, parsed (views into the mapping). */
struct fsc__krec {
  uint8_t type;          /* value (dict) or element (set) type */
  const uint8_t *key;
  uint32_t klen;
  const uint8_t *val;    /* dict: value payload */
  uint64_t vlen;
  uint64_t origin;       /* dict: first record of the key's life; set: self */
  uint64_t total;        /* the record's bytes */
  uint64_t deadline;     /* dict: expiry, ms since the epoch (0: none) */
  uint8_t mark;          /* a mark record's kind, FSC__REC_REMOVED or
                            FSC__REC_CLEARED, from a word its checksum
                            covers (doc/FORMAT.md, "Mark records";
                            fsc__krec_flags): a set's after its key, a
                            dict's in place of its origin; 0: an element,
                            a value, or an earlier build's mark (told by
                            its flag; a dict's has origin 0) */
};

/* A dict record's key length word with bit 31 set carries a deadline: the
 * payload is [u32 klen | FSC__KLEN_TTL][key][value][u64 deadline]
 * [u64 origin] (doc/FORMAT.md; FSC_KEY_MAX is 2^30). */
#define FSC__KLEN_TTL (UINT32_C(1) << 31)

/* The coarse clock TTLs are read against: CLOCK_REALTIME_COARSE in ms (a
 * vDSO read, no system call), the same in every process and across
 * restarts. */
uint64_t fsc__ttl_now(void);
/* Is the parsed record r expired?  (One predictable branch when it has no
 * deadline.) */
static inline bool fsc__krec_expired(const struct fsc__krec *r) {
  return __builtin_expect(r->deadline != 0, 0) &&
         r->deadline <= fsc__ttl_now();
}

/* Hash a key (XXH3; the element type is part of a set element's key). */
void fsc__kkey_make(struct fsc__kkey *k, uint8_t type, const void *p,
                    size_t n);

/* Parse the keyed record at off (bounds-checked; FSC_ECORRUPT). */
int fsc__krec_read(struct fsc__gen *c, uint64_t off, struct fsc__krec *r);

/* Write a keyed record: key, then (dict) the value and an origin equal to
 * the record's own offset.  v is checked by the caller. */
int fsc__krec_write(struct fsc__gen *c, const struct fsc__kkey *k,
                    const fsc_value *v, uint64_t *off);
/* The same for a dict, with a deadline (0: none, as fsc__krec_write). */
int fsc__krec_write_ttl(struct fsc__gen *c, const struct fsc__kkey *k,
                        const fsc_value *v, uint64_t deadline,
                        uint64_t *off);

/* Lock-free lookup: 1 and the live record's offset, 0 if absent, or an
 * error. */
int fsc__hash_find(struct fsc__gen *c, const struct fsc__kkey *k,
                   uint64_t *off);
/* The same, also giving the live record parsed in *rec on a hit (the
 * lookup parses it anyway to compare the key). */
int fsc__hash_find_rec(struct fsc__gen *c, const struct fsc__kkey *k,
                       uint64_t *off, struct fsc__krec *rec);

/* hash_ctr.c: fsc_dict_incr's fast path.  On a dict whose key k (klen
 * bytes, already checked) names an int64 counter record in the active
 * table, with no growth migrating, the word unfrozen: add arg in place
 * (fsc__ctr_add_try), 0 with the old value word in *old and the record's
 * offset in *off, or FSC_ETIMEDOUT as fsc__ctr_rmw.  1 when it did nothing
 * (any other case, damage included): the caller takes the full path. */
int fsc__hash_ctr_add(struct fsc__gen *c, const void *key, uint32_t klen,
                      uint64_t arg, uint64_t *old, uint64_t *off);

/* How fsc__hash_put treats a key that is present. */
enum fsc__put_mode {
  FSC__PUT_ANY,      /* insert or replace */
  FSC__PUT_ABSENT,   /* insert only if absent; else leave it (returns 0) */
  FSC__PUT_EXPECT    /* replace only if the live record is `expect` (0:
                        insert only if absent); else FSC_EAGAIN */
};

/*
 * Publish the sealed, unpublished record roff for key k with one CAS.
 * Returns 1 if the key was inserted, 0 if it replaced a record (or, for
 * FSC__PUT_ABSENT, found one: then roff is not published), with the
 * previous live record in *prev (0 if none).  The replaced record is
 * retired here; roff is not retired on failure (the caller does it).
 * An error means nothing was published: roff is then flagged void, so no
 * rebuild from the data file takes it for the key's newest record.  Once
 * the slot CAS succeeded the call succeeds (a COUNT it could not update is
 * left for the next rebuild to recount).
 */
int fsc__hash_put(struct fsc__gen *c, const struct fsc__kkey *k,
                  uint64_t roff, enum fsc__put_mode mode, uint64_t expect,
                  uint64_t *prev);

/* Lock-free delete: 1 and the removed record's offset (retired, still
 * readable until the handle closes), 0 if absent.  With expect != 0, only
 * the live record `expect` is removed (else 0). */
int fsc__hash_del(struct fsc__gen *c, const struct fsc__kkey *k,
                  uint64_t expect, uint64_t *old);
/* A dict's delete of the record at off by its own key, if it is still
 * live: the record parsed in *r, then fsc__hash_del's results (expect =
 * off), or fsc__krec_read's error. */
int fsc__hash_del_rec(struct fsc__gen *c, uint64_t off, struct fsc__krec *r,
                      uint64_t *old);

/* A write that published no insert (an overwrite, a delete, a cache
 * insert admission refused) on a writable handle, while a growth migrates
 * (struct/hash_migrate.c): move the next old slots (one step, 64 of them)
 * if the structure lock is free, as an insert does, so that a workload
 * without inserts ends the migration too.  Never waits, never fails (a
 * step that fails is left to the next writer; the thread's error is
 * cleared).  No migration: two loads, nothing else. */
void fsc__hash_migrate_nudge(struct fsc__gen *c);

/* The data file's tail: records that exist now lie below it. */
uint64_t fsc__hash_tail(struct fsc__gen *c);

/* Iteration in insertion order: from *pos (0 to start), the next live
 * item whose key's life began below `end` (the tail when the iteration
 * began: a key deleted and inserted again meanwhile is not met twice).
 * 1 with *off, 0 at the end. */
int fsc__hash_next(struct fsc__gen *c, uint64_t *pos, uint64_t end,
                   uint64_t *off);

/* A public iterator's state (the dict's and the set's), on fsc__hash_next:
 * begin sets *pos to the start, mark[0] to the tail (keys begun later stay
 * unseen) and mark[1] to the generation, or returns FSC__EMOVED; next
 * refuses another generation with FSC_EAGAIN naming the `kind` ("dict",
 * "set"): positions are offsets in one generation's data file. */
int fsc__hash_iter_begin(struct fsc__gen *c, uint64_t *pos, uint64_t mark[2]);
int fsc__hash_iter_next(struct fsc__gen *c, uint64_t *pos,
                        const uint64_t mark[2], const char *kind,
                        uint64_t *off);


/* Is record r (parsed in kr) where a live key's current life began?  Then
 * 1 with *live the key's live record; 0 if not; or an error. */
int fsc__hash_live_origin(struct fsc__gen *c, uint64_t r,
                          const struct fsc__krec *kr, uint64_t *live);

/* The newest live item (last in iteration order): 1 with *off, or 0
 * (hash_newest.c: amortized O(1) through a cache of the walk). */
int fsc__hash_newest(struct fsc__gen *c, uint64_t *off);

/* Remove every item (structural: takes the lock). */
int fsc__hash_clear(struct fsc__gen *c);

/* Compaction, with the lock held: freeze the table (word and slots) so
 * that no lock-free writer can change it; undo that. */
int fsc__hash_freeze(struct fsc__gen *c);
void fsc__hash_thaw(struct fsc__gen *c);

/* hash_recover.c, with the structure lock held: lay out a new index;
 * recover (struct fsc__kind_ops.recover); recount the live keys into
 * COUNT (no other process may write); rebuild the index from the data
 * file alone (no one else may write meanwhile), giving the live bytes. */
int fsc__hash_init(struct fsc__gen *c);
int fsc__hash_recover(struct fsc__gen *c, bool unclean);
int fsc__hash_recount(struct fsc__gen *c);
int fsc__hash_rebuild_from_data(struct fsc__gen *c, uint64_t *live_bytes);

/* hash_supersede.c: walk the data file below `end`; for each record that
 * verifies and may be its key's newest state (not flagged VOID, CLEARED
 * or the legacy DELETED) whose key a lookup in table arr (cap slots)
 * finds in a slot naming a LOWER record, call fn(arg, slot index, slot
 * value without the frozen bit, the record above, whether that record is
 * a delete's mark): the slot names a superseded record.  fn returns 0 to
 * go on, 1 to stop.  0, or an error of the walk. */
typedef int (*fsc__hash_superseded_fn)(void *arg, uint64_t idx, uint64_t s,
                                       uint64_t above, bool removed);
int fsc__hash_superseded(struct fsc__gen *c, const uint64_t *arr,
                         uint64_t cap, uint64_t end,
                         fsc__hash_superseded_fn fn, void *arg);

/* hash_region.c: at open, read the active table's slots ahead when they
 * are large and fit in memory (index_mem.c, fsc__index_prefetch): the
 * first lookups of a cold store then fault on the record alone. */
void fsc__hash_prefetch(struct fsc__gen *c);

/* hash_verify.c: verify's check and repair of the index (struct
 * fsc__kind_ops vscan and vrepair; file/verify.h). */
void fsc__hash_vscan(struct fsc__vpass *p);
int fsc__hash_vrepair(struct fsc__vpass *p, bool *changed,
                      struct fsc__vtally *t);

/* hash_evict.c: a cache dict's policy state (coll/cache.c uses it).
 * layout: a new dict's cache block and clock words (files private to the
 * creator); touch: a get hit on the key of hash h (writes only when the
 * word changes); stamp: an insert of record roff (ticks the clock); victim:
 * the key to evict (1 and its live record's offset, 0 if none); gone: a
 * victim that was no longer live (forget it); copy: compaction's
 * next generation gets the policy and the clock words; count: the copy
 * put a record of `total` bytes; recount: items and bytes from the data
 * file (no other writer); claim: the compute-once claim of hash h (two
 * u32: sequence, pid). */
int fsc__cache_layout(struct fsc__gen *c, int policy, uint64_t max_items,
                      uint64_t max_bytes, int admission);
void fsc__cache_touch(struct fsc__gen *c, uint64_t h);
void fsc__cache_stamp(struct fsc__gen *c, uint64_t h, uint64_t roff);
void fsc__cache_gone(struct fsc__gen *c, uint64_t off);
/* (victim: 2 instead of 1 when the key chosen has expired: a writer's
 * search takes an expired key among its samples first) */
int fsc__cache_victim(struct fsc__gen *c, uint64_t *off);
/* Recovery and verify's repair, no other writer: evict down to the bound
 * (items and bytes counted exactly first); how many were evicted, or an
 * error. */
int fsc__cache_trim(struct fsc__gen *c);

/* hash_trim.c: the last clean close (file/gen.c; structure lock held, no
 * other process mapping the files): punch the index bytes no region
 * names any more (the tables growth gave up, and the spare, given up
 * too) out of the file.  0 (best effort: damage found punches nothing). */
int fsc__hash_trim(struct fsc__gen *c);
int fsc__cache_copy(struct fsc__gen *c, struct fsc__gen *nc);
void fsc__cache_count(struct fsc__gen *c, uint64_t total);
int fsc__cache_recount(struct fsc__gen *c);
uint32_t *fsc__cache_claim(struct fsc__gen *c, uint64_t h);
/* hash_sketch.c: the admission filter's frequency sketch (doc/CACHE.md,
 * "Admission").  size: its bytes for a bound; layout: lay it out at the
 * index tail (files private to the creator); on: does the dict have one;
 * add: one more request of the key of hash h (an insert, or a hit that
 * writes its clock word anyway); estimate: 0..15; reject, rejects: the
 * count of new keys refused; copy: compaction's next generation gets it
 * (a hint: skipped when the sizes differ). */
uint64_t fsc__sketch_size(uint64_t max_items);
int fsc__sketch_layout(struct fsc__gen *c, uint64_t max_items);
bool fsc__sketch_on(struct fsc__gen *c);
void fsc__sketch_add(struct fsc__gen *c, uint64_t h);
unsigned fsc__sketch_estimate(struct fsc__gen *c, uint64_t h);
void fsc__sketch_reject(struct fsc__gen *c);
uint64_t fsc__sketch_rejects(struct fsc__gen *c);
int fsc__sketch_copy(struct fsc__gen *c, struct fsc__gen *nc);

/* Up to n live keys' record offsets from a random place of the table (a
 * writer's sweep of expired keys): how many, or an error. */
int fsc__hash_sample(struct fsc__gen *c, uint64_t *offs, unsigned n);

/* A get on a cache dict: start loading the key's clock word (of hash h)
 * while the probe loads the table and the record, so that touching it
 * afterwards costs no memory stall of its own. */
static inline void fsc__cache_prefetch(struct fsc__gen *c, uint64_t h) {
  const struct fsc__cache_hdr *ch = fsc__chdr(c);
  uint64_t n = ck_pr_load_64(&ch->clk_n);
  const uint32_t *a = fsc__ptr_try(&c->index, ck_pr_load_64(&ch->clk_off),
                                   n * 4);
  /* (the key's clock tag: hash_evict.c, clk_tag) */
  uint64_t tag = c->s8 ? h : h >> 44;
  if (a && n && !(n & (n - 1)))
    __builtin_prefetch(a + (tag & (n - 1)), 1);
}

/* Number of live keys (lock-free). */
uint64_t fsc__hash_len(struct fsc__gen *c);

#endif
