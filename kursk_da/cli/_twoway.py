"""``kursk-da twoway SRC --x INPUT --y INPUT [--points N] [--draws N] [--out PATH] [--plots DIR]``.

The best option over a grid of two inputs, with the EV difference of the two leaders and
the threshold curve (:func:`kursk_da.sensitivity.two_way`: re-runs with common random
numbers). With ``--out`` a result set gains ``/twoway``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kursk_da._defaults import DEFAULT_PAIR
from kursk_da.cli._common import (
    EXIT_OK,
    check_interrupted,
    check_out_file,
    check_plots_dir,
    int_type,
    positive_int,
    seed_type,
)
from kursk_da.cli._waiting import load_spec_and_inputs
from kursk_da.dims import VALUE_UNITS, X_VALUE, Y_VALUE

if TYPE_CHECKING:
    import xarray as xr



__all__ = ["register", "run", "format_twoway"]


def register(sub: Any) -> None:
    """Add the ``twoway`` sub-parser (handler in ``handler``)."""
    p = sub.add_parser("twoway", help="best option over a grid of two inputs (threshold map)")
    p.add_argument("source", type=Path, help="spec (.toml) or result set (.nc)")
    p.add_argument("--x", default=DEFAULT_PAIR[0], help=f"first input (default {DEFAULT_PAIR[0]})")
    p.add_argument("--y", default=DEFAULT_PAIR[1], help=f"second input (default {DEFAULT_PAIR[1]})")
    p.add_argument("--points", type=int_type(2, 25), default=9,
                   help="grid points per input over its 5-95%% interval (default 9)")
    p.add_argument("--draws", type=positive_int, default=1000, help="base draws (default 1000)")
    p.add_argument("--seed", type=seed_type, default=0, help="root seed (default 0)")
    p.add_argument("--out", type=Path, default=None, help="write a result set with /twoway")
    p.add_argument("--plots", type=Path, default=None, help="write the map here")
    p.set_defaults(handler=run)


def format_twoway(ds: xr.Dataset) -> str:
    """Console map of a ``/twoway`` Dataset: the best option's initial at each point."""
    options = [str(o) for o in ds["option"].values]
    short = {o: str(k) for k, o in enumerate(options)}
    lines = [f"best option over {ds.attrs['x']} (rows) and {ds.attrs['y']} (columns), "
             f"{ds.attrs['draws']} draws; key: " + ", ".join(f"{v} {k}" for k, v in short.items()),
             f"{'':>12}" + "".join(f"{float(v):>9.3g}" for v in ds[Y_VALUE].values)]
    for a, xv in enumerate(ds[X_VALUE].values):
        row = ds["best_option"].isel({X_VALUE: a}).values
        lines.append(f"{float(xv):>12.4g}" + "".join(f"{short[str(o)]:>9}" for o in row))
    d = ds["leader_difference"]
    lines.append(f"EV difference of the leaders ({ds.attrs['leaders']}): from "
                 f"{float(d.min()):,.1f} to {float(d.max()):,.1f} {VALUE_UNITS} (MCSE up to "
                 f"{float(ds['leader_difference_mcse'].max()):.1f}); it changes sign on the "
                 "threshold curve" if float(d.min()) < 0 < float(d.max()) else
                 f"EV difference of the leaders ({ds.attrs['leaders']}) keeps its sign on the "
                 "grid: no threshold inside")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Handler of ``kursk-da twoway``."""
    from kursk_da.io import save_result_set
    from kursk_da.io._atomic import save_figure
    from kursk_da.io._voi_groups import add_voi_groups
    from kursk_da.sensitivity import two_way

    check_out_file(args.out)
    check_plots_dir(args.plots)
    spec, tree, inputs = load_spec_and_inputs(args.source)
    ds = two_way(spec, args.x, args.y, points=args.points, draws=args.draws, seed=args.seed,
                 inputs=inputs)
    print(format_twoway(ds))
    if args.plots:
        import matplotlib

        matplotlib.use("Agg")
        from kursk_da.plots._policy import plot_twoway

        args.plots.mkdir(parents=True, exist_ok=True)
        path = args.plots / "twoway.png"
        save_figure(plot_twoway(ds), path, dpi=100)
        print(f"plot written to {path}")
    if args.out:
        check_interrupted()
        if tree is None:
            from kursk_da.analysis import analyze

            tree = analyze(spec, args.draws, args.seed, prior_only=True)
        path = save_result_set(add_voi_groups(tree, twoway=ds), args.out)
        print(f"result set written to {path}")
    return EXIT_OK
