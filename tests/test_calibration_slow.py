"""Heavy calibration checks (``make test-slow``): the default spec's gate, PyMC's NUTS,
simulation-based calibration."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pymc")

from kursk_da.calibration import calibrate, diagnose, diagnostics_table  # noqa: E402
from kursk_da.calibration._sbc import run_sbc  # noqa: E402

pytestmark = pytest.mark.slow


def test_default_spec_passes_the_diagnostics_gate(spec_2025):
    idata = calibrate(spec_2025, seed=1)  # the defaults: nutpie, 4 chains x 1000 draws
    diag = diagnose(idata)
    print(diagnostics_table(diag))
    print(f"compile {idata.attrs['compile_seconds']:.1f} s, "
          f"sampling {idata.attrs['sampling_seconds']:.1f} s")
    assert diag.passed, diag.failing
    assert diag.divergences == 0
    assert diag.table["r_hat"].max() <= 1.01 and diag.table["ess_bulk"].min() >= 400


def test_pymc_nuts_gives_the_same_posterior(spec_2025):
    idata = calibrate(spec_2025, seed=2, draws=300, tune=300, chains=2, sampler="pymc")
    assert idata.attrs["sampler"] == "pymc"
    assert {"diverging", "energy", "tree_depth", "reached_max_treedepth"} <= set(
        idata.sample_stats.data_vars)
    ref = calibrate(spec_2025, seed=2, draws=300, tune=300, chains=2)
    a = idata.posterior["theta"].mean(("chain", "draw")).values
    b = ref.posterior["theta"].mean(("chain", "draw")).values
    sd = ref.posterior["theta"].std(("chain", "draw")).values
    assert np.all(np.abs(a - b) < 0.35 * sd)


def test_simulation_based_calibration_ranks_are_uniform(spec_2025):
    res = run_sbc(spec_2025, 30, seed=7, draws=200, tune=200, chains=2)
    print(res.table.to_string())
    assert res.passed, res.table[~res.table["uniform"]]
