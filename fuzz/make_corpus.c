/*
 * make_corpus.c - writes the seed corpus of fuzz_open: small valid lists,
 * dicts and sets of every element type, each in the input format of
 * fuzz_open.c ([u32 data length][data file][index file]).
 *
 *   make_corpus OUTDIR
 *
 * For each kind and type it writes two seeds: "clean" (closed, with the
 * clean-close marker, so an open trusts it and every read is checked on
 * the way) and "unclean" (copied while open: an open verifies and
 * repairs); an int64 dict of counters besides.  Files are shrunk to what they use (the capacities in their
 * headers lowered to match), so that seeds stay a few KiB and the fuzzer
 * runs fast.  It links the library and reads the header layout from
 * src/internal.h.
 *
 * The seeds in fuzz/corpus without a prefix were written by a library
 * before compact records (data files of version 1, full records only);
 * those named v2-* by one with them (version 2: the int64, float and any
 * lists' and the int32 set's 8-byte payloads in the compact form,
 * doc/FORMAT.md, "Compact records"); those named v3-* by one that writes
 * version 3 (every kind: dicts' and sets' tables of 8-byte slots,
 * doc/FORMAT.md "Hash slots"; growth under the growth lock).
 * Regenerating (FSC_FUZZ_SEEDS=1) writes version 3 seeds only, without
 * a prefix: keep a copy of the version 1 and 2 ones.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *what, int rc) {
  fprintf(stderr, "make_corpus: %s: %d %s (%s)\n", what, rc,
          fsc_strerror(rc), fsc_errmsg());
  exit(1);
}
#define OK(call)                                                              \
  do {                                                                        \
    int rc_ = (call);                                                         \
    if (rc_ < 0)                                                              \
      die(#call, rc_);                                                        \
  } while (0)

static uint8_t *slurp(const char *path, size_t *n) {
  int fd = open(path, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    perror(path);
    exit(1);
  }
  uint8_t *p = malloc((size_t)st.st_size + 1);
  if (!p || pread(fd, p, (size_t)st.st_size, 0) != st.st_size) {
    perror(path);
    exit(1);
  }
  close(fd);
  *n = (size_t)st.st_size;
  return p;
}

static uint64_t rd64(const uint8_t *p, size_t off) {
  uint64_t x;
  memcpy(&x, p + off, 8);
  return le64toh(x);
}
static void wr64(uint8_t *p, size_t off, uint64_t x) {
  x = htole64(x);
  memcpy(p + off, &x, 8);
}

#define DOFF(f) offsetof(struct fsc__data_hdr, f)
#define IOFF(f) offsetof(struct fsc__index_hdr, f)

/* Read both files of `base`, shrink them, and write one seed. */
static void emit(const char *base, bool list, bool clean, const char *out) {
  char p[600];
  size_t dn, in;
  snprintf(p, sizeof p, "%s.data.fscollection", base);
  uint8_t *d = slurp(p, &dn);
  snprintf(p, sizeof p, "%s.index.fscollection", base);
  uint8_t *ix = slurp(p, &in);
  /* Data: capacity down to the tail. */
  uint64_t tail = rd64(d, DOFF(tail));
  if (tail >= FSC__HDR_SIZE && tail <= dn) {
    wr64(d, DOFF(cap), tail);
    dn = (size_t)tail;
  }
  /* List: shrink an untouched first array (desc[1] unused) to what the
   * list holds plus room for a few appends. */
  if (list && rd64(ix, IOFF(desc[1].off)) == 0 &&
      rd64(ix, IOFF(desc[0].off)) == FSC__HDR_SIZE) {
    uint64_t len = FSC__LW_LEN(rd64(ix, IOFF(lenword)));
    uint64_t cap = len + 8;
    if (rd64(ix, IOFF(desc[0].hw)) > cap)
      wr64(ix, IOFF(desc[0].hw), cap);
    wr64(ix, IOFF(desc[0].cap), cap);
    wr64(ix, IOFF(itail), FSC__HDR_SIZE + cap * 8);
  }
  /* Index: capacity down to what is handed out plus the trailer, whose
   * last byte is the marker. */
  uint64_t iend = rd64(ix, IOFF(itail)) + FSC__TRAILER;
  if (iend <= in) {
    wr64(ix, IOFF(icap), iend);
    in = (size_t)iend;
    memset(ix + in - FSC__TRAILER, 0, FSC__TRAILER);
    ix[in - 1] = clean ? FSC__CLEAN_MARKER : 0;
  }
  FILE *f = fopen(out, "wb");
  uint8_t len4[4] = {(uint8_t)dn, (uint8_t)(dn >> 8), (uint8_t)(dn >> 16),
                     (uint8_t)(dn >> 24)};
  if (!f || fwrite(len4, 1, 4, f) != 4 || fwrite(d, 1, dn, f) != dn ||
      fwrite(ix, 1, in, f) != in || fclose(f) != 0) {
    perror(out);
    exit(1);
  }
  free(d);
  free(ix);
}

/* Three values of type t (the third for ANY is another type). */
static fsc_value val(fsc_type t, int i) {
  static const char *strs[] = {"alpha", "b\xc3\xa9ta", ""};
  static const char *jsons[] = {"{\"a\":[1,2,{}]}", "null", "\"x\""};
  static const char *refs[] = {"ref://fscollection:list?path=/tmp/l",
                               "ref://fscollection:dict?path=/d",
                               "ref://fscollection:set?path=s"};
  switch (t) {
  case FSC_TYPE_INT32:
    return fsc_i32(i == 0 ? -1 : i == 1 ? INT32_MAX : 0);
  case FSC_TYPE_INT64:
    return fsc_i64(i == 0 ? INT64_MIN : i == 1 ? 42 : -7);
  case FSC_TYPE_INT128: {
    fsc_int128 x = {(uint64_t)i * 0x9E3779B97F4A7C15u, i == 1 ? -1 : i};
    return fsc_i128(x);
  }
  case FSC_TYPE_STRING:
    return fsc_str(strs[i]);
  case FSC_TYPE_BOOL:
    return fsc_bool(i == 1);
  case FSC_TYPE_FLOAT:
    return fsc_f64(i == 0 ? 1.5 : i == 1 ? -0.0 : 1e300);
  case FSC_TYPE_BYTES:
    return fsc_bytes("\0\1\2\377", (size_t)(i + 1));
  case FSC_TYPE_JSON:
    return fsc_json(jsons[i], strlen(jsons[i]));
  case FSC_TYPE_REF:
    return fsc_strn(refs[i], strlen(refs[i])); /* retyped below */
  default: /* ANY: one of several types */
    return i == 0 ? fsc_i64(1) : i == 1 ? fsc_str("any") : fsc_f64(2.5);
  }
}
static fsc_value valt(fsc_type t, int i) {
  fsc_value v = val(t, i);
  if (t == FSC_TYPE_REF)
    v.type = FSC_TYPE_REF;
  return v;
}

static const fsc_type types[] = {
    FSC_TYPE_INT32, FSC_TYPE_INT64, FSC_TYPE_INT128, FSC_TYPE_STRING,
    FSC_TYPE_BOOL,  FSC_TYPE_FLOAT, FSC_TYPE_BYTES,  FSC_TYPE_JSON,
    FSC_TYPE_REF,   FSC_TYPE_ANY};

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make_corpus OUTDIR\n");
    return 2;
  }
  const char *outdir = argv[1];
  if (mkdir(outdir, 0755) != 0 && errno != EEXIST) {
    perror(outdir);
    return 1;
  }
  char dir[] = "/tmp/fsc-corpus-XXXXXX";
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  char base[600], out[900];
  int made = 0;
  for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
    fsc_type t = types[ti];
    const char *tn = fsc_type_name(t);
    fsc_options o = FSC_OPTIONS_INIT;
    o.type = t;
    /* List: three values and, for the "moved" seed, a structural change
     * (an insert: the second pointer array comes into use). */
    for (int moved = 0; moved < 2; moved++) {
      snprintf(base, sizeof base, "%s/list-%s-%d", dir, tn, moved);
      fsc_list *l;
      OK(fsc_list_open(base, &o, &l));
      for (int i = 0; i < 3; i++) {
        fsc_value v = valt(t, i);
        OK(fsc_list_append(l, &v));
      }
      if (moved) {
        fsc_value v = valt(t, 1);
        OK(fsc_list_insert(l, 0, &v));
      }
      snprintf(out, sizeof out, "%s/list-%s%s-unclean", outdir, tn,
               moved ? "-moved" : "");
      emit(base, true, false, out);
      OK(fsc_list_close(l));
      fsc_list_free(l);
      snprintf(out, sizeof out, "%s/list-%s%s-clean", outdir, tn,
               moved ? "-moved" : "");
      emit(base, true, true, out);
      made += 2;
    }
    /* Dict: three keys, an update (keeps its place), a delete (a
     * tombstone and a dead record). */
    for (int bkeys = 0; bkeys < (t == FSC_TYPE_STRING ? 2 : 1); bkeys++) {
      fsc_options od = o;
      od.key_type = bkeys ? FSC_TYPE_BYTES : FSC_TYPE_STRING;
      snprintf(base, sizeof base, "%s/dict-%s-%d", dir, tn, bkeys);
      fsc_dict *d;
      OK(fsc_dict_open(base, &od, &d));
      static const char *keys[] = {"k0", "key one", ""};
      for (int i = 0; i < 3; i++) {
        fsc_value v = valt(t, i);
        OK(fsc_dict_set(d, keys[i], strlen(keys[i]), &v));
      }
      fsc_value v = valt(t, 2);
      OK(fsc_dict_set(d, "k0", 2, &v));
      OK(fsc_dict_del(d, "key one", 7));
      snprintf(out, sizeof out, "%s/dict-%s%s-unclean", outdir, tn,
               bkeys ? "-bkeys" : "");
      emit(base, false, false, out);
      OK(fsc_dict_close(d));
      fsc_dict_free(d);
      snprintf(out, sizeof out, "%s/dict-%s%s-clean", outdir, tn,
               bkeys ? "-bkeys" : "");
      emit(base, false, true, out);
      made += 2;
    }
    /* Counters (int64): "c" incremented in place (unsealed in the unclean
     * seed, sealed again by the close), "s" written once (sealed), a
     * plain key; the unsealed log names "c". */
    if (t == FSC_TYPE_INT64) {
      snprintf(base, sizeof base, "%s/dict-counters", dir);
      fsc_dict *d;
      OK(fsc_dict_open(base, &o, &d));
      for (int i = 0; i < 3; i++)
        OK(fsc_dict_incr(d, "c", 1, i + 1, NULL));
      OK(fsc_dict_incr(d, "s", 1, 7, NULL));
      OK(fsc_dict_set_i64(d, "p", 5));
      snprintf(out, sizeof out, "%s/dict-int64-counters-unclean", outdir);
      emit(base, false, false, out);
      OK(fsc_dict_close(d));
      fsc_dict_free(d);
      snprintf(out, sizeof out, "%s/dict-int64-counters-clean", outdir);
      emit(base, false, true, out);
      made += 2;
    }
    /* Set: three elements (two of a bool set are equal), a discard. */
    snprintf(base, sizeof base, "%s/set-%s", dir, tn);
    fsc_set *s;
    OK(fsc_set_open(base, &o, &s));
    for (int i = 0; i < 3; i++) {
      fsc_value v = valt(t, i);
      OK(fsc_set_add(s, &v));
    }
    fsc_value v = valt(t, 1);
    OK(fsc_set_discard(s, &v));
    snprintf(out, sizeof out, "%s/set-%s-unclean", outdir, tn);
    emit(base, false, false, out);
    OK(fsc_set_close(s));
    fsc_set_free(s);
    snprintf(out, sizeof out, "%s/set-%s-clean", outdir, tn);
    emit(base, false, true, out);
    made += 2;
  }
  /* Clean up the scratch collections. */
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "make_corpus: could not remove %s\n", dir);
  printf("make_corpus: %d seeds in %s\n", made, outdir);
  return 0;
}
