/*
 * set.c - owns the set's public API: elements as keys of the shared index
 * of hash.c (identity = type + encoded bytes), Python's set operations and
 * the set algebra built on them.
 */
#include "struct/hash.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Handle life                                                         */
/* ------------------------------------------------------------------ */

/* ------------------------------------------------------------------ */
/* Elements                                                            */
/* ------------------------------------------------------------------ */

/* The key of element v: its encoded payload (in buf for fixed sizes). */
static int elem_key(struct fsc__gen *c, const fsc_value *v, uint8_t buf[16],
                    struct fsc__kkey *k) {
  int rc = fsc__value_check(c->type, v);
  if (rc)
    return rc;
  size_t n = fsc__value_size(v);
  if (n > FSC_KEY_MAX)
    return fsc__err(FSC_EINVAL, "a set element of %zu bytes is larger "
                    "than FSC_KEY_MAX", n);
  const void *p;
  if (fsc__type_fixed_size(v->type)) {
    fsc__value_encode(v, buf);
    p = buf;
  } else {
    p = v->u.buf.ptr ? v->u.buf.ptr : "";
  }
  fsc__kkey_make(k, (uint8_t)v->type, p, n);
  return 0;
}

static int elem_read(struct fsc__gen *c, uint64_t off, fsc_value *out) {
  struct fsc__krec r;
  int rc = fsc__krec_read(c, off, &r);
  if (rc)
    return rc;
  if (fsc__value_decode((fsc_type)r.type, r.key, r.klen, out) != 0)
    return fsc__err(FSC_ECORRUPT, "record at %llu does not decode",
                    (unsigned long long)off);
  return 0;
}

static int contains_g(struct fsc__gen *c, const fsc_value *v) {
  CHECK_C(c, false);
  uint8_t buf[16];
  struct fsc__kkey k;
  uint64_t off;
  int rc = elem_key(c, v, buf, &k);
  if (rc == FSC_ETYPE && v && fsc__type_valid(v->type)) {
    fsc__err_clear(); /* another type cannot be in a typed set */
    return 0;
  }
  return rc ? rc : fsc__hash_find(c, &k, &off);
}

int fsc_set_contains(fsc_set *s, const fsc_value *v) {
  FSC__GEN(s, contains_g(c, v));
}

static int add_g(struct fsc__gen *c, const fsc_value *v) {
  CHECK_C(c, true);
  uint8_t buf[16];
  struct fsc__kkey k;
  uint64_t off, roff, prev;
  int rc = elem_key(c, v, buf, &k);
  if (rc)
    return rc;
  /* Present already: nothing to write (the common case of a hot set). */
  if ((rc = fsc__hash_find(c, &k, &off)) != 0)
    return rc < 0 ? rc : 0;
  if ((rc = fsc__krec_write(c, &k, v, &roff)) != 0)
    return rc;
  rc = fsc__hash_put(c, &k, roff, FSC__PUT_ABSENT, 0, &prev);
  if (rc <= 0) {
    fsc__rec_retire(c, roff);
    return rc;
  }
  rc = fsc__gen_after_write(c);
  return rc ? rc : 1;
}

int fsc_set_add(fsc_set *s, const fsc_value *v) {
  FSC__GEN(s, add_g(c, v));
}

static int discard_g(struct fsc__gen *c, const fsc_value *v) {
  CHECK_C(c, true);
  uint8_t buf[16];
  struct fsc__kkey k;
  uint64_t old;
  int rc = elem_key(c, v, buf, &k);
  if (rc == FSC_ETYPE && v && fsc__type_valid(v->type)) {
    fsc__err_clear();
    return 0;
  }
  if (rc || (rc = fsc__hash_del(c, &k, 0, &old)) <= 0)
    return rc;
  rc = fsc__gen_after_write(c);
  return rc ? rc : 1;
}

int fsc_set_discard(fsc_set *s, const fsc_value *v) {
  FSC__GEN(s, discard_g(c, v));
}

int fsc_set_remove(fsc_set *s, const fsc_value *v) {
  int rc = fsc_set_discard(s, v);
  if (rc == 0)
    return fsc__err(FSC_EKEY, "KeyError: element not in set");
  return rc < 0 ? rc : 0;
}

static int pop_g(struct fsc__gen *c, fsc_value *out) {
  CHECK_C(c, true);
  for (;;) {
    uint64_t off, old;
    int rc = fsc__hash_newest(c, &off);
    if (rc < 0)
      return rc;
    if (rc == 0)
      return fsc__err(FSC_EKEY, "pop from an empty set");
    struct fsc__krec r;
    if ((rc = fsc__krec_read(c, off, &r)) != 0)
      return rc;
    struct fsc__kkey k;
    fsc__kkey_make(&k, r.type, r.key, r.klen);
    if ((rc = fsc__hash_del(c, &k, off, &old)) < 0)
      return rc;
    if (rc == 1) {
      if (out && (rc = elem_read(c, off, out)) != 0)
        return rc;
      return fsc__gen_after_write(c);
    }
  }
}

int fsc_set_pop(fsc_set *s, fsc_value *out) {
  FSC__GEN(s, pop_g(c, out));
}

static int clear_g(struct fsc__gen *c) {
  CHECK_C(c, true);
  int rc = fsc__hash_clear(c);
  return rc ? rc : fsc__gen_after_write(c);
}

int fsc_set_clear(fsc_set *s) {
  FSC__GEN(s, clear_g(c));
}

/* ------------------------------------------------------------------ */
/* Iteration and scan                                                  */
/* ------------------------------------------------------------------ */

static int iter_init_g(struct fsc__gen *c, fsc_set *s, fsc_set_iter *it) {
  CHECK_C(c, false);
  if (!it)
    return fsc__err(FSC_EINVAL, "NULL iterator");
  fsc_set_iter fresh = {.set = s};
  int rc = fsc__hash_iter_begin(c, &fresh.pos, fresh.reserved);
  if (rc == 0)
    *it = fresh;
  return rc;
}

int fsc_set_iter_init(fsc_set *s, fsc_set_iter *it) {
  FSC__GEN(s, iter_init_g(c, s, it));
}

/* Positions are offsets in one generation's data file: an iteration
 * cannot go on in the files a compaction made. */
static int iter_next_g(struct fsc__gen *c, fsc_set_iter *it,
                       fsc_value *out) {
  CHECK_C(c, false);
  uint64_t off;
  int rc = fsc__hash_iter_next(c, &it->pos, it->reserved, "set", &off);
  if (rc <= 0)
    return rc;
  if (out && (rc = elem_read(c, off, out)) != 0)
    return rc;
  return 1;
}

int fsc_set_iter_next(fsc_set_iter *it, fsc_value *out) {
  if (!it) {
    fsc__err_clear();
    return fsc__err(FSC_EINVAL, "NULL iterator");
  }
  fsc_set *s = it->set;
  FSC__GEN(s, iter_next_g(c, it, out));
}

static int scan_walk(fsc_set *s, fsc_list_pred pred, fsc_list_emit emit,
                     void *ctx) {
  CHECK(s, false);
  fsc_set_iter it;
  fsc_value v;
  int rc;
  uint64_t i = 0;
  fsc_set_iter_init(s, &it);
  while ((rc = fsc_set_iter_next(&it, &v)) == 1) {
    int p = pred ? pred(&v, ctx) : 1;
    if (p < 0)
      return p;
    if (p > 0 && emit && (p = emit(i, &v, ctx)) < 0)
      return p;
    i++;
  }
  return rc;
}

/* A scan walks the whole collection in file order: the range is marked
 * sequential for it (map.c) and gets the handle's hint back after. */
int fsc_set_scan(fsc_set *s, fsc_list_pred pred, fsc_list_emit emit,
                 void *ctx) {
  CHECK(s, false);
  struct fsc__gen *g = fsc__cur(FSC__H(s));
  fsc__advise_walk(g, true);
  int rc = scan_walk(s, pred, emit, ctx);
  fsc__advise_walk(g, false);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Algebra                                                             */
/* ------------------------------------------------------------------ */

enum op { ADD, DISCARD, TOGGLE };

/* For each element x of src with (b contains x) == want (any, if b is
 * NULL): apply op to dst. */
static int each(fsc_set *src, fsc_set *b, int want, fsc_set *dst,
                enum op op) {
  fsc_set_iter it;
  fsc_value v;
  int rc;
  fsc_set_iter_init(src, &it);
  while ((rc = fsc_set_iter_next(&it, &v)) == 1) {
    if (b) {
      int in = fsc_set_contains(b, &v);
      if (in < 0)
        return in;
      if (in != want)
        continue;
    }
    if (op == TOGGLE) {
      int in = fsc_set_contains(dst, &v);
      if (in < 0)
        return in;
      op = in ? DISCARD : ADD;
      rc = op == ADD ? fsc_set_add(dst, &v) : fsc_set_discard(dst, &v);
      op = TOGGLE;
    } else {
      rc = op == ADD ? fsc_set_add(dst, &v) : fsc_set_discard(dst, &v);
    }
    if (rc < 0)
      return rc;
  }
  return rc;
}

static int algebra_args(fsc_set *out, fsc_set *a, fsc_set *b) {
  CHECK(out, true);
  CHECK(a, false);
  CHECK(b, false);
  if (out == b && out != a)
    return fsc__err(FSC_EINVAL, "the output set may be the first operand, "
                                "not only the second");
  return 0;
}

int fsc_set_union(fsc_set *out, fsc_set *a, fsc_set *b) {
  int rc = algebra_args(out, a, b);
  if (rc)
    return rc;
  if (out != a && ((rc = fsc_set_clear(out)) != 0 ||
                   (rc = each(a, NULL, 0, out, ADD)) < 0))
    return rc;
  rc = each(b, NULL, 0, out, ADD);
  return rc < 0 ? rc : 0;
}

int fsc_set_intersection(fsc_set *out, fsc_set *a, fsc_set *b) {
  int rc = algebra_args(out, a, b);
  if (rc)
    return rc;
  if (out == a)
    rc = each(a, b, 0, a, DISCARD);
  else if ((rc = fsc_set_clear(out)) == 0)
    rc = each(a, b, 1, out, ADD);
  return rc < 0 ? rc : 0;
}

int fsc_set_difference(fsc_set *out, fsc_set *a, fsc_set *b) {
  int rc = algebra_args(out, a, b);
  if (rc)
    return rc;
  if (out == a)
    rc = each(b, NULL, 0, a, DISCARD);
  else if ((rc = fsc_set_clear(out)) == 0)
    rc = each(a, b, 0, out, ADD);
  return rc < 0 ? rc : 0;
}

int fsc_set_symmetric_difference(fsc_set *out, fsc_set *a, fsc_set *b) {
  int rc = algebra_args(out, a, b);
  if (rc)
    return rc;
  if (out == a)
    rc = a == b ? fsc_set_clear(a) : each(b, NULL, 0, a, TOGGLE);
  else if ((rc = fsc_set_clear(out)) == 0 &&
           (rc = each(a, b, 0, out, ADD)) >= 0)
    rc = each(b, a, 0, out, ADD);
  return rc < 0 ? rc : 0;
}

/* 1 if every element of a is in b (want 1) or none is (want 0). */
static uint64_t slen(fsc_set *s) {
  /* (the count of the generation in use: a hint for sizes and early
   * answers; the callers re-check what they read) */
  return fsc__hash_len(fsc__cur(FSC__H(s)));
}

static int all_in(fsc_set *a, fsc_set *b, int want) {
  fsc_set_iter it;
  fsc_value v;
  int rc;
  fsc_set_iter_init(a, &it);
  while ((rc = fsc_set_iter_next(&it, &v)) == 1) {
    int in = fsc_set_contains(b, &v);
    if (in < 0)
      return in;
    if (in != want)
      return 0;
  }
  return rc < 0 ? rc : 1;
}

int fsc_set_isdisjoint(fsc_set *a, fsc_set *b) {
  CHECK(a, false);
  CHECK(b, false);
  return all_in(a, b, 0);
}

int fsc_set_issubset(fsc_set *a, fsc_set *b) {
  CHECK(a, false);
  CHECK(b, false);
  if (slen(a) > slen(b))
    return 0;
  return all_in(a, b, 1);
}

int fsc_set_issuperset(fsc_set *a, fsc_set *b) {
  return fsc_set_issubset(b, a);
}

int fsc_set_equal(fsc_set *a, fsc_set *b) {
  CHECK(a, false);
  CHECK(b, false);
  if (slen(a) != slen(b))
    return 0;
  int rc = all_in(a, b, 1);
  if (rc != 1)
    return rc;
  return slen(a) == slen(b) ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Typed shorthands                                                    */
/* ------------------------------------------------------------------ */

int fsc_set_add_str(fsc_set *s, const char *v) {
  if (!v) {
    fsc__err_clear();
    return fsc__err(FSC_EINVAL, "NULL string");
  }
  fsc_value x = fsc_str(v);
  return fsc_set_add(s, &x);
}

int fsc_set_add_i64(fsc_set *s, int64_t v) {
  fsc_value x = fsc_i64(v);
  return fsc_set_add(s, &x);
}

int fsc_set_contains_str(fsc_set *s, const char *v) {
  if (!v) {
    fsc__err_clear();
    return fsc__err(FSC_EINVAL, "NULL string");
  }
  fsc_value x = fsc_str(v);
  return fsc_set_contains(s, &x);
}

int fsc_set_contains_i64(fsc_set *s, int64_t v) {
  fsc_value x = fsc_i64(v);
  return fsc_set_contains(s, &x);
}
