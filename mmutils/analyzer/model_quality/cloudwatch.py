"""CloudWatch metric records of a model-quality monitoring execution.

[EX] The real executions published one metric per scalar metric of the statistics block,
named exactly like it (``f2``, ``auc``, ``true_positive_rate``, ``f1_best_constant_classifier``…;
17 for a binary classifier with probabilities — no confusion matrix, no curves), in the
namespace ``aws/sagemaker/Endpoints/model-metrics`` with dimensions ``Endpoint`` and
``MonitoringSchedule``. The records are PutMetricData datums, one JSON object per line, in the
container's metrics directory (file name UNCONFIRMED; the data-quality analyzer's is reused).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path

from mmutils.analyzer.model_quality.documents import metrics_block
from mmutils.analyzer.model_quality.metrics import is_finite, scalar_metrics

NAMESPACE = "aws/sagemaker/Endpoints/model-metrics"
#: UNCONFIRMED spelling (by analogy with data quality's batch-transform namespace)
BATCH_NAMESPACE = "aws/sagemaker/ModelMonitoring/model-metrics"
METRICS_FILE = "cloudwatch_metrics.jsonl"


def _timestamp(value: str | dt.datetime | None) -> str:
    if isinstance(value, dt.datetime):
        moment = value
    elif value:
        moment = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    else:
        moment = dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def metric_records(
    statistics: Mapping,
    problem_type: str,
    *,
    endpoint_name: str | None = None,
    schedule_name: str | None = None,
    timestamp: str | dt.datetime | None = None,
) -> list[dict]:
    """One datum per finite scalar metric, in the statistics block's order.

    Args:
        statistics: the execution's statistics document.
        problem_type: its problem type.
        endpoint_name: ``Endpoint`` dimension value.
        schedule_name: ``MonitoringSchedule`` dimension value.
        timestamp: the datums' time (the window's end); now when None.

    Returns:
        ``{"MetricName", "Timestamp", "Dimensions", "Value"}`` dicts.
    """
    stamp = _timestamp(timestamp)
    dims = [
        {"Name": name, "Value": value}
        for name, value in (("Endpoint", endpoint_name), ("MonitoringSchedule", schedule_name))
        if value
    ]
    return [
        {"MetricName": name, "Timestamp": stamp, "Dimensions": dims, "Value": float(entry["value"])}
        for name, entry in scalar_metrics(metrics_block(statistics, problem_type)).items()
        if is_finite(entry.get("value"))
    ]


def write_metrics(directory: str | Path, records: list[dict]) -> Path | None:
    """Write the datums as JSON lines into ``directory``; returns the file (None if no records)."""
    if not records:
        return None
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / METRICS_FILE
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))
    tmp.replace(path)
    return path
