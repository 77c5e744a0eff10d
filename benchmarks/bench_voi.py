"""Benchmark: EVPPI of every input and group of the default spec from 10^5 draws.

Goal: at most 20 s for the EVPPI table on the 2-core machine (the engine run that
produces the draws is timed separately).  Also reports the agreement of the
regression estimates with nested Monte Carlo on the campaign model for the two
inputs of highest EVPPI among the value weights and among the other inputs
(stratified outer draws, conditional inner draws).

The regressions run in ``--jobs`` threads over inputs (default 2, the machine's
cores; results do not depend on it); ``--serial`` also times one thread.

Run: ``.venv/bin/python benchmarks/bench_voi.py [--draws 100000] [--jobs 2] [--serial]
[--smoke]`` (``--smoke``: 4096 draws, 10 x 100 nested draws; the figures are then not
judged).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _figures import add_smoke, figure, machine_line

from kursk_da.engine._run import run_engine
from kursk_da.spec._schema import load_spec
from kursk_da.voi._campaign import campaign_evppi, campaign_evppi_nested

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 20.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=2, help="threads over inputs (default 2)")
    parser.add_argument("--serial", action="store_true", help="also time one thread")
    parser.add_argument("--n-outer", type=int, default=200)
    parser.add_argument("--n-inner", type=int, default=1000)
    add_smoke(parser)
    args = parser.parse_args(argv)
    if args.smoke:
        args.draws, args.n_outer, args.n_inner = 4096, 10, 100
    print(machine_line(), flush=True)
    spec = load_spec(ROOT / "models" / "kursk_2025.toml")
    run_engine(spec, 1000, 0)  # compile outside the timings
    t0 = time.perf_counter()
    out = run_engine(spec, args.draws, 1)
    t_engine = time.perf_counter() - t0
    t0 = time.perf_counter()
    ds = campaign_evppi(spec, out.inputs, out.values, attributes=out.attributes, rng=1,
                        n_jobs=args.jobs)
    t_voi = time.perf_counter() - t0
    print(f"engine: {args.draws} draws x {len(spec.option_names)} options in {t_engine:.1f} s")
    print(f"EVPPI of {ds.sizes['parameter']} inputs and {ds.sizes['group']} groups from "
          f"{args.draws} draws: {t_voi:.1f} s with {args.jobs} thread(s) "
          f"(goal <= {GOAL_SECONDS:.0f} s)")
    if args.serial:
        t0 = time.perf_counter()
        one = campaign_evppi(spec, out.inputs, out.values, attributes=out.attributes, rng=1,
                             n_jobs=1)
        print(f"  the same with 1 thread: {time.perf_counter() - t0:.1f} s "
              f"(identical results: {one.identical(ds)})")
    print(f"EVPI {float(ds['evpi']):.2f} ± {float(ds['evpi_se']):.2f} dkm2")
    print("top inputs:")
    for p in ds["parameter"].values[:5]:
        r = ds.sel(parameter=p)
        print(f"  {p:<26} {float(r['evppi']):8.2f} ± {float(r['evppi_se']):.2f}")
    print("groups:")
    for g in ds["group"].values:
        r = ds.sel(group=g)
        print(f"  {g:<26} {float(r['group_evppi']):8.2f} ± {float(r['group_evppi_se']):.2f} "
              f"({r['group_method'].item()}, {int(r['group_draws'])} draws)")
    print(f"nested Monte Carlo ({args.n_outer} stratified outer x {args.n_inner} inner):")
    # the top value weight (linear path) and the top campaign input (GAM path)
    ranked = [str(p) for p in ds["parameter"].values]
    checks = [next(p for p in ranked if p.startswith("weight_")),
              next(p for p in ranked if not p.startswith("weight_"))]
    for p in checks:
        t0 = time.perf_counter()
        nest = campaign_evppi_nested(spec, str(p), n_outer=args.n_outer, n_inner=args.n_inner,
                                     seed=7)
        dt = time.perf_counter() - t0
        r = ds.sel(parameter=p)
        se = float(np.hypot(r["evppi_se"], nest.se))
        gap = float(r["evppi"]) - nest.value
        print(f"  {p:<26} regression {float(r['evppi']):7.2f}  nested {nest.value:7.2f} ± "
              f"{nest.se:.2f} (inner bias <= {nest.diagnostics['inner_bias_bound']:.2f})  "
              f"gap {gap:+.2f} = {gap / se:+.1f} combined SE  [{dt:.1f} s]")
        figure(f"EVPPI of {p}: regression - nested, in combined SEs", f"{gap / se:+.1f}",
               smoke=args.smoke)
    figure(f"EVPPI table from {args.draws:.0e} draws ({args.jobs} threads)", f"{t_voi:.1f} s",
           f"<= {GOAL_SECONDS:.0f} s", t_voi <= GOAL_SECONDS, smoke=args.smoke)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
