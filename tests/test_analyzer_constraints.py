"""Constraint suggestion from statistics."""

from __future__ import annotations

import pyarrow as pa
import pytest

from mmutils.analyzer.constraints import suggest_constraints
from mmutils.analyzer.errors import AnalyzerError
from mmutils.analyzer.jsonfmt import dumps
from mmutils.analyzer.profile import Profiler


def stats_of(columns: dict[str, list]) -> dict:
    profiler = Profiler(list(columns))
    profiler.update(pa.table({k: pa.array(v, type=pa.string()) for k, v in columns.items()}))
    return profiler.result()


STATS = stats_of(
    {
        "n": ["1", "2", None, "4"],
        "neg": ["-1.5", "2", "3", "0"],
        "s": ["a", "b", "a", None],
        "u": [None, None, None, None],
    }
)


def test_features_completeness_and_kind_specific_constraints():
    doc = suggest_constraints(STATS)
    n, neg, s, u = doc["features"]
    assert n == {
        "name": "n",
        "inferred_type": "Integral",
        "completeness": 0.75,
        "num_constraints": {"is_non_negative": True},
    }
    assert neg["inferred_type"] == "Fractional"
    assert neg["num_constraints"] == {"is_non_negative": False}
    assert s == {
        "name": "s",
        "inferred_type": "String",
        "completeness": 0.75,
        "string_constraints": {"domains": ["a", "b"]},
    }
    assert u == {"name": "u", "inferred_type": "Unknown", "completeness": 0.0}


def test_default_monitoring_config_text_is_the_real_one():
    text = dumps(suggest_constraints(STATS))
    assert text.endswith(
        '  "monitoring_config" : {\n'
        '    "evaluate_constraints" : "Enabled",\n'
        '    "emit_metrics" : "Enabled",\n'
        '    "datatype_check_threshold" : 1.0,\n'
        '    "domain_content_threshold" : 1.0,\n'
        '    "distribution_constraints" : {\n'
        '      "perform_comparison" : "Enabled",\n'
        '      "comparison_threshold" : 0.1,\n'
        '      "comparison_method" : "Robust"\n'
        "    }\n"
        "  }\n"
        "}\n"
    )


@pytest.mark.parametrize("method", ["LInfinity", "ChiSquared"])
def test_newer_image_categorical_keys_only_when_asked(method):
    dist = suggest_constraints(STATS, categorical_drift_method=method)["monitoring_config"][
        "distribution_constraints"
    ]
    assert list(dist.items())[3:] == [
        ("categorical_comparison_threshold", 0.1),
        ("categorical_drift_method", method),
    ]
    with pytest.raises(AnalyzerError, match="categorical_drift_method must be one of"):
        suggest_constraints(STATS, categorical_drift_method="KS")


def test_override_is_deep_merged():
    doc = suggest_constraints(
        STATS,
        monitoring_config_override={
            "emit_metrics": "Disabled",
            "distribution_constraints": {"comparison_threshold": 0.2},
        },
    )
    config = doc["monitoring_config"]
    assert config["emit_metrics"] == "Disabled"
    assert config["distribution_constraints"] == {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.2,
        "comparison_method": "Robust",
    }
    # the defaults are not shared between calls
    assert suggest_constraints(STATS)["monitoring_config"]["emit_metrics"] == "Enabled"


def test_high_cardinality_string_gets_no_domains():
    stats = stats_of({"id": [f"id-{i}" for i in range(200)]})
    feature = suggest_constraints(stats)["features"][0]
    assert feature["inferred_type"] == "String"
    assert "string_constraints" not in feature


def test_rejects_a_document_that_is_not_statistics():
    with pytest.raises(AnalyzerError, match="not a statistics document"):
        suggest_constraints({"features": []})
