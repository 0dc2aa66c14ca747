/*
 * dict_counter.c - owns the dict's counters in place and its
 * compare-and-swap: fsc_dict_incr, fsc_dict_incr_f64 (one atomic
 * read-modify-write on a counter record's value word once the key's record
 * is a counter: record.c) and fsc_dict_cas (a swap in place for an 8-byte
 * value of the same type, else a new record published by a slot CAS that
 * expects the old one).  doc/CONCURRENCY.md, "Counters in place".
 */
#include "struct/hash.h"
#include "struct/hash_slot.h"
#include "coll/cache.h"
#include "coll/dict.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Counters in place and compare-and-swap                              */
/* ------------------------------------------------------------------ */

/* Write a counter record for key k holding the 8-byte value v (int64 or
 * float): [klen][key][zero pad to 8][value][origin = itself], or in a
 * file of close words [klen][key][zero pad to 8][0 or 8 zero bytes]
 * [close][value][origin] (doc/FORMAT.md, "Counter records"; format.h
 * fsc__ctr_cwoff), sealed, not yet published. */
static int counter_write(struct fsc__gen *c, const struct fsc__kkey *k,
                         const fsc_value *v, uint64_t *off) {
  uint64_t head = (4 + (uint64_t)k->n + 7) & ~UINT64_C(7);
  uint64_t n = head + 16;
  uint8_t *pl;
  int rc = c->cw ? fsc__rec_alloc_dctr(c, head, off, &pl, &n)
                 : fsc__rec_alloc_counter(c, n, off, &pl);
  if (rc)
    return rc;
  memset(pl, 0, (size_t)head);
  uint32_t kl = htole32(k->n);
  memcpy(pl, &kl, 4);
  if (k->n)
    memcpy(pl + 4, k->p, k->n);
  fsc__value_encode(v, pl + n - 16);
  uint64_t o = htole64(*off);
  memcpy(pl + n - 8, &o, 8);
  fsc__rec_seal(pl, (uint8_t)v->type, n);
  if (!fsc__ks_off_fits(c, *off)) {
    fsc__rec_retire(c, *off);
    return fsc__err(FSC_ENOSPC, "%s", fsc__ks_max_msg(c));
  }
  return 0;
}

/* After a write in place: durability ALWAYS syncs; nothing else to do
 * (no new record, no dead bytes, and in-place increments do not bump the
 * change count: doc/CONCURRENCY.md). */
static int after_in_place(struct fsc__gen *c) {
  return c->durability == FSC_DURABLE_ALWAYS ? fsc__compact_after_write(c)
                                             : 0;
}

/* Add to a number in place, or make the key's record a counter.  `t` is
 * INT64 (delta in *d64) or FLOAT (*df); the new value in *out. */
static int incr_any(struct fsc__gen *c, const void *key, size_t klen,
                    fsc_type t, int64_t d64, double df, fsc_value *out) {
  CHECK_C(c, true);
  if (c->type != t && c->type != FSC_TYPE_ANY)
    return fsc__err(FSC_ETYPE, "Expected %s for %s, got %s increment",
                    fsc_type_name(c->type), fsc_type_name(c->type),
                    fsc_type_name(t));
  struct fsc__kkey k;
  int rc = fsc__dict_key_make(c, key, klen, &k);
  if (rc)
    return rc;
  for (;;) {
    uint64_t off = 0;
    struct fsc__krec r;
    fsc_value cur; /* the value replaced (absent: 0), set below */
    if ((rc = fsc__hash_find_rec(c, &k, &off, &r)) < 0)
      return rc;
    if (rc == 1) {
      if (r.type != t)
        return fsc__err(FSC_ETYPE, "Expected %s for increment, got %s",
                        fsc_type_name(t), fsc_type_name((fsc_type)r.type));
      /* The fast path: one atomic add on the record's value word. */
      uint64_t old, arg;
      if (t == FSC_TYPE_INT64)
        arg = (uint64_t)d64;
      else
        memcpy(&arg, &df, 8);
      rc = fsc__ctr_rmw(c, off, t == FSC_TYPE_INT64 ? FSC__CTR_ADD
                                                    : FSC__CTR_ADDF,
                        &arg, &old);
      if (rc < 0)
        return rc;
      if (rc == 0) {
        if (t == FSC_TYPE_INT64) {
          int64_t nv;
          if (__builtin_add_overflow((int64_t)le64toh(old), d64, &nv))
            return fsc__ctr_add_undo(c, off, d64);
          *out = fsc_i64(nv);
        } else {
          double x, a;
          memcpy(&x, &old, 8);
          memcpy(&a, &arg, 8);
          *out = fsc_f64(x + a);
        }
        return after_in_place(c);
      }
      /* Not a counter yet, or closed: its value is final; replace it. */
      fsc__ctr_close(c, off);
      if ((rc = fsc__dict_item_view(c, off, &r, NULL, &cur)) != 0)
        return rc;
    } else {
      off = 0;
      /* (Built here, not before the lookup: the in-place path above does
       * not need it.) */
      cur = t == FSC_TYPE_INT64 ? fsc_i64(0) : fsc_f64(0.0);
    }
    fsc_value nv;
    if (t == FSC_TYPE_INT64) {
      int64_t x;
      if (__builtin_add_overflow(cur.u.i64, d64, &x))
        return fsc__err(FSC_EVALUE, "int64 overflow: %lld + %lld",
                        (long long)cur.u.i64, (long long)d64);
      nv = fsc_i64(x);
    } else {
      nv = fsc_f64(cur.u.f + df);
    }
    uint64_t roff, prev;
    if ((rc = counter_write(c, &k, &nv, &roff)) != 0)
      return rc;
    ck_pr_fence_store(); /* the record's bytes before the slot CAS */
    rc = fsc__hash_put(c, &k, roff, FSC__PUT_EXPECT, off, &prev);
    if (rc < 0)
      fsc__rec_retire(c, roff);
    if (rc == FSC_EAGAIN) {
      fsc__err_clear();
      continue; /* another writer got there first: read again */
    }
    if (rc < 0)
      return rc;
    *out = nv;
    return fsc__gen_after_write(c);
  }
}

static int incr_g(struct fsc__gen *c, const void *key, size_t klen,
                  int64_t delta, int64_t *out) {
  fsc_value v;
  int rc = incr_any(c, key, klen, FSC_TYPE_INT64, delta, 0, &v);
  if (rc == 0 && out)
    *out = v.u.i64;
  return rc;
}

static int __attribute__((noinline))
incr_slow(fsc_dict *d, const void *key, size_t klen, int64_t delta,
          int64_t *out) {
  FSC__GEN(d, incr_g(c, key, klen, delta, out));
}

/* Is every byte of the n at p ASCII (so valid UTF-8: a string key that
 * needs no further check)?  Eight bytes at a time and the last eight as
 * one word; a short key as two overlapping words of 4, or bytes. */
static inline bool key_ascii(const uint8_t *p, size_t n) {
  uint64_t acc = 0, x;
  if (n >= 8) {
    for (size_t i = 0; n - i > 8; i += 8) {
      memcpy(&x, p + i, 8);
      acc |= x;
    }
    memcpy(&x, p + n - 8, 8);
    acc |= x;
  } else if (n >= 4) {
    uint32_t a, b;
    memcpy(&a, p, 4);
    memcpy(&b, p + n - 4, 4);
    acc = a | b;
  } else {
    for (size_t i = 0; i < n; i++)
      acc |= p[i];
  }
  return (acc & UINT64_C(0x8080808080808080)) == 0;
}

/*
 * The common case of incr_g straight through (issue #14): a writable dict
 * of int64 values with no sync per write, an ASCII (or bytes) key whose
 * record is already an int64 counter, neither closed nor sealed, no growth
 * migrating: fsc__hash_ctr_add's lookup and three atomics.  Everything
 * else - a first increment, a closed or sealed counter, a change in
 * progress, an error to report - goes to incr_slow, which starts over
 * (nothing was changed).
 */
int fsc_dict_incr(fsc_dict *d, const void *key, size_t klen, int64_t delta,
                  int64_t *out) {
  if (__builtin_expect(!d || fsc__err_code != 0 || !key ||
                           klen > FSC_KEY_MAX, 0))
    return incr_slow(d, key, klen, delta, out);
  struct fsc__gen *c = fsc__cur(FSC__H(d));
  if (__builtin_expect(fsc__gen_closed(c) || c->rdonly ||
                           c->kind != FSC__KIND_DICT ||
                           c->durability == FSC_DURABLE_ALWAYS ||
                           (c->type != FSC_TYPE_INT64 &&
                            c->type != FSC_TYPE_ANY) ||
                           (c->key_type == FSC_TYPE_STRING &&
                            !key_ascii(key, klen)),
                       0))
    return incr_slow(d, key, klen, delta, out);
  uint64_t old, off;
  int rc = fsc__hash_ctr_add(c, key, (uint32_t)klen, (uint64_t)delta, &old,
                             &off);
  if (__builtin_expect(rc != 0, 0))
    return rc == 1 ? incr_slow(d, key, klen, delta, out) : rc;
  int64_t nv;
  if (__builtin_add_overflow((int64_t)le64toh(old), delta, &nv))
    return fsc__ctr_add_undo(c, off, delta);
  if (out)
    *out = nv;
  return 0;
}

static int incr_f64_g(struct fsc__gen *c, const void *key, size_t klen,
                      double delta, double *out) {
  fsc_value v;
  int rc = incr_any(c, key, klen, FSC_TYPE_FLOAT, 0, delta, &v);
  if (rc == 0 && out)
    *out = v.u.f;
  return rc;
}

int fsc_dict_incr_f64(fsc_dict *d, const void *key, size_t klen,
                      double delta, double *out) {
  FSC__GEN(d, incr_f64_g(c, key, klen, delta, out));
}

/* *cur := the key's value (a view), or a value of type 0 if absent. */
static void give_current(fsc_value *cur, const fsc_value *v) {
  if (!cur)
    return;
  if (v)
    *cur = *v;
  else
    memset(cur, 0, sizeof *cur);
}

/* The record a compare-and-swap writes: a counter for an 8-byte value,
 * so that the next swap of that key is one CAS in place. */
static int cas_write(struct fsc__gen *c, const struct fsc__kkey *k,
                     const fsc_value *v, uint64_t *off) {
  if (fsc__type_fixed_size(v->type) == 8)
    return counter_write(c, k, v, off);
  return fsc__krec_write(c, k, v, off);
}

/* Write `desired` for k and publish it if k's live record is still
 * `expect` (0: k absent): 1 when published, 0 when k changed meanwhile
 * (the record written is retired, the caller looks again), or an error. */
static int cas_put(struct fsc__gen *c, const struct fsc__kkey *k,
                   const fsc_value *desired, uint64_t expect) {
  uint64_t roff, prev;
  int rc = cas_write(c, k, desired, &roff);
  if (rc)
    return rc;
  ck_pr_fence_store();
  rc = fsc__hash_put(c, k, roff, FSC__PUT_EXPECT, expect, &prev);
  if (rc < 0)
    fsc__rec_retire(c, roff);
  if (rc == FSC_EAGAIN) {
    fsc__err_clear();
    return 0;
  }
  if (rc < 0)
    return rc;
  rc = fsc__gen_after_write(c);
  return rc ? rc : 1;
}

static int cas_g(struct fsc__gen *c, const void *key, size_t klen,
                 const fsc_value *expected, const fsc_value *desired,
                 fsc_value *current) {
  CHECK_C(c, true);
  struct fsc__kkey k;
  int rc = fsc__dict_key_make(c, key, klen, &k);
  if (rc)
    return rc;
  if (desired && (rc = fsc__value_check(c->type, desired)) != 0)
    return rc;
  if (!expected && !desired)
    return fsc__err(FSC_EINVAL, "expected and desired are both NULL");
  for (;;) {
    uint64_t off = 0;
    struct fsc__krec r;
    fsc_value now;
    if ((rc = fsc__hash_find_rec(c, &k, &off, &r)) < 0)
      return rc;
    if (rc == 0) {
      if (expected) { /* expected a value; the key is absent */
        give_current(current, NULL);
        return 0;
      }
      if ((rc = cas_put(c, &k, desired, 0)) == 0)
        continue; /* it changed: look again */
      return rc;
    }
    if (!expected ||
        !fsc__value_same_encoding(expected, (fsc_type)r.type, r.val,
                                  r.vlen)) {
      /* (A counter's value may move on; the read is one of its values.) */
      if ((rc = fsc__dict_item_view(c, off, &r, NULL, &now)) != 0)
        return rc;
      give_current(current, &now);
      return 0;
    }
    /* A counter and a value of its type: one CAS of the value word. */
    if (desired && desired->type == r.type && r.vlen == 8 &&
        fsc__type_fixed_size(desired->type) == 8) {
      rc = fsc__ctr_cas(c, off, expected, desired, current);
      if (rc < 0)
        return rc;
      if (rc == 1) {
        fsc__ec_bump(c); /* a change others may wait for */
        rc = after_in_place(c);
        return rc ? rc : 1;
      }
      if (rc == 0)
        return 0;
      /* FSC__CTR_GONE: not a counter (or closed): replace the record. */
    }
    /* Replacing the record: its value must be final first (a counter's is
     * once closed), and still the expected one. */
    fsc__ctr_close(c, off);
    if (!fsc__value_same_encoding(expected, (fsc_type)r.type, r.val,
                                  r.vlen))
      continue;
    if (!desired) {
      uint64_t old;
      if ((rc = fsc__hash_del(c, &k, off, &old)) < 0)
        return rc;
      if (rc == 0)
        continue; /* it changed: look again */
      rc = fsc__gen_after_write(c);
      return rc ? rc : 1;
    }
    if ((rc = cas_put(c, &k, desired, off)) == 0)
      continue; /* it changed: look again */
    return rc;
  }
}

int fsc_dict_cas(fsc_dict *d, const void *key, size_t klen,
                 const fsc_value *expected, const fsc_value *desired,
                 fsc_value *current) {
  FSC__GEN(d, cas_g(c, key, klen, expected, desired, current));
}

/* ------------------------------------------------------------------ */
/* update / clear / equal                                              */
/* ------------------------------------------------------------------ */

