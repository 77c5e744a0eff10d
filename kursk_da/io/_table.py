"""The options table of a result set: one data frame, rendered as text or in the report.

:func:`options_frame` computes the table (one row per option, units in the column
headers); :func:`options_table` renders it as the fixed-width text that ``kursk-da
analyze`` and ``kursk-da summary`` print, and :mod:`kursk_da.report` renders the same
frame in HTML and Markdown.
"""

from __future__ import annotations

import pandas as pd
import xarray as xr

from kursk_da.dims import OPTION, VALUE_UNITS

__all__ = ["options_frame", "options_table"]

DEFAULT_CVAR_ALPHA = 0.05
"""CVaR tail probability assumed when a result set does not record ``cvar_alpha``."""


def _alpha(tree: xr.DataTree) -> float:
    dec = tree["decision"].dataset
    return float(tree.attrs.get("cvar_alpha", dec.attrs.get("cvar_alpha", DEFAULT_CVAR_ALPHA)))


def _units(tree: xr.DataTree) -> str:
    return str(tree.attrs.get("value_units", VALUE_UNITS))


def options_frame(tree: xr.DataTree) -> pd.DataFrame:
    """The decision summary of a result set as a data frame.

    Parameters
    ----------
    tree : xarray.DataTree
        A result set.

    Returns
    -------
    pandas.DataFrame
        One row per option (index ``option``), best expected value first; columns, in
        this order, ``expected value (U)``, ``MCSE (U)`` (Monte Carlo standard error of
        the expected value), ``P(best)`` (probability, 1), ``expected regret (U)`` and
        ``CVaR a% (U)``, where ``U`` is the result set's value units (dkm2) and ``a``
        the CVaR tail probability. Values are not rounded.
    """
    dec = tree["decision"].dataset
    units = _units(tree)
    frame = pd.DataFrame({
        f"expected value ({units})": dec["expected_value"].to_series(),
        f"MCSE ({units})": dec["expected_value_mcse"].to_series(),
        "P(best)": dec["prob_best"].to_series(),
        f"expected regret ({units})": dec["expected_regret"].to_series(),
        f"CVaR {_alpha(tree):.0%} ({units})": dec["cvar"].to_series(),
    })
    frame.index.name = OPTION
    order = dec["expected_value"].to_series().sort_values(ascending=False).index
    return frame.loc[order]


def options_table(tree: xr.DataTree) -> str:
    """Format the decision summary of a result set as a fixed-width table.

    Parameters
    ----------
    tree : xarray.DataTree
        A result set.

    Returns
    -------
    str
        The rows of :func:`options_frame` (expected value +- MCSE, probability best,
        expected regret, CVaR), sorted by expected value, under a line naming the run
        and followed by the EVPI line. Values in dkm2.
    """
    dec = tree["decision"].dataset
    units = _units(tree)
    frame = options_frame(tree)
    name_w = max(6, *(len(str(o)) for o in frame.index))
    head = (f"{'option':<{name_w}}  {'expected value':>22}  {'P(best)':>7}  "
            f"{'regret':>9}  {f'CVaR {_alpha(tree):.0%}':>10}")
    lines = [
        f"{tree.attrs.get('spec_name', '')}: {tree.attrs.get('analysis', 'prior')} analysis, "
        f"{tree.attrs.get('draws')} draws, seed {tree.attrs.get('seed')}; values in {units} "
        "(Donbas-equivalent km2, higher is better)",
        head,
        "-" * len(head),
    ]
    for o, (mean, mcse, p_best, regret, cvar) in zip(
            frame.index, frame.itertuples(index=False, name=None), strict=True):
        ev = f"{float(mean):,.1f} ± {float(mcse):,.1f}"
        lines.append(f"{o!s:<{name_w}}  {ev:>22}  {float(p_best):>7.3f}  "
                     f"{float(regret):>9,.1f}  {float(cvar):>10,.1f}")
    lines.append(f"EVPI: {float(dec['evpi']):,.1f} ± {float(dec['evpi_mcse']):,.1f} {units}")
    if tree.attrs.get("converged") == "no":
        lines.append("WARNING: the calibration did not converge; these decisions are flagged.")
    return "\n".join(lines)
