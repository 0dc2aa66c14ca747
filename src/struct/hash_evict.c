/*
 * hash_evict.c - owns a cache dict's policy state in the index file (the
 * cache block of the index header, doc/FORMAT.md "The cache block", and
 * the region of clock and claim words it names): laying it out, the
 * per-key clock or frequency word a get refreshes, the choice of the key
 * to evict (an expired one first, in a dict that has had deadlines), its
 * copy into the next generation by compaction, and the eviction down to
 * the bound of a recovery or a repair (fsc__cache_trim).  The admission
 * filter's sketch is hash_sketch.c's; a get that writes its clock word
 * counts there too.
 * coll/cache.c enforces the bound with these; doc/CACHE.md tells the
 * policies and their accuracy.
 *
 * Invariants kept here:
 *  - The clock words are indexed by 20 bits of the key's hash (its clock
 *    tag, clk_tag): the top 20, which a slot of the old format keeps as
 *    its tag, or in a data file of version 3 the low 20, which an 8-byte
 *    slot's home and field give back (hash_slot.h; its record is read
 *    only when its distance saturated): a sampled slot gives its
 *    key's clock word without reading the record, and the array never moves
 *    with the table (a rebuild leaves it alone, compaction copies it).
 *    Keys whose tags collide share a word: the policy is approximate there,
 *    never wrong about what is live (eviction is an ordinary delete).  An
 *    LFU word also keeps 8 more bits of its key's tag, so that a key does
 *    not inherit another's count: it counts as new in a word it does not
 *    own, and takes the word over only when its count would pass the
 *    owner's (a cold key never takes a hot key's count away).
 *  - A get writes its word only when the value changes (the LRU clock
 *    ticks once per insert, a use stamps it odd so that it ranks after
 *    the insert it follows; the LFU counter grows with probability
 *    1/(n - 5 + 1) and decays once per period), so a hit on a warm
 *    key dirties no cache line.
 *  - Everything here is a hint: a torn or lost update of a clock word, or a
 *    process killed anywhere, costs accuracy, never a key or the bound.
 */
#include "struct/hash_slot.h"

#include <stdlib.h>

#define CLK_MAX (UINT64_C(1) << 20) /* the tag's 20 bits */
#define SAMPLES 32u
#define LFU_INIT 5u
#define LFU_LOG_FACTOR 1u

static uint64_t pow2_at_least(uint64_t x) {
  uint64_t p = 1;
  while (p < x && p < (UINT64_C(1) << 63)) /* (no overflow: callers clamp) */
    p <<= 1;
  return p;
}

int fsc__cache_layout(struct fsc__gen *c, int policy, uint64_t max_items,
                      uint64_t max_bytes, int admission) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  struct fsc__cache_hdr *ch = fsc__chdr(c);
  /* 64 words per key the bound allows (fewer keys share a word: see
   * doc/CACHE.md), at least 1 Ki (a byte bound alone: 64 Ki), at most the
   * 1 Mi the tag can index. */
  uint64_t n = !max_items                ? UINT64_C(1) << 16
               : max_items > CLK_MAX / 64 ? CLK_MAX /* (and no overflow) */
                                          : pow2_at_least(max_items * 64);
  if (n < 1024)
    n = 1024;
  uint64_t start = (ih->itail + 63) & ~UINT64_C(63);
  uint64_t end = start + n * 4;
  int rc = fsc__index_grow(c, end + FSC__TRAILER);
  if (rc)
    return rc;
  /* Files private to their creator (a new dict, or compaction's next
   * generation): plain stores; fallocate gave zeroed space. */
  ih->itail = end;
  ch->policy = (uint64_t)policy;
  ch->max_items = max_items;
  ch->max_bytes = max_bytes;
  ch->items = 0;
  ch->bytes = 0;
  ch->tick = 0;
  ch->clk_off = start;
  ch->clk_n = n;
  ch->evictions = 0;
  ch->fifo_pos = 0;
  /* The admission filter: on when asked for, or by the policy's default
   * (doc/CACHE.md, "Admission": LRU and LFU). */
  bool on = admission == FSC_CACHE_ADMIT_ON ||
            (admission == FSC_CACHE_ADMIT_DEFAULT && policy != FSC_CACHE_FIFO);
  return on ? fsc__sketch_layout(c, max_items) : 0;
}

/* The clock word of hash h (NULL: the region is unreadable). */
/* The clock tag of a key of hash h (above). */
static uint64_t clk_tag(const struct fsc__gen *c, uint64_t h) {
  return c->s8 ? h & (CLK_MAX - 1) : h >> KS_OFF_BITS;
}

/* A key's clock entry: its clock tag over its record offset, as the
 * recent ring holds them (KS_TAG gives the tag back; in the old format it
 * is KS_MAKE(hash, record)). */
static uint64_t clk_entry(uint64_t tag, uint64_t off) {
  return (tag << KS_OFF_BITS) | off;
}

/* The clock entry of 8-byte key slot s, at index i of a table of cap
 * slots: its clock tag from the slot's home and field bits, or when
 * those do not cover it (a saturated distance) from its record's key.
 * False if that record does not parse. */
static bool slot_entry(struct fsc__gen *c, uint64_t s, uint64_t i,
                       uint64_t cap, uint64_t *e) {
  uint64_t off = s & KS8_OFF_MASK, h;
  unsigned nb;
  if (!fsc__ks8_hash(s, i, cap, &h, &nb) || nb < 20) {
    if (fsc__krec_hash(c, off, &h) != 0) {
      fsc__err_clear();
      return false;
    }
  }
  *e = clk_entry(h & (CLK_MAX - 1), off);
  return true;
}

static uint32_t *clk_word(struct fsc__gen *c, const struct fsc__cache_hdr *ch,
                          uint64_t tag) {
  uint64_t n = ck_pr_load_64(&ch->clk_n), off = ck_pr_load_64(&ch->clk_off);
  if (n == 0 || (n & (n - 1)) || n > CLK_MAX || (off & 3))
    return NULL; /* (misaligned: a damaged file) */
  uint32_t *a = fsc__ptr_try(&c->index, off, n * 4);
  if (!a && !(a = fsc__ptr(c, &c->index, off, n * 4)))
    return NULL;
  return a + (tag & (n - 1));
}

/* LFU: the period, in ticks, after which a counter loses one. */
static uint64_t lfu_period(const struct fsc__cache_hdr *ch) {
  /* twice the clock words, 128 times the keys the bound allows (fewer
   * above 16 Ki keys, where the words reach their 1 Mi): a key used less
   * often than once in that many inserts loses a count (at least 1024) */
  uint64_t n = ck_pr_load_64(&ch->clk_n) * 2;
  return n > 1024 ? n : 1024;
}

/* LFU word: [check:8][ldt:16][count:8].  check: the tag's bits above the
 * index, so that a key tells its own word from another key's (0 when the
 * array has the tag's 20 bits); ldt: the period of the last decrement. */
static uint32_t lfu_check(const struct fsc__cache_hdr *ch, uint64_t tag) {
  uint64_t n = ck_pr_load_64(&ch->clk_n);
  unsigned bits = (unsigned)__builtin_ctzll(n ? n : 1);
  return (uint32_t)((tag >> bits) & 0xffu);
}

static uint32_t lfu_now(const struct fsc__cache_hdr *ch, uint64_t tick) {
  /* (the period is a power of two: a shift, not a division) */
  return (uint32_t)((tick >> __builtin_ctzll(lfu_period(ch))) & 0xffffu);
}

/* The count of word w decayed to now, for the key of `check` (another
 * key's word counts as a new key's). */
static uint32_t lfu_decayed(uint32_t w, uint32_t now, uint32_t check) {
  if (w >> 24 != check)
    return LFU_INIT;
  uint32_t cnt = w & 0xffu, elapsed = (now - (w >> 8)) & 0xffffu;
  return elapsed >= cnt ? 0 : cnt - elapsed;
}

static uint64_t rnd(void) {
  static _Thread_local uint64_t s;
  if (s == 0)
    s = (uint64_t)(uintptr_t)&s ^ 0x9e3779b97f4a7c15ull;
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

/* The word a use of the key of `tag` makes of w (a get, or an insert). */
static uint32_t next_word(const struct fsc__cache_hdr *ch, uint32_t w,
                          uint64_t tick, uint64_t tag, bool insert) {
  if (ch->policy == FSC_CACHE_LRU) /* a use after an insert is newer */
    return (uint32_t)(tick * 2 + (insert ? 0 : 1));
  uint32_t now = lfu_now(ch, tick), check = lfu_check(ch, tag);
  uint32_t cnt = lfu_decayed(w, now, check);
  /* Another key's word (another check) stays that key's while its count
   * is above what ours would be: a cold key must not take a hot key's
   * count away (it counts as new meanwhile, in score). */
  uint32_t theirs = w >> 24 != check ? lfu_decayed(w, now, w >> 24) : 0;
  if (insert) { /* a key that comes back keeps what its word remembers */
    if (theirs > LFU_INIT)
      return w;
    return (check << 24) | (now << 8) | (cnt > LFU_INIT ? cnt : LFU_INIT);
  }
  if (cnt < 255) {
    uint32_t base = cnt > LFU_INIT ? cnt - LFU_INIT : 0;
    /* with probability 1 / (base * factor + 1): a 32-bit random r with
     * r * m < 2^32 (no division) */
    uint64_t m = (uint64_t)base * LFU_LOG_FACTOR + 1;
    if ((rnd() >> 32) * m < (UINT64_C(1) << 32))
      cnt++;
  }
  if (theirs >= cnt)
    return w;
  return (check << 24) | (now << 8) | cnt;
}

void fsc__cache_touch(struct fsc__gen *c, uint64_t h) {
  struct fsc__cache_hdr *ch = fsc__chdr(c);
  uint64_t policy = ck_pr_load_64(&ch->policy);
  if (policy == FSC_CACHE_FIFO)
    return;
  uint64_t tag = clk_tag(c, h);
  uint32_t *p = clk_word(c, ch, tag);
  if (!p)
    return;
  uint32_t w = ck_pr_load_32(p);
  if (policy == FSC_CACHE_LFU) {
    /* The common case: our own word, decremented this period already:
     * only the chance of an increment (no store when it does not come). */
    uint32_t now = lfu_now(ch, ck_pr_load_64(&ch->tick));
    if (__builtin_expect(w >> 24 == lfu_check(ch, tag) &&
                             ((w >> 8) & 0xffffu) == now, 1)) {
      uint32_t cnt = w & 0xffu;
      uint64_t m = (uint64_t)(cnt > LFU_INIT ? cnt - LFU_INIT : 0) *
                       LFU_LOG_FACTOR + 1;
      if (cnt < 255 && (rnd() >> 32) * m < (UINT64_C(1) << 32)) {
        ck_pr_store_32(p, w + 1);
        if (fsc__sketch_on(c)) /* (only a hit that writes anyway) */
          fsc__sketch_add(c, h);
      }
      return;
    }
  }
  uint32_t nw = next_word(ch, w, ck_pr_load_64(&ch->tick), tag, false);
  if (nw != w) { /* only when it changes bucket: a warm hit writes nothing */
    ck_pr_store_32(p, nw);
    /* The admission sketch counts the hits that write their word anyway
     * (LRU: at most one per key between two inserts; LFU: the counter's
     * increments), so that a warm hit still writes nothing. */
    if (fsc__sketch_on(c))
      fsc__sketch_add(c, h);
  }
}

static uint64_t *recent_ring(struct fsc__gen *c) {
  return (uint64_t *)(void *)(c->index.views[0].base + FSC__RECENT_OFF);
}

void fsc__cache_stamp(struct fsc__gen *c, uint64_t h, uint64_t roff) {
  struct fsc__cache_hdr *ch = fsc__chdr(c);
  uint64_t tick = ck_pr_faa_64(&ch->tick, 1) + 1;
  if (ch->policy == FSC_CACHE_FIFO)
    return;
  if (ch->policy == FSC_CACHE_LFU) {
    /* New keys hold the least counts: exact LFU evicts them first, and
     * random samples would seldom meet them; eviction looks here too. */
    uint64_t i = ck_pr_faa_64(&ch->recent, 1) & (FSC__RECENT - 1);
    ck_pr_store_64(&recent_ring(c)[i], clk_entry(clk_tag(c, h), roff));
  }
  uint32_t *p = clk_word(c, ch, clk_tag(c, h));
  if (p)
    ck_pr_store_32(p, next_word(ch, ck_pr_load_32(p), tick, clk_tag(c, h),
                                true));
}

/* How good a victim the key of tag is: larger is evicted first. */
static uint64_t score(struct fsc__gen *c, const struct fsc__cache_hdr *ch,
                      uint64_t tag, uint64_t tick) {
  uint32_t *p = clk_word(c, ch, tag);
  uint32_t w = p ? ck_pr_load_32(p) : 0;
  if (ch->policy == FSC_CACHE_LRU)
    return (uint32_t)((uint32_t)(tick * 2 + 1) - w); /* age in inserts */
  uint32_t now = lfu_now(ch, tick), check = lfu_check(ch, tag);
  /* fewer uses first; among equals, the longer unused */
  return ((uint64_t)(255 - lfu_decayed(w, now, check)) << 24) |
         (w >> 24 == check ? (now - (w >> 8)) & 0xffffu : 0);
}

/* FIFO: the oldest live key, walking from the hint (exact when inserts do
 * not race: an insert whose record lies below the hint but published after
 * the hint passed it is found when the walk from the hint finds nothing). */
static int fifo_victim(struct fsc__gen *c, struct fsc__cache_hdr *ch,
                       uint64_t *off) {
  uint64_t end = fsc__hash_tail(c);
  for (int pass = 0; pass < 2; pass++) {
    uint64_t hint = pass ? 0 : ck_pr_load_64(&ch->fifo_pos), pos = hint;
    int rc = fsc__hash_next(c, &pos, end, off);
    if (rc < 0)
      return rc;
    if (rc == 1) {
      struct fsc__krec r;
      if ((rc = fsc__krec_read(c, *off, &r)) != 0)
        return rc;
      uint64_t cur = ck_pr_load_64(&ch->fifo_pos);
      while (r.origin > cur && !ck_pr_cas_64_value(&ch->fifo_pos, cur,
                                                  r.origin, &cur))
        ;
      return 1;
    }
  }
  return 0;
}

/* A dict that has had deadlines: an expired key among n sampled slots'
 * records (1 and its offset), else 0.  (Reads the records: only for such
 * dicts.) */
static int expired_among(struct fsc__gen *c, const uint64_t *offs,
                         uint64_t n, uint64_t *off) {
  for (uint64_t j = 0; j < n; j++) {
    struct fsc__krec r;
    if (fsc__krec_read(c, offs[j], &r) == 0 && fsc__krec_expired(&r)) {
      *off = offs[j];
      fsc__err_clear();
      return 1;
    }
  }
  fsc__err_clear(); /* (an unreadable record is verify's to report) */
  return 0;
}

/* Old slots a sample looks at, at most: a bound per eviction whatever
 * the table's size. */
#define OLD_LOOK 128u

/* Up to n live slots (without the frozen bit) of the table a migration
 * copies from, from a random place: its keys not moved yet (their
 * indexes in idx, if not NULL).  Only old
 * slots at or above kmig can hold one (below it every slot is MOVED or
 * empty: hash_migrate.c), and at most OLD_LOOK of them are looked at:
 * near a migration's end, a scan of the rest of the old table cost
 * 22 us a set (when only inserts moved slots, a bounded cache whose sets
 * the admission filter refused stalled there for good; refused sets now
 * move it on too, fsc__hash_migrate_nudge). */
static uint64_t sample_old(struct fsc__gen *c, const struct fsc__ktab *t,
                           uint64_t *out, uint64_t *idx, uint64_t n) {
  uint64_t k = ck_pr_load_64(&fsc__ihdr(c)->kmig);
  if (k >= t->ocap)
    return 0;
  uint64_t span = t->ocap - k, i = k + rnd() % span, got = 0;
  for (uint64_t j = 0; j < span && j < OLD_LOOK && got < n; j++) {
    uint64_t s = ck_pr_load_64(&t->oarr[i]) & ~KS_FROZEN;
    if (fsc__ks_value(s)) {
      if (idx)
        idx[got] = i;
      out[got++] = s;
    }
    if (++i == t->ocap)
      i = k;
  }
  return got;
}

int fsc__cache_victim(struct fsc__gen *c, uint64_t *off) {
  struct fsc__cache_hdr *ch = fsc__chdr(c);
  bool ttl = ck_pr_load_64(&ch->has_ttl) != 0;
  if (ch->policy == FSC_CACHE_FIFO) {
    uint64_t offs[SAMPLES];
    int got = ttl ? fsc__hash_sample(c, offs, SAMPLES) : 0;
    if (got > 0 && expired_among(c, offs, (uint64_t)got, off))
      return 2;
    return fifo_victim(c, ch, off);
  }
  struct fsc__ktab t = {0};
  int rc = fsc__ktab_view(c, &t);
  if (rc)
    return rc;
  uint64_t tick = ck_pr_load_64(&ch->tick), mask = t.cap - 1;
  uint64_t i = rnd() & mask, best = 0, found = 0, n = 0;
  uint64_t best_score = 0, cand[SAMPLES];
  bool lfu = ch->policy == FSC_CACHE_LFU;
  /* Up to SAMPLES live slots from a random place (at most the table);
   * their clock words are loaded all at once (prefetched), then scored.
   * While a growth migrates, half of them from the old table's keys not
   * moved yet (a clock word is per key hash, not per slot: it stays with
   * the key).  Each candidate is its clock entry (clk_entry): an old
   * slot is one, an 8-byte slot's comes from its position (slot_entry). */
  if (t.oarr) {
    uint64_t os[SAMPLES / 2], oidx[SAMPLES / 2];
    uint64_t got = sample_old(c, &t, os, oidx, SAMPLES / 2);
    for (uint64_t j = 0; j < got; j++) {
      if (!t.s8)
        cand[n++] = os[j];
      else if (slot_entry(c, os[j], oidx[j], t.ocap, &cand[n]))
        n++;
    }
  }
  for (uint64_t j = 0; j < t.cap && n < SAMPLES; j++, i = (i + 1) & mask) {
    uint64_t s = ck_pr_load_64(&t.arr[i]);
    if (!fsc__ks_value(s))
      continue;
    if (!t.s8)
      cand[n++] = s;
    else if (slot_entry(c, s, i, t.cap, &cand[n]))
      n++;
  }
  for (uint64_t j = 0; j < n; j++) {
    uint32_t *p = clk_word(c, ch, KS_TAG(cand[j]));
    if (p)
      __builtin_prefetch(p);
  }
  if (ttl) { /* an expired key goes first */
    uint64_t offs[SAMPLES];
    for (uint64_t j = 0; j < n; j++)
      offs[j] = cand[j] & KS_OFF_MASK;
    if (expired_among(c, offs, n, off))
      return 2;
  }
  for (uint64_t j = 0; j < n; j++) {
    uint64_t s = cand[j];
    uint64_t sc = score(c, ch, KS_TAG(s), tick), o = s & KS_OFF_MASK;
    /* Equal scores: the older record goes first (as exact LFU breaks
     * ties by last use). */
    if (found++ == 0 || sc > best_score || (sc == best_score && o < best)) {
      best_score = sc;
      best = o;
    }
  }
  if (lfu) { /* and the keys inserted last (stale entries are dropped) */
    uint64_t *ring = recent_ring(c);
    for (unsigned j = 0; j < FSC__RECENT; j++) {
      uint64_t s = ck_pr_load_64(&ring[j]);
      if (!fsc__ks_value(s))
        continue;
      uint64_t sc = score(c, ch, KS_TAG(s), tick), o = s & KS_OFF_MASK;
      if (found++ == 0 || sc > best_score ||
          (sc == best_score && o < best)) {
        best_score = sc;
        best = o;
      }
    }
  }
  if (!found)
    return 0;
  *off = best;
  return 1;
}

void fsc__cache_gone(struct fsc__gen *c, uint64_t off) {
  uint64_t *ring = recent_ring(c);
  for (unsigned j = 0; j < FSC__RECENT; j++) {
    uint64_t s = ck_pr_load_64(&ring[j]);
    if (fsc__ks_value(s) && (s & KS_OFF_MASK) == off)
      ck_pr_cas_64(&ring[j], s, 0);
  }
}

int fsc__cache_copy(struct fsc__gen *c, struct fsc__gen *nc) {
  struct fsc__cache_hdr *ch = fsc__chdr(c), *nh = fsc__chdr(nc);
  if (ch->policy == 0)
    return 0;
  /* (laid out already when the compacting handle opened with the policy) */
  int adm = ch->sk_off ? FSC_CACHE_ADMIT_ON : FSC_CACHE_ADMIT_OFF;
  int rc = nh->policy ? 0 : fsc__cache_layout(nc, (int)ch->policy,
                                              ch->max_items, ch->max_bytes,
                                              adm);
  if (rc || (rc = fsc__sketch_copy(c, nc)) != 0)
    return rc;
  /* (Not between slot formats: their clock tags are other hash bits,
   * clk_tag; the new cache's clock starts afresh.) */
  if (ch->clk_n == nh->clk_n && c->s8 == nc->s8) {
    const uint32_t *from = fsc__ptr(c, &c->index, ch->clk_off, ch->clk_n * 4);
    uint32_t *to = fsc__ptr(nc, &nc->index, nh->clk_off, nh->clk_n * 4);
    if (!from || !to)
      return fsc__err_last();
    memcpy(to, from, ch->clk_n * 4);
  }
  nh->tick = ck_pr_load_64(&ch->tick);
  nh->evictions = ck_pr_load_64(&ch->evictions);
  /* items and bytes: counted by the copy as it puts (fsc__cache_count) */
  return 0;
}

void fsc__cache_count(struct fsc__gen *c, uint64_t total) {
  struct fsc__cache_hdr *ch = fsc__chdr(c);
  if (ch->policy == 0)
    return;
  ck_pr_add_64(&ch->items, 1);
  ck_pr_add_64(&ch->bytes, total);
}

int fsc__cache_recount(struct fsc__gen *c) {
  struct fsc__cache_hdr *ch = fsc__chdr(c);
  if (ch->policy == 0)
    return 0;
  /* No other process writes (recover and recount run alone). */
  uint64_t pos = 0, off, end = fsc__hash_tail(c), n = 0, bytes = 0;
  int rc;
  while ((rc = fsc__hash_next(c, &pos, end, &off)) == 1) {
    struct fsc__krec r;
    if ((rc = fsc__krec_read(c, off, &r)) != 0)
      return rc;
    n++;
    bytes += r.total;
  }
  if (rc < 0)
    return rc;
  ck_pr_store_64(&ch->items, n);
  ck_pr_store_64(&ch->bytes, bytes);
  return 0;
}

int fsc__cache_trim(struct fsc__gen *c) {
  struct fsc__cache_hdr *ch = fsc__chdr(c);
  if (ch->policy == 0)
    return 0;
  int rc = fsc__cache_recount(c);
  if (rc)
    return rc;
  /* No other process writes: the counters are exact, and plain atomics
   * keep them so. */
  uint64_t mi = ch->max_items, mb = ch->max_bytes;
  uint64_t tries = ck_pr_load_64(&ch->items) + 2 * FSC__RECENT;
  int n = 0;
  /* (bounded: a victim that will not go, on a damaged table, ends it) */
  while (tries-- > 0 && ((mi && ck_pr_load_64(&ch->items) > mi) ||
                         (mb && ck_pr_load_64(&ch->bytes) > mb))) {
    uint64_t off, old;
    struct fsc__krec r;
    if ((rc = fsc__cache_victim(c, &off)) <= 0)
      return rc < 0 ? rc : n;
    if ((rc = fsc__hash_del_rec(c, off, &r, &old)) < 0)
      return rc;
    if (rc == 0) { /* (not live: a stale ring entry) */
      fsc__cache_gone(c, off);
      continue;
    }
    ck_pr_sub_64(&ch->items, 1);
    ck_pr_sub_64(&ch->bytes, r.total);
    ck_pr_inc_64(&ch->evictions);
    n++;
  }
  return n;
}

uint32_t *fsc__cache_claim(struct fsc__gen *c, uint64_t h) {
  /* In the header page of every dict: compute-once needs no cache. */
  uint32_t *a = (uint32_t *)(void *)(c->index.views[0].base +
                                     FSC__CLAIM_OFF);
  return a + 2 * ((h >> 8) & (FSC__CLAIMS - 1));
}

int fsc__hash_sample(struct fsc__gen *c, uint64_t *offs, unsigned n) {
  struct fsc__ktab t = {0};
  int rc = fsc__ktab_view(c, &t);
  if (rc)
    return rc;
  uint64_t mask = t.cap - 1, i = rnd() & mask;
  unsigned got = 0;
  if (t.oarr) { /* a growth migrating: half from the keys not moved */
    uint64_t s[64];
    got = (unsigned)sample_old(c, &t, s, NULL, n / 2 < 64 ? n / 2 : 64);
    for (unsigned j = 0; j < got; j++)
      offs[j] = s[j] & fsc__ks_offmask(t.s8);
  }
  for (uint64_t j = 0; j < t.cap && got < n; j++, i = (i + 1) & mask) {
    uint64_t s = ck_pr_load_64(&t.arr[i]);
    if (fsc__ks_value(s))
      offs[got++] = s & fsc__ks_offmask(t.s8);
  }
  return (int)got;
}
