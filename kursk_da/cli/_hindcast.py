"""``kursk-da hindcast SRC [--origins D,D,...] [--out PATH]``: rolling-origin hindcast.

For each origin (default the first of each month, September to December 2024), calibrate
on the observations dated and reported on or before it, forecast every later one and
score the forecasts: CRPS, 50 % and 90 % coverage, PIT, and the CRPS skill against
persistence and a linear trend (:func:`kursk_da.calibration.run_hindcast`).

``SRC`` is a spec (``.toml``) or a result set (its stored spec). A result set gains the
group ``/hindcast``, written atomically back to ``SRC`` or to ``--out``. For a spec the
scores are printed; with ``--out`` a prior analysis of the spec (``--draws`` draws) is
written with ``/hindcast``. Nothing is written when anything fails. Exit status 3 when an
origin's calibration fails the convergence gate (the scores are still printed and written,
``/hindcast/converged`` = 0; 0 with ``--allow-unconverged``).

``--workers N`` (a local dask cluster of N processes) or ``--scheduler ADDRESS`` runs each
origin's calibration as one dask task; the numbers are the same as in-process.
``--format csv|json|markdown`` prints the table by origin in that format.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kursk_da.cli._analyze import add_cluster_options, cluster_client
from kursk_da.cli._common import (
    EXIT_OK,
    EXIT_UNCONVERGED,
    add_format_option,
    check_interrupted,
    int_type,
    positive_int,
    seed_type,
)
from kursk_da.cli._log import LOGGER
from kursk_da.dims import ORIGIN, QUANTITY
from kursk_da.errors import ArgumentError

if TYPE_CHECKING:
    import xarray as xr

    from kursk_da.io._table import ExportTable


__all__ = ["register", "run", "format_hindcast", "hindcast_export", "parse_origins",
           "DEFAULT_ORIGINS_TEXT"]

DEFAULT_ORIGINS_TEXT = "2024-09-01,2024-10-01,2024-11-01,2024-12-01"
"""The default origins (the first of each month, September to December 2024)."""


def parse_origins(text: str) -> list[dt.date]:
    """argparse type: comma-separated ISO dates."""
    out = []
    for item in text.split(","):
        try:
            out.append(dt.date.fromisoformat(item.strip()))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected comma-separated dates like 2024-10-01, got {item.strip()!r}"
            ) from None
    return out


def register(sub: Any) -> None:
    """Add the ``hindcast`` sub-parser (handler in ``handler``)."""
    p = sub.add_parser("hindcast", help="rolling-origin hindcast: forecast each later "
                                         "observation from what was known at each origin")
    p.add_argument("source", type=Path, help="spec (.toml) or result set (.nc, .zarr)")
    p.add_argument("--origins", type=parse_origins, default=parse_origins(DEFAULT_ORIGINS_TEXT),
                   help=f"forecast origins, comma-separated (default {DEFAULT_ORIGINS_TEXT})")
    p.add_argument("--mcmc-draws", type=positive_int, default=500,
                   help="posterior draws per chain of each calibration (default 500)")
    p.add_argument("--tune", type=int_type(minimum=0), default=500,
                   help="tuning steps per chain (default 500)")
    p.add_argument("--chains", type=positive_int, default=2, help="chains (default 2)")
    p.add_argument("--sampler", choices=("nutpie", "pymc"), default="nutpie",
                   help="NUTS implementation (default nutpie)")
    p.add_argument("--seed", type=seed_type, default=0, help="root seed (default 0)")
    p.add_argument("--out", type=Path, default=None,
                   help="result set to write with /hindcast (default: a result set SRC is "
                        "updated in place; a spec: nothing is written)")
    p.add_argument("--draws", type=positive_int, default=2000,
                   help="Monte Carlo draws of the prior analysis written for a spec with "
                        "--out (default 2000)")
    p.add_argument("--by-quantity", action="store_true",
                   help="also print the scores by origin and quantity")
    p.add_argument("--allow-unconverged", action="store_true",
                   help="exit 0 even if an origin's calibration fails its diagnostics")
    add_cluster_options(p, "the origins' calibrations")
    add_format_option(p)
    p.set_defaults(handler=run)


def _pct(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.0%}"


def _num(x: float, fmt: str = "+.2f") -> str:
    return "-" if math.isnan(x) else format(x, fmt)


def format_hindcast(ds: xr.Dataset, by_quantity: bool = False) -> str:
    """Console table of a ``/hindcast`` Dataset (by origin; optionally by quantity)."""
    a = ds.attrs
    lines = [f"rolling-origin hindcast of {a.get('spec_name', '?')}: {ds.sizes[ORIGIN]} "
             f"origins, {a.get('chains')} chains x {a.get('draws')} draws ({a.get('tune')} "
             f"tuning), seed {a.get('seed')}",
             f"{'origin':<11}{'used':>5}{'forecast':>9}{'point':>6}{'rel. CRPS':>10}"
             f"{'cov 50%':>8}{'cov 90%':>8}{'skill vs persistence':>22}{'skill vs trend':>16}",
             "-" * 95]
    for k in range(ds.sizes[ORIGIN]):
        r = ds.isel({ORIGIN: k})
        origin = str(r[ORIGIN].values)[:10]
        lines.append(
            f"{origin:<11}{int(r['n_used']):>5}{int(r['n_forecast']):>9}{int(r['n_point']):>6}"
            f"{_num(float(r['crps_relative']), '.3f'):>10}"
            f"{_pct(float(r['coverage_50'])):>8}{_pct(float(r['coverage_90'])):>8}"
            f"{_num(float(r['skill_persistence'])):>14} (n={int(r['n_persistence']):>2})"
            f"{_num(float(r['skill_trend'])):>9} (n={int(r['n_trend']):>2})")
    if "converged" in ds:
        bad = [str(o)[:10] for o, c in zip(ds[ORIGIN].values, ds["converged"].values,
                                           strict=True) if not int(c)]
        lines.append(f"calibrations that FAIL the convergence gate: {', '.join(bad)}" if bad
                     else "every origin's calibration passed the convergence gate")
    lines.append("rel. CRPS: mean CRPS / |claim| of the point claims; skill = 1 - CRPS / "
                 "CRPS of the baseline (> 0: better than it), over the n claims that have the "
                 "baseline; bounds count only in the coverage")
    if by_quantity:
        lines += ["", f"{'origin':<11}{'quantity':<24}{'n':>3}{'CRPS':>10} {'units':<7}"
                      f"{'cov 50%':>8}{'cov 90%':>8}{'skill pers.':>12}{'skill trend':>12}",
                  "-" * 95]
        units = dict(zip(ds[QUANTITY].values.tolist(), ds["quantity_units"].values.tolist(),
                         strict=True))
        for k in range(ds.sizes[ORIGIN]):
            for q in ds[QUANTITY].values.tolist():
                r = ds.isel({ORIGIN: k}).sel({QUANTITY: q})
                if int(r["n_forecast_by_quantity"]) == 0:
                    continue
                lines.append(
                    f"{str(r[ORIGIN].values)[:10]:<11}{q:<24}"
                    f"{int(r['n_forecast_by_quantity']):>3}"
                    f"{_num(float(r['crps_by_quantity']), ',.0f'):>10} {units[q]:<7}"
                    f"{_pct(float(r['coverage_50_by_quantity'])):>8}"
                    f"{_pct(float(r['coverage_90_by_quantity'])):>8}"
                    f"{_num(float(r['skill_persistence_by_quantity'])):>12}"
                    f"{_num(float(r['skill_trend_by_quantity'])):>12}")
    return "\n".join(lines)


def hindcast_export(ds: xr.Dataset) -> ExportTable:
    """The table by origin of a ``/hindcast`` Dataset, for CSV/JSON/Markdown."""
    from kursk_da.io._table import ExportColumn, ExportTable

    keys = ("n_used", "n_forecast", "n_point", "crps_relative", "coverage_50", "coverage_90",
            "skill_persistence", "n_persistence", "skill_trend", "n_trend", "divergences",
            "max_rhat")
    cols = [ExportColumn("origin", "origin")]
    for k in keys:
        digits = None if k.startswith("n_") or k == "divergences" else 3
        cols.append(ExportColumn(k, k.replace("_", " "), str(ds[k].attrs.get("units", "1")),
                                 str(ds[k].attrs.get("long_name", "")), digits))
    rows = []
    for i in range(ds.sizes[ORIGIN]):
        r = ds.isel({ORIGIN: i})
        rows.append((str(r[ORIGIN].values)[:10],
                     *[r[k].item() for k in keys]))
    a = ds.attrs
    return ExportTable(
        "hindcast", f"Rolling-origin hindcast of {a.get('spec_name', '?')} ({a.get('chains')} "
                    f"chains x {a.get('draws')} draws, seed {a.get('seed')})",
        tuple(cols), tuple(rows),
        meta={k: a[k] for k in ("spec_name", "origins", "seed", "draws", "tune", "chains",
                                "sampler", "decision_date") if k in a})


def run(args: argparse.Namespace) -> int:
    """Handler of ``kursk-da hindcast``."""
    from kursk_da.engine._run import ClusterError

    try:
        return _run(args)
    except ClusterError as exc:
        print(f"kursk-da: error: {exc}; no result set written", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    from kursk_da.io import load_result_set, save_result_set, spec_from_tree
    from kursk_da.io._hindcast import add_hindcast, hindcast_dataset
    from kursk_da.io._resultset import check_result_target
    from kursk_da.io._table import render_table
    from kursk_da.spec._schema import load_spec

    if args.out is not None:
        check_result_target(args.out, "--out")  # before any computing
    if args.workers is not None and args.scheduler is not None:
        raise ArgumentError("--workers: give --workers or --scheduler, not both")
    if args.by_quantity and args.format != "table":  # else ignored after the whole run
        raise ArgumentError(f"--by-quantity: only with --format table (the {args.format} "
                            "export is the table by origin)")
    tree = None
    if args.source.suffix == ".toml":
        spec = load_spec(args.source)
        target = args.out
    else:
        tree = load_result_set(args.source)
        spec = spec_from_tree(tree)
        target = args.out or args.source
    # importing kursk_da.calibration imports PyMC: after the cheap checks
    from kursk_da.calibration._hindcast import check_origins, run_hindcast
    from kursk_da.errors import SpecError

    try:
        check_origins(spec, args.origins)
    except SpecError as exc:  # name the option
        raise ArgumentError(f"--origins: {str(exc)}") from None

    def progress(fc: Any) -> None:
        check_interrupted()
        LOGGER.info("origin %s: calibrated on %d observations, %d forecast (%.0f s)",
                    fc.origin, len(fc.used), len(fc.forecast), fc.seconds)

    with contextlib.ExitStack() as stack:
        client = cluster_client(stack, args, what="origins")
        result = run_hindcast(spec, args.origins, seed=args.seed, draws=args.mcmc_draws,
                              tune=args.tune, chains=args.chains, sampler=args.sampler,
                              client=client, progress=progress)
    ds = hindcast_dataset(result)
    if args.format == "table":
        print(format_hindcast(ds, by_quantity=args.by_quantity))
    else:
        print(render_table(hindcast_export(ds), args.format), end="")
    check_interrupted()
    if target is not None:
        if tree is None:
            from kursk_da.analysis import analyze

            tree = analyze(spec, args.draws, args.seed, prior_only=True)
        path = save_result_set(add_hindcast(tree, ds), target)
        LOGGER.info("result set with /hindcast written to %s", path)
    diag = result.diagnostics  # per origin: converged, failing (the gate)
    failing = [f"{str(o)[:10]} ({r['failing']})" for o, r in diag.iterrows()
               if not bool(r.get("converged", True))]
    if failing:
        log = LOGGER.warning if args.allow_unconverged else LOGGER.error
        log("the calibration of %d of %d origins did not converge: %s", len(failing),
            len(diag), "; ".join(failing))
        return EXIT_OK if args.allow_unconverged else EXIT_UNCONVERGED
    return EXIT_OK
