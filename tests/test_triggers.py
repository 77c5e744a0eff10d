"""State-triggered phases: the compiled kernel against the NumPy reference, validation, storage."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from _essay import essay_spec_text
from hypothesis import given, settings
from hypothesis import strategies as st

from kursk_da.decision import decision_summary
from kursk_da.dynamics.reference import simulate_plan, simulate_triggered_plan
from kursk_da.engine import run_engine
from kursk_da.engine._kernel import ATTRIBUTE_NAMES, TRAJECTORY_NAMES, simulate_chunk
from kursk_da.engine._run import schedules
from kursk_da.errors import SpecError
from kursk_da.io import build_result_set
from kursk_da.spec import load_spec, spec_from_dict
from kursk_da.spec._plans import MAX_CONDITIONS, TRIGGER_QUANTITIES, compile_triggers
from kursk_da.spec._sampling import sample_inputs

MODELS = Path(__file__).resolve().parents[1] / "models"
SPEC = load_spec(MODELS / "kursk_2025.toml")
RAW = {k: v for k, v in SPEC.raw.items() if k != "scenarios"}
N = 70  # two lane blocks, the second partly padding


def _with_trigger(trigger: dict, posture: str = "withdraw", base: str = "defend") -> object:
    raw = copy.deepcopy(RAW)
    raw["options"]["policy"] = {"phases": [{"after_days": 0, "posture": base},
                                           {"posture": posture, "trigger": trigger}]}
    return spec_from_dict(raw)


def _run_both(spec, seed):
    rng = np.random.default_rng(seed)
    theta = sample_inputs(spec, N, rng)
    z = rng.standard_normal((N, spec.n_days))
    hc, hr, oc, orf = schedules(spec)
    cols = {name: i for i, name in enumerate(spec.input_names)}
    trig = compile_triggers([o.phases for o in spec.options.values()], spec.decision_day, cols)
    n_opt = oc.shape[0]
    attr = np.zeros((N, n_opt, len(ATTRIBUTE_NAMES)))
    traj = np.zeros((N, n_opt, spec.n_days, len(TRAJECTORY_NAMES)))
    fire = np.zeros((N, n_opt))
    simulate_chunk(theta, hc, hr, oc, orf, np.ascontiguousarray(z.T).T, 100.0, attr,
                   np.zeros((n_opt, spec.n_days), dtype=np.int64), np.zeros((n_opt, spec.n_days)),
                   traj, triggers=trig.as_tuple(), out_fire=fire)
    o = spec.option_names.index("policy")
    ref, ref_fire = simulate_triggered_plan(
        theta, np.concatenate([hc, oc[o]]), np.concatenate([hr, orf[o]]), z, spec.decision_day,
        int(trig.mode[o]), trig.quantity[o], trig.above[o], trig.value[o], trig.window[o],
        trig.post_const[o], trig.post_ref[o])
    keep = [spec.option_names.index("hold"), o]  # columns 0: hold (untriggered), 1: policy
    return traj[:, keep], fire[:, keep], ref, ref_fire, theta, z, hc, hr, oc, orf


CONDITION = st.fixed_dictionaries({
    "quantity": st.sampled_from(list(TRIGGER_QUANTITIES)),
    "side": st.sampled_from(["below", "above"]),
    "q": st.floats(0.05, 0.95),
})
# typical ranges of each quantity over the decision window (thresholds are drawn inside them)
RANGES = {"area_held": (0, 900), "force_ratio": (1, 8), "ua_force": (2000, 16000),
          "ru_force": (20000, 60000), "ua_casualties": (0, 8000), "ru_casualties": (0, 15000)}


@settings(max_examples=12, deadline=None)
@given(conds=st.lists(CONDITION, min_size=1, max_size=3), combine=st.sampled_from(["any", "all"]),
       earliest=st.integers(0, 60), latest=st.one_of(st.none(), st.integers(60, 170)),
       posture=st.sampled_from(["withdraw", "attack"]), seed=st.integers(0, 2**31))
def test_kernel_equals_reference_on_random_triggers(conds, combine, earliest, latest, posture,
                                                     seed):
    """The compiled kernel's triggered plans equal the NumPy reference (states and fire days)."""
    lst = []
    for c in conds:
        lo, hi = RANGES[c["quantity"]]
        lst.append({"quantity": c["quantity"], c["side"]: lo + c["q"] * (hi - lo)})
    trigger = {combine: lst, "earliest_days": earliest}
    if latest is not None:
        trigger["latest_days"] = latest
    spec = _with_trigger(trigger, posture=posture)
    traj, fire, ref, ref_fire, *_ = _run_both(spec, seed)
    np.testing.assert_array_equal(np.isnan(fire[:, 1]), np.isnan(ref_fire))
    np.testing.assert_array_equal(fire[~np.isnan(fire[:, 1]), 1], ref_fire[~np.isnan(ref_fire)])
    assert np.all(np.isnan(fire[:, 0]))  # the untriggered option
    np.testing.assert_allclose(traj[:, 1], ref[..., : len(TRAJECTORY_NAMES)], rtol=1e-10,
                               atol=1e-8)
    if latest is not None:
        assert np.all(fire[:, 1] <= latest)
    assert np.all(np.nan_to_num(fire[:, 1], nan=earliest) >= earliest)


def test_trigger_semantics_by_hand():
    """A trigger that holds at once fires on its earliest day; the plan then equals the dated one;
    an impossible trigger never fires and the plan equals the untriggered one."""
    always = _with_trigger({"any": [{"quantity": "ua_force", "above": 0.0}], "earliest_days": 10})
    traj, fire, ref, ref_fire, theta, z, hc, hr, oc, orf = _run_both(always, 3)
    assert np.all(fire[:, 1] == 10)
    raw = copy.deepcopy(RAW)
    raw["options"]["dated"] = {"phases": [{"after_days": 0, "posture": "defend"},
                                          {"after_days": 10, "posture": "withdraw"}]}
    dated = spec_from_dict(raw)
    hc2, hr2, oc2, orf2 = schedules(dated)
    j = dated.option_names.index("dated")
    plain = simulate_plan(theta, np.concatenate([hc2, oc2[j]]), np.concatenate([hr2, orf2[j]]), z)
    np.testing.assert_allclose(traj[:, 1], plain[..., : len(TRAJECTORY_NAMES)], rtol=1e-10,
                               atol=1e-8)
    never = _with_trigger({"all": [{"quantity": "ua_force", "below": 0.0}]})
    traj, fire, *_ = _run_both(never, 3)
    assert np.all(np.isnan(fire[:, 1]))
    np.testing.assert_allclose(traj[:, 1], traj[:, 0], rtol=1e-12)
    late = _with_trigger({"all": [{"quantity": "ua_force", "below": 0.0}], "latest_days": 42})
    _, fire, *_ = _run_both(late, 3)
    assert np.all(fire[:, 1] == 42)


def test_triggers_use_common_random_numbers_and_are_stored():
    """The shipped triggered option: same draws and shocks as the others; /triggers stored."""
    out = run_engine(SPEC, 300, seed=4)
    names = SPEC.option_names
    k = names.index("hold_until_untenable")
    td = out.trigger_day
    never = np.isnan(td[:, k])
    assert 0 < never.mean() < 1
    # where it never fired the triggered option is exactly "hold" (same shocks, same draws)
    np.testing.assert_array_equal(out.values[never, k], out.values[never, names.index("hold")])
    assert np.all(np.isnan(np.delete(td, k, axis=1)))
    dec = decision_summary(out.values, names, cvar_alpha=SPEC.cvar_alpha)
    tree = build_result_set(SPEC, out, dec)
    ds = tree["triggers"].dataset
    assert list(ds["option"].values) == ["hold_until_untenable"]
    np.testing.assert_allclose(float(ds["fired_probability"][0]), 1 - never.mean())
    assert float(ds["fired_by_date"][0, -1]) == pytest.approx(1 - never.mean())
    assert np.all(np.diff(ds["fired_by_date"].values[0]) >= 0)
    from _schema_docs import documented
    assert set(ds.data_vars) <= documented("/triggers")
    assert all("units" in ds[v].attrs for v in ds.data_vars)


BAD_TRIGGERS = {
    "unknown quantity": ({"any": [{"quantity": "morale", "below": 1.0}]}, "any[0].quantity"),
    "both below and above": ({"any": [{"quantity": "area_held", "below": 1.0, "above": 2.0}]},
                             "any[0]"),
    "neither any nor all": ({"earliest_days": 3}, "trigger"),
    "any and all": ({"any": [{"quantity": "area_held", "below": 1.0}],
                     "all": [{"quantity": "area_held", "below": 1.0}]}, "trigger"),
    "empty list": ({"any": []}, "trigger.any"),
    "too many": ({"any": [{"quantity": "area_held", "below": 1.0}] * (MAX_CONDITIONS + 1)},
                 "trigger.any"),
    "NaN threshold": ({"any": [{"quantity": "area_held", "below": float("nan")}]},
                      "any[0].below"),
    "negative threshold": ({"any": [{"quantity": "area_held", "below": -5.0}]}, "any[0].below"),
    "text threshold": ({"any": [{"quantity": "area_held", "below": "low"}]}, "any[0].below"),
    "latest before earliest": ({"any": [{"quantity": "area_held", "below": 1.0}],
                                "earliest_days": 30, "latest_days": 10}, "latest_days"),
    "earliest beyond horizon": ({"any": [{"quantity": "area_held", "below": 1.0}],
                                 "earliest_days": 999}, "earliest_days"),
    "unknown key": ({"any": [{"quantity": "area_held", "below": 1.0}], "when": 3}, "trigger.when"),
    "not a table": (3.0, "trigger"),
}


@pytest.mark.parametrize("case", list(BAD_TRIGGERS))
def test_bad_triggers_name_the_field(case):
    trigger, field = BAD_TRIGGERS[case]
    with pytest.raises(SpecError) as err:
        _with_trigger(trigger)
    assert field in err.value.path, (err.value.path, str(err.value))
    assert err.value.path.startswith("options.policy.phases[1]")


def test_bad_trigger_placement():
    raw = copy.deepcopy(RAW)
    raw["history"]["phases"][1]["trigger"] = {"any": [{"quantity": "area_held", "below": 1.0}]}
    with pytest.raises(SpecError, match="history"):
        spec_from_dict(raw)
    raw = copy.deepcopy(RAW)
    trig = {"any": [{"quantity": "area_held", "below": 1.0}]}
    raw["options"]["hold"]["phases"] = [
        {"after_days": 0, "posture": "defend"},
        {"posture": "withdraw", "trigger": trig}, {"posture": "attack", "trigger": trig}]
    with pytest.raises(SpecError, match="at most one triggered"):
        spec_from_dict(raw)
    raw["options"]["hold"]["phases"] = [{"after_days": 3, "posture": "withdraw", "trigger": trig},
                                        {"after_days": 0, "posture": "defend"}]
    with pytest.raises(SpecError, match="no 'start' or 'after_days'"):
        spec_from_dict(raw)


def test_cli_exit_2_for_a_bad_trigger(tmp_path, capsys):
    from kursk_da.cli import main

    text = essay_spec_text().replace(  # alone in tmp_path: inline observations

        '{ quantity = "area_held", below = 300.0 }', '{ quantity = "area_held", below = -300.0 }')
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    status = main(["analyze", str(bad), "--draws", "10", "--seed", "1", "--prior-only",
                   "--out", str(tmp_path / "o.nc"), "--no-progress"])
    err = capsys.readouterr().err
    assert status == 2
    assert "options.hold_until_untenable.phases[1].trigger.any[0].below" in err
    assert not (tmp_path / "o.nc").exists()
