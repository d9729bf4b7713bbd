"""Model Monitor documents (statistics, violations) as the charts and tables read them.

Every public function of :mod:`mmutils.viz` accepts the same kinds of input for a document:
a parsed ``dict``, a path (``str`` or :class:`os.PathLike`) to a JSON file, the JSON text
itself, or one of the SageMaker SDK's file objects (``Statistics``, ``Constraints``,
``ConstraintViolations``), which keep the parsed document in ``.body_dict``. Loading them is
:mod:`mmutils.formats.reports`' job (re-exported here); this module indexes features and
computes what several charts need.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from mmutils.formats.reports import (
    CHECK_TYPES,
    NUMERIC_TYPES,
    STRING_TYPE,
    DocumentError,
    load_document,
    load_violations,
    stats_block,
)

__all__ = [
    "CHECK_TYPES",
    "DocumentError",
    "NUMERIC_TYPES",
    "STRING_TYPE",
    "as_feature_map",
    "get_completeness",
    "get_features",
    "load_document",
    "load_violations",
    "stats_block",
]


def get_features(statistics: Any) -> dict[str, dict]:
    """Index the features of a statistics document by name.

    Args:
        statistics: a statistics.json document in any form :func:`load_document` accepts, or
            ``None`` (no features).

    Returns:
        ``{feature name: feature dict}`` in the document's feature order.

    Raises:
        DocumentError: the document has no ``features`` list, or a feature has no ``name``
            (a ``ValueError``).
    """
    doc = load_document(statistics, what="statistics")
    if doc is None:
        return {}
    features = doc.get("features")
    if not isinstance(features, list):
        raise DocumentError("statistics document has no 'features' list")
    out: dict[str, dict] = {}
    for i, feature in enumerate(features):
        if not isinstance(feature, Mapping) or "name" not in feature:
            raise DocumentError(f"statistics features[{i}] has no 'name'")
        out[feature["name"]] = dict(feature)
    return out


def as_feature_map(features: Any) -> dict[str, dict]:
    """Accept a ``{name: feature}`` map, a list of features, or a whole statistics document."""
    if features is None:
        return {}
    if isinstance(features, Sequence) and not isinstance(features, str | bytes):
        return get_features({"features": list(features)})
    if isinstance(features, Mapping) and "features" not in features:
        return {str(k): dict(v) for k, v in features.items()}
    return get_features(features)


def get_completeness(feature: Mapping | None) -> float:
    """``num_present / (num_present + num_missing)`` of a feature.

    Args:
        feature: a statistics feature, or ``None`` (gives NaN).

    Returns:
        The non-null fraction; NaN for a missing feature, an ``Unknown`` feature without
        statistics, or a feature with no records at all.

    Raises:
        ValueError: a numeric or String feature lacks ``common.num_present``/``num_missing``.
    """
    if feature is None:
        return math.nan
    block = stats_block(feature)
    if block is None:
        if feature.get("inferred_type") in (*NUMERIC_TYPES, STRING_TYPE):
            raise ValueError(
                f"feature {feature.get('name')!r}: {feature.get('inferred_type')} feature "
                "has no numerical_statistics/string_statistics block"
            )
        return math.nan
    try:
        present = block["common"]["num_present"]
        missing = block["common"]["num_missing"]
    except (KeyError, TypeError):
        raise ValueError(
            f"feature {feature.get('name')!r}: statistics lack common.num_present/num_missing"
        ) from None
    total = present + missing
    return present / total if total else math.nan
