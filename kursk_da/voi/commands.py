"""The ``kursk-da voi`` and ``kursk-da sensitivity`` sub-commands (library functions).

``kursk-da voi SRC [--draws N --seed S] [--out PATH] [--evsi PARAM --error E]``
    Ranked EVPPI of every uncertain input and group (and optionally the EVSI of
    a noisy measurement); with ``--out`` the result set gains ``/voi``.
``kursk-da sensitivity SRC [--draws N --seed S] [--out PATH] [--plots DIR] ...``
    Tornado with thresholds, Sobol' indices, the scenarios side by side, the
    acceptability curve, the weight simplex and risk attitude; with ``--out``
    the result set gains ``/sensitivity`` and ``/scenarios``.

``SRC`` is a spec (``.toml``: analysed first with ``--draws``/``--seed``) or a
saved result set (``.nc``: its draws and its stored spec are used).
:func:`register` adds both to the CLI's sub-parsers.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from kursk_da.dims import GROUP, OPTION, PARAMETER, SCENARIO, VALUE_UNITS
from kursk_da.io.resultset import spec_from_tree

__all__ = ["register", "run_voi", "run_sensitivity", "load_source"]

def load_source(src: Path, draws: int, seed: int) -> tuple[Any, xr.DataTree]:
    """(spec, result set) from a spec file (analysed now) or a saved result set."""
    from kursk_da.analysis import analyze
    from kursk_da.io import load_result_set
    from kursk_da.spec.schema import load_spec

    if src.suffix == ".toml":
        spec = load_spec(src)
        return spec, analyze(spec, draws, seed)
    tree = load_result_set(src)
    return spec_from_tree(tree), tree


def _table(rows: list[tuple[str, float, float]], title: str, limit: int) -> str:
    lines = [title, f"{'':<28}{'EVPPI':>12}{'± SE':>10}   ({VALUE_UNITS})", "-" * 56]
    for name, val, se in rows[:limit]:
        lines.append(f"{name:<28}{val:>12,.2f}{se:>10.2f}")
    return "\n".join(lines)


def format_voi(ds: xr.Dataset, limit: int = 10) -> str:
    """Text report of a :func:`kursk_da.voi.campaign.campaign_evppi` Dataset."""
    p = [(str(n), float(v), float(s)) for n, v, s in
         zip(ds[PARAMETER].values, ds["evppi"].values, ds["evppi_se"].values, strict=True)]
    g = [(f"{n} ({m}, {k})", float(v), float(s)) for n, m, k, v, s in
         zip(ds[GROUP].values, ds["group_method"].values, ds["group_size"].values,
             ds["group_evppi"].values, ds["group_evppi_se"].values, strict=True)]
    head = (f"EVPI {float(ds['evpi']):,.2f} ± {float(ds['evpi_se']):.2f} {VALUE_UNITS} "
            f"from {ds.attrs['n_draws']} draws")
    return "\n\n".join([head, _table(p, f"inputs (top {limit} of {len(p)})", limit),
                        _table(g, "groups (smoother, inputs)", len(g))])


def run_voi(args: argparse.Namespace) -> int:
    """Handler of ``kursk-da voi``."""
    from kursk_da.io import save_result_set
    from kursk_da.io.draws import draws_from_tree
    from kursk_da.io.voi_groups import add_voi_groups
    from kursk_da.stats import evsi_lognormal
    from kursk_da.voi.campaign import campaign_evppi_from_tree

    _, tree = load_source(args.source, args.draws, args.seed)
    ds = campaign_evppi_from_tree(tree, rng=args.seed, gp_max_draws=args.gp_max_draws,
                                  n_jobs=args.jobs or os.cpu_count() or 1)
    print(format_voi(ds, args.top))
    if args.evsi:
        d = draws_from_tree(tree)
        res = evsi_lognormal(d.values, xr.Dataset({n: ("draw", d.inputs[:, i])
                                                   for i, n in enumerate(d.names)}),
                             args.evsi, error=args.error, n_obs=args.n_obs, rng=args.seed)
        ds["evsi"] = xr.DataArray(res.value, attrs={
            "long_name": f"EVSI of {args.n_obs} measurement(s) of {args.evsi} with "
                         f"{args.error:g} lognormal error", "units": VALUE_UNITS,
            "parameter": args.evsi, "error": args.error, "n_obs": args.n_obs})
        ds["evsi_se"] = xr.DataArray(res.se, attrs={"units": VALUE_UNITS})
        print(f"\nEVSI of {args.n_obs} measurement(s) of {args.evsi} "
              f"({100 * args.error:g}% lognormal error): {res.value:,.2f} ± {res.se:.2f} "
              f"{VALUE_UNITS}")
    if args.out:
        path = save_result_set(add_voi_groups(tree, voi=ds), args.out)
        print(f"result set written to {path}")
    return 0


def run_sensitivity(args: argparse.Namespace) -> int:
    """Handler of ``kursk-da sensitivity``."""
    from kursk_da.io import save_result_set
    from kursk_da.io.draws import draws_from_tree
    from kursk_da.io.voi_groups import add_voi_groups
    from kursk_da.sensitivity.campaign import campaign_sobol
    from kursk_da.sensitivity.main_effects import campaign_main_effects
    from kursk_da.sensitivity.robustness import (
        acceptability_curve,
        risk_attitude,
        scenario_comparison,
        simplex_regions,
    )
    from kursk_da.sensitivity.tornado import tornado

    spec, tree = load_source(args.source, args.draws, args.seed)
    draws = draws_from_tree(tree)
    if draws.names != spec.input_names or draws.options != spec.option_names:
        from kursk_da.errors import ResultFileError

        raise ResultFileError(f"{args.source}: the stored draws do not match the stored spec "
                              "(inputs or options differ)")
    sens: dict[str, xr.Dataset] = {}
    scen: dict[str, xr.Dataset] = {}
    posterior = (tree.attrs.get("analysis") == "posterior" and "posterior" in tree.children
                 and "inputs" in tree["decision"].dataset)
    if posterior:
        calibrated = [str(v) for v in tree["posterior"].data_vars if v in spec.input_names]
        print("posterior result set: the tornado sweeps under the posterior; Sobol' indices "
              "and scenarios re-sample the spec's prior (Sobol' indices need independent "
              "inputs; scenarios are not re-calibrated)\n")
    if not args.no_tornado:
        sens["tornado"] = t = tornado(
            spec, n_draws=args.tornado_draws, seed=args.seed,
            base_inputs=draws.inputs if posterior else None,
            calibrated=calibrated if posterior else ())
        print(f"tornado ({t.attrs['distribution']}) of EV({t.attrs['leader']}) - "
              f"EV({t.attrs['runner_up']}) over 5%-95% ({VALUE_UNITS}); threshold = input "
              "value where the best option changes")
        for p in t[PARAMETER].values[:args.top]:
            r = t.sel({PARAMETER: p})
            thr = float(r["threshold"])
            extra = (f"  threshold {thr:.4g}: {r['best_below'].item()} -> "
                     f"{r['best_above'].item()}" if np.isfinite(thr) else "")
            lo, hi = float(r["difference"][0]), float(r["difference"][-1])
            print(f"  {p:<26}{lo:>10,.1f} ..{hi:>10,.1f}{extra}")
    if not args.no_sobol:
        sens["sobol"] = s = campaign_sobol(spec, n=args.sobol_n, seed=args.seed)
        d = s.sel(output="difference").sortby("ST", ascending=False)
        print(f"\nSobol' indices (prior) of {s.attrs['leader']} - {s.attrs['runner_up']} "
              f"(top {args.top})")
        for p in d[PARAMETER].values[:args.top]:
            print(f"  {p:<26} S1 {float(d['S1'].sel({PARAMETER: p})):6.3f}"
                  f"  ST {float(d['ST'].sel({PARAMETER: p})):6.3f}")
    sens["main_effects"] = me = campaign_main_effects(
        draws, rng=args.seed, distribution="posterior" if posterior else "prior")
    d1 = me.sel(output="difference").sortby("S1", ascending=False)
    print(f"\nfirst-order indices ({me.attrs['distribution']} draws, valid for dependent "
          f"inputs) of {me.attrs['leader']} - {me.attrs['runner_up']} (top {args.top})")
    for p in d1[PARAMETER].values[:args.top]:
        r = d1.sel({PARAMETER: p})
        print(f"  {p:<26} S1 {float(r['S1']):6.3f} ± {float(r['S1_se']):.3f}")
    if not args.no_scenarios:
        attrs = tree["decision"]["attributes"].transpose("draw", OPTION, "attribute").values
        if spec.scenarios:
            scen["summary"] = sc = scenario_comparison(spec, draws=args.draws, seed=args.seed)
            print(f"\nscenarios (prior): expected value ({VALUE_UNITS}) and best option")
            print(sc["expected_value"].to_pandas().round(1).to_string())
            for n, b in zip(sc[SCENARIO].values, sc["best"].values, strict=True):
                print(f"  {n:<24} best: {b}")
        scen["acceptability"] = acceptability_curve(spec, draws.inputs, attrs)
        scen["simplex"] = sx = simplex_regions(spec, draws.inputs, attrs)
        scen["risk"] = ra = risk_attitude(draws.values, draws.options,
                                          alpha=spec.cvar_alpha, risk_aversion=args.risk_aversion)
        shares = ", ".join(f"{o} {v:.0%}" for o, v in
                           zip(sx[OPTION].values, sx["region_share"].values, strict=True))
        print(f"\nweight simplex ({sx.attrs['weights']}): share of trade-offs where best: {shares}")
        print(f"risk aversion {args.risk_aversion:g}/{VALUE_UNITS}: best risk-neutral "
              f"{ra.attrs['best_risk_neutral']}, best risk-averse {ra.attrs['best_risk_averse']}")
    if args.plots:
        from kursk_da.plots.voi import save_all_plots

        done = add_voi_groups(tree, sensitivity=sens or None, scenarios=scen or None)
        for path in save_all_plots(done, args.plots):
            print(f"plot written to {path}")
    if args.out:
        path = save_result_set(add_voi_groups(tree, sensitivity=sens or None,
                                              scenarios=scen or None), args.out)
        print(f"result set written to {path}")
    return 0


def register(sub: Any, positive_int: Any, seed_type: Any) -> None:
    """Add the ``voi`` and ``sensitivity`` sub-parsers (handlers in ``handler``)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("source", type=Path,
                        help="spec (.toml, analysed first) or result set (.nc)")
    common.add_argument("--draws", type=positive_int, default=20_000,
                        help="draws when SOURCE is a spec (default 20000)")
    common.add_argument("--seed", type=seed_type, default=0, help="root seed (default 0)")
    common.add_argument("--out", type=Path, default=None,
                        help="write the result set with the new groups here")
    common.add_argument("--top", type=positive_int, default=10, help="rows to print")
    v = sub.add_parser("voi", parents=[common],
                       help="ranked EVPPI of every input and group (and EVSI)")
    v.add_argument("--evsi", default=None, metavar="PARAM",
                   help="also the EVSI of a noisy measurement of this input")
    v.add_argument("--error", type=float, default=0.2,
                   help="relative (lognormal) error of one measurement (default 0.2)")
    v.add_argument("--n-obs", type=positive_int, default=1, help="measurements (default 1)")
    v.add_argument("--gp-max-draws", type=positive_int, default=20_000,
                   help="draws used by the GP smoother for groups of > 4 inputs")
    v.add_argument("--jobs", type=positive_int, default=None,
                   help="threads over inputs (default: the number of CPUs; results do not "
                        "depend on it)")
    v.set_defaults(handler=run_voi)
    s = sub.add_parser("sensitivity", parents=[common],
                       help="tornado, thresholds, Sobol' indices, scenarios, robustness")
    s.add_argument("--tornado-draws", type=positive_int, default=1000,
                   help="draws behind each one-way expected value (default 1000)")
    s.add_argument("--sobol-n", type=positive_int, default=256,
                   help="Sobol' base sample, a power of 2 (default 256)")
    s.add_argument("--risk-aversion", type=float, default=1e-3,
                   help="exponential-utility risk aversion, 1/dkm2 (default 0.001)")
    s.add_argument("--no-tornado", action="store_true")
    s.add_argument("--no-sobol", action="store_true")
    s.add_argument("--no-scenarios", action="store_true")
    s.add_argument("--plots", type=Path, default=None, help="write PNG plots to this directory")
    s.set_defaults(handler=run_sensitivity)
