/*
 * internal.h - what the library's source files share and users never see:
 * the on-disk header and record structures (doc/FORMAT.md is their prose
 * twin), the handle, and the fsc__ internal functions of each module.
 *
 * Naming: fsc__noun_verb for internal non-static symbols (libuv's uv__).
 */
#ifndef FSC_INTERNAL_H
#define FSC_INTERNAL_H

#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <endian.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <ck_pr.h>
#ifdef FSC_TSAN
#include "ck_pr_tsan.h" /* --enable-tsan: loads/stores TSan can see */
#endif

#include "fscollections.h"

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
 * A slot of the list's pointer array (one aligned 64-bit word):
 *   a record offset (multiple of 8, >= FSC__HDR_SIZE), with bit 0 set once a
 *     structural change has frozen the slot for copying;
 *   0                    never used;
 *   (tag << 3) | 4       empty, emptied by the structural change that
 *                        started epoch `tag` (stale appenders detect it);
 *   2                    FENCE: a structural change in progress has closed
 *                        the slot after the last element to appenders.
 */
#define FSC__SLOT_FROZEN UINT64_C(1)
#define FSC__SLOT_FENCE UINT64_C(2)
#define FSC__SLOT_EMPTY_FLAG UINT64_C(4)
#define FSC__SLOT_EMPTY(tag)                                                 \
  ((((uint64_t)(tag) & FSC__LW_EPOCH_MASK) << 3) | FSC__SLOT_EMPTY_FLAG)
#define FSC__SLOT_IS_VALUE(s) ((s) >= FSC__HDR_SIZE && ((s) & 6u) == 0)
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
};

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
  uint64_t reserved0[3];
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
/* Compute-once claims (every dict): FSC__CLAIMS pairs of u32 words, the
 * claim's sequence (a futex word) then the claimer's pid (coll/cache.c). */
#define FSC__CLAIM_OFF 3200u
#define FSC__CLAIMS 64u
/* LFU: the slots (tag | offset) of the last FSC__RECENT keys inserted, a
 * ring written round by inserters (struct/hash_evict.c). */
#define FSC__RECENT_OFF 3712u
#define FSC__RECENT 32u

/* cstate: a compaction holds the lock and is renaming new files into
 * place (MOVING), or has finished: these files are a retired generation
 * and the collection lives in the files now at its paths (MOVED). */
#define FSC__CS_MOVING (UINT64_C(1) << 62)
#define FSC__CS_MOVED (UINT64_C(2) << 62)
#define FSC__CS_GEN(s) ((s) & ((UINT64_C(1) << 62) - 1))

/* A record in the data file: this header, the payload, zero padding to 8. */
struct fsc__rec {
  uint8_t type;       /* fsc_type of the payload */
  uint8_t flags;      /* FSC__REC_DELETED; not covered by the checksum */
  uint16_t reserved;  /* 0 */
  uint32_t checksum;  /* fsc__rec_checksum() */
  uint64_t size;      /* payload bytes */
};
#define FSC__REC_DELETED 0x1u
#define FSC__REC_ALIGN 8u
#define FSC__REC_TOTAL(payload)                                              \
  ((sizeof(struct fsc__rec) + (uint64_t)(payload) + 7u) & ~UINT64_C(7))

/* Internal only, never returned to users: the generation a handle used
 * was compacted away (its files are MOVED).  The public call follows the
 * handle to the new files and runs again (FSC__GEN). */
#define FSC__EMOVED (-30999)

/* ------------------------------------------------------------------ */
/* error.c                                                             */
/* ------------------------------------------------------------------ */

/* Record a detailed message for the calling thread and return `code`.
 * Cold: the paths that call it are the unlikely ones. */
int fsc__err(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), cold));
/* Map an errno value to an fsc code, recording "what: strerror(errno)". */
int fsc__err_errno(int err, const char *what, const char *path)
    __attribute__((cold));
/* FSC_EKEY with "KeyError: '<at most 64 bytes of the key>'", formatted
 * without printf (missing keys are common). */
int fsc__err_keyerror(const void *key, size_t n);

/* Thread-local state the hot paths touch: initial-exec, so an access is
 * one %fs-relative load rather than a call to __tls_get_addr.  Only a few
 * bytes use it (static TLS is scarce for a dlopen'ed library); the message
 * buffer stays in error.c with the default model. */
#define FSC__TLS_FAST __attribute__((tls_model("initial-exec")))
/* The code of the thread's recorded failure; 0: none, and no message. */
extern _Thread_local int fsc__err_code FSC__TLS_FAST;
void fsc__err_reset(void);
/* Clear the thread's message (at the start of a public call).  Inline: a
 * load and a branch when there is nothing to clear, the common case. */
static inline void fsc__err_clear(void) {
  if (__builtin_expect(fsc__err_code != 0, 0))
    fsc__err_reset();
}
/* The code of the thread's most recent fsc__err (for NULL-returning
 * helpers such as fsc__ptr). */
int fsc__err_last(void);

/* ------------------------------------------------------------------ */
/* value.c - element types, encoding, validation, ordering             */
/* ------------------------------------------------------------------ */

/* The hot helpers are inline here (get, append and set run through them
 * on every call); value.c keeps the rest. */

/* Is `t` a storable value type (INT32..REF)? */
static inline bool fsc__type_valid(int t) {
  return t >= FSC_TYPE_INT32 && t <= FSC_TYPE_REF;
}
/* Is `t` an acceptable collection element type (a value type or ANY)? */
static inline bool fsc__gen_type_valid(int t) {
  return fsc__type_valid(t) || t == FSC_TYPE_ANY;
}
/* Fixed payload size of a type, or 0 for variable-size types. */
static inline size_t fsc__type_fixed_size(fsc_type t) {
  switch (t) {
  case FSC_TYPE_INT32:
    return 4;
  case FSC_TYPE_INT64:
  case FSC_TYPE_FLOAT:
    return 8;
  case FSC_TYPE_INT128:
    return 16;
  case FSC_TYPE_BOOL:
    return 1;
  default:
    return 0;
  }
}

/*
 * Check that `v` may be stored in a collection of element type `coll`:
 * the type matches (any value type for ANY), strings are valid UTF-8, JSON
 * parses (jansson), refs have the ref://fscollection:<kind>?path=<p> form.
 * Returns 0 or FSC_ETYPE / FSC_EINVAL with a message in the words of the
 * Python fscollections package: "Expected float for float, got string".
 */
int fsc__value_check_full(fsc_type coll, const fsc_value *v);
static inline int fsc__value_check(fsc_type coll, const fsc_value *v) {
  /* A fixed-size value of the right type has nothing more to check. */
  if (__builtin_expect(v && (v->type == coll || coll == FSC_TYPE_ANY) &&
                           fsc__type_fixed_size(v->type) != 0, 1))
    return 0;
  return fsc__value_check_full(coll, v);
}
/* Encoded payload size of a checked value. */
static inline size_t fsc__value_size(const fsc_value *v) {
  size_t f = fsc__type_fixed_size(v->type);
  return f ? f : v->u.buf.len;
}
/* Encode a checked value's payload (little-endian) into dst. */
static inline void fsc__value_encode(const fsc_value *v, void *dst) {
  uint8_t *d = dst;
  switch (v->type) {
  case FSC_TYPE_INT32: {
    uint32_t x = htole32((uint32_t)v->u.i32);
    memcpy(d, &x, 4);
    break;
  }
  case FSC_TYPE_INT64:
  case FSC_TYPE_FLOAT: { /* i64 and f: the union's first 8 bytes */
    uint64_t x;
    memcpy(&x, &v->u, 8);
    x = htole64(x);
    memcpy(d, &x, 8);
    break;
  }
  case FSC_TYPE_INT128: {
    uint64_t lo = htole64(v->u.i128.lo), hi = htole64((uint64_t)v->u.i128.hi);
    memcpy(d, &lo, 8);
    memcpy(d + 8, &hi, 8);
    break;
  }
  case FSC_TYPE_BOOL:
    d[0] = v->u.b ? 1 : 0;
    break;
  default:
    if (v->u.buf.len)
      memcpy(d, v->u.buf.ptr, v->u.buf.len);
    break;
  }
}
/* Decode a payload of type t and n bytes; variable-size values become
 * views of `src`.  Returns 0 or FSC_ECORRUPT (bad size for a fixed type,
 * a bool byte other than 0 or 1, an unknown type).  Never reads outside
 * [src, src + n). */
static inline int fsc__value_decode(fsc_type t, const void *src, uint64_t n,
                                    fsc_value *out) {
  const uint8_t *s = src;
  if (__builtin_expect(t == FSC_TYPE_INT64 || t == FSC_TYPE_FLOAT, 1)) {
    /* The common fixed-size case first, straight through. */
    uint64_t x;
    if (n != 8)
      return FSC_ECORRUPT;
    memcpy(&x, s, 8);
    x = le64toh(x);
    memset(out, 0, sizeof *out);
    out->type = t;
    memcpy(&out->u, &x, 8); /* i64 and f: the union's first 8 bytes */
    return 0;
  }
  size_t f = fsc__type_fixed_size(t);
  if (!fsc__type_valid(t) || (f && n != f))
    return FSC_ECORRUPT;
  memset(out, 0, sizeof *out); /* constant size: a few stores */
  out->type = t;
  switch (t) {
  case FSC_TYPE_INT32: {
    uint32_t x;
    memcpy(&x, s, 4);
    out->u.i32 = (int32_t)le32toh(x);
    break;
  }
  case FSC_TYPE_INT128: {
    uint64_t lo, hi;
    memcpy(&lo, s, 8);
    memcpy(&hi, s + 8, 8);
    out->u.i128.lo = le64toh(lo);
    out->u.i128.hi = (int64_t)le64toh(hi);
    break;
  }
  case FSC_TYPE_BOOL:
    if (s[0] > 1)
      return FSC_ECORRUPT;
    out->u.b = s[0] != 0;
    break;
  default:
    if (n > SIZE_MAX)
      return FSC_ECORRUPT;
    out->u.buf.ptr = s;
    out->u.buf.len = (size_t)n;
    break;
  }
  return 0;
}
/* Does the stored payload (t, src, n) equal value v? (fsc_value_equal) */
bool fsc__value_equals_payload(const fsc_value *v, fsc_type t,
                               const void *src, uint64_t n);
/* Order two values for sort: *cmp < 0, 0, > 0.  FSC_ETYPE if they cannot
 * be ordered ("'<' not supported between instances of 'str' and 'int'"
 * for a < b with a str and b an int, as Python words it). */
int fsc__value_compare(const fsc_value *a, const fsc_value *b, int *cmp);

/* ------------------------------------------------------------------ */
/* map.c - the two files, their mappings, growth                       */
/* ------------------------------------------------------------------ */

#define FSC__MAX_VIEWS 48

struct fsc__view {
  uint8_t *base;
  uint64_t len; /* bytes mapped (may exceed the file: only published
                   capacity is ever touched) */
};

/* One collection file and the views of it this handle has mapped.  Views
 * are never unmapped before the handle closes, so pointers into any of
 * them stay valid (invariant 7). */
struct fsc__file {
  int fd;
  int prot;
  struct fsc__view *cur;            /* newest view; ck_pr_load_ptr */
  uint64_t safe;                    /* bytes known published and mapped:
                                       min(capacity seen, cur->len) */
  const uint64_t *capword;          /* the header word publishing the
                                       file's capacity (data cap / icap) */
  pthread_mutex_t mu;               /* guards creating views */
  struct fsc__view views[FSC__MAX_VIEWS];
  unsigned nviews;
};

int fsc__file_map(struct fsc__file *f, uint64_t need);
void fsc__file_unmap(struct fsc__file *f);
/* Slow path of fsc__ptr: re-read the published capacity, map more if
 * needed; FSC_ECORRUPT if [0, end) lies beyond the published capacity. */
int fsc__file_ensure(struct fsc__file *f, uint64_t end);
/* Grow the file to at least `size` bytes with fallocate (never SIGBUS,
 * ENOSPC is an error whose message names `path`, the file's path). */
int fsc__file_grow(struct fsc__file *f, uint64_t size, const char *path);
/* fstat(2) of the file: 0, -1 (errno set), or FSC__EMOVED once the
 * descriptor of a retired generation is closed. */
int fsc__file_stat(struct fsc__file *f, struct stat *st);
/* msync (if msync_too) and fsync: 0, an error, or FSC__EMOVED (retired). */
int fsc__file_sync(struct fsc__file *f, bool msync_too);
/* Retiring a generation: map the whole file, then close its descriptor
 * (fd = -1) so that a process following many compactions does not run
 * out of descriptors.  Every later user of the descriptor (view_add,
 * grow, stat, sync, the structure lock) checks fd under mu and gets
 * FSC__EMOVED, so a closed number that open(2) reuses is never touched. */
void fsc__file_close_fd(struct fsc__file *f);

/* ------------------------------------------------------------------ */
/* The handle shared by list, dict and set                             */
/* ------------------------------------------------------------------ */

struct fsc__handle;

/* One generation of an open collection: its two files as this handle
 * mapped them.  Compaction moves a handle to a new generation; the old
 * one stays mapped (views into it stay valid) until the handle closes. */
struct fsc__gen {
  enum fsc__kind kind;
  fsc_type type;              /* element type, ANY for heterogeneous */
  bool closed;
  bool rdonly;
  bool temp;                  /* base_path NULL: files already unlinked */
  fsc_durability durability;
  char *path;                 /* base path (NULL for temporary) */
  char *data_path, *index_path;
  struct fsc__file data, index;
  pthread_mutex_t mu;         /* in-process half of the structure lock,
                                 also guards view creation */
  int pfd;                    /* presence lock: the data file opened once
                                 more and never mapped, so that closing it
                                 drops the lock (a mapping would keep its
                                 open file description, and lock, alive) */
  pid_t owner;                /* process whose lock descriptions we hold */
  uint64_t repaired;
  uint64_t rep[FSC__REP_N];   /* what recovery repaired at this open, by
                                 kind (enum fsc__rep) */
  bool last_close_clean;
  bool check_reads;           /* verify each record's checksum on read: a
                                 read-only first opener found the marker
                                 missing and cannot repair (coll.c) */
  fsc_type key_type;          /* dict keys: STRING or BYTES */
  fsc_options opts;           /* as opened (to follow a compaction) */
  double threshold;           /* compaction_threshold; 0: off */
  bool auto_compact;          /* swap-and-pop (fixed-size lists) */
  const struct fsc__kind_ops *ops; /* the kind's structure */
  struct fsc__handle *h;      /* the handle this generation belongs to */
  struct fsc__gen *next;     /* older retired generations */
  uint64_t chits, cmisses;    /* a cache dict's gets through this handle
                                 (coll/cache.c; atomic, process-local) */
};

/*
 * What differs between the kinds below the public API, behind one table:
 * the file layer (gen.c's open and close, compact.c, verify.c) reaches a
 * kind's structure only through it, so nothing in src/file calls up into
 * src/struct.  struct/list_ops.c fills fsc__list_ops, struct/hash_ops.c
 * fsc__dict_ops and fsc__set_ops; coll/coll.c hands the table of every kind
 * (indexed by enum fsc__kind) to the handles it opens.
 */
struct fsc__vpass;  /* file/verify.h */
struct fsc__vtally;
struct fsc__kind_ops {
  enum fsc__kind kind;
  /* Lay out a new collection's index (files private to the creator). */
  int (*init)(struct fsc__gen *g);
  /* Structure lock held, no other process has the collection open: the
   * first opener (unclean: the marker was missing) or the last closer
   * after a writer died (unclean = true).  Finishes what a dead process
   * left half-done, checks and repairs, recounts; reports in ih->rep. */
  int (*recover)(struct fsc__gen *g, bool unclean);
  /* The last closer, no writer died: make the counters exact (NULL: the
   * kind keeps them exact by construction). */
  int (*recount)(struct fsc__gen *g);
  /* Compaction, structure lock held: stop lock-free writers (readers go
   * on); *state is the kind's own, handed to copy and to thaw or done. */
  int (*freeze)(struct fsc__gen *g, void **state);
  /* Copy the frozen live elements into the new generation ng, in order. */
  int (*copy)(struct fsc__gen *g, void *state, struct fsc__gen *ng);
  /* The compaction gave up: let writers in again; frees state. */
  void (*thaw)(struct fsc__gen *g, void *state);
  /* The compaction succeeded (g stays frozen for good): frees state. */
  void (*done)(void *state);
  /* verify.c: check the index and every record it names, noting problems
   * in the pass; then, with REPAIR, fix what the pass found. */
  void (*vscan)(struct fsc__vpass *p);
  int (*vrepair)(struct fsc__vpass *p, bool *changed,
                 struct fsc__vtally *t);
};

/* The rows (struct/list_ops.c, struct/hash_ops.c). */
extern const struct fsc__kind_ops fsc__list_ops, fsc__dict_ops,
    fsc__set_ops;

/* A public handle (fsc_coll, and its typed faces fsc_list, fsc_dict,
 * fsc_set): the generation in use, and the retired ones, kept mapped until
 * close. */
struct fsc__handle {
  struct fsc__gen *cur;       /* ck_pr_load_ptr; never NULL once open */
  pthread_mutex_t mu;         /* guards following and retiring */
  const struct fsc__kind_ops *const *kinds; /* by enum fsc__kind */
};

/* The public handle types are never defined: an fsc_coll, fsc_list,
 * fsc_dict or fsc_set pointer points at a struct fsc__handle, so that
 * converting between the faces is a cast and the object is only ever
 * accessed as what it is. */
#define FSC__H(p) ((struct fsc__handle *)(uintptr_t)(const void *)(p))

static inline struct fsc__gen *fsc__cur(const struct fsc__handle *h) {
  return (struct fsc__gen *)ck_pr_load_ptr(
      (struct fsc__gen **)(uintptr_t)&h->cur);
}

/* handle.c */
int fsc__handle_open(struct fsc__handle *h,
                     const struct fsc__kind_ops *const *kinds,
                     enum fsc__kind kind,
                     const char *base_path, const fsc_options *opts);
int fsc__handle_close(struct fsc__handle *h, bool destroy);
/* Release everything (after close, or for a handle never closed). */
void fsc__handle_free(struct fsc__handle *h);
/* Move h from generation `old` to the files now at its path (no-op if
 * another thread did).  Errors: those of open, FSC_ECORRUPT if the path
 * holds another collection now. */
int fsc__handle_follow(struct fsc__handle *h, struct fsc__gen *old);
/* Close the descriptors of retired generations no thread is locking. */
void fsc__handle_sweep(struct fsc__handle *h);
/* Install a generation built by this process's compaction. */
void fsc__handle_install(struct fsc__handle *h, struct fsc__gen *old,
                         struct fsc__gen *nc);
/* Unmap the retired generations (fsc_*_reclaim). */
int fsc__handle_reclaim(struct fsc__handle *h);

/*
 * The body of a public call on handle hp (an fsc_coll, fsc_list,
 * fsc_dict or fsc_set pointer: see FSC__H): evaluates `call` with `c` bound
 * to the current generation; when that generation was compacted away
 * (FSC__EMOVED), follows the handle and runs `call` again.  `call` must
 * have changed nothing visible when it returns FSC__EMOVED.
 */
#define FSC__GEN(hp, call)                                                  \
  do {                                                                      \
    if (__builtin_expect(!(hp), 0)) {                                       \
      fsc__err_clear();                                                     \
      return fsc__gen_check_fail(NULL, false);                             \
    }                                                                       \
    for (;;) {                                                              \
      struct fsc__gen *c = fsc__cur(FSC__H(hp));                           \
      int gen_rc_ = (call);                                                 \
      if (__builtin_expect(gen_rc_ != FSC__EMOVED, 1))                      \
        return gen_rc_;                                                     \
      fsc__err_clear();                                                     \
      if ((gen_rc_ = fsc__handle_follow(FSC__H(hp), c)) != 0)               \
        return gen_rc_;                                                     \
    }                                                                       \
  } while (0)

static inline struct fsc__data_hdr *fsc__dhdr(struct fsc__gen *c) {
  return (struct fsc__data_hdr *)c->data.views[0].base;
}
static inline struct fsc__index_hdr *fsc__ihdr(struct fsc__gen *c) {
  return (struct fsc__index_hdr *)c->index.views[0].base;
}
static inline struct fsc__cache_hdr *fsc__chdr(const struct fsc__gen *c) {
  return (struct fsc__cache_hdr *)(void *)(c->index.views[0].base +
                                           FSC__CACHE_HDR_OFF);
}

/* Pointer to [off, off+n) of a file, never beyond its published capacity
 * (so never a SIGBUS); remaps (slow path) when the file has grown.  NULL
 * with FSC_ECORRUPT (out of bounds) or FSC_ENOMEM recorded on failure. */
static inline void *fsc__ptr(struct fsc__gen *c, struct fsc__file *f,
                             uint64_t off, uint64_t n) {
  (void)c;
  if (off > UINT64_MAX / 2 || n > UINT64_MAX / 2 ||
      off + n > ck_pr_load_64(&f->safe)) {
    /* (A huge off or n must not wrap off + n into range: it is out.) */
    if (fsc__file_ensure(f, off > UINT64_MAX / 2 || n > UINT64_MAX / 2
                                ? UINT64_MAX
                                : off + n) != 0)
      return NULL;
  }
  return ((struct fsc__view *)ck_pr_load_ptr(&f->cur))->base + off;
}

/* map.c, structure lock held: make the index file hold at least `end`
 * bytes (its capacity doubled, page-rounded), then publish the new
 * capacity in the index header (icap).  For a region handed out at the
 * index tail. */
int fsc__index_grow(struct fsc__gen *c, uint64_t end);

/* fsc__ptr's fast path alone: NULL, with nothing recorded, where fsc__ptr
 * would take its slow path. */
static inline void *fsc__ptr_try(struct fsc__file *f, uint64_t off,
                                 uint64_t n) {
  if (off > UINT64_MAX / 2 || n > UINT64_MAX / 2 ||
      off + n > ck_pr_load_64(&f->safe))
    return NULL;
  return ((struct fsc__view *)ck_pr_load_ptr(&f->cur))->base + off;
}

/* gen.c - a generation's open, close, the clean-close protocol.  The
 * generation belongs to handle h (whose kind table gives its operations);
 * kind 0 opens whatever the files hold.  `suffix` (NULL for none) is
 * appended to both file names: compaction builds the next generation in
 * P.data.fscollection.compact and P.index.fscollection.compact. */
int fsc__gen_open(struct fsc__gen *c, struct fsc__handle *h,
                  enum fsc__kind kind, const char *base_path,
                  const fsc_options *opts);
int fsc__gen_open_suffix(struct fsc__gen *c, struct fsc__handle *h,
                         enum fsc__kind kind, const char *base_path,
                         const char *suffix, const fsc_options *opts);
/* Release a generation's resources (mappings, descriptors, paths) without
 * the close protocol: a retired generation, or one compaction abandons. */
void fsc__gen_release(struct fsc__gen *c);
/* Has this generation been compacted away?  (One load; readers call it
 * only when they see a frozen word.) */
static inline bool fsc__gen_moved(struct fsc__gen *c) {
  return (ck_pr_load_64(&((struct fsc__index_hdr *)c->index.views[0].base)
                             ->cstate) & FSC__CS_MOVED) != 0;
}
int fsc__gen_close(struct fsc__gen *c, bool destroy);
/* The failure half of fsc__gen_check: records and returns the error. */
int fsc__gen_check_fail(const struct fsc__gen *c, bool write)
    __attribute__((cold));
/* Public-call prologue: FSC_ECLOSED on a closed handle.  Inline: it runs
 * at the start of every public call. */
static inline int fsc__gen_check(const struct fsc__gen *c, bool write) {
  fsc__err_clear();
  if (__builtin_expect(!c || c->closed || (write && c->rdonly), 0))
    return fsc__gen_check_fail(c, write);
  return 0;
}
/* The public-call prologue on a handle of any face (fsc_coll, fsc_list,
 * fsc_dict, fsc_set): FSC_EINVAL for NULL, FSC_ECLOSED, FSC_EROFS. */
#define CHECK(hp, write)                                                    \
  do {                                                                      \
    int check_rc_ =                                                         \
        fsc__gen_check((hp) ? fsc__cur(FSC__H(hp)) : NULL, (write));       \
    if (check_rc_)                                                          \
      return check_rc_;                                                     \
  } while (0)

/* The same on a generation (inside FSC__GEN). */
#define CHECK_C(c, write)                                                   \
  do {                                                                      \
    int check_rc_ = fsc__gen_check((c), (write));                          \
    if (check_rc_)                                                          \
      return check_rc_;                                                     \
  } while (0)

int fsc__gen_metrics(struct fsc__gen *c, fsc_metrics *out);
/* Record what a recovery repaired, by kind (enum fsc__rep; the AT_CLOSE
 * entry is ignored): the index header's rep[] and `repaired` (their sum),
 * read by this and later handles' metrics. */
void fsc__gen_note_repairs(struct fsc__gen *c, const uint64_t *rep);

/* compact.c */
/* Compact generation c of handle h into new files and move h to them.
 * With `automatic`, only if the threshold is still crossed once the lock
 * is held.  FSC__EMOVED if another process compacted c first. */
int fsc__compact(struct fsc__gen *c, bool automatic);

/* switch.c - the generation switch's state on disk */
/* Under the structure lock (taken by fsc__lock) on a generation whose
 * cstate is MOVING, that compaction's process died: finish it (the new
 * data file is in place: FSC__EMOVED) or undo it (0). */
int fsc__switch_resolve(struct fsc__gen *c);
/* The same at open, through the index descriptor ifd (flock held). */
int fsc__switch_resolve_fd(int ifd, bool rdonly, const char *data_path,
                           const char *index_path);
/* Remove P.*.fscollection.compact (structure lock held, cstate clear). */
void fsc__switch_unlink_leftovers(const char *data_path,
                                  const char *index_path);
/* fsync the directory holding path (after renames). */
void fsc__switch_fsync_dir(const char *path);

/* gen_files.c - what an open finds or makes at a collection's paths */
/* Find (or, with FSC_CREATE, create: *fresh) the collection's two files,
 * take the structure flock on the index, check and map both headers.  On
 * failure the caller closes what is open (dropping the lock). */
int fsc__gen_files_open(struct fsc__gen *c, const fsc_options *o,
                        const char *suffix, bool *fresh);
/* Remove the files of a collection this open created (lock held). */
void fsc__gen_files_unmake(struct fsc__gen *c);
/* a + b, malloc'ed (NULL: out of memory). */
char *fsc__concat(const char *a, const char *b);
/* After a write that left dead bytes: compact if the threshold says so. */
void fsc__compact_maybe(struct fsc__gen *c);
int fsc__gen_sync(struct fsc__gen *c);
/* After a write: sync if durability is ALWAYS, compact if the write left
 * the collection over compaction_threshold (compact.c). */
int fsc__compact_after_write(struct fsc__gen *c);
static inline int fsc__gen_after_write(struct fsc__gen *c) {
  if (__builtin_expect(c->durability == FSC_DURABLE_ALWAYS ||
                           c->threshold > 0, 0))
    return fsc__compact_after_write(c);
  return 0;
}

/* lock.c - the structure lock: handle mutex + flock(LOCK_EX) on the index
 * file, re-taken on a fresh open file description after fork(). */
int fsc__lock(struct fsc__gen *c);
/* flock(fd, op) waiting at most timeout_ms (< 0: no limit): LOCK_NB
 * first, then a short spin and sleeps backing off to 1 ms.  0, or
 * FSC_ETIMEDOUT naming `path` and the holder's pid (from /proc/locks). */
int fsc__flock_timed(int fd, int op, int64_t timeout_ms, const char *path);
/* Drop a flock (LOCK_UN, retried on EINTR). */
void fsc__flock_unlock(int fd);
void fsc__unlock(struct fsc__gen *c);
/* In a child after fork, give this process its own lock descriptions. */
int fsc__lock_refork(struct fsc__gen *c);
/* Take the presence lock (shared) on a new description of our own and
 * drop the old one (which a child forked since may share). */
int fsc__lock_presence_refork(struct fsc__gen *c);
/* How many open file descriptions hold the presence lock (/proc/locks). */
uint32_t fsc__lock_count_holders(struct fsc__gen *c);

/* record.c - records in the data file */
uint32_t fsc__rec_checksum(uint8_t type, const void *payload, uint64_t n);
/* Reserve space (lock-free CAS on the tail, growing the file if needed),
 * encode v there and return the record's offset. */
int fsc__rec_write(struct fsc__gen *c, const fsc_value *v, uint64_t *off);
/* Reserve a record of n payload bytes; *payload points at them, to be
 * filled by the caller and then sealed. */
int fsc__rec_alloc(struct fsc__gen *c, uint64_t n, uint64_t *off,
                   uint8_t **payload);
/* Write the record header (type, size, checksum) and zero the padding of
 * a filled payload.  Also after changing an unpublished record. */
void fsc__rec_seal(uint8_t *payload, uint8_t type, uint64_t n);
/* fsc__rec_locate when the fast path cannot tell: remaps if the file has
 * grown, or records FSC_ECORRUPT. */
int fsc__rec_locate_slow(struct fsc__gen *c, uint64_t off,
                         const struct fsc__rec **rp);
/* fsc__rec_locate's fast path alone: the record at off if all of it lies
 * below the bytes known published and mapped, so that the newest view
 * covers it (what the two fsc__ptr calls of the slow path find, with one
 * load of each word, in fsc__ptr's order: `safe`, then the view); NULL,
 * with nothing recorded, when the slow path must decide. */
static inline const struct fsc__rec *fsc__rec_locate_try(struct fsc__gen *c,
                                                         uint64_t off) {
  uint64_t safe = ck_pr_load_64(&c->data.safe);
  if (__builtin_expect(c->check_reads, 0))
    return NULL; /* unverified: the slow path checks the checksum */
  if (__builtin_expect(off < FSC__HDR_SIZE || (off & 7u) || off >= safe ||
                           safe - off < sizeof(struct fsc__rec), 0))
    return NULL;
  const struct fsc__rec *r =
      (const struct fsc__rec *)(((struct fsc__view *)ck_pr_load_ptr(
                                     &c->data.cur))->base + off);
  uint64_t n = r->size;
  if (__builtin_expect(n > (UINT64_C(1) << 40) ||
                           FSC__REC_TOTAL(n) > safe - off, 0))
    return NULL;
  return r;
}
/* The record header at off, bounds-checked (size within the capacity). */
static inline int fsc__rec_locate(struct fsc__gen *c, uint64_t off,
                                  const struct fsc__rec **rp) {
  const struct fsc__rec *r = fsc__rec_locate_try(c, off);
  if (__builtin_expect(r != NULL, 1)) {
    *rp = r;
    return 0;
  }
  return fsc__rec_locate_slow(c, off, rp);
}
/* The record at off does not decode: record FSC_ECORRUPT. */
int fsc__rec_bad(uint64_t off) __attribute__((cold));
/* The record at `off`, bounds-checked against the data tail. */
static inline int fsc__rec_read(struct fsc__gen *c, uint64_t off,
                                fsc_value *out) {
  const struct fsc__rec *r;
  int rc = fsc__rec_locate(c, off, &r);
  if (rc)
    return rc;
  if (__builtin_expect(
          fsc__value_decode((fsc_type)r->type, r + 1, r->size, out) != 0, 0))
    return fsc__rec_bad(off);
  return 0;
}
/* Compaction: copy the record at off of c into the new generation nc
 * (its offset there in *noff, the copy's payload, type and size in *npl,
 * *type, *size).  A record whose checksum fails is FSC_ECORRUPT: sealing
 * the copy would make damage look sound. */
int fsc__rec_copy(struct fsc__gen *c, struct fsc__gen *nc, uint64_t off,
                  uint64_t *noff, uint8_t **npl, uint8_t *type,
                  uint64_t *size);
/* Does the record at off verify (bounds, type, checksum)? */
bool fsc__rec_verify(struct fsc__gen *c, uint64_t off);
/* ... and is it not flagged deleted (superseded by a later write, or
 * removed)?  What a list slot may name once no writer is between its
 * slot CAS and its retirement of the old record (a structural change
 * holds the list frozen, or no other process has it open). */
bool fsc__rec_verify_live(struct fsc__gen *c, uint64_t off);
/* Mark a record dead: flag it and move its bytes from live to dead. */
void fsc__rec_retire(struct fsc__gen *c, uint64_t off);
/* The same for a record known to hold `payload` bytes (a list of a fixed
 * size type): the header need not be read first. */
void fsc__rec_retire_sized(struct fsc__gen *c, uint64_t off,
                           uint64_t payload);

/* list_recover.c */
int fsc__list_init(struct fsc__gen *c);
int fsc__list_recover(struct fsc__gen *c, bool unclean);

#endif /* FSC_INTERNAL_H */
