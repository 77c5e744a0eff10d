"""Compiled Monte Carlo kernel: one chunk of draws through the history and every option.

The kernel evaluates :func:`kursk_da.dynamics.equations.step` (the single source of
truth) compiled by numba, with ``ops =`` :mod:`kursk_da.engine._lanemath`. It is
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
4. for an option with a state trigger (:func:`kursk_da.spec._plans.compile_triggers`),
   tests the trigger on every lane at the start of each day of the decision window
   and switches the lanes where it fired to the triggered phase's levers (per lane,
   outside the vectorised day loop), recording the day it fired,
5. accumulates the value attributes of each option, the per-date counts of
   draws whose area held is at or above the retention threshold, the per-date
   sum of area held, and the full daily trajectories of the first ``n_traj``
   draws of the chunk.

Results equal those of a scalar loop over draws up to rounding (the engine is
tested against the NumPy reference to 1e-10); the per-date sums of area are added
in a different order (by blocks). The kernel releases the GIL, so chunks run in
parallel threads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
from numba import njit
from numba.extending import register_jitable

from kursk_da.dynamics.catalogue import (
    A_DONBAS_AREA_LOST,
    A_FOOTHOLD_RETAINED,
    A_KURSK_AREA_FINAL,
    A_KURSK_AREA_MEAN,
    A_RU_CASUALTIES,
    A_STRIKE_EFFORT,
    A_UA_CASUALTIES,
    ATTRIBUTE_NAMES,
    I_FRONT_NOISE_SD,
    J_RESET_FORCE,
    J_RESET_SURPRISE,
    J_STRIKE,
    N_LEVERS,
    N_PAR,
    N_STATE,
    S_A,
    S_CR,
    S_CU,
    S_D,
    S_R,
    S_U,
    TRAJECTORY_NAMES,
)
from kursk_da.dynamics.equations import derived, initial_state, step
from kursk_da.engine import _lanemath as lanemath

# ATTRIBUTE_NAMES, TRAJECTORY_NAMES and N_LEVERS are rows of the catalogue
# (kursk_da.dynamics.catalogue), re-exported here.
__all__ = ["ATTRIBUTE_NAMES", "TRAJECTORY_NAMES", "simulate_chunk", "N_LEVERS", "LANES"]

LANES = 64
"""Draws per block (the length of the vectorised loop)."""

# fast-math flags of the kernel: no re-association (it would undo the range
# reduction of lanemath.exp/log); vectorisable reductions use _REDUCE_FLAGS.
_FLAGS = {"nnan", "nsz", "contract", "afn"}
_REDUCE_FLAGS = {"nnan", "nsz", "contract", "afn", "reassoc"}

N_DERIVED = 7  # length of the tuple returned by equations.derived

# array types of the compiled functions (annotations only: numba types by value)
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# rows of the work array (each row holds LANES numbers)
ROW_DV = 0  # derived constants
ROW_LEV = ROW_DV + N_DERIVED  # levers of the day
ROW_S = ROW_LEV + N_LEVERS  # state
ROW_S0 = ROW_S + N_STATE  # state at the decision day
ROW_AREA = ROW_S0 + N_STATE  # sum of the area held over the decision window
ROW_STRIKE = ROW_AREA + 1  # sum of the strike intensity over the decision window
ROW_AREA_DAY = ROW_STRIKE + 1  # area held at the end of the day, 0 in padding lanes
ROW_VALID = ROW_AREA_DAY + 1  # 1 for lanes holding a draw, 0 for padding lanes
ROW_TH = ROW_VALID + 1  # transposed input columns (campaign parameters first)


def _loader(name: str, row: int, count: int) -> Callable[..., Any]:
    """A jitted ``f(w, ln) -> tuple`` of ``w[(row + k) * LANES + ln]``, ``k < count``."""
    items = ", ".join(f"w[{(row + k) * LANES} + ln]" for k in range(count))
    src = f"def {name}(w, ln):\n    return ({items},)\n"
    scope: dict[str, Any] = {}
    exec(src, scope)  # noqa: S102 - generated from constants of this module
    jitted: Callable[..., Any] = register_jitable(inline="always")(scope[name])
    return jitted


def _storer(name: str, row: int, count: int) -> Callable[..., Any]:
    """A jitted ``f(w, ln, x)`` setting ``w[(row + k) * LANES + ln] = x[k]``, ``k < count``."""
    body = "".join(f"    w[{(row + k) * LANES} + ln] = x[{k}]\n" for k in range(count))
    src = f"def {name}(w, ln, x):\n{body}"
    scope: dict[str, Any] = {}
    exec(src, scope)  # noqa: S102 - generated from constants of this module
    jitted: Callable[..., Any] = register_jitable(inline="always")(scope[name])
    return jitted


# the equations, inlined into the lane loop at numba IR level (LLVM's inliner finds
# step too large, and a call in the loop body prevents vectorisation)
_step = njit(inline="always", nogil=True, error_model="numpy", fastmath=_FLAGS,
             cache=True)(step)

_load_params = _loader("_load_params", ROW_TH, N_PAR)
_load_derived = _loader("_load_derived", ROW_DV, N_DERIVED)
_load_levers = _loader("_load_levers", ROW_LEV, N_LEVERS)
_load_state = _loader("_load_state", ROW_S, N_STATE)
_load_start = _loader("_load_start", ROW_S0, N_STATE)
_store_state = _storer("_store_state", ROW_S, N_STATE)
_store_start = _storer("_store_start", ROW_S0, N_STATE)
_store_derived = _storer("_store_derived", ROW_DV, N_DERIVED)


@register_jitable
def _sum_lanes(w: FloatArray, row: int) -> float:
    """Sum of ``w[row * LANES + ln]`` over the lanes, in a fixed order.

    Eight partial sums (lanes ``ln = k mod 8``), then combined pairwise: SLP-vectorised
    without re-association, so the result does not depend on the vector width.
    """
    base = row * LANES
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    for g in range(0, LANES, 8):
        s0 += w[base + g]
        s1 += w[base + g + 1]
        s2 += w[base + g + 2]
        s3 += w[base + g + 3]
        s4 += w[base + g + 4]
        s5 += w[base + g + 5]
        s6 += w[base + g + 6]
        s7 += w[base + g + 7]
    return ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7))


@njit(nogil=True, error_model="numpy", fastmath=_FLAGS, cache=True)
def _day(w: FloatArray, zt: FloatArray, t: int, threshold: float) -> tuple[float, int]:
    """Advance every lane of the block by day ``t`` (the vectorised loop).

    ``zt[t * LANES + ln]`` is the day's standard-normal shock of lane ``ln``. Returns
    the sum over the valid lanes of the area held at the end of the day and the
    number of valid lanes with area held ``>= threshold``.
    """
    lanemath.prefer_512_bit_vectors()
    sd = (ROW_TH + I_FRONT_NOISE_SD) * LANES
    zt_day = zt[t * LANES : (t + 1) * LANES]
    tf = float(t)
    count = 0
    for ln in range(LANES):
        p = _load_params(w, ln)
        lev = _load_levers(w, ln)
        state = _step(
            _load_state(w, ln), p, _load_derived(w, ln), lev, w[sd + ln] * zt_day[ln], tf, lanemath
        )
        _store_state(w, ln, state)
        valid = w[ROW_VALID * LANES + ln]
        w[ROW_AREA * LANES + ln] += state[S_A]
        w[ROW_AREA_DAY * LANES + ln] = valid * state[S_A]
        w[ROW_STRIKE * LANES + ln] += lev[J_STRIKE]
        count += (state[S_A] >= threshold) & (valid > 0.0)
    return _sum_lanes(w, ROW_AREA_DAY), count


@njit(nogil=True, fastmath=_FLAGS, cache=True)
def _block_shocks(z: FloatArray, i0: int, n_valid: int, zt: FloatArray) -> None:
    """Shocks of draws ``i0 .. i0 + n_valid - 1`` into ``zt[t * LANES + ln]``.

    Padding lanes get the shock of the block's first draw. Contiguous for a
    day-major ``z`` (the transpose of a C-contiguous ``(n_days, n)`` array).
    """
    if i0 < 0:  # lets LLVM drop the negative-index wraparound of z[i0 + ln, t]
        return
    for t in range(z.shape[1]):
        for ln in range(n_valid):
            zt[t * LANES + ln] = z[i0 + ln, t]
        for ln in range(n_valid, LANES):
            zt[t * LANES + ln] = z[i0, t]


@njit(nogil=True, fastmath=_FLAGS, cache=True)
def _changes(const: FloatArray, ref: IntArray) -> BoolArray:
    """``True`` on the days of a schedule whose levers differ from the day before."""
    days = const.shape[0]
    out = np.zeros(days, dtype=np.bool_)
    for t in range(days):
        if t == 0:
            out[t] = True
        else:
            for j in range(N_LEVERS):
                if const[t, j] != const[t - 1, j] or ref[t, j] != ref[t - 1, j]:
                    out[t] = True
    return out


@njit(nogil=True, fastmath=_FLAGS, cache=True)
def _set_levers(w: FloatArray, const: FloatArray, ref: IntArray, t: int) -> None:
    """Levers of day ``t`` of a schedule into the lever rows."""
    for j in range(N_LEVERS):
        r = ref[t, j]
        base = (ROW_LEV + j) * LANES
        if r < 0:
            c = const[t, j]
            for ln in range(LANES):
                w[base + ln] = c
        else:
            src = (ROW_TH + r) * LANES
            for ln in range(LANES):
                w[base + ln] = w[src + ln]


@njit(nogil=True, fastmath=_FLAGS, cache=True)
def _store_traj(
    w: FloatArray, o: int, t: int, i0: int, n_traj_block: int, out_traj: FloatArray
) -> None:
    """Daily state of the first ``n_traj_block`` lanes into the stored trajectories."""
    for ln in range(n_traj_block):
        for k in range(out_traj.shape[3]):
            out_traj[i0 + ln, o, t, k] = w[(ROW_S + k) * LANES + ln]


_TINY_FORCE = 1e-6  # troops; the force ratio of an empty Kursk is finite


@register_jitable
def _trigger_quantity(w: FloatArray, ln: int, code: int) -> Any:
    """Quantity ``code`` (order of ``TRIGGER_QUANTITIES``) of lane ``ln`` from the state rows."""
    if code == 0:
        return w[(ROW_S + S_A) * LANES + ln]
    if code == 1:
        u = max(w[(ROW_S + S_U) * LANES + ln], _TINY_FORCE)
        return w[(ROW_S + S_R) * LANES + ln] / u
    if code == 2:
        return w[(ROW_S + S_U) * LANES + ln]
    if code == 3:
        return w[(ROW_S + S_R) * LANES + ln]
    if code == 4:
        return w[(ROW_S + S_CU) * LANES + ln] - w[(ROW_S0 + S_CU) * LANES + ln]
    return w[(ROW_S + S_CR) * LANES + ln] - w[(ROW_S0 + S_CR) * LANES + ln]


@njit(nogil=True, fastmath=_FLAGS, cache=True)
def _apply_trigger(
    w: FloatArray, h: int, fired: IntArray, mode: int, qty: IntArray, above: IntArray,
    value: FloatArray, earliest: int, latest: int, post_const: FloatArray, post_ref: IntArray,
) -> None:
    """Test the trigger on every lane at the start of day ``h``; triggered levers into rows."""
    for ln in range(LANES):
        if fired[ln] < 0 and h >= earliest:
            ok = mode == 1
            for k in range(qty.shape[0]):
                code = qty[k]
                if code < 0:
                    continue
                x = _trigger_quantity(w, ln, code)
                cond = x > value[k] if above[k] == 1 else x < value[k]
                ok = (ok and cond) if mode == 1 else (ok or cond)
            if ok or (0 <= latest <= h):
                fired[ln] = h
        if fired[ln] >= 0:
            first = fired[ln] == h
            for j in range(N_LEVERS):
                r = post_ref[j]
                val = post_const[j] if r < 0 else w[(ROW_TH + r) * LANES + ln]
                if (j == J_RESET_FORCE or j == J_RESET_SURPRISE) and not first:
                    val = 0.0
                w[(ROW_LEV + j) * LANES + ln] = val


def simulate_chunk(
    theta: FloatArray,
    hist_const: FloatArray,
    hist_ref: IntArray,
    opt_const: FloatArray,
    opt_ref: IntArray,
    z: FloatArray,
    threshold: float,
    out_attr: FloatArray,
    out_count: IntArray,
    out_area_sum: FloatArray,
    out_traj: FloatArray,
    triggers: tuple[Any, ...] | None = None,
    out_fire: FloatArray | None = None,
) -> None:
    """Simulate a chunk of draws (see :func:`_simulate_chunk`; arguments validated by the caller).

    ``triggers`` is :meth:`kursk_da.spec._plans.TriggerArrays.as_tuple` (None: no option
    has a trigger) and ``out_fire`` (n, n_options) receives the day of the decision
    window on which each option's triggered phase started (NaN: never, or no trigger).
    """
    n_opt = opt_const.shape[0]
    if triggers is None:
        triggers = (np.zeros(n_opt, dtype=np.int64), np.full((n_opt, 1), -1, dtype=np.int64),
                    np.zeros((n_opt, 1), dtype=np.int64), np.zeros((n_opt, 1)),
                    np.full((n_opt, 2), -1, dtype=np.int64), np.zeros((n_opt, N_LEVERS)),
                    np.full((n_opt, N_LEVERS), -1, dtype=np.int64))
    if out_fire is None:
        out_fire = np.empty((theta.shape[0], n_opt))
    _simulate_chunk(theta, hist_const, hist_ref, opt_const, opt_ref, z, threshold, out_attr,
                    out_count, out_area_sum, out_traj, *triggers, out_fire)
    out_fire[out_fire < 0] = np.nan


@njit(nogil=True, error_model="numpy", fastmath=_FLAGS, cache=True)
def _simulate_chunk(
    theta: FloatArray,
    hist_const: FloatArray,
    hist_ref: IntArray,
    opt_const: FloatArray,
    opt_ref: IntArray,
    z: FloatArray,
    threshold: float,
    out_attr: FloatArray,
    out_count: IntArray,
    out_area_sum: FloatArray,
    out_traj: FloatArray,
    trig_mode: IntArray,
    trig_qty: IntArray,
    trig_above: IntArray,
    trig_value: FloatArray,
    trig_window: IntArray,
    post_const: FloatArray,
    post_ref: IntArray,
    out_fire: FloatArray,
) -> None:
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
    trig_mode, trig_qty, trig_above, trig_value, trig_window, post_const, post_ref : arrays
        The options' triggers (:class:`kursk_da.spec._plans.TriggerArrays`).
    out_fire : float64 array (n, n_options), written
        Day of the decision window on which the triggered phase started (-1: never).
    """
    n = theta.shape[0]
    n_th = theta.shape[1]
    t_d = hist_const.shape[0]
    n_opt = opt_const.shape[0]
    horizon = opt_const.shape[1]
    n_traj = out_traj.shape[0]
    n_days = t_d + horizon
    w = np.zeros((ROW_TH + n_th) * LANES)
    zt = np.zeros(n_days * LANES)
    hist_changes = _changes(hist_const, hist_ref)
    opt_changes = np.zeros((n_opt, horizon), dtype=np.bool_)
    for o in range(n_opt):
        opt_changes[o] = _changes(opt_const[o], opt_ref[o])
    fired = np.full(LANES, -1, dtype=np.int64)
    for i0 in range(0, n, LANES):
        n_valid = min(LANES, n - i0)
        n_traj_block = max(0, min(n_valid, n_traj - i0))
        # transposed inputs; padding lanes repeat the block's first draw
        for ln in range(LANES):
            i = i0 + ln if ln < n_valid else i0
            w[ROW_VALID * LANES + ln] = 1.0 if ln < n_valid else 0.0
            for k in range(n_th):
                w[(ROW_TH + k) * LANES + ln] = theta[i, k]
        _block_shocks(z, i0, n_valid, zt)
        for ln in range(LANES):
            p = _load_params(w, ln)
            _store_derived(w, ln, derived(p, lanemath))
            _store_state(w, ln, initial_state(p))
        # history, shared by every option
        for t in range(t_d):
            if hist_changes[t]:
                _set_levers(w, hist_const, hist_ref, t)
            area, count = _day(w, zt, t, threshold)
            for o in range(n_opt):
                out_area_sum[o, t] += area
                out_count[o, t] += count
                if n_traj_block > 0:
                    _store_traj(w, o, t, i0, n_traj_block, out_traj)
        for ln in range(LANES):
            _store_start(w, ln, _load_state(w, ln))
        # every option from the state at the decision day
        for o in range(n_opt):
            o_const, o_ref, o_changes = opt_const[o], opt_ref[o], opt_changes[o]
            for ln in range(LANES):
                _store_state(w, ln, _load_start(w, ln))
                w[ROW_AREA * LANES + ln] = 0.0
                w[ROW_STRIKE * LANES + ln] = 0.0
                fired[ln] = -1
            mode = trig_mode[o]
            for h in range(horizon):
                t = t_d + h
                if o_changes[h]:
                    _set_levers(w, o_const, o_ref, h)
                if mode > 0:
                    _apply_trigger(w, h, fired, mode, trig_qty[o], trig_above[o], trig_value[o],
                                   trig_window[o, 0], trig_window[o, 1], post_const[o],
                                   post_ref[o])
                area, count = _day(w, zt, t, threshold)
                out_area_sum[o, t] += area
                out_count[o, t] += count
                if n_traj_block > 0:
                    _store_traj(w, o, t, i0, n_traj_block, out_traj)
            for ln in range(n_valid):
                i = i0 + ln
                s = _load_state(w, ln)
                s0 = _load_start(w, ln)
                # the value attributes (one line per row of catalogue.ATTRIBUTES)
                out_attr[i, o, A_KURSK_AREA_MEAN] = w[ROW_AREA * LANES + ln] / horizon
                out_attr[i, o, A_KURSK_AREA_FINAL] = s[S_A]
                out_attr[i, o, A_DONBAS_AREA_LOST] = s[S_D] - s0[S_D]
                out_attr[i, o, A_UA_CASUALTIES] = s[S_CU] - s0[S_CU]
                out_attr[i, o, A_RU_CASUALTIES] = s[S_CR] - s0[S_CR]
                out_attr[i, o, A_FOOTHOLD_RETAINED] = 1.0 if s[S_A] >= threshold else 0.0
                out_attr[i, o, A_STRIKE_EFFORT] = w[ROW_STRIKE * LANES + ln]
                out_fire[i, o] = float(fired[ln])  # -1: never (NaN in simulate_chunk)
