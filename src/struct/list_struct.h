/*
 * list_struct.h - shared by the list's source files (not installed): the
 * handle, and the structural-change protocol of list_struct.c.
 */
#ifndef FSC_LIST_STRUCT_H
#define FSC_LIST_STRUCT_H

#include "internal.h"

/* A structural change in progress: the structure lock is held and the
 * length word is frozen.  src, cap and len count from HEAD: src[0] is
 * element 0 (its slot frozen, so no pop at the head claims it). */
struct fsc__lsnap {
  unsigned buf;       /* active array */
  uint64_t epoch;     /* epoch being closed */
  uint64_t head;      /* HEAD: the slot of element 0 in the active array */
  uint64_t len;       /* elements, adopted pending append included */
  uint64_t *src;      /* the active array from HEAD (slots) */
  uint64_t cap;       /* its capacity from HEAD */
  uint64_t acap;      /* the active array's whole capacity */
  uint64_t *old;      /* heap copy of the record offsets [0, len), or NULL
                         for a light snapshot */
  uint64_t nfrozen;   /* slots of src frozen by this change */
};

/* Load the length word with acquire semantics. */
static inline uint64_t fsc__lw_load(struct fsc__index_hdr *ih) {
  uint64_t w = ck_pr_load_64(&ih->lenword);
  ck_pr_fence_load(); /* what we read through w comes after it */
  return w;
}

/* Has the structure (epoch or buffer) changed since w? (acquire) */
static inline bool fsc__ls_changed(struct fsc__index_hdr *ih, uint64_t w) {
  ck_pr_fence_load(); /* the slot read comes before this re-check */
  uint64_t w2 = ck_pr_load_64(&ih->lenword);
  return ((w2 ^ w) & ~(FSC__LW_FROZEN | FSC__LW_LEN_MASK)) != 0;
}

/* desc[b] failed validation: record FSC_ECORRUPT. */
int fsc__ls_bad_desc(unsigned b, uint64_t off, uint64_t n)
    __attribute__((cold));
/* LEN exceeds the array's capacity: record FSC_ECORRUPT. */
int fsc__ls_bad_len(uint64_t len, uint64_t cap) __attribute__((cold));

/* The length word w and the HEAD it goes with (list_pop.c), consistent:
 * the head word is loaded first (a change stores it before the word).
 * *lh gets the head word, for fsc__ls_moved.  FSC_ECORRUPT for a head
 * word that stays inconsistent with an unchanging length word. */
int fsc__ls_bad_head(uint64_t lh, uint64_t w) __attribute__((cold));
int fsc__ls_wait(struct fsc__gen *c);
static inline int fsc__ls_load(struct fsc__gen *c, uint64_t *w,
                               uint64_t *lh, uint64_t *head) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  for (unsigned spins = 0;; spins++) {
    uint64_t h0 = ck_pr_load_64(&ih->lhead);
    ck_pr_fence_load(); /* the head word before the length word */
    uint64_t w0 = fsc__lw_load(ih);
    bool ok;
    uint64_t h = fsc__lh_resolve(h0, w0, &ok);
    if (__builtin_expect(ok, 1)) {
      *w = w0;
      *lh = h0;
      *head = h;
      return 0;
    }
    if (ck_pr_load_64(&ih->lhead) != h0 || ck_pr_load_64(&ih->lenword) != w0)
      continue;
    /* Unchanged: damage, unless the word is frozen (a change between its
     * two stores, or dead there: the lock tells which). */
    if (!(w0 & FSC__LW_FROZEN))
      return fsc__ls_bad_head(h0, w0);
    if (spins < 256) {
      ck_pr_stall();
    } else {
      int rc = fsc__ls_wait(c);
      if (rc)
        return rc;
      spins = 0;
    }
  }
}

/* Has the structure or HEAD moved since (w, lh)?  (acquire) */
static inline bool fsc__ls_moved(struct fsc__index_hdr *ih, uint64_t w,
                                 uint64_t lh) {
  return fsc__ls_changed(ih, w) || ck_pr_load_64(&ih->lhead) != lh;
}

/* Read desc[b] of the index header ih and map its array.  (Inline: every
 * get, append and item assignment runs through it.) */
static inline int fsc__ls_desc_array_ih(struct fsc__gen *c,
                                        struct fsc__index_hdr *ih,
                                        unsigned b, uint64_t **arr,
                                        uint64_t *cap) {
  uint64_t off = ck_pr_load_64(&ih->desc[b].off);
  uint64_t n = ck_pr_load_64(&ih->desc[b].cap);
  *cap = n;
  if (__builtin_expect(off < FSC__HDR_SIZE || (off & 7u) || n == 0 ||
                           n > (UINT64_C(1) << 40), 0)) {
    *arr = NULL;
    return fsc__ls_bad_desc(b, off, n);
  }
  *arr = fsc__ptr(c, &c->index, off, n * 8);
  if (__builtin_expect(!*arr, 0))
    return fsc__err_last();
  return 0;
}

/* Read desc[b] and map its array. */
static inline int fsc__ls_desc_array(struct fsc__gen *c, unsigned b,
                                     uint64_t **arr, uint64_t *cap) {
  return fsc__ls_desc_array_ih(c, fsc__ihdr(c), b, arr, cap);
}

/* A consistent (length word, active array) pair for lock-free operations:
 * the array is the one the word's epoch published.  May return a frozen
 * word; the array stays readable while frozen. */
static inline int fsc__ls_view(struct fsc__gen *c, uint64_t *wout,
                               uint64_t **arr, uint64_t *cap) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  for (;;) {
    uint64_t w = fsc__lw_load(ih);
    /* A generation compacted away stays frozen: move to the new files. */
    if (__builtin_expect((w & FSC__LW_FROZEN) != 0, 0) && fsc__gen_moved(c))
      return FSC__EMOVED;
    *wout = w;
    int rc = fsc__ls_desc_array_ih(c, ih, FSC__LW_BUFIDX(w), arr, cap);
    if (fsc__ls_changed(ih, w))
      continue; /* a change published meanwhile: desc may be newer */
    if (__builtin_expect(rc != 0, 0))
      return rc;
    if (__builtin_expect(FSC__LW_LEN(w) > *cap, 0))
      return fsc__ls_bad_len(FSC__LW_LEN(w), *cap);
    return 0;
  }
}

/* fsc__ls_view with HEAD: also the head word (*lh) and HEAD (*head)
 * going with w, HEAD <= LEN(w) <= *cap. */
static inline int fsc__ls_hview(struct fsc__gen *c, uint64_t *wout,
                                uint64_t *lh, uint64_t *head, uint64_t **arr,
                                uint64_t *cap) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  for (;;) {
    uint64_t w = 0, h0 = 0, h = 0;
    int rc = fsc__ls_load(c, &w, &h0, &h);
    if (rc)
      return rc;
    if (__builtin_expect((w & FSC__LW_FROZEN) != 0, 0) && fsc__gen_moved(c))
      return FSC__EMOVED;
    rc = fsc__ls_desc_array_ih(c, ih, FSC__LW_BUFIDX(w), arr, cap);
    if (fsc__ls_changed(ih, w))
      continue;
    if (__builtin_expect(rc != 0, 0))
      return rc;
    if (__builtin_expect(FSC__LW_LEN(w) > *cap, 0))
      return fsc__ls_bad_len(FSC__LW_LEN(w), *cap);
    *wout = w;
    *lh = h0;
    *head = h;
    return 0;
  }
}

/* Pop element 0 without the lock (list_pop.c): claim slot HEAD, advance
 * HEAD.  Its record offset in *off; FSC_EINDEX if the list is empty. */
int fsc__ls_pop_first(struct fsc__gen *c, uint64_t *off);
/* Move HEAD past slot h of array buf, which a pop has claimed (TAKEN),
 * if no one has yet (list_pop.c). */
void fsc__ls_head_pass(struct fsc__index_hdr *ih, unsigned buf,
                       uint64_t h);
/* Store the head word and then the length word of a change publishing
 * (buf, epoch e, elements [head, head + n)), with the seal between
 * (lock held).  Release: everything the change wrote comes before. */
void fsc__ls_store_words(struct fsc__index_hdr *ih, unsigned buf,
                         uint64_t e, uint64_t head, uint64_t n);
/* The same change, published in the list's place with its HEAD reset: for
 * the last clean close (list_ops.c trim).  Lock held. */
int fsc__ls_rebase_locked(struct fsc__gen *c);

/* Writers that meet a frozen word wait here; after a while they take the
 * lock, which finishes a change whose process died. */
int fsc__ls_wait(struct fsc__gen *c);

/* Begin a change: lock, freeze, adopt a pending append, fence the slot
 * after the last element.  With `full`, also freeze every slot and copy
 * the offsets to sn->old (so lock-free item assignment cannot be lost). */
int fsc__ls_begin(struct fsc__gen *c, struct fsc__lsnap *sn, bool full);
/* fsc__ls_begin, then resolve `index` (negative: from the end) into *i:
 * an index out of the list's range aborts the change and is FSC_EINDEX
 * with empty_msg (an empty list) or range_msg. */
int fsc__ls_begin_at(struct fsc__gen *c, struct fsc__lsnap *sn, bool full,
                     int64_t index, const char *empty_msg,
                     const char *range_msg, uint64_t *i);
/* Publish arr[0..n) as the new list in the spare array (capacity at least
 * min_cap) with one store of the length word; unlock.  On failure
 * (FSC_ENOSPC growing the index file) the change is aborted. */
int fsc__ls_commit(struct fsc__gen *c, struct fsc__lsnap *sn,
                   const uint64_t *arr, uint64_t n, uint64_t min_cap);
/* Abandon a change: the list is as before (new epoch); unlock. */
void fsc__ls_abort(struct fsc__gen *c, struct fsc__lsnap *sn);
/* Pop the last element in place (O(1)); its record offset in *off. */
int fsc__ls_pop_last(struct fsc__gen *c, uint64_t *off);
/* Swap and pop for auto_compact lists of a fixed-size type: remove
 * element index (its value in *out if not NULL) in O(1), moving the last
 * element into its place, and give the record space back. */
int fsc__ls_swap_pop(struct fsc__gen *c, int64_t index, fsc_value *out,
                     const char *empty_msg, const char *range_msg);
/* Grow the active array (append found it full). */
int fsc__ls_grow(struct fsc__gen *c);

/* For compaction, with the lock held: freeze the word (finishing a dead
 * change first); freeze slot i and return its value; undo the freeze. */
int fsc__ls_begin_locked(struct fsc__gen *c, struct fsc__lsnap *sn);
uint64_t fsc__ls_freeze_slot(struct fsc__lsnap *sn, uint64_t i);
void fsc__ls_abort_locked(struct fsc__gen *c, struct fsc__lsnap *sn);

/* Recovery at open: the caller holds the structure flock (not the mutex).
 * Finishes a dead change, then keeps the elements whose record `keep`
 * accepts, republishing if any was dropped.  *dropped counts them;
 * *adopted counts the elements found filled at and above LEN and taken
 * into the list (a pending append, or elements a damaged LEN hid). */
int fsc__ls_recover_locked(struct fsc__gen *c,
                           bool (*keep)(struct fsc__gen *, uint64_t),
                           uint64_t *kept_bytes, uint64_t *dropped,
                           uint64_t *adopted);

/* The seal (internal.h, struct fsc__list_seal).  fsc__ls_seal writes it
 * for the word w about to be published (lock held, word frozen or the
 * list new): call it after the descriptors are final, before the store of
 * the word. */
void fsc__ls_seal(struct fsc__index_hdr *ih, uint64_t w);
enum fsc__seal_state {
  FSC__SEAL_OK,    /* the live words are the sealed ones */
  FSC__SEAL_NONE,  /* no seal (an older file) */
  FSC__SEAL_LIVE,  /* the seal holds; live words differ from it: damage */
  FSC__SEAL_BROKEN /* the seal's own sum fails: the seal is damaged */
};
/* Compare the live words with the seal (lock held, word not frozen).
 * *differ: how many live words differ from the seal. */
enum fsc__seal_state fsc__ls_seal_state(struct fsc__index_hdr *ih,
                                        uint64_t *differ);
/* Make the live words and the seal agree again (lock held, word not
 * frozen): restore the live words from a seal that holds, or write the
 * seal again from live words (no seal, or a broken one).  Returns how
 * many live words were restored. */
uint64_t fsc__ls_seal_fix(struct fsc__gen *c);

/* list_verify.c: verify's check and repair of the list (struct
 * fsc__kind_ops vscan and vrepair; file/verify.h). */
void fsc__list_vscan(struct fsc__vpass *p);
int fsc__list_vrepair(struct fsc__vpass *p, bool *changed,
                      struct fsc__vtally *t);

#endif
