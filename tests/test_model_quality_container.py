"""The model-quality container jobs: baseline, ground-truth merge, then analysis (issue 13)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics as skm

from mmutils.analyzer import container
from mmutils.analyzer.model_quality.merged import MERGED_FILE, SUMMARY_FILE, read_merged

CSV_FORMAT = json.dumps({"csv": {"header": True, "output_columns_position": "START"}})
MERGE_FORMAT = json.dumps({"sagemakerMergeJson": {"captureIndexNames": ["endpointOutput"]}})


def _capture_line(event_id, probability, when, inference_id):
    return json.dumps(
        {
            "captureData": {
                "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                  "data": "1,2", "encoding": "CSV"},
                "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                                   "data": str(probability), "encoding": "CSV"},
            },
            "eventMetadata": {"eventId": event_id, "inferenceId": inference_id,
                              "inferenceTime": when},
            "eventVersion": "0",
        }
    )  # fmt: skip


def _gt_line(event_id, label):
    return json.dumps(
        {
            "groundTruthData": {"data": str(label), "encoding": "CSV"},
            "eventMetadata": {"eventId": event_id},
            "eventVersion": "0",
        }
    )


def _scores(n, seed, flip=0.0):
    rng = np.random.default_rng(seed)
    truth = rng.random(n) < 0.3
    prob = np.round(np.clip(0.45 * truth + 0.55 * rng.random(n), 0, 1), 4)
    labels = np.where(rng.random(n) < flip, ~truth, truth)
    return labels, prob


@pytest.fixture
def baseline(tmp_path):
    """A baseline job run through the container entry, as ModelQualityMonitor sends it."""
    opt_ml = tmp_path / "baseline-job"
    data = opt_ml / "processing" / "input" / "baseline_dataset_input"
    data.mkdir(parents=True)
    labels, prob = _scores(300, 1)
    rows = [f"{p},{int(p > 0.5)},{int(t)}" for p, t in zip(prob, labels, strict=True)]
    (data / "baseline.csv").write_text("probability,prediction,label\n" + "\n".join(rows) + "\n")
    env = {
        "MMLAB_OPT_ML": str(opt_ml),
        "analysis_type": "MODEL_QUALITY",
        "problem_type": "BinaryClassification",
        "inference_attribute": "prediction",
        "probability_attribute": "probability",
        "ground_truth_attribute": "label",
        "dataset_format": CSV_FORMAT,
        "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
        "output_path": "/opt/ml/processing/output",
        "publish_cloudwatch_metrics": "Disabled",
    }
    assert container.run(env) == 0
    assert (opt_ml / "output" / "message").read_text() == (
        "Completed: Job completed successfully with no violations."
    )
    out = opt_ml / "processing" / "output"
    stats = json.loads((out / "statistics.json").read_text())
    auc = stats["binary_classification_metrics"]["auc"]["value"]
    assert auc == pytest.approx(skm.roc_auc_score(labels, prob))
    return out / "constraints.json"


def _merge_job(tmp_path, n, flip, *, unlabelled=0):
    opt_ml = tmp_path / "merge"
    cap = opt_ml / "processing" / "input_data" / "ep" / "AllTraffic" / "2024" / "01" / "02" / "00"
    cap.mkdir(parents=True)
    labels, prob = _scores(n, 7, flip)
    lines = [
        _capture_line(f"e{i}", prob[i], f"2024-01-02T00:{i % 60:02d}:00Z", f"id-{i}")
        for i in range(n)
    ]
    # one record outside the window: read, not merged
    lines.append(_capture_line("late", 0.9, "2024-01-02T01:00:00Z", "id-0"))
    (cap / "00-00-000-a.jsonl").write_text("\n".join(lines) + "\n")
    gt = opt_ml / "processing" / "groundtruth" / "2024" / "01" / "02" / "01"
    gt.mkdir(parents=True)
    gt_lines = [_gt_line(f"id-{i}", int(labels[i])) for i in range(n - unlabelled)]
    (gt / "0500.jsonl").write_text("\n".join(gt_lines) + "\n")
    env = {
        "MMLAB_OPT_ML": str(opt_ml),
        "dataset_source": "/opt/ml/processing/input_data",
        "ground_truth_source": "/opt/ml/processing/groundtruth",
        "output_path": "/opt/ml/processing/output",
        "start_time": "2024-01-02T00:00:00Z",
        "end_time": "2024-01-02T01:00:00Z",
    }
    code = container.run(env)
    return code, opt_ml, labels[: n - unlabelled], prob[: n - unlabelled]


def test_merge_job_writes_the_joined_records(tmp_path):
    code, opt_ml, labels, prob = _merge_job(tmp_path, 250, 0.0, unlabelled=10)
    assert code == 0
    assert (opt_ml / "output" / "message").read_text() == (
        "Completed: Merged 240 of 250 captured records with ground truth (10 without a label)."
    )
    out = opt_ml / "processing" / "output"
    first = json.loads((out / MERGED_FILE).read_text().splitlines()[0])
    assert first == {
        "captureData": {"endpointOutput": {"data": str(prob[0]), "encoding": "CSV"}},
        "groundTruthData": {"data": str(int(labels[0])), "encoding": "CSV"},
        "eventMetadata": {"eventId": "id-0"},
        "eventVersion": "0",
    }
    summary = json.loads((out / SUMMARY_FILE).read_text())
    assert summary["merged"] == 240 and summary["unmatched_captures"] == 10
    assert summary["outside_window"] == 1
    assert len(read_merged(out)) == 240


def test_merge_job_without_any_label_fails_clearly(tmp_path):
    code, opt_ml, _, _ = _merge_job(tmp_path, 20, 0.0, unlabelled=20)
    assert code == 255
    message = (opt_ml / "output" / "message").read_text()
    assert message.startswith("Job inputs had no data: no captured record in the window")


def test_analysis_job_reads_the_merge_and_flags_concept_drift(tmp_path, baseline):
    code, merge_opt_ml, labels, prob = _merge_job(tmp_path, 400, 0.45)
    assert code == 0
    opt_ml = tmp_path / "analysis"
    (opt_ml / "processing").mkdir(parents=True)
    (merge_opt_ml / "processing" / "output").rename(opt_ml / "processing" / "input_data")
    base = opt_ml / "processing" / "baseline" / "constraints"
    base.mkdir(parents=True)
    (base / "constraints.json").write_bytes(baseline.read_bytes())
    env = {
        "MMLAB_OPT_ML": str(opt_ml),
        "analysis_type": "MODEL_QUALITY",
        "problem_type": "BinaryClassification",
        "probability_attribute": "0",
        "probability_threshold_attribute": "0.5",
        "dataset_format": MERGE_FORMAT,
        "dataset_source": "/opt/ml/processing/input_data",
        "baseline_constraints": "/opt/ml/processing/baseline/constraints/constraints.json",
        "output_path": "/opt/ml/processing/output",
        "publish_cloudwatch_metrics": "Enabled",
        "sagemaker_endpoint_name": "ep",
        "sagemaker_monitoring_schedule_name": "sched",
        "start_time": "2024-01-02T00:00:00Z",
        "end_time": "2024-01-02T01:00:00Z",
        "metric_time": "2024-01-02T01:00:00Z",
    }
    assert container.run(env) == 0
    message = (opt_ml / "output" / "message").read_text()
    assert message.startswith("CompletedWithViolations: Job completed successfully with ")
    out = opt_ml / "processing" / "output"
    stats = json.loads((out / "statistics.json").read_text())
    block = stats["binary_classification_metrics"]
    assert stats["dataset"]["item_count"] == 400
    assert block["auc"]["value"] == pytest.approx(skm.roc_auc_score(labels, prob))
    assert block["accuracy"]["value"] == pytest.approx(skm.accuracy_score(labels, prob > 0.5))
    violations = json.loads((out / "constraint_violations.json").read_text())["violations"]
    assert {v["metric_name"] for v in violations} >= {"auc", "accuracy"}
    metrics = [
        json.loads(line)
        for line in (opt_ml / "output" / "metrics" / "cloudwatch")
        .joinpath("cloudwatch_metrics.jsonl")
        .read_text()
        .splitlines()
    ]
    by_name = {m["MetricName"]: m for m in metrics}
    assert by_name["auc"]["Value"] == pytest.approx(block["auc"]["value"])
    assert by_name["auc"]["Timestamp"] == "2024-01-02T01:00:00Z"


def test_analysis_job_needs_a_ground_truth_attribute_for_a_baseline(tmp_path):
    opt_ml = tmp_path / "b"
    data = opt_ml / "processing" / "input" / "baseline_dataset_input"
    data.mkdir(parents=True)
    (data / "b.csv").write_text("probability,label\n0.2,0\n")
    env = {
        "MMLAB_OPT_ML": str(opt_ml),
        "analysis_type": "MODEL_QUALITY",
        "problem_type": "BinaryClassification",
        "probability_attribute": "probability",
        "dataset_format": CSV_FORMAT,
        "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
        "output_path": "/opt/ml/processing/output",
    }
    assert container.run(env) == 255
    assert (opt_ml / "output" / "message").read_text() == (
        "ground_truth_attribute is required for a model-quality baseline job"
    )
