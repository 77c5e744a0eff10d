# ruff: noqa: E501  (the TOML text is verbatim)
"""The 2025 spec with the three essay observations it calibrated on before issue 11.

The default ``models/kursk_2025.toml`` now calibrates on the 52 public claims of
``models/data/`` (claimant-bias model, docs/observations.md). The tests of the inline
``[[observations]]`` form, of the skeleton, of the cutoff and of the sampler machinery keep
the essay's three figures (exactly as the default spec carried them until issue 11): a
small model that compiles and samples in seconds.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ESSAY_OBSERVATIONS", "essay_spec_text", "write_essay_spec"]

MODELS = Path(__file__).resolve().parents[1] / "models"

ESSAY_OBSERVATIONS = '''\
# Dated figures known before the decision, used to calibrate the campaign parameters
# (`kursk-da analyze` runs the Bayesian calibration when this list is not empty; see
# docs/calibration.md). Each observation is compared with the model state at the end of its
# day. `interval = [lo, hi]` with `level` -> lognormal likelihood ("the truth is within
# [lo, hi] with probability level"); `sd` -> normal likelihood.

[[observations]]
name = "area_captured_aug"
date = 2024-08-16
quantity = "area_held"
value = 1250.0
interval = [950.0, 1650.0]
level = 0.9
source = """Essay: 'Within days, they had advanced deep into the Kursk region, capturing about 1,250
square kilometers, including the strategically important town of Sudzha.' The date (ten days after
the 6 August launch) and the width of the interval are analyst judgement: 'within days' is vague."""

[[observations]]
name = "area_held_oct"
date = 2024-10-31
quantity = "area_held"
value = 625.0
interval = [430.0, 900.0]
level = 0.9
source = """Essay: 'By October, they had reclaimed about half of the territory Ukraine had captured'
(half of ~1,250 km2). Read as the end of October 2024 (analyst judgement); 'about half' gives the
wide interval."""

[[observations]]
name = "ru_buildup_dec"
date = 2024-12-15
quantity = "ru_buildup"
value = 50000.0
interval = [35000.0, 70000.0]
level = 0.9
source = """Essay: 'Russia responded with overwhelming force, deploying approximately 50,000 additional
troops to the region, including 12,000 North Korean soldiers'. Mapped on the net build-up R -
ru_garrison (troops in Kursk above the pre-war garrison), not on cumulative arrivals, which also count
the replacements of losses that the figure does not include. Dated mid-December 2024, after the North
Korean deployment of November (analyst judgement); interval is analyst judgement."""
'''
"""The ``[[observations]]`` of ``models/kursk_2025.toml`` before issue 11 (verbatim)."""

_START = "# The public figures known on the decision date (issue 11)"
_END = "# ------------------------------------------------------------------------------ scenarios"


def essay_spec_text() -> str:
    """``models/kursk_2025.toml`` with its ``[observations]`` table replaced by the essay's."""
    text = (MODELS / "kursk_2025.toml").read_text()
    a, b = text.index(_START), text.index(_END)
    return text[:a] + ESSAY_OBSERVATIONS + "\n" + text[b:]


def write_essay_spec(directory: Path) -> Path:
    """Write :func:`essay_spec_text` to ``directory / "kursk_2025_essay.toml"``."""
    path = Path(directory) / "kursk_2025_essay.toml"
    path.write_text(essay_spec_text())
    return path
