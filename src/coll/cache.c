/*
 * cache.c - owns the shared cache's public half: the bound of a cache dict
 * (items and bytes reserved before an insert publishes, eviction through
 * the ordinary lock-free delete), TTL's reclaim (lazy and swept),
 * compute-once's claims (dict.c's fsc_dict_get_or_compute takes them) and
 * the cache metrics.  The policy state it chooses victims with is
 * struct/hash_evict.c's; doc/CACHE.md tells the design.
 *
 * Invariants kept here:
 *  - An insert into a cache dict holds a reservation of one item and its
 *    record's bytes in the cache block (items, bytes) from before its slot
 *    CAS until its key leaves; a replace gives back the replaced record's.
 *    So COUNT <= items <= max_items and the live bytes of the dict's
 *    records <= bytes <= max_bytes at every instant, for every reader.
 *  - A reservation is taken only below the bound: a writer that finds the
 *    bound reached evicts one key (a delete expecting the victim's record)
 *    and tries again; it never holds a reservation while it evicts.
 *  - Admission (a dict with the sketch, struct/hash_sketch.c): every
 *    insert counts in the sketch once; a set's insert that must evict is
 *    judged once, against the first live victim, before anything is
 *    deleted: refused, it reserves nothing and publishes nothing (its
 *    record is written and retired, for get_or_compute's view).
 *  - A process killed between its reservation and its publication leaks
 *    its reservation (the bound is then tighter by it) until the next
 *    recovery or last close recounts (struct/hash_ops.c).
 *  - Compute-once: a claim is a pair of u32 words in the index header
 *    (FSC__CLAIM_OFF): the sequence, bumped and futex-woken at every
 *    release, and the claimer's pid, taken by CAS from 0.  Waiters sleep
 *    on the sequence (futex without FUTEX_PRIVATE_FLAG: the page is
 *    shared), 50 ms at a time, and take a claim whose pid is gone.
 */
#include "coll/cache.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void release(struct fsc__cache_hdr *ch, uint64_t items,
                    uint64_t bytes) {
  /* (never below zero: a recount may have dropped a dead reservation) */
  uint64_t v = ck_pr_load_64(&ch->items);
  while (!ck_pr_cas_64_value(&ch->items, v, v > items ? v - items : 0, &v))
    ;
  v = ck_pr_load_64(&ch->bytes);
  while (!ck_pr_cas_64_value(&ch->bytes, v, v > bytes ? v - bytes : 0, &v))
    ;
}

/* Evict one key: 1 if a key was evicted, 3 if the one chosen was already
 * gone (evicted, replaced or deleted by a racer), 0 if
 * the dict has none, or an error.  With a candidate (an insert of key
 * *cand that admission may refuse), a live victim is first weighed
 * against it: 2 when the candidate loses (nothing evicted); *cand is then
 * set to NULL either way (one judgement per insert). */
static int evict_one(struct fsc__gen *c, struct fsc__cache_hdr *ch,
                     const struct fsc__kkey **cand) {
  uint64_t off, old;
  int rc = fsc__cache_victim(c, &off);
  if (rc <= 0)
    return rc;
  bool expired = rc == 2;
  struct fsc__krec r;
  if (*cand && !expired) {
    /* TinyLFU: the new key must have been asked for more often than the
     * key it would push out (ties keep the victim: a one-off key never
     * displaces another). */
    struct fsc__kkey vk;
    uint64_t h = (*cand)->h;
    *cand = NULL;
    if ((rc = fsc__krec_read(c, off, &r)) != 0)
      return rc;
    fsc__kkey_make(&vk, 0, r.key, r.klen);
    if (fsc__sketch_estimate(c, h) <= fsc__sketch_estimate(c, vk.h))
      return 2;
  }
  if ((rc = fsc__hash_del_rec(c, off, &r, &old)) < 0)
    return rc;
  if (rc == 1) {
    release(ch, 1, r.total);
    ck_pr_inc_64(expired ? &ch->expirations : &ch->evictions);
    return 1;
  }
  fsc__cache_gone(c, off);
  return 3;
}

/* Victims in a row that admit may find already gone (another writer
 * evicted, replaced or deleted them first) before it calls the index
 * damaged: racing writers free room as they take victims, so a run this
 * long with no room appearing means the same victim keeps being chosen
 * and cannot be deleted (its slot does not lie where its key's hash
 * leads, say), and admit would spin for ever. */
#define GONE_MAX 4096

/* Reserve `item` (0 or 1) items and `need` bytes under the bound,
 * evicting first: 0, or 1 when admission refused the insert of key cand
 * (nothing reserved; cand NULL: no admission), or an error. */
static int admit(struct fsc__gen *c, struct fsc__cache_hdr *ch,
                 uint64_t item, uint64_t need, const struct fsc__kkey *cand) {
  uint64_t mi = ch->max_items, mb = ch->max_bytes;
  if (mb && need > mb)
    return fsc__err(FSC_EVALUE, "a record of %llu bytes is larger than "
                    "the dict's cache_max_bytes (%llu)",
                    (unsigned long long)need, (unsigned long long)mb);
  int64_t deadline = -1;
  unsigned gone = 0;
  for (;;) {
    uint64_t it = ck_pr_load_64(&ch->items);
    bool room = !mi || it + item <= mi;
    if (room && (!item || ck_pr_cas_64(&ch->items, it, it + item))) {
      if (!mb) {
        ck_pr_add_64(&ch->bytes, need);
        return 0;
      }
      uint64_t b = ck_pr_load_64(&ch->bytes);
      while (b + need <= mb)
        if (ck_pr_cas_64_value(&ch->bytes, b, b + need, &b))
          return 0;
      release(ch, item, 0);
    } else if (room) {
      continue; /* lost the CAS to another writer: again */
    }
    int rc = evict_one(c, ch, &cand);
    if (rc < 0)
      return rc;
    if (rc == 2)
      return 1;
    if (rc == 3 && ++gone >= GONE_MAX)
      return fsc__err(FSC_ECORRUPT, "the cache's bound is reached and the "
                      "keys eviction chooses cannot be deleted (%u tries): "
                      "the index is damaged (fsc_dict_verify repairs it)",
                      gone);
    if (rc == 1)
      gone = 0;
    if (rc == 0) {
      /* Nothing to evict: the room is held by writes in flight. */
      int64_t t = now_ms();
      if (deadline < 0)
        deadline = t + (c->opts.lock_timeout_ms < 0
                            ? INT64_MAX / 2
                            : c->opts.lock_timeout_ms);
      if (t > deadline)
        return fsc__err(FSC_ETIMEDOUT, "the cache bound stayed full of "
                        "writes in flight for %lld ms",
                        (long long)c->opts.lock_timeout_ms);
      sched_yield();
    }
  }
}

/* A replace of `prev` by roff (published): give back prev's bytes. */
static void replaced(struct fsc__gen *c, struct fsc__cache_hdr *ch,
                     uint64_t prev) {
  struct fsc__krec pr;
  if (prev && fsc__krec_read(c, prev, &pr) == 0)
    release(ch, 0, pr.total);
}

int fsc__cache_put(struct fsc__gen *c, const struct fsc__kkey *k,
                   const fsc_value *v, enum fsc__put_mode mode,
                   uint64_t expect, uint64_t deadline, uint64_t *roff,
                   uint64_t *prev) {
  struct fsc__cache_hdr *ch = fsc__chdr(c);
  uint64_t need = FSC__REC_TOTAL(4 + (uint64_t)k->n + fsc__value_size(v) + 8 +
                                 (deadline ? 8 : 0));
  bool sketch = fsc__sketch_on(c), counted = false;
  for (;;) {
    /* A replace needs no item: only an insert takes one.  An insert or
     * replace (ANY) of a present key is made a replace of the record
     * found (EXPECT), so that it cannot turn into an insert that holds no
     * item if the key goes meanwhile: then it starts again. */
    enum fsc__put_mode m = mode;
    uint64_t ex = expect, found = 0;
    int rc;
    if (mode == FSC__PUT_ANY) {
      if ((rc = fsc__hash_find(c, k, &found)) < 0)
        return rc;
      if (rc == 1) {
        m = FSC__PUT_EXPECT;
        ex = found;
      }
    }
    uint64_t item = (m == FSC__PUT_EXPECT && ex) ? 0 : 1;
    /* Admission: an insert counts in the sketch (once), and a set's
     * (FSC__PUT_ANY) may be refused when it must evict. */
    const struct fsc__kkey *cand = NULL;
    if (sketch && item) {
      if (!counted)
        fsc__sketch_add(c, k->h);
      counted = true;
      cand = mode == FSC__PUT_ANY ? k : NULL;
    }
    if ((rc = admit(c, ch, item, need, cand)) < 0)
      return rc;
    if (rc == 1) {
      /* Refused: the value is written and retired at once (as if stored
       * and evicted at once), so that get_or_compute can give a view of
       * it that lives as long as the handle.  Nothing else changes. */
      fsc__sketch_reject(c);
      *prev = 0;
      if ((rc = fsc__krec_write_ttl(c, k, v, deadline, roff)) != 0)
        return rc;
      /* Never published: flagged void, or it would read as the key's
       * newest version to a rebuild from the data file and to the check
       * for stale slots (struct/hash_supersede.c). */
      fsc__rec_void(c, *roff);
      fsc__rec_retire(c, *roff);
      /* A growth migrating moves on here too: a cache at its bound whose
       * new keys are refused would otherwise never end it. */
      fsc__hash_migrate_nudge(c);
      return FSC__PUT_REFUSED;
    }
    if ((rc = fsc__krec_write_ttl(c, k, v, deadline, roff)) != 0) {
      release(ch, item, need);
      return rc;
    }
    *prev = 0;
    rc = fsc__hash_put(c, k, *roff, m, ex, prev);
    if (rc < 0 || (rc == 0 && m == FSC__PUT_ABSENT && *prev)) {
      fsc__rec_retire(c, *roff);
      release(ch, item, need);
      if (rc == FSC_EAGAIN && mode == FSC__PUT_ANY) {
        fsc__err_clear();
        continue; /* the key changed under us: again */
      }
      return rc;
    }
    if (rc == 1) {
      fsc__cache_stamp(c, k->h, *roff);
      return rc;
    }
    replaced(c, ch, *prev);
    fsc__cache_touch(c, k->h);
    return rc;
  }
}

void fsc__cache_forget(struct fsc__gen *c, uint64_t old) {
  struct fsc__krec r;
  if (fsc__krec_read(c, old, &r) == 0)
    release(fsc__chdr(c), 1, r.total);
}

void fsc__ttl_reclaim(struct fsc__gen *c, const struct fsc__kkey *k,
                      uint64_t off) {
  uint64_t old;
  if (c->rdonly)
    return;
  int code = fsc__err_code; /* a reader's own result stays what it was */
  if (fsc__hash_del(c, k, off, &old) == 1) {
    if (fsc__cache_on(c))
      fsc__cache_forget(c, old);
    ck_pr_inc_64(&fsc__chdr(c)->expirations);
  }
  if (!code)
    fsc__err_clear();
}

void fsc__ttl_sweep(struct fsc__gen *c, unsigned n) {
  uint64_t offs[16];
  if (!ck_pr_load_64(&fsc__chdr(c)->has_ttl) || c->rdonly)
    return;
  int got = fsc__hash_sample(c, offs, n < 16 ? n : 16);
  for (int i = 0; i < got; i++) {
    struct fsc__krec r;
    struct fsc__kkey k;
    if (fsc__krec_read(c, offs[i], &r) != 0 || !fsc__krec_expired(&r))
      continue;
    fsc__kkey_make(&k, 0, r.key, r.klen);
    fsc__ttl_reclaim(c, &k, offs[i]);
  }
  fsc__err_clear();
}

void fsc__cache_cleared(struct fsc__gen *c) {
  /* Approximate when inserts race the clear: what they reserved before
   * it is forgotten (doc/CACHE.md). */
  struct fsc__cache_hdr *ch = fsc__chdr(c);
  uint64_t n = fsc__hash_len(c);
  ck_pr_store_64(&ch->items, n);
  if (n == 0)
    ck_pr_store_64(&ch->bytes, 0);
}

/* ------------------------------------------------------------------ */
/* Compute once                                                        */
/* ------------------------------------------------------------------ */

static void claim_release(uint32_t *cl) {
  ck_pr_store_32(&cl[1], 0);
  ck_pr_fence_store();
  ck_pr_inc_32(&cl[0]);
  syscall(SYS_futex, &cl[0], FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static bool pid_gone(uint32_t pid) {
  return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

void fsc__claim_init(struct fsc__gen *c, uint64_t h, struct fsc__claim *cl) {
  cl->w = fsc__cache_claim(c, h);
  cl->me = 0; /* (getpid at the first take: a hit makes no system call) */
  cl->deadline = -1;
  cl->timeout_ms = c->opts.lock_timeout_ms;
}

int fsc__claim_take(struct fsc__claim *cl) {
  uint32_t *w = cl->w;
  if (!cl->me)
    cl->me = (uint32_t)getpid();
  uint32_t seq = ck_pr_load_32(&w[0]);
  ck_pr_fence_load();
  uint32_t owner = ck_pr_load_32(&w[1]);
  if (owner == 0)
    return ck_pr_cas_32(&w[1], 0, cl->me) ? 1 : 0;
  if (pid_gone(owner)) {
    /* The claimer died: take its claim back for everyone. */
    if (ck_pr_cas_32(&w[1], owner, 0)) {
      ck_pr_inc_32(&w[0]);
      syscall(SYS_futex, &w[0], FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
    }
    return 0;
  }
  int64_t t = now_ms();
  if (cl->deadline < 0)
    cl->deadline = t + (cl->timeout_ms < 0 ? INT64_MAX / 2 : cl->timeout_ms);
  if (t >= cl->deadline)
    return fsc__err(FSC_ETIMEDOUT, "process %u has been computing a key "
                    "of this bucket for more than %lld ms", (unsigned)owner,
                    (long long)cl->timeout_ms);
  int64_t wait = cl->deadline - t < 50 ? cl->deadline - t : 50;
  struct timespec ts = {0, (long)wait * 1000000L};
  /* (no FUTEX_PRIVATE_FLAG: the word is in a MAP_SHARED page) */
  syscall(SYS_futex, &w[0], FUTEX_WAIT, seq, &ts, NULL, 0);
  return 0;
}

void fsc__claim_drop(struct fsc__claim *cl) {
  claim_release(cl->w);
}

/* ------------------------------------------------------------------ */
/* Metrics                                                             */
/* ------------------------------------------------------------------ */

static int metrics_g(struct fsc__gen *c, fsc_cache_metrics *out) {
  CHECK_C(c, false);
  if (!out || out->size < offsetof(fsc_cache_metrics, misses) +
                              sizeof out->misses)
    return fsc__err(FSC_EINVAL, "out is NULL or out->size is too small: "
                    "set it to sizeof(fsc_cache_metrics)");
  const struct fsc__cache_hdr *ch = fsc__chdr(c);
  size_t size = out->size;
  memset(out, 0, sizeof *out);
  out->size = size < sizeof *out ? size : sizeof *out;
  out->cache_type = (int)ck_pr_load_64(&ch->policy);
  out->max_items = ck_pr_load_64(&ch->max_items);
  out->max_bytes = ck_pr_load_64(&ch->max_bytes);
  out->items = ck_pr_load_64(&ch->items);
  out->bytes = ck_pr_load_64(&ch->bytes);
  out->evictions = ck_pr_load_64(&ch->evictions);
  out->expirations = ck_pr_load_64(&ch->expirations);
  out->hits = ck_pr_load_64(&c->chits);
  out->misses = ck_pr_load_64(&c->cmisses);
  if (out->size >= offsetof(fsc_cache_metrics, admission_rejects) +
                      sizeof out->admission_rejects) {
    out->admission = fsc__sketch_on(c);
    out->admission_rejects = fsc__sketch_rejects(c);
  }
  return 0;
}

int fsc_dict_cache_metrics(fsc_dict *d, fsc_cache_metrics *out) {
  FSC__GEN(d, metrics_g(c, out));
}
