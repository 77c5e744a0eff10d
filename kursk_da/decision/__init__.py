"""Decision metrics: NumPy core (:mod:`.metrics`) and xarray summary (:mod:`.summary`)."""

from kursk_da.decision._metrics import cvar, evpi_core, expected_value, prob_best, regret
from kursk_da.decision._policy import (
    PolicyResult,
    optimize_policy,
    paired_difference,
    policy_datasets,
    select_policy,
)
from kursk_da.decision._summary import decision_summary

__all__ = ["cvar", "evpi_core", "expected_value", "prob_best", "regret", "decision_summary",
           "PolicyResult", "optimize_policy", "select_policy", "paired_difference",
           "policy_datasets"]
