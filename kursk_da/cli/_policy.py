"""``kursk-da policy SRC --out PATH``: every reactive-strategy analysis with its defaults.

This module also registers the sub-commands ``optimize``, ``waiting``, ``intelligence``
and ``twoway`` (one registration in :func:`kursk_da.cli.build_parser`).

Runs, on the spec or result set ``SRC``: the policy search of ``--option`` (default
``hold_until_untenable``) over :data:`kursk_da.decision._policy.DEFAULT_SEARCH`, the value
of waiting, the EVSI of intelligence reports on Russian troops in Kursk on 1 February 2025
and the two-way map, and writes one result set with ``/policy/*``, ``/waiting``,
``/intelligence`` and ``/twoway`` (``make report`` uses it). Each part has its own
sub-command with all the options (``optimize``, ``waiting``, ``intelligence``,
``twoway``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kursk_da.cli import _intelligence, _optimize, _twoway, _waiting
from kursk_da.cli._common import EXIT_OK, check_interrupted, check_out_file, positive_int, seed_type
from kursk_da.cli._intelligence import format_intelligence
from kursk_da.cli._optimize import format_policy
from kursk_da.cli._twoway import format_twoway
from kursk_da.cli._waiting import format_waiting, load_spec_and_inputs

if TYPE_CHECKING:
    pass


__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the sub-parsers of issue 13: ``optimize``, ``waiting``, ``intelligence``,
    ``twoway`` and ``policy`` (handlers in ``handler``)."""
    for module in (_optimize, _waiting, _intelligence, _twoway):
        module.register(sub)
    p = sub.add_parser("policy", help="every reactive-strategy analysis with its defaults")
    p.add_argument("source", type=Path, help="spec (.toml) or result set (.nc)")
    p.add_argument("--option", default="hold_until_untenable",
                   help="the triggered option to optimise (default hold_until_untenable)")
    p.add_argument("--draws", type=positive_int, default=3000,
                   help="draws of each analysis (default 3000; the two-way map a third)")
    p.add_argument("--seed", type=seed_type, default=0, help="root seed (default 0)")
    p.add_argument("--out", type=Path, required=True, help="result set with the new groups")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Handler of ``kursk-da policy``."""
    from kursk_da.decision import optimize_policy, policy_datasets
    from kursk_da.decision._policy import DEFAULT_SEARCH
    from kursk_da.io import save_result_set
    from kursk_da.io._voi_groups import add_voi_groups
    from kursk_da.sensitivity import two_way
    from kursk_da.voi import evsi_intelligence, value_of_waiting

    check_out_file(args.out)
    spec, tree, inputs = load_spec_and_inputs(args.source)
    res = optimize_policy(spec, args.option, DEFAULT_SEARCH, draws=args.draws, seed=args.seed,
                          inputs=inputs)
    print(format_policy(res), end="\n\n")
    check_interrupted()
    waiting = value_of_waiting(spec, draws=args.draws, seed=args.seed, inputs=inputs)
    print(format_waiting(waiting), end="\n\n")
    check_interrupted()
    intel = evsi_intelligence(spec, draws=args.draws, seed=args.seed, inputs=inputs)
    print(format_intelligence(intel), end="\n\n")
    check_interrupted()
    # every third row (posterior rows are chain-major: a thinned subset keeps every chain)
    sub_inputs = None if inputs is None else inputs[:: 3 if inputs.shape[0] >= 30 else 1]
    twoway = two_way(spec, draws=max(10, args.draws // 3), seed=args.seed, inputs=sub_inputs)
    print(format_twoway(twoway))
    check_interrupted()
    if tree is None:
        from kursk_da.analysis import analyze

        tree = analyze(spec, args.draws, args.seed, prior_only=True)
    path = save_result_set(add_voi_groups(tree, policy=policy_datasets(res), waiting=waiting,
                                          intelligence=intel, twoway=twoway), args.out)
    print(f"result set written to {path}")
    return EXIT_OK
