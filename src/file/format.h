/*
 * format.h - the files' on-disk structures and constants (not installed):
 * both file headers, the list's length word, slots and seal, the
 * compaction state word, records.  doc/FORMAT.md is their prose twin;
 * every on-disk integer is little-endian, and the words that processes
 * share are updated in place by native atomics.
 */
#ifndef FSC_FORMAT_H
#define FSC_FORMAT_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* File format constants (doc/FORMAT.md)                               */
/* ------------------------------------------------------------------ */

#define FSC__HDR_SIZE 4096u      /* header page of both files */
#define FSC__FORMAT_VERSION 1u
#define FSC__DATA_MAGIC "FSCDATA\0"
#define FSC__INDEX_MAGIC "FSCINDX\0"
#define FSC__CLEAN_MARKER 0xAAu  /* final byte of the index file */
#define FSC__TRAILER 64u         /* bytes at the end of the index file that
                                    no structure uses (holds the marker) */

enum fsc__kind { FSC__KIND_LIST = 1, FSC__KIND_DICT = 2, FSC__KIND_SET = 3 };

/* fsc_options.expected_items: at most this many (a table of at most 2^39
 * slots); a new dict's or set's data file starts with FSC__EXPECTED_BYTES
 * bytes per expected key (gen_files.c). */
#define FSC__EXPECTED_MAX (UINT64_C(1) << 38)
#define FSC__EXPECTED_BYTES 48u

/* First 64 bytes of both files. */
struct fsc__fhdr {
  char magic[8];
  uint32_t version;
  uint8_t kind;          /* enum fsc__kind */
  uint8_t elem_type;     /* fsc_type */
  uint16_t hdr_size;     /* FSC__HDR_SIZE */
  uint64_t file_id;      /* random; equal in both files of a collection */
  uint64_t generation;   /* bumped by compaction */
  uint8_t key_type;      /* dict: FSC_TYPE_STRING or FSC_TYPE_BYTES; else 0 */
  uint8_t reserved1[7];
  uint64_t reserved0[3];
};

/* The data file's header page. */
struct fsc__data_hdr {
  struct fsc__fhdr h;
  /* Shared counters, updated with ck_pr atomics. */
  uint64_t tail;        /* next free byte: reserved by CAS */
  uint64_t cap;         /* bytes fallocated; published after fallocate */
  uint64_t live_bytes;  /* bytes of records the collection references */
  uint64_t dead_bytes;  /* bytes of records superseded or removed */
  uint64_t records;     /* records ever written */
  uint64_t events;      /* the change event count (struct ck_ec64: the
                           count in bits 63..1, bit 0 "someone waits");
                           bumped after every published change (wait.c).
                           0 in files written before it: no waiter ever.
                           In this cache line because every writer already
                           owns it (tail, live_bytes, records) */
};

/*
 * The list's length word (one aligned 64-bit word in the index header):
 *   bit 63      FROZEN: a structural change holds the lock and is copying
 *   bit 62      BUF: which pointer array (desc[0] or desc[1]) is active
 *   bits 61..40 EPOCH: bumped by every structural change that completes
 *   bits 39..0  LEN: number of elements
 */
#define FSC__LW_FROZEN (UINT64_C(1) << 63)
#define FSC__LW_BUF (UINT64_C(1) << 62)
#define FSC__LW_EPOCH_SHIFT 40
#define FSC__LW_EPOCH_BITS 22
#define FSC__LW_EPOCH_MASK ((UINT64_C(1) << FSC__LW_EPOCH_BITS) - 1)
#define FSC__LW_LEN_MASK ((UINT64_C(1) << 40) - 1)
#define FSC__LW_LEN(w) ((w) & FSC__LW_LEN_MASK)
#define FSC__LW_EPOCH(w) (((w) >> FSC__LW_EPOCH_SHIFT) & FSC__LW_EPOCH_MASK)
#define FSC__LW_BUFIDX(w) ((unsigned)(((w) >> 62) & 1u))
#define FSC__LW_MAKE(buf, epoch, len)                                        \
  (((uint64_t)(buf) << 62) |                                                 \
   (((uint64_t)(epoch) & FSC__LW_EPOCH_MASK) << FSC__LW_EPOCH_SHIFT) |       \
   ((uint64_t)(len) & FSC__LW_LEN_MASK))

/*
 * The list's head word (lhead, index header): HEAD, the slot of element 0,
 * tagged with the EPOCH of the length word it belongs to.  The length
 * word's LEN is then the END of the list (the slot appenders fill), and
 * the list is slots [HEAD, END):
 *   bit 63      VALID (0 in the whole word: a file written before heads
 *               existed, and every dict or set: HEAD is 0)
 *   bits 61..40 EPOCH: HEAD holds only while the length word's EPOCH is
 *               this one (every structural change stores the head word of
 *               its new epoch before the length word; list_pop.c)
 *   bits 39..0  HEAD
 */
#define FSC__LH_VALID (UINT64_C(1) << 63)
#define FSC__LH_HEAD(h) ((h) & FSC__LW_LEN_MASK)
#define FSC__LH_EPOCH(h) FSC__LW_EPOCH(h)
#define FSC__LH_MAKE(epoch, head)                                            \
  (FSC__LH_VALID |                                                           \
   (((uint64_t)(epoch) & FSC__LW_EPOCH_MASK) << FSC__LW_EPOCH_SHIFT) |       \
   ((uint64_t)(head) & FSC__LW_LEN_MASK))
/* HEAD of the list whose length word is w and head word lh, with *ok
 * set; or *ok false when lh belongs to another epoch (a change published
 * between the two loads; read again) or names a HEAD past END (damage). */
static inline uint64_t fsc__lh_resolve(uint64_t lh, uint64_t w, bool *ok) {
  if (lh == 0) {
    *ok = true;
    return 0;
  }
  uint64_t h = FSC__LH_HEAD(lh);
  *ok = (lh & FSC__LH_VALID) && FSC__LH_EPOCH(lh) == FSC__LW_EPOCH(w) &&
        h <= FSC__LW_LEN(w);
  return *ok ? h : 0;
}

/*
 * A slot of the list's pointer array (one aligned 64-bit word):
 *   a record offset (multiple of 8, >= FSC__HDR_SIZE), with bit 0 set once a
 *     structural change has frozen the slot for copying;
 *   0                    never used;
 *   (tag << 3) | 4       empty, emptied by the structural change that
 *                        started epoch `tag` (stale appenders detect it);
 *   2                    FENCE: a structural change in progress has closed
 *                        the slot after the last element to appenders;
 *   record offset | 3    TAKEN: a pop at the head (list_pop.c) has claimed
 *                        the slot; only the slot HEAD and slots below it
 *                        hold one.  Never a value (bit 1), never an empty
 *                        (bit 2 clear): no appender fills it, no reader
 *                        counts it past HEAD.
 */
#define FSC__SLOT_FROZEN UINT64_C(1)
#define FSC__SLOT_FENCE UINT64_C(2)
#define FSC__SLOT_EMPTY_FLAG UINT64_C(4)
#define FSC__SLOT_EMPTY(tag)                                                 \
  ((((uint64_t)(tag) & FSC__LW_EPOCH_MASK) << 3) | FSC__SLOT_EMPTY_FLAG)
#define FSC__SLOT_IS_VALUE(s) ((s) >= FSC__HDR_SIZE && ((s) & 6u) == 0)
#define FSC__SLOT_TAKEN(off) ((off) | UINT64_C(3))
#define FSC__SLOT_IS_TAKEN(s) ((s) >= FSC__HDR_SIZE && ((s) & 7u) == 3u)
#define FSC__SLOT_OFF(s) ((s) & ~UINT64_C(7))

struct fsc__list_desc {
  uint64_t off; /* byte offset of the array in the index file; 0: none */
  uint64_t cap; /* slots */
  uint64_t hw;  /* high water: slots at and above it hold 0 or an empty
                   tag older than any epoch an appender can still hold */
};

/* What a recovery repaired, by kind (fsc_metrics.repaired_*). */
enum fsc__rep {
  FSC__REP_DROPPED,  /* elements or keys dropped */
  FSC__REP_RESTORED, /* structure words restored, elements adopted back,
                        interrupted changes finished */
  FSC__REP_REBUILT,  /* dict/set tables rebuilt */
  FSC__REP_COUNTERS, /* counters corrected */
  FSC__REP_AT_CLOSE, /* the total the last close of the previous session
                        repaired (a writer had died) */
  FSC__REP_N = 5
};

/*
 * The list's seal: a copy of the structure words that only structural
 * changes (lock held) write, made before the change publishes its length
 * word: BUF and EPOCH of that word (`word`, LEN and FROZEN zero), both
 * descriptors, and `sum`, a checksum of those seven words (never 0; 0
 * means "no seal": a file written before seals existed).  While the word
 * is not frozen, the live words equal the seal; a recovery or check that
 * finds one live word differing from a seal whose sum holds restores it
 * from the seal, and one that finds the seal's sum broken while the live
 * words are whole rewrites the seal: any one damaged word among the eight
 * is found, and neither case rolls the list back (doc/FORMAT.md).
 */
struct fsc__list_seal {
  uint64_t word;
  struct fsc__list_desc desc[2];
  uint64_t sum;
};

/* The index file's header page (list layout). */
struct fsc__index_hdr {
  struct fsc__fhdr h;
  uint64_t lenword;                  /* see FSC__LW_* */
  struct fsc__list_desc desc[2];     /* the two pointer arrays */
  uint64_t itail;                    /* bytes of the index file handed out */
  uint64_t icap;                     /* bytes fallocated */
  uint64_t last_close_clean;         /* set by the first opener */
  uint64_t repaired;                 /* items dropped by the last recovery */
  uint64_t opens;                    /* successful opens, ever */
  uint64_t kused;                    /* dict/set: slots of the active table
                                        that are not empty (live + tomb) */
  uint64_t cstate;                   /* compaction: 0, or FSC__CS_MOVING /
                                        FSC__CS_MOVED | the generation the
                                        collection is moving / moved to
                                        (compact.c) */
  uint64_t writers;                  /* read-write handles opened minus
                                        closed this session (a forked child
                                        that re-forks its locks counts as
                                        an opener); reset by the first
                                        opener; atomic.  The last closer
                                        finding more than itself knows a
                                        writer died (coll.c) */
  uint64_t rep[FSC__REP_N];          /* what the last recovery repaired, by
                                        kind (enum fsc__rep) */
  struct fsc__list_seal seal;        /* list: the structure words as the
                                        last structural change published
                                        them (list_struct.c) */
  uint64_t kmig;                     /* dict/set, while a growth migrates
                                        (KS_HW_MIG): old slots below it
                                        are moved (hash_migrate.c); 0 in
                                        files of earlier builds */
  uint64_t kcount_ep;                /* dict/set: KS_CEP_VALID | the EPOCH
                                        the last rebuild that recounted
                                        published; 0: not known (files of
                                        earlier builds) */
  uint64_t kprep[4];                 /* dict/set, a hint: the region the
                                        next migration will copy into,
                                        prepared ahead (hash_migrate.c):
                                        offset, capacity, bytes faulted
                                        in, KS_CEP_VALID | the EPOCH of the
                                        table it is for; 0: none */
  uint64_t lhead;                    /* list: the head word (FSC__LH_*);
                                        0 in older files */
};

/* cstate: a compaction holds the lock and is renaming new files into
 * place (MOVING), or has finished: these files are a retired generation
 * and the collection lives in the files now at its paths (MOVED). */
#define FSC__CS_MOVING (UINT64_C(1) << 62)
#define FSC__CS_MOVED (UINT64_C(2) << 62)
#define FSC__CS_GEN(s) ((s) & ((UINT64_C(1) << 62) - 1))

/* A record in the data file: this header, the payload, zero padding to 8.
 * Or, in a data file of version FSC__DATA_VERSION_COMPACT, a record of
 * exactly 8 payload bytes: its first 8 bytes (rtype with FSC__REC_COMPACT,
 * flags, ctl, checksum), then the payload, 16 bytes in all (doc/FORMAT.md,
 * "Compact records").  Read a header only through fsc__rec_type,
 * fsc__rec_hsize, fsc__rec_size, fsc__rec_pl and fsc__rec_total below:
 * they alone decide the form. */
struct fsc__rec {
  uint8_t rtype;      /* fsc_type of the payload, | FSC__REC_COMPACT in the
                         compact form; the checksum's seed has all 8 bits */
  uint8_t flags;      /* FSC__REC_VOID, _REMOVED, _CLEARED (in files of
                         earlier builds also FSC__REC_DELETED); not
                         covered by the checksum */
  uint16_t ctl;       /* 0, or a counter record's FSC__CTR_* bits; not
                         covered by the checksum (record.c) */
  uint32_t checksum;  /* fsc__rec_sum() (checksum.c) */
  uint64_t fsize;     /* payload bytes: the full form only (in the compact
                         form these are the payload) */
};
/* Liveness comes from the index (a slot naming the record) and the header
 * counters: a dict or set overwrite or delete does not write into the
 * record it supersedes (doc/FORMAT.md, "Records").
 *   FSC__REC_DELETED a list's record superseded or removed (written by
 *                    fsc__rec_retire: the only trace of a stale list
 *                    slot); earlier builds flagged dict and set records
 *                    too, which are read as dead and no longer written.
 *   FSC__REC_VOID    written by a dict/set writer into its own record that
 *                    it never published (fsc__rec_void): a rebuild of the
 *                    index from the data file alone skips it;
 *   FSC__REC_REMOVED a dict/set delete's mark record (struct/hash.c): the
 *                    key is absent from here on, until a higher record;
 *   FSC__REC_CLEARED a clear's mark record: no record below it is live.
 * No slot names a record with any of these flags (FSC__REC_DEAD). */
#define FSC__REC_DELETED 0x1u
#define FSC__REC_VOID 0x2u
#define FSC__REC_REMOVED 0x4u
#define FSC__REC_CLEARED 0x8u
#define FSC__REC_DEAD                                                        \
  (FSC__REC_DELETED | FSC__REC_VOID | FSC__REC_REMOVED | FSC__REC_CLEARED)
/* Every flag a record may carry: a flags byte with any other bit set is
 * damage (the byte is outside the checksum, so this is all a check can
 * say of it). */
#define FSC__REC_FLAGS_KNOWN FSC__REC_DEAD
/*
 * Counter records (doc/FORMAT.md, "Counter records"): int64 or float
 * records whose 8-byte value word is changed in place by atomic
 * read-modify-writes (fsc_dict_incr, fsc_list_incr, the compare-and-swaps).
 * `ctl` bits:
 *   FSC__CTR_FLAG      the record is a counter (set when it is written,
 *                      never cleared): its checksum leaves the value out;
 *   FSC__CTR_CLOSED    the value is final: writers in place go away and
 *                      replace the record instead (record.c fsc__ctr_close);
 *   FSC__CTR_ABANDONED a closer stopped waiting for a writer that stayed
 *                      inside longer than lock_timeout_ms: that writer,
 *                      if it ever resumes, reports FSC_ETIMEDOUT;
 *   FSC__CTR_SEALED    sealed: the checksum covers the value word too
 *                      (clear: it is the unsealed one, which leaves the
 *                      value out; a check accepts either).  Set when the
 *                      record is written, when it is closed, and by the
 *                      clean close of a session for every counter unsealed
 *                      in it; the first writer in place logs the record
 *                      in the unsealed log, swaps in the unsealed checksum
 *                      and clears it, before it writes (ctr_seal.c);
 *   bits 11..0         writers inside the value word right now.
 * The value word is the payload's 8 bytes that precede its last 8 (a dict
 * record: key padded to 8, value, origin), or the whole payload when it is
 * 8 bytes (a list element): always 8-byte aligned.
 */
#define FSC__CTR_FLAG 0x8000u
#define FSC__CTR_CLOSED 0x4000u
#define FSC__CTR_ABANDONED 0x2000u
#define FSC__CTR_SEALED 0x1000u
#define FSC__CTR_INSIDE 0x0fffu
/* The longest a closer waits for the writers inside (less if the
 * handle's lock_timeout_ms is less). */
#define FSC__CTR_WAIT_MS 1000
static inline uint64_t fsc__ctr_voff(uint64_t n) {
  return n == 8 ? 0 : n - 16;
}
/* Can a payload of n bytes be a counter (8, or 16 + a multiple of 8)? */
static inline bool fsc__ctr_shape_ok(uint64_t n) {
  return n == 8 || (n >= 24 && (n & 7u) == 0);
}
/*
 * The close word (issue #14; doc/FORMAT.md, "Counter records"; written in
 * data files of version FSC__DATA_VERSION_CLOSEWORD): a dict counter's
 * payload may be [u32 klen][key][zero pad to 8][p zero bytes][u64 close]
 * [value][origin], p 0 or 8, chosen when the record is placed so that the
 * close word starts at a 16-aligned file offset: the close word and the
 * value word are then one aligned 16-byte block, which one `lock
 * cmpxchg16b` checks and adds to (internal.h fsc__ctr_add_cw).  The close
 * word holds FSC__CTR_CLOSED and FSC__CTR_SEALED (a little-endian u64, no
 * other bit); neither checksum covers it.  Invariant: its bits include
 * ctl's CLOSED and SEALED bits - a closer or sealer sets the bit here
 * first, then in ctl; an unsealer clears it in ctl first, then here.
 * Offset of the close word in the payload pl of n bytes of a counter
 * record, or 0 when it has none (the plain shape, a list element): the
 * key's head align8(4 + klen) leaves 24 or 32 bytes.  Only a counter's
 * payload of 24 bytes or more is a dict record (a list's is 8 bytes).
 */
#define FSC__CW_BITS ((uint64_t)(FSC__CTR_CLOSED | FSC__CTR_SEALED))
/* A dict record's key head: [u32 klen][key] padded to 8 bytes. */
static inline uint64_t fsc__ctr_head(const uint8_t *pl) {
  uint32_t kl;
  memcpy(&kl, pl, 4);
  return ((uint64_t)(le32toh(kl) & 0x7fffffffu) + 4 + 7) & ~UINT64_C(7);
}
static inline uint64_t fsc__ctr_cwoff(const uint8_t *pl, uint64_t n) {
  if (n < 32)
    return 0;
  uint64_t head = fsc__ctr_head(pl);
  return n - head == 24 || n - head == 32 ? n - 24 : 0;
}
/*
 * The unsealed log (index header, FSC__USEAL_OFF; doc/FORMAT.md, "The
 * unsealed log"): the counters whose SEALED bit a writer cleared since the
 * last clean close, so that the last close reseals only those.  `n` counts
 * the entries claimed (an atomic add); entry i < FSC__USEAL_N holds the
 * record offset (0 while its writer is between the add and the store);
 * n > FSC__USEAL_N means "overflowed": the close walks every record.
 * The sealing close zeroes the entries it used, then n.
 */
#define FSC__USEAL_OFF 2048u
#define FSC__USEAL_N 127u
struct fsc__useal {
  uint64_t n;
  uint64_t off[FSC__USEAL_N];
};
#define FSC__REC_ALIGN 8u
/* The full form's total bytes for `payload` bytes. */
#define FSC__REC_TOTAL(payload)                                              \
  ((sizeof(struct fsc__rec) + (uint64_t)(payload) + 7u) & ~UINT64_C(7))

/*
 * Compact records (doc/FORMAT.md, "Compact records").  A data file whose
 * version is FSC__DATA_VERSION_COMPACT writes every record of exactly 8
 * payload bytes (an int64 or float list element, a set's int32 element,
 * any 8-byte value) in the compact form: an 8-byte header whose rtype has
 * FSC__REC_COMPACT set, then the payload (16 bytes, the value word
 * 8-aligned); every other record in the full form.  A data file of
 * version FSC__FORMAT_VERSION (every earlier build's) holds full records
 * only, and this build keeps writing them there.  The form is the first
 * byte's to say: a walk tells each record's size from it.  The checksum's
 * seed takes the whole rtype byte, so a flipped COMPACT bit fails it, and
 * a record in the form its file does not write is damage
 * (fsc__rec_form_ok).
 */
#define FSC__DATA_VERSION_COMPACT 2u
/*
 * Version 3 (doc/FORMAT.md, "Versions"): compact records as version 2,
 * and two rules earlier builds do not know, so they refuse it
 * (FSC_EVERSION, as any version they do not know):
 *  - a dict's or set's index tables have 8-byte slots without hash words
 *    (struct/hash_slot.h; doc/FORMAT.md, "Hash slots"): records lie below
 *    1 TiB; an earlier build would take the table's format bit for
 *    damage.  A list's data file has this version too (it has no table);
 *  - the capacity is published only under the growth lock (an OFD lock
 *    on byte FSC__GROW_LOCK_OFF of the data file), by a grower that has
 *    written zeros over the bytes it publishes, so that an appender's
 *    first store to a page finds it in the page cache (grow.c;
 *    doc/CONCURRENCY.md, "Data file growth"); an earlier build grows
 *    without that lock and would publish bytes a grower is still zeroing.
 * The newest version this build reads, and the one it creates.  Two
 * names, one per rule, for the places that test it.
 */
#define FSC__DATA_VERSION_SLOT8 3u
#define FSC__DATA_VERSION_ZEROED 3u
/*
 * Version 4 (doc/FORMAT.md, "Versions", "Counter records"): version 3, and
 * a dict's int64 and float counters written in the close-word shape (see
 * fsc__ctr_cwoff), which earlier builds would decode as a value of the
 * wrong size, so they refuse it.  Version-3 files keep the plain shape
 * (this build writes no close word there), and compaction makes them
 * version 4.  The newest version this build reads, and the one it
 * creates.
 */
#define FSC__DATA_VERSION_CLOSEWORD 4u
#define FSC__DATA_VERSION_NEWEST FSC__DATA_VERSION_CLOSEWORD
#define FSC__GROW_LOCK_OFF 0
#define FSC__REC_COMPACT 0x80u
#define FSC__REC_TYPE_MASK 0x7fu
#define FSC__REC_CHDR 8u   /* the compact form's header bytes */
#define FSC__REC_CSIZE 8u  /* ... and its payload bytes */
static inline bool fsc__rec_is_compact(const struct fsc__rec *r) {
  return (r->rtype & FSC__REC_COMPACT) != 0;
}
/* The payload's fsc_type. */
static inline uint8_t fsc__rec_type(const struct fsc__rec *r) {
  return (uint8_t)(r->rtype & FSC__REC_TYPE_MASK);
}
/* Header bytes (where the payload starts). */
static inline uint64_t fsc__rec_hsize(const struct fsc__rec *r) {
  return fsc__rec_is_compact(r) ? FSC__REC_CHDR : sizeof(struct fsc__rec);
}
/* Payload bytes (unchecked: a full header's may be damaged). */
static inline uint64_t fsc__rec_size(const struct fsc__rec *r) {
  return fsc__rec_is_compact(r) ? FSC__REC_CSIZE : r->fsize;
}
static inline const uint8_t *fsc__rec_pl(const struct fsc__rec *r) {
  return (const uint8_t *)r + fsc__rec_hsize(r);
}
/* Total bytes of a record of n payload bytes in a file that writes
 * compact records (compact) or not. */
static inline uint64_t fsc__rec_total_n(bool compact, uint64_t n) {
  return compact && n == FSC__REC_CSIZE ? FSC__REC_CHDR + FSC__REC_CSIZE
                                        : FSC__REC_TOTAL(n);
}
/* Total bytes of record r (its size checked <= 2^40 first). */
static inline uint64_t fsc__rec_total(const struct fsc__rec *r) {
  return fsc__rec_is_compact(r) ? FSC__REC_CHDR + FSC__REC_CSIZE
                                : FSC__REC_TOTAL(r->fsize);
}
/* Is r in the form its file writes (compact: the file's version is
 * FSC__DATA_VERSION_COMPACT)?  Else it is damage. */
static inline bool fsc__rec_form_ok(bool compact, const struct fsc__rec *r) {
  return fsc__rec_is_compact(r) ? compact
                                : !(compact && r->fsize == FSC__REC_CSIZE);
}
/* The close word of the counter record r, or NULL if it has none
 * (fsc__ctr_cwoff; r's ctl has FSC__CTR_FLAG). */
static inline uint64_t *fsc__ctr_cw(const struct fsc__rec *r) {
  uint64_t n = fsc__rec_size(r);
  uint64_t o = fsc__ctr_cwoff(fsc__rec_pl(r), n);
  return o ? (uint64_t *)(uintptr_t)(fsc__rec_pl(r) + o) : NULL;
}
/* The header of the record whose n payload bytes are at pl, allocated by
 * fsc__rec_alloc (sealed or not): a compact record's 8 bytes before pl
 * hold rtype with FSC__REC_COMPACT, a full one's hold its size field, 0
 * or n = 8, whose low byte never has that bit. */
static inline struct fsc__rec *fsc__rec_of_pl(const uint8_t *pl,
                                              uint64_t n) {
  if (n == FSC__REC_CSIZE && (pl[-(int)FSC__REC_CHDR] & FSC__REC_COMPACT))
    return (struct fsc__rec *)(uintptr_t)(pl - FSC__REC_CHDR);
  return (struct fsc__rec *)(uintptr_t)(pl - sizeof(struct fsc__rec));
}

/*
 * A bounded (cache) dict's state, in the index header at
 * FSC__CACHE_HDR_OFF (doc/FORMAT.md, "The cache block"); all zero in
 * every other collection.  policy and the bounds are written once, when
 * the dict is created; the counters move with ck_pr atomics
 * (struct/hash_evict.c, coll/cache.c).
 */
#define FSC__CACHE_HDR_OFF 3072u
struct fsc__cache_hdr {
  /* written once (read by every get): one cache line */
  uint64_t policy;     /* FSC_CACHE_*; 0: not a cache */
  uint64_t max_items;  /* 0: no item bound */
  uint64_t max_bytes;  /* 0: no byte bound */
  uint64_t clk_off;    /* index file offset of the clock words */
  uint64_t clk_n;      /* clock words (u32), a power of two */
  uint64_t sk_off;     /* admission: index file offset of the frequency
                          sketch (struct fsc__sketch_hdr, then sk_n words);
                          0: no admission filter (and files before it) */
  uint64_t sk_n;       /* sketch words (u64, 16 4-bit counters), a power
                          of two */
  uint64_t reserved0;
  /* moved by writers: the next line */
  uint64_t items;      /* live keys plus inserts in flight (reserved) */
  uint64_t bytes;      /* their records' bytes (reserved) */
  uint64_t tick;       /* logical clock: +1 per insert */
  uint64_t evictions;  /* keys evicted, ever */
  uint64_t fifo_pos;   /* FIFO: the data offset the oldest key is at or
                          above (a hint, only grows) */
  uint64_t recent;     /* LFU: inserts ever; the next ring entry */
  uint64_t expirations; /* expired keys reclaimed, ever (any dict) */
  uint64_t has_ttl;    /* 1 once a key with a deadline was written: writers
                          then sweep (any dict) */
};
/* The frequency sketch's own line (at sk_off), then its words: moved by
 * inserters only (struct/hash_evict.c). */
struct fsc__sketch_hdr {
  uint64_t adds;       /* increments since the last halving */
  uint64_t rejects;    /* new keys not admitted, ever (this generation) */
  uint64_t halvings;   /* halvings done, ever (this generation) */
  uint64_t reserved[5];
};
/* Compute-once claims (every dict): FSC__CLAIMS pairs of u32 words, the
 * claim's sequence (a futex word) then the claimer's pid (coll/cache.c). */
#define FSC__CLAIM_OFF 3200u
#define FSC__CLAIMS 64u
/* LFU: the slots (tag | offset) of the last FSC__RECENT keys inserted, a
 * ring written round by inserters (struct/hash_evict.c). */
#define FSC__RECENT_OFF 3712u
#define FSC__RECENT 32u

#endif /* FSC_FORMAT_H */
