/*
 * dict.c - owns the dict's public API: keys (UTF-8 or binary), values,
 * and Python's dict operations built on the shared index of hash.c.
 * Nothing here touches a slot directly: every change is one hash.c call.
 */
#include "hash.h"

#include <stdlib.h>
#include <string.h>

struct fsc_dict {
  struct fsc__coll c;
};

#define CHECK(d, write)                                                     \
  do {                                                                      \
    int check_rc_ = fsc__coll_check((d) ? &(d)->c : NULL, (write));         \
    if (check_rc_)                                                          \
      return check_rc_;                                                     \
  } while (0)

/* ------------------------------------------------------------------ */
/* Handle life                                                         */
/* ------------------------------------------------------------------ */

int fsc_dict_open(const char *base_path, const fsc_options *opts,
                  fsc_dict **out) {
  fsc__err_clear();
  if (!out)
    return fsc__err(FSC_EINVAL, "out is NULL");
  *out = NULL;
  fsc_dict *d = calloc(1, sizeof *d);
  if (!d)
    return fsc__err(FSC_ENOMEM, "out of memory");
  int rc = fsc__coll_open(&d->c, FSC__KIND_DICT, base_path, opts);
  if (rc) {
    free(d);
    return rc;
  }
  *out = d;
  return 0;
}

int fsc_dict_close(fsc_dict *d) {
  CHECK(d, false);
  return fsc__coll_close(&d->c, false);
}

int fsc_dict_destroy(fsc_dict *d) {
  CHECK(d, false);
  return fsc__coll_close(&d->c, !d->c.temp);
}

void fsc_dict_free(fsc_dict *d) {
  if (!d)
    return;
  if (!d->c.closed)
    fsc__coll_close(&d->c, false);
  free(d->c.path);
  free(d->c.data_path);
  free(d->c.index_path);
  free(d);
}

const char *fsc_dict_path(const fsc_dict *d) { return d ? d->c.path : NULL; }

int fsc_dict_type(const fsc_dict *d) {
  CHECK(d, false);
  return (int)d->c.type;
}

int fsc_dict_key_type(const fsc_dict *d) {
  CHECK(d, false);
  return (int)d->c.key_type;
}

int fsc_dict_len(fsc_dict *d, uint64_t *out) {
  CHECK(d, false);
  if (!out)
    return fsc__err(FSC_EINVAL, "out is NULL");
  *out = fsc__hash_len(&d->c);
  return 0;
}

int fsc_dict_metrics(fsc_dict *d, fsc_metrics *out) {
  CHECK(d, false);
  if (!out)
    return fsc__err(FSC_EINVAL, "out is NULL");
  return fsc__coll_metrics(&d->c, out);
}

int fsc_dict_sync(fsc_dict *d) {
  CHECK(d, false);
  return fsc__coll_sync(&d->c);
}

/* ------------------------------------------------------------------ */
/* Keys and values                                                     */
/* ------------------------------------------------------------------ */

static int key_make(fsc_dict *d, const void *key, size_t klen,
                    struct fsc__kkey *k) {
  if (!key && klen)
    return fsc__err(FSC_EINVAL, "key is NULL with length %zu", klen);
  if (klen > FSC_KEY_MAX)
    return fsc__err(FSC_EINVAL, "a key of %zu bytes is longer than "
                    "FSC_KEY_MAX", klen);
  if (d->c.key_type == FSC_TYPE_STRING) {
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

/* The key and value of the record at off, parsed in r, as views. */
static int item_view(fsc_dict *d, uint64_t off, const struct fsc__krec *r,
                     fsc_value *key, fsc_value *val) {
  if (key) {
    memset(key, 0, sizeof *key);
    key->type = d->c.key_type;
    key->u.buf.ptr = r->key;
    key->u.buf.len = r->klen;
  }
  if (val && fsc__value_decode((fsc_type)r->type, r->val, r->vlen, val) != 0)
    return fsc__err(FSC_ECORRUPT, "record at %llu does not decode",
                    (unsigned long long)off);
  return 0;
}

/* The key and value of the record at off, as views. */
static int item_read(fsc_dict *d, uint64_t off, fsc_value *key,
                     fsc_value *val) {
  struct fsc__krec r;
  int rc = fsc__krec_read(&d->c, off, &r);
  return rc ? rc : item_view(d, off, &r, key, val);
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

int fsc_dict_get(fsc_dict *d, const void *key, size_t klen, fsc_value *out) {
  return fsc_dict_get_default(d, key, klen, NULL, out);
}

int fsc_dict_get_default(fsc_dict *d, const void *key, size_t klen,
                         const fsc_value *dflt, fsc_value *out) {
  CHECK(d, false);
  if (!out)
    return fsc__err(FSC_EINVAL, "out is NULL");
  struct fsc__kkey k;
  struct fsc__krec r;
  uint64_t off;
  int rc = key_make(d, key, klen, &k);
  if (rc)
    return rc;
  if ((rc = fsc__hash_find_rec(&d->c, &k, &off, &r)) < 0)
    return rc;
  if (rc == 0) {
    if (!dflt)
      return key_missing(&k);
    *out = *dflt;
    return 0;
  }
  return item_view(d, off, &r, NULL, out);
}

int fsc_dict_contains(fsc_dict *d, const void *key, size_t klen) {
  CHECK(d, false);
  struct fsc__kkey k;
  uint64_t off;
  int rc = key_make(d, key, klen, &k);
  return rc ? rc : fsc__hash_find(&d->c, &k, &off);
}

/* ------------------------------------------------------------------ */
/* Lock-free writes                                                    */
/* ------------------------------------------------------------------ */

/* Write the record for (k, v) and publish it with `mode`. */
static int put(fsc_dict *d, const struct fsc__kkey *k, const fsc_value *v,
               enum fsc__put_mode mode, uint64_t expect, uint64_t *roff,
               uint64_t *prev) {
  int rc = fsc__krec_write(&d->c, k, v, roff);
  if (rc)
    return rc;
  rc = fsc__hash_put(&d->c, k, *roff, mode, expect, prev);
  if (rc < 0 || (rc == 0 && mode == FSC__PUT_ABSENT && *prev))
    fsc__rec_retire(&d->c, *roff);
  return rc;
}

int fsc_dict_set(fsc_dict *d, const void *key, size_t klen,
                 const fsc_value *v) {
  CHECK(d, true);
  struct fsc__kkey k;
  uint64_t roff, prev;
  int rc = key_make(d, key, klen, &k);
  if (rc || (rc = fsc__value_check(d->c.type, v)) != 0)
    return rc;
  if ((rc = put(d, &k, v, FSC__PUT_ANY, 0, &roff, &prev)) < 0)
    return rc;
  return fsc__coll_after_write(&d->c);
}

int fsc_dict_del(fsc_dict *d, const void *key, size_t klen) {
  return fsc_dict_pop(d, key, klen, NULL, NULL);
}

int fsc_dict_pop(fsc_dict *d, const void *key, size_t klen,
                 const fsc_value *dflt, fsc_value *out) {
  CHECK(d, true);
  struct fsc__kkey k;
  uint64_t old;
  int rc = key_make(d, key, klen, &k);
  if (rc)
    return rc;
  if ((rc = fsc__hash_del(&d->c, &k, 0, &old)) < 0)
    return rc;
  if (rc == 0) {
    if (!dflt)
      return key_missing(&k);
    if (out)
      *out = *dflt;
    return 0;
  }
  /* The removed record is immutable and stays mapped: a valid view. */
  if (out && (rc = item_read(d, old, NULL, out)) != 0)
    return rc;
  return fsc__coll_after_write(&d->c);
}

int fsc_dict_popitem(fsc_dict *d, fsc_value *key, fsc_value *val) {
  CHECK(d, true);
  for (;;) {
    uint64_t off, old;
    int rc = fsc__hash_newest(&d->c, &off);
    if (rc < 0)
      return rc;
    if (rc == 0)
      return fsc__err(FSC_EKEY, "popitem(): dictionary is empty");
    struct fsc__krec r;
    if ((rc = fsc__krec_read(&d->c, off, &r)) != 0)
      return rc;
    struct fsc__kkey k;
    fsc__kkey_make(&k, 0, r.key, r.klen);
    if ((rc = fsc__hash_del(&d->c, &k, off, &old)) < 0)
      return rc;
    if (rc == 1) { /* else another writer changed it first: again */
      if ((rc = item_read(d, off, key, val)) != 0)
        return rc;
      return fsc__coll_after_write(&d->c);
    }
  }
}

int fsc_dict_setdefault(fsc_dict *d, const void *key, size_t klen,
                        const fsc_value *dflt, fsc_value *out) {
  CHECK(d, true);
  struct fsc__kkey k;
  uint64_t off, roff;
  int rc = key_make(d, key, klen, &k);
  if (rc)
    return rc;
  if (!dflt)
    return fsc__err(FSC_EINVAL, "default is NULL");
  if ((rc = fsc__hash_find(&d->c, &k, &off)) < 0)
    return rc;
  if (rc == 0) { /* absent when we looked: insert unless someone did */
    if ((rc = fsc__value_check(d->c.type, dflt)) != 0)
      return rc;
    if ((rc = put(d, &k, dflt, FSC__PUT_ABSENT, 0, &roff, &off)) < 0)
      return rc;
    if (rc == 1) {
      off = roff;
      if ((rc = fsc__coll_after_write(&d->c)) != 0)
        return rc;
    }
  }
  return out ? item_read(d, off, NULL, out) : 0;
}

int fsc_dict_incr(fsc_dict *d, const void *key, size_t klen, int64_t delta,
                  int64_t *out) {
  CHECK(d, true);
  if (d->c.type != FSC_TYPE_INT64 && d->c.type != FSC_TYPE_ANY)
    return fsc__err(FSC_ETYPE, "Expected int64 for %s, got int64 "
                    "increment", fsc_type_name(d->c.type));
  struct fsc__kkey k;
  int rc = key_make(d, key, klen, &k);
  if (rc)
    return rc;
  for (;;) {
    uint64_t off = 0, roff, prev;
    int64_t cur = 0;
    if ((rc = fsc__hash_find(&d->c, &k, &off)) < 0)
      return rc;
    if (rc == 1) {
      fsc_value v;
      if ((rc = item_read(d, off, NULL, &v)) != 0)
        return rc;
      if (v.type != FSC_TYPE_INT64)
        return fsc__err(FSC_ETYPE, "Expected int64 for increment, got %s",
                        fsc_type_name(v.type));
      cur = v.u.i64;
    } else {
      off = 0;
    }
    int64_t nv;
    if (__builtin_add_overflow(cur, delta, &nv))
      return fsc__err(FSC_EVALUE, "int64 overflow: %lld + %lld",
                      (long long)cur, (long long)delta);
    fsc_value x = fsc_i64(nv);
    rc = put(d, &k, &x, FSC__PUT_EXPECT, off, &roff, &prev);
    if (rc == FSC_EAGAIN)
      continue; /* another writer got there first: read again */
    if (rc < 0)
      return rc;
    if (out)
      *out = nv;
    return fsc__coll_after_write(&d->c);
  }
}

/* ------------------------------------------------------------------ */
/* update / clear / equal                                              */
/* ------------------------------------------------------------------ */

int fsc_dict_update_pairs(fsc_dict *d, const fsc_dict_pair *pairs,
                          size_t n) {
  CHECK(d, true);
  if (n && !pairs)
    return fsc__err(FSC_EINVAL, "pairs is NULL");
  struct fsc__kkey k;
  int rc = 0;
  for (size_t i = 0; i < n; i++)
    if ((rc = key_make(d, pairs[i].key, pairs[i].klen, &k)) != 0 ||
        (rc = fsc__value_check(d->c.type, &pairs[i].value)) != 0)
      return rc;
  for (size_t i = 0; i < n && rc == 0; i++) {
    uint64_t roff, prev;
    key_make(d, pairs[i].key, pairs[i].klen, &k);
    rc = put(d, &k, &pairs[i].value, FSC__PUT_ANY, 0, &roff, &prev);
    if (rc > 0)
      rc = 0;
  }
  return rc ? rc : fsc__coll_after_write(&d->c);
}

int fsc_dict_update(fsc_dict *d, fsc_dict *src) {
  CHECK(d, true);
  CHECK(src, false);
  fsc_dict_iter it;
  fsc_value k, v;
  int rc;
  /* Check everything first: if one item cannot go in, nothing does. */
  fsc_dict_iter_init(src, &it);
  while ((rc = fsc_dict_iter_next(&it, &k, &v)) == 1) {
    struct fsc__kkey kk;
    if ((rc = key_make(d, k.u.buf.ptr, k.u.buf.len, &kk)) != 0 ||
        (rc = fsc__value_check(d->c.type, &v)) != 0)
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

int fsc_dict_clear(fsc_dict *d) {
  CHECK(d, true);
  int rc = fsc__hash_clear(&d->c);
  return rc ? rc : fsc__coll_after_write(&d->c);
}

int fsc_dict_equal(fsc_dict *a, fsc_dict *b) {
  CHECK(a, false);
  CHECK(b, false);
  if (fsc__hash_len(&a->c) != fsc__hash_len(&b->c))
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
  return fsc__hash_len(&a->c) == fsc__hash_len(&b->c) ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Iteration                                                           */
/* ------------------------------------------------------------------ */

int fsc_dict_iter_init(fsc_dict *d, fsc_dict_iter *it) {
  CHECK(d, false);
  if (!it)
    return fsc__err(FSC_EINVAL, "NULL iterator");
  memset(it, 0, sizeof *it);
  it->dict = d;
  it->reserved[0] = fsc__hash_tail(&d->c); /* keys begun later: unseen */
  return 0;
}

int fsc_dict_iter_next(fsc_dict_iter *it, fsc_value *key, fsc_value *val) {
  if (!it)
    return fsc__err(FSC_EINVAL, "NULL iterator");
  CHECK(it->dict, false);
  uint64_t off;
  int rc = fsc__hash_next(&it->dict->c, &it->pos, it->reserved[0], &off);
  if (rc <= 0)
    return rc;
  rc = item_read(it->dict, off, key, val);
  return rc ? rc : 1;
}

int fsc_dict_scan(fsc_dict *d, fsc_dict_pred pred, fsc_dict_emit emit,
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

/* ------------------------------------------------------------------ */
/* Typed shorthands                                                    */
/* ------------------------------------------------------------------ */

static int null_key(void) {
  fsc__err_clear();
  return fsc__err(FSC_EINVAL, "NULL key");
}

int fsc_dict_set_str(fsc_dict *d, const char *key, const char *val) {
  if (!key || !val)
    return null_key();
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

static int get_typed(fsc_dict *d, const char *key, fsc_type t,
                     fsc_value *v) {
  if (!key)
    return null_key();
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
  int rc = get_typed(d, key, FSC_TYPE_STRING, &v);
  if (rc == 0) {
    if (ptr)
      *ptr = v.u.buf.ptr;
    if (len)
      *len = v.u.buf.len;
  }
  return rc;
}

int fsc_dict_get_i64(fsc_dict *d, const char *key, int64_t *out) {
  fsc_value v;
  int rc = get_typed(d, key, FSC_TYPE_INT64, &v);
  if (rc == 0 && out)
    *out = v.u.i64;
  return rc;
}

int fsc_dict_get_f64(fsc_dict *d, const char *key, double *out) {
  fsc_value v;
  int rc = get_typed(d, key, FSC_TYPE_FLOAT, &v);
  if (rc == 0 && out)
    *out = v.u.f;
  return rc;
}

int fsc_dict_del_str(fsc_dict *d, const char *key) {
  if (!key)
    return null_key();
  return fsc_dict_del(d, key, strlen(key));
}
