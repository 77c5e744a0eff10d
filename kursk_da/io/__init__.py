"""Result sets: build, save (atomic netCDF), load and validate; a run's draws as arrays."""

from kursk_da.io.draws import CampaignDraws, draws_from_spec, draws_from_tree
from kursk_da.io.resultset import (
    build_result_set,
    load_result_set,
    save_result_set,
    spec_from_tree,
    validate_result_set,
)
from kursk_da.io.table import options_frame, options_table

__all__ = [
    "build_result_set",
    "load_result_set",
    "save_result_set",
    "validate_result_set",
    "spec_from_tree",
    "options_frame",
    "options_table",
    "CampaignDraws",
    "draws_from_spec",
    "draws_from_tree",
]
