"""Simulation-based calibration (Talts et al. 2018) of the calibration model.

Usage::

    .venv/bin/python benchmarks/sbc.py [--spec models/kursk_2025.toml] [--sims 100]
                                       [--seed 1] [--draws 250] [--tune 250] [--chains 2]
                                       [--workers N] [--smoke]

Prints, per sampled parameter, the rank histogram (10 bins of the ranks 0..99), the
chi-square statistic and p-value of uniformity, and the verdict at a family-wise level
of 1 % (Bonferroni). Exit status 0 when every parameter passes, 1 otherwise. About
6 s per simulation on the 2-core reference machine. The logic is
:func:`kursk_da.calibration._sbc.run_sbc`. ``--smoke``: 2 simulations of 1 chain x 30
draws (ranks of 9 draws), for the test suite; the verdict is then not judged.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from _figures import add_smoke, figure, machine_line

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    """Run the SBC and print the report."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--spec", default=str(ROOT / "models" / "kursk_2025.toml"))
    p.add_argument("--sims", type=int, default=100)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--draws", type=int, default=250)
    p.add_argument("--tune", type=int, default=250)
    p.add_argument("--chains", type=int, default=2)
    p.add_argument("--save", default="", help="CSV file for the ranks (optional)")
    p.add_argument("--workers", type=int, default=0,
                   help="run the fits on a LocalCluster of N worker processes (one fit per "
                        "dask task; the same ranks as in-process)")
    add_smoke(p)
    args = p.parse_args(argv)
    thin_to = 99
    if args.smoke:
        args.sims, args.draws, args.tune, args.chains, thin_to = 2, 30, 30, 1, 9
    print(machine_line(), flush=True)

    import pandas as pd

    from kursk_da.calibration._sbc import run_sbc
    from kursk_da.spec._schema import load_spec

    spec = load_spec(args.spec)

    def progress(s: int, sec: float) -> None:
        print(f"  simulation {s + 1}/{args.sims} done, {sec:.0f} s", file=sys.stderr,
              flush=True)

    client = cluster = None
    if args.workers:
        from distributed import Client

        from kursk_da.engine._dask import local_cluster

        cluster = local_cluster(args.workers, 1)
        client = Client(cluster)
    try:
        res = run_sbc(spec, args.sims, args.seed, draws=args.draws, tune=args.tune,
                      chains=args.chains, thin_to=thin_to, progress=progress,
                      client=client)
    finally:
        if client is not None and cluster is not None:
            client.close()
            cluster.close()
    with pd.option_context("display.width", 160, "display.max_columns", 10):
        print(f"SBC of {spec.name}: {args.sims} simulations, ranks of L = {res.thin_to} "
              f"thinned draws ({args.chains} chains x {args.draws}, tune {args.tune}), "
              f"{res.seconds:.0f} s")
        print(res.table.to_string(float_format=lambda v: f"{v:.3g}"))
        print(f"fits with divergences: {(res.divergences > 0).sum()} of {args.sims}; "
              f"fits with >1% of draws at the maximum tree depth (8): "
              f"{(res.saturation > 0.01).sum()}")
        if args.save:
            print(f"ranks per simulation saved to {args.save}")
            res.ranks.to_csv(args.save)
        print("rank uniformity: " + ("PASS (no parameter rejected at 1% family-wise)"
                                     if res.passed else "FAIL: "
                                     + ", ".join(res.table.index[~res.table["uniform"]])))
    figure(f"SBC wall time, {args.sims} simulations", f"{res.seconds:.0f} s", smoke=args.smoke)
    figure("SBC rank uniformity (every parameter, 1% family-wise)",
           "uniform" if res.passed else "rejected", "uniform", bool(res.passed),
           smoke=args.smoke)
    return 0 if res.passed or args.smoke else 1


if __name__ == "__main__":
    sys.exit(main())
