"""Endpoint and model answers as SageMaker gives them, and the UpdateEndpoint moto lacks.

What moto 5.2.5 gets wrong for the lab:

- DescribeEndpoint's ``DataCaptureConfig`` lacks ``CaptureStatus`` and
  ``CurrentSamplingPercentage`` (required by the API shape).
- DescribeModel returns empty ``VpcConfig``/``Containers`` that AWS omits.
- UpdateEndpoint is missing (``Predictor.update_data_capture_config`` needs it).
- DeleteEndpoint must first write the endpoint's buffered capture to S3.
"""

from __future__ import annotations

from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeEndpoint
from moto.sagemaker.responses import SageMakerResponse

from mmutils.emulator import patch_table
from mmutils.emulator.capture_writer import WRITER
from mmutils.emulator.clock import moto_now

_RESPONSE = "moto.sagemaker.responses.SageMakerResponse"


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


def describe_endpoint(self: SageMakerResponse) -> ActionResult:
    """DescribeEndpoint with a complete ``DataCaptureConfig`` summary."""
    doc = dict(self.sagemaker_backend.describe_endpoint(self._get_param("EndpointName")))
    summary = capture_summary(doc.get("DataCaptureConfig"))
    if summary:
        doc["DataCaptureConfig"] = summary
    else:
        doc.pop("DataCaptureConfig", None)
    return ActionResult(doc)


def describe_model(self: SageMakerResponse) -> ActionResult:
    """DescribeModel without the empty ``VpcConfig``/``Containers`` AWS omits."""
    doc = dict(self.sagemaker_backend.describe_model(self._get_param("ModelName")).response_object)
    for key in ("VpcConfig", "Containers"):
        if not doc.get(key):
            doc.pop(key, None)
    return ActionResult(doc)


def update_endpoint(self: SageMakerResponse) -> ActionResult:
    """UpdateEndpoint: switch an endpoint to another endpoint config (e.g. new data capture)."""
    backend = self.sagemaker_backend
    name = self._get_param("EndpointName")
    if name not in backend.endpoints:
        arn = FakeEndpoint.arn_formatter(name, self.current_account, self.region)
        raise ValidationError(message=f"Could not find endpoint '{arn}'.")
    config = backend.describe_endpoint_config(self._get_param("EndpointConfigName"))
    endpoint = backend.endpoints[name]
    # records captured under the old config are written before the config changes
    WRITER.flush_endpoint(self.current_account, self.region, name)
    endpoint.endpoint_config_name = config["EndpointConfigName"]
    endpoint.production_variants = endpoint._process_production_variants(
        config["ProductionVariants"]
    )
    endpoint.data_capture_config = config.get("DataCaptureConfig") or {}
    endpoint.last_modified_time = moto_now()
    WRITER.forget_endpoint(self.current_account, self.region, name)
    return ActionResult({"EndpointArn": endpoint.arn})


def delete_endpoint(self: SageMakerResponse) -> EmptyResult:
    """DeleteEndpoint: buffered capture of the endpoint reaches S3 first."""
    name = self._get_param("EndpointName")
    WRITER.flush_endpoint(self.current_account, self.region, name)
    result = patch_table.original(f"{_RESPONSE}.delete_endpoint")(self)
    WRITER.forget_endpoint(self.current_account, self.region, name)
    return result


RESPONSES = {
    "describe_endpoint": describe_endpoint,
    "describe_model": describe_model,
    "update_endpoint": update_endpoint,
    "delete_endpoint": delete_endpoint,
}


def install() -> None:
    """Patch moto's SageMaker responses (idempotent)."""
    for name, func in RESPONSES.items():
        patch_table.replace(f"{_RESPONSE}.{name}", func)
