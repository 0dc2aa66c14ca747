/* SPDX-License-Identifier: MIT */
/*
 * fscollections.h - the public API of libfscollections.
 *
 * Lists, dicts and sets stored in two files that every
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
 *  - Each function's comment below is a Doxygen block with an "Errors:"
 *    list: every FSC_E* code it returns and when.  Two groups of errors,
 *    which every function that takes a handle shares, are listed only
 *    where the function says more about them:
 *     - the handle errors: FSC_EINVAL for a NULL handle (or a NULL
 *       pointer the function needs), FSC_ECLOSED for a closed one, and,
 *       for a write, FSC_EROFS on a handle opened with FSC_RDONLY;
 *     - the errors of following a compaction: when another process has
 *       compacted the collection, the next call on a handle first moves
 *       the handle to the new files, which is an open (fsc_list_open) and
 *       can fail as one: FSC_ENOENT (the collection was deleted
 *       meanwhile), FSC_EACCES, FSC_ECORRUPT (the path now holds another
 *       collection), FSC_EKIND, FSC_ETYPE, FSC_ETIMEDOUT, FSC_EAGAIN (a
 *       temporary collection compacted by another process), FSC_ENOMEM,
 *       FSC_EIO.  The call has then changed nothing.
 *    Section-3 manual pages (doc/man3, man fscollections) say the same,
 *    one page per function family.
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
 *  - Stale locks cannot happen: flock(2) locks, and the OFD lock (fcntl(2))
 *    on the data file's first byte that its growth takes, are released by
 *    the kernel when a process dies, and no per-process slot is kept in
 *    the files.
 *  - Files live on a local file system that supports mmap(MAP_SHARED),
 *    flock(2) and posix_fallocate(3).  Network file systems are not supported.
 *  - Who may read the files may hold their locks: flock(2) needs only a
 *    descriptor, so anyone who can open a collection file can make opens,
 *    closes, structural changes and the appends that grow the data file
 *    wait; every such wait is bounded by
 *    fsc_options.lock_timeout_ms (FSC_ETIMEDOUT).  Let only trusted users
 *    read a collection.  doc/DURABILITY.md, "What a hostile or careless
 *    user can and cannot do", has the whole policy: world-writable files
 *    and files planted by others are refused (FSC_EACCES), files that are
 *    not empty are never re-initialised, FIFOs and symlinks are refused.
 *  - Threads: a writer whose write grows a file, when the file's next growth
 *    step is 4 MiB or more and not yet allocated ahead by this handle,
 *    starts a short-lived detached thread that allocates ahead the next
 *    32 MiB of the file (at least that step, at most the file's size:
 *    fallocate(2) past the end of the file, on its own file description),
 *    so that the next growths do not wait for the file system inside a
 *    write; a file growing in 4 MiB steps starts one a 32 MiB.  While a
 *    collection is open each of its files may so have up to 32 MiB
 *    allocated past its end (more only for a growth step larger than that:
 *    a dict's next table, at most 256 MiB).  The thread blocks every signal,
 *    touches no mapping and ends within that one call; the last clean
 *    close waits for it (at most 2 s) and gives the blocks it allocated
 *    past the end back.  If a thread cannot be started (RLIMIT_NPROC, a seccomp
 *    policy), the writer allocates as it would have: nothing fails.
 *    In a data file of format version 3 or 4 (every file this build
 *    creates) of 4 MiB or more, the writer whose append comes within
 *    2 MiB (a quarter, below 8 MiB) of the capacity also starts a
 *    short-lived detached thread that takes the data file's growth lock
 *    and writes and publishes the next few MiB (a growth job), so that no
 *    write pays for the zeroing; a writer that needs the space before
 *    the job published it waits for the growth lock as it always did.
 *    A process stopped (SIGSTOP, a debugger) while its job holds the
 *    growth lock makes other processes' writes that need new space wait
 *    for it, at most lock_timeout_ms, as a writer stopped inside its own
 *    growth step did.  A child forked while any of these threads runs
 *    closes its copy of the thread's descriptor (a pthread_atfork
 *    handler), so it keeps neither the thread's file nor its lock.
 *  - A file size limit (RLIMIT_FSIZE) is checked before the files grow:
 *    past it a write is FSC_ENOSPC, and SIGXFSZ is never raised.
 *  - Only Linux is supported in this release (the open-process count reads
 *    /proc/locks; temporary collections reopen through /proc/self/fd).
 *  - Compaction (fsc_*_compact, compaction_threshold) moves a collection to
 *    new files.  Each handle keeps the files it used mapped, so that views
 *    it handed out stay valid, until it closes or calls fsc_*_reclaim: the
 *    disk space of the old files comes back only then.  A long-lived
 *    process that compacts often (or shares a collection with one that
 *    does) should call fsc_*_reclaim at a point where it holds no view.
 *    The old files' descriptors are closed at once (only the mappings are
 *    kept), so following compactions does not use up descriptors.
 *  - A dict or set iterator does not survive a compaction (FSC_EAGAIN:
 *    start again); list iteration, by index, does.
 *  - A temporary collection (NULL base path) shared with forked children
 *    cannot be compacted (FSC_EAGAIN): nothing names its new files.
 *  - With auto_compact, a reader racing pop(i) may see the moved last
 *    element at index i an instant before the pop is published.
 *  - Durability (doc/DURABILITY.md): a process crash loses no acknowledged
 *    write in any mode; power loss keeps what was synced (the last close
 *    with FSC_DURABLE_ON_CLOSE, every write with FSC_DURABLE_ALWAYS,
 *    fsc_*_sync).  Reads do not verify checksums: fsc_*_verify does, and
 *    so does the first open after an unclean shutdown.
 *  - Read-only opens cannot repair.  A read-only handle that is the first
 *    opener after an unclean shutdown (no clean-close marker) first checks
 *    the structure as a read-write opener's recovery would (the index,
 *    its sealed structure words, every record it names: not flagged dead,
 *    and for a dict or set whole, with the record where each dict key's
 *    life began), and the open fails with FSC_ECORRUPT, naming the first
 *    problem, if that finds damage or a change a dead process left
 *    half-done (a structural change, an append not yet counted, a dict
 *    or set count that is not its keys):
 *    only a read-write open (or fsc verify --repair) can repair it.  Then it checks each record's checksum when it reads it,
 *    for its whole life, and returns FSC_ECORRUPT for a list element
 *    whose record fails (fsc_metrics.last_close_clean is false): it never
 *    hands out a damaged record as a value, an older version of an
 *    element, or a partial iteration.  It does not judge the byte
 *    counters (fsc_*_verify does).  A read-only handle that opens while others
 *    have the collection open trusts them (no check).
 *  - The clean-close marker vouches for the files: the last close writes
 *    it only after repairing what a writer that died without closing left
 *    behind (see fsc_list_close).  A writer that inherits a handle across
 *    fork() and uses it only for lock-free writes (append, item
 *    assignment, dict set/del, set add/discard), never for a structural
 *    change or close, is not counted, and neither is its death.
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

/*
 * FSC_API marks the library's exported functions.  The library is built
 * with -fvisibility=hidden, so only these are in its dynamic symbol table:
 * its internal calls bind locally (no PLT, and they can be inlined).
 */
#ifndef FSC_API
#if defined(__GNUC__) && __GNUC__ >= 4
#define FSC_API __attribute__((visibility("default")))
#else
#define FSC_API
#endif
#endif

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */
/* ------------------------------------------------------------------------ */

/**
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
  XX(EROFS, -30916, "collection is open read-only")                          \
  XX(ECANCELED, -30917, "operation canceled")

typedef enum fsc_errno {
#define FSC__ERR_ENUM(name, code, text) FSC_##name = (code),
  FSC_ERRNO_MAP(FSC__ERR_ENUM)
#undef FSC__ERR_ENUM
  FSC_OK = 0
} fsc_errno;

/**
 * The fixed text of an error code ("success" for 0; unknown codes get a
 * generic text).
 *
 * @param code  an FSC_E* code (or 0)
 * @return a static string, never NULL.
 * Errors: none.  Thread-safe.
 */
FSC_API const char *fsc_strerror(int code);

/**
 * The detailed message of the calling thread's most recent failed fsc_
 * call, e.g. "Expected float for float, got string".
 *
 * @return never NULL; "" if the last call succeeded.  The string belongs
 *         to the calling thread and is valid until its next fsc_ call.
 * Errors: none.  Thread-safe: each thread has its own message.
 */
FSC_API const char *fsc_errmsg(void);

/**
 * The library version as a string ("0.1.0"; FSC_VERSION_STRING is the
 * header's).
 *
 * @return a static string.  Errors: none.  Thread-safe.
 */
FSC_API const char *fsc_version(void);

/* ------------------------------------------------------------------------ */
/* Values                                                                    */
/* ------------------------------------------------------------------------ */

/**
 * Element types.  A collection declares one when it is created (the
 * Python fscollections package's `klass`); FSC_TYPE_ANY makes a
 * heterogeneous collection that stores each value's type with it.  The
 * numbering is part of the file format.
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

/** A signed 128-bit integer, two's complement: value = hi * 2^64 + lo. */
typedef struct fsc_int128 {
  uint64_t lo;
  int64_t hi;
} fsc_int128;

/**
 * A value passed in or handed out.  For STRING, BYTES, JSON and REF the
 * bytes are `u.buf.ptr[0 .. u.buf.len)`; on output they are a zero-copy view
 * (see "Zero-copy views" above): immutable, not NUL-terminated, valid until
 * the handle that returned it closes (or reclaims after a compaction).
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

/**
 * Value constructors: fill a fsc_value without allocating.  The bytes of
 * a string, bytes or JSON value are not copied: `s`, `p` or `text` must
 * outlive the call the value is passed to (a write copies them into the
 * collection).  fsc_str() takes a NUL-terminated string (NULL gives the
 * empty string); the others take a length.  Validation happens when the
 * value is written: FSC_ETYPE for invalid UTF-8 or JSON, FSC_EINVAL for a
 * NULL pointer with a nonzero length or more than 2^39 bytes.
 *
 * @return the value.  Errors: none.  Thread-safe.
 */
FSC_API fsc_value fsc_i32(int32_t v);
FSC_API fsc_value fsc_i64(int64_t v);
FSC_API fsc_value fsc_i128(fsc_int128 v);
FSC_API fsc_value fsc_bool(bool v);
FSC_API fsc_value fsc_f64(double v);
FSC_API fsc_value fsc_str(const char *s);
FSC_API fsc_value fsc_strn(const char *s, size_t len);
FSC_API fsc_value fsc_bytes(const void *p, size_t len);
FSC_API fsc_value fsc_json(const char *text, size_t len);

/**
 * The name of a type as the Python fscollections package spells it:
 * "int32", "int64", "int128", "string", "bool", "float", "bytes", "json",
 * "ref", "any".
 *
 * @return a static string; "unknown" for another number.  Errors: none.
 * Thread-safe.
 */
FSC_API const char *fsc_type_name(fsc_type t);
/**
 * Parse such a name (also "int" for int64 and "str" for string).
 *
 * @return the type (positive), or FSC_EINVAL.
 * Errors:
 *  - FSC_EINVAL: `name` is NULL or names no type.
 * Thread-safe.
 */
FSC_API int fsc_type_parse(const char *name);

/**
 * Equality of two values as the collections use it (count, index, remove,
 * contains, list equality): the same type and the same encoded bytes.  So in
 * an ANY list, int32 1, int64 1 and float 1.0 are three different values
 * (unlike Python, where 1 == 1.0); two floats are equal when their bits are
 * (NaN equals NaN, 0.0 and -0.0 differ); JSON compares as text.
 *
 * @return true if equal; false if not, or if either pointer is NULL.
 * Errors: none (it cannot fail).  Thread-safe.
 */
FSC_API bool fsc_value_equal(const fsc_value *a, const fsc_value *b);

/* ------------------------------------------------------------------------ */
/* Options                                                                   */
/* ------------------------------------------------------------------------ */

/** fsc_options.flags */
#define FSC_CREATE 0x1u   /* create the collection if it does not exist.
                             In FSC_OPTIONS_INIT: a mistyped path creates
                             a new, empty collection; clear it where a
                             missing collection must be FSC_ENOENT.
                             Creation is atomic and exclusive (see
                             fsc_list_open) */
#define FSC_RDONLY 0x2u   /* open read-only: every write returns FSC_EROFS */
#define FSC_EXCL 0x4u     /* with FSC_CREATE: fail (FSC_EINVAL) if it exists */
#define FSC_REF_ALLOW_OUTSIDE 0x10u /* references (fsc_ref_open) may
                             name a collection outside the parent's
                             directory (an absolute path, or one that
                             climbs out with ".." or through a symlink).
                             Without it such a reference is FSC_EACCES.
                             Given to any open, it is kept by the handle:
                             children opened through it with NULL options
                             inherit it.  A flag bit, not a field, so the
                             struct's layout is unchanged; a library
                             older than it refuses it (FSC_EINVAL) */

/** fsc_options.durability: when fsc_*_sync() runs by itself */
typedef enum fsc_durability {
  FSC_DURABLE_NONE = 0,     /* never; the page cache writes back in time */
  FSC_DURABLE_ON_CLOSE = 1, /* the last process to close syncs (default) */
  FSC_DURABLE_ALWAYS = 2    /* after every write, before it returns */
} fsc_durability;

/**
 * Options for opening a collection.  Versioned by `size` so that fields can
 * be added without breaking the ABI: always start from FSC_OPTIONS_INIT.
 * A NULL options pointer means FSC_OPTIONS_INIT.
 */
typedef struct fsc_options {
  size_t size;               /* sizeof(fsc_options) of the caller */
  fsc_type type;             /* element type; UNSPEC: the file's, ANY if new */
  unsigned flags;            /* FSC_CREATE | FSC_RDONLY | FSC_EXCL |
                                FSC_REF_ALLOW_OUTSIDE */
  unsigned mode;             /* permission bits of created files (0600),
                                minus the umask; at most 0777 (setuid,
                                setgid and sticky bits are FSC_EINVAL).
                                Group sharing: 0660 in a setgid directory */
  fsc_durability durability; /* FSC_DURABLE_ON_CLOSE by default */
  fsc_type key_type;         /* dict keys: FSC_TYPE_STRING (UTF-8) or
                                FSC_TYPE_BYTES (binary keys); UNSPEC: the
                                file's, STRING for a new dict.  Another
                                than the file's is FSC_ETYPE.  Ignored by
                                lists and sets. */
  double compaction_threshold; /* 0 (default): off.  Else a ratio in
                                (0, 1]: a write that leaves the
                                collection's fragmentation ratio (dead /
                                (live + dead) bytes) at or above it, with
                                at least 1 MiB dead, compacts the
                                collection before it returns (see
                                fsc_list_compact).  Per handle: the
                                handles that set it run compactions. */
  bool auto_compact;           /* false (default).  Lists of a fixed-size
                                type (int32, int64, int128, bool, float)
                                only, else FSC_EINVAL: pop and del at index
                                i move the last element into i (swap and
                                pop: O(1), the order changes) and give the
                                record's space back to the next append. */
  int64_t lock_timeout_ms;     /* how long any wait for a file lock may
                                last (opening, closing, structural
                                changes, compaction, a write that grows
                                the data file): 10000 (default);
                                0: one try; FSC_LOCK_WAIT_FOREVER (-1):
                                no limit.  A wait that runs out is
                                FSC_ETIMEDOUT. */
  /* Dicts only (ignored by lists and sets): a bounded, shared cache.
   * Stored in the index file when the dict is created, so every process
   * enforces the same bound; opening an existing dict with FSC_CACHE_NONE
   * adopts the file's policy, another policy or other bounds than the
   * file's is FSC_EINVAL.  See README "The shared cache" and
   * doc/CACHE.md. */
  int cache_type;              /* FSC_CACHE_NONE (default), FSC_CACHE_LRU,
                                  FSC_CACHE_LFU or FSC_CACHE_FIFO */
  uint64_t cache_max_items;    /* live keys at most (0: no item bound) */
  uint64_t cache_max_bytes;    /* bytes of live records at most (0: no
                                  byte bound); a policy needs one bound */
  int cache_admission;         /* FSC_CACHE_ADMIT_DEFAULT (the policy's
                                  choice: doc/CACHE.md), FSC_CACHE_ADMIT_ON
                                  or FSC_CACHE_ADMIT_OFF: whether a new key
                                  that must evict is first weighed against
                                  its victim by a shared frequency sketch
                                  (scan resistance).  Stored when the dict
                                  is created; ignored when an existing dict
                                  is opened. */
  int access;                  /* how this handle's mappings are advised
                                  to the kernel (madvise(2)):
                                  FSC_ACCESS_RANDOM (default): a page
                                  fault reads one page, not the device's
                                  readahead window; right for gets and
                                  sets, and for collections larger than
                                  memory.  FSC_ACCESS_NORMAL: the kernel's
                                  default readahead.  FSC_ACCESS_SEQUENTIAL:
                                  aggressive readahead, for a handle that
                                  mostly iterates.  Compaction, verify and
                                  the fsc_*_scan functions mark the range
                                  they walk sequential whatever this says,
                                  and restore it after.  Whatever this
                                  says, opening a dict or set whose hash
                                  table's slots (8 bytes a slot) are at
                                  least 1 MiB and at most half the memory
                                  the process may use (the machine's, or
                                  its memory cgroup's limit) starts
                                  reading them ahead (asynchronous), so
                                  that a cold get faults on its record
                                  only.
                                  Per handle; no effect on the files. */
  /* Dicts and sets only (ignored by lists), and only when the open
   * creates the collection (an existing one keeps its sizes): the keys
   * the collection is expected to hold.  0 (default): start small and
   * grow.  Else the hash table is created large enough to hold that
   * many keys without growing (at most 3/4 full; 16 bytes of index per
   * table slot), and the data file's first allocation is 48 bytes per
   * key (at least its usual 256 KiB), fallocated at creation: a full
   * disk is FSC_ENOSPC from the open.  More than 2^38 is FSC_EINVAL.
   * A hint: the collection grows past it as any other. */
  uint64_t expected_items;
} fsc_options;

/** fsc_options.access: the kernel's readahead for a handle's mappings. */
enum {
  FSC_ACCESS_RANDOM = 0,     /* MADV_RANDOM (default) */
  FSC_ACCESS_NORMAL = 1,     /* MADV_NORMAL: the kernel's default */
  FSC_ACCESS_SEQUENTIAL = 2  /* MADV_SEQUENTIAL */
};

/** fsc_options.cache_type: the eviction policy of a bounded dict. */
enum {
  FSC_CACHE_NONE = 0, /* an unbounded dict */
  FSC_CACHE_LRU = 1,  /* least recently used (sampled, approximate) */
  FSC_CACHE_LFU = 2,  /* least frequently used (logarithmic counter with
                         decay, sampled) */
  FSC_CACHE_FIFO = 3  /* oldest insertion first (exact) */
};

/** fsc_options.cache_admission: the admission filter of a bounded dict. */
enum {
  FSC_CACHE_ADMIT_DEFAULT = 0, /* the policy's default (doc/CACHE.md) */
  FSC_CACHE_ADMIT_ON = 1,      /* a new key that must evict is stored only
                                  if it was asked for more often than its
                                  victim (TinyLFU) */
  FSC_CACHE_ADMIT_OFF = 2      /* every new key is stored */
};

/** fsc_options.lock_timeout_ms: wait for file locks without a limit. */
#define FSC_LOCK_WAIT_FOREVER (-1)

#define FSC_OPTIONS_INIT                                                      \
  { sizeof(fsc_options), FSC_TYPE_UNSPEC, FSC_CREATE, 0600,                   \
    FSC_DURABLE_ON_CLOSE, FSC_TYPE_UNSPEC, 0.0, false, 10000, 0, 0, 0, 0,   \
    FSC_ACCESS_RANDOM, 0 }

/* ------------------------------------------------------------------------ */
/* Metrics                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * What fsc_coll_metrics (and fsc_list_metrics, ...) reports.  Versioned by
 * `size` as fsc_options is: the library fills at most `size` bytes.
 */
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
  uint32_t open_processes;     /* open handles holding it (>= 1), read from
                                  /proc/locks: while other processes take
                                  and drop file locks it may be off by one */
  uint64_t generation;         /* bumped by compaction */
  uint64_t structural_epoch;   /* bumped by every structural change */
  uint64_t repaired_items;     /* what recovery repaired at this open (the
                                  first open after an unclean shutdown):
                                  the sum of the next four, 0 otherwise */
  uint64_t repaired_dropped;   /* list elements or keys dropped: their
                                  record was bad, dangling or superseded */
  uint64_t repaired_restored;  /* list structure words (length word, array
                                  descriptors) restored from their sealed
                                  copy in the index header (doc/FORMAT.md),
                                  list elements adopted back above a
                                  damaged length, structural changes a dead
                                  process left half-done and that were
                                  finished */
  uint64_t repaired_rebuilt;   /* dict/set tables rebuilt (from the data
                                  file, or from themselves) */
  uint64_t repaired_counters;  /* counters corrected: the length or COUNT
                                  (by how much), and the byte counters
                                  (1 if they changed) */
  uint64_t repaired_at_close;  /* what the last close of the previous
                                  session repaired before it wrote the
                                  clean-close marker, because a process
                                  that had the collection open for writing
                                  died without closing (same units as
                                  repaired_items; see fsc_list_close) */
  uint64_t reserved[3];        /* zero; for growth */
} fsc_metrics;

/* ------------------------------------------------------------------------ */
/* Slices                                                                    */
/* ------------------------------------------------------------------------ */

/** An omitted slice bound, as Python's None. */
#define FSC_NONE INT64_MIN

/** A Python slice: list[start:stop:step]; any field may be FSC_NONE.
 * step 0 is FSC_EVALUE ("slice step cannot be zero"). */
typedef struct fsc_slice {
  int64_t start, stop, step;
} fsc_slice;

#define FSC_SLICE(start, stop, step) ((fsc_slice){(start), (stop), (step)})

/* ------------------------------------------------------------------------ */
/* List                                                                      */
/* ------------------------------------------------------------------------ */

typedef struct fsc_list fsc_list;

/**
 * Open (and with FSC_CREATE, create) the list at `base_path`, which names the
 * files base_path.data.fscollection and base_path.index.fscollection.
 * base_path NULL creates a private temporary list: its files are created in a
 * new 0700 directory under $TMPDIR (default /tmp) and unlinked at once, so
 * nothing is left behind even after SIGKILL; children that inherit the
 * handle across fork() share it.
 * If the previous session did not close cleanly, the first read-write opener
 * verifies and repairs the list before this returns: elements whose record
 * is bad or names a version flagged superseded (item assignments, pops
 * and dels flag the record they supersede) are dropped, a damaged structure
 * word (length word, array descriptor) is restored from its sealed copy,
 * a change a dead process left half-done is finished, the counters are set
 * right; fsc_metrics.repaired_* say what, by kind.  A read-only first
 * opener cannot repair: it checks the structure and refuses a damaged one
 * (FSC_ECORRUPT), then checks each record's checksum as it reads it (see
 * Caveats).  Other openers (the collection is open elsewhere) do not
 * check.
 * Creation (FSC_CREATE, no index file at the path) builds both files under
 * no name and links them into place, so other processes see the whole new
 * list or none, and never adopts a file someone else put at a path.  Files
 * that are not empty are never re-initialised or deleted; an EMPTY file at
 * a path is replaced only if this user owns it and neither group nor
 * others may write it.  Both files must be regular files (checked before
 * they are locked or read: a FIFO fails at once), are never opened through
 * a symlink, may not be writable by every user, and must have one owner.
 *
 * @param base_path  the collection's path without the file suffixes, or
 *                   NULL for a temporary list
 * @param opts       options (NULL: FSC_OPTIONS_INIT)
 * @param out        receives the new handle
 * @return 0; on success *out is a new handle (release it with
 *         fsc_list_free), on failure *out is NULL.
 * Errors:
 *  - FSC_EINVAL: bad options (see fsc_options: a size below its flags
 *    field or above 4096, an unknown type, flag, durability or key type, a
 *    mode above 0777, a negative lock_timeout_ms other than
 *    FSC_LOCK_WAIT_FOREVER, a compaction_threshold outside [0, 1],
 *    auto_compact on a list of a variable-size type, FSC_RDONLY with
 *    FSC_CREATE or FSC_EXCL other than the defaults'); `out` NULL; a path
 *    that is a symlink, a FIFO or another non-regular file; FSC_EXCL and
 *    the list exists.
 *  - FSC_ENOENT: missing, and no FSC_CREATE (always so with FSC_RDONLY).
 *  - FSC_EACCES: no permission; a file writable by every user; the two
 *    files owned by different users; an empty file at a path owned by
 *    another user or writable by group or others.
 *  - FSC_EKIND: the files hold a dict or set.
 *  - FSC_ETYPE: the file's element type differs from opts->type.
 *  - FSC_ECORRUPT: not a collection file (bad or zeroed magic, shorter
 *    than a header); files of two different collections; a data file that
 *    is not empty beside a missing or empty index; damaged headers; a
 *    repair that could not complete; a read-only first opener after an
 *    unclean shutdown that found damage it cannot repair.
 *  - FSC_EVERSION: a file format version this library cannot read.
 *  - FSC_ETIMEDOUT: another process held a lock longer than
 *    opts->lock_timeout_ms.
 *  - FSC_EAGAIN: the files kept appearing, vanishing or being compacted
 *    while this open looked at them.
 *  - FSC_ENOSPC: no room to create the files or for the repair.
 *  - FSC_ENOMEM, FSC_EIO: out of memory; a system call failed.
 * Thread-safe; any number of processes may open the same path at once.
 */
FSC_API int fsc_list_open(const char *base_path, const fsc_options *opts,
                          fsc_list **out);

/**
 * Close the handle: the last process to close syncs (per durability) and
 * writes the clean-close marker.  The marker vouches for the files: if a
 * process that opened the collection read-write died without closing it
 * (the index header counts read-write handles opened and closed), the
 * last closer first runs the recovery the first open after an unclean
 * shutdown would (finishes a change left half-done, counts a pending
 * append, drops what does not verify, sets the counters right); the next
 * opener's fsc_metrics.repaired_at_close says what it did.  If that
 * recovery fails, the marker is not written and the next opener repairs.
 * A read-only last closer writes nothing.  The handle memory stays allocated, so every
 * later call returns FSC_ECLOSED; release it with fsc_list_free().  Views
 * handed out by this handle become invalid.  Closing twice returns
 * FSC_ECLOSED.  Not to be called while another thread uses the handle.
 *
 * @return 0, or an error; the handle is closed whatever the return code.
 * Errors:
 *  - FSC_ECLOSED: closed twice.  FSC_EINVAL: `l` is NULL.
 *  - FSC_ETIMEDOUT: the structure lock did not come within
 *    lock_timeout_ms; the handle is closed all the same, but the
 *    clean-close marker is not written, so the next first opener verifies
 *    the list.
 *  - FSC_EIO: the sync or the marker could not be written (the next opener
 *    verifies).
 * Not thread-safe with respect to the handle: no other thread may be
 * using it.
 */
FSC_API int fsc_list_close(fsc_list *l);

/**
 * Close the handle and delete both files (for a temporary list: just close).
 * Other processes that have the list open keep their mappings and go on
 * using the unlinked files.
 *
 * Errors: as fsc_list_close.  Not while another thread uses the handle.
 */
FSC_API int fsc_list_destroy(fsc_list *l);

/**
 * Close the handle if open, then free it.  NULL is a no-op.  Errors of the
 * close are not reported (call fsc_list_close first to see them).  Not
 * while another thread uses the handle.
 */
FSC_API void fsc_list_free(fsc_list *l);

/**
 * The base path the handle was opened with (NULL for a temporary list or a
 * NULL handle).  The string is valid until the handle is freed, or until
 * fsc_list_reclaim after a compaction.  Errors: none.  Thread-safe.
 */
FSC_API const char *fsc_list_path(const fsc_list *l);

/**
 * The list's element type (FSC_TYPE_ANY for a heterogeneous list).
 *
 * @return the type (positive), or an error.
 * Errors: FSC_EINVAL (NULL handle), FSC_ECLOSED.  Thread-safe.
 */
FSC_API int fsc_list_type(const fsc_list *l);

/**
 * Number of elements, in *out.  Lock-free, no system call.
 *
 * Errors: FSC_EINVAL (NULL handle or `out`), FSC_ECLOSED.  Thread-safe.
 */
FSC_API int fsc_list_len(fsc_list *l, uint64_t *out);

/**
 * Element at `index` (negative counts from the end, as in Python), in
 * *out.  Lock-free, no system call.  Variable-size values are zero-copy
 * views, valid until the handle closes (or fsc_list_reclaim).
 *
 * Errors:
 *  - FSC_EINDEX: `index` is out of range ("list index out of range").
 *  - FSC_EINVAL: NULL handle or `out`.  FSC_ECLOSED.
 *  - FSC_ECORRUPT: the slot names no valid record, or (a read-only first
 *    opener after an unclean shutdown) the record fails its checksum.
 *  - FSC_ETIMEDOUT: a structural change kept the list frozen so long that
 *    the reader went to the lock, and it did not come within
 *    lock_timeout_ms.  FSC_EAGAIN: the same on a read-only handle, when
 *    the writer died in the middle of the change (a read-write open
 *    repairs it).
 *  - the errors of following a compaction (see Conventions).
 * Thread-safe and process-safe.
 */
FSC_API int fsc_list_get(fsc_list *l, int64_t index, fsc_value *out);

/**
 * Append a value.  Lock-free: a reservation in the data file and one
 * compare-and-swap publish it; only growth of the files takes the lock.
 * The value's bytes are copied; `v` need not outlive the call.
 *
 * Errors:
 *  - FSC_ETYPE: wrong type for the list, invalid UTF-8 or JSON, a
 *    malformed ref.
 *  - FSC_EINVAL: NULL handle or `v`; a NULL pointer with a nonzero
 *    length; a value of more than 2^39 bytes.
 *  - FSC_ENOSPC: the file could not grow (full file system, quota,
 *    RLIMIT_FSIZE); nothing stored is lost.
 *  - FSC_ETIMEDOUT: growth needed the lock and it did not come within
 *    lock_timeout_ms.
 *  - FSC_EROFS, FSC_ECLOSED.
 *  - FSC_EIO: the sync after the write failed (FSC_DURABLE_ALWAYS).
 *  - the errors of following a compaction (see Conventions).
 * Thread-safe and process-safe.
 */
FSC_API int fsc_list_append(fsc_list *l, const fsc_value *v);

/**
 * Append n values in order.  Each is validated first; if one is invalid
 * nothing is appended.  Other processes' appends may interleave.
 *
 * Errors: as fsc_list_append; FSC_EINVAL also for `vs` NULL with n > 0.
 * Thread-safe and process-safe.
 */
FSC_API int fsc_list_extend(fsc_list *l, const fsc_value *vs, size_t n);

/**
 * list[index] = v.  Lock-free compare-and-swap of one slot; two writers of
 * one index both succeed, one after the other.
 *
 * Errors: FSC_EINDEX ("list assignment index out of range"); the others
 * as fsc_list_append (FSC_ETYPE, FSC_EINVAL, FSC_ENOSPC, FSC_ETIMEDOUT,
 * FSC_EROFS, FSC_ECLOSED, FSC_EIO); FSC_ECORRUPT (the slot names no
 * record).  Thread-safe and process-safe.
 */
FSC_API int fsc_list_set(fsc_list *l, int64_t index, const fsc_value *v);

/**
 * list.insert(index, v): index clamped to [0, len] as Python does.
 * Structural: takes the lock.  Every structural call (insert, pop, del,
 * remove, slices, sort, reverse, clear, and an append or dict/set write
 * that must grow the index) can also fail with FSC_ETIMEDOUT when another
 * process holds the lock longer than lock_timeout_ms.
 *
 * Errors: FSC_ETYPE, FSC_EINVAL (as fsc_list_append), FSC_ETIMEDOUT,
 * FSC_ENOSPC, FSC_ENOMEM (the copy of the pointer array), FSC_EROFS,
 * FSC_ECLOSED, FSC_EIO; the errors of following a compaction.  On failure
 * the list is unchanged.  Thread-safe and process-safe.
 */
FSC_API int fsc_list_insert(fsc_list *l, int64_t index, const fsc_value *v);

/**
 * list.pop(index); pass -1 for Python's default.  `out` may be NULL; a
 * popped variable-size value is a view valid until close.
 *
 * pop(0) (a queue's pop) is lock-free and O(1): no lock, no system call;
 * it never waits for appenders nor makes them wait, and goes on while
 * another process holds the structure lock (doc/CONCURRENCY.md, "Pops at
 * the head").  It waits only for a structural change in progress (as an
 * append does).  Exactly once: an element a pop(0) returned is returned
 * by no other pop, and no read after it returns sees it.  A process
 * killed inside a pop(0) before it returned may take the one element it
 * had claimed with it (at most one per killed popper, never another);
 * the next pop, item assignment, structural change or recovery finishes
 * that pop, and the element is gone.  (With auto_compact, pop(0) is swap
 * and pop under the lock, below.)
 *
 * Every other pop is structural: it takes the structure lock (two flock
 * calls) and waits for other structural changes; appenders that meet it
 * wait for it.  pop(-1) is done in place, O(1) (why it is not lock-free
 * like pop(0): doc/CONCURRENCY.md, "Why pop(-1) takes the lock"); pop
 * from the middle shifts the elements into the spare array, O(length).
 * A process killed inside one leaves the list as before the pop or as
 * after it (then the element it was popping is gone).  A pop that times
 * out on the lock (FSC_ETIMEDOUT) has popped nothing.
 *
 * Errors: FSC_EINDEX ("pop from empty list" / "pop index out of range"),
 * FSC_ETIMEDOUT, FSC_ENOMEM, FSC_ECORRUPT (the record cannot be read),
 * FSC_EROFS, FSC_ECLOSED, FSC_EINVAL, FSC_EIO; the errors of following a
 * compaction.  Thread-safe and process-safe.
 */
FSC_API int fsc_list_pop(fsc_list *l, int64_t index, fsc_value *out);

/**
 * A blocking pop for job queues: pop element `index` (0, the head, or -1,
 * the tail) if there is one; else sleep until an element is appended or
 * inserted (by any process), then pop it, or until timeout_ms has passed
 * (< 0: no limit; 0: do not sleep).  No polling: before it sleeps the
 * waiter watches the event count for at most 30 microseconds, yielding
 * the CPU between looks (so a hand-off between two running processes
 * needs no futex wake-up), then
 * the sleep is a futex on the collection's change event count
 * (doc/CONCURRENCY.md, "Waiting"), and a writer makes a wake-up system
 * call only when someone sleeps.  Of
 * several waiters, each element goes to exactly one.  `out` as
 * fsc_list_pop.  The pop itself is fsc_list_pop's: at index 0 lock-free
 * and O(1) (no lock: consumers at the head and producers never wait for
 * each other), at -1 in place under the structure lock; with
 * auto_compact, pop(0) is swap and pop, which does not keep the order.
 * A waiter killed inside its pop may take the one element it had claimed
 * with it (fsc_list_pop).
 *
 * Errors: FSC_EINVAL (an index other than 0 and -1), FSC_ETIMEDOUT (still
 * empty at the deadline: nothing popped), FSC_ECLOSED (another thread
 * closed this handle meanwhile: that close wakes this handle's waiters),
 * and fsc_list_pop's other errors.  Thread-safe and process-safe.  A
 * waiter killed while it sleeps leaves nothing behind.
 */
FSC_API int fsc_list_pop_wait(fsc_list *l, int64_t index, int64_t timeout_ms,
                              fsc_value *out);

/**
 * Atomically add delta to the int64 element `index` (negative: from the
 * end), giving the new value in *out (may be NULL).  In place: one atomic
 * add on the element's record (a counter record, doc/FORMAT.md): no new
 * record, no growth, no dead bytes, no retry loop.  The first increment
 * of an element that is not yet a counter writes a counter record in its
 * place (one record, once); so does an increment of a counter that a
 * compaction, a pop or a compare-and-swap closed meanwhile.  With
 * auto_compact the handle's increments write a new record instead (swap
 * and pop rewrites records).  A counter's checksum covers its value
 * whenever no session is changing it in place (it is sealed at every
 * clean close: doc/DURABILITY.md, "Counters"); the first increment or
 * compare-and-swap in place of a session checks it, and a damaged value
 * is FSC_ECORRUPT, never counted on.  An increment racing a pop of the same
 * element is counted in the popped value or not at all, never lost after
 * it returned.  The list's type must be int64 or any.
 *
 * Errors: FSC_ETYPE (the list, or the element, is not int64), FSC_EINDEX,
 * FSC_EVALUE (int64 overflow: the value is unchanged, though a reader may
 * see the wrapped value for an instant), FSC_ETIMEDOUT (only if this call
 * stalled inside its add for longer than lock_timeout_ms, or 1 s, while a
 * compaction or a pop waited for it: it may not have counted), FSC_EROFS,
 * FSC_ECLOSED, FSC_ECORRUPT (the counter's value does not match its
 * checksum: repair with fsc_list_verify); the errors of following a
 * compaction.  Thread-safe and process-safe.
 */
FSC_API int fsc_list_incr(fsc_list *l, int64_t index, int64_t delta,
                          int64_t *out);

/**
 * Compare-and-swap of element `index`: if its value is exactly *expected
 * (same type, same encoded bytes: int 1 and float 1.0 differ), replace it
 * with *desired and return 1; else return 0 and give the current value in
 * *current (may be NULL; a view valid until close).  Never loses a
 * concurrent write: a write that lands between the compare and the swap
 * makes the swap fail, and the call compares again.  An 8-byte value
 * (int64, float) swapped for one of its type is one CAS of the record in
 * place after the first swap; other swaps write a record.
 *
 * Errors: FSC_EINVAL (expected or desired NULL, or desired invalid),
 * FSC_ETYPE (desired does not suit the list), FSC_EINDEX, FSC_ETIMEDOUT
 * (as fsc_list_incr), FSC_EROFS, FSC_ECLOSED; the errors of following a
 * compaction.  Thread-safe and process-safe.
 */
FSC_API int fsc_list_cas(fsc_list *l, int64_t index, const fsc_value *expected,
                         const fsc_value *desired, fsc_value *current);

/**
 * del list[index].  Structural.
 *
 * Errors: FSC_EINDEX ("list assignment index out of range"), and the
 * others as fsc_list_pop.  Thread-safe and process-safe.
 */
FSC_API int fsc_list_del(fsc_list *l, int64_t index);

/**
 * list.index(v, start, stop): the first position of v in the slice
 * [start:stop] (FSC_NONE for either bound), in *out.  Lock-free.
 *
 * Errors: FSC_EVALUE (not found, "x not in list"), FSC_EINVAL (NULL
 * handle, `v` or `out`), FSC_ECLOSED, FSC_ECORRUPT, and a reader's
 * FSC_ETIMEDOUT / FSC_EAGAIN (see fsc_list_get).  Thread-safe.
 */
FSC_API int fsc_list_index(fsc_list *l, const fsc_value *v, int64_t start,
                           int64_t stop, uint64_t *out);

/**
 * list.count(v), in *out.  Lock-free.
 *
 * Errors: as fsc_list_index, without FSC_EVALUE.  Thread-safe.
 */
FSC_API int fsc_list_count(fsc_list *l, const fsc_value *v, uint64_t *out);

/**
 * list.remove(v): removes the first occurrence.  Structural.
 *
 * Errors: FSC_EVALUE ("list.remove(x): x not in list"), FSC_EINVAL (NULL
 * handle or `v`), FSC_ETIMEDOUT, FSC_ENOMEM, FSC_ECORRUPT, FSC_EROFS,
 * FSC_ECLOSED, FSC_EIO.  Thread-safe and process-safe.
 */
FSC_API int fsc_list_remove(fsc_list *l, const fsc_value *v);

/**
 * v in list: 1 if present, 0 if not, or a negative error.  Lock-free.
 *
 * Errors: as fsc_list_count.  Thread-safe.
 */
FSC_API int fsc_list_contains(fsc_list *l, const fsc_value *v);

/**
 * list.reverse(), in place.  Structural and atomic.
 *
 * Errors: FSC_ETIMEDOUT, FSC_ENOSPC, FSC_ENOMEM, FSC_EROFS, FSC_ECLOSED,
 * FSC_EINVAL, FSC_EIO.  Thread-safe and process-safe.
 */
FSC_API int fsc_list_reverse(fsc_list *l);

/**
 * Stable sort in place, ascending (or descending with `reverse`, keeping
 * equal elements in their original order as Python does).  Numbers (int32,
 * int64, int128, float, bool) compare by value, also across those types in
 * an ANY list; strings compare by code point; bytes lexicographically.
 * Structural and atomic: other processes see the list before or after.
 *
 * Errors:
 *  - FSC_ETYPE: json or ref elements, or a mix of numbers, strings and
 *    bytes ("'<' not supported between instances of ...").
 *  - FSC_ENOMEM: the sort holds the list's values in memory.
 *  - FSC_ETIMEDOUT, FSC_ENOSPC, FSC_ECORRUPT (a record cannot be read),
 *    FSC_EROFS, FSC_ECLOSED, FSC_EINVAL, FSC_EIO.
 * On failure the list is unchanged.  Thread-safe and process-safe.
 */
FSC_API int fsc_list_sort(fsc_list *l, bool reverse);

/**
 * list.clear().  Structural.  Space is reclaimed by compaction.
 *
 * Errors: as fsc_coll_clear.  Thread-safe and process-safe.
 */
FSC_API int fsc_list_clear(fsc_list *l);

/**
 * list[start:stop:step] into `out` (views valid until the handle closes).
 * Call with out NULL to learn the count in *n.  With out non-NULL, `cap` is
 * its length; if the slice has more elements, FSC_EINVAL is returned and *n
 * says how many are needed.  Lock-free; the elements are one consistent
 * snapshot (read within one structural epoch).
 *
 * Errors: FSC_EVALUE (step 0), FSC_EINVAL (`n` NULL; `out` too small; NULL
 * handle), FSC_ECLOSED, FSC_ECORRUPT, and a reader's FSC_ETIMEDOUT /
 * FSC_EAGAIN (see fsc_list_get).  Thread-safe.
 */
FSC_API int fsc_list_slice_get(fsc_list *l, fsc_slice s, fsc_value *out,
                               size_t cap, size_t *n);

/**
 * list[start:stop:step] = vs[0..n).  For step 1 any n; otherwise n must be
 * the slice's length (FSC_EVALUE: "attempt to assign sequence of size N to
 * extended slice of size M").  Structural and atomic: other processes see the
 * list before or after, never between.
 *
 * Errors: FSC_EVALUE (step 0, or the size above), FSC_ETYPE / FSC_EINVAL
 * (a value, as fsc_list_append; `vs` NULL with n > 0), FSC_ETIMEDOUT,
 * FSC_ENOSPC, FSC_ENOMEM, FSC_ECORRUPT, FSC_EROFS, FSC_ECLOSED, FSC_EIO.
 * On failure the list is unchanged.  Thread-safe and process-safe.
 */
FSC_API int fsc_list_slice_set(fsc_list *l, fsc_slice s, const fsc_value *vs,
                               size_t n);

/**
 * del list[start:stop:step].  Structural and atomic.
 *
 * Errors: FSC_EVALUE (step 0), FSC_ETIMEDOUT, FSC_ENOSPC, FSC_ENOMEM,
 * FSC_EROFS, FSC_ECLOSED, FSC_EINVAL, FSC_EIO.  Thread-safe and
 * process-safe.
 */
FSC_API int fsc_list_slice_del(fsc_list *l, fsc_slice s);

/**
 * 1 if both lists hold equal values in the same order (fsc_value_equal),
 * 0 if not, or a negative error.  Lock-free; not a snapshot while others
 * write.
 *
 * Errors: as fsc_list_get, for either list.  Thread-safe.
 */
FSC_API int fsc_list_equal(fsc_list *a, fsc_list *b);

/**
 * Iteration, as Python's list iterator: a position that advances by one.
 * Elements appended meanwhile are seen; an insert or pop elsewhere shifts
 * what is seen next, exactly as in Python.  Never yields a torn value.
 *
 *   fsc_list_iter it;
 *   fsc_list_iter_init(l, &it);
 *   while ((rc = fsc_list_iter_next(&it, &v)) == 1) ...
 *
 * fsc_list_iter_next returns 1 with a value, 0 at the end, or an error.
 * Values are views valid until the handle closes.  The iterator survives
 * compaction and holds no resource; one thread uses it at a time.
 * Errors: FSC_EINVAL (NULL handle or iterator), FSC_ECLOSED,
 * FSC_ECORRUPT, and a reader's FSC_ETIMEDOUT / FSC_EAGAIN (see
 * fsc_list_get); fsc_list_iter_init fails only with the first two.
 */
typedef struct fsc_list_iter {
  fsc_list *list;
  uint64_t pos;
} fsc_list_iter;

/**
 * Start an iteration over `l` at index 0 (fsc_list_iter_init), and take
 * the next element (fsc_list_iter_next: 1 with a value in *out, 0 at the
 * end): see fsc_list_iter above for the guarantees and errors.
 */
FSC_API int fsc_list_iter_init(fsc_list *l, fsc_list_iter *it);
FSC_API int fsc_list_iter_next(fsc_list_iter *it, fsc_value *out);

/**
 * Predicate pushdown scan: calls pred(value, ctx) for each element in order
 * and emit(index, value, ctx) for each one it accepts (a nonzero return; a
 * NULL pred accepts every element, a NULL emit is not called).  Either
 * callback may stop the scan by returning a negative value, which scan
 * returns.  Memory use is O(1).  Values are views valid until the handle
 * closes.
 *
 * @return 0 at the end, a callback's negative value, or an error.
 * Errors: as fsc_list_get (FSC_EINDEX never: the end stops the scan).
 * Thread-safe.
 */
typedef int (*fsc_list_pred)(const fsc_value *v, void *ctx);
typedef int (*fsc_list_emit)(uint64_t index, const fsc_value *v, void *ctx);
FSC_API int fsc_list_scan(fsc_list *l, fsc_list_pred pred, fsc_list_emit emit,
                          void *ctx);

/**
 * Fill `out` (set out->size = sizeof *out first, or set it to 0 and let
 * the library fill what it knows).  As fsc_coll_metrics.
 *
 * Errors: FSC_EINVAL (NULL handle or `out`), FSC_ECLOSED.  Thread-safe.
 */
FSC_API int fsc_list_metrics(fsc_list *l, fsc_metrics *out);

/**
 * msync(MS_SYNC) and fsync of both files: when it returns 0, every write
 * that returned before the call survives a power loss.
 *
 * Errors: FSC_EIO, FSC_ECLOSED, FSC_EINVAL.  Thread-safe.
 */
FSC_API int fsc_list_sync(fsc_list *l);

/**
 * Compaction: write the live records into new files and move every process
 * to them.  Takes the structure lock and freezes the list for its duration:
 * readers go on reading, writers in every process wait (the pause is the
 * time to copy the live bytes; see bench/compact_bench), then carry on in
 * the new files.  Nothing acknowledged is lost; order is kept.  Afterwards
 * dead_bytes is 0 and the files hold only what is live.  Other processes
 * move to the new files at their next call.  Views handed out before stay
 * valid until the handle that gave them closes (or fsc_list_reclaim): the
 * old files' disk space is freed when the last process unmaps them.
 * A process killed at any point leaves the old or the new list, whole;
 * the next process to lock it finishes or undoes the switch and removes
 * left-over files (P.data.fscollection.compact, P.index.fscollection.compact).
 * An iterator begun before a compaction returns FSC_EAGAIN: start again.
 * Thread and process safe.
 * The new files get the old files' owner, group and mode (a compaction by
 * another member of a shared collection's group takes nothing over).
 * Errors: FSC_EROFS, FSC_ENOSPC (the old files are untouched), FSC_EIO,
 * FSC_EAGAIN (a temporary collection shared with forked processes),
 * FSC_EACCES (this user cannot give the new files the old files' owner:
 * the owner or root must compact), FSC_ETIMEDOUT (the lock did not come
 * within lock_timeout_ms), FSC_ECLOSED, FSC_EINVAL (NULL handle),
 * FSC_ECORRUPT (a live record failed its checksum: nothing changed),
 * FSC_ENOMEM.
 */
FSC_API int fsc_list_compact(fsc_list *l);

/**
 * Unmap the files of generations this handle used before compactions, and
 * so let the file system free their space.  Every view (zero-copy value)
 * obtained through this handle before its last move to new files becomes
 * invalid, and so does a path string fsc_*_path returned before it.
 * Call it when no other thread is inside a call on this handle and no
 * such view is in use.
 *
 * @return 0 on an open handle.
 * Errors: FSC_ECLOSED, FSC_EINVAL (NULL handle).
 */
FSC_API int fsc_list_reclaim(fsc_list *l);

/**
 * Typed shorthands for fsc_list_append, fsc_list_get and fsc_list_set with
 * fsc_i64, fsc_f64 and fsc_str values.  Errors: those of the function
 * each one calls; besides, the _get_ variants fail with FSC_ETYPE if the
 * element is of another type, FSC_EINVAL if an output pointer is NULL, and
 * fsc_list_append_str with FSC_EINVAL for a NULL string.  fsc_list_get_str
 * gives a view (not NUL-terminated) valid until the handle closes.
 * Thread-safe and process-safe.
 */
FSC_API int fsc_list_append_i64(fsc_list *l, int64_t v);
FSC_API int fsc_list_append_f64(fsc_list *l, double v);
FSC_API int fsc_list_append_str(fsc_list *l, const char *s);
FSC_API int fsc_list_get_i64(fsc_list *l, int64_t index, int64_t *out);
FSC_API int fsc_list_get_f64(fsc_list *l, int64_t index, double *out);
FSC_API int fsc_list_get_str(fsc_list *l, int64_t index, const char **ptr,
                             size_t *len);
FSC_API int fsc_list_set_i64(fsc_list *l, int64_t index, int64_t v);

/* ------------------------------------------------------------------------ */
/* Dict                                                                      */
/* ------------------------------------------------------------------------ */

/**
 * A dict maps keys to values of the dict's element type (FSC_TYPE_ANY for a
 * heterogeneous dict).  Keys are UTF-8 strings (validated; other bytes are
 * FSC_ETYPE), or arbitrary bytes when the dict was created with
 * opts->key_type = FSC_TYPE_BYTES.  A key is passed as (key, klen): klen
 * bytes at key, which need not be NUL-terminated.  Keys are at most
 * FSC_KEY_MAX bytes.
 *
 * The index is an open-addressing hash table in the mapped index file,
 * shared by every process: get, contains and len are lock-free and make no
 * system call; set, del, pop, setdefault and incr are lock-free
 * compare-and-swap operations; growing the table and clear take the lock.
 *
 * Order: iteration follows insertion order, as Python's dict: assigning to
 * an existing key keeps its place; deleting a key and setting it again moves
 * it to the end; popitem removes the newest key.
 *
 * Iteration while other threads or processes write is weakly consistent:
 * it never fails because of them, never yields a torn value, yields each
 * key at most once, and yields every key that is present for the whole
 * iteration.  A key updated meanwhile is seen with one of its values; a
 * key deleted meanwhile may or may not be seen; a key inserted after the
 * iteration began (or deleted and inserted again) is not seen there.
 */
typedef struct fsc_dict fsc_dict;

#define FSC_KEY_MAX (UINT32_C(1) << 30)

/**
 * Open (and with FSC_CREATE, create) the dict at base_path; as
 * fsc_list_open, with FSC_EKIND if the files hold a list or a set and
 * FSC_ETYPE if opts->key_type differs from the dict's.  base_path NULL
 * makes a private temporary dict.  After an unclean shutdown the first
 * read-write opener verifies the table and, if a slot names a bad record
 * or a superseded version of its key (a record of the key lies above it
 * in the data file; files of earlier builds also flag superseded
 * records), or keys were lost, rebuilds it from the data file (each
 * surviving slot's record, else the newest version of the key: see
 * doc/DURABILITY.md for what that promises);
 * fsc_metrics.repaired_* say what.  Read-only opens: as fsc_list_open.
 *
 * Errors: those of fsc_list_open (FSC_EINVAL also for auto_compact or a
 * key_type other than STRING or BYTES), FSC_EKIND, FSC_ETYPE.
 * On failure *out is NULL.  Thread-safe.
 */
FSC_API int fsc_dict_open(const char *base_path, const fsc_options *opts,
                          fsc_dict **out);
/** As fsc_list_close / destroy / free / path (same errors, same rules). */
FSC_API int fsc_dict_close(fsc_dict *d);
FSC_API int fsc_dict_destroy(fsc_dict *d);
FSC_API void fsc_dict_free(fsc_dict *d);
FSC_API const char *fsc_dict_path(const fsc_dict *d);
/**
 * The value type (FSC_TYPE_ANY if heterogeneous), or a negative error:
 * FSC_EINVAL (NULL handle), FSC_ECLOSED.  Thread-safe.
 */
FSC_API int fsc_dict_type(const fsc_dict *d);
/**
 * The key type (FSC_TYPE_STRING or FSC_TYPE_BYTES), or a negative error:
 * FSC_EINVAL (NULL handle), FSC_ECLOSED.  Thread-safe.
 */
FSC_API int fsc_dict_key_type(const fsc_dict *d);

/** Number of keys.  Lock-free, no system call.  Caveat: a process killed
 * between publishing an insert or delete and counting it leaves the count
 * one off for as long as other processes keep the dict open; the last
 * close (and the first open after an unclean exit) recounts.  Growth of
 * the table recounts too.  Iteration is not affected.
 * Errors: FSC_EINVAL (NULL handle or `out`), FSC_ECLOSED.  Thread-safe. */
FSC_API int fsc_dict_len(fsc_dict *d, uint64_t *out);

/**
 * d[key], in *out.  Lock-free, no system call; a variable-size value is a
 * view valid until the handle closes (or fsc_dict_reclaim).
 *
 * Errors:
 *  - FSC_EKEY: the key is missing.
 *  - FSC_EINVAL: NULL handle or `out`; a NULL key with a nonzero klen;
 *    klen above FSC_KEY_MAX.
 *  - FSC_ETYPE: a key that is not valid UTF-8 in a string-keyed dict.
 *  - FSC_ECLOSED.
 *  - FSC_ECORRUPT: a slot or record that does not decode, or that fails
 *    its checksum on a read-only first opener after an unclean shutdown.
 *  - FSC_ETIMEDOUT: a table rebuild kept the table frozen so long that the
 *    reader went to the lock, and it did not come within lock_timeout_ms.
 *    FSC_EAGAIN: the same on a read-only handle, when the rebuilding
 *    process died (a read-write open repairs).
 *  - the errors of following a compaction (see Conventions).
 * Thread-safe and process-safe.
 */
FSC_API int fsc_dict_get(fsc_dict *d, const void *key, size_t klen,
                         fsc_value *out);

/**
 * d.get(key, default): as fsc_dict_get, but a missing key gives *dflt in
 * *out and returns 0 (dflt may be NULL: then FSC_EKEY as fsc_dict_get).
 * Errors: as fsc_dict_get.  Thread-safe.
 */
FSC_API int fsc_dict_get_default(fsc_dict *d, const void *key, size_t klen,
                                 const fsc_value *dflt, fsc_value *out);

/**
 * key in d: 1 or 0, or a negative error.  Lock-free, no system call.
 * Errors: as fsc_dict_get, without FSC_EKEY.  Thread-safe.
 */
FSC_API int fsc_dict_contains(fsc_dict *d, const void *key, size_t klen);

/**
 * d[key] = v.  Lock-free: the record is written, then one compare-and-swap
 * of the key's slot publishes it.  Two writers of one key both succeed, one
 * after the other.  The key's and value's bytes are copied.  In a cache
 * dict (fsc_options.cache_type) a new key that would pass the bound first
 * evicts a key by the dict's policy (and so do setdefault, incr and
 * update); a set of a key removes any TTL it had (fsc_dict_set_ttl).
 * With the admission filter (fsc_options.cache_admission, on by default
 * for LRU and LFU) a new key that would have to evict is stored only if
 * it was asked for more often than its victim: otherwise fsc_dict_set
 * (and fsc_dict_set_ttl, fsc_dict_update) returns 0 without storing it,
 * the dict unchanged, and counts it in
 * fsc_cache_metrics.admission_rejects; a later get misses.
 *
 * Errors:
 *  - FSC_ETYPE: the value's type; invalid UTF-8 or JSON; a key that is
 *    not valid UTF-8 in a string-keyed dict.
 *  - FSC_EVALUE: (cache dict) a record larger than cache_max_bytes.
 *  - FSC_EINVAL: NULL handle or `v`; a NULL key with a nonzero klen, or
 *    klen above FSC_KEY_MAX; a bad value (as fsc_list_append).
 *  - FSC_ENOSPC: the files could not grow.
 *  - FSC_ETIMEDOUT: growth of the files or of the table needed the lock
 *    and it did not come within lock_timeout_ms; (cache dict) the bound
 *    stayed full of other writers' inserts in flight that long.
 *  - FSC_EROFS, FSC_ECLOSED.
 *  - FSC_EIO: the sync of FSC_DURABLE_ALWAYS failed.
 *  - FSC_ECORRUPT: a damaged slot or record met on the way.
 *  - the errors of following a compaction (see Conventions).
 * Thread-safe and process-safe.
 */
FSC_API int fsc_dict_set(fsc_dict *d, const void *key, size_t klen,
                         const fsc_value *v);

/**
 * del d[key].  Lock-free.  Of two processes deleting one key, one succeeds
 * and the other gets FSC_EKEY.
 * Errors: FSC_EKEY (missing), and the others as fsc_dict_set.
 */
FSC_API int fsc_dict_del(fsc_dict *d, const void *key, size_t klen);

/**
 * d.pop(key[, default]): removes key and gives its value in *out (out may
 * be NULL; the value is a view valid until the handle closes).  A missing
 * key gives *dflt and returns 0, or FSC_EKEY when dflt is NULL.  Lock-free.
 * Errors: FSC_EKEY, and the others as fsc_dict_set.
 */
FSC_API int fsc_dict_pop(fsc_dict *d, const void *key, size_t klen,
                         const fsc_value *dflt, fsc_value *out);

/**
 * d.popitem(): removes the newest key (the last in iteration order) and
 * gives it in *key (a STRING or BYTES view) and its value in *val (either
 * may be NULL; views valid until the handle closes).
 * Cost: amortized O(1): each handle keeps, per process, a cache of the
 * walk of the data file that finds the newest key (its first call walks
 * every record written since the last compaction; later ones only what
 * was written since, and a rebuild now and then, doc/CONCURRENCY.md);
 * the cache takes up to 8 bytes of the process's heap per key inserted
 * since the last compaction, freed with the handle (fsc_dict_free).
 * With writers in other threads or processes, a key whose insert was in
 * flight during a pop may come out later than strictly newest first; it
 * comes out before popitem reports the dict empty.
 * Errors: FSC_EKEY ("popitem(): dictionary is empty"), and the others as
 * fsc_dict_set.  Thread-safe and process-safe: racing poppers get
 * different keys.
 */
FSC_API int fsc_dict_popitem(fsc_dict *d, fsc_value *key, fsc_value *val);

/**
 * d.setdefault(key, dflt): if key is missing, insert *dflt (atomically:
 * of several processes racing, exactly one inserts); give the key's value
 * in *out (may be NULL; a view valid until the handle closes).  Lock-free.
 * A write: FSC_EROFS on a read-only handle even when the key is there.
 * Errors: FSC_EINVAL (`dflt` NULL), FSC_ETYPE (`dflt` does not suit the
 * dict), and the others as fsc_dict_set.
 */
FSC_API int fsc_dict_setdefault(fsc_dict *d, const void *key, size_t klen,
                                const fsc_value *dflt, fsc_value *out);

/**
 * Atomically add delta to the int64 value of key (missing: 0), giving the
 * new value in *out (may be NULL): a lock-free read-modify-write that loses
 * no increment of any process.  The dict's type must be int64 or any.
 * Errors: FSC_ETYPE (the dict's type, or the key's value, is not int64;
 * a bad key), FSC_EVALUE (int64 overflow: the value is unchanged), and the
 * others as fsc_dict_set.  Thread-safe and process-safe.
 */
FSC_API int fsc_dict_incr(fsc_dict *d, const void *key, size_t klen,
                          int64_t delta, int64_t *out);
/*
 * (fsc_dict_incr is in place: the key's record becomes a counter record
 * at its first increment, and every later increment is one atomic add on
 * its value word: no new record, no dead bytes, no retry loop; see
 * fsc_list_incr for what closes a counter and what an increment racing a
 * pop, a set or a compaction of the key gives, and for the seal a damaged
 * value fails with FSC_ECORRUPT.  FSC_ETIMEDOUT as fsc_list_incr.)
 */

/**
 * fsc_dict_incr for a float value (missing: 0.0): lock-free, a CAS loop on
 * the counter record's value word (no new record after the first).  The
 * dict's type must be float or any.  Errors as fsc_dict_incr (no
 * overflow).  Thread-safe and process-safe.
 */
FSC_API int fsc_dict_incr_f64(fsc_dict *d, const void *key, size_t klen,
                              double delta, double *out);

/**
 * Compare-and-swap of a key's value: if the key holds exactly *expected
 * (same type and encoded bytes), or is absent when expected is NULL, make
 * it hold *desired (desired NULL: delete the key) and return 1; else
 * return 0 and give the current value in *current (may be NULL; type 0,
 * FSC_TYPE_UNSPEC, when the key is absent; a view valid until close).
 * Never loses a concurrent write: a write that lands between the compare
 * and the swap makes the swap fail and the call compare again.  Usable as
 * a lock (expected NULL to take it, desired NULL to release it), for
 * leader election and state machines.  An 8-byte value swapped for one of
 * its type is one CAS of a counter record in place.
 *
 * Errors: FSC_EINVAL (both NULL, a bad key or value), FSC_ETYPE,
 * FSC_ETIMEDOUT (as fsc_list_incr), and the others as fsc_dict_set.
 * Thread-safe and process-safe.
 */
FSC_API int fsc_dict_cas(fsc_dict *d, const void *key, size_t klen,
                         const fsc_value *expected, const fsc_value *desired,
                         fsc_value *current);

/**
 * The function fsc_dict_get_or_compute calls on a miss: compute the value
 * of key into *out (it must stay valid until the function returns to the
 * library, which stores it).  Returns 0, or a negative code that
 * fsc_dict_get_or_compute returns unchanged (nothing is stored).
 */
typedef int (*fsc_compute_fn)(const void *key, size_t klen, void *ctx,
                              fsc_value *out);

/**
 * Compute once: give key's value in *out (a view valid until the handle
 * closes); on a miss, exactly one caller among all the processes and
 * threads that miss the same key at once runs compute(key, klen, ctx,
 * &v) and stores v; the others wait (a futex on a claim word in the
 * mapped index file, no system call when the key is present) and then
 * read what it stored.  A computing process that dies releases its claim:
 * a waiter sees the claimer's pid gone (kill(pid, 0)) and takes over.
 * The claim is per key hash bucket (64 buckets): misses of different
 * keys in one bucket are computed one after the other.  Works on every
 * dict; a cache dict counts the hit or miss (fsc_dict_cache_metrics).
 * When a cache dict's admission filter refuses the computed value (see
 * fsc_dict_set), it is still given in *out (a view valid until the
 * handle closes), and the function ran once; the next miss computes
 * again.
 * Errors: FSC_EINVAL (compute or out NULL), FSC_ETIMEDOUT (another
 * computer held the claim longer than the handle's lock_timeout_ms), the
 * code compute returned, and the others as fsc_dict_get and fsc_dict_set.
 * Thread-safe and process-safe (processes must share a pid namespace for
 * the takeover of a dead claimer; otherwise a waiter times out).  compute
 * must not call fsc_dict_get_or_compute for a key of the same bucket.
 */
FSC_API int fsc_dict_get_or_compute(fsc_dict *d, const void *key,
                                    size_t klen, fsc_compute_fn compute,
                                    void *ctx, fsc_value *out);

/** What fsc_dict_cache_metrics reports; `size` as in fsc_metrics. */
typedef struct fsc_cache_metrics {
  size_t size;          /* set by the caller: sizeof(fsc_cache_metrics) */
  int cache_type;       /* FSC_CACHE_* of the file */
  uint64_t max_items;   /* the bounds (0: none) */
  uint64_t max_bytes;
  uint64_t items;       /* live keys, counting inserts in flight */
  uint64_t bytes;       /* bytes of their records */
  uint64_t evictions;   /* keys evicted, by every process, since the dict
                           was created (compaction keeps it) */
  uint64_t expirations; /* expired keys reclaimed by every process
                           (fsc_dict_set_ttl) */
  uint64_t hits;        /* gets that found the key, through this handle */
  uint64_t misses;      /* gets that did not, through this handle */
  int admission;        /* 1: the dict has the admission filter */
  uint64_t admission_rejects; /* new keys not stored because their victim
                           was asked for more often (every process;
                           compaction keeps it) */
} fsc_cache_metrics;

/**
 * The cache state of a dict: its policy and bounds, its shared counters
 * (items, bytes, evictions, expirations, admission_rejects) and this
 * handle's hits and misses (counted by
 * fsc_dict_get, fsc_dict_get_default and fsc_dict_get_or_compute on a
 * cache dict only).  Errors: FSC_EINVAL (out NULL or out->size too small),
 * the handle errors.  Lock-free; thread-safe.
 */
FSC_API int fsc_dict_cache_metrics(fsc_dict *d, fsc_cache_metrics *out);

/**
 * d[key] = *v with a time to live: the key expires ttl_ms milliseconds
 * from now (on CLOCK_REALTIME_COARSE, in milliseconds: the same clock in
 * every process and after a restart).  An expired key is absent to every
 * reader at once (fsc_dict_get, fsc_dict_get_default, fsc_dict_contains,
 * iteration, fsc_dict_get_or_compute, in every process); its space is
 * reclaimed lazily (a writable handle's get or contains that meets it
 * deletes it) and by a bounded sweep of a few sampled keys done by
 * writers (fsc_dict_set_ttl, fsc_dict_expire, and every write to a cache
 * dict).  Until then fsc_dict_len counts it, and fsc_dict_pop,
 * fsc_dict_setdefault and fsc_dict_incr see it.  A plain fsc_dict_set of
 * the key removes its TTL.  Works on every dict (its records then carry
 * the deadline: doc/FORMAT.md).
 * Errors: FSC_EINVAL (ttl_ms <= 0), and those of fsc_dict_set.
 * Thread-safe and process-safe; lock-free.
 */
FSC_API int fsc_dict_set_ttl(fsc_dict *d, const void *key, size_t klen,
                             const fsc_value *v, int64_t ttl_ms);

/**
 * Give key (present and not expired) a time to live of ttl_ms from now,
 * keeping its value (as fsc_dict_set_ttl).
 * Errors: FSC_EKEY (absent or expired), FSC_EINVAL (ttl_ms <= 0), and
 * those of fsc_dict_set.  Thread-safe and process-safe; lock-free: if
 * another write of the key lands first, the call starts again on the
 * value it wrote.
 */
FSC_API int fsc_dict_expire(fsc_dict *d, const void *key, size_t klen,
                            int64_t ttl_ms);

/** A key and a value, for fsc_dict_update_pairs. */
typedef struct fsc_dict_pair {
  const void *key;
  size_t klen;
  fsc_value value;
} fsc_dict_pair;

/**
 * d.update(src): set every item of src in d, in src's order;
 * fsc_dict_update_pairs sets n pairs in order.  Each value is checked
 * first; if one is invalid nothing is set.  Not atomic as a whole: other
 * writers may interleave.
 * Errors: as fsc_dict_set; FSC_EINVAL also for `pairs` NULL with n > 0;
 * for fsc_dict_update, src's read errors (as fsc_dict_iter_next, including
 * FSC_EAGAIN if src was compacted meanwhile: then d may hold part of it).
 */
FSC_API int fsc_dict_update(fsc_dict *d, fsc_dict *src);
FSC_API int fsc_dict_update_pairs(fsc_dict *d, const fsc_dict_pair *pairs,
                                  size_t n);

/**
 * d.clear().  Structural: takes the lock.  Space is reclaimed by
 * compaction.  Errors: as fsc_coll_clear.
 */
FSC_API int fsc_dict_clear(fsc_dict *d);

/**
 * 1 if both dicts hold the same keys with equal values (order does not
 * matter, as in Python), 0 if not, or a negative error.  Not a snapshot
 * while others write.  Errors: as fsc_dict_get and fsc_dict_iter_next,
 * for either dict.
 */
FSC_API int fsc_dict_equal(fsc_dict *a, fsc_dict *b);

/**
 * Iteration in insertion order (see "Order" above).  keys(), values() and
 * items() are the same iterator: pass NULL for what you do not want.
 *
 *   fsc_dict_iter it;  fsc_value k, v;
 *   fsc_dict_iter_init(d, &it);
 *   while ((rc = fsc_dict_iter_next(&it, &k, &v)) == 1) ...
 *
 * fsc_dict_iter_next returns 1 with an item, 0 at the end, or an error.
 * Keys and values are views valid until the handle closes.  The iterator
 * holds no resource: abandon it at any time.  One thread uses an iterator
 * at a time.
 * Errors: FSC_EINVAL (NULL handle or iterator), FSC_ECLOSED, FSC_EAGAIN
 * (the dict was compacted since fsc_dict_iter_init: start again), and a
 * reader's FSC_ECORRUPT / FSC_ETIMEDOUT (see fsc_dict_get);
 * fsc_dict_iter_init fails only with the first two.
 */
typedef struct fsc_dict_iter {
  fsc_dict *dict;
  uint64_t pos;
  uint64_t reserved[2];
} fsc_dict_iter;

/**
 * Start an iteration over `d` (fsc_dict_iter_init), and take the next
 * item (fsc_dict_iter_next: 1 with the key in *key and the value in *val,
 * either may be NULL; 0 at the end): see fsc_dict_iter above for the
 * guarantees and errors.
 */
FSC_API int fsc_dict_iter_init(fsc_dict *d, fsc_dict_iter *it);
FSC_API int fsc_dict_iter_next(fsc_dict_iter *it, fsc_value *key,
                               fsc_value *val);

/**
 * Predicate pushdown scan in iteration order: pred(key, value, ctx) for
 * each item, emit(key, value, ctx) for each one it accepts.  A negative
 * return from either stops the scan and is returned.  O(1) memory.
 * @return 0 at the end, a callback's negative value, or an error as
 *         fsc_dict_iter_next's.
 */
typedef int (*fsc_dict_pred)(const fsc_value *key, const fsc_value *val,
                             void *ctx);
typedef int (*fsc_dict_emit)(const fsc_value *key, const fsc_value *val,
                             void *ctx);
FSC_API int fsc_dict_scan(fsc_dict *d, fsc_dict_pred pred, fsc_dict_emit emit,
                          void *ctx);

/** As fsc_list_metrics / fsc_list_sync (same errors). */
FSC_API int fsc_dict_metrics(fsc_dict *d, fsc_metrics *out);
FSC_API int fsc_dict_sync(fsc_dict *d);

/**
 * Compaction: write the live records into new files and move every process
 * to them.  Takes the structure lock and freezes the dict for its duration:
 * readers go on reading, writers in every process wait (the pause is the
 * time to copy the live bytes; see bench/compact_bench), then carry on in
 * the new files.  Nothing acknowledged is lost; order is kept.  Afterwards
 * dead_bytes is 0 and the files hold only what is live.  Other processes
 * move to the new files at their next call.  Views handed out before stay
 * valid until the handle that gave them closes (or fsc_dict_reclaim): the
 * old files' disk space is freed when the last process unmaps them.
 * A process killed at any point leaves the old or the new dict, whole;
 * the next process to lock it finishes or undoes the switch and removes
 * left-over files (P.data.fscollection.compact, P.index.fscollection.compact).
 * An iterator begun before a compaction returns FSC_EAGAIN: start again.
 * Thread and process safe.
 * The new files get the old files' owner, group and mode (a compaction by
 * another member of a shared collection's group takes nothing over).
 * Errors: FSC_EROFS, FSC_ENOSPC (the old files are untouched), FSC_EIO,
 * FSC_EAGAIN (a temporary collection shared with forked processes),
 * FSC_EACCES (this user cannot give the new files the old files' owner:
 * the owner or root must compact), FSC_ETIMEDOUT (the lock did not come
 * within lock_timeout_ms), FSC_ECLOSED, FSC_EINVAL (NULL handle),
 * FSC_ECORRUPT (a live record failed its checksum: nothing changed),
 * FSC_ENOMEM.
 */
FSC_API int fsc_dict_compact(fsc_dict *d);

/**
 * Unmap the files of generations this handle used before compactions, and
 * so let the file system free their space.  Every view (zero-copy value)
 * obtained through this handle before its last move to new files becomes
 * invalid, and so does a path string fsc_*_path returned before it.
 * Call it when no other thread is inside a call on this handle and no
 * such view is in use.
 *
 * @return 0 on an open handle.
 * Errors: FSC_ECLOSED, FSC_EINVAL (NULL handle).
 */
FSC_API int fsc_dict_reclaim(fsc_dict *d);

/**
 * Typed shorthands with NUL-terminated keys, for fsc_dict_set,
 * fsc_dict_get and fsc_dict_del.  Errors: those of the function each one
 * calls; besides, _get_ variants fail with FSC_ETYPE if the value is of
 * another type, FSC_EINVAL if an output pointer is NULL (as the list's);
 * a NULL key or string value is FSC_EINVAL.  fsc_dict_get_str gives a
 * view (not NUL-terminated) valid until the handle closes.
 */
FSC_API int fsc_dict_set_str(fsc_dict *d, const char *key, const char *val);
FSC_API int fsc_dict_set_i64(fsc_dict *d, const char *key, int64_t val);
FSC_API int fsc_dict_set_f64(fsc_dict *d, const char *key, double val);
FSC_API int fsc_dict_get_str(fsc_dict *d, const char *key, const char **ptr,
                             size_t *len);
FSC_API int fsc_dict_get_i64(fsc_dict *d, const char *key, int64_t *out);
FSC_API int fsc_dict_get_f64(fsc_dict *d, const char *key, double *out);
FSC_API int fsc_dict_del_str(fsc_dict *d, const char *key);

/* ------------------------------------------------------------------------ */
/* Set                                                                       */
/* ------------------------------------------------------------------------ */

/**
 * A set of values of its element type.  An element's identity is its type
 * and its encoded bytes: in a heterogeneous (FSC_TYPE_ANY) set, int32 1,
 * int64 1 and float 1.0 are three different elements (in Python they are
 * one), and two floats are the same element when their bits are (so NaN
 * can be found again, and 0.0 and -0.0 differ).  JSON is compared as text.
 *
 * Concurrency is the dict's: contains and len lock-free without a system
 * call; add, discard, remove and pop lock-free; growth and clear take the
 * lock.  Iteration order is the order elements were added; it is weakly
 * consistent in the dict's sense.
 */
typedef struct fsc_set fsc_set;

/**
 * As fsc_list_open / close / destroy / free / path / type, with the same
 * errors; fsc_set_open also FSC_EKIND if the files hold a list or a dict
 * (and FSC_EINVAL for auto_compact).
 */
FSC_API int fsc_set_open(const char *base_path, const fsc_options *opts,
                         fsc_set **out);
FSC_API int fsc_set_close(fsc_set *s);
FSC_API int fsc_set_destroy(fsc_set *s);
FSC_API void fsc_set_free(fsc_set *s);
FSC_API const char *fsc_set_path(const fsc_set *s);
FSC_API int fsc_set_type(const fsc_set *s);

/**
 * Number of elements.  Lock-free, no system call.  As fsc_dict_len.
 * Errors: FSC_EINVAL (NULL handle or `out`), FSC_ECLOSED.
 */
FSC_API int fsc_set_len(fsc_set *s, uint64_t *out);

/**
 * s.add(v): 1 if v was added, 0 if it was already there.  Lock-free; of
 * processes racing to add one value, exactly one gets 1.
 * Errors: FSC_ETYPE (the value's type, invalid UTF-8 or JSON),
 * FSC_EINVAL (NULL handle or `v`; a bad value as fsc_list_append; an
 * element above FSC_KEY_MAX bytes), FSC_ENOSPC (the files could not
 * grow), FSC_ETIMEDOUT (growth of the files or of the table needed the
 * lock and it did not come within lock_timeout_ms), FSC_EROFS, FSC_EIO
 * (the sync of FSC_DURABLE_ALWAYS), FSC_ECLOSED,
 * FSC_ECORRUPT; the errors of following a compaction.
 */
FSC_API int fsc_set_add(fsc_set *s, const fsc_value *v);

/**
 * s.discard(v): 1 if v was removed, 0 if it was not there.  Lock-free.
 * Errors: as fsc_set_add, but a value of another type than the set's is
 * not there (0), not FSC_ETYPE.
 */
FSC_API int fsc_set_discard(fsc_set *s, const fsc_value *v);

/**
 * s.remove(v): 0, or FSC_EKEY if v is not there ("KeyError: element not
 * in set").  Lock-free.  Other errors: as fsc_set_discard.
 */
FSC_API int fsc_set_remove(fsc_set *s, const fsc_value *v);

/**
 * v in s: 1 or 0, or a negative error.  Lock-free, no system call.  A
 * value of another type than a typed set's is not in it (0, as Python's
 * `1 in {"a"}`); fsc_set_discard likewise returns 0 for it.
 * Errors: FSC_EINVAL (NULL handle or `v`), FSC_ECLOSED, and a reader's
 * FSC_ECORRUPT, FSC_ETIMEDOUT and FSC_EAGAIN, as fsc_dict_get.
 */
FSC_API int fsc_set_contains(fsc_set *s, const fsc_value *v);

/**
 * s.pop(): removes an element (the newest) and gives it in *out (a view
 * valid until the handle closes; out may be NULL).  Cost as
 * fsc_dict_popitem.
 * Errors: FSC_EKEY ("pop from an empty set"), and the others as
 * fsc_set_add.
 */
FSC_API int fsc_set_pop(fsc_set *s, fsc_value *out);

/** s.clear().  Structural.  Errors: as fsc_coll_clear. */
FSC_API int fsc_set_clear(fsc_set *s);

/**
 * Iteration (1 with an element, 0 at the end); elements are views valid
 * until the handle closes.  Weakly consistent, as the dict's; one thread
 * uses an iterator at a time.
 * Errors: as fsc_dict_iter_next (FSC_EAGAIN: the set was compacted since
 * fsc_set_iter_init; start again).
 */
typedef struct fsc_set_iter {
  fsc_set *set;
  uint64_t pos;
  uint64_t reserved[2];
} fsc_set_iter;

/**
 * Start an iteration over `s` (fsc_set_iter_init), and take the next
 * element (fsc_set_iter_next: 1 with it in *out, 0 at the end): see
 * fsc_set_iter above for the guarantees and errors.
 */
FSC_API int fsc_set_iter_init(fsc_set *s, fsc_set_iter *it);
FSC_API int fsc_set_iter_next(fsc_set_iter *it, fsc_value *out);

/**
 * Set algebra.  out := a OP b.  `out` may be `a` (the in-place forms:
 * a |= b, a &= b, a -= b, a ^= b) or a third set (typically a new temporary
 * one, base_path NULL), whose previous contents are replaced.  `out` may
 * not be `b` unless it is also `a`.  Every element written to out must
 * suit out's type (FSC_ETYPE otherwise, with out left partly updated).
 * Not atomic: out is written element by element, and a and b are read as
 * their iterators read them (weakly consistent).
 * Errors: FSC_EINVAL (a NULL set; out is b but not a), FSC_ETYPE,
 * FSC_EAGAIN (an operand was compacted meanwhile: call again), and those
 * of fsc_set_clear and fsc_set_add on out (FSC_EROFS, FSC_ENOSPC,
 * FSC_ETIMEDOUT, FSC_EIO, ...) and of iterating a and b (FSC_ECORRUPT,
 * ...); FSC_ECLOSED for a closed set.
 */
FSC_API int fsc_set_union(fsc_set *out, fsc_set *a, fsc_set *b);
FSC_API int fsc_set_intersection(fsc_set *out, fsc_set *a, fsc_set *b);
FSC_API int fsc_set_difference(fsc_set *out, fsc_set *a, fsc_set *b);
FSC_API int fsc_set_symmetric_difference(fsc_set *out, fsc_set *a, fsc_set *b);

/**
 * Predicates: 1 (true), 0 (false) or a negative error.
 * Errors: FSC_EINVAL (a NULL set), FSC_ECLOSED, and those of iterating
 * and looking up (FSC_EAGAIN, FSC_ECORRUPT, FSC_ETIMEDOUT).
 */
FSC_API int fsc_set_isdisjoint(fsc_set *a, fsc_set *b);
FSC_API int fsc_set_issubset(fsc_set *a, fsc_set *b);   /* a <= b */
        FSC_API int fsc_set_issuperset(fsc_set *a, fsc_set *b); /* a >= b */
        FSC_API int fsc_set_equal(fsc_set *a, fsc_set *b);

/**
 * Predicate pushdown scan, as fsc_list_scan (the index argument of emit is
 * the element's position in iteration order).  Errors: as
 * fsc_set_iter_next, or a callback's negative value.
 */
FSC_API int fsc_set_scan(fsc_set *s, fsc_list_pred pred, fsc_list_emit emit,
                         void *ctx);

/** As fsc_list_metrics / fsc_list_sync (same errors). */
FSC_API int fsc_set_metrics(fsc_set *s, fsc_metrics *out);
FSC_API int fsc_set_sync(fsc_set *s);

/**
 * Compaction: write the live records into new files and move every process
 * to them.  Takes the structure lock and freezes the set for its duration:
 * readers go on reading, writers in every process wait (the pause is the
 * time to copy the live bytes; see bench/compact_bench), then carry on in
 * the new files.  Nothing acknowledged is lost; order is kept.  Afterwards
 * dead_bytes is 0 and the files hold only what is live.  Other processes
 * move to the new files at their next call.  Views handed out before stay
 * valid until the handle that gave them closes (or fsc_set_reclaim): the
 * old files' disk space is freed when the last process unmaps them.
 * A process killed at any point leaves the old or the new set, whole;
 * the next process to lock it finishes or undoes the switch and removes
 * left-over files (P.data.fscollection.compact, P.index.fscollection.compact).
 * An iterator begun before a compaction returns FSC_EAGAIN: start again.
 * Thread and process safe.
 * The new files get the old files' owner, group and mode (a compaction by
 * another member of a shared collection's group takes nothing over).
 * Errors: FSC_EROFS, FSC_ENOSPC (the old files are untouched), FSC_EIO,
 * FSC_EAGAIN (a temporary collection shared with forked processes),
 * FSC_EACCES (this user cannot give the new files the old files' owner:
 * the owner or root must compact), FSC_ETIMEDOUT (the lock did not come
 * within lock_timeout_ms), FSC_ECLOSED, FSC_EINVAL (NULL handle),
 * FSC_ECORRUPT (a live record failed its checksum: nothing changed),
 * FSC_ENOMEM.
 */
FSC_API int fsc_set_compact(fsc_set *s);

/**
 * Unmap the files of generations this handle used before compactions, and
 * so let the file system free their space.  Every view (zero-copy value)
 * obtained through this handle before its last move to new files becomes
 * invalid, and so does a path string fsc_*_path returned before it.
 * Call it when no other thread is inside a call on this handle and no
 * such view is in use.
 *
 * @return 0 on an open handle.
 * Errors: FSC_ECLOSED, FSC_EINVAL (NULL handle).
 */
FSC_API int fsc_set_reclaim(fsc_set *s);

/**
 * Typed shorthands for fsc_set_add and fsc_set_contains with fsc_str (a
 * NUL-terminated string) and fsc_i64 values.  Errors: those of the
 * function each one calls; a NULL string is FSC_EINVAL.
 */
FSC_API int fsc_set_add_str(fsc_set *s, const char *v);
FSC_API int fsc_set_add_i64(fsc_set *s, int64_t v);
FSC_API int fsc_set_contains_str(fsc_set *s, const char *v);
FSC_API int fsc_set_contains_i64(fsc_set *s, int64_t v);

/* ------------------------------------------------------------------------ */
/* Verification and repair                                                   */
/* ------------------------------------------------------------------------ */

/** fsc_list_verify / fsc_dict_verify / fsc_set_verify flags */
#define FSC_VERIFY_REPAIR 0x1u /* repair what the check finds */

/**
 * What a verify call found (and repaired).  Versioned by `size` as
 * fsc_metrics is: set out->size = sizeof *out (or memset it to 0 and let
 * the library fill all it knows); the library fills at most `size` bytes
 * and sets `size` to what it filled.  The counts are those of the check
 * that ran first, before any repair; `healthy`, `problems_left` and
 * `length` describe the collection as the call leaves it.  Counts of one
 * problem kind are counted once per slot or counter, so a collection with
 * problems has at least one nonzero count.
 */
typedef struct fsc_verify_report {
  size_t size;                   /* set by the caller: sizeof *out */
  bool healthy;                  /* no problem (left, with REPAIR) */
  bool repaired;                 /* the repair changed the collection */
  bool counters_checked;         /* the counters were compared (only while
                                    no other handle has the collection
                                    open, and a pass found them still:
                                    see Concurrency below); false: they
                                    were not judged, nor repaired */
  uint64_t length;               /* elements (list) or keys (COUNT) */
  uint64_t records_checked;      /* records the index references, each
                                    read and its checksum verified */
  uint64_t records_bad;          /* of those, bad: the sum of the next 3 */
  uint64_t records_bad_bounds;   /* extends past the written data */
  uint64_t records_bad_type;     /* a type the collection cannot hold, or
                                    a payload that does not decode (or
                                    is no valid dict/set record) */
  uint64_t records_bad_checksum; /* does not match its checksum */
  uint64_t slots_checked;        /* index slots examined */
  uint64_t index_problems;       /* the sum of the next 3 */
  uint64_t index_dangling;       /* slots naming an offset outside the
                                    written data */
  uint64_t index_structure;      /* descriptors naming no region of the
                                    index; slots in no valid state; a
                                    frozen slot or fence no change holds;
                                    keys a lookup cannot reach (a wrong
                                    hash tag, a broken probe chain); a key
                                    in two slots; a structural change or
                                    rebuild left half-done by a process
                                    that died */
  uint64_t index_counters;       /* counters that disagree with the index:
                                    list length vs its slots, dict/set
                                    COUNT vs its keys, used slots, live
                                    and dead bytes, data tail/capacity */
  uint64_t items_repaired;       /* index problems the repair fixed, plus
                                    keys it recovered from the data file */
  uint64_t items_dropped;        /* elements or keys the repair removed:
                                    their record is bad or dangling */
  uint64_t problems_left;        /* problems a check still finds at the end
                                    (without REPAIR: all that were found) */
  uint64_t index_superseded;     /* of index_dangling: slots naming an
                                    older version of the element or key,
                                    which a later write superseded or a
                                    delete removed: a list record flagged
                                    deleted, or a dict/set record with a
                                    record of its key above it in the data
                                    file (looked for only while no other
                                    handle has it open; files of earlier
                                    builds flag those too): the value
                                    there is stale */
  uint64_t items_restored;       /* list structure words (length word, array
                                    descriptors) the repair restored from
                                    their sealed copy, or elements above a
                                    damaged length it adopted back; never a
                                    rollback to an older list */
  uint64_t items_tombstoned;     /* dict/set slots the repair turned into
                                    tombstones */
  uint64_t tables_rebuilt;       /* dict/set tables the repair rebuilt (from
                                    themselves or from the data file) */
  uint64_t counters_corrected;   /* counters the repair set right (length or
                                    COUNT, used slots, live/dead bytes) */
  uint64_t reserved[3];          /* zero; for growth */
} fsc_verify_report;

/**
 * Check a collection while it is in use, and optionally repair it: what
 * the first open after an unclean shutdown does by itself, on demand.
 *
 * The check reads every record the index references (bounds within the
 * written data, type, layout, checksum), the index structure (the list's
 * pointer array and its length word; the dict/set hash table: every slot's
 * state, each key's hash tag and that a lookup reaches it, no key in two
 * slots) and the shared counters (length or COUNT, used slots, live and
 * dead bytes).  Cost: O(length) for a list, O(table slots) for a dict or
 * set, one checksum per referenced record; no memory proportional to the
 * collection, except a list of damaged slots.
 *
 * Concurrency: it holds the structure lock for its whole run, so no
 * structural change (insert, pop, sort, slices, clear, growth, rebuild,
 * compaction) runs meanwhile; readers and lock-free writers (append, item
 * assignment, dict set/del, set add/discard) of every process go on, and
 * cannot make it report a problem that is not there: a bad record or slot
 * is counted only if it is still referenced when looked at again.  The
 * counters move with every write, and a writer may pause in the middle of
 * one (waiting for the lock), so they are judged only while no other
 * handle, in any process, has the collection open, over two passes
 * (without the lock) during which no writer moved them, a moment apart;
 * else counters_checked is false and they are left alone.  (Other threads
 * writing through this same handle meanwhile cannot be seen: a counter
 * problem reported then may be one of their writes in flight.)
 * Thread-safe; a read-only handle can check.
 *
 * flags: 0 or FSC_VERIFY_REPAIR, which repairs what the check found, then
 * checks again (report: healthy, problems_left):
 *  - list: the list's own recovery, a structural change safe while others
 *    write: it keeps the elements whose record verifies (the others are
 *    dropped: a list cannot be rebuilt from its data file, its records do
 *    not carry their position), finishes a change whose process died, and
 *    sets the length from the slots;
 *  - dict and set: slots naming a bad or dangling record, holding garbage,
 *    or shadowing another slot of the same key become tombstones (a key
 *    whose record is bad is dropped), then the table is rebuilt from
 *    itself (as growth does: safe while others write), which re-places
 *    every key by its hash and recounts.  A table that cannot be used, or
 *    that lost keys (COUNT more than 16 above the keys it holds: index
 *    pages lost with the power), or with a slot naming a superseded
 *    version of its key, is rebuilt from the data file instead (each
 *    surviving slot's record unless a record of its key lies above it,
 *    else the key's newest record: doc/DURABILITY.md).  That needs the collection alone: no other handle,
 *    in any process, may have it open (FSC_EAGAIN otherwise, with nothing
 *    changed), and no other thread may write through this handle
 *    during the call;
 *  - counters: live and dead bytes are corrected by the difference
 *    measured over a quiet pass.
 * What is dropped is reported (items_dropped), never silently lost.
 *
 * `out` may be NULL.  Returns 0 if the collection is healthy when the call
 * returns (with REPAIR: after the repair).  Errors: FSC_ECORRUPT (problems
 * found, or left after the repair; fsc_errmsg() names the first, the
 * report counts them all), FSC_EAGAIN (REPAIR needs the collection alone,
 * see above), FSC_EROFS (REPAIR on a read-only handle: nothing is
 * checked), FSC_ENOSPC (the repair needed to grow the index file and could
 * not: the collection is as it was), FSC_EINVAL (unknown flags, NULL
 * handle), FSC_ETIMEDOUT (the structure lock did not come within
 * lock_timeout_ms: nothing checked), FSC_ECLOSED, FSC_ENOMEM, FSC_EIO.
 * The report is filled as far
 * as the check went, whatever the return code.
 */
FSC_API int fsc_list_verify(fsc_list *l, unsigned flags,
                            fsc_verify_report *out);
FSC_API int fsc_dict_verify(fsc_dict *d, unsigned flags,
                            fsc_verify_report *out);
FSC_API int fsc_set_verify(fsc_set *s, unsigned flags,
                           fsc_verify_report *out);

/* ------------------------------------------------------------------------ */
/* Collections of any kind                                                   */
/* ------------------------------------------------------------------------ */

/**
 * fsc_coll is the kind-neutral face of an open collection: every operation
 * that means the same for a list, a dict and a set is here once, and a
 * program (or a tool, or a binding) that handles collections of any kind
 * needs no switch on the kind.  fsc_list, fsc_dict and fsc_set are typed
 * faces of the same handle: fsc_list_coll() and friends, and fsc_coll_list()
 * and friends, convert between the faces without a new open and without
 * allocating.  A handle has one life whichever face it is used through:
 * close or destroy it once, through any face, and free it once, through
 * any face (fsc_coll_free(fsc_list_coll(l)) and fsc_list_free(l) are the
 * same call).  The typed functions named after these (fsc_list_close,
 * fsc_dict_metrics, fsc_set_compact, ...) do exactly what the fsc_coll_
 * function does.
 */
typedef struct fsc_coll fsc_coll;

/** Collection kinds.  The numbering is part of the file format. */
typedef enum fsc_kind {
  FSC_KIND_ANY = 0,  /* fsc_open only: whatever the files hold */
  FSC_KIND_LIST = 1,
  FSC_KIND_DICT = 2,
  FSC_KIND_SET = 3
} fsc_kind;

/**
 * "list", "dict", "set", "any"; "unknown" for another number.  A static
 * string.  Errors: none.  Thread-safe.
 */
FSC_API const char *fsc_kind_name(fsc_kind k);

/**
 * Parse "list", "dict" or "set".
 * @return the kind (positive), or FSC_EINVAL (NULL or another name).
 * Thread-safe.
 */
FSC_API int fsc_kind_parse(const char *name);

/**
 * Open the collection at `base_path` as a collection of `kind`, or, with
 * FSC_KIND_ANY, of whatever kind its files hold (fsc_coll_kind tells which).
 * Everything fsc_list_open says about paths, options, temporary collections
 * (base_path NULL) and recovery after an unclean shutdown holds for every
 * kind.  FSC_KIND_ANY never creates: FSC_CREATE and FSC_EXCL are ignored
 * with it, a missing collection is FSC_ENOENT, and a temporary collection
 * needs a kind (FSC_EINVAL).
 *
 * @param base_path  the collection's path without the file suffixes, or
 *                   NULL for a temporary collection (not with
 *                   FSC_KIND_ANY)
 * @param kind       FSC_KIND_LIST, _DICT, _SET, or FSC_KIND_ANY
 * @param opts       options (NULL: FSC_OPTIONS_INIT)
 * @param out        receives the new handle
 * @return 0, or an error.
 * Errors:
 *  - FSC_EINVAL: a bad kind; FSC_KIND_ANY with a NULL base_path; bad
 *    options; `out` NULL; a path that is not a regular file; FSC_EXCL and
 *    the collection exists (see fsc_list_open).
 *  - FSC_ENOENT: missing, and FSC_CREATE not given or FSC_KIND_ANY.
 *  - FSC_EKIND: the files hold another kind than `kind`.
 *  - FSC_ETYPE: element or key type differs from the options'.
 *  - FSC_EACCES, FSC_ECORRUPT, FSC_EVERSION, FSC_ETIMEDOUT, FSC_EAGAIN,
 *    FSC_ENOSPC, FSC_ENOMEM, FSC_EIO: as fsc_list_open.
 * On success *out is a new handle (release it with fsc_coll_free); on
 * failure *out is NULL.  Thread-safe.
 */
FSC_API int fsc_open(const char *base_path, fsc_kind kind,
                     const fsc_options *opts, fsc_coll **out);

/**
 * The collection's kind (FSC_KIND_LIST, _DICT or _SET), or FSC_EINVAL for
 * a NULL handle, FSC_ECLOSED for a closed one.  Thread-safe.
 */
FSC_API int fsc_coll_kind(const fsc_coll *c);

/**
 * Conversions between the faces.  To the neutral face: never fails (NULL
 * gives NULL).  To a typed face: the same handle, or NULL when `c` is NULL,
 * closed, or of another kind; NULL records FSC_EKIND (or FSC_EINVAL /
 * FSC_ECLOSED) for fsc_errmsg(), and every typed function given NULL returns
 * FSC_EINVAL, so a mistaken conversion fails at its first use.
 * Neither allocates nor opens: the result has the handle's life.
 * Thread-safe.
 */
FSC_API fsc_coll *fsc_list_coll(fsc_list *l);
FSC_API fsc_coll *fsc_dict_coll(fsc_dict *d);
FSC_API fsc_coll *fsc_set_coll(fsc_set *s);
FSC_API fsc_list *fsc_coll_list(fsc_coll *c);
FSC_API fsc_dict *fsc_coll_dict(fsc_coll *c);
FSC_API fsc_set *fsc_coll_set(fsc_coll *c);

/**
 * Close the handle: the last process to close syncs (per durability) and
 * writes the clean-close marker (see fsc_list_close for the recovery a
 * last closer runs first).  The handle memory stays allocated, so
 * every later call returns FSC_ECLOSED; release it with fsc_coll_free().
 * Views handed out by this handle become invalid.  Not to be called while
 * another thread uses the handle.
 * Errors: FSC_ECLOSED (closed twice), FSC_EINVAL (NULL), FSC_EIO (the sync
 * or the marker could not be written: the next opener verifies),
 * FSC_ETIMEDOUT (the structure lock did not come within lock_timeout_ms:
 * closed all the same, without the marker).  The handle is closed
 * whatever the return code.
 */
FSC_API int fsc_coll_close(fsc_coll *c);

/**
 * Close the handle and delete both files (a temporary collection is just
 * closed).  Other processes that have it open keep their mappings and go on
 * using the unlinked files.  Errors: as fsc_coll_close.  Not while another
 * thread uses the handle.
 */
FSC_API int fsc_coll_destroy(fsc_coll *c);

/**
 * Close the handle if it is open, then free it.  NULL is a no-op.  The
 * close's errors are not reported.  Not while another thread uses the
 * handle.
 */
FSC_API void fsc_coll_free(fsc_coll *c);

/**
 * The base path the handle was opened with: NULL for a temporary
 * collection or a NULL handle.  Valid until the handle is freed (or
 * fsc_coll_reclaim after a compaction).  Errors: none.  Thread-safe.
 */
FSC_API const char *fsc_coll_path(const fsc_coll *c);

/**
 * The element type (FSC_TYPE_ANY for a heterogeneous collection; a dict's
 * value type), or FSC_EINVAL (NULL handle) / FSC_ECLOSED.  Thread-safe.
 */
FSC_API int fsc_coll_type(const fsc_coll *c);

/**
 * Number of elements or keys, in *out.  Lock-free, no system call.
 * Errors: FSC_EINVAL (NULL handle or out), FSC_ECLOSED.  Thread-safe.
 */
FSC_API int fsc_coll_len(fsc_coll *c, uint64_t *out);

/**
 * Remove every element or key (Python's clear()).  A structural change
 * (takes the lock); the space comes back with compaction.
 * Errors: FSC_EROFS, FSC_ECLOSED, FSC_EINVAL, FSC_ETIMEDOUT (the lock),
 * FSC_ENOSPC (a new, empty structure could not be made), FSC_EIO (the
 * sync of FSC_DURABLE_ALWAYS); the errors of following a compaction.
 * Thread-safe and process-safe.
 */
FSC_API int fsc_coll_clear(fsc_coll *c);

/**
 * Fill *out (set out->size = sizeof *out first, or 0 for all the library
 * knows; an older, smaller struct gets its fields only).  No lock; one
 * fstat per file, and a read of /proc/locks for open_processes.
 * Errors: FSC_EINVAL (NULL handle or out), FSC_ECLOSED.  Thread-safe.
 */
FSC_API int fsc_coll_metrics(fsc_coll *c, fsc_metrics *out);

/**
 * msync(MS_SYNC) and fsync of both files: when it returns 0, every write
 * that returned before the call survives a power loss.
 * Errors: FSC_EIO, FSC_ECLOSED, FSC_EINVAL.  Thread-safe.
 */
FSC_API int fsc_coll_sync(fsc_coll *c);

/**
 * Write the live records into new files and move every process to them
 * (see fsc_list_compact for the protocol and what it costs).
 * Errors: FSC_EROFS, FSC_ECLOSED, FSC_EINVAL, FSC_ENOSPC (nothing
 * changed), FSC_EAGAIN (a temporary collection shared across fork),
 * FSC_ECORRUPT (a record failed its checksum: nothing changed),
 * FSC_EACCES (the new files cannot get the old files' owner),
 * FSC_ETIMEDOUT (the lock), FSC_EIO, FSC_ENOMEM.  Thread-safe and
 * process-safe.
 */
FSC_API int fsc_coll_compact(fsc_coll *c);

/** fsc_coll_wait_change's `since` that is never an epoch: returns at once
 * with the current epoch. */
#define FSC_EPOCH_NONE UINT64_MAX

/**
 * Wait until the collection changed after epoch `since` (what *epoch said
 * last time; FSC_EPOCH_NONE to learn the current epoch without waiting),
 * or until timeout_ms has passed (< 0: no limit).  *epoch (may be NULL)
 * is the collection's change epoch when the call returns, also on
 * timeout.  Every published change counts (append, item assignment,
 * insert, pop and every structural change, dict and set writes and
 * deletes, a compare-and-swap, a compaction), except increments in place
 * (fsc_dict_incr, fsc_list_incr): they cost one atomic add and bump
 * nothing.  No polling: a futex on the collection's change event count,
 * in the data file's header, shared by every process (a read-only handle
 * cannot mark itself as waiting in the file, so it wakes every 2 ms to
 * look).  A return may be early when several changes come together.
 *
 * Errors: FSC_ETIMEDOUT (no change: *epoch is `since`), FSC_ECLOSED
 * (another thread closed the handle, which wakes its waiters), FSC_EINVAL;
 * the errors of following a compaction.  Thread-safe and process-safe; a
 * waiter killed while it sleeps leaves nothing behind.
 */
FSC_API int fsc_coll_wait_change(fsc_coll *c, uint64_t since,
                                 int64_t timeout_ms, uint64_t *epoch);
/** fsc_coll_wait_change on a list or a dict handle. */
FSC_API int fsc_list_wait_change(fsc_list *l, uint64_t since,
                                 int64_t timeout_ms, uint64_t *epoch);
FSC_API int fsc_dict_wait_change(fsc_dict *d, uint64_t since,
                                 int64_t timeout_ms, uint64_t *epoch);

/**
 * Unmap the files of generations this handle left behind by following
 * compactions: views taken from them become invalid (and a path string
 * fsc_coll_path returned before).  Always 0 on an open handle; errors:
 * FSC_ECLOSED, FSC_EINVAL.  Call it when no other thread is inside a call
 * on the handle and no such view is in use.
 */
FSC_API int fsc_coll_reclaim(fsc_coll *c);

/** Check, and with FSC_VERIFY_REPAIR repair, the collection: see
 * fsc_list_verify for what is checked, repaired and reported, and errors. */
FSC_API int fsc_coll_verify(fsc_coll *c, unsigned flags,
                            fsc_verify_report *out);

/**
 * Iteration over a collection of any kind: for a list, *key is the index
 * (FSC_TYPE_INT64) and *val the element; for a dict, the key and its value
 * in insertion order; for a set, *key and *val both hold the member.
 * Either pointer may be NULL.  The guarantees are the typed iterators'
 * (weakly consistent while others write; a dict or set iteration ends with
 * FSC_EAGAIN if the collection is compacted meanwhile).
 * fsc_coll_iter_next returns 1 with an element, 0 at the end, or a negative
 * error (FSC_ECLOSED, FSC_EAGAIN, FSC_ECORRUPT, FSC_ETIMEDOUT: the typed
 * iterators' errors; FSC_EINVAL for a NULL handle or iterator).  Views are
 * valid until the handle closes.  An iterator is used by one thread at a
 * time.
 */
typedef struct fsc_coll_iter {
  fsc_coll *coll;
  union {
    fsc_list_iter l;
    fsc_dict_iter d;
    fsc_set_iter s;
  } u;
  uint64_t reserved[2];
} fsc_coll_iter;

/**
 * Start an iteration over `c` (fsc_coll_iter_init: FSC_EINVAL, FSC_ECLOSED),
 * and take the next element (fsc_coll_iter_next): see fsc_coll_iter above.
 */
FSC_API int fsc_coll_iter_init(fsc_coll *c, fsc_coll_iter *it);
FSC_API int fsc_coll_iter_next(fsc_coll_iter *it, fsc_value *key,
                               fsc_value *val);

/* ------------------------------------------------------------------------ */
/* Nested collections: references                                           */
/* ------------------------------------------------------------------------ */

/*
 * A collection holds another (a dict of lists, a list of dicts, a set of
 * sets) by reference, as the Python fscollections package does: the parent
 * stores a FSC_TYPE_REF value, the URI
 *
 *     ref://fscollection:<list|dict|set>?path=<percent-encoded base path>
 *
 * and the child lives in its own two files.  Mutating the child writes to
 * the child's files only: a parent never rewrites a big child.  The path
 * is stored RELATIVE to the parent's directory when the child lives under
 * it (so a tree of collections can be moved or copied as a directory), and
 * absolute otherwise.  doc/FORMAT.md, "References", has the stored form.
 *
 * Life cycle: deleting, popping or overwriting a reference in the parent
 * (or clearing or destroying the parent) does not touch the child's
 * files, as in the Python package; fsc_ref_destroy removes them
 * explicitly.  A reference may name its own parent or an ancestor
 * (cycles): storing it and opening it one level at a time are fine (an
 * ancestor in a directory above the child's is outside the child's
 * directory: opening it needs FSC_REF_ALLOW_OUTSIDE, see below).
 *
 * Safety: the path in a reference is data that anyone who may write the
 * parent can plant.  fsc_ref_open and fsc_ref_destroy refuse (FSC_EACCES)
 * a reference that leads outside the parent's directory (an absolute
 * path, ".." climbing out, a directory on the way that is a symlink to
 * elsewhere) unless FSC_REF_ALLOW_OUTSIDE is given.
 */

/*
 * Make the reference to `child` to be stored in `parent`: *out becomes a
 * FSC_TYPE_REF value to pass to any write of the parent (fsc_dict_set,
 * fsc_list_append, fsc_list_set, fsc_set_add, ...) and to any lookup
 * (fsc_set_contains, fsc_list_index, ...).  The path is relative to the
 * parent's directory when the child lies under it (after making both
 * absolute against the current directory, without following symlinks),
 * else absolute; a temporary parent stores absolute paths.  The typed
 * handles convert: fsc_ref_make(fsc_dict_coll(d), fsc_list_coll(l), &v).
 * The child's files are not touched; nothing is written to the parent.
 *
 * Lifetime: out->u.buf.ptr points at a NUL-terminated copy the PARENT
 * handle keeps until it closes (each distinct reference is kept once, so
 * making the same reference again costs no memory).  Pass it to the
 * parent's own calls; to store it in another collection, make it for
 * that one (the relative path differs).
 *
 * Errors: FSC_EINVAL (a NULL argument; `child` is a temporary collection:
 * no path names it), FSC_ECLOSED (either handle closed), FSC_ENOMEM,
 * FSC_EIO (the current directory cannot be read).  On failure *out is
 * not changed.  Thread-safe (the parent's reference state has a mutex).
 */
FSC_API int fsc_ref_make(fsc_coll *parent, const fsc_coll *child,
                         fsc_value *out);

/*
 * Open the collection a reference value `ref` (read from `parent`, or
 * made by fsc_ref_make for it) names.  A relative path is resolved
 * against the parent's directory.  The child is opened with the kind the
 * reference names; it is never created (FSC_CREATE and FSC_EXCL are
 * ignored: a missing child is FSC_ENOENT).  `opts` NULL: the parent's
 * FSC_RDONLY and FSC_REF_ALLOW_OUTSIDE flags, durability and lock timeout,
 * the child's own types; else opts as for fsc_open.  The child's
 * fsc_coll_path is the resolved path: absolute, normalised (no "." or
 * ".." components).
 *
 * Cache: the children opened through a parent handle are kept open by it
 * (at most FSC_REF_CACHE_MAX, the least recently opened closes first),
 * so opening the same reference again (same resolved path, kind and
 * read-only flag) costs no system call and returns the same handle.
 * The cache closes with the parent.
 *
 * Ownership: *out is a reference to the child handle that the CALLER
 * releases with fsc_coll_free (or the typed _free) when done, as after
 * fsc_open; the cache holds its own share, so the handle stays valid after
 * the parent closes or evicts it, until the caller frees it.  Do not close
 * or destroy a child handle that came from here: that closes it for the
 * cache too (the next fsc_ref_open of it opens it again) and for other
 * callers that hold it.  Views the child hands out are valid until the
 * child handle is closed (by the last fsc_coll_free of it).
 *
 * Errors: FSC_EINVAL (NULL argument; bad options; a relative reference in
 * a temporary parent, which has no directory), FSC_ETYPE (`ref` is not a
 * FSC_TYPE_REF value), FSC_EVALUE (not a well-formed reference: bad
 * prefix or kind, no path, a bad percent escape, an encoded NUL),
 * FSC_EACCES (the path leads outside the parent's directory and
 * FSC_REF_ALLOW_OUTSIDE was not given; or an error of the open),
 * FSC_ENOENT (the child's files, or its directory, do not exist: a
 * dangling reference), FSC_EKIND (the files hold another kind), and the
 * errors of fsc_open.  On failure *out is NULL.  Thread-safe; two threads
 * opening the same reference at once get the same handle.
 */
#define FSC_REF_CACHE_MAX 64
FSC_API int fsc_ref_open(fsc_coll *parent, const fsc_value *ref,
                         const fsc_options *opts, fsc_coll **out);

/*
 * Delete the files of the child `ref` names (the reference itself stays in
 * the parent: delete it there).  The same path policy as fsc_ref_open
 * (flags: 0 or FSC_REF_ALLOW_OUTSIDE; the parent's own open flags count
 * too).  The parent's cached handle of the child is dropped; handles
 * others hold (in this or other processes) keep working on the unlinked
 * files, as after fsc_coll_destroy.
 * Errors: as fsc_ref_open (FSC_ENOENT: nothing to delete), FSC_EROFS (the
 * parent is open read-only).  Thread-safe.
 */
FSC_API int fsc_ref_destroy(fsc_coll *parent, const fsc_value *ref,
                            unsigned flags);

/* What fsc_ref_check found.  Versioned by `size` as fsc_metrics is. */
typedef struct fsc_ref_report {
  size_t size;        /* set by the caller: sizeof *out */
  uint64_t values;    /* values (and set members) walked */
  uint64_t refs;      /* of those, references */
  uint64_t dangling;  /* references whose child's files are missing */
  uint64_t outside;   /* references leading outside the parent's
                         directory (not checked without
                         FSC_REF_ALLOW_OUTSIDE) */
  uint64_t invalid;   /* references that are not well-formed */
  uint64_t reserved[4]; /* zero; for growth */
} fsc_ref_report;

/*
 * Walk `parent` once (fsc_coll_iter) and check every reference it holds:
 * that it parses and that both of its child's files exist (no child is
 * opened).  Dangling references are reported, not an error: the parent
 * itself is sound (fsc_coll_verify checks it).  flags: 0 or
 * FSC_REF_ALLOW_OUTSIDE (check references leading outside too).
 * Returns 0 with *out filled; errors: FSC_EINVAL (NULL argument, unknown
 * flags), FSC_ECLOSED, FSC_EAGAIN (a compaction of a dict or set during the
 * walk: check again), FSC_ECORRUPT, FSC_ENOMEM.  Thread and process safe
 * (a weakly consistent walk, as iteration is).
 */
FSC_API int fsc_ref_check(fsc_coll *parent, unsigned flags,
                          fsc_ref_report *out);

/* ------------------------------------------------------------------------ */
/* Asynchronous API (event loops)                                            */
/* ------------------------------------------------------------------------ */

/**
 * For event-driven programs (libuv, libevent, a raw epoll loop): the
 * operations that can block or take long run on a small pool of worker
 * threads that an fsc_loop owns, and their completions are delivered on
 * the thread that calls fsc_loop_run, which the program calls when the
 * loop's one file descriptor (fsc_loop_fd, an eventfd) is readable.
 *
 *   fsc_loop *loop;  fsc_loop_new(NULL, &loop);
 *   epoll_ctl(ep, EPOLL_CTL_ADD, fsc_loop_fd(loop), &(struct epoll_event){
 *                 .events = EPOLLIN});
 *   fsc_list_insert_async(loop, l, 0, &v, on_done, ctx, NULL);
 *   ... when epoll says the fd is readable: fsc_loop_run(loop);
 *
 * What is asynchronous: open, close, sync, compact, verify, clear, the
 * list's structural operations (insert, pop, del, remove, reverse, sort,
 * slice assignment and deletion), scans, which deliver their matches
 * in batches, and the waits (fsc_list_pop_wait_async,
 * fsc_coll_wait_change_async).  fsc_async_call runs any other blocking
 * call the same way.
 * What stays synchronous, because it never waits: get, len, contains,
 * append, item assignment, dict set/del, set add/discard (lock-free, no
 * system call on their fast path: call them from the loop thread).  A
 * lock-free write that must grow the files may take the lock; so may a
 * reader that finds the structure frozen for long (see fsc_list_get).
 *
 * Trying a structural change without waiting: a handle opened with
 * fsc_options.lock_timeout_ms = 0 tries the structure lock once, and a
 * busy lock is FSC_ETIMEDOUT at once (not FSC_EAGAIN, which the library
 * keeps for "start again").  A program can keep such a handle beside its
 * normal one: try the change synchronously, and on FSC_ETIMEDOUT send it
 * to the loop on the normal handle.
 *
 * Order: the requests on one collection handle run one after another, in
 * the order they were submitted, and complete in that order; requests on
 * different handles run in parallel (at most fsc_loop_options.threads at
 * once).  Requests flagged FSC_ASYNC_UNORDERED (calls that block by
 * design, such as a wait for a change) run beside the handle's ordered
 * requests.
 *
 * Lifetime: a submission that returns 0 gives exactly one completion
 * callback, run by fsc_loop_run (or fsc_loop_free) on the loop thread,
 * never inside the submitting call.  The request handle (fsc_req) is
 * valid until its completion callback returns.  Values handed to a
 * callback (a popped element, scan matches) are views into the handle's
 * files, valid until the handle closes.  Values passed in are copied at
 * submission.
 *
 * Closing: close a handle that has requests in flight with
 * fsc_coll_close_async: requests that have not started complete with
 * FSC_ECLOSED, a running scan or wait is cancelled, submissions on the
 * handle fail with FSC_ECLOSED (no callback) from then on, and the
 * close's own callback is the handle's last one, so the handle can be
 * freed there.  To close after the handle's requests instead, submit
 * the close from the last one's callback.  (A synchronous
 * fsc_coll_close or fsc_coll_free with requests in flight is a close
 * while another thread uses the handle: undefined.)  fsc_loop_free
 * completes what has not started with FSC_ECANCELED, cancels what runs,
 * waits for the workers, and runs every remaining callback before it
 * returns.
 */
typedef struct fsc_loop fsc_loop;
typedef struct fsc_req fsc_req;

/** Options of fsc_loop_new: start from FSC_LOOP_OPTIONS_INIT. */
typedef struct fsc_loop_options {
  size_t size;      /* sizeof(fsc_loop_options) of the caller */
  unsigned threads; /* worker threads, 1..64 (default 2).  A request that
                       blocks (a wait, a structural change waiting for the
                       lock) holds one for its duration */
} fsc_loop_options;

#define FSC_LOOP_OPTIONS_INIT { sizeof(fsc_loop_options), 2 }

/**
 * What a completion carries besides its return code: `coll`, the handle
 * an open made (the callback owns it: free it with fsc_coll_free); `value`,
 * the element a pop or pop_wait removed (a copy, valid during the
 * callback: a close submitted after the pop may end the handle's views
 * before the callback runs); `u64`,
 * a count or epoch (a scan: the items it delivered).
 */
typedef struct fsc_async_result {
  fsc_coll *coll;
  fsc_value value;
  uint64_t u64;
} fsc_async_result;

/**
 * A completion callback: `rc` is the operation's return code (what the
 * synchronous call would have returned), FSC_ECANCELED (cancelled, or the
 * loop was freed first) or FSC_ECLOSED (the handle was closed first).
 * Runs on the thread calling fsc_loop_run; it may submit requests and
 * cancel others.
 */
typedef void (*fsc_async_cb)(fsc_req *req, int rc,
                             const fsc_async_result *res, void *data);

/**
 * Create a loop and start its worker threads.  `opts` NULL means
 * FSC_LOOP_OPTIONS_INIT.
 * Errors: FSC_EINVAL (`out` NULL, a bad size or thread count),
 * FSC_ENOMEM, FSC_EIO (eventfd(2) or pthread_create failed).
 * Thread-safe.
 */
FSC_API int fsc_loop_new(const fsc_loop_options *opts, fsc_loop **out);

/**
 * The loop's pollable descriptor (an eventfd): readable when completions
 * are ready.  Poll it for reading (level-triggered or edge-triggered:
 * fsc_loop_run drains it); do not read or close it yourself.
 * @return the descriptor, or FSC_EINVAL for a NULL loop.  Thread-safe.
 */
FSC_API int fsc_loop_fd(const fsc_loop *loop);

/**
 * Deliver the completions that are ready: run their callbacks on the
 * calling thread, in order, and return.  Never blocks.  Call it from one
 * thread at a time (the loop's thread).
 * @return the number of callbacks run (>= 0), or FSC_EINVAL (NULL loop).
 */
FSC_API int fsc_loop_run(fsc_loop *loop);

/**
 * Requests submitted and not yet delivered (their callback has not run):
 * 0 when the loop is idle.  Errors: FSC_EINVAL (NULL loop).  Thread-safe.
 */
FSC_API int64_t fsc_loop_pending(const fsc_loop *loop);

/**
 * Stop the loop: requests that have not started complete with
 * FSC_ECANCELED, running scans and cancellable calls are cancelled, the
 * workers are joined (a running operation is waited for), and every
 * callback still due runs on the calling thread before this returns.
 * Then the loop is freed.  NULL is a no-op.  Call it from the loop's
 * thread, not from a callback.
 */
FSC_API void fsc_loop_free(fsc_loop *loop);

/**
 * Cancel a request, from the loop's thread (or with its own
 * synchronisation with fsc_loop_run), before its callback has run.
 * @return 0: it had not started, and completes with FSC_ECANCELED;
 *         1: it is running and was asked to stop: a scan, a wait, and a
 *            call that polls fsc_req_cancelled complete with
 *            FSC_ECANCELED, any other operation runs to its end and
 *            completes with its own result;
 *         FSC_EAGAIN: it has already finished (its callback is queued
 *            and carries its own result);
 *         FSC_EINVAL: `req` is NULL.
 */
FSC_API int fsc_req_cancel(fsc_req *req);

/**
 * For an fsc_async_fn running on a worker: whether its request was
 * cancelled (by fsc_req_cancel, fsc_coll_close_async or fsc_loop_free).
 * A long call should poll it and return FSC_ECANCELED.  Thread-safe.
 */
FSC_API bool fsc_req_cancelled(const fsc_req *req);

/** fsc_async_call flags */
#define FSC_ASYNC_UNORDERED 0x1u /* run beside the handle's ordered requests
                                    (a call that blocks by design) */

/**
 * A blocking call to run on a worker: the request, its handle (as given
 * to fsc_async_call, may be NULL), the caller's argument, and the result
 * to fill.  Its return value is the completion's rc.
 */
typedef int (*fsc_async_fn)(fsc_req *req, fsc_coll *c, void *arg,
                            fsc_async_result *res);

/**
 * Run fn(req, c, arg, &res) on a worker and complete with its return code
 * and result: the generic request every other asynchronous operation is
 * made of.  With `c` non-NULL the call is ordered with c's other requests
 * (unless FSC_ASYNC_UNORDERED) and is closed or cancelled with c.  `arg`
 * is the caller's and must stay valid until the callback.
 * @param req  receives the request handle (may be NULL)
 * Errors (no callback will run): FSC_EINVAL (NULL loop, fn or cb; unknown
 * flags), FSC_ECLOSED (a close of `c` was submitted), FSC_ENOMEM.  Every other outcome comes through the callback.
 * Thread-safe: any thread may submit.
 */
FSC_API int fsc_async_call(fsc_loop *loop, fsc_coll *c, unsigned flags,
                           fsc_async_fn fn, void *arg, fsc_async_cb cb,
                           void *data, fsc_req **req);

/**
 * Asynchronous forms of fsc_open, fsc_coll_close, fsc_coll_sync,
 * fsc_coll_compact, fsc_coll_verify and fsc_coll_clear: the same
 * operation on a worker; the callback gets its return code (and for the
 * open, the new handle in res->coll).  fsc_open_async copies base_path
 * and opts.  fsc_coll_verify_async fills *report (may be NULL), which must
 * stay valid until the callback.  fsc_coll_close_async closes the handle
 * after its running requests end (cancelling scans and waits) and
 * completes its pending ones with FSC_ECLOSED first (see "Closing"
 * above); the callback may free the handle.  fsc_open_async is not
 * tied to a handle: fsc_loop_free waits for it, and its callback gets
 * the handle.
 * Errors of the submission (no callback): FSC_EINVAL (NULL loop, handle
 * or cb; an opts->size fsc_open would refuse; bad verify flags are the
 * callback's), FSC_ECLOSED (a close of the handle was submitted; also
 * for every submission below), FSC_ENOMEM.  Thread-safe.
 */
FSC_API int fsc_open_async(fsc_loop *loop, const char *base_path,
                           fsc_kind kind, const fsc_options *opts,
                           fsc_async_cb cb, void *data, fsc_req **req);
FSC_API int fsc_coll_close_async(fsc_loop *loop, fsc_coll *c,
                                 fsc_async_cb cb, void *data, fsc_req **req);
FSC_API int fsc_coll_sync_async(fsc_loop *loop, fsc_coll *c, fsc_async_cb cb,
                                void *data, fsc_req **req);
FSC_API int fsc_coll_compact_async(fsc_loop *loop, fsc_coll *c,
                                   fsc_async_cb cb, void *data,
                                   fsc_req **req);
FSC_API int fsc_coll_verify_async(fsc_loop *loop, fsc_coll *c, unsigned flags,
                                  fsc_verify_report *report, fsc_async_cb cb,
                                  void *data, fsc_req **req);
FSC_API int fsc_coll_clear_async(fsc_loop *loop, fsc_coll *c, fsc_async_cb cb,
                                 void *data, fsc_req **req);

/**
 * Asynchronous forms of the list's structural operations: the callback
 * gets what fsc_list_insert, _pop (the element in res->value), _del,
 * _remove, _reverse, _sort, _slice_set and _slice_del return.  Values are
 * copied at submission (a bad value is the callback's FSC_ETYPE or
 * FSC_EINVAL, as the synchronous call's).
 * Errors of the submission (no callback): FSC_EINVAL (NULL loop, handle,
 * value or cb; `vs` NULL with n > 0), FSC_EKIND (the handle is a dict's
 * or a set's, cast to fsc_list), FSC_ECLOSED, FSC_ENOMEM.  Thread-safe.
 */
FSC_API int fsc_list_insert_async(fsc_loop *loop, fsc_list *l, int64_t index,
                                  const fsc_value *v, fsc_async_cb cb,
                                  void *data, fsc_req **req);
FSC_API int fsc_list_pop_async(fsc_loop *loop, fsc_list *l, int64_t index,
                               fsc_async_cb cb, void *data, fsc_req **req);
FSC_API int fsc_list_del_async(fsc_loop *loop, fsc_list *l, int64_t index,
                               fsc_async_cb cb, void *data, fsc_req **req);
FSC_API int fsc_list_remove_async(fsc_loop *loop, fsc_list *l,
                                  const fsc_value *v, fsc_async_cb cb,
                                  void *data, fsc_req **req);
FSC_API int fsc_list_reverse_async(fsc_loop *loop, fsc_list *l,
                                   fsc_async_cb cb, void *data,
                                   fsc_req **req);
FSC_API int fsc_list_sort_async(fsc_loop *loop, fsc_list *l, bool reverse,
                                fsc_async_cb cb, void *data, fsc_req **req);
FSC_API int fsc_list_slice_set_async(fsc_loop *loop, fsc_list *l, fsc_slice s,
                                     const fsc_value *vs, size_t n,
                                     fsc_async_cb cb, void *data,
                                     fsc_req **req);
FSC_API int fsc_list_slice_del_async(fsc_loop *loop, fsc_list *l, fsc_slice s,
                                     fsc_async_cb cb, void *data,
                                     fsc_req **req);

/**
 * Asynchronous forms of the blocking waits fsc_list_pop_wait and
 * fsc_coll_wait_change (fsc_list_wait_change and fsc_dict_wait_change are
 * fsc_coll_wait_change_async on fsc_list_coll(l) or fsc_dict_coll(d)):
 * the same wait on a worker, flagged FSC_ASYNC_UNORDERED, so it runs
 * beside the handle's ordered requests (an insert submitted after it is
 * not held back by it).  A wait holds a worker thread while it sleeps:
 * give the loop a thread more than the waits you keep in flight.
 *
 * Result: fsc_list_pop_wait_async completes with 0 and the popped element
 * in res->value; its bytes (a string, bytes, JSON or a reference) are the
 * request's own copy, valid until the callback returns (not a view: a
 * close of the handle may run on a worker before the callback does; if
 * the copy cannot be allocated, the view, valid until the handle closes).
 * Copy them to keep them.  fsc_coll_wait_change_async completes with 0
 * and the new epoch in res->u64; on FSC_ETIMEDOUT res->u64 is the epoch
 * at the deadline.
 *
 * Cancel: fsc_req_cancel on a running wait, fsc_coll_close_async of the
 * handle and fsc_loop_free end it within 50 ms (the wait runs in slices
 * and checks between them) with FSC_ECANCELED; a close then closes the
 * handle, so a blocked wait ends with FSC_ECANCELED, never FSC_ECLOSED
 * (FSC_ECLOSED is for a wait that had not started when the close was
 * submitted).  A pop that succeeded in the slice during which the cancel
 * came is not undone: the callback gets 0 and the element, never
 * FSC_ECANCELED for an element taken off the list.
 *
 * Errors through the callback: FSC_ETIMEDOUT (nothing popped, no change
 * within timeout_ms; < 0: no limit, 0: look once), FSC_ECANCELED,
 * FSC_ECLOSED, FSC_EINVAL (an index other than 0 and -1), and the errors
 * of fsc_list_pop_wait or fsc_coll_wait_change.
 * Errors of the submission (no callback): FSC_EINVAL (NULL loop, handle
 * or cb), FSC_EKIND (fsc_list_pop_wait_async on a dict's or a set's
 * handle cast to fsc_list), FSC_ECLOSED (a close of the handle was
 * submitted), FSC_ENOMEM.  Thread-safe: any thread may submit; the waits
 * are process-safe as the synchronous ones (an append by another process
 * ends them).
 */
FSC_API int fsc_list_pop_wait_async(fsc_loop *loop, fsc_list *l,
                                    int64_t index, int64_t timeout_ms,
                                    fsc_async_cb cb, void *data,
                                    fsc_req **req);
FSC_API int fsc_coll_wait_change_async(fsc_loop *loop, fsc_coll *c,
                                       uint64_t since_epoch,
                                       int64_t timeout_ms, fsc_async_cb cb,
                                       void *data, fsc_req **req);

/**
 * A scan's match: for a list, `key` is the index (FSC_TYPE_INT64) and
 * `val` the element; for a dict, the key and its value; for a set, both
 * hold the member (as fsc_coll_iter_next).  Views valid until the handle
 * closes.
 */
typedef struct fsc_scan_item {
  fsc_value key;
  fsc_value val;
} fsc_scan_item;

/**
 * A scan's predicate, run on a worker thread for each item (nonzero:
 * a match; NULL accepts every item).  It must be safe to run beside the
 * loop thread.  A negative return stops the scan with that code.
 */
typedef int (*fsc_scan_pred)(const fsc_value *key, const fsc_value *val,
                             void *data);
/**
 * A scan's batch callback, run on the loop thread with up to batch_size
 * matches in iteration order.  The items are valid during the call (their
 * values until the handle closes).  A negative return stops the scan,
 * which then completes with that code.
 */
typedef int (*fsc_scan_batch)(fsc_req *req, const fsc_scan_item *items,
                              size_t n, void *data);

/**
 * Scan a collection of any kind on a worker: pred selects, matches are
 * delivered in batches of up to batch_size (0: 64) to `batch` on the loop
 * thread, then `cb` completes with 0 (res->u64: the matches delivered), a
 * callback's negative value, FSC_ECANCELED, FSC_ECLOSED or an iteration
 * error (as fsc_coll_iter_next's).  Memory: two batches, whatever the
 * collection's size (the worker fills one while the loop reads the other,
 * and waits for the loop when it is ahead).  Weakly consistent, as
 * iteration.  Cancellable while it runs.
 * Errors of the submission (no callback): FSC_EINVAL (NULL loop, handle,
 * batch or cb; batch_size above 65536), FSC_ENOMEM.  Thread-safe.
 */
FSC_API int fsc_coll_scan_async(fsc_loop *loop, fsc_coll *c,
                                fsc_scan_pred pred, fsc_scan_batch batch,
                                size_t batch_size, fsc_async_cb cb,
                                void *data, fsc_req **req);

#ifdef __cplusplus
}
#endif
#endif /* FSCOLLECTIONS_H */
