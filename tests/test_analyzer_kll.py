"""deequ's KLL sketch: exact equality with a per-value reference, rank bounds, merge, rebuild."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mmutils.analyzer.kll import KLLBatch, KLLSketch, SortedSketch, bucket_bounds, capacity


class ReferenceSketch:
    """A literal, one value at a time transcription of deequ's QuantileNonSample semantics."""

    def __init__(self, k=2048, c=0.64):
        self.k, self.c = k, c
        self.levels: list[list[float]] = []
        self.counters: list[list[int]] = []  # [num_compress, offset] per level
        self.size = 0
        self.total = 0
        self.expand()

    def cap(self, h):
        return 2 * (math.ceil(self.k * self.c**h / 2) + 1)

    def expand(self):
        self.levels.append([])
        self.counters.append([0, 0])
        self.total = sum(self.cap(h) for h in range(len(self.levels)))

    def compact(self, h):
        buf = self.levels[h]
        items = len(buf)
        even = items - items % 2
        num, offset = self.counters[h]
        if num % 2 == 1:
            offset = 1 - offset
        ordered = sorted(buf[:even])
        out = [ordered[i] for i in range(offset, even, 2)]
        self.levels[h] = [buf[items - 1]] if items % 2 else []
        self.counters[h] = [num + 1, offset]
        return out

    def condense(self):
        for h in range(len(self.levels)):
            if len(self.levels[h]) >= self.cap(h):
                if h + 1 >= len(self.levels):
                    self.expand()
                for item in self.compact(h):
                    self.levels[h + 1].append(item)
                self.size = sum(len(lv) for lv in self.levels)
                return

    def update(self, x):
        self.levels[0].append(float(x))
        self.size += 1
        if self.size > self.total:
            self.condense()

    def merge(self, other):
        while len(self.levels) < len(other.levels):
            self.expand()
        for h, lv in enumerate(other.levels):
            self.levels[h] = self.levels[h] + lv
        self.size = sum(len(lv) for lv in self.levels)
        while self.size >= self.total:
            self.condense()
        return self


def as_lists(levels):
    return [list(map(float, lv)) for lv in levels]


def test_capacities_match_deequ_formula():
    assert [capacity(h) for h in range(4)] == [2050, 1314, 842, 540]


@pytest.mark.parametrize("n", [0, 1, 2049, 2050, 2051, 2333, 3365, 5000, 40_000])
def test_equals_per_value_reference(n):
    rng = np.random.default_rng(n)
    values = rng.normal(100, 30, n).round(1)
    ref = ReferenceSketch()
    for v in values:
        ref.update(v)
    ours = KLLSketch()
    # uneven slices: the result must not depend on how values arrive
    cuts = sorted(rng.integers(0, n + 1, 5)) if n else []
    for part in np.split(values, cuts):
        ours.update(part)
    assert as_lists(ours.levels) == ref.levels
    assert ours.count == n


def test_equals_reference_with_small_k_many_levels():
    rng = np.random.default_rng(7)
    values = rng.integers(0, 50, 30_000).astype(float)
    ref = ReferenceSketch(k=16, c=0.64)
    for v in values:
        ref.update(v)
    ours = KLLSketch(k=16, c=0.64)
    ours.update(values)
    assert len(ref.levels) > 8
    assert as_lists(ours.levels) == ref.levels


def test_first_compaction_layout_matches_real_output_shape():
    # spec §B.3: n = 2333 -> [rows 2051..2333 in arrival order, sorted(rows 1..2050)[0::2]]
    values = np.random.default_rng(1).permutation(2333).astype(float)
    sketch = KLLSketch()
    sketch.update(values)
    level0, level1 = sketch.levels
    assert level0.tolist() == values[2050:].tolist()
    assert level1.tolist() == sorted(values[:2050])[0::2]


def test_finalized_condenses_a_sketch_exactly_at_capacity():
    values = np.arange(2050, dtype=float)[::-1]
    sketch = KLLSketch()
    sketch.update(values)
    assert [len(lv) for lv in sketch.levels] == [2050]
    final = sketch.finalized()
    assert [len(lv) for lv in final.levels] == [0, 1025]
    assert final.levels[1].tolist() == list(np.arange(0, 2050, 2, dtype=float))
    other = KLLSketch()
    other.update(values[:2049])
    assert as_lists(other.finalized().levels) == as_lists(other.levels)


def test_merge_equals_reference_merge():
    rng = np.random.default_rng(3)
    a_vals, b_vals = rng.normal(size=7000), rng.normal(size=12_345)
    ref_a, ref_b = ReferenceSketch(), ReferenceSketch()
    for v in a_vals:
        ref_a.update(v)
    for v in b_vals:
        ref_b.update(v)
    ref_a.merge(ref_b)
    a, b = KLLSketch(), KLLSketch()
    a.update(a_vals)
    b.update(b_vals)
    a.merge(b)
    assert as_lists(a.levels) == ref_a.levels


def test_batch_columns_equal_single_sketches_and_stack():
    rng = np.random.default_rng(5)
    block = rng.normal(size=(4, 9000))
    batch = KLLBatch(4)
    batch.update(block[:, :3000])
    batch.update(block[:, 3000:])
    for i in range(4):
        single = KLLSketch()
        single.update(block[i])
        assert as_lists(batch.column(i).levels) == as_lists(single.levels)
    left, right = batch.take([0, 1]), batch.take([2, 3])
    stacked = KLLBatch.stack([right, left])
    assert as_lists(stacked.column(0).levels) == as_lists(batch.column(2).levels)
    assert as_lists(stacked.column(3).levels) == as_lists(batch.column(1).levels)


def _sorted_alone(levels: list[np.ndarray]) -> SortedSketch:
    """One column's sketch sorted on its own, written out plainly (the reference)."""
    values = np.concatenate(levels)
    weights = np.concatenate([np.full(len(level), 2.0**h) for h, level in enumerate(levels)])
    order = np.argsort(values, kind="stable")
    items = values[order]
    ranks = np.concatenate([[0.0], np.cumsum(weights[order])])
    steps = items[np.r_[True, items[1:] != items[:-1]]] if len(items) else items
    return SortedSketch(items, ranks, steps)


@pytest.mark.parametrize("n", [0, 1, 2500, 40_000])
def test_sorted_columns_equal_each_columns_own_sort(n):
    # ties across levels (small integers), signed zeros, a NaN column and normal values: the
    # batch's one row-wise sort gives every column exactly its own from_levels
    rng = np.random.default_rng(n)
    block = np.stack(
        [
            rng.integers(0, 5, n).astype(float),
            rng.choice([0.0, -0.0, 1.5], n),
            np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
            rng.normal(size=n),
        ]
    )
    batch = KLLBatch(4, k=64)
    batch.update(block)
    final = batch.finalized()
    views = final.sorted_columns()
    assert len(views) == 4
    for i, view in enumerate(views):
        alone = _sorted_alone(final.column(i).levels)
        for field in ("items", "ranks", "steps"):
            got, want = getattr(view, field), getattr(alone, field)
            assert got.tobytes() == want.tobytes(), (n, i, field)
        assert view.total == n


def test_large_input_weight_and_rank_error():
    n = 1_200_000
    rng = np.random.default_rng(11)
    values = rng.lognormal(3, 1, n)
    sketch = KLLSketch()
    for part in np.array_split(values, 7):
        sketch.update(part)
    assert sketch.count == n
    items, weights = sketch.weighted_items()
    assert int(weights.sum()) == n
    ordered = np.sort(values)
    probes = np.quantile(values, np.linspace(0.01, 0.99, 50))
    true_rank = np.searchsorted(ordered, probes, side="right")
    est_rank = sketch.rank(probes, inclusive=True)
    # KLL rank error is O(n/k); allow 1% of n (observed errors are far smaller)
    assert np.max(np.abs(est_rank - true_rank)) < 0.01 * n
    assert sum(len(lv) for lv in sketch.levels) < 8000  # memory stays bounded


def test_merge_of_partial_sketches_approximates_one_sketch():
    rng = np.random.default_rng(12)
    values = rng.uniform(0, 1000, 1_000_000)
    whole = KLLSketch()
    whole.update(values)
    parts = [KLLSketch() for _ in range(4)]
    for sketch, part in zip(parts, np.array_split(values, 4), strict=True):
        sketch.update(part)
    merged = parts[0]
    for other in parts[1:]:
        merged.merge(other)
    assert merged.count == whole.count == len(values)
    probes = np.linspace(50, 950, 19)
    diff = np.abs(merged.rank(probes) - whole.rank(probes))
    assert np.max(diff) < 0.01 * len(values)


def test_from_levels_round_trip_and_ranks():
    rng = np.random.default_rng(2)
    values = rng.integers(0, 100, 5000).astype(float)
    sketch = KLLSketch()
    sketch.update(values)
    rebuilt = KLLSketch.from_levels([lv.tolist() for lv in sketch.levels], 2048.0, 0.64)
    assert as_lists(rebuilt.levels) == as_lists(sketch.levels)
    assert rebuilt.count == 5000
    assert rebuilt.rank(50.0, inclusive=False) == sketch.rank(50.0, inclusive=False)
    assert sketch.cdf(1e9) == 1.0


def test_exact_ranks_and_buckets_below_capacity():
    values = np.array([1, 2, 2, 3, 5, 8, 8, 8, 10], dtype=float)
    sketch = KLLSketch()
    sketch.update(values)
    assert sketch.rank(2.0, inclusive=False) == 1
    assert sketch.rank(2.0, inclusive=True) == 3
    assert sketch.rank(np.array([0.0, 8.0, 11.0])).tolist() == [0, 8, 9]
    buckets = sketch.buckets(1.0, 10.0)
    assert [b["count"] for b in buckets] == [1.0, 2.0, 1.0, 0.0, 1.0, 0.0, 0.0, 3.0, 0.0, 1.0]
    assert sum(b["count"] for b in buckets) == len(values)
    assert buckets[9]["upper_bound"] == 10.0


def test_bucket_bounds_use_deequ_evaluation_order():
    bounds = bucket_bounds(0.0, 350.8)
    assert bounds[3][0] == 105.24000000000001
    assert bounds[0] == (0.0, 35.08)
    # equal min and max: every bucket has the same bounds, the last one gets everything
    sketch = KLLSketch()
    sketch.update(np.full(10, 4.0))
    counts = [b["count"] for b in sketch.buckets(4.0, 4.0)]
    assert counts == [0.0] * 9 + [10.0]


def test_quantiles_of_exact_sketch():
    sketch = KLLSketch()
    sketch.update(np.arange(1, 101, dtype=float))
    assert sketch.quantiles(4).tolist() == [26.0, 51.0, 76.0]


def test_batch_says_whether_it_holds_items_in_an_array():
    # the profiler reuses a chunk's value buffer only once no sketch keeps a view of it
    values = np.arange(3 * 5000, dtype=np.float64).reshape(3, 5000)
    viewed, copied = KLLBatch(3), KLLBatch(3)
    viewed.update(values, copy=False)
    copied.update(values)
    assert viewed.shares_memory(values)  # the items after the last compaction are views
    assert not copied.shares_memory(values)
    viewed.update(np.zeros((3, 4000)))  # compacts the viewed items away
    assert not viewed.shares_memory(values)
