"""Compiled Monte Carlo kernel: one chunk of draws through the history and every option.

The kernel is a thin loop around :func:`kursk_da.dynamics.equations.step` (the
single source of truth) compiled by numba. Per draw it

1. resolves the lever schedule of the day (constants or references to columns of
   the input matrix ``theta``),
2. draws the day's front shocks once and reuses them for every option (common
   random numbers),
3. simulates the history (days ``0 .. t_d - 1``) once and branches into each
   option for the decision window (days ``t_d .. t_d + H - 1``),
4. accumulates the value attributes of each option, the per-date counts of
   draws whose area held is at or above the retention threshold, the per-date
   sum of area held, and the full daily trajectories of the first ``n_traj``
   draws of the chunk.

It releases the GIL, so chunks run in parallel threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kursk_da.dynamics.equations import I_FRONT_NOISE_SD, J_STRIKE, derived, initial_state, step

__all__ = ["ATTRIBUTE_NAMES", "TRAJECTORY_NAMES", "simulate_chunk", "N_LEVERS"]

ATTRIBUTE_NAMES: tuple[str, ...] = (
    "kursk_area_mean",
    "kursk_area_final",
    "donbas_area_lost",
    "ua_casualties",
    "ru_casualties",
    "foothold_retained",
    "strike_effort",
)
"""Value-model attributes computed over the decision window (see docs/model.md)."""

TRAJECTORY_NAMES: tuple[str, ...] = ("U", "R", "A", "D", "CU", "CR", "ARR")
"""State variables stored in daily trajectories (the first seven of STATE_NAMES)."""

N_LEVERS = 8


@njit(nogil=True, error_model="numpy", fastmath=True)
def _resolve(const, ref, t, theta_i, lev):
    for j in range(lev.shape[0]):
        r = ref[t, j]
        lev[j] = const[t, j] if r < 0 else theta_i[r]


@njit(nogil=True, error_model="numpy", fastmath=True)
def simulate_chunk(
    theta,
    hist_const,
    hist_ref,
    opt_const,
    opt_ref,
    z,
    threshold,
    out_attr,
    out_count,
    out_area_sum,
    out_traj,
):
    """Simulate a chunk of draws (compiled; arguments are validated by the caller).

    Parameters
    ----------
    theta : float64 array (n, n_inputs)
        Input matrix; the first ``len(PARAMETER_NAMES)`` columns are the campaign
        parameters, further columns may be referenced by levers.
    hist_const, hist_ref : arrays (t_d, N_LEVERS)
        Lever schedule of the history: constant value, or the column of ``theta``
        (``ref >= 0``) that supplies it.
    opt_const, opt_ref : arrays (n_options, H, N_LEVERS)
        Lever schedules of the options over the decision window.
    z : float64 array (n, t_d + H)
        Standard-normal front shocks (scaled by ``front_noise_sd`` here).
    threshold : float
        Retention threshold, km2.
    out_attr : float64 array (n, n_options, len(ATTRIBUTE_NAMES)), written.
    out_count : int64 array (n_options, t_d + H), incremented.
    out_area_sum : float64 array (n_options, t_d + H), incremented.
    out_traj : float64 array (n_traj, n_options, t_d + H, len(TRAJECTORY_NAMES)), written.
    """
    n = theta.shape[0]
    t_d = hist_const.shape[0]
    n_opt = opt_const.shape[0]
    horizon = opt_const.shape[1]
    n_traj = out_traj.shape[0]
    n_tv = out_traj.shape[3]
    lev = np.empty(N_LEVERS)
    for i in range(n):
        p = theta[i]
        dv = derived(p, np)
        sd = p[I_FRONT_NOISE_SD]
        state = initial_state(p)
        for t in range(t_d):
            _resolve(hist_const, hist_ref, t, p, lev)
            state = step(state, p, dv, lev, sd * z[i, t], float(t), np)
            above = state[2] >= threshold
            for o in range(n_opt):
                out_area_sum[o, t] += state[2]
                if above:
                    out_count[o, t] += 1
                if i < n_traj:
                    for k in range(n_tv):
                        out_traj[i, o, t, k] = state[k]
        start = state
        for o in range(n_opt):
            state = start
            area_sum = 0.0
            strike_sum = 0.0
            for h in range(horizon):
                t = t_d + h
                _resolve(opt_const[o], opt_ref[o], h, p, lev)
                strike_sum += lev[J_STRIKE]
                state = step(state, p, dv, lev, sd * z[i, t], float(t), np)
                a = state[2]
                area_sum += a
                out_area_sum[o, t] += a
                if a >= threshold:
                    out_count[o, t] += 1
                if i < n_traj:
                    for k in range(n_tv):
                        out_traj[i, o, t, k] = state[k]
            out_attr[i, o, 0] = area_sum / horizon
            out_attr[i, o, 1] = state[2]
            out_attr[i, o, 2] = state[3] - start[3]
            out_attr[i, o, 3] = state[4] - start[4]
            out_attr[i, o, 4] = state[5] - start[5]
            out_attr[i, o, 5] = 1.0 if state[2] >= threshold else 0.0
            out_attr[i, o, 6] = strike_sum
