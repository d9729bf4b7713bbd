"""mmutils.lab.capture_view: data-capture records as a table, explained, indented."""

from __future__ import annotations

import base64
import json

import pandas as pd
import pytest

from mmutils.formats import capture_record
from mmutils.lab import capture_view

REAL = "real/capture_lines_real.jsonl"
ISSUES = "real/capture_lines_from_github_issues.jsonl"
SDK = "sdk/capture.jsonl"


def _lines(conformance_dir, rel):
    return [line for line in (conformance_dir / rel).read_text().splitlines() if line.strip()]


def _records(conformance_dir, rel):
    return capture_record.parse_lines((conformance_dir / rel).read_bytes(), source=rel)


def _feature_names(conformance_dir):
    header = (conformance_dir / "data/training-dataset-with-header.csv").open().readline()
    return header.rstrip("\n").split(",")[1:]  # the 69 inputs; Churn is the label


@pytest.mark.parametrize("rel", [REAL, ISSUES, SDK, "sdk/captured-data.jsonl"])
def test_every_conformance_line_is_parsed(conformance_dir, rel):
    lines = _lines(conformance_dir, rel)
    records = _records(conformance_dir, rel)
    assert len(records) == len(lines)
    assert records == [json.loads(line) for line in lines]
    df = capture_view.capture_to_dataframe(records)
    assert len(df) == len(records)
    for record, (_, row) in zip(records, df.iterrows(), strict=True):
        assert row["event_id"] == record["eventMetadata"]["eventId"]
        for index, prefix in capture_view.CAPTURE_INDEXES.items():
            event = record["captureData"][index]
            assert row[f"{prefix}_content_type"] == event["observedContentType"]
            assert row[f"{prefix}_encoding"] == event["encoding"]
            if event["encoding"] == "BASE64":
                assert row[f"{prefix}_data"] == base64.b64decode(event["data"]).decode()
            else:  # CSV and JSON payloads are kept as the captured text
                assert row[f"{prefix}_data"] == event["data"]


def test_real_counts_and_times(conformance_dir):
    assert len(_records(conformance_dir, REAL)) == 36
    df = capture_view.capture_to_dataframe(_records(conformance_dir, REAL))
    assert df["inference_time"].notna().all()
    row = df.set_index("event_id").loc["f04a8538-696c-4648-8064-8b680b2e3318"]
    assert row["inference_time"] == pd.Timestamp("2022-04-18T00:21:48Z")
    assert row["output_data"] == "0.036397725343704224"
    assert row["output_content_type"] == "text/csv; charset=utf-8"
    assert pd.isna(row["inference_id"])
    with_id = df.set_index("event_id").loc["c0985a1d-af6e-4911-a229-77e40b10c4ec"]
    assert with_id["inference_id"] == "58"
    # JSON payloads stay JSON text and parse
    first = df.iloc[0]
    assert first["input_encoding"] == "JSON"
    assert json.loads(first["input_data"])["instances"][0]["features"][:3] == [28, 2, 133937]


def test_base64_output_is_decoded(conformance_dir):
    record = _records(conformance_dir, ISSUES)[0]
    out = record["captureData"]["endpointOutput"]
    assert capture_record.decode_payload(out) == '{"median_house_value": [478046.66, 206551.01]}'
    binary = {"encoding": "BASE64", "data": base64.b64encode(b"\xff\x00\x01").decode()}
    assert capture_record.decode_payload(binary) == b"\xff\x00\x01"
    with pytest.raises(ValueError, match="not valid base64"):
        capture_record.decode_payload({"encoding": "BASE64", "data": "not*base64"})


def test_sdk_fixture_template_times_become_nat(conformance_dir):
    # the SDK fixture keeps a "{%s}" placeholder for the time
    df = capture_view.capture_to_dataframe(_records(conformance_dir, SDK))
    assert df["inference_time"].isna().all()
    assert df["input_data"].iloc[0] == "9,45,45,42,7,5,0"


def test_csv_inputs_split_into_named_columns(conformance_dir):
    names = _feature_names(conformance_dir)
    assert len(names) == 69
    records = [
        r
        for r in _records(conformance_dir, REAL)
        if r["captureData"]["endpointInput"]["encoding"] == "CSV"
    ]
    df = capture_view.capture_to_dataframe(records, feature_names=names)
    assert len(df) == len(records) == 30
    assert list(df.columns[-69:]) == names
    row = df.set_index("event_id").loc["f04a8538-696c-4648-8064-8b680b2e3318"]
    assert row["Account Length"] == 132
    assert row["Day Mins"] == 182.9
    assert row["VMail Plan_yes"] == 1
    # the deliberately corrupted traffic row (spec §I.1): VMail Message 0.1
    bad = df.set_index("event_id").loc["87947a31-1816-44f3-b1a3-9781488009a0"]
    assert bad["VMail Message"] == 0.1 and bad["State_AK"] == 0.2
    assert df["Account Length"].dtype.kind == "i"
    assert df["Day Mins"].dtype.kind == "f"


def test_multi_line_csv_payload_gives_one_row_per_line():
    record = {
        "captureData": {
            "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                              "data": "1,a\n2,b\n", "encoding": "CSV"},
            "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                               "data": "0.1\n0.2", "encoding": "CSV"},
        },
        "eventMetadata": {"eventId": "e1", "inferenceTime": "2024-01-01T00:00:00Z"},
        "eventVersion": "0",
    }  # fmt: skip
    df = capture_view.capture_to_dataframe([record], feature_names=["n", "s"])
    assert df[["event_id", "n", "s"]].to_dict("list") == {
        "event_id": ["e1", "e1"],
        "n": [1, 2],
        "s": ["a", "b"],
    }


def test_wrong_number_of_feature_names_names_the_record(conformance_dir):
    records = _records(conformance_dir, REAL)[6:8]
    with pytest.raises(
        ValueError, match=r"record 0 \(eventId 3036be7c-.*\): CSV input has 69 fields"
    ):
        capture_view.capture_to_dataframe(records, feature_names=["a", "b"])


def test_bad_text_is_reported_with_its_source():
    with pytest.raises(capture_record.CaptureFormatError, match=r"record line 1: invalid JSON"):
        capture_view.describe_record('{"eventVersion":')
    with pytest.raises(capture_record.CaptureFormatError, match="not a JSON object"):
        capture_view.pretty("[1, 2]")


def test_describe_record_explains_each_field(conformance_dir):
    csv_line = _lines(conformance_dir, REAL)[8]
    text = capture_view.describe_record(csv_line)
    lines = text.splitlines()
    assert lines[0] == (
        "eventMetadata.eventId: 87947a31-1816-44f3-b1a3-9781488009a0 — unique id SageMaker "
        "gave this request"
    )
    assert "eventMetadata.inferenceTime: 2020-11-09T21:33:04Z — when the endpoint answered" in text
    assert "captureData.endpointInput: the request" in lines
    assert any(line.endswith("— 69 comma-separated values") for line in lines)
    assert "  data: 0.01584203727543354 — 1 value" in lines
    assert lines[-1] == "eventVersion: 0 — version of the capture record format"

    b64 = capture_view.describe_record(_records(conformance_dir, ISSUES)[0])
    assert "  encoding: BASE64 — payload stored as base64" in b64
    assert 'decodes to {"median_house_value": [478046.66, 206551.01]}' in b64
    assert "eventMetadata.inferenceId: c7f0edc0-9397-4cd3-a948-bd7b639da2f5" in b64


def test_pretty_is_indented_json_in_file_key_order(conformance_dir):
    line = _lines(conformance_dir, REAL)[-1]
    text = capture_view.pretty(line)
    assert json.loads(text) == json.loads(line)
    assert text.splitlines()[:3] == ["{", '  "captureData": {', '    "endpointInput": {']
    assert capture_view.pretty(json.loads(line)) == text
