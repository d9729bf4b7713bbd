"""The defaults SageMaker fills into its Describe answers, applied to moto's.

moto 5.2.5 answers a resource as it was sent (or with ``{}`` for what was not sent), while the
service fills in defaults and leaves out what was never set. SDK code reads those defaults
without checking: ``DefaultModelMonitor.attach()`` indexes
``NetworkConfig["EnableInterContainerTrafficEncryption"]``, ``update_monitoring_schedule()``
re-sends the ``StoppingCondition`` it read. Here:

- ``NetworkConfig``: both flags (``EnableInterContainerTrafficEncryption``,
  ``EnableNetworkIsolation``) default to ``false``; a job definition always has one.
- ``StoppingCondition``: ``MaxRuntimeInSeconds`` defaults to :data:`MONITORING_MAX_RUNTIME`
  (3600 s, an hourly schedule's limit) on job definitions and inline monitoring definitions,
  and to :data:`PROCESSING_MAX_RUNTIME` on processing jobs.
- Empty ``Environment``/``DataQualityBaselineConfig``-style members moto invents are left out.

The functions are pure (dict in, dict out); :func:`install` wraps moto's Describe actions.
"""

from __future__ import annotations

import copy

from moto.core.responses import ActionResult
from moto.sagemaker.responses import SageMakerResponse

from mmutils.emulator import patch_table

_RESPONSE = "moto.sagemaker.responses.SageMakerResponse"
#: MaxRuntimeInSeconds of a monitoring job the request did not bound
MONITORING_MAX_RUNTIME = 3600
#: MaxRuntimeInSeconds of a processing job the request did not bound (one day)
PROCESSING_MAX_RUNTIME = 86400
NETWORK_FLAGS = ("EnableInterContainerTrafficEncryption", "EnableNetworkIsolation")


def network_config(value: dict | None, *, always: bool) -> dict | None:
    """A ``NetworkConfig`` with both flags filled in (``false`` when not sent).

    Args:
        value: the config as sent (None or ``{}``: not sent).
        always: answer the defaults even when nothing was sent.
    """
    if not value and not always:
        return None
    doc = {flag: False for flag in NETWORK_FLAGS}
    doc.update({k: v for k, v in (value or {}).items() if v is not None})
    return doc


def stopping_condition(value: dict | None, default: int) -> dict:
    """A ``StoppingCondition`` with ``MaxRuntimeInSeconds`` (``default`` when not sent)."""
    doc = dict(value or {})
    if not doc.get("MaxRuntimeInSeconds"):
        doc["MaxRuntimeInSeconds"] = default
    return doc


def _drop_empty(doc: dict, *keys: str) -> None:
    for key in keys:
        if key in doc and not doc[key]:
            doc.pop(key)


def job_definition(doc: dict) -> dict:
    """A Describe…JobDefinition answer (data quality, model quality, …) as the service gives it."""
    out = copy.deepcopy(doc)
    out["NetworkConfig"] = network_config(out.get("NetworkConfig"), always=True)
    out["StoppingCondition"] = stopping_condition(
        out.get("StoppingCondition"), MONITORING_MAX_RUNTIME
    )
    for key in list(out):
        if key.endswith("BaselineConfig"):
            _drop_empty(out, key)
    return out


def inline_definition(doc: dict) -> dict:
    """An inline ``MonitoringJobDefinition`` of a schedule with the service's defaults."""
    out = copy.deepcopy(doc)
    out["NetworkConfig"] = network_config(out.get("NetworkConfig"), always=True)
    out["StoppingCondition"] = stopping_condition(
        out.get("StoppingCondition"), MONITORING_MAX_RUNTIME
    )
    _drop_empty(out, "BaselineConfig", "Environment")
    return out


def processing_job(doc: dict) -> dict:
    """A DescribeProcessingJob answer as the service gives it."""
    out = copy.deepcopy(doc)
    out["StoppingCondition"] = stopping_condition(
        out.get("StoppingCondition"), PROCESSING_MAX_RUNTIME
    )
    net = network_config(out.get("NetworkConfig"), always=False)
    if net is None:
        out.pop("NetworkConfig", None)
    else:
        out["NetworkConfig"] = net
    _drop_empty(out, "Environment", "ExperimentConfig", "ProcessingInputs")
    return out


def endpoint_config(doc: dict) -> dict:
    """A DescribeEndpointConfig answer: no ``DataCaptureConfig`` when capture was never set."""
    out = copy.deepcopy(doc)
    _drop_empty(out, "DataCaptureConfig", "AsyncInferenceConfig", "KmsKeyId")
    return out


def transform_job(doc: dict) -> dict:
    """A DescribeTransformJob answer without the empty members moto keeps (FailureReason, …)."""
    out = copy.deepcopy(doc)
    _drop_empty(
        out,
        "FailureReason",
        "LabelingJobArn",
        "AutoMLJobArn",
        "DataCaptureConfig",
        "Environment",
        "ModelClientConfig",
        "DataProcessing",
        "ExperimentConfig",
    )
    return out


def _wrapping(transform):
    def wrap(original):
        def action(self: SageMakerResponse):
            result = original(self)
            if isinstance(result, ActionResult) and isinstance(result.result, dict):
                return ActionResult(transform(result.result))
            return result

        action.__wrapped__ = original
        return action

    return wrap


WRAPPED = {
    "describe_processing_job": processing_job,
    "describe_data_quality_job_definition": job_definition,
    "describe_endpoint_config": endpoint_config,
    "describe_transform_job": transform_job,
}


def install() -> None:
    """Wrap moto's Describe actions so their answers carry the service's defaults."""
    for name, transform in WRAPPED.items():
        patch_table.wrap(f"{_RESPONSE}.{name}", _wrapping(transform))
