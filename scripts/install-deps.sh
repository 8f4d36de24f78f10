#!/bin/sh
# Install every Debian package needed to build, test and benchmark the project.
set -e
PKGS="build-essential meson ninja-build pkg-config liburing-dev libglib2.0-dev
libjson-glib-dev qemu-system-x86 fio python3 python3-matplotlib
clang libclang-rt-14-dev"
missing=""
for p in $PKGS; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "Installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || true
apt-get install -y -q --no-install-recommends $missing
