"""Baseline-drift metrics over time: read them from CloudWatch, plot them against a threshold.

Monitoring executions with CloudWatch metrics enabled publish ``feature_baseline_drift_{name}``
(the drift distance of each feature) in namespace ``aws/sagemaker/Endpoints/data-metrics``
with dimensions ``Endpoint`` and ``MonitoringSchedule`` (spec §G).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import matplotlib.dates as mdates
import pandas as pd

from mmutils.viz.figure import Figure

NAMESPACE = "aws/sagemaker/Endpoints/data-metrics"
DRIFT_PREFIX = "feature_baseline_drift_"
#: GetMetricStatistics returns at most this many datapoints per call.
_MAX_DATAPOINTS = 1440


def _dimensions(endpoint: str, schedule: str) -> list[dict]:
    return [
        {"Name": "Endpoint", "Value": endpoint},
        {"Name": "MonitoringSchedule", "Value": schedule},
    ]


def list_drift_features(cloudwatch_client: Any, endpoint: str, schedule: str) -> list[str]:
    """Names of the features that have a ``feature_baseline_drift_*`` metric, sorted.

    ``list_metrics`` may list a metric more than once (moto does, once per datapoint), so
    names are de-duplicated. Metrics whose dimensions are not exactly this endpoint and
    schedule are ignored.
    """
    wanted = {("Endpoint", endpoint), ("MonitoringSchedule", schedule)}
    names: set[str] = set()
    kwargs: dict[str, Any] = {"Namespace": NAMESPACE, "Dimensions": _dimensions(endpoint, schedule)}
    while True:
        page = cloudwatch_client.list_metrics(**kwargs)
        for metric in page.get("Metrics", []):
            name = metric["MetricName"]
            dims = {(d["Name"], d["Value"]) for d in metric.get("Dimensions", [])}
            if name.startswith(DRIFT_PREFIX) and dims == wanted:
                names.add(name[len(DRIFT_PREFIX) :])
        token = page.get("NextToken")
        if not token:
            return sorted(names)
        kwargs["NextToken"] = token


def _period(start: datetime, end: datetime) -> int:
    """The finest period (a multiple of 60 s) that keeps one call under the datapoint limit."""
    seconds = max((end - start).total_seconds(), 60)
    return max(60, math.ceil(seconds / _MAX_DATAPOINTS / 60) * 60)


def fetch_drift_metrics(
    cloudwatch_client: Any,
    endpoint: str,
    schedule: str,
    start: datetime,
    end: datetime,
    features: Iterable[str] | None = None,
    *,
    period: int | None = None,
    statistic: str = "Maximum",
) -> dict[str, list[tuple[datetime, float]]]:
    """Read ``feature_baseline_drift_*`` datapoints of a schedule from CloudWatch.

    Args:
        cloudwatch_client: a boto3 CloudWatch client (e.g. ``lab.client("cloudwatch")``).
        endpoint: the monitored endpoint's name.
        schedule: the monitoring schedule's name.
        start: first time to read (inclusive).
        end: last time to read (exclusive).
        features: feature names to read; ``None`` reads every feature with a drift metric.
        period: aggregation period in seconds; default: the finest multiple of 60 that fits
            the window into one request.
        statistic: CloudWatch statistic per period. ``Maximum`` equals the value an execution
            published when a period holds one execution (hourly schedules) and does not add up
            two executions that share a period, as ``Sum`` would.

    Returns:
        ``{feature: [(timestamp, value), …]}`` sorted by time; features are sorted by name and
        include those with no datapoint in the window (empty list).
    """
    names = sorted(features) if features is not None else list_drift_features(
        cloudwatch_client, endpoint, schedule
    )  # fmt: skip
    period = period or _period(start, end)
    out: dict[str, list[tuple[datetime, float]]] = {}
    for name in names:
        resp = cloudwatch_client.get_metric_statistics(
            Namespace=NAMESPACE,
            MetricName=DRIFT_PREFIX + name,
            Dimensions=_dimensions(endpoint, schedule),
            StartTime=start,
            EndTime=end,
            Period=period,
            Statistics=[statistic],
        )
        points = [(p["Timestamp"], float(p[statistic])) for p in resp.get("Datapoints", [])]
        out[name] = sorted(points, key=lambda p: p[0])
    return out


def plot_drift_metrics(
    datapoints_by_feature: Mapping[str, Iterable[tuple[Any, float]]],
    threshold: float | None = 0.1,
) -> Figure:
    """Line chart of drift distance over time per feature, with the violation threshold.

    Args:
        datapoints_by_feature: ``{feature: [(timestamp, value), …]}``, e.g. from
            :func:`fetch_drift_metrics`.
        threshold: the constraints' ``comparison_threshold``; drawn as a dashed line, and
            points above it are ringed in red. ``None`` draws no threshold.

    Returns:
        A Figure with one axes: one line per feature (sorted by name, fixed colour order),
        a legend, and a time axis in UTC.
    """
    fig = Figure(figsize=(9, 4.5), layout="constrained")
    ax = fig.subplots()
    colours = [f"C{i}" for i in range(10)]
    above_x: list = []
    above_y: list[float] = []
    for i, name in enumerate(sorted(datapoints_by_feature)):
        points = sorted(datapoints_by_feature[name], key=lambda p: pd.Timestamp(p[0]))
        if not points:
            continue
        times = [_utc(t) for t, _ in points]
        values = [float(v) for _, v in points]
        ax.plot(times, values, marker="o", markersize=4, label=name,
                color=colours[i % len(colours)], linestyle="-" if i < 10 else "--")  # fmt: skip
        if threshold is not None:
            for t, v in zip(times, values, strict=True):
                if v > threshold:
                    above_x.append(t)
                    above_y.append(v)
    if threshold is not None:
        ax.axhline(threshold, color="black", linestyle="--", linewidth=1,
                   label=f"threshold {threshold:g}")  # fmt: skip
    if above_x:
        ax.scatter(above_x, above_y, s=90, facecolors="none", edgecolors="red", linewidths=1.5,
                   label="above threshold", zorder=3)  # fmt: skip
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("time (UTC)")
    ax.set_ylabel("drift distance")
    ax.set_ylim(bottom=0)
    ax.set_title("Baseline drift per feature")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def _utc(value: Any) -> datetime:
    """A naive UTC datetime (matplotlib's date axis is UTC by default)."""
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts.to_pydatetime()
