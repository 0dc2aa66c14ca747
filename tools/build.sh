#!/bin/sh
# SPDX-License-Identifier: MIT
# Generate, configure and build fscollections in ./build (out of tree).
# Extra arguments go to configure (e.g. --enable-sanitizers).
set -e
cd "$(dirname "$0")/.."
sh tools/deps.sh
[ -x configure ] || ./autogen.sh >/dev/null
BUILD=${BUILD:-build}
mkdir -p "$BUILD"
cd "$BUILD"
if [ ! -f Makefile ] || [ "$#" -gt 0 ]; then
  ../configure -q "$@"
fi
make -j"$(nproc)" >/dev/null
