"""Monitoring checks -> violations (spec §D)."""

from __future__ import annotations

import copy
import re

import pytest

from mmutils.analyzer import distances
from mmutils.analyzer.checks import (
    FeatureCounts,
    baseline_sketches,
    data_type_description,
    monitoring_config,
    run_checks,
)
from mmutils.analyzer.kll import SortedSketch

# ratio first, then x100, then Java Double.toString (spec §D.2/§D.3: every value observed)
OBSERVED = [
    (1970, 1977, "99.64592817400101"),
    (1912, 1919, "99.6352266805628"),
    (2024, 2031, "99.65534219596258"),
    (1908, 1915, "99.63446475195823"),
    (1407, 1412, "99.6458923512748"),
    (0, 1977, "0.0"),
]


@pytest.mark.parametrize(("good", "total", "text"), OBSERVED)
def test_data_type_description_matches_service(good, total, text):
    report = run_checks(
        None,
        {"features": [{"name": "x", "inferred_type": "Integral", "completeness": 1.0}]},
        {"features": [_num("x", [[1.0]], present=total)]},
        {"x": FeatureCounts(types={"Integral": good, "Fractional": total - good})},
        ["x"],
    )
    assert report.violations == [
        {
            "feature_name": "x",
            "constraint_check_type": "data_type_check",
            "description": "Data type match requirement is not met. Expected data type: "
            f"Integral, Expected match: 100.0%. Observed: Only {text}% of data is Integral.",
        }
    ]


def test_description_helper_is_the_confirmed_text():
    assert data_type_description("Integral", 1.0, 1970 / 1977) == (
        "Data type match requirement is not met. Expected data type: Integral, Expected match: "
        "100.0%. Observed: Only 99.64592817400101% of data is Integral."
    )


def _num(name, levels, present=None, missing=0, inferred="Integral"):
    n = present if present is not None else sum(len(lv) * 2**h for h, lv in enumerate(levels))
    return {
        "name": name,
        "inferred_type": inferred,
        "numerical_statistics": {
            "common": {"num_present": n, "num_missing": missing},
            "distribution": {"kll": {"sketch": {"data": levels}}},
        },
    }


def _str(name, counts, missing=0):
    return {
        "name": name,
        "inferred_type": "String",
        "string_statistics": {
            "common": {"num_present": sum(counts.values()), "num_missing": missing},
            "distribution": {
                "categorical": {"buckets": [{"value": k, "count": v} for k, v in counts.items()]}
            },
        },
    }


BASE_LEVELS = [[float(i % 10) for i in range(400)]]
SHIFTED = [[float(i % 10) + 4 for i in range(400)]]


def _setup():
    baseline_stats = {
        "features": [
            _num("a", BASE_LEVELS),
            _num("b", BASE_LEVELS),
            _str("c", {"x": 200, "y": 150, "z": 50}),
        ]
    }
    constraints = {
        "version": 0.0,
        "features": [
            {"name": "a", "inferred_type": "Integral", "completeness": 1.0},
            {"name": "b", "inferred_type": "Integral", "completeness": 1.0},
            {
                "name": "c",
                "inferred_type": "String",
                "completeness": 1.0,
                "string_constraints": {"domains": ["x", "y", "z"]},
            },
        ],
        "monitoring_config": {
            "evaluate_constraints": "Enabled",
            "emit_metrics": "Enabled",
            "datatype_check_threshold": 1.0,
            "domain_content_threshold": 1.0,
            "distribution_constraints": {
                "perform_comparison": "Enabled",
                "comparison_threshold": 0.1,
                "comparison_method": "Robust",
            },
        },
    }
    current = {
        "features": [
            _num("a", SHIFTED),
            _num("b", BASE_LEVELS, present=390, missing=10),
            _str("c", {"x": 40, "y": 40, "w": 320}),
        ]
    }
    counts = {
        "a": FeatureCounts(types={"Integral": 400}),
        "b": FeatureCounts(types={"Integral": 390, "Unknown": 10}),
        "c": FeatureCounts(types={"String": 400}, in_domain=80),
    }
    return baseline_stats, constraints, current, counts


def test_drift_completeness_and_domain_checks_in_feature_order():
    baseline_stats, constraints, current, counts = _setup()
    report = run_checks(baseline_stats, constraints, current, counts, ["a", "b", "c"])
    kinds = [(v["feature_name"], v["constraint_check_type"]) for v in report.violations]
    assert kinds == [
        ("a", "baseline_drift_check"),
        ("b", "completeness_check"),
        ("c", "baseline_drift_check"),
        ("c", "categorical_values_check"),
    ]
    a_desc = report.violations[0]["description"]
    distance = float(re.search(r"distance: (.+) exceeds", a_desc).group(1))
    assert distance == distances.numerical_distance(BASE_LEVELS, SHIFTED, "Robust")
    assert a_desc == f"Numerical distance: {distance} exceeds numerical threshold: 0.1"
    assert report.drift["a"] == distance and report.drift["b"] == 0.0
    assert report.violations[1]["description"] == (
        "Data completeness requirement is not met. Expected completeness: 100.0%. "
        "Observed: Only 97.5% of data is present."
    )
    c_desc = report.violations[2]["description"]
    assert c_desc.startswith("Categorical distance: ")
    linf = distances.categorical_distance(
        {"x": 200, "y": 150, "z": 50}, {"x": 40, "y": 40, "w": 320}
    )
    assert report.drift["c"] == linf
    # AWS's helper regex reads the domain share back
    value = re.search(
        r"Value: (.+) does not meet the constraint requirement!",
        report.violations[3]["description"],
    )
    assert float(value.group(1)) == 0.2


def test_prepared_baseline_sketches_give_the_same_report():
    baseline_stats, constraints, current, counts = _setup()
    # a repeated name: the later feature wins in both paths (here: an empty sketch, no drift)
    baseline_stats["features"].append(_num("b", [[]]))
    prepared = baseline_sketches(baseline_stats)
    assert sorted(prepared) == ["a"]
    columns = ["a", "b", "c"]
    plain = run_checks(baseline_stats, constraints, current, counts, columns)
    fast = run_checks(baseline_stats, constraints, current, counts, columns, prepared)
    assert fast == plain and "a" in fast.drift and "b" not in fast.drift
    assert baseline_sketches(None) == {} and baseline_sketches({"features": "x"}) == {}
    broken = {"features": [_num("a", [["x", "y"]]), "not a feature", {"no name": True}]}
    assert baseline_sketches(broken) == {}  # left to run_checks to report


def _sorted_window(current):
    return [
        SortedSketch.from_levels(f["numerical_statistics"]["distribution"]["kll"]["sketch"]["data"])
        if "numerical_statistics" in f
        else None
        for f in current["features"]
    ]


@pytest.mark.parametrize("repeat", [None, "string last", "numeric last"])
def test_window_sketches_handed_over_sorted_give_the_same_report(repeat):
    baseline_stats, constraints, current, counts = _setup()
    columns = ["a", "b", "c"]
    if repeat == "string last":  # a repeated name: the later feature wins in both paths
        current["features"].append(_str("a", {"x": 400}))
        columns.append("a")
    elif repeat == "numeric last":
        current["features"].insert(0, _str("a", {"x": 400}))
        columns.insert(0, "a")
    plain = run_checks(baseline_stats, constraints, current, counts, columns)
    fast = run_checks(
        baseline_stats, constraints, current, counts, columns, None, _sorted_window(current)
    )
    assert fast == plain
    assert ("a" in fast.drift) == (repeat != "string last")


def test_type_failure_suppresses_drift():
    baseline_stats, constraints, current, counts = _setup()
    counts["a"] = FeatureCounts(types={"Integral": 399, "Fractional": 1})
    report = run_checks(baseline_stats, constraints, current, counts, ["a", "b", "c"])
    a = [v["constraint_check_type"] for v in report.violations if v["feature_name"] == "a"]
    assert a == ["data_type_check"] and "a" not in report.drift


def test_simple_method_and_thresholds():
    baseline_stats, constraints, current, counts = _setup()
    dist = constraints["monitoring_config"]["distribution_constraints"]
    dist["comparison_method"] = "Simple"
    dist["comparison_threshold"] = 0.5
    report = run_checks(baseline_stats, constraints, current, counts, ["a", "b", "c"])
    assert report.drift["a"] == distances.numerical_linf(BASE_LEVELS, SHIFTED)[0] == 0.4
    assert not any(v["feature_name"] == "a" for v in report.violations)


def test_chi_squared_categorical_drift():
    baseline_stats, constraints, current, counts = _setup()
    dist = constraints["monitoring_config"]["distribution_constraints"]
    dist["categorical_drift_method"] = "ChiSquared"
    report = run_checks(baseline_stats, constraints, current, counts, ["a", "b", "c"])
    c = [v for v in report.violations if v["feature_name"] == "c"]
    _, p_value, _ = distances.chi_square_test(
        {"x": 40, "y": 40, "w": 320}, {"x": 200, "y": 150, "z": 50}
    )
    assert report.drift["c"] == p_value < 0.1
    assert c[0]["description"].startswith("Categorical drift p-value: ")


def test_evaluate_constraints_disabled_and_perform_comparison_disabled():
    baseline_stats, constraints, current, counts = _setup()
    off = copy.deepcopy(constraints)
    off["monitoring_config"]["evaluate_constraints"] = "Disabled"
    report = run_checks(baseline_stats, off, current, counts, ["a", "b", "c"])
    assert report.violations == [] and "a" in report.drift  # metrics still get distances
    nocmp = copy.deepcopy(constraints)
    nocmp["monitoring_config"]["distribution_constraints"]["perform_comparison"] = "Disabled"
    report = run_checks(baseline_stats, nocmp, current, counts, ["a", "b", "c"])
    assert report.drift == {}
    assert "baseline_drift_check" not in {v["constraint_check_type"] for v in report.violations}


@pytest.mark.parametrize(
    "where",
    [
        ("monitoringConfigOverrides",),
        ("monitoring_config_overrides",),
        ("num_constraints", "monitoring_config_overrides"),
    ],
)
def test_per_feature_override_spellings(where):
    baseline_stats, constraints, current, counts = _setup()
    holder = constraints["features"][0]
    for key in where[:-1]:
        holder = holder.setdefault(key, {})
    holder[where[-1]] = {"evaluate_constraints": "Disabled"}
    report = run_checks(baseline_stats, constraints, current, counts, ["a", "b", "c"])
    assert not any(v["feature_name"] == "a" for v in report.violations)
    assert any(v["feature_name"] == "b" for v in report.violations)


def test_override_threshold_for_one_feature():
    baseline_stats, constraints, current, counts = _setup()
    constraints["features"][0]["monitoringConfigOverrides"] = {"comparison_threshold": 0.9}
    report = run_checks(baseline_stats, constraints, current, counts, ["a", "b", "c"])
    assert not any(v["feature_name"] == "a" for v in report.violations)


def test_missing_and_extra_columns():
    baseline_stats, constraints, current, counts = _setup()
    report = run_checks(baseline_stats, constraints, current, counts, ["a", "b"])
    assert report.violations[-1] == {
        "feature_name": "c",
        "constraint_check_type": "missing_column_check",
        "description": "There are missing columns in current dataset. Number of columns in "
        "current dataset: 2, Number of columns in baseline constraints: 3",
    }
    report = run_checks(baseline_stats, constraints, current, counts, ["a", "b", "c", "_c3"])
    assert report.violations[-1]["feature_name"] == "_c3"
    assert report.violations[-1]["constraint_check_type"] == "extra_column_check"


def test_defaults_when_monitoring_config_absent():
    cfg = monitoring_config({"features": []})
    assert cfg["datatype_check_threshold"] == 1.0
    assert cfg["distribution_constraints"]["comparison_method"] == "Robust"
    assert cfg["distribution_constraints"]["categorical_comparison_threshold"] == 0.1
    assert cfg["distribution_constraints"]["categorical_drift_method"] == "LInfinity"


def test_fractional_accepts_integral_and_nulls_are_ignored():
    constraints = {"features": [{"name": "f", "inferred_type": "Fractional", "completeness": 0.5}]}
    current = {"features": [_num("f", [[1.0, 2.5]], present=2, missing=2, inferred="Fractional")]}
    counts = {"f": FeatureCounts(types={"Integral": 1, "Fractional": 1, "Unknown": 2})}
    assert run_checks(None, constraints, current, counts, ["f"]).violations == []
    counts = {"f": FeatureCounts(types={"Integral": 1, "String": 1, "Unknown": 2})}
    (v,) = run_checks(None, constraints, current, counts, ["f"]).violations
    assert v["description"].endswith("Only 50.0% of data is Fractional.")
