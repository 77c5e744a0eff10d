"""Benchmark of the Bayesian calibration of the default spec.

Usage::

    .venv/bin/python benchmarks/bench_calibration.py [--spec models/kursk_2025.toml]
        [--sampler nutpie|pymc] [--seed 1] [--draws N] [--tune N] [--chains 4] [--smoke]

``--draws`` and ``--tune`` default to the library defaults of
:func:`kursk_da.calibration.calibrate` (``DEFAULT_DRAWS``, ``DEFAULT_TUNE``). Prints the
compile time and the sampling time apart (wall, and CPU), the machine load before and after,
ESS per second (bulk, minimum over parameters), the gradient cost of the skeleton, leapfrog
steps per draw, the diagnostics table (campaign and observation-model parameters), the share
of observations inside their 90% posterior predictive interval and, for a spec with AFP's
claim of 30 December 2024, its 90% predictive interval. Budget (issue 11, item 4): at most
120 s of sampling for the default spec (52 claims) on the 2-core reference machine.
``--smoke``: 2 chains of 20 draws after 20 tuning steps (the whole code path in seconds once
the model is compiled; the figures are then not judged).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from _figures import add_smoke, figure, machine_line

from kursk_da.calibration._sampling import DEFAULT_DRAWS, DEFAULT_TUNE

BUDGET_SECONDS = 120.0
ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit status 0 when the diagnostics gate passes."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--spec", default=str(ROOT / "models" / "kursk_2025.toml"))
    p.add_argument("--sampler", default="nutpie", choices=("nutpie", "pymc"))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--draws", type=int, default=DEFAULT_DRAWS)
    p.add_argument("--tune", type=int, default=DEFAULT_TUNE)
    p.add_argument("--chains", type=int, default=4)
    add_smoke(p)
    args = p.parse_args(argv)
    if args.smoke:
        args.draws, args.tune, args.chains = 20, 20, 2
    print(machine_line(), flush=True)

    from kursk_da.calibration import (
        calibrate,
        compile_calibration,
        diagnose,
        diagnostics_table,
        ppc_table,
    )
    from kursk_da.calibration._skeleton import skeleton_numba
    from kursk_da.spec._sampling import sample_inputs
    from kursk_da.spec._schema import load_spec

    spec = load_spec(args.spec)
    load0 = os.getloadavg()[0]
    cc = compile_calibration(spec, sampler=args.sampler)
    setup = cc.setup
    theta = sample_inputs(spec, 1, np.random.default_rng(0))[0]
    skeleton_numba(theta[setup.cols], theta, setup.cols, setup.omap)  # JIT
    reps = 300
    t0 = time.perf_counter()
    for _ in range(reps):
        skeleton_numba(theta[setup.cols], theta, setup.cols, setup.omap)
    grad_ms = (time.perf_counter() - t0) / reps * 1e3
    cpu0 = time.process_time()
    idata = calibrate(spec, seed=args.seed, draws=args.draws, tune=args.tune,
                      chains=args.chains, sampler=args.sampler, compiled=cc)
    cpu = time.process_time() - cpu0
    diag = diagnose(idata)
    ss = idata.sample_stats
    steps = ss["n_steps"] if "n_steps" in ss else 2 ** ss["tree_depth"] - 1
    sampling = idata.attrs["sampling_seconds"]
    print(f"spec {spec.name}: {len(setup.used)} observations, {len(setup.sampled)} sampled "
          f"parameters, skeleton of {setup.omap.n_days} days")
    print(f"sampler {args.sampler}: {args.chains} chains x {args.draws} draws, "
          f"{args.tune} tuning, on {os.cpu_count()} CPUs (load average before: {load0:.2f}, "
          f"after: {os.getloadavg()[0]:.2f})")
    print(f"compile time:  {cc.compile_seconds:8.1f} s")
    print(f"sampling time: {sampling:8.1f} s wall, {cpu:.1f} s CPU "
          f"(budget {BUDGET_SECONDS:.0f} s: {'OK' if sampling <= BUDGET_SECONDS else 'OVER'})")
    print(f"skeleton value + Jacobian: {grad_ms:.3f} ms per evaluation; "
          f"leapfrog steps per draw: {float(steps.mean()):.1f}")
    ess = diag.table["ess_bulk"].min()
    print(f"ESS/s (min bulk ESS / sampling s): {ess / sampling:.1f}; min bulk ESS {ess:.0f}, "
          f"min tail ESS {diag.table['ess_tail'].min():.0f}, max R-hat "
          f"{diag.table['r_hat'].max():.4f}")
    print(diagnostics_table(diag))
    ppc = ppc_table(idata)
    print(f"posterior predictive check: {int(ppc['covered'].sum())} of {len(ppc)} observations "
          f"({100 * ppc['covered'].mean():.0f}%) inside their 90% interval")
    afp = [o.name for o in setup.used
           if o.quantity == "area_held" and o.date.isoformat() == "2024-12-30"]
    if afp:
        lo, hi = ppc.loc[afp[0], ["lower_90", "upper_90"]]
        print(f"area held on 30 Dec 2024 ({afp[0]}, observed {ppc.loc[afp[0], 'observed']:.0f} "
              f"km2): 90% predictive interval [{lo:.0f}, {hi:.0f}] km2, width {hi - lo:.0f}")
    figure("calibration sampling time (default spec)", f"{sampling:.1f} s",
           f"<= {BUDGET_SECONDS:.0f} s", sampling <= BUDGET_SECONDS, smoke=args.smoke)
    figure("calibration compile time", f"{cc.compile_seconds:.1f} s", smoke=args.smoke)
    figure("calibration min bulk ESS per sampling second", f"{ess / sampling:.1f}",
           smoke=args.smoke)
    figure("calibration diagnostics gate (R-hat, ESS, divergences, E-BFMI)",
           "passed" if diag.passed else "failed", "passed", bool(diag.passed),
           smoke=args.smoke)
    return 0 if diag.passed or args.smoke else 1


if __name__ == "__main__":
    sys.exit(main())
