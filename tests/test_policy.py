"""Policy optimisation: closed-form toy, value of flexibility >= 0, the CLI and the plot."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from kursk_da.cli import main
from kursk_da.cli._optimize import parse_search
from kursk_da.decision import optimize_policy, paired_difference, policy_datasets, select_policy
from kursk_da.errors import ArgumentError
from kursk_da.spec import load_spec, spec_from_dict

MODELS = Path(__file__).resolve().parents[1] / "models"
SPEC = load_spec(MODELS / "kursk_2025.toml")


def test_toy_optimal_threshold_has_its_closed_form():
    """Observe x ~ N(0, 1) and switch to the option worth x when x > c, else keep 0:
    EV(c) = phi(c), maximal at c = 0 with EV phi(0); the best fixed option is worth 0,
    so the value of flexibility is phi(0) = 0.3989."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(200_000)
    cs = np.linspace(-1.5, 1.5, 31)
    values = np.where(x[:, None] > cs[None, :], x[:, None], 0.0)
    best = select_policy(values[:100_000])
    assert abs(cs[best]) <= 0.2  # EV'(c) = -c phi(c): flat near 0, MC noise picks nearby
    fresh = values[100_000:, best]
    flex, se = paired_difference(fresh, np.zeros_like(fresh))
    assert abs(flex - stats.norm.pdf(cs[best])) < 4 * se
    assert abs(flex - stats.norm.pdf(0.0)) < 4 * se + 0.01
    # the surface is phi(c)
    np.testing.assert_allclose(values.mean(axis=0), stats.norm.pdf(cs), atol=0.006)
    # a CVaR floor excludes the low thresholds (their tail is x <= c < 0)
    floor_best = select_policy(values, cvar_floor=-0.1)
    assert cs[floor_best] >= -0.15
    with pytest.raises(ArgumentError, match="cvar_floor"):
        select_policy(values, cvar_floor=10.0)


def _nested_spec():
    """strike_only, hold, and 'hold, then withdraw and strike on a trigger' (the family nests
    both: a trigger that never fires is hold, one that fires at once is strike_only)."""
    raw = copy.deepcopy({k: v for k, v in SPEC.raw.items() if k != "scenarios"})
    raw["options"] = {k: raw["options"][k] for k in ("strike_only", "hold",
                                                     "hold_until_untenable")}
    for name in ("renewed_added_forces", "renewed_loss_multiplier"):  # only renewed_offensive's
        raw["parameters"].pop(name)
    raw["correlations"] = [c for c in raw.get("correlations", [])
                           if not set(c["params"]) & {"renewed_added_forces",
                                                      "renewed_loss_multiplier"}]
    return spec_from_dict(raw)


def test_value_of_flexibility_is_nonnegative_within_mc_error():
    spec = _nested_spec()
    # area_held below 0 and force_ratio above 1e6 never hold (= hold); force_ratio above 0
    # always holds (= strike_only from the decision date)
    res = optimize_policy(spec, "hold_until_untenable",
                          {"area_held": [0.0, 250.0, 500.0, 1e6], "force_ratio": [0.0, 4.0, 1e6]},
                          draws=600, seed=3)
    assert res.fixed_options == ("strike_only", "hold")
    assert res.flexibility >= -3 * res.flexibility_mcse - 1e-9
    assert res.grid.shape == (12, 2)
    assert res.eval_seed != res.seed
    # fresh draws: the re-estimate differs from the (optimistic) search figure
    assert res.eval_ev != pytest.approx(res.search_ev[res.best], rel=1e-12)
    groups = policy_datasets(res)
    from _schema_docs import documented

    assert set(groups["search"].data_vars) <= documented("/policy/search")
    assert set(groups["choice"].data_vars) <= documented("/policy/choice")
    for ds in groups.values():
        assert all("units" in ds[v].attrs for v in ds.data_vars)


def test_bad_searches_name_the_field():
    with pytest.raises(ArgumentError, match="option"):
        optimize_policy(SPEC, "hold", {"area_held": [1.0]}, draws=10)
    with pytest.raises(ArgumentError, match="search.morale"):
        optimize_policy(SPEC, "hold_until_untenable", {"morale": [1.0]}, draws=10)
    with pytest.raises(ArgumentError, match="search.ua_force"):
        optimize_policy(SPEC, "hold_until_untenable", {"ua_force": [1.0]}, draws=10)
    with pytest.raises(ArgumentError, match="grid points"):
        optimize_policy(SPEC, "hold_until_untenable",
                        {"area_held": np.arange(30.0), "force_ratio": np.arange(30.0)}, draws=10)
    with pytest.raises(ArgumentError, match="--search"):
        parse_search(["area_held=1:0:1"])
    with pytest.raises(ArgumentError, match="--search"):
        parse_search(["area_held"])
    np.testing.assert_allclose(parse_search(["area_held=100:300:100"])["area_held"],
                               [100, 200, 300])


def test_cli_optimize_writes_groups_and_plot(tmp_path, capsys):
    out = tmp_path / "policy.nc"
    status = main(["optimize", str(MODELS / "kursk_2025.toml"), "--option",
                   "hold_until_untenable", "--search", "area_held=200:400:200",
                   "--search", "force_ratio=3,5", "--draws", "200", "--seed", "2",
                   "--out", str(out), "--plots", str(tmp_path / "plots")])
    text = capsys.readouterr().out
    assert status == 0, text
    assert "value of flexibility" in text and "fresh draws" in text
    tree = xr.open_datatree(out)
    assert tree["policy/search"].dataset.sizes["grid_point"] == 4
    assert "value_of_flexibility" in tree["policy/choice"].dataset
    assert (tmp_path / "plots" / "policy_surface.png").stat().st_size > 1000
    status = main(["optimize", str(MODELS / "kursk_2025.toml"), "--option", "hold",
                   "--search", "area_held=1:2:1", "--draws", "20"])
    assert status == 2
    assert "option" in capsys.readouterr().err


def test_policy_command_and_report_section(tmp_path, capsys):
    """`kursk-da policy` writes every group; the report's policy section shows them."""
    out = tmp_path / "all.nc"
    status = main(["policy", str(MODELS / "kursk_2025.toml"), "--draws", "60", "--seed", "1",
                   "--out", str(out)])
    text = capsys.readouterr().out
    assert status == 0, text
    for words in ("value of flexibility", "value of waiting", "ENBS", "best option over"):
        assert words in text
    from kursk_da.io import load_result_set
    from kursk_da.report import write_report
    from kursk_da.report._policy import policy_section

    tree = load_result_set(out)
    for group in ("triggers", "policy", "waiting", "intelligence", "twoway"):
        assert group in tree.children
    sec = policy_section(tree)
    names = [b.name for b in sec.blocks if hasattr(b, "png")]
    assert names == ["trigger_days", "policy_surface", "waiting", "intelligence", "twoway"]
    assert not [b for b in sec.blocks if type(b).__name__ == "Warning_"]
    html = write_report(tree, tmp_path / "report", sections=["policy"])
    assert "Reactive strategies" in html.read_text()


def test_given_inputs_are_split_into_search_and_fresh_halves():
    """With an input matrix (e.g. posterior draws) the first half searches and the second
    half re-estimates; the fixed options' fresh EVs are those of the second half."""
    from kursk_da.engine import run_engine
    from kursk_da.spec._sampling import sample_inputs

    spec = _nested_spec()
    theta = sample_inputs(spec, 200, np.random.default_rng(4))
    res = optimize_policy(spec, "hold_until_untenable", {"force_ratio": [0.0, 1e6]},
                          inputs=theta, seed=5)
    assert (res.search_draws, res.eval_draws) == (100, 100)
    fresh = run_engine(spec, 100, res.eval_seed, inputs=theta[100:])
    np.testing.assert_allclose(res.eval_fixed_ev, fresh.values[:, :2].mean(axis=0), rtol=1e-12)
    with pytest.raises(ArgumentError, match="inputs"):
        optimize_policy(spec, "hold_until_untenable", {"force_ratio": [0.0]}, inputs=theta[:3])
