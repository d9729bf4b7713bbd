"""The lab, end to end, with the SageMaker SDK 2.x against a started emulator.

deploy with data capture → predict (real XGBoost) → capture files → suggest_baseline →
hourly schedule → traffic in one emulator hour → clock to the next hour → execution with real
violations, statistics and CloudWatch metrics → attach / stop / start / delete → delete endpoint.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from sdk_sleeps import recorded_sleeps

import mmutils
from mmutils.cli import main
from mmutils.emulator import lifecycle, server
from mmutils.lab import sdk_patches

#: the server-side pieces the flow needs
REQUIRED = {
    "mmutils.emulator.endpoints": "endpoint/model answers, UpdateEndpoint",
    "mmutils.emulator.monitoring.models": "monitoring-schedule backend",
    "mmutils.emulator.monitoring.responses": "monitoring-schedule API",
    "mmutils.emulator.hosting": "InvokeEndpoint with the model",
    "mmutils.emulator.capture_writer": "data capture",
    "mmutils.emulator.processing": "processing runtime",
    "mmutils.emulator.monitoring.scheduler": "scheduler",
}
MISSING = [desc for mod, desc in REQUIRED.items() if mod not in server.EXTENSIONS]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(MISSING),
        reason="server side not wired into mmutils.emulator.server.EXTENSIONS yet: "
        + ", ".join(MISSING),
    ),
]

START = "2026-01-05T09:50:00Z"
ENDPOINT = "flow-xgb-churn-endpoint"
SCHEDULE = "flow-data-quality-schedule"
PREFIX = "flow"
CHURN_TYPE_VIOLATION = (
    "Data type match requirement is not met. Expected data type: Integral, "
    "Expected match: 100.0%. Observed: Only 0.0% of data is Integral."
)


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MMLAB_HOME", str(tmp_path_factory.mktemp("mmlab-home")))
        aws = mmutils.connect("moto", seed=7)
        yield aws
        sdk_patches.revert()
        lifecycle.stop(timeout=10)


def _local_predictions(test_data_dir, rows: list[str]) -> list[float]:
    """What the model in test_data/model.tar.gz predicts, computed here with xgboost itself."""
    import tarfile

    import numpy as np
    import xgboost

    with tarfile.open(test_data_dir / "model.tar.gz") as tar:
        raw = tar.extractfile("xgboost-model").read()
    booster = xgboost.Booster()
    booster.load_model(bytearray(raw))
    matrix = np.array([[float(v) for v in row.split(",")] for row in rows])
    return [float(p) for p in booster.predict(xgboost.DMatrix(matrix))]


def _read_jsonl(aws, bucket: str, key: str) -> list[dict]:
    body = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def test_lab_flow_end_to_end(aws, test_data_dir, capsys, monkeypatch):
    from sagemaker import image_uris
    from sagemaker.model import Model
    from sagemaker.model_monitor import (
        CronExpressionGenerator,
        DataCaptureConfig,
        DatasetFormat,
        DefaultModelMonitor,
        MonitoringExecution,
    )
    from sagemaker.predictor import Predictor
    from sagemaker.s3 import S3Downloader
    from sagemaker.serializers import CSVSerializer

    sess, bucket, region = aws.sagemaker_session, aws.bucket, aws.region
    assert aws.emulator.set_clock(START)["now"] == "2026-01-05T09:50:00.000Z"

    # -- model + baseline data into the emulated S3
    model_uri = sess.upload_data(
        str(test_data_dir / "model.tar.gz"), bucket=bucket, key_prefix=f"{PREFIX}/model"
    )
    baseline_uri = sess.upload_data(
        str(test_data_dir / "training-dataset-with-header.csv"),
        bucket=bucket,
        key_prefix=f"{PREFIX}/baselining/data",
    )
    capture_uri = f"s3://{bucket}/{PREFIX}/datacapture"

    # -- deploy with data capture: wait=True must not sleep the SDK's 30 s
    model = Model(
        image_uri=image_uris.retrieve("xgboost", region, "1.7-1"),
        model_data=model_uri,
        role=aws.role,
        sagemaker_session=sess,
        predictor_cls=Predictor,
    )
    with recorded_sleeps(monkeypatch) as sleeps:
        predictor = model.deploy(
            initial_instance_count=1,
            instance_type="ml.m5.xlarge",
            endpoint_name=ENDPOINT,
            data_capture_config=DataCaptureConfig(
                enable_capture=True,
                sampling_percentage=100,
                destination_s3_uri=capture_uri,
                sagemaker_session=sess,
            ),
            wait=True,
        )
    assert max(sleeps, default=0) <= 1, f"the SDK slept {sleeps}"
    desc = sess.sagemaker_client.describe_endpoint(EndpointName=ENDPOINT)
    assert desc["EndpointStatus"] == "InService"
    assert desc["DataCaptureConfig"]["CaptureStatus"] == "Started"
    assert desc["DataCaptureConfig"]["CurrentSamplingPercentage"] == 100

    # -- predictions: the real model's probabilities
    rows = (test_data_dir / "test_sample.csv").read_text().splitlines()
    predictor.serializer = CSVSerializer()
    answers = [float(predictor.predict(row).decode()) for row in rows]
    expected = _local_predictions(test_data_dir, rows)
    assert answers == pytest.approx(expected, rel=1e-5, abs=1e-6)
    assert all(0.0 <= a <= 1.0 for a in answers) and len(set(answers)) > 10

    # -- capture files: one line per request, in the 09 hour folder of the emulator clock
    aws.emulator.flush()
    files = S3Downloader.list(capture_uri, sagemaker_session=sess)
    hour = f"{capture_uri}/{ENDPOINT}/AllTraffic/2026/01/05/09/"
    assert files and all(f.startswith(hour) and f.endswith(".jsonl") for f in files)
    records = [
        rec for f in files for rec in _read_jsonl(aws, bucket, f.split(f"s3://{bucket}/", 1)[1])
    ]
    assert len(records) == len(rows)
    by_input = {r["captureData"]["endpointInput"]["data"]: r for r in records}
    first = by_input[rows[0]]
    assert first["captureData"]["endpointInput"]["observedContentType"] == "text/csv"
    assert first["captureData"]["endpointInput"]["encoding"] == "CSV"
    assert float(first["captureData"]["endpointOutput"]["data"]) == pytest.approx(answers[0])
    assert first["eventMetadata"]["inferenceTime"].startswith("2026-01-05T09:5")
    assert first["eventVersion"] == "0"

    # -- baseline with the real analyzer, logs printed, no 5-30 s poll sleeps
    monitor = DefaultModelMonitor(
        role=aws.role,
        instance_count=1,
        instance_type="ml.m5.xlarge",
        volume_size_in_gb=20,
        max_runtime_in_seconds=3600,
        sagemaker_session=sess,
    )
    baseline_results = f"s3://{bucket}/{PREFIX}/baselining/results"
    monitor.suggest_baseline(
        baseline_dataset=baseline_uri,
        dataset_format=DatasetFormat.csv(header=True),
        output_s3_uri=baseline_results,
        wait=True,
        logs=True,
    )
    job = sess.sagemaker_client.describe_processing_job(
        ProcessingJobName=monitor.latest_baselining_job_name
    )
    assert job["ProcessingJobStatus"] == "Completed"
    header = (test_data_dir / "training-dataset-with-header.csv").read_text().splitlines()[0]
    names = header.split(",")
    stats = monitor.baseline_statistics().body_dict
    assert stats["dataset"]["item_count"] == 2333
    assert [f["name"] for f in stats["features"]] == names
    constraints = monitor.suggested_constraints().body_dict
    churn = next(f for f in constraints["features"] if f["name"] == "Churn")
    assert churn["inferred_type"] == "Integral"
    baseline_keys = S3Downloader.list(baseline_results, sagemaker_session=sess)
    assert {k.rsplit("/", 1)[1] for k in baseline_keys} >= {"statistics.json", "constraints.json"}

    # -- hourly schedule
    reports = f"s3://{bucket}/{PREFIX}/reports"
    monitor.create_monitoring_schedule(
        monitor_schedule_name=SCHEDULE,
        endpoint_input=predictor.endpoint_name,
        output_s3_uri=reports,
        statistics=monitor.baseline_statistics(),
        constraints=monitor.suggested_constraints(),
        schedule_cron_expression=CronExpressionGenerator.hourly(),
        enable_cloudwatch_metrics=True,
    )
    schedule = monitor.describe_schedule()
    # as on the service: Pending for a moment after creation, then Scheduled
    assert schedule["MonitoringScheduleStatus"] in ("Pending", "Scheduled")
    monitor._wait_for_schedule_changes_to_apply()
    schedule = monitor.describe_schedule()
    assert schedule["MonitoringScheduleStatus"] == "Scheduled"
    assert schedule["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"] == (
        "cron(0 * ? * * *)"
    )
    assert monitor.list_executions() == []

    # -- the next emulator hour: one execution over the 09:00-10:00 capture
    capsys.readouterr()
    assert main(["emulator", "clock", "advance", "--to-next-hour"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "emulator clock: 2026-01-05T10:00:00.000Z (frozen)"
    assert printed[1] == "ran 1 monitoring execution:"
    assert re.match(
        rf"  {SCHEDULE}  scheduled 2026-01-05T10:00:00\S*  CompletedWithViolations  "
        r"model-monitoring-202601051000-[0-9a-f]{24}$",
        printed[2],
    ), printed[2]

    executions = monitor.list_executions()
    assert len(executions) == 1
    execution = executions[-1]
    job = execution.describe()
    assert job["ProcessingJobStatus"] == "Completed"
    destination = execution.output.destination
    assert destination == f"{reports}/{ENDPOINT}/{SCHEDULE}/2026/01/05/10"

    violations = execution.constraint_violations().body_dict["violations"]
    assert job["ExitMessage"] == (
        f"CompletedWithViolations: Job completed successfully with {len(violations)} violations."
    )
    by_feature = {v["feature_name"]: v for v in violations}
    assert by_feature["Churn"]["constraint_check_type"] == "data_type_check"
    assert by_feature["Churn"]["description"] == CHURN_TYPE_VIOLATION
    # a corrupted integral column of the traffic: its observed share, computed here
    traffic = list(csv.reader(io.StringIO("\n".join(rows))))
    integral = {f["name"] for f in constraints["features"] if f.get("inferred_type") == "Integral"}
    for name, v in by_feature.items():
        assert name in names
        if name == "Churn" or v["constraint_check_type"] != "data_type_check":
            continue
        assert name in integral
        column = names.index(name) - 1  # traffic has no Churn column
        share = sum(re.fullmatch(r"-?\d+", r[column]) is not None for r in traffic) / len(traffic)
        observed = float(re.search(r"Observed: Only ([0-9.E-]+)% of data", v["description"])[1])
        assert observed == pytest.approx(share * 100, rel=1e-12)
    assert len(by_feature) > 1

    latest = monitor.latest_monitoring_statistics().body_dict
    assert latest["dataset"]["item_count"] == len(rows)
    assert [f["name"] for f in latest["features"]] == names

    report_keys = {
        k.rsplit("/", 1)[1] for k in S3Downloader.list(destination, sagemaker_session=sess)
    }
    assert {"statistics.json", "constraint_violations.json"} <= report_keys

    again = MonitoringExecution.from_processing_arn(sess, job["ProcessingJobArn"])
    assert again.output.destination == destination
    assert again.constraint_violations().body_dict["violations"] == violations

    summary = monitor.describe_schedule()["LastMonitoringExecutionSummary"]
    assert summary["MonitoringExecutionStatus"] == "CompletedWithViolations"
    assert summary["ProcessingJobArn"] == job["ProcessingJobArn"]

    metrics = aws.client("cloudwatch").list_metrics(
        Namespace="aws/sagemaker/Endpoints/data-metrics"
    )["Metrics"]
    assert metrics
    for m in metrics:
        dims = {d["Name"]: d["Value"] for d in m["Dimensions"]}
        assert dims == {"Endpoint": ENDPOINT, "MonitoringSchedule": SCHEDULE}

    # -- attach, stop / start / delete
    attached = DefaultModelMonitor.attach(SCHEDULE, sagemaker_session=sess)
    assert attached.monitoring_schedule_name == SCHEDULE
    assert attached.image_uri == image_uris.retrieve("model-monitor", region)
    monitor.stop_monitoring_schedule()
    assert monitor.describe_schedule()["MonitoringScheduleStatus"] == "Stopped"
    monitor.start_monitoring_schedule()
    assert monitor.describe_schedule()["MonitoringScheduleStatus"] == "Scheduled"
    monitor.delete_monitoring_schedule()
    assert sess.sagemaker_client.list_monitoring_schedules()["MonitoringScheduleSummaries"] == []

    predictor.delete_endpoint()
    with pytest.raises(Exception, match="Could not find endpoint"):
        sess.sagemaker_client.describe_endpoint(EndpointName=ENDPOINT)
