/*
 * fuzz_recover.c - a libFuzzer target that checks that recovery never
 * lies: after an open (which recovers an unclean collection) or a verify
 * with repair, every value read is one that was written at that position,
 * or some call reported damage.
 *
 * The input is a program, not files:
 *   byte 0      kind: list, dict, set (mod 3)
 *   byte 1      element type (mod the table `types`)
 *   byte 2      how the session ends (mod 3): END_CLEAN (close), END_COPY
 *               (the two files copied while the handle is open, as a
 *               writer killed after its last call leaves them), END_UNMARK
 *               (close, then the clean-close marker cleared)
 *   byte 3      number of operations (mod 48), then two bytes each:
 *               [op][arg] (see run_ops)
 *   then        number of mutations (mod 8), each [sel][off lo][off hi]
 *               and one byte (xor, or a byte to store) or eight bytes (a
 *               word to store): see mutate()
 * Missing bytes read as 0.  The operations run through the public API on
 * a fresh collection while a shadow model in memory follows them.  The
 * mutations are then applied to the files, which are opened read-only
 * (reads and a verify without repair) and then read-write (recovery when
 * the marker is missing; metrics; verify; verify with FSC_VERIFY_REPAIR;
 * everything read again).
 *
 * The oracle (judge_list, judge_dict, judge_set, check_files):
 *  - if no call reported damage (an error other than the expected
 *    FSC_EKEY/FSC_EINDEX, repaired_items at open, a verify that is not
 *    healthy or repaired something), the contents equal the model
 *    exactly: length, every element in order (lists; dict iteration is
 *    insertion order), every key's value, and no key or element the
 *    model no longer holds.  An older, valid-looking state (a silent
 *    rollback) fails here;
 *  - if damage was reported, every value read is one the model holds or
 *    held at that key (lists: one ever written to the list);
 *  - without mutations, nothing may be reported at all and no element
 *    lost: a writer that died after its calls returned loses nothing.
 * A violation abort()s with "fuzz_recover: INVARIANT ..." naming the
 * invariant, so libFuzzer saves the input.  ASan and UBSan watch for
 * crashes and accesses outside the mappings; libFuzzer's -timeout for
 * hangs.
 *
 * Mutations cover the bytes readers use (headers, pointer arrays, hash
 * tables, records, the deleted flag): a mutation in bytes no reader uses
 * changes nothing read and passes the oracle; one that makes the files
 * decode to another valid state must be reported.  The target never
 * recomputes a checksum after a mutation.
 *
 * Build and run: sh tools/fuzz.sh (seeds: fuzz/corpus-recover).
 * FSC_FUZZ_VERBOSE=1 prints the program, the mutations and each answer;
 * FSC_FUZZ_RECOVER_PHASES=ro or rw runs only the read-only or read-write
 * half, FSC_FUZZ_RECOVER_KIND=list, dict or set only that kind,
 * FSC_FUZZ_RECOVER_FILES=data or index damages only that file, and
 * FSC_FUZZ_RECOVER_IGNORE=tag,... only prints the invariants named.
 */
#include "internal.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fscollections.h"

#define MAX_OPS 48
#define MAX_MUT 8
#define MAX_ITEMS 64 /* model entries: ops append at most one each */
#define NKEYS 16
#define HIST 64

enum { K_LIST, K_DICT, K_SET };
enum { END_CLEAN, END_COPY, END_UNMARK };

static const fsc_type types[] = {FSC_TYPE_INT64, FSC_TYPE_STRING,
                                 FSC_TYPE_BYTES, FSC_TYPE_INT32,
                                 FSC_TYPE_FLOAT, FSC_TYPE_ANY};
#define NTYPES (sizeof types / sizeof types[0])

static char base[300], dpath[340], ipath[340];

static void setup(void) {
  if (base[0])
    return;
  const char *tmp = getenv("TMPDIR");
  char dir[256];
  snprintf(dir, sizeof dir, "%s/fsc-fuzzr-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    abort();
  }
  snprintf(base, sizeof base, "%s/c", dir);
  snprintf(dpath, sizeof dpath, "%s.data.fscollection", base);
  snprintf(ipath, sizeof ipath, "%s.index.fscollection", base);
}

static int verbose = -1;
static void say(const char *fmt, ...) {
  if (verbose < 0) {
    const char *e = getenv("FSC_FUZZ_VERBOSE");
    verbose = e && *e == '1';
  }
  if (!verbose)
    return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

/* A broken invariant: abort, so that libFuzzer saves the input.  `tag`
 * names the invariant; FSC_FUZZ_RECOVER_IGNORE="tag,tag" only prints
 * those (to look for other failures while one has a known cause). */
__attribute__((format(printf, 2, 3))) static void
violation(const char *tag, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "fuzz_recover: INVARIANT [%s] ", tag);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  const char *p = getenv("FSC_FUZZ_RECOVER_IGNORE");
  size_t n = strlen(tag);
  while (p && *p) {
    size_t k = strcspn(p, ",");
    if (k == n && !strncmp(p, tag, n))
      return;
    p += k + (p[k] == ',');
  }
  abort();
}

static void die(const char *what, int rc) {
  fprintf(stderr, "fuzz_recover: setup failed: %s: %d %s (%s)\n", what, rc,
          fsc_strerror(rc), fsc_errmsg());
  abort();
}

/* ---- the input ---------------------------------------------------------- */

struct input {
  const uint8_t *p;
  size_t n;
};
static uint8_t next(struct input *in) {
  if (in->n == 0)
    return 0;
  in->n--;
  return *in->p++;
}

/* ---- values --------------------------------------------------------------
 * A model value is an int64 `v`; value_of() makes the element of the
 * collection's type that stands for it, a different one for each v.
 * Variable-size values get lengths that vary with v, so that records of
 * different values mostly differ in size as well as content. */

struct vbuf {
  char b[48];
};

static fsc_value value_of(fsc_type t, int64_t v, struct vbuf *vb) {
  if (t == FSC_TYPE_ANY) {
    static const fsc_type any[] = {FSC_TYPE_INT64, FSC_TYPE_STRING,
                                   FSC_TYPE_FLOAT, FSC_TYPE_BYTES};
    t = any[(uint64_t)v % 4];
  }
  switch (t) {
  case FSC_TYPE_INT32:
    return fsc_i32((int32_t)(v * 7919));
  case FSC_TYPE_FLOAT:
    return fsc_f64((double)v + 0.25);
  case FSC_TYPE_STRING:
  case FSC_TYPE_BYTES: {
    /* "<v>:" then padding: the prefix makes it unique. */
    int k = snprintf(vb->b, sizeof vb->b, "%lld:", (long long)v);
    size_t len = (size_t)k + (size_t)((uint64_t)v % 24);
    for (size_t i = (size_t)k; i < len; i++)
      vb->b[i] = t == FSC_TYPE_STRING ? (char)('a' + i % 26) : (char)0xff;
    return t == FSC_TYPE_STRING ? fsc_strn(vb->b, len) : fsc_bytes(vb->b, len);
  }
  default:
    return fsc_i64(v);
  }
}

static bool is_value(fsc_type t, const fsc_value *got, int64_t v) {
  struct vbuf vb;
  fsc_value w = value_of(t, v, &vb);
  return fsc_value_equal(got, &w);
}

/* ---- the model ----------------------------------------------------------- */

struct model {
  int kind;
  fsc_type type;
  /* list: the elements in order; dict: the keys in insertion order with
   * their values; set: the elements in the order added. */
  int n;
  int64_t val[MAX_ITEMS];
  int key[MAX_ITEMS];
  /* What was ever written: list and set elements (values are 0..255);
   * dict: each key's values. */
  uint64_t ever[4];
  int64_t hist[NKEYS][HIST];
  int nhist[NKEYS];
  bool hist_full[NKEYS];
  bool key_ever[NKEYS];
  /* dict: the key's record is a counter (ctr), one the session changed
   * in place since it was written sealed (unsealed); crashed: the
   * session ended without its close (END_COPY), which would have sealed
   * them.  An unsealed counter's value cannot be judged (doc/FORMAT.md,
   * "Counter records"): the oracle leaves the values of crashed &&
   * unsealed keys out. */
  bool ctr[NKEYS];
  bool unsealed[NKEYS];
  bool crashed;
};

/* Can the oracle judge key k's value? */
static bool judged(const struct model *m, int k) {
  return !(m->crashed && k >= 0 && k < NKEYS && m->unsealed[k]);
}

static void ever_add(struct model *m, int64_t v) {
  m->ever[(uint64_t)v / 64 % 4] |= UINT64_C(1) << ((uint64_t)v % 64);
}
static bool ever_has(const struct model *m, int64_t v) {
  return v >= 0 && v < 256 &&
         (m->ever[(uint64_t)v / 64] >> ((uint64_t)v % 64) & 1);
}
static void hist_add(struct model *m, int k, int64_t v) {
  m->key_ever[k] = true;
  for (int i = 0; i < m->nhist[k]; i++)
    if (m->hist[k][i] == v)
      return;
  if (m->nhist[k] < HIST)
    m->hist[k][m->nhist[k]++] = v;
  else
    m->hist_full[k] = true;
}
static int find_key(const struct model *m, int k) {
  for (int i = 0; i < m->n; i++)
    if (m->key[i] == k)
      return i;
  return -1;
}
static void remove_at(struct model *m, int i) {
  memmove(m->val + i, m->val + i + 1,
          sizeof m->val[0] * (size_t)(m->n - i - 1));
  memmove(m->key + i, m->key + i + 1,
          sizeof m->key[0] * (size_t)(m->n - i - 1));
  m->n--;
}

static void keyname(int k, char *out) { snprintf(out, 16, "k%d", k % 100); }
static int key_of(const fsc_value *k);

/* ---- running the program ------------------------------------------------- */

static fsc_options create_opts(fsc_type t) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.type = t;
  o.flags = FSC_CREATE;
  o.durability = FSC_DURABLE_NONE; /* no fsync per run */
  return o;
}

#define OKW(call)                                                              \
  do {                                                                         \
    int rc_ = (call);                                                          \
    if (rc_ < 0)                                                               \
      die(#call, rc_);                                                         \
  } while (0)

/* One operation on the list and the model.  The writes here run on
 * sound files: each must succeed. */
static void list_op(fsc_list *l, struct model *m, uint8_t op, uint8_t arg,
                    int *compactions) {
  struct vbuf vb;
  int64_t v = arg;
  fsc_value w = value_of(m->type, v, &vb), out;
  switch (op % 10) {
  case 0:
  case 1:
  case 2:
    if (m->n >= MAX_ITEMS)
      return;
    OKW(fsc_list_append(l, &w));
    ever_add(m, v);
    m->val[m->n++] = v;
    say("append %lld", (long long)v);
    return;
  case 3:
    if (m->n == 0)
      return;
    OKW(fsc_list_set(l, arg % m->n, &w));
    ever_add(m, v);
    m->val[arg % m->n] = v;
    say("set [%d] = %lld", arg % m->n, (long long)v);
    return;
  case 4:
    if (m->n >= MAX_ITEMS)
      return;
    OKW(fsc_list_insert(l, 0, &w));
    ever_add(m, v);
    memmove(m->val + 1, m->val, sizeof m->val[0] * (size_t)m->n);
    m->val[0] = v;
    m->n++;
    say("insert 0 %lld", (long long)v);
    return;
  case 5:
    if (m->n == 0)
      return;
    OKW(fsc_list_pop(l, 0, &out));
    if (!is_value(m->type, &out, m->val[0]))
      violation("sound-write",
                "list pop(0) on sound files returned another value");
    remove_at(m, 0);
    say("pop 0");
    return;
  case 6:
    if (m->n == 0)
      return;
    OKW(fsc_list_pop(l, -1, &out));
    if (!is_value(m->type, &out, m->val[m->n - 1]))
      violation("sound-write",
                "list pop(-1) on sound files returned another value");
    m->n--;
    say("pop -1");
    return;
  case 7: {
    if (m->n == 0)
      return;
    int i = arg % m->n;
    OKW(fsc_list_del(l, i));
    remove_at(m, i);
    say("del %d", i);
    return;
  }
  case 8:
    if (arg % 4)
      return;
    OKW(fsc_list_clear(l));
    m->n = 0;
    say("clear");
    return;
  default:
    if (arg % 3 || ++*compactions > 2)
      return;
    OKW(fsc_list_compact(l));
    say("compact");
    return;
  }
}

static void dict_op(fsc_dict *d, struct model *m, uint8_t op, uint8_t arg,
                    int *compactions) {
  struct vbuf vb;
  int k = arg % NKEYS;
  char kn[16];
  keyname(k, kn);
  int64_t v = (int64_t)(op / 8) * 16 + arg / 16; /* 0..511 */
  fsc_value w = value_of(m->type, v, &vb);
  int i = find_key(m, k);
  switch (op % 8) {
  case 0:
  case 1:
  case 2:
    if (i < 0 && m->n >= MAX_ITEMS)
      return;
    OKW(fsc_dict_set(d, kn, strlen(kn), &w));
    hist_add(m, k, v);
    m->ctr[k] = m->unsealed[k] = false;
    if (i >= 0) {
      m->val[i] = v; /* an existing key keeps its place */
    } else {
      m->key[m->n] = k;
      m->val[m->n++] = v;
    }
    say("dict %s = %lld", kn, (long long)v);
    return;
  case 3:
  case 4: {
    if (op % 8 == 4 && arg % 4 == 1) {
      /* popitem: the newest key, the model's last, and its value. */
      fsc_value kv, vv;
      int rc = fsc_dict_popitem(d, &kv, &vv);
      if (m->n == 0) {
        if (rc != FSC_EKEY)
          die("fsc_dict_popitem of an empty dict on sound files", rc);
        say("dict popitem (empty)");
        return;
      }
      OKW(rc);
      int last = m->key[m->n - 1];
      if (key_of(&kv) != last)
        violation("sound-write", "dict popitem on sound files gave key %d, "
                  "not the newest, k%d", key_of(&kv), last);
      if (!is_value(m->type, &vv, m->val[m->n - 1]))
        violation("sound-write", "dict popitem on sound files gave k%d a "
                  "value other than the model's", last);
      m->ctr[last] = m->unsealed[last] = false;
      remove_at(m, m->n - 1);
      say("dict popitem k%d", last);
      return;
    }
    int rc = fsc_dict_del(d, kn, strlen(kn));
    if (rc != (i >= 0 ? 0 : FSC_EKEY))
      die("fsc_dict_del on sound files", rc);
    if (i >= 0)
      remove_at(m, i);
    m->ctr[k] = m->unsealed[k] = false;
    say("dict del %s", kn);
    return;
  }
  case 5: {
    /* fsc_dict_incr makes the key's record a counter, written sealed;
     * the next increment unseals it until the session's close seals it
     * again (doc/FORMAT.md, "Counter records"). */
    if (m->type != FSC_TYPE_INT64)
      return;
    int64_t delta = (int64_t)(op / 8) - 8, x = 0;
    OKW(fsc_dict_incr(d, kn, strlen(kn), delta, &x));
    int64_t want = (i >= 0 ? m->val[i] : 0) + delta;
    if (x != want)
      violation("sound-write", "dict incr on sound files gave %lld, not %lld",
                (long long)x, (long long)want);
    hist_add(m, k, want);
    if (m->ctr[k])
      m->unsealed[k] = true; /* in place */
    m->ctr[k] = true;
    if (i >= 0) {
      m->val[i] = want;
    } else {
      m->key[m->n] = k;
      m->val[m->n++] = want;
    }
    say("dict incr %s %lld", kn, (long long)delta);
    return;
  }
  case 6:
    if (arg % 8)
      return;
    OKW(fsc_dict_clear(d));
    m->n = 0;
    memset(m->ctr, 0, sizeof m->ctr);
    memset(m->unsealed, 0, sizeof m->unsealed);
    say("dict clear");
    return;
  default:
    if (arg % 3 || ++*compactions > 2)
      return;
    OKW(fsc_dict_compact(d));
    /* The copies are written sealed. */
    memset(m->unsealed, 0, sizeof m->unsealed);
    say("dict compact");
    return;
  }
}

static void set_op(fsc_set *s, struct model *m, uint8_t op, uint8_t arg,
                   int *compactions) {
  struct vbuf vb;
  int64_t v = arg % 32 + (op / 8 % 2) * 32; /* a few, so that they repeat */
  fsc_value w = value_of(m->type, v, &vb);
  int i = -1;
  for (int j = 0; j < m->n; j++)
    if (m->val[j] == v)
      i = j;
  switch (op % 8) {
  case 0:
  case 1:
  case 2:
  case 3: {
    if (i < 0 && m->n >= MAX_ITEMS)
      return;
    int rc = fsc_set_add(s, &w);
    if (rc != (i < 0))
      die("fsc_set_add on sound files", rc);
    ever_add(m, v);
    if (i < 0)
      m->val[m->n++] = v;
    say("set add %lld", (long long)v);
    return;
  }
  case 4:
  case 5: {
    if (op % 8 == 5 && arg % 4 == 1) {
      /* pop: the newest element, the model's last. */
      fsc_value out;
      int rc = fsc_set_pop(s, &out);
      if (m->n == 0) {
        if (rc != FSC_EKEY)
          die("fsc_set_pop of an empty set on sound files", rc);
        say("set pop (empty)");
        return;
      }
      OKW(rc);
      if (!is_value(m->type, &out, m->val[m->n - 1]))
        violation("sound-write", "set pop on sound files did not give the "
                  "newest element, %lld", (long long)m->val[m->n - 1]);
      say("set pop %lld", (long long)m->val[m->n - 1]);
      remove_at(m, m->n - 1);
      return;
    }
    int rc = fsc_set_discard(s, &w);
    if (rc < 0)
      die("fsc_set_discard on sound files", rc);
    if (i >= 0)
      remove_at(m, i);
    say("set discard %lld", (long long)v);
    return;
  }
  case 6:
    if (arg % 8)
      return;
    OKW(fsc_set_clear(s));
    m->n = 0;
    say("set clear");
    return;
  default:
    if (arg % 3 || ++*compactions > 2)
      return;
    OKW(fsc_set_compact(s));
    say("set compact");
    return;
  }
}

/* ---- files ----------------------------------------------------------------
 */

struct file {
  uint8_t *p;
  size_t n;
};

static void slurp(const char *path, struct file *f) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    perror(path);
    abort();
  }
  f->n = (size_t)st.st_size;
  f->p = malloc(f->n + 1);
  if (!f->p || pread(fd, f->p, f->n, 0) != (ssize_t)f->n) {
    perror(path);
    abort();
  }
  close(fd);
}

static void put_file(const char *path, const struct file *f) {
  unlink(path); /* a fresh inode: no mapping of a previous run shares it */
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    perror(path);
    abort();
  }
  if (write(fd, f->p, f->n) != (ssize_t)f->n) {
    perror("write");
    abort();
  }
  close(fd);
}

static uint64_t rd64(const struct file *f, size_t off) {
  uint64_t x = 0;
  if (off + 8 <= f->n)
    memcpy(&x, f->p + off, 8);
  return le64toh(x);
}

/*
 * One mutation: sel bit 0 picks the file (data, index); bits 1-2 the
 * action (xor a byte, store a byte, store an 8-byte aligned word, clear
 * the final byte of the index file: the marker); bit 3 aims at the
 * header page's first 256 bytes instead of the bytes in use (data:
 * [4096, tail), index: [4096, itail)).
 */
/* Did this input's damage change a byte of the data file that may be a
 * record's flags byte (a word, or a byte at 1 mod 8)?  The flags byte is
 * outside the checksum: with it, a list slot damaged into naming a record
 * a write superseded can look live (check_list_seen). */
static bool g_flags_hit;

static void mutate(struct file *df, struct file *xf, struct input *in,
                   bool *any) {
  uint8_t sel = next(in);
  uint32_t r = next(in);
  r |= (uint32_t)next(in) << 8;
  /* FSC_FUZZ_RECOVER_FILES=data or index: damage only that file. */
  const char *only = getenv("FSC_FUZZ_RECOVER_FILES");
  if (only && *only)
    sel = (uint8_t)((sel & ~1u) | (strcmp(only, "data") != 0));
  struct file *f = sel & 1 ? xf : df;
  int action = sel >> 1 & 3;
  if (action == 3) {
    if (xf->n) {
      xf->p[xf->n - 1] = 0;
      say("mutate: clear the marker");
    }
    return;
  }
  uint64_t used = rd64(f, sel & 1 ? offsetof(struct fsc__index_hdr, itail)
                                  : offsetof(struct fsc__data_hdr, tail));
  if (used > f->n)
    used = f->n;
  size_t off;
  if ((sel & 8) || used <= FSC__HDR_SIZE)
    off = r % 256;
  else
    off = FSC__HDR_SIZE + r % (used - FSC__HDR_SIZE);
  if (off >= f->n)
    return;
  if (action == 2) {
    off &= ~(size_t)7;
    uint64_t w = 0;
    for (int i = 0; i < 8; i++)
      w |= (uint64_t)next(in) << (8 * i);
    if (off + 8 > f->n)
      return;
    w = htole64(w);
    if (memcmp(f->p + off, &w, 8) != 0) {
      *any = true;
      g_flags_hit |= f == df;
    }
    memcpy(f->p + off, &w, 8);
    say("mutate: %s word at %zu = %#llx", sel & 1 ? "index" : "data", off,
        (unsigned long long)le64toh(w));
    return;
  }
  uint8_t b = next(in);
  uint8_t nb = action == 0 ? (uint8_t)(f->p[off] ^ b) : b;
  if (nb != f->p[off]) {
    *any = true;
    g_flags_hit |= f == df && (off & 7u) == 1;
  }
  f->p[off] = nb;
  say("mutate: %s byte at %zu %s %#x", sel & 1 ? "index" : "data", off,
      action == 0 ? "^=" : "=", b);
}

/* ---- the oracle -----------------------------------------------------------
 */

struct verdict {
  bool damage;      /* some call reported damage or repair */
  const char *mode; /* "read-only" or "read-write" */
  bool unclean;     /* the open found no clean-close marker */
  /* What the next reads are held to.  judge false: read (for ASan) but
   * not judged.  checked false: the reads are plain reads of a collection
   * no open or repair verified (a clean close was trusted), which do not
   * checksum records (doc/DURABILITY.md): once damage is reported they
   * may return what a damaged record holds. */
  bool judge, checked;
};

static void note(struct verdict *vd, const char *what, int rc) {
  say("%s %s: %d %s", vd->mode, what, rc, rc < 0 ? fsc_errmsg() : "");
  if (rc < 0)
    vd->damage = true;
}

static void note_report(struct verdict *vd, const char *what, int rc,
                        const fsc_verify_report *r) {
  note(vd, what, rc);
  if (rc == 0) {
    say("%s %s: healthy %d repaired %d bad %llu index %llu dropped %llu "
        "items_repaired %llu",
        vd->mode, what, r->healthy, r->repaired,
        (unsigned long long)r->records_bad,
        (unsigned long long)r->index_problems,
        (unsigned long long)r->items_dropped,
        (unsigned long long)r->items_repaired);
    if (!r->healthy || r->repaired || r->records_bad || r->index_problems ||
        r->items_dropped || r->items_repaired || r->problems_left)
      vd->damage = true;
  }
}

static void note_metrics(struct verdict *vd, int rc, const fsc_metrics *mt) {
  note(vd, "metrics", rc);
  if (rc == 0) {
    say("%s metrics: length %llu last_close_clean %d repaired_items %llu",
        vd->mode, (unsigned long long)mt->length, mt->last_close_clean,
        (unsigned long long)mt->repaired_items);
    if (mt->repaired_items)
      vd->damage = true;
    vd->unclean = !mt->last_close_clean;
  }
}

/* What was read, kept until every call has had its say about damage. */
struct seen {
  int n;
  bool ok[MAX_ITEMS + 1];
  fsc_value v[MAX_ITEMS + 1];
  fsc_value k[MAX_ITEMS + 1];
  bool truncated; /* more than MAX_ITEMS + 1 were there */
  bool len_ok;
  uint64_t len;
};

static void seen_add(struct seen *s, const fsc_value *k, const fsc_value *v) {
  if (s->n > MAX_ITEMS) {
    s->truncated = true;
    return;
  }
  s->ok[s->n] = true;
  if (k)
    s->k[s->n] = *k;
  s->v[s->n++] = *v;
}

/* Read a list whole: len, get of each index, iteration. */
static void read_list(fsc_list *l, struct verdict *vd, struct seen *got,
                      struct seen *it) {
  memset(got, 0, sizeof *got);
  memset(it, 0, sizeof *it);
  int rc = fsc_list_len(l, &got->len);
  note(vd, "len", rc);
  got->len_ok = rc == 0;
  if (rc == 0) {
    for (uint64_t i = 0; i < got->len && i <= MAX_ITEMS; i++) {
      fsc_value v;
      rc = fsc_list_get(l, (int64_t)i, &v);
      if (rc < 0) {
        note(vd, "get", rc);
        got->n++;
        continue;
      }
      seen_add(got, NULL, &v);
    }
    got->truncated = got->len > MAX_ITEMS;
  }
  fsc_list_iter iter;
  rc = fsc_list_iter_init(l, &iter);
  note(vd, "iter_init", rc);
  if (rc == 0) {
    fsc_value v;
    for (int i = 0; i <= MAX_ITEMS + 1; i++) {
      rc = fsc_list_iter_next(&iter, &v);
      if (rc <= 0) {
        if (rc < 0)
          note(vd, "iter_next", rc);
        break;
      }
      seen_add(it, NULL, &v);
    }
  }
}

static void check_list_seen(const struct model *m, const struct verdict *vd,
                            const struct seen *s, bool with_len,
                            const char *what) {
  if (!vd->judge)
    return;
  if (!vd->damage) {
    if (with_len && (!s->len_ok || s->len != (uint64_t)m->n))
      violation("list-len",
                "%s %s: no damage reported, but the list's length is %llu, "
                "the model's %d",
                vd->mode, what, (unsigned long long)s->len, m->n);
    if (s->n != m->n || s->truncated)
      violation("list-count",
                "%s %s: no damage reported, but %d elements were read, the "
                "model holds %d",
                vd->mode, what, s->n, m->n);
    for (int i = 0; i < m->n; i++) {
      if (is_value(m->type, &s->v[i], m->val[i]))
        continue;
      /* The one known class (fuzz/known-failing/README.md): a slot's
       * offset damaged into naming another live element's record, which
       * no check can tell from a moved element (list records carry no
       * position).  Its own tag, so a run can set it aside
       * (tools/fuzz.sh does) without hiding any other wrong value. */
      bool other = false;
      for (int j = 0; j < m->n && !other; j++)
        other = j != i && is_value(m->type, &s->v[i], m->val[j]);
      /* The same class when the record is one a write superseded and the
       * damage also reached a byte that may be its flags byte (cleared
       * DELETED: nothing else marks a list record superseded). */
      for (int64_t v = 0; v < 256 && !other && g_flags_hit; v++)
        other = ever_has(m, v) && is_value(m->type, &s->v[i], v);
      violation(other ? "list-slot-redirect" : "list-value",
                "%s %s: no damage reported, but element %d differs from "
                "the model (%s)",
                vd->mode, what, i,
                other ? "it is another element's value, or a superseded "
                        "one whose flags byte was damaged too: a slot "
                        "redirected to another record"
                      : "a silent rollback or a wrong value");
    }
    return;
  }
  if (!vd->checked)
    return;
  for (int i = 0; i < s->n; i++) {
    if (!s->ok[i])
      continue;
    bool found = false;
    for (int64_t v = 0; v < 256 && !found; v++)
      found = ever_has(m, v) && is_value(m->type, &s->v[i], v);
    if (!found)
      violation("list-never-written",
                "%s %s: element %d read after damage was reported is no "
                "value ever written to the list",
                vd->mode, what, i);
  }
}

static void judge_list(fsc_list *l, const struct model *m, struct verdict *vd) {
  const char *what = "get";
  struct seen got, it;
  read_list(l, vd, &got, &it);
  check_list_seen(m, vd, &got, true, what);
  check_list_seen(m, vd, &it, false, "iteration");
}

static int key_of(const fsc_value *k) {
  if (k->type != FSC_TYPE_STRING || k->u.buf.len < 2 || k->u.buf.len > 3)
    return -1;
  const char *p = k->u.buf.ptr;
  if (p[0] != 'k')
    return -1;
  int x = 0;
  for (size_t i = 1; i < k->u.buf.len; i++) {
    if (p[i] < '0' || p[i] > '9')
      return -1;
    x = x * 10 + (p[i] - '0');
  }
  char kn[16];
  keyname(x, kn);
  return x < NKEYS && strlen(kn) == k->u.buf.len ? x : -1;
}

static bool dict_held(const struct model *m, int k, const fsc_value *v) {
  if (m->hist_full[k])
    return true;
  for (int i = 0; i < m->nhist[k]; i++)
    if (is_value(m->type, v, m->hist[k][i]))
      return true;
  return false;
}

static void judge_dict(fsc_dict *d, const struct model *m, struct verdict *vd) {
  struct seen it;
  memset(&it, 0, sizeof it);
  int rc = fsc_dict_len(d, &it.len);
  note(vd, "len", rc);
  it.len_ok = rc == 0;
  fsc_dict_iter iter;
  rc = fsc_dict_iter_init(d, &iter);
  note(vd, "iter_init", rc);
  if (rc == 0) {
    fsc_value k, v;
    for (int i = 0; i <= MAX_ITEMS + 1; i++) {
      rc = fsc_dict_iter_next(&iter, &k, &v);
      if (rc <= 0) {
        if (rc < 0)
          note(vd, "iter_next", rc);
        break;
      }
      seen_add(&it, &k, &v);
    }
  }
  /* Every key ever used: its value, or FSC_EKEY. */
  fsc_value gv[NKEYS];
  int grc[NKEYS];
  for (int k = 0; k < NKEYS; k++) {
    char kn[16];
    keyname(k, kn);
    grc[k] = fsc_dict_get(d, kn, strlen(kn), &gv[k]);
    if (grc[k] < 0 && grc[k] != FSC_EKEY)
      note(vd, "get", grc[k]);
  }
  if (!vd->judge)
    return;
  if (!vd->damage) {
    if (!it.len_ok || it.len != (uint64_t)m->n)
      violation("dict-len",
                "%s: no damage reported, but the dict's length is %llu, the "
                "model's %d",
                vd->mode, (unsigned long long)it.len, m->n);
    if (it.n != m->n || it.truncated)
      violation("dict-iter-count",
                "%s: no damage reported, but iteration gave %d keys, the "
                "model holds %d",
                vd->mode, it.n, m->n);
    for (int i = 0; i < m->n; i++) {
      if (key_of(&it.k[i]) != m->key[i])
        violation("dict-iter-order",
                  "%s: no damage reported, but key %d of the iteration "
                  "differs from the model's (insertion order)",
                  vd->mode, i);
      if (judged(m, m->key[i]) && !is_value(m->type, &it.v[i], m->val[i]))
        violation("dict-iter-value",
                  "%s: no damage reported, but the iteration's value of "
                  "k%d differs from the model (a silent rollback or a "
                  "wrong value)",
                  vd->mode, m->key[i]);
    }
    for (int k = 0; k < NKEYS; k++) {
      int i = find_key(m, k);
      if (i < 0 && grc[k] != FSC_EKEY)
        violation("dict-key-back",
                  "%s: no damage reported, but get(k%d) gave %d, the model "
                  "does not hold the key (a deleted key came back?)",
                  vd->mode, k, grc[k]);
      if (i >= 0 && (grc[k] != 0 ||
                     (judged(m, k) && !is_value(m->type, &gv[k], m->val[i]))))
        violation("dict-get-value",
                  "%s: no damage reported, but get(k%d) (rc %d) differs "
                  "from the model (a silent rollback or a wrong value)",
                  vd->mode, k, grc[k]);
    }
    return;
  }
  if (!vd->checked)
    return;
  for (int i = 0; i < it.n; i++) {
    int k = key_of(&it.k[i]);
    if (k < 0 || !m->key_ever[k])
      violation("dict-never-key",
                "%s: iteration after damage was reported gave a key never "
                "written",
                vd->mode);
    if (judged(m, k) && !dict_held(m, k, &it.v[i]))
      violation("dict-never-value",
                "%s: iteration after damage was reported gave k%d a value "
                "it never held",
                vd->mode, k);
  }
  for (int k = 0; k < NKEYS; k++) {
    if (grc[k] != 0)
      continue;
    if (!m->key_ever[k])
      violation("dict-never-key",
                "%s: get(k%d) after damage was reported found a key never "
                "written",
                vd->mode, k);
    if (judged(m, k) && !dict_held(m, k, &gv[k]))
      violation("dict-never-value",
                "%s: get(k%d) after damage was reported gave a value the "
                "key never held",
                vd->mode, k);
  }
}

static void judge_set(fsc_set *s, const struct model *m, struct verdict *vd) {
  struct seen it;
  memset(&it, 0, sizeof it);
  int rc = fsc_set_len(s, &it.len);
  note(vd, "len", rc);
  it.len_ok = rc == 0;
  fsc_set_iter iter;
  rc = fsc_set_iter_init(s, &iter);
  note(vd, "iter_init", rc);
  if (rc == 0) {
    fsc_value v;
    for (int i = 0; i <= MAX_ITEMS + 1; i++) {
      rc = fsc_set_iter_next(&iter, &v);
      if (rc <= 0) {
        if (rc < 0)
          note(vd, "iter_next", rc);
        break;
      }
      seen_add(&it, NULL, &v);
    }
  }
  /* contains of every element ever added */
  int crc[256];
  for (int64_t v = 0; v < 256; v++) {
    crc[v] = 0;
    if (!ever_has(m, v))
      continue;
    struct vbuf vb;
    fsc_value w = value_of(m->type, v, &vb);
    crc[v] = fsc_set_contains(s, &w);
    if (crc[v] < 0)
      note(vd, "contains", crc[v]);
  }
  if (!vd->judge || (vd->damage && !vd->checked))
    return;
  /* Which model value each element read stands for. */
  int64_t what[MAX_ITEMS + 1];
  for (int i = 0; i < it.n; i++) {
    what[i] = -1;
    for (int64_t v = 0; v < 256 && what[i] < 0; v++)
      if (ever_has(m, v) && is_value(m->type, &it.v[i], v))
        what[i] = v;
    if (what[i] < 0)
      violation("set-never-added",
                "%s: the set's iteration gave an element never added%s",
                vd->mode, vd->damage ? " (after damage was reported)" : "");
  }
  if (vd->damage)
    return;
  if (!it.len_ok || it.len != (uint64_t)m->n)
    violation("set-len",
              "%s: no damage reported, but the set's length is %llu, the "
              "model's %d",
              vd->mode, (unsigned long long)it.len, m->n);
  if (it.n != m->n || it.truncated)
    violation("set-iter-count",
              "%s: no damage reported, but iteration gave %d elements, the "
              "model holds %d",
              vd->mode, it.n, m->n);
  for (int i = 0; i < m->n; i++) {
    bool in = false;
    for (int j = 0; j < it.n; j++)
      in = in || what[j] == m->val[i];
    if (!in)
      violation("set-missing",
                "%s: no damage reported, but element %lld is missing from "
                "the iteration",
                vd->mode, (long long)m->val[i]);
  }
  for (int64_t v = 0; v < 256; v++) {
    if (!ever_has(m, v))
      continue;
    bool want = false;
    for (int i = 0; i < m->n; i++)
      want = want || m->val[i] == v;
    if (crc[v] != (int)want)
      violation("set-contains",
                "%s: no damage reported, but contains(%lld) is %d, the "
                "model says %d (a discarded element came back?)",
                vd->mode, (long long)v, crc[v], (int)want);
  }
}

/* ---- opening the result ----------------------------------------------------
 */

static fsc_options reopen_opts(bool rdonly) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = rdonly ? FSC_RDONLY : 0;
  o.durability = FSC_DURABLE_NONE;
  return o;
}

/*
 * The reads and their judgement, for one kind.  Read-only: open,
 * metrics, read (judged if the open found the collection unclean: a
 * read-only handle then must not hand out what it did not check), verify
 * without repair, read again (judged; plain reads if the last close was
 * clean).  Read-write: open (recovery if unclean), metrics, verify, read
 * (judged; plain reads if the last close was clean), verify with repair,
 * read again (judged, checked), close.
 */
#define CHECK_KIND(NAME, T, checkfn)                                           \
  static void check_##NAME(const struct model *m, struct verdict *vd,          \
                           bool rdonly) {                                      \
    fsc_options o = reopen_opts(rdonly);                                       \
    fsc_metrics mt = {.size = sizeof mt};                                      \
    fsc_verify_report r = {.size = sizeof r}, rr = {.size = sizeof rr};        \
    T *h = NULL;                                                               \
    int rc = fsc_##NAME##_open(base, &o, &h);                                  \
    note(vd, "open", rc);                                                      \
    if (rc)                                                                    \
      return;                                                                  \
    note_metrics(vd, fsc_##NAME##_metrics(h, &mt), &mt);                       \
    if (rdonly) {                                                              \
      vd->judge = vd->checked = vd->unclean;                                   \
      checkfn(h, m, vd);                                                       \
      note_report(vd, "verify", fsc_##NAME##_verify(h, 0, &r), &r);            \
      vd->judge = true;                                                        \
      checkfn(h, m, vd);                                                       \
    } else {                                                                   \
      note_report(vd, "verify", fsc_##NAME##_verify(h, 0, &r), &r);            \
      vd->judge = true;                                                        \
      vd->checked = vd->unclean;                                               \
      checkfn(h, m, vd);                                                       \
      note_report(vd, "repair",                                                \
                  fsc_##NAME##_verify(h, FSC_VERIFY_REPAIR, &rr), &rr);        \
      vd->checked = true;                                                      \
      checkfn(h, m, vd);                                                       \
      note(vd, "close", fsc_##NAME##_close(h));                                \
    }                                                                          \
    fsc_##NAME##_free(h);                                                      \
  }

CHECK_KIND(list, fsc_list, judge_list)
CHECK_KIND(dict, fsc_dict, judge_dict)
CHECK_KIND(set, fsc_set, judge_set)

static void check_files(const struct model *m, bool mutated, bool rdonly) {
  struct verdict vd = {false, rdonly ? "read-only" : "read-write", false, false,
                       false};
  if (m->kind == K_LIST)
    check_list(m, &vd, rdonly);
  else if (m->kind == K_DICT)
    check_dict(m, &vd, rdonly);
  else
    check_set(m, &vd, rdonly);
  if (!mutated && vd.damage)
    violation("untouched-reported",
              "%s: damage reported or repaired on files no mutation touched "
              "(a writer that died after its calls returned)",
              vd.mode);
}

/* ---- the target
 * --------------------------------------------------------------- */

/* Run the program on a fresh collection; leave its files as the end mode
 * says, in *df and *xf. */
static void run_program(struct model *m, struct input *in, int end,
                        struct file *df, struct file *xf) {
  unlink(dpath);
  unlink(ipath);
  fsc_options o = create_opts(m->type);
  int nops = next(in) % MAX_OPS, compactions = 0;
  fsc_list *l = NULL;
  fsc_dict *d = NULL;
  fsc_set *s = NULL;
  if (m->kind == K_LIST)
    OKW(fsc_list_open(base, &o, &l));
  else if (m->kind == K_DICT)
    OKW(fsc_dict_open(base, &o, &d));
  else
    OKW(fsc_set_open(base, &o, &s));
  for (int i = 0; i < nops; i++) {
    uint8_t op = next(in), arg = next(in);
    if (l)
      list_op(l, m, op, arg, &compactions);
    else if (d)
      dict_op(d, m, op, arg, &compactions);
    else
      set_op(s, m, op, arg, &compactions);
  }
  if (end == END_COPY) {
    /* A writer killed after its last call: the files as they are. */
    slurp(dpath, df);
    slurp(ipath, xf);
    m->crashed = true;
    say("end: copied while open");
  }
  if (l) {
    OKW(fsc_list_close(l));
    fsc_list_free(l);
  } else if (d) {
    OKW(fsc_dict_close(d));
    fsc_dict_free(d);
  } else {
    OKW(fsc_set_close(s));
    fsc_set_free(s);
  }
  if (end != END_COPY) {
    slurp(dpath, df);
    slurp(ipath, xf);
    if (end == END_UNMARK && xf->n)
      xf->p[xf->n - 1] = 0;
    say("end: %s", end == END_UNMARK ? "closed, marker cleared" : "closed");
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  struct input in = {data, size};
  static struct model m;
  memset(&m, 0, sizeof m);
  m.kind = next(&in) % 3;
  /* FSC_FUZZ_RECOVER_KIND=list, dict or set: only that kind. */
  const char *kind = getenv("FSC_FUZZ_RECOVER_KIND");
  if (kind && *kind)
    m.kind = !strcmp(kind, "list")   ? K_LIST
             : !strcmp(kind, "dict") ? K_DICT
                                     : K_SET;
  m.type = types[next(&in) % NTYPES];
  int end = next(&in) % 3;
  say("--- %s of %s",
      m.kind == K_LIST   ? "list"
      : m.kind == K_DICT ? "dict"
                         : "set",
      fsc_type_name(m.type));
  struct file df, xf;
  run_program(&m, &in, end, &df, &xf);
  /* The oracle's own test (tests/test_hostile_recover.c): a model that
   * differs from what was written, as a lying recovery would make the
   * files differ from the model; the oracle must abort. */
  const char *lie = getenv("FSC_FUZZ_RECOVER_LIE");
  if (lie && *lie == '1' && m.n > 0)
    m.val[0] = 1000; /* a value never written */
  int nmut = next(&in) % MAX_MUT;
  bool mutated = false;
  g_flags_hit = false;
  for (int i = 0; i < nmut; i++)
    mutate(&df, &xf, &in, &mutated);
  /* FSC_FUZZ_RECOVER_PHASES=ro or rw: only that open (to look for other
   * failures while one phase has a known one). */
  const char *ph = getenv("FSC_FUZZ_RECOVER_PHASES");
  if (!ph || !strcmp(ph, "ro")) {
    put_file(dpath, &df);
    put_file(ipath, &xf);
    check_files(&m, mutated, true);
  }
  if (!ph || !strcmp(ph, "rw")) {
    /* Written again, so that the read-write open sees exactly what was
     * made whatever the read-only one did. */
    put_file(dpath, &df);
    put_file(ipath, &xf);
    check_files(&m, mutated, false);
  }
  free(df.p);
  free(xf.p);
  unlink(dpath);
  unlink(ipath);
  /* Files a compaction left behind, if any. */
  char p[400];
  snprintf(p, sizeof p, "%s.compact", dpath);
  unlink(p);
  snprintf(p, sizeof p, "%s.compact", ipath);
  unlink(p);
  return 0;
}
