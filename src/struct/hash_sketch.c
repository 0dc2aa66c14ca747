/*
 * hash_sketch.c - owns a cache dict's admission filter (TinyLFU, as in
 * Caffeine): a count-min sketch of how often keys were asked for, in the
 * index file at the cache block's sk_off (doc/FORMAT.md, "The cache
 * block"; doc/CACHE.md, "Admission").  coll/cache.c consults it when a
 * new key must evict: the key is stored only if its estimate beats its
 * victim's.
 *
 * Layout: a line of counters (struct fsc__sketch_hdr), then sk_n u64
 * words (a power of two) of 16 4-bit counters.  A key (hash h) has one
 * word, (h * golden) >> (64 - log2 sk_n), and in it one counter in each
 * of the four rows of four nibbles, chosen by 8 bits of h: its four
 * counters are one atomic word, so an increment is one CAS.
 *
 * Invariants kept here:
 *  - An increment raises only the key's counters that hold its minimum
 *    (conservative update), never past 15; the estimate is the minimum.
 *  - Every `period` increments (10 per key of the bound), the one inserter
 *    whose increment reaches a multiple of it halves every counter, word
 *    by word with CAS (the counters are a moving average, as Caffeine's).
 *  - Everything here is a hint: a CAS that loses 4 times gives up its
 *    increment (racing processes may lose a count), a process killed in a
 *    halving leaves words unhalved, and any value of a word is valid: it
 *    costs hit ratio, never a key or the bound.  Verification does not
 *    check the sketch; compaction copies it.
 */
#include "struct/hash.h"

#define SK_MIN 512u                      /* 4 KiB */
#define SK_MAX (UINT64_C(1) << 20)       /* 8 MiB */
#define HALF_MASK UINT64_C(0x7777777777777777)

static uint64_t pow2_at_least(uint64_t x) {
  uint64_t p = 1;
  while (p < x && p < (UINT64_C(1) << 63)) /* (no overflow: callers clamp) */
    p <<= 1;
  return p;
}

uint64_t fsc__sketch_size(uint64_t max_items) {
  /* 16 counters (one word) per key of the bound; a byte bound alone: 8 Ki
   * words */
  uint64_t n = max_items ? pow2_at_least(max_items) : UINT64_C(1) << 13;
  if (n < SK_MIN)
    n = SK_MIN;
  if (n > SK_MAX)
    n = SK_MAX;
  return (sizeof(struct fsc__sketch_hdr) + n * 8);
}

/* The sketch's header and words (NULL: none, or unreadable). */
static struct fsc__sketch_hdr *sketch(struct fsc__gen *c, uint64_t *n) {
  const struct fsc__cache_hdr *ch = fsc__chdr(c);
  uint64_t off = ck_pr_load_64(&ch->sk_off);
  *n = ck_pr_load_64(&ch->sk_n);
  /* (an offset off 8-byte alignment is a damaged file: its words could
   * not be loaded atomically) */
  if (!off || (off & 7) || *n < SK_MIN || *n > SK_MAX || (*n & (*n - 1)))
    return NULL;
  uint64_t size = sizeof(struct fsc__sketch_hdr) + *n * 8;
  void *p = fsc__ptr_try(&c->index, off, size);
  if (!p && !(p = fsc__ptr(c, &c->index, off, size)))
    return NULL;
  return p;
}

static uint64_t *words(struct fsc__sketch_hdr *s) {
  return (uint64_t *)(void *)(s + 1);
}

bool fsc__sketch_on(struct fsc__gen *c) {
  return ck_pr_load_64(&fsc__chdr(c)->sk_off) != 0;
}

/* Key h's word, and the shifts of its four counters in it. */
static uint64_t *key_word(struct fsc__sketch_hdr *s, uint64_t n, uint64_t h,
                          unsigned sh[4]) {
  unsigned bits = (unsigned)__builtin_ctzll(n);
  uint64_t i = (h * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - bits);
  for (unsigned r = 0; r < 4; r++)
    sh[r] = 4 * (4 * r + (unsigned)((h >> (8 + 2 * r)) & 3u));
  return words(s) + i;
}

static unsigned est_of(uint64_t w, const unsigned sh[4]) {
  unsigned m = 15;
  for (unsigned r = 0; r < 4; r++) {
    unsigned v = (unsigned)(w >> sh[r]) & 15u;
    if (v < m)
      m = v;
  }
  return m;
}

unsigned fsc__sketch_estimate(struct fsc__gen *c, uint64_t h) {
  uint64_t n;
  unsigned sh[4];
  struct fsc__sketch_hdr *s = sketch(c, &n);
  if (!s)
    return 0;
  return est_of(ck_pr_load_64(key_word(s, n, h, sh)), sh);
}

/* Halve every counter (the inserter whose increment reached a period). */
static void halve(struct fsc__sketch_hdr *s, uint64_t n) {
  uint64_t *a = words(s);
  for (uint64_t i = 0; i < n; i++) {
    uint64_t w = ck_pr_load_64(&a[i]);
    while (w && !ck_pr_cas_64_value(&a[i], w, (w >> 1) & HALF_MASK, &w))
      ;
  }
  ck_pr_inc_64(&s->halvings);
}

void fsc__sketch_add(struct fsc__gen *c, uint64_t h) {
  uint64_t n;
  unsigned sh[4];
  struct fsc__sketch_hdr *s = sketch(c, &n);
  if (!s)
    return;
  uint64_t *p = key_word(s, n, h, sh), w = ck_pr_load_64(p);
  for (int tries = 0; tries < 4; tries++) {
    unsigned m = est_of(w, sh);
    if (m == 15)
      return;
    uint64_t nw = w;
    for (unsigned r = 0; r < 4; r++)
      if (((w >> sh[r]) & 15u) == m)
        nw = (nw & ~(UINT64_C(15) << sh[r])) |
             ((uint64_t)(m + 1) << sh[r]);
    if (ck_pr_cas_64_value(p, w, nw, &w))
      break;
  }
  /* The period: 10 increments per key of the bound (per word when only
   * bytes are bounded).  (adds only grows: a halving that dies half done
   * is not redone, the next period's is.) */
  uint64_t mi = ck_pr_load_64(&fsc__chdr(c)->max_items);
  uint64_t period = 10 * (mi ? mi : n);
  if ((ck_pr_faa_64(&s->adds, 1) + 1) % period == 0)
    halve(s, n);
}

void fsc__sketch_reject(struct fsc__gen *c) {
  uint64_t n;
  struct fsc__sketch_hdr *s = sketch(c, &n);
  if (s)
    ck_pr_inc_64(&s->rejects);
}

uint64_t fsc__sketch_rejects(struct fsc__gen *c) {
  uint64_t n;
  struct fsc__sketch_hdr *s = sketch(c, &n);
  return s ? ck_pr_load_64(&s->rejects) : 0;
}

int fsc__sketch_layout(struct fsc__gen *c, uint64_t max_items) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  struct fsc__cache_hdr *ch = fsc__chdr(c);
  uint64_t size = fsc__sketch_size(max_items);
  uint64_t start = (ih->itail + 63) & ~UINT64_C(63), end = start + size;
  int rc = fsc__index_grow(c, end + FSC__TRAILER);
  if (rc)
    return rc;
  /* A file private to its creator (a new dict, or compaction's next
   * generation): plain stores; fallocate gave zeroed space. */
  ih->itail = end;
  ch->sk_n = (size - sizeof(struct fsc__sketch_hdr)) / 8;
  ch->sk_off = start;
  return 0;
}

int fsc__sketch_copy(struct fsc__gen *c, struct fsc__gen *nc) {
  uint64_t n, nn;
  struct fsc__sketch_hdr *from = sketch(c, &n), *to = sketch(nc, &nn);
  if (!from || !to || n != nn)
    return 0; /* (a hint: a new one starts empty) */
  const uint64_t *a = words(from);
  uint64_t *b = words(to);
  for (uint64_t i = 0; i < n; i++)
    b[i] = ck_pr_load_64(&a[i]);
  to->adds = ck_pr_load_64(&from->adds);
  to->rejects = ck_pr_load_64(&from->rejects);
  to->halvings = ck_pr_load_64(&from->halvings);
  return 0;
}
