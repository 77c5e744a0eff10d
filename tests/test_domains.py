"""Physical domains, bounds of a run and parse failures: refused with a SpecError naming
the field (exit status 2 from the CLI, nothing written), never a traceback (issue 10)."""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from _essay import essay_spec_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kursk_da.cli import main
from kursk_da.dynamics.catalogue import PARAMETERS, Domain
from kursk_da.errors import SpecError
from kursk_da.spec import load_spec, spec_from_dict
from kursk_da.spec._distributions import parse_distribution
from kursk_da.spec._domains import (
    MAX_CHUNK_SIZE,
    check_distribution,
    check_sizes,
    memory_estimate_bytes,
    memory_limit_bytes,
)
from kursk_da.spec._schema import MAX_DEPTH, check_run_size

MODELS = Path(__file__).resolve().parents[1] / "models"
# edited as text and written alone into tmp_path: the essay spec (inline observations; the
# default spec reads its claims from models/data/, which would not be beside the edited copy)
SPEC_TEXT = essay_spec_text()
RAW = tomllib.loads(SPEC_TEXT)
RAW_2024 = tomllib.loads((MODELS / "kursk_2024.toml").read_text())


def _mutated(edit) -> dict[str, Any]:
    raw = copy.deepcopy(RAW)
    edit(raw)
    return raw


def _par(dist: dict[str, Any], units: str) -> dict[str, Any]:
    return {**dist, "units": units, "source": "test"}


def _obs(raw: dict[str, Any], **fields: Any) -> None:
    ob = raw["observations"][0]
    for key in ("sd", "interval", "level"):
        ob.pop(key, None)
    ob.update(fields)


# (edit of the parsed kursk_2025 spec, field named, words of the message)
LIBRARY_CASES: dict[str, tuple[Any, str, str]] = {
    "negative troops (normal mean -10000)": (
        lambda r: r["parameters"].__setitem__(
            "ua_initial_force", _par({"dist": "normal", "mean": -10000.0, "sd": 2000.0}, "troops")),
        "parameters.ua_initial_force", "99.9%"),
    "troops normal reaching below 0 in its central 99.9%": (
        lambda r: r["parameters"].__setitem__(
            "ua_initial_force", _par({"dist": "normal", "mean": 5000.0, "sd": 2000.0}, "troops")),
        "parameters.ua_initial_force", "[0, inf)"),
    "lanchester_exponent = 7": (
        lambda r: r["parameters"].__setitem__(
            "lanchester_exponent", _par({"dist": "fixed", "value": 7}, "1")),
        "parameters.lanchester_exponent", "(0, 1]"),
    "lanchester_exponent = 0 (open bound)": (
        lambda r: r["parameters"].__setitem__(
            "lanchester_exponent", _par({"dist": "fixed", "value": 0.0}, "1")),
        "parameters.lanchester_exponent", "(0, 1]"),
    "lanchester_exponent uniform beyond 1": (
        lambda r: r["parameters"]["lanchester_exponent"].update(upper=1.5),
        "parameters.lanchester_exponent", "support"),
    "lognormal with median 1e308": (
        lambda r: r["parameters"].__setitem__(
            "ru_garrison", _par({"dist": "lognormal", "median": 1e308, "sigma": 0.5}, "troops")),
        "parameters.ru_garrison", "non-finite"),
    "fraction on a beta scaled to [0, 2]": (
        lambda r: r["parameters"].__setitem__(
            "ru_diversion_fraction",
            _par({"dist": "beta", "a": 2.0, "b": 5.0, "lower": 0.0, "upper": 2.0}, "1")),
        "parameters.ru_diversion_fraction", "[0, 1]"),
    "negative fixed rate": (
        lambda r: r["parameters"].__setitem__(
            "ua_force_rate", _par({"dist": "fixed", "value": -0.1}, "1/day")),
        "parameters.ua_force_rate", "[0, inf)"),
    "reciprocal taken: fixed 0 days": (
        lambda r: r["parameters"].__setitem__(
            "arrival_ramp_days", _par({"dist": "fixed", "value": 0}, "day")),
        "parameters.arrival_ramp_days", "(0, inf)"),
    "observation of -1250 km2 with sd = 100": (
        lambda r: _obs(r, value=-1250.0, sd=100.0),
        "observations[0].value", "[0, inf)"),
    "observation interval outside the domain": (
        lambda r: r["observations"][0].update(value=-5.0, interval=[-10.0, 10.0]),
        "observations[0].value", "[0, inf)"),
    "uncertain lever below 0 (loss multiplier)": (
        lambda r: r["parameters"]["renewed_loss_multiplier"].update(min=-0.5),
        "parameters.renewed_loss_multiplier", "loss_multiplier"),
    "uncertain lever: negative troops added": (
        lambda r: r["parameters"].__setitem__(
            "renewed_added_forces", _par({"dist": "normal", "mean": -100.0, "sd": 10.0}, "troops")),
        "parameters.renewed_added_forces", "force_added"),
    "value weight with infinite draws": (
        lambda r: r["value"]["weights"].__setitem__(
            "ru_casualties",
            _par({"dist": "lognormal", "median": 1e308, "sigma": 1.0}, "dkm2/troops")),
        "value.weights.ru_casualties", "non-finite"),
    "scenario override outside the domain": (
        lambda r: r["scenarios"]["no_nk"]["parameters"].__setitem__("nk_troops", -5),
        "scenarios.no_nk.parameters.nk_troops", "[0, inf)"),
    "decision date in 2099": (
        lambda r: r["decision"].__setitem__("date", dt.date(2099, 1, 1)),
        "decision.date", "2026-12-31"),
    "decision date in 9999": (
        lambda r: r["decision"].__setitem__("date", dt.date(9999, 12, 31)),
        "decision.date", "2026-12-31"),
    "horizon of 731 days": (
        lambda r: r["decision"].__setitem__("horizon_days", 731),
        "decision.horizon_days", "730"),
    "horizon of 10**9 days": (
        lambda r: r["decision"].__setitem__("horizon_days", 10**9),
        "decision.horizon_days", "730"),
    "nan threshold": (
        lambda r: r["decision"].__setitem__("retention_threshold_km2", math.nan),
        "decision.retention_threshold_km2", "expected"),
}


@pytest.mark.parametrize("case", list(LIBRARY_CASES))
def test_library_refuses_with_the_field(case):
    edit, field, words = LIBRARY_CASES[case]
    with pytest.raises(SpecError) as exc:
        spec_from_dict(_mutated(edit))
    assert exc.value.path == field, str(exc.value)
    assert words in exc.value.message, str(exc.value)
    assert "expected" in str(exc.value)


def test_with_parameter_refuses_out_of_domain():
    spec = spec_from_dict(RAW_2024)
    with pytest.raises(SpecError, match=r"parameters\.lanchester_exponent.*\(0, 1\]"):
        spec.with_parameter("lanchester_exponent", 7)
    assert spec.with_parameter("lanchester_exponent", 1.0).parameters[
        "lanchester_exponent"].dist.params["value"] == 1.0


@pytest.mark.parametrize("model", ["kursk_2025.toml", "kursk_2024.toml"])
def test_shipped_specs_load_and_their_priors_lie_in_the_domains(model):
    spec = load_spec(MODELS / model)
    for q in PARAMETERS:
        dist = spec.parameters[q.name].dist
        lo, hi = (dist.params["value"],) * 2 if dist.is_fixed else dist.interval(0.999)
        assert q.domain.contains(lo) and q.domain.contains(hi), q.name


def test_unbounded_support_accepted_when_central_999_inside():
    """A normal for a number of troops is fine when 99.9% of it is positive."""
    dist = parse_distribution({"dist": "normal", "mean": 10000.0, "sd": 2000.0}, "p")
    check_distribution(dist, Domain(0.0), "p", "troops")
    dist = parse_distribution({"dist": "normal", "mean": 10000.0, "sd": 4000.0}, "p")
    with pytest.raises(SpecError, match="99.9%"):
        check_distribution(dist, Domain(0.0), "p", "troops")
    # a support touching an open bound (lognormal on (0, inf)) is fine
    check_distribution(parse_distribution({"dist": "lognormal", "median": 1.0, "sigma": 0.3},
                                          "p"), Domain(0.0, low_open=True), "p", "days")


# ---------------------------------------------------------------------------- bounds of a run
def test_memory_check_names_draws_and_gb():
    spec = load_spec(MODELS / "kursk_2024.toml")
    with pytest.raises(SpecError) as exc:
        check_run_size(spec, 10**12, 10_000)
    assert exc.value.path == "draws" and "GB" in exc.value.message
    check_run_size(spec, 20_000, 10_000)  # the default run is fine
    with pytest.raises(SpecError, match="chunk_size"):
        check_run_size(spec, 100, MAX_CHUNK_SIZE + 1)
    with pytest.raises(SpecError, match="chunk_size"):
        check_run_size(spec, 100, 0)
    with pytest.raises(SpecError, match="draws"):
        check_run_size(spec, 0, 100)


def test_memory_estimate_grows_with_the_sizes():
    base = sum(memory_estimate_bytes(40, 4, 330, 200, 20_000, 10_000, 2))
    assert sum(memory_estimate_bytes(40, 4, 330, 200, 40_000, 10_000, 2)) > base
    assert sum(memory_estimate_bytes(40, 8, 330, 200, 20_000, 10_000, 2)) > base
    assert sum(memory_estimate_bytes(40, 4, 900, 200, 20_000, 10_000, 2)) > base
    assert base < 1e9 and memory_limit_bytes() > 0
    # a streamed run: its exact CVaR keeps alpha x draws values (and rows) per option
    by_draws, _ = memory_estimate_bytes(40, 4, 330, 200, 20_000, 10_000, 2,
                                        summary_draws=10**8, cvar_alpha=0.05)
    assert by_draws - memory_estimate_bytes(40, 4, 330, 200, 20_000, 10_000, 2)[0] == (
        16 * 4 * (int(0.05 * 10**8) + 2))
    with pytest.raises(SpecError) as exc:  # 10^12 draws streamed: the CVaR selection alone
        check_sizes(40, 4, 330, 200, 10**6, 10_000, 2, summary_draws=10**12)
    assert exc.value.path == "draws" and "1,000,000,000,000 draws" in exc.value.message
    # a huge chunk is refused as chunk_size even with few draws (per-thread work arrays)
    with pytest.raises(SpecError) as exc:
        check_sizes(40, 4, 10**5, 200, 100, MAX_CHUNK_SIZE, 1)
    assert exc.value.path == "chunk_size"


def test_run_analysis_and_engine_refuse_before_allocating():
    from kursk_da.analysis import run_analysis
    from kursk_da.engine._run import run_engine

    spec = load_spec(MODELS / "kursk_2024.toml")
    for call in (lambda: run_analysis(spec, 10**12, 0),
                 lambda: run_engine(spec, 10**12, 0)):
        with pytest.raises(SpecError) as exc:
            call()
        assert exc.value.path == "draws" and "GB" in str(exc.value)
    with pytest.raises(SpecError, match="chunk_size"):
        run_engine(spec, 10, 0, chunk_size=10**9)


# ---------------------------------------------------------------------------- parse failures
def test_deeply_nested_toml(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(SpecError, match="nested too deeply"):
        load_spec(path)
    path.write_text("[meta]\nx = " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n")
    with pytest.raises(SpecError) as exc:
        load_spec(path)
    assert exc.value.path.startswith("meta.x") and "nested too deeply" in exc.value.message


def test_deeply_nested_dict():
    raw = copy.deepcopy(RAW)
    node: dict[str, Any] = raw["meta"]
    for _ in range(10_000):  # deeper than the recursion limit
        node["x"] = {}
        node = node["x"]
    with pytest.raises(SpecError) as exc:
        spec_from_dict(raw)
    assert exc.value.path.startswith("meta.x.x") and "nested too deeply" in exc.value.message


def test_not_utf8_and_unreadable(tmp_path):
    path = tmp_path / "bin.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SpecError, match="UTF-8"):
        load_spec(path)


# ---------------------------------------------------------------------------- through the CLI
def _toml_edit(old: str, new: str):
    assert old in SPEC_TEXT, old
    return SPEC_TEXT.replace(old, new, 1)


CLI_CASES: dict[str, tuple[str, list[str], str]] = {
    "negative troops": (
        _toml_edit('[parameters.ua_initial_force]\ndist = "lognormal"\ninterval = [8000, 12000]',
                   '[parameters.ua_initial_force]\ndist = "normal"\nmean = -10000\nsd = 2000'),
        [], r"parameters\.ua_initial_force: .*99\.9%"),
    "lanchester_exponent = 7": (
        _toml_edit('[parameters.lanchester_exponent]\ndist = "uniform"\nlower = 0.3\nupper = 1.0',
                   '[parameters.lanchester_exponent]\ndist = "fixed"\nvalue = 7'),
        [], r"parameters\.lanchester_exponent: .*\(0, 1\]"),
    "lognormal median 1e308": (
        _toml_edit('[parameters.ua_initial_force]\ndist = "lognormal"\ninterval = [8000, 12000]',
                   '[parameters.ua_initial_force]\ndist = "lognormal"\nmedian = 1e308\n'
                   'sigma = 0.5'),
        [], r"parameters\.ua_initial_force: .*non-finite"),
    "observation of -1250 km2, sd 100": (
        _toml_edit("value = 1250.0\ninterval = [950.0, 1650.0]\nlevel = 0.9",
                   "value = -1250.0\nsd = 100.0"),
        [], r"observations\[0\]\.value: .*\[0, inf\)"),
    "decision date in 2099": (
        _toml_edit("date = 2025-01-05", "date = 2099-01-05"), [], r"decision\.date: .*2026"),
    "draws 10**12": (SPEC_TEXT, ["--draws", str(10**12), "--prior-only"], r"draws: .*GB"),
    "chunk size 10**9": (SPEC_TEXT, ["--chunk-size", str(10**9), "--prior-only"],
                         r"chunk_size: .*10,000,000"),
    "deep nesting": ("a = " + "[" * 5000 + "]" * 5000 + "\n", [], r"nested too deeply"),
    "not TOML": (SPEC_TEXT.replace("[meta]", "[meta", 1), [], r"not valid TOML"),
}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_cli_exits_2_names_the_field_writes_nothing(case, tmp_path, capsys):
    text, extra, pattern = CLI_CASES[case]
    spec = tmp_path / "bad.toml"
    spec.write_text(text)
    out = tmp_path / "out.nc"
    status = main(["analyze", str(spec), "--draws", "10", "--seed", "1", "--out", str(out),
                   "--no-progress", *extra])
    err = capsys.readouterr().err
    assert status == 2, err
    assert re.search(pattern, err), err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


# ---------------------------------------------------------------------------- property
BASE = {k: v for k, v in RAW.items() if k != "scenarios"}  # faster: no re-validation


def _leaves(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _leaves(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _leaves(v, (*path, i))
    else:
        out.append((path, obj))
    return out


LEAVES = _leaves(BASE)
NUMERIC = [p for p, v in LEAVES if isinstance(v, int | float) and not isinstance(v, bool)]
DATES = [p for p, v in LEAVES if isinstance(v, dt.date)]
TEXTS = [p for p, v in LEAVES if isinstance(v, str)]
SECTIONS = sorted(BASE)

WRONG_TYPES = st.sampled_from([math.nan, math.inf, -math.inf, "text", [], {}, None, True,
                               [1.0, 2.0], {"dist": "fixed"}])
NUMBERS = st.sampled_from([-1.0, -1e9, 1e308, -1e308, 10**30, 0.0])
BAD_TRIGGER_EDITS = [("cond.quantity", "morale"), ("cond.quantity", 3), ("cond.below", math.nan),
                     ("cond.below", -1.0), ("cond.below", "low"), ("cond.above", 1.0),
                     ("cond.below", True), ("earliest_days", -1), ("earliest_days", 10**6),
                     ("earliest_days", 1.5), ("latest_days", -3), ("all", []), ("any", []),
                     ("any", "area_held"), ("when", 3)]
BAD_DATES = st.sampled_from([dt.date(1900, 1, 1), dt.date(9999, 12, 31), dt.date(2099, 1, 1),
                             "2025-01-05", dt.datetime(2025, 1, 5, 12, 0)])


def _set(raw: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    node: Any = raw
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


@st.composite
def bad_specs(draw: st.DrawFn) -> tuple[dict[str, Any], bool, str]:
    """(a mutated spec dict, whether the mutation is surely invalid, what was changed)."""
    raw = copy.deepcopy(BASE)
    kind = draw(st.sampled_from(["type", "number", "fixed", "date", "section", "text",
                                 "trigger"]))
    if kind == "trigger":  # a state trigger (issue 13) made invalid
        trig = raw["options"]["hold_until_untenable"]["phases"][1]["trigger"]
        key, value = draw(st.sampled_from(BAD_TRIGGER_EDITS))
        if key.startswith("cond."):
            trig["any"][0][key[5:]] = value
        else:
            trig[key] = value
        return raw, True, f"trigger {key} = {value!r}"
    if kind == "fixed":  # a campaign parameter fixed outside its domain
        q = draw(st.sampled_from([q for q in PARAMETERS if math.isfinite(q.domain.low)]))
        offset = draw(st.sampled_from([1e-9, 1.0, 1e6]))
        value = q.domain.low - offset if not q.domain.low_open else q.domain.low
        raw["parameters"][q.name] = _par({"dist": "fixed", "value": value}, q.units)
        return raw, True, f"parameters.{q.name} = {value!r}"
    if kind == "section":
        value = draw(WRONG_TYPES | NUMBERS)
        section = draw(st.sampled_from(SECTIONS))
        raw[section] = value
        # an optional section may be empty ([meta] = {}, observations = [])
        empty = value is None or (isinstance(value, list | dict) and not value)
        return raw, not empty, f"{section} = {value!r}"
    leaves, values, surely = {
        "type": (NUMERIC, WRONG_TYPES, True),
        "number": (NUMERIC, NUMBERS, False),  # may happen to be valid (e.g. a weight bound)
        "date": (DATES, BAD_DATES, True),
        "text": (TEXTS, WRONG_TYPES | NUMBERS, False),  # some strings are free text
    }[kind]
    path = draw(st.sampled_from(leaves))
    value = draw(values)
    _set(raw, path, value)
    if isinstance(value, float) and math.isinf(value) and path[-1] in ("lower", "upper"):
        surely = False  # a truncated normal may have an infinite bound
    return raw, surely, f"{path} = {value!r}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bad_specs())
def test_bad_specs_always_give_a_spec_error_with_a_field(case):
    raw, surely_bad, change = case
    try:
        spec = spec_from_dict(raw)
    except SpecError as exc:
        assert exc.path, str(exc)
        assert exc.message
        return
    assert not surely_bad, f"a surely invalid spec was accepted: {change}"
    for q in PARAMETERS:  # accepted: then every prior lies in its domain
        dist = spec.parameters[q.name].dist
        lo, hi = (dist.params["value"],) * 2 if dist.is_fixed else dist.interval(0.999)
        assert q.domain.contains(lo) and q.domain.contains(hi), q.name
