"""CLI: the analysis end to end, and every bad input refused with status 2."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from kursk_da.cli import main

MODELS = Path(__file__).resolve().parents[1] / "models"

SPEC_TEXT = (MODELS / "kursk_2025.toml").read_text()


def _bad_spec(tmp_path, old: str, new: str):
    assert old in SPEC_TEXT, old
    path = tmp_path / "bad.toml"
    path.write_text(SPEC_TEXT.replace(old, new, 1))
    return path


BAD_CASES = {
    "unknown distribution": (
        '[parameters.ua_force_rate]\ndist = "lognormal"',
        '[parameters.ua_force_rate]\ndist = "lognormalish"',
        r"parameters\.ua_force_rate\.dist",
    ),
    "negative scale": (
        '[parameters.lanchester_exponent]\ndist = "uniform"\nlower = 0.3\nupper = 1.0',
        '[parameters.lanchester_exponent]\ndist = "normal"\nmean = 0.6\nsd = -0.1',
        r"parameters\.lanchester_exponent\.sd",
    ),
    "missing field": (
        'horizon_days = 181                  # to 4 July 2025: "a horizon of about six months"\n',
        "",
        r"decision\.horizon_days: missing",
    ),
    "missing parameter": (
        '[parameters.strike_attrition]\ndist = "lognormal"',
        '[parameters.strike_attritionX]\ndist = "lognormal"',
        r"parameters\.strike_attrition",
    ),
    "missing source": (
        'units = "1/day"\nsource = "Analyst judgement: Ukraine builds up and replaces losses'
        ' over one to four weeks."',
        'units = "1/day"',
        r"parameters\.ua_force_rate\.source",
    ),
    "unknown option field": (
        '[options.hold]\ndescription = "Defend',
        '[options.hold]\ntactic = "dig in"\ndescription = "Defend',
        r"options\.hold\.tactic",
    ),
    "unknown posture": (
        'after_days = 0\nposture = "defend"',
        'after_days = 0\nposture = "dig_in"',
        r"options\.hold\.phases\[0\]\.posture",
    ),
    "lever names unknown parameter": (
        'force_added = "renewed_added_forces"\nloss_multiplier',
        'force_added = "renewed_added_forcez"\nloss_multiplier',
        r"options\.renewed_offensive\.phases\[0\]\.force_added",
    ),
    "date outside horizon": (
        "after_days = 30",
        "after_days = 400",
        r"options\.renewed_offensive\.phases\[1\]\.after_days: date 2026-02-09 is outside",
    ),
    "history date after decision": (
        "start = 2024-08-20",
        "start = 2025-02-20",
        r"history\.phases\[1\]\.start: date 2025-02-20 is outside",
    ),
    "decision before 6 August 2024": (
        "date = 2025-01-05",
        "date = 2024-07-01",
        r"decision\.date",
    ),
    "bad interval": (
        "interval = [8000, 12000]",
        "interval = [12000, 8000]",
        r"parameters\.ua_initial_force\.interval",
    ),
    "inconsistent correlations": (
        'params = ["ru_reinforcement_ceiling", "ru_reinforcement_rate"]\nrank_corr = 0.3',
        'params = ["ua_loss_attack", "ru_loss_attack"]\nrank_corr = -0.95',
        r"correlations",
    ),
    "not TOML": ("[meta]", "[meta", r"not valid TOML"),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_spec_exits_2_and_writes_nothing(case, tmp_path, capsys):
    old, new, pattern = BAD_CASES[case]
    spec = _bad_spec(tmp_path, old, new)
    out = tmp_path / "out.nc"
    status = main(["analyze", str(spec), "--draws", "10", "--seed", "1", "--out", str(out),
                   "--no-progress"])
    err = capsys.readouterr().err
    assert status == 2
    assert re.search(pattern, err), err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_missing_spec_file(tmp_path, capsys):
    status = main(["analyze", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o.nc")])
    assert status == 2
    assert "spec file not found" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["--draws", "0"], ["--draws", "ten"], ["--seed", "-1"]])
def test_bad_arguments_exit_2(args, tmp_path):
    with pytest.raises(SystemExit) as exc:
        main(["analyze", str(MODELS / "kursk_2025.toml"), "--out", str(tmp_path / "o.nc"), *args])
    assert exc.value.code == 2
    assert not (tmp_path / "o.nc").exists()


def test_summary_of_missing_or_corrupt_file(tmp_path, capsys):
    assert main(["summary", str(tmp_path / "missing.nc")]) == 2
    assert "not found" in capsys.readouterr().err
    bad = tmp_path / "bad.nc"
    bad.write_text("garbage")
    assert main(["summary", str(bad)]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_analyze_then_summary_end_to_end(tmp_path):
    """The console script as a user runs it: table printed, file written, same table back."""
    out = tmp_path / "k.nc"
    cmd = [sys.executable, "-m", "kursk_da.cli", "analyze", str(MODELS / "kursk_2024.toml"),
           "--draws", "600", "--seed", "1", "--out", str(out), "--no-progress"]
    run = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert "no_offensive" in run.stdout and "EVPI" in run.stdout and out.exists()
    table = run.stdout.split("result set written")[0].strip()
    summ = subprocess.run([sys.executable, "-m", "kursk_da.cli", "summary", str(out)],
                          capture_output=True, text=True, check=True)
    assert summ.stdout.strip() == table


def _imported_modules(path: Path, module: str) -> set[str]:
    """Every module an import statement of ``path`` names (function-level ones included)."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import: resolve against the importing package
                parts = package.split(".")
                parent = ".".join(parts[:len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def test_no_library_module_imports_the_cli():
    """The CLI is the top layer: nothing outside kursk_da/cli imports it, even in a function."""
    root = Path(__file__).resolve().parents[1]
    package = root / "kursk_da"
    offenders = []
    checked = 0
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        if rel.parts[:2] == ("kursk_da", "cli"):
            continue
        module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        checked += 1
        bad = sorted(m for m in _imported_modules(path, module)
                     if m == "kursk_da.cli" or m.startswith("kursk_da.cli."))
        if bad:
            offenders.append(f"{module}: {bad}")
    assert checked > 30
    assert not offenders, offenders
    assert not (package / "cli.py").exists()
    assert not (package / "voi" / "commands.py").exists()
    assert not (package / "report" / "command.py").exists()


@pytest.mark.parametrize("text", ["0", "-3", "ten", "2.5", ""])
def test_argument_types_say_what_the_library_says(text):
    """A bad --draws gets the message of kursk_da.validation.check_int, named by argparse."""
    import argparse

    from kursk_da.cli._common import positive_int
    from kursk_da.errors import ArgumentError
    from kursk_da.validation import check_int

    with pytest.raises(argparse.ArgumentTypeError) as cli_err:
        positive_int(text)
    try:
        value: object = int(text)
    except ValueError:
        value = text
    with pytest.raises(ArgumentError) as lib_err:
        check_int(value, "draws", minimum=1)
    assert f"draws: {cli_err.value}" == str(lib_err.value)
    assert positive_int("7") == 7
