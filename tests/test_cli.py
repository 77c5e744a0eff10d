"""CLI: the analysis end to end, and every bad input refused with status 2."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from _essay import essay_spec_text

from kursk_da.cli import main

MODELS = Path(__file__).resolve().parents[1] / "models"

# the bad specs are written alone into tmp_path: the essay spec (inline observations), not the
# default, whose claims file models/data/ would not be beside them
SPEC_TEXT = essay_spec_text()


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


# --------------------------------------------------------------------------- tables to paste
# (issue 14, item 5): summary/voi --format, -q/-v, exit statuses in --help, stages

import csv  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

OPTION_KEYS = ["expected_value", "expected_value_mcse", "prob_best", "prob_best_mcse",
               "expected_regret", "expected_regret_mcse", "cvar", "cvar_mcse"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory, small_tree):
    """The session's small prior result set (3000 draws), saved, and its file."""
    from kursk_da.io import save_result_set

    path = save_result_set(small_tree, tmp_path_factory.mktemp("tables") / "small.nc")
    return path, small_tree


def _independent(tree):
    """EV, its MCSE, P(best) and EVPI recomputed from the per-draw values."""
    v = tree["decision"]["value"].transpose("draw", "option")
    options = [str(o) for o in v["option"].values]
    x = v.values
    n = x.shape[0]
    ev = x.mean(axis=0)
    mcse = x.std(axis=0, ddof=1) / np.sqrt(n)
    best = np.bincount(x.argmax(axis=1), minlength=len(options)) / n
    evpi = x.max(axis=1).mean() - ev.max()
    return ({o: (ev[i], mcse[i], best[i]) for i, o in enumerate(options)}, evpi)


def _run(args, capsys):
    status = main(args)
    cap = capsys.readouterr()
    return status, cap.out, cap.err


def test_summary_csv_parses_with_units_and_the_result_sets_numbers(saved, capsys):
    path, tree = saved
    status, out, _ = _run(["summary", str(path), "--format", "csv"], capsys)
    assert status == 0
    rows = list(csv.reader(io.StringIO(out)))
    header, body = rows[0], rows[1:]
    # one header row, no index column, units in every numeric header
    assert header[0] == "option"
    assert header[1:] == ["expected value (dkm2)", "MCSE of expected value (dkm2)",
                          "P(best) (1)", "MCSE of P(best) (1)", "expected regret (dkm2)",
                          "MCSE of expected regret (dkm2)", "CVaR 5% (dkm2)",
                          "MCSE of CVaR 5% (dkm2)"]
    assert all(not any(c.endswith(")") and c.startswith("option") for c in r) for r in body)
    assert len(body) == tree["decision"].sizes["option"] == len(_spec_2025().option_names)
    dec = tree["decision"]
    indep, _ = _independent(tree)
    evs = [float(r[1]) for r in body]
    assert evs == sorted(evs, reverse=True)  # best expected value first
    for r in body:
        o = r[0]
        # the result set's numbers, to the last bit (no rounding in CSV)
        for key, text in zip(OPTION_KEYS, r[1:], strict=True):
            assert float(text) == float(dec[key].sel(option=o)), (o, key)
        # and independent of the stored summary: the per-draw values recomputed
        ev, mcse, p_best = indep[o]
        assert float(r[1]) == pytest.approx(ev, rel=1e-12, abs=1e-9)
        assert float(r[2]) == pytest.approx(mcse, rel=1e-3)
        assert float(r[3]) == pytest.approx(p_best, abs=1e-12)


def test_summary_json_is_valid_and_carries_units_and_mcse(saved, capsys):
    path, tree = saved
    status, out, _ = _run(["summary", str(path), "--format", "json"], capsys)
    assert status == 0
    doc = json.loads(out)
    assert doc["table"] == "options" and doc["schema"] == "kursk-da-table/1"
    units = doc["units"]
    for key in OPTION_KEYS:
        assert units[key] == ("1" if key.startswith("prob_best") else "dkm2"), key
    assert {c["key"] for c in doc["columns"]} == {"option", *OPTION_KEYS}
    indep, evpi = _independent(tree)
    dec = tree["decision"]
    assert [r["option"] for r in doc["rows"]] == sorted(indep, key=lambda o: -indep[o][0])
    for r in doc["rows"]:
        for key in OPTION_KEYS:
            assert r[key] == float(dec[key].sel(option=r["option"])), key
        assert r["expected_value"] == pytest.approx(indep[r["option"]][0], rel=1e-12)
        assert r["expected_value_mcse"] > 0 and r["cvar_mcse"] > 0
    meta = doc["meta"]
    assert meta["evpi"] == pytest.approx(evpi, rel=1e-9)
    assert meta["evpi_mcse"] == float(dec["evpi_mcse"]) > 0
    assert meta["value_units"] == "dkm2" and meta["draws"] == 3000 and meta["seed"] == 7
    assert meta["analysis"] == "prior"


def test_summary_markdown_escapes_text(saved, tmp_path, capsys):
    from kursk_da.io import load_result_set, save_result_set

    path, _ = saved
    tree = load_result_set(path).copy()
    tree.attrs["spec_name"] = "kursk|<b>x</b>*_[y](z)"
    odd = save_result_set(tree, tmp_path / "odd.nc")
    status, out, _ = _run(["summary", str(odd), "--format", "markdown"], capsys)
    assert status == 0
    caption = out.splitlines()[0]
    assert caption.startswith(r"kursk\|&lt;b&gt;x&lt;/b&gt;\*\_\[y\](z): prior analysis")
    table = [line for line in out.splitlines() if line.startswith("|")]
    assert len(table) == 2 + tree["decision"].sizes["option"]  # header, separator, option rows
    n_cells = {len(re.split(r"(?<!\\)\|", line)) for line in table}
    assert n_cells == {1 + 9 + 1}  # option + 8 numbers, bounded by pipes
    assert r"strike\_only" in out and "dkm2" in table[0]


def test_summary_out_file_equals_stdout_and_is_checked_up_front(saved, tmp_path, capsys):
    path, _ = saved
    _, out, _ = _run(["summary", str(path), "--format", "csv"], capsys)
    target = tmp_path / "sub" / "options.csv"
    status, out2, err = _run(["summary", str(path), "--format", "csv", "--out", str(target)],
                             capsys)
    assert status == 0 and out2 == ""
    assert target.read_text() == out
    assert f"table written to {target}" in err
    # a directory as --out: refused before reading, status 2, naming the option
    status, _, err = _run(["summary", str(tmp_path / "missing.nc"), "--out", str(tmp_path)],
                          capsys)
    assert status == 2 and "--out" in err and "directory" in err


def test_quiet_silences_info_and_verbose_flags_go_anywhere(saved, tmp_path, capsys):
    path, _ = saved
    target = tmp_path / "t.md"
    for args in (["-q", "summary", str(path)], ["summary", str(path), "-q"]):
        status, _, err = _run([*args, "--format", "markdown", "--out", str(target)], capsys)
        assert status == 0 and err == "", err
    status, out, err = _run(["summary", str(path), "-v"], capsys)
    assert status == 0 and out.startswith("kursk_2025: prior analysis")


def test_table_format_is_the_console_table(saved, capsys):
    from kursk_da.io import options_table

    path, tree = saved
    status, out, _ = _run(["summary", str(path), "--format", "table"], capsys)
    assert status == 0 and out == options_table(tree) + "\n"
    assert _run(["summary", str(path)], capsys)[1] == out


def test_summary_voi_without_a_voi_group_exits_2(saved, capsys):
    status, out, err = _run(["summary", str(saved[0]), "--voi"], capsys)
    assert status == 2 and out == ""
    assert "--voi" in err and "kursk-da voi" in err


def test_voi_formats_parse_and_match_the_stored_group(saved, tmp_path, capsys):
    from kursk_da.io import load_result_set

    path, _ = saved
    out_nc = tmp_path / "voi.nc"
    status, out, err = _run(["voi", str(path), "--format", "json", "--out", str(out_nc),
                             "--gp-max-draws", "200", "--jobs", "2"], capsys)
    assert status == 0, err
    assert "[1/1] VOI tasks" in err and f"result set written to {out_nc}" in err
    doc = json.loads(out)  # only the table on stdout
    voi = load_result_set(out_nc)["voi"].to_dataset()
    inputs = [r for r in doc["rows"] if r["level"] == "input"]
    groups = [r for r in doc["rows"] if r["level"] == "group"]
    assert len(inputs) == voi.sizes["parameter"] and len(groups) == voi.sizes["group"]
    assert doc["units"]["evppi"] == doc["units"]["evppi_se"] == "dkm2"
    for r in inputs:
        assert r["evppi"] == float(voi["evppi"].sel(parameter=r["name"]))
        assert r["evppi_se"] == float(voi["evppi_se"].sel(parameter=r["name"]))
        assert r["evppi_share"] == pytest.approx(r["evppi"] / doc["meta"]["evpi"], rel=1e-12)
    for r in groups:
        assert r["evppi"] == float(voi["group_evppi"].sel(group=r["name"]))
        assert r["smoother"] in {"linear", "gam", "gp"} and r["inputs"] >= 1
    assert [r["evppi"] for r in inputs] == sorted((r["evppi"] for r in inputs), reverse=True)
    assert doc["meta"]["evpi"] == float(voi["evpi"])
    # the EVPPI never exceeds the EVPI (up to its standard error)
    assert all(r["evppi"] <= doc["meta"]["evpi"] + 3 * doc["meta"]["evpi_se"] for r in inputs)
    # summary --voi of the written file: the same table, and the CSV parses to it
    status, again, _ = _run(["summary", str(out_nc), "--voi", "--format", "json"], capsys)
    assert status == 0 and json.loads(again)["rows"] == doc["rows"]
    status, text, _ = _run(["summary", str(out_nc), "--voi", "--format", "csv"], capsys)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [float(r["EVPPI (dkm2)"]) for r in rows] == [r["evppi"] for r in doc["rows"]]
    assert list(rows[0])[:4] == ["level", "name", "group", "EVPPI (dkm2)"]
    status, text, _ = _run(["summary", str(out_nc), "--voi"], capsys)
    assert status == 0 and text.startswith("EVPI ") and "groups (smoother, inputs)" in text


EXIT_CODES = {0: "success", 1: "internal error", 2: "bad input", 3: "calibration",
              128 + signal.SIGINT: "SIGINT", 128 + signal.SIGTERM: "SIGTERM",
              128 + signal.SIGHUP: "SIGHUP", 128 + signal.SIGPIPE: "standard output closed"}


@pytest.mark.parametrize("command", [[], ["summary"], ["analyze"], ["voi"]])
def test_help_lists_the_exit_statuses(command, capsys):
    from kursk_da.cli import _status

    with pytest.raises(SystemExit) as exc:
        main([*command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    listed = dict(re.findall(r"^  (\d+) +(.+)$", out.split("exit status:")[1], re.M))
    assert set(map(int, listed)) == set(EXIT_CODES) == {
        _status.EXIT_OK, _status.EXIT_INTERNAL, _status.EXIT_BAD_INPUT,
        _status.EXIT_UNCONVERGED, _status.EXIT_SIGINT, _status.EXIT_SIGTERM,
        _status.EXIT_SIGHUP, _status.EXIT_SIGPIPE}
    for code, word in EXIT_CODES.items():
        assert word in listed[str(code)], (code, listed)
    assert "-q, --quiet" in out and "-v, --verbose" in out


def test_an_internal_error_exits_1_with_the_traceback(saved, monkeypatch, capsys):
    import kursk_da.io

    def boom(tree):
        raise RuntimeError("boom in the table")

    # the handler imports the library when it runs (kursk-da --help imports none of it)
    monkeypatch.setattr(kursk_da.io, "options_table", boom)
    status, out, err = _run(["summary", str(saved[0])], capsys)
    assert status == 1 and out == ""
    assert "internal error" in err and "RuntimeError: boom in the table" in err
    assert "Traceback" in err


def test_analyze_logs_its_stages_and_quiet_silences_them(tmp_path, capsys):
    args = ["analyze", str(MODELS / "kursk_2025.toml"), "--prior-only", "--draws", "200",
            "--seed", "1", "--out", str(tmp_path / "a.nc")]
    status, out, err = _run(args, capsys)
    assert status == 0 and out.startswith("kursk_2025: prior analysis, 200 draws")
    n_options = len(_spec_2025().option_names)
    assert f"[1/1] propagation: 200 prior draws x {n_options} options" in err
    assert re.search(r"\[1/1\] propagation: done in [\d.]+ s", err)
    assert f"result set written to {tmp_path / 'a.nc'}" in err
    status, out_q, err_q = _run(["-q", *args], capsys)
    assert status == 0 and err_q == "" and out_q == out


@pytest.mark.parametrize("verbosity", [-1, 0, 1, 2])
def test_third_party_warnings_and_logs_only_with_verbose(verbosity, capsys):
    from kursk_da.cli._log import LOGGER, configured

    with configured(verbosity):
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn("pytensor says: slow", UserWarning, stacklevel=1)
        logging.getLogger("pymc").warning("pymc says: careful")
        logging.getLogger("pymc.sampling").info("pymc says: sampling 2 chains")
        LOGGER.info("our info")
        LOGGER.debug("our debug")
    err = capsys.readouterr().err
    assert ("pytensor says: slow" in err) is (verbosity >= 1)
    assert ("pymc says: careful" in err) is (verbosity >= 1)
    assert ("pymc says: sampling" in err) is (verbosity >= 2)
    assert ("our info" in err) is (verbosity >= 0)
    assert ("our debug" in err) is (verbosity >= 1)
    # everything restored: warnings no longer captured, no handler left on the root
    assert not any(type(h).__name__ == "_TqdmHandler" for h in logging.getLogger().handlers)


def _spec_2025():
    """The default 2025 spec (its option count is not pinned by these tests)."""
    from kursk_da.spec import load_spec

    return load_spec(MODELS / "kursk_2025.toml")
