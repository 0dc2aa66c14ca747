#!/bin/sh
# SPDX-License-Identifier: MIT
# Install what is missing, build, run the whole test suite, and print one
# closing line "N passed, N failed" summing every test case that ran.
#
# Extra arguments go to configure (e.g. --enable-sanitizers, with
# BUILD=build-asan).  Two more runs can be added (CI, .ci/run, adds both),
# and are summed into the same closing line:
#   FSC_TEST_SANITIZERS=1  the whole suite again, built with ASan+UBSan in
#                          ./build-asan (LeakSanitizer on)
#   FSC_TEST_FUZZ=SECONDS  tools/fuzz.sh for that long (one test: passed if
#                          the fuzzer found no crash, leak or hang)
#   FSC_TEST_TSAN=1        tools/tsan.sh: the thread cases under
#                          ThreadSanitizer (about 2 minutes)
#   FSC_TEST_PACKAGE=1     tools/package-check.sh: make dist, a build of
#                          the tarball, a staged install, consumer builds
#                          (make, autotools, CMake, Meson) and the Debian
#                          packages; each check counts as one test
# Each test program's line is printed as it finishes.  The run keeps its
# temporary files in one directory of its own (TMPDIR) and counts one more
# test: that no fsc-test-* directory is left there.
cd "$(dirname "$0")/.."
passed=0
failed=0

# report LABEL DIR NAME: print the line of one finished test program
# (DIR/tests/NAME.log and .trs) and add its cases to the totals.
report() {
  label=$1
  trs="$2/tests/$3.trs"
  log="$2/tests/$3.log"
  name=$3
  # Check prints "100%: Checks: 25, Failures: 0, Errors: 0".
  line=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$log" 2>/dev/null | tail -n 1)
  if [ -n "$line" ]; then
    n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
    f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
    e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
    p=$((n - f - e))
    echo "$label$name: $p passed, $((f + e)) failed"
    grep -E ':(F|E):' "$log" | head -n 20
    # A sanitizer report that Check did not count (from a process a
    # test forked and did not check) fails the program too.
    if [ $((f + e)) -eq 0 ] && [ "$p" -gt 0 ] &&
       grep -qE '==[0-9]+==ERROR: (Address|Leak)Sanitizer|: runtime error: ' "$log"; then
      echo "$label$name: a sanitizer report that no test case counted"
      grep -E 'ERROR|SUMMARY|runtime error' "$log" | head -n 10
      p=$((p - 1)); f=$((f + 1))
    fi
  elif line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1) &&
       [ -n "$line" ]; then
    # A script's own count (tests/check_readme.sh: one per README block).
    p=$(echo "$line" | sed -E 's/ passed.*//')
    f=$(echo "$line" | sed -E 's/.*, ([0-9]+) failed/\1/')
    e=0
    echo "$label$name: $p passed, $f failed"
    grep -A 30 ' FAILED: ' "$log" | head -n 40
  else
    # The program died before Check could report: count it as one failure.
    p=0; f=1; e=0
    echo "$label$name: did not report ($(grep -E '^:test-result:' "$trs"))"
    tail -n 20 "$log"
  fi
  passed=$((passed + p))
  failed=$((failed + f + e))
  sfailed=$((sfailed + f + e))
}

# suite LABEL BUILD [configure args]: build in BUILD, run make check there
# and print each program's line as soon as it finishes (automake writes
# tests/NAME.trs when NAME has exited), adding its cases to the totals.
suite() {
  label=$1
  dir=$2
  shift 2
  BUILD=$dir sh tools/build.sh "$@" || {
    echo "${label}build failed"
    failed=$((failed + 1))
    return
  }
  rm -f "$dir"/tests/*.trs "$dir"/tests/*.log
  (cd "$dir" && make -j"$(nproc)" check >/dev/null 2>&1; echo $? >.check-status) &
  mpid=$!
  rm -f "$dir/.check-status"
  sfailed=0
  seen=" "
  while :; do
    running=1
    kill -0 "$mpid" 2>/dev/null || running=0
    for trs in "$dir"/tests/*.trs; do
      [ -f "$trs" ] || continue
      name=$(basename "${trs%.trs}")
      case $seen in *" $name "*) continue ;; esac
      seen="$seen$name "
      report "$label" "$dir" "$name"
    done
    [ "$running" -eq 0 ] && break
    sleep 1
  done
  wait "$mpid"
  status=$(cat "$dir/.check-status" 2>/dev/null || echo 1)
  rm -f "$dir/.check-status"
  [ "$status" -ne 0 ] && [ "$sfailed" -eq 0 ] && failed=$((failed + 1))
}

# Every test program makes its directories under $TMPDIR (tests/
# check_common.h): point it at a directory of this run, and fail the run
# if a fsc-test-* directory is left there at the end.
suite_tmp=$(mktemp -d "${TMPDIR:-/tmp}/fsc-suite-XXXXXX") || exit 1
# Tests that act as another user (uid 65534) must reach their files.
chmod 755 "$suite_tmp"
TMPDIR=$suite_tmp
export TMPDIR

suite "" "${BUILD:-build}" "$@"

if [ "${FSC_TEST_SANITIZERS:-0}" != 0 ]; then
  # Check runs every test case in a forked child; LeakSanitizer checks each
  # child at its exit (a leak fails that case) and UBSan aborts on the
  # first undefined behaviour (-fno-sanitize-recover).
  ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
  UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
  export ASAN_OPTIONS UBSAN_OPTIONS
  suite "asan " build-asan --enable-sanitizers
fi

if [ "${FSC_TEST_FUZZ:-0}" != 0 ]; then
  out=$(sh tools/fuzz.sh "$FSC_TEST_FUZZ" 2>&1)
  echo "$out" | sed '$d'
  last=$(echo "$out" | tail -n 1)
  if echo "$last" | grep -qE '^1 passed, 0 failed$'; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
fi

if [ "${FSC_TEST_TSAN:-0}" != 0 ]; then
  out=$(sh tools/tsan.sh 2>&1)
  echo "$out" | sed '$d' | sed 's/^/tsan /'
  last=$(echo "$out" | tail -n 1)
  tp=$(echo "$last" | sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1/p')
  tf=$(echo "$last" | sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\2/p')
  if [ -n "$tp" ]; then
    passed=$((passed + tp)); failed=$((failed + tf))
  else
    failed=$((failed + 1))
  fi
fi

if [ "${FSC_TEST_PACKAGE:-0}" != 0 ]; then
  : >"$suite_tmp/package.out" # (there before tail opens it)
  sh tools/package-check.sh >>"$suite_tmp/package.out" 2>&1 &
  ppid=$!
  # Print its lines as they come, all but the closing one.
  tail -n +1 -f --pid="$ppid" "$suite_tmp/package.out" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
  wait "$ppid"
  last=$(tail -n 1 "$suite_tmp/package.out")
  pp=$(echo "$last" | sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1/p')
  pf=$(echo "$last" | sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\2/p')
  if [ -n "$pp" ]; then
    passed=$((passed + pp)); failed=$((failed + pf))
  else
    failed=$((failed + 1))
  fi
fi

left=$(find "$suite_tmp" -mindepth 1 -maxdepth 1 -name 'fsc-test-*' 2>/dev/null)
if [ -n "$left" ]; then
  echo "litter: the tests left $(echo "$left" | wc -l) fsc-test-* directories in TMPDIR:"
  echo "$left" | head -n 10
  failed=$((failed + 1))
else
  passed=$((passed + 1))
fi
rm -rf "$suite_tmp"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
