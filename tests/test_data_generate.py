"""The generated churn dataset: schema, formats, shapes, marginals, determinism, `mmlab data`."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from mmutils.cli import main
from mmutils.data import files, generate, schema

LABELLED = ("training-dataset-without-header.csv", "validation.csv", "test-dataset.csv")
ALL_FILES = (*schema.FILES, schema.UPLOAD_TEST_FILE)


@pytest.fixture(scope="module")
def gen_dir(tmp_path_factory) -> Path:
    """The dataset generated with the default seed (no model)."""
    out = tmp_path_factory.mktemp("gen")
    generate.write(generate.generate(), out)
    return out


def _rows(path: Path, header: bool = False) -> list[list[str]]:
    lines = path.read_text().splitlines()
    return [ln.split(",") for ln in lines[1 if header else 0 :]]


def _matrix(path: Path, header: bool = False) -> np.ndarray:
    return np.array(_rows(path, header), dtype=np.float64)


def _all_labelled(gen_dir: Path) -> np.ndarray:
    return np.vstack([_matrix(gen_dir / name) for name in LABELLED])


# ---------------------------------------------------------------- schema


def test_schema_has_the_70_columns_in_the_lab_order():
    assert len(schema.COLUMNS) == 70 and len(schema.FEATURES) == 69
    assert schema.LABEL == "Churn" and schema.COLUMNS[0] == "Churn"
    assert schema.COLUMNS[1:12] == (
        "Account Length", "VMail Message", "Day Mins", "Day Calls", "Eve Mins", "Eve Calls",
        "Night Mins", "Night Calls", "Intl Mins", "Intl Calls", "CustServ Calls",
    )  # fmt: skip
    assert schema.COLUMNS[12] == "State_AK" and schema.COLUMNS[62] == "State_WY"
    assert schema.COLUMNS[19] == "State_DC" and len(set(schema.COLUMNS[12:63])) == 51
    assert schema.COLUMNS[63:] == (
        "Area Code_408", "Area Code_415", "Area Code_510",
        "Int'l Plan_no", "Int'l Plan_yes", "VMail Plan_no", "VMail Plan_yes",
    )  # fmt: skip
    assert schema.FRACTIONAL == ("Day Mins", "Eve Mins", "Night Mins", "Intl Mins")
    assert set(schema.INTEGRAL) | set(schema.FRACTIONAL) == set(schema.COLUMNS)
    assert [len(v) for v in schema.ONE_HOT.values()] == [51, 3, 2, 2]


def test_schema_header_equals_the_real_lab_file(conformance_dir):
    real = (conformance_dir / "data" / "training-dataset-with-header.csv").read_text()
    assert real.splitlines()[0] == ",".join(schema.COLUMNS)


# ---------------------------------------------------------------- files, shapes, formats


def test_file_set_shapes_and_header(gen_dir):
    assert sorted(p.name for p in gen_dir.iterdir()) == sorted(ALL_FILES)
    for name, (has_header, has_label, rows) in schema.FILES.items():
        lines = (gen_dir / name).read_text().splitlines()
        assert len(lines) == rows + has_header, name
        width = 70 if has_label else 69
        assert {len(ln.split(",")) for ln in lines} == {width}, name
    header = (gen_dir / "training-dataset-with-header.csv").read_text().splitlines()[0]
    assert header == ",".join(schema.COLUMNS)
    assert (gen_dir / "upload-test-file.txt").read_bytes() == b"test file"


def test_files_are_lf_unquoted_and_end_with_a_newline(gen_dir):
    for name in schema.FILES:
        data = (gen_dir / name).read_bytes()
        assert b"\r" not in data and b'"' not in data and data.endswith(b"\n"), name
        assert not data.endswith(b"\n\n")


def test_training_files_share_the_same_body(gen_dir):
    with_header = (gen_dir / "training-dataset-with-header.csv").read_bytes()
    without = (gen_dir / "training-dataset-without-header.csv").read_bytes()
    assert with_header.split(b"\n", 1)[1] == without


def test_mins_have_one_decimal_and_the_rest_are_integers(gen_dir):
    fractional = re.compile(r"^\d+\.\d$")
    integral = re.compile(r"^\d+$")
    for name in LABELLED:
        for i, row in enumerate(_rows(gen_dir / name), start=1):
            for col, cell in zip(schema.COLUMNS, row, strict=True):
                pattern = fractional if schema.is_fractional(col) else integral
                assert pattern.match(cell), f"{name}:{i} {col}={cell!r}"
    for row in _rows(gen_dir / "test-dataset-input-cols.csv")[1:]:
        for col, cell in zip(schema.FEATURES, row, strict=True):
            assert (fractional if schema.is_fractional(col) else integral).match(cell)


def test_one_hot_groups_sum_to_one(gen_dir):
    for name in LABELLED:
        m = _matrix(gen_dir / name)
        for group, cols in schema.ONE_HOT.items():
            idx = [schema.COLUMNS.index(c) for c in cols]
            assert set(np.unique(m[:, idx])) <= {0.0, 1.0}
            assert (m[:, idx].sum(axis=1) == 1).all(), (name, group)
    traffic = _matrix(gen_dir / "test-dataset-input-cols.csv")[1:]
    for cols in schema.ONE_HOT.values():
        idx = [schema.FEATURES.index(c) for c in cols]
        assert (traffic[:, idx].sum(axis=1) == 1).all()


def test_traffic_file_is_test_without_label_and_a_corrupted_first_row(gen_dir):
    test = _rows(gen_dir / "test-dataset.csv")
    traffic = _rows(gen_dir / "test-dataset-input-cols.csv")
    assert traffic[1:] == [r[1:] for r in test[1:]]
    first, original = traffic[0], test[0][1:]
    vmail = schema.FEATURES.index("VMail Message")
    assert first[vmail] == "0.1"
    n_numeric = len(schema.NUMERIC)
    # the other numeric cells are the real row's
    assert [c for j, c in enumerate(first[:n_numeric]) if j != vmail] == [
        c for j, c in enumerate(original[:n_numeric]) if j != vmail
    ]
    one_hot = first[n_numeric:]
    assert len(one_hot) == 58 and all(float(c) != int(float(c)) for c in one_hot)
    # the lab's numbering: zeros 0.2, 0.3, … and ones 1.1, 1.2, … in column order
    zeros = [c for c, o in zip(one_hot, original[n_numeric:], strict=True) if o == "0"]
    ones = [c for c, o in zip(one_hot, original[n_numeric:], strict=True) if o == "1"]
    assert zeros == [f"0.{k}" for k in range(2, 56)]
    assert ones == ["1.1", "1.2", "1.3", "1.4"]


def test_corrupt_row_numbers_zeros_and_ones_in_column_order():
    row = ["186", "0", "137.8", "97", "187.7", "118", "146.4", "85", "8.7", "6", "1"]
    one_hot = ["0"] * 58
    for j in (16, 53, 54, 56):  # State_KS, Area Code_510, Int'l Plan_no, VMail Plan_no
        one_hot[j] = "1"
    out = generate.corrupt_row(row + one_hot)
    assert ",".join(out[:14]) == "186,0.1,137.8,97,187.7,118,146.4,85,8.7,6,1,0.2,0.3,0.4"
    assert out[11 + 15 : 11 + 18] == ["0.17", "1.1", "0.18"]
    assert ",".join(out[-7:]) == "0.52,0.53,1.2,1.3,0.54,1.4,0.55"
    with pytest.raises(ValueError, match="expected 69 cells"):
        generate.corrupt_row(row)


def test_corrupt_row_reproduces_the_real_lab_row(conformance_dir):
    data = conformance_dir / "data"
    original = (data / "test-dataset.csv").read_text().splitlines()[0].split(",")[1:]
    real = (data / "test-dataset-input-cols.csv").read_text().splitlines()[0].split(",")
    assert generate.corrupt_row(original) == real


def test_test_sample_is_the_first_120_traffic_rows(gen_dir):
    traffic = (gen_dir / "test-dataset-input-cols.csv").read_bytes().splitlines(keepends=True)
    assert (gen_dir / "test_sample.csv").read_bytes() == b"".join(traffic[:120])


# ---------------------------------------------------------------- marginals and churn


def test_class_balance_and_category_shares(gen_dir):
    m = _all_labelled(gen_dir)
    col = {c: m[:, j] for j, c in enumerate(schema.COLUMNS)}
    assert 0.12 <= col["Churn"].mean() <= 0.17
    train = _matrix(gen_dir / "training-dataset-with-header.csv", header=True)
    assert 0.12 <= train[:, 0].mean() <= 0.17
    shares = [col[f"Area Code_{a}"].mean() for a in ("408", "415", "510")]
    assert np.allclose(shares, [0.243, 0.502, 0.255], atol=0.03), shares
    assert 0.07 <= col["Int'l Plan_yes"].mean() <= 0.13
    assert 0.24 <= col["VMail Plan_yes"].mean() <= 0.31
    # voicemail messages only with the plan, and then always some
    assert ((col["VMail Message"] > 0) == (col["VMail Plan_yes"] == 1)).all()
    states = m[:, 12:63].sum(axis=0)
    assert np.corrcoef(states, generate._STATE_WEIGHTS)[0, 1] > 0.7
    assert (states > 0).all()


def test_numeric_ranges_and_spreads(gen_dir):
    m = _all_labelled(gen_dir)
    for name, (lo, hi) in schema.RANGES.items():
        x = m[:, schema.COLUMNS.index(name)]
        assert lo <= x.min() and x.max() <= hi, name
    fits = {"Day Mins": (180, 54), "Eve Mins": (201, 51), "Night Mins": (201, 51)}
    fits |= {"Day Calls": (100, 20), "Account Length": (101, 40), "CustServ Calls": (1.56, 1.3)}
    for name, (mean, std) in fits.items():
        x = m[:, schema.COLUMNS.index(name)]
        assert abs(x.mean() - mean) < 0.05 * mean + 0.1, name
        assert abs(x.std() - std) < 0.1 * std, name


def test_marginals_are_near_the_real_data(gen_dir, conformance_dir):
    real = _matrix(conformance_dir / "data" / "training-dataset-with-header.csv", header=True)
    ours = _matrix(gen_dir / "training-dataset-with-header.csv", header=True)
    for j, name in enumerate(schema.COLUMNS):
        r, o = real[:, j], ours[:, j]
        scale = max(r.std(), 0.05)
        assert abs(r.mean() - o.mean()) < 0.2 * scale, (name, r.mean(), o.mean())
        if name in schema.NUMERIC:
            assert 0.8 < o.std() / r.std() < 1.2, name


def test_churn_depends_on_the_features_like_the_real_data(gen_dir):
    m = _all_labelled(gen_dir)
    col = {c: m[:, j] for j, c in enumerate(schema.COLUMNS)}
    churn = col["Churn"]

    def rate(mask):
        return churn[mask].mean()

    assert rate(col["Int'l Plan_yes"] == 1) > 2.5 * rate(col["Int'l Plan_yes"] == 0)
    assert rate(col["CustServ Calls"] >= 4) > 3 * rate(col["CustServ Calls"] < 4)
    assert rate(col["Day Mins"] > 265) > 4 * rate(col["Day Mins"] < 200)
    assert rate(col["VMail Plan_yes"] == 0) > 1.3 * rate(col["VMail Plan_yes"] == 1)


# ---------------------------------------------------------------- determinism


def test_generation_is_byte_identical(tmp_path, gen_dir):
    generate.write(generate.generate(generate.DEFAULT_SEED), tmp_path)
    for name in ALL_FILES:
        assert (tmp_path / name).read_bytes() == (gen_dir / name).read_bytes(), name


def test_another_seed_gives_other_data():
    a, b = generate.generate(1), generate.generate(2)
    assert a.train.shape == b.train.shape == (2333, 70)
    assert not np.array_equal(a.train, b.train)
    assert np.array_equal(a.train, generate.generate(1).train)


def test_committed_test_data_is_what_the_generator_writes(test_data_dir, gen_dir):
    missing = [n for n in ALL_FILES if not (test_data_dir / n).exists()]
    assert not missing, f"test_data/ lacks {missing}: run `mmlab data generate`"
    for name in ALL_FILES:
        assert (test_data_dir / name).read_bytes() == (gen_dir / name).read_bytes(), name


# ---------------------------------------------------------------- mmlab data


def test_cli_generate_writes_everything_and_is_repeatable(tmp_path, capsys, gen_dir):
    out = tmp_path / "td"
    assert main(["data", "generate", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    for name in (*ALL_FILES, schema.MODEL_FILE):
        assert f"{name} (" in text, name
    assert re.search(r"AUC on .*test-dataset\.csv: 0\.(8|9)\d{3}", text)
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["data", "generate", "--out", str(out)]) == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first
    for name in ALL_FILES:
        assert first[name] == (gen_dir / name).read_bytes()


def test_cli_generate_seed_and_no_model(tmp_path, capsys):
    assert main(["data", "generate", "--out", str(tmp_path), "--seed", "7", "--no-model"]) == 0
    assert "seed 7" in capsys.readouterr().out
    assert not (tmp_path / schema.MODEL_FILE).exists()
    expected = files.to_lines(files.format_cells(generate.generate(7).validation, schema.COLUMNS))
    assert (tmp_path / "validation.csv").read_text() == "\n".join(expected) + "\n"


def test_cli_from_lab_folder_uses_the_real_files(tmp_path, capsys, conformance_dir):
    src = conformance_dir / "data"
    out = tmp_path / "lab"
    assert main(["data", "generate", "--from-lab-folder", str(src), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    for name in ALL_FILES:
        assert (out / name).read_bytes() == (src / name).read_bytes(), name
    assert (out / schema.MODEL_FILE).exists()
    auc = float(re.search(r"AUC on .*: (\d\.\d+)", text).group(1))
    assert auc >= 0.85


def _copy(gen_dir: Path, dst: Path) -> Path:
    shutil.copytree(gen_dir, dst)
    return dst


def test_from_lab_folder_derives_the_optional_files(tmp_path, gen_dir):
    src = _copy(gen_dir, tmp_path / "src")
    (src / "test_sample.csv").unlink()
    (src / "upload-test-file.txt").unlink()
    out = tmp_path / "out"
    args = ["data", "generate", "--from-lab-folder", str(src), "--out", str(out), "--no-model"]
    assert main(args) == 0
    for name in ALL_FILES:
        assert (out / name).read_bytes() == (gen_dir / name).read_bytes(), name


def test_from_lab_folder_missing_file_is_named(tmp_path, capsys, gen_dir):
    src = _copy(gen_dir, tmp_path / "src")
    (src / "validation.csv").unlink()
    args = ["data", "generate", "--from-lab-folder", str(src), "--out", str(tmp_path / "o")]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "validation.csv: file not found" in err


def test_from_lab_folder_wrong_width_names_file_and_line(tmp_path, capsys, gen_dir):
    src = _copy(gen_dir, tmp_path / "src")
    path = src / "test-dataset.csv"
    lines = path.read_text().splitlines()
    lines[4] = lines[4].rsplit(",", 1)[0]  # line 5 loses a column
    path.write_text("\n".join(lines) + "\n")
    args = ["data", "generate", "--from-lab-folder", str(src), "--out", str(tmp_path / "o")]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "test-dataset.csv: line 5: 69 columns, expected 70" in err


def test_from_lab_folder_wrong_header_is_named(tmp_path, gen_dir):
    src = _copy(gen_dir, tmp_path / "src")
    path = src / "training-dataset-with-header.csv"
    path.write_text(path.read_text().replace("Churn,", "Label,", 1))
    with pytest.raises(files.DatasetError, match=r"with-header\.csv: line 1: header"):
        files.validate_folder(src)


def test_cli_train_prints_the_auc(tmp_path, capsys, gen_dir):
    out = tmp_path / "m.tar.gz"
    assert main(["data", "train", "--data", str(gen_dir), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"{out} (" in text and float(text.rsplit(": ", 1)[1]) >= 0.80


def test_cli_train_missing_data_is_an_error(tmp_path, capsys):
    assert main(["data", "train", "--data", str(tmp_path)]) == 1
    assert "training-dataset-with-header.csv: file not found" in capsys.readouterr().err
