"""Model Monitor's report documents: ``statistics.json``, ``constraints.json`` and
``constraint_violations.json`` (spec §B–§D), loaded from whatever a caller holds.

A document may be given as a parsed ``dict``, a path to the JSON file, the JSON text (``str``
or ``bytes``), or one of the SageMaker SDK's file objects (``Statistics``, ``Constraints``,
``ConstraintViolations``), which keep the parsed document in ``.body_dict``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

STATISTICS = "statistics.json"
CONSTRAINTS = "constraints.json"
VIOLATIONS = "constraint_violations.json"

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


class DocumentError(ValueError):
    """A report document that is not valid JSON or lacks what it must hold."""


def load_document(
    source: Any, *, what: str = "document", loads: Callable[[str], Any] = json.loads
) -> dict | None:
    """Return a Model Monitor JSON document as a ``dict``.

    Args:
        source: ``None``, a ``dict``, an SDK file object (anything with ``.body_dict``), a
            ``bytes``/``str`` of JSON text, or a path to a JSON file.
        what: what the document is (``"statistics"``…), used in error messages.
        loads: parses JSON text (``json.loads`` or one that gives the same document and
            raises its ``JSONDecodeError``).

    Returns:
        The parsed document, or ``None`` when ``source`` is ``None``.

    Raises:
        DocumentError: the text or file is not valid JSON (the message names the file, line
            and column) or not a JSON object.
        FileNotFoundError: ``{what} file not found: {path}``.
        TypeError: ``source`` is of an unsupported type.
    """
    if source is None:
        return None
    if hasattr(source, "body_dict"):
        source = source.body_dict
    if isinstance(source, Mapping):
        return dict(source)
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DocumentError(f"{what} JSON text: not UTF-8 ({exc})") from None
    if isinstance(source, str) and source.lstrip().startswith(("{", "[")):
        return parse_document(source, f"{what} JSON text", loads)
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{what} file not found: {path}")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise DocumentError(f"{path}: not UTF-8 ({exc})") from None
        return parse_document(text, str(path), loads)
    raise TypeError(
        f"cannot read a {what} from {type(source).__name__}: "
        "pass a dict, a path, JSON text or an SDK file object"
    )


def parse_document(text: str, origin: str, loads: Callable[[str], Any] = json.loads) -> dict:
    """Parse a document's JSON text (``origin`` names it in errors; ``loads`` parses it).

    Raises:
        DocumentError: not valid JSON, or not a JSON object.
    """
    try:
        doc = loads(text)
    except json.JSONDecodeError as err:
        raise DocumentError(
            f"{origin}: not valid JSON (line {err.lineno}, column {err.colno}): {err.msg}"
        ) from None
    if not isinstance(doc, dict):
        raise DocumentError(f"{origin}: expected a JSON object, found {type(doc).__name__}")
    return doc


def load_violations(source: Any) -> list[dict]:
    """Return the list of violations from a constraint_violations document or list.

    Args:
        source: ``None`` (no violations), the whole ``constraint_violations.json`` document in
            any form :func:`load_document` accepts, or its ``violations`` list.

    Returns:
        The violations, each a dict with ``feature_name`` (data quality) or ``metric_name``
        (model quality), ``constraint_check_type`` and ``description``.

    Raises:
        DocumentError: the document has no ``violations`` list or an entry lacks a required key.
    """
    if source is None:
        return []
    if isinstance(source, Sequence) and not isinstance(source, str | bytes):
        violations = list(source)
    else:
        doc = load_document(source, what="constraint_violations")
        if "violations" not in doc or not isinstance(doc["violations"], list):
            raise DocumentError("constraint_violations document has no 'violations' list")
        violations = doc["violations"]
    for i, v in enumerate(violations):
        if not isinstance(v, Mapping):
            raise DocumentError(f"violations[{i}]: expected an object, found {type(v).__name__}")
        # data quality names a feature; model quality a metric (docs/model-quality-formats.md)
        name_key = "metric_name" if "metric_name" in v else "feature_name"
        for key in (name_key, "constraint_check_type"):
            if key not in v:
                raise DocumentError(f"violations[{i}]: missing key {key!r} ({dict(v)})")
    return [dict(v) for v in violations]


def stats_block(feature: Mapping) -> dict | None:
    """The ``numerical_statistics`` or ``string_statistics`` block of a feature, if any."""
    for key in ("numerical_statistics", "string_statistics"):
        if isinstance(feature.get(key), Mapping):
            return feature[key]
    return None
