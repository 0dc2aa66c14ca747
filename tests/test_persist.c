/*
 * test_persist.c - what survives closing and reopening a list, and what
 * opening refuses.
 *
 *  - every element type round-trips through close and reopen, extremes and
 *    odd values included (int128 limits, NaN, -0.0, empty and multibyte
 *    strings, bytes with NULs, json, refs), also mixed in an ANY list;
 *  - the result of structural operations (insert, pop, del, sort, reverse,
 *    slices) and of growth past many file and array growths persists;
 *  - the clean-close marker and the last_close_clean metric; a process that
 *    exits (or is killed) without closing leaves a list the next opener
 *    verifies, with every acknowledged element;
 *  - damaged files (magic, version, kind, type, truncation, mismatched
 *    pair, hostile offsets) give FSC_ECORRUPT / FSC_EVERSION / FSC_EKIND
 *    with a message, never a crash;
 *  - durability modes, destroy, and read-only opens.
 */
#include "check_common.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* File offsets from doc/FORMAT.md. */
#define OFF_MAGIC 0
#define OFF_VERSION 8
#define OFF_KIND 12
#define OFF_ELEM_TYPE 13
#define OFF_HDR_SIZE 14
#define OFF_FILE_ID 16
#define OFF_DATA_TAIL 64
#define OFF_DATA_CAP 72
#define OFF_LENWORD 64
#define OFF_DESC0_OFF 72
#define OFF_DESC0_CAP 80
#define OFF_ITAIL 120
#define HDR 4096
#define REC_HDR 16 /* a record's header; an int64 record is 24 bytes */

/* base.data.fscollection / base.index.fscollection, in one of 16
 * rotating buffers (so several can be used in one expression; copy the
 * result to keep it longer). */
static char *fpath(const char *base, const char *which) {
  static char p[16][1024];
  static unsigned k;
  char *b = p[k++ % 16];
  snprintf(b, 1024, "%.900s.%.5s.fscollection", base, which);
  return b;
}

static off_t fsize(const char *p) {
  struct stat st;
  ck_assert_msg(stat(p, &st) == 0, "stat %s: %s", p, strerror(errno));
  return st.st_size;
}

static void poke(const char *p, off_t off, const void *b, size_t n) {
  int fd = open(p, O_RDWR);
  ck_assert_msg(fd >= 0, "open %s: %s", p, strerror(errno));
  ck_assert_int_eq(pwrite(fd, b, n, off), (ssize_t)n);
  close(fd);
}

static void peek(const char *p, off_t off, void *b, size_t n) {
  int fd = open(p, O_RDONLY);
  ck_assert_msg(fd >= 0, "open %s: %s", p, strerror(errno));
  ck_assert_int_eq(pread(fd, b, n, off), (ssize_t)n);
  close(fd);
}

static void poke64(const char *p, off_t off, uint64_t v) {
  poke(p, off, &v, 8);
}

static uint64_t peek64(const char *p, off_t off) {
  uint64_t v;
  peek(p, off, &v, 8);
  return v;
}

static uint8_t last_byte(const char *p) {
  uint8_t b;
  peek(p, fsize(p) - 1, &b, 1);
  return b;
}

static void copy_file(const char *from, const char *to) {
  int in = open(from, O_RDONLY);
  ck_assert_msg(in >= 0, "open %s: %s", from, strerror(errno));
  int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ck_assert_msg(out >= 0, "open %s: %s", to, strerror(errno));
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0)
    ck_assert_int_eq(write(out, buf, (size_t)n), n);
  ck_assert_int_eq(n, 0);
  close(in);
  close(out);
}

/* Keep a copy of a closed list's two files, and put it back. */
static void save(const char *base) {
  char b[1100];
  snprintf(b, sizeof b, "%s.saved", fpath(base, "data"));
  copy_file(fpath(base, "data"), b);
  snprintf(b, sizeof b, "%s.saved", fpath(base, "index"));
  copy_file(fpath(base, "index"), b);
}

static void restore(const char *base) {
  char b[1100];
  snprintf(b, sizeof b, "%s.saved", fpath(base, "data"));
  copy_file(b, fpath(base, "data"));
  snprintf(b, sizeof b, "%s.saved", fpath(base, "index"));
  copy_file(b, fpath(base, "index"));
}

static fsc_options opts_type(fsc_type t) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = t;
  return o;
}

static fsc_list *open_t(const char *base, fsc_type t) {
  fsc_options o = opts_type(t);
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(base, &o, &l));
  ck_assert_ptr_nonnull(l);
  return l;
}

static void close_free(fsc_list *l) {
  ck_ok(fsc_list_close(l));
  fsc_list_free(l);
}

static fsc_metrics metrics(fsc_list *l) {
  fsc_metrics m;
  memset(&m, 0, sizeof m);
  m.size = sizeof m;
  ck_ok(fsc_list_metrics(l, &m));
  return m;
}

/* Open must fail with `want` and say why. */
static void open_fails(const char *base, fsc_type t, int want,
                       const char *what) {
  fsc_options o = opts_type(t);
  o.flags = 0; /* never create */
  fsc_list *l = (fsc_list *)&o; /* must be reset to NULL */
  int rc = fsc_list_open(base, &o, &l);
  ck_assert_msg(rc == want, "%s: open returned %d (%s: %s), want %d (%s)",
                what, rc, fsc_strerror(rc), fsc_errmsg(), want,
                fsc_strerror(want));
  ck_assert_msg(l == NULL, "%s: *out not NULL on failure", what);
  ck_assert_msg(strlen(fsc_errmsg()) > 0, "%s: no error message", what);
  /* With FSC_CREATE too: a damaged list is never silently re-created. */
  o.flags = FSC_CREATE;
  rc = fsc_list_open(base, &o, &l);
  ck_assert_msg(rc == want, "%s (FSC_CREATE): open returned %d (%s: %s), "
                "want %d (%s)", what, rc, fsc_strerror(rc), fsc_errmsg(),
                want, fsc_strerror(want));
  if (rc == 0)
    fsc_list_free(l);
}

/* Exact equality for the tests: same type, same bits. */
static bool same(const fsc_value *a, const fsc_value *b) {
  if (a->type != b->type)
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
  case FSC_TYPE_FLOAT:
    return memcmp(&a->u.f, &b->u.f, sizeof(double)) == 0;
  default:
    return a->u.buf.len == b->u.buf.len &&
           (a->u.buf.len == 0 ||
            memcmp(a->u.buf.ptr, b->u.buf.ptr, a->u.buf.len) == 0);
  }
}

static void check_values(fsc_list *l, const fsc_value *want, size_t n,
                         const char *what) {
  uint64_t len;
  ck_ok(fsc_list_len(l, &len));
  ck_assert_msg(len == n, "%s: length %llu, want %zu", what,
                (unsigned long long)len, n);
  for (size_t i = 0; i < n; i++) {
    fsc_value v;
    ck_ok(fsc_list_get(l, (int64_t)i, &v));
    ck_assert_msg(same(&v, &want[i]), "%s: element %zu (type %d) differs",
                  what, i, (int)want[i].type);
    ck_assert_msg(fsc_value_equal(&v, &want[i]),
                  "%s: fsc_value_equal says element %zu differs", what, i);
  }
}

static fsc_value ref_value(const char *s) {
  fsc_value v;
  memset(&v, 0, sizeof v);
  v.type = FSC_TYPE_REF;
  v.u.buf.ptr = s;
  v.u.buf.len = strlen(s);
  return v;
}

static fsc_value json_value(const char *s) { return fsc_json(s, strlen(s)); }

/* ------------------------------------------------------------------ */
/* Every type round-trips                                              */
/* ------------------------------------------------------------------ */

static const char BYTES_NUL[] = {0, 1, 0, (char)0xff, 0, 'x', 0};
static char ALL_BYTES[256];
static char LONG_STR[20001];

#define MAXV 24

struct typed_set {
  fsc_type type;
  fsc_value v[MAXV];
  size_t n;
};

static void add(struct typed_set *s, fsc_value v) {
  ck_assert_uint_lt(s->n, MAXV);
  s->v[s->n++] = v;
}

static void build_sets(struct typed_set *sets, size_t *nsets) {
  for (int i = 0; i < 256; i++)
    ALL_BYTES[i] = (char)i;
  for (int i = 0; i < 20000; i++)
    LONG_STR[i] = (char)('a' + i % 26);
  LONG_STR[20000] = 0;
  memset(sets, 0, sizeof *sets * 10);
  size_t k = 0;
  struct typed_set *s;

  s = &sets[k++];
  s->type = FSC_TYPE_INT32;
  add(s, fsc_i32(INT32_MIN));
  add(s, fsc_i32(-1));
  add(s, fsc_i32(0));
  add(s, fsc_i32(1));
  add(s, fsc_i32(INT32_MAX));

  s = &sets[k++];
  s->type = FSC_TYPE_INT64;
  add(s, fsc_i64(INT64_MIN));
  add(s, fsc_i64(-1));
  add(s, fsc_i64(0));
  add(s, fsc_i64(INT64_C(0x0102030405060708)));
  add(s, fsc_i64(INT64_MAX));

  s = &sets[k++];
  s->type = FSC_TYPE_INT128;
  add(s, fsc_i128((fsc_int128){0, INT64_MIN}));          /* -2^127 */
  add(s, fsc_i128((fsc_int128){UINT64_MAX, INT64_MAX})); /* 2^127-1 */
  add(s, fsc_i128((fsc_int128){UINT64_MAX, -1}));        /* -1 */
  add(s, fsc_i128((fsc_int128){0, 0}));
  add(s, fsc_i128((fsc_int128){0, 1}));                  /* 2^64 */
  add(s, fsc_i128((fsc_int128){UINT64_MAX, 0}));         /* 2^64-1 */

  s = &sets[k++];
  s->type = FSC_TYPE_STRING;
  add(s, fsc_str(""));
  add(s, fsc_str("plain ascii"));
  add(s, fsc_str("h\xc3\xa9llo w\xc3\xb6rld"));             /* 2-byte */
  add(s, fsc_str("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"));  /* 3-byte */
  add(s, fsc_str("\xf0\x9f\x8e\x89 party \xf0\x9f\x98\x80")); /* 4-byte */
  add(s, fsc_strn("nul\0inside", 10));
  add(s, fsc_str(LONG_STR));

  s = &sets[k++];
  s->type = FSC_TYPE_BOOL;
  add(s, fsc_bool(true));
  add(s, fsc_bool(false));
  add(s, fsc_bool(true));

  s = &sets[k++];
  s->type = FSC_TYPE_FLOAT;
  add(s, fsc_f64(INFINITY));
  add(s, fsc_f64(-INFINITY));
  add(s, fsc_f64(NAN));
  add(s, fsc_f64(-0.0));
  add(s, fsc_f64(0.0));
  add(s, fsc_f64(5e-324)); /* smallest subnormal */
  add(s, fsc_f64(1.7976931348623157e308));
  add(s, fsc_f64(-3.25));

  s = &sets[k++];
  s->type = FSC_TYPE_BYTES;
  add(s, fsc_bytes(BYTES_NUL, sizeof BYTES_NUL));
  add(s, fsc_bytes("", 0));
  add(s, fsc_bytes(ALL_BYTES, sizeof ALL_BYTES));

  s = &sets[k++];
  s->type = FSC_TYPE_JSON;
  add(s, json_value("{}"));
  add(s, json_value("[1, 2.5, {\"a\": null, \"b\": [true, false]}]"));
  add(s, json_value("\"caf\xc3\xa9\""));
  add(s, json_value("-12"));
  add(s, json_value("{\"nested\": {\"deep\": [[[]]]}}"));

  s = &sets[k++];
  s->type = FSC_TYPE_REF;
  add(s, ref_value("ref://fscollection:list?path=/tmp/some/list"));
  add(s, ref_value("ref://fscollection:dict?path=/var/lib/x y"));
  add(s, ref_value("ref://fscollection:set?path=rel/path"));

  /* ANY: one of each of the above. */
  s = &sets[k++];
  s->type = FSC_TYPE_ANY;
  for (size_t j = 0; j + 1 < k; j++) {
    add(s, sets[j].v[0]);
    add(s, sets[j].v[sets[j].n - 1]);
  }
  *nsets = k;
}

START_TEST(test_types_roundtrip) {
  struct typed_set sets[10];
  size_t nsets;
  build_sets(sets, &nsets);
  const char *dir = tc_dir();
  for (size_t k = 0; k < nsets; k++) {
    struct typed_set *s = &sets[k];
    const char *tn = fsc_type_name(s->type);
    char base[400];
    snprintf(base, sizeof base, "%.300s/%.32s", dir, tn);
    fsc_list *l = open_t(base, s->type);
    ck_assert_int_eq(fsc_list_type(l), (int)s->type);
    for (size_t i = 0; i < s->n; i++) {
      int rc = fsc_list_append(l, &s->v[i]);
      ck_assert_msg(rc == 0, "%s: append %zu: %d (%s)", tn, i, rc,
                    fsc_errmsg());
    }
    check_values(l, s->v, s->n, tn);
    close_free(l);

    /* Reopen without naming the type: the file knows it. */
    l = open_t(base, FSC_TYPE_UNSPEC);
    ck_assert_int_eq(fsc_list_type(l), (int)s->type);
    check_values(l, s->v, s->n, tn);
    fsc_metrics m = metrics(l);
    ck_assert(m.last_close_clean);
    ck_assert_uint_eq(m.repaired_items, 0);
    /* Floats keep their bits: NaN stays NaN, -0.0 keeps its sign. */
    if (s->type == FSC_TYPE_FLOAT) {
      fsc_value v;
      ck_ok(fsc_list_get(l, 2, &v));
      ck_assert(isnan(v.u.f));
      ck_ok(fsc_list_get(l, 3, &v));
      ck_assert(v.u.f == 0.0 && signbit(v.u.f));
      ck_ok(fsc_list_get(l, 0, &v));
      ck_assert(isinf(v.u.f) && v.u.f > 0);
    }
    /* Values written after a reopen persist too. */
    ck_ok(fsc_list_append(l, &s->v[0]));
    close_free(l);
    l = open_t(base, s->type);
    uint64_t n;
    ck_ok(fsc_list_len(l, &n));
    ck_assert_uint_eq(n, s->n + 1);
    fsc_value v;
    ck_ok(fsc_list_get(l, -1, &v));
    ck_assert(same(&v, &s->v[0]));
    close_free(l);

    /* Another declared type is refused, and nothing changes. */
    if (s->type != FSC_TYPE_ANY) {
      fsc_options o = opts_type(s->type == FSC_TYPE_INT64 ? FSC_TYPE_STRING
                                                          : FSC_TYPE_INT64);
      fsc_list *bad = NULL;
      ck_fsc(fsc_list_open(base, &o, &bad), FSC_ETYPE);
      ck_assert_ptr_null(bad);
    }
    tc_rm(base);
  }
}
END_TEST

/* Zero-copy views handed out before close stay valid until close, and the
 * typed getters persist too. */
START_TEST(test_typed_shorthands_roundtrip) {
  const char *base = tc_path("shorthand");
  fsc_list *l = open_t(base, FSC_TYPE_ANY);
  ck_ok(fsc_list_append_i64(l, -77));
  ck_ok(fsc_list_append_f64(l, 2.5));
  ck_ok(fsc_list_append_str(l, "z\xc3\xbcrich"));
  close_free(l);
  l = open_t(base, FSC_TYPE_UNSPEC);
  int64_t i;
  double d;
  const char *p;
  size_t n;
  ck_ok(fsc_list_get_i64(l, 0, &i));
  ck_assert_int_eq(i, -77);
  ck_ok(fsc_list_get_f64(l, 1, &d));
  ck_assert(d == 2.5);
  ck_ok(fsc_list_get_str(l, 2, &p, &n));
  ck_assert_uint_eq(n, 7);
  ck_assert(memcmp(p, "z\xc3\xbcrich", 7) == 0);
  ck_fsc(fsc_list_get_i64(l, 1, &i), FSC_ETYPE);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Structural operations persist                                       */
/* ------------------------------------------------------------------ */

/* A model of the list: a plain array with Python's semantics for the
 * operations used below. */
struct model {
  int64_t *a;
  size_t n, cap;
};

static void m_reserve(struct model *m, size_t n) {
  if (n > m->cap) {
    m->cap = n * 2 + 16;
    m->a = realloc(m->a, m->cap * sizeof *m->a);
    ck_assert_ptr_nonnull(m->a);
  }
}

static void m_insert(struct model *m, int64_t i, int64_t v) {
  int64_t n = (int64_t)m->n;
  if (i < 0)
    i = i + n < 0 ? 0 : i + n;
  if (i > n)
    i = n;
  m_reserve(m, m->n + 1);
  memmove(m->a + i + 1, m->a + i, (size_t)(n - i) * sizeof *m->a);
  m->a[i] = v;
  m->n++;
}

static int64_t m_pop(struct model *m, int64_t i) {
  if (i < 0)
    i += (int64_t)m->n;
  ck_assert(i >= 0 && (size_t)i < m->n);
  int64_t v = m->a[i];
  memmove(m->a + i, m->a + i + 1, (m->n - (size_t)i - 1) * sizeof *m->a);
  m->n--;
  return v;
}

static void m_reverse(struct model *m) {
  for (size_t i = 0, j = m->n; i + 1 < j; i++, j--) {
    int64_t t = m->a[i];
    m->a[i] = m->a[j - 1];
    m->a[j - 1] = t;
  }
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* Positions of a slice in Python's order (PySlice_AdjustIndices). */
static size_t m_slice(const struct model *m, int64_t start, int64_t stop,
                      int64_t step, size_t *pos) {
  int64_t len = (int64_t)m->n;
  if (start == FSC_NONE)
    start = step < 0 ? len - 1 : 0;
  else if (start < 0)
    start = start + len < 0 ? (step < 0 ? -1 : 0) : start + len;
  else if (start >= len)
    start = step < 0 ? len - 1 : len;
  if (stop == FSC_NONE)
    stop = step < 0 ? -1 : len;
  else if (stop < 0)
    stop = stop + len < 0 ? (step < 0 ? -1 : 0) : stop + len;
  else if (stop >= len)
    stop = step < 0 ? len - 1 : len;
  size_t k = 0;
  if (step > 0)
    for (int64_t i = start; i < stop; i += step)
      pos[k++] = (size_t)i;
  else
    for (int64_t i = start; i > stop; i += step)
      pos[k++] = (size_t)i;
  return k;
}

/* m[start:stop] = vs (step 1). */
static void m_slice_set1(struct model *m, int64_t start, int64_t stop,
                         const int64_t *vs, size_t nv) {
  size_t *pos = malloc((m->n + 1) * sizeof *pos);
  size_t k = m_slice(m, start, stop, 1, pos);
  size_t i;
  if (k) {
    i = pos[0];
  } else { /* empty slice: insertion point */
    int64_t len = (int64_t)m->n;
    int64_t s = start == FSC_NONE ? 0 : start;
    if (s < 0)
      s = s + len < 0 ? 0 : s + len;
    if (s > len)
      s = len;
    i = (size_t)s;
  }
  free(pos);
  size_t newn = m->n - k + nv;
  m_reserve(m, newn);
  memmove(m->a + i + nv, m->a + i + k, (m->n - i - k) * sizeof *m->a);
  memcpy(m->a + i, vs, nv * sizeof *vs);
  m->n = newn;
}

static void m_slice_del(struct model *m, int64_t start, int64_t stop,
                        int64_t step) {
  size_t *pos = malloc((m->n + 1) * sizeof *pos);
  size_t k = m_slice(m, start, stop, step, pos);
  uint8_t *gone = calloc(m->n + 1, 1);
  for (size_t j = 0; j < k; j++)
    gone[pos[j]] = 1;
  size_t w = 0;
  for (size_t j = 0; j < m->n; j++)
    if (!gone[j])
      m->a[w++] = m->a[j];
  m->n = w;
  free(gone);
  free(pos);
}

static void check_model(fsc_list *l, const struct model *m,
                        const char *what) {
  uint64_t n;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_msg(n == m->n, "%s: length %llu, model %zu", what,
                (unsigned long long)n, m->n);
  for (size_t i = 0; i < m->n; i++) {
    int64_t v;
    ck_ok(fsc_list_get_i64(l, (int64_t)i, &v));
    ck_assert_msg(v == m->a[i], "%s: [%zu] = %lld, model %lld", what, i,
                  (long long)v, (long long)m->a[i]);
  }
}

static void set_i64s(fsc_value *vs, const int64_t *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    vs[i] = fsc_i64(x[i]);
}

/* One round of every structural operation on both the list and model. */
static void struct_round(fsc_list *l, struct model *m, int64_t salt) {
  fsc_value got, vs[16];
  int64_t x[16];
  fsc_value v = fsc_i64(-1 - salt);
  ck_ok(fsc_list_insert(l, 0, &v));
  m_insert(m, 0, v.u.i64);
  v = fsc_i64(-2 - salt);
  ck_ok(fsc_list_insert(l, (int64_t)(m->n / 2), &v));
  m_insert(m, (int64_t)(m->n / 2), v.u.i64);
  v = fsc_i64(-3 - salt);
  ck_ok(fsc_list_insert(l, -1, &v));
  m_insert(m, -1, v.u.i64);
  v = fsc_i64(-4 - salt);
  ck_ok(fsc_list_insert(l, INT64_MAX, &v)); /* clamped: the end */
  m_insert(m, INT64_MAX, v.u.i64);
  v = fsc_i64(-5 - salt);
  ck_ok(fsc_list_insert(l, INT64_MIN + 1, &v)); /* clamped: the front */
  m_insert(m, INT64_MIN + 1, v.u.i64);

  ck_ok(fsc_list_pop(l, 0, &got));
  ck_assert_int_eq(got.u.i64, m_pop(m, 0));
  ck_ok(fsc_list_pop(l, -1, &got));
  ck_assert_int_eq(got.u.i64, m_pop(m, -1));
  ck_ok(fsc_list_pop(l, 37, &got));
  ck_assert_int_eq(got.u.i64, m_pop(m, 37));
  ck_ok(fsc_list_del(l, 7));
  m_pop(m, 7);
  ck_ok(fsc_list_del(l, -3));
  m_pop(m, -3);

  ck_ok(fsc_list_reverse(l));
  m_reverse(m);

  /* a[10:20] = 5 values */
  for (int i = 0; i < 5; i++)
    x[i] = 100000 + salt * 100 + i;
  set_i64s(vs, x, 5);
  ck_ok(fsc_list_slice_set(l, FSC_SLICE(10, 20, 1), vs, 5));
  m_slice_set1(m, 10, 20, x, 5);
  /* a[3:3] = 2 values (an insertion) */
  x[0] = 200000 + salt;
  x[1] = 200001 + salt;
  set_i64s(vs, x, 2);
  ck_ok(fsc_list_slice_set(l, FSC_SLICE(3, 3, 1), vs, 2));
  m_slice_set1(m, 3, 3, x, 2);
  /* a[-6:] = [] (a deletion) */
  ck_ok(fsc_list_slice_set(l, FSC_SLICE(-6, FSC_NONE, 1), vs, 0));
  m_slice_set1(m, -6, FSC_NONE, x, 0);
  /* a[5:50:7] = same count (extended) */
  {
    size_t pos[64], k = m_slice(m, 5, 50, 7, pos);
    for (size_t i = 0; i < k; i++)
      x[i] = 300000 + salt * 100 + (int64_t)i;
    set_i64s(vs, x, k);
    ck_ok(fsc_list_slice_set(l, FSC_SLICE(5, 50, 7), vs, k));
    for (size_t i = 0; i < k; i++)
      m->a[pos[i]] = x[i];
  }
  /* a[::-5] = same count (negative step) */
  {
    size_t *pos = malloc(m->n * sizeof *pos), k;
    k = m_slice(m, FSC_NONE, FSC_NONE, -5, pos);
    fsc_value *big = malloc(k * sizeof *big);
    for (size_t i = 0; i < k; i++) {
      big[i] = fsc_i64(400000 + salt * 1000 + (int64_t)i);
      m->a[pos[i]] = big[i].u.i64;
    }
    ck_ok(fsc_list_slice_set(l, FSC_SLICE(FSC_NONE, FSC_NONE, -5), big, k));
    free(big);
    free(pos);
  }
  /* del a[100:200:3], del a[-10:-20:-2] */
  ck_ok(fsc_list_slice_del(l, FSC_SLICE(100, 200, 3)));
  m_slice_del(m, 100, 200, 3);
  ck_ok(fsc_list_slice_del(l, FSC_SLICE(-10, -20, -2)));
  m_slice_del(m, -10, -20, -2);
  /* remove the first occurrence of a value */
  v = fsc_i64(m->a[m->n / 3]);
  ck_ok(fsc_list_remove(l, &v));
  for (size_t i = 0; i < m->n; i++)
    if (m->a[i] == v.u.i64) {
      m_pop(m, (int64_t)i);
      break;
    }
}

START_TEST(test_structural_persist) {
  const char *base = tc_path("structural");
  fsc_list *l = open_t(base, FSC_TYPE_INT64);
  struct model m = {0};
  for (int64_t i = 0; i < 1000; i++) {
    int64_t x = (i * 7919) % 1000; /* a permutation, for sort */
    ck_ok(fsc_list_append_i64(l, x));
    m_insert(&m, (int64_t)m.n, x);
  }
  struct_round(l, &m, 0);
  check_model(l, &m, "round 0, open");
  close_free(l);
  l = open_t(base, FSC_TYPE_INT64);
  check_model(l, &m, "round 0, reopened");

  struct_round(l, &m, 1);
  ck_ok(fsc_list_sort(l, false));
  qsort(m.a, m.n, sizeof *m.a, cmp_i64);
  check_model(l, &m, "sorted, open");
  close_free(l);
  l = open_t(base, FSC_TYPE_INT64);
  check_model(l, &m, "sorted, reopened");

  ck_ok(fsc_list_sort(l, true));
  m_reverse(&m); /* distinct values: reverse of ascending */
  struct_round(l, &m, 2);
  close_free(l);
  l = open_t(base, FSC_TYPE_INT64);
  check_model(l, &m, "round 2, reopened");
  fsc_metrics mt = metrics(l);
  ck_assert(mt.last_close_clean);
  ck_assert_uint_gt(mt.structural_epoch, 30);

  /* clear persists as an empty list that still works */
  ck_ok(fsc_list_clear(l));
  close_free(l);
  l = open_t(base, FSC_TYPE_INT64);
  uint64_t n;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_uint_eq(n, 0);
  ck_ok(fsc_list_append_i64(l, 5));
  close_free(l);
  l = open_t(base, FSC_TYPE_INT64);
  int64_t x;
  ck_ok(fsc_list_get_i64(l, 0, &x));
  ck_assert_int_eq(x, 5);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
  free(m.a);
}
END_TEST

/* Strings: sort by code point (multibyte included), item assignment. */
START_TEST(test_strings_sort_set_persist) {
  const char *base = tc_path("strsort");
  fsc_list *l = open_t(base, FSC_TYPE_STRING);
  const char *in[] = {"\xe6\x97\xa5", "b", "", "\xc3\xa9", "a",
                      "\xf0\x9f\x8e\x89", "ab"};
  const char *sorted[] = {"", "a", "ab", "b", "\xc3\xa9", "\xe6\x97\xa5",
                          "\xf0\x9f\x8e\x89"};
  for (int i = 0; i < 7; i++)
    ck_ok(fsc_list_append_str(l, in[i]));
  ck_ok(fsc_list_sort(l, false));
  fsc_value v = fsc_str("zz-set");
  ck_ok(fsc_list_set(l, 1, &v)); /* "a" -> "zz-set" */
  close_free(l);
  l = open_t(base, FSC_TYPE_STRING);
  for (int i = 0; i < 7; i++) {
    const char *p;
    size_t n;
    const char *want = i == 1 ? "zz-set" : sorted[i];
    ck_ok(fsc_list_get_str(l, i, &p, &n));
    ck_assert_msg(n == strlen(want) && memcmp(p, want, n) == 0,
                  "element %d: \"%.*s\", want \"%s\"", i, (int)n, p, want);
  }
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Growth                                                              */
/* ------------------------------------------------------------------ */

#define GROW_N 200000

/* Element i: a string of 0..90 bytes that encodes i. */
static size_t grow_str(char *b, uint64_t i) {
  size_t n = (size_t)snprintf(b, 32, "%llu:", (unsigned long long)i);
  size_t extra = (size_t)((i * 2654435761u) % 80);
  for (size_t k = 0; k < extra; k++)
    b[n + k] = (char)('A' + (i + k) % 26);
  return n + extra;
}

START_TEST(test_growth_200k) {
  const char *base = tc_path("growth");
  fsc_list *l = open_t(base, FSC_TYPE_STRING);
  off_t d0 = fsize(fpath(base, "data")), i0 = fsize(fpath(base, "index"));
  char b[128];
  fsc_value batch[100];
  char bb[100][128];
  for (uint64_t i = 0; i < GROW_N;) {
    if (i % 1000 == 0 && i + 100 <= GROW_N) { /* extend now and then */
      for (int k = 0; k < 100; k++)
        batch[k] = fsc_strn(bb[k], grow_str(bb[k], i + (uint64_t)k));
      ck_ok(fsc_list_extend(l, batch, 100));
      i += 100;
      continue;
    }
    fsc_value v = fsc_strn(b, grow_str(b, i));
    ck_ok(fsc_list_append(l, &v));
    i++;
  }
  /* A structural change on the grown list. */
  fsc_value v = fsc_str("middle"), got;
  ck_ok(fsc_list_insert(l, GROW_N / 2, &v));
  ck_ok(fsc_list_pop(l, GROW_N / 2, &got));
  ck_assert(got.u.buf.len == 6 && memcmp(got.u.buf.ptr, "middle", 6) == 0);
  fsc_metrics m = metrics(l);
  ck_assert_uint_eq(m.length, GROW_N);
  /* Many growths of both files: at least 8x the initial sizes. */
  ck_assert_msg(fsize(fpath(base, "data")) >= 8 * d0, "data %lld from %lld",
                (long long)fsize(fpath(base, "data")), (long long)d0);
  ck_assert_msg(fsize(fpath(base, "index")) >= 8 * i0,
                "index %lld from %lld",
                (long long)fsize(fpath(base, "index")), (long long)i0);
  ck_assert_uint_ge(m.index_file_bytes, GROW_N * 8);
  close_free(l);

  l = open_t(base, FSC_TYPE_UNSPEC);
  m = metrics(l);
  ck_assert(m.last_close_clean);
  ck_assert_uint_eq(m.length, GROW_N);
  fsc_list_iter it;
  ck_ok(fsc_list_iter_init(l, &it));
  uint64_t i = 0;
  int rc;
  while ((rc = fsc_list_iter_next(&it, &v)) == 1) {
    size_t n = grow_str(b, i);
    if (v.u.buf.len != n || memcmp(v.u.buf.ptr, b, n) != 0)
      ck_abort_msg("element %llu differs after reopen",
                   (unsigned long long)i);
    i++;
  }
  ck_assert_int_eq(rc, 0);
  ck_assert_uint_eq(i, GROW_N);
  /* Random access from the end, too. */
  ck_ok(fsc_list_get(l, -1, &v));
  size_t n = grow_str(b, GROW_N - 1);
  ck_assert(v.u.buf.len == n && memcmp(v.u.buf.ptr, b, n) == 0);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Clean close and unclean exits                                       */
/* ------------------------------------------------------------------ */

START_TEST(test_clean_close_marker) {
  const char *base = tc_path("clean");
  fsc_list *l = open_t(base, FSC_TYPE_INT64);
  fsc_metrics m = metrics(l);
  ck_assert(m.last_close_clean); /* a new list */
  for (int i = 0; i < 100; i++)
    ck_ok(fsc_list_append_i64(l, i));
  ck_assert_uint_eq(last_byte(fpath(base, "index")), 0); /* open: cleared */
  /* A second handle closing is not the last: still no marker. */
  fsc_list *l2 = open_t(base, FSC_TYPE_INT64);
  close_free(l2);
  ck_assert_uint_eq(last_byte(fpath(base, "index")), 0);
  close_free(l);
  ck_assert_uint_eq(last_byte(fpath(base, "index")), 0xAA);
  l = open_t(base, FSC_TYPE_INT64);
  ck_assert_uint_eq(last_byte(fpath(base, "index")), 0);
  m = metrics(l);
  ck_assert(m.last_close_clean);
  ck_assert_uint_eq(m.repaired_items, 0);
  ck_assert_uint_eq(m.length, 100);
  /* After close, every call is FSC_ECLOSED. */
  ck_ok(fsc_list_close(l));
  uint64_t n;
  ck_fsc(fsc_list_len(l, &n), FSC_ECLOSED);
  ck_fsc(fsc_list_append_i64(l, 1), FSC_ECLOSED);
  ck_fsc(fsc_list_close(l), FSC_ECLOSED);
  fsc_list_free(l);
  tc_rm(base);
}
END_TEST

/* The child opens the list (nobody else has it), appends, does a few
 * structural changes, and leaves without closing: _exit or SIGKILL. */
#define UNCLEAN_N 5000

static void child_writes(const char *base, int pipe_fd, bool forever) {
  fsc_options o = opts_type(FSC_TYPE_INT64);
  fsc_list *l = NULL;
  if (fsc_list_open(base, &o, &l) != 0)
    _exit(2);
  for (int64_t i = 0; i < UNCLEAN_N; i++)
    if (fsc_list_append_i64(l, i) != 0)
      _exit(3);
  fsc_value v = fsc_i64(-1), got;
  if (fsc_list_insert(l, 0, &v) != 0 || fsc_list_pop(l, 0, &got) != 0 ||
      fsc_list_reverse(l) != 0 || fsc_list_reverse(l) != 0)
    _exit(4);
  if (pipe_fd >= 0) {
    char c = 'r';
    if (write(pipe_fd, &c, 1) != 1)
      _exit(5);
  }
  for (int64_t i = UNCLEAN_N; forever; i++)
    if (fsc_list_append_i64(l, i) != 0)
      _exit(6);
  _exit(0); /* no close: no marker, no sync */
}

static void check_prefix(fsc_list *l, uint64_t min_n) {
  uint64_t n;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_msg(n >= min_n, "length %llu, at least %llu acknowledged",
                (unsigned long long)n, (unsigned long long)min_n);
  for (uint64_t i = 0; i < n; i++) {
    int64_t x;
    ck_ok(fsc_list_get_i64(l, (int64_t)i, &x));
    ck_assert_msg(x == (int64_t)i, "[%llu] = %lld", (unsigned long long)i,
                  (long long)x);
  }
}

START_TEST(test_unclean_exit) {
  const char *base = tc_path("unclean");
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0)
    child_writes(base, -1, false);
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d",
                st);
  ck_assert_uint_ne(last_byte(fpath(base, "index")), 0xAA);
  fsc_list *l = open_t(base, FSC_TYPE_INT64);
  fsc_metrics m = metrics(l);
  ck_assert_msg(!m.last_close_clean, "the child never closed");
  ck_assert_uint_eq(m.repaired_items, 0);
  ck_assert_uint_eq(m.length, UNCLEAN_N);
  check_prefix(l, UNCLEAN_N);
  /* The list works, and the next session is clean again. */
  ck_ok(fsc_list_append_i64(l, UNCLEAN_N));
  close_free(l);
  l = open_t(base, FSC_TYPE_INT64);
  m = metrics(l);
  ck_assert(m.last_close_clean);
  ck_assert_uint_eq(m.length, UNCLEAN_N + 1);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(test_killed_writer) {
  const char *base = tc_path("killed");
  int pfd[2];
  ck_assert_int_eq(pipe(pfd), 0);
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0) {
    close(pfd[0]);
    child_writes(base, pfd[1], true);
  }
  close(pfd[1]);
  char c;
  ck_assert_int_eq(read(pfd[0], &c, 1), 1);
  close(pfd[0]);
  usleep(20000);
  kill(p, SIGKILL);
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  fsc_list *l = open_t(base, FSC_TYPE_INT64);
  fsc_metrics m = metrics(l);
  ck_assert(!m.last_close_clean);
  /* Nothing dropped; what was repaired (a pending append counted, the
   * byte counters) is said, kind by kind. */
  ck_assert_uint_eq(m.repaired_dropped, 0);
  ck_assert_uint_eq(m.repaired_items, m.repaired_dropped +
                    m.repaired_restored + m.repaired_rebuilt +
                    m.repaired_counters);
  check_prefix(l, UNCLEAN_N);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* An unclean session whose data was damaged: verification drops exactly
 * the element whose record no longer checks, and says so. */
START_TEST(test_unclean_repairs_bad_record) {
  const char *base = tc_path("repair");
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0) {
    fsc_list *l = NULL;
    fsc_options o = opts_type(FSC_TYPE_INT64);
    if (fsc_list_open(base, &o, &l) != 0)
      _exit(2);
    for (int64_t i = 0; i < 10; i++)
      if (fsc_list_append_i64(l, i) != 0)
        _exit(3);
    _exit(0);
  }
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  /* Records are 16 bytes (compact) from offset 4096; flip a payload byte
   * of #3. */
  uint8_t b;
  off_t at = HDR + 3 * tc_rec_bytes(8) + tc_rec_hdr(8);
  peek(fpath(base, "data"), at, &b, 1);
  ck_assert_uint_eq(b, 3);
  b ^= 0x40;
  poke(fpath(base, "data"), at, &b, 1);
  fsc_list *l = open_t(base, FSC_TYPE_INT64);
  fsc_metrics m = metrics(l);
  ck_assert(!m.last_close_clean);
  ck_assert_uint_eq(m.repaired_dropped, 1);
  ck_assert_uint_eq(m.repaired_restored, 0);
  ck_assert_uint_eq(m.repaired_rebuilt, 0);
  ck_assert_uint_eq(m.repaired_counters, 1); /* the byte counters */
  ck_assert_uint_eq(m.repaired_items, 2);
  ck_assert_uint_eq(m.length, 9);
  for (int64_t i = 0, k = 0; i < 10; i++) {
    if (i == 3)
      continue;
    int64_t x;
    ck_ok(fsc_list_get_i64(l, k++, &x));
    ck_assert_int_eq(x, i);
  }
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Damaged files                                                       */
/* ------------------------------------------------------------------ */

/* A closed list of 300 int64 values, saved for restore(). */
static const char *damaged_base(void) {
  const char *base = tc_path("damaged");
  fsc_list *l = open_t(base, FSC_TYPE_INT64);
  for (int64_t i = 0; i < 300; i++)
    ck_ok(fsc_list_append_i64(l, i * 3));
  close_free(l);
  save(base);
  return base;
}

/* The restored list is whole again; then remove it and its saved copy. */
static void intact(const char *base) {
  fsc_list *l = open_t(base, FSC_TYPE_INT64);
  uint64_t n;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_uint_eq(n, 300);
  int64_t x;
  ck_ok(fsc_list_get_i64(l, 299, &x));
  ck_assert_int_eq(x, 897);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
  char b[1100];
  snprintf(b, sizeof b, "%s.saved", fpath(base, "data"));
  unlink(b);
  snprintf(b, sizeof b, "%s.saved", fpath(base, "index"));
  unlink(b);
}

START_TEST(test_corrupt_headers) {
  const char *base = damaged_base();
  char files[2][1024];
  snprintf(files[0], sizeof files[0], "%s", fpath(base, "data"));
  snprintf(files[1], sizeof files[1], "%s", fpath(base, "index"));
  for (int f = 0; f < 2; f++) {
    const char *p = files[f];
    char what[2200];

    poke(p, OFF_MAGIC, "GARBAGE!", 8);
    snprintf(what, sizeof what, "%s: bad magic", p);
    open_fails(base, FSC_TYPE_UNSPEC, FSC_ECORRUPT, what);
    restore(base);

    /* (A data file's version is 1 to 4: doc/FORMAT.md.) */
    uint32_t ver = f == 0 ? 5 : 2;
    poke(p, OFF_VERSION, &ver, 4);
    snprintf(what, sizeof what, "%s: version %u", p, ver);
    open_fails(base, FSC_TYPE_UNSPEC, FSC_EVERSION, what);
    ck_assert_msg(strstr(fsc_errmsg(), "version") != NULL, "message: %s",
                  fsc_errmsg());
    ver = 0xffffffffu;
    poke(p, OFF_VERSION, &ver, 4);
    open_fails(base, FSC_TYPE_UNSPEC, FSC_EVERSION, what);
    restore(base);

    uint8_t kind = 2; /* a dict */
    poke(p, OFF_KIND, &kind, 1);
    snprintf(what, sizeof what, "%s: kind dict", p);
    open_fails(base, FSC_TYPE_UNSPEC, FSC_EKIND, what);
    kind = 0x7f; /* no kind at all */
    poke(p, OFF_KIND, &kind, 1);
    snprintf(what, sizeof what, "%s: kind 0x7f", p);
    open_fails(base, FSC_TYPE_UNSPEC, FSC_ECORRUPT, what);
    kind = 0;
    poke(p, OFF_KIND, &kind, 1);
    snprintf(what, sizeof what, "%s: kind 0", p);
    open_fails(base, FSC_TYPE_UNSPEC, FSC_ECORRUPT, what);
    restore(base);

    uint8_t et = 99;
    poke(p, OFF_ELEM_TYPE, &et, 1);
    snprintf(what, sizeof what, "%s: element type 99", p);
    open_fails(base, FSC_TYPE_UNSPEC, FSC_ECORRUPT, what);
    restore(base);

    uint16_t hs = 512;
    poke(p, OFF_HDR_SIZE, &hs, 2);
    snprintf(what, sizeof what, "%s: header size 512", p);
    open_fails(base, FSC_TYPE_UNSPEC, FSC_ECORRUPT, what);
    restore(base);
  }
  /* The element type differs between the two files. */
  uint8_t et = FSC_TYPE_STRING;
  poke(files[1], OFF_ELEM_TYPE, &et, 1);
  open_fails(base, FSC_TYPE_UNSPEC, FSC_ECORRUPT, "element types differ");
  restore(base);
  /* Data counters beyond the file. */
  poke64(files[0], OFF_DATA_TAIL, peek64(files[0], OFF_DATA_CAP) + 8);
  open_fails(base, FSC_TYPE_UNSPEC, FSC_ECORRUPT, "tail beyond capacity");
  restore(base);
  poke64(files[0], OFF_DATA_CAP, UINT64_C(1) << 50);
  open_fails(base, FSC_TYPE_UNSPEC, FSC_ECORRUPT, "capacity beyond file");
  restore(base);
  poke64(files[0], OFF_DATA_TAIL, 100);
  open_fails(base, FSC_TYPE_UNSPEC, FSC_ECORRUPT, "tail inside header");
  restore(base);
  /* Tails that are not multiples of 8: records, arrays and tables are
   * 8-aligned, and a new one placed there would be read misaligned. */
  poke64(files[0], OFF_DATA_TAIL, peek64(files[0], OFF_DATA_TAIL) + 1);
  open_fails(base, FSC_TYPE_UNSPEC, FSC_ECORRUPT, "misaligned data tail");
  restore(base);
  poke64(files[1], OFF_ITAIL, peek64(files[1], OFF_ITAIL) + 1);
  open_fails(base, FSC_TYPE_UNSPEC, FSC_ECORRUPT, "misaligned index tail");
  restore(base);
  intact(base);
}
END_TEST

/* An index whose header was never written (magic zero) next to a data
 * file holding records is damage, not an unfinished creation: opening
 * must not re-initialise it (that would drop every element). */
START_TEST(test_zeroed_index_not_recreated) {
  const char *base = damaged_base();
  poke(fpath(base, "index"), OFF_MAGIC, "\0\0\0\0\0\0\0\0", 8);
  open_fails(base, FSC_TYPE_UNSPEC, FSC_ECORRUPT, "zeroed index magic");
  restore(base);
  intact(base);
}
END_TEST

START_TEST(test_truncated_files) {
  const char *base = damaged_base();
  char d[1024], ix[1024];
  snprintf(d, sizeof d, "%s", fpath(base, "data"));
  snprintf(ix, sizeof ix, "%s", fpath(base, "index"));
  off_t dsz = fsize(d), isz = fsize(ix);
  off_t dcuts[] = {0, 1, 100, HDR - 1, HDR, HDR + 50, dsz / 2, dsz - 8,
                   dsz - 1};
  for (size_t k = 0; k < sizeof dcuts / sizeof dcuts[0]; k++) {
    ck_assert_int_eq(truncate(d, dcuts[k]), 0);
    char what[96];
    snprintf(what, sizeof what, "data file cut to %lld",
             (long long)dcuts[k]);
    open_fails(base, FSC_TYPE_UNSPEC, FSC_ECORRUPT, what);
    restore(base);
  }
  off_t icuts[] = {0, 1, 100, HDR - 1, HDR, HDR + 64, isz / 2, isz - 1};
  for (size_t k = 0; k < sizeof icuts / sizeof icuts[0]; k++) {
    ck_assert_int_eq(truncate(ix, icuts[k]), 0);
    char what[96];
    snprintf(what, sizeof what, "index file cut to %lld",
             (long long)icuts[k]);
    open_fails(base, FSC_TYPE_UNSPEC, FSC_ECORRUPT, what);
    restore(base);
  }
  /* A missing data file next to an index. */
  ck_assert_int_eq(unlink(d), 0);
  open_fails(base, FSC_TYPE_UNSPEC, FSC_ECORRUPT, "data file missing");
  restore(base);
  intact(base);
}
END_TEST

/* A grown list whose data file lost its end. */
START_TEST(test_truncated_grown_data) {
  const char *base = tc_path("grown");
  fsc_list *l = open_t(base, FSC_TYPE_INT64);
  for (int64_t i = 0; i < 90000; i++)
    ck_ok(fsc_list_append_i64(l, i));
  close_free(l);
  off_t dsz = fsize(fpath(base, "data"));
  ck_assert_int_gt(dsz, 1 << 20);
  ck_assert_int_eq(truncate(fpath(base, "data"), dsz / 3), 0);
  open_fails(base, FSC_TYPE_INT64, FSC_ECORRUPT, "grown data cut to 1/3");
  tc_rm(base);
}
END_TEST

START_TEST(test_mismatched_pair) {
  const char *dir = tc_dir();
  char a[400], b[400], c[400];
  snprintf(a, sizeof a, "%.300s/a", dir);
  snprintf(b, sizeof b, "%.300s/b", dir);
  snprintf(c, sizeof c, "%.300s/c", dir);
  fsc_list *la = open_t(a, FSC_TYPE_INT64), *lb = open_t(b, FSC_TYPE_INT64);
  fsc_list *lc = open_t(c, FSC_TYPE_STRING);
  ck_ok(fsc_list_append_i64(la, 1));
  ck_ok(fsc_list_append_i64(lb, 2));
  ck_ok(fsc_list_append_str(lc, "x"));
  close_free(la);
  close_free(lb);
  close_free(lc);
  ck_assert(peek64(fpath(a, "data"), OFF_FILE_ID) !=
            peek64(fpath(b, "data"), OFF_FILE_ID));
  save(a);
  /* b's index next to a's data: same kind and type, other file_id. */
  copy_file(fpath(b, "index"), fpath(a, "index"));
  open_fails(a, FSC_TYPE_INT64, FSC_ECORRUPT, "index of another list");
  ck_assert_msg(strstr(fsc_errmsg(), "different") != NULL, "message: %s",
                fsc_errmsg());
  restore(a);
  copy_file(fpath(b, "data"), fpath(a, "data"));
  open_fails(a, FSC_TYPE_INT64, FSC_ECORRUPT, "data of another list");
  restore(a);
  copy_file(fpath(c, "index"), fpath(a, "index"));
  open_fails(a, FSC_TYPE_UNSPEC, FSC_ECORRUPT, "index of a string list");
  restore(a);
  la = open_t(a, FSC_TYPE_INT64);
  int64_t x;
  ck_ok(fsc_list_get_i64(la, 0, &x));
  ck_assert_int_eq(x, 1);
  close_free(la);
  tc_rm(a);
  tc_rm(b);
  tc_rm(c);
  char sv[1100];
  snprintf(sv, sizeof sv, "%s.saved", fpath(a, "data"));
  unlink(sv);
  snprintf(sv, sizeof sv, "%s.saved", fpath(a, "index"));
  unlink(sv);
}
END_TEST

/* Hostile words inside a cleanly closed list: open is O(1) and succeeds,
 * but the operations that meet them fail with FSC_ECORRUPT, never read
 * outside the mapping. */
START_TEST(test_hostile_index) {
  const char *base = damaged_base();
  char ix[1024];
  snprintf(ix, sizeof ix, "%s", fpath(base, "index"));
  uint64_t arr = peek64(ix, OFF_DESC0_OFF);
  ck_assert_uint_eq(arr, HDR); /* the first array follows the header */
  /* Slot 5: past the data file; near 2^63; an empty tag below LEN; a
   * fence; zero. */
  uint64_t hostile[] = {UINT64_C(1) << 45, (UINT64_C(1) << 63) - 8,
                        HDR + 4, 2, 0};
  for (size_t k = 0; k < sizeof hostile / sizeof hostile[0]; k++) {
    poke64(ix, (off_t)(arr + 5 * 8), hostile[k]);
    fsc_list *l = NULL;
    fsc_options o = opts_type(FSC_TYPE_INT64);
    int rc = fsc_list_open(base, &o, &l);
    if (rc == 0) {
      fsc_value v;
      rc = fsc_list_get(l, 5, &v);
      ck_assert_msg(rc == FSC_ECORRUPT, "slot 5 = %#llx: get returned %d",
                    (unsigned long long)hostile[k], rc);
      ck_ok(fsc_list_get(l, 4, &v)); /* the rest reads */
      ck_assert_int_eq(v.u.i64, 12);
      fsc_list_iter it;
      ck_ok(fsc_list_iter_init(l, &it));
      while ((rc = fsc_list_iter_next(&it, &v)) == 1)
        ;
      ck_assert_int_eq(rc, FSC_ECORRUPT);
      fsc_list_free(l);
    } else {
      ck_assert_int_eq(rc, FSC_ECORRUPT);
    }
    restore(base);
  }
  /* A slot that points into the middle of a record (a misaligned word
   * with the frozen bit): whatever it decodes to, nothing crashes. */
  poke64(ix, (off_t)(arr + 5 * 8), HDR + 7 * 8 + 1);
  {
    fsc_list *l = NULL;
    fsc_options o = opts_type(FSC_TYPE_INT64);
    if (fsc_list_open(base, &o, &l) == 0) {
      fsc_value v;
      (void)fsc_list_get(l, 5, &v);
      fsc_list_free(l);
    }
  }
  restore(base);
  /* A length beyond the array. */
  poke64(ix, OFF_LENWORD, (UINT64_C(1) << 40) - 1);
  {
    fsc_list *l = NULL;
    fsc_options o = opts_type(FSC_TYPE_INT64);
    int rc = fsc_list_open(base, &o, &l);
    if (rc == 0) {
      fsc_value v;
      ck_fsc(fsc_list_get(l, 1000000, &v), FSC_ECORRUPT);
      fsc_list_free(l);
    } else {
      ck_assert_int_eq(rc, FSC_ECORRUPT);
    }
  }
  restore(base);
  /* An array descriptor outside the file. */
  poke64(ix, OFF_DESC0_OFF, UINT64_C(1) << 44);
  {
    fsc_list *l = NULL;
    fsc_options o = opts_type(FSC_TYPE_INT64);
    int rc = fsc_list_open(base, &o, &l);
    if (rc == 0) {
      fsc_value v;
      ck_fsc(fsc_list_get(l, 0, &v), FSC_ECORRUPT);
      ck_fsc(fsc_list_append_i64(l, 1), FSC_ECORRUPT);
      fsc_list_free(l);
    } else {
      ck_assert_int_eq(rc, FSC_ECORRUPT);
    }
  }
  restore(base);
  poke64(ix, OFF_DESC0_CAP, UINT64_C(1) << 39);
  {
    fsc_list *l = NULL;
    fsc_options o = opts_type(FSC_TYPE_INT64);
    int rc = fsc_list_open(base, &o, &l);
    if (rc == 0) {
      fsc_value v;
      ck_fsc(fsc_list_get(l, 0, &v), FSC_ECORRUPT);
      fsc_list_free(l);
    } else {
      ck_assert_int_eq(rc, FSC_ECORRUPT);
    }
  }
  restore(base);
  intact(base);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Durability, destroy, read-only                                      */
/* ------------------------------------------------------------------ */

START_TEST(test_durable_always) {
  const char *base = tc_path("durable");
  fsc_options o = opts_type(FSC_TYPE_ANY);
  o.durability = FSC_DURABLE_ALWAYS;
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(base, &o, &l));
  for (int64_t i = 0; i < 50; i++)
    ck_ok(fsc_list_append_i64(l, i));
  fsc_value vs[3] = {fsc_str("a"), fsc_f64(1.5), fsc_bool(true)}, got;
  ck_ok(fsc_list_extend(l, vs, 3));
  ck_ok(fsc_list_set_i64(l, 0, 100));
  fsc_value v = fsc_str("front");
  ck_ok(fsc_list_insert(l, 0, &v));
  ck_ok(fsc_list_pop(l, 10, &got));
  ck_assert_int_eq(got.u.i64, 9);
  ck_ok(fsc_list_del(l, -1));
  ck_ok(fsc_list_reverse(l));
  ck_ok(fsc_list_sync(l));
  close_free(l);
  ck_assert_uint_eq(last_byte(fpath(base, "index")), 0xAA);
  o.durability = FSC_DURABLE_NONE; /* reopen with another mode */
  ck_ok(fsc_list_open(base, &o, &l));
  uint64_t n;
  ck_ok(fsc_list_len(l, &n));
  ck_assert_uint_eq(n, 52);
  ck_ok(fsc_list_get(l, -1, &v));
  ck_assert(v.type == FSC_TYPE_STRING && v.u.buf.len == 5);
  ck_ok(fsc_list_get(l, -2, &v));
  ck_assert_int_eq(v.u.i64, 100);
  ck_ok(fsc_list_get(l, 0, &v));
  ck_assert(v.type == FSC_TYPE_FLOAT && v.u.f == 1.5);
  ck_ok(fsc_list_append_i64(l, 7));
  close_free(l);
  /* FSC_DURABLE_NONE still writes the marker on the last close. */
  ck_assert_uint_eq(last_byte(fpath(base, "index")), 0xAA);
  l = open_t(base, FSC_TYPE_ANY);
  ck_ok(fsc_list_len(l, &n));
  ck_assert_uint_eq(n, 53);
  ck_assert(metrics(l).last_close_clean);
  /* An invalid durability is refused. */
  fsc_list *bad = NULL;
  o.durability = (fsc_durability)7;
  ck_fsc(fsc_list_open(base, &o, &bad), FSC_EINVAL);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

START_TEST(test_destroy_removes_files) {
  const char *base = tc_path("destroy");
  fsc_list *l = open_t(base, FSC_TYPE_INT64), *other;
  ck_ok(fsc_list_append_i64(l, 42));
  other = open_t(base, FSC_TYPE_INT64);
  ck_assert_int_eq(access(fpath(base, "data"), F_OK), 0);
  ck_assert_int_eq(access(fpath(base, "index"), F_OK), 0);
  ck_ok(fsc_list_destroy(l));
  ck_assert_msg(access(fpath(base, "data"), F_OK) != 0 && errno == ENOENT,
                "data file still exists");
  ck_assert_msg(access(fpath(base, "index"), F_OK) != 0 && errno == ENOENT,
                "index file still exists");
  ck_fsc(fsc_list_append_i64(l, 1), FSC_ECLOSED);
  fsc_list_free(l);
  /* Another handle keeps its mapping. */
  int64_t x;
  ck_ok(fsc_list_get_i64(other, 0, &x));
  ck_assert_int_eq(x, 42);
  ck_ok(fsc_list_append_i64(other, 43));
  close_free(other);
  /* Gone: opening without FSC_CREATE fails. */
  fsc_options o = opts_type(FSC_TYPE_INT64);
  o.flags = 0;
  fsc_list *again = NULL;
  ck_fsc(fsc_list_open(base, &o, &again), FSC_ENOENT);
  /* A temporary list leaves nothing behind either. */
  fsc_list *t = NULL;
  ck_ok(fsc_list_open(NULL, NULL, &t));
  ck_assert_ptr_null(fsc_list_path(t));
  ck_ok(fsc_list_append_i64(t, 1));
  ck_ok(fsc_list_destroy(t));
  fsc_list_free(t);
}
END_TEST

START_TEST(test_rdonly) {
  const char *base = tc_path("rdonly");
  fsc_list *w = open_t(base, FSC_TYPE_INT64);
  for (int64_t i = 0; i < 20; i++)
    ck_ok(fsc_list_append_i64(w, i));
  close_free(w);
  ck_assert_int_eq(chmod(fpath(base, "data"), 0400), 0);
  ck_assert_int_eq(chmod(fpath(base, "index"), 0400), 0);
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = FSC_RDONLY;
  fsc_list *r = NULL;
  ck_ok(fsc_list_open(base, &o, &r));
  ck_assert_int_eq(fsc_list_type(r), FSC_TYPE_INT64);
  uint64_t n;
  ck_ok(fsc_list_len(r, &n));
  ck_assert_uint_eq(n, 20);
  int64_t x;
  ck_ok(fsc_list_get_i64(r, -1, &x));
  ck_assert_int_eq(x, 19);
  fsc_value v = fsc_i64(7), vs[4], got;
  size_t cnt;
  ck_ok(fsc_list_slice_get(r, FSC_SLICE(0, 8, 2), vs, 4, &cnt));
  ck_assert_uint_eq(cnt, 4);
  ck_assert_int_eq(vs[3].u.i64, 6);
  ck_assert_int_eq(fsc_list_contains(r, &v), 1);
  ck_ok(fsc_list_index(r, &v, FSC_NONE, FSC_NONE, &n));
  ck_assert_uint_eq(n, 7);
  ck_fsc(fsc_list_append(r, &v), FSC_EROFS);
  ck_fsc(fsc_list_append_i64(r, 1), FSC_EROFS);
  ck_fsc(fsc_list_extend(r, &v, 1), FSC_EROFS);
  ck_fsc(fsc_list_set(r, 0, &v), FSC_EROFS);
  ck_fsc(fsc_list_insert(r, 0, &v), FSC_EROFS);
  ck_fsc(fsc_list_pop(r, -1, &got), FSC_EROFS);
  ck_fsc(fsc_list_pop(r, 0, &got), FSC_EROFS);
  ck_fsc(fsc_list_del(r, 0), FSC_EROFS);
  ck_fsc(fsc_list_remove(r, &v), FSC_EROFS);
  ck_fsc(fsc_list_reverse(r), FSC_EROFS);
  ck_fsc(fsc_list_sort(r, false), FSC_EROFS);
  ck_fsc(fsc_list_clear(r), FSC_EROFS);
  ck_fsc(fsc_list_slice_set(r, FSC_SLICE(0, 1, 1), &v, 1), FSC_EROFS);
  ck_fsc(fsc_list_slice_del(r, FSC_SLICE(0, 1, 1)), FSC_EROFS);
  ck_assert_msg(strlen(fsc_errmsg()) > 0, "no message for FSC_EROFS");
  ck_ok(fsc_list_len(r, &n));
  ck_assert_uint_eq(n, 20);
  ck_ok(fsc_list_get_i64(r, 0, &x));
  ck_assert_int_eq(x, 0);
  close_free(r);
  /* The read-only session left the files as they were: marker intact. */
  ck_assert_uint_eq(last_byte(fpath(base, "index")), 0xAA);
  /* A read-only open cannot create. */
  char missing[700];
  snprintf(missing, sizeof missing, "%s-missing", base);
  r = NULL;
  ck_fsc(fsc_list_open(missing, &o, &r), FSC_ENOENT);
  ck_assert_int_eq(access(fpath(missing, "index"), F_OK), -1);
  ck_assert_int_eq(chmod(fpath(base, "data"), 0600), 0);
  ck_assert_int_eq(chmod(fpath(base, "index"), 0600), 0);
  tc_rm(base);
}
END_TEST

/* A read-only handle sees what a writer appends while both are open. */
START_TEST(test_rdonly_sees_live_writes) {
  const char *base = tc_path("rdlive");
  fsc_list *w = open_t(base, FSC_TYPE_INT64);
  ck_ok(fsc_list_append_i64(w, 1));
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = FSC_RDONLY;
  fsc_list *r = NULL;
  ck_ok(fsc_list_open(base, &o, &r));
  for (int64_t i = 2; i <= 5000; i++) /* past growth of both files */
    ck_ok(fsc_list_append_i64(w, i));
  ck_ok(fsc_list_reverse(w));
  uint64_t n;
  ck_ok(fsc_list_len(r, &n));
  ck_assert_uint_eq(n, 5000);
  int64_t x;
  ck_ok(fsc_list_get_i64(r, 0, &x));
  ck_assert_int_eq(x, 5000);
  ck_ok(fsc_list_get_i64(r, -1, &x));
  ck_assert_int_eq(x, 1);
  close_free(r);
  close_free(w);
  ck_assert_uint_eq(last_byte(fpath(base, "index")), 0xAA);
  tc_rm(base);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Recovery tells the truth                                            */
/* ------------------------------------------------------------------ */

/* Remove the clean-close marker, as a session that died leaves it. */
static void unmark(const char *base) {
  const char *ip = fpath(base, "index");
  uint8_t z = 0;
  poke(ip, fsize(ip) - 1, &z, 1);
}

/* The length word's BUF bit flipped in a list whose last change was an
 * insert(0): the open after an unclean close must not make the older
 * array the list (that loses the insert); it restores the word from its
 * seal and says so. */
START_TEST(test_open_restores_structure_word) {
  const char *base = tc_path("bufflip");
  fsc_list *l = open_t(base, FSC_TYPE_INT64);
  for (int64_t i = 0; i < 20; i++)
    ck_ok(fsc_list_append_i64(l, i));
  fsc_value v = fsc_i64(999);
  ck_ok(fsc_list_insert(l, 0, &v));
  close_free(l);
  const char *ip = fpath(base, "index");
  poke64(ip, OFF_LENWORD, peek64(ip, OFF_LENWORD) ^ (UINT64_C(1) << 62));
  unmark(base);
  l = open_t(base, FSC_TYPE_INT64);
  fsc_metrics m = metrics(l);
  ck_assert(!m.last_close_clean);
  ck_assert_uint_eq(m.length, 21);
  int64_t x;
  ck_ok(fsc_list_get_i64(l, 0, &x));
  ck_assert_int_eq(x, 999);
  for (int64_t i = 0; i < 20; i++) {
    ck_ok(fsc_list_get_i64(l, i + 1, &x));
    ck_assert_int_eq(x, i);
  }
  ck_assert_uint_ge(m.repaired_restored, 1);
  ck_assert_uint_eq(m.repaired_dropped, 0);
  ck_assert_uint_ge(m.repaired_items, 1);
  ck_ok(fsc_list_verify(l, 0, NULL));
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* The same at open for each of the seven structure words (the length word,
 * both descriptors' offset, capacity, high water) and many bits: after an
 * unclean close the open restores the list whole, or fails with
 * FSC_ECORRUPT; never a shorter or older list reported as nothing
 * dropped. */
START_TEST(test_open_structure_words) {
  static const int bits[] = {0, 1, 3, 6, 12, 39, 41, 55, 62, 63};
  int whole = 0, failed = 0;
  for (int word = 0; word < 7; word++) {
    for (size_t b = 0; b < sizeof bits / sizeof bits[0]; b++) {
      const char *base = tc_path("words");
      fsc_list *l = open_t(base, FSC_TYPE_INT64);
      for (int64_t i = 0; i < 12; i++)
        ck_ok(fsc_list_append_i64(l, i));
      fsc_value v = fsc_i64(999);
      ck_ok(fsc_list_insert(l, 0, &v));
      close_free(l);
      const char *ip = fpath(base, "index");
      off_t at = word == 0 ? OFF_LENWORD : 72 + 24 * ((word - 1) / 3) +
                                               8 * ((word - 1) % 3);
      poke64(ip, at, peek64(ip, at) ^ (UINT64_C(1) << bits[b]));
      unmark(base);
      fsc_options o = opts_type(FSC_TYPE_INT64);
      l = NULL;
      int rc = fsc_list_open(base, &o, &l);
      if (rc != 0) {
        ck_assert_int_eq(rc, FSC_ECORRUPT);
        failed++;
        tc_rm(base);
        continue;
      }
      fsc_metrics m = metrics(l);
      bool ok = m.length == 13;
      for (int64_t i = 0; ok && i < 13; i++) {
        int64_t x;
        ok = fsc_list_get_i64(l, i, &x) == 0 && x == (i ? i - 1 : 999);
      }
      ck_assert_msg(ok || m.repaired_dropped > 0,
                    "word %d bit %d: the open lost elements and reports "
                    "none dropped (length %llu)", word, bits[b],
                    (unsigned long long)m.length);
      whole += ok;
      ck_ok(fsc_list_verify(l, 0, NULL));
      ck_ok(fsc_list_destroy(l));
      fsc_list_free(l);
    }
  }
  ck_assert_int_eq(failed, 0);
  ck_assert_int_eq(whole, 70);
}
END_TEST

/* A dict slot pointed at the superseded version of its key's record (as
 * this library writes files: nothing is written into that record, the
 * newer ones lie above it), then an unclean close: a read-only first
 * opener refuses (its check walks the data file and finds the newer
 * record above the slot's), and a read-write open rebuilds the index from
 * the data file (the newest live version wins) and says so. */
START_TEST(test_open_superseded_slot) {
  const char *base = tc_path("dsup");
  fsc_options o = opts_type(FSC_TYPE_INT64);
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(base, &o, &d));
  /* Sets, not increments: fsc_dict_incr counts in place (one record). */
  int64_t x = 0;
  for (int i = 0; i < 3; i++)
    ck_ok(fsc_dict_set_i64(d, "ctr", ++x));
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  /* Save the slot of ctr = 3, then count on to 30. */
  const char *ip = fpath(base, "index");
  uint64_t w = peek64(ip, OFF_LENWORD);
  uint64_t toff = peek64(ip, 72 + 24 * ((w >> 62) & 1));
  uint64_t cap = peek64(ip, 80 + 24 * ((w >> 62) & 1));
  uint64_t idx = cap, s3 = 0;
  for (uint64_t i = 0; i < cap; i++) {
    uint64_t s = peek64(ip, (off_t)(toff + 8 * i));
    if ((s & 7) == 0 && (s & ((UINT64_C(1) << 44) - 8)) >= HDR) {
      idx = i;
      s3 = s;
    }
  }
  ck_assert_uint_lt(idx, cap);
  ck_ok(fsc_dict_open(base, &o, &d));
  for (int i = 3; i < 30; i++)
    ck_ok(fsc_dict_set_i64(d, "ctr", ++x));
  ck_assert_int_eq(x, 30);
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  ck_assert_uint_eq(peek64(ip, OFF_LENWORD) >> 62 & 1, (w >> 62) & 1);
  poke64(ip, (off_t)(toff + 8 * idx), s3);
  unmark(base);
  fsc_options ro = o;
  ro.flags = FSC_RDONLY;
  d = NULL;
  ck_fsc(fsc_dict_open(base, &ro, &d), FSC_ECORRUPT);
  ck_assert_msg(strstr(fsc_errmsg(), "superseded"), "%s", fsc_errmsg());
  ck_assert_ptr_null(d);
  ck_ok(fsc_dict_open(base, &o, &d));
  ck_ok(fsc_dict_get_i64(d, "ctr", &x));
  ck_assert_int_eq(x, 30);
  fsc_metrics m;
  memset(&m, 0, sizeof m);
  m.size = sizeof m;
  ck_ok(fsc_dict_metrics(d, &m));
  ck_assert_uint_ge(m.repaired_rebuilt, 1);
  ck_assert_uint_eq(m.repaired_dropped, 0);
  ck_assert_uint_ge(m.repaired_items, 1);
  ck_ok(fsc_dict_verify(d, 0, NULL));
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* The writer killed at many points while a survivor has the same dict
 * and list open: the survivor's close (the last) must leave files that a
 * check without repair finds healthy, with the clean-close marker. */
START_TEST(test_survivor_close_vouches) {
  const char *dir = tc_dir();
  char lbase[500], dbase[500];
  snprintf(lbase, sizeof lbase, "%s/l", dir);
  snprintf(dbase, sizeof dbase, "%s/d", dir);
  fsc_options lo = opts_type(FSC_TYPE_INT64), dopt = opts_type(FSC_TYPE_INT64);
  int repaired_sessions = 0;
  for (int round = 0; round < 24; round++) {
    fsc_list *l = NULL;
    fsc_dict *d = NULL;
    ck_ok(fsc_list_open(lbase, &lo, &l));
    ck_ok(fsc_dict_open(dbase, &dopt, &d));
    int pfd[2];
    ck_assert_int_eq(pipe(pfd), 0);
    pid_t p = fork();
    ck_assert_int_ge(p, 0);
    if (p == 0) {
      close(pfd[0]);
      fsc_list *cl = NULL;
      fsc_dict *cd = NULL;
      if (fsc_list_open(lbase, &lo, &cl) || fsc_dict_open(dbase, &dopt, &cd))
        _exit(2);
      fsc_value v = fsc_i64(7);
      for (int64_t i = 0;; i++) {
        char k[16];
        int64_t x;
        snprintf(k, sizeof k, "k%d", (int)(i % 64));
        if (fsc_list_append_i64(cl, i) || fsc_dict_incr(cd, k, strlen(k), 1, &x) ||
            fsc_list_insert(cl, 0, &v) || fsc_list_del(cl, 0) ||
            fsc_dict_set_i64(cd, "last", i))
          _exit(3);
        if (i == 50 && write(pfd[1], "x", 1) != 1)
          _exit(4);
      }
    }
    close(pfd[1]);
    char c;
    ck_assert_int_eq(read(pfd[0], &c, 1), 1);
    close(pfd[0]);
    usleep((useconds_t)(137 * round % 2000));
    kill(p, SIGKILL);
    int st;
    ck_assert_int_eq(waitpid(p, &st, 0), p);
    ck_assert(WIFSIGNALED(st));
    ck_ok(fsc_list_close(l));
    fsc_list_free(l);
    ck_ok(fsc_dict_close(d));
    fsc_dict_free(d);
    ck_assert_uint_eq(last_byte(fpath(lbase, "index")), 0xAA);
    ck_assert_uint_eq(last_byte(fpath(dbase, "index")), 0xAA);
    /* A read-only open (no repair of its own) and a check. */
    fsc_options ro = opts_type(FSC_TYPE_INT64);
    ro.flags = FSC_RDONLY;
    ck_ok(fsc_list_open(lbase, &ro, &l));
    ck_ok(fsc_dict_open(dbase, &ro, &d));
    fsc_verify_report r;
    memset(&r, 0, sizeof r);
    r.size = sizeof r;
    int rc = fsc_list_verify(l, 0, &r);
    ck_assert_msg(rc == 0, "round %d: list after the survivor's close: %s",
                  round, fsc_errmsg());
    ck_assert(r.counters_checked);
    memset(&r, 0, sizeof r);
    r.size = sizeof r;
    rc = fsc_dict_verify(d, 0, &r);
    ck_assert_msg(rc == 0, "round %d: dict after the survivor's close: %s",
                  round, fsc_errmsg());
    ck_assert(r.counters_checked);
    fsc_metrics m;
    memset(&m, 0, sizeof m);
    m.size = sizeof m;
    ck_ok(fsc_list_metrics(l, &m));
    ck_assert(m.last_close_clean);
    repaired_sessions += m.repaired_at_close > 0;
    ck_ok(fsc_list_close(l));
    fsc_list_free(l);
    ck_ok(fsc_dict_close(d));
    fsc_dict_free(d);
  }
  /* (The writer never closes, so every last close recovers; most find
   * something to set right, and say so to the next opener.) */
  ck_assert_int_gt(repaired_sessions, 0);
  tc_rm(lbase);
  tc_rm(dbase);
}
END_TEST

/* A read-only first opener after an unclean shutdown cannot repair, but
 * must not hand out a damaged record as if nothing happened: a record
 * that fails its checksum reads as FSC_ECORRUPT; the others read. */
START_TEST(test_rdonly_unclean_checks_reads) {
  const char *base = tc_path("rdunclean");
  pid_t p = fork();
  ck_assert_int_ge(p, 0);
  if (p == 0) {
    fsc_list *l = NULL;
    fsc_options o = opts_type(FSC_TYPE_STRING);
    if (fsc_list_open(base, &o, &l) != 0)
      _exit(2);
    const char *vals[] = {"alpha", "bravo", "charlie", "delta"};
    for (int i = 0; i < 4; i++)
      if (fsc_list_append_str(l, vals[i]) != 0)
        _exit(3);
    _exit(0); /* no close: an unclean shutdown */
  }
  int st;
  ck_assert_int_eq(waitpid(p, &st, 0), p);
  ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  /* The record of element 0 is the first, at 4096: flip its first
   * payload byte ('a' -> 'A'). */
  uint8_t b;
  peek(fpath(base, "data"), HDR + REC_HDR, &b, 1);
  ck_assert_uint_eq(b, 'a');
  b = 'A';
  poke(fpath(base, "data"), HDR + REC_HDR, &b, 1);
  fsc_options ro = opts_type(FSC_TYPE_STRING);
  ro.flags = FSC_RDONLY;
  fsc_list *l = NULL;
  ck_ok(fsc_list_open(base, &ro, &l));
  const char *s = NULL;
  size_t n = 0;
  ck_fsc(fsc_list_get_str(l, 0, &s, &n), FSC_ECORRUPT);
  ck_assert_msg(strstr(fsc_errmsg(), "checksum"), "%s", fsc_errmsg());
  ck_ok(fsc_list_get_str(l, 1, &s, &n));
  ck_assert_uint_eq(n, 5);
  ck_assert_int_eq(memcmp(s, "bravo", 5), 0);
  fsc_metrics m = metrics(l);
  ck_assert(!m.last_close_clean);
  close_free(l);
  /* The marker is still missing: a writer's open repairs (drops it). */
  ck_assert_uint_ne(last_byte(fpath(base, "index")), 0xAA);
  l = open_t(base, FSC_TYPE_STRING);
  m = metrics(l);
  ck_assert_uint_eq(m.repaired_dropped, 1);
  ck_assert_uint_eq(m.length, 3);
  ck_ok(fsc_list_get_str(l, 0, &s, &n));
  ck_assert_int_eq(memcmp(s, "bravo", 5), 0);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);
}
END_TEST

/* A read-only first opener after an unclean end cannot repair; damage
 * that its reads cannot tell (a slot naming a superseded record, a
 * length word naming the older array, a dict record its iteration would
 * skip) refuses the open with FSC_ECORRUPT instead of handing out an
 * older or partial collection as if nothing happened.  A read-write open
 * then repairs, and says so. */
START_TEST(test_rdonly_unclean_refuses_damaged_structure) {
  fsc_options ro = opts_type(FSC_TYPE_INT64);
  ro.flags = FSC_RDONLY;
  fsc_list *l = NULL;
  fsc_metrics m;
  int64_t x = 0;

  /* A list slot pointed back at the record an assignment superseded (and
   * flagged deleted: a list's superseded records are, doc/FORMAT.md). */
  const char *lb = tc_path("rosup");
  l = open_t(lb, FSC_TYPE_INT64);
  ck_ok(fsc_list_append_i64(l, 10));
  ck_ok(fsc_list_append_i64(l, 20));
  ck_ok(fsc_list_set_i64(l, 0, 11));
  close_free(l);
  ck_assert_uint_eq(peek64(fpath(lb, "index"), HDR),
                    HDR + 2 * tc_rec_bytes(8));
  poke64(fpath(lb, "index"), HDR, HDR); /* slot 0: the record of 10 */
  unmark(lb);
  l = NULL;
  ck_fsc(fsc_list_open(lb, &ro, &l), FSC_ECORRUPT);
  ck_assert_msg(strstr(fsc_errmsg(), "superseded") &&
                    strstr(fsc_errmsg(), "read-write"),
                "%s", fsc_errmsg());
  ck_assert_ptr_null(l);
  l = open_t(lb, FSC_TYPE_INT64);
  m = metrics(l);
  ck_assert_uint_eq(m.repaired_dropped, 1);
  ck_assert_uint_eq(m.length, 1);
  ck_ok(fsc_list_get_i64(l, 0, &x));
  ck_assert_int_eq(x, 20);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);

  /* The length word's BUF bit flipped after a pop: the older array. */
  lb = tc_path("robuf");
  l = open_t(lb, FSC_TYPE_INT64);
  ck_ok(fsc_list_append_i64(l, 1));
  ck_ok(fsc_list_append_i64(l, 2));
  fsc_value pv;
  ck_ok(fsc_list_pop(l, 0, &pv));
  close_free(l);
  uint8_t b;
  peek(fpath(lb, "index"), OFF_LENWORD + 7, &b, 1);
  b ^= 0x40;
  poke(fpath(lb, "index"), OFF_LENWORD + 7, &b, 1);
  unmark(lb);
  ck_fsc(fsc_list_open(lb, &ro, &l), FSC_ECORRUPT);
  ck_assert_msg(strstr(fsc_errmsg(), "sealed"), "%s", fsc_errmsg());
  l = open_t(lb, FSC_TYPE_INT64);
  m = metrics(l);
  ck_assert_uint_ge(m.repaired_restored, 1);
  ck_assert_uint_eq(m.length, 1);
  ck_ok(fsc_list_get_i64(l, 0, &x));
  ck_assert_int_eq(x, 2);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);

  /* The length lowered below the filled slots: its reads would hide the
   * element the slot after the length holds (recovery adopts it). */
  lb = tc_path("rolen");
  l = open_t(lb, FSC_TYPE_INT64);
  ck_ok(fsc_list_append_i64(l, 7));
  close_free(l);
  uint8_t z = 0;
  poke(fpath(lb, "index"), OFF_LENWORD, &z, 1); /* LEN 1 -> 0 */
  unmark(lb);
  ck_fsc(fsc_list_open(lb, &ro, &l), FSC_ECORRUPT);
  ck_assert_msg(strstr(fsc_errmsg(), "length"), "%s", fsc_errmsg());
  l = open_t(lb, FSC_TYPE_INT64);
  m = metrics(l);
  ck_assert_uint_eq(m.length, 1);
  ck_assert_uint_gt(m.repaired_items, 0);
  ck_ok(fsc_list_get_i64(l, 0, &x));
  ck_assert_int_eq(x, 7);
  ck_ok(fsc_list_destroy(l));
  fsc_list_free(l);

  /* A dict's only record damaged: its iteration would skip the key. */
  const char *db = tc_path("rodict");
  fsc_options o = opts_type(FSC_TYPE_INT64);
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(db, &o, &d));
  ck_ok(fsc_dict_set_i64(d, "k", 1));
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  d = NULL;
  uint8_t zero = 0;
  poke(fpath(db, "data"), HDR, &zero, 1); /* its type byte */
  unmark(db);
  ck_fsc(fsc_dict_open(db, &ro, &d), FSC_ECORRUPT);
  ck_assert_ptr_null(d);
  ck_ok(fsc_dict_open(db, &o, &d));
  fsc_metrics dm = {.size = sizeof dm};
  ck_ok(fsc_dict_metrics(d, &dm));
  ck_assert_uint_eq(dm.repaired_dropped, 1);
  ck_assert_uint_eq(dm.length, 0);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);

  /* A dict's COUNT lowered: its length would be wrong (recovery
   * recounts). */
  db = tc_path("rocount");
  d = NULL;
  ck_ok(fsc_dict_open(db, &o, &d));
  ck_ok(fsc_dict_set_i64(d, "k", 1));
  ck_ok(fsc_dict_set_i64(d, "l", 2));
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  d = NULL;
  poke(fpath(db, "index"), OFF_LENWORD, &zero, 1); /* COUNT 2 -> 0 */
  unmark(db);
  ck_fsc(fsc_dict_open(db, &ro, &d), FSC_ECORRUPT);
  ck_assert_msg(strstr(fsc_errmsg(), "count"), "%s", fsc_errmsg());
  ck_ok(fsc_dict_open(db, &o, &d));
  ck_ok(fsc_dict_metrics(d, &dm));
  ck_assert_uint_eq(dm.length, 2);
  ck_assert_uint_ge(dm.repaired_counters, 1);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

/* A set's table word given FROZEN and the other BUF after a clear, the
 * marker missing: the open must not "finish an interrupted rebuild" from
 * the superseded, pre-clear table (the clear rolled back, the later add
 * lost).  The seal names the table: the word is restored, the rebuild
 * finished from it, and the open says so. */
START_TEST(test_open_restores_frozen_table_word) {
  const char *base = tc_path("sfrozen");
  fsc_options o = opts_type(FSC_TYPE_INT64);
  fsc_set *s = NULL;
  fsc_value v30 = fsc_i64(30), v61 = fsc_i64(61);
  ck_ok(fsc_set_open(base, &o, &s));
  ck_assert_int_ge(fsc_set_add(s, &v30), 0);
  ck_ok(fsc_set_clear(s));
  ck_assert_int_ge(fsc_set_add(s, &v61), 0);
  ck_ok(fsc_set_close(s));
  fsc_set_free(s);
  uint8_t b;
  peek(fpath(base, "index"), OFF_LENWORD + 7, &b, 1);
  b ^= 0xC0; /* FROZEN, and the other table */
  poke(fpath(base, "index"), OFF_LENWORD + 7, &b, 1);
  unmark(base);
  s = NULL;
  ck_ok(fsc_set_open(base, &o, &s));
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_set_metrics(s, &m));
  ck_assert_int_eq(fsc_set_contains(s, &v61), 1);
  ck_assert_int_eq(fsc_set_contains(s, &v30), 0);
  ck_assert_uint_eq(m.length, 1);
  ck_assert_uint_ge(m.repaired_restored, 2); /* the word; the rebuild */
  fsc_verify_report r = {.size = sizeof r};
  ck_ok(fsc_set_verify(s, 0, &r));
  ck_assert(r.healthy);
  ck_ok(fsc_set_destroy(s));
  fsc_set_free(s);
}
END_TEST

/* Iteration meets a dict key at its origin (the record its life began
 * with, dead once the key was set again).  That record damaged and the
 * marker missing: the first open gives the key a record of its own, so
 * iteration yields it again (last: the order is lost with the origin),
 * and says so. */
START_TEST(test_open_repairs_damaged_origin) {
  const char *base = tc_path("dorigin");
  fsc_options o = opts_type(FSC_TYPE_INT64);
  fsc_dict *d = NULL;
  ck_ok(fsc_dict_open(base, &o, &d));
  ck_ok(fsc_dict_set_i64(d, "a", 1));
  ck_ok(fsc_dict_set_i64(d, "b", 2));
  ck_ok(fsc_dict_set_i64(d, "c", 3));
  ck_ok(fsc_dict_set_i64(d, "b", 20));
  ck_ok(fsc_dict_close(d));
  fsc_dict_free(d);
  /* Records of a 1-byte key and an int64: 16 + 4 + 1 + 8 + 8 -> 40. */
  const off_t first_b = HDR + 40;
  uint8_t b;
  peek(fpath(base, "data"), first_b + REC_HDR + 4, &b, 1);
  ck_assert_int_eq(b, 'b');
  uint8_t zero = 0;
  poke(fpath(base, "data"), first_b, &zero, 1); /* its type byte */
  unmark(base);
  d = NULL;
  ck_ok(fsc_dict_open(base, &o, &d));
  fsc_metrics m = {.size = sizeof m};
  ck_ok(fsc_dict_metrics(d, &m));
  char order[16] = "";
  fsc_dict_iter it;
  fsc_value k, v;
  int rc;
  ck_ok(fsc_dict_iter_init(d, &it));
  while ((rc = fsc_dict_iter_next(&it, &k, &v)) == 1) {
    size_t l = strlen(order);
    ck_assert_uint_eq(k.u.buf.len, 1);
    ck_assert_uint_lt(l, sizeof order - 1);
    order[l] = *(const char *)k.u.buf.ptr;
    order[l + 1] = 0;
  }
  ck_assert_int_eq(rc, 0);
  ck_assert_str_eq(order, "acb");
  int64_t x = 0;
  ck_ok(fsc_dict_get_i64(d, "b", &x));
  ck_assert_int_eq(x, 20);
  ck_assert_uint_eq(m.length, 3);
  ck_assert_uint_ge(m.repaired_restored, 1);
  fsc_verify_report r = {.size = sizeof r};
  ck_ok(fsc_dict_verify(d, 0, &r));
  ck_assert(r.healthy);
  ck_ok(fsc_dict_destroy(d));
  fsc_dict_free(d);
}
END_TEST

static TCase *tcase(Suite *s, const char *name) {
  TCase *tc = tcase_create(name);
  tcase_set_timeout(tc, 60);
  suite_add_tcase(s, tc);
  return tc;
}

static Suite *persist_suite(void) {
  Suite *s = suite_create("persist");
  TCase *tc = tcase(s, "types");
  tcase_add_test(tc, test_types_roundtrip);
  tcase_add_test(tc, test_typed_shorthands_roundtrip);
  tc = tcase(s, "structural");
  tcase_add_test(tc, test_structural_persist);
  tcase_add_test(tc, test_strings_sort_set_persist);
  tcase_add_test(tc, test_growth_200k);
  tc = tcase(s, "close");
  tcase_add_test(tc, test_clean_close_marker);
  tcase_add_test(tc, test_unclean_exit);
  tcase_add_test(tc, test_killed_writer);
  tcase_add_test(tc, test_unclean_repairs_bad_record);
  tc = tcase(s, "damaged");
  tcase_add_test(tc, test_corrupt_headers);
  tcase_add_test(tc, test_zeroed_index_not_recreated);
  tcase_add_test(tc, test_truncated_files);
  tcase_add_test(tc, test_truncated_grown_data);
  tcase_add_test(tc, test_mismatched_pair);
  tcase_add_test(tc, test_hostile_index);
  tc = tcase(s, "modes");
  tcase_add_test(tc, test_durable_always);
  tcase_add_test(tc, test_destroy_removes_files);
  tcase_add_test(tc, test_rdonly);
  tcase_add_test(tc, test_rdonly_sees_live_writes);
  tc = tcase(s, "truth");
  tcase_set_timeout(tc, 240);
  tcase_add_test(tc, test_open_restores_structure_word);
  tcase_add_test(tc, test_open_structure_words);
  tcase_add_test(tc, test_open_superseded_slot);
  tcase_add_test(tc, test_survivor_close_vouches);
  tcase_add_test(tc, test_rdonly_unclean_checks_reads);
  tcase_add_test(tc, test_rdonly_unclean_refuses_damaged_structure);
  tcase_add_test(tc, test_open_restores_frozen_table_word);
  tcase_add_test(tc, test_open_repairs_damaged_origin);
  return s;
}

int main(void) { return tc_run(persist_suite()); }
