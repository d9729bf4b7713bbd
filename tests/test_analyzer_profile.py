"""Streaming profiler: exact sums/std, sketches, types, independence from chunking."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from mmutils.analyzer.errors import AnalyzerError
from mmutils.analyzer.kll import KLLSketch
from mmutils.analyzer.profile import Profiler


def table(columns: dict[str, list]) -> pa.Table:
    return pa.table({k: pa.array(v, type=pa.string()) for k, v in columns.items()})


def profile(columns: dict[str, list], chunk_rows: int | None = None) -> dict:
    t = table(columns)
    profiler = Profiler(list(columns))
    step = chunk_rows or max(t.num_rows, 1)
    for start in range(0, t.num_rows, step):
        profiler.update(t.slice(start, step))
    return profiler.result()


def spark_moments(values):
    """Reference: Java's sequential sum and Spark's streaming central-moment update."""
    total = n = avg = m2 = 0.0
    for x in values:
        total += x
        n += 1.0
        d = x - avg
        dn = d / n
        avg += dn
        m2 += d * (d - dn)
    return total, total / n, math.sqrt(m2 / n)


def cells(values):
    return [None if v is None else repr(float(v)) for v in values]


def test_sum_mean_std_are_bit_exact_with_missing_values():
    rng = np.random.default_rng(0)
    a = [round(v, 1) for v in rng.normal(200, 50, 5000)]
    b = [None if i % 7 == 0 else round(v, 2) for i, v in enumerate(rng.exponential(3, 5000))]
    doc = profile({"a": cells(a), "b": cells(b)}, chunk_rows=777)
    for feature, values in zip(doc["features"], (a, b), strict=True):
        present = [v for v in values if v is not None]
        total, mean, std = spark_moments(present)
        stats = feature["numerical_statistics"]
        assert (stats["sum"], stats["mean"], stats["std_dev"]) == (total, mean, std)
        assert stats["min"] == min(present) and stats["max"] == max(present)
        assert stats["common"] == {
            "num_present": len(present),
            "num_missing": len(values) - len(present),
        }
    # the data is chosen so that a pairwise or compensated sum gives different last bits
    assert float(np.sum(np.array(a))) != spark_moments(a)[0] or math.fsum(a) != spark_moments(a)[0]


def test_result_does_not_depend_on_chunking():
    rng = np.random.default_rng(1)
    n = 9000
    cols = {
        "dense": cells(rng.integers(0, 2, n)),
        "holes": [None if rng.random() < 0.05 else str(v) for v in rng.integers(0, 100, n)],
        "frac": cells(rng.normal(0, 1, n).round(3)),
        "late_holes": [None if i > 8000 and i % 3 == 0 else "1.5" for i in range(n)],
    }
    whole = profile(cols)
    for chunk_rows in (1000, 2051, 4096):
        assert profile(cols, chunk_rows) == whole


def test_sketch_of_a_column_with_holes_equals_a_plain_sketch():
    rng = np.random.default_rng(2)
    values = [None if rng.random() < 0.1 else v for v in rng.normal(size=6000).round(4)]
    other = cells(rng.normal(size=6000))
    doc = profile({"x": cells(values), "y": other}, chunk_rows=1500)
    expected = KLLSketch()
    expected.update(np.array([v for v in values if v is not None]))
    data = doc["features"][0]["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"]
    assert data == [lv.tolist() for lv in expected.finalized().levels]


def test_integral_and_fractional_buckets_and_layout():
    doc = profile({"i": ["1", "2", "2", "10"], "f": ["1", "2.5", None, "4"]})
    assert doc["dataset"] == {"item_count": 4}
    i, f = doc["features"]
    assert (i["inferred_type"], f["inferred_type"]) == ("Integral", "Fractional")
    assert list(i) == ["name", "inferred_type", "numerical_statistics"]
    stats = i["numerical_statistics"]
    assert list(stats) == ["common", "mean", "sum", "std_dev", "min", "max", "distribution"]
    kll = stats["distribution"]["kll"]
    assert [b["count"] for b in kll["buckets"]] == [
        1.0,
        2.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        0.0,
        1.0,
    ]
    assert kll["buckets"][1] == {"lower_bound": 1.9, "upper_bound": 2.8, "count": 2.0}
    assert kll["sketch"] == {
        "parameters": {"c": 0.64, "k": 2048.0},
        "data": [[1.0, 2.0, 2.0, 10.0]],
    }
    assert f["numerical_statistics"]["common"] == {"num_present": 3, "num_missing": 1}


def test_string_boolean_and_unknown_columns():
    doc = profile(
        {
            "s": ["b", "a", "b", None, "c", "b"],
            "late": ["1", "2", "3", "2", "x", "2"],
            "flag": ["true", "false", "true", None, None, "true"],
            "none": [None] * 6,
        },
        chunk_rows=2,
    )
    s, late, flag, none = doc["features"]
    assert s == {
        "name": "s",
        "inferred_type": "String",
        "string_statistics": {
            "common": {"num_present": 5, "num_missing": 1},
            "distinct_count": 3.0,
            "distribution": {
                "categorical": {
                    "buckets": [
                        {"value": "b", "count": 3},
                        {"value": "a", "count": 1},
                        {"value": "c", "count": 1},
                    ]
                }
            },
        },
    }
    # a column that turns String late still counts its earlier values
    assert late["inferred_type"] == "String"
    assert late["string_statistics"]["distribution"]["categorical"]["buckets"][0] == {
        "value": "2",
        "count": 3,
    }
    assert flag["inferred_type"] == "String"
    assert flag["string_statistics"]["distinct_count"] == 2.0
    assert none["inferred_type"] == "Unknown"
    assert none["string_statistics"]["common"] == {"num_present": 0, "num_missing": 6}


def test_bucket_bounds_start_from_deequs_int_limits_for_huge_values():
    doc = profile({"big": ["3000000000", "4000000000"]})
    buckets = doc["features"][0]["numerical_statistics"]["distribution"]["kll"]["buckets"]
    assert buckets[0]["lower_bound"] == 2147483647.0
    assert doc["features"][0]["numerical_statistics"]["min"] == 3e9
    assert sum(b["count"] for b in buckets) == 2.0


def test_profiler_accessors():
    profiler = Profiler(["a", "b"])
    profiler.update(table({"a": ["1", "2"], "b": ["x", None]}))
    assert profiler.inferred_type(0) == "Integral"
    assert profiler.type_counts(1).string == 1
    assert profiler.sketch("a").levels[0].tolist() == [1.0, 2.0]
    assert profiler.sketch("b") is None


def test_wrong_chunk_width_is_an_error():
    profiler = Profiler(["a", "b"])
    with pytest.raises(AnalyzerError, match="chunk has 1 columns, expected 2"):
        profiler.update(table({"a": ["1"]}))


def test_value_counts_keep_leading_zeros_and_signs_apart():
    doc = profile({"c": ["007", "7", "7", "+7", "1000", "x"]}, chunk_rows=3)
    buckets = doc["features"][0]["string_statistics"]["distribution"]["categorical"]["buckets"]
    assert buckets == [
        {"value": "7", "count": 2},
        {"value": "+7", "count": 1},
        {"value": "007", "count": 1},
        {"value": "1000", "count": 1},
        {"value": "x", "count": 1},
    ]


def test_single_digit_columns_with_holes():
    values = ["1", None, "0", "1", None, "9"]
    doc = profile({"flag": values, "other": ["5"] * 6}, chunk_rows=4)
    stats = doc["features"][0]["numerical_statistics"]
    assert stats["common"] == {"num_present": 4, "num_missing": 2}
    assert (stats["sum"], stats["min"], stats["max"]) == (11.0, 0.0, 9.0)
    assert stats["distribution"]["kll"]["sketch"]["data"] == [[1.0, 0.0, 1.0, 9.0]]


def test_infinite_values_with_holes_follow_the_plain_recurrence():
    # "1e999" is Fractional by the patterns and parses to infinity, as in Java
    col = ["1.5", None, "1e999", None, "2.0"]
    doc = profile({"big": col, "n": ["1", "2", "3", "4", "5"]})
    stats = doc["features"][0]["numerical_statistics"]
    assert stats["common"]["num_present"] == 3
    assert stats["max"] == math.inf and stats["sum"] == math.inf
    assert math.isnan(stats["std_dev"])
    assert doc["features"][1]["numerical_statistics"]["std_dev"] == math.sqrt(2.0)
