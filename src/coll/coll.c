/*
 * coll.c - owns the kind-neutral public handle, fsc_coll: opening a
 * collection of any kind (fsc_open), the conversions between fsc_coll and
 * the typed faces fsc_list / fsc_dict / fsc_set, and the one implementation
 * of every operation that means the same for every kind: close, destroy,
 * free, path, type, len, metrics, sync, compact, reclaim, and (through the
 * kind's own code) clear and iteration (verify's is file/verify.c's).
 * The typed functions of the same names (fsc_list_close, fsc_dict_metrics,
 * fsc_set_verify, ...) call these.
 *
 * Every public handle type points at one struct fsc__handle (FSC__H in
 * internal.h): a conversion is a cast, checked against the kind of the
 * generation the handle uses.
 */
#include "internal.h"
#include "struct/hash.h"

#include <stdlib.h>
#include <string.h>

/* The structure of each kind (enum fsc__kind), given to every handle:
 * the file layer reaches a kind only through it. */
static const struct fsc__kind_ops *const kinds[] = {
    NULL, &fsc__list_ops, &fsc__dict_ops, &fsc__set_ops};

/* The generation a handle uses now (NULL for a NULL handle). */
static struct fsc__gen *gen_of(const fsc_coll *h) {
  return h ? fsc__cur(FSC__H(h)) : NULL;
}

/* ------------------------------------------------------------------ */
/* Kinds                                                               */
/* ------------------------------------------------------------------ */

const char *fsc_kind_name(fsc_kind k) {
  switch (k) {
  case FSC_KIND_ANY:
    return "any";
  case FSC_KIND_LIST:
    return "list";
  case FSC_KIND_DICT:
    return "dict";
  case FSC_KIND_SET:
    return "set";
  }
  return "unknown";
}

int fsc_kind_parse(const char *name) {
  fsc__err_clear();
  if (name) {
    for (int k = FSC_KIND_LIST; k <= FSC_KIND_SET; k++)
      if (strcmp(name, fsc_kind_name((fsc_kind)k)) == 0)
        return k;
  }
  return fsc__err(FSC_EINVAL, "'%s' is not a collection kind (list, dict "
                  "or set)", name ? name : "(null)");
}

/* ------------------------------------------------------------------ */
/* Life                                                                */
/* ------------------------------------------------------------------ */

FSC__OPEN_PATH
int fsc_open(const char *base_path, fsc_kind kind, const fsc_options *opts,
             fsc_coll **out) {
  fsc__err_clear();
  if (!out)
    return fsc__err(FSC_EINVAL, "out is NULL");
  *out = NULL;
  if ((unsigned)kind > FSC_KIND_SET)
    return fsc__err(FSC_EINVAL, "invalid collection kind %d", (int)kind);
  struct fsc__handle *h = calloc(1, sizeof *h);
  if (!h)
    return fsc__err(FSC_ENOMEM, "out of memory");
  int rc = fsc__handle_open(h, kinds, (enum fsc__kind)kind, base_path, opts);
  if (rc) {
    free(h);
    return rc;
  }
  /* A dict's or set's slots, read ahead when large (hash_region.c). */
  if (kind == FSC_KIND_DICT || kind == FSC_KIND_SET)
    fsc__hash_prefetch(ck_pr_load_ptr(&h->cur));
  *out = (fsc_coll *)(void *)h;
  return 0;
}

int fsc_coll_close(fsc_coll *c) {
  fsc__err_clear();
  if (!c)
    return fsc__gen_check_fail(NULL, false);
  return fsc__handle_close(FSC__H(c), false);
}

int fsc_coll_destroy(fsc_coll *c) {
  fsc__err_clear();
  struct fsc__gen *g = gen_of(c);
  CHECK_C(g, false);
  return fsc__handle_close(FSC__H(c), !g->temp);
}

void fsc_coll_free(fsc_coll *c) {
  if (!c)
    return;
  /* A handle several hold (a child that coll/ref.c's cache shares with
   * the caller of fsc_ref_open): drop one share; the last one frees. */
  unsigned *sh = &FSC__H(c)->shares, n = ck_pr_load_uint(sh);
  while (n > 0)
    if (ck_pr_cas_uint_value(sh, n, n - 1, &n))
      return;
  fsc__handle_free(FSC__H(c));
  free(FSC__H(c));
}

const char *fsc_coll_path(const fsc_coll *c) {
  struct fsc__gen *g = gen_of(c);
  return g ? g->path : NULL;
}

int fsc_coll_kind(const fsc_coll *c) {
  struct fsc__gen *g = gen_of(c);
  CHECK_C(g, false);
  return (int)g->kind;
}

int fsc_coll_type(const fsc_coll *c) {
  struct fsc__gen *g = gen_of(c);
  CHECK_C(g, false);
  return (int)g->type;
}

/* ------------------------------------------------------------------ */
/* Faces                                                               */
/* ------------------------------------------------------------------ */

fsc_coll *fsc_list_coll(fsc_list *l) { return (fsc_coll *)(void *)l; }
fsc_coll *fsc_dict_coll(fsc_dict *d) { return (fsc_coll *)(void *)d; }
fsc_coll *fsc_set_coll(fsc_set *s) { return (fsc_coll *)(void *)s; }

/* c itself if it is open and of kind k, else NULL with the reason
 * recorded. */
static void *face(fsc_coll *c, enum fsc__kind k) {
  fsc__err_clear();
  struct fsc__gen *g = gen_of(c);
  if (fsc__gen_check(g, false) != 0)
    return NULL;
  if (g->kind != k) {
    fsc__err(FSC_EKIND, "the collection is a %s, not a %s",
             fsc_kind_name((fsc_kind)g->kind), fsc_kind_name((fsc_kind)k));
    return NULL;
  }
  return c;
}

fsc_list *fsc_coll_list(fsc_coll *c) { return face(c, FSC__KIND_LIST); }
fsc_dict *fsc_coll_dict(fsc_coll *c) { return face(c, FSC__KIND_DICT); }
fsc_set *fsc_coll_set(fsc_coll *c) { return face(c, FSC__KIND_SET); }

/* ------------------------------------------------------------------ */
/* Operations every kind has                                           */
/* ------------------------------------------------------------------ */

int fsc_coll_len(fsc_coll *h, uint64_t *out) { return fsc__len(h, out); }

static int metrics_g(struct fsc__gen *c, fsc_metrics *out) {
  CHECK_C(c, false);
  if (!out)
    return fsc__err(FSC_EINVAL, "out is NULL");
  if (fsc__gen_moved(c))
    return FSC__EMOVED;
  return fsc__gen_metrics(c, out);
}

int fsc_coll_metrics(fsc_coll *h, fsc_metrics *out) {
  FSC__GEN(h, metrics_g(c, out));
}

static int sync_g(struct fsc__gen *c) {
  CHECK_C(c, false);
  if (fsc__gen_moved(c))
    return FSC__EMOVED;
  return fsc__gen_sync(c);
}

int fsc_coll_sync(fsc_coll *h) { FSC__GEN(h, sync_g(c)); }

static int compact_g(struct fsc__gen *c) {
  CHECK_C(c, true);
  return fsc__compact(c, false);
}

int fsc_coll_compact(fsc_coll *h) { FSC__GEN(h, compact_g(c)); }

int fsc_coll_reclaim(fsc_coll *c) {
  fsc__err_clear();
  CHECK_C(gen_of(c), false);
  return fsc__handle_reclaim(FSC__H(c));
}

/* ------------------------------------------------------------------ */
/* The typed faces' names for the same operations                      */
/* ------------------------------------------------------------------ */

FSC__OPEN_PATH
int fsc_list_open(const char *base_path, const fsc_options *opts,
                  fsc_list **out) {
  fsc_coll *c = NULL;
  int rc = fsc_open(base_path, FSC_KIND_LIST, opts, out ? &c : NULL);
  if (out)
    *out = (fsc_list *)(void *)c;
  return rc;
}

int fsc_list_len(fsc_list *l, uint64_t *out) {
  return fsc__len(fsc_list_coll(l), out);
}

int fsc_list_close(fsc_list *l) { return fsc_coll_close(fsc_list_coll(l)); }

int fsc_list_destroy(fsc_list *l) { return fsc_coll_destroy(fsc_list_coll(l)); }

void fsc_list_free(fsc_list *l) { fsc_coll_free(fsc_list_coll(l)); }

const char *fsc_list_path(const fsc_list *l) {
  return fsc_coll_path((const fsc_coll *)(const void *)l);
}

int fsc_list_type(const fsc_list *l) {
  return fsc_coll_type((const fsc_coll *)(const void *)l);
}

int fsc_list_metrics(fsc_list *l, fsc_metrics *out) {
  return fsc_coll_metrics(fsc_list_coll(l), out);
}

int fsc_list_sync(fsc_list *l) { return fsc_coll_sync(fsc_list_coll(l)); }

int fsc_list_compact(fsc_list *l) { return fsc_coll_compact(fsc_list_coll(l)); }

int fsc_list_reclaim(fsc_list *l) { return fsc_coll_reclaim(fsc_list_coll(l)); }

FSC__OPEN_PATH
int fsc_dict_open(const char *base_path, const fsc_options *opts,
                  fsc_dict **out) {
  fsc_coll *c = NULL;
  int rc = fsc_open(base_path, FSC_KIND_DICT, opts, out ? &c : NULL);
  if (out)
    *out = (fsc_dict *)(void *)c;
  return rc;
}

int fsc_dict_close(fsc_dict *d) { return fsc_coll_close(fsc_dict_coll(d)); }

int fsc_dict_destroy(fsc_dict *d) { return fsc_coll_destroy(fsc_dict_coll(d)); }

void fsc_dict_free(fsc_dict *d) { fsc_coll_free(fsc_dict_coll(d)); }

const char *fsc_dict_path(const fsc_dict *d) {
  return fsc_coll_path((const fsc_coll *)(const void *)d);
}

int fsc_dict_type(const fsc_dict *d) {
  return fsc_coll_type((const fsc_coll *)(const void *)d);
}

int fsc_dict_metrics(fsc_dict *d, fsc_metrics *out) {
  return fsc_coll_metrics(fsc_dict_coll(d), out);
}

int fsc_dict_sync(fsc_dict *d) { return fsc_coll_sync(fsc_dict_coll(d)); }

int fsc_dict_compact(fsc_dict *d) { return fsc_coll_compact(fsc_dict_coll(d)); }

int fsc_dict_reclaim(fsc_dict *d) { return fsc_coll_reclaim(fsc_dict_coll(d)); }

int fsc_dict_len(fsc_dict *d, uint64_t *out) {
  return fsc__len(fsc_dict_coll(d), out);
}

FSC__OPEN_PATH
int fsc_set_open(const char *base_path, const fsc_options *opts,
                 fsc_set **out) {
  fsc_coll *c = NULL;
  int rc = fsc_open(base_path, FSC_KIND_SET, opts, out ? &c : NULL);
  if (out)
    *out = (fsc_set *)(void *)c;
  return rc;
}

int fsc_set_close(fsc_set *s) { return fsc_coll_close(fsc_set_coll(s)); }

int fsc_set_destroy(fsc_set *s) { return fsc_coll_destroy(fsc_set_coll(s)); }

void fsc_set_free(fsc_set *s) { fsc_coll_free(fsc_set_coll(s)); }

const char *fsc_set_path(const fsc_set *s) {
  return fsc_coll_path((const fsc_coll *)(const void *)s);
}

int fsc_set_type(const fsc_set *s) {
  return fsc_coll_type((const fsc_coll *)(const void *)s);
}

int fsc_set_metrics(fsc_set *s, fsc_metrics *out) {
  return fsc_coll_metrics(fsc_set_coll(s), out);
}

int fsc_set_sync(fsc_set *s) { return fsc_coll_sync(fsc_set_coll(s)); }

int fsc_set_compact(fsc_set *s) { return fsc_coll_compact(fsc_set_coll(s)); }

int fsc_set_reclaim(fsc_set *s) { return fsc_coll_reclaim(fsc_set_coll(s)); }

int fsc_set_len(fsc_set *s, uint64_t *out) {
  return fsc__len(fsc_set_coll(s), out);
}

int fsc_list_verify(fsc_list *l, unsigned flags, fsc_verify_report *out) {
  return fsc_coll_verify(fsc_list_coll(l), flags, out);
}

int fsc_dict_verify(fsc_dict *d, unsigned flags, fsc_verify_report *out) {
  return fsc_coll_verify(fsc_dict_coll(d), flags, out);
}

int fsc_set_verify(fsc_set *s, unsigned flags, fsc_verify_report *out) {
  return fsc_coll_verify(fsc_set_coll(s), flags, out);
}

/* ------------------------------------------------------------------ */
/* Operations each kind does its own way                               */
/* ------------------------------------------------------------------ */

int fsc_coll_clear(fsc_coll *c) {
  switch (fsc_coll_kind(c)) {
  case FSC_KIND_LIST:
    return fsc_list_clear(fsc_coll_list(c));
  case FSC_KIND_DICT:
    return fsc_dict_clear(fsc_coll_dict(c));
  case FSC_KIND_SET:
    return fsc_set_clear(fsc_coll_set(c));
  default:
    return fsc_coll_kind(c);
  }
}

int fsc_coll_iter_init(fsc_coll *c, fsc_coll_iter *it) {
  if (!it) {
    fsc__err_clear();
    return fsc__err(FSC_EINVAL, "NULL iterator");
  }
  memset(it, 0, sizeof *it);
  it->coll = c;
  switch (fsc_coll_kind(c)) {
  case FSC_KIND_LIST:
    return fsc_list_iter_init(fsc_coll_list(c), &it->u.l);
  case FSC_KIND_DICT:
    return fsc_dict_iter_init(fsc_coll_dict(c), &it->u.d);
  case FSC_KIND_SET:
    return fsc_set_iter_init(fsc_coll_set(c), &it->u.s);
  default:
    return fsc_coll_kind(c);
  }
}

int fsc_coll_iter_next(fsc_coll_iter *it, fsc_value *key, fsc_value *val) {
  if (!it) {
    fsc__err_clear();
    return fsc__err(FSC_EINVAL, "NULL iterator");
  }
  fsc_value k, v;
  int rc;
  switch (fsc_coll_kind(it->coll)) {
  case FSC_KIND_LIST: {
    uint64_t pos = it->u.l.pos;
    if ((rc = fsc_list_iter_next(&it->u.l, &v)) == 1) {
      memset(&k, 0, sizeof k);
      k.type = FSC_TYPE_INT64;
      k.u.i64 = (int64_t)pos;
    }
    break;
  }
  case FSC_KIND_DICT:
    rc = fsc_dict_iter_next(&it->u.d, &k, &v);
    break;
  case FSC_KIND_SET:
    if ((rc = fsc_set_iter_next(&it->u.s, &v)) == 1)
      k = v;
    break;
  default:
    return fsc_coll_kind(it->coll);
  }
  if (rc == 1) {
    if (key)
      *key = k;
    if (val)
      *val = v;
  }
  return rc;
}
