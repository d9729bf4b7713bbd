"""The monitoring-schedule API actions: request parameters → backend → JSON.

As in a moto service's ``responses.py``: each action reads its parameters, calls the
:mod:`~mmutils.emulator.monitoring.models` backend of the request's account and region, and
returns the answer. :func:`install` adds them to moto's ``SageMakerResponse`` (moto 5.2.5 has
none of them): Create/Describe/List/Update/Delete/Start/Stop ``MonitoringSchedule`` and
``ListMonitoringExecutions``. Tags on ``monitoring-schedule/…`` ARNs are moto's own tag actions
(``DefaultModelMonitor.attach`` calls ListTags).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker.responses import SageMakerResponse

from mmutils.emulator import patch_table
from mmutils.emulator.clock import naive_utc, parse_iso
from mmutils.emulator.monitoring.models import MonitoringScheduleBackend, get_backend

_RESPONSE = "moto.sagemaker.responses.SageMakerResponse"


def _backend(self: SageMakerResponse) -> MonitoringScheduleBackend:
    return get_backend(self.current_account, self.region)


def _time_param(self: SageMakerResponse, name: str) -> dt.datetime | None:
    """A timestamp parameter (epoch seconds or ISO text) as moto's naive UTC, or None."""
    value = self._get_param(name)
    if value is None:
        return None
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC).replace(tzinfo=None)
    if isinstance(value, str):
        try:
            return naive_utc(parse_iso(value))
        except ValueError:
            return dt.datetime.fromtimestamp(float(value), dt.UTC).replace(tzinfo=None)
    return naive_utc(value)


def _listing(self: SageMakerResponse) -> dict[str, Any]:
    """The sorting and paging parameters every List action takes."""
    return {
        "sort_by": self._get_param("SortBy"),
        "sort_order": self._get_param("SortOrder"),
        "next_token": self._get_param("NextToken"),
        "max_results": self._get_param("MaxResults"),
    }


def _page_result(key: str, page: list, next_token: str | None) -> ActionResult:
    doc: dict[str, Any] = {key: page}
    if next_token:
        doc["NextToken"] = next_token
    return ActionResult(doc)


def create_monitoring_schedule(self: SageMakerResponse) -> ActionResult:
    """CreateMonitoringSchedule."""
    arn = _backend(self).create_monitoring_schedule(
        self._get_param("MonitoringScheduleName"),
        self._get_param("MonitoringScheduleConfig"),
        self._get_param("Tags"),
    )
    return ActionResult({"MonitoringScheduleArn": arn})


def describe_monitoring_schedule(self: SageMakerResponse) -> ActionResult:
    """DescribeMonitoringSchedule (with ``LastMonitoringExecutionSummary``)."""
    name = self._get_param("MonitoringScheduleName")
    return ActionResult(_backend(self).describe_monitoring_schedule(name))


def list_monitoring_schedules(self: SageMakerResponse) -> ActionResult:
    """ListMonitoringSchedules (filters, SortBy Name|CreationTime|Status, paging)."""
    page, next_token = _backend(self).list_monitoring_schedules(
        endpoint_name=self._get_param("EndpointName"),
        name_contains=self._get_param("NameContains"),
        status_equals=self._get_param("StatusEquals"),
        monitoring_job_definition_name=self._get_param("MonitoringJobDefinitionName"),
        monitoring_type_equals=self._get_param("MonitoringTypeEquals"),
        creation_time_before=_time_param(self, "CreationTimeBefore"),
        creation_time_after=_time_param(self, "CreationTimeAfter"),
        last_modified_time_before=_time_param(self, "LastModifiedTimeBefore"),
        last_modified_time_after=_time_param(self, "LastModifiedTimeAfter"),
        **_listing(self),
    )
    return _page_result("MonitoringScheduleSummaries", page, next_token)


def update_monitoring_schedule(self: SageMakerResponse) -> ActionResult:
    """UpdateMonitoringSchedule (replaces the config)."""
    arn = _backend(self).update_monitoring_schedule(
        self._get_param("MonitoringScheduleName"), self._get_param("MonitoringScheduleConfig")
    )
    return ActionResult({"MonitoringScheduleArn": arn})


def delete_monitoring_schedule(self: SageMakerResponse) -> EmptyResult:
    """DeleteMonitoringSchedule (its execution history goes too)."""
    _backend(self).delete_monitoring_schedule(self._get_param("MonitoringScheduleName"))
    return EmptyResult()


def start_monitoring_schedule(self: SageMakerResponse) -> EmptyResult:
    """StartMonitoringSchedule."""
    _backend(self).start_monitoring_schedule(self._get_param("MonitoringScheduleName"))
    return EmptyResult()


def stop_monitoring_schedule(self: SageMakerResponse) -> EmptyResult:
    """StopMonitoringSchedule: a stopped schedule does not fire."""
    _backend(self).stop_monitoring_schedule(self._get_param("MonitoringScheduleName"))
    return EmptyResult()


def list_monitoring_executions(self: SageMakerResponse) -> ActionResult:
    """ListMonitoringExecutions (filters, SortBy CreationTime|ScheduledTime|Status, paging)."""
    page, next_token = _backend(self).list_monitoring_executions(
        monitoring_schedule_name=self._get_param("MonitoringScheduleName"),
        endpoint_name=self._get_param("EndpointName"),
        status_equals=self._get_param("StatusEquals"),
        monitoring_job_definition_name=self._get_param("MonitoringJobDefinitionName"),
        monitoring_type_equals=self._get_param("MonitoringTypeEquals"),
        scheduled_time_before=_time_param(self, "ScheduledTimeBefore"),
        scheduled_time_after=_time_param(self, "ScheduledTimeAfter"),
        creation_time_before=_time_param(self, "CreationTimeBefore"),
        creation_time_after=_time_param(self, "CreationTimeAfter"),
        last_modified_time_before=_time_param(self, "LastModifiedTimeBefore"),
        last_modified_time_after=_time_param(self, "LastModifiedTimeAfter"),
        **_listing(self),
    )
    return _page_result("MonitoringExecutionSummaries", page, next_token)


ACTIONS = {
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


def install() -> None:
    """Add the actions to moto's SageMaker responses (idempotent)."""
    for name, func in ACTIONS.items():
        patch_table.replace(f"{_RESPONSE}.{name}", func)
