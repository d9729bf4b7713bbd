"""Ground-truth records and their S3 layout (docs/model-quality-formats.md §2).

One JSON object per line of a ``.jsonl`` file::

    {"groundTruthData": {"data": "1", "encoding": "CSV"},
     "eventMetadata": {"eventId": "<InferenceId, else the capture's eventId>"},
     "eventVersion": "0"}

filed under ``{ground_truth_s3_uri}/yyyy/mm/dd/HH/`` — the hour the labels were *collected*,
not the hour of the inference. The AWS example names its files ``%M%S.jsonl``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

from mmutils.formats.capture_key import hour_folder
from mmutils.formats.s3uri import join


def record(event_id: str, label, *, encoding: str = "CSV") -> dict:
    """One ground-truth record: ``label`` (text) for the inference ``event_id``."""
    if event_id in (None, ""):
        raise ValueError("a ground-truth record needs the InferenceId (or eventId) it labels")
    return {
        "groundTruthData": {"data": str(label), "encoding": encoding},
        "eventMetadata": {"eventId": str(event_id)},
        "eventVersion": "0",
    }


def lines(event_ids: Iterable[str], labels: Iterable) -> str:
    """The records of paired ids and labels as JSON-lines text (one per line).

    Raises:
        ValueError: ``event_ids`` and ``labels`` differ in length, or an id is empty.
    """
    ids, values = list(event_ids), list(labels)
    if len(ids) != len(values):
        raise ValueError(f"{len(ids)} inference ids but {len(values)} labels")
    return "".join(
        json.dumps(record(i, v), separators=(",", ":")) + "\n"
        for i, v in zip(ids, values, strict=True)
    )


def file_key(prefix: str, collected: dt.datetime) -> str:
    """``{prefix}/yyyy/mm/dd/HH/MMSS.jsonl`` for labels collected at ``collected`` (UTC)."""
    if collected.tzinfo is not None:
        collected = collected.astimezone(dt.UTC)
    return join(prefix, hour_folder(collected), f"{collected:%M%S}.jsonl")


__all__ = ["file_key", "lines", "record"]
