"""deequ type inference on string cells."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from mmutils.analyzer import dtypes
from mmutils.analyzer.dtypes import TypeCounts, classify, count_matching, decide, to_double


@pytest.mark.parametrize(
    ("cell", "kind"),
    [
        ("0", "integral"),
        ("007", "integral"),
        ("-5", "integral"),
        ("+5", "integral"),
        ("- 5", "integral"),
        (" 5", "integral"),
        ("6.0", "fractional"),
        ("-0.25", "fractional"),
        ("1e5", "fractional"),
        ("1.5E-3", "fractional"),
        ("2E+10", "fractional"),
        (".5", "string"),
        ("5.", "string"),
        ("5 ", "string"),
        ("NaN", "string"),
        ("inf", "string"),
        ("1,5", "string"),
        ("１２", "string"),  # full-width digits are not \d
        ("", "string"),
        ("true", "boolean"),
        ("false", "boolean"),
        ("True", "string"),
        ("abc", "string"),
    ],
)
def test_cell_classes(cell, kind):
    counts = classify(pa.array([cell]))
    assert counts.of(kind) == 1
    assert counts.total == 1


def test_nulls_are_unknown_and_counts_add_up():
    counts = classify(pa.array(["1", None, "2.5", "x", "true", None, "3"]))
    assert counts == TypeCounts(unknown=2, fractional=1, integral=2, boolean=1, string=1)
    assert count_matching(pa.chunked_array([["1", "2"], ["3.5", None]]), "Integral") == 2


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        (TypeCounts(), "Unknown"),
        (TypeCounts(unknown=3), "Unknown"),
        (TypeCounts(unknown=1, integral=5), "Integral"),
        (TypeCounts(integral=5, fractional=1), "Fractional"),
        (TypeCounts(integral=5, string=1), "String"),
        (TypeCounts(boolean=2, integral=1), "String"),
        (TypeCounts(boolean=2, unknown=1), "Boolean"),
    ],
)
def test_decide_follows_deequ(counts, expected):
    assert decide(counts) == expected
    assert getattr(dtypes, expected.upper()) == expected


def test_to_double_matches_java_parsing():
    values = to_double(pa.array(["1", "2.5", None, "1e3", "-7"]))
    assert values[[0, 1, 3, 4]].tolist() == [1.0, 2.5, 1000.0, -7.0]
    assert math.isnan(values[2])
    # the Integral pattern allows these; Java's parser trims spaces but rejects "- 5"
    odd = to_double(pa.array([" 5", "- 5", "+ 5", "+5"]))
    assert odd[0] == 5.0 and odd[3] == 5.0
    assert np.isnan(odd[1]) and np.isnan(odd[2])


def test_to_double_is_correctly_rounded():
    cells = ["0.1", "350.8", "105.24000000000001", "2.2250738585072014E-308"]
    assert to_double(pa.array(cells)).tolist() == [float(c) for c in cells]
