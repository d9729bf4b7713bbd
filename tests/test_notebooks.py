"""The lab notebooks: parameter contract, strict nbval on a fresh emulator, papermill runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mmutils.lab.runner import LAB_NOTEBOOKS, NotebookFailed, run_lab
from mmutils.paths import NOTEBOOKS, REPO_ROOT

COMMON = {"BACKEND", "REGION", "PREFIX", "SEED", "LAB_START_TIME"}
DOCUMENTED = {
    "01_capture": COMMON,
    "02_baseline": COMMON,
    "03_schedule": COMMON | {"N_REQUESTS", "HOURS", "INJECT_DRIFT"},
    "04_visualize": COMMON | {"PROCESSING_JOB_ARN", "CLEANUP"},
    "05_model_quality": COMMON | {"LABEL_SHIFT", "CLEANUP"},
}


@pytest.mark.parametrize("name", LAB_NOTEBOOKS)
def test_notebook_exposes_exactly_the_documented_parameters(name):
    import papermill

    params = papermill.inspect_notebook(str(NOTEBOOKS / f"{name}.ipynb"))
    assert set(params) == DOCUMENTED[name]
    assert params["BACKEND"]["default"] == '"moto"'


@pytest.mark.parametrize("name", LAB_NOTEBOOKS)
def test_committed_notebook_has_emulator_outputs(name):
    nb = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c.get("outputs") is not None for c in code)
    assert any(c.get("outputs") for c in code), (
        "outputs must be committed (render with ./lab run --render)"
    )
    text = json.dumps(nb)
    assert (
        "123456789012" in text or name == "02_baseline"
    )  # the emulator's account, never a real one
    assert "papermill" not in nb["metadata"]


@pytest.mark.parametrize("name", LAB_NOTEBOOKS)
def test_committed_outputs_carry_no_log_noise_or_progress_frames(name):
    """No stderr output (SDK log lines), no tqdm frames or SDK wait dots, no error outputs."""
    nb = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())
    for i, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        for out in cell.get("outputs", []):
            where = f"{name} code cell {i}"
            assert out["output_type"] != "error", where
            if out["output_type"] != "stream":
                continue
            text = "".join(out["text"])
            assert out["name"] == "stdout", f"{where}: stderr output {text[:200]!r}"
            assert "INFO:" not in text and "WARNING:" not in text, where
            assert "\r" not in text and "%|" not in text, f"{where}: progress frames"
            assert text.strip(".") != "" or not text, f"{where}: SDK wait dots"


@pytest.mark.parametrize("name", LAB_NOTEBOOKS)
def test_notebook_ends_with_versions_and_resources(name):
    nb = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())
    last_code = [c for c in nb["cells"] if c["cell_type"] == "code"][-1]
    assert "".join(last_code["source"]) == "print(lab.versions(BACKEND))"
    last = "".join(nb["cells"][-1]["source"])
    assert last.startswith("## Resources") and "https://docs.aws.amazon.com/" in last


def _emulator_env(tmp_path):
    env = dict(os.environ)
    env["MMLAB_HOME"] = str(tmp_path / "mmlab-home")
    env["SAGEMAKER_SUPPRESS_V2_WARNING"] = "1"
    env["MMLAB_PROGRESS"] = "text"  # what mmlab run --render uses for the committed outputs
    return env


@pytest.mark.notebooks
@pytest.mark.slow
def test_nbval_strict_on_fresh_emulator(tmp_path, monkeypatch):
    """The committed outputs are exactly what the notebooks produce on a fresh emulator."""
    env = _emulator_env(tmp_path)
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--nbval",
        "--nbval-sanitize-with",
        str(NOTEBOOKS / "nbval-sanitize.cfg"),
        *[str(NOTEBOOKS / f"{n}.ipynb") for n in LAB_NOTEBOOKS],
    ]
    try:
        proc = subprocess.run(
            cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900
        )
        # the reports the default run left in the emulated S3: two normal hours, one drifted
        monkeypatch.setenv("MMLAB_HOME", env["MMLAB_HOME"])
        from mmutils.lab.runner import ReportReader, report_summaries

        executions = report_summaries(ReportReader.for_backend("moto", "us-east-1"), "mmlab")
    finally:
        subprocess.run(
            [sys.executable, "-m", "mmutils.cli", "emulator", "stop"], env=env, capture_output=True
        )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout.splitlines()[-1]
    by_monitor: dict = {}
    for e in executions:
        by_monitor.setdefault((e["notebook"], e["monitoring_type"]), []).append(e)
    assert list(by_monitor) == [
        ("03_schedule", "DataQuality"),
        ("05_model_quality", "ModelQuality"),
        ("05_model_quality", "DataQuality"),
    ]
    dq = by_monitor["03_schedule", "DataQuality"]
    assert [e["report"].rsplit("/", 1)[-1] for e in dq] == ["10", "11", "12"]
    assert [e["violations"].get("data_type_check") for e in dq] == [60, 60, 60]
    assert "baseline_drift_check" not in dq[0]["violations"]
    assert "baseline_drift_check" not in dq[1]["violations"]
    assert dq[2]["violations"]["baseline_drift_check"] >= 1
    # notebook 05: model quality quiet in the normal hour, violated in the concept-drift hour,
    # while its data-quality schedule on the same traffic sees no drift
    mq = by_monitor["05_model_quality", "ModelQuality"]
    assert all("/mmlab/model-quality/reports/" in e["report"] for e in mq)
    assert [e["violations"] == {} for e in mq] == [True, False]
    assert mq[0]["exit_message"].startswith("Completed: ")
    assert mq[1]["exit_message"].startswith("CompletedWithViolations: ")
    assert set(mq[1]["violations"]) <= {"LessThanThreshold", "GreaterThanThreshold"}
    mq_dq = by_monitor["05_model_quality", "DataQuality"]
    assert len(mq_dq) == 2
    assert all("baseline_drift_check" not in e["violations"] for e in mq_dq)


@pytest.mark.notebooks
@pytest.mark.slow
def test_mmlab_run_with_other_parameters(tmp_path):
    """Fewer requests, one hour, no drift: the reports in S3 say so."""
    report = run_lab(
        output=tmp_path / "run",
        parameters={"N_REQUESTS": 50, "HOURS": 1, "INJECT_DRIFT": False, "PREFIX": "small"},
        echo=lambda *_: None,
    )
    assert [nb["name"] for nb in report.notebooks] == list(LAB_NOTEBOOKS)
    for nb in report.notebooks:
        assert (tmp_path / "run" / f"{nb['name']}.ipynb").is_file()
    assert {ex["report"].split("/")[3] for ex in report.executions} == {"small"}
    # one hour of normal traffic, then the (undrifted) last hour: two reports
    dq = [ex for ex in report.executions if ex["notebook"] == "03_schedule"]
    assert len(dq) == 2, report.executions
    for ex in dq:
        assert ex["report"].startswith("s3://") and "/small/reports/" in ex["report"]
        assert "baseline_drift_check" not in ex["violations"]
        assert ex["violations"].get("data_type_check", 0) >= 1  # the corrupted row, and Churn
        assert ex["exit_message"].startswith("CompletedWithViolations: Job completed successfully")
    # notebook 05 ran with the same PREFIX: its model-quality reports are summarised too
    mq = [ex for ex in report.executions if ex["monitoring_type"] == "ModelQuality"]
    assert len(mq) == 2 and all("/small/model-quality/reports/" in ex["report"] for ex in mq)
    assert mq[-1]["violations"], mq  # the concept-drift hour
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["executions"] == report.executions and summary["prefix"] == "small"
    markdown = (tmp_path / "run" / "summary.md").read_text()
    assert "Monitoring executions" in markdown
    assert f"| 05_model_quality | ModelQuality | `{mq[-1]['report']}` |" in markdown


@pytest.mark.notebooks
def test_run_stops_with_the_failing_cell_error(tmp_path):
    """03 without 01/02 on a fresh emulator stops at its prerequisite check, naming notebook 01."""
    with pytest.raises(NotebookFailed) as info:
        run_lab(output=tmp_path / "run", notebooks=("03_schedule",), echo=lambda *_: None)
    message = str(info.value)
    assert "03_schedule.ipynb failed in cell" in message
    assert "PrerequisiteError" in message and "01_capture.ipynb first" in message
