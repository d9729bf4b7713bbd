"""Small conveniences the lab notebooks share: resource names, prerequisite checks, waiting.

Everything AWS-facing goes through the connected lab (:func:`mmutils.connect`); the notebooks
use the SageMaker SDK directly and call these helpers only for the bookkeeping around it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from dataclasses import dataclass

# The SDK logs its config-file search at INFO with machine paths; the lab does not need it.
logging.getLogger("sagemaker.config").setLevel(logging.WARNING)

#: The SageMaker XGBoost container version the lab deploys.
XGBOOST_VERSION = "1.7-1"
#: Instance type for endpoints and monitoring jobs (the emulator accepts moto's list).
INSTANCE_TYPE = "ml.m5.xlarge"


class PrerequisiteError(RuntimeError):
    """A notebook was run before the notebook it builds on."""


@dataclass(frozen=True)
class LabNames:
    """Every name and S3 location of one lab run, derived from the ``PREFIX`` parameter."""

    prefix: str
    bucket: str

    @property
    def model(self) -> str:
        return f"{self.prefix}-xgb-churn"

    @property
    def endpoint(self) -> str:
        return f"{self.prefix}-xgb-churn-endpoint"

    @property
    def baseline_job(self) -> str:
        return f"{self.prefix}-baseline-job"

    @property
    def schedule(self) -> str:
        return f"{self.prefix}-data-quality-schedule"

    def s3(self, *parts: str) -> str:
        """``s3://{bucket}/{prefix}/{parts…}``."""
        return "/".join([f"s3://{self.bucket}/{self.prefix}", *parts])

    @property
    def model_uri(self) -> str:
        return self.s3("model", "model.tar.gz")

    @property
    def capture_uri(self) -> str:
        return self.s3("datacapture")

    @property
    def baseline_data_uri(self) -> str:
        return self.s3("baselining", "data")

    @property
    def baseline_results_uri(self) -> str:
        return self.s3("baselining", "results")

    @property
    def reports_uri(self) -> str:
        return self.s3("reports")

    @property
    def code_uri(self) -> str:
        return self.s3("code")


def names(prefix: str, bucket: str) -> LabNames:
    """The lab's resource names for ``prefix`` in ``bucket``."""
    return LabNames(prefix=prefix, bucket=bucket)


def start_clock(lab, start_time: str) -> str:
    """On the emulator, move the clock to ``start_time`` unless it is already past it.

    Notebooks run in order share one emulator, so only the first one moves the clock back to the
    lab's start; the later ones carry on from where the previous notebook left it. On a live
    account this does nothing: AWS runs on real time.

    Returns:
        The emulator time after the call (ISO text), or the real UTC time on a live account.
    """
    emulator = getattr(lab, "emulator", None)
    if emulator is None:
        return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    state = emulator.clock()
    now = _parse_iso(state["now"])
    if state.get("mode") != "manual" or now < _parse_iso(start_time):
        state = emulator.set_clock(start_time)
    return state["now"]


def _parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def endpoint_exists(sagemaker_client, name: str) -> bool:
    """True when the endpoint exists (in any status)."""
    try:
        sagemaker_client.describe_endpoint(EndpointName=name)
    except sagemaker_client.exceptions.ClientError as exc:
        if "Could not find endpoint" in str(exc) or "ValidationException" in str(exc):
            return False
        raise
    return True


def require_endpoint(sagemaker_client, name: str) -> None:
    """Stop with a clear message when notebook 01 has not deployed the endpoint."""
    if not endpoint_exists(sagemaker_client, name):
        raise PrerequisiteError(
            f"The endpoint {name!r} does not exist. Run notebooks/01_capture.ipynb first "
            "(with the same PREFIX and BACKEND)."
        )


def require_s3_object(s3_client, uri: str, notebook: str) -> None:
    """Stop with a clear message when an S3 object a previous notebook writes is missing."""
    bucket, _, key = uri[len("s3://") :].partition("/")
    try:
        s3_client.head_object(Bucket=bucket, Key=key)
    except Exception as exc:
        raise PrerequisiteError(
            f"{uri} is missing. Run notebooks/{notebook} first (with the same PREFIX and BACKEND)."
        ) from exc


def require_schedule(sagemaker_client, name: str) -> dict:
    """The schedule's description; stops with a clear message when notebook 03 has not run."""
    try:
        return sagemaker_client.describe_monitoring_schedule(MonitoringScheduleName=name)
    except Exception as exc:
        raise PrerequisiteError(
            f"The monitoring schedule {name!r} does not exist. Run notebooks/03_schedule.ipynb "
            "first (with the same PREFIX and BACKEND)."
        ) from exc


def wait_for_next_execution(monitor, lab, *, timeout_minutes: float = 90, poll_seconds: int = 60):
    """Wait until the schedule has run once more, and return the newest execution.

    On the emulator the clock jumps to the next full hour, which runs the due execution at once.
    On AWS executions start at the top of the hour plus a buffer of 0-20 minutes, so this polls
    (bounded by ``timeout_minutes``).

    Args:
        monitor: the ``DefaultModelMonitor`` that owns the schedule.
        lab: the connected lab.
        timeout_minutes: how long to wait on a live account.
        poll_seconds: how often to ask on a live account.

    Returns:
        The newest ``MonitoringExecution``.
    """
    client = monitor.sagemaker_session.sagemaker_client
    name = monitor.monitoring_schedule_name

    def count() -> int:  # (monitor.list_executions() warns while there are none)
        return len(
            client.list_monitoring_executions(MonitoringScheduleName=name, MaxResults=100)[
                "MonitoringExecutionSummaries"
            ]
        )

    before = count()
    emulator = getattr(lab, "emulator", None)
    if emulator is not None:
        emulator.advance_to_next_hour()
        if count() <= before:
            raise RuntimeError("the emulator ran no execution at the top of the hour")
        return monitor.list_executions()[-1]
    print(
        "Waiting for the next hourly execution: AWS starts it at the top of the hour plus a "
        f"buffer of 0-20 minutes (giving up after {timeout_minutes:.0f} minutes)."
    )
    deadline = time.monotonic() + timeout_minutes * 60
    while time.monotonic() < deadline:
        if count() > before:
            latest = monitor.list_executions()[-1]
            status = latest.describe()["ProcessingJobStatus"]
            if status in ("Completed", "Failed", "Stopped"):
                return latest
        time.sleep(poll_seconds)
    raise TimeoutError(f"no new execution within {timeout_minutes} minutes")


def execution_table(monitor):
    """A DataFrame with one row per execution of the monitor's schedule (oldest first)."""
    import pandas as pd

    client = monitor.sagemaker_session.sagemaker_client
    summaries = client.list_monitoring_executions(
        MonitoringScheduleName=monitor.monitoring_schedule_name,
        SortBy="ScheduledTime",
        SortOrder="Ascending",
    )["MonitoringExecutionSummaries"]
    rows = []
    for s in summaries:
        job = s.get("ProcessingJobArn", "").rsplit("/", 1)[-1]
        exit_message = ""
        if job:
            exit_message = client.describe_processing_job(ProcessingJobName=job).get(
                "ExitMessage", ""
            )
        rows.append(
            {
                "scheduled_time": s["ScheduledTime"].strftime("%Y-%m-%d %H:%M"),
                "status": s["MonitoringExecutionStatus"],
                "failure_reason": s.get("FailureReason", ""),
                "exit_message": exit_message,
            }
        )
    return pd.DataFrame(rows)


def violations_frame(violations):
    """The violations of a ``constraint_violations.json`` (dict, list or SDK object) as a table."""
    import pandas as pd

    if hasattr(violations, "body_dict"):
        violations = violations.body_dict
    if isinstance(violations, dict):
        violations = violations.get("violations", [])
    frame = pd.DataFrame(
        violations, columns=["feature_name", "constraint_check_type", "description"]
    )
    return frame.sort_values(["constraint_check_type", "feature_name"], ignore_index=True)


def timestamp(lab) -> str:
    """``YYYY-MM-DD-HH-MM-SS`` of the lab's clock (the emulator's, or real UTC on AWS).

    Job names must be unique on AWS; deriving them from the emulator clock keeps them unique
    there and deterministic on the emulator.
    """
    emulator = getattr(lab, "emulator", None)
    now = _parse_iso(emulator.clock()["now"]) if emulator is not None else dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%d-%H-%M-%S")


def wait_for_capture_files(
    sagemaker_session, uri: str, *, timeout_minutes: float = 10
) -> list[str]:
    """List the capture files under ``uri``, waiting while none has arrived yet.

    The emulator writes capture files at once; AWS delivers them a few minutes after the requests.
    """
    from sagemaker.s3 import S3Downloader

    deadline = time.monotonic() + timeout_minutes * 60
    announced = False
    while True:
        files = sorted(S3Downloader.list(uri, sagemaker_session=sagemaker_session))
        if files or time.monotonic() > deadline:
            return files
        if not announced:
            print("Waiting for the first capture file (AWS delivers them after a few minutes)…")
            announced = True
        time.sleep(20)


def delete_schedule_if_exists(sagemaker_client, name: str) -> bool:
    """Stop and delete a monitoring schedule when it exists; True when one was deleted."""
    try:
        sagemaker_client.describe_monitoring_schedule(MonitoringScheduleName=name)
    except Exception:
        return False
    with contextlib.suppress(Exception):  # already stopped
        sagemaker_client.stop_monitoring_schedule(MonitoringScheduleName=name)
    sagemaker_client.delete_monitoring_schedule(MonitoringScheduleName=name)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # AWS deletes asynchronously
        try:
            sagemaker_client.describe_monitoring_schedule(MonitoringScheduleName=name)
        except Exception:
            return True
        time.sleep(5)
    return True


def delete_endpoint_if_exists(sagemaker_client, endpoint: str, model: str) -> list[str]:
    """Delete the endpoint, its endpoint config and the model when they exist.

    Returns:
        What was deleted, e.g. ``["endpoint mmlab-xgb-churn-endpoint", …]``.
    """
    deleted = []
    config = None
    try:
        config = sagemaker_client.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    except Exception:
        pass
    else:
        sagemaker_client.delete_endpoint(EndpointName=endpoint)
        deleted.append(f"endpoint {endpoint}")
    for cfg in {config, endpoint, model} - {None}:
        try:
            sagemaker_client.delete_endpoint_config(EndpointConfigName=cfg)
            deleted.append(f"endpoint config {cfg}")
        except Exception:
            pass
    try:
        sagemaker_client.delete_model(ModelName=model)
        deleted.append(f"model {model}")
    except Exception:
        pass
    return deleted
