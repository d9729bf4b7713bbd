"""The ground-truth merge job's output: one JSON line per captured record that found its label.

On AWS an execution of a model-quality schedule runs two processing jobs: the ground-truth
merge (image ``sagemaker-model-monitor-groundtruth-merger``) writes the joined records to its
``result`` output, and the model-quality analysis reads them with
``dataset_format={"sagemakerMergeJson": …}`` (docs/model-quality-formats.md §1). The merged
file's layout is UNCONFIRMED; mmlab writes, one record per line::

    {"captureData": {"endpointOutput": {"data": "0.93", "encoding": "CSV"}},
     "groundTruthData": {"data": "1", "encoding": "CSV"},
     "eventMetadata": {"eventId": "<join key>"}, "eventVersion": "0"}

and a ``merge-summary.json`` beside it with the counts (captured, unmatched, unused labels…).
:func:`read_merged` rebuilds the :class:`~mmutils.analyzer.model_quality.merge.MergeResult` the
analysis needs, naming the file and line of a malformed record.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mmutils.analyzer import jsonfmt
from mmutils.analyzer.errors import AnalyzerError, NoDataError
from mmutils.analyzer.model_quality.columns import Origins
from mmutils.analyzer.model_quality.dataset import dataset_files
from mmutils.analyzer.model_quality.merge import MergeResult
from mmutils.formats.capture_record import CaptureFormatError, decode_text, iter_lines

MERGED_FILE = "merged-records.jsonl"
SUMMARY_FILE = "merge-summary.json"
#: the dataset_format of the analysis job that reads the merge (UNCONFIRMED options)
MERGE_DATASET_FORMAT = {"sagemakerMergeJson": {"captureIndexNames": ["endpointOutput"]}}


def merged_lines(result: MergeResult) -> list[str]:
    """The merged records as JSON lines (compact, in capture order)."""
    lines = []
    for key, output, out_enc, label, label_enc in zip(
        result.keys.tolist(),
        result.outputs,
        result.output_encodings,
        result.labels,
        result.label_encodings,
        strict=True,
    ):
        record = {
            "captureData": {"endpointOutput": {"data": output, "encoding": out_enc}},
            "groundTruthData": {"data": label, "encoding": label_enc},
            "eventMetadata": {"eventId": key},
            "eventVersion": "0",
        }
        lines.append(json.dumps(record, separators=(",", ":")) + "\n")
    return lines


def write_merged(result: MergeResult, output_dir: str | Path) -> list[Path]:
    """Write the merged records and the counts into ``output_dir``; returns the files."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = out / MERGED_FILE
    jsonfmt.write_text_atomic(data, "".join(merged_lines(result)))
    summary = out / SUMMARY_FILE
    jsonfmt.write_text_atomic(summary, json.dumps(result.summary(), indent=2) + "\n")
    return [data, summary]


def _field(record: dict, path: tuple[str, ...], where: str) -> dict:
    value = record
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    if not isinstance(value, dict):
        raise AnalyzerError(f"{where}: not a merged record (no {'.'.join(path)})")
    return value


def read_merged(source: str | Path) -> MergeResult:
    """The merged records of a merge job's output (a file or a folder of them).

    ``merge-summary.json`` files are skipped (their counts are read when present).

    Raises:
        NoDataError: no merged file, or no record in them.
        AnalyzerError: a line that is not a merged record (file and line named).
    """
    files = [p for p in dataset_files(source) if p.name != SUMMARY_FILE]
    if not files:
        raise NoDataError()
    keys, outputs, out_enc, labels, label_enc, origins = [], [], [], [], [], []
    for path in files:
        lines = []
        with path.open("rb") as handle:
            try:
                for number, record in iter_lines(handle, source=str(path)):
                    where = f"{path} line {number}"
                    output = _field(record, ("captureData", "endpointOutput"), where)
                    truth = _field(record, ("groundTruthData",), where)
                    meta = record.get("eventMetadata") or {}
                    keys.append(str(meta.get("eventId") or ""))
                    outputs.append(decode_text(output))
                    out_enc.append("JSON" if output.get("encoding") == "JSON" else "CSV")
                    labels.append(decode_text(truth))
                    label_enc.append("JSON" if truth.get("encoding") == "JSON" else "CSV")
                    lines.append(number)
            except CaptureFormatError as exc:
                raise AnalyzerError(f"{path}: {exc}") from None
        origins.append(Origins([str(path)], np.zeros(len(lines), np.int32), np.asarray(lines)))
    if not keys:
        raise NoDataError()
    counts = _summary_counts(source)
    return MergeResult(
        keys=np.asarray(keys, dtype=str),
        outputs=outputs,
        output_encodings=out_enc,
        labels=labels,
        label_encodings=label_enc,
        origins=Origins.concat(origins),
        captured=counts.get("captured", len(keys)),
        ground_truth=counts.get("ground_truth", 0),
        unmatched_captures=counts.get("unmatched_captures", 0),
        unused_labels=counts.get("unused_labels", 0),
        duplicate_labels=counts.get("duplicate_labels", 0),
        outside_window=counts.get("outside_window", 0),
    )


def _summary_counts(source: str | Path) -> dict[str, int]:
    path = Path(source)
    summary = path / SUMMARY_FILE if path.is_dir() else path.with_name(SUMMARY_FILE)
    if not summary.is_file():
        found = sorted(path.rglob(SUMMARY_FILE)) if path.is_dir() else []
        if not found:
            return {}
        summary = found[0]
    try:
        doc = json.loads(summary.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return {k: int(v) for k, v in doc.items() if isinstance(v, int)}


__all__ = [
    "MERGED_FILE",
    "MERGE_DATASET_FORMAT",
    "SUMMARY_FILE",
    "merged_lines",
    "read_merged",
    "write_merged",
]
