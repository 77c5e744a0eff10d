"""A synthetic calibrated result set (ArviZ groups), for the plot and report tests.

It has the layout of ``docs/calibration.md`` (posterior over chain x draw with one
variable per sampled parameter and ``mu`` over ``observation``; ``y`` in
``posterior_predictive`` and ``observed_data``; ``sample_stats``; ``diagnostics``) but
its numbers are made up: it exercises the figures, not the sampler.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from kursk_da.io import spec_from_tree

__all__ = ["calibrated_tree"]

PARAMS = ("ru_reinforcement_ceiling", "ru_reinforcement_rate", "advance_speed")


def calibrated_tree(tree: xr.DataTree, *, chains: int = 2, draws: int = 120,
                    converged: bool = False, seed: int = 0) -> xr.DataTree:
    """``tree`` plus made-up posterior groups, marked ``analysis = "posterior"``."""
    rng = np.random.default_rng(seed)
    prior = tree["prior"].to_dataset()
    coords = {"chain": np.arange(chains), "draw": np.arange(draws)}
    post = {}
    for n in PARAMS:
        x = prior[n].values.ravel()
        post[n] = (("chain", "draw"), rng.normal(x.mean(), 0.4 * x.std(), (chains, draws)),
                   {"units": prior[n].attrs["units"]})
    obs = spec_from_tree(tree).observations  # inline or from the spec's data files
    names = [o.name for o in obs] or ["area_captured_aug"]
    vals = np.array([o.value for o in obs] or [1250.0])
    ocoords = {"observation": names, **coords}
    noise = np.exp(rng.normal(0, 0.3, (chains, draws, len(vals))))
    post["mu"] = (("chain", "draw", "observation"), vals * noise)
    post["theta"] = (("chain", "draw", "parameter"), np.stack([post[n][1] for n in PARAMS], -1))
    post["advance_speed_unit"] = (("chain", "draw"), rng.normal(size=(chains, draws)))
    dims3 = ("chain", "draw", "observation")
    opts = [str(o) for o in tree["decision"]["option"].values]
    groups = {p: tree[p].to_dataset() for p in tree.groups if p != "/"}
    groups.update({
        "/": tree.to_dataset(),
        "/posterior": xr.Dataset(post, coords={**ocoords, "parameter": list(PARAMS)}),
        "/posterior_predictive": xr.Dataset({"y": (dims3, vals * noise[::-1])}, coords=ocoords),
        "/observed_data": xr.Dataset({"y": (("observation",), vals)},
                                     coords={"observation": names}),
        "/sample_stats": xr.Dataset({
            "diverging": (("chain", "draw"), np.zeros((chains, draws), bool)),
            "energy": (("chain", "draw"), rng.normal(size=(chains, draws))),
            "tree_depth": (("chain", "draw"), np.full((chains, draws), 4))}, coords=coords),
        "/diagnostics": xr.Dataset({
            "r_hat": (("parameter",), [1.001, 1.002 if converged else 1.05, 1.0]),
            "ess_bulk": (("parameter",), [800.0, 900.0 if converged else 120.0, 900.0]),
            "contraction": (("parameter",), [0.5, 0.2, 0.7]),
            "ppc_observed": (("observation",), vals),
            "ppc_covered": (("observation",), np.ones(len(vals), np.int8)),
            "psens_prior": (("parameter",), [0.01, 0.08, 0.02]),
            "psens_likelihood": (("parameter",), [0.1, 0.2, 0.05]),
            "prior_sensitivity_pareto_k": (("prior_power",), [0.0, 0.3, 0.9]),
            "prior_sensitivity_best": (("prior_power",), ["withdraw"] * 3),
            "prior_sensitivity_ranking_changed": (("prior_power",),
                                                  np.zeros(3, np.int8)),
            "prior_sensitivity_ev": (("prior_power", "option"),
                                     np.arange(3.0 * len(opts)).reshape(3, -1)),
            "e_bfmi": (("chain",), np.full(chains, 0.9)),
            "divergences": ((), 0)},
            coords={"parameter": list(PARAMS), "observation": names,
                    "prior_power": [1.0, 0.5, 2.0], "option": opts},
            attrs={"converged": "yes" if converged else "no",
                   "ranking_depends_on_prior": "no"}),
    })
    out = xr.DataTree.from_dict(groups)
    out.attrs = {**tree.attrs, "analysis": "posterior", "converged": "yes" if converged else "no"}
    return out
