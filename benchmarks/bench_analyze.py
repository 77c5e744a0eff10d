"""End-to-end benchmark: ``kursk-da analyze --prior-only`` against the engine alone; codecs.

Prints:

* ``end-to-end``: the wall time of ``kursk-da analyze models/kursk_2025.toml --prior-only
  --draws N --out FILE`` (a fresh process: start-up, engine, summary, the result set
  written) and of the engine alone on the same draws with the same threads (a fresh
  process; the blocks run and folded, nothing kept: timed from the first block, the
  kernels loaded beforehand), ``--repeat`` pairs back to back, each pair's ratio and
  their median (goal, issue 27: at most 1.3), with the written file's size;
* ``codec``: the per-draw arrays of ``--codec-draws`` draws (``/prior`` inputs,
  ``/decision`` value and attributes, ``/triggers``) written as the writer writes them
  (chunks of 65,536 draws) with each candidate encoding: the file size and the write
  time (median of 3), and whether the result reads back equal.

Usage: ``python benchmarks/bench_analyze.py [--draws 1000000] [--jobs N] [--repeat 3]
[--codec-draws 200000] [--skip end-to-end codec] [--smoke]`` (``--smoke``: 8192 draws,
one pair; the figures are then not judged).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _figures import add_smoke, figure, machine_line

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "models" / "kursk_2025.toml"
GOAL_RATIO = 1.3


def _engine_alone(draws: int, jobs: int | None) -> dict:
    """Seconds of the engine alone (every block run and folded in order, nothing kept)."""
    from kursk_da.engine._run import Collector, make_context, run_engine, stream_engine
    from kursk_da.spec._schema import load_spec

    spec = load_spec(SPEC)
    run_engine(spec, 100, seed=0, n_jobs=1)  # load the kernels outside the timing
    ctx = make_context(spec, draws, 1, store=1)
    t0 = time.perf_counter()
    stream_engine(ctx, [Collector(ctx, keep_draws=False)], n_jobs=jobs)
    return {"seconds": time.perf_counter() - t0,
            "cells": draws * len(spec.options) * (spec.n_days - spec.decision_day)}


def _sub_json(*args: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True)
    if proc.returncode:
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
        raise SystemExit(f"failed: {args}")
    res: dict = json.loads(proc.stdout.strip().splitlines()[-1])
    return res


def end_to_end(draws: int, jobs: int | None, repeat: int, smoke: bool) -> None:
    ratios = []
    for rep in range(repeat):
        eng = _sub_json("--engine-alone", str(draws), *(["--jobs", str(jobs)] if jobs else []))
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "e2e.nc"
            cmd = [sys.executable, "-m", "kursk_da.cli", "analyze", str(SPEC), "--prior-only",
                   "--draws", str(draws), "--seed", "1", "--no-progress", "--out", str(out)]
            if jobs:
                cmd += ["--jobs", str(jobs)]
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if proc.returncode:
                sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
                raise SystemExit(f"kursk-da analyze failed with status {proc.returncode}")
            size = out.stat().st_size
        ratio = wall / eng["seconds"]
        ratios.append(ratio)
        print(f"end-to-end  run={rep + 1} draws={draws:.0e} kursk-da analyze={wall:.1f} s "
              f"engine alone={eng['seconds']:.1f} s ({eng['cells'] / eng['seconds']:.3g} "
              f"cell/s) ratio={ratio:.2f} file={size / 1e6:.0f} MB "
              f"load={os.getloadavg()[0]:.1f}", flush=True)
    med = statistics.median(ratios)
    figure(f"kursk-da analyze --prior-only / engine alone, {draws:.0e} draws (median of "
           f"{repeat})", f"{med:.2f}", f"<= {GOAL_RATIO}", med <= GOAL_RATIO, smoke=smoke)


# --- codecs -------------------------------------------------------------------------

CODECS: dict[str, tuple[str, dict]] = {
    "netCDF gzip 4 + shuffle (before)": ("nc", {"compression": "gzip", "compression_opts": 4,
                                                "shuffle": True}),
    "netCDF gzip 1 + shuffle": ("nc", {"compression": "gzip", "compression_opts": 1,
                                       "shuffle": True}),
    "netCDF lzf + shuffle (h5py only)": ("nc", {"compression": "lzf", "shuffle": True}),
    "netCDF uncompressed": ("nc", {}),
    "Zarr default (zstd)": ("zarr", {}),
    "Zarr uncompressed": ("zarr", {"compressors": None}),
}


def _write(groups: dict, path: Path, kind: str, extra: dict) -> None:
    from kursk_da.io._resultset import DRAW_CHUNK

    first = True
    for g, ds in groups.items():
        enc = {}
        for name, var in ds.data_vars.items():
            chunks = tuple(min(n, DRAW_CHUNK) if d == "draw" else n
                           for d, n in zip(var.dims, var.shape, strict=True))
            enc[name] = ({"chunksizes": chunks, **extra} if kind == "nc"
                         else {"chunks": chunks, **extra})
        if kind == "nc":
            ds.to_netcdf(path, group=g, mode="w" if first else "a", engine="h5netcdf",
                         encoding=enc)
        else:
            ds.to_zarr(path, group=g, mode="w" if first else "a", encoding=enc,
                       consolidated=False, zarr_format=2)
        first = False


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def codecs(draws: int, smoke: bool) -> None:
    import shutil

    import xarray as xr

    from kursk_da.engine._run import run_engine
    from kursk_da.io._resultset import draw_datasets
    from kursk_da.spec._schema import load_spec

    spec = load_spec(SPEC)
    out = run_engine(spec, draws, 1)
    groups = draw_datasets(spec, out, __import__("numpy").arange(draws), posterior=False)
    raw = sum(ds.nbytes for ds in groups.values())
    print(f"codec       {draws:.0e} draws, per-draw arrays {raw / 1e6:.0f} MB in memory",
          flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (kind, extra) in CODECS.items():
            path = Path(tmp) / ("c.nc" if kind == "nc" else "c.zarr")
            times = []
            for _ in range(3):
                if path.exists():
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
                t0 = time.perf_counter()
                _write(groups, path, kind, extra)
                times.append(time.perf_counter() - t0)
            engine = "h5netcdf" if kind == "nc" else "zarr"
            back = xr.open_dataset(path, group="/decision", engine=engine)
            same = bool((back["attributes"].values == groups["/decision"]["attributes"].values)
                        .all())
            back.close()
            sec = statistics.median(times)
            print(f"codec       {name:<36} size={_size(path) / 1e6:7.1f} MB "
                  f"write={sec:6.2f} s ({raw / 1e6 / sec:6.0f} MB/s) equal={same}", flush=True)
            figure(f"write of {draws:.0e} draws' per-draw arrays, {name}",
                   f"{sec:.2f} s, {_size(path) / 1e6:.0f} MB", smoke=smoke)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--draws", type=int, default=1_000_000)
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--codec-draws", type=int, default=200_000)
    ap.add_argument("--skip", nargs="*", default=[], choices=["end-to-end", "codec"])
    ap.add_argument("--engine-alone", type=int, help=argparse.SUPPRESS)
    add_smoke(ap)
    args = ap.parse_args(argv)
    if args.engine_alone:
        print(json.dumps(_engine_alone(args.engine_alone, args.jobs)))
        return 0
    if args.smoke:
        args.draws, args.repeat, args.codec_draws = 8192, 1, 8192
    print(machine_line(), flush=True)
    if "end-to-end" not in args.skip:
        end_to_end(args.draws, args.jobs, args.repeat, args.smoke)
    if "codec" not in args.skip:
        codecs(args.codec_draws, args.smoke)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
