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


class _Jobs:
    """list_processing_jobs answering two pages of names."""

    def __init__(self, *pages):
        self.pages = list(pages)

    def list_processing_jobs(self, **kwargs):
        page = self.pages.pop(0)
        answer = {"ProcessingJobSummaries": [{"ProcessingJobName": n} for n in page]}
        if self.pages:
            answer["NextToken"] = "more"
        return answer


def test_unique_job_name_takes_the_first_free_number_over_every_page():
    sm = _Jobs(["mmlab-baseline-1", "mmlab-baseline-x"], ["mmlab-baseline-3", "other-2"])
    assert lab.unique_job_name(sm, "mmlab-baseline") == "mmlab-baseline-2"
    assert lab.unique_job_name(_Jobs([]), "mmlab-baseline") == "mmlab-baseline-1"


def test_prefix_is_the_parameter_or_unique_per_attendee_on_live():
    class Live:
        backend, emulator = "live", None

        def client(self, name):
            assert name == "sts"
            return types.SimpleNamespace(
                get_caller_identity=lambda: {
                    "Arn": "arn:aws:sts::000000000000:assumed-role/Lab/Alice.Smith@example.com"
                }
            )

    assert lab.resolve_prefix("team1", Live()) == "team1"
    assert lab.resolve_prefix("", Live()) == "mmlab-alice-smith-example-com"
    moto = types.SimpleNamespace(backend="moto", emulator=object())
    assert lab.resolve_prefix("", moto) == "mmlab"
    assert lab.lab_tags("p") == [
        {"Key": "mmlab:lab", "Value": "model-monitor"},
        {"Key": "mmlab:prefix", "Value": "p"},
    ]


def test_ipython_handler_shows_mmlab_errors_as_one_line(capsys):
    from IPython.core.interactiveshell import InteractiveShell

    from mmutils.lab import ipython_errors

    shell = InteractiveShell.instance()
    rich = []  # the SDK's rich tracebacks replace the instance's _showtraceback like this
    shell._showtraceback = lambda etype, value, stb: rich.append(etype)
    assert ipython_errors.install(shell)
    result = shell.run_cell(
        "from mmutils.lab.notebook import PrerequisiteError\n"
        "raise PrerequisiteError('Run notebooks/01_capture.ipynb first.')"
    )
    assert type(result.error_in_exec).__name__ == "PrerequisiteError"  # the cell failed
    out = capsys.readouterr().out
    assert out == "\x1b[0;31mPrerequisiteError\x1b[0m: Run notebooks/01_capture.ipynb first.\n"
    assert rich == []
    result = shell.run_cell("undefined_name")
    assert isinstance(result.error_in_exec, NameError)
    assert capsys.readouterr().out.rstrip().endswith(ipython_errors.RESTART_HINT)
    result = shell.run_cell("1 / 0")  # unexpected: shown as before (here: the rich stand-in)
    assert isinstance(result.error_in_exec, ZeroDivisionError) and rich == [ZeroDivisionError]
    shell.set_custom_exc((), None)
    del shell._showtraceback
