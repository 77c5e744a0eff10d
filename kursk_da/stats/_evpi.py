"""Expected value of perfect information (EVPI) and the common result type.

``EVPI = E[max_j v_ij] - max_j E[v_ij]`` is the expected gain from resolving
*all* uncertainty before choosing among the options.

* :func:`evpi_core`, :func:`evpi_se_core` -- NumPy core on a validated ``(n_draws,
  n_options)`` array (also used by :mod:`kursk_da.decision`);
* :func:`evpi` -- the labelled wrapper returning a :class:`VOIResult`.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kursk_da.stats._inputs import coerce_values

__all__ = ["VOIResult", "evpi", "evpi_core", "evpi_se_core"]


def evpi_core(values: np.ndarray) -> float:
    """Expected value of perfect information, ``E[max_k v] - max_k E[v]`` (>= 0).

    Parameters
    ----------
    values : numpy.ndarray, shape (n_draws, n_options)
        Finite values (higher is better, any unit) of each option under each draw.

    Returns
    -------
    float
        The EVPI, in the units of ``values``.
    """
    return float(values.max(axis=1).mean() - values.mean(axis=0).max())


def evpi_se_core(values: np.ndarray) -> float:
    """Monte Carlo standard error of :func:`evpi_core` (independent draws).

    Parameters
    ----------
    values : numpy.ndarray, shape (n_draws, n_options)
        As for :func:`evpi_core`.

    Returns
    -------
    float
        ``sd(max_k v_k - v_j*) / sqrt(n)`` in the units of ``values``, where ``j*`` is
        the option of highest mean; NaN for fewer than two draws.
    """
    n = values.shape[0]
    if n < 2:
        return float("nan")
    jstar = int(np.argmax(values.mean(axis=0)))
    loss = values.max(axis=1) - values[:, jstar]
    return float(loss.std(ddof=1) / np.sqrt(n))


@dataclass(frozen=True, repr=False)
class VOIResult:
    """A value-of-information estimate with its standard error.

    Attributes
    ----------
    value : float
        The estimate, in the units of the ``values`` it was computed from
        (for kursk_da models :data:`kursk_da.dims.VALUE_UNITS`).  ``float(result)``
        returns it.
    se : float
        Standard error of ``value``; what it covers depends on ``method`` and is
        stated in ``diagnostics["se_covers"]``.
    method : str
        ``"monte-carlo"`` (EVPI), ``"gam"`` or ``"gp"`` (regression EVPPI) or
        ``"nested-mc"`` (two-level Monte Carlo EVPPI).
    parameters : tuple of str
        Parameters whose perfect information is valued; empty for EVPI (all
        uncertainty resolved).
    n_draws : int
        Number of Monte Carlo draws used (outer draws for ``"nested-mc"``).
    options : tuple of str
        Labels of the options compared.
    diagnostics : Mapping
        Read-only method-specific details (smoothing parameters, basis size,
        Monte Carlo error given the fit, ...).
    """

    value: float
    se: float
    method: str
    parameters: tuple[str, ...]
    n_draws: int
    options: tuple[str, ...] = ()
    diagnostics: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", float(self.value))
        object.__setattr__(self, "se", float(self.se))
        object.__setattr__(self, "parameters", tuple(self.parameters))
        object.__setattr__(self, "options", tuple(self.options))
        object.__setattr__(self, "diagnostics", types.MappingProxyType(dict(self.diagnostics)))

    def __float__(self) -> float:
        return self.value

    def __repr__(self) -> str:
        pars = ", ".join(self.parameters) if self.parameters else "all"
        return (
            f"VOIResult(method={self.method!r}, value={self.value:.6g}, se={self.se:.3g}, "
            f"parameters=[{pars}], n_draws={self.n_draws})"
        )


def evpi(values: Any) -> VOIResult:
    """Expected value of perfect information.

    Parameters
    ----------
    values : numpy.ndarray, pandas.DataFrame or xarray.DataArray
        Value (higher is better, any unit) of each option under each Monte Carlo
        draw, shape ``(n_draws, n_options)``: a 2-D array, a DataFrame with one
        column per option, or a DataArray with dims ``DRAW`` and ``OPTION`` in
        any order.  Draws must be independent samples of the uncertainty.

    Returns
    -------
    VOIResult
        ``value = E[max_j v_j] - max_j E[v_j]`` (same units as ``values``, >= 0),
        ``se`` = Monte Carlo standard error ``sd(max_j v_j - v_j*) / sqrt(n)``
        where ``j*`` is the option of highest expected value (it ignores the
        uncertainty in choosing ``j*``), ``method="monte-carlo"``, empty
        ``parameters``.

    Raises
    ------
    VOIInputError
        ``values`` is not 2-D, holds NaN/inf, or has fewer than two options.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> v = np.column_stack([np.zeros(1000), rng.normal(0.0, 1.0, 1000)])
    >>> round(float(evpi(v)), 1)
    0.4
    """
    vals = coerce_values(values, name="values")
    data = vals.data
    return VOIResult(
        value=evpi_core(data),
        se=evpi_se_core(data),
        method="monte-carlo",
        parameters=(),
        n_draws=data.shape[0],
        options=vals.labels,
        diagnostics={
            "se_covers": "Monte Carlo sampling error of the draws, given the "
            "option of highest expected value"
        },
    )
