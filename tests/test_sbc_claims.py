"""Simulation-based calibration of the claim model (issue 11 item 7): the simulated
censoring events and the swap of the censoring data without a recompile."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kursk_da.calibration._bias import ClaimModel, simulated_censoring

EVIDENCE = Path(__file__).resolve().parents[1] / "models" / "kursk_2025_evidence.toml"


def _cm(censoring: list[int], low: list[float], high: list[float]) -> ClaimModel:
    m = len(censoring)
    return ClaimModel(combos=(("osint_maps", "control"),), combo_index=np.zeros(m, np.int64),
                      kinds=("control",), kind_index=np.zeros(1, np.int64),
                      grey=np.zeros(m), isw=np.zeros(m), censoring=np.array(censoring),
                      low=np.array(low, float), high=np.array(high, float))


def _holds(c: int, lo: float, hi: float, y: float) -> bool:
    return {0: True, 1: y >= lo, 2: y <= hi, 3: lo <= y <= hi}[c]


def test_simulated_censoring_by_hand():
    cm = _cm([0, 1, 1, 2, 2, 3, 3, 3], [5, 10, 10, 7, 7, 10, 10, 10],
             [5, 10, 10, 20, 20, 20, 20, 20])
    y = np.array([3.0, 12.0, 8.0, 15.0, 25.0, 15.0, 5.0, 30.0])
    c, lo, hi = simulated_censoring(y, cm)
    assert c.tolist() == [0, 1, 2, 2, 1, 3, 2, 1]
    assert lo.tolist() == [5, 10, 10, 7, 20, 10, 10, 20]
    assert hi.tolist() == [5, 10, 10, 20, 20, 20, 10, 20]
    assert cm.censoring.tolist() == [0, 1, 1, 2, 2, 3, 3, 3]  # not modified in place


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.floats(1, 1e4), st.floats(0, 1e4),
                          st.floats(0.0, 3e4)), min_size=1, max_size=20))
def test_the_simulated_event_holds_for_the_simulated_claim(rows):
    cens = [c for c, _, _, _ in rows]
    low = [lo for _, lo, _, _ in rows]
    high = [lo + w if c in (2, 3) else lo for c, lo, w, _ in rows]
    y = np.array([v for *_, v in rows])
    c, lo, hi = simulated_censoring(y, _cm(cens, low, high))
    for k in range(len(rows)):
        assert _holds(int(c[k]), lo[k], hi[k], y[k])
        # a bound row stays a bound row at one of its own bounds
        assert (c[k] == 0) == (cens[k] == 0)
        assert {lo[k], hi[k]} <= {low[k], high[k]}


@pytest.mark.slow
def test_sbc_of_the_claim_model_runs_and_ranks_the_biases():
    from kursk_da.calibration._sbc import run_sbc
    from kursk_da.spec._schema import load_spec

    spec = load_spec(EVIDENCE)
    res = run_sbc(spec, 2, seed=3, draws=50, tune=50, chains=2, thin_to=99)
    assert any(c.startswith("bias[") for c in res.ranks.columns)
    assert "bias_spread" in res.ranks.columns
    assert ((res.ranks >= 0) & (res.ranks <= 99)).all().all()
