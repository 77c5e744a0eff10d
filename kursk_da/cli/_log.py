"""Logging and progress of ``kursk-da``: ``-q``/``-v``, stage labels, warnings kept off the bar.

Every message of the CLI other than its tables goes through :mod:`logging` to stderr
(logger ``kursk_da.cli``): the status lines (``result set written to ...``), the stages
of a long run and the progress bars. :func:`configured` installs one handler on the root
logger for the duration of a command. It writes through :func:`tqdm.tqdm.write`, so a
message never breaks a progress bar, and it filters by verbosity:

============  ======================  ==========================================
verbosity     kursk-da messages       third-party (PyMC, PyTensor, numba, ArviZ,
                                      nutpie) log records and Python warnings
============  ======================  ==========================================
``-q`` (-1)   warnings and errors     errors only; no progress bar
default (0)   info and above          errors only
``-v`` (1)    debug and above         warnings and above
``-vv`` (2)   debug and above         info and above
============  ======================  ==========================================

Python warnings (``warnings.warn`` of PyMC, PyTensor, numba, ArviZ...) are captured into
logging (logger ``py.warnings``) while a command runs, so they are shown, as log
records, only with ``-v``. Libraries that attached their own stderr handler when they
were imported (PyMC, ArviZ and PyTensor do when the root logger has none) are detached
from it for the duration and restored afterwards.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tqdm import tqdm

__all__ = ["LOGGER", "THIRD_PARTY", "configured", "Stages", "progress_bar"]

LOGGER = logging.getLogger("kursk_da.cli")
"""The logger of the command line (a child of ``kursk_da``)."""

THIRD_PARTY = ("pymc", "pytensor", "arviz", "numba", "nutpie", "py.warnings")
"""Loggers whose own handlers are detached while a command runs (their records reach
the ``kursk-da`` handler, which shows them with ``-v``)."""

_OURS = "kursk_da"


def _ours(record: logging.LogRecord) -> bool:
    return record.name == _OURS or record.name.startswith(_OURS + ".")


def _levels(verbosity: int) -> tuple[int, int]:
    """(minimum level of kursk_da records, minimum level of third-party records)."""
    if verbosity < 0:
        return logging.WARNING, logging.ERROR
    if verbosity == 0:
        return logging.INFO, logging.ERROR
    if verbosity == 1:
        return logging.DEBUG, logging.WARNING
    return logging.DEBUG, logging.INFO


class _Filter(logging.Filter):
    def __init__(self, verbosity: int) -> None:
        super().__init__()
        self.ours, self.theirs = _levels(verbosity)

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= (self.ours if _ours(record) else self.theirs)


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        if _ours(record):
            if record.levelno >= logging.WARNING:
                return f"kursk-da: {record.levelname.lower()}: {message}"
            return message
        if record.name == "py.warnings":
            return f"[warning] {message.strip()}"
        return f"[{record.name}] {record.levelname.lower()}: {message}"


class _TqdmHandler(logging.Handler):
    """Writes to the current ``sys.stderr`` through ``tqdm.write`` (bars are redrawn)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            from tqdm import tqdm

            tqdm.write(self.format(record), file=sys.stderr)
        except Exception:  # pragma: no cover - logging's own error path
            self.handleError(record)


_ACTIVE: list[int] = []
"""Verbosity of the running command (innermost last); empty outside a command."""


def verbosity() -> int:
    """The verbosity of the running command (0 outside one)."""
    return _ACTIVE[-1] if _ACTIVE else 0


@contextmanager
def configured(level: int) -> Iterator[None]:
    """Route logging and warnings to stderr at verbosity ``level`` for one command.

    Parameters
    ----------
    level : int
        -1 (``-q``), 0 (default), 1 (``-v``) or 2 and more (``-vv``).

    Everything changed (root handler and level, third-party handlers, the capture of
    warnings) is restored on exit, so :func:`kursk_da.cli.main` can be called repeatedly
    in one process (the tests do).
    """
    root = logging.getLogger()
    saved_level = root.level
    handler = _TqdmHandler()
    handler.setFormatter(_Formatter())
    handler.addFilter(_Filter(level))
    detached: dict[str, tuple[list[logging.Handler], bool]] = {}
    for name in THIRD_PARTY:
        lg = logging.getLogger(name)
        detached[name] = (list(lg.handlers), lg.propagate)
        for h in list(lg.handlers):
            lg.removeHandler(h)
        lg.propagate = True
    root.addHandler(handler)
    root.setLevel(min(_levels(level)))
    logging.captureWarnings(True)
    _ACTIVE.append(level)
    try:
        yield
    finally:
        _ACTIVE.pop()
        logging.captureWarnings(False)
        root.removeHandler(handler)
        root.setLevel(saved_level)
        for name, (handlers, propagate) in detached.items():
            lg = logging.getLogger(name)
            for h in handlers:
                lg.addHandler(h)
            lg.propagate = propagate


def progress_bar(label: str, total: int | None, unit: str, enabled: bool = True) -> tqdm[Any]:
    """A progress bar on stderr labelled with its stage.

    Hidden with ``-q``, with ``enabled=False`` (``--no-progress``) and when stderr is not a
    terminal (tqdm's ``disable=None``).
    """
    from tqdm import tqdm

    disable = None if enabled and verbosity() >= 0 else True
    return tqdm(total=total, unit=unit, desc=label, disable=disable, file=sys.stderr,
                dynamic_ncols=True, leave=False)


class Stages:
    """Numbered stages of a long run, logged as ``[k/n] name: detail`` with their time.

    Parameters
    ----------
    names : sequence of str
        The stages, in order (e.g. ``compile``, ``sampling``, ``propagation``).
    """

    def __init__(self, *names: str) -> None:
        self.names = names
        self._t0: float | None = None
        self._current: str | None = None

    def label(self, name: str) -> str:
        """``[k/n] name``: the prefix of the stage's log lines and its bar."""
        return f"[{self.names.index(name) + 1}/{len(self.names)}] {name}"

    def start(self, name: str, detail: str = "") -> None:
        """End the current stage (logging its time) and start ``name``."""
        self.done()
        self._current, self._t0 = name, time.perf_counter()
        LOGGER.info("%s%s", self.label(name), f": {detail}" if detail else "")

    def done(self) -> None:
        """End the current stage, if any, logging its wall time."""
        if self._current is not None and self._t0 is not None:
            LOGGER.info("%s: done in %.1f s", self.label(self._current),
                        time.perf_counter() - self._t0)
        self._current = self._t0 = None
