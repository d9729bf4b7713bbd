"""The model-quality monitor's analysis, re-implemented (pure: paths in, paths out).

Model Monitor's second monitor type joins captured predictions with ground-truth labels that
arrive later and computes the model's metrics (``docs/model-quality-formats.md``):

- :mod:`~mmutils.analyzer.model_quality.columns`: where each row came from, and the typed
  columns (labels, predictions, probabilities) parsed from strings with precise errors;
- :mod:`~mmutils.analyzer.model_quality.dataset`: the labelled baseline dataset (CSV / JSON lines);
- :mod:`~mmutils.analyzer.model_quality.merge`: captured predictions joined to ground-truth
  labels on ``inferenceId`` (else ``eventId``) within a window;
- :mod:`~mmutils.analyzer.model_quality.metrics`: binary, multiclass and regression metrics,
  each with the service's bootstrap ``standard_deviation``;
- :mod:`~mmutils.analyzer.model_quality.documents`: ``statistics.json``, ``constraints.json``,
  ``constraint_violations.json`` and the exit message;
- :mod:`~mmutils.analyzer.model_quality.cloudwatch`: the metric records of an execution;
- :mod:`~mmutils.analyzer.model_quality.api`: :func:`suggest_model_quality_baseline` and
  :func:`run_model_quality_monitoring`.
"""

from __future__ import annotations

from mmutils.analyzer.model_quality.api import (
    ModelQualityBaselineResult,
    ModelQualityMonitoringResult,
    run_model_quality_monitoring,
    suggest_model_quality_baseline,
)
from mmutils.analyzer.model_quality.documents import PROBLEM_TYPES

__all__ = [
    "PROBLEM_TYPES",
    "ModelQualityBaselineResult",
    "ModelQualityMonitoringResult",
    "run_model_quality_monitoring",
    "suggest_model_quality_baseline",
]
