"""json_numbers.loads: json.loads' document, its long float arrays parsed without the GIL."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pyarrow as pa
import pytest

from mmutils.analyzer import checks, json_numbers, monitor, run_monitoring
from mmutils.data import drifted, generate, schema

LEVELS = lambda key: key == "data"  # noqa: E731 - the monitor's choice: sketch levels


def _bits(value: object) -> object:
    """``value`` with every float (also inside arrays) as its bit pattern and type."""
    if isinstance(value, np.ndarray):
        return ("array", [x.hex() if not math.isnan(x) else repr(x) for x in value.tolist()])
    if isinstance(value, float):
        return ("float", value.hex() if not math.isnan(value) else repr(value))
    if isinstance(value, list):
        return [_bits(v) for v in value]
    if isinstance(value, dict):
        return {k: _bits(v) for k, v in value.items()}
    return (type(value).__name__, value)


def _as_lists(value: object) -> object:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, list):
        return [_as_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_lists(v) for k, v in value.items()}
    return value


def _same_as_json(text: str, keep=LEVELS) -> object:
    """loads(text) as json.loads(text), float bits and all, arrays aside; returns it."""
    doc = json_numbers.loads(text, keep=keep)
    assert _bits(_as_lists(doc)) == _bits(json.loads(text))
    return doc


def _tokens(rng: random.Random, count: int) -> list[str]:
    """JSON float tokens of every shape: short decimals, 17-digit reprs, long mantissas,
    exponents both ways (overflow to inf, underflow to 0), zeros, negatives."""
    out = []
    for _ in range(count):
        kind = rng.randrange(8)
        if kind == 0:
            text = f"{rng.randrange(10**6)}.{rng.randrange(10)}"
        elif kind == 1:
            text = repr(rng.random() * 10 ** rng.randrange(-5, 8))
        elif kind == 2:
            text = repr(struct_double(rng))
        elif kind == 3:
            digits = "".join(rng.choice("0123456789") for _ in range(rng.randrange(1, 30)))
            text = f"{rng.randrange(10)}.{digits}"
        elif kind == 4:
            text = f"{rng.randrange(1, 10)}.{rng.randrange(100)}e{rng.randrange(-330, 330)}"
        elif kind == 5:
            text = f"{rng.randrange(1000)}E+{rng.randrange(30)}"
        elif kind == 6:
            text = rng.choice(
                ["0.0", "0e5", "0.000E-400", "1e400", "1.5e-400", "9007199254740993.0"]
            )
        else:
            text = f"0.{'0' * rng.randrange(25)}{rng.randrange(1, 10 ** rng.randrange(1, 18))}"
        if rng.random() < 0.3 and not text.startswith("-"):
            text = "-" + text
        out.append(text)
    return out


def struct_double(rng: random.Random) -> float:
    """A random finite double (any exponent)."""
    while True:
        value = np.frombuffer(rng.getrandbits(64).to_bytes(8, "little"), np.float64)[0]
        if np.isfinite(value):
            return float(value)


@pytest.mark.parametrize("seed", range(4))
def test_float_arrays_parse_to_the_doubles_json_gives(seed):
    rng = random.Random(seed)
    levels = [_tokens(rng, rng.choice([16, 40, 400])) for _ in range(6)]
    seps = [", ", ",", " ,\n ", "\t,\r\n"]
    data = "[ " + ", ".join("[" + rng.choice(seps).join(lv) + "]" for lv in levels) + " ]"
    text = '{ "sketch" : { "data" : ' + data + " } }"
    doc = _same_as_json(text)
    assert all(isinstance(level, np.ndarray) for level in doc["sketch"]["data"])


def test_statistics_document_keeps_sketch_levels_as_arrays(conformance_dir):
    path = conformance_dir / "derived" / "intro_baseline_statistics.RECONSTRUCTED_70_features.json"
    doc = _same_as_json(path.read_text())
    numeric = [f for f in doc["features"] if "numerical_statistics" in f]
    levels = [lv for f in numeric for lv in checks.sketch_levels(f)]
    # every level of 16 items or more is an array, the shorter ones the lists json gives
    assert {type(lv) for lv in levels if len(lv) >= json_numbers.MIN_ITEMS} == {np.ndarray}
    assert {type(lv) for lv in levels if len(lv) < json_numbers.MIN_ITEMS} <= {list}


def test_other_arrays_and_values_are_json_loads_own():
    floats = ", ".join(["1.5"] * 20)
    text = (
        '{"data": [[' + floats + "], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17],"
        " [" + floats + ", NaN], [" + floats + ", 2], [" + floats + ', "x"]],'
        ' "other": [' + floats + '], "deep": {"data": [[[' + floats + "]]]},"
        ' "text": "['
        + floats
        + ']", "esc": "a \\" ['
        + floats
        + '] \\\\", "top": [['
        + floats
        + "]], "
        '"short": {"data": [[1.5, 2.5]]}, "empty": {"data": [[], [ ]]}}'
    )
    doc = _same_as_json(text)
    data = doc["data"]
    assert isinstance(data[0], np.ndarray) and len(data[0]) == 20
    assert [type(v) for v in data[1:]] == [list] * 4  # ints, NaN, an int, a string: json's
    assert type(data[1][0]) is int and math.isnan(data[2][-1]) and type(data[3][-1]) is int
    assert type(doc["other"]) is list and type(doc["top"][0]) is list  # not under "data"
    assert type(doc["deep"]["data"][0][0]) is list  # an item of an item: not a level
    assert doc["text"].startswith("[1.5") and doc["esc"].startswith('a " [1.5')
    assert type(doc["short"]["data"][0]) is list  # fewer than MIN_ITEMS


def test_whole_document_an_array_of_floats():
    text = "[" + ", ".join(["2.5"] * 30) + "]"
    assert json_numbers.loads(text, keep=LEVELS) == [2.5] * 30


@pytest.mark.parametrize(
    "text",
    [
        '{"data": [[' + ", ".join(["1.5"] * 20) + "], }",  # a trailing comma after the array
        "{[" + ", ".join(["1.5"] * 20) + "]: 1}",  # an array where a key belongs
        '{"data": [[' + ", ".join(["1.5"] * 20) + "]]",  # unclosed
        '{"data": [[' + ", ".join(["1.5"] * 19) + ", 01.5]]}",  # a leading zero
        '{"data": [[' + ", ".join(["1.5"] * 19) + ", 1.]]}",  # no fraction digit
        '{"data": [[' + ", ".join(["1.5"] * 19) + ", 1e]]}",  # no exponent digit
        '{"data": [[' + ", ".join(["1.5"] * 19) + ", .5]]}",
        '{"data": [[' + ", ".join(["1.5"] * 20) + "]] } x",  # extra data
        '{"a": "unterminated [' + ", ".join(["1.5"] * 20) + "]",
    ],
)
def test_invalid_json_raises_json_loads_own_error(text):
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as got:
        json_numbers.loads(text, keep=LEVELS)
    assert (str(got.value), got.value.pos) == (str(expected.value), expected.value.pos)


def test_a_document_holding_the_marker_is_left_to_json():
    floats = ", ".join(["1.5"] * 20)
    text = '{"note": "\\u0000mmlab-json-array:0", "data": [[' + floats + "]]}"
    doc = _same_as_json(text)
    assert doc["note"] == "\x00mmlab-json-array:0" and type(doc["data"][0]) is list


def test_many_tokens_beyond_the_fast_path():
    # more 17-digit values than the first pass makes room for: a second pass parses them all
    rng = random.Random(5)
    values = [repr(rng.random()) for _ in range(5000)]
    doc = _same_as_json('{"data": [[' + ", ".join(values) + "]]}")
    assert [float(v) for v in values] == doc["data"][0].tolist()


def _drifted_window() -> pa.Table:
    data = generate.generate()
    rows = drifted.apply(data.traffic()[1:])  # drifted, without the corrupted first row
    names = list(schema.FEATURES)
    return pa.table({n: pa.array([r[j] for r in rows]) for j, n in enumerate(names)})


def test_monitoring_outputs_are_the_same_with_either_parser(tmp_path, conformance_dir, monkeypatch):
    statistics = (
        conformance_dir / "derived" / "intro_baseline_statistics.RECONSTRUCTED_70_features.json"
    )
    constraints = conformance_dir / "real" / "intro_baseline_constraints.REAL.json"
    window = _drifted_window()
    json_numbers.warm()
    seen = []
    prepare = checks.baseline_sketches

    def spy(document):
        seen.append(
            {type(lv) for f in document["features"] for lv in checks.sketch_levels(f) or ()}
        )
        return prepare(document)

    monkeypatch.setattr(checks, "baseline_sketches", spy)
    fast = run_monitoring(window, statistics, constraints, output_dir=tmp_path / "fast")
    monkeypatch.setattr(monitor, "_statistics_loads", lambda: json.loads)
    plain = run_monitoring(window, statistics, constraints, output_dir=tmp_path / "plain")
    assert np.ndarray in seen[0] and seen[1] == {list}  # each run took its own parser
    drift = [v for v in fast.violations if v["constraint_check_type"] == "baseline_drift_check"]
    assert {v["feature_name"] for v in drift} >= {"Day Mins", "Eve Mins"}
    assert fast.drift == plain.drift
    for name in ("statistics.json", "constraints.json", "constraint_violations.json"):
        assert (tmp_path / "fast" / name).read_bytes() == (tmp_path / "plain" / name).read_bytes()


def test_not_loaded_means_json_loads(monkeypatch):
    monkeypatch.setattr(json_numbers, "_loaded", False)
    assert monitor._statistics_loads() is json.loads
    json_numbers.warm()
    assert monitor._statistics_loads() is not json.loads
