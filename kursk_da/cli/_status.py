"""The exit statuses of ``kursk-da`` and the signals received (a light module)."""

from __future__ import annotations

import signal
from typing import Any

from kursk_da.errors import Interrupted

__all__ = ["EXIT_OK", "EXIT_INTERNAL", "EXIT_BAD_INPUT", "EXIT_UNCONVERGED", "EXIT_SIGINT",
           "EXIT_SIGTERM", "EXIT_SIGHUP", "EXIT_SIGPIPE", "EXIT_STATUS_HELP",
           "StdoutError", "GuardedStdout", "PENDING", "check_interrupted"]

EXIT_OK = 0
"""Exit status on success."""
EXIT_INTERNAL = 1
"""Exit status after an internal error (a bug): the traceback is logged on stderr."""
EXIT_BAD_INPUT = 2
"""Exit status for bad input: spec, arguments, output paths, missing or corrupt result file."""
EXIT_UNCONVERGED = 3
"""Exit status when the calibration fails its convergence diagnostics."""
EXIT_SIGINT = 128 + signal.SIGINT
"""Exit status after SIGINT (Ctrl-C): 130."""
EXIT_SIGTERM = 128 + signal.SIGTERM
"""Exit status after SIGTERM: 143."""
EXIT_SIGHUP = 128 + signal.SIGHUP
"""Exit status after SIGHUP (the terminal closed): 129."""
EXIT_SIGPIPE = 128 + signal.SIGPIPE
"""Exit status when standard output was closed by its reader (``| head -1``): 141, as
for a process ended by SIGPIPE; nothing is printed."""

EXIT_STATUS_HELP = f"""\
exit status:
  {EXIT_OK:<3}  success
  {EXIT_INTERNAL:<3}  internal error (a bug; the traceback is on stderr), or the dask
       cluster failed the run or did not answer within 15 s (one line)
  {EXIT_BAD_INPUT:<3}  bad input: spec, arguments, output paths, missing or corrupt result
       file (one line on stderr naming the field or option; nothing written);
       also an output that cannot be written (no space left on device, disk
       quota, I/O error: one line naming the path; the previous file intact)
  {EXIT_UNCONVERGED:<3}  a calibration failed its convergence diagnostics (analyze; a variant's
       in variants, an origin's in hindcast): the result set is still written,
       flagged (converged = "no"); 0 with --allow-unconverged
  {EXIT_SIGHUP:<3}  hung up (SIGHUP: the terminal closed); temporary files removed
  {EXIT_SIGINT:<3}  interrupted by SIGINT (Ctrl-C); temporary files removed
  {EXIT_SIGPIPE:<3}  standard output closed by its reader (e.g. | head -1); quietly
  {EXIT_SIGTERM:<3}  terminated by SIGTERM; temporary files removed"""
"""The exit statuses as listed at the end of ``kursk-da --help`` (and of every sub-command's)."""

PENDING: list[int] = []
"""Signals received by ``kursk-da`` (SIGINT, SIGTERM, SIGHUP), in order; set by its handlers."""


def check_interrupted() -> None:
    """Raise :class:`~kursk_da.errors.Interrupted` if a signal was received.

    The handlers raise at once; this catches a signal whose exception Python swallowed
    (raised inside a weakref callback or ``__del__``): called between the steps of a
    sub-command (after each engine chunk, before writing).
    """
    if PENDING:
        raise Interrupted(PENDING[0])


class StdoutError(OSError):
    """Standard output could not be written (closed by its reader, or full)."""


class GuardedStdout:
    """``sys.stdout`` whose write errors are :class:`StdoutError`, so that a closed or
    full standard output is told apart from the other I/O errors of a command."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except OSError as exc:
            raise StdoutError(exc.errno, exc.strerror) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise StdoutError(exc.errno, exc.strerror) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
