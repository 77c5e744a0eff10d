"""What every sub-command shares: argparse types, the source of ``voi``/``sensitivity``.

The argparse types check their value with :mod:`kursk_da.validation`, so the CLI and the
library say the same thing about a bad value (``expected an integer >= 1, got 0``);
argparse prefixes the option's name. A :class:`~kursk_da.errors.KurskDAError` raised by
a handler becomes exit status 2 in :func:`kursk_da.cli.main`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kursk_da._defaults import EXPORT_FORMATS
from kursk_da.cli._log import LOGGER
from kursk_da.cli._status import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_UNCONVERGED,
    PENDING,
    StdoutError,
    check_interrupted,
)
from kursk_da.errors import (
    ArgumentError,
    ClusterError,
    Interrupted,
    KurskDAError,
    OutputWriteError,
)
from kursk_da.validation import (
    MAX_SEED,
    check_int,
    check_output_dir,
    check_output_file,
    check_outputs_not_inputs,
    check_real,
)

if TYPE_CHECKING:
    import xarray as xr

    from kursk_da.spec._schema import Spec

__all__ = [
    "EXIT_OK",
    "EXIT_BAD_INPUT",
    "EXIT_UNCONVERGED",
    "int_type",
    "real_type",
    "date_type",
    "positive_int",
    "seed_type",
    "load_source",
    "check_interrupted",
    "check_out_file",
    "check_plots_dir",
    "check_io_paths",
    "run_handler",
    "FORMATS",
    "add_format_option",
    "emit",
    "OutputWriteError",
]


_NAME = "value"  # the name given to kursk_da.validation; argparse names the option itself


def _type_error(exc: ArgumentError) -> argparse.ArgumentTypeError:
    return argparse.ArgumentTypeError(str(exc).removeprefix(f"{_NAME}: "))


def int_type(minimum: int | None = None, maximum: int | None = None) -> Callable[[str], int]:
    """argparse type: an integer within the bounds (:func:`kursk_da.validation.check_int`)."""

    def parse(text: str) -> int:
        try:
            value: object = int(text)
        except ValueError:
            value = text  # check_int names what it got
        try:
            return check_int(value, _NAME, minimum=minimum, maximum=maximum)
        except ArgumentError as exc:
            raise _type_error(exc) from None

    parse.__name__ = "integer"
    return parse


def real_type(minimum: float | None = None, maximum: float | None = None,
              strict: bool = False) -> Callable[[str], float]:
    """argparse type: a finite number within the bounds (:func:`kursk_da.validation.check_real`)."""

    def parse(text: str) -> float:
        try:
            value: object = float(text)
        except ValueError:
            value = text
        try:
            return check_real(value, _NAME, minimum=minimum, maximum=maximum, strict=strict)
        except ArgumentError as exc:
            raise _type_error(exc) from None

    parse.__name__ = "number"
    return parse


def date_type(text: str) -> dt.date:
    """argparse type: an ISO date (YYYY-MM-DD)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date like 2024-10-01, got {text!r}") from None


positive_int = int_type(minimum=1)
"""argparse type: an integer >= 1 (draws, chunks, threads, rows)."""
seed_type = int_type(minimum=0, maximum=MAX_SEED)
"""argparse type: a root seed, an integer from 0 to 2**63 - 1 (stored as a signed 64-bit
integer)."""


def check_out_file(path: Path | None, option: str = "--out") -> None:
    """Check an output file option before any computing (exit 2 naming ``option``)."""
    if path is not None:
        check_output_file(path, option)


def check_plots_dir(path: Path | None, option: str = "--plots") -> None:
    """Check an output directory option before any computing (exit 2 naming ``option``)."""
    if path is not None:
        check_output_dir(path, option)


INPUT_ARGS = ("spec", "source", "path")
"""The positional arguments naming what a sub-command reads (a spec or a result set)."""
OUTPUT_ARGS = {"out": "--out", "plots": "--plots"}
"""The options naming what a sub-command writes, with their spelling."""


UPDATES_SOURCE = frozenset({"voi", "sensitivity", "policy", "optimize", "waiting", "twoway",
                            "intelligence", "hindcast", "variants"})
"""Sub-commands whose ``--out`` result set is their source result set with groups added:
``--out`` may name the source itself, which is then updated in place (written beside it and
renamed over it, atomically: ``make report`` adds its groups so). Their ``--out`` may still
not be any other input, nor their ``--plots``."""


def check_io_paths(args: argparse.Namespace) -> None:
    """Refuse an output that would overwrite an input, before anything is computed.

    The inputs are the ``spec``/``source``/``path`` argument and, for a spec (``.toml``),
    the observations files it reads; the outputs ``--out`` and ``--plots`` (the report's
    ``--out`` directory, replaced as a whole, may not hold an input either). Same file:
    same device and inode (symbolic and hard links included) or the same resolved path
    (:func:`kursk_da.validation.check_outputs_not_inputs`). Exit 2 naming the option.
    One exception: a sub-command of :data:`UPDATES_SOURCE` may write its result set over
    its source result set (not over a spec, an observations file or with a table).
    """
    from kursk_da.spec._schema import spec_files

    inputs: list[Path] = []
    for name in INPUT_ARGS:
        value = getattr(args, name, None)
        if isinstance(value, Path):
            inputs += spec_files(value) if value.suffix == ".toml" else [value]
    outputs = {flag: getattr(args, attr, None) for attr, flag in OUTPUT_ARGS.items()}
    command = getattr(args, "command", None)
    replaced = ("--out",) if command == "report" else ()
    source = getattr(args, "source", None)
    if (command in UPDATES_SOURCE and isinstance(source, Path) and source.suffix != ".toml"
            and outputs.get("--out") is not None):
        others = [p for p in inputs if p is not source]
        check_outputs_not_inputs({"--out": outputs.pop("--out")}, others)
    check_outputs_not_inputs(outputs, inputs, replaced_dirs=replaced)


def load_source(src: Path, draws: int, seed: int,
                check: Callable[[Spec], object] | None = None) -> tuple[Spec, xr.DataTree]:
    """(spec, result set) of a ``SOURCE`` argument.

    A spec file (``.toml``) is analysed now: the prior analysis with ``draws`` and
    ``seed`` (``kd.analyze(..., prior_only=True)``; for the value of information of the
    calibrated analysis, run ``kursk-da analyze`` first and give its result set);
    anything else is read as a saved result set, whose stored spec is rebuilt.
    ``check`` is called with the spec before the analysis (the arguments that name
    inputs are refused before any computing, issue 23).
    """
    from kursk_da.analysis import analyze
    from kursk_da.io import load_result_set, spec_from_tree
    from kursk_da.spec._schema import load_spec

    if src.suffix == ".toml":
        spec = load_spec(src)
        if check is not None:
            check(spec)
        return spec, analyze(spec, draws, seed, prior_only=True)
    tree = load_result_set(src)
    spec = spec_from_tree(tree)
    if check is not None:
        check(spec)
    return spec, tree


def run_handler(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run a sub-command's handler; a :class:`~kursk_da.errors.KurskDAError` is bad input.

    Returns
    -------
    int
        The handler's exit status; :data:`EXIT_BAD_INPUT` after printing
        ``kursk-da: error: <message>`` on stderr; :data:`EXIT_INTERNAL` after logging the
        traceback of any other exception (a bug).

    Raises
    ------
    Interrupted
        When the handler failed after a signal was received (a library that caught the
        signal's exception, such as a sampler returning its draws so far, and failed
        on); the command then exits with its interrupted status.
    """
    try:
        check_io_paths(args)  # every sub-command, before its handler computes anything
        return int(handler(args))
    except Exception as exc:
        if PENDING:
            # a library that caught the signal's exception and failed on (e.g. a sampler
            # returning its draws so far: SamplingIncomplete): the command was interrupted
            raise Interrupted(PENDING[0]) from exc
        if isinstance(exc, StdoutError):
            raise  # standard output closed or full: main() ends quietly
        if isinstance(exc, KurskDAError):
            print(f"kursk-da: error: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        if isinstance(exc, ClusterError):  # not a bug: the cluster failed or is unreachable
            print(f"kursk-da: error: {exc}; nothing written", file=sys.stderr)
            return EXIT_INTERNAL
        LOGGER.exception("internal error (please report it with the command and this "
                         "traceback)")
        return EXIT_INTERNAL


FORMATS = ("table", *EXPORT_FORMATS)


def add_format_option(parser: argparse.ArgumentParser) -> None:
    """``--format table|csv|json|markdown`` (``kursk-da summary`` and ``kursk-da voi``)."""
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="table: the console text (default); csv: one header row with "
                             "units, no index column; json: unrounded numbers with MCSE and "
                             "units; markdown: a pipe table to paste")


def _write_text(target: Path, text: str) -> Path:
    """Write ``text`` to ``target`` atomically (a temporary file beside it, then renamed)."""
    from kursk_da.io._atomic import write_atomic

    return write_atomic(target, text.encode("utf-8"))


def emit(text: str, out: Path | None) -> None:
    """Print ``text`` on stdout, or write it atomically to ``out`` (logged)."""
    text = text if text.endswith("\n") else text + "\n"
    if out is None:
        print(text, end="")
        return
    LOGGER.info("table written to %s", _write_text(out, text))
