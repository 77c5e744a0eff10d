"""Start-up: ``kursk-da --help`` and argument errors import none of the heavy libraries.

Issue 27: ``kursk-da --help`` took 2.6 s, nearly all of it importing xarray, numba, SciPy,
pandas and PyMC through the sub-commands' modules. The budget is held by what is imported
(not by a wall clock, which depends on the machine): in a fresh interpreter, ``-X
importtime`` of ``import kursk_da.cli`` lists none of the heavy packages, and neither
``--help`` of the command and of every sub-command nor an argument error imports them.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("numba", "pymc", "pytensor", "xarray", "dask", "distributed", "matplotlib", "scipy",
         "pandas", "sklearn", "arviz", "h5py", "h5netcdf", "netCDF4", "zarr", "nutpie",
         "numpy", "tqdm", "llvmlite")


def _python(code: str, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *flags, "-c", code], capture_output=True,
                          text=True, timeout=300)


def test_import_of_the_cli_imports_no_heavy_package():
    proc = _python("import kursk_da.cli; kursk_da.cli.build_parser()", "-X", "importtime")
    assert proc.returncode == 0, proc.stderr[-3000:]
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:") and "|" in line}
    assert "kursk_da.cli._analyze" in imported  # the sub-commands were registered
    top = {name.split(".")[0] for name in imported}
    assert not top & set(HEAVY), sorted(top & set(HEAVY))


CHECK = """
import contextlib, io, json, sys
from kursk_da.cli import build_parser, main
statuses = {}
commands = build_parser()._subparsers._group_actions[0].choices
for argv in [["--help"], *([c, "--help"] for c in commands),
             ["analyze", "models/none.toml", "--draws", "0", "--out", "x.nc"],
             ["voi", "x.nc", "--no-such-option"], ["--version"]]:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            status = main(argv)
        except SystemExit as exc:
            status = exc.code
    statuses[" ".join(argv)] = status
print(json.dumps({"statuses": statuses, "modules": sorted(sys.modules)}))
"""


def test_help_and_argument_errors_import_no_heavy_package(tmp_path):
    proc = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    statuses = res["statuses"]
    assert statuses["--help"] == 0 and statuses["analyze --help"] == 0
    assert len(statuses) > 10  # every sub-command's --help ran
    assert statuses["analyze models/none.toml --draws 0 --out x.nc"] == 2
    assert statuses["voi x.nc --no-such-option"] == 2
    top = {name.split(".")[0] for name in res["modules"]}
    assert not top & set(HEAVY), sorted(top & set(HEAVY))
    assert not list(tmp_path.iterdir())  # nothing written
