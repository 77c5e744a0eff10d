"""The report section on the rolling-origin hindcast (``/hindcast``; issue 11).

Self-contained: reads only ``/hindcast`` (docs/resultset.md) and draws with
:mod:`kursk_da.plots._hindcast`; without the group the section names the command.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from kursk_da.dims import ORIGIN, QUANTITY
from kursk_da.plots._hindcast import (
    HINDCAST_CAPTIONS,
    plot_hindcast_forecasts,
    plot_hindcast_pit,
    plot_hindcast_skill,
)
from kursk_da.report._document import Image, Section, Table, Text, Warning_, figure_png

__all__ = ["hindcast_section"]


def _image(name: str, make: Callable[[], Figure]) -> Image | Warning_:
    try:
        fig = make()
    except Exception as exc:  # noqa: BLE001 - one bad figure must not lose the report
        return Warning_(f"Figure '{name}' could not be drawn from this result set: {exc}")
    return Image(name, figure_png(fig), HINDCAST_CAPTIONS[name])


def _r(x: float, digits: int = 2) -> float:
    return float(np.round(x, digits)) if np.isfinite(x) else float("nan")


def hindcast_section(tree: xr.DataTree) -> Section:
    """The section "Hindcast" of the report of a result set."""
    sec = Section("Hindcast: forecasts from earlier origins against later claims", "hindcast")
    if "hindcast" not in tree.children:
        sec.blocks.append(Text("No hindcast in this result set: run `kursk-da hindcast PATH` "
                               "(calibrates at each origin and scores the later claims)."))
        return sec
    ds = tree["hindcast"].to_dataset()
    a = ds.attrs
    sec.blocks.append(Text(
        f"At each origin ({a.get('origins', '')}) the model was calibrated on the claims "
        f"dated and reported by then ({a.get('chains')} chains x {a.get('draws')} draws, "
        f"{a.get('tune')} tuning, seed {a.get('seed')}) and forecast every later claim, "
        "with the claimant's bias and the measurement error. Scores: CRPS (lower is better; "
        "by origin relative to the claim, since quantities differ in units), coverage of the "
        "central 50% and 90% predictive intervals, and the CRPS skill against persistence "
        "(last value known at the origin) and a linear trend (last two values). Bounds "
        "('at least', 'up to') count only in the coverage."))
    rows: dict[str, dict[str, float | int | str]] = {}
    for k in range(ds.sizes[ORIGIN]):
        r = ds.isel({ORIGIN: k})
        rows[str(r[ORIGIN].values)[:10]] = {
            "claims used": int(r["n_used"]), "forecast": int(r["n_forecast"]),
            "point claims": int(r["n_point"]),
            "relative CRPS (1)": _r(float(r["crps_relative"]), 3),
            "50% coverage (1)": _r(float(r["coverage_50"])),
            "90% coverage (1)": _r(float(r["coverage_90"])),
            "skill vs persistence (1)": _r(float(r["skill_persistence"])),
            "skill vs trend (1)": _r(float(r["skill_trend"])),
            "divergences": int(r["divergences"]),
        }
        if "converged" in r:
            rows[str(r[ORIGIN].values)[:10]]["converged"] = "yes" if int(r["converged"]) \
                else "no"
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("origin")
    if "converged" in ds and not bool(ds["converged"].all()):
        bad = [k for k, v in rows.items() if v.get("converged") == "no"]
        sec.blocks.append(Warning_(f"The calibration at origin {', '.join(bad)} did not pass "
                                   "its convergence gate: its forecasts and scores are "
                                   "provisional."))
    sec.blocks.append(Table(table, "Hindcast scores by origin"))
    qrows = []
    units = dict(zip(ds[QUANTITY].values.tolist(), ds["quantity_units"].values.tolist(),
                     strict=True))
    for k in range(ds.sizes[ORIGIN]):
        for q in ds[QUANTITY].values.tolist():
            r = ds.isel({ORIGIN: k}).sel({QUANTITY: q})
            if int(r["n_forecast_by_quantity"]) == 0:
                continue
            qrows.append({"origin": str(r[ORIGIN].values)[:10], "quantity": q,
                          "forecast": int(r["n_forecast_by_quantity"]),
                          "CRPS": _r(float(r["crps_by_quantity"]), 1), "units": units[q],
                          "90% coverage (1)": _r(float(r["coverage_90_by_quantity"])),
                          "skill vs persistence (1)":
                              _r(float(r["skill_persistence_by_quantity"])),
                          "skill vs trend (1)": _r(float(r["skill_trend_by_quantity"]))})
    if qrows:
        sec.blocks.append(Table(pd.DataFrame(qrows).set_index(["origin", "quantity"]),
                                "Hindcast scores by origin and quantity (CRPS in the "
                                "quantity's units)"))
    sec.blocks.append(_image("hindcast_skill", lambda: plot_hindcast_skill(ds)))
    sec.blocks.append(_image("hindcast_pit", lambda: plot_hindcast_pit(ds)))
    sec.blocks.append(_image("hindcast_forecasts", lambda: plot_hindcast_forecasts(ds)))
    return sec
