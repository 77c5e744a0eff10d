"""Outputs checked before computing, signals and temp files, unreadable stored files (issue 10).

Every case goes through the CLI and checks the status, the message, and that nothing was
written or damaged (pre-existing files stay byte-identical).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kursk_da.cli import main
from kursk_da.errors import ArgumentError, Interrupted, ResultFileError
from kursk_da.io import load_result_set, save_result_set
from kursk_da.io._atomic import TEMP_MARK
from kursk_da.report import MANIFEST_NAME, MARKDOWN_NAME, write_report
from kursk_da.validation import MAX_SEED, check_output_dir, check_output_file, check_seed

ROOT = Path(__file__).resolve().parents[1]
SPEC = str(ROOT / "models" / "kursk_2025.toml")
FAST = ["--prior-only", "--draws", "200", "--no-progress"]
SMALL = ["--draws", "200", "--no-tornado", "--no-sobol", "--no-scenarios"]


def snapshot(directory: Path) -> dict[str, bytes | None]:
    """Every entry under ``directory``: name -> bytes (None for a directory)."""
    return {str(p.relative_to(directory)): (None if p.is_dir() else p.read_bytes())
            for p in sorted(directory.rglob("*"))}


def no_temp_files(directory: Path) -> bool:
    marks = (f".{TEMP_MARK}-tmp-", f".{TEMP_MARK}-old-")
    return not [p for p in directory.rglob("*") if any(m in p.name for m in marks)]


@pytest.fixture
def quick_report(monkeypatch):
    """Reports of two sections only: these tests check what lands on disk (atomic
    replacement, foreign files, signals, temporaries), not the figures, which
    tests/test_report.py renders in full."""
    import kursk_da.report._writer as writer

    build = writer.build_document
    monkeypatch.setattr(writer, "build_document",
                        lambda tree, sections=None: build(tree, ["brief", "assumptions"]))


@pytest.fixture(scope="module")
def result_file(small_tree, tmp_path_factory):
    return save_result_set(small_tree, tmp_path_factory.mktemp("outputs") / "r.nc")


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


# ---- 6. output paths checked before computing ------------------------------------------------

def _commands(src: Path, out: str) -> dict[str, list[str]]:
    return {
        "analyze": ["analyze", SPEC, *FAST, "--out", out],
        "voi": ["voi", str(src), "--out", out],
        "sensitivity": ["sensitivity", str(src), *SMALL, "--out", out],
    }


@pytest.mark.parametrize("command", ["analyze", "voi", "sensitivity"])
def test_out_an_existing_directory_is_refused(command, result_file, tmp_path, capsys):
    d = tmp_path / "dir"
    d.mkdir()
    (d / "keep.txt").write_text("mine")
    before = snapshot(tmp_path)
    t0 = time.perf_counter()
    assert main(_commands(result_file, str(d))[command]) == 2
    err = _error(capsys)
    assert "--out" in err and "is a directory" in err
    assert snapshot(tmp_path) == before
    assert time.perf_counter() - t0 < 30  # refused before the computation


@pytest.mark.parametrize("command", ["analyze", "voi", "sensitivity"])
def test_out_a_character_device_is_never_replaced(command, result_file, capsys):
    assert Path("/dev/null").is_char_device()
    assert main(_commands(result_file, "/dev/null")[command]) == 2
    err = _error(capsys)
    assert "--out" in err and "character device" in err
    assert Path("/dev/null").is_char_device()


def test_out_a_fifo_or_socket_is_refused(tmp_path, capsys):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert main(["analyze", SPEC, *FAST, "--out", str(fifo)]) == 2
    assert "fifo" in _error(capsys)
    sock_path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        assert main(["analyze", SPEC, *FAST, "--out", str(sock_path)]) == 2
    assert "socket" in _error(capsys)
    assert fifo.is_fifo() and sock_path.is_socket()


def test_out_under_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "f").write_bytes(b"data")
    before = snapshot(tmp_path)
    assert main(["analyze", SPEC, *FAST, "--out", str(tmp_path / "f" / "r.nc")]) == 2
    err = _error(capsys)
    assert "--out" in err and "not a directory" in err
    assert snapshot(tmp_path) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to a read-only directory")
def test_out_in_a_read_only_directory_is_refused(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert main(["analyze", SPEC, *FAST, "--out", str(ro / "new" / "r.nc")]) == 2
        err = _error(capsys)
        assert "--out" in err and "not writable" in err
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


def test_read_only_filesystem_is_refused_even_for_root(capsys):
    if os.access("/proc/1", os.W_OK) or not Path("/proc/1").is_dir():
        pytest.skip("no read-only directory available")
    assert main(["analyze", SPEC, *FAST, "--out", "/proc/1/r.nc"]) == 2
    assert "not writable" in _error(capsys)


def test_out_missing_directories_are_created(tmp_path, capsys):
    out = tmp_path / "a" / "b" / "r.nc"
    assert main(["analyze", SPEC, *FAST, "--out", str(out)]) == 0
    assert load_result_set(out).attrs["draws"] == 200
    assert no_temp_files(tmp_path)


def test_plots_a_file_is_refused(result_file, tmp_path, capsys):
    f = tmp_path / "plots.png"
    f.write_bytes(b"png")
    before = snapshot(tmp_path)
    assert main(["sensitivity", str(result_file), *SMALL, "--plots", str(f)]) == 2
    err = _error(capsys)
    assert "--plots" in err and "expected a directory" in err
    assert snapshot(tmp_path) == before


def test_plots_a_character_device_is_refused(result_file, capsys):
    assert main(["sensitivity", str(result_file), *SMALL, "--plots", "/dev/null"]) == 2
    assert "--plots" in _error(capsys)


def test_library_writers_check_their_paths(small_tree, tmp_path):
    with pytest.raises(ArgumentError, match="path: '/dev/null' is a character device"):
        save_result_set(small_tree, "/dev/null")
    with pytest.raises(ArgumentError, match="is a directory"):
        save_result_set(small_tree, tmp_path)
    (tmp_path / "f").write_text("x")
    with pytest.raises(ResultFileError, match="out_dir: .* is a file; expected a directory"):
        write_report(small_tree, tmp_path / "f", ["run"])
    assert Path("/dev/null").is_char_device() and (tmp_path / "f").read_text() == "x"


def test_validation_path_functions(tmp_path):
    assert check_output_file(tmp_path / "x" / "y.nc", "out") == tmp_path / "x" / "y.nc"
    assert check_output_dir(tmp_path / "new", "plots") == tmp_path / "new"
    assert not (tmp_path / "x").exists() and not (tmp_path / "new").exists()  # nothing created
    with pytest.raises(ArgumentError, match="^out: expected a file path"):
        check_output_file("", "out")
    link = tmp_path / "dangling"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(ArgumentError, match="broken symbolic link"):
        check_output_file(link, "out")


# ---- report --out ---------------------------------------------------------------------------

def test_report_refuses_a_non_report_directory_and_deletes_nothing(result_file, tmp_path, capsys):
    d = tmp_path / "work"
    d.mkdir()
    data = d / "r.nc"
    data.write_bytes(result_file.read_bytes())  # the input result set inside --out
    (d / "notes.txt").write_text("my notes")
    before = snapshot(tmp_path)
    assert main(["report", str(data), "--out", str(d)]) == 2
    err = _error(capsys)
    assert "--out" in err and "holds an input" in err  # issue 23: checked first
    assert snapshot(tmp_path) == before


def test_report_out_dot_refused_when_not_a_report(result_file, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "r.nc"
    data.write_bytes(result_file.read_bytes())
    before = snapshot(tmp_path)
    assert main(["report", "r.nc", "--out", "."]) == 2
    err = _error(capsys)
    assert "--out" in err and "'.'" in err
    assert snapshot(tmp_path) == before


def test_report_out_a_file_or_device_is_refused(result_file, tmp_path, capsys):
    f = tmp_path / "report.html"
    f.write_text("old")
    assert main(["report", str(result_file), "--out", str(f)]) == 2
    assert "expected a directory" in _error(capsys)
    assert f.read_text() == "old"
    assert main(["report", str(result_file), "--out", "/dev/null"]) == 2
    assert "character device" in _error(capsys)
    assert Path("/dev/null").is_char_device()


def test_report_replaces_a_previous_report_and_keeps_foreign_files(result_file, tmp_path, capsys,
                                                                   quick_report):
    out = tmp_path / "rep"
    assert main(["report", str(result_file), "--out", str(out)]) == 0
    manifest = (out / MANIFEST_NAME).read_text()
    assert "report.html" in manifest and MARKDOWN_NAME in manifest
    # an empty directory and a previous report are accepted
    assert main(["report", str(result_file), "--out", str(out)]) == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", str(result_file), "--out", str(empty)]) == 0
    # a previous report with a file of the user's is not replaced
    (out / "mine.txt").write_text("keep")
    before = snapshot(tmp_path)
    assert main(["report", str(result_file), "--out", str(out)]) == 2
    err = _error(capsys)
    assert "mine.txt" in err and "did not write" in err
    assert snapshot(tmp_path) == before
    assert no_temp_files(tmp_path)


def test_report_markdown_escapes_spec_strings(small_tree, tmp_path):
    import json

    tree = small_tree.copy()
    raw = json.loads(tree.attrs["spec_json"])
    evil = "<script>alert('x')</script> [click](javascript:alert(1))"
    raw.setdefault("meta", {})["description"] = evil
    first = next(iter(raw["parameters"]))
    raw["parameters"][first]["source"] = "<img src=x onerror=alert(1)> | cell"
    tree.attrs["spec_json"] = json.dumps(raw)
    html_file = write_report(tree, tmp_path / "rep", ["assumptions"])
    md = (html_file.parent / MARKDOWN_NAME).read_text(encoding="utf-8")
    html = html_file.read_text(encoding="utf-8")
    for text in (md, html):
        assert "<script>alert" not in text and "<img src=x" not in text
    assert "&lt;script&gt;" in md and "&lt;img" in md
    assert "\\[click\\](javascript:" in md  # brackets escaped: no link
    assert not re.search(r"(?<!\\)\]\(javascript:", md)


# ---- seeds ----------------------------------------------------------------------------------

def test_seed_up_to_2_63_minus_1_is_stored_losslessly(tmp_path, capsys):
    out = tmp_path / "r.nc"
    assert main(["analyze", SPEC, *FAST, "--seed", str(MAX_SEED), "--out", str(out)]) == 0
    assert int(load_result_set(out).attrs["seed"]) == MAX_SEED
    assert main(["summary", str(out)]) == 0
    assert str(MAX_SEED) in capsys.readouterr().out


@pytest.mark.parametrize("seed", [2**63, 2**64, -1])
def test_seed_out_of_range_refused_before_computing(seed, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["analyze", SPEC, *FAST, "--seed", str(seed), "--out", str(tmp_path / "r.nc")])
    assert exc.value.code == 2
    err = _error(capsys)
    assert "--seed" in err and str(MAX_SEED) in err
    assert list(tmp_path.iterdir()) == []


def test_seed_checked_in_the_library(spec_2025, small_tree, tmp_path):
    import kursk_da as kd
    from kursk_da.errors import SpecError

    assert check_seed(MAX_SEED) == MAX_SEED
    with pytest.raises(ArgumentError, match="seed"):
        check_seed(2**63)
    with pytest.raises(SpecError, match="seed"):
        kd.analyze(spec_2025, draws=10, seed=2**64, prior_only=True)
    tree = small_tree.copy()
    tree.attrs["seed"] = 2**64
    with pytest.raises(ArgumentError, match="seed"):
        save_result_set(tree, tmp_path / "r.nc")
    assert list(tmp_path.iterdir()) == []


# ---- 8. unreadable stored files -------------------------------------------------------------

def _stored_variant(small_tree, tmp_path, **attrs) -> Path:
    tree = small_tree.copy()
    tree.attrs.update(attrs)
    path = tmp_path / "bad.nc"
    tree.to_netcdf(path, engine="h5netcdf")
    return path


def _every_command(src: Path, tmp_path: Path) -> list[list[str]]:
    return [["summary", str(src)],
            ["voi", str(src), "--out", str(tmp_path / "v.nc")],
            ["sensitivity", str(src), *SMALL, "--out", str(tmp_path / "s.nc")],
            ["report", str(src), "--out", str(tmp_path / "rep")]]


@pytest.mark.parametrize("schema", ["99", "5.0"])
def test_unknown_schema_refused_by_every_command(schema, small_tree, tmp_path, capsys):
    src = _stored_variant(small_tree, tmp_path, result_schema=schema)
    before = snapshot(tmp_path)
    for argv in _every_command(src, tmp_path):
        assert main(argv) == 2, argv
        err = _error(capsys)
        assert f"result_schema {schema!r}" in err and "supported: 1, 2, 3, 4" in err, argv
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("text", ['{"name": "x", ', "[1, 2]", "not json"])
def test_corrupt_spec_json_refused_by_every_command(text, small_tree, tmp_path, capsys):
    src = _stored_variant(small_tree, tmp_path, spec_json=text)
    before = snapshot(tmp_path)
    for argv in _every_command(src, tmp_path):
        assert main(argv) == 2, argv
        err = _error(capsys)
        assert "spec_json" in err and "bad.nc" in err, argv
    assert snapshot(tmp_path) == before


# ---- 7. signals and temporary files ---------------------------------------------------------

@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_interrupt_during_the_write_removes_the_temp_file(signum, tmp_path, monkeypatch,
                                                          capsys):
    out = tmp_path / "r.nc"
    out.write_bytes(b"previous result")

    from kursk_da.io._writer import ResultSetWriter

    real_finish = ResultSetWriter.finish

    def killed(self, tree):
        # the per-draw data are in the temporary file beside the target (block by block);
        # the signal arrives while the summary groups are being written
        assert self.tmp is not None and self.tmp.exists() and self.tmp.parent == tmp_path
        with open(self.tmp, "ab") as fh:
            fh.write(b"partial")
        raise Interrupted(signum)

    monkeypatch.setattr(ResultSetWriter, "finish", killed)
    # -q: the stage lines are silenced, so the interruption is the only line on stderr
    assert main(["-q", "analyze", SPEC, *FAST, "--out", str(out)]) == 128 + signum
    monkeypatch.setattr(ResultSetWriter, "finish", real_finish)
    err = _error(capsys)
    assert err.count("\n") == 1 and signal.Signals(signum).name in err
    assert out.read_bytes() == b"previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.nc"]


def test_interrupt_during_the_report_write_keeps_the_previous_report(
        result_file, tmp_path, monkeypatch, capsys, quick_report):
    import kursk_da.report._writer as writer

    out = tmp_path / "rep"
    assert main(["report", str(result_file), "--out", str(out)]) == 0
    before = snapshot(tmp_path)

    def killed(doc):
        raise Interrupted(signal.SIGTERM)

    monkeypatch.setattr(writer, "render_markdown", killed)
    assert main(["report", str(result_file), "--out", str(out)]) == 143
    _error(capsys)
    assert snapshot(tmp_path) == before


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temp_files_are_removed_on_the_next_write(tmp_path, capsys, quick_report):
    dead = _dead_pid()
    stale = tmp_path / f".r.nc.{TEMP_MARK}-tmp-{dead}-0badcafe"
    stale.write_bytes(b"left by SIGKILL")
    live = tmp_path / f".r.nc.{TEMP_MARK}-tmp-{os.getppid()}-0badcafe"  # alive: kept
    live.write_bytes(b"a write in progress")
    other = tmp_path / f".other.nc.{TEMP_MARK}-tmp-{dead}-0badcafe"  # another target: kept
    other.write_bytes(b"not ours to clean now")
    assert main(["analyze", SPEC, *FAST, "--out", str(tmp_path / "r.nc")]) == 0
    assert not stale.exists() and live.exists() and other.exists()
    stale_dir = tmp_path / f".rep.{TEMP_MARK}-tmp-{dead}-0badcafe"
    stale_dir.mkdir()
    (stale_dir / "report.html").write_text("half")
    assert main(["report", str(tmp_path / "r.nc"), "--out", str(tmp_path / "rep")]) == 0
    assert not stale_dir.exists()


def _handlers_installed(pid: int) -> bool:
    """True once the process catches SIGTERM (``SigCgt`` in /proc): kursk-da's handler."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = int(next(line.split()[1] for line in text.splitlines()
                      if line.startswith("SigCgt:")), 16)
    return bool(caught & (1 << (signal.SIGTERM - 1)))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_ends_with_one_line_and_leaves_nothing(signum, tmp_path):
    out = tmp_path / "r.nc"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kursk_da.cli", "-q", "analyze", SPEC, "--prior-only", "--draws",
         "2000000", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 120
        while not _handlers_installed(proc.pid) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        time.sleep(2.0)  # into the imports, the compile or the computation
        assert proc.poll() is None, "finished before the signal"
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signum, err
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("kursk-da: interrupted by"), err
    assert list(tmp_path.iterdir()) == []


# ---- 8. a sampler that swallows the interrupt -----------------------------------------------

def test_short_sample_is_refused():
    # nutpie and PyMC catch KeyboardInterrupt (so kursk-da's Interrupted) and return the
    # draws they have: a calibration never goes on with them
    import arviz as az
    import numpy as np

    from kursk_da.calibration._sampling import _complete
    from kursk_da.errors import SamplingIncomplete

    full = az.from_dict(posterior={"theta": np.zeros((4, 30, 2))})
    assert _complete(full, 30, 4) is full
    for idata, got in [(az.from_dict(posterior={"theta": np.zeros((4, 7, 2))}), "4 chains x 7"),
                       (az.from_dict(posterior={"theta": np.zeros((3, 30, 2))}), "3 chains x 30"),
                       (az.InferenceData(), "0 chains x 0")]:
        with pytest.raises(SamplingIncomplete, match=f"returned {got} draws, 4 x 30"):
            _complete(idata, 30, 4)


@pytest.mark.parametrize(("error", "status"), [(RuntimeError("sampler stopped"), 1),
                                               (ArgumentError("bad"), 2)])
def test_failure_after_a_signal_is_the_interrupt(error, status, capsys):
    import argparse

    from kursk_da.cli import _status
    from kursk_da.cli._common import run_handler

    def handler(args):
        raise error

    # without a signal: a bug (1) or bad input (2)
    assert run_handler(handler, argparse.Namespace()) == status
    _status.PENDING.append(signal.SIGTERM)
    try:
        with pytest.raises(Interrupted) as info:
            run_handler(handler, argparse.Namespace())
    finally:
        _status.PENDING.clear()
    assert info.value.signum == signal.SIGTERM and info.value.__cause__ is error
    capsys.readouterr()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_sigterm_during_sampling_ends_with_one_line_and_leaves_nothing(tmp_path):
    # the real sampler (nutpie) catches the interrupt and returns its draws so far
    out = tmp_path / "r.nc"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kursk_da.cli", "analyze", SPEC, "--draws", "2000",
         "--no-progress", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    lines = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # the stage lines: wait for the sampling to start
            lines.append(line)
            if "sampling" in line:
                break
        time.sleep(3.0)
        assert proc.poll() is None, "".join(lines)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, "".join(lines) + err
    assert "Traceback" not in err and "internal error" not in err, err
    assert err.strip().splitlines()[-1].startswith("kursk-da: interrupted by SIGTERM"), err
    assert list(tmp_path.iterdir()) == []
