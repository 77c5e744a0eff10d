"""Check a calibrated result set against ArviZ, independently of the package's own code.

Usage::

    python tools/check_resultset.py results/kursk_2025.nc

Prints, for each option, the stored ``expected_value_mcse`` beside ArviZ's
``az.mcse(method="mean")`` of the per-posterior-draw means of ``/decision/value`` (the
replicate rows of each posterior draw averaged, chains x draws from the root attributes) and
their ratio; then runs ``az.loo``, ``az.psens`` and ``az.plot_ppc(group="prior")`` on the file
as written (a figure is drawn off-screen and discarded). Exit status 1 when an MCSE differs by
more than 10% or an ArviZ call fails.
"""

from __future__ import annotations

import sys

import arviz as az
import matplotlib
import numpy as np
import xarray as xr

matplotlib.use("Agg")


def main(path: str) -> int:
    """Run the checks on the result set at ``path``; return the exit status."""
    tree = xr.open_datatree(path)
    attrs = tree.attrs
    if attrs.get("analysis") != "posterior":
        print(f"{path}: not a posterior analysis (analysis = {attrs.get('analysis')!r})")
        return 1
    chains = int(attrs["calibration_chains"])
    draws = int(attrs["calibration_draws"])
    reps = int(attrs["draws_per_posterior_draw"])
    dec = tree["decision"].to_dataset()
    value = dec["value"].transpose(..., "option").values
    per_draw = value.reshape(chains, draws, reps, value.shape[-1]).mean(axis=2)
    status = 0
    print(f"{'option':<20}{'stored':>10}{'ArviZ':>10}{'ratio':>8}")
    for k, name in enumerate(dec["option"].values):
        ds = az.convert_to_dataset({"v": per_draw[:, :, k]})
        ref = float(az.mcse(ds, method="mean")["v"])
        stored = float(dec["expected_value_mcse"].sel(option=name))
        ratio = stored / ref
        flag = "" if abs(ratio - 1.0) <= 0.10 else "  > 10% off"
        status |= int(bool(flag))
        print(f"{name!s:<20}{stored:>10.3f}{ref:>10.3f}{ratio:>8.3f}{flag}")
    idata = az.from_datatree(tree) if hasattr(az, "from_datatree") else None
    if idata is None:
        groups = {g: tree[g].to_dataset() for g in tree.children}
        idata = az.InferenceData(**groups)
    for label, call in (
        ("az.loo", lambda: az.loo(idata)),
        ("az.psens", lambda: az.psens(idata, component="prior")),
        ("az.plot_ppc(group='prior')", lambda: az.plot_ppc(idata, group="prior")),
    ):
        try:
            out = call()
        except Exception as exc:  # report any failure of the ArviZ call, then go on
            print(f"{label}: FAILED ({type(exc).__name__}: {exc})")
            status = 1
            continue
        if label == "az.loo":
            print(f"{label}: elpd_loo = {out.elpd_loo:.2f} (se {out.se:.2f}), "
                  f"max Pareto k = {float(np.max(out.pareto_k)):.2f}")
        elif label == "az.psens":
            worst = max(float(out[v].max()) for v in out.data_vars)
            print(f"{label}: ran on {len(out.data_vars)} variable(s); largest value {worst:.3f}")
        else:
            print(f"{label}: ran")
    return status


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
