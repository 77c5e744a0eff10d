"""Competing model structures (issue 11 item 6): [variants] in the spec, PSIS-LOO, stacking,
the decision under each variant and the stacked mixture, kursk-da variants, the report."""

from __future__ import annotations

import copy
import warnings

import arviz as az
import numpy as np
import pytest
import xarray as xr
from _calibrated import calibrated_tree
from _essay import write_essay_spec
from _schema_docs import documented
from conftest import MODELS

from kursk_da.cli import main
from kursk_da.dims import (
    CHAIN,
    DECISION_MODEL,
    DRAW,
    OBS_PARAMETER,
    OBSERVATION,
    OPTION,
    PARAMETER,
    VARIANT,
)
from kursk_da.dynamics.catalogue import quantity
from kursk_da.errors import SpecError
from kursk_da.spec._schema import apply_variant, load_spec, spec_from_dict

EVIDENCE = MODELS / "kursk_2025_evidence.toml"
FAST = {"draws": 200, "mcmc_draws": 100, "tune": 100, "chains": 2}


def _with_variants(raw: dict, variants: dict) -> dict:
    out = copy.deepcopy(dict(raw))
    out["variants"] = copy.deepcopy(variants)
    return out


@pytest.fixture(scope="module")
def evidence_spec():
    return load_spec(EVIDENCE)


@pytest.fixture(scope="module")
def small_spec(evidence_spec, tmp_path_factory):
    """The (fast) essay spec (tests/_essay.py: three inline observations) with two of the
    evidence spec's variants."""
    essay = load_spec(write_essay_spec(tmp_path_factory.mktemp("essay")))
    keep = {k: evidence_spec.raw["variants"][k] for k in ("helmbold", "square_law")}
    return spec_from_dict(_with_variants(essay.raw, keep), path=essay.path)


@pytest.fixture(scope="module")
def comparison(small_spec):
    from kursk_da.sensitivity import compare_variants

    return compare_variants(small_spec, seed=5, **FAST)


# ------------------------------------------------------------------ the spec
def test_evidence_spec_declares_three_structures(evidence_spec):
    v = evidence_spec.variants
    assert list(v) == ["helmbold", "square_law", "own_strength_law", "no_surprise"]
    assert v["helmbold"].is_base and not v["square_law"].is_base
    dom = quantity("lanchester_exponent", "parameter").domain
    assert v["square_law"].overrides == {"lanchester_exponent": 1.0}
    w_small = v["own_strength_law"].overrides["lanchester_exponent"]
    assert dom.low == 0.0 and dom.low_open and 0.0 < w_small <= 0.05  # the small end
    for var in v.values():
        assert var.source.lower().startswith(("analyst judgement", "essay"))
    sq = apply_variant(evidence_spec, "square_law")
    assert sq.parameters["lanchester_exponent"].dist.kind == "fixed"
    assert not sq.variants and not sq.scenarios
    assert len(sq.observations) == len(evidence_spec.observations)
    base = apply_variant(evidence_spec, "helmbold")
    assert base.parameters["lanchester_exponent"] == \
        evidence_spec.parameters["lanchester_exponent"]


def test_a_spec_without_a_base_variant_gets_one(spec_2025):
    spec = spec_from_dict(_with_variants(spec_2025.raw, {"sq": {
        "description": "square law", "source": "analyst judgement: aimed fire",
        "parameters": {"lanchester_exponent": 1.0}}}))
    assert list(spec.variants) == ["base", "sq"] and spec.variants["base"].is_base


@pytest.mark.parametrize(("table", "field"), [
    ({"description": "d", "source": "s", "parameters": {"lanchester_exponentz": 1.0}},
     "variants.bad.parameters.lanchester_exponentz"),
    ({"description": "d", "source": "s", "parameters": {"lanchester_exponent": 0.0}},
     "variants.bad.parameters.lanchester_exponent"),
    ({"description": "d", "source": "s", "parameters": {"lanchester_exponent": 1.5}},
     "variants.bad.parameters.lanchester_exponent"),
    ({"description": "d", "source": "s", "parameters": {"lanchester_exponent": "one"}},
     "variants.bad.parameters.lanchester_exponent"),
    ({"description": "d", "parameters": {"lanchester_exponent": 1.0}}, "variants.bad.source"),
    ({"description": "d", "source": "s", "parameterz": {}}, "variants.bad.parameterz"),
])
def test_bad_variants_are_refused_naming_the_field(spec_2025, table, field):
    with pytest.raises(SpecError) as exc:
        spec_from_dict(_with_variants(spec_2025.raw, {"bad": table}))
    assert exc.value.path == field


def test_two_base_variants_are_refused(spec_2025):
    t = {"description": "d", "source": "s", "parameters": {}}
    with pytest.raises(SpecError, match="at most one base"):
        spec_from_dict(_with_variants(spec_2025.raw, {"a": t, "b": t}))


def test_cli_exit_2_names_the_variant_field(tmp_path, capsys):
    text = EVIDENCE.read_text().replace("parameters = { lanchester_exponent = 1.0 }",
                                        "parameters = { lanchester_exponent = 2.0 }")
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    (tmp_path / "data").symlink_to(MODELS / "data")
    out = tmp_path / "out.nc"
    assert main(["analyze", str(bad), "--out", str(out)]) == 2
    assert "variants.square_law.parameters.lanchester_exponent" in capsys.readouterr().err
    assert not out.exists()


# ------------------------------------------------------------------ the comparison
def test_fixed_variant_posterior_has_the_fixed_value(comparison):
    at = {PARAMETER: "lanchester_exponent"}
    mean = comparison["input_posterior_mean"].sel(at)
    sd = comparison["input_posterior_sd"].sel(at)
    assert float(mean.sel({VARIANT: "square_law"})) == 1.0
    assert float(sd.sel({VARIANT: "square_law"})) == 0.0
    assert float(sd.sel({VARIANT: "helmbold"})) > 0.0  # calibrated in the base
    assert 0.3 <= float(mean.sel({VARIANT: "helmbold"})) <= 1.0


def test_stacking_weights_recomputed_from_the_stored_log_likelihoods(comparison):
    w = comparison["weight"].values
    assert w.sum() == pytest.approx(1.0, abs=1e-6) and np.all(w >= -1e-9)
    elpds = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for v in comparison[VARIANT].values:
            ll = comparison["log_likelihood"].sel({VARIANT: v}).transpose(CHAIN, DRAW,
                                                                          OBSERVATION)
            idata = az.InferenceData(log_likelihood=xr.Dataset({"y": ll.drop_vars(VARIANT)}))
            elpds[str(v)] = az.loo(idata, pointwise=True,
                                   reff=float(comparison["reff"].sel({VARIANT: v})))
        cmp = az.compare(elpds, method="stacking")
    for v in comparison[VARIANT].values:
        r = comparison.sel({VARIANT: v})
        assert float(r["weight"]) == pytest.approx(cmp.loc[str(v), "weight"], abs=1e-9)
        assert float(r["elpd_loo"]) == pytest.approx(cmp.loc[str(v), "elpd_loo"], rel=1e-12)
        assert float(r["elpd_diff"]) == pytest.approx(cmp.loc[str(v), "elpd_diff"], abs=1e-9)
        assert float(r["dse"]) == pytest.approx(cmp.loc[str(v), "dse"], abs=1e-9)
        k = np.asarray(elpds[str(v)].pareto_k)
        assert float(r["max_pareto_k"]) == pytest.approx(k.max())
        assert int(r["n_k_above_0_7"]) == int((k > 0.7).sum())
    assert 0.0 < comparison["reff"].values.min() and comparison["reff"].values.max() < 5


def test_mixture_is_the_weighted_average_of_the_variants(comparison):
    w = comparison["weight"].values
    per = comparison.sel({DECISION_MODEL: list(comparison[VARIANT].values)})
    mix = comparison.sel({DECISION_MODEL: "stacked"})
    for m in ("expected_value", "prob_best", "expected_regret"):
        expect = (w[:, None] * per[m].values).sum(axis=0)
        se = np.sqrt(((w[:, None] * per[f"{m}_mcse"].values) ** 2).sum(axis=0))
        # exact mixture: equal to the weighted average well within its Monte Carlo error
        assert np.all(np.abs(mix[m].values - expect) <= 1e-9 + 0.01 * se)
        np.testing.assert_allclose(mix[f"{m}_mcse"].values, se, rtol=1e-12)
    assert float(mix["prob_best"].sum()) == pytest.approx(1.0, abs=1e-9)
    best = str(comparison[OPTION].values[int(np.argmax(mix["expected_value"].values))])
    assert comparison.attrs["stacked_recommendation"] == best
    recs = [str(r) for r in comparison["recommended_option"].values]
    base = comparison.attrs["base_recommendation"]
    assert comparison.attrs["recommendation_changes"] == \
        ("yes" if any(r != base for r in recs) else "no")


def test_every_variable_has_units_and_is_documented(comparison):
    doc = documented("/variants")
    for name, da in comparison.data_vars.items():
        assert "units" in da.attrs, name
        assert name in doc, name
    for key in ("seed", "mcmc_draws", "chains", "spec_sha256", "kursk_da_version", "created",
                "mixture_method", "base_variant"):
        assert key in comparison.attrs


def test_variant_seeds_are_positional():
    from kursk_da.sensitivity._variants import variant_seed

    seeds = [variant_seed(5, i) for i in range(3)]
    assert len(set(seeds)) == 3 and seeds == [variant_seed(5, i) for i in range(3)]
    assert all(0 <= s < 2 ** 63 for s in seeds)


# ------------------------------------------------------------------ the CLI
@pytest.fixture(scope="module")
def calibrated_path(small_spec, tmp_path_factory):
    """A (synthetic) calibrated result set whose stored spec has [variants]."""
    from kursk_da.analysis import analyze
    from kursk_da.io import save_result_set

    tree = calibrated_tree(analyze(small_spec, draws=200, seed=1, prior_only=True))
    return save_result_set(tree, tmp_path_factory.mktemp("cal") / "cal.nc")


def test_cli_round_trip(calibrated_path, comparison, monkeypatch, tmp_path, capsys):
    import kursk_da.sensitivity as sensitivity  # the handler imports it when it runs
    from kursk_da.io import load_result_set

    seen = {}

    def fake(spec, **kwargs):  # the comparison is tested above; here the plumbing
        seen.update(kwargs, variants=list(spec.variants))
        return comparison

    monkeypatch.setattr(sensitivity, "compare_variants", fake)
    out = tmp_path / "with_variants.nc"
    before = calibrated_path.read_bytes()
    status = main(["variants", str(calibrated_path), "--out", str(out), "--draws", "300",
                   "--mcmc-draws", "50", "--tune", "40", "--chains", "2", "--seed", "9",
                   "--allow-unconverged"])
    assert status == 0
    assert seen["draws"] == 300 and seen["mcmc_draws"] == 50 and seen["seed"] == 9
    assert seen["variants"] == ["helmbold", "square_law"] and seen["client"] is None
    assert calibrated_path.read_bytes() == before  # --out: the source is left alone
    text = capsys.readouterr().out
    assert "PSIS-LOO" in text and "recommendation" in text
    tree = load_result_set(out)
    ds = tree["variants"].to_dataset()
    assert set(ds[DECISION_MODEL].values) == {"helmbold", "square_law", "stacked"}
    assert all("units" in da.attrs for da in ds.data_vars.values())
    assert {"/posterior", "/decision", "/diagnostics"} <= set(tree.groups)
    # in place (no --out): the source gains /variants; a variant that fails the gate
    # (2 chains x 100 draws cannot reach ESS 400) makes the status 3, as analyze's
    unconverged = [str(v) for v, c in zip(comparison[VARIANT].values,
                                          comparison["converged"].values, strict=True) if not c]
    assert unconverged  # the FAST settings: the point of this check
    assert main(["variants", str(calibrated_path), "--chains", "2"]) == 3
    err = capsys.readouterr().err
    assert "did not converge" in err and all(v in err for v in unconverged)
    assert "/variants" in load_result_set(calibrated_path).groups  # still written


def test_cli_exit_0_when_every_variant_converges(calibrated_path, comparison, monkeypatch,
                                                  tmp_path, capsys):
    import kursk_da.sensitivity as sensitivity  # the handler imports it when it runs

    ok = comparison.copy()
    ok["converged"] = xr.ones_like(ok["converged"])
    monkeypatch.setattr(sensitivity, "compare_variants", lambda spec, **kw: ok)
    assert main(["variants", str(calibrated_path), "--out", str(tmp_path / "o.nc")]) == 0


def test_pareto_k_per_observation_is_stored_printed_and_reported(comparison):
    """Issue 22: the Pareto k of each LOO term, against az.loo on the stored log likelihood;
    the observations above 0.7 are named on the console."""
    from kursk_da.cli._variants import format_variants

    k = comparison["pareto_k"].transpose(VARIANT, OBSERVATION)
    for i, v in enumerate(comparison[VARIANT].values):
        ll = comparison["log_likelihood"].sel({VARIANT: v})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # high Pareto k: what the variable reports
            ref = az.loo(az.InferenceData(log_likelihood=xr.Dataset({"y": ll})),
                         pointwise=True, reff=float(comparison["reff"].sel({VARIANT: v})))
        np.testing.assert_allclose(k.values[i], np.asarray(ref.pareto_k), rtol=1e-9)
        assert int(comparison["n_k_above_0_7"].sel({VARIANT: v})) == int(
            (k.values[i] > 0.7).sum())
    forced = comparison.copy()
    kk = forced["pareto_k"].values.copy()
    kk[0, 0] = 1.23
    forced["pareto_k"] = (forced["pareto_k"].dims, kk)
    text = format_variants(forced)
    first = str(forced[OBSERVATION].values[0])
    assert f"{first} (1.23)" in text and "Pareto k > 0.7" in text


def test_cli_writes_nothing_on_failure(calibrated_path, small_tree, monkeypatch, tmp_path,
                                       capsys):
    import kursk_da.sensitivity as sensitivity  # the handler imports it when it runs
    from kursk_da.io import save_result_set

    def failing(spec, **kwargs):
        raise SpecError("chains", "expected at least 2 chains")

    monkeypatch.setattr(sensitivity, "compare_variants", failing)
    out = tmp_path / "out.nc"
    assert main(["variants", str(calibrated_path), "--out", str(out)]) == 2
    assert "chains" in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.iterdir())
    # a prior result set, and a calibrated one whose spec has no variants: exit 2
    prior = save_result_set(small_tree, tmp_path / "prior.nc")
    before = prior.read_bytes()
    assert main(["variants", str(prior)]) == 2
    assert "not a calibrated result set" in capsys.readouterr().err
    assert prior.read_bytes() == before
    from kursk_da.analysis import analyze

    raw = {k: v for k, v in small_tree_spec(small_tree).raw.items() if k != "variants"}
    no_variants = spec_from_dict(raw, path=small_tree_spec(small_tree).path)
    plain = save_result_set(calibrated_tree(analyze(no_variants, draws=200, seed=1,
                                                    prior_only=True)),
                            tmp_path / "plain.nc")
    assert main(["variants", str(plain), "--out", str(out)]) == 2
    assert "[variants]" in capsys.readouterr().err and not out.exists()
    with pytest.raises(SystemExit) as exc:
        main(["variants", str(calibrated_path), "--chains", "1"])
    assert exc.value.code == 2


def small_tree_spec(tree: xr.DataTree):
    from kursk_da.io import spec_from_tree

    return spec_from_tree(tree)


# ------------------------------------------------------------------ plots and report
def _with_biases(tree: xr.DataTree) -> xr.DataTree:
    names = ["bias[ua_officials:control]", "bias[osint_maps:control]",
             "bias[ru_officials:losses]", "bias_spread"]
    diag = tree["diagnostics"].to_dataset()
    diag = diag.assign(
        obs_model_median=((OBS_PARAMETER,), [1.1, 0.98, 2.4, 0.2], {"units": "1"}),
        obs_model_lower_90=((OBS_PARAMETER,), [0.9, 0.9, 1.5, 0.05], {"units": "1"}),
        obs_model_upper_90=((OBS_PARAMETER,), [1.4, 1.06, 3.9, 0.4], {"units": "1"}),
    ).assign_coords({OBS_PARAMETER: names})
    nodes = {n.path: n.to_dataset(inherit=False) for n in tree.subtree}
    nodes["/diagnostics"] = diag
    return xr.DataTree.from_dict(nodes)


def test_plots_and_report_section_render(small_tree, comparison, tmp_path):
    from matplotlib.figure import Figure

    from kursk_da.io import add_variants_group
    from kursk_da.plots import claimant_bias_frame, plot_claimant_biases, plot_variants
    from kursk_da.report import write_report
    from kursk_da.report._document import Bullets, Image, Table
    from kursk_da.report._evidence import evidence_section

    tree = add_variants_group(_with_biases(calibrated_tree(small_tree)), comparison)
    frame = claimant_bias_frame(tree)
    assert list(frame.index) == ["bias[ua_officials:control]", "bias[osint_maps:control]",
                                 "bias[ru_officials:losses]"]
    assert isinstance(plot_claimant_biases(tree), Figure)
    assert isinstance(plot_variants(tree), Figure)
    sec = evidence_section(tree)
    kinds = [type(b) for b in sec.blocks]
    assert Bullets in kinds and kinds.count(Image) == 2 and kinds.count(Table) >= 4
    bullets = next(b for b in sec.blocks if isinstance(b, Bullets))
    assert any("Russian MoD" in s and "2.40 [1.50, 3.90]" in s for s in bullets.items)
    text = " ".join(getattr(b, "text", "") for b in sec.blocks)
    verdict = "does not change" if comparison.attrs["recommendation_changes"] == "no" \
        else "changes"
    assert f"The recommendation {verdict}" in text
    captions = [b.caption for b in sec.blocks if isinstance(b, Image)]
    assert all(c.startswith("Read:") for c in captions)
    html = write_report(tree, tmp_path / "report", sections=["evidence"])
    assert "Claimant biases" in html.read_text() and "stacking" in html.read_text()
    # without the groups: the section says which command adds them
    empty = evidence_section(small_tree)
    assert "kursk-da variants" in " ".join(getattr(b, "text", "") for b in empty.blocks)


# ------------------------------------------------------------------ slow: real runs
@pytest.mark.slow
def test_dask_tasks_give_the_same_numbers(small_spec, comparison):
    from kursk_da.engine._dask import client_for
    from kursk_da.sensitivity import compare_variants

    with client_for(2) as client:
        again = compare_variants(small_spec, seed=5, client=client, **FAST)
    for name in ("weight", "elpd_loo", "expected_value", "prob_best", "log_likelihood"):
        np.testing.assert_array_equal(again[name].values, comparison[name].values)


@pytest.mark.slow
def test_cli_end_to_end_on_a_real_calibration(small_spec, tmp_path):
    from kursk_da.analysis import analyze
    from kursk_da.io import load_result_set, save_result_set

    tree = analyze(small_spec, draws=200, seed=2, mcmc_draws=100, tune=100, chains=2)
    path = save_result_set(tree, tmp_path / "cal.nc")
    assert main(["variants", str(path), "--draws", "200", "--mcmc-draws", "100", "--tune",
                 "100", "--chains", "2", "--allow-unconverged"]) == 0
    ds = load_result_set(path)["variants"].to_dataset()
    assert float(ds["weight"].sum()) == pytest.approx(1.0, abs=1e-6)
