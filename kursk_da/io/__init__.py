"""Result sets: build, save (atomic netCDF), load and validate; a run's draws as arrays."""

from kursk_da.io._draws import CampaignDraws, draws_from_spec, draws_from_tree
from kursk_da.io._observations import OBSERVATION_COLUMNS, observations_frame
from kursk_da.io._resultset import (
    RESULT_SCHEMA,
    SUPPORTED_SCHEMAS,
    as_result_set,
    build_result_set,
    load_result_set,
    save_result_set,
    spec_from_tree,
    spec_to_json,
    stored_spec_dict,
    to_inference_data,
    validate_result_set,
)
from kursk_da.io._table import identical_options, options_frame, options_table
from kursk_da.io._variants import VARIANTS_GROUP, add_variants_group
from kursk_da.io._voi_groups import VOI_GROUPS, add_voi_groups
from kursk_da.io._writer import ResultSetWriter

__all__ = [
    "build_result_set",
    "ResultSetWriter",
    "load_result_set",
    "save_result_set",
    "validate_result_set",
    "as_result_set",
    "to_inference_data",
    "spec_from_tree",
    "spec_to_json",
    "stored_spec_dict",
    "RESULT_SCHEMA",
    "SUPPORTED_SCHEMAS",
    "add_voi_groups",
    "VOI_GROUPS",
    "add_variants_group",
    "VARIANTS_GROUP",
    "options_frame",
    "options_table",
    "identical_options",
    "observations_frame",
    "OBSERVATION_COLUMNS",
    "CampaignDraws",
    "draws_from_spec",
    "draws_from_tree",
]
