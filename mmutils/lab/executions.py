"""Monitoring executions and their violations: the one reader the runner, viz and notebooks use.

An :class:`Execution` is one run of a monitoring schedule: when it was scheduled, where its
reports are, how it ended and which constraints it found violated. They are read from

- the reports a schedule left in S3 (:func:`read_reports`: what ``mmlab run`` summarises, also
  after the schedule is deleted),
- the schedule itself (:func:`read_schedule` / :func:`execution_table`: status and exit message
  of each execution, for a notebook),
- what a notebook holds (:func:`as_executions`: the SDK's ``MonitoringExecution`` objects, or
  ``(scheduled_time, violations)`` pairs, for the charts of :mod:`mmutils.viz`).

Violations are loaded by :func:`mmutils.formats.reports.load_violations` everywhere. pandas is
imported only by the functions that return tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mmutils.formats import capture_key, reports, s3uri
from mmutils.lab.paging import paged


@dataclass(frozen=True)
class Execution:
    """One monitoring execution.

    Attributes:
        scheduled_time: the hour the execution was scheduled for (aware, UTC), when known.
        violations: the violations of its ``constraint_violations.json`` (``[]`` when it wrote
            none), or ``None`` when they were not read.
        report_uri: the S3 folder of its reports, when known.
        status: the execution's (or its processing job's) status, when known.
        exit_message: its processing job's ``ExitMessage``; ``None`` when the job has none or
            was not found.
        failure_reason: the execution's ``FailureReason`` (``""`` when none).
        processing_job: its processing job's name, when known.
    """

    scheduled_time: dt.datetime | None
    violations: list[dict] | None = None
    report_uri: str | None = None
    status: str | None = None
    exit_message: str | None = None
    failure_reason: str = ""
    processing_job: str | None = None

    def check_counts(self) -> dict[str, int]:
        """Number of violations per check type, in the order the check types first appear."""
        return check_counts(self.violations or [])


def check_counts(violations: Iterable[Mapping]) -> dict[str, int]:
    """Number of violations per ``constraint_check_type``, in order of first appearance."""
    counts: dict[str, int] = {}
    for violation in violations:
        check = violation["constraint_check_type"]
        counts[check] = counts.get(check, 0) + 1
    return counts


# --------------------------------------------------------------------------- from S3 reports


def read_reports(session: Any, reports_uri: str) -> list[Execution]:
    """Every execution that left reports under ``reports_uri``, sorted by report folder.

    Works for data-quality and model-quality schedules alike. A model-quality schedule also
    writes its ground-truth merge under ``{reports_uri}/merge/…``; those folders hold merged
    records, not reports, and are skipped.

    Args:
        session: anything with ``client(name)`` giving boto3 clients (a connected session, or
            the runner's ``ReportReader``).
        reports_uri: the schedules' ``output_s3_uri`` (e.g. ``s3://bucket/mmlab/reports``).

    Returns:
        One :class:`Execution` per report folder: its violations (``[]`` when the folder holds
        no ``constraint_violations.json``), the scheduled hour its folder names, and the
        status, exit message and name of the processing job that wrote it (when one is found
        by :func:`_jobs_by_output`).

    Raises:
        ValueError: ``reports_uri`` is not an S3 URI.
        mmutils.formats.reports.DocumentError: a ``constraint_violations.json`` is malformed.
    """
    bucket, key_prefix = s3uri.split(reports_uri)
    root = key_prefix.rstrip("/") + "/"
    s3 = session.client("s3")
    folders: dict[str, list[dict]] = {}
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=root):
        for obj in page.get("Contents", []):
            if obj["Key"].startswith(root + MERGE_FOLDER + "/"):
                continue
            folder, _, name = obj["Key"].rpartition("/")
            violations = folders.setdefault(folder, [])
            if name == reports.VIOLATIONS:
                body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
                violations.extend(reports.load_violations(body))
    hours = {folder: capture_key.parse_hour_folder(folder) for folder in folders}
    jobs = _jobs_by_output(
        session, {s3uri.uri(bucket, folder) for folder in folders}, hours.values()
    )
    out = []
    for folder in sorted(folders):
        uri = s3uri.uri(bucket, folder)
        job = jobs.get(uri.rstrip("/"), {})
        out.append(
            Execution(
                scheduled_time=hours[folder],
                violations=folders[folder],
                report_uri=uri,
                status=job.get("ProcessingJobStatus"),
                exit_message=job.get("ExitMessage"),
                failure_reason=job.get("FailureReason", ""),
                processing_job=job.get("ProcessingJobName"),
            )
        )
    return out


#: The folder under a model-quality schedule's output where the ground-truth merge writes.
MERGE_FOLDER = "merge"
#: What the names of the monitoring executions' analysis jobs contain
#: (``model-monitoring-…``, ``model-quality-monitoring-…``; docs/model-quality-formats.md §1).
MONITORING_JOB_NAME = "monitoring"
#: How long before the earliest scheduled hour a monitoring job is still looked for.
CREATION_MARGIN = dt.timedelta(hours=1)


def _jobs_by_output(
    session: Any, report_uris: Iterable[str], hours: Iterable[dt.datetime | None] = ()
) -> dict[str, dict]:
    """Report folder (no trailing ``/``) → description of the processing job that wrote it.

    Only monitoring jobs are described (``NameContains`` :data:`MONITORING_JOB_NAME`), only
    those created after the earliest scheduled hour (less :data:`CREATION_MARGIN`) when every
    folder names its hour, oldest first, and the listing stops once every folder has its job:
    on a shared live account this describes the lab's jobs, not every job of the account.

    Args:
        session: anything with ``client(name)`` giving boto3 clients.
        report_uris: the report folders to find jobs for.
        hours: their scheduled hours (``None`` for a folder that names none).
    """
    wanted = {uri.rstrip("/") for uri in report_uris}
    if not wanted:
        return {}
    sm = session.client("sagemaker")
    kwargs: dict[str, Any] = {
        "NameContains": MONITORING_JOB_NAME,
        "SortBy": "CreationTime",
        "SortOrder": "Ascending",
    }
    hours = list(hours)
    if hours and all(h is not None for h in hours):
        kwargs["CreationTimeAfter"] = min(hours) - CREATION_MARGIN
    out: dict[str, dict] = {}
    for summary in paged(sm.list_processing_jobs, "ProcessingJobSummaries", **kwargs):
        job = sm.describe_processing_job(ProcessingJobName=summary["ProcessingJobName"])
        for output in job.get("ProcessingOutputConfig", {}).get("Outputs", []):
            uri = output.get("S3Output", {}).get("S3Uri", "").rstrip("/")
            if uri in wanted:
                out[uri] = job
        if wanted <= out.keys():
            break
    return out


# --------------------------------------------------------------------------- from a schedule


def read_schedule(sagemaker_client: Any, schedule: str) -> list[Execution]:
    """The executions of a monitoring schedule, oldest first (violations are not read).

    Every page is read (AWS returns 10 executions per page unless asked for more).

    Args:
        sagemaker_client: a boto3 SageMaker client.
        schedule: the monitoring schedule's name.

    Returns:
        One :class:`Execution` per execution the schedule lists, with its scheduled time,
        status, failure reason and its processing job's name and exit message.
    """
    summaries = paged(
        sagemaker_client.list_monitoring_executions,
        "MonitoringExecutionSummaries",
        MonitoringScheduleName=schedule,
        SortBy="ScheduledTime",
        SortOrder="Ascending",
    )
    out = []
    for summary in summaries:
        job = summary.get("ProcessingJobArn", "").rsplit("/", 1)[-1] or None
        exit_message = None
        if job:
            desc = sagemaker_client.describe_processing_job(ProcessingJobName=job)
            exit_message = desc.get("ExitMessage")
        out.append(
            Execution(
                scheduled_time=summary["ScheduledTime"],
                status=summary["MonitoringExecutionStatus"],
                exit_message=exit_message,
                failure_reason=summary.get("FailureReason", ""),
                processing_job=job,
            )
        )
    return out


def execution_table(monitor: Any):
    """A DataFrame with one row per execution of the monitor's schedule (oldest first).

    Args:
        monitor: a ``DefaultModelMonitor`` (or any ``ModelMonitor``) with a schedule.

    Returns:
        Columns ``scheduled_time`` (``YYYY-MM-DD HH:MM``), ``status``, ``failure_reason`` and
        ``exit_message``.
    """
    import pandas as pd

    client = monitor.sagemaker_session.sagemaker_client
    rows = [
        {
            "scheduled_time": execution.scheduled_time.strftime("%Y-%m-%d %H:%M"),
            "status": execution.status,
            "failure_reason": execution.failure_reason,
            "exit_message": execution.exit_message or "",
        }
        for execution in read_schedule(client, monitor.monitoring_schedule_name)
    ]
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- from a notebook


def as_executions(executions: Any) -> list[Execution]:
    """Executions from what a notebook holds, oldest first.

    Args:
        executions: SDK ``MonitoringExecution`` objects (``monitor.list_executions()``),
            :class:`Execution` objects (:func:`lab_executions`, :func:`read_reports`),
            ``(scheduled_time, violations)`` pairs, or a ``{scheduled_time: violations}`` dict.
            A time is anything pandas reads as one (naive times are UTC); violations are a
            constraint_violations document in any form, its list, or ``None``.

    Returns:
        :class:`Execution` objects whose ``scheduled_time`` is a UTC ``pandas.Timestamp`` and
        whose ``violations`` are read.

    Raises:
        ValueError: an item is neither a pair nor an execution object, or its time is unreadable
            (the message names the item).
    """
    items: Iterable = executions.items() if isinstance(executions, Mapping) else executions
    out = []
    for i, item in enumerate(items):
        where = f"executions[{i}]"
        if isinstance(item, Execution):
            time = _utc_timestamp(item.scheduled_time, where)
            violations = reports.load_violations(item.violations)
            out.append(
                Execution(
                    time,
                    violations,
                    item.report_uri,
                    item.status,
                    item.exit_message,
                    item.failure_reason,
                    item.processing_job,
                )
            )
        elif hasattr(item, "constraint_violations"):
            out.append(from_sdk(item, where=where))
        elif isinstance(item, tuple | list) and len(item) == 2:
            time = _utc_timestamp(item[0], where)
            out.append(Execution(time, reports.load_violations(item[1])))
        else:
            raise ValueError(
                f"{where}: expected a (scheduled_time, violations) pair or a MonitoringExecution, "
                f"got {type(item).__name__}"
            )
    return sorted(out, key=lambda e: e.scheduled_time)


def from_sdk(execution: Any, *, where: str = "execution") -> Execution:
    """An SDK ``MonitoringExecution`` with its violations read.

    The scheduled hour is the one its report folder ends with (``…/yyyy/mm/dd/HH``); when the
    folder does not name one, the processing job's start (or creation) time is used.

    Args:
        execution: a ``sagemaker.model_monitor.MonitoringExecution``.
        where: how error messages name it.

    Raises:
        ValueError: no time can be read for it.
    """
    output = getattr(execution, "output", None) or execution.outputs[0]
    report_uri = str(output.destination)
    hour = capture_key.parse_hour_folder(report_uri)
    if hour is not None:
        time = _utc_timestamp(hour, where)
    else:
        desc = execution.describe()
        started = desc.get("ProcessingStartTime") or desc.get("CreationTime")
        time = _utc_timestamp(started, f"{where} ({execution.job_name})")
    return Execution(
        scheduled_time=time,
        violations=reports.load_violations(execution.constraint_violations()),
        report_uri=report_uri,
        processing_job=getattr(execution, "job_name", None),
    )


def _utc_timestamp(value: Any, where: str):
    """``value`` as a UTC ``pandas.Timestamp`` (a naive value is taken as UTC)."""
    import pandas as pd

    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: cannot read a time from {value!r}") from None
    if ts is pd.NaT:
        raise ValueError(f"{where}: cannot read a time from {value!r}")
    return ts.tz_convert("UTC") if ts.tzinfo is not None else ts.tz_localize("UTC")


# --------------------------------------------------------------------------- for notebook 04


def lab_executions(session: Any, schedule: str, reports_uri: str) -> list[Execution]:
    """The lab's executions with their violations, oldest first: from the schedule, or its reports.

    While the schedule exists its executions are listed (``ListMonitoringExecutions``); once a
    cleanup has deleted it, the reports it left in S3 are read instead, so notebook 04 can run
    again after its own cleanup.

    Args:
        session: the connected session (:func:`mmutils.connect`).
        schedule: the monitoring schedule's name.
        reports_uri: the schedule's output folder (``names.reports_uri``).

    Raises:
        mmutils.lab.notebook.PrerequisiteError: neither the schedule nor any report exists.
    """
    from mmutils.lab.notebook import PrerequisiteError, schedule_exists

    sm = session.client("sagemaker")
    if schedule_exists(sm, schedule):
        out = []
        for execution in read_schedule(sm, schedule):
            job = sm.describe_processing_job(ProcessingJobName=execution.processing_job)
            uri = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
            out.append(_with_violations(session, execution, uri))
        found = out
    else:
        found = [e for e in read_reports(session, reports_uri) if e.processing_job]
    if not found:
        raise PrerequisiteError(
            f"The monitoring schedule {schedule!r} has no execution and no report is left under "
            f"{reports_uri}. Run notebooks/03_schedule.ipynb first (with the same PREFIX and "
            "BACKEND)."
        )
    return as_executions(found)


def _with_violations(session: Any, execution: Execution, report_uri: str) -> Execution:
    bucket, key = s3uri.split(report_uri.rstrip("/") + "/" + reports.VIOLATIONS)
    s3 = session.client("s3")
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        violations: list[dict] = []
    else:
        violations = reports.load_violations(body)
    return Execution(
        execution.scheduled_time,
        violations,
        report_uri,
        execution.status,
        execution.exit_message,
        execution.failure_reason,
        execution.processing_job,
    )


# --------------------------------------------------------------------------- violations


def violations_frame(violations: Any):
    """The violations of a ``constraint_violations.json`` as a table, by check type and feature.

    Args:
        violations: the document in any form :func:`mmutils.formats.reports.load_violations`
            accepts (dict, path, JSON text, SDK ``ConstraintViolations``), its list, or ``None``.

    Returns:
        A DataFrame with columns ``feature_name``, ``constraint_check_type`` and
        ``description``, sorted by check type, then feature; for model-quality violations
        ``metric_name`` instead of ``feature_name``, in the document's order.
    """
    import pandas as pd

    found = reports.load_violations(violations)
    # model-quality violations name a metric, in the service's order (kept)
    if found and all("metric_name" in v for v in found):
        return pd.DataFrame(found, columns=["metric_name", "constraint_check_type", "description"])
    frame = pd.DataFrame(found, columns=["feature_name", "constraint_check_type", "description"])
    return frame.sort_values(["constraint_check_type", "feature_name"], ignore_index=True)


#: The order :func:`drift_first` shows check types in: what changed in the data first.
CHECK_ORDER = (
    "baseline_drift_check",
    "missing_column_check",
    "extra_column_check",
    "completeness_check",
    "categorical_values_check",
    "data_type_check",
)


def drift_first(violations: Any):
    """:func:`violations_frame`, with drift violations first and then by check type.

    ``baseline_drift_check`` rows come first (they are the point of a drift hour), then the
    other check types in :data:`CHECK_ORDER`, then any other, each sorted by feature.
    """
    frame = violations_frame(violations)
    rank = {check: i for i, check in enumerate(CHECK_ORDER)}
    order = frame["constraint_check_type"].map(lambda c: rank.get(c, len(rank)))
    frame = frame.assign(_order=order).sort_values(
        ["_order", "constraint_check_type", "feature_name"]
    )
    return frame.drop(columns="_order").reset_index(drop=True)
