"""The durable emulator: state survives a stop, a restart and kill -9 (docs/persistence.md)."""

from __future__ import annotations

import json
import os
import random
import threading
import time

import pytest
from emulator_support import (
    ROLE,
    Emulator,
    baseline_job,
    capture_config,
    data_quality_job_definition,
    deploy,
    read_lines,
    running,
    tiny_model,
    upload,
)

from mmutils.emulator import lifecycle
from mmutils.emulator.admin_client import EmulatorClient, EmulatorError
from mmutils.emulator.persistence import folder
from mmutils.paths import TEST_DATA

pytestmark = pytest.mark.slow

BUCKET = "lab-bucket"
ENDPOINT = "durable-ep"
SCHEDULE = "durable-schedule"
CAPTURE = f"s3://{BUCKET}/capture"


def _rows(n_features: int = 4) -> list[str]:
    rng = random.Random(3)
    return [",".join(f"{rng.uniform(-2, 2):.4f}" for _ in range(n_features)) for _ in range(50)]


def _objects(s3, bucket: str) -> dict[str, bytes]:
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            out[item["Key"]] = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
    return out


def _lab_state(emu: Emulator) -> dict:
    sm, s3 = emu.client("sagemaker"), emu.client("s3")
    schedule = sm.describe_monitoring_schedule(MonitoringScheduleName=SCHEDULE)
    executions = sm.list_monitoring_executions(MonitoringScheduleName=SCHEDULE)
    return {
        "objects": _objects(s3, BUCKET),
        "endpoint": sm.describe_endpoint(EndpointName=ENDPOINT)["EndpointStatus"],
        "config": sm.describe_endpoint_config(EndpointConfigName=f"{ENDPOINT}-config")[
            "DataCaptureConfig"
        ],
        "schedule": (schedule["MonitoringScheduleStatus"], schedule["MonitoringScheduleConfig"]),
        "executions": [
            (e["ScheduledTime"], e["MonitoringExecutionStatus"])
            for e in executions["MonitoringExecutionSummaries"]
        ],
        "role": emu.client("iam").get_role(RoleName="LabRole")["Role"]["Arn"],
        "metrics": sorted(
            m["MetricName"] for m in emu.client("cloudwatch").list_metrics()["Metrics"]
        ),
        "clock": EmulatorClient(emu.url).clock(),
    }


def test_graceful_stop_keeps_everything_and_loses_no_capture(tmp_path):
    state = tmp_path / "emu"
    _, tarball = tiny_model()
    rows = _rows()
    with running(state) as emu:
        admin = EmulatorClient(emu.url)
        admin.set_clock("2026-01-05T09:50:00Z")
        admin.seed(7)
        deploy(emu, ENDPOINT, tarball, capture=capture_config(CAPTURE))
        s3 = emu.client("s3")
        s3.put_object(Bucket=BUCKET, Key="empty", Body=b"")
        s3.put_object(Bucket=BUCKET, Key="binary/\u00e9 key", Body=bytes(range(256)) * 9)
        s3.upload_file(str(TEST_DATA / "training-dataset-with-header.csv"), BUCKET, "data/t.csv")
        emu.client("iam").create_role(RoleName="LabRole", AssumeRolePolicyDocument="{}")
        emu.client("cloudwatch").put_metric_data(
            Namespace="lab", MetricData=[{"MetricName": "m", "Value": 1.0}]
        )
        sm = emu.client("sagemaker")
        data_quality_job_definition(sm, "durable-def", ENDPOINT, f"s3://{BUCKET}/reports")
        sm.create_monitoring_schedule(
            MonitoringScheduleName=SCHEDULE,
            MonitoringScheduleConfig={
                "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
                "MonitoringJobDefinitionName": "durable-def",
                "MonitoringType": "DataQuality",
            },
        )
        rt = emu.client("sagemaker-runtime")
        for row in rows * 2:
            rt.invoke_endpoint(EndpointName=ENDPOINT, Body=row, ContentType="text/csv")
        # no flush: the stop must write the buffered records itself
    assert emu.proc.returncode == 0
    with running(state) as emu:
        assert len(read_lines(emu.client("s3"), BUCKET, "capture/")) == 100  # 0 lost
        before = _lab_state(emu)
        assert before["endpoint"] == "InService"
        assert before["clock"] == {"now": "2026-01-05T09:50:00.000Z", "mode": "frozen"}
        assert before["objects"]["binary/\u00e9 key"] == bytes(range(256)) * 9
        assert before["objects"]["empty"] == b""
        assert (
            before["objects"]["data/t.csv"]
            == (TEST_DATA / "training-dataset-with-header.csv").read_bytes()
        )
        # the endpoint serves again and the schedule fires at the next hour
        rt = emu.client("sagemaker-runtime")
        rt.invoke_endpoint(EndpointName=ENDPOINT, Body=rows[0], ContentType="text/csv")
        done = EmulatorClient(emu.url).advance_to_next_hour()["executions"]
        assert [e["status"] for e in done] == ["Completed"]
        after = _lab_state(emu)
    with running(state) as emu:
        assert _lab_state(emu) == after


def test_kill_9_during_traffic_jobs_and_snapshots_keeps_acknowledged_objects(tmp_path):
    """>= 20 kill -9s at random moments: start succeeds every time, acknowledged S3 writes
    are all there byte for byte, no job is left running, schedules go on."""
    rng = random.Random(20260105)
    state = tmp_path / "emu"
    env = {"MMLAB_SNAPSHOT_INTERVAL": "0.05"}  # snapshots all the time: kills land in them too
    acknowledged: dict[str, bytes] = {}
    _, tarball = tiny_model()
    rows = _rows()
    crashed_jobs: set[str] = set()
    errors: list[Exception] = []
    kills = 0
    for round_no in range(22):
        emu = Emulator(state, env).start()  # must load whatever the last kill left
        s3, sm = emu.client("s3"), emu.client("sagemaker")
        for key, body in acknowledged.items():
            assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body, key
        jobs = sm.list_processing_jobs(MaxResults=100)["ProcessingJobSummaries"]
        for job in jobs:
            desc = sm.describe_processing_job(ProcessingJobName=job["ProcessingJobName"])
            if desc["ProcessingJobStatus"] == "InProgress":  # only the ones of this round run
                pytest.fail(f"job left running after a restart: {desc['ProcessingJobName']}")
            if "stopped while this job was running" in desc.get("FailureReason", ""):
                crashed_jobs.add(desc["ProcessingJobName"])
        if round_no == 0:
            deploy(emu, ENDPOINT, tarball, capture=capture_config(CAPTURE))
            upload(
                emu,
                BUCKET,
                "data/t.csv",
                (TEST_DATA / "training-dataset-with-header.csv").read_bytes(),
            )
        stop = threading.Event()

        def traffic(emu=emu, round_no=round_no, stop=stop):
            s3 = emu.client("s3")
            rt = emu.client("sagemaker-runtime")
            i = 0
            try:
                while not stop.is_set():
                    key = f"objects/{round_no}/{i}"
                    body = os.urandom(rng.choice((0, 17, 4096, 300_000)))
                    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
                    acknowledged[key] = body  # answered: it must survive
                    if i % 5 == 4:  # capture traffic between the writes
                        rt.invoke_endpoint(
                            EndpointName=ENDPOINT, Body=rows[i % len(rows)], ContentType="text/csv"
                        )
                    i += 1
            except Exception as exc:  # noqa: BLE001 - the server was killed under us
                errors.append(exc)

        workers = [threading.Thread(target=traffic)]
        if round_no % 3 == 1:  # a processing job running at the kill
            baseline_job(
                emu, f"job-{round_no}", f"s3://{BUCKET}/data", f"s3://{BUCKET}/out/{round_no}"
            )
        elif round_no % 3 == 2:  # many small state changes: snapshots in flight

            def churn(emu=emu, round_no=round_no, stop=stop):
                sm = emu.client("sagemaker")
                try:
                    for i in range(10_000):
                        if stop.is_set():
                            return
                        sm.create_model(
                            ModelName=f"m-{round_no}-{i}",
                            ExecutionRoleArn=ROLE,
                            PrimaryContainer={"Image": "img", "ModelDataUrl": "s3://x/y"},
                        )
                except Exception:  # noqa: BLE001
                    return

            workers.append(threading.Thread(target=churn))
        for w in workers:
            w.start()
        time.sleep(rng.uniform(0.05, 1.5))
        emu.proc.kill()
        emu.proc.wait()
        kills += 1
        stop.set()
        for w in workers:
            w.join(timeout=30)
        emu._stderr.close()
    assert kills >= 20
    with running(state, env) as emu:
        s3 = emu.client("s3")
        assert len(acknowledged) > 50
        for key, body in acknowledged.items():
            assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body, key
        assert (
            emu.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)["EndpointStatus"]
            == "InService"
        )
    assert not [e for e in errors if "Connection" not in type(e).__name__ + str(e)], errors
    print(
        f"{kills} kills, {len(acknowledged)} acknowledged objects, {len(crashed_jobs)} jobs failed by a kill"
    )


def test_capture_acknowledged_a_flush_interval_before_a_kill_survives(tmp_path):
    state = tmp_path / "emu"
    _, tarball = tiny_model()
    rows = _rows()
    emu = Emulator(state).start()
    deploy(emu, ENDPOINT, tarball, capture=capture_config(CAPTURE))
    rt = emu.client("sagemaker-runtime")
    for row in rows * 4:
        rt.invoke_endpoint(EndpointName=ENDPOINT, Body=row, ContentType="text/csv")
    time.sleep(1.0)  # the README's bound: at most the last second of capture is lost
    emu.proc.kill()
    emu.proc.wait()
    emu._stderr.close()
    with running(state) as emu:
        assert len(read_lines(emu.client("s3"), BUCKET, "capture/")) == 200


def test_a_job_running_at_the_crash_comes_back_failed_and_the_schedule_goes_on(
    tmp_path, monkeypatch
):
    # an analyzer that never finishes: the job is surely running when the server dies (the
    # real one may finish a small job within the test's sleeps)
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "persist_sleeper.py").write_text("import time\ntime.sleep(120)\n")
    path = os.pathsep.join(p for p in (str(tmp_path / "mods"), os.environ.get("PYTHONPATH")) if p)
    monkeypatch.setenv("PYTHONPATH", path)
    state = tmp_path / "emu"
    env = {"MMLAB_SNAPSHOT_INTERVAL": "0.05", "MMLAB_ANALYZER_MODULE": "persist_sleeper"}
    emu = Emulator(state, env).start()
    upload(emu, BUCKET, "data/t.csv", (TEST_DATA / "training-dataset-with-header.csv").read_bytes())
    baseline_job(emu, "crash-job", f"s3://{BUCKET}/data", f"s3://{BUCKET}/out")
    time.sleep(0.3)
    assert (
        emu.client("sagemaker").describe_processing_job(ProcessingJobName="crash-job")[
            "ProcessingJobStatus"
        ]
        == "InProgress"
    )
    time.sleep(0.2)  # a snapshot holds the running job
    emu.proc.kill()
    emu.proc.wait()
    emu._stderr.close()
    with running(state) as emu:
        desc = emu.client("sagemaker").describe_processing_job(ProcessingJobName="crash-job")
        assert desc["ProcessingJobStatus"] == "Failed"
        assert desc["FailureReason"].startswith(
            "InternalServerError: the mmlab emulator stopped while this job was running"
        )


def test_incompatible_or_old_state_fails_clearly_and_fresh_is_the_way_out(tmp_path, monkeypatch):
    monkeypatch.setenv("MMLAB_HOME", str(tmp_path / "home"))
    root = folder.root_of(lifecycle.default_state_dir())
    root.mkdir(parents=True)
    (root / folder.FORMAT_FILE).write_text(
        json.dumps({"format": folder.FORMAT, "mmlab": "0.0.1", "moto": "4.0.0"})
    )
    (root / folder.SNAPSHOT_FILE).write_bytes(b"not a pickle")
    with pytest.raises(EmulatorError) as err:
        lifecycle.start(timeout=30)
    message = str(err.value)
    assert "moto 4.0.0" in message and "mmlab emulator start --fresh" in message
    assert "Traceback" not in message
    (root / folder.FORMAT_FILE).unlink()  # an older mmlab wrote no stamp
    with pytest.raises(EmulatorError, match="older mmlab"):
        lifecycle.start(timeout=30)
    try:
        info = lifecycle.start(timeout=30, fresh=True)
        assert not (root / folder.SNAPSHOT_FILE).exists() or (
            (root / folder.SNAPSHOT_FILE).read_bytes() != b"not a pickle"
        )
        assert json.loads((root / folder.FORMAT_FILE).read_text())["format"] == folder.FORMAT
        assert info.pid
    finally:
        lifecycle.stop()


def test_reset_empties_and_forgets_status_reports_the_folder(tmp_path, monkeypatch, capsys):
    from mmutils.cli import main

    monkeypatch.setenv("MMLAB_HOME", str(tmp_path / "home"))
    try:
        info = lifecycle.start(timeout=30)
        emu = Emulator(tmp_path)  # a client only
        emu.url = info.endpoint_url
        emu.client("s3").create_bucket(Bucket="keep-me")
        emu.client("s3").put_object(Bucket="keep-me", Key="k", Body=b"v")
        lifecycle.stop()
        assert main(["emulator", "status"]) == 1
        out = capsys.readouterr().out
        assert "1 buckets, 1 objects" in out
        info = lifecycle.start(timeout=30)
        emu.url = info.endpoint_url
        assert emu.client("s3").get_object(Bucket="keep-me", Key="k")["Body"].read() == b"v"
        assert main(["emulator", "reset"]) == 0
        lifecycle.stop()
        info = lifecycle.start(timeout=30)
        emu.url = info.endpoint_url
        assert emu.client("s3").list_buckets()["Buckets"] == []
        assert main(["emulator", "status"]) == 0
        assert "0 buckets, 0 objects" in capsys.readouterr().out
    finally:
        lifecycle.stop()


@pytest.mark.notebooks
def test_notebooks_01_02_stop_start_03_04_match_an_uninterrupted_run(tmp_path, monkeypatch):
    """The lab split by a stop and a start gives the reports of a run without a break."""
    from mmutils.lab.runner import ReportReader, _execute, report_summaries, run_lab
    from mmutils.paths import NOTEBOOKS

    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    whole = run_lab(
        output=tmp_path / "whole",
        notebooks=("01_capture", "02_baseline", "03_schedule", "04_visualize"),
        echo=lambda *_: None,
    )
    monkeypatch.setenv("MMLAB_HOME", str(tmp_path / "split-home"))
    try:
        lifecycle.start(timeout=60)
        for name in ("01_capture", "02_baseline"):
            _execute(NOTEBOOKS / f"{name}.ipynb", tmp_path / f"{name}.ipynb", {"BACKEND": "moto"})
        lifecycle.stop()
        assert lifecycle.status() is None
        lifecycle.start(timeout=60)
        for name in ("03_schedule", "04_visualize"):
            _execute(NOTEBOOKS / f"{name}.ipynb", tmp_path / f"{name}.ipynb", {"BACKEND": "moto"})
        split = report_summaries(ReportReader.for_backend("moto", "us-east-1"), "mmlab")
    finally:
        lifecycle.stop()
    assert split and split == whole.executions
