"""Two-way sensitivity: the best option over a grid of two inputs (re-runs, common random numbers).

For every point ``(x_a, y_b)`` of a grid over the 5%-95% intervals of two uncertain
inputs, the engine is re-run on the same base draws and front shocks (same seed, same
rows: common random numbers) with the two inputs set to the grid values and every other
input at its own draw. The result is the partial expected value ``E[V_j | x = x_a, y =
y_b]`` of each option with the other inputs at their unconditional draws (correlation
partners are not moved: a copula correlation of ``x`` or ``y`` with another input is
ignored here, which :attr:`attrs` ``partners`` names). Reported: the best option at each
point, and the EV difference of the two leaders (the two options of highest EV on the
base draws) with its paired MCSE; its zero contour is the threshold curve where the
leaders swap.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

from kursk_da._defaults import DEFAULT_PAIR
from kursk_da.decision._metrics import leader_and_runner_up
from kursk_da.dims import OPTION, VALUE_UNITS, X_VALUE, Y_VALUE
from kursk_da.engine import run_engine
from kursk_da.spec._schema import Spec, as_spec
from kursk_da.validation import check_int, check_seed, fail

__all__ = ["two_way", "DEFAULT_PAIR"]



def two_way(
    spec: Spec | str | Path,
    x: str = DEFAULT_PAIR[0],
    y: str = DEFAULT_PAIR[1],
    *,
    points: int = 9,
    draws: int = 1000,
    seed: int = 0,
    inputs: np.ndarray | None = None,
    x_values: Sequence[float] | None = None,
    y_values: Sequence[float] | None = None,
    n_jobs: int | None = None,
) -> xr.Dataset:
    """Best option and leader difference over a grid of two inputs (the ``/twoway`` group).

    Parameters
    ----------
    spec : Spec or path
    x, y : str
        Two distinct uncertain inputs (``spec.input_names``).
    points : int
        Grid points per input (over its 5%-95% interval), 2 to 25.
    draws : int
        Base draws (prior, ``seed``); ignored with ``inputs``.
    seed : int
    inputs : numpy.ndarray, optional
        Base input matrix (e.g. a posterior result set's ``/decision/inputs``).
    x_values, y_values : sequence of float, optional
        Explicit grids instead of the intervals.
    n_jobs : int, optional

    Returns
    -------
    xarray.Dataset
        ``expected_value`` (``x_value``, ``y_value``, ``option``), ``best_option_index``
        and ``best_option`` (``x_value``, ``y_value``), ``leader_difference`` and
        ``leader_difference_mcse`` (EV(first leader) - EV(second leader)); attributes
        ``x``, ``y``, ``leaders``, ``partners``.

    Raises
    ------
    ArgumentError
        Naming ``x``, ``y``, ``points``, ``draws`` or ``seed``.
    """
    spec = as_spec(spec)
    seed = check_seed(seed)
    names = spec.input_names
    for label, name in (("x", x), ("y", y)):
        if name not in names:
            fail(label, f"unknown input {name!r}; expected one of {', '.join(names)}")
        if spec.inputs[name].dist.is_fixed:
            fail(label, f"{name} is fixed in the spec; expected an uncertain input")
    if x == y:
        fail("y", "expected an input other than x")
    points = check_int(points, "points", minimum=2, maximum=25)
    draws = check_int(draws, "draws", minimum=10)
    grids = []
    for label, name, given in (("x", x, x_values), ("y", y, y_values)):
        if given is not None:
            g = np.asarray(given, dtype=float)
            if g.ndim != 1 or g.size < 2 or not np.all(np.isfinite(g)):
                fail(f"{label}_values", "expected at least two finite values")
        else:
            lo, hi = spec.inputs[name].dist.interval(0.9)
            g = np.linspace(lo, hi, points)
        grids.append(g)
    gx, gy = grids
    base = run_engine(spec, draws, seed, inputs=inputs, n_jobs=n_jobs)
    theta = base.inputs.copy()
    lead, second = leader_and_runner_up(base.values)
    ix, iy = names.index(x), names.index(y)
    n_opt = len(spec.options)
    ev = np.empty((gx.size, gy.size, n_opt))
    diff = np.empty((gx.size, gy.size))
    diff_se = np.empty((gx.size, gy.size))
    for a, xv in enumerate(gx):
        for b, yv in enumerate(gy):
            theta[:, ix], theta[:, iy] = xv, yv
            out = run_engine(spec, base.n_draws, seed, inputs=theta, n_jobs=n_jobs)
            ev[a, b] = out.values.mean(axis=0)
            d = out.values[:, lead] - out.values[:, second]
            diff[a, b] = d.mean()
            diff_se[a, b] = d.std(ddof=1) / np.sqrt(d.size)
    best = ev.argmax(axis=2)
    options = list(spec.option_names)
    partners = sorted({c.b if c.a in (x, y) else c.a for c in spec.correlations
                       if c.a in (x, y) or c.b in (x, y)} - {x, y})
    return xr.Dataset(
        {
            "expected_value": ((X_VALUE, Y_VALUE, OPTION), ev, {
                "long_name": "partial expected value with x and y set to the grid values",
                "units": VALUE_UNITS}),
            "best_option_index": ((X_VALUE, Y_VALUE), best.astype(np.int64), {
                "long_name": "position (in option) of the option of highest EV",
                "units": "1"}),
            "best_option": ((X_VALUE, Y_VALUE), np.array(options, dtype=object)[best], {
                "long_name": "option of highest EV", "units": "1"}),
            "leader_difference": ((X_VALUE, Y_VALUE), diff, {
                "long_name": f"EV({options[lead]}) - EV({options[second]}); 0 on the "
                             "threshold curve", "units": VALUE_UNITS}),
            "leader_difference_mcse": ((X_VALUE, Y_VALUE), diff_se, {
                "long_name": "MCSE of leader_difference (paired)", "units": VALUE_UNITS}),
        },
        coords={X_VALUE: (X_VALUE, gx, {"units": spec.inputs[x].units, "long_name": x}),
                Y_VALUE: (Y_VALUE, gy, {"units": spec.inputs[y].units, "long_name": y}),
                OPTION: options},
        attrs={"x": x, "y": y, "leaders": f"{options[lead]} vs {options[second]}",
               "draws": int(base.n_draws), "seed": seed,
               "partners": ",".join(partners) if partners else "none",
               "description": "re-runs of the engine on the same draws and shocks (common "
                              "random numbers) with x and y set to each grid point; other "
                              "inputs at their draws (correlation partners not moved)"},
    )
