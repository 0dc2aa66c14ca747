/*
 * internal.h - what the library's source files share and users never see:
 * the base layer (base/base.h), the on-disk format (file/format.h), the
 * generation and the handle, the kind operations table, and the fsc__
 * internal functions of each file-layer module (doc/DESIGN.md).
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
#include <time.h>
#ifdef FSC_TSAN
#include "ck_pr_tsan.h" /* --enable-tsan: loads/stores TSan can see */
#endif
/* After ck_pr_tsan.h: ck_ec's inline loads and stores are then TSan's
 * atomics too. */
#include <ck_ec.h>

#include "fscollections.h"

#include "base/base.h"
#include "file/format.h"

/* The code a new process runs from fsc_open to its first get, kept in
 * one section: a process's first call into a page of the library's code
 * is a page fault (2 to 3 us each, measured by bench/open_bench), and
 * these functions were spread over four 64 KiB stretches of the library
 * (the fault maps at most one such stretch).  GNU ld places every
 * .text.hot.* section together at the start of .text (other linkers keep
 * it in .text).  Only the success path of an open of an existing
 * collection and of a get; nothing here changes what the code does. */
#define FSC__OPEN_PATH __attribute__((section(".text.hot.fsc_open")))

/* Internal only, never returned to users: the generation a handle used
 * was compacted away (its files are MOVED).  The public call follows the
 * handle to the new files and runs again (FSC__GEN). */
#define FSC__EMOVED (-30999)

/* ------------------------------------------------------------------ */
/* map.c - the two files, their mappings, growth                       */
/* ------------------------------------------------------------------ */

#define FSC__MAX_VIEWS 48
#define FSC__MAX_DROPS 4

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
  int access;                       /* fsc_options.access: the hint every
                                       view gets (madvise) */
  pthread_mutex_t mu;               /* guards creating views */
  pthread_mutex_t gmu;              /* grow.c: one growth step of this
                                       handle's data file at a time (the
                                       growth lock's in-process half) */
  uint32_t tight;                   /* behind.c: nonzero while the kernel
                                       is seen evicting this file's recent
                                       pages (ck_pr_*: appenders set it) */
  uint64_t behind_from;             /* behind.c: the first mark this
                                       handle saw (0: none yet; CAS) */
  uint64_t ahead_from, ahead_end;   /* prealloc.c: the range this handle
                                       last had allocated ahead; under mu */
  struct fsc__view views[FSC__MAX_VIEWS];
  unsigned nviews;
  /* map.c: ranges of this process's views whose page table entries are
   * to be dropped a bounded chunk at a time (fsc__file_drop_later), oldest
   * first; under mu.  `dropping` is the bytes left in them (ck_pr: the
   * callers of fsc__file_drop_some read it without mu). */
  struct fsc__drop {
    uint8_t *p;
    uint64_t len;
  } drops[FSC__MAX_DROPS];
  unsigned ndrops;
  uint64_t dropping;
};

/* Growth steps (map.c): doubling below FSC__GROW_MIN, then that, then
 * an eighth of the size (at most FSC__GROW_MAX); at least `need`. */
#define FSC__GROW_MIN (UINT64_C(4) << 20)
#define FSC__GROW_MAX (UINT64_C(8) << 20)
uint64_t fsc__file_grow_size(uint64_t cap, uint64_t need);
/* The data file grows ahead (record.c): the appender whose record
 * crosses fsc__grow_mark(cap) allocates the next step while the others
 * go on appending below cap; a quarter of a small file, FSC__GROW_AHEAD
 * of a larger one. */
#define FSC__GROW_AHEAD (UINT64_C(2) << 20)
static inline uint64_t fsc__grow_mark(uint64_t cap) {
  return cap - (cap / 4 < FSC__GROW_AHEAD ? cap / 4 : FSC__GROW_AHEAD);
}
/* Mark [off, off + len) of the current view for a walk in file order
 * (seq: MADV_SEQUENTIAL, the first stretch WILLNEED), or give it the
 * handle's hint back (!seq).  Advice only: never fails. */
void fsc__file_advise(struct fsc__file *f, uint64_t off, uint64_t len,
                      bool seq);
/* Fault [p, p + len) of a writable shared mapping in before it is used
 * (MADV_POPULATE_WRITE, else a write fault a page that changes nothing),
 * so that later stores take no page fault.  Advice only: never fails. */
void fsc__mem_populate(void *p, uint64_t len);
/* Write zeros over [off, off + len) of f's file (pwrite(2)), to be
 * faulted in next (fsc__mem_populate): the fault-in then finds the pages
 * in the page cache, written and dirty, several times cheaper than
 * faulting in fallocated space (hash_migrate.c, PREP_CHUNK).  It DESTROYS
 * what the range holds: only for a range of zeros, inside the file, that
 * nobody can write or adopt meanwhile (the caller's structure lock says
 * so; under it, f's descriptor stays open).  Not past the process's file
 * size limit (write(2) would raise SIGXFSZ).  Advice only: a write that
 * fails is left, never reported. */
void fsc__file_zero(struct fsc__file *f, uint64_t off, uint64_t len);
/* The same on a descriptor: true when every byte was written. */
bool fsc__fd_zero(int fd, uint64_t off, uint64_t len);
/* Drop this process's page table entries for the whole pages inside
 * [p, p + len) of a shared file mapping (MADV_DONTNEED: the bytes stay in
 * the file and the page cache; a later access faults them back in), so
 * that memory no longer used here (a table a growth left behind) stops
 * counting in the process's RSS.  Advice only: never fails. */
void fsc__mem_drop(void *p, uint64_t len);
/* fsc__mem_drop spread over later calls: [p, p + len), a range of one of
 * f's views, is dropped at most a chunk at a time by fsc__file_drop_some,
 * so that no single operation pays for zapping hundreds of megabytes of
 * page table entries (a view a larger one replaced, a table a growth
 * left behind).  Never fails (with no room left, the oldest pending range
 * is dropped at once). */
void fsc__file_drop_later(struct fsc__file *f, void *p, uint64_t len);
void fsc__file_drop_run(struct fsc__file *f, uint64_t max);
/* Drop at most `max` bytes of what fsc__file_drop_later left pending:
 * one atomic load when nothing is (the callers are hot paths: every
 * append drops FSC__DROP_CHUNK of an old data view, every insert of a
 * dict or set as much of an old index view or table).  2 MiB, 512
 * pages: about 0.15 ms of zapping (0.3 us a resident page) and one TLB
 * flush, which is what a small chunk costs: each madvise(2) flushes, and
 * on this 2-core VM with the other core busy a flush took 0.1 to 0.3 ms.
 * With 64 KiB chunks a writer beside a reader, past its data file's
 * first view, spent a second in 4,600 such calls, one an append: 0.42M
 * overwrites/s over 3 s and a p99.9 of 340 us, against 0.65-0.76M/s and
 * 38-46 us with 1 to 4 MiB chunks (bench/driver's rw workload, 1M keys);
 * a 4M-key fill, which drops the tables its migrations left behind, saw
 * a p99.9 put of 34-36 us instead of 52-64.  A 288 MB view is gone after
 * 144 calls. */
#define FSC__DROP_CHUNK (UINT64_C(2) << 20)
static inline void fsc__file_drop_some(struct fsc__file *f, uint64_t max) {
  if (ck_pr_load_64(&f->dropping))
    fsc__file_drop_run(f, max);
}
int fsc__file_map(struct fsc__file *f, uint64_t need);
void fsc__file_unmap(struct fsc__file *f);
/* Slow path of fsc__ptr: re-read the published capacity, map more if
 * needed; FSC_ECORRUPT if [0, end) lies beyond the published capacity. */
int fsc__file_ensure(struct fsc__file *f, uint64_t end);
/* Grow the file to at least `size` bytes with fallocate (never SIGBUS,
 * ENOSPC is an error whose message names `path`, the file's path). */
int fsc__file_grow(struct fsc__file *f, uint64_t size, const char *path);
/* fsc__file_grow allocating [from, size) only: the bytes below `from` are
 * allocated already, or are holes on purpose (fsc__file_punch). */
int fsc__file_grow_from(struct fsc__file *f, uint64_t from, uint64_t size,
                        const char *path);
struct fsc__gen;
/* grow.c: raise the data file's published capacity to at least `need`
 * (lock-free in files of versions 1 and 2, under the growth lock with
 * zeros written ahead in version 3).  0, FSC_ENOSPC, FSC_ETIMEDOUT (the
 * growth lock, lock_timeout_ms), FSC__EMOVED, FSC_EIO. */
int fsc__data_grow(struct fsc__gen *c, uint64_t need);
/* The step ahead that the appender crossing fsc__grow_mark(cap) takes
 * (record.c): in a version-3 or -4 file of at least 4 MiB, started in a
 * background thread of its own (a new open of the file, its own map of
 * the header, the growth lock: grow.c), so that the appender goes on at
 * once; else, or if no thread starts, fsc__data_grow(c, cap + 1) here.
 * A job that fails, dies or has not finished leaves the step to the
 * appender that needs the space, which waits for the growth lock, grows
 * and starts a job (fsc__data_grow). */
int fsc__data_grow_ahead(struct fsc__gen *c, uint64_t cap);
/* fsc__file_grow_from on descriptor fd (the caller keeps it open). */
int fsc__fd_grow(int fd, uint64_t from, uint64_t size, const char *path);
/* prealloc.c: after a growth step to `off`, have the next one, [off, off
 * + len), allocated in a detached thread with FALLOC_FL_KEEP_SIZE (blocks
 * past the file's end: no size or capacity changes), so that the writer
 * that grows there later finds them allocated; one thread allocates up to
 * 32 MiB (at most `off`, at least len), and a step inside what this handle
 * had allocated ahead starts none.  Advice: nothing fails; steps below
 * 4 MiB start nothing.  _trim, at the last clean close: wait (bounded)
 * for this process's threads, then give back any blocks past the file's
 * size. */
void fsc__file_prealloc(struct fsc__file *f, uint64_t off, uint64_t len);
/* Background threads (prealloc.c): run fn(arg) on a detached thread with
 * every signal blocked, counted among the threads the last close waits
 * for (fsc__file_prealloc_trim); fd (or -1) is the descriptor the thread
 * owns, which a child forked meanwhile closes.  0, or -1 if no thread
 * started (the caller still owns arg and fd).  The thread ends with
 * fsc__bg_end(fd), which closes fd. */
int fsc__bg_start(void *(*fn)(void *), void *arg, int fd);
void fsc__bg_end(int fd);
#define FSC__PREALLOC_INDEX_MAX (UINT64_C(256) << 20)
void fsc__file_prealloc_trim(struct fsc__file *f);
/* Give the whole pages inside [off, end) back to the file system
 * (fallocate PUNCH_HOLE, the size kept): they read as zeros after.  Only
 * for bytes no one will read or write again without fallocating them
 * first, with no other process mapping the file (the last clean close:
 * struct/hash_trim.c).  Best effort: never fails. */
void fsc__file_punch(struct fsc__file *f, uint64_t off, uint64_t end);
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
struct fsc__handle_ext;
struct fsc__gen {
  enum fsc__kind kind;
  fsc_type type;              /* element type, ANY for heterogeneous */
  bool closed;  /* atomic (fsc__gen_closed): a close on one thread may
                   race another thread's call, which must see it */
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
  uint64_t isize;             /* the index file's size the open found under
                                 the structure lock (where the marker is) */
  uint64_t repaired;
  uint64_t rep[FSC__REP_N];   /* what recovery repaired at this open, by
                                 kind (enum fsc__rep) */
  bool last_close_clean;
  bool index_cached;          /* the open found the index file's last page
                                 in memory (fsc__marker_read): its
                                 table is not looked at (index_mem.c) */
  bool unlocked;              /* opened by open_ro.c, without the
                                 structure lock (gen.c's open) */
  bool check_reads;           /* verify each record's checksum on read: a
                                 read-only first opener found the marker
                                 missing and cannot repair (coll.c) */
  fsc_type key_type;          /* dict keys: STRING or BYTES */
  fsc_options opts;           /* as opened (to follow a compaction) */
  double threshold;           /* compaction_threshold; 0: off */
  bool auto_compact;          /* swap-and-pop (fixed-size lists) */
  bool crec;                  /* the data file writes compact records (its
                                 version is FSC__DATA_VERSION_COMPACT or
                                 later) */
  bool s8;                    /* its dict/set tables have 8-byte slots (the
                                 data file's version is
                                 FSC__DATA_VERSION_SLOT8: struct/hash_slot.h) */
  bool zgrow;                 /* the data file grows under the growth lock,
                                 zeros ahead (its version is
                                 FSC__DATA_VERSION_ZEROED: grow.c) */
  bool cw;                    /* its dict counters are written with a close
                                 word (its version is
                                 FSC__DATA_VERSION_CLOSEWORD: format.h) */
  const struct fsc__kind_ops *ops; /* the kind's structure */
  struct fsc__handle *h;      /* the handle this generation belongs to */
  struct fsc__gen *next;     /* older retired generations */
  uint64_t chits, cmisses;    /* a cache dict's gets through this handle
                                 (coll/cache.c; atomic, process-local) */
  struct fsc__handle_ext *hint; /* NULL, or what the struct layer keeps
                                 for this generation in this process
                                 (struct/hash_newest.c: popitem's walk),
                                 installed by CAS, destroyed when the
                                 generation is freed (handle.c) */
};

/* Is this generation closed?  A relaxed atomic load: one thread's close
 * may race another thread's call (an asynchronous close, or a caller's
 * bug), which must see FSC_ECLOSED rather than a torn read. */
static inline bool fsc__gen_closed(const struct fsc__gen *c) {
  return __atomic_load_n(&c->closed, __ATOMIC_RELAXED);
}

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
  /* The last clean close, structure lock held and no other process
   * present: give back index space the structure no longer needs (move
   * what it uses down, lower itail); gen.c then cuts the file after
   * itail.  NULL: nothing to give back.  Never fails the close. */
  int (*trim)(struct fsc__gen *g);
  /* A reader found the structure words frozen and inconsistent for a
   * while: wait for the change, or finish one whose process died (a
   * read-only handle: FSC_EAGAIN).  0 to look again, or an error.  NULL:
   * the kind's words are never inconsistent (a dict's or set's). */
  int (*wait)(struct fsc__gen *g);
};

/* The rows (struct/list_ops.c, struct/hash_ops.c). */
extern const struct fsc__kind_ops fsc__list_ops, fsc__dict_ops,
    fsc__set_ops;

/* A public handle (fsc_coll, and its typed faces fsc_list, fsc_dict,
 * fsc_set): the generation in use, and the retired ones, kept mapped until
 * close. */
/* State an upper layer hangs off a handle (coll/ref.c's cache of the
 * children opened through it): the struct begins with its destructor, so
 * that the handle can release it at close without calling up by name. */
struct fsc__handle_ext {
  void (*destroy)(struct fsc__handle_ext *x);
};

struct fsc__handle {
  struct fsc__gen *cur;       /* ck_pr_load_ptr; never NULL once open */
  uint32_t waiters;           /* threads inside a wait on this handle
                                 (wait.c; atomic) */
  uint32_t closing;           /* close has begun: waiters leave with
                                 FSC_ECLOSED (atomic) */
  pthread_mutex_t mu;         /* guards following and retiring */
  const struct fsc__kind_ops *const *kinds; /* by enum fsc__kind */
  struct fsc__handle_ext *ext; /* NULL, or installed once by CAS (ref.c);
                                 destroyed by fsc__handle_close before the
                                 handle's generation closes */
  unsigned shares;            /* holders of this handle besides the first
                                 (ref.c's cache and a caller share a child
                                 handle); fsc_coll_free drops one share,
                                 and frees only when none is left.  Atomic */
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

/* Every face's len (handle.c has the slow path: NULL or closed handles,
 * a frozen word that may be a generation compacted away).  Inline: a hot
 * call in worker loops, a few loads with no stack frame. */
int fsc__handle_len(struct fsc__handle *h, uint64_t *out)
    __attribute__((noinline));
static inline int fsc__len(const void *hp, uint64_t *out) {
  struct fsc__handle *h = FSC__H(hp);
  if (__builtin_expect(!h || fsc__err_code != 0 || !out, 0))
    return fsc__handle_len(h, out);
  struct fsc__gen *c = fsc__cur(h);
  if (__builtin_expect(fsc__gen_closed(c), 0))
    return fsc__handle_len(h, out);
  struct fsc__index_hdr *ih =
      (struct fsc__index_hdr *)c->index.views[0].base;
  /* A list's length is END - HEAD (doc/FORMAT.md; a dict's head word is
   * 0): the head word, the length word, the head word again - HEAD held
   * while the length word was read. */
  uint64_t lh = ck_pr_load_64(&ih->lhead);
  ck_pr_fence_load();
  uint64_t w = ck_pr_load_64(&ih->lenword);
  bool ok;
  uint64_t hd = fsc__lh_resolve(lh, w, &ok);
  ck_pr_fence_load();
  if (__builtin_expect((w & FSC__LW_FROZEN) != 0 || !ok ||
                           ck_pr_load_64(&ih->lhead) != lh, 0))
    return fsc__handle_len(h, out);
  *out = FSC__LW_LEN(w) - hd;
  return 0;
}

/* The length now, for reports (metrics, verify): LEN - HEAD of one
 * consistent pair (a list's HEAD: doc/FORMAT.md; a dict's head word is
 * 0), or LEN alone while a change is between its two stores. */
static inline uint64_t fsc__lw_count(struct fsc__index_hdr *ih) {
  uint64_t lh = ck_pr_load_64(&ih->lhead);
  ck_pr_fence_load();
  uint64_t w = ck_pr_load_64(&ih->lenword);
  bool ok;
  return FSC__LW_LEN(w) - fsc__lh_resolve(lh, w, &ok);
}

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
 * bytes (grown in fsc__file_grow_size's steps), then publish the new
 * capacity in the index header (icap).  For a region handed out at the
 * index tail. */
int fsc__index_grow(struct fsc__gen *c, uint64_t end);
/* behind.c: every FSC__BEHIND bytes the data tail passes (mark, a
 * multiple of it), the appender that crossed it looks whether memory is
 * short and, while it is, has the pages behind written back and dropped. */
#define FSC__BEHIND (UINT64_C(4) << 20)
void fsc__data_behind(struct fsc__gen *c, uint64_t mark);
/* index_mem.c: advice on the index file's pages about memory.  short:
 * is memory short (behind.c's verdict)?  writeback: write back [off,
 * off + len) of the index file (wait: until written; else only started).
 * advise: the whole pages of that range in the newest view.  prefetch:
 * read the range ahead (asynchronous) if it is at least 1 MiB, not in
 * memory already, and at most half the memory the process may use (its
 * memory cgroup's limit, or the machine's). */
enum fsc__index_advice { FSC__IDX_PAGEOUT, FSC__IDX_WILLNEED };
bool fsc__mem_short(struct fsc__gen *c);
void fsc__index_writeback(struct fsc__gen *c, uint64_t off, uint64_t len,
                          bool wait);
void fsc__index_advise(struct fsc__gen *c, uint64_t off, uint64_t len,
                       enum fsc__index_advice a);
void fsc__index_prefetch(struct fsc__gen *c, uint64_t off, uint64_t len);
/* map.c: a walk of the whole collection in file order begins (seq: the
 * used ranges of both files MADV_SEQUENTIAL) or ends (the handle's hint
 * back).  Compaction's copy and verify's scan. */
void fsc__advise_walk(struct fsc__gen *c, bool seq);

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
  if (__builtin_expect(!c || fsc__gen_closed(c) || (write && c->rdonly),
                       0))
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
/* open_ro.c - the clean-close marker's place (the final byte of the
 * index, `size` long: 0, fstat it) and its reading (*cached: its page
 * was in memory); 0, or -1.  And the steps of a read-only open without
 * the structure lock (doc/CONCURRENCY.md), which gen_files.c runs:
 * begin (the marker there, no compaction: 0) before the data file is
 * opened, lock (the presence lock taken on c->pfd, and no read-write open
 * came in between: 0) after; 1 from either: take the locked open (after
 * fsc__open_ro_undo, if begin returned 0). */
int fsc__marker_at(int fd, uint64_t size, uint64_t *at);
int fsc__marker_read(int fd, uint64_t size, uint8_t *b, bool *cached);
struct fsc__open_ro {
  uint64_t opens; /* the index header's `opens` before the marker's read */
  bool cached;    /* the marker's page was in memory */
  /* c's fields as begin found them, which the header checks set */
  enum fsc__kind kind;
  const struct fsc__kind_ops *ops;
  fsc_type type, key_type;
  bool crec, zgrow;
  fsc_options opts;
  uint64_t isize, isafe;
};
int fsc__open_ro_begin(struct fsc__gen *c, uint64_t isize,
                       struct fsc__open_ro *r);
int fsc__open_ro_lock(struct fsc__gen *c, const struct fsc__open_ro *r);
/* After a begin that returned 0: close the data file's descriptors (and
 * the presence lock), unmap it, and put c's fields back. */
void fsc__open_ro_undo(struct fsc__gen *c, const struct fsc__open_ro *r);
/* a + b, malloc'ed (NULL: out of memory). */
char *fsc__concat(const char *a, const char *b);
/* After a write that left dead bytes: compact if the threshold says so. */
void fsc__compact_maybe(struct fsc__gen *c);
int fsc__gen_sync(struct fsc__gen *c);
/* After a write: sync if durability is ALWAYS, compact if the write left
 * the collection over compaction_threshold (compact.c). */
int fsc__compact_after_write(struct fsc__gen *c);
/* The change event count: Concurrency Kit's event count (ck_ec64) on the
 * data header's `events` word, its waits and wakes futexes shared between
 * processes (wait.c).  After a published change: one atomic add; the
 * futex wake (a system call) only when someone waits. */
extern const struct ck_ec_mode fsc__ec_mode;
static inline void fsc__ec_bump(struct fsc__gen *c) {
  ck_ec64_inc((struct ck_ec64 *)&fsc__dhdr(c)->events, &fsc__ec_mode);
}
static inline int fsc__gen_after_write(struct fsc__gen *c) {
  fsc__ec_bump(c);
  if (__builtin_expect(c->durability == FSC_DURABLE_ALWAYS ||
                           c->threshold > 0, 0))
    return fsc__compact_after_write(c);
  return 0;
}

/* lock.c - the structure lock: handle mutex + flock(LOCK_EX) on the index
 * file, re-taken on a fresh open file description after fork(). */
int fsc__lock(struct fsc__gen *c);
/* The same without waiting: 0 (held), 1 if another thread or process
 * holds it (nothing taken), or fsc__lock's errors. */
int fsc__lock_try(struct fsc__gen *c);
/* flock(fd, op) waiting at most timeout_ms (< 0: no limit): LOCK_NB
 * first, then a short spin and sleeps backing off to 1 ms.  0, or
 * FSC_ETIMEDOUT naming `path` and the holder's pid (from /proc/locks). */
int fsc__flock_timed(int fd, int op, int64_t timeout_ms, const char *path);
/* Drop a flock (LOCK_UN, retried on EINTR). */
void fsc__flock_unlock(int fd);
/* An OFD write lock on byte `off` of fd's file (the data file's growth
 * lock, grow.c), waiting as fsc__flock_timed does; a timeout with < 0 is
 * no limit.  0, or FSC_ETIMEDOUT naming `path`.  fsc__ofd_unlock drops
 * it. */
int fsc__ofd_lock_timed(int fd, int off, int64_t timeout_ms,
                        const char *path);
/* The same, except that the wait also ends when *word (a header word
 * that only grows: the data file's cap) reaches want: 1 then, the lock
 * not taken.  A job takes its steps one after another, dropping and
 * retaking the lock within microseconds: a waiter for the space one of
 * them publishes would otherwise wait for the job's last (grow.c). */
int fsc__ofd_lock_or_word(int fd, int off, int64_t timeout_ms,
                          const char *path, const uint64_t *word,
                          uint64_t want);
void fsc__ofd_unlock(int fd, int off);
void fsc__unlock(struct fsc__gen *c);
/* A writer met the frozen length or table word (a structural change is
 * under way): spin, then yield, while the word stays frozen.  0 once it
 * is unfrozen, FSC__EMOVED if the generation was compacted away, 1 if it
 * is still frozen after the spins (its holder is slow or dead: the caller
 * takes the lock, which tells which, and finishes what it left). */
int fsc__frozen_wait(struct fsc__gen *c);
/* A new open file description (flags: O_RDONLY or O_RDWR) of the file
 * open as fd (st: its fstat, or NULL: fstat it), whose path was `path`
 * (NULL: unknown): opened by path if that still names the same file, else
 * through /proc/self/fd.  -1 with errno. */
int fsc__lock_reopen(int fd, const struct stat *st, const char *path,
                     int flags);
/* In a child after fork, give this process its own lock descriptions. */
int fsc__lock_refork(struct fsc__gen *c);
/* Take the presence lock (shared) on a new description of our own and
 * drop the old one (which a child forked since may share). */
int fsc__lock_presence_refork(struct fsc__gen *c);
/* How many open file descriptions hold the presence lock (/proc/locks). */
uint32_t fsc__lock_count_holders(struct fsc__gen *c);

/* record.c - records in the data file */
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
/* The same with the header's flags set in the same write (a mark record:
 * a walker that finds the record sound finds it flagged; a writer killed
 * between a seal and a later flag store would leave an unflagged mark,
 * which a rebuild from the data file would take for the key's value). */
void fsc__rec_seal_flagged(uint8_t *payload, uint8_t type, uint64_t n,
                           uint8_t flags);
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
  uint64_t n = fsc__rec_size(r);
  if (__builtin_expect(n > (UINT64_C(1) << 40) ||
                           fsc__rec_total(r) > safe - off, 0))
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
          fsc__value_decode((fsc_type)fsc__rec_type(r), fsc__rec_pl(r),
                            fsc__rec_size(r), out) != 0, 0))
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
/* ... and is it not flagged dead (FSC__REC_DEAD: the legacy deleted flag
 * older files carry on superseded records, or a flag a dict/set writer
 * sets in its own record that no slot may name)?  What a list slot may
 * name. */
bool fsc__rec_verify_live(struct fsc__gen *c, uint64_t off);
/*
 * Counter records (see FSC__CTR_FLAG).  fsc__rec_alloc_counter reserves
 * a record of n payload bytes (fsc__ctr_shape_ok) flagged as a counter;
 * fill and seal it as any record.  fsc__ctr_rmw applies `op` to the value
 * word of the published counter at off: FSC__CTR_ADD adds *arg (the old
 * value in *old), FSC__CTR_CAS swaps *arg for arg[1] if the word holds
 * *arg (the word's value in *old either way; returns 1 swapped, 0 not),
 * FSC__CTR_ADDF adds the double in *arg (a CAS loop).  Returns FSC__CTR_GONE
 * when the counter is closed (the caller replaces the record), or
 * FSC_ETIMEDOUT when a closer gave up waiting for this writer.
 * fsc__ctr_close closes the counter at off (a no-op for other records),
 * waiting at most lock_timeout_ms (and FSC__CTR_WAIT_MS) for the writers
 * inside;
 * afterwards its value is final.
 */
#define FSC__CTR_GONE 2
enum fsc__ctr_op { FSC__CTR_ADD, FSC__CTR_CAS, FSC__CTR_ADDF };
int fsc__rec_alloc_counter(struct fsc__gen *c, uint64_t n, uint64_t *off,
                           uint8_t **payload);
/* A dict counter record in the close-word shape (format.h fsc__ctr_cwoff;
 * a file with c->cw) for a key head of `head` bytes ([u32 klen][key]
 * padded to 8): reserves it where its close word falls on a 16-aligned
 * offset; *payload (zeroed, but for the close word: SEALED) is n bytes,
 * n = head + 24 or head + 32.  Fill the head, value and origin, then
 * seal it as any record. */
int fsc__rec_alloc_dctr(struct fsc__gen *c, uint64_t head, uint64_t *off,
                        uint8_t **payload, uint64_t *n);
int fsc__ctr_rmw(struct fsc__gen *c, uint64_t off, enum fsc__ctr_op op,
                 const uint64_t *arg, uint64_t *old);
void fsc__ctr_close(struct fsc__gen *c, uint64_t off);
/* FSC__CTR_CAS of the counter at off from `expected` to `desired`, two
 * values of an 8-byte fixed-size type (the counter's): fsc__ctr_rmw's
 * results; when not swapped (0), the value met is decoded into *current
 * (if current; an undecodable one is fsc__rec_bad's FSC_ECORRUPT). */
int fsc__ctr_cas(struct fsc__gen *c, uint64_t off, const fsc_value *expected,
                 const fsc_value *desired, fsc_value *current);
/* Is the record at off a counter?  (Its value word in *word.) */
bool fsc__ctr_is(struct fsc__gen *c, uint64_t off, uint64_t **word);
/* The int64 add in place of delta to the counter at off wrapped: take it
 * back (readers may have seen the wrapped value for that instant) and
 * record FSC_EVALUE, naming the value the add met (fsc_dict_incr,
 * fsc_list_incr). */
int fsc__ctr_add_undo(struct fsc__gen *c, uint64_t off, int64_t delta)
    __attribute__((cold));
/* A writer left a counter that a closer had given up waiting for
 * (FSC__CTR_ABANDONED): record FSC_ETIMEDOUT for the counter at off. */
int fsc__ctr_abandoned(uint64_t off) __attribute__((cold));
/*
 * The in-place add of fsc__ctr_rmw (FSC__CTR_ADD of arg) on the record r
 * at off, already located (fsc__rec_locate_try) with its payload size n
 * read once, for the increment fast paths (coll/list.c, coll/dict_counter.c).
 * 0 with the old value word in *old when added; FSC_ETIMEDOUT as
 * fsc__ctr_rmw (the add happened; it may not have counted); 1 when it did
 * nothing: not a counter, not a counter's shape, CLOSED or SEALED (the
 * caller's slow path goes through fsc__ctr_rmw, which replaces a closed
 * counter or checks and unseals a sealed one).  The same atomics, in the
 * same order, as fsc__ctr_rmw (doc/CONCURRENCY.md, "Counters in place"):
 * inline, so that an increment is its lookup and these three adds - or,
 * for a compact counter whose header and value word share one aligned
 * 16-byte block, the one atomic of fsc__ctr_add_one first.
 */
#if defined(__x86_64__) && defined(CK_F_PR_CAS_64_2)
#define FSC__CTR_ONE 1
/*
 * One locked operation instead of three (issue #14; doc/CONCURRENCY.md,
 * "Counters in place", "One atomic"): a compact record (an int64 list
 * element in a data file of version >= 2) at a 16-aligned address has its
 * header word {rtype, flags, ctl, checksum} and its value word in one
 * aligned 16-byte block, and a `lock cmpxchg16b` over the block checks the
 * header and adds to the value at once: true with the old value word in
 * *old when it added; false (nothing changed) when the header is not an
 * open, unsealed counter's or the block changed under us - the caller
 * then takes the three-atomic path (no retry loop here: under contention
 * the fetch-and-adds do better than a CAS loop).
 *
 * Why a writer that never enters (ctl's INSIDE untouched: the header is
 * written back as it was compared) is still seen by every closer: a
 * closer sets CLOSED (or a seal SEALED) with a locked operation on ctl,
 * then reads the value.  On x86 locked operations are totally ordered
 * and a later load sees every locked store before it.  A cmpxchg16b
 * ordered after the closer's `lock or` compares the header it read
 * before, which lacks the bit, and fails (and if it read after, it sees
 * the bit and does not try); one ordered before is in the value the
 * closer reads.  The closer's wait for INSIDE == 0 still covers writers
 * of the three-atomic protocol (fallbacks, other builds, unaligned
 * records), which share the record at the same time: no format change.
 * This relies on x86 locked operations of different sizes on overlapping
 * bytes (the 2-byte `lock xadd`/`lock or` on ctl, the 4-byte `lock
 * cmpxchg` on the checksum, the 16-byte `lock cmpxchg16b` on the block,
 * all within one cache line) being atomic with respect to each other and
 * in the one total order: what every x86-64 processor does for aligned
 * locked operations inside a cache line (they lock the line), though the
 * Intel SDM (vol. 3A, "Software Controlled Bus Locking") advises
 * identical sizes and addresses for semaphores.
 * Only where Concurrency Kit has ck_pr_cas_64_2 on x86-64 (its inline
 * asm: not in a build on compiler builtins, such as --enable-tsan, which
 * keeps the three-atomic path).  The two loads need no order between
 * them: the CAS compares both words at once, and a torn pair fails.
 */
static inline bool fsc__ctr_add_one(const struct fsc__rec *r, uint64_t arg,
                                    uint64_t *old) {
  _Static_assert(offsetof(struct fsc__rec, ctl) == 2 &&
                     FSC__REC_CHDR == 8,
                 "ctl is bits 16..31 of a compact header's word");
  uint64_t *blk = (uint64_t *)(uintptr_t)r;
  uint64_t cmp[2], set[2];
  cmp[0] = ck_pr_load_64(&blk[0]);
  cmp[1] = ck_pr_load_64(&blk[1]);
  uint16_t g = (uint16_t)(le64toh(cmp[0]) >> 16);
  if ((g & (FSC__CTR_FLAG | FSC__CTR_CLOSED | FSC__CTR_ABANDONED |
            FSC__CTR_SEALED)) != FSC__CTR_FLAG)
    return false;
  set[0] = cmp[0];
  set[1] = htole64(le64toh(cmp[1]) + arg);
  if (!ck_pr_cas_64_2(blk, cmp, set))
    return false;
  *old = cmp[1];
  return true;
}
/*
 * The same for a dict counter with a close word (format.h fsc__ctr_cwoff;
 * doc/CONCURRENCY.md, "Counters in place", "One atomic"): blk is the
 * 16-aligned block of its close word and value word, and the CAS expects
 * a close word of 0 (neither CLOSED nor SEALED) and adds to the value.
 * A closer or sealer sets its bit in the close word with a locked
 * operation before it does in ctl and before it reads the value: a CAS
 * ordered after that fails, one before is in the value it reads (the same
 * argument as above, on one 8-byte word and one 16-byte block, no mixed
 * sizes but the block's).  An unsealer clears SEALED here only after its
 * unsealed checksum is in place (ctr_seal.c), so a value changed by a CAS
 * always comes with that checksum.  One try, no loop: on failure the
 * caller takes the three-atomic path, which a close word does not change.
 */
static inline bool fsc__ctr_add_cw(uint64_t *blk, uint64_t arg,
                                   uint64_t *old) {
  uint64_t cmp[2], set[2];
  cmp[0] = 0;
  cmp[1] = ck_pr_load_64(&blk[1]);
  set[0] = 0;
  set[1] = htole64(le64toh(cmp[1]) + arg);
  if (!ck_pr_cas_64_2(blk, cmp, set))
    return false;
  *old = cmp[1];
  return true;
}
#endif
static inline int fsc__ctr_add_try(const struct fsc__rec *r, uint64_t n,
                                   uint64_t off, uint64_t arg,
                                   uint64_t *old) {
#ifdef FSC__CTR_ONE
  /* A compact record's payload is 8 bytes: the whole of it is the value
   * word, and the header's 8 bytes precede it.  (A dict counter's close
   * word: its caller's, struct/hash_ctr.c.) */
  if (n == FSC__REC_CSIZE && fsc__rec_is_compact(r) &&
      ((uintptr_t)r & 15u) == 0 && fsc__ctr_add_one(r, arg, old))
    return 0;
#endif
  uint16_t *ctl = (uint16_t *)(uintptr_t)&r->ctl;
  if (__builtin_expect(!(ck_pr_load_16(ctl) & FSC__CTR_FLAG) ||
                           !fsc__ctr_shape_ok(n), 0))
    return 1;
  /* Enter (a full barrier, as in fsc__ctr_rmw: a closer that sets CLOSED
   * after it waits for us; one that set it before, we see).  A first
   * writer since the seal leaves again without writing, for the slow
   * path's unseal. */
  uint16_t g = ck_pr_faa_16(ctl, 1);
  if (__builtin_expect((g & (FSC__CTR_CLOSED | FSC__CTR_SEALED)) != 0, 0)) {
    ck_pr_faa_16(ctl, (uint16_t)-1);
    return 1;
  }
  uint64_t *w =
      (uint64_t *)(uintptr_t)(fsc__rec_pl(r) + fsc__ctr_voff(n));
  *old = ck_pr_faa_64(w, arg);
  g = ck_pr_faa_16(ctl, (uint16_t)-1);
  if (__builtin_expect((g & FSC__CTR_ABANDONED) != 0, 0))
    return fsc__ctr_abandoned(off);
  return 0;
}
/* A record's checksum for the ctl bits `ctl` (checksum.c). */
uint32_t fsc__rec_sum(uint8_t type, const void *payload, uint64_t n,
                      uint16_t ctl);
/* A counter's checksum with (sealed) or without its value word. */
uint32_t fsc__ctr_sum(uint8_t type, const void *payload, uint64_t n,
                      bool sealed);
/* Does record r (all of it mapped) match its checksum (a counter: its
 * sealed or its unsealed one)?  Safe against a writer unsealing it
 * meanwhile (checksum.c). */
bool fsc__rec_sum_ok(const struct fsc__rec *r);
/*
 * Counter seals (ctr_seal.c).  fsc__ctr_unseal: a writer inside the
 * sealed counter r at off logs it, swaps in the unsealed checksum and
 * clears SEALED before it writes;
 * FSC_ECORRUPT if the sealed value does not match its checksum.
 * fsc__ctr_seal seals the counter at off if its unsealed checksum holds
 * and (unless force: the caller knows no writer inside will write) no
 * writer is inside.  fsc__ctr_seal_session: the
 * last close, no other writer: seal every counter unsealed this session
 * (the log's, or all of them when it overflowed), then empty the log.
 */
int fsc__ctr_unseal(struct fsc__gen *c, uint64_t off,
                    const struct fsc__rec *r);
void fsc__ctr_seal(struct fsc__gen *c, uint64_t off, bool force);
void fsc__ctr_seal_session(struct fsc__gen *c);

/* wait.c - the change event count (struct fsc__data_hdr `events`;
 * fsc__ec_bump, after every published change, is with
 * fsc__gen_after_write) */
/* The count now (the epoch fsc_coll_wait_change hands out). */
uint64_t fsc__ec_value(struct fsc__gen *c);
/* Sleep until the count differs from `seen`, the absolute
 * CLOCK_MONOTONIC deadline passes (NULL: none), or the handle closes.
 * 0 (changed, or a spurious wake), FSC_ETIMEDOUT, FSC_ECLOSED. */
int fsc__ec_wait(struct fsc__gen *c, uint64_t seen,
                 const struct timespec *deadline);
/* A deadline timeout_ms from now (< 0: none, *has false). */
void fsc__ec_deadline(int64_t timeout_ms, struct timespec *d, bool *has);
/* Close: wake this handle's waiters (FSC_ECLOSED) and wait until they
 * have left. */
void fsc__ec_close_handle(struct fsc__handle *h);

/* A record is dead (superseded, removed, or never published): move its
 * bytes from live to dead.  Writes nothing into a dict's or set's record
 * (its size is read from its header): liveness is the index's; a list's
 * record is flagged FSC__REC_DELETED, the only trace of a superseded list
 * record a check can find (doc/FORMAT.md, "Records"). */
void fsc__rec_retire(struct fsc__gen *c, uint64_t off);
/* The same for a record known to hold `payload` bytes (a list of a fixed
 * size type): the header need not be read first. */
void fsc__rec_retire_sized(struct fsc__gen *c, uint64_t off,
                           uint64_t payload);
/* Flag the caller's own record, which it appended and will never publish,
 * FSC__REC_VOID (its page is the tail the caller just wrote): a rebuild
 * from the data file alone must not take it for a key's newest version.
 * Accounting is fsc__rec_retire's. */
void fsc__rec_void(struct fsc__gen *c, uint64_t off);
/* Flag the record at off FSC__REC_REMOVED, making it its own delete mark:
 * what a dict/set delete writes into the record it removed when the data
 * file has no room for a mark record (hash.c).  No accounting. */
void fsc__rec_flag_removed(struct fsc__gen *c, uint64_t off);

/* list_recover.c */
int fsc__list_init(struct fsc__gen *c);
int fsc__list_recover(struct fsc__gen *c, bool unclean);

#endif /* FSC_INTERNAL_H */
