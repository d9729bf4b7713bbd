"""Monitoring against the lab's real baseline reproduces what the real service reported (§D.2)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mmutils.analyzer import run_monitoring
from mmutils.analyzer.errors import NoDataError

PREDICTION = "0.036397725343704224"  # a real XGBoost output for this endpoint (§A.1)
INTEGRAL = re.compile(r"^(-|\+)? ?\d+$")


def _capture_line(features: str, prediction: str, second: int) -> str:
    record = {
        "captureData": {
            "endpointInput": {
                "observedContentType": "text/csv",
                "mode": "INPUT",
                "data": features,
                "encoding": "CSV",
            },
            "endpointOutput": {
                "observedContentType": "text/csv; charset=utf-8",
                "mode": "OUTPUT",
                "data": prediction,
                "encoding": "CSV",
            },
        },
        "eventMetadata": {
            "eventId": f"00000000-0000-4000-8000-{second:012d}",
            "inferenceTime": f"2022-04-18T00:{second // 60:02d}:{second % 60:02d}Z",
        },
        "eventVersion": "0",
    }
    return json.dumps(record, separators=(",", ":"))


def write_window(root: Path, traffic: list[str], total: int, corrupted: int) -> Path:
    """``total`` records of real traffic, ``corrupted`` of them the deliberately broken row 1.

    Records are spread over capture files of 60 records, in the service's key layout.
    """
    good = traffic[1:]
    step = total // corrupted
    rows = []
    for i in range(total):
        rows.append(traffic[0] if i % step == 0 and i // step < corrupted else good[i % len(good)])
    assert sum(r == traffic[0] for r in rows) == corrupted
    hour = root / "ep" / "AllTraffic" / "2022" / "04" / "18" / "00"
    hour.mkdir(parents=True)
    for start in range(0, total, 60):
        second = start % 3600
        name = f"{second // 60:02d}-{second % 60:02d}-000-{start:08d}.jsonl"
        lines = [
            _capture_line(r, PREDICTION, start + k) for k, r in enumerate(rows[start : start + 60])
        ]
        (hour / name).write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def baseline(conformance_dir):
    return (
        conformance_dir / "derived" / "intro_baseline_statistics.RECONSTRUCTED_70_features.json",
        conformance_dir / "real" / "intro_baseline_constraints.REAL.json",
    )


@pytest.fixture(scope="module")
def traffic(conformance_dir):
    return (conformance_dir / "data" / "test-dataset-input-cols.csv").read_text().splitlines()


def test_real_run_60_data_type_violations(tmp_path, baseline, traffic, monkeypatch):
    window = write_window(tmp_path / "capture", traffic, 1977, 7)
    out = tmp_path / "report"
    result = run_monitoring(window, *baseline, output_dir=out)

    names = [
        f["name"] for f in json.loads(baseline[1].read_text())["features"]
    ]  # Churn first, as in the training file
    corrupted = traffic[0].split(",")
    broken = {names[i + 1] for i, cell in enumerate(corrupted) if not INTEGRAL.match(cell)}
    # VMail Message (0.1) and the 58 one-hot columns; the 4 "Mins" columns are Fractional anyway
    broken -= {"Day Mins", "Eve Mins", "Night Mins", "Intl Mins"}
    assert len(broken) == 59

    violations = result.violations
    assert len(violations) == 60
    assert {v["constraint_check_type"] for v in violations} == {"data_type_check"}
    by_name = {v["feature_name"]: v["description"] for v in violations}
    assert by_name.pop("Churn") == (
        "Data type match requirement is not met. Expected data type: Integral, Expected match: "
        "100.0%. Observed: Only 0.0% of data is Integral."
    )
    assert set(by_name) == broken
    assert set(by_name.values()) == {
        "Data type match requirement is not met. Expected data type: Integral, Expected match: "
        "100.0%. Observed: Only 99.64592817400101% of data is Integral."
    }
    assert result.exit_message == (
        "CompletedWithViolations: Job completed successfully with 60 violations."
    )
    # no drift violation although Churn's distribution moved completely (§D.2)
    assert "Churn" not in result.drift
    assert all(d <= 0.1 for d in result.drift.values())

    # the files, in the container's format, loadable by the SDK's own classes
    assert sorted(p.name for p in out.iterdir()) == [
        "constraint_violations.json",
        "constraints.json",
        "statistics.json",
    ]
    text = (out / "constraint_violations.json").read_text()
    assert text.startswith('{\n  "violations" : [ {\n    "feature_name" : "')
    stats = json.loads((out / "statistics.json").read_text())
    assert stats["dataset"]["item_count"] == 1977
    churn = stats["features"][0]
    assert churn["name"] == "Churn" and churn["inferred_type"] == "Fractional"
    assert churn["numerical_statistics"]["min"] == float(PREDICTION)
    assert (out / "constraints.json").read_text() == baseline[1].read_text()

    _load_with_sdk(out, monkeypatch)


def _load_with_sdk(out: Path, monkeypatch) -> None:
    """The SDK's own classes read our files (through moto's S3, as they read real reports)."""
    boto3 = pytest.importorskip("boto3")
    moto = pytest.importorskip("moto")
    sagemaker = pytest.importorskip("sagemaker")
    from sagemaker.model_monitor import ConstraintViolations, Statistics

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with moto.mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="mmlab-test")
        for f in out.iterdir():
            s3.upload_file(str(f), "mmlab-test", f"report/{f.name}")
        session = sagemaker.Session(boto_session=boto3.Session(region_name="us-east-1"))
        violations = ConstraintViolations.from_s3_uri(
            "s3://mmlab-test/report/constraint_violations.json", sagemaker_session=session
        )
        stats = Statistics.from_s3_uri(
            "s3://mmlab-test/report/statistics.json", sagemaker_session=session
        )
    assert len(violations.body_dict["violations"]) == 60
    assert violations.body_dict["violations"][0]["constraint_check_type"] == "data_type_check"
    assert stats.body_dict["dataset"]["item_count"] == 1977


@pytest.mark.parametrize(
    ("total", "corrupted", "text"),
    [(1919, 7, "99.6352266805628"), (1412, 5, "99.6458923512748"), (2031, 7, "99.65534219596258")],
)
def test_other_observed_runs(tmp_path, baseline, traffic, total, corrupted, text):
    window = write_window(tmp_path / "capture", traffic, total, corrupted)
    result = run_monitoring(window, *baseline)
    texts = {v["description"] for v in result.violations if v["feature_name"] != "Churn"}
    assert texts == {
        "Data type match requirement is not met. Expected data type: Integral, Expected match: "
        f"100.0%. Observed: Only {text}% of data is Integral."
    }
    assert len(result.violations) == 60


def test_clean_traffic_has_only_the_churn_violation(tmp_path, baseline, traffic):
    window = write_window(tmp_path / "capture", traffic, 999, 1)
    clean = tmp_path / "clean"
    (clean).mkdir()
    for f in sorted(window.rglob("*.jsonl")):
        lines = [ln for ln in f.read_text().splitlines() if traffic[0] not in ln]
        (clean / f.name).write_text("\n".join(lines) + "\n")
    result = run_monitoring(clean, *baseline, dataset_format={"sagemakerCaptureJson": {}})
    assert [v["feature_name"] for v in result.violations] == ["Churn"]
    assert result.statistics["dataset"]["item_count"] == 998


def test_window_without_data(tmp_path, baseline, traffic):
    window = write_window(tmp_path / "capture", traffic, 60, 1)
    with pytest.raises(NoDataError, match="^Job inputs had no data$"):
        run_monitoring(
            window, *baseline, start_time="2022-04-18T05:00:00Z", end_time="2022-04-18T06:00:00Z"
        )


def test_dataframe_of_labelled_test_set_is_clean(conformance_dir, baseline):
    """The held-out test set (label first, like the training file) shows no violation."""
    pd = pytest.importorskip("pandas")
    names = [f["name"] for f in json.loads(baseline[1].read_text())["features"]]
    df = pd.read_csv(conformance_dir / "data" / "test-dataset.csv", header=None, names=names)
    result = run_monitoring(df, *baseline)
    assert result.item_count == 334
    assert result.violations == []
    assert result.exit_message == "Completed: Job completed successfully with no violations."
    assert set(result.drift) == set(names)  # every feature compared, none drifted
    assert str(result).startswith("Completed: 334 records, 70 features, 0 violations")
    assert "<strong>Completed</strong>" in result._repr_html_()


def test_result_summary_lists_violations(tmp_path, baseline, traffic):
    window = write_window(tmp_path / "capture", traffic, 400, 2)
    result = run_monitoring(window, *baseline)
    text = str(result)
    assert (
        text.splitlines()[0] == "CompletedWithViolations: 400 records, 70 features, 60 violations"
    )
    assert "  data_type_check: 60" in text and "… and 55 more" in text
    html = result._repr_html_()
    assert html.count("<tr><td>") == 50 and "… and 10 more" in html


def test_monitoring_result_repr_is_one_line():
    """In a notebook, ``report`` shows a summary, not the whole statistics document."""
    from mmutils.analyzer.monitor import MonitoringResult

    result = MonitoringResult(
        statistics={"dataset": {"item_count": 7}, "features": []},
        constraints={},
        violations=[
            {"feature_name": "a", "constraint_check_type": "data_type_check", "description": "x"},
            {"feature_name": "b", "constraint_check_type": "data_type_check", "description": "y"},
        ],
    )
    assert repr(result) == (
        "<MonitoringResult CompletedWithViolations: 7 records, 2 violations (data_type_check=2)>"
    )
