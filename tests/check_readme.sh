#!/bin/sh
# SPDX-License-Identifier: MIT
# The C examples of README.md and doc/*.md (every ```c block), compiled
# against the library just built, so that an API change cannot leave them
# wrong.  Run by make check from the build directory (or by hand from the
# source directory after tools/build.sh: it then uses ./build; FSC_BUILD
# names another build directory).
#
# - A block with a main() is a whole program: compiled and linked against
#   include/ and libfscollections.la (-std=c11 -Wall -Wextra -Werror), then
#   run in a private temporary directory, which is removed afterwards.  It
#   must exit 0 within 30 seconds, and must work in its current directory:
#   a string that starts with "/" (other than "/dev/") fails the block,
#   since the program would leave files outside that directory.
# - Any other block is a fragment: compiled and linked (not run) as the
#   body of a function, after the fixed preamble below, which includes the
#   usual headers and declares the names the README's fragments take from
#   the text around them (jobs, stats, state, job_id, ep, ctx, v, run,
#   lead, reload, on_inserted, render).  The fragment is a block of its
#   own, so it may declare any of these names again.
# - A block after the line <!-- readme-test: skip (why) --> is not
#   compiled (for a block that is deliberately not C; say why).
#
# Compiler messages name the Markdown file and line (#line).  Prints one
# line per block and a closing "N passed, N failed"; exits 1 if one failed.
srcdir=$(cd "${srcdir:-.}" && pwd) || exit 1
build=${FSC_BUILD:-.}
[ -f "$build/libfscollections.la" ] || build=$srcdir/build
build=$(cd "$build" && pwd) || exit 1
if [ ! -f "$build/libfscollections.la" ] || [ ! -x "$build/libtool" ]; then
  echo "check_readme: no libfscollections.la in $build (build first)"
  echo "0 passed, 1 failed"
  exit 1
fi
# The build's compiler and flags (a sanitizer build's programs need them),
# from the environment make check gives, or from the build's Makefile.
mk() { sed -n "s/^$1 = //p" "$build/Makefile" | head -n 1; }
[ -n "${CC+set}" ] || CC=$(mk CC)
[ -n "${CFLAGS+set}" ] || CFLAGS=$(mk CFLAGS)
[ -n "${LDFLAGS+set}" ] || LDFLAGS=$(mk LDFLAGS)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fsc-test-readme-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

cat >"$tmp/preamble.h" <<'EOF'
#include <fscollections.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
/* What the README's fragments use from the text around them. */
void run(int64_t job);
void lead(void);
void reload(fsc_dict *d);
void on_inserted(fsc_req *req, int rc, const fsc_async_result *res,
                 void *data);
int render(const void *key, size_t klen, void *ctx, fsc_value *out);
void run(int64_t job) { (void)job; }
void lead(void) {}
void reload(fsc_dict *d) { (void)d; }
void on_inserted(fsc_req *req, int rc, const fsc_async_result *res,
                 void *data) { (void)req; (void)rc; (void)res; (void)data; }
int render(const void *key, size_t klen, void *ctx, fsc_value *out) {
  (void)key; (void)klen; (void)ctx;
  *out = fsc_str("<html>");
  return 0;
}
void readme_fragment(fsc_list *jobs, fsc_dict *stats, fsc_dict *state,
                     int64_t job_id, int ep, void *ctx, fsc_value v);
void readme_fragment(fsc_list *jobs, fsc_dict *stats, fsc_dict *state,
                     int64_t job_id, int ep, void *ctx, fsc_value v) {
  (void)jobs; (void)stats; (void)state; (void)job_id; (void)ep; (void)ctx;
  (void)v;
  {
EOF

passed=0
failed=0
n=0
# compile NAME SOURCE: link SOURCE into $tmp/NAME; its messages in $tmp/out.
compile() {
  # shellcheck disable=SC2086 # the flags are word lists
  "$build/libtool" --quiet --tag=CC --mode=link $CC $CFLAGS -std=c11 \
    -Wall -Wextra -Werror -I"$srcdir/include" $LDFLAGS -o "$tmp/$1" "$2" \
    "$build/libfscollections.la" >"$tmp/out" 2>&1
}
fail() {
  echo "$where FAILED: $1"
  sed 's/^/  /' "$tmp/out" | head -n 30
  failed=$((failed + 1))
}

for md in "$srcdir/README.md" "$srcdir"/doc/*.md; do
  [ -f "$md" ] || continue
  rel=${md#"$srcdir"/}
  # Each ```c block as a file $tmp/block.LINE, and "LINE skip|code" lines.
  rm -f "$tmp"/block.*
  awk -v dir="$tmp" '
    /^[ \t]*```c[ \t]*$/ && !inb { inb = 1; start = NR; f = dir "/block." NR
                             printf "" > f; print start, (skip ? "skip" : "code"); next }
    /^[ \t]*```/ && inb { inb = 0; skip = 0; close(f); next }
    inb { print > f; next }
    /<!-- *readme-test: *skip/ { skip = 1; next }
    /[^ \t]/ { skip = 0 }' "$md" >"$tmp/blocks"
  while read -r line kind; do
    where="$rel:$line"
    block=$tmp/block.$line
    n=$((n + 1))
    if [ "$kind" = skip ]; then
      echo "$where skipped (marked readme-test: skip)"
      continue
    fi
    if grep -qE '(^|[^A-Za-z0-9_])main *\(' "$block"; then
      { printf '#line %d "%s"\n' $((line + 1)) "$md"; cat "$block"; } \
        >"$tmp/prog$n.c"
      if ! compile "prog$n" "$tmp/prog$n.c"; then
        fail "does not compile"
        continue
      fi
      awk -v at="$rel" -v l="$line" '/"\/([^d]|d[^e]|de[^v])/ {
        print at ":" l + NR ": " $0 }' "$block" >"$tmp/out"
      if [ -s "$tmp/out" ]; then
        fail "an absolute path: a program must work in its current directory"
        continue
      fi
      dir=$tmp/run$n
      mkdir "$dir" || exit 1
      (cd "$dir" && TMPDIR=$dir timeout 30 "$tmp/prog$n") >"$tmp/out" 2>&1 </dev/null
      rc=$?
      rm -rf "$dir"
      if [ "$rc" -eq 124 ]; then
        fail "the program did not end within 30 seconds"
        continue
      elif [ "$rc" -ne 0 ]; then
        fail "the program exited with $rc"
        continue
      fi
    else
      { cat "$tmp/preamble.h"
        printf '#line %d "%s"\n' $((line + 1)) "$md"
        cat "$block"
        printf '\n  }\n}\nint main(void) { return 0; }\n'; } >"$tmp/frag$n.c"
      if ! compile "frag$n" "$tmp/frag$n.c"; then
        fail "does not compile (as a fragment)"
        continue
      fi
    fi
    echo "$where ok"
    passed=$((passed + 1))
  done <"$tmp/blocks"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
