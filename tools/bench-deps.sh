#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the peers that make bench measures fscollections against, on
# Debian/Ubuntu, if anything is missing:
#   liblmdb-dev libtkrzw-dev libkyotocabinet-dev libsqlite3-dev
#   redis-server libhiredis-dev gnuplot-nox (for the chart)
# Needs root or password-less sudo; otherwise it prints the apt-get command
# and exits 0: make bench then runs with the peers it has and reports the
# others as skipped.  A failed install is reported the same way.
#
#   tools/bench-deps.sh          install what is missing
#   tools/bench-deps.sh --found  print the peer libraries pkg-config finds
#                                (as configure's BENCH_PEERS)
#
# Only `make bench-deps` runs it: `make bench` installs nothing.
#
# Debian's redis-server package starts and enables a system Redis service.
# The benchmark never uses it (bench/eng_redis.c starts private servers on
# unix sockets of its own), so the install runs under a policy-rc.d that
# forbids starting services (invoke-rc.d honours it), and afterwards the
# redis-server service is stopped and disabled where systemd runs.
PEER_MODULES="lmdb tkrzw kyotocabinet sqlite3 hiredis"
if [ "$1" = "--found" ]; then
  found=""
  for m in $PEER_MODULES; do
    pkg-config --exists "$m" 2>/dev/null && found="$found $m"
  done
  echo $found
  exit 0
fi

PKGS="liblmdb-dev libtkrzw-dev libkyotocabinet-dev libsqlite3-dev redis-server libhiredis-dev memcached"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
command -v gnuplot >/dev/null 2>&1 || missing="$missing gnuplot-nox"
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "bench-deps: no apt-get here; install these peers yourself:$missing" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "bench-deps: missing:$missing" >&2
    echo "bench-deps: install them with:  sudo apt-get install -y$missing" >&2
    echo "bench-deps: (the benchmark runs without them and reports them as skipped)" >&2
    exit 0
  fi
fi
echo "bench-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# A policy-rc.d of our own (only if there is none): exit 101 = "action
# forbidden", so no package installed here starts a service.
policy=/usr/sbin/policy-rc.d
ours=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# tools/bench-deps.sh: no service starts while it installs\nexit 101\n' |
    $SUDO tee "$policy" >/dev/null && $SUDO chmod 755 "$policy" && ours=1
fi
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq $missing; }; then
  echo "bench-deps: apt-get failed; the benchmark runs without:$missing" >&2
fi
[ -n "$ours" ] && $SUDO rm -f "$policy"
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ] &&
   systemctl list-unit-files redis-server.service >/dev/null 2>&1; then
  $SUDO systemctl disable --now redis-server.service >/dev/null 2>&1 || true
fi
exit 0
