/*
 * handle.c - owns the public handle's generations: which generation of
 * the collection's files a handle uses now, following a compaction to the
 * next one, and keeping the retired ones mapped until close.
 *
 * Invariant: a public call reads h->cur once (FSC__GEN) and works on that
 * generation only, so an offset it found in one generation's index is
 * never used in another generation's data file.  A generation compacted
 * away is frozen for good with cstate MOVED; a call that meets it returns
 * FSC__EMOVED having changed nothing, and FSC__GEN follows and retries.
 * Retired generations stay mapped (zero-copy views into them stay valid)
 * until the handle closes, or until fsc_*_reclaim() unmaps them; their
 * descriptors are closed as soon as no thread is inside their structure
 * lock (sweep_locked), so following compactions costs no descriptors.
 */
#include "internal.h"

#include <stdlib.h>
#include <unistd.h>

FSC__OPEN_PATH
int fsc__handle_open(struct fsc__handle *h,
                     const struct fsc__kind_ops *const *kinds,
                     enum fsc__kind kind,
                     const char *base_path, const fsc_options *opts) {
  struct fsc__gen *c = calloc(1, sizeof *c);
  if (!c)
    return fsc__err(FSC_ENOMEM, "out of memory");
  h->kinds = kinds;
  int rc = fsc__gen_open(c, h, kind, base_path, opts);
  if (rc) {
    free(c);
    return rc;
  }
  c->h = h;
  pthread_mutex_init(&h->mu, NULL);
  ck_pr_store_ptr(&h->cur, c);
  return 0;
}

/* Close the descriptors of the retired generations after `cur` (h->mu
 * held), keeping their mappings.  Each one's structure-lock mutex is only
 * tried: a thread inside fsc__lock on it (about to find it moved), or the
 * compactor that is retiring it right now, is never waited for; that
 * generation is swept at the next retirement or fsc__handle_sweep.  So a
 * handle that follows any number of compactions holds the descriptors of
 * at most one or two generations besides its current one. */
static void sweep_locked(struct fsc__gen *cur) {
  for (struct fsc__gen *o = cur->next; o; o = o->next) {
    if (pthread_mutex_trylock(&o->mu) != 0)
      continue;
    fsc__file_close_fd(&o->index);
    fsc__file_close_fd(&o->data);
    pthread_mutex_unlock(&o->mu);
  }
}

void fsc__handle_sweep(struct fsc__handle *h) {
  pthread_mutex_lock(&h->mu);
  struct fsc__gen *c = fsc__cur(h);
  if (c && !fsc__gen_closed(c))
    sweep_locked(c);
  pthread_mutex_unlock(&h->mu);
}

/* Retire `old` (h->mu held): it stays mapped; its presence lock goes, so
 * it no longer counts as an open handle of the (renamed) files; its
 * descriptors go when sweep_locked can take its mutex. */
static void retire(struct fsc__gen *old, struct fsc__gen *nc) {
  nc->next = old;
  if (old->pfd >= 0) {
    close(old->pfd);
    old->pfd = -1;
  }
  sweep_locked(nc);
}

void fsc__handle_install(struct fsc__handle *h, struct fsc__gen *old,
                         struct fsc__gen *nc) {
  pthread_mutex_lock(&h->mu);
  nc->h = h;
  /* nc is complete before other threads can load it. */
  ck_pr_fence_store();
  ck_pr_store_ptr(&h->cur, nc);
  retire(old, nc);
  pthread_mutex_unlock(&h->mu);
}

int fsc__handle_follow(struct fsc__handle *h, struct fsc__gen *old) {
  int rc = 0;
  pthread_mutex_lock(&h->mu);
  if (fsc__cur(h) != old)
    goto out; /* another thread followed first */
  if (fsc__gen_closed(old)) {
    rc = fsc__gen_check_fail(old, false);
    goto out;
  }
  if (old->temp) {
    /* Nothing names a temporary collection's new files: only the process
     * that compacted it can move, and it did.  (Compaction refuses while
     * another process shares it.) */
    rc = fsc__err(FSC_EAGAIN, "this temporary collection was compacted by "
                              "another process");
    goto out;
  }
  struct fsc__gen *nc = calloc(1, sizeof *nc);
  if (!nc) {
    rc = fsc__err(FSC_ENOMEM, "out of memory");
    goto out;
  }
  fsc_options o = old->opts;
  o.flags &= ~(unsigned)(FSC_CREATE | FSC_EXCL);
  o.type = old->type;
  if (old->kind == FSC__KIND_DICT)
    o.key_type = old->key_type;
  if ((rc = fsc__gen_open(nc, h, old->kind, old->path, &o)) != 0) {
    free(nc);
    goto out;
  }
  const struct fsc__fhdr *a = &fsc__dhdr(old)->h, *b = &fsc__dhdr(nc)->h;
  if (a->file_id != b->file_id || b->generation <= a->generation) {
    fsc__gen_close(nc, false);
    fsc__gen_release(nc);
    free(nc);
    rc = fsc__err(FSC_ECORRUPT, "%s now holds another collection than the "
                  "one this handle opened", old->path);
    goto out;
  }
  nc->h = h;
  ck_pr_fence_store();
  ck_pr_store_ptr(&h->cur, nc);
  retire(old, nc);
out:
  pthread_mutex_unlock(&h->mu);
  return rc;
}

/* Release what an upper layer hung off a handle (h->ext) or a
 * generation (c->hint), once. */
static void ext_destroy(struct fsc__handle_ext **slot) {
  struct fsc__handle_ext *x = ck_pr_fas_ptr(slot, NULL);
  if (x)
    x->destroy(x);
}

int fsc__handle_close(struct fsc__handle *h, bool destroy) {
  struct fsc__gen *c = fsc__cur(h);
  int rc = fsc__gen_check(c, false);
  if (rc)
    return rc;
  /* This handle's waiters leave (FSC_ECLOSED) before anything unmaps. */
  fsc__ec_close_handle(h);
  /* The children opened through this handle close with it, first. */
  ext_destroy(&h->ext);
  fsc__err_clear();
  if (destroy && fsc__gen_moved(c)) {
    /* Destroy the files at the path, not a generation already gone. */
    if (fsc__handle_follow(h, c) == 0)
      c = fsc__cur(h);
    fsc__err_clear();
  }
  rc = fsc__gen_close(c, destroy);
  /* The retired generations' mappings go now: views end at close. */
  pthread_mutex_lock(&h->mu);
  for (struct fsc__gen *o = c->next; o; o = o->next)
    fsc__gen_release(o);
  pthread_mutex_unlock(&h->mu);
  return rc;
}

void fsc__handle_free(struct fsc__handle *h) {
  struct fsc__gen *c = fsc__cur(h);
  if (!c)
    return;
  if (!fsc__gen_closed(c))
    fsc__handle_close(h, false);
  ext_destroy(&h->ext);
  while (c) {
    struct fsc__gen *next = c->next;
    fsc__gen_release(c); /* idempotent */
    ext_destroy(&c->hint);
    free(c);
    c = next;
  }
  h->cur = NULL;
  pthread_mutex_destroy(&h->mu);
}

int fsc__handle_reclaim(struct fsc__handle *h) {
  pthread_mutex_lock(&h->mu);
  struct fsc__gen *c = fsc__cur(h);
  struct fsc__gen *o = c->next;
  c->next = NULL;
  pthread_mutex_unlock(&h->mu);
  while (o) {
    struct fsc__gen *next = o->next;
    fsc__gen_release(o);
    ext_destroy(&o->hint);
    free(o);
    o = next;
  }
  return 0;
}

/* The length word is the list's LEN and the dict/set table's COUNT, in
 * the same place and layout (internal.h, FSC__LW_*). */
static int len_g(struct fsc__gen *c, uint64_t *out) {
  CHECK_C(c, false);
  if (!out)
    return fsc__err(FSC_EINVAL, "out is NULL");
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  for (unsigned spins = 0;; spins++) {
    uint64_t lh = ck_pr_load_64(&ih->lhead);
    ck_pr_fence_load(); /* as fsc__len (internal.h) */
    uint64_t w = ck_pr_load_64(&ih->lenword);
    if ((w & FSC__LW_FROZEN) && fsc__gen_moved(c))
      return FSC__EMOVED;
    bool ok;
    uint64_t hd = fsc__lh_resolve(lh, w, &ok);
    ck_pr_fence_load();
    if (ck_pr_load_64(&ih->lhead) != lh)
      continue;
    if (!ok) { /* a change between its two stores, or damage */
      if (c->ops->kind != FSC__KIND_LIST || /* (no head: never moves) */
          (!(w & FSC__LW_FROZEN) && ck_pr_load_64(&ih->lenword) == w))
        return fsc__err(FSC_ECORRUPT, "list head word %#llx does not go "
                        "with its length word %#llx",
                        (unsigned long long)lh, (unsigned long long)w);
      /* Frozen between a change's two stores: brief.  Frozen for long:
       * its holder is slow or dead; the kind's wait tells which, and
       * finishes a dead one's change (never spin for ever). */
      if (spins < 256 || !c->ops->wait) {
        ck_pr_stall();
        continue;
      }
      int rc = c->ops->wait(c);
      if (rc)
        return rc;
      spins = 0;
      continue;
    }
    *out = FSC__LW_LEN(w) - hd;
    return 0;
  }
}

int fsc__handle_len(struct fsc__handle *hp, uint64_t *out) {
  FSC__GEN(hp, len_g(c, out));
}
