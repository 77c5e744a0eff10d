"""The Monte Carlo engine: compiled kernel on the campaign equations, chunked, seeded, threaded.

:func:`run_engine` runs every draw of the inputs through the history and every option
(common random numbers) and returns an :class:`EngineOutput` of plain arrays.
The kernels are cached on disk by numba (:func:`numba_cache_dir`; ``NUMBA_CACHE_DIR``
is honoured).
"""

# first: the numba cache directory must be set before any kernel is decorated
from kursk_da.engine._numba_cache import numba_cache_dir  # isort: skip
from kursk_da.engine._run import DEFAULT_CHUNK_SIZE, EngineOutput, run_engine

__all__ = ["run_engine", "EngineOutput", "DEFAULT_CHUNK_SIZE", "numba_cache_dir"]
