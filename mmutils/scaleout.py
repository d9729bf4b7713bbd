"""Monitoring executions over more capture data than one machine parses: the map on Dask.

``run_monitoring_on_dask(client, data, statistics, constraints, ...)`` is
:func:`mmutils.analyzer.run_monitoring` with the parse of every capture file — reading its bytes
(a local path, or ``s3://``, the emulator included), finding each record's payloads — done as
tasks on a Dask cluster, and the results streamed back in file order into the same reader and
profiler. The outputs are byte-identical to a local run over the same files (tests compare the
files), because the order-dependent statistics (the left-to-right ``sum``, Spark's streaming
``std_dev`` recurrence, deequ's KLL sketch) are fed in row order on the client, exactly as
locally; see docs/scale-out.md for why the engine is Dask and why partial states are not merged.

Install with ``pip install "mmlab[scale]"`` (``dask[distributed]``). Nothing here reaches AWS
unless ``data`` is an ``s3://`` URI; ``endpoint_url`` (or ``AWS_ENDPOINT_URL``) points the
workers' S3 reads at the emulator.
"""

from __future__ import annotations

import os
import tempfile
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from mmutils.analyzer import capture_reader
from mmutils.analyzer.monitor import (
    CAPTURE,
    MonitoringResult,
    capture_options,
    resolve_format,
    run_monitoring,
)
from mmutils.formats import s3uri

__all__ = ["list_capture_sources", "load_capture_file", "run_monitoring_on_dask"]

#: tasks in flight per worker thread: enough to keep every worker busy, bounded memory
IN_FLIGHT_PER_THREAD = 2
_clients: dict[str | None, Any] = {}


def _s3(endpoint_url: str | None):
    """A boto3 S3 client per process and endpoint (workers reuse theirs across tasks)."""
    if endpoint_url not in _clients:
        import boto3

        _clients[endpoint_url] = boto3.client("s3", endpoint_url=endpoint_url)
    return _clients[endpoint_url]


def list_capture_sources(
    data: str | Path,
    start_time=None,
    end_time=None,
    endpoint_url: str | None = None,
) -> list[str]:
    """The capture files of a window, in the order a local run reads them.

    Args:
        data: a local folder / ``.jsonl`` file, or an ``s3://bucket/prefix``.
        start_time: window start; ``yyyy/mm/dd/HH`` folders outside the window are skipped.
        end_time: window end.
        endpoint_url: S3 endpoint (the emulator's), default ``AWS_ENDPOINT_URL`` / AWS.

    Returns:
        Local paths (as strings) or ``s3://`` URIs, sorted by the part under ``data``.
    """
    if not s3uri.is_s3(str(data)):
        return [str(p) for p in capture_reader.list_capture_files(data, start_time, end_time)]
    bucket, prefix = s3uri.split(str(data))
    base = prefix.rstrip("/")
    keys = []
    pages = _s3(endpoint_url).get_paginator("list_objects_v2")
    for page in pages.paginate(Bucket=bucket, Prefix=f"{base}/" if base else ""):
        for item in page.get("Contents", []):
            key = item["Key"]
            if key.endswith(".jsonl"):
                keys.append(key)
    if not keys and base.endswith(".jsonl"):
        keys = [base]  # a single object
    relative = {k: k[len(base) :].lstrip("/") for k in keys}
    keys.sort(key=lambda k: relative[k])
    return [
        s3uri.uri(bucket, k)
        for k in keys
        if capture_reader.in_window(str(PurePosixPath(k).parent), start_time, end_time)
    ]


def _read_bytes(source: str, endpoint_url: str | None) -> bytes:
    if s3uri.is_s3(source):
        bucket, key = s3uri.split(source)
        return _s3(endpoint_url).get_object(Bucket=bucket, Key=key)["Body"].read()
    return Path(source).read_bytes()


def load_capture_file(
    source: str,
    endpoint_url: str | None = None,
    block_size: int = capture_reader.BLOCK_SIZE,
    parts: Sequence[str] | None = None,
):
    """The map task: read one capture file and parse it (runs on a Dask worker).

    With ``parts`` (the payloads making a row, see
    :func:`~mmutils.analyzer.capture_reader.capture_parts`) an eligible file is cut into string
    columns by the compiled scan, as a local run does; any other file is parsed by pyarrow.

    Returns:
        ``(source, batches, error)`` as :func:`~mmutils.analyzer.capture_reader.parse_capture_file`
        gives them (or one scanned batch).
    """
    data = _read_bytes(source, endpoint_url)
    if parts:
        scanned = capture_reader.scan_capture_bytes(data, parts, source)
        if scanned is not None:
            return source, [scanned], None
    batches, error = capture_reader.parse_capture_file(data, block_size)
    return source, batches, error


def _ordered_results(
    client,
    sources: Sequence[str],
    endpoint_url: str | None,
    in_flight: int,
    workdir: Path,
    parts: Sequence[str] | None = None,
) -> Iterator[tuple[Path | str, list, Exception | None]]:
    """Submit the map tasks a bounded window ahead; yield their results in file order.

    A file whose parse failed is copied next to the client first (the reader re-reads it line
    by line to name the bad line); the error message then names that copy, which keeps the
    file's own name. So is a scanned file whose row width may not be the window's (the reader
    then re-reads it with pyarrow, which gives the same table or the same error): one whose
    width differs from the first scanned file's, or any scanned file after rows that came
    from pyarrow's parse (whose width the client does not know).
    """
    pending: deque = deque()
    todo = iter(sources)
    window_width: int | None = None  # the first scanned file's, if it gave the first rows
    parsed_rows = False  # rows parsed by pyarrow came first: scanned widths are unchecked

    def submit_next() -> None:
        source = next(todo, None)
        if source is not None:
            pending.append(
                client.submit(
                    load_capture_file, source, endpoint_url, parts=parts, pure=False, key=None
                )
            )

    for _ in range(in_flight):
        submit_next()
    while pending:
        future = pending.popleft()
        source, batches, error = future.result()
        future.release()
        submit_next()
        width = capture_reader.scanned_width(batches)
        if width is None:
            parsed_rows = parsed_rows or any(len(b) for b in batches)
        elif window_width is None and not parsed_rows:
            window_width = width
        if error is not None or (width is not None and width != window_width):
            copy = workdir / _local_name(source)
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(_read_bytes(source, endpoint_url))
            yield copy, batches, error
        else:
            yield source, batches, None


def _scan_parts(dataset_format) -> list[str] | None:
    """The payloads making a row, for the workers' compiled scan; None when it is switched
    off (``MMLAB_CAPTURE_SCAN=0``) or the format is not capture (the reader then refuses it).
    """
    if capture_reader.scan_setting() == "0":
        return None
    kind, fmt = resolve_format(dataset_format)
    if kind != CAPTURE:
        return None
    return capture_reader.capture_parts(*capture_options(fmt))


def _local_name(source: str) -> str:
    if s3uri.is_s3(source):
        bucket, key = s3uri.split(source)
        return f"{bucket}/{key}"
    return Path(source).name


def run_monitoring_on_dask(
    client,
    data: str | Path,
    baseline_statistics,
    baseline_constraints,
    *,
    start_time=None,
    end_time=None,
    endpoint_url: str | None = None,
    in_flight: int | None = None,
    **options,
) -> MonitoringResult:
    """Run a monitoring execution with the capture files parsed on a Dask cluster.

    Args:
        client: a ``distributed.Client`` (e.g. on ``LocalCluster(n_workers=2)``, or a remote
            scheduler; the workers need this package and read ``data`` themselves).
        data: capture folder / file (a path the workers can read) or ``s3://bucket/prefix``.
        baseline_statistics: as for :func:`~mmutils.analyzer.run_monitoring`.
        baseline_constraints: likewise.
        start_time: analysis window start (selects hour folders, as locally).
        end_time: analysis window end.
        endpoint_url: S3 endpoint for ``s3://`` data (default ``AWS_ENDPOINT_URL``, else AWS).
        in_flight: map tasks submitted ahead (default 2 per worker thread).
        **options: any other :func:`~mmutils.analyzer.run_monitoring` keyword (``output_dir``,
            ``publish_cloudwatch_metrics``…). Capture format only; no record pre-processor.

    Returns:
        The :class:`~mmutils.analyzer.monitor.MonitoringResult`; its files are byte-identical to
        a local run's.
    """
    if options.get("record_preprocessor_script"):
        raise ValueError("run_monitoring_on_dask does not run record pre-processor scripts")
    endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
    sources = list_capture_sources(data, start_time, end_time, endpoint_url)
    if in_flight is None:
        threads = sum(client.nthreads().values()) or 1
        in_flight = IN_FLIGHT_PER_THREAD * threads
    options.setdefault("dataset_format", {CAPTURE: {}})
    parts = _scan_parts(options["dataset_format"])
    with tempfile.TemporaryDirectory(prefix="mmlab-scaleout-") as tmp:

        def loader(files):
            return _ordered_results(
                client, files, endpoint_url, max(1, in_flight), Path(tmp), parts
            )

        return run_monitoring(
            sources,
            baseline_statistics,
            baseline_constraints,
            start_time=start_time,
            end_time=end_time,
            capture_loader=loader,
            **options,
        )
