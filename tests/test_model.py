"""The lab's XGBoost model: training, AUC, model.tar.gz layout and byte-determinism."""

from __future__ import annotations

import gzip
import io
import json
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest

from mmutils import model
from mmutils.data import generate, schema


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("data")
    generate.write(generate.generate(), out)
    return out


@pytest.fixture(scope="module")
def booster(data_dir):
    return model.train(data_dir / "training-dataset-with-header.csv")


# ---------------------------------------------------------------- AUC


def _pairwise_auc(y, s) -> float:
    pos, neg = s[y == 1], s[y == 0]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return wins / (pos.size * neg.size)


def test_auc_known_values():
    assert model.auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert model.auc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]) == 0.0
    assert model.auc([0, 1], [0.5, 0.5]) == 0.5
    assert model.auc([0, 0, 1, 1], [0.1, 0.5, 0.5, 0.9]) == 0.875


def test_auc_equals_the_pairwise_definition_with_ties():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 500)
    s = np.round(rng.random(500) + 0.3 * y, 2)  # rounding makes many ties
    assert model.auc(y, s) == pytest.approx(_pairwise_auc(y, s), abs=1e-12)


def test_auc_needs_both_classes():
    with pytest.raises(ValueError, match="both classes"):
        model.auc([1, 1], [0.2, 0.3])


# ---------------------------------------------------------------- training and prediction


def test_model_auc_on_the_test_split_is_at_least_0_80(booster, data_dir):
    score = model.evaluate_auc(booster, data_dir / "test-dataset.csv")
    assert score >= 0.80
    assert model.evaluate_auc(booster, data_dir / "validation.csv") >= 0.80


def test_training_is_deterministic_and_ignores_the_header(booster, data_dir):
    again = model.train(data_dir / "training-dataset-without-header.csv")
    assert model.model_bytes(again) == model.model_bytes(booster)


def test_model_file_is_a_binary_logistic_xgboost_json(booster):
    doc = json.loads(model.model_bytes(booster))
    learner = doc["learner"]
    assert learner["objective"]["name"] == "binary:logistic"
    assert learner["learner_model_param"]["num_feature"] == "69"
    # the intercept the SageMaker 1.7 container falls back to, so live predictions agree
    assert float(learner["learner_model_param"]["base_score"].strip("[]")) == 0.5
    assert len(learner["gradient_booster"]["model"]["trees"]) == model.NUM_ROUND


def test_predict_csv_gives_probabilities_per_row(booster, data_dir):
    import xgboost as xgb

    text = (data_dir / "test_sample.csv").read_text()
    probs = model.predict_csv(booster, text)
    assert len(probs) == 120 and all(0.0 < p < 1.0 for p in probs)
    x = np.array([ln.split(",") for ln in text.splitlines()], dtype=np.float64)
    assert probs == [float(p) for p in booster.predict(xgb.DMatrix(x))]
    # a single row, as an endpoint receives it
    first = text.splitlines()[1]
    assert model.predict_csv(booster, first) == [probs[1]]


def test_predictions_separate_the_classes(booster, data_dir):
    lines = (data_dir / "test-dataset.csv").read_text().splitlines()
    labels = np.array([int(ln.split(",", 1)[0]) for ln in lines])
    probs = np.array(model.predict_csv(booster, "\n".join(ln.split(",", 1)[1] for ln in lines)))
    assert probs[labels == 1].mean() > probs[labels == 0].mean() + 0.3


def test_predict_csv_rejects_the_wrong_width(booster):
    with pytest.raises(model.ModelError, match="68 columns, expected 69 features"):
        model.predict_csv(booster, ",".join(["1"] * 68))
    with pytest.raises(model.ModelError, match="row 2: 3 columns, expected 69"):
        model.predict_csv(booster, ",".join(["1"] * 69) + "\n1,2,3\n")


def test_train_rejects_a_file_without_label(data_dir):
    with pytest.raises(model.ModelError, match=r"input-cols\.csv: 69 columns, expected 70"):
        model.train(data_dir / "test-dataset-input-cols.csv")


# ---------------------------------------------------------------- model.tar.gz


def test_tarball_holds_only_xgboost_model_with_zeroed_metadata(booster, tmp_path):
    path = model.package(booster, tmp_path / "model.tar.gz")
    data = path.read_bytes()
    assert data[:2] == b"\x1f\x8b"
    flags, mtime = data[3], struct.unpack("<I", data[4:8])[0]
    assert flags == 0 and mtime == 0  # no file name, no date in the gzip header
    with tarfile.open(path) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["xgboost-model"]
        m = members[0]
        assert m.isfile() and (m.mtime, m.uid, m.gid, m.uname, m.gname) == (0, 0, 0, "", "")
        assert tar.extractfile(m).read() == model.model_bytes(booster)


def test_tarball_is_byte_deterministic(booster, data_dir, tmp_path):
    a = model.package(booster, tmp_path / "a.tar.gz").read_bytes()
    retrained = model.train(data_dir / "training-dataset-with-header.csv")
    b = model.package(retrained, tmp_path / "b.tar.gz").read_bytes()
    assert a == b


def test_load_round_trip_predicts_the_same(booster, data_dir, tmp_path):
    path = model.package(booster, tmp_path / "model.tar.gz")
    text = (data_dir / "test-dataset-input-cols.csv").read_text()
    assert model.predict_csv(model.load(path), text) == model.predict_csv(booster, text)
    assert model.predict_csv(model.load(path.read_bytes()), text[:2000].rsplit("\n", 1)[0])


def test_load_without_xgboost_model_member_is_named(tmp_path):
    path = tmp_path / "bad.tar.gz"
    path.write_bytes(model.tarball_bytes(b"{}", name="model.json"))
    with pytest.raises(model.ModelError, match=r"bad\.tar\.gz: no 'xgboost-model'.*model\.json"):
        model.load(path)
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(gzip.compress(b"not a tar"))
    with pytest.raises(model.ModelError, match=r"junk\.tar\.gz: not a tar\.gz archive"):
        model.load(junk)


def test_committed_model_is_the_trained_one(test_data_dir, booster):
    committed = test_data_dir / schema.MODEL_FILE
    assert committed.exists(), "test_data/model.tar.gz is missing: run `mmlab data generate`"
    assert committed.read_bytes() == model.tarball_bytes(model.model_bytes(booster))
    with tarfile.open(fileobj=io.BytesIO(committed.read_bytes())) as tar:
        assert tar.getnames() == ["xgboost-model"]
