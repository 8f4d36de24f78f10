"""What the host sees of a run: CPU time from /proc, VM exits from KVM's tracepoints.

CPU time is utime + stime in clock ticks.  A process's own line in
/proc/PID/stat covers all its threads, including threads that have exited and
the kernel's io_uring threads (iou-sqp-*, iou-wrk-*), which belong to the
process that created the ring; the per-thread lines split it by thread.

VM exits are counted with the kvm tracepoints (kvm_pio, kvm_mmio,
kvm_fast_mmio) of the VMM's vCPU threads, in private tracefs instances whose
per-CPU ring-buffer statistics (entries + overrun) serve as event counters:
nothing is read out of the buffers.  KVM's own statistics are not used
because they are not readable here: under kernel lockdown (integrity)
debugfs refuses the per-VM files (EPERM), and KVM_GET_STATS_FD only works
from the process that owns the VM.  The nested hypervisor (kvm_pvm) does not
emit kvm_exit, so exits that are not I/O (interrupts, preemption) are not
counted; I/O exits are what a request costs.
"""
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

NS_PER_TICK = 10**9 // os.sysconf("SC_CLK_TCK")
TRACEFS = Path("/sys/kernel/tracing")
INSTANCE_PREFIX = "qemu-uring-bench-"
VCPU_THREAD = re.compile(r"CPU \d+/KVM")

# The guest console (COM1 and debugcon 0xe9) is counted apart: gfio prints
# its end-of-measurement marker inside the window.
CONSOLE_PORTS = "port == 0xe9 || (port >= 0x3f8 && port <= 0x3ff)"
EXIT_COUNTERS = {
    "mmio": (("kvm_mmio", "type != 0"),     # type 0: a read waiting for the VMM
             ("kvm_fast_mmio", None)),
    "pio": (("kvm_pio", f"!({CONSOLE_PORTS})"),),
    "console": (("kvm_pio", CONSOLE_PORTS),),
}
EXIT_METHOD = ("tracefs: kvm_mmio (completed accesses) + kvm_fast_mmio + kvm_pio of the "
               "vCPU threads, guest console ports (0x3f8-0x3ff, 0xe9) counted apart")


def _read_stat(path):
    """(comm, fields after the command name) of a /proc stat file."""
    text = path.read_text()
    head, _, tail = text.rpartition(")")
    return head.partition("(")[2], tail.split()


def _ticks(fields):
    return int(fields[11]) + int(fields[12])    # utime, stime


def _children(pid):
    kids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            _, fields = _read_stat(entry / "stat")
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(entry.name))
    return kids


def thread_kind(comm):
    """Threads grouped by what they do: "vCPU", "iou-sqp", "IO io1", ..."""
    if VCPU_THREAD.fullmatch(comm):
        return "vCPU"
    return re.sub(r"-\d+$", "", comm)


def vcpu_threads(pid):
    """Thread ids of @pid's vCPUs; none if it has exited already."""
    tids = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return tids
    for task in tasks:
        try:
            if VCPU_THREAD.fullmatch((task / "comm").read_text().strip()):
                tids.append(int(task.name))
        except OSError:
            continue
    return tids


@dataclass
class CpuSample:
    total_ns: int = 0
    threads_ns: dict = field(default_factory=dict)   # by thread_kind()
    threads: dict = field(default_factory=dict)      # how many, by thread_kind()


# Host threads that poll: the kernel's SQPOLL threads of the io_uring
# passthrough (and of fio's sqthread_poll), which spin on their rings until
# idle for sq_thread_idle, and the VMM's iothreads, which poll adaptively
# (up to poll-max-ns) before they sleep.
def is_sqpoll(kind):
    return kind.removeprefix("child ") == "iou-sqp"


def is_iothread(kind):
    return kind.removeprefix("child ").startswith("IO ")


def _process_cpu(proc):
    """(ticks of process @proc, [(comm, ticks) of each of its threads]), or
    None if it is gone: a failing VMM's helper process can vanish at any
    point of this."""
    try:
        _, fields = _read_stat(Path(f"/proc/{proc}/stat"))
        tasks = list(Path(f"/proc/{proc}/task").iterdir())
    except OSError:
        return None
    threads = []
    for task in tasks:
        try:
            comm, task_fields = _read_stat(task / "stat")
        except OSError:
            continue
        threads.append((comm, _ticks(task_fields)))
    return _ticks(fields), threads


def sample_cpu(pid):
    """CPU time so far of process @pid and of its child processes."""
    sample = CpuSample()
    for proc, prefix in [(pid, "")] + [(kid, "child ") for kid in _children(pid)]:
        cpu = _process_cpu(proc)
        if cpu is None:
            continue
        sample.total_ns += cpu[0] * NS_PER_TICK
        for comm, ticks in cpu[1]:
            kind = prefix + thread_kind(comm)
            sample.threads_ns[kind] = sample.threads_ns.get(kind, 0) + ticks * NS_PER_TICK
            sample.threads[kind] = sample.threads.get(kind, 0) + 1
    return sample


def sample_host():
    """(busy, stolen) CPU time of the whole machine so far, from /proc/stat."""
    user, nice, system, _, _, irq, softirq, steal = (
        int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9])
    return (user + nice + system + irq + softirq) * NS_PER_TICK, steal * NS_PER_TICK


@dataclass
class Sample:
    """Host-side state at one end of a measurement window."""
    time: float
    cpu: CpuSample
    host_busy_ns: int
    host_steal_ns: int
    exits: dict | None


def take_sample(pid, exits=None):
    return Sample(time.monotonic(), sample_cpu(pid), *sample_host(),
                  exits.read() if exits else None)


def _write(path, text):
    path.write_text(text + "\n")


class ExitCounters:
    """Counts the I/O exits of chosen vCPU threads, one tracefs instance per counter."""

    def __init__(self):
        self.instances = {name: TRACEFS / "instances" / f"{INSTANCE_PREFIX}{os.getpid()}-{name}"
                          for name in EXIT_COUNTERS}
        for path in self.instances.values():
            path.mkdir()
            _write(path / "buffer_size_kb", "8")   # only the counters matter

    @classmethod
    def open(cls):
        """(counters, None), or (None, why exits cannot be counted)."""
        if os.geteuid() != 0:
            return None, "counting VM exits needs root (tracefs)"
        if not (TRACEFS / "instances").is_dir():
            subprocess.run(["mount", "-t", "tracefs", "nodev", str(TRACEFS)],
                           capture_output=True, timeout=10, check=False)
        if not (TRACEFS / "events/kvm/kvm_pio").is_dir():
            return None, f"no kvm tracepoints in {TRACEFS}"
        _remove_stale_instances()
        try:
            return cls(), None
        except OSError as e:
            return None, f"cannot create a tracefs instance: {e}"

    def arm(self, tids):
        """Count the events of these threads from now on."""
        pids = " || ".join(f"common_pid == {tid}" for tid in tids)
        for name, events in EXIT_COUNTERS.items():
            for event, condition in events:
                path = self.instances[name] / "events/kvm" / event
                _write(path / "filter", f"({condition}) && ({pids})" if condition else pids)
                _write(path / "enable", "1")

    def disarm(self):
        for path in self.instances.values():
            _write(path / "events/enable", "0")

    def read(self):
        return {name: _events_written(path) for name, path in self.instances.items()}

    def close(self):
        self.disarm()
        for path in self.instances.values():
            path.rmdir()


def _events_written(instance):
    """Events recorded since the instance was made: those kept plus those overwritten."""
    total = 0
    for stats in instance.glob("per_cpu/cpu*/stats"):
        for line in stats.read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("entries", "overrun"):
                total += int(value)
    return total


def _remove_stale_instances():
    """Instances left by a benchmark that was killed."""
    for path in (TRACEFS / "instances").glob(INSTANCE_PREFIX + "*"):
        pid = path.name[len(INSTANCE_PREFIX):].partition("-")[0]
        if not Path(f"/proc/{pid}").exists():
            _write(path / "events/enable", "0")
            path.rmdir()
