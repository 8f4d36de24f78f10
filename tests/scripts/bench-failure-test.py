#!/usr/bin/env python3
"""scripts/bench.py records failed runs with their reason and reports the rest.

The tools are replaced by bench_fake_tool.py (fio, our VMM, stock QEMU), so
that chosen runs fail in chosen ways and the whole benchmark takes seconds:
every row runs twice (two rounds), and five of the sixteen runs fail.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH = HERE.parents[1] / "scripts/bench.py"
FAKE = HERE / "bench_fake_tool.py"

# Row -> what its runs do, round by round (see bench_fake_tool.py).
PLAN = {
    "host-fio": ["ok"],
    "host-fio-nosqpoll": ["empty", "error"],
    "vq": ["ok"],
    "vq-iothread": ["empty", "ok"],
    "vq-null": ["ok"],
    "passthrough": ["stall", "ok"],
    "qemu-vq": ["crash", "ok"],
    "qemu-vq-iothread": ["ok"],
}
NO_COMPLETION = "no request completed in the measured window"
# (row, round) -> the reason the record and results.md must give.
FAILURES = {
    ("host-fio-nosqpoll", 1): f"fio exit status 0: {NO_COMPLETION}",
    ("host-fio-nosqpoll", 2): "fio exit status 1: fio: pretend the disk went away",
    ("vq-iothread", 1): f"gfio exit 0 (success): {NO_COMPLETION}",
    ("passthrough", 1): "gfio exit 5 (requests stopped completing): "
                        "gfio: 1 requests made no progress for 30 s",
    ("qemu-vq", 1): "killed by signal 11: gfio: virtio-blk0: fake engine",
}


def install_fake(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(FAKE, path)
    path.chmod(0o755)


class BenchFailedRuns(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="bench-failure-test-")
        top = Path(cls.tmp.name)
        build, path_dir, cls.output = top / "build", top / "bin", top / "out"
        install_fake(build / "qemu-system-x86_64")
        (build / "tests/guest").mkdir(parents=True)
        (build / "tests/guest/gfio.elf").write_bytes(b"")
        install_fake(path_dir / "qemu-system-x86_64")
        install_fake(path_dir / "fio")
        image = top / "disk.img"
        image.write_bytes(bytes(4096))
        (top / "counts").mkdir()
        env = dict(os.environ, PATH=f"{path_dir}:{os.environ['PATH']}",
                   BENCH_FAKE_PLAN=json.dumps(PLAN), BENCH_FAKE_DIR=str(top / "counts"))
        cls.bench = subprocess.run(
            [sys.executable, str(BENCH), "--rows", ",".join(PLAN), "--rw", "randwrite",
             "--iodepth", "1", "--rounds", "2", "--runtime", "0.1", "--ramp-time", "0",
             "--image", str(image), "--output", str(cls.output), "--build", str(build)],
            env=env, capture_output=True, text=True, timeout=300, check=False)
        print(cls.bench.stdout, cls.bench.stderr, sep="\n", file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def records(self):
        data = json.loads((self.output / "results.json").read_text())
        return {(r["row"], r["round"]): r for r in data["records"]}

    def test_exits_normally(self):
        self.assertEqual(self.bench.returncode, 0, self.bench.stderr)
        self.assertNotIn("Traceback", self.bench.stderr)

    def test_progress_line_for_every_run(self):
        lines = [line for line in self.bench.stdout.splitlines() if line.startswith("[")]
        self.assertEqual(len(lines), 2 * len(PLAN))
        failed = [line for line in lines if " FAILED " in line]
        self.assertEqual(len(failed), len(FAILURES))
        for (row, rnd), reason in FAILURES.items():
            self.assertTrue(any(f"round {rnd} " in line and f" {row} " in line
                                and line.endswith(reason) for line in failed),
                            f"no progress line for {row} round {rnd}")

    def test_json_records_failures_with_reason(self):
        records = self.records()
        self.assertEqual(len(records), 2 * len(PLAN))
        for key, record in records.items():
            with self.subTest(run=key):
                if key in FAILURES:
                    self.assertFalse(record["ok"])
                    self.assertEqual(record["error"], FAILURES[key])
                    self.assertIsNone(record["iops"])
                    self.assertIsNone(record["lat_p50_ns"])
                else:
                    self.assertTrue(record["ok"], record["error"])
                    self.assertIsNone(record["error"])
                    self.assertEqual(record["iops"], 10000.0)
                    self.assertEqual(record["lat_p50_ns"], 44000)
                    self.assertEqual(record["iops_ratio_to_baseline"], 1.0)

    def test_vq_null_runs_on_null_co(self):
        """vq-null: the vq row's device on a null-co drive, no image."""
        command = self.records()[("vq-null", 1)]["command"]
        self.assertIn("file=null-co://,if=none,id=d0,format=raw,"
                      "file.read-zeroes=on", command)
        self.assertIn("virtio-blk-pci,drive=d0", command)
        self.assertFalse(any("disk.img" in arg for arg in command), command)

    def test_json_keeps_the_guest_report_of_a_failed_run(self):
        console = self.records()[("passthrough", 1)]["console"]
        self.assertIn("gfio: 1 requests made no progress for 30 s", console)
        self.assertIn("gfio: stall: uring sq: head 11853 tail 11853 dropped 0 flags 0x0",
                      console)
        self.assertNotIn("gfio: measure begin", console)
        self.assertEqual(self.records()[("passthrough", 2)]["console"], [])

    def test_markdown_lists_failed_runs_and_reports_the_others(self):
        md = (self.output / "results.md").read_text()
        failed = md.split("## Failed runs\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
        self.assertEqual(sorted(failed), sorted(
            f"- {row} randwrite QD 1 round {rnd}: {reason}"
            for (row, rnd), reason in FAILURES.items()))
        summary = md.split("## randwrite, kIOPS\n\n", 1)[1].split("\n\n", 1)[0]
        rows = {line.split(" | ")[0][2:]: line for line in summary.splitlines()[2:]}
        self.assertEqual(set(rows), set(PLAN))
        for row in PLAN:
            with self.subTest(row=row):
                if row == "host-fio-nosqpoll":      # both rounds failed
                    self.assertTrue(rows[row].startswith(f"| {row} | failed | n/a |"))
                    self.assertIn("2/2 runs failed", rows[row])
                else:
                    self.assertTrue(rows[row].startswith(f"| {row} | 10.0 ±0% | 1.00 |"),
                                    rows[row])
        self.assertIn("1/2 runs failed: " + FAILURES[("passthrough", 1)], rows["passthrough"])

    def test_plot_written(self):
        self.assertTrue((self.output / "iops.png").stat().st_size > 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
