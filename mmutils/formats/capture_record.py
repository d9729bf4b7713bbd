"""One data-capture record: a compact JSON line as SageMaker writes it (spec §A).

``{"captureData": {"endpointInput": {...}, "endpointOutput": {...}},
"eventMetadata": {"eventId", ["inferenceId"], "inferenceTime", ["customAttributes"]},
"eventVersion": "0"}``; each payload is ``{"observedContentType", "mode", "data", "encoding"}``.

This module builds a line (the emulator's capture), parses lines and decodes payloads (the
analyzer and the notebooks), with one set of error rules: :class:`CaptureFormatError` (a
``ValueError``) naming the source, the line and what is wrong.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping

INPUT = "endpointInput"
OUTPUT = "endpointOutput"
PAYLOADS = (INPUT, OUTPUT)
#: ``eventMetadata.invocationSource`` of shadow-variant traffic (the analyzer skips it)
SHADOW = "ShadowExperiment"
ENCODINGS = ("CSV", "JSON", "BASE64")
DEFAULT_CSV_TYPES = ("text/csv",)
DEFAULT_JSON_TYPES = ("application/json",)


class CaptureFormatError(ValueError):
    """A capture line or payload that does not follow the format (the message says where)."""


# --------------------------------------------------------------------------------------------
# Building (what the endpoint writes)


def media_type(content_type: str | None) -> str:
    """``"Text/CSV; charset=utf-8"`` -> ``"text/csv"``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def encoding_for(content_type: str | None, header: Mapping | None) -> str:
    """``"CSV"``, ``"JSON"`` or ``"BASE64"`` for a content type under a CaptureContentTypeHeader."""
    header = header or {}
    kind = media_type(content_type)
    csv_types = header.get("CsvContentTypes") or DEFAULT_CSV_TYPES
    json_types = header.get("JsonContentTypes") or DEFAULT_JSON_TYPES
    if kind and kind in {media_type(t) for t in csv_types}:
        return "CSV"
    if kind and kind in {media_type(t) for t in json_types}:
        return "JSON"
    return "BASE64"


def payload_field(data: bytes, content_type: str, mode: str, header: Mapping | None) -> dict:
    """One ``endpointInput``/``endpointOutput`` object, keys in the service's order."""
    encoding = encoding_for(content_type, header)
    text = None
    if encoding != "BASE64":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "BASE64"  # not text after all: keep the bytes exactly
    if text is None:
        text = base64.b64encode(data).decode("ascii")
    return {"observedContentType": content_type, "mode": mode, "data": text, "encoding": encoding}


def capture_modes(config: Mapping) -> set[str]:
    """``{"Input", "Output"}`` (or a subset) from a DataCaptureConfig's ``CaptureOptions``."""
    options = config.get("CaptureOptions") or [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]
    modes: set[str] = set()
    for option in options:
        mode = option.get("CaptureMode")
        if mode == "InputAndOutput":
            modes |= {"Input", "Output"}
        elif mode:
            modes.add(mode)
    return modes


def inference_time(when: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` (UTC, second precision)."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_line(
    *,
    config: Mapping,
    request: bytes,
    request_type: str,
    response: bytes,
    response_type: str,
    event_id: str,
    when: dt.datetime,
    inference_id: str | None = None,
    custom_attributes: str | None = None,
) -> bytes:
    """The JSONL line (with its ``\\n``) of one captured invocation.

    Args:
        config: the endpoint config's ``DataCaptureConfig``.
        request: the request body; ``request_type`` its content type.
        response: the response body; ``response_type`` its content type.
        event_id: the record's ``eventId``.
        when: the time of the invocation.
        inference_id: the caller's ``InferenceId``, if any.
        custom_attributes: the caller's ``CustomAttributes``, if any.
    """
    header = config.get("CaptureContentTypeHeader")
    modes = capture_modes(config)
    data: dict = {}
    if "Input" in modes:
        data[INPUT] = payload_field(request, request_type, "INPUT", header)
    if "Output" in modes:
        data[OUTPUT] = payload_field(response, response_type, "OUTPUT", header)
    meta = {"eventId": event_id}
    if inference_id:
        meta["inferenceId"] = inference_id
    meta["inferenceTime"] = inference_time(when)
    if custom_attributes:
        # the container's CapturedData reads customAttributes; exact form unconfirmed
        meta["customAttributes"] = [custom_attributes]
    doc = {"captureData": data, "eventMetadata": meta, "eventVersion": "0"}
    return (json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")


# --------------------------------------------------------------------------------------------
# Parsing (what readers see)


def parse_line(raw: str | bytes, *, source: str = "capture data", line: int = 1) -> dict:
    """Parse one capture line into a dict.

    Raises:
        CaptureFormatError: ``Malformed capture record in {source} line {line}: …`` when the
            line is not UTF-8, not JSON, or not a JSON object.
    """
    where = f"Malformed capture record in {source} line {line}"
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CaptureFormatError(f"{where}: not UTF-8 ({exc})") from None
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CaptureFormatError(f"{where}: invalid JSON ({exc})") from None
    if not isinstance(record, dict):
        raise CaptureFormatError(f"{where}: not a JSON object")
    return record


def iter_lines(
    lines: Iterable[str | bytes], *, source: str = "capture data"
) -> Iterator[tuple[int, dict]]:
    """``(line_number, record)`` for every non-blank line (see :func:`parse_line`)."""
    for number, raw in enumerate(lines, start=1):
        if raw.strip():
            yield number, parse_line(raw, source=source, line=number)


def parse_lines(content: str | bytes, *, source: str = "capture data") -> list[dict]:
    """Every record of a capture file's content, in file order (blank lines skipped).

    Lines end at ``\\n`` only (as when a file is read line by line): ``str.splitlines`` would
    also break at U+2028, U+2029 or U+0085, which a JSON string may hold unescaped.
    """
    newline = "\n" if isinstance(content, str) else b"\n"
    return [record for _, record in iter_lines(content.split(newline), source=source)]


def is_shadow(record: Mapping) -> bool:
    """True for a shadow-variant record (``invocationSource`` = ``ShadowExperiment``)."""
    meta = record.get("eventMetadata")
    return isinstance(meta, Mapping) and meta.get("invocationSource") == SHADOW


def payloads(record: Mapping) -> dict[str, Mapping]:
    """The record's ``endpointInput``/``endpointOutput`` objects that are present.

    Raises:
        CaptureFormatError: the record has no ``captureData`` object.
    """
    cap = record.get("captureData")
    if not isinstance(cap, Mapping):
        raise CaptureFormatError("not a data-capture record (no 'captureData' object)")
    return {name: cap[name] for name in PAYLOADS if isinstance(cap.get(name), Mapping)}


def decode_bytes(event: Mapping) -> bytes:
    """A payload's bytes exactly as the client sent or received them.

    Raises:
        CaptureFormatError: no string ``data``, an unknown encoding, or BASE64 that is not
            valid base64.
    """
    data = event.get("data")
    encoding = event.get("encoding")
    if not isinstance(data, str):
        raise CaptureFormatError(f"{event.get('mode', 'payload')} has no string 'data' field")
    if encoding in ("CSV", "JSON"):
        return data.encode("utf-8")
    if encoding == "BASE64":
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CaptureFormatError(f"BASE64 data is not valid base64 ({exc})") from None
    raise CaptureFormatError(f"unknown encoding {encoding!r} (expected CSV, JSON or BASE64)")


def decode_text(event: Mapping) -> str:
    """A payload as text (CSV and JSON as stored; BASE64 decoded, which must be UTF-8).

    Raises:
        CaptureFormatError: as :func:`decode_bytes`, or BASE64 bytes that are not UTF-8 text.
    """
    if event.get("encoding") in ("CSV", "JSON") and isinstance(event.get("data"), str):
        return event["data"]
    raw = decode_bytes(event)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CaptureFormatError(f"BASE64 data does not decode to UTF-8 text ({exc})") from None


def decode_payload(event: Mapping | None) -> str | bytes | None:
    """A payload for display: text when it is text, ``bytes`` when BASE64 of binary data.

    ``None`` for a missing payload or one without data.

    Raises:
        CaptureFormatError: as :func:`decode_bytes`.
    """
    if event is None or event.get("data") is None:
        return None
    try:
        return decode_text(event)
    except CaptureFormatError:
        if event.get("encoding") != "BASE64":
            raise
        return decode_bytes(event)  # binary: raises again when not valid base64
