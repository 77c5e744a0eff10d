"""Vectorised NumPy reference simulator (full daily trajectories, small runs).

Evaluates :func:`kursk_da.dynamics.equations.step` with ``ops = numpy`` on arrays
over draws, looping over days in Python. It is the reference the compiled engine
and the PyMC model are tested against, and it returns every state variable on
every day for one plan at a time.
"""

from __future__ import annotations

import numpy as np

from kursk_da.dynamics.catalogue import (
    I_FRONT_NOISE_SD,
    J_RESET_FORCE,
    J_RESET_SURPRISE,
    S_A,
    S_CR,
    S_CU,
    S_R,
    S_U,
)
from kursk_da.dynamics.equations import (
    STATE_NAMES,
    derived,
    initial_state,
    step,
)

__all__ = ["simulate_plan", "simulate_triggered_plan"]


def simulate_plan(
    theta: np.ndarray, const: np.ndarray, ref: np.ndarray, z: np.ndarray
) -> np.ndarray:
    """Simulate days ``0 .. T-1`` of one plan for every draw.

    Parameters
    ----------
    theta : array (n, n_inputs)
        Input matrix (campaign parameters first).
    const, ref : arrays (T, n_levers)
        Lever schedule covering days ``0 .. T-1`` (history followed by the option).
    z : array (n, T)
        Standard-normal front shocks.

    Returns
    -------
    numpy.ndarray, shape (n, T, len(STATE_NAMES))
        State at the end of each day.
    """
    theta = np.asarray(theta, dtype=float)
    p = theta.T  # p[i] is the vector of parameter i over draws
    n, days = theta.shape[0], const.shape[0]
    dv = derived(p, np)
    state = initial_state(p)
    sd = p[I_FRONT_NOISE_SD]
    out = np.empty((n, days, len(STATE_NAMES)))
    for t in range(days):
        lev = [np.where(ref[t, j] < 0, const[t, j], p[max(ref[t, j], 0)])
               for j in range(const.shape[1])]
        state = step(state, p, dv, lev, sd * z[:, t], float(t), np)
        for k in range(len(STATE_NAMES)):
            out[:, t, k] = state[k]
    return out


def _trigger_quantity(state: tuple[np.ndarray, ...], start: tuple[np.ndarray, ...],
                      code: int) -> np.ndarray:
    """Quantity ``code`` (order of ``kursk_da.spec._plans.TRIGGER_QUANTITIES``) over draws."""
    if code == 0:
        return np.asarray(state[S_A])
    if code == 1:
        return np.asarray(state[S_R] / np.maximum(state[S_U], 1e-6))
    if code == 2:
        return np.asarray(state[S_U])
    if code == 3:
        return np.asarray(state[S_R])
    if code == 4:
        return np.asarray(state[S_CU] - start[S_CU])
    return np.asarray(state[S_CR] - start[S_CR])


def simulate_triggered_plan(
    theta: np.ndarray, const: np.ndarray, ref: np.ndarray, z: np.ndarray, decision_day: int,
    mode: int, quantity: np.ndarray, above: np.ndarray, value: np.ndarray,
    window: np.ndarray, post_const: np.ndarray, post_ref: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate one plan with a state trigger (the reference of the kernel's triggers).

    Parameters
    ----------
    theta, const, ref, z
        As for :func:`simulate_plan`.
    decision_day : int
        First day of the decision window (triggers are tested from it on).
    mode : int
        0 no trigger, 1 all conditions (and), 2 any (or).
    quantity, above, value : arrays (n_conditions,)
        Quantity code (-1: unused), 1 for ``above`` / 0 for ``below``, threshold.
    window : array (2,)
        Earliest and latest day of the start relative to ``decision_day`` (-1: none).
    post_const, post_ref : arrays (n_levers,)
        Levers of the triggered phase; its resets act on its first day only.

    Returns
    -------
    states : numpy.ndarray, shape (n, T, len(STATE_NAMES))
        State at the end of each day.
    fired : numpy.ndarray, shape (n,)
        Day of the decision window on which the triggered phase started, NaN if never.
    """
    theta = np.asarray(theta, dtype=float)
    p = theta.T
    n, days = theta.shape[0], const.shape[0]
    dv = derived(p, np)
    state = initial_state(p)
    start = state
    sd = p[I_FRONT_NOISE_SD]
    fired = np.full(n, -1, dtype=np.int64)
    out = np.empty((n, days, len(STATE_NAMES)))
    for t in range(days):
        lev = [np.broadcast_to(np.where(ref[t, j] < 0, const[t, j], p[max(ref[t, j], 0)]),
                               (n,)) for j in range(const.shape[1])]
        h = t - decision_day
        if h == 0:
            start = state
        if h >= 0 and mode > 0:
            if h >= window[0]:
                ok = np.full(n, mode == 1)
                for k in range(len(quantity)):
                    if quantity[k] < 0:
                        continue
                    x = _trigger_quantity(state, start, int(quantity[k]))
                    cond = x > value[k] if above[k] == 1 else x < value[k]
                    ok = (ok & cond) if mode == 1 else (ok | cond)
                if window[1] >= 0 and h >= window[1]:
                    ok[:] = True
                fired = np.where((fired < 0) & ok, h, fired)
            on = fired >= 0
            for j in range(const.shape[1]):
                post = post_const[j] if post_ref[j] < 0 else p[post_ref[j]]
                if j in (J_RESET_FORCE, J_RESET_SURPRISE):
                    post = np.where(fired == h, post, 0.0)
                lev[j] = np.where(on, post, lev[j])
        state = step(state, p, dv, lev, sd * z[:, t], float(t), np)
        for k in range(len(STATE_NAMES)):
            out[:, t, k] = state[k]
    return out, np.where(fired >= 0, fired, np.nan).astype(float)
