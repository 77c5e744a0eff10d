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

import contextlib
import errno
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from kursk_da.errors import OutputWriteError

__all__ = ["TEMP_MARK", "temp_name", "make_temp_file", "make_temp_dir", "remove_stale",
           "STORAGE_ERRNOS", "storage_error", "storage_errors", "guard_h5netcdf_close",
           "SPACE_MARGIN", "ensure_space", "write_atomic", "save_figure"]

TEMP_MARK = "kursk-da"
"""The mark in every temporary name: ``.<target>.kursk-da-tmp-<pid>-<random>``."""

_KINDS = ("tmp", "old")


NAME_MAX = 255
"""The longest file name (bytes) of the usual Linux file systems (ext4, xfs, btrfs, tmpfs)."""


def temp_name(target: Path, kind: str = "tmp") -> Path:
    """A fresh temporary path beside ``target`` (``kind`` ``"tmp"`` or ``"old"``).

    ``.<target>.kursk-da-<kind>-<pid>-<hex>``; for a long target name the ``<target>``
    part is cut so that the name fits in :data:`NAME_MAX` bytes (the pattern of
    :func:`remove_stale` matches the cut name too).
    """
    tail = f".{TEMP_MARK}-{kind}-{os.getpid()}-{secrets.token_hex(4)}"
    return target.with_name(f".{_stem(target.name, tail)}{tail}")


def _stem(name: str, tail: str) -> str:
    """``name`` cut (whole characters) to fit ``.<name><tail>`` in NAME_MAX bytes."""
    room = NAME_MAX - 1 - len(tail.encode())
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) <= room:
        return name
    return raw[:room].decode("utf-8", "ignore")


STORAGE_ERRNOS = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
                  errno.EIO: "input/output error", errno.EROFS: "read-only file system",
                  errno.EFBIG: "file too large"}
"""The errors of the storage (not of the program) that a writer reports in one line."""

_HDF5_ERRNO = re.compile(r"errno = (\d+)")


def _storage_errno(exc: BaseException) -> int | None:
    """The storage errno of ``exc`` or of an exception in its chain (HDF5 puts it in the
    message of a RuntimeError or OSError: ``errno = 28``), None for anything else."""
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        code = getattr(e, "errno", None)
        if isinstance(code, int) and code in STORAGE_ERRNOS:
            return code
        if isinstance(e, OSError | RuntimeError):
            m = _HDF5_ERRNO.search(str(e))
            if m is not None and int(m.group(1)) in STORAGE_ERRNOS:
                return int(m.group(1))
        e = e.__cause__ or e.__context__
    return None


def storage_error(exc: BaseException, target: Path) -> OutputWriteError | None:
    """The one-line :class:`~kursk_da.errors.OutputWriteError` for a storage failure
    while writing ``target`` (no space, quota, I/O error, read-only), None otherwise."""
    code = _storage_errno(exc)
    if code is None:
        return None
    return OutputWriteError(f"cannot write {str(target)!r}: {STORAGE_ERRNOS[code]} "
                            f"({errno.errorcode.get(code, code)}); nothing written, any "
                            "previous file is intact")


SPACE_MARGIN = 2 * 2**20
"""Bytes of free space asked for beyond the data of a write (HDF5's metadata, 2 MiB)."""


def ensure_space(target: Path, nbytes: int) -> None:
    """Refuse a write of ``nbytes`` (uncompressed) beside ``target`` that the file system
    cannot hold, before HDF5 starts it.

    HDF5 cannot recover from a full disk: after a failed write the file's metadata cache
    is inconsistent and the next operation on the file may end the process with a
    segmentation fault (h5py 3.16, HDF5 1.14). So every write of a result set first asks
    for ``nbytes + SPACE_MARGIN`` of free space (``os.statvfs``; the compressed write
    needs less). Another process filling the disk meanwhile, or a quota, is still seen
    only as the write's own error (:func:`storage_errors`).

    Raises
    ------
    OutputWriteError
        Naming ``target``, the space needed and the space free.
    """
    try:
        st = os.statvfs(target.parent)
    except OSError:
        return  # the write itself will say what is wrong
    free = st.f_bavail * st.f_frsize
    need = int(nbytes) + SPACE_MARGIN
    if free < need:
        raise OutputWriteError(f"cannot write {str(target)!r}: no space left on device "
                               f"(ENOSPC): the write needs up to {need / 2**20:.1f} MiB, "
                               f"{free / 2**20:.1f} MiB free; nothing written, any previous "
                               "file is intact")


@contextlib.contextmanager
def storage_errors(target: Path) -> Iterator[None]:
    """Turn a storage failure inside the block into an
    :class:`~kursk_da.errors.OutputWriteError` naming ``target`` (the caller removes its
    temporary as for any error); other exceptions pass unchanged."""
    try:
        yield
    except OutputWriteError:
        raise
    except Exception as exc:
        err = storage_error(exc, target)
        if err is None:
            raise
        raise err from None  # the HDF5 objects of the failed write are not kept alive


def guard_h5netcdf_close() -> None:
    """Make a failed close of an ``h5netcdf.File`` final.

    When HDF5 cannot write (a full disk), ``h5py.File.close`` fails after it has
    invalidated the file's objects; ``h5netcdf.File`` stays marked open, and its
    ``__del__`` closes it again, touching the invalidated objects: a segmentation
    fault (h5netcdf 1.8, h5py 3.16). After this guard a close that raised is not
    retried (the file's descriptor is released when the process ends). Idempotent.
    """
    try:
        import h5netcdf
    except ImportError:  # pragma: no cover - a dependency
        return
    cls = h5netcdf.File
    if getattr(cls.close, "_kursk_da_guard", False):
        return
    original = cls.close

    def close(self: object) -> None:
        try:
            original(self)
        except BaseException:
            object.__setattr__(self, "_closed", True)
            raise

    def delete(self: object) -> None:
        with contextlib.suppress(Exception):
            close(self)

    close._kursk_da_guard = True  # type: ignore[attr-defined]
    cls.close = close
    cls.__del__ = delete


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

    Only names of the form ``.<target>.kursk-da-(tmp|old)-<pid>-<hex>`` (``<target>``
    cut as :func:`temp_name` cuts it) whose process ``<pid>`` is no longer alive are
    removed; nothing else is touched.

    Returns
    -------
    list of Path
        The removed paths.
    """
    pattern = re.compile(rf"^\.(.*)\.{TEMP_MARK}-(?:{'|'.join(_KINDS)})-(\d+)-[0-9a-f]+$")
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        m = pattern.match(entry.name)
        if m is None or _alive(int(m.group(2))):
            continue
        tail = entry.name[len(m.group(1)) + 1:]
        if m.group(1) != target.name and (
                m.group(1) != _stem(target.name, tail) or m.group(1) == ""):
            continue  # another target's
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


def write_atomic(target: Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically: a temporary file beside it, synced, then
    renamed into place (its directory created if missing). On any error or interrupt
    the temporary is removed and a previous ``target`` is intact; a storage failure is
    an :class:`~kursk_da.errors.OutputWriteError` naming ``target``."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(target)
    tmp = make_temp_file(target)
    try:
        with storage_errors(target):
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def save_figure(fig: object, target: Path, **kwargs: object) -> Path:
    """Save a matplotlib figure as PNG to ``target`` atomically (:func:`write_atomic`)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", **kwargs)  # type: ignore[attr-defined]
    return write_atomic(target, buf.getvalue())
