"""``kursk-da intelligence SRC [--quantity Q --date D | --inputs A,B] [--error E]
[--reports 1,2,...] [--cost-per-report C] [--out PATH]``.

EVSI (regression and moment matching) and ENBS of independent intelligence reports on a
model output or on inputs, as a curve over the number of reports
(:func:`kursk_da.voi.evsi_intelligence`). With ``--out`` a result set gains
``/intelligence``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kursk_da._defaults import DEFAULT_COST_PER_REPORT
from kursk_da.cli._common import (
    EXIT_OK,
    check_interrupted,
    check_out_file,
    date_type,
    positive_int,
    real_type,
    seed_type,
)
from kursk_da.cli._waiting import load_spec_and_inputs
from kursk_da.dims import REPORTS, VALUE_UNITS

if TYPE_CHECKING:
    import xarray as xr



__all__ = ["register", "run", "format_intelligence"]


def _ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") \
            from None


def register(sub: Any) -> None:
    """Add the ``intelligence`` sub-parser (handler in ``handler``)."""
    p = sub.add_parser("intelligence", help="EVSI and ENBS of intelligence reports on a model "
                                            "output")
    p.add_argument("source", type=Path, help="spec (.toml) or result set (.nc)")
    p.add_argument("--quantity", default="ru_force",
                   help="measured state: area_held, ru_force, ua_force (default ru_force)")
    p.add_argument("--date", type=date_type, default=None,
                   help="date of the measured state (default 2025-02-01)")
    p.add_argument("--option", default="hold",
                   help="option simulated for a date after the decision (default hold)")
    p.add_argument("--inputs", default=None,
                   help="instead: comma-separated inputs measured at once (1 to 4)")
    p.add_argument("--error", type=real_type(minimum=0.0), default=0.2,
                   help="relative error of one report, sd of the log (default 0.2)")
    p.add_argument("--reports", type=_ints, default=None,
                   help="numbers of reports, comma-separated (default 1,2,3,5,8,12,20,40)")
    p.add_argument("--cost-per-report", type=real_type(minimum=0.0),
                   default=DEFAULT_COST_PER_REPORT,
                   help=f"dkm2 per report (default {DEFAULT_COST_PER_REPORT:g}, analyst "
                        "judgement)")
    p.add_argument("--draws", type=positive_int, default=4000, help="draws (default 4000)")
    p.add_argument("--seed", type=seed_type, default=0, help="root seed (default 0)")
    p.add_argument("--out", type=Path, default=None, help="write a result set with "
                                                           "/intelligence")
    p.set_defaults(handler=run)


def format_intelligence(ds: xr.Dataset) -> str:
    """Console table of an ``/intelligence`` Dataset."""
    u = VALUE_UNITS
    lines = [str(ds.attrs["question"]) + f" ({ds.attrs['draws']} draws)",
             f"{'reports':>8}{'EVSI (regression)':>24}{'EVSI (moment m.)':>18}{'ENBS':>10}",
             "-" * 62]
    for k in range(ds.sizes[REPORTS]):
        r = ds.isel({REPORTS: k})
        lines.append(f"{int(r[REPORTS]):>8}{float(r['evsi_regression']):>14,.2f} ± "
                     f"{float(r['evsi_regression_se']):<7.2f}"
                     f"{float(r['evsi_moment_matching']):>18,.2f}{float(r['enbs']):>10,.2f}")
    n = int(ds["optimal_reports"])
    lines.append(f"EVPPI of the measured quantity {float(ds['evppi']):,.2f} ± "
                 f"{float(ds['evppi_se']):.2f} {u}; EVPI {float(ds['evpi']):,.1f} {u}; cost "
                 f"{float(ds['cost_per_report']):g} {u} per report")
    lines.append(f"optimal number of reports: {n}" if n else
                 "no number of reports pays for itself (ENBS <= 0)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Handler of ``kursk-da intelligence``."""
    from kursk_da.io import save_result_set
    from kursk_da.io._voi_groups import add_voi_groups
    from kursk_da.voi import evsi_intelligence

    check_out_file(args.out)
    spec, tree, inputs = load_spec_and_inputs(args.source)
    kwargs: dict[str, Any] = {}
    if args.date is not None:
        kwargs["date"] = args.date
    if args.reports is not None:
        kwargs["reports"] = args.reports
    ds = evsi_intelligence(
        spec, args.quantity, option=args.option,
        inputs_measured=args.inputs.split(",") if args.inputs else None, error=args.error,
        cost_per_report=args.cost_per_report, draws=args.draws, seed=args.seed, inputs=inputs,
        **kwargs)
    print(format_intelligence(ds))
    if args.out:
        check_interrupted()
        if tree is None:
            from kursk_da.analysis import analyze

            tree = analyze(spec, args.draws, args.seed, prior_only=True)
        path = save_result_set(add_voi_groups(tree, intelligence=ds), args.out)
        print(f"result set written to {path}")
    return EXIT_OK
