"""One-call analysis: spec -> engine -> decision summary -> result set."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import xarray as xr

from kursk_da.decision.summary import decision_summary
from kursk_da.engine.run import DEFAULT_CHUNK_SIZE, run_engine
from kursk_da.errors import SpecError
from kursk_da.io.resultset import build_result_set
from kursk_da.spec.schema import Spec, load_spec

__all__ = ["analyze"]


def _check_count(value: int, name: str, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise SpecError(name, f"expected a whole number >= {lo}, got {value!r}")
    return value


def analyze(
    spec: Spec | str | Path,
    draws: int = 20_000,
    seed: int = 0,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    n_jobs: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> xr.DataTree:
    """Run the prior Monte Carlo decision analysis of a spec.

    Parameters
    ----------
    spec : Spec or path
        A spec object or a TOML file.
    draws : int
        Monte Carlo draws (each evaluated under every option).
    seed : int
        Root seed; the same seed gives identical results.
    chunk_size : int
        Draws per independent chunk (part of the reproducibility contract).
    n_jobs : int, optional
        Threads; default all CPUs. Does not change the results.
    progress : callable, optional
        Called with the number of draws of each finished chunk.

    Returns
    -------
    xarray.DataTree
        The result set (schema in :mod:`kursk_da.io.resultset`).

    Examples
    --------
    >>> import kursk_da as kd
    >>> spec = kd.load_spec("models/kursk_2025.toml")
    >>> tree = kd.analyze(spec, draws=2000, seed=1)           # doctest: +SKIP
    >>> tree["decision"]["expected_value"].to_series()       # doctest: +SKIP
    """
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    _check_count(draws, "draws", 1)
    _check_count(seed, "seed", 0)
    _check_count(chunk_size, "chunk_size", 1)
    out = run_engine(spec, draws, seed, chunk_size=chunk_size, n_jobs=n_jobs, progress=progress)
    summary = decision_summary(out.values, spec.option_names, spec.cvar_alpha)
    return build_result_set(spec, out, summary, analysis="prior")
