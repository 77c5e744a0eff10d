"""What every benchmark shares: the ``--smoke`` flag and the figure lines of ``make bench``.

Each benchmark prints its headline figures as lines::

    figure | <name> | <value> | <goal> | <verdict>

(verdict ``pass``, ``FAIL`` or ``-`` when the figure has no goal or the run was a smoke
run), which ``tools/bench_table.py`` (``make bench``) gathers into one table; the rest
of a benchmark's output is for people. With ``--smoke`` a benchmark runs its whole code
path on sizes that take seconds, so that the test suite (``tests/test_benchmarks.py``)
notices when a benchmark no longer runs; its figures are then not measurements, so every
verdict is ``-`` and the exit status does not depend on the goals.
"""

from __future__ import annotations

import argparse
import os
import sys

PREFIX = "figure |"


def add_smoke(parser: argparse.ArgumentParser) -> None:
    """Add ``--smoke`` (a few seconds on tiny sizes; verdicts are not judged)."""
    parser.add_argument("--smoke", action="store_true",
                        help="run every step on tiny sizes (seconds; for the test suite); "
                             "the figures are then not measurements")


def figure(name: str, value: str, goal: str = "", passed: bool | None = None, *,
           smoke: bool = False) -> None:
    """Print one figure line (see the module docstring)."""
    verdict = "-" if smoke or passed is None else ("pass" if passed else "FAIL")
    print(f"{PREFIX} {name} | {value} | {goal or '-'} | {verdict}", flush=True)


def machine_line() -> str:
    """CPU count and the load averages (1, 5, 15 min), to print before the figures."""
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {load}")
