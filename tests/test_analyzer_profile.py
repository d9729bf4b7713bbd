"""Streaming profiler: exact sums/std, sketches, types, independence from chunking."""

from __future__ import annotations

import logging
import math
import os
import re
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from mmutils.analyzer import dtypes
from mmutils.analyzer import profile as profile_mod
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
    if profiler.recount_rows():  # the data read again, as the analyzer's drivers do
        profiler.recount_from(t.slice(start, step) for start in range(0, t.num_rows, step))
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


# -- the compiled (numba) path ---------------------------------------------------------------


def _mixed_table(n: int, seed: int = 11) -> pa.Table:
    """Columns of the shapes the compiled path must reproduce bit for bit."""
    import pyarrow.compute as pc

    rng = np.random.default_rng(seed)

    def text(values, missing=None):
        arr = pc.cast(pa.array(values), pa.string())
        return (
            arr if missing is None else pc.if_else(pa.array(missing), pa.nulls(n, pa.string()), arr)
        )

    tenths = rng.integers(0, 3500, n)
    whole, digit = (
        pc.cast(pa.array(tenths // 10), pa.string()),
        pc.cast(pa.array(tenths % 10), pa.string()),
    )
    late = text(rng.integers(0, 50, n)).to_pylist()
    late[n - 17] = "n/a"  # turns String near the end
    return pa.table(
        {
            "flag": text(rng.integers(0, 2, n)),
            "flag_holes": text(rng.integers(0, 2, n), rng.random(n) < 0.03),
            "tenths": pc.binary_join_element_wise(whole, digit, "."),
            "negative": text(np.round(rng.normal(-40, 25, n), 1)),
            "holes": text(np.round(rng.exponential(3, n), 2), rng.random(n) < 0.1),
            "count": text(rng.integers(0, 400, n)),
            "late_string": pa.array(late, pa.string()),
            "ratio": text(rng.random(n)),
        }
    )


def _profile_table(t: pa.Table, chunk_rows: int, pieces: int = 1) -> Profiler:
    """Profile ``t`` in chunks; each chunk's columns in ``pieces`` pieces (as from files)."""
    profiler = Profiler(t.column_names)
    for start in range(0, t.num_rows, chunk_rows):
        chunk = t.slice(start, chunk_rows)
        step = -(-chunk.num_rows // pieces)
        parts = [chunk.slice(first, step) for first in range(0, chunk.num_rows, step)]
        profiler.update(pa.concat_tables(parts) if pieces > 1 else chunk)
    if profiler.recount_rows():  # read again in other chunks: the counts do not depend on them
        profiler.recount_from(t.slice(start, 999) for start in range(0, t.num_rows, 999))
    return profiler


def _hex_stats(doc: dict) -> dict:
    out = {}
    for f in doc["features"]:
        if "numerical_statistics" in f:
            s = f["numerical_statistics"]
            out[f["name"]] = [float(s[k]).hex() for k in ("sum", "mean", "std_dev", "min", "max")]
    return out


@pytest.fixture(scope="module")
def mixed_200k() -> pa.Table:
    return _mixed_table(200_000)


def test_compiled_path_is_bit_exact_with_the_numpy_path(mixed_200k, monkeypatch):
    pytest.importorskip("numba")
    monkeypatch.setattr(profile_mod, "COMPILED_MIN_ROWS", 10**12)
    reference = _profile_table(mixed_200k, 65_536)
    monkeypatch.setattr(profile_mod, "COMPILED_MIN_ROWS", 0)
    compiled = _profile_table(mixed_200k, 65_536)
    assert reference.compiled_rows == 0 and compiled.compiled_rows == 200_000
    want, got = reference.result(), compiled.result()
    assert _hex_stats(got) == _hex_stats(want)
    assert set(_hex_stats(got)) == {
        "flag",
        "flag_holes",
        "tenths",
        "negative",
        "holes",
        "count",
        "ratio",
    }
    assert got == want
    assert got["features"][6]["inferred_type"] == "String"
    # chunks whose columns come in pieces (one per capture file): the same statistics
    assert _profile_table(mixed_200k, 65_536, pieces=3).result() == want
    # and both equal the per-value reference (Java's sum, Spark's update) where holes matter
    for j in (1, 3, 4):
        values = [float(v) for v in mixed_200k.column(j).to_pylist() if v is not None]
        stats = got["features"][j]["numerical_statistics"]
        assert (stats["sum"], stats["mean"], stats["std_dev"]) == spark_moments(values)


def test_compiled_kernel_uses_no_fused_multiply_add():
    compiled = pytest.importorskip("mmutils.analyzer.compiled")
    x = np.array([[110.4, 124.6, 109.9, 60.9, 127.2, 113.4, 83.9, 117.4]])
    total, n, avg, m2 = (np.zeros(1) for _ in range(4))
    compiled.moments(x, total, n, avg, m2)
    t = c = a = m = fused = 0.0
    for v in x[0]:
        t += v
        c += 1.0
        d = v - a
        dn = d / c
        a += dn
        m += d * (d - dn)  # two roundings
        # what an FMA would give: the exact m + d * (d - dn), rounded once
        fused = float(Fraction(fused) + Fraction(d) * Fraction(d - dn))
    assert fused != m  # the data tells the two apart
    assert [v.hex() for v in (total[0], n[0], avg[0], m2[0])] == [v.hex() for v in (t, c, a, m)]


def test_threshold_switches_mid_stream_and_keeps_results(monkeypatch):
    pytest.importorskip("numba")
    t = _mixed_table(5_000, seed=3)
    monkeypatch.setattr(profile_mod, "COMPILED_MIN_ROWS", 10**12)
    pure = _profile_table(t, 1_000)
    monkeypatch.setattr(profile_mod, "COMPILED_MIN_ROWS", 2_500)
    mixed = _profile_table(t, 1_000)
    # rows seen reach 2,500 with the third chunk: chunks 3-5 are compiled, 1-2 are not
    assert (pure.compiled_rows, mixed.compiled_rows) == (0, 3_000)
    assert mixed.result() == pure.result()
    assert _hex_stats(mixed.result()) == _hex_stats(pure.result())


def test_small_jobs_never_import_numba(tmp_path):
    script = (
        "import sys\n"
        "from mmutils.analyzer.profile import COMPILED_MIN_ROWS, Profiler\n"
        "import pyarrow as pa\n"
        "rows = [str(i % 7) for i in range(2333)]\n"
        "p = Profiler(['a', 'b'])\n"
        "p.update(pa.table({'a': rows, 'b': [r + '.5' for r in rows]}))\n"
        "doc = p.result()\n"
        "print(COMPILED_MIN_ROWS, p.compiled_rows, 'numba' in sys.modules,\n"
        "      doc['features'][1]['numerical_statistics']['sum'])\n"
    )
    out = _run_python(script, tmp_path)
    assert out.split() == ["60000", "0", "False", str(sum(i % 7 + 0.5 for i in range(2333)))]


def test_missing_numba_falls_back_to_the_numpy_path(monkeypatch, caplog):
    t = _mixed_table(3_000, seed=5)
    monkeypatch.setattr(profile_mod, "COMPILED_MIN_ROWS", 10**12)
    want = _profile_table(t, 1_000).result()
    monkeypatch.setattr(profile_mod, "COMPILED_MIN_ROWS", 0)
    monkeypatch.setattr(profile_mod, "_compiled_module", None)
    monkeypatch.delitem(sys.modules, "mmutils.analyzer.compiled", raising=False)
    monkeypatch.setitem(sys.modules, "numba", None)  # "import numba" raises ImportError
    with caplog.at_level(logging.DEBUG, logger="mmutils.analyzer.profile"):
        profiler = _profile_table(t, 1_000)
    assert profiler.compiled_rows == 0
    assert profiler.result() == want
    notes = [r.getMessage() for r in caplog.records if r.name == "mmutils.analyzer.profile"]
    assert len(notes) == 1 and "numba kernels unavailable" in notes[0]


@pytest.mark.parametrize("where", ["read-only folder", "path under a file"])
def test_unwritable_numba_cache_dir_still_profiles(tmp_path, where):
    pytest.importorskip("numba")
    if where == "read-only folder":
        cache = tmp_path / "ro"
        cache.mkdir()
        cache.chmod(0o500)
    else:
        (tmp_path / "file").write_text("")
        cache = tmp_path / "file" / "cache"  # cannot be created, even by root
    script = (
        "import pyarrow as pa\n"
        "from mmutils.analyzer.profile import Profiler\n"
        "col = [str(i % 10) + '.' + str(i % 3) for i in range(70000)]\n"
        "p = Profiler(['a'])\n"
        "p.update(pa.table({'a': col}))\n"
        "s = p.result()['features'][0]['numerical_statistics']\n"
        "print(p.compiled_rows, s['sum'].hex(), s['std_dev'].hex())\n"
    )
    out = _run_python(script, tmp_path, NUMBA_CACHE_DIR=str(cache))
    values = [float(f"{i % 10}.{i % 3}") for i in range(70000)]
    total, _, std = spark_moments(values)
    assert out.split() == ["70000", total.hex(), std.hex()]


def test_compile_without_cache_when_no_cache_location_works():
    compiled = pytest.importorskip("mmutils.analyzer.compiled")
    namespace: dict = {}
    # a function without a source file has no cache location: numba refuses cache=True
    exec(compile("def twice(a):\n    return a * 2.0\n", "<generated>", "exec"), namespace)
    kernel = compiled.compile_kernel(namespace["twice"])
    assert kernel(21.0) == 42.0


def _run_python(script: str, tmp_path, **env) -> str:
    repo = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(repo), **env},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


# -- the fast type classification -----------------------------------------------------------

_DEEQU_PATTERNS = [
    ("fractional", r"(-|\+)? ?\d+((\.\d+)|((?:\.\d+)?[Ee][-+]?\d+))"),
    ("integral", r"(-|\+)? ?\d+"),
    ("boolean", r"(true|false)"),
]


@pytest.mark.parametrize(
    "cells",
    [
        ["1", "22", "333", "0"],
        ["1.5", "22", "0.25", "7"],
        ["1.5", None, "2"],
        ["1.", "2"],
        [".5", "2"],
        ["1.2.3", "4"],
        ["1..2", "4"],
        ["", "1"],
        ["12", "1e5", "3.0"],
        ["-1.5", "+2"],
        ["\u0663", "1"],  # an Arabic-Indic digit is not \d for deequ's (ASCII) patterns
        ["1/2", "3"],
        ["true", "false", "1"],
        ["x.5", "1"],
    ],
)
def test_type_classification_matches_deequ_patterns(cells):
    arr = pa.array(cells, pa.string())
    sliced = pa.array(["junk", *cells], pa.string()).slice(1)  # non-zero offset
    expected = dtypes.TypeCounts(unknown=sum(c is None for c in cells))
    digits = 0
    for c in cells:
        if c is None:
            continue
        digits += c.isascii() and c.isdigit()
        kind = next(
            (k for k, pat in _DEEQU_PATTERNS if re.fullmatch(pat, c, flags=re.ASCII)), "string"
        )
        setattr(expected, kind, getattr(expected, kind) + 1)
    assert dtypes.classify_detailed(arr) == (expected, digits)
    assert dtypes.classify_detailed(sliced) == (expected, digits)


def test_compiled_kernels_load_without_importing_scipy(tmp_path):
    pytest.importorskip("numba")
    script = (
        "import sys\n"
        "import numpy as np\n"
        "import numba\n"
        "from mmutils.analyzer import compiled\n"
        "x = np.array([[1.0, 2.0, np.nan, 4.0]])\n"
        "state = [np.zeros(1) for _ in range(4)]\n"
        "compiled.moments(x, *state)\n"
        "print('scipy.linalg' in sys.modules, *[s[0].hex() for s in state])\n"
        "@numba.njit\n"
        "def cov(a):\n"
        "    return np.cov(a)\n"
        "# the deferred BLAS probe still answers (and imports SciPy) when jitted code asks\n"
        "print(cov(np.array([[1.0, 2.0, 4.0], [2.0, 1.0, 0.0]])).tolist())\n"
    )
    first, second = _run_python(script, tmp_path).splitlines()
    total, n, avg, m2 = 0.0, 0.0, 0.0, 0.0
    for v in (1.0, 2.0, 4.0):
        total += v
        n += 1.0
        d = v - avg
        avg += d / n
        m2 += d * (d - d / n)
    assert first.split() == ["False", total.hex(), n.hex(), avg.hex(), m2.hex()]
    want = np.cov(np.array([[1.0, 2.0, 4.0], [2.0, 1.0, 0.0]])).tolist()
    assert second == str(want)


@pytest.mark.parametrize(
    "odd_chunk",
    [
        ["1.50", "2.5", "3.5"],  # a trailing zero
        ["01.5", "2.5", "3.5"],  # a leading zero
        ["0.30000000000000001", "0.3", "3.5"],  # a longer text of the same double as 0.3
        ["1.25", "2.5", "3.5"],  # two decimals
        ["6553.6", "2.5", "3.5"],  # beyond the bincount
        ["15", "2.5", "3.5"],  # digits and decimals mixed
    ],
)
def test_one_decimal_value_counts_keep_every_text(odd_chunk):
    canonical = ["0.3", "12.5", "0.0", "399.9", "12.5", "7.0"]
    cells = canonical + odd_chunk + canonical[::-1] + ["x", "0.3", "1.5"]
    profiler = Profiler(["c"])
    for start in range(0, len(cells), 3):
        profiler.update(table({"c": cells[start : start + 3]}))
    assert profiler.value_counts(0) == {"x": 1, "0.3": 1, "1.5": 1}  # from the String cell on
    assert profiler.recount_rows() == {0: len(cells) - 3}
    profiler.recount_from([table({"c": cells[:5]}), table({"c": cells[5:]})])
    assert profiler.recount_rows() == {}
    doc = profiler.result()
    buckets = doc["features"][0]["string_statistics"]["distribution"]["categorical"]["buckets"]
    counts: dict[str, int] = {}
    for cell in cells:
        counts[cell] = counts.get(cell, 0) + 1
    want = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    assert buckets == [{"value": v, "count": c} for v, c in want]
    assert doc["features"][0]["string_statistics"]["distinct_count"] == float(len(counts))


def test_classify_plain_reports_decimal_cells_only_when_known():
    assert dtypes.classify_plain(pa.array(["1.5", "22.25", "3"]))[1:] == (1, 2)
    assert dtypes.classify_plain(pa.array(["1.5", None]))[1:] == (0, 0)  # nulls: not known
    assert dtypes.classify_plain(pa.array(["1.5", "1e5"]))[1:] == (0, 0)
