/*
 * fscollections.h - the public API of libfscollections.
 *
 * Lists (and, in later releases, dicts and sets) stored in two files that every
 * process opening them maps with mmap(MAP_SHARED).  Readers never lock and make
 * no system call on the hot path; point writes (append, item assignment) are
 * lock-free compare-and-swap operations; structural changes (insert, pop, del,
 * slices, sort, reverse, clear, growth) take flock(2) on the index file.
 *
 * Conventions
 *  - Every function that can fail returns 0 (or a documented non-negative
 *    value) on success and a negative FSC_E* code on failure.
 *    fsc_strerror(code) gives the fixed text of a code; fsc_errmsg() gives
 *    the detailed message of the calling thread's last failure.
 *  - Handles are opaque.  A handle may be shared by the threads of a process;
 *    every function below is thread-safe unless it says otherwise.  Any number
 *    of processes may open the same base path at once.
 *  - Zero-copy views: a string, bytes, json or ref value returned by a get,
 *    pop or iteration points into the mapped data file.  The bytes it points
 *    to are immutable and stay valid until the handle that returned them is
 *    closed (fsc_list_close / fsc_list_destroy / fsc_list_free), whatever other
 *    threads or processes do to the collection meanwhile.  Views are NOT
 *    NUL-terminated.
 *
 * Caveats (read these)
 *  - fork(): a handle inherited by a child keeps working in the child.  The
 *    child takes its own lock file descriptions on first structural use.
 *    Do not fork while another thread of the process is inside an fsc_ call
 *    on the same handle.
 *  - Closing a handle while another thread of the same process is using it is
 *    undefined behaviour (as for close(2) on a file descriptor in use).  After
 *    close, every call on the handle returns FSC_ECLOSED until fsc_list_free.
 *  - Opening the same base path twice in one process gives two independent
 *    handles; both work and see each other's writes.
 *  - Stale locks cannot happen: flock(2) locks are released by the kernel when
 *    a process dies, and no per-process slot is kept in the files.
 *  - Files live on a local file system that supports mmap(MAP_SHARED),
 *    flock(2) and posix_fallocate(3).  Network file systems are not supported.
 *  - Only Linux is supported in this release (the open-process count reads
 *    /proc/locks; temporary collections reopen through /proc/self/fd).
 */
#ifndef FSCOLLECTIONS_H
#define FSCOLLECTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FSC_VERSION_MAJOR 0
#define FSC_VERSION_MINOR 1
#define FSC_VERSION_PATCH 0
#define FSC_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * The error table: one X-macro generates the codes and fsc_strerror().
 * Codes are negative and live in a private range, so they never collide with
 * -errno values.  The Python exception each one mirrors is in the comment.
 */
#define FSC_ERRNO_MAP(XX)                                                     \
  XX(EINDEX, -30900, "list index out of range")            /* IndexError */   \
  XX(EKEY, -30901, "key not found")                        /* KeyError */     \
  XX(ETYPE, -30902, "wrong value type")                    /* TypeError */    \
  XX(EVALUE, -30903, "value not found or not valid")       /* ValueError */   \
  XX(ECLOSED, -30904, "I/O operation on closed file.")     /* ValueError */   \
  XX(EINVAL, -30905, "invalid argument")                                      \
  XX(ENOMEM, -30906, "out of memory")                                         \
  XX(ENOSPC, -30907, "no space left to grow the collection files")            \
  XX(EIO, -30908, "input/output error")                                       \
  XX(ECORRUPT, -30909, "collection file is corrupt")                          \
  XX(EAGAIN, -30910, "resource temporarily unavailable")                      \
  XX(ETIMEDOUT, -30911, "timed out")                                          \
  XX(ENOENT, -30912, "collection does not exist")                             \
  XX(EACCES, -30913, "permission denied")                                     \
  XX(EKIND, -30914, "collection is of another kind")                          \
  XX(EVERSION, -30915, "unsupported file format version")                     \
  XX(EROFS, -30916, "collection is open read-only")

typedef enum fsc_errno {
#define FSC__ERR_ENUM(name, code, text) FSC_##name = (code),
  FSC_ERRNO_MAP(FSC__ERR_ENUM)
#undef FSC__ERR_ENUM
  FSC_OK = 0
} fsc_errno;

/* The fixed text of an error code (never NULL; unknown codes get a generic
 * text).  Thread-safe; the string is static. */
const char *fsc_strerror(int code);

/* The detailed message of the calling thread's most recent failed fsc_ call,
 * e.g. "Expected float for float, got string".  Never NULL ("" if none).
 * Valid until the same thread's next fsc_ call. */
const char *fsc_errmsg(void);

/* The library version as a string ("0.1.0"). */
const char *fsc_version(void);

/* ------------------------------------------------------------------------ */
/* Values                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * Element types.  A collection declares one when it is created (the seed's
 * `klass`); FSC_TYPE_ANY makes a heterogeneous collection that stores each
 * value's type with it.  The numbering is part of the file format.
 */
typedef enum fsc_type {
  FSC_TYPE_UNSPEC = 0, /* options only: "as the file says; ANY if new" */
  FSC_TYPE_INT32 = 1,  /* int32_t */
  FSC_TYPE_INT64 = 2,  /* int64_t */
  FSC_TYPE_INT128 = 3, /* fsc_int128 */
  FSC_TYPE_STRING = 4, /* UTF-8, validated on write */
  FSC_TYPE_BOOL = 5,   /* bool */
  FSC_TYPE_FLOAT = 6,  /* double */
  FSC_TYPE_BYTES = 7,  /* arbitrary bytes */
  FSC_TYPE_JSON = 8,   /* UTF-8 JSON text, validated on write */
  FSC_TYPE_REF = 9,    /* "ref://fscollection:<kind>?path=<base_path>" */
  FSC_TYPE_ANY = 15    /* collection type only: heterogeneous */
} fsc_type;

/* A signed 128-bit integer, two's complement: value = hi * 2^64 + lo. */
typedef struct fsc_int128 {
  uint64_t lo;
  int64_t hi;
} fsc_int128;

/*
 * A value passed in or handed out.  For STRING, BYTES, JSON and REF the
 * bytes are `u.buf.ptr[0 .. u.buf.len)`; on output they are a zero-copy view
 * (see "Zero-copy views" above).
 */
typedef struct fsc_value {
  fsc_type type;
  union {
    int32_t i32;
    int64_t i64;
    fsc_int128 i128;
    bool b;
    double f;
    struct {
      const void *ptr;
      size_t len;
    } buf;
  } u;
} fsc_value;

/* Value constructors (no allocation; `s` must outlive the call it is
 * passed to).  fsc_str() takes a NUL-terminated string. */
fsc_value fsc_i32(int32_t v);
fsc_value fsc_i64(int64_t v);
fsc_value fsc_i128(fsc_int128 v);
fsc_value fsc_bool(bool v);
fsc_value fsc_f64(double v);
fsc_value fsc_str(const char *s);
fsc_value fsc_strn(const char *s, size_t len);
fsc_value fsc_bytes(const void *p, size_t len);
fsc_value fsc_json(const char *text, size_t len);

/* The name of a type as the seed spells it: "int32", "int64", "int128",
 * "string", "bool", "float", "bytes", "json", "ref", "any". */
const char *fsc_type_name(fsc_type t);
/* Parse such a name; returns the type or FSC_EINVAL. */
int fsc_type_parse(const char *name);

/*
 * Equality of two values as the collections use it (count, index, remove,
 * contains, list equality): the same type and the same encoded bytes.  So in
 * an ANY list, int32 1, int64 1 and float 1.0 are three different values
 * (unlike Python, where 1 == 1.0); JSON compares as text.
 */
bool fsc_value_equal(const fsc_value *a, const fsc_value *b);

/* ------------------------------------------------------------------------ */
/* Options                                                                   */
/* ------------------------------------------------------------------------ */

/* fsc_options.flags */
#define FSC_CREATE 0x1u   /* create the collection if it does not exist */
#define FSC_RDONLY 0x2u   /* open read-only: every write returns FSC_EROFS */
#define FSC_EXCL 0x4u     /* with FSC_CREATE: fail (FSC_EINVAL) if it exists */

/* fsc_options.durability: when fsc_*_sync() runs by itself */
typedef enum fsc_durability {
  FSC_DURABLE_NONE = 0,     /* never; the page cache writes back in time */
  FSC_DURABLE_ON_CLOSE = 1, /* the last process to close syncs (default) */
  FSC_DURABLE_ALWAYS = 2    /* after every write, before it returns */
} fsc_durability;

/*
 * Options for opening a collection.  Versioned by `size` so that fields can
 * be added without breaking the ABI: always start from FSC_OPTIONS_INIT.
 * A NULL options pointer means FSC_OPTIONS_INIT.
 */
typedef struct fsc_options {
  size_t size;               /* sizeof(fsc_options) of the caller */
  fsc_type type;             /* element type; UNSPEC: the file's, ANY if new */
  unsigned flags;            /* FSC_CREATE | FSC_RDONLY | FSC_EXCL */
  unsigned mode;             /* permission bits of created files (0600) */
  fsc_durability durability; /* FSC_DURABLE_ON_CLOSE by default */
} fsc_options;

#define FSC_OPTIONS_INIT                                                      \
  { sizeof(fsc_options), FSC_TYPE_UNSPEC, FSC_CREATE, 0600,                   \
    FSC_DURABLE_ON_CLOSE }

/* ------------------------------------------------------------------------ */
/* Metrics                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct fsc_metrics {
  size_t size;                 /* set by the caller: sizeof(fsc_metrics) */
  uint64_t length;             /* elements (list) or keys */
  uint64_t live_bytes;         /* bytes of records the collection uses */
  uint64_t dead_bytes;         /* bytes of superseded or deleted records */
  double fragmentation_ratio;  /* dead / (live + dead), 0 when empty */
  uint64_t wasted_bytes;       /* dead bytes + index space not in use */
  uint64_t data_file_bytes;    /* size of P.data.fscollection */
  uint64_t index_file_bytes;   /* size of P.index.fscollection */
  uint64_t total_disk_usage_bytes; /* data + index */
  bool last_close_clean;       /* the previous session ended cleanly */
  uint32_t open_processes;     /* open file descriptions holding it (>= 1) */
  uint64_t generation;         /* bumped by compaction */
  uint64_t structural_epoch;   /* bumped by every structural change */
  uint64_t repaired_items;     /* what recovery repaired at this open */
  uint64_t reserved[8];        /* zero; for growth */
} fsc_metrics;

/* ------------------------------------------------------------------------ */
/* Slices                                                                    */
/* ------------------------------------------------------------------------ */

/* An omitted slice bound, as Python's None. */
#define FSC_NONE INT64_MIN

/* A Python slice: list[start:stop:step]; any field may be FSC_NONE.
 * step 0 is FSC_EVALUE ("slice step cannot be zero"). */
typedef struct fsc_slice {
  int64_t start, stop, step;
} fsc_slice;

#define FSC_SLICE(start, stop, step) ((fsc_slice){(start), (stop), (step)})

/* ------------------------------------------------------------------------ */
/* List                                                                      */
/* ------------------------------------------------------------------------ */

typedef struct fsc_list fsc_list;

/*
 * Open (and with FSC_CREATE, create) the list at `base_path`, which names the
 * files base_path.data.fscollection and base_path.index.fscollection.
 * base_path NULL creates a private temporary list: its files are created in a
 * new 0700 directory under $TMPDIR (default /tmp) and unlinked at once, so
 * nothing is left behind even after SIGKILL; children that inherit the
 * handle across fork() share it.
 * If the previous session did not close cleanly, the list is verified and
 * repaired before this returns (see fsc_metrics.repaired_items).
 * Errors: FSC_EINVAL (bad options), FSC_ENOENT (missing, no FSC_CREATE),
 * FSC_EACCES, FSC_EKIND (the files hold a dict or set), FSC_ETYPE (the file's
 * element type differs from opts->type), FSC_ECORRUPT, FSC_EVERSION,
 * FSC_ENOSPC, FSC_ENOMEM, FSC_EIO.
 * On success *out is a new handle; on failure *out is NULL.
 */
int fsc_list_open(const char *base_path, const fsc_options *opts,
                  fsc_list **out);

/*
 * Close the handle: the last process to close syncs (per durability) and
 * writes the clean-close marker.  The handle memory stays allocated, so every
 * later call returns FSC_ECLOSED; release it with fsc_list_free().  Views
 * handed out by this handle become invalid.  Closing twice returns
 * FSC_ECLOSED.  Not to be called while another thread uses the handle.
 */
int fsc_list_close(fsc_list *l);

/* Close the handle and delete both files (for a temporary list: just close).
 * Other processes that have the list open keep their mappings. */
int fsc_list_destroy(fsc_list *l);

/* Close the handle if open, then free it.  NULL is a no-op. */
void fsc_list_free(fsc_list *l);

/* The base path the handle was opened with (NULL for a temporary list). */
const char *fsc_list_path(const fsc_list *l);

/* The list's element type (FSC_TYPE_ANY for a heterogeneous list), or a
 * negative error. */
int fsc_list_type(const fsc_list *l);

/* Number of elements.  Lock-free, no system call. */
int fsc_list_len(fsc_list *l, uint64_t *out);

/*
 * Element at `index` (negative counts from the end, as in Python).
 * Lock-free, no system call.  Variable-size values are zero-copy views.
 * Errors: FSC_EINDEX, FSC_ECLOSED, FSC_ECORRUPT.
 */
int fsc_list_get(fsc_list *l, int64_t index, fsc_value *out);

/*
 * Append a value.  Lock-free: a reservation in the data file and one
 * compare-and-swap publish it; only growth of the files takes the lock.
 * Errors: FSC_ETYPE (wrong type for the list, invalid UTF-8 or JSON),
 * FSC_ENOSPC (the file could not grow; nothing stored is lost),
 * FSC_EROFS, FSC_ECLOSED.
 */
int fsc_list_append(fsc_list *l, const fsc_value *v);

/* Append n values in order.  Each is validated first; if one is invalid
 * nothing is appended.  Other processes' appends may interleave. */
int fsc_list_extend(fsc_list *l, const fsc_value *vs, size_t n);

/* list[index] = v.  Lock-free compare-and-swap of one slot.
 * Errors: FSC_EINDEX, FSC_ETYPE, FSC_ENOSPC, FSC_EROFS, FSC_ECLOSED. */
int fsc_list_set(fsc_list *l, int64_t index, const fsc_value *v);

/* list.insert(index, v): index clamped to [0, len] as Python does.
 * Structural: takes the lock. */
int fsc_list_insert(fsc_list *l, int64_t index, const fsc_value *v);

/* list.pop(index); pass -1 for Python's default.  `out` may be NULL; a
 * popped variable-size value is a view valid until close.
 * Errors: FSC_EINDEX ("pop from empty list" / "pop index out of range"). */
int fsc_list_pop(fsc_list *l, int64_t index, fsc_value *out);

/* del list[index].  Errors: FSC_EINDEX. */
int fsc_list_del(fsc_list *l, int64_t index);

/* list.index(v, start, stop): the first position of v in the slice
 * [start:stop] (FSC_NONE for either bound).  Errors: FSC_EVALUE (not found,
 * "x not in list"). */
int fsc_list_index(fsc_list *l, const fsc_value *v, int64_t start,
                   int64_t stop, uint64_t *out);

/* list.count(v). */
int fsc_list_count(fsc_list *l, const fsc_value *v, uint64_t *out);

/* list.remove(v): removes the first occurrence.  Errors: FSC_EVALUE. */
int fsc_list_remove(fsc_list *l, const fsc_value *v);

/* v in list: 1 if present, 0 if not, or a negative error. */
int fsc_list_contains(fsc_list *l, const fsc_value *v);

/* list.reverse(), in place.  Structural. */
int fsc_list_reverse(fsc_list *l);

/*
 * Stable sort in place, ascending (or descending with `reverse`, keeping
 * equal elements in their original order as Python does).  Numbers (int32,
 * int64, int128, float, bool) compare by value, also across those types in
 * an ANY list; strings compare by code point; bytes lexicographically.
 * Errors: FSC_ETYPE for json or ref elements, or for a mix of numbers,
 * strings and bytes ("'<' not supported between instances of ...").
 */
int fsc_list_sort(fsc_list *l, bool reverse);

/* list.clear().  Structural.  Space is reclaimed by compaction. */
int fsc_list_clear(fsc_list *l);

/*
 * list[start:stop:step] into `out` (views).  Call with out NULL to learn
 * the count in *n.  With out non-NULL, `cap` is its length; if the slice has
 * more elements, FSC_EINVAL is returned and *n says how many are needed.
 * Errors: FSC_EVALUE (step 0).
 */
int fsc_list_slice_get(fsc_list *l, fsc_slice s, fsc_value *out, size_t cap,
                       size_t *n);

/* list[start:stop:step] = vs[0..n).  For step 1 any n; otherwise n must be
 * the slice's length (FSC_EVALUE: "attempt to assign sequence of size N to
 * extended slice of size M").  Structural and atomic: other processes see the
 * list before or after, never between. */
int fsc_list_slice_set(fsc_list *l, fsc_slice s, const fsc_value *vs,
                       size_t n);

/* del list[start:stop:step].  Structural and atomic. */
int fsc_list_slice_del(fsc_list *l, fsc_slice s);

/* 1 if both lists hold equal values in the same order, 0 if not. */
int fsc_list_equal(fsc_list *a, fsc_list *b);

/*
 * Iteration, as Python's list iterator: a position that advances by one.
 * Elements appended meanwhile are seen; an insert or pop elsewhere shifts
 * what is seen next, exactly as in Python.  Never yields a torn value.
 *
 *   fsc_list_iter it;
 *   fsc_list_iter_init(l, &it);
 *   while ((rc = fsc_list_iter_next(&it, &v)) == 1) ...
 *
 * fsc_list_iter_next returns 1 with a value, 0 at the end, or an error.
 */
typedef struct fsc_list_iter {
  fsc_list *list;
  uint64_t pos;
} fsc_list_iter;

int fsc_list_iter_init(fsc_list *l, fsc_list_iter *it);
int fsc_list_iter_next(fsc_list_iter *it, fsc_value *out);

/*
 * Predicate pushdown scan: calls pred(value, ctx) for each element in order
 * and emit(index, value, ctx) for each one it accepts.  Either callback may
 * stop the scan by returning a negative value, which scan returns.  Memory
 * use is O(1).
 */
typedef int (*fsc_list_pred)(const fsc_value *v, void *ctx);
typedef int (*fsc_list_emit)(uint64_t index, const fsc_value *v, void *ctx);
int fsc_list_scan(fsc_list *l, fsc_list_pred pred, fsc_list_emit emit,
                  void *ctx);

/* Fill `out` (set out->size = sizeof *out first, or use memset 0 and let
 * the library fill what it knows). */
int fsc_list_metrics(fsc_list *l, fsc_metrics *out);

/* msync(MS_SYNC) and fsync of both files. */
int fsc_list_sync(fsc_list *l);

/* Typed shorthands.  _get_ variants fail with FSC_ETYPE if the element is of
 * another type.  fsc_list_get_str gives a view (not NUL-terminated). */
int fsc_list_append_i64(fsc_list *l, int64_t v);
int fsc_list_append_f64(fsc_list *l, double v);
int fsc_list_append_str(fsc_list *l, const char *s);
int fsc_list_get_i64(fsc_list *l, int64_t index, int64_t *out);
int fsc_list_get_f64(fsc_list *l, int64_t index, double *out);
int fsc_list_get_str(fsc_list *l, int64_t index, const char **ptr,
                     size_t *len);
int fsc_list_set_i64(fsc_list *l, int64_t index, int64_t v);

#ifdef __cplusplus
}
#endif
#endif /* FSCOLLECTIONS_H */
