/*
 * list_slice.c - owns the list's structural operations and Python's slice
 * arithmetic: insert, pop, del, remove, reverse, sort, clear, and slice
 * get / set / del.  Each one writes any new records first (lock-free), then
 * runs as one change of list_struct.c: freeze, build the new pointer array,
 * publish it with one store.  Records it drops are retired only after the
 * change is published.
 */
#include "struct/list_struct.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Python's slice arithmetic (PySlice_Unpack + PySlice_AdjustIndices)  */
/* ------------------------------------------------------------------ */

struct range {
  int64_t start, step;
  uint64_t len;
};

static int slice_adjust(fsc_slice s, uint64_t n, struct range *r) {
  int64_t step = s.step == FSC_NONE ? 1 : s.step;
  if (step == 0)
    return fsc__err(FSC_EVALUE, "slice step cannot be zero");
  if (step < -INT64_MAX)
    step = -INT64_MAX;
  int64_t len = (int64_t)n;
  int64_t start = s.start == FSC_NONE ? (step < 0 ? INT64_MAX : 0) : s.start;
  int64_t stop = s.stop == FSC_NONE ? (step < 0 ? INT64_MIN : INT64_MAX)
                                    : s.stop;
  if (start < 0) {
    start = start < -len ? (step < 0 ? -1 : 0) : start + len;
  } else if (start >= len) {
    start = step < 0 ? len - 1 : len;
  }
  if (stop < 0) {
    stop = stop < -len ? (step < 0 ? -1 : 0) : stop + len;
  } else if (stop >= len) {
    stop = step < 0 ? len - 1 : len;
  }
  uint64_t cnt = 0;
  if (step < 0) {
    if (stop < start)
      cnt = (uint64_t)((start - stop - 1) / (-step)) + 1;
  } else if (start < stop) {
    cnt = (uint64_t)((stop - start - 1) / step) + 1;
  }
  r->start = start;
  r->step = step;
  r->len = cnt;
  return 0;
}

static uint64_t range_at(const struct range *r, uint64_t k) {
  return (uint64_t)(r->start + (int64_t)k * r->step);
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static void retire_all(struct fsc__gen *c, const uint64_t *offs,
                       uint64_t n) {
  for (uint64_t i = 0; i < n; i++)
    fsc__rec_retire(c, offs[i]);
}

/* Validate and write n values; on failure nothing stays live. */
static int write_records(struct fsc__gen *c, const fsc_value *vs, size_t n,
                         uint64_t **out) {
  *out = NULL;
  if (n && !vs)
    return fsc__err(FSC_EINVAL, "values are NULL");
  for (size_t i = 0; i < n; i++) {
    int rc = fsc__value_check(c->type, &vs[i]);
    if (rc)
      return rc;
  }
  uint64_t *offs = malloc((n ? n : 1) * sizeof *offs);
  if (!offs)
    return fsc__err(FSC_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    int rc = fsc__rec_write(c, &vs[i], &offs[i]);
    if (rc) {
      retire_all(c, offs, i);
      free(offs);
      return rc;
    }
  }
  ck_pr_fence_store(); /* records complete before a change publishes them */
  *out = offs;
  return 0;
}

static uint64_t *alloc_offs(uint64_t n) {
  return malloc((size_t)(n ? n : 1) * sizeof(uint64_t));
}

/* ------------------------------------------------------------------ */
/* insert / pop / del / remove                                         */
/* ------------------------------------------------------------------ */

static int insert_g(struct fsc__gen *c, int64_t index, const fsc_value *v) {
  CHECK_C(c, true);
  uint64_t *rec;
  int rc = write_records(c, v, 1, &rec);
  if (rc)
    return rc;
  struct fsc__lsnap sn;
  if ((rc = fsc__ls_begin(c, &sn, true)) != 0)
    goto fail;
  uint64_t n = sn.len, i;
  if (index < 0)
    i = index + (int64_t)n < 0 ? 0 : (uint64_t)(index + (int64_t)n);
  else
    i = (uint64_t)index > n ? n : (uint64_t)index;
  uint64_t *arr = alloc_offs(n + 1);
  if (!arr) {
    fsc__ls_abort(c, &sn);
    rc = fsc__err(FSC_ENOMEM, "out of memory");
    goto fail;
  }
  memcpy(arr, sn.old, (size_t)i * 8);
  arr[i] = rec[0];
  memcpy(arr + i + 1, sn.old + i, (size_t)(n - i) * 8);
  rc = fsc__ls_commit(c, &sn, arr, n + 1, n + 1 < sn.cap ? 0 : sn.cap * 2);
  free(arr);
  if (rc)
    goto fail;
  free(rec);
  return fsc__gen_after_write(c);
fail:
  fsc__rec_retire(c, rec[0]);
  free(rec);
  return rc;
}

int fsc_list_insert(fsc_list *l, int64_t index, const fsc_value *v) {
  FSC__GEN(l, insert_g(c, index, v));
}

/* Remove element `index` (Python's pop/del); its record offset in *off. */
static int remove_at(struct fsc__gen *c, int64_t index, uint64_t *off,
                     const char *empty_msg, const char *range_msg) {
  int rc;
  if (index == 0) { /* a queue's pop: no lock (list_pop.c) */
    rc = fsc__ls_pop_first(c, off);
    if (rc == FSC_EINDEX)
      rc = fsc__err(FSC_EINDEX, "%s", empty_msg);
    return rc;
  }
  if (index == -1) { /* O(1), in place */
    rc = fsc__ls_pop_last(c, off);
    if (rc == FSC_EINDEX)
      rc = fsc__err(FSC_EINDEX, "%s", empty_msg);
    return rc;
  }
  struct fsc__lsnap sn;
  uint64_t i;
  if ((rc = fsc__ls_begin_at(c, &sn, true, index, empty_msg, range_msg,
                             &i)) != 0)
    return rc;
  uint64_t n = sn.len;
  *off = sn.old[i];
  /* Shift in the snapshot copy; it is ours. */
  memmove(sn.old + i, sn.old + i + 1, (size_t)(n - i - 1) * 8);
  return fsc__ls_commit(c, &sn, sn.old, n - 1, 0);
}

/* Remove the item at index, for pop and del: swap-and-pop under
 * auto_compact, else a shift under the lock.  A pop closes the record's
 * counter and views it in *out (if out) before retiring it; the record
 * stays in the file (until compaction) and is immutable (a counter once
 * closed: record.c), so the view is valid until the handle closes. */
static int take_g(struct fsc__gen *c, int64_t index, bool pop,
                  fsc_value *out, const char *empty_msg,
                  const char *range_msg) {
  CHECK_C(c, true);
  if (c->auto_compact) {
    int rc = fsc__ls_swap_pop(c, index, out, empty_msg, range_msg);
    return rc ? rc : fsc__gen_after_write(c);
  }
  uint64_t off;
  int rc = remove_at(c, index, &off, empty_msg, range_msg);
  if (rc)
    return rc;
  if (pop) {
    fsc__ctr_close(c, off);
    if (out && (rc = fsc__rec_read(c, off, out)) != 0)
      return rc;
  }
  fsc__rec_retire(c, off);
  return fsc__gen_after_write(c);
}

static int pop_g(struct fsc__gen *c, int64_t index, fsc_value *out) {
  return take_g(c, index, true, out, "pop from empty list",
                "pop index out of range");
}

int fsc_list_pop(fsc_list *l, int64_t index, fsc_value *out) {
  FSC__GEN(l, pop_g(c, index, out));
}

static int del_g(struct fsc__gen *c, int64_t index) {
  return take_g(c, index, false, NULL, "list assignment index out of range",
                "list assignment index out of range");
}

int fsc_list_del(fsc_list *l, int64_t index) {
  FSC__GEN(l, del_g(c, index));
}

static int remove_g(struct fsc__gen *c, const fsc_value *v) {
  CHECK_C(c, true);
  if (!v)
    return fsc__err(FSC_EINVAL, "NULL value");
  struct fsc__lsnap sn;
  int rc = fsc__ls_begin(c, &sn, true);
  if (rc)
    return rc;
  for (uint64_t i = 0; i < sn.len; i++) {
    fsc_value e;
    if ((rc = fsc__rec_read(c, sn.old[i], &e)) != 0) {
      fsc__ls_abort(c, &sn);
      return rc;
    }
    if (fsc_value_equal(&e, v)) {
      uint64_t off = sn.old[i];
      memmove(sn.old + i, sn.old + i + 1, (size_t)(sn.len - i - 1) * 8);
      if ((rc = fsc__ls_commit(c, &sn, sn.old, sn.len - 1, 0)) != 0)
        return rc;
      fsc__rec_retire(c, off);
      return fsc__gen_after_write(c);
    }
  }
  fsc__ls_abort(c, &sn);
  return fsc__err(FSC_EVALUE, "list.remove(x): x not in list");
}

int fsc_list_remove(fsc_list *l, const fsc_value *v) {
  FSC__GEN(l, remove_g(c, v));
}

/* ------------------------------------------------------------------ */
/* reverse / clear / sort                                              */
/* ------------------------------------------------------------------ */

static int reverse_g(struct fsc__gen *c) {
  CHECK_C(c, true);
  struct fsc__lsnap sn;
  int rc = fsc__ls_begin(c, &sn, true);
  if (rc)
    return rc;
  for (uint64_t i = 0, j = sn.len; i + 1 < j; i++, j--) {
    uint64_t t = sn.old[i];
    sn.old[i] = sn.old[j - 1];
    sn.old[j - 1] = t;
  }
  rc = fsc__ls_commit(c, &sn, sn.old, sn.len, 0);
  return rc ? rc : fsc__gen_after_write(c);
}

int fsc_list_reverse(fsc_list *l) {
  FSC__GEN(l, reverse_g(c));
}

static int clear_g(struct fsc__gen *c) {
  CHECK_C(c, true);
  struct fsc__lsnap sn;
  int rc = fsc__ls_begin(c, &sn, true);
  if (rc)
    return rc;
  uint64_t n = sn.len, *dropped = sn.old;
  sn.old = NULL; /* keep the offsets past commit, to retire them */
  /* Zero elements, but a real pointer: publish() memcpy()s from it. */
  if ((rc = fsc__ls_commit(c, &sn, dropped, 0, 0)) == 0)
    retire_all(c, dropped, n);
  free(dropped);
  return rc ? rc : fsc__gen_after_write(c);
}

int fsc_list_clear(fsc_list *l) {
  FSC__GEN(l, clear_g(c));
}

struct sorter {
  fsc_value *vals;
  bool reverse;
  int err;
};

/* a before b?  Stable merge sort only asks "b < a" to break order. */
static bool less(struct sorter *s, uint64_t a, uint64_t b) {
  int cmp = 0;
  if (s->err)
    return false;
  int rc = fsc__value_compare(&s->vals[a], &s->vals[b], &cmp);
  if (rc) {
    s->err = rc;
    return false;
  }
  return s->reverse ? cmp > 0 : cmp < 0;
}

static void merge_sort(struct sorter *s, uint64_t *idx, uint64_t *tmp,
                       uint64_t n) {
  if (n < 2)
    return;
  uint64_t h = n / 2;
  merge_sort(s, idx, tmp, h);
  merge_sort(s, idx + h, tmp, n - h);
  if (!less(s, idx[h], idx[h - 1]))
    return; /* already in order */
  memcpy(tmp, idx, (size_t)h * 8);
  uint64_t i = 0, j = h, k = 0;
  while (i < h && j < n)
    idx[k++] = less(s, idx[j], tmp[i]) ? idx[j++] : tmp[i++];
  while (i < h)
    idx[k++] = tmp[i++];
}

static int sort_g(struct fsc__gen *c, bool reverse) {
  CHECK_C(c, true);
  struct fsc__lsnap sn;
  int rc = fsc__ls_begin(c, &sn, true);
  if (rc)
    return rc;
  uint64_t n = sn.len;
  struct sorter s = {malloc((size_t)(n ? n : 1) * sizeof(fsc_value)),
                     reverse, 0};
  uint64_t *idx = alloc_offs(n), *tmp = alloc_offs(n / 2 + 1);
  if (!s.vals || !idx || !tmp) {
    rc = fsc__err(FSC_ENOMEM, "out of memory sorting %llu elements",
                  (unsigned long long)n);
    goto abort;
  }
  for (uint64_t i = 0; i < n; i++) {
    idx[i] = i;
    if ((rc = fsc__rec_read(c, sn.old[i], &s.vals[i])) != 0)
      goto abort;
  }
  merge_sort(&s, idx, tmp, n);
  if ((rc = s.err) != 0)
    goto abort;
  for (uint64_t i = 0; i < n; i++)
    idx[i] = sn.old[idx[i]];
  rc = fsc__ls_commit(c, &sn, idx, n, 0);
  free(s.vals);
  free(idx);
  free(tmp);
  return rc ? rc : fsc__gen_after_write(c);
abort:
  fsc__ls_abort(c, &sn);
  free(s.vals);
  free(idx);
  free(tmp);
  return rc;
}

int fsc_list_sort(fsc_list *l, bool reverse) {
  FSC__GEN(l, sort_g(c, reverse));
}

/* ------------------------------------------------------------------ */
/* Slices                                                              */
/* ------------------------------------------------------------------ */

static int slice_get_g(struct fsc__gen *c, fsc_slice sl, fsc_value *out, size_t cap, size_t *n) {
  CHECK_C(c, false);
  if (!n)
    return fsc__err(FSC_EINVAL, "n is NULL");
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  for (;;) {
    /* One consistent snapshot: every slot read within one epoch. */
    uint64_t w = 0, lh = 0, h = 0, *arr, acap;
    int rc = fsc__ls_hview(c, &w, &lh, &h, &arr, &acap);
    if (rc)
      return rc;
    struct range r;
    if ((rc = slice_adjust(sl, FSC__LW_LEN(w) - h, &r)) != 0)
      return rc;
    *n = (size_t)r.len;
    if (!out)
      return 0;
    if (cap < r.len)
      return fsc__err(FSC_EINVAL, "the slice has %llu elements, the output "
                      "array %zu", (unsigned long long)r.len, cap);
    bool retry = false;
    for (uint64_t k = 0; k < r.len && !retry; k++) {
      uint64_t at = range_at(&r, k);
      uint64_t s = ck_pr_load_64(&arr[h + at]);
      if (!FSC__SLOT_IS_VALUE(s) && !(at == 0 && FSC__SLOT_IS_TAKEN(s))) {
        retry = true;
        break;
      }
      out[k].type = FSC_TYPE_INT64; /* placeholder until decoded below */
      out[k].u.i64 = (int64_t)FSC__SLOT_OFF(s);
    }
    if (retry || fsc__ls_moved(ih, w, lh)) {
      /* (A pop freezes the word before it empties a slot: damage only if
       * the words are still exactly w and lh.) */
      if (!(w & FSC__LW_FROZEN) && retry &&
          ck_pr_load_64(&ih->lenword) == w && ck_pr_load_64(&ih->lhead) == lh)
        return fsc__err(FSC_ECORRUPT, "list slot holds no record");
      if ((w & FSC__LW_FROZEN) && (rc = fsc__ls_wait(c)) != 0)
        return rc;
      continue;
    }
    for (uint64_t k = 0; k < r.len; k++)
      if ((rc = fsc__rec_read(c, (uint64_t)out[k].u.i64, &out[k])) != 0)
        break;
    /* Swap and pop rewrites records of fixed-size lists: values read are
     * the slice's only if the epoch has not moved since. */
    if (fsc__ls_changed(ih, w))
      continue;
    return rc;
  }
}

int fsc_list_slice_get(fsc_list *l, fsc_slice sl, fsc_value *out, size_t cap, size_t *n) {
  FSC__GEN(l, slice_get_g(c, sl, out, cap, n));
}

static int slice_set_g(struct fsc__gen *c, fsc_slice sl, const fsc_value *vs, size_t nv) {
  CHECK_C(c, true);
  uint64_t *recs;
  int rc = write_records(c, vs, nv, &recs);
  if (rc)
    return rc;
  struct fsc__lsnap sn;
  if ((rc = fsc__ls_begin(c, &sn, true)) != 0) {
    retire_all(c, recs, nv);
    free(recs);
    return rc;
  }
  uint64_t n = sn.len;
  struct range r;
  uint64_t *arr = NULL, *dropped = NULL, newn = 0, ndropped = 0;
  if ((rc = slice_adjust(sl, n, &r)) != 0)
    goto abort;
  if (r.step == 1) {
    /* a[i:j] = seq: any length; j < i means an insertion at i. */
    uint64_t i = (uint64_t)r.start, j = i + r.len;
    newn = n - r.len + nv;
    arr = alloc_offs(newn);
    dropped = alloc_offs(r.len);
    if (!arr || !dropped)
      goto nomem;
    memcpy(arr, sn.old, (size_t)i * 8);
    memcpy(arr + i, recs, nv * 8);
    memcpy(arr + i + nv, sn.old + j, (size_t)(n - j) * 8);
    memcpy(dropped, sn.old + i, (size_t)r.len * 8);
    ndropped = r.len;
  } else {
    if (nv != r.len) {
      rc = fsc__err(FSC_EVALUE, "attempt to assign sequence of size %zu to "
                    "extended slice of size %llu", nv,
                    (unsigned long long)r.len);
      goto abort;
    }
    newn = n;
    arr = sn.old;
    sn.old = NULL;
    dropped = alloc_offs(r.len);
    if (!dropped)
      goto nomem;
    for (uint64_t k = 0; k < r.len; k++) {
      uint64_t at = range_at(&r, k);
      dropped[ndropped++] = arr[at];
      arr[at] = recs[k];
    }
  }
  rc = fsc__ls_commit(c, &sn, arr, newn, newn <= sn.cap ? 0 : newn * 2);
  if (rc == 0)
    retire_all(c, dropped, ndropped);
  else
    retire_all(c, recs, nv);
  free(arr);
  free(dropped);
  free(recs);
  return rc ? rc : fsc__gen_after_write(c);
nomem:
  rc = fsc__err(FSC_ENOMEM, "out of memory");
abort:
  if (!sn.old) { /* we took it over: give it back for the abort */
    sn.old = arr;
    arr = NULL;
  }
  fsc__ls_abort(c, &sn);
  retire_all(c, recs, nv);
  free(arr);
  free(dropped);
  free(recs);
  return rc;
}

int fsc_list_slice_set(fsc_list *l, fsc_slice sl, const fsc_value *vs, size_t nv) {
  FSC__GEN(l, slice_set_g(c, sl, vs, nv));
}

static int slice_del_g(struct fsc__gen *c, fsc_slice sl) {
  CHECK_C(c, true);
  struct fsc__lsnap sn;
  int rc = fsc__ls_begin(c, &sn, true);
  if (rc)
    return rc;
  uint64_t n = sn.len;
  struct range r;
  if ((rc = slice_adjust(sl, n, &r)) != 0) {
    fsc__ls_abort(c, &sn);
    return rc;
  }
  uint64_t *dropped = alloc_offs(r.len);
  if (!dropped) {
    fsc__ls_abort(c, &sn);
    return fsc__err(FSC_ENOMEM, "out of memory");
  }
  /* Mark the deleted slots (bit 1 is never set in an offset), compact. */
  for (uint64_t k = 0; k < r.len; k++) {
    uint64_t at = range_at(&r, k);
    dropped[k] = sn.old[at];
    sn.old[at] |= 2u;
  }
  uint64_t m = 0;
  for (uint64_t i = 0; i < n; i++)
    if (!(sn.old[i] & 2u))
      sn.old[m++] = sn.old[i];
  rc = fsc__ls_commit(c, &sn, sn.old, m, 0);
  if (rc == 0)
    retire_all(c, dropped, r.len);
  free(dropped);
  return rc ? rc : fsc__gen_after_write(c);
}

int fsc_list_slice_del(fsc_list *l, fsc_slice sl) {
  FSC__GEN(l, slice_del_g(c, sl));
}
