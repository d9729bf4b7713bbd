"""Model-quality metrics, vectorised, in the service's names and order.

Each scalar metric is ``{"value": v, "standard_deviation": s}``. The service computes ``s``
"by randomly sampling 80% of the data 5 times, computing the metric, and taking the standard
deviation for those results", and only "when at least 200 samples are available" (AWS docs);
otherwise ``s`` is NaN (printed ``"NaN"``). Here the five samples are Bernoulli(0.8) row masks
drawn from a seeded generator, and every metric of the full data and of the five samples is
computed at once: the data is weighted by a ``(6, n)`` matrix whose row 0 is all ones.
(The service's samples are not reproducible: two real runs on the same data printed different
standard deviations — docs/model-quality-formats.md §3.)

Definitions (checked against real outputs, docs/model-quality-formats.md §3):

* precision = tp / (tp + fp), 0 when nothing is predicted positive;
* recall = true_positive_rate = tp / (tp + fn); false_positive_rate = fp / (fp + tn);
* true_negative_rate = 1 - false_positive_rate, false_negative_rate = 1 - recall (the real
  files print ``1 - x`` rounding, e.g. ``0.33333333333333337``);
* f_beta = (1 + b²)·p·r / (b²·p + r), 0 when p + r = 0;
* auc = trapezoidal area under the ROC curve; the curves have one point per distinct score
  (Spark's ``BinaryClassificationMetrics``): ROC = (0, 0), points, (1, 1); PR = (0, first
  precision), points.
"""

from __future__ import annotations

import math

import numpy as np

MIN_SAMPLES_FOR_STD = 200
N_SAMPLES = 5
SAMPLE_FRACTION = 0.8
#: (name suffix, beta) of the F-measures, in document order
BETAS = (("f0_5", 0.5), ("f1", 1.0), ("f2", 2.0))
NAN = float("nan")


def sample_weights(n: int, seed: int | None = 0) -> np.ndarray:
    """Row weights of the full data and of the bootstrap samples.

    Args:
        n: number of rows.
        seed: seed of the sampling (``None``: fresh entropy, like the service).

    Returns:
        A ``(6, n)`` float array (row 0 all ones, rows 1-5 Bernoulli(0.8) masks), or ``(1, n)``
        when ``n`` is below :data:`MIN_SAMPLES_FOR_STD`.
    """
    full = np.ones((1, n))
    if n < MIN_SAMPLES_FOR_STD:
        return full
    rng = np.random.default_rng(seed)
    masks = rng.random((N_SAMPLES, n)) < SAMPLE_FRACTION
    return np.vstack([full, masks.astype(np.float64)])


def metric(values: np.ndarray) -> dict:
    """``{"value", "standard_deviation"}`` of a metric computed on the full data and samples.

    Args:
        values: the metric on the full data (index 0) and on each sample (1..).

    Returns:
        The document entry; the deviation is the sample standard deviation (ddof 1) of the
        sampled values, NaN without samples.
    """
    values = np.asarray(values, dtype=np.float64)
    std = float(np.std(values[1:], ddof=1)) if len(values) > 2 else NAN
    return {"value": float(values[0]), "standard_deviation": std}


def _div(num: np.ndarray, den: np.ndarray, empty: float = NAN) -> np.ndarray:
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    safe = np.where(den != 0, den, 1.0)
    return np.where(den != 0, num / safe, empty)


def f_measure(precision: np.ndarray, recall: np.ndarray, beta: float) -> np.ndarray:
    """Spark's F-measure: ``(1 + b²)·p·r / (b²·p + r)``, 0 when ``p + r`` is 0."""
    b2 = beta * beta
    p = np.asarray(precision, dtype=np.float64)
    r = np.asarray(recall, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = (1 + b2) * p * r / (b2 * p + r)
    return np.where(p + r == 0, 0.0, value)


def _trapezoid(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Area under each row's polyline, summed left to right."""
    pieces = (x[:, 1:] - x[:, :-1]) * (y[:, 1:] + y[:, :-1]) / 2.0
    return np.cumsum(pieces, axis=1)[:, -1]


def _curves(truth: np.ndarray, score: np.ndarray, weights: np.ndarray, pos, neg):
    """ROC and PR points (one per distinct score, descending) for every weight row."""
    order = np.argsort(-score, kind="stable")
    s = score[order]
    ends = np.flatnonzero(np.r_[s[1:] != s[:-1], True])
    w = weights[:, order]
    t = truth[order]
    cum_pos = np.cumsum(w * t, axis=1)[:, ends]
    cum_neg = np.cumsum(w * ~t, axis=1)[:, ends]
    tpr = _div(cum_pos, pos[:, None])
    fpr = _div(cum_neg, neg[:, None])
    precision = _div(cum_pos, cum_pos + cum_neg, 0.0)
    k = len(weights)
    roc_x = np.hstack([np.zeros((k, 1)), fpr, np.ones((k, 1))])
    roc_y = np.hstack([np.zeros((k, 1)), tpr, np.ones((k, 1))])
    return roc_x, roc_y, precision, tpr


def constant_binary_label(predicted: np.ndarray) -> bool:
    """The label of the best constant classifier (binary): the most frequent prediction.

    Fits both observed files (docs/model-quality-formats.md §3.4): the real baseline (185 of
    201 predictions 0 -> constant 0) and the documented example (3 of 4 predictions 1 ->
    constant 1). A tie predicts the positive class. UNCONFIRMED beyond these two.
    """
    return bool(2 * int(np.count_nonzero(predicted)) >= len(predicted))


def binary_classification_metrics(
    truth: np.ndarray,
    predicted: np.ndarray,
    probability: np.ndarray | None = None,
    *,
    seed: int | None = 0,
) -> dict:
    """The ``binary_classification_metrics`` block.

    Args:
        truth: ground-truth labels (bool, True = 1).
        predicted: predicted labels (bool).
        probability: the predicted probability of class 1 (for AUC and the curves); without
            it the block has no ``receiver_operating_characteristic_curve``,
            ``precision_recall_curve`` nor ``auc``.
        seed: seed of the standard-deviation samples.

    Returns:
        The block as plain Python, keys in the service's order. Undefined rates (no positive
        or no negative label in the data) are NaN.
    """
    t = np.asarray(truth, dtype=bool)
    p = np.asarray(predicted, dtype=bool)
    w = sample_weights(len(t), seed)
    tp = w @ (t & p)
    fp = w @ (~t & p)
    fn = w @ (t & ~p)
    tn = w @ (~t & ~p)
    pos, neg = tp + fn, fp + tn
    total = pos + neg
    recall = _div(tp, pos)
    precision = _div(tp, tp + fp, 0.0)
    accuracy = _div(tp + tn, total)
    fpr = _div(fp, neg)
    # best constant classifier: every row gets one label
    if constant_binary_label(p):
        c_recall = _div(pos, pos)
        c_precision = _div(pos, total, 0.0)
        c_accuracy = _div(pos, total)
    else:
        c_recall = _div(np.zeros_like(pos), pos)
        c_precision = np.zeros_like(pos)
        c_accuracy = _div(neg, total)
    doc: dict = {
        "confusion_matrix": {
            "0": {"0": int(round(tn[0])), "1": int(round(fp[0]))},
            "1": {"0": int(round(fn[0])), "1": int(round(tp[0]))},
        },
        "recall": metric(recall),
        "precision": metric(precision),
        "accuracy": metric(accuracy),
        "recall_best_constant_classifier": metric(c_recall),
        "precision_best_constant_classifier": metric(c_precision),
        "accuracy_best_constant_classifier": metric(c_accuracy),
        "true_positive_rate": metric(recall),
        "true_negative_rate": metric(1.0 - fpr),
        "false_positive_rate": metric(fpr),
        "false_negative_rate": metric(1.0 - recall),
    }
    if probability is not None:
        score = np.asarray(probability, dtype=np.float64)
        roc_x, roc_y, pr_precision, pr_recall = _curves(t, score, w, pos, neg)
        first = pr_precision[0, :1]
        doc["receiver_operating_characteristic_curve"] = {
            "false_positive_rates": roc_x[0].tolist(),
            "true_positive_rates": roc_y[0].tolist(),
        }
        doc["precision_recall_curve"] = {
            "precisions": np.r_[first, pr_precision[0]].tolist(),
            "recalls": np.r_[0.0, pr_recall[0]].tolist(),
        }
        doc["auc"] = metric(_trapezoid(roc_x, roc_y))
    for name, beta in BETAS:
        doc[name] = metric(f_measure(precision, recall, beta))
    for name, beta in BETAS:
        doc[f"{name}_best_constant_classifier"] = metric(f_measure(c_precision, c_recall, beta))
    return doc


def constant_class(truth_index: np.ndarray, n_classes: int) -> int:
    """The class of the best constant classifier (multiclass): the least frequent true class.

    The only evidence is the AWS documentation's example (406 of 2096 rows true class "1",
    every ``*_best_constant_classifier`` value that of always predicting "1"). A tie takes the
    later class. UNCONFIRMED (docs/model-quality-formats.md §3.4).
    """
    counts = np.bincount(truth_index, minlength=n_classes).astype(np.float64)
    counts[counts == 0] = np.inf  # a class nobody has is no candidate
    return int(n_classes - 1 - np.argmin(counts[::-1]))


def multiclass_classification_metrics(
    names: list[str],
    truth_index: np.ndarray,
    predicted_index: np.ndarray,
    *,
    seed: int | None = 0,
) -> dict:
    """The ``multiclass_classification_metrics`` block.

    Args:
        names: the class names (``confusion_matrix`` keys, in this order).
        truth_index: each row's true class (index into ``names``).
        predicted_index: each row's predicted class.
        seed: seed of the standard-deviation samples.

    Returns:
        The block: ``confusion_matrix[true][predicted]`` counts, accuracy and the
        support-weighted recall / precision / F-measures, each also for the best constant
        classifier.
    """
    k = len(names)
    t = np.asarray(truth_index, dtype=np.int64)
    p = np.asarray(predicted_index, dtype=np.int64)
    w = sample_weights(len(t), seed)
    cells = t * k + p
    cm = np.stack([np.bincount(cells, weights=row, minlength=k * k) for row in w]).reshape(
        len(w), k, k
    )
    support = cm.sum(axis=2)
    predicted = cm.sum(axis=1)
    tp = np.diagonal(cm, axis1=1, axis2=2)
    total = support.sum(axis=1)
    recall_c = _div(tp, support, 0.0)
    precision_c = _div(tp, predicted, 0.0)
    share = _div(support, total[:, None], 0.0)

    def weighted(per_class: np.ndarray) -> np.ndarray:
        return (per_class * share).sum(axis=1)

    c = constant_class(t, k)
    c_share = share[:, c]
    c_recall = np.zeros_like(recall_c)
    c_recall[:, c] = np.where(support[:, c] > 0, 1.0, 0.0)
    c_precision = np.zeros_like(precision_c)
    c_precision[:, c] = c_share
    doc: dict = {
        "confusion_matrix": {
            a: {b: int(round(cm[0, i, j])) for j, b in enumerate(names)}
            for i, a in enumerate(names)
        },
        "accuracy": metric(_div(tp.sum(axis=1), total)),
        "weighted_recall": metric(weighted(recall_c)),
        "weighted_precision": metric(weighted(precision_c)),
    }
    for name, beta in BETAS:
        doc[f"weighted_{name}"] = metric(weighted(f_measure(precision_c, recall_c, beta)))
    doc["accuracy_best_constant_classifier"] = metric(c_share)
    doc["weighted_recall_best_constant_classifier"] = metric(weighted(c_recall))
    doc["weighted_precision_best_constant_classifier"] = metric(weighted(c_precision))
    for name, beta in BETAS:
        doc[f"weighted_{name}_best_constant_classifier"] = metric(
            weighted(f_measure(c_precision, c_recall, beta))
        )
    return doc


def regression_metrics(truth: np.ndarray, predicted: np.ndarray, *, seed: int | None = 0) -> dict:
    """The ``regression_metrics`` block: mae, mse, rmse, r2 (``1 - SS_res / SS_tot``).

    Args:
        truth: the true values.
        predicted: the predicted values.
        seed: seed of the standard-deviation samples.

    Returns:
        The block; r2 is NaN when the true values are constant (SS_tot = 0).
    """
    y = np.asarray(truth, dtype=np.float64)
    yhat = np.asarray(predicted, dtype=np.float64)
    w = sample_weights(len(y), seed)
    count = w.sum(axis=1)
    err = yhat - y
    sse = w @ (err * err)
    mae = _div(w @ np.abs(err), count)
    mse = _div(sse, count)
    mean = _div(w @ y, count)
    centred = y[None, :] - mean[:, None]
    sst = (w * centred * centred).sum(axis=1)
    r2 = 1.0 - _div(sse, sst)
    return {
        "mae": metric(mae),
        "mse": metric(mse),
        "rmse": metric(np.sqrt(mse)),
        "r2": metric(r2),
    }


def scalar_metrics(block: dict) -> dict[str, dict]:
    """The entries of a metrics block that carry a ``value`` (not the matrix nor curves)."""
    return {k: v for k, v in block.items() if isinstance(v, dict) and "value" in v}


def is_finite(value) -> bool:
    """True for a finite float/int (the documents write NaN as the string ``"NaN"``)."""
    return isinstance(value, int | float) and math.isfinite(value)
