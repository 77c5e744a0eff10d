"""Issue 22, item 8: a progress line during NUTS sampling on a terminal, quiet otherwise."""

from __future__ import annotations

import argparse
import io
import sys
import types

import numpy as np
import pytest


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _args(no_progress: bool = False) -> argparse.Namespace:
    return argparse.Namespace(no_progress=no_progress)


def test_sampling_progress_only_on_a_terminal(monkeypatch):
    from kursk_da.cli._analyze import sampling_progress
    from kursk_da.cli._log import configured

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with configured(0):
        assert not sampling_progress(_args())  # not a terminal (a log file, CI)
    monkeypatch.setattr(sys, "stderr", _Terminal())
    with configured(0):
        assert sampling_progress(_args())
        assert not sampling_progress(_args(no_progress=True))
    with configured(-1):  # -q
        assert not sampling_progress(_args())


@pytest.mark.parametrize("shown", [False, True])
def test_nutpie_gets_its_progress_bar_when_asked(monkeypatch, shown):
    """The flag reaches ``nutpie.sample`` (display only: nothing else changes)."""
    import arviz as az
    import nutpie

    from kursk_da.calibration import _sampling

    seen: dict[str, object] = {}

    def fake_sample(compiled, **kwargs):
        seen.update(kwargs)
        return az.from_dict(posterior={"x": np.zeros((kwargs["chains"], kwargs["draws"]))})

    monkeypatch.setattr(nutpie, "sample", fake_sample)
    cc = types.SimpleNamespace(sampler="nutpie", compiled=None)
    _sampling._run_sampler(cc, 1, 5, 5, 2, 1, 0.8, {}, progress_bar=shown)  # type: ignore[arg-type]
    assert seen["progress_bar"] is shown
    assert seen["progress_rate"] == _sampling.PROGRESS_RATE_MS
