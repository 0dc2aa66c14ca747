/*
 * verify.c - owns fsc_coll_verify (fsc_list_verify, fsc_dict_verify and
 * fsc_set_verify forward to it): a check of a live collection (every
 * record the index references, the index structure, the counters) and,
 * on request, its repair.  This is the kind-neutral driver: the files'
 * words and counters, the quiet passes, the repair rounds, the report.
 * Each kind's structure is checked and repaired by its own code, reached
 * through the kind operations table (c->ops->vscan and vrepair):
 * struct/list_verify.c and struct/hash_verify.c, which share the pass of
 * verify.h with this file.
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
 *  - A slot naming a superseded record is damage: it hands out a stale
 *    value.  A list writer CASes the new record in, THEN flags the old one
 *    deleted (as older files flagged dict and set records too), and a
 *    dict/set writer flags VOID a record it never published: a slot
 *    naming a record flagged dead (FSC__REC_DEAD) is read again before
 *    the problem is counted (as for the others).  A dict/set write does
 *    not touch the record it supersedes: the scan finds a slot naming one
 *    by a record of its key above it in the data file
 *    (struct/hash_supersede.c), only while this handle is alone (p.solo),
 *    and judges a hit again a moment later (struct/hash_verify.c).
 *  - A list's structure words (BUF and EPOCH of the length word, both
 *    descriptors) are compared with their seal (internal.h) under the
 *    lock; a live word that differs from a seal that holds would make
 *    another array the list, so the array is judged by the seal's words.
 *    A dict's or set's table word and descriptors have the same seal.
 *
 * Repair (FSC_VERIFY_REPAIR) is done in rounds, each fixing one layer and
 * followed by a fresh check, at most REPAIR_ROUNDS (verify_coll):
 *  - list (struct/list_verify.c): damaged structure words are restored
 *    from the seal first (a round of its own), a length above the array's
 *    capacity is taken from the slots; then a structure, length or record
 *    problem is repaired by the list's own recovery: freeze, keep the
 *    elements whose record verifies, republish.  That is a structural
 *    change, safe while others write.
 *  - dict/set (struct/hash_verify.c): slots that name a damaged or
 *    dangling record, hold garbage or shadow another slot of the same key
 *    are turned into tombstones (one CAS each, as a delete), then the
 *    table is rebuilt from itself, safe while others write.  A table that
 *    cannot be used, or that lost keys, or that names a record flagged
 *    dead, is rebuilt from the data file, which needs the collection
 *    alone (fsc__valone).
 * Every repair is counted by kind (struct fsc__vtally: the report's
 * items_*).
 *  - byte counters: corrected by the difference measured over a quiet
 *    pass (an atomic add, so a write that lands afterwards still counts).
 */
#include "file/verify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#define REPAIR_ROUNDS 4  /* seal, structure, then counters, a spare */

/* The shared words that move with every write. */
struct words {
  uint64_t tail, live, dead, records, lenword, kused, opens;
  uint64_t lhead; /* a list's pops at the head move it, lock or no lock */
  uint64_t kmig;  /* a dict's or set's migration steps move it */
};

static uint64_t problems(const struct fsc__vpass *p) {
  return p->bad_bounds + p->bad_type + p->bad_sum + p->dangling +
         p->structure + p->counters;
}

void fsc__vnote(struct fsc__vpass *p, uint64_t *counter, const char *fmt,
                ...) {
  (*counter)++;
  if (p->first[0])
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(p->first, sizeof p->first, fmt, ap);
  va_end(ap);
}

void fsc__vmark(struct fsc__vpass *p, uint64_t idx, uint64_t val,
                uint64_t rec, bool key) {
  if (p->nmarks == p->capmarks) {
    size_t n = p->capmarks ? p->capmarks * 2 : 16;
    struct fsc__vmark *m = realloc(p->marks, n * sizeof *m);
    if (!m) {
      p->oom = true;
      return;
    }
    p->marks = m;
    p->capmarks = n;
  }
  p->marks[p->nmarks++] = (struct fsc__vmark){idx, val, rec, key};
}

static void words_load(struct fsc__gen *c, struct words *w) {
  struct fsc__data_hdr *d = fsc__dhdr(c);
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  ck_pr_fence_load();
  w->lenword = ck_pr_load_64(&ih->lenword);
  w->lhead = ck_pr_load_64(&ih->lhead);
  w->kmig = ck_pr_load_64(&ih->kmig);
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
         a->kused == b->kused && a->opens == b->opens &&
         a->lhead == b->lhead && a->kmig == b->kmig;
}

uint64_t fsc__vbegin(struct fsc__vpass *p) {
  p->tail = ck_pr_load_64(&fsc__dhdr(p->c)->tail);
  ck_pr_fence_load();
  uint64_t w = ck_pr_load_64(&fsc__ihdr(p->c)->lenword);
  ck_pr_fence_load();
  p->count_word = FSC__LW_LEN(w);
  return w;
}

/* ------------------------------------------------------------------ */
/* Records                                                             */
/* ------------------------------------------------------------------ */

/* Is [off, off + need) below the data tail?  A record published after
 * the pass read the tail lies beyond it: read the tail again (it only
 * grows; the reservation came before the slot that named the record). */
static bool below_tail(struct fsc__vpass *p, uint64_t off, uint64_t need) {
  if (off <= p->tail && need <= p->tail - off)
    return true;
  ck_pr_fence_load();
  p->tail = ck_pr_load_64(&fsc__dhdr(p->c)->tail);
  return off <= p->tail && need <= p->tail - off;
}

/* Check the record at off: bounds, checksum, type and layout.  On FSC__RV_OK,
 * *total is its size in the file and *out the structure's parse. */
enum fsc__verdict fsc__vcheck_rec(struct fsc__vpass *p, uint64_t off,
                                  fsc__vparse_fn parse, void *out,
                                  uint64_t *total) {
  struct fsc__gen *c = p->c;
  if (off < FSC__HDR_SIZE || (off & 7u) ||
      !below_tail(p, off, sizeof(struct fsc__rec)))
    return FSC__RV_DANGLING;
  const struct fsc__rec *h = fsc__ptr(c, &c->data, off, sizeof *h);
  if (!h)
    return FSC__RV_BOUNDS;
  uint64_t n = fsc__rec_size(h);
  if (n > (UINT64_C(1) << 40) || !below_tail(p, off, fsc__rec_total(h)))
    return FSC__RV_BOUNDS;
  h = fsc__ptr(c, &c->data, off, fsc__rec_total(h));
  if (!h)
    return FSC__RV_BOUNDS;
  if (!fsc__rec_sum_ok(h))
    return FSC__RV_SUM;
  if (!fsc__rec_form_ok(c->crec, h) || !fsc__type_valid(fsc__rec_type(h)) ||
      (c->type != FSC_TYPE_ANY && fsc__rec_type(h) != c->type) ||
      (ck_pr_load_8((uint8_t *)(uintptr_t)&h->flags) &
       ~FSC__REC_FLAGS_KNOWN) != 0)
    return FSC__RV_TYPE;
  if (parse(c, off, h, out) != 0)
    return FSC__RV_TYPE;
  *total = fsc__rec_total(h);
  /* A list writer flags the record it supersedes (FSC__REC_DELETED, as
   * older files also did for dict and set records), after the slot
   * stopped naming it: the caller re-reads the slot before counting this;
   * a record its writer never published is flagged FSC__REC_VOID.  A slot
   * naming either holds a stale value.  (A dict or set record is not
   * flagged when a write supersedes it: struct/hash_supersede.c.) */
  if (ck_pr_load_8((uint8_t *)(uintptr_t)&h->flags) & FSC__REC_DEAD)
    return FSC__RV_SUPERSEDED;
  return FSC__RV_OK;
}

/* Count a bad record found in slot idx. */
void fsc__vnote_bad(struct fsc__vpass *p, enum fsc__verdict r, uint64_t idx,
                    uint64_t off) {
  const char *what = p->keyed ? "hash slot" : "list slot";
  unsigned long long i = (unsigned long long)idx, o = (unsigned long long)off;
  switch (r) {
  case FSC__RV_DANGLING:
    fsc__vnote(p, &p->dangling, "%s %llu names offset %llu, outside the "
               "written data (tail %llu)", what, i, o,
               (unsigned long long)p->tail);
    break;
  case FSC__RV_BOUNDS:
    fsc__vnote(p, &p->bad_bounds, "the record at %llu (%s %llu) extends past "
               "the written data", o, what, i);
    break;
  case FSC__RV_TYPE:
    fsc__vnote(p, &p->bad_type, "the record at %llu (%s %llu) is not a valid "
               "%s record of this collection's type", o, what, i,
               p->keyed ? (p->c->kind == FSC__KIND_DICT ? "dict" : "set")
                        : "list");
    break;
  case FSC__RV_SUM:
    fsc__vnote(p, &p->bad_sum, "the record at %llu (%s %llu) does not match "
               "its checksum", o, what, i);
    break;
  case FSC__RV_SUPERSEDED:
    p->superseded++;
    fsc__vnote(p, &p->dangling, "%s %llu names the record at %llu, which a "
               "later write superseded (it is flagged dead): the value "
               "there is stale", what, i, o);
    break;
  case FSC__RV_OK:
    break;
  }
}

/* Index file counters that every structure relies on. */
static void check_files(struct fsc__vpass *p) {
  struct fsc__gen *c = p->c;
  struct fsc__data_hdr *d = fsc__dhdr(c);
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t tail = ck_pr_load_64(&d->tail);
  ck_pr_fence_load();
  uint64_t cap = ck_pr_load_64(&d->cap);
  struct stat st;
  if (tail < FSC__HDR_SIZE || tail > cap || (tail & 7u))
    fsc__vnote(p, &p->counters, "the data tail %llu lies outside [%u, "
               "capacity %llu] or is not a multiple of 8",
               (unsigned long long)tail, FSC__HDR_SIZE,
               (unsigned long long)cap);
  if (fstat(c->data.fd, &st) == 0 && (uint64_t)st.st_size < cap)
    fsc__vnote(p, &p->counters, "the data capacity %llu exceeds the data "
               "file's size %llu", (unsigned long long)cap,
               (unsigned long long)st.st_size);
  uint64_t itail = ck_pr_load_64(&ih->itail);
  uint64_t icap = ck_pr_load_64(&ih->icap);
  if (itail < FSC__HDR_SIZE || icap < FSC__HDR_SIZE + FSC__TRAILER ||
      itail > icap - FSC__TRAILER || (itail & 7u)) {
    fsc__vnote(p, &p->structure, "the index tail %llu lies outside [%u, "
               "capacity %llu - %u] or is not a multiple of 8",
               (unsigned long long)itail, FSC__HDR_SIZE,
               (unsigned long long)icap, FSC__TRAILER);
    p->unrepairable = true;
  }
  if (fstat(c->index.fd, &st) == 0 && (uint64_t)st.st_size < icap) {
    fsc__vnote(p, &p->structure, "the index capacity %llu exceeds the index "
               "file's size %llu", (unsigned long long)icap,
               (unsigned long long)st.st_size);
    p->unrepairable = true;
  }
}

/* Does a descriptor (off, cap slots) name a region the index handed out? */
bool fsc__vregion_ok(struct fsc__gen *c, uint64_t off, uint64_t cap) {
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
void fsc__vcheck_spare(struct fsc__vpass *p, unsigned buf, uint64_t aoff,
                       uint64_t acap) {
  struct fsc__index_hdr *ih = fsc__ihdr(p->c);
  uint64_t off = ck_pr_load_64(&ih->desc[buf ^ 1u].off);
  uint64_t cap = ck_pr_load_64(&ih->desc[buf ^ 1u].cap);
  if (off == 0)
    return;
  if (!fsc__vregion_ok(p->c, off, cap) || overlap(off, cap, aoff, acap)) {
    fsc__vnote(p, &p->structure, "the spare %s descriptor (offset %llu, "
               "capacity %llu) names no region of the index",
               p->keyed ? "table" : "array", (unsigned long long)off,
               (unsigned long long)cap);
    p->need_struct = true;
  }
}

/* ------------------------------------------------------------------ */
/* A pass, and the counters                                            */
/* ------------------------------------------------------------------ */

static void scan(struct fsc__vpass *p) {
  check_files(p);
  fsc__advise_walk(p->c, true); /* both files, in file order */
  p->c->ops->vscan(p);
  fsc__advise_walk(p->c, false);
}

static void pass_reset(struct fsc__vpass *p) {
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
static void compare_counters(struct fsc__vpass *out,
                             const struct fsc__vpass *p,
                             const struct fsc__vpass *q,
                             const struct words *w) {
  bool bad_records = q->bad_bounds + q->bad_type + q->bad_sum + q->dangling;
  if (p->keyed) {
    if (p->need_data || q->need_data || (w->lenword & FSC__LW_FROZEN))
      return;
    uint64_t count = FSC__LW_LEN(w->lenword);
    if (count > q->vslots + q->lost_slack) {
      fsc__vnote(out, &out->counters, "the count says %llu keys, but the "
                 "table holds %llu: keys were lost from the index",
                 (unsigned long long)count, (unsigned long long)q->vslots);
      out->need_data = true;
    } else if (count != q->vslots) {
      fsc__vnote(out, &out->counters, "the count says %llu keys, but the "
                 "table holds %llu", (unsigned long long)count,
                 (unsigned long long)q->vslots);
      out->need_struct = true;
    }
    /* kused above the slots used is not damage: an insert whose slot CAS
     * came just before a rebuild froze the table, and whose increment came
     * after the rebuild stored its own count, is counted twice (growth
     * then comes a little early; the last close recounts).  Below them it
     * is: the table could pass 3/4 full unnoticed. */
    if (!p->structure && !q->structure && w->kused < q->nonempty) {
      fsc__vnote(out, &out->counters, "the used-slot count says %llu, but "
                 "%llu slots are used", (unsigned long long)w->kused,
                 (unsigned long long)q->nonempty);
      out->need_struct = true;
    }
  }
  if (!p->keyed && q->pending && !(w->lenword & FSC__LW_FROZEN)) {
    /* Nobody else has it open and nothing moved: an element in slot LEN
     * is an append whose process died after filling the slot, before
     * counting it.  (Adopted by the repair, as the next change would.) */
    fsc__vnote(out, &out->counters, "list slot %llu (the length) holds an "
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
    fsc__vnote(out, &out->counters, "live bytes say %llu, but the records in "
               "use hold %llu", (unsigned long long)w->live,
               (unsigned long long)q->bytes);
    out->fix_live = (int64_t)(q->bytes - w->live);
  }
  if (w->tail >= FSC__HDR_SIZE && q->bytes <= used &&
      w->dead != used - q->bytes) {
    fsc__vnote(out, &out->counters, "dead bytes say %llu, but %llu bytes of "
               "records are not in use", (unsigned long long)w->dead,
               (unsigned long long)(used - q->bytes));
    out->fix_dead = (int64_t)(used - q->bytes - w->dead);
  }
}

/* Is this handle the only one that has the collection open (structure
 * lock held)?  (Other threads writing through this very handle cannot be
 * seen: the header tells callers not to count on the counters then.)
 * Tested as the last closer does: an exclusive presence lock on a
 * description of our own (a child that shares the old one keeps its
 * shared lock), then the shared one again.  Openers and closers convert
 * theirs only under the structure lock, so none sees the moment ours is
 * dropped. */
bool fsc__valone(struct fsc__gen *c) {
  if (fsc__lock_presence_refork(c) != 0) {
    fsc__err_clear();
    return false;
  }
  bool only = flock(c->pfd, LOCK_EX | LOCK_NB) == 0;
  /* Back to shared: at once (no one else can hold it exclusively: that
   * takes the structure lock), the wait bounded as every flock's is. */
  if (fsc__flock_timed(c->pfd, LOCK_SH, c->opts.lock_timeout_ms,
                       c->data_path) != 0) {
    fsc__err_clear();
    return false; /* presence unknown: not alone, to be safe */
  }
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
static void counters(struct fsc__vpass *p, bool solo, uint64_t opens) {
  if (!solo)
    return; /* (see fsc__valone(): counters are judged only then) */
  int seen = 0; /* quiet passes whose counters disagreed */
  for (int t = 0; t < FSC__V_QUIET_TRIES + 2; t++) {
    if (seen) { /* let a paused writer finish */
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, NULL);
    }
    /* (solo: this handle alone, so a migration's old table counts too,
     * its steps seen by the words: hash_verify.c) */
    struct fsc__vpass q = {.c = p->c, .keyed = p->keyed, .solo = true};
    struct words w0, w1;
    words_load(p->c, &w0);
    scan(&q);
    words_load(p->c, &w1);
    /* (No writer opened it since it was found alone: `opens`.) */
    bool quiet = words_eq(&w0, &w1) && !(w1.lenword & FSC__LW_FROZEN) &&
                 w1.opens == opens;
    /* (Problems this pass alone met, in slots written meanwhile, are
     * left to the next check: they only keep the counters unjudged.) */
    struct fsc__vpass cmp = {.c = p->c, .keyed = p->keyed};
    if (quiet)
      compare_counters(&cmp, p, &q, &w1);
    free(q.marks);
    if (!quiet) {
      if (t >= FSC__V_QUIET_TRIES)
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

/* Correct the byte counters by what a quiet pass measured. */
bool fsc__vfix_bytes(struct fsc__gen *c, const struct fsc__vpass *p) {
  struct fsc__data_hdr *d = fsc__dhdr(c);
  if (p->fix_live)
    ck_pr_add_64(&d->live_bytes, (uint64_t)p->fix_live);
  if (p->fix_dead)
    ck_pr_add_64(&d->dead_bytes, (uint64_t)p->fix_dead);
  return p->fix_live || p->fix_dead;
}

/* Retire the bad records a repair removed from the index (move their
 * bytes from live to dead), so that the byte counters stay right without
 * waiting for a quiet moment.  Only records whose size is sound (a
 * checksum or type problem, not bounds), and not one flagged dead (its
 * bytes are dead already). */
void fsc__vretire_marked(struct fsc__vpass *p) {
  for (size_t i = 0; i < p->nmarks; i++) {
    if (!p->marks[i].key)
      continue;
    uint64_t off = p->marks[i].rec;
    const struct fsc__rec *h;
    if (off + sizeof *h > p->tail || fsc__rec_locate(p->c, off, &h) != 0 ||
        off + fsc__rec_total(h) > p->tail ||
        (ck_pr_load_8(&h->flags) & FSC__REC_DEAD))
      continue;
    fsc__rec_retire(p->c, off);
  }
  fsc__err_clear();
}

/* ------------------------------------------------------------------ */
/* The public calls                                                    */
/* ------------------------------------------------------------------ */

static void report_pass(fsc_verify_report *r, const struct fsc__vpass *p) {
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
  struct fsc__vpass p = {.c = c, .keyed = c->kind != FSC__KIND_LIST};
  bool reported = false;
  uint64_t found = 0;
  struct fsc__vtally t = {0};
  char first[sizeof p.first] = "";
  int rc = 0;
  for (int round = 0; round <= REPAIR_ROUNDS; round++) {
    if ((rc = fsc__lock(c)) != 0)
      break;
    pass_reset(&p);
    p.locked = true;
    p.solo = p.keyed && fsc__valone(c); /* (the walk for stale slots) */
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
        rc = c->ops->vrepair(&p, &changed, &t);
      fsc__unlock(c);
    } else {
      bool solo = fsc__valone(c);
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
          rc = c->ops->vrepair(&p, &changed, &t);
          fsc__unlock(c);
        } else {
          changed = fsc__vfix_bytes(c, &p);
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
  r->length = fsc__lw_count(fsc__ihdr(c));
  free(p.marks);
  return rc;
}

/* The public entry: every face's verify (fsc_list_verify, fsc_dict_verify
 * and fsc_set_verify forward to it). */
int fsc_coll_verify(fsc_coll *hp, unsigned flags, fsc_verify_report *out) {
  fsc__err_clear();
  fsc_verify_report r;
  memset(&r, 0, sizeof r);
  struct fsc__handle *h = hp ? FSC__H(hp) : NULL;
  int rc = 0;
  bool repair = (flags & FSC_VERIFY_REPAIR) != 0;
  if (flags & ~FSC_VERIFY_REPAIR) {
    rc = fsc__err(FSC_EINVAL, "unknown verify flags 0x%x", flags);
    goto out;
  }
  for (int tries = 0;; tries++) {
    struct fsc__gen *c = h ? fsc__cur(h) : NULL;
    if ((rc = fsc__gen_check(c, repair)) != 0)
      goto out;
    memset(&r, 0, sizeof r);
    rc = verify_coll(c, repair, &r);
    /* The generation was compacted away (before or during the check):
     * move the handle to the new files and check those. */
    if (rc == FSC__EMOVED && tries < 8) {
      fsc__err_clear();
      if ((rc = fsc__handle_follow(h, c)) != 0)
        break;
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
