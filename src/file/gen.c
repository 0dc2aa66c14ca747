/*
 * gen.c - owns one generation's life (struct fsc__gen: a collection's two
 * files as one handle maps them): the options it was opened with, the
 * clean-close protocol around the files gen_files.c finds or creates,
 * first-open recovery and last-close vouching (through the kind's
 * operations table), close, destroy, metrics and sync.
 *
 * Clean-close protocol (doc/DURABILITY.md, doc/DESIGN.md):
 *  open:  take the structure lock (it also serialises creation); try the
 *         presence lock exclusively without blocking: success means no other
 *         process has the collection open, so this is the first opener.  The
 *         first opener reads the clean-close marker (the index file's final
 *         byte); if it is missing the previous session died and the
 *         collection is verified and repaired.  Every writer clears the
 *         marker, then takes the presence lock shared and drops the
 *         structure lock.  (A read-only opener that finds the marker
 *         needs no first-opener test: no writer has the files open.  It
 *         takes no structure lock either: open_ro.c, c->unlocked.)
 *  close: take the structure lock; a non-blocking exclusive presence lock
 *         succeeds only for the last holder, which syncs (per durability)
 *         and writes the marker.  The marker vouches for the files: the
 *         index header counts read-write handles opened minus closed
 *         (`writers`; a forked child counts when lock.c re-forks its
 *         locks), and a last closer that finds more than itself knows a
 *         writer died without closing: it runs the first opener's
 *         recovery before writing the marker (or, if that fails, writes
 *         none, so that the next opener repairs).
 *  A read-only first opener that finds the marker missing cannot repair:
 *  it runs the structure's check first and refuses a damaged collection
 *  (check_unclean_rdonly), then its handle checks each record's checksum
 *  on read (check_reads).
 * Both steps run under the structure lock, so the non-atomic flock
 * conversions in between cannot be observed by another opener.
 */
#include "internal.h"
#include "file/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>





static int write_marker(int fd, uint64_t size, uint8_t b) {
  uint64_t at;
  if (fsc__marker_at(fd, size, &at) != 0)
    return -1;
  return pwrite(fd, &b, 1, (off_t)at) == 1 ? 0 : -1;
}

/* The last clean close (structure lock held, and the presence lock held
 * exclusively: no other process maps these files, and none can map them
 * before we unlock): give back the tails that growth steps left unused
 * (doc/FORMAT.md, "Growth and trim"): the data file's after its tail, a
 * list's index file's after its arrays.  Each capacity is lowered first and
 * the file cut after, so a crash in between leaves a file longer than its
 * capacity, which is valid; the next writer grows the file again.  The
 * index keeps its trailer (the marker is then written at its new end).
 * Our own views reach past the new ends, but nothing touches a byte
 * beyond a capacity, and they are unmapped before the unlock.  Best
 * effort: a failure leaves a longer file. */
static void trim_tails(struct fsc__gen *c) {
  uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
  struct fsc__data_hdr *d = fsc__dhdr(c);
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t tail = ck_pr_load_64(&d->tail), cap = ck_pr_load_64(&d->cap);
  uint64_t want = (tail + page - 1) / page * page;
  struct stat st;
  /* Blocks allocated past either file's end ahead of a growth that did
   * not come (prealloc.c) go back first. */
  fsc__file_prealloc_trim(&c->data);
  fsc__file_prealloc_trim(&c->index);
  /* A version-3 file: under the growth lock, so that no growth job of
   * this process (grow.c; one the wait above did not see end) raises cap
   * over the cut; without it, the data file is not cut. */
  bool cut = true;
  if (c->zgrow) {
    pthread_mutex_lock(&c->data.gmu);
    cut = fsc__ofd_lock_timed(c->data.fd, FSC__GROW_LOCK_OFF,
                              c->opts.lock_timeout_ms, c->data_path) == 0;
    if (!cut)
      fsc__err_clear();
    tail = ck_pr_load_64(&d->tail);
    cap = ck_pr_load_64(&d->cap);
    want = (tail + page - 1) / page * page;
  }
  if (!cut || tail > cap || tail < FSC__HDR_SIZE) {
    /* Not a tail this file ever had: cut nothing. */
  } else if (want < cap) {
    ck_pr_store_64(&d->cap, want);
    if (ftruncate(c->data.fd, (off_t)want) != 0)
      fsc__err_clear();
  } else if (fstat(c->data.fd, &st) == 0 && (uint64_t)st.st_size > cap &&
             ftruncate(c->data.fd, (off_t)cap) != 0) {
    fsc__err_clear(); /* (a crash between lowering cap and the cut) */
  }
  if (c->zgrow) {
    if (cut)
      fsc__ofd_unlock(c->data.fd, FSC__GROW_LOCK_OFF);
    pthread_mutex_unlock(&c->data.gmu);
  }
  /* The kind's own trim: a list moves its array down to the header; a
   * dict or set punches out the tables growth left behind (hash_trim.c). */
  if (c->ops->trim)
    (void)c->ops->trim(c);
  /* The index's tail: a list's only, whose regions the header names (its
   * two arrays), so that a damaged itail can never cut one.  A dict's or
   * set's table is the last region handed out, and the step that made
   * room for it left at most the trailer and a page rounding unused. */
  if (c->kind != FSC__KIND_LIST)
    return;
  uint64_t itail = ck_pr_load_64(&ih->itail), icap = ck_pr_load_64(&ih->icap);
  for (int i = 0; i < 2; i++) {
    uint64_t off = ck_pr_load_64(&ih->desc[i].off);
    uint64_t n = ck_pr_load_64(&ih->desc[i].cap);
    if (off && n < (UINT64_C(1) << 40) && off < (UINT64_C(1) << 62) &&
        off + n * 8 > itail)
      itail = off + n * 8;
  }
  uint64_t iwant = (itail + FSC__TRAILER + page - 1) / page * page;
  if (itail + FSC__TRAILER > icap) {
    /* Regions past the capacity: damage; cut nothing. */
  } else if (iwant < icap) {
    ck_pr_store_64(&ih->icap, iwant);
    if (ftruncate(c->index.fd, (off_t)iwant) != 0)
      fsc__err_clear();
  } else if (fstat(c->index.fd, &st) == 0 && (uint64_t)st.st_size > icap &&
             ftruncate(c->index.fd, (off_t)icap) != 0) {
    fsc__err_clear();
  }
}

/* Options from a caller that may be older (smaller) than this library. */
static int read_options(const fsc_options *in, fsc_options *o) {
  fsc_options def = FSC_OPTIONS_INIT;
  *o = def;
  if (!in)
    return 0;
  if (in->size < offsetof(fsc_options, flags) + sizeof in->flags ||
      in->size > 4096)
    return fsc__err(FSC_EINVAL, "fsc_options.size is %zu: start from "
                                "FSC_OPTIONS_INIT", in->size);
  memcpy(o, in, in->size < sizeof *o ? in->size : sizeof *o);
  o->size = sizeof *o;
  if (o->type != FSC_TYPE_UNSPEC && !fsc__gen_type_valid(o->type))
    return fsc__err(FSC_EINVAL, "invalid element type %d", (int)o->type);
  if (o->flags &
      ~(FSC_CREATE | FSC_RDONLY | FSC_EXCL | FSC_REF_ALLOW_OUTSIDE))
    return fsc__err(FSC_EINVAL, "unknown flags 0x%x", o->flags);
  if ((o->flags & FSC_RDONLY) && (o->flags & (FSC_CREATE | FSC_EXCL)) &&
      in->flags != def.flags)
    return fsc__err(FSC_EINVAL, "FSC_RDONLY cannot create a collection");
  if ((o->flags & FSC_RDONLY))
    o->flags &= ~(unsigned)(FSC_CREATE | FSC_EXCL);
  if (o->mode & ~0777u)
    return fsc__err(FSC_EINVAL, "invalid file mode 0%o: only permission "
                    "bits (0777) are allowed; setuid, setgid and sticky "
                    "bits have no meaning on collection files", o->mode);
  if ((unsigned)o->durability > FSC_DURABLE_ALWAYS)
    return fsc__err(FSC_EINVAL, "invalid durability %d", (int)o->durability);
  if (in->size < offsetof(fsc_options, key_type) + sizeof in->key_type)
    o->key_type = FSC_TYPE_UNSPEC; /* an older caller */
  if (in->size < offsetof(fsc_options, auto_compact) + sizeof in->auto_compact) {
    o->compaction_threshold = 0; /* an older caller */
    o->auto_compact = false;
  }
  if (in->size < offsetof(fsc_options, lock_timeout_ms) +
                     sizeof in->lock_timeout_ms)
    o->lock_timeout_ms = def.lock_timeout_ms; /* an older caller */
  if (in->size < offsetof(fsc_options, cache_max_bytes) +
                     sizeof in->cache_max_bytes) {
    o->cache_type = FSC_CACHE_NONE; /* an older caller */
    o->cache_max_items = o->cache_max_bytes = 0;
  }
  if (in->size < offsetof(fsc_options, access) + sizeof in->access)
    o->access = FSC_ACCESS_RANDOM; /* an older caller */
  if (o->access < FSC_ACCESS_RANDOM || o->access > FSC_ACCESS_SEQUENTIAL)
    return fsc__err(FSC_EINVAL, "invalid access %d: FSC_ACCESS_RANDOM, "
                    "FSC_ACCESS_NORMAL or FSC_ACCESS_SEQUENTIAL", o->access);
  if (in->size < offsetof(fsc_options, expected_items) +
                     sizeof in->expected_items)
    o->expected_items = 0; /* an older caller */
  if (o->expected_items > FSC__EXPECTED_MAX)
    return fsc__err(FSC_EINVAL, "expected_items %llu is more than the "
                    "2^38 keys a table can be created for",
                    (unsigned long long)o->expected_items);
  if (o->cache_type < FSC_CACHE_NONE || o->cache_type > FSC_CACHE_FIFO)
    return fsc__err(FSC_EINVAL, "invalid cache_type %d", o->cache_type);
  if (o->cache_admission < FSC_CACHE_ADMIT_DEFAULT ||
      o->cache_admission > FSC_CACHE_ADMIT_OFF)
    return fsc__err(FSC_EINVAL, "invalid cache_admission %d",
                    o->cache_admission);
  if (o->cache_type != FSC_CACHE_NONE && !o->cache_max_items &&
      !o->cache_max_bytes)
    return fsc__err(FSC_EINVAL, "a cache policy needs cache_max_items or "
                    "cache_max_bytes (or both)");
  if (o->cache_type == FSC_CACHE_NONE &&
      (o->cache_max_items || o->cache_max_bytes))
    return fsc__err(FSC_EINVAL, "cache_max_items and cache_max_bytes need "
                    "a cache_type");
  if (o->lock_timeout_ms < FSC_LOCK_WAIT_FOREVER)
    return fsc__err(FSC_EINVAL, "invalid lock_timeout_ms %lld: milliseconds, "
                    "or FSC_LOCK_WAIT_FOREVER (-1)",
                    (long long)o->lock_timeout_ms);
  if (!(o->compaction_threshold >= 0 && o->compaction_threshold <= 1))
    return fsc__err(FSC_EINVAL, "compaction_threshold %g is not a ratio "
                    "between 0 and 1", o->compaction_threshold);
  if (o->key_type != FSC_TYPE_UNSPEC && o->key_type != FSC_TYPE_STRING &&
      o->key_type != FSC_TYPE_BYTES)
    return fsc__err(FSC_EINVAL, "invalid key type %d: dict keys are string "
                    "or bytes", (int)o->key_type);
  return 0;
}



















static int make_temp_base(char **base) {
  const char *tmp = getenv("TMPDIR");
  if (!tmp || !*tmp)
    tmp = "/tmp";
  char *dir = fsc__concat(tmp, "/fscollection_XXXXXX");
  if (!dir)
    return fsc__err(FSC_ENOMEM, "out of memory");
  if (!mkdtemp(dir)) { /* mode 0700, unpredictable name */
    int e = errno;
    free(dir);
    return fsc__err_errno(e, "creating a temporary directory in", tmp);
  }
  *base = fsc__concat(dir, "/temp");
  free(dir);
  return *base ? 0 : fsc__err(FSC_ENOMEM, "out of memory");
}

static void remove_temp(const char *data_path, const char *index_path,
                        const char *base) {
  unlink(data_path);
  unlink(index_path);
  char *dir = strdup(base);
  if (dir) {
    char *slash = strrchr(dir, '/');
    if (slash) {
      *slash = '\0';
      rmdir(dir);
    }
    free(dir);
  }
}

/* A read-only first opener after an unclean end, the open's exclusive
 * index lock held: one pass of the structure's check, as the recovery of
 * a read-write opener would make.  A read-only handle cannot repair, so
 * the open is refused (FSC_ECORRUPT, naming the first problem) rather
 * than hand out an older list, a stale value, or an iteration that skips
 * what its length counts.  An interrupted structural change, or an
 * append, counts too: only a read-write opener may finish it.  A list
 * element whose record fails is left to the reads (check_reads: that one
 * read is FSC_ECORRUPT, the others go on); a dict or set iteration walks
 * the data file and cannot tell a damaged record from a half-written
 * one, so there a bad record the index names refuses the open too, and
 * so does a COUNT other than the keys (the length would be wrong).  The
 * byte counters are not judged here: a killed writer leaves them off, and
 * that hides no element. */
static int check_unclean_rdonly(struct fsc__gen *c) {
  struct fsc__vpass p = {.c = c, .keyed = c->kind != FSC__KIND_LIST,
                         .locked = true, .solo = true};
  fsc__advise_walk(c, true);
  c->ops->vscan(&p); /* (through the kind table: file/verify.h) */
  fsc__advise_walk(c, false);
  uint64_t n = p.dangling + p.structure + p.counters;
  if (p.keyed)
    n += p.bad_bounds + p.bad_type + p.bad_sum;
  /* A list element in the slot after the length: an append its writer
   * left half-done (recovery counts it) or a damaged length (recovery
   * adopts what it hid).  Reads here would not see it. */
  if (p.pending && !n++)
    snprintf(p.first, sizeof p.first, "the list slot after the length "
             "holds an element the length does not count");
  /* A dict's or set's COUNT that is not the keys its table holds (a
   * writer killed between its slot CAS and its count, or damage):
   * recovery recounts; the length here would be wrong. */
  if (p.keyed && p.count_word != p.keys && !n++)
    snprintf(p.first, sizeof p.first, "the count says %llu keys, but the "
             "table holds %llu", (unsigned long long)p.count_word,
             (unsigned long long)p.keys);
  int rc = 0;
  if (n)
    rc = fsc__err(FSC_ECORRUPT, "the collection was not closed cleanly and "
                  "does not verify (%llu problem%s; the first: %s); a "
                  "read-only handle cannot repair it: open it read-write, or "
                  "run fsc verify --repair", (unsigned long long)n,
                  n == 1 ? "" : "s", p.first);
  else
    fsc__err_clear();
  free(p.marks);
  return rc;
}

FSC__OPEN_PATH
int fsc__gen_open(struct fsc__gen *c, struct fsc__handle *h,
                  enum fsc__kind kind,
                   const char *base_path, const fsc_options *in) {
  return fsc__gen_open_suffix(c, h, kind, base_path, NULL, in);
}



FSC__OPEN_PATH
int fsc__gen_open_suffix(struct fsc__gen *c, struct fsc__handle *h,
                         enum fsc__kind kind,
                          const char *base_path, const char *suffix,
                          const fsc_options *in) {
  fsc_options o;
  int rc = read_options(in, &o);
  if (rc)
    return rc;
  if (kind == 0) {
    /* Any kind: what the files hold.  Nothing to create. */
    if (!base_path)
      return fsc__err(FSC_EINVAL, "a temporary collection needs a kind");
    o.flags &= ~(unsigned)(FSC_CREATE | FSC_EXCL);
  }
  memset(c, 0, sizeof *c);
  c->h = h;
  c->ops = kind ? h->kinds[kind] : NULL; /* kind 0: once the files say */
  c->opts = o;
  c->threshold = o.compaction_threshold;
  c->auto_compact = o.auto_compact;
  c->kind = kind;
  c->data.fd = c->index.fd = c->pfd = -1;
  c->rdonly = (o.flags & FSC_RDONLY) != 0;
  c->durability = o.durability;
  c->owner = getpid();
  pthread_mutex_init(&c->mu, NULL);
  char *base = NULL;
  bool fresh = false;
  if (!base_path) {
    if (c->rdonly)
      return fsc__err(FSC_EINVAL, "a temporary collection cannot be "
                                  "read-only");
    c->temp = true;
    o.flags = FSC_CREATE | FSC_EXCL;
    o.mode = 0600;
    if ((rc = make_temp_base(&base)) != 0)
      return rc;
  } else {
    if (!*base_path)
      return fsc__err(FSC_EINVAL, "empty base path");
    /* (fsc__concat, not strdup: in a new process each first call into
     * another stretch of the C library's code is a page fault.) */
    base = fsc__concat(base_path, "");
    if (!base)
      return fsc__err(FSC_ENOMEM, "out of memory");
  }
  c->path = base;
  c->data_path = fsc__concat(base, suffix ? ".data.fscollection.compact"
                                     : ".data.fscollection");
  c->index_path = fsc__concat(base, suffix ? ".index.fscollection.compact"
                                      : ".index.fscollection");
  if (!c->data_path || !c->index_path)
    return fsc__err(FSC_ENOMEM, "out of memory");

  c->index.prot = c->data.prot = PROT_READ | (c->rdonly ? 0 : PROT_WRITE);
  c->index.access = c->data.access = o.access;
  int64_t tmo = o.lock_timeout_ms;
  if ((rc = fsc__gen_files_open(c, &o, suffix, &fresh)) != 0)
    goto fail;
  if (c->unlocked) {
    /* Read-only, the marker found, the presence lock held, no structure
     * lock taken (open_ro.c): what a trusted opener below does. */
    c->last_close_clean = true;
    c->rep[FSC__REP_AT_CLOSE] =
        ck_pr_load_64(&fsc__ihdr(c)->rep[FSC__REP_AT_CLOSE]);
    return 0;
  }
  /* The presence lock lives on a description of its own, never mapped:
   * closing it must release the lock (see fsc__gen_close).  (An existing
   * collection's was opened beside its data file: gen_files.c.) */
  if (c->pfd < 0) {
    c->pfd = fsc__lock_reopen(c->data.fd, NULL, c->data_path, O_RDONLY);
    if (c->pfd < 0) {
      rc = fsc__err_errno(errno, "reopening", c->data_path);
      goto fail_locked;
    }
  }
  uint8_t marker = 0;
  bool clean = fresh ||
               (fsc__marker_read(c->index.fd, c->isize, &marker,
                                 &c->index_cached) == 0 &&
                marker == FSC__CLEAN_MARKER);
  /* First opener?  (Nobody else holds the presence lock.)  A read-only
   * opener that found the marker need not ask: no writer has the
   * collection open (each clears the marker at open, under the structure
   * lock we hold), so first or not it trusts the files and reports the
   * session the marker closed, as a first one does (one flock less). */
  bool trusted = c->rdonly && clean;
  bool first = !trusted && flock(c->pfd, LOCK_EX | LOCK_NB) == 0;
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  if (first && !c->rdonly) {
    ck_pr_store_64(&ih->last_close_clean, clean ? 1 : 0);
    uint64_t icap0 = ck_pr_load_64(&ih->icap);
    if (!clean)
      fsc__advise_walk(c, true); /* the check walks both files */
    rc = c->ops->recover(c, !clean);
    if (!clean)
      fsc__advise_walk(c, false);
    if (rc)
      goto fail_locked;
    if (ck_pr_load_64(&ih->icap) != icap0)
      c->isize = 0; /* recovery grew the index: where is its end now? */
    /* A compaction that died (its process killed) may have left its
     * files beside the collection: it was a writer, so the session
     * ended without the marker, or its last closer removed them (gen
     * close).  No compaction runs now: we hold the structure lock. */
    if (!clean && !suffix && !c->temp)
      fsc__switch_unlink_leftovers(c->data_path, c->index_path);
    c->repaired = ck_pr_load_64(&ih->repaired);
    for (int k = 0; k < FSC__REP_N; k++)
      c->rep[k] = ck_pr_load_64(&ih->rep[k]);
    /* What the previous session's last close repaired is told once. */
    ck_pr_store_64(&ih->rep[FSC__REP_AT_CLOSE], 0);
    /* A new session: no writer handle is open but ours (counted below). */
    ck_pr_store_64(&ih->writers, 0);
  }
  c->last_close_clean = ck_pr_load_64(&ih->last_close_clean) != 0;
  if ((first || trusted) && c->rdonly) {
    c->last_close_clean = clean;
    /* Unverified, and we may not repair: every record read through this
     * handle has its checksum checked (fsc__rec_locate). */
    c->check_reads = !clean;
    /* ... and what a read-write opener's recovery would check first: the
     * structure and every record it names. */
    if (!clean && (rc = check_unclean_rdonly(c)) != 0)
      goto fail_locked;
    c->rep[FSC__REP_AT_CLOSE] = ck_pr_load_64(&ih->rep[FSC__REP_AT_CLOSE]);
  }
  if (!c->rdonly) {
    if (marker == FSC__CLEAN_MARKER &&
        write_marker(c->index.fd, c->isize, 0) != 0) {
      rc = fsc__err_errno(errno, "clearing the clean-close marker of",
                          c->index_path);
      goto fail_locked;
    }
    ck_pr_add_64(&ih->opens, 1);
    ck_pr_add_64(&ih->writers, 1); /* (fsc__gen_close takes it back) */
  }
  if ((rc = fsc__flock_timed(c->pfd, LOCK_SH, tmo, c->data_path)) != 0)
    goto fail_locked;
  fsc__flock_unlock(c->index.fd);
  if (c->temp) {
    /* Unlink at once: nothing is left behind, even after SIGKILL. */
    remove_temp(c->data_path, c->index_path, base);
    free(c->path);
    c->path = NULL;
  }
  return 0;

fail_locked:
  if (fresh && c->temp)
    remove_temp(c->data_path, c->index_path, base);
  else if (fresh) /* leave nothing behind (we hold the index lock) */
    fsc__gen_files_unmake(c);
fail:
  fsc__gen_release(c);
  return rc;
}

int fsc__gen_check_fail(const struct fsc__gen *c, bool write) {
  if (!c)
    return fsc__err(FSC_EINVAL, "NULL handle");
  if (fsc__gen_closed(c))
    return fsc__err(FSC_ECLOSED, "I/O operation on closed file.");
  if (write && c->rdonly)
    return fsc__err(FSC_EROFS, "the collection was opened read-only");
  return 0;
}

int fsc__gen_sync(struct fsc__gen *c) {
  int rc = fsc__file_sync(&c->data, !c->rdonly);
  return rc ? rc : fsc__file_sync(&c->index, !c->rdonly);
}


void fsc__gen_release(struct fsc__gen *c) {
  fsc__file_unmap(&c->data);
  fsc__file_unmap(&c->index);
  if (c->pfd >= 0)
    close(c->pfd);
  if (c->data.fd >= 0)
    close(c->data.fd);
  if (c->index.fd >= 0)
    close(c->index.fd);
  c->data.fd = c->index.fd = c->pfd = -1;
  free(c->path);
  free(c->data_path);
  free(c->index_path);
  c->path = c->data_path = c->index_path = NULL;
  __atomic_store_n(&c->closed, true, __ATOMIC_RELEASE); /* other threads'
                                                        calls read it */
}

int fsc__gen_close(struct fsc__gen *c, bool destroy) {
  int rc = fsc__gen_check(c, false);
  if (rc)
    return rc;
  pthread_mutex_lock(&c->mu);
  bool inherited = c->owner != getpid();
  if (inherited && (rc = fsc__lock_refork(c)) != 0) {
    pthread_mutex_unlock(&c->mu);
    return rc;
  }
  /* The last-closer test below converts our presence lock to exclusive.
   * If this process forked since it opened, a child may still use the
   * list through the same open file descriptions (it re-opens its own
   * only at its first structural change or close): converting their
   * shared lock would succeed, call us "last" while the child writes on,
   * and leave an exclusive lock held by the child's copy, on which every
   * later opener and the child's own re-open would block forever.  So the
   * test runs on a presence description of our own (if that fails, on the
   * old one, as before). */
  if (!c->temp && !inherited && fsc__lock_presence_refork(c) != 0)
    fsc__err_clear();
  /* A lock that does not come within lock_timeout_ms: the handle is
   * released all the same, without the marker (the next opener then
   * checks the collection), and the close returns FSC_ETIMEDOUT. */
  int lrc = c->temp ? 1
                    : fsc__flock_timed(c->index.fd, LOCK_EX,
                                       c->opts.lock_timeout_ms,
                                       c->index_path);
  if (lrc < 0)
    rc = lrc;
  if (lrc == 0) {
    /* A generation compacted away is not the collection any more: its
     * marker and counters mean nothing. */
    bool moved = ck_pr_load_64(&fsc__ihdr(c)->cstate) != 0;
    bool last = !moved && flock(c->pfd, LOCK_EX | LOCK_NB) == 0;
    uint64_t others = 0;
    if (!c->rdonly && !moved)
      others = ck_pr_faa_64(&fsc__ihdr(c)->writers, UINT64_MAX) - 1;
    bool vouch = true; /* the files are fit for the marker */
    if (last && !c->rdonly) {
      /* No other process writes now.  If writers opened it that never
       * closed (`writers` still counts them), one died: it may have left
       * a structural change half-done, a pending append, counters off.
       * Run the recovery an unclean open would, so that the marker we
       * write vouches for the files (fsc_metrics.repaired_at_close tells
       * the next opener what it did). */
      if (others != 0) {
        int rrc = c->ops->recover(c, true);
        struct fsc__index_hdr *ih = fsc__ihdr(c);
        if (rrc != 0) {
          /* Not repaired: no marker, so the next opener repairs. */
          fsc__err_clear();
          vouch = false;
        } else {
          ck_pr_store_64(&ih->rep[FSC__REP_AT_CLOSE],
                         ck_pr_load_64(&ih->repaired));
        }
        ck_pr_store_64(&ih->writers, 0);
        /* The writer that died may have been compacting (gen open). */
        if (!c->temp)
          fsc__switch_unlink_leftovers(c->data_path, c->index_path);
      } else if (c->ops->recount && c->ops->recount(c) != 0) {
        /* Make COUNT exact again if a writer was killed between its slot
         * CAS and its count update. */
        fsc__err_clear();
      }
      /* Counters unsealed this session get checksums that cover their
       * values again (ctr_seal.c): what the marker vouches for. */
      if (vouch)
        fsc__ctr_seal_session(c);
      if (vouch && !destroy)
        trim_tails(c);
      if (c->durability != FSC_DURABLE_NONE)
        rc = fsc__gen_sync(c);
      if (vouch && write_marker(c->index.fd, 0, FSC__CLEAN_MARKER) != 0 &&
          rc == 0)
        rc = fsc__err_errno(errno, "writing the clean-close marker of",
                            c->index_path);
      if (c->durability != FSC_DURABLE_NONE)
        fdatasync(c->index.fd);
    }
    if (destroy) {
      unlink(c->data_path);
      unlink(c->index_path);
    }
    fsc__flock_unlock(c->index.fd);
  }
  pthread_mutex_unlock(&c->mu);
  fsc__file_unmap(&c->data);
  fsc__file_unmap(&c->index);
  close(c->pfd);
  close(c->data.fd);
  close(c->index.fd);
  c->data.fd = c->index.fd = c->pfd = -1;
  pthread_mutex_destroy(&c->mu);
  __atomic_store_n(&c->closed, true, __ATOMIC_RELEASE); /* other threads'
                                                        calls read it */
  return rc;
}

void fsc__gen_note_repairs(struct fsc__gen *c, const uint64_t *rep) {
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  uint64_t sum = 0;
  for (int k = 0; k < FSC__REP_AT_CLOSE; k++) {
    ck_pr_store_64(&ih->rep[k], rep[k]);
    sum += rep[k];
  }
  ck_pr_store_64(&ih->repaired, sum);
}

int fsc__gen_metrics(struct fsc__gen *c, fsc_metrics *out) {
  size_t sz = out->size;
  if (sz == 0 || sz > sizeof *out)
    sz = sizeof *out;
  fsc_metrics m;
  memset(&m, 0, sizeof m);
  m.size = sz;
  struct fsc__data_hdr *d = fsc__dhdr(c);
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  m.live_bytes = ck_pr_load_64(&d->live_bytes);
  m.dead_bytes = ck_pr_load_64(&d->dead_bytes);
  uint64_t tot = m.live_bytes + m.dead_bytes;
  m.fragmentation_ratio = tot ? (double)m.dead_bytes / (double)tot : 0.0;
  struct stat st;
  int src = fsc__file_stat(&c->data, &st);
  if (src == FSC__EMOVED)
    return src; /* retired meanwhile: FSC__GEN asks the new generation */
  if (src == 0)
    m.data_file_bytes = (uint64_t)st.st_size;
  src = fsc__file_stat(&c->index, &st);
  if (src == FSC__EMOVED)
    return src;
  if (src == 0)
    m.index_file_bytes = (uint64_t)st.st_size;
  m.total_disk_usage_bytes = m.data_file_bytes + m.index_file_bytes;
  uint64_t tail = ck_pr_load_64(&d->tail);
  uint64_t unused_data = m.data_file_bytes > tail ? m.data_file_bytes - tail
                                                  : 0;
  m.wasted_bytes = m.dead_bytes + unused_data;
  m.last_close_clean = c->last_close_clean;
  m.open_processes = c->temp ? 1 : fsc__lock_count_holders(c);
  m.generation = ck_pr_load_64(&d->h.generation);
  m.repaired_items = c->repaired;
  m.repaired_dropped = c->rep[FSC__REP_DROPPED];
  m.repaired_restored = c->rep[FSC__REP_RESTORED];
  m.repaired_rebuilt = c->rep[FSC__REP_REBUILT];
  m.repaired_counters = c->rep[FSC__REP_COUNTERS];
  m.repaired_at_close = c->rep[FSC__REP_AT_CLOSE];
  uint64_t w = ck_pr_load_64(&ih->lenword);
  m.length = fsc__lw_count(ih);
  m.structural_epoch = FSC__LW_EPOCH(w);
  memcpy(out, &m, sz);
  return 0;
}
