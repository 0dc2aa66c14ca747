#!/bin/sh
# SPDX-License-Identifier: MIT
# Install what building and testing fscollections needs on Debian/Ubuntu,
# if anything is missing.  Run as root (or with sudo available).
set -e
PKGS="build-essential autoconf automake libtool pkg-config libck-dev check libsubunit-dev libjansson-dev libxxhash-dev"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq $missing
