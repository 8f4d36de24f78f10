"""Command lines of the runs: fio on the host, gfio in our VMM and in stock QEMU."""
from dataclasses import dataclass
from pathlib import Path

from .config import BLOCK_SIZE

GUEST_RAM = "256M"


@dataclass(frozen=True)
class Tools:
    vmm: Path       # our qemu-system-x86_64
    gfio: Path      # the guest program
    qemu: str       # the distribution's qemu-system-x86_64
    fio: str


def milliseconds(seconds):
    return f"{round(seconds * 1000)}ms"


def gfio_args(row, rw, iodepth, plan):
    """lat_percentiles=1 as fio's command has it: lat is what is compared.

    Several jobs report as one group (group_reporting=1): IOPS and latencies
    of all their requests together.  iodepth is each job's.
    """
    args = (f"rw={rw} bs={BLOCK_SIZE} iodepth={iodepth} "
            f"runtime={milliseconds(plan.runtime_s)} ramp_time={milliseconds(plan.ramp_s)} "
            "lat_percentiles=1")
    if row.jobs > 1:
        args += f" numjobs={row.jobs} group_reporting=1"
    if row.disks > 1:
        args += " dev=" + ":".join(str(d) for d in range(row.disks))
    return args + " uring=on" if row.passthrough else args


def _drive(image, aio, index=0):
    drive = f"file={image},if=none,id=d{index},format=raw,cache=none"
    return drive + ",aio=io_uring" if aio else drive


def _vcpus(row):
    return ["-smp", str(row.jobs)] if row.jobs > 1 else []


def _disks(row, images, device, aio):
    """-drive and -device of each of the row's disks; one disk holds a queue per job."""
    if row.disks == 1 and row.jobs > 1:
        device += f",num-queues={row.jobs}"
    args = []
    for index, image in enumerate(images[:row.disks]):
        args += ["-drive", _drive(image, aio, index),
                 "-device", device.replace("drive=d0", f"drive=d{index}")]
    return args


# null-co's default size (1 GiB): reads return zeroes, writes go nowhere.
NULL_DRIVE = "file=null-co://,if=none,id=d0,format=raw,file.read-zeroes=on"


def vmm_command(row, tools, images, rw, iodepth, plan):
    """gfio in our VMM: virtqueues (with or without an iothread, on the image
    or on null-co) or the passthrough, on images[0] or on several disks."""
    device = "virtio-blk-pci,drive=d0"
    cmd = [str(tools.vmm), "-accel", "kvm", "-m", GUEST_RAM, "-nographic",
           "-kernel", str(tools.gfio)] + _vcpus(row)
    if row.iothread:
        cmd += ["-object", "iothread,id=io1"]
        device += ",iothread=io1"
    if row.passthrough:
        device += ",uring-passthrough=on"
    if row.shared_sqpoll:
        cmd += ["-object", "uring-sqpoll,id=sq0"]
        device += ",uring-sqpoll=sq0"
    if row.null:
        cmd += ["-drive", NULL_DRIVE, "-device", device]
    else:
        cmd += _disks(row, images, device, aio=not row.passthrough)
    cmd += ["-append", gfio_args(row, rw, iodepth, plan)]
    return cmd


def qemu_command(row, tools, images, rw, iodepth, plan):
    """gfio in stock QEMU: the console is debugcon, the exit isa-debug-exit;
    debug-threads=on names the threads ("CPU 0/KVM", "IO io1") as ours are."""
    device = "virtio-blk-pci,drive=d0,disable-legacy=on"
    cmd = [tools.qemu, "-accel", "kvm", "-m", GUEST_RAM, "-name", "debug-threads=on",
           "-display", "none",
           "-debugcon", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
           "-kernel", str(tools.gfio)] + _vcpus(row)
    if row.iothread:
        cmd += ["-object", "iothread,id=io1"]
        device += ",iothread=io1"
    cmd += _disks(row, images, device, aio=True)
    cmd += ["-append", gfio_args(row, rw, iodepth, plan)]
    return cmd


def fio_command(row, tools, image, rw, iodepth, plan, hipri, output):
    """Bare-metal fio; --thread keeps the job, and its SQPOLL thread, in one process."""
    cmd = [tools.fio, f"--name={row.name}", f"--filename={image}", "--thread",
           "--ioengine=io_uring", "--direct=1", f"--rw={rw}", f"--bs={BLOCK_SIZE}",
           f"--iodepth={iodepth}", "--time_based",
           f"--runtime={milliseconds(plan.runtime_s)}",
           f"--ramp_time={milliseconds(plan.ramp_s)}",
           "--lat_percentiles=1", "--output-format=json", f"--output={output}"]
    if row.sqpoll:
        cmd.append("--sqthread_poll=1")
    if hipri:
        cmd.append("--hipri=1")
    return cmd


def vm_command(row, tools, images, rw, iodepth, plan):
    """@images: the disks, images[0] for a row of one disk."""
    build = vmm_command if row.engine == "vmm" else qemu_command
    return build(row, tools, images, rw, iodepth, plan)
