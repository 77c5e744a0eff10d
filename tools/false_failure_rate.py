"""False-failure rate of the suite's MCMC-dependent statistical assertions (issue 22).

Each assertion whose numbers come from NUTS (the draws differ between machines, builds
and, before issue 22, compile caches) is run over ``--seeds`` seeds, with the helpers
the tests themselves use, and the number of seeds at which it fails is reported with
the largest ratio of the statistic to its tolerance (1 would fail)::

    .venv/bin/python tools/false_failure_rate.py --seeds 20

Each tolerance is derived from its Monte Carlo error (tests/_mc.py: ESS of the chains,
Sidak over the simultaneous comparisons, family-wise false-failure probability
``ALPHA = 1e-4``), so the expected number of failures over 20 seeds is ~0.002 per
assertion; any failure is a bug of the tolerance (or of the code). The table goes to
docs/testing.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def _pipeline(spec_path: Path) -> Callable[[int], float]:
    """tests/test_pipeline.py::test_posterior_trajectories_are_spread_over_every_chain."""
    from test_pipeline import SHORT, stored_mean_gap

    import kursk_da as kd

    def run(seed: int) -> float:
        tree = kd.analyze(str(spec_path), draws=400, seed=seed, **SHORT)
        gap, _, bound = stored_mean_gap(tree)
        return float(np.max(np.abs(gap) / bound))

    return run


def _recovery(spec_path: Path) -> Callable[[int], float]:
    """tests/test_calibration.py::test_parameter_recovery (2 chains x 250 draws)."""
    from test_calibration import recovery_run

    from kursk_da.calibration import compile_calibration
    from kursk_da.spec._schema import load_spec

    spec = load_spec(spec_path)
    cc = compile_calibration(spec)

    def run(seed: int) -> float:
        idata, truth, values = recovery_run(spec, cc, seed=seed)
        return _recovery_ratio(idata, truth, values)

    return run


def _recovery_ratio(idata: object, truth: np.ndarray, values: np.ndarray) -> float:
    """Largest distance outside [0.05, 0.95] of the posterior CDF at the truth, over its
    allowance ``z * mcse`` (> 1: the assertion fails)."""
    from _mc import mcse_mean, sidak_z

    post = idata.posterior  # type: ignore[attr-defined]
    th = post["theta"].transpose("chain", "draw", "parameter").values
    mu = post["mu"].transpose("chain", "draw", "observation").values
    x = np.concatenate([th, mu], axis=-1)
    below = (x <= np.concatenate([truth, values])).astype(float)
    u = below.mean(axis=(0, 1))
    allow = sidak_z(2 * u.size) * np.nan_to_num(mcse_mean(below))
    excess = np.maximum(0.05 - u, u - 0.95)  # <= 0 inside the interval
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(excess <= 0, 0.0, np.where(allow > 0, excess / allow, np.inf))
    return float(ratio.max())


def _samplers(spec_path: Path, draws: int) -> Callable[[int], float]:
    """tests/test_calibration_slow.py::test_pymc_nuts_gives_the_same_posterior (shorter
    chains: the tolerance follows their ESS)."""
    from test_calibration_slow import sampler_mean_gap

    from kursk_da.calibration import calibrate
    from kursk_da.spec._schema import load_spec

    spec = load_spec(spec_path)

    def run(seed: int) -> float:
        a = calibrate(spec, seed=seed, draws=draws, tune=draws, chains=2, sampler="pymc")
        b = calibrate(spec, seed=seed, draws=draws, tune=draws, chains=2)
        gap, bound = sampler_mean_gap(a, b)
        return float(np.max(np.abs(gap) / bound))

    return run


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=100,
                    help="seeds first-seed ... first-seed + seeds - 1 (default 100: not the "
                         "seeds of the tests themselves)")
    ap.add_argument("--only", default="pipeline,recovery,samplers")
    ap.add_argument("--pymc-draws", type=int, default=150,
                    help="draws and tuning steps per chain of the sampler comparison")
    args = ap.parse_args(argv)
    from _essay import write_essay_spec

    spec_path = write_essay_spec(Path(tempfile.mkdtemp()))
    checks = {
        "test_pipeline.py::test_posterior_trajectories_are_spread_over_every_chain":
            ("pipeline", lambda: _pipeline(spec_path)),
        "test_calibration.py::test_parameter_recovery":
            ("recovery", lambda: _recovery(spec_path)),
        "test_calibration_slow.py::test_pymc_nuts_gives_the_same_posterior":
            ("samplers", lambda: _samplers(spec_path, args.pymc_draws)),
    }
    wanted = set(args.only.split(","))
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    print("| assertion | seeds | false failures | largest statistic / tolerance | "
          "seconds per seed |")
    print("|---|---:|---:|---:|---:|")
    status = 0
    for name, (key, make) in checks.items():
        if key not in wanted:
            continue
        run = make()
        t0 = time.perf_counter()
        ratios = [run(s) for s in seeds]
        per = (time.perf_counter() - t0) / len(ratios)
        fails = sum(r > 1.0 for r in ratios)
        status |= fails > 0
        print(f"| `{name}` | {len(ratios)} | {fails} | {max(ratios):.2f} | {per:.0f} |",
              flush=True)
    return int(status)


if __name__ == "__main__":
    raise SystemExit(main())
