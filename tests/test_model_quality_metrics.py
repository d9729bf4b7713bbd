"""Model-quality metrics equal scikit-learn's on generated labelled data (issue 13)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from mmutils.analyzer.model_quality.metrics import (
    MIN_SAMPLES_FOR_STD,
    binary_classification_metrics,
    multiclass_classification_metrics,
    regression_metrics,
    sample_weights,
)


def _binary_data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    truth = rng.random(n) < 0.3
    # scores with ties (rounded) so the distinct-score grouping is exercised
    score = np.round(np.clip(0.35 * truth + 0.65 * rng.random(n), 0.0, 1.0), 2)
    return truth, score > 0.5, score


@pytest.mark.parametrize("n", [50, 1000])
def test_binary_metrics_equal_sklearn(n):
    truth, predicted, score = _binary_data(n, seed=n)
    doc = binary_classification_metrics(truth, predicted, score)
    tn, fp, fn, tp = skm.confusion_matrix(truth, predicted, labels=[0, 1]).ravel()
    assert doc["confusion_matrix"] == {
        "0": {"0": int(tn), "1": int(fp)},
        "1": {"0": int(fn), "1": int(tp)},
    }
    expected = {
        "recall": skm.recall_score(truth, predicted),
        "precision": skm.precision_score(truth, predicted),
        "accuracy": skm.accuracy_score(truth, predicted),
        "true_positive_rate": skm.recall_score(truth, predicted),
        "true_negative_rate": skm.recall_score(~truth, ~predicted),
        "false_positive_rate": fp / (fp + tn),
        "false_negative_rate": fn / (fn + tp),
        "auc": skm.roc_auc_score(truth, score),
        "f0_5": skm.fbeta_score(truth, predicted, beta=0.5),
        "f1": skm.f1_score(truth, predicted),
        "f2": skm.fbeta_score(truth, predicted, beta=2.0),
    }
    for name, value in expected.items():
        assert doc[name]["value"] == pytest.approx(value, rel=1e-12, abs=1e-15), name


def test_binary_curves_equal_sklearn_points():
    truth, predicted, score = _binary_data(400, seed=3)
    doc = binary_classification_metrics(truth, predicted, score)
    fpr, tpr, _ = skm.roc_curve(truth, score, drop_intermediate=False)
    roc = doc["receiver_operating_characteristic_curve"]
    # Spark: (0, 0), one point per distinct score, (1, 1)
    np.testing.assert_allclose(roc["false_positive_rates"], np.r_[fpr, 1.0])
    np.testing.assert_allclose(roc["true_positive_rates"], np.r_[tpr, 1.0])
    precision, recall, _ = skm.precision_recall_curve(truth, score, drop_intermediate=False)
    pr = doc["precision_recall_curve"]
    # sklearn lists thresholds ascending and ends with (recall 0, precision 1)
    np.testing.assert_allclose(pr["recalls"][1:], recall[::-1][1:])
    np.testing.assert_allclose(pr["precisions"][1:], precision[::-1][1:])
    assert pr["recalls"][0] == 0.0
    assert pr["precisions"][0] == pr["precisions"][1]


def test_best_constant_classifier_predicts_the_most_frequent_prediction():
    # the real baseline: 173/0/12/16 -> constant 0 (recall 0, precision 0, accuracy 173/201)
    truth = np.r_[np.zeros(173), np.zeros(0), np.ones(12), np.ones(16)].astype(bool)
    predicted = np.r_[np.zeros(173), np.zeros(12), np.ones(16)].astype(bool)
    doc = binary_classification_metrics(truth, predicted)
    assert doc["accuracy_best_constant_classifier"]["value"] == pytest.approx(173 / 201)
    assert doc["recall_best_constant_classifier"]["value"] == 0.0
    assert doc["f1_best_constant_classifier"]["value"] == 0.0
    # the documented example: 3 of 4 predictions positive -> constant 1
    doc = binary_classification_metrics(np.array([0, 0, 0, 1], bool), np.array([0, 1, 1, 1], bool))
    assert doc["recall_best_constant_classifier"]["value"] == 1.0
    assert doc["precision_best_constant_classifier"]["value"] == 0.25
    assert doc["f0_5_best_constant_classifier"]["value"] == 0.29411764705882354
    assert doc["f1_best_constant_classifier"]["value"] == 0.4
    assert doc["f2_best_constant_classifier"]["value"] == 0.625
    # the documented values, digit for digit (1 - x for the complementary rates)
    assert doc["true_negative_rate"]["value"] == 0.33333333333333337
    assert doc["f0_5"]["value"] == 0.3846153846153846
    assert doc["f2"]["value"] == 0.7142857142857143


def test_real_monitoring_values_digit_for_digit():
    # a real execution (1892 records): TP 156, FP 69, FN 1218, TN 449
    truth = np.r_[np.ones(156), np.zeros(69), np.ones(1218), np.zeros(449)].astype(bool)
    predicted = np.r_[np.ones(156 + 69), np.zeros(1218 + 449)].astype(bool)
    doc = binary_classification_metrics(truth, predicted)
    assert doc["precision"]["value"] == 0.6933333333333334
    assert doc["recall"]["value"] == 0.11353711790393013
    assert doc["f1"]["value"] == 0.19512195121951217
    assert doc["f2"]["value"] == 0.13633980073413737
    assert doc["accuracy"]["value"] == 0.31976744186046513
    assert doc["false_positive_rate"]["value"] == 0.13320463320463322
    assert doc["true_negative_rate"]["value"] == 0.8667953667953667
    assert doc["false_negative_rate"]["value"] == 0.8864628820960698


def test_standard_deviation_needs_200_samples_and_is_deterministic():
    truth, predicted, score = _binary_data(MIN_SAMPLES_FOR_STD - 1, seed=5)
    doc = binary_classification_metrics(truth, predicted, score)
    assert math.isnan(doc["accuracy"]["standard_deviation"])
    truth, predicted, score = _binary_data(MIN_SAMPLES_FOR_STD, seed=5)
    first = binary_classification_metrics(truth, predicted, score, seed=7)
    again = binary_classification_metrics(truth, predicted, score, seed=7)
    assert first == again
    w = sample_weights(MIN_SAMPLES_FOR_STD, seed=7)
    acc = (w @ (truth == predicted)) / w.sum(axis=1)
    assert first["accuracy"]["standard_deviation"] == pytest.approx(np.std(acc[1:], ddof=1))
    assert 0.7 < w[1:].mean() < 0.9  # about 80 % of the rows per sample


def test_multiclass_metrics_equal_sklearn():
    rng = np.random.default_rng(11)
    n, k = 900, 4
    truth = rng.choice(k, size=n, p=[0.4, 0.3, 0.2, 0.1])
    predicted = np.where(rng.random(n) < 0.6, truth, rng.integers(0, k, n))
    names = [str(i) for i in range(k)]
    doc = multiclass_classification_metrics(names, truth, predicted)
    cm = skm.confusion_matrix(truth, predicted, labels=list(range(k)))
    assert doc["confusion_matrix"] == {
        a: {b: int(cm[i, j]) for j, b in enumerate(names)} for i, a in enumerate(names)
    }
    assert doc["accuracy"]["value"] == pytest.approx(skm.accuracy_score(truth, predicted))
    for name, fn in (
        ("weighted_recall", lambda t, p: skm.recall_score(t, p, average="weighted")),
        ("weighted_precision", lambda t, p: skm.precision_score(t, p, average="weighted")),
        ("weighted_f0_5", lambda t, p: skm.fbeta_score(t, p, beta=0.5, average="weighted")),
        ("weighted_f1", lambda t, p: skm.f1_score(t, p, average="weighted")),
        ("weighted_f2", lambda t, p: skm.fbeta_score(t, p, beta=2, average="weighted")),
    ):
        assert doc[name]["value"] == pytest.approx(fn(truth, predicted), rel=1e-12), name
    # best constant classifier: always the least frequent true class (3)
    constant = np.full(n, 3)
    kwargs = {"average": "weighted", "zero_division": 0}
    assert doc["accuracy_best_constant_classifier"]["value"] == pytest.approx(
        skm.accuracy_score(truth, constant)
    )
    assert doc["weighted_precision_best_constant_classifier"]["value"] == pytest.approx(
        skm.precision_score(truth, constant, **kwargs)
    )
    assert doc["weighted_f1_best_constant_classifier"]["value"] == pytest.approx(
        skm.f1_score(truth, constant, **kwargs)
    )
    assert all(
        math.isfinite(v["standard_deviation"]) for k_, v in doc.items() if k_ != "confusion_matrix"
    )


def test_multiclass_documented_example():
    # AWS docs: confusion {0: {0: 1180, 1: 510}, 1: {0: 268, 1: 138}}
    truth = np.r_[np.zeros(1180 + 510), np.ones(268 + 138)].astype(int)
    predicted = np.r_[np.zeros(1180), np.ones(510), np.zeros(268), np.ones(138)].astype(int)
    doc = multiclass_classification_metrics(["0", "1"], truth, predicted)
    for name, value in {
        "accuracy": 0.6288167938931297,
        "weighted_precision": 0.6983172269629505,
        "weighted_f0_5": 0.6803947317178771,
        "weighted_f1": 0.6571162346664904,
        "weighted_f2": 0.6384024354394601,
        "accuracy_best_constant_classifier": 0.19370229007633588,
        "weighted_precision_best_constant_classifier": 0.03752057718081697,
        "weighted_f0_5_best_constant_classifier": 0.04473443104152011,
        "weighted_f1_best_constant_classifier": 0.06286421244683643,
        "weighted_f2_best_constant_classifier": 0.10570313141262414,
    }.items():
        assert doc[name]["value"] == pytest.approx(value, rel=1e-12), name


def test_regression_metrics_equal_sklearn():
    rng = np.random.default_rng(2)
    truth = rng.normal(10, 3, 600)
    predicted = truth + rng.normal(0.5, 1.5, 600)
    doc = regression_metrics(truth, predicted)
    assert list(doc) == ["mae", "mse", "rmse", "r2"]
    assert doc["mae"]["value"] == pytest.approx(skm.mean_absolute_error(truth, predicted))
    assert doc["mse"]["value"] == pytest.approx(skm.mean_squared_error(truth, predicted))
    assert doc["rmse"]["value"] == pytest.approx(skm.root_mean_squared_error(truth, predicted))
    assert doc["r2"]["value"] == pytest.approx(skm.r2_score(truth, predicted))


def test_one_class_only_gives_nan_for_undefined_rates():
    truth = np.zeros(300, bool)
    rng = np.random.default_rng(0)
    score = rng.random(300)
    doc = binary_classification_metrics(truth, score > 0.5, score)
    assert math.isnan(doc["recall"]["value"])
    assert math.isnan(doc["auc"]["value"])
    assert doc["precision"]["value"] == 0.0
    assert doc["accuracy"]["value"] == pytest.approx(skm.accuracy_score(truth, score > 0.5))
    assert doc["false_positive_rate"]["value"] == pytest.approx(np.mean(score > 0.5))
