"""The monitoring-schedule backend: schedules, execution summaries and tags, with AWS's errors.

As in a moto service's ``models.py``: one :class:`MonitoringScheduleBackend` per account and
region (:func:`get_backend`), holding :class:`Schedule` objects and the execution summaries the
scheduler records, with one method per API operation. Every method holds the backend lock, so
the scheduler (which reads schedules through :func:`next_due` and writes through
:func:`mark_fired` and :meth:`MonitoringScheduleBackend.record_execution`) never sees a schedule
half-changed. Tags on ``monitoring-schedule/…`` ARNs go through moto's own tag actions: moto's
``_get_resource_from_arn`` is extended to find schedules here.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import Any

from moto.sagemaker.exceptions import ResourceInUseException, ResourceNotFound, ValidationError
from moto.sagemaker.models import SageMakerModelBackend, sagemaker_backends

from mmutils.emulator import patch_table, service_defaults
from mmutils.emulator.clock import moto_now
from mmutils.emulator.monitoring.cron import fire_times, is_one_time, validate_schedule
from mmutils.emulator.state import STATE

#: the job-definition tables of moto's backend, by MonitoringType
JOB_DEFINITION_TABLES = {
    "DataQuality": "data_quality_job_definitions",
    "ModelQuality": "model_quality_job_definitions",
    "ModelBias": "model_bias_job_definitions",
    "ModelExplainability": "model_explainability_job_definitions",
}
#: the ARN resource type of each kind of job definition
JOB_DEFINITION_ARN_TYPES = {
    "DataQuality": "data-quality",
    "ModelQuality": "model-quality",
    "ModelBias": "model-bias",
    "ModelExplainability": "model-explainability",
}
SCHEDULE_SORT_KEYS = {
    "Name": "MonitoringScheduleName",
    "CreationTime": "CreationTime",
    "Status": "MonitoringScheduleStatus",
}
EXECUTION_SORT_KEYS = {
    "CreationTime": "CreationTime",
    "ScheduledTime": "ScheduledTime",
    "Status": "MonitoringExecutionStatus",
}
#: emulated seconds a created or updated schedule stays ``Pending`` (at most: a second read
#: sees it ``Scheduled``)
PENDING_SECONDS = float(os.environ.get("MMLAB_SCHEDULE_PENDING_SECONDS", "0.5"))
_RESOURCE_FROM_ARN = "moto.sagemaker.models.SageMakerModelBackend._get_resource_from_arn"

# one lock for every backend: the scheduler looks across accounts and regions at once
_lock = threading.RLock()


@dataclass
class Schedule:
    """One monitoring schedule (``tags`` is what moto's tag APIs read and write)."""

    name: str
    arn: str
    config: dict
    monitoring_type: str
    creation_time: dt.datetime
    last_modified_time: dt.datetime
    endpoint_name: str | None = None
    #: ``Pending`` (just created or updated) -> ``Scheduled``; ``Stopped``; ``Failed``
    status: str = "Pending"
    #: a Describe/List has answered ``Pending`` since the last change
    pending_seen: bool = False
    failure_reason: str | None = None
    tags: list = field(default_factory=list)
    #: the scheduler's cursor: executions scheduled after this time are still to come
    cursor: dt.datetime | None = None
    #: a one-time (``NOW``) schedule fires once
    fired: bool = False

    def settle(self, force: bool = False) -> None:
        """``Pending`` -> ``Scheduled`` when forced, or once the emulator clock has run
        :data:`PENDING_SECONDS` past the change."""
        if self.status != "Pending":
            return
        moved = (moto_now() - self.last_modified_time).total_seconds() >= PENDING_SECONDS
        if force or moved:
            self.status = "Scheduled"

    def read_status(self) -> str:
        """The status a Describe/List answers: a change is seen ``Pending`` once, then applied
        (deterministic on a frozen clock; on a running clock time applies it too)."""
        self.settle(force=self.pending_seen)
        if self.status == "Pending":
            self.pending_seen = True
        return self.status

    def make_pending(self) -> None:
        """Mark a created or updated schedule ``Pending`` (the service applies it in a moment)."""
        self.status = "Pending"
        self.pending_seen = False

    @property
    def expression(self) -> str:
        """The ``ScheduleExpression`` (empty when the config has none)."""
        return ((self.config.get("ScheduleConfig") or {}).get("ScheduleExpression")) or ""

    def summary(self) -> dict:
        """A ``MonitoringScheduleSummary``."""
        self.read_status()
        doc = {
            "MonitoringScheduleName": self.name,
            "MonitoringScheduleArn": self.arn,
            "CreationTime": self.creation_time,
            "LastModifiedTime": self.last_modified_time,
            "MonitoringScheduleStatus": self.status,
        }
        if self.endpoint_name:
            doc["EndpointName"] = self.endpoint_name
        if self.config.get("MonitoringJobDefinitionName"):
            doc["MonitoringJobDefinitionName"] = self.config["MonitoringJobDefinitionName"]
        doc["MonitoringType"] = self.monitoring_type
        return doc


def schedule_arn(account: str, region: str, name: str) -> str:
    """``arn:aws:sagemaker:{region}:{account}:monitoring-schedule/{name}``."""
    return f"arn:aws:sagemaker:{region}:{account}:monitoring-schedule/{name}"


def job_definition(backend: SageMakerModelBackend, config: dict) -> tuple[str, dict] | None:
    """``(monitoring_type, definition)`` of a schedule config: inline, or from moto's tables.

    The definition is returned as moto describes it (e.g. ``DataQualityJobInput``) or, for an
    inline ``MonitoringJobDefinition``, as sent.
    """
    inline = config.get("MonitoringJobDefinition")
    monitoring_type = config.get("MonitoringType") or "DataQuality"
    if inline:
        return monitoring_type, inline
    name = config.get("MonitoringJobDefinitionName")
    if not name:
        return None
    table = getattr(backend, JOB_DEFINITION_TABLES.get(monitoring_type, ""), None) or {}
    if name in table:
        return monitoring_type, table[name].response_object
    return None


def endpoint_input(definition: dict) -> dict | None:
    """The ``EndpointInput`` of a job definition (inline or typed), if any."""
    for key, value in definition.items():
        if key == "MonitoringInputs":
            for item in value or []:
                if "EndpointInput" in item:
                    return item["EndpointInput"]
        elif key.endswith("JobInput") and isinstance(value, dict) and "EndpointInput" in value:
            return value["EndpointInput"]
    return None


def _matches(
    item: dict, equals: dict[str, str | None], bounds: dict[str, tuple[str, dt.datetime | None]]
) -> bool:
    """Whether ``item`` passes the equality filters (``key: wanted``, unset when falsy) and the
    ``…Before``/``…After`` time bounds (``param: (key, bound)``, unset when None)."""
    for key, wanted in equals.items():
        if wanted and item.get(key) != wanted:
            return False
    for param, (key, bound) in bounds.items():
        if bound is None:
            continue
        value = item.get(key)
        if param.endswith("Before") and not value < bound:
            return False
        if param.endswith("After") and not value > bound:
            return False
    return True


def _sort(items: list, keys: dict[str, str], sort_by: str | None, order: str | None) -> list:
    """Sort by one of ``keys`` (default ``CreationTime``), ``Descending`` unless asked otherwise.

    Raises:
        ValidationError: an unknown SortBy or SortOrder.
    """
    sort_by = sort_by or "CreationTime"
    if sort_by not in keys:
        raise ValidationError(
            message=f"1 validation error detected: Value '{sort_by}' at 'sortBy' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(keys)}]"
        )
    order = order or "Descending"
    if order not in ("Ascending", "Descending"):
        raise ValidationError(
            message=f"1 validation error detected: Value '{order}' at 'sortOrder' failed to "
            "satisfy constraint: Member must satisfy enum value set: [Ascending, Descending]"
        )
    key = keys[sort_by]
    return sorted(items, key=lambda d: d[key], reverse=order == "Descending")


def _page(
    items: list, next_token: str | None, max_results: Any, default_max: int = 10
) -> tuple[list, str | None]:
    """Slice ``items`` by MaxResults/NextToken (the token is an opaque offset).

    Raises:
        ValidationError: a token this backend did not issue, or MaxResults outside 1-100.
    """
    start = 0
    if next_token:
        try:
            start = int(json.loads(base64.b64decode(next_token))["offset"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationError(message=f"Invalid pagination token: {next_token}") from exc
    size = int(max_results or default_max)
    if not 1 <= size <= 100:
        raise ValidationError(
            message=f"1 validation error detected: Value '{size}' at 'maxResults' failed to "
            "satisfy constraint: Member must have value between 1 and 100"
        )
    page = items[start : start + size]
    more = start + size < len(items)
    nxt = base64.b64encode(json.dumps({"offset": start + size}).encode()).decode() if more else None
    return page, nxt


class MonitoringScheduleBackend:
    """Monitoring schedules and their execution summaries in one account and region.

    Args:
        account_id: the account.
        region_name: the region.
    """

    def __init__(self, account_id: str, region_name: str) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.schedules: dict[str, Schedule] = {}
        #: schedule name -> execution summaries (dicts in the API's shape), oldest first
        self.executions: dict[str, list[dict]] = {}

    @property
    def sagemaker(self) -> SageMakerModelBackend:
        """moto's SageMaker backend of the same account and region (job definitions)."""
        return sagemaker_backends[self.account_id][self.region_name]

    def _arn(self, name: str) -> str:
        return schedule_arn(self.account_id, self.region_name, name)

    # ------------------------------------------------------------------------- validation
    def _validate_config(self, config: dict) -> None:
        if not isinstance(config, dict):
            raise ValidationError(message="MonitoringScheduleConfig is required.")
        inline = config.get("MonitoringJobDefinition")
        name = config.get("MonitoringJobDefinitionName")
        if bool(inline) == bool(name):
            raise ValidationError(
                message="Exactly one of MonitoringJobDefinition and MonitoringJobDefinitionName "
                "must be provided."
            )
        if name and job_definition(self.sagemaker, config) is None:
            kind = config.get("MonitoringType") or "DataQuality"
            arn_type = JOB_DEFINITION_ARN_TYPES.get(kind, "data-quality")
            raise ResourceNotFound(
                f"Job definition arn:aws:sagemaker:{self.region_name}:{self.account_id}:"
                f"{arn_type}-job-definition/{name} does not exist."
            )
        expression = (config.get("ScheduleConfig") or {}).get("ScheduleExpression")
        if expression:
            try:
                validate_schedule(expression, config.get("ScheduleConfig") or {}, moto_now())
            except ValueError as exc:
                raise ValidationError(message=str(exc)) from exc

    def _endpoint_name(self, config: dict) -> str | None:
        found = job_definition(self.sagemaker, config)
        if not found:
            return None
        inp = endpoint_input(found[1])
        return inp.get("EndpointName") if inp else None

    # ------------------------------------------------------------------------- operations
    def get_schedule(self, name: str | None) -> Schedule:
        """A schedule by name.

        Raises:
            ResourceNotFound: no such schedule (AWS's error code).
        """
        found = self.schedules.get(name or "")
        if found is None:
            raise ResourceNotFound(f"Monitoring Schedule {self._arn(name)} does not exist.")
        return found

    def create_monitoring_schedule(self, name: str, config: Any, tags: list | None) -> str:
        """CreateMonitoringSchedule; returns the schedule's ARN.

        Raises:
            ResourceInUseException: a schedule of that name exists.
            ValidationError: the config is invalid.
            ResourceNotFound: the named job definition does not exist.
        """
        config = copy.deepcopy(config)
        with _lock:
            if name in self.schedules:
                raise ResourceInUseException(
                    f"Monitoring Schedule {self._arn(name)} already exists."
                )
            self._validate_config(config)
            now = moto_now()
            self.schedules[name] = Schedule(
                name=name,
                arn=self._arn(name),
                config=config,
                monitoring_type=config.get("MonitoringType") or "DataQuality",
                creation_time=now,
                last_modified_time=now,
                endpoint_name=self._endpoint_name(config),
                tags=list(tags or []),
                cursor=now,
            )
            self.schedules[name].make_pending()
            self.executions.setdefault(name, [])
        return self._arn(name)

    def latest_execution(self, name: str) -> dict | None:
        """The execution summary with the latest ScheduledTime."""
        with _lock:
            items = self.executions.get(name) or []
            return (
                max(items, key=lambda e: (e["ScheduledTime"], e["CreationTime"])) if items else None
            )

    def describe_monitoring_schedule(self, name: str | None) -> dict:
        """DescribeMonitoringSchedule (with ``LastMonitoringExecutionSummary``)."""
        with _lock:
            sch = self.get_schedule(name)
            sch.read_status()
            config = copy.deepcopy(sch.config)
            if config.get("MonitoringJobDefinition"):
                config["MonitoringJobDefinition"] = service_defaults.inline_definition(
                    config["MonitoringJobDefinition"]
                )
            doc = {
                "MonitoringScheduleArn": sch.arn,
                "MonitoringScheduleName": sch.name,
                "MonitoringScheduleStatus": sch.status,
                "MonitoringType": sch.monitoring_type,
                "CreationTime": sch.creation_time,
                "LastModifiedTime": sch.last_modified_time,
                "MonitoringScheduleConfig": config,
            }
            if sch.failure_reason:
                doc["FailureReason"] = sch.failure_reason
            if sch.endpoint_name:
                doc["EndpointName"] = sch.endpoint_name
            last = self.latest_execution(sch.name)
            if last:
                doc["LastMonitoringExecutionSummary"] = dict(last)
        return doc

    def list_monitoring_schedules(
        self,
        *,
        endpoint_name: str | None = None,
        name_contains: str | None = None,
        status_equals: str | None = None,
        monitoring_job_definition_name: str | None = None,
        monitoring_type_equals: str | None = None,
        creation_time_before: dt.datetime | None = None,
        creation_time_after: dt.datetime | None = None,
        last_modified_time_before: dt.datetime | None = None,
        last_modified_time_after: dt.datetime | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        next_token: str | None = None,
        max_results: Any = None,
    ) -> tuple[list[dict], str | None]:
        """ListMonitoringSchedules (filters, SortBy Name|CreationTime|Status, paging).

        Returns:
            The page of ``MonitoringScheduleSummary`` dicts and the next token (None: last page).

        Raises:
            ValidationError: bad SortBy/SortOrder/MaxResults/NextToken.
        """
        with _lock:
            items = [s.summary() for s in self.schedules.values()]
        equals = {
            "EndpointName": endpoint_name,
            "MonitoringScheduleStatus": status_equals,
            "MonitoringJobDefinitionName": monitoring_job_definition_name,
            "MonitoringType": monitoring_type_equals,
        }
        bounds = {
            "CreationTimeBefore": ("CreationTime", creation_time_before),
            "CreationTimeAfter": ("CreationTime", creation_time_after),
            "LastModifiedTimeBefore": ("LastModifiedTime", last_modified_time_before),
            "LastModifiedTimeAfter": ("LastModifiedTime", last_modified_time_after),
        }
        out = [
            s
            for s in items
            if (not name_contains or name_contains in s["MonitoringScheduleName"])
            and _matches(s, equals, bounds)
        ]
        out = _sort(out, SCHEDULE_SORT_KEYS, sort_by, sort_order)
        return _page(out, next_token, max_results)

    def update_monitoring_schedule(self, name: str | None, config: Any) -> str:
        """UpdateMonitoringSchedule (replaces the config); returns the schedule's ARN."""
        config = copy.deepcopy(config)
        with _lock:
            sch = self.get_schedule(name)
            self._validate_config(config)
            sch.config = config
            sch.monitoring_type = config.get("MonitoringType") or sch.monitoring_type
            sch.endpoint_name = self._endpoint_name(config) or sch.endpoint_name
            sch.last_modified_time = moto_now()
            if sch.status != "Stopped":
                sch.make_pending()
        return sch.arn

    def delete_monitoring_schedule(self, name: str | None) -> None:
        """DeleteMonitoringSchedule (its execution history goes too)."""
        with _lock:
            sch = self.get_schedule(name)
            self.schedules.pop(sch.name, None)
            self.executions.pop(sch.name, None)

    def _set_status(self, name: str | None, status: str) -> None:
        with _lock:
            sch = self.get_schedule(name)
            sch.settle(force=True)
            if status == "Scheduled" and sch.status == "Stopped":
                # executions that fell due while stopped are skipped, as on AWS
                sch.cursor = max(sch.cursor or moto_now(), moto_now())
            sch.status = status
            sch.last_modified_time = moto_now()

    def start_monitoring_schedule(self, name: str | None) -> None:
        """StartMonitoringSchedule."""
        self._set_status(name, "Scheduled")

    def stop_monitoring_schedule(self, name: str | None) -> None:
        """StopMonitoringSchedule: a stopped schedule does not fire."""
        self._set_status(name, "Stopped")

    def list_monitoring_executions(
        self,
        *,
        monitoring_schedule_name: str | None = None,
        endpoint_name: str | None = None,
        status_equals: str | None = None,
        monitoring_job_definition_name: str | None = None,
        monitoring_type_equals: str | None = None,
        scheduled_time_before: dt.datetime | None = None,
        scheduled_time_after: dt.datetime | None = None,
        creation_time_before: dt.datetime | None = None,
        creation_time_after: dt.datetime | None = None,
        last_modified_time_before: dt.datetime | None = None,
        last_modified_time_after: dt.datetime | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
        next_token: str | None = None,
        max_results: Any = None,
    ) -> tuple[list[dict], str | None]:
        """ListMonitoringExecutions (filters, SortBy CreationTime|ScheduledTime|Status, paging).

        Returns:
            The page of ``MonitoringExecutionSummary`` dicts and the next token.

        Raises:
            ValidationError: bad SortBy/SortOrder/MaxResults/NextToken.
        """
        name = monitoring_schedule_name
        with _lock:
            items = [
                dict(e) for n, lst in self.executions.items() if not name or n == name for e in lst
            ]
        equals = {
            "EndpointName": endpoint_name,
            "MonitoringExecutionStatus": status_equals,
            "MonitoringJobDefinitionName": monitoring_job_definition_name,
            "MonitoringType": monitoring_type_equals,
        }
        bounds = {
            "ScheduledTimeBefore": ("ScheduledTime", scheduled_time_before),
            "ScheduledTimeAfter": ("ScheduledTime", scheduled_time_after),
            "CreationTimeBefore": ("CreationTime", creation_time_before),
            "CreationTimeAfter": ("CreationTime", creation_time_after),
            "LastModifiedTimeBefore": ("LastModifiedTime", last_modified_time_before),
            "LastModifiedTimeAfter": ("LastModifiedTime", last_modified_time_after),
        }
        out = [e for e in items if _matches(e, equals, bounds)]
        out = _sort(out, EXECUTION_SORT_KEYS, sort_by, sort_order)
        return _page(out, next_token, max_results)

    def record_execution(self, name: str, summary: dict) -> dict:
        """Add or update (same ScheduledTime) an execution summary of a schedule; returns it."""
        with _lock:
            items = self.executions.setdefault(name, [])
            for existing in items:
                if existing["ScheduledTime"] == summary["ScheduledTime"]:
                    existing.clear()
                    existing.update(summary)
                    return existing
            items.append(summary)
            return summary


#: (account, region) -> backend
monitoring_backends: dict[tuple[str, str], MonitoringScheduleBackend] = {}


def get_backend(account: str, region: str) -> MonitoringScheduleBackend:
    """The backend of an account and region (created on first use)."""
    with _lock:
        found = monitoring_backends.get((account, region))
        if found is None:
            found = monitoring_backends[(account, region)] = MonitoringScheduleBackend(
                account, region
            )
        return found


def reset() -> None:
    """Forget every schedule and execution (``/moto-api/reset``)."""
    with _lock:
        monitoring_backends.clear()


def next_due(now: dt.datetime) -> tuple[dt.datetime, str, str, Schedule] | None:
    """The earliest execution due at ``now`` across all backends.

    Returns:
        ``(scheduled_time, account, region, schedule)``, or None when nothing is due.

    Raises:
        ValueError: a schedule's expression is not a valid cron expression.
    """
    best = None
    with _lock:
        for (account, region), backend in list(monitoring_backends.items()):
            for sch in list(backend.schedules.values()):
                # an emulated clock that moved past the pending time has seen the change applied
                # (a one-time NOW schedule starts at once)
                sch.settle(force=is_one_time(sch.expression))
                if sch.status != "Scheduled":
                    continue
                when = _next_time(sch, now)
                if when is not None and when <= now and (best is None or when < best[0]):
                    best = (when, account, region, sch)
    return best


def _next_time(sch: Schedule, now: dt.datetime) -> dt.datetime | None:
    """The schedule's next execution time up to ``now``; a schedule whose time cannot be
    computed is set ``Failed`` (with the reason, logged once) instead of stopping the others."""
    try:
        if is_one_time(sch.expression):
            return None if sch.fired else sch.creation_time
        times = fire_times(sch.expression, sch.cursor or sch.creation_time, now, 1)
        return times[0] if times else None
    except Exception as exc:  # noqa: BLE001 - one bad schedule must not stop the scheduler
        sch.status = "Failed"
        sch.failure_reason = f"The schedule expression {sch.expression!r} cannot run: {exc}"
        sch.last_modified_time = moto_now()
        print(f"mmlab scheduler: schedule {sch.name} failed: {sch.failure_reason}", file=sys.stderr)
        return None


def mark_fired(sch: Schedule, scheduled: dt.datetime) -> None:
    """Move a schedule's cursor past an execution the scheduler is about to run."""
    with _lock:
        sch.cursor = scheduled
        sch.fired = True


def _get_resource_from_arn(original):
    """moto's ARN lookup, extended to ``monitoring-schedule/…`` ARNs (tags)."""

    def get_resource_from_arn(self: SageMakerModelBackend, arn: str) -> Any:
        if ":monitoring-schedule/" in arn:
            name = arn.rsplit("/", 1)[1]
            with _lock:
                sch = get_backend(self.account_id, self.region_name).schedules.get(name)
            if sch is None:
                raise ValidationError(
                    message=f"Could not find monitoring-schedule with name {name}"
                )
            return sch
        return original(self, arn)

    get_resource_from_arn.__wrapped__ = original
    return get_resource_from_arn


def install() -> None:
    """Let moto's tag actions find schedules; clear the backends on reset (idempotent)."""
    patch_table.wrap(_RESOURCE_FROM_ARN, _get_resource_from_arn)
    STATE.on_reset(reset)
