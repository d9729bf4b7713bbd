"""mmutils.lab.executions: the one reader of monitoring executions and their violations."""

from __future__ import annotations

import datetime as dt
import json
import types

import pytest

from mmutils.formats.reports import DocumentError
from mmutils.lab import executions, runner

_DT = {"feature_name": "Churn", "constraint_check_type": "data_type_check", "description": "a"}
_DRIFT = {"feature_name": "Day Mins", "constraint_check_type": "baseline_drift_check"}
_COMP = {"feature_name": "Area", "constraint_check_type": "completeness_check", "description": ""}


def test_check_counts_keep_the_order_of_first_appearance():
    assert executions.check_counts([_DRIFT, _DT, _DRIFT]) == {
        "baseline_drift_check": 2,
        "data_type_check": 1,
    }
    assert executions.Execution(None).check_counts() == {}


def test_violations_frame_sorts_by_check_then_feature():
    frame = executions.violations_frame({"violations": [_DT, _DRIFT, _COMP]})
    assert list(frame.columns) == ["feature_name", "constraint_check_type", "description"]
    assert frame["feature_name"].tolist() == ["Day Mins", "Area", "Churn"]
    assert executions.violations_frame(None).empty
    with pytest.raises(DocumentError, match="no 'violations' list"):
        executions.violations_frame({"other": []})


def test_pairs_become_executions_oldest_first():
    runs = executions.as_executions(
        {"2024-01-01T02:00:00Z": [_DT], dt.datetime(2024, 1, 1, 1): None}  # naive: UTC
    )
    assert [str(r.scheduled_time) for r in runs] == [
        "2024-01-01 01:00:00+00:00",
        "2024-01-01 02:00:00+00:00",
    ]
    assert [r.violations for r in runs] == [[], [_DT]]


def test_reports_in_s3_with_the_job_that_wrote_them():
    boto3 = pytest.importorskip("boto3")
    from moto import mock_aws

    base = "mmlab/reports/ep/sched/2024/01/01"
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="bkt")
        s3.put_object(
            Bucket="bkt",
            Key=f"{base}/02/constraint_violations.json",
            Body=json.dumps({"violations": [_DT, _DRIFT, _DT]}).encode(),
        )
        s3.put_object(Bucket="bkt", Key=f"{base}/02/statistics.json", Body=b"{}")
        s3.put_object(Bucket="bkt", Key=f"{base}/01/statistics.json", Body=b"{}")
        s3.put_object(Bucket="bkt", Key="mmlab/elsewhere/x.json", Body=b"{}")
        sm = boto3.client("sagemaker", region_name="us-east-1")
        sm.create_processing_job(
            ProcessingJobName="job-02",
            ProcessingResources={
                "ClusterConfig": {
                    "InstanceCount": 1,
                    "InstanceType": "ml.m5.xlarge",
                    "VolumeSizeInGB": 1,
                }
            },
            AppSpecification={"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/a:1"},
            RoleArn="arn:aws:iam::123456789012:role/r",
            ProcessingOutputConfig={
                "Outputs": [
                    {
                        "OutputName": "result",
                        "S3Output": {
                            "S3Uri": f"s3://bkt/{base}/02/",
                            "LocalPath": "/opt/ml/processing/output",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
        )
        session = types.SimpleNamespace(
            bucket="bkt", client=lambda name: boto3.client(name, region_name="us-east-1")
        )
        runs = executions.read_reports(session, "s3://bkt/mmlab/reports")
        summaries = runner.report_summaries(session, "mmlab")
    assert [r.report_uri for r in runs] == [f"s3://bkt/{base}/01", f"s3://bkt/{base}/02"]
    assert [r.scheduled_time.hour for r in runs] == [1, 2]
    assert runs[0].violations == [] and runs[0].processing_job is None
    assert runs[1].violations == [_DT, _DRIFT, _DT]
    assert runs[1].processing_job == "job-02" and runs[1].status
    assert summaries == [
        {"report": f"s3://bkt/{base}/01", "violations": {}, "exit_message": ""},
        {
            "report": f"s3://bkt/{base}/02",
            "violations": {"data_type_check": 2, "baseline_drift_check": 1},
            "exit_message": runs[1].exit_message or runs[1].status,
        },
    ]
