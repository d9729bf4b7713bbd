"""The compiled KLL update (mmutils.analyzer.kll_compiled) against the numpy path, bit for bit.

Every comparison feeds the same values to two :class:`KLLBatch` es, one updated with numpy
(the reference) and one with :func:`update_batch`, and compares the compactor levels as raw
bits (``-0.0`` and ``0.0`` compare equal as floats), the compaction counters and counts, and
what ``finalized`` / ``merge`` / ``stack`` / ``take`` make of them. Which rows the kernel
counts and which it leaves to numpy's sort is checked on single compactions.
"""

from __future__ import annotations

import sys

import numpy as np
import pyarrow as pa
import pytest

from mmutils.analyzer import profile as profile_mod
from mmutils.analyzer.kll import KLLBatch, KLLSketch, capacity

pytest.importorskip("numba")
kll_compiled = pytest.importorskip("mmutils.analyzer.kll_compiled")
update_batch = kll_compiled.update_batch


def _bits(levels: list[np.ndarray]) -> list[bytes]:
    return [np.ascontiguousarray(level).view(np.int64).tobytes() for level in levels]


def _layout(batch: KLLBatch) -> list[tuple[int, int, int]]:
    return [(lv.length, lv.num_compress, lv.offset) for lv in batch._levels]


def _assert_same(reference: KLLBatch, compiled: KLLBatch) -> None:
    assert _layout(compiled) == _layout(reference)
    assert (compiled._size, compiled._total) == (reference._size, reference._total)
    want, got = reference.level_arrays(), compiled.level_arrays()
    assert [a.shape for a in got] == [a.shape for a in want]
    assert _bits(got) == _bits(want)


def _both(
    x: np.ndarray, chunk: int, copy: bool = False, k: int = 2048
) -> tuple[KLLBatch, KLLBatch]:
    """The numpy and the compiled batch after the same updates, ``chunk`` values at a time."""
    width = x.shape[0]
    reference, compiled = KLLBatch(width, k), KLLBatch(width, k)
    for start in range(0, x.shape[1], chunk):
        block = x[:, start : start + chunk]
        reference.update(block, copy=copy)
        compiled.update(block, copy=copy, compactor=update_batch)
        _assert_same(reference, compiled)
    return reference, compiled


def _rng(seed: int = 7) -> np.random.Generator:
    return np.random.default_rng(seed)


@pytest.fixture
def sorted_rows(monkeypatch) -> list:
    """The rows handed to numpy's sort, and from which compaction, at each compiled update."""
    calls = []

    def recording(rows, declined, *args):
        calls.append([(int(r), int(declined[r])) for r in rows])
        return sort_declined(rows, declined, *args)

    sort_declined = kll_compiled._sort_declined
    monkeypatch.setattr(kll_compiled, "_sort_declined", recording)
    return calls


# -- which rows are counted ----------------------------------------------------------------


def _compact_once(rows: list, offset: int, sorted_rows: list) -> list[int]:
    """Compact ``rows`` (n + 1 items each: one compaction of n) both ways; the rows numpy sorted."""
    x = np.array(rows, dtype=np.float64)
    n = x.shape[1] - 1
    k = 2 * (n // 2 - 1)  # level 0 holds n items
    assert capacity(0, k) == n
    reference, compiled = KLLBatch(len(rows), k), KLLBatch(len(rows), k)
    for batch in (reference, compiled):
        batch._levels[0].num_compress = offset  # compacted once before: the offset flips
    del sorted_rows[:]
    reference.update(x)
    compiled.update(x, compactor=update_batch)
    _assert_same(reference, compiled)
    assert compiled._levels[0].num_compress == 1 + offset
    assert [layout[2] for layout in _layout(compiled)][0] == offset
    assert len(sorted_rows) <= 1
    return [r for r, step in sorted_rows[0]] if sorted_rows else []


def test_counts_integer_rows_and_declines_the_others(sorted_rows):
    rng = _rng(1)
    n = 600  # more than SORT_LIMIT items: a row spanning more values than items declines
    assert n > kll_compiled.SORT_LIMIT
    rows = [
        rng.integers(0, 2, n),  # flags: counted
        rng.integers(0, 40, n),  # small integers: counted
        rng.integers(65_500, 65_536, n),  # up to 65535: counted
        np.r_[rng.integers(65_500, 65_536, n - 1), 65_536],  # 65536: declines
        rng.integers(0, 9, n) + 0.5,  # fractions: decline
        np.r_[rng.integers(0, 3, n - 1), -1],  # a negative value: declines
        np.r_[rng.integers(0, 3, n - 1), -0.0],  # -0.0: declines (equal to 0.0, not the same)
        np.r_[rng.integers(0, 3, n - 1), np.inf],  # infinity: declines
        np.r_[rng.integers(0, 3, n - 1), np.nan],  # NaN: declines
        np.r_[rng.integers(0, 3, n - 1), 60_000],  # spans more values than items: declines
        np.zeros(n),  # one value: counted
    ]
    rows = [np.r_[row, 1.0] for row in rows]  # the one item that overflows level 0
    assert _compact_once(rows, 0, sorted_rows) == [3, 4, 5, 6, 7, 8, 9]
    assert _compact_once(rows, 1, sorted_rows) == [3, 4, 5, 6, 7, 8, 9]


def test_small_levels_of_wide_integers_are_sorted_by_the_kernel(sorted_rows):
    # up to SORT_LIMIT items of integers 0 <= v < 65536 (no -0.0): any sort gives numpy's bits
    rng = _rng(3)
    n = kll_compiled.SORT_LIMIT
    rows = [
        np.r_[rng.integers(0, 65_536, n), 1],
        np.r_[rng.integers(0, 3, n - 1), 60_000, 1],
        np.r_[rng.integers(0, 65_536, n - 1), -0.0, 1],  # -0.0: numpy's
    ]
    for offset in (0, 1):
        assert _compact_once(rows, offset, sorted_rows) == [2]


@pytest.mark.parametrize("offset", [0, 1])
@pytest.mark.parametrize("span", [1, 2, 3, 17, 255, 256, 257, 1000])
def test_counted_rows_equal_the_sort(offset, span, sorted_rows):
    rng = _rng(span)
    level = rng.integers(0, span, (5, 2051)).astype(np.float64) + rng.integers(0, 60_000, (5, 1))
    assert _compact_once(level.tolist(), offset, sorted_rows) == []


# -- whole sketches: compiled updates equal numpy updates --------------------------------------


def test_flags():
    _both(_rng(3).integers(0, 2, (6, 50_000)).astype(np.float64), 4_096)


def test_small_integers():
    x = _rng(4).integers(0, 244, (5, 60_000)).astype(np.float64)
    x[1] = _rng(5).integers(0, 8, 60_000)
    x[2] = 7.0  # a constant column
    _both(x, 10_000)


def test_integers_at_the_65535_65536_boundary():
    rng = _rng(6)
    x = rng.integers(64_000, 65_536, (3, 40_000)).astype(np.float64)
    x[0, rng.integers(0, 40_000, 5)] = 65_536.0  # those stretches are sorted by numpy
    x[1, rng.integers(0, 40_000, 5)] = 65_535.0
    x[2, :] = rng.integers(65_534, 65_537, 40_000)
    _both(x, 7_000)


def test_mixed_integers_and_fractions_in_one_batch():
    rng = _rng(7)
    x = np.empty((6, 80_000))
    x[0] = rng.integers(0, 2, 80_000)
    x[1] = np.round(rng.normal(200, 50, 80_000), 1)  # one decimal: declines
    x[2] = rng.integers(0, 300, 80_000)
    x[3] = rng.random(80_000)
    x[4] = rng.integers(0, 3, 80_000)
    x[4, rng.integers(0, 80_000, 40)] = 1.5  # a few fractions: their stretches decline
    x[5] = -rng.integers(0, 5, 80_000)  # negative integers: decline
    _both(x, 9_999)


def test_negative_zero_and_zero_mixed():
    rng = _rng(8)
    x = rng.integers(0, 3, (4, 30_000)).astype(np.float64)
    zeros = x == 0.0
    x[0][zeros[0]] = -0.0  # every zero negative
    flip = zeros[1] & (rng.random(30_000) < 0.5)
    x[1][flip] = -0.0  # half of them
    x[2, 12_345] = -0.0  # just one
    reference, compiled = _both(x, 5_000)
    negative = [np.signbit(level) & (level == 0) for level in compiled.level_arrays()]
    assert any(n.any() for n in negative)  # the sketch does keep -0.0 items


def test_infinities_without_nan():
    rng = _rng(9)
    x = rng.integers(0, 50, (3, 30_000)).astype(np.float64)
    x[0, rng.integers(0, 30_000, 20)] = np.inf
    x[1, rng.integers(0, 30_000, 20)] = -np.inf
    x[2, ::1000] = 1e300
    _both(x, 6_000)


def test_large_counts_cross_several_levels_then_merge_and_finalize():
    rng = _rng(10)
    n = 300_000
    x = np.stack(
        [
            rng.integers(0, 2, n),
            rng.integers(0, 244, n),
            rng.integers(0, 10, n),
            np.round(rng.exponential(40, n), 1),
        ]
    ).astype(np.float64)
    reference, compiled = _both(x, 65_536)
    assert len(reference.level_arrays()) >= 8
    _assert_same(reference.finalized(), compiled.finalized())
    # merging compiled and numpy sketches: the result does not depend on who compacted
    extra_ref, extra_comp = _both(x[:, ::-1].copy(), 20_000)
    _assert_same(reference.merge(extra_ref), compiled.merge(extra_comp))
    _assert_same(reference.finalized(), compiled.finalized())
    # single columns, take and stack keep working on compiled batches
    assert _bits(compiled.column(1).levels) == _bits(reference.column(1).levels)
    _assert_same(reference.take([3, 0]), compiled.take([3, 0]))


def test_copies_and_odd_inputs():
    rng = _rng(11)
    x = rng.integers(0, 5, (3, 20_000)).astype(np.float64)
    _both(x, 3_001, copy=True)
    _both(np.asfortranarray(x), 2_500)  # rows not contiguous: the pieces are copied
    _both(x[:, ::2], 2_500)  # strided rows
    _both(x[::-1], 2_500)  # negative row stride
    readonly = x.copy()
    readonly.setflags(write=False)
    _both(readonly, 4_000)
    raw = np.zeros(x.size * 8 + 1, dtype=np.uint8)
    unaligned = raw[1:].view(np.float64).reshape(x.shape)
    unaligned[:] = x
    assert not unaligned.flags.aligned
    _both(unaligned, 4_000)
    one = rng.integers(0, 3, 9_000).astype(np.float64)
    reference, compiled = KLLBatch(1), KLLBatch(1)
    reference.update(one)
    compiled.update(one, compactor=update_batch)
    _assert_same(reference, compiled)
    # many small updates: levels of many pieces
    _both(rng.integers(0, 4, (2, 12_000)).astype(np.float64), 97)


def test_level_0_keeps_views_of_the_values_unless_copied():
    # the profiler reuses a chunk's value buffer only once no sketch keeps a view of it
    values = _rng(14).integers(0, 3, (3, 5000)).astype(np.float64)
    viewed, copied = KLLBatch(3), KLLBatch(3)
    viewed.update(values, copy=False, compactor=update_batch)
    copied.update(values, compactor=update_batch)
    assert viewed.shares_memory(values)  # the items after the last compaction are views
    assert not copied.shares_memory(values)
    viewed.update(np.zeros((3, 4000)), copy=False, compactor=update_batch)
    assert not viewed.shares_memory(values)  # compacted away


def test_a_rebuilt_sketch_over_its_capacity_is_updated_by_numpy():
    # from_levels does not condense: the first update then starts over the capacity
    levels = [np.arange(3000.0) % 7, np.arange(1500.0) % 5]
    reference, compiled = KLLSketch.from_levels(levels), KLLSketch.from_levels(levels)
    assert compiled._batch._size > compiled._batch._total
    values = np.arange(5000.0).reshape(1, -1) % 11
    reference._batch.update(values)
    compiled._batch.update(values, compactor=update_batch)
    _assert_same(reference._batch, compiled._batch)


def _random_rows(rng: np.random.Generator, width: int, n: int) -> np.ndarray:
    """``width`` rows of ``n`` values, each of one kind, with stretches of another kind."""
    kinds = [
        lambda: rng.integers(0, 2, n),  # flags
        lambda: rng.integers(0, int(rng.integers(3, 300)), n),  # small integers
        lambda: rng.integers(0, int(rng.integers(300, 3_000)), n) + int(rng.integers(0, 60_000)),
        lambda: rng.integers(0, 10**9, n),  # wide range
        lambda: np.round(rng.normal(100, 30, n), 1),  # fractions
        lambda: rng.standard_cauchy(n),  # floats of every size, no NaN
        lambda: rng.choice([0.0, -0.0, 1.0, 2.0], n, p=[0.4, 0.01, 0.3, 0.29]),
        lambda: rng.choice([0.0, 1.0, 65_535.0, 65_536.0, np.inf], n, p=[0.3, 0.3, 0.2, 0.1, 0.1]),
        lambda: rng.integers(-3, 3, n),
    ]
    x = np.stack([kinds[int(k)]() for k in rng.integers(0, len(kinds), width)]).astype(np.float64)
    # stretches of one kind inside another: rows go from counted to declined and back
    for _ in range(int(rng.integers(0, 4))):
        length = int(rng.integers(1, max(2, n // 3)))
        start = int(rng.integers(0, max(1, n - length)))
        rows = rng.integers(0, width, int(rng.integers(1, width + 1)))
        x[rows, start : start + length] = kinds[int(rng.integers(0, len(kinds)))]()[:length]
    return x


@pytest.mark.parametrize("seed", range(8))
def test_random_mixtures_widths_and_chunkings(seed):
    rng = _rng(100 + seed)
    width = int(rng.integers(1, 41))
    if seed % 4 == 0:  # small chunks, down to one value
        n, chunk = int(rng.integers(2_000, 9_000)), int(rng.integers(1, 60))
    else:
        n, chunk = int(rng.integers(5_000, 160_000)), int(rng.integers(60, 70_001))
    x = _random_rows(rng, width, n)
    reference, compiled = _both(x, chunk, copy=bool(seed % 2))
    _assert_same(reference.finalized(), compiled.finalized())
    # another batch over other values, fed in other chunks: merged, stacked, taken
    y = _random_rows(rng, width, n)
    other_ref, other_comp = _both(y, int(rng.integers(1_000, 70_001)), copy=not seed % 2)
    keep = sorted({int(i) for i in rng.integers(0, width, max(1, width // 2))})
    _assert_same(reference.take(keep), compiled.take(keep))
    if _layout(reference) == _layout(other_ref):
        _assert_same(KLLBatch.stack([reference, other_ref]), KLLBatch.stack([compiled, other_comp]))
    _assert_same(reference.merge(other_ref), compiled.merge(other_comp))
    _assert_same(reference.finalized(), compiled.finalized())
    # compiled updates go on after a merge, a take and a finalized
    z = _random_rows(rng, width, 30_000)
    for ref, comp in [
        (reference, compiled),
        (reference.take(keep), compiled.take(keep)),
        (reference.finalized(), compiled.finalized()),
    ]:
        rows = z[: ref.width]
        ref.update(rows, copy=False)
        comp.update(rows, copy=False, compactor=update_batch)
        _assert_same(ref, comp)


def test_stacked_batches_go_on_compiled():
    rng = _rng(15)
    x, y = _random_rows(rng, 7, 90_000), _random_rows(rng, 5, 90_000)
    ref_x, comp_x = _both(x, 65_536)
    ref_y, comp_y = _both(y, 65_536)
    reference, compiled = KLLBatch.stack([ref_x, ref_y]), KLLBatch.stack([comp_x, comp_y])
    _assert_same(reference, compiled)
    more = _random_rows(rng, 12, 70_000)
    reference.update(more, copy=False)
    compiled.update(more, copy=False, compactor=update_batch)
    _assert_same(reference, compiled)


# -- rows told as pairs ------------------------------------------------------------------------


def _pairs(x: np.ndarray, told: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(lows, bits)`` for the rows ``told`` of ``x`` (each holding ``low`` or ``low + 1``)."""
    lows = np.where(told, np.nan_to_num(x.min(axis=1)), -1).astype(np.int64)
    odd = (np.where(told[:, None], x, 0.0).astype(np.int64) & 1).astype(bool)
    width, m = x.shape
    padded = np.zeros((width, -(-m // 64) * 64), dtype=bool)
    padded[:, :m] = odd
    bits = np.packbits(padded, axis=1, bitorder="little").view(np.uint64)
    return lows, bits


@pytest.mark.parametrize("seed", range(6))
def test_rows_told_as_pairs_give_the_same_sketches(seed):
    # told rows are counted from their parity bits and never read; untold rows of any kind
    # beside them; chunks of every size, so that level 0's compactions start anywhere
    rng = _rng(300 + seed)
    width = int(rng.integers(2, 30))
    n = int(rng.integers(20_000, 200_000))
    lows = rng.choice([0, 0, 1, 3, 8, 65_533], width)
    x = (lows[:, None] + rng.integers(0, 2, (width, n))).astype(np.float64)
    x[rng.random(width) < 0.15] = lows[0]  # constant rows: one value of the pair
    told = rng.random(width) < 0.7
    other = ~told & (rng.random(width) < 0.5)
    if other.any():
        x[other] = _random_rows(rng, int(other.sum()), n)
    reference, compiled = KLLBatch(width), KLLBatch(width)
    start = 0
    while start < n:
        chunk = int(rng.choice([1, 63, 64, 65, 2_047, 40_000, 65_536]))
        block = x[:, start : start + chunk]
        reference.update(block, copy=bool(seed % 2))
        compiled.update(
            block, copy=bool(seed % 2), compactor=update_batch, pairs=_pairs(block, told)
        )
        _assert_same(reference, compiled)
        start += chunk
    _assert_same(reference.finalized(), compiled.finalized())


def test_told_rows_are_not_read():
    # proof that the bits are what counts: values swapped within their pair, bits kept
    rng = _rng(9)
    x = rng.integers(0, 2, (4, 50_000)).astype(np.float64)
    pairs = _pairs(x, np.ones(4, dtype=bool))
    lied = 1.0 - x
    reference, compiled = KLLBatch(4), KLLBatch(4)
    reference.update(x)
    compiled.update(lied, compactor=update_batch, pairs=pairs)
    assert compiled.level_arrays()[1:] and _bits(compiled.level_arrays()[1:]) == _bits(
        reference.level_arrays()[1:]
    )


def test_pairs_that_do_not_fit_are_refused():
    batch = KLLBatch(2)
    block = np.zeros((2, 200))
    bits = np.zeros((2, 4), np.uint64)
    update_batch(batch, block, True, (np.array([0, -1]), bits))  # fits
    for lows, bad_bits in [
        (np.array([0]), bits),  # one row short
        (np.array([0, 0]), np.zeros((2, 3), np.uint64)),  # 192 bits for 200 values
        (np.array([0, 0]), bits.astype(np.int64)),
        (np.array([65_535, 0]), bits),  # 65,536 is beyond the counted range
    ]:
        with pytest.raises(ValueError, match="pairs for 2 rows of 200 values"):
            update_batch(batch, block, True, (lows, bad_bits))
    update_batch(batch, block, True, (np.array([-1, -1]), np.zeros((2, 0), np.uint64)))


def test_the_input_is_not_changed():
    x = _rng(12).integers(0, 9, (3, 10_000)).astype(np.float64)
    before = x.copy()
    _both(x, 3_000)
    assert np.array_equal(x, before)


# -- the profiler ------------------------------------------------------------------------------


def _table(n: int) -> pa.Table:
    rng = _rng(13)
    tenths = rng.integers(0, 3500, n)
    return pa.table(
        {
            "flag": [str(v) for v in rng.integers(0, 2, n)],
            "count": [str(v) for v in rng.integers(0, 244, n)],
            "tenths": [f"{v // 10}.{v % 10}" for v in tenths],
            "ratio": [f"{v:.9f}" for v in rng.random(n)],
            "negative": [str(v) for v in rng.integers(-5, 5, n)],
        }
    )


@pytest.fixture
def compactions(monkeypatch) -> list:
    """The number of compactions of every compiled update the profiler makes from now on."""
    calls = []

    def counting(*args):
        result = update(*args)
        calls.append(len(result[2]))
        return result

    update = kll_compiled._update
    monkeypatch.setattr(kll_compiled, "_update", counting)
    monkeypatch.setattr(profile_mod, "_compactor", None)  # the profiler looks it up again
    return calls


def test_the_profiler_uses_the_compiled_compaction_only_once_numba_is_loaded(
    monkeypatch, compactions
):
    t = _table(30_000)
    calls = compactions
    monkeypatch.setattr(profile_mod, "_compiled_module", False)  # numba unavailable
    reference = profile_mod.Profiler(t.column_names)
    for start in range(0, t.num_rows, 7_000):
        reference.update(t.slice(start, 7_000))
    assert calls == []
    monkeypatch.setattr(profile_mod, "_compiled_module", None)
    assert profile_mod.load_kernels()
    compiled = profile_mod.Profiler(t.column_names)
    for start in range(0, t.num_rows, 7_000):
        compiled.update(t.slice(start, 7_000))
    assert sum(calls) > 20
    assert compiled.result() == reference.result()
    for name in t.column_names:
        assert _bits(compiled.sketch(name).levels) == _bits(reference.sketch(name).levels)


def test_the_real_baseline_is_reproduced_with_the_compiled_compaction(
    conformance_dir, tmp_path, compactions
):
    from mmutils.analyzer.baseline import suggest_baseline

    calls = compactions
    assert profile_mod.load_kernels()  # numba loaded: the sketches compact with the kernel
    result = suggest_baseline(
        conformance_dir / "data/training-dataset-with-header.csv", header=True, output_dir=tmp_path
    )
    assert calls  # the 2,333 rows go past level 0's capacity
    full = (
        conformance_dir / "derived/intro_baseline_statistics.RECONSTRUCTED_70_features.json"
    ).read_text(encoding="utf-8")
    assert result.statistics_json() == full + "\n"


def test_the_profiler_sorts_with_numpy_when_the_compiled_compaction_cannot_load(monkeypatch):
    # numba loads but this kernel does not (a platform numba cannot build it for): same sketches
    t = _table(30_000)
    monkeypatch.setattr(profile_mod, "_compiled_module", False)
    reference = profile_mod.Profiler(t.column_names)
    reference.update(t)
    monkeypatch.setattr(profile_mod, "_compiled_module", None)
    assert profile_mod.load_kernels()
    monkeypatch.setitem(sys.modules, "mmutils.analyzer.kll_compiled", None)  # import fails
    monkeypatch.setattr(profile_mod, "_compactor", None)
    fallback = profile_mod.Profiler(t.column_names)
    fallback.update(t)
    assert profile_mod._compactor is False
    assert fallback.result() == reference.result()
