#!/bin/sh
# SPDX-License-Identifier: MIT
# Check fscollections as a user and a distribution packager get it, and
# print one line per check and a closing "N passed, N failed" (tools/test.sh
# adds them to its totals when FSC_TEST_PACKAGE=1; CI sets it):
#
#   dist       make dist in the configured build directory (BUILD, ./build)
#   tarball    the tarball configures and builds in a fresh directory
#   install    make install into a staging prefix: header, libraries,
#              fscollections.pc, CMake package, fsc and its man page
#   pc         the installed fscollections.pc asks for nothing the library
#              does not link (Requires.private: jansson only) and leaks no
#              flags (pkg-config --cflags is just the include directory)
#   make, autotools, cmake, meson
#              tests/consumers/*: each builds consumer.c against the staged
#              install and runs it (it opens a list, appends, reads back,
#              destroys it); meson only if meson is installed
#   deb        dpkg-buildpackage -b -us -uc on the tarball plus debian/
#              (without the test suite), then the contents of each .deb
#              (dpkg -c), the symbols file in libfscollections0, and
#              lintian (if installed; only the tags explained in
#              debian/README.source are allowed); skipped without
#              dpkg-buildpackage
#
# Everything happens in one scratch directory, removed at the end.  About
# a minute and a half on two cores.
cd "$(dirname "$0")/.."
src=$(pwd)
BUILD=${BUILD:-build}
passed=0
failed=0
scratch=$(mktemp -d "${TMPDIR:-/tmp}/fsc-package-XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
jobs=$(nproc 2>/dev/null || echo 2)
[ "$jobs" -gt 2 ] && jobs=2

# check NAME COMMAND...: run COMMAND (a shell function) in a subshell, count
# it, and show the tail of its log if it failed.
check() {
  name=$1
  shift
  t0=$(date +%s)
  if ("$@") >"$scratch/$name.log" 2>&1; then
    echo "package $name: ok ($(( $(date +%s) - t0 )) s)"
    passed=$((passed + 1))
  else
    echo "package $name: FAILED"
    tail -n 25 "$scratch/$name.log" | sed 's/^/  /'
    failed=$((failed + 1))
  fi
}

stage=$scratch/stage
[ -f "$BUILD/Makefile" ] || BUILD=$BUILD sh tools/build.sh
version=$(sed -n 's/^PACKAGE_VERSION = //p' "$BUILD/Makefile" 2>/dev/null)

do_dist() {
  [ -n "$version" ] || return 1
  (cd "$BUILD" && make dist) || return 1
  mv "$BUILD/fscollections-$version.tar.gz" "$scratch/"
}

do_tarball() {
  tar -xzf "$scratch/fscollections-$version.tar.gz" -C "$scratch" || return 1
  mkdir -p "$scratch/tarball-build" && cd "$scratch/tarball-build" &&
    "$scratch/fscollections-$version/configure" --prefix="$stage" &&
    make -j"$jobs"
}

do_install() {
  cd "$scratch/tarball-build" && make install || return 1
  for f in include/fscollections.h lib/libfscollections.so \
           lib/libfscollections.a lib/pkgconfig/fscollections.pc \
           lib/cmake/fscollections/fscollectionsConfig.cmake \
           lib/cmake/fscollections/fscollectionsConfigVersion.cmake \
           bin/fsc share/man/man1/fsc.1 share/man/man3/fscollections.3 \
           share/man/man3/fsc_open.3 share/man/man3/fsc_dict_get_i64.3; do
    [ -e "$stage/$f" ] || { echo "missing from the install: $f"; return 1; }
  done
  LD_LIBRARY_PATH=$stage/lib "$stage/bin/fsc" --version
}

consumer_env() {
  PKG_CONFIG_PATH=$stage/lib/pkgconfig
  LD_LIBRARY_PATH=$stage/lib
  CMAKE_PREFIX_PATH=$stage
  export PKG_CONFIG_PATH LD_LIBRARY_PATH CMAKE_PREFIX_PATH
}

do_pc() {
  consumer_env
  req=$(pkg-config --print-requires-private fscollections) || return 1
  echo "Requires.private: $req"
  [ "$req" = "jansson" ] || return 1
  cflags=$(pkg-config --cflags fscollections) || return 1
  cflags=$(echo $cflags)
  echo "--cflags: $cflags"
  [ "$cflags" = "-I$stage/include" ] || return 1
  # What the shared library really needs at run time: libck (the event
  # count's waits), libjansson and libc; and a static link says -lck.
  needed=$(objdump -p "$stage/lib/libfscollections.so" | awk '/NEEDED/ {print $2}' |
           grep -v -e '^libc\.so' -e '^ld-linux' -e '^libpthread\.so' | tr '\n' ' ')
  echo "NEEDED besides libc: $needed"
  [ "$needed" = "libck.so.0 libjansson.so.4 " ] || return 1
  libs=$(pkg-config --static --libs fscollections) || return 1
  echo "--static --libs: $(echo $libs)"
  case " $libs " in *" -lck "*) ;; *) return 1 ;; esac
}

# project DIR: a copy of tests/consumers/DIR with consumer.c beside it.
project() {
  rm -rf "$scratch/consumer-$1"
  cp -R "$src/tests/consumers/$1" "$scratch/consumer-$1" &&
    cp "$src/tests/consumers/consumer.c" "$scratch/consumer-$1/" &&
    cd "$scratch/consumer-$1"
}

run_consumer() {
  out=$("$1" "$scratch/consumer-list-$$") || return 1
  echo "$out"
  echo "$out" | grep -q '^fscollections .*: ok$'
}

do_make() {
  consumer_env; project make && make && run_consumer ./consumer
}

do_autotools() {
  consumer_env; project autotools &&
    ACLOCAL_PATH=/usr/share/aclocal autoreconf -i && ./configure && make &&
    run_consumer ./consumer
}

do_cmake() {
  consumer_env; project cmake && cmake -S . -B b && cmake --build b &&
    run_consumer b/consumer
}

do_meson() {
  consumer_env; project meson && meson setup b && meson compile -C b &&
    run_consumer b/consumer
}

do_deb() {
  d=$scratch/deb
  mkdir -p "$d" &&
    tar -xzf "$scratch/fscollections-$version.tar.gz" -C "$d" &&
    cp -R "$src/debian" "$d/fscollections-$version/" &&
    cd "$d/fscollections-$version" &&
    DEB_BUILD_OPTIONS="nocheck parallel=$jobs" dpkg-buildpackage -b -us -uc ||
    return 1
  cd "$d" || return 1
  arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
  # expect DEB PATH...: each path is in the package.
  expect() {
    deb=$(ls "$d"/"$1"_*.deb) || return 1
    list=$(dpkg -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
    shift
    for p in "$@"; do
      echo "$list" | grep -qx "$p" || { echo "$deb lacks $p"; return 1; }
    done
    echo "$deb: $(echo "$list" | wc -l) entries, as expected"
  }
  expect libfscollections0 "/usr/lib/$arch/libfscollections.so.0.0.0" \
    "/usr/lib/$arch/libfscollections.so.0" || return 1
  expect libfscollections-dev /usr/include/fscollections.h \
    "/usr/lib/$arch/libfscollections.so" "/usr/lib/$arch/libfscollections.a" \
    "/usr/lib/$arch/pkgconfig/fscollections.pc" \
    "/usr/lib/$arch/cmake/fscollections/fscollectionsConfig.cmake" \
    "/usr/lib/$arch/cmake/fscollections/fscollectionsConfigVersion.cmake" ||
    return 1
  expect fscollections-tools /usr/bin/fsc /usr/share/man/man1/fsc.1.gz ||
    return 1
  # No libtool archive, and the library is in no other package.
  dpkg -c "$d"/libfscollections-dev_*.deb | grep -q '\.la$' && return 1
  # The symbols file: shipped, and it lists every exported function.
  dpkg-deb --ctrl-tarfile "$d"/libfscollections0_*.deb | tar -xOf - ./symbols \
    >"$d/symbols" || return 1
  nsym=$(grep -c '@Base' "$d/symbols")
  nexp=$(nm -D --defined-only "$stage/lib/libfscollections.so" | grep -c ' T fsc')
  echo "symbols file: $nsym symbols; the library exports $nexp functions"
  [ "$nsym" -ge "$nexp" ] && [ "$nexp" -gt 0 ] || return 1
  if command -v lintian >/dev/null 2>&1; then
    lintian -I --pedantic --suppress-tags initial-upload-closes-no-bugs \
      --fail-on warning,info,pedantic "$d"/fscollections_*.changes || return 1
    echo "lintian: clean"
  else
    echo "lintian: not installed, not run"
  fi
}

check dist do_dist
check tarball do_tarball
check install do_install
check pc do_pc
check make do_make
check autotools do_autotools
check cmake do_cmake
if command -v meson >/dev/null 2>&1; then check meson do_meson; fi
if command -v dpkg-buildpackage >/dev/null 2>&1; then
  check deb do_deb
else
  echo "package deb: skipped (no dpkg-buildpackage)"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
