r"""The deterministic campaign skeleton seen by the likelihood.

The calibration compares each observation with the model state on its day along the
*deterministic skeleton*: the history plan simulated from day 0 with every front
shock set to zero (``eps_t = 0``). Three evaluations of the same
:func:`kursk_da.dynamics.equations.step` are provided, and tests check that they agree
to 1e-8 with the engine/reference simulator:

:func:`skeleton_numpy`
    Vectorised over draws with ``ops = numpy`` (the reference simulator); used for
    prior/posterior predictions outside the sampler.
:class:`SkeletonOp` (default in the PyMC model)
    A PyTensor ``Op`` running ``step`` in compiled numba code (``ops = numpy`` inside
    ``@njit``). Its gradient is the exact Jacobian by the **complex-step method**:
    ``d mu / d theta_k = Im(mu(theta + i h e_k)) / h`` with ``h = 1e-30``, exact to
    rounding because every operation in ``step`` is analytic or a branch selection
    (``minimum``/``maximum`` compare real parts). The ``k`` perturbed runs are
    independent and run *lane parallel*, eight at a time: each day is one loop over
    the lanes calling ``step`` with the first-order complex functions of
    :mod:`kursk_da.calibration._csmath`, which LLVM vectorises (0.67 -> 0.25 ms for the
    52 claims and 23 sampled inputs on the reference machine, against one complex run
    per input with NumPy's complex functions; tested equal to 1e-12). The values are
    the real parts of the first run. It has a numba implementation for nutpie's
    numba backend and a Python ``perform`` for PyMC's own NUTS.
:func:`skeleton_pytensor`
    ``step`` with ``ops = pytensor.tensor`` inside ``pytensor.scan`` (pure symbolic
    graph, e.g. for JAX or symbolic manipulation). It is about ten times slower per
    gradient evaluation than :class:`SkeletonOp` on the 2-core reference machine
    (3 ms against 0.3 ms for the 2025 history), which would break the 60 s sampling
    budget, hence the default.

Observed quantities (rows of :data:`kursk_da.dynamics.catalogue.OBSERVABLES`, accepted by
:data:`kursk_da.spec._observations.QUANTITIES`) are read from
the state at the end of the observation day; ``ru_buildup`` is ``R - ru_garrison``.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pytensor
import pytensor.tensor as pt
from numba import njit
from numba.extending import register_jitable
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply, Variable
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch.basic import register_funcify_and_cache_key

from kursk_da.calibration import _csmath
from kursk_da.dynamics import catalogue as _catalogue
from kursk_da.dynamics import equations as _equations
from kursk_da.dynamics.catalogue import (
    I_ARRIVAL_RAMP_DAYS,
    I_NK_ARRIVAL_DAY,
    I_NK_TROOPS,
    I_RU_GARRISON,
    LEVER_NAMES,
    OBSERVABLES,
    PARAMETER_NAMES,
    READINGS,
    STATE_NAMES,
)
from kursk_da.dynamics.equations import derived, initial_state, step
from kursk_da.dynamics.reference import simulate_plan
from kursk_da.engine import _lanemath as lanemath
from kursk_da.engine import numba_cache_dir  # noqa: F401 - sets the cache dir first

if TYPE_CHECKING:
    from kursk_da.spec._observations import Observation
    from kursk_da.spec._schema import Spec

__all__ = [
    "QUANTITY_STATE",
    "QUANTITY_READING",
    "ObservationMap",
    "read_observables",
    "observation_map",
    "skeleton_numpy",
    "skeleton_numba",
    "skeleton_pytensor",
    "SkeletonOp",
]

QUANTITY_STATE: dict[str, tuple[str, bool]] = {
    q.name: (q.state, q.minus == "ru_garrison")  # type: ignore[misc]
    for q in OBSERVABLES if q.reading == "state"
}
"""Observable quantity read as a state -> (state variable, subtract ``ru_garrison``).

Derived from :data:`kursk_da.dynamics.catalogue.OBSERVABLES` (rows with ``reading =
"state"``; the other readings are in :data:`QUANTITY_READING`). The skeleton subtracts at
most ``ru_garrison`` from a state; an observable needing another equation needs code here.
"""

QUANTITY_READING: dict[str, int] = {q.name: READINGS.index(q.reading) for q in OBSERVABLES}
"""Observable quantity -> reading code (index into
:data:`kursk_da.dynamics.catalogue.READINGS`: 0 state, 1 since a date, 2 against the peak,
3 North Korean troops deployed, 4 a parameter, 5 state minus the North Koreans)."""

_SINCE, _PEAK, _NK, _PARAM, _MINUS_NK = 1, 2, 3, 4, 5
if any(q.minus not in (None, "ru_garrison") for q in OBSERVABLES):  # pragma: no cover
    raise NotImplementedError("skeleton: an observable subtracts a parameter other than "
                              "ru_garrison; extend observation_map and the skeletons")

_H = 1e-30  # complex-step size (no cancellation, so it can be tiny)


@dataclass(frozen=True)
class ObservationMap:
    """Where each observation is read from the simulated history.

    Attributes
    ----------
    days : int64 array (m,)
        Day index of each observation.
    states : int64 array (m,)
        Index into :data:`~kursk_da.dynamics.catalogue.STATE_NAMES`.
    garrison : float64 array (m,)
        1.0 where ``ru_garrison`` is subtracted (``ru_buildup``), else 0.0.
    const, ref : arrays (T, n_levers)
        History lever schedule for days ``0 .. T-1`` (``T`` = last day + 1).
    modes : int64 array (m,)
        Reading code of each observation (:data:`QUANTITY_READING`).
    ref_days : int64 array (m,)
        Reference day of a ``since`` reading (else 0).
    params : int64 array (m,)
        Parameter column of a ``parameter`` reading (else 0).
    """

    days: np.ndarray
    states: np.ndarray
    garrison: np.ndarray
    const: np.ndarray
    ref: np.ndarray
    modes: np.ndarray | None = None
    ref_days: np.ndarray | None = None
    params: np.ndarray | None = None

    def __post_init__(self) -> None:
        m = len(self.days)
        for name in ("modes", "ref_days", "params"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, np.zeros(m, dtype=np.int64))

    @property
    def n_days(self) -> int:
        """Days simulated."""
        return int(self.const.shape[0])


def observation_map(spec: Spec, observations: Sequence[Observation]) -> ObservationMap:
    """Build the :class:`ObservationMap` of ``observations`` under ``spec``'s history.

    Parameters
    ----------
    spec : Spec
    observations : sequence of Observation
        All dated before the decision (guaranteed by the spec parser).

    Returns
    -------
    ObservationMap
    """
    import datetime as dt

    from kursk_da.engine._run import schedules
    from kursk_da.spec._plans import day_of

    rows = {q.name: q for q in OBSERVABLES}
    hc, hr, _, _ = schedules(spec)
    days = np.array([o.day for o in observations], dtype=np.int64)
    qs = [rows[o.quantity] for o in observations]
    ref_days = np.array([day_of(dt.date.fromisoformat(q.since)) if q.since else 0 for q in qs],
                        dtype=np.int64)
    n = int(max(days.max(), ref_days.max())) + 1 if days.size else 1
    states = np.array([STATE_NAMES.index(q.state) if q.state else 0 for q in qs],
                      dtype=np.int64)
    garrison = np.array([float(q.minus == "ru_garrison") for q in qs])
    modes = np.array([QUANTITY_READING[q.name] for q in qs], dtype=np.int64)
    params = np.array([PARAMETER_NAMES.index(q.parameter) if q.parameter else 0 for q in qs],
                      dtype=np.int64)
    return ObservationMap(days, states, garrison, np.ascontiguousarray(hc[:n]),
                          np.ascontiguousarray(hr[:n]), modes, ref_days, params)


def _nk_deployed(theta: Any, t: Any, ops: Any) -> Any:
    """North Korean troops sent to Kursk by the end of day ``t`` (reading ``nk_deployed``)."""
    ramp = (t - theta[..., I_NK_ARRIVAL_DAY]) / theta[..., I_ARRIVAL_RAMP_DAYS]
    return theta[..., I_NK_TROOPS] * ops.minimum(ops.maximum(ramp, 0.0), 1.0)


def read_observables(traj: np.ndarray, theta: np.ndarray, omap: ObservationMap) -> np.ndarray:
    """The observed quantities of ``omap`` from simulated trajectories (NumPy).

    Parameters
    ----------
    traj : array (n, T, n_state)
        Daily states (end of day), e.g. of :func:`kursk_da.dynamics.reference.simulate_plan`.
    theta : array (n, n_inputs)
        The inputs of the trajectories.
    omap : ObservationMap

    Returns
    -------
    numpy.ndarray (n, m)
    """
    assert omap.modes is not None and omap.ref_days is not None and omap.params is not None
    out: np.ndarray = traj[:, omap.days, omap.states] - omap.garrison * theta[:, [I_RU_GARRISON]]
    for q, mode in enumerate(omap.modes):
        d, s = int(omap.days[q]), int(omap.states[q])
        if mode == _SINCE:
            out[:, q] = traj[:, int(omap.ref_days[q]), s] - traj[:, d, s]
        elif mode == _PEAK:
            out[:, q] = traj[:, :d + 1, s].max(axis=1) - traj[:, d, s]
        elif mode == _NK:
            out[:, q] = _nk_deployed(theta, float(d), np)
        elif mode == _PARAM:
            out[:, q] = theta[:, int(omap.params[q])]
        elif mode == _MINUS_NK:
            out[:, q] = traj[:, d, s] - _nk_deployed(theta, float(d), np)
    return out


def skeleton_numpy(theta: np.ndarray, omap: ObservationMap) -> np.ndarray:
    """Observed quantities along the skeleton, for many draws (NumPy reference).

    Parameters
    ----------
    theta : array (n, n_inputs)
        Input matrix, columns ``spec.input_names``.
    omap : ObservationMap

    Returns
    -------
    numpy.ndarray, shape (n, m)
        In the units of each observation.
    """
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    z = np.zeros((theta.shape[0], omap.n_days))
    traj = simulate_plan(theta, omap.const, omap.ref, z)
    return read_observables(traj, theta, omap)


@njit(cache=True)
def _reading(traj: np.ndarray, stride: int, ln: int, pl: np.ndarray, q: int,  # pragma: no cover
             days: np.ndarray, states: np.ndarray, garrison: np.ndarray,
             modes: np.ndarray, ref_days: np.ndarray, params: np.ndarray) -> Any:
    """Observation ``q`` of run ``ln`` from daily states ``traj[t, s * stride + ln]`` (one
    run: ``stride = 1, ln = 0``; a lane group: ``stride = _LANES``); see
    :data:`QUANTITY_READING`. The running maximum compares real parts, so a complex-step
    run follows the branch of the real trajectory."""
    mode, d, s = modes[q], days[q], states[q]
    col = s * stride + ln
    x = traj[d, col]
    if mode == 0:
        return x - garrison[q] * pl[I_RU_GARRISON]
    if mode == 1:
        return traj[ref_days[q], col] - x
    if mode == 2:
        pk = traj[0, col]
        for t in range(1, d + 1):
            if traj[t, col].real > pk.real:
                pk = traj[t, col]
        return pk - x
    if mode == 4:
        return pl[params[q]] * 1.0
    r = (float(d) - pl[I_NK_ARRIVAL_DAY]) / pl[I_ARRIVAL_RAMP_DAYS]
    if r.real < 0.0:
        r = r * 0.0
    elif r.real > 1.0:
        r = r * 0.0 + 1.0
    nk = pl[I_NK_TROOPS] * r
    return nk if mode == 3 else x - nk


@njit(cache=True)
def _run(p: np.ndarray, const: np.ndarray, ref: np.ndarray, days: np.ndarray,  # pragma: no cover
         states: np.ndarray, garrison: np.ndarray, out: np.ndarray, modes: np.ndarray,
         ref_days: np.ndarray, params: np.ndarray) -> None:  # (numba)
    """One skeleton run; ``p`` float64 or complex128; fills ``out`` (m,).

    The daily states are kept (``T x n_state``) and the readings computed after the run
    (see :data:`QUANTITY_READING`); the running maximum compares real parts, so the
    complex step follows the branch of the real trajectory.
    """
    dv = derived(p, np)
    state = initial_state(p)
    n_lev = const.shape[1]
    n_t = const.shape[0]
    lev = np.empty(n_lev, dtype=p.dtype)
    traj = np.empty((n_t, len(state)), dtype=p.dtype)
    for t in range(n_t):
        for j in range(n_lev):
            if ref[t, j] < 0:
                lev[j] = const[t, j]
            else:
                lev[j] = p[ref[t, j]]
        state = step(state, p, dv, lev, 0.0, float(t), np)
        for k in range(len(state)):
            traj[t, k] = state[k]
    for q in range(days.shape[0]):
        out[q] = _reading(traj, 1, 0, p, q, days, states, garrison, modes, ref_days, params)


# --- the lane-parallel complex step ---------------------------------------------------
# The Jacobian column of sampled input j is the imaginary part of a run with input j
# perturbed by i h. The perturbed runs are independent, so they are advanced together:
# _LANES runs at a time (one group), each day one loop over the lanes calling ``step`` with
# the first-order complex functions of _csmath (no library calls), which LLVM vectorises
# like the Monte Carlo kernel. All lane data of a group live in one flat complex work
# array at row offsets that are compile-time constants (rows of _LANES numbers).
_LANES = 8
_N_DV = 7  # length of the tuple returned by equations.derived
_N_LEV, _N_STATE, _N_PAR = len(LEVER_NAMES), len(STATE_NAMES), len(PARAMETER_NAMES)
_R_DV = 0
_R_LEV = _R_DV + _N_DV
_R_S = _R_LEV + _N_LEV
_R_P = _R_S + _N_STATE
_N_ROWS = _R_P + _N_PAR
_FASTMATH = {"nnan", "nsz", "contract", "afn"}  # as the engine: no re-association


def _loader(name: str, row: int, count: int) -> Any:
    """A jitted ``f(w, ln) -> tuple`` of ``w[(row + k) * _LANES + ln]``, ``k < count``."""
    items = ", ".join(f"w[{(row + k) * _LANES} + ln]" for k in range(count))
    scope: dict[str, Any] = {}
    exec(f"def {name}(w, ln):\n    return ({items},)\n", scope)  # noqa: S102 - constants
    return register_jitable(inline="always")(scope[name])


def _storer(name: str, row: int, count: int) -> Any:
    """A jitted ``f(w, ln, x)`` setting ``w[(row + k) * _LANES + ln] = x[k]``."""
    body = "".join(f"    w[{(row + k) * _LANES} + ln] = x[{k}]\n" for k in range(count))
    scope: dict[str, Any] = {}
    exec(f"def {name}(w, ln, x):\n{body}", scope)  # noqa: S102 - constants
    return register_jitable(inline="always")(scope[name])


_load_p = _loader("_load_p", _R_P, _N_PAR)
_load_dv = _loader("_load_dv", _R_DV, _N_DV)
_load_lev = _loader("_load_lev", _R_LEV, _N_LEV)
_load_s = _loader("_load_s", _R_S, _N_STATE)
_store_s = _storer("_store_s", _R_S, _N_STATE)
# step inlined at numba IR level (a call in the lane loop prevents vectorisation)
_step_inline = njit(inline="always", nogil=True, error_model="numpy", fastmath=_FASTMATH,
                    cache=True)(step)


@njit(nogil=True, error_model="numpy", fastmath=_FASTMATH, cache=True)
def _lanes_day(w: np.ndarray, tf: float, out: np.ndarray) -> None:  # pragma: no cover
    """Advance every lane of a group by one day; the new states into ``out`` (n_state *
    _LANES,) as well as into the work array (numba)."""
    lanemath.prefer_512_bit_vectors()
    for ln in range(_LANES):
        st = _step_inline(_load_s(w, ln), _load_p(w, ln), _load_dv(w, ln), _load_lev(w, ln),
                          0.0, tf, _csmath)
        _store_s(w, ln, st)
    for k in range(_N_STATE):
        for ln in range(_LANES):
            out[k * _LANES + ln] = w[(_R_S + k) * _LANES + ln]


@njit(cache=True)
def _skeleton_jac(x: np.ndarray, base: np.ndarray, cols: np.ndarray,  # pragma: no cover
                  const: np.ndarray, ref: np.ndarray, days: np.ndarray, states: np.ndarray,
                  garrison: np.ndarray, modes: np.ndarray, ref_days: np.ndarray,
                  params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values (m,) and complex-step Jacobian (m, k) at sampled values ``x`` (k,).

    The ``k`` perturbed runs go ``_LANES`` at a time through :func:`_lanes_day`; a
    group's spare lanes (``k`` not a multiple of ``_LANES``) repeat an unperturbed run.
    The values are the real parts of the first run: the perturbation ``i h`` changes a
    real part by ``O(h^2)``, far below its rounding, so they are the values of a real run
    with the lanemath functions (within a few ulp of the NumPy reference; tested to 1e-12).
    """
    k = cols.shape[0]
    m = days.shape[0]
    p = base.copy()
    for j in range(k):
        p[cols[j]] = x[j]
    mu = np.empty(m)
    if k == 0:
        _run(p, const, ref, days, states, garrison, mu, modes, ref_days, params)
    jac = np.empty((m, k))
    n_t, n_lev = const.shape[0], const.shape[1]
    w = np.empty(_N_ROWS * _LANES, dtype=np.complex128)
    traj = np.empty((n_t, _N_STATE * _LANES), dtype=np.complex128)
    pc = np.empty((_LANES, p.shape[0]), dtype=np.complex128)
    for g0 in range(0, k, _LANES):
        for ln in range(_LANES):
            for i in range(p.shape[0]):
                pc[ln, i] = p[i]
            if g0 + ln < k:
                c = cols[g0 + ln]
                pc[ln, c] = complex(p[c], _H)
            for i in range(_N_PAR):
                w[(_R_P + i) * _LANES + ln] = pc[ln, i]
            dv = derived(pc[ln], np)
            for i in range(_N_DV):
                w[(_R_DV + i) * _LANES + ln] = dv[i]
            s0 = initial_state(pc[ln])
            for i in range(_N_STATE):
                w[(_R_S + i) * _LANES + ln] = s0[i]
        for t in range(n_t):
            for j in range(n_lev):
                r = ref[t, j]
                row = (_R_LEV + j) * _LANES
                if r < 0:
                    cj = const[t, j]
                    for ln in range(_LANES):
                        w[row + ln] = cj
                else:
                    src = (_R_P + r) * _LANES
                    for ln in range(_LANES):
                        w[row + ln] = w[src + ln]
            _lanes_day(w, float(t), traj[t])
        for ln in range(min(_LANES, k - g0)):
            for q in range(m):
                o = _reading(traj, _LANES, ln, pc[ln], q, days, states, garrison, modes,
                             ref_days, params)
                jac[q, g0 + ln] = o.imag / _H
                if g0 + ln == 0:  # the real part of a perturbed run is the value itself
                    mu[q] = o.real
    return mu, jac


def skeleton_numba(
    x: np.ndarray, base: np.ndarray, cols: np.ndarray, omap: ObservationMap
) -> tuple[np.ndarray, np.ndarray]:
    """Observed quantities and their Jacobian for one parameter vector (compiled).

    Parameters
    ----------
    x : array (k,)
        Values of the sampled inputs.
    base : array (n_inputs,)
        Full input vector; the entries ``cols`` are replaced by ``x``.
    cols : int array (k,)
        Columns of the sampled inputs.
    omap : ObservationMap

    Returns
    -------
    mu : array (m,)
        Observed quantities (units of each observation).
    jac : array (m, k)
        ``d mu / d x``.
    """
    mu_jac: tuple[np.ndarray, np.ndarray] = _skeleton_jac(
        np.asarray(x, dtype=float), np.asarray(base, dtype=float),
        np.asarray(cols, dtype=np.int64), omap.const, omap.ref, omap.days,
        omap.states, omap.garrison, omap.modes, omap.ref_days, omap.params)
    return mu_jac


def skeleton_pytensor(p: Any, omap: ObservationMap) -> Any:
    """Observed quantities along the skeleton as a PyTensor graph (``pytensor.scan``).

    Parameters
    ----------
    p : pytensor vector (n_inputs,)
        Full input vector.
    omap : ObservationMap

    Returns
    -------
    pytensor vector (m,)
    """
    n = omap.n_days
    n_in = int(p.type.shape[0]) if p.type.shape[0] is not None else None
    if n_in is None:
        raise ValueError("skeleton_pytensor needs a vector of static length")
    sel = np.zeros((n, omap.const.shape[1], n_in))
    tt, jj = np.nonzero(omap.ref >= 0)
    sel[tt, jj, omap.ref[tt, jj]] = 1.0
    lev = pt.as_tensor(np.where(omap.ref < 0, omap.const, 0.0)) + pt.tensordot(
        pt.as_tensor(sel), p, axes=[[2], [0]])
    dv = derived(p, pt)
    n_state = len(STATE_NAMES)

    def inner(lev_t: Any, t: Any, *args: Any) -> list[Any]:
        state, pin, dvin = args[:n_state], args[n_state], args[n_state + 1:]
        return list(step(tuple(state), pin, tuple(dvin), lev_t, 0.0, t, pt))

    outs = pytensor.scan(inner, sequences=[lev, pt.arange(n, dtype="float64")],
                         outputs_info=list(initial_state(p)), non_sequences=[p, *dv],
                         strict=True, return_updates=False)
    traj = pt.stack(outs, axis=1)  # (n, n_state)
    vals = traj[omap.days, omap.states] - pt.as_tensor(omap.garrison) * p[I_RU_GARRISON]
    assert omap.modes is not None and omap.ref_days is not None and omap.params is not None
    if not np.any(omap.modes):
        return vals
    cols = []
    for q, mode in enumerate(omap.modes):
        d, s = int(omap.days[q]), int(omap.states[q])
        if mode == _SINCE:
            cols.append(traj[int(omap.ref_days[q]), s] - traj[d, s])
        elif mode == _PEAK:
            cols.append(pt.max(traj[:d + 1, s]) - traj[d, s])
        elif mode == _NK:
            cols.append(_nk_deployed(p, float(d), pt))
        elif mode == _PARAM:
            cols.append(p[int(omap.params[q])])
        elif mode == _MINUS_NK:
            cols.append(traj[d, s] - _nk_deployed(p, float(d), pt))
        else:
            cols.append(vals[q])
    return pt.stack(cols)


class SkeletonOp(Op):
    """PyTensor Op of the skeleton: ``x (k,) -> (mu (m,), jac (m, k))``.

    The gradient of ``mu`` is ``output_grad @ jac`` (complex-step Jacobian, see the module
    docstring); the ``jac`` output itself is not differentiable.

    Parameters
    ----------
    base : array (n_inputs,)
        Full input vector (values of the inputs that are not sampled).
    cols : int array (k,)
        Columns of the sampled inputs, in the order of the Op's input vector.
    omap : ObservationMap
    """

    __props__ = ()

    def __init__(self, base: np.ndarray, cols: np.ndarray, omap: ObservationMap) -> None:
        self.base = np.asarray(base, dtype=float).copy()
        self.cols = np.asarray(cols, dtype=np.int64).copy()
        self.omap = omap

    # identity semantics: two ops with different constants must never be merged
    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    # PyTensor documents the one-input form make_node(self, x); its stub says *inputs
    def make_node(self, x: Any) -> Apply[Any]:  # type: ignore[override]
        """Apply node with outputs ``mu`` and ``jac``."""
        x = pt.as_tensor_variable(x).astype("float64")
        m, k = len(self.omap.days), len(self.cols)
        return Apply(self, [x], [pt.tensor(dtype="float64", shape=(m,)),
                                 pt.tensor(dtype="float64", shape=(m, k))])

    def perform(self, node: Apply[Any], inputs: Sequence[Any], outputs: Any) -> None:
        """Evaluate in compiled numba code."""
        mu, jac = skeleton_numba(inputs[0], self.base, self.cols, self.omap)
        outputs[0][0] = mu
        outputs[1][0] = jac

    def grad(self, inputs: Sequence[Variable[Any, Any]], output_grads: Sequence[Variable[Any, Any]]
             ) -> list[Variable[Any, Any]]:
        """Vector-Jacobian product ``g_mu @ jac``."""
        if not isinstance(output_grads[1].type, DisconnectedType):
            raise NotImplementedError("the Jacobian output of SkeletonOp is not differentiable")
        _, jac = cast("list[Variable[Any, Any]]", self(inputs[0]))  # two outputs: a list
        return [pt.dot(output_grads[0], jac)]

    def connection_pattern(self, node: Apply[Any]) -> list[list[bool]]:
        """Both outputs depend on the input."""
        return [[True, True]]


@register_funcify_and_cache_key(SkeletonOp)
def _numba_skeleton(op: SkeletonOp, node: Any = None, **kwargs: Any) -> tuple[Any, str]:
    """Numba implementation for nutpie's numba backend (constants are frozen in).

    Returns the function and a cache key (a hash of the frozen constants and of this
    module's source), so PyTensor's numba cache can keep the compiled graph on disk.
    """
    base, cols, om = op.base, op.cols, op.omap
    const, ref, days, states, garrison = om.const, om.ref, om.days, om.states, om.garrison
    modes, ref_days, params = om.modes, om.ref_days, om.params

    @njit(cache=True)
    def skeleton_op(x: np.ndarray) -> Any:  # pragma: no cover - numba
        return _skeleton_jac(x, base, cols, const, ref, days, states, garrison, modes,
                             ref_days, params)

    return skeleton_op, _op_key(op)


def _op_key(op: SkeletonOp) -> str:
    """Cache key of a SkeletonOp: its constants and the source of the compiled code."""
    h = hashlib.sha256(b"SkeletonOp-1")
    h.update(_SOURCE_KEY.encode())
    om = op.omap
    for a in (op.base, op.cols, om.const, om.ref, om.days, om.states, om.garrison, om.modes,
              om.ref_days, om.params):
        arr = np.ascontiguousarray(a)
        h.update(f"{arr.dtype.str}{arr.shape}".encode())
        h.update(arr.tobytes())
    return h.hexdigest()


_SOURCE_KEY = hashlib.sha256(b"".join(
    Path(m.__file__).read_bytes()
    for m in (sys.modules[__name__], _equations, _catalogue, _csmath, lanemath)
    if m.__file__)).hexdigest()
