/* SPDX-License-Identifier: MIT */
/*
 * fsc_main.c - owns the fsc command line: the command table, option
 * parsing, --help / help CMD / --version, error messages and exit codes.
 *
 *   fsc [OPTIONS] COMMAND [ARGS]     (options may come anywhere; a negative
 *                                     number such as -1 is an argument)
 */
#include "fsc.h"


#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------ */
/* Messages and exit codes                                             */
/* ------------------------------------------------------------------ */

void cli_msg(const char *fmt, ...) {
  va_list ap;
  fflush(stdout);
  fputs("fsc: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

int cli_exit_code(int rc) {
  switch (rc) {
  case 0:
    return CLI_OK;
  case FSC_EINDEX:
  case FSC_EKEY:
  case FSC_EVALUE:
    return CLI_FAIL;
  case FSC_ETYPE:
  case FSC_EKIND:
  case FSC_EINVAL:
    return CLI_USAGE;
  case FSC_ECORRUPT:
  case FSC_EVERSION:
    return CLI_CORRUPT;
  default:
    return CLI_IO;
  }
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

static bool file_exists(const char *base, const char *suffix) {
  char p[4096];
  struct stat st;
  if ((size_t)snprintf(p, sizeof p, "%s%s", base, suffix) >= sizeof p)
    return false;
  return lstat(p, &st) == 0;
}

/* FSC_ENOENT, said once, with what the user can do about it: a path typed
 * with a file's suffix gets the base path to use; a collection with one of
 * its two files is damaged, not missing (exit 3). */
static int missing(const char *path) {
  static const char *const sfx[] = {".data.fscollection", ".index.fscollection"};
  for (int i = 0; i < 2; i++) {
    if (ends_with(path, sfx[i])) {
      int n = (int)(strlen(path) - strlen(sfx[i]));
      cli_msg("%s: collection does not exist; name a collection by its base "
              "path, without %s: %.*s", path, sfx[i], n, path);
      return CLI_IO;
    }
  }
  bool data = file_exists(path, sfx[0]), index = file_exists(path, sfx[1]);
  if (data != index) {
    cli_msg("%s: collection is incomplete: %s%s exists but %s%s is missing",
            path, path, data ? sfx[0] : sfx[1], path, data ? sfx[1] : sfx[0]);
    return CLI_CORRUPT;
  }
  cli_msg("%s: collection does not exist", path);
  return CLI_IO;
}

int cli_fail(const char *path, int rc) {
  if (rc == FSC_ENOENT)
    return missing(path);
  const char *what = fsc_strerror(rc);
  const char *detail = fsc_errmsg();
  /* The library's detail may name the error in Python's words ("KeyError:
   * 'k'") or restate the text: keep only what it adds. */
  if (detail && rc == FSC_EKEY && strncmp(detail, "KeyError: ", 10) == 0)
    detail += 10;
  if (detail && *detail && strcmp(detail, what) != 0)
    cli_msg("%s: %s: %s", path, what, detail);
  else
    cli_msg("%s: %s", path, what);
  return cli_exit_code(rc);
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */
/* ------------------------------------------------------------------ */

typedef int (*cmd_fn)(const struct cli_opts *, int, char **);

struct cmd {
  const char *name;
  cmd_fn fn;
  int min, max; /* positional arguments; max -1: any number */
  const char *args;
  const char *summary;
  const char *help;
};

static const struct cmd cmds[] = {
    {"stat", cli_cmd_stat, 1, 1, "[--json] PATH",
     "the collection's kind, types and metrics",
     "Open PATH read-only, whatever it holds, and print its kind, element\n"
     "type, key type (dicts), length and metrics: live and dead bytes, file\n"
     "sizes, whether the previous session closed cleanly, open processes;\n"
     "in a collection of type ref or any, the references it holds and how\n"
     "many are dangling (a walk of the collection).\n"
     "--json prints them as one JSON object on one line.\n"},
    {"dump", cli_cmd_dump, 1, 2, "[--follow] PATH [FILE]",
     "write the collection as JSON lines (to FILE or stdout)",
     "Write PATH as JSON lines: a header {\"fscollections\":1,\"kind\":...,\n"
     "\"type\":...,\"key_type\":...,\"length\":N}, one object per element\n"
     "({\"v\":...}, dicts {\"k\":...,\"v\":...}; an any collection adds \"t\"),\n"
     "and {\"end\":true,\"count\":N}.  Every type round-trips exactly: int128\n"
     "as a decimal string, float as a hex float string (\"0x1.8p+1\", \"inf\",\n"
     "\"nan\"), bytes and binary keys as base64, json as the value (with its\n"
     "exact \"text\" when needed).  The dump runs while other processes write:\n"
     "it sees each element present for the whole dump.  A reference (type\n"
     "ref) is written as its URI.  --follow also dumps, after PATH, every\n"
     "collection PATH references, and theirs, each once (cycles are cut),\n"
     "as sections whose header holds \"path\": the child's path relative to\n"
     "PATH's directory; fsc load restores the whole tree.  References that\n"
     "lead outside PATH's directory, or whose files are missing, are not\n"
     "followed (a warning on stderr).\n"},
    {"load", cli_cmd_load, 1, 2, "[--force] PATH [FILE]",
     "create the collection from JSON lines (from FILE or stdin)",
     "Create PATH as the header of the dump says and store every line.  A\n"
     "collection that exists and is not empty, or is of another kind or type,\n"
     "is refused (exit 1) unless --force, which replaces it.  All or nothing:\n"
     "the lines go into a new collection PATH.loading-XXXXXX, which replaces\n"
     "PATH only when every line has loaded (index file first, under its\n"
     "lock, then the data file), so a malformed line (exit 2, with its line\n"
     "number) leaves PATH as it was.  A collection that another process has\n"
     "open is refused (exit 1): it would keep the old files.  The sections\n"
     "of a dump --follow after the first are loaded, each the same way, at\n"
     "their \"path\" relative to PATH's directory (directories are made), so\n"
     "the tree of collections and its relative references come back.\n"},
    {"create", cli_cmd_create, 2, 2,
     "[--type T] [--key-type string|bytes] KIND PATH",
     "create an empty list, dict or set",
     "Create an empty collection of KIND (list, dict or set) at PATH, with\n"
     "element type T (int32, int64, int128, string, bool, float, bytes, json,\n"
     "ref or any; any by default) and, for a dict, string or bytes keys.\n"
     "Exit 1 if something exists there.\n"},
    {"destroy", cli_cmd_destroy, 1, 1, "PATH",
     "delete the collection's two files",
     "Delete PATH.data.fscollection and PATH.index.fscollection.  Processes\n"
     "that have it open keep their mappings.\n"},
    {"clear", cli_cmd_clear, 1, 1, "PATH", "remove every element",
     "Remove every element of PATH (a structural change, under the lock).\n"},
    {"len", cli_cmd_len, 1, 1, "PATH", "print the number of elements",
     "Print the number of elements (list, set) or keys (dict).\n"},
    {"get", cli_cmd_get, 2, 2, "PATH KEY|INDEX",
     "print d[KEY] of a dict, or l[INDEX] of a list",
     "Print the value of KEY in a dict, or at INDEX in a list (negative\n"
     "counts from the end).  Exit 1 if the key or index does not exist.\n"
     "Values print as text: numbers in decimal, strings, json and refs as\n"
     "they are, bytes in base64 (--hex: hex); --raw writes a value's bytes\n"
     "exactly, without a newline; --json prints {\"t\":TYPE,\"v\":VALUE}.\n"},
    {"set", cli_cmd_set, 3, 3, "PATH KEY|INDEX VALUE",
     "d[KEY] = VALUE, or l[INDEX] = VALUE",
     "Set KEY of a dict (or the element at INDEX of a list) to VALUE, parsed\n"
     "as --type or the collection's type (in an any collection, the type\n"
     "it looks like: 7 int64, 2.5 float, true bool, else string).\n"
     "Bytes values and binary keys are given in base64, or hex with --hex.\n"},
    {"del", cli_cmd_del, 2, 2, "PATH KEY|INDEX",
     "del d[KEY], or del l[INDEX]",
     "Delete KEY from a dict, or the element at INDEX from a list.  Exit 1\n"
     "if it does not exist.\n"},
    {"append", cli_cmd_append, 2, -1, "PATH VALUE...",
     "append values to a list",
     "Append each VALUE to the list at PATH (lock-free), parsed as --type or\n"
     "the list's type.  In an any list each is the type it looks like: an\n"
     "integer is int64 (int128 if larger), a decimal real a float, true or\n"
     "false a bool, anything else a string; --type string keeps them all\n"
     "strings.\n"},
    {"pop", cli_cmd_pop, 1, 2, "PATH [INDEX|KEY]",
     "remove and print an element",
     "List: remove and print the element at INDEX (default -1, the last).\n"
     "Dict: remove KEY and print its value.  Set: remove and print an\n"
     "element.  Exit 1 if there is nothing to pop.\n"},
    {"add", cli_cmd_add, 2, -1, "PATH VALUE...", "add values to a set",
     "Add each VALUE to the set at PATH (one already there is no error).\n"},
    {"remove", cli_cmd_remove, 2, 2, "PATH VALUE",
     "remove a value from a set (or its first occurrence from a list)",
     "Remove VALUE from a set, or its first occurrence from a list.  Exit 1\n"
     "if it is not there.\n"},
    {"contains", cli_cmd_contains, 2, 2, "PATH VALUE|KEY",
     "print true (exit 0) or false (exit 1)",
     "Print true and exit 0 if the set or list holds VALUE (the dict holds\n"
     "KEY); print false and exit 1 if not.\n"},
    {"incr", cli_cmd_incr, 2, 3, "PATH KEY [DELTA]",
     "add DELTA (default 1) to an int64 counter of a dict",
     "Atomically add DELTA (default 1) to the int64 value of KEY (a missing\n"
     "key counts from 0) and print the new value.  Lock-free: no increment\n"
     "of any process is lost.  The dict must be of int64 or any.\n"},
    {"verify", cli_cmd_verify, 1, 1, "[--repair] [--json] PATH",
     "check a collection; --repair: and repair it",
     "Check PATH while other processes may use it (fsc_*_verify): the\n"
     "checksum, bounds and type of every record the index references, the\n"
     "index structure (slots, probe chains, a change left half-done by a\n"
     "process that died) and the counters (length, used slots, live and dead\n"
     "bytes; only when no other process has it open).  Then read back every\n"
     "element.  Prints what was checked and every problem found; --json\n"
     "prints it as one JSON object on one line.  Without --repair the collection is\n"
     "opened read-only and nothing is written.\n"
     "--repair opens it as a writer (so the first open after a crash repairs\n"
     "it as usual) and repairs what the check finds: a list keeps the\n"
     "elements whose record verifies, a dict or set drops the keys whose\n"
     "record is bad and rebuilds its table (from the data file if keys were\n"
     "lost from the index: that needs no other process to have it open),\n"
     "and the counters are corrected.  What is dropped is reported.\n"
     "References (fsc_ref_check(3)) are counted, and those whose collection\n"
     "is missing reported as dangling; they do not make PATH unsound.\n"
     "Exit 0 if it is sound (after the repair, with --repair), 3 if problems\n"
     "were found (or are left), 4 if it could not be checked (missing,\n"
     "permission denied: --repair needs write permission, I/O).\n"},
    {"compact", cli_cmd_compact, 1, 1, "[--json] PATH",
     "write the live records into new files, dropping dead ones",
     "Compact PATH while other processes keep using it: the live records are\n"
     "copied into new files, which replace the old ones, and every process\n"
     "moves to them (fsc_list_compact(3)).  Prints the generation, dead\n"
     "bytes and file sizes before and after (--json: one object).  Shows a\n"
     "progress bar on a terminal.  Exit 0, or 4 if it could not run (no\n"
     "space: the old files are untouched).\n"},
    {"demo", cli_cmd_demo, 0, 1, "[-w WORKERS] [-n JOBS] [DIR]",
     "worker processes share a job queue and counters",
     "The project's main job in one command.  WORKERS processes (default 4:\n"
     "half produce, half consume) share, by path, three collections in DIR\n"
     "(default: a new directory under $TMPDIR):\n"
     "  DIR/jobs      a list used as a bounded queue: producers append while\n"
     "                it holds fewer than 1000 jobs, consumers pop_wait(0)\n"
     "                (they sleep while it is empty: no polling);\n"
     "  DIR/counters  a dict of int64 counters that every worker increments\n"
     "                with fsc_dict_incr (in place, lock-free);\n"
     "  DIR/done      a set of the job ids done.\n"
     "JOBS (default 100000) jobs flow through.  The demo prints what each\n"
     "worker did, the counters, and the verified totals: every job done\n"
     "exactly once, every counter exact.  It ends with OK (exit 0) or\n"
     "FAILED (exit 1).\n"},
    {"help", NULL, 0, 1, "[COMMAND]", "show help for a command", ""},
};

#define NCMDS (sizeof cmds / sizeof cmds[0])

static const struct cmd *find_cmd(const char *name) {
  for (size_t i = 0; i < NCMDS; i++)
    if (strcmp(cmds[i].name, name) == 0)
      return &cmds[i];
  return NULL;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: fsc [OPTIONS] COMMAND [ARGS]\n"
          "\n"
          "Look inside, change, check, dump and load fscollections lists,\n"
          "dicts and sets.  PATH is a collection's base path: its files are\n"
          "PATH.data.fscollection and PATH.index.fscollection.\n"
          "\n"
          "commands:\n");
  for (size_t i = 0; i < NCMDS; i++)
    fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].summary);
  fprintf(f,
          "\n"
          "options:\n"
          "  -t, --type T      parse values as T: int32 int64 int128 string\n"
          "                    bool float bytes json ref (create: any too)\n"
          "  -k, --key-type K  create: a dict's keys, string or bytes\n"
          "  -f, --force       load: replace an existing collection\n"
          "      --repair      verify: repair what the check finds\n"
          "      --follow      dump: the collections it references too\n"
          "  -j, --json        stat, verify, compact, get, pop: JSON output,\n"
          "                    one document on one line\n"
          "      --hex         bytes values and keys in hex, not base64\n"
          "  -r, --raw         get, pop: the value's bytes exactly\n"
          "  -q, --quiet       no progress bar\n"
          "  -p, --progress    a progress bar even when stderr is no terminal\n"
          "  -w, --workers N   demo: worker processes (default 4)\n"
          "  -n, --jobs N      demo: jobs (default 100000)\n"
          "      --lock-timeout MS  give up waiting for a file lock after\n"
          "                    MS milliseconds (default 10000; -1: never)\n"
          "  -h, --help        this help; fsc help COMMAND: a command's\n"
          "  -V, --version     print the version\n"
          "\n"
          "exit status: 0 success; 1 not found or refused (missing key or\n"
          "index, value not there, contains false, load onto a non-empty\n"
          "collection); 2 usage (bad arguments, a value of the wrong type, a\n"
          "command for another kind, malformed input); 3 corrupt or incomplete\n"
          "collection "
          "(verify: problems found, or left after --repair);\n"
          "4 other errors (missing collection, permissions, space, I/O);\n"
          "5 not supported by this version (no command uses it now).\n"
          "\n"
          "See fsc(1).\n");
}

static int cmd_help(const char *name) {
  const struct cmd *c = find_cmd(name);
  if (!c) {
    cli_msg("unknown command '%s' (see fsc --help)", name);
    return CLI_USAGE;
  }
  printf("usage: fsc %s %s\n\n%s\n%s", c->name, c->args, c->summary,
         *c->help ? "\n" : "");
  fputs(c->help, stdout);
  return CLI_OK;
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

enum opt_id {
  O_TYPE, O_KEY_TYPE, O_FORCE, O_REPAIR, O_JSON, O_HEX, O_RAW, O_QUIET, O_PROGRESS,
  O_WORKERS, O_JOBS, O_LOCK_TIMEOUT, O_HELP, O_VERSION, O_FOLLOW
};

static const struct opt {
  const char *lng;
  char shrt;
  bool arg;
  enum opt_id id;
} opts[] = {
    {"type", 't', true, O_TYPE},         {"key-type", 'k', true, O_KEY_TYPE},
    {"force", 'f', false, O_FORCE},      {"json", 'j', false, O_JSON},
    {"repair", 0, false, O_REPAIR},    {"follow", 0, false, O_FOLLOW},
    {"hex", 0, false, O_HEX},            {"raw", 'r', false, O_RAW},
    {"quiet", 'q', false, O_QUIET},      {"progress", 'p', false, O_PROGRESS},
    {"workers", 'w', true, O_WORKERS},   {"jobs", 'n', true, O_JOBS},
    {"lock-timeout", 0, true, O_LOCK_TIMEOUT},
    {"help", 'h', false, O_HELP},        {"version", 'V', false, O_VERSION},
};

/* "-1", "-2.5", "-.5", "-inf", "-nan": an argument, not an option. */
static bool negative_number(const char *a) {
  return a[0] == '-' &&
         (isdigit((unsigned char)a[1]) ||
          (a[1] == '.' && isdigit((unsigned char)a[2])) ||
          strcmp(a, "-inf") == 0 || strcmp(a, "-infinity") == 0 ||
          strcmp(a, "-nan") == 0);
}

static int parse_long(const char *name, const char *s, long *out) {
  char *end;
  errno = 0;
  long x = strtol(s, &end, 10);
  if (!*s || *end || errno || x < 0) {
    cli_msg("--%s needs a non-negative integer, not '%s'", name, s);
    return CLI_USAGE;
  }
  *out = x;
  return CLI_OK;
}

static int apply(struct cli_opts *o, const struct opt *op, const char *val,
                 bool *help, bool *version) {
  int t;
  switch (op->id) {
  case O_TYPE:
    t = fsc_type_parse(val);
    if (t < 0 || t == FSC_TYPE_UNSPEC) {
      cli_msg("'%s' is not a type: int32, int64, int128, string, bool, "
              "float, bytes, json, ref or any", val);
      return CLI_USAGE;
    }
    o->type = t;
    return CLI_OK;
  case O_KEY_TYPE:
    t = fsc_type_parse(val);
    if (t != FSC_TYPE_STRING && t != FSC_TYPE_BYTES) {
      cli_msg("'%s' is not a key type: string or bytes", val);
      return CLI_USAGE;
    }
    o->key_type = t;
    return CLI_OK;
  case O_FORCE:
    o->force = true;
    return CLI_OK;
  case O_REPAIR:
    o->repair = true;
    return CLI_OK;
  case O_FOLLOW:
    o->follow = true;
    return CLI_OK;
  case O_JSON:
    o->json = true;
    return CLI_OK;
  case O_HEX:
    o->hex = true;
    return CLI_OK;
  case O_RAW:
    o->raw = true;
    return CLI_OK;
  case O_QUIET:
    o->quiet = true;
    return CLI_OK;
  case O_PROGRESS:
    o->progress = true;
    return CLI_OK;
  case O_WORKERS:
    return parse_long(op->lng, val, &o->workers);
  case O_JOBS:
    return parse_long(op->lng, val, &o->jobs);
  case O_LOCK_TIMEOUT: {
    if (strcmp(val, "-1") == 0) {
      cli_lock_timeout_ms = FSC_LOCK_WAIT_FOREVER;
      return CLI_OK;
    }
    long ms;
    int ex = parse_long(op->lng, val, &ms);
    if (ex == CLI_OK)
      cli_lock_timeout_ms = ms;
    return ex;
  }
  case O_HELP:
    *help = true;
    return CLI_OK;
  case O_VERSION:
    *version = true;
    return CLI_OK;
  }
  return CLI_USAGE;
}

/* Split argv into options (applied to o) and positional arguments (kept in
 * order in pos).  Returns an exit code. */
static int parse_args(int argc, char **argv, struct cli_opts *o, char **pos,
                      int *npos, bool *help, bool *version) {
  bool only_pos = false;
  *npos = 0;
  for (int i = 1; i < argc; i++) {
    char *a = argv[i];
    if (only_pos || a[0] != '-' || a[1] == '\0' || negative_number(a)) {
      pos[(*npos)++] = a;
      continue;
    }
    if (strcmp(a, "--") == 0) {
      only_pos = true;
      continue;
    }
    const struct opt *op = NULL;
    const char *val = NULL;
    if (a[1] == '-') {
      const char *name = a + 2, *eq = strchr(name, '=');
      size_t n = eq ? (size_t)(eq - name) : strlen(name);
      for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++)
        if (strlen(opts[k].lng) == n && strncmp(opts[k].lng, name, n) == 0)
          op = &opts[k];
      if (!op) {
        cli_msg("unknown option '%s' (see fsc --help)", a);
        return CLI_USAGE;
      }
      if (eq && !op->arg) {
        cli_msg("option '--%s' takes no value", op->lng);
        return CLI_USAGE;
      }
      val = eq ? eq + 1 : NULL;
    } else {
      /* Short options, possibly bundled: -fq, -tint64, -t int64. */
      for (const char *p = a + 1; *p; p++) {
        op = NULL;
        for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++)
          if (opts[k].shrt == *p)
            op = &opts[k];
        if (!op) {
          cli_msg("unknown option '-%c' (see fsc --help)", *p);
          return CLI_USAGE;
        }
        if (op->arg) {
          val = p[1] ? p + 1 : NULL;
          break;
        }
        int ex = apply(o, op, NULL, help, version);
        if (ex)
          return ex;
        op = NULL;
      }
      if (!op)
        continue;
    }
    if (op->arg && !val) {
      if (i + 1 >= argc) {
        cli_msg("option '--%s' needs a value", op->lng);
        return CLI_USAGE;
      }
      val = argv[++i];
    }
    int ex = apply(o, op, val, help, version);
    if (ex)
      return ex;
  }
  return CLI_OK;
}

int main(int argc, char **argv) {
  struct cli_opts o = {.type = FSC_TYPE_UNSPEC, .key_type = FSC_TYPE_UNSPEC,
                       .workers = -1, .jobs = -1, .prog = argv[0]};
  char **pos = calloc((size_t)argc + 1, sizeof *pos);
  if (!pos) {
    cli_msg("out of memory");
    return CLI_IO;
  }
  int npos = 0, ex;
  bool help = false, version = false;
  if ((ex = parse_args(argc, argv, &o, pos, &npos, &help, &version)) != 0)
    goto out;
  if (version) {
    printf("fsc (fscollections) %s\n", fsc_version());
    goto out;
  }
  if (npos == 0) {
    usage(help ? stdout : stderr);
    ex = help ? CLI_OK : CLI_USAGE;
    goto out;
  }
  const struct cmd *c = find_cmd(pos[0]);
  if (!c) {
    cli_msg("unknown command '%s' (see fsc --help)", pos[0]);
    ex = CLI_USAGE;
    goto out;
  }
  if (!c->fn) { /* help [COMMAND] */
    if (npos > 1)
      ex = cmd_help(pos[1]);
    else
      usage(stdout);
    goto out;
  }
  if (help) {
    ex = cmd_help(c->name);
    goto out;
  }
  int nargs = npos - 1;
  if (nargs < c->min || (c->max >= 0 && nargs > c->max)) {
    cli_msg("usage: fsc %s %s", c->name, c->args);
    ex = CLI_USAGE;
    goto out;
  }
  ex = c->fn(&o, nargs, pos + 1);
  if (fflush(stdout) != 0 && !ex) {
    cli_msg("stdout: %s", strerror(errno));
    ex = CLI_IO;
  }
out:
  free(pos);
  return ex;
}
