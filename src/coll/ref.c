/*
 * ref.c - owns nested collections by reference: making the reference URI
 * a parent stores for a child (fsc_ref_make: the path relative to the
 * parent's directory, percent-encoded), resolving a stored reference
 * under the path policy (no way out of the parent's directory unless
 * FSC_REF_ALLOW_OUTSIDE), opening children through a bounded per-parent
 * cache (fsc_ref_open), deleting a child's files (fsc_ref_destroy) and
 * finding dangling references (fsc_ref_check).  The stored form is in
 * doc/FORMAT.md, "References".
 *
 * The per-parent state (struct refs) hangs off the public handle
 * (struct fsc__handle.ext): installed once by compare-and-swap, destroyed
 * by the handle's close (file/handle.c calls it through the destructor at
 * its head, not by name).
 *
 * Invariants kept here:
 *  - every cache entry holds one share of its child handle (shares in
 *    struct fsc__handle): a handle handed to a caller has one more, so
 *    evicting an entry or closing the parent never frees a handle a
 *    caller still holds;
 *  - at most FSC_REF_CACHE_MAX entries, so the descriptors a parent keeps
 *    open for its children are bounded;
 *  - a URI handed out by fsc_ref_make is never freed or moved before the
 *    parent closes (interned, never removed).
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REF_PREFIX "ref://fscollection:"
#define REF_BUCKETS 256u

/* A URI made by fsc_ref_make, kept until the parent closes. */
struct uri {
  struct uri *next;
  size_t len;
  char s[]; /* NUL-terminated */
};

/* An open child: its resolved absolute path, kind and read-only flag are
 * the key. */
struct entry {
  char *path;
  fsc_kind kind;
  bool rdonly;
  fsc_coll *child;
  uint64_t used; /* tick of the last open through the cache */
};

struct refs {
  struct fsc__handle_ext ext; /* first: the handle destroys us by it */
  pthread_mutex_t mu;         /* guards everything below */
  struct entry cache[FSC_REF_CACHE_MAX];
  unsigned n;
  uint64_t tick;
  struct uri *uris[REF_BUCKETS];
};

static void refs_destroy(struct fsc__handle_ext *x) {
  struct refs *r = (struct refs *)x;
  for (unsigned i = 0; i < r->n; i++) {
    fsc_coll_free(r->cache[i].child);
    free(r->cache[i].path);
  }
  for (unsigned b = 0; b < REF_BUCKETS; b++)
    for (struct uri *u = r->uris[b], *next; u; u = next) {
      next = u->next;
      free(u);
    }
  pthread_mutex_destroy(&r->mu);
  free(r);
}

/* The parent's reference state, made on first use (NULL: out of memory,
 * recorded). */
static struct refs *refs_of(fsc_coll *parent) {
  struct fsc__handle *h = FSC__H(parent);
  struct fsc__handle_ext *x = ck_pr_load_ptr(&h->ext);
  if (x)
    return (struct refs *)x;
  struct refs *r = calloc(1, sizeof *r);
  if (!r) {
    fsc__err(FSC_ENOMEM, "out of memory");
    return NULL;
  }
  r->ext.destroy = refs_destroy;
  pthread_mutex_init(&r->mu, NULL);
  /* r is complete before another thread can load it. */
  ck_pr_fence_store();
  if (!ck_pr_cas_ptr_value(&h->ext, NULL, &r->ext, &x)) {
    refs_destroy(&r->ext); /* another thread installed one first */
    return (struct refs *)x;
  }
  return r;
}

/* ------------------------------------------------------------------ */
/* Paths                                                               */
/* ------------------------------------------------------------------ */

/* `path` made absolute against the current directory and normalised
 * lexically ("." and empty components dropped, ".." removes the one
 * before it, never above "/"); symlinks are not followed.  malloc'ed;
 * NULL with the error recorded. */
static char *abs_norm(const char *path) {
  char *cwd = NULL;
  if (path[0] != '/') {
    cwd = getcwd(NULL, 0);
    if (!cwd) {
      fsc__err_errno(errno, "getcwd", ".");
      return NULL;
    }
  }
  size_t n = (cwd ? strlen(cwd) + 1 : 0) + strlen(path) + 2;
  char *in = malloc(n), *out = malloc(n);
  if (!in || !out) {
    free(cwd), free(in), free(out);
    fsc__err(FSC_ENOMEM, "out of memory");
    return NULL;
  }
  snprintf(in, n, "%s%s%s", cwd ? cwd : "", cwd ? "/" : "", path);
  free(cwd);
  size_t o = 0; /* out[0..o) is "/a/b" ("" for the root) */
  for (char *p = in; *p;) {
    while (*p == '/')
      p++;
    char *e = p;
    while (*e && *e != '/')
      e++;
    size_t len = (size_t)(e - p);
    if (len == 0 || (len == 1 && p[0] == '.')) {
      /* nothing */
    } else if (len == 2 && p[0] == '.' && p[1] == '.') {
      while (o > 0 && out[o - 1] != '/')
        o--;
      if (o > 0)
        o--;
    } else {
      out[o++] = '/';
      memcpy(out + o, p, len);
      o += len;
    }
    p = e;
  }
  if (o == 0)
    out[o++] = '/';
  out[o] = '\0';
  free(in);
  return out;
}

/* The absolute directory of a collection's base path (malloc'ed). */
static char *dir_of(const char *base) {
  char *a = abs_norm(base);
  if (!a)
    return NULL;
  char *slash = strrchr(a, '/');
  if (slash == a)
    a[1] = '\0';
  else
    *slash = '\0';
  return a;
}

/* Is `path` `dir` itself or below it?  (Both absolute, normalised.) */
static bool is_under(const char *path, const char *dir) {
  size_t n = strlen(dir);
  if (strcmp(dir, "/") == 0)
    return true;
  return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Does the relative path `rel` climb above its start (".." past the
 * components before it)? */
static bool climbs_out(const char *rel) {
  long depth = 0;
  for (const char *p = rel; *p;) {
    while (*p == '/')
      p++;
    const char *e = p;
    while (*e && *e != '/')
      e++;
    size_t len = (size_t)(e - p);
    if (len == 2 && p[0] == '.' && p[1] == '.') {
      if (--depth < 0)
        return true;
    } else if (len > 0 && !(len == 1 && p[0] == '.')) {
      depth++;
    }
    p = e;
  }
  return false;
}

/* Percent-encoding: every byte but A-Z a-z 0-9 - . _ ~ / becomes %XX. */
static bool unreserved(unsigned char ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
         (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
         ch == '~' || ch == '/';
}

static int hexval(unsigned char ch) {
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F')
    return ch - 'A' + 10;
  return -1;
}

/* ------------------------------------------------------------------ */
/* The URI                                                             */
/* ------------------------------------------------------------------ */

/* Parse a reference value: its kind and its decoded path (malloc'ed). */
static int ref_parse(const fsc_value *v, fsc_kind *kind, char **path) {
  if (!v)
    return fsc__err(FSC_EINVAL, "reference is NULL");
  if (v->type != FSC_TYPE_REF)
    return fsc__err(FSC_ETYPE, "Expected ref, got %s",
                    fsc_type_name(v->type));
  const char *s = v->u.buf.ptr;
  size_t n = v->u.buf.len, lp = sizeof REF_PREFIX - 1;
  if (!s || n <= lp || memcmp(s, REF_PREFIX, lp) != 0)
    return fsc__err(FSC_EVALUE, "not a reference: it does not begin with "
                                "'" REF_PREFIX "'");
  const char *k = s + lp, *end = s + n;
  const char *q = memchr(k, '?', (size_t)(end - k));
  if (!q)
    return fsc__err(FSC_EVALUE, "reference without '?path='");
  *kind = FSC_KIND_ANY;
  for (int i = FSC_KIND_LIST; i <= FSC_KIND_SET; i++) {
    const char *name = fsc_kind_name((fsc_kind)i);
    if ((size_t)(q - k) == strlen(name) && memcmp(k, name, strlen(name)) == 0)
      *kind = (fsc_kind)i;
  }
  if (*kind == FSC_KIND_ANY)
    return fsc__err(FSC_EVALUE, "reference to the unknown kind '%.*s'",
                    (int)(q - k) > 16 ? 16 : (int)(q - k), k);
  /* The query: name=value pairs separated by '&'; path is required, the
   * others are ignored (room for growth). */
  const char *pv = NULL, *pe = NULL;
  for (const char *p = q + 1; p < end;) {
    const char *e = memchr(p, '&', (size_t)(end - p));
    if (!e)
      e = end;
    if (e - p >= 5 && memcmp(p, "path=", 5) == 0 && !pv) {
      pv = p + 5;
      pe = e;
    }
    p = e + 1;
  }
  if (!pv || pv == pe)
    return fsc__err(FSC_EVALUE, "reference without a path");
  char *out = malloc((size_t)(pe - pv) + 1), *o = out;
  if (!out)
    return fsc__err(FSC_ENOMEM, "out of memory");
  for (const char *p = pv; p < pe; p++) {
    unsigned char ch = (unsigned char)*p;
    if (ch == '%') {
      if (pe - p < 3 || hexval((unsigned char)p[1]) < 0 ||
          hexval((unsigned char)p[2]) < 0) {
        free(out);
        return fsc__err(FSC_EVALUE, "reference path with a bad percent "
                                    "escape");
      }
      ch = (unsigned char)(hexval((unsigned char)p[1]) * 16 +
                           hexval((unsigned char)p[2]));
      p += 2;
    }
    if (ch == '\0') {
      free(out);
      return fsc__err(FSC_EVALUE, "reference path with a NUL byte");
    }
    *o++ = (char)ch;
  }
  *o = '\0';
  *path = out;
  return 0;
}

/* The URI for a child of `kind` at `path` (malloc'ed, NUL-terminated). */
static char *uri_build(fsc_kind kind, const char *path, size_t *len) {
  const char *name = fsc_kind_name(kind);
  size_t n = sizeof REF_PREFIX - 1 + strlen(name) + 6 + 3 * strlen(path) + 1;
  char *u = malloc(n);
  if (!u) {
    fsc__err(FSC_ENOMEM, "out of memory");
    return NULL;
  }
  size_t o = (size_t)snprintf(u, n, REF_PREFIX "%s?path=", name);
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
    if (unreserved(*p)) {
      u[o++] = (char)*p;
    } else {
      u[o++] = '%';
      u[o++] = hex[*p >> 4];
      u[o++] = hex[*p & 15];
    }
  }
  u[o] = '\0';
  *len = o;
  return u;
}

/* FNV-1a, for the URI buckets. */
static unsigned hash_str(const char *s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 16777619u;
  return h % REF_BUCKETS;
}

/* The parent's kept copy of URI u (r->mu held); NULL: out of memory. */
static const struct uri *uri_intern(struct refs *r, const char *u, size_t n) {
  unsigned b = hash_str(u, n);
  for (struct uri *x = r->uris[b]; x; x = x->next)
    if (x->len == n && memcmp(x->s, u, n) == 0)
      return x;
  struct uri *x = malloc(sizeof *x + n + 1);
  if (!x) {
    fsc__err(FSC_ENOMEM, "out of memory");
    return NULL;
  }
  x->len = n;
  memcpy(x->s, u, n + 1);
  x->next = r->uris[b];
  r->uris[b] = x;
  return x;
}

int fsc_ref_make(fsc_coll *parent, const fsc_coll *child, fsc_value *out) {
  fsc__err_clear();
  if (!parent || !child || !out)
    return fsc__err(FSC_EINVAL, "fsc_ref_make: %s is NULL",
                    !parent ? "parent" : !child ? "child" : "out");
  int kind = fsc_coll_kind(parent);
  if (kind < 0)
    return kind;
  if ((kind = fsc_coll_kind(child)) < 0)
    return kind;
  const char *cpath = fsc_coll_path(child);
  if (!cpath)
    return fsc__err(FSC_EINVAL, "a temporary collection cannot be stored by "
                                "reference: no path names it");
  const char *ppath = fsc_coll_path(parent);
  char *cabs = abs_norm(cpath), *pdir = NULL;
  if (!cabs)
    return fsc__err_last();
  const char *stored = cabs;
  if (ppath) {
    if (!(pdir = dir_of(ppath))) {
      free(cabs);
      return fsc__err_last();
    }
    if (is_under(cabs, pdir) && strcmp(cabs, pdir) != 0)
      stored = cabs + (strcmp(pdir, "/") == 0 ? 1 : strlen(pdir) + 1);
  }
  size_t n;
  char *u = uri_build((fsc_kind)kind, stored, &n);
  free(cabs);
  free(pdir);
  if (!u)
    return FSC_ENOMEM;
  struct refs *r = refs_of(parent);
  if (!r) {
    free(u);
    return FSC_ENOMEM;
  }
  pthread_mutex_lock(&r->mu);
  const struct uri *x = uri_intern(r, u, n);
  pthread_mutex_unlock(&r->mu);
  free(u);
  if (!x)
    return FSC_ENOMEM;
  memset(out, 0, sizeof *out);
  out->type = FSC_TYPE_REF;
  out->u.buf.ptr = x->s;
  out->u.buf.len = x->len;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Resolving a reference                                               */
/* ------------------------------------------------------------------ */

/* The absolute base path of the child `ref` names, under the path policy
 * (allow: FSC_REF_ALLOW_OUTSIDE).  `check_dir`: also refuse a directory
 * on the way that is a symlink out of the parent's directory (realpath),
 * which needs the child's directory to exist (FSC_ENOENT otherwise). */
static int resolve(fsc_coll *parent, const fsc_value *ref, bool allow,
                   bool check_dir, fsc_kind *kind, char **out) {
  char *path = NULL, *pdir = NULL, *res = NULL;
  int rc = ref_parse(ref, kind, &path);
  if (rc)
    return rc;
  const char *ppath = fsc_coll_path(parent);
  if (ppath && !(pdir = dir_of(ppath))) {
    rc = fsc__err_last();
    goto out;
  }
  if (path[0] == '/' || climbs_out(path)) {
    if (!allow) {
      rc = fsc__err(FSC_EACCES, "the reference to '%s' leads outside the "
                    "parent's directory (FSC_REF_ALLOW_OUTSIDE allows it)",
                    path);
      goto out;
    }
  }
  if (path[0] != '/' && !pdir) {
    rc = fsc__err(FSC_EINVAL, "the relative reference '%s' is in a "
                  "temporary collection, which has no directory", path);
    goto out;
  }
  if (path[0] == '/') {
    res = abs_norm(path);
  } else {
    char *joined = fsc__concat(pdir, "/");
    char *j2 = joined ? fsc__concat(joined, path) : NULL;
    free(joined);
    if (!j2) {
      rc = fsc__err(FSC_ENOMEM, "out of memory");
      goto out;
    }
    res = abs_norm(j2);
    free(j2);
  }
  if (!res) {
    rc = fsc__err_last();
    goto out;
  }
  if (check_dir && !allow) {
    /* The lexical check passed; now the directories as they are. */
    char *cdir = dir_of(res);
    char *rc_dir = cdir ? realpath(cdir, NULL) : NULL;
    int e = errno;
    char *rp_dir = rc_dir ? realpath(pdir, NULL) : NULL;
    if (!cdir) {
      rc = fsc__err_last();
    } else if (!rc_dir) {
      rc = e == ENOENT || e == ENOTDIR
               ? fsc__err(FSC_ENOENT, "the directory of the referenced "
                          "collection %s does not exist", res)
               : fsc__err_errno(e, "realpath", cdir);
    } else if (!rp_dir) {
      rc = fsc__err_errno(errno, "realpath", pdir);
    } else if (!is_under(rc_dir, rp_dir)) {
      rc = fsc__err(FSC_EACCES, "the reference to '%s' leads outside the "
                    "parent's directory through a symlink "
                    "(FSC_REF_ALLOW_OUTSIDE allows it)", path);
    }
    free(cdir), free(rc_dir), free(rp_dir);
    if (rc)
      goto out;
  }
  *out = res;
  res = NULL;
out:
  free(path), free(pdir), free(res);
  return rc;
}

/* The options a child open uses (see fsc_ref_open). */
static int child_opts(fsc_coll *parent, const fsc_options *opts,
                      fsc_options *o) {
  fsc_options def = FSC_OPTIONS_INIT;
  *o = def;
  if (!opts) {
    const fsc_options *po = &fsc__cur(FSC__H(parent))->opts;
    o->flags = po->flags & (FSC_RDONLY | FSC_REF_ALLOW_OUTSIDE);
    o->durability = po->durability;
    o->lock_timeout_ms = po->lock_timeout_ms;
  } else {
    if (opts->size < offsetof(fsc_options, flags) + sizeof opts->flags ||
        opts->size > 4096)
      return fsc__err(FSC_EINVAL, "fsc_options.size is %zu: start from "
                                  "FSC_OPTIONS_INIT", opts->size);
    memcpy(o, opts, opts->size < sizeof *o ? opts->size : sizeof *o);
    o->size = opts->size < sizeof *o ? opts->size : sizeof *o;
  }
  o->flags &= ~(unsigned)(FSC_CREATE | FSC_EXCL);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Opening children                                                    */
/* ------------------------------------------------------------------ */

/* A new share of an open child handle. */
static fsc_coll *share(fsc_coll *c) {
  ck_pr_inc_uint(&FSC__H(c)->shares);
  return c;
}

/* The entry for the key, or NULL (r->mu held).  An entry whose handle a
 * caller closed is taken out (into *stale, for the caller to free after
 * unlocking). */
static struct entry *lookup(struct refs *r, const char *path, fsc_kind kind,
                            bool rdonly, fsc_coll **stale) {
  for (unsigned i = 0; i < r->n; i++) {
    struct entry *e = &r->cache[i];
    if (e->kind != kind || e->rdonly != rdonly || strcmp(e->path, path) != 0)
      continue;
    struct fsc__gen *g = fsc__cur(FSC__H(e->child));
    if (fsc__gen_closed(g)) {
      *stale = e->child;
      free(e->path);
      r->cache[i] = r->cache[--r->n];
      return NULL;
    }
    return e;
  }
  return NULL;
}

int fsc_ref_open(fsc_coll *parent, const fsc_value *ref,
                 const fsc_options *opts, fsc_coll **out) {
  fsc__err_clear();
  if (!out)
    return fsc__err(FSC_EINVAL, "out is NULL");
  *out = NULL;
  CHECK(parent, false);
  fsc_options o;
  int rc = child_opts(parent, opts, &o);
  if (rc)
    return rc;
  fsc_kind kind;
  char *path = NULL;
  if ((rc = resolve(parent, ref, (o.flags & FSC_REF_ALLOW_OUTSIDE) != 0,
                    true, &kind, &path)) != 0)
    return rc;
  bool rdonly = (o.flags & FSC_RDONLY) != 0;
  struct refs *r = refs_of(parent);
  if (!r) {
    free(path);
    return FSC_ENOMEM;
  }
  fsc_coll *stale = NULL, *child = NULL, *evicted = NULL;
  pthread_mutex_lock(&r->mu);
  struct entry *e = lookup(r, path, kind, rdonly, &stale);
  if (e) {
    e->used = ++r->tick;
    *out = share(e->child);
  }
  pthread_mutex_unlock(&r->mu);
  fsc_coll_free(stale);
  if (*out) {
    free(path);
    return 0;
  }
  /* Open without the mutex (an open may wait for a lock). */
  if ((rc = fsc_open(path, kind, &o, &child)) != 0) {
    free(path);
    return rc;
  }
  pthread_mutex_lock(&r->mu);
  stale = NULL;
  if ((e = lookup(r, path, kind, rdonly, &stale)) != NULL) {
    /* Another thread opened it meanwhile: one handle for both. */
    evicted = child;
    e->used = ++r->tick;
    *out = share(e->child);
    free(path);
  } else {
    if (r->n == FSC_REF_CACHE_MAX) {
      unsigned lru = 0;
      for (unsigned i = 1; i < r->n; i++)
        if (r->cache[i].used < r->cache[lru].used)
          lru = i;
      evicted = r->cache[lru].child;
      free(r->cache[lru].path);
      r->cache[lru] = r->cache[--r->n];
    }
    r->cache[r->n++] = (struct entry){path, kind, rdonly, child, ++r->tick};
    *out = share(child);
  }
  pthread_mutex_unlock(&r->mu);
  /* Closing may sync and take a lock: after the mutex. */
  fsc_coll_free(stale);
  fsc_coll_free(evicted);
  return 0;
}

int fsc_ref_destroy(fsc_coll *parent, const fsc_value *ref, unsigned flags) {
  fsc__err_clear();
  CHECK(parent, true);
  if (flags & ~FSC_REF_ALLOW_OUTSIDE)
    return fsc__err(FSC_EINVAL, "unknown flags 0x%x", flags);
  fsc_options o;
  int rc = child_opts(parent, NULL, &o);
  if (rc)
    return rc;
  o.flags |= flags;
  fsc_kind kind;
  char *path = NULL;
  if ((rc = resolve(parent, ref, (o.flags & FSC_REF_ALLOW_OUTSIDE) != 0,
                    true, &kind, &path)) != 0)
    return rc;
  /* Drop the cached handles of it. */
  struct refs *r = (struct refs *)ck_pr_load_ptr(&FSC__H(parent)->ext);
  fsc_coll *drop[FSC_REF_CACHE_MAX];
  unsigned nd = 0;
  if (r) {
    pthread_mutex_lock(&r->mu);
    for (unsigned i = 0; i < r->n;) {
      if (strcmp(r->cache[i].path, path) == 0) {
        drop[nd++] = r->cache[i].child;
        free(r->cache[i].path);
        r->cache[i] = r->cache[--r->n];
      } else {
        i++;
      }
    }
    pthread_mutex_unlock(&r->mu);
  }
  for (unsigned i = 0; i < nd; i++)
    fsc_coll_free(drop[i]);
  fsc_coll *child = NULL;
  o.flags &= ~(unsigned)FSC_RDONLY;
  if ((rc = fsc_open(path, kind, &o, &child)) == 0) {
    rc = fsc_coll_destroy(child);
    fsc_coll_free(child);
  }
  free(path);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Checking                                                            */
/* ------------------------------------------------------------------ */

static bool file_exists(const char *base, const char *suffix) {
  char *p = fsc__concat(base, suffix);
  struct stat st;
  bool ok = p && lstat(p, &st) == 0 && S_ISREG(st.st_mode);
  free(p);
  return ok;
}

static void check_one(fsc_coll *parent, const fsc_value *v, bool allow,
                      fsc_ref_report *rep) {
  rep->values++;
  if (v->type != FSC_TYPE_REF)
    return;
  rep->refs++;
  fsc_kind kind;
  char *path = NULL;
  int rc = resolve(parent, v, allow, false, &kind, &path);
  if (rc == FSC_EACCES)
    rep->outside++;
  else if (rc == FSC_EVALUE || rc == FSC_EINVAL)
    rep->invalid++;
  else if (rc == 0 && !(file_exists(path, ".data.fscollection") &&
                        file_exists(path, ".index.fscollection")))
    rep->dangling++;
  free(path);
}

int fsc_ref_check(fsc_coll *parent, unsigned flags, fsc_ref_report *out) {
  fsc__err_clear();
  if (!out)
    return fsc__err(FSC_EINVAL, "out is NULL");
  CHECK(parent, false);
  if (flags & ~FSC_REF_ALLOW_OUTSIDE)
    return fsc__err(FSC_EINVAL, "unknown flags 0x%x", flags);
  bool allow = (flags & FSC_REF_ALLOW_OUTSIDE) != 0;
  fsc_ref_report rep;
  memset(&rep, 0, sizeof rep);
  rep.size = sizeof rep;
  fsc_coll_iter it;
  fsc_value v;
  int rc = fsc_coll_iter_init(parent, &it);
  while (rc == 0 && (rc = fsc_coll_iter_next(&it, NULL, &v)) == 1) {
    check_one(parent, &v, allow, &rep);
    rc = 0;
  }
  size_t n = out->size && out->size < sizeof rep ? out->size : sizeof rep;
  rep.size = n;
  memcpy(out, &rep, n);
  if (rc < 0)
    return rc;
  fsc__err_clear();
  return 0;
}
