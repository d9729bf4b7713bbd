"""One execution of a ``ModelQuality`` schedule: the ground-truth merge job, then the analysis.

As the service runs it (docs/model-quality-formats.md §1), an execution is two processing jobs
with one suffix ``{yyyyMMddHHmm}-{24 hex}``:

1. ``groundtruth-merge-…`` (image ``sagemaker-model-monitor-groundtruth-merger``): inputs
   ``endpoint_input_N`` (the window's capture hour folders, LocalPath
   ``/opt/ml/processing/input_data/{endpoint}/{variant}/yyyy/mm/dd/HH``) and
   ``groundtruth_input_N`` (ground-truth hour folders, LocalPath
   ``/opt/ml/processing/groundtruth/yyyy/mm/dd/HH``); output ``result`` to
   ``{output}/merge/{endpoint}/{schedule}/yyyy/mm/dd/HH``.
2. ``model-quality-monitoring-…`` (the analyzer, ``analysis_type=MODEL_QUALITY``): the merge's
   output as input ``merged_input`` (name UNCONFIRMED), the baseline constraints as
   ``constraints``; output ``result`` to the report folder
   ``{output}/{endpoint}/{schedule}/yyyy/mm/dd/HH``.

Ground truth is read from the hour folders between the window's start hour and the scheduled
time (labels are filed under the hour they were collected, which follows the inference): with
the default window this is the window's own hour, as in the AWS example (01:00 read ``…/00``);
for other offsets the rule is mmlab's (UNCONFIRMED). Pure except :func:`ground_truth_hours`,
which lists the emulated S3.
"""

from __future__ import annotations

import datetime as dt
import json

from mmutils.emulator import s3io
from mmutils.emulator.monitoring.executions import (
    CONSTRAINTS_LOCAL_PATH,
    DEFAULT_OUTPUT_LOCAL_PATH,
    _s3_input,
    iso_z,
    job_name,
    normalise_definition,
)
from mmutils.emulator.monitoring.models import Schedule
from mmutils.formats import s3uri
from mmutils.formats.capture_key import hour_folder, parse_hour_folder, report_folder

MERGER_IMAGE = "sagemaker-model-monitor-groundtruth-merger"
MERGE_PREFIX = "groundtruth-merge"
INPUT_DATA = "/opt/ml/processing/input_data"
GROUND_TRUTH = "/opt/ml/processing/groundtruth"
#: the analysis job's dataset_format (options UNCONFIRMED)
MERGE_DATASET_FORMAT = {"sagemakerMergeJson": {"captureIndexNames": ["endpointOutput"]}}
#: EndpointInput member -> analyzer env variable
ATTRIBUTES = {
    "InferenceAttribute": "inference_attribute",
    "ProbabilityAttribute": "probability_attribute",
    "ProbabilityThresholdAttribute": "probability_threshold_attribute",
}


def ground_truth_uri(definition: dict) -> str | None:
    """``…JobInput.GroundTruthS3Input.S3Uri`` of a model-quality job definition."""
    for key, value in definition.items():
        if key.endswith("JobInput") and isinstance(value, dict):
            found = (value.get("GroundTruthS3Input") or {}).get("S3Uri")
            if found:
                return found
    return None


def ground_truth_hours(
    account: str, uri: str, start: dt.datetime, scheduled: dt.datetime
) -> list[str]:
    """``yyyy/mm/dd/HH`` folders under ``uri`` holding labels, from ``start``'s hour to ``scheduled``."""
    bucket, prefix = s3uri.split(uri)
    base = prefix.rstrip("/") + "/" if prefix else ""
    keys = s3io.list_keys(account, bucket, base, missing_ok=True)  # no bucket: no labels
    first = start.replace(minute=0, second=0, microsecond=0)
    found = set()
    for key in keys:
        folder = key[len(base) :].rsplit("/", 1)[0]
        hour = parse_hour_folder(folder)
        if hour is None or folder.count("/") != 3:
            continue
        hour = hour.replace(tzinfo=None)
        if first <= hour < scheduled:
            found.add(hour_folder(hour))
    return sorted(found)


def merger_image(analyzer_image: str) -> str:
    """The merge image in the analyzer image's registry (``…/sagemaker-model-monitor-groundtruth-merger``)."""
    registry = analyzer_image.rsplit("/", 1)[0] if "/" in analyzer_image else ""
    return f"{registry}/{MERGER_IMAGE}" if registry else MERGER_IMAGE


def _output(uri: str, local: str, mode: str | None) -> dict:
    return {
        "Outputs": [
            {
                "OutputName": "result",
                "S3Output": {"S3Uri": uri, "LocalPath": local, "S3UploadMode": mode or "EndOfJob"},
                "AppManaged": False,
            }
        ]
    }


def build_requests(
    *,
    sch: Schedule,
    definition: dict,
    endpoint: str,
    dest: str,
    hours: list[tuple[str, str]],
    ground_truth: str,
    ground_truth_folders: list[str],
    scheduled: dt.datetime,
    start: dt.datetime,
    end: dt.datetime,
) -> list[dict]:
    """The CreateProcessingJob requests of one execution: ``[merge, analysis]`` (pure)."""
    d = normalise_definition(definition)
    analysis_name = job_name("ModelQuality", sch.arn, scheduled)
    suffix = analysis_name.rsplit("-", 2)
    merge_name = f"{MERGE_PREFIX}-{suffix[-2]}-{suffix[-1]}"
    out = (d["outputs"].get("MonitoringOutputs") or [{}])[0].get("S3Output") or {}
    out_uri = out.get("S3Uri", "")
    out_local = out.get("LocalPath") or DEFAULT_OUTPUT_LOCAL_PATH
    merge_uri = report_folder(s3uri.join(out_uri, "merge"), endpoint, sch.name, scheduled)
    window = {"start_time": iso_z(start), "end_time": iso_z(end)}
    common = {
        "ProcessingResources": {"ClusterConfig": d["resources"].get("ClusterConfig") or {}},
        "StoppingCondition": d["stopping"] or {"MaxRuntimeInSeconds": 3600},
        "NetworkConfig": d["network"],
        "RoleArn": d["role"],
    }
    merge_inputs = [
        _s3_input(
            f"endpoint_input_{i}",
            s3uri.join(dest, endpoint, variant, hour),
            f"{INPUT_DATA}/{endpoint}/{variant}/{hour}",
        )
        for i, (variant, hour) in enumerate(hours, 1)
    ] + [
        _s3_input(
            f"groundtruth_input_{i}", s3uri.join(ground_truth, hour), f"{GROUND_TRUTH}/{hour}"
        )
        for i, hour in enumerate(ground_truth_folders, 1)
    ]
    merge = {
        "ProcessingJobName": merge_name,
        "ProcessingInputs": merge_inputs,
        "ProcessingOutputConfig": _output(merge_uri, DEFAULT_OUTPUT_LOCAL_PATH, None),
        "AppSpecification": {"ImageUri": merger_image(d["app"].get("ImageUri", ""))},
        "Environment": {
            "dataset_source": INPUT_DATA,
            "ground_truth_source": GROUND_TRUTH,
            "output_path": DEFAULT_OUTPUT_LOCAL_PATH,
            "sagemaker_endpoint_name": endpoint,
            "sagemaker_monitoring_schedule_name": sch.name,
            **window,
        },
        **common,
    }
    env = dict(d["env"])
    env.setdefault("publish_cloudwatch_metrics", "Enabled")
    env.update(
        {
            "analysis_type": "MODEL_QUALITY",
            "dataset_format": json.dumps(MERGE_DATASET_FORMAT),
            "dataset_source": INPUT_DATA,
            "output_path": out_local,
            "sagemaker_endpoint_name": endpoint,
            "sagemaker_monitoring_schedule_name": sch.name,
            "metric_time": iso_z(end),
            **window,
        }
    )
    if d["app"].get("ProblemType"):
        env["problem_type"] = d["app"]["ProblemType"]
    for member, variable in ATTRIBUTES.items():
        value = d["endpoint_input"].get(member)
        if value not in (None, ""):
            env[variable] = str(value)
    inputs = [_s3_input("merged_input", merge_uri, INPUT_DATA)]
    constraints = (d["baseline"].get("ConstraintsResource") or {}).get("S3Uri")
    if constraints:
        inputs.append(_s3_input("constraints", constraints, CONSTRAINTS_LOCAL_PATH))
        env["baseline_constraints"] = f"{CONSTRAINTS_LOCAL_PATH}/{constraints.rsplit('/', 1)[-1]}"
    report = report_folder(out_uri, endpoint, sch.name, scheduled)
    output_config = _output(report, out_local, out.get("S3UploadMode"))
    if d["outputs"].get("KmsKeyId"):
        output_config["KmsKeyId"] = d["outputs"]["KmsKeyId"]
    analysis = {
        "ProcessingJobName": analysis_name,
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": output_config,
        "AppSpecification": {"ImageUri": d["app"].get("ImageUri", "")},
        "Environment": env,
        **common,
    }
    return [merge, analysis]
