"""Campaign dynamics against closed forms, and the engine against the reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kursk_da.dynamics.equations import PARAMETER_NAMES, STATE_NAMES
from kursk_da.dynamics.reference import simulate_plan
from kursk_da.engine._kernel import ATTRIBUTE_NAMES, TRAJECTORY_NAMES, simulate_chunk
from kursk_da.engine._run import run_engine, schedules
from kursk_da.spec._sampling import sample_inputs

IDX = {n: i for i, n in enumerate(PARAMETER_NAMES)}


def _square_law_spec(spec, u0, r0, a_u, a_r):
    """The 2025 spec reduced to Lanchester's square law: w = 1, no reinforcement, no area."""
    fixed = {
        "lanchester_exponent": 1.0, "ru_garrison": r0, "ua_initial_force": u0,
        "ua_force_rate": 1e-300, "ru_reinforcement_rate": 1e-300, "ru_reinforcement_ceiling": 0.0,
        "nk_troops": 0.0, "advance_speed": 0.0, "retreat_speed": 0.0, "front_noise_sd": 1e-9,
        "ua_loss_defend": a_u, "ru_loss_attack": a_r, "strike_attrition": 0.0,
        "strike_tied_forces": 0.0,
    }
    for name, value in fixed.items():
        spec = spec.with_parameter(name, value)
    # history: the force arrives on day 0 and defends from day 0 on
    raw = dict(spec.raw)
    raw["history"] = {"phases": [{"start": spec.decision_date.replace(year=2024, month=8, day=6),
                                  "posture": "defend", "force_initial": "ua_initial_force"}]}
    from kursk_da.spec._schema import spec_from_dict

    return spec_from_dict(raw)


def _discrete_square_law(u0, r0, a_u, a_r, t):
    """Closed form of U' = U - a_u R, R' = R - a_r U after t days."""
    lam = np.sqrt(a_u * a_r)
    c = np.sqrt(a_u / a_r)
    up, um = (1 + lam) ** t, (1 - lam) ** t
    u = 0.5 * ((u0 - c * r0) * up + (u0 + c * r0) * um)
    r = 0.5 * ((r0 - u0 / c) * up + (r0 + u0 / c) * um)
    return u, r


def test_square_law_closed_form(spec_2025):
    # near square-law parity (a_r U0^2 ~ a_u R0^2) so neither side is annihilated
    u0, r0, a_u, a_r = 15000.0, 9000.0, 0.005, 0.002
    spec = _square_law_spec(spec_2025, u0, r0, a_u, a_r)
    out = run_engine(spec, 4, seed=3)
    t = np.arange(1, spec.n_days + 1)
    u_true, r_true = _discrete_square_law(u0, r0, a_u, a_r, t)
    assert np.all(r_true[: spec.decision_day] > 1000) and np.all(u_true[: spec.decision_day] > 1000)
    # U and R of every stored trajectory, every option, over the history
    hist = slice(0, spec.decision_day)
    u_sim = out.trajectories[0, 0, hist, TRAJECTORY_NAMES.index("U")]
    r_sim = out.trajectories[0, 0, hist, TRAJECTORY_NAMES.index("R")]
    np.testing.assert_allclose(u_sim, u_true[hist], rtol=1e-9)
    np.testing.assert_allclose(r_sim, r_true[hist], rtol=1e-9)
    # the continuous square law's invariant a_r U^2 - a_u R^2 holds to O(dt) per day
    inv = a_r * u_sim**2 - a_u * r_sim**2
    assert np.all(np.abs(inv - (a_r * u0**2 - a_u * r0**2)) / (a_r * u0**2) < 0.05)
    # casualties are the force lost
    cu = out.trajectories[0, 0, hist, TRAJECTORY_NAMES.index("CU")]
    np.testing.assert_allclose(cu + u_sim, u0, rtol=1e-12)


@pytest.mark.parametrize("option", [0, 1, 2, 3])
def test_engine_matches_reference(spec_2025, option):
    """Compiled kernel and vectorised NumPy reference agree to 1e-10 on prior draws."""
    rng = np.random.default_rng(11)
    theta = sample_inputs(spec_2025, 40, rng)
    z = rng.standard_normal((40, spec_2025.n_days))
    hc, hr, oc, orf = schedules(spec_2025)
    n_opt = oc.shape[0]
    attr = np.zeros((40, n_opt, len(ATTRIBUTE_NAMES)))
    cnt = np.zeros((n_opt, spec_2025.n_days), dtype=np.int64)
    asum = np.zeros((n_opt, spec_2025.n_days))
    traj = np.zeros((40, n_opt, spec_2025.n_days, len(TRAJECTORY_NAMES)))
    simulate_chunk(theta, hc, hr, oc, orf, z, 100.0, attr, cnt, asum, traj)
    ref = simulate_plan(theta, np.concatenate([hc, oc[option]]), np.concatenate([hr, orf[option]]),
                        z)
    np.testing.assert_allclose(traj[:, option], ref[..., : len(TRAJECTORY_NAMES)], rtol=1e-10,
                               atol=1e-8)
    # attributes are consistent with the trajectories
    d = spec_2025.decision_day
    area = ref[:, d:, STATE_NAMES.index("A")]
    np.testing.assert_allclose(attr[:, option, 0], area.mean(axis=1), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(attr[:, option, 1], area[:, -1], rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(cnt[option], (ref[:, :, 2] >= 100.0).sum(axis=0))


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_invariants_hold_on_prior_draws(spec_2025, seed):
    """Forces >= 0, area within [0, area_per_troop * U], casualties never decrease."""
    rng = np.random.default_rng(seed)
    theta = sample_inputs(spec_2025, 8, rng)
    z = rng.standard_normal((8, spec_2025.n_days))
    hc, hr, oc, orf = schedules(spec_2025)
    ref = simulate_plan(theta, np.concatenate([hc, oc[2]]), np.concatenate([hr, orf[2]]), z)
    u, r, a = ref[..., 0], ref[..., 1], ref[..., 2]
    assert np.all(u >= 0) and np.all(r >= 0)
    assert np.all(a >= 0)
    assert np.all(a <= theta[:, [IDX["area_per_troop"]]] * u * (1 + 1e-12) + 1e-9)
    for k in ("CU", "CR", "ARR"):
        assert np.all(np.diff(ref[..., STATE_NAMES.index(k)], axis=1) >= -1e-9)


def test_withdraw_empties_kursk(spec_2025):
    """Withdrawing drives the force and the area held to zero; holding keeps troops."""
    out = run_engine(spec_2025, 200, seed=5)
    names = spec_2025.option_names
    last = out.trajectories[:, :, -1, :]
    assert np.all(last[:, names.index("withdraw"), TRAJECTORY_NAMES.index("U")] < 50)
    assert np.all(last[:, names.index("withdraw"), TRAJECTORY_NAMES.index("A")] < 10)
    assert np.all(last[:, names.index("hold"), TRAJECTORY_NAMES.index("U")] > 1000)
