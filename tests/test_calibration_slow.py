"""Heavy calibration checks (``make test-slow``) of the three-observation essay model
(tests/_essay.py): its gate, PyMC's NUTS, simulation-based calibration. The default spec's
gate (52 claims) is ``tests/test_evidence.py::test_evidence_spec_calibrates``."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pymc")

from _essay import write_essay_spec  # noqa: E402
from _mc import mcse_mean, sidak_z  # noqa: E402

from kursk_da.calibration import calibrate, diagnose, diagnostics_table  # noqa: E402
from kursk_da.calibration._sbc import run_sbc  # noqa: E402
from kursk_da.spec._schema import load_spec  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spec_2025(tmp_path_factory):
    """Overrides conftest's default spec: the 2025 spec with the essay's three observations."""
    return load_spec(write_essay_spec(tmp_path_factory.mktemp("essay")))


def test_essay_spec_passes_the_diagnostics_gate(spec_2025):
    idata = calibrate(spec_2025, seed=1, draws=1000, tune=1000)  # nutpie, 4 chains
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
    gap, bound = sampler_mean_gap(idata, ref)
    assert np.all(np.abs(gap) <= bound), np.abs(gap) / bound


def sampler_mean_gap(a, b):
    """Difference of the posterior means of ``theta`` of two independent runs and its
    tolerance (issue 22, item 1): the two means are independent MCMC estimates of the
    same posterior mean, so the standard error of their difference is
    ``sqrt(mcse_a^2 + mcse_b^2)`` (ArviZ's MCSE of the mean, ESS of each run's chains);
    :func:`_mc.sidak_z` over the ``k`` parameters. (It was ``0.35 sd``: no derivation.)"""
    ta = a.posterior["theta"].transpose("chain", "draw", "parameter").values
    tb = b.posterior["theta"].transpose("chain", "draw", "parameter").values
    gap = ta.mean(axis=(0, 1)) - tb.mean(axis=(0, 1))
    se = np.hypot(mcse_mean(ta), mcse_mean(tb))
    return gap, sidak_z(gap.size) * se


def test_simulation_based_calibration_ranks_are_uniform(spec_2025):
    res = run_sbc(spec_2025, 30, seed=7, draws=200, tune=200, chains=2)
    print(res.table.to_string())
    assert res.passed, res.table[~res.table["uniform"]]
