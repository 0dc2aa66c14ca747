/*
 * compact.c - owns compaction: copying a collection's live records into
 * new files and moving every process to them (the generation switch), the
 * recovery of a compaction whose process died, and the threshold that
 * runs it automatically.
 *
 * Protocol (doc/CONCURRENCY.md, "Compaction"), for base path P:
 *  1. Take the structure lock on P's index (the old generation) and
 *     freeze the collection: the length/table word and every slot, so no
 *     lock-free writer can change it (they wait; readers read on).
 *  2. Create P.data.fscollection.compact and P.index.fscollection.compact
 *     (left-overs of a dead compaction are unlinked first) with the owner,
 *     group and mode of P's files (FSC_EACCES if this user cannot give
 *     them that owner: a group member must not take a shared collection
 *     over, nor narrow its mode to its umask), copy the live
 *     records in order, build the index, give both headers the old
 *     file_id and generation + 1; sync them if durability asks.
 *  3. cstate := MOVING | gen+1 in the old index.  rename the new data file
 *     over P's (the commit point), then the new index over P's.
 *  4. Move this handle to the new files, cstate := MOVED | gen+1, unlock.
 * The old files stay frozen for good.  A process that meets them frozen
 * with MOVED set opens the files now at P and retries (FSC__EMOVED,
 * handle.c); its old mappings stay valid until its handle closes.
 *
 * A process killed anywhere leaves the old or the new collection whole:
 * before the data rename P's files are the old ones (the next lock holder
 * sees MOVING, finds the old data file at P, deletes the new files,
 * clears cstate; the frozen word is then repaired as any dead change's);
 * after it, the new data file is at P and the new index is complete, at
 * P or still beside it (the next lock holder renames it into place).
 * Either way nothing acknowledged is lost: writes wait while the
 * collection is frozen, and every write that landed before the freeze is
 * in the copy.
 *
 * Heap use is bounded: records are copied one at a time from the mapping,
 * in place of a list of offsets (the list's array is read slot by slot;
 * the dict and set are walked in insertion order through the data file).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define AUTO_MIN_DEAD (UINT64_C(1) << 20) /* automatic: at least 1 MiB */







/* Should an automatic compaction run now? */
static bool over_threshold(struct fsc__gen *c) {
  struct fsc__data_hdr *d = fsc__dhdr(c);
  uint64_t dead = ck_pr_load_64(&d->dead_bytes);
  uint64_t live = ck_pr_load_64(&d->live_bytes);
  if (dead < AUTO_MIN_DEAD)
    return false;
  return (double)dead >= c->threshold * (double)(dead + live);
}

void fsc__compact_maybe(struct fsc__gen *c) {
  if (!c->rdonly && c->h && over_threshold(c)) {
    int rc = fsc__compact(c, true);
    (void)rc; /* the write succeeded; a compaction that did not is
                 retried by the next write over the threshold */
    fsc__err_clear();
  }
}


/* Give new file nfd (named npath) the owner, group and permission bits
 * of old file ofd, so that a compaction by another member of a shared
 * collection's group neither takes the files over nor narrows their
 * mode to its umask.  Mode first: after a chown we may no longer chmod. */
static int keep_owner(int ofd, int nfd, const char *opath,
                      const char *npath) {
  struct stat os, ns;
  if (fstat(ofd, &os) != 0)
    return fsc__err_errno(errno, "fstat", opath);
  if (fstat(nfd, &ns) != 0)
    return fsc__err_errno(errno, "fstat", npath);
  if ((ns.st_mode & 0777) != (os.st_mode & 0777) &&
      fchmod(nfd, os.st_mode & 0777) != 0)
    return fsc__err_errno(errno, "setting the mode of", npath);
  if (ns.st_uid == os.st_uid && ns.st_gid == os.st_gid)
    return 0;
  if (fchown(nfd, ns.st_uid == os.st_uid ? (uid_t)-1 : os.st_uid,
             ns.st_gid == os.st_gid ? (gid_t)-1 : os.st_gid) != 0) {
    if (errno == EPERM)
      return fsc__err(FSC_EACCES, "cannot compact %s: it is owned by uid "
                      "%u (group %u), and the new files this user (uid %u) "
                      "makes could not be given that owner; the owner or "
                      "root must compact it", opath, (unsigned)os.st_uid,
                      (unsigned)os.st_gid, (unsigned)geteuid());
    return fsc__err_errno(errno, "setting the owner of", npath);
  }
  return 0;
}

/* Open the next generation's files beside c's (*opened: nc must be
 * dropped), with the owner, group and mode of c's. */
static int open_next(struct fsc__gen *c, struct fsc__gen *nc,
                     bool *opened) {
  fsc_options o = c->opts;
  o.flags = FSC_CREATE | FSC_EXCL;
  o.type = c->type;
  o.key_type = c->kind == FSC__KIND_DICT ? c->key_type : FSC_TYPE_UNSPEC;
  o.durability = FSC_DURABLE_NONE; /* synced below, before the renames */
  o.compaction_threshold = 0;
  o.auto_compact = false;
  o.expected_items = 0; /* a creation hint: the copy grows the table */
  struct stat st;
  if (fstat(c->data.fd, &st) == 0)
    o.mode = st.st_mode & 0777;
  int rc;
  if (c->temp) {
    rc = fsc__gen_open(nc, c->h, c->kind, NULL, &o);
    *opened = rc == 0;
    return rc;
  }
  /* Left by a compaction that died: we hold the lock. */
  fsc__switch_unlink_leftovers(c->data_path, c->index_path);
  rc = fsc__gen_open_suffix(nc, c->h, c->kind, c->path, ".compact", &o);
  *opened = rc == 0;
  if (rc == 0 &&
      (rc = keep_owner(c->data.fd, nc->data.fd, c->data_path,
                       nc->data_path)) == 0)
    rc = keep_owner(c->index.fd, nc->index.fd, c->index_path,
                    nc->index_path);
  return rc;
}

/* Give up on nc (not yet in place). */
static void drop_next(struct fsc__gen *nc, bool opened) {
  if (opened) {
    if (!nc->temp) {
      unlink(nc->data_path);
      unlink(nc->index_path);
    }
    /* Not fsc__gen_close: it would clear the caller's error message. */
    pthread_mutex_destroy(&nc->mu);
    fsc__gen_release(nc);
  }
  free(nc);
}

int fsc__compact(struct fsc__gen *c, bool automatic) {
  if (c->rdonly)
    return fsc__err(FSC_EROFS, "the collection was opened read-only");
  int rc = fsc__lock(c);
  if (rc)
    return rc;
  if (automatic && !over_threshold(c)) {
    fsc__unlock(c); /* another writer compacted it meanwhile */
    return 0;
  }
  if (c->temp && fsc__lock_count_holders(c) > 1) {
    fsc__unlock(c);
    return fsc__err(FSC_EAGAIN, "a temporary collection shared with other "
                                "processes cannot be compacted");
  }
  void *frozen = NULL;
  if ((rc = c->ops->freeze(c, &frozen)) != 0) {
    fsc__unlock(c);
    return rc;
  }
  struct fsc__gen *nc = calloc(1, sizeof *nc);
  bool opened = false;
  if (!nc) {
    rc = fsc__err(FSC_ENOMEM, "out of memory");
    goto abort;
  }
  if ((rc = open_next(c, nc, &opened)) != 0)
    goto abort;
  fsc__advise_walk(c, true); /* read in file order: read ahead */
  rc = c->ops->copy(c, frozen, nc);
  fsc__advise_walk(c, false);
  if (rc)
    goto abort;
  struct fsc__data_hdr *od = fsc__dhdr(c), *nd = fsc__dhdr(nc);
  struct fsc__index_hdr *oi = fsc__ihdr(c), *ni = fsc__ihdr(nc);
  uint64_t gen = od->h.generation + 1;
  nd->h.file_id = ni->h.file_id = od->h.file_id;
  nd->h.generation = ni->h.generation = gen;
  ck_pr_store_64(&ni->opens, ck_pr_load_64(&oi->opens));
  /* The change count goes on from the old one (a compaction counts as a
   * change), so an epoch seen before it is never seen again after it;
   * no waiter has the new files yet (bit 0 clear). */
  ck_pr_store_64(&nd->events,
                 (ck_pr_load_64(&od->events) + 2) & ~UINT64_C(1));
  nc->durability = c->durability;
  nc->opts = c->opts;
  nc->threshold = c->threshold;
  nc->auto_compact = c->auto_compact;
  if (c->durability != FSC_DURABLE_NONE && (rc = fsc__gen_sync(nc)) != 0)
    goto abort;
  if (!c->temp) {
    ck_pr_fence_store(); /* the new files are complete before MOVING */
    ck_pr_store_64(&oi->cstate, FSC__CS_MOVING | gen);
    if (rename(nc->data_path, c->data_path) != 0) {
      rc = fsc__err_errno(errno, "renaming", nc->data_path);
      ck_pr_store_64(&oi->cstate, 0);
      goto abort;
    }
    /* Committed: from here on the new collection is the collection. */
    if (rename(nc->index_path, c->index_path) != 0) {
      /* Left MOVING: the next lock holder renames it (resolve). */
      rc = fsc__err_errno(errno, "renaming", nc->index_path);
      c->ops->done(frozen); /* stays frozen: resolve finishes the move */
      fsc__unlock(c);
      pthread_mutex_destroy(&nc->mu); /* keeps its files */
      fsc__gen_release(nc);
      free(nc);
      return rc;
    }
    if (c->durability != FSC_DURABLE_NONE)
      fsc__switch_fsync_dir(c->data_path);
    char *p = strdup(c->path), *dp = strdup(c->data_path),
         *ip = strdup(c->index_path);
    if (p && dp && ip) {
      free(nc->path);
      free(nc->data_path);
      free(nc->index_path);
      nc->path = p;
      nc->data_path = dp;
      nc->index_path = ip;
    } else {
      free(p);
      free(dp);
      free(ip);
    }
  }
  /* Threads of this process move at once; others, and other processes,
   * when they meet MOVED. */
  fsc__handle_install(c->h, c, nc);
  ck_pr_fence_store();
  ck_pr_store_64(&oi->cstate, FSC__CS_MOVED | gen);
  /* Waiters on the old files wake, meet MOVED and follow. */
  fsc__ec_bump(c);
  c->ops->done(frozen);
  fsc__unlock(c);
  /* c's descriptors could not close while we held its lock. */
  fsc__handle_sweep(c->h);
  return 0;

abort:
  c->ops->thaw(c, frozen);
  fsc__unlock(c);
  if (nc)
    drop_next(nc, opened);
  return rc;
}

int fsc__compact_after_write(struct fsc__gen *c) {
  int rc = c->durability == FSC_DURABLE_ALWAYS ? fsc__gen_sync(c) : 0;
  /* Retired meanwhile: the compaction copied this write and synced the
   * new files (it does when durability is not none).  Not FSC__EMOVED,
   * which would make FSC__GEN run the write a second time. */
  if (rc == FSC__EMOVED)
    rc = 0;
  if (rc == 0 && c->threshold > 0)
    fsc__compact_maybe(c);
  return rc;
}
