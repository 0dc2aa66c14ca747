/*
 * eng_floor.c - the floor: an in-process open-addressing hash table in
 * private memory, as fast as a hash table gets without sharing anything.
 *
 * Records [u32 klen][u32 vlen][key][value] (8-aligned) are bumped into one
 * heap arena (realloc doubling; offsets survive a move).  The table is an
 * array of 64-bit slots, hash tag in the top 20 bits and record offset in
 * the rest, linear probing, XXH3-64 of the key, grown (doubled and
 * rehashed) at 3/4 load.  A put of an existing key writes a new record and
 * repoints the slot.  The list is an array of record offsets into the same
 * kind of arena.  No file, no lock, no atomics, no checksum, no
 * validation; nothing another process can open.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
/* XXH3 inlined, as the library inlines it. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#define FL_OFF_BITS 44
#define FL_OFF_MASK ((UINT64_C(1) << FL_OFF_BITS) - 1)
#define FL_MIN_CAP UINT64_C(1024)
#define FL_ARENA_MIN (UINT64_C(1) << 20)

struct floor_h {
  enum bench_kind kind;
  uint64_t *slots; /* dict: the table; list: offsets by index */
  uint64_t cap, count;
  uint8_t *arena;
  uint64_t tail, arena_cap;
};

/* Out of line, as a library call is, and not folded into the loops. */
#if defined(__GNUC__) && !defined(__clang__)
#define FLOOR_FN __attribute__((noinline, noipa))
#else
#define FLOOR_FN __attribute__((noinline))
#endif

static void thp(void *p, size_t bytes) {
  const uintptr_t huge = (uintptr_t)2 << 20;
  if (!bench_p.floor_thp || bytes < 2 * huge)
    return;
  uintptr_t a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
  uintptr_t e = ((uintptr_t)p + bytes) & ~(huge - 1);
  if (e > a)
    (void)madvise((void *)a, e - a, MADV_HUGEPAGE); /* a hint */
}

static void *xrealloc(void *p, size_t bytes) {
  void *q = realloc(p, bytes);
  if (!q)
    bench_die("floor: out of memory (%zu bytes)", bytes);
  thp(q, bytes);
  return q;
}

static void *floor_open(const char *dir, enum bench_kind kind,
                        enum bench_mode mode) {
  (void)dir;
  if (mode != BM_CREATE)
    bench_die("floor: private memory cannot be opened again");
  struct floor_h *h = calloc(1, sizeof *h);
  if (!h)
    bench_die("floor: out of memory");
  h->kind = kind;
  h->cap = FL_MIN_CAP;
  h->slots = calloc(h->cap, sizeof *h->slots);
  h->arena_cap = FL_ARENA_MIN;
  h->arena = malloc(h->arena_cap);
  h->tail = 8; /* offset 0 means an empty slot */
  if (!h->slots || !h->arena)
    bench_die("floor: out of memory");
  return h;
}

static inline uint64_t rec_write(struct floor_h *h, const void *key,
                                 uint32_t klen, const void *val,
                                 uint32_t vlen) {
  uint64_t total = (8 + (uint64_t)klen + vlen + 7) & ~UINT64_C(7);
  if (total > h->arena_cap - h->tail) {
    while (total > h->arena_cap - h->tail)
      h->arena_cap *= 2;
    h->arena = xrealloc(h->arena, h->arena_cap);
  }
  uint64_t off = h->tail;
  uint8_t *p = h->arena + off;
  memcpy(p, &klen, 4);
  memcpy(p + 4, &vlen, 4);
  memcpy(p + 8, key, klen);
  memcpy(p + 8 + klen, val, vlen);
  h->tail += total;
  return off;
}

static inline bool rec_key_eq(const struct floor_h *h, uint64_t off,
                              const void *key, uint32_t klen) {
  const uint8_t *p = h->arena + off;
  uint32_t kl;
  memcpy(&kl, p, 4);
  return kl == klen && memcmp(p + 8, key, klen) == 0;
}

static void grow(struct floor_h *h) {
  uint64_t ncap = h->cap * 2, mask = ncap - 1;
  uint64_t *ns = calloc(ncap, sizeof *ns);
  if (!ns)
    bench_die("floor: out of memory");
  thp(ns, ncap * sizeof *ns);
  for (uint64_t j = 0; j < h->cap; j++) {
    uint64_t s = h->slots[j];
    if (!s)
      continue;
    const uint8_t *p = h->arena + (s & FL_OFF_MASK);
    uint32_t kl;
    memcpy(&kl, p, 4);
    uint64_t i = XXH3_64bits(p + 8, kl) & mask;
    while (ns[i])
      i = (i + 1) & mask;
    ns[i] = s;
  }
  free(h->slots);
  h->slots = ns;
  h->cap = ncap;
}

FLOOR_FN static void floor_put(void *hp, const void *key, size_t klen,
                               const void *val, size_t vlen) {
  struct floor_h *h = hp;
  uint64_t hash = XXH3_64bits(key, klen);
  if ((h->count + 1) * 4 > h->cap * 3)
    grow(h);
  uint64_t mask = h->cap - 1, tag = hash >> FL_OFF_BITS;
  for (uint64_t i = hash & mask;; i = (i + 1) & mask) {
    uint64_t s = h->slots[i];
    if (!s || ((s >> FL_OFF_BITS) == tag &&
               rec_key_eq(h, s & FL_OFF_MASK, key, (uint32_t)klen))) {
      uint64_t off = rec_write(h, key, (uint32_t)klen, val, (uint32_t)vlen);
      h->slots[i] = (tag << FL_OFF_BITS) | off;
      h->count += !s;
      return;
    }
  }
}

FLOOR_FN static int floor_get(void *hp, const void *key, size_t klen,
                              const void **val, size_t *vlen) {
  struct floor_h *h = hp;
  uint64_t hash = XXH3_64bits(key, klen);
  uint64_t mask = h->cap - 1, tag = hash >> FL_OFF_BITS;
  for (uint64_t i = hash & mask;; i = (i + 1) & mask) {
    uint64_t s = h->slots[i];
    if (!s)
      return 0;
    uint64_t off = s & FL_OFF_MASK;
    if ((s >> FL_OFF_BITS) == tag && rec_key_eq(h, off, key, (uint32_t)klen)) {
      uint32_t vl;
      memcpy(&vl, h->arena + off + 4, 4);
      *val = h->arena + off + 8 + klen;
      *vlen = vl;
      return 1;
    }
  }
}

FLOOR_FN static void floor_append(void *hp, const void *val, size_t vlen) {
  struct floor_h *h = hp;
  if (h->count == h->cap) {
    h->cap *= 2;
    h->slots = xrealloc(h->slots, h->cap * sizeof *h->slots);
  }
  h->slots[h->count++] = rec_write(h, "", 0, val, (uint32_t)vlen);
}

FLOOR_FN static int floor_lget(void *hp, uint64_t i, const void **val,
                               size_t *vlen) {
  struct floor_h *h = hp;
  if (i >= h->count)
    return 0;
  const uint8_t *p = h->arena + h->slots[i];
  uint32_t vl;
  memcpy(&vl, p + 4, 4);
  *val = p + 8;
  *vlen = vl;
  return 1;
}

static void floor_close(void *hp) {
  struct floor_h *h = hp;
  free(h->slots);
  free(h->arena);
  free(h);
}

static void floor_version(char *buf, size_t cap) {
  unsigned v = XXH_versionNumber();
  snprintf(buf, cap, "xxHash %u.%u.%u", v / 10000, v / 100 % 100, v % 100);
}

const struct engine eng_floor = {
    .name = "floor",
    .label = "in-process open-addressing hash table (linear probing, XXH3) "
             "and array over a private heap arena: no sharing, no files",
    .caps = ENG_LIST,
    .why_not_shared = "private memory: no other process can open it",
    .why_no_files = "private memory, no files",
    .version = floor_version,
    .open = floor_open,
    .put = floor_put,
    .get = floor_get,
    .append = floor_append,
    .lget = floor_lget,
    .close = floor_close,
};
