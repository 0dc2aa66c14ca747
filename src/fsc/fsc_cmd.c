/* SPDX-License-Identifier: MIT */
/*
 * fsc_cmd.c - owns the point commands of the fsc tool: create, destroy,
 * clear, len, get, set, del, append, pop, add, remove, contains, incr.
 * Each opens the collection, does one thing through the public API, and
 * maps the library's error to a message and an exit code.
 */
#include "fsc.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The type values are parsed as: --type, else the collection's, else
 * (an any collection) FSC_TYPE_ANY: the type the text looks like
 * (guess_type; --type string forces strings). */
static fsc_type value_type(const struct cli_opts *o, const struct cli_coll *c) {
  if (o->type != FSC_TYPE_UNSPEC && o->type != FSC_TYPE_ANY)
    return (fsc_type)o->type;
  if (c->type != FSC_TYPE_ANY && c->type > 0)
    return (fsc_type)c->type;
  return FSC_TYPE_ANY;
}

/* What a value typed for an any collection looks like: an integer
 * ("-12": int64, int128 beyond int64), a decimal float ("2.5", "1e3",
 * "-.5"), true or false (bool); anything else, "inf" and "0x10"
 * included, is a string.  fsc(1) documents the same rule. */
static fsc_type guess_type(const char *text) {
  const char *p = text;
  if (!strcmp(text, "true") || !strcmp(text, "false"))
    return FSC_TYPE_BOOL;
  if (*p == '-' || *p == '+')
    p++;
  if (!*p)
    return FSC_TYPE_STRING;
  bool digits = false, point = false, exp = false;
  for (; *p; p++) {
    if (isdigit((unsigned char)*p)) {
      digits = true;
    } else if (*p == '.' && !point && !exp) {
      point = true;
    } else if ((*p == 'e' || *p == 'E') && digits && !exp) {
      exp = true;
      digits = false;       /* the exponent needs digits of its own */
      if (p[1] == '-' || p[1] == '+')
        p++;
    } else {
      return FSC_TYPE_STRING;
    }
  }
  if (!digits)
    return FSC_TYPE_STRING;
  if (point || exp)
    return FSC_TYPE_FLOAT;
  errno = 0;
  (void)strtoll(text, NULL, 10);
  if (errno != ERANGE)
    return FSC_TYPE_INT64;
  fsc_int128 x;
  return cli_i128_parse(text, &x) == 0 ? FSC_TYPE_INT128 : FSC_TYPE_STRING;
}

static int wrong_kind(const char *cmd, const struct cli_coll *c,
                      const char *needs) {
  cli_msg("%s: '%s' needs %s; this is a %s", c->path, cmd, needs,
          fsc_kind_name(c->kind));
  return CLI_USAGE;
}

static int parse_index(const char *text, int64_t *out) {
  char *end;
  errno = 0;
  long long x = strtoll(text, &end, 10);
  if (!*text || *end || errno) {
    cli_msg("'%s' is not a list index (an integer)", text);
    return CLI_USAGE;
  }
  *out = x;
  return CLI_OK;
}

static int parse_val(const struct cli_opts *o, const struct cli_coll *c,
                     const char *text, struct cli_val *out) {
  char err[256];
  fsc_type t = value_type(o, c);
  if (t == FSC_TYPE_ANY)
    t = guess_type(text);
  int ex = cli_parse_value(text, t, o->hex, out, err, sizeof err);
  if (ex)
    cli_msg("%s", err);
  return ex;
}

static int parse_key(const struct cli_opts *o, const struct cli_coll *c,
                     const char *text, struct cli_val *out) {
  char err[256];
  int ex = cli_parse_key(text, c->key_type, o->hex, out, err, sizeof err);
  if (ex)
    cli_msg("key %s", err);
  return ex;
}

static void show(const struct cli_opts *o, const fsc_value *v) {
  if (o->json) {
    json_t *obj = json_object();
    if (cli_value_to_json(obj, v, true) == CLI_OK) {
      json_dumpf(obj, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
      putchar('\n');
    }
    json_decref(obj);
    return;
  }
  cli_print_value(stdout, v, o->hex, o->raw);
}

/* Finish a command: report rc (if any), close, return the exit code. */
static int finish(struct cli_coll *c, int rc) {
  int ex = rc ? cli_fail(c->path, rc) : CLI_OK;
  int cex = cli_close(c);
  return ex ? ex : cex;
}

static int finish_ex(struct cli_coll *c, int ex) {
  int cex = cli_close(c);
  return ex ? ex : cex;
}

int cli_cmd_create(const struct cli_opts *o, int argc, char **argv) {
  int k = fsc_kind_parse(argv[0]);
  if (k < 0) {
    cli_msg("'%s' is not a kind: list, dict or set", argv[0]);
    return CLI_USAGE;
  }
  const char *path = argv[1];
  struct cli_coll c;
  if (cli_open_rc(path, FSC_RDONLY, &c) == 0) {
    cli_msg("%s: a %s already exists there", path, fsc_kind_name(c.kind));
    cli_close(&c);
    return CLI_FAIL;
  }
  if (k != FSC_KIND_DICT && o->key_type != FSC_TYPE_UNSPEC) {
    cli_msg("--key-type is for dicts");
    return CLI_USAGE;
  }
  int ex = cli_create(path, (fsc_kind)k, o->type, o->key_type,
                      FSC_CREATE | FSC_EXCL, &c);
  return ex ? ex : cli_close(&c);
}

int cli_cmd_destroy(const struct cli_opts *o, int argc, char **argv) {
  struct cli_coll c;
  int ex = cli_open(argv[0], 0, &c);
  return ex ? ex : cli_destroy(&c);
}

int cli_cmd_clear(const struct cli_opts *o, int argc, char **argv) {
  struct cli_coll c;
  int ex = cli_open(argv[0], 0, &c);
  return ex ? ex : finish(&c, fsc_coll_clear(c.h));
}

int cli_cmd_len(const struct cli_opts *o, int argc, char **argv) {
  struct cli_coll c;
  int ex = cli_open(argv[0], FSC_RDONLY, &c);
  if (ex)
    return ex;
  uint64_t n;
  int rc = fsc_coll_len(c.h, &n);
  if (!rc)
    printf("%llu\n", (unsigned long long)n);
  return finish(&c, rc);
}

int cli_cmd_get(const struct cli_opts *o, int argc, char **argv) {
  struct cli_coll c;
  int ex = cli_open(argv[0], FSC_RDONLY, &c);
  if (ex)
    return ex;
  fsc_value v;
  int rc;
  if (c.kind == FSC_KIND_DICT) {
    struct cli_val k;
    if ((ex = parse_key(o, &c, argv[1], &k)) != 0)
      return finish_ex(&c, ex);
    rc = fsc_dict_get(fsc_coll_dict(c.h), k.v.u.buf.ptr, k.v.u.buf.len, &v);
    cli_val_free(&k);
  } else if (c.kind == FSC_KIND_LIST) {
    int64_t i;
    if ((ex = parse_index(argv[1], &i)) != 0)
      return finish_ex(&c, ex);
    rc = fsc_list_get(fsc_coll_list(c.h), i, &v);
  } else {
    return finish_ex(&c, wrong_kind("get", &c, "a dict or a list (for a "
                                               "set, use 'contains')"));
  }
  if (!rc)
    show(o, &v);
  return finish(&c, rc);
}

int cli_cmd_set(const struct cli_opts *o, int argc, char **argv) {
  struct cli_coll c;
  int ex = cli_open(argv[0], 0, &c);
  if (ex)
    return ex;
  if (c.kind == FSC_KIND_SET)
    return finish_ex(&c, wrong_kind("set", &c, "a dict or a list (for a set, "
                                               "use 'add')"));
  struct cli_val v, k = {0};
  int64_t i = 0;
  if (c.kind == FSC_KIND_DICT)
    ex = parse_key(o, &c, argv[1], &k);
  else
    ex = parse_index(argv[1], &i);
  if (ex || (ex = parse_val(o, &c, argv[2], &v)) != 0) {
    cli_val_free(&k);
    return finish_ex(&c, ex);
  }
  int rc = c.kind == FSC_KIND_DICT
               ? fsc_dict_set(fsc_coll_dict(c.h), k.v.u.buf.ptr, k.v.u.buf.len, &v.v)
               : fsc_list_set(fsc_coll_list(c.h), i, &v.v);
  cli_val_free(&k);
  cli_val_free(&v);
  return finish(&c, rc);
}

int cli_cmd_del(const struct cli_opts *o, int argc, char **argv) {
  struct cli_coll c;
  int ex = cli_open(argv[0], 0, &c);
  if (ex)
    return ex;
  int rc;
  if (c.kind == FSC_KIND_DICT) {
    struct cli_val k;
    if ((ex = parse_key(o, &c, argv[1], &k)) != 0)
      return finish_ex(&c, ex);
    rc = fsc_dict_del(fsc_coll_dict(c.h), k.v.u.buf.ptr, k.v.u.buf.len);
    cli_val_free(&k);
  } else if (c.kind == FSC_KIND_LIST) {
    int64_t i;
    if ((ex = parse_index(argv[1], &i)) != 0)
      return finish_ex(&c, ex);
    rc = fsc_list_del(fsc_coll_list(c.h), i);
  } else {
    return finish_ex(&c, wrong_kind("del", &c, "a dict or a list (for a set, "
                                               "use 'remove')"));
  }
  return finish(&c, rc);
}

int cli_cmd_append(const struct cli_opts *o, int argc, char **argv) {
  struct cli_coll c;
  int ex = cli_open(argv[0], 0, &c);
  if (ex)
    return ex;
  if (c.kind != FSC_KIND_LIST)
    return finish_ex(&c, wrong_kind("append", &c, "a list"));
  int rc = 0;
  for (int a = 1; a < argc && !rc; a++) {
    struct cli_val v;
    if ((ex = parse_val(o, &c, argv[a], &v)) != 0)
      return finish_ex(&c, ex);
    rc = fsc_list_append(fsc_coll_list(c.h), &v.v);
    cli_val_free(&v);
  }
  return finish(&c, rc);
}

int cli_cmd_pop(const struct cli_opts *o, int argc, char **argv) {
  struct cli_coll c;
  int ex = cli_open(argv[0], 0, &c);
  if (ex)
    return ex;
  fsc_value v;
  int rc;
  if (c.kind == FSC_KIND_LIST) {
    int64_t i = -1;
    if (argc > 1 && (ex = parse_index(argv[1], &i)) != 0)
      return finish_ex(&c, ex);
    rc = fsc_list_pop(fsc_coll_list(c.h), i, &v);
  } else if (c.kind == FSC_KIND_DICT) {
    if (argc < 2) {
      cli_msg("pop of a dict needs a KEY");
      return finish_ex(&c, CLI_USAGE);
    }
    struct cli_val k;
    if ((ex = parse_key(o, &c, argv[1], &k)) != 0)
      return finish_ex(&c, ex);
    rc = fsc_dict_pop(fsc_coll_dict(c.h), k.v.u.buf.ptr, k.v.u.buf.len, NULL, &v);
    cli_val_free(&k);
  } else {
    if (argc > 1) {
      cli_msg("pop of a set takes no argument");
      return finish_ex(&c, CLI_USAGE);
    }
    rc = fsc_set_pop(fsc_coll_set(c.h), &v);
  }
  if (!rc)
    show(o, &v);
  return finish(&c, rc);
}

int cli_cmd_add(const struct cli_opts *o, int argc, char **argv) {
  struct cli_coll c;
  int ex = cli_open(argv[0], 0, &c);
  if (ex)
    return ex;
  if (c.kind != FSC_KIND_SET)
    return finish_ex(&c, wrong_kind("add", &c, "a set"));
  int rc = 0;
  for (int a = 1; a < argc && rc >= 0; a++) {
    struct cli_val v;
    if ((ex = parse_val(o, &c, argv[a], &v)) != 0)
      return finish_ex(&c, ex);
    rc = fsc_set_add(fsc_coll_set(c.h), &v.v);
    cli_val_free(&v);
  }
  return finish(&c, rc < 0 ? rc : 0);
}

int cli_cmd_remove(const struct cli_opts *o, int argc, char **argv) {
  struct cli_coll c;
  int ex = cli_open(argv[0], 0, &c);
  if (ex)
    return ex;
  if (c.kind == FSC_KIND_DICT)
    return finish_ex(&c, wrong_kind("remove", &c, "a set or a list (for a "
                                                  "dict, use 'del')"));
  struct cli_val v;
  if ((ex = parse_val(o, &c, argv[1], &v)) != 0)
    return finish_ex(&c, ex);
  int rc = c.kind == FSC_KIND_SET ? fsc_set_remove(fsc_coll_set(c.h), &v.v)
                                  : fsc_list_remove(fsc_coll_list(c.h), &v.v);
  cli_val_free(&v);
  return finish(&c, rc);
}

int cli_cmd_contains(const struct cli_opts *o, int argc, char **argv) {
  struct cli_coll c;
  int ex = cli_open(argv[0], FSC_RDONLY, &c);
  if (ex)
    return ex;
  struct cli_val v;
  int rc;
  if (c.kind == FSC_KIND_DICT) {
    if ((ex = parse_key(o, &c, argv[1], &v)) != 0)
      return finish_ex(&c, ex);
    rc = fsc_dict_contains(fsc_coll_dict(c.h), v.v.u.buf.ptr, v.v.u.buf.len);
  } else {
    if ((ex = parse_val(o, &c, argv[1], &v)) != 0)
      return finish_ex(&c, ex);
    rc = c.kind == FSC_KIND_SET ? fsc_set_contains(fsc_coll_set(c.h), &v.v)
                                : fsc_list_contains(fsc_coll_list(c.h), &v.v);
  }
  cli_val_free(&v);
  if (rc < 0)
    return finish(&c, rc);
  printf("%s\n", rc ? "true" : "false");
  return finish_ex(&c, rc ? CLI_OK : CLI_FAIL);
}

int cli_cmd_incr(const struct cli_opts *o, int argc, char **argv) {
  struct cli_coll c;
  int ex = cli_open(argv[0], 0, &c);
  if (ex)
    return ex;
  if (c.kind != FSC_KIND_DICT)
    return finish_ex(&c, wrong_kind("incr", &c, "a dict"));
  int64_t delta = 1;
  if (argc > 2) {
    char *end;
    errno = 0;
    long long x = strtoll(argv[2], &end, 10);
    if (!*argv[2] || *end || errno) {
      cli_msg("'%s' is not an int64 delta", argv[2]);
      return finish_ex(&c, CLI_USAGE);
    }
    delta = x;
  }
  struct cli_val k;
  if ((ex = parse_key(o, &c, argv[1], &k)) != 0)
    return finish_ex(&c, ex);
  int64_t now;
  int rc = fsc_dict_incr(fsc_coll_dict(c.h), k.v.u.buf.ptr, k.v.u.buf.len, delta, &now);
  cli_val_free(&k);
  if (!rc)
    printf("%lld\n", (long long)now);
  return finish(&c, rc);
}
