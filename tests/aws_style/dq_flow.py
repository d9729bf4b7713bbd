"""A data-quality Model Monitor flow written for AWS: only boto3 and the SageMaker SDK.

No mmutils import and no endpoint URLs of the emulator: run on AWS with real credentials, or on
the emulator with the variables of ``mmlab emulator env`` alone. Phases (argv[1]):

- ``setup DATA_DIR``: upload model and data, deploy with capture, send traffic, suggest a
  baseline, create an hourly schedule; prints a JSON summary.
- ``report``: lists the schedule's executions and reads the latest violations; prints JSON.
"""

import json
import sys

import boto3
import sagemaker
from sagemaker import get_execution_role, image_uris
from sagemaker.model import Model
from sagemaker.model_monitor import (
    CronExpressionGenerator,
    DataCaptureConfig,
    DefaultModelMonitor,
)
from sagemaker.model_monitor.dataset_format import DatasetFormat
from sagemaker.predictor import Predictor
from sagemaker.serializers import CSVSerializer

PREFIX = "sagemaker/DEMO-ModelMonitor"
ENDPOINT = "demo-xgb-churn-monitor"
SCHEDULE = "demo-xgb-churn-schedule"

sess = sagemaker.Session()
bucket = sess.default_bucket()
region = sess.boto_region_name
role = get_execution_role()


def setup(data_dir):
    # an explicit AWS address, as many notebooks write it
    s3 = boto3.Session().client("s3", endpoint_url=f"https://s3.{region}.amazonaws.com")
    s3.upload_file(f"{data_dir}/model.tar.gz", bucket, f"{PREFIX}/model/model.tar.gz")
    s3.upload_file(
        f"{data_dir}/training-dataset-with-header.csv",
        bucket,
        f"{PREFIX}/baselining/data/training-dataset-with-header.csv",
    )
    model_url = f"https://{bucket}.s3.{region}.amazonaws.com/{PREFIX}/model/model.tar.gz"
    model = Model(
        image_uri=image_uris.retrieve("xgboost", region, "1.7-1"),
        model_data=model_url,
        role=role,
        sagemaker_session=sess,
    )
    model.deploy(
        initial_instance_count=1,
        instance_type="ml.m5.xlarge",
        endpoint_name=ENDPOINT,
        data_capture_config=DataCaptureConfig(
            enable_capture=True,
            sampling_percentage=100,
            destination_s3_uri=f"s3://{bucket}/{PREFIX}/datacapture",
        ),
    )
    predictor = Predictor(ENDPOINT, sagemaker_session=sess, serializer=CSVSerializer())
    scores = []
    with open(f"{data_dir}/test-dataset-input-cols.csv") as f:
        for row in f.read().splitlines()[:40]:
            scores.append(float(predictor.predict(row).decode()))
    monitor = DefaultModelMonitor(
        role=role,
        instance_count=1,
        instance_type="ml.m5.xlarge",
        volume_size_in_gb=20,
        max_runtime_in_seconds=3600,
    )
    monitor.suggest_baseline(
        baseline_dataset=f"s3://{bucket}/{PREFIX}/baselining/data/training-dataset-with-header.csv",
        dataset_format=DatasetFormat.csv(header=True),
        output_s3_uri=f"s3://{bucket}/{PREFIX}/baselining/results",
        wait=True,
        logs=False,
    )
    constraints = monitor.suggested_constraints().body_dict
    monitor.create_monitoring_schedule(
        monitor_schedule_name=SCHEDULE,
        endpoint_input=ENDPOINT,
        output_s3_uri=f"s3://{bucket}/{PREFIX}/reports",
        statistics=monitor.baseline_statistics(),
        constraints=monitor.suggested_constraints(),
        schedule_cron_expression=CronExpressionGenerator.hourly(),
        enable_cloudwatch_metrics=True,
    )
    return {
        "bucket": bucket,
        "role": role,
        "scores": len(scores),
        "constraint_features": len(constraints["features"]),
        "schedule_status": monitor.describe_schedule()["MonitoringScheduleStatus"],
    }


def report():
    monitor = DefaultModelMonitor.attach(SCHEDULE)
    executions = monitor.list_executions()
    latest = executions[-1]
    status = latest.describe()["ProcessingJobStatus"]
    violations = latest.constraint_violations().body_dict["violations"]
    return {
        "executions": len(executions),
        "job_status": status,
        "exit_message": latest.describe().get("ExitMessage"),
        "violation_checks": sorted({v["constraint_check_type"] for v in violations}),
        "schedule_status": monitor.describe_schedule()["MonitoringScheduleStatus"],
        "last_execution": monitor.describe_schedule()["LastMonitoringExecutionSummary"][
            "MonitoringExecutionStatus"
        ],
    }


if __name__ == "__main__":
    phase = sys.argv[1]
    result = setup(sys.argv[2]) if phase == "setup" else report()
    print("\nRESULT " + json.dumps(result))
