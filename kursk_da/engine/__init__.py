"""The Monte Carlo engine: compiled kernel on the campaign equations, chunked, seeded, threaded.

:func:`run_engine` runs every draw of the inputs through the history and every option
(common random numbers) and returns an :class:`EngineOutput` of plain arrays.
"""

from kursk_da.engine._run import DEFAULT_CHUNK_SIZE, EngineOutput, run_engine

__all__ = ["run_engine", "EngineOutput", "DEFAULT_CHUNK_SIZE"]
