"""Respondents' cells: integer codes of categorical columns and the table of their crossings.

With categorical margins every weighting adjustment depends only on the respondent's cell (the
crossing of the weighting variables), so the work is: code each column once, count and sum the
design weights per cell with `numpy.bincount`, fit on the small cell table, expand once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.targets import level_key

#: Integer columns whose range is at most this wide are coded by subtraction, without hashing.
DIRECT_SPAN = 1 << 16
#: Above this many possible crossings the cells are numbered with `numpy.unique` instead.
GRID_LIMIT = 1 << 22


@dataclass
class CodedColumn:
    """One categorical column as integer codes (``-1`` where the answer is missing)."""

    name: str
    codes: np.ndarray
    #: level text of every code; codes that never occur may be ``None``
    levels: list[str | None]
    has_missing: bool
    _index: dict[str, int] | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        return len(self.levels)

    def code_of(self, key: str) -> int:
        """The code of a level text, or -1 if the column never takes it."""
        if self._index is None:
            self._index = {lv: i for i, lv in enumerate(self.levels) if lv is not None}
        return self._index.get(key, -1)

    def sort_rank(self) -> np.ndarray:
        """Rank of every code in R's factor order (numeric if every level is a number)."""
        keys = [lv if lv is not None else "" for lv in self.levels]
        try:
            numbers = [float(k) for k in keys if k != ""]
            numeric = len(numbers) == sum(k != "" for k in keys)
        except ValueError:
            numeric = False
        if numeric:
            order = sorted(range(len(keys)), key=lambda i: float(keys[i]) if keys[i] else 0.0)
        else:
            order = sorted(range(len(keys)), key=lambda i: keys[i])
        rank = np.empty(len(keys), dtype=np.intp)
        rank[order] = np.arange(len(keys))
        return rank


def _integer_codes(name: str, values: np.ndarray, missing: np.ndarray | None) -> CodedColumn:
    valid = values if missing is None else values[~missing]
    low = int(valid.min())
    high = int(valid.max())
    span = high - low + 1
    if span > DIRECT_SPAN:
        text = values.astype(object)
        if missing is not None:
            text[missing] = None
        return _hashed_codes(name, text)
    codes = values - low if low else values
    if missing is not None:
        codes = codes.copy() if codes is values else codes
        codes[missing] = -1
    levels: list[str | None] = [str(low + i) for i in range(span)]
    return CodedColumn(
        name, codes.astype(np.intp, copy=False), levels, missing is not None and bool(missing.any())
    )


def _hashed_codes(name: str, values) -> CodedColumn:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    keys = [level_key(u) for u in np.asarray(uniques, dtype=object)]
    codes = codes.astype(np.intp, copy=False)
    merged: dict[str, int] = {}
    remap = np.empty(len(keys), dtype=np.intp)
    for i, key in enumerate(keys):
        remap[i] = merged.setdefault(key, len(merged))
    if len(merged) < len(keys):
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
    has_missing = bool((codes < 0).any())
    return CodedColumn(name, codes, list(merged), has_missing)


def code_column(name: str, values) -> CodedColumn:
    """Code one column: categoricals and small-range integers cost one pass, text is hashed."""
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        cat = values.cat
        codes = cat.codes.to_numpy().astype(np.intp)
        levels: list[str | None] = [level_key(c) for c in cat.categories]
        if len(set(levels)) < len(levels):
            return _hashed_codes(name, values.astype(object))
        return CodedColumn(name, codes, levels, bool((codes < 0).any()))
    array = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if array.size == 0:
        return CodedColumn(name, np.zeros(0, dtype=np.intp), [], False)
    if array.dtype.kind in "iub":
        return _integer_codes(name, array.astype(np.int64, copy=False), None)
    if array.dtype.kind == "f":
        missing = np.isnan(array)
        valid = array[~missing]
        if valid.size and np.all(valid == np.floor(valid)) and np.abs(valid).max() < 2**52:
            filled = np.where(missing, 0, array).astype(np.int64)
            return _integer_codes(name, filled, missing if missing.any() else None)
        if not valid.size:
            return CodedColumn(name, np.full(array.size, -1, dtype=np.intp), [], True)
    return _hashed_codes(name, array)


@dataclass
class CellTable:
    """Respondents aggregated into the crossings of some coded columns."""

    axes: list[CodedColumn]
    #: for every respondent, the index of their cell in the cell space
    row_cell: np.ndarray
    #: cell-space indices of the non-empty cells (K of them)
    cells: np.ndarray
    #: respondents per non-empty cell
    counts: np.ndarray
    #: sum of base weights per non-empty cell
    weight: np.ndarray
    #: (K, number of axes) code of every axis in every non-empty cell
    axis_codes: np.ndarray
    space_size: int

    def dense_row_cell(self) -> np.ndarray:
        """For every respondent, the position of their cell among the K non-empty cells."""
        lookup = np.full(self.space_size, -1, dtype=np.intp)
        lookup[self.cells] = np.arange(len(self.cells))
        return lookup[self.row_cell]

    def expand(self, cell_values: np.ndarray) -> np.ndarray:
        """Give every respondent the value of their cell."""
        space = np.zeros(self.space_size, dtype=np.float64)
        space[self.cells] = cell_values
        return space[self.row_cell]

    def present(self, axis: int) -> np.ndarray:
        """Which codes of an axis occur in the data."""
        flags = np.zeros(self.axes[axis].size, dtype=bool)
        flags[self.axis_codes[:, axis]] = True
        return flags


def build_cells(axes: list[CodedColumn], base_weight: np.ndarray | None = None) -> CellTable:
    """Cross the coded columns and sum respondents and base weights per non-empty cell."""
    shape = tuple(max(axis.size, 1) for axis in axes)
    space = int(np.prod(shape, dtype=np.float64))
    row_cell = axes[0].codes.copy()
    for axis, size in zip(axes[1:], shape[1:], strict=True):
        row_cell *= size
        row_cell += axis.codes
    if space <= GRID_LIMIT:
        counts_all = np.bincount(row_cell, minlength=space)
        cells = np.flatnonzero(counts_all)
        counts = counts_all[cells]
        combined = cells
    else:
        combined, row_cell, counts = np.unique(row_cell, return_inverse=True, return_counts=True)
        row_cell = row_cell.astype(np.intp, copy=False)
        space = len(combined)
        cells = np.arange(space)
    if base_weight is None:
        weight = counts.astype(np.float64)
    else:
        weight = np.bincount(row_cell, weights=base_weight, minlength=space)[cells]
    axis_codes = np.stack(np.unravel_index(combined, shape), axis=1).astype(np.intp)
    return CellTable(axes, row_cell, cells, counts, weight, axis_codes, space)
