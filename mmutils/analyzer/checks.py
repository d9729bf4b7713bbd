"""Monitoring checks: baseline statistics + constraints vs a window -> violations (spec §D).

Checks, per baseline feature in baseline order (then extra columns):
``missing_column_check``, ``data_type_check``, ``completeness_check``, ``baseline_drift_check``,
``categorical_values_check``; ``extra_column_check`` for columns beyond the baseline's.

Order: the real container writes violations in hash-map order (it differs between runs of the
same job); this implementation writes them in feature order so outputs are reproducible.

Decisions where the service's behaviour is not observed (spec §D.3, UNCONFIRMED there):

* data type ratio = values of the expected type / non-null values (deequ's ``hasDataType``
  ignores nulls); an expected ``Fractional`` is met by Integral and Fractional values, an
  expected ``String`` by any value.
* a feature that fails ``data_type_check`` gets no ``baseline_drift_check`` (what all real runs
  show, §D.2).
* categorical drift with ``ChiSquared`` is a violation when the p-value is *below* the
  categorical threshold.
* ``missing_column_check`` / ``extra_column_check`` / ``completeness_check`` wording is ours.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from mmutils.analyzer import distances
from mmutils.analyzer.errors import AnalyzerError
from mmutils.analyzer.jsonfmt import java_double
from mmutils.analyzer.kll import SortedSketch
from mmutils.formats.reports import NUMERIC_TYPES, stats_block

#: the container's DataQualityMonitoringConfig defaults (spec §E.1)
DEFAULT_CONFIG: dict = {
    "evaluate_constraints": "Enabled",
    "emit_metrics": "Enabled",
    "datatype_check_threshold": 1.0,
    "domain_content_threshold": 1.0,
    "distribution_constraints": {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
        "categorical_comparison_threshold": None,  # defaults to comparison_threshold
        "categorical_drift_method": "LInfinity",
    },
}


@dataclass
class FeatureCounts:
    """What the checks need to know about one column of the window, beyond statistics.json.

    Attributes:
        types: per-cell class counts (``Integral``, ``Fractional``, ``Boolean``, ``String``,
            ``Unknown`` for nulls).
        in_domain: non-null values inside the baseline's ``string_constraints.domains`` (None
            when the feature has no domain constraint).
    """

    types: dict[str, int] = field(default_factory=dict)
    in_domain: int | None = None


@dataclass
class CheckReport:
    """Violations plus the drift distances computed on the way (CloudWatch metrics use them)."""

    violations: list[dict]
    drift: dict[str, float]


# --------------------------------------------------------------------------------------------
# Configuration


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(w.title() for w in rest)


def _get(mapping: Mapping, key: str):
    if key in mapping:
        return mapping[key]
    return mapping.get(_camel(key))


def monitoring_config(constraints: Mapping) -> dict:
    """The constraints' ``monitoring_config`` with the container's defaults filled in."""
    given = _get(constraints, "monitoring_config") or {}
    return _merge(DEFAULT_CONFIG, given)


def _merge(base: Mapping, given: Mapping) -> dict:
    out = {}
    for key, default in base.items():
        value = _get(given, key)
        if isinstance(default, Mapping):
            out[key] = _merge(default, value or {})
        else:
            out[key] = default if value is None else value
    dist = out.get("distribution_constraints")
    if isinstance(dist, dict) and dist.get("categorical_comparison_threshold") is None:
        dist["categorical_comparison_threshold"] = dist["comparison_threshold"]
    return out


def feature_overrides(feature: Mapping) -> dict:
    """Per-feature ``monitoring_config`` overrides, whichever spelling the file uses.

    Accepted: ``monitoringConfigOverrides`` / ``monitoring_config_overrides`` on the feature
    (the docs' schema) and inside ``string_constraints`` / ``num_constraints`` (what the SDK's
    ``Constraints.set_monitoring`` writes). Later spellings win.
    """
    found: dict = {}
    holders = [
        feature,
        feature.get("num_constraints") or {},
        feature.get("string_constraints") or {},
    ]
    for holder in holders:
        for key in ("monitoringConfigOverrides", "monitoring_config_overrides"):
            value = holder.get(key)
            if isinstance(value, Mapping):
                found.update(value)
    return found


def _feature_config(base: dict, feature: Mapping) -> dict:
    overrides = feature_overrides(feature)
    if not overrides:
        return base
    cfg = _merge(base, overrides)
    # flat distribution keys in an override apply too (e.g. {"comparison_threshold": 0.2})
    dist = dict(cfg["distribution_constraints"])
    for key in DEFAULT_CONFIG["distribution_constraints"]:
        value = _get(overrides, key)
        if value is not None:
            dist[key] = value
    cfg["distribution_constraints"] = dist
    return cfg


def _enabled(value) -> bool:
    return str(value).lower() in ("enabled", "true")


# --------------------------------------------------------------------------------------------
# Statistics helpers


def present_missing(feature: Mapping | None) -> tuple[int, int]:
    """``(num_present, num_missing)`` of a statistics.json feature (zeros when absent)."""
    block = (stats_block(feature) if feature else None) or {}
    common = block.get("common") or {}
    return int(common.get("num_present", 0)), int(common.get("num_missing", 0))


def sketch_levels(feature: Mapping | None) -> list | None:
    """The KLL ``sketch.data`` levels of a numeric statistics.json feature, or None."""
    try:
        data = feature["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"]
    except (KeyError, TypeError):
        return None
    return data if any(len(level) for level in data) else None


def baseline_sketches(baseline_statistics: Mapping | None) -> dict[str, SortedSketch]:
    """The baseline's numeric sketches prepared for drift (:func:`run_checks`' ``prepared``).

    They depend on the baseline alone, so a monitoring run prepares them while the window's
    first files are parsed rather than after the window is read.

    Returns:
        Feature name -> its sketch as a :class:`~mmutils.analyzer.kll.SortedSketch`,
        for the features with a non-empty sketch.
    """
    prepared: dict[str, SortedSketch] = {}
    features = (baseline_statistics or {}).get("features")
    for feature in features if isinstance(features, list) else []:
        if not isinstance(feature, Mapping) or not isinstance(feature.get("name"), str):
            continue  # run_checks reports a malformed document, at its usual point
        try:
            levels = sketch_levels(feature)
            sketch = distances.sorted_sketch(levels) if levels is not None else None
        except (TypeError, ValueError):  # not lists of numbers: left to run_checks as well
            sketch = None
        if sketch is not None:
            prepared[feature["name"]] = sketch
        else:  # a later feature of the same name wins, as in run_checks
            prepared.pop(feature["name"], None)
    return prepared


def category_counts(feature: Mapping | None) -> dict[str, float] | None:
    """``{value: count}`` from a String feature's categorical buckets, or None."""
    try:
        buckets = feature["string_statistics"]["distribution"]["categorical"]["buckets"]
    except (KeyError, TypeError):
        return None
    name = feature.get("name", "?")
    counts = {
        str(b["value"]): _number(b["count"], name, "categorical bucket count", "statistics")
        for b in buckets
    }
    return counts if counts and sum(counts.values()) > 0 else None


def _number(value, feature: str, key: str, document: str = "baseline constraints") -> float:
    """``float(value)``, or an error naming the document, the feature and the key."""
    try:
        if isinstance(value, bool):  # JSON true/false are not numbers here
            raise TypeError
        return float(value)
    except (TypeError, ValueError):
        raise AnalyzerError(
            f"Invalid {document}: feature {feature!r}: {key} must be a number, found {value!r}"
        ) from None


def _pct(x: float) -> str:
    return java_double(x * 100)


def type_ratio(expected: str, types: Mapping[str, int]) -> float | None:
    """Share of non-null values meeting ``expected`` (None when there is no non-null value)."""
    non_null = sum(v for k, v in types.items() if k != "Unknown")
    if non_null == 0:
        return None
    if expected == "Integral":
        match = types.get("Integral", 0)
    elif expected == "Fractional":
        match = types.get("Integral", 0) + types.get("Fractional", 0)
    elif expected == "Boolean":
        match = types.get("Boolean", 0)
    else:  # String / Unknown baseline: any value is acceptable
        match = non_null
    return match / non_null


# --------------------------------------------------------------------------------------------
# Descriptions


def data_type_description(expected: str, threshold: float, ratio: float) -> str:
    """The service's ``data_type_check`` text; ``ratio * 100`` printed as a Java double."""
    return (
        f"Data type match requirement is not met. Expected data type: {expected}, "
        f"Expected match: {_pct(threshold)}%. Observed: Only {_pct(ratio)}% of data is {expected}."
    )


def completeness_description(expected: float, observed: float) -> str:
    """``completeness_check`` text (wording not observed on the service)."""
    return (
        f"Data completeness requirement is not met. Expected completeness: {_pct(expected)}%. "
        f"Observed: Only {_pct(observed)}% of data is present."
    )


def drift_description(kind: str, distance: float, threshold: float) -> str:
    """``baseline_drift_check`` text; keeps the ``distance: <d> exceeds`` part AWS's tools parse."""
    return (
        f"{kind} distance: {java_double(distance)} exceeds {kind.lower()} threshold: "
        f"{java_double(float(threshold))}"
    )


def chi_square_description(p_value: float, threshold: float) -> str:
    """``baseline_drift_check`` text for the chi-square method (a p-value, not a distance)."""
    return (
        f"Categorical drift p-value: {java_double(p_value)} is below categorical threshold: "
        f"{java_double(float(threshold))}"
    )


def domain_description(ratio: float) -> str:
    """``categorical_values_check`` text, in the form AWS's helper parses (trailing space kept)."""
    return f"Value: {java_double(ratio)} does not meet the constraint requirement! "


def _columns_description(kind: str, current: int, baseline: int) -> str:
    return (
        f"There are {kind} columns in current dataset. Number of columns in current dataset: "
        f"{current}, Number of columns in baseline constraints: {baseline}"
    )


# --------------------------------------------------------------------------------------------
# The checks


def _violation(name: str, check: str, description: str) -> dict:
    return {"feature_name": name, "constraint_check_type": check, "description": description}


def _drift(
    name: str,
    base_feat: Mapping | None,
    cur_feat: Mapping | None,
    inferred: str,
    dist_cfg: Mapping,
    base_sketch: SortedSketch | None,
    cur_sketch: SortedSketch | None,
) -> tuple[float | None, dict | None]:
    """Distance (for metrics) and the violation, if any, for one feature."""
    method = dist_cfg["comparison_method"]
    if inferred in NUMERIC_TYPES:
        base_levels = base_sketch if base_sketch is not None else sketch_levels(base_feat)
        cur_levels = cur_sketch if cur_sketch is not None else sketch_levels(cur_feat)
        if base_levels is None or cur_levels is None:
            return None, None
        distance = distances.numerical_distance(base_levels, cur_levels, method)
        threshold = _number(dist_cfg["comparison_threshold"], name, "comparison_threshold")
        if distance > threshold:
            return distance, _violation(
                name, "baseline_drift_check", drift_description("Numerical", distance, threshold)
            )
        return distance, None
    base_counts, cur_counts = category_counts(base_feat), category_counts(cur_feat)
    if base_counts is None or cur_counts is None:
        return None, None
    threshold = _number(
        dist_cfg["categorical_comparison_threshold"], name, "categorical_comparison_threshold"
    )
    if dist_cfg.get("categorical_drift_method") == "ChiSquared":
        _, p_value, _ = distances.chi_square_test(cur_counts, base_counts)
        if math.isnan(p_value):
            return None, None
        if p_value < threshold:
            return p_value, _violation(
                name, "baseline_drift_check", chi_square_description(p_value, threshold)
            )
        return p_value, None
    distance = distances.categorical_distance(base_counts, cur_counts, method)
    if distance > threshold:
        return distance, _violation(
            name, "baseline_drift_check", drift_description("Categorical", distance, threshold)
        )
    return distance, None


def run_checks(
    baseline_statistics: Mapping | None,
    baseline_constraints: Mapping,
    statistics: Mapping,
    counts: Mapping[str, FeatureCounts],
    columns: Sequence[str],
    prepared: Mapping[str, SortedSketch] | None = None,
    current: Sequence[SortedSketch | None] | None = None,
) -> CheckReport:
    """Evaluate a window against its baseline.

    Args:
        baseline_statistics: the baseline statistics.json document (for drift; may be None).
        baseline_constraints: the baseline constraints.json document.
        statistics: the window's statistics.json document.
        counts: per-column type counts and domain matches of the window.
        columns: the window's column names, by position (baseline names, then ``_c{i}``).
        prepared: :func:`baseline_sketches` of ``baseline_statistics``, if made already.
        current: the window's sketches, sorted, one per feature of ``statistics`` (None for
            a feature without), as the profiler hands them out; read from ``statistics``
            when not given.

    Returns:
        The violations in feature order and the drift distance of every compared feature.
    """
    cfg = monitoring_config(baseline_constraints)
    if prepared is None:
        prepared = {}
    base_feats = {f["name"]: f for f in (baseline_statistics or {}).get("features", [])}
    cur_list = statistics.get("features", [])
    cur_feats = {f["name"]: f for f in cur_list}
    # a sketch goes with its feature (the last of a name, as in cur_feats)
    cur_sorted: dict[str, SortedSketch | None] = {}
    if current is not None:
        for feature, view in zip(cur_list, current, strict=True):
            cur_sorted[feature["name"]] = view
    constraint_feats = list(baseline_constraints.get("features", []))
    baseline_names = [f["name"] for f in constraint_feats]
    present_cols = set(columns)
    evaluate = _enabled(cfg["evaluate_constraints"])
    violations: list[dict] = []
    distances: dict[str, float] = {}

    for feature in constraint_feats:
        name = feature["name"]
        fcfg = _feature_config(cfg, feature)
        active = evaluate and _enabled(fcfg["evaluate_constraints"])
        if name not in present_cols:
            if active:
                violations.append(
                    _violation(
                        name,
                        "missing_column_check",
                        _columns_description("missing", len(columns), len(baseline_names)),
                    )
                )
            continue
        inferred = feature.get("inferred_type") or (base_feats.get(name) or {}).get(
            "inferred_type", "String"
        )
        fc = counts.get(name) or FeatureCounts()
        type_ok = True
        ratio = type_ratio(inferred, fc.types)
        threshold = _number(fcfg["datatype_check_threshold"], name, "datatype_check_threshold")
        if ratio is not None and ratio < threshold:
            type_ok = False
            if active:
                violations.append(
                    _violation(
                        name, "data_type_check", data_type_description(inferred, threshold, ratio)
                    )
                )
        expected_completeness = feature.get("completeness")
        present, missing = present_missing(cur_feats.get(name))
        total = present + missing
        if expected_completeness is not None:
            expected_completeness = _number(expected_completeness, name, "completeness")
        if active and expected_completeness is not None and total:
            observed = present / total
            if observed < expected_completeness:
                violations.append(
                    _violation(
                        name,
                        "completeness_check",
                        completeness_description(expected_completeness, observed),
                    )
                )
        dist_cfg = fcfg["distribution_constraints"]
        if type_ok and _enabled(dist_cfg["perform_comparison"]):
            distance, violation = _drift(
                name,
                base_feats.get(name),
                cur_feats.get(name),
                inferred,
                dist_cfg,
                prepared.get(name),
                cur_sorted.get(name),
            )
            if distance is not None:
                distances[name] = distance
            if violation and active:
                violations.append(violation)
        domains = (feature.get("string_constraints") or {}).get("domains")
        non_null = sum(v for k, v in fc.types.items() if k != "Unknown") or present
        if active and domains and fc.in_domain is not None and non_null:
            share = fc.in_domain / non_null
            if share < _number(fcfg["domain_content_threshold"], name, "domain_content_threshold"):
                violations.append(
                    _violation(name, "categorical_values_check", domain_description(share))
                )

    if evaluate:
        known = set(baseline_names)
        for name in columns:
            if name not in known:
                violations.append(
                    _violation(
                        name,
                        "extra_column_check",
                        _columns_description("extra", len(columns), len(baseline_names)),
                    )
                )
    return CheckReport(violations, distances)
