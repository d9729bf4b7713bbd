"""Looking at data-capture records in a notebook: as a table, field by field, or indented.

Capture files are JSON Lines under
``{destination}/{endpoint}/{variant}/yyyy/mm/dd/HH/{MM}-{SS}-{mmm}-{uuid}.jsonl``; each line
is one request/response pair (spec §A)::

    {"captureData": {"endpointInput": {...}, "endpointOutput": {...}},
     "eventMetadata": {"eventId": ..., "inferenceTime": ...}, "eventVersion": "0"}

Parsing lines and decoding payloads is :mod:`mmutils.formats.capture_record`'s job; this module
only presents the records it gives.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from mmutils.formats import capture_record

#: The two payloads of a capture record, and the column prefix used for each.
CAPTURE_INDEXES = {capture_record.INPUT: "input", capture_record.OUTPUT: "output"}


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
        row[f"{prefix}_data"] = capture_record.decode_payload(event)
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
    ``output_data`` (payloads decoded by
    :func:`mmutils.formats.capture_record.decode_payload`: CSV and JSON as the captured text,
    BASE64 to text when it is UTF-8, else to ``bytes``).

    Args:
        records: parsed capture lines (e.g. from
            :func:`mmutils.formats.capture_record.parse_lines`).
        feature_names: when given, CSV-encoded inputs are split into one column per name
            (numbers converted where a whole column is numeric). A CSV payload holding several
            lines gives one row per line, sharing the record's metadata.

    Returns:
        The DataFrame.

    Raises:
        ValueError: a CSV input has a different number of fields than ``feature_names``
            (the message names the record's event id).
        mmutils.formats.capture_record.CaptureFormatError: a payload cannot be decoded.
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


def _parsed(record: Mapping | str) -> Mapping:
    if isinstance(record, str):
        return capture_record.parse_line(record, source="record")
    return record


def describe_record(record: Mapping | str) -> str:
    """A short explanation of every field of one capture record (for the lab).

    Args:
        record: a parsed capture line, or the line's JSON text.

    Returns:
        Several lines ``path: value — meaning``; long payloads are shortened, BASE64 payloads
        are shown decoded too, CSV payloads with their number of fields.

    Raises:
        mmutils.formats.capture_record.CaptureFormatError: the text is not a JSON object.
    """
    record = _parsed(record)
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
            decoded = capture_record.decode_payload(event)
        except capture_record.CaptureFormatError as err:
            return f" — {err}"
        return f" — decodes to {_short(decoded)}"
    if encoding == "JSON":
        return f" — {len(data)} characters of JSON"
    return ""


def pretty(record: Mapping | str) -> str:
    """A capture record (dict or JSON line) as indented JSON, keys in file order."""
    return json.dumps(_parsed(record), indent=2, ensure_ascii=False)
