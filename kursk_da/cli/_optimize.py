"""``kursk-da optimize SRC --option NAME --search PARAM=LO:HI:STEP ... [--out PATH]``.

Chooses the trigger thresholds of a state-triggered option that maximise expected
value (optionally with ``--cvar-floor``) on one set of draws, re-estimates the chosen
policy on fresh draws (independent seed stream) and prints the value of flexibility
``EV(best policy) - EV(best fixed option)`` with its MCSE
(:func:`kursk_da.decision.optimize_policy`). ``SRC`` is a spec (``.toml``: prior draws)
or a result set (``.nc``: its stored spec; a posterior result set's input draws, half to
search and half to re-estimate). With ``--out`` a result set gains ``/policy/search``
and ``/policy/choice`` (a spec is analysed first, prior only, with ``--draws``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kursk_da.cli._common import (
    EXIT_OK,
    check_interrupted,
    check_out_file,
    check_plots_dir,
    positive_int,
    real_type,
    seed_type,
)
from kursk_da.dims import VALUE_UNITS
from kursk_da.errors import ArgumentError
from kursk_da.validation import fail

if TYPE_CHECKING:
    import numpy as np

    from kursk_da.decision import PolicyResult


__all__ = ["register", "run", "parse_search", "format_policy"]


MAX_GRID_POINTS = 10_000
"""The most points of an ``optimize`` grid (all ``--search`` axes multiplied). Analyst
judgement: a 100 x 100 grid; each point is an engine run of ``--draws`` draws (the
default 4000: 10^4 points are 4 x 10^7 engine draws, minutes on two cores). A larger
grid is refused before anything is computed (a 10^12-point grid failed after 1.4 s
with a MemoryError, exit 1)."""


def parse_search(items: list[str]) -> dict[str, np.ndarray]:
    """``["area_held=100:600:50", ...]`` -> ``{"area_held": array([100, 150, ..., 600])}``.

    ``LO:HI:STEP`` includes ``HI`` when it lies on the grid; ``a,b,c`` lists values.

    Raises
    ------
    ArgumentError
        Path ``--search`` for a malformed item, a non-finite number, ``STEP <= 0`` or
        ``HI < LO``; a grid of more than :data:`MAX_GRID_POINTS` points.
    """
    import numpy as np

    out: dict[str, np.ndarray] = {}
    total = 1
    for item in items:
        name, sep, spec = item.partition("=")
        if not sep or not name:
            fail("--search", f"expected PARAM=LO:HI:STEP, got {item!r}")
        try:
            if ":" in spec:
                lo, hi, step = (float(x) for x in spec.split(":"))
                if not all(np.isfinite([lo, hi, step])) or step <= 0 or hi < lo:
                    raise ValueError
                n = int(min((hi - lo) / step, 1e18)) + 1
                if total * n > MAX_GRID_POINTS:  # refused before np.arange allocates it
                    fail("--search", f"the grid has {total * n:.3g} points or more; expected "
                                     f"at most {MAX_GRID_POINTS} (all axes multiplied)")
                vals = np.arange(lo, hi + step * 1e-9, step)
            else:
                vals = np.array([float(x) for x in spec.split(",")])
        except ArgumentError:
            raise
        except ValueError:
            fail("--search", f"expected PARAM=LO:HI:STEP with finite numbers, STEP > 0 and "
                             f"HI >= LO (or PARAM=a,b,c), got {item!r}")
        total *= max(1, vals.size)
        out[name] = vals
    if total > MAX_GRID_POINTS:
        fail("--search", f"the grid has {total:.3g} points; expected at most "
                         f"{MAX_GRID_POINTS} (all axes multiplied)")
    return out


def register(sub: Any) -> None:
    """Add the ``optimize`` sub-parser (handler in ``handler``)."""
    p = sub.add_parser("optimize", help="optimise the trigger thresholds of a policy option")
    p.add_argument("source", type=Path, help="spec (.toml) or result set (.nc)")
    p.add_argument("--option", required=True, help="the option with a state-triggered phase")
    p.add_argument("--search", action="append", required=True, metavar="PARAM=LO:HI:STEP",
                   help="a trigger quantity (its threshold) or earliest_days/latest_days; "
                        "repeat for a grid")
    p.add_argument("--draws", type=positive_int, default=4000,
                   help="search draws (default 4000); as many fresh draws re-estimate")
    p.add_argument("--eval-draws", type=positive_int, default=None,
                   help="fresh draws of the re-estimate (default: --draws)")
    p.add_argument("--seed", type=seed_type, default=0, help="root seed (default 0)")
    p.add_argument("--cvar-floor", type=real_type(), default=None,
                   help="lowest acceptable CVaR of the policy (dkm2)")
    p.add_argument("--out", type=Path, default=None,
                   help="write a result set with /policy/search and /policy/choice")
    p.add_argument("--plots", type=Path, default=None, help="write the EV surface plot here")
    p.set_defaults(handler=run)


def format_policy(res: PolicyResult) -> str:
    """Console text of a :class:`~kursk_da.decision.PolicyResult`."""
    best = ", ".join(f"{k} = {v:g}" for k, v in res.best_thresholds.items())
    u = VALUE_UNITS
    lines = [
        f"policy search: {res.option}, {res.grid.shape[0]} grid points on {res.search_draws} "
        f"draws (seed {res.seed})",
        f"best thresholds: {best}  (search EV {res.search_ev[res.best]:,.1f} ± "
        f"{res.search_ev_mcse[res.best]:.1f} {u}; optimistic, not reported)",
        f"re-estimated on {res.eval_draws} fresh draws (independent stream):",
        f"  EV(best policy)       {res.eval_ev:>12,.1f} ± {res.eval_ev_mcse:.1f} {u}   "
        f"CVaR {res.eval_cvar:,.1f}",
    ]
    for name, ev, se in zip(res.fixed_options, res.eval_fixed_ev, res.eval_fixed_ev_mcse,
                            strict=True):
        mark = "  <- best fixed option" if name == res.best_fixed else ""
        lines.append(f"  EV({name}){'':<{max(0, 16 - len(name))}}{ev:>12,.1f} ± {se:.1f} {u}"
                     f"{mark}")
    lines.append(f"value of flexibility: {res.flexibility:,.1f} ± {res.flexibility_mcse:.1f} {u}"
                 f" (EV(best policy) - EV({res.best_fixed}), paired)")
    lines.append(f"trigger fires in {100 * res.fired_probability:.1f}% of draws, on average "
                 f"{res.trigger_day_mean:.1f} days after the decision date")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Handler of ``kursk-da optimize``."""
    import numpy as np

    from kursk_da.decision import optimize_policy, policy_datasets
    from kursk_da.io import load_result_set, save_result_set, spec_from_tree
    from kursk_da.io._atomic import save_figure
    from kursk_da.io._voi_groups import add_voi_groups
    from kursk_da.spec._schema import load_spec

    check_out_file(args.out)
    check_plots_dir(args.plots)
    search = parse_search(args.search)
    tree = None
    inputs = None
    if args.source.suffix == ".toml":
        spec = load_spec(args.source)
    else:
        tree = load_result_set(args.source)
        spec = spec_from_tree(tree)
        dec = tree["decision"].dataset
        if "inputs" in dec:
            inputs = np.asarray(dec["inputs"].values)
    res = optimize_policy(spec, args.option, search, draws=args.draws, seed=args.seed,
                          eval_draws=args.eval_draws, cvar_floor=args.cvar_floor, inputs=inputs)
    print(format_policy(res))
    groups = policy_datasets(res)
    if args.plots:
        import matplotlib

        matplotlib.use("Agg")
        from kursk_da.plots._policy import plot_policy_surface

        args.plots.mkdir(parents=True, exist_ok=True)
        fig = plot_policy_surface(groups["search"])
        path = args.plots / "policy_surface.png"
        save_figure(fig, path, dpi=100)
        print(f"plot written to {path}")
    if args.out:
        check_interrupted()
        if tree is None:
            from kursk_da.analysis import analyze

            tree = analyze(spec, args.draws, args.seed, prior_only=True)
        path = save_result_set(add_voi_groups(tree, policy=groups), args.out)
        print(f"result set written to {path}")
    return EXIT_OK
