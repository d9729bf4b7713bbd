"""Monitoring-schedule APIs moto 5.2.5 lacks, with AWS's response shapes and errors.

Create/Describe/List/Update/Delete/Start/Stop ``MonitoringSchedule``, ``ListMonitoringExecutions``
and tags on ``monitoring-schedule/…`` ARNs (``DefaultModelMonitor.attach`` calls ListTags). The
schedules and their execution summaries live in :data:`STORES` (per account and region); the
scheduler (:mod:`mmutils.emulator.scheduler`) adds executions to them.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker import responses as smr
from moto.sagemaker.exceptions import ResourceInUseException, ResourceNotFound, ValidationError
from moto.sagemaker.models import SageMakerModelBackend

from mmutils.emulator.clock import CLOCK
from mmutils.emulator.state import STATE, naive_utc, require

Response = smr.SageMakerResponse

_lock = threading.RLock()

#: the job-definition tables of moto's backend, by MonitoringType
JOB_DEFINITION_TABLES = {
    "DataQuality": "data_quality_job_definitions",
    "ModelQuality": "model_quality_job_definitions",
    "ModelBias": "model_bias_job_definitions",
    "ModelExplainability": "model_explainability_job_definitions",
}


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
    status: str = "Scheduled"
    failure_reason: str | None = None
    tags: list = field(default_factory=list)
    #: the scheduler's cursor: executions scheduled after this time are still to come
    cursor: dt.datetime | None = None
    #: a one-time (``NOW``) schedule fires once
    fired: bool = False

    def summary(self) -> dict:
        """A ``MonitoringScheduleSummary``."""
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


@dataclass
class Store:
    """Schedules and execution summaries of one account and region."""

    schedules: dict[str, Schedule] = field(default_factory=dict)
    #: schedule name -> execution summaries (dicts in the API's shape), oldest first
    executions: dict[str, list[dict]] = field(default_factory=dict)


#: (account, region) -> Store
STORES: dict[tuple[str, str], Store] = {}


def store(account: str, region: str) -> Store:
    """The store of an account and region (created on first use)."""
    with _lock:
        return STORES.setdefault((account, region), Store())


def _reset() -> None:
    with _lock:
        STORES.clear()


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


def _validate_config(backend: SageMakerModelBackend, config: dict, account: str, region: str):
    if not isinstance(config, dict):
        raise ValidationError(message="MonitoringScheduleConfig is required.")
    inline = config.get("MonitoringJobDefinition")
    name = config.get("MonitoringJobDefinitionName")
    if bool(inline) == bool(name):
        raise ValidationError(
            message="Exactly one of MonitoringJobDefinition and MonitoringJobDefinitionName "
            "must be provided."
        )
    if name and job_definition(backend, config) is None:
        kind = config.get("MonitoringType") or "DataQuality"
        prefix = {
            "DataQuality": "data-quality",
            "ModelQuality": "model-quality",
            "ModelBias": "model-bias",
            "ModelExplainability": "model-explainability",
        }.get(kind, "data-quality")
        raise ResourceNotFound(
            f"Job definition arn:aws:sagemaker:{region}:{account}:"
            f"{prefix}-job-definition/{name} does not exist."
        )
    expression = (config.get("ScheduleConfig") or {}).get("ScheduleExpression")
    if expression:
        from mmutils.emulator.scheduler import validate_expression

        try:
            validate_expression(expression, config.get("ScheduleConfig") or {})
        except ValueError as exc:
            raise ValidationError(message=str(exc)) from exc


def _endpoint_name(backend: SageMakerModelBackend, config: dict) -> str | None:
    found = job_definition(backend, config)
    if not found:
        return None
    inp = endpoint_input(found[1])
    return inp.get("EndpointName") if inp else None


def get_schedule(account: str, region: str, name: str) -> Schedule:
    """A schedule by name.

    Raises:
        ResourceNotFound: no such schedule (AWS's error code).
    """
    found = store(account, region).schedules.get(name or "")
    if found is None:
        raise ResourceNotFound(
            f"Monitoring Schedule {schedule_arn(account, region, name)} does not exist."
        )
    return found


def _now() -> dt.datetime:
    return naive_utc(CLOCK.now())


def create_monitoring_schedule(self: Response) -> ActionResult:
    """CreateMonitoringSchedule."""
    account, region = self.current_account, self.region
    name = self._get_param("MonitoringScheduleName")
    config = copy.deepcopy(self._get_param("MonitoringScheduleConfig"))
    with _lock:
        st = store(account, region)
        if name in st.schedules:
            raise ResourceInUseException(
                f"Monitoring Schedule {schedule_arn(account, region, name)} already exists."
            )
        _validate_config(self.sagemaker_backend, config, account, region)
        now = _now()
        st.schedules[name] = Schedule(
            name=name,
            arn=schedule_arn(account, region, name),
            config=config,
            monitoring_type=config.get("MonitoringType") or "DataQuality",
            creation_time=now,
            last_modified_time=now,
            endpoint_name=_endpoint_name(self.sagemaker_backend, config),
            tags=list(self._get_param("Tags") or []),
            cursor=now,
        )
        st.executions.setdefault(name, [])
    return ActionResult({"MonitoringScheduleArn": schedule_arn(account, region, name)})


def latest_execution(account: str, region: str, name: str) -> dict | None:
    """The execution summary with the latest ScheduledTime."""
    items = store(account, region).executions.get(name) or []
    return max(items, key=lambda e: (e["ScheduledTime"], e["CreationTime"])) if items else None


def describe_monitoring_schedule(self: Response) -> ActionResult:
    """DescribeMonitoringSchedule (with ``LastMonitoringExecutionSummary``)."""
    account, region = self.current_account, self.region
    with _lock:
        sch = get_schedule(account, region, self._get_param("MonitoringScheduleName"))
        doc = {
            "MonitoringScheduleArn": sch.arn,
            "MonitoringScheduleName": sch.name,
            "MonitoringScheduleStatus": sch.status,
            "MonitoringType": sch.monitoring_type,
            "CreationTime": sch.creation_time,
            "LastModifiedTime": sch.last_modified_time,
            "MonitoringScheduleConfig": copy.deepcopy(sch.config),
        }
        if sch.failure_reason:
            doc["FailureReason"] = sch.failure_reason
        if sch.endpoint_name:
            doc["EndpointName"] = sch.endpoint_name
        last = latest_execution(account, region, sch.name)
        if last:
            doc["LastMonitoringExecutionSummary"] = dict(last)
    return ActionResult(doc)


def _time_param(self: Response, name: str) -> dt.datetime | None:
    value = self._get_param(name)
    if value is None:
        return None
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC).replace(tzinfo=None)
    if isinstance(value, str):
        from mmutils.emulator.clock import parse_iso

        try:
            return naive_utc(parse_iso(value))
        except ValueError:
            return dt.datetime.fromtimestamp(float(value), dt.UTC).replace(tzinfo=None)
    return naive_utc(value)


def _page(self: Response, items: list, default_max: int = 10) -> tuple[list, str | None]:
    """Slice ``items`` by MaxResults/NextToken (the token is an opaque offset)."""
    token = self._get_param("NextToken")
    start = 0
    if token:
        try:
            start = int(json.loads(base64.b64decode(token))["offset"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationError(message=f"Invalid pagination token: {token}") from exc
    size = int(self._get_param("MaxResults") or default_max)
    if not 1 <= size <= 100:
        raise ValidationError(
            message=f"1 validation error detected: Value '{size}' at 'maxResults' failed to "
            "satisfy constraint: Member must have value between 1 and 100"
        )
    page = items[start : start + size]
    more = start + size < len(items)
    nxt = base64.b64encode(json.dumps({"offset": start + size}).encode()).decode() if more else None
    return page, nxt


def _time_filters(self: Response, item: dict, fields: dict[str, str]) -> bool:
    for param, key in fields.items():
        bound = _time_param(self, param)
        if bound is None:
            continue
        value = item.get(key)
        if param.endswith("Before") and not value < bound:
            return False
        if param.endswith("After") and not value > bound:
            return False
    return True


def _sort(self: Response, items: list, keys: dict[str, str], default: str) -> list:
    sort_by = self._get_param("SortBy") or default
    if sort_by not in keys:
        raise ValidationError(
            message=f"1 validation error detected: Value '{sort_by}' at 'sortBy' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(keys)}]"
        )
    order = self._get_param("SortOrder") or "Descending"
    if order not in ("Ascending", "Descending"):
        raise ValidationError(
            message=f"1 validation error detected: Value '{order}' at 'sortOrder' failed to "
            "satisfy constraint: Member must satisfy enum value set: [Ascending, Descending]"
        )
    key = keys[sort_by]
    return sorted(items, key=lambda d: d[key], reverse=order == "Descending")


def list_monitoring_schedules(self: Response) -> ActionResult:
    """ListMonitoringSchedules (filters, SortBy Name|CreationTime|Status, paging)."""
    ep = self._get_param("EndpointName")
    contains = self._get_param("NameContains")
    status = self._get_param("StatusEquals")
    job_def = self._get_param("MonitoringJobDefinitionName")
    mtype = self._get_param("MonitoringTypeEquals")
    with _lock:
        items = [s.summary() for s in store(self.current_account, self.region).schedules.values()]
    out = []
    for s in items:
        if ep and s.get("EndpointName") != ep:
            continue
        if contains and contains not in s["MonitoringScheduleName"]:
            continue
        if status and s["MonitoringScheduleStatus"] != status:
            continue
        if job_def and s.get("MonitoringJobDefinitionName") != job_def:
            continue
        if mtype and s.get("MonitoringType") != mtype:
            continue
        if not _time_filters(
            self,
            s,
            {
                "CreationTimeBefore": "CreationTime",
                "CreationTimeAfter": "CreationTime",
                "LastModifiedTimeBefore": "LastModifiedTime",
                "LastModifiedTimeAfter": "LastModifiedTime",
            },
        ):
            continue
        out.append(s)
    out = _sort(
        self,
        out,
        {
            "Name": "MonitoringScheduleName",
            "CreationTime": "CreationTime",
            "Status": "MonitoringScheduleStatus",
        },
        "CreationTime",
    )
    page, nxt = _page(self, out)
    doc: dict[str, Any] = {"MonitoringScheduleSummaries": page}
    if nxt:
        doc["NextToken"] = nxt
    return ActionResult(doc)


def update_monitoring_schedule(self: Response) -> ActionResult:
    """UpdateMonitoringSchedule (replaces the config)."""
    account, region = self.current_account, self.region
    config = copy.deepcopy(self._get_param("MonitoringScheduleConfig"))
    with _lock:
        sch = get_schedule(account, region, self._get_param("MonitoringScheduleName"))
        _validate_config(self.sagemaker_backend, config, account, region)
        sch.config = config
        sch.monitoring_type = config.get("MonitoringType") or sch.monitoring_type
        sch.endpoint_name = _endpoint_name(self.sagemaker_backend, config) or sch.endpoint_name
        sch.last_modified_time = _now()
    return ActionResult({"MonitoringScheduleArn": sch.arn})


def delete_monitoring_schedule(self: Response) -> EmptyResult:
    """DeleteMonitoringSchedule (its execution history goes too)."""
    account, region = self.current_account, self.region
    with _lock:
        sch = get_schedule(account, region, self._get_param("MonitoringScheduleName"))
        st = store(account, region)
        st.schedules.pop(sch.name, None)
        st.executions.pop(sch.name, None)
    return EmptyResult()


def _set_status(self: Response, status: str) -> EmptyResult:
    with _lock:
        sch = get_schedule(
            self.current_account, self.region, self._get_param("MonitoringScheduleName")
        )
        if status == "Scheduled" and sch.status == "Stopped":
            # executions that fell due while stopped are skipped, as on AWS
            sch.cursor = max(sch.cursor or _now(), _now())
        sch.status = status
        sch.last_modified_time = _now()
    return EmptyResult()


def start_monitoring_schedule(self: Response) -> EmptyResult:
    """StartMonitoringSchedule."""
    return _set_status(self, "Scheduled")


def stop_monitoring_schedule(self: Response) -> EmptyResult:
    """StopMonitoringSchedule: a stopped schedule does not fire."""
    return _set_status(self, "Stopped")


def list_monitoring_executions(self: Response) -> ActionResult:
    """ListMonitoringExecutions (filters, SortBy CreationTime|ScheduledTime|Status, paging)."""
    name = self._get_param("MonitoringScheduleName")
    ep = self._get_param("EndpointName")
    status = self._get_param("StatusEquals")
    job_def = self._get_param("MonitoringJobDefinitionName")
    mtype = self._get_param("MonitoringTypeEquals")
    with _lock:
        st = store(self.current_account, self.region)
        items = [dict(e) for n, lst in st.executions.items() if not name or n == name for e in lst]
    out = []
    for e in items:
        if ep and e.get("EndpointName") != ep:
            continue
        if status and e["MonitoringExecutionStatus"] != status:
            continue
        if job_def and e.get("MonitoringJobDefinitionName") != job_def:
            continue
        if mtype and e.get("MonitoringType") != mtype:
            continue
        if not _time_filters(
            self,
            e,
            {
                "ScheduledTimeBefore": "ScheduledTime",
                "ScheduledTimeAfter": "ScheduledTime",
                "CreationTimeBefore": "CreationTime",
                "CreationTimeAfter": "CreationTime",
                "LastModifiedTimeBefore": "LastModifiedTime",
                "LastModifiedTimeAfter": "LastModifiedTime",
            },
        ):
            continue
        out.append(e)
    out = _sort(
        self,
        out,
        {
            "CreationTime": "CreationTime",
            "ScheduledTime": "ScheduledTime",
            "Status": "MonitoringExecutionStatus",
        },
        "CreationTime",
    )
    page, nxt = _page(self, out)
    doc: dict[str, Any] = {"MonitoringExecutionSummaries": page}
    if nxt:
        doc["NextToken"] = nxt
    return ActionResult(doc)


def record_execution(account: str, region: str, name: str, summary: dict) -> dict:
    """Add or update (same ScheduledTime) an execution summary of a schedule; returns it."""
    with _lock:
        items = store(account, region).executions.setdefault(name, [])
        for existing in items:
            if existing["ScheduledTime"] == summary["ScheduledTime"]:
                existing.clear()
                existing.update(summary)
                return existing
        items.append(summary)
        return summary


_original_resource_from_arn = None


def _get_resource_from_arn(self: SageMakerModelBackend, arn: str) -> Any:
    """moto's lookup, extended to ``monitoring-schedule/…`` ARNs (tags)."""
    if ":monitoring-schedule/" in arn:
        name = arn.rsplit("/", 1)[1]
        sch = store(self.account_id, self.region_name).schedules.get(name)
        if sch is None:
            raise ValidationError(message=f"Could not find monitoring-schedule with name {name}")
        return sch
    return _original_resource_from_arn(self, arn)


PATCHES = {
    f.__name__: f
    for f in (
        create_monitoring_schedule,
        describe_monitoring_schedule,
        list_monitoring_schedules,
        update_monitoring_schedule,
        delete_monitoring_schedule,
        start_monitoring_schedule,
        stop_monitoring_schedule,
        list_monitoring_executions,
    )
}


def check_moto() -> None:
    """Check the moto internals used here.

    Raises:
        RuntimeError: naming the moto version and the missing piece.
    """
    require(Response, "list_tags", "add_tags", "delete_tags", "sagemaker_backend")
    require(SageMakerModelBackend, "_get_resource_from_arn", "list_tags")
    import inspect

    init = inspect.getsource(SageMakerModelBackend.__init__)
    for table in JOB_DEFINITION_TABLES.values():
        if f"self.{table}" not in init:
            raise RuntimeError(
                f"moto's SageMakerModelBackend has no {table}; mmlab needs moto==5.2.5"
            )


def install() -> None:
    """Add the schedule actions to moto's SageMaker responses (idempotent)."""
    global _original_resource_from_arn
    check_moto()
    for name, func in PATCHES.items():
        setattr(Response, name, func)
    if SageMakerModelBackend._get_resource_from_arn is not _get_resource_from_arn:
        _original_resource_from_arn = SageMakerModelBackend._get_resource_from_arn
        SageMakerModelBackend._get_resource_from_arn = _get_resource_from_arn
    STATE.on_reset(_reset)
