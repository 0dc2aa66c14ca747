/*
 * gen_files.c - owns what an open finds or makes at a collection's two
 * paths, before they are a generation: opening the files safely (never
 * through a symlink, never blocking on a FIFO, regular files only, the
 * ownership and mode policy below), creating a new collection atomically
 * (built under no name and linked into place), checking and mapping the
 * headers of an existing one, and meeting a compaction in progress or
 * finished (switch.c) on the way.  gen.c runs the clean-close protocol on
 * what this hands it.
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

FSC__OPEN_PATH
char *fsc__concat(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  char *s = malloc(la + lb + 1);
  if (s) {
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
  }
  return s;
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

static const char *kind_name(int k) {
  return k == FSC__KIND_LIST ? "list"
         : k == FSC__KIND_DICT ? "dict"
         : k == FSC__KIND_SET  ? "set"
                               : "unknown";
}

static void fhdr_init(struct fsc__fhdr *h, const char *magic,
                      const struct fsc__gen *c, uint64_t id) {
  /* A new data file writes compact records and its tables have 8-byte
   * slots (format.h; c->s8, c->cw, new_data_version): older builds refuse its
   * version. */
  h->version = memcmp(magic, FSC__DATA_MAGIC, 8) != 0 ? FSC__FORMAT_VERSION
               : c->cw ? FSC__DATA_VERSION_CLOSEWORD
               : c->s8 ? FSC__DATA_VERSION_SLOT8
                       : FSC__DATA_VERSION_COMPACT;
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

/* The version of a new data file: the newest, unless the environment has
 * FSC_TEST_DATA_VERSION=2 or =3, the test hook that creates files as
 * earlier builds did (version 2: tables with hash words; version 3: dict
 * counters without a close word), so that the tests run against each
 * format.  (Read at creation only.) */
static unsigned new_data_version(void) {
  const char *e = getenv("FSC_TEST_DATA_VERSION");
  if (e && strcmp(e, "2") == 0)
    return FSC__DATA_VERSION_COMPACT;
  if (e && strcmp(e, "3") == 0)
    return FSC__DATA_VERSION_SLOT8;
  return FSC__DATA_VERSION_NEWEST;
}

/* Initialise both files of a new collection (structure lock held). */
static int init_files(struct fsc__gen *c) {
  int rc;
  /* A dict or set created for expected_items keys: its data file's first
   * allocation (the table is the kind's init's). */
  uint64_t dinit = DATA_INITIAL;
  if (c->kind != FSC__KIND_LIST && c->opts.expected_items >
                                       DATA_INITIAL / FSC__EXPECTED_BYTES)
    dinit = (c->opts.expected_items * FSC__EXPECTED_BYTES + 4095) &
            ~UINT64_C(4095);
  if ((rc = fsc__file_grow(&c->data, dinit, c->data_path)) != 0 ||
      (rc = fsc__file_grow(&c->index, INDEX_INITIAL, c->index_path)) != 0)
    return rc;
  if ((rc = fsc__file_map(&c->data, dinit)) != 0)
    return rc;
  if ((rc = fsc__file_map(&c->index, INDEX_INITIAL)) != 0)
    return rc;
  c->isize = INDEX_INITIAL;
  c->data.capword = &fsc__dhdr(c)->cap;
  c->index.capword = &fsc__ihdr(c)->icap;
  uint64_t id;
  if (getrandom(&id, sizeof id, 0) != sizeof id)
    id = (uint64_t)getpid() * 0x9E3779B97F4A7C15u ^ (uint64_t)time(NULL);
  struct fsc__data_hdr *d = fsc__dhdr(c);
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  d->tail = FSC__HDR_SIZE;
  d->cap = dinit;
  ih->icap = INDEX_INITIAL;
  ih->itail = FSC__HDR_SIZE;
  ih->last_close_clean = 1;
  /* The version fhdr_init writes, known before the kind's init lays out
   * its table (of the version's slot format). */
  unsigned v = new_data_version();
  c->crec = true;
  c->s8 = v >= FSC__DATA_VERSION_SLOT8;
  c->cw = v >= FSC__DATA_VERSION_CLOSEWORD;
  rc = c->ops->init(c);
  if (rc)
    return rc;
  fhdr_init(&d->h, FSC__DATA_MAGIC, c, id);
  fhdr_init(&ih->h, FSC__INDEX_MAGIC, c, id);
  /* (Version 3: the growth lock too, grow.c.) */
  c->zgrow = c->s8;
  return 0;
}

static int magic_is(const char *m, const char *magic, const char *path);

FSC__OPEN_PATH
static int check_fhdr(struct fsc__gen *c, const struct fsc__fhdr *h,
                      const char *magic, const char *path) {
  if (memcmp(h->magic, magic, 8) != 0)
    return fsc__err(FSC_ECORRUPT, "%s is not an fscollections file (bad "
                                  "magic)", path);
  /* A data file: version 1 (full records only), 2 (compact records too),
   * 3 (8-byte hash slots and growth under the growth lock too) or 4
   * (close words on dict counters too, format.h); an index file: version
   * 1. */
  bool data = memcmp(magic, FSC__DATA_MAGIC, 8) == 0;
  if (h->version != FSC__FORMAT_VERSION &&
      !(data && h->version >= FSC__DATA_VERSION_COMPACT &&
        h->version <= FSC__DATA_VERSION_NEWEST))
    return fsc__err(FSC_EVERSION, "%s has format version %u; this library "
                                  "reads version %u%s", path, h->version,
                    FSC__FORMAT_VERSION, data ? " to 4" : "");
  if (data) {
    c->crec = h->version >= FSC__DATA_VERSION_COMPACT;
    c->s8 = h->version >= FSC__DATA_VERSION_SLOT8;
    c->zgrow = h->version >= FSC__DATA_VERSION_ZEROED;
    c->cw = h->version >= FSC__DATA_VERSION_CLOSEWORD;
  }
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
FSC__OPEN_PATH
static int load_files(struct fsc__gen *c, uint64_t dsize, uint64_t isize,
                      fsc_type want, fsc_type want_key) {
  int rc;
  if (dsize < FSC__HDR_SIZE)
    return fsc__err(FSC_ECORRUPT, "%s is not a collection file: %llu "
                    "bytes, shorter than a header (%u)", c->data_path,
                    (unsigned long long)dsize, FSC__HDR_SIZE);
  if (isize < FSC__HDR_SIZE + FSC__TRAILER)
    return fsc__err(FSC_ECORRUPT, "collection %s is truncated", c->path);
  /* Both files mapped whole at once (the sizes are what is there now,
   * so every byte is backed): the first get needs no other mmap.  Only
   * the headers are trusted as far as the sizes; fsc__ptr's bound is
   * lowered to the published capacities once they are checked.  (The
   * index was mapped, isize long, when its lock was taken.) */
  if ((rc = fsc__file_map(&c->data, dsize)) != 0 ||
      (!c->index.cur && (rc = fsc__file_map(&c->index, isize)) != 0))
    return rc;
  c->data.capword = &fsc__dhdr(c)->cap;
  c->index.capword = &fsc__ihdr(c)->icap;
  struct fsc__data_hdr *d = fsc__dhdr(c);
  struct fsc__index_hdr *ih = fsc__ihdr(c);
  /* Magic first: a foreign file is "not a collection", whatever its other
   * bytes say (the index's was read before its lock). */
  if ((rc = magic_is(d->h.magic, FSC__DATA_MAGIC, c->data_path)) != 0)
    return rc;
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
  /* (Records, tables and arrays are 8-aligned: so are both tails.) */
  if (dcap > dsize || dcap < FSC__HDR_SIZE || tail < FSC__HDR_SIZE ||
      tail > dcap || (tail & 7u))
    return fsc__err(FSC_ECORRUPT, "%s: data header counters are "
                                  "inconsistent (tail %llu, capacity %llu, "
                                  "size %llu)", c->data_path,
                    (unsigned long long)tail, (unsigned long long)dcap,
                    (unsigned long long)dsize);
  if (icap > isize || icap < FSC__HDR_SIZE + FSC__TRAILER ||
      ih->itail > icap - FSC__TRAILER || ih->itail < FSC__HDR_SIZE ||
      (ih->itail & 7u))
    return fsc__err(FSC_ECORRUPT, "%s: index header counters are "
                                  "inconsistent", c->index_path);
  /* fsc__ptr reaches what is published and mapped, no further. */
  if (c->data.safe > dcap)
    ck_pr_store_64(&c->data.safe, dcap);
  if (c->index.safe > icap)
    ck_pr_store_64(&c->index.safe, icap);
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
    /* The cache policy and bounds are the file's (doc/FORMAT.md, "The
     * cache block"): NONE adopts them (kept in opts for compaction),
     * anything else must match. */
    const struct fsc__cache_hdr *ch = fsc__chdr(c);
    if (ch->policy > FSC_CACHE_FIFO ||
        (ch->policy && !ch->max_items && !ch->max_bytes) ||
        (!ch->policy && (ch->max_items || ch->max_bytes)))
      return fsc__err(FSC_ECORRUPT, "%s: bad cache block (policy %llu, "
                      "max_items %llu, max_bytes %llu)", c->index_path,
                      (unsigned long long)ch->policy,
                      (unsigned long long)ch->max_items,
                      (unsigned long long)ch->max_bytes);
    if (c->opts.cache_type != FSC_CACHE_NONE &&
        ((uint64_t)c->opts.cache_type != ch->policy ||
         c->opts.cache_max_items != ch->max_items ||
         c->opts.cache_max_bytes != ch->max_bytes))
      return fsc__err(FSC_EINVAL, "%s is a dict with cache policy %llu "
                      "(max_items %llu, max_bytes %llu): open it with that "
                      "policy and those bounds, or with FSC_CACHE_NONE",
                      c->path, (unsigned long long)ch->policy,
                      (unsigned long long)ch->max_items,
                      (unsigned long long)ch->max_bytes);
    c->opts.cache_type = (int)ch->policy;
    c->opts.cache_max_items = ch->max_items;
    c->opts.cache_max_bytes = ch->max_bytes;
    /* and its admission filter (the file's, whatever was asked): a
     * compaction's next generation gets the same */
    if (ch->policy)
      c->opts.cache_admission =
          ch->sk_off ? FSC_CACHE_ADMIT_ON : FSC_CACHE_ADMIT_OFF;
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
FSC__OPEN_PATH
static int check_auto_compact(const struct fsc__gen *c) {
  if (c->auto_compact &&
      (c->kind != FSC__KIND_LIST || fsc__type_fixed_size(c->type) == 0))
    return fsc__err(FSC_EINVAL, "auto_compact needs a list of a fixed-size "
                    "type (int32, int64, int128, bool, float), not a %s of "
                    "%s", kind_name(c->kind), fsc_type_name(c->type));
  return 0;
}

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
FSC__OPEN_PATH
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

/* m: a file's first 8 bytes (read, or mapped). */
FSC__OPEN_PATH
static int magic_is(const char *m, const char *magic, const char *path) {
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
    char *t = fsc__concat(path, suf);
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

/* Does path still name the file open as fd?  (*st: fd's fstat.) */
static bool names_fd_st(const char *path, int fd, struct stat *st) {
  struct stat a;
  return lstat(path, &a) == 0 && fstat(fd, st) == 0 &&
         a.st_ino == st->st_ino && a.st_dev == st->st_dev;
}

/* Does path still name the file whose fstat is *st?  Then *st becomes
 * path's lstat: the same file as it is now. */
static bool names_st(const char *path, struct stat *st) {
  struct stat a;
  if (lstat(path, &a) != 0 || a.st_ino != st->st_ino ||
      a.st_dev != st->st_dev)
    return false;
  *st = a;
  return true;
}

static bool names_fd(const char *path, int fd) {
  struct stat b;
  return names_fd_st(path, fd, &b);
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

/* The data file of the index open as c->index.fd (whose fstat is *is):
 * opened and checked (*ds, its fstat), and the presence lock's own
 * description of it (gen.c) opened beside it, where the fstat is at hand.
 * Nothing is locked or mapped here. */
FSC__OPEN_PATH
static int open_data(struct fsc__gen *c, const struct stat *is,
                     struct stat *ds) {
  int rc;
  c->data.fd = open_existing(c->data_path, c->rdonly);
  if (c->data.fd < 0)
    return errno == ENOENT
               ? fsc__err(FSC_ECORRUPT, "%s exists but %s does not",
                          c->index_path, c->data_path)
               : open_failed(errno, c->data_path);
  if ((rc = check_file(c->data.fd, c->data_path, ds)) != 0)
    return rc;
  if (ds->st_uid != is->st_uid)
    return fsc__err(FSC_EACCES, "%s and %s are owned by different users "
                    "(uid %u and %u): one of them was replaced, so neither "
                    "is used", c->data_path, c->index_path,
                    (unsigned)ds->st_uid, (unsigned)is->st_uid);
  c->pfd = fsc__lock_reopen(c->data.fd, ds, c->data_path, O_RDONLY);
  if (c->pfd < 0)
    return fsc__err_errno(errno, "reopening", c->data_path);
  return 0;
}

/* A read-only open without the structure lock (open_ro.c has the steps,
 * doc/CONCURRENCY.md why they are sound), the index open and mapped (*is:
 * its fstat): 0, open as the locked open leaves it; 1, c as it was: take
 * the locked open, which decides (and reports any error) itself. */
FSC__OPEN_PATH
static int open_unlocked(struct fsc__gen *c, const fsc_options *o,
                         const struct stat *is) {
  uint64_t isize = (uint64_t)is->st_size;
  struct fsc__open_ro r;
  if (fsc__open_ro_begin(c, isize, &r) != 0)
    return 1;
  struct stat ds;
  if (open_data(c, is, &ds) != 0 || fsc__open_ro_lock(c, &r) != 0)
    goto undo;
  c->isize = isize;
  if (load_files(c, (uint64_t)ds.st_size, isize, o->type, o->key_type) !=
          0 ||
      check_auto_compact(c) != 0 ||
      fsc__dhdr(c)->h.generation != fsc__ihdr(c)->h.generation)
    goto undo;
  c->index_cached = r.cached;
  return 0;
undo:
  fsc__open_ro_undo(c, &r);
  return 1;
}

FSC__OPEN_PATH
int fsc__gen_files_open(struct fsc__gen *c, const fsc_options *o,
                        const char *suffix, bool *fresh) {
  int rc;
  int64_t tmo = o->lock_timeout_ms;
  *fresh = false;
  struct stat moved_st = {0}; /* the index we found MOVED, if any */
  struct stat ds, is;
  for (int tries = 0;; tries++) {
    if (tries == 1000) {
      rc = fsc__err(FSC_EAGAIN, "%s keeps being compacted, created or "
                    "removed while we open it", c->path);
      return rc;
    }
    c->index.fd = open_existing(c->index_path, c->rdonly);
    if (c->index.fd < 0) {
      if (errno != ENOENT) {
        rc = open_failed(errno, c->index_path);
        return rc;
      }
      if (!(o->flags & FSC_CREATE)) {
        rc = fsc__err(FSC_ENOENT, "collection %s does not exist", c->path);
        return rc;
      }
      rc = create_files(c, o);
      if (rc == OPEN_RETRY)
        continue;
      if (rc)
        return rc;
      *fresh = true;
      break;
    }
    if ((rc = check_file(c->index.fd, c->index_path, &is)) != 0)
      return rc;
    if (is.st_size == 0) {
      /* No collection yet, only an empty file: replaced by a new
       * collection if we may (see above), never adopted.  But an empty
       * index beside a data file that is not empty is damage: records
       * exist only once both headers were complete. */
      if ((rc = empty_index_data(c->data_path, c->index_path)) != 0)
        return rc;
      if (!(o->flags & FSC_CREATE)) {
        rc = fsc__err(FSC_ENOENT, "collection %s does not exist (%s is "
                      "empty)", c->path, c->index_path);
        return rc;
      }
      if ((rc = check_empty_reusable(&is, c->index_path)) != 0 ||
          (rc = fsc__flock_timed(c->index.fd, LOCK_EX, tmo,
                                 c->index_path)) != 0)
        return rc;
      if (names_fd(c->index_path, c->index.fd) &&
          unlink(c->index_path) != 0 && errno != ENOENT) {
        rc = fsc__err_errno(errno, "removing the empty", c->index_path);
        return rc;
      }
      close(c->index.fd); /* drops the lock */
      c->index.fd = -1;
      continue;
    }
    /* Magic first: a foreign file is "not a collection", whatever its
     * other bytes say.  It is read through the mapping the open keeps
     * (load_files reads the rest of the header there): the file mapped as
     * long as it is now, and again once the lock is ours if its holder
     * changed its size meanwhile. */
    if (is.st_size < (off_t)FSC__HDR_SIZE)
      return fsc__err(FSC_ECORRUPT, "%s is not a collection file: %lld "
                      "bytes, shorter than a header (%u)", c->index_path,
                      (long long)is.st_size, FSC__HDR_SIZE);
    uint64_t mapped = (uint64_t)is.st_size;
    if ((rc = fsc__file_map(&c->index, mapped)) != 0 ||
        (rc = magic_is(fsc__ihdr(c)->h.magic, FSC__INDEX_MAGIC,
                       c->index_path)) != 0)
      return rc;
    /* A read-only open of a collection closed cleanly takes no lock
     * (open_ro.c); else, or if anything there is not as it must be, the
     * locked open below. */
    if (c->rdonly && !suffix && tries == 0 &&
        open_unlocked(c, o, &is) == 0) {
      c->unlocked = true;
      return 0;
    }
    if ((rc = fsc__flock_timed(c->index.fd, LOCK_EX, tmo, c->index_path)) !=
        0)
      return rc;
    /* Removed or replaced while we waited (destroyed, or an empty file
     * replaced by a creation): open what the path names now.  (`is` is
     * then the index as the lock holder sees it: only a holder grows it.
     * `is` already names the file open as fd: one lstat tells.) */
    if (!names_st(c->index_path, &is)) {
      fsc__file_unmap(&c->index);
      close(c->index.fd);
      c->index.fd = -1;
      continue;
    }
    if ((uint64_t)is.st_size < FSC__HDR_SIZE + FSC__TRAILER)
      return fsc__err(FSC_ECORRUPT, "collection %s is truncated", c->path);
    if ((uint64_t)is.st_size != mapped) {
      fsc__file_unmap(&c->index);
      if ((rc = fsc__file_map(&c->index, (uint64_t)is.st_size)) != 0)
        return rc;
    }
    /* A compaction may have moved the collection to new files since we
     * opened this index (MOVED: open the new ones), or died while moving
     * it (MOVING: we hold the lock, so it is not running; finish or undo
     * it).  See switch.c.  (Read through the mapping, the lock held.) */
    uint64_t cs = le64toh(ck_pr_load_64(&fsc__ihdr(c)->cstate));
    if ((rc = check_cstate(c->index.fd, cs, c->index_path, &moved_st)) != 0)
      ;
    else if (cs & FSC__CS_MOVING)
      rc = fsc__switch_resolve_fd(c->index.fd, c->rdonly, c->data_path,
                                   c->index_path);
    else
      rc = (cs & FSC__CS_MOVED) ? FSC__EMOVED : 0;
    /* (Files a dead compaction left beside the collection are removed
     * by the first read-write opener after it, gen.c: not at every open.) */
    if (rc == 0)
      break;
    fsc__file_unmap(&c->index);
    close(c->index.fd); /* drops the lock */
    c->index.fd = -1;
    if (rc != FSC__EMOVED)
      return rc;
  }
  if (!*fresh) {
    if (o->flags & FSC_EXCL) {
      rc = fsc__err(FSC_EINVAL, "collection %s already exists", c->path);
      return rc;
    }
    if ((rc = open_data(c, &is, &ds)) != 0)
      return rc;
    c->isize = (uint64_t)is.st_size;
    rc = load_files(c, (uint64_t)ds.st_size, c->isize, o->type,
                    o->key_type);
    if (rc == 0)
      rc = check_auto_compact(c);
    if (rc)
      return rc;
  }
  return 0;
}

void fsc__gen_files_unmake(struct fsc__gen *c) {
  if (c->data.fd >= 0 && names_fd(c->data_path, c->data.fd))
    unlink(c->data_path);
  if (c->index.fd >= 0 && names_fd(c->index_path, c->index.fd))
    unlink(c->index_path);
}
