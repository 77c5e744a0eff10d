"""``kursk-da sensitivity SRC [--draws N --seed S] [--out PATH] [--plots DIR] ...``.

Tornado with thresholds, Sobol' indices, first-order indices from the draws, the
scenarios side by side, the acceptability curve, the weight simplex and risk attitude;
with ``--out`` the result set gains ``/sensitivity`` and ``/scenarios``. ``SRC`` as for
``kursk-da voi``.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kursk_da.cli._analyze import add_cluster_options, cluster_client
from kursk_da.cli._common import (
    EXIT_OK,
    check_interrupted,
    check_out_file,
    check_plots_dir,
    load_source,
    positive_int,
    real_type,
)
from kursk_da.cli._log import LOGGER
from kursk_da.cli._voi import source_parser
from kursk_da.dims import OPTION, VALUE_UNITS
from kursk_da.errors import ResultFileError

if TYPE_CHECKING:
    from kursk_da.sensitivity._groups import (
        SensitivityGroups,
    )
    pass


__all__ = ["register", "run", "format_sensitivity"]


def register(sub: Any) -> None:
    """Add the ``sensitivity`` sub-parser (handler in ``handler``)."""
    s = sub.add_parser("sensitivity", parents=[source_parser()],
                       help="tornado, thresholds, Sobol' indices, scenarios, robustness")
    s.add_argument("--tornado-draws", type=positive_int, default=1000,
                   help="draws behind each one-way expected value (default 1000)")
    s.add_argument("--sobol-n", type=positive_int, default=256,
                   help="Sobol' base sample, a power of 2 (default 256)")
    s.add_argument("--risk-aversion", type=real_type(minimum=0.0, strict=True), default=1e-3,
                   help="exponential-utility risk aversion, 1/dkm2 (default 0.001)")
    s.add_argument("--no-tornado", action="store_true")
    s.add_argument("--no-sobol", action="store_true")
    s.add_argument("--no-scenarios", action="store_true")
    s.add_argument("--plots", type=Path, default=None, help="write PNG plots to this directory")
    add_cluster_options(s, "the Sobol' design and the scenarios")
    s.set_defaults(handler=run)


def format_sensitivity(res: SensitivityGroups, top: int = 10,
                       risk_aversion: float = 1e-3) -> str:
    """Text report of :func:`kursk_da.sensitivity._groups.sensitivity_groups`."""
    import numpy as np

    from kursk_da.sensitivity._groups import (
        main_effects_frame,
        scenarios_frame,
        sobol_frame,
        tornado_frame,
    )

    lines: list[str] = []
    if res.posterior:
        lines.append("posterior result set: the tornado sweeps under the posterior; Sobol' "
                     "indices and scenarios re-sample the spec's prior (Sobol' indices need "
                     "independent inputs; scenarios are not re-calibrated)\n")
    sens, scen = res.sensitivity, res.scenarios
    if "tornado" in sens:
        t = sens["tornado"]
        lines.append(f"tornado ({t.attrs['distribution']}) of EV({t.attrs['leader']}) - "
                     f"EV({t.attrs['runner_up']}) over 5%-95% ({VALUE_UNITS}); threshold = "
                     "input value where the best option changes")
        frame = tornado_frame(t)
        for p, (lo, hi, _, thr, below, above) in zip(
                frame.index[:top], frame.head(top).itertuples(index=False, name=None),
                strict=True):
            extra = (f"  threshold {float(thr):.4g}: {below} -> {above}"
                     if np.isfinite(thr) else "")
            lines.append(f"  {p:<26}{float(lo):>10,.1f} ..{float(hi):>10,.1f}{extra}")
    if "sobol" in sens:
        s = sens["sobol"]
        lines.append(f"\nSobol' indices (prior) of {s.attrs['leader']} - {s.attrs['runner_up']} "
                     f"(top {top})")
        frame = sobol_frame(s)
        for p, (s1, st) in zip(frame.index[:top],
                               frame.head(top).itertuples(index=False, name=None), strict=True):
            lines.append(f"  {p:<26} S1 {float(s1):6.3f}  ST {float(st):6.3f}")
    me = sens["main_effects"]
    lines.append(f"\nfirst-order indices ({me.attrs['distribution']} draws, valid for dependent "
                 f"inputs) of {me.attrs['leader']} - {me.attrs['runner_up']} (top {top})")
    frame = main_effects_frame(me)
    for p, (s1, se) in zip(frame.index[:top], frame.head(top).itertuples(index=False, name=None),
                           strict=True):
        lines.append(f"  {p:<26} S1 {float(s1):6.3f} ± {float(se):.3f}")
    if "summary" in scen:
        sc = scenarios_frame(scen["summary"])
        lines.append(f"\nscenarios (prior): expected value ({VALUE_UNITS}) and best option")
        lines.append(sc.drop(columns="best").round(1).to_string())
        lines += [f"  {n:<24} best: {b}" for n, b in sc["best"].items()]
    if "simplex" in scen:
        sx, ra = scen["simplex"], scen["risk"]
        shares = ", ".join(f"{o} {v:.0%}" for o, v in
                           zip(sx[OPTION].values, sx["region_share"].values, strict=True))
        lines.append(f"\nweight simplex ({sx.attrs['weights']}): share of trade-offs where best: "
                     f"{shares}")
        lines.append(f"risk aversion {risk_aversion:g}/{VALUE_UNITS}: best risk-neutral "
                     f"{ra.attrs['best_risk_neutral']}, best risk-averse "
                     f"{ra.attrs['best_risk_averse']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Handler of ``kursk-da sensitivity``."""
    from kursk_da.io import save_result_set
    from kursk_da.io._draws import draws_from_tree
    from kursk_da.io._voi_groups import add_voi_groups
    from kursk_da.sensitivity._groups import check_sensitivity_arguments, sensitivity_groups

    check_out_file(args.out)  # before any computing
    check_plots_dir(args.plots)
    check_sensitivity_arguments(seed=args.seed, tornado_draws=args.tornado_draws,
                                sobol_n=args.sobol_n, scenario_draws=args.draws,
                                risk_aversion=args.risk_aversion)
    spec, tree = load_source(args.source, args.draws, args.seed)
    draws = draws_from_tree(tree)
    if draws.names != spec.input_names or draws.options != spec.option_names:
        raise ResultFileError(f"{args.source}: the stored draws do not match the stored spec "
                              "(inputs or options differ)")
    with contextlib.ExitStack() as stack:
        client = cluster_client(stack, args, what="sensitivity")
        res = sensitivity_groups(
            spec, tree, draws, seed=args.seed, tornado_draws=args.tornado_draws,
            sobol_n=args.sobol_n, scenario_draws=args.draws, risk_aversion=args.risk_aversion,
            with_tornado=not args.no_tornado, with_sobol=not args.no_sobol,
            with_scenarios=not args.no_scenarios, client=client)
    print(format_sensitivity(res, args.top, args.risk_aversion))
    if not (args.plots or args.out):
        return EXIT_OK
    done = add_voi_groups(tree, sensitivity=res.sensitivity or None,
                          scenarios=res.scenarios or None)
    if args.plots:
        from kursk_da.plots._voi import save_all_plots  # matplotlib: only when plotting

        for path in save_all_plots(done, args.plots):
            LOGGER.info("plot written to %s", path)
    if args.out:
        check_interrupted()
        path = save_result_set(done, args.out)
        LOGGER.info("result set written to %s", path)
    return EXIT_OK
