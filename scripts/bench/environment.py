"""What the benchmark needs from the machine, and what it records about it."""
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from .commands import Tools
from .config import BLOCK_SIZE

TOP = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = TOP / "scripts/install-deps.sh"
FILL_CHUNK = 8 << 20


class SetupError(Exception):
    """The machine lacks something; the message says what to run."""


def install_packages():
    """Run the project's install script: a no-op when everything is there."""
    result = subprocess.run([str(INSTALL_SCRIPT)], capture_output=True, text=True,
                            timeout=1800, check=False)
    if result.returncode:
        raise SetupError(f"{INSTALL_SCRIPT.relative_to(TOP)} failed (run it as root):\n"
                         + (result.stderr or result.stdout).strip())


def find_tools(build):
    vmm, gfio = build / "qemu-system-x86_64", build / "tests/guest/gfio.elf"
    for path in (vmm, gfio):
        if not path.is_file():
            raise SetupError(f"{path} is missing: run ./configure && make")
    qemu, fio = shutil.which("qemu-system-x86_64"), shutil.which("fio")
    if not qemu or not fio or Path(qemu).resolve() == vmm.resolve():
        raise SetupError("stock QEMU or fio is missing: run scripts/install-deps.sh")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        raise SetupError("/dev/kvm is missing or not accessible: KVM is needed")
    if importlib.util.find_spec("matplotlib") is None:
        raise SetupError(f"matplotlib is missing for {sys.executable}: run "
                         "scripts/install-deps.sh (Debian's python3-matplotlib)")
    return Tools(vmm=vmm, gfio=gfio, qemu=qemu, fio=fio)


def snapshot(tools, directory):
    """Copies of our VMM and gfio, so that a rebuild during the run changes nothing."""
    directory.mkdir(parents=True, exist_ok=True)
    copies = {}
    for name in ("vmm", "gfio"):
        source = getattr(tools, name)
        copies[name] = directory / source.name
        shutil.copy2(source, copies[name])
    return replace(tools, **copies)


def parse_size(text):
    """Bytes in "2G", "512M", "1048576" (powers of 1024)."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def ensure_image(path, size, remake):
    """The benchmark's disk: @size bytes of random data, made once and then reused.

    An image of another size is remade only if @remake (ours, not the user's).
    """
    if path.is_file() and (path.stat().st_size == size or not remake):
        return
    print(f"bench: filling {path} with {size >> 20} MiB of random data", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with open(partial, "wb") as f:
        for done in range(0, size, FILL_CHUNK):
            f.write(os.urandom(min(FILL_CHUNK, size - done)))
        f.flush()
        os.fsync(f.fileno())
    partial.rename(path)


def image_bytes(path):
    """Size of the image at @path, a file or a block device."""
    with open(path, "rb") as f:
        return f.seek(0, os.SEEK_END)


def block_queue(path):
    """/sys/block/DEV/queue of the disk holding @path, or None."""
    dev = os.stat(path).st_dev
    node = Path(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}")
    if not node.exists():
        return None
    node = node.resolve()
    if (node / "partition").exists():
        node = node.parent
    return node / "queue" if (node / "queue").is_dir() else None


def hipri_support(path):
    """(whether fio's hipri=1 can poll the disk holding @path, why)."""
    queue = block_queue(path)
    if queue is None:
        return False, f"{path} is not on a block device"
    poll = (queue / "io_poll").read_text().strip()
    disk = queue.parent.name
    if poll == "1":
        return True, f"{disk} polls (queue/io_poll = 1)"
    return False, f"{disk} has no poll queues (queue/io_poll = {poll}): hipri=1 not used"


def _output(cmd):
    """The first line of @cmd's output, or ""."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                             check=False, cwd=TOP).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (out.strip().splitlines() or [""])[0]


def _cpu_model():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor()


def metadata(plan, tools, image, hipri, exit_method, argv):
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["scripts/bench.py"] + argv),
        "git_commit": _output(["git", "rev-parse", "HEAD"]),
        "git_dirty": bool(_output(["git", "status", "--porcelain", "--untracked-files=no"])),
        "kernel": platform.release(),
        "cpu_model": _cpu_model(),
        "cpus": os.cpu_count(),
        "kvm_modules": sorted(m for m in ("kvm_intel", "kvm_amd", "kvm_pvm")
                              if Path(f"/sys/module/{m}").exists()),
        "load_average": os.getloadavg(),
        "python": sys.version.split()[0],
        "fio": _output([tools.fio, "--version"]),
        "qemu": _output([tools.qemu, "-version"]),
        "vmm": _output([str(tools.vmm), "-version"]),
        "image": str(image),
        "image_size": image.stat().st_size,
        "bs": BLOCK_SIZE,
        "rows": [row.name for row in plan.rows],
        "rws": list(plan.rws),
        "iodepths": list(plan.iodepths),
        "rounds": plan.rounds,
        "runtime_s": plan.runtime_s,
        "ramp_s": plan.ramp_s,
        "hipri": {"used": hipri[0], "why": hipri[1]},
        "cpu_accounting": ("utime+stime from /proc of the process (all its threads, "
                           "io_uring kernel threads included) and of its child processes "
                           "(the passthrough's ring owner with its SQPOLL thread), over the "
                           "measured window, divided by IOPS x window"),
        "polling_threads": ("threads alive at the window's end, in the process and its "
                            "children: SQPOLL (iou-sqp-*) and iothreads (IO *)"),
        "latency": ("lat: queued to completed, percentiles from fio's and gfio's JSON "
                    "(fio 3.33's clat is wrong with sqthread_poll)"),
        "exit_counting": exit_method,
    }
