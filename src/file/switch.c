/*
 * switch.c - owns the generation switch's state on disk: the compaction
 * state word (cstate) of the old index, and what the next lock holder or
 * opener does when it finds a switch that a dead process left half-done
 * (MOVING): finish it if the new data file is in place (the commit
 * point), else undo it; and the new files a dead compaction left beside a
 * collection.  compact.c runs the switch; lock.c and gen_files.c meet its
 * state; this file calls neither.
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

static char *with_suffix(const char *path) {
  size_t n = strlen(path);
  char *s = malloc(n + sizeof ".compact");
  if (s) {
    memcpy(s, path, n);
    memcpy(s + n, ".compact", sizeof ".compact");
  }
  return s;
}

/* Read a file header (data or index) by path; false if unreadable or
 * not a regular file (O_NONBLOCK: a FIFO planted there must not hang). */
static bool read_fhdr(const char *path, struct fsc__fhdr *h) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0)
    return false;
  struct stat st;
  bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            pread(fd, h, sizeof *h, 0) == (ssize_t)sizeof *h;
  close(fd);
  return ok;
}

/* Store cstate in the index header through a mapping of its own (an
 * atomic store, as the words' other users expect). */
static int store_cstate(int ifd, uint64_t v) {
  void *p = mmap(NULL, FSC__HDR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
                 ifd, 0);
  if (p == MAP_FAILED)
    return fsc__err_errno(errno, "mmap", NULL);
  ck_pr_fence_store();
  ck_pr_store_64(&((struct fsc__index_hdr *)p)->cstate, v);
  munmap(p, FSC__HDR_SIZE);
  return 0;
}

void fsc__switch_fsync_dir(const char *path) {
  char *dir = strdup(path);
  if (!dir)
    return;
  char *slash = strrchr(dir, '/');
  const char *d = ".";
  if (slash) {
    *slash = '\0';
    d = slash == dir ? "/" : dir;
  }
  int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  free(dir);
}

int fsc__switch_resolve_fd(int ifd, bool rdonly, const char *data_path,
                            const char *index_path) {
  struct fsc__index_hdr ih;
  if (pread(ifd, &ih, sizeof ih, 0) != (ssize_t)sizeof ih)
    return fsc__err_errno(errno, "reading", index_path);
  uint64_t cs = le64toh(ih.cstate);
  if (!(cs & FSC__CS_MOVING))
    return (cs & FSC__CS_MOVED) ? FSC__EMOVED : 0;
  uint64_t to = FSC__CS_GEN(cs);
  char *tdata = with_suffix(data_path), *tindex = with_suffix(index_path);
  int rc = 0;
  if (!tdata || !tindex) {
    rc = fsc__err(FSC_ENOMEM, "out of memory");
    goto out;
  }
  struct fsc__fhdr dh, th;
  if (!read_fhdr(data_path, &dh)) {
    rc = fsc__err(FSC_ECORRUPT, "%s is missing or unreadable after an "
                  "interrupted compaction", data_path);
    goto out;
  }
  if (dh.file_id == ih.h.file_id && dh.generation == to) {
    /* The new data file is in place: finish. */
    if (read_fhdr(tindex, &th) && th.file_id == ih.h.file_id &&
        th.generation == to) {
      if (rdonly) {
        rc = fsc__err(FSC_EAGAIN, "a compaction of %s was interrupted; "
                      "open it read-write to finish it", data_path);
        goto out;
      }
      if (rename(tindex, index_path) != 0) {
        rc = fsc__err_errno(errno, "renaming", tindex);
        goto out;
      }
    }
    if (!rdonly && (rc = store_cstate(ifd, FSC__CS_MOVED | to)) != 0)
      goto out;
    rc = FSC__EMOVED;
  } else if (dh.file_id == ih.h.file_id &&
             dh.generation == ih.h.generation) {
    /* It died before its commit point: undo.  The frozen word left
     * behind is repaired as any dead change's. */
    if (rdonly) {
      rc = fsc__err(FSC_EAGAIN, "a compaction of %s was interrupted; "
                    "open it read-write to undo it", data_path);
      goto out;
    }
    unlink(tdata);
    unlink(tindex);
    rc = store_cstate(ifd, 0);
  } else {
    rc = fsc__err(FSC_ECORRUPT, "%s does not belong to %s after an "
                  "interrupted compaction", data_path, index_path);
  }
out:
  free(tdata);
  free(tindex);
  return rc;
}

int fsc__switch_resolve(struct fsc__gen *c) {
  if (c->temp) { /* a temporary collection moves within one process */
    ck_pr_store_64(&fsc__ihdr(c)->cstate, 0);
    return 0;
  }
  return fsc__switch_resolve_fd(c->index.fd, c->rdonly, c->data_path,
                                 c->index_path);
}

void fsc__switch_unlink_leftovers(const char *data_path,
                                   const char *index_path) {
  char *td = with_suffix(data_path), *ti = with_suffix(index_path);
  if (td && ti) {
    unlink(td);
    unlink(ti);
  }
  free(td);
  free(ti);
}
