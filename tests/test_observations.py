"""Observations in the spec: parsing, likelihood family, no look-ahead."""

from __future__ import annotations

import copy
import datetime as dt
import math

import pytest
from _essay import write_essay_spec

from kursk_da.errors import SpecError
from kursk_da.spec._observations import QUANTITIES, select_observations
from kursk_da.spec._schema import load_spec, spec_from_dict


@pytest.fixture(scope="module")
def essay_2025(tmp_path_factory):
    """The 2025 spec with the essay's three inline observations (its default until issue 11;
    the default's 52 claims from models/data/ are tested in tests/test_evidence.py)."""
    return load_spec(write_essay_spec(tmp_path_factory.mktemp("essay")))


def _with_obs(spec, obs):
    raw = copy.deepcopy(dict(spec.raw))
    raw["observations"] = obs
    return spec_from_dict(raw)


GOOD = {"name": "a", "date": dt.date(2024, 9, 1), "quantity": "area_held", "value": 900.0,
        "interval": [700.0, 1100.0], "level": 0.8, "source": "test"}


def test_inline_observations_of_the_essay_spec(essay_2025, spec_2024):
    spec_2025 = essay_2025
    obs = spec_2025.observations
    assert [o.name for o in obs] == ["area_captured_aug", "area_held_oct", "ru_buildup_dec"]
    assert all(o.date < spec_2025.decision_date for o in obs)
    assert all("Essay" in o.source for o in obs)
    assert {o.quantity for o in obs} <= set(QUANTITIES)
    aug = obs[0]
    assert aug.likelihood == "lognormal" and aug.units == "km2" and aug.day == 10
    # sigma = ln(hi/lo) / (2 z_0.95)
    assert aug.scale == pytest.approx(math.log(1650 / 950) / (2 * 1.6448536269514722))
    # the 2024 decision is on day 0: priors only
    assert spec_2024.observations == ()


def test_sd_gives_a_normal_likelihood(spec_2025):
    ob = dict(GOOD)
    del ob["interval"], ob["level"]
    ob["sd"] = 50.0
    spec = _with_obs(spec_2025, [ob])
    assert spec.observations[0].likelihood == "normal"
    assert spec.observations[0].scale == 50.0


@pytest.mark.parametrize("date", [dt.date(2025, 1, 5), dt.date(2025, 3, 1)])
def test_no_look_ahead(spec_2025, date):
    """An observation on or after the decision date is refused, naming its date field."""
    with pytest.raises(SpecError) as exc:
        _with_obs(spec_2025, [GOOD, {**GOOD, "name": "late", "date": date}])
    assert exc.value.path == "observations[1].date"
    assert "look-ahead" in str(exc.value)


def test_2024_spec_refuses_any_observation(spec_2024):
    with pytest.raises(SpecError, match=r"observations\[0\]\.date"):
        _with_obs(spec_2024, [{**GOOD, "date": dt.date(2024, 8, 10)}])


def test_every_public_figure_is_look_ahead_for_the_2024_decision(tmp_path):
    """Why kursk_2024.toml stays priors-only (issue 11 item 8): the decision of 6 August
    2024 is day 0, and every row of the public data set was reported after it, even the
    pre-incursion garrison counts dated 6 August (reported on 14 September and 19
    November). Calibrating on them would be look-ahead, and the spec refuses it."""
    import csv
    from pathlib import Path

    from kursk_da.spec._schema import load_spec

    models = Path(__file__).resolve().parents[1] / "models"
    data = models / "data" / "kursk_public_figures_2024.csv"
    with data.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    decision = dt.date(2024, 8, 6)
    reported = [dt.date.fromisoformat(r["reported_on"]) for r in rows]
    assert len(rows) >= 50 and min(reported) > decision
    text = (models / "kursk_2024.toml").read_text()
    assert "[observations]" not in text and "[[observations]]" not in text
    spec = tmp_path / "kursk_2024_with_data.toml"
    spec.write_text(text + f'\n[observations]\nfile = "{data.as_posix()}"\n'
                    "[observations.measurement_error]\ncontrol = 0.1\nstrength = 0.2\n"
                    "losses = 0.25\nundefined_definition = 0.3\n")
    with pytest.raises(SpecError, match=r"observations\.file\[0\]\.(date|reported_on)"):
        load_spec(spec)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"quantity": "tanks"}, "observations[0].quantity"),
        ({"value": 2000.0}, "observations[0].value"),
        ({"interval": [1100.0, 700.0]}, "observations[0].interval"),
        ({"level": 1.5}, "observations[0].level"),
        ({"date": dt.date(2024, 1, 1)}, "observations[0].date"),
        ({"date": "2024-09-01"}, "observations[0].date"),
        ({"sd": 10.0}, "observations[0]"),
        ({"source": ""}, "observations[0].source"),
        ({"colour": "red"}, "observations[0].colour"),
        ({"name": "has space"}, "observations[0].name"),
    ],
)
def test_bad_observation_names_the_field(spec_2025, change, path):
    with pytest.raises(SpecError) as exc:
        _with_obs(spec_2025, [{**GOOD, **change}])
    assert exc.value.path == path


def test_duplicate_names_and_not_a_list(spec_2025):
    with pytest.raises(SpecError, match=r"observations\[1\]\.name"):
        _with_obs(spec_2025, [GOOD, GOOD])
    with pytest.raises(SpecError, match="array of tables"):
        _with_obs(spec_2025, {"a": GOOD})


def test_select_observations_by_cutoff(essay_2025):
    spec_2025 = essay_2025
    used, held = select_observations(spec_2025.observations, dt.date(2024, 9, 30))
    assert [o.name for o in used] == ["area_captured_aug"]
    assert [o.name for o in held] == ["area_held_oct", "ru_buildup_dec"]
    assert select_observations(spec_2025.observations, None)[1] == ()
