"""Vectorised NumPy reference simulator (full daily trajectories, small runs).

Evaluates :func:`kursk_da.dynamics.equations.step` with ``ops = numpy`` on arrays
over draws, looping over days in Python. It is the reference the compiled engine
and the PyMC model are tested against, and it returns every state variable on
every day for one plan at a time.
"""

from __future__ import annotations

import numpy as np

from kursk_da.dynamics.catalogue import I_FRONT_NOISE_SD
from kursk_da.dynamics.equations import (
    STATE_NAMES,
    derived,
    initial_state,
    step,
)

__all__ = ["simulate_plan"]


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
