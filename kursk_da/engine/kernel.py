"""Compiled Monte Carlo kernel: one chunk of draws through the history and every option.

The kernel evaluates :func:`kursk_da.dynamics.equations.step` (the single source of
truth) compiled by numba, with ``ops =`` :mod:`kursk_da.engine.lanemath`. It is
*lane parallel*: the draws of a chunk are processed in blocks of :data:`LANES`
draws, the state of a block is held as one row of ``LANES`` numbers per state
variable, and every day is one loop over the lanes that calls ``step`` on the
lane's scalars. That loop is branch free and calls only inlined arithmetic, so
LLVM vectorises it (several draws per SIMD instruction); the per-draw,
per-option, per-day cost is a few nanoseconds instead of ~50 for a scalar loop
calling the C library's ``exp``/``log``.

All lane data of a block (the transposed inputs, the derived constants, the levers
of the day, the state, the state at the decision day, the day's front shocks and
two accumulators) live in one flat work array at row offsets that are compile-time
constants, so LLVM can prove that the stores of one lane loop do not overlap its
loads and needs no run-time alias checks.

Per draw the kernel

1. resolves the lever schedule of the day (constants or references to columns of
   the input matrix ``theta``),
2. uses the day's front shock for every option (common random numbers),
3. simulates the history (days ``0 .. t_d - 1``) once and branches into each
   option for the decision window (days ``t_d .. t_d + H - 1``),
4. accumulates the value attributes of each option, the per-date counts of
   draws whose area held is at or above the retention threshold, the per-date
   sum of area held, and the full daily trajectories of the first ``n_traj``
   draws of the chunk.

Results equal those of a scalar loop over draws up to rounding (the engine is
tested against the NumPy reference to 1e-10); the per-date sums of area are added
in a different order (by blocks). The kernel releases the GIL, so chunks run in
parallel threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.extending import register_jitable

from kursk_da.dynamics.equations import (
    I_FRONT_NOISE_SD,
    J_STRIKE,
    PARAMETER_NAMES,
    STATE_NAMES,
    derived,
    initial_state,
    step,
)
from kursk_da.engine import lanemath

__all__ = ["ATTRIBUTE_NAMES", "TRAJECTORY_NAMES", "simulate_chunk", "N_LEVERS", "LANES"]

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

LANES = 64
"""Draws per block (the length of the vectorised loop)."""

# fast-math flags of the kernel: no re-association (it would undo the range
# reduction of lanemath.exp/log); vectorisable reductions use _REDUCE_FLAGS.
_FLAGS = {"nnan", "ninf", "nsz", "contract", "afn"}
_REDUCE_FLAGS = {"nnan", "ninf", "nsz", "contract", "afn", "reassoc"}

N_PAR = len(PARAMETER_NAMES)
N_STATE = len(STATE_NAMES)
N_DERIVED = 7

# rows of the work array (each row holds LANES numbers)
ROW_DV = 0  # derived constants
ROW_LEV = ROW_DV + N_DERIVED  # levers of the day
ROW_S = ROW_LEV + N_LEVERS  # state
ROW_S0 = ROW_S + N_STATE  # state at the decision day
ROW_EPS = ROW_S0 + N_STATE  # front shock of the day
ROW_AREA = ROW_EPS + 1  # sum of the area held over the decision window
ROW_STRIKE = ROW_AREA + 1  # sum of the strike intensity over the decision window
ROW_TH = ROW_STRIKE + 1  # transposed input columns (campaign parameters first)


def _loader(name: str, row: int, count: int):
    """A jitted ``f(w, l) -> tuple`` of ``w[(row + k) * LANES + l]``, ``k < count``."""
    items = ", ".join(f"w[{(row + k) * LANES} + l]" for k in range(count))
    src = f"def {name}(w, l):\n    return ({items},)\n"
    scope: dict = {}
    exec(src, scope)  # noqa: S102 - generated from constants of this module
    return register_jitable(inline="always")(scope[name])


def _storer(name: str, row: int, count: int):
    """A jitted ``f(w, l, x)`` setting ``w[(row + k) * LANES + l] = x[k]``, ``k < count``."""
    body = "".join(f"    w[{(row + k) * LANES} + l] = x[{k}]\n" for k in range(count))
    src = f"def {name}(w, l, x):\n{body}"
    scope: dict = {}
    exec(src, scope)  # noqa: S102 - generated from constants of this module
    return register_jitable(inline="always")(scope[name])


# the equations, inlined into the lane loop at numba IR level (LLVM's inliner finds
# step too large, and a call in the loop body prevents vectorisation)
_step = njit(inline="always", nogil=True, error_model="numpy", fastmath=_FLAGS)(step)

_load_params = _loader("_load_params", ROW_TH, N_PAR)
_load_derived = _loader("_load_derived", ROW_DV, N_DERIVED)
_load_levers = _loader("_load_levers", ROW_LEV, N_LEVERS)
_load_state = _loader("_load_state", ROW_S, N_STATE)
_load_start = _loader("_load_start", ROW_S0, N_STATE)
_store_state = _storer("_store_state", ROW_S, N_STATE)
_store_start = _storer("_store_start", ROW_S0, N_STATE)
_store_derived = _storer("_store_derived", ROW_DV, N_DERIVED)


@njit(nogil=True, error_model="numpy", fastmath=_FLAGS)
def _day(w, t):
    """Advance every lane of the block by day ``t`` (the vectorised loop)."""
    tf = float(t)
    for l in range(LANES):
        p = _load_params(w, l)
        lev = _load_levers(w, l)
        state = _step(
            _load_state(w, l), p, _load_derived(w, l), lev, w[ROW_EPS * LANES + l], tf, lanemath
        )
        _store_state(w, l, state)
        w[ROW_AREA * LANES + l] += state[2]
        w[ROW_STRIKE * LANES + l] += lev[J_STRIKE]


@njit(nogil=True, fastmath=_REDUCE_FLAGS)
def _area_sum(w, n_valid):
    """Sum of the area held over the first ``n_valid`` lanes."""
    s = 0.0
    base = (ROW_S + 2) * LANES
    for l in range(n_valid):
        s += w[base + l]
    return s


@njit(nogil=True, fastmath=_FLAGS)
def _area_count(w, n_valid, threshold):
    """Number of the first ``n_valid`` lanes with area held >= ``threshold``."""
    c = 0
    base = (ROW_S + 2) * LANES
    for l in range(n_valid):
        c += w[base + l] >= threshold
    return c


@njit(nogil=True, fastmath=_FLAGS)
def _set_levers(w, const, ref, t, n_th):
    """Levers of day ``t`` of a schedule into the lever rows (if they changed)."""
    if t > 0:
        same = True
        for j in range(N_LEVERS):
            if const[t, j] != const[t - 1, j] or ref[t, j] != ref[t - 1, j]:
                same = False
        if same:
            return
    for j in range(N_LEVERS):
        r = ref[t, j]
        base = (ROW_LEV + j) * LANES
        if r < 0:
            c = const[t, j]
            for l in range(LANES):
                w[base + l] = c
        else:
            src = (ROW_TH + r) * LANES
            for l in range(LANES):
                w[base + l] = w[src + l]


@njit(nogil=True, fastmath=_FLAGS)
def _set_shocks(w, zt, t):
    """Front shocks of day ``t`` (scaled by front_noise_sd) into the shock row."""
    sd = (ROW_TH + I_FRONT_NOISE_SD) * LANES
    for l in range(LANES):
        w[ROW_EPS * LANES + l] = w[sd + l] * zt[t, l]


@njit(nogil=True, fastmath=_FLAGS)
def _record(w, o, t, n_valid, n_traj_block, threshold, out_count, out_area_sum, out_traj, i0):
    """Per-date sum and count of the area held, and the stored trajectories."""
    out_area_sum[o, t] += _area_sum(w, n_valid)
    out_count[o, t] += _area_count(w, n_valid, threshold)
    for l in range(n_traj_block):
        for k in range(out_traj.shape[3]):
            out_traj[i0 + l, o, t, k] = w[(ROW_S + k) * LANES + l]


@njit(nogil=True, error_model="numpy", fastmath=_FLAGS)
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
    z : float array (n, t_d + H)
        Standard-normal front shocks (scaled by ``front_noise_sd`` here).
    threshold : float
        Retention threshold, km2.
    out_attr : float64 array (n, n_options, len(ATTRIBUTE_NAMES)), written.
    out_count : int64 array (n_options, t_d + H), incremented.
    out_area_sum : float64 array (n_options, t_d + H), incremented.
    out_traj : float64 array (n_traj, n_options, t_d + H, len(TRAJECTORY_NAMES)), written.
    """
    n = theta.shape[0]
    n_th = theta.shape[1]
    t_d = hist_const.shape[0]
    n_opt = opt_const.shape[0]
    horizon = opt_const.shape[1]
    n_days = t_d + horizon
    n_traj = out_traj.shape[0]
    w = np.empty((ROW_TH + n_th) * LANES)
    zt = np.empty((n_days, LANES))
    for i0 in range(0, n, LANES):
        n_valid = min(LANES, n - i0)
        n_traj_block = max(0, min(n_valid, n_traj - i0))
        # transposed inputs and shocks; padding lanes repeat the block's first draw
        for l in range(LANES):
            i = i0 + l if l < n_valid else i0
            for k in range(n_th):
                w[(ROW_TH + k) * LANES + l] = theta[i, k]
            for t in range(n_days):
                zt[t, l] = z[i, t]
        for l in range(LANES):
            p = _load_params(w, l)
            _store_derived(w, l, derived(p, lanemath))
            _store_state(w, l, initial_state(p))
        # history, shared by every option
        for t in range(t_d):
            _set_levers(w, hist_const, hist_ref, t, n_th)
            _set_shocks(w, zt, t)
            _day(w, t)
            for o in range(n_opt):
                _record(w, o, t, n_valid, n_traj_block, threshold, out_count, out_area_sum,
                        out_traj, i0)
        for l in range(LANES):
            _store_start(w, l, _load_state(w, l))
        # every option from the state at the decision day
        for o in range(n_opt):
            for l in range(LANES):
                _store_state(w, l, _load_start(w, l))
                w[ROW_AREA * LANES + l] = 0.0
                w[ROW_STRIKE * LANES + l] = 0.0
            for h in range(horizon):
                t = t_d + h
                _set_levers(w, opt_const[o], opt_ref[o], h, n_th)
                _set_shocks(w, zt, t)
                _day(w, t)
                _record(w, o, t, n_valid, n_traj_block, threshold, out_count, out_area_sum,
                        out_traj, i0)
            for l in range(n_valid):
                i = i0 + l
                s = _load_state(w, l)
                s0 = _load_start(w, l)
                out_attr[i, o, 0] = w[ROW_AREA * LANES + l] / horizon
                out_attr[i, o, 1] = s[2]
                out_attr[i, o, 2] = s[3] - s0[3]
                out_attr[i, o, 3] = s[4] - s0[4]
                out_attr[i, o, 4] = s[5] - s0[5]
                out_attr[i, o, 5] = 1.0 if s[2] >= threshold else 0.0
                out_attr[i, o, 6] = w[ROW_STRIKE * LANES + l]
