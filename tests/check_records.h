/*
 * check_records.h - what the tests that read and damage a collection's
 * files directly share (doc/FORMAT.md): the files' paths, a few bytes
 * read or written at an offset, the data file read whole, a record's
 * header read from the file, and the walk over the data file's records
 * that finds the last one a test's predicate accepts.  Included by
 * tests/test_verify.c, tests/test_incr_fast.c, tests/test_counter_seal.c,
 * tests/test_overwrite.c, tests/test_list_records.c and
 * tests/test_closeword.c.
 */
#ifndef FSC_CHECK_RECORDS_H
#define FSC_CHECK_RECORDS_H

#include "check_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

/* base.data.fscollection / base.index.fscollection ("data", "index"), in
 * one of 64 rotating buffers: good until 64 more calls. */
static inline char *tc_fpath(const char *base, const char *which) {
  static char p[64][1024];
  static unsigned k;
  char *b = p[k++ % 64];
  snprintf(b, 1024, "%.900s.%.5s.fscollection", base, which);
  return b;
}

/* n bytes at off of file p, written (poke) or read (peek); the test fails
 * if the file cannot be opened or the bytes are not all there. */
static inline void tc_poke(const char *p, off_t off, const void *b,
                           size_t n) {
  int fd = open(p, O_RDWR);
  ck_assert_msg(fd >= 0, "open %s: %s", p, strerror(errno));
  ck_assert_int_eq(pwrite(fd, b, n, off), (ssize_t)n);
  close(fd);
}

static inline void tc_peek(const char *p, off_t off, void *b, size_t n) {
  int fd = open(p, O_RDONLY);
  ck_assert_msg(fd >= 0, "open %s: %s", p, strerror(errno));
  ck_assert_int_eq(pread(fd, b, n, off), (ssize_t)n);
  close(fd);
}

static inline uint64_t tc_peek64(const char *p, off_t off) {
  uint64_t v = 0;
  tc_peek(p, off, &v, 8);
  return v;
}

static inline void tc_poke64(const char *p, off_t off, uint64_t v) {
  tc_poke(p, off, &v, 8);
}

/* The whole data file of base, malloc'd; its size in *n. */
static inline uint8_t *tc_slurp(const char *base, size_t *n) {
  const char *p = tc_fpath(base, "data");
  struct stat st;
  ck_assert_int_eq(stat(p, &st), 0);
  uint8_t *b = malloc(st.st_size ? (size_t)st.st_size : 1);
  ck_assert_ptr_nonnull(b);
  tc_peek(p, 0, b, (size_t)st.st_size);
  *n = (size_t)st.st_size;
  return b;
}

/* The header bytes and payload size of the record at off of data file
 * dp, from its first byte (doc/FORMAT.md, "Compact records": type bit 7
 * set is an 8-byte header and an 8-byte payload; else a 16-byte header
 * whose second word is the size). */
static inline unsigned tc_rec_hdr_at(const char *dp, uint64_t off) {
  uint8_t t;
  tc_peek(dp, (off_t)off, &t, 1);
  return (t & 0x80) ? 8 : 16;
}
static inline uint64_t tc_rec_size_at(const char *dp, uint64_t off) {
  return tc_rec_hdr_at(dp, off) == 8 ? 8 : tc_peek64(dp, (off_t)off + 8);
}

/* A record as tc_rec_last sees it, at an 8-byte aligned offset of the data
 * file read whole (doc/FORMAT.md, "Records", "Compact records"). */
typedef struct {
  uint64_t off;      /* its offset in the data file */
  bool compact;      /* type byte bit 7: the 8-byte header */
  uint8_t type;      /* the type byte without that bit */
  uint8_t flags;     /* byte 1 (bit 0: deleted) */
  uint16_t ctl;      /* bytes 2-3: the counter control bits */
  uint64_t size;     /* the payload's size: 8 if compact, else word 1 */
  const uint8_t *pl; /* its payload (header bytes in) */
  size_t avail;      /* bytes of the file from pl on (may be < size) */
} tc_rec;

/* Is r a full record whose payload starts [u32 klen][k] (a dict's key or
 * a set's string element, doc/FORMAT.md)? */
static inline bool tc_rec_key_is(const tc_rec *r, const char *k) {
  size_t kl = strlen(k);
  uint32_t l;
  if (r->compact || r->avail < 4 + kl)
    return false;
  memcpy(&l, r->pl, 4);
  return l == kl && memcmp(r->pl + 4, k, kl) == 0;
}

/* The offset of the last record, in file order, that pred accepts (0: no
 * record does).  Every 8-byte aligned offset past the 4096-byte header
 * with a whole header and 8 payload bytes before the end is taken for a
 * record's start: pred must check what it needs (size, avail, key) and so
 * tell a record from the middle of another's payload. */
static inline uint64_t tc_rec_last(const char *base,
                                   bool (*pred)(const tc_rec *r,
                                                const void *arg),
                                   const void *arg) {
  size_t n;
  uint8_t *b = tc_slurp(base, &n);
  uint64_t found = 0;
  for (size_t off = 4096; off + 16 <= n; off += 8) {
    tc_rec r;
    r.off = off;
    r.compact = (b[off] & 0x80u) != 0;
    r.type = (uint8_t)(b[off] & 0x7fu);
    r.flags = b[off + 1];
    memcpy(&r.ctl, b + off + 2, 2);
    unsigned hdr = r.compact ? 8 : 16;
    if (off + hdr + 8 > n)
      break;
    if (r.compact)
      r.size = 8;
    else
      memcpy(&r.size, b + off + 8, 8);
    r.pl = b + off + hdr;
    r.avail = n - off - hdr;
    if (pred(&r, arg))
      found = off;
  }
  free(b);
  return found;
}

#endif
