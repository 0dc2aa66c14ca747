/*
 * coll.c - owns a collection's life: creating and validating the two files,
 * opening, the clean-close protocol, closing, destroying, metrics and sync.
 *
 * Clean-close protocol (DESIGN.md section 4):
 *  open:  take the structure lock (it also serialises creation); try the
 *         presence lock exclusively without blocking: success means no other
 *         process has the collection open, so this is the first opener.  The
 *         first opener reads the clean-close marker (the index file's final
 *         byte); if it is missing the previous session died and the
 *         collection is verified and repaired.  Every writer clears the
 *         marker, then takes the presence lock shared and drops the
 *         structure lock.
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
 *  its handle checks each record's checksum on read (check_reads).
 * Both steps run under the structure lock, so the non-atomic flock
 * conversions in between cannot be observed by another opener.
 */
#include "internal.h"

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

#define DATA_INITIAL (UINT64_C(256) << 10)
#define INDEX_INITIAL (UINT64_C(16) << 10)

static const char *kind_name(int k) {
  return k == FSC__KIND_LIST ? "list"
         : k == FSC__KIND_DICT ? "dict"
         : k == FSC__KIND_SET  ? "set"
                               : "unknown";
}

static char *concat(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char *s = malloc(la + lb + 1);
  if (s) {
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
  }
  return s;
}

static int flock_retry(int fd, int op) {
  while (flock(fd, op) != 0)
    if (errno != EINTR)
      return -1;
  return 0;
}

static int read_marker(int fd, uint8_t *b) {
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < 1)
    return -1;
  return pread(fd, b, 1, st.st_size - 1) == 1 ? 0 : -1;
}

static int write_marker(int fd, uint8_t b) {
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size < 1)
    return -1;
  return pwrite(fd, &b, 1, st.st_size - 1) == 1 ? 0 : -1;
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
  if (o->flags & ~(FSC_CREATE | FSC_RDONLY | FSC_EXCL))
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

static void fhdr_init(struct fsc__fhdr *h, const char *magic,
                      const struct fsc__gen *c, uint64_t id) {
  h->version = FSC__FORMAT_VERSION;
  h->kind = (uint8_t)c->kind;
  h->elem_type = (uint8_t)c->type;
  h->key_type = (uint8_t)(c->kind == FSC__KIND_DICT ? c->key_type : 0);
  h->hdr_size = FSC__HDR_SIZE;
  h->file_id = id;
  h->generation = 1;
  /* The magic is written last: a file without it is uninitialised. */
  ck_pr_fence_store();
  memcpy(h->magic, magic, 8);
}

/* Initialise both files of a new collection (structure lock held). */
static int init_files(struct fsc__gen *c) {
  int rc;
  if ((rc = fsc__file_grow(&c->data, DATA_INITIAL, c->data_path)) != 0 ||
      (rc = fsc__file_grow(&c->index, INDEX_INITIAL, c->index_path)) != 0)
    return rc;
  if ((rc = fsc__file_map(&c->data, DATA_INITIAL)) != 0)
    return rc;
  if ((rc = fsc__file_map(&c->index, INDEX_INITIAL)) != 0)
    return rc;
  c->data.capword = &fsc__dhdr(c)->cap;
  c->index.capword = &fsc__ihdr(c)->icap;
  uint64_t id;
  if (getrandom(&id, sizeof id, 0) != sizeof id)
    id = (uint64_t)getpid() * 0x9E3779B97F4A7C15u ^ (uint64_t)time(NULL);
  struct fsc__data_hdr *d = fsc__dhdr(c);
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  d->tail = FSC__HDR_SIZE;
  d->cap = DATA_INITIAL;
  ih->icap = INDEX_INITIAL;
  ih->itail = FSC__HDR_SIZE;
  ih->last_close_clean = 1;
  rc = c->ops->init(c);
  if (rc)
    return rc;
  fhdr_init(&d->h, FSC__DATA_MAGIC, c, id);
  fhdr_init(&ih->h, FSC__INDEX_MAGIC, c, id);
  return 0;
}

static int check_fhdr(struct fsc__gen *c, const struct fsc__fhdr *h,
                      const char *magic, const char *path) {
  if (memcmp(h->magic, magic, 8) != 0)
    return fsc__err(FSC_ECORRUPT, "%s is not an fscollections file (bad "
                                  "magic)", path);
  if (h->version != FSC__FORMAT_VERSION)
    return fsc__err(FSC_EVERSION, "%s has format version %u; this library "
                                  "reads version %u", path, h->version,
                    FSC__FORMAT_VERSION);
  if (h->hdr_size != FSC__HDR_SIZE)
    return fsc__err(FSC_ECORRUPT, "%s: bad header size %u", path,
                    h->hdr_size);
  if (h->kind < FSC__KIND_LIST || h->kind > FSC__KIND_SET)
    return fsc__err(FSC_ECORRUPT, "%s: bad collection kind %u", path,
                    h->kind);
  if (c->kind == 0) { /* fsc_open with FSC_KIND_ANY: the files say */
    c->kind = (enum fsc__kind)h->kind;
    c->ops = c->h->kinds[c->kind];
  }
  if (h->kind != c->kind)
    return fsc__err(FSC_EKIND, "%s holds a %s, not a %s", path,
                    kind_name(h->kind), kind_name(c->kind));
  if (!fsc__gen_type_valid(h->elem_type))
    return fsc__err(FSC_ECORRUPT, "%s: bad element type %u", path,
                    h->elem_type);
  return 0;
}

/* Map and validate an existing collection (structure lock held). */
static int load_files(struct fsc__gen *c, uint64_t dsize, uint64_t isize,
                      fsc_type want, fsc_type want_key) {
  int rc;
  if (dsize < FSC__HDR_SIZE || isize < FSC__HDR_SIZE + FSC__TRAILER)
    return fsc__err(FSC_ECORRUPT, "collection %s is truncated", c->path);
  if ((rc = fsc__file_map(&c->data, FSC__HDR_SIZE)) != 0 ||
      (rc = fsc__file_map(&c->index, FSC__HDR_SIZE)) != 0)
    return rc;
  c->data.capword = &fsc__dhdr(c)->cap;
  c->index.capword = &fsc__ihdr(c)->icap;
  struct fsc__data_hdr *d = fsc__dhdr(c);
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  if ((rc = check_fhdr(c, &d->h, FSC__DATA_MAGIC, c->data_path)) != 0 ||
      (rc = check_fhdr(c, &ih->h, FSC__INDEX_MAGIC, c->index_path)) != 0)
    return rc;
  if (d->h.file_id != ih->h.file_id || d->h.elem_type != ih->h.elem_type ||
      d->h.key_type != ih->h.key_type)
    return fsc__err(FSC_ECORRUPT, "%s and %s belong to different "
                                  "collections", c->data_path, c->index_path);
  /* Appenders in other processes reserve and grow the data file without
   * the structure lock, so the size seen before we read its header may be
   * stale.  Read in the order the writers publish: tail (<= cap at all
   * times), then cap (published after fallocate), then the file size. */
  uint64_t tail = ck_pr_load_64(&d->tail);
  ck_pr_fence_load();
  uint64_t dcap = ck_pr_load_64(&d->cap), icap = ck_pr_load_64(&ih->icap);
  ck_pr_fence_load();
  struct stat dst;
  if (dcap > dsize && fstat(c->data.fd, &dst) == 0)
    dsize = (uint64_t)dst.st_size;
  if (dcap > dsize || dcap < FSC__HDR_SIZE || tail < FSC__HDR_SIZE ||
      tail > dcap)
    return fsc__err(FSC_ECORRUPT, "%s: data header counters are "
                                  "inconsistent (tail %llu, capacity %llu, "
                                  "size %llu)", c->data_path,
                    (unsigned long long)tail, (unsigned long long)dcap,
                    (unsigned long long)dsize);
  if (icap > isize || icap < FSC__HDR_SIZE + FSC__TRAILER ||
      ih->itail > icap - FSC__TRAILER || ih->itail < FSC__HDR_SIZE)
    return fsc__err(FSC_ECORRUPT, "%s: index header counters are "
                                  "inconsistent", c->index_path);
  fsc_type ftype = (fsc_type)d->h.elem_type;
  if (want != FSC_TYPE_UNSPEC && want != ftype)
    return fsc__err(FSC_ETYPE, "%s holds %s values, not %s", c->path,
                    fsc_type_name(ftype), fsc_type_name(want));
  c->type = ftype;
  if (c->kind == FSC__KIND_DICT) {
    fsc_type kt = (fsc_type)d->h.key_type;
    if (kt != FSC_TYPE_STRING && kt != FSC_TYPE_BYTES)
      return fsc__err(FSC_ECORRUPT, "%s: bad key type %u", c->data_path,
                      d->h.key_type);
    if (want_key != FSC_TYPE_UNSPEC && want_key != kt)
      return fsc__err(FSC_ETYPE, "%s has %s keys, not %s", c->path,
                      fsc_type_name(kt), fsc_type_name(want_key));
    c->key_type = kt;
  }
  return 0;
}

/* A collection file that would not open: a symbolic link planted in its
 * place (O_NOFOLLOW gives ELOOP) is named as such. */
static int open_failed(int e, const char *path) {
  if (e == ELOOP)
    return fsc__err(FSC_EINVAL, "%s is a symbolic link: collection files "
                    "are never opened through one", path);
  return fsc__err_errno(e, "opening", path);
}

/* auto_compact (swap and pop) needs records of one fixed size. */
static int check_auto_compact(const struct fsc__gen *c) {
  if (c->auto_compact &&
      (c->kind != FSC__KIND_LIST || fsc__type_fixed_size(c->type) == 0))
    return fsc__err(FSC_EINVAL, "auto_compact needs a list of a fixed-size "
                    "type (int32, int64, int128, bool, float), not a %s of "
                    "%s", kind_name(c->kind), fsc_type_name(c->type));
  return 0;
}

/*
 * Files found at a collection's paths (doc/DURABILITY.md, "What a hostile
 * or careless user can and cannot do").  The policy, kept here:
 *  - a collection file is opened with O_NOFOLLOW (never through a
 *    symlink) and O_NONBLOCK (a FIFO must not hang the open), and must be
 *    a regular file (fstat) before it is locked or read;
 *  - a file writable by every user (S_IWOTH) is refused (FSC_EACCES):
 *    anyone could rewrite it under us.  Group write is allowed: a 0660
 *    collection in a group directory is shared by the group's members;
 *  - the two files of a collection have one owner (compaction keeps it),
 *    else FSC_EACCES: someone replaced one of them;
 *  - a file that is not empty is a collection file (magic first, then
 *    the rest of the header) or FSC_ECORRUPT: nothing at the path is ever
 *    re-initialised or deleted by an open;
 *  - an EMPTY file at a path (an interrupted creation of an older
 *    version) is replaced only if the opener owns it and neither group nor
 *    others may write it; else FSC_EACCES, since adopting a file someone
 *    else created would let them read and rewrite what we store in it.
 * A new collection is built in two unnamed files (O_TMPFILE; a random
 * name where unsupported) and linked into place, index first and locked:
 * an opener that finds the index waits for the lock and then finds both
 * files complete; link(2) fails with EEXIST rather than adopt anything.
 */

#define OPEN_RETRY 1 /* create_files: another process won a race; retry */

static int open_existing(const char *path, bool rdonly) {
  return open(path, O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
                        (rdonly ? O_RDONLY : O_RDWR));
}

static const char *file_type_name(mode_t m) {
  return S_ISFIFO(m)  ? "FIFO"
         : S_ISDIR(m) ? "directory"
         : S_ISCHR(m) ? "character device"
         : S_ISBLK(m) ? "block device"
         : S_ISSOCK(m) ? "socket"
                      : "special file";
}

/* fstat fd and check it may be a collection file (see above). */
static int check_file(int fd, const char *path, struct stat *st) {
  if (fstat(fd, st) != 0)
    return fsc__err_errno(errno, "fstat", path);
  if (!S_ISREG(st->st_mode))
    return fsc__err(FSC_EINVAL, "%s is a %s: collection files must be "
                    "regular files", path, file_type_name(st->st_mode));
  if (st->st_mode & S_IWOTH)
    return fsc__err(FSC_EACCES, "%s is writable by every user (mode 0%o): "
                    "anyone could change or corrupt it, so it is not used "
                    "(chmod o-w to use it; group write is allowed)", path,
                    (unsigned)(st->st_mode & 07777));
  return 0;
}

/* May this empty file be replaced by a collection we create? */
static int check_empty_reusable(const struct stat *st, const char *path) {
  if (st->st_uid != geteuid())
    return fsc__err(FSC_EACCES, "%s is an empty file owned by uid %u, "
                    "not by this user: it is not adopted as a collection "
                    "file (its owner could read and rewrite what is stored "
                    "in it); remove it", path, (unsigned)st->st_uid);
  if (st->st_mode & (S_IWGRP | S_IWOTH))
    return fsc__err(FSC_EACCES, "%s is an empty file writable by group or "
                    "others (mode 0%o): it is not adopted as a collection "
                    "file; remove it", path, (unsigned)(st->st_mode & 07777));
  return 0;
}

/* The header's first bytes: a collection file, or "not a collection". */
static int check_magic(int fd, const struct stat *st, const char *magic,
                       const char *path) {
  char m[8];
  if (st->st_size < (off_t)FSC__HDR_SIZE)
    return fsc__err(FSC_ECORRUPT, "%s is not a collection file: %lld "
                    "bytes, shorter than a header (%u)", path,
                    (long long)st->st_size, FSC__HDR_SIZE);
  if (pread(fd, m, 8, 0) != 8)
    return fsc__err_errno(errno, "reading", path);
  if (memcmp(m, magic, 8) == 0)
    return 0;
  if (memcmp(m, "\0\0\0\0\0\0\0\0", 8) == 0)
    return fsc__err(FSC_ECORRUPT, "%s is not a collection file: its header "
                    "is zeroed (damage, or an interrupted creation); it was "
                    "left as it is", path);
  return fsc__err(FSC_ECORRUPT, "%s is not a collection file (bad magic)",
                  path);
}

/* A new unnamed file in path's directory (O_TMPFILE), or one under a
 * random name (*tmp, to unlink) where the file system has no O_TMPFILE. */
static int make_private(const char *path, unsigned mode, char **tmp) {
  *tmp = NULL;
  char *dir = strdup(path);
  if (!dir)
    return fsc__err(FSC_ENOMEM, "out of memory");
  char *slash = strrchr(dir, '/');
  if (slash)
    slash == dir ? (void)(slash[1] = '\0') : (void)(*slash = '\0');
  int fd = open(slash ? dir : ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
  free(dir);
  if (fd >= 0)
    return fd;
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
    return fsc__err_errno(errno, "creating", path);
  for (int i = 0; i < 100; i++) {
    uint64_t r;
    if (getrandom(&r, sizeof r, 0) != sizeof r)
      r = (uint64_t)getpid() * 0x9E3779B97F4A7C15u ^ (uint64_t)time(NULL) ^
          (uint64_t)i;
    char suf[40];
    snprintf(suf, sizeof suf, ".%016llx.new", (unsigned long long)r);
    char *t = concat(path, suf);
    if (!t)
      return fsc__err(FSC_ENOMEM, "out of memory");
    fd = open(t, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd >= 0) {
      *tmp = t;
      return fd;
    }
    int e = errno;
    free(t);
    if (e != EEXIST)
      return fsc__err_errno(e, "creating", path);
  }
  return fsc__err(FSC_EIO, "cannot find a free name beside %s", path);
}

/* Give the private file fd (tmp: its name, or NULL) the name path:
 * 0, or -1 with errno (EEXIST: something is there). */
static int publish(int fd, const char *tmp, const char *path) {
  if (tmp)
    return link(tmp, path);
  char pp[64];
  snprintf(pp, sizeof pp, "/proc/self/fd/%d", fd);
  return linkat(AT_FDCWD, pp, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
}

/* Does path still name the file open as fd? */
static bool names_fd(const char *path, int fd) {
  struct stat a, b;
  return lstat(path, &a) == 0 && fstat(fd, &b) == 0 &&
         a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

/* The data path is taken (EEXIST) while we create: an empty file we may
 * replace is removed (0: link again); anything else is refused. */
static int data_path_taken(const char *data_path, const char *index_path) {
  int fd = open_existing(data_path, true);
  if (fd < 0)
    return errno == ENOENT ? 0 : open_failed(errno, data_path);
  struct stat st;
  int rc = check_file(fd, data_path, &st);
  if (rc == 0 && st.st_size == 0)
    rc = check_empty_reusable(&st, data_path);
  else if (rc == 0)
    rc = fsc__err(FSC_ECORRUPT, "%s exists without its index %s and is "
                  "not empty: it may hold records, so it is left as it is "
                  "(restore the index, or move the data file away)",
                  data_path, index_path);
  close(fd);
  if (rc == 0 && unlink(data_path) != 0 && errno != ENOENT)
    rc = fsc__err_errno(errno, "removing the empty", data_path);
  return rc;
}

/* The index file is empty: 0 if the data file is missing or empty too,
 * else FSC_ECORRUPT (or the data file's own problem). */
static int empty_index_data(const char *data_path, const char *index_path) {
  int fd = open_existing(data_path, true);
  if (fd < 0)
    return errno == ENOENT ? 0 : open_failed(errno, data_path);
  struct stat st;
  int rc = check_file(fd, data_path, &st);
  close(fd);
  if (rc == 0 && st.st_size != 0)
    rc = fsc__err(FSC_ECORRUPT, "%s is empty but %s is not: the collection "
                  "is damaged (nothing was changed)", index_path, data_path);
  return rc;
}

/* Create a new collection at c's paths: build both files privately, lock
 * the index, link it into place, then the data file.  0: c's files are
 * open, mapped and initialised, the index locked; OPEN_RETRY: another
 * process created (or is creating) it first: open that; or an error, and
 * nothing was left at the paths. */
static int create_files(struct fsc__gen *c, const fsc_options *o) {
  char *itmp = NULL, *dtmp = NULL;
  bool linked = false;
  int rc = 0;
  c->type = o->type == FSC_TYPE_UNSPEC ? FSC_TYPE_ANY : o->type;
  c->key_type =
      o->key_type == FSC_TYPE_UNSPEC ? FSC_TYPE_STRING : o->key_type;
  if ((rc = check_auto_compact(c)) != 0)
    return rc;
  if ((c->index.fd = make_private(c->index_path, o->mode, &itmp)) < 0) {
    rc = c->index.fd;
    goto out;
  }
  if ((c->data.fd = make_private(c->data_path, o->mode, &dtmp)) < 0) {
    rc = c->data.fd;
    goto out;
  }
  /* Private: nobody else can hold it.  Held until the open completes. */
  if (flock(c->index.fd, LOCK_EX | LOCK_NB) != 0) {
    rc = fsc__err_errno(errno, "flock", c->index_path);
    goto out;
  }
  if ((rc = init_files(c)) != 0)
    goto out;
  if (publish(c->index.fd, itmp, c->index_path) != 0) {
    rc = errno == EEXIST ? OPEN_RETRY
                         : fsc__err_errno(errno, "creating", c->index_path);
    goto out;
  }
  linked = true;
  for (int i = 0;; i++) {
    if (publish(c->data.fd, dtmp, c->data_path) == 0)
      break;
    rc = errno == EEXIST ? data_path_taken(c->data_path, c->index_path)
                         : fsc__err_errno(errno, "creating", c->data_path);
    if (rc == 0 && i == 10)
      rc = fsc__err(FSC_EAGAIN, "%s keeps appearing while %s is created",
                    c->data_path, c->path);
    if (rc)
      goto out;
  }
  linked = false;
out:
  if (linked && names_fd(c->index_path, c->index.fd))
    unlink(c->index_path); /* leave nothing behind */
  if (itmp)
    unlink(itmp);
  if (dtmp)
    unlink(dtmp);
  free(itmp);
  free(dtmp);
  if (rc) {
    fsc__file_unmap(&c->data);
    fsc__file_unmap(&c->index);
    if (c->index.fd >= 0)
      close(c->index.fd);
    if (c->data.fd >= 0)
      close(c->data.fd);
    c->index.fd = c->data.fd = -1;
  }
  return rc;
}

static int make_temp_base(char **base) {
  const char *tmp = getenv("TMPDIR");
  if (!tmp || !*tmp)
    tmp = "/tmp";
  char *dir = concat(tmp, "/fscollection_XXXXXX");
  if (!dir)
    return fsc__err(FSC_ENOMEM, "out of memory");
  if (!mkdtemp(dir)) { /* mode 0700, unpredictable name */
    int e = errno;
    free(dir);
    return fsc__err_errno(e, "creating a temporary directory in", tmp);
  }
  *base = concat(dir, "/temp");
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

int fsc__gen_open(struct fsc__gen *c, struct fsc__handle *h,
                  enum fsc__kind kind,
                   const char *base_path, const fsc_options *in) {
  return fsc__gen_open_suffix(c, h, kind, base_path, NULL, in);
}

/* Is cstate one a compaction writes: 0, or MOVING or MOVED (not both)
 * with the generation after this file's?  A MOVED index is renamed away
 * from its path before anyone can see MOVED: meeting the same file again
 * at the path (*prev, the inode found MOVED before) is damage too. */
static int check_cstate(int fd, uint64_t cs, const char *path,
                        struct stat *prev) {
  if (cs == 0)
    return 0;
  struct fsc__fhdr h;
  struct stat st;
  bool moving = (cs & FSC__CS_MOVING) != 0, moved = (cs & FSC__CS_MOVED) != 0;
  if (moving == moved ||
      pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h ||
      FSC__CS_GEN(cs) != le64toh(h.generation) + 1 || fstat(fd, &st) != 0)
    return fsc__err(FSC_ECORRUPT, "%s: bad compaction state 0x%llx", path,
                    (unsigned long long)cs);
  if (moved) {
    if (prev->st_ino == st.st_ino && prev->st_dev == st.st_dev)
      return fsc__err(FSC_ECORRUPT, "%s says it was compacted away, but "
                      "is still the collection's index", path);
    *prev = st;
  }
  return 0;
}

/* Read the index header's cstate through the descriptor. */
static uint64_t read_cstate(int fd) {
  uint64_t cs = 0;
  if (pread(fd, &cs, sizeof cs, offsetof(struct fsc__index_hdr, cstate)) !=
      (ssize_t)sizeof cs)
    return 0;
  return le64toh(cs);
}

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
    base = strdup(base_path);
    if (!base)
      return fsc__err(FSC_ENOMEM, "out of memory");
  }
  c->path = base;
  c->data_path = concat(base, suffix ? ".data.fscollection.compact"
                                     : ".data.fscollection");
  c->index_path = concat(base, suffix ? ".index.fscollection.compact"
                                      : ".index.fscollection");
  if (!c->data_path || !c->index_path)
    return fsc__err(FSC_ENOMEM, "out of memory");

  /* Opening: see "Files found at a collection's paths" above. */
  c->index.prot = c->data.prot = PROT_READ | (c->rdonly ? 0 : PROT_WRITE);
  int64_t tmo = o.lock_timeout_ms;
  struct stat moved_st = {0}; /* the index we found MOVED, if any */
  struct stat ds, is;
  for (int tries = 0;; tries++) {
    if (tries == 1000) {
      rc = fsc__err(FSC_EAGAIN, "%s keeps being compacted, created or "
                    "removed while we open it", base);
      goto fail;
    }
    c->index.fd = open_existing(c->index_path, c->rdonly);
    if (c->index.fd < 0) {
      if (errno != ENOENT) {
        rc = open_failed(errno, c->index_path);
        goto fail;
      }
      if (!(o.flags & FSC_CREATE)) {
        rc = fsc__err(FSC_ENOENT, "collection %s does not exist", base);
        goto fail;
      }
      rc = create_files(c, &o);
      if (rc == OPEN_RETRY)
        continue;
      if (rc)
        goto fail;
      fresh = true;
      break;
    }
    if ((rc = check_file(c->index.fd, c->index_path, &is)) != 0)
      goto fail;
    if (is.st_size == 0) {
      /* No collection yet, only an empty file: replaced by a new
       * collection if we may (see above), never adopted.  But an empty
       * index beside a data file that is not empty is damage: records
       * exist only once both headers were complete. */
      if ((rc = empty_index_data(c->data_path, c->index_path)) != 0)
        goto fail;
      if (!(o.flags & FSC_CREATE)) {
        rc = fsc__err(FSC_ENOENT, "collection %s does not exist (%s is "
                      "empty)", base, c->index_path);
        goto fail;
      }
      if ((rc = check_empty_reusable(&is, c->index_path)) != 0 ||
          (rc = fsc__flock_timed(c->index.fd, LOCK_EX, tmo,
                                 c->index_path)) != 0)
        goto fail;
      if (names_fd(c->index_path, c->index.fd) &&
          unlink(c->index_path) != 0 && errno != ENOENT) {
        rc = fsc__err_errno(errno, "removing the empty", c->index_path);
        goto fail;
      }
      close(c->index.fd); /* drops the lock */
      c->index.fd = -1;
      continue;
    }
    /* Magic first: a foreign file is "not a collection", whatever its
     * other bytes say. */
    if ((rc = check_magic(c->index.fd, &is, FSC__INDEX_MAGIC,
                          c->index_path)) != 0)
      goto fail;
    if ((rc = fsc__flock_timed(c->index.fd, LOCK_EX, tmo, c->index_path)) !=
        0)
      goto fail;
    /* Removed or replaced while we waited (destroyed, or an empty file
     * replaced by a creation): open what the path names now. */
    if (!names_fd(c->index_path, c->index.fd)) {
      close(c->index.fd);
      c->index.fd = -1;
      continue;
    }
    /* A compaction may have moved the collection to new files since we
     * opened this index (MOVED: open the new ones), or died while moving
     * it (MOVING: we hold the lock, so it is not running; finish or undo
     * it).  See compact.c. */
    uint64_t cs = read_cstate(c->index.fd);
    if ((rc = check_cstate(c->index.fd, cs, c->index_path, &moved_st)) != 0)
      ;
    else if (cs & FSC__CS_MOVING)
      rc = fsc__compact_resolve_fd(c->index.fd, c->rdonly, c->data_path,
                                   c->index_path);
    else
      rc = (cs & FSC__CS_MOVED) ? FSC__EMOVED : 0;
    if (rc == 0) {
      /* No compaction runs (we hold the lock, and cstate is clear): files
       * one left beside the collection are garbage. */
      if (!suffix && !c->temp && !c->rdonly)
        fsc__compact_unlink_leftovers(c->data_path, c->index_path);
      break;
    }
    close(c->index.fd); /* drops the lock */
    c->index.fd = -1;
    if (rc != FSC__EMOVED)
      goto fail;
  }
  if (!fresh) {
    if (o.flags & FSC_EXCL) {
      rc = fsc__err(FSC_EINVAL, "collection %s already exists", base);
      goto fail_locked;
    }
    c->data.fd = open_existing(c->data_path, c->rdonly);
    if (c->data.fd < 0) {
      rc = errno == ENOENT
               ? fsc__err(FSC_ECORRUPT, "%s exists but %s does not",
                          c->index_path, c->data_path)
               : open_failed(errno, c->data_path);
      goto fail_locked;
    }
    if ((rc = check_file(c->data.fd, c->data_path, &ds)) != 0 ||
        (rc = fstat(c->index.fd, &is) != 0
                  ? fsc__err_errno(errno, "fstat", c->index_path)
                  : 0) != 0)
      goto fail_locked;
    if (ds.st_uid != is.st_uid) {
      rc = fsc__err(FSC_EACCES, "%s and %s are owned by different users "
                    "(uid %u and %u): one of them was replaced, so neither "
                    "is used", c->data_path, c->index_path,
                    (unsigned)ds.st_uid, (unsigned)is.st_uid);
      goto fail_locked;
    }
    if ((rc = check_magic(c->data.fd, &ds, FSC__DATA_MAGIC,
                          c->data_path)) != 0)
      goto fail_locked;
    rc = load_files(c, (uint64_t)ds.st_size, (uint64_t)is.st_size, o.type,
                    o.key_type);
    if (rc == 0)
      rc = check_auto_compact(c);
    if (rc)
      goto fail_locked;
  }
  /* The presence lock lives on a description of its own, never mapped:
   * closing it must release the lock (see fsc__gen_close). */
  {
    char pp[64];
    snprintf(pp, sizeof pp, "/proc/self/fd/%d", c->data.fd);
    c->pfd = open(pp, O_RDONLY | O_CLOEXEC);
    if (c->pfd < 0) {
      rc = fsc__err_errno(errno, "reopening", c->data_path);
      goto fail_locked;
    }
  }
  /* First opener?  (Nobody else holds the presence lock.) */
  bool first = flock(c->pfd, LOCK_EX | LOCK_NB) == 0;
  uint8_t marker = 0;
  bool clean = fresh || (read_marker(c->index.fd, &marker) == 0 &&
                         marker == FSC__CLEAN_MARKER);
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  if (first && !c->rdonly) {
    ck_pr_store_64(&ih->last_close_clean, clean ? 1 : 0);
    rc = c->ops->recover(c, !clean);
    if (rc)
      goto fail_locked;
    c->repaired = ck_pr_load_64(&ih->repaired);
    for (int k = 0; k < FSC__REP_N; k++)
      c->rep[k] = ck_pr_load_64(&ih->rep[k]);
    /* What the previous session's last close repaired is told once. */
    ck_pr_store_64(&ih->rep[FSC__REP_AT_CLOSE], 0);
    /* A new session: no writer handle is open but ours (counted below). */
    ck_pr_store_64(&ih->writers, 0);
  }
  c->last_close_clean = ck_pr_load_64(&ih->last_close_clean) != 0;
  if (first && c->rdonly) {
    c->last_close_clean = clean;
    /* Unverified, and we may not repair: every record read through this
     * handle has its checksum checked (fsc__rec_locate). */
    c->check_reads = !clean;
    c->rep[FSC__REP_AT_CLOSE] = ck_pr_load_64(&ih->rep[FSC__REP_AT_CLOSE]);
  }
  if (!c->rdonly) {
    if (marker == FSC__CLEAN_MARKER && write_marker(c->index.fd, 0) != 0) {
      rc = fsc__err_errno(errno, "clearing the clean-close marker of",
                          c->index_path);
      goto fail_locked;
    }
    ck_pr_add_64(&ih->opens, 1);
    ck_pr_add_64(&ih->writers, 1); /* (fsc__gen_close takes it back) */
  }
  if ((rc = fsc__flock_timed(c->pfd, LOCK_SH, tmo, c->data_path)) != 0)
    goto fail_locked;
  flock_retry(c->index.fd, LOCK_UN);
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
  else if (fresh) { /* leave nothing behind (we hold the index lock) */
    if (c->data.fd >= 0 && names_fd(c->data_path, c->data.fd))
      unlink(c->data_path);
    if (names_fd(c->index_path, c->index.fd))
      unlink(c->index_path);
  }
fail:
  fsc__file_unmap(&c->data);
  fsc__file_unmap(&c->index);
  if (c->pfd >= 0)
    close(c->pfd);
  if (c->data.fd >= 0)
    close(c->data.fd);
  if (c->index.fd >= 0)
    close(c->index.fd);
  c->pfd = -1;
  free(c->path);
  free(c->data_path);
  free(c->index_path);
  c->path = c->data_path = c->index_path = NULL;
  c->closed = true;
  return rc;
}

int fsc__gen_check_fail(const struct fsc__gen *c, bool write) {
  if (!c)
    return fsc__err(FSC_EINVAL, "NULL handle");
  if (c->closed)
    return fsc__err(FSC_ECLOSED, "I/O operation on closed file.");
  if (write && c->rdonly)
    return fsc__err(FSC_EROFS, "the collection was opened read-only");
  return 0;
}

int fsc__gen_sync(struct fsc__gen *c) {
  int rc = fsc__file_sync(&c->data, !c->rdonly);
  return rc ? rc : fsc__file_sync(&c->index, !c->rdonly);
}

int fsc__gen_after_write_slow(struct fsc__gen *c) {
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
  c->closed = true;
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
      } else if (c->ops->recount && c->ops->recount(c) != 0) {
        /* Make COUNT exact again if a writer was killed between its slot
         * CAS and its count update. */
        fsc__err_clear();
      }
      if (c->durability != FSC_DURABLE_NONE)
        rc = fsc__gen_sync(c);
      if (vouch && write_marker(c->index.fd, FSC__CLEAN_MARKER) != 0 &&
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
    flock_retry(c->index.fd, LOCK_UN);
  }
  pthread_mutex_unlock(&c->mu);
  fsc__file_unmap(&c->data);
  fsc__file_unmap(&c->index);
  close(c->pfd);
  close(c->data.fd);
  close(c->index.fd);
  c->data.fd = c->index.fd = c->pfd = -1;
  pthread_mutex_destroy(&c->mu);
  c->closed = true;
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
  m.length = FSC__LW_LEN(w);
  m.structural_epoch = FSC__LW_EPOCH(w);
  memcpy(out, &m, sz);
  return 0;
}
