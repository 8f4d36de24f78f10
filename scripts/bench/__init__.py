"""The benchmark behind ``make bench``: see docs/benchmarks.rst."""
