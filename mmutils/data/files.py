"""The dataset's CSV files: exact text formatting, writing, reading and validation.

Values travel as an ``int64`` matrix in *file units*: integral columns as they are, the four
``… Mins`` columns in tenths (``1234`` is written ``123.4``), so the text is exact and every run
writes the same bytes. Files are LF-terminated, unquoted, without an index.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from mmutils.data import schema


class DatasetError(ValueError):
    """A dataset file is missing or malformed (the message names the file and line)."""


def format_cells(values: np.ndarray, columns: Sequence[str]) -> list[list[str]]:
    """Format a matrix in file units as text cells.

    Args:
        values: ``int64`` array of shape (rows, len(columns)); ``… Mins`` columns in tenths.
        columns: the column names, which decide each column's format.

    Returns:
        One list of cells per row (``"6.0"`` for Fractional, ``"6"`` for Integral).
    """
    values = np.asarray(values)
    if values.ndim != 2 or values.shape[1] != len(columns):
        raise ValueError(f"expected a (rows, {len(columns)}) matrix, got shape {values.shape}")
    if (values < 0).any():
        raise ValueError("negative values cannot be formatted (all columns are non-negative)")
    text_cols = []
    for j, name in enumerate(columns):
        col = values[:, j]
        if schema.is_fractional(name):
            whole = (col // 10).astype(str)
            tenth = (col % 10).astype(str)
            text_cols.append(np.char.add(np.char.add(whole, "."), tenth))
        else:
            text_cols.append(col.astype(str))
    return [list(row) for row in zip(*text_cols, strict=True)]


def to_lines(cells: Iterable[Sequence[str]]) -> list[str]:
    """Join cell lists into CSV lines (no quoting: no cell holds a comma)."""
    return [",".join(row) for row in cells]


def write_lines(path: Path, lines: Sequence[str], header: Sequence[str] | None = None) -> Path:
    """Write CSV lines to ``path`` with LF endings and a final newline; returns the path."""
    body = list(lines)
    if header is not None:
        body.insert(0, ",".join(header))
    path.write_bytes(("\n".join(body) + "\n").encode("ascii"))
    return path


def read_cells(path: Path, expected_columns: int, *, header: bool = False) -> list[list[str]]:
    """Read a CSV file as text cells and check that every line has the expected width.

    Args:
        path: the CSV file.
        expected_columns: 70 for label-first files, 69 for traffic files.
        header: True if the first line is the column header (it is checked against the schema).

    Raises:
        DatasetError: the file is missing, empty, has a wrong header or a line of wrong width.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: file not found")
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    if not lines:
        raise DatasetError(f"{path}: file is empty")
    start = 0
    if header:
        names = lines[0].split(",")
        if tuple(names) != schema.COLUMNS[-expected_columns:]:
            raise DatasetError(
                f"{path}: line 1: header does not match the churn schema "
                f"({len(names)} columns, expected {expected_columns}: "
                f"{', '.join(schema.COLUMNS[-expected_columns:][:3])}, …)"
            )
        start = 1
    rows = []
    for i, line in enumerate(lines[start:], start=start + 1):
        cells = line.split(",")
        if len(cells) != expected_columns:
            raise DatasetError(
                f"{path}: line {i}: {len(cells)} columns, expected {expected_columns}"
            )
        rows.append(cells)
    if not rows:
        raise DatasetError(f"{path}: no data rows")
    return rows


def validate_folder(folder: Path) -> dict[str, int]:
    """Check that a folder holds the lab's dataset files with the right widths.

    ``test_sample.csv`` and ``upload-test-file.txt`` are optional (they can be derived); the
    five other CSV files are required.

    Returns:
        file name -> number of data rows, for every CSV file found.

    Raises:
        DatasetError: naming the first missing or malformed file (and line).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a folder")
    counts: dict[str, int] = {}
    for name, (has_header, has_label, _rows) in schema.FILES.items():
        path = folder / name
        if name == "test_sample.csv" and not path.exists():
            continue
        width = len(schema.COLUMNS) if has_label else len(schema.FEATURES)
        counts[name] = len(read_cells(path, width, header=has_header))
    return counts
