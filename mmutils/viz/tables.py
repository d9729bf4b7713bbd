"""The violation table: one row per feature, the values a check looked at, flags, styling.

Re-implements the behaviour of AWS's archived Model Monitor visualization helper
(spec §H) from its description, with one improvement: features that have no entry in the
latest statistics (for example a feature only named by a violation) show NaN instead of
raising.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd
from pandas.io.formats.style import Styler

from mmutils.formats.reports import CHECK_TYPES, load_violations, stats_block
from mmutils.viz.documents import as_feature_map, get_completeness, get_features

#: Regexes AWS's helper uses to pull numbers out of violation descriptions (spec §H).
_DRIFT_RE = re.compile(r"distance: (.+?) exceeds")
_VALUE_RE = re.compile(r"Value: (.+) does not meet the constraint requirement!")

#: Value columns of the table, and the check whose violation colours each one.
VALUE_COLUMNS = {
    "data_type": "data_type_check",
    "completeness": "completeness_check",
    "baseline_drift": "baseline_drift_check",
    "categorical_values": "categorical_values_check",
}
#: Columns shown as percentages.
PERCENT_COLUMNS = ("completeness", "baseline_drift", "categorical_values")
#: Checks without a value column of their own: they are about the column's presence, so
#: they colour the ``data_type`` cell.
_SCHEMA_CHECKS = ("missing_column_check", "extra_column_check")

ROW_COLOUR = "#fff7dc"
CELL_COLOUR = "orange"


def group_by_feature(baseline: Any = None, latest: Any = None, violations: Any = None) -> dict:
    """Group baseline features, latest features and violations by feature name.

    Args:
        baseline: baseline statistics (dict, path, JSON text, SDK ``Statistics``) or ``None``.
        latest: statistics of a monitoring execution, same forms, or ``None``.
        violations: constraint_violations document (any form) or its list, or ``None``.

    Returns:
        ``{name: {"baseline": feature|None, "latest": feature|None, "violations": [...]}}``
        with names in order of first appearance (baseline, then latest, then violations).
    """
    groups: dict[str, dict] = {}

    def entry(name: str) -> dict:
        return groups.setdefault(name, {"baseline": None, "latest": None, "violations": []})

    for name, feature in get_features(baseline).items():
        entry(name)["baseline"] = feature
    for name, feature in get_features(latest).items():
        entry(name)["latest"] = feature
    for violation in load_violations(violations):
        entry(violation["feature_name"])["violations"].append(violation)
    return groups


def violation_exists(group: Mapping, check_type: str) -> bool:
    """True if any violation of a grouped feature has ``constraint_check_type == check_type``."""
    return any(v["constraint_check_type"] == check_type for v in group["violations"])


def _number_from(group: Mapping, name: str, check_type: str, pattern: re.Pattern) -> float:
    """Parse the number a violation description reports, NaN when there is none."""
    for violation in group["violations"]:
        if violation["constraint_check_type"] != check_type:
            continue
        match = pattern.search(violation.get("description", ""))
        if match is None:
            continue
        try:
            return float(match.group(1))
        except ValueError:
            raise ValueError(
                f"feature {name!r}: cannot read a number from the {check_type} description "
                f"{violation.get('description')!r}"
            ) from None
    return math.nan


def get_baseline_drift(group: Mapping, name: str = "?") -> float:
    """Drift distance from a ``baseline_drift_check`` description (``distance: X exceeds``)."""
    return _number_from(group, name, "baseline_drift_check", _DRIFT_RE)


def get_categorical_values(group: Mapping, name: str = "?") -> float:
    """Value from a ``categorical_values_check`` description (``Value: X does not meet …``)."""
    return _number_from(group, name, "categorical_values_check", _VALUE_RE)


def violation_df(
    baseline_statistics: Any = None, latest_statistics: Any = None, violations: Any = None
) -> pd.DataFrame:
    """Build the violation table.

    Rows are features sorted by name. Value columns: ``data_type`` (latest ``inferred_type``),
    ``completeness`` (latest ``num_present/(num_present+num_missing)``), ``baseline_drift``
    (parsed from ``distance: X exceeds``), ``categorical_values`` (parsed from
    ``Value: X does not meet the constraint requirement!``). Boolean flag columns, one per
    check type (``data_type_check``, ``completeness_check``, …), say which checks were violated.

    Unlike AWS's helper, a feature without a ``latest`` entry gives NaN values instead of
    raising, so violations of features absent from the statistics still show.

    Args:
        baseline_statistics: baseline statistics in any form ``load_document`` accepts, or None.
        latest_statistics: the execution's statistics, same forms, or None.
        violations: the constraint_violations document (any form) or its list, or None.

    Returns:
        A DataFrame indexed by feature name (index name ``feature``).
    """
    groups = group_by_feature(baseline_statistics, latest_statistics, violations)
    rows = []
    for name in sorted(groups):
        group = groups[name]
        latest = group["latest"]
        if latest is not None and stats_block(latest) is None and "inferred_type" not in latest:
            raise ValueError(f"feature {name!r}: latest statistics entry has no inferred_type")
        row = {
            "data_type": latest.get("inferred_type", math.nan) if latest else math.nan,
            "completeness": get_completeness(latest),
            "baseline_drift": get_baseline_drift(group, name),
            "categorical_values": get_categorical_values(group, name),
        }
        row.update({check: violation_exists(group, check) for check in CHECK_TYPES})
        rows.append(row)
    columns = [*VALUE_COLUMNS, *CHECK_TYPES]
    df = pd.DataFrame(rows, index=pd.Index(sorted(groups), name="feature"), columns=columns)
    df = df.astype({c: "float64" for c in PERCENT_COLUMNS} | {c: "bool" for c in CHECK_TYPES})
    return df.astype({"data_type": "object"})


def violation_styles(df: pd.DataFrame) -> pd.DataFrame:
    """CSS for every value cell of a :func:`violation_df` table.

    White background; rows with any violation ``#fff7dc``; the cell a violated check is
    about orange (missing/extra column checks colour the ``data_type`` cell).
    """
    values = list(VALUE_COLUMNS)
    css = pd.DataFrame("background-color: white", index=df.index, columns=values)
    any_violation = df[list(CHECK_TYPES)].any(axis=1)
    css.loc[any_violation, :] = f"background-color: {ROW_COLOUR}"
    for column, check in VALUE_COLUMNS.items():
        css.loc[df[check], column] = f"background-color: {CELL_COLOUR}"
    schema = df[list(_SCHEMA_CHECKS)].any(axis=1)
    css.loc[schema, "data_type"] = f"background-color: {CELL_COLOUR}"
    return css


def style_violation_df(df: pd.DataFrame) -> Styler:
    """Style a :func:`violation_df` table: percentages, ``N/A`` for NaN, colours, flags hidden."""
    values = list(VALUE_COLUMNS)
    styler = df[values].style
    styler = styler.format("{:.2%}", subset=list(PERCENT_COLUMNS), na_rep="N/A")
    styler = styler.format(lambda v: v, subset=["data_type"], na_rep="N/A")
    css = violation_styles(df)
    # a fixed id keeps the HTML identical run to run (pandas draws a random one otherwise)
    return styler.apply(lambda _: css, axis=None).set_uuid("mmlab-violations")


def violations_first(df: pd.DataFrame) -> pd.DataFrame:
    """A :func:`violation_df` table reordered for reading: drifted features first, then the
    other features with a violation, then the rest (each group by name)."""
    drift = df["baseline_drift_check"]
    other = df[list(CHECK_TYPES)].any(axis=1) & ~drift
    rank = pd.Series(2, index=df.index).mask(other, 1).mask(drift, 0)
    order = sorted(df.index, key=lambda name: (rank[name], name))
    return df.loc[order]


def show_violation_df(
    baseline_statistics: Any = None,
    latest_statistics: Any = None,
    violations: Any = None,
    *,
    sort_violations_first: bool = False,
) -> Styler:
    """The styled violation table of a monitoring execution (see :func:`violation_df`).

    Percent columns read ``{:.2%}``, missing values ``N/A``; rows with a violation are light
    yellow (``#fff7dc``) and the violated cell orange. Features that have no entry in the
    latest statistics show ``N/A`` (AWS's helper raised on them).

    Args:
        baseline_statistics: baseline statistics (dict, path, JSON text or SDK object).
        latest_statistics: the execution's statistics (same forms).
        violations: the execution's constraint_violations document or its list.
        sort_violations_first: order the rows with :func:`violations_first` (drift first)
            instead of by feature name.

    Returns:
        A pandas ``Styler``; display it in a notebook, or call ``.to_html()``.
    """
    df = violation_df(baseline_statistics, latest_statistics, violations)
    if sort_violations_first:
        df = violations_first(df)
    return style_violation_df(df)


#: Statistics that are not scalars and stay out of the summary table.
_NON_SCALAR = ("common", "distribution")


def summary_table(features: Any) -> pd.DataFrame:
    """One row per feature: type, ``common`` counts and every scalar statistic.

    Args:
        features: ``{name: feature}``, a list of features, or a statistics document in any
            form ``load_document`` accepts.

    Returns:
        A DataFrame indexed by feature name, in the input's feature order, with columns
        ``inferred_type``, ``num_present``, ``num_missing`` then the scalar statistics in
        first-seen order (``mean``, ``sum``, ``std_dev``, ``min``, ``max``, ``distinct_count``…).
        Distributions are left out.
    """
    rows = {}
    for name, feature in as_feature_map(features).items():
        row: dict[str, Any] = {"inferred_type": feature.get("inferred_type")}
        block = stats_block(feature) or {}
        row.update(block.get("common", {}))
        row.update({k: v for k, v in block.items() if k not in _NON_SCALAR})
        rows[name] = row
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "feature"
    return df
