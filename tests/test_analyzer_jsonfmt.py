"""Jackson pretty printing and Java ``Double.toString``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mmutils.analyzer.jsonfmt import dumps, java_double


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (2048.0, "2048.0"),
        (105.24000000000001, "105.24000000000001"),
        (0.1393056150878697, "0.1393056150878697"),
        (420468.3999999996, "420468.3999999996"),
        (9999999.0, "9999999.0"),
        (1e7, "1.0E7"),
        (23627900.0, "2.36279E7"),
        (123456789.0, "1.23456789E8"),
        (0.001, "0.001"),
        (0.00099, "9.9E-4"),
        (1e-4, "1.0E-4"),
        (-1.5e-10, "-1.5E-10"),
        (1.7976931348623157e308, "1.7976931348623157E308"),
        (-3.5, "-3.5"),
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (float("-inf"), "-Infinity"),
    ],
)
def test_java_double(value, text):
    assert java_double(value) == text


def test_layout_of_objects_arrays_and_empties():
    doc = {
        "version": 0.0,
        "count": 3,
        "flags": [True, False, None],
        "empty_list": [],
        "empty_obj": {},
        "nested": [[1.0, 2.0], []],
        "items": [{"a": 1, "b": {"c": "x"}}, {"d": []}],
    }
    assert dumps(doc) == (
        "{\n"
        '  "version" : 0.0,\n'
        '  "count" : 3,\n'
        '  "flags" : [ true, false, null ],\n'
        '  "empty_list" : [ ],\n'
        '  "empty_obj" : { },\n'
        '  "nested" : [ [ 1.0, 2.0 ], [ ] ],\n'
        '  "items" : [ {\n'
        '    "a" : 1,\n'
        '    "b" : {\n'
        '      "c" : "x"\n'
        "    }\n"
        "  }, {\n"
        '    "d" : [ ]\n'
        "  } ]\n"
        "}\n"
    )


def test_string_escaping_like_jackson():
    text = dumps({"s": 'q"\\/\n\t\x01\x7fé€'})
    assert text == '{\n  "s" : "q\\"\\\\/\\n\\t\\u0001\x7fé€"\n}\n'


def test_non_finite_numbers_are_quoted_and_numpy_values_accepted():
    assert dumps([float("nan"), np.float64(1e7), np.int64(4), np.bool_(True)]) == (
        '[ "NaN", 1.0E7, 4, true ]\n'
    )
    assert dumps(np.array([0.5, 2.0])) == "[ 0.5, 2.0 ]\n"


def test_rejects_unknown_objects():
    with pytest.raises(TypeError, match="object"):
        dumps({"x": object()})


@pytest.mark.parametrize(
    "relative",
    [
        "real/intro_baseline_constraints.REAL.json",
        "derived/intro_baseline_statistics.RECONSTRUCTED_70_features.json",
    ],
)
def test_round_trips_conformance_files(conformance_dir, relative):
    original = (conformance_dir / relative).read_text(encoding="utf-8")
    redumped = dumps(json.loads(original))
    # the real constraints file ends with a newline; the reconstructed statistics does not
    assert redumped.rstrip("\n") == original.rstrip("\n")
    assert redumped.endswith("}\n")


def test_round_trips_logged_statistics_prefix(conformance_dir):
    logged = (
        conformance_dir / "real/intro_baseline_statistics.LOG_EXCERPT_TRUNCATED.txt"
    ).read_text(encoding="utf-8")
    cut = logged.index("[TRUNCATED MESSAGE]")
    full = (
        conformance_dir / "derived/intro_baseline_statistics.RECONSTRUCTED_70_features.json"
    ).read_text(encoding="utf-8")
    assert dumps(json.loads(full))[:cut] == logged[:cut]
