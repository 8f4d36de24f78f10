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
    """lat_percentiles=1 as fio's command has it: lat is what is compared."""
    args = (f"rw={rw} bs={BLOCK_SIZE} iodepth={iodepth} "
            f"runtime={milliseconds(plan.runtime_s)} ramp_time={milliseconds(plan.ramp_s)} "
            "lat_percentiles=1")
    return args + " uring=on" if row.passthrough else args


def _drive(image, aio):
    drive = f"file={image},if=none,id=d0,format=raw,cache=none"
    return drive + ",aio=io_uring" if aio else drive


# null-co's default size (1 GiB): reads return zeroes, writes go nowhere.
NULL_DRIVE = "file=null-co://,if=none,id=d0,format=raw,file.read-zeroes=on"


def vmm_command(row, tools, image, rw, iodepth, plan):
    """gfio in our VMM: virtqueues (with or without an iothread, on the image
    or on null-co) or the passthrough."""
    device = "virtio-blk-pci,drive=d0"
    cmd = [str(tools.vmm), "-accel", "kvm", "-m", GUEST_RAM, "-nographic",
           "-kernel", str(tools.gfio)]
    if row.iothread:
        cmd += ["-object", "iothread,id=io1"]
        device += ",iothread=io1"
    if row.passthrough:
        device += ",uring-passthrough=on"
    drive = NULL_DRIVE if row.null else _drive(image, aio=not row.passthrough)
    cmd += ["-drive", drive, "-device", device,
            "-append", gfio_args(row, rw, iodepth, plan)]
    return cmd


def qemu_command(row, tools, image, rw, iodepth, plan):
    """gfio in stock QEMU: the console is debugcon, the exit isa-debug-exit;
    debug-threads=on names the threads ("CPU 0/KVM", "IO io1") as ours are."""
    device = "virtio-blk-pci,drive=d0,disable-legacy=on"
    cmd = [tools.qemu, "-accel", "kvm", "-m", GUEST_RAM, "-name", "debug-threads=on",
           "-display", "none",
           "-debugcon", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
           "-kernel", str(tools.gfio)]
    if row.iothread:
        cmd += ["-object", "iothread,id=io1"]
        device += ",iothread=io1"
    cmd += ["-drive", _drive(image, aio=True), "-device", device,
            "-append", gfio_args(row, rw, iodepth, plan)]
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


def vm_command(row, tools, image, rw, iodepth, plan):
    build = vmm_command if row.engine == "vmm" else qemu_command
    return build(row, tools, image, rw, iodepth, plan)
