"""Two-way sensitivity: the leader difference is exactly linear in a value weight (common
random numbers), the map, the plot and the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from kursk_da.errors import ArgumentError
from kursk_da.sensitivity import two_way
from kursk_da.spec import load_spec

MODELS = Path(__file__).resolve().parents[1] / "models"
SPEC = load_spec(MODELS / "kursk_2025.toml")


@pytest.fixture(scope="module")
def twoway():
    return two_way(SPEC, "strike_attrition", "weight_strike_effort", points=4, draws=400, seed=2)


def test_leader_difference_is_linear_in_the_weight(twoway):
    """strike_only and withdraw differ by 181 days of strikes (strike_effort 181 against 0),
    so along weight_strike_effort the difference moves by exactly 181 x the weight step."""
    ds = twoway
    assert ds.attrs["leaders"] == "strike_only vs withdraw"
    d = ds["leader_difference"].values
    y = ds["y_value"].values
    np.testing.assert_allclose(np.diff(d, axis=1), np.broadcast_to(181.0 * np.diff(y), (4, 3)),
                               rtol=1e-9)
    # strikes that kill more Russians favour strike_only: increasing along x
    assert np.all(np.diff(d, axis=0) > 0)
    # the best option agrees with the expected values
    ev = ds["expected_value"].values
    np.testing.assert_array_equal(ds["best_option_index"].values, ev.argmax(axis=2))
    from _schema_docs import documented

    assert set(ds.data_vars) <= documented("/twoway")
    assert all("units" in ds[v].attrs for v in ds.data_vars)


def test_plot_twoway(twoway):
    from kursk_da.plots import plot_twoway

    fig = plot_twoway(twoway)
    assert "strike_attrition" in fig.axes[0].get_xlabel()


def test_bad_inputs():
    with pytest.raises(ArgumentError, match="x"):
        two_way(SPEC, "nope", "nk_troops", draws=10)
    with pytest.raises(ArgumentError, match="y"):
        two_way(SPEC, "nk_troops", "nk_troops", draws=10)
    with pytest.raises(ArgumentError, match="x"):
        two_way(SPEC, "ru_commit_reference", "nk_troops", draws=10)  # fixed in the spec
    with pytest.raises(ArgumentError, match="points"):
        two_way(SPEC, "nk_troops", "ua_quality", points=1, draws=10)


def test_cli_twoway(tmp_path, capsys):
    from kursk_da.cli import main

    out = tmp_path / "t.nc"
    status = main(["twoway", str(MODELS / "kursk_2025.toml"), "--points", "3", "--draws", "100",
                   "--out", str(out), "--plots", str(tmp_path / "p")])
    text = capsys.readouterr().out
    assert status == 0, text
    assert "best option over strike_attrition" in text
    assert "twoway" in xr.open_datatree(out).children
    assert (tmp_path / "p" / "twoway.png").exists()
