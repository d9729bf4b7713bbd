"""deequ's data-type inference on string cells (spec §B.5), vectorised with ``pyarrow.compute``.

The container reads every column as strings and classifies each non-null cell with deequ's
regular expressions (full match, first hit wins):

* Fractional: ``^(-|\\+)? ?\\d+((\\.\\d+)|((?:\\.\\d+)?[Ee][-+]?\\d+))$``
* Integral:   ``^(-|\\+)? ?\\d+$``
* Boolean:    ``^(true|false)$``
* String:     anything else; null cells count as Unknown.

So ``NaN``, ``inf`` or ``1.`` are *String* cells: they do not match the numeric patterns, and
one of them makes the whole column String. Numeric cells are then converted like Spark's
string-to-double cast (``java.lang.Double.parseDouble``): surrounding spaces are ignored, but a
sign followed by a space (``- 5``, which the Integral pattern allows) does not parse and the value
counts as missing.

The column decision (:func:`decide`) follows deequ ``DataTypeHistogram.determineType``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "BOOLEAN",
    "FRACTIONAL",
    "INTEGRAL",
    "STRING",
    "UNKNOWN",
    "TypeCounts",
    "classify",
    "classify_detailed",
    "classify_plain",
    "count_matching",
    "decide",
    "to_double",
]

FRACTIONAL_RE = r"^(-|\+)? ?\d+((\.\d+)|((?:\.\d+)?[Ee][-+]?\d+))$"
INTEGRAL_RE = r"^(-|\+)? ?\d+$"
BOOLEAN_RE = r"^(true|false)$"

UNKNOWN = "Unknown"
FRACTIONAL = "Fractional"
INTEGRAL = "Integral"
BOOLEAN = "Boolean"
STRING = "String"


@dataclass
class TypeCounts:
    """Cells per deequ class (``unknown`` = null cells)."""

    unknown: int = 0
    fractional: int = 0
    integral: int = 0
    boolean: int = 0
    string: int = 0

    def __iadd__(self, other: TypeCounts) -> TypeCounts:
        self.unknown += other.unknown
        self.fractional += other.fractional
        self.integral += other.integral
        self.boolean += other.boolean
        self.string += other.string
        return self

    @property
    def total(self) -> int:
        return self.unknown + self.fractional + self.integral + self.boolean + self.string

    def of(self, type_name: str) -> int:
        """Count of the class named like ``inferred_type`` (``"Integral"``, …)."""
        return getattr(self, type_name.lower())


def _as_array(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        column = column.cast(pa.string())
    return column


def _true_count(mask: pa.Array) -> int:
    return int(pc.sum(mask).as_py() or 0)


def classify(column: pa.Array | pa.ChunkedArray) -> TypeCounts:
    """Count the cells of a string column per deequ class.

    Pure-digit cells (the bulk of numeric data) are recognised with a cheap character test;
    only the remaining cells go through the regular expressions.
    """
    return classify_detailed(column)[0]


def classify_detailed(column: pa.Array | pa.ChunkedArray) -> tuple[TypeCounts, int]:
    """:func:`classify` plus the number of cells made of ASCII digits only (a subset of Integral)."""
    counts, digits, _ = classify_plain(column)
    return counts, digits


def classify_plain(column: pa.Array | pa.ChunkedArray) -> tuple[TypeCounts, int, int]:
    """:func:`classify_detailed` plus the number of cells shaped ``digits.digits``.

    The last count is only known when no cell has another shape (and there are no nulls);
    otherwise it is 0, which callers read as "not known to be plain decimals".
    """
    arr = _as_array(column)
    nulls = arr.null_count
    nonnull = len(arr) - nulls
    counts = TypeCounts(unknown=nulls)
    if nonnull == 0:
        return counts, 0, 0
    plain = _plain_numbers(arr)
    if plain is not None:
        counts.integral, counts.fractional = plain
        return counts, plain[0], plain[1]
    digits = pc.ascii_is_decimal(arr)
    n_digits = _true_count(digits)
    counts.integral = n_digits
    if n_digits == nonnull:
        return counts, n_digits, 0
    rest = arr.filter(pc.invert(digits))  # nulls are dropped by the filter
    frac = pc.match_substring_regex(rest, FRACTIONAL_RE)
    n_frac = _true_count(frac)
    rest = rest.filter(pc.invert(frac))
    integ = pc.match_substring_regex(rest, INTEGRAL_RE)
    n_int = _true_count(integ)
    rest = rest.filter(pc.invert(integ))
    n_bool = _true_count(pc.match_substring_regex(rest, BOOLEAN_RE))
    counts.fractional = n_frac
    counts.integral += n_int
    counts.boolean = n_bool
    counts.string = nonnull - n_digits - n_frac - n_int - n_bool
    return counts, n_digits, 0


def _plain_numbers(arr: pa.Array) -> tuple[int, int] | None:
    """``(digits-only cells, digits.digits cells)`` when every cell is one or the other.

    That is the bulk of numeric data, and both shapes are clear regex matches (Integral and
    Fractional), so this checks the raw offsets and bytes with a few numpy passes instead of
    running per-cell string kernels. None means "not only such cells" (or nulls): the caller
    then classifies the cells one by one.
    """
    data_buffer = arr.buffers()[2]
    if arr.null_count or pa.types.is_large_string(arr.type) or data_buffer is None:
        return None
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    starts, ends = offsets[:-1] - offsets[0], offsets[1:] - offsets[0]
    if not (ends > starts).all():  # an empty cell
        return None
    data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0] : offsets[-1]]
    digit = data - np.uint8(48) < 10  # bytes below "0" wrap around to >= 208
    if digit.all():
        return len(arr), 0
    dot = data == 46
    if not (digit | dot).all() or dot[starts].any() or dot[ends - 1].any():
        return None  # another character, or a cell starting or ending with "."
    dots = np.add.reduceat(dot, starts, dtype=np.int64)
    if dots.max() > 1:
        return None
    decimals = int(np.count_nonzero(dots))
    return len(arr) - decimals, decimals


def count_matching(column: pa.Array | pa.ChunkedArray, type_name: str) -> int:
    """Number of non-null cells whose class is ``type_name``.

    This is what the monitoring ``data_type_check`` ratios need; a column's ratio is this count
    over its non-null cells.
    """
    return classify(column).of(type_name)


def decide(counts: TypeCounts) -> str:
    """The column's ``inferred_type`` from its class counts (deequ ``determineType``)."""
    if counts.total == 0 or counts.unknown == counts.total:
        return UNKNOWN
    numbers = counts.integral > 0 or counts.fractional > 0
    if counts.string > 0 or (counts.boolean > 0 and numbers):
        return STRING
    if counts.boolean > 0:
        return BOOLEAN
    if counts.fractional > 0:
        return FRACTIONAL
    return INTEGRAL


def to_double(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Numeric cells as float64 (NaN where the cell is null or would not cast in Spark).

    Call this on columns whose non-null cells are all numeric by :func:`classify`.
    """
    arr = _as_array(column)
    fast = _single_digits(arr)
    if fast is not None:
        return fast
    try:
        values = pc.cast(arr, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        values = pa.array([_java_parse(v) for v in arr.to_pylist()], type=pa.float64())
    return values.to_numpy(zero_copy_only=False)


def _single_digits(arr: pa.Array) -> np.ndarray | None:
    """Values of a numeric column whose cells are all one character long (e.g. 0/1 flags).

    Numeric cells are at least one digit long, so the text bytes equal the non-null count
    exactly when every cell is a single digit (and nulls are empty); the digits are then read
    straight from the data buffer.
    """
    if pa.types.is_large_string(arr.type) or len(arr) == 0:
        return None
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)
    start, end = int(offsets[arr.offset]), int(offsets[arr.offset + len(arr)])
    nonnull = len(arr) - arr.null_count
    if end - start != nonnull:
        return None
    digits = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[start:end].astype(np.float64) - 48.0
    if arr.null_count == 0:
        return digits
    values = np.full(len(arr), np.nan)
    values[arr.is_valid().to_numpy(zero_copy_only=False)] = digits
    return values


def _java_parse(text: str | None) -> float | None:
    """``Double.parseDouble`` for cells the numeric patterns accept (else None)."""
    if text is None:
        return None
    text = text.strip()
    if len(text) > 1 and text[0] in "+-" and text[1] == " ":
        return None  # "- 5": the pattern allows it, Java's parser does not
    try:
        return float(text)
    except ValueError:
        return None
