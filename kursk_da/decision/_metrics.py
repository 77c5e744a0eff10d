"""NumPy core of the decision summary (no xarray here).

All functions take ``values``: an array of shape ``(n_draws, n_options)`` whose
entry ``[i, j]`` is the value (higher is better, in :data:`kursk_da.dims.VALUE_UNITS`)
of option ``j`` under Monte Carlo draw ``i``.  The standard errors of
:func:`expected_value` and :func:`evpi_se_core` assume independent draws (prior Monte
Carlo); :func:`mcse_all` gives those of every metric under the sampling design (below).

Definitions (``v`` = values, ``n`` = draws, ``E`` = mean over draws):

* expected value ``EV_j = E[v_ij]``, Monte Carlo standard error ``sd_j / sqrt(n)``;
* probability best ``P_j = E[1{j = argmax_k v_ik}]`` (ties go to the first option);
* regret ``r_ij = max_k v_ik - v_ij`` and expected regret ``E[r_ij]``;
* ``CVaR_alpha,j`` = mean of the worst ``alpha`` fraction of ``v_.j`` (lower tail,
  the Rockafellar-Uryasev estimator with a fractional weight on the boundary draw);
* ``EVPI = E[max_k v_ik] - max_k E[v_ik]``, with standard error
  ``sd(max_k v_ik - v_ij*) / sqrt(n)`` where ``j*`` is the option of highest EV.

Monte Carlo standard errors and the sampling design
---------------------------------------------------
Every reported quantity is (to first order) the mean of a per-draw quantity ``f_i``
(its *influence values*, :func:`influence_values`): ``v_ij`` for the expected value,
``v_ij - v_ij*`` for the difference to the option of highest EV, ``1{j best}`` for the
probability best, ``r_ij`` for the expected regret, ``max_k v_ik - v_ij*`` for the EVPI
(``j*`` held fixed) and, for CVaR, ``q_j + min(v_ij - q_j, 0) / alpha`` with ``q_j`` the
``alpha`` quantile (the influence function of the Rockafellar-Uryasev estimator; the
derivative in ``q`` vanishes at the quantile, so plugging in the estimate is first-order
exact). :func:`mean_mcse` is the standard error of the mean of ``f``:

* independent draws (``chains=None``, prior Monte Carlo): ``sd(f, ddof=1) / sqrt(n)``;
* a posterior analysis (``chains=(n_chain, n_draw)``, rows chain-major, ``per_draw``
  consecutive replicate rows per posterior draw): ``f`` is averaged over the replicates of
  each posterior draw and the MCSE of the mean of these ``(n_chain, n_draw)`` means is
  ArviZ's ``az.mcse(..., method="mean")`` (the ESS of the chains). The replicates of a draw
  are independent given the draw, so this counts their noise once and the chains'
  autocorrelation in full.

The EVPI core (:func:`evpi_core`, :func:`evpi_se_core`) and the array check
(:func:`as_values_array`) are general-purpose statistics defined in
:mod:`kursk_da.stats` and used here.
"""

from __future__ import annotations

import numpy as np

from kursk_da.stats import as_values_array, evpi_core, evpi_se_core
from kursk_da.stats._moments import BlockMoments, block_moments

__all__ = [
    "as_values_array",
    "expected_value",
    "prob_best",
    "regret",
    "cvar",
    "evpi_core",
    "evpi_se_core",
    "mean_mcse",
    "influence_values",
    "mcse_all",
    "MCSE_QUANTITIES",
    "StreamingSummary",
    "leader_and_runner_up",
    "same_value_as",
]

MCSE_QUANTITIES = ("expected_value", "value_difference", "prob_best", "expected_regret",
                   "cvar", "evpi")
"""The quantities of :func:`influence_values` (and :func:`mcse_all`), in order."""


def expected_value(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expected value of each option and its Monte Carlo standard error.

    Returns
    -------
    mean, mcse : numpy.ndarray, shape (n_options,)
    """
    n = values.shape[0]
    mean = values.mean(axis=0)
    sd = values.std(axis=0, ddof=1) if n > 1 else np.full(values.shape[1], np.nan)
    return mean, sd / np.sqrt(n)


def prob_best(values: np.ndarray) -> np.ndarray:
    """Probability that each option has the highest value, shape (n_options,)."""
    best = np.argmax(values, axis=1)
    prob: np.ndarray = np.bincount(best, minlength=values.shape[1]) / values.shape[0]
    return prob


def regret(values: np.ndarray) -> np.ndarray:
    """Regret of each option under each draw, ``max_k v_ik - v_ij`` (>= 0)."""
    out: np.ndarray = values.max(axis=1, keepdims=True) - values
    return out


def cvar(values: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Conditional value at risk: mean of the worst ``alpha`` fraction of outcomes.

    Parameters
    ----------
    values : numpy.ndarray, shape (n_draws, n_options)
    alpha : float
        Tail probability in (0, 1].

    Returns
    -------
    numpy.ndarray, shape (n_options,)
        ``CVaR_alpha`` of each option, in the units of ``values`` (lower is worse).
    """
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha: expected a probability in (0, 1], got {alpha}")
    n = values.shape[0]
    srt = np.sort(values, axis=0)
    k = alpha * n  # number of draws in the tail, possibly fractional
    whole = int(np.floor(k))
    frac = k - whole
    total = srt[:whole].sum(axis=0)
    if frac > 0 and whole < n:
        total = total + frac * srt[whole]
    out: np.ndarray = total / k
    return out


def _arviz_mcse_mean(g: np.ndarray) -> float:
    """ArviZ MCSE of the mean of a (chain, draw) array; 0 for a constant array."""
    if np.ptp(g) == 0:
        return 0.0
    import arviz as az  # slow to import: only posterior analyses need it

    return float(np.asarray(az.mcse(g, method="mean")).ravel()[0])


def mean_mcse(
    f: np.ndarray, chains: tuple[int, int] | None = None, per_draw: int = 1
) -> np.ndarray:
    """Monte Carlo standard error of the mean of per-row quantities.

    Parameters
    ----------
    f : numpy.ndarray, shape (n_rows,) or (n_rows, k)
        Per-row quantity (any unit); the mean is taken over rows.
    chains : (n_chain, n_draw), optional
        The rows are MCMC draws, chain-major, ``per_draw`` consecutive rows per
        posterior draw (``n_rows = n_chain * n_draw * per_draw``). None: independent rows.
    per_draw : int
        Replicate rows per posterior draw (only with ``chains``).

    Returns
    -------
    numpy.ndarray, shape (k,) (a 0-d array for 1-d ``f``)
        In the units of ``f``; NaN for fewer than two rows (independent case).
    """
    f = np.asarray(f, dtype=float)
    flat = f.reshape(f.shape[0], -1)
    n = flat.shape[0]
    if chains is None:
        if n < 2:
            out = np.full(flat.shape[1], np.nan)
        else:
            out = flat.std(axis=0, ddof=1) / np.sqrt(n)
    else:
        n_chain, n_draw = (int(c) for c in chains)
        if n_chain * n_draw * per_draw != n:
            raise ValueError(f"chains, per_draw: {n_chain} x {n_draw} x {per_draw} rows "
                             f"expected, got {n}")
        g = flat.reshape(n_chain, n_draw, per_draw, -1).mean(axis=2)
        out = np.array([_arviz_mcse_mean(g[..., j]) for j in range(g.shape[-1])])
    return out.reshape(f.shape[1:])


def influence_values(values: np.ndarray, alpha: float = 0.05) -> dict[str, np.ndarray]:
    """Per-draw quantities whose means are the reported metrics (module docstring).

    Parameters
    ----------
    values : numpy.ndarray, shape (n_draws, n_options)
    alpha : float
        CVaR tail probability in (0, 1].

    Returns
    -------
    dict
        Keys :data:`MCSE_QUANTITIES`; arrays of shape (n_draws, n_options), except
        ``evpi`` (n_draws,). In the units of ``values`` (``prob_best``: 1).
    """
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha: expected a probability in (0, 1], got {alpha}")
    n, k = values.shape
    jstar = int(np.argmax(values.mean(axis=0)))
    vmax = values.max(axis=1)
    best = np.zeros((n, k))
    best[np.arange(n), np.argmax(values, axis=1)] = 1.0
    q = np.quantile(values, alpha, axis=0)
    return {
        "expected_value": values,
        "value_difference": values - values[:, [jstar]],
        "prob_best": best,
        "expected_regret": vmax[:, None] - values,
        "cvar": q + np.minimum(values - q, 0.0) / alpha,
        "evpi": vmax - values[:, jstar],
    }


def mcse_all(
    values: np.ndarray,
    alpha: float = 0.05,
    chains: tuple[int, int] | None = None,
    per_draw: int = 1,
) -> dict[str, np.ndarray]:
    """MCSE of every metric of :data:`MCSE_QUANTITIES` under the sampling design.

    Parameters
    ----------
    values : numpy.ndarray, shape (n_draws, n_options)
    alpha : float
        CVaR tail probability.
    chains, per_draw
        The sampling design, as in :func:`mean_mcse`.

    Returns
    -------
    dict
        Keys :data:`MCSE_QUANTITIES`; arrays of shape (n_options,) (``evpi``: 0-d), in
        the units of the metric. Independent rows give exactly ``sd / sqrt(n)``, the
        standard errors of :func:`expected_value` and :func:`evpi_se_core`.
    """
    return {name: mean_mcse(f, chains, per_draw)
            for name, f in influence_values(values, alpha).items()}


def same_value_as(values: np.ndarray) -> np.ndarray:
    """For each option, the first option with the same value in every draw.

    Parameters
    ----------
    values : array (n_draws, n_options)

    Returns
    -------
    ndarray of int (n_options,)
        ``rep[j]`` is the first column equal to column ``j`` in every row (``j`` itself
        when no earlier column is): options with the same actions in every draw, such as
        a rule whose trigger fires at once, share their ``rep``.
    """
    v = as_values_array(values)
    rep = np.arange(v.shape[1])
    for j in range(v.shape[1]):
        for i in range(j):
            if rep[i] == i and np.array_equal(v[:, i], v[:, j]):
                rep[j] = i
                break
    return rep


def leader_and_runner_up(values: np.ndarray) -> tuple[int, int]:
    """The two options a sensitivity analysis compares: their column indices.

    Parameters
    ----------
    values : array (n_draws, n_options)
        Values of at least two options (dkm2).

    Returns
    -------
    (int, int)
        The leader: the highest mean value (the first option among equal means). The
        runner-up: the best of the other options whose value differs from the leader's in
        at least one draw. An option with the same value in every draw (a rule whose
        trigger fires at once takes another option's actions) would make the difference
        constant, and a sensitivity analysis of a constant has nothing to say; when every
        option equals the leader, the second option by mean value.
    """
    v = as_values_array(values)
    if v.shape[1] < 2:
        raise ValueError(f"values: expected at least two options, got {v.shape[1]}")
    order = np.argsort(-v.mean(axis=0), kind="stable")
    lead = int(order[0])
    rep = same_value_as(v)
    others = [int(j) for j in order[1:] if rep[j] != rep[lead]]
    return lead, others[0] if others else int(order[1])


class StreamingSummary:
    """Every metric of the decision summary, reduced block by block (bounded memory).

    Feed the values of consecutive rows in order (:meth:`add`), then :meth:`result`.
    The results equal those of :func:`expected_value`, :func:`prob_best`, the mean of
    :func:`regret`, :func:`cvar`, :func:`evpi_core` and :func:`mcse_all` on all rows up
    to rounding, and are a deterministic function of the rows and of the block
    boundaries (the engine's fixed blocks: not of how the work was split).

    * Means and co-moments of ``(v_1 .. v_k, max_j v_j)`` are combined block by block
      with the pairwise update of Chan, Golub and LeVeque (1979); variances of
      differences (``v_j - v_j*``, regret, EVPI) follow from the co-moment matrix.
      Each block's own moments (:func:`kursk_da.stats._moments.block_moments`) are
      computed by the engine beside the block when it passes them to :meth:`add`.
    * The probability best counts the argmax of each row (integers, exact).
    * CVaR is exact: a selection keeps, per option, the ``floor(alpha n) + 2``
      smallest values (and, for a posterior analysis, their rows; buffer compacted with
      ``argpartition`` when it grows by an eighth; a value is dropped only when it is
      above the current cut), about ``9 alpha n`` bytes per option (``18 alpha n`` with
      the rows): the only memory of a run that grows with the draws (issue 27). The
      ``alpha`` quantile (linear interpolation, as ``numpy.quantile``), the tail mean
      with its fractional boundary weight and the influence values ``q + min(v - q, 0) /
      alpha`` (non-zero only in the kept tail) come from the kept values.
    * With ``chains`` (posterior analyses) the per-posterior-draw sums of ``v``,
      ``max v`` and the best indicators are accumulated (``n_chain x n_draw`` rows),
      so the MCSEs are ArviZ's on the per-posterior-draw means, as in :func:`mean_mcse`.

    Parameters
    ----------
    n_options : int
    n_rows : int
        Rows that will be added in total.
    alpha : float
        CVaR tail probability in (0, 1].
    chains : (n_chain, n_draw), optional
    per_draw : int
        Replicate rows per posterior draw (only with ``chains``).
    """

    def __init__(self, n_options: int, n_rows: int, alpha: float = 0.05,
                 chains: tuple[int, int] | None = None, per_draw: int = 1) -> None:
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha: expected a probability in (0, 1], got {alpha}")
        k = int(n_options)
        self.k, self.n_rows, self.alpha = k, int(n_rows), float(alpha)
        self.chains, self.per_draw = chains, int(per_draw)
        if chains is not None and int(chains[0]) * int(chains[1]) * self.per_draw != n_rows:
            raise ValueError(f"chains, per_draw: {chains[0]} x {chains[1]} x {per_draw} rows "
                             f"expected, got {n_rows}")
        self.n = 0
        self._result: dict[str, np.ndarray] | None = None
        self.mean = np.zeros(k + 1)
        self.m2 = np.zeros((k + 1, k + 1))
        self.best = np.zeros(k, dtype=np.int64)
        self.keep = min(self.n_rows, int(np.floor(alpha * self.n_rows)) + 2)
        self._tail_v: list[list[np.ndarray]] = [[] for _ in range(k)]
        self._tail_r: list[list[np.ndarray]] = [[] for _ in range(k)]
        self._tail_size = np.zeros(k, dtype=np.int64)
        self._cut = np.full(k, np.inf)
        if chains is not None:
            n_post = int(chains[0]) * int(chains[1])
            self.group = np.zeros((n_post, 2 * k + 1))

    def add(self, values: np.ndarray, start: int, moments: BlockMoments | None = None
            ) -> None:
        """Add rows ``start .. start + len(values) - 1`` (in order, no gaps).

        ``moments`` are :func:`kursk_da.stats._moments.block_moments` of ``values`` when
        already computed (the engine computes them with the block, on the worker);
        by default they are computed here. Either way the numbers are the same.
        """
        v = np.asarray(values, dtype=float)
        if start != self.n:
            raise ValueError(f"start: expected row {self.n}, got {start}")
        m = v.shape[0]
        if m == 0:
            return
        mom = block_moments(v) if moments is None else moments
        if mom.n != m or mom.best.shape != (self.k,):
            raise ValueError(f"moments: expected the moments of {m} rows of {self.k} "
                             f"options, got {mom.n} rows of {mom.best.shape[0]}")
        n_a, n = self.n, self.n + m
        delta = mom.mean - self.mean
        self.mean = self.mean + delta * (m / n)
        self.m2 = self.m2 + mom.m2 + np.outer(delta, delta) * (n_a * m / n)
        self.n = n
        self.best += mom.best
        rows = np.arange(start, start + m, dtype=np.int64)
        slack = max(4096, self.keep // 8)
        for j in range(self.k):
            col = v[:, j]
            if np.isfinite(self._cut[j]):
                sel = col < self._cut[j]
                self._tail_v[j].append(col[sel])
                if self.chains is not None:
                    self._tail_r[j].append(rows[sel])
            else:  # copies: a view would keep the whole block alive
                self._tail_v[j].append(col.copy())
                if self.chains is not None:
                    self._tail_r[j].append(rows)
            self._tail_size[j] += self._tail_v[j][-1].size
            if self._tail_size[j] >= self.keep + slack:
                self._compact(j, final=False)
        if self.chains is not None:
            vmax = v.max(axis=1)
            arg = np.argmax(v, axis=1)
            g = rows // self.per_draw
            g0 = int(g[0])
            gl = g - g0
            n_g = int(gl[-1]) + 1
            best = np.zeros((m, self.k))
            best[np.arange(m), arg] = 1.0
            cols = np.column_stack([v, vmax, best])
            part = np.stack([np.bincount(gl, weights=cols[:, c], minlength=n_g)
                             for c in range(cols.shape[1])], axis=1)
            self.group[g0:g0 + n_g] += part

    def _compact(self, j: int, final: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Keep the ``keep`` smallest values of option ``j`` (and, with ``chains``, their
        rows; without, the rows returned are empty); sorted by value, then row, only for
        the ``final`` read (interim compactions need no order: the selection is a
        deterministic function of the blocks either way, and without rows only the
        values, not which of equal values was kept, enter the metrics)."""
        vals = np.concatenate(self._tail_v[j]) if self._tail_v[j] else np.zeros(0)
        self._tail_v[j] = []
        with_rows = self.chains is not None
        rows = (np.concatenate(self._tail_r[j]) if with_rows and self._tail_r[j]
                else np.zeros(0, dtype=np.int64))
        self._tail_r[j] = []
        if vals.size > self.keep:
            idx = np.argpartition(vals, self.keep - 1)[: self.keep]
            vals = vals[idx]
            if with_rows:
                rows = rows[idx]
            del idx
            self._cut[j] = vals.max()
        if final:
            if with_rows:
                order = np.lexsort((rows, vals))
                vals, rows = vals[order], rows[order]
            else:
                vals = np.sort(vals)
        self._tail_v[j], self._tail_r[j] = [vals], [rows]
        self._tail_size[j] = vals.size
        return vals, rows

    def result(self) -> dict[str, np.ndarray]:
        """The metrics of all rows.

        Returns
        -------
        dict
            ``expected_value``, ``prob_best``, ``expected_regret``, ``cvar``,
            ``value_difference`` (n_options,), ``evpi`` (0-d), ``quantile`` (the
            ``alpha`` quantile of each option), ``group_means`` ((n_chain * n_draw,
            n_options) per-posterior-draw mean values, posterior only) and
            ``<name>_mcse`` for every name of :data:`MCSE_QUANTITIES`.
        """
        if self._result is not None:
            return dict(self._result)
        self._result = self._compute()
        return dict(self._result)

    def _compute(self) -> dict[str, np.ndarray]:
        if self.n != self.n_rows:
            raise ValueError(f"{self.n} rows added, {self.n_rows} expected")
        n, k, alpha = self.n, self.k, self.alpha
        mu = self.mean[:k]
        mmax = self.mean[k]
        jstar = int(np.argmax(mu))
        c = self.m2
        out: dict[str, np.ndarray] = {
            "expected_value": mu.copy(),
            "value_difference": mu - mu.max(),
            "prob_best": self.best / n,
            "expected_regret": mmax - mu,
            "evpi": np.asarray(max(float(mmax - mu.max()), 0.0)),
        }
        cv, q = np.empty(k), np.empty(k)
        tails = []
        kk = alpha * n
        whole = int(np.floor(kk))
        frac = kk - whole
        h = alpha * (n - 1)
        lo = int(np.floor(h))
        t = h - lo
        for j in range(k):
            vals, rows = self._compact(j)
            total = vals[:whole].sum()
            if frac > 0 and whole < n:
                total = total + frac * vals[whole]
            cv[j] = total / kk
            a = vals[lo]
            b = vals[min(lo + 1, vals.size - 1)]
            diff = b - a
            q[j] = b - diff * (1 - t) if t >= 0.5 else a + diff * t
            below = vals < q[j]
            tails.append((vals[below] - q[j], rows[below] if rows.size else rows))
        out["cvar"], out["quantile"] = cv, q
        if self.chains is None:
            def sd_mean(var: np.ndarray | float) -> np.ndarray:
                arr = np.asarray(var, dtype=float)
                if n < 2:
                    return np.full(arr.shape, np.nan)
                res: np.ndarray = np.sqrt(np.maximum(arr, 0.0) / (n - 1) / n)
                return res

            diag = np.diag(c)[:k]
            out["expected_value_mcse"] = sd_mean(diag)
            out["value_difference_mcse"] = sd_mean(diag + c[jstar, jstar] - 2 * c[:k, jstar])
            p = self.best / n
            out["prob_best_mcse"] = sd_mean(p * (1 - p) * n)
            out["expected_regret_mcse"] = sd_mean(c[k, k] + diag - 2 * c[:k, k])
            out["evpi_mcse"] = sd_mean(c[k, k] + c[jstar, jstar] - 2 * c[k, jstar])
            cm = np.empty(k)
            for j, (d, _) in enumerate(tails):
                s1, s2 = d.sum(), (d * d).sum()
                cm[j] = (s2 - s1 * s1 / n) / alpha**2
            out["cvar_mcse"] = sd_mean(cm)
            return out
        n_chain, n_draw = (int(x) for x in self.chains)
        gm = self.group / self.per_draw  # (n_post, 2k + 1): means of v, vmax, best
        out["group_means"] = gm[:, :k]
        cf = np.repeat(q[None, :], gm.shape[0], axis=0)
        for j, (d, rows) in enumerate(tails):
            cf[:, j] += np.bincount(rows // self.per_draw, weights=d,
                                    minlength=gm.shape[0]) / (self.per_draw * alpha)
        f = {
            "expected_value": gm[:, :k],
            "value_difference": gm[:, :k] - gm[:, [jstar]],
            "prob_best": gm[:, k + 1:],
            "expected_regret": gm[:, [k]] - gm[:, :k],
            "cvar": cf,
            "evpi": gm[:, k] - gm[:, jstar],
        }
        for name, g in f.items():
            g2 = g.reshape(n_chain, n_draw, -1)
            se = np.array([_arviz_mcse_mean(g2[..., i]) for i in range(g2.shape[-1])])
            out[f"{name}_mcse"] = se.reshape(np.shape(g)[1:])
        return out
