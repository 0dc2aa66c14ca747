/*
 * dict.c - owns the dict's public API: keys (UTF-8 or binary), values,
 * and Python's dict operations built on the shared index of hash.c.
 * Nothing here touches a slot directly: every change is one hash.c call.
 * Counters in place and compare-and-swap live in dict_counter.c.
 */
#include "struct/hash.h"
#include "struct/hash_slot.h"
#include "coll/cache.h"
#include "coll/dict.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Handle life                                                         */
/* ------------------------------------------------------------------ */

int fsc_dict_key_type(const fsc_dict *d) {
  CHECK(d, false);
  return (int)fsc__cur(FSC__H(d))->key_type;
}

/* ------------------------------------------------------------------ */
/* Keys and values                                                     */
/* ------------------------------------------------------------------ */

FSC__OPEN_PATH
int fsc__dict_key_make(struct fsc__gen *c, const void *key, size_t klen,
                        struct fsc__kkey *k) {
  if (!key && klen)
    return fsc__err(FSC_EINVAL, "key is NULL with length %zu", klen);
  if (klen > FSC_KEY_MAX)
    return fsc__err(FSC_EINVAL, "a key of %zu bytes is longer than "
                    "FSC_KEY_MAX", klen);
  if (c->key_type == FSC_TYPE_STRING) {
    fsc_value kv = fsc_strn(key, klen);
    if (fsc__value_check(FSC_TYPE_STRING, &kv) != 0)
      return fsc__err(FSC_ETYPE, "Expected string for key, got bytes that "
                      "are not valid UTF-8");
  }
  fsc__kkey_make(k, 0, key ? key : "", klen);
  return 0;
}

/* FSC_EKEY, "KeyError: '<key>'" (at most 64 bytes of it). */
static int key_missing(const struct fsc__kkey *k) {
  return fsc__err_keyerror(k->p, k->n);
}


/* The key and value of the record at off, as views. */
static int item_read(struct fsc__gen *c, uint64_t off, fsc_value *key,
                     fsc_value *val) {
  struct fsc__krec r;
  int rc = fsc__krec_read(c, off, &r);
  return rc ? rc : fsc__dict_item_view(c, off, &r, key, val);
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

FSC__OPEN_PATH
int fsc_dict_get(fsc_dict *d, const void *key, size_t klen, fsc_value *out) {
  return fsc_dict_get_default(d, key, klen, NULL, out);
}

FSC__OPEN_PATH
static int get_default_g(struct fsc__gen *c, const void *key, size_t klen, const fsc_value *dflt, fsc_value *out) {
  CHECK_C(c, false);
  if (!out)
    return fsc__err(FSC_EINVAL, "out is NULL");
  struct fsc__kkey k;
  struct fsc__krec r;
  uint64_t off;
  int rc = fsc__dict_key_make(c, key, klen, &k);
  if (rc)
    return rc;
  bool cache = fsc__cache_on(c);
  if (__builtin_expect(cache, 0))
    fsc__cache_prefetch(c, k.h);
  if ((rc = fsc__hash_find_rec(c, &k, &off, &r)) < 0)
    return rc;
  if (rc == 1 && fsc__krec_expired(&r)) { /* absent to every reader */
    fsc__ttl_reclaim(c, &k, off);
    rc = 0;
  }
  if (__builtin_expect(cache, 0)) {
    if (rc)
      fsc__cache_hit(c, k.h);
    else
      fsc__cache_miss(c);
  }
  if (rc == 0) {
    if (!dflt)
      return key_missing(&k);
    *out = *dflt;
    return 0;
  }
  return fsc__dict_item_view(c, off, &r, NULL, out);
}

FSC__OPEN_PATH
int fsc_dict_get_default(fsc_dict *d, const void *key, size_t klen, const fsc_value *dflt, fsc_value *out) {
  FSC__GEN(d, get_default_g(c, key, klen, dflt, out));
}

static int contains_g(struct fsc__gen *c, const void *key, size_t klen) {
  CHECK_C(c, false);
  struct fsc__kkey k;
  struct fsc__krec r;
  uint64_t off;
  int rc = fsc__dict_key_make(c, key, klen, &k);
  if (rc || (rc = fsc__hash_find_rec(c, &k, &off, &r)) != 1)
    return rc;
  if (fsc__krec_expired(&r)) {
    fsc__ttl_reclaim(c, &k, off);
    return 0;
  }
  return 1;
}

int fsc_dict_contains(fsc_dict *d, const void *key, size_t klen) {
  FSC__GEN(d, contains_g(c, key, klen));
}

/* ------------------------------------------------------------------ */
/* Lock-free writes                                                    */
/* ------------------------------------------------------------------ */

/* Write the record for (k, v) (expiring at `deadline`, 0: never) and
 * publish it with `mode`. */
static int put_ttl(struct fsc__gen *c, const struct fsc__kkey *k,
                   const fsc_value *v, enum fsc__put_mode mode,
                   uint64_t expect, uint64_t deadline, uint64_t *roff,
                   uint64_t *prev) {
  if (__builtin_expect(fsc__cache_on(c), 0)) {
    fsc__ttl_sweep(c, 4);
    return fsc__cache_put(c, k, v, mode, expect, deadline, roff, prev);
  }
  int rc = fsc__krec_write_ttl(c, k, v, deadline, roff);
  if (rc)
    return rc;
  rc = fsc__hash_put(c, k, *roff, mode, expect, prev);
  if (rc < 0 || (rc == 0 && mode == FSC__PUT_ABSENT && *prev))
    fsc__rec_retire(c, *roff);
  return rc;
}

static int put(struct fsc__gen *c, const struct fsc__kkey *k,
               const fsc_value *v, enum fsc__put_mode mode, uint64_t expect,
               uint64_t *roff, uint64_t *prev) {
  return put_ttl(c, k, v, mode, expect, 0, roff, prev);
}

static int set_g(struct fsc__gen *c, const void *key, size_t klen, const fsc_value *v) {
  CHECK_C(c, true);
  struct fsc__kkey k;
  uint64_t roff, prev;
  int rc = fsc__dict_key_make(c, key, klen, &k);
  if (rc || (rc = fsc__value_check(c->type, v)) != 0)
    return rc;
  if ((rc = put(c, &k, v, FSC__PUT_ANY, 0, &roff, &prev)) < 0)
    return rc;
  return fsc__gen_after_write(c);
}

int fsc_dict_set(fsc_dict *d, const void *key, size_t klen, const fsc_value *v) {
  FSC__GEN(d, set_g(c, key, klen, v));
}

static int set_ttl_g(struct fsc__gen *c, const void *key, size_t klen,
                     const fsc_value *v, int64_t ttl_ms) {
  CHECK_C(c, true);
  struct fsc__kkey k;
  uint64_t roff, prev;
  if (ttl_ms <= 0)
    return fsc__err(FSC_EINVAL, "ttl_ms is %lld: a TTL is a positive number "
                    "of milliseconds", (long long)ttl_ms);
  int rc = fsc__dict_key_make(c, key, klen, &k);
  if (rc || (rc = fsc__value_check(c->type, v)) != 0)
    return rc;
  struct fsc__cache_hdr *ch = fsc__chdr(c);
  if (!ck_pr_load_64(&ch->has_ttl))
    ck_pr_store_64(&ch->has_ttl, 1);
  fsc__ttl_sweep(c, 8);
  if ((rc = put_ttl(c, &k, v, FSC__PUT_ANY, 0,
                    fsc__ttl_now() + (uint64_t)ttl_ms, &roff, &prev)) < 0)
    return rc;
  return fsc__gen_after_write(c);
}

int fsc_dict_set_ttl(fsc_dict *d, const void *key, size_t klen,
                     const fsc_value *v, int64_t ttl_ms) {
  FSC__GEN(d, set_ttl_g(c, key, klen, v, ttl_ms));
}

static int expire_g(struct fsc__gen *c, const void *key, size_t klen,
                    int64_t ttl_ms) {
  CHECK_C(c, true);
  struct fsc__kkey k;
  if (ttl_ms <= 0)
    return fsc__err(FSC_EINVAL, "ttl_ms is %lld: a TTL is a positive number "
                    "of milliseconds", (long long)ttl_ms);
  int rc = fsc__dict_key_make(c, key, klen, &k);
  if (rc)
    return rc;
  struct fsc__cache_hdr *ch = fsc__chdr(c);
  if (!ck_pr_load_64(&ch->has_ttl))
    ck_pr_store_64(&ch->has_ttl, 1);
  for (;;) {
    struct fsc__krec r;
    uint64_t off, roff, prev;
    fsc_value v;
    if ((rc = fsc__hash_find_rec(c, &k, &off, &r)) < 0)
      return rc;
    if (rc == 0 || fsc__krec_expired(&r))
      return key_missing(&k);
    if ((rc = fsc__dict_item_view(c, off, &r, NULL, &v)) != 0)
      return rc;
    /* The same value again, with the deadline, if the key still holds
     * that record. */
    rc = put_ttl(c, &k, &v, FSC__PUT_EXPECT, off,
                 fsc__ttl_now() + (uint64_t)ttl_ms, &roff, &prev);
    if (rc == FSC_EAGAIN)
      continue;
    if (rc < 0)
      return rc;
    return fsc__gen_after_write(c);
  }
}

int fsc_dict_expire(fsc_dict *d, const void *key, size_t klen,
                    int64_t ttl_ms) {
  FSC__GEN(d, expire_g(c, key, klen, ttl_ms));
}

int fsc_dict_del(fsc_dict *d, const void *key, size_t klen) {
  return fsc_dict_pop(d, key, klen, NULL, NULL);
}

static int pop_g(struct fsc__gen *c, const void *key, size_t klen, const fsc_value *dflt, fsc_value *out) {
  CHECK_C(c, true);
  struct fsc__kkey k;
  uint64_t old;
  int rc = fsc__dict_key_make(c, key, klen, &k);
  if (rc)
    return rc;
  if ((rc = fsc__hash_del(c, &k, 0, &old)) < 0)
    return rc;
  if (rc == 0) {
    if (!dflt)
      return key_missing(&k);
    if (out)
      *out = *dflt;
    return 0;
  }
  if (__builtin_expect(fsc__cache_on(c), 0))
    fsc__cache_forget(c, old);
  /* The removed record is immutable (a counter once closed: record.c)
   * and stays mapped: a valid view. */
  if (out)
    fsc__ctr_close(c, old);
  if (out && (rc = item_read(c, old, NULL, out)) != 0)
    return rc;
  return fsc__gen_after_write(c);
}

int fsc_dict_pop(fsc_dict *d, const void *key, size_t klen, const fsc_value *dflt, fsc_value *out) {
  FSC__GEN(d, pop_g(c, key, klen, dflt, out));
}

static int popitem_g(struct fsc__gen *c, fsc_value *key, fsc_value *val) {
  CHECK_C(c, true);
  for (;;) {
    uint64_t off, old;
    int rc = fsc__hash_newest(c, &off);
    if (rc < 0)
      return rc;
    if (rc == 0)
      return fsc__err(FSC_EKEY, "popitem(): dictionary is empty");
    struct fsc__krec r;
    if ((rc = fsc__hash_del_rec(c, off, &r, &old)) < 0)
      return rc;
    if (rc == 1) { /* else another writer changed it first: again */
      if (__builtin_expect(fsc__cache_on(c), 0))
        fsc__cache_forget(c, old);
      fsc__ctr_close(c, off);
      if ((rc = item_read(c, off, key, val)) != 0)
        return rc;
      return fsc__gen_after_write(c);
    }
  }
}

/* Compute once: look; on a miss take the key's claim (coll/cache.c),
 * look again, compute and store, drop the claim; or wait for the claimer
 * and look again. */
static int goc_g(struct fsc__gen *c, const void *key, size_t klen,
                 fsc_compute_fn fn, void *ctx, fsc_value *out) {
  CHECK_C(c, true);
  if (!fn || !out)
    return fsc__err(FSC_EINVAL, "compute or out is NULL");
  struct fsc__kkey k;
  struct fsc__krec r;
  struct fsc__claim cl;
  uint64_t off;
  int rc = fsc__dict_key_make(c, key, klen, &k);
  if (rc)
    return rc;
  bool cache = fsc__cache_on(c), first = true;
  fsc__claim_init(c, k.h, &cl);
  for (;;) {
    if ((rc = fsc__hash_find_rec(c, &k, &off, &r)) < 0)
      return rc;
    if (rc == 1 && fsc__krec_expired(&r))
      rc = 0; /* (the store replaces it) */
    if (cache && first) {
      if (rc)
        fsc__cache_hit(c, k.h);
      else
        fsc__cache_miss(c);
    }
    first = false;
    if (rc == 1)
      return fsc__dict_item_view(c, off, &r, NULL, out);
    if ((rc = fsc__claim_take(&cl)) <= 0) {
      if (rc < 0)
        return rc;
      continue; /* waited for another claimer: look again */
    }
    /* Ours: stored by the previous claimer just before? */
    if ((rc = fsc__hash_find_rec(c, &k, &off, &r)) == 1 &&
        fsc__krec_expired(&r))
      rc = 0;
    if (rc == 0) {
      fsc_value v;
      uint64_t roff, prev;
      if ((rc = fn(key, klen, ctx, &v)) == 0 &&
          (rc = fsc__value_check(c->type, &v)) == 0 &&
          (rc = put(c, &k, &v, FSC__PUT_ANY, 0, &roff, &prev)) ==
              FSC__PUT_REFUSED) {
        /* Not admitted (a cache dict's filter): the value computed, from
         * its retired record (a view as long-lived as a stored one's). */
        fsc__claim_drop(&cl);
        if ((rc = fsc__krec_read(c, roff, &r)) != 0)
          return rc;
        return fsc__dict_item_view(c, roff, &r, NULL, out);
      }
      if (rc > 0)
        rc = 0;
    } else if (rc == 1) {
      rc = 0;
    }
    fsc__claim_drop(&cl);
    if (rc)
      return rc; /* ours, or the compute function's own code */
    if ((rc = fsc__gen_after_write(c)) != 0)
      return rc;
  }
}

int fsc_dict_get_or_compute(fsc_dict *d, const void *key, size_t klen,
                            fsc_compute_fn compute, void *ctx,
                            fsc_value *out) {
  FSC__GEN(d, goc_g(c, key, klen, compute, ctx, out));
}

int fsc_dict_popitem(fsc_dict *d, fsc_value *key, fsc_value *val) {
  FSC__GEN(d, popitem_g(c, key, val));
}

static int setdefault_g(struct fsc__gen *c, const void *key, size_t klen, const fsc_value *dflt, fsc_value *out) {
  CHECK_C(c, true);
  struct fsc__kkey k;
  uint64_t off, roff;
  int rc = fsc__dict_key_make(c, key, klen, &k);
  if (rc)
    return rc;
  if (!dflt)
    return fsc__err(FSC_EINVAL, "default is NULL");
  if ((rc = fsc__hash_find(c, &k, &off)) < 0)
    return rc;
  if (rc == 0) { /* absent when we looked: insert unless someone did */
    if ((rc = fsc__value_check(c->type, dflt)) != 0)
      return rc;
    if ((rc = put(c, &k, dflt, FSC__PUT_ABSENT, 0, &roff, &off)) < 0)
      return rc;
    if (rc == 1) {
      off = roff;
      if ((rc = fsc__gen_after_write(c)) != 0)
        return rc;
    }
  }
  return out ? item_read(c, off, NULL, out) : 0;
}

int fsc_dict_setdefault(fsc_dict *d, const void *key, size_t klen, const fsc_value *dflt, fsc_value *out) {
  FSC__GEN(d, setdefault_g(c, key, klen, dflt, out));
}

/* Put pairs[*done..n) into generation c, counting in *done: a retry
 * after a compaction goes on from there. */
static int update_pairs_g(struct fsc__gen *c, const fsc_dict_pair *pairs,
                          size_t n, size_t *done) {
  CHECK_C(c, true);
  if (n && !pairs)
    return fsc__err(FSC_EINVAL, "pairs is NULL");
  struct fsc__kkey k;
  int rc = 0;
  for (size_t i = *done; i < n; i++)
    if ((rc = fsc__dict_key_make(c, pairs[i].key, pairs[i].klen, &k)) != 0 ||
        (rc = fsc__value_check(c->type, &pairs[i].value)) != 0)
      return rc;
  for (; *done < n && rc == 0;) {
    uint64_t roff, prev;
    fsc__dict_key_make(c, pairs[*done].key, pairs[*done].klen, &k);
    rc = put(c, &k, &pairs[*done].value, FSC__PUT_ANY, 0, &roff, &prev);
    if (rc > 0)
      rc = 0;
    if (rc == 0)
      (*done)++;
  }
  return rc ? rc : fsc__gen_after_write(c);
}

int fsc_dict_update_pairs(fsc_dict *d, const fsc_dict_pair *pairs,
                          size_t n) {
  size_t done = 0;
  FSC__GEN(d, update_pairs_g(c, pairs, n, &done));
}

int fsc_dict_update(fsc_dict *d, fsc_dict *src) {
  CHECK(d, true);
  CHECK(src, false);
  struct fsc__gen *c = fsc__cur(FSC__H(d)); /* types: the same in every
                                            generation */
  fsc_dict_iter it;
  fsc_value k, v;
  int rc;
  /* Check everything first: if one item cannot go in, nothing does. */
  fsc_dict_iter_init(src, &it);
  while ((rc = fsc_dict_iter_next(&it, &k, &v)) == 1) {
    struct fsc__kkey kk;
    if ((rc = fsc__dict_key_make(c, k.u.buf.ptr, k.u.buf.len, &kk)) != 0 ||
        (rc = fsc__value_check(c->type, &v)) != 0)
      return rc;
  }
  if (rc < 0)
    return rc;
  fsc_dict_iter_init(src, &it);
  while ((rc = fsc_dict_iter_next(&it, &k, &v)) == 1) {
    fsc_dict_pair p = {k.u.buf.ptr, k.u.buf.len, v};
    if ((rc = fsc_dict_update_pairs(d, &p, 1)) != 0)
      return rc;
  }
  return rc;
}

static int clear_g(struct fsc__gen *c) {
  CHECK_C(c, true);
  int rc = fsc__hash_clear(c);
  if (rc == 0 && fsc__cache_on(c))
    fsc__cache_cleared(c);
  return rc ? rc : fsc__gen_after_write(c);
}

int fsc_dict_clear(fsc_dict *d) {
  FSC__GEN(d, clear_g(c));
}

static uint64_t dlen(fsc_dict *d) {
  /* (the count of the generation in use: a hint for sizes and early
   * answers; the callers re-check what they read) */
  return fsc__hash_len(fsc__cur(FSC__H(d)));
}

int fsc_dict_equal(fsc_dict *a, fsc_dict *b) {
  CHECK(a, false);
  CHECK(b, false);
  if (dlen(a) != dlen(b))
    return 0;
  fsc_dict_iter it;
  fsc_value k, v, w;
  int rc;
  fsc_dict_iter_init(a, &it);
  while ((rc = fsc_dict_iter_next(&it, &k, &v)) == 1) {
    rc = fsc_dict_get(b, k.u.buf.ptr, k.u.buf.len, &w);
    if (rc == FSC_EKEY || rc == FSC_ETYPE) {
      fsc__err_clear();
      return 0;
    }
    if (rc)
      return rc;
    if (!fsc_value_equal(&v, &w))
      return 0;
  }
  if (rc < 0)
    return rc;
  return dlen(a) == dlen(b) ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Iteration                                                           */
/* ------------------------------------------------------------------ */

static int iter_init_g(struct fsc__gen *c, fsc_dict *d, fsc_dict_iter *it) {
  CHECK_C(c, false);
  if (!it)
    return fsc__err(FSC_EINVAL, "NULL iterator");
  fsc_dict_iter fresh = {.dict = d};
  int rc = fsc__hash_iter_begin(c, &fresh.pos, fresh.reserved);
  if (rc == 0)
    *it = fresh;
  return rc;
}

int fsc_dict_iter_init(fsc_dict *d, fsc_dict_iter *it) {
  FSC__GEN(d, iter_init_g(c, d, it));
}

/* Positions are offsets in one generation's data file: an iteration
 * cannot go on in the files a compaction made. */
static int iter_next_g(struct fsc__gen *c, fsc_dict_iter *it,
                       fsc_value *key, fsc_value *val) {
  CHECK_C(c, false);
  for (;;) {
    uint64_t off;
    struct fsc__krec r;
    int rc = fsc__hash_iter_next(c, &it->pos, it->reserved, "dict", &off);
    if (rc <= 0)
      return rc;
    if ((rc = fsc__krec_read(c, off, &r)) != 0)
      return rc;
    if (fsc__krec_expired(&r))
      continue; /* absent to every reader */
    rc = fsc__dict_item_view(c, off, &r, key, val);
    return rc ? rc : 1;
  }
}

int fsc_dict_iter_next(fsc_dict_iter *it, fsc_value *key, fsc_value *val) {
  if (!it) {
    fsc__err_clear();
    return fsc__err(FSC_EINVAL, "NULL iterator");
  }
  fsc_dict *d = it->dict;
  FSC__GEN(d, iter_next_g(c, it, key, val));
}

static int scan_walk(fsc_dict *d, fsc_dict_pred pred, fsc_dict_emit emit,
                     void *ctx) {
  CHECK(d, false);
  fsc_dict_iter it;
  fsc_value k, v;
  int rc;
  fsc_dict_iter_init(d, &it);
  while ((rc = fsc_dict_iter_next(&it, &k, &v)) == 1) {
    int p = pred ? pred(&k, &v, ctx) : 1;
    if (p < 0)
      return p;
    if (p > 0 && emit && (p = emit(&k, &v, ctx)) < 0)
      return p;
  }
  return rc;
}

/* A scan walks the whole collection in file order: the range is marked
 * sequential for it (map.c) and gets the handle's hint back after. */
int fsc_dict_scan(fsc_dict *d, fsc_dict_pred pred, fsc_dict_emit emit,
                  void *ctx) {
  CHECK(d, false);
  struct fsc__gen *g = fsc__cur(FSC__H(d));
  fsc__advise_walk(g, true);
  int rc = scan_walk(d, pred, emit, ctx);
  fsc__advise_walk(g, false);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Compaction                                                          */
/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* Typed shorthands                                                    */
/* ------------------------------------------------------------------ */

static int null_key(void) {
  fsc__err_clear();
  return fsc__err(FSC_EINVAL, "NULL key");
}

int fsc_dict_set_str(fsc_dict *d, const char *key, const char *val) {
  if (!key)
    return null_key();
  if (!val) {
    fsc__err_clear();
    return fsc__err(FSC_EINVAL, "NULL value");
  }
  fsc_value v = fsc_str(val);
  return fsc_dict_set(d, key, strlen(key), &v);
}

int fsc_dict_set_i64(fsc_dict *d, const char *key, int64_t val) {
  if (!key)
    return null_key();
  fsc_value v = fsc_i64(val);
  return fsc_dict_set(d, key, strlen(key), &v);
}

int fsc_dict_set_f64(fsc_dict *d, const char *key, double val) {
  if (!key)
    return null_key();
  fsc_value v = fsc_f64(val);
  return fsc_dict_set(d, key, strlen(key), &v);
}

/* `have_out`: the caller's output pointers are non-NULL (as for
 * fsc_list_get_i64 and fsc_dict_get, a NULL output is FSC_EINVAL). */
static int get_typed(fsc_dict *d, const char *key, fsc_type t,
                     fsc_value *v, bool have_out) {
  if (!key)
    return null_key();
  if (!have_out) {
    fsc__err_clear();
    return fsc__err(FSC_EINVAL, "out is NULL");
  }
  int rc = fsc_dict_get(d, key, strlen(key), v);
  if (rc)
    return rc;
  if (v->type != t)
    return fsc__err(FSC_ETYPE, "Expected %s, got %s", fsc_type_name(t),
                    fsc_type_name(v->type));
  return 0;
}

int fsc_dict_get_str(fsc_dict *d, const char *key, const char **ptr,
                     size_t *len) {
  fsc_value v;
  int rc = get_typed(d, key, FSC_TYPE_STRING, &v, ptr && len);
  if (rc == 0) {
    *ptr = v.u.buf.ptr;
    *len = v.u.buf.len;
  }
  return rc;
}

int fsc_dict_get_i64(fsc_dict *d, const char *key, int64_t *out) {
  fsc_value v;
  int rc = get_typed(d, key, FSC_TYPE_INT64, &v, out != NULL);
  if (rc == 0)
    *out = v.u.i64;
  return rc;
}

int fsc_dict_get_f64(fsc_dict *d, const char *key, double *out) {
  fsc_value v;
  int rc = get_typed(d, key, FSC_TYPE_FLOAT, &v, out != NULL);
  if (rc == 0)
    *out = v.u.f;
  return rc;
}

int fsc_dict_del_str(fsc_dict *d, const char *key) {
  if (!key)
    return null_key();
  return fsc_dict_del(d, key, strlen(key));
}
