#!/bin/sh
# Install what is missing, build, and run the demo: worker processes sharing
# one list through one base path.
set -e
cd "$(dirname "$0")/.."
sh tools/build.sh
exec build/examples/demo "$@"
