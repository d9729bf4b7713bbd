"""The processing runtime runs the real analyzer for baseline jobs (boto3 and the SDK), uploads
its outputs, sets status/ExitMessage/FailureReason and writes the job's CloudWatch log stream."""

from __future__ import annotations

import json

import pytest
from emulator_support import baseline_job, list_keys, running, sdk_session, upload, wait_job

from mmutils.emulator.processing import is_analyzer, relative_key


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    with running(tmp_path_factory.mktemp("processing")) as emu:
        yield emu


@pytest.fixture(scope="module")
def train_uri(emu, test_data_dir):
    data = (test_data_dir / "training-dataset-with-header.csv").read_bytes()
    return upload(emu, "lab-bucket", "baseline/train.csv", data)


def test_baseline_job_runs_the_analyzer(emu, train_uri, test_data_dir):
    sm, s3 = emu.client("sagemaker"), emu.client("s3")
    baseline_job(emu, "proc-baseline", train_uri, "s3://lab-bucket/baseline/results")
    assert sm.describe_processing_job(ProcessingJobName="proc-baseline")["ProcessingJobStatus"] in (
        "InProgress",
        "Completed",
    )
    final = wait_job(sm, "proc-baseline")
    assert final["ProcessingJobStatus"] == "Completed", final.get("FailureReason")
    assert final["ExitMessage"] == "Completed: Job completed successfully with no violations."
    assert final["ProcessingEndTime"] >= final["ProcessingStartTime"]
    assert list_keys(s3, "lab-bucket", "baseline/results/") == [
        "baseline/results/constraints.json",
        "baseline/results/statistics.json",
    ]
    stats = json.loads(
        s3.get_object(Bucket="lab-bucket", Key="baseline/results/statistics.json")["Body"].read()
    )
    header = (
        (test_data_dir / "training-dataset-with-header.csv").read_text().splitlines()[0].split(",")
    )
    assert [f["name"] for f in stats["features"]] == header
    rows = len((test_data_dir / "training-dataset-with-header.csv").read_text().splitlines()) - 1
    assert stats["dataset"]["item_count"] == rows


def test_job_log_stream_is_what_the_sdk_reads(emu, train_uri, capsys):
    baseline_job(emu, "proc-logs", train_uri, "s3://lab-bucket/logs/results")
    wait_job(emu.client("sagemaker"), "proc-logs")
    logs = emu.client("logs")
    streams = logs.describe_log_streams(
        logGroupName="/aws/sagemaker/ProcessingJobs", logStreamNamePrefix="proc-logs/"
    )["logStreams"]
    assert len(streams) == 1 and streams[0]["logStreamName"].startswith("proc-logs/algo-1-")
    events = logs.get_log_events(
        logGroupName="/aws/sagemaker/ProcessingJobs", logStreamName=streams[0]["logStreamName"]
    )["events"]
    text = "\n".join(e["message"] for e in events)
    assert "Completed: Job completed successfully with no violations." in text
    sdk_session(emu).logs_for_processing_job("proc-logs", wait=False)
    assert "Completed: Job completed successfully with no violations." in capsys.readouterr().out


def test_sdk_suggest_baseline(emu, train_uri):
    from sagemaker.model_monitor import DatasetFormat, DefaultModelMonitor

    monitor = DefaultModelMonitor(
        role="arn:aws:iam::123456789012:role/SageMakerRole",
        instance_count=1,
        instance_type="ml.m5.xlarge",
        sagemaker_session=sdk_session(emu),
    )
    monitor.suggest_baseline(
        baseline_dataset=train_uri,
        dataset_format=DatasetFormat.csv(header=True),
        output_s3_uri="s3://lab-bucket/sdk/results",
        wait=True,
        logs=False,
    )
    desc = monitor.latest_baselining_job.describe()
    assert desc["ProcessingJobStatus"] == "Completed"
    assert desc["Environment"]["publish_cloudwatch_metrics"] == "Disabled"
    constraints = monitor.suggested_constraints().body_dict
    assert constraints["monitoring_config"]["evaluate_constraints"] == "Enabled"
    assert len(monitor.baseline_statistics().body_dict["features"]) == len(constraints["features"])


def test_failing_analyzer_fails_the_job_with_its_message(emu, train_uri):
    baseline_job(
        emu,
        "proc-bad",
        train_uri,
        "s3://lab-bucket/bad/results",
        env={"dataset_format": "{not json"},
    )
    final = wait_job(emu.client("sagemaker"), "proc-bad")
    assert final["ProcessingJobStatus"] == "Failed"
    assert final["FailureReason"].startswith("AlgorithmError: ")
    assert final["FailureReason"] == f"AlgorithmError: {final['ExitMessage']}"
    assert "dataset_format" in final["ExitMessage"]
    assert list_keys(emu.client("s3"), "lab-bucket", "bad/") == []


def test_image_and_path_rules():
    assert is_analyzer(
        "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
    )
    assert is_analyzer(
        "159807026194.dkr.ecr.us-west-2.amazonaws.com/sagemaker-model-monitor-analyzer:latest"
    )
    assert not is_analyzer("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1")
    assert relative_key("base/train.csv", "base/train.csv") == "train.csv"
    assert (
        relative_key("dc/ep/", "dc/ep/AllTraffic/2024/01/01/10/a.jsonl")
        == "AllTraffic/2024/01/01/10/a.jsonl"
    )
    assert (
        relative_key("dc/ep/AllTraffic/2024/01/01/10", "dc/ep/AllTraffic/2024/01/01/10/a.jsonl")
        == "a.jsonl"
    )
    assert relative_key("base/train.csv", "base/train.csv.bak") == "train.csv.bak"
