"""The exit statuses of ``kursk-da`` and the signals received (a light module)."""

from __future__ import annotations

import signal

from kursk_da.errors import Interrupted

__all__ = ["EXIT_OK", "EXIT_BAD_INPUT", "EXIT_UNCONVERGED", "EXIT_SIGINT", "EXIT_SIGTERM",
           "PENDING", "check_interrupted"]

EXIT_OK = 0
"""Exit status on success."""
EXIT_BAD_INPUT = 2
"""Exit status for bad input: spec, arguments, output paths, missing or corrupt result file."""
EXIT_UNCONVERGED = 3
"""Exit status when the calibration fails its convergence diagnostics."""
EXIT_SIGINT = 128 + signal.SIGINT
"""Exit status after SIGINT (Ctrl-C): 130."""
EXIT_SIGTERM = 128 + signal.SIGTERM
"""Exit status after SIGTERM: 143."""

PENDING: list[int] = []
"""Signals received by ``kursk-da`` (SIGINT, SIGTERM), in order; set by its handlers."""


def check_interrupted() -> None:
    """Raise :class:`~kursk_da.errors.Interrupted` if a signal was received.

    The handlers raise at once; this catches a signal whose exception Python swallowed
    (raised inside a weakref callback or ``__del__``): called between the steps of a
    sub-command (after each engine chunk, before writing).
    """
    if PENDING:
        raise Interrupted(PENDING[0])
