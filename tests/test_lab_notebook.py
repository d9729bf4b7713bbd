"""mmutils.lab (the notebooks' helpers): names, and "does not exist" told apart from other errors."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest
from botocore.exceptions import ClientError

from mmutils import lab


def _error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} from a test"}}, operation)


class FakeClient:
    """A boto3 client stand-in: every operation answers ``{}`` or raises the error set for it."""

    exceptions = types.SimpleNamespace(ClientError=ClientError)

    def __init__(self, errors: dict[str, str] | None = None):
        self.errors = dict(errors or {})
        self.calls: list[str] = []

    def __getattr__(self, operation: str):
        def call(**kwargs):
            self.calls.append(operation)
            if operation in self.errors:
                raise _error(self.errors[operation], operation)
            return {"EndpointConfigName": "cfg"} if operation == "describe_endpoint" else {}

        return call


def test_import_is_light():
    code = (
        "import sys, mmutils.lab; "
        "print(sorted(m for m in ('boto3', 'botocore', 'sagemaker', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_names_derive_from_the_prefix():
    names = lab.names("mmlab", "bkt")
    assert names.endpoint == "mmlab-xgb-churn-endpoint"
    assert names.schedule == "mmlab-data-quality-schedule"
    assert names.model_uri == "s3://bkt/mmlab/model/model.tar.gz"
    assert names.reports_uri == "s3://bkt/mmlab/reports"
    assert names.s3("test") == "s3://bkt/mmlab/test"


def test_missing_resources_are_absent_other_errors_are_raised():
    assert not lab.endpoint_exists(FakeClient({"describe_endpoint": "ValidationException"}), "e")
    assert lab.endpoint_exists(FakeClient(), "e")
    with pytest.raises(ClientError, match="AccessDenied"):
        lab.endpoint_exists(FakeClient({"describe_endpoint": "AccessDeniedException"}), "e")
    with pytest.raises(lab.PrerequisiteError, match="Run notebooks/01_capture.ipynb first"):
        lab.require_endpoint(FakeClient({"describe_endpoint": "ValidationException"}), "e")


def test_require_s3_object_and_schedule():
    with pytest.raises(lab.PrerequisiteError, match=r"s3://b/k is missing\. Run notebooks/02"):
        lab.require_s3_object(FakeClient({"head_object": "404"}), "s3://b/k", "02_baseline.ipynb")
    with pytest.raises(ClientError, match="403"):
        lab.require_s3_object(FakeClient({"head_object": "403"}), "s3://b/k", "02_baseline.ipynb")
    with pytest.raises(lab.PrerequisiteError, match="Run notebooks/03_schedule.ipynb"):
        lab.require_schedule(FakeClient({"describe_monitoring_schedule": "ResourceNotFound"}), "s")
    with pytest.raises(ClientError, match="AccessDenied"):
        lab.require_schedule(FakeClient({"describe_monitoring_schedule": "AccessDenied"}), "s")


def test_delete_schedule_if_exists():
    absent = FakeClient({"describe_monitoring_schedule": "ResourceNotFound"})
    assert lab.delete_schedule_if_exists(absent, "s") is False
    assert absent.calls == ["describe_monitoring_schedule"]
    # AccessDenied is not "absent" (the old code said it was)
    with pytest.raises(ClientError, match="AccessDenied"):
        lab.delete_schedule_if_exists(
            FakeClient({"describe_monitoring_schedule": "AccessDenied"}), "s"
        )
    # exists, already stopped, then gone after the delete
    client = FakeClient({"stop_monitoring_schedule": "ValidationException"})

    def describe(**kwargs):
        client.calls.append("describe_monitoring_schedule")
        if client.calls.count("describe_monitoring_schedule") > 1:
            raise _error("ResourceNotFound", "DescribeMonitoringSchedule")
        return {}

    client.describe_monitoring_schedule = describe
    assert lab.delete_schedule_if_exists(client, "s") is True
    assert client.calls == [
        "describe_monitoring_schedule",
        "stop_monitoring_schedule",
        "delete_monitoring_schedule",
        "describe_monitoring_schedule",
    ]


def test_delete_endpoint_if_exists_skips_only_what_is_missing():
    client = FakeClient({"delete_endpoint_config": "ValidationException"})
    assert lab.delete_endpoint_if_exists(client, "ep", "model") == ["endpoint ep", "model model"]
    absent = FakeClient(
        {
            "describe_endpoint": "ValidationException",
            "delete_endpoint_config": "ValidationException",
            "delete_model": "ValidationException",
        }
    )
    assert lab.delete_endpoint_if_exists(absent, "ep", "model") == []
    with pytest.raises(ClientError, match="AccessDenied"):
        lab.delete_endpoint_if_exists(FakeClient({"delete_model": "AccessDenied"}), "ep", "m")
