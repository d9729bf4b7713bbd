"""mmutils.formats: the capture key, the capture record, report documents and S3 URIs."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from mmutils.formats import capture_key, capture_record, reports, s3uri
from mmutils.formats.capture_record import CaptureFormatError
from mmutils.formats.reports import DocumentError

UTC = dt.UTC
WHEN = dt.datetime(2024, 3, 5, 7, 8, 9, 123456, tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# capture_key


def test_capture_file_key_layout_and_round_trip():
    key = capture_key.capture_file_key("dc/prefix/", "ep", "AllTraffic", WHEN, "uuid-1")
    assert key == "dc/prefix/ep/AllTraffic/2024/03/05/07/08-09-123-uuid-1.jsonl"
    folder = capture_key.endpoint_prefix("dc/prefix/", "ep")
    assert folder == "dc/prefix/ep/" and key.startswith(folder)
    parsed = capture_key.parse_capture_file_key(key[len(folder) :])
    assert parsed == capture_key.CaptureFileKey(
        variant="AllTraffic",
        hour=dt.datetime(2024, 3, 5, 7, tzinfo=UTC),
        name="08-09-123-uuid-1.jsonl",
    )
    assert parsed.folder == "AllTraffic/2024/03/05/07"


def test_capture_file_key_is_named_in_utc():
    cet = dt.timezone(dt.timedelta(hours=1))
    start = dt.datetime(2024, 1, 1, 0, 30, 0, 5000, tzinfo=cet)  # 2023-12-31 23:30 UTC
    key = capture_key.capture_file_key("p", "ep", "v", start, "id")
    assert key == "p/ep/v/2023/12/31/23/30-00-005-id.jsonl"


def test_hour_folder():
    assert capture_key.hour_folder(WHEN) == "2024/03/05/07"
    assert capture_key.hour_folder(WHEN.replace(tzinfo=None)) == "2024/03/05/07"
    est = dt.timezone(dt.timedelta(hours=-5))
    assert capture_key.hour_folder(dt.datetime(2024, 3, 5, 22, tzinfo=est)) == "2024/03/06/03"


@pytest.mark.parametrize(
    "path",
    [
        "2024/03/05/07",
        "ep/AllTraffic/2024/03/05/07",
        "ep/AllTraffic/2024/03/05/07/",
        "s3://bucket/prefix/ep/AllTraffic/2024/03/05/07",
        "/tmp/capture/ep/AllTraffic/2024/03/05/07",
    ],
)
def test_parse_hour_folder(path):
    hour = capture_key.parse_hour_folder(path)
    assert hour == dt.datetime(2024, 3, 5, 7, tzinfo=UTC)
    assert hour.tzinfo is UTC


@pytest.mark.parametrize(
    "path",
    [
        "2024/13/01/00",  # month 13
        "2024/02/30/00",  # 30 February
        "2024/01/01/24",  # hour 24
        "0000/01/01/00",  # year 0
        "2024/1/01/00",  # not two digits
        "x12024/01/01/00",  # the year is part of a longer name
        "2024/01/01/00/file.jsonl",  # not at the end
        "AllTraffic",
        "",
    ],
)
def test_parse_hour_folder_rejects_what_is_not_an_hour_folder(path):
    assert capture_key.parse_hour_folder(path) is None


@pytest.mark.parametrize(
    "relative",
    [
        "AllTraffic/2024/03/05/07/x.json",  # not .jsonl
        "AllTraffic/2024/03/05/x.jsonl",  # one level short
        "ep/AllTraffic/2024/03/05/07/x.jsonl",  # one level too many
        "AllTraffic/2024/13/05/07/x.jsonl",  # no month 13
    ],
)
def test_parse_capture_file_key_rejects_other_keys(relative):
    assert capture_key.parse_capture_file_key(relative) is None


def test_report_folder():
    folder = capture_key.report_folder("s3://b/reports/", "ep", "sched", WHEN)
    assert folder == "s3://b/reports/ep/sched/2024/03/05/07"
    assert capture_key.parse_hour_folder(folder) == WHEN.replace(minute=0, second=0, microsecond=0)


# --------------------------------------------------------------------------------------------
# capture_record: building


def _line(config=None, request=b"1,2", request_type="text/csv", response=b"0.5", **kw):
    return capture_record.build_line(
        config=config or {},
        request=request,
        request_type=request_type,
        response=response,
        response_type=kw.pop("response_type", "text/csv; charset=utf-8"),
        event_id=kw.pop("event_id", "e-1"),
        when=kw.pop("when", WHEN),
        **kw,
    )


def test_build_line_is_the_service_layout():
    line = _line(inference_id="inf-1", custom_attributes="a=1")
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert b": " not in line and b", " not in line  # compact separators
    doc = json.loads(line)
    assert list(doc) == ["captureData", "eventMetadata", "eventVersion"]
    assert doc["eventVersion"] == "0"
    assert doc["captureData"]["endpointInput"] == {
        "observedContentType": "text/csv",
        "mode": "INPUT",
        "data": "1,2",
        "encoding": "CSV",
    }
    assert list(doc["captureData"]["endpointOutput"]) == [
        "observedContentType",
        "mode",
        "data",
        "encoding",
    ]
    assert doc["eventMetadata"] == {
        "eventId": "e-1",
        "inferenceId": "inf-1",
        "inferenceTime": "2024-03-05T07:08:09Z",
        "customAttributes": ["a=1"],
    }


def test_build_line_encodings_and_capture_modes():
    header = {"CsvContentTypes": ["text/x-csv"], "JsonContentTypes": ["application/jsonlines"]}
    config = {"CaptureOptions": [{"CaptureMode": "Input"}], "CaptureContentTypeHeader": header}
    doc = json.loads(_line(config, request=b"1,2", request_type="Text/X-CSV; charset=utf-8"))
    assert list(doc["captureData"]) == ["endpointInput"]
    assert doc["captureData"]["endpointInput"]["encoding"] == "CSV"
    # text/csv is no longer CSV under that header: BASE64
    doc = json.loads(_line(config, request=b"1,2", request_type="text/csv"))
    assert doc["captureData"]["endpointInput"]["encoding"] == "BASE64"
    doc = json.loads(_line({}, request=b'{"a": 1}', request_type="application/json"))
    assert doc["captureData"]["endpointInput"]["encoding"] == "JSON"
    # a CSV content type whose bytes are not UTF-8 is kept as BASE64, bytes exact
    doc = json.loads(_line({}, request=b"\xff\x00,1"))
    event = doc["captureData"]["endpointInput"]
    assert event["encoding"] == "BASE64"
    assert capture_record.decode_bytes(event) == b"\xff\x00,1"


def test_capture_modes_and_media_type():
    assert capture_record.capture_modes({}) == {"Input", "Output"}
    both = {"CaptureOptions": [{"CaptureMode": "InputAndOutput"}]}
    assert capture_record.capture_modes(both) == {"Input", "Output"}
    assert capture_record.capture_modes({"CaptureOptions": [{"CaptureMode": "Output"}]}) == {
        "Output"
    }
    assert capture_record.media_type(" Text/CSV ; charset=utf-8") == "text/csv"
    assert capture_record.media_type(None) == ""
    assert capture_record.encoding_for(None, None) == "BASE64"


def test_inference_time_is_utc_seconds():
    est = dt.timezone(dt.timedelta(hours=-5))
    assert capture_record.inference_time(dt.datetime(2024, 1, 1, 20, 0, 1, 999999, est)) == (
        "2024-01-02T01:00:01Z"
    )


# --------------------------------------------------------------------------------------------
# capture_record: parsing


def test_build_then_parse_round_trip():
    raw = b"\x89PNG\r\n\x00"
    line = _line(request=raw, request_type="image/png", response=b"[0.5]")
    (record,) = capture_record.parse_lines(line)
    events = capture_record.payloads(record)
    assert set(events) == {"endpointInput", "endpointOutput"}
    assert capture_record.decode_bytes(events["endpointInput"]) == raw
    assert capture_record.decode_bytes(events["endpointOutput"]) == b"[0.5]"
    assert not capture_record.is_shadow(record)


def test_parse_lines_keeps_line_separators_inside_json_strings():
    """U+2028 / U+0085 are not JSON-escaped (ensure_ascii=False); a line ends at \\n only."""
    line = _line(request="a\u2028b\x85c,1".encode())
    for content in (line + line, (line + line).decode("utf-8")):
        records = capture_record.parse_lines(content)
        assert len(records) == 2
        assert records[1]["captureData"]["endpointInput"]["data"] == "a\u2028b\x85c,1"


def test_iter_lines_numbers_lines_and_skips_blank_ones():
    lines = [b"{}\n", b"\n", b"  \n", b'{"a": 1}\r\n']
    assert list(capture_record.iter_lines(lines)) == [(1, {}), (4, {"a": 1})]


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"\xff\xfe{}", "not UTF-8"),
        ("{not json", "invalid JSON"),
        ("[1, 2]", "not a JSON object"),
        ("42", "not a JSON object"),
    ],
)
def test_parse_line_errors_name_source_and_line(raw, problem):
    with pytest.raises(CaptureFormatError) as err:
        capture_record.parse_line(raw, source="s3://b/k.jsonl", line=7)
    assert str(err.value).startswith(
        f"Malformed capture record in s3://b/k.jsonl line 7: {problem}"
    )
    assert isinstance(err.value, ValueError)


def test_parse_lines_error_names_the_line_number():
    content = b"{}\n\n{broken\n"
    with pytest.raises(CaptureFormatError, match=r"^Malformed capture record in f\.jsonl line 3:"):
        capture_record.parse_lines(content, source="f.jsonl")
    with pytest.raises(CaptureFormatError, match=r"in capture data line 1: invalid JSON"):
        capture_record.parse_line("nope")


def test_payloads_and_shadow():
    with pytest.raises(CaptureFormatError, match="no 'captureData' object"):
        capture_record.payloads({"eventMetadata": {}})
    only_input = {"captureData": {"endpointInput": {"data": "1"}, "endpointOutput": None}}
    assert list(capture_record.payloads(only_input)) == ["endpointInput"]
    shadow = {"eventMetadata": {"invocationSource": "ShadowExperiment"}}
    assert capture_record.is_shadow(shadow)
    assert not capture_record.is_shadow({"eventMetadata": "ShadowExperiment"})
    assert not capture_record.is_shadow({})


# --------------------------------------------------------------------------------------------
# capture_record: decoding payloads


def _event(data, encoding, mode="INPUT"):
    return {"observedContentType": "x", "mode": mode, "data": data, "encoding": encoding}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def test_decode_text_and_bytes():
    assert capture_record.decode_bytes(_event("é,1", "CSV")) == "é,1".encode()
    assert capture_record.decode_text(_event('{"a": 1}', "JSON")) == '{"a": 1}'
    assert capture_record.decode_text(_event(_b64("é,1".encode()), "BASE64")) == "é,1"
    assert capture_record.decode_bytes(_event(_b64(b"\xff\x00"), "BASE64")) == b"\xff\x00"


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (_event("!!not base64", "BASE64"), "BASE64 data is not valid base64"),
        (_event("abc", "BASE64"), "BASE64 data is not valid base64"),  # bad padding
        (_event("1,2", "XML"), "unknown encoding 'XML' (expected CSV, JSON or BASE64)"),
        (_event("1,2", None), "unknown encoding None"),
        (_event(None, "CSV", mode="OUTPUT"), "OUTPUT has no string 'data' field"),
        (_event(12, "BASE64"), "INPUT has no string 'data' field"),
        ({"encoding": "CSV"}, "payload has no string 'data' field"),
    ],
)
def test_decode_bytes_errors(event, message):
    with pytest.raises(CaptureFormatError) as err:
        capture_record.decode_bytes(event)
    assert str(err.value).startswith(message)
    with pytest.raises(CaptureFormatError):
        capture_record.decode_text(event)


def test_decode_text_rejects_binary():
    with pytest.raises(CaptureFormatError, match="does not decode to UTF-8 text"):
        capture_record.decode_text(_event(_b64(b"\xff\xfe"), "BASE64"))


def test_decode_payload_for_display():
    assert capture_record.decode_payload(None) is None
    assert capture_record.decode_payload({"encoding": "CSV"}) is None
    assert capture_record.decode_payload({"encoding": "CSV", "data": None}) is None
    assert capture_record.decode_payload(_event("1,2", "CSV")) == "1,2"
    assert capture_record.decode_payload(_event(_b64(b"[1]"), "BASE64")) == "[1]"
    binary = capture_record.decode_payload(_event(_b64(b"\xff\x00"), "BASE64"))
    assert binary == b"\xff\x00" and isinstance(binary, bytes)
    with pytest.raises(CaptureFormatError, match="not valid base64"):
        capture_record.decode_payload(_event("!!", "BASE64"))
    with pytest.raises(CaptureFormatError, match="unknown encoding"):
        capture_record.decode_payload(_event("1", "XML"))


# --------------------------------------------------------------------------------------------
# reports


class _SdkFile:
    """Stands in for the SDK's Statistics / Constraints objects (they keep ``body_dict``)."""

    def __init__(self, body):
        self.body_dict = body


DOC = {"version": 0.0, "features": [{"name": "a", "inferred_type": "Integral"}]}


def test_load_document_forms(tmp_path):
    path = tmp_path / "statistics.json"
    path.write_text(json.dumps(DOC), encoding="utf-8")
    text = json.dumps(DOC)
    for source in (DOC, _SdkFile(DOC), text, "\n  " + text, text.encode(), path, str(path)):
        assert reports.load_document(source) == DOC
    assert reports.load_document(None) is None
    copy = reports.load_document(DOC)
    assert copy is not DOC  # a copy: the caller's dict is not handed back


def test_load_document_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"^statistics file not found: .*nope\.json$"):
        reports.load_document(tmp_path / "nope.json", what="statistics")
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "a": 1,\n}')
    with pytest.raises(DocumentError, match=r"broken\.json: not valid JSON \(line 3, column 1\)"):
        reports.load_document(broken)
    with pytest.raises(DocumentError, match=r"^constraints JSON text: not valid JSON \(line 1"):
        reports.load_document("{nope", what="constraints")
    with pytest.raises(DocumentError, match="expected a JSON object, found list"):
        reports.load_document("[1, 2]")
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"a": "\xe9"}')
    with pytest.raises(DocumentError, match=r"latin\.json: not UTF-8"):
        reports.load_document(latin)
    with pytest.raises(DocumentError, match="JSON text: not UTF-8"):
        reports.load_document(b'{"a": "\xe9"}')
    with pytest.raises(TypeError, match="cannot read a statistics from int"):
        reports.load_document(3, what="statistics")
    assert issubclass(DocumentError, ValueError)


def test_load_violations():
    one = {"feature_name": "a", "constraint_check_type": "data_type_check", "description": "d"}
    assert reports.load_violations(None) == []
    assert reports.load_violations([one]) == [one]
    assert reports.load_violations({"violations": [one]}) == [one]
    assert reports.load_violations(json.dumps({"violations": [one]})) == [one]
    with pytest.raises(DocumentError, match="no 'violations' list"):
        reports.load_violations({"violations": {}})
    with pytest.raises(DocumentError, match=r"violations\[1\]: missing key 'constraint_check"):
        reports.load_violations([one, {"feature_name": "b"}])
    with pytest.raises(DocumentError, match=r"violations\[0\]: expected an object, found str"):
        reports.load_violations(["x"])


def test_stats_block_and_names():
    num = {"common": {"num_present": 1}}
    assert reports.stats_block({"numerical_statistics": num}) is num
    assert reports.stats_block({"string_statistics": num}) is num
    assert reports.stats_block({"name": "a", "inferred_type": "Unknown"}) is None
    assert reports.stats_block({"numerical_statistics": None, "string_statistics": num}) is num
    assert (reports.STATISTICS, reports.CONSTRAINTS, reports.VIOLATIONS) == (
        "statistics.json",
        "constraints.json",
        "constraint_violations.json",
    )
    assert len(set(reports.CHECK_TYPES)) == 6


# --------------------------------------------------------------------------------------------
# s3uri


def test_split_join_uri():
    assert s3uri.split("s3://bucket/a/b/") == ("bucket", "a/b/")
    assert s3uri.split("s3://bucket") == ("bucket", "")
    assert s3uri.join("s3://bucket/", "/a/", "", "b/") == "s3://bucket/a/b"
    assert s3uri.join("", "a", "b") == "a/b"
    assert s3uri.join("prefix/", "x.json") == "prefix/x.json"
    assert s3uri.uri("bucket", "a/b") == "s3://bucket/a/b"
    assert s3uri.uri("bucket") == "s3://bucket"
    assert s3uri.is_s3("s3://b") and not s3uri.is_s3("/tmp/s3://b") and not s3uri.is_s3(None)


@pytest.mark.parametrize("uri", ["s3://b/k", "s3://b/a/b.json", "s3://b//leading-slash"])
def test_uri_is_the_inverse_of_split(uri):
    assert s3uri.uri(*s3uri.split(uri)) == uri


@pytest.mark.parametrize("bad", ["/tmp/x", "S3://b/k", "https://b.s3.amazonaws.com/k", "s3://"])
def test_split_rejects_what_is_not_an_s3_uri(bad):
    with pytest.raises(ValueError, match="S3 URI"):
        s3uri.split(bad)
