"""The ground-truth merge: captured predictions joined to labels uploaded later.

Ground truth is JSON lines, one record per label (AWS docs, docs/model-quality-formats.md §2)::

    {"groundTruthData": {"data": "1", "encoding": "CSV"},
     "eventMetadata": {"eventId": "<id>"}, "eventVersion": "0"}

uploaded under ``{ground_truth_s3_uri}/yyyy/mm/dd/HH/`` (the hour the label was collected).
``eventMetadata.eventId`` holds the capture's ``inferenceId`` when the caller set one on
InvokeEndpoint, else the capture's ``eventId``. A captured record joins the label whose id
equals its key; several captured records may share one label (the AWS example reuses its
InferenceIds every 334 requests and every record was scored). Captured records without a
label are counted, never guessed; labels nobody captured are counted too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mmutils.analyzer.errors import AnalyzerError
from mmutils.analyzer.model_quality.columns import Origins
from mmutils.analyzer.model_quality.dataset import dataset_files
from mmutils.formats.capture_record import (
    OUTPUT,
    CaptureFormatError,
    decode_text,
    is_shadow,
    iter_lines,
    payloads,
)


@dataclass
class Labels:
    """Ground-truth records, in file order.

    Attributes:
        ids: ``eventMetadata.eventId`` of each record.
        data: ``groundTruthData`` payload text (decoded).
        encodings: ``groundTruthData.encoding`` (``CSV`` / ``JSON``; BASE64 is decoded to text
            and read as CSV).
        origins: file and line of each record.
    """

    ids: np.ndarray
    data: list[str]
    encodings: list[str]
    origins: Origins


@dataclass
class Captures:
    """Captured records inside the window, in file order.

    Attributes:
        keys: the join key (``inferenceId`` when present, else ``eventId``).
        outputs: the ``endpointOutput`` payload text.
        encodings: its encoding.
        origins: file and line of each record.
        outside_window: records read but outside ``[start, end)``.
        shadow: shadow-variant records skipped.
    """

    keys: np.ndarray
    outputs: list[str]
    encodings: list[str]
    origins: Origins
    outside_window: int = 0
    shadow: int = 0


@dataclass
class MergeResult:
    """Captured records that found their label, and the counts of those that did not.

    Attributes:
        keys: join key of each merged row.
        outputs: the captured ``endpointOutput`` text of each merged row.
        output_encodings: its encoding.
        labels: the ground-truth ``data`` text of each merged row.
        label_encodings: its encoding.
        origins: the capture file and line of each merged row.
        captured: captured records in the window.
        ground_truth: ground-truth records read.
        unmatched_captures: captured records without a label (not scored).
        unused_labels: distinct label ids no captured record has.
        duplicate_labels: label records whose id an earlier record already had (the last wins).
        outside_window: captured records outside the window.
    """

    keys: np.ndarray
    outputs: list[str]
    output_encodings: list[str]
    labels: list[str]
    label_encodings: list[str]
    origins: Origins
    captured: int = 0
    ground_truth: int = 0
    unmatched_captures: int = 0
    unused_labels: int = 0
    duplicate_labels: int = 0
    outside_window: int = 0
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.keys)

    def summary(self) -> dict:
        """The counts, for logs and reports."""
        return {
            "merged": len(self),
            "captured": self.captured,
            "ground_truth": self.ground_truth,
            "unmatched_captures": self.unmatched_captures,
            "unused_labels": self.unused_labels,
            "duplicate_labels": self.duplicate_labels,
            "outside_window": self.outside_window,
        }


def _files(sources: str | Path | Iterable[str | Path]) -> list[Path]:
    if isinstance(sources, str | Path):
        return dataset_files(sources)
    files: list[Path] = []
    for source in sources:
        files.extend(dataset_files(source))
    return files


def _time(value: str | dt.datetime | None) -> np.datetime64 | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return np.datetime64(value, "s")


def read_ground_truth(sources) -> Labels:
    """Every ground-truth record of the files (a file, a folder, or several).

    Raises:
        AnalyzerError: a line that is not a ground-truth record, naming file and line.
    """
    ids, data, encodings, origins = [], [], [], []
    for path in _files(sources):
        lines = []
        with path.open("rb") as handle:
            try:
                for number, record in iter_lines(handle, source=str(path)):
                    meta = record.get("eventMetadata") or {}
                    truth = record.get("groundTruthData")
                    key = meta.get("eventId", meta.get("inferenceId"))
                    if not isinstance(truth, dict) or key is None:
                        raise AnalyzerError(
                            f"{path} line {number}: not a ground-truth record (needs "
                            "'groundTruthData' and 'eventMetadata.eventId')"
                        )
                    text = decode_text(truth)
                    ids.append(str(key))
                    data.append(text)
                    encodings.append("JSON" if truth.get("encoding") == "JSON" else "CSV")
                    lines.append(number)
            except CaptureFormatError as exc:
                raise AnalyzerError(f"{path}: {exc}") from None
        origins.append(Origins([str(path)], np.zeros(len(lines), np.int32), np.asarray(lines)))
    return Labels(np.asarray(ids, dtype=str), data, encodings, Origins.concat(origins))


def read_captures(sources, start_time=None, end_time=None) -> Captures:
    """Captured records whose ``inferenceTime`` lies in ``[start_time, end_time)``.

    Raises:
        AnalyzerError: a malformed line, a record without ``endpointOutput`` or with an
            unreadable ``inferenceTime``, naming file and line.
    """
    keys, times, outputs, encodings, origins = [], [], [], [], []
    shadow = 0
    for path in _files(sources):
        lines = []
        with path.open("rb") as handle:
            try:
                for number, record in iter_lines(handle, source=str(path)):
                    if is_shadow(record):
                        shadow += 1
                        continue
                    meta = record.get("eventMetadata") or {}
                    output = payloads(record).get(OUTPUT)
                    if output is None:
                        raise AnalyzerError(
                            f"{path} line {number}: no endpointOutput (model quality needs "
                            "the captured prediction: capture Output)"
                        )
                    keys.append(str(meta.get("inferenceId") or meta.get("eventId") or ""))
                    times.append(str(meta.get("inferenceTime") or "")[:19])
                    outputs.append(decode_text(output))
                    encodings.append("JSON" if output.get("encoding") == "JSON" else "CSV")
                    lines.append(number)
            except CaptureFormatError as exc:
                raise AnalyzerError(f"{path}: {exc}") from None
        origins.append(Origins([str(path)], np.zeros(len(lines), np.int32), np.asarray(lines)))
    origin = Origins.concat(origins)
    keep = np.ones(len(keys), dtype=bool)
    start, end = _time(start_time), _time(end_time)
    if (start is not None or end is not None) and keys:
        try:
            stamps = np.asarray(times, dtype="datetime64[s]")
        except ValueError:
            bad = next(i for i, t in enumerate(times) if not _valid_time(t))
            raise AnalyzerError(
                f"{origin.where(bad)}: inferenceTime {times[bad]!r} is not a UTC time"
            ) from None
        if start is not None:
            keep &= stamps >= start
        if end is not None:
            keep &= stamps < end
    rows = np.flatnonzero(keep)
    return Captures(
        keys=np.asarray(keys, dtype=str)[rows],
        outputs=[outputs[i] for i in rows] if len(rows) != len(outputs) else outputs,
        encodings=[encodings[i] for i in rows] if len(rows) != len(encodings) else encodings,
        origins=origin.take(rows) if len(origin) else origin,
        outside_window=int(len(keys) - len(rows)),
        shadow=shadow,
    )


def _valid_time(text: str) -> bool:
    try:
        np.datetime64(text, "s")
    except ValueError:
        return False
    return True


def join(captures: Captures, labels: Labels) -> MergeResult:
    """Join captured records to labels on the key (vectorised; the last duplicate label wins)."""
    n_labels = len(labels.ids)
    # last occurrence of every label id: unique over the reversed array
    unique_ids, first_in_reversed = np.unique(labels.ids[::-1], return_index=True)
    last = n_labels - 1 - first_in_reversed
    if len(unique_ids):
        pos = np.searchsorted(unique_ids, captures.keys)
        pos_clipped = np.minimum(pos, len(unique_ids) - 1)
        found = unique_ids[pos_clipped] == captures.keys
    else:
        pos_clipped = np.zeros(len(captures.keys), dtype=np.int64)
        found = np.zeros(len(captures.keys), dtype=bool)
    rows = np.flatnonzero(found)
    label_rows = last[pos_clipped[rows]]
    used = np.zeros(len(unique_ids), dtype=bool)
    used[pos_clipped[rows]] = True
    return MergeResult(
        keys=captures.keys[rows],
        outputs=[captures.outputs[i] for i in rows.tolist()],
        output_encodings=[captures.encodings[i] for i in rows.tolist()],
        labels=[labels.data[i] for i in label_rows.tolist()],
        label_encodings=[labels.encodings[i] for i in label_rows.tolist()],
        origins=captures.origins.take(rows),
        captured=len(captures.keys),
        ground_truth=n_labels,
        unmatched_captures=int(len(captures.keys) - len(rows)),
        unused_labels=int(len(unique_ids) - used.sum()),
        duplicate_labels=int(n_labels - len(unique_ids)),
        outside_window=captures.outside_window,
    )


def merge(capture_source, ground_truth_source, start_time=None, end_time=None) -> MergeResult:
    """Read the window's captured records and the ground truth, and join them.

    Args:
        capture_source: capture files (a file, a folder, or a list of them).
        ground_truth_source: ground-truth files (same forms).
        start_time: window start (inclusive), ISO text or datetime; None: unbounded.
        end_time: window end (exclusive).

    Returns:
        The merged rows and the counts.

    Raises:
        NoDataError: no capture or no ground-truth file.
        AnalyzerError: a malformed record (file and line named).
    """
    captures = read_captures(capture_source, start_time, end_time)
    labels = read_ground_truth(ground_truth_source)
    return join(captures, labels)


def describe_no_match(result: MergeResult, sources: tuple[str | Path, str | Path]) -> str:
    """The failure text when no captured record found a label."""
    return (
        "Job inputs had no data: no captured record in the window has a ground-truth label "
        f"({result.captured} captured records in {sources[0]}, {result.ground_truth} "
        f"ground-truth records in {sources[1]}; labels join on eventMetadata.inferenceId, "
        "else eventId)"
    )


__all__ = [
    "Captures",
    "Labels",
    "MergeResult",
    "describe_no_match",
    "join",
    "merge",
    "read_captures",
    "read_ground_truth",
]
