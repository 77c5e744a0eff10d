"""Engine benchmark: throughput (draw x option x day per second), the NumPy reference, a profile.

Runs the default spec's parameters with a 365-day horizon from 6 August 2024 (the
options moved to day 0 with the surprise offensive as their first phase; a
state-triggered phase keeps its trigger, its earliest day moved with the other phases).
Prints, each measured in a fresh subprocess so that peak memory (ru_maxrss) is that
run's own:

* the throughput at each of ``--draws`` (default 10^5 and 10^6) with ``--jobs`` threads
  (default: every CPU), and at the first size on one thread (per-core speed);
* the NumPy reference (:mod:`kursk_da.dynamics.reference`, one thread) on the first
  ``--reference-draws`` draws of the same run (the same inputs and front shocks, every
  option) and the engine's speed-up over it (the largest size's throughput over the
  reference's);
* a profile of one thread over the blocks of the first size: the share of the time in
  the prior inputs, the front shocks, the compiled kernel and the rest of a block
  (values, moments), in ns per draw x option x day.

The CPU time of each timed run (all threads) and the load average are printed: on a
shared machine the wall time depends on other jobs, the CPU time much less.

Usage: ``python benchmarks/bench_engine.py [--draws 100000 1000000] [--jobs N]
[--reference-draws 4096] [--smoke]``.
Goals: >= 3e8 cell/s on the 2-core machine and >= 100x the NumPy reference (issue 27);
10^6 draws x 5 options x 365 days in <= 15 s and peak memory < 4 GB (issue 2).
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

from _figures import add_smoke, figure, machine_line

ROOT = Path(__file__).resolve().parents[1]
GOAL_CELLS = 3e8
GOAL_SPEEDUP = 100.0
GOAL_SECONDS_1E6 = 15.0
GOAL_MEMORY_GB = 4.0


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
        phases = [first]
        for ph in opt["phases"]:
            if "trigger" in ph:  # a state-triggered phase: its window moves with the others
                trig = dict(ph["trigger"])
                for key in ("earliest_days", "latest_days"):
                    if key in trig or key == "earliest_days":
                        trig[key] = 14 + int(trig.get(key, 0))
                phases.append(dict(ph, trigger=trig))
            else:
                phases.append(dict(ph, after_days=14 + ph["after_days"]))
        options[name] = {"description": opt.get("description", ""), "phases": phases}
    raw["options"] = options
    return spec_from_dict(raw)


def _one(draws: int, jobs: int | None) -> dict:
    from kursk_da.engine._run import run_engine

    spec = _bench_spec()
    run_engine(spec, 100, seed=0, n_jobs=1)  # compile (or load) the kernel outside the timing
    t0, c0 = time.perf_counter(), time.process_time()
    out = run_engine(spec, draws, seed=1, n_jobs=jobs)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    n_opt = len(spec.options)
    cells = draws * n_opt * spec.n_days
    return {
        "draws": draws, "options": n_opt, "days": spec.n_days, "seconds": elapsed,
        "jobs": jobs or os.cpu_count(), "cells_per_second": cells / elapsed,
        "cpu_seconds": cpu, "load": os.getloadavg()[0],
        "peak_memory_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
        "checksum": float(out.values.mean()),
    }


def _reference(draws: int) -> dict:
    """The NumPy reference on the first ``draws`` draws of the engine's run (seed 1)."""
    import numpy as np

    from kursk_da.dynamics.reference import simulate_plan, simulate_triggered_plan
    from kursk_da.engine._blocks import (
        BLOCK_SIZE,
        SHOCK_STREAM,
        block_inputs,
        block_seed,
        make_context,
    )
    from kursk_da.engine._noise import block_shocks

    spec = _bench_spec()
    ctx = make_context(spec, draws, 1)
    thetas, shocks = [], []
    for k in range(ctx.n_blocks):
        m = min(draws, (k + 1) * BLOCK_SIZE) - k * BLOCK_SIZE
        thetas.append(block_inputs(spec, 1, k, m))
        shocks.append(block_shocks(block_seed(1, SHOCK_STREAM, k), 0, m, spec.n_days).T)
    theta, z = np.concatenate(thetas), np.concatenate(shocks)
    hc, hr, oc, orf = ctx.sched
    assert ctx.triggers is not None
    mode, qty, above, value, window, post_const, post_ref = ctx.triggers
    d = spec.decision_day
    t0 = time.perf_counter()
    for o in range(oc.shape[0]):
        const, ref = np.concatenate([hc, oc[o]]), np.concatenate([hr, orf[o]])
        if mode[o] > 0:
            simulate_triggered_plan(theta, const, ref, z, d, int(mode[o]), qty[o], above[o],
                                    value[o], window[o], post_const[o], post_ref[o])
        else:
            simulate_plan(theta, const, ref, z)
    elapsed = time.perf_counter() - t0
    cells = draws * oc.shape[0] * spec.n_days
    return {"draws": draws, "seconds": elapsed, "cells_per_second": cells / elapsed}


def _profile(draws: int) -> dict:
    """Seconds per stage of the blocks of ``draws`` draws on one thread."""
    import numpy as np

    from kursk_da.dynamics.catalogue import ATTRIBUTE_NAMES, TRAJECTORY_NAMES
    from kursk_da.engine._blocks import (
        BLOCK_SIZE,
        SHOCK_STREAM,
        block_inputs,
        block_seed,
        make_context,
        run_blocks,
        values_from_attributes,
    )
    from kursk_da.engine._kernel import simulate_chunk
    from kursk_da.engine._noise import block_shocks, draw_stride
    from kursk_da.stats._moments import block_moments

    spec = _bench_spec()
    ctx = make_context(spec, draws, 1)
    run_blocks(ctx, 0, 1)  # compile outside the timing
    n_opt, n_days = len(spec.options), spec.n_days
    hc, hr, oc, orf = ctx.sched
    zbuf, ubuf = np.empty(n_days * BLOCK_SIZE), np.empty(draw_stride(n_days) * BLOCK_SIZE)
    stages = dict.fromkeys(("inputs", "shocks", "kernel", "values+moments"), 0.0)
    t_all = time.perf_counter()
    for k in range(ctx.n_blocks):
        m = min(draws, (k + 1) * BLOCK_SIZE) - k * BLOCK_SIZE
        t0 = time.perf_counter()
        theta = block_inputs(spec, 1, k, m)
        t1 = time.perf_counter()
        z = block_shocks(block_seed(1, SHOCK_STREAM, k), 0, m, n_days, zbuf, ubuf).T
        t2 = time.perf_counter()
        attributes = np.empty((m, n_opt, len(ATTRIBUTE_NAMES)))
        simulate_chunk(theta, hc, hr, oc, orf, z, float(spec.retention_threshold), attributes,
                       np.zeros((n_opt, n_days), dtype=np.int64), np.zeros((n_opt, n_days)),
                       np.zeros((0, n_opt, n_days, len(TRAJECTORY_NAMES))),
                       triggers=ctx.triggers, out_fire=np.empty((m, n_opt)))
        t3 = time.perf_counter()
        block_moments(values_from_attributes(spec, theta, attributes))
        t4 = time.perf_counter()
        for key, dt in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            stages[key] += dt
    total = time.perf_counter() - t_all
    cells = draws * n_opt * n_days
    return {"draws": draws, "cells": cells, "total": total, "stages": stages}


def _sub(*args: str) -> dict:
    cmd = [sys.executable, __file__, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
        raise SystemExit(f"failed: {' '.join(cmd)}")
    res: dict = json.loads(proc.stdout.strip().splitlines()[-1])
    return res


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--reference-draws", type=int, default=4096)
    add_smoke(parser)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--reference", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--profile", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(_one(args.one, args.jobs)))
        return 0
    if args.reference:
        print(json.dumps(_reference(args.reference)))
        return 0
    if args.profile:
        print(json.dumps(_profile(args.profile)))
        return 0
    smoke = args.smoke
    sizes = [8192] if smoke else args.draws
    ref_draws = 256 if smoke else args.reference_draws
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    print(machine_line())
    print(f"{'draws':>9} {'threads':>7} {'options':>7} {'days':>5} {'seconds':>9} "
          f"{'draw*option*day/s':>18} {'peak GB':>8} {'cpu s':>7} {'load':>5}")
    runs = []
    for n, j in [(n, jobs) for n in sizes] + [(sizes[0], ["--jobs", "1"])]:
        res = _sub("--one", str(n), *j)
        runs.append(res)
        print(f"{res['draws']:>9} {res['jobs']:>7} {res['options']:>7} {res['days']:>5} "
              f"{res['seconds']:>9.2f} {res['cells_per_second']:>18.3g} "
              f"{res['peak_memory_gb']:>8.2f} {res['cpu_seconds']:>7.2f} {res['load']:>5.2f}",
              flush=True)
    ref = _sub("--reference", str(ref_draws))
    print(f"NumPy reference, 1 thread, the first {ref['draws']} draws of the same run: "
          f"{ref['seconds']:.2f} s, {ref['cells_per_second']:.3g} draw*option*day/s", flush=True)
    prof = _sub("--profile", str(sizes[0]))
    print(f"profile of one thread over {prof['draws']} draws ({prof['total']:.2f} s, "
          f"{1e9 * prof['total'] / prof['cells']:.2f} ns per draw*option*day):")
    for key, sec in prof["stages"].items():
        print(f"  {key:<16} {sec:7.3f} s  {100 * sec / prof['total']:5.1f}%  "
              f"{1e9 * sec / prof['cells']:6.3f} ns/cell")
    big, single = runs[-2], runs[-1]
    speedup = big["cells_per_second"] / ref["cells_per_second"]
    figure(f"engine draw*option*day/s ({big['jobs']} threads, {big['draws']:.0e} draws)",
           f"{big['cells_per_second']:.3g}", f">= {GOAL_CELLS:.0e}",
           big["cells_per_second"] >= GOAL_CELLS, smoke=smoke)
    figure(f"engine speed-up over the NumPy reference ({big['jobs']} threads vs 1)",
           f"{speedup:.0f}x", f">= {GOAL_SPEEDUP:.0f}x", speedup >= GOAL_SPEEDUP, smoke=smoke)
    figure(f"engine draw*option*day/s per thread (1 thread, {single['draws']:.0e} draws)",
           f"{single['cells_per_second']:.3g}", smoke=smoke)
    figure("engine speed-up over the NumPy reference (1 thread vs 1)",
           f"{single['cells_per_second'] / ref['cells_per_second']:.0f}x", smoke=smoke)
    kernel_share = prof["stages"]["kernel"] / prof["total"]
    figure("share of a block's time in the compiled kernel (1 thread)",
           f"{100 * kernel_share:.0f}%", smoke=smoke)
    if big["draws"] == 1_000_000 and big["options"] * big["days"] >= 4 * 365:
        figure(f"engine seconds, 10^6 draws x {big['options']} options x {big['days']} days",
               f"{big['seconds']:.1f} s", f"<= {GOAL_SECONDS_1E6:.0f} s",
               big["seconds"] <= GOAL_SECONDS_1E6, smoke=smoke)
    figure(f"engine peak memory ({big['draws']:.0e} draws, run_engine keeps every draw)",
           f"{big['peak_memory_gb']:.2f} GB", f"< {GOAL_MEMORY_GB:.0f} GB",
           big["peak_memory_gb"] < GOAL_MEMORY_GB, smoke=smoke)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
