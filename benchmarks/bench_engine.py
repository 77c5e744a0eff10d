"""Engine benchmark: throughput (draw x option x day per second) and peak memory.

Runs the default spec's parameters with a 365-day horizon from 6 August 2024
(4 options: the 2025 options moved to day 0 with the surprise offensive as their
first phase) for 10^5 and 10^6 draws, each size in a fresh subprocess so that peak
memory (ru_maxrss) is that run's own. Prints one line per size, with the CPU time
of the timed run (all threads) and the 1-minute load average at its end: on a
shared machine the wall time depends on other jobs, the CPU time much less.

Usage: ``python benchmarks/bench_engine.py [--draws 100000 1000000] [--jobs N]``.
Goal (issue #2): 10^6 draws x 4 options x 365 days in <= 15 s, peak memory < 4 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bench_spec():
    from kursk_da.spec._schema import load_spec, spec_from_dict

    base = load_spec(ROOT / "models" / "kursk_2025.toml")
    raw = dict(base.raw)
    raw["decision"] = dict(raw["decision"], date=raw["history"]["phases"][0]["start"],
                           horizon_days=365)
    raw.pop("history")
    raw.pop("observations", None)  # calibration data would postdate the moved decision date
    first = {"after_days": 0, "posture": "attack", "force_initial": "ua_initial_force",
             "surprise": True}
    options = {}
    for name, opt in raw["options"].items():
        phases = [first] + [dict(ph, after_days=14 + ph["after_days"]) for ph in opt["phases"]]
        options[name] = {"description": opt.get("description", ""), "phases": phases}
    raw["options"] = options
    return spec_from_dict(raw)


def _one(draws: int, jobs: int | None) -> dict:
    from kursk_da.engine._run import run_engine

    spec = _bench_spec()
    run_engine(spec, 100, seed=0, n_jobs=1)  # compile the kernel outside the timing
    t0, c0 = time.perf_counter(), time.process_time()
    out = run_engine(spec, draws, seed=1, n_jobs=jobs)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    n_opt = len(spec.options)
    cells = draws * n_opt * spec.horizon_days
    return {
        "draws": draws, "options": n_opt, "days": spec.horizon_days, "seconds": elapsed,
        "cells_per_second": cells / elapsed, "cpu_seconds": cpu, "load": os.getloadavg()[0],
        "peak_memory_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
        "checksum": float(out.values.mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.one, args.jobs)))
        return
    print(f"{'draws':>9} {'options':>7} {'days':>5} {'seconds':>9} {'draw*option*day/s':>18} "
          f"{'peak GB':>8} {'cpu s':>7} {'load':>5}")
    for n in args.draws:
        cmd = [sys.executable, __file__, "--one", str(n)]
        if args.jobs:
            cmd += ["--jobs", str(args.jobs)]
        res = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
        print(f"{res['draws']:>9} {res['options']:>7} {res['days']:>5} {res['seconds']:>9.2f} "
              f"{res['cells_per_second']:>18.3g} {res['peak_memory_gb']:>8.2f} "
              f"{res['cpu_seconds']:>7.2f} {res['load']:>5.2f}")


if __name__ == "__main__":
    main()
