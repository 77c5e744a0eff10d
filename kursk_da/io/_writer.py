"""The streaming writer: per-draw data written block by block as the engine runs.

:class:`ResultSetWriter` is a consumer of the engine's blocks
(:func:`kursk_da.engine._run.stream_engine`, blocks in order). It gathers the stored
draws of consecutive blocks (all draws up to ``store_draws``, an evenly spaced
subsample beyond: :func:`kursk_da.engine._blocks.stored_rows`) until
:data:`~kursk_da.io._resultset.DRAW_CHUNK` rows are buffered, then appends them to the
output: the per-draw variables of :func:`~kursk_da.io._resultset.draw_datasets`
(``/prior`` inputs, ``/decision`` ``value``, ``attributes``, ``inputs``, ``/triggers``
``trigger_day``) in a temporary file or store beside the target. The first rows are
written by xarray (which sets the variables' encodings: chunks along ``draw`` of
``DRAW_CHUNK`` rows, compression for netCDF, an unlimited ``draw`` dimension in
netCDF), the following ones are appended in place (``h5netcdf`` resizes the unlimited
dimension; Zarr arrays are resized), so the chunks stay aligned and nothing is read
back. :meth:`ResultSetWriter.finish` adds the rest of the tree (summaries,
trajectories, calibration groups; xarray, ``mode="a"``), consolidates the Zarr
metadata and renames the temporary into place; :meth:`ResultSetWriter.abort` removes
it. Memory: one buffer of ``DRAW_CHUNK`` stored rows (and, for options with state
triggers, 8 bytes per stored draw and option for the trigger summaries), whatever the
number of draws: the buffer holds copies of the stored rows only, not the blocks (a block
storing a few rows of a subsample kept its values and retention sums alive until the
chunk was full: 0.5 GB at 10^7 draws with ``--store-draws 10000``, issue 27).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from kursk_da.dims import DRAW
from kursk_da.engine._blocks import BlockResult, EngineContext, stored_rows
from kursk_da.engine._run import EngineOutput
from kursk_da.io._atomic import (
    ensure_space,
    make_temp_dir,
    make_temp_file,
    remove_stale,
    storage_errors,
)
from kursk_da.io._resultset import (
    DRAW_CHUNK,
    check_result_target,
    dataset_encoding,
    draw_datasets,
    is_zarr_path,
    replace_target,
)
from kursk_da.spec._schema import Spec

__all__ = ["ResultSetWriter"]


@dataclass
class _Stored:
    """The stored rows of one block (copies: the block itself is not kept)."""

    rows: np.ndarray
    inputs: np.ndarray
    attributes: np.ndarray
    values: np.ndarray
    fire: np.ndarray

    def split(self, k: int) -> tuple[_Stored, _Stored]:
        """The first ``k`` rows and the rest."""
        return (_Stored(self.rows[:k], self.inputs[:k], self.attributes[:k], self.values[:k],
                        self.fire[:k]),
                _Stored(self.rows[k:], self.inputs[k:], self.attributes[k:], self.values[k:],
                        self.fire[k:]))


class ResultSetWriter:
    """Write a result set to ``target`` while the engine runs (see the module docstring).

    Parameters
    ----------
    spec : Spec
    ctx : EngineContext
        The run (its ``draws`` and ``store`` give the stored rows).
    target : str or Path
        A netCDF file, or a Zarr store (suffix ``.zarr``); checked here, before the run
        (:func:`kursk_da.io._resultset.check_result_target`).
    posterior : bool
        A posterior analysis (inputs in ``/decision/inputs``, not in ``/prior``).
    """

    def __init__(self, spec: Spec, ctx: EngineContext, target: str | Path, *,
                 posterior: bool) -> None:
        self.target = check_result_target(target, "path")
        self.spec, self.ctx, self.posterior = spec, ctx, posterior
        self.zarr = is_zarr_path(self.target)
        self.n_store = int(stored_rows(ctx.draws, ctx.store).size)
        self.triggered = any(ph.trigger for o in spec.options.values() for ph in o.phases)
        self.trigger_day = (np.empty((self.n_store, len(spec.options)))
                            if self.triggered else None)
        self._buf: list[_Stored] = []
        self._buffered = 0
        self.written = 0
        self.target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(self.target)
        self.tmp: Path | None = (make_temp_dir(self.target) if self.zarr
                                 else make_temp_file(self.target))
        self._groups: set[str] = set()

    # --- the consumer -------------------------------------------------------------

    def __call__(self, r: BlockResult) -> None:
        """Take one block's stored rows (blocks in order); write full chunks."""
        if r.rows.size == 0:
            return
        full = r.rows.size == r.values.shape[0]  # every row stored: the block's own arrays
        self._buf.append(_Stored(
            rows=r.rows, inputs=r.inputs, attributes=r.attributes, fire=r.fire,
            values=r.values if full else r.values[r.rows - r.start]))
        self._buffered += r.rows.size
        with storage_errors(self.target):
            while self._buffered >= DRAW_CHUNK:
                self._flush(DRAW_CHUNK)

    def _take(self, n: int) -> EngineOutput:
        """The first ``n`` buffered rows as an :class:`EngineOutput` slice."""
        parts: dict[str, list[np.ndarray]] = {k: [] for k in
                                              ("rows", "inputs", "attributes", "values", "fire")}
        need = n
        while need:
            k = min(self._buf[0].rows.size, need)
            head, rest = self._buf[0].split(k)
            for key in parts:
                parts[key].append(getattr(head, key))
            if rest.rows.size:
                self._buf[0] = rest  # keep the rest of the block's rows
            else:
                self._buf.pop(0)
            need -= k
        self._buffered -= n
        cat = {k: np.concatenate(v) for k, v in parts.items()}
        return EngineOutput(inputs=cat["inputs"], attributes=cat["attributes"],
                            values=cat["values"], retained_count=np.zeros(0),
                            area_sum=np.zeros(0), trajectories=np.zeros(0),
                            seed=self.ctx.seed, chunk_size=0, draw_rows=cat["rows"],
                            trigger_day=cat["fire"])

    def _flush(self, n: int) -> None:
        piece = self._take(n)
        rows = piece.draw_rows
        assert rows is not None
        if self.trigger_day is not None and piece.trigger_day is not None:
            self.trigger_day[self.written:self.written + n] = piece.trigger_day
        groups = draw_datasets(self.spec, piece, rows, posterior=self.posterior)
        ensure_space(self.target, sum(ds.nbytes for ds in groups.values()))
        if self.written == 0:
            self._create(groups)
        elif self.zarr:
            self._append_zarr(groups)
        else:
            self._append_netcdf(groups)
        self.written += n

    # --- backends -----------------------------------------------------------------

    def _create(self, groups: dict[str, xr.Dataset]) -> None:
        assert self.tmp is not None
        for path, ds in groups.items():
            enc = dataset_encoding(ds, self.zarr)
            if self.zarr:
                ds.to_zarr(self.tmp, group=path, mode="w" if not self._groups else "a",
                           encoding=enc, consolidated=False, zarr_format=2)
            else:
                ds.to_netcdf(self.tmp, group=path, mode="w" if not self._groups else "a",
                             engine="h5netcdf", encoding=enc, unlimited_dims=[DRAW])
            self._groups.add(path)

    @staticmethod
    def _region(dims: tuple[Any, ...], a: int, b: int) -> tuple[slice, ...]:
        return tuple(slice(a, b) if d == DRAW else slice(None) for d in dims)

    def _append_netcdf(self, groups: dict[str, xr.Dataset]) -> None:
        import h5netcdf

        with h5netcdf.File(self.tmp, "a") as f:
            for path, ds in groups.items():
                g = f[path.strip("/")]
                a = self.written
                b = a + ds.sizes[DRAW]
                g.resize_dimension(DRAW, b)
                for name, var in ds.variables.items():
                    if DRAW in var.dims:
                        g.variables[str(name)][self._region(var.dims, a, b)] = var.values

    def _append_zarr(self, groups: dict[str, xr.Dataset]) -> None:
        import zarr

        root = zarr.open_group(str(self.tmp), mode="r+", zarr_format=2)
        for path, ds in groups.items():
            g: Any = root[path.strip("/")]
            a = self.written
            b = a + ds.sizes[DRAW]
            for name, var in ds.variables.items():
                if DRAW in var.dims:
                    arr: Any = g[str(name)]
                    shape = tuple(b if d == DRAW else n
                                  for d, n in zip(var.dims, arr.shape, strict=True))
                    arr.resize(shape)
                    arr[self._region(var.dims, a, b)] = var.values

    # --- the end --------------------------------------------------------------------

    def stored_trigger_days(self) -> np.ndarray | None:
        """Trigger days of every stored draw (``(n_stored, n_options)``), None without
        triggers; complete after the last block."""
        return self.trigger_day

    def close_draws(self) -> None:
        """Write the last, partial chunk (after the engine's last block)."""
        if self._buffered:
            with storage_errors(self.target):
                self._flush(self._buffered)
        if self.written != self.n_store:
            raise RuntimeError(f"result set writer: {self.written} stored draws written, "
                               f"{self.n_store} expected")

    def _existing(self, path: str) -> set[str] | None:
        if path not in self._groups and path != "/":
            return None
        assert self.tmp is not None
        if self.zarr:
            import zarr

            root = zarr.open_group(str(self.tmp), mode="r", zarr_format=2)
            grp: Any = root if path == "/" else root[path.strip("/")]
            return {str(k) for k in grp.array_keys()}
        import h5netcdf

        with h5netcdf.File(self.tmp, "r") as f:
            g = f if path == "/" else f[path.strip("/")]
            return {str(k) for k in g.variables}

    def finish(self, tree: xr.DataTree) -> Path:
        """Add ``tree`` (the result set without its per-draw variables, as
        :func:`kursk_da.io.build_result_set` gives it with ``per_draw=False``) and move
        the output into place.

        Returns
        -------
        Path
            The written file or store.
        """
        try:
            with storage_errors(self.target):
                return self._finish(tree)
        except BaseException:
            self.abort()
            raise

    def _finish(self, tree: xr.DataTree) -> Path:
        self.close_draws()
        assert self.tmp is not None
        for node in tree.subtree:
            path = node.path
            ds = node.to_dataset(inherit=False)
            existing = self._existing(path)
            if existing:
                ds = ds.drop_vars([k for k in ds.variables if str(k) in existing])
            group = None if path == "/" else path
            ensure_space(self.target, ds.nbytes)
            enc = dataset_encoding(ds, self.zarr)
            if self.zarr:
                ds.to_zarr(self.tmp, group=group, mode="a", encoding=enc, consolidated=False,
                           zarr_format=2)
            else:
                ds.to_netcdf(self.tmp, group=group, mode="a", engine="h5netcdf", encoding=enc)
        if self.zarr:
            import zarr

            zarr.consolidate_metadata(str(self.tmp), zarr_format=2)
        tmp, self.tmp = self.tmp, None
        try:
            return replace_target(tmp, self.target)
        except BaseException:
            _remove(tmp)
            raise

    def abort(self) -> None:
        """Remove the temporary output (after a failure or an interrupt)."""
        if self.tmp is not None:
            _remove(self.tmp)
            self.tmp = None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
