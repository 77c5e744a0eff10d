"""Coercion and validation of value-of-information inputs (the thin labelled layer).

Everything that knows about pandas or xarray lives here; the estimators in
:mod:`kursk_da.stats._evpi`, :mod:`kursk_da.stats._evppi` and :mod:`kursk_da.stats._evsi`
only see plain ``float64`` NumPy arrays:

* ``values`` -> ``(n_draws, n_options)`` array plus the option labels;
* ``inputs`` -> ``(n_draws, n_parameters)`` array plus the parameter labels;
* ``parameters`` (names or, for unlabelled arrays, positions) -> column indices.

Every error raised for bad user input names the offending argument and says
what was expected.  :func:`as_values_array` is the plain NumPy check of a draws x options
array (raising :class:`ValueError`), also used by :mod:`kursk_da.decision`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from numpy.typing import ArrayLike

from kursk_da import validation
from kursk_da.dims import DRAW, OPTION, PARAMETER
from kursk_da.errors import UnknownParameterError, VOIInputError

__all__ = [
    "as_values_array",
    "LabelledArray",
    "coerce_values",
    "coerce_inputs",
    "select_parameters",
    "check_rng",
]


def as_values_array(values: ArrayLike, name: str = "values") -> np.ndarray:
    """Validate a draws x options array of values.

    Parameters
    ----------
    values : array_like, shape (n_draws, n_options)
        Value of each option under each draw.
    name : str
        Name used in error messages.

    Returns
    -------
    numpy.ndarray of float64

    Raises
    ------
    ValueError
        If the array is not two-dimensional, has fewer than one draw or option,
        or holds non-finite numbers.
    """
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array (draws x options), got shape {arr.shape}")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(
            f"{name}: expected at least one draw and one option, got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        bad = int(np.sum(~np.isfinite(arr)))
        raise ValueError(f"{name}: expected finite numbers, found {bad} NaN or infinite entries")
    return arr


@dataclass(frozen=True)
class LabelledArray:
    """A validated ``float64`` matrix with the labels of its columns.

    Attributes
    ----------
    data : numpy.ndarray, shape (n_draws, n_columns)
        Finite numbers, one row per Monte Carlo draw.
    labels : tuple of str
        Name of each column (options for ``values``, parameters for ``inputs``).
    labelled : bool
        ``False`` when the input carried no labels (plain NumPy array) and the
        labels are the column positions written as strings.
    """

    data: np.ndarray
    labels: tuple[str, ...]
    labelled: bool


def _default_labels(n: int) -> tuple[str, ...]:
    return tuple(str(i) for i in range(n))


def _check_unique(labels: Sequence[str], name: str) -> tuple[str, ...]:
    dup = sorted({lab for lab, count in Counter(labels).items() if count > 1})
    if dup:
        raise VOIInputError(f"{name}: expected unique column labels, found duplicates {dup}")
    return tuple(labels)


def _as_float_matrix(arr: Any, name: str, what: str) -> np.ndarray:
    """Convert to a finite 2-D float64 array, with errors naming ``name``."""
    try:
        out = np.asarray(arr, dtype=float)
    except (TypeError, ValueError) as exc:
        raise VOIInputError(
            f"{name}: expected numeric {what}, got data that cannot be converted to float ({exc})"
        ) from exc
    if out.ndim != 2:
        raise VOIInputError(f"{name}: expected a 2-D array ({what}), got shape {out.shape}")
    if out.shape[0] < 1 or out.shape[1] < 1:
        raise VOIInputError(
            f"{name}: expected at least one draw and one column ({what}), got shape {out.shape}"
        )
    bad = ~np.isfinite(out)
    if bad.any():
        cols = sorted({int(c) for c in np.nonzero(bad)[1]})
        raise VOIInputError(
            f"{name}: expected finite numbers, found {int(bad.sum())} NaN or "
            f"infinite entries (in columns at positions {cols[:10]})"
        )
    return out


def _dataarray_matrix(da: xr.DataArray, name: str, col_dim: str, what: str) -> LabelledArray:
    """Draws x columns matrix from a DataArray with dims ``(DRAW, col_dim)`` in any order."""
    dims = tuple(da.dims)
    if set(dims) != {DRAW, col_dim}:
        raise VOIInputError(
            f"{name}: expected a DataArray with dims ({DRAW!r}, {col_dim!r}) "
            f"in any order ({what}), got dims {dims}"
        )
    da = da.transpose(DRAW, col_dim)
    if col_dim in da.coords:
        labels = [str(v) for v in da.coords[col_dim].values]
        labelled = True
    else:
        labels, labelled = list(_default_labels(da.sizes[col_dim])), False
    data = _as_float_matrix(da.values, name, what)
    return LabelledArray(data, _check_unique(labels, name), labelled)


def _dataframe_matrix(df: pd.DataFrame, name: str, what: str) -> LabelledArray:
    non_numeric = [str(c) for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    if non_numeric:
        raise VOIInputError(
            f"{name}: expected numeric columns ({what}), non-numeric columns: {non_numeric}"
        )
    labels = [str(c) for c in df.columns]
    data = _as_float_matrix(df.to_numpy(dtype=float), name, what)
    return LabelledArray(data, _check_unique(labels, name), True)


def coerce_values(values: Any, name: str = "values", min_options: int = 2) -> LabelledArray:
    """Validate ``values``: the value of each option under each draw.

    Parameters
    ----------
    values : numpy.ndarray, pandas.DataFrame or xarray.DataArray
        Shape ``(n_draws, n_options)``, higher is better.  A DataFrame has one
        column per option; a DataArray has dims ``DRAW`` and ``OPTION`` (any order).
    name : str
        Argument name used in error messages.
    min_options : int
        Fewest options accepted (a decision needs at least two).

    Returns
    -------
    LabelledArray
        ``data`` of shape ``(n_draws, n_options)`` and the option labels.

    Raises
    ------
    VOIInputError
        Wrong type, not 2-D, non-finite entries, or fewer than ``min_options`` options.
    """
    what = "draws x options"
    if isinstance(values, xr.Dataset):
        raise VOIInputError(
            f"{name}: expected a DataArray with dims ({DRAW!r}, {OPTION!r}), "
            "a DataFrame or a 2-D array, got an xarray Dataset"
        )
    if isinstance(values, xr.DataArray):
        out = _dataarray_matrix(values, name, OPTION, what)
    elif isinstance(values, pd.DataFrame):
        out = _dataframe_matrix(values, name, what)
    else:
        arr = np.asarray(values)
        if arr.ndim != 2:
            raise VOIInputError(
                f"{name}: expected a 2-D array ({what}), got shape {arr.shape}; "
                "pass one column per option"
            )
        try:
            data = as_values_array(arr, name=name)
        except (TypeError, ValueError) as exc:
            raise VOIInputError(str(exc)) from exc
        out = LabelledArray(data, _default_labels(data.shape[1]), False)
    if out.data.shape[1] < min_options:
        raise VOIInputError(
            f"{name}: expected at least {min_options} options (columns), got {out.data.shape[1]}"
        )
    return out


def _dataset_matrix(ds: xr.Dataset, name: str, what: str) -> LabelledArray:
    if not ds.data_vars:
        raise VOIInputError(
            f"{name}: expected a Dataset with one variable per parameter, got an empty Dataset"
        )
    cols = []
    for var, da in ds.data_vars.items():
        if tuple(da.dims) != (DRAW,):
            raise VOIInputError(
                f"{name}: expected every variable to have the single dim "
                f"{DRAW!r} ({what}), variable {var!r} has dims {tuple(da.dims)}"
            )
        cols.append(da.values)
    labels = [str(v) for v in ds.data_vars]
    data = _as_float_matrix(np.column_stack(cols), name, what)
    return LabelledArray(data, _check_unique(labels, name), True)


def coerce_inputs(inputs: Any, n_draws: int, name: str = "inputs") -> LabelledArray:
    """Validate ``inputs``: the sampled uncertain parameters, one row per draw.

    Parameters
    ----------
    inputs : numpy.ndarray, pandas.DataFrame, pandas.Series, xarray.Dataset or xarray.DataArray
        Shape ``(n_draws, n_parameters)``.  A 1-D array or Series is one
        parameter.  A Dataset holds one variable of dim ``DRAW`` per parameter;
        a DataArray has dims ``DRAW`` and ``PARAMETER`` (or only ``DRAW``).
    n_draws : int
        Number of rows of ``values``; ``inputs`` must have as many rows.
    name : str
        Argument name used in error messages.

    Returns
    -------
    LabelledArray
        ``data`` of shape ``(n_draws, n_parameters)`` and the parameter labels
        (positions as strings for plain arrays).

    Raises
    ------
    VOIInputError
        Wrong type or shape, non-numeric or non-finite entries, or a row count
        different from ``n_draws``.
    """
    what = "draws x parameters"
    if isinstance(inputs, xr.Dataset):
        out = _dataset_matrix(inputs, name, what)
    elif isinstance(inputs, xr.DataArray):
        if tuple(inputs.dims) == (DRAW,):
            label = str(inputs.name) if inputs.name is not None else "0"
            data = _as_float_matrix(inputs.values[:, None], name, what)
            out = LabelledArray(data, (label,), inputs.name is not None)
        else:
            out = _dataarray_matrix(inputs, name, PARAMETER, what)
    elif isinstance(inputs, pd.DataFrame):
        out = _dataframe_matrix(inputs, name, what)
    elif isinstance(inputs, pd.Series):
        label = str(inputs.name) if inputs.name is not None else "0"
        out = _dataframe_matrix(inputs.to_frame(name=label), name, what)
    else:
        arr = np.asarray(inputs)
        if arr.ndim == 1:
            arr = arr[:, None]
        data = _as_float_matrix(arr, name, what)
        out = LabelledArray(data, _default_labels(data.shape[1]), False)
    if out.data.shape[0] != n_draws:
        raise VOIInputError(
            f"{name}: expected one row per draw of values ({n_draws} rows), "
            f"got {out.data.shape[0]} rows"
        )
    return out


def _is_position(p: Any) -> bool:
    return isinstance(p, int | np.integer) and not isinstance(p, bool | np.bool_)


def select_parameters(
    parameters: Any, inputs: LabelledArray, name: str = "parameters"
) -> tuple[list[int], tuple[str, ...]]:
    """Resolve ``parameters`` to column positions of ``inputs``.

    Parameters
    ----------
    parameters : None, str, int or iterable of str / int
        ``None`` selects every parameter.  Names are matched against the
        labels of ``inputs``; integer positions are accepted only for
        unlabelled (plain NumPy) inputs.
    inputs : LabelledArray
        Output of :func:`coerce_inputs`.
    name : str
        Argument name used in error messages.

    Returns
    -------
    positions : list of int
        Column positions, in the order given.
    labels : tuple of str
        The matching labels.

    Raises
    ------
    UnknownParameterError
        A name is not a column of ``inputs`` (the message lists the available names),
        or a position is out of range.
    VOIInputError
        Empty selection, duplicates, integer positions for labelled inputs, or
        an element that is neither a string nor an integer.
    """
    labels = inputs.labels
    if parameters is None:
        return list(range(len(labels))), labels
    if isinstance(parameters, str) or _is_position(parameters):
        items = [parameters]
    elif isinstance(parameters, Iterable):
        items = list(parameters)
    else:
        raise VOIInputError(
            f"{name}: expected a name, a list of names or None, got {type(parameters).__name__}"
        )
    if not items:
        raise VOIInputError(f"{name}: expected at least one parameter, got an empty selection")
    positions: list[int] = []
    unknown: list[str] = []
    for p in items:
        if _is_position(p):
            if inputs.labelled:
                raise VOIInputError(
                    f"{name}: integer positions are only accepted for unlabelled "
                    f"array inputs; use the names {list(labels)}"
                )
            if not -len(labels) <= int(p) < len(labels):
                raise UnknownParameterError(
                    f"{name}: position {int(p)} is out of range for "
                    f"inputs with {len(labels)} columns"
                )
            positions.append(int(p) % len(labels))
        elif isinstance(p, str):
            if p in labels:
                positions.append(labels.index(p))
            else:
                unknown.append(p)
        else:
            raise VOIInputError(
                f"{name}: expected parameter names (str) or positions (int), "
                f"got {p!r} of type {type(p).__name__}"
            )
    if unknown:
        raise UnknownParameterError(
            f"{name}: unknown parameter(s) {unknown}; available: {list(labels)}"
        )
    if len(set(positions)) != len(positions):
        raise VOIInputError(f"{name}: expected each parameter at most once, got {items}")
    return positions, tuple(labels[i] for i in positions)


def check_rng(rng: Any, name: str = "rng") -> np.random.Generator:
    """A :class:`numpy.random.Generator` from a Generator, a seed or ``None``
    (:func:`kursk_da.validation.check_rng` raising :class:`VOIInputError`)."""
    return validation.check_rng(rng, name, VOIInputError)
