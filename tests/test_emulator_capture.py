"""Data capture as SageMaker writes it (spec §A): line bytes, key layout, encodings, options,
sampling, rolling, visibility, and no record lost on flush or stop."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import time

import pytest
from emulator_support import (
    XGB_IMAGE,
    capture_config,
    deploy,
    list_keys,
    read_lines,
    running,
    tiny_model,
)

from mmutils.emulator.admin_client import EmulatorClient
from mmutils.formats.capture_key import capture_file_key
from mmutils.formats.capture_record import build_line, encoding_for

BUCKET = "lab-bucket"
KEY_RE = re.compile(
    r"^dc/(?P<ep>[^/]+)/AllTraffic/(?P<y>\d{4})/(?P<m>\d\d)/(?P<d>\d\d)/(?P<H>\d\d)/"
    r"(?P<M>\d\d)-(?P<S>\d\d)-(?P<ms>\d{3})-"
    r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.jsonl$"
)


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    with running(
        tmp_path_factory.mktemp("capture"),
        {"MMLAB_INFERENCE_HANDLER": "emulator_support:echo_handler"},
    ) as emu:
        yield emu


@pytest.fixture(scope="module")
def model():
    return tiny_model(4)


def _deploy(emu, model, name, **capture_extra):
    deploy(emu, name, model[1], capture=capture_config(f"s3://{BUCKET}/dc", **capture_extra))


def _lines(emu, prefix):
    EmulatorClient(emu.url).flush()
    return read_lines(emu.client("s3"), BUCKET, prefix)


def _keys(emu, prefix):
    EmulatorClient(emu.url).flush()
    return list_keys(emu.client("s3"), BUCKET, prefix)


def _invoke(emu, name, body, content_type="text/csv", **kw):
    rt = emu.client("sagemaker-runtime")
    return rt.invoke_endpoint(EndpointName=name, Body=body, ContentType=content_type, **kw)


def test_line_bytes_and_key_layout(emu, model):
    c = EmulatorClient(emu.url)
    c.seed(1)
    c.set_clock("2024-01-01T10:20:48.871Z")
    _deploy(emu, model, "cap-line")
    out = _invoke(emu, "cap-line", b"0.5,1,2,3")["Body"].read()
    keys = _keys(emu, "dc/cap-line/")
    assert len(keys) == 1
    m = KEY_RE.match(keys[0])
    assert m and m.group("ep") == "cap-line"
    assert (m["y"], m["m"], m["d"], m["H"], m["M"], m["S"], m["ms"]) == (
        "2024",
        "01",
        "01",
        "10",
        "20",
        "48",
        "871",
    )
    [line] = _lines(emu, "dc/cap-line/")
    event_id = json.loads(line)["eventMetadata"]["eventId"]
    expected = (
        '{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT",'
        '"data":"0.5,1,2,3","encoding":"CSV"},"endpointOutput":{"observedContentType":'
        f'"text/csv; charset=utf-8","mode":"OUTPUT","data":"{out.decode()}","encoding":"CSV"}}}},'
        f'"eventMetadata":{{"eventId":"{event_id}","inferenceTime":"2024-01-01T10:20:48Z"}},'
        '"eventVersion":"0"}\n'
    )
    assert line.decode() == expected
    # the same seed gives the same ids
    c.seed(1)
    c.set_clock("2024-01-01T10:20:48.871Z")
    _deploy(emu, model, "cap-line2")
    _invoke(emu, "cap-line2", b"0.5,1,2,3")
    [line2] = _lines(emu, "dc/cap-line2/")
    assert json.loads(line2)["eventMetadata"]["eventId"] == event_id
    key2 = _keys(emu, "dc/cap-line2/")[0]
    assert key2.split("/")[-1] == keys[0].split("/")[-1]


def test_matches_the_real_capture_line_structure(conformance_dir):
    """The real line rebuilt from its parts gives the same bytes."""
    real = (conformance_dir / "real" / "capture_lines_real.jsonl").read_bytes().splitlines()[0]
    doc = json.loads(real)
    inp, out = doc["captureData"]["endpointInput"], doc["captureData"]["endpointOutput"]
    when = dt.datetime.fromisoformat(doc["eventMetadata"]["inferenceTime"].replace("Z", "+00:00"))
    line = build_line(
        config=capture_config("s3://b/dc"),
        request=inp["data"].encode(),
        request_type=inp["observedContentType"],
        response=out["data"].encode(),
        response_type=out["observedContentType"],
        event_id=doc["eventMetadata"]["eventId"],
        when=when,
    )
    assert line == real + b"\n"


@pytest.mark.parametrize(
    ("content_type", "header", "expected"),
    [
        ("text/csv", None, "CSV"),
        ("text/csv; charset=utf-8", {"CsvContentTypes": ["text/csv"]}, "CSV"),
        ("application/json", None, "JSON"),
        ("application/jsonlines", {"JsonContentTypes": ["application/jsonlines"]}, "JSON"),
        ("application/jsonlines", None, "BASE64"),
        ("application/x-npy", None, "BASE64"),
        ("text/plain", {"CsvContentTypes": ["text/plain"]}, "CSV"),
    ],
)
def test_encoding_rules(content_type, header, expected):
    assert encoding_for(content_type, header) == expected


def test_capture_file_key_is_named_after_the_first_record():
    when = dt.datetime(2022, 4, 18, 0, 21, 48, 903000, tzinfo=dt.UTC)
    key = capture_file_key(
        "sagemaker/dc", "ep", "AllTraffic", when, "028573f5-3215-431a-b3b8-a200be4d2d9a"
    )
    assert key == (
        "sagemaker/dc/ep/AllTraffic/2022/04/18/00/21-48-903-028573f5-3215-431a-b3b8-a200be4d2d9a.jsonl"
    )


def test_json_and_base64_payloads_with_content_type_lists(emu, model):
    # non-XGBoost images answer through emulator_support.echo_handler (JSON out)
    EmulatorClient(emu.url).set_clock("2024-01-02T00:00:00Z")
    deploy(
        emu,
        "cap-json",
        model[1],
        image="my/custom-image",
        capture=capture_config(
            f"s3://{BUCKET}/dc",
            CaptureContentTypeHeader={"JsonContentTypes": ["application/json"]},
        ),
    )
    _invoke(emu, "cap-json", b'{"x": [1, 2]}', "application/json")
    _invoke(emu, "cap-json", b"\x00\x01binary", "application/x-npy")
    lines = [json.loads(x) for x in _lines(emu, "dc/cap-json/")]
    first, second = (d["captureData"]["endpointInput"] for d in lines)
    assert lines[0]["captureData"]["endpointOutput"]["data"] == json.dumps(
        {"endpoint": "cap-json", "bytes": 13, "content_type": "application/json"}
    )
    assert first == {
        "observedContentType": "application/json",
        "mode": "INPUT",
        "data": '{"x": [1, 2]}',
        "encoding": "JSON",
    }
    assert second["encoding"] == "BASE64"
    assert base64.b64decode(second["data"]) == b"\x00\x01binary"


def test_input_only_inference_id_and_custom_attributes(emu, model):
    EmulatorClient(emu.url).set_clock("2024-01-03T00:00:00Z")
    _deploy(emu, model, "cap-in", CaptureOptions=[{"CaptureMode": "Input"}])
    _invoke(emu, "cap-in", b"1,2,3,4", InferenceId="row-7", CustomAttributes="c=1")
    [line] = _lines(emu, "dc/cap-in/")
    doc = json.loads(line)
    assert list(doc["captureData"]) == ["endpointInput"]
    assert list(doc["eventMetadata"]) == [
        "eventId",
        "inferenceId",
        "inferenceTime",
        "customAttributes",
    ]
    assert doc["eventMetadata"]["inferenceId"] == "row-7"
    assert b'"inferenceId":"row-7","inferenceTime":"2024-01-03T00:00:00Z"' in line


def test_sampling_at_50_percent_is_deterministic_with_a_seed(emu, model):
    c = EmulatorClient(emu.url)
    picked = []
    name = "cap-sample"
    for _ in range(2):
        c.reset()  # same endpoint name, same seed: the same records are sampled
        c.seed(123)
        c.set_clock("2024-01-04T00:00:00Z")
        _deploy(emu, model, name, InitialSamplingPercentage=50)
        for i in range(200):
            _invoke(emu, name, f"{i},0,0,0".encode())
        lines = _lines(emu, f"dc/{name}/")
        picked.append([json.loads(x)["captureData"]["endpointInput"]["data"] for x in lines])
    assert picked[0] == picked[1]
    assert 70 <= len(picked[0]) <= 130
    desc = emu.client("sagemaker").describe_endpoint(EndpointName="cap-sample")
    assert desc["DataCaptureConfig"]["CurrentSamplingPercentage"] == 50


def test_rolls_after_a_minute_and_on_the_hour(emu, model):
    c = EmulatorClient(emu.url)
    c.set_clock("2024-01-05T09:58:30Z")
    _deploy(emu, model, "cap-roll")
    _invoke(emu, "cap-roll", b"1,0,0,0")
    c.advance(30)  # 09:59:00, 30 s after the file's first record: same file
    _invoke(emu, "cap-roll", b"2,0,0,0")
    c.advance(30)  # 09:59:30, 60 s: new file
    _invoke(emu, "cap-roll", b"3,0,0,0")
    c.advance(40)  # 10:00:10, a new hour: new file in a new folder
    _invoke(emu, "cap-roll", b"4,0,0,0")
    keys = _keys(emu, "dc/cap-roll/")
    names = [k.split("/AllTraffic/")[1][:23] for k in keys]
    assert names == [
        "2024/01/05/09/58-30-000",
        "2024/01/05/09/59-30-000",
        "2024/01/05/10/00-10-000",
    ]
    per_file = [len(read_lines(emu.client("s3"), BUCKET, k)) for k in keys]
    assert per_file == [2, 1, 1]


def test_records_are_visible_right_after_invoke(emu, model):
    c = EmulatorClient(emu.url)
    c.set_clock("2024-01-06T00:00:00Z")
    _deploy(emu, model, "cap-fast")
    s3 = emu.client("s3")
    for i in range(5):
        _invoke(emu, "cap-fast", f"{i},0,0,0".encode())
    t0 = time.monotonic()
    while len(read_lines(s3, BUCKET, "dc/cap-fast/")) < 5:
        assert time.monotonic() - t0 < 1.0, "capture not in S3 within 1 s"
        time.sleep(0.05)
    # read-your-writes: an S3 read right after more traffic already sees all of it
    for i in range(5, 205):
        _invoke(emu, "cap-fast", f"{i},0,0,0".encode())
    lines = read_lines(s3, BUCKET, "dc/cap-fast/")
    assert len(lines) == 205
    inputs = [json.loads(x)["captureData"]["endpointInput"]["data"] for x in lines]
    assert inputs == [f"{i},0,0,0" for i in range(205)]


def test_capture_off_writes_nothing_and_errors_are_not_captured(emu, model):
    EmulatorClient(emu.url).set_clock("2024-01-07T00:00:00Z")
    _deploy(emu, model, "cap-err")
    rt = emu.client("sagemaker-runtime")
    with pytest.raises(rt.exceptions.ModelError):
        _invoke(emu, "cap-err", b"not,a,number,x")
    deploy(
        emu,
        "cap-off",
        model[1],
        capture={**capture_config(f"s3://{BUCKET}/dc"), "EnableCapture": False},
    )
    _invoke(emu, "cap-off", b"1,2,3,4")
    EmulatorClient(emu.url).flush()
    assert list_keys(emu.client("s3"), BUCKET, "dc/cap-err/") == []
    assert list_keys(emu.client("s3"), BUCKET, "dc/cap-off/") == []
    desc = emu.client("sagemaker").describe_endpoint(EndpointName="cap-off")["DataCaptureConfig"]
    assert desc["CaptureStatus"] == "Stopped" and desc["EnableCapture"] is False


def test_flush_makes_every_record_visible_and_stop_is_clean(tmp_path, model):
    with running(tmp_path / "a") as emu:
        EmulatorClient(emu.url).set_clock("2024-01-08T00:00:00Z")
        deploy(emu, "cap-stop", model[1], capture=capture_config(f"s3://{BUCKET}/dc"))
        for i in range(300):
            _invoke(emu, "cap-stop", f"{i},1,2,3".encode())
        EmulatorClient(emu.url).flush()
        lines = read_lines(emu.client("s3"), BUCKET, "dc/cap-stop/")
        data = [json.loads(x)["captureData"]["endpointInput"]["data"] for x in lines]
        assert data == [f"{i},1,2,3" for i in range(300)]
        assert emu.stop() == 0
    assert "Traceback" not in emu.stderr()


def test_flush_on_stop_writes_buffers(model):
    """In process: records still buffered when the server stops are written by the stop."""
    from mmutils.emulator.capture_writer import CaptureWriter
    from mmutils.emulator.server import EmulatorServer

    server = EmulatorServer(port=0).start()
    try:
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id="a",
            aws_secret_access_key="b",
        )
        s3.create_bucket(Bucket="inproc-bucket")
        writer = CaptureWriter()  # no flusher thread: everything stays buffered
        for i in range(50):
            assert writer.record(
                account="123456789012",
                region="us-east-1",
                endpoint="ep",
                variant="AllTraffic",
                config=capture_config("s3://inproc-bucket/dc"),
                request=f"{i}".encode(),
                request_type="text/csv",
                response=b"0.5",
                response_type="text/csv",
            )
        assert writer.pending() == 50
        assert list_keys(s3, "inproc-bucket", "dc/") == []
        writer.stop()
        assert writer.pending() == 0
        assert len(read_lines(s3, "inproc-bucket", "dc/")) == 50
    finally:
        server.stop()


def test_records_for_a_missing_bucket_wait_for_it(tmp_path, model):
    with running(tmp_path / "b") as emu:
        EmulatorClient(emu.url).set_clock("2024-01-09T00:00:00Z")
        deploy(emu, "cap-nob", model[1], capture=capture_config("s3://late-bucket/dc"))
        _invoke(emu, "cap-nob", b"1,2,3,4")
        EmulatorClient(emu.url).flush()
        s3 = emu.client("s3")
        s3.create_bucket(Bucket="late-bucket")
        EmulatorClient(emu.url).flush()
        assert len(read_lines(s3, "late-bucket", "dc/cap-nob/")) == 1
        assert "kept in memory" in emu.stderr()
    assert XGB_IMAGE  # the default image of deploy()
