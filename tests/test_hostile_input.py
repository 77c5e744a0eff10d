"""Hostile input (issue 23): formula cells in every CSV the package writes, hostile names,
NUL and non-UTF-8 text in a spec, damaged result files, library arguments."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from kursk_da.io._table import csv_text, options_export, render_table, voi_export

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
