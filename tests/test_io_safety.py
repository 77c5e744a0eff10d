"""Nothing lost, nothing hung (issue 23): outputs that are inputs, full disks, SIGHUP, a
closed stdout, special files, schedulers that do not answer, bounds refused up front.

Every case goes through the CLI (or the library writer) and checks the status, the one
line on stderr, and that nothing was damaged (inputs byte-identical, no temporary left).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
    assert main(["summary", str(result_file), "--format", "csv", "--out", str(link)]) == 2
    assert "is an input" in _err(capsys)
    assert result_file.read_bytes() == before


def test_a_result_set_updated_in_place_but_never_over_another_input(tmp_path, capsys):
    """voi, sensitivity, policy... add groups to their source: --out may be the source
    (make report does so), never the spec of a source spec or an observations file."""
    import argparse

    from kursk_da.cli._common import check_io_paths
    from kursk_da.errors import ArgumentError

    src = tmp_path / "run.nc"
    src.write_bytes(b"x")
    for command in ("voi", "sensitivity", "policy", "hindcast", "variants"):
        check_io_paths(argparse.Namespace(command=command, source=src, out=src, plots=None))
    with pytest.raises(ArgumentError, match="--out"):
        check_io_paths(argparse.Namespace(command="summary", source=src, out=src, plots=None))
    spec = tmp_path / "s.toml"
    spec.write_text("")
    with pytest.raises(ArgumentError, match="--out"):
        check_io_paths(argparse.Namespace(command="voi", source=spec, out=spec, plots=None))


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


# ---- 2. a full disk, a quota, an I/O error ------------------------------------------------

@pytest.fixture
def small_fs(tmp_path):
    """``mount(size)``: a tmpfs of ``size`` at tmp_path/fs (root only; unmounted after)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    mnt = tmp_path / "fs"
    mnt.mkdir()
    mounted = []

    def mount(size: str) -> Path:
        res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)],
                             capture_output=True, text=True)
        if res.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
        mounted.append(mnt)
        return mnt

    yield mount
    for m in mounted:
        subprocess.run(["umount", "-l", str(m)], check=False)


def _fill(directory: Path, leave: int) -> None:
    """Fill the file system of ``directory`` up to ``leave`` bytes free."""
    st = os.statvfs(directory)
    free = st.f_bavail * st.f_frsize
    with open(directory / "filler", "wb") as fh:
        fh.truncate(0)
        chunk = b"\0" * 2**16
        left = max(0, free - leave)
        while left > 0:
            try:
                left -= fh.write(chunk[:min(left, len(chunk))])
            except OSError:
                break


def _one_line(err: str, path: Path) -> None:
    lines = [line for line in err.splitlines() if not line.startswith("[")]  # stage lines
    assert len(lines) == 1, err
    assert lines[0].startswith("kursk-da: error: cannot write") and str(path) in lines[0], err
    assert "no space left on device" in lines[0], err


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_full_disk_analyze_keeps_the_previous_result(suffix, small_fs, small_tree, tmp_path,
                                                     capsys):
    fs = small_fs("24m")
    out = fs / f"r{suffix}"
    save_result_set(small_tree, out)  # the previous result
    before = {str(p): p.read_bytes() for p in sorted(fs.rglob("*")) if p.is_file()}
    _fill(fs, 3 * 2**20)
    status = main(["analyze", str(ROOT / "models" / "kursk_2025.toml"), "--prior-only",
                   "--draws", "2000", "--no-progress", "--out", str(out)])
    assert status == 2
    _one_line(_err(capsys), out)
    after = {str(p): p.read_bytes() for p in sorted(fs.rglob("*"))
             if p.is_file() and p.name != "filler"}
    assert after == before  # the previous result intact, no temporary left
    assert _no_temp(fs)


def test_full_disk_zarr_write_error_itself_is_one_line(small_fs, small_tree, monkeypatch):
    """Past the free-space check (another process filled the disk meanwhile): the Zarr
    store's own ENOSPC is one error naming the path, and the temporary is removed."""
    import kursk_da.io._resultset as rs
    from kursk_da.errors import OutputWriteError

    fs = small_fs("4m")
    monkeypatch.setattr(rs, "ensure_space", lambda target, nbytes: None)
    with pytest.raises(OutputWriteError, match="no space left on device"):
        save_result_set(small_tree, fs / "r.zarr")
    assert list(fs.iterdir()) == []


def test_full_disk_report_and_summary_out(small_fs, result_file, capsys, monkeypatch):
    import kursk_da.report._writer as writer

    build = writer.build_document  # two sections: what lands on disk is the point
    monkeypatch.setattr(writer, "build_document",
                        lambda tree, sections=None: build(tree, ["brief", "assumptions"]))
    fs = small_fs("2m")
    _fill(fs, 0)
    assert main(["report", str(result_file), "--out", str(fs / "rep")]) == 2
    _one_line(_err(capsys), fs / "rep")
    assert main(["summary", str(result_file), "--format", "csv", "--out",
                 str(fs / "t.csv")]) == 2
    _one_line(_err(capsys), fs / "t.csv")
    assert sorted(p.name for p in fs.iterdir()) == ["filler"]


@pytest.mark.parametrize("error", [
    OSError(28, "No space left on device"),
    OSError(122, "Disk quota exceeded"),
    RuntimeError("Can't decrement id ref count (file write failed: time = x\n, filename = "
                 "'t', file descriptor = 3, errno = 28, error message = 'No space left')"),
    OSError(5, "Input/output error"),
])
def test_injected_write_errors_are_one_line_and_leave_nothing(error, small_tree, tmp_path,
                                                              monkeypatch):
    import xarray as xr

    from kursk_da.errors import OutputWriteError

    out = tmp_path / "v.nc"
    out.write_bytes(b"previous")

    def failing(self, path, *args, **kwargs):
        Path(path).write_bytes(b"half")
        raise error

    monkeypatch.setattr(xr.DataTree, "to_netcdf", failing)
    with pytest.raises(OutputWriteError) as info:
        save_result_set(small_tree, out)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"cannot write {str(out)!r}"), msg
    assert out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.nc"]


def test_an_error_that_is_not_the_storage_stays_a_bug(small_tree, tmp_path, monkeypatch):
    import xarray as xr

    def failing(self, path, *args, **kwargs):
        raise ValueError("a bug")

    monkeypatch.setattr(xr.DataTree, "to_netcdf", failing)
    with pytest.raises(ValueError, match="a bug"):
        save_result_set(small_tree, tmp_path / "v.nc")
    assert list(tmp_path.iterdir()) == []


def test_output_write_error_exits_2_with_one_line(result_file, tmp_path, monkeypatch, capsys):
    import kursk_da.io._atomic as atomic  # the CLI imports write_atomic when it writes

    def failing(target, data):
        raise atomic.OutputWriteError(f"cannot write {str(target)!r}: disk quota exceeded")

    monkeypatch.setattr(atomic, "write_atomic", failing)
    out = tmp_path / "t.csv"
    assert main(["summary", str(result_file), "--format", "csv", "--out", str(out)]) == 2
    assert _err(capsys) == f"kursk-da: error: cannot write {str(out)!r}: disk quota exceeded\n"


# ---- 3. SIGHUP, a closed or full standard output ----------------------------------------

def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_sighup_is_handled_like_sigterm(tmp_path):
    import signal
    import time

    out = tmp_path / "r.nc"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kursk_da.cli", "-q", "analyze",
         str(ROOT / "models" / "kursk_2025.toml"), "--prior-only", "--draws", "2000000",
         "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:  # until the writer's temporary exists
            assert proc.poll() is None, proc.communicate()
            if any(f".{TEMP_MARK}-tmp-" in p.name for p in tmp_path.iterdir()):
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGHUP)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 129, err
    assert err == "kursk-da: interrupted by SIGHUP; stopped, temporary files removed\n", err
    assert list(tmp_path.iterdir()) == []


def test_closed_stdout_ends_quietly(result_file):
    proc = subprocess.Popen([sys.executable, "-m", "kursk_da.cli", "summary", str(result_file),
                             "--format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    proc.stdout.close()  # the reader went away before anything was written (| head -0)
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert err == ""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_full_stdout_is_one_line(result_file):
    with open("/dev/full", "w") as full:
        res = subprocess.run([sys.executable, "-m", "kursk_da.cli", "summary",
                              str(result_file)], stdout=full, stderr=subprocess.PIPE,
                             text=True, env=_env(), timeout=120)
    assert res.returncode == 2, res.stderr
    assert res.stderr == ("kursk-da: error: cannot write to standard output: No space left "
                          "on device\n"), res.stderr


# ---- 4. nothing blocks without a bound ------------------------------------------------------

@pytest.mark.parametrize("which", ["claims", "spec"])
def test_a_fifo_input_is_refused_not_read(which, models, tmp_path, capsys):
    spec = models / "kursk_2025.toml"
    target = spec if which == "spec" else models / "data" / "kursk_public_figures_2024.csv"
    target.unlink()
    os.mkfifo(target)  # nobody writes: reading it would block for ever
    assert main(["analyze", str(spec), *FAST, "--out", str(tmp_path / "r.nc")]) == 2
    err = _err(capsys)
    field = str(spec) if which == "spec" else "observations.file"
    assert err.startswith(f"kursk-da: error: {field}") and "named pipe" in err, err


def test_observations_file_bounded_in_bytes_and_rows(models, tmp_path, capsys):
    from kursk_da.spec._observations import MAX_FILE_BYTES, MAX_FILE_ROWS

    spec = models / "kursk_2025.toml"
    claims = models / "data" / "kursk_public_figures_2024.csv"
    head = claims.read_text().splitlines(keepends=True)[0]
    claims.write_text(head + "2024-08-10,area_held,1,,,UA,2024-08-10,x,\n" * (MAX_FILE_ROWS + 1))
    assert claims.stat().st_size < MAX_FILE_BYTES
    assert main(["analyze", str(spec), *FAST, "--out", str(tmp_path / "r.nc")]) == 2
    assert f"more than {MAX_FILE_ROWS} rows" in _err(capsys)
    with open(claims, "r+b") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    assert main(["analyze", str(spec), *FAST, "--out", str(tmp_path / "r.nc")]) == 2
    assert "expected at most 8 MiB" in _err(capsys)
    assert not (tmp_path / "r.nc").exists()


@pytest.mark.parametrize("address", ["", "garbage", "http://127.0.0.1:8786",
                                     "tcp://127.0.0.1:99999", "tcp://127.0.0.1:0",
                                     "tcp://:8786"])
@pytest.mark.parametrize("command", ["analyze", "voi", "sensitivity"])
def test_bad_scheduler_addresses_exit_2(address, command, tmp_path, capsys):
    src = str(ROOT / "models" / "kursk_2025.toml")
    with pytest.raises(SystemExit) as exc:
        main([command, src, "--scheduler", address, "--out", str(tmp_path / "r.nc")])
    assert exc.value.code == 2
    err = _err(capsys)
    assert "--scheduler" in err and "SCHEME://HOST:PORT" in err, err


@pytest.mark.parametrize("http", [False, True])
def test_a_scheduler_that_does_not_answer_fails_within_the_bound(http, small_tree):
    import socket
    import threading
    import time

    from kursk_da.engine._dask import CONNECT_TIMEOUT, connect
    from kursk_da.engine._run import ClusterError

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    stop = threading.Event()

    def answer() -> None:  # an HTTP server: a page for whatever it is sent
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")

    thread = threading.Thread(target=answer, daemon=True)
    if http:
        thread.start()
    t0 = time.monotonic()
    try:
        with pytest.raises(ClusterError, match="cannot connect to the dask scheduler"):
            connect(f"tcp://127.0.0.1:{server.getsockname()[1]}", timeout=3.0)
    finally:
        stop.set()
        server.close()
    assert time.monotonic() - t0 < 3.0 + 5.0 + 2.0
    assert CONNECT_TIMEOUT + 5.0 <= 15.0  # the documented bound


def test_a_huge_optimize_grid_is_refused_up_front(capsys):
    import time

    t0 = time.monotonic()
    status = main(["optimize", str(ROOT / "models" / "kursk_2025.toml"), "--option",
                   "hold_until_untenable", "--search", "area_held=0:1e12:1"])
    assert status == 2 and time.monotonic() - t0 < 5.0
    assert "--search: the grid has 1e+12 points" in _err(capsys)


# ---- 5. long names, forged manifests --------------------------------------------------------

@pytest.mark.parametrize("length", [240, 250, 255])
def test_an_output_name_near_name_max_is_written(length, small_tree, tmp_path, monkeypatch):
    from kursk_da.io._atomic import make_temp_file, remove_stale, temp_name

    out = tmp_path / ("r" * (length - 3) + ".nc")
    assert save_result_set(small_tree, out) == out and out.exists()
    assert [p.name for p in tmp_path.iterdir()] == [out.name]
    assert len(temp_name(out).name.encode()) <= 255
    with monkeypatch.context() as m:  # a temporary of a dead process, recognised as such
        m.setattr(os, "getpid", lambda: 999_999_999)
        dead = make_temp_file(out)
    other = tmp_path / ("s" * (length - 3) + ".nc")
    with monkeypatch.context() as m:
        m.setattr(os, "getpid", lambda: 999_999_999)
        kept = make_temp_file(other)  # another target's: kept
    assert remove_stale(out) == [dead] and kept.exists()


def test_a_forged_manifest_deletes_nothing(result_file, tmp_path, capsys, monkeypatch):
    import json

    import kursk_da.report._writer as writer

    build = writer.build_document
    monkeypatch.setattr(writer, "build_document",
                        lambda tree, sections=None: build(tree, ["brief", "assumptions"]))
    out = tmp_path / "rep"
    assert main(["report", str(result_file), "--out", str(out)]) == 0
    data = json.loads((out / ".kursk-da-report.json").read_text())
    assert set(data["sha256"]) == set(data["files"])
    # the user's file under a name the manifest claims, and a listed file edited since
    (out / "thesis.docx").write_text("my thesis")
    data["files"].append("thesis.docx")
    (out / ".kursk-da-report.json").write_text(json.dumps(data))
    assert main(["report", str(result_file), "--out", str(out)]) == 2
    assert "thesis.docx" in _err(capsys)
    (out / "thesis.docx").unlink()
    (out / "report.md").write_text("edited by hand")
    assert main(["report", str(result_file), "--out", str(out)]) == 2
    assert "report.md" in _err(capsys)
    assert (out / "report.md").read_text() == "edited by hand"
