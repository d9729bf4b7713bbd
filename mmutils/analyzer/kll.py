"""deequ's KLL quantile sketch (``QuantileNonSample[Double]``), vectorised with numpy.

The analyzer container summarises every numeric column with deequ's non-sampling KLL sketch
(``sketchSize`` k = 2048, ``shrinkingFactor`` c = 0.64, spec §B.3). Its behaviour is fully
deterministic, so the sketch arrays in ``statistics.json`` can be reproduced exactly:

* level ``h`` holds items of weight ``2**h`` and has capacity ``2 * (ceil(k * c**h / 2) + 1)``;
* each value is appended to level 0; when the item count exceeds the summed capacity of the
  existing levels, the *lowest* level at or over its capacity is compacted once (a new level
  is added first when it is the top one);
* compacting sorts the first even number of items, emits every second one starting at the
  level's ``offset`` (flipped before every compaction whose running count is odd) to the end
  of the next level, and keeps an odd last item (unsorted) as the level's only content;
* merging concatenates level by level and condenses while the count reaches the capacity.

A sketch here is *batched*: it sketches ``width`` columns at once that have seen the same number
of values. Compaction points depend only on counts, so all columns of a batch compact together
and one ``np.sort(axis=1)`` serves them all. :class:`KLLSketch` is the single-column view.
Values are appended in slices up to the next overflow point, never one by one.

This module is pure numpy and is the reference. :meth:`KLLBatch.update` can hand a whole
update to a :data:`Compactor` — the profiler passes the compiled one of
:mod:`mmutils.analyzer.kll_compiled` when numba is loaded — which must leave the batch exactly
as this module would, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DEFAULT_C",
    "DEFAULT_K",
    "Compactor",
    "KLLBatch",
    "KLLSketch",
    "Pairs",
    "SortedSketch",
    "bucket_bounds",
    "capacity",
]

DEFAULT_K = 2048
DEFAULT_C = 0.64
NUM_BUCKETS = 10


#: What a caller knows of a block's rows, ``(lows, bits)``: ``lows[r] >= 0`` says that every
#: value of row ``r`` is the double ``lows[r]`` or ``lows[r] + 1`` (integers below 65535; the
#: profiler's one-digit columns of two values, flags mostly), and that bit ``p`` of ``bits[r]``
#: (uint64 words: bit ``p % 64`` of word ``p // 64``) is value ``p``'s parity, which tells the two
#: apart; ``lows[r] < 0`` says nothing of row ``r``.
Pairs = tuple[np.ndarray, np.ndarray]

#: A compiled update (:func:`mmutils.analyzer.kll_compiled.update_batch`):
#: ``compactor(batch, block, copy, pairs)`` adds the ``(width, m)`` float64 ``block`` to
#: ``batch`` as :meth:`KLLBatch.update` does without it: the same levels bit for bit, the same
#: counters, and views of ``block`` kept in level 0 unless ``copy``. ``pairs`` (a :data:`Pairs`
#: or None) only spares it reading values.
Compactor = Callable[["KLLBatch", np.ndarray, bool, "Pairs | None"], None]


def capacity(height: int, k: int = DEFAULT_K, c: float = DEFAULT_C) -> int:
    """Capacity of compactor level ``height`` (deequ's formula, shrinking with height)."""
    return 2 * (math.ceil(k * c**height / 2) + 1)


class _Level:
    """One compactor: its items (``width`` rows), compaction count and offset."""

    __slots__ = ("pieces", "length", "num_compress", "offset")

    def __init__(self, width: int):
        self.pieces: list[np.ndarray] = []
        self.length = 0
        self.num_compress = 0
        self.offset = 0

    def items(self, width: int) -> np.ndarray:
        """The level's items as one ``(width, length)`` array (pieces joined once)."""
        if len(self.pieces) != 1:
            joined = (
                np.concatenate(self.pieces, axis=1)
                if self.pieces
                else np.empty((width, 0), dtype=np.float64)
            )
            self.pieces = [joined]
        return self.pieces[0]

    def append(self, block: np.ndarray) -> None:
        if block.shape[1]:
            self.pieces.append(block)
            self.length += block.shape[1]

    def compact(self, width: int) -> np.ndarray:
        """Compact once; return the emitted items (``width`` rows) for the next level.

        The first even number of items is copied once into a buffer sorted in place (the
        pieces are not joined first), and the emitted items are a strided view of it.
        """
        n = self.length
        even = n - n % 2
        if self.num_compress % 2 == 1:
            self.offset = 1 - self.offset
        # deequ's random offset choice is commented out: the flip above is all there is.
        if len(self.pieces) == 1:
            first = self.pieces[0]
            buf = np.sort(first[:, :even], axis=1)
            tail = first[:, even:].copy()
            emitted = buf[:, self.offset : even : 2]
        else:
            buf = np.empty((width, even), dtype=np.float64)
            tail = None
            filled = 0
            for piece in self.pieces:
                take = min(piece.shape[1], even - filled)
                if take > 0:
                    buf[:, filled : filled + take] = piece[:, :take]
                    filled += take
                if take < piece.shape[1]:
                    tail = piece[:, take:].copy()  # the one odd item, always in the last piece
            buf.sort(axis=1)
            emitted = buf[:, self.offset : even : 2]
        self.pieces = [tail] if n % 2 else []
        self.length = n % 2
        self.num_compress += 1
        return emitted


class KLLBatch:
    """``width`` deequ KLL sketches that always hold the same number of values.

    Args:
        width: number of columns sketched together.
        k: sketch size (deequ ``sketchSize``).
        c: shrinking factor.
    """

    def __init__(self, width: int, k: int = DEFAULT_K, c: float = DEFAULT_C):
        self.width = width
        self.k = k
        self.c = c
        self._levels: list[_Level] = []
        self._size = 0  # items currently held (per column)
        self._total = 0  # summed capacity of the existing levels
        self._expand()

    # -- deequ mechanics -------------------------------------------------------------------

    def _expand(self) -> None:
        self._levels.append(_Level(self.width))
        self._total = sum(capacity(h, self.k, self.c) for h in range(len(self._levels)))

    def _condense(self) -> None:
        for height, level in enumerate(self._levels):
            if level.length >= capacity(height, self.k, self.c):
                if height + 1 >= len(self._levels):
                    self._expand()
                self._levels[height + 1].append(level.compact(self.width))
                self._size = sum(lv.length for lv in self._levels)
                return

    def update(
        self,
        values: np.ndarray,
        copy: bool = True,
        compactor: Compactor | None = None,
        pairs: Pairs | None = None,
    ) -> None:
        """Add values in order: ``values`` is ``(width, m)`` (or ``(m,)`` when width is 1).

        ``copy=False`` keeps views of ``values`` until they are compacted: for callers that
        never change the array afterwards (the profiler's per-chunk matrix). ``compactor``
        (see :data:`Compactor`) does the whole update instead, told ``pairs`` (see
        :data:`Pairs`; unused without a compactor); the result is the same bit for bit.
        """
        block = np.asarray(values, dtype=np.float64)
        if block.ndim == 1:
            block = block.reshape(1, -1)
        if block.shape[0] != self.width:
            raise ValueError(f"expected {self.width} rows of values, got {block.shape[0]}")
        if compactor is not None:
            compactor(self, block, copy, pairs)
            return
        m = block.shape[1]
        pos = 0
        level0 = self._levels[0]
        while pos < m:
            # Values that fit before the count exceeds the capacity, plus the one that does.
            take = min(m - pos, self._total - self._size + 1)
            piece = block[:, pos : pos + take]
            level0.append(piece.copy() if copy else piece)
            self._size += take
            pos += take
            if self._size > self._total:
                self._condense()
                level0 = self._levels[0]

    def merge(self, other: KLLBatch) -> KLLBatch:
        """Merge ``other`` into this batch (deequ ``merge``: level-wise concat, then condense).

        The compaction counters of ``self`` are kept, those of ``other`` are dropped, as in
        deequ. Returns ``self``.
        """
        if other.width != self.width or other.k != self.k or other.c != self.c:
            raise ValueError("cannot merge sketches of different width or parameters")
        while len(self._levels) < len(other._levels):
            self._expand()
        for mine, theirs in zip(self._levels, other._levels, strict=False):
            mine.append(theirs.items(self.width).copy())
        self._size = sum(lv.length for lv in self._levels)
        while self._size >= self._total:
            self._condense()
        return self

    def finalized(self) -> KLLBatch:
        """The sketch Spark hands to deequ: a fresh buffer merged with this partial one.

        Spark's final aggregation merges each partition's buffer into a newly initialised
        one, so the result keeps the items but not the compaction counters, and a sketch that
        is exactly at capacity is condensed once more.
        """
        return KLLBatch(self.width, self.k, self.c).merge(self)

    @classmethod
    def stack(cls, batches: Sequence[KLLBatch]) -> KLLBatch:
        """Join batches that hold the same number of values into one wider batch.

        Sketches fed only by :meth:`update` with equal counts have the same compactor layout
        (it depends on the count alone), so their levels can be stacked row-wise.
        """
        first = batches[0]
        layout = [(lv.length, lv.num_compress, lv.offset) for lv in first._levels]
        for other in batches[1:]:
            if [(lv.length, lv.num_compress, lv.offset) for lv in other._levels] != layout:
                raise ValueError("cannot stack sketches with different compactor layouts")
        batch = cls(sum(b.width for b in batches), first.k, first.c)
        batch._levels = []
        for h, (_, num_compress, offset) in enumerate(layout):
            level = _Level(batch.width)
            parts = [b._levels[h].items(b.width) for b in batches]
            level.pieces = [np.concatenate(parts, axis=0)]
            level.length = parts[0].shape[1]
            level.num_compress, level.offset = num_compress, offset
            batch._levels.append(level)
        batch._size, batch._total = first._size, first._total
        return batch

    # -- access ----------------------------------------------------------------------------

    @property
    def count(self) -> int:
        """Total weight (number of values sketched) per column."""
        return sum(lv.length << h for h, lv in enumerate(self._levels))

    def level_arrays(self) -> list[np.ndarray]:
        """The compactor levels, level 0 first, each ``(width, length)`` in internal order."""
        return [lv.items(self.width) for lv in self._levels]

    def sorted_columns(self) -> list[SortedSketch]:
        """Every column's :class:`SortedSketch`, sorted together (one ``argsort`` per batch).

        The columns of a batch share their level lengths, so their items form one
        ``(width, items)`` array; sorting its rows at once gives each column what
        :meth:`SortedSketch.from_levels` gives it alone, bit for bit, without a Python call
        per column (the sort and the running sums release the GIL). The sketches' arrays are
        rows of shared arrays: read them, do not change them.
        """
        levels = self.level_arrays() or [np.empty((self.width, 0))]
        values = np.concatenate(levels, axis=1) if len(levels) > 1 else levels[0]
        return _sorted_rows(values, [level.shape[1] for level in levels])

    def shares_memory(self, array: np.ndarray) -> bool:
        """Whether an item held lives in ``array``'s memory (a view kept by ``copy=False``)."""
        return any(
            np.may_share_memory(piece, array) for level in self._levels for piece in level.pieces
        )

    def column(self, index: int) -> KLLSketch:
        """A single-column copy of column ``index`` (counters kept)."""
        sketch = KLLSketch(self.k, self.c)
        batch = sketch._batch
        batch._levels = []
        for lv in self._levels:
            copy = _Level(1)
            copy.append(lv.items(self.width)[index : index + 1].copy())
            copy.num_compress, copy.offset = lv.num_compress, lv.offset
            batch._levels.append(copy)
        batch._size, batch._total = self._size, self._total
        return sketch

    def take(self, keep: Sequence[int]) -> KLLBatch:
        """A batch of the columns ``keep`` only (counters kept)."""
        batch = KLLBatch(len(keep), self.k, self.c)
        batch._levels = []
        idx = np.asarray(keep, dtype=np.intp)
        for lv in self._levels:
            copy = _Level(len(keep))
            copy.append(lv.items(self.width)[idx])
            copy.num_compress, copy.offset = lv.num_compress, lv.offset
            batch._levels.append(copy)
        batch._size, batch._total = self._size, self._total
        return batch


class KLLSketch:
    """One deequ KLL sketch (``QuantileNonSample[Double]``).

    Args:
        k: sketch size (2048 in the analyzer).
        c: shrinking factor (0.64).
    """

    def __init__(self, k: int = DEFAULT_K, c: float = DEFAULT_C):
        self._batch = KLLBatch(1, k, c)

    @property
    def k(self) -> int:
        return self._batch.k

    @property
    def c(self) -> float:
        return self._batch.c

    def update(self, values: np.ndarray | Sequence[float]) -> None:
        """Add values in the given order."""
        self._batch.update(np.asarray(values, dtype=np.float64).reshape(1, -1))

    def merge(self, other: KLLSketch) -> KLLSketch:
        """Merge ``other`` into this sketch (deequ semantics); returns ``self``."""
        self._batch.merge(other._batch)
        return self

    def finalized(self) -> KLLSketch:
        """This sketch as Spark's final aggregation hands it over (see :meth:`KLLBatch.finalized`)."""
        sketch = KLLSketch(self.k, self.c)
        sketch._batch = self._batch.finalized()
        return sketch

    @property
    def levels(self) -> list[np.ndarray]:
        """Compactor contents, level 0 first (the ``sketch.data`` arrays of statistics.json)."""
        return [arr[0] for arr in self._batch.level_arrays()]

    @property
    def count(self) -> int:
        """Total weight: the number of values sketched."""
        return self._batch.count

    @classmethod
    def from_levels(
        cls, levels: Sequence[Sequence[float]], k: float = DEFAULT_K, c: float = DEFAULT_C
    ) -> KLLSketch:
        """Rebuild a sketch from ``statistics.json`` (``sketch.data``, ``parameters.k/c``).

        Compaction counters are not stored in the file; they start at zero.
        """
        sketch = cls(int(k), float(c))
        batch = sketch._batch
        batch._levels = []
        for values in levels:
            level = _Level(1)
            level.append(np.asarray(values, dtype=np.float64).reshape(1, -1))
            batch._levels.append(level)
        if not batch._levels:
            batch._levels.append(_Level(1))
        batch._total = sum(capacity(h, batch.k, batch.c) for h in range(len(batch._levels)))
        batch._size = sum(lv.length for lv in batch._levels)
        return sketch

    # -- queries ---------------------------------------------------------------------------

    def weighted_items(self) -> tuple[np.ndarray, np.ndarray]:
        """All items sorted ascending with their weights (``2**level``), as int64 weights."""
        levels = self.levels
        if not levels or sum(len(lv) for lv in levels) == 0:
            return np.empty(0), np.empty(0, dtype=np.int64)
        items = np.concatenate(levels)
        weights = np.concatenate(
            [np.full(len(lv), 1 << h, dtype=np.int64) for h, lv in enumerate(levels)]
        )
        order = np.argsort(items, kind="stable")
        return items[order], weights[order]

    def rank(self, x: float | np.ndarray, inclusive: bool = True) -> np.ndarray | int:
        """Estimated rank: weight of items ``<= x`` (inclusive) or ``< x`` (exclusive).

        Matches deequ ``getRank`` / ``getRankExclusive``; vectorised over ``x``.
        """
        # the running weights are whole numbers well below 2**53: exact as float64
        result = self.sorted().rank(x, inclusive).astype(np.int64)
        return int(result) if np.ndim(result) == 0 else result

    def cdf(self, x: float | np.ndarray) -> np.ndarray | float:
        """Estimated fraction of values ``<= x`` (inclusive rank / total weight)."""
        total = self.count
        ranks = self.rank(x, inclusive=True)
        return ranks / total if total else np.zeros_like(np.asarray(x, dtype=np.float64))

    def quantiles(self, q: int) -> np.ndarray:
        """deequ ``quantiles(q)``: the 1/q … (q-1)/q quantiles of the sketch."""
        items, weights = self.weighted_items()
        if len(items) == 0:
            return np.empty(0)
        size = int(weights.sum())
        result = np.full(q - 1, items[0])
        i, so_far, curq, thresh = 0, 0, 1, size // q
        while i < len(items) and curq < q:
            while so_far < thresh and i < len(items):
                so_far += int(weights[i])
                i += 1
            result[curq - 1] = items[min(i, len(items) - 1)]
            curq += 1
            thresh = curq * size // q
        return result

    def sorted(self) -> SortedSketch:
        """The sketch's items sorted with their running weights (its CDF)."""
        return SortedSketch.from_levels(self.levels)

    def buckets(self, lo: float, hi: float, num: int = NUM_BUCKETS) -> list[dict]:
        """The ``distribution.kll.buckets`` of statistics.json between ``lo`` and ``hi``.

        See :meth:`SortedSketch.buckets`.
        """
        return self.sorted().buckets(lo, hi, num)


@dataclass(frozen=True)
class SortedSketch:
    """A KLL sketch's items sorted, with their running weights: its CDF, for ranks and drift.

    Attributes:
        items: every item of every level, ascending (items of equal value in level order).
        ranks: ``ranks[i]`` is the summed weight (``2**level`` each) of ``items[:i]``, so
            ``len(items) + 1`` values from 0 to the total (float64, exact: integers).
        steps: the items without repeats (where the CDF steps), ascending.
    """

    items: np.ndarray
    ranks: np.ndarray
    steps: np.ndarray

    @classmethod
    def from_levels(cls, levels: Sequence[Sequence[float]]) -> SortedSketch:
        """Sort compactor levels (``sketch.data``, level 0 first): one stable sort."""
        arrays = [np.asarray(level, dtype=np.float64).ravel() for level in levels]
        arrays = arrays or [np.empty(0)]
        return _sorted_rows(np.concatenate(arrays)[None, :], [len(a) for a in arrays])[0]

    @property
    def total(self) -> float:
        """Total weight: the number of values sketched."""
        return float(self.ranks[-1])

    def rank(self, x: float | np.ndarray, inclusive: bool = True) -> np.ndarray:
        """Weight of the items ``<= x`` (inclusive) or ``< x`` (float64; vectorised over ``x``)."""
        return self.ranks[np.searchsorted(self.items, x, side="right" if inclusive else "left")]

    def buckets(self, lo: float, hi: float, num: int = NUM_BUCKETS) -> list[dict]:
        """The ``distribution.kll.buckets`` of statistics.json between ``lo`` and ``hi``.

        Counts are ``rankExclusive(upper) - rankExclusive(lower)``, the last bucket uses the
        inclusive rank of its upper bound (deequ ``KLLSketch.computeMetricFrom``).
        """
        bounds = bucket_bounds(lo, hi, num)
        lowers = np.array([b[0] for b in bounds])
        uppers = np.array([b[1] for b in bounds])
        excl_lo = self.rank(lowers, inclusive=False)
        counts = self.rank(uppers, inclusive=False) - excl_lo
        counts[-1] = self.rank(uppers[-1], inclusive=True) - excl_lo[-1]
        return [
            {"lower_bound": lower, "upper_bound": upper, "count": count}
            for (lower, upper), count in zip(bounds, counts.tolist(), strict=True)
        ]


def _sorted_rows(values: np.ndarray, lengths: Sequence[int]) -> list[SortedSketch]:
    """Each row of ``values`` (levels side by side, ``lengths[h]`` items of level ``h``, weight
    ``2**h``) as a :class:`SortedSketch`: one stable sort of all rows."""
    weights = np.concatenate([np.full(n, float(1 << h)) for h, n in enumerate(lengths)])
    order = np.argsort(values, axis=1, kind="stable")
    items = np.take_along_axis(values, order, axis=1)
    ranks = np.zeros((values.shape[0], items.shape[1] + 1))
    np.cumsum(weights[order], axis=1, out=ranks[:, 1:])
    new = np.ones(items.shape, dtype=bool)
    np.not_equal(items[:, 1:], items[:, :-1], out=new[:, 1:])  # a NaN stays (same ranks)
    return [SortedSketch(items[i], ranks[i], items[i][new[i]]) for i in range(values.shape[0])]


def bucket_bounds(lo: float, hi: float, num: int = NUM_BUCKETS) -> list[tuple[float, float]]:
    """Equal-width bucket bounds as deequ computes them: ``lo + (hi - lo) * i / num``."""
    width = hi - lo
    return [(lo + width * i / float(num), lo + width * (i + 1) / float(num)) for i in range(num)]
