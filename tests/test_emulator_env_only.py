"""Code written for AWS runs on the emulator with the variables of ``mmlab emulator env`` alone.

The script ``aws_style/dq_flow.py`` imports only boto3 and the SageMaker SDK (no mmutils, no
emulator URL): ``sagemaker.Session()``, ``get_execution_role()``, an S3 client with an explicit
``https://s3.<region>.amazonaws.com``, an ``https://<bucket>.s3.<region>.amazonaws.com`` model
URL, deploy with capture, baseline, hourly schedule, execution, violations. A
``sitecustomize`` audit hook in the child records every socket connection: all of them go to
127.0.0.1, and a request to a non-AWS host is refused by the emulator's proxy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from emulator_support import REPO, running

from mmutils.emulator import lifecycle
from mmutils.emulator.admin_client import EmulatorClient

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "aws_style" / "dq_flow.py"

AUDIT = """
import sys, os
_log = os.environ["MMLAB_TEST_CONNECT_LOG"]
def _hook(event, args):
    if event == "socket.connect":
        address = args[1]
        with open(_log, "a") as f:
            f.write(repr(address) + "\\n")
sys.addaudithook(_hook)
"""


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    with running(tmp_path_factory.mktemp("envonly")) as emu:
        yield emu


def _env(emu, tmp_path: Path) -> dict[str, str]:
    """A clean environment: PATH, a fresh HOME, the audit hook, and ``mmlab emulator env``."""
    info = lifecycle.EmulatorInfo(
        pid=emu.proc.pid,
        port=int(emu.url.rsplit(":", 1)[1]),
        endpoint_url=emu.url,
        started_at="",
        log="",
        version="",
        state_dir=str(emu.state_dir),
    )
    hook_dir = tmp_path / "hook"
    hook_dir.mkdir(exist_ok=True)
    (hook_dir / "sitecustomize.py").write_text(AUDIT)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PYTHONPATH": str(hook_dir),
        "MMLAB_TEST_CONNECT_LOG": str(tmp_path / "connects.log"),
    }
    for key, value in lifecycle.env_vars(info).items():
        if value is not None:
            env[key] = value
    return env


def _run(env: dict, *args: str, timeout: float = 300) -> dict:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=str(Path(env["HOME"])),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def _connects(env: dict) -> list[str]:
    path = Path(env["MMLAB_TEST_CONNECT_LOG"])
    return path.read_text().splitlines() if path.exists() else []


def test_env_names_the_proxy_and_its_ca(emu, tmp_path):
    env = _env(emu, tmp_path)
    assert env["HTTPS_PROXY"].startswith("http://127.0.0.1:")
    assert Path(env["AWS_CA_BUNDLE"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert env["AWS_ENDPOINT_URL"] == emu.url
    assert "127.0.0.1" in env["NO_PROXY"]


def test_aws_script_runs_unchanged_on_the_environment_alone(emu, tmp_path):
    env = _env(emu, tmp_path)
    setup = _run(env, "setup", str(REPO / "test_data"))
    assert setup["bucket"] == "sagemaker-us-east-1-123456789012"
    assert setup["role"] == "arn:aws:iam::123456789012:role/SageMakerRole"
    assert setup["scores"] == 40
    assert setup["constraint_features"] == 70
    assert setup["schedule_status"] in ("Pending", "Scheduled")

    executed = EmulatorClient(emu.url).advance_to_next_hour()["executions"]
    assert [e["status"] for e in executed] == ["CompletedWithViolations"]

    report = _run(env, "report")
    assert report["executions"] == 1
    assert report["job_status"] == "Completed"
    assert report["exit_message"].startswith("CompletedWithViolations")
    assert "data_type_check" in report["violation_checks"]
    assert report["last_execution"] == "CompletedWithViolations"
    assert report["schedule_status"] == "Scheduled"

    # the alert of the schedule follows the execution's outcome
    sm = emu.client("sagemaker")
    schedule = "demo-xgb-churn-schedule"
    [alert] = sm.list_monitoring_alerts(MonitoringScheduleName=schedule)["MonitoringAlertSummaries"]
    assert alert["MonitoringAlertName"] == "data-quality-alert"
    assert alert["AlertStatus"] == "InAlert"
    assert (alert["DatapointsToAlert"], alert["EvaluationPeriod"]) == (1, 1)
    history = sm.list_monitoring_alert_history(MonitoringScheduleName=schedule)
    assert [h["AlertStatus"] for h in history["MonitoringAlertHistory"]] == ["InAlert"]
    sm.update_monitoring_alert(
        MonitoringScheduleName=schedule,
        MonitoringAlertName="data-quality-alert",
        DatapointsToAlert=2,
        EvaluationPeriod=3,
    )
    [alert] = sm.list_monitoring_alerts(MonitoringScheduleName=schedule)["MonitoringAlertSummaries"]
    assert (alert["DatapointsToAlert"], alert["EvaluationPeriod"]) == (2, 3)

    connects = _connects(env)
    assert connects, "the audit hook recorded no connection"
    hosts = {eval(c)[0] for c in connects}  # noqa: S307 - our own repr() of an address tuple
    assert hosts == {"127.0.0.1"}, connects


def test_non_aws_hosts_are_refused_and_nothing_leaves_loopback(emu, tmp_path):
    env = _env(emu, tmp_path)
    code = (
        "import urllib.request, urllib.error\n"
        "for url in ('https://pypi.org/simple/', 'http://example.com/'):\n"
        "    try:\n"
        "        urllib.request.urlopen(url, timeout=5)\n"
        "        print('REACHED', url)\n"
        "    except (urllib.error.URLError, OSError) as exc:\n"
        "        print('REFUSED', url, exc)\n"
        "import boto3\n"
        "sts = boto3.client('sts', endpoint_url='https://sts.us-east-1.amazonaws.com')\n"
        "print('ARN', sts.get_caller_identity()['Arn'])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "REACHED" not in proc.stdout
    assert proc.stdout.count("REFUSED") == 2, proc.stdout
    assert "ARN arn:aws:sts::123456789012:assumed-role/SageMakerRole/mmlab" in proc.stdout
    hosts = {eval(c)[0] for c in _connects(env)}  # noqa: S307 - our own repr()
    assert hosts == {"127.0.0.1"}
