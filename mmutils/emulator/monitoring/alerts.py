"""Monitoring alerts: ListMonitoringAlerts, ListMonitoringAlertHistory, UpdateMonitoringAlert.

Each schedule has one alert (:func:`alert_name`: ``data-quality-alert`` for a data-quality
schedule) with ``DatapointsToAlert`` and ``EvaluationPeriod`` (both 1 until updated) and the
model dashboard indicator enabled. Its status follows the schedule's real executions, as the
service documents it: after each terminal execution, the failures (``CompletedWithViolations``
or ``Failed``) among the last ``EvaluationPeriod`` executions are counted; ``InAlert`` when they
reach ``DatapointsToAlert`` (even before ``EvaluationPeriod`` executions exist), ``OK``
otherwise. Every change of status is a history entry stamped with the execution's time.

Alerts are evaluated when read, from the executions the backend holds, so no hook into the
scheduler is needed; an update re-evaluates from the next execution on.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import ResourceNotFound
from moto.sagemaker.responses import SageMakerResponse

from mmutils.emulator import patch_table
from mmutils.emulator.clock import moto_now
from mmutils.emulator.monitoring import models
from mmutils.emulator.state import STATE

_RESPONSE = "moto.sagemaker.responses.SageMakerResponse"
FAILING = ("CompletedWithViolations", "Failed")
TERMINAL = ("Completed", "CompletedWithViolations", "Failed", "Stopped")
HISTORY_SORT_KEYS = {"CreationTime": "CreationTime", "Status": "AlertStatus"}
_lock = threading.RLock()


def alert_name(monitoring_type: str) -> str:
    """The alert of a schedule type: ``DataQuality`` -> ``data-quality-alert``."""
    words = "".join(f"-{c.lower()}" if c.isupper() else c for c in monitoring_type).strip("-")
    return f"{words}-alert"


@dataclass
class Alert:
    """One alert of a schedule and the part of the execution history it has seen."""

    name: str
    creation_time: dt.datetime
    last_modified_time: dt.datetime
    datapoints_to_alert: int = 1
    evaluation_period: int = 1
    status: str = "OK"
    history: list[dict] = field(default_factory=list)
    #: ScheduledTimes of the executions already evaluated
    seen: set = field(default_factory=set)
    outcomes: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        """A ``MonitoringAlertSummary``."""
        return {
            "MonitoringAlertName": self.name,
            "CreationTime": self.creation_time,
            "LastModifiedTime": self.last_modified_time,
            "AlertStatus": self.status,
            "DatapointsToAlert": self.datapoints_to_alert,
            "EvaluationPeriod": self.evaluation_period,
            "Actions": {"ModelDashboardIndicator": {"Enabled": True}},
        }


#: (account, region, schedule name, schedule creation time) -> alerts by name
_alerts: dict[tuple, dict[str, Alert]] = {}


def _schedule_alerts(account: str, region: str, schedule_name: str) -> tuple[Any, dict]:
    backend = models.get_backend(account, region)
    sch = backend.get_schedule(schedule_name)
    key = (account, region, sch.name, sch.creation_time)
    with _lock:
        found = _alerts.get(key)
        if found is None:
            name = alert_name(sch.monitoring_type)
            found = _alerts[key] = {
                name: Alert(name, sch.creation_time, sch.creation_time),
            }
    return backend, sch, found


def _evaluate(backend: Any, sch: Any, alerts: dict[str, Alert]) -> None:
    """Feed the schedule's new terminal executions to its alerts, oldest first."""
    executions, _ = backend.list_monitoring_executions(
        monitoring_schedule_name=sch.name,
        sort_by="ScheduledTime",
        sort_order="Ascending",
        max_results=100,
    )
    done = [e for e in executions if e["MonitoringExecutionStatus"] in TERMINAL]
    with _lock:
        for alert in alerts.values():
            for execution in done:
                if execution["ScheduledTime"] in alert.seen:
                    continue
                alert.seen.add(execution["ScheduledTime"])
                alert.outcomes.append(execution["MonitoringExecutionStatus"])
                window = alert.outcomes[-alert.evaluation_period :]
                failures = sum(1 for status in window if status in FAILING)
                status = "InAlert" if failures >= alert.datapoints_to_alert else "OK"
                if status != alert.status:
                    alert.status = status
                    alert.history.append(
                        {
                            "MonitoringScheduleName": sch.name,
                            "MonitoringAlertName": alert.name,
                            "CreationTime": execution["LastModifiedTime"],
                            "AlertStatus": status,
                        }
                    )


def list_alerts(account: str, region: str, schedule_name: str) -> list[dict]:
    """The schedule's alert summaries.

    Raises:
        ResourceNotFound: no such schedule.
    """
    backend, sch, alerts = _schedule_alerts(account, region, schedule_name)
    _evaluate(backend, sch, alerts)
    with _lock:
        return [a.summary() for a in alerts.values()]


def alert_history(
    account: str,
    region: str,
    *,
    schedule_name: str | None = None,
    alert: str | None = None,
    status_equals: str | None = None,
    creation_time_before: dt.datetime | None = None,
    creation_time_after: dt.datetime | None = None,
) -> list[dict]:
    """History entries of one schedule's alerts, or of every schedule's."""
    backend = models.get_backend(account, region)
    names = [schedule_name] if schedule_name else list(backend.schedules)
    out: list[dict] = []
    for name in names:
        _, sch, alerts = _schedule_alerts(account, region, name)
        _evaluate(backend, sch, alerts)
        with _lock:
            for item in alerts.values():
                if alert and item.name != alert:
                    continue
                out.extend(dict(h) for h in item.history)
    if status_equals:
        out = [h for h in out if h["AlertStatus"] == status_equals]
    if creation_time_before is not None:
        out = [h for h in out if h["CreationTime"] < creation_time_before]
    if creation_time_after is not None:
        out = [h for h in out if h["CreationTime"] > creation_time_after]
    return out


def update_alert(
    account: str, region: str, schedule_name: str, name: str, datapoints: int, period: int
) -> str:
    """UpdateMonitoringAlert; returns the schedule's ARN.

    Raises:
        ResourceNotFound: no such schedule or alert.
    """
    _, sch, alerts = _schedule_alerts(account, region, schedule_name)
    with _lock:
        found = alerts.get(name or "")
        if found is None:
            raise ResourceNotFound(
                f"Monitoring alert {name} does not exist for monitoring schedule {sch.arn}."
            )
        found.datapoints_to_alert = int(datapoints)
        found.evaluation_period = int(period)
        found.last_modified_time = moto_now()
    return sch.arn


def reset() -> None:
    """Forget every alert."""
    with _lock:
        _alerts.clear()


# ------------------------------------------------------------------------------ actions
def list_monitoring_alerts(self: SageMakerResponse) -> ActionResult:
    """ListMonitoringAlerts."""
    items = list_alerts(
        self.current_account, self.region, self._get_param("MonitoringScheduleName")
    )
    page, token = models._page(
        items, self._get_param("NextToken"), self._get_param("MaxResults"), default_max=100
    )
    doc: dict[str, Any] = {"MonitoringAlertSummaries": page}
    if token:
        doc["NextToken"] = token
    return ActionResult(doc)


def list_monitoring_alert_history(self: SageMakerResponse) -> ActionResult:
    """ListMonitoringAlertHistory (SortBy CreationTime|Status, default CreationTime descending)."""
    from mmutils.emulator.monitoring.responses import _time_param

    items = alert_history(
        self.current_account,
        self.region,
        schedule_name=self._get_param("MonitoringScheduleName"),
        alert=self._get_param("MonitoringAlertName"),
        status_equals=self._get_param("StatusEquals"),
        creation_time_before=_time_param(self, "CreationTimeBefore"),
        creation_time_after=_time_param(self, "CreationTimeAfter"),
    )
    items = models._sort(
        items, HISTORY_SORT_KEYS, self._get_param("SortBy"), self._get_param("SortOrder")
    )
    page, token = models._page(items, self._get_param("NextToken"), self._get_param("MaxResults"))
    doc: dict[str, Any] = {"MonitoringAlertHistory": page}
    if token:
        doc["NextToken"] = token
    return ActionResult(doc)


def update_monitoring_alert(self: SageMakerResponse) -> ActionResult:
    """UpdateMonitoringAlert."""
    name = self._get_param("MonitoringAlertName")
    arn = update_alert(
        self.current_account,
        self.region,
        self._get_param("MonitoringScheduleName"),
        name,
        self._get_param("DatapointsToAlert"),
        self._get_param("EvaluationPeriod"),
    )
    return ActionResult({"MonitoringScheduleArn": arn, "MonitoringAlertName": name})


ACTIONS = {
    f.__name__: f
    for f in (list_monitoring_alerts, list_monitoring_alert_history, update_monitoring_alert)
}


def install() -> None:
    """Add the alert actions to moto's SageMaker responses; clear alerts on reset."""
    for name, func in ACTIONS.items():
        patch_table.replace(f"{_RESPONSE}.{name}", func)
    STATE.on_reset(reset)
