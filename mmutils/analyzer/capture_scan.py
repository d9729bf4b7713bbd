"""A compiled scan of whole capture files: CSV payloads to string columns without a JSON parse.

The reader's general path (:mod:`mmutils.analyzer.capture_reader`) parses every capture line
with pyarrow's JSON reader, joins the payloads per record and parses the joined text with
pyarrow's CSV reader. Most of that work is generic: the JSON parser builds struct columns of
every known field, the join copies every payload, the CSV parser looks for quotes and escapes
that SageMaker's CSV capture rarely holds. This module does the same job for the common case
in two passes over the file's bytes (numba kernels, ``nogil``, so worker threads run them on
every core): :func:`scan` finds each record's payloads and checks the file against a strict
grammar, then the payloads are cut at their commas straight into the ``offsets`` / ``data`` /
validity buffers of one Arrow string column per cell position.

The grammar is conservative on purpose: a file is **eligible** only when the general path
would read it through its fast CSV branch with no room for interpretation, so the columns are
the ones that path gives, cell for cell (empty cell: null). Anything else — an escape, a byte
outside printable ASCII, a shadow record, another encoding, a number, a ragged row — makes the
whole file *not eligible*, and the reader runs the general path on it, unchanged (with every
error message and odd case exactly as before). A file is eligible when:

* every line holds one JSON object, or only JSON whitespace (blank lines are skipped; ``\\r``
  is allowed only at a line's end, so CRLF files are eligible); the last line may lack its
  newline; spaces and tabs may stand between tokens (``json.dumps``' ``", "`` and ``": "``);
* every string (keys too) is printable ASCII (``0x20``-``0x7e``) without a backslash, so no
  escape can hide a quote, a newline or a carriage return in a payload: CSV splitting is then
  just cutting at commas, and one record is exactly one row;
* values are strings or objects only (no numbers, arrays, ``true``/``false``/``null``), at
  most :data:`MAX_DEPTH` objects deep; no key ``invocationSource`` anywhere (shadow records);
* ``captureData`` is an object holding both ``endpointInput`` and ``endpointOutput``, each an
  object with string ``data`` and ``encoding`` exactly ``"CSV"`` (``mode`` and
  ``observedContentType``, when present, strings); ``eventMetadata``, when present, an
  object; none of these keys twice in its object (pyarrow's reader rejects such a record);
  other keys (with string or object values) are ignored, as pyarrow ignores them (repeated
  ones too);
* every record's row (the ``parts`` payloads joined with ``","``) has the same number of cells;
  no payload of ``parts`` is empty. (An empty row is an empty line, which pyarrow's CSV reader
  skips; and the general path reads an empty payload as no cell where a run of records
  falls back to its per-record parser — after a multi-row payload in the same chunk — but
  as one empty cell otherwise. Left to the general path, such files behave as before.)

Loading numba and the cached kernels costs ~0.3-0.45 s in a fresh process, so the reader uses
this module only when that pays (see ``capture_reader.use_scan``); the emulator's warm analyzer
loads it once (:func:`warm`). Compiled code is cached on disk like
:mod:`mmutils.analyzer.compiled`'s (in memory when no cache location is writable).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numba
import numpy as np
import pyarrow as pa

from mmutils.analyzer import compiled  # noqa: F401 - numba set up without SciPy's BLAS probe
from mmutils.analyzer.buffers import RecycledBuffers, plain_pages

__all__ = ["MAX_DEPTH", "REASONS", "ScanResult", "scan", "scratch", "string_columns", "warm"]

#: objects nested deeper than this make a file not eligible
MAX_DEPTH = 32

# why a file is not eligible (0: it is)
_OK = 0
_BAD_BYTE = 1
_ESCAPE = 2
_SYNTAX = 3
_VALUE = 4
_DUPLICATE = 5
_SHADOW = 6
_NOT_CSV = 7
_MISSING = 8
_RAGGED = 9
_EMPTY_PAYLOAD = 10
_DEPTH = 11
_NO_RECORDS = 12
_CAPACITY = 13  # (internal) the scratch space is too small: grow it and scan again

#: the text of each reason code :func:`scan` can give
REASONS = {
    _OK: "eligible",
    _BAD_BYTE: "a byte outside printable ASCII in a string",
    _ESCAPE: "a backslash escape",
    _SYNTAX: "not one JSON object per line",
    _VALUE: "a value that is not a string or an object",
    _DUPLICATE: "a known key twice in one object",
    _SHADOW: "an invocationSource key (shadow traffic)",
    _NOT_CSV: "an encoding other than CSV",
    _MISSING: "a record without both CSV payloads",
    _RAGGED: "rows with different numbers of cells",
    _EMPTY_PAYLOAD: "an empty payload",
    _DEPTH: f"objects nested deeper than {MAX_DEPTH}",
    _NO_RECORDS: "no records",
}

# contexts: which object the parser is in
_TOP = 0
_CAPTURE = 1
_INPUT = 2
_OUTPUT = 3
_OTHER = 4  # eventMetadata and every object pyarrow ignores

# the keys the general path reads (as byte tuples: numba constants)
_K_CAPTURE = tuple(b"captureData")
_K_METADATA = tuple(b"eventMetadata")
_K_INPUT = tuple(b"endpointInput")
_K_OUTPUT = tuple(b"endpointOutput")
_K_DATA = tuple(b"data")
_K_ENCODING = tuple(b"encoding")
_K_MODE = tuple(b"mode")
_K_CONTENT_TYPE = tuple(b"observedContentType")
_K_SHADOW = tuple(b"invocationSource")
_CSV = tuple(b"CSV")

_QUOTE = 34
_BACKSLASH = 92
_COMMA = 44
# eight bytes at a time (uint64 constants: numba keeps uint64 arithmetic unsigned)
_ONES = np.uint64(0x0101010101010101)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_HIGH = np.uint64(0x8080808080808080)
_TO_SPACE = np.uint64(0x6060606060606060)  # (b & 0x7f) + 0x60 reaches 0x80 from b = 0x20 on
_QUOTES = np.uint64(0x2222222222222222)
_BACKSLASHES = np.uint64(0x5C5C5C5C5C5C5C5C)


def _is(buf, start, stop, word) -> bool:
    """Whether ``buf[start:stop]`` holds the bytes of ``word`` (a tuple)."""
    if stop - start != len(word):
        return False
    for k in range(len(word)):  # noqa: SIM110 - a plain loop compiles to the fastest code
        if buf[start + k] != word[k]:
            return False
    return True


def _blank(buf, i):
    """The first position from ``i`` that is not a space or a tab."""
    end = len(buf)
    while i < end and (buf[i] == 32 or buf[i] == 9):
        i += 1
    return i


def _zero_bytes(t):
    """The high bit of every byte of ``t`` (uint64) that is zero, exactly."""
    y = (t & _LOW7) + _LOW7
    return ~(y | t | _LOW7)


def _special(w):
    """Non-zero when the eight bytes ``w`` hold a quote, a backslash or a non-printable byte."""
    low = w & _LOW7
    control = ~((low + _TO_SPACE) | w) & _HIGH  # below 0x20
    high = ((low + _ONES) | w) & _HIGH  # 0x7f and above
    return _zero_bytes(w ^ _QUOTES) | _zero_bytes(w ^ _BACKSLASHES) | control | high


def _string(buf, words, i):
    """The string opening at ``buf[i]``: ``(content start, content stop, next position, code)``.

    Eight bytes at a time (``words`` is ``buf`` as uint64) while none of them is special.
    """
    end = len(buf)
    i += 1
    start = i
    while i < end:
        if (i & 7) == 0 and i + 8 <= end and _special(words[i >> 3]) == 0:
            i += 8
            continue
        c = buf[i]
        if c == _QUOTE:
            return start, i, i + 1, _OK
        if c == _BACKSLASH:
            return start, i, i, _ESCAPE
        if c < 32 or c > 126:
            return start, i, i, _BAD_BYTE
        i += 1
    return start, i, i, _SYNTAX


def _cells(buf, start, stop) -> int:
    n = 1
    for i in range(start, stop):
        if buf[i] == _COMMA:
            n += 1
    return n


def _split(buf, start, stop, starts, lens, row, j, ends):
    """Write where the cells of ``buf[start:stop]`` start and how long they are to
    ``starts[row, j:]`` and ``lens[row, j:]``.

    Branch-free per byte (a comma every few bytes would defeat branch prediction): every
    position is stored in ``ends`` (size ``width + 1``; the last slot takes the overflow)
    and the index moves on at commas. Returns the index after the last cell, which exceeds
    the width when the cells do not fit in the row.
    """
    width = lens.shape[1]
    k = j
    for i in range(start, stop):
        ends[min(k, width)] = i
        k += buf[i] == _COMMA
    ends[min(k, width)] = stop
    k += 1
    if k > width:
        return k
    prev = start - 1
    for m in range(j, k):
        starts[row, m] = prev + 1
        lens[row, m] = ends[m] - prev - 1
        prev = ends[m]
    return k


def _record(buf, words, i, stack, ranges, r):
    """Parse the object opening at ``buf[i]`` as record ``r``: ``(next position, code)``.

    Fills ``ranges[r]`` with the input and output payloads' ``(start, stop)``.
    """
    seen_top = 0  # 1 captureData, 2 eventMetadata
    seen_capture = 0  # 1 endpointInput, 2 endpointOutput
    seen_input = 0  # 1 data, 2 encoding, 4 mode, 8 observedContentType
    seen_output = 0
    end = len(buf)
    depth = 0
    stack[0] = _TOP
    i += 1
    expect_key = True  # after "{" or ","
    first = True  # right after "{": "}" allowed
    while True:
        i = _blank(buf, i)
        if i >= end:
            return i, _SYNTAX
        c = buf[i]
        if not expect_key:
            if c == 44:  # ","
                expect_key = True
                first = False
                i += 1
                continue
            if c != 125:  # "}"
                return i, _SYNTAX
        elif c == 125 and first:
            pass  # "{}"
        elif c != _QUOTE:
            return i, _SYNTAX
        if c == 125:
            ctx = stack[depth]
            if ctx in (_INPUT, _OUTPUT):
                seen = seen_input if ctx == _INPUT else seen_output
                if (seen & 3) != 3:
                    return i, _MISSING
            elif ctx == _CAPTURE and seen_capture != 3:
                return i, _MISSING
            i += 1
            if depth == 0:
                if (seen_top & 1) == 0:
                    return i, _MISSING
                return i, _OK
            depth -= 1
            expect_key = False
            continue
        # a key
        ks, ke, i, code = _string(buf, words, i)
        if code != _OK:
            return i, code
        if _is(buf, ks, ke, _K_SHADOW):
            return i, _SHADOW
        i = _blank(buf, i)
        if i >= end or buf[i] != 58:  # ":"
            return i, _SYNTAX
        i = _blank(buf, i + 1)
        if i >= end:
            return i, _SYNTAX
        c = buf[i]
        ctx = stack[depth]
        # what the key means here: 0 ignored, > 0 the context its object opens,
        # < 0 an event field (a string): -1 data, -2 encoding, -4 mode, -8 content type
        role = 0
        if ctx == _TOP:
            if _is(buf, ks, ke, _K_CAPTURE):
                if seen_top & 1:
                    return i, _DUPLICATE
                seen_top |= 1
                role = _CAPTURE
            elif _is(buf, ks, ke, _K_METADATA):
                if seen_top & 2:
                    return i, _DUPLICATE
                seen_top |= 2
                role = _OTHER
        elif ctx == _CAPTURE:
            if _is(buf, ks, ke, _K_INPUT):
                if seen_capture & 1:
                    return i, _DUPLICATE
                seen_capture |= 1
                role = _INPUT
            elif _is(buf, ks, ke, _K_OUTPUT):
                if seen_capture & 2:
                    return i, _DUPLICATE
                seen_capture |= 2
                role = _OUTPUT
        elif ctx in (_INPUT, _OUTPUT):
            bit = 0
            if _is(buf, ks, ke, _K_DATA):
                bit = 1
            elif _is(buf, ks, ke, _K_ENCODING):
                bit = 2
            elif _is(buf, ks, ke, _K_MODE):
                bit = 4
            elif _is(buf, ks, ke, _K_CONTENT_TYPE):
                bit = 8
            if bit:
                seen = seen_input if ctx == _INPUT else seen_output
                if seen & bit:
                    return i, _DUPLICATE
                if ctx == _INPUT:
                    seen_input |= bit
                else:
                    seen_output |= bit
                role = -bit
        if c == _QUOTE:
            if role > 0:
                return i, _VALUE  # a string where pyarrow expects an object
            vs, ve, i, code = _string(buf, words, i)
            if code != _OK:
                return i, code
            if role == -1:
                side = 0 if ctx == _INPUT else 2
                ranges[r, side] = vs
                ranges[r, side + 1] = ve
            elif role == -2 and not _is(buf, vs, ve, _CSV):
                return i, _NOT_CSV
            expect_key = False
        elif c == 123:  # "{"
            if role < 0:
                return i, _VALUE  # an object where pyarrow expects a string
            if depth + 1 >= MAX_DEPTH:
                return i, _DEPTH
            depth += 1
            stack[depth] = role if role > 0 else _OTHER
            i += 1
            expect_key = True
            first = True
        else:
            return i, _VALUE


def _newlines(buf) -> int:
    n = 0
    for i in range(len(buf)):
        n += buf[i] == 10
    return n


def _scan(buf, words, first, second, lines, ranges, starts_space, lens_space):
    """Check ``buf`` against the grammar, find each record's payloads and cell lengths.

    Args:
        buf: the file's bytes (uint8).
        words: ``buf`` as uint64 (its first ``len(buf) // 8 * 8`` bytes).
        first: the row's first payload (0 input, 1 output).
        second: its second payload (0, 1, or -1 for none).
        lines: an upper bound of the records (the file's newlines + 1).
        ranges: scratch space, at least ``(lines, 4)``.
        starts_space: scratch space for ``starts`` (reused from file to file: no page
            faults); when smaller than ``lines * width`` the scan stops with
            ``_CAPACITY`` and the width in ``position``.
        lens_space: scratch space for ``lens``, as large as ``starts_space``.

    Returns:
        ``(code, position, records, starts, lens)``: ``code`` 0 when eligible (else a
        :data:`REASONS` key, found at ``position``); cell ``j`` of record ``r`` is
        ``buf[starts[r, j]:starts[r, j] + lens[r, j]]`` (the row width is ``lens.shape[1]``).
    """
    end = len(buf)
    stack = np.empty(MAX_DEPTH, np.int8)
    lens = lens_space[:1].reshape((1, 1))
    starts = starts_space[:1].reshape((1, 1))
    ends = np.zeros(1, np.int64)
    n = 0
    i = 0
    while True:
        while i < end:  # blank lines, whitespace before the object, CRLF line ends
            c = buf[i]
            if c == 32 or c == 9 or c == 10 or c == 13:
                i += 1
            else:
                break
        if i >= end:
            break
        if buf[i] != 123 or n >= lines:  # "{"
            return _SYNTAX, i, n, starts, lens
        i, code = _record(buf, words, i, stack, ranges, n)
        if code != _OK:
            return code, i, n, starts, lens
        while i < end and (buf[i] == 32 or buf[i] == 9 or buf[i] == 13):
            i += 1
        if i < end and buf[i] != 10:
            return _SYNTAX, i, n, starts, lens  # more than one object on the line
        a0, a1 = ranges[n, 2 * first], ranges[n, 2 * first + 1]
        b0, b1 = a1, a1 + 1
        if second >= 0:
            b0, b1 = ranges[n, 2 * second], ranges[n, 2 * second + 1]
        if a0 == a1 or b0 == b1:
            return _EMPTY_PAYLOAD, i, n, starts, lens
        if n == 0:  # the first row fixes the width
            width = _cells(buf, a0, a1) + (_cells(buf, b0, b1) if second >= 0 else 0)
            if lines * width > len(lens_space):
                return _CAPACITY, width, n, starts, lens
            lens = lens_space[: lines * width].reshape((lines, width))
            starts = starts_space[: lines * width].reshape((lines, width))
            ends = np.zeros(width + 1, np.int64)
        j = _split(buf, a0, a1, starts, lens, n, 0, ends)
        if second >= 0 and j <= lens.shape[1]:
            j = _split(buf, b0, b1, starts, lens, n, j, ends)
        if j != lens.shape[1]:
            return _RAGGED, i, n, starts, lens
        n += 1
    if n == 0:
        return _NO_RECORDS, i, n, starts, lens
    return _OK, i, n, starts, lens


def _columns(buf, starts, lens, n, ends_space, offsets, validity, data):
    """Copy the records' cells into string columns (Arrow buffers) given by the caller.

    Row by row (the file's bytes are read in order), the running offsets row-major into
    ``ends_space`` (sequential writes), then transposed to one offsets array per column in
    cache-sized blocks, with the validity bits. (Copying eight bytes per short cell, to
    spare the branch on its length, and writing each column's offsets directly, measured no
    faster.) ``offsets`` is ``(width, n + 1)`` int32, ``validity`` ``(width, (n + 7) // 8)``
    uint8 and ``data`` uint8 with room for every cell.

    Returns:
        ``(nulls, bases)``: column ``j`` has the int32 offsets ``offsets[j]`` into
        ``data[bases[j]:bases[j + 1]]``, the validity bitmap ``validity[j]`` (an empty cell
        is null) and ``nulls[j]`` null cells.
    """
    width = lens.shape[1]
    totals = np.zeros(width, np.int64)
    for r in range(n):
        for j in range(width):
            totals[j] += lens[r, j]
    bases = np.zeros(width + 1, np.int64)
    for j in range(width):
        bases[j + 1] = bases[j] + totals[j]
    ends = ends_space[: (n + 1) * width].reshape((n + 1, width))  # the offsets, row-major
    ends[0, :] = 0
    for r in range(n):
        for j in range(width):
            length = lens[r, j]
            start = starts[r, j]
            at = bases[j] + ends[r, j]
            for k in range(length):
                data[at + k] = buf[start + k]
            ends[r + 1, j] = ends[r, j] + length
    validity[:, :] = 0
    nulls = np.zeros(width, np.int64)
    for r0 in range(0, n + 1, 64):  # a blocked transpose, with the validity bits
        r1 = min(r0 + 64, n + 1)
        for j in range(width):
            for r in range(r0, r1):
                offsets[j, r] = ends[r, j]
                if r > 0:
                    if ends[r, j] != ends[r - 1, j]:
                        validity[j, (r - 1) >> 3] |= np.uint8(1 << ((r - 1) & 7))
                    else:
                        nulls[j] += 1
    return nulls, bases


def _compile(func):
    try:
        return numba.njit(cache=True, nogil=True)(func)
    except RuntimeError:  # "cannot cache function": no writable cache location
        return numba.njit(nogil=True)(func)


_is = _compile(_is)
_blank = _compile(_blank)
_zero_bytes = _compile(_zero_bytes)
_special = _compile(_special)
_string = _compile(_string)
_cells = _compile(_cells)
_split = _compile(_split)
_record = _compile(_record)
_newlines = _compile(_newlines)
_scan_kernel = _compile(_scan)
_columns_kernel = _compile(_columns)


@dataclass
class ScanResult:
    """What :func:`scan` found in one file.

    Attributes:
        columns: the rows as string columns (``None`` when the file is not eligible).
        reason: why the file is not eligible (``"eligible"`` when it is).
        position: the byte offset where the reason was found.
    """

    columns: list[pa.Array] | None
    reason: str
    position: int = 0

    @property
    def eligible(self) -> bool:
        """Whether the file's rows are in :attr:`columns`."""
        return self.columns is not None


_SIDE = {"endpointInput": 0, "endpointOutput": 1}


class _Space(threading.local):
    """Each thread's scratch arrays, reused from file to file (fresh ones cost page faults,
    which serialise threads on the process's memory map)."""

    def __init__(self) -> None:
        self._ranges = np.empty((0, 4), np.int64)
        self._starts = np.empty(0, np.int32)
        self._lens = np.empty(0, np.int32)
        self._ends = np.empty(0, np.int32)

    def ranges(self, lines: int, cells: int = 1):
        """``(ranges, starts_space, lens_space)`` for ``lines`` records of ``cells`` in all."""
        if len(self._ranges) < lines:
            self._ranges = np.empty((lines, 4), np.int64)
        return (self._ranges, *self.cells(cells))

    def cells(self, cells: int):
        """``(starts_space, lens_space)`` for ``cells`` cells in all."""
        if len(self._starts) < cells:
            self._starts = np.empty(cells, np.int32)
            self._lens = np.empty(cells, np.int32)
        return self._starts, self._lens

    def ends(self, cells: int) -> np.ndarray:
        if len(self._ends) < cells:
            self._ends = np.empty(cells, np.int32)
        return self._ends


_space = _Space()


def scratch(cells: int) -> tuple[np.ndarray, np.ndarray]:
    """This thread's reusable ``(starts, lens)`` int32 space for at least ``cells`` cells."""
    return _space.cells(cells)


def scan(
    data: bytes | bytearray | memoryview | pa.Buffer,
    parts: list[str],
    recycled: RecycledBuffers | None = None,
) -> ScanResult:
    """The rows of a whole capture file as string columns, when the file is eligible.

    Args:
        data: the file's bytes (read without a copy).
        parts: the payloads making a row, in column order (``endpointOutput`` /
            ``endpointInput``; one or both).
        recycled: where the columns' memory comes from (see :func:`string_columns`).

    Returns:
        A :class:`ScanResult`: one ``pa.StringArray`` per cell position (empty cells null),
        or ``columns=None`` and the reason the file is not eligible (see the module docstring).
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    if len(buf) >= 1 << 31:
        return ScanResult(None, "larger than 2 GiB")
    if buf.ctypes.data % 8:  # the uint64 view needs 8-byte alignment (bytes objects have it)
        buf = buf.copy()
    buf.flags.writeable = False  # one kernel signature for every caller
    words = buf[: len(buf) // 8 * 8].view(np.uint64)
    first = _SIDE[parts[0]]
    second = _SIDE[parts[1]] if len(parts) > 1 else -1
    lines = int(_newlines(buf)) + 1
    space = _space.ranges(lines)
    code, position, n, starts, lens = _scan_kernel(buf, words, first, second, lines, *space)
    if code == _CAPACITY:
        space = _space.ranges(lines, lines * int(position))
        code, position, n, starts, lens = _scan_kernel(buf, words, first, second, lines, *space)
    if code != _OK:
        return ScanResult(None, REASONS[int(code)], int(position))
    return ScanResult(string_columns(buf, starts, lens, n, recycled), REASONS[_OK])


def string_columns(
    buf: np.ndarray,
    starts: np.ndarray,
    lens: np.ndarray,
    n: int,
    recycled: RecycledBuffers | None = None,
) -> list:
    """The cells ``buf[starts[r, j]:starts[r, j] + lens[r, j]]`` of rows ``r < n`` as one
    ``pa.StringArray`` per ``j`` (an empty cell is null), copied out of ``buf``.

    All the columns' buffers share one block of memory, taken from ``recycled`` when given
    (it is handed out again once every column made from it is gone), else new plain pages
    (:func:`~mmutils.analyzer.buffers.plain_pages`; the pages past the cells are never
    touched, so they cost nothing). The caller checks that the bytes are UTF-8 (this scan
    admits only printable ASCII).
    """
    width = lens.shape[1]
    offsets_bytes, validity_bytes = width * (n + 1) * 4, width * ((n + 7) // 8)
    # the cells are parts of ``buf``: room for all of it (a pool's untouched pages cost
    # nothing, and summing the lengths first would cost a pass over them)
    need = offsets_bytes + validity_bytes + len(buf)
    # plain pages: numpy would ask for huge pages, whose fresh ones cost the VM's host more
    space = plain_pages(need, np.uint8) if recycled is None else recycled.take(need)
    # one block: the offsets first (4-byte aligned), then the validity bitmaps, then the cells
    offsets = space[:offsets_bytes].view(np.int32).reshape(width, n + 1)
    validity = space[offsets_bytes : offsets_bytes + validity_bytes].reshape(width, -1)
    body = space[offsets_bytes + validity_bytes :]
    ends = _space.ends((n + 1) * width)
    nulls, bases = _columns_kernel(buf, starts, lens, n, ends, offsets, validity, body)
    columns = []
    for j in range(width):
        cells = body[bases[j] : bases[j + 1]]
        valid = pa.py_buffer(validity[j]) if nulls[j] else None
        columns.append(
            pa.StringArray.from_buffers(
                n, pa.py_buffer(offsets[j]), pa.py_buffer(cells), valid, int(nulls[j])
            )
        )
    return columns


def warm() -> None:
    """Load (or compile) the kernels now, e.g. in a process that forks analyzer jobs."""
    line = b'{"captureData":{"endpointInput":{"data":"1","encoding":"CSV"},'
    line += b'"endpointOutput":{"data":"2","encoding":"CSV"}}}\n'
    scan(line, ["endpointOutput", "endpointInput"])
