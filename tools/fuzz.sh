#!/bin/sh
# Fuzz the opening of hostile collection files (fuzz/fuzz_open.c) with
# libFuzzer, ASan and UBSan, for a bounded time.
#
#   sh tools/fuzz.sh [SECONDS] [libFuzzer options...]     (default 60 s)
#
# Builds the library with clang and coverage in ./build-fuzz (or $BUILD),
# seeds from fuzz/corpus (regenerate it with FSC_FUZZ_SEEDS=1, from
# fuzz/make_corpus.c), keeps what the fuzzer learns in $BUILD/corpus, and
# writes any crashing input to $BUILD/artifacts/.  Exits non-zero if the
# fuzzer found a crash, leak, hang or undefined behaviour: copy the input
# to tests/hostile/ (the test_hostile suite replays every file there) and
# fix the library.  Installs clang and its runtimes with apt-get if they
# are missing.  Prints one closing line "N passed, N failed" (the run
# counts as one test).
cd "$(dirname "$0")/.."
root=$(pwd)
secs=${1:-60}
[ "$#" -gt 0 ] && shift
BUILD=${BUILD:-build-fuzz}
fail() { echo "fuzz: $*"; echo "0 passed, 1 failed"; exit 1; }

sh tools/deps.sh || fail "could not install the build dependencies"
if ! command -v clang >/dev/null 2>&1 ||
   ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a \
     >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "installing: clang libclang-rt-14-dev"
  export DEBIAN_FRONTEND=noninteractive
  { $SUDO apt-get update -qq &&
    $SUDO apt-get install -y -qq clang libclang-rt-14-dev >/dev/null; } ||
    fail "could not install clang"
fi
[ -x configure ] || ./autogen.sh >/dev/null || fail "autogen failed"

SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
mkdir -p "$BUILD" && cd "$BUILD" || fail "no $BUILD"
if [ ! -f Makefile ]; then
  # A static library instrumented for coverage (fuzzer-no-link): the
  # fuzzer binary links it with libFuzzer's main.
  ../configure -q CC=clang --disable-shared \
    CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $SAN" ||
    fail "configure failed"
fi
make -j"$(nproc)" libfscollections.la >/dev/null || fail "building failed"
LIBS="$(pkg-config --libs ck jansson libxxhash) -lpthread"
INC="-I$root/include -I$root/src -I."
clang -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer $SAN $INC \
  "$root/fuzz/fuzz_open.c" .libs/libfscollections.a $LIBS -o fuzz_open ||
  fail "building fuzz_open failed"

# (Built every time, so that it keeps up with src/internal.h.)
clang -g -O1 $SAN $INC "$root/fuzz/make_corpus.c" .libs/libfscollections.a \
  $LIBS -o make_corpus || fail "building make_corpus failed"
if [ -n "$FSC_FUZZ_SEEDS" ] || ! ls "$root/fuzz/corpus/"* >/dev/null 2>&1; then
  rm -rf "$root/fuzz/corpus"
  ./make_corpus "$root/fuzz/corpus" || fail "make_corpus failed"
fi

mkdir -p corpus artifacts
# Private files for the target (it writes the collection there).
FUZZ_TMP=$(mktemp -d "${TMPDIR:-/tmp}/fsc-fuzz.XXXXXX") || fail "mktemp"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
TMPDIR=$FUZZ_TMP ./fuzz_open -max_total_time="$secs" -timeout=20 \
  -rss_limit_mb=4096 -artifact_prefix=artifacts/ -print_final_stats=1 \
  "$@" corpus "$root/fuzz/corpus" >fuzz.log 2>&1
status=$?
rm -rf "$FUZZ_TMP"
runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' fuzz.log)
if [ "$status" -ne 0 ]; then
  grep -E 'ERROR|SUMMARY|runtime error|Test unit written' fuzz.log | head -n 20
  echo "fuzz: failed (log: $BUILD/fuzz.log, inputs: $BUILD/artifacts/)"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "fuzz: ${runs:-?} inputs in $secs s, no crash, leak or hang (log: $BUILD/fuzz.log)"
echo "1 passed, 0 failed"
