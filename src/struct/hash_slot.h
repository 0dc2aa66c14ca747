/*
 * hash_slot.h - the dict/set index's slot encoding (doc/FORMAT.md, "Hash
 * slots") and its table view, in one place for the files of the hash index
 * (hash.c, hash_grow.c, hash_recover.c, hash_verify.c); not installed.
 *
 * A slot (one aligned 64-bit word):
 *   bits 63..44 the key hash's top 20 bits (a tag: most misses never touch
 *               the data file), bits 43..3 the record offset  -> a key;
 *   0, or (epoch << 3) | 4                                   -> empty;
 *   2                                                        -> tombstone;
 *   bit 0 set on any of them: frozen by a rebuild that is copying.
 */
#ifndef FSC_HASH_SLOT_H
#define FSC_HASH_SLOT_H

#include "struct/hash.h"

#define KS_FROZEN UINT64_C(1)
#define KS_TOMB UINT64_C(2)
#define KS_EMPTYF UINT64_C(4)
#define KS_OFF_BITS 44
#define KS_OFF_MASK ((((uint64_t)1 << KS_OFF_BITS) - 1) & ~UINT64_C(7))
#define KS_TAG(h) ((uint64_t)(h) >> KS_OFF_BITS)
#define KS_MAKE(h, off) ((KS_TAG(h) << KS_OFF_BITS) | (off))
#define KS_EMPTY(epoch)                                                      \
  ((((uint64_t)(epoch) & FSC__LW_EPOCH_MASK) << 3) | KS_EMPTYF)

/* A table's capacity: a power of two in [KS_MIN_CAP, KS_MAX_CAP]. */
#define KS_MIN_CAP UINT64_C(64)
#define KS_MAX_CAP (UINT64_C(1) << 40)
/* Writers that died between their slot CAS and their COUNT update, at
 * most: a COUNT further than this above the keys the table holds is keys
 * lost from the index, which only the data file has. */
#define KS_COUNT_SLACK 16

static inline bool fsc__ks_value(uint64_t s) {
  return (s & 6u) == 0 && (s & KS_OFF_MASK) >= FSC__HDR_SIZE;
}
static inline bool fsc__ks_empty(uint64_t s) {
  return (s & ~KS_FROZEN) == 0 || (s & KS_EMPTYF);
}
static inline bool fsc__ks_tomb(uint64_t s) {
  return (s & ~KS_FROZEN) == KS_TOMB;
}

#endif
