"""The profiler on several threads (column groups) and its compiled plain-number pass.

Each column's statistics depend on that column alone, so column groups profiled apart and put
back in column order must give the one-thread document byte for byte, on the numpy path and on
the compiled one; and the compiled pass over plain cells must return the doubles Arrow's cast
returns, bit for bit, or decline.
"""

from __future__ import annotations

import copy
import json
import pickle
import threading

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from test_analyzer_parallel import _lab_capture

from mmutils.analyzer import column_groups, jsonfmt, parallel, run_monitoring, suggest_baseline
from mmutils.analyzer import profile as profile_mod
from mmutils.analyzer.column_groups import ColumnGroupProfiler, make_profiler, split_columns
from mmutils.analyzer.errors import AnalyzerError
from mmutils.analyzer.kll import SortedSketch
from mmutils.analyzer.profile import Profiler

WORKERS = (1, 2, 3)


def _text(values, missing=None) -> pa.Array:
    arr = pc.cast(pa.array(values), pa.string())
    if missing is None:
        return arr
    return pc.if_else(pa.array(missing), pa.nulls(len(arr), pa.string()), arr)


def _edge_table(n: int, seed: int = 7) -> pa.Table:
    """Every shape the groups and the compiled pass must treat like one profiler."""
    rng = np.random.default_rng(seed)
    late = _text(rng.integers(0, 50, n)).to_pylist()
    late[n - 5] = "n/a"  # turns String in the last chunk
    infinite = _text(np.round(rng.normal(0, 9, n), 3)).to_pylist()
    infinite[n // 3] = "1e400"  # +Infinity for Java's parser
    infinite[n // 2] = None
    wide = rng.integers(0, 10**6, n)
    big = [
        # past 2**53 in digits, more than 22 decimals, leading zeros: the general path's cells
        f"{v}{'9' * 12}" if i % 97 == 0 else f"0{v}.{v:07d}{'1' * (20 if i % 89 == 0 else 0)}"
        for i, v in enumerate(wide.tolist())
    ]
    shapes = ["-0", "+5", "1e5", "- 5", " 7", "007", "7.50", "-0.0", "2E-3"]
    return pa.table(
        {
            "flag": _text(rng.integers(0, 2, n)),
            # one-digit columns of two values (the sketch counts them from parity bits): an
            # odd lower value, a constant, and one whose chunks stop being pairs late on
            "pair_odd": _text(rng.integers(3, 5, n)),
            "constant": pa.array(["7"] * n, pa.string()),
            "pair_late": pa.array(
                [
                    "12" if i == n // 2 else str(5 + (i % 3 if i > 3 * n // 4 else i % 2))
                    for i in range(n)
                ],
                pa.string(),
            ),
            "tenths": _text(np.round(rng.uniform(0, 350, n), 1)),
            "string": pa.array([f"s{i % 13}" for i in range(n)], pa.string()),
            "late_string": pa.array(late, pa.string()),
            "all_null": pa.nulls(n, pa.string()),
            "holes": _text(np.round(rng.exponential(3, n), 2), rng.random(n) < 0.1),
            "infinite": pa.array(infinite, pa.string()),
            "big": pa.array(big, pa.string()),
            # many distinct values, and a String cell at the very end: recounted
            "many": pa.array(
                [f"{i * 7 % 30_000}" if i < n - 1 else "many" for i in range(n)], pa.string()
            ),
            "count": _text(rng.integers(0, 400, n)),
            "negative": _text(np.round(rng.normal(-40, 25, n), 1)),
            "boolean": pa.array(["true", "false"] * (n // 2) + ["true"] * (n % 2), pa.string()),
            # Java-parse shapes: signs, a signed space, exponents, zeros, spaces around
            "shapes": pa.array(
                [shapes[i % len(shapes)] if i % 5 == 0 else str(i % 9) for i in range(n)],
                pa.string(),
            ),
            # plain for the first half (kernel), then with holes (general path)
            "holes_late": pa.array(
                [None if i > n // 2 and i % 4 == 0 else f"{i % 300}.{i % 7}" for i in range(n)],
                pa.string(),
            ),
        }
    )


@pytest.fixture(scope="module")
def edge() -> pa.Table:
    return _edge_table(40_000)


def _run(profiler, t: pa.Table, chunk_rows: int):
    with profiler:
        for start in range(0, t.num_rows, chunk_rows):
            profiler.update(t.slice(start, chunk_rows))
        if profiler.recount_rows():  # read again, in other chunks (the counts do not care)
            again = max(1, chunk_rows // 3 + 1)
            profiler.recount_from(t.slice(start, again) for start in range(0, t.num_rows, again))
        doc = profiler.result()
        extra = (
            profiler.item_count,
            profiler.compiled_rows,
            [profiler.inferred_type(j) for j in range(t.num_columns)],
            [profiler.type_counts(j) for j in range(t.num_columns)],
            [profiler.value_counts(j) for j in range(t.num_columns)],
            [
                None if s is None else [lv.tolist() for lv in s.levels]
                for s in (profiler.sketch(name) for name in t.column_names)
            ],
        )
    return jsonfmt.dumps(doc), extra


@pytest.fixture(params=[False, True], ids=["numpy", "compiled"])
def compiled(request, monkeypatch) -> bool:
    """Profile on the numpy path, or on the compiled one from the first row."""
    if request.param:
        pytest.importorskip("numba")
    monkeypatch.setattr(profile_mod, "COMPILED_MIN_ROWS", 0 if request.param else 10**12)
    return request.param


def test_groups_give_the_one_thread_document(edge, compiled):
    want = _run(Profiler(edge.column_names), edge, 6_000)
    for workers in (2, 3, 5, edge.num_columns):
        profiler = make_profiler(edge.column_names, workers)
        assert isinstance(profiler, ColumnGroupProfiler)
        got = _run(profiler, edge, 6_000)
        assert got[0] == want[0], f"statistics differ with {workers} groups"
        assert got[1] == want[1]
    doc = want[0]
    assert '"inferred_type" : "String"' in doc and '"inferred_type" : "Unknown"' in doc
    types = dict(zip(edge.column_names, want[1][2], strict=True))
    assert types["shapes"] == types["holes_late"] == types["big"] == "Fractional"
    assert types["late_string"] == types["boolean"] == "String"
    assert want[1][1] == (edge.num_rows if compiled else 0)  # compiled_rows


def test_compiled_path_matches_numpy_path_on_the_edge_cases(edge, monkeypatch):
    pytest.importorskip("numba")
    monkeypatch.setattr(profile_mod, "COMPILED_MIN_ROWS", 10**12)
    reference = _run(Profiler(edge.column_names), edge, 6_000)
    monkeypatch.setattr(profile_mod, "COMPILED_MIN_ROWS", 0)
    compiled = _run(Profiler(edge.column_names), edge, 6_000)
    assert compiled[0] == reference[0]
    assert compiled[1][2:] == reference[1][2:]
    assert "Infinity" in compiled[0]  # the infinite cell took the general path


def test_compiled_path_fills_one_buffer_for_every_chunk(edge, monkeypatch):
    """Chunks of changing sizes share the values buffers: the sketches copy what they keep.

    Were a sketch to keep a view of a chunk's values while the next chunk overwrote them, its
    quantiles would differ from the numpy path's, which copies nothing into a shared buffer.
    """
    pytest.importorskip("numba")
    sizes = [6_000, 2_500, 9_000, 1, 7_777, 4_000]
    bounds = np.cumsum([0, *sizes, edge.num_rows - sum(sizes)])
    chunks = [edge.slice(a, b - a) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    def run(min_rows):
        monkeypatch.setattr(profile_mod, "COMPILED_MIN_ROWS", min_rows)
        profiler = Profiler(edge.column_names)
        for chunk in chunks:
            profiler.update(chunk)
            for batch, _ in profiler._sketches.values():
                assert not any(batch.shares_memory(buf) for buf in profiler._buffers)
        return profiler, jsonfmt.dumps(profiler.result())

    reference = run(10**12)[1]
    taken = []  # every buffer allocated (the profiler's list keeps only the last few)
    plain_pages = profile_mod.plain_pages
    monkeypatch.setattr(
        profile_mod, "plain_pages", lambda count: taken.append(count) or plain_pages(count)
    )
    profiler, doc = run(0)
    assert doc == reference
    # a buffer is taken only by a chunk larger than any before (6,000, 9,000, then the rest)
    assert len(taken) == 3


def test_groups_really_run_on_their_own_threads(edge, monkeypatch):
    seen = set()
    update = Profiler.update

    def spy(self, chunk):
        seen.add(threading.current_thread().name)
        return update(self, chunk)

    monkeypatch.setattr(Profiler, "update", spy)
    before = threading.active_count()
    _run(make_profiler(edge.column_names, 2), edge.slice(0, 5_000), 1_000)
    assert len(seen) == 2 and all(name.startswith("mmlab-profile-") for name in seen)
    assert threading.active_count() == before  # closed: no thread outlives the profiler


def test_split_is_balanced_and_deterministic():
    costs = [10, 1, 1, 1, 7, 3, 3, 2]
    groups = split_columns(costs, 3)
    assert sorted(j for g in groups for j in g) == list(range(len(costs)))
    assert [sum(costs[j] for j in g) for g in groups] == [10, 9, 9]
    assert groups == split_columns(costs, 3)
    assert split_columns([5], 4) == [[0]]
    assert make_profiler(["a"], 4).__class__ is Profiler
    assert make_profiler(["a", "b"], 1).__class__ is Profiler


def test_errors_are_raised_as_with_one_thread():
    names = ["a", "b", "c"]
    messages = set()
    for workers in WORKERS:
        profiler = make_profiler(names, workers)
        with profiler, pytest.raises(AnalyzerError) as err:
            profiler.update(pa.table({"a": ["1"], "b": ["2"]}))
        messages.add(str(err.value))
    assert messages == {"chunk has 2 columns, expected 3"}
    bad = pa.table({"a": ["1"], "b": pa.array([[1]], pa.list_(pa.int64())), "c": ["x"]})
    messages = set()
    for workers in WORKERS:
        profiler = make_profiler(names, workers)
        with profiler, pytest.raises(AnalyzerError) as err:
            profiler.update(bad)
        messages.add(str(err.value).split(":")[0])
    assert messages == {"column 'b' cannot be read as strings"}


def test_a_failing_group_stops_and_reports(monkeypatch):
    names = ["a", "b", "c", "d"]
    update = Profiler.update

    def failing(self, chunk):
        if "c" in self.names and self.item_count >= 3:
            raise RuntimeError("group c broke")
        return update(self, chunk)

    monkeypatch.setattr(Profiler, "update", failing)
    profiler = make_profiler(names, 2)
    chunk = pa.table({n: ["1"] for n in names})
    with profiler, pytest.raises(RuntimeError, match="group c broke"):
        for _ in range(10):
            profiler.update(chunk)
        profiler.result()


def test_groups_build_their_features_on_their_threads(monkeypatch, edge):
    built_on = []
    result = Profiler.result

    def recording(self, *args):
        built_on.append(threading.current_thread().name)
        return result(self, *args)

    monkeypatch.setattr(Profiler, "result", recording)
    with make_profiler(edge.column_names, 2) as profiler:
        profiler.update(edge)
        doc = profiler.result()
    assert sorted(built_on) == ["mmlab-profile-0_0", "mmlab-profile-1_0"]
    profiler = make_profiler(edge.column_names, 2)
    profiler.update(edge)
    assert jsonfmt.dumps(doc) == jsonfmt.dumps(profiler.result())
    profiler.close()
    # after close the groups' states are still readable, built on the caller's thread
    built_on.clear()
    assert jsonfmt.dumps(profiler.result()) == jsonfmt.dumps(doc)
    assert built_on == [threading.current_thread().name] * 2
    one_thread = Profiler(edge.column_names)
    one_thread.update(edge)
    assert jsonfmt.dumps(one_thread.result()) == jsonfmt.dumps(doc)


def test_groups_format_their_sketch_texts_on_their_threads(monkeypatch, edge):
    formatted_on = []
    add = jsonfmt.ArrayTexts.add

    def recording(self, value):
        formatted_on.append(threading.current_thread().name)
        return add(self, value)

    monkeypatch.setattr(jsonfmt.ArrayTexts, "add", recording)
    for profiler in (make_profiler(edge.column_names, 2), Profiler(edge.column_names)):
        with profiler:
            profiler.update(edge)
            texts = jsonfmt.ArrayTexts()
            doc = profiler.result(sketch_arrays=True, array_texts=texts)
        levels = [
            level
            for feature in doc["features"]
            if "numerical_statistics" in feature
            for level in feature["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"]
            if len(level)
        ]
        assert len(levels) > 20 and all(texts.text(level) for level in levels)
        assert jsonfmt.dumps(doc, texts) == jsonfmt.dumps(doc)
    assert sorted(formatted_on[:2]) == ["mmlab-profile-0_0", "mmlab-profile-1_0"]
    assert formatted_on[2:] == ["MainThread"]


def test_empty_profiler_result():
    profiler = make_profiler(["a", "b"], 2)
    with profiler:
        profiler.update(pa.table({"a": pa.array([], pa.string()), "b": pa.array([], pa.string())}))
        assert profiler.result() == Profiler(["a", "b"]).result()
        assert profiler.compiled_rows == 0


# -- the compiled plain-number pass ------------------------------------------------------------


def _plain(column):
    """The compiled pass over one column: ``(done, values)``; ``done`` is None when the
    column is not plain, else ``(converted, decimal cells, min, max)``."""
    compiled = pytest.importorskip("mmutils.analyzer.compiled")
    out = np.full((1, len(column)), np.nan)
    status, decimals, lo, hi, _ = profile_mod._convert_plain(
        compiled, [column], np.array([0]), out
    )[0].tolist()
    if status == compiled.NOT_PLAIN:
        return None, out[0]
    return (status == compiled.EXACT, int(decimals), lo, hi), out[0]


def _kernel(cells: list[str]):
    return _plain(pa.array(cells, pa.string()))


def test_plain_numbers_are_bit_exact_with_arrow_cast():
    rng = np.random.default_rng(1)
    cells = [
        f"{int(m)}.{int(f):0{w}d}"
        for m, f, w in zip(
            rng.integers(0, 10**6, 20_000),
            rng.integers(0, 10**6, 20_000),
            rng.integers(6, 10, 20_000),
            strict=True,
        )
    ]
    cells += [str(v) for v in rng.integers(0, 2**53, 5_000)]
    cells += ["0", "00", "0.0", "007.50", "9007199254740991", "0.0000000000000000000001"]
    cells += ["4.35", "0.1", "0.3", "123456789012.345", "0." + "9" * 15]
    done, out = _kernel(cells)
    assert done is not None
    want = pc.cast(pa.array(cells), pa.float64()).to_numpy()
    assert out.view(np.int64).tolist() == want.view(np.int64).tolist()
    converted, decimals, lo, hi = done
    assert converted
    assert decimals == sum("." in c for c in cells)
    assert (lo, hi) == (want.min(), want.max())


@pytest.mark.parametrize(
    "cell", ["1.", ".5", "1.2.3", "", ".", "-1", "+1", " 1", "1 ", "1e5", "NaN", "x", "1,5"]
)
def test_plain_numbers_decline_other_shapes(cell):
    done, _ = _kernel(["1", "2.5", cell, "3"])
    assert done is None


@pytest.mark.parametrize(
    ("cell", "decimals"),
    [
        ("9007199254740992", 1),  # 2**53: not exact as an integer mantissa
        ("12345678901234567890123", 1),  # long enough to overflow an int64
        ("0." + "0" * 22 + "1", 2),  # 23 decimals
        ("1." + "0" * 21 + "1", 2),  # 22 decimals, but a mantissa past 2**53
        ("0.40389136205578846", 2),  # the lab's prediction column: 17 digits
    ],
)
def test_plain_numbers_classify_but_leave_inexact_values_to_the_cast(cell, decimals):
    done, _ = _kernel(["1", "2.5", cell, "3"])
    assert done is not None
    converted, got_decimals, _, _ = done
    assert (converted, got_decimals) == (False, decimals)


def test_plain_numbers_decline_nulls_and_handle_slices():
    assert _kernel(["1", None, "2"])[0] is None
    arr = pa.array(["x", "12.5", "3", "y"], pa.string()).slice(1, 2)
    done, out = _plain(arr)
    assert done == (True, 1, 3.0, 12.5)
    assert out.tolist() == [12.5, 3.0]
    # pieces: sliced, of several files' buffers, one of them empty
    column = pa.chunked_array(
        [arr, pa.array([], pa.string()), pa.array(["y", "7", "0.25"]).slice(1)]
    )
    done, out = _plain(column)
    assert done == (True, 2, 0.25, 12.5)
    assert out.tolist() == [12.5, 3.0, 7.0, 0.25]
    # a null in the last piece: the whole column is left to the general path
    done, _ = _plain(pa.chunked_array([arr, pa.array(["1", None])]))
    assert done is None


def test_plain_pass_writes_the_parity_bits_of_one_digit_columns():
    compiled = pytest.importorskip("mmutils.analyzer.compiled")
    rng = np.random.default_rng(5)
    cuts = [0, 3, 70, 70, 200, 1_000, 1_130]  # pieces starting anywhere in a word
    digits = rng.integers(0, 10, cuts[-1])
    one_digit = pa.chunked_array(
        [_text(digits[a:b]) for a, b in zip(cuts[:-1], cuts[1:], strict=True)], pa.string()
    )
    later_two = pa.chunked_array([_text(digits[:500]), _text([10] * 630)], pa.string())
    tenths = _text(np.round(rng.uniform(0, 9, cuts[-1]), 1))
    columns = [one_digit, later_two, tenths, pa.array(["1", None] * 565, pa.string())]
    x = np.zeros((4, cuts[-1]))
    bits = np.zeros((4, 18), np.uint64)
    results = profile_mod._convert_plain(compiled, columns, np.arange(4), x, bits)
    assert results[:, 0].tolist() == [compiled.EXACT] * 3 + [compiled.NOT_PLAIN]
    assert results[:, 4].tolist() == [1.0, 0.0, 0.0, 0.0]  # bits whole for the first only
    parity = np.unpackbits(bits[0].view(np.uint8), bitorder="little")
    assert parity[: cuts[-1]].tolist() == (digits & 1).tolist()
    assert not parity[cuts[-1] :].any()
    assert x[0].tolist() == digits.tolist()
    without = profile_mod._convert_plain(compiled, columns, np.arange(4), x)
    assert without[:, 4].tolist() == [0.0] * 4
    assert (without[:, :4] == results[:, :4]).all()


def test_one_digit_pairs_are_told_to_the_sketches(edge, monkeypatch):
    # the compiled update hears of the pair columns, and the document is the numpy path's
    pytest.importorskip("numba")
    monkeypatch.setattr(profile_mod, "COMPILED_MIN_ROWS", 10**12)
    reference = _run(Profiler(edge.column_names), edge, 6_000)
    kll_compiled = pytest.importorskip("mmutils.analyzer.kll_compiled")
    told: list[list[int]] = []

    def recording(batch, block, copy, pairs=None):
        told.append([] if pairs is None else pairs[0].tolist())
        return kll_compiled.update_batch(batch, block, copy, pairs)

    monkeypatch.setattr(profile_mod, "_compactor", recording)
    monkeypatch.setattr(profile_mod, "COMPILED_MIN_ROWS", 0)
    cut = _pieces(edge, [3, 7_000, 7_000, 19_999, 33_001])
    got = _run(Profiler(edge.column_names), cut, 6_000)
    assert got[0] == reference[0]
    assert got[1][2:] == reference[1][2:]
    lows = sorted({low for update in told for low in update if low >= 0})
    assert lows == [0, 3, 5, 7]  # flag, pair_odd, pair_late (early chunks), constant
    pair_late = [update.count(5) for update in told if update]
    assert 0 in pair_late and 1 in pair_late  # told while a pair, not once it is not


def test_compiled_pass_gives_the_value_counts_of_the_numpy_path(monkeypatch):
    pytest.importorskip("numba")
    rng = np.random.default_rng(5)
    n = 30_000
    t = pa.table(
        {
            "flag": _text(rng.integers(0, 2, n)),
            "digit": _text(rng.integers(0, 10, n)),
            "count": _text(rng.integers(0, 400, n)),
            "tenths": _text(np.round(rng.uniform(0, 99, n), 1)),
            "mixed": pa.array([str(i % 50) if i % 3 else f"{i % 40}.5" for i in range(n)]),
            "leading": pa.array(["07" if i == n - 2 else str(i % 9) for i in range(n)]),
            "late": pa.array(["x" if i == n - 1 else f"{i % 70}.{i % 10}" for i in range(n)]),
        }
    )
    monkeypatch.setattr(profile_mod, "COMPILED_MIN_ROWS", 10**12)
    want = _run(Profiler(t.column_names), t, 7_000)
    monkeypatch.setattr(profile_mod, "COMPILED_MIN_ROWS", 0)
    got = _run(Profiler(t.column_names), _pieces(t, [5, 12_000]), 7_000)
    assert got[0] == want[0]
    assert got[1][2:] == want[1][2:]  # types, type counts, value counts, sketches
    assert got[1][4][6] == want[1][4][6] and len(got[1][4][6]) > 50  # "late": String


# -- the entry points --------------------------------------------------------------------------


def _bytes(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_compiled_groups_identical_for_any_worker_count_on_the_lab_data(
    test_data_dir, tmp_path, monkeypatch
):
    """Baseline and monitoring files on the lab's data, numpy and compiled, workers 1-3."""
    pytest.importorskip("numba")
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    train = test_data_dir / "training-dataset-with-header.csv"
    rows = (test_data_dir / "validation.csv").read_text().splitlines()
    window = _lab_capture(tmp_path / "capture", rows, files=6, per_file=97)
    runs = {}
    for threshold in (10**12, 0):
        monkeypatch.setattr(profile_mod, "COMPILED_MIN_ROWS", threshold)
        for workers in WORKERS:
            base = tmp_path / f"base{threshold}-{workers}"
            mon = tmp_path / f"mon{threshold}-{workers}"
            suggest_baseline(train, output_dir=base, workers=workers)
            run_monitoring(
                window,
                base / "statistics.json",
                base / "constraints.json",
                output_dir=mon,
                workers=workers,
            )
            runs[threshold, workers] = (_bytes(base), _bytes(mon))
    first = runs[10**12, 1]
    assert set(first[1]) == {"statistics.json", "constraints.json", "constraint_violations.json"}
    for key, files in runs.items():
        assert files == first, f"files differ for (threshold, workers) = {key}"


@pytest.mark.parametrize("workers", WORKERS)
def test_sketch_arrays_form_writes_the_same_document(edge, workers):
    """Levels as numpy arrays (what monitoring writes and checks) or as lists: same bytes."""
    with make_profiler(edge.column_names, workers, compiled_min_rows=0) as profiler:
        for start in range(0, edge.num_rows, 7_000):
            profiler.update(edge.slice(start, 7_000))
        views = []
        arrays = profiler.result(sketch_arrays=True, sorted_sketches=views)
        lists = profiler.result()
    # one sorted sketch per feature, the one its buckets came from (None: nothing sketched)
    assert len(views) == len(arrays["features"])
    for feature, view in zip(arrays["features"], views, strict=True):
        numeric = feature.get("numerical_statistics")
        if numeric is None or numeric["common"]["num_present"] == 0:
            assert view is None
            continue
        kll = numeric["distribution"]["kll"]
        expected = SortedSketch.from_levels(kll["sketch"]["data"])
        for field in ("items", "ranks", "steps"):
            assert np.array_equal(getattr(view, field), getattr(expected, field))
        assert view.buckets(kll["buckets"][0]["lower_bound"], kll["buckets"][-1]["upper_bound"])
    assert any(v is None for v in views) and any(v is not None for v in views)
    levels = [
        level
        for feature in arrays["features"]
        if "numerical_statistics" in feature
        for level in feature["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"]
    ]
    assert levels and all(isinstance(v, np.ndarray) and v.dtype == np.float64 for v in levels)
    assert jsonfmt.dumps(arrays) == jsonfmt.dumps(lists)
    assert profile_mod.sketch_levels_as_lists(arrays) is arrays
    assert json.dumps(arrays) == json.dumps(lists)  # plain lists again (NaN != NaN for ==)


def test_monitoring_result_statistics_are_the_written_document(test_data_dir, tmp_path):
    """The result's statistics hold lists (json-serialisable), equal to statistics.json."""
    train = test_data_dir / "training-dataset-with-header.csv"
    rows = (test_data_dir / "validation.csv").read_text().splitlines()
    window = _lab_capture(tmp_path / "capture", rows, files=2, per_file=150)
    suggest_baseline(train, output_dir=tmp_path / "base")
    result = run_monitoring(
        window,
        tmp_path / "base" / "statistics.json",
        tmp_path / "base" / "constraints.json",
        output_dir=tmp_path / "mon",
        workers=2,
    )
    written = (tmp_path / "mon" / "statistics.json").read_text()
    # the lists are made when the statistics are first read, not by the run itself
    assert result.item_count == 300 and "300 records, 70 features" in str(result)
    assert "statistics" not in vars(result)
    copied = pickle.loads(pickle.dumps(result))
    assert json.loads(json.dumps(result.statistics)) == json.loads(written) == result.statistics
    assert "statistics" in vars(result) and copied == result and copy.copy(copied) == result
    assert jsonfmt.dumps(result.statistics) == written
    assert result.drift and result.files == [
        tmp_path / "mon" / name
        for name in ("statistics.json", "constraints.json", "constraint_violations.json")
    ]


def test_chunks_in_flight_are_bounded(monkeypatch):
    """A slow group holds back the caller after CHUNKS_IN_FLIGHT chunks, not later."""
    release = threading.Event()
    update = Profiler.update

    def slow(self, chunk):
        if "a" in self.names:
            release.wait(5)
        return update(self, chunk)

    monkeypatch.setattr(Profiler, "update", slow)
    profiler = make_profiler(["a", "b"], 2)
    chunk = pa.table({"a": ["1"], "b": ["2"]})
    returned = []

    def feed():
        for i in range(column_groups.CHUNKS_IN_FLIGHT + 3):
            profiler.update(chunk)
            returned.append(i)

    with profiler:
        feeder = threading.Thread(target=feed)
        feeder.start()
        for _ in range(500):  # the first CHUNKS_IN_FLIGHT updates return at once
            if len(returned) >= column_groups.CHUNKS_IN_FLIGHT:
                break
            threading.Event().wait(0.01)
        feeder.join(0.2)
        assert len(returned) == column_groups.CHUNKS_IN_FLIGHT
        release.set()
        feeder.join()
        assert profiler.result()["dataset"]["item_count"] == column_groups.CHUNKS_IN_FLIGHT + 3


def test_compiled_from_the_first_row_gives_the_same_document(edge):
    pytest.importorskip("numba")
    want = _run(Profiler(edge.column_names), edge, 6_000)
    for workers in (1, 2):
        got = _run(make_profiler(edge.column_names, workers, compiled_min_rows=0), edge, 6_000)
        assert got[0] == want[0]
        assert got[1][1] == edge.num_rows  # every row through the kernels


def test_large_inputs_use_the_kernels_from_the_first_row(test_data_dir, tmp_path, monkeypatch):
    from mmutils.analyzer import baseline, monitor

    seen = []

    def spy(module):
        make = module.make_profiler

        def recording(names, workers=1, compiled_min_rows=None):
            seen.append(compiled_min_rows)
            return make(names, workers, compiled_min_rows)

        monkeypatch.setattr(module, "make_profiler", recording)

    spy(baseline)
    spy(monitor)
    train = test_data_dir / "training-dataset-with-header.csv"
    small = suggest_baseline(train, workers=1)
    size = train.stat().st_size
    monkeypatch.setattr(baseline, "COMPILED_INPUT_BYTES", size)
    monkeypatch.setattr(monitor, "COMPILED_INPUT_BYTES", size)
    large = suggest_baseline(train, workers=1)
    assert seen == [None, 0]
    assert jsonfmt.dumps(large.statistics) == jsonfmt.dumps(small.statistics)
    stats, constraints = small.statistics, small.constraints
    run_monitoring(train, stats, constraints, workers=1)
    # a window reads only part of a capture tree: its size says nothing, no hint
    rows = (test_data_dir / "validation.csv").read_text().splitlines()
    window = _lab_capture(tmp_path / "capture", rows, files=2, per_file=97)
    monkeypatch.setattr(monitor, "COMPILED_INPUT_BYTES", 1)
    run_monitoring(
        window,
        stats,
        constraints,
        start_time="2024-01-01T00:00:00Z",
        end_time="2024-01-01T01:00:00Z",
    )
    assert seen == [None, 0, 0, None]


def test_warm_kernels_loads_every_profiler_kernel_before_a_job():
    # the emulator's fork server calls this so that forked jobs do not load machine code
    from mmutils.analyzer import profile

    assert profile.warm_kernels() is True
    from mmutils.analyzer import compiled

    for kernel in (compiled.moments, compiled.plain_chunk):  # the kernels profile.py calls
        assert kernel.signatures, kernel


def _pieces(t: pa.Table, cuts: list[int]) -> pa.Table:
    """``t`` with every column in pieces cut at ``cuts`` (an empty piece included)."""
    bounds = [0, *cuts, t.num_rows]
    columns = [
        pa.chunked_array(
            [
                t.column(j).slice(a, b - a).combine_chunks()
                for a, b in zip(bounds[:-1], bounds[1:], strict=True)
            ],
            pa.string(),
        )
        for j in range(t.num_columns)
    ]
    return pa.Table.from_arrays(columns, names=t.column_names)


def test_columns_in_pieces_give_the_document_of_whole_columns(edge, compiled):
    # a capture window's chunk joins several files' columns without copying them
    want = _run(Profiler(edge.column_names), edge, 20_000)
    cut = _pieces(edge, [3, 7_000, 7_000, 19_999, 33_001])
    assert cut.column(0).num_chunks == 6
    for profiler in (Profiler(edge.column_names), make_profiler(edge.column_names, 3)):
        assert _run(profiler, cut, 20_000) == want


@pytest.mark.parametrize("chunk_rows", [4_000, 40_000])
def test_a_column_turning_string_late_counts_every_value(monkeypatch, chunk_rows):
    # model scores, every cell distinct: numeric columns count no values, and the one that
    # turns String three cells from the end counts its earlier rows from the data read again
    pytest.importorskip("numba")
    monkeypatch.setattr(profile_mod, "COMPILED_MIN_ROWS", 0)
    n = 42_000
    scores = [f"0.{i * 7919 % 10**7:07d}{i % 10}" for i in range(n)]
    turning = list(scores)
    turning[-3] = "high"
    t = pa.table(
        {
            "score": pa.array(scores, pa.string()),
            "turning": pa.array(turning, pa.string()),
            "with_holes": _text(np.arange(n) * 3 / 7.0, np.arange(n) % 5 == 0),
        }
    )
    for profiler in (Profiler(t.column_names), make_profiler(t.column_names, 3)):
        with profiler:
            for start in range(0, n, chunk_rows):
                profiler.update(t.slice(start, chunk_rows))
            assert profiler.value_counts(0) is None and profiler.value_counts(2) is None
            # the chunk holding "high" is counted; the rows before it are to be read again
            assert profiler.recount_rows() == {1: (n - 3) // chunk_rows * chunk_rows}
            with pytest.raises(AnalyzerError, match="read again to count values has 5000 rows"):
                profiler.recount_from([t.slice(0, 5_000)])  # fewer rows than the first time
    doc, extra = _run(Profiler(t.column_names), t, chunk_rows)
    want = {}
    for cell in turning:
        want[cell] = want.get(cell, 0) + 1
    assert extra[4] == [None, want, None]
    assert f'"distinct_count" : {float(len(want))}' in doc
    reference, _ = _run(make_profiler(t.column_names, 2), t, 1_000)
    assert doc == reference
