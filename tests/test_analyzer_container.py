"""The container entry point: env contract, /opt/ml paths, message file, exit codes (spec §E)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mmutils.analyzer import container
from mmutils.paths import REPO_ROOT

CSV_FORMAT = json.dumps({"csv": {"header": True, "output_columns_position": "START"}})
CAPTURE_FORMAT = json.dumps(
    {"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}
)
CATS = ["a", "b", "c"]


def _baseline_csv(path: Path, rows: int = 500) -> None:
    lines = ["label,x,y,cat"]
    for i in range(rows):
        lines.append(f"{i % 2},{i % 50},{(i % 40) / 4 + 0.5},{CATS[i % 3]}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def _capture_window(root: Path, hour: str, rows: int = 400, shift: int = 30) -> None:
    folder = root / "ep" / "AllTraffic" / "2024" / "03" / "01" / hour
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(rows):
        rec = {
            "captureData": {
                "endpointInput": {
                    "observedContentType": "text/csv",
                    "mode": "INPUT",
                    "data": f"{i % 50 + shift},{(i % 40) / 4 + 0.5},{CATS[i % 3]}",
                    "encoding": "CSV",
                },
                "endpointOutput": {
                    "observedContentType": "text/csv; charset=utf-8",
                    "mode": "OUTPUT",
                    "data": "0.25",
                    "encoding": "CSV",
                },
            },
            "eventMetadata": {"eventId": str(i), "inferenceTime": f"2024-03-01T{hour}:00:00Z"},
            "eventVersion": "0",
        }
        lines.append(json.dumps(rec))
    (folder / "00-00-000-x.jsonl").write_text("\n".join(lines) + "\n")


def _baseline_job(opt_ml: Path) -> dict:
    _baseline_csv(opt_ml / "processing" / "input" / "baseline_dataset_input" / "train.csv")
    env = {
        "MMLAB_OPT_ML": str(opt_ml),
        "dataset_format": CSV_FORMAT,
        "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
        "output_path": "/opt/ml/processing/output",
        "publish_cloudwatch_metrics": "Disabled",
    }
    assert container.run(env) == 0
    return env


def capture_baseline_env(opt_ml: Path) -> dict:
    """The environment of a baseline job over the capture files under ``endpoint``."""
    return {
        "MMLAB_OPT_ML": str(opt_ml),
        "dataset_format": CAPTURE_FORMAT,
        "dataset_source": "/opt/ml/processing/input/endpoint",
        "output_path": "/opt/ml/processing/output",
        "publish_cloudwatch_metrics": "Disabled",
    }


def _monitoring_env(opt_ml: Path, baseline_out: Path, **extra) -> dict:
    env = {
        "MMLAB_OPT_ML": str(opt_ml),
        "dataset_format": CAPTURE_FORMAT,
        "dataset_source": "/opt/ml/processing/input/endpoint",
        "output_path": "/opt/ml/processing/resultdata",
        "baseline_statistics": str(baseline_out / "statistics.json"),
        "baseline_constraints": str(baseline_out / "constraints.json"),
        "start_time": "2024-03-01T05:00:00Z",
        "end_time": "2024-03-01T06:00:00Z",
        "publish_cloudwatch_metrics": "Enabled",
        "sagemaker_endpoint_name": "ep",
        "sagemaker_monitoring_schedule_name": "sched",
    }
    env.update(extra)
    return env


@pytest.fixture()
def baseline_out(tmp_path) -> Path:
    job = tmp_path / "baseline-job"
    _baseline_job(job)
    return job / "processing" / "output"


def test_baseline_job_from_processingjobconfig(tmp_path):
    opt_ml = tmp_path / "job"
    _baseline_csv(opt_ml / "processing" / "input" / "baseline_dataset_input" / "train.csv")
    config = {
        "ProcessingJobName": "baseline-suggestion-job-2024-03-01-00-00-00-000",
        "Environment": {
            "dataset_format": CSV_FORMAT,
            "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
            "output_path": "/opt/ml/processing/output",
            "publish_cloudwatch_metrics": "Disabled",
        },
    }
    (opt_ml / "config").mkdir(parents=True)
    (opt_ml / "config" / "processingjobconfig.json").write_text(json.dumps(config))
    assert container.run({"MMLAB_OPT_ML": str(opt_ml)}) == 0
    out = opt_ml / "processing" / "output"
    assert sorted(p.name for p in out.iterdir()) == ["constraints.json", "statistics.json"]
    constraints = json.loads((out / "constraints.json").read_text())
    assert [(f["name"], f["inferred_type"]) for f in constraints["features"]] == [
        ("label", "Integral"),
        ("x", "Integral"),
        ("y", "Fractional"),
        ("cat", "String"),
    ]
    assert (out / "constraints.json").read_text().startswith('{\n  "version" : 0.0,\n')
    message = (opt_ml / "output" / "message").read_text()
    assert message == "Completed: Job completed successfully with no violations."


def test_monitoring_job_writes_reports_metrics_and_message(tmp_path, baseline_out, capsys):
    opt_ml = tmp_path / "exec"
    endpoint = opt_ml / "processing" / "input" / "endpoint"
    _capture_window(endpoint, "05")
    _capture_window(endpoint, "04", shift=0)  # outside the window: must not be read
    env = _monitoring_env(opt_ml, baseline_out)
    assert container.run(env) == 0
    out = opt_ml / "processing" / "resultdata"
    assert sorted(p.name for p in out.iterdir()) == [
        "constraint_violations.json",
        "constraints.json",
        "statistics.json",
    ]
    stats = json.loads((out / "statistics.json").read_text())
    assert stats["dataset"]["item_count"] == 400
    violations = json.loads((out / "constraint_violations.json").read_text())["violations"]
    assert [(v["feature_name"], v["constraint_check_type"]) for v in violations] == [
        ("label", "data_type_check"),
        ("x", "baseline_drift_check"),
    ]
    message = (opt_ml / "output" / "message").read_text()
    assert message == "CompletedWithViolations: Job completed successfully with 2 violations."
    # CloudWatch records in the fixed metrics folder under MMLAB_OPT_ML
    metric_file = opt_ml / "output" / "metrics" / "cloudwatch" / "cloudwatch_metrics.jsonl"
    records = [json.loads(line) for line in metric_file.read_text().splitlines()]
    names = [r["MetricName"] for r in records]
    assert "feature_baseline_drift_x" in names and "feature_non_null_cat" in names
    assert "feature_data_y" in names and "feature_baseline_drift_label" not in names
    drift_x = next(r for r in records if r["MetricName"] == "feature_baseline_drift_x")
    assert drift_x["Timestamp"] == "2024-03-01T06:00:00Z"
    assert drift_x["Dimensions"] == [
        {"Name": "Endpoint", "Value": "ep"},
        {"Name": "MonitoringSchedule", "Value": "sched"},
    ]
    assert f"{drift_x['Value']} exceeds" in violations[1]["description"]
    data_y = next(r for r in records if r["MetricName"] == "feature_data_y")
    assert data_y["StatisticValues"]["SampleCount"] == 400.0
    logs = capsys.readouterr().out
    assert "AnalyticsInput:" in logs and "Write to file" in logs


def test_metrics_only_when_enabled(tmp_path, baseline_out):
    opt_ml = tmp_path / "exec"
    _capture_window(opt_ml / "processing" / "input" / "endpoint", "05")
    env = _monitoring_env(opt_ml, baseline_out, publish_cloudwatch_metrics="Disabled")
    assert container.run(env) == 0
    assert not (opt_ml / "output" / "metrics").exists()


def test_window_without_data_fails_with_service_text(tmp_path, baseline_out):
    opt_ml = tmp_path / "exec"
    _capture_window(opt_ml / "processing" / "input" / "endpoint", "03")
    env = _monitoring_env(opt_ml, baseline_out)
    assert container.run(env) == 255
    assert (opt_ml / "output" / "message").read_text() == "Job inputs had no data"
    assert not (opt_ml / "processing" / "resultdata").exists()
    # no input folder at all (an empty S3 prefix downloads nothing): same outcome
    empty = tmp_path / "empty"
    assert container.run(_monitoring_env(empty, baseline_out)) == 255
    assert (empty / "output" / "message").read_text() == "Job inputs had no data"


def test_failures_exit_255_with_message(tmp_path, baseline_out):
    opt_ml = tmp_path / "exec"
    _capture_window(opt_ml / "processing" / "input" / "endpoint", "05")
    env = _monitoring_env(opt_ml, baseline_out, baseline_constraints=str(tmp_path / "nope.json"))
    assert container.run(env) == 255
    assert (opt_ml / "output" / "message").read_text() == (
        f"Baseline constraints file not found: {tmp_path / 'nope.json'}"
    )
    env = _monitoring_env(opt_ml, baseline_out, dataset_format='{"parquet": {}}')
    assert container.run(env) == 255
    assert "Unsupported dataset_format 'parquet'" in (opt_ml / "output" / "message").read_text()
    env = _monitoring_env(opt_ml, baseline_out)
    del env["output_path"]
    assert container.run(env) == 255
    assert (opt_ml / "output" / "message").read_text() == (
        "Missing required environment variable(s): output_path"
    )
    assert not (opt_ml / "processing" / "resultdata").exists()


def test_scripts_run_with_job_environment(tmp_path, baseline_out):
    opt_ml = tmp_path / "exec"
    _capture_window(opt_ml / "processing" / "input" / "endpoint", "05")
    code = opt_ml / "processing" / "code"
    code.mkdir(parents=True)
    (code / "pre.py").write_text(
        "def preprocess_handler(inference_record):\n"
        "    x, y, cat = inference_record.endpoint_input.data.split(',')\n"
        "    x = int(x) - 30\n"
        "    return {'label': str(x % 2), 'x': str(x), 'y': y, 'cat': cat}\n"
    )
    (code / "post.py").write_text(
        "import os, pathlib\n"
        "def postprocess_handler():\n"
        "    out = pathlib.Path(os.environ['output_path'])\n"
        "    assert os.environ['RESULT_DIR'] == str(out)\n"
        "    names = sorted(p.name for p in out.iterdir())\n"
        "    (out.parent / 'post.txt').write_text(os.environ['GREETING'] + ' ' + ','.join(names))\n"
    )
    env = _monitoring_env(
        opt_ml,
        baseline_out,
        record_preprocessor_script="/opt/ml/processing/code/pre.py",
        post_analytics_processor_script="/opt/ml/processing/code/post.py",
        GREETING="hello",
        RESULT_DIR=str(opt_ml / "processing" / "resultdata"),
    )
    assert container.run(env) == 0
    # the pre-processor undid the shift and fixed the label: no violation left
    assert (opt_ml / "output" / "message").read_text() == (
        "Completed: Job completed successfully with no violations."
    )
    assert (opt_ml / "processing" / "post.txt").read_text() == (
        "hello constraint_violations.json,constraints.json,statistics.json"
    )
    assert "GREETING" not in os.environ


def test_bad_preprocessor_message(tmp_path, baseline_out):
    opt_ml = tmp_path / "exec"
    _capture_window(opt_ml / "processing" / "input" / "endpoint", "05")
    script = tmp_path / "pre.py"
    script.write_text("def preprocess_handler(r):\n    raise ValueError('boom')\n")
    env = _monitoring_env(opt_ml, baseline_out, record_preprocessor_script=str(script))
    assert container.run(env) == 255
    assert (opt_ml / "output" / "message").read_text() == (
        "There is an exception raised in preprocessor script. Please double check the "
        "preprocessor script."
    )


def test_python_dash_m_is_the_entry_point(tmp_path, baseline_out):
    """A real process: exit code 255 and the message file, as the image would produce."""
    opt_ml = tmp_path / "exec"
    env = dict(os.environ)
    env.update(_monitoring_env(opt_ml, baseline_out))
    env["PYTHONPATH"] = str(REPO_ROOT)
    proc = subprocess.run(
        [sys.executable, "-m", "mmutils.analyzer"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 255
    assert "Job inputs had no data" in proc.stdout
    assert (opt_ml / "output" / "message").read_text() == "Job inputs had no data"


def test_other_monitor_types_are_refused(tmp_path, baseline_out):
    opt_ml = tmp_path / "exec"
    _capture_window(opt_ml / "processing" / "input" / "endpoint", "05")
    env = _monitoring_env(opt_ml, baseline_out, analysis_type="MODEL_BIAS")
    assert container.run(env) == 255
    assert (
        (opt_ml / "output" / "message")
        .read_text()
        .startswith("analysis_type MODEL_BIAS is not supported")
    )


def test_model_quality_needs_its_problem_type(tmp_path, baseline_out):
    opt_ml = tmp_path / "exec"
    _capture_window(opt_ml / "processing" / "input" / "endpoint", "05")
    env = _monitoring_env(opt_ml, baseline_out, analysis_type="MODEL_QUALITY")
    assert container.run(env) == 255
    message = (opt_ml / "output" / "message").read_text()
    assert message == "Missing required environment variable(s): problem_type"


def test_metric_records_respect_emit_metrics():
    from mmutils.analyzer.metrics import metric_records

    stats = {
        "features": [
            {
                "name": "x",
                "numerical_statistics": {
                    "common": {"num_present": 3, "num_missing": 1},
                    "sum": 6.0,
                    "min": 1.0,
                    "max": 3.0,
                },
            },
            {"name": "s", "string_statistics": {"common": {"num_present": 4, "num_missing": 0}}},
        ]
    }
    constraints = {"features": [{"name": "x"}, {"name": "s"}]}
    records = metric_records(
        stats, {"x": 0.25}, constraints, schedule_name="sch", timestamp="2024-03-01T06:00:00+00:00"
    )
    assert records == [
        {
            "MetricName": "feature_data_x",
            "Timestamp": "2024-03-01T06:00:00Z",
            "Dimensions": [{"Name": "MonitoringSchedule", "Value": "sch"}],
            "StatisticValues": {"SampleCount": 3.0, "Sum": 6.0, "Minimum": 1.0, "Maximum": 3.0},
        },
        {
            "MetricName": "feature_non_null_x",
            "Timestamp": "2024-03-01T06:00:00Z",
            "Dimensions": [{"Name": "MonitoringSchedule", "Value": "sch"}],
            "Value": 0.75,
        },
        {
            "MetricName": "feature_baseline_drift_x",
            "Timestamp": "2024-03-01T06:00:00Z",
            "Dimensions": [{"Name": "MonitoringSchedule", "Value": "sch"}],
            "Value": 0.25,
        },
        {
            "MetricName": "feature_non_null_s",
            "Timestamp": "2024-03-01T06:00:00Z",
            "Dimensions": [{"Name": "MonitoringSchedule", "Value": "sch"}],
            "Value": 1.0,
        },
    ]
    muted = {"features": [{"name": "x", "monitoringConfigOverrides": {"emit_metrics": "Disabled"}}]}
    assert [r["MetricName"] for r in metric_records(stats, {"x": 0.25}, muted)] == [
        "feature_non_null_s"
    ]
    off = {"features": [], "monitoring_config": {"emit_metrics": "Disabled"}}
    assert metric_records(stats, {"x": 0.25}, off) == []


def test_baseline_job_on_capture_data_is_the_same_for_any_worker_count(tmp_path, monkeypatch):
    # a baseline suggested from captured traffic goes through the capture reader and the
    # column-group profiler: 1 and 2 workers must write the same bytes
    from mmutils.analyzer import parallel

    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)  # threads even for a small input
    written = {}
    for workers in (1, 2):
        opt_ml = tmp_path / f"job{workers}"
        for hour in ("05", "06"):
            _capture_window(opt_ml / "processing" / "input" / "endpoint", hour, rows=300)
        monkeypatch.setenv("MMLAB_ANALYZER_WORKERS", str(workers))
        assert container.run(capture_baseline_env(opt_ml)) == 0
        out = opt_ml / "processing" / "output"
        written[workers] = {
            p: (out / p).read_bytes() for p in ("statistics.json", "constraints.json")
        }
    assert written[1] == written[2]
    stats = json.loads(written[1]["statistics.json"])
    assert stats["dataset"]["item_count"] == 600
    assert [f["inferred_type"] for f in stats["features"]][-1] == "String"
