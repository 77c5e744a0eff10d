"""``kursk-da voi SRC [--draws N --seed S] [--out PATH] [--evsi PARAM --error E] [--format F]``.

Ranked EVPPI of every uncertain input and group (and optionally the EVSI of a noisy
measurement); with ``--out`` the result set gains ``/voi``. ``SRC`` is a spec
(``.toml``: analysed first with ``--draws``/``--seed``) or a saved result set (``.nc``:
its draws and its stored spec are used). ``--format csv|json|markdown`` prints the
ranking to paste (:func:`kursk_da.io._table.voi_export`), the same as ``kursk-da
summary OUT --voi --format ...`` on the written result set; ``table`` (default) is the
console text of :func:`format_voi`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kursk_da.cli._analyze import add_cluster_options, cluster_client
from kursk_da.cli._common import (
    EXIT_OK,
    add_format_option,
    check_interrupted,
    check_out_file,
    emit,
    load_source,
    positive_int,
    real_type,
    seed_type,
)
from kursk_da.cli._log import LOGGER, Stages, progress_bar
from kursk_da.dims import VALUE_UNITS

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr



__all__ = ["register", "run", "source_parser", "format_voi", "format_evsi"]


def source_parser() -> argparse.ArgumentParser:
    """The arguments ``voi`` and ``sensitivity`` share (an argparse parent parser)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("source", type=Path,
                        help="spec (.toml, analysed first) or result set (.nc)")
    common.add_argument("--draws", type=positive_int, default=20_000,
                        help="draws when SOURCE is a spec (default 20000)")
    common.add_argument("--seed", type=seed_type, default=0, help="root seed (default 0)")
    common.add_argument("--out", type=Path, default=None,
                        help="write the result set with the new groups here")
    common.add_argument("--top", type=positive_int, default=10,
                        help="rows to print (console table; csv, json and markdown have all)")
    return common


def register(sub: Any) -> None:
    """Add the ``voi`` sub-parser (handler in ``handler``)."""
    v = sub.add_parser("voi", parents=[source_parser()],
                       help="ranked EVPPI of every input and group (and EVSI)")
    v.add_argument("--evsi", default=None, metavar="PARAM",
                   help="also the EVSI of a noisy measurement of this input")
    v.add_argument("--error", type=real_type(), default=0.2,
                   help="relative (lognormal) error of one measurement (default 0.2)")
    v.add_argument("--n-obs", type=positive_int, default=1, help="measurements (default 1)")
    v.add_argument("--gp-max-draws", type=positive_int, default=20_000,
                   help="draws used by the GP smoother for groups of > 4 inputs")
    add_cluster_options(v, "the EVPPI tasks (one per input and group)")
    v.add_argument("--jobs", type=positive_int, default=None,
                   help="threads over inputs (default: the number of CPUs; results do not "
                        "depend on it)")
    add_format_option(v)
    v.set_defaults(handler=run)


def _table(frame: pd.DataFrame, names: list[str], title: str, limit: int) -> str:
    lines = [title, f"{'':<28}{'EVPPI':>12}{'± SE':>10}   ({VALUE_UNITS})", "-" * 56]
    for name, val, se in zip(names[:limit], frame.iloc[:limit, 0], frame.iloc[:limit, 1],
                             strict=True):
        lines.append(f"{name:<28}{float(val):>12,.2f}{float(se):>10.2f}")
    return "\n".join(lines)


def format_voi(ds: xr.Dataset, limit: int = 10) -> str:
    """Text report of a ``/voi`` Dataset (:func:`kursk_da.voi._groups.voi_group`)."""
    from kursk_da.voi._groups import evppi_frame, group_evppi_frame

    p = evppi_frame(ds)
    g = group_evppi_frame(ds)
    g_names = [f"{n} ({m}, {k})" for n, m, k in
               zip(g.index, g["smoother"], g["inputs"], strict=True)]
    head = (f"EVPI {float(ds['evpi']):,.2f} ± {float(ds['evpi_se']):.2f} {VALUE_UNITS} "
            f"from {ds.attrs['n_draws']} draws")
    return "\n\n".join([head,
                        _table(p, [str(n) for n in p.index],
                               f"inputs (top {limit} of {len(p)})", limit),
                        _table(g, g_names, "groups (smoother, inputs)", len(g))])


def format_evsi(ds: xr.Dataset) -> str:
    """The EVSI line of a ``/voi`` Dataset (empty when no EVSI was computed)."""
    if "evsi" not in ds:
        return ""
    a = ds["evsi"].attrs
    return (f"\n\nEVSI of {a.get('n_obs')} measurement(s) of {a.get('parameter')} "
            f"({100 * float(a.get('error', float('nan'))):g}% lognormal error): "
            f"{float(ds['evsi']):,.2f} ± {float(ds['evsi_se']):.2f} {VALUE_UNITS}")


def run(args: argparse.Namespace) -> int:
    """Handler of ``kursk-da voi``."""
    from kursk_da.io import save_result_set
    from kursk_da.io._table import render_table, voi_export
    from kursk_da.io._voi_groups import add_voi_groups

    check_out_file(args.out)  # before any computing
    stages = Stages(*(("propagation",) if args.source.suffix == ".toml" else ()),
                    "VOI tasks")
    if args.source.suffix == ".toml":
        stages.start("propagation", f"prior analysis of {args.source}, {args.draws} draws")
    from kursk_da.voi._groups import check_evsi_arguments

    _, tree = load_source(args.source, args.draws, args.seed,
                          check=lambda spec: check_evsi_arguments(spec.input_names, args.evsi,
                                                                  args.error, args.n_obs))
    stages.start("VOI tasks", "EVPPI of every uncertain input and group"
                 + (f", EVSI of {args.evsi}" if args.evsi else ""))
    with contextlib.ExitStack() as stack:
        client = cluster_client(stack, args, what="VOI tasks")
        ds = _voi_tasks(args, tree, stages, client)
    stages.done()
    if args.format == "table":
        emit(format_voi(ds, args.top) + format_evsi(ds), None)
    else:
        emit(render_table(voi_export(ds, tree), args.format), None)
    if args.out:
        check_interrupted()
        path = save_result_set(add_voi_groups(tree, voi=ds), args.out)
        LOGGER.info("result set written to %s", path)
    return EXIT_OK


def _voi_tasks(args: argparse.Namespace, tree: xr.DataTree, stages: Stages,
               client: Any) -> xr.Dataset:
    from kursk_da.voi._groups import voi_group

    with progress_bar(stages.label("VOI tasks"), None, "task") as bar:

        def tick(done: int, total: int) -> None:
            check_interrupted()
            bar.total = total
            bar.update(done - bar.n)

        ds = voi_group(tree, seed=args.seed, gp_max_draws=args.gp_max_draws,
                       n_jobs=args.jobs or os.cpu_count() or 1, evsi=args.evsi,
                       error=args.error, n_obs=args.n_obs, progress=tick, client=client)
    return ds
