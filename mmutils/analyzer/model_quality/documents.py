"""The model-quality documents: statistics.json, constraints.json, constraint_violations.json.

Shapes and names follow docs/model-quality-formats.md (§4-§6): the statistics hold one
``{problem}_metrics`` block, the constraints one ``{problem}_constraints`` block of
``{"threshold", "comparison_operator"}`` per metric (threshold = the baseline value), and a
violation is ``{"constraint_check_type": <operator>, "description": "Metric <name> with <value>
+/- <std> was <operator> '<threshold>'", "metric_name": <name>}``. Documents are plain Python in
key order; :func:`mmutils.analyzer.jsonfmt.dumps` gives the bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from mmutils.analyzer.errors import AnalyzerError
from mmutils.analyzer.jsonfmt import java_double

BINARY = "BinaryClassification"
MULTICLASS = "MulticlassClassification"
REGRESSION = "Regression"
#: problem_type -> (statistics block, constraints block)
PROBLEM_TYPES = {
    BINARY: ("binary_classification_metrics", "binary_classification_constraints"),
    MULTICLASS: ("multiclass_classification_metrics", "multiclass_classification_constraints"),
    REGRESSION: ("regression_metrics", "regression_constraints"),
}

LESS = "LessThanThreshold"
GREATER = "GreaterThanThreshold"
#: every operator the check understands -> violated(value, threshold)
OPERATORS = {
    LESS: lambda v, t: v < t,
    GREATER: lambda v, t: v > t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
}

#: metrics suggest_baseline constrains, in the order it writes them, with their operator
SUGGESTED = {
    # [EX] real constraints.json (model_quality_churn_sdk notebook, 2021)
    BINARY: (
        ("recall", LESS),
        ("precision", LESS),
        ("accuracy", LESS),
        ("true_positive_rate", LESS),
        ("true_negative_rate", LESS),
        ("false_positive_rate", GREATER),
        ("false_negative_rate", GREATER),
        ("auc", LESS),
        ("f0_5", LESS),
        ("f1", LESS),
        ("f2", LESS),
    ),
    # UNCONFIRMED: the metrics of the documented block that are not baselines
    MULTICLASS: (
        ("accuracy", LESS),
        ("weighted_recall", LESS),
        ("weighted_precision", LESS),
        ("weighted_f0_5", LESS),
        ("weighted_f1", LESS),
        ("weighted_f2", LESS),
    ),
    # UNCONFIRMED: errors must not grow, r2 must not drop
    REGRESSION: (("mae", GREATER), ("mse", GREATER), ("rmse", GREATER), ("r2", LESS)),
}

#: [EX] binary metrics a monitoring execution checks, in the order its violations came out
#: (3 real runs); f0_5 is constrained but was never reported although violated.
BINARY_CHECK_ORDER = (
    "auc",
    "precision",
    "true_positive_rate",
    "f1",
    "accuracy",
    "false_positive_rate",
    "true_negative_rate",
    "false_negative_rate",
    "recall",
    "f2",
)
#: [EX] names in violations (camel case for the rates)
VIOLATION_NAMES = {
    "true_positive_rate": "truePositiveRate",
    "true_negative_rate": "trueNegativeRate",
    "false_positive_rate": "falsePositiveRate",
    "false_negative_rate": "falseNegativeRate",
}


def problem_blocks(problem_type: str) -> tuple[str, str]:
    """``(statistics key, constraints key)`` of a problem type.

    Raises:
        AnalyzerError: an unknown problem type (the valid ones are named).
    """
    try:
        return PROBLEM_TYPES[problem_type]
    except KeyError:
        raise AnalyzerError(
            f"problem_type {problem_type!r} is not supported: use one of {', '.join(PROBLEM_TYPES)}"
        ) from None


def statistics_document(
    problem_type: str, metrics: Mapping, item_count: int, evaluation_time: str | None = None
) -> dict:
    """``{"version": 0.0, "dataset": {"item_count", ["evaluation_time"]}, "<problem>_metrics"}``."""
    dataset: dict = {"item_count": int(item_count)}
    if evaluation_time:
        dataset["evaluation_time"] = evaluation_time
    return {"version": 0.0, "dataset": dataset, problem_blocks(problem_type)[0]: dict(metrics)}


def metrics_block(statistics: Mapping, problem_type: str) -> dict:
    """The ``<problem>_metrics`` block of a statistics document.

    Raises:
        AnalyzerError: the document has no block for this problem type.
    """
    key = problem_blocks(problem_type)[0]
    block = statistics.get(key)
    if not isinstance(block, Mapping):
        raise AnalyzerError(f"statistics have no {key!r} block (problem_type {problem_type})")
    return dict(block)


def suggest_constraints(statistics: Mapping, problem_type: str) -> dict:
    """The constraints suggest_baseline writes: each metric's baseline value as threshold.

    Metrics whose value is missing or not finite (e.g. no probabilities: no ``auc``) get no
    constraint.
    """
    block = metrics_block(statistics, problem_type)
    constraints = {}
    for name, operator in SUGGESTED[problem_type]:
        value = (block.get(name) or {}).get("value")
        if isinstance(value, int | float) and math.isfinite(value):
            constraints[name] = {"threshold": float(value), "comparison_operator": operator}
    return {"version": 0.0, problem_blocks(problem_type)[1]: constraints}


def description(name: str, value: float, std: float, operator: str, threshold: float) -> str:
    """``Metric auc with 0.51 +/- 0.007 was LessThanThreshold '0.93'`` (Java number text)."""
    return (
        f"Metric {name} with {java_double(value)} +/- {java_double(std)} "
        f"was {operator} '{java_double(threshold)}'"
    )


def _check_order(problem_type: str, constrained: Mapping) -> list[str]:
    if problem_type == BINARY:
        return [m for m in BINARY_CHECK_ORDER if m in constrained]
    return list(constrained)


def check_constraints(statistics: Mapping, constraints: Mapping, problem_type: str) -> list[dict]:
    """The violations of one execution.

    Args:
        statistics: the window's statistics document.
        constraints: the baseline constraints document.
        problem_type: the monitored problem type.

    Returns:
        The ``violations`` list. A metric the window could not compute (missing or NaN) is not
        a violation.

    Raises:
        AnalyzerError: the constraints lack the problem's block, or a constraint has no
            numeric threshold or an unknown comparison operator.
    """
    key = problem_blocks(problem_type)[1]
    constrained = constraints.get(key)
    if not isinstance(constrained, Mapping):
        raise AnalyzerError(f"constraints have no {key!r} block (problem_type {problem_type})")
    block = metrics_block(statistics, problem_type)
    violations = []
    for name in _check_order(problem_type, constrained):
        rule = constrained[name]
        threshold = rule.get("threshold") if isinstance(rule, Mapping) else None
        operator = rule.get("comparison_operator") if isinstance(rule, Mapping) else None
        if isinstance(threshold, str):
            try:
                threshold = float(threshold)
            except ValueError:
                threshold = None
        if not isinstance(threshold, int | float) or isinstance(threshold, bool):
            raise AnalyzerError(f"constraint {key}.{name} has no numeric 'threshold'")
        if operator not in OPERATORS:
            raise AnalyzerError(
                f"constraint {key}.{name} has comparison_operator {operator!r}: "
                f"use one of {', '.join(OPERATORS)}"
            )
        entry = block.get(name) or {}
        value, std = entry.get("value"), entry.get("standard_deviation")
        if not isinstance(value, int | float) or not math.isfinite(value):
            continue
        if OPERATORS[operator](float(value), float(threshold)):
            shown = VIOLATION_NAMES.get(name, name)
            std = float(std) if isinstance(std, int | float) else float("nan")
            violations.append(
                {
                    "constraint_check_type": operator,
                    "description": description(shown, value, std, operator, float(threshold)),
                    "metric_name": shown,
                }
            )
    return violations


def violations_document(violations: list[dict]) -> dict:
    """``{"violations": [...]}``."""
    return {"violations": list(violations)}


def exit_message(violations: list) -> str:
    """The execution's ExitMessage ([EX]: ``... with 10 violations.``)."""
    if not violations:
        return "Completed: Job completed successfully with no violations."
    return f"CompletedWithViolations: Job completed successfully with {len(violations)} violations."
