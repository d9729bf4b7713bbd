"""Distribution distances between a baseline and a monitored window (deequ ``Distance``).

Numeric features: the L-infinity distance between the two CDFs that the KLL sketches estimate,
evaluated at every item of either sketch (inclusive ranks; an item on compactor level ``h``
weighs ``2**h``). Categorical features: L-infinity over category frequencies, or deequ's
chi-square goodness-of-fit test (a p-value). ``Robust`` subtracts the two-sample
Kolmogorov-Smirnov critical value ``1.8 * sqrt((n + m) / (n * m))`` (alpha ~ 0.003), floored
at 0; ``Simple`` is the raw distance.

Everything works on sorted arrays (``np.searchsorted`` + cumulative weights), so a sketch of a
few thousand items costs microseconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from mmutils.analyzer.kll import SortedSketch

#: deequ's default c(alpha) for the robust correction (alpha = 0.003)
C_ALPHA = 1.8
#: chi-square regrouping thresholds (Yates for > 2 categories, Cochran for 2)
ABS_THRESHOLD_YATES = 5
PERC_THRESHOLD_YATES = 0.2
ABS_THRESHOLD_COCHRAN = 10


def sketch_arrays(levels: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
    """Flatten compactor levels into ``(items, weights)`` sorted by item.

    Args:
        levels: the ``sketch.data`` arrays of statistics.json, level 0 first.

    Returns:
        Items sorted ascending (stable) and their weights ``2**level`` as float64.
    """
    items = [np.asarray(level, dtype=np.float64) for level in levels]
    weights = [np.full(len(a), float(2**h)) for h, a in enumerate(items)]
    if not items:
        return np.empty(0), np.empty(0)
    values = np.concatenate(items)
    w = np.concatenate(weights)
    order = np.argsort(values, kind="stable")
    return values[order], w[order]


def robust(linf: float, n: float, m: float, c_alpha: float = C_ALPHA) -> float:
    """deequ's small-sample correction: ``max(0, linf - c_alpha * sqrt((n + m) / (n * m)))``."""
    return max(0.0, linf - c_alpha * math.sqrt((n + m) / (n * m)))


def sorted_sketch(levels: Sequence[Sequence[float]] | SortedSketch) -> SortedSketch:
    """``levels`` (the ``sketch.data`` arrays, level 0 first) as a :class:`SortedSketch`.

    A baseline's sketches can be prepared once, before the window is read, and handed to
    :func:`numerical_linf` in place of their levels (the profiler hands out the window's).
    """
    if isinstance(levels, SortedSketch):
        return levels
    return SortedSketch.from_levels(levels)


def numerical_linf(
    levels1: Sequence[Sequence[float]] | SortedSketch,
    levels2: Sequence[Sequence[float]] | SortedSketch,
) -> tuple[float, float, float]:
    """L-infinity distance between the CDFs of two KLL sketches.

    Args:
        levels1: compactor levels of the first sketch (e.g. the baseline), level 0 first, or
            the sketch prepared by :func:`sorted_sketch`.
        levels2: compactor levels of the second sketch (or its :func:`sorted_sketch`).

    Returns:
        ``(linf, n, m)``: the simple distance and the two sketches' total weights.

    Raises:
        ValueError: a sketch is empty.
    """
    first, second = sorted_sketch(levels1), sorted_sketch(levels2)
    if len(first.items) == 0 or len(second.items) == 0:
        raise ValueError("cannot compare an empty sketch")
    n, m = first.total, second.total
    # the CDFs step at the items of either sketch: compare them there, at each sketch's
    # distinct items in turn (a sketch of a 0/1 column has thousands of items, two distinct)
    linf = 0.0
    for keys in (first.steps, second.steps):
        cdf1 = first.rank(keys, inclusive=True) / n
        cdf2 = second.rank(keys, inclusive=True) / m
        linf = max(linf, float(np.max(np.abs(cdf1 - cdf2))))
    return linf, n, m


def numerical_distance(
    levels1: Sequence[Sequence[float]] | SortedSketch,
    levels2: Sequence[Sequence[float]] | SortedSketch,
    method: str = "Robust",
) -> float:
    """The numeric drift distance for ``comparison_method`` ``Robust`` or ``Simple``.

    Either sketch may be given as its levels or as its :func:`sorted_sketch`.
    """
    linf, n, m = numerical_linf(levels1, levels2)
    return _select(linf, n, m, method)


def _select(linf: float, n: float, m: float, method: str) -> float:
    if method == "Simple":
        return linf
    if method == "Robust":
        return robust(linf, n, m)
    raise ValueError(f"unknown comparison_method {method!r} (expected Robust or Simple)")


def categorical_linf(
    counts1: Mapping[str, float], counts2: Mapping[str, float]
) -> tuple[float, float, float]:
    """L-infinity distance between two category-frequency maps: ``(linf, n, m)``."""
    n = float(sum(counts1.values()))
    m = float(sum(counts2.values()))
    if n <= 0 or m <= 0:
        raise ValueError("cannot compare an empty category distribution")
    linf = 0.0
    for key in dict.fromkeys([*counts1, *counts2]):
        linf = max(linf, abs(counts1.get(key, 0) / n - counts2.get(key, 0) / m))
    return linf, n, m


def categorical_distance(
    counts1: Mapping[str, float], counts2: Mapping[str, float], method: str = "Robust"
) -> float:
    """Categorical L-infinity drift with the ``Robust`` / ``Simple`` selection."""
    linf, n, m = categorical_linf(counts1, counts2)
    return _select(linf, n, m, method)


# --------------------------------------------------------------------------------------------
# Chi-square (deequ categoricalChiSquareTest + Spark's goodness-of-fit test)


def regroup(
    sample: dict[str, float],
    expected: dict[str, float],
    abs_yates: int = ABS_THRESHOLD_YATES,
    perc_yates: float = PERC_THRESHOLD_YATES,
    abs_cochran: int = ABS_THRESHOLD_COCHRAN,
) -> tuple[dict[str, float], dict[str, float]]:
    """Merge the smallest expected categories until the chi-square test's rules hold.

    Two categories: every expected count must be >= 10 (Cochran). More: at most 20 % of the
    expected counts may be below 5 (Yates). The smallest category is folded into the next
    smallest, repeatedly. deequ breaks ties in hash-map order; here the first in insertion
    order wins (deterministic).
    """
    sample, expected = dict(sample), dict(expected)
    while len(expected) >= 2:
        if len(expected) > 2:
            threshold, allowed = abs_yates, int(perc_yates * len(expected))
        else:
            threshold, allowed = abs_cochran, 0
        below = sum(1 for v in expected.values() if v < threshold)
        if below <= allowed:
            break
        smallest = min(expected, key=expected.__getitem__)
        small_exp = expected.pop(smallest)
        small_obs = sample.pop(smallest, 0.0)
        second = min(expected, key=expected.__getitem__)
        expected[second] += small_exp
        sample[second] = sample.get(second, 0.0) + small_obs
    return sample, expected


def chi2_sf(x: float, df: int) -> float:
    """Survival function of the chi-square distribution (regularized upper gamma Q(df/2, x/2))."""
    if x <= 0:
        return 1.0
    a, z = df / 2.0, x / 2.0
    gln = math.lgamma(a)
    if z < a + 1.0:  # series for P, then Q = 1 - P
        term = total = 1.0 / a
        ap = a
        for _ in range(10_000):
            ap += 1.0
            term *= z / ap
            total += term
            if abs(term) < abs(total) * 1e-16:
                break
        return max(0.0, 1.0 - total * math.exp(-z + a * math.log(z) - gln))
    # continued fraction for Q (modified Lentz)
    tiny = 1e-300
    b = z + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return math.exp(-z + a * math.log(z) - gln) * h


def chi_square_test(
    sample: Mapping[str, float], expected: Mapping[str, float]
) -> tuple[float, float, int]:
    """deequ's categorical chi-square test of ``sample`` (observed) against ``expected`` (baseline).

    The baseline counts are scaled to the observed total of the categories they share,
    small categories regrouped (:func:`regroup`), then Pearson's goodness-of-fit statistic is
    computed over the baseline's categories (categories only seen in the sample are ignored,
    as in deequ).

    Returns:
        ``(statistic, p_value, degrees_of_freedom)``; ``(nan, nan, 0)`` when fewer than two
        categories remain.
    """
    sample_sum = float(sum(v for k, v in sample.items() if k in expected))
    expected_sum = float(sum(expected.values()))
    if expected_sum <= 0:
        return math.nan, math.nan, 0
    exp_norm = {k: v / expected_sum * sample_sum for k, v in expected.items()}
    obs, exp = regroup({k: float(v) for k, v in sample.items()}, exp_norm)
    if len(obs) < 2 or len(exp) < 2:
        return math.nan, math.nan, 0
    observed = np.array([obs.get(k, 0.0) for k in exp])
    expect = np.array(list(exp.values()))
    obs_total, exp_total = observed.sum(), expect.sum()
    if exp_total <= 0 or np.any(expect <= 0):
        return math.nan, math.nan, 0
    scale = 1.0 if abs(obs_total - exp_total) < 1e-7 else obs_total / exp_total
    e = expect * scale
    statistic = float(np.sum((observed - e) ** 2 / e))
    dof = len(expect) - 1
    return statistic, chi2_sf(statistic, dof), dof
