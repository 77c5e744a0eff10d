"""The catalogue: the one table of the model's quantities.

Every quantity the package names (campaign parameters, state variables, stored
trajectory variables, observable quantities, value attributes and plan levers) is one
:class:`Quantity` row here, with its units, long name, short plot label and physical
domain. Everything else derives from these rows: the column indices of the equations
and the engine (``I_*`` parameters, ``J_*`` levers, ``S_*`` states, ``A_*`` attributes,
``N_*`` counts), the spec's required parameters, units and default groups, the value
attributes a spec must weigh, the observation types a spec may use, the trajectory
variables of a result set and the labels of the plots.

This module imports only the standard library and NumPy (no numba), so the spec layer
can use it without compiling anything.

Order is meaning
----------------
The order of :data:`PARAMETERS` is the column order of every parameter array, the
order of :data:`STATES` is the order of the state tuple of
:func:`kursk_da.dynamics.equations.step`, the order of :data:`LEVERS` is the column
order of a lever schedule and the order of :data:`ATTRIBUTES` is the last axis of the
engine's attribute array. Reordering rows changes those arrays; ``tests/test_catalogue.py``
pins every index constant to its name so a reorder cannot go unnoticed.

Domains
-------
Each quantity has a :class:`Domain` (every value is also finite). Domains come from
``docs/model.md`` and the equations: troops, areas of Kursk held, casualties and
arrivals are ``>= 0``; rates are ``>= 0``; fractions are in ``[0, 1]``; the Lanchester
exponent is in ``(0, 1]``; days are ``>= 0``; a quantity whose logarithm or reciprocal
the equations take is ``> 0``. Where the documentation says nothing, the row's comment
says "analyst judgement".

How to add a quantity
---------------------
* **An observable quantity** that reads a state variable (optionally minus a campaign
  parameter, like ``ru_buildup = R - ru_garrison``): add one row to :data:`OBSERVABLES`
  with ``state=`` (and ``minus=``). The spec then accepts ``quantity = "<name>"`` in
  ``[[observations]]`` and the calibration reads it from the skeleton. An observable
  that is not a state (minus a parameter) needs its equation in
  :mod:`kursk_da.calibration._skeleton` too.
* **A value attribute**: add one row to :data:`ATTRIBUTES` and its ``A_<NAME>`` index
  below, and compute it in :func:`kursk_da.engine._kernel.simulate_chunk` (the equation:
  ``out_attr[i, o, A_<NAME>] = ...``). Every spec must then give it a weight in
  ``[value.weights]``.
* **A campaign parameter, state or lever**: add the row, its ``I_``/``S_``/``J_`` index
  below, and use it in :mod:`kursk_da.dynamics.equations`; specs must then give a
  parameter a prior.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from kursk_da.errors import ArgumentError, UnknownQuantityError

__all__ = [
    "KINDS",
    "READINGS",
    "Domain",
    "Quantity",
    "quantity",
    "PARAMETERS",
    "STATES",
    "TRAJECTORIES",
    "OBSERVABLES",
    "ATTRIBUTES",
    "LEVERS",
    "PARAMETER_NAMES",
    "STATE_NAMES",
    "TRAJECTORY_NAMES",
    "OBSERVABLE_NAMES",
    "ATTRIBUTE_NAMES",
    "LEVER_NAMES",
    "PARAMETER_UNITS",
    "PARAMETER_GROUPS",
    "STATE_UNITS",
    "ATTRIBUTE_UNITS",
    "LEVER_UNITS",
    "N_PAR",
    "N_STATE",
    "N_TRAJ",
    "N_LEVERS",
    "N_ATTR",
]

KINDS = ("parameter", "state", "trajectory", "observable", "attribute", "lever")
"""The kinds of quantity, in the order :func:`quantity` searches them."""

READINGS = ("state", "since", "peak", "nk_deployed", "parameter", "state_minus_nk")
"""How an observable reads the model (``Quantity.reading``):

``state``
    the state at the end of the observation day (minus ``minus``, if set);
``since``
    the state at the end of the day ``since`` minus the state on the observation day (a
    loss since a reference date, e.g. ground retaken since a map layer starts);
``peak``
    the running maximum of the state up to the observation day minus the state (a loss
    against the peak);
``nk_deployed``
    ``nk_troops * clip((t - nk_arrival_day) / arrival_ramp_days, 0, 1)``: the North Korean
    troops sent to Kursk by day ``t`` (the part of the Russian target force ``R*`` they
    make up; :mod:`kursk_da.dynamics.equations`);
``parameter``
    the value of the campaign parameter ``parameter`` (a claim about a plan, e.g. the
    North Korean force planned);
``state_minus_nk``
    the state minus ``nk_deployed`` (Russian troops without the North Koreans).
"""

_INF = math.inf


@dataclass(frozen=True)
class Domain:
    """An interval of the real line: the values a quantity can physically take.

    Parameters
    ----------
    low, high : float
        Bounds, in the quantity's units (``-inf``/``inf`` for none).
    low_open, high_open : bool
        Whether the bound itself is excluded. An infinite bound is always excluded
        (every value in a domain is finite).
    """

    low: float = -_INF
    high: float = _INF
    low_open: bool = False
    high_open: bool = False

    def __post_init__(self) -> None:
        if math.isnan(self.low) or math.isnan(self.high) or not self.low <= self.high:
            raise ValueError(f"Domain: expected low <= high, got {self.low!r}, {self.high!r}")

    def contains(self, x: float | np.ndarray) -> bool:
        """Whether every value of ``x`` is finite and lies in the domain.

        Parameters
        ----------
        x : float or array_like
            Values in the quantity's units.

        Returns
        -------
        bool
        """
        a = np.asarray(x, dtype=float)
        ok = np.isfinite(a)
        ok &= (a > self.low) if self.low_open else (a >= self.low)
        ok &= (a < self.high) if self.high_open else (a <= self.high)
        return bool(np.all(ok))

    def describe(self) -> str:
        """Interval notation, e.g. ``"[0, inf)"`` or ``"(0, 1]"``."""
        lo = "(" if self.low_open or math.isinf(self.low) else "["
        hi = ")" if self.high_open or math.isinf(self.high) else "]"
        return f"{lo}{self.low:g}, {self.high:g}{hi}"


REAL = Domain()
"""Any finite number."""
NONNEGATIVE = Domain(0.0)
"""``[0, inf)``: troops, areas held, casualties, rates, days."""
POSITIVE = Domain(0.0, low_open=True)
"""``(0, inf)``: quantities whose logarithm or reciprocal the equations take."""
UNIT = Domain(0.0, 1.0)
"""``[0, 1]``: fractions, probabilities, switches."""


@dataclass(frozen=True)
class Quantity:
    """One row of the catalogue.

    Attributes
    ----------
    name : str
        Identifier as used in the spec and the result set (for a state, its symbol,
        e.g. ``"A"``).
    kind : str
        One of :data:`KINDS`.
    units : str
        Units (``"1"`` for dimensionless).
    long_name : str
        What the quantity is (the result set's ``long_name``).
    label : str
        Short plot label.
    domain : Domain
        Physically possible values.
    state : str or None
        For trajectories and observables: the state symbol read (e.g. ``"A"``).
    minus : str or None
        For observables: the campaign parameter subtracted from the state
        (``ru_buildup = R - ru_garrison``).
    group : str or None
        For parameters: the default group (spec ``group`` field).
    reading : str
        For observables: how the model reads it, one of :data:`READINGS`.
    since : str or None
        For ``reading = "since"``: the reference date (ISO ``YYYY-MM-DD``).
    parameter : str or None
        For ``reading = "parameter"``: the campaign parameter read.
    """

    name: str
    kind: str
    units: str
    long_name: str
    label: str
    domain: Domain = REAL
    state: str | None = None
    minus: str | None = None
    group: str | None = None
    reading: str = "state"
    since: str | None = None
    parameter: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Quantity {self.name!r}: kind must be one of {KINDS}")
        for field in ("name", "units", "long_name", "label"):
            if not getattr(self, field):
                raise ValueError(f"Quantity {self.name!r}: empty {field}")
        reads = self.kind in ("trajectory", "observable")
        stateless = self.reading in ("nk_deployed", "parameter")
        if (reads and not stateless) != (self.state is not None):
            raise ValueError(f"Quantity {self.name!r}: state is set exactly for "
                             "trajectories and observables")
        if (self.kind == "parameter") != (self.group is not None):
            raise ValueError(f"Quantity {self.name!r}: group is set exactly for parameters")
        if self.minus is not None and self.kind != "observable":
            raise ValueError(f"Quantity {self.name!r}: minus is only for observables")
        if self.reading not in READINGS or (self.reading != "state"
                                            and self.kind != "observable"):
            raise ValueError(f"Quantity {self.name!r}: reading must be one of {READINGS} "
                             "(not 'state' only for observables)")
        if (self.reading == "since") != (self.since is not None):
            raise ValueError(f"Quantity {self.name!r}: since is set exactly for "
                             "reading 'since'")
        if (self.reading == "parameter") != (self.parameter is not None):
            raise ValueError(f"Quantity {self.name!r}: parameter is set exactly for "
                             "reading 'parameter'")

    def reads(self) -> str:
        """What the model reads for this quantity, e.g. ``"state R - ru_garrison"``."""
        if self.reading == "nk_deployed":
            return "nk_troops x arrival ramp at nk_arrival_day"
        if self.reading == "parameter":
            return f"parameter {self.parameter}"
        if self.state is None:
            return self.name
        if self.reading == "since":
            return f"state {self.state} on {self.since} - state {self.state}"
        if self.reading == "peak":
            return f"running max of state {self.state} - state {self.state}"
        if self.reading == "state_minus_nk":
            return f"state {self.state} - North Korean troops deployed"
        return f"state {self.state}" + (f" - {self.minus}" if self.minus else "")


def _p(name: str, units: str, long_name: str, label: str, domain: Domain,
       group: str) -> Quantity:
    return Quantity(name, "parameter", units, long_name, label, domain, group=group)


# --------------------------------------------------------------------------------------
# Campaign parameters (column order of every parameter array)
PARAMETERS: tuple[Quantity, ...] = (
    _p("ua_initial_force", "troops", "Ukrainian troops committed at the start of an offensive",
       "UA initial force", NONNEGATIVE, "ukrainian_forces"),
    _p("ua_force_max", "troops", "historical Ukrainian target force in Kursk",
       "UA target force", NONNEGATIVE, "ukrainian_forces"),
    _p("ua_force_rate", "1/day", "rate at which Ukraine closes the gap to its target force",
       "UA force rate", NONNEGATIVE, "ukrainian_forces"),
    _p("ru_garrison", "troops", "Russian garrison in Kursk on 6 August 2024",
       "RU garrison", NONNEGATIVE, "russian_reinforcement"),
    _p("ru_reinforcement_ceiling", "troops", "Russian reinforcement committed at full threat",
       "RU reinforcement ceiling", NONNEGATIVE, "russian_reinforcement"),
    _p("ru_reinforcement_rate", "1/day", "rate at which Russia closes the gap to its target",
       "RU reinforcement rate", NONNEGATIVE, "russian_reinforcement"),
    _p("ru_reinforcement_delay", "day", "days before Russian reinforcements start to arrive",
       "RU reinforcement delay", NONNEGATIVE, "russian_reinforcement"),
    # a reciprocal is taken: > 0
    _p("ru_commit_reference", "troops", "Ukrainian force at which Russia commits fully",
       "RU commit reference", POSITIVE, "russian_reinforcement"),
    _p("nk_troops", "troops", "North Korean troops sent to Kursk",
       "NK troops", NONNEGATIVE, "russian_reinforcement"),
    _p("nk_arrival_day", "day", "day the North Korean troops start to arrive",
       "NK arrival day", NONNEGATIVE, "russian_reinforcement"),
    # a reciprocal is taken: > 0
    _p("arrival_ramp_days", "day", "days over which an arrival ramps up to full strength",
       "arrival ramp", POSITIVE, "russian_reinforcement"),
    _p("ua_loss_attack", "1/day", "Ukrainian daily loss rate at parity when attacking",
       "UA loss rate, attack", NONNEGATIVE, "casualty_rates"),
    _p("ua_loss_defend", "1/day", "Ukrainian daily loss rate at parity when defending",
       "UA loss rate, defence", NONNEGATIVE, "casualty_rates"),
    _p("ru_loss_attack", "1/day", "Russian daily loss rate at parity when attacking",
       "RU loss rate, attack", NONNEGATIVE, "casualty_rates"),
    _p("ru_loss_defend", "1/day", "Russian daily loss rate at parity when defending",
       "RU loss rate, defence", NONNEGATIVE, "casualty_rates"),
    # docs/model.md: w lies in (0, 1]
    _p("lanchester_exponent", "1", "exponent w of the generalised Lanchester law",
       "Lanchester exponent", Domain(0.0, 1.0, low_open=True), "casualty_rates"),
    # a logarithm is taken: > 0
    _p("surprise_multiplier", "1", "Ukraine's strength multiplier at the onset of a surprise",
       "surprise multiplier", POSITIVE, "surprise"),
    # multiplies a loss rate; analyst judgement: >= 0
    _p("surprise_loss_multiplier", "1", "loss-rate multiplier of the surprised defender",
       "surprise loss multiplier", NONNEGATIVE, "surprise"),
    # a reciprocal is taken: > 0
    _p("surprise_decay_days", "day", "time constant of the decay of the surprise",
       "surprise decay", POSITIVE, "surprise"),
    # a logarithm is taken: > 0
    _p("defender_advantage", "1", "strength multiplier of the defender",
       "defender advantage", POSITIVE, "territory_response"),
    # a logarithm is taken: > 0
    _p("ua_quality", "1", "quality multiplier of Ukraine's effective strength",
       "UA quality", POSITIVE, "territory_response"),
    _p("advance_speed", "km2/day", "area gained per day at full advantage",
       "advance speed", NONNEGATIVE, "territory_response"),
    _p("retreat_speed", "km2/day", "area lost per day at full disadvantage",
       "retreat speed", NONNEGATIVE, "territory_response"),
    # a negative slope would invert the response of the front; analyst judgement: >= 0
    _p("front_sensitivity", "1", "slope of the front response to the log force ratio",
       "front sensitivity", NONNEGATIVE, "territory_response"),
    _p("front_noise_sd", "1", "standard deviation of the daily front shock",
       "front noise sd", NONNEGATIVE, "territory_response"),
    _p("area_per_troop", "km2/troop", "area one Ukrainian soldier can hold (force-to-space)",
       "area per troop", NONNEGATIVE, "territory_response"),
    # fraction of the reinforcement rate removed by full strikes
    _p("strike_slowdown", "1", "fraction by which full strikes slow Russian reinforcement",
       "strike slowdown", UNIT, "strikes"),
    _p("strike_attrition", "1/day", "daily Russian loss rate from full strikes",
       "strike attrition", NONNEGATIVE, "strikes"),
    _p("strike_tied_forces", "troops", "Russian troops tied to Kursk by full strikes",
       "strike-tied forces", NONNEGATIVE, "strikes"),
    _p("donbas_cost_per_1000", "km2/day per 1000 troops",
       "Donbas ground lost per day per 1000 Ukrainian troops in Kursk",
       "Donbas cost per 1000 troops", NONNEGATIVE, "donbas_diversion"),
    _p("ru_diversion_fraction", "1",
       "fraction of the Russian build-up that would otherwise fight in the Donbas",
       "RU diversion fraction", UNIT, "donbas_diversion"),
)
"""Campaign parameters, in column order (docs/model.md, "Equations")."""


def _s(name: str, units: str, long_name: str, label: str, domain: Domain) -> Quantity:
    return Quantity(name, "state", units, long_name, label, domain)


# --------------------------------------------------------------------------------------
# State variables (order of the state tuple of equations.step)
STATES: tuple[Quantity, ...] = (
    _s("U", "troops", "Ukrainian troops in Kursk", "Ukrainian troops", NONNEGATIVE),
    _s("R", "troops", "Russian (incl. North Korean) troops in Kursk", "Russian troops",
       NONNEGATIVE),
    _s("A", "km2", "area of Kursk oblast held by Ukraine", "area held", NONNEGATIVE),
    # relative to a world without the operation; negative when the Russian diversion
    # relieves the Donbas by more than the Ukrainian troops cost (docs/model.md)
    _s("D", "km2", "extra Donbas ground lost because of the diversion",
       "extra Donbas ground lost", REAL),
    _s("CU", "troops", "cumulative Ukrainian casualties in Kursk", "Ukrainian casualties",
       NONNEGATIVE),
    _s("CR", "troops", "cumulative Russian casualties in Kursk", "Russian casualties",
       NONNEGATIVE),
    _s("ARR", "troops", "cumulative Russian arrivals in Kursk", "Russian arrivals",
       NONNEGATIVE),
    # 1 at onset, decays to 0 (docs/model.md)
    _s("SUR", "1", "strength of the surprise, 1 at onset, decays to 0", "surprise", UNIT),
)
"""State variables, in the order of the state tuple (docs/model.md, "Time, dates and state")."""

_STATE = {q.name: q for q in STATES}


def _stored(name: str, state: str) -> Quantity:
    """A trajectory variable: the daily values of one state variable."""
    s = _STATE[state]
    return replace(s, name=name, kind="trajectory", state=state)


# --------------------------------------------------------------------------------------
# Stored trajectory variables (the first len(TRAJECTORIES) states, in order)
TRAJECTORIES: tuple[Quantity, ...] = (
    _stored("ukrainian_forces", "U"),
    _stored("russian_forces", "R"),
    _stored("area_held", "A"),
    _stored("donbas_area_lost", "D"),
    _stored("ua_casualties", "CU"),
    _stored("ru_casualties", "CR"),
    _stored("ru_arrivals", "ARR"),
)
"""Daily trajectory variables of the result set (group ``/trajectories``)."""

_TRAJECTORY = {q.name: q for q in TRAJECTORIES}


def _observed(name: str) -> Quantity:
    """An observable quantity that is a stored trajectory variable."""
    return replace(_TRAJECTORY[name], kind="observable")


# --------------------------------------------------------------------------------------
# Observable quantities (the ``quantity`` of a spec's [[observations]])
OBSERVABLES: tuple[Quantity, ...] = (
    _observed("area_held"),
    _observed("russian_forces"),
    # R includes replacements of losses; the build-up since day 0 is R - ru_garrison,
    # negative when the Russian force falls below the garrison
    Quantity("ru_buildup", "observable", "troops",
             "net Russian build-up in Kursk since 6 August 2024",
             "Russian build-up", REAL, state="R", minus="ru_garrison"),
    _observed("ru_arrivals"),  # includes replacements of losses
    _observed("ua_casualties"),
    _observed("ru_casualties"),
    # issue 11: the public figures of docs/observations.md
    _observed("ukrainian_forces"),
    Quantity("area_held_incl_grey", "observable", "km2",
             "area held by Ukraine including the grey zone (firm control; the observation "
             "model multiplies by the grey-zone factor)", "area held incl. grey zone",
             NONNEGATIVE, state="A"),
    Quantity("area_retaken_from_peak", "observable", "km2",
             "area of Kursk retaken by Russia against the peak held so far",
             "area retaken since the peak", REAL, state="A", reading="peak"),
    # ISW's "assessed Russian advances in Kursk" layer starts on 2024-09-11
    Quantity("area_retaken_isw_layer", "observable", "km2",
             "area retaken by Russia since 2024-09-11 (start of ISW's Kursk advances layer)",
             "area retaken since 11 Sep 2024", REAL, state="A", reading="since",
             since="2024-09-11"),
    Quantity("russian_forces_excl_nk", "observable", "troops",
             "Russian troops in Kursk without the North Korean troops",
             "Russian troops excl. North Koreans", REAL, state="R", reading="state_minus_nk"),
    Quantity("nk_troops_in_kursk", "observable", "troops",
             "North Korean troops deployed to Kursk", "North Korean troops", NONNEGATIVE,
             reading="nk_deployed"),
    Quantity("nk_troops_planned", "observable", "troops",
             "North Korean troops planned to be sent", "North Korean troops planned",
             NONNEGATIVE, reading="parameter", parameter="nk_troops"),
    # casualty claims whose definition is not given ("losses"): same state, the observation
    # model adds a definition error (docs/observations.md)
    Quantity("ua_losses_undefined", "observable", "troops",
             "cumulative Ukrainian 'losses' in Kursk as claimed (definition not given)",
             "Ukrainian losses (undefined)", NONNEGATIVE, state="CU"),
    Quantity("ru_losses_undefined", "observable", "troops",
             "cumulative Russian 'losses' in Kursk as claimed (definition not given)",
             "Russian losses (undefined)", NONNEGATIVE, state="CR"),
)
"""Observable quantities: what an observation may report (docs/calibration.md,
docs/observations.md)."""


def _a(name: str, units: str, long_name: str, label: str, domain: Domain) -> Quantity:
    return Quantity(name, "attribute", units, long_name, label, domain)


# --------------------------------------------------------------------------------------
# Value attributes over the decision window (last axis of the engine's attribute array)
ATTRIBUTES: tuple[Quantity, ...] = (
    _a("kursk_area_mean", "km2", "mean area of Kursk held over the decision window",
       "mean area held", NONNEGATIVE),
    _a("kursk_area_final", "km2", "area of Kursk held at the horizon", "final area held",
       NONNEGATIVE),
    # can be negative, like the state D
    _a("donbas_area_lost", "km2", "extra Donbas ground lost in the decision window",
       "Donbas ground lost", REAL),
    _a("ua_casualties", "troops", "Ukrainian casualties in the decision window",
       "Ukrainian casualties", NONNEGATIVE),
    _a("ru_casualties", "troops", "Russian casualties in the decision window",
       "Russian casualties", NONNEGATIVE),
    _a("foothold_retained", "1", "1 if the area held at the horizon is at least the threshold",
       "foothold retained", UNIT),
    # sum of the strike intensity (0..1) over the window's days
    _a("strike_effort", "day", "days of full-intensity long-range strikes in the window",
       "strike effort", NONNEGATIVE),
)
"""Value-model attributes (docs/model.md, "Value model")."""


def _lv(name: str, units: str, long_name: str, label: str, domain: Domain) -> Quantity:
    return Quantity(name, "lever", units, long_name, label, domain)


# --------------------------------------------------------------------------------------
# Levers of a plan, resolved to one number per day (column order of a lever schedule)
LEVERS: tuple[Quantity, ...] = (
    _lv("attack", "1", "Ukrainian posture: 1 = attack, 0 = defend", "attack", UNIT),
    # analyst judgement: a target force cannot be negative
    _lv("force_scale", "1", "Ukrainian target force as a multiple of ua_force_max",
        "force scale", NONNEGATIVE),
    _lv("force_added", "troops", "troops added to the Ukrainian target force", "force added",
        NONNEGATIVE),
    _lv("reset_force", "1", "1 = set U to force_initial at the start of this day",
        "reset force", UNIT),
    _lv("force_initial", "troops", "Ukrainian troops in Kursk after a force reset",
        "initial force", NONNEGATIVE),
    _lv("strike", "1", "long-range strike intensity", "strike intensity", UNIT),
    # analyst judgement: multiplies a loss rate, >= 0
    _lv("loss_multiplier", "1", "multiplier of the Ukrainian attacker loss rate",
        "loss multiplier", NONNEGATIVE),
    _lv("reset_surprise", "1", "1 = a surprise attack starts this day", "surprise start", UNIT),
)
"""Levers of a plan (see :mod:`kursk_da.spec._plans`)."""

# --------------------------------------------------------------------------------------
# Names, units, counts
PARAMETER_NAMES: tuple[str, ...] = tuple(q.name for q in PARAMETERS)
"""Campaign parameters, in column order."""
STATE_NAMES: tuple[str, ...] = tuple(q.name for q in STATES)
"""State symbols, in the order of the state tuple."""
TRAJECTORY_NAMES: tuple[str, ...] = tuple(q.state for q in TRAJECTORIES)  # type: ignore[misc]
"""State symbols stored in daily trajectories (the first ``N_TRAJ`` of STATE_NAMES)."""
OBSERVABLE_NAMES: tuple[str, ...] = tuple(q.name for q in OBSERVABLES)
"""Observable quantities (the spec's ``observations[].quantity``)."""
ATTRIBUTE_NAMES: tuple[str, ...] = tuple(q.name for q in ATTRIBUTES)
"""Value-model attributes computed over the decision window (see docs/model.md)."""
LEVER_NAMES: tuple[str, ...] = tuple(q.name for q in LEVERS)
"""Levers of a plan, resolved to one number per day (see ``kursk_da.spec._plans``)."""

PARAMETER_UNITS: dict[str, str] = {q.name: q.units for q in PARAMETERS}
"""Units of each campaign parameter."""
PARAMETER_GROUPS: dict[str, str] = {q.name: q.group for q in PARAMETERS}  # type: ignore[misc]
"""Default group of each campaign parameter."""
STATE_UNITS: dict[str, str] = {q.name: q.units for q in STATES}
"""Units of each state variable."""
ATTRIBUTE_UNITS: dict[str, str] = {q.name: q.units for q in ATTRIBUTES}
"""Units of the value attributes (weights are in dkm2 per attribute unit)."""
LEVER_UNITS: dict[str, str] = {q.name: q.units for q in LEVERS}
"""Units of each lever."""

N_PAR = len(PARAMETER_NAMES)
N_STATE = len(STATE_NAMES)
N_TRAJ = len(TRAJECTORY_NAMES)
N_LEVERS = len(LEVER_NAMES)
N_ATTR = len(ATTRIBUTE_NAMES)

# --------------------------------------------------------------------------------------
# Indices by name: plain module-level ints, so numba freezes them as compile-time constants.
I_UA_INITIAL_FORCE = PARAMETER_NAMES.index("ua_initial_force")
I_UA_FORCE_MAX = PARAMETER_NAMES.index("ua_force_max")
I_UA_FORCE_RATE = PARAMETER_NAMES.index("ua_force_rate")
I_RU_GARRISON = PARAMETER_NAMES.index("ru_garrison")
I_RU_REINFORCEMENT_CEILING = PARAMETER_NAMES.index("ru_reinforcement_ceiling")
I_RU_REINFORCEMENT_RATE = PARAMETER_NAMES.index("ru_reinforcement_rate")
I_RU_REINFORCEMENT_DELAY = PARAMETER_NAMES.index("ru_reinforcement_delay")
I_RU_COMMIT_REFERENCE = PARAMETER_NAMES.index("ru_commit_reference")
I_NK_TROOPS = PARAMETER_NAMES.index("nk_troops")
I_NK_ARRIVAL_DAY = PARAMETER_NAMES.index("nk_arrival_day")
I_ARRIVAL_RAMP_DAYS = PARAMETER_NAMES.index("arrival_ramp_days")
I_UA_LOSS_ATTACK = PARAMETER_NAMES.index("ua_loss_attack")
I_UA_LOSS_DEFEND = PARAMETER_NAMES.index("ua_loss_defend")
I_RU_LOSS_ATTACK = PARAMETER_NAMES.index("ru_loss_attack")
I_RU_LOSS_DEFEND = PARAMETER_NAMES.index("ru_loss_defend")
I_LANCHESTER_EXPONENT = PARAMETER_NAMES.index("lanchester_exponent")
I_SURPRISE_MULTIPLIER = PARAMETER_NAMES.index("surprise_multiplier")
I_SURPRISE_LOSS_MULTIPLIER = PARAMETER_NAMES.index("surprise_loss_multiplier")
I_SURPRISE_DECAY_DAYS = PARAMETER_NAMES.index("surprise_decay_days")
I_DEFENDER_ADVANTAGE = PARAMETER_NAMES.index("defender_advantage")
I_UA_QUALITY = PARAMETER_NAMES.index("ua_quality")
I_ADVANCE_SPEED = PARAMETER_NAMES.index("advance_speed")
I_RETREAT_SPEED = PARAMETER_NAMES.index("retreat_speed")
I_FRONT_SENSITIVITY = PARAMETER_NAMES.index("front_sensitivity")
I_FRONT_NOISE_SD = PARAMETER_NAMES.index("front_noise_sd")
I_AREA_PER_TROOP = PARAMETER_NAMES.index("area_per_troop")
I_STRIKE_SLOWDOWN = PARAMETER_NAMES.index("strike_slowdown")
I_STRIKE_ATTRITION = PARAMETER_NAMES.index("strike_attrition")
I_STRIKE_TIED_FORCES = PARAMETER_NAMES.index("strike_tied_forces")
I_DONBAS_COST_PER_1000 = PARAMETER_NAMES.index("donbas_cost_per_1000")
I_RU_DIVERSION_FRACTION = PARAMETER_NAMES.index("ru_diversion_fraction")

J_ATTACK = LEVER_NAMES.index("attack")
J_FORCE_SCALE = LEVER_NAMES.index("force_scale")
J_FORCE_ADDED = LEVER_NAMES.index("force_added")
J_RESET_FORCE = LEVER_NAMES.index("reset_force")
J_FORCE_INITIAL = LEVER_NAMES.index("force_initial")
J_STRIKE = LEVER_NAMES.index("strike")
J_LOSS_MULTIPLIER = LEVER_NAMES.index("loss_multiplier")
J_RESET_SURPRISE = LEVER_NAMES.index("reset_surprise")

S_U = STATE_NAMES.index("U")
S_R = STATE_NAMES.index("R")
S_A = STATE_NAMES.index("A")
S_D = STATE_NAMES.index("D")
S_CU = STATE_NAMES.index("CU")
S_CR = STATE_NAMES.index("CR")
S_ARR = STATE_NAMES.index("ARR")
S_SUR = STATE_NAMES.index("SUR")

A_KURSK_AREA_MEAN = ATTRIBUTE_NAMES.index("kursk_area_mean")
A_KURSK_AREA_FINAL = ATTRIBUTE_NAMES.index("kursk_area_final")
A_DONBAS_AREA_LOST = ATTRIBUTE_NAMES.index("donbas_area_lost")
A_UA_CASUALTIES = ATTRIBUTE_NAMES.index("ua_casualties")
A_RU_CASUALTIES = ATTRIBUTE_NAMES.index("ru_casualties")
A_FOOTHOLD_RETAINED = ATTRIBUTE_NAMES.index("foothold_retained")
A_STRIKE_EFFORT = ATTRIBUTE_NAMES.index("strike_effort")

_BY_KIND: dict[str, dict[str, Quantity]] = {
    "parameter": {q.name: q for q in PARAMETERS},
    "state": dict(_STATE),
    "trajectory": dict(_TRAJECTORY),
    "observable": {q.name: q for q in OBSERVABLES},
    "attribute": {q.name: q for q in ATTRIBUTES},
    "lever": {q.name: q for q in LEVERS},
}


def _check_catalogue() -> None:
    """Structural invariants the engine and the result set rely on (run at import)."""
    tables = (PARAMETERS, STATES, TRAJECTORIES, OBSERVABLES, ATTRIBUTES, LEVERS)
    for kind, rows in zip(KINDS, tables, strict=True):
        if len(_BY_KIND[kind]) != len(rows) or any(q.kind != kind for q in rows):
            raise RuntimeError(f"catalogue: duplicate name or wrong kind among the {kind}s")
    if TRAJECTORY_NAMES != STATE_NAMES[:N_TRAJ]:  # the kernel stores the first N_TRAJ states
        raise RuntimeError("catalogue: trajectories must be the first states, in order")
    for q in OBSERVABLES:
        if (q.state is not None and q.state not in _STATE) or (
                q.minus is not None and q.minus not in PARAMETER_NAMES) or (
                q.parameter is not None and q.parameter not in PARAMETER_NAMES):
            raise RuntimeError(f"catalogue: observable {q.name!r} reads an unknown quantity")


_check_catalogue()


def quantity(name: str, kind: str | None = None) -> Quantity:
    """The catalogue row of ``name``.

    Parameters
    ----------
    name : str
        A quantity's name (e.g. ``"ru_garrison"``, ``"A"``, ``"area_held"``).
    kind : str, optional
        One of :data:`KINDS`. Needed when ``name`` is used by several kinds
        (``ua_casualties`` is a trajectory, an observable and an attribute); without it,
        the first match in the order of :data:`KINDS` is returned.

    Returns
    -------
    Quantity

    Raises
    ------
    kursk_da.errors.UnknownQuantityError
        If no quantity (of that kind) has this name; the message lists the known ones.
    kursk_da.errors.ArgumentError
        If ``kind`` is not one of :data:`KINDS`.
    """
    if kind is not None and kind not in KINDS:
        raise ArgumentError(f"kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    for k in (kind,) if kind is not None else KINDS:
        row = _BY_KIND[k].get(name)
        if row is not None:
            return row
    scope = f"{kind} " if kind is not None else ""
    known = sorted(set().union(*(_BY_KIND[k] for k in ((kind,) if kind else KINDS))))
    raise UnknownQuantityError(f"unknown {scope}quantity {name!r}; known: {', '.join(known)}")
