"""Violations across monitoring executions: counts per check type, features × executions.

Data-quality and model-quality executions alike: a data-quality violation names a
``feature_name`` and a check type (``baseline_drift_check``…), a model-quality one a
``metric_name`` and the comparison it failed (``LessThanThreshold``…;
docs/model-quality-formats.md). The metric values over time are in
:mod:`mmutils.viz.model_quality`.

An *execution* is given either as a ``(scheduled_time, violations)`` pair — violations being
a constraint_violations document in any form, its list, or ``None`` — or as the SDK's
``MonitoringExecution`` (from ``monitor.list_executions()``), whose report folder
``…/yyyy/mm/dd/HH`` gives the scheduled hour and whose ``constraint_violations()`` gives the
document (``None`` when the execution wrote none). They are read by
:func:`mmutils.lab.executions.as_executions`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
from matplotlib.ticker import MaxNLocator

from mmutils.formats.reports import CHECK_TYPES
from mmutils.lab.executions import as_executions
from mmutils.viz.figure import Figure

#: Fixed colours per check type so that every chart of the lab uses the same ones.
CHECK_COLOURS = {
    "data_type_check": "tab:blue",
    "completeness_check": "tab:orange",
    "baseline_drift_check": "tab:red",
    "categorical_values_check": "tab:purple",
    "missing_column_check": "tab:brown",
    "extra_column_check": "tab:gray",
    # model quality: the comparison operator a metric failed
    "LessThanThreshold": "tab:cyan",
    "GreaterThanThreshold": "tab:pink",
    "NotEqualToThreshold": "tab:green",
}


def _check_order(found: Iterable[str]) -> list[str]:
    known = [c for c in CHECK_TYPES if c in found]
    return known + sorted(set(found) - set(CHECK_TYPES))


def violation_counts(executions: Any) -> pd.DataFrame:
    """Number of violations per check type (columns) per execution (rows, by scheduled time)."""
    runs = as_executions(executions)
    counts = [run.check_counts() for run in runs]
    columns = _check_order({c for row in counts for c in row})
    index = pd.DatetimeIndex([run.scheduled_time for run in runs], name="scheduled_time")
    return pd.DataFrame(counts, index=index, columns=columns).fillna(0).astype(int)


def plot_violations_over_time(executions: Any) -> Figure:
    """Stacked bars: violations per check type for each execution, oldest left.

    Args:
        executions: ``(scheduled_time, violations)`` pairs, a ``{time: violations}`` dict, or
            SDK ``MonitoringExecution`` objects, of a data-quality or a model-quality schedule
            (model-quality bars stack by the comparison failed, e.g. ``LessThanThreshold``).

    Returns:
        A Figure with one axes; bars are labelled with the scheduled time (UTC) and topped
        with the execution's total; executions without violations show as an empty slot
        labelled 0.
    """
    counts = violation_counts(executions)
    fig = Figure(figsize=(max(6.0, 0.6 * len(counts) + 2), 4.5), layout="constrained")
    ax = fig.subplots()
    positions = list(range(len(counts)))
    bottom = pd.Series(0, index=counts.index)
    for check in counts.columns:
        ax.bar(positions, counts[check], bottom=bottom, label=check,
               color=CHECK_COLOURS.get(check, "tab:olive"), width=0.7)  # fmt: skip
        bottom = bottom + counts[check]
    for x, total in zip(positions, bottom, strict=True):
        ax.annotate(str(int(total)), (x, total), ha="center", va="bottom", fontsize="small",
                    xytext=(0, 2), textcoords="offset points")  # fmt: skip
    ax.set_xticks(positions)
    ax.set_xticklabels(
        [t.strftime("%Y-%m-%d %H:%M") for t in counts.index], rotation=45, ha="right"
    )
    ax.set_xlabel("scheduled time (UTC)")
    ax.set_ylabel("violations")
    ax.set_title("Constraint violations per monitoring execution")
    ax.margins(y=0.12)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    if len(counts.columns):
        ax.legend(title="check", fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def _named(violation: dict) -> str:
    """What a violation is about: its feature (data quality) or metric (model quality)."""
    return violation["metric_name"] if "metric_name" in violation else violation["feature_name"]


def violations_by_feature(executions: Any, *, values: str = "count") -> pd.DataFrame:
    """Features or metrics (rows, sorted) × executions (columns, by scheduled time).

    Args:
        executions: as for :func:`plot_violations_over_time`, of data-quality or of
            model-quality schedules (not both in one call).
        values: ``"count"`` — number of violations (int, 0 when none); ``"checks"`` — the
            violated check types joined with ``", "`` (empty string when none).

    Returns:
        A DataFrame with one column per execution time, indexed by feature name (index name
        ``"feature"``) for data-quality violations, by metric name (``"metric"``) for
        model-quality ones.

    Raises:
        ValueError: ``values`` is unknown, or the executions mix data-quality and
            model-quality violations.
    """
    if values not in ("count", "checks"):
        raise ValueError(f"values must be 'count' or 'checks', got {values!r}")
    runs = as_executions(executions)
    kinds = {"metric" if "metric_name" in v else "feature" for run in runs for v in run.violations}
    if len(kinds) > 1:
        raise ValueError(
            "the executions mix data-quality violations (feature_name) and model-quality "
            "violations (metric_name): pass the executions of one schedule"
        )
    index_name = kinds.pop() if kinds else "feature"
    names = sorted({_named(v) for run in runs for v in run.violations})
    columns = pd.DatetimeIndex([run.scheduled_time for run in runs], name="scheduled_time")
    data = {}
    for i, run in enumerate(runs):
        per_name: dict[str, list[str]] = {}
        for v in run.violations:
            per_name.setdefault(_named(v), []).append(v["constraint_check_type"])
        if values == "count":
            data[i] = [len(per_name.get(n, [])) for n in names]
        else:
            data[i] = [", ".join(_check_order(per_name.get(n, []))) for n in names]
    df = pd.DataFrame(data, index=pd.Index(names, name=index_name))
    df.columns = columns
    return df
