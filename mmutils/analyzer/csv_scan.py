"""A compiled cut of plain CSV lines into string columns, for the baselining job's reader.

pyarrow's streaming CSV reader parses ~100 MB/s on one thread whatever ``use_threads`` says
(measured: a 161 MB, 1M-row dataset takes 1.4-1.5 s to become string columns, the whole of a
2-worker baseline's time). Most of its work is generic: quotes, escapes, type inference
machinery. Most datasets hold none of that. This module cuts a block of complete lines at
their commas straight into the ``offsets`` / ``data`` / validity buffers of one Arrow string
column per cell position (numba, ``nogil``: worker threads cut blocks on every core), with
:mod:`mmutils.analyzer.capture_scan`'s splitting and column kernels.

The grammar is conservative on purpose: a block is **plain** only when pyarrow's reader (with
the options :mod:`mmutils.analyzer.readers` gives it) would read it with no room for
interpretation, so the columns are the ones it gives, cell for cell (an empty cell is null).
A block is plain when:

* no byte is a double quote (no quoting, so a comma always separates cells and a newline
  always ends a row), and no byte is below ``0x20`` except tabs and line ends;
* lines end with ``\\n`` or ``\\r\\n`` (a lone ``\\r``, which pyarrow also reads as a line end,
  is not plain); empty lines are skipped, as pyarrow skips them;
* every other line has exactly ``width`` cells;
* bytes from ``0x80`` on form valid UTF-8 (checked once the columns are built, and only when
  there are any).

Anything else makes :func:`cut` report the block *not plain*, with the reason and where, and
the reader hands the file (from the rows already yielded) to pyarrow's reader, unchanged, with
every error message and odd case exactly as before.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from mmutils.analyzer import capture_scan
from mmutils.analyzer.buffers import RecycledBuffers
from mmutils.analyzer.capture_scan import ScanResult, _compile

__all__ = ["REASONS", "cut", "warm"]

_OK = 0
_QUOTE = 1
_CONTROL = 2
_RAGGED = 3
_UTF8 = 4

#: the text of each reason :func:`cut` can give
REASONS = {
    _OK: "plain",
    _QUOTE: "a double quote",
    _CONTROL: "a control byte or a lone carriage return",
    _RAGGED: "a row with another number of cells",
    _UTF8: "bytes that are not UTF-8",
}

_LF = 10
_CR = 13
_TAB = 9
_DQUOTE = 34
_LOW7 = capture_scan._LOW7
_HIGH = capture_scan._HIGH
_TO_SPACE = capture_scan._TO_SPACE
_QUOTES = capture_scan._QUOTES
_zero_bytes = capture_scan._zero_bytes
_split = capture_scan._split


def _special(w):
    """Non-zero when the eight bytes ``w`` hold a quote, a byte below 0x20 or one from 0x80."""
    low = w & _LOW7
    control = ~((low + _TO_SPACE) | w) & _HIGH  # below 0x20 (tabs and line ends too)
    return _zero_bytes(w ^ _QUOTES) | control | (w & _HIGH)


def _lines(buf, start) -> int:
    n = 1
    for i in range(start, len(buf)):
        n += buf[i] == _LF
    return n


def _rows(buf, words, start, width, starts_space, lens_space):
    """Find the rows of ``buf[start:]`` and where their cells are.

    Args:
        buf: complete lines (uint8); the last one may lack its line end.
        words: ``buf`` as uint64 (its first ``len(buf) // 8 * 8`` bytes).
        start: where the first line starts.
        width: cells per row.
        starts_space: scratch space for ``starts``, for at least ``rows * width`` cells
            (:func:`_lines` counts the rows at most).
        lens_space: scratch space for ``lens``, as large as ``starts_space``.

    Returns:
        ``(code, position, rows, high, starts, lens)``: ``code`` 0 when plain (else a
        :data:`REASONS` key, found at ``position``); ``high`` whether a byte from 0x80 on was
        seen; cell ``j`` of row ``r`` is ``buf[starts[r, j]:starts[r, j] + lens[r, j]]``.
    """
    end = len(buf)
    capacity = len(lens_space) // width
    lens = lens_space[: capacity * width].reshape((capacity, width))
    starts = starts_space[: capacity * width].reshape((capacity, width))
    ends = np.zeros(width + 1, np.int64)
    high = False
    n = 0
    i = start
    while i < end:
        line = i
        stop = end
        while i < end:  # to the line's end, eight bytes at a time while none is special
            if (i & 7) == 0 and i + 8 <= end and _special(words[i >> 3]) == 0:
                i += 8
                continue
            c = buf[i]
            if c == _LF:
                stop = i
                break
            if c >= 128:
                high = True
            elif c == _DQUOTE:
                return _QUOTE, i, n, high, starts, lens
            elif c < 32 and c != _TAB:
                if c == _CR and i + 1 < end and buf[i + 1] == _LF:
                    stop = i
                    i += 1
                    break
                return _CONTROL, i, n, high, starts, lens
            i += 1
        i += 1  # past the line feed
        if stop == line:
            continue  # an empty line: pyarrow skips it
        if _split(buf, line, stop, starts, lens, n, 0, ends) != width:
            return _RAGGED, line, n, high, starts, lens
        n += 1
    return _OK, i, n, high, starts, lens


_special = _compile(_special)
_lines = _compile(_lines)
_rows_kernel = _compile(_rows)


def cut(
    data: bytes | bytearray | memoryview | np.ndarray,
    width: int,
    start: int = 0,
    recycled: RecycledBuffers | None = None,
) -> ScanResult:
    """The rows of a block of complete CSV lines as string columns, when the block is plain.

    Args:
        data: the lines' bytes (under 2 GiB), from ``start`` on; the last line may lack its
            line end.
        width: cells per row (at least 1).
        start: where the first line starts (past a header line, say).
        recycled: where the columns' memory comes from (see
            :func:`~mmutils.analyzer.capture_scan.string_columns`).

    Returns:
        A capture scan :class:`~mmutils.analyzer.capture_scan.ScanResult` (``eligible``: the
        block is plain): one ``pa.StringArray`` per cell position (empty cells null,
        no row for an empty line), or ``columns=None`` with the reason the block is not plain
        (see the module docstring).
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    if buf.ctypes.data % 8:  # the uint64 view needs 8-byte alignment
        buf = buf.copy()
    buf.flags.writeable = False  # one kernel signature for every caller
    words = buf[: len(buf) // 8 * 8].view(np.uint64)
    space = capture_scan.scratch(int(_lines(buf, start)) * width)
    code, position, n, high, starts, lens = _rows_kernel(buf, words, start, width, *space)
    if code != _OK:
        return ScanResult(None, REASONS[int(code)], int(position))
    columns = capture_scan.string_columns(buf, starts, lens, n, recycled)
    if high:
        try:
            for column in columns:
                column.validate(full=True)  # the UTF-8 check pyarrow's reader makes
        except pa.ArrowInvalid:
            return ScanResult(None, REASONS[_UTF8], 0)
    return ScanResult(columns, REASONS[_OK])


def warm() -> None:
    """Load (or compile) the kernels now, e.g. in a process that forks analyzer jobs."""
    cut(b"a,b\n1,\n", 2)
