"""Workers: the analyzer's files are byte-identical for any worker count (issue 14).

Threads only parse ahead; the profiler takes the chunks in row order, so every output byte,
every chunk boundary and every error message must be the same with 1, 2 or 3 workers.
"""

from __future__ import annotations

import base64
import gc
import json
import threading
import weakref
from pathlib import Path

import pytest
from test_analyzer_monitor_conformance import PREDICTION, write_window

from mmutils.analyzer import capture_reader, parallel, run_monitoring, suggest_baseline
from mmutils.analyzer.capture_reader import read_capture
from mmutils.analyzer.errors import AnalyzerError
from mmutils.cli import main

WORKERS = (1, 2, 3)
OUTPUTS = ("statistics.json", "constraints.json", "constraint_violations.json")


@pytest.fixture(autouse=True)
def _threads_even_for_small_inputs(monkeypatch):
    """The test data is small: make the analyzer use its threads anyway."""
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)


def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _same_for_all_workers(run) -> dict[str, bytes]:
    """Run ``run(workers, out_dir)`` for every worker count; assert identical files."""
    results = {}
    for workers in WORKERS:
        results[workers] = _bytes(run(workers))
    first = results[WORKERS[0]]
    assert first, "nothing was written"
    for workers, files in results.items():
        assert files.keys() == first.keys()
        for name in first:
            assert files[name] == first[name], f"{name} differs with workers={workers}"
    return first


# -- conformance data ------------------------------------------------------------------------


def test_conformance_baseline_identical_for_any_worker_count(conformance_dir, tmp_path):
    data = conformance_dir / "data" / "training-dataset-with-header.csv"

    def run(workers):
        out = tmp_path / f"w{workers}"
        suggest_baseline(data, output_dir=out, workers=workers)
        return out

    files = _same_for_all_workers(run)
    stats = json.loads(files["statistics.json"])
    assert stats["dataset"]["item_count"] == 2333
    assert len(stats["features"]) == 70


def test_conformance_monitoring_identical_for_any_worker_count(conformance_dir, tmp_path):
    traffic = (conformance_dir / "data" / "test-dataset-input-cols.csv").read_text().splitlines()
    window = write_window(tmp_path / "capture", traffic, 1977, 7)  # 33 files of 60 records
    stats = conformance_dir / "derived" / "intro_baseline_statistics.RECONSTRUCTED_70_features.json"
    constraints = conformance_dir / "real" / "intro_baseline_constraints.REAL.json"

    def run(workers):
        out = tmp_path / f"w{workers}"
        run_monitoring(window, stats, constraints, output_dir=out, workers=workers)
        return out

    files = _same_for_all_workers(run)
    assert set(OUTPUTS) <= set(files)
    violations = json.loads(files["constraint_violations.json"])["violations"]
    assert len(violations) == 60  # the real run's count (test_analyzer_monitor_conformance)
    churn = json.loads(files["statistics.json"])["features"][0]
    assert churn["numerical_statistics"]["min"] == float(PREDICTION)


# -- the lab's data --------------------------------------------------------------------------


def _lab_capture(root: Path, rows: list[str], files: int, per_file: int) -> Path:
    hour = root / "ep" / "AllTraffic" / "2024" / "01" / "01" / "00"
    hour.mkdir(parents=True)
    for f in range(files):
        lines = []
        for k in range(per_file):
            i = f * per_file + k
            row = rows[i % len(rows)]
            label, features = row.split(",", 1)
            rec = {
                "captureData": {
                    "endpointInput": {
                        "observedContentType": "text/csv",
                        "mode": "INPUT",
                        "data": features,
                        "encoding": "CSV",
                    },
                    "endpointOutput": {
                        "observedContentType": "text/csv; charset=utf-8",
                        "mode": "OUTPUT",
                        "data": f"0.{(i * 7919) % 10000:04d}",
                        "encoding": "CSV",
                    },
                },
                "eventMetadata": {"eventId": str(i), "inferenceTime": "2024-01-01T00:00:00Z"},
                "eventVersion": "0",
            }
            lines.append(json.dumps(rec))
        (hour / f"{f:02d}-00-000-{f:04d}.jsonl").write_text("\n".join(lines) + "\n")
    return root


def test_lab_baseline_and_monitoring_identical_for_any_worker_count(test_data_dir, tmp_path):
    train = test_data_dir / "training-dataset-with-header.csv"

    def base(workers):
        out = tmp_path / f"base{workers}"
        suggest_baseline(train, output_dir=out, workers=workers)
        return out

    _same_for_all_workers(base)
    rows = (test_data_dir / "validation.csv").read_text().splitlines()
    window = _lab_capture(tmp_path / "capture", rows, files=12, per_file=97)

    def monitor(workers):
        out = tmp_path / f"mon{workers}"
        run_monitoring(
            window,
            tmp_path / "base1" / "statistics.json",
            tmp_path / "base1" / "constraints.json",
            output_dir=out,
            workers=workers,
            publish_cloudwatch_metrics=True,
            endpoint_name="ep",
            schedule_name="s",
            end_time="2024-01-01T01:00:00Z",
        )
        return out

    files = _same_for_all_workers(monitor)
    assert json.loads(files["statistics.json"])["dataset"]["item_count"] == 12 * 97
    metrics = {
        p.read_bytes() for w in WORKERS for p in (tmp_path / f"mon{w}" / "metrics").iterdir()
    }
    assert len(metrics) == 1  # the CloudWatch records too


# -- edge cases: chunks, slow path, errors ---------------------------------------------------


def _event(data: str, encoding: str, ctype: str = "text/csv") -> dict:
    return {"observedContentType": ctype, "mode": "INPUT", "data": data, "encoding": encoding}


def _line(inp: str, out: str, encoding: str = "CSV") -> str:
    if encoding == "BASE64":
        inp, out = (base64.b64encode(v.encode()).decode() for v in (inp, out))
    rec = {
        "captureData": {
            "endpointInput": _event(inp, encoding),
            "endpointOutput": _event(out, encoding),
        },
        "eventMetadata": {"eventId": "e", "inferenceTime": "2024-01-01T00:00:00Z"},
        "eventVersion": "0",
    }
    return json.dumps(rec)


def _mixed_window(root: Path) -> Path:
    """Files of CSV, BASE64 and multi-row payloads, an empty file, a blank-only file."""
    root.mkdir(parents=True)
    n = 0
    for f in range(9):
        lines = []
        for k in range(13 + f):
            n += 1
            enc = "BASE64" if f % 3 == 1 else "CSV"
            if f == 5 and k == 2:  # a two-row payload on both sides
                lines.append(_line(f"{n},a\n{n + 1},b", "0.5\n0.25"))
                continue
            lines.append(_line(f"{n},{'x' if n % 11 == 0 else n * 3}", f"{n / 7:.6f}", enc))
        (root / f"f{f:02d}.jsonl").write_text("\n".join(lines) + "\n")
    (root / "f03a.jsonl").write_text("")
    (root / "f06a.jsonl").write_text("\n\n")
    return root


@pytest.mark.parametrize("chunk_rows", [1, 7, 64, 10_000])
def test_chunks_are_the_same_for_any_worker_count(tmp_path, chunk_rows):
    window = _mixed_window(tmp_path / "w")
    runs = {}
    for workers in WORKERS:
        ds = read_capture(window, names=["p", "a", "b"], chunk_rows=chunk_rows, workers=workers)
        runs[workers] = [t.to_pydict() for t in ds.chunks]
    assert runs[1]
    assert runs[2] == runs[1] and runs[3] == runs[1]
    assert sum(len(c["p"]) for c in runs[1]) == sum(13 + f for f in range(9)) + 1


@pytest.mark.parametrize("workers", [1, 2])
def test_a_chunk_handed_on_is_not_kept_by_the_reader(tmp_path, workers):
    # the first chunk is read ahead (it names the columns); once the consumer drops it,
    # nothing of the reader may hold it: its columns' recycled buffers serve later files
    window = _mixed_window(tmp_path / "w")
    ds = read_capture(window, names=["p", "a", "b"], chunk_rows=7, workers=workers)
    chunks = iter(ds.chunks)
    first = weakref.ref(next(chunks))
    second = next(chunks)
    gc.collect()
    assert first() is None and second.num_rows == 7
    assert sum(c.num_rows for c in chunks) == sum(13 + f for f in range(9)) + 1 - 14


def test_head_then_keeps_no_item_it_handed_on():
    class Item:
        pass

    head = [Item(), Item()]
    refs = [weakref.ref(item) for item in head]
    items = parallel.head_then(head, iter([3]))
    next(items)
    assert refs[0]() is None and refs[1]() is not None  # the consumer dropped the first
    next(items)
    assert refs[1]() is None and head == [] and list(items) == [3]


def test_large_files_streamed_in_order(tmp_path, monkeypatch):
    window = _mixed_window(tmp_path / "w")
    one = [t.to_pydict() for t in read_capture(window, chunk_rows=5, workers=1).chunks]
    monkeypatch.setattr(capture_reader, "PARALLEL_FILE_BYTES", 1500)  # some files "large"
    two = [t.to_pydict() for t in read_capture(window, chunk_rows=5, workers=2).chunks]
    assert two == one


def _errors(window: Path) -> set[str]:
    messages = set()
    for workers in WORKERS:
        with pytest.raises(AnalyzerError) as err:
            for _ in read_capture(window, chunk_rows=4, workers=workers).chunks:
                pass
        messages.add(str(err.value))
    return messages


def test_malformed_line_in_a_later_file_same_error(tmp_path):
    window = _mixed_window(tmp_path / "w")
    bad = window / "f07.jsonl"
    lines = bad.read_text().splitlines()
    lines[3] = '{"captureData": {"endpointInput": '
    bad.write_text("\n".join(lines) + "\n")
    (messages,) = _errors(window)
    assert str(bad) in messages and "line 4" in messages


def test_ragged_row_in_a_later_file_same_error(tmp_path):
    window = _mixed_window(tmp_path / "w")
    bad = window / "f08.jsonl"
    lines = bad.read_text().splitlines()
    lines[5] = _line("1,2,3", "0.5")
    bad.write_text("\n".join(lines) + "\n")
    (messages,) = _errors(window)
    assert str(bad) in messages and "line 6" in messages and "columns" in messages


def test_monitoring_error_same_for_any_worker_count(tmp_path):
    window = _mixed_window(tmp_path / "w")
    (window / "f04.jsonl").write_bytes(b'{"captureData": 1, \xff}\n')
    constraints = {"version": 0.0, "features": [{"name": "p", "inferred_type": "Fractional"}]}
    messages = set()
    for workers in WORKERS:
        with pytest.raises(AnalyzerError) as err:
            run_monitoring(window, None, constraints, workers=workers)
        messages.add(str(err.value))
    assert len(messages) == 1 and "f04.jsonl" in messages.pop()


# -- the helpers -----------------------------------------------------------------------------


def test_prefetch_keeps_order_and_raises_where_the_source_failed():
    def source():
        yield from range(5)
        raise ValueError("boom at 5")

    seen = []
    with pytest.raises(ValueError, match="boom at 5"):
        for item in parallel.prefetch(source(), depth=2):
            seen.append(item)
    assert seen == [0, 1, 2, 3, 4]


def test_prefetch_stops_its_thread_when_the_consumer_stops():
    closed = threading.Event()

    def source():
        try:
            yield from range(10_000)
        finally:
            closed.set()

    before = set(threading.enumerate())  # threads of earlier tests may end meanwhile
    it = parallel.prefetch(source(), depth=2)
    assert next(it) == 0
    assert len(set(threading.enumerate()) - before) == 1
    it.close()
    assert closed.is_set()
    assert set(threading.enumerate()) - before == set()


def test_an_unclosed_read_ahead_finalised_on_its_own_thread_does_not_wait_for_itself():
    """The garbage collector may finalise a forgotten generator on any thread: on one of the
    read-ahead's own workers, closing it must not wait for that worker (itself)."""
    go = threading.Event()
    outcome = []
    maps = []

    def slow(x):
        if x == 2:
            go.wait(5)
            try:
                maps[0].close()  # as if the collector ran here, on a worker of that very map
                outcome.append("closed")
            except RuntimeError as exc:  # "cannot join current thread"
                outcome.append(exc)
        return x

    maps.append(parallel.ordered_map(slow, range(6), workers=2))
    assert next(maps[0]) == 0  # tasks 0-2 submitted; the generator waits at its yield
    go.set()
    for _ in range(100):
        if outcome:
            break
        threading.Event().wait(0.05)
    assert outcome == ["closed"]


def test_ordered_map_raises_in_turn():
    def f(x):
        if x == 3:
            raise KeyError(x)
        return x * x

    got = []
    with pytest.raises(KeyError):
        for v in parallel.ordered_map(f, range(8), workers=3):
            got.append(v)
    assert got == [0, 1, 4]


def test_worker_count_validation(monkeypatch):
    monkeypatch.setenv(parallel.WORKERS_ENV, "3")
    assert parallel.default_workers() == 3
    assert parallel.check_workers(None) == 3
    assert parallel.check_workers(2) == 2
    monkeypatch.delenv(parallel.WORKERS_ENV)
    assert 1 <= parallel.default_workers() <= parallel.MAX_DEFAULT_WORKERS
    for bad in (0, -1, "two", True):
        with pytest.raises(AnalyzerError, match="positive integer"):
            parallel.check_workers(bad)
    monkeypatch.setenv(parallel.WORKERS_ENV, "0")
    with pytest.raises(AnalyzerError, match=parallel.WORKERS_ENV):
        parallel.default_workers()


def test_cli_workers_flag(test_data_dir, tmp_path, capsys):
    train = test_data_dir / "training-dataset-with-header.csv"
    for workers in ("1", "2"):
        code = main(
            [
                "analyze",
                "baseline",
                str(train),
                "--out",
                str(tmp_path / workers),
                "--workers",
                workers,
            ]
        )
        assert code == 0
    assert _bytes(tmp_path / "1") == _bytes(tmp_path / "2")
    with pytest.raises(SystemExit):
        main(["analyze", "baseline", str(train), "--workers", "0"])
    assert "invalid worker count '0'" in capsys.readouterr().err


def test_csv_blocks_and_bad_row_same_for_any_worker_count(tmp_path):
    from mmutils.analyzer import readers

    data = tmp_path / "d.csv"
    data.write_text("a,b\n" + "".join(f"{i},{i * 0.5}\n" for i in range(3000)))
    runs = {}
    for workers in WORKERS:
        _, chunks = readers.read_csv(data, header=True, block_size=4096, workers=workers)
        runs[workers] = [t.to_pydict() for t in chunks]
    assert len(runs[1]) > 5
    assert runs[2] == runs[1] and runs[3] == runs[1]
    lines = data.read_text().splitlines()
    lines[2500] = "7"
    data.write_text("\n".join(lines) + "\n")
    messages = set()
    for workers in WORKERS:
        _, chunks = readers.read_csv(data, header=True, block_size=4096, workers=workers)
        with pytest.raises(AnalyzerError) as err:
            list(chunks)
        messages.add(str(err.value))
    assert messages == {f"{data}, line 2501: expected 2 fields, got 1: '7'"}


def test_small_inputs_stay_on_one_thread(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 1000)
    small = tmp_path / "s.csv"
    small.write_text("a\n1\n")
    assert parallel.workers_for(4, small) == 1
    assert parallel.workers_for(4, [small, small]) == 1
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "x.csv").write_text("a\n" + "1\n" * 600)
    assert parallel.workers_for(4, tmp_path / "big") == 4
    assert parallel.workers_for(4, tmp_path / "missing") == 4  # the reader reports it
    assert parallel.workers_for(1, tmp_path / "big") == 1
    assert parallel.workers_for(3, object()) == 3  # tables, DataFrames


def test_threads_are_really_used(tmp_path, monkeypatch):
    """With workers > 1, capture files are parsed on a worker thread, not the caller's."""
    window = _mixed_window(tmp_path / "w")
    seen = set()
    load = capture_reader._Reader._load

    def spy(self, path):
        seen.add(threading.current_thread().name)
        return load(self, path)

    monkeypatch.setattr(capture_reader._Reader, "_load", spy)
    constraints = {"version": 0.0, "features": [{"name": "p", "inferred_type": "Fractional"}]}
    window_ok = tmp_path / "ok"
    window_ok.mkdir()
    for f in sorted(window.glob("f0[0-4].jsonl")):
        (window_ok / f.name).write_text(f.read_text())
    run_monitoring(window_ok, None, constraints, workers=2)
    assert seen and all(name.startswith("mmlab-analyzer") for name in seen)
