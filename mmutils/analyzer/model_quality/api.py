"""The Python API of the model-quality analysis: a baseline job and a monitoring execution.

* :func:`suggest_model_quality_baseline` — what ``ModelQualityMonitor.suggest_baseline`` runs:
  a labelled dataset with the model's predictions -> ``statistics.json`` + ``constraints.json``.
* :func:`run_model_quality_monitoring` — one scheduled execution: the window's captured
  predictions merged with the ground truth -> ``statistics.json`` +
  ``constraint_violations.json`` (+ CloudWatch metric records).

Both are pure: paths (or documents) in, documents and files out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from mmutils.analyzer import jsonfmt
from mmutils.analyzer.errors import AnalyzerError, NoDataError
from mmutils.analyzer.model_quality import cloudwatch, documents
from mmutils.analyzer.model_quality.columns import (
    Origins,
    class_labels,
    parse_binary,
    parse_floats,
    parse_probabilities,
    payload_column,
    require_present,
)
from mmutils.analyzer.model_quality.dataset import read_baseline_columns
from mmutils.analyzer.model_quality.merge import MergeResult, describe_no_match, merge
from mmutils.analyzer.model_quality.metrics import (
    binary_classification_metrics,
    multiclass_classification_metrics,
    regression_metrics,
)
from mmutils.formats.reports import DocumentError, load_document

STATISTICS = "statistics.json"
CONSTRAINTS = "constraints.json"
VIOLATIONS = "constraint_violations.json"
#: UNCONFIRMED: the threshold when only a probability is given
DEFAULT_PROBABILITY_THRESHOLD = 0.5


def evaluate(
    problem_type: str,
    *,
    truth: pa.Array,
    origins: Origins,
    predicted: pa.Array | None = None,
    probability: pa.Array | None = None,
    names: Mapping[str, str | None] | None = None,
    probability_threshold: float | str | None = None,
    seed: int | None = 0,
) -> dict:
    """The metrics block of one problem type from string columns.

    Args:
        problem_type: ``BinaryClassification``, ``MulticlassClassification`` or ``Regression``.
        truth: ground-truth labels / values.
        origins: each row's file and line (for error messages).
        predicted: predicted labels / values.
        probability: predicted probability of class 1 (binary only).
        names: the attribute names (``ground_truth``, ``inference``, ``probability``) used in
            messages.
        probability_threshold: a binary prediction is ``probability > threshold`` when no
            predicted label is given (default 0.5).
        seed: seed of the standard-deviation samples.

    Raises:
        AnalyzerError: an unknown problem type, a missing column, or a value that does not
            fit the problem type, naming the file and line.
    """
    documents.problem_blocks(problem_type)
    names = dict(names or {})
    what_truth = f"ground_truth_attribute {names.get('ground_truth') or 'data'!r}"
    what_pred = f"inference_attribute {names.get('inference')!r}"
    what_prob = f"probability_attribute {names.get('probability')!r}"
    if problem_type == documents.BINARY:
        y = parse_binary(truth, what_truth, origins)
        score = (
            None if probability is None else parse_probabilities(probability, what_prob, origins)
        )
        if predicted is not None:
            yhat = parse_binary(predicted, what_pred, origins)
        elif score is not None:
            threshold = (
                DEFAULT_PROBABILITY_THRESHOLD
                if probability_threshold in (None, "")
                else float(probability_threshold)
            )
            yhat = score > threshold
        else:
            raise AnalyzerError(
                "BinaryClassification needs inference_attribute, or probability_attribute "
                "(with probability_threshold_attribute)"
            )
        return binary_classification_metrics(y, yhat, score, seed=seed)
    if predicted is None:
        raise AnalyzerError(f"{problem_type} needs inference_attribute (the predicted label)")
    if problem_type == documents.MULTICLASS:
        classes, t, p = class_labels(truth, predicted, (what_truth, what_pred), origins)
        return multiclass_classification_metrics(classes, t, p, seed=seed)
    y = parse_floats(truth, what_truth, origins)
    yhat = parse_floats(predicted, what_pred, origins)
    return regression_metrics(y, yhat, seed=seed)


def _load(document, what: str) -> dict:
    try:
        doc = load_document(document, what=what)
    except (DocumentError, FileNotFoundError, TypeError) as exc:
        raise AnalyzerError(str(exc)) from None
    if doc is None:
        raise AnalyzerError(f"{what} are required")
    return doc


# --------------------------------------------------------------------------------------------
# Baseline


@dataclass(repr=False)
class ModelQualityBaselineResult:
    """What a model-quality baseline job produced.

    Attributes:
        statistics: the statistics.json document.
        constraints: the constraints.json document.
        files: the files written (empty without ``output_dir``).
    """

    statistics: dict
    constraints: dict
    files: list[Path] = field(default_factory=list)

    def __repr__(self) -> str:
        items = self.statistics["dataset"]["item_count"]
        return f"ModelQualityBaselineResult(item_count={items}, files={len(self.files)})"


def suggest_model_quality_baseline(
    baseline_dataset: str | Path,
    *,
    problem_type: str,
    ground_truth_attribute: str,
    inference_attribute: str | None = None,
    probability_attribute: str | None = None,
    probability_threshold_attribute: float | str | None = None,
    dataset_format: str | Mapping | None = None,
    output_dir: str | Path | None = None,
    seed: int | None = 0,
) -> ModelQualityBaselineResult:
    """Baseline a model's quality from a labelled dataset holding its predictions.

    Args:
        baseline_dataset: a CSV / JSON-lines file, or a folder of them.
        problem_type: ``BinaryClassification``, ``MulticlassClassification`` or ``Regression``.
        ground_truth_attribute: column (header name or index) / key of the true label.
        inference_attribute: column / key of the predicted label.
        probability_attribute: column / key of the predicted probability (binary).
        probability_threshold_attribute: threshold turning probabilities into labels when no
            ``inference_attribute`` is given.
        dataset_format: ``{"csv": {"header": true}}`` (default) or ``{"json": {"lines": true}}``.
        output_dir: where to write statistics.json and constraints.json.
        seed: seed of the standard-deviation samples.

    Returns:
        The documents (and files).

    Raises:
        NoDataError: the dataset has no rows.
        AnalyzerError: a missing column or a bad value (file and line named).
    """
    attributes = [ground_truth_attribute, inference_attribute, probability_attribute]
    wanted = [a for a in attributes if a is not None]
    columns, origins = read_baseline_columns(baseline_dataset, dataset_format, wanted)
    by_name = dict(zip(wanted, columns, strict=True))
    metrics = evaluate(
        problem_type,
        truth=by_name[ground_truth_attribute],
        origins=origins,
        predicted=by_name.get(inference_attribute) if inference_attribute else None,
        probability=by_name.get(probability_attribute) if probability_attribute else None,
        names={
            "ground_truth": ground_truth_attribute,
            "inference": inference_attribute,
            "probability": probability_attribute,
        },
        probability_threshold=probability_threshold_attribute,
        seed=seed,
    )
    statistics = documents.statistics_document(problem_type, metrics, len(origins))
    constraints = documents.suggest_constraints(statistics, problem_type)
    files = []
    if output_dir is not None:
        files = jsonfmt.write_documents(
            output_dir, {STATISTICS: statistics, CONSTRAINTS: constraints}
        )
    return ModelQualityBaselineResult(statistics, constraints, files)


# --------------------------------------------------------------------------------------------
# Monitoring


@dataclass(repr=False)
class ModelQualityMonitoringResult:
    """What one model-quality monitoring execution produced.

    Attributes:
        statistics: the window's statistics.json document.
        violations: the ``violations`` list of constraint_violations.json.
        merge: the merge counts (merged, captured, ground truth, unmatched...).
        exit_message: the execution's ExitMessage.
        metrics: the CloudWatch metric records (empty unless publishing is enabled).
        files: the files written.
    """

    statistics: dict
    violations: list[dict]
    merge: dict
    exit_message: str
    metrics: list[dict] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    def __repr__(self) -> str:
        return (
            f"ModelQualityMonitoringResult(merged={self.merge['merged']}, "
            f"violations={len(self.violations)}, files={len(self.files)})"
        )


def merged_columns(
    merged: MergeResult,
    *,
    ground_truth_attribute: str | None = None,
    inference_attribute: str | None = None,
    probability_attribute: str | None = None,
) -> dict[str, pa.Array | None]:
    """The ``truth`` / ``predicted`` / ``probability`` string columns of the merged rows.

    The label is the whole ground-truth ``data`` unless ``ground_truth_attribute`` picks a
    column / key of it; the prediction and probability are attributes of ``endpointOutput``.
    """
    origins = merged.origins
    if ground_truth_attribute:
        truth = payload_column(
            merged.labels, merged.label_encodings, ground_truth_attribute, "ground truth", origins
        )
    else:
        truth = require_present(merged.labels, "ground truth data", origins)

    def output(attribute: str | None, what: str) -> pa.Array | None:
        if attribute is None or attribute == "":
            return None
        return payload_column(merged.outputs, merged.output_encodings, attribute, what, origins)

    return {
        "truth": truth,
        "predicted": output(inference_attribute, "inference_attribute"),
        "probability": output(probability_attribute, "probability_attribute"),
    }


def run_model_quality_monitoring(
    capture_source,
    ground_truth_source,
    baseline_constraints,
    *,
    problem_type: str,
    inference_attribute: str | None = None,
    probability_attribute: str | None = None,
    probability_threshold_attribute: float | str | None = None,
    ground_truth_attribute: str | None = None,
    start_time=None,
    end_time=None,
    output_dir: str | Path | None = None,
    publish_cloudwatch_metrics: str | bool = "Disabled",
    metrics_dir: str | Path | None = None,
    endpoint_name: str | None = None,
    schedule_name: str | None = None,
    metric_time=None,
    seed: int | None = 0,
) -> ModelQualityMonitoringResult:
    """One model-quality monitoring execution.

    Args:
        capture_source: the window's capture files (file, folder or list).
        ground_truth_source: the ground-truth files (file, folder or list).
        baseline_constraints: the baseline's constraints (dict, path, JSON text, SDK object).
        problem_type: the monitored problem type.
        inference_attribute: ``endpointOutput`` column index / key of the predicted label.
        probability_attribute: ``endpointOutput`` column index / key of the probability.
        probability_threshold_attribute: threshold for ``probability > threshold``.
        ground_truth_attribute: column / key of the label inside ``groundTruthData.data``
            (default: the whole data).
        start_time: window start (inclusive, ISO text); None: unbounded.
        end_time: window end (exclusive).
        output_dir: where to write statistics.json and constraint_violations.json.
        publish_cloudwatch_metrics: ``Enabled`` writes metric records into ``metrics_dir``.
        metrics_dir: the metrics directory.
        endpoint_name: ``Endpoint`` dimension of the metrics.
        schedule_name: ``MonitoringSchedule`` dimension of the metrics.
        metric_time: the metrics' timestamp (default ``end_time``); also the statistics'
            ``dataset.evaluation_time`` when given.
        seed: seed of the standard-deviation samples.

    Returns:
        The documents, the merge counts, the exit message and files.

    Raises:
        NoDataError: no capture or ground-truth file, or no captured record found a label.
        AnalyzerError: malformed input (file and line named) or bad constraints.
    """
    constraints = _load(baseline_constraints, "baseline constraints")
    documents.problem_blocks(problem_type)
    merged = merge(capture_source, ground_truth_source, start_time, end_time)
    if len(merged) == 0:
        raise NoDataError(describe_no_match(merged, (capture_source, ground_truth_source)))
    return monitor_merged(
        merged,
        constraints,
        problem_type=problem_type,
        inference_attribute=inference_attribute,
        probability_attribute=probability_attribute,
        probability_threshold_attribute=probability_threshold_attribute,
        ground_truth_attribute=ground_truth_attribute,
        end_time=end_time,
        output_dir=output_dir,
        publish_cloudwatch_metrics=publish_cloudwatch_metrics,
        metrics_dir=metrics_dir,
        endpoint_name=endpoint_name,
        schedule_name=schedule_name,
        metric_time=metric_time,
        seed=seed,
    )


def monitor_merged(
    merged: MergeResult,
    baseline_constraints,
    *,
    problem_type: str,
    inference_attribute: str | None = None,
    probability_attribute: str | None = None,
    probability_threshold_attribute: float | str | None = None,
    ground_truth_attribute: str | None = None,
    end_time=None,
    output_dir: str | Path | None = None,
    publish_cloudwatch_metrics: str | bool = "Disabled",
    metrics_dir: str | Path | None = None,
    endpoint_name: str | None = None,
    schedule_name: str | None = None,
    metric_time=None,
    seed: int | None = 0,
) -> ModelQualityMonitoringResult:
    """The analysis half of an execution: already merged rows -> documents (and files).

    The merge job's output (:func:`mmutils.analyzer.model_quality.merged.read_merged`) or
    :func:`~mmutils.analyzer.model_quality.merge.merge` in memory; the arguments are those of
    :func:`run_model_quality_monitoring`.

    Raises:
        NoDataError: no merged row.
        AnalyzerError: a bad value (file and line named) or bad constraints.
    """
    constraints = _load(baseline_constraints, "baseline constraints")
    documents.problem_blocks(problem_type)
    if len(merged) == 0:
        raise NoDataError()
    columns = merged_columns(
        merged,
        ground_truth_attribute=ground_truth_attribute,
        inference_attribute=inference_attribute,
        probability_attribute=probability_attribute,
    )
    metrics = evaluate(
        problem_type,
        truth=columns["truth"],
        origins=merged.origins,
        predicted=columns["predicted"],
        probability=columns["probability"],
        names={
            "ground_truth": ground_truth_attribute,
            "inference": inference_attribute,
            "probability": probability_attribute,
        },
        probability_threshold=probability_threshold_attribute,
        seed=seed,
    )
    evaluation_time = str(metric_time) if metric_time else None
    statistics = documents.statistics_document(problem_type, metrics, len(merged), evaluation_time)
    violations = documents.check_constraints(statistics, constraints, problem_type)
    records = []
    if str(publish_cloudwatch_metrics).lower() in ("enabled", "true"):
        records = cloudwatch.metric_records(
            statistics,
            problem_type,
            endpoint_name=endpoint_name,
            schedule_name=schedule_name,
            timestamp=metric_time or end_time,
        )
    files: list[Path] = []
    if output_dir is not None:
        files = jsonfmt.write_documents(
            output_dir,
            {STATISTICS: statistics, VIOLATIONS: documents.violations_document(violations)},
        )
    if records and metrics_dir is not None:
        written = cloudwatch.write_metrics(metrics_dir, records)
        if written is not None:
            files.append(written)
    return ModelQualityMonitoringResult(
        statistics=statistics,
        violations=violations,
        merge=merged.summary(),
        exit_message=documents.exit_message(violations),
        metrics=records,
        files=files,
    )
