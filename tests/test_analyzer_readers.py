"""Dataset readers: CSV / JSON Lines files and folders -> string chunks, clear errors."""

from __future__ import annotations

import pyarrow as pa
import pytest

from mmutils.analyzer.errors import AnalyzerError, NoDataError
from mmutils.analyzer.readers import list_files, read_csv, read_dataset, read_json_lines


def rows_of(chunks):
    tables = list(chunks)
    for table in tables:
        assert all(pa.types.is_string(field.type) for field in table.schema)
    return pa.concat_tables(tables).to_pylist() if tables else []


def test_header_csv_keeps_text_and_nulls(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('x,y,"z, quoted"\n1,6.0,a\n,007,"b,c"\n\n3,,""\n')
    names, chunks = read_csv(path, header=True)
    assert names == ["x", "y", "z, quoted"]
    assert rows_of(chunks) == [
        {"x": "1", "y": "6.0", "z, quoted": "a"},
        {"x": None, "y": "007", "z, quoted": "b,c"},
        {"x": "3", "y": None, "z, quoted": None},
    ]


def test_no_header_names_like_spark_and_crlf(tmp_path):
    path = tmp_path / "b.csv"
    path.write_bytes(b"1,2\r\n3,4\r\n")
    names, chunks = read_csv(path, header=False)
    assert names == ["_c0", "_c1"]
    assert rows_of(chunks) == [{"_c0": "1", "_c1": "2"}, {"_c0": "3", "_c1": "4"}]


def test_folder_files_in_listing_order_each_with_header(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "b.csv").write_text("v\n2\n")
    (tmp_path / "a.csv").write_text("v\n1\n")
    (tmp_path / "sub" / "c.csv").write_text("v\n3\n")
    (tmp_path / "empty.csv").write_text("")
    assert [p.name for p in list_files(tmp_path)] == ["a.csv", "b.csv", "empty.csv", "c.csv"]
    names, chunks = read_csv(tmp_path, header=True)
    assert names == ["v"]
    assert [r["v"] for r in rows_of(chunks)] == ["1", "2", "3"]


def test_small_blocks_stream_many_chunks(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("a,b\n" + "".join(f"{i},{i * 2}\n" for i in range(5000)))
    _, chunks = read_csv(path, header=True, block_size=4096)
    tables = list(chunks)
    assert len(tables) > 5
    assert sum(t.num_rows for t in tables) == 5000
    assert tables[-1].column("a")[-1].as_py() == "4999"


def test_ragged_row_names_file_and_line(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n1,2\n3\n4,5\n")
    _, chunks = read_csv(path, header=True)
    with pytest.raises(AnalyzerError, match=r"ragged\.csv, line 3: expected 2 fields, got 1"):
        list(chunks)


def test_non_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"a,b\n1,2\n3,caf\xe9\n")
    _, chunks = read_csv(path, header=True)
    with pytest.raises(AnalyzerError, match=r"latin1\.csv, line 3: not valid UTF-8"):
        list(chunks)


def test_empty_and_header_only_datasets(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(NoDataError, match="Job inputs had no data"):
        read_csv(empty, header=True)
    header_only = tmp_path / "h.csv"
    header_only.write_text("a,b\n")
    _, chunks = read_csv(header_only, header=True)
    with pytest.raises(
        AnalyzerError, match=r"h\.csv: the dataset has a header line but no data rows"
    ):
        list(chunks)
    with pytest.raises(AnalyzerError, match="dataset path not found"):
        read_csv(tmp_path / "missing.csv", header=True)


def test_nan_token_is_a_plain_string_cell(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("a\nNaN\n1\n")
    _, chunks = read_csv(path, header=True)
    assert [r["a"] for r in rows_of(chunks)] == ["NaN", "1"]


def test_json_lines_values_as_spark_strings(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(
        '{"b": 1, "a": 6.00, "c": "x", "d": true}\n'
        "\n"
        '{"a": 1e7, "b": null, "d": false, "e": 9}\n'
        '{"a": NaN, "b": [1, 2], "c": {"k": 1}, "d": -Infinity}\n'
    )
    names, chunks = read_json_lines(path)
    assert names == ["b", "a", "c", "d"]
    assert rows_of(chunks) == [
        {"b": "1", "a": "6.0", "c": "x", "d": "true"},
        {"b": None, "a": "1.0E7", "c": None, "d": "false"},
        {"b": "[1,2]", "a": "NaN", "c": '{"k":1}', "d": "-Infinity"},
    ]


def test_json_lines_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"a": 1}\n{"a": \n')
    _, chunks = read_json_lines(bad)
    with pytest.raises(AnalyzerError, match=r"bad\.jsonl, line 2: malformed JSON"):
        list(chunks)
    arr = tmp_path / "arr.jsonl"
    arr.write_text('{"a": 1}\n[1]\n')
    _, chunks = read_json_lines(arr)
    with pytest.raises(
        AnalyzerError, match=r"arr\.jsonl, line 2: expected a JSON object, got list"
    ):
        list(chunks)


def test_read_dataset_dispatches_on_dataset_format(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("1,2\n")
    names, _ = read_dataset(path, {"csv": {"header": False}})
    assert names == ["_c0", "_c1"]
    jl = tmp_path / "x.jsonl"
    jl.write_text('{"q": 1}\n')
    assert read_dataset(jl, {"json": {"lines": True}})[0] == ["q"]
    with pytest.raises(AnalyzerError, match="JSON Lines"):
        read_dataset(jl, {"json": {"lines": False}})
    with pytest.raises(AnalyzerError, match="unsupported dataset_format"):
        read_dataset(path, {"parquet": {}})


def test_conformance_training_file(conformance_dir):
    names, chunks = read_csv(conformance_dir / "data/training-dataset-with-header.csv", header=True)
    assert len(names) == 70 and names[0] == "Churn" and names[66] == "Int'l Plan_no"
    assert sum(t.num_rows for t in chunks) == 2333
    names, chunks = read_csv(
        conformance_dir / "data/training-dataset-without-header.csv", header=False
    )
    assert names[-1] == "_c69"
    assert sum(t.num_rows for t in chunks) == 2333
