#!/bin/sh
# Install what is missing, build, run the whole test suite, and print one
# closing line "N passed, N failed" summing every test case that ran.
cd "$(dirname "$0")/.."
sh tools/build.sh "$@" || { echo "0 passed, 1 failed"; exit 1; }
cd "${BUILD:-build}"
make -j"$(nproc)" check >/dev/null 2>&1
status=$?
passed=0
failed=0
for trs in tests/*.trs; do
  [ -f "$trs" ] || continue
  log="${trs%.trs}.log"
  name=$(basename "${trs%.trs}")
  # Check prints "100%: Checks: 25, Failures: 0, Errors: 0".
  line=$(grep -E '^[0-9]+%: Checks: [0-9]+' "$log" 2>/dev/null | tail -n 1)
  if [ -n "$line" ]; then
    n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
    f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
    e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
    p=$((n - f - e))
    echo "$name: $p passed, $((f + e)) failed"
    grep -E ':(F|E):' "$log" | head -n 20
  else
    # The program died before Check could report: count it as one failure.
    p=0; f=1; e=0
    echo "$name: did not report ($(grep -E '^:test-result:' "$trs"))"
    tail -n 20 "$log"
  fi
  passed=$((passed + p))
  failed=$((failed + f + e))
done
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
