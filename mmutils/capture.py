"""Reading SageMaker data-capture files in a notebook (client side).

Capture files are JSON Lines under
``{destination}/{endpoint}/{variant}/yyyy/mm/dd/HH/{MM}-{SS}-{mmm}-{uuid}.jsonl``; each line
is one request/response pair (spec §A)::

    {"captureData": {"endpointInput": {...}, "endpointOutput": {...}},
     "eventMetadata": {"eventId": ..., "inferenceTime": ...}, "eventVersion": "0"}

This module lists those files, parses their lines, decodes payloads and turns records into a
DataFrame. It only reads: writing capture is the emulator's job (``mmutils.emulator.capture``).
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

import pandas as pd

#: The two payloads of a capture record, and the column prefix used for each.
CAPTURE_INDEXES = {"endpointInput": "input", "endpointOutput": "output"}


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → ``("bucket", "some/prefix")``.

    Raises:
        ValueError: ``uri`` is not an ``s3://`` URI with a bucket.
    """
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"not an s3:// URI: {uri!r}")
    return parsed.netloc, parsed.path.lstrip("/")


def list_capture_files(s3_client: Any, s3_uri_prefix: str) -> list[str]:
    """Keys of the capture files (``*.jsonl``) under an S3 prefix, sorted.

    Sorted keys are in time order: the key holds ``yyyy/mm/dd/HH/MM-SS-mmm``.

    Args:
        s3_client: a boto3 S3 client.
        s3_uri_prefix: e.g. ``s3://bucket/prefix/datacapture/my-endpoint`` (a trailing ``/``
            is optional; the prefix is matched as a folder).

    Returns:
        The object keys (without bucket), sorted.
    """
    bucket, prefix = split_s3_uri(s3_uri_prefix)
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    keys: list[str] = []
    paginator = s3_client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(o["Key"] for o in page.get("Contents", []) if o["Key"].endswith(".jsonl"))
    return sorted(keys)


def read_capture_lines(text_or_bytes: str | bytes, *, source: str = "capture data") -> list[dict]:
    """Parse the lines of a capture file.

    Args:
        text_or_bytes: the file's content (``bytes`` are decoded as UTF-8).
        source: a name for error messages (e.g. the S3 key).

    Returns:
        One dict per non-blank line, in file order.

    Raises:
        ValueError: a line is not a JSON object (the message names the source and line number).
    """
    if isinstance(text_or_bytes, bytes):
        text_or_bytes = text_or_bytes.decode("utf-8")
    records = []
    for lineno, line in enumerate(text_or_bytes.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{source}, line {lineno}: not valid JSON: {err.msg}") from None
        if not isinstance(record, dict):
            raise ValueError(f"{source}, line {lineno}: expected a JSON object")
        records.append(record)
    return records


def decode_payload(event: Mapping | None) -> str | bytes | None:
    """The payload of an ``endpointInput``/``endpointOutput`` as the client sent/received it.

    ``CSV`` and ``JSON`` data are already text and returned as is (JSON stays JSON text);
    ``BASE64`` data is decoded, to ``str`` when the bytes are UTF-8, else to ``bytes``.

    Raises:
        ValueError: BASE64 data that is not valid base64.
    """
    if event is None:
        return None
    data = event.get("data")
    if data is None or event.get("encoding") != "BASE64":
        return data
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"BASE64 payload is not valid base64: {data[:40]!r}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def _record_row(record: Mapping) -> dict:
    meta = record.get("eventMetadata", {})
    row: dict[str, Any] = {
        "inference_time": meta.get("inferenceTime"),
        "event_id": meta.get("eventId"),
        "inference_id": meta.get("inferenceId"),
    }
    capture = record.get("captureData", {})
    for index, prefix in CAPTURE_INDEXES.items():
        event = capture.get(index)
        row[f"{prefix}_content_type"] = event.get("observedContentType") if event else None
        row[f"{prefix}_encoding"] = event.get("encoding") if event else None
        row[f"{prefix}_data"] = decode_payload(event)
    return row


def _csv_rows(text: str) -> list[list[str]]:
    return [r for r in csv.reader(io.StringIO(text)) if r]


def capture_to_dataframe(
    records: Iterable[Mapping], *, feature_names: Sequence[str] | None = None
) -> pd.DataFrame:
    """Capture records as a table, one row per record.

    Columns: ``inference_time`` (UTC ``Timestamp``; NaT when unreadable), ``event_id``,
    ``inference_id`` (None unless the request carried one), ``input_content_type``,
    ``input_encoding``, ``input_data``, ``output_content_type``, ``output_encoding``,
    ``output_data`` (payloads decoded by :func:`decode_payload`).

    Args:
        records: parsed capture lines (from :func:`read_capture_lines`).
        feature_names: when given, CSV-encoded inputs are split into one column per name
            (numbers converted where a whole column is numeric). A CSV payload holding several
            lines gives one row per line, sharing the record's metadata.

    Returns:
        The DataFrame.

    Raises:
        ValueError: a CSV input has a different number of fields than ``feature_names``
            (the message names the record's event id).
    """
    rows: list[dict] = []
    for i, record in enumerate(records):
        row = _record_row(record)
        if feature_names is None or row["input_encoding"] != "CSV" or row["input_data"] is None:
            rows.append(row)
            continue
        for fields in _csv_rows(row["input_data"]):
            if len(fields) != len(feature_names):
                raise ValueError(
                    f"record {i} (eventId {row['event_id']}): CSV input has {len(fields)} "
                    f"fields, expected {len(feature_names)} feature names"
                )
            rows.append({**row, **dict(zip(feature_names, fields, strict=True))})
    df = pd.DataFrame(rows, columns=[*_record_row({}), *(feature_names or [])])
    df["inference_time"] = pd.to_datetime(
        df["inference_time"], format="%Y-%m-%dT%H:%M:%SZ", errors="coerce", utc=True
    )
    for name in feature_names or []:
        df[name] = _maybe_numeric(df[name])
    return df


def _maybe_numeric(column: pd.Series) -> pd.Series:
    """The column as numbers when every non-null value parses as one, else unchanged."""
    try:
        return pd.to_numeric(column)
    except (TypeError, ValueError):
        return column


_FIELD_HELP = {
    "eventVersion": "version of the capture record format",
    "eventMetadata.eventId": "unique id SageMaker gave this request",
    "eventMetadata.inferenceId": "the InferenceId the caller passed to InvokeEndpoint "
    "(used to join ground truth)",
    "eventMetadata.inferenceTime": "when the endpoint answered (UTC, second precision)",
    "eventMetadata.customAttributes": "the CustomAttributes header of the request",
    "eventMetadata.invocationSource": "set for shadow-variant traffic; the analyzer skips "
    "such records",
    "observedContentType": "Content-Type header as observed",
    "mode": "INPUT = the request, OUTPUT = the response",
}
_ENCODING_HELP = {
    "CSV": "payload stored as text (content type is in the CSV list of the capture config)",
    "JSON": "payload stored as JSON text (content type is in the JSON list of the capture config)",
    "BASE64": "payload stored as base64 of the raw bytes (content type in neither list)",
}


def _short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= width else text[: width - 1] + "…"


def describe_record(record: Mapping | str) -> str:
    """A short explanation of every field of one capture record (for the lab).

    Args:
        record: a parsed capture line, or the line's JSON text.

    Returns:
        Several lines ``path: value — meaning``; long payloads are shortened, BASE64 payloads
        are shown decoded too, CSV payloads with their number of fields.
    """
    if isinstance(record, str):
        record = read_capture_lines(record, source="record")[0]
    lines = []
    meta = record.get("eventMetadata", {})
    for key, value in meta.items():
        help_text = _FIELD_HELP.get(f"eventMetadata.{key}", "")
        lines.append(
            f"eventMetadata.{key}: {_short(value)}" + (f" — {help_text}" if help_text else "")
        )
    for index, event in record.get("captureData", {}).items():
        what = {"endpointInput": "the request", "endpointOutput": "the response"}.get(index, "")
        lines.append(f"captureData.{index}: {what}".rstrip(": "))
        for key in ("observedContentType", "mode"):
            if key in event:
                lines.append(f"  {key}: {event[key]} — {_FIELD_HELP[key]}")
        encoding = event.get("encoding")
        if encoding is not None:
            lines.append(
                f"  encoding: {encoding} — {_ENCODING_HELP.get(encoding, 'unknown encoding')}"
            )
        data = event.get("data")
        if data is not None:
            lines.append(f"  data: {_short(data)}{_data_note(event)}")
    if "eventVersion" in record:
        lines.append(f"eventVersion: {record['eventVersion']} — {_FIELD_HELP['eventVersion']}")
    return "\n".join(lines)


def _data_note(event: Mapping) -> str:
    encoding, data = event.get("encoding"), event.get("data", "")
    if encoding == "CSV":
        rows = _csv_rows(data)
        fields = len(rows[0]) if rows else 0
        extra = f" in {len(rows)} lines" if len(rows) > 1 else ""
        noun = "value" if fields == 1 else "comma-separated values"
        return f" — {fields} {noun}{extra}"
    if encoding == "BASE64":
        try:
            decoded = decode_payload(event)
        except ValueError as err:
            return f" — {err}"
        return f" — decodes to {_short(decoded)}"
    if encoding == "JSON":
        return f" — {len(data)} characters of JSON"
    return ""


def pretty(record: Mapping | str) -> str:
    """A capture record (dict or JSON line) as indented JSON, keys in file order."""
    if isinstance(record, str):
        record = read_capture_lines(record, source="record")[0]
    return json.dumps(record, indent=2, ensure_ascii=False)
