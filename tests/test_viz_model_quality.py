"""Model-quality tables and charts from real analyzer documents (issue 13)."""

from __future__ import annotations

import numpy as np
import pytest

from mmutils.analyzer.model_quality import suggest_model_quality_baseline
from mmutils.analyzer.model_quality.documents import check_constraints
from mmutils.formats.reports import DocumentError
from mmutils.viz import model_quality as mq


def _documents(tmp_path, name, flip, seed):
    rng = np.random.default_rng(seed)
    truth = rng.random(300) < 0.3
    prob = np.round(np.clip(0.45 * truth + 0.55 * rng.random(300), 0, 1), 4)
    labels = np.where(rng.random(300) < flip, ~truth, truth)
    path = tmp_path / f"{name}.csv"
    rows = [f"{p},{int(p > 0.5)},{int(y)}" for p, y in zip(prob, labels, strict=True)]
    path.write_text("probability,prediction,label\n" + "\n".join(rows) + "\n")
    result = suggest_model_quality_baseline(
        path,
        problem_type="BinaryClassification",
        inference_attribute="prediction",
        probability_attribute="probability",
        ground_truth_attribute="label",
    )
    return result.statistics, result.constraints, labels, prob


@pytest.fixture
def docs(tmp_path):
    base_stats, constraints, _, _ = _documents(tmp_path, "base", 0.0, 1)
    normal, _, _, _ = _documents(tmp_path, "normal", 0.0, 2)
    drifted, _, labels, prob = _documents(tmp_path, "drifted", 0.4, 3)
    return base_stats, constraints, normal, drifted, labels, prob


def test_metric_table_marks_what_the_analyzer_flags(docs):
    _, constraints, _, drifted, _, _ = docs
    table = mq.metric_table(drifted, constraints)
    flagged = set(table.index[table["violated"]])
    violations = check_constraints(drifted, constraints, "BinaryClassification")
    reported = {v["metric_name"] for v in violations}
    camel = {"truePositiveRate": "true_positive_rate", "trueNegativeRate": "true_negative_rate",
             "falsePositiveRate": "false_positive_rate", "falseNegativeRate": "false_negative_rate"}  # fmt: skip
    assert {camel.get(m, m) for m in reported} <= flagged
    assert table.loc["auc", "operator"] == "<"
    assert table.loc["false_positive_rate", "operator"] == ">"


def test_metrics_over_time_and_plot(docs):
    base, constraints, normal, drifted, _, _ = docs
    executions = [("2026-01-05T11:00:00Z", normal), ("2026-01-05T12:00:00", drifted)]
    frame = mq.metrics_over_time(executions)
    assert list(frame.index.hour) == [11, 12]
    assert (
        frame.loc[frame.index[1], "auc"] == drifted["binary_classification_metrics"]["auc"]["value"]
    )
    fig = mq.plot_metrics_over_time(executions, constraints)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["accuracy", "auc", "f1", "precision", "recall"]
    with pytest.raises(ValueError, match="none of"):
        mq.plot_metrics_over_time(executions, metrics=["mae"])


def test_confusion_matrix_and_curves(docs):
    base, _, _, drifted, labels, prob = docs
    matrix = mq.confusion_matrix(drifted)
    assert matrix.loc["1", "1"] == int(np.sum(labels & (prob > 0.5)))
    assert matrix.to_numpy().sum() == 300
    found = mq.curves(drifted)
    assert found["roc"].iloc[0].tolist() == [0.0, 0.0]
    assert found["roc"].iloc[-1].tolist() == [1.0, 1.0]
    fig = mq.plot_curves({"baseline": base, "drifted hour": drifted})
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend[0].startswith("baseline (auc ") and legend[-1] == "chance"
    assert mq.plot_confusion_matrix(drifted).axes[0].get_title() == "Confusion matrix"


def test_documents_of_the_wrong_kind_are_named():
    with pytest.raises(DocumentError, match="model-quality"):
        mq.metrics_block({"version": 0.0, "features": []})


def test_violations_frame_keeps_model_quality_metrics_in_the_service_order(docs):
    from mmutils.lab import violations_frame

    _, constraints, _, drifted, _, _ = docs
    violations = check_constraints(drifted, constraints, "BinaryClassification")
    frame = violations_frame({"violations": violations})
    assert list(frame.columns) == ["metric_name", "constraint_check_type", "description"]
    assert frame["metric_name"].tolist() == [v["metric_name"] for v in violations]


def test_violation_timeline_of_model_quality_executions(docs):
    """viz.violations_by_feature / plot_violations_over_time take model-quality executions."""
    from mmutils import viz
    from mmutils.viz.timeline import CHECK_COLOURS

    _, constraints, normal, drifted, _, _ = docs
    quiet = check_constraints(normal, constraints, "BinaryClassification")
    loud = check_constraints(drifted, constraints, "BinaryClassification")
    assert loud and all("metric_name" in v for v in loud)
    runs = [("2024-01-01T01:00:00Z", {"violations": quiet}), ("2024-01-01T02:00:00Z", loud)]

    by_metric = viz.violations_by_feature(runs)
    assert by_metric.index.name == "metric"
    assert list(by_metric.index) == sorted({v["metric_name"] for v in quiet + loud})
    assert by_metric.iloc[:, 1].sum() == len(loud)
    assert by_metric.iloc[:, 0].sum() == len(quiet)
    checks = viz.violations_by_feature(runs, values="checks")
    operator = {v["metric_name"]: v["constraint_check_type"] for v in loud}
    assert {m: checks.loc[m].iloc[1] for m in operator} == operator

    fig = viz.plot_violations_over_time(runs)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.texts] == [str(len(quiet)), str(len(loud))]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert set(legend) == {v["constraint_check_type"] for v in quiet + loud}
    colours = {p.get_facecolor() for p in ax.patches if p.get_height()}
    assert len(colours) == len(legend)  # one colour per operator, not the fallback for all
    assert all(check in CHECK_COLOURS for check in legend)

    data_quality = {"feature_name": "Churn", "constraint_check_type": "data_type_check"}
    with pytest.raises(ValueError, match="mix data-quality .* model-quality"):
        viz.violations_by_feature(runs + [("2024-01-01T03:00:00Z", [data_quality])])
