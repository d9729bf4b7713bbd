"""Drift distances against an independent brute-force computation (deequ ``Distance``)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mmutils.analyzer import distances


def _brute_linf(levels1, levels2) -> tuple[float, float, float]:
    """Definition, item by item: max over all sketch items v of |R1(v)/n - R2(v)/m|."""
    pairs1 = [(x, 2**h) for h, lvl in enumerate(levels1) for x in lvl]
    pairs2 = [(x, 2**h) for h, lvl in enumerate(levels2) for x in lvl]
    n = sum(w for _, w in pairs1)
    m = sum(w for _, w in pairs2)
    best = 0.0
    for v in {x for x, _ in pairs1} | {x for x, _ in pairs2}:
        r1 = sum(w for x, w in pairs1 if x <= v)
        r2 = sum(w for x, w in pairs2 if x <= v)
        best = max(best, abs(r1 / n - r2 / m))
    return best, float(n), float(m)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_numerical_linf_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    levels1 = [rng.integers(0, 40, 120).tolist(), sorted(rng.integers(0, 40, 60).tolist())]
    levels2 = [
        (rng.normal(20, 5, 90).round(1)).tolist(),
        sorted(rng.normal(22, 5, 40).round(1).tolist()),
        sorted(rng.normal(22, 5, 10).round(1).tolist()),
    ]
    linf, n, m = distances.numerical_linf(levels1, levels2)
    want, wn, wm = _brute_linf(levels1, levels2)
    assert (n, m) == (wn, wm) == (240.0, 90 + 80 + 40.0)
    assert linf == pytest.approx(want, abs=1e-15)
    assert distances.numerical_distance(levels1, levels2, "Simple") == linf
    robust = max(0.0, want - 1.8 * math.sqrt((n + m) / (n * m)))
    assert distances.numerical_distance(levels1, levels2, "Robust") == pytest.approx(
        robust, abs=1e-15
    )


def test_identical_sketches_have_zero_distance_and_disjoint_have_one():
    levels = [[3.0, 1.0, 2.0, 2.0]]
    assert distances.numerical_linf(levels, levels)[0] == 0.0
    assert distances.numerical_linf([[1.0, 2.0]], [[5.0, 6.0]])[0] == 1.0
    # robust correction floors at zero for tiny samples
    assert distances.numerical_distance([[1.0, 2.0]], [[5.0, 6.0]], "Robust") == 0.0
    with pytest.raises(ValueError):
        distances.numerical_distance([[1.0]], [[1.0]], "Fancy")
    with pytest.raises(ValueError):
        distances.numerical_linf([[]], [[1.0]])


def test_baseline_sketch_from_real_statistics(conformance_dir):
    """Churn's real baseline sketch (two levels) vs a window of fractional predictions."""
    stats = json.loads(
        (
            conformance_dir / "derived" / "intro_baseline_statistics.RECONSTRUCTED_70_features.json"
        ).read_text()
    )
    churn = stats["features"][0]
    levels = churn["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"]
    items, weights = distances.sketch_arrays(levels)
    assert weights.sum() == 2333 and np.all(np.diff(items) >= 0)
    window = [[0.036397725343704224] * 1977]
    linf, n, m = distances.numerical_linf(levels, window)
    # at 0 the baseline CDF is the share of zeros and the window's is 0: the spec's
    # "at least 0.86" for Churn (§D.2)
    zeros = sum(2**h * sum(1 for x in lvl if x == 0.0) for h, lvl in enumerate(levels))
    assert linf == pytest.approx(zeros / 2333) and linf > 0.86
    assert linf == _brute_linf(levels, window)[0]


def test_categorical_linf_brute_force():
    a = {"x": 10, "y": 5, "z": 1}
    b = {"x": 3, "y": 9, "w": 4}
    linf, n, m = distances.categorical_linf(a, b)
    keys = set(a) | set(b)
    want = max(abs(a.get(k, 0) / 16 - b.get(k, 0) / 16) for k in keys)
    assert (n, m) == (16.0, 16.0) and linf == want
    assert distances.categorical_distance(a, b, "Simple") == want
    assert distances.categorical_distance(a, b, "Robust") == max(
        0.0, want - 1.8 * math.sqrt(2 / 16)
    )


@pytest.mark.parametrize(("x", "df"), [(0.5, 1), (3.841458820694124, 1), (10.0, 3), (50.0, 7)])
def test_chi2_sf_against_closed_forms(x, df):
    if df == 1:
        want = math.erfc(math.sqrt(x / 2))
    elif df == 3:
        want = math.erfc(math.sqrt(x / 2)) + math.sqrt(2 * x / math.pi) * math.exp(-x / 2)
    else:  # odd df: Q = erfc(sqrt(x/2)) + sqrt(2x/pi) e^{-x/2} * sum x^k / (1*3*...*(2k+1))
        s, term = 0.0, 1.0
        for k in range((df - 1) // 2):
            term = term * x / (2 * k + 1) if k else 1.0
            s += term
        want = math.erfc(math.sqrt(x / 2)) + math.sqrt(2 * x / math.pi) * math.exp(-x / 2) * s
    assert distances.chi2_sf(x, df) == pytest.approx(want, rel=1e-10)


def test_chi2_sf_against_scipy():
    stats = pytest.importorskip("scipy.stats")
    for df in (1, 2, 5, 20, 60):
        for x in (0.01, 1.0, 5.0, 30.0, 120.0):
            assert distances.chi2_sf(x, df) == pytest.approx(
                stats.chi2.sf(x, df), rel=1e-9, abs=1e-300
            )


def test_chi_square_without_regrouping_is_pearson():
    sample = {"a": 30, "b": 50, "c": 20}
    expected = {"a": 300, "b": 400, "c": 300}
    statistic, p, dof = distances.chi_square_test(sample, expected)
    e = [30.0, 40.0, 30.0]
    want = sum((o - x) ** 2 / x for o, x in zip([30, 50, 20], e, strict=True))
    assert statistic == pytest.approx(want) and dof == 2
    assert p == pytest.approx(math.exp(-want / 2))  # df=2: Q = e^{-x/2}


def test_chi_square_regroups_small_categories():
    # 5 categories; expected (scaled to 100 observed) 60, 30, 6, 3, 1 -> two below 5 but only
    # int(0.2*5)=1 allowed: 1 merges into 3 (-> 4); now 4 categories, allowed int(0.8)=0,
    # 4 is below 5: merges into 6 (-> 10); three categories 60, 30, 10 are all >= 5.
    sample = {"a": 55, "b": 30, "c": 10, "d": 4, "e": 1}
    expected = {"a": 600, "b": 300, "c": 60, "d": 30, "e": 10}
    obs, exp = distances.regroup(sample, {k: v / 10 for k, v in expected.items()})
    assert exp == pytest.approx({"a": 60.0, "b": 30.0, "c": 10.0})
    assert obs == {"a": 55, "b": 30, "c": 15.0}
    statistic, p, dof = distances.chi_square_test(sample, expected)
    assert dof == 2
    assert statistic == pytest.approx(25 / 60 + 0 + 25 / 10)
    # two categories use Cochran's rule (every expected count >= 10)
    statistic, p, dof = distances.chi_square_test({"a": 95, "b": 5}, {"a": 950, "b": 50})
    assert math.isnan(p) and dof == 0  # 5 < 10 -> merged into one category -> no test


def _flag_and_value_levels(rng, flags: bool) -> list[list[float]]:
    """Levels as a sketch holds them: level 0 unsorted, higher levels sorted; many repeats."""
    draw = (lambda n: rng.integers(0, 2, n)) if flags else (lambda n: rng.integers(0, 30, n))
    sizes = [int(rng.integers(1, 300)), int(rng.integers(0, 80)), int(rng.integers(0, 20))]
    levels = [draw(sizes[0]).astype(float).tolist()]
    levels += [sorted(draw(size).astype(float).tolist()) for size in sizes[1:]]
    return levels


@pytest.mark.parametrize("seed", range(6))
def test_prepared_sketches_give_the_same_distance(seed):
    """Sorted once (the baseline, before the window is read) or from the levels: same bits."""
    rng = np.random.default_rng(seed)
    base = _flag_and_value_levels(rng, flags=seed % 2 == 0)
    window = _flag_and_value_levels(rng, flags=seed % 3 == 0)
    if seed == 5:  # infinities and signed zeros among the items
        base[0] += [math.inf, -0.0, 0.0]
        window[0] += [-math.inf, 0.0]
    want = _brute_linf(base, window)
    got = distances.numerical_linf(base, window)
    assert got == distances.numerical_linf(distances.sorted_sketch(base), window)
    assert got == distances.numerical_linf(base, distances.sorted_sketch(window))
    assert got[1:] == want[1:] and got[0] == pytest.approx(want[0], abs=1e-15)
    for method in ("Robust", "Simple"):
        assert distances.numerical_distance(
            distances.sorted_sketch(base), window, method
        ) == distances.numerical_distance(base, window, method)


def test_sorted_sketch_steps_are_the_distinct_items():
    prepared = distances.sorted_sketch([[1.0, 0.0, 1.0, 1.0], [0.0, 1.0], [1.0]])
    assert prepared.items.tolist() == [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert prepared.ranks.tolist() == [0.0, 1.0, 3.0, 4.0, 5.0, 6.0, 8.0, 12.0]
    assert prepared.steps.tolist() == [0.0, 1.0] and prepared.total == 12.0
    assert distances.sorted_sketch(prepared) is prepared
    with pytest.raises(ValueError, match="empty"):
        distances.numerical_linf(distances.sorted_sketch([[]]), [[1.0]])
