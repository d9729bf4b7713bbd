"""Model quality end to end with the SageMaker SDK's ModelQualityMonitor on the emulator.

deploy with capture → labelled baseline from the model's predictions → suggest_baseline
(BinaryClassification) → hourly schedule with EndpointInput(probability_threshold_attribute,
offsets) and ground_truth_input → traffic with InferenceIds + labels per hour → executions as
the service runs them (ground-truth merge, then analysis) → attach, list_executions, latest
statistics/violations, CloudWatch model metrics → delete.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

import mmutils
from mmutils.emulator import lifecycle
from mmutils.lab import ground_truth, sdk_patches

pytestmark = pytest.mark.slow

START = "2026-01-05T10:05:00Z"
ENDPOINT = "mq-xgb-churn-endpoint"
PREFIX = "mqflow"
N = 220  # >= 200: standard deviations are computed


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MMLAB_HOME", str(tmp_path_factory.mktemp("mmlab-home")))
        mp.setenv("MMLAB_PROGRESS", "0")
        aws = mmutils.connect("moto", seed=11)
        yield aws
        sdk_patches.revert()
        lifecycle.stop(timeout=10)


def test_model_quality_flow_end_to_end(aws, test_data_dir, tmp_path):
    from sagemaker import image_uris
    from sagemaker.model import Model
    from sagemaker.model_monitor import (
        CronExpressionGenerator,
        DataCaptureConfig,
        DatasetFormat,
        EndpointInput,
        ModelQualityMonitor,
    )
    from sagemaker.predictor import Predictor
    from sagemaker.serializers import CSVSerializer

    sess, bucket, region = aws.sagemaker_session, aws.bucket, aws.region
    aws.emulator.set_clock(START)
    sm = sess.sagemaker_client
    model_uri = sess.upload_data(
        str(test_data_dir / "model.tar.gz"), bucket=bucket, key_prefix=f"{PREFIX}/model"
    )
    predictor = Model(
        image_uri=image_uris.retrieve("xgboost", region, "1.7-1"),
        model_data=model_uri,
        role=aws.role,
        sagemaker_session=sess,
        predictor_cls=Predictor,
    ).deploy(
        initial_instance_count=1,
        instance_type="ml.m5.xlarge",
        endpoint_name=ENDPOINT,
        data_capture_config=DataCaptureConfig(
            enable_capture=True,
            sampling_percentage=100,
            destination_s3_uri=f"s3://{bucket}/{PREFIX}/datacapture",
            sagemaker_session=sess,
        ),
        wait=True,
    )
    predictor.serializer = CSVSerializer()

    # -- labelled baseline: the model's predictions on validation rows
    labels, rows = ground_truth.read_labelled_csv(test_data_dir / "validation.csv")
    labels, rows = labels[:N], rows[:N]
    ids = [f"validation-{i}" for i in range(N)]
    probs, _ = ground_truth.send_with_ids(predictor, rows, ids, progress=False)
    base_csv = tmp_path / "baseline.csv"
    base_csv.write_text(ground_truth.baseline_csv(probs, labels))
    monitor = ModelQualityMonitor(
        role=aws.role,
        instance_count=1,
        instance_type="ml.m5.xlarge",
        volume_size_in_gb=20,
        max_runtime_in_seconds=1800,
        sagemaker_session=sess,
    )
    monitor.suggest_baseline(
        baseline_dataset=str(base_csv),
        dataset_format=DatasetFormat.csv(header=True),
        problem_type="BinaryClassification",
        inference_attribute="prediction",
        probability_attribute="probability",
        ground_truth_attribute="label",
        output_s3_uri=f"s3://{bucket}/{PREFIX}/baselining/results",
        job_name="mqflow-baseline",
        wait=True,
        logs=False,
    )
    job = sm.describe_processing_job(ProcessingJobName="mqflow-baseline")
    assert job["ProcessingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["Environment"]["analysis_type"] == "MODEL_QUALITY"
    stats = monitor.latest_baselining_job.baseline_statistics().body_dict
    block = stats["binary_classification_metrics"]
    assert block["auc"]["value"] == pytest.approx(skm.roc_auc_score(labels, probs))
    assert isinstance(block["auc"]["standard_deviation"], float)
    constraints = monitor.latest_baselining_job.suggested_constraints()
    assert "binary_classification_constraints" in constraints.body_dict

    # -- hourly schedule over the previous hour, labels joined on InferenceId
    truth_uri = f"s3://{bucket}/{PREFIX}/ground-truth"
    monitor.create_monitoring_schedule(
        monitor_schedule_name="mqflow-schedule",
        endpoint_input=EndpointInput(
            endpoint_name=ENDPOINT,
            destination="/opt/ml/processing/input_data",
            probability_attribute="0",
            probability_threshold_attribute=0.5,
            start_time_offset="-PT1H",
            end_time_offset="-PT0H",
        ),
        ground_truth_input=truth_uri,
        problem_type="BinaryClassification",
        output_s3_uri=f"s3://{bucket}/{PREFIX}/reports",
        constraints=constraints,
        schedule_cron_expression=CronExpressionGenerator.hourly(),
        enable_cloudwatch_metrics=True,
    )
    definition = sm.describe_model_quality_job_definition(
        JobDefinitionName=monitor.job_definition_name
    )
    assert definition["ModelQualityJobInput"]["GroundTruthS3Input"]["S3Uri"] == truth_uri
    assert definition["ModelQualityAppSpecification"]["ProblemType"] == "BinaryClassification"
    listed = sm.list_model_quality_job_definitions(EndpointName=ENDPOINT)
    assert [d["MonitoringJobDefinitionName"] for d in listed["JobDefinitionSummaries"]] == [
        monitor.job_definition_name
    ]

    test_labels, test_rows = ground_truth.read_labelled_csv(test_data_dir / "test-dataset.csv")
    test_labels, test_rows = test_labels[:N], test_rows[:N]
    hours = []
    for hour, shift in ((11, 0.0), (12, 0.45)):
        hour_ids = [f"h{hour}-{i}" for i in range(N)]
        hour_probs, _ = ground_truth.send_with_ids(
            predictor, test_rows, hour_ids, session=aws, spread_over="20m", progress=False
        )
        hour_labels = ground_truth.shift_labels(test_labels, shift, seed=hour)
        key = ground_truth.upload_ground_truth(aws, truth_uri, hour_ids, hour_labels)
        assert key.startswith(f"{truth_uri}/2026/01/05/{hour - 1:02d}/")
        ran = aws.emulator.advance_to_next_hour()["executions"]
        assert [(e["schedule"], e["status"]) for e in ran] == [
            ("mqflow-schedule", "Completed" if shift == 0 else "CompletedWithViolations")
        ], ran
        hours.append((hour_labels, hour_probs))

    # -- the SDK reads them back: attach, list_executions, latest statistics/violations
    attached = ModelQualityMonitor.attach("mqflow-schedule", sagemaker_session=sess)
    executions = attached.list_executions()
    assert len(executions) == 2
    latest = executions[-1]
    desc = latest.describe()
    assert desc["ProcessingJobName"].startswith("model-quality-monitoring-202601051200-")
    assert desc["Environment"]["problem_type"] == "BinaryClassification"
    assert desc["Environment"]["probability_threshold_attribute"] == "0.5"
    assert {i["InputName"] for i in desc["ProcessingInputs"]} == {"merged_input", "constraints"}
    assert latest.output.destination.endswith(f"/reports/{ENDPOINT}/mqflow-schedule/2026/01/05/12")
    shifted_labels, shifted_probs = hours[1]
    latest_block = attached.latest_monitoring_statistics().body_dict[
        "binary_classification_metrics"
    ]
    assert latest_block["auc"]["value"] == pytest.approx(
        skm.roc_auc_score(shifted_labels, shifted_probs)
    )
    predicted = np.asarray(shifted_probs) > 0.5
    assert latest_block["accuracy"]["value"] == pytest.approx(
        skm.accuracy_score(shifted_labels, predicted)
    )
    violations = attached.latest_monitoring_constraint_violations().body_dict["violations"]
    assert {v["metric_name"] for v in violations} >= {"auc", "accuracy"}
    assert all(
        v["constraint_check_type"] == "LessThanThreshold"
        for v in violations
        if v["metric_name"] == "auc"
    )
    # the merge job ran first, on the capture and the ground truth of the window
    merge_name = desc["ProcessingJobName"].replace("model-quality-monitoring", "groundtruth-merge")
    merge = sm.describe_processing_job(ProcessingJobName=merge_name)
    assert merge["ProcessingJobStatus"] == "Completed"
    merge_inputs = {i["InputName"]: i["S3Input"]["S3Uri"] for i in merge["ProcessingInputs"]}
    assert merge_inputs["groundtruth_input_1"] == f"{truth_uri}/2026/01/05/11"
    assert merge_inputs["endpoint_input_1"].endswith(f"{ENDPOINT}/AllTraffic/2026/01/05/11")
    assert merge["AppSpecification"]["ImageUri"].endswith(
        "sagemaker-model-monitor-groundtruth-merger"
    )

    # -- executions listed like data-quality ones, with their type
    summaries = sm.list_monitoring_executions(
        MonitoringScheduleName="mqflow-schedule", MonitoringTypeEquals="ModelQuality"
    )["MonitoringExecutionSummaries"]
    assert sorted(s["MonitoringExecutionStatus"] for s in summaries) == [
        "Completed",
        "CompletedWithViolations",
    ]
    assert all(s["MonitoringJobDefinitionName"] == monitor.job_definition_name for s in summaries)

    # -- CloudWatch: the model-quality namespace, one datum per execution
    cw = aws.client("cloudwatch")
    dims = [
        {"Name": "Endpoint", "Value": ENDPOINT},
        {"Name": "MonitoringSchedule", "Value": "mqflow-schedule"},
    ]
    names = {
        m["MetricName"]
        for m in cw.list_metrics(Namespace="aws/sagemaker/Endpoints/model-metrics")["Metrics"]
    }
    assert {"auc", "accuracy", "f1", "recall", "precision"} <= names
    data = cw.get_metric_statistics(
        Namespace="aws/sagemaker/Endpoints/model-metrics",
        MetricName="auc",
        Dimensions=dims,
        StartTime="2026-01-05T10:00:00Z",
        EndTime="2026-01-05T13:00:00Z",
        Period=3600,
        Statistics=["Average"],
    )["Datapoints"]
    values = sorted((d["Timestamp"], d["Average"]) for d in data)
    assert [v for _, v in values] == pytest.approx([skm.roc_auc_score(y, p) for y, p in hours])

    # -- an hour without labels fails like the service: no ground truth to merge
    ground_truth.send_with_ids(
        predictor, test_rows[:5], [f"nolabel-{i}" for i in range(5)], progress=False
    )
    ran = aws.emulator.advance_to_next_hour()["executions"]
    assert ran[0]["status"] == "Failed"
    assert ran[0]["failure_reason"].startswith("Job inputs had no data")

    # -- delete: the SDK deletes the schedule and then its job definition
    attached.delete_monitoring_schedule()
    assert sm.list_monitoring_schedules(EndpointName=ENDPOINT)["MonitoringScheduleSummaries"] == []
    assert sm.list_model_quality_job_definitions()["JobDefinitionSummaries"] == []
