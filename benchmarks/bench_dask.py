"""dask.distributed benchmark (issue 12): throughput, overhead, peak memory, SBC.

Prints one line per measurement:

* ``throughput``: the prior analysis of ``models/kursk_2025.toml`` at ``--draws``
  (default 4x10^6, issue 27) on a LocalCluster of 1 and of 2 worker processes of one thread each
  (cluster start-up excluded; goal: 2 workers at least 1.7x one), ``--repeat`` pairs
  (default 3) run back to back, each pair's speed-up and their median printed;
* ``overhead``: the same analysis at ``--overhead-draws`` (default 10^6) on a 1-worker
  cluster against the in-process engine with one thread (goal: at most 15% slower);
* ``memory``: peak resident memory of the whole process tree (client, scheduler,
  workers; sampled every 0.2 s with psutil) of ``kursk-da analyze --prior-only --out
  big.zarr --store-draws 10000`` at each of ``--memory-draws`` (default 10^6 and 10^7),
  in-process and with ``--workers 2``, its wall time and the load average, and the ratio
  of the largest to the smallest size's peak (goal, issue 27: within 10%: the per-draw
  data are written block by block, so the peak should not grow with the draws);
* ``driver`` (only with ``--driver-memory N``): peak memory of the client-side
  reductions (streaming summary, stored rows) fed N synthetic draws, engine excluded;
* ``sbc`` (only with ``--sbc``): 20 simulation-based-calibration fits with 1 and 2
  workers.

Every part can be skipped (``--skip throughput overhead memory``). On a machine shared
with other jobs the wall times depend on them; the CPU count and load are printed.

Usage: ``python benchmarks/bench_dask.py [--draws N] [--repeat R] [--overhead-draws N]
[--memory-draws N ...] [--skip PART ...] [--sbc] [--smoke]``. ``--smoke``: tiny sizes, one
pair, memory in-process only (seconds plus the clusters' start-up; not judged).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _figures import add_smoke, figure, machine_line

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "models" / "kursk_2025.toml"
GOAL_SPEEDUP = 1.7
GOAL_OVERHEAD = 0.15
GOAL_MEMORY_GROWTH = 1.10
STORE_DRAWS = 10_000
SMOKE = False


def _analyze_seconds(draws: int, client=None, n_jobs: int | None = None) -> float:
    import kursk_da as kd

    t0 = time.perf_counter()
    kd.analyze(SPEC, draws=draws, seed=1, prior_only=True, client=client, n_jobs=n_jobs)
    return time.perf_counter() - t0


def _cluster(n: int):
    from distributed import Client

    from kursk_da.engine._dask import local_cluster

    cl = local_cluster(n, 1)
    client = Client(cl)
    client.run(lambda: __import__("kursk_da.engine._run"))
    return cl, client


def throughput(draws: int, repeat: int = 3) -> None:
    """1 then 2 workers, ``repeat`` times in turn; the speed-up of each pair and their
    median (the machine's speed drifts from minute to minute on a shared host, so a
    pair run back to back is compared, and the median of the pairs is reported)."""
    ratios = []
    for rep in range(repeat):
        secs = {}
        for n in (1, 2):
            cl, client = _cluster(n)
            try:
                _analyze_seconds(4096 * n, client)  # warm the workers (kernels from the cache)
                secs[n] = _analyze_seconds(draws, client)
            finally:
                client.close()
                cl.close()
            print(f"throughput  run={rep + 1} workers={n} draws={draws:.0e} "
                  f"seconds={secs[n]:.1f} draws_per_second={draws / secs[n]:.0f} "
                  f"load={os.getloadavg()[0]:.1f}", flush=True)
        ratios.append(secs[1] / secs[2])
        print(f"throughput  run={rep + 1} speed-up 2 vs 1 workers = {ratios[-1]:.2f}x",
              flush=True)
    med = statistics.median(ratios)
    print(f"throughput  speed-up 2 vs 1 workers, median of {repeat} pairs = {med:.2f}x "
          f"(range {min(ratios):.2f}-{max(ratios):.2f}; goal >= 1.7x)", flush=True)
    figure(f"dask speed-up, 2 vs 1 workers of 1 thread, {draws:.0e} draws (median of "
           f"{repeat})", f"{med:.2f}x", f">= {GOAL_SPEEDUP}x", med >= GOAL_SPEEDUP, smoke=SMOKE)


def overhead(draws: int) -> None:
    _analyze_seconds(4096, n_jobs=1)
    local = _analyze_seconds(draws, n_jobs=1)
    cl, client = _cluster(1)
    try:
        _analyze_seconds(4096, client)
        dist = _analyze_seconds(draws, client)
    finally:
        client.close()
        cl.close()
    print(f"overhead    draws={draws:.0e} in-process(1 thread)={local:.1f}s "
          f"1 worker={dist:.1f}s overhead={100 * (dist / local - 1):+.1f}% (goal <= 15%) "
          f"load={os.getloadavg()[0]:.1f}", flush=True)
    figure(f"dask overhead, 1 worker vs in-process on 1 thread, {draws:.0e} draws",
           f"{100 * (dist / local - 1):+.1f}%", f"<= +{100 * GOAL_OVERHEAD:.0f}%",
           dist / local - 1 <= GOAL_OVERHEAD, smoke=SMOKE)


def peak_tree_rss(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """(peak GB of the process tree's resident memory, wall seconds, exit status)."""
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env)
    root = psutil.Process(proc.pid)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                procs = []
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            peak = max(peak, total)
            done.wait(0.2)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    status = proc.wait()
    done.set()
    th.join()
    return peak / 1024**3, time.perf_counter() - t0, status


def memory(draws_list: list[int], workers_list: tuple[int | None, ...] = (None, 2)) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    peaks: dict[int | None, list[float]] = {w: [] for w in workers_list}
    for draws in draws_list:
        for workers in workers_list:  # in-process, then a local cluster of 2 workers
            with tempfile.TemporaryDirectory() as tmp:
                cmd = [sys.executable, "-m", "kursk_da.cli", "analyze", str(SPEC),
                       "--prior-only", "--draws", str(draws), "--no-progress",
                       "--store-draws", str(STORE_DRAWS),
                       "--out", str(Path(tmp) / "big.zarr")]
                if workers:
                    cmd += ["--workers", str(workers)]
                gb, secs, status = peak_tree_rss(cmd, env)
            load = " ".join(f"{x:.1f}" for x in os.getloadavg())
            where = f"workers={workers}" if workers else "in-process"
            print(f"memory      draws={draws:.0e} {where} peak_rss_tree={gb:.2f} GB "
                  f"seconds={secs:.0f} status={status} load={load} (goal < 8 GB)",
                  flush=True)
            if status:
                raise SystemExit(f"kursk-da analyze failed with status {status}")
            peaks[workers].append(gb)
    for workers, gbs in peaks.items():
        where = f"--workers {workers}" if workers else "in-process"
        growth = gbs[-1] / gbs[0]
        figure(f"peak RSS {draws_list[-1]:.0e} / {draws_list[0]:.0e} draws, {where}, "
               f"--store-draws {STORE_DRAWS}", f"{growth:.2f} ({gbs[0]:.2f} -> {gbs[-1]:.2f} GB)",
               f"<= {GOAL_MEMORY_GROWTH:.2f}", growth <= GOAL_MEMORY_GROWTH, smoke=SMOKE)


def driver_memory(draws: int) -> None:
    """Peak memory of the reductions that grow with the draws (the client side of a run):
    the streaming summary and the stored rows fed with synthetic blocks (no engine)."""
    import resource

    import numpy as np

    from kursk_da.decision._metrics import StreamingSummary
    from kursk_da.engine._run import BLOCK_SIZE, BlockResult, Collector, make_context
    from kursk_da.spec._schema import load_spec

    spec = load_spec(SPEC)
    n_opt, n_days = len(spec.options), spec.n_days
    ctx = make_context(spec, draws, 1, store=1_000_000)
    collect = Collector(ctx)
    stream = StreamingSummary(n_opt, draws, spec.cvar_alpha)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    from kursk_da.engine._run import stored_rows

    for k in range(ctx.n_blocks):
        a = k * BLOCK_SIZE
        m = min(draws, a + BLOCK_SIZE) - a
        v = rng.standard_normal((m, n_opt))
        rows = stored_rows(draws, ctx.store, a, a + m)
        r = BlockResult(k, a, v, np.zeros((n_opt, n_days), dtype=np.int64),
                        np.zeros((n_opt, n_days)), rows,
                        np.zeros((rows.size, len(spec.input_names))),
                        np.zeros((rows.size, n_opt, 7)), np.zeros(0, dtype=np.int64),
                        np.zeros((0, n_opt, n_days, 7)))
        collect(r)
        stream.add(v, a)
    stream.result()
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"driver      draws={draws:.0e} options={n_opt} reductions+stored rows: "
          f"peak_rss={peak:.2f} GB seconds={secs:.0f} (engine tasks excluded)", flush=True)


def sbc(fits: int) -> None:
    from kursk_da.calibration._sbc import run_sbc  # imports PyMC
    from kursk_da.spec._schema import load_spec

    spec = load_spec(SPEC)
    ranks = {}
    for n in (1, 2):
        cl, client = _cluster(n)
        try:
            t0 = time.perf_counter()
            res = run_sbc(spec, fits, 0, client=client)
            secs = time.perf_counter() - t0
        finally:
            client.close()
            cl.close()
        ranks[n] = res.ranks
        print(f"sbc         fits={fits} workers={n} seconds={secs:.0f} "
              f"(each worker compiles the model once; 2 chains x (250 + 250) per fit)",
              flush=True)
    same = ranks[1].equals(ranks[2])
    print(f"sbc         ranks with 1 and 2 workers identical: {same}", flush=True)


def main(argv: list[str] | None = None) -> None:
    global SMOKE
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--draws", type=int, default=4_000_000)
    ap.add_argument("--repeat", type=int, default=3,
                    help="pairs of throughput runs (1 then 2 workers); the median is reported")
    ap.add_argument("--overhead-draws", type=int, default=1_000_000)
    ap.add_argument("--memory-draws", type=int, nargs="*", default=[1_000_000, 10_000_000])
    ap.add_argument("--skip", nargs="*", default=[],
                    choices=["throughput", "overhead", "memory"])
    ap.add_argument("--sbc", action="store_true", help="also time 20 SBC fits (long)")
    ap.add_argument("--driver-memory", type=int, default=None, metavar="DRAWS",
                    help="only measure the client-side reductions at DRAWS synthetic draws")
    ap.add_argument("--sbc-fits", type=int, default=20)
    add_smoke(ap)
    args = ap.parse_args(argv)
    SMOKE = args.smoke
    workers_list: tuple[int | None, ...] = (None, 2)
    if args.smoke:
        args.draws, args.repeat, args.overhead_draws = 16_384, 1, 8192
        args.memory_draws, workers_list = [8192, 16_384], (None,)
    print(f"machine     {machine_line()}", flush=True)
    if args.driver_memory:
        driver_memory(args.driver_memory)
        return
    if "overhead" not in args.skip:
        overhead(args.overhead_draws)
    if "throughput" not in args.skip:
        throughput(args.draws, args.repeat)
    if "memory" not in args.skip:
        memory(args.memory_draws, workers_list)
    if args.sbc:
        sbc(args.sbc_fits)


if __name__ == "__main__":
    main()
