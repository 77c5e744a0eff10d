"""The library API as research code uses it."""

from __future__ import annotations

import numpy as np
import pytest

import kursk_da as kd


def test_public_names_exist():
    for name in kd.__all__:
        assert hasattr(kd, name), name
    from kursk_da.calibration import build_model

    assert kd.build_model is build_model
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        kd.nope  # noqa: B018


def test_import_does_not_import_pymc():
    import subprocess
    import sys

    code = "import sys, kursk_da; print('pymc' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_change_input_and_add_option_in_code(spec_2025):
    spec = spec_2025.with_parameter("nk_troops", 0.0)  # "no North Korean troops"
    assert spec.parameters["nk_troops"].dist.is_fixed
    assert spec.parameters["nk_troops"].units == "troops"  # kept from the old entry
    assert spec.sha256 != spec_2025.sha256
    spec = spec.with_option("hold_with_strikes", {
        "description": "hold the salient and strike logistics",
        "phases": [{"after_days": 0, "posture": "defend", "strike_intensity": 1.0}],
    })
    assert spec.option_names[-1] == "hold_with_strikes"
    tree = kd.analyze(spec, draws=400, seed=1, prior_only=True)
    assert "hold_with_strikes" in tree["decision"]["option"].values
    assert float(tree["prior"]["nk_troops"].max()) == 0.0


def test_strikes_added_to_hold_change_only_through_strike_levers(spec_2025):
    """Common random numbers: an option identical to another gives identical values."""
    twin = spec_2025.raw["options"]["hold"]
    spec = spec_2025.with_option("hold_again", twin)
    tree = kd.analyze(spec, draws=300, seed=2, prior_only=True)
    v = tree["decision"]["value"]
    np.testing.assert_array_equal(v.sel(option="hold"), v.sel(option="hold_again"))


def test_bad_edit_raises_spec_error(spec_2025):
    with pytest.raises(kd.SpecError) as err:
        spec_2025.with_parameter("ru_garrison", {"dist": "lognormal", "median": -5, "sigma": 0.2})
    assert err.value.path.startswith("parameters.ru_garrison")
    with pytest.raises(kd.SpecError, match="no such option"):
        spec_2025.without_option("surrender")


@pytest.mark.parametrize("kwargs", [{"draws": 0}, {"seed": -3}, {"draws": 2.5}])
def test_analyze_validates_arguments(spec_2025, kwargs):
    with pytest.raises(kd.SpecError):
        kd.analyze(spec_2025, prior_only=True, **kwargs)


def test_passed_on_calibration_keywords_are_parameters_of_calibrate():
    """analyze and run_calibration refuse any keyword outside CALIBRATE_OPTIONS: each must be
    a parameter of calibrate (a name missing there was refused by make report)."""
    import inspect

    from kursk_da.calibration import CALIBRATE_OPTIONS, calibrate

    params = inspect.signature(calibrate).parameters
    assert set(CALIBRATE_OPTIONS) <= set(params)
    assert "progress_bar" in CALIBRATE_OPTIONS  # the CLI passes it when calibrating
