/*
 * fuzz_open.c - a libFuzzer target: a collection's two files, as hostile
 * as the fuzzer makes them, opened as a list, a dict and a set.
 *
 * The input is the bytes of both files:
 *   [u32 little-endian: data file length n][n bytes: data file][index file]
 * (n is clamped to what the input holds).  They are written to a private
 * directory, then opened read-write (so the verification and repair of an
 * unclean open run when the clean-close marker is missing; and first
 * read-only, of any kind) and every
 * element is read back: len, metrics, iteration, get of every index or key,
 * contains, a few writes and a pop.  The library must answer with a clean
 * error (FSC_ECORRUPT and friends) or success: never crash, hang, leak or
 * touch memory outside its mappings (ASan and UBSan watch).
 *
 * Build and run: sh tools/fuzz.sh (seeds: fuzz/corpus, from make_corpus).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fscollections.h"

static char base[300], dpath[340], ipath[340];

static void setup(void) {
  if (base[0])
    return;
  const char *tmp = getenv("TMPDIR");
  char dir[256];
  snprintf(dir, sizeof dir, "%s/fsc-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    abort();
  }
  snprintf(base, sizeof base, "%s/c", dir);
  snprintf(dpath, sizeof dpath, "%s.data.fscollection", base);
  snprintf(ipath, sizeof ipath, "%s.index.fscollection", base);
}

static void put_file(const char *path, const uint8_t *p, size_t n) {
  unlink(path); /* a fresh inode: nothing of the previous run is kept */
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    perror(path);
    abort();
  }
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w <= 0) {
      perror("write");
      abort();
    }
    p += w;
    n -= (size_t)w;
  }
  close(fd);
}

static void put_files(const uint8_t *in, size_t size) {
  uint32_t n = 0;
  if (size >= 4) {
    n = (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 |
        (uint32_t)in[3] << 24;
    in += 4;
    size -= 4;
  } else {
    size = 0;
  }
  if (n > size)
    n = (uint32_t)size;
  put_file(dpath, in, n);
  put_file(ipath, in + n, size - n);
}

/* What opening a damaged collection may answer besides success. */
static void check_open_rc(int rc, const char *kind) {
  switch (rc) {
  case 0:
  case FSC_ECORRUPT:
  case FSC_EKIND:
  case FSC_EVERSION:
  case FSC_ENOENT: /* an empty or never finished collection, no CREATE */
    return;
  default:
    fprintf(stderr, "fsc_%s_open returned %d (%s: %s)\n", kind, rc,
            fsc_strerror(rc), fsc_errmsg());
    abort();
  }
}

/* A value read back must be sound: a known type, and a view inside what
 * it claims (ASan checks the bytes are readable by reading them). */
static unsigned touch(const fsc_value *v) {
  unsigned x = 0;
  switch (v->type) {
  case FSC_TYPE_STRING:
  case FSC_TYPE_BYTES:
  case FSC_TYPE_JSON:
  case FSC_TYPE_REF:
    for (size_t i = 0; i < v->u.buf.len; i++)
      x += ((const uint8_t *)v->u.buf.ptr)[i];
    return x;
  case FSC_TYPE_INT32:
  case FSC_TYPE_INT64:
  case FSC_TYPE_INT128:
  case FSC_TYPE_BOOL:
  case FSC_TYPE_FLOAT:
    return 1;
  default:
    fprintf(stderr, "a value of type %d was handed out\n", (int)v->type);
    abort();
  }
}

static volatile unsigned sink;

/* FSC_FUZZ_VERBOSE=1: print what each open and write returned. */
static int verbose = -1;
static int say(const char *what, int rc) {
  if (verbose < 0) {
    const char *e = getenv("FSC_FUZZ_VERBOSE");
    verbose = e && *e == '1';
  }
  if (verbose)
    fprintf(stderr, "%s: %d%s%s\n", what, rc, rc < 0 ? " " : "",
            rc < 0 ? fsc_errmsg() : "");
  return rc;
}

static fsc_options opts(void) {
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = 0;                       /* open what is there; never create */
  o.durability = FSC_DURABLE_NONE;   /* no fsync per run */
  return o;
}

static int pred_all(const fsc_value *v, void *ctx) {
  (void)ctx;
  sink += touch(v);
  return 1;
}
static int emit_count(uint64_t i, const fsc_value *v, void *ctx) {
  (void)i;
  (void)v;
  ++*(uint64_t *)ctx;
  return 0;
}

static void run_list(void) {
  fsc_options o = opts();
  fsc_list *l = NULL;
  int rc = say("list open", fsc_list_open(base, &o, &l));
  check_open_rc(rc, "list");
  if (rc)
    return;
  uint64_t n = 0;
  fsc_metrics m = {.size = sizeof m};
  fsc_list_metrics(l, &m);
  fsc_value v;
  if (fsc_list_len(l, &n) == 0) {
    for (uint64_t i = 0; i < n && i < 100000; i++)
      if (fsc_list_get(l, (int64_t)i, &v) == 0)
        sink += touch(&v);
    if (n && fsc_list_get(l, -1, &v) == 0)
      sink += touch(&v);
  }
  fsc_list_iter it;
  if (fsc_list_iter_init(l, &it) == 0)
    for (uint64_t i = 0; i < 100000 && fsc_list_iter_next(&it, &v) == 1; i++)
      sink += touch(&v);
  uint64_t hits = 0;
  fsc_list_scan(l, pred_all, emit_count, &hits);
  /* Writes on what was opened: an append, an assignment, structural
   * changes. */
  int type = fsc_list_type(l);
  fsc_value w = type == FSC_TYPE_STRING || type == FSC_TYPE_ANY
                    ? fsc_str("fuzz")
                    : fsc_i64(7);
  if (type == FSC_TYPE_INT32)
    w = fsc_i32(7);
  say("list append", fsc_list_append(l, &w));
  say("list set", fsc_list_set(l, 0, &w));
  say("list insert", fsc_list_insert(l, 0, &w));
  if (say("list pop", fsc_list_pop(l, -1, &v)) == 0)
    sink += touch(&v);
  say("list reverse", fsc_list_reverse(l));
  say("list sort", fsc_list_sort(l, false));
  fsc_list_len(l, &n);
  /* Compaction copies whatever is left, or refuses; then read again. */
  if (say("list compact", fsc_list_compact(l)) == 0 &&
      fsc_list_len(l, &n) == 0)
    for (uint64_t i = 0; i < n && i < 100000; i++)
      if (fsc_list_get(l, (int64_t)i, &v) == 0)
        sink += touch(&v);
  fsc_verify_report vr = {.size = sizeof vr};
  say("list verify", fsc_list_verify(l, FSC_VERIFY_REPAIR, &vr));
  fsc_list_free(l);
}

static void run_dict(void) {
  fsc_options o = opts();
  fsc_dict *d = NULL;
  int rc = say("dict open", fsc_dict_open(base, &o, &d));
  check_open_rc(rc, "dict");
  if (rc)
    return;
  uint64_t n = 0;
  fsc_dict_len(d, &n);
  fsc_metrics m = {.size = sizeof m};
  fsc_dict_metrics(d, &m);
  fsc_dict_iter it;
  fsc_value k, v;
  if (fsc_dict_iter_init(d, &it) == 0)
    for (int i = 0; i < 100000 && fsc_dict_iter_next(&it, &k, &v) == 1;
         i++) {
      sink += touch(&k) + touch(&v);
      fsc_value g;
      if (fsc_dict_get(d, k.u.buf.ptr, k.u.buf.len, &g) == 0)
        sink += touch(&g);
      sink += (unsigned)fsc_dict_contains(d, k.u.buf.ptr, k.u.buf.len);
    }
  int type = fsc_dict_type(d);
  fsc_value w = type == FSC_TYPE_STRING || type == FSC_TYPE_ANY
                    ? fsc_str("fuzz")
                    : fsc_i64(7);
  if (type == FSC_TYPE_INT32)
    w = fsc_i32(7);
  say("dict set", fsc_dict_set(d, "fuzz", 4, &w));
  say("dict set again", fsc_dict_set(d, "fuzz", 4, &w));
  int64_t x;
  say("dict incr", fsc_dict_incr(d, "n", 1, 1, &x));
  if (say("dict popitem", fsc_dict_popitem(d, &k, &v)) == 0)
    sink += touch(&k) + touch(&v);
  say("dict del", fsc_dict_del(d, "fuzz", 4));
  if (say("dict compact", fsc_dict_compact(d)) == 0 &&
      fsc_dict_iter_init(d, &it) == 0)
    for (int i = 0; i < 100000 && fsc_dict_iter_next(&it, &k, &v) == 1; i++)
      sink += touch(&k) + touch(&v);
  fsc_verify_report vr = {.size = sizeof vr};
  say("dict verify", fsc_dict_verify(d, FSC_VERIFY_REPAIR, &vr));
  say("dict clear", fsc_dict_clear(d));
  fsc_dict_len(d, &n);
  fsc_dict_free(d);
}

static void run_set(void) {
  fsc_options o = opts();
  fsc_set *s = NULL;
  int rc = say("set open", fsc_set_open(base, &o, &s));
  check_open_rc(rc, "set");
  if (rc)
    return;
  uint64_t n = 0;
  fsc_set_len(s, &n);
  fsc_metrics m = {.size = sizeof m};
  fsc_set_metrics(s, &m);
  fsc_set_iter it;
  fsc_value v;
  if (fsc_set_iter_init(s, &it) == 0)
    for (int i = 0; i < 100000 && fsc_set_iter_next(&it, &v) == 1; i++) {
      sink += touch(&v);
      sink += (unsigned)fsc_set_contains(s, &v);
    }
  uint64_t hits = 0;
  fsc_set_scan(s, pred_all, emit_count, &hits);
  int type = fsc_set_type(s);
  fsc_value w = type == FSC_TYPE_STRING || type == FSC_TYPE_ANY
                    ? fsc_str("fuzz")
                    : fsc_i64(7);
  if (type == FSC_TYPE_INT32)
    w = fsc_i32(7);
  say("set add", fsc_set_add(s, &w));
  if (say("set compact", fsc_set_compact(s)) == 0 &&
      fsc_set_iter_init(s, &it) == 0)
    for (int i = 0; i < 100000 && fsc_set_iter_next(&it, &v) == 1; i++)
      sink += touch(&v);
  fsc_verify_report vr = {.size = sizeof vr};
  say("set verify", fsc_set_verify(s, FSC_VERIFY_REPAIR, &vr));
  say("set discard", fsc_set_discard(s, &w));
  if (say("set pop", fsc_set_pop(s, &v)) == 0)
    sink += touch(&v);
  fsc_set_len(s, &n);
  fsc_set_free(s);
}

/* Read-only, of whatever kind the files say: with the clean-close marker
 * there, the open that takes no lock (src/file/open_ro.c), whose checks
 * must be the locked open's. */
static void run_rdonly(void) {
  fsc_options o = opts();
  o.flags = FSC_RDONLY;
  fsc_coll *c = NULL;
  int rc = say("read-only open", fsc_open(base, FSC_KIND_ANY, &o, &c));
  check_open_rc(rc, "read-only");
  if (rc)
    return;
  uint64_t n = 0;
  fsc_metrics m = {.size = sizeof m};
  fsc_coll_metrics(c, &m);
  fsc_coll_len(c, &n);
  fsc_coll_iter it;
  fsc_value k, v;
  if (fsc_coll_iter_init(c, &it) == 0)
    for (uint64_t i = 0; i < 100000 && fsc_coll_iter_next(&it, &k, &v) == 1;
         i++)
      sink += touch(&k) + touch(&v);
  say("read-only close", fsc_coll_close(c));
  fsc_coll_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  setup();
  put_files(data, size);
  run_rdonly();
  put_files(data, size);
  run_list();
  put_files(data, size); /* an open may have repaired or grown them */
  run_dict();
  put_files(data, size);
  run_set();
  return 0;
}
