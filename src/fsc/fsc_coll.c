/* SPDX-License-Identifier: MIT */
/*
 * fsc_coll.c - owns the fsc tool's open collection (struct cli_coll): opening
 * a path whatever it holds, creating one, closing with the tool's messages.
 * Everything else goes through the library's kind-neutral handle (fsc_coll)
 * or its typed faces.
 */
#include "fsc.h"

#include <string.h>

static void fill(struct cli_coll *c) {
  c->kind = (fsc_kind)fsc_coll_kind(c->h);
  c->type = fsc_coll_type(c->h);
  c->key_type = c->kind == FSC_KIND_DICT
                    ? fsc_dict_key_type(fsc_coll_dict(c->h))
                    : FSC_TYPE_UNSPEC;
}

int64_t cli_lock_timeout_ms = -2;
int cli_access = FSC_ACCESS_RANDOM;

/* fsc_open with --lock-timeout applied. */
static int open_with(const char *path, fsc_kind k, const fsc_options *in,
                     fsc_coll **out) {
  fsc_options o = *in;
  if (cli_lock_timeout_ms >= FSC_LOCK_WAIT_FOREVER)
    o.lock_timeout_ms = cli_lock_timeout_ms;
  o.access = cli_access;
  return fsc_open(path, k, &o, out);
}

int cli_open_rc(const char *path, unsigned flags, struct cli_coll *c) {
  memset(c, 0, sizeof *c);
  c->path = path;
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = flags & FSC_RDONLY;
  int rc = open_with(path, FSC_KIND_ANY, &o, &c->h);
  if (rc == 0)
    fill(c);
  return rc;
}

int cli_open(const char *path, unsigned flags, struct cli_coll *c) {
  int rc = cli_open_rc(path, flags, c);
  return rc ? cli_fail(path, rc) : CLI_OK;
}

int cli_create(const char *path, fsc_kind kind, int type, int key_type,
               unsigned flags, struct cli_coll *c) {
  memset(c, 0, sizeof *c);
  c->path = path;
  fsc_options o = FSC_OPTIONS_INIT;
  o.flags = flags;
  o.type = (fsc_type)type;
  o.key_type = (fsc_type)key_type;
  int rc = open_with(path, kind, &o, &c->h);
  if (rc)
    return cli_fail(path, rc);
  fill(c);
  return CLI_OK;
}

/* Close (or destroy) and free the handle. */
static int end(struct cli_coll *c, bool destroy) {
  if (c->kind == FSC_KIND_ANY)
    return CLI_OK;
  int rc = destroy ? fsc_coll_destroy(c->h) : fsc_coll_close(c->h);
  fsc_coll_free(c->h);
  c->h = NULL;
  c->kind = FSC_KIND_ANY;
  return rc ? cli_fail(c->path, rc) : CLI_OK;
}

int cli_close(struct cli_coll *c) { return end(c, false); }

int cli_destroy(struct cli_coll *c) { return end(c, true); }

int cli_metrics(struct cli_coll *c, fsc_metrics *m) {
  memset(m, 0, sizeof *m);
  m->size = sizeof *m;
  return fsc_coll_metrics(c->h, m);
}

int cli_verify(struct cli_coll *c, unsigned flags, fsc_verify_report *r) {
  memset(r, 0, sizeof *r);
  r->size = sizeof *r;
  return fsc_coll_verify(c->h, flags, r);
}
