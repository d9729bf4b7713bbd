"""Bad input: a clear error naming file / line / feature, and no complete-looking output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mmutils.analyzer import AnalyzerError, NoDataError, run_monitoring, suggest_baseline
from mmutils.analyzer.container import run as run_container


def _record(inp: str, out: str = "0.5", enc_in: str = "CSV", enc_out: str = "CSV") -> str:
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": "text/csv",
                    "data": inp,
                    "encoding": enc_in,
                },
                "endpointOutput": {
                    "observedContentType": "text/csv",
                    "data": out,
                    "encoding": enc_out,
                },
            },
            "eventMetadata": {"eventId": "e", "inferenceTime": "2024-01-01T00:00:00Z"},
            "eventVersion": "0",
        }
    )


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    folder = tmp_path_factory.mktemp("baseline")
    train = folder / "train.csv"
    rows = [f"{i % 2},{i % 7},{i % 5 + 0.5}" for i in range(300)]
    train.write_text("label,a,b\n" + "\n".join(rows) + "\n")
    result = suggest_baseline(train, output_dir=folder / "out")
    return result.statistics, result.constraints


def _window(tmp_path: Path, lines: list[str] | bytes) -> Path:
    folder = tmp_path / "window"
    folder.mkdir()
    path = folder / "00-00-000-x.jsonl"
    if isinstance(lines, bytes):
        path.write_bytes(lines)
    else:
        path.write_text("".join(line + "\n" for line in lines))
    return folder


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def _good(n: int = 20) -> list[str]:
    return [_record(f"{i % 7},{i % 5 + 0.5}", str(i % 2)) for i in range(n)]


def _fails(tmp_path, baseline, data, match, error=AnalyzerError, **kw):
    out = tmp_path / "out"
    with pytest.raises(error, match=match):
        run_monitoring(data, *baseline, output_dir=out, **kw)
    assert not out.exists() or not any(out.iterdir()), "a failed run must not leave outputs"


def test_empty_window(tmp_path, baseline):
    _fails(
        tmp_path, baseline, _window(tmp_path, ["", "  "]), "^Job inputs had no data$", NoDataError
    )


def test_empty_and_header_only_csv_baseline(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(NoDataError, match="Job inputs had no data"):
        suggest_baseline(empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text("a,b\n")
    with pytest.raises(AnalyzerError, match=r"header\.csv.*no data rows"):
        suggest_baseline(header_only, output_dir=tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_ragged_rows(tmp_path, baseline):
    lines = _good(5) + [_record("1")] + _good(2)
    window = _window(tmp_path, lines)
    _fails(tmp_path, baseline, window, r"00-00-000-x\.jsonl line 6: the record has 2 columns")


# pyarrow still prints its own "Exception ignored" for the ragged row it cannot decode
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("cut", ["0", "1"])
def test_header_without_line_end_and_ragged_bad_utf8(tmp_path, monkeypatch, cut):
    """Two messages pyarrow's reader got wrong: a header-only file without a line end read as
    "a line is longer than 1073741824 bytes", a ragged row that is not UTF-8 as "cannot read
    CSV: ... Row #3" (with a traceback printed by pyarrow)."""
    monkeypatch.setenv("MMLAB_CSV_SCAN", cut)
    header_only = tmp_path / "header.csv"
    header_only.write_bytes(b"a,b")
    with pytest.raises(
        AnalyzerError, match=r"^.*header\.csv: the dataset has a header line but no data rows$"
    ):
        suggest_baseline(header_only)
    ragged = tmp_path / "ragged.csv"
    ragged.write_bytes(b"a,b\n1,2\n3,\xff,4\n5,6\n")
    with pytest.raises(AnalyzerError, match=r"^.*ragged\.csv, line 3: not valid UTF-8$"):
        suggest_baseline(ragged)


def test_ragged_csv_baseline(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3\n")
    with pytest.raises(AnalyzerError, match=r"bad\.csv.*line 3"):
        suggest_baseline(bad)


def test_fewer_columns_than_baseline_is_missing_column_check(tmp_path, baseline):
    window = _window(tmp_path, [_record(f"{i % 7}", str(i % 2)) for i in range(20)])
    result = run_monitoring(window, *baseline)
    assert [(v["feature_name"], v["constraint_check_type"]) for v in result.violations] == [
        ("b", "missing_column_check")
    ]


def test_more_columns_than_baseline_is_extra_column_check(tmp_path, baseline):
    window = _window(tmp_path, [_record(f"{i % 7},{i % 5 + 0.5},9", str(i % 2)) for i in range(20)])
    result = run_monitoring(window, *baseline)
    assert [(v["feature_name"], v["constraint_check_type"]) for v in result.violations] == [
        ("_c3", "extra_column_check")
    ]
    assert [f["name"] for f in result.statistics["features"]] == ["label", "a", "b", "_c3"]


def test_non_utf8_bytes(tmp_path, baseline):
    raw = (
        ("\n".join(_good(3)) + "\n").encode()
        + _record("1,\u00e9").encode().replace(b"\\u00e9", b"\xe9")
        + b"\n"
    )
    _fails(tmp_path, baseline, _window(tmp_path, raw), r"x\.jsonl line 4: not UTF-8")


def test_malformed_json_line(tmp_path, baseline):
    lines = _good(2) + ['{"captureData": {"endpointInput": '] + _good(1)
    _fails(tmp_path, baseline, _window(tmp_path, lines), r"x\.jsonl line 3: invalid JSON")


def test_encoding_mismatch(tmp_path, baseline):
    lines = _good(2) + [_record("1,2", '{"p": 1}', enc_out="JSON")]
    _fails(
        tmp_path,
        baseline,
        _window(tmp_path, lines),
        "^Encoding mismatch: Encoding is CSV for endpointInput, but Encoding is JSON for "
        "endpointOutput. We currently only support the same type of input and output encoding "
        "at the moment.$",
    )


@pytest.mark.parametrize("fmt", ['{"parquet": {}}', "avro", '{"csv": {}, "json": {}}', "{nope"])
def test_unknown_dataset_format(tmp_path, baseline, fmt):
    _fails(tmp_path, baseline, _window(tmp_path, _good()), "dataset_format", dataset_format=fmt)


@pytest.mark.parametrize("workers", [1, 2])
def test_the_baseline_error_comes_before_the_data_error(tmp_path, baseline, workers, monkeypatch):
    import threading

    from mmutils.analyzer import parallel

    # parallel even for a small window: 2 workers do read ahead
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    window = _window(tmp_path, [*_good(5), "{not json"])
    with pytest.raises(AnalyzerError, match="line 6"):  # the data's own error
        run_monitoring(window, baseline[0], baseline[1], workers=workers)
    missing = tmp_path / "nope.json"
    with pytest.raises(AnalyzerError, match="Baseline statistics file not found") as raised:
        run_monitoring(window, missing, baseline[1], workers=workers)
    assert raised.value.__suppress_context__  # the data's error is not shown with it
    with pytest.raises(AnalyzerError, match="Baseline statistics file not found"):
        run_monitoring(window, missing, baseline[1], dataset_format="avro", workers=workers)
    with pytest.raises(AnalyzerError, match="Baseline statistics file not found"):  # no rows
        run_monitoring(_window(_mkdir(tmp_path / "e"), []), missing, baseline[1], workers=workers)
    # good data, broken statistics: the statistics' own message, and no reader thread left
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    good = _window(_mkdir(tmp_path / "g"), _good(50))
    text = "".join(f"{line}\n" for line in _good(10_000))
    for k in range(1, 13):  # 120k records: more than a chunk, were the window opened
        (good / f"00-00-{k:03d}-x.jsonl").write_text(text)
    with pytest.raises(AnalyzerError, match=r"^Baseline statistics: .*broken\.json: not valid"):
        run_monitoring(good, broken, baseline[1], workers=workers)
    assert [t.name for t in threading.enumerate() if t.name.startswith("mmlab-")] == []


def test_missing_baseline_files(tmp_path, baseline):
    window = _window(tmp_path, _good())
    with pytest.raises(AnalyzerError, match="Baseline constraints file not found: .*nope.json"):
        run_monitoring(window, None, tmp_path / "nope.json")
    with pytest.raises(AnalyzerError, match="Baseline statistics file not found"):
        run_monitoring(window, tmp_path / "nope.json", baseline[1])
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(
        AnalyzerError,
        match=r"^Baseline constraints: .*broken\.json: not valid JSON \(line 1, column 2\)",
    ):
        run_monitoring(window, None, broken)
    featureless = tmp_path / "featureless.json"
    featureless.write_text('{"version": 0.0}')
    with pytest.raises(
        AnalyzerError, match=r"Baseline constraints file .*featureless\.json has no"
    ):
        run_monitoring(window, None, featureless)
    with pytest.raises(AnalyzerError, match=r"^Baseline constraints has no 'features' list$"):
        run_monitoring(window, None, featureless.read_text())  # the JSON text itself


def test_nan_and_inf_tokens_are_string_cells(tmp_path, baseline):
    """deequ's patterns do not accept NaN/Infinity: the cells count as non-Fractional."""
    lines = _good(16) + [_record(f"1,{tok}", "0") for tok in ("NaN", "inf", "Infinity", "-inf")]
    result = run_monitoring(_window(tmp_path, lines), *baseline)
    (violation,) = result.violations
    assert violation["feature_name"] == "b"
    assert violation["description"].endswith("Observed: Only 80.0% of data is Fractional.")
    feature_b = result.statistics["features"][2]
    assert feature_b["inferred_type"] == "String"


def test_window_with_no_data_in_container(tmp_path, baseline):
    opt_ml = tmp_path / "job"
    window = opt_ml / "processing" / "input" / "endpoint"
    window.mkdir(parents=True)
    (window / "empty.jsonl").write_text("")
    stats_file = tmp_path / "statistics.json"
    constraints_file = tmp_path / "constraints.json"
    stats_file.write_text(json.dumps(baseline[0]))
    constraints_file.write_text(json.dumps(baseline[1]))
    code = run_container(
        {
            "MMLAB_OPT_ML": str(opt_ml),
            "dataset_format": '{"sagemakerCaptureJson": {}}',
            "dataset_source": "/opt/ml/processing/input/endpoint",
            "output_path": "/opt/ml/processing/output",
            "baseline_statistics": str(stats_file),
            "baseline_constraints": str(constraints_file),
        }
    )
    assert code == 255
    assert (opt_ml / "output" / "message").read_text() == "Job inputs had no data"
    assert not (opt_ml / "processing" / "output").exists()
