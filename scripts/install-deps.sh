#!/bin/sh
# Install every Debian package needed to build, test and benchmark the project,
# and the libvirt-qemu user and group that libvirt's embedded QEMU driver
# looks up even when it runs nothing as them (docs/system/libvirt.rst).
# Safe to run again: it installs only what is missing.
set -e
PKGS="build-essential meson ninja-build pkg-config liburing-dev libglib2.0-dev
libjson-glib-dev qemu-system-x86 fio python3 python3-matplotlib
libvirt-daemon-driver-qemu libvirt-clients
clang libclang-rt-14-dev"
missing=""
for p in $PKGS; do
    dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "Installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null || true
    apt-get install -y -q --no-install-recommends $missing
fi
getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
getent passwd libvirt-qemu >/dev/null ||
    useradd --system --gid libvirt-qemu --no-create-home \
            --home-dir /var/lib/libvirt --shell /usr/sbin/nologin libvirt-qemu
exit 0
