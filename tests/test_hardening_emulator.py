"""Adversarial requests and faults against the emulator (issue 10, emulator side).

Each test asserts the exact answer (HTTP status, error code, message), that nothing was left
behind (no resource created, no file written outside the job folder) and that the emulator still
serves other requests and schedules afterwards. The analyzer's own promises are in
tests/test_hardening_analyzer.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from emulator_support import (
    ANALYZER_IMAGE,
    ROLE,
    Emulator,
    baseline_job,
    capture_config,
    data_quality_job_definition,
    deploy,
    read_lines,
    tiny_model,
    upload,
    wait_job,
)

from mmutils.emulator import processing
from mmutils.emulator.monitoring import cron

AUTH = (
    "AWS4-HMAC-SHA256 Credential=testing/20260105/us-east-1/sagemaker/aws4_request, "
    "SignedHeaders=host, Signature=0"
)
START = "2026-01-05T09:00:00Z"
HANDLER_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-own-model:1"


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    state = tmp_path_factory.mktemp("hardening-emulator")
    env = {"MMLAB_INFERENCE_HANDLER": "emulator_support:echo_handler", "MMLAB_SECRET": "s3cr3t"}
    emulator = Emulator(state, env).start()
    _, tarball = tiny_model()
    deploy(emulator, "good", tarball, capture=capture_config("s3://lab-bucket/capture"))
    deploy(
        emulator,
        "byo",
        tarball,
        image=HANDLER_IMAGE,
        capture=capture_config("s3://lab-bucket/capture"),
    )
    _clock(emulator, {"set": START})
    yield emulator
    emulator.stop()


def _http(emu: Emulator, path: str, body: bytes, headers: dict) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(
        emu.url + path, data=body, headers={"Authorization": AUTH, **headers}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _sagemaker(emu: Emulator, action: str, body: bytes) -> tuple[int, dict]:
    status, headers, raw = _http(
        emu,
        "/",
        body,
        {"X-Amz-Target": f"SageMaker.{action}", "Content-Type": "application/x-amz-json-1.1"},
    )
    assert headers["Content-Type"].startswith("application/x-amz-json-1.1"), raw[:200]
    return status, json.loads(raw)


def _invoke(emu: Emulator, endpoint: str, body: bytes, content_type: str):
    return _http(emu, f"/endpoints/{endpoint}/invocations", body, {"Content-Type": content_type})


def _clock(emu: Emulator, doc: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        emu.url + "/moto-api/mmlab/clock", data=json.dumps(doc).encode(), method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as err:
        assert err.headers["Content-Type"] == "application/json"
        return err.code, json.loads(err.read())


def _still_serves(emu: Emulator) -> None:
    """The emulator still answers a normal SageMaker call and a normal invocation."""
    sm = emu.client("sagemaker")
    assert sm.describe_endpoint(EndpointName="good")["EndpointStatus"] == "InService"
    status, _, body = _invoke(emu, "good", b"1,2,3,4", "text/csv")
    assert status == 200 and float(body) > 0


# ------------------------------------------------------------------------ class 1: cron

NEVER = [
    "cron(0 0 31 2 ? *)",  # February 31st
    "cron(0 0 30 2 ? *)",
    "cron(0 12 31 4 ? *)",  # April has 30 days
    "cron(0 * ? * * 2020)",  # only past years
]
SUB_HOURLY = [
    "cron(* * * * * *)",
    "cron(0/1 * ? * * *)",
    "cron(*/15 * ? * * *)",
    "cron(0,30 * ? * * *)",
    "cron(0-5 * ? * * *)",
]
MALFORMED = ["cron(0 * ? *)", "rate(1 hour)", "cron(61 * ? * * *)", "cron(0 25 ? * * *)"]
ACCEPTED = [
    "cron(0 * ? * * *)",
    "cron(0 12 ? * * *)",
    "cron(0 0/6 ? * * *)",
    "cron(0 17/12 ? * * *)",
]


def _schedule_config(expression: str, definition: str = "hardening-dq") -> dict:
    return {
        "ScheduleConfig": {"ScheduleExpression": expression},
        "MonitoringJobDefinitionName": definition,
        "MonitoringType": "DataQuality",
    }


@pytest.fixture(scope="module")
def definition(emu):
    sm = emu.client("sagemaker")
    data_quality_job_definition(sm, "hardening-dq", "good", "s3://lab-bucket/reports")
    return "hardening-dq"


@pytest.mark.parametrize("expression", NEVER + SUB_HOURLY + MALFORMED)
def test_bad_cron_is_refused_at_create_and_update(emu, definition, expression):
    sm = emu.client("sagemaker")
    with pytest.raises(ClientError) as err:
        sm.create_monitoring_schedule(
            MonitoringScheduleName="bad-cron", MonitoringScheduleConfig=_schedule_config(expression)
        )
    error = err.value.response["Error"]
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Code"] == "ValidationException"
    assert error["Message"].startswith(f"Invalid ScheduleExpression {expression!r}")
    if expression in NEVER:
        assert "so it would never run" in error["Message"]
    if expression in SUB_HOURLY:
        assert "run at most hourly" in error["Message"]
    names = [
        s["MonitoringScheduleName"]
        for s in sm.list_monitoring_schedules()["MonitoringScheduleSummaries"]
    ]
    assert "bad-cron" not in names
    # update of an existing schedule: refused, old expression kept
    sm.create_monitoring_schedule(
        MonitoringScheduleName="upd-cron", MonitoringScheduleConfig=_schedule_config(ACCEPTED[0])
    )
    try:
        with pytest.raises(ClientError) as err:
            sm.update_monitoring_schedule(
                MonitoringScheduleName="upd-cron",
                MonitoringScheduleConfig=_schedule_config(expression),
            )
        assert err.value.response["Error"]["Code"] == "ValidationException"
        desc = sm.describe_monitoring_schedule(MonitoringScheduleName="upd-cron")
        expr = desc["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"]
        assert expr == ACCEPTED[0]
    finally:
        sm.delete_monitoring_schedule(MonitoringScheduleName="upd-cron")


@pytest.mark.parametrize("expression", ACCEPTED)
def test_supported_cron_is_accepted(emu, definition, expression):
    sm = emu.client("sagemaker")
    name = "ok-" + str(ACCEPTED.index(expression))
    sm.create_monitoring_schedule(
        MonitoringScheduleName=name, MonitoringScheduleConfig=_schedule_config(expression)
    )
    sm.delete_monitoring_schedule(MonitoringScheduleName=name)


def test_healthy_schedules_still_run_after_bad_ones(emu, definition):
    sm = emu.client("sagemaker")
    for expression in NEVER + SUB_HOURLY:
        with pytest.raises(ClientError):
            sm.create_monitoring_schedule(
                MonitoringScheduleName="x", MonitoringScheduleConfig=_schedule_config(expression)
            )
    sm.create_monitoring_schedule(
        MonitoringScheduleName="hourly", MonitoringScheduleConfig=_schedule_config(ACCEPTED[0])
    )
    try:
        status, doc = _clock(emu, {"to_next_hour": True})
        assert status == 200
        ran = [e for e in doc["executions"] if e["schedule"] == "hourly"]
        assert len(ran) == 1  # one execution: it ran (no capture in its window, so it failed)
        assert ran[0]["failure_reason"] == "Job inputs had no data"
    finally:
        sm.delete_monitoring_schedule(MonitoringScheduleName="hourly")


def test_a_schedule_that_cannot_compute_fails_alone(capsys):
    """A schedule whose time cannot be computed is Failed (logged once); others stay due."""
    from mmutils.emulator.monitoring import models

    backend = models.get_backend("000000000001", "eu-west-1")
    t0 = dt.datetime(2026, 1, 5, 9, 0)
    try:
        for name, expression in (("broken", "cron(0 0 31 2 ? *)"), ("fine", "cron(0 * ? * * *)")):
            backend.schedules[name] = models.Schedule(
                name=name,
                arn=models.schedule_arn("000000000001", "eu-west-1", name),
                config=_schedule_config(expression),
                monitoring_type="DataQuality",
                creation_time=t0,
                last_modified_time=t0,
                cursor=t0,
            )
        for _ in range(3):
            due = models.next_due(t0 + dt.timedelta(hours=1))
            assert due is not None and due[3].name == "fine"
        broken = backend.schedules["broken"]
        assert broken.status == "Failed"
        assert broken.failure_reason.startswith(
            "The schedule expression 'cron(0 0 31 2 ? *)' cannot run:"
        )
        assert capsys.readouterr().err.count("schedule broken failed") == 1
    finally:
        models.monitoring_backends.pop(("000000000001", "eu-west-1"), None)


def test_cron_checks_directly():
    now = dt.datetime(2026, 1, 5, 9, 0)
    cron.validate_schedule("cron(0 * ? * * 2027-2030)", {}, now)
    with pytest.raises(ValueError, match="bad year"):
        cron.check_fires("cron(0 * ? * * soon)", now)
    assert cron.fire_times("cron(0 * ? * * 2027)", now, now + dt.timedelta(days=1)) == []


# ------------------------------------------------------------------------ class 9: API shape

BAD_NAMES = ["../../evil", "a/b", "x" * 300, "-lead", "trail-", "under_score", "dot.name", ""]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_endpoint_names_aws_forbids_are_refused(emu, name):
    sm = emu.client("sagemaker")
    status, doc = _sagemaker(
        emu,
        "CreateEndpoint",
        json.dumps({"EndpointName": name, "EndpointConfigName": "good-config"}).encode(),
    )
    assert status == 400
    assert doc["__type"] == "ValidationException"
    pattern = (
        f"Value '{name}' at 'endpointName' failed to satisfy constraint: Member must satisfy "
        "regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
    )
    if len(name) > 63:
        assert doc["message"] == (
            f"2 validation errors detected: Value '{name}' at 'endpointName' failed to satisfy "
            f"constraint: Member must have length less than or equal to 63; {pattern}"
        )
    else:
        assert doc["message"] == f"1 validation error detected: {pattern}"
    names = [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]]
    assert sorted(names) == ["byo", "good"]
    _still_serves(emu)


BAD_BODIES = [
    ("NoSuchAction", b"{}", "UnknownOperationException", "Operation NoSuchAction is not a "),
    ("DescribeEndpoint", b"{not json", "SerializationException", "the request body is not valid"),
    ("DescribeEndpoint", b"[1, 2]", "ValidationException", "1 validation error detected: the "),
    ("DescribeEndpoint", b'"text"', "ValidationException", "1 validation error detected: the "),
    (
        "DescribeEndpoint",
        b'{"EndpointName": ["good"]}',
        "ValidationException",
        "1 validation error detected: Value at 'EndpointName' failed to satisfy constraint: "
        "Member must be of type string, not array",
    ),
    (
        "CreateMonitoringSchedule",
        b'{"MonitoringScheduleName": 5, "MonitoringScheduleConfig": "x"}',
        "ValidationException",
        "2 validation errors detected: Value at 'MonitoringScheduleName' failed to satisfy "
        "constraint: Member must be of type string, not number; Value at "
        "'MonitoringScheduleConfig' failed to satisfy constraint: Member must be of type "
        "structure, not string",
    ),
    (
        "ListMonitoringExecutions",
        b'{"MaxResults": "ten"}',
        "ValidationException",
        "1 validation error detected: Value at 'MaxResults' failed to satisfy constraint: "
        "Member must be of type integer, not string",
    ),
    (
        "CreateProcessingJob",
        b'{"ProcessingJobName": "p", "Environment": {"a": 1}}',
        "ValidationException",
        "1 validation error detected: Value at 'Environment.a' failed to satisfy constraint: "
        "Member must be of type string, not number",
    ),
    (
        "StopMonitoringSchedule",
        b'{"MonitoringScheduleName": true}',
        "ValidationException",
        "1 validation error detected: Value at 'MonitoringScheduleName' failed to satisfy "
        "constraint: Member must be of type string, not boolean",
    ),
]


@pytest.mark.parametrize(("action", "body", "code", "message"), BAD_BODIES)
def test_bad_requests_get_400_json_in_aws_shape(emu, action, body, code, message):
    status, doc = _sagemaker(emu, action, body)
    assert status == 400
    assert doc["__type"] == code
    assert doc["message"].startswith(message)
    _still_serves(emu)


BAD_CLOCK = [
    ({"advance": 1e300}, "advance 1e+300 is too far: at most 3162240000 s (100 years) at once"),
    ({"advance": "abc"}, "advance needs a number of seconds, got 'abc'"),
    ({"advance": "nan"}, "advance needs a number of seconds, got 'nan'"),
    ({"advance": "inf"}, "advance needs a number of seconds, got 'inf'"),
    ({"advance": True}, "advance needs a number of seconds, got True"),
    ({"advance": None}, "advance needs a number of seconds, got None"),
    ({"advance": -5}, "cannot advance the clock by a negative amount (-5.0 s)"),
    ({"set": "yesterday"}, "not an ISO-8601 time: 'yesterday'"),
    ({"mode": "fast"}, "unknown clock mode 'fast' (use 'real', 'flowing' or 'frozen')"),
    ([1, 2], "the request body must be a JSON object"),
]


@pytest.mark.parametrize(("doc", "message"), BAD_CLOCK)
def test_bad_clock_commands_get_400_json(emu, doc, message):
    before = _clock(emu, {"advance": 0})[1]["now"]
    status, answer = _clock(emu, doc)
    assert status == 400
    assert message in answer["error"]
    assert _clock(emu, {"advance": 0})[1]["now"] == before  # the clock did not move


# ------------------------------------------------------------------------ class 4: binary bodies

BINARY = [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
    (b"\x93NUMPY\x01\x00v\x00{'descr': '<f8'}", "application/x-npy"),
    ("1,2,3,\xe9".encode("latin-1"), "text/csv"),
    (bytes(range(256)), "application/octet-stream"),
]


@pytest.mark.parametrize(("body", "content_type"), BINARY)
def test_binary_bodies_get_the_xgboost_containers_415(emu, body, content_type):
    s3 = emu.client("s3")
    _http(emu, "/moto-api/mmlab/flush", b"", {})
    before = len(read_lines(s3, "lab-bucket", "capture/good/"))
    status, headers, raw = _invoke(emu, "good", body, content_type)
    doc = json.loads(raw)
    assert status == 424 and headers["x-amzn-ErrorType"] == "ModelError"
    assert doc["OriginalStatusCode"] == 415
    if content_type == "text/csv":
        assert doc["OriginalMessage"].startswith("Loading csv data failed with Exception")
    else:
        assert doc["OriginalMessage"] == f"Content-type {content_type} is not supported."
    _http(emu, "/moto-api/mmlab/flush", b"", {})
    assert len(read_lines(s3, "lab-bucket", "capture/good/")) == before  # errors are not captured
    _still_serves(emu)


def test_binary_bodies_are_invoked_and_captured_as_base64(emu):
    s3 = emu.client("s3")
    for body, content_type in BINARY:
        status, _, raw = _invoke(emu, "byo", body, content_type)
        assert status == 200
        assert json.loads(raw) == {
            "endpoint": "byo",
            "bytes": len(body),
            "content_type": content_type,
        }
    _http(emu, "/moto-api/mmlab/flush", b"", {})
    records = [json.loads(line) for line in read_lines(s3, "lab-bucket", "capture/byo/")]
    inputs = [r["captureData"]["endpointInput"] for r in records]
    by_type = {i["observedContentType"]: i for i in inputs}
    for body, content_type in BINARY:
        if content_type == "text/csv":
            continue  # CSV is captured as CSV text (configured content type)
        assert by_type[content_type]["encoding"] == "BASE64"
        assert base64.b64decode(by_type[content_type]["data"]) == body


# ------------------------------------------------------------------------ class 3: confinement


def _job_env(**extra) -> dict:
    return {"dataset_source": "/opt/ml/processing/input/baseline_dataset_input", **extra}


ESCAPING_ENV = [
    ({"output_path": "{host}/out"}, "Invalid output_path '{host}/out': the path leaves /opt/ml"),
    (
        {"dataset_source": "/etc/hostname"},
        "Invalid dataset_source '/etc/hostname': the path leaves",
    ),
    ({"output_path": "/opt/ml/../../{host}"}, "Invalid output_path '/opt/ml/../../{host}'"),
    ({"LD_PRELOAD": "/tmp/x.so"}, "ClientError: Environment variable LD_PRELOAD is reserved"),
    ({"PYTHONPATH": "/tmp"}, "ClientError: Environment variable PYTHONPATH is reserved"),
    ({"MMLAB_OPT_ML": "/"}, "ClientError: Environment variable MMLAB_OPT_ML is reserved"),
    ({"MMLAB_CONFINE_PATHS": "0"}, "ClientError: Environment variable MMLAB_CONFINE_PATHS is"),
]


@pytest.mark.parametrize(("extra", "reason"), ESCAPING_ENV)
def test_job_environment_cannot_leave_the_job_folder(emu, tmp_path, extra, reason):
    host = tmp_path / "host"
    host.mkdir()
    extra = {k: v.format(host=host) for k, v in extra.items()}
    data = upload(emu, "lab-bucket", "hardening/data/train.csv", b"a,b\n1,2\n3,4\n")
    name = f"escape-{abs(hash(json.dumps(extra))) % 10**8}"
    baseline_job(emu, name, data, "s3://lab-bucket/hardening/out/", env=extra)
    desc = wait_job(emu.client("sagemaker"), name)
    assert desc["ProcessingJobStatus"] == "Failed"
    assert reason.format(host=host) in desc["FailureReason"]
    assert list(host.iterdir()) == []  # nothing written to the host folder
    s3 = emu.client("s3")
    listed = s3.list_objects_v2(Bucket="lab-bucket", Prefix="hardening/out/")
    assert listed.get("KeyCount", 0) == 0  # nothing uploaded
    _still_serves(emu)


def test_scripts_get_a_minimal_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MMLAB_SECRET", "s3cr3t")
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "k3y")
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    env = processing.analyzer_env({"dataset_format": "{}"}, tmp_path)
    assert "s3cr3t" not in env.values() and "t0ken" not in env.values()
    assert not any(k.startswith("AWS_") for k in env)
    assert env["MMLAB_CONFINE_PATHS"] == "1"
    assert env["MMLAB_OPT_ML"] == env["HOME"] == str(tmp_path)
    assert env["LC_ALL"] == "C.UTF-8" and env["dataset_format"] == "{}"
    allowed = set(processing.INHERITED_ENV) | {
        "HOME",
        "MMLAB_OPT_ML",
        "MMLAB_CONFINE_PATHS",
        "PYTHONUNBUFFERED",
        "PYTHONPATH",
        "dataset_format",
    }
    assert {k for k in env if not k.startswith(processing.INHERITED_PREFIXES)} <= allowed


ENV_DUMPER = """
import json, os
from pathlib import Path
message = Path(os.environ["MMLAB_OPT_ML"]) / "output" / "message"
message.write_text(json.dumps(sorted(os.environ)))
"""


def test_the_analyzer_process_sees_no_emulator_secrets(tmp_path, monkeypatch):
    """End to end: what the job's process sees of the environment is in its ExitMessage."""
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "hardening_env_dump.py").write_text(ENV_DUMPER)
    path = os.pathsep.join(p for p in (str(tmp_path / "mods"), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    env = {
        "MMLAB_ANALYZER_MODULE": "hardening_env_dump",
        "MMLAB_SECRET": "s3cr3t",
        "GITHUB_TOKEN": "t0ken",
    }
    emulator = Emulator(tmp_path / "state", env).start()
    try:
        data = upload(emulator, "lab-bucket", "d/train.csv", b"a\n1\n")
        baseline_job(emulator, "env-dump", data, "s3://lab-bucket/o/", env={"custom": "1"})
        desc = wait_job(emulator.client("sagemaker"), "env-dump")
        assert desc["ProcessingJobStatus"] == "Completed"
        seen = set(json.loads(desc["ExitMessage"]))
    finally:
        emulator.stop()
    assert not {"MMLAB_SECRET", "GITHUB_TOKEN", "MMLAB_ANALYZER_MODULE"} & seen
    assert not any(k.startswith("AWS_") for k in seen)
    assert {"custom", "dataset_source", "MMLAB_CONFINE_PATHS", "MMLAB_OPT_ML", "HOME"} <= seen


# ------------------------------------------------------------------------ load


def test_bounded_load_acknowledged_equals_captured(tmp_path):
    """4 threads x 60 invokes with capture on, malformed requests interleaved."""
    threads, per_thread = 4, 60
    emulator = Emulator(tmp_path / "load").start()
    try:
        _, tarball = tiny_model()
        deploy(emulator, "load", tarball, capture=capture_config("s3://lab-bucket/load-capture"))
        acknowledged, refused, errors = [], [], []
        lock = threading.Lock()

        def worker(n: int) -> None:
            for i in range(per_thread):
                try:
                    status, _, _ = _invoke(emulator, "load", f"{n},{i},0.5,1".encode(), "text/csv")
                    with lock:
                        (acknowledged if status == 200 else errors).append(status)
                    if i % 5 == 0:  # malformed requests between the good ones
                        bad = [
                            _invoke(emulator, "load", b"\xff\xfe", "image/png")[0],
                            _invoke(emulator, "load", b"a,b,c,d", "text/csv")[0],
                            _sagemaker(emulator, "NoSuchAction", b"{}")[0],
                            _sagemaker(emulator, "DescribeEndpoint", b"[]")[0],
                        ]
                        with lock:
                            refused.extend(bad)
                except Exception as exc:  # noqa: BLE001 - counted and asserted below
                    with lock:
                        errors.append(repr(exc))

        started = time.monotonic()
        pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        seconds = time.monotonic() - started
        assert errors == []
        assert len(acknowledged) == threads * per_thread
        assert sorted(set(refused)) == [400, 424]
        _http(emulator, "/moto-api/mmlab/flush", b"", {})
        lines = read_lines(emulator.client("s3"), "lab-bucket", "load-capture/load/")
        assert len(lines) == len(acknowledged)
        inputs = sorted(json.loads(line)["captureData"]["endpointInput"]["data"] for line in lines)
        expected = sorted(f"{n},{i},0.5,1" for n in range(threads) for i in range(per_thread))
        assert inputs == expected
        print(f"load: {len(acknowledged)} invokes + {len(refused)} malformed in {seconds:.1f} s")
    finally:
        emulator.stop()
    assert "Traceback" not in emulator.stderr()


# ------------------------------------------------------------------------ class 5: signals

SLEEPER = """
import os, subprocess, sys, time
# a customer process left behind in the analyzer's group, and the analyzer itself, both wait
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
time.sleep(300)
"""


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait(predicate, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_kill_9_of_the_emulator_mid_job_orphans_no_analyzer(tmp_path, monkeypatch):
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "hardening_sleeper.py").write_text(SLEEPER)
    state = tmp_path / "state"
    path = os.pathsep.join(p for p in (str(tmp_path / "mods"), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)  # the emulator (and so the analyzer) imports it
    env = {"MMLAB_ANALYZER_MODULE": "hardening_sleeper"}
    first = Emulator(state, env).start()
    data = upload(first, "lab-bucket", "d/train.csv", b"a\n1\n")
    baseline_job(first, "sleepy", data, "s3://lab-bucket/o/")
    marker = state / "jobs" / "sleepy" / processing.PGID_FILE
    assert _wait(marker.exists)
    pgid = int(marker.read_text())
    assert _wait(lambda: len(_members(pgid)) >= 2)  # the analyzer and the process it started
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait()
    first._stderr.close()
    # the analyzer dies with its emulator (PR_SET_PDEATHSIG) ...
    assert _wait(lambda: pgid not in _members(pgid))
    # ... and the next start over the same state folder kills what it left behind
    second = Emulator(state, env).start()
    try:
        assert _wait(lambda: not _group_alive(pgid))
        assert not (state / "jobs" / "sleepy").exists()
        assert "cleaned up 1 job(s) a previous emulator left running: sleepy" in second.stderr()
        assert second.client("sagemaker").list_endpoints()["Endpoints"] == []
    finally:
        second.stop()


def _members(pgid: int) -> list[int]:
    out = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            out.append(int(proc.name))
    return out


def test_stop_processing_job_kills_the_whole_group(emu, tmp_path):
    """StopProcessingJob and MaxRuntimeInSeconds kill the analyzer's process group."""
    # (unit level: kill_group on a group with a child)
    proc = subprocess.Popen(
        [sys.executable, "-c", SLEEPER], start_new_session=True, stdout=subprocess.DEVNULL
    )
    assert _wait(lambda: len(_members(proc.pid)) >= 2)
    processing.kill_group(proc.pid)
    proc.wait()
    assert _wait(lambda: not _group_alive(proc.pid))
    processing.kill_group(proc.pid)  # gone already: nothing to do, no error


def test_emulator_stops_when_its_parent_dies(tmp_path):
    """``--parent-pid``: the server's watchdog stops it when the parent is SIGKILLed."""
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, subprocess, sys, time\n"
            "p = subprocess.Popen([sys.executable, '-m', 'mmutils.emulator.server', '--port', '0',"
            f" '--state-dir', {str(tmp_path)!r}, '--parent-pid', str(os.getpid())],"
            " stdout=subprocess.PIPE, text=True)\n"
            "print(p.pid, p.stdout.readline().strip(), flush=True)\n"
            "time.sleep(300)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    pid, line = parent.stdout.readline().split(" ", 1)
    assert line.startswith("mmlab emulator listening on http://127.0.0.1:")
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    server = int(pid)
    assert _wait(lambda: not Path(f"/proc/{server}").exists() or _zombie(server), 15)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_unused(emu):
    """The module's emulator is still healthy at the end (and wrote no traceback)."""
    _still_serves(emu)
    assert ROLE and ANALYZER_IMAGE
