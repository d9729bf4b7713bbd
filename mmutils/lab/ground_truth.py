"""Labelled traffic and ground truth for the model-quality notebook.

Model quality joins each captured prediction with the label that arrives later. The notebook
needs three things beyond the SDK:

* :func:`send_with_ids` — traffic whose requests carry an ``InferenceId`` (the join key), with
  the model's answers kept;
* :func:`upload_ground_truth` — labels uploaded in the service's format and layout
  (:mod:`mmutils.formats.ground_truth`: ``{uri}/yyyy/mm/dd/HH/MMSS.jsonl``, the hour the labels
  were collected, on the session's clock);
* :func:`baseline_csv` and :func:`shift_labels` — the labelled baseline dataset
  (``probability,prediction,label``) and a deterministic concept drift (labels that change
  while the inputs stay the same).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from mmutils.formats import ground_truth, s3uri
from mmutils.lab import traffic
from mmutils.lab.notebook import _parse_iso

BASELINE_HEADER = "probability,prediction,label"


def read_labelled_csv(path) -> tuple[list[int], list[str]]:
    """``(labels, feature rows)`` of a CSV whose first column is the label (no header).

    Raises:
        ValueError: a line without features or with a label that is not an integer,
            naming the file and line.
    """
    labels, rows = [], []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line:
                continue
            label, _, features = line.partition(",")
            if not features or not label.strip().lstrip("-").isdigit():
                raise ValueError(f"{path} line {number}: expected 'label,feature,…'")
            labels.append(int(label))
            rows.append(features)
    return labels, rows


def send_with_ids(
    predictor, rows: Sequence[str], ids: Sequence[str], *, session=None, spread_over=None,
    desc: str = "traffic", progress: bool = True,
) -> tuple[list[float], traffic.TrafficResult]:  # fmt: skip
    """Send one request per row with its ``InferenceId``; returns the answers and the run.

    Args:
        predictor: a ``sagemaker.predictor.Predictor`` with a CSV serializer.
        rows: CSV feature rows.
        ids: one ``InferenceId`` per row (what the ground truth will name).
        session: the connected session (spreads the requests over emulated time).
        spread_over: emulated duration of the run (``"30m"``), see :func:`traffic.send`.
        desc: the progress bar's label.
        progress: draw a progress bar.

    Returns:
        The model's probability for every row sent (in order), and the traffic result.

    Raises:
        ValueError: ``rows`` and ``ids`` differ in length.
        RuntimeError: a request failed (the probabilities would not line up with the ids).
    """
    if len(rows) != len(ids):
        raise ValueError(f"{len(rows)} rows but {len(ids)} inference ids")
    answers: list[float] = []
    pending = iter(ids)

    def predict(row: str):
        answer = predictor.predict(row, inference_id=next(pending))
        text = answer.decode() if isinstance(answer, bytes) else str(answer)
        answers.append(float(text.strip().split(",")[0]))
        return answer

    result = traffic.send(
        predict, list(rows), session=session, spread_over=spread_over, desc=desc,
        progress=progress,
    )  # fmt: skip
    if result.errors:
        raise RuntimeError(f"{result.errors} of {result.sent} requests failed: {result.last_error}")
    return answers, result


def session_time(session) -> dt.datetime:
    """The session's clock: the emulator's, or real UTC on a live account."""
    emulator = getattr(session, "emulator", None)
    if emulator is None:
        return dt.datetime.now(dt.UTC)
    return _parse_iso(emulator.clock()["now"])


def upload_ground_truth(
    session, uri: str, ids: Sequence[str], labels: Sequence, *, collected: dt.datetime | None = None
) -> str:
    """Upload labels for inference ids as one ground-truth file; returns its S3 URI.

    Args:
        session: the connected session (its S3 client, and its clock for the hour folder).
        uri: the schedule's ``ground_truth_input`` (``s3://bucket/prefix``).
        ids: the ``InferenceId`` of each labelled request.
        labels: the label of each (``0``/``1`` for the churn model).
        collected: when the labels were collected (default: the session's clock now).
    """
    when = collected or session_time(session)
    bucket, prefix = s3uri.split(uri)
    key = ground_truth.file_key(prefix, when)
    body = ground_truth.lines(ids, labels).encode("utf-8")
    session.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
    return s3uri.uri(bucket, key)


def baseline_csv(probabilities: Sequence[float], labels: Sequence, threshold: float = 0.5) -> str:
    """The labelled baseline dataset: ``probability,prediction,label`` rows with a header.

    ``prediction`` is ``probability > threshold`` (as the schedule's
    ``probability_threshold_attribute`` will decide it).
    """
    if len(probabilities) != len(labels):
        raise ValueError(f"{len(probabilities)} probabilities but {len(labels)} labels")
    lines = [BASELINE_HEADER]
    lines += [
        f"{p},{int(p > threshold)},{int(y)}" for p, y in zip(probabilities, labels, strict=True)
    ]
    return "\n".join(lines) + "\n"


def shift_labels(labels: Sequence[int], fraction: float, seed: int) -> list[int]:
    """Concept drift: flip a seeded ``fraction`` of binary labels (the inputs stay the same).

    Raises:
        ValueError: ``fraction`` outside [0, 1].
    """
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be within [0, 1], got {fraction}")
    values = np.asarray(labels, dtype=int)
    flip = np.random.default_rng(seed).random(len(values)) < fraction
    return [int(v) for v in np.where(flip, 1 - values, values)]


__all__ = [
    "BASELINE_HEADER",
    "baseline_csv",
    "read_labelled_csv",
    "send_with_ids",
    "session_time",
    "shift_labels",
    "upload_ground_truth",
]
