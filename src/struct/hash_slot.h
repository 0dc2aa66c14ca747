/*
 * hash_slot.h - the dict/set index's slot encoding (doc/FORMAT.md, "Hash
 * slots"), its table view (the word and the table it names, inline for the
 * lookups), and the few functions the files of the hash index share with
 * each other (hash.c, hash_grow.c, hash_recover.c, hash_verify.c): the one
 * place each of these is written.  Not installed; dict.c and set.c use
 * hash.h.
 *
 * A slot (one aligned 64-bit word):
 *   bits 63..44 the key hash's top 20 bits (a tag: most misses never touch
 *               the data file), bits 43..3 the record offset  -> a key;
 *   0, or (epoch << 3) | 4                                   -> empty;
 *   2                                                        -> tombstone;
 *   bit 0 set on any of them: frozen by a rebuild that is copying, or
 *               (in the table a migration copies from) by the mover or
 *               by a writer that closed a probe chain;
 *   a key's slot | 3 (bits 0 and 1 set, bit 2 clear)        -> MOVED:
 *               only in the table a migration copies from, the key is
 *               in the new table (hash_migrate.c).
 *
 * That is the old format: tables of a data file of version 1 or 2
 * (file/format.h).  Hash words (doc/FORMAT.md, "Hash words"): such a table
 * whose descriptor's hw has KS_HW_HASHW set has, right after its cap
 * slots, cap hash words, one per slot: bits 39..0 the low 40 bits of the
 * hash of the key the slot was given, bits 63..40 the EPOCH of the table
 * word when it was written, plus one (0: never written).  A rebuild
 * trusts a hash word whose epoch is the table's (KS_HV_OK) and rehashes
 * the slot from it (the slot's tag gives the top bits): growth reads only
 * the index.  Tables without the flag (files written before hash words)
 * are rehashed from the records.
 *
 * 8-byte slots (doc/FORMAT.md, "Hash slots"): every table of a data file
 * of version FSC__DATA_VERSION_SLOT8 has KS_HW_SLOT8 in its descriptor's
 * hw (fsc__ktab_desc refuses a table of the other format than its file's,
 * c->s8), no hash word, and a key's slot
 *   bits 63..48 a field of hash bits with a leading-1 marker: the marker
 *               at bit k, below it the k hash bits just above the home
 *               bits (h >> log2(cap)), k = 15 when written from the hash;
 *   bits 47..40 the slot's probe distance from its key's home,
 *               (i - (h & (cap - 1))) & (cap - 1), saturated at 255
 *               (KS8_DIST_SAT: unknown);
 *   bits 39..3  the record offset (a data file of at most 1 TiB);
 *   bits 2..0   the flags above (empty, tombstone, frozen, MOVED alike).
 * The slot's index minus its distance gives the home, the field the bits
 * above it: a growth re-places the key from the slot alone
 * (fsc__ks8_hash), keeping one bit fewer in the field per doubling; when
 * the bits run out (the field is 1) or the distance saturated, it reads
 * the record's key and hashes it.  A lookup compares the k valid bits
 * (fsc__ks_tag_eq), so a key the growths left fewer bits has more record
 * reads, never a wrong answer.
 */
#ifndef FSC_HASH_SLOT_H
#define FSC_HASH_SLOT_H

#include "struct/hash.h"
#include "struct/list_struct.h" /* the seal: the header words are the list's */

#include <endian.h>
#include <string.h>

#define KS_FROZEN UINT64_C(1)
#define KS_TOMB UINT64_C(2)
#define KS_EMPTYF UINT64_C(4)
#define KS_OFF_BITS 44
#define KS_OFF_MASK ((((uint64_t)1 << KS_OFF_BITS) - 1) & ~UINT64_C(7))
#define KS_TAG(h) ((uint64_t)(h) >> KS_OFF_BITS)
#define KS_MAKE(h, off) ((KS_TAG(h) << KS_OFF_BITS) | (off))
#define KS_EMPTY(epoch)                                                      \
  ((((uint64_t)(epoch) & FSC__LW_EPOCH_MASK) << 3) | KS_EMPTYF)

#define KS_HW_HASHW (UINT64_C(1) << 63)
/* In the ACTIVE table's hw: a growth is migrating the keys of the other
 * table (desc[BUF ^ 1]) into this one (hash_migrate.c). */
#define KS_HW_MIG (UINT64_C(1) << 62)
/* The table's slots are of the 8-byte format (above), no hash words. */
#define KS_HW_SLOT8 (UINT64_C(1) << 61)
#define KS_HW_ROOM(hw) ((hw) & ~(KS_HW_HASHW | KS_HW_MIG | KS_HW_SLOT8))
/* Bytes a slot of a table of descriptor hw takes (with its hash word). */
#define KS_HW_BYTES(hw) (((hw) & KS_HW_HASHW) ? UINT64_C(16) : UINT64_C(8))

/* The 8-byte format's fields. */
#define KS8_OFF_MASK ((UINT64_C(1) << 40) - 8)
#define KS8_DIST_SHIFT 40
#define KS8_DIST_SAT UINT64_C(255)
#define KS8_FIELD_SHIFT 48
#define KS8_FIELD_BITS 15u
/* The data file's bound: offsets a slot of c's tables can hold. */
#define KS8_DATA_MAX (UINT64_C(1) << 40)
#define KS_HV_BITS 40
#define KS_HV_HASH(hv) ((hv) & ((UINT64_C(1) << KS_HV_BITS) - 1))
#define KS_HV_MAKE(h, epoch)                                                 \
  (KS_HV_HASH(h) |                                                           \
   ((((uint64_t)(epoch) & FSC__LW_EPOCH_MASK) + 1) << KS_HV_BITS))
/* Was hash word hv written in the life of the table of epoch `epoch`? */
#define KS_HV_OK(hv, epoch)                                                  \
  (((hv) >> KS_HV_BITS) == (((uint64_t)(epoch) & FSC__LW_EPOCH_MASK) + 1))
/* The hash a trusted hash word and its slot s give: the tag's bits and the
 * word's low 40 (bits 43..40 zero: no table is that large). */
#define KS_HV_FULL(hv, s)                                                    \
  (((s) & ~((UINT64_C(1) << KS_OFF_BITS) - 1)) | KS_HV_HASH(hv))

/* A table's capacity: a power of two in [KS_MIN_CAP, KS_MAX_CAP]. */
#define KS_MIN_CAP UINT64_C(64)
#define KS_MAX_CAP (UINT64_C(1) << 40)
/* Writers that died between their slot CAS and their COUNT update, at
 * most: a COUNT further than this above the keys the table holds is keys
 * lost from the index, which only the data file has. */
#define KS_COUNT_SLACK 16

/* The format of the tables c creates and reads (its data file's
 * version): their descriptor's format bit, the bytes of a slot, the mask
 * of a slot's record offset, and the largest data file they address. */
static inline uint64_t fsc__ks_hwfmt(const struct fsc__gen *c) {
  return c->s8 ? KS_HW_SLOT8 : KS_HW_HASHW;
}
static inline uint64_t fsc__ks_bytes(const struct fsc__gen *c) {
  return c->s8 ? 8 : 16;
}
static inline uint64_t fsc__ks_offmask(bool s8) {
  return s8 ? KS8_OFF_MASK : KS_OFF_MASK;
}
/* Can a slot of c's tables hold record offset off?  Else the data file
 * is full: FSC_ENOSPC with the bound's message. */
static inline bool fsc__ks_off_fits(const struct fsc__gen *c, uint64_t off) {
  return (off & fsc__ks_offmask(c->s8)) == off;
}
static inline const char *fsc__ks_max_msg(const struct fsc__gen *c) {
  return c->s8 ? "the data file has reached the 1 TiB a dict or set of "
                 "this format can address"
               : "the data file has reached the 16 TiB a dict or set can "
                 "address";
}

/* log2 of a table capacity (a power of two). */
static inline unsigned fsc__ks_lg(uint64_t cap) {
  return (unsigned)__builtin_ctzll(cap);
}
/* What a probe of hash h in a table of cap slots compares slots with
 * (fsc__ks_tag_eq): the old format's 20-bit tag, or the hash's bits above
 * the home bits. */
static inline uint64_t fsc__ks_tag_of(uint64_t h, uint64_t cap, bool s8) {
  return s8 ? h >> fsc__ks_lg(cap) : h >> KS_OFF_BITS;
}
/* Does key slot s carry tag q (fsc__ks_tag_of)?  The one tag compare of
 * every probe.  8-byte format: the field's valid bits, those below its
 * marker (none when the field is 1: the record decides). */
static inline __attribute__((always_inline)) bool
fsc__ks_tag_eq(uint64_t s, uint64_t q, bool s8) {
  if (!s8)
    return (s >> KS_OFF_BITS) == q;
  uint64_t f = s >> KS8_FIELD_SHIFT; /* (0 only in damage: no bits) */
  uint64_t m = (UINT64_C(1) << (63 - __builtin_clzll(f | 1u))) - 1;
  return ((f ^ q) & m) == 0;
}
/* The 8-byte key slot for record off at index i of a table of cap slots,
 * its key's hash known in its low nb bits hp (nb >= log2(cap); 64: the
 * whole hash): up to 15 of the bits above the home in the field. */
static inline uint64_t fsc__ks8_make(uint64_t hp, unsigned nb, uint64_t i,
                                     uint64_t cap, uint64_t off) {
  unsigned lg = fsc__ks_lg(cap);
  unsigned k = nb - lg < KS8_FIELD_BITS ? nb - lg : KS8_FIELD_BITS;
  uint64_t f = (UINT64_C(1) << k) | ((hp >> lg) & ((UINT64_C(1) << k) - 1));
  uint64_t d = (i - hp) & (cap - 1);
  if (d > KS8_DIST_SAT)
    d = KS8_DIST_SAT;
  return (f << KS8_FIELD_SHIFT) | (d << KS8_DIST_SHIFT) | off;
}
/* The key slot for record off (key hash h) at index i of table t's kind
 * (s8, cap slots), without flags. */
static inline uint64_t fsc__ks_make(bool s8, uint64_t h, uint64_t i,
                                    uint64_t cap, uint64_t off) {
  return s8 ? fsc__ks8_make(h, 64, i, cap, off) : KS_MAKE(h, off);
}
/* What 8-byte key slot s at index i of a table of cap slots tells of its
 * key's hash: its low *nb bits in *hp (the home's, then the field's).
 * False when the distance saturated (the home is not known). */
static inline bool fsc__ks8_hash(uint64_t s, uint64_t i, uint64_t cap,
                                 uint64_t *hp, unsigned *nb) {
  uint64_t d = (s >> KS8_DIST_SHIFT) & KS8_DIST_SAT;
  uint64_t f = s >> KS8_FIELD_SHIFT;
  if (d == KS8_DIST_SAT)
    return false;
  unsigned lg = fsc__ks_lg(cap), k = 63u - (unsigned)__builtin_clzll(f | 1u);
  *hp = ((i - d) & (cap - 1)) |
        ((f & ((UINT64_C(1) << k) - 1)) << lg);
  *nb = lg + k;
  return true;
}

static inline bool fsc__ks_value(uint64_t s) {
  return (s & 6u) == 0 && (s & KS_OFF_MASK) >= FSC__HDR_SIZE;
}
static inline bool fsc__ks_empty(uint64_t s) {
  return (s & ~KS_FROZEN) == 0 || (s & KS_EMPTYF);
}
static inline bool fsc__ks_tomb(uint64_t s) {
  return (s & ~KS_FROZEN) == KS_TOMB;
}
/* A slot a migration moved (hash_migrate.c): the key's tag and record
 * offset kept, bits 0 and 1 set: neither a value, a tombstone nor empty. */
#define KS_MOVED UINT64_C(3)
static inline bool fsc__ks_moved(uint64_t s) {
  return (s & 7u) == KS_MOVED && (s & KS_OFF_MASK) >= FSC__HDR_SIZE;
}

/* Are the n bytes at a and b equal?  Keys of up to 16 bytes (the common
 * kind) compare as two overlapping words, without a call to memcmp.  The
 * one key compare of the lookups: hash.c's probe and hash_ctr.c's
 * increment fast path. */
static inline __attribute__((always_inline)) bool
fsc__key_eq(const uint8_t *a, const uint8_t *b, uint32_t n) {
  if (n >= 8 && n <= 16) {
    uint64_t a0, a1, b0, b1;
    memcpy(&a0, a, 8);
    memcpy(&b0, b, 8);
    memcpy(&a1, a + n - 8, 8);
    memcpy(&b1, b + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  if (n >= 4 && n < 8) {
    uint32_t a0, a1, b0, b1;
    memcpy(&a0, a, 4);
    memcpy(&b0, b, 4);
    memcpy(&a1, a + n - 4, 4);
    memcpy(&b1, b + n - 4, 4);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  return n == 0 || memcmp(a, b, n) == 0;
}

static inline bool fsc__hash_is_dict(const struct fsc__gen *c) {
  return c->kind == FSC__KIND_DICT;
}

/* The smallest table capacity of at least x slots (at most KS_MAX_CAP). */
static inline uint64_t fsc__ktab_cap_for(uint64_t x) {
  uint64_t p = KS_MIN_CAP;
  while (p < x && p < KS_MAX_CAP)
    p <<= 1;
  return p;
}

/* The table and its word (inline: every lookup and write starts here). */

/* A table as one view of it saw it: the word, and the table it names. */
struct fsc__ktab {
  uint64_t w;
  uint64_t *arr;
  uint64_t *hv;   /* the hash words (arr + cap), or NULL: none */
  uint64_t cap;
  bool s8;        /* its slots (and the old table's) are of the 8-byte
                     format (KS_HW_SLOT8; the data file's c->s8) */
  unsigned buf;
  /* While a growth migrates (KS_HW_MIG in this table's hw): the table it
   * copies from (desc[buf ^ 1]), else oarr is NULL. */
  uint64_t *oarr, *ohv;
  uint64_t ocap;
  bool old;       /* (hash.c) a probe found the key in the old table: arr,
                     hv and cap are the old table's */
};

/* hash_migrate.c: the table a migration copies from (desc[ob]) into t's
 * oarr, ohv, ocap, checked: FSC_ECORRUPT if invalid. */
int fsc__ktab_old(struct fsc__gen *c, unsigned ob, struct fsc__ktab *t);

/* Table b of the word (desc[b]), checked: FSC_ECORRUPT if invalid. */
static inline __attribute__((always_inline)) int
fsc__ktab_desc(struct fsc__gen *c, unsigned b, struct fsc__ktab *t) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t off = ck_pr_load_64(&ih->desc[b].off);
  uint64_t cap = ck_pr_load_64(&ih->desc[b].cap);
  if (off < FSC__HDR_SIZE || (off & 7u) || cap < KS_MIN_CAP ||
      cap > KS_MAX_CAP || (cap & (cap - 1)))
    return fsc__err(FSC_ECORRUPT, "hash table %u is invalid (offset %llu, "
                    "capacity %llu)", b, (unsigned long long)off,
                    (unsigned long long)cap);
  uint64_t hwd = ck_pr_load_64(&ih->desc[b].hw);
  bool hw = (hwd & KS_HW_HASHW) != 0;
  t->s8 = (hwd & KS_HW_SLOT8) != 0;
  if (__builtin_expect(t->s8 != c->s8 || (hw && t->s8), 0))
    return fsc__err(FSC_ECORRUPT, "hash table %u is not of the slot format "
                    "its data file's version says", b);
  t->arr = fsc__ptr(c, &c->index, off, cap * (hw ? 16 : 8));
  if (!t->arr)
    return fsc__err_last();
  t->hv = hw ? t->arr + cap : NULL;
  t->cap = cap;
  t->buf = b;
  t->oarr = NULL;
  t->old = false;
  if (__builtin_expect((hwd & KS_HW_MIG) != 0, 0))
    return fsc__ktab_old(c, b ^ 1u, t);
  return 0;
}

static inline uint64_t fsc__ktab_word(struct fsc__index_hdr *ih) {
  uint64_t w = ck_pr_load_64(&ih->lenword);
  ck_pr_fence_load(); /* the table is read after the word that names it */
  return w;
}

/* Has a rebuild published since w (EPOCH or BUF moved)? */
static inline bool fsc__ktab_changed(struct fsc__index_hdr *ih, uint64_t w) {
  ck_pr_fence_load(); /* the slot reads come before this re-check */
  uint64_t w2 = ck_pr_load_64(&ih->lenword);
  return ((w2 ^ w) & ~(FSC__LW_FROZEN | FSC__LW_LEN_MASK)) != 0;
}

/* A consistent (word, table) pair. */
static inline __attribute__((always_inline)) int
fsc__ktab_view(struct fsc__gen *c, struct fsc__ktab *t) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  for (;;) {
    uint64_t w = fsc__ktab_word(ih);
    /* A generation compacted away stays frozen: move to the new files. */
    if (__builtin_expect((w & FSC__LW_FROZEN) != 0, 0) && fsc__gen_moved(c))
      return FSC__EMOVED;
    int rc = fsc__ktab_desc(c, FSC__LW_BUFIDX(w), t);
    if (fsc__ktab_changed(ih, w))
      continue;
    if (rc)
      return rc;
    t->w = w;
    return 0;
  }
}


/* Is the keyed record of c parsed in kr shaped as an earlier build's clear
 * mark, told only by its flag: a dict record of origin 0 (no value record
 * has it) and an empty key, or a set record of the zero element of its
 * type (empty for a variable-size type)? */
static inline bool fsc__krec_clear_shaped(const struct fsc__gen *c,
                                          const struct fsc__krec *kr) {
  if (fsc__hash_is_dict(c))
    return kr->origin == 0 && kr->klen == 0;
  if (kr->klen != fsc__type_fixed_size((fsc_type)kr->type))
    return false;
  for (uint32_t i = 0; i < kr->klen; i++)
    if (kr->key[i])
      return false;
  return true;
}

/* The flags a keyed record of c parsed in kr counts with, its flags byte
 * being fl (doc/FORMAT.md, "Mark records").  A mark record of this build
 * carries its kind in a word its checksum covers (kr->mark: a set's after
 * its key, a dict's in place of its origin), which the byte (not covered)
 * cannot change: a mark never reads as a key or element, nor a removal as
 * a clear.  Its byte says only whether the mark was voided (exactly
 * FSC__REC_VOID, which fsc__rec_void stores in place of the kind); any
 * other value than its kind is damage, and it stays a mark of its kind.
 * Any other record is told by its byte, within what its shape allows:
 * CLEARED counts only on a record shaped as an earlier build's clear mark
 * (fsc__krec_clear_shaped; on any other it is damage, which would make a
 * rebuild drop every key below the record whose slot was lost), and
 * REMOVED without VOID (an earlier build's removal mark, or the record a
 * delete on a full data file flagged as its own mark) stands for the
 * removal whatever else is set (DELETED: dead all the same). */
static inline uint8_t fsc__krec_flags(const struct fsc__gen *c,
                                      const struct fsc__krec *kr,
                                      uint8_t fl) {
  if (kr->mark)
    return fl == FSC__REC_VOID ? (uint8_t)FSC__REC_VOID : kr->mark;
  if ((fl & FSC__REC_CLEARED) && !fsc__krec_clear_shaped(c, kr))
    fl &= (uint8_t)~FSC__REC_CLEARED;
  if (!(fl & FSC__REC_CLEARED) &&
      (fl & (FSC__REC_REMOVED | FSC__REC_VOID)) == FSC__REC_REMOVED)
    return FSC__REC_REMOVED;
  return fl;
}

/* A keyed record's key length: the little-endian u32 that starts its
 * payload pl (doc/FORMAT.md). */
static inline uint32_t fsc__krec_klen(const uint8_t *pl) {
  uint32_t x;
  memcpy(&x, pl, 4);
  return le32toh(x) & ~FSC__KLEN_TTL; /* (bit 31: a dict record's TTL) */
}

/* hash.c: does record off hold key k (parsed into *r); the next keyed
 * record at or after *pos and below end that verifies (1, with its offset
 * and parse), 0 at the end. */
bool fsc__krec_matches(struct fsc__gen *c, uint64_t off,
                       const struct fsc__kkey *k, struct fsc__krec *r);
int fsc__hash_walk(struct fsc__gen *c, uint64_t *pos, uint64_t end,
                   uint64_t *roff, struct fsc__krec *kr);

/* hash_grow.c: rebuild the table with the structure lock held (freeze,
 * re-place every live key, or none with KS_RB_CLEAR, into the spare table,
 * publish; also finishes a rebuild whose process died, and first a
 * growth's migration); take the lock and grow the table seen with word w
 * (unless another writer did).  hash_region.c: a region of cap slots for
 * spare table t, clear of [aoff, aoff + abytes). */
#define KS_RB_CLEAR 1   /* (true): none of the keys */
#define KS_RB_RECORDS 2 /* rehash from the records, trusting no hash word
                           (verify's and recovery's repairs) */
int fsc__hash_rebuild_locked(struct fsc__gen *c, int mode);
/* (nowait: 1, and nothing done, if another writer holds the lock) */
int fsc__hash_grow(struct fsc__gen *c, uint64_t w, bool nowait);
/* hash_region.c: the hash of the key of record off (reads only the
 * record's header and key). */
int fsc__krec_hash(struct fsc__gen *c, uint64_t off, uint64_t *h);
int fsc__hash_spare_region(struct fsc__gen *c, unsigned t, uint64_t cap,
                           uint64_t aoff, uint64_t abytes, uint64_t *off,
                           bool *fresh);
/* hash_region.c: new space at the index tail for a table of cap slots
 * (zero: every slot empty, no hash word), clear of [aoff, aoff + abytes):
 * what the spare region takes when the spare cannot serve. */
int fsc__hash_new_region(struct fsc__gen *c, uint64_t cap, uint64_t aoff,
                         uint64_t abytes, uint64_t *off);

/* hash_recover.c: does dict record off (parsed in kr) have an origin
 * iteration can start from (hash.c, fsc__hash_next: a record that
 * verifies, holds the same key and names itself)?  Give every key of
 * table t whose origin does not a record of its own, counted in *fixed
 * (structure lock held; the key moves to the end of the insertion order,
 * the best a lost origin allows). */
bool fsc__hash_origin_ok(struct fsc__gen *c, uint64_t off,
                         const struct fsc__krec *kr);
int fsc__hash_origins_fix(struct fsc__gen *c, const struct fsc__ktab *t,
                          uint64_t *fixed);

/* hash_grow.c: the seal of the table word and the descriptors
 * (doc/FORMAT.md, "The seal"), the list's (fsc__ls_seal and
 * fsc__ls_seal_fix, list_struct.c) since the header words are the same.
 * For a word left frozen (structure lock held): how many of the words a
 * rebuild never changes before it publishes (the word's BUF and EPOCH,
 * the source table's descriptor) differ from a seal that holds; with
 * `fix`, they are restored from it (FROZEN and COUNT kept), so that the
 * rebuild is finished from the table the last published state names. */
uint64_t fsc__hash_seal_frozen(struct fsc__gen *c, bool fix);

/* hash_migrate.c: growth by an incremental migration (doc/CONCURRENCY.md,
 * "Growth by migration").  on: may this process start one (the
 * default; FSC_GROW_MIGRATE=0 in the environment, read once, turns it off
 * for the process's own growths; any process finishes
 * one it meets); start: structure lock held, the table seen with word w
 * full: 0 started, 1 not started (the caller rebuilds as before), or an
 * error; step: lock held, move the next old slots (ends the migration at
 * the last); finish: lock held, every step (what clear, repair, recovery
 * and compaction do first); help: a writer's step if the lock is free;
 * wait: a writer met old slot *p frozen by a mover: wait for it to be
 * moved, or finish the mover's step if it died; recounted: may count_add
 * drop an increment of a slot CASed under w, the word now w2 (did a
 * rebuild that recounts publish since w)? */
bool fsc__hash_migrate_on(void);
int fsc__hash_migrate_start(struct fsc__gen *c, uint64_t w);
int fsc__hash_migrate_step(struct fsc__gen *c);
int fsc__hash_migrate_finish(struct fsc__gen *c);
/* (the same under a word left frozen by a start whose process died after
 * its seal: the rebuild that finishes that orphan copies one table) */
int fsc__hash_migrate_finish_frozen(struct fsc__gen *c);
int fsc__hash_migrate_help(struct fsc__gen *c);
int fsc__hash_migrate_wait(struct fsc__gen *c, const uint64_t *p);
bool fsc__hash_recounted(struct fsc__index_hdr *ih, uint64_t w, uint64_t w2);
/* hash_migrate.c: an insert into table t past 5/8 of it (and below the
 * growth): prepare the next migration's table a chunk at a time (reserve
 * its region, fault its pages in), if the lock is free.  0 or an error. */
int fsc__hash_migrate_prep(struct fsc__gen *c, const struct fsc__ktab *t);
/* Is a migration in progress (the active table's hw)? */
static inline bool fsc__hash_migrating(struct fsc__gen *c) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  unsigned b = FSC__LW_BUFIDX(ck_pr_load_64(&ih->lenword));
  return (ck_pr_load_64(&ih->desc[b].hw) & KS_HW_MIG) != 0;
}
/* kcount_ep: the epoch the last recounting rebuild published, valid. */
#define KS_CEP_VALID (UINT64_C(1) << 63)

#endif
