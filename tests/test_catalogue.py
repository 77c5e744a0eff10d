"""The catalogue of model quantities: one table, and everything else derives from it."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kursk_da.dynamics import catalogue as cat
from kursk_da.dynamics.catalogue import Domain, Quantity, quantity
from kursk_da.errors import ArgumentError, KurskDAError, UnknownQuantityError

ROOT = Path(__file__).resolve().parents[1]

# The order is the column order of every array of the package (and of saved result
# sets): changing it is a deliberate act that must update these lists.
PARAMETER_ORDER = (
    "ua_initial_force", "ua_force_max", "ua_force_rate", "ru_garrison",
    "ru_reinforcement_ceiling", "ru_reinforcement_rate", "ru_reinforcement_delay",
    "ru_commit_reference", "nk_troops", "nk_arrival_day", "arrival_ramp_days",
    "ua_loss_attack", "ua_loss_defend", "ru_loss_attack", "ru_loss_defend",
    "lanchester_exponent", "surprise_multiplier", "surprise_loss_multiplier",
    "surprise_decay_days", "defender_advantage", "ua_quality", "advance_speed",
    "retreat_speed", "front_sensitivity", "front_noise_sd", "area_per_troop",
    "strike_slowdown", "strike_attrition", "strike_tied_forces", "donbas_cost_per_1000",
    "ru_diversion_fraction",
)
STATE_ORDER = ("U", "R", "A", "D", "CU", "CR", "ARR", "SUR")
TRAJECTORY_ORDER = ("ukrainian_forces", "russian_forces", "area_held", "donbas_area_lost",
                    "ua_casualties", "ru_casualties", "ru_arrivals")
LEVER_ORDER = ("attack", "force_scale", "force_added", "reset_force", "force_initial",
               "strike", "loss_multiplier", "reset_surprise")
ATTRIBUTE_ORDER = ("kursk_area_mean", "kursk_area_final", "donbas_area_lost",
                   "ua_casualties", "ru_casualties", "foothold_retained", "strike_effort")
OBSERVABLE_ORDER = ("area_held", "russian_forces", "ru_buildup", "ru_arrivals",
                    "ua_casualties", "ru_casualties", "ukrainian_forces", "area_held_incl_grey",
                    "area_retaken_from_peak", "area_retaken_isw_layer", "russian_forces_excl_nk",
                    "nk_troops_in_kursk", "nk_troops_planned", "ua_losses_undefined",
                    "ru_losses_undefined")

# prefix of the index constants -> the names they index
PREFIXES = {"I_": PARAMETER_ORDER, "J_": LEVER_ORDER, "S_": STATE_ORDER, "A_": ATTRIBUTE_ORDER}


def test_order_is_pinned():
    assert cat.PARAMETER_NAMES == PARAMETER_ORDER
    assert cat.STATE_NAMES == STATE_ORDER
    assert tuple(q.name for q in cat.TRAJECTORIES) == TRAJECTORY_ORDER
    assert cat.TRAJECTORY_NAMES == STATE_ORDER[:7]
    assert cat.LEVER_NAMES == LEVER_ORDER
    assert cat.ATTRIBUTE_NAMES == ATTRIBUTE_ORDER
    assert cat.OBSERVABLE_NAMES == OBSERVABLE_ORDER


@pytest.mark.parametrize("prefix", sorted(PREFIXES))
def test_every_index_constant_is_pinned_to_its_name(prefix):
    names = PREFIXES[prefix]
    consts = {k: v for k, v in vars(cat).items() if k.startswith(prefix) and k[2:].isupper()}
    # one constant per name, named after it, and equal to the pinned position
    assert sorted(consts) == sorted(prefix + n.upper() for n in names)
    for n in names:
        value = consts[prefix + n.upper()]
        assert type(value) is int  # a plain int: numba freezes it as a constant
        assert value == names.index(n), n


def test_counts():
    assert (cat.N_PAR, cat.N_STATE, cat.N_TRAJ, cat.N_LEVERS, cat.N_ATTR) == (
        len(PARAMETER_ORDER), len(STATE_ORDER), 7, len(LEVER_ORDER), len(ATTRIBUTE_ORDER))


def test_equations_and_kernel_use_the_catalogue_constants():
    from kursk_da.dynamics import equations as eq
    from kursk_da.engine import _kernel as kernel

    for k, v in vars(cat).items():
        if k[:2] in ("I_", "J_") and k[2:].isupper():
            assert getattr(eq, k) == v, k
    assert eq.PARAMETER_NAMES is cat.PARAMETER_NAMES
    assert eq.STATE_NAMES is cat.STATE_NAMES
    assert eq.LEVER_NAMES is cat.LEVER_NAMES
    assert eq.PARAMETER_UNITS is cat.PARAMETER_UNITS
    assert eq.STATE_UNITS is cat.STATE_UNITS
    assert kernel.ATTRIBUTE_NAMES is cat.ATTRIBUTE_NAMES
    assert kernel.TRAJECTORY_NAMES is cat.TRAJECTORY_NAMES
    assert (kernel.N_LEVERS, kernel.N_PAR, kernel.N_STATE) == (cat.N_LEVERS, cat.N_PAR,
                                                               cat.N_STATE)


def test_initial_state_and_step_follow_the_state_order():
    from kursk_da.dynamics.equations import derived, initial_state, step

    p = np.ones(cat.N_PAR)
    p[cat.I_RU_GARRISON] = 5000.0
    s0 = initial_state(p)
    assert len(s0) == cat.N_STATE
    assert s0[cat.S_R] == 5000.0 and s0[cat.S_U] == 0.0
    lev = np.zeros(cat.N_LEVERS)
    lev[cat.J_RESET_FORCE] = 1.0
    lev[cat.J_FORCE_INITIAL] = 1234.0
    s1 = step(s0, p, derived(p, np), lev, 0.0, 0.0, np)
    assert len(s1) == cat.N_STATE
    assert s1[cat.S_CU] > 0.0  # losses from the 1234 troops set by the reset
    assert s1[cat.S_SUR] == 0.0


@pytest.mark.parametrize("kind", cat.KINDS)
def test_rows_are_complete(kind):
    rows = [q for q in vars(cat).values() if isinstance(q, tuple)
            and q and all(isinstance(x, Quantity) for x in q) and q[0].kind == kind]
    assert len(rows) == 1
    for q in rows[0]:
        assert q.kind == kind
        assert q.name.strip() and q.units.strip() and q.long_name.strip() and q.label.strip()
        assert isinstance(q.domain, Domain) and q.domain.describe()
        assert (q.state is not None) == (kind in ("trajectory", "observable")
                                         and q.reading not in ("nk_deployed", "parameter"))
        if q.state is not None:
            assert q.state in cat.STATE_NAMES
        if q.minus is not None:
            assert q.minus in cat.PARAMETER_NAMES


def test_trajectories_read_their_states():
    for q in cat.TRAJECTORIES:
        s = quantity(q.state, "state")
        assert (q.units, q.long_name, q.domain) == (s.units, s.long_name, s.domain)


def test_domains_of_the_documentation():
    assert quantity("lanchester_exponent").domain.describe() == "(0, 1]"
    assert quantity("strike_slowdown").domain.describe() == "[0, 1]"
    assert quantity("ru_diversion_fraction").domain.describe() == "[0, 1]"
    assert quantity("ru_garrison").domain.describe() == "[0, inf)"
    assert quantity("ua_loss_attack").domain.describe() == "[0, inf)"
    assert quantity("nk_arrival_day").domain.describe() == "[0, inf)"
    assert quantity("SUR").domain.describe() == "[0, 1]"
    assert quantity("ru_buildup", "observable").domain.describe() == "(-inf, inf)"
    for q in cat.PARAMETERS:  # log or reciprocal taken by the equations: > 0
        if q.name in ("ua_quality", "defender_advantage", "surprise_multiplier",
                      "surprise_decay_days", "ru_commit_reference", "arrival_ramp_days"):
            assert not q.domain.contains(0.0) and q.domain.contains(1e-9), q.name
    for q in cat.PARAMETERS:
        if q.units == "troops" or q.units.startswith("1/day") or q.units == "day":
            assert q.domain.low >= 0.0, q.name


def test_domain():
    d = Domain(0.0, 1.0, low_open=True)
    assert d.contains(1.0) and d.contains(0.5) and not d.contains(0.0)
    assert not d.contains(math.nan) and not Domain().contains(math.inf)
    assert d.contains(np.array([0.2, 1.0])) and not d.contains(np.array([0.2, 1.5]))
    assert d.describe() == "(0, 1]"
    assert Domain(0.0).describe() == "[0, inf)"
    assert Domain(high=0.0, high_open=True).describe() == "(-inf, 0)"
    with pytest.raises(ValueError):
        Domain(1.0, 0.0)


@pytest.mark.parametrize("model", ["kursk_2025.toml", "kursk_2024.toml"])
def test_domains_contain_the_spec_defaults(model):
    from kursk_da.spec._schema import load_spec

    spec = load_spec(ROOT / "models" / model)
    for q in cat.PARAMETERS:
        par = spec.parameters[q.name]
        assert par.units == q.units, q.name
        dist = par.dist
        values = [dist.mean(), dist.median()] if not dist.is_fixed else [dist.mean()]
        for v in values:
            assert q.domain.contains(v), f"{model}: {q.name} = {v} not in {q.domain.describe()}"
    assert tuple(spec.weights) == cat.ATTRIBUTE_NAMES
    for q in cat.ATTRIBUTES:
        assert spec.weights[q.name].units == f"dkm2/{q.units}"
    # numeric levers of every plan
    levers = {"force_scale": "force_scale", "force_added": "force_added",
              "force_initial": "force_initial", "strike_intensity": "strike",
              "loss_multiplier": "loss_multiplier"}
    phases = [*spec.history, *(ph for o in spec.options.values() for ph in o.phases)]
    for ph in phases:
        for key, lever in levers.items():
            v = getattr(ph, key)
            if isinstance(v, float):
                assert quantity(lever, "lever").domain.contains(v), (key, v)


def test_spec_lever_bounds_lie_in_the_lever_domains():
    from kursk_da.spec._plans import _LEVER_BOUNDS

    names = {"strike_intensity": "strike"}
    for key, (lo, hi) in _LEVER_BOUNDS.items():
        dom = quantity(names.get(key, key), "lever").domain
        assert dom.contains(lo) and dom.contains(hi), key


def test_quantity_lookup():
    assert quantity("ru_garrison").kind == "parameter"
    assert quantity("A").long_name == "area of Kursk oblast held by Ukraine"
    assert quantity("ua_casualties").kind == "trajectory"  # first kind in KINDS order
    assert quantity("ua_casualties", "attribute").long_name.endswith("decision window")
    assert quantity("ru_buildup").minus == "ru_garrison"
    with pytest.raises(UnknownQuantityError, match="unknown quantity 'nope'.*ru_garrison"):
        quantity("nope")
    with pytest.raises(KeyError):
        quantity("ru_garrison", "state")
    with pytest.raises(KurskDAError, match="unknown state quantity"):
        quantity("ru_garrison", "state")
    with pytest.raises(ArgumentError, match="kind"):
        quantity("ru_garrison", "parameters")


def test_units_dicts():
    assert cat.PARAMETER_UNITS == {q.name: q.units for q in cat.PARAMETERS}
    assert cat.STATE_UNITS == {q.name: q.units for q in cat.STATES}
    assert cat.ATTRIBUTE_UNITS == {q.name: q.units for q in cat.ATTRIBUTES}
    assert cat.LEVER_UNITS == {q.name: q.units for q in cat.LEVERS}
    from kursk_da.spec._schema import ATTRIBUTE_UNITS, DEFAULT_GROUPS

    assert ATTRIBUTE_UNITS == cat.ATTRIBUTE_UNITS
    assert DEFAULT_GROUPS == {q.name: q.group for q in cat.PARAMETERS}


def test_result_set_trajectories_come_from_the_catalogue(small_tree):
    from kursk_da.io._resultset import _TRAJ_VARS

    assert _TRAJ_VARS == {q.name: (cat.TRAJECTORY_NAMES.index(q.state), q.long_name, q.units)
                          for q in cat.TRAJECTORIES}
    traj = small_tree["trajectories"]
    for q in cat.TRAJECTORIES:
        assert traj[q.name].attrs["long_name"] == q.long_name
        assert traj[q.name].attrs["units"] == q.units
    attrs = small_tree["decision"]["attribute"].values.tolist()
    assert tuple(attrs) == cat.ATTRIBUTE_NAMES


def test_observation_quantities_come_from_the_catalogue():
    from kursk_da.spec._observations import QUANTITIES

    assert tuple(QUANTITIES) == cat.OBSERVABLE_NAMES
    for q in cat.OBSERVABLES:
        units, meaning = QUANTITIES[q.name]
        assert units == q.units and q.long_name in meaning and q.reads() in meaning
        assert q.state is None or q.state in meaning


def test_skeleton_reads_the_catalogue_states():
    from kursk_da.calibration._skeleton import QUANTITY_STATE

    assert QUANTITY_STATE == {q.name: (q.state, q.minus == "ru_garrison")
                              for q in cat.OBSERVABLES if q.reading == "state"}
    assert QUANTITY_STATE["ru_buildup"] == ("R", True)


def test_plot_labels_come_from_the_catalogue():
    from kursk_da.plots._trajectories import DERIVED, SHORT_NAMES

    for q in (*cat.TRAJECTORIES, *cat.OBSERVABLES):
        assert SHORT_NAMES[q.name] == q.label
    assert set(DERIVED) == {"ru_buildup"}
    long_name, units = DERIVED["ru_buildup"]
    assert units == "troops" and long_name.startswith(quantity("ru_buildup").long_name)


def _imports_numba(code: str) -> bool:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return out.stdout.strip().splitlines()[-1] == "True"


def test_loading_a_spec_does_not_import_numba():
    code = ("import sys, kursk_da.spec as s; s.load_spec('models/kursk_2025.toml'); "
            "print('numba' in sys.modules)")
    assert not _imports_numba(code)
    code = "import sys, kursk_da.dynamics.catalogue; print('numba' in sys.modules)"
    assert not _imports_numba(code)


def test_top_level_names_are_lazy_but_complete():
    import kursk_da as kd

    assert set(kd.__all__) <= set(dir(kd))
    code = "import sys, kursk_da; print('numba' in sys.modules)"
    assert not _imports_numba(code)
    code = "import sys, kursk_da as kd; kd.run_engine; print('numba' in sys.modules)"
    assert _imports_numba(code)
