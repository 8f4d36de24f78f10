"""What the benchmark runs: the rows, and the quick and full plans."""
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Row:
    """One way of doing the I/O: a row of the results table."""
    name: str
    engine: str                 # "fio" (bare metal), "vmm" (ours) or "qemu" (stock)
    sqpoll: bool = False        # fio only
    iothread: bool = False
    passthrough: bool = False   # ours only
    null: bool = False          # ours only: a null-co drive, no disk
    # In the VM: vCPUs and gfio jobs (numjobs=, one per vCPU).  On one disk
    # each job has a queue (num-queues=jobs) or ring of its own; on several
    # disks (dev=0:1), a disk of its own.
    jobs: int = 1
    disks: int = 1
    shared_sqpoll: bool = False  # ours only: the disks' rings on one -object uring-sqpoll

    @property
    def in_vm(self):
        return self.engine != "fio"

    @property
    def parallel(self):
        """A row of several jobs or disks, reported with its polling threads."""
        return self.jobs > 1 or self.disks > 1


ROWS = (
    Row("host-fio", "fio", sqpoll=True),
    Row("host-fio-nosqpoll", "fio"),
    Row("vq", "vmm"),
    Row("vq-iothread", "vmm", iothread=True),
    # The VMM's own cost per request, without this machine's noisy disk.
    Row("vq-null", "vmm", null=True),
    Row("passthrough", "vmm", passthrough=True),
    Row("qemu-vq", "qemu"),
    Row("qemu-vq-iothread", "qemu", iothread=True),
    # Two vCPUs, two jobs: each on a virtqueue of its own (one iothread serves
    # both), or on a ring of its own.
    Row("vq-iothread-2jobs", "vmm", iothread=True, jobs=2),
    Row("qemu-vq-iothread-2jobs", "qemu", iothread=True, jobs=2),
    Row("passthrough-2rings", "vmm", passthrough=True, jobs=2),
    # Two disks, a job on each: one SQPOLL thread for both, or one each.
    Row("passthrough-2disks-1sqpoll", "vmm", passthrough=True, jobs=2, disks=2,
        shared_sqpoll=True),
    Row("passthrough-2disks-2sqpoll", "vmm", passthrough=True, jobs=2, disks=2),
)
ROW_BY_NAME = {row.name: row for row in ROWS}

# Every ratio is taken against this row, measured in the same round.
BASELINE = "host-fio"
BLOCK_SIZE = "4k"
RWS = ("randread", "randwrite")
IODEPTHS = (1, 8, 16, 32)


@dataclass(frozen=True)
class Plan:
    rows: tuple[Row, ...]
    rws: tuple[str, ...]
    iodepths: tuple[int, ...]
    rounds: int
    runtime_s: float
    ramp_s: float

    def runs(self):
        """(round, rw, iodepth, row) in the order they run.

        Rows alternate at each iodepth, and their order rotates from one
        round to the next so that no row always runs first or after the
        same neighbour.
        """
        for rnd in range(1, self.rounds + 1):
            shift = (rnd - 1) % len(self.rows)
            rows = self.rows[shift:] + self.rows[:shift]
            for rw in self.rws:
                for iodepth in self.iodepths:
                    for row in rows:
                        yield rnd, rw, iodepth, row

    def count(self):
        return self.rounds * len(self.rws) * len(self.iodepths) * len(self.rows)

    def narrowed(self, **changes):
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


FULL = Plan(ROWS, RWS, IODEPTHS, rounds=3, runtime_s=10, ramp_s=2)
# About a minute: the two extreme iodepths, reads only, one round.
QUICK = Plan(ROWS, ("randread",), (1, 32), rounds=1, runtime_s=2, ramp_s=0.5)
