/*
 * base.h - the base layer shared by every source file (not installed):
 * errors (error.c) and values (value.c: types, encoding, validation,
 * order).  The hot helpers are inline here.
 */
#ifndef FSC_BASE_H
#define FSC_BASE_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fscollections.h"

/* ------------------------------------------------------------------ */
/* error.c                                                             */
/* ------------------------------------------------------------------ */

/* Record a detailed message for the calling thread and return `code`.
 * Cold: the paths that call it are the unlikely ones. */
int fsc__err(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), cold));
/* Map an errno value to an fsc code, recording "what: strerror(errno)". */
int fsc__err_errno(int err, const char *what, const char *path)
    __attribute__((cold));
/* FSC_EKEY with "KeyError: '<at most 64 bytes of the key>'", formatted
 * without printf (missing keys are common). */
int fsc__err_keyerror(const void *key, size_t n);

/* Thread-local state the hot paths touch: initial-exec, so an access is
 * one %fs-relative load rather than a call to __tls_get_addr.  Only a few
 * bytes use it (static TLS is scarce for a dlopen'ed library); the message
 * buffer stays in error.c with the default model. */
#define FSC__TLS_FAST __attribute__((tls_model("initial-exec")))
/* The code of the thread's recorded failure; 0: none, and no message. */
extern _Thread_local int fsc__err_code FSC__TLS_FAST;
void fsc__err_reset(void);
/* Clear the thread's message (at the start of a public call).  Inline: a
 * load and a branch when there is nothing to clear, the common case. */
static inline void fsc__err_clear(void) {
  if (__builtin_expect(fsc__err_code != 0, 0))
    fsc__err_reset();
}
/* The code of the thread's most recent fsc__err (for NULL-returning
 * helpers such as fsc__ptr). */
int fsc__err_last(void);

/* ------------------------------------------------------------------ */
/* value.c - element types, encoding, validation, ordering             */
/* ------------------------------------------------------------------ */

/* The hot helpers are inline here (get, append and set run through them
 * on every call); value.c keeps the rest. */

/* Is `t` a storable value type (INT32..REF)? */
static inline bool fsc__type_valid(int t) {
  return t >= FSC_TYPE_INT32 && t <= FSC_TYPE_REF;
}
/* Is `t` an acceptable collection element type (a value type or ANY)? */
static inline bool fsc__gen_type_valid(int t) {
  return fsc__type_valid(t) || t == FSC_TYPE_ANY;
}
/* Fixed payload size of a type, or 0 for variable-size types. */
static inline size_t fsc__type_fixed_size(fsc_type t) {
  switch (t) {
  case FSC_TYPE_INT32:
    return 4;
  case FSC_TYPE_INT64:
  case FSC_TYPE_FLOAT:
    return 8;
  case FSC_TYPE_INT128:
    return 16;
  case FSC_TYPE_BOOL:
    return 1;
  default:
    return 0;
  }
}

/*
 * Check that `v` may be stored in a collection of element type `coll`:
 * the type matches (any value type for ANY), strings are valid UTF-8, JSON
 * parses (jansson), refs have the ref://fscollection:<kind>?path=<p> form.
 * Returns 0 or FSC_ETYPE / FSC_EINVAL with a message in the words of the
 * Python fscollections package: "Expected float for float, got string".
 */
int fsc__value_check_full(fsc_type coll, const fsc_value *v);
static inline int fsc__value_check(fsc_type coll, const fsc_value *v) {
  /* A fixed-size value of the right type has nothing more to check. */
  if (__builtin_expect(v && (v->type == coll || coll == FSC_TYPE_ANY) &&
                           fsc__type_fixed_size(v->type) != 0, 1))
    return 0;
  return fsc__value_check_full(coll, v);
}
/* Encoded payload size of a checked value. */
static inline size_t fsc__value_size(const fsc_value *v) {
  size_t f = fsc__type_fixed_size(v->type);
  return f ? f : v->u.buf.len;
}
/* Encode a checked value's payload (little-endian) into dst. */
static inline void fsc__value_encode(const fsc_value *v, void *dst) {
  uint8_t *d = dst;
  switch (v->type) {
  case FSC_TYPE_INT32: {
    uint32_t x = htole32((uint32_t)v->u.i32);
    memcpy(d, &x, 4);
    break;
  }
  case FSC_TYPE_INT64:
  case FSC_TYPE_FLOAT: { /* i64 and f: the union's first 8 bytes */
    uint64_t x;
    memcpy(&x, &v->u, 8);
    x = htole64(x);
    memcpy(d, &x, 8);
    break;
  }
  case FSC_TYPE_INT128: {
    uint64_t lo = htole64(v->u.i128.lo), hi = htole64((uint64_t)v->u.i128.hi);
    memcpy(d, &lo, 8);
    memcpy(d + 8, &hi, 8);
    break;
  }
  case FSC_TYPE_BOOL:
    d[0] = v->u.b ? 1 : 0;
    break;
  default:
    if (v->u.buf.len)
      memcpy(d, v->u.buf.ptr, v->u.buf.len);
    break;
  }
}
/* Decode a payload of type t and n bytes; variable-size values become
 * views of `src`.  Returns 0 or FSC_ECORRUPT (bad size for a fixed type,
 * a bool byte other than 0 or 1, an unknown type).  Never reads outside
 * [src, src + n). */
static inline int fsc__value_decode(fsc_type t, const void *src, uint64_t n,
                                    fsc_value *out) {
  const uint8_t *s = src;
  if (__builtin_expect(t == FSC_TYPE_INT64 || t == FSC_TYPE_FLOAT, 1)) {
    /* The common fixed-size case first, straight through. */
    uint64_t x;
    if (n != 8)
      return FSC_ECORRUPT;
    memcpy(&x, s, 8);
    x = le64toh(x);
    memset(out, 0, sizeof *out);
    out->type = t;
    memcpy(&out->u, &x, 8); /* i64 and f: the union's first 8 bytes */
    return 0;
  }
  size_t f = fsc__type_fixed_size(t);
  if (!fsc__type_valid(t) || (f && n != f))
    return FSC_ECORRUPT;
  memset(out, 0, sizeof *out); /* constant size: a few stores */
  out->type = t;
  switch (t) {
  case FSC_TYPE_INT32: {
    uint32_t x;
    memcpy(&x, s, 4);
    out->u.i32 = (int32_t)le32toh(x);
    break;
  }
  case FSC_TYPE_INT128: {
    uint64_t lo, hi;
    memcpy(&lo, s, 8);
    memcpy(&hi, s + 8, 8);
    out->u.i128.lo = le64toh(lo);
    out->u.i128.hi = (int64_t)le64toh(hi);
    break;
  }
  case FSC_TYPE_BOOL:
    if (s[0] > 1)
      return FSC_ECORRUPT;
    out->u.b = s[0] != 0;
    break;
  default:
    if (n > SIZE_MAX)
      return FSC_ECORRUPT;
    out->u.buf.ptr = s;
    out->u.buf.len = (size_t)n;
    break;
  }
  return 0;
}
/* Does the stored payload (t, src, n) equal value v? (fsc_value_equal) */
bool fsc__value_equals_payload(const fsc_value *v, fsc_type t,
                               const void *src, uint64_t n);
/* Is (t, src, n) exactly v's encoding (same type, same bytes)?  What a
 * compare-and-swap compares: 1 and 1.0 differ, as do two NaNs' bits. */
bool fsc__value_same_encoding(const fsc_value *v, fsc_type t,
                              const void *src, uint64_t n);
/* Order two values for sort: *cmp < 0, 0, > 0.  FSC_ETYPE if they cannot
 * be ordered ("'<' not supported between instances of 'str' and 'int'"
 * for a < b with a str and b an int, as Python words it). */
int fsc__value_compare(const fsc_value *a, const fsc_value *b, int *cmp);

#endif /* FSC_BASE_H */
