"""ArviZ convergence diagnostics of a calibration and the pass/fail gate.

Per parameter (the ``parameter`` coordinate of the posterior ``theta``): R-hat (rank
normalised, split), bulk and tail effective sample sizes, Monte Carlo standard errors
of the mean and sd. Per run: divergent transitions, the fraction of draws that hit the
maximum tree depth, and the energy Bayesian fraction of missing information (E-BFMI)
of each chain.

The gate (:data:`THRESHOLDS`) passes when every parameter has ``R-hat <= 1.01``,
``ESS_bulk >= 400`` and ``ESS_tail >= 400``, there are no divergences and every
chain has ``E-BFMI >= 0.3``. Tree-depth saturation is reported but does not fail the
gate (it costs efficiency, not validity).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from kursk_da.dims import CHAIN, DRAW, OBS_PARAMETER, PARAMETER

__all__ = ["THRESHOLDS", "Diagnostics", "diagnose", "diagnostics_table"]

THRESHOLDS: dict[str, float] = {
    "r_hat_max": 1.01,
    "ess_bulk_min": 400.0,
    "ess_tail_min": 400.0,
    "divergences_max": 0.0,
    "e_bfmi_min": 0.3,
}
"""Default gate thresholds (see the module docstring)."""


@dataclass(frozen=True)
class Diagnostics:
    """Diagnostics of one calibration run.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per parameter: ``mean``, ``sd``, ``mcse_mean``, ``mcse_sd``,
        ``ess_bulk``, ``ess_tail``, ``r_hat``, ``ok``.
    divergences : int
        Divergent transitions after tuning.
    tree_depth_saturation : float
        Fraction of draws that reached the maximum tree depth.
    e_bfmi : numpy.ndarray
        E-BFMI of each chain.
    failing : tuple of str
        Names of failing parameters, then ``"divergences"`` / ``"e_bfmi"`` if those fail.
    thresholds : dict
    """

    table: pd.DataFrame
    divergences: int
    tree_depth_saturation: float
    e_bfmi: np.ndarray
    failing: tuple[str, ...]
    thresholds: Mapping[str, float] = field(default_factory=lambda: dict(THRESHOLDS))
    obs_model: pd.DataFrame | None = None

    @property
    def passed(self) -> bool:
        """True when nothing fails the gate."""
        return not self.failing

    def to_dataset(self) -> xr.Dataset:
        """The ``/diagnostics`` group of a result set."""
        t = self.table
        ds = xr.Dataset(
            {c: xr.DataArray(t[c].to_numpy(dtype=float if c != "ok" else np.int8),
                             dims=(PARAMETER,)) for c in t.columns},
            coords={PARAMETER: list(t.index)},
        )
        if self.obs_model is not None:
            om = self.obs_model
            for c in om.columns:
                ds[f"obs_model_{c}"] = xr.DataArray(
                    om[c].to_numpy(dtype=float if c != "ok" else np.int8), dims=(OBS_PARAMETER,),
                    coords={OBS_PARAMETER: list(om.index)},
                    attrs={"long_name": f"{c} of the observation-model parameter (claimant "
                                        "bias = claim / model value)", "units": "per parameter"})
        ds["divergences"] = xr.DataArray(np.int64(self.divergences))
        ds["tree_depth_saturation"] = xr.DataArray(float(self.tree_depth_saturation))
        ds["e_bfmi"] = xr.DataArray(np.asarray(self.e_bfmi, dtype=float), dims=(CHAIN,))
        ds.attrs.update({f"threshold_{k}": float(v) for k, v in self.thresholds.items()})
        ds.attrs["converged"] = "yes" if self.passed else "no"
        ds.attrs["failing"] = ", ".join(self.failing)
        ds.attrs["description"] = ("ArviZ diagnostics of the calibration: rank-normalised split "
                                   "R-hat, bulk/tail ESS, MCSE per parameter; divergences, "
                                   "tree-depth saturation, E-BFMI per chain")
        return ds


def _stat(ss: xr.Dataset, *names: str) -> xr.DataArray | None:
    for n in names:
        if n in ss:
            return ss[n]
    return None


def diagnose(idata: az.InferenceData, thresholds: Mapping[str, float] | None = None
             ) -> Diagnostics:
    """Compute the diagnostics of a calibration and apply the gate.

    Parameters
    ----------
    idata : arviz.InferenceData
        From :func:`kursk_da.calibration.calibrate` (posterior ``theta`` over
        ``parameter``; sample stats ``diverging``, ``energy``, ``reached_max_treedepth``).
    thresholds : mapping, optional
        Overrides of :data:`THRESHOLDS`.

    Returns
    -------
    Diagnostics
    """
    th = dict(THRESHOLDS)
    th.update(thresholds or {})
    post = idata["posterior"]["theta"]
    names = [str(p) for p in post[PARAMETER].values]
    summ = cast(  # a DataFrame in the default fmt="wide"
        pd.DataFrame,
        az.summary(idata, var_names=["theta"], kind="diagnostics", round_to="none"),
    )
    summ = summ.loc[[f"theta[{n}]" for n in names]]
    table = pd.DataFrame({
        "mean": post.mean((CHAIN, DRAW)).to_numpy(),
        "sd": post.std((CHAIN, DRAW)).to_numpy(),
        "mcse_mean": summ["mcse_mean"].to_numpy(dtype=float),
        "mcse_sd": summ["mcse_sd"].to_numpy(dtype=float),
        "ess_bulk": summ["ess_bulk"].to_numpy(dtype=float),
        "ess_tail": summ["ess_tail"].to_numpy(dtype=float),
        "r_hat": summ["r_hat"].to_numpy(dtype=float),
    }, index=pd.Index(names, name=PARAMETER))
    ok = ((table["r_hat"] <= th["r_hat_max"]) & (table["ess_bulk"] >= th["ess_bulk_min"])
          & (table["ess_tail"] >= th["ess_tail_min"]))
    table["ok"] = ok.astype(bool)
    obs_model = _obs_model_table(idata, th) if "obs_theta" in idata["posterior"] else None

    # a posterior given without the sampler's statistics (kd.analyze(posterior=...)): no
    # divergences or tree depths to count, and no E-BFMI (NaN: the gate fails on it)
    ss = idata["sample_stats"] if "sample_stats" in idata.groups() else xr.Dataset()
    div = _stat(ss, "diverging")
    n_div = int(div.sum()) if div is not None else 0
    depth = _stat(ss, "reached_max_treedepth", "maxdepth_reached")
    sat = float(depth.mean()) if depth is not None else 0.0
    e_bfmi = np.asarray(az.bfmi(idata)) if "energy" in ss else np.full(post.sizes[CHAIN], np.nan)

    failing = [str(p) for p in table.index[~table["ok"]]]
    if obs_model is not None:
        failing += [str(p) for p in obs_model.index[~obs_model["ok"]]]
    if n_div > th["divergences_max"]:
        failing.append("divergences")
    if np.any(~(e_bfmi >= th["e_bfmi_min"])):
        failing.append("e_bfmi")
    return Diagnostics(table, n_div, sat, e_bfmi, tuple(failing), th, obs_model)


def _obs_model_table(idata: az.InferenceData, th: Mapping[str, float]) -> pd.DataFrame:
    """Diagnostics and 90% intervals of the observation-model parameters (``obs_theta``)."""
    post = idata["posterior"]["obs_theta"]
    names = [str(p) for p in post[OBS_PARAMETER].values]
    summ = cast(pd.DataFrame, az.summary(idata, var_names=["obs_theta"], kind="diagnostics",
                                         round_to="none"))
    summ = summ.loc[[f"obs_theta[{n}]" for n in names]]
    flat = post.stack(s=(CHAIN, DRAW)).transpose(OBS_PARAMETER, "s").to_numpy()
    lo, med, hi = np.quantile(flat, [0.05, 0.5, 0.95], axis=1)
    t = pd.DataFrame({
        "mean": flat.mean(axis=1), "median": med, "lower_90": lo, "upper_90": hi,
        "ess_bulk": summ["ess_bulk"].to_numpy(dtype=float),
        "ess_tail": summ["ess_tail"].to_numpy(dtype=float),
        "r_hat": summ["r_hat"].to_numpy(dtype=float),
    }, index=pd.Index(names, name=OBS_PARAMETER))
    t["ok"] = ((t["r_hat"] <= th["r_hat_max"]) & (t["ess_bulk"] >= th["ess_bulk_min"])
               & (t["ess_tail"] >= th["ess_tail_min"])).astype(bool)
    return t


def diagnostics_table(diag: Diagnostics) -> str:
    """Fixed-width text table of the diagnostics, ending with the verdict line."""
    t = diag.table
    th = diag.thresholds
    w = max(9, *(len(str(p)) for p in t.index))
    head = (f"{'parameter':<{w}}  {'mean':>11}  {'sd':>10}  {'mcse':>9}  {'ess_bulk':>8}  "
            f"{'ess_tail':>8}  {'r_hat':>6}  ok")
    lines = [head, "-" * len(head)]
    for p, r in t.iterrows():
        lines.append(
            f"{p!s:<{w}}  {r['mean']:>11.4g}  {r['sd']:>10.3g}  {r['mcse_mean']:>9.2g}  "
            f"{r['ess_bulk']:>8.0f}  {r['ess_tail']:>8.0f}  {r['r_hat']:>6.3f}  "
            f"{'yes' if r['ok'] else 'NO'}"
        )
    if diag.obs_model is not None:
        from kursk_da.calibration._bias import bias_sentences

        om = diag.obs_model
        lines += ["", f"{'observation model':<{w}}  {'median':>11}  {'90% interval':>21}  "
                      f"{'ess_bulk':>8}  {'ess_tail':>8}  {'r_hat':>6}  ok"]
        for p, r in om.iterrows():
            iv = f"[{r['lower_90']:.3g}, {r['upper_90']:.3g}]"
            lines.append(f"{p!s:<{w}}  {r['median']:>11.4g}  {iv:>21}  {r['ess_bulk']:>8.0f}  "
                         f"{r['ess_tail']:>8.0f}  {r['r_hat']:>6.3f}  "
                         f"{'yes' if r['ok'] else 'NO'}")
        lines += ["claimant biases:", *("  " + x for x in bias_sentences(om)), ""]
    bfmi = ", ".join(f"{b:.2f}" for b in diag.e_bfmi)
    lines.append(f"divergences: {diag.divergences}; tree-depth saturation: "
                 f"{diag.tree_depth_saturation:.1%}; E-BFMI per chain: {bfmi}")
    lines.append(f"thresholds: R-hat <= {th['r_hat_max']:g}, ESS bulk/tail >= "
                 f"{th['ess_bulk_min']:g}, divergences <= {th['divergences_max']:g}, "
                 f"E-BFMI >= {th['e_bfmi_min']:g}")
    if diag.passed:
        lines.append("converged: yes")
    else:
        lines.append("converged: NO; failing: " + ", ".join(diag.failing))
    return "\n".join(lines)
