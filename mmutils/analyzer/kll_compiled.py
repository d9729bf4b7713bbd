"""numba-compiled updates of the KLL sketch (optional; imports numba).

:meth:`mmutils.analyzer.kll.KLLBatch.update` appends values to level 0 and, whenever the
sketch overflows, compacts a level: it sorts the first even number of the level's items, row
by row, and keeps every second one from the level's offset. :func:`update_batch` does a whole
update in one compiled call (:func:`_update`, ``nogil`` so the profiler's column groups run it
on several cores at once):

* the schedule first: which level each compaction of the update takes, with how many items and
  which offset, depends on counts alone (:func:`_schedule`), so it is worked out once for all
  rows, and it gives each level's largest length, hence one buffer for all levels above 0;
* then row by row, every compaction of the schedule. Level 0 is read where it is (the items
  left from earlier updates, then the new values: a slice of the profiler's chunk), and a
  level's items sit at the start of its region of the buffer, so nothing is gathered. Only
  level 0's items are scanned for the test below: the kernel knows what it appends to the
  other levels (sorted kept items: their range and sum), so it keeps each level's range, sum
  and countability up to date instead (their items from earlier updates are scanned once).
  A row the caller tells as a pair (:data:`~mmutils.analyzer.kll.Pairs`: every new value
  ``low`` or ``low + 1``, with their parity bits) is not even scanned there: the count of the
  higher value among a compaction's new values is a popcount of their bits (:func:`_ones`).

Most numeric columns of monitored data are flags and small counts, so most rows hold only a
few distinct small integers: for those the kept items follow from how many times each value
occurs, and :func:`_compact_row` counts them instead of sorting. A row is counted only if
every one of its items is an integer ``0 <= v < 65536`` (no NaN, no infinity, no fraction, no
``-0.0``) spanning at most as many values as there are items. Equal items of such a row are the
same double bit for bit, so the kept items do not depend on how a sort orders equal items:
counting gives exactly what :mod:`numpy`'s sort gives, and so does any correct sort, which is
how a row of such integers spanning more values than items is compacted when it has at most
:data:`SORT_LIMIT` items (the small top levels). Any other row *declines* at that compaction:
the kernel leaves it there, and :func:`_sort_declined` goes on with numpy's sort from that
compaction to the end of the update, exactly as :mod:`mmutils.analyzer.kll` would (that is
where ``-0.0`` and ``0.0``, equal but distinct, come out in numpy's order). Imported only where
numba is already loaded (:mod:`mmutils.analyzer.profile`'s ``_compiled()``).
"""

from __future__ import annotations

import bisect
import math

import numpy as np
from numba import types
from numba.extending import intrinsic

from mmutils.analyzer.compiled import compile_kernel
from mmutils.analyzer.kll import KLLBatch, Pairs, _Level, capacity

__all__ = ["MAX_LEVELS", "SORT_LIMIT", "VALUE_LIMIT", "update_batch", "warm"]

#: counted rows hold integers ``0 <= v < VALUE_LIMIT``
VALUE_LIMIT = 1 << 16
#: levels a sketch can have here (2**63 values fill fewer); beyond, numpy updates it
MAX_LEVELS = 64
#: rows of such integers spanning more values than items are sorted here up to this many items
SORT_LIMIT = 512
# spans counted in four interleaved tables (beyond, summing the tables costs more than it saves)
_INTERLEAVED_SPAN = 256
# items scanned between two tests of "this row declines" (the scan itself has no branch)
_BLOCK = 512
# a schedule step: level, its length, its offset, its first item (level 0: in the stream of
# the old level 0 then the new values), and where the kept items go in the next level
_LEVEL, _LENGTH, _OFFSET, _START, _DEST = range(5)


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


@intrinsic
def _popcount(typingctx, word):
    """The number of set bits of a uint64 (one ``popcnt``)."""
    if word != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return types.uint64(types.uint64), codegen


_ALL_BITS = np.uint64(0xFFFFFFFFFFFFFFFF)


def _ones(bits: np.ndarray, first: int, stop: int) -> int:
    """How many of bits ``first <= p < stop`` of ``bits`` (uint64 words, bit ``p`` is bit
    ``p % 64`` of word ``p // 64``) are set."""
    if stop <= first:
        return 0
    low_word = first // 64
    high_word = (stop - 1) // 64
    total = 0
    for w in range(low_word, high_word + 1):
        word = bits[w]
        if w == low_word:
            word &= _ALL_BITS << np.uint64(first % 64)
        if w == high_word:
            word &= _ALL_BITS >> np.uint64(63 - (stop - 1) % 64)
        total += np.int64(_popcount(word))
    return total


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


def _compact_row(
    first: np.ndarray,
    second: np.ndarray,
    even: int,
    offset: int,
    kept: np.ndarray,
    low: int,
    high: int,
    total: int,
    counts: np.ndarray,
    marks: np.ndarray,
    scratch: np.ndarray,
) -> int:
    """Write items ``offset, offset + 2, …`` of ``first`` then ``second`` sorted into ``kept``.

    ``first`` and ``second`` hold ``even`` items together: countable integers (see the module
    docstring) from ``low`` to ``high`` at most, ``total`` their exact sum. Returns the sum of
    the kept items, or -1, writing nothing, when the row declines: it spans more values than
    it has items, and more than :data:`SORT_LIMIT`. ``counts`` (``4 * even`` at least),
    ``marks`` (``even // 2 + 1``) and ``scratch`` (``even``) are work space.
    """
    half = even // 2
    span = high - low + 1
    if span > max(even, 2):
        if even > SORT_LIMIT:
            return -1
        # integers whose equal items are the same double: any sort gives numpy's bits
        work = scratch[:even]
        work[: first.size] = first
        work[first.size :] = second
        work.sort()
        kept_total = 0
        for j in range(half):
            kept[j] = work[offset + 2 * j]
            kept_total += np.int64(kept[j])
        return kept_total
    if span <= 2:  # one or two values: the count of the higher one is in the sum
        lows = even - (total - low * even)
        keep_low = min(half, max(0, (lows - offset + 1) // 2))
        for j in range(keep_low):
            kept[j] = np.float64(low)
        for j in range(keep_low, half):
            kept[j] = np.float64(low + 1)
        return keep_low * low + (half - keep_low) * (low + 1)
    interleave = span <= _INTERLEAVED_SPAN
    table = counts[: 4 * span if interleave else span]
    table[:] = 0
    for row in (first, second):
        if interleave:
            _count_row4(row, low, table, span)
        else:
            _count_row(row, low, table)
    if interleave:
        for b in range(span):
            table[b] += table[span + b] + table[2 * span + b] + table[3 * span + b]
    # Sorted item p is low + (the number of values b whose running count
    # table[0] + … + table[b] is <= p); kept[j] is item offset + 2 * j. Each value but the
    # last marks the first kept item past its occurrences; a running sum of the marks then
    # gives every kept item without a branch per value.
    steps = marks[: half + 1]
    steps[:] = 0
    seen = 0
    for b in range(span - 1):
        seen += table[b]
        steps[min(half, max(0, (seen - offset + 1) // 2))] += 1
    value = low
    kept_total = 0
    for j in range(half):
        value += steps[j]
        kept[j] = np.float64(value)
        kept_total += value
    return kept_total


def _schedule(m: int, caps: np.ndarray, layout: np.ndarray, levels: int, size: int, total: int):
    """The compactions an update of ``m`` values makes (:meth:`KLLBatch.update`'s, by counts).

    Args:
        m: values added per row.
        caps: each level's capacity.
        layout: ``(3, MAX_LEVELS)``: each level's length, compaction count and offset; updated
            in place to the state after the update.
        levels, size, total: the batch's number of levels, items held and summed capacity.

    Returns:
        ``(steps, peak, levels, size, total, start)``: one row per compaction (see ``_LEVEL`` …
        ``_DEST``), each level's largest length during the update, the batch's counts after it
        (-1 levels: more than ``MAX_LEVELS`` needed), and level 0's first item at the end.
    """
    lengths, compressions, offsets = layout[0], layout[1], layout[2]
    peak = lengths.copy()
    steps = np.empty((64, 5), dtype=np.int64)
    count = 0
    start = 0
    pos = 0
    while pos < m:
        take = min(m - pos, total - size + 1)
        lengths[0] += take
        size += take
        pos += take
        if size <= total:
            continue
        for h in range(levels):
            if lengths[h] < caps[h]:
                continue
            if h + 1 >= levels:
                if levels == MAX_LEVELS:
                    return steps[:count], peak, -1, size, total, start
                levels += 1
                total += caps[levels - 1]
            n = lengths[h]
            even = n - n % 2
            if compressions[h] % 2 == 1:
                offsets[h] = 1 - offsets[h]
            if count == steps.shape[0]:
                grown = np.empty((2 * count, 5), dtype=np.int64)
                grown[:count] = steps
                steps = grown
            step = steps[count]
            step[_LEVEL], step[_LENGTH], step[_OFFSET] = h, n, offsets[h]
            step[_START] = start if h == 0 else 0
            step[_DEST] = lengths[h + 1]
            count += 1
            if h == 0:
                start += even
            lengths[h + 1] += even // 2
            peak[h + 1] = max(peak[h + 1], lengths[h + 1])
            lengths[h] = n % 2
            compressions[h] += 1
            size -= even // 2
            break
    return steps[:count], peak, levels, size, total, start


def _update(
    carry: np.ndarray,
    block: np.ndarray,
    old: np.ndarray,
    old_start: np.ndarray,
    caps: np.ndarray,
    layout: np.ndarray,
    levels: int,
    size: int,
    total: int,
    pairs: np.ndarray,
    parity: np.ndarray,
):
    """One :meth:`KLLBatch.update` of every row, but the rows that decline (see module doc).

    Args:
        carry: ``(width, c)``: level 0's items before the update.
        block: ``(width, m)``: the new values.
        old: the other levels' items before the update: level ``h``'s row ``r`` is
            ``old[r, old_start[h] : old_start[h] + layout[0, h]]``.
        old_start: ``(MAX_LEVELS,)``.
        caps, layout, levels, size, total: as for :func:`_schedule` (``layout`` is updated).
        pairs, parity: what :func:`update_batch` is told of ``block``'s rows (``pairs[r] < 0``:
            nothing).

    Returns:
        ``(buffer, region, steps, declined, levels, size, total, start)``: level ``h >= 1``
        after the update is ``buffer[:, region[h] : region[h] + layout[0, h]]`` (rows that
        declined excepted), the schedule, the compaction at which each row declined (-1: none;
        ``buffer`` holds such a row as it was just before that compaction), the batch's counts
        and level 0's first item in the stream of ``carry`` then ``block``.
    """
    width = block.shape[0]
    c = carry.shape[1]
    before = layout[0].copy()
    old_levels = levels
    steps, peak, levels, size, total, start = _schedule(
        block.shape[1], caps, layout, levels, size, total
    )
    region = np.zeros(MAX_LEVELS + 1, dtype=np.int64)
    for h in range(1, max(levels, 1)):
        region[h + 1] = region[h] + peak[h]
    declined = np.full(width, -1, dtype=np.int64)
    if levels < 0:
        return np.empty((width, 0)), region, steps, declined, levels, size, total, start
    buffer = np.empty((width, region[levels]), dtype=np.float64)
    widest = 2
    for t in range(steps.shape[0]):
        widest = max(widest, steps[t, _LENGTH])
    counts = np.empty(4 * widest, dtype=np.int64)
    marks = np.empty(widest // 2 + 1, dtype=np.int64)
    scratch = np.empty(widest, dtype=np.float64)
    # what the levels above 0 of the row at hand hold: the smallest and largest item and the
    # sum (as integers) and whether an item is not countable, kept up to date as kept items
    # are appended, so that only level 0's items are scanned
    lows = np.empty(MAX_LEVELS, dtype=np.int64)
    highs = np.empty(MAX_LEVELS, dtype=np.int64)
    sums = np.empty(MAX_LEVELS, dtype=np.int64)
    bad = np.empty(MAX_LEVELS, dtype=np.bool_)
    for r in range(width):
        row = buffer[r]
        lows[:] = VALUE_LIMIT
        highs[:] = -1
        sums[:] = 0
        bad[:] = False
        for h in range(1, old_levels):
            held = row[region[h] : region[h] + before[h]]
            held[:] = old[r, old_start[h] : old_start[h] + before[h]]
            lows[h], highs[h], sums[h], bad[h] = _scan_row(held, lows[h], highs[h], 0, False)
        for t in range(steps.shape[0]):
            h = steps[t, _LEVEL]
            n = steps[t, _LENGTH]
            even = n - n % 2
            if h == 0:
                first_item = steps[t, _START]
                first = carry[r, min(first_item, c) : min(first_item + even, c)]
                second = block[r, max(first_item, c) - c : max(first_item + even, c) - c]
                low, high, item_sum, declines = _scan_row(first, VALUE_LIMIT, -1, 0, False)
                pair = pairs[r]
                if pair < 0 or second.size == 0:
                    low, high, item_sum, declines = _scan_row(second, low, high, item_sum, declines)
                else:
                    # the new values are pair or pair + 1, told apart by their parity: their
                    # sum is counted from the bits, the values themselves are not read
                    at = max(first_item, c) - c
                    odd = _ones(parity[r], at, at + second.size)
                    upper = odd if pair % 2 == 0 else second.size - odd
                    low = min(low, pair)
                    high = max(high, pair + 1)
                    item_sum += pair * second.size + upper
            else:
                first = row[region[h] : region[h] + even]
                second = row[:0]
                # the level's range covers the compacted items (and the odd last one)
                low, high, item_sum, declines = lows[h], highs[h], sums[h], bad[h]
                if n % 2 and not declines:
                    item_sum -= np.int64(row[region[h] + even])
            dest = region[h + 1] + steps[t, _DEST]
            kept = row[dest : dest + even // 2]
            kept_total = -1
            if not declines:
                kept_total = _compact_row(
                    first,
                    second,
                    even,
                    steps[t, _OFFSET],
                    kept,
                    low,
                    high,
                    item_sum,
                    counts,
                    marks,
                    scratch,
                )
            if kept_total < 0:
                declined[r] = t
                break
            lows[h + 1] = min(lows[h + 1], np.int64(kept[0]))
            highs[h + 1] = max(highs[h + 1], np.int64(kept[even // 2 - 1]))
            sums[h + 1] += kept_total
            if h > 0:
                if n % 2:
                    row[region[h]] = row[region[h] + even]
                lows[h], highs[h], sums[h], bad[h] = _scan_row(
                    row[region[h] : region[h] + n % 2], VALUE_LIMIT, -1, 0, False
                )
    return buffer, region, steps, declined, levels, size, total, start


_scan_row = compile_kernel(_scan_row)
_count_row = compile_kernel(_count_row)
_count_row4 = compile_kernel(_count_row4)
_compact_row = compile_kernel(_compact_row)
_schedule = compile_kernel(_schedule)
_ones = compile_kernel(_ones)
_update = compile_kernel(_update)

_CAPACITIES: dict[tuple[int, float], np.ndarray] = {}


def _capacities(k: int, c: float) -> np.ndarray:
    caps = _CAPACITIES.get((k, c))
    if caps is None:
        caps = np.array([capacity(h, k, c) for h in range(MAX_LEVELS)], dtype=np.int64)
        _CAPACITIES[(k, c)] = caps
    return caps


def _kernel_ready(array: np.ndarray) -> np.ndarray:
    """``array`` if the kernel takes it as it is (one compiled type), else a C-ordered copy."""
    flags = array.flags
    if flags.c_contiguous and flags.writeable and flags.aligned and array.dtype == np.float64:
        return array
    return np.array(array, dtype=np.float64, order="C")


def _old_levels(levels: list[_Level], width: int) -> tuple[np.ndarray, np.ndarray]:
    """The items of levels 1 and up as ``(old, old_start)`` for :func:`_update`.

    After a compiled update they are views of one buffer, which is passed as it is.
    """
    old_start = np.zeros(MAX_LEVELS, dtype=np.int64)
    held = [(h, lv.items(width)) for h, lv in enumerate(levels) if h and lv.length]
    if not held:
        return np.empty((width, 0), dtype=np.float64), old_start
    base = held[0][1].base
    if (
        isinstance(base, np.ndarray)
        and base.ndim == 2
        and base.shape[0] == width
        and base.dtype == np.float64
        and base.flags.c_contiguous
        and base.flags.writeable
        and all(items.base is base and items.strides == base.strides for _, items in held)
    ):
        origin = base.ctypes.data
        for h, items in held:
            old_start[h] = (items.ctypes.data - origin) // 8
        if all(old_start[h] + items.shape[1] <= base.shape[1] for h, items in held):
            return base, old_start  # each level starts in row 0 of the buffer
    parts = []
    at = 0
    for h, items in held:
        parts.append(items)
        old_start[h] = at
        at += items.shape[1]
    return np.concatenate(parts, axis=1), old_start


def _sort_declined(rows, declined, steps, region, lengths, carry, block, buffer) -> None:
    """Go on with numpy's sort for ``rows``, each from the compaction where it declined.

    Each row of ``buffer`` holds its levels as they were just before that compaction; the
    rows are taken in the order they declined, so the ones a compaction concerns come first.
    Level 0's items are copied out of ``carry`` then ``block`` (the stream of its items) to be
    sorted; the other levels are sorted where they are: in ``buffer`` when the rows are
    consecutive, else in a copy of their rows, whose levels (``lengths`` items each at the end)
    are then written back.
    """
    rows = rows[np.argsort(declined[rows], kind="stable")]
    since = declined[rows].tolist()
    first_row = int(rows[0])
    consecutive = bool((rows == np.arange(first_row, first_row + len(rows))).all())
    levels = buffer[first_row : first_row + len(rows)] if consecutive else buffer[rows]
    region = region.tolist()
    c = carry.shape[1]
    active = 0
    for t, (h, n, offset, first_item, dest) in enumerate(steps.tolist()):
        if t < since[0]:
            continue
        if active < len(rows) and since[active] <= t:
            active = bisect.bisect_right(since, t)
            now = rows[:active]
        even = n - n % 2
        if h == 0:
            last = first_item + even
            if first_item >= c:
                items = block[now, first_item - c : last - c]
            elif last <= c:
                items = carry[now, first_item:last]
            else:
                items = np.concatenate((carry[now, first_item:], block[now, : last - c]), axis=1)
        else:
            items = levels[:active, region[h] : region[h] + even]
        items.sort(axis=1)
        at = region[h + 1] + dest
        levels[:active, at : at + even // 2] = items[:, offset:even:2]
        if h and n % 2:
            levels[:active, region[h]] = levels[:active, region[h] + even]
    if not consecutive:
        for h, length in enumerate(lengths.tolist()):
            if h and length:
                used = slice(region[h], region[h] + length)
                buffer[rows, used] = levels[:, used]


_NO_PAIRS: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _pair_arrays(pairs: Pairs | None, width: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """``pairs`` as the kernel takes them, checked against the block (the kernel reads the
    bits without bounds checks)."""
    if pairs is None:
        none = _NO_PAIRS.get(width)
        if none is None:
            none = _NO_PAIRS[width] = (
                np.full(width, -1, dtype=np.int64),
                np.zeros((width, 0), dtype=np.uint64),
            )
        return none
    lows, parity = pairs
    lows = np.ascontiguousarray(lows, dtype=np.int64)
    parity = np.ascontiguousarray(parity)
    if (
        lows.shape != (width,)
        or parity.dtype != np.uint64
        or parity.ndim != 2
        or parity.shape[0] != width
        or (parity.shape[1] * 64 < m and bool((lows >= 0).any()))
        or bool((lows >= VALUE_LIMIT - 1).any())
    ):
        raise ValueError(
            f"pairs for {width} rows of {m} values: lows {lows.shape}, bits "
            f"{parity.shape} {parity.dtype}"
        )
    return lows, parity


def update_batch(
    batch: KLLBatch, block: np.ndarray, copy: bool, pairs: Pairs | None = None
) -> None:
    """``batch.update(block, copy)`` with the compiled kernel (a :data:`kll.Compactor`).

    Args:
        batch: the sketches; left exactly as :meth:`KLLBatch.update` without a compactor
            leaves them.
        block: ``(batch.width, m)`` float64 values.
        copy: copy the values kept in level 0 (else they stay views of ``block``).
        pairs: what the caller knows of ``block``'s rows (see :data:`kll.Pairs`); a row it
            names is counted from its parity bits instead of being read, with the same result.

    Raises:
        ValueError: ``pairs`` does not fit ``block``.
    """
    width = batch.width
    m = block.shape[1]
    levels = batch._levels
    if m == 0:
        return
    lows, parity = _pair_arrays(pairs, width, m)
    if batch._size > batch._total or len(levels) >= MAX_LEVELS:  # only from_levels sketches
        batch.update(block, copy=copy)
        return
    carry = _kernel_ready(levels[0].items(width))
    values = _kernel_ready(block)
    old, old_start = _old_levels(levels, width)
    layout = np.zeros((3, MAX_LEVELS), dtype=np.int64)
    for h, lv in enumerate(levels):
        layout[0, h], layout[1, h], layout[2, h] = lv.length, lv.num_compress, lv.offset
    buffer, region, steps, declined, count, size, total, start = _update(
        carry,
        values,
        old,
        old_start,
        _capacities(batch.k, batch.c),
        layout,
        len(levels),
        batch._size,
        batch._total,
        lows,
        parity,
    )
    if count < 0:
        batch.update(block, copy=copy)
        return
    rows = np.flatnonzero(declined >= 0)
    if len(rows):
        _sort_declined(rows, declined, steps, region, layout[0], carry, values, buffer)
    c = carry.shape[1]
    zero = _Level(width)
    if start < c:
        zero.pieces.append(carry[:, start:])
    rest = block[:, max(start - c, 0) :]
    if rest.shape[1]:
        zero.pieces.append(rest.copy() if copy else rest)
    zero.length = c + m - start
    zero.num_compress, zero.offset = int(layout[1, 0]), int(layout[2, 0])
    new = [zero]
    for h in range(1, count):
        level = _Level(width)
        length = int(layout[0, h])
        if length:
            level.pieces.append(buffer[:, region[h] : region[h] + length])
        level.length = length
        level.num_compress, level.offset = int(layout[1, h]), int(layout[2, h])
        new.append(level)
    batch._levels = new
    batch._size, batch._total = int(size), int(total)


def warm() -> None:
    """Load the compiled kernel now (numba loads cached machine code on a kernel's first call)."""
    update_batch(KLLBatch(1, k=2), np.array([[1.0, 0.0, 2.0, 1.0, 0.5, 3.0, 2.0, 1.0]]), False)
