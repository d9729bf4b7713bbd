"""Drifted traffic: shifts move the means as asked, moves change shares exactly, rows stay valid."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mmutils.data import drifted, generate, schema
from mmutils.data.files import DatasetError

FRACTIONAL = re.compile(r"^\d+\.\d$")
INTEGRAL = re.compile(r"^\d+$")
NO_DRIFT = drifted.Drift(shifts=(), moves=())


@pytest.fixture(scope="module")
def traffic() -> list[list[str]]:
    """The generated traffic rows (69 inputs), first row corrupted like the lab's."""
    return generate.generate().traffic()


def _col(rows, name) -> np.ndarray:
    j = schema.FEATURES.index(name)
    return np.array([float(r[j]) for r in rows])


def _expected_mean(rows, shift: drifted.Shift) -> float:
    lo, hi = schema.RANGES[shift.column]
    return float(np.clip(_col(rows, shift.column) * shift.factor + shift.offset, lo, hi).mean())


def test_default_drift_shifts_the_means_by_the_asked_amount(traffic):
    out = drifted.apply(traffic)
    assert _col(out, "Day Mins").mean() / _col(traffic, "Day Mins").mean() == pytest.approx(
        1.3, abs=0.02
    )
    assert _col(out, "Eve Mins").mean() / _col(traffic, "Eve Mins").mean() == pytest.approx(
        1.2, abs=0.02
    )
    assert _col(out, "CustServ Calls").mean() - _col(traffic, "CustServ Calls").mean() == (
        pytest.approx(2.0, abs=0.02)
    )
    # exactly the clipped transform, up to the text's rounding (half a unit of the last digit)
    for shift in drifted.Drift().shifts:
        tol = 0.05 if schema.is_fractional(shift.column) else 0.5
        assert abs(_col(out, shift.column).mean() - _expected_mean(traffic, shift)) <= tol


def test_shifts_clip_to_the_valid_range_and_keep_the_format(traffic):
    scenario = drifted.Drift(
        shifts=(drifted.Shift("Day Mins", factor=2.0), drifted.Shift("CustServ Calls", offset=-5)),
        moves=(),
    )
    out = drifted.apply(traffic, scenario)
    day, calls = _col(out, "Day Mins"), _col(out, "CustServ Calls")
    assert day.max() == 350.8 and (day > 340).sum() > 50
    assert calls.min() == 0 and calls.max() <= 4
    for row in out[1:]:
        for name, cell in zip(schema.FEATURES, row, strict=True):
            pattern = FRACTIONAL if schema.is_fractional(name) else INTEGRAL
            assert pattern.match(cell), (name, cell)


def test_shift_rounds_to_the_columns_precision():
    row = generate.generate().traffic()[5]
    j_day, j_cs = schema.FEATURES.index("Day Mins"), schema.FEATURES.index("CustServ Calls")
    row[j_day], row[j_cs] = "100.0", "3"
    scenario = drifted.Drift(
        shifts=(drifted.Shift("Day Mins", 1.0, 0.26), drifted.Shift("CustServ Calls", 1.5)),
        moves=(),
    )
    out = drifted.apply([row], scenario)[0]
    assert out[j_day] == "100.3" and out[j_cs] == "5"  # 4.5 rounds half up


def test_move_changes_the_share_by_exactly_the_asked_rows(traffic):
    out = drifted.apply(
        traffic, drifted.Drift(shifts=(), moves=(drifted.Move("Int'l Plan_yes", 0.3),))
    )
    before, after = _col(traffic, "Int'l Plan_yes"), _col(out, "Int'l Plan_yes")
    candidates = int((before[1:] == 0).sum())  # row 1 is corrupted: never moved
    assert after.sum() - before.sum() == round(0.3 * candidates)
    # nobody leaves the plan
    assert (after[before == 1] == 1).all()
    assert after[1:].mean() == pytest.approx(
        before[1:].mean() + 0.3 * (1 - before[1:].mean()), abs=1 / len(traffic)
    )


def test_rows_stay_valid_one_hot_and_the_corrupted_row_keeps_its_text(traffic):
    out = drifted.apply(traffic, drifted.Drift(moves=(drifted.Move("Int'l Plan_yes", 1.0),)))
    for row in out[1:]:
        for cols in schema.ONE_HOT.values():
            cells = [row[schema.FEATURES.index(c)] for c in cols]
            assert sorted(set(cells)) <= ["0", "1"] and cells.count("1") == 1
        assert row[schema.FEATURES.index("Int'l Plan_yes")] == "1"
    n = len(schema.NUMERIC)
    assert out[0][n:] == traffic[0][n:]  # one-hot cells of the corrupted row untouched
    assert out[0][1] == "0.1"


def test_untouched_columns_keep_their_exact_text(traffic):
    out = drifted.apply(traffic)
    touched = {"Day Mins", "Eve Mins", "CustServ Calls", "Int'l Plan_no", "Int'l Plan_yes"}
    for j, name in enumerate(schema.FEATURES):
        if name not in touched:
            assert [r[j] for r in out] == [r[j] for r in traffic], name
    assert drifted.apply(traffic, NO_DRIFT) == traffic


def test_apply_does_not_change_its_input(traffic):
    copy = [list(r) for r in traffic]
    drifted.apply(traffic)
    assert traffic == copy


def test_seed_decides_which_rows_move(traffic):
    a = drifted.apply(traffic, drifted.Drift(seed=1))
    b = drifted.apply(traffic, drifted.Drift(seed=1))
    c = drifted.apply(traffic, drifted.Drift(seed=2))
    assert a == b and a != c
    assert _col(a, "Int'l Plan_yes").sum() == _col(c, "Int'l Plan_yes").sum()


def test_iter_rows_reads_a_file_and_yields_endpoint_payloads(traffic, tmp_path):
    path = tmp_path / "traffic.csv"
    path.write_text("\n".join(",".join(r) for r in traffic) + "\n")
    rows = list(drifted.iter_rows(path))
    assert len(rows) == 334 and not any("\n" in r for r in rows)
    assert rows == [",".join(r) for r in drifted.apply(traffic)]
    assert list(drifted.iter_rows(traffic, NO_DRIFT))[:3] == [",".join(r) for r in traffic[:3]]


def test_iter_rows_bad_file_is_named(tmp_path):
    bad = tmp_path / "short.csv"
    bad.write_text("1,2,3\n")
    with pytest.raises(DatasetError, match=r"short\.csv: line 1: 3 columns, expected 69"):
        list(drifted.iter_rows(bad))
    with pytest.raises(DatasetError, match="file not found"):
        list(drifted.iter_rows(tmp_path / "absent.csv"))


def test_bad_scenarios_and_rows_are_rejected(traffic):
    with pytest.raises(ValueError, match="not a numeric column"):
        drifted.Shift("State_WV", 2.0)
    with pytest.raises(ValueError, match="not a one-hot column"):
        drifted.Move("Day Mins")
    with pytest.raises(ValueError, match="within 0..1"):
        drifted.Move("Int'l Plan_yes", 1.5)
    with pytest.raises(ValueError, match="row 2: 68 cells, expected 69"):
        drifted.apply([traffic[1], traffic[2][:-1]])


def test_drift_frame_matches_the_row_drift(traffic):
    frame = generate.to_frame(generate.generate().test[:, 1:], schema.FEATURES)
    out = drifted.drift_frame(frame)
    clean = [",".join(r).split(",") for r in drifted.apply(generate.generate().traffic()[1:])]
    assert out.index.equals(frame.index)
    assert out.iloc[1:]["Day Mins"].tolist() == [float(r[2]) for r in clean]
    assert out["CustServ Calls"].dtype == np.int64
    assert out["Day Mins"].mean() / frame["Day Mins"].mean() == pytest.approx(1.3, abs=0.02)
