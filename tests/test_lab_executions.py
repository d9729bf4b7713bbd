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


def _processing_job(sm, name: str, output_uri: str) -> None:
    sm.create_processing_job(
        ProcessingJobName=name,
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
                        "S3Uri": output_uri,
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
    )


class _Counting:
    """A real boto3 client that counts the calls made through it."""

    def __init__(self, client, calls):
        self._client, self._calls = client, calls

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if not callable(attr) or name.startswith(("get_", "can_")):
            return attr

        def call(*args, **kwargs):
            self._calls.append((name, kwargs))
            return attr(*args, **kwargs)

        return call


def test_reports_in_s3_with_the_job_that_wrote_them():
    boto3 = pytest.importorskip("boto3")
    from moto import mock_aws

    base = "mmlab/reports/ep/sched/2024/01/01"
    calls: list = []
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
        # other jobs of the account: not monitoring executions, never described
        for i in range(12):
            _processing_job(sm, f"someone-elses-job-{i}", f"s3://other/{i}/")
        _processing_job(
            sm, "model-monitoring-202401010200-0123456789abcdef01234567", f"s3://bkt/{base}/02/"
        )
        session = types.SimpleNamespace(
            bucket="bkt",
            client=lambda name: _Counting(boto3.client(name, region_name="us-east-1"), calls),
        )
        runs = executions.read_reports(session, "s3://bkt/mmlab/reports")
        summaries = runner.report_summaries(session, "mmlab")
    assert [r.report_uri for r in runs] == [f"s3://bkt/{base}/01", f"s3://bkt/{base}/02"]
    assert [r.scheduled_time.hour for r in runs] == [1, 2]
    assert runs[0].violations == [] and runs[0].processing_job is None
    assert runs[1].violations == [_DT, _DRIFT, _DT]
    assert runs[1].processing_job.startswith("model-monitoring-") and runs[1].status
    # only the monitoring job is described, not the account's other twelve
    described = [kw["ProcessingJobName"] for name, kw in calls if name == "describe_processing_job"]
    assert set(described) == {runs[1].processing_job}
    [listing, *_] = [kw for name, kw in calls if name == "list_processing_jobs"]
    assert listing["NameContains"] == "monitoring"
    assert listing["CreationTimeAfter"] == dt.datetime(2024, 1, 1, 0, tzinfo=dt.UTC)
    assert summaries == [
        {
            "report": f"s3://bkt/{base}/01",
            "monitoring_type": "DataQuality",
            "notebook": "03_schedule",
            "violations": {},
            "exit_message": "",
        },
        {
            "report": f"s3://bkt/{base}/02",
            "monitoring_type": "DataQuality",
            "notebook": "03_schedule",
            "violations": {"data_type_check": 2, "baseline_drift_check": 1},
            "exit_message": runs[1].exit_message or runs[1].status,
        },
    ]


_MQ = [
    {"metric_name": "auc", "constraint_check_type": "LessThanThreshold", "description": "a"},
    {"metric_name": "falsePositiveRate", "constraint_check_type": "GreaterThanThreshold"},
]


def test_model_quality_reports_are_summarised_and_merge_folders_skipped():
    """Notebook 05's reports: model quality (merge output skipped) and its data quality."""
    boto3 = pytest.importorskip("boto3")
    from moto import mock_aws

    mq = "p/model-quality/reports"
    dq = "p/model-quality/data-quality-reports"
    hour = "ep/sched/2024/01/01/03"
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="bkt")
        s3.put_object(Bucket="bkt", Key=f"{mq}/merge/{hour}/part-0.jsonl", Body=b"{}")
        s3.put_object(
            Bucket="bkt",
            Key=f"{mq}/{hour}/constraint_violations.json",
            Body=json.dumps({"violations": _MQ}).encode(),
        )
        s3.put_object(
            Bucket="bkt",
            Key=f"{dq}/{hour}/constraint_violations.json",
            Body=json.dumps({"violations": [_DT]}).encode(),
        )
        sm = boto3.client("sagemaker", region_name="us-east-1")
        _processing_job(sm, "groundtruth-merge-202401010300-0123", f"s3://bkt/{mq}/merge/{hour}")
        _processing_job(sm, "model-quality-monitoring-202401010300-0123", f"s3://bkt/{mq}/{hour}")
        session = types.SimpleNamespace(
            bucket="bkt", client=lambda name: boto3.client(name, region_name="us-east-1")
        )
        summaries = runner.report_summaries(session, "p")
    assert [(s["notebook"], s["monitoring_type"], s["report"]) for s in summaries] == [
        ("05_model_quality", "ModelQuality", f"s3://bkt/{mq}/{hour}"),
        ("05_model_quality", "DataQuality", f"s3://bkt/{dq}/{hour}"),
    ]
    assert summaries[0]["violations"] == {"LessThanThreshold": 1, "GreaterThanThreshold": 1}
    assert summaries[0]["exit_message"]  # the analysis job's, not the merge job's
    assert summaries[1]["violations"] == {"data_type_check": 1}
    report = runner.RunReport(output=None, backend="moto", prefix="p", executions=summaries)
    markdown = report.to_markdown()
    assert "Prefix: `p`" in markdown
    assert (
        f"| 05_model_quality | ModelQuality | `s3://bkt/{mq}/{hour}` | "
        f"{summaries[0]['exit_message']} | GreaterThanThreshold: 1, LessThanThreshold: 1 |"
    ) in markdown


def test_run_summary_resolves_an_empty_prefix_like_the_notebooks():
    """The runner's reader resolves ``PREFIX=""`` as a notebook does: per caller on live."""
    boto3 = pytest.importorskip("boto3")
    from moto import mock_aws

    with mock_aws():
        boto_session = boto3.Session(region_name="us-east-1")
        live = runner.ReportReader(boto_session, "live")
        emulated = runner.ReportReader(boto_session, "moto")
        arn = boto_session.client("sts").get_caller_identity()["Arn"]
        assert runner.resolve_prefix("", live) == "mmlab-" + arn.rsplit("/", 1)[-1].lower()
        assert runner.resolve_prefix("", emulated) == "mmlab"
        assert runner.resolve_prefix("team1", live) == "team1"
    assert live.bucket == "sagemaker-us-east-1-123456789012"


@pytest.mark.slow
def test_execution_table_reads_every_page_of_a_schedule(tmp_path, test_data_dir):
    """12 executions: AWS (and the emulator) list 10 per page; the table has all 12."""
    from emulator_support import (
        capture_config,
        data_quality_job_definition,
        deploy,
        running,
        sdk_session,
    )
    from sagemaker.model_monitor import DefaultModelMonitor

    from mmutils.emulator.admin_client import EmulatorClient

    with running(tmp_path / "emu") as emu:
        sm = emu.client("sagemaker")
        clock = EmulatorClient(emu.url)
        clock.set_clock("2024-05-02T10:05:00Z")
        deploy(
            emu,
            "pages",
            (test_data_dir / "model.tar.gz").read_bytes(),
            capture=capture_config("s3://lab-bucket/dc"),
        )
        data_quality_job_definition(sm, "pages-def", "pages", "s3://lab-bucket/reports")
        sm.create_monitoring_schedule(
            MonitoringScheduleName="pages-schedule",
            MonitoringScheduleConfig={
                "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
                "MonitoringJobDefinitionName": "pages-def",
                "MonitoringType": "DataQuality",
            },
        )
        for _ in range(12):  # no traffic: each hour fails with "Job inputs had no data"
            clock.advance_to_next_hour()
        first_page = sm.list_monitoring_executions(MonitoringScheduleName="pages-schedule")
        assert len(first_page["MonitoringExecutionSummaries"]) == 10 and first_page["NextToken"]
        monitor = DefaultModelMonitor.attach("pages-schedule", sagemaker_session=sdk_session(emu))
        table = executions.execution_table(monitor)
    assert table["scheduled_time"].tolist() == [f"2024-05-02 {h}:00" for h in range(11, 23)]
    assert set(table["failure_reason"]) == {"Job inputs had no data"}
