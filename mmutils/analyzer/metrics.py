"""CloudWatch metric records of a monitoring execution (spec §G).

The container writes PutMetricData datums, one JSON object per line, into the metrics
directory (``/opt/ml/output/metrics/cloudwatch/``); SageMaker publishes them to the namespace
``aws/sagemaker/Endpoints/data-metrics`` (the emulator does the same). Per feature:

* ``feature_data_{name}`` (numeric features): ``StatisticValues`` SampleCount / Sum / Minimum /
  Maximum of the window;
* ``feature_non_null_{name}``: completeness of the window (non-null share, 0..1);
* ``feature_baseline_drift_{name}``: the drift distance against the baseline.

Written only when ``publish_cloudwatch_metrics`` is ``Enabled`` and the constraints'
``emit_metrics`` is ``Enabled`` (a feature can opt out through its monitoring-config override).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from mmutils.analyzer.checks import feature_overrides, monitoring_config, present_missing
from mmutils.analyzer.jsonfmt import write_text_atomic

#: file name inside the metrics directory (the name AWS's own BYOC example uses)
METRICS_FILE = "cloudwatch_metrics.jsonl"
NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"


def _timestamp(value: str | datetime | None) -> str:
    if isinstance(value, datetime):
        moment = value
    elif value:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    else:
        moment = datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _enabled(value) -> bool:
    return str(value).lower() in ("enabled", "true")


def metric_records(
    statistics: Mapping,
    drift: Mapping[str, float],
    constraints: Mapping | None = None,
    *,
    endpoint_name: str | None = None,
    schedule_name: str | None = None,
    timestamp: str | datetime | None = None,
) -> list[dict]:
    """The metric datums of one execution, in feature order.

    Args:
        statistics: the window's statistics.json document.
        drift: drift distance per feature (from the checks).
        constraints: the baseline constraints (for ``emit_metrics`` and per-feature overrides).
        endpoint_name: ``Endpoint`` dimension value.
        schedule_name: ``MonitoringSchedule`` dimension value.
        timestamp: the datums' time (the window's ``end_time``); now when None.

    Returns:
        PutMetricData datums as dicts (``MetricName``, ``Timestamp``, ``Dimensions``, and
        ``Value`` or ``StatisticValues``).
    """
    constraints = constraints or {}
    if not _enabled(monitoring_config(constraints)["emit_metrics"]):
        return []
    muted = {
        f["name"]
        for f in constraints.get("features", [])
        if str(feature_overrides(f).get("emit_metrics", "Enabled")).lower() == "disabled"
    }
    stamp = _timestamp(timestamp)
    dims = [
        {"Name": name, "Value": value}
        for name, value in (("Endpoint", endpoint_name), ("MonitoringSchedule", schedule_name))
        if value
    ]

    def datum(metric: str, **value) -> dict:
        return {"MetricName": metric, "Timestamp": stamp, "Dimensions": dims, **value}

    records = []
    for feature in statistics.get("features", []):
        name = feature["name"]
        if name in muted:
            continue
        num = feature.get("numerical_statistics")
        present, missing = present_missing(feature)
        if num and present:
            values = [num.get("sum"), num.get("min"), num.get("max")]
            if all(isinstance(v, int | float) and math.isfinite(v) for v in values):
                records.append(
                    datum(
                        f"feature_data_{name}",
                        StatisticValues={
                            "SampleCount": float(present),
                            "Sum": float(num["sum"]),
                            "Minimum": float(num["min"]),
                            "Maximum": float(num["max"]),
                        },
                    )
                )
        if present + missing:
            records.append(datum(f"feature_non_null_{name}", Value=present / (present + missing)))
        distance = drift.get(name)
        if distance is not None and math.isfinite(distance):
            records.append(datum(f"feature_baseline_drift_{name}", Value=float(distance)))
    return records


def write_metrics(directory: str | Path, records: list[dict]) -> Path | None:
    """Write the datums as JSON lines into ``directory``; returns the file (None if no records)."""
    if not records:
        return None
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / METRICS_FILE
    text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
    return write_text_atomic(path, text)
