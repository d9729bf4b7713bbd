"""The compiled KLL compaction (mmutils.analyzer.kll_compiled) against the numpy path, bit for bit.

Every comparison feeds the same values to two :class:`KLLBatch` es, one compacting with numpy
(the reference) and one with :func:`compact_level`, and compares the compactor levels as raw
bits (``-0.0`` and ``0.0`` compare equal as floats), the compaction counters, and what
``finalized`` / ``merge`` make of them. :func:`compact_level` itself is checked for which rows
it counts and which it leaves to numpy.
"""

from __future__ import annotations

import sys

import numpy as np
import pyarrow as pa
import pytest

from mmutils.analyzer import profile as profile_mod
from mmutils.analyzer.kll import KLLBatch

pytest.importorskip("numba")
kll_compiled = pytest.importorskip("mmutils.analyzer.kll_compiled")
compact_level = kll_compiled.compact_level


def _bits(levels: list[np.ndarray]) -> list[bytes]:
    return [np.ascontiguousarray(level).view(np.int64).tobytes() for level in levels]


def _layout(batch: KLLBatch) -> list[tuple[int, int, int]]:
    return [(lv.length, lv.num_compress, lv.offset) for lv in batch._levels]


def _assert_same(reference: KLLBatch, compiled: KLLBatch) -> None:
    assert _layout(compiled) == _layout(reference)
    want, got = reference.level_arrays(), compiled.level_arrays()
    assert [a.shape for a in got] == [a.shape for a in want]
    assert _bits(got) == _bits(want)


def _both(x: np.ndarray, chunk: int, copy: bool = False) -> tuple[KLLBatch, KLLBatch]:
    """The numpy and the compiled batch after the same updates, ``chunk`` values at a time."""
    width = x.shape[0]
    reference, compiled = KLLBatch(width), KLLBatch(width)
    for start in range(0, x.shape[1], chunk):
        block = x[:, start : start + chunk]
        reference.update(block, copy=copy)
        compiled.update(block, copy=copy, compactor=compact_level)
    _assert_same(reference, compiled)
    return reference, compiled


def _rng(seed: int = 7) -> np.random.Generator:
    return np.random.default_rng(seed)


# -- which rows are counted ----------------------------------------------------------------


def _compact_directly(rows: list[list[float]], offset: int = 0):
    level = np.array(rows, dtype=np.float64)
    even = level.shape[1] - level.shape[1] % 2
    out = np.full((level.shape[0], even // 2), np.nan)
    declined, items = compact_level([level], even, offset, out)
    expected = np.sort(level[:, :even], axis=1)[:, offset:even:2]
    return declined.tolist(), items, out, expected


def test_counts_integer_rows_and_declines_the_others():
    rng = _rng(1)
    n = 64
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
    declined, items, out, expected = _compact_directly(rows)
    assert declined == [3, 4, 5, 6, 7, 8, 9]
    counted = [r for r in range(len(rows)) if r not in declined]
    assert np.array_equal(out[counted], expected[counted])
    assert np.isnan(out[declined]).all()  # left for the caller
    # the declined rows' items come back as they are, in order
    assert _bits(list(items)) == _bits([np.array(rows[r], dtype=np.float64) for r in declined])


@pytest.mark.parametrize("offset", [0, 1])
@pytest.mark.parametrize("span", [1, 2, 3, 17, 255, 256, 257, 1000])
def test_counted_rows_equal_the_sort(offset, span):
    rng = _rng(span)
    level = rng.integers(0, span, (5, 2051)).astype(np.float64) + rng.integers(0, 60_000, (5, 1))
    declined, _, out, expected = _compact_directly(level.tolist(), offset)
    assert declined == []
    assert np.array_equal(out, expected)


def test_reads_many_pieces_and_column_slices_in_place():
    rng = _rng(2)
    chunk = rng.integers(0, 30, (6, 5000)).astype(np.float64)
    pieces = [chunk[:, 10:11].copy(), chunk[:, 100:400], chunk[:, 900:1000], chunk[:, 7:9]]
    pieces += [chunk[:, a : a + 37] for a in range(1200, 2600, 200)]
    pieces.append(np.asfortranarray(chunk[:, 4000:4100]))  # copied
    assert len(pieces) > kll_compiled.MAX_PIECES  # the last ones are joined first
    joined = np.concatenate(pieces, axis=1)
    even = joined.shape[1] - joined.shape[1] % 2
    for offset in (0, 1):
        out = np.empty((6, even // 2))
        declined, _ = compact_level(pieces, even, offset, out)
        assert len(declined) == 0
        assert np.array_equal(out, np.sort(joined[:, :even], axis=1)[:, offset:even:2])


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
    compiled.update(one, compactor=compact_level)
    _assert_same(reference, compiled)
    # many small updates: levels of many pieces
    _both(rng.integers(0, 4, (2, 12_000)).astype(np.float64), 97)


@pytest.mark.parametrize("seed", range(6))
def test_random_mixtures_and_chunkings(seed):
    rng = _rng(100 + seed)
    n = int(rng.integers(5_000, 40_000))
    kinds = [
        lambda: rng.integers(0, 2, n),
        lambda: rng.integers(0, int(rng.integers(3, 3_000)), n) + int(rng.integers(0, 60_000)),
        lambda: np.round(rng.normal(100, 30, n), 1),
        lambda: rng.choice([0.0, -0.0, 1.0, 2.0], n, p=[0.4, 0.01, 0.3, 0.29]),
        lambda: rng.choice([0.0, 1.0, 65_535.0, 65_536.0, np.inf], n, p=[0.3, 0.3, 0.2, 0.1, 0.1]),
        lambda: rng.integers(-3, 3, n),
    ]
    width = int(rng.integers(1, 6))
    x = np.stack([kinds[int(k)]() for k in rng.integers(0, len(kinds), width)]).astype(np.float64)
    # stretches of one kind inside another: rows go from counted to declined and back
    start = int(rng.integers(0, n - 3_000))
    x[:, start : start + 3_000] = rng.integers(0, 2, (width, 3_000))
    _both(x, int(rng.integers(50, 20_000)), copy=bool(seed % 2))


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
    """The ``even`` of every compiled compaction the profiler makes from now on."""
    calls = []

    def counting(*args):
        calls.append(args[1])
        return compact_level(*args)

    monkeypatch.setattr(kll_compiled, "compact_level", counting)
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
    assert len(calls) > 20
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
