"""Shared fixtures: the shipped specs and small, cached analyses."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"


@pytest.fixture(scope="session")
def spec_2025():
    from kursk_da.spec._schema import load_spec

    return load_spec(MODELS / "kursk_2025.toml")


@pytest.fixture(scope="session")
def spec_2024():
    from kursk_da.spec._schema import load_spec

    return load_spec(MODELS / "kursk_2024.toml")


@pytest.fixture(scope="session")
def small_tree(spec_2025):
    from kursk_da.analysis import analyze

    return analyze(spec_2025, draws=3000, seed=7, chunk_size=1000, prior_only=True)
