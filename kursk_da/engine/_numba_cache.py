"""Where numba keeps the compiled kernels on disk (``cache=True``).

Every ``@njit`` kernel of the package (engine kernel, noise, the calibration skeleton)
is compiled with ``cache=True``, so a second run loads machine code instead of
compiling (seconds instead of ~7 s for the engine, ~10 s for the skeleton).

Directory: ``NUMBA_CACHE_DIR`` when it is set (honoured as is). Otherwise it is set,
at import of :mod:`kursk_da.engine`, to ``$XDG_CACHE_HOME/kursk_da/numba/<key>``
(``~/.cache/kursk_da/numba/<key>`` without ``XDG_CACHE_HOME``; a per-user directory
under the system temporary directory if neither is writable), so read-only installs
cache too. ``<key>`` is a hash of the numba version and of the source of every module
compiled into the kernels: numba invalidates a cached function only when *its own*
file changes, not when an inlined callee (the equations, the lane maths) does, and the
key makes any change of these sources start a fresh cache. With ``NUMBA_CACHE_DIR``
set by the user that protection is the user's (delete the directory after editing
``kursk_da/dynamics/equations.py``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numba
from numba.core import config

__all__ = ["numba_cache_dir", "configure_numba_cache"]

_PACKAGE = Path(__file__).resolve().parents[1]
_SOURCES = (
    "dynamics/catalogue.py", "dynamics/equations.py", "engine/_kernel.py",
    "engine/_lanemath.py", "engine/_noise.py", "calibration/_skeleton.py",
)


def _source_key() -> str:
    """Hash of the numba version and of the kernels' source files (16 hex digits)."""
    h = hashlib.sha256(numba.__version__.encode())
    for rel in _SOURCES:
        try:
            h.update((_PACKAGE / rel).read_bytes())
        except OSError:  # pragma: no cover - a source missing from an install
            h.update(rel.encode())
    return h.hexdigest()[:16]


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(path, os.W_OK | os.X_OK)


def _default_dir() -> Path:
    key = _source_key()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    candidates = [base / "kursk_da" / "numba" / key]
    try:
        uid = str(os.getuid())
    except AttributeError:  # pragma: no cover - Windows
        uid = "user"
    candidates.append(Path(tempfile.gettempdir()) / f"kursk_da-{uid}" / "numba" / key)
    for path in candidates:
        if _writable(path):
            return path
    return candidates[-1]  # pragma: no cover - numba then warns and compiles


def configure_numba_cache() -> str:
    """Set numba's cache directory (see the module docstring) and return it.

    Idempotent; a ``NUMBA_CACHE_DIR`` already in the environment wins.
    """
    env = os.environ.get("NUMBA_CACHE_DIR")
    if env:
        if config.CACHE_DIR != env:
            config.CACHE_DIR = env
        return env
    path = str(_default_dir())
    os.environ["NUMBA_CACHE_DIR"] = path
    config.CACHE_DIR = path
    return path


def numba_cache_dir() -> str:
    """The directory in which numba caches the package's kernels."""
    return configure_numba_cache()


configure_numba_cache()
