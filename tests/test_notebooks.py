"""Every notebook in notebooks/ runs top to bottom on a fresh kernel (small draws).

Each notebook is executed by nbclient with a kernel of the interpreter running the tests,
with ``KURSK_DA_NOTEBOOK_DRAWS`` small and ``KURSK_DA_RESULTS`` pointing to a temporary
directory, so the run writes nothing into the repository. A failing cell fails the test.
The results directory is shared by the notebooks of a run, as ``results/`` is in the
repository: notebooks 03 and 04 read back the calibrated result set that notebook 02
saved with the same settings instead of sampling again (run alone, they calibrate).

Each notebook ends with its findings ("What we learn"), generated from its results;
the result set it writes is the calibrated (posterior) analysis, except in notebook 01,
whose subject is the priors.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import warnings
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="test extra: pip install -e '.[test]'")
nbclient = pytest.importorskip("nbclient", reason="test extra: pip install -e '.[test]'")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TEST_DRAWS = "2000"
"""KURSK_DA_NOTEBOOK_DRAWS in the test run."""


def test_notebooks_are_committed_without_outputs():
    assert len(NOTEBOOKS) >= 4, NOTEBOOKS
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, (
                    f"{path.name}: clear the outputs before committing")


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory):
    """A kernel spec that runs the current interpreter (the project's venv)."""
    from jupyter_client.kernelspec import KernelSpecManager

    prefix = tmp_path_factory.mktemp("kernels")
    kdir = prefix / "share" / "jupyter" / "kernels" / "kursk-da-test"
    kdir.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "kursk-da test", "language": "python"}
    (kdir / "kernel.json").write_text(json.dumps(spec))
    ksm = KernelSpecManager(kernel_dirs=[str(kdir.parent)])
    assert "kursk-da-test" in ksm.find_kernel_specs()
    return ksm


PRIOR_ONLY = {"01_model_and_priors"}
"""Notebooks whose subject is the prior analysis (they say so); the others use the
calibrated analysis of the spec, which has observations."""


def test_notebooks_end_with_their_findings():
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        *_, heading, code = nb.cells
        assert heading.cell_type == "markdown" and heading.source.startswith("## What we learn"), (
            f"{path.name}: the last section is not 'What we learn'")
        assert code.cell_type == "code" and "findings" in code.source, path.name
        intro = nb.cells[0].source
        if path.stem in PRIOR_ONLY:
            assert "prior" in intro and "on purpose" in intro, path.name
        else:
            assert "calibrat" in intro, path.name
            src = "".join(c.source for c in nb.cells if c.cell_type == "code")
            assert "prior_only=True)" not in src.replace("prior = kd.analyze(spec, draws=DRAWS, "
                                                         "seed=SEED, prior_only=True)", ""), (
                f"{path.name}: runs the prior analysis as its main analysis")


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    """The results directory shared by the notebooks of this run."""
    return tmp_path_factory.mktemp("nb") / "results"


def _text(output) -> str:
    if output.output_type == "stream":
        return output.text
    data = output.get("data", {})
    return data.get("text/markdown") or data.get("text/plain", "")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, kernel_name, results_dir, monkeypatch):
    import xarray as xr
    from jupyter_client.manager import KernelManager

    monkeypatch.setenv("KURSK_DA_NOTEBOOK_DRAWS", TEST_DRAWS)
    monkeypatch.setenv("KURSK_DA_RESULTS", str(results_dir))
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = nbformat.read(path, as_version=4)
    km = KernelManager(kernel_name="kursk-da-test", kernel_spec_manager=kernel_name)
    client = nbclient.NotebookClient(nb, km=km, timeout=600, allow_errors=False,
                                     resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    finally:
        # jupyter_client leaves zmq sockets to the garbage collector; close them here so
        # that their ResourceWarning does not surface in a later test.
        context = km.context
        del client, km
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()
            context.destroy(linger=0)
    prefix = f"nb{path.stem[:2]}_"
    written = sorted(p for p in results_dir.iterdir() if p.name.startswith(prefix)
                     and p.suffix == ".nc")
    assert written, "the notebook writes its result set under results/"
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert figures, "the notebook's figures are not displayed"
    assert os.environ["KURSK_DA_NOTEBOOK_DRAWS"] == TEST_DRAWS
    # the result set of models/kursk_2025.toml: calibrated unless the notebook is about priors
    trees = []
    for file in written:
        with xr.open_datatree(file) as tree:
            trees.append(tree.load())
    main = next(t for t in trees if t.attrs["spec_name"] == "kursk_2025")
    expected = "prior" if path.stem in PRIOR_ONLY else "posterior"
    assert main.attrs["analysis"] == expected, (path.name, main.attrs["analysis"])
    # the findings: generated text that names the leading option of the result set
    findings = "".join(_text(o) for o in nb.cells[-1].outputs)
    assert findings.strip() and any(ch.isdigit() for ch in findings), findings
    ev = main["decision"]["expected_value"].to_series()
    if path.stem != "04_value_of_information":
        assert f"**{ev.idxmax()}**" in findings, findings
    else:
        voi = main["voi"]["evppi"].to_series()
        assert voi.idxmax() in findings and f"{main.attrs['analysis']} analysis" in findings
