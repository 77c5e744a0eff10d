"""Every notebook in notebooks/ runs top to bottom on a fresh kernel (small draws).

Each notebook is executed by nbclient with a kernel of the interpreter running the tests,
with ``KURSK_DA_NOTEBOOK_DRAWS`` small and ``KURSK_DA_RESULTS`` pointing to a temporary
directory, so the run writes nothing into the repository. A failing cell fails the test.
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, kernel_name, tmp_path, monkeypatch):
    from jupyter_client.manager import KernelManager

    monkeypatch.setenv("KURSK_DA_NOTEBOOK_DRAWS", TEST_DRAWS)
    monkeypatch.setenv("KURSK_DA_RESULTS", str(tmp_path / "results"))
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
    assert any(p.suffix == ".nc" for p in (tmp_path / "results").iterdir()), (
        "the notebook writes its result set under results/")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert figures, "the notebook's figures are not displayed"
    assert os.environ["KURSK_DA_NOTEBOOK_DRAWS"] == TEST_DRAWS
