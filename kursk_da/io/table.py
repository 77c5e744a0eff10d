"""Plain-text table of the options, shared by ``analyze`` and ``summary``."""

from __future__ import annotations

import xarray as xr

__all__ = ["options_table"]


def options_table(tree: xr.DataTree) -> str:
    """Format the decision summary of a result set as a fixed-width table.

    Parameters
    ----------
    tree : xarray.DataTree
        A result set.

    Returns
    -------
    str
        One row per option (expected value +- MCSE, probability best, expected regret,
        CVaR), sorted by expected value, followed by the EVPI line. Values in dkm2.
    """
    dec = tree["decision"].dataset
    alpha = float(tree.attrs.get("cvar_alpha", dec.attrs.get("cvar_alpha", 0.05)))
    units = tree.attrs.get("value_units", "dkm2")
    order = dec["expected_value"].to_series().sort_values(ascending=False).index
    name_w = max(6, *(len(str(o)) for o in order))
    head = (f"{'option':<{name_w}}  {'expected value':>22}  {'P(best)':>7}  "
            f"{'regret':>9}  {f'CVaR {alpha:.0%}':>10}")
    lines = [
        f"{tree.attrs.get('spec_name', '')}: {tree.attrs.get('analysis', 'prior')} analysis, "
        f"{tree.attrs.get('draws')} draws, seed {tree.attrs.get('seed')}; values in {units} "
        "(Donbas-equivalent km2, higher is better)",
        head,
        "-" * len(head),
    ]
    for o in order:
        row = dec.sel(option=o)
        ev = f"{float(row['expected_value']):,.1f} ± {float(row['expected_value_mcse']):,.1f}"
        lines.append(
            f"{o!s:<{name_w}}  {ev:>22}  {float(row['prob_best']):>7.3f}  "
            f"{float(row['expected_regret']):>9,.1f}  {float(row['cvar']):>10,.1f}"
        )
    lines.append(f"EVPI: {float(dec['evpi']):,.1f} ± {float(dec['evpi_mcse']):,.1f} {units}")
    if tree.attrs.get("converged") == "no":
        lines.append("WARNING: the calibration did not converge; these decisions are flagged.")
    return "\n".join(lines)
