"""``kursk-da variants PATH [--out OUT] [--draws N] [--mcmc-draws N] [--tune N] [--chains N]``.

Competing model structures (:func:`kursk_da.sensitivity.compare_variants`): every
``[variants.NAME]`` of the stored spec of the calibrated result set ``PATH`` is calibrated
on the same observations (same NUTS settings, one seed stream per variant), compared by
PSIS-LOO (Pareto-k diagnostics) and combined by stacking weights; each variant's posterior
and the stacked mixture are propagated to the decision table. Prints the LOO table, the
decision tables and whether the recommendation changes, and writes the result set with
``/variants`` (atomically; to ``PATH`` itself unless ``--out`` is given; nothing is written
when the run fails). Exit status 3 when a variant's calibration fails the convergence
gate (the result set is still written; 0 with ``--allow-unconverged``). ``--workers N`` /
``--scheduler ADDRESS``: each variant is one dask task (the numbers are the same). The
observations whose PSIS-LOO Pareto k exceeds 0.7 are printed by variant.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kursk_da.cli._analyze import add_cluster_options, cluster_client
from kursk_da.cli._common import (
    EXIT_OK,
    EXIT_UNCONVERGED,
    check_interrupted,
    int_type,
    positive_int,
    seed_type,
)
from kursk_da.cli._log import LOGGER, Stages
from kursk_da.dims import DECISION_MODEL, OBSERVATION, OPTION, VALUE_UNITS, VARIANT
from kursk_da.errors import ArgumentError, ResultFileError

if TYPE_CHECKING:
    import xarray as xr



__all__ = ["register", "run", "format_variants"]

EXIT_CLUSTER = 1
"""Exit status when the dask cluster fails the run (nothing is written)."""


def register(sub: Any) -> None:
    """Add the ``variants`` sub-parser (handler in ``handler``)."""
    p = sub.add_parser("variants", help="competing model structures: calibrate each variant, "
                                        "PSIS-LOO, stacking, decision tables")
    p.add_argument("source", type=Path, help="result set of a calibrated analysis (.nc/.zarr)")
    p.add_argument("--out", type=Path, default=None,
                   help="write the result set with /variants here (default: SOURCE itself)")
    p.add_argument("--draws", type=positive_int, default=4000,
                   help="engine draws of each variant's propagation (default 4000)")
    p.add_argument("--mcmc-draws", type=positive_int, default=1000,
                   help="posterior draws per chain (default 1000)")
    p.add_argument("--tune", type=int_type(minimum=0), default=800,
                   help="tuning steps per chain (default 800)")
    p.add_argument("--chains", type=int_type(minimum=2), default=4,
                   help="chains (default 4; at least 2)")
    p.add_argument("--seed", type=seed_type, default=0, help="root seed (default 0)")
    p.add_argument("--sampler", choices=("nutpie", "pymc"), default="nutpie",
                   help="NUTS implementation (default nutpie)")
    p.add_argument("--jobs", type=positive_int, default=None,
                   help="engine threads (default: all CPUs; does not change the numbers)")
    p.add_argument("--allow-unconverged", action="store_true",
                   help="exit 0 even if a variant's calibration fails its diagnostics")
    add_cluster_options(p, "the variants (one task each)")
    p.set_defaults(handler=run)


def format_variants(ds: xr.Dataset) -> str:
    """Console text of a ``/variants`` Dataset: LOO table, decision tables, verdict."""
    import numpy as np

    from kursk_da.sensitivity._variants import variants_frame

    loo = variants_frame(ds)
    lines = [f"PSIS-LOO of {ds.sizes[OBSERVATION]} observations, stacking weights "
             f"(base variant {ds.attrs['base_variant']})",
             f"{'variant':<22}{'elpd_loo':>10}{'se':>7}{'p_loo':>7}{'elpd_diff':>10}"
             f"{'dse':>7}{'weight':>8}{'max k':>7}{'k>0.7':>6}  converged", "-" * 96]
    for name, r in loo.iterrows():
        lines.append(f"{name!s:<22}{r['elpd_loo']:>10.1f}{r['se']:>7.1f}{r['p_loo']:>7.1f}"
                     f"{r['elpd_diff']:>10.1f}{r['dse']:>7.1f}{r['weight']:>8.3f}"
                     f"{r['max_pareto_k']:>7.2f}{int(r['n_k_above_0_7']):>6d}  "
                     f"{'yes' if r['converged'] else 'no'}")
    if "pareto_k" in ds:
        obs = [str(o) for o in ds[OBSERVATION].values]
        for name, k in zip(loo.index, ds["pareto_k"].sel({VARIANT: list(loo.index)}).values,
                           strict=True):
            high = [f"{obs[i]} ({k[i]:.2f})" for i in np.argsort(-k) if k[i] > 0.7]
            if high:
                lines.append(f"  {name}: Pareto k > 0.7 (LOO term unreliable): "
                             + ", ".join(high))
    options = [str(o) for o in ds[OPTION].values]
    models = [str(m) for m in ds[DECISION_MODEL].values]
    width = max(15, *(len(m) + 2 for m in models))
    head = f"{'option':<22}" + "".join(f"{m:>{width}}" for m in models)
    ev, se = ds["expected_value"].values, ds["expected_value_mcse"].values
    pb = ds["prob_best"].values
    lines += ["", f"expected value ± MCSE ({VALUE_UNITS}) under each model", head,
              "-" * len(head)]
    for j, o in enumerate(options):
        lines.append(f"{o:<22}" + "".join(f"{f'{ev[i, j]:,.0f} ± {se[i, j]:.0f}':>{width}}"
                                          for i in range(len(models))))
    lines += ["", "probability best under each model", head, "-" * len(head)]
    for j, o in enumerate(options):
        lines.append(f"{o:<22}" + "".join(f"{pb[i, j]:>{width}.2f}" for i in range(len(models))))
    lines.append(f"{'recommended':<22}" + "".join(
        f"{str(r):>{width}}" for r in ds["recommended_option"].values))
    change = ds.attrs["recommendation_changes"] == "yes"
    lines.append("")
    differ = [f"{m}: {r}" for m, d, r in zip(ds[DECISION_MODEL].values,
                                              ds["differs_from_base"].values,
                                              ds["recommended_option"].values, strict=True)
              if int(d)]
    lines.append(f"the recommendation {'changes' if change else 'does not change'} across the "
                 f"variants (base: {ds.attrs['base_recommendation']}; stacked: "
                 f"{ds.attrs['stacked_recommendation']}"
                 + (f"; {', '.join(differ)}" if differ else "") + ")")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Handler of ``kursk-da variants``."""
    from kursk_da.engine._run import ClusterError

    try:
        return _run(args)
    except ClusterError as exc:
        print(f"kursk-da: error: {exc}; no result set written", file=sys.stderr)
        return EXIT_CLUSTER


def _run(args: argparse.Namespace) -> int:
    from kursk_da.io import load_result_set, save_result_set, spec_from_tree
    from kursk_da.io._resultset import check_result_target
    from kursk_da.io._variants import add_variants_group
    from kursk_da.sensitivity import compare_variants
    from kursk_da.sensitivity._variants import variants_frame

    out = args.out if args.out is not None else args.source
    check_result_target(out, "--out" if args.out is not None else "source")
    if args.workers is not None and args.scheduler is not None:
        raise ArgumentError("--workers: give --workers or --scheduler, not both")
    tree = load_result_set(args.source)
    if tree.attrs.get("analysis") != "posterior":
        raise ResultFileError(f"{args.source}: not a calibrated result set (analysis = "
                              f"{tree.attrs.get('analysis')!r}); run kursk-da analyze on a "
                              "spec with observations first")
    spec = spec_from_tree(tree)
    if not spec.variants:
        raise ArgumentError(f"source: {args.source}: its spec has no [variants] (competing "
                            "model structures); add [variants.NAME] tables to the spec and "
                            "analyze it again")
    stages = Stages("variants")
    stages.start("variants", f"{len(spec.variants)} variants ({', '.join(spec.variants)}), "
                             f"each: NUTS {args.chains} chains x {args.mcmc_draws} draws "
                             f"({args.tune} tuning), then {args.draws} engine draws")

    def tick(name: str, done: int, total: int) -> None:
        check_interrupted()
        LOGGER.info("variant %s done (%d of %d)", name, done, total)

    with contextlib.ExitStack() as stack:
        client = cluster_client(stack, args, what="variants")
        ds = compare_variants(spec, draws=args.draws, seed=args.seed,
                              mcmc_draws=args.mcmc_draws, tune=args.tune, chains=args.chains,
                              sampler=args.sampler, n_jobs=args.jobs, client=client,
                              progress=tick)
    stages.done()
    print(format_variants(ds))
    check_interrupted()
    tree = tree.load() if out == args.source else tree  # the source file is replaced
    path = save_result_set(add_variants_group(tree, ds), out)
    LOGGER.info("result set written to %s", path)
    frame = variants_frame(ds)
    failing = [str(n) for n, ok in frame["converged"].items() if not ok]
    if failing:
        log = LOGGER.warning if args.allow_unconverged else LOGGER.error
        log("the calibration of %d of %d variants did not converge (%s); their LOO and "
            "stacking weights are not to be relied on", len(failing), len(frame),
            ", ".join(failing))
        return EXIT_OK if args.allow_unconverged else EXIT_UNCONVERGED
    return EXIT_OK
