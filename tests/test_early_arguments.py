"""Every argument is checked before any computing (issue 23, "some argument errors arrive
only after 27-34 s of computing"), and every public ``kd.*`` function validates its
arguments like the CLI, naming the argument.

Each CLI case asserts exit 2 *and* that the heavy step was not reached: the heavy
function is replaced by one that fails the test (no wall-clock bound).
"""

from __future__ import annotations

import inspect

import pytest

from kursk_da.errors import KurskDAError

SPEC = "models/kursk_2025.toml"


class Reached(AssertionError):
    """The heavy step ran although an argument was bad."""



from kursk_da.engine._run import run_engine as _REAL_RUN_ENGINE  # noqa: E402


def _forbid(monkeypatch, target: str) -> None:
    def heavy(*args, **kwargs):
        raise Reached(f"{target} was reached before the argument check")

    monkeypatch.setattr(target, heavy)


# ------------------------------------------------------------------ CLI: voi --evsi NAME
def test_voi_unknown_evsi_input_on_a_spec_refused_before_the_prior_analysis(
        monkeypatch, capsys):
    """Before: the prior analysis and every EVPPI task ran (44 s), then exit 2."""
    from kursk_da.cli import main

    _forbid(monkeypatch, "kursk_da.analysis.analyze")
    assert main(["voi", SPEC, "--evsi", "nosuch", "--draws", "200"]) == 2
    err = capsys.readouterr().err
    assert "evsi: unknown input 'nosuch'" in err


def test_voi_unknown_evsi_input_on_a_result_set_refused_before_the_evppi_tasks(
        monkeypatch, small_tree, tmp_path, capsys):
    from kursk_da.cli import main
    from kursk_da.io import save_result_set

    path = save_result_set(small_tree, tmp_path / "prior.nc")
    _forbid(monkeypatch, "kursk_da.voi._groups.campaign_evppi_from_tree")
    assert main(["voi", str(path), "--evsi", "nosuch"]) == 2
    assert "evsi: unknown input 'nosuch'" in capsys.readouterr().err


def test_voi_negative_evsi_error_refused_before_the_prior_analysis(monkeypatch, capsys):
    from kursk_da.cli import main

    _forbid(monkeypatch, "kursk_da.analysis.analyze")
    assert main(["voi", SPEC, "--evsi", "ru_garrison", "--draws", "200",
                 "--error=-1"]) == 2
    assert "error: expected" in capsys.readouterr().err


def test_voi_group_checks_the_evsi_name_before_the_evppi_tasks(monkeypatch, small_tree):
    from kursk_da.errors import ArgumentError
    from kursk_da.voi._groups import voi_group

    _forbid(monkeypatch, "kursk_da.voi._groups.campaign_evppi_from_tree")
    with pytest.raises(ArgumentError, match=r"^evsi: unknown input 'nosuch'"):
        voi_group(small_tree, evsi="nosuch")
    with pytest.raises(ArgumentError, match=r"^n_obs: "):
        voi_group(small_tree, evsi="ru_garrison", n_obs=0)


# ------------------------------------------- library: every public kd.* job checks first
def _engine_forbidden(monkeypatch):
    _forbid(monkeypatch, "kursk_da.engine._run.run_engine")
    _forbid(monkeypatch, "kursk_da.engine._run._threaded")


def _calls(spec):
    """(public name, call with keyword overrides) of each kd.* job taking n_jobs or a flag."""
    import numpy as np

    import kursk_da as kd

    inputs = np.zeros((20, len(spec.input_names)))
    values = np.zeros((20, len(spec.option_names)))
    return {
        "analyze": lambda **kw: kd.analyze(spec, draws=100, **{"prior_only": True, **kw}),
        "run_analysis": lambda **kw: kd.run_analysis(spec, draws=100,
                                                     **{"prior_only": True, **kw}),
        # the engine module's own function, not kd.run_engine: the tests forbid that name
        # (kd's lazy attribute would otherwise resolve to, and cache, the forbidding stub)
        "run_engine": lambda **kw: _REAL_RUN_ENGINE(spec, 100, 1, **kw),
        "tornado": lambda **kw: kd.tornado(spec, n_draws=100, **kw),
        "campaign_sobol": lambda **kw: kd.campaign_sobol(spec, n=8, **kw),
        "scenario_comparison": lambda **kw: kd.scenario_comparison(spec, draws=100, **kw),
        "campaign_evppi": lambda **kw: kd.campaign_evppi(spec, inputs, values, **kw),
        "campaign_evppi_nested": lambda **kw: kd.campaign_evppi_nested(
            spec, spec.input_names[0], n_outer=2, n_inner=2, seed=0, **kw),
    }


JOBS = ["analyze", "run_analysis", "run_engine", "tornado", "campaign_sobol",
        "scenario_comparison", "campaign_evppi", "campaign_evppi_nested"]
FLAGS = [("analyze", "prior_only"), ("run_analysis", "prior_only"), ("tornado", "thresholds"),
         ("campaign_evppi", "groups"), ("campaign_evppi_nested", "stratified")]


def test_the_sweep_covers_every_public_function_taking_n_jobs_or_a_flag():
    """A new public job with ``n_jobs`` or a boolean must join the lists above."""
    import kursk_da as kd

    found_jobs, found_flags = set(), set()
    for name in kd.__all__:
        obj = getattr(kd, name)
        if not callable(obj) or inspect.isclass(obj):
            continue
        for p, par in inspect.signature(obj).parameters.items():
            if p == "n_jobs":
                found_jobs.add(name)
            elif isinstance(par.default, bool):
                found_flags.add((name, p))
    assert found_jobs == set(JOBS)
    # calibrate's progress_bar is tested below (it imports PyMC)
    assert found_flags == set(FLAGS) | {("calibrate", "progress_bar")}


@pytest.mark.parametrize("name", JOBS)
@pytest.mark.parametrize("n_jobs", [0, -1, 2.5, "2", True])
def test_public_jobs_refuse_a_bad_n_jobs_naming_it(monkeypatch, spec_2025, name, n_jobs):
    _engine_forbidden(monkeypatch)
    with pytest.raises(KurskDAError, match=r"^n_jobs: expected a whole number >= 1"):
        _calls(spec_2025)[name](n_jobs=n_jobs)


@pytest.mark.parametrize(("name", "flag"), FLAGS)
@pytest.mark.parametrize("value", ["no", 1, None])
def test_public_jobs_refuse_a_non_boolean_flag_naming_it(monkeypatch, spec_2025, name, flag,
                                                         value):
    _engine_forbidden(monkeypatch)
    with pytest.raises(KurskDAError, match=rf"^{flag}: expected True or False"):
        _calls(spec_2025)[name](**{flag: value})


@pytest.mark.parametrize("name", ["tornado", "campaign_sobol", "scenario_comparison"])
def test_public_jobs_refuse_a_bad_seed_naming_it(monkeypatch, spec_2025, name):
    _engine_forbidden(monkeypatch)
    with pytest.raises(KurskDAError, match=r"^seed: "):
        _calls(spec_2025)[name](seed=-1)


def test_scenario_comparison_refuses_an_unknown_scenario_before_the_base_run(
        monkeypatch, spec_2025):
    """Before: the base spec ran through the engine, then the name failed."""
    import kursk_da as kd

    _engine_forbidden(monkeypatch)
    with pytest.raises(KurskDAError, match=r"^scenarios: unknown scenario\(s\) \['nosuch'\]"):
        kd.scenario_comparison(spec_2025, draws=100, scenarios=["nosuch"])


def test_calibrate_refuses_a_non_boolean_progress_bar_and_run_calibration_passes_it_on(
        spec_2025):
    """``run_calibration`` documents ``progress_bar`` (and ``analyze`` passes it on): it
    must reach ``calibrate``'s check rather than be refused as an unknown keyword."""
    import kursk_da as kd

    with pytest.raises(KurskDAError, match=r"^progress_bar: expected True or False"):
        kd.calibrate(spec_2025, seed=0, progress_bar="yes")
    with pytest.raises(KurskDAError, match=r"^progress_bar: expected True or False"):
        kd.run_calibration(spec_2025, seed=0, progress_bar="yes")
    with pytest.raises(KurskDAError, match=r"^cores: expected a whole number >= 1"):
        kd.run_calibration(spec_2025, seed=0, cores=0)


# ------------------------------------------------------- CLI: sensitivity's numeric options
@pytest.mark.parametrize(("extra", "name"), [
    (["--sobol-n", "4"], "sobol_n"),
    (["--tornado-draws", "5"], "tornado_draws"),
])
def test_sensitivity_bad_options_refused_before_the_prior_analysis(monkeypatch, capsys, extra,
                                                                   name):
    """Before: the prior analysis (and, for --sobol-n, the tornado) ran first."""
    from kursk_da.cli import main

    _forbid(monkeypatch, "kursk_da.analysis.analyze")
    assert main(["sensitivity", SPEC, "--draws", "200", *extra]) == 2
    assert f"{name}: expected" in capsys.readouterr().err


def test_sensitivity_negative_risk_aversion_refused_by_the_parser(monkeypatch, capsys):
    """Before: exit 2 after 61 s (prior analysis, tornado, Sobol' indices, scenarios)."""
    from kursk_da.cli import main

    _forbid(monkeypatch, "kursk_da.analysis.analyze")
    with pytest.raises(SystemExit) as exc:
        main(["sensitivity", SPEC, "--draws", "200", "--risk-aversion=-1"])
    assert exc.value.code == 2
    assert "--risk-aversion" in capsys.readouterr().err


def test_sensitivity_groups_checks_every_argument_before_the_tornado(monkeypatch, small_tree):
    from kursk_da.io import spec_from_tree
    from kursk_da.io._draws import draws_from_tree
    from kursk_da.sensitivity._groups import sensitivity_groups

    _forbid(monkeypatch, "kursk_da.sensitivity._groups.tornado")
    spec, draws = spec_from_tree(small_tree), draws_from_tree(small_tree)
    for kwargs, name in (({"sobol_n": 4}, "sobol_n"), ({"risk_aversion": 0.0}, "risk_aversion"),
                         ({"with_sobol": "no"}, "with_sobol")):
        with pytest.raises(KurskDAError, match=rf"^{name}: expected"):
            sensitivity_groups(spec, small_tree, draws, **kwargs)


def test_hindcast_by_quantity_with_an_export_format_refused_before_calibrating(
        monkeypatch, capsys):
    """Before: the option was silently ignored once every origin had been calibrated."""
    from kursk_da.cli import main

    _forbid(monkeypatch, "kursk_da.calibration._hindcast.run_hindcast")
    _forbid(monkeypatch, "kursk_da.spec._schema.load_spec")
    assert main(["hindcast", SPEC, "--by-quantity", "--format", "csv"]) == 2
    assert "--by-quantity: only with --format table" in capsys.readouterr().err


@pytest.mark.parametrize(("n", "rng", "name"), [(2.5, 1, "n"), (True, 1, "n"), (-1, 1, "n"),
                                                ("5", 1, "n"), (5, 1, "rng")])
def test_sample_inputs_names_a_wrong_argument(spec_2025, n, rng, name):
    """Before: TypeError 'rng must be ...' / ValueError, not the package's error."""
    import numpy as np

    import kursk_da as kd

    gen = np.random.default_rng(0) if name == "n" else rng
    with pytest.raises(KurskDAError, match=rf"^{name}: expected"):
        kd.sample_inputs(spec_2025, n, gen)
    assert kd.sample_inputs(spec_2025, 0, np.random.default_rng(0)).shape == (
        0, len(spec_2025.input_names))
