"""The exit statuses of ``kursk-da`` (a light module: importing it imports nothing else)."""

from __future__ import annotations

import signal

__all__ = ["EXIT_OK", "EXIT_BAD_INPUT", "EXIT_UNCONVERGED", "EXIT_SIGINT", "EXIT_SIGTERM"]

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
