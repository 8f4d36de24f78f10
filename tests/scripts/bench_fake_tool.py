#!/usr/bin/env python3
"""A stand-in for fio, our VMM and stock QEMU in tests of scripts/bench.py.

Installed under the name of the tool it replaces (``fio`` or
``qemu-system-x86_64``).  It works out which benchmark row invoked it from
the command line and does what $BENCH_FAKE_PLAN (JSON: row name -> list of
behaviours, one per invocation of that row, the last one repeated) says,
counting invocations in $BENCH_FAKE_DIR:

``ok``        a successful run: gfio's console with the measure markers
              and JSON (or fio's JSON file), exit as the real tool does
``empty``     exits as a success, but no request completed in the window
              (the JSON has no latency percentiles)
``stall``     gfio's report of requests that stopped completing (exit 5)
``error``     fio fails with a message on stderr
``crash``     the VMM dies of SIGSEGV
"""
import json
import os
import signal
import sys
from pathlib import Path

IOPS = 10000.0


def row_of(argv):
    if Path(argv[0]).name == "fio":
        return next(a.partition("=")[2] for a in argv if a.startswith("--name="))
    line = " ".join(argv)
    name = ("passthrough" if "uring-passthrough=on" in line
            else "vq-iothread" if "iothread=io1" in line
            else "vq-null" if "null-co://" in line else "vq")
    return "qemu-" + name if "-debugcon" in argv else name


def behaviour(row):
    plan = json.loads(os.environ["BENCH_FAKE_PLAN"]).get(row, ["ok"])
    counter = Path(os.environ["BENCH_FAKE_DIR"]) / f"{row}.count"
    done = int(counter.read_text()) if counter.exists() else 0
    counter.write_text(str(done + 1))
    return plan[min(done, len(plan) - 1)]


def latency(completed):
    stats = {"min": 40000 if completed else 0, "max": 90000 if completed else 0,
             "mean": 45000.0 if completed else 0.0, "stddev": 0.0,
             "N": 1000 if completed else 0}
    if completed:
        stats["percentile"] = {"50.000000": 44000, "99.000000": 80000}
    return stats


def direction(completed):
    return {"iops": IOPS if completed else 0.0, "bw_bytes": 4096 * int(IOPS) if completed else 0,
            "total_ios": 1000 if completed else 0,
            "slat_ns": latency(completed), "clat_ns": latency(completed),
            "lat_ns": latency(completed)}


def job_json(rw, completed, error=0):
    reads, writes = rw.endswith("read"), rw.endswith("write")
    job = {"jobname": "gfio", "error": error,
           "read": direction(completed and reads), "write": direction(completed and writes)}
    return {"fio version": "fake", "jobs": [job]}


def option(argv, name):
    return next(a.partition("=")[2] for a in argv if a.startswith(name + "="))


def fio(argv, what):
    if "--version" in argv:
        print("fio-fake")
        return 0
    if what == "error":
        print("fio: pretend the disk went away", file=sys.stderr)
        return 1
    Path(option(argv, "--output")).write_text(
        json.dumps(job_json(option(argv, "--rw"), what == "ok")))
    return 0


def gfio_json(rw, completed, error=0):
    print("--- gfio json begin ---")
    print(json.dumps(job_json(rw, completed, error), indent=1))
    print("--- gfio json end ---")


def vmm(argv, what):
    if "-version" in argv:
        print("QEMU emulator version 0.0 (fake)")
        return 0
    append = dict(word.split("=", 1) for word in argv[argv.index("-append") + 1].split())
    rw = append["rw"]
    print("gfio: virtio-blk0: fake engine")
    if what == "crash":
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGSEGV)
    if what == "stall":
        print("gfio: measure begin")
        print("gfio: 1 requests made no progress for 30 s")
        print("gfio: stall: oldest request: tag 0, write of 4096 bytes at offset 0x1000, "
              "queued 30000 ms ago")
        print("gfio: stall: uring sq: head 11853 tail 11853 dropped 0 flags 0x0")
        print("gfio: measure end")
        gfio_json(rw, False, error=5)
        print("gfio: rw=randwrite bs=4096 iodepth=1 runtime=100ms: "
              "uring=[requests=11853 kicks=11853 doorbells=0] FAILED")
        return 5 << 1 | 1
    print("gfio: measure begin")
    print("gfio: measure end")
    if what == "empty":
        print("gfio: warning: no request completed after ramp_time")
    gfio_json(rw, what == "ok")
    print(f"gfio: rw={rw} bs=4096 iodepth=1 runtime=100ms: OK")
    return 1


def main(argv):
    what = behaviour(row_of(argv)) if "--version" not in argv and "-version" not in argv \
        else None
    status = (fio if Path(argv[0]).name == "fio" else vmm)(argv, what)
    sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
