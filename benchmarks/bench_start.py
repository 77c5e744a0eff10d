"""Benchmark of the start-up cost: ``--help``, and cold and warm wall times of the CLI.

Usage::

    .venv/bin/python benchmarks/bench_start.py [--spec models/kursk_2025.toml]
        [--skip-calibrated] [--keep-cache DIR] [--repeat 5] [--smoke]

First the wall time of ``kursk-da --help`` and of an argument error (``kursk-da analyze
SPEC --draws 0``, exit 2), each the median of ``--repeat`` fresh processes (goal, issue
27: at most 0.5 s; done at 1 s). Then it runs ``kursk-da analyze SPEC --prior-only --draws
20000`` twice, then the calibrated ``kursk-da analyze SPEC`` twice, each in a fresh
subprocess (``python -m kursk_da.cli``) with a fresh cache: ``NUMBA_CACHE_DIR`` and
PyTensor's ``compiledir`` point into a new temporary directory, so the first run of each
pair is cold (compiles everything) and the second warm (loads the numba kernels, the
PyTensor graph and nutpie's numba model from the disk caches). Prints the wall times
and their ratio.

Goals: prior-only warm <= 1/3 of cold; calibrated warm <= 60% of cold (issue 10, item 9).
``--smoke``: 3 repeats, the prior-only pair only, with 2048 draws and the usual caches (so
neither run is cold); the figures are then not judged.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _figures import add_smoke, figure, machine_line

ROOT = Path(__file__).resolve().parents[1]
GOALS = {"prior-only": 1.0 / 3.0, "calibrated": 0.6}
GOAL_HELP = 0.5


def _wall(args: list[str], status: int) -> float:
    """Wall time (s) of ``python -m kursk_da.cli ARGS`` in a fresh process."""
    cmd = [sys.executable, "-m", "kursk_da.cli", *args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != status:
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-2000:])
        raise SystemExit(f"status {proc.returncode} (expected {status}): {' '.join(cmd)}")
    return wall


def start_up(spec: str, repeat: int, smoke: bool) -> bool:
    """Median wall times of ``--help`` and of an argument error; True when within the goal."""
    ok = True
    for name, args, status in (("kursk-da --help", ["--help"], 0),
                               ("kursk-da analyze SPEC --draws 0 (argument error)",
                                ["analyze", spec, "--draws", "0", "--out", "x.nc"], 2)):
        times = [_wall(args, status) for _ in range(repeat)]
        med = statistics.median(times)
        print(f"{name}: median {med:.2f} s over {repeat} runs "
              f"({', '.join(f'{t:.2f}' for t in times)})", flush=True)
        figure(f"wall time of {name}", f"{med:.2f} s", f"<= {GOAL_HELP} s", med <= GOAL_HELP,
               smoke=smoke)
        ok &= med <= GOAL_HELP
    return ok


def _run(args: list[str], env: dict[str, str], out: Path) -> float:
    """Wall time (s) of ``python -m kursk_da.cli ARGS --out OUT`` in a fresh process."""
    cmd = [sys.executable, "-m", "kursk_da.cli", *args, "--out", str(out)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 3):  # 3: ran but did not converge (still timed)
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
        raise SystemExit(f"command failed with status {proc.returncode}: {' '.join(cmd)}")
    return wall


def _pair(name: str, args: list[str], cache: Path, smoke: bool = False) -> tuple[float, float]:
    env = dict(os.environ)
    if not smoke:  # a fresh cache: the first run is cold
        env["NUMBA_CACHE_DIR"] = str(cache / "numba")
        env["PYTENSOR_FLAGS"] = f"base_compiledir={cache / 'pytensor'}"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep)
    cold = _run(args, env, cache / f"{name}-cold.nc")
    warm = _run(args, env, cache / f"{name}-warm.nc")
    ratio = warm / cold
    verdict = "ok" if ratio <= GOALS[name] else "MISSED"
    print(f"{name:>11}: cold {cold:7.1f} s   warm {warm:7.1f} s   warm/cold {ratio:5.2f} "
          f"(goal <= {GOALS[name]:.2f}: {verdict})", flush=True)
    figure(f"kursk-da analyze {name}: warm / cold wall time", f"{ratio:.2f}",
           f"<= {GOALS[name]:.2f}", ratio <= GOALS[name], smoke=smoke)
    return cold, warm


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit status 0 when every goal is met."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--spec", default=str(ROOT / "models" / "kursk_2025.toml"))
    p.add_argument("--skip-calibrated", action="store_true",
                   help="only the prior-only pair (the calibrated pair takes minutes)")
    p.add_argument("--keep-cache", default=None,
                   help="use (and keep) this directory instead of a temporary one")
    p.add_argument("--repeat", type=int, default=5,
                   help="fresh processes per start-up figure (median)")
    add_smoke(p)
    a = p.parse_args(argv)
    print(machine_line(), flush=True)
    if a.smoke:
        a.repeat, a.skip_calibrated = 3, True
    ok = start_up(a.spec, a.repeat, a.smoke)
    draws = "2048" if a.smoke else "20000"
    with tempfile.TemporaryDirectory(prefix="kursk-da-bench-start-") as tmp:
        root = Path(a.keep_cache) if a.keep_cache else Path(tmp)
        pairs = [("prior-only", ["analyze", a.spec, "--prior-only", "--draws", draws])]
        if not a.skip_calibrated:
            pairs.append(("calibrated", ["analyze", a.spec]))
        for name, args in pairs:
            cache = root / name
            cache.mkdir(parents=True, exist_ok=True)
            cold, warm = _pair(name, args, cache, a.smoke)
            ok &= warm / cold <= GOALS[name]
    return 0 if ok or a.smoke else 1


if __name__ == "__main__":
    raise SystemExit(main())
