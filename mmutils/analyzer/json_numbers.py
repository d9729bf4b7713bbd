"""JSON documents whose long arrays of floats are parsed by a compiled kernel, without the GIL.

A baseline ``statistics.json`` is mostly KLL sketch levels: a lab-sized one holds ~300,000
floats in 2 MB of text. ``json.loads`` turns each into a Python float while holding the GIL
for the whole call (~25 ms), and a monitoring run reads the baseline while its worker threads
scan the window's first files: every thread that needs the GIL then waits for the whole
call. :func:`loads` gives ``json.loads``' result with those arrays parsed by a numba kernel
(``nogil``) straight into float64 arrays:

1. the kernel finds every array of at least :data:`MIN_ITEMS` JSON numbers that all have a
   fraction or an exponent (``json.loads`` makes floats of exactly these; an array with an
   integer, ``NaN`` or anything else is left to it), outside strings;
2. it parses them: a number whose significant digits make an integer ``m <= 2**53``, with a
   power of ten up to 10**22, is one exact integer times or divided by one exact power of
   ten, so one IEEE operation gives the correctly rounded double that Python's ``float``
   gives; any other number is handed to ``float`` itself (the same text ``json`` hands it);
3. ``json.loads`` parses the rest of the text, each array replaced by a marker string, and
   the markers are replaced by the arrays: a ``numpy`` float64 array where the caller keeps
   arrays (see ``keep``), the same Python list ``json.loads`` gives elsewhere.

Invalid JSON gives ``json.loads``' own error on the original text.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np

from mmutils.analyzer import compiled  # numba set up without SciPy's BLAS probe

__all__ = ["MIN_ITEMS", "loads", "loaded", "warm"]

#: shorter arrays of floats are left to ``json.loads`` (a marker would cost more than it saves)
MIN_ITEMS = 16

# the marker that stands in for an array while ``json.loads`` parses the rest: a string that
# a document is checked not to hold already
_MARK = b"mmlab-json-array:"
_POW10 = np.array([10.0**i for i in range(23)])
_EXACT = 1 << 53
# tokens beyond the fast path that a first pass makes room for (more: a second pass)
_SLOW = 1024


def _scan(data, min_items, spans, values, slow):
    """Find and parse every array of at least ``min_items`` float tokens outside strings.

    Fills ``spans`` (``(k, 3)``: the ``[`` offset, the offset past ``]``, items) in text
    order, ``values`` with their items, and ``slow`` with the tokens left to Python's
    ``float`` (start, end, index in ``values``; their values are NaN here). Returns
    ``(arrays, slow tokens)``; ``arrays`` is -1 when ``spans``, ``values`` or ``slow`` is too
    short. One function without calls: numba's calls per token cost ~8x the scan itself.

    A float token follows RFC 8259's grammar, ``-?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?``, with a
    fraction or an exponent (``json.loads`` makes an int of the others). Its fast path: at
    most 18 significant digits making ``m <= 2**53`` and a power of ten within 10**22, so
    that ``m`` and the power are exact doubles and one multiplication or division rounds
    correctly, as Python's ``float`` does.
    """
    n = len(data)
    found = 0
    at = 0
    slows = 0
    p = 0
    while p < n:
        b = data[p]
        if b == 34:  # a string: skip it, escapes included
            p += 1
            while p < n and data[p] != 34:
                p += 2 if data[p] == 92 else 1
            p += 1
            continue
        if b != 91:  # [
            p += 1
            continue
        # an array: is it all float tokens?
        q = p + 1
        while q < n and (data[q] == 32 or data[q] == 10 or data[q] == 13 or data[q] == 9):
            q += 1
        first = at
        first_slow = slows
        end = -1
        while at < len(values):
            start = q
            negative = q < n and data[q] == 45  # -
            if negative:
                q += 1
            if q >= n or not 48 <= data[q] <= 57:
                break
            if data[q] == 48 and q + 1 < n and 48 <= data[q + 1] <= 57:
                break  # a leading zero stands alone
            m = 0
            kept = 0  # significant digits in m: 18 at most (no overflow), a 19th makes it inexact
            exact = True
            point = -1  # the offset of the decimal point
            while q < n:
                c = data[q]
                if 48 <= c <= 57:
                    if m or c != 48:
                        if kept < 18:
                            m = m * 10 + (c - 48)
                            kept += 1
                        else:
                            exact = False
                elif c == 46 and point < 0:  # .
                    point = q
                else:
                    break
                q += 1
            fraction = 0 if point < 0 else q - point - 1  # digits after the point
            if point >= 0 and fraction == 0:
                break
            is_float = point >= 0
            power = 0
            if q < n and (data[q] == 101 or data[q] == 69):  # e E
                q += 1
                minus = q < n and data[q] == 45
                if q < n and (data[q] == 43 or data[q] == 45):
                    q += 1
                e_start = q
                while q < n and 48 <= data[q] <= 57:
                    if power < 100000:
                        power = power * 10 + (data[q] - 48)
                    q += 1
                if q == e_start:
                    break
                if minus:
                    power = -power
                is_float = True
            if not is_float:
                break
            power -= fraction
            if m == 0 and exact:
                v = 0.0
            elif exact and m <= _EXACT and -22 <= power <= 22:
                v = m * _POW10[power] if power >= 0 else m / _POW10[-power]
            else:
                if slows == len(slow):
                    return -1, 0
                v = np.nan
                slow[slows, 0] = start
                slow[slows, 1] = q
                slow[slows, 2] = at
                slows += 1
            values[at] = -v if negative else v
            at += 1
            while q < n and (data[q] == 32 or data[q] == 10 or data[q] == 13 or data[q] == 9):
                q += 1
            if q >= n:
                break
            if data[q] == 93:  # ]
                end = q + 1
                break
            if data[q] != 44:  # ,
                break
            q += 1
            while q < n and (data[q] == 32 or data[q] == 10 or data[q] == 13 or data[q] == 9):
                q += 1
        else:
            return -1, 0
        if end < 0 or at - first < min_items:
            at = first  # not an array of floats (or a short one): look inside it
            slows = first_slow
            p += 1
            continue
        if found == len(spans):
            return -1, 0
        spans[found, 0] = p
        spans[found, 1] = end
        spans[found, 2] = at - first
        found += 1
        p = end
    return found, slows


_scan = compiled.compile_kernel(_scan)
_loaded = False


class _Fallback(Exception):
    """The markers cannot be put back (one became a key): parse the original text."""


def loads(text: str, keep: Callable[[object], bool] = lambda key: False) -> object:
    """``json.loads(text)``, with its long arrays of floats parsed without the GIL.

    Args:
        text: a JSON document.
        keep: called with the key of a list (``None`` at the top level or in a list); the
            float arrays that are items of a list under a key it accepts are returned as
            float64 numpy arrays (e.g. ``lambda key: key == "data"`` for sketch levels),
            every other one as the list of floats ``json.loads`` gives.

    Returns:
        The document, as ``json.loads`` gives it but for the arrays ``keep`` asks for.

    Raises:
        json.JSONDecodeError: the text is not valid JSON (``json.loads``' error on ``text``).
    """
    blob = text.encode("utf-8")
    if _MARK in blob:
        return json.loads(text)
    data = np.frombuffer(blob, np.uint8)
    # a float token and its comma take 4 bytes or more, an array of them 4 * MIN_ITEMS
    spans = np.empty((len(blob) // (4 * MIN_ITEMS) + 1, 3), np.int64)
    values = np.empty(len(blob) // 4 + 1)
    slow = np.empty((_SLOW, 3), np.int64)
    found, slows = _scan(data, MIN_ITEMS, spans, values, slow)
    if found < 0:  # many tokens beyond the fast path: room for every one
        slow = np.empty((len(values), 3), np.int64)
        found, slows = _scan(data, MIN_ITEMS, spans, values, slow)
    global _loaded
    _loaded = True
    if found <= 0:
        return json.loads(text)
    spans = spans[:found]
    for start, end, index in slow[:slows].tolist():
        values[index] = float(blob[start:end])
    pieces = []
    prev = 0
    for k, (start, end) in enumerate(spans[:, :2].tolist()):
        pieces.append(blob[prev:start])
        pieces.append(b'"\\u0000' + _MARK + str(k).encode() + b'"')
        prev = end
    pieces.append(blob[prev:])
    try:
        doc = json.loads(b"".join(pieces))
    except json.JSONDecodeError:
        return json.loads(text)  # its own error, at its own line and column
    bounds = np.concatenate(([0], np.cumsum(spans[:, 2])))
    arrays = [values[bounds[k] : bounds[k + 1]] for k in range(found)]
    try:
        return _restore(doc, arrays, keep)
    except _Fallback:
        return json.loads(text)


_PREFIX = "\x00" + _MARK.decode()


def _array(value: object, arrays: list[np.ndarray]) -> np.ndarray | None:
    if isinstance(value, str) and value.startswith(_PREFIX):
        return arrays[int(value[len(_PREFIX) :])]
    return None


def _restore(doc: object, arrays: list[np.ndarray], keep: Callable[[object], bool]) -> object:
    """``doc`` with every marker replaced by its array (see :func:`loads`)."""
    top = _array(doc, arrays)
    if top is not None:
        return top.tolist()
    stack: list[tuple[object, object]] = [(doc, None)]
    while stack:
        node, key = stack.pop()
        if isinstance(node, dict):
            for k, value in node.items():
                if k.startswith(_PREFIX):
                    raise _Fallback
                found = _array(value, arrays)
                if found is not None:
                    node[k] = found.tolist()
                elif isinstance(value, dict | list):
                    stack.append((value, k))
        elif isinstance(node, list):
            as_array = keep(key)
            for i, value in enumerate(node):
                found = _array(value, arrays)
                if found is not None:
                    node[i] = found if as_array else found.tolist()
                elif isinstance(value, dict | list):
                    stack.append((value, None))
    return doc


def loaded() -> bool:
    """Whether this process has loaded the kernels (a first call loads them: ~0.05 s)."""
    return _loaded


def warm() -> None:
    """Load (or compile) the kernels now."""
    loads("[[" + ", ".join(["1.5"] * MIN_ITEMS) + "]]")
