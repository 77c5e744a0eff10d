"""Benchmark: EVPPI of every input and group of the default spec from 10^5 draws.

Goal: at most 20 s for the EVPPI table on the 2-core machine (the engine run that
produces the draws is timed separately).  Also reports the agreement of the
regression estimates with nested Monte Carlo on the campaign model for the two
inputs of highest EVPPI (stratified outer draws, conditional inner draws).

Run: ``.venv/bin/python benchmarks/bench_voi.py [--draws 100000] [--jobs 1]``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from kursk_da.engine.run import run_engine
from kursk_da.spec.schema import load_spec
from kursk_da.voi.campaign import campaign_evppi, campaign_evppi_nested

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=1, help="threads over inputs")
    parser.add_argument("--n-outer", type=int, default=200)
    parser.add_argument("--n-inner", type=int, default=1000)
    args = parser.parse_args()
    spec = load_spec(ROOT / "models" / "kursk_2025.toml")
    run_engine(spec, 1000, 0)  # compile outside the timings
    t0 = time.perf_counter()
    out = run_engine(spec, args.draws, 1)
    t_engine = time.perf_counter() - t0
    t0 = time.perf_counter()
    ds = campaign_evppi(spec, out.inputs, out.values, rng=1, n_jobs=args.jobs)
    t_voi = time.perf_counter() - t0
    print(f"engine: {args.draws} draws x {len(spec.option_names)} options in {t_engine:.1f} s")
    print(f"EVPPI of {ds.sizes['parameter']} inputs and {ds.sizes['group']} groups from "
          f"{args.draws} draws: {t_voi:.1f} s (goal <= 20 s)")
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
    for p in ds["parameter"].values[:2]:
        t0 = time.perf_counter()
        nest = campaign_evppi_nested(spec, str(p), n_outer=args.n_outer, n_inner=args.n_inner,
                                     seed=7)
        dt = time.perf_counter() - t0
        r = ds.sel(parameter=p)
        se = float(np.sqrt(r["evppi_se"] ** 2 + r["evppi_mc_se"] ** 2 + nest.se**2))
        gap = float(r["evppi"]) - nest.value
        print(f"  {p:<26} regression {float(r['evppi']):7.2f}  nested {nest.value:7.2f} ± "
              f"{nest.se:.2f} (inner bias <= {nest.diagnostics['inner_bias_bound']:.2f})  "
              f"gap {gap:+.2f} = {gap / se:+.1f} combined SE  [{dt:.1f} s]")


if __name__ == "__main__":
    main()
