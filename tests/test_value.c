/*
 * test_value.c - values: constructors, type names, equality, error texts,
 * the thread-local error message, the version, and - through lists - the
 * checks a value passes before it is stored (type, UTF-8, JSON, ref, NULL
 * buffers), the round trip of every type, and the sort order across the
 * numeric types.
 */
#include "check_common.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* A private temporary list of element type t. */
static fsc_list *temp_list(fsc_type t) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = t;
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(NULL, &o, &l));
  ck_assert_ptr_nonnull(l);
  return l;
}

static uint64_t list_len(fsc_list *l) {
  uint64_t n = 0;
  ck_ok(fsc_list_len(l, &n));
  return n;
}

static fsc_value ref_value(const char *s, size_t n) {
  fsc_value v;
  memset(&v, 0, sizeof v);
  v.type = FSC_TYPE_REF;
  v.u.buf.ptr = s;
  v.u.buf.len = n;
  return v;
}

static fsc_value ref_str(const char *s) { return ref_value(s, strlen(s)); }

static uint64_t dbits(double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  return b;
}

static double from_bits(uint64_t b) {
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}

/* One valid sample value of each storable type (index = fsc_type). */
static const char REF_OK[] = "ref://fscollection:list?path=/tmp/some/list";
static fsc_value sample(fsc_type t) {
  switch (t) {
  case FSC_TYPE_INT32:
    return fsc_i32(7);
  case FSC_TYPE_INT64:
    return fsc_i64(7);
  case FSC_TYPE_INT128:
    return fsc_i128((fsc_int128){7, 0});
  case FSC_TYPE_STRING:
    return fsc_str("seven");
  case FSC_TYPE_BOOL:
    return fsc_bool(true);
  case FSC_TYPE_FLOAT:
    return fsc_f64(7.5);
  case FSC_TYPE_BYTES:
    return fsc_bytes("\0\1\2", 3);
  case FSC_TYPE_JSON:
    return fsc_json("{\"seven\":7}", 11);
  case FSC_TYPE_REF:
    return ref_str(REF_OK);
  default:
    ck_abort_msg("no sample for type %d", (int)t);
    return fsc_i32(0);
  }
}

/* Store v in a fresh list of type t, read it back, and check it equals
 * (same type, same bytes) what went in. */
static void roundtrip_in(fsc_type t, const fsc_value *v) {
  fsc_list *l = temp_list(t);
  ck_ok(fsc_list_append(l, v));
  ck_ok(fsc_list_insert(l, 0, v));
  fsc_value got[2];
  ck_ok(fsc_list_get(l, 0, &got[0]));
  ck_ok(fsc_list_get(l, -1, &got[1]));
  for (int k = 0; k < 2; k++) {
    ck_assert_int_eq(got[k].type, v->type);
    ck_assert_msg(fsc_value_equal(&got[k], v),
                  "round trip of a %s value in a %s list changed it",
                  fsc_type_name(v->type), fsc_type_name(t));
    if (v->type == FSC_TYPE_FLOAT)
      ck_assert_uint_eq(dbits(got[k].u.f), dbits(v->u.f));
    if (v->type == FSC_TYPE_STRING || v->type == FSC_TYPE_BYTES ||
        v->type == FSC_TYPE_JSON || v->type == FSC_TYPE_REF) {
      ck_assert_uint_eq(got[k].u.buf.len, v->u.buf.len);
      if (v->u.buf.len)
        ck_assert_int_eq(
            memcmp(got[k].u.buf.ptr, v->u.buf.ptr, v->u.buf.len), 0);
    }
  }
  /* The value is found by equality too. */
  uint64_t cnt = 0;
  ck_ok(fsc_list_count(l, v, &cnt));
  ck_assert_uint_eq(cnt, 2);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}

static void roundtrip(const fsc_value *v) {
  roundtrip_in(v->type, v);
  roundtrip_in(FSC_TYPE_ANY, v);
}

/* ------------------------------------------------------------------ */
/* Constructors                                                        */
/* ------------------------------------------------------------------ */

START_TEST(test_constructors_fixed) {
  fsc_value v = fsc_i32(INT32_MIN);
  ck_assert_int_eq(v.type, FSC_TYPE_INT32);
  ck_assert_int_eq(v.u.i32, INT32_MIN);
  v = fsc_i64(INT64_MAX);
  ck_assert_int_eq(v.type, FSC_TYPE_INT64);
  ck_assert(v.u.i64 == INT64_MAX);
  fsc_int128 big = {UINT64_C(0x0123456789abcdef), INT64_C(-5)};
  v = fsc_i128(big);
  ck_assert_int_eq(v.type, FSC_TYPE_INT128);
  ck_assert(v.u.i128.lo == big.lo && v.u.i128.hi == big.hi);
  v = fsc_bool(true);
  ck_assert_int_eq(v.type, FSC_TYPE_BOOL);
  ck_assert(v.u.b == true);
  v = fsc_bool(false);
  ck_assert(v.u.b == false);
  v = fsc_f64(-2.25);
  ck_assert_int_eq(v.type, FSC_TYPE_FLOAT);
  ck_assert(v.u.f == -2.25);
}
END_TEST

START_TEST(test_constructors_buffers) {
  const char *s = "h\xc3\xa9llo";
  fsc_value v = fsc_str(s);
  ck_assert_int_eq(v.type, FSC_TYPE_STRING);
  ck_assert_ptr_eq(v.u.buf.ptr, s);
  ck_assert_uint_eq(v.u.buf.len, 6);
  v = fsc_str("");
  ck_assert_uint_eq(v.u.buf.len, 0);
  v = fsc_str(NULL);
  ck_assert_int_eq(v.type, FSC_TYPE_STRING);
  ck_assert_uint_eq(v.u.buf.len, 0);
  v = fsc_strn("abcdef", 3);
  ck_assert_int_eq(v.type, FSC_TYPE_STRING);
  ck_assert_uint_eq(v.u.buf.len, 3);
  v = fsc_strn("a\0b", 3); /* not cut at the NUL */
  ck_assert_uint_eq(v.u.buf.len, 3);
  static const unsigned char raw[4] = {0, 0xff, 0, 1};
  v = fsc_bytes(raw, sizeof raw);
  ck_assert_int_eq(v.type, FSC_TYPE_BYTES);
  ck_assert_ptr_eq(v.u.buf.ptr, raw);
  ck_assert_uint_eq(v.u.buf.len, 4);
  v = fsc_json("[1,2]", 5);
  ck_assert_int_eq(v.type, FSC_TYPE_JSON);
  ck_assert_uint_eq(v.u.buf.len, 5);
  ck_assert_int_eq(memcmp(v.u.buf.ptr, "[1,2]", 5), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Type names                                                          */
/* ------------------------------------------------------------------ */

START_TEST(test_type_names) {
  static const struct {
    fsc_type t;
    const char *name;
  } names[] = {
      {FSC_TYPE_INT32, "int32"},   {FSC_TYPE_INT64, "int64"},
      {FSC_TYPE_INT128, "int128"}, {FSC_TYPE_STRING, "string"},
      {FSC_TYPE_BOOL, "bool"},     {FSC_TYPE_FLOAT, "float"},
      {FSC_TYPE_BYTES, "bytes"},   {FSC_TYPE_JSON, "json"},
      {FSC_TYPE_REF, "ref"},       {FSC_TYPE_ANY, "any"},
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    ck_assert_str_eq(fsc_type_name(names[i].t), names[i].name);
    ck_assert_int_eq(fsc_type_parse(names[i].name), (int)names[i].t);
    /* name -> type -> name */
    ck_assert_str_eq(fsc_type_name((fsc_type)fsc_type_parse(names[i].name)),
                     names[i].name);
  }
  /* Unknown types still get a non-NULL name. */
  ck_assert_ptr_nonnull(fsc_type_name((fsc_type)12));
  ck_assert_ptr_nonnull(fsc_type_name((fsc_type)999));
  ck_assert_ptr_nonnull(fsc_type_name((fsc_type)-1));
  ck_assert_ptr_nonnull(fsc_type_name(FSC_TYPE_UNSPEC));
  ck_assert_str_ne(fsc_type_name((fsc_type)999), "int32");
}
END_TEST

START_TEST(test_type_parse_aliases) {
  /* The seed's Python spellings. */
  ck_assert_int_eq(fsc_type_parse("int"), FSC_TYPE_INT64);
  ck_assert_int_eq(fsc_type_parse("str"), FSC_TYPE_STRING);
}
END_TEST

START_TEST(test_type_parse_unknown) {
  static const char *const bad[] = {"",       "integer", "Int32", "INT64",
                                    "string ", " str",   "int16", "double",
                                    "list",   "unknown", "refs",  "an"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ck_fsc(fsc_type_parse(bad[i]), FSC_EINVAL);
    ck_assert_str_ne(fsc_errmsg(), "");
  }
  ck_fsc(fsc_type_parse(NULL), FSC_EINVAL);
  ck_assert_str_ne(fsc_errmsg(), "");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Equality                                                            */
/* ------------------------------------------------------------------ */

START_TEST(test_equal_numbers) {
  fsc_value a = fsc_i32(1), b = fsc_i64(1), c = fsc_f64(1.0),
            d = fsc_bool(true), e = fsc_i128((fsc_int128){1, 0});
  /* Different types are different values, even when numerically equal. */
  ck_assert(!fsc_value_equal(&a, &b));
  ck_assert(!fsc_value_equal(&b, &a));
  ck_assert(!fsc_value_equal(&a, &c));
  ck_assert(!fsc_value_equal(&a, &d));
  ck_assert(!fsc_value_equal(&b, &e));
  ck_assert(!fsc_value_equal(&c, &d));
  /* Same type, same value. */
  fsc_value a2 = fsc_i32(1), b2 = fsc_i64(1), c2 = fsc_f64(1.0),
            d2 = fsc_bool(true), e2 = fsc_i128((fsc_int128){1, 0});
  ck_assert(fsc_value_equal(&a, &a2));
  ck_assert(fsc_value_equal(&b, &b2));
  ck_assert(fsc_value_equal(&c, &c2));
  ck_assert(fsc_value_equal(&d, &d2));
  ck_assert(fsc_value_equal(&e, &e2));
  ck_assert(fsc_value_equal(&a, &a)); /* reflexive */
  /* Same type, other value. */
  fsc_value a3 = fsc_i32(2), b3 = fsc_i64(-1), d3 = fsc_bool(false);
  ck_assert(!fsc_value_equal(&a, &a3));
  ck_assert(!fsc_value_equal(&b, &b3));
  ck_assert(!fsc_value_equal(&d, &d3));
  /* int128: both halves matter. */
  fsc_value h1 = fsc_i128((fsc_int128){1, 1}), h2 = fsc_i128((fsc_int128){1, 0}),
            h3 = fsc_i128((fsc_int128){0, 1});
  ck_assert(!fsc_value_equal(&h1, &h2));
  ck_assert(!fsc_value_equal(&h1, &h3));
  ck_assert(!fsc_value_equal(&h2, &h3));
}
END_TEST

START_TEST(test_equal_floats) {
  fsc_value n1 = fsc_f64(NAN), n2 = fsc_f64(NAN);
  ck_assert_uint_eq(dbits(n1.u.f), dbits(n2.u.f));
  ck_assert(fsc_value_equal(&n1, &n2)); /* same bits: equal */
  /* A NaN with another payload or sign has other bytes. */
  fsc_value n3 = fsc_f64(from_bits(dbits(NAN) | 1u));
  fsc_value n4 = fsc_f64(-NAN);
  ck_assert(isnan(n3.u.f) && isnan(n4.u.f));
  ck_assert(!fsc_value_equal(&n1, &n3));
  if (dbits(n4.u.f) != dbits(n1.u.f))
    ck_assert(!fsc_value_equal(&n1, &n4));
  fsc_value z = fsc_f64(0.0), mz = fsc_f64(-0.0);
  ck_assert(!fsc_value_equal(&z, &mz)); /* 0.0 and -0.0 differ */
  fsc_value z2 = fsc_f64(0.0);
  ck_assert(fsc_value_equal(&z, &z2));
  fsc_value inf = fsc_f64(INFINITY), ninf = fsc_f64(-INFINITY),
            inf2 = fsc_f64(HUGE_VAL);
  ck_assert(fsc_value_equal(&inf, &inf2));
  ck_assert(!fsc_value_equal(&inf, &ninf));
  fsc_value x = fsc_f64(0.1 + 0.2), y = fsc_f64(0.3);
  ck_assert(!fsc_value_equal(&x, &y));
}
END_TEST

START_TEST(test_equal_buffers) {
  char b1[] = "hello", b2[] = "hello", b3[] = "hellp";
  fsc_value s1 = fsc_str(b1), s2 = fsc_str(b2), s3 = fsc_str(b3);
  ck_assert_ptr_ne(s1.u.buf.ptr, s2.u.buf.ptr);
  ck_assert(fsc_value_equal(&s1, &s2)); /* by content, not pointer */
  ck_assert(!fsc_value_equal(&s1, &s3));
  fsc_value s4 = fsc_strn(b1, 4); /* a prefix is another value */
  ck_assert(!fsc_value_equal(&s1, &s4));
  ck_assert(!fsc_value_equal(&s4, &s1));
  /* Same bytes, other type. */
  fsc_value by = fsc_bytes(b1, 5), js = fsc_json("\"hi\"", 4),
            js2 = fsc_str("\"hi\"");
  ck_assert(!fsc_value_equal(&s1, &by));
  ck_assert(!fsc_value_equal(&js, &js2));
  fsc_value by2 = fsc_bytes(b2, 5);
  ck_assert(fsc_value_equal(&by, &by2));
  /* Bytes with NULs compare in full. */
  fsc_value z1 = fsc_bytes("a\0b", 3), z2 = fsc_bytes("a\0c", 3),
            z3 = fsc_bytes("a\0b", 3);
  ck_assert(!fsc_value_equal(&z1, &z2));
  ck_assert(fsc_value_equal(&z1, &z3));
  /* Empty values are equal whatever their pointer. */
  fsc_value e1 = fsc_strn(NULL, 0), e2 = fsc_str(""), e3 = fsc_bytes(NULL, 0),
            e4 = fsc_bytes("x", 0);
  ck_assert(fsc_value_equal(&e1, &e2));
  ck_assert(fsc_value_equal(&e3, &e4));
  ck_assert(!fsc_value_equal(&e1, &e3));
  /* JSON compares as text: same document, other spelling, differs. */
  fsc_value j1 = fsc_json("{\"a\":1}", 7), j2 = fsc_json("{ \"a\":1}", 8),
            j3 = fsc_json("{\"a\":1}", 7);
  ck_assert(!fsc_value_equal(&j1, &j2));
  ck_assert(fsc_value_equal(&j1, &j3));
  fsc_value r1 = ref_str(REF_OK), r2 = ref_str(REF_OK), r3 = fsc_str(REF_OK);
  ck_assert(fsc_value_equal(&r1, &r2));
  ck_assert(!fsc_value_equal(&r1, &r3));
}
END_TEST

START_TEST(test_equal_null_and_invalid) {
  fsc_value a = fsc_i32(1);
  ck_assert(!fsc_value_equal(NULL, &a));
  ck_assert(!fsc_value_equal(&a, NULL));
  ck_assert(!fsc_value_equal(NULL, NULL));
  fsc_value u1, u2;
  memset(&u1, 0, sizeof u1);
  memset(&u2, 0, sizeof u2);
  u1.type = u2.type = FSC_TYPE_UNSPEC;
  ck_assert(!fsc_value_equal(&u1, &u2)); /* not a value type */
  u1.type = u2.type = FSC_TYPE_ANY;
  ck_assert(!fsc_value_equal(&u1, &u2));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Errors, messages, version                                           */
/* ------------------------------------------------------------------ */

START_TEST(test_strerror_every_code) {
  static const struct {
    int code;
    const char *text;
  } codes[] = {
#define X(name, code, text) {FSC_##name, text},
      FSC_ERRNO_MAP(X)
#undef X
  };
  size_t n = sizeof codes / sizeof codes[0];
  ck_assert_uint_eq(n, 18);
  for (size_t i = 0; i < n; i++) {
    ck_assert_int_lt(codes[i].code, 0);
    ck_assert_ptr_nonnull(fsc_strerror(codes[i].code));
    ck_assert_str_eq(fsc_strerror(codes[i].code), codes[i].text);
    for (size_t j = 0; j < i; j++) {
      ck_assert_int_ne(codes[i].code, codes[j].code);
      ck_assert_str_ne(codes[i].text, codes[j].text);
    }
  }
  /* The texts users of the Python fscollections package know. */
  ck_assert_str_eq(fsc_strerror(FSC_ECLOSED), "I/O operation on closed file.");
  ck_assert_str_eq(fsc_strerror(FSC_EINDEX), "list index out of range");
  /* Codes live outside the -errno range. */
  ck_assert_int_lt(FSC_EINDEX, -4096);
  /* Unknown codes and 0: a text, never NULL, not one of the codes'. */
  static const int unknown[] = {-1, -22, 1, 12345, -30899, -30918, INT32_MIN,
                                INT32_MAX};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    const char *t = fsc_strerror(unknown[i]);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_ne(t, "");
    for (size_t j = 0; j < n; j++)
      ck_assert_str_ne(t, codes[j].text);
  }
  ck_assert_ptr_nonnull(fsc_strerror(0));
  ck_assert_str_ne(fsc_strerror(0), "");
  for (size_t j = 0; j < n; j++)
    ck_assert_str_ne(fsc_strerror(0), codes[j].text);
  ck_assert_int_eq(FSC_OK, 0);
}
END_TEST

struct tl_ctx {
  pthread_barrier_t *bar;
  char seen_at_start[64];
  char mine[256];
  char after_other[256];
};

static void *errmsg_thread(void *arg) {
  struct tl_ctx *t = arg;
  snprintf(t->seen_at_start, sizeof t->seen_at_start, "%s", fsc_errmsg());
  int rc = fsc_type_parse("thread-only-name");
  if (rc != FSC_EINVAL)
    snprintf(t->mine, sizeof t->mine, "rc=%d", rc);
  else
    snprintf(t->mine, sizeof t->mine, "%s", fsc_errmsg());
  pthread_barrier_wait(t->bar); /* both threads have their message */
  pthread_barrier_wait(t->bar); /* main has set another one */
  snprintf(t->after_other, sizeof t->after_other, "%s", fsc_errmsg());
  return NULL;
}

START_TEST(test_errmsg_thread_local) {
  ck_assert_ptr_nonnull(fsc_errmsg());
  ck_fsc(fsc_type_parse("main-thread-name"), FSC_EINVAL);
  ck_assert_ptr_nonnull(strstr(fsc_errmsg(), "main-thread-name"));
  pthread_barrier_t bar;
  pthread_barrier_init(&bar, NULL, 2);
  struct tl_ctx t;
  memset(&t, 0, sizeof t);
  t.bar = &bar;
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, errmsg_thread, &t), 0);
  pthread_barrier_wait(&bar);
  /* The thread's failure did not touch this thread's message. */
  ck_assert_ptr_nonnull(strstr(fsc_errmsg(), "main-thread-name"));
  ck_assert_ptr_null(strstr(fsc_errmsg(), "thread-only-name"));
  /* A new failure here is not seen there. */
  ck_fsc(fsc_type_parse("second-main-name"), FSC_EINVAL);
  pthread_barrier_wait(&bar);
  pthread_join(th, NULL);
  pthread_barrier_destroy(&bar);
  ck_assert_str_eq(t.seen_at_start, ""); /* fresh thread: no message */
  ck_assert_msg(strstr(t.mine, "thread-only-name") != NULL, "thread saw '%s'",
                t.mine);
  ck_assert_msg(strstr(t.after_other, "thread-only-name") != NULL,
                "thread saw '%s'", t.after_other);
  ck_assert_ptr_null(strstr(t.after_other, "main"));
  ck_assert_ptr_nonnull(strstr(fsc_errmsg(), "second-main-name"));
}
END_TEST

START_TEST(test_errmsg_of_list_failure) {
  fsc_list *l = temp_list(FSC_TYPE_ANY);
  fsc_value v;
  ck_fsc(fsc_list_get(l, 0, &v), FSC_EINDEX);
  ck_assert_str_ne(fsc_errmsg(), "");
  /* Another thread meanwhile sees nothing of it. */
  struct tl_ctx t;
  memset(&t, 0, sizeof t);
  pthread_barrier_t bar;
  pthread_barrier_init(&bar, NULL, 2);
  t.bar = &bar;
  pthread_t th;
  ck_assert_int_eq(pthread_create(&th, NULL, errmsg_thread, &t), 0);
  pthread_barrier_wait(&bar);
  pthread_barrier_wait(&bar);
  pthread_join(th, NULL);
  pthread_barrier_destroy(&bar);
  ck_assert_str_eq(t.seen_at_start, "");
  ck_assert_str_ne(fsc_errmsg(), "");
  ck_assert_ptr_null(strstr(fsc_errmsg(), "thread-only-name"));
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(test_version) {
  ck_assert_ptr_nonnull(fsc_version());
  ck_assert_str_eq(fsc_version(), FSC_VERSION_STRING);
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", FSC_VERSION_MAJOR,
           FSC_VERSION_MINOR, FSC_VERSION_PATCH);
  ck_assert_str_eq(fsc_version(), want);
  ck_assert_str_eq(fsc_version(), "0.1.0");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Type checks through a list                                          */
/* ------------------------------------------------------------------ */

static const fsc_type value_types[] = {
    FSC_TYPE_INT32, FSC_TYPE_INT64, FSC_TYPE_INT128, FSC_TYPE_STRING,
    FSC_TYPE_BOOL,  FSC_TYPE_FLOAT, FSC_TYPE_BYTES,  FSC_TYPE_JSON,
    FSC_TYPE_REF};
#define NTYPES (sizeof value_types / sizeof value_types[0])

START_TEST(test_wrong_type_every_pair) {
  for (size_t ci = 0; ci < NTYPES; ci++) {
    fsc_type ct = value_types[ci];
    fsc_list *l = temp_list(ct);
    ck_assert_int_eq(fsc_list_type(l), (int)ct);
    fsc_value good = sample(ct);
    ck_ok(fsc_list_append(l, &good));
    for (size_t vi = 0; vi < NTYPES; vi++) {
      fsc_type vt = value_types[vi];
      if (vt == ct)
        continue;
      fsc_value bad = sample(vt);
      char want[128];
      snprintf(want, sizeof want, "Expected %s for %s, got %s",
               fsc_type_name(ct), fsc_type_name(ct), fsc_type_name(vt));
      ck_fsc(fsc_list_append(l, &bad), FSC_ETYPE);
      ck_assert_str_eq(fsc_errmsg(), want);
      ck_fsc(fsc_list_set(l, 0, &bad), FSC_ETYPE);
      ck_assert_str_eq(fsc_errmsg(), want);
      ck_fsc(fsc_list_insert(l, 0, &bad), FSC_ETYPE);
      ck_assert_str_eq(fsc_errmsg(), want);
      fsc_value two[2] = {good, bad};
      ck_fsc(fsc_list_extend(l, two, 2), FSC_ETYPE);
      ck_assert_str_eq(fsc_errmsg(), want);
    }
    /* Nothing of that was stored. */
    ck_assert_uint_eq(list_len(l), 1);
    fsc_value got;
    ck_ok(fsc_list_get(l, 0, &got));
    ck_assert(fsc_value_equal(&got, &good));
    ck_ok(fsc_list_close(l));
    fsc_list_free(l);
  }
}
END_TEST

START_TEST(test_exact_seed_message) {
  fsc_list *l = temp_list(FSC_TYPE_FLOAT);
  fsc_value s = fsc_str("3.5");
  ck_fsc(fsc_list_append(l, &s), FSC_ETYPE);
  ck_assert_str_eq(fsc_errmsg(), "Expected float for float, got string");
  ck_fsc(fsc_list_append_str(l, "x"), FSC_ETYPE);
  ck_assert_str_eq(fsc_errmsg(), "Expected float for float, got string");
  ck_fsc(fsc_list_append_i64(l, 3), FSC_ETYPE);
  ck_assert_str_eq(fsc_errmsg(), "Expected float for float, got int64");
  ck_ok(fsc_list_append_f64(l, 3.5));
  ck_assert_uint_eq(list_len(l), 1);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(test_any_list_takes_every_type) {
  fsc_list *l = temp_list(FSC_TYPE_ANY);
  ck_assert_int_eq(fsc_list_type(l), FSC_TYPE_ANY);
  for (size_t i = 0; i < NTYPES; i++) {
    fsc_value v = sample(value_types[i]);
    ck_ok(fsc_list_append(l, &v));
  }
  ck_assert_uint_eq(list_len(l), NTYPES);
  for (size_t i = 0; i < NTYPES; i++) {
    fsc_value v = sample(value_types[i]), got;
    ck_ok(fsc_list_get(l, (int64_t)i, &got));
    ck_assert_int_eq(got.type, value_types[i]);
    ck_assert(fsc_value_equal(&got, &v));
  }
  /* Not-a-value types are refused even by an ANY list. */
  static const int bad_types[] = {FSC_TYPE_UNSPEC, FSC_TYPE_ANY, 10, 14, 16,
                                  255, -1};
  for (size_t i = 0; i < sizeof bad_types / sizeof bad_types[0]; i++) {
    fsc_value v;
    memset(&v, 0, sizeof v);
    v.type = (fsc_type)bad_types[i];
    int rc = fsc_list_append(l, &v);
    ck_assert_msg(rc == FSC_ETYPE || rc == FSC_EINVAL,
                  "type %d: append returned %d", bad_types[i], rc);
  }
  ck_assert_uint_eq(list_len(l), NTYPES);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* UTF-8                                                               */
/* ------------------------------------------------------------------ */

struct bytestr {
  const char *s;
  size_t n;
  const char *what;
};
#define BS(lit, what) {lit, sizeof(lit) - 1, what}

static const struct bytestr bad_utf8[] = {
    BS("\xc0\x80", "overlong NUL (2 bytes)"),
    BS("\xc1\xbf", "overlong 2-byte"),
    BS("\xe0\x80\x80", "overlong 3-byte"),
    BS("\xe0\x9f\xbf", "overlong 3-byte (U+07FF)"),
    BS("\xf0\x80\x80\x80", "overlong 4-byte"),
    BS("\xf0\x8f\xbf\xbf", "overlong 4-byte (U+FFFF)"),
    BS("\xed\xa0\x80", "surrogate U+D800"),
    BS("\xed\xbf\xbf", "surrogate U+DFFF"),
    BS("\xed\xa0\xbd\xed\xb8\x80", "surrogate pair (CESU-8)"),
    BS("\xc3", "truncated 2-byte at end"),
    BS("\xe2\x82", "truncated 3-byte at end"),
    BS("\xf0\x9f\x98", "truncated 4-byte at end"),
    BS("ab\xe2\x82z", "truncated 3-byte before ASCII"),
    /* Cut by the length, with the rest of the sequence in memory after it
     * (the validator must not read past len). */
    {"\xc3\xa9", 1, "2-byte cut by length"},
    {"\xe2\x82\xac", 2, "3-byte cut by length"},
    {"\xf0\x9f\x98\x80", 3, "4-byte cut by length"},
    {"ok\xf0\x9f\x98\x80", 4, "4-byte cut by length after ASCII"},
    BS("\xc3\x28", "bad continuation"),
    BS("\xf4\x90\x80\x80", "U+110000"),
    BS("\xf5\x80\x80\x80", "lead byte F5"),
    BS("\xf7\xbf\xbf\xbf", "lead byte F7"),
    BS("\xf8\x88\x80\x80\x80", "5-byte form"),
    BS("\xfc\x84\x80\x80\x80\x80", "6-byte form"),
    BS("\x80", "lone continuation"),
    BS("a\xbfz", "lone continuation inside"),
    BS("\xfe", "FE"),
    BS("\xff", "FF"),
    BS("valid prefix \xe2\x82\xac then \xff", "bad byte after valid text"),
};

static const struct bytestr good_utf8[] = {
    BS("", "empty"),
    BS("plain ascii", "ascii"),
    BS("a\0b", "embedded NUL (U+0000)"),
    BS("\x7f", "U+007F"),
    BS("\xc2\x80", "U+0080"),
    BS("caf\xc3\xa9", "2-byte"),
    BS("\xdf\xbf", "U+07FF"),
    BS("\xe0\xa0\x80", "U+0800"),
    BS("\xe2\x82\xac", "euro sign"),
    BS("\xed\x9f\xbf", "U+D7FF (just below surrogates)"),
    BS("\xee\x80\x80", "U+E000 (just above surrogates)"),
    BS("\xef\xbf\xbf", "U+FFFF"),
    BS("\xf0\x90\x80\x80", "U+10000"),
    BS("\xf0\x9f\x98\x80", "emoji"),
    BS("\xf4\x8f\xbf\xbf", "U+10FFFF"),
    BS("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e mixed \xd0\x96 \xf0\x9f\x8e\x89",
       "mixed"),
};

START_TEST(test_utf8_invalid_rejected) {
  fsc_type types[2] = {FSC_TYPE_STRING, FSC_TYPE_ANY};
  for (int k = 0; k < 2; k++) {
    fsc_list *l = temp_list(types[k]);
    fsc_value keep = fsc_str("keep");
    ck_ok(fsc_list_append(l, &keep));
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
      fsc_value v = fsc_strn(bad_utf8[i].s, bad_utf8[i].n);
      int rc = fsc_list_append(l, &v);
      ck_assert_msg(rc == FSC_ETYPE, "%s list accepted %s (rc %d)",
                    fsc_type_name(types[k]), bad_utf8[i].what, rc);
      ck_assert_str_ne(fsc_errmsg(), "");
      ck_fsc(fsc_list_set(l, 0, &v), FSC_ETYPE);
      ck_fsc(fsc_list_insert(l, 0, &v), FSC_ETYPE);
    }
    ck_assert_uint_eq(list_len(l), 1);
    fsc_value got;
    ck_ok(fsc_list_get(l, 0, &got));
    ck_assert(fsc_value_equal(&got, &keep));
    ck_ok(fsc_list_close(l));
    fsc_list_free(l);
  }
}
END_TEST

START_TEST(test_utf8_valid_accepted) {
  fsc_list *l = temp_list(FSC_TYPE_STRING);
  size_t n = sizeof good_utf8 / sizeof good_utf8[0];
  for (size_t i = 0; i < n; i++) {
    fsc_value v = fsc_strn(good_utf8[i].s, good_utf8[i].n);
    int rc = fsc_list_append(l, &v);
    ck_assert_msg(rc == 0, "refused %s: %s", good_utf8[i].what, fsc_errmsg());
  }
  ck_assert_uint_eq(list_len(l), n);
  for (size_t i = 0; i < n; i++) {
    const char *p;
    size_t len;
    ck_ok(fsc_list_get_str(l, (int64_t)i, &p, &len));
    ck_assert_uint_eq(len, good_utf8[i].n);
    ck_assert_int_eq(memcmp(p, good_utf8[i].s, len), 0);
  }
  /* Bytes are not validated: invalid UTF-8 is fine there. */
  fsc_list *b = temp_list(FSC_TYPE_BYTES);
  for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
    fsc_value v = fsc_bytes(bad_utf8[i].s, bad_utf8[i].n);
    ck_ok(fsc_list_append(b, &v));
  }
  ck_ok(fsc_list_close(b));
  fsc_list_free(b);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* JSON                                                                */
/* ------------------------------------------------------------------ */

static const struct bytestr bad_json[] = {
    BS("", "empty"),
    BS("   ", "only whitespace"),
    BS("{", "unclosed object"),
    BS("[1, 2", "unclosed array"),
    BS("{'a': 1}", "single quotes"),
    BS("{a: 1}", "bare key"),
    BS("[1,]", "trailing comma"),
    BS("tru", "truncated literal"),
    BS("True", "Python literal"),
    BS("None", "Python None"),
    BS("NaN", "NaN"),
    BS("01", "leading zero"),
    BS("{\"a\":1} x", "trailing garbage"),
    BS("[1] [2]", "two documents"),
    BS("\"unterminated", "unterminated string"),
    BS("\"bad \xff utf8\"", "invalid UTF-8 inside a string"),
    BS("// comment\n1", "comment"),
};

static const struct bytestr good_json[] = {
    BS("{}", "empty object"),
    BS("[]", "empty array"),
    BS("{\"a\": [1, 2.5, {\"b\": null}], \"c\": \"d\"}", "nested object"),
    BS("[1, \"two\", true, false, null, {\"x\": []}]", "array"),
    BS("42", "integer scalar"),
    BS("-1.5e10", "float scalar"),
    BS("\"text\"", "string scalar"),
    BS("\"caf\xc3\xa9 \\u00e9 \\ud83d\\ude00\"", "unicode string"),
    BS("true", "true"),
    BS("false", "false"),
    BS("null", "null"),
    BS("  \n{ \"spaced\" : 1 }\t ", "surrounding whitespace"),
};

START_TEST(test_json_invalid_rejected) {
  fsc_type types[2] = {FSC_TYPE_JSON, FSC_TYPE_ANY};
  for (int k = 0; k < 2; k++) {
    fsc_list *l = temp_list(types[k]);
    for (size_t i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
      fsc_value v = fsc_json(bad_json[i].s, bad_json[i].n);
      int rc = fsc_list_append(l, &v);
      ck_assert_msg(rc == FSC_ETYPE, "%s list accepted JSON %s (rc %d)",
                    fsc_type_name(types[k]), bad_json[i].what, rc);
      ck_assert_str_ne(fsc_errmsg(), "");
    }
    ck_assert_uint_eq(list_len(l), 0);
    ck_ok(fsc_list_close(l));
    fsc_list_free(l);
  }
}
END_TEST

START_TEST(test_json_valid_accepted) {
  fsc_list *l = temp_list(FSC_TYPE_JSON);
  size_t n = sizeof good_json / sizeof good_json[0];
  for (size_t i = 0; i < n; i++) {
    fsc_value v = fsc_json(good_json[i].s, good_json[i].n);
    int rc = fsc_list_append(l, &v);
    ck_assert_msg(rc == 0, "refused JSON %s: %s", good_json[i].what,
                  fsc_errmsg());
  }
  ck_assert_uint_eq(list_len(l), n);
  for (size_t i = 0; i < n; i++) {
    fsc_value got;
    ck_ok(fsc_list_get(l, (int64_t)i, &got));
    ck_assert_int_eq(got.type, FSC_TYPE_JSON);
    /* Stored as text, byte for byte. */
    ck_assert_uint_eq(got.u.buf.len, good_json[i].n);
    ck_assert_int_eq(memcmp(got.u.buf.ptr, good_json[i].s, got.u.buf.len),
                     0);
  }
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Refs                                                                */
/* ------------------------------------------------------------------ */

START_TEST(test_ref_syntax) {
  static const char *const good[] = {
      "ref://fscollection:list?path=/tmp/x",
      "ref://fscollection:dict?path=relative/db",
      "ref://fscollection:set?path=s",
      "ref://fscollection:list?path=/with spaces/and?query=1",
  };
  static const struct bytestr bad[] = {
      BS("", "empty"),
      BS("ref://fscollection:list?path=", "empty path"),
      BS("ref://fscollection:list", "no path"),
      BS("ref://fscollection:list?", "no path key"),
      BS("ref://fscollection:queue?path=x", "unknown kind"),
      BS("ref://fscollection:lists?path=x", "kind with suffix"),
      BS("ref://fscollection:?path=x", "empty kind"),
      BS("ref://fscollection:List?path=x", "kind in capitals"),
      BS("ref://fscollection:list?paths=x", "other key"),
      BS("ref://fscollection:list&path=x", "other separator"),
      BS("ref://fscollections:list?path=x", "other scheme host"),
      BS("REF://fscollection:list?path=x", "scheme in capitals"),
      BS("fscollection:list?path=x", "no scheme"),
      BS(" ref://fscollection:list?path=x", "leading space"),
      BS("ref://fscollection:list?path=a\0b", "NUL in path"),
      BS("/tmp/x", "bare path"),
  };
  fsc_type types[2] = {FSC_TYPE_REF, FSC_TYPE_ANY};
  for (int k = 0; k < 2; k++) {
    fsc_list *l = temp_list(types[k]);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
      fsc_value v = ref_str(good[i]);
      int rc = fsc_list_append(l, &v);
      ck_assert_msg(rc == 0, "refused ref %s: %s", good[i], fsc_errmsg());
      fsc_value got;
      ck_ok(fsc_list_get(l, -1, &got));
      ck_assert_int_eq(got.type, FSC_TYPE_REF);
      ck_assert(fsc_value_equal(&got, &v));
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
      fsc_value v = ref_value(bad[i].s, bad[i].n);
      int rc = fsc_list_append(l, &v);
      ck_assert_msg(rc == FSC_ETYPE, "accepted ref %s (rc %d)", bad[i].what,
                    rc);
      ck_assert_str_ne(fsc_errmsg(), "");
    }
    ck_assert_uint_eq(list_len(l), sizeof good / sizeof good[0]);
    /* A string that looks like a ref is a string, and a ref list refuses
     * it. */
    fsc_value s = fsc_str(good[0]);
    if (types[k] == FSC_TYPE_REF)
      ck_fsc(fsc_list_append(l, &s), FSC_ETYPE);
    ck_ok(fsc_list_close(l));
    fsc_list_free(l);
  }
}
END_TEST

/* ------------------------------------------------------------------ */
/* NULL buffers                                                        */
/* ------------------------------------------------------------------ */

START_TEST(test_null_pointer_with_length) {
  fsc_type bufs[4] = {FSC_TYPE_STRING, FSC_TYPE_BYTES, FSC_TYPE_JSON,
                      FSC_TYPE_REF};
  for (int k = 0; k < 4; k++) {
    fsc_type lts[2] = {bufs[k], FSC_TYPE_ANY};
    for (int j = 0; j < 2; j++) {
      fsc_list *l = temp_list(lts[j]);
      fsc_value v;
      memset(&v, 0, sizeof v);
      v.type = bufs[k];
      v.u.buf.ptr = NULL;
      v.u.buf.len = 5;
      ck_fsc(fsc_list_append(l, &v), FSC_EINVAL);
      ck_assert_str_ne(fsc_errmsg(), "");
      ck_fsc(fsc_list_insert(l, 0, &v), FSC_EINVAL);
      ck_fsc(fsc_list_extend(l, &v, 1), FSC_EINVAL);
      ck_assert_uint_eq(list_len(l), 0);
      ck_ok(fsc_list_close(l));
      fsc_list_free(l);
    }
  }
  /* NULL with length 0 is an empty string / bytes. */
  fsc_list *l = temp_list(FSC_TYPE_ANY);
  fsc_value es = fsc_strn(NULL, 0), eb = fsc_bytes(NULL, 0);
  ck_ok(fsc_list_append(l, &es));
  ck_ok(fsc_list_append(l, &eb));
  fsc_value got;
  ck_ok(fsc_list_get(l, 0, &got));
  ck_assert_int_eq(got.type, FSC_TYPE_STRING);
  ck_assert_uint_eq(got.u.buf.len, 0);
  ck_ok(fsc_list_get(l, 1, &got));
  ck_assert_int_eq(got.type, FSC_TYPE_BYTES);
  ck_assert_uint_eq(got.u.buf.len, 0);
  /* A NULL value pointer. */
  ck_fsc(fsc_list_append(l, NULL), FSC_EINVAL);
  ck_fsc(fsc_list_append_str(l, NULL), FSC_EINVAL);
  ck_assert_uint_eq(list_len(l), 2);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Round trips                                                         */
/* ------------------------------------------------------------------ */

START_TEST(test_roundtrip_integers) {
  int32_t i32s[] = {0, 1, -1, INT32_MIN, INT32_MAX, 0x12345678};
  for (size_t i = 0; i < sizeof i32s / sizeof i32s[0]; i++) {
    fsc_value v = fsc_i32(i32s[i]);
    roundtrip(&v);
  }
  int64_t i64s[] = {0, 1, -1, INT64_MIN, INT64_MAX, INT64_C(0x0102030405060708)};
  for (size_t i = 0; i < sizeof i64s / sizeof i64s[0]; i++) {
    fsc_value v = fsc_i64(i64s[i]);
    roundtrip(&v);
  }
  fsc_int128 i128s[] = {
      {0, 0},
      {1, 0},
      {UINT64_MAX, -1},              /* -1 */
      {0, INT64_MIN},                /* min: -2^127 */
      {UINT64_MAX, INT64_MAX},       /* max: 2^127 - 1 */
      {0, 1},                        /* 2^64 */
      {UINT64_MAX, 0},               /* 2^64 - 1 */
      {UINT64_C(0x8000000000000000), -1}, /* -2^63 */
  };
  for (size_t i = 0; i < sizeof i128s / sizeof i128s[0]; i++) {
    fsc_value v = fsc_i128(i128s[i]);
    roundtrip(&v);
  }
  /* The extremes come back exactly, field by field. */
  fsc_list *l = temp_list(FSC_TYPE_INT128);
  fsc_value mn = fsc_i128(i128s[3]), mx = fsc_i128(i128s[4]);
  ck_ok(fsc_list_append(l, &mn));
  ck_ok(fsc_list_append(l, &mx));
  fsc_value got;
  ck_ok(fsc_list_get(l, 0, &got));
  ck_assert(got.u.i128.hi == INT64_MIN && got.u.i128.lo == 0);
  ck_ok(fsc_list_get(l, 1, &got));
  ck_assert(got.u.i128.hi == INT64_MAX && got.u.i128.lo == UINT64_MAX);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
  fsc_value t = fsc_bool(true), f = fsc_bool(false);
  roundtrip(&t);
  roundtrip(&f);
}
END_TEST

START_TEST(test_roundtrip_floats) {
  double ds[] = {0.0,      -0.0,     1.5,      -1e308,   DBL_MAX, -DBL_MAX,
                 DBL_MIN,  4.9e-324, INFINITY, -INFINITY, NAN,    -NAN,
                 from_bits(UINT64_C(0x7ff0000000000001)), /* signalling */
                 from_bits(UINT64_C(0x7ff8dead0000beef))};
  for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
    fsc_value v = fsc_f64(ds[i]);
    roundtrip(&v);
  }
  fsc_list *l = temp_list(FSC_TYPE_FLOAT);
  ck_ok(fsc_list_append_f64(l, -0.0));
  ck_ok(fsc_list_append_f64(l, INFINITY));
  ck_ok(fsc_list_append_f64(l, NAN));
  double d;
  ck_ok(fsc_list_get_f64(l, 0, &d));
  ck_assert(d == 0.0 && signbit(d));
  ck_ok(fsc_list_get_f64(l, 1, &d));
  ck_assert(isinf(d) && d > 0);
  ck_ok(fsc_list_get_f64(l, 2, &d));
  ck_assert(isnan(d));
  /* -0.0 and 0.0 are different values to count/index. */
  fsc_value z = fsc_f64(0.0), mz = fsc_f64(-0.0), n = fsc_f64(NAN);
  uint64_t c;
  ck_ok(fsc_list_count(l, &z, &c));
  ck_assert_uint_eq(c, 0);
  ck_ok(fsc_list_count(l, &mz, &c));
  ck_assert_uint_eq(c, 1);
  ck_assert_int_eq(fsc_list_contains(l, &n), 1); /* NaN found by its bits */
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(test_roundtrip_buffers) {
  fsc_value es = fsc_str(""), eb = fsc_bytes("", 0);
  roundtrip(&es);
  roundtrip(&eb);
  static const unsigned char nuls[] = {0, 0, 'a', 0, 0xff, 0, 0};
  fsc_value bn = fsc_bytes(nuls, sizeof nuls);
  roundtrip(&bn);
  fsc_value sn = fsc_strn("x\0y\0", 4);
  roundtrip(&sn);
  /* Every byte value. */
  unsigned char all[256];
  for (int i = 0; i < 256; i++)
    all[i] = (unsigned char)i;
  fsc_value ba = fsc_bytes(all, sizeof all);
  roundtrip(&ba);
  /* Lengths around the 8-byte record alignment. */
  char buf[40];
  memset(buf, 'q', sizeof buf);
  for (size_t n = 0; n < sizeof buf; n++) {
    fsc_value s = fsc_strn(buf, n), b = fsc_bytes(buf, n);
    roundtrip(&s);
    roundtrip(&b);
  }
  /* A large value (bigger than the initial data file). */
  size_t big = 600 * 1024;
  unsigned char *p = malloc(big);
  ck_assert_ptr_nonnull(p);
  for (size_t i = 0; i < big; i++)
    p[i] = (unsigned char)(i * 131 + 7);
  fsc_value bb = fsc_bytes(p, big);
  roundtrip(&bb);
  free(p);
  fsc_value j = fsc_json("{\"k\":[1,2,3]}", 13);
  roundtrip(&j);
  fsc_value r = ref_str(REF_OK);
  roundtrip(&r);
}
END_TEST

START_TEST(test_views_not_nul_terminated) {
  /* Views point into the file; the header says they are not terminated,
   * so only ptr/len matter - and consecutive values do not bleed. */
  fsc_list *l = temp_list(FSC_TYPE_STRING);
  ck_ok(fsc_list_append_str(l, "abc"));
  ck_ok(fsc_list_append_str(l, "defgh"));
  const char *p;
  size_t n;
  ck_ok(fsc_list_get_str(l, 0, &p, &n));
  ck_assert_uint_eq(n, 3);
  ck_assert_int_eq(memcmp(p, "abc", 3), 0);
  ck_ok(fsc_list_get_str(l, 1, &p, &n));
  ck_assert_uint_eq(n, 5);
  ck_assert_int_eq(memcmp(p, "defgh", 5), 0);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Sort order across types                                             */
/* ------------------------------------------------------------------ */

/* Values whose sorted order is known; the index in this array is the
 * identity checked after sorting. */
static fsc_value mixed_numbers[17];
static void init_mixed(void) {
  const double two64 = 18446744073709551616.0;
  mixed_numbers[0] = fsc_i64(3);
  mixed_numbers[1] = fsc_f64(2.5);
  mixed_numbers[2] = fsc_i32(-1);
  mixed_numbers[3] = fsc_bool(true);
  mixed_numbers[4] = fsc_i128((fsc_int128){0, 1}); /* 2^64 */
  mixed_numbers[5] = fsc_f64(-INFINITY);
  mixed_numbers[6] = fsc_bool(false);
  mixed_numbers[7] = fsc_i128((fsc_int128){0, -(INT64_C(1) << 36)}); /* -2^100 */
  mixed_numbers[8] = fsc_f64(INFINITY);
  mixed_numbers[9] = fsc_f64(two64); /* == [4] */
  mixed_numbers[10] = fsc_i32(1);    /* == [3] */
  mixed_numbers[11] = fsc_i64(INT64_MAX);
  mixed_numbers[12] = fsc_f64(9223372036854775808.0); /* 2^63 > INT64_MAX */
  mixed_numbers[13] = fsc_i64((INT64_C(1) << 53) + 1);
  mixed_numbers[14] = fsc_f64(9007199254740992.0); /* 2^53 < [13] */
  mixed_numbers[15] = fsc_f64(-0.0);                /* == [6] */
  mixed_numbers[16] = fsc_f64(0.0);                 /* == [6], [15] */
}

static void check_order(fsc_list *l, const int *want, size_t n) {
  ck_assert_uint_eq(list_len(l), n);
  for (size_t i = 0; i < n; i++) {
    fsc_value got;
    ck_ok(fsc_list_get(l, (int64_t)i, &got));
    ck_assert_msg(fsc_value_equal(&got, &mixed_numbers[want[i]]),
                  "position %zu: want element %d (a %s)", i, want[i],
                  fsc_type_name(mixed_numbers[want[i]].type));
  }
}

START_TEST(test_sort_numbers_across_types) {
  init_mixed();
  size_t n = sizeof mixed_numbers / sizeof mixed_numbers[0];
  fsc_list *l = temp_list(FSC_TYPE_ANY);
  ck_ok(fsc_list_extend(l, mixed_numbers, n));
  ck_ok(fsc_list_sort(l, false));
  static const int asc[] = {5, 7, 2, 6, 15, 16, 3, 10, 1,
                            0, 14, 13, 11, 12, 4, 9, 8};
  check_order(l, asc, n);
  /* Sorting a sorted list changes nothing. */
  ck_ok(fsc_list_sort(l, false));
  check_order(l, asc, n);
  /* Descending, from the original order: equal elements keep their
   * original order (Python's reverse=True). */
  ck_ok(fsc_list_clear(l));
  ck_ok(fsc_list_extend(l, mixed_numbers, n));
  ck_ok(fsc_list_sort(l, true));
  static const int desc[] = {8, 4, 9, 12, 11, 13, 14, 0, 1,
                             3, 10, 6, 15, 16, 2, 7, 5};
  check_order(l, desc, n);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(test_sort_int128_extremes) {
  fsc_list *l = temp_list(FSC_TYPE_ANY);
  fsc_value vs[] = {
      fsc_i128((fsc_int128){UINT64_MAX, INT64_MAX}), /* 2^127-1 */
      fsc_f64(1.7014118346046923e38),                /* 2^127 */
      fsc_i128((fsc_int128){0, INT64_MIN}),          /* -2^127 */
      fsc_f64(-1.7014118346046923e38),               /* -2^127 (equal) */
      fsc_f64(-1e300),
      fsc_f64(1e300),
      fsc_i64(INT64_MIN),
  };
  ck_ok(fsc_list_extend(l, vs, 7));
  ck_ok(fsc_list_sort(l, false));
  static const int want[] = {4, 2, 3, 6, 0, 1, 5};
  for (int i = 0; i < 7; i++) {
    fsc_value got;
    ck_ok(fsc_list_get(l, i, &got));
    ck_assert_msg(fsc_value_equal(&got, &vs[want[i]]), "position %d", i);
  }
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(test_sort_str_and_int_refused) {
  fsc_list *l = temp_list(FSC_TYPE_ANY);
  fsc_value vs[2] = {fsc_i64(1), fsc_str("a")};
  ck_ok(fsc_list_extend(l, vs, 2));
  ck_fsc(fsc_list_sort(l, false), FSC_ETYPE);
  const char *prefix = "'<' not supported between instances of ";
  ck_assert_msg(strncmp(fsc_errmsg(), prefix, strlen(prefix)) == 0,
                "message: %s", fsc_errmsg());
  /* Python: [1, 'a'].sort() compares 'a' < 1. */
  ck_assert_str_eq(fsc_errmsg(),
                   "'<' not supported between instances of 'str' and 'int'");
  ck_fsc(fsc_list_sort(l, true), FSC_ETYPE);
  /* The list is unchanged by a failed sort. */
  fsc_value got;
  ck_ok(fsc_list_get(l, 0, &got));
  ck_assert(fsc_value_equal(&got, &vs[0]));
  ck_ok(fsc_list_get(l, 1, &got));
  ck_assert(fsc_value_equal(&got, &vs[1]));
  /* The other way round. */
  ck_ok(fsc_list_reverse(l));
  ck_fsc(fsc_list_sort(l, false), FSC_ETYPE);
  ck_assert_str_eq(fsc_errmsg(),
                   "'<' not supported between instances of 'int' and 'str'");
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(test_sort_unorderable_mixes) {
  const char *prefix = "'<' not supported between instances of ";
  struct {
    fsc_value a, b;
  } pairs[] = {
      {fsc_str("a"), fsc_bytes("a", 1)},
      {fsc_bytes("a", 1), fsc_str("a")},
      {fsc_f64(1.0), fsc_bytes("a", 1)},
      {fsc_bool(true), fsc_str("x")},
      {fsc_json("1", 1), fsc_json("2", 1)},
      {fsc_json("1", 1), fsc_i64(2)},
      {fsc_i32(2), fsc_json("[]", 2)},
      {ref_str(REF_OK), ref_str(REF_OK)},
      {fsc_str("r"), ref_str(REF_OK)},
  };
  for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
    fsc_list *l = temp_list(FSC_TYPE_ANY);
    fsc_value two[2] = {pairs[i].a, pairs[i].b};
    ck_ok(fsc_list_extend(l, two, 2));
    int rc = fsc_list_sort(l, false);
    ck_assert_msg(rc == FSC_ETYPE, "pair %zu (%s, %s) sorted: rc %d", i,
                  fsc_type_name(two[0].type), fsc_type_name(two[1].type), rc);
    ck_assert_msg(strncmp(fsc_errmsg(), prefix, strlen(prefix)) == 0,
                  "message: %s", fsc_errmsg());
    ck_fsc(fsc_list_sort(l, true), FSC_ETYPE);
    fsc_value got;
    ck_ok(fsc_list_get(l, 0, &got));
    ck_assert(fsc_value_equal(&got, &two[0]));
    ck_ok(fsc_list_close(l));
    fsc_list_free(l);
  }
  /* Typed json and ref lists are not sortable either. */
  fsc_list *j = temp_list(FSC_TYPE_JSON);
  fsc_value js[3] = {fsc_json("3", 1), fsc_json("1", 1), fsc_json("2", 1)};
  ck_ok(fsc_list_extend(j, js, 3));
  ck_fsc(fsc_list_sort(j, false), FSC_ETYPE);
  fsc_value got;
  ck_ok(fsc_list_get(j, 0, &got));
  ck_assert(fsc_value_equal(&got, &js[0]));
  ck_ok(fsc_list_close(j));
  fsc_list_free(j);
}
END_TEST

START_TEST(test_sort_typed_lists) {
  /* int32 */
  fsc_list *l = temp_list(FSC_TYPE_INT32);
  int32_t in[] = {5, INT32_MIN, 0, -7, INT32_MAX, 5, 2};
  for (size_t i = 0; i < 7; i++) {
    fsc_value v = fsc_i32(in[i]);
    ck_ok(fsc_list_append(l, &v));
  }
  ck_ok(fsc_list_sort(l, false));
  int32_t want[] = {INT32_MIN, -7, 0, 2, 5, 5, INT32_MAX};
  for (int i = 0; i < 7; i++) {
    fsc_value g;
    ck_ok(fsc_list_get(l, i, &g));
    ck_assert_int_eq(g.u.i32, want[i]);
  }
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
  /* int128 by full value (hi is signed, lo unsigned). */
  l = temp_list(FSC_TYPE_INT128);
  fsc_int128 w[] = {{UINT64_MAX, 0}, {0, -1}, {5, 0}, {0, 1}, {UINT64_MAX, -1}};
  for (int i = 0; i < 5; i++) {
    fsc_value v = fsc_i128(w[i]);
    ck_ok(fsc_list_append(l, &v));
  }
  ck_ok(fsc_list_sort(l, false));
  int order[] = {1, 4, 2, 0, 3}; /* -2^64, -1, 5, 2^64-1, 2^64 */
  for (int i = 0; i < 5; i++) {
    fsc_value g, e = fsc_i128(w[order[i]]);
    ck_ok(fsc_list_get(l, i, &g));
    ck_assert_msg(fsc_value_equal(&g, &e), "int128 position %d", i);
  }
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
  /* bool: false < true */
  l = temp_list(FSC_TYPE_BOOL);
  bool bs[] = {true, false, true, false};
  for (int i = 0; i < 4; i++) {
    fsc_value v = fsc_bool(bs[i]);
    ck_ok(fsc_list_append(l, &v));
  }
  ck_ok(fsc_list_sort(l, false));
  for (int i = 0; i < 4; i++) {
    fsc_value g;
    ck_ok(fsc_list_get(l, i, &g));
    ck_assert(g.u.b == (i >= 2));
  }
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */

static Suite *value_suite(void) {
  Suite *s = suite_create("value");
  TCase *tc;

  tc = tcase_create("constructors");
  tcase_add_test(tc, test_constructors_fixed);
  tcase_add_test(tc, test_constructors_buffers);
  suite_add_tcase(s, tc);

  tc = tcase_create("type_names");
  tcase_add_test(tc, test_type_names);
  tcase_add_test(tc, test_type_parse_aliases);
  tcase_add_test(tc, test_type_parse_unknown);
  suite_add_tcase(s, tc);

  tc = tcase_create("equality");
  tcase_add_test(tc, test_equal_numbers);
  tcase_add_test(tc, test_equal_floats);
  tcase_add_test(tc, test_equal_buffers);
  tcase_add_test(tc, test_equal_null_and_invalid);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_add_test(tc, test_strerror_every_code);
  tcase_add_test(tc, test_errmsg_thread_local);
  tcase_add_test(tc, test_errmsg_of_list_failure);
  tcase_add_test(tc, test_version);
  suite_add_tcase(s, tc);

  tc = tcase_create("type_checks");
  tcase_add_test(tc, test_wrong_type_every_pair);
  tcase_add_test(tc, test_exact_seed_message);
  tcase_add_test(tc, test_any_list_takes_every_type);
  tcase_add_test(tc, test_utf8_invalid_rejected);
  tcase_add_test(tc, test_utf8_valid_accepted);
  tcase_add_test(tc, test_json_invalid_rejected);
  tcase_add_test(tc, test_json_valid_accepted);
  tcase_add_test(tc, test_ref_syntax);
  tcase_add_test(tc, test_null_pointer_with_length);
  suite_add_tcase(s, tc);

  tc = tcase_create("roundtrip");
  tcase_set_timeout(tc, 20);
  tcase_add_test(tc, test_roundtrip_integers);
  tcase_add_test(tc, test_roundtrip_floats);
  tcase_add_test(tc, test_roundtrip_buffers);
  tcase_add_test(tc, test_views_not_nul_terminated);
  suite_add_tcase(s, tc);

  tc = tcase_create("sort_order");
  tcase_add_test(tc, test_sort_numbers_across_types);
  tcase_add_test(tc, test_sort_int128_extremes);
  tcase_add_test(tc, test_sort_str_and_int_refused);
  tcase_add_test(tc, test_sort_unorderable_mixes);
  tcase_add_test(tc, test_sort_typed_lists);
  suite_add_tcase(s, tc);

  return s;
}

int main(void) {
  Suite *s = value_suite();
  return tc_run(s);
}
