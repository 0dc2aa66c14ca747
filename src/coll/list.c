/*
 * list.c - owns the list's handle life and its lock-free operations: get,
 * len, append, extend, item assignment, and everything built on reading
 * (index, count, contains, equality, iteration, scan, typed shorthands).
 * Structural operations live in list_slice.c; the protocol that lets the
 * two coexist lives in list_struct.c.
 */
#include "struct/list_struct.h"

#include <stdlib.h>
#include <string.h>

#define READ_SPINS 256

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */




/* The record offset of element `index`: lock-free, no system call. */
static int get_off(struct fsc__gen *c, int64_t index, uint64_t *off,
                   uint64_t *wout) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  for (unsigned tries = 0;; tries++) {
    uint64_t w = 0, lh = 0, h = 0, *arr, cap;
    int rc = fsc__ls_hview(c, &w, &lh, &h, &arr, &cap);
    if (rc)
      return rc;
    uint64_t n = FSC__LW_LEN(w) - h;
    int64_t i = index < 0 ? index + (int64_t)n : index;
    if (i < 0 || (uint64_t)i >= n)
      return fsc__err(FSC_EINDEX, "list index out of range");
    uint64_t s = ck_pr_load_64(&arr[h + (uint64_t)i]);
    if (fsc__ls_moved(ih, w, lh))
      continue;
    /* A TAKEN slot at HEAD is element 0 until HEAD passes it (list_pop.c):
     * slot and HEAD were read together. */
    if (FSC__SLOT_IS_VALUE(s) || (i == 0 && FSC__SLOT_IS_TAKEN(s))) {
      *off = FSC__SLOT_OFF(s);
      *wout = w;
      return 0;
    }
    /* Only a pop in progress empties a slot below LEN, and it freezes the
     * word before it does: if the words are still exactly w and lh,
     * unfrozen, the slot is damage.  (w itself may predate the freeze:
     * the epoch check above ignores FROZEN.) */
    if (!(w & FSC__LW_FROZEN) && ck_pr_load_64(&ih->lenword) == w &&
        ck_pr_load_64(&ih->lhead) == lh)
      return fsc__err(FSC_ECORRUPT, "list slot %lld holds no record",
                      (long long)i);
    if (tries < READ_SPINS) {
      ck_pr_stall();
    } else if ((rc = fsc__ls_wait(c)) != 0) {
      return rc;
    } else {
      tries = 0;
    }
  }
}

/* fsc_list_get, in full: every case, every error. */
static int get_g(struct fsc__gen *c, int64_t index, fsc_value *out) {
  CHECK_C(c, false);
  if (!out)
    return fsc__err(FSC_EINVAL, "out is NULL");
  for (;;) {
    uint64_t off = 0, w = 0;
    int rc = get_off(c, index, &off, &w);
    if (rc)
      return rc;
    rc = fsc__rec_read(c, off, out);
    /* Swap and pop rewrites records of fixed-size lists once their slot
     * has moved on: what was read holds only if the epoch did not move. */
    if (!fsc__ls_changed(fsc__ihdr(c), w))
      return rc;
    fsc__err_clear();
  }
}

static int __attribute__((noinline)) get_slow(fsc_list *l, int64_t index,
                                              fsc_value *out) {
  FSC__GEN(l, get_g(c, index, out));
}

/*
 * The common case of get_off straight through: its reads, fences and
 * re-checks in its first iteration, with no loop, no error path and no
 * call.  The record offset of element `index` in *off, and the length word
 * the element was read under in *wout; false for anything else - an error
 * to report, a change in progress (a frozen word), a retry, a TAKEN slot,
 * a file that grew - which the caller's slow path (get_off, from the
 * start) decides.
 */
static inline __attribute__((always_inline)) bool
fast_off(struct fsc__gen *c, int64_t index, uint64_t *off, uint64_t *wout) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t lh = ck_pr_load_64(&ih->lhead);
  ck_pr_fence_load(); /* the head word before the length word */
  uint64_t w = fsc__lw_load(ih);
  /* A frozen word: a change in progress, or a generation compacted away
   * (the slow path tells which). */
  if (__builtin_expect((w & FSC__LW_FROZEN) != 0, 0))
    return false;
  bool hok;
  uint64_t h = fsc__lh_resolve(lh, w, &hok);
  if (__builtin_expect(!hok, 0))
    return false;
  unsigned b = FSC__LW_BUFIDX(w);
  uint64_t aoff = ck_pr_load_64(&ih->desc[b].off);
  uint64_t cap = ck_pr_load_64(&ih->desc[b].cap);
  if (__builtin_expect(aoff < FSC__HDR_SIZE || (aoff & 7u) || cap == 0 ||
                           cap > (UINT64_C(1) << 40), 0))
    return false;
  uint64_t *arr = fsc__ptr_try(&c->index, aoff, cap * 8);
  if (__builtin_expect(!arr, 0) || fsc__ls_changed(ih, w))
    return false; /* desc may be newer than w */
  uint64_t n = FSC__LW_LEN(w) - h;
  int64_t i = index < 0 ? index + (int64_t)n : index;
  if (__builtin_expect(FSC__LW_LEN(w) > cap || i < 0 || (uint64_t)i >= n,
                       0))
    return false;
  uint64_t s = ck_pr_load_64(&arr[h + (uint64_t)i]);
  if (__builtin_expect(fsc__ls_moved(ih, w, lh) || !FSC__SLOT_IS_VALUE(s),
                       0))
    return false;
  /* (The load fence of that re-check also orders the record's read after
   * the slot naming it, as in get_off.) */
  *off = FSC__SLOT_OFF(s);
  *wout = w;
  return true;
}

/*
 * The common case straight through: fast_off and fsc__rec_read, so that a
 * get needs no stack frame and stays a few dozen instructions (a random
 * get is two cache misses, and the fewer instructions each get takes, the
 * more gets' misses the CPU overlaps).  Anything else goes to get_slow,
 * which starts over: a reader may always retry.
 */
int fsc_list_get(fsc_list *l, int64_t index, fsc_value *out) {
  if (__builtin_expect(!l || fsc__err_code != 0 || !out, 0))
    return get_slow(l, index, out);
  struct fsc__gen *c = fsc__cur(FSC__H(l));
  uint64_t off, w;
  if (__builtin_expect(fsc__gen_closed(c) || !fast_off(c, index, &off, &w),
                       0))
    return get_slow(l, index, out);
  const struct fsc__rec *r = fsc__rec_locate_try(c, off);
  if (__builtin_expect(!r, 0) ||
      fsc__value_decode((fsc_type)fsc__rec_type(r), fsc__rec_pl(r),
                        fsc__rec_size(r), out) != 0 ||
      fsc__ls_changed(fsc__ihdr(c), w)) /* swap and pop may rewrite a
                                           record */
    return get_slow(l, index, out);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Lock-free writes                                                    */
/* ------------------------------------------------------------------ */

/* Wait until the append that filled slot n in epoch of w is counted. */
static int await_counted(struct fsc__gen *c, uint64_t w) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t n = FSC__LW_LEN(w);
  for (;;) {
    uint64_t w2 = ck_pr_load_64(&ih->lenword);
    if (FSC__LW_EPOCH(w2) != FSC__LW_EPOCH(w) || FSC__LW_LEN(w2) > n)
      return 0; /* bumped, or adopted and published by a change */
    if (!(w2 & FSC__LW_FROZEN)) {
      ck_pr_cas_64(&ih->lenword, w2, w2 + 1);
      continue;
    }
    int rc = fsc__ls_wait(c); /* a change is adopting it */
    if (rc == FSC__EMOVED)
      return 0; /* a compaction adopted it, and copied it */
    if (rc)
      return rc;
  }
}

/* Publish a written record at the end of the list: 0 once it is in the
 * list (an error only while it is not). */
static int publish_append(struct fsc__gen *c, uint64_t roff) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  ck_pr_fence_store(); /* the record's bytes before the slot that names it */
  for (unsigned fenced = 0;;) {
    uint64_t w, *arr, cap;
    int rc = fsc__ls_view(c, &w, &arr, &cap);
    if (rc)
      return rc;
    if (w & FSC__LW_FROZEN) {
      if ((rc = fsc__ls_wait(c)) != 0)
        return rc;
      continue;
    }
    uint64_t n = FSC__LW_LEN(w);
    if (n >= cap) {
      if ((rc = fsc__ls_grow(c)) != 0)
        return rc;
      continue;
    }
    uint64_t s = ck_pr_load_64(&arr[n]);
    /* Re-check the epoch, BUF and FROZEN (not only the epoch, as a reader
     * does): a change writes the empty tags of its new epoch while the
     * word is frozen, before it publishes that epoch (pop(-1) empties
     * slot LEN-1 and retags slot LEN).  A tag read then, under an epoch
     * that still looks like w's, is the future one, and a CAS expecting
     * it would fill slot LEN of w above the END the change publishes: an
     * append stranded past the end, counted out of order or lost (the
     * rare queue_both_ends failure in tests/test_shared.c). */
    ck_pr_fence_load();
    if ((ck_pr_load_64(&ih->lenword) ^ w) & ~FSC__LW_LEN_MASK)
      continue;
    if (FSC__SLOT_IS_VALUE(s)) { /* another append is pending: help it */
      ck_pr_cas_64(&ih->lenword, w, w + 1);
      continue;
    }
    if (FSC__SLOT_IS_TAKEN(s)) {
      /* Popped at the head since w was read: HEAD, and so END, have
       * moved past n (a stale w, as a counted element there is).  Under
       * the same word it is damage. */
      if (ck_pr_load_64(&ih->lenword) == w)
        return fsc__err(FSC_ECORRUPT, "list slot %llu (the length) is a "
                        "popped slot", (unsigned long long)n);
      continue;
    }
    if (s == FSC__SLOT_FENCE) { /* a change is freezing the list */
      /* ...and froze the word before the fence: a fence that stays under
       * the same unfrozen word is damage (a hostile or broken file). */
      if (++fenced > READ_SPINS && ck_pr_load_64(&ih->lenword) == w)
        return fsc__err(FSC_ECORRUPT, "list slot %llu is fenced, but no "
                        "change holds the list", (unsigned long long)n);
      ck_pr_stall();
      continue;
    }
    if (s != 0 && !(s & FSC__SLOT_EMPTY_FLAG))
      return fsc__err(FSC_ECORRUPT, "list slot %llu holds garbage",
                      (unsigned long long)n);
    /* s was read within w's epoch, and an empty value never recurs in a
     * slot within 2^22 epochs: if the CAS succeeds, the slot was free. */
    if (ck_pr_cas_64(&arr[n], s, roff)) {
      /* The record is in the list now: a filled slot is counted, by a
       * bump or by the next change's adoption (list_struct.c), whatever
       * happens to this wait.  So a failed wait (a lock timeout behind a
       * slow change) is not the append's failure: reporting it would
       * have the caller retire a listed record, or append it twice. */
      if (await_counted(c, w) != 0)
        fsc__err_clear();
      return 0;
    }
  }
}

static int append_g(struct fsc__gen *c, const fsc_value *v) {
  CHECK_C(c, true);
  int rc = fsc__value_check(c->type, v);
  if (rc)
    return rc;
  uint64_t off;
  if ((rc = fsc__rec_write(c, v, &off)) != 0)
    return rc;
  if ((rc = publish_append(c, off)) != 0) {
    fsc__rec_retire(c, off);
    return rc;
  }
  return fsc__gen_after_write(c);
}

int fsc_list_append(fsc_list *l, const fsc_value *v) {
  FSC__GEN(l, append_g(c, v));
}

/* Append vs[*done..n) to generation c, counting in *done: a retry after
 * a compaction goes on from there. */
static int extend_g(struct fsc__gen *c, const fsc_value *vs, size_t n,
                    size_t *done) {
  CHECK_C(c, true);
  if (n && !vs)
    return fsc__err(FSC_EINVAL, "values are NULL");
  for (size_t i = *done; i < n; i++) {
    int rc = fsc__value_check(c->type, &vs[i]);
    if (rc)
      return rc;
  }
  /* Nothing below syncs, so one sync at the end (the handle's durability
   * is not touched: other threads may be using the handle). */
  int rc = 0;
  for (; *done < n && rc == 0;) {
    uint64_t off;
    if ((rc = fsc__rec_write(c, &vs[*done], &off)) == 0 &&
        (rc = publish_append(c, off)) != 0)
      fsc__rec_retire(c, off);
    if (rc == 0)
      (*done)++;
  }
  return rc ? rc : fsc__gen_after_write(c);
}

int fsc_list_extend(fsc_list *l, const fsc_value *vs, size_t n) {
  size_t done = 0;
  FSC__GEN(l, extend_g(c, vs, n, &done));
}

/* Point slot `index` at the written record roff (fence issued), if it
 * names `expect` (0: whatever it names); retire the record it named.
 * FSC_EAGAIN (nothing recorded) when it names another record.  The caller
 * retires roff on failure. */
static int slot_put(struct fsc__gen *c, int64_t index, uint64_t roff,
                    uint64_t expect) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  int rc;
  for (unsigned tries = 0;; tries++) {
    uint64_t w = 0, lh = 0, h = 0, *arr, cap;
    if ((rc = fsc__ls_hview(c, &w, &lh, &h, &arr, &cap)) != 0)
      return rc;
    if (w & FSC__LW_FROZEN) {
      if ((rc = fsc__ls_wait(c)) != 0)
        return rc;
      continue;
    }
    uint64_t n = FSC__LW_LEN(w) - h;
    int64_t i = index < 0 ? index + (int64_t)n : index;
    if (i < 0 || (uint64_t)i >= n)
      return fsc__err(FSC_EINDEX, "list assignment index out of range");
    uint64_t *slot = &arr[h + (uint64_t)i];
    uint64_t s = ck_pr_load_64(slot);
    if (fsc__ls_moved(ih, w, lh))
      continue;
    if (FSC__SLOT_IS_TAKEN(s)) { /* a pop's claim: pass HEAD, index again */
      ck_pr_cas_64(&ih->lhead, lh, FSC__LH_MAKE(FSC__LW_EPOCH(w), h + 1));
      continue;
    }
    if (!FSC__SLOT_IS_VALUE(s) || (s & FSC__SLOT_FROZEN)) {
      /* Frozen by a change that has not yet frozen the word we read. */
      if (tries > READ_SPINS) {
        /* A change freezes the word before any slot (and a frozen word
         * is waited for above): a slot that stays unusable under the same
         * unfrozen word is damage, not a change in progress. */
        if (ck_pr_load_64(&ih->lenword) == w &&
            ck_pr_load_64(&ih->lhead) == lh)
          return fsc__err(FSC_ECORRUPT, "list slot %lld holds no record",
                          (long long)i);
        tries = 0;
      }
      ck_pr_stall();
      continue;
    }
    if (expect && FSC__SLOT_OFF(s) != expect)
      return FSC_EAGAIN;
    /* A later change freezes this slot before copying it, so a successful
     * CAS is never lost. */
    if (ck_pr_cas_64(slot, s, roff)) {
      /* In a typed list every record has the type's size: retire the old
       * one without reading its header first (a cache miss). */
      size_t f = fsc__type_fixed_size(c->type);
      if (f)
        fsc__rec_retire_sized(c, FSC__SLOT_OFF(s), f);
      else
        fsc__rec_retire(c, FSC__SLOT_OFF(s));
      return 0;
    }
  }
}

static int set_g(struct fsc__gen *c, int64_t index, const fsc_value *v) {
  CHECK_C(c, true);
  int rc = fsc__value_check(c->type, v);
  if (rc)
    return rc;
  uint64_t roff;
  if ((rc = fsc__rec_write(c, v, &roff)) != 0)
    return rc;
  ck_pr_fence_store(); /* the record's bytes before the slot */
  if ((rc = slot_put(c, index, roff, 0)) == 0)
    return fsc__gen_after_write(c);
  fsc__rec_retire(c, roff);
  return rc;
}

int fsc_list_set(fsc_list *l, int64_t index, const fsc_value *v) {
  FSC__GEN(l, set_g(c, index, v));
}

/* ------------------------------------------------------------------ */
/* Built on reading                                                    */
/* ------------------------------------------------------------------ */

/* Python's index bounds: negative counts from the end, clamped to [0,n]. */
static uint64_t clamp_bound(int64_t b, uint64_t n, uint64_t dflt) {
  if (b == FSC_NONE)
    return dflt;
  if (b < 0) {
    b += (int64_t)n;
    return b < 0 ? 0 : (uint64_t)b;
  }
  return (uint64_t)b > n ? n : (uint64_t)b;
}

/* Scan [start, stop) for v; stop is re-read as the list changes. */
static int find(fsc_list *l, const fsc_value *v, int64_t start, int64_t stop,
                bool count_all, uint64_t *out) {
  uint64_t n;
  fsc__len(l, &n);
  uint64_t i = clamp_bound(start, n, 0), found = 0;
  uint64_t end = clamp_bound(stop, n, UINT64_MAX);
  for (;; i++) {
    fsc_value e;
    if (i >= end)
      break;
    int rc = fsc_list_get(l, (int64_t)i, &e);
    if (rc == FSC_EINDEX)
      break;
    if (rc)
      return rc;
    if (fsc_value_equal(&e, v)) {
      if (!count_all) {
        *out = i;
        return 1;
      }
      found++;
    }
  }
  fsc__err_clear();
  *out = found;
  return count_all ? 1 : 0;
}

int fsc_list_index(fsc_list *l, const fsc_value *v, int64_t start,
                   int64_t stop, uint64_t *out) {
  CHECK(l, false);
  if (!v || !out)
    return fsc__err(FSC_EINVAL, "NULL argument");
  int rc = find(l, v, start, stop, false, out);
  if (rc < 0)
    return rc;
  return rc ? 0 : fsc__err(FSC_EVALUE, "value is not in list");
}

int fsc_list_count(fsc_list *l, const fsc_value *v, uint64_t *out) {
  CHECK(l, false);
  if (!v || !out)
    return fsc__err(FSC_EINVAL, "NULL argument");
  int rc = find(l, v, FSC_NONE, FSC_NONE, true, out);
  return rc < 0 ? rc : 0;
}

int fsc_list_contains(fsc_list *l, const fsc_value *v) {
  CHECK(l, false);
  if (!v)
    return fsc__err(FSC_EINVAL, "NULL argument");
  uint64_t at;
  return find(l, v, FSC_NONE, FSC_NONE, false, &at);
}

int fsc_list_equal(fsc_list *a, fsc_list *b) {
  CHECK(a, false);
  CHECK(b, false);
  uint64_t na, nb;
  fsc__len(a, &na);
  fsc__len(b, &nb);
  if (na != nb)
    return 0;
  for (uint64_t i = 0; i < na; i++) {
    fsc_value x, y;
    int ra = fsc_list_get(a, (int64_t)i, &x);
    int rb = fsc_list_get(b, (int64_t)i, &y);
    if (ra == FSC_EINDEX || rb == FSC_EINDEX) /* shrank meanwhile */
      return ra == rb ? 1 : 0;
    if (ra || rb)
      return ra ? ra : rb;
    if (!fsc_value_equal(&x, &y))
      return 0;
  }
  fsc__len(a, &na);
  fsc__len(b, &nb);
  return na == nb ? 1 : 0;
}

int fsc_list_iter_init(fsc_list *l, fsc_list_iter *it) {
  CHECK(l, false);
  if (!it)
    return fsc__err(FSC_EINVAL, "NULL iterator");
  it->list = l;
  it->pos = 0;
  return 0;
}

int fsc_list_iter_next(fsc_list_iter *it, fsc_value *out) {
  if (!it)
    return fsc__err(FSC_EINVAL, "NULL iterator");
  CHECK(it->list, false);
  if (it->pos > INT64_MAX)
    return 0;
  int rc = fsc_list_get(it->list, (int64_t)it->pos, out);
  if (rc == FSC_EINDEX) {
    fsc__err_clear();
    return 0;
  }
  if (rc)
    return rc;
  it->pos++;
  return 1;
}

static int scan_walk(fsc_list *l, fsc_list_pred pred, fsc_list_emit emit,
                     void *ctx) {
  CHECK(l, false);
  for (uint64_t i = 0;; i++) {
    fsc_value v;
    int rc = fsc_list_get(l, (int64_t)i, &v);
    if (rc == FSC_EINDEX) {
      fsc__err_clear();
      return 0;
    }
    if (rc)
      return rc;
    int keep = pred ? pred(&v, ctx) : 1;
    if (keep < 0)
      return keep;
    if (keep && emit && (rc = emit(i, &v, ctx)) < 0)
      return rc;
  }
}

/* A scan walks the whole collection in file order: the range is marked
 * sequential for it (map.c) and gets the handle's hint back after. */
int fsc_list_scan(fsc_list *l, fsc_list_pred pred, fsc_list_emit emit,
                  void *ctx) {
  CHECK(l, false);
  struct fsc__gen *g = fsc__cur(FSC__H(l));
  fsc__advise_walk(g, true);
  int rc = scan_walk(l, pred, emit, ctx);
  fsc__advise_walk(g, false);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Typed shorthands                                                    */
/* ------------------------------------------------------------------ */

int fsc_list_append_i64(fsc_list *l, int64_t v) {
  fsc_value x = fsc_i64(v);
  return fsc_list_append(l, &x);
}

int fsc_list_append_f64(fsc_list *l, double v) {
  fsc_value x = fsc_f64(v);
  return fsc_list_append(l, &x);
}

int fsc_list_append_str(fsc_list *l, const char *s) {
  if (!s) {
    fsc__err_clear();
    return fsc__err(FSC_EINVAL, "NULL string");
  }
  fsc_value x = fsc_str(s);
  return fsc_list_append(l, &x);
}

int fsc_list_set_i64(fsc_list *l, int64_t index, int64_t v) {
  fsc_value x = fsc_i64(v);
  return fsc_list_set(l, index, &x);
}

/* `have_out`: the caller's output pointers are non-NULL (as for
 * fsc_list_get, a NULL output is FSC_EINVAL). */
static int get_typed(fsc_list *l, int64_t index, fsc_type t, fsc_value *v,
                     bool have_out) {
  if (!have_out) {
    CHECK(l, false);
    return fsc__err(FSC_EINVAL, "out is NULL");
  }
  int rc = fsc_list_get(l, index, v);
  if (rc)
    return rc;
  if (v->type != t)
    return fsc__err(FSC_ETYPE, "Expected %s, got %s", fsc_type_name(t),
                    fsc_type_name(v->type));
  return 0;
}

int fsc_list_get_i64(fsc_list *l, int64_t index, int64_t *out) {
  fsc_value v;
  int rc = get_typed(l, index, FSC_TYPE_INT64, &v, out != NULL);
  if (rc == 0)
    *out = v.u.i64;
  return rc;
}

int fsc_list_get_f64(fsc_list *l, int64_t index, double *out) {
  fsc_value v;
  int rc = get_typed(l, index, FSC_TYPE_FLOAT, &v, out != NULL);
  if (rc == 0)
    *out = v.u.f;
  return rc;
}

int fsc_list_get_str(fsc_list *l, int64_t index, const char **ptr,
                     size_t *len) {
  fsc_value v;
  int rc = get_typed(l, index, FSC_TYPE_STRING, &v, ptr && len);
  if (rc == 0) {
    *ptr = v.u.buf.ptr;
    *len = v.u.buf.len;
  }
  return rc;
}

/* ------------------------------------------------------------------ */
/* Counters in place and compare-and-swap                              */
/* ------------------------------------------------------------------ */

/* Write v (int64 or float, unchecked) as a counter record, unless the
 * handle swaps and pops (auto_compact rewrites records: plain ones then). */
static int value_write(struct fsc__gen *c, const fsc_value *v, bool ctr,
                       uint64_t *roff) {
  if (!ctr)
    return fsc__rec_write(c, v, roff);
  uint8_t *pl;
  int rc = fsc__rec_alloc_counter(c, 8, roff, &pl);
  if (rc)
    return rc;
  fsc__value_encode(v, pl);
  fsc__rec_seal(pl, (uint8_t)v->type, 8);
  return 0;
}

static int incr_g(struct fsc__gen *c, int64_t index, int64_t delta,
                  int64_t *out) {
  CHECK_C(c, true);
  if (c->type != FSC_TYPE_INT64 && c->type != FSC_TYPE_ANY)
    return fsc__err(FSC_ETYPE, "Expected int64 for %s, got int64 "
                    "increment", fsc_type_name(c->type));
  for (;;) {
    uint64_t off, w, old;
    int rc = get_off(c, index, &off, &w);
    if (rc)
      return rc;
    const struct fsc__rec *r;
    if ((rc = fsc__rec_locate(c, off, &r)) != 0)
      return rc;
    if (fsc__rec_type(r) != FSC_TYPE_INT64 || fsc__rec_size(r) != 8) {
      if (fsc__ls_changed(fsc__ihdr(c), w))
        continue;
      return fsc__err(FSC_ETYPE, "Expected int64 for increment, got %s",
                      fsc_type_name((fsc_type)fsc__rec_type(r)));
    }
    if (!c->auto_compact) {
      /* The fast path: one atomic add on the element's value word. */
      uint64_t arg = (uint64_t)delta;
      rc = fsc__ctr_rmw(c, off, FSC__CTR_ADD, &arg, &old);
      if (rc < 0)
        return rc;
      if (rc == 0) {
        int64_t nv;
        if (__builtin_add_overflow((int64_t)le64toh(old), delta, &nv))
          return fsc__ctr_add_undo(c, off, delta);
        if (out)
          *out = nv;
        return c->durability == FSC_DURABLE_ALWAYS
                   ? fsc__compact_after_write(c) : 0;
      }
    }
    /* Not a counter (or closed): replace the element's record. */
    fsc__ctr_close(c, off);
    fsc_value cur;
    if ((rc = fsc__rec_read(c, off, &cur)) != 0)
      return rc;
    if (fsc__ls_changed(fsc__ihdr(c), w))
      continue; /* swap and pop may have rewritten what we read */
    int64_t nv;
    if (__builtin_add_overflow(cur.u.i64, delta, &nv))
      return fsc__err(FSC_EVALUE, "int64 overflow: %lld + %lld",
                      (long long)cur.u.i64, (long long)delta);
    fsc_value x = fsc_i64(nv);
    uint64_t roff;
    if ((rc = value_write(c, &x, !c->auto_compact, &roff)) != 0)
      return rc;
    ck_pr_fence_store(); /* the record's bytes before the slot */
    rc = slot_put(c, index, roff, off);
    if (rc == 0) {
      if (out)
        *out = nv;
      return fsc__gen_after_write(c);
    }
    fsc__rec_retire(c, roff);
    if (rc != FSC_EAGAIN)
      return rc;
  }
}

static int __attribute__((noinline)) incr_slow(fsc_list *l, int64_t index,
                                               int64_t delta, int64_t *out) {
  FSC__GEN(l, incr_g(c, index, delta, out));
}

/*
 * The common case of incr_g straight through (issue #14): a writable
 * handle of int64 elements with no swap and pop and no sync per write, the
 * element's record a counter, neither closed nor sealed: fast_off, the
 * record's header, then fsc__ctr_add_try (on x86-64 one 16-byte CAS when
 * the compact record is 16-aligned, else three atomics).  Everything else
 * - a first increment (not a counter yet), a closed or sealed counter, a
 * change in progress, an error to report - goes to incr_slow, which starts
 * over (nothing was changed).
 */
int fsc_list_incr(fsc_list *l, int64_t index, int64_t delta, int64_t *out) {
  if (__builtin_expect(!l || fsc__err_code != 0, 0))
    return incr_slow(l, index, delta, out);
  struct fsc__gen *c = fsc__cur(FSC__H(l));
  uint64_t off, w, old;
  const struct fsc__rec *r;
  if (__builtin_expect(fsc__gen_closed(c) || c->rdonly || c->auto_compact ||
                           c->durability == FSC_DURABLE_ALWAYS ||
                           (c->type != FSC_TYPE_INT64 &&
                            c->type != FSC_TYPE_ANY) ||
                           !fast_off(c, index, &off, &w) ||
                           !(r = fsc__rec_locate_try(c, off)) ||
                           fsc__rec_type(r) != FSC_TYPE_INT64 ||
                           fsc__rec_size(r) != 8,
                       0))
    return incr_slow(l, index, delta, out);
  int rc = fsc__ctr_add_try(r, 8, off, (uint64_t)delta, &old);
  if (__builtin_expect(rc != 0, 0))
    return rc == 1 ? incr_slow(l, index, delta, out) : rc;
  int64_t nv;
  if (__builtin_add_overflow((int64_t)le64toh(old), delta, &nv))
    return fsc__ctr_add_undo(c, off, delta);
  if (out)
    *out = nv;
  return 0;
}

static int cas_g(struct fsc__gen *c, int64_t index, const fsc_value *expected,
                 const fsc_value *desired, fsc_value *current) {
  CHECK_C(c, true);
  if (!expected || !desired)
    return fsc__err(FSC_EINVAL, "expected or desired is NULL");
  int rc = fsc__value_check(c->type, desired);
  if (rc)
    return rc;
  for (;;) {
    uint64_t off, w;
    if ((rc = get_off(c, index, &off, &w)) != 0)
      return rc;
    const struct fsc__rec *r;
    if ((rc = fsc__rec_locate(c, off, &r)) != 0)
      return rc;
    const uint8_t *pl = fsc__rec_pl(r);
    bool same = fsc__value_same_encoding(expected, (fsc_type)fsc__rec_type(r),
                                         pl, fsc__rec_size(r));
    if (fsc__ls_changed(fsc__ihdr(c), w))
      continue;
    if (!same) {
      fsc_value now;
      if ((rc = fsc__rec_read(c, off, &now)) != 0)
        return rc;
      if (fsc__ls_changed(fsc__ihdr(c), w))
        continue;
      if (current)
        *current = now;
      return 0;
    }
    if (desired->type == fsc__rec_type(r) && fsc__rec_size(r) == 8 &&
        !c->auto_compact) {
      rc = fsc__ctr_cas(c, off, expected, desired, current);
      if (rc < 0)
        return rc;
      if (rc == 1) {
        fsc__ec_bump(c);
        rc = c->durability == FSC_DURABLE_ALWAYS
                 ? fsc__compact_after_write(c) : 0;
        return rc ? rc : 1;
      }
      if (rc == 0)
        return 0;
    }
    /* Replace the record: its value final first, and still expected. */
    fsc__ctr_close(c, off);
    if (!fsc__value_same_encoding(expected, (fsc_type)fsc__rec_type(r), pl,
                                  fsc__rec_size(r)))
      continue;
    bool ctr = !c->auto_compact && fsc__type_fixed_size(desired->type) == 8;
    uint64_t roff;
    if ((rc = value_write(c, desired, ctr, &roff)) != 0)
      return rc;
    ck_pr_fence_store();
    rc = slot_put(c, index, roff, off);
    if (rc == 0) {
      rc = fsc__gen_after_write(c);
      return rc ? rc : 1;
    }
    fsc__rec_retire(c, roff);
    if (rc != FSC_EAGAIN)
      return rc;
  }
}

int fsc_list_cas(fsc_list *l, int64_t index, const fsc_value *expected,
                 const fsc_value *desired, fsc_value *current) {
  FSC__GEN(l, cas_g(c, index, expected, desired, current));
}
