"""The patch table: every moto and SageMaker SDK name mmlab patches or relies on, checked at
start-up with a message naming the package version and the missing name."""

from __future__ import annotations

import inspect
import types

import pytest

from mmutils.emulator import patch_table
from mmutils.emulator.patch_table import check, resolve


def test_the_installed_packages_have_every_listed_name():
    check("moto")
    check("sagemaker")


def test_a_missing_moto_name_is_named_with_the_version(monkeypatch):
    from moto.sagemaker import responses as smr

    monkeypatch.delattr(smr.SageMakerResponse, "describe_model")
    with pytest.raises(
        RuntimeError,
        match=r"^moto 5\.2\.5 has no moto\.sagemaker\.responses\.SageMakerResponse\.describe_model; "
        r"mmlab patches it to .*\(mmlab needs moto==5\.2\.5\)$",
    ):
        check("moto")


def test_a_missing_sdk_method_is_named_with_the_version(monkeypatch):
    import sagemaker.session

    version = patch_table.version("sagemaker").replace(".", r"\.")
    monkeypatch.delattr(sagemaker.session.Session, "wait_for_processing_job")
    with pytest.raises(
        RuntimeError,
        match=rf"^sagemaker {version} has no "
        r"sagemaker\.session\.Session\.wait_for_processing_job; mmlab patches it to poll",
    ):
        check("sagemaker")


def test_a_changed_sdk_signature_is_reported(monkeypatch):
    import sagemaker.session

    def wait_for_processing_job(self, job):  # the SDK dropped ``poll``
        return None

    monkeypatch.setattr(
        sagemaker.session.Session, "wait_for_processing_job", wait_for_processing_job
    )
    with pytest.raises(
        RuntimeError, match=r"has no parameter 'poll' in sagemaker\.session\.Session"
    ):
        check("sagemaker")


def test_instance_attributes_are_checked_on_a_probe_object(monkeypatch):
    """Behaviour, not source text: a backend that no longer keeps ``endpoints`` is caught."""
    from moto.sagemaker.models import SageMakerModelBackend

    original = SageMakerModelBackend.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        del self.endpoints

    monkeypatch.setattr(SageMakerModelBackend, "__init__", init)
    with pytest.raises(
        RuntimeError, match=r"has no moto\.sagemaker\.models\.SageMakerModelBackend\.endpoints; "
    ):
        check("moto")


def test_every_problem_is_reported_at_once(monkeypatch):
    from moto.s3.models import S3Backend

    monkeypatch.delattr(S3Backend, "get_bucket")
    monkeypatch.delattr(S3Backend, "put_object")
    with pytest.raises(RuntimeError) as info:
        check("moto")
    lines = str(info.value).splitlines()
    assert [line.split(";")[0] for line in lines] == [
        "moto 5.2.5 has no moto.s3.models.S3Backend.get_bucket",
        "moto 5.2.5 has no moto.s3.models.S3Backend.put_object",
    ]


def test_resolve_gives_the_owner_and_the_name():
    import sagemaker.session

    assert resolve("sagemaker.session.Session.wait_for_endpoint") == (
        sagemaker.session.Session,
        "wait_for_endpoint",
    )
    owner, name = resolve("sagemaker.session.sts_regional_endpoint")
    assert owner is sagemaker.session and name == "sts_regional_endpoint"
    owner, name = resolve("sagemaker.telemetry.telemetry_logging._send_telemetry_request")
    assert isinstance(owner, types.ModuleType) and hasattr(owner, name)


def test_resolve_refuses_a_name_that_is_not_listed():
    with pytest.raises(ValueError, match="not in mmlab's patch table"):
        resolve("sagemaker.session.Session.upload_data")
    with pytest.raises(ValueError, match="no patch-table entries"):
        check("boto3")


def test_every_sdk_patch_of_the_lab_is_listed():
    targets = {e.target for e in patch_table.entries("sagemaker")}
    assert targets == {
        "sagemaker.session.Session.wait_for_endpoint",
        "sagemaker.session.Session.wait_for_processing_job",
        "sagemaker.session.Session.logs_for_processing_job",
        "sagemaker.model_monitor.model_monitoring.ModelMonitor._wait_for_schedule_changes_to_apply",
        "sagemaker.telemetry.telemetry_logging._send_telemetry_request",
        "sagemaker.session.sts_regional_endpoint",
    }


def _ours(value) -> bool:
    return (getattr(value, "__module__", None) or "").startswith("mmutils.")


def test_the_emulator_patches_exactly_what_the_table_lists():
    """After start-up, every ``patches``/``adds`` entry holds mmlab's code, and no moto class
    the table names holds mmlab code the table does not list."""
    from mmutils.emulator.server import EmulatorServer

    server = EmulatorServer(port=0).start()
    try:
        listed = {e.target for e in patch_table.entries("moto") if e.how in ("patches", "adds")}
        for target in listed:
            owner, name = resolve(target)
            value = getattr(owner, name)
            if isinstance(value, dict):  # moto_api's url_paths: our routes are in it
                assert any(_ours(handler) for handler in value.values()), target
            else:
                assert _ours(value), f"{target} is listed but not patched"
        owners = {}
        for entry in patch_table.entries("moto"):
            owner, _ = resolve(entry.target)
            if inspect.isclass(owner):
                owners[entry.target.rsplit(".", 1)[0]] = owner
        unlisted = [
            f"{path}.{name}"
            for path, owner in owners.items()
            for name, value in vars(owner).items()
            if _ours(value) and f"{path}.{name}" not in listed
        ]
        assert unlisted == []
    finally:
        server.stop()
