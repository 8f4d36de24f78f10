#!/usr/bin/env python3
"""Benchmark bare-metal fio, our VMM and stock QEMU: ``make bench``.

``scripts/bench.py --help`` lists the options; docs/benchmarks.rst explains
the measurement and shows the latest full run.
"""
import os
import sys

# The plot needs matplotlib from Debian's python3-matplotlib, which only
# Debian's interpreter sees: `python3` may be another one (pyenv, venv).
DEBIAN_PYTHON = "/usr/bin/python3"
if (os.path.exists(DEBIAN_PYTHON)
        and os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON)):
    os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)

from bench.cli import main  # noqa: E402  (after the interpreter is settled)

if __name__ == "__main__":
    sys.exit(main())
