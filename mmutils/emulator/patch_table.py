"""Every name of moto and of the SageMaker SDK that mmlab patches or relies on, in one table.

The emulator extends moto 5.2.5 through its internals, and the lab layer wraps a few SageMaker
SDK 2.x methods (several of them private). A release that renames one of them must fail at
start-up with a message that names the package version, the missing name and what mmlab does
with it, not with an ``AttributeError`` deep inside a request. :func:`check` does that for
one package (the emulator server calls ``check("moto")`` before patching; the lab layer calls
``check("sagemaker")`` before its SDK patches); :func:`resolve` gives the owner object and the
attribute name of a listed target, so every patch is applied through this table (the emulator
patches moto with :func:`wrap`/:func:`replace`, which refuse a target that is not listed).

Each entry says what mmlab does with the name:

- ``patches``: replaces or wraps it (it must exist, with the listed parameters);
- ``adds``: adds it (its owner must exist; the name itself may be missing);
- ``calls``/``reads``: uses it as it is (it must exist).

``instance`` entries are attributes an object gets in ``__init__``: they are checked on a
freshly built probe object (behaviour, not source text).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import re
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: what mmlab needs of each package (also read from mmlab's own metadata when installed)
PINS = {"moto": "moto==5.2.5", "sagemaker": "sagemaker>=2.257.7,<3"}
#: moto's default account, used for probe objects
_ACCOUNT = "123456789012"
_REGION = "us-east-1"


@dataclass(frozen=True)
class Entry:
    """One patched or relied-upon name.

    Attributes:
        package: ``"moto"`` or ``"sagemaker"``.
        target: dotted path: module, then attributes (``moto.s3.models.S3Backend.get_bucket``).
        how: ``"patches"``, ``"adds"``, ``"calls"`` or ``"reads"``.
        why: what mmlab does with it, phrased to follow "mmlab patches it" (``"to ..."``).
        params: parameters the patch passes on by name (checked on the signature).
        instance: the name is an attribute of an instance of the owner class.
    """

    package: str
    target: str
    how: str
    why: str
    params: tuple[str, ...] = ()
    instance: bool = False


_SM_RESPONSE = "moto.sagemaker.responses.SageMakerResponse"
_SM_BACKEND = "moto.sagemaker.models.SageMakerModelBackend"
_PROCESSING_JOB = "moto.sagemaker.models.FakeProcessingJob"


def _schedule_action(action: str) -> Entry:
    return Entry(
        "moto",
        f"{_SM_RESPONSE}.{action}",
        "adds",
        "to serve the monitoring-schedule API moto lacks",
    )


TABLE: tuple[Entry, ...] = (
    # ------------------------------------------------------------------ admin routes (moto_api)
    Entry(
        "moto",
        "moto.moto_api._internal.urls.url_paths",
        "patches",
        "to add the /moto-api/mmlab/* admin routes and clear the lab's state on /moto-api/reset",
    ),
    Entry(
        "moto",
        "moto.moto_api._internal.urls.response_instance.reset_response",
        "calls",
        "to reset moto after clearing the lab's state",
    ),
    *(
        Entry(
            "moto",
            f"{_SM_RESPONSE}.{action}",
            "patches",
            "to fill in the defaults the service answers (NetworkConfig, StoppingCondition) and "
            "leave out what was never set",
        )
        for action in (
            "describe_processing_job",
            "describe_data_quality_job_definition",
            "describe_endpoint_config",
            "describe_transform_job",
        )
    ),
    # ------------------------------------------------------------------ processing jobs
    Entry(
        "moto",
        f"{_SM_RESPONSE}.create_processing_job",
        "patches",
        "to keep Environment/ProcessingResources, start the job InProgress and run the analyzer",
    ),
    Entry(
        "moto",
        f"{_SM_RESPONSE}.stop_processing_job",
        "patches",
        "to stop the running analyzer too",
    ),
    Entry("moto", f"{_SM_RESPONSE}.sagemaker_backend", "reads", "to reach moto's SageMaker state"),
    Entry(
        "moto",
        f"{_SM_BACKEND}.create_processing_job",
        "calls",
        "to create the processing job of a monitoring execution",
    ),
    Entry(
        "moto",
        f"{_SM_BACKEND}.processing_jobs",
        "reads",
        "to find processing jobs by name",
        instance=True,
    ),
    Entry("moto", f"{_PROCESSING_JOB}.arn_formatter", "calls", "to name a job in error messages"),
    Entry(
        "moto",
        f"{_PROCESSING_JOB}.response_object",
        "reads",
        "to write processingjobconfig.json",
    ),
    *(
        Entry(
            "moto",
            f"{_PROCESSING_JOB}.{attr}",
            "reads",
            "to run the job and set its state",
            (),
            True,
        )
        for attr in (
            "processing_job_status",
            "processing_end_time",
            "creation_time",
            "last_modified_time",
            "app_specification",
            "processing_inputs",
            "processing_output_config",
        )
    ),
    # ------------------------------------------------------------------ endpoints and models
    Entry(
        "moto",
        f"{_SM_RESPONSE}.describe_endpoint",
        "patches",
        "to answer a complete DataCaptureConfig summary (CaptureStatus, sampling percentage)",
    ),
    Entry(
        "moto",
        f"{_SM_RESPONSE}.describe_model",
        "patches",
        "to omit the empty VpcConfig/Containers AWS omits",
    ),
    Entry(
        "moto",
        f"{_SM_RESPONSE}.update_endpoint",
        "adds",
        "to serve UpdateEndpoint (Predictor.update_data_capture_config needs it)",
    ),
    Entry(
        "moto",
        f"{_SM_RESPONSE}.delete_endpoint",
        "patches",
        "to write the endpoint's buffered capture before it goes",
    ),
    Entry("moto", f"{_SM_BACKEND}.describe_endpoint", "calls", "to describe an endpoint"),
    Entry(
        "moto",
        f"{_SM_BACKEND}.describe_endpoint_config",
        "calls",
        "to switch an endpoint's config",
    ),
    Entry("moto", f"{_SM_BACKEND}.describe_model", "calls", "to describe a model"),
    Entry(
        "moto",
        "moto.sagemaker.models.FakeEndpoint._process_production_variants",
        "calls",
        "to switch an endpoint's production variants on UpdateEndpoint",
    ),
    Entry(
        "moto",
        "moto.sagemaker.models.FakeEndpoint.arn_formatter",
        "calls",
        "to name an endpoint in error messages",
    ),
    # ------------------------------------------------------------------ hosting
    Entry(
        "moto",
        "moto.sagemakerruntime.responses.SageMakerRuntimeResponse.invoke_endpoint",
        "patches",
        "to run the endpoint's model for real and capture the exchange",
    ),
    Entry("moto", "moto.sagemaker.models.sagemaker_backends", "reads", "to find endpoints"),
    *(
        Entry("moto", f"{_SM_BACKEND}.{attr}", "reads", "to find what an endpoint runs", (), True)
        for attr in ("_models", "endpoints", "endpoint_configs")
    ),
    # ------------------------------------------------------------------ monitoring schedules
    *(
        _schedule_action(action)
        for action in (
            "create_monitoring_schedule",
            "describe_monitoring_schedule",
            "list_monitoring_schedules",
            "update_monitoring_schedule",
            "delete_monitoring_schedule",
            "start_monitoring_schedule",
            "stop_monitoring_schedule",
            "list_monitoring_executions",
        )
    ),
    *(
        Entry("moto", f"{_SM_RESPONSE}.{action}", "adds", "to serve the monitoring-alert API")
        for action in (
            "list_monitoring_alerts",
            "list_monitoring_alert_history",
            "update_monitoring_alert",
        )
    ),
    *(
        Entry("moto", f"{_SM_RESPONSE}.{action}", "calls", "to tag monitoring schedules")
        for action in ("list_tags", "add_tags", "delete_tags")
    ),
    Entry(
        "moto",
        f"{_SM_BACKEND}._get_resource_from_arn",
        "patches",
        "to find monitoring schedules by ARN (their tags)",
    ),
    Entry("moto", f"{_SM_BACKEND}.list_tags", "calls", "to list a schedule's tags"),
    *(
        Entry("moto", f"{_SM_BACKEND}.{table}", "reads", "to find job definitions", (), True)
        for table in (
            "data_quality_job_definitions",
            "model_quality_job_definitions",
            "model_bias_job_definitions",
            "model_explainability_job_definitions",
        )
    ),
    # ------------------------------------------------------------------ S3 (capture, jobs)
    Entry(
        "moto",
        "moto.s3.responses.S3Response._bucket_response",
        "patches",
        "to write buffered capture before an S3 read (read-your-writes)",
    ),
    Entry(
        "moto",
        "moto.s3.responses.S3Response._key_response",
        "patches",
        "to write buffered capture before an S3 read (read-your-writes)",
    ),
    Entry("moto", "moto.s3.models.s3_backends", "reads", "to reach the emulated S3"),
    Entry("moto", "moto.s3.exceptions.MissingBucket", "reads", "to read a missing bucket as empty"),
    *(
        Entry("moto", f"moto.s3.models.S3Backend.{name}", "calls", "to read and write objects")
        for name in ("get_bucket", "get_object", "put_object")
    ),
    # ------------------------------------------------------------------ batch transform
    Entry(
        "moto",
        f"{_SM_RESPONSE}.create_transform_job",
        "patches",
        "to run the transform job over its S3 input and write its output",
    ),
    Entry(
        "moto",
        f"{_SM_BACKEND}.transform_jobs",
        "reads",
        "to find transform jobs",
        instance=True,
    ),
    # ------------------------------------------------------------------ identity, proxy
    Entry(
        "moto",
        "moto.sts.models.STSBackend.get_caller_identity",
        "patches",
        "to answer the lab's dummy credentials as the assumed SageMakerRole",
        ("access_key_id", "region"),
    ),
    Entry("moto", "moto.iam.models.iam_backends", "reads", "to find the lab's execution role"),
    *(
        Entry("moto", f"moto.iam.models.IAMBackend.{name}", "calls", "to create SageMakerRole")
        for name in ("get_roles", "create_role")
    ),
    *(
        Entry("moto", f"moto.moto_server.werkzeug_app.{name}", "calls", "to serve the HTTPS proxy")
        for name in ("DomainDispatcherApplication", "create_backend_app")
    ),
    Entry(
        "moto",
        "moto.moto_server.werkzeug_app.DomainDispatcherApplication.get_backend_for_host",
        "patches",
        "to remember each host's backend (moto searches its module list on every request)",
        ("host",),
    ),
    # ------------------------------------------------------------------ CloudWatch, logs
    Entry("moto", "moto.cloudwatch.models.cloudwatch_backends", "reads", "to publish metrics"),
    Entry(
        "moto",
        "moto.cloudwatch.models.CloudWatchBackend.put_metric_data",
        "calls",
        "to publish a monitoring job's metrics",
    ),
    Entry("moto", "moto.logs.models.logs_backends", "reads", "to write a job's logs"),
    *(
        Entry("moto", f"moto.logs.models.LogsBackend.{name}", "calls", "to write a job's logs")
        for name in ("create_log_group", "create_log_stream", "put_log_events")
    ),
    # ------------------------------------------------------------------ request validation
    Entry(
        "moto",
        f"{_SM_RESPONSE}._dispatch",
        "patches",
        "to answer unknown actions, wrong-typed bodies and requests that break the API model's "
        "constraints (lengths, patterns, enums, ranges) with AWS's 400 JSON errors",
    ),
    Entry(
        "moto",
        "moto.sagemakerruntime.responses.SageMakerRuntimeResponse._dispatch",
        "patches",
        "to answer an unexpected InvokeEndpoint failure as JSON, never an HTML page",
    ),
    Entry(
        "moto",
        "moto.sagemakerruntime.responses.SageMakerRuntimeResponse.setup_class",
        "patches",
        "to keep InvokeEndpoint bodies as bytes (binary payloads, BASE64 capture)",
        ("request", "full_url", "headers", "use_raw_body"),
    ),
    # ------------------------------------------------------------------ the SageMaker SDK
    Entry(
        "sagemaker",
        "sagemaker.session.Session.wait_for_endpoint",
        "patches",
        "to poll the emulator every 0.2 s instead of sleeping 30 s first",
        ("endpoint", "poll", "live_logging"),
    ),
    Entry(
        "sagemaker",
        "sagemaker.session.Session.wait_for_processing_job",
        "patches",
        "to poll the emulator every 0.2 s instead of sleeping 5 s first",
        ("job", "poll"),
    ),
    Entry(
        "sagemaker",
        "sagemaker.session.Session.logs_for_processing_job",
        "patches",
        "to wait for an emulated job without the SDK's 30 s re-describe",
        ("job_name", "wait", "poll"),
    ),
    Entry(
        "sagemaker",
        "sagemaker.model_monitor.model_monitoring.ModelMonitor._wait_for_schedule_changes_to_apply",
        "patches",
        "to poll the emulator's schedule every 0.2 s",
    ),
    Entry(
        "sagemaker",
        "sagemaker.telemetry.telemetry_logging._send_telemetry_request",
        "patches",
        "to drop the telemetry request to amazonaws.com for emulator sessions",
        ("status", "feature_list", "session"),
    ),
    # ------------------------------------------------------------------ persistence (state folder)
    Entry(
        "moto",
        "moto.s3.models.S3Backend.create_bucket",
        "patches",
        "to give every new bucket a key store that writes its objects to the state folder",
        ("bucket_name", "region_name"),
    ),
    Entry(
        "moto",
        "moto.s3.models.S3Backend.delete_bucket",
        "patches",
        "to remove a deleted bucket from the state folder",
        ("bucket_name",),
    ),
    Entry(
        "moto",
        "moto.s3.utils._VersionedKeyStore.setlist",
        "reads",
        "to subclass the bucket key store so that every object change is written to disk",
    ),
    Entry(
        "moto",
        "moto.moto_api._internal.models.MotoAPIBackend.reset",
        "patches",
        "to empty the state folder when the emulator is reset",
    ),
    Entry(
        "moto",
        "moto.core.base_backend.BackendDict._instances",
        "reads",
        "to snapshot every moto backend in use",
    ),
    Entry(
        "sagemaker",
        "sagemaker.session.sts_regional_endpoint",
        "patches",
        "to send the SDK's STS calls to the emulator",
        ("region",),
    ),
)


def _probe_backend(cls: type) -> Any:
    return cls(_REGION, _ACCOUNT)


def _probe_processing_job(cls: type) -> Any:
    return cls(
        app_specification={},
        experiment_config={},
        network_config={},
        processing_inputs=[],
        processing_job_name="probe",
        processing_output_config={},
        account_id=_ACCOUNT,
        region_name=_REGION,
        role_arn=f"arn:aws:iam::{_ACCOUNT}:role/probe",
        tags=[],
        stopping_condition={},
    )


#: target -> the value it had before mmlab patched it (see :func:`wrap`)
_ORIGINALS: dict[str, Any] = {}

#: how to build a probe object of a class whose instance attributes are listed
PROBES: dict[str, Callable[[type], Any]] = {
    _SM_BACKEND: _probe_backend,
    _PROCESSING_JOB: _probe_processing_job,
}


def entries(package: str | None = None) -> tuple[Entry, ...]:
    """The table, or its entries for one package."""
    return tuple(e for e in TABLE if package is None or e.package == package)


def _entry(target: str) -> Entry:
    for entry in TABLE:
        if entry.target == target:
            return entry
    raise ValueError(f"{target} is not in mmlab's patch table (mmutils/emulator/patch_table.py)")


def version(package: str) -> str:
    """The installed version of a package (``"not installed"`` when it is missing)."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def pin(package: str) -> str:
    """What mmlab requires of ``package`` (its requirement in mmlab's metadata, else :data:`PINS`)."""
    try:
        requires = importlib.metadata.requires("mmlab") or []
    except importlib.metadata.PackageNotFoundError:
        requires = []
    for req in requires:
        spec = re.sub(r"\[.*?\]", "", req.split(";", 1)[0]).strip()
        match = re.match(r"[A-Za-z0-9_.-]+", spec)
        if match and match.group(0).lower() == package:
            return spec
    return PINS.get(package, package)


def _problem(entry: Entry, missing: str) -> str:
    subject = "it" if missing == entry.target else entry.target
    return (
        f"{entry.package} {version(entry.package)} has no {missing}; mmlab {entry.how} "
        f"{subject} {entry.why} (mmlab needs {pin(entry.package)})"
    )


class _Missing(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _owner(target: str) -> tuple[Any, str]:
    """Import and walk ``target`` up to its last part; raises ``_Missing`` with the first gap."""
    parts = target.split(".")
    path = parts[0]
    try:
        obj: Any = importlib.import_module(path)
    except ImportError:
        raise _Missing(path) from None
    for part in parts[1:-1]:
        path = f"{path}.{part}"
        if hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        if not isinstance(obj, types.ModuleType):
            raise _Missing(path)
        try:
            obj = importlib.import_module(path)
        except ImportError:
            raise _Missing(path) from None
    return obj, parts[-1]


def resolve(target: str) -> tuple[Any, str]:
    """The object that owns a listed target and the attribute name to get or set on it.

    ``resolve("sagemaker.session.Session.wait_for_endpoint")`` gives
    ``(sagemaker.session.Session, "wait_for_endpoint")``; a module-level function gives its
    module.

    Raises:
        ValueError: ``target`` is not in :data:`TABLE` (every patch must be listed).
        RuntimeError: the owner does not exist in the installed package (see :func:`check`).
    """
    entry = _entry(target)
    try:
        return _owner(target)
    except _Missing as gap:
        raise RuntimeError(_problem(entry, gap.name)) from None


def wrap(target: str, wrapper: Callable[[Any], Any]) -> None:
    """Set a listed target to ``wrapper(original)`` (idempotent: always wraps the original).

    Args:
        target: an entry of :data:`TABLE` (``patches`` or ``adds``).
        wrapper: builds the new value from the value mmlab found (None for an added name).

    Raises:
        ValueError: ``target`` is not listed.
        RuntimeError: its owner is missing.
    """
    owner, name = resolve(target)
    found = _ORIGINALS.setdefault(target, getattr(owner, name, None))
    setattr(owner, name, wrapper(found))


def replace(target: str, value: Any) -> None:
    """Set a listed target to ``value`` (see :func:`wrap`)."""
    wrap(target, lambda _original: value)


def original(target: str) -> Any:
    """The value a target had before mmlab patched it (None for a name mmlab added).

    Raises:
        KeyError: the target was not patched in this process.
    """
    return _ORIGINALS[target]


def _check_entry(entry: Entry) -> str | None:
    """The problem with one entry, or None."""
    try:
        owner, name = _owner(entry.target)
    except _Missing as gap:
        return _problem(entry, gap.name)
    if entry.how == "adds":
        return None
    if entry.instance:
        cls_path = entry.target.rsplit(".", 1)[0]
        try:
            owner = PROBES[cls_path](owner)
        except Exception as exc:  # noqa: BLE001 - any failure means the constructor changed
            return _problem(entry, f"{cls_path}(...) that takes mmlab's probe arguments ({exc})")
    if not hasattr(owner, name):
        return _problem(entry, entry.target)
    if entry.params:
        try:
            signature = inspect.signature(getattr(owner, name))
        except (TypeError, ValueError):
            return _problem(entry, f"inspectable signature of {entry.target}")
        for param in entry.params:
            if param not in signature.parameters:
                return _problem(entry, f"parameter {param!r} in {entry.target}")
    return None


def check(package: str) -> None:
    """Check every entry of one package against the installed version.

    Args:
        package: ``"moto"`` or ``"sagemaker"``.

    Raises:
        RuntimeError: one line per problem, each naming the package version, the missing name
            and what mmlab does with it, e.g. ``sagemaker 2.x.y has no
            sagemaker.session.Session.wait_for_processing_job; mmlab patches it to poll the
            emulator every 0.2 s instead of sleeping 5 s first (mmlab needs sagemaker>=2.257.7,<3)``.
        ValueError: ``package`` has no entry in the table.
    """
    listed = entries(package)
    if not listed:
        raise ValueError(f"no patch-table entries for {package!r}; known: {sorted(PINS)}")
    problems = [p for p in map(_check_entry, listed) if p]
    if problems:
        raise RuntimeError("\n".join(problems))
