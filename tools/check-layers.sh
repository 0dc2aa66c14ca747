#!/bin/sh
# SPDX-License-Identifier: MIT
# Check the library's architecture from its object files (doc/DESIGN.md,
# "Layers"): every source file calls only files of its own layer or of a
# layer below (base < file < struct < coll < async), and no two files call each
# other, directly or around a cycle.  Calls through the kind operations
# table (function pointers) are the designed way up and are not calls.
#
#   sh tools/check-layers.sh BUILD_DIR
#
# Prints each violation, then a Check-style summary line that tools/test.sh
# counts ("100%: Checks: 2, Failures: F, Errors: 0"); exits 1 on failure.
set -u
build=${1:-build}
objs=$(ls "$build"/src/*/libfscollections_la-*.o 2>/dev/null)
if [ -z "$objs" ]; then
  echo "check-layers: no objects under $build/src (build first)"
  exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fsc-layers-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
for o in $objs; do
  f=$(basename "$o" .o | sed 's/^libfscollections_la-//')
  d=$(basename "$(dirname "$o")")
  nm --defined-only "$o" |
    awk -v f="$d/$f" '$2 ~ /^[TDRB]$/ && $3 ~ /^fsc_/ {print $3, f}' >>"$tmp/defs"
  nm -u "$o" | awk -v f="$d/$f" '$2 ~ /^fsc_/ {print f, $2}' >>"$tmp/uses"
done
# file -> file it calls
awk 'NR == FNR {def[$1] = $2; next}
     ($2 in def) && def[$2] != $1 {print $1, def[$2]}' \
  "$tmp/defs" "$tmp/uses" | sort -u >"$tmp/edges"
up=$(awk 'BEGIN {r["base"] = 0; r["file"] = 1; r["struct"] = 2; r["coll"] = 3; r["async"] = 4}
          {split($1, a, "/"); split($2, b, "/");
           if (r[a[1]] < r[b[1]]) print "calls up: " $1 " -> " $2}' "$tmp/edges")
fail=0
if [ -n "$up" ]; then
  echo "$up"
  # which symbols
  awk 'NR == FNR {def[$1] = $2; next}
       ($2 in def) {split($1, a, "/"); split(def[$2], b, "/");
         r["base"] = 0; r["file"] = 1; r["struct"] = 2; r["coll"] = 3; r["async"] = 4;
         if (r[a[1]] < r[b[1]]) print "  " $1 " uses " $2 " (" def[$2] ")"}' \
    "$tmp/defs" "$tmp/uses"
  fail=$((fail + 1))
fi
# tsort reports a loop on stderr.
loops=$(awk '{print $2, $1}' "$tmp/edges" | tsort 2>&1 >/dev/null)
if [ -n "$loops" ]; then
  echo "files that call each other (a cycle):"
  echo "$loops"
  fail=$((fail + 1))
fi
echo "$(wc -l <"$tmp/edges") calls between $(echo "$objs" | wc -w) files"
pct=$(( (2 - fail) * 50 ))
echo "$pct%: Checks: 2, Failures: $fail, Errors: 0"
[ "$fail" -eq 0 ]
