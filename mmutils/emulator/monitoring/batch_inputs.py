"""Monitoring executions of batch-transform data (``BatchTransformInput``), pure apart from S3 reads.

A data-quality job definition (or inline definition) with ``BatchTransformInput`` analyses what
transform jobs captured under ``DataCapturedDestinationS3Uri`` (see
:func:`mmutils.emulator.transform.write_batch_capture`): the ``input`` manifests of the
window's hour folders name the data files; each becomes a processing input
``batch_input_N`` under ``BatchTransformInput.LocalPath``, read by the analyzer in the
definition's ``DatasetFormat`` (``{"Csv": {"Header": false}}`` → ``{"csv": {"header": false}}``,
``{"Json": {"Line": true}}`` → ``{"json": {"lines": true}}``; columns without a header are
matched to the baseline's features by position). Reports go to
``{MonitoringOutputs[0].S3Uri}/{schedule}/yyyy/mm/dd/HH``.
"""

from __future__ import annotations

import datetime as dt
import json

from mmutils.emulator import s3io
from mmutils.emulator.monitoring.executions import build_execution
from mmutils.emulator.monitoring.models import Schedule
from mmutils.formats import s3uri
from mmutils.formats.capture_key import parse_hour_folder

DEFAULT_LOCAL_PATH = "/opt/ml/processing/input"


def batch_input(definition: dict) -> dict | None:
    """The ``BatchTransformInput`` of a job definition (typed or inline), if any."""
    for key, value in definition.items():
        if key == "MonitoringInputs":
            for item in value or []:
                if "BatchTransformInput" in item:
                    return item["BatchTransformInput"]
        elif (
            key.endswith("JobInput") and isinstance(value, dict) and "BatchTransformInput" in value
        ):
            return value["BatchTransformInput"]
    return None


def analyzer_format(dataset_format: dict | None) -> dict:
    """The analyzer's ``dataset_format`` for the API's ``MonitoringDatasetFormat``."""
    fmt = dataset_format or {}
    if "Csv" in fmt:
        return {"csv": {"header": bool((fmt["Csv"] or {}).get("Header", False))}}
    if "Json" in fmt:
        return {"json": {"lines": bool((fmt["Json"] or {}).get("Line", False))}}
    if "Parquet" in fmt:
        raise ValueError("DatasetFormat Parquet is not emulated (Csv and Json are)")
    return {"csv": {"header": False}}


def captured_files(account: str, dest: str, start: dt.datetime, end: dt.datetime) -> list[str]:
    """S3 URIs of the data files the ``input`` manifests of hours in [start, end) name, in order."""
    bucket, prefix = s3uri.split(dest)
    base = s3uri.join(prefix, "input") + "/"
    keys = s3io.list_keys(account, bucket, base, missing_ok=True)  # no bucket: no data
    first = start.replace(minute=0, second=0, microsecond=0)
    out: list[str] = []
    for key in keys:
        folder = key.rsplit("/", 1)[0]
        hour = parse_hour_folder(folder)
        if hour is None or not key.endswith(".json"):
            continue
        hour = hour.replace(tzinfo=None)
        if not first <= hour < end:
            continue
        try:
            manifest = json.loads(s3io.get_bytes(account, bucket, key))
            root = manifest[0]["prefix"]
        except (ValueError, KeyError, IndexError, TypeError):
            continue
        for item in manifest[1:]:
            uri = root + item if root.endswith("/") or not root else f"{root}/{item}"
            if uri not in out:
                out.append(uri)
    return out


def build_batch_execution(
    *,
    sch: Schedule,
    definition: dict,
    batch: dict,
    files: list[str],
    scheduled: dt.datetime,
    start: dt.datetime,
    end: dt.datetime,
) -> dict:
    """The CreateProcessingJob request of one batch-transform execution."""
    request = build_execution(
        sch=sch,
        definition=definition,
        endpoint="",
        dest="",
        hours=[],
        scheduled=scheduled,
        start=start,
        end=end,
    )
    local = (batch.get("LocalPath") or DEFAULT_LOCAL_PATH).rstrip("/")
    inputs = []
    for i, uri in enumerate(files, 1):
        inputs.append(
            {
                "InputName": f"batch_input_{i}",
                "AppManaged": False,
                "S3Input": {
                    "S3Uri": uri,
                    "LocalPath": f"{local}/batch_input_{i}",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": batch.get("S3InputMode") or "File",
                    "S3DataDistributionType": batch.get("S3DataDistributionType")
                    or "FullyReplicated",
                    "S3CompressionType": "None",
                },
            }
        )
    request["ProcessingInputs"] = inputs + request["ProcessingInputs"]
    env = request["Environment"]
    for key in ("sagemaker_endpoint_name", "sagemaker_endpoint_datacapture_prefix"):
        env.pop(key, None)
    env["dataset_format"] = json.dumps(analyzer_format(batch.get("DatasetFormat")))
    env["dataset_source"] = local
    return request
