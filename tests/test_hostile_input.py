"""Hostile input (issue 23): formula cells in every CSV the package writes, hostile names,
NUL and non-UTF-8 text in a spec, damaged result files, library arguments."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from kursk_da.io._table import options_export, render_table, voi_export

FORMULAS = ('=HYPERLINK("http://evil.example","x")', "+cmd|' /C calc'!A0", "-2+3",
            "@SUM(A1:A2)", "\tTAB", "\rCR")


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _safe(cell: str) -> bool:
    return not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("text", FORMULAS)
def test_csv_text_prefixes_a_quote_to_formula_starts(text):
    from kursk_da.io._table import csv_text

    assert csv_text(text) == "'" + text
    assert csv_text("plain " + text) == "plain " + text


def test_options_csv_neutralises_option_names_keeps_negative_numbers(small_tree):
    dec = small_tree["decision"].to_dataset()
    names = [FORMULAS[i % len(FORMULAS)] + str(i) for i in range(dec.sizes["option"])]
    tree = small_tree.copy()
    tree["decision"] = dec.assign_coords(option=names)
    text = render_table(options_export(tree), "csv")
    rows = _cells(text)
    body = rows[1:]
    assert sorted(r[0] for r in body) == sorted("'" + n for n in names)
    for r in rows:
        assert all(_safe(c) or _is_number(c) for c in r), r
    # the numbers stay plain numbers, negatives included (the prior values are negative)
    ev = {r[0][1:]: float(r[1]) for r in body}
    assert any(x < 0 for x in ev.values())
    want = dict(zip(names, dec["expected_value"].values.tolist(), strict=True))
    assert ev == want


def _voi(parameters, groups, values):
    k = len(parameters)
    return xr.Dataset(
        {"evpi": 1.0, "evpi_se": 0.1,
         "evppi": ("parameter", np.array(values[:k], dtype=float)),
         "evppi_se": ("parameter", np.full(k, 0.05)),
         "parameter_group": ("parameter", np.array(groups[:k], dtype=object)),
         "group_evppi": ("group", np.array(values[:len(groups)], dtype=float)),
         "group_evppi_se": ("group", np.full(len(groups), 0.05)),
         "group_method": ("group", np.array(["linear"] * len(groups), dtype=object)),
         "group_size": ("group", np.ones(len(groups), dtype=int))},
        coords={"parameter": list(parameters), "group": list(groups)},
        attrs={"units": "dkm2", "n_draws": 100})


def test_voi_csv_neutralises_input_and_group_names_keeps_negative_numbers():
    params = ["=a", "@b", "+c"]
    groups = ["-g1", "\tg2", "=g3"]
    values = [-0.5, 0.25, -1e-3]  # a regression EVPPI can come out below zero
    rows = _cells(render_table(voi_export(_voi(params, groups, values)), "csv"))
    for r in rows:
        assert all(_safe(c) or _is_number(c) for c in r), r
    names = {r[1] for r in rows[1:]}
    assert {"'" + n for n in params + groups} <= names
    evppi = sorted(float(r[3]) for r in rows[1:])
    assert evppi == sorted(values + values)


def test_voi_cli_csv_writer_neutralises(tmp_path, small_tree, capsys):
    """``kursk-da summary --voi --format csv`` of a result set with hostile group names."""
    from kursk_da.cli import main
    from kursk_da.io import save_result_set

    tree = small_tree.copy()
    tree["voi"] = _voi(["=a", "@b"], ["=SUM(1)", "+x"], [0.3, -0.1])
    path = save_result_set(tree, tmp_path / "voi.nc")
    assert main(["summary", str(path), "--voi", "--format", "csv"]) == 0
    rows = _cells(capsys.readouterr().out)
    assert len(rows) == 5
    for r in rows:
        assert all(_safe(c) or _is_number(c) for c in r), r


def test_hindcast_csv_neutralises_and_keeps_negative_skill():
    from kursk_da.cli._hindcast import hindcast_export

    keys = ("n_used", "n_forecast", "n_point", "crps_relative", "coverage_50", "coverage_90",
            "skill_persistence", "n_persistence", "skill_trend", "n_trend", "divergences",
            "max_rhat")
    origins = pd.to_datetime(["2024-09-01", "2024-10-01"]).values
    ds = xr.Dataset({k: ("origin", np.array([-0.25, 1.0])) for k in keys},
                    coords={"origin": origins}, attrs={"spec_name": "=evil()"})
    rows = _cells(render_table(hindcast_export(ds), "csv"))
    for r in rows:
        assert all(_safe(c) or _is_number(c) for c in r), r
    assert rows[1][7] == "-0.25" and rows[2][7] == "1.0"


# ------------------------------------------------------------------- HTML / JavaScript
def test_script_json_cannot_close_the_script_element_and_reads_back():
    import json

    from kursk_da.report._explorer import script_json

    names = ["</script><script>alert(1)</script>", "<!--", "a & b", "x\u2028y\u2029z", "é"]
    text = script_json({"options": names})
    assert not set("<>&\u2028\u2029") & set(text)
    assert json.loads(text) == {"options": names}


def test_explorer_script_builds_its_table_without_markup():
    from importlib import resources

    js = resources.files("kursk_da.report").joinpath("_explorer.js").read_text("utf-8")
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js
    assert "document.write" not in js


# ------------------------------------------------------------------- spec text (item 6)
import copy  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

from kursk_da.errors import ArgumentError, ResultFileError, SpecError  # noqa: E402
from kursk_da.spec import load_spec, spec_from_dict  # noqa: E402

MODELS = Path(__file__).resolve().parents[1] / "models"


def _renamed_option(spec, new):
    raw = copy.deepcopy(dict(spec.raw))
    opts = list(raw["options"].items())
    raw["options"] = {(new if i == 0 else k): v for i, (k, v) in enumerate(opts)}
    return raw


@pytest.mark.parametrize(("name", "why"), [
    ("", "non-empty"), ("   ", "non-empty"), ("a\nb", "control"), ("tab\there", "control"),
    ("x" * 101, "at most 100"), ("nul\x00", "NUL"), ("bad\udcff", "UTF-8")])
def test_option_names_refused_naming_the_field(spec_2025, name, why):
    with pytest.raises(SpecError) as err:
        spec_from_dict(_renamed_option(spec_2025, name))
    assert err.value.path.startswith("options.") and why in str(err.value)


def test_an_option_name_of_100_characters_is_accepted(spec_2025):
    spec = spec_from_dict(_renamed_option(spec_2025, "y" * 100))
    assert "y" * 100 in spec.options


@pytest.mark.parametrize(("field", "value", "why"), [
    (("meta", "description"), "a\x00b", "NUL"),
    (("parameters", "ru_garrison", "source"), "src\x00", "NUL"),
    (("meta", "title"), "t\ud800", "UTF-8"),
    (("meta", "description"), "d" * 100_001, "at most 100000")])
def test_text_fields_with_nul_surrogates_or_too_long_refused(spec_2025, field, value, why):
    raw = copy.deepcopy(dict(spec_2025.raw))
    tbl = raw
    for key in field[:-1]:
        tbl = tbl[key]
    tbl[field[-1]] = value
    with pytest.raises(SpecError) as err:
        spec_from_dict(raw)
    assert err.value.path == ".".join(field) and why in str(err.value)


def test_non_utf8_spec_file_refused_naming_the_line(tmp_path):
    text = (MODELS / "kursk_2024.toml").read_bytes()
    lines = text.split(b"\n")
    k = next(i for i, ln in enumerate(lines) if ln.startswith(b"description"))
    lines[k] = lines[k].replace(b"=", b"= \"\xff\xfe\" #", 1)
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\n".join(lines))
    with pytest.raises(SpecError) as err:
        load_spec(bad)
    assert err.value.path == f"{bad}:{k + 1}" and "0xff" in str(err.value)


def test_cli_refuses_a_nul_in_the_spec_with_exit_2(tmp_path, capsys):
    from kursk_da.cli import main

    text = (MODELS / "kursk_2024.toml").read_text(encoding="utf-8")
    bad = tmp_path / "nul.toml"
    bad.write_text(text.replace('title = "', 'title = "\\u0000', 1), encoding="utf-8")
    status = main(["analyze", str(bad), "--draws", "100", "--out", str(tmp_path / "o.nc")])
    err = capsys.readouterr().err
    assert status == 2 and "meta.title" in err and "NUL" in err
    assert not (tmp_path / "o.nc").exists()


# ------------------------------------------------------------------- observations files
@pytest.fixture()
def spec_dir(tmp_path):
    """A copy of models/kursk_2025.toml and its data files, to edit."""
    shutil.copytree(MODELS / "data", tmp_path / "data")
    shutil.copy(MODELS / "kursk_2025.toml", tmp_path / "spec.toml")
    return tmp_path


CLAIMS = "data/kursk_public_figures_2024.csv"


def test_duplicate_claim_rows_refused(spec_dir):
    path = spec_dir / CLAIMS
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, lines[3]]) + "\n", encoding="utf-8")
    n = len(lines) - 1  # the data rows before the copy
    with pytest.raises(SpecError) as err:
        load_spec(spec_dir / "spec.toml")
    assert err.value.path == f"observations.file[{n}]"
    assert "duplicate claim" in str(err.value) and "observations.file[2]" in str(err.value)


def test_the_same_daily_file_twice_refused(spec_dir):
    spec = spec_dir / "spec.toml"
    text = spec.read_text(encoding="utf-8")
    start = text.index("[[observations.daily]]")
    block = text[start:].split("\n\n")[0]
    spec.write_text(text + "\n" + block + "\n", encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_spec(spec)
    assert err.value.path == "observations.daily[1].file" and "twice" in str(err.value)


def test_a_daily_reading_twice_refused(spec_dir):
    path = spec_dir / "data/isw_kursk_russian_advances_daily.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, lines[5]]) + "\n", encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_spec(spec_dir / "spec.toml")
    assert err.value.path.startswith("observations.daily[0].file[")
    assert "duplicate reading" in str(err.value)


def test_unknown_name_in_exclude_quantities_refused(spec_dir):
    spec = spec_dir / "spec.toml"
    spec.write_text(spec.read_text(encoding="utf-8").replace(
        '"nk_casualties_cum"', '"nk_casualties_cum", "nk_casualties_cumm"'), encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_spec(spec)
    assert err.value.path == "observations.exclude_quantities[1]"
    assert "'nk_casualties_cumm'" in str(err.value)
    # misspelt in place of the right name: the row it no longer excludes is refused
    spec.write_text(spec.read_text(encoding="utf-8").replace(
        '"nk_casualties_cum", ', ''), encoding="utf-8")
    with pytest.raises(SpecError, match="exclude_quantities"):
        load_spec(spec)


def test_csv_with_a_byte_order_mark_is_read_like_without(spec_dir):
    plain = load_spec(spec_dir / "spec.toml")
    for name in (CLAIMS, "data/isw_kursk_russian_advances_daily.csv"):
        path = spec_dir / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # as Excel saves UTF-8
    bom = load_spec(spec_dir / "spec.toml")
    assert bom.observations == plain.observations and len(bom.observations) > 0


def test_a_nul_in_a_csv_cell_refused_naming_the_row(spec_dir):
    path = spec_dir / CLAIMS
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1] + "\x00"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_spec(spec_dir / "spec.toml")
    assert err.value.path.startswith("observations.file")


# ------------------------------------------------------------------- result files
def test_nan_in_decision_value_refused(small_tree, tmp_path, capsys):
    from kursk_da.cli import main
    from kursk_da.io import load_result_set, save_result_set

    tree = small_tree.copy()
    dec = tree["decision"].to_dataset()
    v = dec["value"].values.copy()
    v[5, 1] = np.nan
    tree["decision"] = dec.assign(value=(dec["value"].dims, v, dec["value"].attrs))
    path = save_result_set(tree, tmp_path / "nan.nc")
    with pytest.raises(ResultFileError, match=r"/decision/value holds 1 NaN"):
        load_result_set(path)
    for cmd in (["summary", str(path)], ["report", str(path), "--out", str(tmp_path / "r")]):
        assert main(cmd) == 2
        err = capsys.readouterr().err
        assert "NaN" in err and "Traceback" not in err


def test_zarr_with_a_missing_chunk_refused(small_tree, tmp_path, capsys):
    from kursk_da.cli import main
    from kursk_da.io import load_result_set, save_result_set

    path = save_result_set(small_tree, tmp_path / "run.zarr")
    chunks = sorted(p for p in (path / "decision" / "value").iterdir()
                    if not p.name.startswith("."))
    assert chunks
    chunks[-1].unlink()
    with pytest.raises(ResultFileError, match="is missing"):
        load_result_set(path)
    assert main(["summary", str(path)]) == 2
    err = capsys.readouterr().err
    assert "/decision/value" in err and "missing" in err


def test_upper_case_zarr_suffix_writes_zarr(small_tree, tmp_path):
    from kursk_da.io import load_result_set, save_result_set

    path = save_result_set(small_tree, tmp_path / "run.ZARR")
    assert path.is_dir() and ((path / ".zgroup").is_file() or (path / "zarr.json").is_file())
    back = load_result_set(path)
    np.testing.assert_array_equal(back["decision"]["value"].values,
                                  small_tree["decision"]["value"].values)


# ------------------------------------------------------------------- library arguments (7)
@pytest.mark.parametrize("n_jobs", [0, -1, -3, 2.5, "2", True])
def test_analyze_refuses_bad_n_jobs(spec_2025, n_jobs):
    import kursk_da as kd

    with pytest.raises(SpecError) as err:
        kd.analyze(spec_2025, draws=100, prior_only=True, n_jobs=n_jobs)
    assert err.value.path == "n_jobs" and "None" in str(err.value)


@pytest.mark.parametrize("value", ["no", 0, 1, None, "True"])
def test_analyze_refuses_non_boolean_prior_only(spec_2025, value):
    import kursk_da as kd

    with pytest.raises(SpecError) as err:
        kd.analyze(spec_2025, draws=100, prior_only=value)
    assert err.value.path == "prior_only"


def test_analyze_refuses_unknown_keywords(spec_2025):
    import kursk_da as kd

    with pytest.raises(SpecError) as err:
        kd.analyze(spec_2025, draws=100, prior_only=True, draw=5)
    assert err.value.path == "draw" and "draws" not in err.value.path
    with pytest.raises(SpecError) as err:
        kd.run_analysis(spec_2025, draws=100, prior_only=True, target_acept=0.9)
    assert err.value.path == "target_acept"


def test_run_engine_refuses_bad_n_jobs(spec_2025):
    import kursk_da as kd

    with pytest.raises(SpecError) as err:
        kd.run_engine(spec_2025, 100, 1, n_jobs=0)
    assert err.value.path == "n_jobs"


def test_save_and_load_result_set_name_a_wrong_argument(tmp_path):
    import kursk_da as kd

    with pytest.raises(ArgumentError, match=r"^tree: expected a result set \(xarray.DataTree\)"):
        kd.save_result_set({"decision": 1}, tmp_path / "x.nc")
    assert not (tmp_path / "x.nc").exists()
    with pytest.raises(ArgumentError, match=r"^path: expected the path"):
        kd.load_result_set({"decision": 1})
    with pytest.raises(ArgumentError, match=r"^tree: "):
        kd.validate_result_set(xr.Dataset())
    with pytest.raises(ArgumentError, match=r"^tree: "):
        kd.options_table(xr.Dataset())


def test_more_public_functions_name_a_wrong_argument(spec_2025):
    import kursk_da as kd
    from kursk_da.errors import KurskDAError

    with pytest.raises(SpecError, match=r"^path: expected the path"):
        kd.load_spec(5)
    with pytest.raises(SpecError, match=r"^spec: expected a Spec"):
        kd.tornado({})
    with pytest.raises(KurskDAError, match=r"^y: expected an array of numbers"):
        kd.main_effects("x", "y")
