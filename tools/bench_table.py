"""``make bench``: run every benchmark at full size and print one table of their figures.

Runs each script of ``benchmarks/`` (helpers starting with ``_`` excepted; in name order,
or those given) with its default (full) sizes in a subprocess, echoes its output, and
gathers the lines ``figure | name | value | goal | verdict`` (``benchmarks/_figures.py``)
into a Markdown table: benchmark, figure, value, goal, pass/fail. The table's columns are
described in ``docs/benchmarks.md``. Exit status 1 when a benchmark fails to run (a goal
missed is a ``FAIL`` row, not an error).

Usage: ``python tools/bench_table.py [SCRIPT ...] [--skip SCRIPT ...] [--out FILE]``
(``--smoke`` passes ``--smoke`` to every script).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "figure |"


def _scripts(names: list[str], skip: list[str]) -> list[Path]:
    found = sorted(p for p in (ROOT / "benchmarks").glob("*.py") if not p.name.startswith("_"))
    if names:
        found = [p for p in found if p.name in names or p.stem in names]
    return [p for p in found if p.name not in skip and p.stem not in skip]


def run(script: Path, extra: list[str]) -> tuple[int, list[list[str]], float]:
    """Run one benchmark, echoing its output; (status, figure rows, seconds)."""
    print(f"\n=== {script.name} {' '.join(extra)}", flush=True)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(script), *extra], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE)
    rows = []
    assert proc.stdout is not None
    for line in proc.stdout:
        print(line, end="", flush=True)
        if line.startswith(PREFIX):
            rows.append([f.strip() for f in line[len(PREFIX):].split("|")])
    status = proc.wait()
    return status, rows, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("scripts", nargs="*", help="benchmarks to run (default: all)")
    ap.add_argument("--skip", nargs="*", default=[], help="benchmarks not to run")
    ap.add_argument("--smoke", action="store_true", help="pass --smoke to every benchmark")
    ap.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = ap.parse_args(argv)
    table = ["| benchmark | figure | value | goal | pass/fail |", "|---|---|---|---|---|"]
    failed = []
    for script in _scripts(args.scripts, args.skip):
        status, rows, secs = run(script, ["--smoke"] if args.smoke else [])
        if status:
            failed.append(script.name)
            table.append(f"| {script.name} | (did not complete: exit status {status}) | | | "
                         "FAIL |")
        for name, value, goal, verdict in (r if len(r) == 4 else [*r, "", "", ""][:4]
                                           for r in rows):
            table.append(f"| {script.name} | {name} | {value} | {goal} | {verdict} |")
        print(f"=== {script.name}: {secs:.0f} s, exit status {status}", flush=True)
    text = "\n".join(table)
    print("\n" + text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    if failed:
        print(f"benchmarks that did not complete: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
