/* SPDX-License-Identifier: MIT */
/*
 * fsc.h - what the files of the fsc command-line tool share: exit codes,
 * the parsed command line, an open collection of any kind, values parsed
 * from text and JSON, and the progress bar.
 *
 * The tool uses only the public API (fscollections.h) and jansson.
 */
#ifndef FSC_CLI_H
#define FSC_CLI_H

#include <fscollections.h>
#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes (documented in doc/fsc.1 and `fsc --help`). */
enum {
  CLI_OK = 0,          /* success */
  CLI_FAIL = 1,        /* not found / false / refused (KeyError, ...) */
  CLI_USAGE = 2,       /* bad command line, value, type or kind; bad input */
  CLI_CORRUPT = 3,     /* the collection is corrupt or of a newer format */
  CLI_IO = 4,          /* missing collection, permission, space, I/O */
  CLI_UNSUPPORTED = 5  /* not supported by this version */
};

/* The parsed command line.  type / key_type are FSC_TYPE_UNSPEC unless
 * given; kind is FSC_KIND_ANY unless given. */
struct cli_opts {
  int type;          /* --type */
  int key_type;      /* --key-type */
  fsc_kind kind;     /* --kind (create) */
  bool force;        /* --force (load) */
  bool repair;       /* --repair (verify) */
  bool follow;       /* --follow (dump): referenced collections too */
  bool json;         /* --json (stat, get, pop, verify) */
  bool hex;          /* --hex: bytes as hex instead of base64 */
  bool raw;          /* --raw: get/pop write a value's bytes as they are */
  bool quiet;        /* --quiet: no progress bar */
  bool progress;     /* --progress: a progress bar even off a terminal */
  long workers;      /* --workers (demo) */
  long jobs;         /* --jobs (demo) */
  const char *prog;  /* argv[0] for messages */
};

/* --lock-timeout: fsc_options.lock_timeout_ms of every open; below
 * FSC_LOCK_WAIT_FOREVER: the library's default. */
extern int64_t cli_lock_timeout_ms;
/* fsc_options.access of the collections cli_open opens (dump: read
 * everything in order, so FSC_ACCESS_SEQUENTIAL). */
extern int cli_access;

/* An open collection of any kind. */
struct cli_coll {
  fsc_kind kind;     /* FSC_KIND_ANY: none open */
  const char *path;
  int type;          /* element type (FSC_TYPE_ANY if heterogeneous) */
  int key_type;      /* dicts: FSC_TYPE_STRING or FSC_TYPE_BYTES */
  fsc_coll *h;       /* typed faces: fsc_coll_list(h), ... */
};

/* ---- fsc_main.c: messages ---- */

/* "fsc: <message>" on stderr. */
void cli_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "fsc: PATH: <fsc_strerror(rc)>: <fsc_errmsg()>" on stderr; returns the
 * exit code for rc. */
int cli_fail(const char *path, int rc);
/* The exit code of an fsc_ error code. */
int cli_exit_code(int rc);

/* ---- fsc_coll.c: collections of any kind ---- */

/* Open PATH (no FSC_CREATE) whatever its kind (fsc_open, FSC_KIND_ANY).
 * `flags` is FSC_RDONLY or 0.  Reports failures; returns an exit code. */
int cli_open(const char *path, unsigned flags, struct cli_coll *c);
/* As cli_open, silently: returns 0 or the fsc_ error code. */
int cli_open_rc(const char *path, unsigned flags, struct cli_coll *c);
/* Create (or open) a collection of a given kind and types. */
int cli_create(const char *path, fsc_kind kind, int type, int key_type,
               unsigned flags, struct cli_coll *c);
/* Close and free; reports a failed close, returns an exit code. */
int cli_close(struct cli_coll *c);
/* Destroy (close and delete both files). */
int cli_destroy(struct cli_coll *c);
/* fsc_coll_metrics / fsc_coll_verify with the struct's size set here. */
int cli_metrics(struct cli_coll *c, fsc_metrics *m);
int cli_verify(struct cli_coll *c, unsigned flags, fsc_verify_report *r);

/* ---- fsc_value.c: values as text and as JSON ---- */

/* A value parsed from text or JSON; `buf` owns a variable-size value's
 * bytes (free with cli_val_free). */
struct cli_val {
  fsc_value v;
  void *buf;
};
void cli_val_free(struct cli_val *cv);

/* Parse command-line text as a value of type t (hex: bytes in hex, else
 * base64).  On failure returns CLI_USAGE with a message in err. */
int cli_parse_value(const char *text, fsc_type t, bool hex,
                    struct cli_val *out, char *err, size_t errlen);
/* Parse a dict key for a dict with keys of key_type. */
int cli_parse_key(const char *text, int key_type, bool hex,
                  struct cli_val *out, char *err, size_t errlen);
/* Print a value for a person (and for scripts): numbers in decimal, a
 * float with 17 significant digits, strings and json as they are, bytes
 * in base64 (or hex), then a newline.  raw: the bytes of a string, bytes,
 * json or ref value exactly, without a newline. */
void cli_print_value(FILE *f, const fsc_value *v, bool hex, bool raw);

/* JSON lines (doc/fsc.1, FORMAT of dump): a value's natural JSON form.
 * Adds "v" (and "text"/"b64" when the natural form would not be exact) to
 * obj, and "t" when tagged.  Returns 0 or CLI_USAGE with err. */
int cli_value_to_json(json_t *obj, const fsc_value *v, bool tagged);
/* The JSON of a dict key (a string, or base64 for binary keys). */
json_t *cli_key_to_json(const fsc_value *k);
/* Decode the value of a line object for a collection of type coll_type. */
int cli_value_from_json(json_t *obj, int coll_type, struct cli_val *out,
                        char *err, size_t errlen);
int cli_key_from_json(json_t *k, int key_type, struct cli_val *out,
                      char *err, size_t errlen);

/* Codecs. */
char *cli_base64_encode(const void *p, size_t n);      /* malloc'd */
int cli_base64_decode(const char *s, size_t n, void **out, size_t *len);
char *cli_hex_encode(const void *p, size_t n);         /* malloc'd */
int cli_hex_decode(const char *s, size_t n, void **out, size_t *len);
void cli_i128_format(fsc_int128 v, char buf[48]);
int cli_i128_parse(const char *s, fsc_int128 *out);    /* 0 or -1 */
/* A float bits-exact: "0x1.8p+1", "-0x0p+0", "inf", "-inf", "nan",
 * "-nan", or "nan:0x<16 hex digits>" for another NaN. */
void cli_f64_format(double d, char buf[48]);
int cli_f64_parse(const char *s, double *out);         /* 0 or -1 */

/* ---- fsc_progress.c ---- */

struct cli_progress {
  bool on;        /* stderr is a terminal (or --progress), not --quiet */
  bool forced;    /* --progress: draw at once, and at the end */
  bool shown;     /* drawn at least once */
  const char *label;
  uint64_t total; /* 0: unknown */
  uint64_t done;
  double start, last;
};
void cli_progress_start(struct cli_progress *p, const struct cli_opts *o,
                        const char *label, uint64_t total);
/* Cheap: draws at most every 100 ms, and only after 300 ms. */
void cli_progress_tick(struct cli_progress *p, uint64_t done);
void cli_progress_end(struct cli_progress *p);
double cli_now(void);

/* ---- commands ---- */

int cli_cmd_stat(const struct cli_opts *o, int argc, char **argv);
int cli_cmd_verify(const struct cli_opts *o, int argc, char **argv);
int cli_cmd_compact(const struct cli_opts *o, int argc, char **argv);
int cli_cmd_dump(const struct cli_opts *o, int argc, char **argv);
int cli_cmd_load(const struct cli_opts *o, int argc, char **argv);
int cli_cmd_create(const struct cli_opts *o, int argc, char **argv);
int cli_cmd_destroy(const struct cli_opts *o, int argc, char **argv);
int cli_cmd_clear(const struct cli_opts *o, int argc, char **argv);
int cli_cmd_len(const struct cli_opts *o, int argc, char **argv);
int cli_cmd_get(const struct cli_opts *o, int argc, char **argv);
int cli_cmd_set(const struct cli_opts *o, int argc, char **argv);
int cli_cmd_del(const struct cli_opts *o, int argc, char **argv);
int cli_cmd_append(const struct cli_opts *o, int argc, char **argv);
int cli_cmd_pop(const struct cli_opts *o, int argc, char **argv);
int cli_cmd_add(const struct cli_opts *o, int argc, char **argv);
int cli_cmd_remove(const struct cli_opts *o, int argc, char **argv);
int cli_cmd_contains(const struct cli_opts *o, int argc, char **argv);
int cli_cmd_incr(const struct cli_opts *o, int argc, char **argv);
int cli_cmd_demo(const struct cli_opts *o, int argc, char **argv);

#endif
