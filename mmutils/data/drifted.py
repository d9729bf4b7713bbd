"""Drifted traffic for the drift demo: shift numeric inputs, move customers between categories.

The drift works on text cells (rows of the 69 inputs), so cells it does not touch keep their
exact text, including the traffic file's deliberately corrupted first row. Shifted cells are
clipped to the column's valid range and keep its format (one decimal for ``… Mins``, integers
otherwise); moved rows stay valid one-hot rows. The same seed gives the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mmutils.data import files, schema


@dataclass(frozen=True)
class Shift:
    """``new = clip(old * factor + offset)`` for one numeric column."""

    column: str
    factor: float = 1.0
    offset: float = 0.0

    def __post_init__(self) -> None:
        if self.column not in schema.RANGES:
            raise ValueError(
                f"cannot shift {self.column!r}: not a numeric column "
                f"(one of {', '.join(schema.NUMERIC)})"
            )


@dataclass(frozen=True)
class Move:
    """Move a share of the rows not yet in ``to`` into that one-hot column."""

    to: str = "Int'l Plan_yes"
    share: float = 0.3

    def __post_init__(self) -> None:
        if schema.group_of(self.to) is None:
            raise ValueError(f"cannot move rows to {self.to!r}: not a one-hot column")
        if not 0.0 <= self.share <= 1.0:
            raise ValueError(f"share must be within 0..1, got {self.share}")


@dataclass(frozen=True)
class Drift:
    """A drift scenario: numeric shifts, category moves and the seed that picks the rows."""

    shifts: tuple[Shift, ...] = field(
        default_factory=lambda: (
            Shift("Day Mins", factor=1.3),
            Shift("Eve Mins", factor=1.2),
            Shift("CustServ Calls", offset=2),
        )
    )
    moves: tuple[Move, ...] = field(default_factory=lambda: (Move("Int'l Plan_yes", 0.3),))
    seed: int = 0


def _shift_cells(cells: list[list[str]], shift: Shift) -> None:
    """Apply one shift in place; cells that are not numbers are left as they are."""
    j = schema.FEATURES.index(shift.column)
    lo, hi = schema.RANGES[shift.column]
    fractional = schema.is_fractional(shift.column)
    for row in cells:
        try:
            old = float(row[j])
        except ValueError:
            continue
        new = min(max(old * shift.factor + shift.offset, lo), hi)
        # round half away from zero on the text's precision, like a spreadsheet would
        if fractional:
            tenths = int(np.floor(new * 10 + 0.5))
            row[j] = f"{tenths // 10}.{tenths % 10}"
        else:
            row[j] = str(int(np.floor(new + 0.5)))


def _move_cells(cells: list[list[str]], move: Move, rng: np.random.Generator) -> None:
    """Apply one category move in place, only to valid one-hot rows not already in ``to``."""
    group = schema.ONE_HOT[schema.group_of(move.to)]
    idx = [schema.FEATURES.index(c) for c in group]
    target = schema.FEATURES.index(move.to)
    candidates = [
        i
        for i, row in enumerate(cells)
        if all(row[j] in ("0", "1") for j in idx)
        and sum(row[j] == "1" for j in idx) == 1
        and row[target] != "1"
    ]
    k = int(round(move.share * len(candidates)))
    if k == 0:
        return
    chosen = rng.choice(len(candidates), size=k, replace=False)
    for c in sorted(chosen):
        row = cells[candidates[c]]
        for j in idx:
            row[j] = "1" if j == target else "0"


def apply(rows: Sequence[Sequence[str]], drift: Drift | None = None) -> list[list[str]]:
    """Return drifted copies of input rows (pure; the input is not changed).

    Args:
        rows: rows of the 69 input cells (text), e.g. from :func:`read_rows`.
        drift: the scenario; the default shifts day/evening minutes and customer-service calls
            up and moves 30 % of the other customers to the international plan.

    Raises:
        ValueError: a row does not have 69 cells (the message names the row).
    """
    drift = drift or Drift()
    cells = [list(r) for r in rows]
    for i, row in enumerate(cells, start=1):
        if len(row) != len(schema.FEATURES):
            raise ValueError(f"row {i}: {len(row)} cells, expected {len(schema.FEATURES)}")
    for shift in drift.shifts:
        _shift_cells(cells, shift)
    rng = np.random.default_rng(drift.seed)
    for move in drift.moves:
        _move_cells(cells, move, rng)
    return cells


def read_rows(source: str | Path) -> list[list[str]]:
    """Read traffic rows (69 inputs, no header, no label) from a CSV file.

    Raises:
        DatasetError: the file is missing or a line has the wrong width (names file and line).
    """
    return files.read_cells(Path(source), len(schema.FEATURES))


def iter_rows(
    source: str | Path | Sequence[Sequence[str]], drift: Drift | None = None
) -> Iterator[str]:
    """Yield drifted CSV rows, ready to send to an endpoint (``text/csv``, no newline).

    Args:
        source: a traffic CSV file (e.g. ``test_data/test-dataset-input-cols.csv``) or rows.
        drift: the scenario (default: :class:`Drift`).
    """
    rows = read_rows(source) if isinstance(source, str | Path) else source
    for row in apply(rows, drift):
        yield ",".join(row)


def drift_frame(frame, drift: Drift | None = None):
    """Drift a pandas DataFrame of the 69 inputs (numeric), returning a new DataFrame.

    Values are formatted the way the files write them before the drift is applied, so the
    result is the same as drifting the file's rows.
    """
    import pandas as pd

    missing = [c for c in schema.FEATURES if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks input columns: {', '.join(missing[:5])}")
    values = frame[list(schema.FEATURES)].to_numpy(dtype=np.float64)
    scale = np.array([10.0 if schema.is_fractional(c) else 1.0 for c in schema.FEATURES])
    units = np.rint(values * scale).astype(np.int64)
    drifted = apply(files.format_cells(units, schema.FEATURES), drift)
    out = pd.DataFrame(np.array(drifted, dtype=np.float64), columns=list(schema.FEATURES))
    out.index = frame.index
    for c in schema.FEATURES:
        if not schema.is_fractional(c):
            out[c] = out[c].astype(np.int64)
    return out
