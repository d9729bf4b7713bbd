"""Tables and charts of Model Monitor files: violations, distributions, drift over time.

Every function takes documents as dicts, paths, JSON text or SageMaker SDK file objects
(``Statistics``, ``ConstraintViolations``) and returns a pandas ``DataFrame``/``Styler`` or a
matplotlib ``Figure``. Nothing calls ``plt.show()``; figures are not registered with pyplot,
so a notebook shows each one once, as the cell's value (``fig.savefig(path)`` to keep it).

Modules:
    documents       ``get_features`` (documents load through :mod:`mmutils.formats.reports`)
    tables          ``violation_df`` / ``show_violation_df`` / ``summary_table``
    distributions   ``show_distributions``
    timeline        violations across executions
    drift_metrics   ``feature_baseline_drift_*`` CloudWatch metrics
    model_quality   model-quality metrics vs thresholds, over time; confusion matrix, ROC/PR
"""

from __future__ import annotations

from mmutils.viz.distributions import show_distributions
from mmutils.viz.documents import get_features, load_document, load_violations
from mmutils.viz.drift_metrics import fetch_drift_metrics, list_drift_features, plot_drift_metrics
from mmutils.viz.model_quality import (
    metric_table,
    metrics_over_time,
    plot_confusion_matrix,
    plot_curves,
    plot_metrics_over_time,
)
from mmutils.viz.tables import (
    group_by_feature,
    show_violation_df,
    summary_table,
    violation_df,
)
from mmutils.viz.timeline import (
    plot_violations_over_time,
    violation_counts,
    violations_by_feature,
)

__all__ = [
    "fetch_drift_metrics",
    "get_features",
    "group_by_feature",
    "list_drift_features",
    "load_document",
    "load_violations",
    "metric_table",
    "metrics_over_time",
    "plot_confusion_matrix",
    "plot_curves",
    "plot_drift_metrics",
    "plot_metrics_over_time",
    "plot_violations_over_time",
    "show_distributions",
    "show_violation_df",
    "summary_table",
    "violation_counts",
    "violation_df",
    "violations_by_feature",
]
