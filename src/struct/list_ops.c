/*
 * list_ops.c - owns the list's row of the kind operations table
 * (struct fsc__kind_ops, internal.h): what the file layer calls to lay out,
 * recover, compact and verify a list, and the list's half of compaction:
 * freezing the pointer array and copying its live elements, in order, into
 * the next generation.
 */
#include "struct/list_struct.h"

#include <stdlib.h>

/* Compaction: freeze the length word and, as copy reads them, the slots
 * (list_struct.c), so no lock-free writer changes the list meanwhile. */
static int freeze(struct fsc__gen *c, void **state) {
  struct fsc__lsnap *sn = calloc(1, sizeof *sn);
  if (!sn)
    return fsc__err(FSC_ENOMEM, "out of memory");
  int rc = fsc__ls_begin_locked(c, sn);
  if (rc) {
    free(sn);
    return rc;
  }
  *state = sn;
  return 0;
}

static void thaw(struct fsc__gen *c, void *state) {
  fsc__ls_abort_locked(c, state);
  free(state);
}

static void done(void *state) { free(state); }

/* The new list's array, of room for n slots (nc is private to us). */
static int list_array(struct fsc__gen *nc, uint64_t n, uint64_t **arr) {
  struct fsc__index_hdr *ih = fsc__ihdr(nc);
  uint64_t cap = ih->desc[0].cap;
  if (n > cap) {
    cap = n + n / 4 + 64;
    uint64_t off = ih->itail, end = off + cap * 8 + FSC__TRAILER;
    end = (end + 4095) & ~UINT64_C(4095);
    int rc = fsc__file_grow(&nc->index, end, nc->index_path);
    if (rc)
      return rc;
    ck_pr_fence_store();
    ck_pr_store_64(&ih->icap, end);
    ih->itail = off + cap * 8;
    ih->desc[0].off = off;
    ih->desc[0].cap = cap;
    ih->desc[0].hw = 0;
  }
  *arr = fsc__ptr(nc, &nc->index, ih->desc[0].off, cap * 8);
  return *arr ? 0 : fsc__err_last();
}

/* Copy the frozen list of c into nc. */
static int copy(struct fsc__gen *c, void *state, struct fsc__gen *nc) {
  struct fsc__lsnap *sn = state;
  uint64_t *dst;
  int rc = list_array(nc, sn->len, &dst);
  if (rc)
    return rc;
  uint64_t k = 0;
  for (uint64_t i = 0; i < sn->len; i++) {
    uint64_t s = fsc__ls_freeze_slot(sn, i);
    if (!FSC__SLOT_IS_VALUE(s))
      continue; /* left by a dead change: not an element */
    uint64_t noff, size;
    uint8_t *pl, type;
    if ((rc = fsc__rec_copy(c, nc, FSC__SLOT_OFF(s), &noff, &pl, &type,
                       &size)) != 0)
      return rc;
    ck_pr_store_64(&dst[k++], noff);
  }
  struct fsc__index_hdr *ih = fsc__ihdr(nc);
  ih->desc[0].hw = k;
  ck_pr_fence_store();
  fsc__ls_seal(ih, FSC__LW_MAKE(0, 0, k));
  ck_pr_store_64(&ih->lenword, FSC__LW_MAKE(0, 0, k));
  return 0;
}

/* The last clean close (gen.c's trim_tails: structure lock held, no other
 * process has the list open or can open it before the unlock): move the
 * active array to the start of the index, with room for an eighth more,
 * forget the spare, and lower itail to the array's end, so that the index
 * file keeps 8 bytes and a little per element rather than the arrays
 * growth left behind.  Only when the new place does not overlap the
 * active array: the old copy stays intact until the word is published,
 * and the word is frozen meanwhile, so a crash anywhere leaves a dead
 * change that recovery republishes from whichever copy the descriptor
 * names (both hold the same slots).  0, or nothing done. */
/* The descriptors after a trim: the active array b (was *a) at noff with
 * ncap slots, the spare forgotten, and their seal with the word w. */
static void trim_descs(struct fsc__index_hdr *ih, unsigned b,
                       const struct fsc__list_desc *a, uint64_t noff,
                       uint64_t ncap, uint64_t w) {
  ck_pr_store_64(&ih->desc[b].off, noff);
  ck_pr_store_64(&ih->desc[b].cap, ncap);
  ck_pr_store_64(&ih->desc[b].hw, a->hw < ncap ? a->hw : ncap);
  ck_pr_store_64(&ih->desc[!b].off, 0);
  ck_pr_store_64(&ih->desc[!b].cap, 0);
  ck_pr_store_64(&ih->desc[!b].hw, 0);
  fsc__ls_seal(ih, w);
}

static int trim(struct fsc__gen *c) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t w = ck_pr_load_64(&ih->lenword);
  if (w & FSC__LW_FROZEN)
    return 0;
  bool ok;
  if (fsc__lh_resolve(ck_pr_load_64(&ih->lhead), w, &ok) != 0 && ok) {
    /* Pops at the head left HEAD above 0: republish from HEAD first (a
     * change like any other), so the file closes with HEAD 0 and popped
     * slots gone - what a library without heads reads right. */
    if (fsc__ls_rebase_locked(c) != 0) {
      fsc__err_clear();
      return 0;
    }
    w = ck_pr_load_64(&ih->lenword);
  }
  if (!ok)
    return 0;
  unsigned b = FSC__LW_BUFIDX(w);
  uint64_t len = FSC__LW_LEN(w), itail = ck_pr_load_64(&ih->itail);
  struct fsc__list_desc a = ih->desc[b];
  if (a.off < FSC__HDR_SIZE || (a.off & 7u) || a.cap < len ||
      a.cap > (UINT64_C(1) << 40) || a.off + a.cap * 8 > itail)
    return 0; /* not what a clean list looks like: leave it be */
  uint64_t ncap = len + len / 8 + 64;
  if (ncap > a.cap)
    ncap = a.cap;
  uint64_t noff = FSC__HDR_SIZE;
  if (a.off == noff) {
    /* Already there (a list that grew in place, list_struct.c): only
     * the capacity comes down, to slots past the end, which hold no
     * element; the spare is forgotten. */
    trim_descs(ih, b, &a, noff, ncap, w);
    ck_pr_store_64(&ih->itail, noff + ncap * 8);
    return 0;
  }
  if (noff + ncap * 8 > a.off)
    return 0; /* would overlap the only copy */
  uint64_t *src = fsc__ptr(c, &c->index, a.off, ncap * 8);
  uint64_t *dst = fsc__ptr(c, &c->index, noff, ncap * 8);
  if (!src || !dst) {
    fsc__err_clear();
    return 0;
  }
  ck_pr_store_64(&ih->lenword, w | FSC__LW_FROZEN);
  ck_pr_fence_store();
  for (uint64_t i = 0; i < ncap; i++)
    ck_pr_store_64(&dst[i], ck_pr_load_64(&src[i]));
  ck_pr_fence_store(); /* the copy before the descriptors naming it */
  trim_descs(ih, b, &a, noff, ncap, w);
  ck_pr_store_64(&ih->lenword, w);
  ck_pr_fence_store(); /* the word names the new array before itail drops */
  ck_pr_store_64(&ih->itail, noff + ncap * 8);
  return 0;
}

const struct fsc__kind_ops fsc__list_ops = {
    .kind = FSC__KIND_LIST,
    .init = fsc__list_init,
    .recover = fsc__list_recover,
    .recount = NULL, /* the length word is exact by construction */
    .freeze = freeze,
    .copy = copy,
    .thaw = thaw,
    .done = done,
    .vscan = fsc__list_vscan,
    .vrepair = fsc__list_vrepair,
    .trim = trim,
    .wait = fsc__ls_wait,
};
