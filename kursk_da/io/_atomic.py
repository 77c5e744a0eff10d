"""Temporary files of the atomic writers: recognisable names, stale ones cleaned up.

A writer puts its output in ``.<target>.kursk-da-tmp-<pid>-<random>`` beside the target
and renames it into place at the end; on an error or a signal (SIGINT, SIGTERM: the
CLI turns both into exceptions) its ``except`` block removes the temporary file. Only
SIGKILL or a power cut can leave one behind: such a *stale* temporary file, whose
process is no longer alive, is removed by the next write of the same target
(:func:`remove_stale`). A replaced report directory is parked as
``.<target>.kursk-da-old-<pid>-<random>`` until the new one is in place.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from pathlib import Path

__all__ = ["TEMP_MARK", "temp_name", "make_temp_file", "make_temp_dir", "remove_stale"]

TEMP_MARK = "kursk-da"
"""The mark in every temporary name: ``.<target>.kursk-da-tmp-<pid>-<random>``."""

_KINDS = ("tmp", "old")


def temp_name(target: Path, kind: str = "tmp") -> Path:
    """A fresh temporary path beside ``target`` (``kind`` ``"tmp"`` or ``"old"``)."""
    return target.with_name(f".{target.name}.{TEMP_MARK}-{kind}-{os.getpid()}-"
                            f"{secrets.token_hex(4)}")


def make_temp_file(target: Path) -> Path:
    """Create an empty temporary file beside ``target`` (mode ``0o666`` less the umask)."""
    while True:
        tmp = temp_name(target)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp


def make_temp_dir(target: Path) -> Path:
    """Create an empty temporary directory beside ``target`` (mode ``0o777`` less the umask)."""
    while True:
        tmp = temp_name(target)
        try:
            os.mkdir(tmp, 0o777)
        except FileExistsError:
            continue
        return tmp


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # ours: possibly another write in progress in this process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    except OSError:
        return True
    return True


def remove_stale(target: Path) -> list[Path]:
    """Remove the temporary files and directories of ``target`` left by dead processes.

    Only names of the form ``.<target>.kursk-da-(tmp|old)-<pid>-<hex>`` whose process
    ``<pid>`` is no longer alive are removed; nothing else is touched.

    Returns
    -------
    list of Path
        The removed paths.
    """
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.{TEMP_MARK}-(?:{'|'.join(_KINDS)})-"
                         r"(\d+)-[0-9a-f]+$")
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        m = pattern.match(entry.name)
        if m is None or _alive(int(m.group(1))):
            continue
        path = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed
