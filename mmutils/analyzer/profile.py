"""Streaming column profiler: chunks of string columns in, the ``statistics.json`` document out.

Every statistic reproduces the analyzer container bit for bit (spec §B.2-§B.5):

* ``sum`` is the left-to-right double sum of the column's values in row order (numpy's
  ``add.accumulate`` is strictly sequential, unlike ``sum``), ``mean = sum / num_present``;
* ``std_dev`` is the population deviation of Spark's streaming update
  (``n += 1; d = x - avg; avg += d / n; m2 += d * (d - d / n)``). The mean recurrence cannot
  be reassociated without changing the last bits, so it runs row by row, but for all numeric
  columns at once (three numpy operations per row cover every column); the ``m2`` increments
  are then recomputed from the stored means, vectorised, and summed left to right. From
  ``COMPILED_MIN_ROWS`` rows on, and if numba is installed, the sums and this recurrence run
  in a compiled loop instead (:mod:`mmutils.analyzer.compiled`, ~25x faster) that performs the
  same operations in the same order, so the results are identical bit for bit; columns of plain
  cells (``digits``, ``digits.digits``, no nulls) are then also classified and converted by a
  compiled pass, exactly (see :meth:`Profiler._update_compiled`);
* the KLL sketch is deequ's, fed in row order; columns that have seen the same number of values
  share one batched sketch (:class:`~mmutils.analyzer.kll.KLLBatch`);
* types follow deequ's regular expressions (:mod:`mmutils.analyzer.dtypes`).

Memory is bounded by the sketches and the value counts of String columns. Numeric-looking
columns count no values: a column that turns String after its first rows counts its values from
that chunk on, and :meth:`Profiler.recount_from` counts the rows it missed from the data read
again (:meth:`Profiler.recount_rows` says how many; deequ, too, reads the data once for the
types and again for the statistics).
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Callable, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mmutils.analyzer import dtypes, jsonfmt, parallel
from mmutils.analyzer.buffers import plain_pages
from mmutils.analyzer.errors import AnalyzerError
from mmutils.analyzer.kll import DEFAULT_C, DEFAULT_K, KLLBatch, KLLSketch, Pairs, SortedSketch
from mmutils.analyzer.startup import optional_module

__all__ = [
    "COMPILED_INPUT_BYTES",
    "COMPILED_MIN_ROWS",
    "MAX_CATEGORICAL_BUCKETS",
    "Profiler",
    "as_string_array",
    "load_kernels",
    "read_again",
    "sketch_levels_as_lists",
    "string_column",
    "text_bytes",
]

_log = logging.getLogger(__name__)

#: Categorical buckets written for a String feature (deequ's histogram detail limit).
MAX_CATEGORICAL_BUCKETS = 1000
# deequ's KLL aggregate starts min/max at Int.MaxValue/Int.MinValue; bucket bounds use those.
_KLL_MIN_START = float(2**31 - 1)
_KLL_MAX_START = float(-(2**31))
#: Rows seen (the current chunk included) from which the numba kernels take over, if installed.
#: Loading numba and the cached kernels costs ~0.4-0.5 s per process, which the numpy path's
#: per-row recurrence only catches up with at ~70k rows of the lab's 70-column shape (measured
#: in fresh processes, medians of 3: 52k rows 0.81 s numpy vs 1.08 s numba; 104k rows 1.34 s
#: vs 0.93 s). Small jobs (the lab's baseline, hourly monitoring runs) never import numba.
COMPILED_MIN_ROWS = 60_000
#: Inputs of at least this many bytes use the kernels from their first row (callers pass
#: ``compiled_min_rows=0``): they cross ``COMPILED_MIN_ROWS`` anyway for any plausible row width
#: (the lab's shape: ~500 bytes a row, so ~130k rows), and their first rows are then not
#: profiled twice as slowly. The results are the same bit for bit either way.
COMPILED_INPUT_BYTES = 64 << 20
# chunk value buffers a profiler keeps for reuse (sketches updated without the compiled
# compactor may still view the last two)
_BUFFERS = 3
# kll_compiled.update_batch once tried: None = not yet, False = unavailable
_compactor = None
# the numba kernels module once tried: None = not yet, False = unavailable
_compiled_module = None


def load_kernels() -> bool:
    """Import the numba kernels now, if installed; whether they are available."""
    return _compiled() is not None


def warm_kernels() -> bool:
    """Load the numba kernels and run each once on a few cells; whether they are available.

    numba loads a kernel's cached machine code on its first call (tens of ms each); a
    process that forks analysis jobs (the emulator's warm analyzer) pays that once here.
    """
    if _compiled() is None:
        return False
    warm = Profiler(["flag", "count", "ratio"], compiled_min_rows=0)
    warm.update(pa.table({"flag": ["1", "0"], "count": ["12", "7"], "ratio": ["0.5", "1.25"]}))
    return True


def _kll_compactor():
    """``kll_compiled.update_batch``, or None when it fails to load (numpy sorts instead)."""
    global _compactor
    if _compactor is None:
        module = optional_module(
            "mmutils.analyzer.kll_compiled",
            _log,
            "compiled KLL compaction unavailable, sorting with numpy",
        )
        _compactor = module and module.update_batch
    return _compactor or None


def _compiled():
    """:mod:`mmutils.analyzer.compiled`, or None when numba is missing or fails to load."""
    global _compiled_module
    if _compiled_module is None:
        _compiled_module = optional_module(
            "mmutils.analyzer.compiled", _log, "numba kernels unavailable, using the numpy path"
        )
    return _compiled_module or None


class Profiler:
    """Accumulates the statistics of a dataset given chunk by chunk.

    Args:
        names: the column names, in dataset order. Every chunk must have these columns.
        compiled_min_rows: rows seen from which the numba kernels take over (default
            :data:`COMPILED_MIN_ROWS`); the statistics do not depend on it.
    """

    def __init__(self, names: list[str], compiled_min_rows: int | None = None):
        self.names = list(names)
        self.compiled_min_rows = compiled_min_rows
        width = len(self.names)
        self.item_count = 0
        #: rows whose moments went through the compiled kernels (the rest used numpy)
        self.compiled_rows = 0
        self._types = [dtypes.TypeCounts() for _ in range(width)]
        self._numeric_ok = np.ones(width, dtype=bool)  # no String/Boolean cell seen yet
        self._n = np.zeros(width, dtype=np.float64)
        self._sum = np.zeros(width, dtype=np.float64)
        self._avg = np.zeros(width, dtype=np.float64)
        self._m2 = np.zeros(width, dtype=np.float64)
        self._min = np.full(width, np.inf)
        self._max = np.full(width, -np.inf)
        # count of values sketched -> (batch, column indices); equal counts share a batch
        self._sketches: dict[int, tuple[KLLBatch, list[int]]] = {
            0: (KLLBatch(width, DEFAULT_K, DEFAULT_C), list(range(width)))
        }
        # value counts of String columns: text -> count (None: numeric so far, not counting)
        self._values: list[dict[str, int] | None] = [None] * width
        # column -> its first rows, whose values it did not count (it looked numeric there)
        self._recount: dict[int, int] = {}
        self._buffers: list[np.ndarray] = []  # chunk value buffers, see _values_buffer
        self._parity = np.zeros(0, dtype=np.uint64)  # the chunk's parity bits, see _parity_bits

    # -- update ----------------------------------------------------------------------------

    def update(self, chunk: pa.Table) -> None:
        """Add the rows of ``chunk`` (a table of string columns in ``names`` order)."""
        if chunk.num_columns != len(self.names):
            raise AnalyzerError(
                f"chunk has {chunk.num_columns} columns, expected {len(self.names)}"
            )
        rows = chunk.num_rows
        width = len(self.names)
        if rows == 0:
            return
        self.item_count += rows
        # the chunk's pieces are kept (a chunk assembled from several files is not copied into
        # one array): the compiled path converts them piece by piece, the others join them
        columns = [string_column(chunk.column(j), self.names[j]) for j in range(width)]
        kernels = _compiled() if self.item_count >= self._compiled_threshold() else None
        if kernels is not None:
            self._update_compiled(kernels, columns, rows)
            return
        columns = [_whole(c) for c in columns]
        for j, arr in enumerate(columns):
            counts = dtypes.classify_plain(arr)[0]
            self._types[j] += counts
            if counts.string or counts.boolean:
                self._turn_string(j, rows)
        numeric = np.flatnonzero(self._numeric_ok)
        # one contiguous row per numeric column: cheap to fill, and the sketches' input as is
        x = np.empty((len(numeric), rows), dtype=np.float64)
        for pos, j in enumerate(numeric):
            x[pos] = dtypes.to_double(columns[j])
        present = ~np.isnan(x)
        # per-column extremes of the chunk; missing (NaN) cells are skipped, as in np.nanmin
        lo = np.fmin.reduce(x, axis=1, initial=np.inf)
        hi = np.fmax.reduce(x, axis=1, initial=-np.inf)
        self._count_chunk_values(columns)
        if len(numeric) == 0:
            self._sketches = {}
            return
        self._update_moments(numeric, x, present, lo, hi, None)
        self._update_sketches(numeric, x, present.sum(axis=1))

    def _values_buffer(self, columns: int, rows: int) -> np.ndarray:
        """A C-ordered ``(columns, rows)`` float64 array for a chunk's values, reused when free.

        Fresh memory is dear: the kernel zeroes every new page, and on a virtual machine the
        host may have to back it first. So a profiler keeps its buffers and hands out the
        front of one that is large enough and free: no sketch holds items in it. The compiled
        sketch update copies the few values it keeps in level 0 (:meth:`_update_sketches`), so
        one buffer serves every chunk (sketches updated by numpy keep views of the last chunks
        until they compact them). Its pages are plain ones (``buffers.plain_pages``): numpy
        would take huge pages, which cost the VM's host more when fresh (interleaved monitoring
        runs at 1M records: 1.269 s instead of 1.305 s, median of 9).
        """
        need = columns * rows
        for buf in self._buffers:
            if buf.size >= need and not any(
                batch.shares_memory(buf) for batch, _ in self._sketches.values()
            ):
                return buf[:need].reshape(columns, rows)
        buf = plain_pages(need)
        self._buffers = [*self._buffers[-(_BUFFERS - 1) :], buf]
        return buf[:need].reshape(columns, rows)

    def _parity_bits(self, columns: int, rows: int) -> np.ndarray:
        """A zeroed ``(columns, words)`` uint64 array for a chunk's parity bits (reused: the
        sketch update reads them only during its call)."""
        words = -(-rows // 64)
        need = columns * words
        if self._parity.size < need:
            self._parity = np.empty(need, dtype=np.uint64)
        bits = self._parity[:need].reshape(columns, words)
        bits.fill(0)
        return bits

    def _compiled_threshold(self) -> int:
        if self.compiled_min_rows is None:
            return COMPILED_MIN_ROWS
        return self.compiled_min_rows

    def _update_compiled(self, kernels, columns: list[pa.Array], rows: int) -> None:
        """:meth:`update` with the compiled kernels: same statistics, bit for bit.

        Columns of null-free ``digits`` / ``digits.digits`` cells (the bulk of numeric data)
        are classified, converted and bounded by one compiled call for the whole chunk that
        releases the GIL (:func:`_convert_plain`,
        :func:`mmutils.analyzer.compiled.plain_chunk`); plain columns with a value that pass
        cannot convert exactly are converted by :func:`dtypes.to_double`, and any other column
        takes the general path of :meth:`update`.
        """
        candidates = np.flatnonzero(self._numeric_ok)  # numeric up to this chunk
        row_of = {int(j): pos for pos, j in enumerate(candidates)}
        x = self._values_buffer(len(candidates), rows)
        bits = self._parity_bits(len(candidates), rows)
        results = _convert_plain(kernels, columns, candidates, x, bits)
        fast: dict[int, tuple[float, float]] = {}  # column -> (min, max) of the chunk
        two_valued: dict[int, int] = {}  # one-digit column of two values -> the lower one
        inexact: set[int] = set()  # plain columns with a value the pass cannot convert exactly
        for j, arr in enumerate(columns):
            pos = row_of.get(j)
            if pos is not None:
                status, decimals, lo, hi, parity = results[pos].tolist()
                if status != kernels.NOT_PLAIN:
                    decimals = int(decimals)
                    self._types[j] += dtypes.TypeCounts(
                        integral=rows - decimals, fractional=decimals
                    )
                    if status == kernels.EXACT:
                        fast[j] = (lo, hi)
                        if parity and hi - lo <= 1:
                            two_valued[j] = int(lo)
                    else:
                        inexact.add(j)
                    continue
            columns[j] = arr = _whole(arr)
            counts = dtypes.classify_plain(arr)[0]
            self._types[j] += counts
            if counts.string or counts.boolean:
                self._turn_string(j, rows)
        numeric = np.flatnonzero(self._numeric_ok)
        if len(numeric) != len(candidates):  # a column turned String in this chunk
            kept = [row_of[int(j)] for j in numeric]
            x, bits = x[kept], bits[kept]
        pairs = np.array([two_valued.get(j, -1) for j in numeric.tolist()], dtype=np.int64)
        lo = np.empty(len(numeric))
        hi = np.empty(len(numeric))
        added = np.full(len(numeric), rows, dtype=np.int64)
        for pos, j in enumerate(numeric.tolist()):
            if j in fast:
                lo[pos], hi[pos] = fast[j]
                continue
            values = x[pos]
            if j in inexact and _cast_pieces(columns[j], values):
                # plain cells without a null (e.g. 17-digit scores): Arrow's cast parsed them
                # piece by piece into their rows, without joining the pieces first
                lo[pos] = np.fmin.reduce(values, initial=np.inf)
                hi[pos] = np.fmax.reduce(values, initial=-np.inf)
                continue
            columns[j] = _whole(columns[j])
            values[:] = dtypes.to_double(columns[j])
            lo[pos] = np.fmin.reduce(values, initial=np.inf)
            hi[pos] = np.fmax.reduce(values, initial=-np.inf)
            added[pos] = rows - int(np.count_nonzero(np.isnan(values)))
        self._count_chunk_values(columns)
        if len(numeric) == 0:
            self._sketches = {}
            return
        self._update_moments(numeric, x, None, lo, hi, kernels)
        self._update_sketches(numeric, x, added, (pairs, bits) if two_valued else None)

    def _count_chunk_values(self, columns: list[pa.Array]) -> None:
        """Add the chunk's cells to the value counts of the String columns."""
        for j, arr in enumerate(columns):
            if self._values[j] is not None:
                self._count_values(j, _whole(arr))

    def _count_values(self, j: int, arr: pa.Array) -> None:
        counts = self._values[j]
        vc = pc.value_counts(arr.drop_null())
        for value, count in zip(
            vc.field("values").to_pylist(), vc.field("counts").to_pylist(), strict=True
        ):
            counts[value] = counts.get(value, 0) + count

    def value_counts(self, j: int) -> dict[str, int] | None:
        """Cell text -> count for column ``j`` (None while it is numeric: it counts nothing).

        A column that turned String after its first rows lacks their counts until
        :meth:`recount_from` ran.
        """
        counts = self._values[j]
        return None if counts is None else dict(counts)

    def _turn_string(self, j: int, rows: int) -> None:
        """Column ``j`` is not numeric (a String or Boolean cell in this chunk of ``rows``): it
        counts its values from this chunk on, and the rows before it are to be recounted."""
        self._numeric_ok[j] = False
        if self._values[j] is None:
            self._values[j] = {}
            before = self.item_count - rows
            if before:
                self._recount[j] = before

    def recount_rows(self) -> dict[int, int]:
        """Columns whose value counts miss their first rows: column index -> rows missed.

        A column counts its values only once it has turned String (or Boolean); the rows it
        saw before are counted by :meth:`recount_from`, before :meth:`result`.
        """
        return dict(self._recount)

    def recount_from(self, chunks: Iterable[pa.Table]) -> None:
        """Count the values :meth:`recount_rows` names, from the data read again.

        Args:
            chunks: the chunks :meth:`update` was given, again, from the first (their number
                of rows may differ); read only as far as the rows missed, then closed.

        Raises:
            AnalyzerError: the data read again has fewer rows than the first time.
        """
        self.recount_done(
            read_again(chunks, max(self._recount.values(), default=0), self.recount_chunk)
        )

    def recount_chunk(self, chunk: pa.Table, first: int) -> None:
        """Count the cells of ``chunk`` (rows ``first``… of the data) that columns missed."""
        for j, missing in self._recount.items():
            take = min(chunk.num_rows, missing - first)
            if take > 0:
                arr = _whole(string_column(chunk.column(j), self.names[j]))
                self._count_values(j, arr.slice(0, take))

    def recount_done(self, rows: int) -> None:
        """The recount read ``rows`` rows again: the counts are whole.

        Raises:
            AnalyzerError: fewer rows than the columns missed (the data changed meanwhile).
        """
        need = max(self._recount.values(), default=0)
        if rows < need:
            raise AnalyzerError(
                f"the data read again to count values has {rows} rows, not {need} or more"
            )
        self._recount.clear()

    def _update_moments(
        self,
        numeric: np.ndarray,
        x: np.ndarray,
        present: np.ndarray | None,
        lo: np.ndarray,
        hi: np.ndarray,
        kernels,
    ) -> None:
        """Extremes, sums and moments of the chunk's numeric columns (``kernels``: compiled)."""
        self._min[numeric] = np.fmin(self._min[numeric], lo)
        self._max[numeric] = np.fmax(self._max[numeric], hi)
        total, n = self._sum[numeric], self._n[numeric]
        avg, m2 = self._avg[numeric], self._m2[numeric]
        if kernels is not None:
            kernels.moments(x, total, n, avg, m2)
            self.compiled_rows += x.shape[1]
        else:
            # the numpy recurrences step through rows: hand them (rows, columns) views
            rows_x, rows_present = x.T, present.T
            with np.errstate(all="ignore"):
                filled = rows_x if rows_present.all() else np.where(rows_present, rows_x, 0.0)
                total = _sequential_sum(total, filled)  # adding 0.0 for a hole is exact
                _welford(rows_x, rows_present, n, avg, m2)
        self._sum[numeric], self._n[numeric] = total, n
        self._avg[numeric], self._m2[numeric] = avg, m2

    def _update_sketches(
        self,
        numeric: np.ndarray,
        x: np.ndarray,
        added: np.ndarray,
        pairs: Pairs | None = None,
    ) -> None:
        """Feed the chunk's values to the sketches (``added``: values present per column;
        ``pairs``: what is known of ``x``'s rows, for the compiled update: see
        :data:`mmutils.analyzer.kll.Pairs`).

        Once this process has loaded the numba kernels (never loaded here for that), each
        update runs compiled and its compactions count the rows of small integers instead of
        sorting them (:func:`mmutils.analyzer.kll_compiled.update_batch`; the same sketches
        bit for bit).
        """
        compactor = _kll_compactor() if _compiled_module else None
        # the compiled update copies only what stays in level 0 (a few thousand values per
        # column), which frees the chunk's buffer for the next chunk (see _values_buffer)
        copy = compactor is not None
        pos_of = {int(j): pos for pos, j in enumerate(numeric)}
        per_col_present = added
        rows = x.shape[1]
        updated: dict[int, list[tuple[KLLBatch, list[int]]]] = defaultdict(list)
        for count, (batch, cols) in self._sketches.items():
            alive = [i for i, j in enumerate(cols) if j in pos_of]
            if not alive:
                continue
            if len(alive) != len(cols):
                batch = batch.take(alive)
                cols = [cols[i] for i in alive]
            by_added: dict[int, list[int]] = defaultdict(list)
            for i, j in enumerate(cols):
                by_added[int(per_col_present[pos_of[j]])].append(i)
            for added, members in by_added.items():
                sub = batch if len(members) == len(cols) else batch.take(members)
                sub_cols = [cols[i] for i in members]
                positions = [pos_of[j] for j in sub_cols]
                told = None
                if added == rows:
                    first = positions[0]
                    contiguous = positions == list(range(first, first + len(positions)))
                    rows_of = slice(first, first + len(positions)) if contiguous else positions
                    block = x[rows_of]
                    if pairs is not None and compactor is not None:
                        told = (pairs[0][rows_of], pairs[1][rows_of])
                else:
                    block = np.stack([x[p][~np.isnan(x[p])] for p in positions])
                sub.update(block, copy=copy, compactor=compactor, pairs=told)
                updated[count + added].append((sub, sub_cols))
        self._sketches = {
            count: _stack(parts) if len(parts) > 1 else parts[0] for count, parts in updated.items()
        }

    def close(self) -> None:
        """Nothing to release (the threaded profiler of :mod:`column_groups` stops its threads)."""

    def __enter__(self) -> Profiler:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- result ----------------------------------------------------------------------------

    def sketch(self, name: str) -> KLLSketch | None:
        """The column's KLL sketch as the container reports it (None if not numeric)."""
        j = self.names.index(name)
        for batch, cols in self._sketches.values():
            if j in cols:
                return batch.column(cols.index(j)).finalized()
        return None

    def inferred_type(self, j: int) -> str:
        """``inferred_type`` of column ``j`` so far (Boolean is reported as String)."""
        kind = dtypes.decide(self._types[j])
        return dtypes.STRING if kind == dtypes.BOOLEAN else kind

    def type_counts(self, j: int) -> dtypes.TypeCounts:
        """Cells per deequ class seen so far in column ``j``."""
        return self._types[j]

    def result(
        self,
        sketch_arrays: bool = False,
        sorted_sketches: list | None = None,
        array_texts: jsonfmt.ArrayTexts | None = None,
    ) -> dict:
        """The ``statistics.json`` document (plain dicts in the container's key order).

        Args:
            sketch_arrays: give each KLL sketch's levels (``sketch.data``) as float64 numpy
                arrays rather than lists of floats: :mod:`~mmutils.analyzer.jsonfmt` writes
                them the same and drift reads them without a conversion, but the ``json``
                module cannot (:func:`sketch_levels_as_lists` turns them into lists).
            sorted_sketches: if given, a list to which each feature's sketch is appended,
                sorted (the :class:`~mmutils.analyzer.kll.SortedSketch` its buckets were
                counted from; drift compares it as it is), or None when the feature has no
                values sketched; in feature order.
            array_texts: if given, the features' float arrays are formatted into it (see
                :class:`~mmutils.analyzer.jsonfmt.ArrayTexts`).
        """
        # column -> (its levels, its sorted sketch): each batch finalized and sorted at once
        sketches: dict[int, tuple[list[np.ndarray], SortedSketch]] = {}
        for batch, cols in self._sketches.values():
            final = batch.finalized()
            levels = final.level_arrays()
            for i, (j, view) in enumerate(zip(cols, final.sorted_columns(), strict=True)):
                sketches[j] = ([level[i] for level in levels], view)
        features = []
        for j, name in enumerate(self.names):
            kind = self.inferred_type(j)
            view = None
            if kind in (dtypes.INTEGRAL, dtypes.FRACTIONAL):
                feature, view = self._numeric_feature(j, name, kind, sketches.get(j), sketch_arrays)
            else:
                feature = self._string_feature(j, name, kind)
            features.append(feature)
            if sorted_sketches is not None:
                sorted_sketches.append(view)
        if array_texts is not None:
            array_texts.add(features)
        return {"version": 0.0, "dataset": {"item_count": self.item_count}, "features": features}

    def _numeric_feature(
        self,
        j: int,
        name: str,
        kind: str,
        sketch: tuple[list[np.ndarray], SortedSketch] | None,
        arrays: bool,
    ) -> tuple[dict, SortedSketch | None]:
        n = int(self._n[j])
        total = float(self._sum[j])
        if n:
            mean = total / n
            std = math.sqrt(float(self._m2[j]) / n)
            lo, hi = float(self._min[j]), float(self._max[j])
        else:  # every numeric-looking cell failed Spark's cast
            mean = std = lo = hi = math.nan
        if sketch is None:
            empty = KLLSketch(DEFAULT_K, DEFAULT_C)
            sketch = (empty.levels, empty.sorted())
        levels, view = sketch
        view = view if n else None
        buckets = view.buckets(min(lo, _KLL_MIN_START), max(hi, _KLL_MAX_START)) if n else []
        feature = {
            "name": name,
            "inferred_type": kind,
            "numerical_statistics": {
                "common": {"num_present": n, "num_missing": self.item_count - n},
                "mean": mean,
                "sum": total,
                "std_dev": std,
                "min": lo,
                "max": hi,
                "distribution": {
                    "kll": {
                        "buckets": buckets,
                        "sketch": {
                            "parameters": {"c": float(DEFAULT_C), "k": float(DEFAULT_K)},
                            "data": levels if arrays else _lists(levels),
                        },
                    }
                },
            },
        }
        return feature, view

    def _string_feature(self, j: int, name: str, kind: str) -> dict:
        types = self._types[j]
        present = types.total - types.unknown
        counts = self.value_counts(j) or {}
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        buckets = [{"value": value, "count": count} for value, count in ordered]
        return {
            "name": name,
            "inferred_type": kind,
            "string_statistics": {
                "common": {"num_present": present, "num_missing": self.item_count - present},
                "distinct_count": float(len(counts)),
                "distribution": {"categorical": {"buckets": buckets[:MAX_CATEGORICAL_BUCKETS]}},
            },
        }


def _lists(levels: list[np.ndarray]) -> list[list[float]]:
    return [level.tolist() for level in levels]


def sketch_levels_as_lists(statistics: dict) -> dict:
    """Turn the sketch levels of :meth:`Profiler.result`'s ``sketch_arrays`` form into lists.

    In place: afterwards the document is the default :meth:`Profiler.result` document, but
    equal values share one ``float`` object (bit for bit equal: ``-0.0`` and ``0.0`` apart):
    a statistics document holds a few hundred thousand sketch values and a few thousand
    distinct ones, so one object per distinct value is made, and the lists are filled with
    references (less to allocate now and to free later).

    Returns:
        ``statistics``.
    """
    sketches = []
    for feature in statistics["features"]:
        numeric = feature.get("numerical_statistics")
        if numeric is not None:
            sketches.append(numeric["distribution"]["kll"]["sketch"])
    levels = [np.asarray(level, dtype=np.float64) for s in sketches for level in s["data"]]
    if not levels:
        return statistics
    values = np.concatenate(levels)
    encoded = pc.dictionary_encode(pa.array(values.view(np.int64)))
    shared = (
        encoded.dictionary.to_numpy().view(np.float64).astype(object)[encoded.indices.to_numpy()]
    )
    pieces = iter(levels)
    start = 0
    for sketch in sketches:
        data = []
        for _ in range(len(sketch["data"])):
            stop = start + len(next(pieces))
            data.append(shared[start:stop].tolist())
            start = stop
        sketch["data"] = data
    return statistics


def read_again(
    chunks: Iterable[pa.Table], need: int, count: Callable[[pa.Table, int], None]
) -> int:
    """Hand ``count(chunk, first row)`` the chunks of the data read again until ``need`` rows
    were seen (the rest is not read: the iterator is closed); returns the rows seen."""
    first = 0
    with parallel.closing(iter(chunks)) as again:
        for chunk in again:
            if first >= need:
                break
            count(chunk, first)
            first += chunk.num_rows
    return first


def as_string_array(column: pa.ChunkedArray | pa.Array, name: str) -> pa.Array:
    """``column`` as one string array (cells of another type cast to their text).

    Raises:
        AnalyzerError: the column cannot be cast to strings (the message names it).
    """
    if isinstance(column, pa.ChunkedArray):
        # one piece (the CSV readers' chunks): that array as it is, no copy
        arr = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    else:
        arr = column
    if not pa.types.is_string(arr.type):
        try:
            arr = arr.cast(pa.string())
        except pa.ArrowException as exc:
            raise AnalyzerError(f"column {name!r} cannot be read as strings: {exc}") from exc
    return arr


def string_column(column: pa.ChunkedArray | pa.Array, name: str) -> pa.Array | pa.ChunkedArray:
    """``column`` as string cells without copying: its one array, or its string pieces.

    Columns of another type are cast (:func:`as_string_array`, which names the column that
    cannot be read as strings).
    """
    if isinstance(column, pa.ChunkedArray):
        if column.num_chunks == 1:
            column = column.chunk(0)
        elif pa.types.is_string(column.type):
            return column
    return as_string_array(column, name)


def _cast_pieces(column: pa.Array | pa.ChunkedArray, out: np.ndarray) -> bool:
    """Arrow's float64 cast of each piece of a null-free numeric column, written into ``out``.

    False when Arrow declines a cell (:func:`dtypes.to_double` then converts the column).
    """
    start = 0
    for piece in column.chunks if isinstance(column, pa.ChunkedArray) else (column,):
        stop = start + len(piece)
        try:
            out[start:stop] = pc.cast(piece, pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return False
        start = stop
    return True


def _whole(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One array of a column's pieces (a copy only when there are several)."""
    if isinstance(column, pa.ChunkedArray):
        return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    return column


def _convert_plain(
    kernels,
    columns: list[pa.Array | pa.ChunkedArray],
    candidates: np.ndarray,
    x: np.ndarray,
    bits: np.ndarray | None = None,
) -> np.ndarray:
    """Convert the plain columns among ``candidates`` into the rows of ``x``: one call of the
    compiled pass (``kernels.plain_chunk``) over every piece of every column.

    Args:
        kernels: :mod:`mmutils.analyzer.compiled`.
        columns: the chunk's string columns (arrays, or pieces), in profiler order.
        candidates: the profiler columns to try; candidate ``pos`` fills ``x[pos]``.
        x: ``(len(candidates), rows)`` float64.
        bits: zeroed ``(len(candidates), words)`` uint64 to receive the values' parity bits
            (see ``kernels.plain_chunk``), or None.

    Returns:
        ``(len(candidates), 5)`` float64: per candidate the status (``NOT_PLAIN`` for a
        column with a null or a cell of another shape: ``x`` is then to be refilled),
        decimal cells, min and max (when ``EXACT``), and 1.0 when its parity bits are written.
    """
    results = np.zeros((len(candidates), 5))
    results[:, 0] = kernels.NOT_PLAIN
    table: list[tuple[int, ...]] = []
    for pos, j in enumerate(candidates.tolist()):
        column = columns[j]
        if column.type.id != _STRING_TYPE_ID:  # int32 offsets only
            continue
        listed = len(table)
        start = 0
        for piece in column.chunks if isinstance(column, pa.ChunkedArray) else (column,):
            cells = len(piece)
            if not cells:
                continue
            _, offsets, data = piece.buffers()
            if piece.null_count or data is None:
                del table[listed:]  # not plain: the general path takes the column
                break
            row = (pos, j, offsets.address, piece.offset, cells, data.address, data.size)
            table.append((*row, start))
            start += cells
    pieces = np.array(table, dtype=np.int64).reshape(-1, 8)
    if bits is None:
        bits = np.zeros((len(candidates), 0), dtype=np.uint64)
    kernels.plain_chunk(pieces, x, results, bits)
    return results


_STRING_TYPE_ID = pa.string().id


def text_bytes(arr: pa.Array | pa.ChunkedArray) -> int:
    """Total bytes of the cells' text (from the offsets buffer, no copy)."""
    if isinstance(arr, pa.ChunkedArray):
        return sum(text_bytes(piece) for piece in arr.chunks)
    offsets_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(arr.buffers()[1], dtype=offsets_type)
    return int(offsets[arr.offset + len(arr)] - offsets[arr.offset])


def _stack(parts: list[tuple[KLLBatch, list[int]]]) -> tuple[KLLBatch, list[int]]:
    """Join batches holding the same number of values (their compactor layout is identical)."""
    batches = [b for b, _ in parts]
    cols = [j for _, c in parts for j in c]
    return KLLBatch.stack(batches), cols


def _welford(
    x: np.ndarray, present: np.ndarray, n: np.ndarray, avg: np.ndarray, m2: np.ndarray
) -> None:
    """Spark's streaming mean/M2 update over a chunk, all columns at once (in place).

    Only the mean recurrence is truly sequential: it runs row by row (three numpy operations
    per row for every column). The M2 increments ``d * (d - d / n)`` are then recomputed from
    the stored means with the very same operations, vectorised, and summed left to right.
    A missing cell divides by infinity, which leaves the mean unchanged, and its increment is
    zeroed, so holes need no branch in the loop.
    """
    rows, width = x.shape
    if rows == 0 or width == 0:
        return
    dense = bool(present.all())
    if not dense and not np.isfinite(x[present]).all():
        _welford_masked(x, present, n, avg, m2)
        return
    xf = x if dense else np.where(present, x, 0.0)
    if dense and (n == n[0]).all():
        # every column has the same count: one divisor per row, broadcast over the columns
        divisor = (n[0] + np.arange(1, rows + 1, dtype=np.float64))[:, None]
    else:
        counts = n + np.cumsum(present, axis=0, dtype=np.float64)  # n after each row
        divisor = counts if dense else np.where(present, counts, np.inf)
    means = np.empty((rows + 1, width))
    means[0] = avg
    d = np.empty(width)
    sub, div, add = np.subtract, np.divide, np.add
    divisor_rows = divisor[:, 0].tolist() if divisor.shape[1] == 1 else list(divisor)
    for row, div_row, prev, nxt in zip(xf, divisor_rows, means[:-1], means[1:], strict=True):
        sub(row, prev, out=d)
        div(d, div_row, out=d)
        add(prev, d, out=nxt)
    # M2 increments d * (d - d / n) from the stored means, then a left-to-right sum
    deltas = np.subtract(xf, means[:-1])
    step = np.divide(deltas, divisor)
    np.subtract(deltas, step, out=step)
    np.multiply(deltas, step, out=step)
    if not dense:
        step[~present] = 0.0
    m2[:] = _sequential_sum(m2, step)
    avg[:] = means[-1]
    n[:] = n + present.sum(axis=0)


def _sequential_sum(start: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``start + rows[0] + rows[1] + …`` per column, strictly left to right."""
    block = np.empty((rows.shape[0] + 1, rows.shape[1]))
    block[0] = start
    block[1:] = rows
    return np.add.accumulate(block, axis=0)[-1]


def _welford_masked(
    x: np.ndarray, present: np.ndarray, n: np.ndarray, avg: np.ndarray, m2: np.ndarray
) -> None:
    """The plain masked recurrence, for the rare chunk with infinite values and holes."""
    width = x.shape[1]
    d, dn, t = np.empty(width), np.empty(width), np.empty(width)
    for row, mask in zip(x, present, strict=True):
        np.add(n, 1.0, out=n, where=mask)
        np.subtract(row, avg, out=d)
        np.divide(d, n, out=dn)
        np.add(avg, dn, out=avg, where=mask)
        np.subtract(d, dn, out=t)
        np.multiply(d, t, out=t)
        np.add(m2, t, out=m2, where=mask)
