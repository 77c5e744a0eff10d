"""``kursk-da waiting SRC [--days 0,5,...] [--observe Q=ERR ...] [--cost-per-day C] [--out PATH]``.

The value of waiting ``k`` days, observing the front and then choosing, against deciding
now (:func:`kursk_da.voi.value_of_waiting`). ``SRC`` is a spec (prior draws) or a result
set (its stored spec; a posterior result set's input draws). With ``--out`` a result set
gains ``/waiting`` (a spec is analysed first, prior only, with ``--draws``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kursk_da.cli._common import (
    EXIT_OK,
    check_interrupted,
    check_out_file,
    positive_int,
    real_type,
    seed_type,
)
from kursk_da.dims import VALUE_UNITS, WAIT_DAYS
from kursk_da.errors import ArgumentError

if TYPE_CHECKING:
    import numpy as np
    import xarray as xr

    from kursk_da.spec._schema import Spec


__all__ = ["register", "run", "format_waiting", "parse_pairs", "load_spec_and_inputs"]


def parse_pairs(items: list[str] | None, option: str) -> dict[str, float] | None:
    """``["area_held=0.1", ...]`` -> ``{"area_held": 0.1}`` (None for no items)."""
    if not items:
        return None
    out: dict[str, float] = {}
    for item in items:
        name, sep, val = item.partition("=")
        try:
            out[name] = float(val)
        except ValueError:
            raise ArgumentError(option, f"expected NAME=NUMBER, got {item!r}") from None
        if not sep or not name:
            raise ArgumentError(option, f"expected NAME=NUMBER, got {item!r}")
    return out


def load_spec_and_inputs(src: Path) -> tuple[Spec, xr.DataTree | None, np.ndarray | None]:
    """(spec, result set or None, posterior inputs or None) of a ``SRC`` argument."""
    import numpy as np

    from kursk_da.io import load_result_set, spec_from_tree
    from kursk_da.spec._schema import load_spec

    if src.suffix == ".toml":
        return load_spec(src), None, None
    tree = load_result_set(src)
    dec = tree["decision"].dataset
    inputs = np.asarray(dec["inputs"].values) if "inputs" in dec else None
    return spec_from_tree(tree), tree, inputs


def _days(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole days, got {text!r}") \
            from None


def register(sub: Any) -> None:
    """Add the ``waiting`` sub-parser (handler in ``handler``)."""
    p = sub.add_parser("waiting", help="value of waiting k days to observe before deciding")
    p.add_argument("source", type=Path, help="spec (.toml) or result set (.nc)")
    p.add_argument("--days", type=_days, default=[0, 5, 10, 15, 20, 30, 45, 60],
                   help="waiting times, comma-separated (default 0,5,10,15,20,30,45,60)")
    p.add_argument("--observe", action="append", default=None, metavar="QUANTITY=ERROR",
                   help="observed quantity and relative error (area_held, ru_force, ua_force; "
                        "default area_held=0.1 ru_force=0.2)")
    p.add_argument("--cost-per-day", type=real_type(), default=0.0,
                   help="extra cost per day of waiting, dkm2/day (default 0)")
    p.add_argument("--draws", type=positive_int, default=3000, help="draws (default 3000)")
    p.add_argument("--seed", type=seed_type, default=0, help="root seed (default 0)")
    p.add_argument("--out", type=Path, default=None, help="write a result set with /waiting")
    p.set_defaults(handler=run)


def format_waiting(ds: xr.Dataset) -> str:
    """Console table of a ``/waiting`` Dataset."""
    u = VALUE_UNITS
    lines = [f"value of waiting: hold k days, observe {ds.attrs['observed']}, then choose "
             f"({ds.attrs['draws']} draws)",
             f"{'k (days)':>9}{'value of waiting':>20}{'information':>14}{'delay cost':>13}"
             f"{'bound':>10}  best after waiting", "-" * 90]
    for k in range(ds.sizes[WAIT_DAYS]):
        r = ds.isel({WAIT_DAYS: k})
        lines.append(f"{int(r[WAIT_DAYS]):>9}{float(r['value_of_waiting']):>12,.1f} ± "
                     f"{float(r['value_of_waiting_se']):<5.1f}{float(r['information_value']):>14,.1f}"
                     f"{float(r['delay_cost']):>13,.1f}{float(r['perfect_information_bound']):>10,.1f}"
                     f"  {r['best_option_after_waiting'].item()}")
    verdict = ("waiting pays: best to wait " f"{ds.attrs['best_wait_days']} days"
               if ds.attrs["waiting_pays"] == "yes" else
               "waiting does not pay (no waiting time beats deciding now by 2 SE)")
    lines.append(f"{verdict}; EVPI of deciding now {float(ds['evpi']):,.1f} {u}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Handler of ``kursk-da waiting``."""
    from kursk_da.io import save_result_set
    from kursk_da.io._voi_groups import add_voi_groups
    from kursk_da.voi import value_of_waiting

    check_out_file(args.out)
    observe = parse_pairs(args.observe, "--observe")
    spec, tree, inputs = load_spec_and_inputs(args.source)
    ds = value_of_waiting(spec, args.days, draws=args.draws, seed=args.seed, observe=observe,
                          cost_per_day=args.cost_per_day, inputs=inputs)
    print(format_waiting(ds))
    if args.out:
        check_interrupted()
        if tree is None:
            from kursk_da.analysis import analyze

            tree = analyze(spec, args.draws, args.seed, prior_only=True)
        path = save_result_set(add_voi_groups(tree, waiting=ds), args.out)
        print(f"result set written to {path}")
    return EXIT_OK
