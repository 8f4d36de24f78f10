"""Results: the JSON records, the Markdown tables with the targets, the plot."""
import json
from collections import Counter
from dataclasses import dataclass
from statistics import median

from .config import BASELINE, BLOCK_SIZE

# Record fields summarised over rounds.
SUMMARISED = ("iops", "iops_ratio_to_baseline", "lat_p50_ns", "lat_p99_ns", "cpu_ns_per_req",
              "cpu_vcpu_ns_per_req", "cpu_other_ns_per_req", "exits_per_req",
              "host_others_cpus", "cpu_polling_ns_per_req", "sqpoll_threads", "iothreads")

# Rows of one job that the rows of several are read against.
ONE_JOB_ROWS = ("vq-iothread", "qemu-vq-iothread", "passthrough")


@dataclass
class Spread:
    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values):
        values = [v for v in values if v is not None]
        return cls(median(values), min(values), max(values)) if values else None


@dataclass
class Cell:
    """One row at one rw and iodepth, over the rounds."""
    runs: list
    ok: int
    stats: dict             # SUMMARISED field -> Spread or None
    error: str | None       # the most frequent error of the runs that failed


def add_ratios(records):
    """Each record's IOPS over the baseline's in the same round, rw and iodepth."""
    base = {(r["round"], r["rw"], r["iodepth"]): r["iops"]
            for r in records if r["row"] == BASELINE and r["ok"]}
    for r in records:
        b = base.get((r["round"], r["rw"], r["iodepth"]))
        r["iops_ratio_to_baseline"] = r["iops"] / b if r["ok"] and b else None


def paired_ratios(records, row, other, rw, iodepth):
    """IOPS of @row over @other's, round by round."""
    def iops(name):
        return {r["round"]: r["iops"] for r in records
                if r["row"] == name and r["rw"] == rw and r["iodepth"] == iodepth and r["ok"]}
    mine, theirs = iops(row), iops(other)
    return [mine[n] / theirs[n] for n in sorted(mine) if theirs.get(n)]


def cells(records):
    """(row, rw, iodepth) -> Cell."""
    groups = {}
    for r in records:
        groups.setdefault((r["row"], r["rw"], r["iodepth"]), []).append(r)
    table = {}
    for key, runs in groups.items():
        ok = [r for r in runs if r["ok"]]
        errors = Counter(r["error"] for r in runs if not r["ok"])
        table[key] = Cell(runs, len(ok), {f: Spread.of([r[f] for r in ok]) for f in SUMMARISED},
                          errors.most_common(1)[0][0] if errors else None)
    return table


def write_json(path, meta, records):
    add_ratios(records)
    path.write_text(json.dumps({"metadata": meta, "records": records}, indent=1) + "\n")


# --- Markdown -----------------------------------------------------------------

def _median(spread, scale=1.0, digits=1):
    return "n/a" if spread is None else f"{spread.median / scale:.{digits}f}"


def _range(spread, scale=1.0, digits=1):
    if spread is None:
        return "n/a"
    m, lo, hi = (v / scale for v in (spread.median, spread.low, spread.high))
    return f"{m:.{digits}f} ({lo:.{digits}f}–{hi:.{digits}f})"


def _kiops(spread):
    if spread is None:
        return "failed"
    rel = (spread.high - spread.low) / 2 / spread.median if spread.median else 0
    return f"{spread.median / 1000:.1f} ±{rel:.0%}"


def _exits(spread):
    if spread is None:
        return "n/a"
    v = spread.median
    return "0" if v == 0 else f"{v:.2g}" if v < 0.01 else f"{v:.2f}"


def _row_note(table, row, rw, hipri):
    mine = [c for (name, r, _), c in table.items() if name == row.name and r == rw]
    notes = []
    if row.engine == "fio":
        notes.append("hipri=1" if hipri["used"] else hipri["why"])
    if any("not polled" in line for c in mine for r in c.runs for line in r["stderr"]):
        notes.append("completions not polled (the drive cannot poll)")
    failed = sum(len(c.runs) - c.ok for c in mine)
    if failed:
        worst = max(mine, key=lambda c: len(c.runs) - c.ok)
        notes.append(f"{failed}/{sum(len(c.runs) for c in mine)} runs failed: {worst.error}")
    return "; ".join(notes).replace("|", "\\|")


def _summary_table(table, plan, rw, hipri):
    qds = plan.iodepths
    lines = ["| row | " + " | ".join(f"QD {q}" for q in qds) + " | "
             + " | ".join(f"×{BASELINE} QD {q}" for q in qds) + " | note |",
             "|---|" + "---:|" * (2 * len(qds)) + "---|"]
    for row in plan.rows:
        cs = [table.get((row.name, rw, q)) for q in qds]
        kiops = [_kiops(c.stats["iops"]) if c else "" for c in cs]
        ratios = [_median(c.stats["iops_ratio_to_baseline"], digits=2) if c else "" for c in cs]
        lines.append(f"| {row.name} | " + " | ".join(kiops + ratios)
                     + f" | {_row_note(table, row, rw, hipri)} |")
    return lines


def _measured(table, rows, plan, rw):
    """(row, iodepth, cell) of rows at each of the plan's iodepths, where measured."""
    for row in rows:
        for qd in plan.iodepths:
            c = table.get((row.name, rw, qd))
            if c is not None:
                yield row, qd, c


def _detail_table(table, plan, rw):
    lines = [f"| row | QD | kIOPS median (min–max) | ×{BASELINE} median (min–max) "
             "| lat p50 µs | lat p99 µs | CPU µs/req | vCPU µs/req | other µs/req "
             "| exits/req | others' CPUs | runs ok |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row, qd, c in _measured(table, plan.rows, plan, rw):
        s = c.stats
        lines.append(
            f"| {row.name} | {qd} | {_range(s['iops'], 1000)} "
            f"| {_range(s['iops_ratio_to_baseline'], digits=2)} "
            f"| {_median(s['lat_p50_ns'], 1000)} | {_median(s['lat_p99_ns'], 1000)} "
            f"| {_median(s['cpu_ns_per_req'], 1000, 2)} "
            f"| {_median(s['cpu_vcpu_ns_per_req'], 1000, 2)} "
            f"| {_median(s['cpu_other_ns_per_req'], 1000, 2)} "
            f"| {_exits(s['exits_per_req'])} | {_median(s['host_others_cpus'])} "
            f"| {c.ok}/{len(c.runs)} |")
    return lines


def _threads(spread):
    return "n/a" if spread is None else f"{spread.median:g}"


def _per_disk(c, row):
    s = c.stats
    if s["sqpoll_threads"] is None or s["iothreads"] is None:
        return "n/a"
    return f"{(s['sqpoll_threads'].median + s['iothreads'].median) / row.disks:g}"


def _parallel_table(table, plan, rw):
    """Rows of several jobs or disks, and the rows of one job they compare with:
    the host's CPU per request and the threads that poll."""
    rows = [row for row in plan.rows if row.parallel or row.name in ONE_JOB_ROWS]
    lines = ["| row | vCPUs/jobs | disks | QD per job | kIOPS | CPU µs/req | vCPU µs/req "
             "| polling threads' µs/req | SQPOLL threads | iothreads "
             "| polling threads per disk | runs ok |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row, qd, c in _measured(table, rows, plan, rw):
        s = c.stats
        lines.append(
            f"| {row.name} | {row.jobs} | {row.disks} | {qd} | {_kiops(s['iops'])} "
            f"| {_median(s['cpu_ns_per_req'], 1000, 2)} "
            f"| {_median(s['cpu_vcpu_ns_per_req'], 1000, 2)} "
            f"| {_median(s['cpu_polling_ns_per_req'], 1000, 2)} "
            f"| {_threads(s['sqpoll_threads'])} | {_threads(s['iothreads'])} "
            f"| {_per_disk(c, row)} | {c.ok}/{len(c.runs)} |")
    return lines


def _verdict(measured, wanted, test):
    """met / missed over the medians measured, saying when some are missing."""
    if not measured:
        return "not measured"
    if not all(test(v) for v in measured.values()):
        return "missed"
    if len(measured) < wanted:
        return f"met where measured ({len(measured)} of {wanted})"
    return "met"


def _target(text, measured, wanted, test, fmt):
    details = ", ".join(fmt(k, v) for k, v in measured.items())
    verdict = _verdict(measured, wanted, test)
    return f"- {text}: **{verdict}**" + (f"; {details}" if details else "")


def targets(records, table, plan):
    """The issue's four targets, checked against the medians of this run."""
    names = {row.name for row in plan.rows}
    points = [(rw, q) for rw in plan.rws for q in plan.iodepths]
    lines = []
    if {"passthrough", BASELINE} <= names:
        got = {k: c.stats["iops_ratio_to_baseline"].median for k in points
               if (c := table.get(("passthrough",) + k)) and c.stats["iops_ratio_to_baseline"]}
        lines.append(_target(f"passthrough within 5% of {BASELINE} at every iodepth "
                             "(ratio ≥ 0.95)", got, len(points), lambda v: v >= 0.95,
                             lambda k, v: f"{k[0]} QD {k[1]} {v:.2f}"))
    if {"passthrough", "qemu-vq-iothread"} <= names and 1 in plan.iodepths:
        got = {rw: median(v) for rw in plan.rws
               if (v := paired_ratios(records, "passthrough", "qemu-vq-iothread", rw, 1))}
        lines.append(_target("passthrough ≥ 1.5× qemu-vq-iothread at iodepth 1", got,
                             len(plan.rws), lambda v: v >= 1.5, lambda k, v: f"{k} {v:.2f}×"))
    if {"vq-iothread", "qemu-vq-iothread"} <= names:
        got = {k: median(v) for k in points
               if (v := paired_ratios(records, "vq-iothread", "qemu-vq-iothread", *k))}
        lines.append(_target("our vq-iothread ≥ qemu-vq-iothread", got, len(points),
                             lambda v: v >= 1.0, lambda k, v: f"{k[0]} QD {k[1]} {v:.2f}×"))
    if "passthrough" in names:
        got = {}
        for k in points:
            counts = [r["exits_in_window"] for r in records if r["ok"]
                      and (r["row"], r["rw"], r["iodepth"]) == ("passthrough",) + k]
            if counts and None not in counts:
                got[k] = max(counts)
        lines.append(_target("zero VM exits for passthrough in steady state (most exits in "
                             "a measured window)", got, len(points), lambda v: v == 0,
                             lambda k, v: f"{k[0]} QD {k[1]} {v}"))
    return lines


def markdown(meta, records, plan):
    table = cells(records)
    out = ["# qemu-uring benchmark", "",
           f"`{meta['command']}`, {meta['date']}, commit {meta['git_commit'][:12]}"
           f"{' with local changes' if meta['git_dirty'] else ''}.", "",
           f"{meta['cpu_model']}, {meta['cpus']} CPUs, Linux {meta['kernel']} "
           f"(KVM: {', '.join(meta['kvm_modules']) or 'none'}), {meta['fio']}, {meta['qemu']}. "
           f"Image of {meta['image_size'] >> 20} MiB of random data, bs {meta['bs']}, "
           f"ramp {meta['ramp_s']:g} s, runtime {meta['runtime_s']:g} s, "
           f"{meta['rounds']} round(s). Figures are medians over the rounds, ± is half the "
           f"min–max range, ratios are to {BASELINE} in the same round.", ""]
    for rw in plan.rws:
        out += [f"## {rw}, kIOPS", ""] + _summary_table(table, plan, rw, meta["hipri"]) + [""]
    for rw in plan.rws:
        out += [f"## {rw}, details", ""] + _detail_table(table, plan, rw) + [""]
    out += [f"Latency: {meta['latency']}. CPU: {meta['cpu_accounting']}; vCPU: the threads "
            f"`CPU n/KVM`. Exits: {meta['exit_counting']}. Others' CPUs: CPU time of the rest "
            f"of the machine during the window, in CPUs (noise from other users).", ""]
    if any(row.parallel for row in plan.rows):
        for rw in plan.rws:
            out += [f"## {rw}, several jobs and disks: host CPU and polling threads", ""]
            out += _parallel_table(table, plan, rw) + [""]
        out += [f"Polling threads: {meta.get('polling_threads', 'SQPOLL threads and iothreads')}"
                "; their µs/req is their CPU time per request, part of CPU µs/req. kIOPS "
                "are all jobs' together (gfio's group_reporting).", ""]
    out += ["## Targets", ""]
    out += targets(records, table, plan) + [""]
    failures = [r for r in records if not r["ok"]]
    if failures:
        out += ["## Failed runs", ""]
        out += [f"- {r['row']} {r['rw']} QD {r['iodepth']} round {r['round']}: {r['error']}"
                for r in failures] + [""]
    return "\n".join(out)


# --- plot ---------------------------------------------------------------------

def plot(path, records, plan):
    """kIOPS against iodepth, one line per row, min–max bars, a panel per rw."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = cells(records)
    fig, axes = plt.subplots(1, len(plan.rws), figsize=(6.5 * len(plan.rws), 4.8),
                             squeeze=False)
    for ax, rw in zip(axes[0], plan.rws):
        for color, row in enumerate(plan.rows):
            points = [(q, s) for q in plan.iodepths
                      if (c := table.get((row.name, rw, q))) and (s := c.stats["iops"])]
            if not points:
                ax.plot([], [], linestyle="none", color=f"C{color}", label=f"{row.name} (failed)")
                continue
            ax.errorbar([q for q, _ in points], [s.median / 1000 for _, s in points],
                        yerr=[[(s.median - s.low) / 1000 for _, s in points],
                              [(s.high - s.median) / 1000 for _, s in points]],
                        marker="o", capsize=3, color=f"C{color}", label=row.name)
        ax.set_xscale("log", base=2)
        ax.set_xticks(plan.iodepths, [str(q) for q in plan.iodepths])
        ax.set_xlabel("iodepth")
        ax.set_ylabel("kIOPS (median, bars: min–max)")
        ax.set_ylim(bottom=0)
        ax.set_title(f"{rw}, bs {BLOCK_SIZE}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
