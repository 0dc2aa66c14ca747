/*
 * value.c - owns element types: their names, the checks a value passes
 * before it is stored (type, UTF-8, JSON through jansson, ref syntax), the
 * little-endian payload encoding of doc/FORMAT.md, decoding into views,
 * equality, and the ordering sort uses.
 *
 * Invariant kept here: a payload that fsc__value_encode writes decodes,
 * through fsc__value_decode, to a value equal to the one encoded; and
 * decode never reads outside [src, src + n), whatever the bytes are (a
 * hostile file cannot make it overrun).
 */
#include "internal.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Names                                                               */
/* ------------------------------------------------------------------ */

static const char *const type_names[] = {
    [FSC_TYPE_UNSPEC] = "unspecified", [FSC_TYPE_INT32] = "int32",
    [FSC_TYPE_INT64] = "int64",        [FSC_TYPE_INT128] = "int128",
    [FSC_TYPE_STRING] = "string",      [FSC_TYPE_BOOL] = "bool",
    [FSC_TYPE_FLOAT] = "float",        [FSC_TYPE_BYTES] = "bytes",
    [FSC_TYPE_JSON] = "json",          [FSC_TYPE_REF] = "ref",
    [FSC_TYPE_ANY] = "any",
};

const char *fsc_type_name(fsc_type t) {
  if ((unsigned)t < sizeof type_names / sizeof type_names[0] &&
      type_names[t])
    return type_names[t];
  return "unknown";
}

int fsc_type_parse(const char *name) {
  fsc__err_clear();
  if (!name)
    return fsc__err(FSC_EINVAL, "NULL type name");
  for (unsigned t = FSC_TYPE_INT32;
       t < sizeof type_names / sizeof type_names[0]; t++)
    if (type_names[t] && strcmp(name, type_names[t]) == 0)
      return (int)t;
  /* The Python fscollections package's spellings. */
  if (strcmp(name, "int") == 0)
    return FSC_TYPE_INT64;
  if (strcmp(name, "str") == 0)
    return FSC_TYPE_STRING;
  return fsc__err(FSC_EINVAL, "unknown type name '%s'", name);
}

static bool type_is_buf(fsc_type t) {
  return t == FSC_TYPE_STRING || t == FSC_TYPE_BYTES || t == FSC_TYPE_JSON ||
         t == FSC_TYPE_REF;
}

/* ------------------------------------------------------------------ */
/* Constructors                                                        */
/* ------------------------------------------------------------------ */

fsc_value fsc_i32(int32_t v) {
  fsc_value x = {.type = FSC_TYPE_INT32};
  x.u.i32 = v;
  return x;
}
fsc_value fsc_i64(int64_t v) {
  fsc_value x = {.type = FSC_TYPE_INT64};
  x.u.i64 = v;
  return x;
}
fsc_value fsc_i128(fsc_int128 v) {
  fsc_value x = {.type = FSC_TYPE_INT128};
  x.u.i128 = v;
  return x;
}
fsc_value fsc_bool(bool v) {
  fsc_value x = {.type = FSC_TYPE_BOOL};
  x.u.b = v;
  return x;
}
fsc_value fsc_f64(double v) {
  fsc_value x = {.type = FSC_TYPE_FLOAT};
  x.u.f = v;
  return x;
}
static fsc_value buf_value(fsc_type t, const void *p, size_t n) {
  fsc_value x = {.type = t};
  x.u.buf.ptr = p;
  x.u.buf.len = n;
  return x;
}
fsc_value fsc_str(const char *s) {
  return buf_value(FSC_TYPE_STRING, s, s ? strlen(s) : 0);
}
fsc_value fsc_strn(const char *s, size_t len) {
  return buf_value(FSC_TYPE_STRING, s, len);
}
fsc_value fsc_bytes(const void *p, size_t len) {
  return buf_value(FSC_TYPE_BYTES, p, len);
}
fsc_value fsc_json(const char *text, size_t len) {
  return buf_value(FSC_TYPE_JSON, text, len);
}

/* ------------------------------------------------------------------ */
/* Checks                                                              */
/* ------------------------------------------------------------------ */

/* Strict UTF-8 (RFC 3629): no overlongs, no surrogates, <= U+10FFFF.
 * Returns the offset of the first bad byte, or n if all is well. */
static size_t utf8_bad(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    /* ASCII runs 32, 16, 8 bytes at a time (no byte with its top bit
     * set), then the last 8 bytes of the string as one word. */
    const uint64_t top = UINT64_C(0x8080808080808080);
    for (; n - i >= 32; i += 32) {
      uint64_t a, b, c, d;
      memcpy(&a, s + i, 8);
      memcpy(&b, s + i + 8, 8);
      memcpy(&c, s + i + 16, 8);
      memcpy(&d, s + i + 24, 8);
      if ((a | b | c | d) & top)
        break;
    }
    if (n - i >= 16) {
      uint64_t a, b;
      memcpy(&a, s + i, 8);
      memcpy(&b, s + i + 8, 8);
      if (!((a | b) & top))
        i += 16;
    }
    if (n - i >= 8) {
      uint64_t a;
      memcpy(&a, s + i, 8);
      if (!(a & top))
        i += 8;
    }
    if (i < n && n - i < 8 && n >= 8) { /* the rest: the last 8 bytes */
      uint64_t a;
      memcpy(&a, s + n - 8, 8);
      if (!(a & top))
        i = n;
    }
    while (i < n && s[i] < 0x80)
      i++;
    if (i >= n)
      break;
    uint8_t c = s[i]; /* >= 0x80: the lead byte of a sequence */
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF; /* range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      need = 2;
      if (c == 0xE0)
        lo = 0xA0; /* overlong */
      if (c == 0xED)
        hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
      need = 3;
      if (c == 0xF0)
        lo = 0x90; /* overlong */
      if (c == 0xF4)
        hi = 0x8F; /* > U+10FFFF */
    } else {
      return i;
    }
    if (n - i <= need)
      return i;
    if (s[i + 1] < lo || s[i + 1] > hi)
      return i;
    for (size_t k = 2; k <= need; k++)
      if ((s[i + k] & 0xC0) != 0x80)
        return i;
    i += need + 1;
  }
  return n;
}

/* "ref://fscollection:<list|dict|set>?path=<non-empty path>" */
static bool ref_valid(const char *s, size_t n) {
  static const char pre[] = "ref://fscollection:";
  size_t lp = sizeof pre - 1;
  if (n <= lp || memcmp(s, pre, lp) != 0)
    return false;
  s += lp;
  n -= lp;
  static const char *const kinds[] = {"list", "dict", "set"};
  for (int k = 0; k < 3; k++) {
    size_t lk = strlen(kinds[k]);
    if (n > lk + 6 && memcmp(s, kinds[k], lk) == 0 &&
        memcmp(s + lk, "?path=", 6) == 0)
      return memchr(s, '\0', n) == NULL;
  }
  return false;
}

int fsc__value_check_full(fsc_type coll, const fsc_value *v) {
  if (!v)
    return fsc__err(FSC_EINVAL, "value is NULL");
  if (!fsc__type_valid(v->type))
    return fsc__err(FSC_ETYPE, "invalid value type %d", (int)v->type);
  if (coll != FSC_TYPE_ANY && v->type != coll)
    return fsc__err(FSC_ETYPE, "Expected %s for %s, got %s",
                    fsc_type_name(coll), fsc_type_name(coll),
                    fsc_type_name(v->type));
  if (!type_is_buf(v->type))
    return 0;
  const char *p = v->u.buf.ptr;
  size_t n = v->u.buf.len;
  if (!p && n)
    return fsc__err(FSC_EINVAL, "%s value has a NULL pointer and length %zu",
                    fsc_type_name(v->type), n);
  if (n > (UINT64_C(1) << 39))
    return fsc__err(FSC_EINVAL, "%s value of %zu bytes is too large",
                    fsc_type_name(v->type), n);
  switch (v->type) {
  case FSC_TYPE_STRING: {
    size_t bad = utf8_bad((const uint8_t *)p, n);
    if (bad != n)
      return fsc__err(FSC_ETYPE, "Expected string (valid UTF-8), got invalid "
                      "UTF-8 at byte %zu", bad);
    return 0;
  }
  case FSC_TYPE_JSON: {
    if (n == 0)
      return fsc__err(FSC_ETYPE, "Expected json, got an empty text");
    json_error_t e;
    json_t *j = json_loadb(p, n, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES |
                                     JSON_ALLOW_NUL, &e);
    if (!j)
      return fsc__err(FSC_ETYPE, "Expected json, got invalid JSON: %s "
                      "(line %d, column %d)", e.text, e.line, e.column);
    json_decref(j);
    return 0;
  }
  case FSC_TYPE_REF:
    if (!ref_valid(p, n))
      return fsc__err(FSC_ETYPE, "Expected ref "
                      "(ref://fscollection:<list|dict|set>?path=<base>), got "
                      "'%.*s'", (int)(n > 80 ? 80 : n), p);
    return 0;
  default:
    return 0;
  }
}

/* ------------------------------------------------------------------ */
/* Encoding (little-endian, doc/FORMAT.md)                             */
/* ------------------------------------------------------------------ */

/* fsc__value_size, fsc__value_encode and fsc__value_decode are inline in
 * internal.h: get, append and set run through them on every call. */

/* ------------------------------------------------------------------ */
/* Equality and order                                                  */
/* ------------------------------------------------------------------ */

bool fsc_value_equal(const fsc_value *a, const fsc_value *b) {
  if (!a || !b || a->type != b->type || !fsc__type_valid(a->type))
    return false;
  switch (a->type) {
  case FSC_TYPE_INT32:
    return a->u.i32 == b->u.i32;
  case FSC_TYPE_INT64:
    return a->u.i64 == b->u.i64;
  case FSC_TYPE_INT128:
    return a->u.i128.lo == b->u.i128.lo && a->u.i128.hi == b->u.i128.hi;
  case FSC_TYPE_BOOL:
    return a->u.b == b->u.b;
  case FSC_TYPE_FLOAT: /* the same encoded bytes: NaN == NaN, 0.0 != -0.0 */
    return memcmp(&a->u.f, &b->u.f, sizeof(double)) == 0;
  default:
    return a->u.buf.len == b->u.buf.len &&
           (a->u.buf.len == 0 ||
            memcmp(a->u.buf.ptr, b->u.buf.ptr, a->u.buf.len) == 0);
  }
}

bool fsc__value_equals_payload(const fsc_value *v, fsc_type t,
                               const void *src, uint64_t n) {
  fsc_value x;
  if (fsc__value_decode(t, src, n, &x) != 0)
    return false;
  return fsc_value_equal(v, &x);
}

enum order_class { OC_NUMBER, OC_STRING, OC_BYTES, OC_NONE };

static enum order_class order_class(fsc_type t) {
  switch (t) {
  case FSC_TYPE_INT32:
  case FSC_TYPE_INT64:
  case FSC_TYPE_INT128:
  case FSC_TYPE_BOOL:
  case FSC_TYPE_FLOAT:
    return OC_NUMBER;
  case FSC_TYPE_STRING:
    return OC_STRING;
  case FSC_TYPE_BYTES:
    return OC_BYTES;
  default:
    return OC_NONE;
  }
}

/* Python's names, for the TypeError-style message. */
static const char *py_name(fsc_type t) {
  switch (t) {
  case FSC_TYPE_INT32:
  case FSC_TYPE_INT64:
  case FSC_TYPE_INT128:
    return "int";
  case FSC_TYPE_STRING:
    return "str";
  case FSC_TYPE_JSON:
    return "json";
  default:
    return fsc_type_name(t);
  }
}

static __int128 as_i128(const fsc_value *v) {
  switch (v->type) {
  case FSC_TYPE_INT32:
    return v->u.i32;
  case FSC_TYPE_INT64:
    return v->u.i64;
  case FSC_TYPE_BOOL:
    return v->u.b ? 1 : 0;
  default: {
    unsigned __int128 u =
        ((unsigned __int128)(uint64_t)v->u.i128.hi << 64) | v->u.i128.lo;
    return (__int128)u;
  }
  }
}

/* Exact comparison of an integer with a finite or infinite double
 * (not NaN): the sign of i - d. */
static int cmp_int_double(__int128 i, double d) {
  const double two127 = 170141183460469231731687303715884105728.0;
  if (d >= two127)
    return -1;
  if (d < -two127)
    return 1;
  double t = trunc(d);
  __int128 ti = (__int128)t; /* exact: |t| < 2^127 and t is integral */
  if (i != ti)
    return i < ti ? -1 : 1;
  double frac = d - t;
  return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

static int cmp_numbers(const fsc_value *a, const fsc_value *b) {
  bool af = a->type == FSC_TYPE_FLOAT, bf = b->type == FSC_TYPE_FLOAT;
  if (af && bf) {
    /* NaN is unordered, as in Python: it compares as neither less nor
     * greater, so a stable sort leaves it where the merges put it. */
    return a->u.f < b->u.f ? -1 : a->u.f > b->u.f ? 1 : 0;
  }
  if (af)
    return isnan(a->u.f) ? 0 : -cmp_int_double(as_i128(b), a->u.f);
  if (bf)
    return isnan(b->u.f) ? 0 : cmp_int_double(as_i128(a), b->u.f);
  __int128 x = as_i128(a), y = as_i128(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

static int cmp_bufs(const fsc_value *a, const fsc_value *b) {
  size_t n = a->u.buf.len < b->u.buf.len ? a->u.buf.len : b->u.buf.len;
  int c = n ? memcmp(a->u.buf.ptr, b->u.buf.ptr, n) : 0;
  if (c)
    return c < 0 ? -1 : 1;
  /* UTF-8 byte order is code point order, so this serves strings too. */
  return a->u.buf.len < b->u.buf.len ? -1 : a->u.buf.len > b->u.buf.len;
}

int fsc__value_compare(const fsc_value *a, const fsc_value *b, int *cmp) {
  enum order_class ca = order_class(a->type), cb = order_class(b->type);
  if (ca == OC_NONE || cb == OC_NONE || ca != cb)
    /* Python's words for `a < b`: "... of 'str' and 'int'". */
    return fsc__err(FSC_ETYPE, "'<' not supported between instances of "
                    "'%s' and '%s'", py_name(a->type), py_name(b->type));
  *cmp = ca == OC_NUMBER ? cmp_numbers(a, b) : cmp_bufs(a, b);
  return 0;
}

bool fsc__value_same_encoding(const fsc_value *v, fsc_type t,
                              const void *src, uint64_t n) {
  if (!v || v->type != t || fsc__value_size(v) != n)
    return false;
  size_t f = fsc__type_fixed_size(t);
  if (!f)
    return n == 0 || memcmp(v->u.buf.ptr, src, (size_t)n) == 0;
  uint8_t buf[16];
  fsc__value_encode(v, buf);
  return memcmp(buf, src, f) == 0;
}
