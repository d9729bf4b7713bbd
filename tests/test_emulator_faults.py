"""Faults and concurrency: two clients at once, a restart over an old state folder."""

from __future__ import annotations

import json
import threading

import pytest
from emulator_support import (
    baseline_job,
    capture_config,
    data_quality_job_definition,
    deploy,
    read_lines,
    running,
    tiny_model,
    upload,
    wait_job,
)

from mmutils.emulator.admin_client import EmulatorClient


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    with running(tmp_path_factory.mktemp("faults")) as emu:
        yield emu


def test_two_clients_invoking_at_once_lose_nothing(emu):
    EmulatorClient(emu.url).set_clock("2024-06-01T10:00:00Z")
    deploy(emu, "fault-ep", tiny_model(4)[1], capture=capture_config("s3://lab-bucket/dc"))
    errors = []

    def client(tag: str) -> None:
        rt = emu.client("sagemaker-runtime")
        try:
            for i in range(100):
                rt.invoke_endpoint(
                    EndpointName="fault-ep", Body=f"{i},{tag},0,0", ContentType="text/csv"
                )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(t,)) for t in ("1", "2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    EmulatorClient(emu.url).flush()
    lines = read_lines(emu.client("s3"), "lab-bucket", "dc/fault-ep/")
    data = sorted(json.loads(x)["captureData"]["endpointInput"]["data"] for x in lines)
    assert data == sorted(f"{i},{t},0,0" for i in range(100) for t in ("1", "2"))
    assert len({json.loads(x)["eventMetadata"]["eventId"] for x in lines}) == 200


def test_two_clients_advancing_at_once_run_each_execution_once(emu):
    c = EmulatorClient(emu.url)
    c.set_clock("2024-06-02T10:05:00Z")
    sm = emu.client("sagemaker")
    data_quality_job_definition(sm, "fault-def", "fault-ep", "s3://lab-bucket/reports")
    sm.create_monitoring_schedule(
        MonitoringScheduleName="fault-s",
        MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
            "MonitoringJobDefinitionName": "fault-def",
            "MonitoringType": "DataQuality",
        },
    )
    results = []
    threads = [threading.Thread(target=lambda: results.append(c.advance("1h"))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ran = sorted(e["scheduled_time"] for r in results for e in r["executions"])
    assert ran == ["2024-06-02T11:00:00Z", "2024-06-02T12:00:00Z"]
    summaries = sm.list_monitoring_executions(MonitoringScheduleName="fault-s")[
        "MonitoringExecutionSummaries"
    ]
    assert len(summaries) == 2
    sm.delete_monitoring_schedule(MonitoringScheduleName="fault-s")


def test_restart_over_an_old_state_folder(tmp_path, test_data_dir):
    state = tmp_path / "state"
    stale = state / "jobs" / "fault-baseline"
    stale.mkdir(parents=True)
    (stale / "output").mkdir()
    (stale / "output" / "message").write_text("stale message from an earlier run")
    with running(state) as emu:
        uri = upload(
            emu,
            "lab-bucket",
            "train.csv",
            (test_data_dir / "training-dataset-with-header.csv").read_bytes(),
        )
        baseline_job(emu, "fault-baseline", uri, "s3://lab-bucket/out")
        final = wait_job(emu.client("sagemaker"), "fault-baseline")
    assert final["ProcessingJobStatus"] == "Completed"
    assert final["ExitMessage"] == "Completed: Job completed successfully with no violations."
