"""Monitoring-schedule APIs moto lacks: CRUD with AWS's errors, listing (filters, sort, paging),
tags on schedule ARNs and the SDK's DefaultModelMonitor.attach."""

from __future__ import annotations

import os
import time

import pytest
from emulator_support import ANALYZER_IMAGE, REGION, data_quality_job_definition, running


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    with running(tmp_path_factory.mktemp("schedules")) as emu:
        yield emu


def _job_definition(sm, name: str, endpoint: str = "sched-ep") -> None:
    data_quality_job_definition(
        sm,
        name,
        endpoint,
        "s3://b/reports",
        statistics="s3://b/statistics.json",
        constraints="s3://b/constraints.json",
        app={
            "ImageUri": ANALYZER_IMAGE,
            "Environment": {"publish_cloudwatch_metrics": "Enabled"},
        },
    )


def _config(job_def: str, cron: str = "cron(0 * ? * * *)") -> dict:
    return {
        "ScheduleConfig": {"ScheduleExpression": cron},
        "MonitoringJobDefinitionName": job_def,
        "MonitoringType": "DataQuality",
    }


def test_crud_and_errors(emu):
    sm = emu.client("sagemaker")
    _job_definition(sm, "crud-def")
    arn = sm.create_monitoring_schedule(
        MonitoringScheduleName="crud",
        MonitoringScheduleConfig=_config("crud-def"),
        Tags=[{"Key": "lab", "Value": "mm"}],
    )["MonitoringScheduleArn"]
    assert arn == f"arn:aws:sagemaker:{REGION}:123456789012:monitoring-schedule/crud"
    desc = sm.describe_monitoring_schedule(MonitoringScheduleName="crud")
    # as on the service: Pending for a moment, then Scheduled
    assert desc["MonitoringScheduleStatus"] == "Pending"
    time.sleep(0.6)
    desc = sm.describe_monitoring_schedule(MonitoringScheduleName="crud")
    assert desc["MonitoringScheduleStatus"] == "Scheduled"
    assert desc["MonitoringType"] == "DataQuality"
    assert desc["EndpointName"] == "sched-ep"
    assert desc["MonitoringScheduleConfig"] == _config("crud-def")
    assert "LastMonitoringExecutionSummary" not in desc

    with pytest.raises(
        sm.exceptions.ResourceInUse, match="monitoring-schedule/crud already exists"
    ):
        sm.create_monitoring_schedule(
            MonitoringScheduleName="crud", MonitoringScheduleConfig=_config("crud-def")
        )
    with pytest.raises(
        sm.exceptions.ResourceNotFound, match="monitoring-schedule/nope does not exist"
    ):
        sm.describe_monitoring_schedule(MonitoringScheduleName="nope")
    with pytest.raises(sm.exceptions.ResourceNotFound, match="data-quality-job-definition/missing"):
        sm.create_monitoring_schedule(
            MonitoringScheduleName="x", MonitoringScheduleConfig=_config("missing")
        )
    with pytest.raises(sm.exceptions.ClientError, match="AWS cron needs 6 fields"):
        sm.create_monitoring_schedule(
            MonitoringScheduleName="x",
            MonitoringScheduleConfig=_config("crud-def", "cron(0 * * * *)"),
        )

    sm.stop_monitoring_schedule(MonitoringScheduleName="crud")
    assert (
        sm.describe_monitoring_schedule(MonitoringScheduleName="crud")["MonitoringScheduleStatus"]
        == "Stopped"
    )
    sm.start_monitoring_schedule(MonitoringScheduleName="crud")
    assert (
        sm.describe_monitoring_schedule(MonitoringScheduleName="crud")["MonitoringScheduleStatus"]
        == "Scheduled"
    )

    _job_definition(sm, "crud-def2", endpoint="other-ep")
    sm.update_monitoring_schedule(
        MonitoringScheduleName="crud",
        MonitoringScheduleConfig=_config("crud-def2", "cron(0 5 ? * * *)"),
    )
    desc = sm.describe_monitoring_schedule(MonitoringScheduleName="crud")
    assert (
        desc["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"]
        == "cron(0 5 ? * * *)"
    )
    assert desc["EndpointName"] == "other-ep"
    assert desc["LastModifiedTime"] >= desc["CreationTime"]

    sm.delete_monitoring_schedule(MonitoringScheduleName="crud")
    for call in (
        sm.describe_monitoring_schedule,
        sm.delete_monitoring_schedule,
        sm.stop_monitoring_schedule,
        sm.start_monitoring_schedule,
    ):
        with pytest.raises(sm.exceptions.ResourceNotFound):
            call(MonitoringScheduleName="crud")


def test_list_filters_sort_and_paging(emu):
    sm = emu.client("sagemaker")
    _job_definition(sm, "list-def", endpoint="list-ep")
    for name in ("list-b", "list-a", "list-c"):
        sm.create_monitoring_schedule(
            MonitoringScheduleName=name, MonitoringScheduleConfig=_config("list-def")
        )
    sm.stop_monitoring_schedule(MonitoringScheduleName="list-c")

    def names(**kw):
        return [
            s["MonitoringScheduleName"]
            for s in sm.list_monitoring_schedules(**kw)["MonitoringScheduleSummaries"]
        ]

    assert names(NameContains="list-", SortBy="Name", SortOrder="Ascending") == [
        "list-a",
        "list-b",
        "list-c",
    ]
    assert names(NameContains="list-", SortBy="CreationTime", SortOrder="Ascending") == [
        "list-b",
        "list-a",
        "list-c",
    ]
    assert names(NameContains="list-", StatusEquals="Stopped") == ["list-c"]
    assert set(names(EndpointName="list-ep")) == {"list-a", "list-b", "list-c"}
    summary = sm.list_monitoring_schedules(NameContains="list-a")["MonitoringScheduleSummaries"][0]
    assert summary["MonitoringJobDefinitionName"] == "list-def"
    assert summary["MonitoringType"] == "DataQuality"
    page1 = sm.list_monitoring_schedules(
        NameContains="list-", SortBy="Name", SortOrder="Ascending", MaxResults=2
    )
    assert [s["MonitoringScheduleName"] for s in page1["MonitoringScheduleSummaries"]] == [
        "list-a",
        "list-b",
    ]
    page2 = sm.list_monitoring_schedules(
        NameContains="list-",
        SortBy="Name",
        SortOrder="Ascending",
        MaxResults=2,
        NextToken=page1["NextToken"],
    )
    assert [s["MonitoringScheduleName"] for s in page2["MonitoringScheduleSummaries"]] == ["list-c"]
    assert "NextToken" not in page2
    with pytest.raises(sm.exceptions.ClientError, match="Invalid pagination token"):
        sm.list_monitoring_schedules(NextToken="garbage")


def test_list_executions_of_a_new_schedule_is_empty(emu):
    sm = emu.client("sagemaker")
    _job_definition(sm, "exec-def")
    sm.create_monitoring_schedule(
        MonitoringScheduleName="exec-s", MonitoringScheduleConfig=_config("exec-def")
    )
    out = sm.list_monitoring_executions(
        MonitoringScheduleName="exec-s",
        SortBy="ScheduledTime",
        SortOrder="Descending",
        MaxResults=100,
    )
    assert out["MonitoringExecutionSummaries"] == []


def test_tags_on_schedule_arns(emu):
    sm = emu.client("sagemaker")
    _job_definition(sm, "tag-def")
    arn = sm.create_monitoring_schedule(
        MonitoringScheduleName="tagged",
        MonitoringScheduleConfig=_config("tag-def"),
        Tags=[{"Key": "a", "Value": "1"}],
    )["MonitoringScheduleArn"]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "b", "Value": "2"}])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [
        {"Key": "a", "Value": "1"},
        {"Key": "b", "Value": "2"},
    ]
    sm.delete_tags(ResourceArn=arn, TagKeys=["a"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    with pytest.raises(
        sm.exceptions.ClientError, match="Could not find monitoring-schedule with name ghost"
    ):
        sm.list_tags(ResourceArn=arn.replace("tagged", "ghost"))


def test_sdk_attach(emu):
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    import boto3
    import sagemaker
    from sagemaker.model_monitor import DefaultModelMonitor

    sm = emu.client("sagemaker")
    _job_definition(sm, "attach-def")
    sm.create_monitoring_schedule(
        MonitoringScheduleName="attach-me",
        MonitoringScheduleConfig=_config("attach-def"),
        Tags=[{"Key": "owner", "Value": "lab"}],
    )
    boto_session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    session = sagemaker.Session(
        boto_session=boto_session,
        sagemaker_client=sm,
        sagemaker_runtime_client=emu.client("sagemaker-runtime"),
        default_bucket="lab-bucket",
    )
    monitor = DefaultModelMonitor.attach("attach-me", sagemaker_session=session)
    assert monitor.monitoring_schedule_name == "attach-me"
    assert monitor.job_definition_name == "attach-def"
    assert monitor.tags == [{"Key": "owner", "Value": "lab"}]
    assert monitor.image_uri == ANALYZER_IMAGE
    assert monitor.env == {"publish_cloudwatch_metrics": "Enabled"}
    assert monitor.describe_schedule()["MonitoringScheduleStatus"] in ("Pending", "Scheduled")
    time.sleep(0.6)
    assert monitor.describe_schedule()["MonitoringScheduleStatus"] == "Scheduled"
