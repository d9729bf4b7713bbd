"""Schedules fire on the emulator clock and run the real analyzer over the previous hour's
capture: job name, inputs, environment, report path, outcomes, CloudWatch metrics."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from emulator_support import (
    ANALYZER_IMAGE,
    baseline_job,
    capture_config,
    data_quality_job_definition,
    deploy,
    list_keys,
    running,
    sdk_session,
    upload,
    wait_job,
)

from mmutils.emulator.admin_client import EmulatorClient
from mmutils.emulator.monitoring.cron import fire_times, parse_offset, to_croniter
from mmutils.emulator.monitoring.executions import job_name

BUCKET = "lab-bucket"
STATS = f"s3://{BUCKET}/baseline/results/statistics.json"
CONSTRAINTS = f"s3://{BUCKET}/baseline/results/constraints.json"


# ------------------------------------------------------------------------------- pure parts
@pytest.mark.parametrize(
    ("aws", "spec"),
    [
        ("cron(0 * ? * * *)", "0 * * * *"),
        ("cron(0 5 ? * * *)", "0 5 * * *"),
        ("cron(0 2/6 ? * * *)", "0 2/6 * * *"),
        ("cron(0 8 ? * 2-6 *)", "0 8 * * 1-5"),
        ("cron(0 8 ? * MON *)", "0 8 * * MON"),
    ],
)
def test_cron_translation(aws, spec):
    assert to_croniter(aws)[0] == spec


@pytest.mark.parametrize("bad", ["rate(1 hour)", "cron(0 * * * *)", "cron(x * ? * * *)", ""])
def test_cron_rejects(bad):
    with pytest.raises(ValueError, match="ScheduleExpression"):
        to_croniter(bad)


def test_fire_times_hourly_daily_every_x_hours():
    t0 = dt.datetime(2024, 1, 1, 10, 5)
    t1 = dt.datetime(2024, 1, 2, 10, 5)
    assert len(fire_times("cron(0 * ? * * *)", t0, t1)) == 24
    assert fire_times("cron(0 7 ? * * *)", t0, t1) == [dt.datetime(2024, 1, 2, 7)]
    assert [t.hour for t in fire_times("cron(0 2/6 ? * * *)", t0, t1)] == [14, 20, 2, 8]


def test_offsets_and_job_names():
    assert parse_offset("-PT1H") == -dt.timedelta(hours=1)
    assert parse_offset("-P1DT30M") == -dt.timedelta(days=1, minutes=30)
    with pytest.raises(ValueError, match="ISO-8601 duration"):
        parse_offset("1h")
    name = job_name("DataQuality", "arn:x", dt.datetime(2024, 1, 1, 11))
    assert name.startswith("model-monitoring-202401011100-") and len(name.split("-")[-1]) == 24
    assert name == job_name("DataQuality", "arn:x", dt.datetime(2024, 1, 1, 11))
    assert name != job_name("DataQuality", "arn:y", dt.datetime(2024, 1, 1, 11))


# ------------------------------------------------------------------------------ the server
@pytest.fixture(scope="module")
def emu(tmp_path_factory, test_data_dir):
    with running(tmp_path_factory.mktemp("scheduler")) as emu:
        data = (test_data_dir / "training-dataset-with-header.csv").read_bytes()
        uri = upload(emu, BUCKET, "baseline/train.csv", data)
        baseline_job(emu, "sched-baseline", uri, f"s3://{BUCKET}/baseline/results")
        assert (
            wait_job(emu.client("sagemaker"), "sched-baseline")["ProcessingJobStatus"]
            == "Completed"
        )
        yield emu


@pytest.fixture(scope="module")
def rows(test_data_dir):
    return (test_data_dir / "test-dataset-input-cols.csv").read_text().splitlines()


@pytest.fixture
def lab(emu, test_data_dir):
    """Creates endpoints/schedules for one test and deletes its schedules afterwards."""
    created = []

    def make(
        name,
        *,
        cron="cron(0 * ? * * *)",
        stats=STATS,
        constraints=CONSTRAINTS,
        pre=None,
        metrics="Enabled",
        schedule_config=None,
        deployed=False,
    ):
        sm = emu.client("sagemaker")
        if not deployed:
            deploy(
                emu,
                name,
                (test_data_dir / "model.tar.gz").read_bytes(),
                capture=capture_config(f"s3://{BUCKET}/dc"),
            )
        app = {"ImageUri": ANALYZER_IMAGE, "Environment": {"publish_cloudwatch_metrics": metrics}}
        if pre:
            app["RecordPreprocessorSourceUri"] = pre
        data_quality_job_definition(
            sm,
            f"{name}-def",
            name,
            f"s3://{BUCKET}/reports",
            statistics=stats,
            constraints=constraints,
            app=app,
        )
        sm.create_monitoring_schedule(
            MonitoringScheduleName=f"{name}-schedule",
            MonitoringScheduleConfig={
                "ScheduleConfig": schedule_config or {"ScheduleExpression": cron},
                "MonitoringJobDefinitionName": f"{name}-def",
                "MonitoringType": "DataQuality",
            },
        )
        created.append(f"{name}-schedule")
        return f"{name}-schedule"

    yield make
    for name in created:
        emu.client("sagemaker").delete_monitoring_schedule(MonitoringScheduleName=name)


def _traffic(emu, endpoint, rows):
    rt = emu.client("sagemaker-runtime")
    for row in rows:
        rt.invoke_endpoint(EndpointName=endpoint, Body=row, ContentType="text/csv")


def test_hourly_execution_over_the_previous_hour(emu, lab, rows):
    c = EmulatorClient(emu.url)
    c.set_clock("2024-05-01T10:05:00Z")
    schedule = lab("sch-hourly")
    _traffic(emu, "sch-hourly", rows[:120])
    c.advance("30m")
    _traffic(emu, "sch-hourly", rows[120:200])
    out = c.advance_to_next_hour()
    assert out["now"] == "2024-05-01T11:00:00.000Z"
    [ex] = out["executions"]
    assert ex["schedule"] == schedule and ex["scheduled_time"] == "2024-05-01T11:00:00Z"
    assert ex["status"] == "CompletedWithViolations"
    assert ex["processing_job_name"] == job_name(
        "DataQuality",
        f"arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/{schedule}",
        dt.datetime(2024, 5, 1, 11),
    )

    sm = emu.client("sagemaker")
    job = sm.describe_processing_job(ProcessingJobName=ex["processing_job_name"])
    assert job["MonitoringScheduleArn"].endswith(f":monitoring-schedule/{schedule}")
    inputs = {i["InputName"]: i["S3Input"] for i in job["ProcessingInputs"]}
    assert (
        inputs["endpoint_input_1"]["S3Uri"]
        == f"s3://{BUCKET}/dc/sch-hourly/AllTraffic/2024/05/01/10"
    )
    assert inputs["endpoint_input_1"]["LocalPath"] == (
        "/opt/ml/processing/input/endpoint/sch-hourly/AllTraffic/2024/05/01/10"
    )
    assert inputs["baseline"]["S3Uri"] == STATS
    assert inputs["constraints"]["S3Uri"] == CONSTRAINTS
    env = job["Environment"]
    assert json.loads(env["dataset_format"]) == {
        "sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}
    }
    assert (env["start_time"], env["end_time"]) == ("2024-05-01T10:00:00Z", "2024-05-01T11:00:00Z")
    assert env["dataset_source"] == "/opt/ml/processing/input/endpoint"
    assert env["baseline_statistics"] == "/opt/ml/processing/baseline/stats/statistics.json"
    assert env["baseline_constraints"] == "/opt/ml/processing/baseline/constraints/constraints.json"
    assert env["sagemaker_endpoint_name"] == "sch-hourly"
    assert env["sagemaker_monitoring_schedule_name"] == schedule
    assert env["publish_cloudwatch_metrics"] == "Enabled"
    report = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    assert report == f"s3://{BUCKET}/reports/sch-hourly/{schedule}/2024/05/01/11"
    assert list_keys(emu.client("s3"), BUCKET, f"reports/sch-hourly/{schedule}/") == [
        f"reports/sch-hourly/{schedule}/2024/05/01/11/{f}"
        for f in ("constraint_violations.json", "constraints.json", "statistics.json")
    ]
    assert job["ExitMessage"].startswith(
        "CompletedWithViolations: Job completed successfully with "
    )

    stats = json.loads(
        emu.client("s3")
        .get_object(
            Bucket=BUCKET, Key=f"reports/sch-hourly/{schedule}/2024/05/01/11/statistics.json"
        )["Body"]
        .read()
    )
    assert stats["dataset"]["item_count"] == 200

    summary = sm.describe_monitoring_schedule(MonitoringScheduleName=schedule)[
        "LastMonitoringExecutionSummary"
    ]
    assert summary["MonitoringExecutionStatus"] == "CompletedWithViolations"
    assert summary["ProcessingJobArn"].endswith(ex["processing_job_name"])
    assert summary["EndpointName"] == "sch-hourly"

    cw = emu.client("cloudwatch")
    metrics = cw.list_metrics(
        Namespace="aws/sagemaker/Endpoints/data-metrics",
        Dimensions=[{"Name": "MonitoringSchedule", "Value": schedule}],
    )["Metrics"]
    names = {m["MetricName"] for m in metrics}
    assert "feature_baseline_drift_Account Length" in names or any(
        n.startswith("feature_") for n in names
    )
    assert all(
        {d["Name"] for d in m["Dimensions"]} == {"Endpoint", "MonitoringSchedule"} for m in metrics
    )

    # the SDK reads it back
    from sagemaker.model_monitor import DefaultModelMonitor

    monitor = DefaultModelMonitor.attach(schedule, sagemaker_session=sdk_session(emu))
    [execution] = monitor.list_executions()
    assert execution.output.destination == report
    violations = execution.constraint_violations().body_dict["violations"]
    assert len(violations) == int(job["ExitMessage"].split(" with ")[1].split()[0])


def test_empty_hour_fails_with_no_data(emu, lab):
    c = EmulatorClient(emu.url)
    c.set_clock("2024-05-02T10:05:00Z")
    schedule = lab("sch-empty")
    [ex] = c.advance_to_next_hour()["executions"]
    assert ex == {
        "schedule": schedule,
        "scheduled_time": "2024-05-02T11:00:00Z",
        "status": "Failed",
        "processing_job_name": None,
        "failure_reason": "Job inputs had no data",
    }
    [summary] = emu.client("sagemaker").list_monitoring_executions(MonitoringScheduleName=schedule)[
        "MonitoringExecutionSummaries"
    ]
    assert summary["FailureReason"] == "Job inputs had no data"
    assert "ProcessingJobArn" not in summary


def test_missing_baseline_fails(emu, lab, rows):
    c = EmulatorClient(emu.url)
    c.set_clock("2024-05-03T10:05:00Z")
    lab("sch-nobase", stats=f"s3://{BUCKET}/nowhere/statistics.json")
    _traffic(emu, "sch-nobase", rows[:10])
    [ex] = c.advance_to_next_hour()["executions"]
    assert ex["status"] == "Failed"
    assert ex["failure_reason"].startswith(
        f'ClientError: No S3 objects found under S3 URL "s3://{BUCKET}/nowhere/statistics.json"'
    )


def test_failing_customer_script_fails(emu, lab, rows):
    c = EmulatorClient(emu.url)
    c.set_clock("2024-05-04T10:05:00Z")
    script = upload(
        emu,
        BUCKET,
        "code/preprocessor.py",
        b"def preprocess_handler(inference_record):\n    raise RuntimeError('boom')\n",
    )
    schedule = lab("sch-script", pre=script)
    _traffic(emu, "sch-script", rows[:10])
    [ex] = c.advance_to_next_hour()["executions"]
    assert ex["status"] == "Failed"
    assert ex["failure_reason"].startswith("AlgorithmError: ")
    job = emu.client("sagemaker").describe_processing_job(
        ProcessingJobName=ex["processing_job_name"]
    )
    inputs = {i["InputName"]: i["S3Input"] for i in job["ProcessingInputs"]}
    assert inputs["pre_processor_script"]["S3Uri"] == script
    assert job["Environment"]["record_preprocessor_script"] == (
        "/opt/ml/processing/code/preprocessing/preprocessor.py"
    )
    assert schedule


def test_stopped_schedule_does_not_fire_and_three_hours_run_in_order(emu, lab, rows):
    c = EmulatorClient(emu.url)
    c.set_clock("2024-05-05T10:05:00Z")
    stopped = lab("sch-stopped")
    running_ = lab("sch-three")
    emu.client("sagemaker").stop_monitoring_schedule(MonitoringScheduleName=stopped)
    for hour in range(3):
        _traffic(emu, "sch-three", rows[hour * 10 : hour * 10 + 10])
        _traffic(emu, "sch-stopped", rows[:5])
        c.advance("1h")
    out = c.advance("1m")  # nothing new falls due
    assert out["executions"] == []
    summaries = emu.client("sagemaker").list_monitoring_executions(
        MonitoringScheduleName=running_, SortBy="ScheduledTime", SortOrder="Ascending"
    )["MonitoringExecutionSummaries"]
    assert [s["ScheduledTime"].hour for s in summaries] == [11, 12, 13]
    assert all(s["MonitoringExecutionStatus"] == "CompletedWithViolations" for s in summaries)
    assert (
        emu.client("sagemaker").list_monitoring_executions(MonitoringScheduleName=stopped)[
            "MonitoringExecutionSummaries"
        ]
        == []
    )


def test_three_hours_in_one_advance(emu, lab, rows):
    c = EmulatorClient(emu.url)
    c.set_clock("2024-05-06T10:05:00Z")
    schedule = lab("sch-jump")
    _traffic(emu, "sch-jump", rows[:10])
    out = c.advance("3h")
    assert [(e["schedule"], e["scheduled_time"], e["status"]) for e in out["executions"]] == [
        (schedule, "2024-05-06T11:00:00Z", "CompletedWithViolations"),
        (schedule, "2024-05-06T12:00:00Z", "Failed"),
        (schedule, "2024-05-06T13:00:00Z", "Failed"),
    ]


def test_one_time_now_schedule(emu, lab, rows, test_data_dir):
    c = EmulatorClient(emu.url)
    c.set_clock("2024-05-07T10:05:00Z")
    deploy(
        emu,
        "sch-now",
        (test_data_dir / "model.tar.gz").read_bytes(),
        capture=capture_config(f"s3://{BUCKET}/dc"),
    )
    _traffic(emu, "sch-now", rows[:10])  # before the schedule exists: NOW looks back an hour
    c.advance("1m")
    schedule = lab(
        "sch-now",
        deployed=True,
        schedule_config={
            "ScheduleExpression": "NOW",
            "DataAnalysisStartTime": "-PT1H",
            "DataAnalysisEndTime": "-PT0H",
        },
    )
    c.advance(0)  # runs it now, unless the background check already did
    sm = emu.client("sagemaker")
    [summary] = sm.list_monitoring_executions(MonitoringScheduleName=schedule)[
        "MonitoringExecutionSummaries"
    ]
    assert summary["ScheduledTime"].isoformat().startswith("2024-05-07T10:06:00")
    assert summary["MonitoringExecutionStatus"] == "CompletedWithViolations"
    job = sm.describe_processing_job(ProcessingJobName=summary["ProcessingJobArn"].split("/")[-1])
    assert (job["Environment"]["start_time"], job["Environment"]["end_time"]) == (
        "2024-05-07T09:06:00Z",
        "2024-05-07T10:06:00Z",
    )
    assert c.advance("2h")["executions"] == []
    assert (
        len(
            sm.list_monitoring_executions(MonitoringScheduleName=schedule)[
                "MonitoringExecutionSummaries"
            ]
        )
        == 1
    )
