"""Physical domains of a spec's numbers, and the bounds of a run.

Domains
-------
Every campaign parameter, plan lever and observable quantity has a physical
domain in :mod:`kursk_da.dynamics.catalogue` (``Quantity.domain``: troops, areas,
rates and days ``>= 0``, fractions in ``[0, 1]``, the Lanchester exponent in
``(0, 1]``, a quantity whose logarithm or reciprocal the equations take ``> 0``;
every value finite). The spec refuses, with a :class:`~kursk_da.errors.SpecError`
naming the field:

* a **fixed value** outside the domain;
* a **distribution** whose support has a finite end outside the (closed) domain,
  or whose **central 99.9% interval** (the 0.05% and 99.95% quantiles) is not
  inside the domain. A distribution with an unbounded support (a normal for a
  number of troops) is accepted when its central 99.9% lies in the domain: at most
  0.05% of its draws fall outside on each side;
* a distribution whose values are **not finite** where a draw can reach them
  (the quantiles at normal scores of +-9, i.e. tail probabilities of 1e-19, must
  be finite: a lognormal with median 1e308 is refused);
* an **observation** whose value or interval lies outside its quantity's domain.

An uncertain option lever (an entry of ``[parameters]`` named by a plan lever) must
lie in the domain of every lever that uses it, intersected with the bounds of a
literal lever value (:data:`kursk_da.spec._plans._LEVER_BOUNDS`, e.g.
``force_scale`` in ``[0, 10]``, ``strike_intensity`` in ``[0, 1]``). Value weights
have no physical sign (the domain is every finite number): only finiteness is
checked.

Bounds of a run
---------------
* The decision date lies from :data:`EPOCH` (2024-08-06) to
  :data:`LATEST_DECISION_DATE` (2026-12-31), and the horizon is 1 to
  :data:`MAX_HORIZON_DAYS` (730) days: the model's dynamics are calibrated on the
  2024-2025 campaign and the simulated span stays below about 3.2 years.
* ``chunk_size`` is at most :data:`MAX_CHUNK_SIZE` (10**7 draws).
* Before anything is allocated, :func:`check_sizes` estimates the memory of a
  run of ``draws`` draws (the engine's arrays, which grow with draws x options and
  with chunk_size x days per thread, and the copies made by the decision summary
  and the result set) and refuses a run that needs more than
  :func:`memory_limit_bytes`: half the machine's physical memory
  (``os.sysconf``), or 8 GiB where that is unknown.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import warnings
from collections.abc import Iterable

import numpy as np
from scipy import special

from kursk_da.dynamics.catalogue import ATTRIBUTE_NAMES, TRAJECTORY_NAMES, Domain
from kursk_da.errors import SpecError
from kursk_da.spec._distributions import Distribution
from kursk_da.validation import check_int

__all__ = [
    "LATEST_DECISION_DATE",
    "MAX_HORIZON_DAYS",
    "MAX_CHUNK_SIZE",
    "CENTRAL_LEVEL",
    "check_distribution",
    "check_value",
    "intersect",
    "memory_estimate_bytes",
    "memory_limit_bytes",
    "check_sizes",
]

LATEST_DECISION_DATE = dt.date(2026, 12, 31)
"""Latest decision date a spec may have."""
MAX_HORIZON_DAYS = 730
"""Longest decision horizon, days."""
MAX_CHUNK_SIZE = 10**7
"""Largest number of draws per engine chunk."""
CENTRAL_LEVEL = 0.999
"""Probability content of the central interval that must lie in a parameter's domain."""
_TAIL_Z = 9.0  # normal score beyond which no draw goes (tail probability ~1e-19)
_COPIES = 4  # engine arrays + decision summary + result set + saving (analyst estimate)
_FALLBACK_LIMIT = 8 * 2**30


def intersect(domains: Iterable[Domain]) -> Domain:
    """The intersection of closed-or-open intervals (every domain of a shared input)."""
    lo, hi, lo_open, hi_open = -math.inf, math.inf, False, False
    for d in domains:
        if d.low > lo or (d.low == lo and d.low_open):
            lo, lo_open = d.low, d.low_open
        if d.high < hi or (d.high == hi and d.high_open):
            hi, hi_open = d.high, d.high_open
    if lo > hi:  # empty: keep a valid Domain that contains nothing finite but lo
        hi = lo
    return Domain(lo, hi, lo_open, hi_open)


def check_value(value: float, domain: Domain, path: str, what: str) -> None:
    """Refuse a number outside ``domain``.

    Parameters
    ----------
    value : float
        The number, in the quantity's units.
    domain : Domain
    path : str
        Dotted path of the field, for the error.
    what : str
        The quantity and its units, e.g. ``"ua_initial_force (troops)"``.

    Raises
    ------
    SpecError
    """
    if not domain.contains(value):
        raise SpecError(path, f"expected a finite value in {domain.describe()} for {what}, "
                              f"got {value!r}")


def check_distribution(dist: Distribution, domain: Domain, path: str, what: str) -> None:
    """Refuse a distribution that leaves ``domain`` (see the module docstring).

    Parameters
    ----------
    dist : Distribution
    domain : Domain
        The physical domain of the input.
    path : str
        Dotted path of the input, e.g. ``"parameters.ua_initial_force"``.
    what : str
        The quantity and its units, for the message.

    Raises
    ------
    SpecError
    """
    if dist.is_fixed:
        check_value(dist.params["value"], domain, path, what)
        return
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        lo_s, hi_s = dist.support
        z_c = float(special.ndtri(0.5 + 0.5 * CENTRAL_LEVEL))
        z = np.array([-_TAIL_Z, -z_c, z_c, _TAIL_Z])
        # exact quantiles ppf(Phi(z)), closed form where there is one (no scipy object)
        if dist.kind in ("normal", "lognormal"):
            x = dist.from_normal_scores(z)
        else:
            x = dist._exact_from_normal_scores(z)
        tails, q_lo, q_hi = x[[0, 3]], float(x[1]), float(x[2])
    if not (np.all(np.isfinite(tails)) and math.isfinite(q_lo) and math.isfinite(q_hi)):
        raise SpecError(path, f"{dist.describe()} gives non-finite values for {what} "
                              f"(tail values {tails[0]:g}, {tails[1]:g}); expected a "
                              "distribution with finite draws")
    closed = Domain(domain.low, domain.high)
    for end in (lo_s, hi_s):
        if math.isfinite(end) and not closed.contains(end):
            raise SpecError(path, f"the support [{lo_s:g}, {hi_s:g}] of {dist.describe()} "
                                  f"leaves the domain {domain.describe()} of {what}; expected "
                                  f"a distribution on {domain.describe()}")
    if not (domain.contains(q_lo) and domain.contains(q_hi)):
        raise SpecError(path, f"the central 99.9% interval [{q_lo:.6g}, {q_hi:.6g}] of "
                              f"{dist.describe()} leaves the domain {domain.describe()} of "
                              f"{what}; expected a distribution whose central 99.9% lies in "
                              f"{domain.describe()}")


def memory_limit_bytes() -> int:
    """The memory a run may use: half the physical memory, or 8 GiB if unknown."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return _FALLBACK_LIMIT
    return int(total // 2) if total > 0 else _FALLBACK_LIMIT


def memory_estimate_bytes(
    n_inputs: int, n_options: int, n_days: int, n_trajectories: int,
    draws: int, chunk_size: int, n_jobs: int | None = None, *,
    summary_draws: int = 0, cvar_alpha: float = 0.05,
) -> tuple[int, int]:
    """Estimated peak memory of a run, bytes: (part growing with draws, per-chunk part).

    Parameters
    ----------
    n_inputs, n_options, n_days, n_trajectories : int
        Columns of the input matrix, options, simulated days, stored trajectories.
    draws, chunk_size : int
        Draws of the run and per chunk.
    n_jobs : int, optional
        Threads (default: the number of CPUs).
    summary_draws : int, optional
        Draws reduced by a streamed summary (all the draws of a run whose per-draw data
        are kept for ``draws`` of them only); its exact CVaR keeps the
        ``floor(cvar_alpha * summary_draws) + 2`` lowest values of each option and their
        rows (16 bytes each).
    cvar_alpha : float, optional
        Tail fraction of the CVaR (default 0.05).

    Returns
    -------
    (by_draws, by_chunks) : tuple of int
        Bytes of the arrays sized by the draws (inputs, attributes, values, their
        copies, the per-chunk daily sums, the stored trajectories, the CVaR selection of
        a streamed summary) and of the per-thread work arrays sized by
        ``chunk_size x days``.
    """
    n_attr, n_vars = len(ATTRIBUTE_NAMES), len(TRAJECTORY_NAMES)
    n_chunks = -(-draws // chunk_size)
    jobs = min(n_jobs or os.cpu_count() or 1, n_chunks)
    by_draws = 8 * _COPIES * draws * (n_inputs + n_options * (n_attr + 1))
    by_draws += 16 * n_chunks * n_options * n_days
    by_draws += 16 * min(n_trajectories, draws) * n_options * n_days * n_vars
    if summary_draws:
        by_draws += 16 * n_options * (int(cvar_alpha * summary_draws) + 2)
    by_chunks = 8 * jobs * chunk_size * (n_days + 3 * n_inputs)
    return by_draws, by_chunks


def check_sizes(
    n_inputs: int, n_options: int, n_days: int, n_trajectories: int,
    draws: int, chunk_size: int, n_jobs: int | None = None, *,
    summary_draws: int = 0, cvar_alpha: float = 0.05,
) -> None:
    """Refuse a run too large for the machine, before anything is allocated.

    Parameters are those of :func:`memory_estimate_bytes`.

    Raises
    ------
    SpecError
        Path ``draws`` or ``chunk_size`` if not a positive integer, ``chunk_size``
        above :data:`MAX_CHUNK_SIZE`; path ``draws`` (or
        ``chunk_size`` when the per-chunk work arrays dominate) when the estimate
        exceeds :func:`memory_limit_bytes`, with the estimated GB.
    """
    draws = check_int(draws, "draws", minimum=1, error=SpecError)
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1, error=SpecError)
    if chunk_size > MAX_CHUNK_SIZE:
        raise SpecError("chunk_size", f"expected at most {MAX_CHUNK_SIZE:,} draws per chunk "
                                      "(the engine keeps a chunk_size x days work array per "
                                      f"thread), got {chunk_size:,}")
    by_draws, by_chunks = memory_estimate_bytes(n_inputs, n_options, n_days, n_trajectories,
                                                draws, chunk_size, n_jobs,
                                                summary_draws=summary_draws,
                                                cvar_alpha=cvar_alpha)
    limit = memory_limit_bytes()
    if by_draws + by_chunks > limit:
        field = "chunk_size" if by_chunks > by_draws else "draws"
        total = max(draws, summary_draws)
        raise SpecError(field, f"{total:,} draws x {n_options} options x {n_days} days "
                               f"(chunk_size {chunk_size:,}) need about "
                               f"{(by_draws + by_chunks) / 1e9:.3g} GB of memory, more than "
                               f"the limit of {limit / 1e9:.3g} GB (half the machine's "
                               f"memory); use fewer draws or a smaller chunk_size")
