/* SPDX-License-Identifier: MIT */
/*
 * fsc_value.c - owns values as text for the fsc tool: parsing a value from
 * the command line per type, printing one for a person, and the lossless
 * JSON form of the dump format (doc/fsc.1, "DUMP FORMAT"), with its codecs
 * (base64, hex, decimal int128, bits-exact floats).
 */
#include "fsc.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void cli_val_free(struct cli_val *cv) {
  free(cv->buf);
  cv->buf = NULL;
}

/* ------------------------------------------------------------------ */
/* base64 (RFC 4648, with padding) and hex                             */
/* ------------------------------------------------------------------ */

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *cli_base64_encode(const void *p, size_t n) {
  const unsigned char *s = p;
  char *out = malloc((n + 2) / 3 * 4 + 1);
  if (!out)
    return NULL;
  char *o = out;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    uint32_t x = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
    *o++ = b64chars[x >> 18];
    *o++ = b64chars[(x >> 12) & 63];
    *o++ = b64chars[(x >> 6) & 63];
    *o++ = b64chars[x & 63];
  }
  if (n - i == 1) {
    uint32_t x = (uint32_t)s[i] << 16;
    *o++ = b64chars[x >> 18];
    *o++ = b64chars[(x >> 12) & 63];
    *o++ = '=';
    *o++ = '=';
  } else if (n - i == 2) {
    uint32_t x = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
    *o++ = b64chars[x >> 18];
    *o++ = b64chars[(x >> 12) & 63];
    *o++ = b64chars[(x >> 6) & 63];
    *o++ = '=';
  }
  *o = '\0';
  return out;
}

static int b64val(unsigned char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+' || c == '-')
    return 62;
  if (c == '/' || c == '_')
    return 63;
  return -1;
}

/* Decodes standard or URL-safe base64, padded or not. */
int cli_base64_decode(const char *s, size_t n, void **out, size_t *len) {
  while (n > 0 && s[n - 1] == '=')
    n--;
  if (n % 4 == 1)
    return -1;
  unsigned char *o = malloc(n / 4 * 3 + 3);
  if (!o)
    return -1;
  size_t k = 0;
  uint32_t acc = 0;
  unsigned bits = 0;
  for (size_t i = 0; i < n; i++) {
    int v = b64val((unsigned char)s[i]);
    if (v < 0) {
      free(o);
      return -1;
    }
    acc = acc << 6 | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      o[k++] = (unsigned char)(acc >> bits);
    }
  }
  *out = o;
  *len = k;
  return 0;
}

char *cli_hex_encode(const void *p, size_t n) {
  static const char hx[] = "0123456789abcdef";
  const unsigned char *s = p;
  char *out = malloc(2 * n + 1);
  if (!out)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = hx[s[i] >> 4];
    out[2 * i + 1] = hx[s[i] & 15];
  }
  out[2 * n] = '\0';
  return out;
}

static int hexval(unsigned char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int cli_hex_decode(const char *s, size_t n, void **out, size_t *len) {
  if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s += 2;
    n -= 2;
  }
  if (n % 2)
    return -1;
  unsigned char *o = malloc(n / 2 + 1);
  if (!o)
    return -1;
  for (size_t i = 0; i < n / 2; i++) {
    int a = hexval((unsigned char)s[2 * i]), b = hexval((unsigned char)s[2 * i + 1]);
    if (a < 0 || b < 0) {
      free(o);
      return -1;
    }
    o[i] = (unsigned char)(a << 4 | b);
  }
  *out = o;
  *len = n / 2;
  return 0;
}

/* ------------------------------------------------------------------ */
/* int128 in decimal (four 32-bit limbs, least significant first)      */
/* ------------------------------------------------------------------ */

static void to_limbs(uint64_t lo, uint64_t hi, uint32_t l[4]) {
  l[0] = (uint32_t)lo;
  l[1] = (uint32_t)(lo >> 32);
  l[2] = (uint32_t)hi;
  l[3] = (uint32_t)(hi >> 32);
}

void cli_i128_format(fsc_int128 v, char buf[48]) {
  uint64_t lo = v.lo, hi = (uint64_t)v.hi;
  bool neg = v.hi < 0;
  if (neg) { /* two's complement negation of the 128-bit magnitude */
    lo = ~lo + 1;
    hi = ~hi + (lo == 0);
  }
  uint32_t l[4];
  to_limbs(lo, hi, l);
  char tmp[48];
  int n = 0;
  do {
    uint64_t rem = 0;
    for (int i = 3; i >= 0; i--) {
      uint64_t cur = rem << 32 | l[i];
      l[i] = (uint32_t)(cur / 10);
      rem = cur % 10;
    }
    tmp[n++] = (char)('0' + rem);
  } while (l[0] | l[1] | l[2] | l[3]);
  int k = 0;
  if (neg)
    buf[k++] = '-';
  while (n > 0)
    buf[k++] = tmp[--n];
  buf[k] = '\0';
}

int cli_i128_parse(const char *s, fsc_int128 *out) {
  bool neg = false;
  if (*s == '-' || *s == '+')
    neg = *s++ == '-';
  if (!*s)
    return -1;
  uint32_t l[4] = {0, 0, 0, 0};
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return -1;
    uint64_t carry = (uint64_t)(*s - '0');
    for (int i = 0; i < 4; i++) {
      uint64_t cur = (uint64_t)l[i] * 10 + carry;
      l[i] = (uint32_t)cur;
      carry = cur >> 32;
    }
    if (carry)
      return -1;
  }
  uint64_t lo = (uint64_t)l[1] << 32 | l[0];
  uint64_t hi = (uint64_t)l[3] << 32 | l[2];
  /* The magnitude may be at most 2^127 - 1, or 2^127 when negative. */
  if (hi >> 63 && !(neg && hi == UINT64_C(1) << 63 && lo == 0))
    return -1;
  if (neg) {
    lo = ~lo + 1;
    hi = ~hi + (lo == 0);
  }
  out->lo = lo;
  out->hi = (int64_t)hi;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Floats, bits-exact                                                  */
/* ------------------------------------------------------------------ */

#define CANON_NAN UINT64_C(0x7ff8000000000000)
#define CANON_NEG_NAN UINT64_C(0xfff8000000000000)

void cli_f64_format(double d, char buf[48]) {
  uint64_t bits;
  memcpy(&bits, &d, 8);
  if (isnan(d)) {
    if (bits == CANON_NAN)
      strcpy(buf, "nan");
    else if (bits == CANON_NEG_NAN)
      strcpy(buf, "-nan");
    else
      snprintf(buf, 48, "nan:0x%016" PRIx64, bits);
  } else if (isinf(d)) {
    strcpy(buf, d < 0 ? "-inf" : "inf");
  } else {
    snprintf(buf, 48, "%a", d);
  }
}

int cli_f64_parse(const char *s, double *out) {
  uint64_t bits;
  if (strcmp(s, "nan") == 0 || strcmp(s, "NaN") == 0 || strcmp(s, "+nan") == 0)
    bits = CANON_NAN;
  else if (strcmp(s, "-nan") == 0 || strcmp(s, "-NaN") == 0)
    bits = CANON_NEG_NAN;
  else if (strncmp(s, "nan:0x", 6) == 0) {
    char *end;
    errno = 0;
    unsigned long long b = strtoull(s + 6, &end, 16);
    if (errno || *end || end == s + 6)
      return -1;
    bits = b;
    double d;
    memcpy(&d, &bits, 8);
    if (!isnan(d))
      return -1;
  } else {
    if (!*s || *s == ' ' || *s == '\t' || *s == '\n')
      return -1;
    char *end;
    double d = strtod(s, &end);
    if (*end || isnan(d))
      return -1;
    *out = d;
    return 0;
  }
  memcpy(out, &bits, 8);
  return 0;
}

/* The shortest of %.15g, %.16g, %.17g that reads back as the same bits. */
static void f64_human(double d, char buf[48]) {
  if (!isfinite(d)) {
    cli_f64_format(d, buf);
    return;
  }
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, 48, "%.*g", prec, d);
    if (strtod(buf, NULL) == d && signbit(strtod(buf, NULL)) == signbit(d))
      return;
  }
}

/* ------------------------------------------------------------------ */
/* Values from the command line                                        */
/* ------------------------------------------------------------------ */

static int bad(char *err, size_t errlen, const char *text, fsc_type t,
               const char *why) {
  snprintf(err, errlen, "'%s' is not %s %s%s%s", text,
           t == FSC_TYPE_INT32 || t == FSC_TYPE_INT64 || t == FSC_TYPE_INT128
               ? "an"
               : "a",
           fsc_type_name(t), why ? ": " : "", why ? why : "");
  return CLI_USAGE;
}

static int parse_bytes(const char *text, bool hex, struct cli_val *out,
                       char *err, size_t errlen) {
  void *p;
  size_t n;
  int rc = hex ? cli_hex_decode(text, strlen(text), &p, &n)
               : cli_base64_decode(text, strlen(text), &p, &n);
  if (rc)
    return bad(err, errlen, text, FSC_TYPE_BYTES,
               hex ? "expected hex digits" : "expected base64 (or use --hex)");
  out->buf = p;
  out->v = fsc_bytes(p, n);
  return CLI_OK;
}

int cli_parse_value(const char *text, fsc_type t, bool hex,
                    struct cli_val *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  char *end;
  switch (t) {
  case FSC_TYPE_INT32:
  case FSC_TYPE_INT64: {
    errno = 0;
    long long x = strtoll(text, &end, 10);
    if (!*text || *end)
      return bad(err, errlen, text, t, NULL);
    if (errno == ERANGE ||
        (t == FSC_TYPE_INT32 && (x < INT32_MIN || x > INT32_MAX)))
      return bad(err, errlen, text, t, "out of range");
    out->v = t == FSC_TYPE_INT32 ? fsc_i32((int32_t)x) : fsc_i64(x);
    return CLI_OK;
  }
  case FSC_TYPE_INT128: {
    fsc_int128 x;
    if (cli_i128_parse(text, &x))
      return bad(err, errlen, text, t, "expected a decimal integer "
                                       "of at most 128 bits");
    out->v = fsc_i128(x);
    return CLI_OK;
  }
  case FSC_TYPE_BOOL:
    if (!strcmp(text, "true") || !strcmp(text, "True") ||
        !strcmp(text, "1") || !strcmp(text, "yes"))
      out->v = fsc_bool(true);
    else if (!strcmp(text, "false") || !strcmp(text, "False") ||
             !strcmp(text, "0") || !strcmp(text, "no"))
      out->v = fsc_bool(false);
    else
      return bad(err, errlen, text, t, "expected true or false");
    return CLI_OK;
  case FSC_TYPE_FLOAT: {
    double d;
    if (cli_f64_parse(text, &d))
      return bad(err, errlen, text, t, NULL);
    out->v = fsc_f64(d);
    return CLI_OK;
  }
  case FSC_TYPE_BYTES:
    return parse_bytes(text, hex, out, err, errlen);
  case FSC_TYPE_JSON:
    out->v = fsc_json(text, strlen(text));
    return CLI_OK;
  case FSC_TYPE_REF:
    out->v.type = FSC_TYPE_REF;
    out->v.u.buf.ptr = text;
    out->v.u.buf.len = strlen(text);
    return CLI_OK;
  case FSC_TYPE_STRING:
  default:
    out->v = fsc_strn(text, strlen(text));
    return CLI_OK;
  }
}

int cli_parse_key(const char *text, int key_type, bool hex,
                  struct cli_val *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (key_type == FSC_TYPE_BYTES)
    return parse_bytes(text, hex, out, err, errlen);
  out->v = fsc_strn(text, strlen(text));
  return CLI_OK;
}

void cli_print_value(FILE *f, const fsc_value *v, bool hex, bool raw) {
  char buf[48];
  switch (v->type) {
  case FSC_TYPE_INT32:
    fprintf(f, "%" PRId32, v->u.i32);
    break;
  case FSC_TYPE_INT64:
    fprintf(f, "%" PRId64, v->u.i64);
    break;
  case FSC_TYPE_INT128:
    cli_i128_format(v->u.i128, buf);
    fputs(buf, f);
    break;
  case FSC_TYPE_BOOL:
    fputs(v->u.b ? "true" : "false", f);
    break;
  case FSC_TYPE_FLOAT:
    f64_human(v->u.f, buf);
    fputs(buf, f);
    break;
  case FSC_TYPE_BYTES:
    if (!raw) {
      char *s = hex ? cli_hex_encode(v->u.buf.ptr, v->u.buf.len)
                    : cli_base64_encode(v->u.buf.ptr, v->u.buf.len);
      if (s)
        fputs(s, f);
      free(s);
      break;
    }
    /* fall through */
  default: /* string, json, ref */
    fwrite(v->u.buf.ptr, 1, v->u.buf.len, f);
    break;
  }
  if (!raw)
    fputc('\n', f);
}

/* ------------------------------------------------------------------ */
/* Values as JSON (the dump format)                                    */
/* ------------------------------------------------------------------ */

#define JSON_IN_FLAGS (JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)
#define JSON_OUT_FLAGS (JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER)

static int set_b64(json_t *obj, const void *p, size_t n) {
  char *s = cli_base64_encode(p, n);
  if (!s)
    return CLI_IO;
  json_object_set_new(obj, "b64", json_string(s));
  free(s);
  return CLI_OK;
}

int cli_value_to_json(json_t *obj, const fsc_value *v, bool tagged) {
  char buf[48];
  if (tagged)
    json_object_set_new(obj, "t", json_string(fsc_type_name(v->type)));
  const char *p = v->u.buf.ptr;
  size_t n = v->u.buf.len;
  json_t *j = NULL;
  switch (v->type) {
  case FSC_TYPE_INT32:
    j = json_integer(v->u.i32);
    break;
  case FSC_TYPE_INT64:
    j = json_integer(v->u.i64);
    break;
  case FSC_TYPE_INT128:
    cli_i128_format(v->u.i128, buf);
    j = json_string(buf);
    break;
  case FSC_TYPE_BOOL:
    j = json_boolean(v->u.b);
    break;
  case FSC_TYPE_FLOAT:
    cli_f64_format(v->u.f, buf);
    j = json_string(buf);
    break;
  case FSC_TYPE_BYTES: {
    char *s = cli_base64_encode(p, n);
    if (!s)
      return CLI_IO;
    j = json_string(s);
    free(s);
    break;
  }
  case FSC_TYPE_STRING:
  case FSC_TYPE_REF:
    j = json_stringn(p, n);
    if (!j) /* not UTF-8 (a ref's path may be any bytes) */
      return set_b64(obj, p, n);
    break;
  case FSC_TYPE_JSON: {
    /* The raw JSON value; its exact text too when re-encoding it would not
     * give the same bytes (spacing, number spelling), since json values
     * compare as text. */
    j = json_loadb(p, n, JSON_IN_FLAGS, NULL);
    bool exact = false;
    if (j) {
      char *re = json_dumps(j, JSON_OUT_FLAGS);
      exact = re && strlen(re) == n && memcmp(re, p, n) == 0;
      free(re);
      json_object_set_new(obj, "v", j);
    }
    if (!exact) {
      json_t *t = json_stringn(p, n);
      if (!t)
        return set_b64(obj, p, n);
      json_object_set_new(obj, "text", t);
    }
    return CLI_OK;
  }
  default:
    return CLI_USAGE;
  }
  if (!j)
    return CLI_IO;
  json_object_set_new(obj, "v", j);
  return CLI_OK;
}

json_t *cli_key_to_json(const fsc_value *k) {
  if (k->type == FSC_TYPE_BYTES) {
    char *s = cli_base64_encode(k->u.buf.ptr, k->u.buf.len);
    json_t *j = s ? json_string(s) : NULL;
    free(s);
    return j;
  }
  return json_stringn(k->u.buf.ptr, k->u.buf.len);
}

static int jbad(char *err, size_t errlen, const char *what, fsc_type t) {
  snprintf(err, errlen, "%s for %s", what, fsc_type_name(t));
  return CLI_USAGE;
}

/* A string member of the line, or NULL. */
static json_t *jstr(json_t *obj, const char *name) {
  json_t *j = json_object_get(obj, name);
  return json_is_string(j) ? j : NULL;
}

int cli_value_from_json(json_t *obj, int coll_type, struct cli_val *out,
                        char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  json_t *v = json_object_get(obj, "v");
  json_t *text = jstr(obj, "text"), *b64 = jstr(obj, "b64");
  json_t *tj = json_object_get(obj, "t");
  fsc_type t;
  if (tj) {
    int pt = json_is_string(tj) ? fsc_type_parse(json_string_value(tj)) : -1;
    if (pt < 0 || pt == FSC_TYPE_ANY || pt == FSC_TYPE_UNSPEC) {
      snprintf(err, errlen, "\"t\" is not a value type");
      return CLI_USAGE;
    }
    t = (fsc_type)pt;
    if (coll_type != FSC_TYPE_ANY && (int)t != coll_type) {
      snprintf(err, errlen, "a %s value in a collection of %s",
               fsc_type_name(t), fsc_type_name((fsc_type)coll_type));
      return CLI_USAGE;
    }
  } else if (coll_type != FSC_TYPE_ANY) {
    t = (fsc_type)coll_type;
  } else if (v) { /* an untagged value in an ANY collection: by its shape */
    t = json_is_string(v)    ? FSC_TYPE_STRING
        : json_is_integer(v) ? FSC_TYPE_INT64
        : json_is_real(v)    ? FSC_TYPE_FLOAT
        : json_is_boolean(v) ? FSC_TYPE_BOOL
                             : FSC_TYPE_JSON;
  } else {
    t = text ? FSC_TYPE_JSON : FSC_TYPE_BYTES;
  }
  out->v.type = t;
  bool isbuf = t == FSC_TYPE_STRING || t == FSC_TYPE_BYTES ||
               t == FSC_TYPE_JSON || t == FSC_TYPE_REF;
  if (isbuf && b64) {
    void *p;
    size_t n;
    if (cli_base64_decode(json_string_value(b64), json_string_length(b64), &p,
                          &n))
      return jbad(err, errlen, "\"b64\" is not base64", t);
    out->buf = p;
    out->v.u.buf.ptr = p;
    out->v.u.buf.len = n;
    return CLI_OK;
  }
  if (isbuf && text) { /* points into obj: keep obj until the write */
    out->v.u.buf.ptr = json_string_value(text);
    out->v.u.buf.len = json_string_length(text);
    return CLI_OK;
  }
  if (!v)
    return jbad(err, errlen, "no \"v\"", t);
  switch (t) {
  case FSC_TYPE_INT32:
  case FSC_TYPE_INT64: {
    long long x;
    if (json_is_integer(v)) {
      x = json_integer_value(v);
    } else if (json_is_string(v)) {
      char *end;
      errno = 0;
      x = strtoll(json_string_value(v), &end, 10);
      if (errno || *end || end == json_string_value(v))
        return jbad(err, errlen, "not an integer", t);
    } else {
      return jbad(err, errlen, "not an integer", t);
    }
    if (t == FSC_TYPE_INT32 && (x < INT32_MIN || x > INT32_MAX))
      return jbad(err, errlen, "out of range", t);
    if (t == FSC_TYPE_INT32)
      out->v.u.i32 = (int32_t)x;
    else
      out->v.u.i64 = x;
    return CLI_OK;
  }
  case FSC_TYPE_INT128:
    if (json_is_integer(v)) {
      long long x = json_integer_value(v);
      out->v.u.i128.lo = (uint64_t)x;
      out->v.u.i128.hi = x < 0 ? -1 : 0;
      return CLI_OK;
    }
    if (!json_is_string(v) ||
        cli_i128_parse(json_string_value(v), &out->v.u.i128))
      return jbad(err, errlen, "not a decimal 128-bit integer", t);
    return CLI_OK;
  case FSC_TYPE_BOOL:
    if (!json_is_boolean(v))
      return jbad(err, errlen, "not true or false", t);
    out->v.u.b = json_is_true(v);
    return CLI_OK;
  case FSC_TYPE_FLOAT:
    if (json_is_number(v)) {
      out->v.u.f = json_number_value(v);
      return CLI_OK;
    }
    if (!json_is_string(v) || cli_f64_parse(json_string_value(v), &out->v.u.f))
      return jbad(err, errlen, "not a float", t);
    return CLI_OK;
  case FSC_TYPE_BYTES: {
    void *p;
    size_t n;
    if (!json_is_string(v) ||
        cli_base64_decode(json_string_value(v), json_string_length(v), &p, &n))
      return jbad(err, errlen, "not base64", t);
    out->buf = p;
    out->v.u.buf.ptr = p;
    out->v.u.buf.len = n;
    return CLI_OK;
  }
  case FSC_TYPE_JSON: {
    char *s = json_dumps(v, JSON_OUT_FLAGS);
    if (!s)
      return jbad(err, errlen, "cannot encode the value", t);
    out->buf = s;
    out->v.u.buf.ptr = s;
    out->v.u.buf.len = strlen(s);
    return CLI_OK;
  }
  case FSC_TYPE_STRING:
  case FSC_TYPE_REF:
    if (!json_is_string(v))
      return jbad(err, errlen, "not a string", t);
    out->v.u.buf.ptr = json_string_value(v);
    out->v.u.buf.len = json_string_length(v);
    return CLI_OK;
  default:
    return jbad(err, errlen, "unknown type", t);
  }
}

int cli_key_from_json(json_t *k, int key_type, struct cli_val *out,
                      char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (!json_is_string(k)) {
    snprintf(err, errlen, "\"k\" is missing or not a string");
    return CLI_USAGE;
  }
  if (key_type == FSC_TYPE_BYTES) {
    void *p;
    size_t n;
    if (cli_base64_decode(json_string_value(k), json_string_length(k), &p,
                          &n)) {
      snprintf(err, errlen, "\"k\" is not base64 (the dict has bytes keys)");
      return CLI_USAGE;
    }
    out->buf = p;
    out->v = fsc_bytes(p, n);
    return CLI_OK;
  }
  out->v = fsc_strn(json_string_value(k), json_string_length(k));
  return CLI_OK;
}
