"""``mmlab analyze baseline|monitor`` on local paths and s3:// URIs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mmutils.cli import main


def _csv(path: Path, rows: int, offset: int = 0, header: bool = True) -> Path:
    lines = ["label,x,y"] if header else []
    lines += [f"{i % 2},{i % 20 + offset},{(i % 40) / 8}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _capture(path: Path, rows: int, offset: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(rows):
        cap = {
            "endpointInput": {
                "observedContentType": "text/csv",
                "mode": "INPUT",
                "data": f"{i % 20 + offset},{(i % 40) / 8}",
                "encoding": "CSV",
            },
            "endpointOutput": {
                "observedContentType": "text/csv",
                "mode": "OUTPUT",
                "data": str(i % 2),
                "encoding": "CSV",
            },
        }
        lines.append(json.dumps({"captureData": cap, "eventMetadata": {}, "eventVersion": "0"}))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_baseline_then_monitor_locally(tmp_path, capsys):
    data = _csv(tmp_path / "train.csv", 400)
    assert main(["analyze", "baseline", str(data), "--out", str(tmp_path / "base")]) == 0
    out = capsys.readouterr().out
    assert "Baseline: 400 records, 3 features (1 Fractional, 2 Integral)" in out
    assert f"wrote {tmp_path / 'base' / 'constraints.json'}" in out
    window = _capture(tmp_path / "cap" / "w.jsonl", 300, offset=15)
    args = [
        "analyze",
        "monitor",
        str(tmp_path / "cap"),
        "--statistics",
        str(tmp_path / "base" / "statistics.json"),
        "--constraints",
        str(tmp_path / "base" / "constraints.json"),
        "--out",
        str(tmp_path / "report"),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "CompletedWithViolations: Job completed successfully with 1 violations." in out
    assert "  baseline_drift_check: 1" in out
    violations = json.loads((tmp_path / "report" / "constraint_violations.json").read_text())
    assert [v["feature_name"] for v in violations["violations"]] == ["x"]
    assert main([*args, "--fail-on-violations"]) == 3
    assert window.exists()


def test_header_less_csv_monitoring_matches_by_position(tmp_path, capsys):
    _csv(tmp_path / "train.csv", 400)
    assert (
        main(["analyze", "baseline", str(tmp_path / "train.csv"), "--out", str(tmp_path / "b")])
        == 0
    )
    _csv(tmp_path / "batch.csv", 200, header=False)
    code = main(
        [
            "analyze",
            "monitor",
            str(tmp_path / "batch.csv"),
            "--format",
            "csv",
            "--no-header",
            "--statistics",
            str(tmp_path / "b" / "statistics.json"),
            "--constraints",
            str(tmp_path / "b" / "constraints.json"),
            "--out",
            str(tmp_path / "r"),
        ]
    )
    assert code == 0
    assert "Completed: Job completed successfully with no violations." in capsys.readouterr().out
    stats = json.loads((tmp_path / "r" / "statistics.json").read_text())
    assert [f["name"] for f in stats["features"]] == ["label", "x", "y"]


def test_errors_are_reported_not_raised(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("label,x\n")
    assert main(["analyze", "baseline", str(empty), "--out", str(tmp_path / "o")]) == 1
    assert "no data rows" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    code = main(
        [
            "analyze",
            "monitor",
            str(tmp_path),
            "--statistics",
            str(tmp_path / "missing.json"),
            "--constraints",
            str(tmp_path / "missing.json"),
        ]
    )
    assert code == 1
    assert "Baseline constraints file not found" in capsys.readouterr().err


def test_s3_inputs_and_outputs(tmp_path, capsys, monkeypatch):
    boto3 = pytest.importorskip("boto3")
    moto = pytest.importorskip("moto")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(key, raising=False)
    with moto.mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="lab")
        s3.upload_file(str(_csv(tmp_path / "train.csv", 400)), "lab", "in/train.csv")
        for hour, n in (("00", 100), ("01", 120)):
            f = _capture(tmp_path / f"c{hour}.jsonl", n, offset=0)
            s3.upload_file(str(f), "lab", f"cap/ep/AllTraffic/2024/01/01/{hour}/a.jsonl")
        s3.put_object(Bucket="lab", Key="capture-other/x.jsonl", Body=b"not json\n")
        assert main(["analyze", "baseline", "s3://lab/in/train.csv", "--out", "s3://lab/base"]) == 0
        assert "wrote s3://lab/base/statistics.json" in capsys.readouterr().out
        code = main(
            [
                "analyze",
                "monitor",
                "s3://lab/cap",
                "--statistics",
                "s3://lab/base/statistics.json",
                "--constraints",
                "s3://lab/base/constraints.json",
                "--out",
                "s3://lab/report/",
            ]
        )
        assert code == 0
        out = capsys.readouterr().out
        assert "220 records" in out and "wrote s3://lab/report/constraint_violations.json" in out
        body = s3.get_object(Bucket="lab", Key="report/statistics.json")["Body"].read()
        assert json.loads(body)["dataset"]["item_count"] == 220
