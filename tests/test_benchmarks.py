"""Every benchmark runs: each script of ``benchmarks/`` with ``--smoke`` in a subprocess.

Parametrized over ``benchmarks/*.py`` (helpers starting with ``_`` excepted), so a new
benchmark is picked up without a change here. A smoke run takes the whole code path of
the benchmark on tiny sizes (issue 27: benchmarks that nothing runs rot silently); its
figures are not measurements, so only the exit status and the figure lines are checked.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p for p in (ROOT / "benchmarks").glob("*.py") if not p.name.startswith("_"))
PREFIX = "figure |"
TIMEOUT = 900  # seconds: a cold numba cache or a loaded machine; a smoke run takes seconds


def test_every_benchmark_is_found():
    names = {p.name for p in SCRIPTS}
    assert {"bench_engine.py", "bench_analyze.py", "bench_start.py", "bench_dask.py"} <= names


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_benchmark_smoke_run(script, tmp_path):
    proc = subprocess.run([sys.executable, str(script), "--smoke"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    figures = [line for line in proc.stdout.splitlines() if line.startswith(PREFIX)]
    assert figures, f"{script.name} printed no figure line:\n{proc.stdout[-3000:]}"
    for line in figures:
        fields = [f.strip() for f in line[len(PREFIX):].split("|")]
        assert len(fields) == 4 and all(fields), line  # name | value | goal | verdict
        assert fields[3] == "-", f"a smoke run judges no goal: {line}"
    assert not list(tmp_path.iterdir()), "a benchmark left files in the working directory"
