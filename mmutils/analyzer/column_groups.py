"""The profiler on several threads: the columns split into groups, each group profiled apart.

Every statistic of a column depends on that column's own cells only, in row order: the
left-to-right ``sum``, Spark's mean/M2 recurrence, the KLL sketch's compactions (their points
depend on the column's count of values), the type counts and the value counts. No statistic
mixes columns. So a :class:`~mmutils.analyzer.profile.Profiler` over a subset of the columns,
fed the same chunks' slices in the same order, reaches exactly the states the whole-table
profiler reaches for those columns, and the groups' results put side by side in column order
are the whole-table result, byte for byte, for any number of groups and any split.

:class:`ColumnGroupProfiler` has :class:`~mmutils.analyzer.profile.Profiler`'s interface.
Each group has its own thread and works through its chunks in order; a group may run ahead
of the others by up to :data:`CHUNKS_IN_FLIGHT` chunks, which bounds memory (chunks are held
until every group is done with them). The groups are chosen on the first chunk, balanced by an
estimate of each column's cost (its text bytes plus a per-cell cost). The threads help only
where the work releases the GIL: the numba kernels, numpy's and pyarrow's work on whole
columns (``docs/analyzer-workers.md``).
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor

import pyarrow as pa

from mmutils.analyzer import dtypes, jsonfmt, profile
from mmutils.analyzer.errors import AnalyzerError
from mmutils.analyzer.kll import KLLSketch
from mmutils.analyzer.profile import Profiler, as_string_array, text_bytes

__all__ = ["CHUNKS_IN_FLIGHT", "ColumnGroupProfiler", "make_profiler", "split_columns"]

#: chunks a group may be ahead of the slowest group (each is held until all are done with it)
CHUNKS_IN_FLIGHT = 3
# estimated cost of a column: per text byte (type test, conversion) and per cell (moments,
# sketch); measured on the lab's shape, a one-byte flag column costs about half a 3-digit one
_BYTE_COST = 3
_CELL_COST = 4


def make_profiler(
    names: list[str], workers: int = 1, compiled_min_rows: int | None = None
) -> Profiler | ColumnGroupProfiler:
    """A profiler of ``names`` using up to ``workers`` threads (a plain one for 1 worker).

    ``compiled_min_rows`` is :class:`~mmutils.analyzer.profile.Profiler`'s. The result is
    byte-identical for any ``workers`` and ``compiled_min_rows``.
    """
    if workers <= 1 or len(names) < 2:
        return Profiler(names, compiled_min_rows)
    return ColumnGroupProfiler(names, min(workers, len(names)), compiled_min_rows)


def split_columns(costs: list[int], groups: int) -> list[list[int]]:
    """Column indices in ``groups`` groups of about equal summed cost (greedy, largest first).

    Each group lists its columns in ascending order; groups are ordered by their first column.
    Ties are broken by column index, so the split is a function of ``costs`` alone.
    """
    heap = [(0, g) for g in range(groups)]
    members: list[list[int]] = [[] for _ in range(groups)]
    for j in sorted(range(len(costs)), key=lambda j: (-costs[j], j)):
        load, g = heapq.heappop(heap)
        members[g].append(j)
        heapq.heappush(heap, (load + costs[j], g))
    return sorted((sorted(m) for m in members if m), key=lambda m: m[0])


class _Group:
    __slots__ = ("columns", "names", "profiler", "executor", "failed")

    def __init__(
        self, columns: list[int], names: list[str], index: int, compiled_min_rows: int | None
    ):
        self.columns = columns
        self.names = [names[j] for j in columns]
        self.profiler = Profiler(self.names, compiled_min_rows)
        self.executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"mmlab-profile-{index}"
        )
        self.failed = False

    def update(self, arrays: list[pa.Array]) -> None:
        if self.failed:  # an earlier chunk failed: the state is no longer the reference one
            return
        try:
            self.profiler.update(pa.Table.from_arrays(arrays, names=self.names))
        except BaseException:
            self.failed = True
            raise

    def features(self, sketch_arrays: bool, texts: bool = False) -> tuple | None:
        """The group's features, their sorted sketches and (``texts``) their arrays' JSON
        texts (:class:`~mmutils.analyzer.jsonfmt.ArrayTexts`, else None); None once a chunk
        failed."""
        return None if self.failed else self.build(sketch_arrays, texts)

    def build(self, sketch_arrays: bool, texts: bool = False) -> tuple:
        """:meth:`features` from the group's state as it is."""
        views: list = []
        features = self.profiler.result(sketch_arrays, views)["features"]
        array_texts = None
        if texts:
            array_texts = jsonfmt.ArrayTexts()
            array_texts.add(features)
        return features, views, array_texts


class ColumnGroupProfiler:
    """:class:`~mmutils.analyzer.profile.Profiler` with its columns profiled on ``groups`` threads.

    Use it as the profiler it stands for (``update`` then ``result``); the statistics are those
    of a one-thread :class:`~mmutils.analyzer.profile.Profiler` fed the same chunks. ``update``
    hands the chunk to the groups and returns while they work; the accessors wait for them and
    raise the first error (the earliest chunk's, then the first group's). Call :meth:`close`
    (or use ``with``) to stop the threads early.

    Args:
        names: the column names, in dataset order.
        groups: threads (and column groups) to use; at least 2.
        compiled_min_rows: see :class:`~mmutils.analyzer.profile.Profiler`.
    """

    def __init__(self, names: list[str], groups: int, compiled_min_rows: int | None = None):
        self.names = list(names)
        self.compiled_min_rows = compiled_min_rows
        self.item_count = 0
        self._groups_wanted = max(1, min(groups, len(self.names)))
        self._groups: list[_Group] = []
        self._where: list[tuple[int, int]] = []  # column -> (group, index in group)
        self._pending: deque[list[Future]] = deque()
        self._closed = False

    # -- update ----------------------------------------------------------------------------

    def update(self, chunk: pa.Table) -> None:
        """Add the rows of ``chunk`` (a table of string columns in ``names`` order)."""
        width = len(self.names)
        if chunk.num_columns != width:
            raise AnalyzerError(f"chunk has {chunk.num_columns} columns, expected {width}")
        if chunk.num_rows == 0:
            return
        columns = [chunk.column(j) for j in range(width)]
        for j, column in enumerate(columns):
            if not pa.types.is_string(column.type):
                # cast here, in column order, so a column that cannot be read fails as with
                # one thread (string columns are joined into one array by their group)
                columns[j] = as_string_array(column, self.names[j])
        if not self._groups:
            self._start(columns)
        self.item_count += chunk.num_rows
        threshold = self.compiled_min_rows
        if self.item_count >= (profile.COMPILED_MIN_ROWS if threshold is None else threshold):
            profile.load_kernels()  # imported once, here, rather than by every group at once
        futures = [
            group.executor.submit(group.update, [columns[j] for j in group.columns])
            for group in self._groups
        ]
        self._pending.append(futures)
        while len(self._pending) > CHUNKS_IN_FLIGHT:
            self._finish_oldest()

    def _start(self, columns: list[pa.Array]) -> None:
        costs = [_BYTE_COST * text_bytes(c) + _CELL_COST * len(c) for c in columns]
        split = split_columns(costs, self._groups_wanted)
        self._groups = [
            _Group(members, self.names, g, self.compiled_min_rows)
            for g, members in enumerate(split)
        ]
        self._where = [(0, 0)] * len(self.names)
        for g, group in enumerate(self._groups):
            for i, j in enumerate(group.columns):
                self._where[j] = (g, i)

    def _finish_oldest(self) -> None:
        futures = self._pending.popleft()
        error = None
        for future in futures:
            exc = future.exception()
            if exc is not None and error is None:
                error = exc
        if error is not None:
            self.close()
            raise error

    def _sync(self) -> None:
        while self._pending:
            self._finish_oldest()

    def close(self) -> None:
        """Stop the group threads (pending work is dropped); the profiler is done."""
        for futures in self._pending:
            for future in futures:
                future.cancel()
        self._pending.clear()
        self._closed = True
        for group in self._groups:
            group.failed = True  # a task already running finishes, later ones do nothing
            group.executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ColumnGroupProfiler:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- result ----------------------------------------------------------------------------

    def _column(self, j: int) -> tuple[Profiler, int]:
        self._sync()
        if not self._groups:  # no rows yet: an empty profiler answers
            return Profiler([self.names[j]]), 0
        g, i = self._where[j]
        return self._groups[g].profiler, i

    @property
    def compiled_rows(self) -> int:
        """Rows whose moments went through the compiled kernels (as one profiler counts them)."""
        self._sync()
        return max((group.profiler.compiled_rows for group in self._groups), default=0)

    def recount_rows(self) -> dict[int, int]:
        """Columns whose value counts miss their first rows (see
        :meth:`~mmutils.analyzer.profile.Profiler.recount_rows`), by index in ``names``."""
        self._sync()
        return {
            group.columns[i]: rows
            for group in self._groups
            for i, rows in group.profiler.recount_rows().items()
        }

    def recount_from(self, chunks: Iterable[pa.Table]) -> None:
        """:meth:`~mmutils.analyzer.profile.Profiler.recount_from` for every group, on this thread."""
        self._sync()  # every update done first
        needing = [group for group in self._groups if group.profiler.recount_rows()]

        def count(chunk: pa.Table, first: int) -> None:
            for group in needing:
                arrays = [chunk.column(j) for j in group.columns]
                group.profiler.recount_chunk(pa.Table.from_arrays(arrays, names=group.names), first)

        rows = profile.read_again(chunks, max(self.recount_rows().values(), default=0), count)
        for group in self._groups:
            group.profiler.recount_done(rows)

    def sketch(self, name: str) -> KLLSketch | None:
        """The column's KLL sketch as the container reports it (None if not numeric)."""
        profiler, i = self._column(self.names.index(name))
        return profiler.sketch(profiler.names[i])

    def inferred_type(self, j: int) -> str:
        """``inferred_type`` of column ``j`` so far (Boolean is reported as String)."""
        profiler, i = self._column(j)
        return profiler.inferred_type(i)

    def type_counts(self, j: int) -> dtypes.TypeCounts:
        """Cells per deequ class seen so far in column ``j``."""
        profiler, i = self._column(j)
        return profiler.type_counts(i)

    def value_counts(self, j: int) -> dict[str, int] | None:
        """Cell text -> count for column ``j`` (None once a numeric column stopped counting)."""
        profiler, i = self._column(j)
        return profiler.value_counts(i)

    def result(
        self,
        sketch_arrays: bool = False,
        sorted_sketches: list | None = None,
        array_texts: jsonfmt.ArrayTexts | None = None,
    ) -> dict:
        """The ``statistics.json`` document, the groups' features in column order.

        Each group builds its features on its own thread, queued behind its last chunk: a
        group that is done starts while the others still profile; with ``array_texts`` it
        formats its sketches' levels there too. Errors come as before: the earliest chunk's
        first, then the first group's. The arguments are those of
        :meth:`~mmutils.analyzer.profile.Profiler.result`.
        """
        if not self._groups:
            self._sync()
            return Profiler(self.names).result(sketch_arrays, sorted_sketches, array_texts)
        texts = array_texts is not None
        if self._closed:  # no threads left: the groups' states as they are, on this thread
            parts = [group.build(sketch_arrays, texts) for group in self._groups]
        else:
            built = [
                group.executor.submit(group.features, sketch_arrays, texts)
                for group in self._groups
            ]
            self._sync()
            parts = [future.result() for future in built]
        features = [parts[g][0][i] for g, i in self._where]
        if sorted_sketches is not None:
            sorted_sketches.extend(parts[g][1][i] for g, i in self._where)
        if array_texts is not None:
            for part in parts:
                array_texts.update(part[2])
        return {"version": 0.0, "dataset": {"item_count": self.item_count}, "features": features}
