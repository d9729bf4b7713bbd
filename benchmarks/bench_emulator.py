"""Emulator speed: InvokeEndpoint calls/s with capture on, suggest_baseline end to end, and one
hourly monitoring execution over 3,600 captured records.

Run: ``python benchmarks/bench_emulator.py [--invocations 2000]``. Starts its own emulator on a
free loopback port and stops it at the end. Targets: ≥ 300 invocations/s, ≤ 2 s for the
baseline, ≤ 2 s for the execution.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import boto3
import botocore.config

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mmutils.emulator.admin_client import EmulatorClient  # noqa: E402
from mmutils.paths import TEST_DATA  # noqa: E402

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
XGB_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
ANALYZER = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"


def start(state_dir: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "mmutils.emulator.server", "--port", "0", "--state-dir", state_dir],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    line = proc.stdout.readline().strip()
    if "listening on" not in line:
        proc.kill()
        raise SystemExit(f"emulator did not start: {line!r}")
    return proc, line.rsplit(" ", 1)[1]


def client(url: str, service: str):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=botocore.config.Config(retries={"max_attempts": 1}),
    )


def deploy(url: str, name: str) -> None:
    s3, sm = client(url, "s3"), client(url, "sagemaker")
    s3.put_object(
        Bucket="bench", Key="model.tar.gz", Body=(TEST_DATA / "model.tar.gz").read_bytes()
    )
    sm.create_model(
        ModelName=f"{name}-m",
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": XGB_IMAGE, "ModelDataUrl": "s3://bench/model.tar.gz"},
    )
    sm.create_endpoint_config(
        EndpointConfigName=f"{name}-c",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"{name}-m",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
            }
        ],
        DataCaptureConfig={
            "EnableCapture": True,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": "s3://bench/dc",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        },
    )
    sm.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-c")


def bench_invoke(url: str, rows: list[str], n: int, threads: int) -> float:
    deploy(url, f"ep-{threads}")
    per = n // threads

    def work(offset: int) -> None:
        rt = client(url, "sagemaker-runtime")
        for i in range(per):
            rt.invoke_endpoint(
                EndpointName=f"ep-{threads}",
                Body=rows[(offset + i) % len(rows)],
                ContentType="text/csv",
            )

    workers = [threading.Thread(target=work, args=(k * per,)) for k in range(threads)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return per * threads / (time.perf_counter() - t0)


def bench_baseline(url: str) -> float:
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    import sagemaker
    from sagemaker.model_monitor import DatasetFormat, DefaultModelMonitor

    class Pinned(boto3.Session):
        def client(self, *a, **kw):
            kw["endpoint_url"] = url
            return super().client(*a, **kw)

        def resource(self, *a, **kw):
            kw["endpoint_url"] = url
            return super().resource(*a, **kw)

    session = sagemaker.Session(
        boto_session=Pinned(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        ),
        default_bucket="bench",
    )
    wait = session.wait_for_processing_job
    session.wait_for_processing_job = lambda job, poll=10: wait(job, poll=0.05)
    client(url, "s3").put_object(
        Bucket="bench",
        Key="train.csv",
        Body=(TEST_DATA / "training-dataset-with-header.csv").read_bytes(),
    )
    monitor = DefaultModelMonitor(
        role=ROLE, instance_count=1, instance_type="ml.m5.xlarge", sagemaker_session=session
    )
    t0 = time.perf_counter()
    monitor.suggest_baseline(
        baseline_dataset="s3://bench/train.csv",
        dataset_format=DatasetFormat.csv(header=True),
        output_s3_uri="s3://bench/baseline",
        wait=True,
        logs=False,
    )
    elapsed = time.perf_counter() - t0
    assert monitor.latest_baselining_job.describe()["ProcessingJobStatus"] == "Completed"
    return elapsed


def bench_execution(url: str, rows: list[str]) -> tuple[float, dict]:
    admin = EmulatorClient(url)
    # frozen: the clock moves only by the advances below (a flowing clock would cross 11:00
    # during the last advance, so the timed move would run the empty 11:00-12:00 window)
    admin.freeze_clock()
    admin.set_clock("2024-01-01T10:00:00Z")
    deploy(url, "ep-sched")
    sm, rt = client(url, "sagemaker"), client(url, "sagemaker-runtime")
    sm.create_data_quality_job_definition(
        JobDefinitionName="bench-def",
        RoleArn=ROLE,
        DataQualityAppSpecification={
            "ImageUri": ANALYZER,
            "Environment": {"publish_cloudwatch_metrics": "Enabled"},
        },
        DataQualityBaselineConfig={
            "ConstraintsResource": {"S3Uri": "s3://bench/baseline/constraints.json"},
            "StatisticsResource": {"S3Uri": "s3://bench/baseline/statistics.json"},
        },
        DataQualityJobInput={
            "EndpointInput": {
                "EndpointName": "ep-sched",
                "LocalPath": "/opt/ml/processing/input/endpoint",
            }
        },
        DataQualityJobOutputConfig={
            "MonitoringOutputs": [
                {
                    "S3Output": {
                        "S3Uri": "s3://bench/reports",
                        "LocalPath": "/opt/ml/processing/output",
                    }
                }
            ]
        },
        JobResources={
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
                "VolumeSizeInGB": 30,
            }
        },
    )
    sm.create_monitoring_schedule(
        MonitoringScheduleName="bench-s",
        MonitoringScheduleConfig={
            "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
            "MonitoringJobDefinitionName": "bench-def",
            "MonitoringType": "DataQuality",
        },
    )
    for minute in range(60):  # one record a second for an hour: 60 capture files
        for i in range(60):
            rt.invoke_endpoint(
                EndpointName="ep-sched",
                Body=rows[(minute * 60 + i) % len(rows)],
                ContentType="text/csv",
            )
        admin.advance(59 if minute == 59 else 60)
    t0 = time.perf_counter()
    out = admin.advance_to_next_hour()
    return time.perf_counter() - t0, out["executions"][0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invocations", type=int, default=2000)
    args = parser.parse_args()
    rows = (TEST_DATA / "test-dataset-input-cols.csv").read_text().splitlines()
    with tempfile.TemporaryDirectory(prefix="mmlab-bench-") as state:
        proc, url = start(state)
        try:
            client(url, "s3").create_bucket(Bucket="bench")
            one = bench_invoke(url, rows, args.invocations, 1)
            two = bench_invoke(url, rows, args.invocations, 2)
            baseline = bench_baseline(url)
            execution, summary = bench_execution(url, rows)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"InvokeEndpoint with capture, 1 client : {one:7.0f} calls/s  (target >= 300)")
    print(f"InvokeEndpoint with capture, 2 clients: {two:7.0f} calls/s")
    print(f"suggest_baseline (2,333 rows), call -> Completed: {baseline:5.2f} s  (target <= 2)")
    print(
        f"advance to next hour, 1 execution over 3,600 records: {execution:5.2f} s  (target <= 2)"
        f"  [{summary['status']}]"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
