"""Make moto's processing-job, endpoint and model answers look like SageMaker's; add UpdateEndpoint.

What moto 5.2.5 gets wrong for the lab (see the emulator findings):

- CreateProcessingJob drops ``Environment`` and ``ProcessingResources`` and makes the job
  ``Completed`` at once; here the job keeps both, starts ``InProgress`` at the emulator clock's time
  and is handed to the processing runtime, which sets the final status, ``ExitMessage``,
  ``FailureReason`` and ``ProcessingEndTime``. A second job with the same name is refused.
- DescribeEndpoint's ``DataCaptureConfig`` lacks ``CaptureStatus`` and
  ``CurrentSamplingPercentage`` (required by the API shape).
- DescribeModel returns empty ``VpcConfig``/``Containers`` that AWS omits.
- UpdateEndpoint is missing (``Predictor.update_data_capture_config`` needs it).
- StopProcessingJob stops the running analyzer too.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker import responses as smr
from moto.sagemaker.exceptions import ResourceInUseException, ValidationError
from moto.sagemaker.models import FakeEndpoint, FakeProcessingJob, SageMakerModelBackend

from mmutils.emulator.clock import CLOCK
from mmutils.emulator.state import naive_utc, require

Response = smr.SageMakerResponse

_ORIGINAL: dict[str, Any] = {}


def clock_now():
    """The emulator time in moto's form (naive UTC)."""
    return naive_utc(CLOCK.now())


def init_processing_job(
    job: FakeProcessingJob,
    *,
    environment: dict | None,
    resources: dict | None,
    monitoring_schedule_arn: str | None = None,
) -> None:
    """Give a freshly created moto job the fields and the ``InProgress`` state SageMaker has."""
    now = clock_now()
    job.creation_time = now
    job.last_modified_time = now
    job.processing_start_time = now
    job.processing_end_time = None
    job.processing_job_status = "InProgress"
    job.environment = environment or None
    job.processing_resources = resources
    job.exit_message = None
    job.failure_reason = None
    job.monitoring_schedule_arn = monitoring_schedule_arn


def finish_processing_job(
    job: FakeProcessingJob,
    status: str,
    *,
    exit_message: str | None = None,
    failure_reason: str | None = None,
) -> None:
    """Set a job's final state (unless it was stopped meanwhile)."""
    if job.processing_job_status in ("Stopped", "Stopping") and status != "Stopped":
        status = "Stopped"
    now = clock_now()
    job.processing_job_status = status
    job.processing_end_time = now
    job.last_modified_time = now
    job.exit_message = exit_message or None
    job.failure_reason = failure_reason or None


def create_processing_job(self: Response) -> ActionResult:
    """CreateProcessingJob: moto's, plus Environment/ProcessingResources, InProgress, and a run."""
    name = self._get_param("ProcessingJobName")
    backend = self.sagemaker_backend
    if name in backend.processing_jobs:
        arn = FakeProcessingJob.arn_formatter(name, self.current_account, self.region)
        raise ResourceInUseException(
            "Job name must be unique within an AWS account and region, and a job with this name "
            f"already exists ({arn})"
        )
    result = _ORIGINAL["create_processing_job"](self)
    job = backend.processing_jobs[name]
    init_processing_job(
        job,
        environment=self._get_param("Environment"),
        resources=self._get_param("ProcessingResources"),
    )
    from mmutils.emulator.processing import RUNTIME

    RUNTIME.submit(self.current_account, self.region, name)
    return result


def stop_processing_job(self: Response) -> EmptyResult:
    """StopProcessingJob: also stops the analyzer process of a running job."""
    name = self._get_param("ProcessingJobName")
    result = _ORIGINAL["stop_processing_job"](self)
    job = self.sagemaker_backend.processing_jobs[name]
    job.processing_end_time = job.last_modified_time = clock_now()
    from mmutils.emulator.processing import RUNTIME

    RUNTIME.stop(self.current_account, self.region, name)
    return result


def capture_summary(config: dict | None, current_percentage: int | None = None) -> dict | None:
    """DescribeEndpoint's ``DataCaptureConfigSummary`` for an endpoint config's DataCaptureConfig."""
    if not config:
        return None
    enabled = bool(config.get("EnableCapture"))
    summary = {
        "EnableCapture": enabled,
        "CaptureStatus": "Started" if enabled else "Stopped",
        "CurrentSamplingPercentage": int(
            current_percentage
            if current_percentage is not None
            else config.get("InitialSamplingPercentage", 100)
        ),
        "DestinationS3Uri": config.get("DestinationS3Uri"),
    }
    if config.get("KmsKeyId"):
        summary["KmsKeyId"] = config["KmsKeyId"]
    return summary


def describe_endpoint(self: Response) -> ActionResult:
    """DescribeEndpoint with a complete ``DataCaptureConfig`` summary."""
    doc = dict(self.sagemaker_backend.describe_endpoint(self._get_param("EndpointName")))
    summary = capture_summary(doc.get("DataCaptureConfig"))
    if summary:
        doc["DataCaptureConfig"] = summary
    else:
        doc.pop("DataCaptureConfig", None)
    return ActionResult(doc)


def describe_model(self: Response) -> ActionResult:
    """DescribeModel without the empty ``VpcConfig``/``Containers`` AWS omits."""
    doc = dict(self.sagemaker_backend.describe_model(self._get_param("ModelName")).response_object)
    for key in ("VpcConfig", "Containers"):
        if not doc.get(key):
            doc.pop(key, None)
    return ActionResult(doc)


def update_endpoint(self: Response) -> ActionResult:
    """UpdateEndpoint: switch an endpoint to another endpoint config (e.g. new data capture)."""
    backend = self.sagemaker_backend
    name = self._get_param("EndpointName")
    if name not in backend.endpoints:
        arn = FakeEndpoint.arn_formatter(name, self.current_account, self.region)
        raise ValidationError(message=f"Could not find endpoint '{arn}'.")
    config = backend.describe_endpoint_config(self._get_param("EndpointConfigName"))
    endpoint = backend.endpoints[name]
    from mmutils.emulator.capture import WRITER

    # records captured under the old config are written before the config changes
    WRITER.flush_endpoint(self.current_account, self.region, name)
    endpoint.endpoint_config_name = config["EndpointConfigName"]
    endpoint.production_variants = endpoint._process_production_variants(
        config["ProductionVariants"]
    )
    endpoint.data_capture_config = config.get("DataCaptureConfig") or {}
    endpoint.last_modified_time = clock_now()
    WRITER.forget_endpoint(self.current_account, self.region, name)
    return ActionResult({"EndpointArn": endpoint.arn})


def delete_endpoint(self: Response) -> EmptyResult:
    """DeleteEndpoint: buffered capture of the endpoint reaches S3 first."""
    from mmutils.emulator.capture import WRITER

    name = self._get_param("EndpointName")
    WRITER.flush_endpoint(self.current_account, self.region, name)
    result = _ORIGINAL["delete_endpoint"](self)
    WRITER.forget_endpoint(self.current_account, self.region, name)
    return result


PATCHES = {
    "create_processing_job": create_processing_job,
    "stop_processing_job": stop_processing_job,
    "describe_endpoint": describe_endpoint,
    "describe_model": describe_model,
    "update_endpoint": update_endpoint,
    "delete_endpoint": delete_endpoint,
}


def check_moto() -> None:
    """Check that every moto internal this module relies on exists.

    Raises:
        RuntimeError: naming the moto version and the missing piece.
    """
    require(
        Response,
        "create_processing_job",
        "stop_processing_job",
        "describe_endpoint",
        "describe_model",
        "delete_endpoint",
        "sagemaker_backend",
    )
    require(
        SageMakerModelBackend,
        "describe_endpoint",
        "describe_endpoint_config",
        "describe_model",
        "create_processing_job",
    )
    require(FakeEndpoint, "_process_production_variants", "arn_formatter")
    require(FakeProcessingJob, "arn_formatter", "response_object")
    probe = FakeProcessingJob(
        app_specification={},
        experiment_config={},
        network_config={},
        processing_inputs=[],
        processing_job_name="probe",
        processing_output_config={},
        account_id="123456789012",
        region_name="us-east-1",
        role_arn="arn:aws:iam::123456789012:role/probe",
        tags=[],
        stopping_condition={},
    )
    require(
        probe,
        "processing_job_status",
        "processing_end_time",
        "creation_time",
        "last_modified_time",
        "app_specification",
        "processing_inputs",
        "processing_output_config",
    )


def install() -> None:
    """Patch moto's SageMaker responses (idempotent)."""
    check_moto()
    for name, func in PATCHES.items():
        current = getattr(Response, name, None)
        if current is func:
            continue
        if current is not None:
            _ORIGINAL[name] = current
        setattr(Response, name, func)
