#!/bin/sh
# SPDX-License-Identifier: MIT
# The library's architecture (doc/DESIGN.md, "Layers"), checked on the
# objects just built: no file calls a layer above its own, and no files
# call each other in a circle.  Run by make check from the build directory.
exec sh "${srcdir:-.}/tools/check-layers.sh" .
