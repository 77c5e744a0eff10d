"""Nothing lost, nothing hung (issue 23): outputs that are inputs, full disks, SIGHUP, a
closed stdout, special files, schedulers that do not answer, bounds refused up front.

Every case goes through the CLI (or the library writer) and checks the status, the one
line on stderr, and that nothing was damaged (inputs byte-identical, no temporary left).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from kursk_da.cli import main
from kursk_da.io import save_result_set
from kursk_da.io._atomic import TEMP_MARK

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--prior-only", "--draws", "200", "--no-progress"]


def _no_temp(directory: Path) -> bool:
    return not [p for p in directory.rglob("*") if f".{TEMP_MARK}-" in p.name]


def _err(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return err


@pytest.fixture
def models(tmp_path):
    """A copy of models/ (the spec and the CSV files it reads) in tmp_path."""
    shutil.copytree(ROOT / "models", tmp_path / "models",
                    ignore=shutil.ignore_patterns("*.py", "README.md"))
    return tmp_path / "models"


@pytest.fixture(scope="module")
def result_file(small_tree, tmp_path_factory):
    return save_result_set(small_tree, tmp_path_factory.mktemp("io_safety") / "r.nc")


def _digest(paths) -> dict[str, bytes]:
    return {str(p): Path(p).read_bytes() for p in paths}


# ---- 1. an output that is an input -------------------------------------------------------

@pytest.mark.parametrize("target", ["spec", "claims", "daily", "symlink", "hardlink"])
def test_analyze_refuses_an_output_that_is_an_input(target, models, tmp_path, capsys):
    spec = models / "kursk_2025.toml"
    claims = models / "data" / "kursk_public_figures_2024.csv"
    daily = models / "data" / "isw_kursk_russian_advances_daily.csv"
    before = _digest([spec, claims, daily])
    out = {"spec": spec, "claims": claims, "daily": daily,
           "symlink": tmp_path / "link.nc", "hardlink": tmp_path / "hard.nc"}[target]
    if target == "symlink":
        out.symlink_to(daily)
    if target == "hardlink":
        os.link(spec, out)
    assert main(["analyze", str(spec), *FAST, "--out", str(out)]) == 2
    err = _err(capsys)
    assert err.startswith("kursk-da: error: --out:") and "is an input" in err, err
    assert err.count("\n") == 1
    assert _digest([spec, claims, daily]) == before
    assert _no_temp(tmp_path)


def test_summary_and_voi_refuse_their_source_as_out(result_file, tmp_path, capsys):
    before = result_file.read_bytes()
    assert main(["summary", str(result_file), "--format", "csv", "--out",
                 str(result_file)]) == 2
    assert "--out" in _err(capsys)
    link = tmp_path / "same.nc"
    link.symlink_to(result_file)
    assert main(["voi", str(result_file), "--draws", "200", "--out", str(link)]) == 2
    assert "is an input" in _err(capsys)
    assert result_file.read_bytes() == before


def test_report_refuses_a_directory_holding_its_source(small_tree, tmp_path, capsys,
                                                      monkeypatch):
    rep = tmp_path / "rep"
    rep.mkdir()
    src = save_result_set(small_tree, rep / "r.nc")
    # a manifest that claims the source (on a6d1e31 the report replaced the directory)
    (rep / ".kursk-da-report.json").write_text('{"files": ["r.nc"]}')
    before = src.read_bytes()
    monkeypatch.chdir(ROOT)
    assert main(["report", str(src), "--out", str(rep)]) == 2
    assert "holds an input" in _err(capsys)
    assert src.read_bytes() == before
