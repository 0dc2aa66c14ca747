/*
 * hash_migrate.c - owns the growth of the dict/set index by an
 * incremental migration (doc/CONCURRENCY.md, "Growth by migration";
 * doc/FORMAT.md, "Hash slots"): its start, its bounded steps (run by
 * inserts, and by overwrites, deletes and refused cache inserts through
 * fsc__hash_migrate_nudge), its end,
 * the wait of a writer that met a slot a mover froze, and the rule of
 * which COUNT increments a publish drops (fsc__hash_recounted).  The
 * lookups and writes that read both tables are hash.c's (kprobe_mig);
 * the stop-the-world rebuild that clear, repairs, recovery and
 * compaction keep is hash_grow.c's, and each of them finishes a
 * migration first (fsc__hash_migrate_finish).
 *
 * Invariants, and where they are kept:
 *  - A migration is in progress while the ACTIVE table's descriptor hw
 *    has KS_HW_MIG; it copies from the other table (desc[BUF ^ 1]), the
 *    "old" one.  Old slots below the header's kmig are moved.  Both words
 *    change only under the structure lock.
 *  - Nobody inserts into the old table once the word names the new one:
 *    a writer whose probe of the old chain ends at an empty slot freezes
 *    that slot before it inserts into the new table (hash.c), so that a
 *    writer still holding a view from before the start, whose insert
 *    would land there, fails its CAS and probes again.  Writers that
 *    passed the start without seeing it can only land a key in an old
 *    slot not frozen yet (above kmig), which the mover then moves.
 *  - So each key is in exactly one place: live in the old table (frozen
 *    or not), or in the new table (its old slot, if any, MOVED).
 *  - A step (lock held) freezes each old slot (a racing CAS fails), copies
 *    a live key into the new table with its hash word, then marks the
 *    old slot MOVED (its tag and offset kept: a reader compares the key);
 *    kmig moves after the step's last slot.  While an old slot is frozen
 *    and not MOVED, nobody changes the key's copy in the new table
 *    (writers wait for MOVED), so a step redone after its mover died
 *    finds the copy by its exact slot value and does not copy twice.
 *  - A migration recounts nothing: COUNT goes on across its start and its
 *    end, and an increment owed to a slot CASed under an older word is
 *    dropped only if a rebuild that recounts (hash_grow.c, hash_recover.c)
 *    published since (kcount_ep, fsc__hash_recounted).
 *  - The start is cheap: the new table is fresh space at the index tail
 *    (zero: every slot empty, no hash word), so nothing is filled under
 *    the lock, and its pages were faulted in ahead, a chunk per insert
 *    past 5/8 full (fsc__hash_migrate_prep: the region reserved under the
 *    lock, each chunk written with zeros and faulted in under it, tried;
 *    a hint in kprep, checked before use); the word is frozen only
 *    while the new descriptor, kmig
 *    and the seal are written.  The end changes no
 *    word (a view from before it probes an old table where every key is
 *    MOVED, and goes on to the new one, which is right); the old region
 *    becomes the spare, and the next rebuild that reuses it moves EPOCH.
 */
#include "struct/hash_slot.h"

#include <sched.h>
#include <signal.h>
#include <stdlib.h>

/* Old slots a step moves: each costs a few CAS and a probe of the new
 * table, so a step stays within a few microseconds (about 5 on a 2-core
 * VM).  Each step also takes and drops the structure lock (two flock
 * calls): 64 slots a step made those about a tenth of a fill's put
 * (driver-style 1M-key fill: 326-339 ns a put with 256, 340-390 with
 * 64, interleaved on a loaded machine; p99.9 unchanged, p99 2.7 -> 5
 * us). */
#define MIG_STEP 256
#define WAIT_SPINS 4096

int fsc__ktab_old(struct fsc__gen *c, unsigned ob, struct fsc__ktab *t) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t off = ck_pr_load_64(&ih->desc[ob].off);
  uint64_t cap = ck_pr_load_64(&ih->desc[ob].cap);
  if (off < FSC__HDR_SIZE || (off & 7u) || cap < KS_MIN_CAP ||
      cap > KS_MAX_CAP || (cap & (cap - 1)))
    return fsc__err(FSC_ECORRUPT, "the hash table a growth migrates from "
                    "(%u) is invalid (offset %llu, capacity %llu)", ob,
                    (unsigned long long)off, (unsigned long long)cap);
  uint64_t hwd = ck_pr_load_64(&ih->desc[ob].hw);
  bool hw = (hwd & KS_HW_HASHW) != 0;
  if (((hwd & KS_HW_SLOT8) != 0) != t->s8)
    return fsc__err(FSC_ECORRUPT, "the hash table a growth migrates from "
                    "(%u) is not of the slot format of the one it migrates "
                    "into", ob);
  t->oarr = fsc__ptr(c, &c->index, off, cap * (hw ? 16 : 8));
  if (!t->oarr)
    return fsc__err_last();
  t->ohv = hw ? t->oarr + cap : NULL;
  t->ocap = cap;
  return 0;
}

bool fsc__hash_migrate_on(void) {
  /* 2: not read yet.  (Threads that race here compute the same value.) */
  static uint32_t on = 2;
  uint32_t v = ck_pr_load_32(&on);
  if (v == 2) {
    /* On unless FSC_GROW_MIGRATE=0: the switch back to the stop-the-world
     * growth, for a comparison or a diagnosis. */
    const char *e = getenv("FSC_GROW_MIGRATE");
    v = !(e && *e == '0');
    ck_pr_store_32(&on, v);
  }
  return v != 0;
}

/* The test hook (tests/test_migrate.c): FSC_TEST_MIGRATE_DIE=n kills this
 * process in the middle of its n-th step, after a copy and before the
 * slot is marked MOVED. */
static long die_at(void) {
  /* (Read at every step, which is rare and costs far more: a test sets
   * it in a forked child.) */
  const char *e = getenv("FSC_TEST_MIGRATE_DIE");
  return e ? atol(e) : -1;
}

/* The test hook (tests/test_migrate.c): FSC_TEST_PREP_DIE=n kills this
 * process in its n-th chunk of preparing (prep_chunk), the chunk claimed
 * and the lock held.  (Read at every chunk, which costs far less than the
 * chunk's system calls.) */
static bool prep_die(void) {
  static long chunks; /* this process's chunks */
  const char *e = getenv("FSC_TEST_PREP_DIE");
  return e && ++chunks == atol(e);
}

bool fsc__hash_recounted(struct fsc__index_hdr *ih, uint64_t w, uint64_t w2) {
  if (!((w2 ^ w) & ~(FSC__LW_FROZEN | FSC__LW_LEN_MASK)))
    return false;
  ck_pr_fence_load(); /* kcount_ep is stored before the word it explains */
  uint64_t r = ck_pr_load_64(&ih->kcount_ep);
  if (!(r & KS_CEP_VALID))
    return true; /* not known: every publish counted (earlier builds) */
  uint64_t m = FSC__LW_EPOCH_MASK, ew = FSC__LW_EPOCH(w);
  uint64_t d = (FSC__LW_EPOCH(w2) - ew) & m, x = ((r & m) - ew) & m;
  /* A rebuild published an epoch after w's and no later than w2's.  (The
   * one that published w's own epoch counted before our CAS.) */
  return x != 0 && x <= d;
}

/* The next table, prepared ahead (kprep: offset, capacity, bytes faulted
 * in, epoch): a hint, checked before use.  PREP_CHUNK bytes a call, so
 * that an insert that prepares pays a few page faults, not the table's.
 * (Measured on ext4, a shared, loaded 2-core VM: faulted in alone, 4.5 to
 * 5.5 us a page, 16 KiB a call at p50 17 us; written with zeros first
 * (prep_chunk), 1.3 us a page at 32 KiB, a call at p50 9 us, p99 12; 1 to
 * 1.25 at 64 KiB, but a call at p50 13 us, p99 21 to 26.  8 KiB faulted
 * in alone was measured too: no cheaper a call, and twice the calls
 * slowed the average put.)  But a fill counts the calls, not their cost
 * alone: at 32 KiB the 64 MiB table of a 4M-key fill took 2,048 of them,
 * about 46 us each in the fill (page cache and page table work of a busy
 * VM), which were 40% of the fill's puts over 30 us and set its p99.9.
 * 128 KiB, a quarter as many calls: that p99.9 went from 30.5-31.7 us
 * to 27.0-27.8 over two fills each, the longest put unchanged. */
#define PREP_CHUNK (UINT64_C(128) << 10)

/* Is kprep a region of cap slots for the table src of epoch e (reserved
 * below itail, clear of both tables), and whole (every chunk done) if
 * `whole`?  Then *off. */
static bool prep_ready(struct fsc__gen *c, const struct fsc__ktab *src,
                       uint64_t e, uint64_t cap, bool whole, uint64_t *off) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t po = ck_pr_load_64(&ih->kprep[0]);
  uint64_t bytes = cap * fsc__ks_bytes(c);
  if (ck_pr_load_64(&ih->kprep[3]) != (e | KS_CEP_VALID) ||
      ck_pr_load_64(&ih->kprep[1]) != cap ||
      (whole && ck_pr_load_64(&ih->kprep[2]) != bytes) ||
      po < FSC__HDR_SIZE || (po & 7u) ||
      po + bytes > ck_pr_load_64(&ih->itail))
    return false;
  for (unsigned b = 0; b < 2; b++) {
    uint64_t o = ck_pr_load_64(&ih->desc[b].off);
    uint64_t hw = ck_pr_load_64(&ih->desc[b].hw), n = KS_HW_ROOM(hw);
    uint64_t sz = (b == src->buf ? src->cap : n) * KS_HW_BYTES(hw);
    if (o < po + bytes && po < o + sz)
      return false;
  }
  *off = po;
  return true;
}

/* The preamble of prep_region and prep_chunk: the structure lock, only
 * tried, and the table t still the active one (its word but for the
 * length) with no migration in progress.  1: so, the lock held; 0: not
 * (another holder, the files moved, or the table changed meanwhile), the
 * lock not held, nothing to do; else an error, the lock not held. */
static int prep_lock(struct fsc__gen *c, const struct fsc__ktab *t) {
  int rc = fsc__lock_try(c);
  if (rc == 1)
    return 0;
  if (rc)
    return rc == FSC__EMOVED ? 0 : rc;
  uint64_t w = ck_pr_load_64(&fsc__ihdr(c)->lenword);
  if (((w ^ t->w) & ~FSC__LW_LEN_MASK) || fsc__hash_migrating(c)) {
    fsc__unlock(c);
    return 0;
  }
  return 1;
}

/* Reserve the region of the next table (cap slots, for the table t of
 * epoch e) and record it in kprep, under the lock. */
static int prep_region(struct fsc__gen *c, const struct fsc__ktab *t,
                       uint64_t e, uint64_t cap) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  int rc = prep_lock(c, t);
  if (rc != 1)
    return rc;
  rc = 0;
  if (ck_pr_load_64(&ih->kprep[3]) != (e | KS_CEP_VALID) ||
      ck_pr_load_64(&ih->kprep[1]) != cap) {
    /* Reserve the region (itail moves first: never handed out twice); a
     * stale one is given up (compaction reclaims it). */
    uint64_t off;
    if ((rc = fsc__hash_new_region(c, cap,
                                   ck_pr_load_64(&ih->desc[t->buf].off),
                                   t->cap * fsc__ks_bytes(c), &off)) != 0)
      goto out;
    ck_pr_store_64(&ih->kprep[3], 0);
    ck_pr_store_64(&ih->kprep[0], off);
    ck_pr_store_64(&ih->kprep[1], cap);
    ck_pr_store_64(&ih->kprep[2], 0);
    ck_pr_fence_store();
    ck_pr_store_64(&ih->kprep[3], e | KS_CEP_VALID);
  }
out:
  fsc__unlock(c);
  return rc;
}

/* Fault the next chunk of the region prepared for the table after t (of
 * epoch e, cap slots) in, under the lock, only tried: when another writer
 * holds it (maybe a mover), a later insert comes back.  The chunk is
 * first written with zeros through the file (fsc__file_zero): the fault-in
 * then finds its pages in the page cache, several times cheaper
 * (PREP_CHUNK).  Zeros change no byte of the region (reserved at the
 * index tail, every slot empty), but written over a table in use they
 * would lose its keys: hence the lock, under which no start adopts the
 * region (a start gives kprep up, under the lock, before it copies into
 * it; so does the last close's trim) and the region is checked as a start
 * checks it (a damaged kprep fails).  The chunk is still claimed by a CAS
 * of kprep[2]: an earlier build claims chunks so, without the lock, and
 * only faults them in. */
static int prep_chunk(struct fsc__gen *c, const struct fsc__ktab *t,
                      uint64_t e, uint64_t cap) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  int rc = prep_lock(c, t);
  if (rc != 1)
    return rc;
  rc = 0;
  uint64_t bytes = cap * fsc__ks_bytes(c), po;
  if (!prep_ready(c, t, e, cap, false, &po))
    goto out; /* the region changed meanwhile */
  uint64_t done = ck_pr_load_64(&ih->kprep[2]);
  uint64_t n = bytes - done < PREP_CHUNK ? bytes - done : PREP_CHUNK;
  if (done >= bytes || !ck_pr_cas_64(&ih->kprep[2], done, done + n))
    goto out;
  if (prep_die()) /* the test hook: the chunk claimed, the lock held */
    raise(SIGKILL);
  uint8_t *p = fsc__ptr(c, &c->index, po, bytes);
  if (!p) {
    rc = fsc__err_last();
    goto out;
  }
  fsc__file_zero(&c->index, po + done, n);
  fsc__mem_populate(p + done, n);
out:
  fsc__unlock(c);
  return rc;
}

int fsc__hash_migrate_prep(struct fsc__gen *c, const struct fsc__ktab *t) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t e = FSC__LW_EPOCH(t->w), cap = t->cap * 2;
  uint64_t bytes = cap * fsc__ks_bytes(c);
  if ((!t->hv && !t->s8) || cap > KS_MAX_CAP)
    return 0;
  /* Not while memory is short (index_mem.c): the new table's pages,
   * faulted in now, would push out the slots every insert needs until the
   * growth (and be written back as dirty zeros); the migration's steps
   * fault them in as they fill them. */
  if (fsc__mem_short(c))
    return 0;
  if (ck_pr_load_64(&ih->kprep[3]) != (e | KS_CEP_VALID) ||
      ck_pr_load_64(&ih->kprep[1]) != cap) {
    /* No region yet for this table: once, under the lock. */
    int rc = prep_region(c, t, e, cap);
    if (rc)
      return rc;
    ck_pr_fence_load(); /* kprep[3] is stored after the words it vouches */
    if (ck_pr_load_64(&ih->kprep[3]) != (e | KS_CEP_VALID) ||
        ck_pr_load_64(&ih->kprep[1]) != cap)
      return 0; /* (the lock was taken, or the table changed) */
  }
  /* Done already (no system call): the common case past 5/8. */
  ck_pr_fence_load(); /* the region's words after the epoch that vouches */
  if (ck_pr_load_64(&ih->kprep[2]) >= bytes)
    return 0;
  return prep_chunk(c, t, e, cap);
}

int fsc__hash_migrate_start(struct fsc__gen *c, uint64_t w) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  if (w & FSC__LW_FROZEN)
    return 1;
  struct fsc__ktab src = {0};
  int rc = fsc__ktab_desc(c, FSC__LW_BUFIDX(w), &src);
  if (rc)
    return rc;
  /* Only a growth of a table with hash words or 8-byte slots migrates: a
   * clean-up of tombstones (no larger table) and a table of an earlier
   * build (whose keys must be rehashed from their records) are rebuilt as
   * before.
   * (The region below is taken last: a refusal leaves nothing behind.) */
  uint64_t cap = fsc__ktab_cap_for(2 * (FSC__LW_LEN(w) + 1));
  if (src.oarr || (!src.hv && !src.s8) || cap <= src.cap)
    return 1;
  unsigned t = src.buf ^ 1u;
  uint64_t off;
  /* Always new space, even when the spare has room (after a clear or a
   * clean-up that shrank the table): a reused region would have to have
   * every empty slot written with its epoch under the lock.  The spare's
   * region is given up (reclaimed by compaction).  The region prepared
   * ahead, if it is whole and for this table and capacity (prep). */
  if (!prep_ready(c, &src, FSC__LW_EPOCH(w), cap, true, &off) &&
      (rc = fsc__hash_new_region(c, cap,
                                 ck_pr_load_64(&ih->desc[src.buf].off),
                                 src.cap * fsc__ks_bytes(c), &off)) != 0)
    return rc;
  ck_pr_store_64(&ih->kprep[3], 0); /* (used, or stale: given up) */
  for (;;) {
    w = ck_pr_load_64(&ih->lenword);
    if (w & FSC__LW_FROZEN)
      return 1;
    if (ck_pr_cas_64(&ih->lenword, w, w | FSC__LW_FROZEN))
      break;
  }
  /* Under the frozen word (no count moves, the words the seal covers may
   * change): the new table, the cursor, the seal, then the word. */
  ck_pr_store_64(&ih->desc[t].off, off);
  ck_pr_store_64(&ih->desc[t].cap, cap);
  ck_pr_store_64(&ih->desc[t].hw, cap | fsc__ks_hwfmt(c) | KS_HW_MIG);
  ck_pr_store_64(&ih->kmig, 0);
  ck_pr_store_64(&ih->kused, 0);
  if (!(ck_pr_load_64(&ih->kcount_ep) & KS_CEP_VALID))
    ck_pr_store_64(&ih->kcount_ep, FSC__LW_EPOCH(w) | KS_CEP_VALID);
  uint64_t e1 = (FSC__LW_EPOCH(w) + 1) & FSC__LW_EPOCH_MASK;
  uint64_t nw = FSC__LW_MAKE(t, e1, FSC__LW_LEN(w));
  fsc__ls_seal(ih, nw); /* (its fence: the table before the word) */
  if (getenv("FSC_TEST_MIGRATE_DIE_START")) /* the test hook: sealed, the
                                               word still frozen */
    raise(SIGKILL);
  ck_pr_store_64(&ih->lenword, nw);
  return 0;
}

/* Copy key (hash h, known in its low nb bits: 64, or at least the new
 * table's home bits, hash_slot.h; record off) into the new table t (epoch
 * en), unless a mover that died already did: 0, or FSC_ECORRUPT with no
 * room.  (A slot of the 8-byte format is told by its record offset: its
 * distance and field are the new table's, not the old slot's.) */
static int copy_key(struct fsc__gen *c, const struct fsc__ktab *t,
                    uint64_t h, unsigned nb, uint64_t off, uint64_t en) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t mask = t->cap - 1, i = h & mask, v = KS_MAKE(h, off);
  uint64_t om = fsc__ks_offmask(t->s8);
  for (uint64_t n = 0; n < t->cap;) {
    uint64_t s = ck_pr_load_64(&t->arr[i]);
    if (t->s8 ? fsc__ks_value(s) && (s & om) == off : s == v)
      return 0; /* copied before its mover died */
    if (fsc__ks_empty(s) && !(s & KS_FROZEN)) {
      if (t->s8)
        v = fsc__ks8_make(h, nb, i, t->cap, off);
      /* (A writer inserting another key may win this slot: look again.) */
      if (!ck_pr_cas_64(&t->arr[i], s, v))
        continue;
      if (t->hv)
        ck_pr_store_64(&t->hv[i], KS_HV_MAKE(h, en));
      ck_pr_inc_64(&ih->kused);
      return 0;
    }
    n++;
    i = (i + 1) & mask;
  }
  (void)c;
  return fsc__err(FSC_ECORRUPT, "the hash table a growth migrates into has "
                  "no room for a key");
}

/* Old slots a chunk of the release behind the cursor: 256 KiB of slots
 * (and 256 KiB of hash words), three system calls each. */
#define OLD_CHUNK (UINT64_C(1) << 15)

/* The old table's slots [k, end) were just moved while memory is short
 * (index_mem.c).  Each time the cursor passes a multiple of OLD_CHUNK,
 * the chunk just passed is written back, slots and hash words (both are
 * dirty: the inserts wrote them, and every slot moved was marked), and
 * the next one is read ahead (the cursor reads both in order; the
 * mapping's hint is MADV_RANDOM).  The hash words two chunks behind
 * (clean by now) are dropped from memory: only the mover reads them.  The
 * slots stay until the end (mig_end): every probe of the migration reads
 * its key's old chain, moved or not (hash.c, kprobe_mig).  Lock held. */
static void old_behind(struct fsc__gen *c, const struct fsc__ktab *t,
                       uint64_t k, uint64_t end) {
  if (k / OLD_CHUNK == end / OLD_CHUNK)
    return;
  uint64_t j = end / OLD_CHUNK; /* chunks below j are moved */
  uint64_t off = ck_pr_load_64(&fsc__ihdr(c)->desc[t->buf ^ 1u].off);
  for (unsigned half = 0; half < (t->ohv ? 2u : 1u); half++) {
    uint64_t b = off + half * t->ocap * 8, ch = OLD_CHUNK * 8;
    fsc__index_writeback(c, b + (j - 1) * ch, ch, false);
    if (half == 1 && j >= 3)
      fsc__index_advise(c, b + (j - 3) * ch, ch, FSC__IDX_PAGEOUT);
    if (j * OLD_CHUNK < t->ocap)
      fsc__index_advise(c, b + j * ch, ch, FSC__IDX_WILLNEED);
  }
}

/* End the migration of view t (every old slot moved): the active table's
 * hw without KS_HW_MIG, sealed.  No word changes (see the top). */
static void mig_end(struct fsc__gen *c, const struct fsc__ktab *t) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  if (fsc__mem_short(c)) {
    /* The old table is dead weight now, and dirty again where the probes
     * of the migration froze the empty slots ending their old chains:
     * written back (waited for: the same writes reclaim would have to
     * wait for, once a growth) and dropped. */
    uint64_t off = ck_pr_load_64(&ih->desc[t->buf ^ 1u].off);
    uint64_t len = t->ocap * (t->ohv ? 16 : 8);
    fsc__index_writeback(c, off, len, true);
    fsc__index_advise(c, off, len, FSC__IDX_PAGEOUT);
  }
  ck_pr_store_64(&ih->desc[t->buf].hw,
                 ck_pr_load_64(&ih->desc[t->buf].hw) & ~KS_HW_MIG);
  ck_pr_store_64(&ih->kmig, 0);
  fsc__ls_seal(ih, ck_pr_load_64(&ih->lenword));
  /* The old table is read no more (a stale view that still probes it
   * faults its pages back in): out of this process's RSS, a chunk an
   * insert (hash.c; at once, 64 MB of table was a pause of 4 ms). */
  fsc__file_drop_later(&c->index, t->oarr, t->ocap * (t->ohv ? 16 : 8));
}

/* One step of the migration the table of word w is in (nothing if none). */
static int step_w(struct fsc__gen *c, uint64_t w) {
  static long steps; /* this process's steps (the test hook) */
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  struct fsc__ktab t = {0};
  int rc = fsc__ktab_desc(c, FSC__LW_BUFIDX(w), &t);
  if (rc || !t.oarr)
    return rc;
  uint64_t k = ck_pr_load_64(&ih->kmig);
  if (k > t.ocap)
    k = t.ocap;
  uint64_t end = k + MIG_STEP < t.ocap ? k + MIG_STEP : t.ocap;
  uint64_t en = FSC__LW_EPOCH(w), eo = (en - 1) & FSC__LW_EPOCH_MASK;
  long die = die_at();
  bool dying = die > 0 && ++steps == die;
  uint64_t bad = 0;
  for (uint64_t i = k; i < end; i++) {
    uint64_t s = ck_pr_load_64(&t.oarr[i]);
    while (!(s & KS_FROZEN) &&
           !ck_pr_cas_64_value(&t.oarr[i], s, s | KS_FROZEN, &s))
      ck_pr_stall();
    if (fsc__ks_moved(s))
      continue;
    s &= ~KS_FROZEN;
    if (!fsc__ks_value(s))
      continue; /* empty (it still ends a chain) or a tombstone */
    uint64_t off = s & fsc__ks_offmask(t.s8), h;
    uint64_t hv = t.ohv ? ck_pr_load_64(&t.ohv[i]) : 0;
    unsigned nb = 64, sb = 0; /* (bits of h known: all, or the slot's) */
    bool known = false;
    if (t.ohv && KS_HV_OK(hv, eo)) {
      h = KS_HV_FULL(hv, s);
      known = true;
    } else if (t.s8 && fsc__ks8_hash(s, i, t.ocap, &h, &sb) &&
               sb >= fsc__ks_lg(t.cap)) {
      /* the old slot alone: one field bit becomes a home bit (not when
       * its field ran out or its distance saturated) */
      nb = sb;
      known = true;
    }
    if (!known && fsc__krec_hash(c, off, &h) != 0) {
      bad++; /* a slot naming no valid record: dropped, as a rebuild does */
      fsc__err_clear();
      ck_pr_store_64(&t.oarr[i], s | KS_MOVED);
      continue;
    }
    if ((rc = copy_key(c, &t, h, nb, off, en)) != 0)
      return rc;
    if (dying && i >= k + (end - k) / 2)
      raise(SIGKILL);
    ck_pr_fence_store(); /* the copy before the mark that points to it */
    ck_pr_store_64(&t.oarr[i], s | KS_MOVED);
  }
  ck_pr_fence_store();
  ck_pr_store_64(&ih->kmig, end);
  if (fsc__mem_short(c))
    old_behind(c, &t, k, end);
  if (bad)
    ck_pr_add_64(&ih->repaired, bad);
  if (end == t.ocap)
    mig_end(c, &t);
  return 0;
}

int fsc__hash_migrate_step(struct fsc__gen *c) {
  uint64_t w = ck_pr_load_64(&fsc__ihdr(c)->lenword);
  if (w & FSC__LW_FROZEN)
    return 0; /* a rebuild's orphan: the caller's rebuild finishes it */
  return step_w(c, w);
}

int fsc__hash_migrate_finish_frozen(struct fsc__gen *c) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  for (;;) {
    uint64_t w = ck_pr_load_64(&ih->lenword);
    struct fsc__ktab t = {0};
    int rc = fsc__ktab_desc(c, FSC__LW_BUFIDX(w), &t);
    if (rc || !t.oarr)
      return rc;
    uint64_t k = ck_pr_load_64(&ih->kmig);
    if ((rc = step_w(c, w)) != 0)
      return rc;
    if (fsc__hash_migrating(c) && ck_pr_load_64(&ih->kmig) == k)
      return fsc__err(FSC_ECORRUPT, "a growth's migration makes no progress "
                      "at old slot %llu", (unsigned long long)k);
  }
}

int fsc__hash_migrate_finish(struct fsc__gen *c) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  while (fsc__hash_migrating(c) &&
         !(ck_pr_load_64(&ih->lenword) & FSC__LW_FROZEN)) {
    uint64_t k = ck_pr_load_64(&ih->kmig);
    int rc = fsc__hash_migrate_step(c);
    if (rc)
      return rc;
    if (fsc__hash_migrating(c) && ck_pr_load_64(&ih->kmig) == k)
      return fsc__err(FSC_ECORRUPT, "a growth's migration makes no progress "
                      "at old slot %llu", (unsigned long long)k);
  }
  return 0;
}

int fsc__hash_migrate_help(struct fsc__gen *c) {
  int rc = fsc__lock_try(c);
  if (rc == 1)
    return 0; /* another writer holds it: maybe the mover; skip */
  if (rc)
    return rc == FSC__EMOVED ? 0 : rc;
  rc = fsc__hash_migrate_step(c);
  fsc__unlock(c);
  return rc;
}

void fsc__hash_migrate_nudge(struct fsc__gen *c) {
  /* Only a writable handle moves slots (a read-only one maps the index
   * read-only).  The rest is the insert's help: one step, the lock only
   * tried.  Each step that runs moves 64 old slots, so a migration from
   * a table of cap slots costs its writers cap / 64 such calls in all,
   * however few of them insert. */
  if (c->rdonly || !fsc__hash_migrating(c))
    return;
  if (fsc__hash_migrate_help(c) != 0)
    fsc__err_clear();
}

int fsc__hash_migrate_wait(struct fsc__gen *c, const uint64_t *p) {
  for (unsigned i = 0; i < WAIT_SPINS; i++) {
    uint64_t s = ck_pr_load_64(p);
    if (!(s & KS_FROZEN) || fsc__ks_moved(s) || !fsc__hash_migrating(c))
      return 0;
    if (i < 64)
      ck_pr_stall();
    else
      sched_yield();
  }
  /* The mover may have died mid-step: the lock (the kernel released its
   * flock) lets us redo its step from kmig, which covers the slot. */
  int rc = fsc__lock(c);
  if (rc)
    return rc;
  if (c->rdonly) {
    fsc__unlock(c);
    return fsc__err(FSC_EAGAIN, "a writer died in the middle of a growth's "
                    "step; open read-write to finish it");
  }
  uint64_t s = ck_pr_load_64(p);
  if ((s & KS_FROZEN) && fsc__ks_value(s & ~KS_FROZEN) &&
      fsc__hash_migrating(c))
    rc = fsc__hash_migrate_step(c);
  fsc__unlock(c);
  return rc;
}
