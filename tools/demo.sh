#!/bin/sh
# SPDX-License-Identifier: MIT
# Install what is missing, build, and run the demo (`fsc demo`): worker
# processes share a job queue (a list), counters (a dict) and the set of
# jobs done through one directory, and the totals are verified.
# Arguments go to fsc demo: [-w WORKERS] [-n JOBS] [DIR].
set -e
cd "$(dirname "$0")/.."
sh tools/build.sh
exec "${BUILD:-build}/fsc" demo "$@"
