"""One monitoring execution as a processing job: its window, its inputs, its request (pure).

An execution analyses the capture of its window (by default the hour before the scheduled
time) as SageMaker does: the hour folders of the window become inputs ``endpoint_input_1…``
(LocalPath ``{EndpointInput.LocalPath}/{endpoint}/{variant}/yyyy/mm/dd/HH``), the baseline files
become ``baseline`` and ``constraints``, scripts become
``pre_processor_script``/``post_processor_script``; the processing job
``model-monitoring-{yyyyMMddHHmm}-{24 hex}`` (hex from a hash of schedule ARN and time) writes
to ``{MonitoringOutputs[0].S3Uri}/{endpoint}/{schedule}/yyyy/mm/dd/HH``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from mmutils.emulator import s3io
from mmutils.emulator.monitoring.cron import parse_offset
from mmutils.emulator.monitoring.models import Schedule, endpoint_input
from mmutils.formats import s3uri
from mmutils.formats.capture_key import (
    endpoint_prefix,
    hour_folder,
    parse_capture_file_key,
    report_folder,
)

ENDPOINT_DATASET_FORMAT = {
    "sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}
}
DEFAULT_ENDPOINT_LOCAL_PATH = "/opt/ml/processing/input/endpoint"
DEFAULT_OUTPUT_LOCAL_PATH = "/opt/ml/processing/output"
STATS_LOCAL_PATH = "/opt/ml/processing/baseline/stats"
CONSTRAINTS_LOCAL_PATH = "/opt/ml/processing/baseline/constraints"
PRE_LOCAL_PATH = "/opt/ml/processing/code/preprocessing"
POST_LOCAL_PATH = "/opt/ml/processing/code/postprocessing"
JOB_PREFIX = {
    "DataQuality": "model-monitoring",
    "ModelQuality": "model-quality-monitoring",
    "ModelBias": "model-bias-monitoring",
    "ModelExplainability": "model-explainability-monitoring",
}


def _part(definition: dict, suffix: str) -> dict:
    """The ``…{suffix}`` member of a typed or inline job definition."""
    for key, value in definition.items():
        if key.endswith(suffix) and isinstance(value, dict):
            return value
    return {}


def normalise_definition(definition: dict) -> dict:
    """Inline ``MonitoringJobDefinition`` or a typed definition → one common form."""
    app = _part(definition, "AppSpecification")
    baseline = definition.get("BaselineConfig") or _part(definition, "BaselineConfig")
    outputs = definition.get("MonitoringOutputConfig") or _part(definition, "JobOutputConfig") or {}
    resources = definition.get("MonitoringResources") or definition.get("JobResources") or {}
    env = dict(definition.get("Environment") or {})
    env.update(app.get("Environment") or {})
    return {
        "app": app,
        "baseline": baseline or {},
        "endpoint_input": endpoint_input(definition) or {},
        "outputs": outputs,
        "resources": resources,
        "stopping": definition.get("StoppingCondition") or {},
        "network": definition.get("NetworkConfig") or None,
        "role": definition.get("RoleArn"),
        "env": env,
    }


def job_name(monitoring_type: str, arn: str, scheduled: dt.datetime) -> str:
    """``model-monitoring-{yyyyMMddHHmm}-{24 hex}`` (hex: sha256 of ARN and time)."""
    digest = hashlib.sha256(f"{arn}|{scheduled.isoformat()}".encode()).hexdigest()[:24]
    prefix = JOB_PREFIX.get(monitoring_type, "model-monitoring")
    return f"{prefix}-{scheduled:%Y%m%d%H%M}-{digest}"


def analysis_window(sch: Schedule, ep_input: dict, scheduled: dt.datetime):
    """(start, end) of the data an execution at ``scheduled`` analyses."""
    cfg = sch.config.get("ScheduleConfig") or {}
    start_text = cfg.get("DataAnalysisStartTime") or ep_input.get("StartTimeOffset") or "-PT1H"
    end_text = cfg.get("DataAnalysisEndTime") or ep_input.get("EndTimeOffset") or "-PT0H"
    end_offset = dt.timedelta(0) if end_text in ("-PT0H", "PT0H") else parse_offset(end_text)
    return scheduled + parse_offset(start_text), scheduled + end_offset


def iso_z(value: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def capture_hours(account: str, dest: str, endpoint: str, start, end) -> list[tuple[str, str]]:
    """``(variant, "yyyy/mm/dd/HH")`` folders of an endpoint's capture inside [start, end)."""
    bucket, prefix = s3uri.split(dest)
    base = endpoint_prefix(prefix, endpoint)
    keys = s3io.list_keys(account, bucket, base, missing_ok=True)  # no bucket: no data
    first = start.replace(minute=0, second=0, microsecond=0)
    found = set()
    for key in keys:
        parsed = parse_capture_file_key(key[len(base) :])
        if parsed is None:
            continue
        hour = parsed.hour.replace(tzinfo=None)  # moto's naive UTC, as the window
        if first <= hour < end:
            found.add((parsed.variant, hour_folder(hour)))
    return sorted(found)


def _s3_input(name: str, uri: str, local: str) -> dict:
    return {
        "InputName": name,
        "AppManaged": False,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
            "S3CompressionType": "None",
        },
    }


def build_execution(
    *,
    sch: Schedule,
    definition: dict,
    endpoint: str,
    dest: str,
    hours: list[tuple[str, str]],
    scheduled: dt.datetime,
    start: dt.datetime,
    end: dt.datetime,
) -> dict:
    """The CreateProcessingJob request of one execution (pure)."""
    d = normalise_definition(definition)
    ep_local = (d["endpoint_input"].get("LocalPath") or DEFAULT_ENDPOINT_LOCAL_PATH).rstrip("/")
    inputs = [
        _s3_input(
            f"endpoint_input_{i}",
            s3uri.join(dest, endpoint, variant, hour),
            f"{ep_local}/{endpoint}/{variant}/{hour}",
        )
        for i, (variant, hour) in enumerate(hours, 1)
    ]
    env = dict(d["env"])
    env.setdefault("publish_cloudwatch_metrics", "Enabled")
    env.update(
        {
            "dataset_format": json.dumps(ENDPOINT_DATASET_FORMAT),
            "dataset_source": ep_local,
            "sagemaker_endpoint_name": endpoint,
            "sagemaker_monitoring_schedule_name": sch.name,
            "sagemaker_endpoint_datacapture_prefix": dest,
            "start_time": iso_z(start),
            "end_time": iso_z(end),
            "metric_time": iso_z(end),
        }
    )
    stats = (d["baseline"].get("StatisticsResource") or {}).get("S3Uri")
    constraints = (d["baseline"].get("ConstraintsResource") or {}).get("S3Uri")
    if stats:
        inputs.append(_s3_input("baseline", stats, STATS_LOCAL_PATH))
        env["baseline_statistics"] = f"{STATS_LOCAL_PATH}/{stats.rsplit('/', 1)[-1]}"
    if constraints:
        inputs.append(_s3_input("constraints", constraints, CONSTRAINTS_LOCAL_PATH))
        env["baseline_constraints"] = f"{CONSTRAINTS_LOCAL_PATH}/{constraints.rsplit('/', 1)[-1]}"
    pre = d["app"].get("RecordPreprocessorSourceUri")
    post = d["app"].get("PostAnalyticsProcessorSourceUri")
    if pre:
        inputs.append(_s3_input("pre_processor_script", pre, PRE_LOCAL_PATH))
        env["record_preprocessor_script"] = f"{PRE_LOCAL_PATH}/{pre.rsplit('/', 1)[-1]}"
    if post:
        inputs.append(_s3_input("post_processor_script", post, POST_LOCAL_PATH))
        env["post_analytics_processor_script"] = f"{POST_LOCAL_PATH}/{post.rsplit('/', 1)[-1]}"
    out = (d["outputs"].get("MonitoringOutputs") or [{}])[0].get("S3Output") or {}
    out_local = out.get("LocalPath") or DEFAULT_OUTPUT_LOCAL_PATH
    env["output_path"] = out_local
    report = report_folder(out.get("S3Uri", ""), endpoint, sch.name, scheduled)
    output_config = {
        "Outputs": [
            {
                "OutputName": "result",
                "S3Output": {
                    "S3Uri": report,
                    "LocalPath": out_local,
                    "S3UploadMode": out.get("S3UploadMode") or "EndOfJob",
                },
                "AppManaged": False,
            }
        ]
    }
    if d["outputs"].get("KmsKeyId"):
        output_config["KmsKeyId"] = d["outputs"]["KmsKeyId"]
    app = {"ImageUri": d["app"].get("ImageUri", "")}
    for key in ("ContainerEntrypoint", "ContainerArguments"):
        if d["app"].get(key):
            app[key] = d["app"][key]
    return {
        "ProcessingJobName": job_name(sch.monitoring_type, sch.arn, scheduled),
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": output_config,
        "ProcessingResources": {"ClusterConfig": d["resources"].get("ClusterConfig") or {}},
        "StoppingCondition": d["stopping"] or {"MaxRuntimeInSeconds": 3600},
        "AppSpecification": app,
        "Environment": env,
        "NetworkConfig": d["network"],
        "RoleArn": d["role"],
    }
