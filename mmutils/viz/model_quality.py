"""Model-quality documents as tables and charts: metrics vs thresholds, over time, and curves.

A model-quality ``statistics.json`` holds one block — ``binary_classification_metrics``,
``multiclass_classification_metrics`` or ``regression_metrics`` — of ``{"value",
"standard_deviation"}`` entries, plus (binary) the confusion matrix and the ROC and PR curves;
``constraints.json`` holds ``{metric: {"threshold", "comparison_operator"}}``
(docs/model-quality-formats.md). Documents come in any form :mod:`mmutils.formats.reports`
loads (dict, path, JSON text, SDK ``Statistics``/``Constraints``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mmutils.formats import capture_key
from mmutils.formats.reports import DocumentError, load_document
from mmutils.viz.figure import Figure

DEFAULT_METRICS = ("accuracy", "auc", "f1", "precision", "recall")
OPERATOR_SYMBOLS = {"LessThanThreshold": "<", "GreaterThanThreshold": ">"}


def _block(document: Any, suffix: str, what: str) -> dict:
    doc = load_document(document, what=what)
    if doc is None:
        raise DocumentError(f"no {what} document")
    for key, value in doc.items():
        if key.endswith(suffix) and isinstance(value, dict):
            return value
    raise DocumentError(f"{what} has no '*{suffix}' block (is it a model-quality document?)")


def metrics_block(statistics: Any) -> dict:
    """The ``*_metrics`` block of a model-quality statistics document."""
    return _block(statistics, "_metrics", "statistics")


def constraints_block(constraints: Any) -> dict:
    """The ``*_constraints`` block of a model-quality constraints document."""
    return _block(constraints, "_constraints", "constraints")


def _scalars(block: Mapping) -> dict[str, dict]:
    return {k: v for k, v in block.items() if isinstance(v, dict) and "value" in v}


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _violates(value: float, rule: Mapping | None) -> bool:
    if not rule or np.isnan(value):
        return False
    threshold = float(rule["threshold"])
    if rule.get("comparison_operator") == "GreaterThanThreshold":
        return value > threshold
    return value < threshold


def metric_table(statistics: Any, constraints: Any = None) -> pd.DataFrame:
    """One row per scalar metric: value, standard deviation and, with constraints, the rule.

    Returns:
        Columns ``value``, ``standard_deviation`` and, when ``constraints`` are given,
        ``operator``, ``threshold`` and ``violated`` (value beyond the threshold).
    """
    scalars = _scalars(metrics_block(statistics))
    rules = constraints_block(constraints) if constraints is not None else None
    rows = []
    for name, entry in scalars.items():
        row = {
            "metric": name,
            "value": _number(entry.get("value")),
            "standard_deviation": _number(entry.get("standard_deviation")),
        }
        if rules is not None:
            rule = rules.get(name)
            row["operator"] = OPERATOR_SYMBOLS.get((rule or {}).get("comparison_operator"), "")
            row["threshold"] = float(rule["threshold"]) if rule else float("nan")
            row["violated"] = _violates(row["value"], rule)
        rows.append(row)
    return pd.DataFrame(rows).set_index("metric")


def _pairs(executions: Any) -> list[tuple[pd.Timestamp, Any]]:
    items: Iterable = executions.items() if isinstance(executions, Mapping) else executions
    pairs = []
    for i, item in enumerate(items):
        if hasattr(item, "statistics") and hasattr(item, "describe"):
            output = getattr(item, "output", None) or item.outputs[0]
            hour = capture_key.parse_hour_folder(str(output.destination))
            if hour is None:
                raise ValueError(f"executions[{i}]: its report folder names no hour")
            try:
                stats = item.statistics()
            except Exception:  # noqa: BLE001 - a failed execution wrote no statistics
                stats = None
            pairs.append((pd.Timestamp(hour), stats))
        elif isinstance(item, tuple | list) and len(item) == 2:
            stamp = pd.Timestamp(item[0])
            pairs.append((stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp, item[1]))
        else:
            raise ValueError(
                f"executions[{i}]: expected a (scheduled_time, statistics) pair or a "
                f"MonitoringExecution, got {type(item).__name__}"
            )
    return sorted(pairs, key=lambda p: p[0])


def metrics_over_time(executions: Any) -> pd.DataFrame:
    """Scalar metric values (columns) per execution (rows, by scheduled time, UTC).

    Args:
        executions: SDK ``MonitoringExecution`` objects (``monitor.list_executions()``),
            ``(scheduled_time, statistics)`` pairs or a ``{time: statistics}`` dict. Executions
            without statistics (failed) are left out.
    """
    rows, index = [], []
    for stamp, stats in _pairs(executions):
        if stats is None:
            continue
        rows.append({k: _number(v.get("value")) for k, v in _scalars(metrics_block(stats)).items()})
        index.append(stamp)
    return pd.DataFrame(rows, index=pd.DatetimeIndex(index, name="scheduled_time"))


def plot_metrics_over_time(
    executions: Any, constraints: Any = None, *, metrics: Sequence[str] = DEFAULT_METRICS
) -> Figure:
    """One small chart per metric: its value per execution, against the baseline threshold.

    Args:
        executions: as for :func:`metrics_over_time`, or its DataFrame.
        constraints: the baseline's constraints (draws the thresholds and marks violations red).
        metrics: which metrics to draw.

    Returns:
        A Figure with one axes per metric.
    """
    frame = executions if isinstance(executions, pd.DataFrame) else metrics_over_time(executions)
    rules = constraints_block(constraints) if constraints is not None else {}
    shown = [m for m in metrics if m in frame.columns]
    if not shown:
        raise ValueError(f"none of {list(metrics)} is in the executions' statistics")
    cols = min(3, len(shown))
    nrows = -(-len(shown) // cols)
    fig = Figure(figsize=(4.2 * cols, 3.0 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, cols, squeeze=False)).ravel()
    labels = [t.strftime("%m-%d %H:%M") for t in frame.index]
    x = np.arange(len(frame))
    for ax, name in zip(axes, shown, strict=False):
        values = frame[name].to_numpy(dtype=float)
        ax.plot(x, values, marker="o", color="tab:blue", label="execution")
        rule = rules.get(name)
        if rule:
            threshold = float(rule["threshold"])
            symbol = OPERATOR_SYMBOLS.get(rule.get("comparison_operator"), "?")
            ax.axhline(threshold, color="tab:gray", linestyle="--",
                       label=f"violation if {symbol} {threshold:.3f}")  # fmt: skip
            bad = [_violates(v, rule) for v in values]
            ax.scatter(x[bad], values[bad], color="tab:red", zorder=3, s=60, label="violation")
        ax.set_title(name)
        ax.set_xticks(x)
        ax.set_xticklabels(labels, rotation=30, ha="right", fontsize="small")
        ax.margins(y=0.2)
        ax.legend(fontsize="x-small", loc="lower left")
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    fig.suptitle("Model quality per execution (scheduled time, UTC) vs the baseline")
    return fig


def confusion_matrix(statistics: Any) -> pd.DataFrame:
    """The confusion matrix as a DataFrame: rows = actual label, columns = predicted."""
    block = metrics_block(statistics)
    matrix = block.get("confusion_matrix")
    if not isinstance(matrix, Mapping):
        raise DocumentError("the statistics have no confusion_matrix (regression?)")
    labels = sorted({*matrix, *(p for row in matrix.values() for p in row)}, key=_label_key)
    data = [[int(matrix.get(a, {}).get(p, 0)) for p in labels] for a in labels]
    return pd.DataFrame(
        data,
        index=pd.Index(labels, name="actual"),
        columns=pd.Index(labels, name="predicted"),
    )


def _label_key(label: str):
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def plot_confusion_matrix(statistics: Any, *, title: str = "Confusion matrix") -> Figure:
    """The confusion matrix as a heat map with counts."""
    frame = confusion_matrix(statistics)
    fig = Figure(figsize=(3.8, 3.4), layout="constrained")
    ax = fig.subplots()
    values = frame.to_numpy()
    image = ax.imshow(values, cmap="Blues")
    top = values.max() if values.size else 0
    for (i, j), count in np.ndenumerate(values):
        ax.text(j, i, str(count), ha="center", va="center",
                color="white" if count > top / 2 else "black")  # fmt: skip
    ax.set_xticks(range(len(frame.columns)), frame.columns)
    ax.set_yticks(range(len(frame.index)), frame.index)
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, shrink=0.8)
    return fig


def curves(statistics: Any) -> dict[str, pd.DataFrame]:
    """The binary ROC and precision-recall curves as DataFrames (``roc``, ``pr``)."""
    block = metrics_block(statistics)
    roc = block.get("receiver_operating_characteristic_curve")
    pr = block.get("precision_recall_curve")
    if not isinstance(roc, Mapping) or not isinstance(pr, Mapping):
        raise DocumentError("the statistics have no ROC / PR curves (binary with probabilities)")
    return {
        "roc": pd.DataFrame(
            {"false_positive_rate": roc["false_positive_rates"],
             "true_positive_rate": roc["true_positive_rates"]}
        ),
        "pr": pd.DataFrame({"recall": pr["recalls"], "precision": pr["precisions"]}),
    }  # fmt: skip


def plot_curves(statistics: Mapping[str, Any] | Any) -> Figure:
    """ROC and precision-recall curves side by side, one line per statistics document.

    Args:
        statistics: one statistics document, or ``{label: statistics}`` to compare several
            (e.g. the baseline and an execution).
    """
    if isinstance(statistics, Mapping) and not any(k.endswith("_metrics") for k in statistics):
        named = dict(statistics)
    else:
        named = {"statistics": statistics}
    fig = Figure(figsize=(9, 3.8), layout="constrained")
    roc_ax, pr_ax = fig.subplots(1, 2)
    for label, doc in named.items():
        found = curves(doc)
        auc = _number(metrics_block(doc).get("auc", {}).get("value"))
        roc = found["roc"]
        roc_ax.plot(roc["false_positive_rate"], roc["true_positive_rate"],
                    label=f"{label} (auc {auc:.3f})")  # fmt: skip
        pr = found["pr"]
        pr_ax.plot(pr["recall"], pr["precision"], label=label)
    roc_ax.plot([0, 1], [0, 1], color="tab:gray", linestyle=":", label="chance")
    roc_ax.set_xlabel("false positive rate")
    roc_ax.set_ylabel("true positive rate")
    roc_ax.set_title("ROC curve")
    pr_ax.set_xlabel("recall")
    pr_ax.set_ylabel("precision")
    pr_ax.set_title("Precision-recall curve")
    for ax in (roc_ax, pr_ax):
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize="small", loc="lower right" if ax is roc_ax else "lower left")
    return fig


__all__ = [
    "confusion_matrix",
    "constraints_block",
    "curves",
    "metric_table",
    "metrics_block",
    "metrics_over_time",
    "plot_confusion_matrix",
    "plot_curves",
    "plot_metrics_over_time",
]
