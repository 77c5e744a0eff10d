"""Defaults and sizes that the command line shows before it imports the library.

``kursk-da --help`` and its argument errors must not import NumPy's heavy neighbours
(numba, xarray, SciPy, PyMC, dask: issue 27), yet its help texts show these defaults. They
are defined once here, in a module that imports nothing, and re-exported by the modules
that use them (:mod:`kursk_da.engine._blocks`, :mod:`kursk_da.analysis`,
:mod:`kursk_da.io._table`, :mod:`kursk_da.voi._evsi_outputs`,
:mod:`kursk_da.sensitivity._twoway`), where their meaning is documented.
"""

from __future__ import annotations

__all__ = ["BLOCK_SIZE", "DEFAULT_CHUNK_SIZE", "DEFAULT_STORE_DRAWS", "EXPORT_FORMATS",
           "DEFAULT_COST_PER_REPORT", "DEFAULT_PAIR", "CALIBRATE_OPTIONS"]

BLOCK_SIZE = 4096
"""Draws per block: the fixed unit of the random streams (part of the reproducibility
contract; a multiple of the kernel's ``LANES``)."""
DEFAULT_CHUNK_SIZE = 4 * BLOCK_SIZE
"""Draws per task by default (four blocks); does not change the numbers."""
DEFAULT_STORE_DRAWS = 1_000_000
"""Draws whose per-draw data a result set holds by default (all draws up to this many;
an evenly spaced subsample of this many beyond)."""
EXPORT_FORMATS = ("csv", "json", "markdown")
"""Formats of :func:`kursk_da.io._table.render_table` (``kursk-da ... --format``; ``table``
is the console text)."""
DEFAULT_COST_PER_REPORT = 2.0
"""Cost of one independent intelligence report, dkm2 (analyst judgement: the risk to
sources and collection assets of one more estimate, valued at about 2 km2 of Donbas)."""
DEFAULT_PAIR = ("strike_attrition", "weight_strike_effort")
"""Default inputs of the two-way map of ``kursk_2025``: what strikes do to Russian troops
and what a day of strikes costs (the leaders, strike_only and withdraw, differ in the
strikes only)."""
CALIBRATE_OPTIONS = ("cores", "target_accept", "sampler_options", "progress_bar")
"""The keywords of :func:`kursk_da.calibration.calibrate` that :func:`kursk_da.analyze` and
:func:`kursk_da.calibration.run_calibration` pass on; any other keyword is refused, named
(here, not in :mod:`kursk_da.calibration`, so that ``analyze`` checks them without importing
PyMC)."""
