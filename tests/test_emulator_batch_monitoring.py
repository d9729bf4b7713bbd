"""The SDK's batch-transform data-quality flow end to end: transform with batch capture,
baseline, a schedule on ``BatchTransformInput``, an execution and its violations."""

from __future__ import annotations

import io
import json

import pytest
from emulator_support import XGB_IMAGE, running, sdk_session

from mmutils.emulator.admin_client import EmulatorClient

BUCKET = "lab-bucket"


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    with running(tmp_path_factory.mktemp("batchmon")) as emu:
        emu.client("s3").create_bucket(Bucket=BUCKET)
        yield emu


def test_batch_transform_monitoring_flow(emu, test_data_dir):
    import pandas as pd
    from sagemaker.inputs import BatchDataCaptureConfig
    from sagemaker.model_monitor import (
        BatchTransformInput,
        CronExpressionGenerator,
        DefaultModelMonitor,
        MonitoringDatasetFormat,
    )
    from sagemaker.model_monitor.dataset_format import DatasetFormat
    from sagemaker.transformer import Transformer

    admin = EmulatorClient(emu.url)
    admin.set_clock("2026-01-05T09:10:00Z")
    s3 = emu.client("s3")
    sess = sdk_session(emu)
    wait = sess.wait_for_transform_job
    sess.wait_for_transform_job = lambda job, poll=5: wait(job, poll=0.2)

    s3.put_object(
        Bucket=BUCKET,
        Key="bt/model/model.tar.gz",
        Body=(test_data_dir / "model.tar.gz").read_bytes(),
    )
    sm = emu.client("sagemaker")
    sm.create_model(
        ModelName="bt-churn",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/SageMakerRole",
        PrimaryContainer={
            "Image": XGB_IMAGE,
            "ModelDataUrl": f"s3://{BUCKET}/bt/model/model.tar.gz",
        },
    )
    rows = (test_data_dir / "test-dataset-input-cols.csv").read_text().splitlines()[:50]
    s3.put_object(Bucket=BUCKET, Key="bt/input/batch.csv", Body="\n".join(rows) + "\n")

    transformer = Transformer(
        model_name="bt-churn",
        instance_count=1,
        instance_type="ml.m5.xlarge",
        output_path=f"s3://{BUCKET}/bt/output",
        accept="text/csv",
        assemble_with="Line",
        sagemaker_session=sess,
    )
    transformer.transform(
        f"s3://{BUCKET}/bt/input",
        content_type="text/csv",
        split_type="Line",
        batch_data_capture_config=BatchDataCaptureConfig(
            destination_s3_uri=f"s3://{BUCKET}/bt/capture"
        ),
        wait=True,
        logs=False,
    )
    out = s3.get_object(Bucket=BUCKET, Key="bt/output/batch.csv.out")["Body"].read().decode()
    scores = [float(x) for x in out.splitlines()]
    assert len(scores) == 50 and all(0.0 <= p <= 1.0 for p in scores)

    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="bt/capture/")["Contents"]]
    inputs = [k for k in keys if k.startswith("bt/capture/input/2026/01/05/09/")]
    outputs = [k for k in keys if k.startswith("bt/capture/output/2026/01/05/09/")]
    assert len(inputs) == 1 and len(outputs) == 1
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=inputs[0])["Body"].read())
    assert manifest == [{"prefix": f"s3://{BUCKET}/bt/input/"}, "batch.csv"]

    # baseline on the training features (the label column dropped)
    train = pd.read_csv(test_data_dir / "training-dataset-with-header.csv").drop(columns="Churn")
    buf = io.StringIO()
    train.to_csv(buf, index=False)
    s3.put_object(Bucket=BUCKET, Key="bt/baseline/train-inputs.csv", Body=buf.getvalue())
    monitor = DefaultModelMonitor(
        role="arn:aws:iam::123456789012:role/SageMakerRole",
        instance_count=1,
        instance_type="ml.m5.xlarge",
        sagemaker_session=sess,
    )
    monitor.suggest_baseline(
        baseline_dataset=f"s3://{BUCKET}/bt/baseline/train-inputs.csv",
        dataset_format=DatasetFormat.csv(header=True),
        output_s3_uri=f"s3://{BUCKET}/bt/baseline/results",
        wait=True,
        logs=False,
    )
    monitor.create_monitoring_schedule(
        monitor_schedule_name="bt-schedule",
        batch_transform_input=BatchTransformInput(
            data_captured_destination_s3_uri=f"s3://{BUCKET}/bt/capture",
            destination="/opt/ml/processing/input",
            dataset_format=MonitoringDatasetFormat.csv(header=False),
        ),
        output_s3_uri=f"s3://{BUCKET}/bt/reports",
        statistics=monitor.baseline_statistics(),
        constraints=monitor.suggested_constraints(),
        schedule_cron_expression=CronExpressionGenerator.hourly(),
        enable_cloudwatch_metrics=True,
    )
    ran = admin.advance_to_next_hour()["executions"]
    assert [e["status"] for e in ran] == ["CompletedWithViolations"], ran
    [execution] = monitor.list_executions()
    desc = execution.describe()
    assert desc["ProcessingJobStatus"] == "Completed"
    env = desc["Environment"]
    assert json.loads(env["dataset_format"]) == {"csv": {"header": False}}
    assert "sagemaker_endpoint_name" not in env
    assert execution.output.destination == f"s3://{BUCKET}/bt/reports/bt-schedule/2026/01/05/10"
    violations = execution.constraint_violations().body_dict["violations"]
    assert "data_type_check" in {v["constraint_check_type"] for v in violations}
    stats = execution.statistics().body_dict
    assert stats["dataset"]["item_count"] == 50
    assert [f["name"] for f in stats["features"]] == list(train.columns)
