/*
 * hash_newest.c - owns the search for a dict's or set's newest live key
 * (fsc_dict_popitem, fsc_set_pop): the last key in iteration order, whose
 * life began highest in the data file (hash.h, "origin").
 *
 * Nothing shared says which key that is: iteration order is the order of
 * the data file, so the search walks it (hash.c, fsc__hash_walk).  A walk
 * from the start on every call made emptying a collection by pops
 * quadratic (each pop walked every record written since the last
 * compaction).  So each generation keeps, per process, a cache of its
 * walk (struct nst, hung off the generation: fsc__gen.hint):
 *
 *  - stk: the records of [floor, frontier) that named themselves as
 *    their origin when walked (the candidates: where a key's life may
 *    have begun), ascending;
 *  - each call walks only [frontier, tail), pushes the new candidates and
 *    moves the frontier to the tail; then it checks candidates from the
 *    top down (fsc__hash_live_origin: the key's live record names this
 *    origin) and drops each that fails, so each is dropped once: a key's
 *    life, once ended, never begins again at the same record (a new life
 *    begins at a new record; an overwrite keeps the live record's
 *    origin);
 *  - a new cache starts FIRST_SPAN below the tail (nst_start), not at the
 *    file's start: the newest key is most often near the tail, and a
 *    process's first pop then walks that much, not the file.  Only when
 *    every candidate above floor is gone does a call walk the chunk below
 *    it (nst_older: twice as large each time, up to MAX_SPAN, which
 *    bounds a call's walk).  A chunk starts at an offset, not at a
 *    record: the walk skips to the first record that verifies, and the
 *    record it skipped into is the chunk below's.  (A stored value that
 *    holds the image of whole records, checksums included, could be taken
 *    for them there, as after any gap: doc/CONCURRENCY.md.)
 *
 * Writers of other threads and processes make two exceptions, both
 * about a record between its append and its publication (hash.c,
 * put_above): (1) a record not sealed yet does not verify, and the walk
 * goes past it; (2) a sealed one may still change its origin, and until
 * it is published it is no key's live record.  For (1) the frontier stays
 * at the first record that did not verify ("a gap"): what lies beyond is
 * walked again each call (vol, not kept), until the gap verifies or has
 * stayed for GAP_CALLS calls (a writer that died there: the gap is given
 * up).  For (2) the cache is rebuilt by a walk from the start, but only
 * once something was unsure (`unsure`): a candidate dropped that was
 * never seen live (one that was an answer was published, and its life is
 * over for good; one never seen may have been in flight), a record
 * walked that names another origin and is not its key's live record, or
 * a gap given up; and then once the answers since the last rebuild pass
 * a quarter of the records walked since (at most 4 record reads an
 * answer, amortized).  A process that only inserts and pops never
 * rebuilds.  Before any answer "empty" while the collection counts keys,
 * the walk starts from the start too.  So with writers elsewhere a key
 * whose record was in flight during a pop may come out later than
 * strictly newest first, but never after "empty"; a process alone gets
 * exact order.
 *
 * The cache is process-local and guarded by its mutex.  A child forked
 * meanwhile (its copy of the mutex may be held by a thread it does not
 * have) never touches its parent's copy: it installs a fresh cache, and
 * keeps the copy only to free it.  Arrays grow by malloc, copy, publish,
 * free, so that a fork at any point leaves the child at worst a leak,
 * never a pointer to freed memory.
 */
#include "struct/hash_slot.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A gap the frontier waited at for this many calls is given up, and
 * remembered (the last DEAD_GAPS): a rebuild does not wait there again. */
#define GAP_CALLS 64
#define DEAD_GAPS 8
/* A new cache walks this much back from the tail first (and twice as
 * much each time it needs older candidates, up to MAX_SPAN: a bound on
 * the walk one call makes, but for the walk from the start before
 * "empty"). */
#define FIRST_SPAN (UINT64_C(64) << 10)
#define MAX_SPAN (UINT64_C(1) << 20)

/* A candidate's low bit (records are 8-aligned): it was seen live (an
 * answer), so it was published. */
#define SEEN UINT64_C(1)

struct arr {
  uint64_t *v;
  size_t n, cap;
};

struct nst {
  struct fsc__handle_ext ext; /* (first: the destructor) */
  pid_t pid;                  /* the process that made it */
  pthread_mutex_t mu;
  struct arr stk;             /* candidates below the frontier */
  struct arr vol;             /* candidates beyond a gap (one call's) */
  uint64_t frontier;          /* 0: nothing walked yet */
  uint64_t floor;             /* stk holds the candidates of [floor,
                                 frontier); older ones are not walked */
  uint64_t span;              /* the next walk below floor */
  bool resync;                /* the walk from floor (a chunk start, not
                                 a record's) has found no record yet */
  uint64_t gap, gap_calls;    /* the gap the frontier waits at */
  uint64_t walked, served;    /* since the last rebuild */
  uint64_t unsure;            /* since then: what may have been a record
                                 in flight (below) */
  uint64_t dead[DEAD_GAPS];   /* gaps given up (kept across rebuilds) */
  unsigned ndead;
  struct nst *stale;          /* a parent's copy (forked): only freed */
};

static bool arr_push(struct arr *a, uint64_t x) {
  if (a->n == a->cap) {
    size_t ncap = a->cap ? a->cap * 2 : 256;
    uint64_t *nv = malloc(ncap * sizeof *nv);
    if (!nv)
      return false;
    if (a->n)
      memcpy(nv, a->v, a->n * sizeof *nv);
    uint64_t *old = a->v;
    a->v = nv;
    a->cap = ncap;
    free(old);
  }
  a->v[a->n++] = x;
  return true;
}

static void nst_free(struct nst *x) {
  while (x) {
    struct nst *next = x->stale;
    free(x->stk.v);
    free(x->vol.v);
    if (x->pid == getpid())
      pthread_mutex_destroy(&x->mu);
    free(x);
    x = next;
  }
}

static void nst_destroy(struct fsc__handle_ext *e) {
  nst_free((struct nst *)e);
}

/* This process's cache of c, made if need be; NULL without memory. */
static struct nst *nst_get(struct fsc__gen *c) {
  pid_t me = getpid();
  for (;;) {
    struct nst *x = (struct nst *)ck_pr_load_ptr(&c->hint);
    if (x && x->pid == me)
      return x;
    struct nst *n = calloc(1, sizeof *n);
    if (!n)
      return NULL;
    n->ext.destroy = nst_destroy;
    n->pid = me;
    pthread_mutex_init(&n->mu, NULL);
    n->stale = x;
    if (ck_pr_cas_ptr(&c->hint, x, n))
      return n;
    n->stale = NULL; /* (another thread of this process installed one) */
    nst_free(n);
  }
}

static void nst_reset(struct nst *x) {
  x->stk.n = x->vol.n = 0;
  x->frontier = x->floor = x->span = 0;
  x->resync = false;
  x->gap = x->gap_calls = 0;
  x->walked = x->served = x->unsure = 0;
}

/* A record walked that does not name itself: final (an overwrite, whose
 * origin never changes once published) when it is its key's live record;
 * else it may be one in flight that will name itself yet. */
static int unsure_other(struct fsc__gen *c, uint64_t r,
                        const struct fsc__krec *kr) {
  struct fsc__kkey k;
  fsc__kkey_make(&k, fsc__hash_is_dict(c) ? 0 : kr->type, kr->key,
                 kr->klen);
  uint64_t off;
  int rc = fsc__hash_find(c, &k, &off);
  if (rc < 0)
    return rc;
  return rc == 0 || off != r;
}

/* A record walked (r, parsed in kr): a candidate goes to `to`; another
 * (not a mark), when `judge`, counts as unsure if it may name itself
 * yet. */
static int take(struct fsc__gen *c, struct nst *x, struct arr *to,
                bool judge, uint64_t r, const struct fsc__krec *kr) {
  x->walked++;
  if (kr->mark)
    return 0;
  if (kr->origin == r)
    return arr_push(to, r) ? 0 : fsc__err(FSC_ENOMEM, "out of memory");
  if (!judge)
    return 0;
  int rc = unsure_other(c, r, kr);
  if (rc < 0)
    return rc;
  x->unsure += (uint64_t)rc;
  return 0;
}

static bool dead_gap(const struct nst *x, uint64_t at) {
  for (unsigned i = 0; i < x->ndead && i < DEAD_GAPS; i++)
    if (x->dead[i] == at)
      return true;
  return false;
}

/* Where a new cache starts: the whole file when it is small, else a
 * chunk back from the tail (nst_older walks further back on need). */
static void nst_start(struct nst *x, uint64_t tail) {
  if (tail - FSC__HDR_SIZE <= FIRST_SPAN) {
    x->floor = FSC__HDR_SIZE;
    x->frontier = FSC__HDR_SIZE;
    return;
  }
  x->floor = x->frontier = (tail - FIRST_SPAN) & ~UINT64_C(7);
  x->span = FIRST_SPAN;
  x->resync = true;
}

/* Walk [frontier, end): candidates before the first gap go to stk (and
 * the frontier follows), after it to vol.  From a chunk start (resync)
 * the bytes before the first record are a record that begins below
 * floor (nst_older's), not a gap. */
static int nst_walk(struct fsc__gen *c, struct nst *x, uint64_t end) {
  uint64_t pos = x->frontier, gap = 0;
  x->vol.n = 0;
  if (x->resync) {
    uint64_t r;
    struct fsc__krec kr;
    int rc = fsc__hash_walk(c, &pos, end, &r, &kr);
    if (rc < 0)
      return rc;
    x->resync = false;
    if (rc == 0) { /* (one record spans the chunk; or one in flight) */
      x->frontier = end;
      x->unsure++;
      return 0;
    }
    pos = x->frontier = r; /* (walked again below, as any record) */
  }
  for (;;) {
    uint64_t at = pos < FSC__HDR_SIZE ? FSC__HDR_SIZE
                                      : (pos + 7) & ~UINT64_C(7);
    uint64_t r;
    struct fsc__krec kr;
    int rc = fsc__hash_walk(c, &pos, end, &r, &kr);
    if (rc < 0)
      return rc;
    if (rc == 0) {
      if (!gap && at < end && !dead_gap(x, at))
        gap = at; /* (a record being appended at the tail) */
      break;
    }
    if (!gap && r != at && !dead_gap(x, at))
      gap = at;
    if ((rc = take(c, x, gap ? &x->vol : &x->stk, !gap, r, &kr)) != 0)
      return rc;
    if (!gap)
      x->frontier = pos;
  }
  if (!gap) {
    x->frontier = end > x->frontier ? end : x->frontier;
    x->gap = x->gap_calls = 0;
    return 0;
  }
  if (gap != x->gap) {
    x->gap = gap;
    x->gap_calls = 0;
  } else if (++x->gap_calls >= GAP_CALLS) {
    /* Given up (the rebuild finds the record if it ever verifies). */
    for (size_t i = 0; i < x->vol.n; i++)
      if (!arr_push(&x->stk, x->vol.v[i]))
        return fsc__err(FSC_ENOMEM, "out of memory");
    x->vol.n = 0;
    x->frontier = pos > end ? pos : end;
    x->dead[x->ndead++ % DEAD_GAPS] = gap;
    x->unsure++;
    x->gap = x->gap_calls = 0;
  }
  return 0;
}

/* Is candidate r where a live key's life began?  1 with *off. */
static int live(struct fsc__gen *c, uint64_t r, uint64_t *off) {
  struct fsc__krec kr;
  int rc = fsc__krec_read(c, r, &kr);
  if (rc)
    return rc;
  return fsc__hash_live_origin(c, r, &kr, off);
}

/* The candidates of the chunk below floor (stk is empty): the records
 * that begin in [from, floor), walked from `from` (a chunk start: the
 * bytes before its first record belong to a record further down).  A
 * resync after the first record is a record that does not verify: one in
 * flight, or garbage, hence unsure. */
static int nst_older(struct fsc__gen *c, struct nst *x) {
  uint64_t to = x->floor;
  uint64_t from = to - FSC__HDR_SIZE > x->span
                      ? (to - x->span) & ~UINT64_C(7)
                      : FSC__HDR_SIZE;
  if (x->span < MAX_SPAN)
    x->span *= 2;
  uint64_t pos = from, end = fsc__hash_tail(c);
  bool first = from > FSC__HDR_SIZE;
  for (;;) {
    uint64_t at = (pos + 7) & ~UINT64_C(7), r;
    struct fsc__krec kr;
    int rc = fsc__hash_walk(c, &pos, end, &r, &kr);
    if (rc < 0)
      return rc;
    if (rc == 0 || r >= to)
      break;
    if (!first && r != at)
      x->unsure++;
    first = false;
    if ((rc = take(c, x, &x->stk, true, r, &kr)) != 0)
      return rc;
  }
  x->floor = from;
  return 0;
}

static int nst_newest(struct fsc__gen *c, struct nst *x, uint64_t *off) {
  bool full = false;
  if (x->frontier == 0 ||
      (x->unsure && x->served > x->walked / 4)) { /* (a rebuild) */
    nst_reset(x);
    nst_start(x, fsc__hash_tail(c));
    full = true;
  }
  for (;;) {
    int rc = nst_walk(c, x, fsc__hash_tail(c));
    if (rc)
      return rc;
    for (size_t i = x->vol.n; i-- > 0;)
      if ((rc = live(c, x->vol.v[i], off)) != 0) {
        if (rc == 1)
          x->served++;
        return rc;
      }
    for (;;) {
      if (x->stk.n == 0) {
        if (x->floor <= FSC__HDR_SIZE)
          break;
        if ((rc = nst_older(c, x)) != 0)
          return rc;
        continue;
      }
      uint64_t *top = &x->stk.v[x->stk.n - 1];
      if ((rc = live(c, *top & ~SEEN, off)) != 0) {
        if (rc == 1) {
          x->served++;
          *top |= SEEN;
        }
        return rc;
      }
      /* A candidate seen live was published: its life is over for good.
       * One never seen live may be a record in flight. */
      x->unsure += !(*top & SEEN);
      x->stk.n--;
    }
    /* Nothing: "empty" only from a walk of the whole file begun in this
     * call, or when the collection counts no key. */
    if (full || fsc__hash_len(c) == 0)
      return 0;
    nst_reset(x);
    nst_start(x, fsc__hash_tail(c));
    full = true;
  }
}

/* Without a cache (no memory): the walk from the start. */
static int newest_walk(struct fsc__gen *c, uint64_t *off) {
  uint64_t pos = 0, o, end = fsc__hash_tail(c);
  int found = 0, rc;
  while ((rc = fsc__hash_next(c, &pos, end, &o)) == 1) {
    *off = o;
    found = 1;
  }
  return rc < 0 ? rc : found;
}

int fsc__hash_newest(struct fsc__gen *c, uint64_t *off) {
  if (fsc__hash_len(c) == 0)
    return 0;
  struct nst *x = nst_get(c);
  if (!x)
    return newest_walk(c, off);
  pthread_mutex_lock(&x->mu);
  int rc = nst_newest(c, x, off);
  if (rc < 0)
    nst_reset(x); /* (what an error left half-done is not trusted) */
  pthread_mutex_unlock(&x->mu);
  if (rc == FSC_ENOMEM) {
    fsc__err_clear();
    return newest_walk(c, off);
  }
  return rc;
}
