"""Model-quality baseline and monitoring: documents, merge and edge cases (issue 13)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn import metrics as skm

from mmutils.analyzer import jsonfmt
from mmutils.analyzer.errors import AnalyzerError, NoDataError
from mmutils.analyzer.model_quality import (
    run_model_quality_monitoring,
    suggest_model_quality_baseline,
)
from mmutils.analyzer.model_quality.cloudwatch import NAMESPACE, metric_records
from mmutils.analyzer.model_quality.documents import (
    check_constraints,
    description,
    suggest_constraints,
)
from mmutils.analyzer.model_quality.merge import merge


def _capture_line(event_id, probability, when, inference_id=None):
    meta = {"eventId": event_id}
    if inference_id is not None:
        meta["inferenceId"] = inference_id
    meta["inferenceTime"] = when
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {
                    "observedContentType": "text/csv",
                    "mode": "INPUT",
                    "data": "1,2,3",
                    "encoding": "CSV",
                },
                "endpointOutput": {
                    "observedContentType": "text/csv; charset=utf-8",
                    "mode": "OUTPUT",
                    "data": str(probability),
                    "encoding": "CSV",
                },
            },
            "eventMetadata": meta,
            "eventVersion": "0",
        },
        separators=(",", ":"),
    )


def _gt_line(event_id, label):
    return json.dumps(
        {
            "groundTruthData": {"data": str(label), "encoding": "CSV"},
            "eventMetadata": {"eventId": event_id},
            "eventVersion": "0",
        }
    )


def _traffic(tmp_path, n=400, seed=0, flip=0.0, labelled=None):
    """Capture (hour 00) + ground truth files; returns (capture dir, gt dir, truth, prob)."""
    rng = np.random.default_rng(seed)
    truth = rng.random(n) < 0.3
    prob = np.round(np.clip(0.4 * truth + 0.6 * rng.random(n), 0, 1), 4)
    labels = np.where(rng.random(n) < flip, ~truth, truth)
    cap = tmp_path / "capture" / "ep" / "AllTraffic" / "2024" / "01" / "02" / "00"
    cap.mkdir(parents=True)
    lines = [
        _capture_line(f"e{i}", prob[i], f"2024-01-02T00:{i % 60:02d}:00Z", inference_id=str(i))
        for i in range(n)
    ]
    (cap / "00-00-000-a.jsonl").write_text("\n".join(lines) + "\n")
    gt = tmp_path / "gt" / "2024" / "01" / "02" / "00"
    gt.mkdir(parents=True)
    keep = range(n) if labelled is None else labelled
    (gt / "0100.jsonl").write_text("\n".join(_gt_line(str(i), int(labels[i])) for i in keep))
    return tmp_path / "capture", tmp_path / "gt", labels, prob


def _baseline_csv(tmp_path, n=300, seed=1):
    rng = np.random.default_rng(seed)
    truth = rng.random(n) < 0.3
    prob = np.round(np.clip(0.4 * truth + 0.6 * rng.random(n), 0, 1), 4)
    rows = [f"{p},{int(p > 0.5)},{int(t)}" for p, t in zip(prob, truth, strict=True)]
    path = tmp_path / "baseline.csv"
    path.write_text("probability,prediction,label\n" + "\n".join(rows) + "\n")
    return path, truth, prob


def test_baseline_documents_shape_and_bytes(tmp_path):
    path, truth, prob = _baseline_csv(tmp_path)
    result = suggest_model_quality_baseline(
        path,
        problem_type="BinaryClassification",
        inference_attribute="prediction",
        probability_attribute="probability",
        ground_truth_attribute="label",
        output_dir=tmp_path / "out",
    )
    stats = result.statistics
    assert list(stats) == ["version", "dataset", "binary_classification_metrics"]
    assert stats["dataset"] == {"item_count": 300}
    block = stats["binary_classification_metrics"]
    assert list(block) == [
        "confusion_matrix",
        "recall",
        "precision",
        "accuracy",
        "recall_best_constant_classifier",
        "precision_best_constant_classifier",
        "accuracy_best_constant_classifier",
        "true_positive_rate",
        "true_negative_rate",
        "false_positive_rate",
        "false_negative_rate",
        "receiver_operating_characteristic_curve",
        "precision_recall_curve",
        "auc",
        "f0_5",
        "f1",
        "f2",
        "f0_5_best_constant_classifier",
        "f1_best_constant_classifier",
        "f2_best_constant_classifier",
    ]
    assert block["auc"]["value"] == pytest.approx(skm.roc_auc_score(truth, prob))
    cons = result.constraints["binary_classification_constraints"]
    assert list(cons) == [
        "recall",
        "precision",
        "accuracy",
        "true_positive_rate",
        "true_negative_rate",
        "false_positive_rate",
        "false_negative_rate",
        "auc",
        "f0_5",
        "f1",
        "f2",
    ]
    assert cons["false_positive_rate"]["comparison_operator"] == "GreaterThanThreshold"
    assert cons["f2"] == {
        "threshold": block["f2"]["value"],
        "comparison_operator": "LessThanThreshold",
    }
    written = (tmp_path / "out" / "constraints.json").read_text()
    assert written == jsonfmt.dumps(result.constraints)
    assert '"comparison_operator" : "LessThanThreshold"' in written


def test_small_baseline_prints_nan_standard_deviation(tmp_path):
    path, _, _ = _baseline_csv(tmp_path, n=50)
    result = suggest_model_quality_baseline(
        path,
        problem_type="BinaryClassification",
        inference_attribute="prediction",
        ground_truth_attribute="label",
        output_dir=tmp_path / "out",
    )
    text = (tmp_path / "out" / "statistics.json").read_text()
    assert '"standard_deviation" : "NaN"' in text
    assert "auc" not in result.statistics["binary_classification_metrics"]


def test_violation_description_matches_the_real_text():
    assert (
        description(
            "auc", 0.5127590160341251, 0.007142408259978924, "LessThanThreshold", 0.9395127993393898
        )
        == "Metric auc with 0.5127590160341251 +/- 0.007142408259978924 was LessThanThreshold '0.9395127993393898'"
    )
    assert (
        description(
            "truePositiveRate",
            0.11532625189681335,
            5.092682820403929e-4,
            "LessThanThreshold",
            0.5714285714285714,
        )
        == "Metric truePositiveRate with 0.11532625189681335 +/- 5.092682820403929E-4 was LessThanThreshold '0.5714285714285714'"
    )


def test_monitoring_detects_concept_drift_and_merges_on_inference_id(tmp_path):
    base, _, _ = _baseline_csv(tmp_path)
    baseline = suggest_model_quality_baseline(
        base,
        problem_type="BinaryClassification",
        inference_attribute="prediction",
        probability_attribute="probability",
        ground_truth_attribute="label",
    )
    cap, gt, labels, prob = _traffic(tmp_path, flip=0.6)
    result = run_model_quality_monitoring(
        cap,
        gt,
        baseline.constraints,
        problem_type="BinaryClassification",
        probability_attribute="0",
        probability_threshold_attribute=0.5,
        start_time="2024-01-02T00:00:00Z",
        end_time="2024-01-02T01:00:00Z",
        output_dir=tmp_path / "report",
        publish_cloudwatch_metrics="Enabled",
        metrics_dir=tmp_path / "metrics",
        endpoint_name="ep",
        schedule_name="sched",
    )
    assert result.merge["merged"] == 400 and result.merge["unmatched_captures"] == 0
    block = result.statistics["binary_classification_metrics"]
    assert block["accuracy"]["value"] == pytest.approx(skm.accuracy_score(labels, prob > 0.5))
    assert block["auc"]["value"] == pytest.approx(skm.roc_auc_score(labels, prob))
    names = [v["metric_name"] for v in result.violations]
    assert "auc" in names and "f1" in names and "f0_5" not in names
    order = ["auc", "precision", "truePositiveRate", "f1", "accuracy", "falsePositiveRate"]
    order += ["trueNegativeRate", "falseNegativeRate", "recall", "f2"]
    assert names == [n for n in order if n in names]
    assert result.exit_message == (
        f"CompletedWithViolations: Job completed successfully with {len(names)} violations."
    )
    doc = json.loads((tmp_path / "report" / "constraint_violations.json").read_text())
    assert list(doc["violations"][0]) == ["constraint_check_type", "description", "metric_name"]
    metric_names = [r["MetricName"] for r in result.metrics]
    assert "f2" in metric_names and "confusion_matrix" not in metric_names
    assert len(metric_names) == 17
    assert NAMESPACE == "aws/sagemaker/Endpoints/model-metrics"
    assert (tmp_path / "metrics" / "cloudwatch_metrics.jsonl").is_file()


def test_no_drift_no_violation(tmp_path):
    cap, gt, labels, prob = _traffic(tmp_path)
    constraints = suggest_constraints(
        {
            "binary_classification_metrics": {
                "accuracy": {"value": 0.5, "standard_deviation": 0.0},
                "false_positive_rate": {"value": 0.9, "standard_deviation": 0.0},
            }
        },
        "BinaryClassification",
    )
    result = run_model_quality_monitoring(
        cap, gt, constraints, problem_type="BinaryClassification", probability_attribute="0"
    )
    assert result.violations == []
    assert result.exit_message == "Completed: Job completed successfully with no violations."


def test_labels_that_do_not_join_are_counted_not_guessed(tmp_path):
    cap, gt, labels, prob = _traffic(tmp_path, labelled=range(0, 400, 2))
    extra = gt / "2024" / "01" / "02" / "00" / "0200.jsonl"
    extra.write_text(_gt_line("nobody", 1) + "\n" + _gt_line("0", 1) + "\n")
    result = merge(cap, gt)
    assert len(result) == 200
    assert result.unmatched_captures == 200
    assert result.unused_labels == 1
    assert result.duplicate_labels == 1  # "0" again: the later file wins
    assert result.labels[0] == "1"


def test_window_filters_captured_records(tmp_path):
    cap, gt, _, _ = _traffic(tmp_path, n=120)
    result = merge(cap, gt, "2024-01-02T00:10:00Z", "2024-01-02T00:20:00Z")
    assert len(result) == 20 and result.outside_window == 100


def test_all_labels_missing_fails_with_no_data(tmp_path):
    cap, gt, _, _ = _traffic(tmp_path, labelled=[])
    with pytest.raises(NoDataError, match="no captured record in the window has a ground-truth"):
        run_model_quality_monitoring(
            cap,
            gt,
            {"binary_classification_constraints": {}},
            problem_type="BinaryClassification",
            probability_attribute="0",
        )


def test_probability_outside_unit_interval_names_file_and_line(tmp_path):
    path, _, _ = _baseline_csv(tmp_path, n=20)
    lines = path.read_text().splitlines()
    lines[5] = "1.7,1,1"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(AnalyzerError, match=r"'1.7' at .*baseline.csv line 6 is outside \[0, 1\]"):
        suggest_model_quality_baseline(
            path,
            problem_type="BinaryClassification",
            inference_attribute="prediction",
            probability_attribute="probability",
            ground_truth_attribute="label",
        )


def test_non_binary_label_and_missing_column_are_named(tmp_path):
    path, _, _ = _baseline_csv(tmp_path, n=20)
    lines = path.read_text().splitlines()
    lines[3] = "0.2,0,2"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(AnalyzerError, match=r"'2' at .*line 4 is not a binary label"):
        suggest_model_quality_baseline(
            path,
            problem_type="BinaryClassification",
            inference_attribute="prediction",
            ground_truth_attribute="label",
        )
    with pytest.raises(AnalyzerError, match="no column 'churn'"):
        suggest_model_quality_baseline(
            path, problem_type="BinaryClassification", ground_truth_attribute="churn"
        )


def test_one_class_only_baseline_skips_undefined_constraints(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("p,y\n" + "".join(f"{i % 2},0\n" for i in range(40)))
    result = suggest_model_quality_baseline(
        path,
        problem_type="BinaryClassification",
        inference_attribute="p",
        ground_truth_attribute="y",
        output_dir=tmp_path / "o",
    )
    block = result.statistics["binary_classification_metrics"]
    assert math.isnan(block["recall"]["value"])
    assert '"value" : "NaN"' in (tmp_path / "o" / "statistics.json").read_text()
    assert "recall" not in result.constraints["binary_classification_constraints"]
    assert "accuracy" in result.constraints["binary_classification_constraints"]


def test_multiclass_and_regression_baselines(tmp_path):
    rng = np.random.default_rng(4)
    truth = rng.choice(["cat", "dog", "eel"], 250)
    predicted = np.where(rng.random(250) < 0.7, truth, "dog")
    path = tmp_path / "m.jsonl"
    path.write_text(
        "".join(
            json.dumps({"y": t, "yhat": p}) + "\n" for t, p in zip(truth, predicted, strict=True)
        )
    )
    result = suggest_model_quality_baseline(
        path,
        problem_type="MulticlassClassification",
        inference_attribute="yhat",
        ground_truth_attribute="y",
        dataset_format={"json": {"lines": True}},
    )
    block = result.statistics["multiclass_classification_metrics"]
    assert list(block["confusion_matrix"]) == ["cat", "dog", "eel"]
    assert block["weighted_f1"]["value"] == pytest.approx(
        skm.f1_score(truth, predicted, average="weighted")
    )
    assert list(result.constraints["multiclass_classification_constraints"])[0] == "accuracy"

    y = rng.normal(size=300)
    yhat = y + rng.normal(scale=0.3, size=300)
    path = tmp_path / "r.csv"
    path.write_text("".join(f"{a},{b}\n" for a, b in zip(y, yhat, strict=True)))
    result = suggest_model_quality_baseline(
        path,
        problem_type="Regression",
        inference_attribute="1",
        ground_truth_attribute="0",
        dataset_format={"csv": {"header": False}},
    )
    block = result.statistics["regression_metrics"]
    assert block["r2"]["value"] == pytest.approx(skm.r2_score(y, yhat))
    cons = result.constraints["regression_constraints"]
    assert cons["mae"]["comparison_operator"] == "GreaterThanThreshold"
    assert cons["r2"]["comparison_operator"] == "LessThanThreshold"


def test_unknown_problem_type_and_bad_constraints():
    with pytest.raises(AnalyzerError, match="problem_type 'Ranking' is not supported"):
        check_constraints({}, {}, "Ranking")
    stats = {"regression_metrics": {"mae": {"value": 2.0, "standard_deviation": 0.1}}}
    bad = {"regression_constraints": {"mae": {"threshold": 1.0, "comparison_operator": "Bigger"}}}
    with pytest.raises(AnalyzerError, match="comparison_operator 'Bigger'"):
        check_constraints(stats, bad, "Regression")
    records = metric_records(
        stats, "Regression", endpoint_name="ep", timestamp="2024-01-02T01:00:00Z"
    )
    assert records == [
        {
            "MetricName": "mae",
            "Timestamp": "2024-01-02T01:00:00Z",
            "Dimensions": [{"Name": "Endpoint", "Value": "ep"}],
            "Value": 2.0,
        }
    ]


def test_records_without_inference_id_join_on_event_id(tmp_path):
    cap = tmp_path / "c"
    cap.mkdir()
    (cap / "f.jsonl").write_text(
        _capture_line("ev-1", 0.9, "2024-01-02T00:00:01Z")
        + "\n"
        + _capture_line("ev-2", 0.1, "2024-01-02T00:00:02Z", inference_id="inf-2")
        + "\n"
    )
    gt = tmp_path / "g"
    gt.mkdir()
    (gt / "x.jsonl").write_text(_gt_line("ev-1", 1) + "\n" + _gt_line("ev-2", 0) + "\n")
    result = merge(cap, gt)
    assert result.keys.tolist() == ["ev-1"]  # ev-2 has an inferenceId: its label must use it
    assert result.unmatched_captures == 1 and result.unused_labels == 1
