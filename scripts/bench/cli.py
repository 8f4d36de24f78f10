"""Command line, the loop over runs, progress lines."""
import argparse
import signal
import sys
import tempfile
import time
from pathlib import Path

from . import report
from .config import FULL, QUICK, ROW_BY_NAME, RWS
from .environment import (TOP, SetupError, ensure_image, find_tools, hipri_support,
                          image_bytes, install_packages, metadata, parse_size, snapshot)
from .probes import EXIT_METHOD, ExitCounters
from .runner import new_record, run_fio, run_vm


def _list(convert, allowed=None):
    def parse(text):
        items = [convert(item) for item in text.split(",") if item]
        bad = [item for item in items if allowed is not None and item not in allowed]
        if bad or not items:
            raise argparse.ArgumentTypeError(
                f"expected a comma-separated list of {', '.join(map(str, allowed or ['values']))}")
        return tuple(items)
    return parse


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="scripts/bench.py",
        description="4 KiB random I/O through bare-metal fio, our VMM (virtqueues, "
                    "iothread, io_uring passthrough) and stock QEMU, rows alternating "
                    "over several rounds.  Results in DIR/results.{json,md} and "
                    "DIR/iops.png; see docs/benchmarks.rst.")
    p.add_argument("--quick", action="store_true",
                   help=f"a few minutes: {','.join(QUICK.rws)}, iodepth "
                        f"{','.join(map(str, QUICK.iodepths))}, {QUICK.runtime_s:g} s, "
                        f"{QUICK.rounds} round (default: the full run, {FULL.rounds} rounds "
                        f"of {FULL.runtime_s:g} s)")
    p.add_argument("--rows", type=_list(str, ROW_BY_NAME), help=",".join(ROW_BY_NAME))
    p.add_argument("--iodepth", type=_list(int), help="e.g. 1,32")
    p.add_argument("--rw", type=_list(str, RWS), help=",".join(RWS))
    p.add_argument("--rounds", type=int)
    p.add_argument("--runtime", type=float, metavar="S", help="measured seconds per run")
    p.add_argument("--ramp-time", type=float, metavar="S", help="seconds before measuring")
    p.add_argument("--image", type=Path,
                   help="disk image, used as it is if it exists (default: DIR/disk.img, "
                        "remade if its size differs from --image-size)")
    p.add_argument("--image-size", type=parse_size, default=parse_size("2G"),
                   help="size of the image made with random data (default 2G)")
    p.add_argument("--output", type=Path, default=TOP / "build/bench", metavar="DIR")
    p.add_argument("--build", type=Path, default=TOP / "build", metavar="DIR",
                   help="the build tree (default build/)")
    args = p.parse_args(argv)
    plan = (QUICK if args.quick else FULL).narrowed(
        rows=args.rows and tuple(ROW_BY_NAME[n] for n in args.rows), rws=args.rw,
        iodepths=args.iodepth, rounds=args.rounds, runtime_s=args.runtime,
        ramp_s=args.ramp_time)
    if plan.rounds < 1 or min(plan.iodepths) < 1 or plan.runtime_s <= 0 or plan.ramp_s < 0:
        p.error("--rounds and --iodepth must be at least 1, --runtime positive, "
                "--ramp-time not negative")
    return args, plan


def _figure(value, spec, scale=1):
    """@value / @scale formatted with @spec, "n/a" (as wide) when not measured."""
    width = spec.partition(".")[0]
    return format("n/a", f">{width}") if value is None else format(value / scale, spec)


def progress(index, total, record, seconds):
    """One line per run; any figure of a record may be missing (None)."""
    head = (f"[{index:3}/{total}] round {record['round']} {record['rw']:9} "
            f"QD {record['iodepth']:<2} {record['row']:18}")
    if not record["ok"]:
        return f"{head} FAILED ({seconds:.1f} s): {record['error']}"
    line = (f"{head} {_figure(record['iops'], '7.1f', 1000)} kIOPS"
            f"  lat p50 {_figure(record['lat_p50_ns'], '6.1f', 1000)}"
            f" p99 {_figure(record['lat_p99_ns'], '7.1f', 1000)} µs")
    if record["cpu_ns_per_req"] is not None:
        line += f"  CPU {record['cpu_ns_per_req'] / 1000:6.2f} µs/req"
    if record["exits_per_req"] is not None:
        line += f"  exits {record['exits_per_req']:.3f}/req"
    if record["host_others_cpus"] is not None:
        line += f"  others {record['host_others_cpus']:.1f} CPU"
    return line + f"  ({seconds:.1f} s)"


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def run_all(plan, tools, images, hipri, exits):
    """Every run of the plan, in order; yields each record as it is made.
    @images: the disks; fio and the rows of one disk use the first."""
    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        fio_json = Path(scratch) / "fio.json"
        for index, (rnd, rw, qd, row) in enumerate(plan.runs(), 1):
            record = new_record(row, rw, qd, rnd)
            start = time.monotonic()
            if row.in_vm:
                run_vm(record, row, tools, images, rw, qd, plan, exits)
            else:
                run_fio(record, row, tools, images[0], rw, qd, plan, hipri, fio_json)
            print(progress(index, plan.count(), record, time.monotonic() - start), flush=True)
            yield record


def write_reports(output, meta, records, plan):
    report.write_json(output / "results.json", meta, records)
    (output / "results.md").write_text(report.markdown(meta, records, plan))
    report.plot(output / "iops.png", records, plan)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args, plan = parse_args(argv)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    output = args.output.resolve()
    image = (args.image or output / "disk.img").resolve()
    try:
        install_packages()
        output.mkdir(parents=True, exist_ok=True)
        tools = snapshot(find_tools(args.build.resolve()), output / "bin")
        ensure_image(image, args.image_size, remake=args.image is None)
        images = [image]
        for n in range(2, max(row.disks for row in plan.rows) + 1):
            # Further disks of the rows of several: files as large as the first.
            images.append(output / f"disk-{n}.img")
            ensure_image(images[-1], image_bytes(image), remake=True)
    except SetupError as e:
        print(f"bench: {e}", file=sys.stderr)
        return 2
    hipri = hipri_support(image)
    exits, why_not = ExitCounters.open()
    meta = metadata(plan, tools, image, hipri, EXIT_METHOD if exits else why_not, argv)
    print(f"bench: {plan.count()} runs: rows {','.join(meta['rows'])}; {','.join(plan.rws)}; "
          f"iodepth {','.join(map(str, plan.iodepths))}; {plan.rounds} round(s) of "
          f"{plan.ramp_s:g} s ramp + {plan.runtime_s:g} s; {hipri[1]}", flush=True)
    if why_not:
        print(f"bench: VM exits not counted: {why_not}", flush=True)
    records, status = [], 0
    try:
        for record in run_all(plan, tools, images, hipri[0], exits):
            records.append(record)
            report.write_json(output / "results.json", meta, records)
    except KeyboardInterrupt:
        print("bench: interrupted; reporting the runs done so far", file=sys.stderr)
        status = 130
    finally:
        # Even when the script itself fails, the runs done are reported
        # before its traceback.
        if exits:
            exits.close()
        if records:
            write_reports(output, meta, records, plan)
            print(f"bench: {output / 'results.md'}, {output / 'results.json'}, "
                  f"{output / 'iops.png'}")
    return status
