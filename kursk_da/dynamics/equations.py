r"""The campaign equations: the single source of truth.

Every function here is written once and evaluated by three back ends:

* the numba kernel of the Monte Carlo engine (scalars in a vectorised loop over
  draws, ``ops =`` :mod:`kursk_da.engine._lanemath`, division-free and
  vectorisable versions of the NumPy functions),
* the vectorised NumPy reference simulator (arrays over draws, ``ops = numpy``),
* the PyMC calibration model (PyTensor tensors, ``ops = pytensor.tensor``).

Only the operations ``ops.exp``, ``ops.log``, ``ops.sqrt``, ``ops.reciprocal``,
``ops.minimum`` and ``ops.maximum`` and plain arithmetic (no division in ``step``:
quotients are products with ``ops.reciprocal``, which the engine computes without
the slow hardware divider) are used, and every expression is continuous in the
parameters (no branches on parameter values), so the PyMC model has gradients
everywhere. The full derivation with units is in ``docs/model.md``;
this docstring is the compact reference.

Time and state
--------------
Daily time step, ``dt = 1 day``; day ``t = 0`` is 6 August 2024. The state at the
*end* of day ``t`` is recorded at date ``2024-08-06 + t``. State variables:

========  ======================================================  ======
``U``     Ukrainian troops in Kursk                               troops
``R``     Russian troops in Kursk                                 troops
``A``     area of Kursk oblast held by Ukraine                    km2
``D``     extra Donbas ground lost because of the Kursk diversion km2
``CU``    cumulative Ukrainian casualties in Kursk                troops
``CR``    cumulative Russian casualties in Kursk                  troops
``ARR``   cumulative Russian (incl. North Korean) arrivals        troops
``SUR``   strength of the surprise, 1 at onset, decays to 0       1
========  ======================================================  ======

Equations for day ``t`` (state at the start of the day, after the phase-start
resets ``U <- u_init`` and ``SUR <- 1`` where the plan says so). ``a`` is 1
when Ukraine's posture is *attack* and 0 when it is *defend*; ``s`` the strike
intensity (0..1); ``m`` the attacker loss multiplier; ``eps_t ~ N(0, sigma_f^2)``
the day's front shock, the only randomness within a trajectory.

Forces (target seeking, so casualties are replaced)::

    U*   = scale * ua_force_max + added                              [troops]
    h    = min(1, U / ru_commit_reference)                            [1]
    ru   = clip((t - ru_reinforcement_delay) / arrival_ramp_days, 0, 1) [1]
    nk   = clip((t - nk_arrival_day) / arrival_ramp_days, 0, 1)       [1]
    R*   = ru_garrison + (ru * ru_reinforcement_ceiling + nk * nk_troops) * h
           + s * strike_tied_forces                                   [troops]
    k_R  = ru_reinforcement_rate * (1 - s * strike_slowdown)          [1/day]
    dU_flow = ua_force_rate * (U* - U);   dR_flow = k_R * (R* - R)    [troops/day]

Casualties, a generalised (Helmbold-type) Lanchester law with exponent
``w`` in (0, 1]: ``w = 1`` is Lanchester's square law (losses proportional to
the enemy's strength), small ``w`` approaches losses proportional to one's own
strength. With ``x = U / R`` and the daily loss rates at force parity::

    alpha_U = a * m * ua_loss_attack + (1 - a) * ua_loss_defend       [1/day]
    alpha_R = a * (1 + SUR * (M_s - 1)) * ru_loss_defend
              + (1 - a) * ru_loss_attack                            [1/day]
    L_U = min(U, alpha_U * U * x^(-w))                                [troops/day]
    L_R = min(R, alpha_R * R * x^(w) + s * strike_attrition * R)      [troops/day]

Area (the front moves with the log of the effective force ratio; the defender
multiplies its strength by ``defender_advantage = d``)::

    ln rho = ln x + ln ua_quality + a * (SUR * ln S0 - ln d) + (1 - a) * ln d
    y      = front_sensitivity * ln rho + eps_t
    f      = y / sqrt(1 + y^2)                                        [1]
    v      = advance_speed * max(f, 0) + retreat_speed * min(f, 0)    [km2/day]
    v      = a * v + (1 - a) * min(v, 0)        (a defender does not advance)
    A'     = clip(A + v, 0, area_per_troop * U')                      [km2]

Donbas cost of the diversion (relative to a world with no Kursk operation)::

    dD = donbas_cost_per_1000 / 1000 * (U - ru_diversion_fraction * max(0, R - ru_garrison))

Updates: ``U' = max(0, U + dU_flow - L_U)``, ``R' = max(0, R + dR_flow - L_R)``,
``CU' = CU + L_U``, ``CR' = CR + L_R``, ``ARR' = ARR + max(dR_flow, 0)``,
``D' = D + dD``, ``SUR' = SUR * exp(-1 / surprise_decay_days)``.

``S0 = surprise_multiplier`` multiplies Ukraine's effective strength at the onset
of a surprise attack and ``M_s = surprise_loss_multiplier`` the loss rate of the
surprised (enveloped) Russian defender; both effects decay with the time constant
``surprise_decay_days``. The front response ``f`` is the algebraic sigmoid
``y / sqrt(1 + y^2)`` (slope 1 at parity like ``tanh``, saturating more slowly);
it is used instead of ``tanh`` because it needs no transcendental function, which
keeps the engine within its throughput budget.

The names, units, domains and index constants of the parameters, states and levers
are the rows of :mod:`kursk_da.dynamics.catalogue`, re-exported here.

Uncertain parameters are the entries of :data:`PARAMETER_NAMES` (one value per
Monte Carlo or posterior draw); the front shocks ``eps_t`` are drawn anew for
every day of every trajectory and shared across options (common random numbers).
"""

from __future__ import annotations

from typing import Any

from numba.extending import register_jitable

# The table of quantities and every index constant live in the catalogue (no numba);
# every I_* and J_* is importable from here too.
from kursk_da.dynamics.catalogue import (
    I_ADVANCE_SPEED,
    I_AREA_PER_TROOP,
    I_ARRIVAL_RAMP_DAYS,
    I_DEFENDER_ADVANTAGE,
    I_DONBAS_COST_PER_1000,
    I_FRONT_NOISE_SD,  # noqa: F401 - re-exported (the reference simulator and the kernel)
    I_FRONT_SENSITIVITY,
    I_LANCHESTER_EXPONENT,
    I_NK_ARRIVAL_DAY,
    I_NK_TROOPS,
    I_RETREAT_SPEED,
    I_RU_COMMIT_REFERENCE,
    I_RU_DIVERSION_FRACTION,
    I_RU_GARRISON,
    I_RU_LOSS_ATTACK,
    I_RU_LOSS_DEFEND,
    I_RU_REINFORCEMENT_CEILING,
    I_RU_REINFORCEMENT_DELAY,
    I_RU_REINFORCEMENT_RATE,
    I_STRIKE_ATTRITION,
    I_STRIKE_SLOWDOWN,
    I_STRIKE_TIED_FORCES,
    I_SURPRISE_DECAY_DAYS,
    I_SURPRISE_LOSS_MULTIPLIER,
    I_SURPRISE_MULTIPLIER,
    I_UA_FORCE_MAX,
    I_UA_FORCE_RATE,
    I_UA_INITIAL_FORCE,  # noqa: F401 - re-exported (a plan lever, not used by step)
    I_UA_LOSS_ATTACK,
    I_UA_LOSS_DEFEND,
    I_UA_QUALITY,
    J_ATTACK,
    J_FORCE_ADDED,
    J_FORCE_INITIAL,
    J_FORCE_SCALE,
    J_LOSS_MULTIPLIER,
    J_RESET_FORCE,
    J_RESET_SURPRISE,
    J_STRIKE,
    LEVER_NAMES,
    PARAMETER_NAMES,
    PARAMETER_UNITS,
    STATE_NAMES,
    STATE_UNITS,
)

__all__ = [
    "PARAMETER_NAMES",
    "PARAMETER_UNITS",
    "STATE_NAMES",
    "STATE_UNITS",
    "LEVER_NAMES",
    "initial_state",
    "derived",
    "step",
]

_TINY = 1e-6  # troops; keeps log(U/R) finite when a side is absent


@register_jitable
def initial_state(p: Any) -> tuple[Any, ...]:
    """State at the start of day 0 (6 August 2024), before any plan acts.

    Parameters
    ----------
    p : indexable
        Parameter values, ``p[I_<NAME>]`` (scalars, arrays over draws or tensors).

    Returns
    -------
    tuple
        ``(U, R, A, D, CU, CR, ARR, SUR)``: no Ukrainian troops in Kursk, the Russian
        garrison, nothing held, nothing lost, no surprise.
    """
    r0 = p[I_RU_GARRISON] * 1.0
    zero = r0 * 0.0
    return (zero, r0, zero, zero, zero, zero, zero, zero)


@register_jitable
def derived(p: Any, ops: Any) -> tuple[Any, ...]:
    """Per-draw constants of :func:`step` (computed once per draw, not per day).

    Returns
    -------
    tuple
        ``(ln ua_quality, ln defender_advantage, ln surprise_multiplier,
        exp(-1 / surprise_decay_days), 1 / ru_commit_reference, 1 / arrival_ramp_days,
        donbas_cost_per_1000 / 1000)``.
    """
    ln_q = ops.log(p[I_UA_QUALITY])
    ln_d = ops.log(p[I_DEFENDER_ADVANTAGE])
    ln_s0 = ops.log(p[I_SURPRISE_MULTIPLIER])
    decay = ops.exp(-1.0 / p[I_SURPRISE_DECAY_DAYS])
    inv_commit = 1.0 / p[I_RU_COMMIT_REFERENCE]
    inv_ramp = 1.0 / p[I_ARRIVAL_RAMP_DAYS]
    donbas_rate = p[I_DONBAS_COST_PER_1000] / 1000.0
    return (ln_q, ln_d, ln_s0, decay, inv_commit, inv_ramp, donbas_rate)


@register_jitable
def step(
    state: tuple[Any, ...], p: Any, dv: tuple[Any, ...], lev: Any, eps: Any, t: Any, ops: Any
) -> tuple[Any, ...]:
    """Advance the campaign by one day (equations in the module docstring).

    Parameters
    ----------
    state : tuple
        ``(U, R, A, D, CU, CR, ARR, SUR)`` at the start of day ``t`` (units in
        :data:`STATE_UNITS`).
    p : indexable
        Parameter values, ``p[I_<NAME>]``.
    dv : tuple
        Output of :func:`derived` for the same parameters.
    lev : indexable
        Resolved lever values of the day, ``lev[J_<NAME>]`` (see :data:`LEVER_NAMES`).
    eps : scalar or array
        Front shock of the day (already scaled by ``front_noise_sd``).
    t : scalar
        Day index (days since 2024-08-06).
    ops : module
        ``numpy``, ``pytensor.tensor`` or :mod:`kursk_da.engine._lanemath`.

    Returns
    -------
    tuple
        The state at the end of day ``t``.
    """
    U, R, A, D, CU, CR, ARR, SUR = state
    ln_q, ln_d, ln_s0, decay, inv_commit, inv_ramp, donbas_rate = dv
    attack = lev[J_ATTACK]
    strike = lev[J_STRIKE]
    reset_u = lev[J_RESET_FORCE]
    reset_s = lev[J_RESET_SURPRISE]

    # phase-start resets
    U = reset_u * lev[J_FORCE_INITIAL] + (1.0 - reset_u) * U
    SUR = reset_s + (1.0 - reset_s) * SUR

    # reinforcement flows (target seeking)
    u_target = lev[J_FORCE_SCALE] * p[I_UA_FORCE_MAX] + lev[J_FORCE_ADDED]
    commit = ops.minimum(U * inv_commit, 1.0)
    ru = ops.minimum(ops.maximum((t - p[I_RU_REINFORCEMENT_DELAY]) * inv_ramp, 0.0), 1.0)
    nk = ops.minimum(ops.maximum((t - p[I_NK_ARRIVAL_DAY]) * inv_ramp, 0.0), 1.0)
    reinforcement = ru * p[I_RU_REINFORCEMENT_CEILING] + nk * p[I_NK_TROOPS]
    r_target = p[I_RU_GARRISON] + reinforcement * commit + strike * p[I_STRIKE_TIED_FORCES]
    k_r = p[I_RU_REINFORCEMENT_RATE] * (1.0 - strike * p[I_STRIKE_SLOWDOWN])
    flow_u = p[I_UA_FORCE_RATE] * (u_target - U)
    flow_r = k_r * (r_target - R)

    # casualties: generalised (Helmbold-type) Lanchester law
    lx = ops.log(ops.maximum(U, _TINY) * ops.reciprocal(ops.maximum(R, _TINY)))
    g = ops.exp(p[I_LANCHESTER_EXPONENT] * lx)  # (U/R)^w
    enveloped = 1.0 + SUR * (p[I_SURPRISE_LOSS_MULTIPLIER] - 1.0)
    alpha_u = (
        attack * lev[J_LOSS_MULTIPLIER] * p[I_UA_LOSS_ATTACK] + (1.0 - attack) * p[I_UA_LOSS_DEFEND]
    )
    alpha_r = attack * enveloped * p[I_RU_LOSS_DEFEND] + (1.0 - attack) * p[I_RU_LOSS_ATTACK]
    loss_u = ops.minimum(U, alpha_u * U * ops.reciprocal(g))
    loss_r = ops.minimum(R, (alpha_r * g + strike * p[I_STRIKE_ATTRITION]) * R)

    # front movement
    ln_rho = lx + ln_q + attack * (SUR * ln_s0 - ln_d) + (1.0 - attack) * ln_d
    y = p[I_FRONT_SENSITIVITY] * ln_rho + eps
    f = y * ops.reciprocal(ops.sqrt(1.0 + y * y))
    v = p[I_ADVANCE_SPEED] * ops.maximum(f, 0.0) + p[I_RETREAT_SPEED] * ops.minimum(f, 0.0)
    v = attack * v + (1.0 - attack) * ops.minimum(v, 0.0)

    # Donbas cost of the diversion
    diverted_ru = p[I_RU_DIVERSION_FRACTION] * ops.maximum(R - p[I_RU_GARRISON], 0.0)
    d_donbas = donbas_rate * (U - diverted_ru)

    U_new = ops.maximum(U + flow_u - loss_u, 0.0)
    R_new = ops.maximum(R + flow_r - loss_r, 0.0)
    A_new = ops.minimum(ops.maximum(A + v, 0.0), p[I_AREA_PER_TROOP] * U_new)
    return (
        U_new,
        R_new,
        A_new,
        D + d_donbas,
        CU + loss_u,
        CR + loss_r,
        ARR + ops.maximum(flow_r, 0.0),
        SUR * decay,
    )
