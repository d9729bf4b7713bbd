"""Batch transform for real: CreateTransformJob runs the model over its S3 input and writes output.

moto 5.2.5 answers CreateTransformJob with a job that is ``Completed`` at once and writes nothing.
Here the job starts ``InProgress`` and a worker thread does what the service documents:

- every object under ``TransformInput.DataSource.S3DataSource.S3Uri`` (``S3Prefix``; ``.gz``
  objects with ``CompressionType: Gzip``) is one input file;
- ``SplitType: Line`` splits it into records; ``BatchStrategy: MultiRecord`` sends as many
  records per request as fit ``MaxPayloadInMB`` (default 6), ``SingleRecord`` one; ``None``
  sends the whole file;
- the model is the one the endpoints run (:func:`mmutils.emulator.hosting.run_model`), with
  ``TransformInput.ContentType`` and ``TransformOutput.Accept``;
- the answers are written to ``{S3OutputPath}/{input file name relative to the prefix}.out``,
  joined with newlines when ``AssembleWith: Line``;
- ``DataProcessing.JoinSource: Input`` (CSV) puts each input record before its answer, as the
  service joins them.

With ``DataCaptureConfig.DestinationS3Uri`` the job records what it read and wrote as manifest
files (:func:`write_batch_capture`), which ``BatchTransformInput`` monitoring executions read.

The job ends ``Completed``, or ``Failed`` with the model's error as ``FailureReason``.
Not emulated: ``InputFilter``/``OutputFilter`` other than ``$`` (the job fails naming them),
manifest-file inputs, RecordIO/TFRecord splitting, ``GenerateInferenceId``.
"""

from __future__ import annotations

import gzip
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor

from moto.core.responses import ActionResult
from moto.sagemaker.models import sagemaker_backends
from moto.sagemaker.responses import SageMakerResponse

from mmutils.emulator import patch_table, s3io
from mmutils.emulator.clock import moto_now
from mmutils.emulator.hosting import Deployed, ModelInvocationError, run_model
from mmutils.emulator.state import STATE
from mmutils.formats import s3uri

_TARGET = "moto.sagemaker.responses.SageMakerResponse.create_transform_job"
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="mmlab-transform")
_lock = threading.Lock()


class TransformError(Exception):
    """Why a transform job failed (the job's ``FailureReason``)."""


def _records(data: bytes, split: str | None) -> list[bytes]:
    if (split or "None") == "Line":
        return [line for line in data.splitlines() if line.strip()]
    if (split or "None") == "None":
        return [data]
    raise TransformError(f"SplitType {split} is not emulated (Line and None are)")


def _batches(records: list[bytes], strategy: str | None, max_mb: int | None) -> list[list[bytes]]:
    if (strategy or "MultiRecord") == "SingleRecord":
        return [[r] for r in records]
    limit = int(max_mb or 6) * 1024 * 1024
    out: list[list[bytes]] = []
    size = 0
    for record in records:
        if out and size + len(record) + 1 <= limit:
            out[-1].append(record)
            size += len(record) + 1
        else:
            out.append([record])
            size = len(record) + 1
    return out


def _base_folder(prefix: str, keys: list[str]) -> str:
    """The folder output names are relative to: the S3Uri as a folder (``in`` -> ``in/``), the
    folder of an S3Uri that names one object, or of a partial name (``in/part``)."""
    if prefix == "" or prefix.endswith("/"):
        return prefix
    if prefix not in keys and any(k.startswith(prefix + "/") for k in keys):
        return prefix + "/"
    return prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""


def _deployed(backend, model_name: str) -> Deployed:
    model = backend._models.get(model_name)
    if model is None:
        raise TransformError(f"Could not find model {model_name}")
    container = model.primary_container or (model.containers[0] if model.containers else {})
    return Deployed("AllTraffic", container.get("Image", ""), container.get("ModelDataUrl"))


def run_transform(account: str, region: str, name: str) -> None:
    """Run one transform job to its end (sets the job's status, times and FailureReason)."""
    job = sagemaker_backends[account][region].transform_jobs[name]
    try:
        _transform(account, region, job)
        status, reason = "Completed", None
    except (TransformError, ModelInvocationError) as exc:
        status, reason = "Failed", str(exc)
    except Exception as exc:  # noqa: BLE001 - an emulator bug fails the job, visibly
        traceback.print_exc(file=sys.stderr)
        status, reason = "Failed", f"InternalServerError: {exc}"
    now = moto_now()
    with _lock:
        job.transform_job_status = status
        job.failure_reason = reason or ""
        job.transform_end_time = now
        job.last_modified_time = now


def _transform(account: str, region: str, job) -> None:
    backend = sagemaker_backends[account][region]
    deployed = _deployed(backend, job.model_name)
    source = (job.transform_input or {}).get("DataSource", {}).get("S3DataSource", {})
    if source.get("S3DataType", "S3Prefix") != "S3Prefix":
        raise TransformError(f"S3DataType {source.get('S3DataType')} is not emulated")
    processing = job.data_processing or {}
    for key in ("InputFilter", "OutputFilter"):
        if processing.get(key) not in (None, "", "$"):
            raise TransformError(f"DataProcessing.{key} {processing[key]} is not emulated")
    join = processing.get("JoinSource") == "Input"
    tin, tout = job.transform_input or {}, job.transform_output or {}
    content_type = tin.get("ContentType") or "text/csv"
    bucket, prefix = s3uri.split(source["S3Uri"])
    keys = [k for k in s3io.list_keys(account, bucket, prefix) if not k.endswith("/")]
    if not keys:
        raise TransformError(f'No S3 objects found under S3 URL "{source["S3Uri"]}"')
    out_bucket, out_prefix = s3uri.split(tout["S3OutputPath"])
    base = _base_folder(prefix, keys)
    joiner = b"\n" if tout.get("AssembleWith") == "Line" else b""
    written: list[str] = []
    for key in keys:
        data = s3io.get_bytes(account, bucket, key)
        if tin.get("CompressionType") == "Gzip":
            data = gzip.decompress(data)
        answers: list[bytes] = []
        for batch in _batches(
            _records(data, tin.get("SplitType")), job.batch_strategy, job.max_payload_in_mb
        ):
            body = b"\n".join(batch)
            out, _ = run_model(
                account, job.transform_job_name, deployed, body, content_type, tout.get("Accept")
            )
            lines = out.splitlines() if tin.get("SplitType") == "Line" else [out]
            if join:
                if len(lines) != len(batch):
                    raise TransformError(
                        f"JoinSource Input: {len(batch)} records but {len(lines)} answers"
                    )
                lines = [
                    record + b"," + answer for record, answer in zip(batch, lines, strict=True)
                ]
            answers.extend(lines)
        relative = key[len(base) :] if key.startswith(base) else key.rsplit("/", 1)[-1]
        written.append(relative + ".out")
        s3io.put_bytes(
            account,
            out_bucket,
            s3uri.join(out_prefix, relative + ".out"),
            joiner.join(answers) + (b"\n" if joiner and answers else b""),
        )

    capture = (job.data_capture_config or {}).get("DestinationS3Uri")
    if capture:
        inputs = [k[len(base) :] if k.startswith(base) else k for k in keys]
        write_batch_capture(
            account,
            capture,
            s3uri.uri(bucket, base),
            inputs,
            s3uri.join(tout["S3OutputPath"]) + "/",
            written,
        )


def write_batch_capture(
    account: str, dest: str, in_prefix: str, inputs: list[str], out_prefix: str, outputs: list[str]
) -> tuple[str, str]:
    """Record a transform job's data in ``DataCaptureConfig.DestinationS3Uri`` (batch capture).

    Two manifest files (the ``ManifestFile`` layout: ``[{"prefix": …}, "relative key", …]``),
    named by the emulator clock's hour: ``{dest}/input/yyyy/mm/dd/HH/{uuid}.json`` for the
    records the model read, ``{dest}/output/…`` for what it wrote. The service's exact file
    names are not documented; the data-quality executions of a ``BatchTransformInput``
    schedule read the ``input`` manifests of their window.

    Returns:
        The two manifests' S3 URIs.
    """
    import json

    from mmutils.formats.capture_key import hour_folder

    hour = hour_folder(moto_now())
    bucket, prefix = s3uri.split(dest)
    written = []
    for side, base, items in (("input", in_prefix, inputs), ("output", out_prefix, outputs)):
        key = s3uri.join(prefix, side, hour, f"{STATE.ids.uuid4()}.json")
        body = json.dumps([{"prefix": base}, *items]).encode()
        s3io.put_bytes(account, bucket, key, body)
        written.append(s3uri.uri(bucket, key))
    return written[0], written[1]


def _create_transform_job(original):
    def create_transform_job(self: SageMakerResponse) -> ActionResult:
        result = original(self)
        name = self._get_param("TransformJobName")
        job = self.sagemaker_backend.transform_jobs[name]
        now = moto_now()
        job.creation_time = job.transform_start_time = job.last_modified_time = now
        job.transform_end_time = None
        job.transform_job_status = "InProgress"
        account, region = self.current_account, self.region
        _pool.submit(run_transform, account, region, name)
        return result

    create_transform_job.__wrapped__ = original
    return create_transform_job


def install() -> None:
    """Make CreateTransformJob run the job."""
    patch_table.wrap(_TARGET, _create_transform_job)
    STATE.on_stop(lambda: _pool.shutdown(wait=True, cancel_futures=False))
