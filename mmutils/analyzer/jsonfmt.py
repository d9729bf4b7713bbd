"""The analyzer's JSON byte format: Jackson ``DefaultPrettyPrinter`` with Java number printing.

The real container writes ``statistics.json``, ``constraints.json`` and
``constraint_violations.json`` with Jackson's default pretty printer (spec §F.1):

* objects: ``{`` + newline, one ``"key" : value`` per line indented by two spaces per enclosing
  object, ``}`` on its own line; empty object ``{ }``;
* arrays stay on one line: ``[ a, b ]``; an object inside an array opens right after ``[ `` and
  the next one follows ``}, {``; arrays do not add indentation; empty array ``[ ]``;
* ``float`` values print as Java ``Double.toString`` (``0.0``, ``1.0E7``, ``1.0E-4``), ``int``
  values plainly, strings JSON-escaped the way Jackson does it (control characters as ``\\uXXXX``
  with upper-case hex, non-ASCII characters kept as they are).

The document text ends with one newline, as the real ``constraints.json`` does.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["ArrayTexts", "dumps", "java_double", "java_doubles", "write_documents"]

# Jackson escapes '"', '\\' and the C0 controls; the usual five get their short form.
_ESCAPE_RE = re.compile(r'["\\\x00-\x1f]')
_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def _escape_char(match: re.Match[str]) -> str:
    ch = match.group(0)
    return _SHORT_ESCAPES.get(ch) or f"\\u{ord(ch):04X}"


def _quote(text: str) -> str:
    return '"' + _ESCAPE_RE.sub(_escape_char, text) + '"'


def java_double(x: float) -> str:
    """Format a float the way Java's ``Double.toString`` does.

    Plain decimal notation with at least one fractional digit for ``1e-3 <= |x| < 1e7``,
    otherwise ``d.dddE<exp>``. Digits are the shortest round-tripping ones (Python ``repr``);
    Java 8 prints a few rare values with one or two extra digits, which this does not mimic.

    Args:
        x: the value.

    Returns:
        The text Java would print, e.g. ``"105.24000000000001"``, ``"2.36279E7"``, ``"-0.0"``,
        ``"NaN"``, ``"Infinity"``.
    """
    x = float(x)
    if 1e-3 <= abs(x) < 1e7:
        # Python's repr is positional in this range and has the same digits: Java's text
        return repr(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0.0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    sign, digit_tuple, exponent = Decimal(repr(x)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    # value = 0.d1d2d3... * 10**point
    point = len(digit_tuple) + exponent
    prefix = "-" if sign else ""
    # outside [1e-3, 1e7) Java switches to computerized scientific notation
    fraction = digits[1:] or "0"
    return f"{prefix}{digits[0]}.{fraction}E{point - 1}"


def java_doubles(values: Sequence[float] | np.ndarray) -> list[str]:
    """:func:`java_double` of many values at once (e.g. a KLL sketch level).

    The range test runs on the whole array: zeros and values with ``1e-3 <= |x| < 1e7`` (whose
    Java text is Python's ``repr``) cost one ``repr`` each; only the rest (tiny, huge,
    non-finite) take the scalar path.

    Args:
        values: floats (a list or a numpy array).

    Returns:
        The texts, in order.
    """
    arr = np.asarray(values, dtype=np.float64).ravel()
    floats = arr.tolist()
    texts = list(map(repr, floats))
    plain = _plain_range(arr)
    if not plain.all():
        for i in np.flatnonzero(~plain).tolist():
            texts[i] = java_double(floats[i])
    return texts


def _plain_range(values: np.ndarray) -> np.ndarray:
    """Where Java's text of ``values`` is Python's ``repr``: ``1e-3 <= |x| < 1e7``, and the
    zeros (``repr(-0.0)`` is ``"-0.0"`` too)."""
    mag = np.abs(values)
    with np.errstate(invalid="ignore"):
        return ((mag >= 1e-3) & (mag < 1e7)) | (values == 0.0)


_ONLY_FLOAT = {float}


def _float_array(value: object) -> np.ndarray | None:
    """A list / array made only of floats (sketch data) as a float64 array, else None."""
    if isinstance(value, np.ndarray):
        if value.ndim != 1 or value.dtype.kind != "f" or len(value) == 0:
            return None
    elif not (
        isinstance(value, list)
        and value
        and type(value[0]) is float
        and set(map(type, value)) == _ONLY_FLOAT
    ):
        return None
    return np.asarray(value, dtype=np.float64)


class _FloatArrays:
    """The float arrays of one document, formatted together once the layout is written.

    A statistics document holds a few hundred thousand sketch values but only a few thousand
    distinct ones (most of the lab's columns are 0/1 flags), so each distinct bit pattern
    (``-0.0`` and ``0.0`` apart, every NaN payload apart) is formatted once
    (:func:`_value_texts`), and Arrow puts the texts in place and joins each array's.
    """

    __slots__ = ("slots", "arrays", "ready")

    def __init__(self, ready: ArrayTexts | None = None) -> None:
        self.slots: list[int] = []
        self.arrays: list[np.ndarray] = []
        self.ready = ready

    def add(self, out: list[str], values: np.ndarray) -> None:
        """Reserve the place of ``values``' text at the end of ``out``."""
        self.slots.append(len(out))
        self.arrays.append(values)
        out.append("")

    def fill(self, out: list[str]) -> None:
        """Write every reserved array as ``[ a, b ]`` into its place in ``out``."""
        for slot, text in zip(self.slots, _array_texts(self.arrays), strict=True):
            out[slot] = text


def _array_texts(arrays: list[np.ndarray]) -> list[str]:
    """Each float64 array's JSON text, ``[ a, b ]``."""
    if not arrays:
        return []
    import pyarrow as pa  # loaded by every analysis; a document-only process may not need it
    import pyarrow.compute as pc

    texts = _value_texts(np.concatenate(arrays))
    bounds = np.zeros(len(arrays) + 1, dtype=np.int64)
    np.cumsum([len(values) for values in arrays], out=bounds[1:])
    # each array's texts joined by Arrow: no Python string per value
    lists = pa.LargeListArray.from_arrays(pa.array(bounds), texts)
    return ["[ " + text + " ]" for text in pc.binary_join(lists, ", ").to_pylist()]


class ArrayTexts:
    """The JSON texts of a document's float arrays, formatted ahead of :func:`dumps`.

    A profiler's column groups format their sketches' levels on their own threads as they
    finish (Arrow formats without the GIL), so that writing ``statistics.json`` at the end of
    a run is left only the layout. :func:`dumps` takes a text for the very array object it was
    made from, and for no other; the array must not change in between.
    """

    __slots__ = ("_texts",)

    def __init__(self) -> None:
        self._texts: dict[int, tuple[np.ndarray, str]] = {}

    def add(self, value: object) -> None:
        """Format every numpy float array in ``value`` (nested dicts and lists) that
        :func:`dumps` would write as one."""
        found: list[tuple[np.ndarray, np.ndarray]] = []
        _arrays_in(value, found)
        texts = _array_texts([values for _, values in found])
        for (array, _), text in zip(found, texts, strict=True):
            self._texts[id(array)] = (array, text)

    def update(self, other: ArrayTexts) -> None:
        """Take ``other``'s texts too."""
        self._texts.update(other._texts)

    def text(self, values: np.ndarray) -> str | None:
        """The text formatted for this very array, else None."""
        held = self._texts.get(id(values))
        return held[1] if held is not None and held[0] is values else None


def _arrays_in(value: object, found: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """The numpy arrays in ``value`` that :func:`_write` writes as float arrays, each with its
    float64 values."""
    if isinstance(value, np.ndarray):
        values = _float_array(value)
        if values is not None:
            found.append((value, values))
    elif isinstance(value, Mapping):
        for item in value.values():
            _arrays_in(item, found)
    elif isinstance(value, list):
        for item in value:
            _arrays_in(item, found)


def _value_texts(values: np.ndarray):
    """JSON texts of float64 ``values`` as a ``pa.StringArray``, each distinct bit pattern
    formatted once.

    In Java's plain range (``1e-3 <= |x| < 1e7``, and zeros) Java's text is Python's
    ``repr``: the shortest digits that round-trip, positional, with at least one fractional
    digit. Arrow's cast to string prints the same shortest digits (double-conversion's
    ``ToShortest``, positional in that range) without the ``.0`` of a whole number, which is
    added (96.5 million doubles of that range compared with ``repr``, no difference); the
    other values take :func:`java_double`. Non-finite values are quoted, as :func:`_scalar`
    quotes them.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    encoded = pc.dictionary_encode(pa.array(bits))
    distinct = encoded.dictionary.to_numpy().view(np.float64)
    texts = pc.cast(pa.array(distinct), pa.string())
    whole = pc.invert(pc.match_substring(texts, "."))
    texts = pc.if_else(whole, pc.binary_join_element_wise(texts, ".0", ""), texts)
    plain = _plain_range(distinct)
    if not plain.all():
        listed = texts.to_pylist()
        for i in np.flatnonzero(~plain).tolist():
            text = java_double(float(distinct[i]))
            listed[i] = text if np.isfinite(distinct[i]) else f'"{text}"'
        texts = pa.array(listed, pa.string())
    return texts.take(encoded.indices)


def _scalar(value: object) -> str | None:
    """Text of a scalar JSON value, or None for containers."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = java_double(value)
        # Jackson's QUOTE_NON_NUMERIC_NUMBERS (on by default) writes NaN/Infinity as strings.
        return text if math.isfinite(value) else f'"{text}"'
    if isinstance(value, str):
        return _quote(value)
    return None


def _write(value: object, depth: int, out: list[str], floats: _FloatArrays) -> None:
    kind = type(value)
    # the usual types first, by exact type (ABC checks cost more than the writing)
    if kind is str:
        out.append(_quote(value))
    elif kind is float and 1e-3 <= abs(value) < 1e7:
        out.append(repr(value))  # java_double's plain range
    elif kind is dict or (kind is not list and isinstance(value, Mapping)):
        if not value:
            out.append("{ }")
            return
        inner = "\n" + "  " * (depth + 1)
        out.append("{")
        first = True
        for key, item in value.items():
            out.append(inner if first else "," + inner)
            first = False
            out.append(_key(key))
            out.append(" : ")
            _write(item, depth + 1, out, floats)
        out.append("\n" + "  " * depth + "}")
    elif (text := _scalar(value)) is not None:
        out.append(text)
    elif kind is list or isinstance(value, Sequence | np.ndarray):
        if floats.ready is not None and (text := floats.ready.text(value)) is not None:
            out.append(text)  # formatted ahead
            return
        values = _float_array(value)
        if values is not None:
            floats.add(out, values)
            return
        if len(value) == 0:
            out.append("[ ]")
            return
        out.append("[ ")
        first = True
        for item in value:
            if not first:
                out.append(", ")
            first = False
            _write(item, depth, out, floats)
        out.append(" ]")
    else:
        converted = _convert_numpy(value)
        if converted is value:
            raise TypeError(f"cannot write {type(value).__name__} as JSON")
        _write(converted, depth, out, floats)


# the JSON text of object keys: a statistics document repeats the same few dozen keys
_KEYS: dict[str, str] = {}


def _key(key: object) -> str:
    text = _KEYS.get(key) if type(key) is str else None
    if text is None:
        text = _quote(str(key))
        if type(key) is str and len(_KEYS) < 4096:
            _KEYS[key] = text
    return text


def _convert_numpy(value: object) -> object:
    """Numpy scalars become Python ones (floating -> float, integer -> int, bool_ -> bool)."""
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def dumps(obj: object, array_texts: ArrayTexts | None = None) -> str:
    """Serialise a document exactly as the analyzer container writes it.

    Args:
        obj: nested ``dict``/``list`` of ``str``, ``int`` (printed plainly), ``float`` (printed
            with :func:`java_double`), ``bool`` and ``None``. Numpy arrays and scalars are
            accepted too.
        array_texts: texts of some of its arrays, formatted ahead (:class:`ArrayTexts`).

    Returns:
        The file text, ending with a newline.
    """
    out: list[str] = []
    floats = _FloatArrays(array_texts)
    _write(obj, 0, out, floats)
    floats.fill(out)
    out.append("\n")
    return "".join(out)


def _staged(final: Path) -> Path:
    """A new, unique temporary file next to ``final`` (hidden, same file system)."""
    fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    return Path(name)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a unique temporary name and a rename.

    Concurrent writers never share a temporary file, and a failed write (disk full, …)
    removes its temporary file: either the old file or the complete new one is there.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    final = Path(path)
    tmp = _staged(final)
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return final


def write_documents(
    output_dir: str | Path, documents: Mapping[str, Any], array_texts: ArrayTexts | None = None
) -> list[Path]:
    """Write JSON documents in the container's format; each via a temporary name + rename.

    Every document is serialised and written to a unique temporary file first; only when all
    are on disk are they renamed into place. A failure removes every temporary file, so it
    leaves neither partial documents nor full-size temporary files behind. ``array_texts``:
    see :func:`dumps`.
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, doc in documents.items():
            final = out / name
            tmp = _staged(final)
            staged.append((tmp, final))
            tmp.write_text(dumps(doc, array_texts), encoding="utf-8")
        for tmp, final in staged:
            tmp.replace(final)
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    return [final for _, final in staged]
