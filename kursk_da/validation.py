"""Validation of arguments at the package boundary: the one place such checks live.

Every function takes the value, the argument's ``name`` (as the user spelled it:
``"draws"``, ``"--chunk-size"``, ``"parameters.ru_garrison.sigma"``) and the error
class to raise, and returns the value converted to its canonical type. Messages
start with the name and say what was expected, e.g.
``draws: expected a whole number >= 1, got 0``. Integers accept Python ``int`` and
NumPy integer scalars, never ``bool``.

The error class defaults to :class:`~kursk_da.errors.ArgumentError`; a
:class:`~kursk_da.errors.SpecError` subclass gets the name as its ``path``.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import stat
import sys
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from kursk_da.errors import ArgumentError, KurskDAError, SpecError

if TYPE_CHECKING:  # NumPy is imported where it is used: the CLI parses without it
    import numpy as np

__all__ = [
    "fail",
    "check_int",
    "check_real",
    "check_probability",
    "check_choice",
    "check_rng",
    "check_seed",
    "check_output_file",
    "check_output_dir",
    "check_bool",
    "check_jobs",
    "check_keywords",
    "check_instance",
    "check_text",
    "as_float_array",
    "MAX_NAME_LENGTH",
    "MAX_TEXT_LENGTH",
    "check_input_file",
    "check_outputs_not_inputs",
    "check_scheduler_address",
    "SCHEDULER_SCHEMES",
    "MAX_SEED",
    "is_integer",
    "is_real",
]


def fail(name: str, message: str, error: type[KurskDAError] = ArgumentError) -> NoReturn:
    """Raise ``error`` for argument ``name`` with ``message`` (what was expected)."""
    if issubclass(error, SpecError):
        raise error(name, message)
    raise error(f"{name}: {message}")


def _is_bool(value: Any) -> bool:
    """True for ``bool`` and ``numpy.bool_`` (a NumPy scalar exists only once NumPy is
    imported, so NumPy is not imported here)."""
    numpy = sys.modules.get("numpy")
    return isinstance(value, bool) or (numpy is not None and isinstance(value, numpy.bool_))


def is_integer(value: Any) -> bool:
    """True for ``int`` and NumPy integer scalars, False for ``bool``."""
    return isinstance(value, numbers.Integral) and not _is_bool(value)


def is_real(value: Any) -> bool:
    """True for real numbers (``int``, ``float``, NumPy scalars), False for ``bool``."""
    return isinstance(value, numbers.Real) and not _is_bool(value)


def _num(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def _bounds(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" from {_num(minimum)} to {_num(maximum)}"
    if minimum is not None:
        return f" >= {_num(minimum)}"
    if maximum is not None:
        return f" <= {_num(maximum)}"
    return ""


def check_int(
    value: Any,
    name: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    error: type[KurskDAError] = ArgumentError,
) -> int:
    """A whole number within ``[minimum, maximum]``, returned as ``int``.

    Raises
    ------
    KurskDAError
        ``error``, naming ``name``, when ``value`` is not an integer (``bool``
        included) or is out of bounds.
    """
    if not is_integer(value):
        fail(name, f"expected an integer{_bounds(minimum, maximum)}, got {value!r}", error)
    out = int(value)
    if (minimum is not None and out < minimum) or (maximum is not None and out > maximum):
        fail(name, f"expected an integer{_bounds(minimum, maximum)}, got {out}", error)
    return out


def check_real(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strict: bool = False,
    error: type[KurskDAError] = ArgumentError,
) -> float:
    """A finite real number within the bounds, returned as ``float``.

    Parameters
    ----------
    strict : bool
        Exclude the bounds themselves (``minimum < value < maximum``).

    Raises
    ------
    KurskDAError
        ``error``, naming ``name``, for a non-number, NaN, infinity or out of bounds.
    """
    rel = ("above", "below") if strict else ("at least", "at most")
    want = "a finite number"
    if minimum is not None:
        want += f" {rel[0]} {minimum:g}"
    if maximum is not None:
        want += (" and" if minimum is not None else "") + f" {rel[1]} {maximum:g}"
    if not is_real(value) or not math.isfinite(float(value)):
        fail(name, f"expected {want}, got {value!r}", error)
    out = float(value)
    lo_bad = minimum is not None and (out <= minimum if strict else out < minimum)
    hi_bad = maximum is not None and (out >= maximum if strict else out > maximum)
    if lo_bad or hi_bad:
        fail(name, f"expected {want}, got {out:g}", error)
    return out


def check_probability(
    value: Any, name: str, *, strict: bool = False, error: type[KurskDAError] = ArgumentError
) -> float:
    """A probability in [0, 1] (``strict``: in (0, 1)), returned as ``float``."""
    return check_real(value, name, minimum=0.0, maximum=1.0, strict=strict, error=error)


def check_choice(
    value: Any, name: str, choices: Collection[str], error: type[KurskDAError] = ArgumentError
) -> str:
    """One of ``choices`` (strings)."""
    if not isinstance(value, str) or value not in choices:
        fail(name, f"expected one of {sorted(choices)}, got {value!r}", error)
    return value


def check_bool(value: Any, name: str, error: type[KurskDAError] = ArgumentError) -> bool:
    """A boolean (``True``/``False`` or a NumPy bool), returned as ``bool``.

    Strings such as ``"no"`` and numbers are refused: ``bool("no")`` is True.
    """
    if not _is_bool(value):
        fail(name, f"expected True or False, got {value!r}", error)
    return bool(value)


def check_jobs(value: Any, name: str = "n_jobs",
               error: type[KurskDAError] = ArgumentError) -> int | None:
    """A number of threads or processes: a whole number >= 1, or None (all CPUs)."""
    if value is None:
        return None
    if not is_integer(value) or int(value) < 1:
        fail(name, f"expected a whole number >= 1 or None (all CPUs), got {value!r}", error)
    return int(value)


def check_keywords(given: Collection[str], allowed: Collection[str], where: str,
                   error: type[KurskDAError] = ArgumentError) -> None:
    """Refuse keyword arguments of ``where`` (a function's name) outside ``allowed``.

    A misspelt keyword (``draw=5`` for ``draws=5``) is an error naming it, never ignored.
    """
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        fail(unknown[0], f"unexpected keyword argument of {where}; expected one of "
                         f"{', '.join(sorted(allowed))}", error)


def check_instance(value: Any, name: str, kind: type | tuple[type, ...], what: str,
                   error: type[KurskDAError] = ArgumentError) -> Any:
    """``value`` if it is an instance of ``kind`` (described as ``what``), else an error."""
    if not isinstance(value, kind):
        fail(name, f"expected {what}, got {type(value).__name__}", error)
    return value


def as_float_array(value: Any, name: str,
                   error: type[KurskDAError] = ArgumentError) -> np.ndarray:
    """``value`` as a float NumPy array; an error naming ``name`` if it holds no numbers."""
    import numpy as np

    try:
        out: np.ndarray = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        fail(name, f"expected an array of numbers, got {type(value).__name__}", error)
    return out


MAX_NAME_LENGTH = 100
"""Longest name (option, parameter, scenario, variant, observation, any table key) of a
spec, characters: names become netCDF coordinates, file names of figures and table cells."""

MAX_TEXT_LENGTH = 100_000
"""Longest text value (description, source, note) of a spec, characters."""


def check_text(value: Any, name: str, *, key: bool = False,
               error: type[KurskDAError] = ArgumentError) -> str:
    """A text a user wrote: encodable as UTF-8, without NUL, bounded in length.

    Parameters
    ----------
    key : bool
        ``value`` is a name (a table key): also non-empty, at most
        :data:`MAX_NAME_LENGTH` characters, no control character (newline, tab...).
        Otherwise at most :data:`MAX_TEXT_LENGTH` characters.
    """
    if not isinstance(value, str):
        fail(name, f"expected a string, got {value!r}", error)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        fail(name, f"not valid UTF-8 text (a lone surrogate): {value[:40]!r}", error)
    if "\x00" in value:
        fail(name, "contains a NUL character", error)
    if key:
        if not value.strip():
            fail(name, f"expected a non-empty name, got {value!r}", error)
        if len(value) > MAX_NAME_LENGTH:
            fail(name, f"name of {len(value)} characters; expected at most {MAX_NAME_LENGTH}",
                 error)
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            fail(name, f"expected a name without control characters (newline, tab...), got "
                       f"{value!r}", error)
    elif len(value) > MAX_TEXT_LENGTH:
        fail(name, f"text of {len(value)} characters; expected at most {MAX_TEXT_LENGTH}",
             error)
    return value


def check_rng(rng: Any, name: str = "rng", error: type[KurskDAError] = ArgumentError
              ) -> np.random.Generator:
    """A :class:`numpy.random.Generator` from a Generator, a seed, a SeedSequence or None.

    Raises
    ------
    KurskDAError
        ``error`` when ``rng`` cannot seed a Generator (e.g. a legacy ``RandomState``).
    """
    import numpy as np

    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, np.random.RandomState):
        fail(name, "expected a numpy.random.Generator, a seed or None, got a legacy "
                   "RandomState", error)
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError):
        fail(name, f"expected a numpy.random.Generator, a seed or None, got {rng!r}", error)


MAX_SEED = 2**63 - 1
"""The largest root seed: seeds are stored as a signed 64-bit integer in the result set."""


def check_seed(value: Any, name: str = "seed", error: type[KurskDAError] = ArgumentError) -> int:
    """A root seed: a whole number from 0 to :data:`MAX_SEED` (``2**63 - 1``).

    The bound makes the seed storable losslessly (a signed 64-bit netCDF attribute).
    """
    return check_int(value, name, minimum=0, maximum=MAX_SEED, error=error)


_SPECIAL = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
            (stat.S_ISFIFO, "a named pipe (fifo)"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str | None:
    """What a special file is (None for a regular file or a directory)."""
    for test, what in _SPECIAL:
        if test(mode):
            return what
    return None


def _mode(path: Path, name: str, error: type[KurskDAError]) -> int | None:
    """``st_mode`` of ``path`` (following links), None if it does not exist."""
    try:
        return path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):  # missing (under a file: the parent check)
        if path.is_symlink():
            fail(name, f"{str(path)!r} is a broken symbolic link", error)
        return None
    except OSError as exc:  # e.g. no permission to look
        fail(name, f"{str(path)!r}: cannot be used ({exc.strerror})", error)


def _check_parent(path: Path, name: str, error: type[KurskDAError]) -> None:
    """The directory that will hold ``path`` exists or can be created, and is writable."""
    parent = path.absolute().parent
    missing = []
    while (mode := _mode(parent, name, error)) is None:  # nearest existing ancestor
        missing.append(parent.name)
        parent = parent.parent
    if not stat.S_ISDIR(mode):
        fail(name, f"{str(path)!r}: {str(parent)!r} is not a directory", error)
    if not os.access(parent, os.W_OK | os.X_OK):
        what = "cannot be created in" if missing else "is in"
        fail(name, f"{str(path)!r}: {what} the directory {str(parent)!r}, which is not "
                   "writable", error)


def check_output_file(path: Any, name: str, error: type[KurskDAError] = ArgumentError) -> Path:
    """A file that can be written (replaced atomically): checked before any computing.

    Refused: a directory, a special file (character or block device, fifo, socket:
    never replaced by a regular file), an existing file that is not writable, a
    parent that is not a directory or not writable. Nothing is created.

    Returns
    -------
    Path
        ``path`` as a :class:`pathlib.Path`.
    """
    if not isinstance(path, str | os.PathLike) or not str(path):
        fail(name, f"expected a file path, got {path!r}", error)
    p = Path(path)
    mode = _mode(p, name, error)
    if mode is not None:
        if stat.S_ISDIR(mode):
            fail(name, f"{str(p)!r} is a directory; expected a file name", error)
        kind = _kind(mode)
        if kind is not None:
            fail(name, f"{str(p)!r} is {kind}, not a regular file; refusing to replace it",
                 error)
        if not os.access(p, os.W_OK):
            fail(name, f"{str(p)!r} exists and is not writable", error)
    _check_parent(p, name, error)
    return p


def _manifest_files(directory: Path, manifest: str) -> set[str] | None:
    """The files of ``directory`` that its manifest lists *and* whose content it can
    verify: a regular file whose SHA-256 is the one recorded (``{"sha256": {name:
    hex}}``) when it was written. None: no valid manifest. A forged manifest that lists
    a file it did not write cannot make it deleted."""
    try:
        data = json.loads((directory / manifest).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    hashes = data.get("sha256") if isinstance(data, dict) else None
    if not isinstance(hashes, dict):
        return None
    verified: set[str] = set()
    for fname, digest in hashes.items():
        if not isinstance(fname, str) or not isinstance(digest, str) or "/" in fname:
            continue
        path = directory / fname
        try:
            if not stat.S_ISREG(path.lstat().st_mode):
                continue
            if hashlib.sha256(path.read_bytes()).hexdigest() == digest:
                verified.add(fname)
        except OSError:
            continue
    return verified


def check_output_dir(path: Any, name: str, *, manifest: str | None = None,
                     error: type[KurskDAError] = ArgumentError) -> Path:
    """A directory to write files into (created if missing): checked before any computing.

    Refused: an existing file or special file, a directory that is not writable, a
    missing directory whose nearest existing ancestor is not a writable directory.
    Nothing is created.

    Parameters
    ----------
    manifest : str, optional
        The directory is replaced as a whole by one written by kursk_da, whose file
        ``manifest`` (JSON, ``{"files": [names], "sha256": {name: hex}}``) lists the
        files it wrote with their SHA-256. Then also refused: a non-empty directory
        without a valid manifest, or holding anything the manifest does not list with
        its content's hash (nothing kursk_da did not write is ever deleted, whatever a
        manifest claims); the current directory or one containing it; a parent directory
        that is not writable.

    Returns
    -------
    Path
        ``path`` as a :class:`pathlib.Path` (absolute, links resolved, with ``manifest``).
    """
    if not isinstance(path, str | os.PathLike) or not str(path):
        fail(name, f"expected a directory path, got {path!r}", error)
    p = Path(path)
    mode = _mode(p, name, error)
    if mode is not None:
        if not stat.S_ISDIR(mode):
            kind = _kind(mode) or "a file"
            fail(name, f"{str(p)!r} is {kind}; expected a directory", error)
        if not os.access(p, os.W_OK | os.X_OK):
            fail(name, f"{str(p)!r} is a directory that is not writable", error)
    if manifest is None:
        if mode is None:
            _check_parent(p, name, error)
        return p
    full = p.resolve()
    if mode is not None:
        entries = {e.name for e in os.scandir(full)}
        if entries:
            listed = _manifest_files(full, manifest)
            if listed is None:
                fail(name, f"{str(p)!r} is a non-empty directory that is not a previous report "
                           f"(no {manifest}); refusing to replace it: give a new or empty "
                           "directory", error)
            extra = sorted(entries - listed - {manifest})
            if extra:
                shown = ", ".join(extra[:5]) + (", ..." if len(extra) > 5 else "")
                fail(name, f"{str(p)!r} holds files the previous report did not write "
                           f"({shown}); refusing to replace it: move them or give another "
                           "directory", error)
    cwd = Path.cwd().resolve()
    if full == cwd or full in cwd.parents:
        fail(name, f"{str(p)!r} is the current directory or contains it, and the directory is "
                   "replaced as a whole: give another directory", error)
    _check_parent(full, name, error)
    return full


def check_input_file(path: Any, name: str, error: type[KurskDAError] = ArgumentError,
                     *, max_bytes: int | None = None) -> Path:
    """An existing regular file to read (links followed): checked before opening it.

    A named pipe, a device or a socket is refused (reading one may block for ever or
    never end), as is a directory. A missing file is left to the reader, which names
    it in its own words.

    Parameters
    ----------
    max_bytes : int, optional
        Refuse a file larger than this many bytes.

    Returns
    -------
    Path
        ``path`` as a :class:`pathlib.Path`.
    """
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return p  # missing or unreadable: the reader says so
    if stat.S_ISDIR(st.st_mode):
        fail(name, f"{str(p)!r} is a directory; expected a file", error)
    kind = _kind(st.st_mode)
    if kind is not None:
        fail(name, f"{str(p)!r} is {kind}, not a regular file; refusing to read it", error)
    if max_bytes is not None and st.st_size > max_bytes:
        fail(name, f"{str(p)!r} is {st.st_size / 2**20:.1f} MiB; expected at most "
                   f"{max_bytes / 2**20:.0f} MiB", error)
    return p


def _identity(path: Path) -> tuple[int, int] | Path:
    """What makes two paths the same file: ``(st_dev, st_ino)`` of an existing file (hard
    and symbolic links included), the resolved path otherwise."""
    try:
        st = path.stat()
    except OSError:
        return path.resolve()
    return (st.st_dev, st.st_ino)


def check_outputs_not_inputs(outputs: Mapping[str, Any], inputs: Collection[Any], *,
                             replaced_dirs: Collection[str] = (),
                             error: type[KurskDAError] = ArgumentError) -> None:
    """Refuse an output that is one of the inputs: checked before any computing.

    Two paths are the same file when they have the same device and inode (symbolic and
    hard links included) or, for a path that does not exist yet, the same resolved
    path.

    Parameters
    ----------
    outputs : mapping of str to path
        Output option (as the user spelled it, e.g. ``"--out"``) -> path; None skipped.
    inputs : collection of paths
        Every file the command reads (the spec, the files the spec reads, the source
        result set).
    replaced_dirs : collection of str
        Output options naming a directory that is replaced as a whole (the report): an
        input inside it is refused too.

    Raises
    ------
    KurskDAError
        ``error``, naming the output option and the input.
    """
    given = [Path(p) for p in inputs if p is not None]
    ids = [(p, _identity(p)) for p in given]
    for name, out in outputs.items():
        if out is None:
            continue
        o = Path(out)
        oid = _identity(o)
        for p, pid in ids:
            if oid == pid:
                fail(name, f"{str(o)!r} is an input of this command ({str(p)!r}); refusing "
                           "to overwrite it: give another path", error)
        if name in replaced_dirs:
            full = o.resolve()
            for p in given:
                if full in p.resolve().parents:
                    fail(name, f"{str(o)!r} holds an input of this command ({str(p)!r}) "
                               "and is replaced as a whole: give another directory", error)


SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss")
"""The schemes of a dask scheduler address (``tcp://HOST:PORT``; dask's comms)."""


def check_scheduler_address(value: Any, name: str = "scheduler",
                            error: type[KurskDAError] = ArgumentError) -> str:
    """A dask scheduler address ``SCHEME://HOST:PORT`` (scheme one of
    :data:`SCHEDULER_SCHEMES`, default ``tcp`` when omitted; a host; a port from 1 to
    65535), returned as given with the scheme.

    Raises
    ------
    KurskDAError
        ``error`` naming ``name``: an empty string, another scheme (``http://``), no host,
        no port or a port out of range.
    """
    from urllib.parse import urlsplit

    want = "expected a dask scheduler address SCHEME://HOST:PORT (" + \
        "|".join(SCHEDULER_SCHEMES) + ", port 1-65535)"
    if not isinstance(value, str) or not value.strip():
        fail(name, f"{want}, got {value!r}", error)
    text = value.strip()
    full = text if "://" in text else f"tcp://{text}"
    try:
        parts = urlsplit(full)
        port = parts.port
    except ValueError:
        fail(name, f"{want}, got {value!r}", error)
    if parts.scheme not in SCHEDULER_SCHEMES:
        fail(name, f"{want}, got the scheme {parts.scheme!r} in {value!r}", error)
    if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment:
        fail(name, f"{want}, got {value!r}", error)
    if port is None or not 1 <= port <= 65535:
        fail(name, f"{want}, got {value!r} (no port or a port out of range)", error)
    return full
