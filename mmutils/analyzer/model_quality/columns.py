"""Typed columns for the metrics: labels, predictions and probabilities parsed from strings.

Every row remembers where it came from (:class:`Origins`), so a value that cannot be used is
reported as ``{file} line {n}`` with the attribute that names it. Parsing is vectorised over
the column; only an error path looks at single values to name the first bad one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mmutils.analyzer.errors import AnalyzerError


@dataclass
class Origins:
    """Where each row came from: a file and a line number.

    Attributes:
        sources: the files (or other names), in reading order.
        source_index: per row, the index into ``sources``.
        lines: per row, the 1-based line number in its source.
    """

    sources: list[str] = field(default_factory=list)
    source_index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    lines: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.lines)

    def where(self, row: int) -> str:
        """``"{source} line {n}"`` of one row."""
        return f"{self.sources[int(self.source_index[row])]} line {int(self.lines[row])}"

    def take(self, rows: np.ndarray) -> Origins:
        """The origins of a subset of rows (indices or a boolean mask)."""
        return Origins(self.sources, self.source_index[rows], self.lines[rows])

    @classmethod
    def concat(cls, parts: Sequence[Origins]) -> Origins:
        """One :class:`Origins` of several, rows in order."""
        sources: list[str] = []
        index, lines = [], []
        for part in parts:
            index.append(part.source_index + len(sources))
            lines.append(part.lines)
            sources.extend(part.sources)
        if not parts:
            return cls()
        return cls(sources, np.concatenate(index).astype(np.int32), np.concatenate(lines))


def _strings(values: Sequence[str | None] | pa.Array) -> pa.Array:
    arr = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
    if arr.type != pa.string():
        arr = arr.cast(pa.string())
    return pc.utf8_trim_whitespace(arr)


def _first_missing(arr: pa.Array) -> int | None:
    missing = pc.or_(pc.is_null(arr), pc.equal(arr, ""))
    missing = pc.fill_null(missing, True)
    if not pc.any(missing).as_py():
        return None
    return int(np.flatnonzero(missing.to_numpy(zero_copy_only=False))[0])


def require_present(values, what: str, origins: Origins) -> pa.Array:
    """The column as trimmed strings; every row must hold a value.

    Raises:
        AnalyzerError: ``{what} is missing at {file} line {n}``.
    """
    arr = _strings(values)
    bad = _first_missing(arr)
    if bad is not None:
        raise AnalyzerError(f"{what} is missing at {origins.where(bad)}")
    return arr


def parse_floats(values, what: str, origins: Origins) -> np.ndarray:
    """Parse a column of numbers (Java/Spark double syntax; ``NaN`` and infinities rejected).

    Raises:
        AnalyzerError: a missing value or one that is not a finite number, naming the row.
    """
    arr = require_present(values, what, origins)
    try:
        out = pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        out = None
    if out is not None and np.isfinite(out).all():
        return out
    texts = arr.to_pylist()
    for i, text in enumerate(texts):  # error path only: name the first bad value
        try:
            value = float(text)
        except ValueError:
            raise AnalyzerError(
                f"{what} value {text!r} at {origins.where(i)} is not a number"
            ) from None
        if not np.isfinite(value):
            raise AnalyzerError(f"{what} value {text!r} at {origins.where(i)} is not finite")
    raise AnalyzerError(f"{what}: cannot parse the column as numbers")  # pragma: no cover


def parse_binary(values, what: str, origins: Origins) -> np.ndarray:
    """Parse binary labels: numbers equal to 0 or 1 (``"0"``, ``"1"``, ``"1.0"``).

    Returns:
        A boolean array (``True`` = the positive class 1).

    Raises:
        AnalyzerError: ``{what} value '2' at {file} line {n} is not a binary label (0 or 1)``.
    """
    numbers = parse_floats(values, what, origins)
    bad = np.flatnonzero((numbers != 0.0) & (numbers != 1.0))
    if len(bad):
        text = _strings(values)[int(bad[0])].as_py()
        raise AnalyzerError(
            f"{what} value {text!r} at {origins.where(int(bad[0]))} is not a binary label (0 or 1)"
        )
    return numbers == 1.0


def parse_probabilities(values, what: str, origins: Origins) -> np.ndarray:
    """Parse probabilities, which must lie in [0, 1].

    Raises:
        AnalyzerError: ``{what} value '1.7' at {file} line {n} is outside [0, 1]``.
    """
    numbers = parse_floats(values, what, origins)
    bad = np.flatnonzero((numbers < 0.0) | (numbers > 1.0))
    if len(bad):
        text = _strings(values)[int(bad[0])].as_py()
        raise AnalyzerError(
            f"{what} value {text!r} at {origins.where(int(bad[0]))} is outside [0, 1]"
        )
    return numbers


def class_labels(truth, predicted, what: tuple[str, str], origins: Origins):
    """Multiclass labels of both columns as one set of class names.

    When every value of both columns is a number, the class of ``"1"`` and ``"1.0"`` is the
    same and is named ``"1"`` (integral numbers without a fraction); otherwise labels are
    compared as strings.

    Returns:
        ``(names, truth_index, predicted_index)``: the class names in order (numeric order for
        numbers, else string order) and each row's index into them.
    """
    t = require_present(truth, what[0], origins)
    p = require_present(predicted, what[1], origins)
    both = pa.concat_arrays([t, p])
    try:
        numbers = pc.cast(both, pa.float64()).to_numpy(zero_copy_only=False)
        numeric = bool(np.isfinite(numbers).all())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        numeric = False
    if numeric:
        values, inverse = np.unique(numbers, return_inverse=True)
        names = [str(int(v)) if float(v).is_integer() else repr(float(v)) for v in values]
    else:
        values, inverse = np.unique(
            np.asarray(both.to_numpy(zero_copy_only=False), dtype=str), return_inverse=True
        )
        names = [str(v) for v in values]
    n = len(t)
    return names, inverse[:n], inverse[n:]


def split_attribute(attribute: str) -> list[str]:
    """``"$.a.b[0]"`` / ``"a.b.0"`` -> ``["a", "b", "0"]`` (a simple JSONPath)."""
    path = attribute.strip()
    if path.startswith("$"):
        path = path[1:]
    path = path.replace("[", ".").replace("]", "")
    return [part for part in path.split(".") if part]


def _lookup(doc, parts: list[str]):
    for part in parts:
        if isinstance(doc, list) and part.lstrip("-").isdigit():
            doc = doc[int(part)]
        elif isinstance(doc, dict):
            doc = doc[part]
        else:
            raise KeyError(part)
    return doc


def _as_text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    return json.dumps(value)


def payload_column(
    texts: Sequence[str], encodings: Sequence[str], attribute: str, what: str, origins: Origins
) -> pa.Array:
    """One attribute of every captured payload (``endpointOutput`` or ground truth).

    CSV payloads are split on commas and ``attribute`` is a 0-based column index (vectorised
    with Arrow); JSON payloads are parsed and ``attribute`` is a key path (``"$.score"``,
    ``"predictions.0.label"``).

    Raises:
        AnalyzerError: the attribute is not an index of a CSV payload, the payload has no such
            column/key, or is not valid JSON — naming the row.
    """
    enc = np.asarray(encodings, dtype=object)
    out: list[str | None] = [None] * len(texts)
    csv_rows = np.flatnonzero(enc == "CSV")
    if len(csv_rows):
        try:
            index = int(attribute)
        except ValueError:
            raise AnalyzerError(
                f"{what} {attribute!r} must be a column index for CSV data "
                f"({origins.where(int(csv_rows[0]))})"
            ) from None
        arr = pa.array(texts, pa.string())
        if len(csv_rows) != len(texts):
            arr = arr.take(pa.array(csv_rows))
        arr = pc.utf8_trim_whitespace(arr)
        parts = pc.split_pattern(arr, ",")
        lengths = pc.list_value_length(parts).to_numpy(zero_copy_only=False)
        short = np.flatnonzero(lengths <= index)
        if len(short) or index < 0:
            row = int(csv_rows[short[0] if len(short) else 0])
            raise AnalyzerError(
                f"{what} {attribute!r}: {origins.where(row)} has only "
                f"{int(lengths[short[0] if len(short) else 0])} CSV column(s)"
            )
        column = pc.utf8_trim_whitespace(pc.list_element(parts, index))
        if len(csv_rows) == len(texts):
            return column  # the common case: every payload is CSV
        for row, value in zip(csv_rows.tolist(), column.to_pylist(), strict=True):
            out[row] = value
    other = np.flatnonzero(enc != "CSV")
    if len(other):
        parts = split_attribute(attribute)
        for row in other.tolist():  # JSON needs a parse per record
            try:
                doc = json.loads(texts[row])
            except (TypeError, json.JSONDecodeError) as exc:
                raise AnalyzerError(
                    f"{what}: {origins.where(row)} is not valid JSON ({exc})"
                ) from None
            try:
                out[row] = _as_text(_lookup(doc, parts) if parts else doc)
            except (KeyError, IndexError, TypeError):
                raise AnalyzerError(
                    f"{what} {attribute!r} not found in the JSON at {origins.where(row)}"
                ) from None
    return pa.array(out, pa.string())
