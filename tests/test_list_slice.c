/*
 * test_list_slice.c - fsc_list_slice_get / _set / _del against Python's
 * list slice semantics.
 *
 * The reference is a small model of Python slicing on a plain C array of
 * int64, written from the language reference (Sequence Types, notes 3-5;
 * PySlice_AdjustIndices and list_ass_subscript describe the same rules):
 *  - a None step is 1; step 0 is ValueError "slice step cannot be zero";
 *  - a None start/stop is the end the walk starts/stops at;
 *  - a negative bound counts from the end (len + b);
 *  - then a bound is clipped to the positions a walk may start/stop at:
 *    [0, len] walking forwards, [-1, len-1] walking backwards (-1 is
 *    "before the first element");
 *  - the slice is i, i+k, i+2k, ... while it has not reached j;
 *  - a[i:j] = seq with step 1 replaces a[i:max(i,j)] by any number of
 *    elements; with another step seq must have the slice's length
 *    ("attempt to assign sequence of size N to extended slice of size M").
 * The model enumerates positions by walking, rather than by computing a
 * closed-form count, so it shares no arithmetic with the library.
 */
#include "check_common.h"

#include <inttypes.h>
#include <stdbool.h>
#include <sys/wait.h>

#define NONE FSC_NONE

/* ------------------------------------------------------------------ */
/* The reference model                                                 */
/* ------------------------------------------------------------------ */

static int64_t py_step(fsc_slice s) { return s.step == NONE ? 1 : s.step; }

/* One bound resolved as Python does (step != 0). */
static int64_t py_bound(int64_t b, size_t n, int64_t step, bool is_start) {
  __int128 len = (__int128)n;
  __int128 lowest = step > 0 ? 0 : -1;       /* "before the first" walking back */
  __int128 highest = step > 0 ? len : len - 1;
  if (b == NONE) /* the walk starts at one end and runs off the other */
    return (int64_t)(is_start == (step > 0) ? lowest : highest);
  __int128 x = b;
  if (x < 0)
    x += len;
  if (x < lowest)
    x = lowest;
  if (x > highest)
    x = highest;
  return (int64_t)x;
}

/* The positions list[s] selects in a list of n elements, in order, into
 * pos (room for n); returns how many.  For a step-1 slice, [*lo, *hi) is
 * what an assignment replaces (Python's list_ass_slice: hi >= lo). */
static size_t py_slice(fsc_slice s, size_t n, int64_t *pos, int64_t *lo,
                       int64_t *hi) {
  int64_t k = py_step(s);
  ck_assert(k != 0);
  int64_t i = py_bound(s.start, n, k, true);
  int64_t j = py_bound(s.stop, n, k, false);
  size_t c = 0;
  for (__int128 x = i; k > 0 ? x < j : x > j; x += k) {
    ck_assert(x >= 0 && x < (__int128)n && c < n);
    pos[c++] = (int64_t)x;
  }
  if (lo)
    *lo = i;
  if (hi)
    *hi = j < i ? i : j;
  return c;
}

/* A growable array of int64: the list as Python would hold it. */
typedef struct model {
  int64_t *v;
  size_t n, cap;
} model;

static void m_reserve(model *m, size_t n) {
  if (n <= m->cap && m->v)
    return;
  m->cap = n * 2 + 8;
  m->v = realloc(m->v, m->cap * sizeof *m->v);
  ck_assert_ptr_nonnull(m->v);
}

static void m_base(model *m, size_t n) {
  m_reserve(m, n);
  for (size_t i = 0; i < n; i++)
    m->v[i] = 100 + (int64_t)i;
  m->n = n;
}

/* del m[s] */
static void m_del(model *m, fsc_slice s) {
  int64_t *pos = malloc((m->n + 1) * sizeof *pos);
  bool *gone = calloc(m->n + 1, 1);
  size_t c = py_slice(s, m->n, pos, NULL, NULL);
  for (size_t k = 0; k < c; k++)
    gone[pos[k]] = true;
  size_t w = 0;
  for (size_t i = 0; i < m->n; i++)
    if (!gone[i])
      m->v[w++] = m->v[i];
  m->n = w;
  free(pos);
  free(gone);
}

/* m[s] = x[0..nx).  Returns 0, or -1 for Python's ValueError with its
 * message in msg. */
static int m_set(model *m, fsc_slice s, const int64_t *x, size_t nx,
                 char *msg, size_t msgsz) {
  int64_t *pos = malloc((m->n + 1) * sizeof *pos);
  int64_t lo, hi;
  size_t c = py_slice(s, m->n, pos, &lo, &hi);
  int rc = 0;
  if (py_step(s) == 1) {
    size_t n = m->n, tail = n - (size_t)hi;
    m_reserve(m, n - (size_t)(hi - lo) + nx);
    memmove(m->v + lo + nx, m->v + hi, tail * sizeof *m->v);
    memcpy(m->v + lo, x, nx * sizeof *x);
    m->n = (size_t)lo + nx + tail;
  } else if (nx != c) {
    snprintf(msg, msgsz, "attempt to assign sequence of size %zu to extended "
             "slice of size %zu", nx, c);
    rc = -1;
  } else {
    for (size_t k = 0; k < c; k++)
      m->v[pos[k]] = x[k];
  }
  free(pos);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static const char *bstr(int64_t b, char *buf, size_t sz) {
  if (b == NONE)
    return "None";
  snprintf(buf, sz, "%" PRId64, b);
  return buf;
}

/* "n=5 l[1:None:-2]" for failure messages. */
static const char *desc(size_t n, fsc_slice s) {
  static char out[160];
  char a[24], b[24], c[24];
  snprintf(out, sizeof out, "n=%zu l[%s:%s:%s]", n, bstr(s.start, a, 24),
           bstr(s.stop, b, 24), bstr(s.step, c, 24));
  return out;
}

static fsc_list *tmp_list(fsc_type t) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = t;
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(NULL, &o, &l));
  ck_assert_ptr_nonnull(l);
  return l;
}

static void i64s(fsc_value *out, const int64_t *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    out[i] = fsc_i64(x[i]);
}

/* Make l hold exactly m's elements (clear + extend). */
static void load(fsc_list *l, const model *m) {
  fsc_value *vs = malloc((m->n + 1) * sizeof *vs);
  i64s(vs, m->v, m->n);
  ck_ok(fsc_list_clear(l));
  ck_ok(fsc_list_extend(l, vs, m->n));
  free(vs);
}

/* The list holds exactly m's elements (read with get, not slices). */
static void expect_list(fsc_list *l, const model *m, const char *what) {
  uint64_t len = 0;
  ck_ok(fsc_list_len(l, &len));
  if (len != m->n)
    ck_abort_msg("%s: length %" PRIu64 ", want %zu", what, len, m->n);
  for (size_t i = 0; i < m->n; i++) {
    int64_t v = 0;
    int rc = fsc_list_get_i64(l, (int64_t)i, &v);
    if (rc != 0 || v != m->v[i])
      ck_abort_msg("%s: [%zu] is %" PRId64 " (rc %d %s), want %" PRId64, what,
                   i, v, rc, fsc_errmsg(), m->v[i]);
  }
}

static void expect_errmsg(const char *want, const char *what) {
  const char *got = fsc_errmsg();
  if (strcmp(got, want) != 0)
    ck_abort_msg("%s: message \"%s\", want \"%s\"", what, got, want);
}

/* A list kept at base(n) between cases, reloaded only when a case
 * changed it. */
typedef struct harness {
  fsc_list *l;
  model base;
  bool at_base;
} harness;

static void h_init(harness *h) {
  memset(h, 0, sizeof *h);
  h->l = tmp_list(FSC_TYPE_INT64);
}

static void h_reset(harness *h, size_t n) {
  if (h->at_base && h->base.n == n)
    return;
  m_base(&h->base, n);
  load(h->l, &h->base);
  h->at_base = true;
}

static void h_fini(harness *h) {
  ck_ok(fsc_list_destroy(h->l));
  fsc_list_free(h->l);
  free(h->base.v);
}

/* ---- one case of each operation, checked against the model ---- */

/* list holds base(n): slice_get, count-only, exact and too-small cap. */
static void case_get(harness *h, size_t n, fsc_slice s) {
  h_reset(h, n);
  const char *what = desc(n, s);
  int64_t *pos = malloc((n + 1) * sizeof *pos);
  size_t want = py_slice(s, n, pos, NULL, NULL);

  size_t got = 12345;
  ck_ok(fsc_list_slice_get(h->l, s, NULL, 0, &got));
  if (got != want)
    ck_abort_msg("%s: count-only gives %zu, want %zu", what, got, want);

  /* exactly `want` slots plus a guard that must stay untouched */
  fsc_value out[64];
  ck_assert(want + 1 <= 64);
  for (size_t k = 0; k <= want; k++)
    out[k] = fsc_i64(-777);
  got = 12345;
  ck_ok(fsc_list_slice_get(h->l, s, out, want, &got));
  if (got != want)
    ck_abort_msg("%s: gives %zu elements, want %zu", what, got, want);
  for (size_t k = 0; k < want; k++)
    if (out[k].type != FSC_TYPE_INT64 || out[k].u.i64 != h->base.v[pos[k]])
      ck_abort_msg("%s: element %zu is %" PRId64 " (type %d), want %" PRId64,
                   what, k, out[k].u.i64, (int)out[k].type,
                   h->base.v[pos[k]]);
  if (out[want].type != FSC_TYPE_INT64 || out[want].u.i64 != -777)
    ck_abort_msg("%s: wrote past the %zu elements", what, want);

  if (want > 0) { /* one slot too few: EINVAL, *n says how many */
    for (size_t k = 0; k < want; k++)
      out[k] = fsc_i64(-777);
    got = 0;
    int rc = fsc_list_slice_get(h->l, s, out, want - 1, &got);
    if (rc != FSC_EINVAL || got != want)
      ck_abort_msg("%s: cap %zu gives rc %d and n %zu, want %d and %zu",
                   what, want - 1, rc, got, FSC_EINVAL, want);
    if (out[want - 1].u.i64 != -777)
      ck_abort_msg("%s: wrote past cap %zu", what, want - 1);
  }
  free(pos);
}

static void case_del(harness *h, size_t n, fsc_slice s) {
  h_reset(h, n);
  model m = {0};
  m_base(&m, n);
  m_del(&m, s);
  ck_ok(fsc_list_slice_del(h->l, s));
  h->at_base = m.n == n; /* nothing deleted: still the base */
  expect_list(h->l, &m, desc(n, s));
  free(m.v);
}

/* l[s] = nv new values (1000, 1001, ...): success or ValueError, exactly
 * where the model says. */
static void case_set(harness *h, size_t n, fsc_slice s, size_t nv) {
  h_reset(h, n);
  char what[200], msg[160] = "";
  snprintf(what, sizeof what, "%s = <%zu values>", desc(n, s), nv);
  int64_t x[64];
  fsc_value vs[64];
  ck_assert(nv <= 64);
  for (size_t k = 0; k < nv; k++)
    x[k] = 1000 + (int64_t)k;
  i64s(vs, x, nv);
  model m = {0};
  m_base(&m, n);
  int mrc = m_set(&m, s, x, nv, msg, sizeof msg);
  int rc = fsc_list_slice_set(h->l, s, nv ? vs : NULL, nv);
  if (mrc == 0) {
    if (rc != 0)
      ck_abort_msg("%s: rc %d (%s), want 0", what, rc, fsc_errmsg());
    h->at_base = false;
  } else {
    if (rc != FSC_EVALUE)
      ck_abort_msg("%s: rc %d (%s), want FSC_EVALUE", what, rc, fsc_errmsg());
    expect_errmsg(msg, what);
  }
  expect_list(h->l, &m, what); /* on error m is still the base */
  free(m.v);
}

static const int64_t STEPS[] = {NONE, -3, -2, -1, 1, 2, 3};
#define NSTEPS (sizeof STEPS / sizeof STEPS[0])
#define BOUND_LO (-11) /* -11 stands for None */
#define BOUND_HI 10
static int64_t bound_at(int b) { return b == BOUND_LO ? NONE : b; }

/* ------------------------------------------------------------------ */
/* Exhaustive comparisons with the model                               */
/* ------------------------------------------------------------------ */

START_TEST(test_get_exhaustive) {
  harness h;
  h_init(&h);
  size_t cases = 0;
  for (size_t n = 0; n <= 8; n++)
    for (int a = BOUND_LO; a <= BOUND_HI; a++)
      for (int b = BOUND_LO; b <= BOUND_HI; b++)
        for (size_t k = 0; k < NSTEPS; k++, cases++)
          case_get(&h, n, FSC_SLICE(bound_at(a), bound_at(b), STEPS[k]));
  ck_assert_uint_eq(cases, 9 * 22 * 22 * 7);
  h_fini(&h);
}
END_TEST

START_TEST(test_del_exhaustive) {
  harness h;
  h_init(&h);
  for (size_t n = 0; n <= 8; n++)
    for (int a = BOUND_LO; a <= BOUND_HI; a++)
      for (int b = BOUND_LO; b <= BOUND_HI; b++)
        for (size_t k = 0; k < NSTEPS; k++)
          case_del(&h, n, FSC_SLICE(bound_at(a), bound_at(b), STEPS[k]));
  h_fini(&h);
}
END_TEST

/* Step 1 (None or 1): any replacement length, insertion when stop<start. */
START_TEST(test_set_step1_exhaustive) {
  harness h;
  h_init(&h);
  static const int64_t steps1[] = {NONE, 1};
  for (size_t n = 0; n <= 8; n++)
    for (int a = BOUND_LO; a <= BOUND_HI; a++)
      for (int b = BOUND_LO; b <= BOUND_HI; b++)
        for (size_t k = 0; k < 2; k++)
          for (size_t nv = 0; nv <= 3; nv++)
            case_set(&h, n, FSC_SLICE(bound_at(a), bound_at(b), steps1[k]),
                     nv);
  h_fini(&h);
}
END_TEST

/* Other steps: the right length works; one more or one fewer (or none)
 * is FSC_EVALUE with Python's message and leaves the list unchanged. */
START_TEST(test_set_extended_exhaustive) {
  harness h;
  h_init(&h);
  static const int64_t stepsx[] = {-3, -2, -1, 2, 3};
  int64_t pos[16];
  for (size_t n = 0; n <= 8; n++)
    for (int a = BOUND_LO; a <= BOUND_HI; a++)
      for (int b = BOUND_LO; b <= BOUND_HI; b++)
        for (size_t k = 0; k < 5; k++) {
          fsc_slice s = FSC_SLICE(bound_at(a), bound_at(b), stepsx[k]);
          size_t m = py_slice(s, n, pos, NULL, NULL);
          case_set(&h, n, s, m + 1); /* wrong: errors first, list intact */
          if (m > 0)
            case_set(&h, n, s, m - 1);
          if (m > 1)
            case_set(&h, n, s, 0);
          case_set(&h, n, s, m); /* right */
        }
  h_fini(&h);
}
END_TEST

/* Bounds and steps at the ends of int64 (INT64_MIN itself is None). */
START_TEST(test_huge_bounds_vs_model) {
  static const int64_t B[] = {NONE,          INT64_MIN + 1, INT64_MIN + 2,
                              -INT64_MAX / 2, -9,           -1,
                              0,             1,             9,
                              INT64_MAX / 2, INT64_MAX - 1, INT64_MAX};
  static const int64_t S[] = {NONE,           1,  -1,           2, -2,
                              INT64_MAX,      -INT64_MAX,       INT64_MAX - 1,
                              INT64_MIN + 2,  INT64_MAX / 3};
  static const size_t N[] = {0, 1, 5, 8};
  harness h;
  h_init(&h);
  int64_t pos[16];
  for (size_t ni = 0; ni < 4; ni++)
    for (size_t a = 0; a < 12; a++)
      for (size_t b = 0; b < 12; b++)
        for (size_t k = 0; k < 10; k++) {
          size_t n = N[ni];
          fsc_slice s = FSC_SLICE(B[a], B[b], S[k]);
          case_get(&h, n, s);
          case_del(&h, n, s);
          size_t m = py_slice(s, n, pos, NULL, NULL);
          case_set(&h, n, s, m);
          case_set(&h, n, s, m + 1);
          if (m > 0)
            case_set(&h, n, s, m - 1);
        }
  h_fini(&h);
}
END_TEST

/* The model itself, against slices worked out by hand from Python. */
START_TEST(test_model_sanity) {
  int64_t pos[16], lo, hi;
  size_t c = py_slice(FSC_SLICE(NONE, NONE, -2), 8, pos, NULL, NULL);
  ck_assert_uint_eq(c, 4);
  ck_assert_int_eq(pos[0], 7);
  ck_assert_int_eq(pos[3], 1);
  c = py_slice(FSC_SLICE(-100, 100, NONE), 3, pos, NULL, NULL);
  ck_assert_uint_eq(c, 3);
  c = py_slice(FSC_SLICE(5, 2, NONE), 8, pos, &lo, &hi);
  ck_assert_uint_eq(c, 0);
  ck_assert_int_eq(lo, 5);
  ck_assert_int_eq(hi, 5);
  c = py_slice(FSC_SLICE(-1, -100, -3), 8, pos, NULL, NULL); /* 7,4,1 */
  ck_assert_uint_eq(c, 3);
  ck_assert_int_eq(pos[2], 1);
  c = py_slice(FSC_SLICE(100, NONE, -1), 0, pos, NULL, NULL);
  ck_assert_uint_eq(c, 0);
  c = py_slice(FSC_SLICE(NONE, NONE, INT64_MAX), 5, pos, NULL, NULL);
  ck_assert_uint_eq(c, 1);
  ck_assert_int_eq(pos[0], 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

START_TEST(test_step_zero) {
  harness h;
  h_init(&h);
  fsc_value out[8], vs[2] = {fsc_i64(1), fsc_i64(2)};
  static const int64_t bounds[] = {NONE, 0, 2, -1};
  for (size_t n = 0; n <= 4; n += 4) {
    h_reset(&h, n);
    for (size_t a = 0; a < 4; a++) {
      fsc_slice s = FSC_SLICE(bounds[a], bounds[3 - a], 0);
      size_t got = 99;
      ck_fsc(fsc_list_slice_get(h.l, s, NULL, 0, &got), FSC_EVALUE);
      expect_errmsg("slice step cannot be zero", "get");
      ck_fsc(fsc_list_slice_get(h.l, s, out, 8, &got), FSC_EVALUE);
      expect_errmsg("slice step cannot be zero", "get");
      ck_fsc(fsc_list_slice_set(h.l, s, vs, 2), FSC_EVALUE);
      expect_errmsg("slice step cannot be zero", "set");
      ck_fsc(fsc_list_slice_set(h.l, s, NULL, 0), FSC_EVALUE);
      expect_errmsg("slice step cannot be zero", "set");
      ck_fsc(fsc_list_slice_del(h.l, s), FSC_EVALUE);
      expect_errmsg("slice step cannot be zero", "del");
      expect_list(h.l, &h.base, "after step 0");
    }
  }
  h_fini(&h);
}
END_TEST

START_TEST(test_get_out_too_small) {
  harness h;
  h_init(&h);
  h_reset(&h, 8);
  fsc_value out[9];
  size_t got = 0;
  for (int i = 0; i < 9; i++)
    out[i] = fsc_i64(-5);
  ck_fsc(fsc_list_slice_get(h.l, FSC_SLICE(NONE, NONE, NONE), out, 7, &got),
         FSC_EINVAL);
  ck_assert_uint_eq(got, 8);
  ck_assert_int_eq(out[7].u.i64, -5); /* nothing past cap */
  got = 0;
  ck_fsc(fsc_list_slice_get(h.l, FSC_SLICE(NONE, NONE, NONE), out, 0, &got),
         FSC_EINVAL);
  ck_assert_uint_eq(got, 8);
  got = 0;
  ck_fsc(fsc_list_slice_get(h.l, FSC_SLICE(NONE, NONE, 3), out, 2, &got),
         FSC_EINVAL); /* [0, 3, 6] */
  ck_assert_uint_eq(got, 3);
  ck_ok(fsc_list_slice_get(h.l, FSC_SLICE(NONE, NONE, 3), out, 3, &got));
  ck_assert_uint_eq(got, 3);
  ck_assert_int_eq(out[2].u.i64, 106);
  /* an empty slice fits any array, even a zero-length one */
  got = 9;
  ck_ok(fsc_list_slice_get(h.l, FSC_SLICE(5, 2, NONE), out, 0, &got));
  ck_assert_uint_eq(got, 0);
  /* n is required */
  ck_fsc(fsc_list_slice_get(h.l, FSC_SLICE(NONE, NONE, NONE), out, 9, NULL),
         FSC_EINVAL);
  h_fini(&h);
}
END_TEST

START_TEST(test_set_invalid_type_leaves_list) {
  harness h;
  h_init(&h);
  h_reset(&h, 6);
  fsc_metrics before = {.size = sizeof before}, after = {.size = sizeof after};
  ck_ok(fsc_list_metrics(h.l, &before));
  fsc_value bad[3] = {fsc_i64(7), fsc_str("x"), fsc_i64(9)};
  ck_fsc(fsc_list_slice_set(h.l, FSC_SLICE(1, 3, NONE), bad, 3), FSC_ETYPE);
  ck_assert_msg(strstr(fsc_errmsg(), "Expected int64 for int64, got string"),
                "message: %s", fsc_errmsg());
  expect_list(h.l, &h.base, "after bad step-1 set");
  fsc_value badf[3] = {fsc_i64(7), fsc_i64(8), fsc_f64(1.5)};
  ck_fsc(fsc_list_slice_set(h.l, FSC_SLICE(NONE, NONE, 2), badf, 3),
         FSC_ETYPE); /* right length, wrong type */
  expect_list(h.l, &h.base, "after bad extended set");
  fsc_value badi[1] = {fsc_i32(1)};
  ck_fsc(fsc_list_slice_set(h.l, FSC_SLICE(2, 2, NONE), badi, 1), FSC_ETYPE);
  expect_list(h.l, &h.base, "after bad insertion");
  ck_fsc(fsc_list_slice_set(h.l, FSC_SLICE(0, 2, NONE), NULL, 2), FSC_EINVAL);
  expect_list(h.l, &h.base, "after NULL values");
  ck_ok(fsc_list_metrics(h.l, &after));
  ck_assert_uint_eq(after.length, 6);
  ck_assert_uint_eq(after.live_bytes, before.live_bytes);
  ck_assert_uint_eq(after.structural_epoch, before.structural_epoch);

  /* a string list refuses invalid UTF-8 the same way */
  fsc_list *s = tmp_list(FSC_TYPE_STRING);
  ck_ok(fsc_list_append_str(s, "a"));
  ck_ok(fsc_list_append_str(s, "b"));
  fsc_value us[2] = {fsc_str("ok"), fsc_strn("\xff\xfe", 2)};
  ck_fsc(fsc_list_slice_set(s, FSC_SLICE(NONE, NONE, NONE), us, 2),
         FSC_ETYPE);
  uint64_t len;
  ck_ok(fsc_list_len(s, &len));
  ck_assert_uint_eq(len, 2);
  const char *p;
  size_t pl;
  ck_ok(fsc_list_get_str(s, 1, &p, &pl));
  ck_assert(pl == 1 && p[0] == 'b');
  ck_ok(fsc_list_destroy(s));
  fsc_list_free(s);
  h_fini(&h);
}
END_TEST

START_TEST(test_closed_and_readonly) {
  const char *path = tc_path("ro");
  char base[512];
  snprintf(base, sizeof base, "%s", path);
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = FSC_TYPE_INT64;
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(base, &o, &l));
  for (int i = 0; i < 4; i++)
    ck_ok(fsc_list_append_i64(l, i));
  ck_ok(fsc_list_close(l));
  fsc_value v = fsc_i64(9), out[4];
  size_t n;
  ck_fsc(fsc_list_slice_get(l, FSC_SLICE(NONE, NONE, NONE), out, 4, &n),
         FSC_ECLOSED);
  ck_fsc(fsc_list_slice_set(l, FSC_SLICE(0, 1, NONE), &v, 1), FSC_ECLOSED);
  ck_fsc(fsc_list_slice_del(l, FSC_SLICE(0, 1, NONE)), FSC_ECLOSED);
  fsc_list_free(l);

  o.flags = FSC_RDONLY;
  ck_ok(fsc_list_open(base, &o, &l));
  ck_fsc(fsc_list_slice_set(l, FSC_SLICE(0, 1, NONE), &v, 1), FSC_EROFS);
  ck_fsc(fsc_list_slice_del(l, FSC_SLICE(0, 1, NONE)), FSC_EROFS);
  ck_ok(fsc_list_slice_get(l, FSC_SLICE(NONE, NONE, -1), out, 4, &n));
  ck_assert_uint_eq(n, 4);
  ck_assert_int_eq(out[0].u.i64, 3);
  ck_assert_int_eq(out[3].u.i64, 0);
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
  tc_rm(base);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Hand-written cases                                                  */
/* ------------------------------------------------------------------ */

/* l = [0, 1, ..., n-1] */
static fsc_list *range_list(size_t n) {
  fsc_list *l = tmp_list(FSC_TYPE_INT64);
  for (size_t i = 0; i < n; i++)
    ck_ok(fsc_list_append_i64(l, (int64_t)i));
  return l;
}

/* The list is exactly want[0..n). */
#define EXPECT(l, ...)                                                       \
  do {                                                                       \
    const int64_t want_[] = {__VA_ARGS__};                                   \
    model m_ = {(int64_t *)want_, sizeof want_ / sizeof want_[0], 0};        \
    expect_list((l), &m_, #__VA_ARGS__);                                     \
  } while (0)
#define EXPECT_EMPTY(l)                                                      \
  do {                                                                       \
    model m_ = {NULL, 0, 0};                                                 \
    expect_list((l), &m_, "[]");                                             \
  } while (0)

/* slice_get of l into a fresh model */
static size_t get_i64(fsc_list *l, fsc_slice s, int64_t *dst, size_t cap) {
  fsc_value out[32];
  size_t n = 0;
  ck_assert(cap <= 32);
  ck_ok(fsc_list_slice_get(l, s, out, cap, &n));
  for (size_t i = 0; i < n; i++) {
    ck_assert_int_eq(out[i].type, FSC_TYPE_INT64);
    dst[i] = out[i].u.i64;
  }
  return n;
}

static void set_i64(fsc_list *l, fsc_slice s, const int64_t *x, size_t n) {
  fsc_value vs[32];
  i64s(vs, x, n);
  ck_ok(fsc_list_slice_set(l, s, vs, n));
}

START_TEST(test_reverse_every_other) { /* l[::-2] */
  fsc_list *l = range_list(8);
  int64_t g[8];
  ck_assert_uint_eq(get_i64(l, FSC_SLICE(NONE, NONE, -2), g, 8), 4);
  ck_assert(g[0] == 7 && g[1] == 5 && g[2] == 3 && g[3] == 1);
  ck_assert_uint_eq(get_i64(l, FSC_SLICE(-2, NONE, -2), g, 8), 4);
  ck_assert(g[0] == 6 && g[1] == 4 && g[2] == 2 && g[3] == 0);
  ck_assert_uint_eq(get_i64(l, FSC_SLICE(5, 2, -1), g, 8), 3); /* l[5:2:-1] */
  ck_assert(g[0] == 5 && g[1] == 4 && g[2] == 3);
  EXPECT(l, 0, 1, 2, 3, 4, 5, 6, 7); /* reading changed nothing */
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(test_drop_first_and_last) { /* l[1:-1] */
  fsc_list *l = range_list(5);
  int64_t g[8];
  ck_assert_uint_eq(get_i64(l, FSC_SLICE(1, -1, NONE), g, 8), 3);
  ck_assert(g[0] == 1 && g[1] == 2 && g[2] == 3);
  ck_assert_uint_eq(get_i64(l, FSC_SLICE(-100, 100, NONE), g, 8), 5);
  ck_assert_uint_eq(get_i64(l, FSC_SLICE(100, NONE, NONE), g, 8), 0);
  ck_assert_uint_eq(get_i64(l, FSC_SLICE(NONE, -100, NONE), g, 8), 0);
  ck_assert_uint_eq(get_i64(l, FSC_SLICE(NONE, -100, -1), g, 8), 5);
  ck_assert(g[0] == 4 && g[4] == 0);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(test_assign_backwards_range_inserts_at_start) { /* l[5:2] = [x] */
  fsc_list *l = range_list(8);
  int64_t x = 99;
  set_i64(l, FSC_SLICE(5, 2, NONE), &x, 1);
  EXPECT(l, 0, 1, 2, 3, 4, 99, 5, 6, 7); /* inserted before 5, not 2 */
  set_i64(l, FSC_SLICE(-1, 0, 1), &x, 1); /* l[-1:0] = [x]: before last */
  EXPECT(l, 0, 1, 2, 3, 4, 99, 5, 6, 99, 7);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(test_del_every_other) { /* del l[::2] */
  fsc_list *l = range_list(8);
  ck_ok(fsc_list_slice_del(l, FSC_SLICE(NONE, NONE, 2)));
  EXPECT(l, 1, 3, 5, 7);
  ck_ok(fsc_list_slice_del(l, FSC_SLICE(5, 2, NONE))); /* empty: no-op */
  EXPECT(l, 1, 3, 5, 7);
  ck_ok(fsc_list_slice_del(l, FSC_SLICE(-1, -3, -1))); /* del l[-1:-3:-1] */
  EXPECT(l, 1, 3);
  ck_ok(fsc_list_slice_del(l, FSC_SLICE(NONE, NONE, NONE))); /* del l[:] */
  EXPECT_EMPTY(l);
  ck_ok(fsc_list_append_i64(l, 42)); /* still usable */
  EXPECT(l, 42);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(test_assign_reversed) { /* l[::-1] = [...] */
  fsc_list *l = range_list(5);
  int64_t x[5] = {10, 11, 12, 13, 14};
  set_i64(l, FSC_SLICE(NONE, NONE, -1), x, 5);
  EXPECT(l, 14, 13, 12, 11, 10);
  /* l[::-1] = l[:] reverses the list */
  int64_t g[8];
  ck_assert_uint_eq(get_i64(l, FSC_SLICE(NONE, NONE, NONE), g, 8), 5);
  set_i64(l, FSC_SLICE(NONE, NONE, -1), g, 5);
  EXPECT(l, 10, 11, 12, 13, 14);
  int64_t y[2] = {7, 8};
  set_i64(l, FSC_SLICE(-1, NONE, -3), y, 2); /* l[-1::-3] is [4, 1] */
  EXPECT(l, 10, 8, 12, 13, 7);
  ck_fsc(fsc_list_slice_set(l, FSC_SLICE(1, NONE, 3), NULL, 0), FSC_EVALUE);
  expect_errmsg("attempt to assign sequence of size 0 to extended slice of "
                "size 2", "l[1::3] = []");
  EXPECT(l, 10, 8, 12, 13, 7);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(test_assign_truncate_extend_prepend) {
  fsc_list *l = range_list(5);
  int64_t x[3] = {20, 21, 22};
  ck_ok(fsc_list_slice_set(l, FSC_SLICE(3, NONE, NONE), NULL, 0)); /* l[3:]=[] */
  EXPECT(l, 0, 1, 2);
  set_i64(l, FSC_SLICE(3, NONE, NONE), x, 2); /* l[len:] = [..]: extend */
  EXPECT(l, 0, 1, 2, 20, 21);
  set_i64(l, FSC_SLICE(NONE, 0, NONE), x + 2, 1); /* l[:0] = [..]: prepend */
  EXPECT(l, 22, 0, 1, 2, 20, 21);
  set_i64(l, FSC_SLICE(1, 4, NONE), x, 1); /* shrink the middle */
  EXPECT(l, 22, 20, 20, 21);
  set_i64(l, FSC_SLICE(NONE, NONE, NONE), x, 3); /* l[:] = [..] */
  EXPECT(l, 20, 21, 22);
  ck_ok(fsc_list_slice_set(l, FSC_SLICE(NONE, NONE, NONE), NULL, 0));
  EXPECT_EMPTY(l);
  set_i64(l, FSC_SLICE(INT64_MAX, INT64_MAX, NONE), x, 1); /* into [] */
  set_i64(l, FSC_SLICE(INT64_MIN + 1, INT64_MIN + 1, NONE), x + 1, 1);
  EXPECT(l, 21, 20);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(test_huge_bounds_hand) {
  fsc_list *l = range_list(6);
  int64_t g[8];
  ck_assert_uint_eq(
      get_i64(l, FSC_SLICE(INT64_MIN + 1, INT64_MAX, NONE), g, 8), 6);
  ck_assert_uint_eq(
      get_i64(l, FSC_SLICE(INT64_MAX, INT64_MIN + 1, -1), g, 8), 6);
  ck_assert(g[0] == 5 && g[5] == 0);
  ck_assert_uint_eq(get_i64(l, FSC_SLICE(NONE, NONE, INT64_MAX), g, 8), 1);
  ck_assert_int_eq(g[0], 0);
  ck_assert_uint_eq(get_i64(l, FSC_SLICE(NONE, NONE, -INT64_MAX), g, 8), 1);
  ck_assert_int_eq(g[0], 5);
  /* INT64_MIN is None: step 1 */
  ck_assert_uint_eq(get_i64(l, FSC_SLICE(1, 3, INT64_MIN), g, 8), 2);
  ck_assert(g[0] == 1 && g[1] == 2);
  ck_assert_uint_eq(get_i64(l, FSC_SLICE(INT64_MAX, NONE, NONE), g, 8), 0);
  ck_ok(fsc_list_slice_del(l, FSC_SLICE(INT64_MAX, INT64_MIN + 1, -2)));
  EXPECT(l, 0, 2, 4);
  int64_t x = 9;
  set_i64(l, FSC_SLICE(NONE, NONE, INT64_MAX), &x, 1);
  EXPECT(l, 9, 2, 4);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Strings: views                                                      */
/* ------------------------------------------------------------------ */

static const char *WORDS[] = {"", "a", "bb", "ccc", "dddd", "eeeee",
                              "\xc3\xa9t\xc3\xa9", "zzzzzzzzzzzzzzzzzzzzzz"};
#define NWORDS 8

static bool view_is(const fsc_value *v, const char *s) {
  return v->type == FSC_TYPE_STRING && v->u.buf.len == strlen(s) &&
         memcmp(v->u.buf.ptr, s, v->u.buf.len) == 0;
}

START_TEST(test_string_views) {
  fsc_list *l = tmp_list(FSC_TYPE_STRING);
  for (int i = 0; i < NWORDS; i++)
    ck_ok(fsc_list_append_str(l, WORDS[i]));
  fsc_value out[NWORDS + 1];
  size_t n;
  int64_t pos[NWORDS];
  /* every start/stop/step against the model */
  for (int a = BOUND_LO; a <= BOUND_HI; a++)
    for (int b = BOUND_LO; b <= BOUND_HI; b++)
      for (size_t k = 0; k < NSTEPS; k++) {
        fsc_slice s = FSC_SLICE(bound_at(a), bound_at(b), STEPS[k]);
        size_t want = py_slice(s, NWORDS, pos, NULL, NULL);
        ck_ok(fsc_list_slice_get(l, s, out, NWORDS + 1, &n));
        if (n != want)
          ck_abort_msg("%s: %zu strings, want %zu", desc(NWORDS, s), n, want);
        for (size_t i = 0; i < n; i++)
          if (!view_is(&out[i], WORDS[pos[i]]))
            ck_abort_msg("%s: [%zu] is \"%.*s\", want \"%s\"",
                         desc(NWORDS, s), i, (int)out[i].u.buf.len,
                         (const char *)out[i].u.buf.ptr, WORDS[pos[i]]);
      }
  /* l[::-2]; the views survive later changes (records are immutable) */
  fsc_value keep[4];
  ck_ok(fsc_list_slice_get(l, FSC_SLICE(NONE, NONE, -2), keep, 4, &n));
  ck_assert_uint_eq(n, 4);
  fsc_value repl[4] = {fsc_str("W"), fsc_str("X"), fsc_str("Y"),
                       fsc_str("Z")};
  ck_ok(fsc_list_slice_set(l, FSC_SLICE(NONE, NONE, -2), repl, 4));
  ck_ok(fsc_list_slice_del(l, FSC_SLICE(NONE, 4, NONE)));
  ck_assert(view_is(&keep[0], WORDS[7]) && view_is(&keep[1], WORDS[5]) &&
            view_is(&keep[2], WORDS[3]) && view_is(&keep[3], WORDS[1]));
  ck_ok(fsc_list_slice_get(l, FSC_SLICE(NONE, NONE, NONE), out, NWORDS, &n));
  ck_assert_uint_eq(n, 4); /* l[4:] of ["", Z, bb, Y, dddd, X, été, W] */
  ck_assert(view_is(&out[0], "dddd") && view_is(&out[1], "X") &&
            view_is(&out[2], WORDS[6]) && view_is(&out[3], "W"));
  /* step-1 replacement with strings of other lengths */
  fsc_value two[2] = {fsc_str("long string here"), fsc_str("")};
  ck_ok(fsc_list_slice_set(l, FSC_SLICE(1, 3, NONE), two, 2));
  ck_ok(fsc_list_slice_get(l, FSC_SLICE(NONE, NONE, NONE), out, NWORDS, &n));
  ck_assert_uint_eq(n, 4);
  ck_assert(view_is(&out[0], "dddd") &&
            view_is(&out[1], "long string here") && view_is(&out[2], "") &&
            view_is(&out[3], "W"));
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* Views from the list itself as the new values: l[::-1] = l[:] and
 * l[len:] = l[:], while the data file grows under the views. */
START_TEST(test_string_self_assign) {
  fsc_list *l = tmp_list(FSC_TYPE_STRING);
  enum { N0 = 24, W = 700 };
  char buf[W + 1];
  for (int i = 0; i < N0; i++) {
    memset(buf, 'a' + i % 26, sizeof buf);
    snprintf(buf, 8, "%05u", (unsigned)i % 100000u);
    buf[5] = '-';
    buf[W - (size_t)i * 13] = '\0';
    ck_ok(fsc_list_append_str(l, buf));
  }
  fsc_value *v = malloc(4096 * sizeof *v), *w = malloc(4096 * sizeof *w);
  size_t n, n2;
  fsc_metrics m0 = {.size = sizeof m0}, m1 = {.size = sizeof m1};
  ck_ok(fsc_list_metrics(l, &m0));
  for (int round = 0; round < 7; round++) {
    ck_ok(fsc_list_slice_get(l, FSC_SLICE(NONE, NONE, NONE), v, 4096, &n));
    if (round % 2) /* l[::-1] = l[:] */
      ck_ok(fsc_list_slice_set(l, FSC_SLICE(NONE, NONE, -1), v, n));
    else /* l[len:] = l[:]: doubles */
      ck_ok(fsc_list_slice_set(l, FSC_SLICE((int64_t)n, NONE, NONE), v, n));
    ck_ok(fsc_list_slice_get(l, FSC_SLICE(NONE, NONE, NONE), w, 4096, &n2));
    if (round % 2) {
      ck_assert_uint_eq(n2, n);
      for (size_t i = 0; i < n; i++)
        ck_assert(fsc_value_equal(&w[i], &v[n - 1 - i]));
    } else {
      ck_assert_uint_eq(n2, 2 * n);
      for (size_t i = 0; i < n; i++)
        ck_assert(fsc_value_equal(&w[i], &v[i]) &&
                  fsc_value_equal(&w[n + i], &v[i]));
    }
  }
  ck_assert_uint_eq(n2, N0 * 16);
  ck_ok(fsc_list_metrics(l, &m1));
  ck_assert_uint_gt(m1.data_file_bytes, m0.data_file_bytes); /* it grew */
  free(v);
  free(w);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* A heterogeneous list keeps each element's type through slices. */
START_TEST(test_any_list_types) {
  fsc_list *l = tmp_list(FSC_TYPE_ANY);
  fsc_value in[5] = {fsc_i32(-4), fsc_str("two"), fsc_f64(2.5),
                     fsc_bool(true), fsc_i64(INT64_MIN)};
  ck_ok(fsc_list_extend(l, in, 5));
  fsc_value out[5];
  size_t n;
  ck_ok(fsc_list_slice_get(l, FSC_SLICE(NONE, NONE, -1), out, 5, &n));
  ck_assert_uint_eq(n, 5);
  for (int i = 0; i < 5; i++)
    ck_assert_msg(fsc_value_equal(&out[i], &in[4 - i]), "element %d", i);
  fsc_value rep[2] = {fsc_bytes("\0\1", 2), fsc_i32(7)};
  ck_ok(fsc_list_slice_set(l, FSC_SLICE(1, NONE, 2), rep, 2)); /* [1], [3] */
  ck_ok(fsc_list_slice_get(l, FSC_SLICE(NONE, NONE, NONE), out, 5, &n));
  ck_assert(fsc_value_equal(&out[0], &in[0]) &&
            fsc_value_equal(&out[1], &rep[0]) &&
            fsc_value_equal(&out[2], &in[2]) &&
            fsc_value_equal(&out[3], &rep[1]) &&
            fsc_value_equal(&out[4], &in[4]));
  ck_assert_int_eq(out[1].type, FSC_TYPE_BYTES);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* Another process reading l[:] and l[::-1] sees each slice assignment
 * whole: the list before it or after it, never a mix. */
START_TEST(test_snapshot_before_or_after) {
  fsc_list *l = tmp_list(FSC_TYPE_INT64);
  static const int64_t A[5] = {1, 2, 3, 4, 5};
  static const int64_t B[7] = {10, 20, 30, 40, 50, 60, 70};
  set_i64(l, FSC_SLICE(NONE, NONE, NONE), A, 5);
  pid_t pid = fork();
  ck_assert(pid >= 0);
  if (pid == 0) {
    int bad = 0, seen_b = 0;
    for (;;) {
      fsc_value out[16];
      size_t n = 0;
      bool rev = seen_b % 2;
      if (fsc_list_slice_get(l, FSC_SLICE(NONE, NONE, rev ? -1 : NONE), out,
                             16, &n) != 0)
        _exit(100);
      if (n == 1 && out[0].u.i64 == -1)
        break; /* the end */
      const int64_t *want = n == 5 ? A : n == 7 ? B : NULL;
      if (!want) {
        bad++;
        continue;
      }
      for (size_t i = 0; i < n; i++)
        if (out[i].u.i64 != want[rev ? n - 1 - i : i]) {
          bad++;
          break;
        }
      seen_b += n == 7;
    }
    _exit(bad ? 1 : 0);
  }
  for (int i = 0; i < 3000; i++) {
    if (i % 2)
      set_i64(l, FSC_SLICE(NONE, NONE, NONE), A, 5);
    else
      set_i64(l, FSC_SLICE(0, 5, NONE), B, 7); /* 5 replaced by 7 */
    if (i % 3 == 0) { /* same content, written as l[::-1] = reversed */
      int64_t r[7];
      size_t n = get_i64(l, FSC_SLICE(NONE, NONE, -1), r, 7);
      set_i64(l, FSC_SLICE(NONE, NONE, -1), r, n); /* back to same order */
      ck_ok(fsc_list_slice_del(l, FSC_SLICE(n, NONE, NONE))); /* no-op */
    }
  }
  int64_t end = -1;
  set_i64(l, FSC_SLICE(NONE, NONE, NONE), &end, 1);
  int st = 0;
  ck_assert(waitpid(pid, &st, 0) == pid);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                "the reader saw a torn slice (status %d)", st);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* The same with a long list: the writer reverses short segments in place
 * (l[i:j] = l[i:j][::-1], and l[j-1:i-1:-1] = l[i:j]) and now and then
 * the whole list, so every state is a permutation of 0..N-1; a reader of
 * l[:] that mixed two states would see a value twice. */
START_TEST(test_snapshot_permutation) {
  enum { N = 20000, CHANGES = 3000 };
  fsc_list *l = tmp_list(FSC_TYPE_INT64);
  for (int i = 0; i < N; i++)
    ck_ok(fsc_list_append_i64(l, i));
  pid_t pid = fork();
  ck_assert(pid >= 0);
  if (pid == 0) {
    fsc_value *out = malloc(N * sizeof *out);
    unsigned char *seen = malloc(N);
    int bad = 0;
    for (;;) {
      size_t n = 0;
      if (fsc_list_slice_get(l, FSC_SLICE(NONE, NONE, NONE), out, N, &n))
        _exit(100);
      if (n == 1)
        break; /* the end */
      memset(seen, 0, N);
      for (size_t i = 0; i < n; i++) {
        int64_t v = out[i].u.i64;
        if (n != N || v < 0 || v >= N || seen[v]++) {
          bad++;
          break;
        }
      }
    }
    _exit(bad ? 1 : 0);
  }
  uint64_t x = 88172645463325252ull; /* xorshift */
  for (int c = 0; c < CHANGES; c++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    int64_t i = (int64_t)(x % (N - 16)), j = i + 2 + (int64_t)(x >> 32) % 14;
    int64_t seg[16], rev[16];
    size_t n = get_i64(l, FSC_SLICE(i, j, NONE), seg, 16);
    ck_assert_uint_eq(n, (size_t)(j - i));
    if (c % 2) {
      for (size_t k = 0; k < n; k++)
        rev[k] = seg[n - 1 - k];
      set_i64(l, FSC_SLICE(i, j, NONE), rev, n);
    } else {
      set_i64(l, FSC_SLICE(j - 1, i == 0 ? NONE : i - 1, -1), seg, n);
    }
    if (c % 3 == 0) /* moves every element, writes no record */
      ck_ok(fsc_list_reverse(l));
  }
  /* still a permutation here too */
  fsc_value *all = malloc(N * sizeof *all);
  size_t n;
  ck_ok(fsc_list_slice_get(l, FSC_SLICE(NONE, NONE, NONE), all, N, &n));
  ck_assert_uint_eq(n, N);
  unsigned char seen[N] = {0};
  for (size_t k = 0; k < n; k++)
    ck_assert(all[k].u.i64 >= 0 && all[k].u.i64 < N && !seen[all[k].u.i64]++);
  free(all);
  int64_t end = -1;
  set_i64(l, FSC_SLICE(NONE, NONE, NONE), &end, 1);
  int st = 0;
  ck_assert(waitpid(pid, &st, 0) == pid);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                "the reader saw a torn slice (status %d)", st);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Metrics and growth                                                  */
/* ------------------------------------------------------------------ */

START_TEST(test_metrics_dead_bytes) {
  fsc_list *l = range_list(8);
  fsc_metrics m0 = {.size = sizeof m0}, m1 = {.size = sizeof m1};
  ck_ok(fsc_list_metrics(l, &m0));
  ck_assert_uint_eq(m0.length, 8);
  ck_assert_uint_eq(m0.dead_bytes, 0);

  /* del l[0:6:2]: three records die */
  ck_ok(fsc_list_slice_del(l, FSC_SLICE(0, 6, 2)));
  ck_ok(fsc_list_metrics(l, &m1));
  uint64_t d = m1.dead_bytes - m0.dead_bytes;
  ck_assert_uint_gt(m1.dead_bytes, m0.dead_bytes);
  ck_assert_uint_eq(d % 3, 0);
  uint64_t rec = d / 3; /* one int64 record */
  ck_assert_uint_eq(m0.live_bytes - m1.live_bytes, d);
  ck_assert_uint_eq(m1.length, 5);
  ck_assert(m1.fragmentation_ratio > 0.0);

  /* l[0:2] = [a, b]: two replaced */
  m0 = m1;
  int64_t x[3] = {50, 51, 52};
  set_i64(l, FSC_SLICE(0, 2, NONE), x, 2);
  ck_ok(fsc_list_metrics(l, &m1));
  ck_assert_uint_eq(m1.dead_bytes - m0.dead_bytes, 2 * rec);
  ck_assert_uint_eq(m1.live_bytes, m0.live_bytes);

  /* l[::-2] = [...]: extended replacement of three */
  m0 = m1;
  set_i64(l, FSC_SLICE(NONE, NONE, -2), x, 3);
  ck_ok(fsc_list_metrics(l, &m1));
  ck_assert_uint_eq(m1.dead_bytes - m0.dead_bytes, 3 * rec);
  ck_assert_uint_eq(m1.live_bytes, m0.live_bytes);

  /* l[3:3] = [x]: a pure insertion kills nothing */
  m0 = m1;
  set_i64(l, FSC_SLICE(3, 3, NONE), x, 1);
  ck_ok(fsc_list_metrics(l, &m1));
  ck_assert_uint_eq(m1.dead_bytes, m0.dead_bytes);
  ck_assert_uint_eq(m1.live_bytes - m0.live_bytes, rec);
  ck_assert_uint_eq(m1.length, 6);

  /* reading changes nothing */
  m0 = m1;
  fsc_value out[8];
  size_t n;
  ck_ok(fsc_list_slice_get(l, FSC_SLICE(NONE, NONE, NONE), out, 8, &n));
  ck_ok(fsc_list_metrics(l, &m1));
  ck_assert_uint_eq(m1.dead_bytes, m0.dead_bytes);
  ck_assert_uint_eq(m1.live_bytes, m0.live_bytes);

  /* a refused assignment keeps the live bytes */
  ck_fsc(fsc_list_slice_set(l, FSC_SLICE(NONE, NONE, 2),
                            (fsc_value[]){fsc_i64(1)}, 1),
         FSC_EVALUE);
  ck_ok(fsc_list_metrics(l, &m1));
  ck_assert_uint_eq(m1.live_bytes, m0.live_bytes);
  ck_assert_uint_eq(m1.length, 6);

  /* del l[:] kills the rest */
  m0 = m1;
  ck_ok(fsc_list_slice_del(l, FSC_SLICE(NONE, NONE, NONE)));
  ck_ok(fsc_list_metrics(l, &m1));
  ck_assert_uint_eq(m1.dead_bytes - m0.dead_bytes, 6 * rec);
  ck_assert_uint_eq(m1.length, 0);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* Slice assignment that grows the pointer array far past its capacity,
 * then shrinks it, all checked against the model; appends keep working. */
START_TEST(test_growth_vs_model) {
  fsc_list *l = range_list(4);
  model m = {0};
  m_reserve(&m, 4);
  for (int i = 0; i < 4; i++)
    m.v[i] = i;
  m.n = 4;
  fsc_value vs[64];
  int64_t x[64];
  char msg[160];
  for (int round = 0; round < 60; round++) {
    size_t nx = 1 + (size_t)(round * 7) % 64;
    for (size_t k = 0; k < nx; k++)
      x[k] = 10000 * (round + 1) + (int64_t)k;
    i64s(vs, x, nx);
    int64_t mid = (int64_t)m.n / 2, a = round % 2 ? mid : -mid;
    /* mostly insertions (l[a:a] = x), every third a replacement of two */
    fsc_slice s = FSC_SLICE(a, round % 3 ? a : a + 2, NONE);
    ck_assert_int_eq(m_set(&m, s, x, nx, msg, sizeof msg), 0);
    ck_ok(fsc_list_slice_set(l, s, vs, nx));
    if (round % 10 == 9)
      expect_list(l, &m, "growing");
  }
  expect_list(l, &m, "grown");
  ck_assert_uint_gt(m.n, 1000);
  fsc_slice d = FSC_SLICE(1, NONE, 3);
  m_del(&m, d);
  ck_ok(fsc_list_slice_del(l, d));
  expect_list(l, &m, "del l[1::3]");
  d = FSC_SLICE(-5, 10, -2);
  m_del(&m, d);
  ck_ok(fsc_list_slice_del(l, d));
  expect_list(l, &m, "del l[-5:10:-2]");
  fsc_slice big = FSC_SLICE(10, NONE, NONE);
  ck_assert_int_eq(m_set(&m, big, x, 3, msg, sizeof msg), 0);
  set_i64(l, big, x, 3);
  expect_list(l, &m, "l[10:] = 3 values");
  ck_ok(fsc_list_append_i64(l, -1));
  m_reserve(&m, m.n + 1);
  m.v[m.n++] = -1;
  expect_list(l, &m, "append after");
  free(m.v);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* One element at a time, so that every length meets the array's capacity
 * exactly once: l[len:] = [k]; append; del l[-1:]; l[:0] = [-k]. */
START_TEST(test_grow_one_by_one) {
  fsc_list *l = tmp_list(FSC_TYPE_INT64);
  model m = {0};
  for (int64_t k = 0; k < 300; k++) {
    set_i64(l, FSC_SLICE(INT64_MAX, NONE, NONE), &k, 1);
    ck_ok(fsc_list_append_i64(l, 7777));
    uint64_t len;
    ck_ok(fsc_list_len(l, &len));
    ck_assert_uint_eq(len, 2 * (uint64_t)k + 2);
    int64_t last;
    ck_ok(fsc_list_get_i64(l, -1, &last));
    ck_assert_int_eq(last, 7777);
    ck_ok(fsc_list_slice_del(l, FSC_SLICE(-1, NONE, NONE)));
    int64_t neg = -k;
    set_i64(l, FSC_SLICE(NONE, 0, NONE), &neg, 1);
  }
  m_reserve(&m, 600);
  for (int64_t k = 0; k < 300; k++) {
    m.v[k] = -(299 - k);
    m.v[300 + k] = k;
  }
  m.n = 600;
  expect_list(l, &m, "after 300 rounds");
  free(m.v);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */

static Suite *slice_suite(void) {
  Suite *s = suite_create("list_slice");

  TCase *tc = tcase_create("exhaustive");
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, test_model_sanity);
  tcase_add_test(tc, test_get_exhaustive);
  tcase_add_test(tc, test_del_exhaustive);
  tcase_add_test(tc, test_set_step1_exhaustive);
  tcase_add_test(tc, test_set_extended_exhaustive);
  tcase_add_test(tc, test_huge_bounds_vs_model);
  suite_add_tcase(s, tc);

  tc = tcase_create("errors");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_step_zero);
  tcase_add_test(tc, test_get_out_too_small);
  tcase_add_test(tc, test_set_invalid_type_leaves_list);
  tcase_add_test(tc, test_closed_and_readonly);
  suite_add_tcase(s, tc);

  tc = tcase_create("cases");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, test_reverse_every_other);
  tcase_add_test(tc, test_drop_first_and_last);
  tcase_add_test(tc, test_assign_backwards_range_inserts_at_start);
  tcase_add_test(tc, test_del_every_other);
  tcase_add_test(tc, test_assign_reversed);
  tcase_add_test(tc, test_assign_truncate_extend_prepend);
  tcase_add_test(tc, test_huge_bounds_hand);
  tcase_add_test(tc, test_string_views);
  tcase_add_test(tc, test_string_self_assign);
  tcase_add_test(tc, test_any_list_types);
  tcase_add_test(tc, test_snapshot_before_or_after);
  tcase_add_test(tc, test_snapshot_permutation);
  tcase_add_test(tc, test_metrics_dead_bytes);
  tcase_add_test(tc, test_growth_vs_model);
  tcase_add_test(tc, test_grow_one_by_one);
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  Suite *s = slice_suite();
  return tc_run(s);
}
