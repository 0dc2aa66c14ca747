/* SPDX-License-Identifier: MIT */
/*
 * test_man.c - the manual pages in doc/man3 against the public header:
 * every FSC_API function of include/fscollections.h has a page of its own
 * or a ".so man3/PAGE.3" link to a page whose NAME section names it (so
 * that `man FUNCTION` works once installed), every page is listed in
 * Makefile.am's man3_MANS (so that make install installs it), every page
 * renders without a groff warning, fsc_strerror(3)'s table has a row for
 * every error code, and the header names no outside document.  The files are read from the source tree (FSC_SRCDIR); the
 * test writes nothing.
 */
#include "check_common.h"

#include <ctype.h>
#include <dirent.h>

#ifndef FSC_SRCDIR
#define FSC_SRCDIR "."
#endif

#define MAX_NAMES 512

static char *funcs[MAX_NAMES]; /* FSC_API functions of the header */
static int nfuncs;
static char *pages[MAX_NAMES]; /* file names in doc/man3 */
static int npages;

/* The whole of a file of the source tree, NUL-terminated, or NULL. */
static char *slurp(const char *rel) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", FSC_SRCDIR, rel);
  FILE *f = fopen(path, "r");
  if (!f)
    return NULL;
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  size_t n;
  while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
    len += n;
    if (cap - len < 2) {
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
  }
  fclose(f);
  if (buf)
    buf[len] = '\0';
  return buf;
}

/* The functions the header declares: on each line that starts (after
 * blanks) with "FSC_API ", the identifier just before the first '('. */
static void read_funcs(void) {
  char *h = slurp("include/fscollections.h");
  if (!h)
    return;
  for (char *line = h; line && *line;) {
    char *eol = strchr(line, '\n');
    if (eol)
      *eol = '\0';
    char *p = line;
    while (*p == ' ' || *p == '\t')
      p++;
    char *paren = strchr(p, '(');
    if (strncmp(p, "FSC_API ", 8) == 0 && paren && nfuncs < MAX_NAMES) {
      char *e = paren;
      while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
      char *b = e;
      while (b > p && (isalnum((unsigned char)b[-1]) || b[-1] == '_'))
        b--;
      if (e > b)
        funcs[nfuncs++] = strndup(b, (size_t)(e - b));
    }
    line = eol ? eol + 1 : NULL;
  }
  free(h);
}

static void read_pages(void) {
  DIR *d = opendir(FSC_SRCDIR "/doc/man3");
  if (!d)
    return;
  struct dirent *de;
  while ((de = readdir(d)) != NULL && npages < MAX_NAMES) {
    size_t n = strlen(de->d_name);
    if (n > 2 && strcmp(de->d_name + n - 2, ".3") == 0)
      pages[npages++] = strdup(de->d_name);
  }
  closedir(d);
}

/* Whether `name` appears as a whole word in the NAME section of the page
 * text `t` (the lines between ".SH NAME" and the next ".SH"). */
static bool names(const char *t, const char *name) {
  const char *s = strstr(t, ".SH NAME\n");
  if (!s)
    return false;
  s += 9;
  const char *end = strstr(s, "\n.SH");
  if (!end)
    end = s + strlen(s);
  size_t n = strlen(name);
  for (const char *p = s; p + n <= end; p++) {
    if (strncmp(p, name, n) != 0)
      continue;
    bool before = p == s || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
    bool after = !(isalnum((unsigned char)p[n]) || p[n] == '_');
    if (before && after)
      return true;
  }
  return false;
}

START_TEST(header_parsed) {
  /* The parser sees the declarations, the oddly indented ones too. */
  ck_assert_int_gt(nfuncs, 100);
  const char *want[] = {"fsc_open", "fsc_list_append", "fsc_set_issuperset",
                        "fsc_set_equal", "fsc_coll_iter_next"};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    bool found = false;
    for (int j = 0; j < nfuncs; j++)
      found = found || strcmp(funcs[j], want[i]) == 0;
    ck_assert_msg(found, "%s not found among the header's functions",
                  want[i]);
  }
  ck_assert_int_gt(npages, 20);
}
END_TEST

START_TEST(function_has_page) {
  const char *fn = funcs[_i];
  char rel[512];
  snprintf(rel, sizeof rel, "doc/man3/%s.3", fn);
  char *t = slurp(rel);
  ck_assert_msg(t != NULL, "%s has no man page: write %s or a link "
                "\".so man3/PAGE.3\" to the page that documents it", fn,
                rel);
  if (strncmp(t, ".so ", 4) == 0) {
    char target[512];
    size_t n = strcspn(t + 4, "\n");
    ck_assert_msg(n > 5 && n < 400 && strncmp(t + 4, "man3/", 5) == 0,
                  "%s: a link must read \".so man3/PAGE.3\"", rel);
    snprintf(target, sizeof target, "doc/%.*s", (int)n, t + 4);
    free(t);
    t = slurp(target);
    ck_assert_msg(t != NULL, "%s links to %s, which does not exist", rel,
                  target);
    ck_assert_msg(strncmp(t, ".so ", 4) != 0, "%s links to a link", rel);
    ck_assert_msg(names(t, fn), "%s links to %s, whose NAME section does "
                  "not name %s", rel, target, fn);
  } else {
    ck_assert_msg(names(t, fn), "%s does not name %s in its NAME section",
                  rel, fn);
  }
  free(t);
}
END_TEST

START_TEST(page_installed) {
  char *mk = slurp("Makefile.am");
  ck_assert_msg(mk != NULL, "cannot read Makefile.am");
  char *v = strstr(mk, "\nman3_MANS =");
  ck_assert_msg(v != NULL, "Makefile.am has no man3_MANS");
  /* The variable's value: up to the first line that does not end in a
   * backslash. */
  char *end = v + 1;
  for (;;) {
    char *eol = strchr(end, '\n');
    if (!eol)
      break;
    if (eol > end && eol[-1] == '\\') {
      end = eol + 1;
      continue;
    }
    end = eol;
    break;
  }
  *end = '\0';
  char want[512];
  snprintf(want, sizeof want, "doc/man3/%s", pages[_i]);
  bool found = false;
  size_t n = strlen(want);
  for (char *p = strstr(v, want); p && !found; p = strstr(p + 1, want))
    found = p[n] == ' ' || p[n] == '\t' || p[n] == '\\' || p[n] == '\n' ||
            p[n] == '\0';
  free(mk);
  ck_assert_msg(found, "%s is not listed in Makefile.am's man3_MANS: "
                "make install would not install it", want);
}
END_TEST

/* groff's output over every page at once (read_render), or NULL when
 * groff is missing.  One run, not one a page: 197 pages took 12 s one by
 * one and 0.7 s together, and troff names the file in each warning
 * ("troff: man3/PAGE.3:LINE: warning: ..."), so a warning is still
 * charged to its page. */
static char *render_out;
static bool render_ran;

static void read_render(void) {
  if (system("command -v groff >/dev/null 2>&1") != 0)
    return;
  render_ran = true;
  /* groff resolves ".so man3/X.3" from the directory it runs in. */
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "cd '%s/doc' && groff -man -t -ww -z man3/*.3 2>&1; "
           "echo \"rc=$?\"",
           FSC_SRCDIR);
  FILE *p = popen(cmd, "r");
  if (!p)
    return;
  size_t cap = 1 << 16, len = 0, n;
  render_out = malloc(cap);
  while (render_out && (n = fread(render_out + len, 1, cap - len - 1, p)) > 0)
    len += n;
  if (render_out)
    render_out[len] = '\0';
  pclose(p);
}

START_TEST(page_renders) {
  if (!render_ran) {
    fprintf(stderr, "test_man: groff not found; rendering not checked\n");
    return;
  }
  ck_assert_ptr_nonnull(render_out);
  char want[300];
  snprintf(want, sizeof want, "man3/%s:", pages[_i]);
  const char *hit = strstr(render_out, want);
  if (hit) {
    const char *line = hit;
    while (line > render_out && line[-1] != '\n')
      line--;
    const char *eol = strchr(hit, '\n');
    ck_abort_msg("groff -man -ww on %s: %.*s", pages[_i],
                 (int)(eol ? eol - line : (ptrdiff_t)strlen(line)), line);
  }
}
END_TEST

/* The same run exited 0 and printed nothing but its exit status: this
 * also catches what names no page (page_renders charges the others). */
START_TEST(render_all_attributed) {
  if (!render_ran)
    return;
  ck_assert_ptr_nonnull(render_out);
  const char *rc = strstr(render_out, "rc=");
  ck_assert_ptr_nonnull(rc);
  ck_assert_msg(strcmp(rc, "rc=0\n") == 0 && rc == render_out,
                "groff -man -ww over doc/man3: %s", render_out);
}
END_TEST

/* Every error code of the header's table, as fsc_strerror(3) lists it. */
static const struct {
  const char *name;
  int code;
  const char *text;
} codes[] = {
#define ERR_ROW(n, c, t) {"FSC_" #n, c, t},
    FSC_ERRNO_MAP(ERR_ROW)
#undef ERR_ROW
};

START_TEST(error_code_in_table) {
  char *t = slurp("doc/man3/fsc_strerror.3");
  ck_assert_ptr_nonnull(t);
  /* The row: "NAME<tab>\-CODE<tab>TEXT", with the text's hyphens
   * escaped as roff wants them. */
  char want[512];
  int n = snprintf(want, sizeof want, "\n%s\t\\-%d\t", codes[_i].name,
                   -codes[_i].code);
  for (const char *p = codes[_i].text; *p && n < (int)sizeof want - 3; p++) {
    if (*p == '-')
      want[n++] = '\\';
    want[n++] = *p;
  }
  want[n++] = '\n';
  want[n] = '\0';
  ck_assert_msg(strstr(t, want) != NULL, "doc/man3/fsc_strerror.3 has no "
                "table row for %s (%d, \"%s\")", codes[_i].name,
                codes[_i].code, codes[_i].text);
  ck_assert_str_eq(fsc_strerror(codes[_i].code), codes[_i].text);
  free(t);
}
END_TEST

START_TEST(header_names_no_outside_document) {
  char *h = slurp("include/fscollections.h");
  ck_assert_ptr_nonnull(h);
  for (char *p = h; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  ck_assert_msg(strstr(h, "the seed") == NULL && strstr(h, "seed's") == NULL,
                "the header cites \"the seed\": name the Python "
                "fscollections package");
  ck_assert_msg(strstr(h, "../shared") == NULL, "the header cites ../shared");
  free(h);
}
END_TEST

static Suite *man_suite(void) {
  Suite *s = suite_create("man");
  TCase *tc = tcase_create("man");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, header_parsed);
  tcase_add_test(tc, header_names_no_outside_document);
  tcase_add_loop_test(tc, function_has_page, 0, nfuncs);
  tcase_add_loop_test(tc, page_installed, 0, npages);
  tcase_add_loop_test(tc, page_renders, 0, npages);
  tcase_add_test(tc, render_all_attributed);
  tcase_add_loop_test(tc, error_code_in_table, 0,
                      (int)(sizeof codes / sizeof codes[0]));
  suite_add_tcase(s, tc);
  return s;
}

int main(void) {
  read_funcs();
  read_pages();
  read_render();
  /* Every case only reads what main() read: they run in this process (a
   * fork a case, 604 of them, took most of the time under AddressSanitizer).
   * CK_FORK=yes in the environment still forks. */
  setenv("CK_FORK", "no", 0);
  int rc = tc_run(man_suite());
  free(render_out);
  for (int i = 0; i < nfuncs; i++)
    free(funcs[i]);
  for (int i = 0; i < npages; i++)
    free(pages[i]);
  return rc;
}
