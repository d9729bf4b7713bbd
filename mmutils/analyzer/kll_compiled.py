"""numba-compiled compaction of the KLL sketch's levels (optional; imports numba).

:meth:`mmutils.analyzer.kll.KLLBatch.update` compacts a level by sorting the first even number
of its items, row by row, and keeping every second one from the level's offset. Most numeric
columns of monitored data are flags and small counts, so most rows hold only a few distinct
small integers: for those the kept items follow from how many times each value occurs, and
:func:`compact_level` counts them instead of sorting (:func:`_compact`, compiled ``nogil`` so
the profiler's column groups run it on several cores at once).

A row is counted only if every one of its items is an integer ``0 <= v < 65536`` (no NaN, no
infinity, no fraction, no ``-0.0``) spanning at most as many values as there are items (beyond
that, counting costs more than the sort). Equal items of such a row are then the same double
bit for bit, so the kept items do not depend on how a sort orders equal items, and counting
gives exactly what :mod:`numpy`'s sort gives. Any other row *declines*: the caller sorts it
with numpy exactly as without this module (that is where ``-0.0`` and ``0.0``, equal but
distinct, would otherwise come out in an order of the counter's choosing).

The kernel reads the level's pieces where they are (a column slice of the profiler's chunk, an
earlier compaction's output) through 1-D views of their memory (:func:`_flat`), so counted rows
are never copied; its output is written straight into the caller's array. Imported only
where numba is already loaded (:mod:`mmutils.analyzer.profile`'s ``_compiled()``).
"""

from __future__ import annotations

import math

import numpy as np

from mmutils.analyzer.compiled import _compile

__all__ = ["MAX_PIECES", "VALUE_LIMIT", "compact_level", "warm"]

#: counted rows hold integers ``0 <= v < VALUE_LIMIT``
VALUE_LIMIT = 1 << 16
#: pieces the kernel reads in place; further pieces are joined into the last one first
MAX_PIECES = 8
# spans counted in four interleaved tables (beyond, summing the tables costs more than it saves)
_INTERLEAVED_SPAN = 256
# items scanned between two tests of "this row declines" (the scan itself has no branch)
_BLOCK = 512


def _scan_row(row: np.ndarray, low: int, high: int, total: int, bad: bool) -> tuple:
    """Fold ``row`` into (min, max, sum, declines) as integers; stops early once it declines.

    An item is countable when ``0 <= v < VALUE_LIMIT``, ``v`` is an integer and its sign bit is
    clear (only ``-0.0`` has a set sign bit among such values). The conversion to an integer
    reads a value clamped into range first, so it is defined for every input.
    """
    n = row.size
    for first in range(0, n, _BLOCK):
        if bad:
            break
        block = row[first : first + _BLOCK]  # indexed from 0: no negative-index test
        flags = 0
        for i in range(block.size):
            v = block[i]
            inside = (v >= 0.0) & (v < VALUE_LIMIT)
            iv = np.int64(v if inside else 0.0)
            flags |= np.int64(np.float64(iv) != v) | np.int64(math.copysign(1.0, v) < 0.0)
            low = min(low, iv)
            high = max(high, iv)
            total += iv
        bad = flags != 0
    return low, high, total, bad


def _count_row(row: np.ndarray, low: int, counts: np.ndarray) -> None:
    """Add the occurrences of each value of ``row`` (countable) to ``counts[v - low]``."""
    for i in range(row.size):
        counts[np.uint64(np.int64(row[i]) - low)] += 1  # unsigned: no negative-index test


def _count_row4(row: np.ndarray, low: int, counts: np.ndarray, span: int) -> None:
    """:func:`_count_row` into four interleaved tables ``counts[w * span + v - low]``.

    Consecutive items go to different tables, so an item need not wait for the previous
    one's increment of the same counter (few distinct values: the same counter most of the
    time).
    """
    quads = row.size // 4
    s1 = np.uint64(span)
    s2 = np.uint64(2 * span)
    s3 = np.uint64(3 * span)
    for q in range(quads):
        i = 4 * q
        counts[np.uint64(np.int64(row[i]) - low)] += 1
        counts[s1 + np.uint64(np.int64(row[i + 1]) - low)] += 1
        counts[s2 + np.uint64(np.int64(row[i + 2]) - low)] += 1
        counts[s3 + np.uint64(np.int64(row[i + 3]) - low)] += 1
    for i in range(4 * quads, row.size):
        counts[np.uint64(np.int64(row[i]) - low)] += 1


def _compact(pieces: tuple, meta: np.ndarray, even: int, offset: int, out: np.ndarray) -> tuple:
    """Compact the countable rows of a level into ``out``; gather the others' items.

    Args:
        pieces: ``MAX_PIECES`` 1-D arrays; piece ``k``'s row ``r`` starts at
            ``meta[k, 0] + r * meta[k, 1]`` in ``pieces[k]`` and its first ``meta[k, 2]``
            items are among the level's first ``even``.
        meta: ``(MAX_PIECES, 3)`` int64: each piece's start, row stride and items taken.
        even: items compacted per row (an even number).
        offset: the level's offset: ``out[r, j]`` is item ``offset + 2 * j`` of row ``r``
            sorted.
        out: ``(width, even // 2)``.

    Returns:
        ``(declined, rows, items)``: rows ``rows[:declined]`` declined (``out`` is not written
        there); ``items[i]`` holds the first ``even`` items of row ``rows[i]``, in order.
    """
    width = out.shape[0]
    half = even // 2
    rows = np.empty(width, dtype=np.int64)
    items = np.empty((0, even), dtype=np.float64)  # allocated at the first declining row
    declined = 0
    for r in range(width):
        low = np.int64(VALUE_LIMIT)
        high = np.int64(-1)
        total = np.int64(0)
        bad = False
        for k in range(len(pieces)):
            take = meta[k, 2]
            if take > 0:
                start = meta[k, 0] + r * meta[k, 1]
                row = pieces[k][start : start + take]
                low, high, total, bad = _scan_row(row, low, high, total, bad)
        span = high - low + 1
        if bad or span > max(even, 2):
            if declined == 0:
                items = np.empty((width - r, even), dtype=np.float64)
            gathered = items[declined]
            filled = 0
            for k in range(len(pieces)):
                take = meta[k, 2]
                start = meta[k, 0] + r * meta[k, 1]
                gathered[filled : filled + take] = pieces[k][start : start + take]
                filled += take
            rows[declined] = r
            declined += 1
            continue
        kept = out[r]
        if span <= 2:  # one or two values: the count of the higher one is in the sum
            lows = even - (total - low * even)
            keep_low = min(half, max(0, (lows - offset + 1) // 2))
            for j in range(keep_low):
                kept[j] = np.float64(low)
            for j in range(keep_low, half):
                kept[j] = np.float64(low + 1)
            continue
        interleave = span <= _INTERLEAVED_SPAN
        counts = np.zeros(4 * span if interleave else span, dtype=np.int64)
        for k in range(len(pieces)):
            take = meta[k, 2]
            if take > 0:
                start = meta[k, 0] + r * meta[k, 1]
                row = pieces[k][start : start + take]
                if interleave:
                    _count_row4(row, low, counts, span)
                else:
                    _count_row(row, low, counts)
        if interleave:
            counts = (
                counts[:span]
                + counts[span : 2 * span]
                + counts[2 * span : 3 * span]
                + (counts[3 * span :])
            )
        # Sorted item p is low + (the number of values b whose running count
        # counts[0] + … + counts[b] is <= p); kept[j] is item offset + 2 * j. Each value but
        # the last marks the first kept item past its occurrences; a running sum of the
        # marks then gives every kept item without a branch per value.
        marks = np.zeros(half + 1, dtype=np.int64)
        seen = 0
        for b in range(span - 1):
            seen += counts[b]
            marks[min(half, max(0, (seen - offset + 1) // 2))] += 1
        value = low
        for j in range(half):
            value += marks[j]
            kept[j] = np.float64(value)
    return declined, rows, items


_scan_row = _compile(_scan_row)
_count_row = _compile(_count_row)
_count_row4 = _compile(_count_row4)
_compact = _compile(_compact)

_EMPTY = np.empty(0, dtype=np.float64)
_PADDING = (_EMPTY,) * MAX_PIECES  # the kernel always takes MAX_PIECES pieces


def _flat(piece: np.ndarray) -> tuple[np.ndarray, int, int]:
    """A writable C-contiguous 1-D array holding ``piece``, its first item, and its row stride.

    A C-contiguous piece is its own flat view. A column slice of a C-contiguous array (the
    profiler's chunk) is read in its base array's memory. Anything else (read-only, unaligned,
    strided rows) is copied, so that the kernel is compiled for one type of array only.
    """
    flags = piece.flags
    if flags.c_contiguous and flags.writeable and flags.aligned and piece.dtype == np.float64:
        return piece.reshape(-1), 0, piece.shape[1]
    base = piece.base
    row_bytes, item_bytes = piece.strides
    if (
        item_bytes == 8
        and row_bytes > 0
        and row_bytes % 8 == 0
        and isinstance(base, np.ndarray)
        and base.dtype == np.float64
    ):
        base_flags = base.flags
        if base_flags.c_contiguous and base_flags.writeable and base_flags.aligned:
            start, remainder = divmod(piece.ctypes.data - base.ctypes.data, 8)
            stride = row_bytes // 8
            rows, items = piece.shape
            if remainder == 0 and start >= 0 and start + (rows - 1) * stride + items <= base.size:
                return base.reshape(-1), start, stride
    copy = np.array(piece, dtype=np.float64, order="C")
    return copy.reshape(-1), 0, copy.shape[1]


def compact_level(
    pieces: list[np.ndarray], even: int, offset: int, out: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Compact a KLL level's countable rows into ``out`` (a ``KLLBatch.update`` compactor).

    Args:
        pieces: the level's items, ``(width, m)`` arrays in order, holding at least ``even``
            items per row.
        even: items compacted per row (even).
        offset: the level's offset (0 or 1).
        out: ``(width, even // 2)`` float64, C-contiguous: receives, for every countable row,
            items ``offset, offset + 2, …`` of the row's first ``even`` items sorted.

    Returns:
        ``(rows, items)``: the indices of the rows that declined (``out`` is not written
        there) and their first ``even`` items, unsorted, one row each: the caller sorts them.
    """
    if len(pieces) > MAX_PIECES:
        pieces = [*pieces[: MAX_PIECES - 1], np.concatenate(pieces[MAX_PIECES - 1 :], axis=1)]
    flats = []
    meta = np.zeros((MAX_PIECES, 3), dtype=np.int64)
    left = even
    for k, piece in enumerate(pieces):
        flat, start, stride = _flat(piece)
        take = min(piece.shape[1], left)
        left -= take
        flats.append(flat)
        meta[k] = start, stride, take
    declined, rows, items = _compact((*flats, *_PADDING[len(flats) :]), meta, even, offset, out)
    return rows[:declined], items[:declined]


def warm() -> None:
    """Load the compiled kernel now (numba loads cached machine code on a kernel's first call)."""
    out = np.empty((1, 1))
    compact_level([np.array([[1.0, 0.0]])], 2, 0, out)
