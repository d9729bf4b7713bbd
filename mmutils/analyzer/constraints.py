"""Constraint suggestion: a ``statistics.json`` document in, ``constraints.json`` out (spec §C).

Per feature the container writes its name, type and ``completeness`` (present / item count),
``num_constraints.is_non_negative`` (baseline min >= 0) for numeric features and
``string_constraints.domains`` (the observed values) for String features of small
cardinality. ``monitoring_config`` carries the real image's defaults: both thresholds 1.0,
everything Enabled, distribution comparison 0.1 / Robust. Newer images also write
``categorical_comparison_threshold`` and ``categorical_drift_method``; they appear here only when
a categorical drift method is asked for, so the default output is byte-identical to the
2020-2022 real file.

Choices the real output does not settle (marked UNCONFIRMED in the spec): a negative minimum
gives ``is_non_negative: false``; domains are written when a String feature has at most
``DOMAIN_CARDINALITY_LIMIT`` distinct values (deequ's low-cardinality histogram threshold), in
the order of the categorical buckets.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

from mmutils.analyzer.errors import AnalyzerError

__all__ = [
    "DOMAIN_CARDINALITY_LIMIT",
    "DRIFT_METHODS",
    "default_monitoring_config",
    "suggest_constraints",
]

#: String features with at most this many distinct values get ``domains``.
DOMAIN_CARDINALITY_LIMIT = 120
#: Accepted values of ``categorical_drift_method``.
DRIFT_METHODS = ("LInfinity", "ChiSquared")


def default_monitoring_config(categorical_drift_method: str | None = None) -> dict:
    """The ``monitoring_config`` block the container suggests.

    Args:
        categorical_drift_method: ``"LInfinity"`` or ``"ChiSquared"`` to write the newer image's
            categorical keys (threshold 0.1 and the method); None for the 2020-2022 layout.
    """
    distribution: dict = {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.1,
        "comparison_method": "Robust",
    }
    if categorical_drift_method is not None:
        if categorical_drift_method not in DRIFT_METHODS:
            raise AnalyzerError(
                f"categorical_drift_method must be one of {', '.join(DRIFT_METHODS)}, "
                f"got {categorical_drift_method!r}"
            )
        distribution["categorical_comparison_threshold"] = 0.1
        distribution["categorical_drift_method"] = categorical_drift_method
    return {
        "evaluate_constraints": "Enabled",
        "emit_metrics": "Enabled",
        "datatype_check_threshold": 1.0,
        "domain_content_threshold": 1.0,
        "distribution_constraints": distribution,
    }


def _deep_update(base: dict, override: Mapping) -> dict:
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _deep_update(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _feature_constraints(feature: Mapping, item_count: int) -> dict:
    name = feature.get("name")
    kind = feature.get("inferred_type")
    if name is None or kind is None:
        raise AnalyzerError(f"statistics feature without name or inferred_type: {dict(feature)!r}")
    out: dict = {"name": name, "inferred_type": kind}
    stats = feature.get("numerical_statistics") or feature.get("string_statistics") or {}
    present = (stats.get("common") or {}).get("num_present", 0)
    out["completeness"] = float(present) / float(item_count) if item_count else 0.0
    if kind in ("Integral", "Fractional"):
        minimum = feature["numerical_statistics"].get("min")
        out["num_constraints"] = {"is_non_negative": minimum is not None and minimum >= 0}
    elif kind == "String":
        distinct = stats.get("distinct_count", 0)
        buckets = ((stats.get("distribution") or {}).get("categorical") or {}).get("buckets", [])
        if 0 < distinct <= DOMAIN_CARDINALITY_LIMIT and len(buckets) >= distinct:
            out["string_constraints"] = {"domains": [b["value"] for b in buckets]}
    return out


def suggest_constraints(
    stats: Mapping,
    *,
    categorical_drift_method: str | None = None,
    monitoring_config_override: Mapping | None = None,
) -> dict:
    """Suggest the ``constraints.json`` document for a baseline.

    Args:
        stats: the ``statistics.json`` document (as produced by
            :meth:`mmutils.analyzer.profile.Profiler.result` or parsed from a file).
        categorical_drift_method: ``"LInfinity"`` or ``"ChiSquared"`` to write the newer
            image's categorical drift keys; None (default) for the real 2020-2022 layout.
        monitoring_config_override: values deep-merged over the suggested
            ``monitoring_config`` (e.g. ``{"distribution_constraints": {"comparison_threshold":
            0.2}}``).

    Returns:
        The constraints document in the container's key order.
    """
    try:
        item_count = int(stats["dataset"]["item_count"])
        features = stats["features"]
    except (KeyError, TypeError) as exc:
        raise AnalyzerError(f"not a statistics document: missing {exc}") from exc
    config = default_monitoring_config(categorical_drift_method)
    if monitoring_config_override:
        _deep_update(config, monitoring_config_override)
    return {
        "version": 0.0,
        "features": [_feature_constraints(f, item_count) for f in features],
        "monitoring_config": config,
    }
