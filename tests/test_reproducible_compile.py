"""Same seed, same bits, whatever the compile caches hold (issue 22, item 2).

A posterior analysis of the essay spec (tests/_essay.py) runs twice in fresh processes
through the CLI: first with empty caches (``NUMBA_CACHE_DIR`` for the package's kernels,
PyTensor's ``base_compiledir`` for the calibration graph: everything compiled fresh),
then with the caches the first run wrote (everything loaded). ``/posterior`` and
``/decision`` must be identical bit for bit. Before the fix (PyTensor's numba code with
fast math) the two runs gave other posterior draws (docs/calibration.md,
"Reproducibility"). Slow: the first run compiles everything (a minute or two on an idle
2-core machine, ~15 min under a load of 10).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from _essay import write_essay_spec

pytestmark = pytest.mark.slow

ARGS = ["--draws", "200", "--seed", "5", "--mcmc-draws", "40", "--tune", "40", "--chains",
        "2", "--allow-unconverged", "--no-progress"]


def _run(spec: Path, out: Path, cache: Path) -> None:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache / "numba"),
           "PYTENSOR_FLAGS": f"base_compiledir={cache / 'pytensor'}"}
    cmd = [sys.executable, "-m", "kursk_da.cli", "analyze", str(spec), "--out", str(out),
           *ARGS]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]


def _files(path: Path) -> int:
    return sum(1 for p in path.rglob("*") if p.is_file())


def test_cold_and_warm_compile_caches_give_the_same_bits(tmp_path):
    (tmp_path / "spec").mkdir()
    spec = write_essay_spec(tmp_path / "spec")
    cache = tmp_path / "cache"
    cold, warm = tmp_path / "cold.nc", tmp_path / "warm.nc"
    _run(spec, cold, cache)
    n_numba, n_pytensor = _files(cache / "numba"), _files(cache / "pytensor")
    assert n_numba > 0 and n_pytensor > 0  # the first run filled both caches
    _run(spec, warm, cache)
    for group in ("posterior", "decision"):
        with xr.open_dataset(cold, group=group) as a, xr.open_dataset(warm, group=group) as b:
            assert set(a.data_vars) == set(b.data_vars), group
            for name in a.data_vars:
                np.testing.assert_array_equal(a[name].values, b[name].values,
                                              err_msg=f"/{group}/{name}")
