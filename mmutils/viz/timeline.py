"""Violations across monitoring executions: counts per check type, features × executions.

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
            SDK ``MonitoringExecution`` objects.

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


def violations_by_feature(executions: Any, *, values: str = "count") -> pd.DataFrame:
    """Features (rows, sorted) × executions (columns, by scheduled time).

    Args:
        executions: as for :func:`plot_violations_over_time`.
        values: ``"count"`` — number of violations (int, 0 when none); ``"checks"`` — the
            violated check types joined with ``", "`` (empty string when none).

    Returns:
        A DataFrame indexed by feature name with one column per execution time.
    """
    if values not in ("count", "checks"):
        raise ValueError(f"values must be 'count' or 'checks', got {values!r}")
    runs = as_executions(executions)
    features = sorted({v["feature_name"] for run in runs for v in run.violations})
    columns = pd.DatetimeIndex([run.scheduled_time for run in runs], name="scheduled_time")
    data = {}
    for i, run in enumerate(runs):
        per_feature: dict[str, list[str]] = {}
        for v in run.violations:
            per_feature.setdefault(v["feature_name"], []).append(v["constraint_check_type"])
        if values == "count":
            data[i] = [len(per_feature.get(f, [])) for f in features]
        else:
            data[i] = [", ".join(_check_order(per_feature.get(f, []))) for f in features]
    df = pd.DataFrame(data, index=pd.Index(features, name="feature"))
    df.columns = columns
    return df
