/*
 * fsc_coll.c - owns "a collection of any kind" for the fsc tool: opening a
 * path whatever it holds (list, dict or set), creating one, and the
 * operations every kind has (len, metrics, clear, iteration, close).
 */
#include "fsc.h"

#include <string.h>

const char *cli_kind_name(cli_kind k) {
  switch (k) {
  case CLI_KIND_LIST:
    return "list";
  case CLI_KIND_DICT:
    return "dict";
  case CLI_KIND_SET:
    return "set";
  default:
    return "none";
  }
}

int cli_kind_parse(const char *name) {
  if (strcmp(name, "list") == 0)
    return CLI_KIND_LIST;
  if (strcmp(name, "dict") == 0)
    return CLI_KIND_DICT;
  if (strcmp(name, "set") == 0)
    return CLI_KIND_SET;
  return -1;
}

static void fill(struct cli_coll *c) {
  switch (c->kind) {
  case CLI_KIND_LIST:
    c->type = fsc_list_type(c->h.l);
    c->key_type = FSC_TYPE_UNSPEC;
    break;
  case CLI_KIND_DICT:
    c->type = fsc_dict_type(c->h.d);
    c->key_type = fsc_dict_key_type(c->h.d);
    break;
  case CLI_KIND_SET:
    c->type = fsc_set_type(c->h.s);
    c->key_type = FSC_TYPE_UNSPEC;
    break;
  default:
    break;
  }
}

int64_t cli_lock_timeout_ms = -2;

static int open_kind(const char *path, cli_kind k, const fsc_options *in,
                     struct cli_coll *c) {
  fsc_options oo = *in;
  const fsc_options *o = &oo;
  if (cli_lock_timeout_ms >= FSC_LOCK_WAIT_FOREVER)
    oo.lock_timeout_ms = cli_lock_timeout_ms;
  switch (k) {
  case CLI_KIND_LIST:
    return fsc_list_open(path, o, &c->h.l);
  case CLI_KIND_DICT:
    return fsc_dict_open(path, o, &c->h.d);
  case CLI_KIND_SET:
    return fsc_set_open(path, o, &c->h.s);
  default:
    return FSC_EINVAL;
  }
}

int cli_open_rc(const char *path, unsigned flags, struct cli_coll *c) {
  memset(c, 0, sizeof *c);
  c->path = path;
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = flags & FSC_RDONLY;
  int rc = FSC_EKIND;
  for (cli_kind k = CLI_KIND_LIST; k <= CLI_KIND_SET; k++) {
    rc = open_kind(path, k, &o, c);
    if (rc == 0) {
      c->kind = k;
      fill(c);
      return 0;
    }
    if (rc != FSC_EKIND)
      break;
  }
  return rc;
}

int cli_open(const char *path, unsigned flags, struct cli_coll *c) {
  int rc = cli_open_rc(path, flags, c);
  return rc ? cli_fail(path, rc) : CLI_OK;
}

int cli_create(const char *path, cli_kind kind, int type, int key_type,
               unsigned flags, struct cli_coll *c) {
  memset(c, 0, sizeof *c);
  c->path = path;
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = flags;
  o.type = (fsc_type)type;
  o.key_type = (fsc_type)key_type;
  int rc = open_kind(path, kind, &o, c);
  if (rc)
    return cli_fail(path, rc);
  c->kind = kind;
  fill(c);
  return CLI_OK;
}

int cli_close(struct cli_coll *c) {
  int rc = 0;
  switch (c->kind) {
  case CLI_KIND_LIST:
    rc = fsc_list_close(c->h.l);
    fsc_list_free(c->h.l);
    break;
  case CLI_KIND_DICT:
    rc = fsc_dict_close(c->h.d);
    fsc_dict_free(c->h.d);
    break;
  case CLI_KIND_SET:
    rc = fsc_set_close(c->h.s);
    fsc_set_free(c->h.s);
    break;
  default:
    return CLI_OK;
  }
  c->kind = CLI_KIND_NONE;
  return rc ? cli_fail(c->path, rc) : CLI_OK;
}

int cli_destroy(struct cli_coll *c) {
  int rc = 0;
  switch (c->kind) {
  case CLI_KIND_LIST:
    rc = fsc_list_destroy(c->h.l);
    fsc_list_free(c->h.l);
    break;
  case CLI_KIND_DICT:
    rc = fsc_dict_destroy(c->h.d);
    fsc_dict_free(c->h.d);
    break;
  case CLI_KIND_SET:
    rc = fsc_set_destroy(c->h.s);
    fsc_set_free(c->h.s);
    break;
  default:
    return CLI_OK;
  }
  c->kind = CLI_KIND_NONE;
  return rc ? cli_fail(c->path, rc) : CLI_OK;
}

int cli_len(struct cli_coll *c, uint64_t *n) {
  switch (c->kind) {
  case CLI_KIND_LIST:
    return fsc_list_len(c->h.l, n);
  case CLI_KIND_DICT:
    return fsc_dict_len(c->h.d, n);
  case CLI_KIND_SET:
    return fsc_set_len(c->h.s, n);
  default:
    return FSC_EINVAL;
  }
}

int cli_verify(struct cli_coll *c, unsigned flags, fsc_verify_report *r) {
  memset(r, 0, sizeof *r);
  r->size = sizeof *r;
  switch (c->kind) {
  case CLI_KIND_LIST:
    return fsc_list_verify(c->h.l, flags, r);
  case CLI_KIND_DICT:
    return fsc_dict_verify(c->h.d, flags, r);
  case CLI_KIND_SET:
    return fsc_set_verify(c->h.s, flags, r);
  default:
    return FSC_EINVAL;
  }
}

int cli_metrics(struct cli_coll *c, fsc_metrics *m) {
  memset(m, 0, sizeof *m);
  m->size = sizeof *m;
  switch (c->kind) {
  case CLI_KIND_LIST:
    return fsc_list_metrics(c->h.l, m);
  case CLI_KIND_DICT:
    return fsc_dict_metrics(c->h.d, m);
  case CLI_KIND_SET:
    return fsc_set_metrics(c->h.s, m);
  default:
    return FSC_EINVAL;
  }
}

int cli_clear(struct cli_coll *c) {
  switch (c->kind) {
  case CLI_KIND_LIST:
    return fsc_list_clear(c->h.l);
  case CLI_KIND_DICT:
    return fsc_dict_clear(c->h.d);
  case CLI_KIND_SET:
    return fsc_set_clear(c->h.s);
  default:
    return FSC_EINVAL;
  }
}

int cli_iter_init(struct cli_coll *c, struct cli_iter *it) {
  it->c = c;
  switch (c->kind) {
  case CLI_KIND_LIST:
    return fsc_list_iter_init(c->h.l, &it->it.l);
  case CLI_KIND_DICT:
    return fsc_dict_iter_init(c->h.d, &it->it.d);
  case CLI_KIND_SET:
    return fsc_set_iter_init(c->h.s, &it->it.s);
  default:
    return FSC_EINVAL;
  }
}

int cli_iter_next(struct cli_iter *it, fsc_value *key, fsc_value *val) {
  switch (it->c->kind) {
  case CLI_KIND_LIST:
    return fsc_list_iter_next(&it->it.l, val);
  case CLI_KIND_DICT:
    return fsc_dict_iter_next(&it->it.d, key, val);
  case CLI_KIND_SET:
    return fsc_set_iter_next(&it->it.s, val);
  default:
    return FSC_EINVAL;
  }
}
