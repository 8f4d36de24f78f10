#!/usr/bin/env python3
"""The pieces of scripts/bench/ that see a failed run's missing figures.

A failed run leaves None where a figure would be, and a failing tool can
print JSON that is not what the script expects or vanish while the host is
sampled; none of it may stop the benchmark or its report.
"""
import json
import os
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from bench import cli, commands, probes, report, runner  # noqa: E402
from bench.config import QUICK, ROW_BY_NAME  # noqa: E402

GFIO_JSON = [runner.JSON_BEGIN, '{"jobs": [{"error": 0}]}', runner.JSON_END]


def failed_record(row, rw, iodepth, rnd):
    record = runner.new_record(ROW_BY_NAME[row], rw, iodepth, rnd)
    record["error"] = "gfio exit 5 (requests stopped completing): gfio: stalled"
    return record


def metadata(plan):
    return {"date": "2026-01-01T00:00:00+00:00", "command": "scripts/bench.py --quick",
            "git_commit": "0123456789abcdef", "git_dirty": False, "kernel": "6.18",
            "cpu_model": "a CPU", "cpus": 2, "kvm_modules": ["kvm_amd"], "fio": "fio-3.33",
            "qemu": "QEMU 7.2", "image_size": 1 << 30, "bs": "4k", "ramp_s": plan.ramp_s,
            "runtime_s": plan.runtime_s, "rounds": plan.rounds,
            "hipri": {"used": False, "why": "no poll queues"}, "latency": "lat",
            "cpu_accounting": "utime+stime", "exit_counting": "tracefs"}


class ProgressLine(unittest.TestCase):
    def test_missing_latency_is_shown_as_such(self):
        record = runner.new_record(ROW_BY_NAME["vq"], "randread", 1, 1)
        record.update(ok=True, iops=12345.0)
        line = cli.progress(3, 8, record, 2.5)
        self.assertIn("12.3 kIOPS  lat p50    n/a p99     n/a µs", line)
        self.assertTrue(line.endswith("(2.5 s)"))

    def test_failed_run_gives_its_reason(self):
        record = failed_record("passthrough", "randwrite", 1, 2)
        self.assertEqual(cli.progress(1, 2, record, 30.25),
                         "[  1/2] round 2 randwrite QD 1  passthrough        FAILED (30.2 s): "
                         "gfio exit 5 (requests stopped completing): gfio: stalled")


class GuestResults(unittest.TestCase):
    def test_json_that_is_not_a_job_is_no_job(self):
        for text in ("[]", '{"jobs": 5}', '{"jobs": ["a"]}', '{"jobs": [{"error": 0'):
            with self.subTest(json=text):
                self.assertIsNone(runner.gfio_job([runner.JSON_BEGIN, text, runner.JSON_END]))

    def test_job_without_figures_fails_the_run(self):
        record = runner.new_record(ROW_BY_NAME["vq"], "randwrite", 1, 1)
        runner._vm_results(record, GFIO_JSON, {}, 1)
        self.assertFalse(record["ok"])
        self.assertEqual(record["error"], "gfio exit 0 (success): results missing from its "
                                          "JSON (KeyError('write'))")

    def test_failure_reason_is_the_line_before_the_details(self):
        lines = ["gfio: virtio-blk0: uring passthrough", runner.MEASURE_BEGIN,
                 "gfio: 1 requests made no progress for 30 s",
                 "gfio: stall: uring sq: head 1 tail 2", runner.MEASURE_END,
                 *GFIO_JSON, "gfio: rw=randwrite ... FAILED"]
        self.assertEqual(runner.failure_reason(lines, ["stderr line"]),
                         "gfio: 1 requests made no progress for 30 s")
        self.assertEqual(runner._guest_report(lines),
                         ["gfio: virtio-blk0: uring passthrough",
                          "gfio: 1 requests made no progress for 30 s",
                          "gfio: stall: uring sq: head 1 tail 2",
                          "gfio: rw=randwrite ... FAILED"])


class FioResults(unittest.TestCase):
    def test_json_that_is_not_a_job_fails_the_run(self):
        with tempfile.TemporaryDirectory() as tmp:
            output = Path(tmp) / "fio.json"
            for text in ('{"jobs": 5}', '{"jobs": [[]]}', '{"jobs": [{"error": 0}]}'):
                with self.subTest(json=text):
                    output.write_text(text)
                    record = runner.new_record(ROW_BY_NAME["host-fio"], "randread", 1, 1)
                    runner._fio_results(record, output, None, None, 0)
                    self.assertFalse(record["ok"])
                    self.assertTrue(record["error"].startswith("fio exit status 0: "),
                                    record["error"])


class HostSample(unittest.TestCase):
    def test_child_that_vanishes_while_sampled_is_left_out(self):
        """The VMM's helper process exits between its stat and its task list."""
        gone = 1 << 22          # above pid_max: no such process
        stat = Path("/proc/self/stat")
        real_read, real_iterdir = probes._read_stat, Path.iterdir

        def read_stat(path):
            return real_read(stat if str(path) == f"/proc/{gone}/stat" else path)

        def iterdir(path):
            if str(path) == f"/proc/{gone}/task":
                raise FileNotFoundError(2, "No such file or directory", str(path))
            return real_iterdir(path)

        with (mock.patch.object(probes, "_children", return_value=[gone]),
              mock.patch.object(probes, "_read_stat", side_effect=read_stat),
              mock.patch.object(Path, "iterdir", iterdir)):
            sample = probes.sample_cpu(os.getpid())
        self.assertFalse([kind for kind in sample.threads_ns if kind.startswith("child ")])
        self.assertIn(probes.thread_kind(Path("/proc/self/comm").read_text().strip()),
                      sample.threads_ns)

    def test_vcpu_threads_of_a_process_gone(self):
        self.assertEqual(probes.vcpu_threads(1 << 22), [])


class SeveralJobsAndDisks(unittest.TestCase):
    """The rows of two vCPUs with two jobs, and of two disks."""
    TOOLS = commands.Tools(vmm=Path("/vmm"), gfio=Path("/gfio.elf"), qemu="qemu", fio="fio")
    IMAGES = [Path("/a.img"), Path("/b.img")]

    def command(self, row):
        return commands.vm_command(ROW_BY_NAME[row], self.TOOLS, self.IMAGES, "randread", 8,
                                   QUICK)

    def test_two_disks_one_sqpoll_thread(self):
        cmd = self.command("passthrough-2disks-1sqpoll")
        line = " ".join(cmd)
        self.assertIn("-smp 2 ", line)
        self.assertIn("-object uring-sqpoll,id=sq0 ", line)
        self.assertIn("-drive file=/a.img,if=none,id=d0,format=raw,cache=none -device "
                      "virtio-blk-pci,drive=d0,uring-passthrough=on,uring-sqpoll=sq0 ", line)
        self.assertIn("-drive file=/b.img,if=none,id=d1,format=raw,cache=none -device "
                      "virtio-blk-pci,drive=d1,uring-passthrough=on,uring-sqpoll=sq0 ", line)
        self.assertTrue(cmd[-1].endswith(" numjobs=2 group_reporting=1 dev=0:1 uring=on"))

    def test_two_disks_a_thread_each(self):
        line = " ".join(self.command("passthrough-2disks-2sqpoll"))
        self.assertNotIn("sqpoll", line.replace("passthrough-2disks-2sqpoll", ""))
        self.assertIn("id=d1", line)

    def test_two_jobs_two_queues(self):
        for row, device in (("vq-iothread-2jobs", "virtio-blk-pci,drive=d0,iothread=io1,"
                                                  "num-queues=2"),
                            ("qemu-vq-iothread-2jobs", "virtio-blk-pci,drive=d0,"
                                                       "disable-legacy=on,iothread=io1,"
                                                       "num-queues=2"),
                            ("passthrough-2rings", "virtio-blk-pci,drive=d0,"
                                                   "uring-passthrough=on,num-queues=2")):
            with self.subTest(row=row):
                cmd = self.command(row)
                self.assertEqual(cmd[cmd.index("-smp") + 1], "2")
                self.assertEqual(cmd[cmd.index("-device", cmd.index("-drive")) + 1], device)
                self.assertNotIn("/b.img", " ".join(cmd))
                self.assertIn(" numjobs=2 group_reporting=1", cmd[-1])
                self.assertNotIn("dev=", cmd[-1])

    def test_polling_threads_counted(self):
        def sample(t, sqp_ns, io_ns):
            cpu = probes.CpuSample(
                total_ns=sqp_ns + io_ns + 10**6,
                threads_ns={"vCPU": 10**6, "child iou-sqp": sqp_ns, "IO io1": io_ns},
                threads={"vCPU": 2, "child iou-sqp": 1, "child uring-owner": 1,
                         "IO io1": 1})
            return probes.Sample(t, cpu, 0, 0, None)

        costs = runner.window_costs(sample(0.0, 0, 0), sample(1.0, 4000000, 1000000), 1000.0)
        self.assertEqual(costs["sqpoll_threads"], 1)
        self.assertEqual(costs["iothreads"], 1)
        self.assertEqual(costs["cpu_polling_ns_per_req"], 5000)

    def test_markdown_threads_per_disk(self):
        plan = QUICK.narrowed(rows=(ROW_BY_NAME["passthrough-2disks-1sqpoll"],),
                              iodepths=(8,))
        record = runner.new_record(ROW_BY_NAME["passthrough-2disks-1sqpoll"], "randread", 8, 1)
        record.update(ok=True, iops=20000.0, lat_p50_ns=1000, cpu_ns_per_req=3000.0,
                      cpu_vcpu_ns_per_req=1000.0, cpu_polling_ns_per_req=1500.0,
                      sqpoll_threads=1, iothreads=0)
        md = report.markdown(metadata(plan), [record], plan)
        self.assertIn("| passthrough-2disks-1sqpoll | 2 | 2 | 8 | 20.0 ±0% | 3.00 | 1.00 | 1.50 "
                      "| 1 | 0 | 0.5 | 1/1 |", md)


class ReportOfFailedRuns(unittest.TestCase):
    """Every run of a plan failed: every figure is None."""

    def setUp(self):
        self.plan = QUICK.narrowed(rounds=2)
        self.records = [failed_record(row.name, rw, qd, rnd)
                        for rnd, rw, qd, row in self.plan.runs()]
        self.meta = metadata(self.plan)

    def test_markdown(self):
        report.add_ratios(self.records)
        md = report.markdown(self.meta, self.records, self.plan)
        summary = md.split("## randread, kIOPS\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
        self.assertEqual(len(summary), 2 + len(self.plan.rows))
        for line in summary[2:]:
            self.assertRegex(line, r"^\| [a-z0-9-]+ \| failed \| failed \| n/a \| n/a \| .*"
                                   r"4/4 runs failed: gfio exit 5")
        self.assertIn("- passthrough within 5% of host-fio at every iodepth (ratio ≥ 0.95): "
                      "**not measured**", md)
        failed = md.split("## Failed runs\n\n", 1)[1].strip().splitlines()
        self.assertEqual(len(failed), len(self.records))

    def test_json_and_plot(self):
        with tempfile.TemporaryDirectory() as tmp:
            cli.write_reports(Path(tmp), self.meta, self.records, self.plan)
            data = json.loads((Path(tmp) / "results.json").read_text())
            self.assertEqual([r["ok"] for r in data["records"]], [False] * len(self.records))
            self.assertGreater((Path(tmp) / "iops.png").stat().st_size, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
