#!/bin/bash
# The demo: boot the hello guest, then measure a disk from inside the guest
# with gfio, through virtqueues (with an iothread) and through the io_uring
# passthrough, and check the data with verify=crc32c.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
vmm=$build/qemu-system-x86_64
guest=$build/tests/guest
img=$build/demo/disk.img
size=${DEMO_DISK_SIZE:-256M}

mkdir -p "$(dirname "$img")"
if [ ! -f "$img" ]; then
    echo "== creating $img ($size of random data)"
    head -c "$size" /dev/urandom > "$img"
fi

# The guest exits through isa-debug-exit: status (0 << 1) | 1 is success.
run() {
    local status=0
    "$vmm" -accel kvm -m 256M -nographic "$@" || status=$?
    if [ "$status" -ne 1 ]; then
        echo "demo: the guest failed (VMM exit status $status)" >&2
        exit 1
    fi
}

gfio() {
    run -kernel "$guest/gfio.elf" "$@" | sed -n 's/^gfio: /   /p'
}

echo "== hello, two vCPUs"
run -smp 2 -kernel "$guest/hello.elf" -append "demo"

drive="file=$img,if=none,id=d0,format=raw,cache=none"

echo "== gfio: write and verify (crc32c) through virtqueues"
gfio -drive "$drive,aio=io_uring" -device virtio-blk-pci,drive=d0 \
     -append "rw=randwrite bs=4k iodepth=8 size=16M verify=crc32c"

echo "== gfio: 4k random reads, virtqueues + iothread"
gfio -object iothread,id=io1 -drive "$drive,aio=io_uring" \
     -device virtio-blk-pci,drive=d0,iothread=io1 \
     -append "rw=randread bs=4k iodepth=16 runtime=5"

echo "== gfio: 4k random reads, io_uring passthrough"
gfio -drive "$drive" -device virtio-blk-pci,drive=d0,uring-passthrough=on \
     -append "rw=randread bs=4k iodepth=16 runtime=5 uring=on"

echo "== gfio: write and verify (crc32c) through the passthrough"
gfio -drive "$drive" -device virtio-blk-pci,drive=d0,uring-passthrough=on \
     -append "rw=randwrite bs=4k iodepth=8 size=16M verify=crc32c uring=on"
echo "== done"
