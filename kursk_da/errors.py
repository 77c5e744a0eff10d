"""Exceptions raised at the package boundary.

Every error raised for bad user input names the offending field (a dotted path
into the spec, e.g. ``parameters.ru_garrison.sigma``) or the file, and says what
was expected.  The CLI maps these to exit status 2.
"""

from __future__ import annotations

__all__ = [
    "KurskDAError",
    "ClusterError",
    "SpecError",
    "ResultFileError",
    "ArgumentError",
    "VOIInputError",
    "UnknownParameterError",
    "SamplingIncomplete",
    "UnknownQuantityError",
    "Interrupted",
]


class KurskDAError(Exception):
    """Base class of all errors raised by kursk_da for bad input."""


class SpecError(KurskDAError, ValueError):
    """A model spec (TOML file or in-memory object) is invalid.

    Parameters
    ----------
    path : str
        Dotted path of the offending field, e.g. ``"options.hold.posture"``.
    message : str
        What was wrong and what was expected.
    """

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


class ResultFileError(KurskDAError, OSError):
    """A result-set file is missing, unreadable or does not follow the schema."""


class OutputWriteError(KurskDAError, OSError):
    """An output could not be written: no space left on the device, a disk quota, an
    I/O error, a read-only file system. The temporary file was removed and a previous
    output is intact; the message names the path and the cause in one line."""


class ArgumentError(KurskDAError, ValueError):
    """An argument of a library function is invalid.

    The message starts with the argument's name and says what was expected.
    """


class VOIInputError(ArgumentError):
    """An argument of a value-of-information or sensitivity function is invalid.

    The message starts with the argument's name and says what was expected.
    """


class UnknownParameterError(KurskDAError, KeyError):
    """A requested parameter is not a column of ``inputs``.

    The message lists the unknown names and the available ones.
    """

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else ""


class UnknownQuantityError(KurskDAError, KeyError):
    """A name is not in the catalogue of model quantities (:mod:`kursk_da.dynamics.catalogue`).

    The message lists the known names.
    """

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else ""


class SamplingIncomplete(RuntimeError):
    """The MCMC sampler returned fewer chains or draws than asked for.

    nutpie and PyMC stop early and return what they have when interrupted (they catch
    :class:`KeyboardInterrupt`, so also :class:`Interrupted`); a calibration never goes on
    with such a sample. The ``kursk-da`` command turns this into its interrupted exit
    status when a signal was received.
    """


class Interrupted(KeyboardInterrupt):
    """A signal (SIGINT, SIGTERM) received by the ``kursk-da`` command.

    Raised by the CLI's signal handlers so that every ``finally``/``except BaseException``
    block on the way out runs (the atomic writers remove their temporary files); like
    :class:`KeyboardInterrupt` it is not an :class:`Exception`.

    Parameters
    ----------
    signum : int
        The signal number; the command exits with status ``128 + signum``.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signum)


class ClusterError(RuntimeError):
    """The dask cluster failed a run (a task failed beyond dask's retries, or the
    scheduler cannot be reached); nothing is written."""
