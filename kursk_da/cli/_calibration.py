"""Plain-text tables of a calibration (printed by ``kursk-da analyze``).

Importing this module imports :mod:`kursk_da.calibration` (and PyMC): the CLI imports it only
when a calibration ran.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from kursk_da.calibration._checks import ranking_verdict
from kursk_da.calibration._diagnostics import diagnostics_table

if TYPE_CHECKING:
    from kursk_da.calibration._result import Calibration

__all__ = ["calibration_text"]


def _interval_rows(table: pd.DataFrame, with_crps: bool) -> list[str]:
    w = max(11, *(len(str(i)) for i in table.index))
    head = (f"{'observation':<{w}}  {'observed':>10}  {'pred. mean':>10}  "
            f"{'90% interval':>23}  {'inside':>6}")
    head += f"  {'CRPS':>9}" if with_crps else f"  {'P(y_rep<=y)':>11}"
    lines = [head, "-" * len(head)]
    for name, r in table.iterrows():
        iv = f"[{r['lower_90']:,.0f}, {r['upper_90']:,.0f}]"
        line = (f"{name!s:<{w}}  {r['observed']:>10,.0f}  {r['predictive_mean']:>10,.0f}  "
                f"{iv:>23}  {'yes' if r['covered'] else 'NO':>6}")
        line += f"  {r['crps']:>9,.1f}" if with_crps else f"  {r['p_below']:>11.2f}"
        lines.append(line)
    return lines


def calibration_text(post: Calibration) -> str:
    """Diagnostics, posterior predictive check, prior sensitivity and forecast scores.

    Parameters
    ----------
    post : Calibration

    Returns
    -------
    str
    """
    a = post.idata.attrs
    lines = [
        f"calibration: {a['sampler']}, {a['chains']} chains x {a['draws']} draws "
        f"({a['tune']} tuning), seed {a['seed']}; compile {a['compile_seconds']:.1f} s, "
        f"sampling {a['sampling_seconds']:.1f} s"
        + (f"; observations up to {a['cutoff']}" if a["cutoff"] else ""),
        diagnostics_table(post.diagnostics),
        "",
        "posterior predictive check (observed value against its 90% predictive interval):",
        *_interval_rows(post.ppc, with_crps=False),
    ]
    if post.loo is not None:
        high = post.high_pareto_k
        k = post.loo["pareto_k"]
        lines += ["", f"PSIS-LOO: {len(high)} of {len(k)} observations have Pareto k > 0.7 "
                      f"(largest {k.max():.2f})" + (
                          ": their leave-one-out terms are unreliable (influential or badly "
                          "fitted claims): " + ", ".join(f"{n} ({k[n]:.2f})" for n in high)
                          if high else "")]
    if post.sensitivity is not None:
        lines += ["", "prior sensitivity (prior power-scaled by alpha, PSIS importance weights):"]
        for _, r in post.sensitivity.iterrows():
            flag = "  CHANGED" if r["ranking_changed"] else ""
            if not r["reliable"]:
                flag += "  (k > 0.7: weights unreliable)"
            lines.append(f"  alpha {r['power']:>4g}: {r['ranking']}  "
                         f"(pareto k {r['pareto_k']:.2f}){flag}")
        verdict = ranking_verdict(post.sensitivity)
        lines.append("  the option ranking " + {
            "yes": "DEPENDS on the priors",
            "no": "does not depend on the priors (at the powers with reliable weights)",
            "inconclusive": "check is INCONCLUSIVE (no reliable weights; refit with modified "
                            "priors)",
        }[verdict])
    if post.forecast is not None:
        fc = post.forecast
        lines += ["", "withheld observations (after the cutoff): coverage and CRPS",
                  *_interval_rows(fc, with_crps=True),
                  f"90% interval coverage {fc['covered'].mean():.0%} of {len(fc)}; "
                  f"mean CRPS {fc['crps'].mean():,.1f}"]
    return "\n".join(lines)
