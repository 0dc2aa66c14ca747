#!/bin/sh
# SPDX-License-Identifier: MIT
# Run the unit suites under valgrind memcheck, in one process each
# (CK_FORK=no, so that every allocation of every test is seen): no invalid
# access, no use of uninitialised memory, no leak (definite, indirect or
# possible).  Builds in ./build-vg (or $BUILD).  Prints one line per
# program and a closing "N passed, N failed"; exits non-zero on any error.
#
#   sh tools/valgrind.sh                    # the programs below
#   sh tools/valgrind.sh test_list          # chosen ones
#
# Needs valgrind (installed with apt-get if missing).
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-vg}
export BUILD
PROGS=${*:-"test_value test_list test_dict test_set test_hostile"}
if ! command -v valgrind >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq valgrind; } ||
    { echo "valgrind could not be installed"; echo "0 passed, 1 failed"; exit 1; }
fi
sh tools/build.sh || { echo "0 passed, 1 failed"; exit 1; }
cd "$BUILD" || exit 1
targets=""
for p in $PROGS; do targets="$targets tests/$p"; done
make -j"$(nproc)" $targets >/dev/null 2>&1 ||
  { echo "building$targets failed"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
for p in $PROGS; do
  log="tests/$p.valgrind.log"
  # libtool's wrapper script runs the real binary (with the uninstalled
  # library) under valgrind.
  CK_FORK=no ./libtool --mode=execute valgrind -q --error-exitcode=99 \
    --leak-check=full --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible \
    --track-origins=yes "./tests/$p" >"$log" 2>&1
  rc=$?
  line=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$log" | tail -n 1)
  if [ -n "$line" ]; then
    n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
    f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
    e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
  else
    n=1; f=1; e=0
  fi
  bad=$((f + e))
  # A memcheck error or leak fails the program even if its checks passed.
  if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
  echo "$p: $((n - bad)) passed, $bad failed (valgrind exit $rc, $BUILD/$log)"
  [ "$rc" -ne 0 ] && grep -E '==[0-9]+==|:(F|E):' "$log" | head -n 40
  passed=$((passed + n - bad))
  failed=$((failed + bad))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
