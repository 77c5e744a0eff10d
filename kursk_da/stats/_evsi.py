"""Expected value of sample information (EVSI) of an intelligence collection.

The collection is a noisy measurement of one input ``x`` (for example Russian
reinforcement ceiling or the attrition inflicted by strikes): ``n_obs``
independent measurements with multiplicative lognormal error of relative size
``error`` (the sd of the log), averaged on the log scale, i.e. one datum
``D = log x + (error / sqrt(n_obs)) eps`` with ``eps ~ N(0, 1)``.  For every
Monte Carlo draw a datum is simulated, and EVSI is estimated by the regression
method (Strong et al. 2015, *Med Decis Making* 35:570-583): regress each
option's incremental value on the simulated datum (the P-spline GAM of
:func:`kursk_da.stats._gam_fast.evppi_gam_fast`), then
``EVSI = mean max_j g_j(D) - max_j mean g_j(D)``.

``0 <= EVSI <= EVPPI(x)``; EVSI tends to EVPPI(x) as ``error -> 0`` and to 0 as
the error grows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kursk_da.errors import VOIInputError
from kursk_da.stats._evpi import VOIResult
from kursk_da.stats._gam_fast import evppi_gam_fast
from kursk_da.stats._inputs import check_rng, coerce_inputs, coerce_values, select_parameters
from kursk_da.validation import check_int

__all__ = ["evsi_lognormal", "simulate_lognormal_datum"]


def simulate_lognormal_datum(x: np.ndarray, error: float, n_obs: int,
                             rng: np.random.Generator) -> np.ndarray:
    """Simulated log-scale datum ``log x + error / sqrt(n_obs) * eps`` for each draw."""
    if np.any(x <= 0):
        raise VOIInputError("parameter: a lognormal measurement needs a positive input; "
                            "found values <= 0")
    datum: np.ndarray = np.log(x) + (error / np.sqrt(n_obs)) * rng.standard_normal(x.shape[0])
    return datum


def evsi_lognormal(values: Any, inputs: Any, parameter: str, *, error: float = 0.2,
                   n_obs: int = 1, rng: Any = None, n_se_draws: int = 200) -> VOIResult:
    """EVSI of ``n_obs`` measurements of one input with multiplicative lognormal error.

    Parameters
    ----------
    values : numpy.ndarray, pandas.DataFrame or xarray.DataArray
        Value of each option under each draw (draws x options, e.g. dkm2).
    inputs : numpy.ndarray, pandas.DataFrame or xarray.Dataset
        The same draws' inputs (draws x parameters).
    parameter : str
        The measured input (must be positive).
    error : float
        Relative measurement error of one observation: sd of its log (0.2 = 20 %).
    n_obs : int
        Independent observations averaged (log scale).
    rng : numpy.random.Generator, int or None
        For the simulated data and the standard error.
    n_se_draws : int
        Posterior samples of the regression for ``se``.

    Returns
    -------
    VOIResult
        ``method="gam-evsi"``, in the units of ``values``; ``diagnostics`` holds
        ``error`` and ``n_obs``.

    Raises
    ------
    VOIInputError
        Bad shapes, a non-positive input, ``error < 0`` or ``n_obs < 1``.
    """
    vals = coerce_values(values, name="values")
    inp = coerce_inputs(inputs, vals.data.shape[0], name="inputs")
    pos, labels = select_parameters([parameter], inp, name="parameter")
    if isinstance(error, bool) or not isinstance(error, float | int) or error < 0:
        raise VOIInputError(f"error: expected a relative error >= 0 (sd of the log), "
                            f"got {error!r}")
    n_obs = check_int(n_obs, "n_obs", minimum=1, error=VOIInputError)
    generator = check_rng(rng)
    x = inp.data[:, pos[0]]
    datum = simulate_lognormal_datum(x, float(error), n_obs, generator)
    res = evppi_gam_fast(vals.data, datum, rng=generator, n_se_draws=n_se_draws,
                         labels=(f"measured {labels[0]}",))
    diag = dict(res.diagnostics)
    diag.update({"error": float(error), "n_obs": n_obs, "measured": labels[0],
                 "datum": "log x + error / sqrt(n_obs) * N(0, 1)"})
    return VOIResult(value=res.value, se=res.se, method="gam-evsi", parameters=labels,
                     n_draws=res.n_draws, options=vals.labels, diagnostics=diag)
