/* SPDX-License-Identifier: MIT */
/*
 * fsc_dump.c - owns `fsc dump` and `fsc load`: a collection as portable
 * JSON lines and back (the format is in doc/fsc.1, "DUMP FORMAT"):
 *
 *   {"fscollections":1,"kind":"dict","type":"int64","key_type":"string","length":2}
 *   {"k":"hits","v":41}
 *   {"k":"misses","v":3}
 *   {"end":true,"count":2}
 *
 * A typed collection writes each value in its natural JSON form; a
 * heterogeneous (any) one tags each with "t".  Every type round-trips
 * exactly: int128 as a decimal string, float as a hex float string,
 * bytes and binary keys as base64, json as the value itself (plus its
 * exact "text" when re-encoding would change a byte).
 */
#include "fsc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static FILE *open_out(const char *name) {
  if (!name || strcmp(name, "-") == 0)
    return stdout;
  return fopen(name, "w");
}

static int write_line(FILE *f, json_t *obj) {
  int rc = json_dumpf(obj, f, JSON_COMPACT | JSON_PRESERVE_ORDER);
  json_decref(obj);
  if (rc != 0 || fputc('\n', f) == EOF)
    return -1;
  return 0;
}

static int write_failed(const char *name) {
  cli_msg("%s: write error: %s", name ? name : "stdout", strerror(errno));
  return CLI_IO;
}

/* ------------------------------------------------------------------ */
/* dump --follow: the tree of collections a root references            */
/* ------------------------------------------------------------------ */

/* `path` made absolute against the current directory and normalised
 * lexically, as the library resolves references (doc/FORMAT.md,
 * "References"): malloc'd, NULL when out of memory or no cwd. */
static char *abs_norm(const char *path) {
  char cwd[4096];
  if (path[0] != '/' && !getcwd(cwd, sizeof cwd))
    return NULL;
  size_t n = (path[0] != '/' ? strlen(cwd) + 1 : 0) + strlen(path) + 2;
  char *in = malloc(n), *out = malloc(n);
  if (!in || !out) {
    free(in), free(out);
    return NULL;
  }
  snprintf(in, n, "%s%s%s", path[0] != '/' ? cwd : "",
           path[0] != '/' ? "/" : "", path);
  size_t o = 0;
  for (char *p = in; *p;) {
    while (*p == '/')
      p++;
    char *e = p;
    while (*e && *e != '/')
      e++;
    size_t len = (size_t)(e - p);
    if (len == 2 && p[0] == '.' && p[1] == '.') {
      while (o > 0 && out[o - 1] != '/')
        o--;
      if (o > 0)
        o--;
    } else if (len > 0 && !(len == 1 && p[0] == '.')) {
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

/* The collections met so far, by absolute path: [0] is the root; those
 * after `done` are still to be dumped (breadth first). */
struct tree {
  char **paths;
  size_t n, cap, done;
  char *rootdir; /* the root's directory, absolute, with a final '/' */
};

static bool tree_add(struct tree *t, const char *abs) {
  for (size_t i = 0; i < t->n; i++)
    if (strcmp(t->paths[i], abs) == 0)
      return true; /* met before: a cycle or a shared child */
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 16;
    char **p = realloc(t->paths, cap * sizeof *p);
    if (!p)
      return false;
    t->paths = p;
    t->cap = cap;
  }
  if (!(t->paths[t->n] = strdup(abs)))
    return false;
  t->n++;
  return true;
}

static void tree_free(struct tree *t) {
  for (size_t i = 0; i < t->n; i++)
    free(t->paths[i]);
  free(t->paths);
  free(t->rootdir);
}

/* A reference met while dumping c: note the collection it names. */
static int follow_ref(struct cli_coll *c, const fsc_value *v,
                      struct tree *t) {
  fsc_options ro = FSC_OPTIONS_INIT;
  ro.flags = FSC_RDONLY;
  ro.access = FSC_ACCESS_SEQUENTIAL;
  if (cli_lock_timeout_ms >= FSC_LOCK_WAIT_FOREVER)
    ro.lock_timeout_ms = cli_lock_timeout_ms;
  fsc_coll *child = NULL;
  int rc = fsc_ref_open(c->h, v, &ro, &child);
  if (rc) {
    cli_msg("warning: %s: the reference %.*s is not followed: %s (%s)",
            c->path, (int)v->u.buf.len, (const char *)v->u.buf.ptr,
            rc == FSC_ENOENT ? "dangling" : fsc_strerror(rc), fsc_errmsg());
    return CLI_OK;
  }
  bool ok = tree_add(t, fsc_coll_path(child));
  fsc_coll_free(child); /* our share; c's cache keeps it until c closes */
  if (!ok) {
    cli_msg("out of memory");
    return CLI_IO;
  }
  return CLI_OK;
}

/* Dump one collection: the header (with "path" for a section after the
 * root), its elements, the end line. */
static int dump_one(const struct cli_opts *o, struct cli_coll *c, FILE *f,
                    const char *outname, const char *section,
                    struct tree *t) {
  const char *path = c->path;
  int ex = CLI_OK;
  uint64_t n = 0;
  fsc_coll_len(c->h, &n);
  json_t *h = json_object();
  json_object_set_new(h, "fscollections", json_integer(1));
  if (section)
    json_object_set_new(h, "path", json_string(section));
  json_object_set_new(h, "kind", json_string(fsc_kind_name(c->kind)));
  json_object_set_new(h, "type", json_string(fsc_type_name(c->type)));
  if (c->kind == FSC_KIND_DICT)
    json_object_set_new(h, "key_type",
                        json_string(fsc_type_name(c->key_type)));
  json_object_set_new(h, "length", json_integer((json_int_t)n));
  if (write_line(f, h))
    return write_failed(outname);

  struct cli_progress p;
  cli_progress_start(&p, o, "dump", n);
  fsc_coll_iter it;
  fsc_value k, v;
  uint64_t count = 0;
  bool tagged = c->type == FSC_TYPE_ANY;
  int rc = fsc_coll_iter_init(c->h, &it);
  while (rc == 0 && (rc = fsc_coll_iter_next(&it, &k, &v)) == 1) {
    json_t *line = json_object();
    if (c->kind == FSC_KIND_DICT)
      json_object_set_new(line, "k", cli_key_to_json(&k));
    if (cli_value_to_json(line, &v, tagged) != CLI_OK) {
      json_decref(line);
      cli_progress_end(&p);
      cli_msg("%s: element %llu: cannot encode a %s value", path,
              (unsigned long long)count, fsc_type_name(v.type));
      return CLI_CORRUPT;
    }
    if (write_line(f, line)) {
      cli_progress_end(&p);
      return write_failed(outname);
    }
    if (t && v.type == FSC_TYPE_REF && (ex = follow_ref(c, &v, t)) != 0) {
      cli_progress_end(&p);
      return ex;
    }
    cli_progress_tick(&p, ++count);
    rc = 0;
  }
  cli_progress_end(&p);
  if (rc < 0)
    return cli_fail(path, rc);
  json_t *end = json_object();
  json_object_set_new(end, "end", json_true());
  json_object_set_new(end, "count", json_integer((json_int_t)count));
  if (write_line(f, end) || fflush(f) != 0)
    return write_failed(outname);
  return CLI_OK;
}

int cli_cmd_dump(const struct cli_opts *o, int argc, char **argv) {
  const char *path = argv[0], *outname = argc > 1 ? argv[1] : NULL;
  struct cli_coll c;
  cli_access = FSC_ACCESS_SEQUENTIAL; /* every record, in file order */
  int ex = cli_open(path, FSC_RDONLY, &c);
  if (ex)
    return ex;
  FILE *f = open_out(outname);
  if (!f) {
    cli_msg("%s: %s", outname, strerror(errno));
    cli_close(&c);
    return CLI_IO;
  }
  struct tree t = {0};
  if (o->follow) {
    char *root = abs_norm(path);
    if (root) {
      char *slash = strrchr(root, '/');
      size_t dl = (size_t)(slash - root) + 1;
      if ((t.rootdir = malloc(dl + 1)) != NULL) {
        memcpy(t.rootdir, root, dl);
        t.rootdir[dl] = '\0';
      }
    }
    if (!root || !t.rootdir || !tree_add(&t, root)) {
      free(root);
      cli_msg("%s: out of memory, or the current directory is unreadable",
              path);
      ex = CLI_IO;
      goto out;
    }
    free(root);
    t.done = 1;
  }
  ex = dump_one(o, &c, f, outname, NULL, o->follow ? &t : NULL);
  /* The children, breadth first, each once; each stays open until its
   * own children are noted (their references resolve against it). */
  while (!ex && o->follow && t.done < t.n) {
    const char *abs = t.paths[t.done++];
    size_t dl = strlen(t.rootdir);
    if (strncmp(abs, t.rootdir, dl) != 0 || !abs[dl]) {
      cli_msg("warning: %s is outside %s's directory: not dumped", abs, path);
      continue;
    }
    struct cli_coll cc;
    if ((ex = cli_open(abs, FSC_RDONLY, &cc)) != 0)
      break;
    ex = dump_one(o, &cc, f, outname, abs + dl, &t);
    int cex = cli_close(&cc);
    ex = ex ? ex : cex;
  }
out:
  tree_free(&t);
  if (f != stdout && fclose(f) != 0 && !ex)
    ex = write_failed(outname);
  int cex = cli_close(&c);
  return ex ? ex : cex;
}

/* ------------------------------------------------------------------ */
/* load                                                                */
/* ------------------------------------------------------------------ */

struct header {
  fsc_kind kind;
  int type, key_type;
  uint64_t length;
};

static int parse_header(json_t *h, struct header *hd, char *err,
                        size_t errlen) {
  json_t *ver = json_object_get(h, "fscollections");
  if (!json_is_integer(ver)) {
    snprintf(err, errlen, "not an fsc dump (the first line has no "
                          "\"fscollections\" version)");
    return CLI_USAGE;
  }
  if (json_integer_value(ver) != 1) {
    snprintf(err, errlen, "dump format version %lld is not supported "
             "(this fsc reads version 1)", (long long)json_integer_value(ver));
    return CLI_USAGE;
  }
  json_t *kj = json_object_get(h, "kind");
  int k = json_is_string(kj) ? fsc_kind_parse(json_string_value(kj)) : -1;
  if (k < 0) {
    snprintf(err, errlen, "\"kind\" must be \"list\", \"dict\" or \"set\"");
    return CLI_USAGE;
  }
  hd->kind = (fsc_kind)k;
  json_t *tj = json_object_get(h, "type");
  hd->type = tj ? (json_is_string(tj) ? fsc_type_parse(json_string_value(tj))
                                      : -1)
                : FSC_TYPE_ANY;
  if (hd->type < 0 || hd->type == FSC_TYPE_UNSPEC) {
    snprintf(err, errlen, "\"type\" is not an element type");
    return CLI_USAGE;
  }
  hd->key_type = FSC_TYPE_UNSPEC;
  if (hd->kind == FSC_KIND_DICT) {
    json_t *kt = json_object_get(h, "key_type");
    hd->key_type = kt ? (json_is_string(kt)
                             ? fsc_type_parse(json_string_value(kt))
                             : -1)
                      : FSC_TYPE_STRING;
    if (hd->key_type != FSC_TYPE_STRING && hd->key_type != FSC_TYPE_BYTES) {
      snprintf(err, errlen, "\"key_type\" must be \"string\" or \"bytes\"");
      return CLI_USAGE;
    }
  }
  json_t *lj = json_object_get(h, "length");
  hd->length = json_is_integer(lj) && json_integer_value(lj) > 0
                   ? (uint64_t)json_integer_value(lj)
                   : 0;
  return CLI_OK;
}

/* Open or create the target: an existing collection that is not empty, or
 * of another kind or type, is replaced only with --force. */
/* Whether loading into PATH may go ahead (nothing is changed here):
 * *exists tells whether a collection is there to be replaced.  Refused
 * without --force: a collection of another kind or type, a non-empty one,
 * one of whose two files is missing.  Refused always: one that another
 * process has open, since the load replaces its files (doc/fsc.1, "fsc
 * load"). */
static int check_target(const struct cli_opts *o, const char *path,
                        const struct header *hd, bool *exists) {
  struct cli_coll c;
  int rc = cli_open_rc(path, 0, &c);
  *exists = rc == 0;
  if (rc == FSC_ENOENT) {
    char p[4096];
    struct stat st;
    bool any = false;
    static const char *const sfx[] = {".data.fscollection", ".index.fscollection"};
    for (int i = 0; i < 2 && !any; i++)
      any = (size_t)snprintf(p, sizeof p, "%s%s", path, sfx[i]) < sizeof p &&
            lstat(p, &st) == 0;
    if (any && !o->force) {
      cli_msg("%s: one of the collection's two files exists without the "
              "other (use --force to replace it)", path);
      return CLI_FAIL;
    }
    *exists = any;
    return CLI_OK;
  }
  if (rc)
    return cli_fail(path, rc);
  uint64_t n = 0;
  fsc_coll_len(c.h, &n);
  bool same = c.kind == hd->kind && c.type == hd->type &&
              (hd->kind != FSC_KIND_DICT || c.key_type == hd->key_type);
  int ex = CLI_OK;
  fsc_metrics m;
  if ((n > 0 || !same) && !o->force) {
    if (!same)
      cli_msg("%s: holds a %s of %s; the input is a %s of %s (use --force "
              "to replace it)", path, fsc_kind_name(c.kind),
              fsc_type_name(c.type), fsc_kind_name(hd->kind),
              fsc_type_name(hd->type));
    else
      cli_msg("%s: the %s is not empty (%llu items; use --force to "
              "replace them)", path, fsc_kind_name(c.kind),
              (unsigned long long)n);
    ex = CLI_FAIL;
  } else if (cli_metrics(&c, &m) == 0 && m.open_processes > 1) {
    cli_msg("%s: open in %u other process%s: fsc load replaces the "
            "collection's files, so close it everywhere first", path,
            (unsigned)(m.open_processes - 1), m.open_processes > 2 ? "es" : "");
    ex = CLI_FAIL;
  }
  int cex = cli_close(&c);
  return ex ? ex : cex;
}

/* The sibling base path the load fills: PATH.loading-XXXXXX, reserved by
 * an empty placeholder file of that name (removed at the end).  0 or
 * CLI_IO; *out is malloc'd. */
static int reserve_temp(const char *path, char **out) {
  size_t n = strlen(path) + sizeof ".loading-XXXXXX";
  char *t = malloc(n);
  if (!t) {
    cli_msg("out of memory");
    return CLI_IO;
  }
  snprintf(t, n, "%s.loading-XXXXXX", path);
  int fd = mkstemp(t);
  if (fd < 0) {
    cli_msg("%s: cannot create a temporary file beside it: %s", t,
            strerror(errno));
    free(t);
    return CLI_IO;
  }
  close(fd);
  *out = t;
  return CLI_OK;
}

static int sync_dir_of(const char *path) {
  char *d = strdup(path);
  if (!d)
    return -1;
  char *slash = strrchr(d, '/');
  const char *dir = slash ? (slash == d ? "/" : (*slash = 0, d)) : ".";
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int rc = fd < 0 ? -1 : fsync(fd);
  if (fd >= 0)
    close(fd);
  free(d);
  return rc;
}

/* Move the loaded collection at TMP (closed, clean) to PATH: the old one,
 * if any, is destroyed first; then TMP's index is renamed into place while
 * this process holds its flock, then its data file.  An opener that finds
 * the new index blocks on that lock (src/coll.c opens and locks the index
 * before it opens the data file) until both files are in place, so it sees
 * the whole new collection; before the index rename it finds no
 * collection. */
static int install(const char *tmp, const char *path, bool exists) {
  char ti[4096], td[4096], pi[4096], pd[4096];
  if ((size_t)snprintf(ti, sizeof ti, "%s.index.fscollection", tmp) >= sizeof ti ||
      (size_t)snprintf(td, sizeof td, "%s.data.fscollection", tmp) >= sizeof td ||
      (size_t)snprintf(pi, sizeof pi, "%s.index.fscollection", path) >= sizeof pi ||
      (size_t)snprintf(pd, sizeof pd, "%s.data.fscollection", path) >= sizeof pd) {
    cli_msg("%s: path too long", path);
    return CLI_USAGE;
  }
  int fd = open(ti, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 || flock(fd, LOCK_EX) != 0) {
    cli_msg("%s: %s", ti, strerror(errno));
    if (fd >= 0)
      close(fd);
    return CLI_IO;
  }
  int ex = CLI_OK;
  if (exists) {
    struct cli_coll old;
    int rc = cli_open_rc(path, 0, &old);
    if (rc == 0)
      ex = cli_destroy(&old);
    else if (rc == FSC_ENOENT) /* a lone file, replaced with --force */
      unlink(pi), unlink(pd);
    else
      ex = cli_fail(path, rc);
  }
  if (!ex && rename(ti, pi) != 0) {
    cli_msg("%s: cannot rename %s into place: %s", path, ti, strerror(errno));
    ex = CLI_IO;
  }
  if (!ex && rename(td, pd) != 0) {
    cli_msg("%s: cannot rename %s into place: %s", path, td, strerror(errno));
    unlink(pi); /* an index without its data is no collection */
    ex = CLI_IO;
  }
  if (!ex && sync_dir_of(path) != 0) {
    cli_msg("%s: fsync of its directory: %s", path, strerror(errno));
    ex = CLI_IO;
  }
  close(fd); /* drops the lock: openers waiting on it see both files */
  return ex;
}

static int store(struct cli_coll *c, const fsc_value *k, const fsc_value *v) {
  switch (c->kind) {
  case FSC_KIND_LIST:
    return fsc_list_append(fsc_coll_list(c->h), v);
  case FSC_KIND_DICT:
    return fsc_dict_set(fsc_coll_dict(c->h), k->u.buf.ptr, k->u.buf.len, v);
  case FSC_KIND_SET: {
    int rc = fsc_set_add(fsc_coll_set(c->h), v);
    return rc > 0 ? 0 : rc;
  }
  default:
    return FSC_EINVAL;
  }
}

/* Is `h` the header of a further section of a dump --follow? */
static bool section_header(json_t *h) {
  return json_is_object(h) && json_object_get(h, "fscollections") &&
         json_is_string(json_object_get(h, "path"));
}

/* Where the section `rel` of a dump of PATH goes: beside PATH, at rel
 * (relative, no ".."; directories made).  malloc'd in *out, or an exit
 * code with the message given. */
static int section_target(const char *path, const char *rel, char **out) {
  bool bad = !*rel || rel[0] == '/';
  for (const char *p = rel; *p && !bad;) {
    const char *e = strchr(p, '/');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    bad = (len == 2 && p[0] == '.' && p[1] == '.') || (!e && len == 0);
    p = e ? e + 1 : p + len;
  }
  if (bad) {
    cli_msg("%s: a section's \"path\" must be relative, without \"..\": "
            "'%s'", path, rel);
    return CLI_USAGE;
  }
  const char *slash = strrchr(path, '/');
  size_t dl = slash ? (size_t)(slash - path) + 1 : 0;
  size_t n = dl + strlen(rel) + 1;
  char *t = malloc(n);
  if (!t) {
    cli_msg("out of memory");
    return CLI_IO;
  }
  memcpy(t, path, dl);
  memcpy(t + dl, rel, strlen(rel) + 1);
  /* Make the directories on the way (as the dump's tree had them). */
  for (char *p = t + dl; (p = strchr(p, '/')) != NULL; p++) {
    *p = '\0';
    if (mkdir(t, 0777) != 0 && errno != EEXIST) {
      cli_msg("%s: cannot make the directory: %s", t, strerror(errno));
      free(t);
      return CLI_IO;
    }
    *p = '/';
  }
  *out = t;
  return CLI_OK;
}

/* Load one section, whose header line `h` (consumed) was read, into
 * `path`; *next gets the header of the next section, if one follows. */
static int load_section(const struct cli_opts *o, const char *path, FILE *f,
                        const char *shown, json_t *h, unsigned long *plineno,
                        char **pline, size_t *pcap, json_t **next) {
  char err[256];
  ssize_t len;
  unsigned long lineno = *plineno;
  int ex = CLI_OK;
  struct cli_coll c = {0};
  struct header hd;
  char *tmp = NULL;
  bool exists = false;
  json_error_t je;
  *next = NULL;

  ex = parse_header(h, &hd, err, sizeof err);
  json_decref(h);
  if (ex) {
    cli_msg("%s:%lu: %s", shown, lineno, err);
    goto out;
  }
  /* Atomic: the input goes into a new collection beside PATH, which
   * replaces PATH only once every line has loaded (install). */
  if ((ex = check_target(o, path, &hd, &exists)) != CLI_OK ||
      (ex = reserve_temp(path, &tmp)) != CLI_OK)
    goto out;
  if ((ex = cli_create(tmp, hd.kind, hd.type, hd.key_type,
                       FSC_CREATE | FSC_EXCL, &c)) != CLI_OK)
    goto out;

  /* The elements, then the end line. */
  struct cli_progress p;
  cli_progress_start(&p, o, "load", hd.length);
  uint64_t count = 0;
  bool ended = false;
  while ((len = getline(pline, pcap, f)) >= 0) {
    char *line = *pline;
    lineno++;
    if (strspn(line, " \t\r\n") == (size_t)len)
      continue;
    if (ended) {
      json_t *nh = json_loadb(line, (size_t)len, JSON_ALLOW_NUL, &je);
      if (section_header(nh)) {
        *next = nh; /* the next section of a dump --follow */
        break;
      }
      json_decref(nh);
      cli_progress_end(&p);
      cli_msg("%s:%lu: input continues after the end line", shown, lineno);
      ex = CLI_USAGE;
      goto out;
    }
    json_t *obj = json_loadb(line, (size_t)len, JSON_ALLOW_NUL, &je);
    if (!json_is_object(obj)) {
      cli_progress_end(&p);
      cli_msg("%s:%lu: %s", shown, lineno,
              obj ? "expected a JSON object" : je.text);
      json_decref(obj);
      ex = CLI_USAGE;
      goto out;
    }
    if (json_object_get(obj, "end")) {
      json_t *cj = json_object_get(obj, "count");
      if (json_is_integer(cj) && (uint64_t)json_integer_value(cj) != count) {
        cli_progress_end(&p);
        cli_msg("%s:%lu: the end line counts %lld items, the input held "
                "%llu", shown, lineno, (long long)json_integer_value(cj),
                (unsigned long long)count);
        json_decref(obj);
        ex = CLI_USAGE;
        goto out;
      }
      json_decref(obj);
      ended = true;
      continue;
    }
    struct cli_val key = {0}, val;
    int e = CLI_OK;
    if (hd.kind == FSC_KIND_DICT)
      e = cli_key_from_json(json_object_get(obj, "k"), hd.key_type, &key, err,
                            sizeof err);
    if (e == CLI_OK)
      e = cli_value_from_json(obj, hd.type, &val, err, sizeof err);
    else
      memset(&val, 0, sizeof val);
    int rc = e == CLI_OK ? store(&c, &key.v, &val.v) : 0;
    cli_val_free(&key);
    cli_val_free(&val);
    json_decref(obj);
    if (e != CLI_OK || rc) {
      cli_progress_end(&p);
      if (e != CLI_OK)
        cli_msg("%s:%lu: %s", shown, lineno, err);
      else
        cli_msg("%s: %s: %s (input line %lu)", path, fsc_strerror(rc),
                fsc_errmsg(), lineno);
      ex = e != CLI_OK ? e : cli_exit_code(rc);
      goto out;
    }
    cli_progress_tick(&p, ++count);
  }
  cli_progress_end(&p);
  if (ferror(f)) {
    cli_msg("%s: read error: %s", shown, strerror(errno));
    ex = CLI_IO;
  } else if (!ended) {
    cli_msg("warning: %s: no end line: the input may be truncated (%llu "
            "items loaded)", shown, (unsigned long long)count);
  }
out:
  *plineno = lineno;
  if (ex && *next) {
    json_decref(*next);
    *next = NULL;
  }
  if (c.kind != FSC_KIND_ANY) {
    /* Loaded: close (sync, clean marker) and move into place; failed:
     * the partial collection goes, and PATH is as it was. */
    if (ex) {
      cli_destroy(&c);
    } else if ((ex = cli_close(&c)) == CLI_OK &&
               (ex = install(tmp, path, exists)) != CLI_OK) {
      struct cli_coll t;
      if (cli_open_rc(tmp, 0, &t) == 0)
        cli_destroy(&t);
    }
  }
  if (tmp) {
    unlink(tmp); /* the placeholder */
    free(tmp);
  }
  return ex;
}

int cli_cmd_load(const struct cli_opts *o, int argc, char **argv) {
  const char *path = argv[0];
  const char *inname = argc > 1 && strcmp(argv[1], "-") != 0 ? argv[1] : NULL;
  const char *shown = inname ? inname : "stdin";
  FILE *f = inname ? fopen(inname, "r") : stdin;
  if (!f) {
    cli_msg("%s: %s", inname, strerror(errno));
    return CLI_IO;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  unsigned long lineno = 0;
  int ex = CLI_OK;
  json_error_t je;

  /* The header. */
  json_t *h = NULL;
  while ((len = getline(&line, &cap, f)) >= 0) {
    lineno++;
    if (strspn(line, " \t\r\n") == (size_t)len)
      continue;
    h = json_loadb(line, (size_t)len, JSON_ALLOW_NUL, &je);
    break;
  }
  if (!h) {
    if (lineno == 0 || len < 0)
      cli_msg("%s: empty input: not an fsc dump", shown);
    else
      cli_msg("%s:%lu: %s", shown, lineno, je.text);
    ex = CLI_USAGE;
  }
  /* The root section into PATH; those of a dump --follow after it beside
   * PATH, at their "path" (each all or nothing, in order). */
  const char *target = path;
  char *owned = NULL;
  while (h) {
    json_t *next = NULL;
    ex = load_section(o, target, f, shown, h, &lineno, &line, &cap, &next);
    h = next;
    free(owned);
    owned = NULL;
    target = NULL;
    if (ex || !h)
      break;
    const char *rel = json_string_value(json_object_get(h, "path"));
    if ((ex = section_target(path, rel, &owned)) != CLI_OK) {
      json_decref(h);
      break;
    }
    target = owned;
  }
  free(owned);
  free(line);
  if (f != stdin)
    fclose(f);
  return ex;
}
