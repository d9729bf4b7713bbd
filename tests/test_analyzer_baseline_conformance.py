"""The baseline of the lab's training file reproduces the real container's files byte for byte."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest

from mmutils.analyzer.baseline import suggest_baseline
from mmutils.analyzer.errors import NoDataError

TRAINING = "data/training-dataset-with-header.csv"


@pytest.fixture(scope="module")
def training_baseline(conformance_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("baseline")
    return suggest_baseline(conformance_dir / TRAINING, header=True, output_dir=out)


def test_constraints_byte_identical_to_real(conformance_dir, training_baseline):
    real = (conformance_dir / "real/intro_baseline_constraints.REAL.json").read_bytes()
    assert (training_baseline.output_dir / "constraints.json").read_bytes() == real


def test_statistics_identical_to_the_logged_text(conformance_dir, training_baseline):
    logged = (
        conformance_dir / "real/intro_baseline_statistics.LOG_EXCERPT_TRUNCATED.txt"
    ).read_text(encoding="utf-8")
    cut = logged.index("[TRUNCATED MESSAGE]")
    assert cut == 256_542
    ours = (training_baseline.output_dir / "statistics.json").read_text(encoding="utf-8")
    assert ours[:cut] == logged[:cut]


def test_statistics_identical_to_the_reconstruction(conformance_dir, training_baseline):
    full = (
        conformance_dir / "derived/intro_baseline_statistics.RECONSTRUCTED_70_features.json"
    ).read_text(encoding="utf-8")
    ours = training_baseline.statistics_json()
    # our files end with a newline like the real constraints.json; the reconstruction has none
    assert ours == full + "\n"


def test_summary_csv_values_of_the_33_real_features(conformance_dir, training_baseline):
    path = conformance_dir / "real/intro_baseline_statistics.summary.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 33
    by_name = {f["name"]: f for f in training_baseline.statistics["features"]}
    for row in rows:
        feature = by_name[row["name"]]
        assert feature["inferred_type"] == row["inferred_type"]
        stats = feature["numerical_statistics"]
        assert stats["common"]["num_present"] == int(row["num_present"])
        for key in ("mean", "sum", "std_dev", "min", "max"):
            assert stats[key] == float(row[key]), (row["name"], key)
        buckets = [
            [float(v) for v in row[f"bucket{i}_lower,upper,count"].split(",")] for i in range(10)
        ]
        ours = [
            [b["lower_bound"], b["upper_bound"], b["count"]]
            for b in stats["distribution"]["kll"]["buckets"]
        ]
        assert ours == buckets, row["name"]


def test_sdk_baseline_dataset_item_count(conformance_dir):
    result = suggest_baseline(conformance_dir / "sdk/baseline_dataset.csv", header=False)
    assert result.statistics["dataset"] == {"item_count": 418}
    assert [f["name"] for f in result.statistics["features"]][:2] == ["_c0", "_c1"]


def test_dataframe_input_gives_the_same_files(conformance_dir, training_baseline):
    df = pd.read_csv(conformance_dir / TRAINING)
    result = suggest_baseline(df)
    assert result.statistics_json() == training_baseline.statistics_json()
    assert result.constraints_json() == training_baseline.constraints_json()


def test_sdk_classes_load_our_files(training_baseline):
    from sagemaker.model_monitor import Constraints, Statistics

    statistics = Statistics(
        body_dict=json.loads((training_baseline.output_dir / "statistics.json").read_text()),
        statistics_file_s3_uri=None,
    )
    constraints = Constraints(
        body_dict=json.loads((training_baseline.output_dir / "constraints.json").read_text()),
        constraints_file_s3_uri=None,
    )
    assert statistics.body_dict["dataset"]["item_count"] == 2333
    assert len(statistics.body_dict["features"]) == 70
    constraints.set_monitoring(False, "Churn")
    assert constraints.body_dict["features"][0]["monitoring_config_overrides"] == {
        "evaluate_constraints": "Disabled"
    }


def test_result_repr_and_html(training_baseline):
    text = repr(training_baseline)
    assert text.startswith("BaselineResult(item_count=2333, features=70, written to ")
    assert "Day Mins" in text and "Fractional" in text and "50 more features" in text
    html = training_baseline._repr_html_()
    assert html.count("<tr>") == 71
    assert "<td>Account Length</td><td>Integral</td><td>2333</td><td>0</td>" in html
    frame = training_baseline.to_dataframe()
    assert frame.loc["Day Mins", "max"] == 350.8


def test_empty_dataframe_has_no_data():
    with pytest.raises(NoDataError, match="Job inputs had no data"):
        suggest_baseline(pd.DataFrame({"a": []}))
