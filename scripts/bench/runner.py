"""One run: start fio or a VMM, sample the host during the measured window, parse results.

Every run fills a record (a dict, one per row, rw, iodepth and round); a run
that fails says why in record["error"] and never raises, except for
KeyboardInterrupt, which kills the run's process group on its way out.
"""
import json
import os
import selectors
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager

from .commands import fio_command, vm_command
from .probes import is_iothread, is_sqpoll, take_sample, vcpu_threads

MEASURE_BEGIN = "gfio: measure begin"
MEASURE_END = "gfio: measure end"
JSON_BEGIN = "--- gfio json begin ---"
JSON_END = "--- gfio json end ---"
GFIO_DETAIL = "gfio: stall:"      # lines that detail gfio's last failure
# Console lines kept in the record of a failed VM run.
CONSOLE_KEPT = 40

# Beyond ramp_time + runtime: boot (stock QEMU's firmware takes ~4 s) and
# gfio's own 30 s limit for requests that stop completing.
VM_GRACE_S = 90
FIO_GRACE_S = 60

GFIO_STATUS = {0: "success", 1: "bad option", 2: "engine or device set-up failed",
               3: "a request failed", 4: "verification failed",
               5: "requests stopped completing", 0x7d: "guest panic",
               0x7e: "guest CPU exception"}


def new_record(row, rw, iodepth, rnd):
    return {"row": row.name, "rw": rw, "iodepth": iodepth, "round": rnd, "ok": False,
            "error": None, "iops": None, "iops_ratio_to_baseline": None, "bw_bytes": None,
            "lat_p50_ns": None, "lat_p99_ns": None, "lat_mean_ns": None,
            "clat_p50_ns": None, "clat_p99_ns": None, "clat_mean_ns": None,
            "cpu_ns_per_req": None, "cpu_vcpu_ns_per_req": None,
            "cpu_other_ns_per_req": None, "cpu_threads_ns_per_req": None,
            "exits_per_req": None, "mmio_exits_per_req": None, "pio_exits_per_req": None,
            "exits_in_window": None, "console_exits_in_window": None, "window_s": None,
            "disks": row.disks, "jobs": row.jobs, "sqpoll_threads": None, "iothreads": None,
            "cpu_polling_ns_per_req": None,
            "host_others_cpus": None, "host_steal_cpus": None,
            "status": None, "notes": [], "stderr": [], "console": [], "command": None}


# --- processes ------------------------------------------------------------

@contextmanager
def started(cmd, **kwargs):
    """Popen in a session of its own, killed with all its children on the way out."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True, **kwargs)
    try:
        yield proc
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def console_lines(proc, deadline):
    """Lines of @proc's stdout as they come; TimeoutError at @deadline."""
    fd = proc.stdout.fileno()
    pending = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            if not selector.select(min(left, 0.5)):
                if proc.poll() is not None:
                    break       # exited; a child of it may still hold the pipe
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                yield line.decode(errors="replace").rstrip("\r")
    if pending:
        yield pending.decode(errors="replace").rstrip("\r")


def _stderr_lines(file):
    file.seek(0)
    return [line.strip() for line in file.read().decode(errors="replace").splitlines()
            if line.strip()]


def sleep_until(when, proc):
    """Sleep until @when; False if @proc exits first."""
    while (left := when - time.monotonic()) > 0:
        if proc.poll() is not None:
            return False
        time.sleep(min(left, 0.05))
    return proc.poll() is None


# --- results --------------------------------------------------------------

def io_results(job, rw):
    """IOPS, bandwidth and latencies of fio's (or gfio's) job JSON.

    lat (queued to completed) is the one to compare: fio 3.33's clat is wrong
    with sqthread_poll (fixed by fio commit "io_uring sqpoll issue_time empty
    when kernel not yet read sq", PR #1594), and gfio's clat starts after the
    batch's kick where fio's starts at submission.  Raises KeyError,
    TypeError or AttributeError if the JSON lacks a figure.
    """
    stats = job["read" if rw.endswith("read") else "write"]
    results = {"iops": stats["iops"], "bw_bytes": stats["bw_bytes"]}
    for kind in ("lat", "clat"):
        latency = stats[f"{kind}_ns"]
        percentiles = latency.get("percentile", {})
        results.update({f"{kind}_p50_ns": percentiles.get("50.000000"),
                        f"{kind}_p99_ns": percentiles.get("99.000000"),
                        f"{kind}_mean_ns": latency["mean"]})
    return results


def take_io_results(record, job, status_text):
    """Fill @record from the job JSON of a run that exited successfully;
    false, with the reason in record["error"], if it measured nothing.

    A run can succeed without a single request completing in its measured
    window (a stalled host, a window shorter than one request): its JSON
    has no latency percentiles, and the run counts as failed.
    """
    try:
        results = io_results(job, record["rw"])
    except (KeyError, TypeError, AttributeError) as e:
        record["error"] = f"{status_text}: results missing from its JSON ({e!r})"
        return False
    if not results["iops"] or results["lat_p50_ns"] is None:
        record["error"] = f"{status_text}: no request completed in the measured window"
        return False
    record.update(results, ok=True)
    return True


def window_costs(begin, end, iops):
    """Host CPU time and exits per request between two samples.

    Requests in the window are IOPS times the window's length, for fio and
    the VMs alike.
    """
    seconds = end.time - begin.time
    requests = iops * seconds
    if requests <= 0:
        return {}
    threads = {kind: (ns - begin.cpu.threads_ns.get(kind, 0)) / requests
               for kind, ns in end.cpu.threads_ns.items()}
    total = (end.cpu.total_ns - begin.cpu.total_ns) / requests
    vcpu = threads.get("vCPU")
    own_ns = end.cpu.total_ns - begin.cpu.total_ns
    costs = {"window_s": seconds, "cpu_ns_per_req": total,
             "cpu_threads_ns_per_req": {k: v for k, v in threads.items() if v > 0},
             "cpu_vcpu_ns_per_req": vcpu,
             "cpu_other_ns_per_req": total - (vcpu or 0),
             "host_others_cpus": max(0.0, (end.host_busy_ns - begin.host_busy_ns - own_ns)
                                     / seconds / 1e9),
             "host_steal_cpus": (end.host_steal_ns - begin.host_steal_ns) / seconds / 1e9}
    # Polling threads alive at the window's end, and their CPU time in it.
    costs.update(sqpoll_threads=sum(n for k, n in end.cpu.threads.items() if is_sqpoll(k)),
                 iothreads=sum(n for k, n in end.cpu.threads.items() if is_iothread(k)),
                 cpu_polling_ns_per_req=sum(v for k, v in threads.items()
                                            if is_sqpoll(k) or is_iothread(k)))
    if begin.exits is not None:
        delta = {name: end.exits[name] - begin.exits[name] for name in begin.exits}
        io_exits = delta["mmio"] + delta["pio"]
        costs.update(exits_per_req=io_exits / requests,
                     mmio_exits_per_req=delta["mmio"] / requests,
                     pio_exits_per_req=delta["pio"] / requests,
                     exits_in_window=io_exits, console_exits_in_window=delta["console"])
    return costs


def describe_vmm_status(status):
    if status < 0:
        return f"killed by signal {-status}"
    if status & 1:
        guest = status >> 1
        return f"gfio exit {guest} ({GFIO_STATUS.get(guest, 'unknown')})"
    return f"VMM exit status {status}"


def gfio_job(lines):
    """The job of gfio's JSON, or None."""
    try:
        first, last = lines.index(JSON_BEGIN), lines.index(JSON_END)
        job = json.loads("\n".join(lines[first + 1:last]))["jobs"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return job if isinstance(job, dict) else None


def _guest_report(lines):
    """The guest's console without gfio's JSON and measure markers."""
    kept, in_json = [], False
    for line in lines:
        if line in (JSON_BEGIN, JSON_END):
            in_json = line == JSON_BEGIN
        elif not in_json and line not in (MEASURE_BEGIN, MEASURE_END):
            kept.append(line)
    return kept


def failure_reason(lines, stderr):
    """The guest's last word before its results, else the VMM's.

    gfio says why it failed in one line, which its details follow (lines
    "gfio: stall: ...") and its summary line, after the JSON, closes.
    """
    before_json = lines[:lines.index(JSON_BEGIN)] if JSON_BEGIN in lines else lines
    said = [line for line in _guest_report(before_json)
            if line.startswith("gfio:") and not line.startswith(GFIO_DETAIL)]
    for source in (said, stderr, lines):
        if source:
            return source[-1]
    return "no output"


# --- runs -----------------------------------------------------------------

def run_vm(record, row, tools, images, rw, iodepth, plan, exits):
    """gfio in a VMM; the host is sampled when gfio prints its measure markers."""
    cmd = vm_command(row, tools, images, rw, iodepth, plan)
    record["command"] = cmd
    timeout = plan.ramp_s + plan.runtime_s + VM_GRACE_S
    lines, marks, status, armed = [], {}, None, None
    with (tempfile.TemporaryFile() as err,
          started(cmd, stdout=subprocess.PIPE, stderr=err) as proc):
        deadline = time.monotonic() + timeout
        try:
            for line in console_lines(proc, deadline):
                lines.append(line)
                if exits and len(lines) == 1:   # the guest runs: its vCPUs exist
                    armed = _arm(exits, proc.pid, record)
                if line in (MEASURE_BEGIN, MEASURE_END) and line not in marks:
                    marks[line] = take_sample(proc.pid, armed)
            status = proc.wait(timeout=max(deadline - time.monotonic(), 1))
        except (TimeoutError, subprocess.TimeoutExpired):
            record["error"] = (f"timed out after {timeout:.0f} s; last output: "
                               f"{failure_reason(lines, [])}")
        finally:
            if exits:
                exits.disarm()
        record["stderr"] = _stderr_lines(err)[-5:]
    record["status"] = status
    if status is not None:
        _vm_results(record, lines, marks, status)
    if not record["ok"]:
        record["console"] = _guest_report(lines)[-CONSOLE_KEPT:]


def _arm(exits, pid, record):
    """Point the exit counters at the VMM's vCPU threads; None if it has none."""
    tids = vcpu_threads(pid)
    if not tids:
        record["notes"].append("no vCPU thread found: exits not counted")
        return None
    exits.arm(tids)
    return exits


def _vm_results(record, lines, marks, status):
    job = gfio_job(lines)
    if job is None or status != 1 or job.get("error"):
        record["error"] = (f"{describe_vmm_status(status)}: "
                           f"{failure_reason(lines, record['stderr'])}")
        return
    if not take_io_results(record, job, describe_vmm_status(status)):
        return
    if MEASURE_BEGIN in marks and MEASURE_END in marks:
        record.update(window_costs(marks[MEASURE_BEGIN], marks[MEASURE_END], record["iops"]))
    else:
        record["notes"].append("gfio printed no measure markers: CPU time and exits "
                               "not measured")


def _has_io_uring(pid):
    fds = f"/proc/{pid}/fd"
    try:
        return any(os.readlink(f"{fds}/{fd}") == "anon_inode:[io_uring]"
                   for fd in os.listdir(fds))
    except OSError:
        return False


def run_fio(record, row, tools, image, rw, iodepth, plan, hipri, output):
    """Bare-metal fio.  Its job starts when its io_uring appears; the host is
    sampled from ramp_time after that to the end of runtime, a little inside
    both ends."""
    cmd = fio_command(row, tools, image, rw, iodepth, plan, hipri, output)
    record["command"] = cmd
    output.unlink(missing_ok=True)
    timeout = plan.ramp_s + plan.runtime_s + FIO_GRACE_S
    margin = min(0.25, plan.runtime_s / 10)
    begin = end = status = None
    with (tempfile.TemporaryFile() as err,
          started(cmd, stdout=subprocess.DEVNULL, stderr=err) as proc):
        deadline = time.monotonic() + timeout
        while (not _has_io_uring(proc.pid) and time.monotonic() < deadline
               and sleep_until(time.monotonic() + 0.005, proc)):
            pass
        start = time.monotonic()
        if sleep_until(start + plan.ramp_s + margin, proc):
            begin = take_sample(proc.pid)
        if begin and sleep_until(start + plan.ramp_s + plan.runtime_s - margin, proc):
            end = take_sample(proc.pid)
        try:
            status = proc.wait(timeout=max(deadline - time.monotonic(), 1))
        except subprocess.TimeoutExpired:
            record["error"] = f"timed out after {timeout:.0f} s"
        record["stderr"] = _stderr_lines(err)[-5:]
    record["status"] = status
    if status is not None:
        _fio_results(record, output, begin, end, status)


def _fio_results(record, output, begin, end, status):
    try:
        text = output.read_text()
        job = json.loads(text[text.index("{"):])["jobs"][0]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        job = None
    if not isinstance(job, dict) or status != 0 or job.get("error"):
        reason = record["stderr"][-1] if record["stderr"] else "no JSON output"
        record["error"] = f"fio exit status {status}: {reason}"
        return
    if not take_io_results(record, job, f"fio exit status {status}"):
        return
    if begin and end:
        record.update(window_costs(begin, end, record["iops"]))
    else:
        record["notes"].append("fio ended before its CPU time could be sampled")
