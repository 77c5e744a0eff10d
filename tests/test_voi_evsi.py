"""EVSI of a noisy measurement: bounded by EVPPI, -> EVPPI as the error -> 0, -> 0 as it grows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kursk_da.engine._run import run_engine
from kursk_da.errors import VOIInputError
from kursk_da.stats import evppi, evsi_lognormal

MEASURED = "weight_ru_casualties"


@pytest.fixture(scope="module")
def draws(spec_2025):
    out = run_engine(spec_2025, 12_000, 17)
    return out.values, pd.DataFrame(out.inputs, columns=spec_2025.input_names)


def test_evsi_limits(draws):
    values, inputs = draws
    full = evppi(values, inputs, MEASURED, rng=0, n_se_draws=200)
    exact = evsi_lognormal(values, inputs, MEASURED, error=1e-3, rng=1)
    noisy = evsi_lognormal(values, inputs, MEASURED, error=0.2, rng=1)
    noisier = evsi_lognormal(values, inputs, MEASURED, error=0.5, rng=1)
    useless = evsi_lognormal(values, inputs, MEASURED, error=3.0, rng=1)
    assert full.value > 10.0
    assert exact.value == pytest.approx(full.value, abs=3 * np.hypot(full.se, exact.se))
    assert 0.0 <= noisy.value <= full.value + 2 * full.se
    assert noisier.value < noisy.value < exact.value
    assert abs(useless.value) < 0.1 * full.value
    # more observations behave like a smaller error
    four = evsi_lognormal(values, inputs, MEASURED, error=0.4, n_obs=4, rng=1)
    assert four.value == pytest.approx(noisy.value, abs=3 * np.hypot(four.se, noisy.se))


def test_evsi_bad_arguments(draws):
    values, inputs = draws
    with pytest.raises(VOIInputError, match="error"):
        evsi_lognormal(values, inputs, MEASURED, error=-1.0)
    with pytest.raises(VOIInputError, match="n_obs"):
        evsi_lognormal(values, inputs, MEASURED, n_obs=0)
    with pytest.raises(VOIInputError, match="positive"):
        evsi_lognormal(values, inputs, "weight_ua_casualties")
