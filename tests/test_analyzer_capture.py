"""Capture reader: sagemakerCaptureJson trees -> chunks of string columns (spec §A)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from mmutils.analyzer.capture_reader import (
    iter_capture_records,
    list_capture_files,
    mismatch_message,
    read_capture,
    record_rows,
)
from mmutils.analyzer.errors import AnalyzerError


def _record(inp: str, out: str, encoding: str = "CSV", **meta) -> dict:
    return {
        "captureData": {
            "endpointInput": {
                "observedContentType": "text/csv",
                "mode": "INPUT",
                "data": inp,
                "encoding": encoding,
            },
            "endpointOutput": {
                "observedContentType": "text/csv; charset=utf-8",
                "mode": "OUTPUT",
                "data": out,
                "encoding": encoding,
            },
        },
        "eventMetadata": {"eventId": "e", "inferenceTime": "2024-01-01T00:00:00Z", **meta},
        "eventVersion": "0",
    }


def _write(path: Path, records: list[dict | str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r, separators=(",", ":")) for r in records]
    path.write_text("".join(line + "\n" for line in lines))
    return path


def _rows(ds) -> list[list]:
    out = []
    for chunk in ds.chunks:
        out.extend(list(r.values()) for r in chunk.to_pylist())
    return out


def test_every_real_capture_line_parses(conformance_dir, tmp_path):
    real = conformance_dir / "real" / "capture_lines_real.jsonl"
    records = [rec for _, _, rec in iter_capture_records([real])]
    assert len(records) == 36
    csv_lines = []
    for i, rec in enumerate(records):
        rows = record_rows(rec, ["endpointOutput", "endpointInput"])
        assert rows and all(rows)
        cap = rec["captureData"]
        if cap["endpointInput"]["encoding"] == "CSV":
            csv_lines.append(rec)
            # one row: the prediction first, then the 69 input features
            assert rows == [
                [cap["endpointOutput"]["data"]] + cap["endpointInput"]["data"].split(",")
            ], i
    assert len(csv_lines) == 30
    # the fast path gives exactly the precise parser's rows, in file order
    path = _write(tmp_path / "w.jsonl", csv_lines)
    ds = read_capture(path)
    assert len(ds.names) == 70
    expected = [record_rows(r, ["endpointOutput", "endpointInput"])[0] for r in csv_lines]
    assert _rows(ds) == expected


def test_real_json_lines_become_one_row_per_instance(conformance_dir):
    real = conformance_dir / "real" / "capture_lines_real.jsonl"
    records = [rec for _, _, rec in iter_capture_records([real])]
    # {"instances": [{"features": [...14]}, {...}]} with {"predictions": [{score, label}, ...]}
    rows = record_rows(records[0], ["endpointOutput", "endpointInput"])
    assert len(rows) == 2
    assert rows[0][:2] == ["0.9899773597717285", "1"]
    assert rows[0][2:] == [
        "28",
        "2",
        "133937",
        "9",
        "13",
        "2",
        "0",
        "0",
        "4",
        "1",
        "15024",
        "0",
        "55",
        "37",
    ]
    assert rows[1][2:] == [
        "43",
        "2",
        "72338",
        "12",
        "14",
        "2",
        "12",
        "0",
        "1",
        "1",
        "0",
        "0",
        "40",
        "37",
    ]
    # JSON Lines payloads: one row per line
    rows = record_rows(records[3], ["endpointOutput", "endpointInput"])
    assert len(rows) == 2 and rows[1][2:6] == ["43", "2", "72338", "12"]


def test_github_issue_lines_give_the_service_mismatch_error(conformance_dir, tmp_path):
    lines = (conformance_dir / "real" / "capture_lines_from_github_issues.jsonl").read_text()
    first, second = lines.splitlines()
    for line, (enc_in, enc_out) in ((first, ("JSON", "BASE64")), (second, ("CSV", "JSON"))):
        path = tmp_path / f"{enc_out}.jsonl"
        path.write_text(line + "\n")
        with pytest.raises(AnalyzerError) as err:
            list(read_capture(path).chunks)
        assert str(err.value) == mismatch_message(enc_in, enc_out)
    assert str(err.value) == (
        "Encoding mismatch: Encoding is CSV for endpointInput, but Encoding is JSON for "
        "endpointOutput. We currently only support the same type of input and output encoding "
        "at the moment."
    )


def test_sdk_capture_fixture(conformance_dir):
    ds = read_capture(conformance_dir / "sdk" / "capture.jsonl", names=list("abcdefgh"))
    rows = _rows(ds)
    assert ds.names == list("abcdefgh")
    assert rows[0] == ["0.302709460258", "9", "45", "45", "42", "7", "5", "0"]
    assert len(rows) == len((conformance_dir / "sdk" / "capture.jsonl").read_text().splitlines())


def test_output_position_end_and_input_only(tmp_path):
    path = _write(tmp_path / "a.jsonl", [_record("1,2", "0.5"), _record("3,4", "0.7\n")])
    assert _rows(read_capture(path)) == [["0.5", "1", "2"], ["0.7", "3", "4"]]
    assert _rows(read_capture(path, output_columns_position="END")) == [
        ["1", "2", "0.5"],
        ["3", "4", "0.7"],
    ]
    only_input = read_capture(path, capture_index_names=["endpointInput"])
    assert _rows(only_input) == [["1", "2"], ["3", "4"]]
    with pytest.raises(AnalyzerError, match="output_columns_position"):
        read_capture(path, output_columns_position="MIDDLE")


def test_shadow_records_skipped_and_names_by_position(tmp_path):
    path = _write(
        tmp_path / "a.jsonl",
        [
            _record("1,2", "0.5"),
            _record("9,9", "0.9", invocationSource="ShadowExperiment"),
            _record("3,4", "0.7"),
        ],
    )
    ds = read_capture(path, names=["label", "x"])
    # a third column beyond the two baseline names is named like Spark would
    assert ds.names == ["label", "x", "_c2"]
    assert _rows(ds) == [["0.5", "1", "2"], ["0.7", "3", "4"]]


def test_empty_cells_are_null_and_quotes_respected(tmp_path):
    path = _write(tmp_path / "a.jsonl", [_record('1,,"a,b"', "0.5")])
    assert _rows(read_capture(path)) == [["0.5", "1", None, "a,b"]]


def test_base64_and_json_payloads(tmp_path):
    b64 = base64.b64encode(b"1,2").decode()
    out = base64.b64encode(b"0.25").decode()
    path = _write(tmp_path / "b.jsonl", [_record(b64, out, encoding="BASE64")])
    assert _rows(read_capture(path)) == [["0.25", "1", "2"]]
    rec = _record('{"a": 1, "b": "x", "c": null, "d": 2.50}', '{"score": 0.1}', encoding="JSON")
    path = _write(tmp_path / "j.jsonl", [rec])
    # numbers read as Spark would: decimals in Java Double.toString form
    assert _rows(read_capture(path)) == [["0.1", "1", "x", None, "2.5"]]


def test_multi_row_csv_payload_pairs_lines(tmp_path):
    path = _write(
        tmp_path / "m.jsonl", [_record("1,2\n3,4\n", "0.1\n0.2\n"), _record("5,6", "0.3")]
    )
    assert _rows(read_capture(path)) == [["0.1", "1", "2"], ["0.2", "3", "4"], ["0.3", "5", "6"]]
    later = _write(tmp_path / "l.jsonl", [_record("5,6", "0.3"), _record("1,2\r\n3,4", "0.1\n0.2")])
    assert _rows(read_capture(later)) == [["0.3", "5", "6"], ["0.1", "1", "2"], ["0.2", "3", "4"]]
    bad = _write(tmp_path / "bad" / "m.jsonl", [_record("1,2", "0.3"), _record("1,2\n3,4", "0.1")])
    with pytest.raises(AnalyzerError, match=r"m\.jsonl line 2: payload row counts differ"):
        list(read_capture(bad).chunks)


def test_malformed_line_names_file_and_line(tmp_path):
    good = json.dumps(_record("1,2", "0.5"))
    path = _write(tmp_path / "x.jsonl", [good, "", good, '{"captureData": {bad', good])
    with pytest.raises(AnalyzerError) as err:
        list(read_capture(path).chunks)
    assert f"{path} line 4" in str(err.value) and "invalid JSON" in str(err.value)


def test_non_utf8_line_names_file_and_line(tmp_path):
    path = tmp_path / "u.jsonl"
    good = json.dumps(_record("1,2", "0.5")).encode()
    bad = json.dumps(_record("1,\udcff", "0.5")).encode().replace(b"\\udcff", b"\xff")
    path.write_bytes(good + b"\n" + bad + b"\n")
    with pytest.raises(AnalyzerError) as err:
        list(read_capture(path).chunks)
    assert f"{path} line 2" in str(err.value) and "not UTF-8" in str(err.value)


def test_ragged_rows_name_file_and_line(tmp_path):
    first = _write(tmp_path / "00" / "a.jsonl", [_record("1,2", "0.5")])
    second = _write(tmp_path / "01" / "b.jsonl", [_record("1,2", "0.5"), _record("1", "0.5")])
    with pytest.raises(AnalyzerError) as err:
        list(read_capture(tmp_path).chunks)
    assert f"{second} line 2" in str(err.value)
    assert "has 2 columns, the first record of the window has 3" in str(err.value)
    assert first.exists()


def test_not_a_capture_record(tmp_path):
    path = _write(tmp_path / "g.jsonl", ['{"groundTruthData": {"data": "1", "encoding": "CSV"}}'])
    with pytest.raises(AnalyzerError, match=r"g\.jsonl line 1: not a data-capture record"):
        list(read_capture(path).chunks)


def test_chunks_span_files_in_sorted_order(tmp_path):
    root = tmp_path / "ep" / "AllTraffic" / "2024" / "01" / "01"
    _write(root / "01" / "00-00-000-b.jsonl", [_record(f"{i},1", "0.1") for i in range(5, 10)])
    _write(root / "00" / "59-00-000-a.jsonl", [_record(f"{i},1", "0.1") for i in range(5)])
    (root / "02").mkdir()
    (root / "02" / "empty.jsonl").write_text("\n")
    ds = read_capture(tmp_path, chunk_rows=3)
    chunks = list(ds.chunks)
    assert [len(c) for c in chunks] == [3, 3, 3, 1]
    assert [r["_c1"] for c in chunks for r in c.to_pylist()] == [str(i) for i in range(10)]


def test_window_selects_hour_folders(tmp_path):
    base = tmp_path / "ep" / "AllTraffic" / "2024" / "01" / "01"
    for hour in ("00", "01", "02"):
        _write(base / hour / "x.jsonl", [_record("1,2", "0.5")])
    files = list_capture_files(tmp_path, "2024-01-01T01:00:00Z", "2024-01-01T02:00:00Z")
    assert [f.parent.name for f in files] == ["01"]
    assert len(list_capture_files(tmp_path)) == 3
    assert read_capture(tmp_path, start_time="2024-01-02T00:00:00Z").names == []


def test_window_keeps_files_outside_real_hour_folders(tmp_path):
    """Only a real ``yyyy/mm/dd/HH`` date selects by hour; anything else is always read."""
    base = tmp_path / "ep" / "AllTraffic" / "2024"
    _write(base / "13" / "01" / "00" / "x.jsonl", [_record("1,2", "0.5")])  # no month 13
    _write(base / "01" / "01" / "05" / "x.jsonl", [_record("1,2", "0.5")])  # outside the window
    _write(tmp_path / "loose.jsonl", [_record("1,2", "0.5")])
    files = list_capture_files(tmp_path, "2024-01-01T01:00:00Z", "2024-01-01T02:00:00Z")
    assert [f.relative_to(tmp_path).as_posix() for f in files] == [
        "ep/AllTraffic/2024/13/01/00/x.jsonl",
        "loose.jsonl",
    ]


def test_invalid_base64_payload_names_file_and_line(tmp_path):
    bad = _record("1,2", "0.5", encoding="BASE64")
    bad["captureData"]["endpointInput"]["data"] = "!!not base64"
    bad["captureData"]["endpointOutput"]["data"] = base64.b64encode(b"0.5").decode()
    path = _write(tmp_path / "b.jsonl", [_record("1,2", "0.5"), bad])
    with pytest.raises(AnalyzerError, match=r"b\.jsonl line 2: BASE64 data is not valid base64"):
        list(read_capture(path).chunks)


def test_missing_source(tmp_path):
    with pytest.raises(AnalyzerError, match="Dataset source not found"):
        read_capture(tmp_path / "nope")
