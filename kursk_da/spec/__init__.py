"""Model specs: TOML -> validated, typed :class:`Spec` objects; prior sampling."""

from kursk_da.spec._distributions import Distribution, parse_distribution
from kursk_da.spec._plans import EPOCH, Phase
from kursk_da.spec._sampling import sample_inputs
from kursk_da.spec._schema import (
    Correlation,
    Option,
    Parameter,
    Spec,
    as_spec,
    load_spec,
    spec_from_dict,
)

__all__ = [
    "Distribution",
    "parse_distribution",
    "EPOCH",
    "Phase",
    "sample_inputs",
    "Correlation",
    "Option",
    "Parameter",
    "Spec",
    "as_spec",
    "load_spec",
    "spec_from_dict",
]
