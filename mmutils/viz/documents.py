"""Loading Model Monitor documents (statistics, violations) from whatever a notebook holds.

Every public function of :mod:`mmutils.viz` accepts the same kinds of input for a document:
a parsed ``dict``, a path (``str`` or :class:`os.PathLike`) to a JSON file, the JSON text
itself, or one of the SageMaker SDK's file objects (``Statistics``, ``Constraints``,
``ConstraintViolations``), which keep the parsed document in ``.body_dict``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: The check types a constraint_violations.json can hold (spec §D.1), in display order.
CHECK_TYPES = (
    "data_type_check",
    "completeness_check",
    "baseline_drift_check",
    "categorical_values_check",
    "missing_column_check",
    "extra_column_check",
)

#: ``inferred_type`` values and the statistics block each one carries.
NUMERIC_TYPES = ("Integral", "Fractional")
STRING_TYPE = "String"


def load_document(source: Any, *, what: str = "document") -> dict | None:
    """Return a Model Monitor JSON document as a ``dict``.

    Args:
        source: ``None``, a ``dict``, an SDK file object (anything with ``.body_dict``), a
            ``bytes``/``str`` of JSON text, or a path to a JSON file.
        what: what the document is (``"statistics"``…), used in error messages.

    Returns:
        The parsed document, or ``None`` when ``source`` is ``None``.

    Raises:
        ValueError: the text or file is not valid JSON (the message names the file and line),
            or it is not a JSON object.
        FileNotFoundError: ``source`` looks like a path and no such file exists.
        TypeError: ``source`` is of an unsupported type.
    """
    if source is None:
        return None
    if hasattr(source, "body_dict"):
        source = source.body_dict
    if isinstance(source, Mapping):
        return dict(source)
    if isinstance(source, bytes):
        source = source.decode("utf-8")
    if isinstance(source, str) and source.lstrip().startswith(("{", "[")):
        return _parse(source, f"{what} JSON text")
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{what} file not found: {path}")
        return _parse(path.read_text(encoding="utf-8"), str(path))
    raise TypeError(
        f"cannot read a {what} from {type(source).__name__}: "
        "pass a dict, a path, JSON text or an SDK file object"
    )


def _parse(text: str, origin: str) -> dict:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(
            f"{origin}: not valid JSON (line {err.lineno}, column {err.colno}): {err.msg}"
        ) from None
    if not isinstance(doc, dict):
        raise ValueError(f"{origin}: expected a JSON object, found {type(doc).__name__}")
    return doc


def load_violations(source: Any) -> list[dict]:
    """Return the list of violations from a constraint_violations document or list.

    Args:
        source: ``None`` (no violations), the whole ``constraint_violations.json`` document in
            any form :func:`load_document` accepts, or its ``violations`` list.

    Returns:
        The violations, each a dict with ``feature_name``, ``constraint_check_type`` and
        ``description``.

    Raises:
        ValueError: the document has no ``violations`` list or an entry lacks a required key.
    """
    if source is None:
        return []
    if isinstance(source, Sequence) and not isinstance(source, str | bytes):
        violations = list(source)
    else:
        doc = load_document(source, what="constraint_violations")
        if "violations" not in doc or not isinstance(doc["violations"], list):
            raise ValueError("constraint_violations document has no 'violations' list")
        violations = doc["violations"]
    for i, v in enumerate(violations):
        if not isinstance(v, Mapping):
            raise ValueError(f"violations[{i}]: expected an object, found {type(v).__name__}")
        for key in ("feature_name", "constraint_check_type"):
            if key not in v:
                raise ValueError(f"violations[{i}]: missing key {key!r} ({dict(v)})")
    return [dict(v) for v in violations]


def get_features(statistics: Any) -> dict[str, dict]:
    """Index the features of a statistics document by name.

    Args:
        statistics: a statistics.json document in any form :func:`load_document` accepts, or
            ``None`` (no features).

    Returns:
        ``{feature name: feature dict}`` in the document's feature order.

    Raises:
        ValueError: the document has no ``features`` list, or a feature has no ``name``.
    """
    doc = load_document(statistics, what="statistics")
    if doc is None:
        return {}
    features = doc.get("features")
    if not isinstance(features, list):
        raise ValueError("statistics document has no 'features' list")
    out: dict[str, dict] = {}
    for i, feature in enumerate(features):
        if not isinstance(feature, Mapping) or "name" not in feature:
            raise ValueError(f"statistics features[{i}] has no 'name'")
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


def stats_block(feature: Mapping) -> dict | None:
    """The ``numerical_statistics`` or ``string_statistics`` block of a feature, if any."""
    for key in ("numerical_statistics", "string_statistics"):
        if isinstance(feature.get(key), Mapping):
            return feature[key]
    return None


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
