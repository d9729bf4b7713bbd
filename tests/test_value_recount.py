"""A column that looks numeric and turns String late: its value counts come from the data read
again, so the categorical buckets hold every row, whatever the workers and chunks."""

from __future__ import annotations

import functools
import json
from collections import Counter

import pytest
from test_analyzer_parallel import _lab_capture

from mmutils.analyzer import baseline as baseline_mod
from mmutils.analyzer import capture_reader, parallel, run_monitoring, suggest_baseline


def _buckets(statistics: dict, name: str) -> dict[str, int]:
    feature = next(f for f in statistics["features"] if f["name"] == name)
    assert feature["inferred_type"] == "String"
    strings = feature["string_statistics"]
    buckets = strings["distribution"]["categorical"]["buckets"]
    assert strings["distinct_count"] == float(len(buckets))
    return {b["value"]: b["count"] for b in buckets}


def _spoil_last_record(window, column: int, text: str) -> list[str]:
    """Put ``text`` in input column ``column`` of the window's very last record; returns that
    column's cells over the whole window, in order."""
    files = sorted(window.rglob("*.jsonl"))
    cells = []
    for path in files:
        lines = path.read_text().splitlines()
        if path == files[-1]:
            rec = json.loads(lines[-1])
            data = rec["captureData"]["endpointInput"]["data"].split(",")
            data[column] = text
            rec["captureData"]["endpointInput"]["data"] = ",".join(data)
            lines[-1] = json.dumps(rec)
            path.write_text("\n".join(lines) + "\n")
        for line in lines:
            data = json.loads(line)["captureData"]["endpointInput"]["data"]
            cells.append(data.split(",")[column])
    return cells


@pytest.mark.parametrize("scan", ["0", "1"])
def test_monitoring_counts_every_row_of_a_column_turning_string_late(
    test_data_dir, tmp_path, monkeypatch, scan
):
    monkeypatch.setenv("MMLAB_CAPTURE_SCAN", scan)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    # chunks of 50 rows: the String cell is in the last of twelve
    monkeypatch.setattr(
        capture_reader,
        "read_capture",
        functools.partial(capture_reader.read_capture, chunk_rows=50),
    )
    listed = []
    real_list = capture_reader.list_capture_files
    monkeypatch.setattr(
        capture_reader,
        "list_capture_files",
        lambda *a, **k: listed.append(a) or real_list(*a, **k),
    )
    rows = (test_data_dir / "validation.csv").read_text().splitlines()
    window = _lab_capture(tmp_path / "capture", rows, files=6, per_file=97)
    cells = _spoil_last_record(window, 3, "unknown")
    base = suggest_baseline(test_data_dir / "training-dataset-with-header.csv")
    names = [f["name"] for f in base.constraints["features"]]
    outputs = []
    for workers in (1, 2):
        listed.clear()
        result = run_monitoring(
            window,
            base.statistics,
            base.constraints,
            output_dir=tmp_path / f"out{workers}",
            workers=workers,
        )
        # column 3 of the input is feature 4 (the output comes first)
        assert _buckets(result.statistics, names[4]) == Counter(cells)
        assert len(listed) == 1  # read again from the files listed the first time
        outputs.append((tmp_path / f"out{workers}" / "statistics.json").read_bytes())
    assert outputs[0] == outputs[1]


def test_a_baseline_from_a_dataframe_counts_every_row(monkeypatch):
    pd = pytest.importorskip("pandas")
    monkeypatch.setattr(
        baseline_mod,
        "dataframe_chunks",
        functools.partial(baseline_mod.dataframe_chunks, chunk_rows=128),
    )
    values = [str(i % 37) for i in range(1_000)]
    values[-1] = "n/a"
    df = pd.DataFrame({"late": values, "number": [i / 8 for i in range(1_000)]})
    for workers in (1, 2):
        result = suggest_baseline(df, workers=workers)
        assert _buckets(result.statistics, "late") == Counter(values)


def test_the_container_baseline_on_capture_data_counts_every_row(tmp_path, monkeypatch):
    from test_analyzer_container import _capture_window, capture_baseline_env

    from mmutils.analyzer import container

    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(
        capture_reader,
        "read_capture",
        functools.partial(capture_reader.read_capture, chunk_rows=70),
    )
    opt_ml = tmp_path / "job"
    endpoint = opt_ml / "processing" / "input" / "endpoint"
    for hour in ("05", "06"):
        _capture_window(endpoint, hour, rows=300)
    cells = _spoil_last_record(endpoint, 0, "n/a")  # input column 0: feature _c1
    assert container.run(capture_baseline_env(opt_ml)) == 0
    stats = json.loads((opt_ml / "processing" / "output" / "statistics.json").read_text())
    assert _buckets(stats, "_c1") == Counter(cells)
