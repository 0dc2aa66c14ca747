/*
 * verify.c - owns fsc_list_verify, fsc_dict_verify and fsc_set_verify: a
 * check of a live collection (every record the index references, the
 * index structure, the counters) and, on request, its repair.
 *
 * The check runs under the structure lock, so no structural change (list
 * insert/pop/sort..., dict/set rebuild, compaction) runs meanwhile.
 * Lock-free writers in other threads and processes keep writing, and the
 * check is built so that they cannot make it report a problem that is not
 * there:
 *  - A slot is read once (one atomic load) and the record it names is
 *    immutable, so a record either verifies or is damaged, whatever writers
 *    do afterwards; a record offset beyond the data tail read at the start
 *    is judged against the tail read again (an item assignment may publish
 *    a newer record meanwhile).
 *  - Under the lock, a dict/set table only changes by single-slot CASes:
 *    an empty slot stays empty or is filled, a key never moves, tombstones
 *    are never reused.  So a key that a probe from its home slot cannot
 *    reach, or a key in two slots, is damage; the slot is read again
 *    before such a problem is counted.
 *  - Counters (length/COUNT, used slots, live and dead bytes) move with
 *    every write, and a writer may pause in the middle of one (waiting
 *    for the lock this check holds, with a record reserved and counted
 *    but not published), so they are judged without the lock, only while
 *    no other handle has the collection open, over two passes a moment
 *    apart during which none of the shared words moved.  Otherwise the
 *    report says the counters were not checked.  (One exception: a dict
 *    or set whose COUNT is far above the keys its table holds lost keys
 *    from the index; that is judged under the lock.)
 *
 *  - A slot naming a record flagged deleted (superseded by a later write,
 *    or removed) is damage: it hands out a stale value.  A lock-free
 *    writer CASes the new record in, THEN flags the old one, so the slot
 *    is read again before the problem is counted (as for the others).
 *  - A list's structure words (BUF and EPOCH of the length word, both
 *    descriptors) are compared with their seal (internal.h) under the
 *    lock; a live word that differs from a seal that holds would make
 *    another array the list, so the array is judged by the seal's words.
 *
 * Repair (FSC_VERIFY_REPAIR) is done in rounds, each fixing one layer and
 * followed by a fresh check, at most REPAIR_ROUNDS (verify_coll):
 *  - list: damaged structure words are restored from the seal first (a
 *    round of its own), a length above the array's capacity is taken from
 *    the slots; then a structure, length or record problem is repaired by the
 *    list's own recovery (fsc__ls_recover_locked): freeze, keep the
 *    elements whose record verifies (fsc__rec_verify), republish.  That is
 *    a structural change, safe while others write.
 *  - dict/set: slots that name a damaged or dangling record, hold garbage
 *    or shadow another slot of the same key are turned into tombstones
 *    (one CAS each, as a delete), then the table is rebuilt from itself
 *    (rebuild_locked in hash.c: freeze every slot, re-place every key by
 *    its hash, recount), which fixes tags, probe chains, frozen slots,
 *    COUNT and the used-slot count, safe while others write.  A table that
 *    cannot be used, or that lost keys (COUNT far above the keys it
 *    holds: index pages lost with the power), is rebuilt from the data
 *    file (rebuild_from_data in hash.c), which needs the collection alone;
 *    so is a table with a slot naming a superseded record (the key's
 *    newest live record is only in the data file).
 * Every repair is counted by kind (struct tally: the report's items_*).
 *  - byte counters: corrected by the difference measured over a quiet
 *    pass (an atomic add, so a write that lands afterwards still counts).
 */
#include "struct/hash_slot.h"
#include "struct/list_struct.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

/* A COUNT this far above the keys the table holds is keys lost from the
 * index, not writers killed before counting (hash.c's COUNT_SLACK). */
#define LOST_KEYS_SLACK KS_COUNT_SLACK

#define QUIET_TRIES 4    /* passes tried for a quiet counter comparison */
#define REPAIR_ROUNDS 4  /* seal, structure, then counters, a spare */
#define MAX_SLOT_RETRY 8 /* re-reads of a slot a writer keeps changing */

enum verdict { RV_OK, RV_DANGLING, RV_BOUNDS, RV_TYPE, RV_SUM, RV_SUPERSEDED };

/* The shared words that move with every write. */
struct words {
  uint64_t tail, live, dead, records, lenword, kused, opens;
};

/* A dict/set slot the repair turns into a tombstone. */
struct mark {
  uint64_t idx, val;
  bool key; /* it held a key whose record is bad: a key is dropped */
};

/* One check pass and what it found. */
struct pass {
  struct fsc__gen *c;
  bool keyed;
  uint64_t tail;             /* the data tail, re-read when needed */
  bool locked;               /* the structure lock is held */
  /* findings */
  uint64_t records_checked, bad_bounds, bad_type, bad_sum;
  uint64_t slots_checked, dangling, structure, counters;
  uint64_t superseded;       /* of dangling: slots naming a deleted record */
  char first[240];           /* the first problem, for fsc_errmsg */
  bool counters_checked;
  /* what the repair needs */
  bool need_struct;          /* list: republish; dict: tombstone + rebuild */
  bool need_data;            /* dict: rebuild from the data file */
  bool unrepairable;         /* list: the array itself is unusable */
  bool len_over;             /* list: LEN above the array's capacity */
  bool seal_fix;             /* list: live structure words and their seal
                                disagree (fsc__ls_seal_fix first) */
  int64_t fix_live, fix_dead; /* byte counter corrections (quiet pass) */
  struct mark *marks;
  size_t nmarks, capmarks;
  bool oom;
  /* sums of the pass, for the counters */
  uint64_t elems;            /* list: elements (LEN and a pending append) */
  uint64_t phantoms;         /* list: slots below LEN that hold none */
  bool pending;              /* list: slot LEN holds an element */
  uint64_t vslots;           /* dict: slots in key form (good or bad) */
  uint64_t keys;             /* dict: keys with a good record */
  uint64_t nonempty;         /* dict: slots that are not empty */
  uint64_t bytes;            /* total bytes of the good records */
  uint64_t count_word;       /* LEN / COUNT as the pass began */
};

static uint64_t problems(const struct pass *p) {
  return p->bad_bounds + p->bad_type + p->bad_sum + p->dangling +
         p->structure + p->counters;
}

static void note(struct pass *p, uint64_t *counter, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note(struct pass *p, uint64_t *counter, const char *fmt, ...) {
  (*counter)++;
  if (p->first[0])
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->first, sizeof p->first, fmt, ap);
  va_end(ap);
}

static void mark(struct pass *p, uint64_t idx, uint64_t val, bool key) {
  if (p->nmarks == p->capmarks) {
    size_t n = p->capmarks ? p->capmarks * 2 : 16;
    struct mark *m = realloc(p->marks, n * sizeof *m);
    if (!m) {
      p->oom = true;
      return;
    }
    p->marks = m;
    p->capmarks = n;
  }
  p->marks[p->nmarks++] = (struct mark){idx, val, key};
}

static void words_load(struct fsc__gen *c, struct words *w) {
  struct fsc__data_hdr *d = fsc__dhdr(c);
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  ck_pr_fence_load();
  w->lenword = ck_pr_load_64(&ih->lenword);
  w->kused = ck_pr_load_64(&ih->kused);
  w->opens = ck_pr_load_64(&ih->opens);
  w->tail = ck_pr_load_64(&d->tail);
  w->live = ck_pr_load_64(&d->live_bytes);
  w->dead = ck_pr_load_64(&d->dead_bytes);
  w->records = ck_pr_load_64(&d->records);
  ck_pr_fence_load();
}

static bool words_eq(const struct words *a, const struct words *b) {
  return a->tail == b->tail && a->live == b->live && a->dead == b->dead &&
         a->records == b->records && a->lenword == b->lenword &&
         a->kused == b->kused && a->opens == b->opens;
}

/* ------------------------------------------------------------------ */
/* Records                                                             */
/* ------------------------------------------------------------------ */

/* Is [off, off + need) below the data tail?  A record published after
 * the pass read the tail lies beyond it: read the tail again (it only
 * grows; the reservation came before the slot that named the record). */
static bool below_tail(struct pass *p, uint64_t off, uint64_t need) {
  if (off <= p->tail && need <= p->tail - off)
    return true;
  ck_pr_fence_load();
  p->tail = ck_pr_load_64(&fsc__dhdr(p->c)->tail);
  return off <= p->tail && need <= p->tail - off;
}

/* Check the record at off: bounds, checksum, type and layout.  On RV_OK,
 * *total is its size in the file and *kr (keyed) its parse. */
static enum verdict check_rec(struct pass *p, uint64_t off,
                              struct fsc__krec *kr, uint64_t *total) {
  struct fsc__gen *c = p->c;
  if (off < FSC__HDR_SIZE || (off & 7u) ||
      !below_tail(p, off, sizeof(struct fsc__rec)))
    return RV_DANGLING;
  const struct fsc__rec *h = fsc__ptr(c, &c->data, off, sizeof *h);
  if (!h)
    return RV_BOUNDS;
  uint64_t n = h->size;
  if (n > (UINT64_C(1) << 40) || !below_tail(p, off, FSC__REC_TOTAL(n)))
    return RV_BOUNDS;
  h = fsc__ptr(c, &c->data, off, FSC__REC_TOTAL(n));
  if (!h)
    return RV_BOUNDS;
  if (fsc__rec_checksum(h->type, h + 1, n) != h->checksum)
    return RV_SUM;
  if (!fsc__type_valid(h->type) ||
      (c->type != FSC_TYPE_ANY && h->type != c->type))
    return RV_TYPE;
  if (p->keyed) {
    if (fsc__krec_read(c, off, kr) != 0)
      return RV_TYPE;
  } else {
    fsc_value v;
    if (fsc__value_decode((fsc_type)h->type, h + 1, n, &v) != 0)
      return RV_TYPE;
  }
  *total = FSC__REC_TOTAL(n);
  /* A record a later write superseded (or a delete removed) is flagged
   * after the slot stopped naming it: the caller re-reads the slot before
   * counting this. */
  if (ck_pr_load_8((uint8_t *)(uintptr_t)&h->flags) & FSC__REC_DELETED)
    return RV_SUPERSEDED;
  return RV_OK;
}

/* Count a bad record found in slot idx. */
static void note_bad(struct pass *p, enum verdict r, uint64_t idx,
                     uint64_t off) {
  const char *what = p->keyed ? "hash slot" : "list slot";
  unsigned long long i = (unsigned long long)idx, o = (unsigned long long)off;
  switch (r) {
  case RV_DANGLING:
    note(p, &p->dangling, "%s %llu names offset %llu, outside the written "
         "data (tail %llu)", what, i, o, (unsigned long long)p->tail);
    break;
  case RV_BOUNDS:
    note(p, &p->bad_bounds, "the record at %llu (%s %llu) extends past the "
         "written data", o, what, i);
    break;
  case RV_TYPE:
    note(p, &p->bad_type, "the record at %llu (%s %llu) is not a valid %s "
         "record of this collection's type", o, what, i,
         p->keyed ? (p->c->kind == FSC__KIND_DICT ? "dict" : "set")
                  : "list");
    break;
  case RV_SUM:
    note(p, &p->bad_sum, "the record at %llu (%s %llu) does not match its "
         "checksum", o, what, i);
    break;
  case RV_SUPERSEDED:
    p->superseded++;
    note(p, &p->dangling, "%s %llu names the record at %llu, which a later "
         "write superseded (it is flagged deleted): the value there is "
         "stale", what, i, o);
    break;
  case RV_OK:
    break;
  }
}

/* Index file counters that every structure relies on. */
static void check_files(struct pass *p) {
  struct fsc__gen *c = p->c;
  struct fsc__data_hdr *d = fsc__dhdr(c);
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t tail = ck_pr_load_64(&d->tail);
  ck_pr_fence_load();
  uint64_t cap = ck_pr_load_64(&d->cap);
  struct stat st;
  if (tail < FSC__HDR_SIZE || tail > cap)
    note(p, &p->counters, "the data tail %llu lies outside [%u, capacity "
         "%llu]", (unsigned long long)tail, FSC__HDR_SIZE,
         (unsigned long long)cap);
  if (fstat(c->data.fd, &st) == 0 && (uint64_t)st.st_size < cap)
    note(p, &p->counters, "the data capacity %llu exceeds the data file's "
         "size %llu", (unsigned long long)cap,
         (unsigned long long)st.st_size);
  uint64_t itail = ck_pr_load_64(&ih->itail);
  uint64_t icap = ck_pr_load_64(&ih->icap);
  if (itail < FSC__HDR_SIZE || icap < FSC__HDR_SIZE + FSC__TRAILER ||
      itail > icap - FSC__TRAILER) {
    note(p, &p->structure, "the index tail %llu lies outside [%u, capacity "
         "%llu - %u]", (unsigned long long)itail, FSC__HDR_SIZE,
         (unsigned long long)icap, FSC__TRAILER);
    p->unrepairable = true;
  }
  if (fstat(c->index.fd, &st) == 0 && (uint64_t)st.st_size < icap) {
    note(p, &p->structure, "the index capacity %llu exceeds the index "
         "file's size %llu", (unsigned long long)icap,
         (unsigned long long)st.st_size);
    p->unrepairable = true;
  }
}

/* Does a descriptor (off, cap slots) name a region the index handed out? */
static bool region_ok(struct fsc__gen *c, uint64_t off, uint64_t cap) {
  uint64_t itail = ck_pr_load_64(&fsc__ihdr(c)->itail);
  return off >= FSC__HDR_SIZE && !(off & 7u) && cap > 0 &&
         cap <= (UINT64_C(1) << 40) && off <= itail &&
         cap * 8 <= itail - off;
}

static bool overlap(uint64_t a, uint64_t an, uint64_t b, uint64_t bn) {
  return a < b + bn * 8 && b < a + an * 8;
}

/* The spare descriptor: none, or a region clear of the active one.  (The
 * structural code never writes a spare that is not, but a damaged one is
 * worth reporting: repair replaces it.) */
static void check_spare(struct pass *p, unsigned buf, uint64_t aoff,
                        uint64_t acap) {
  struct fsc__index_hdr *ih = fsc__ihdr(p->c);
  uint64_t off = ck_pr_load_64(&ih->desc[buf ^ 1u].off);
  uint64_t cap = ck_pr_load_64(&ih->desc[buf ^ 1u].cap);
  if (off == 0)
    return;
  if (!region_ok(p->c, off, cap) || overlap(off, cap, aoff, acap)) {
    note(p, &p->structure, "the spare %s descriptor (offset %llu, "
         "capacity %llu) names no region of the index",
         p->keyed ? "table" : "array", (unsigned long long)off,
         (unsigned long long)cap);
    p->need_struct = true;
  }
}

/* ------------------------------------------------------------------ */
/* The list                                                            */
/* ------------------------------------------------------------------ */

static void scan_list(struct pass *p) {
  struct fsc__gen *c = p->c;
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  p->tail = ck_pr_load_64(&fsc__dhdr(c)->tail);
  ck_pr_fence_load();
  uint64_t w = ck_pr_load_64(&ih->lenword);
  ck_pr_fence_load();
  bool frozen = (w & FSC__LW_FROZEN) != 0;
  unsigned buf = FSC__LW_BUFIDX(w);
  uint64_t len = FSC__LW_LEN(w);
  p->count_word = len;
  if (frozen) {
    note(p, &p->structure, "a structural change of the list was "
         "interrupted (its process died holding the lock)");
    p->need_struct = true;
  }
  bool by_seal = false; /* judge the array by the seal's descriptors */
  if (!frozen && p->locked) {
    /* Under the lock only LEN moves: the other words must be the sealed
     * ones.  A live word that differs from a seal that holds is damage
     * that would make another array (an older list) the list; judge the
     * array by the seal's words (see internal.h, struct fsc__list_seal). */
    uint64_t n = 0;
    enum fsc__seal_state st = fsc__ls_seal_state(ih, &n);
    if (st == FSC__SEAL_LIVE) {
      note(p, &p->structure, "%llu of the list's structure words (the "
           "length word's array and epoch, the array descriptors) differ "
           "from their sealed copy: damage that would make another array "
           "the list", (unsigned long long)n);
      p->seal_fix = p->need_struct = by_seal = true;
      w = (w & ~(FSC__LW_BUF | (FSC__LW_EPOCH_MASK << FSC__LW_EPOCH_SHIFT))) |
          ck_pr_load_64(&ih->seal.word);
      buf = FSC__LW_BUFIDX(w);
    } else if (st == FSC__SEAL_BROKEN) {
      note(p, &p->structure, "the sealed copy of the list's structure "
           "words is damaged");
      p->seal_fix = p->need_struct = true;
    }
  }
  const struct fsc__list_desc *dsc =
      by_seal ? &ih->seal.desc[buf] : &ih->desc[buf];
  uint64_t off = ck_pr_load_64(&dsc->off);
  uint64_t cap = ck_pr_load_64(&dsc->cap);
  if (!region_ok(c, off, cap)) {
    note(p, &p->structure, "the list's array descriptor (offset %llu, "
         "capacity %llu) names no region of the index",
         (unsigned long long)off, (unsigned long long)cap);
    p->unrepairable = true;
    return;
  }
  if (!by_seal)
    check_spare(p, buf, off, cap);
  if (len > cap) {
    note(p, &p->counters, "the list's length %llu exceeds its array's "
         "capacity %llu", (unsigned long long)len, (unsigned long long)cap);
    /* (With the array sound, the repair takes the length from its
     * slots.) */
    if (frozen || by_seal)
      p->unrepairable = true;
    else
      p->len_over = true;
    return;
  }
  uint64_t *arr = fsc__ptr(c, &c->index, off, cap * 8);
  if (!arr) {
    note(p, &p->structure, "the list's array lies beyond the index "
         "capacity");
    p->unrepairable = true;
    return;
  }
  uint64_t empty_below = 0;
  for (uint64_t i = 0; i <= len && i < cap; i++) {
    uint64_t s = ck_pr_load_64(&arr[i]);
    p->slots_checked++;
    if (i == len) {
      /* Slot LEN: empty, a pending append (a promised element, counted by
       * the next append or change), or a fence while a change holds the
       * list.  Anything else, or a fence under an unfrozen word, is
       * damage that blocks appenders. */
      if (FSC__SLOT_IS_VALUE(s)) {
        p->pending = true; /* and on to the record check */
      } else if (s == FSC__SLOT_FENCE) {
        if (!frozen) {
          note(p, &p->structure, "list slot %llu (the length) is fenced, "
               "but no change holds the list", (unsigned long long)i);
          p->need_struct = true;
        }
        break;
      } else if (s != 0 && !(s & FSC__SLOT_EMPTY_FLAG)) {
        note(p, &p->structure, "list slot %llu (the length) holds garbage "
             "%#llx", (unsigned long long)i, (unsigned long long)s);
        p->need_struct = true;
        break;
      } else {
        break;
      }
    }
    if (!FSC__SLOT_IS_VALUE(s)) {
      p->need_struct = true;
      if (s != 0 && !(s & FSC__SLOT_EMPTY_FLAG) && s != FSC__SLOT_FENCE) {
        p->elems++;
        if ((s & 6u) == 0) { /* an offset, inside the header page */
          p->records_checked++;
          note_bad(p, RV_DANGLING, i, FSC__SLOT_OFF(s));
        } else
          note(p, &p->structure, "list slot %llu holds garbage %#llx",
               (unsigned long long)i, (unsigned long long)s);
        continue;
      }
      /* Below the length every slot holds an element, except under a
       * change that died (a half-done pop), counted above. */
      if (!frozen)
        empty_below++;
      p->phantoms++;
      continue;
    }
    if ((s & FSC__SLOT_FROZEN) && !frozen) {
      note(p, &p->structure, "list slot %llu is frozen, but no change holds "
           "the list", (unsigned long long)i);
      p->need_struct = true;
    }
    enum verdict r = RV_OK;
    uint64_t total = 0;
    for (int k = 0; k < MAX_SLOT_RETRY; k++) {
      r = check_rec(p, FSC__SLOT_OFF(s), NULL, &total);
      if (r == RV_OK)
        break;
      /* A record never changes; if the slot did (an item assignment),
       * the bad record is no longer the list's: check the new one. */
      ck_pr_fence_load();
      uint64_t s2 = ck_pr_load_64(&arr[i]);
      if (s2 == s || !FSC__SLOT_IS_VALUE(s2))
        break;
      s = s2;
    }
    p->records_checked++;
    p->elems++;
    if (r != RV_OK) {
      note_bad(p, r, i, FSC__SLOT_OFF(s));
      p->need_struct = true;
      /* (A record whose extent is known is retired once dropped.) */
      if (r == RV_SUM || r == RV_TYPE)
        mark(p, i, FSC__SLOT_OFF(s), true);
      continue;
    }
    p->bytes += total;
  }
  if (empty_below)
    note(p, &p->counters, "the list's length says %llu elements, but %llu "
         "of those slots hold none", (unsigned long long)len,
         (unsigned long long)empty_below);
  /* Above slot LEN nothing is ever filled while the word holds still
   * (appenders fill slot LEN only, and the lock keeps changes out): an
   * element there is one a damaged (shrunken) length hides. */
  if (p->locked && !frozen && p->pending && len + 1 < cap &&
      FSC__SLOT_IS_VALUE(ck_pr_load_64(&arr[len + 1]))) {
    ck_pr_fence_load();
    if (FSC__LW_LEN(ck_pr_load_64(&ih->lenword)) == len) {
      note(p, &p->counters, "list slot %llu, above the length %llu, holds "
           "an element: the length word lost elements",
           (unsigned long long)(len + 1), (unsigned long long)len);
      p->need_struct = true;
    }
  }
}

/* ------------------------------------------------------------------ */
/* The dict and the set                                                */
/* ------------------------------------------------------------------ */

/* Is record off (slot s) the key k?  (A record that does not parse is no
 * key, as for hash.c's probes.) */
static bool holds_key(struct pass *p, uint64_t s, const struct fsc__kkey *k,
                      const struct fsc__krec *want) {
  if ((s >> KS_OFF_BITS) != (k->h >> KS_OFF_BITS))
    return false;
  struct fsc__krec r;
  if (fsc__krec_read(p->c, s & KS_OFF_MASK, &r) != 0)
    return false;
  if (r.klen != want->klen ||
      (p->c->kind == FSC__KIND_SET && r.type != want->type))
    return false;
  return r.klen == 0 || memcmp(r.key, want->key, r.klen) == 0;
}

/* Key in slot i (value s, record kr, hash k): can a lookup reach it?
 * 0: yes; 1: an empty slot cuts its probe chain; 2: slot *dup holds the
 * same key earlier in the chain (this one is shadowed). */
static int reach(struct pass *p, const uint64_t *arr, uint64_t cap,
                 uint64_t i, const struct fsc__kkey *k,
                 const struct fsc__krec *kr, uint64_t *dup) {
  uint64_t mask = cap - 1;
  for (uint64_t j = k->h & mask, n = 0; j != i && n < cap;
       j = (j + 1) & mask, n++) {
    uint64_t t = ck_pr_load_64(&arr[j]);
    if (fsc__ks_empty(t))
      return 1;
    if (fsc__ks_value(t) && holds_key(p, t & ~KS_FROZEN, k, kr)) {
      *dup = j;
      return 2;
    }
  }
  return 0;
}

static void scan_keyed(struct pass *p) {
  struct fsc__gen *c = p->c;
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  bool dict = c->kind == FSC__KIND_DICT;
  p->tail = ck_pr_load_64(&fsc__dhdr(c)->tail);
  ck_pr_fence_load();
  uint64_t w = ck_pr_load_64(&ih->lenword);
  ck_pr_fence_load();
  bool frozen = (w & FSC__LW_FROZEN) != 0;
  unsigned buf = FSC__LW_BUFIDX(w);
  p->count_word = FSC__LW_LEN(w);
  if (frozen) {
    note(p, &p->structure, "a rebuild of the %s's index was interrupted "
         "(its process died holding the lock)", dict ? "dict" : "set");
    p->need_struct = true;
  }
  uint64_t off = ck_pr_load_64(&ih->desc[buf].off);
  uint64_t cap = ck_pr_load_64(&ih->desc[buf].cap);
  if (!region_ok(c, off, cap) || cap < KS_MIN_CAP || cap > KS_MAX_CAP ||
      (cap & (cap - 1))) {
    note(p, &p->structure, "the hash table descriptor (offset %llu, "
         "capacity %llu) names no valid table", (unsigned long long)off,
         (unsigned long long)cap);
    p->need_data = true;
    return;
  }
  check_spare(p, buf, off, cap);
  const uint64_t *arr = fsc__ptr(c, &c->index, off, cap * 8);
  if (!arr) {
    note(p, &p->structure, "the hash table lies beyond the index "
         "capacity");
    p->need_data = true;
    return;
  }
  for (uint64_t i = 0; i < cap; i++) {
    uint64_t s = ck_pr_load_64(&arr[i]);
    int retries = 0;
    p->slots_checked++;
  again:
    if ((s & KS_FROZEN) && !frozen) {
      note(p, &p->structure, "hash slot %llu is frozen, but no rebuild "
           "holds the table", (unsigned long long)i);
      p->need_struct = true;
    }
    if (fsc__ks_empty(s))
      continue;
    p->nonempty++;
    if (fsc__ks_tomb(s))
      continue;
    if (!fsc__ks_value(s)) {
      note(p, &p->structure, "hash slot %llu holds garbage %#llx",
           (unsigned long long)i, (unsigned long long)s);
      p->need_struct = true;
      mark(p, i, s, false);
      continue;
    }
    p->vslots++;
    uint64_t roff = s & KS_OFF_MASK, total = 0;
    struct fsc__krec kr;
    enum verdict r = check_rec(p, roff, &kr, &total);
    p->records_checked++;
    if (r != RV_OK) {
      ck_pr_fence_load();
      uint64_t s2 = ck_pr_load_64(&arr[i]);
      if (s2 != s && retries++ < MAX_SLOT_RETRY) {
        /* Replaced or deleted meanwhile: judge what is there now. */
        p->vslots--;
        p->records_checked--;
        p->nonempty--;
        s = s2;
        goto again;
      }
      note_bad(p, r, i, roff);
      if (r == RV_SUPERSEDED) {
        /* The key's newest live record is in the data file (the slot
         * lost it): only a rebuild from the data file finds it. */
        p->need_data = true;
        continue;
      }
      p->need_struct = true;
      mark(p, i, s, true);
      continue;
    }
    struct fsc__kkey k;
    fsc__kkey_make(&k, dict ? 0 : kr.type, kr.key, kr.klen);
    if ((k.h >> KS_OFF_BITS) != (s >> KS_OFF_BITS)) {
      note(p, &p->structure, "hash slot %llu: its tag does not match its "
           "key's hash (lookups miss the key)", (unsigned long long)i);
      p->need_struct = true;
    } else {
      uint64_t dup = 0;
      int rr = reach(p, arr, cap, i, &k, &kr, &dup);
      if (rr) {
        ck_pr_fence_load();
        if (ck_pr_load_64(&arr[i]) == s) { /* still there: damage */
          if (rr == 1)
            note(p, &p->structure, "hash slot %llu: an empty slot cuts its "
                 "key's probe chain (lookups miss the key)",
                 (unsigned long long)i);
          else {
            note(p, &p->structure, "hash slots %llu and %llu hold the same "
                 "key", (unsigned long long)dup, (unsigned long long)i);
            mark(p, i, s, false); /* shadowed: lookups find dup first */
          }
          p->need_struct = true;
        }
      }
    }
    p->keys++;
    p->bytes += total;
  }
  if (p->locked && !frozen) {
    /* Keys lost from the index (pages of it lost with the power) leave
     * COUNT far above the keys the table holds; only the data file has
     * them.  Counted over the slots alone (fast), until the word held
     * still meanwhile (no rebuild runs: the lock is held). */
    for (int t = 0; t < QUIET_TRIES; t++) {
      uint64_t w0 = ck_pr_load_64(&ih->lenword), n = 0;
      ck_pr_fence_load();
      for (uint64_t i = 0; i < cap; i++)
        n += fsc__ks_value(ck_pr_load_64(&arr[i]));
      ck_pr_fence_load();
      uint64_t w1 = ck_pr_load_64(&ih->lenword);
      if (w0 != w1)
        continue;
      if (FSC__LW_LEN(w1) > n + LOST_KEYS_SLACK) {
        note(p, &p->counters, "the count says %llu keys, but the table "
             "holds %llu: keys were lost from the index",
             (unsigned long long)FSC__LW_LEN(w1), (unsigned long long)n);
        p->need_data = true;
      }
      break;
    }
  }
}

/* ------------------------------------------------------------------ */
/* A pass, and the counters                                            */
/* ------------------------------------------------------------------ */

static void scan(struct pass *p) {
  check_files(p);
  if (p->keyed)
    scan_keyed(p);
  else
    scan_list(p);
}

static void pass_reset(struct pass *p) {
  struct fsc__gen *c = p->c;
  bool keyed = p->keyed;
  free(p->marks);
  memset(p, 0, sizeof *p);
  p->c = c;
  p->keyed = keyed;
}

/* Compare the counters (the words w, read before and after the quiet
 * pass q) with what q counted; the full pass p says whether the rest is
 * sound.  Findings go to out. */
static void compare_counters(struct pass *out, const struct pass *p,
                             const struct pass *q, const struct words *w) {
  bool bad_records = q->bad_bounds + q->bad_type + q->bad_sum + q->dangling;
  if (p->keyed) {
    if (p->need_data || q->need_data || (w->lenword & FSC__LW_FROZEN))
      return;
    uint64_t count = FSC__LW_LEN(w->lenword);
    if (count > q->vslots + LOST_KEYS_SLACK) {
      note(out, &out->counters, "the count says %llu keys, but the table "
           "holds %llu: keys were lost from the index",
           (unsigned long long)count, (unsigned long long)q->vslots);
      out->need_data = true;
    } else if (count != q->vslots) {
      note(out, &out->counters, "the count says %llu keys, but the table "
           "holds %llu", (unsigned long long)count,
           (unsigned long long)q->vslots);
      out->need_struct = true;
    }
    if (!p->structure && !q->structure && w->kused != q->nonempty) {
      note(out, &out->counters, "the used-slot count says %llu, but %llu "
           "slots are used", (unsigned long long)w->kused,
           (unsigned long long)q->nonempty);
      out->need_struct = true;
    }
  }
  if (!p->keyed && q->pending && !(w->lenword & FSC__LW_FROZEN)) {
    /* Nobody else has it open and nothing moved: an element in slot LEN
     * is an append whose process died after filling the slot, before
     * counting it.  (Adopted by the repair, as the next change would.) */
    note(out, &out->counters, "list slot %llu (the length) holds an "
         "element the length does not count",
         (unsigned long long)FSC__LW_LEN(w->lenword));
    out->need_struct = true;
  }
  /* Byte counters, once everything else is sound (the repair of the rest
   * changes which records are live). */
  if (bad_records || problems(p) || problems(q) || out->counters ||
      p->need_struct || q->need_struct)
    return;
  uint64_t used = w->tail - FSC__HDR_SIZE;
  if (w->live != q->bytes) {
    note(out, &out->counters, "live bytes say %llu, but the records in use "
         "hold %llu", (unsigned long long)w->live,
         (unsigned long long)q->bytes);
    out->fix_live = (int64_t)(q->bytes - w->live);
  }
  if (w->tail >= FSC__HDR_SIZE && q->bytes <= used &&
      w->dead != used - q->bytes) {
    note(out, &out->counters, "dead bytes say %llu, but %llu bytes of "
         "records are not in use", (unsigned long long)w->dead,
         (unsigned long long)(used - q->bytes));
    out->fix_dead = (int64_t)(used - q->bytes - w->dead);
  }
}

static int flock_retry(int fd, int op) {
  while (flock(fd, op) != 0)
    if (errno != EINTR)
      return -1;
  return 0;
}

/* Is this handle the only one that has the collection open (structure
 * lock held)?  (Other threads writing through this very handle cannot be
 * seen: the header tells callers not to count on the counters then.)  Tested as the last closer does: an exclusive presence lock
 * on a description of our own (a child that shares the old one keeps its
 * shared lock), then the shared one again.  Openers and closers convert
 * theirs only under the structure lock, so none sees the moment ours is
 * dropped. */
static bool alone(struct fsc__gen *c) {
  if (fsc__lock_presence_refork(c) != 0) {
    fsc__err_clear();
    return false;
  }
  bool only = flock(c->pfd, LOCK_EX | LOCK_NB) == 0;
  flock_retry(c->pfd, LOCK_SH);
  return only;
}

/* Judge the counters of a collection whose structure pass p found sound.
 * Run WITHOUT the structure lock: a writer that needs the lock (to grow
 * the array or the table) waits for it in the middle of its write, with a
 * record reserved and counted but not yet published, so no pass is a
 * fair one while the lock is held.  A pass counts only if no shared word
 * moved during it and the word is not frozen by a change in progress;
 * and a counter that disagrees is counted only if it disagrees again over
 * a second such pass a moment later: a writer paused between two steps
 * of one write (a slot published, its count not yet) is no problem.
 * Even so, a writer of another process can stay paused in the middle of a
 * write for longer than that (waiting for the lock, or for a CPU), so the
 * counters are judged only while this handle is the only one open
 * (`solo`, tested under the lock); else counters_checked stays false. */
static void counters(struct pass *p, bool solo, uint64_t opens) {
  if (!solo)
    return; /* (see alone(): counters are judged only then) */
  int seen = 0; /* quiet passes whose counters disagreed */
  for (int t = 0; t < QUIET_TRIES + 2; t++) {
    if (seen) { /* let a paused writer finish */
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, NULL);
    }
    struct pass q = {.c = p->c, .keyed = p->keyed};
    struct words w0, w1;
    words_load(p->c, &w0);
    scan(&q);
    words_load(p->c, &w1);
    /* (No writer opened it since it was found alone: `opens`.) */
    bool quiet = words_eq(&w0, &w1) && !(w1.lenword & FSC__LW_FROZEN) &&
                 w1.opens == opens;
    /* (Problems this pass alone met, in slots written meanwhile, are
     * left to the next check: they only keep the counters unjudged.) */
    struct pass cmp = {.c = p->c, .keyed = p->keyed};
    if (quiet)
      compare_counters(&cmp, p, &q, &w1);
    free(q.marks);
    if (!quiet) {
      if (t >= QUIET_TRIES)
        break;
      continue;
    }
    if (!cmp.counters) { /* they agree */
      p->counters_checked = true;
      break;
    }
    if (++seen < 2)
      continue;
    /* Disagreed twice: a problem. */
    p->counters_checked = true;
    p->counters += cmp.counters;
    if (!p->first[0])
      memcpy(p->first, cmp.first, sizeof p->first);
    p->need_struct |= cmp.need_struct;
    p->need_data |= cmp.need_data;
    p->fix_live = cmp.fix_live;
    p->fix_dead = cmp.fix_dead;
    break;
  }
  fsc__err_clear(); /* what the probes recorded is not the caller's */
}

/* ------------------------------------------------------------------ */
/* Repair                                                              */
/* ------------------------------------------------------------------ */

/* Allocate now the index space the list's republish may need, so that a
 * full disk fails before the list is frozen, not inside the change
 * (fsc__ls_recover_locked does not abort a change it cannot publish). */
static int list_reserve_index(struct fsc__gen *c) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t w = ck_pr_load_64(&ih->lenword);
  unsigned buf = FSC__LW_BUFIDX(w);
  uint64_t len = FSC__LW_LEN(w) + 1; /* and a pending append */
  uint64_t cap = ck_pr_load_64(&ih->desc[buf].cap);
  uint64_t slots = 2 * len > cap ? 2 * len : cap;
  if (slots < 64)
    slots = 64;
  uint64_t end = ck_pr_load_64(&ih->itail) + slots * 8 + FSC__TRAILER;
  uint64_t icap = ck_pr_load_64(&ih->icap);
  if (end <= icap)
    return 0;
  uint64_t ncap = icap * 2 > end ? icap * 2 : end;
  ncap = (ncap + 4095) & ~UINT64_C(4095);
  return fsc__file_grow(&c->index, ncap, c->index_path);
}

/* Correct the byte counters by what a quiet pass measured. */
static bool fix_bytes(struct fsc__gen *c, const struct pass *p) {
  struct fsc__data_hdr *d = fsc__dhdr(c);
  if (p->fix_live)
    ck_pr_add_64(&d->live_bytes, (uint64_t)p->fix_live);
  if (p->fix_dead)
    ck_pr_add_64(&d->dead_bytes, (uint64_t)p->fix_dead);
  return p->fix_live || p->fix_dead;
}

/* Retire the bad records a repair removed from the index (flag them
 * deleted, move their bytes from live to dead), so that the byte
 * counters stay right without waiting for a quiet moment.  Only records
 * whose size is sound (a checksum or type problem, not bounds). */
static void retire_marked(struct pass *p) {
  for (size_t i = 0; i < p->nmarks; i++) {
    if (!p->marks[i].key)
      continue;
    uint64_t off = p->keyed ? p->marks[i].val & KS_OFF_MASK : p->marks[i].val;
    const struct fsc__rec *h;
    if (off + sizeof *h > p->tail || fsc__rec_locate(p->c, off, &h) != 0 ||
        off + FSC__REC_TOTAL(h->size) > p->tail ||
        (ck_pr_load_8(&h->flags) & FSC__REC_DELETED))
      continue;
    fsc__rec_retire(p->c, off);
  }
  fsc__err_clear();
}

/* What the repair did, by kind (the report's items_* fields). */
struct tally {
  uint64_t dropped, recovered, restored, tombstoned, rebuilt, counters;
};

/* One round of repair for what pass p found.  *changed: it did
 * something; t counts what. */
static int repair_list(struct pass *p, bool *changed, struct tally *t) {
  struct fsc__gen *c = p->c;
  if (p->seal_fix) {
    /* First the structure words: the array to keep is the one the seal
     * names; the next round judges it. */
    t->restored += fsc__ls_seal_fix(c);
    *changed = true;
    return 0;
  }
  if (p->unrepairable)
    return fsc__err(FSC_ECORRUPT, "the list cannot be repaired: %s",
                    p->first);
  if (p->len_over) {
    /* A length no array of this capacity can hold: take it from the
     * slots (the elements are the leading values), then judge again. */
    struct fsc__index_hdr *ih = fsc__ihdr(c);
    uint64_t w = ck_pr_load_64(&ih->lenword);
    unsigned b = FSC__LW_BUFIDX(w);
    uint64_t cap = ck_pr_load_64(&ih->desc[b].cap);
    uint64_t *arr = fsc__ptr(c, &c->index, ck_pr_load_64(&ih->desc[b].off),
                             cap * 8);
    if (!arr)
      return fsc__err_last();
    uint64_t k = 0;
    while (k < cap && FSC__SLOT_IS_VALUE(ck_pr_load_64(&arr[k])))
      k++;
    /* (No appender moves a LEN above the capacity: it waits for growth,
     * which needs the lock we hold.) */
    if (FSC__LW_LEN(w) > cap &&
        ck_pr_cas_64(&ih->lenword, w, (w & ~FSC__LW_LEN_MASK) | k))
      t->counters++;
    *changed = true;
    return 0;
  }
  if (p->need_struct) {
    int rc = list_reserve_index(c);
    if (rc)
      return rc;
    uint64_t w = ck_pr_load_64(&fsc__ihdr(c)->lenword);
    uint64_t kept = 0, n = 0, adopted = 0;
    rc = fsc__ls_recover_locked(c, fsc__rec_verify_live, &kept, &n,
                                &adopted);
    if (rc)
      return rc;
    /* (Slots below the length that held no element were no elements.) */
    t->dropped += n > p->phantoms ? n - p->phantoms : 0;
    if (w & FSC__LW_FROZEN)
      t->restored++; /* the interrupted change, finished */
    /* Elements above the length adopted back (one pending append is a
     * count corrected; more are elements a damaged length hid). */
    t->restored += adopted > 1 ? adopted - 1 : 0;
    if (adopted || p->phantoms)
      t->counters++;
    retire_marked(p);
    *changed = true;
    return 0;
  }
  *changed = fix_bytes(c, p);
  t->counters += *changed;
  return 0;
}

static int repair_keyed(struct pass *p, bool *changed, struct tally *t) {
  struct fsc__gen *c = p->c;
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  struct fsc__data_hdr *d = fsc__dhdr(c);
  if (p->need_data) {
    if (!alone(c))
      return fsc__err(FSC_EAGAIN, "the index must be rebuilt from the data "
                      "file (%s), which needs the collection alone: other "
                      "handles have it open; run the repair when they have "
                      "closed it (the first open after they exit repairs "
                      "too)", p->first);
    uint64_t before = p->keys, bytes = 0;
    int rc = fsc__hash_rebuild_from_data(c, &bytes);
    if (rc)
      return rc;
    uint64_t after = fsc__hash_len(c);
    uint64_t used = ck_pr_load_64(&d->tail) - FSC__HDR_SIZE;
    ck_pr_store_64(&d->live_bytes, bytes);
    ck_pr_store_64(&d->dead_bytes, used > bytes ? used - bytes : 0);
    uint64_t nbad = 0;
    for (size_t i = 0; i < p->nmarks; i++)
      nbad += p->marks[i].key;
    if (before + nbad > after)
      t->dropped += before + nbad - after;
    else
      t->recovered += after - before - nbad;
    t->rebuilt++;
    *changed = true;
    return 0;
  }
  if (p->need_struct) {
    if (p->oom)
      return fsc__err(FSC_ENOMEM, "out of memory listing damaged slots");
    /* Slots naming a bad record, garbage, or a shadowed duplicate become
     * tombstones: one CAS each, as a delete does (if a writer changed the
     * slot meanwhile, its own value is judged by the next check). */
    uint64_t w = ck_pr_load_64(&ih->lenword);
    uint64_t *arr = fsc__ptr(c, &c->index,
                             ck_pr_load_64(&ih->desc[FSC__LW_BUFIDX(w)].off),
                             ck_pr_load_64(&ih->desc[FSC__LW_BUFIDX(w)].cap) *
                                 8);
    if (!arr)
      return fsc__err_last();
    for (size_t i = 0; i < p->nmarks; i++) {
      if (ck_pr_cas_64(&arr[p->marks[i].idx], p->marks[i].val, KS_TOMB)) {
        t->tombstoned++;
        if (p->marks[i].key)
          t->dropped++;
      } else {
        p->marks[i].key = false; /* a writer replaced it: not ours */
      }
    }
    retire_marked(p);
    /* Then the table is rebuilt from itself: every key re-placed by its
     * hash, tombstones dropped, frozen bits cleared, COUNT and the used
     * slots recounted.  Writers' CASes fail on the frozen table and
     * retry in the new one. */
    int rc = fsc__hash_rebuild_locked(c, false);
    if (rc)
      return rc;
    t->rebuilt++;
    *changed = true;
    return 0;
  }
  *changed = fix_bytes(c, p);
  t->counters += *changed;
  return 0;
}

/* ------------------------------------------------------------------ */
/* The public calls                                                    */
/* ------------------------------------------------------------------ */

static void report_pass(fsc_verify_report *r, const struct pass *p) {
  r->records_checked = p->records_checked;
  r->records_bad_bounds = p->bad_bounds;
  r->records_bad_type = p->bad_type;
  r->records_bad_checksum = p->bad_sum;
  r->records_bad = p->bad_bounds + p->bad_type + p->bad_sum;
  r->slots_checked = p->slots_checked;
  r->index_dangling = p->dangling;
  r->index_structure = p->structure;
  r->index_counters = p->counters;
  r->index_problems = p->dangling + p->structure + p->counters;
  r->index_superseded = p->superseded;
  r->counters_checked = p->counters_checked;
}

/* The check, and the repair in rounds: the structure under the lock
 * (repaired under it), then the counters without it (and their repair). */
static int verify_coll(struct fsc__gen *c, bool repair,
                       fsc_verify_report *r) {
  struct pass p = {.c = c, .keyed = c->kind != FSC__KIND_LIST};
  bool reported = false;
  uint64_t found = 0;
  struct tally t = {0};
  char first[sizeof p.first] = "";
  int rc = 0;
  for (int round = 0; round <= REPAIR_ROUNDS; round++) {
    if ((rc = fsc__lock(c)) != 0)
      break;
    pass_reset(&p);
    p.locked = true;
    scan(&p);
    fsc__err_clear();
    bool structural = problems(&p) || p.need_struct || p.need_data;
    bool changed = false;
    if (structural) {
      if (!reported) { /* counters are judged once the rest is sound */
        report_pass(r, &p);
        found = problems(&p);
        memcpy(first, p.first, sizeof first);
        reported = true;
      }
      if (repair && round < REPAIR_ROUNDS)
        rc = p.keyed ? repair_keyed(&p, &changed, &t)
                     : repair_list(&p, &changed, &t);
      fsc__unlock(c);
    } else {
      bool solo = alone(c);
      uint64_t opens = ck_pr_load_64(&fsc__ihdr(c)->opens);
      fsc__unlock(c);
      counters(&p, solo, opens);
      if (!reported) {
        report_pass(r, &p);
        found = problems(&p);
        memcpy(first, p.first, sizeof first);
        reported = true;
      }
      if (problems(&p) && repair && round < REPAIR_ROUNDS) {
        if (p.need_struct || p.need_data) { /* a COUNT: rebuild; a LEN */
          if ((rc = fsc__lock(c)) != 0)
            break;
          rc = p.keyed ? repair_keyed(&p, &changed, &t)
                       : repair_list(&p, &changed, &t);
          fsc__unlock(c);
        } else {
          changed = fix_bytes(c, &p);
          t.counters += changed;
        }
      }
    }
    r->repaired |= changed;
    if (rc || !changed)
      break;
  }
  r->counters_checked = p.counters_checked;
  uint64_t left = problems(&p);
  if (repair) {
    uint64_t index_left = p.dangling + p.structure + p.counters;
    r->items_dropped = t.dropped;
    r->items_repaired =
        (r->index_problems > index_left ? r->index_problems - index_left
                                        : 0) +
        t.recovered;
    r->items_restored = t.restored;
    r->items_tombstoned = t.tombstoned;
    r->tables_rebuilt = t.rebuilt;
    r->counters_corrected = t.counters;
  }
  r->problems_left = rc ? (left ? left : found) : left;
  if (rc == 0 && left && repair)
    rc = fsc__err(FSC_ECORRUPT, "%llu problem%s found, %llu left after "
                  "the repair: %s", (unsigned long long)found,
                  found == 1 ? "" : "s", (unsigned long long)left, p.first);
  else if (rc == 0 && left)
    rc = fsc__err(FSC_ECORRUPT, "%llu problem%s found; the first: %s",
                  (unsigned long long)found, found == 1 ? "" : "s", first);
  else if (rc == 0)
    fsc__err_clear();
  r->healthy = rc == 0;
  r->length = FSC__LW_LEN(ck_pr_load_64(&fsc__ihdr(c)->lenword));
  free(p.marks);
  return rc;
}

typedef struct fsc__gen *(*coll_of)(void *h);
typedef void (*follow_fn)(void *h);

static int verify(void *h, coll_of get, follow_fn follow, unsigned flags,
                  fsc_verify_report *out) {
  fsc__err_clear();
  fsc_verify_report r;
  memset(&r, 0, sizeof r);
  int rc = 0;
  bool repair = (flags & FSC_VERIFY_REPAIR) != 0;
  if (flags & ~FSC_VERIFY_REPAIR) {
    rc = fsc__err(FSC_EINVAL, "unknown verify flags 0x%x", flags);
    goto out;
  }
  for (int tries = 0;; tries++) {
    struct fsc__gen *c = h ? get(h) : NULL;
    if ((rc = fsc__gen_check(c, repair)) != 0)
      goto out;
    memset(&r, 0, sizeof r);
    rc = verify_coll(c, repair, &r);
    /* The generation was compacted away (before or during the check):
     * move the handle to the new files and check those. */
    if (rc == FSC__EMOVED && tries < 8) {
      fsc__err_clear();
      follow(h);
      fsc__err_clear();
      continue;
    }
    if (rc == FSC__EMOVED)
      rc = fsc__err(FSC_EAGAIN, "the collection kept being compacted "
                    "during the check; verify it again");
    break;
  }
out:
  if (out) {
    size_t sz = out->size;
    if (sz == 0 || sz > sizeof r)
      sz = sizeof r;
    r.size = sz;
    memcpy(out, &r, sz);
  }
  return rc;
}

static struct fsc__gen *list_coll(void *h) { return fsc__list_gen(h); }
static struct fsc__gen *dict_coll(void *h) { return fsc__dict_gen(h); }
static struct fsc__gen *set_coll(void *h) { return fsc__set_gen(h); }

/* A public call that follows a handle to its collection's new files (the
 * metrics call does, as every FSC__GEN call). */
static void list_follow(void *h) {
  fsc_metrics m = {.size = sizeof m};
  fsc_list_metrics(h, &m);
}
static void dict_follow(void *h) {
  fsc_metrics m = {.size = sizeof m};
  fsc_dict_metrics(h, &m);
}
static void set_follow(void *h) {
  fsc_metrics m = {.size = sizeof m};
  fsc_set_metrics(h, &m);
}

int fsc_list_verify(fsc_list *l, unsigned flags, fsc_verify_report *out) {
  return verify(l, list_coll, list_follow, flags, out);
}

int fsc_dict_verify(fsc_dict *d, unsigned flags, fsc_verify_report *out) {
  return verify(d, dict_coll, dict_follow, flags, out);
}

int fsc_set_verify(fsc_set *s, unsigned flags, fsc_verify_report *out) {
  return verify(s, set_coll, set_follow, flags, out);
}
