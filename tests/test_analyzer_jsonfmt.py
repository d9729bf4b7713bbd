"""Jackson pretty printing and Java ``Double.toString``."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mmutils.analyzer.jsonfmt import ArrayTexts, dumps, java_double, java_doubles


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


def _reference_java_double(x: float) -> str:
    """Java's Double.toString from Decimal digits alone (no repr shortcut), for the tests."""
    import math
    from decimal import Decimal

    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0.0:
        return "-0.0" if math.copysign(1.0, x) < 0 else "0.0"
    sign, digit_tuple, exponent = Decimal(repr(x)).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    point = len(digit_tuple) + exponent
    prefix = "-" if sign else ""
    if 1e-3 <= abs(x) < 1e7:
        if point <= 0:
            return f"{prefix}0.{'0' * -point}{digits}"
        if point >= len(digits):
            return f"{prefix}{digits}{'0' * (point - len(digits))}.0"
        return f"{prefix}{digits[:point]}.{digits[point:]}"
    return f"{prefix}{digits[0]}.{digits[1:] or '0'}E{point - 1}"


def _many_doubles() -> np.ndarray:
    rng = np.random.default_rng(2024)
    edges = [0.0, -0.0, math.nan, math.inf, -math.inf, 1e-3, -1e-3, 1e7, -1e7]
    edges += [np.nextafter(1e-3, 0.0), np.nextafter(1e7, 0.0), np.nextafter(1e7, np.inf)]
    edges += [5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.1, 0.3, 1 / 3]
    edges += [105.24000000000001, 23627900.0, 1234567.0, 9999999.999999998, 1e16, 1e-5]
    parts = [
        np.array(edges),
        rng.random(20_000),  # the prediction column's kind of value
        rng.integers(0, 4000, 20_000) / 10.0,  # one-decimal columns
        rng.integers(-(10**9), 10**9, 20_000).astype(np.float64),
        10.0 ** rng.uniform(-12, 12, 20_000) * rng.choice([-1.0, 1.0], 20_000),
        rng.integers(0, 2**64, 20_000, dtype=np.uint64).view(np.float64),  # any bit pattern
    ]
    return np.concatenate(parts)


def test_java_double_and_bulk_path_match_reference_on_100k_doubles():
    values = _many_doubles()
    assert len(values) > 100_000
    expected = [_reference_java_double(v) for v in values.tolist()]
    assert [java_double(v) for v in values.tolist()] == expected
    assert java_doubles(values) == expected
    assert java_doubles(values.tolist()) == expected


def test_float_lists_print_like_their_scalars():
    # every value of the 100k through the array path (Arrow's shortest digits in the plain
    # range, java_double outside it), against the Decimal reference
    values = _many_doubles().tolist()
    one_by_one = "[ " + ", ".join(_scalar_json(v) for v in values) + " ]\n"
    assert dumps(values) == one_by_one
    assert dumps(np.array(values)) == one_by_one
    # and in a document of many arrays, each in its place
    parts = [values[i : i + 997] for i in range(0, 20_000, 997)]
    doc = {"data": [np.array(p) for p in parts], "n": 1}
    assert (
        dumps(doc)
        == '{\n  "data" : [ '
        + ", ".join("[ " + ", ".join(_scalar_json(v) for v in p) + " ]" for p in parts)
        + ' ],\n  "n" : 1\n}\n'
    )
    mixed = [1.5, 2, None, math.nan]
    assert dumps(mixed) == '[ 1.5, 2, null, "NaN" ]\n'


def _scalar_json(v: float) -> str:
    text = _reference_java_double(v)
    return text if math.isfinite(v) else f'"{text}"'


# -- float arrays: every distinct value formatted once per document ---------------------------


def _reference_dumps(value, depth: int = 0) -> str:
    """Jackson's layout written out plainly, each float by the Decimal reference (tests only)."""
    if value is None or isinstance(value, bool | np.bool_):
        return {None: "null", True: "true", False: "false"}[None if value is None else bool(value)]
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return _scalar_json(float(value))
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        if not value:
            return "{ }"
        pad = "  " * (depth + 1)
        body = ",\n".join(
            f"{pad}{json.dumps(k)} : {_reference_dumps(v, depth + 1)}" for k, v in value.items()
        )
        return "{\n" + body + "\n" + "  " * depth + "}"
    items = list(value)
    if not items:
        return "[ ]"
    return "[ " + ", ".join(_reference_dumps(v, depth) for v in items) + " ]"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ([1.0, 2, 3.5], "[ 1.0, 2, 3.5 ]"),  # an int among floats prints plainly
        ([2, 1.0], "[ 2, 1.0 ]"),
        ([1.0, True, False], "[ 1.0, true, false ]"),  # a bool is not a number
        ([True, 1.0], "[ true, 1.0 ]"),
        ([1.0, None], "[ 1.0, null ]"),
        ([1.0, "1.0"], '[ 1.0, "1.0" ]'),  # a string stays a string (no numeric cast)
        ([np.float64(1.5), 2.0], "[ 1.5, 2.0 ]"),
        ([0.0, -0.0, 0.0, -0.0], "[ 0.0, -0.0, 0.0, -0.0 ]"),  # equal values, not the same bits
        (np.array([-0.0, 0.0]), "[ -0.0, 0.0 ]"),
        (
            [math.nan, -math.nan, math.inf, -math.inf, 1.0],
            '[ "NaN", "NaN", "Infinity", "-Infinity", 1.0 ]',
        ),
        (
            [1e300, -1e-300, 2.5e-308, 1e-4, 1e7, 9999999.0],
            "[ 1.0E300, -1.0E-300, 2.5E-308, 1.0E-4, 1.0E7, 9999999.0 ]",
        ),
        (
            np.array([0.5, 1e-5], dtype=np.float32),
            f"[ 0.5, {java_double(float(np.float32(1e-5)))} ]",
        ),
        ([[], [1.0], np.array([], dtype=float), [1.0, 1.0]], "[ [ ], [ 1.0 ], [ ], [ 1.0, 1.0 ] ]"),
    ],
)
def test_float_array_edge_cases(value, text):
    assert dumps(value) == text + "\n"
    assert dumps(value) == _reference_dumps(value) + "\n"


def test_nan_payloads_and_signs_all_print_nan():
    bits = np.array([0x7FF8000000000000, 0xFFF8000000000000, 0x7FF0000000000001], dtype=np.uint64)
    values = bits.view(np.float64)
    assert np.isnan(values).all()
    assert dumps(values) == '[ "NaN", "NaN", "NaN" ]\n'
    assert dumps([0.25, *values.tolist()]) == '[ 0.25, "NaN", "NaN", "NaN" ]\n'


def test_a_document_of_many_float_arrays_prints_each_value_as_its_scalar():
    """Repeated values across arrays (a 0/1 flag's sketch), arrays of every kind, in a layout."""
    rng = np.random.default_rng(7)
    many = _many_doubles()
    doc = {"version": 0.0, "features": []}
    for i in range(40):
        flags = rng.integers(0, 2, rng.integers(1, 300)).astype(np.float64)
        mixed = rng.choice(many, rng.integers(1, 200))
        doc["features"].append(
            {
                "name": f"f{i}",
                "count": int(i),
                "sketch": {
                    "data": [flags.tolist(), mixed.tolist(), [], mixed[:3]],
                    "flags": flags if i % 2 else flags.tolist(),
                },
                "buckets": [{"lower_bound": float(v), "count": 3.0} for v in mixed[:2]],
                "mixed": [1.0, i, -0.0, None],
            }
        )
    expected = _reference_dumps(doc) + "\n"
    assert dumps(doc) == expected
    assert dumps(doc) == expected  # the same text again: no state kept between documents


def test_texts_formatted_ahead_give_the_same_document():
    rng = np.random.default_rng(11)
    many = _many_doubles()
    block = rng.choice(many, (3, 400))  # rows of a 2-D array: views, as a sketch's levels
    doc = {
        "features": [
            {"data": [block[0], block[1][:0], block[2]], "as_list": block[1].tolist()},
            {"data": [np.float32([0.5, 1.5]), np.array([-0.0, np.nan, np.inf, 1e-9])]},
            {"ints": np.arange(3), "nested": {"rows": block}},
        ]
    }
    expected = dumps(doc)
    texts = ArrayTexts()
    texts.add(doc["features"][:2])  # not the third: it is formatted as usual
    assert texts.text(block[0]) is None  # a new view of the same row is not the array told
    assert texts.text(doc["features"][0]["data"][0]).startswith("[ ")
    assert dumps(doc, texts) == expected
    # a text is for the array object it was made from: another one in its place is written
    doc["features"][0]["data"][0] = block[2]
    assert dumps(doc, texts) == dumps(doc) != expected
