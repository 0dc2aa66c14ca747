#!/bin/sh
# SPDX-License-Identifier: MIT
# Build fscollections with ThreadSanitizer (in ./build-tsan, or $BUILD) and
# run the test cases where threads of one process share handles.  Prints
# one line per case and a closing "N passed, N failed"; exits non-zero on
# any failure or TSan report (TSan makes the test's child exit with 66,
# which Check counts as an error).
#
#   sh tools/tsan.sh                     # the thread cases below
#   sh tools/tsan.sh test_dict:growth    # chosen program:case pairs
#
# Extra TSan options can be given in TSAN_OPTIONS.  tests/tsan.supp, if
# present, holds suppressions, each with the reason it is not a race.
cd "$(dirname "$0")/.."
root=$(pwd)
BUILD=${BUILD:-build-tsan}
export BUILD
if [ ! -f "$BUILD/Makefile" ] || ! grep -q 'fsanitize=thread' "$BUILD/Makefile"; then
  sh tools/build.sh --enable-tsan || { echo "0 passed, 1 failed"; exit 1; }
else
  sh tools/build.sh || { echo "0 passed, 1 failed"; exit 1; }
fi
# program:case -- every Check test case that runs threads on shared handles.
CASES=${*:-"test_value:errors test_list_mp:threads test_queue_lockfree:threads test_dict:growth
  test_set:threads test_popitem:threads test_keyed_mp:races test_compact:threads
  test_async:ops test_async:many test_async:order test_async:cancel
  test_async:close_inflight test_async:pop_wait_remote
  test_async:pop_wait_timeout test_async:pop_wait_cancel
  test_async:wait_change_remote test_async:wait_change_timeout
  test_async:close_waits
  test_async:free_inflight test_async:generic_and_errors
  test_async_wait:sliced test_async_wait:woken_by_cancel"}

# Only the programs the cases are in.
progs=$(for spec in $CASES; do echo "tests/${spec%%:*}"; done | sort -u)
# shellcheck disable=SC2086
cd "$BUILD" && make -j"$(nproc)" $progs >/dev/null 2>&1 ||
  { echo "building the tests failed"; echo "0 passed, 1 failed"; exit 1; }


supp=""
[ -f "$root/tests/tsan.supp" ] && supp="suppressions=$root/tests/tsan.supp:"
# die_after_fork=0: the library's background threads (src/file/prealloc.c,
# src/file/grow.c) may run when a test forks, and a child may start its
# own; the library is built for that (its fork handlers), TSan by default
# refuses it.
export TSAN_OPTIONS="${supp}die_after_fork=0:halt_on_error=0:second_deadlock_stack=1:history_size=4${TSAN_OPTIONS:+:$TSAN_OPTIONS}"
export CK_TIMEOUT_MULTIPLIER=${CK_TIMEOUT_MULTIPLIER:-10}
passed=0
failed=0
# Every case runs, as many at once as there are CPUs (each its own
# program, files and log); then each is reported in the list's order.
# shellcheck disable=SC2086
printf '%s\n' $CASES | xargs -P "$(nproc)" -n 1 sh -c '
  prog=${1%%:*}; case_=${1#*:}
  CK_RUN_CASE=$case_ "./tests/$prog" >"tests/$prog.tsan-$case_.log" 2>&1
  exit 0' tsan-case
for spec in $CASES; do
  prog=${spec%%:*}
  case_=${spec#*:}
  log="tests/$prog.tsan-$case_.log"
  line=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$log" | tail -n 1)
  races=$(grep -c 'WARNING: ThreadSanitizer' "$log")
  if [ -n "$line" ]; then
    n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
    f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
    e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
  else
    n=1; f=1; e=0
  fi
  echo "$prog:$case_: $((n - f - e)) passed, $((f + e)) failed, $races TSan reports ($BUILD/$log)"
  grep -E ':(F|E):' "$log" | head -n 10
  grep -A 12 'WARNING: ThreadSanitizer' "$log" | head -n 40
  passed=$((passed + n - f - e))
  failed=$((failed + f + e))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
