"""Snapshots of everything but S3 objects: moto's backends and the lab's own state, pickled.

A snapshot is one pickle (one ``pickle.dumps`` call, so objects shared between backends stay
shared) of:

- every moto backend in use (``BackendDict._instances``: SageMaker models, endpoint configs,
  endpoints, job definitions, processing jobs; IAM roles; CloudWatch metrics; CloudWatch Logs
  streams; …) except S3, whose objects are written through by :mod:`.s3_store`;
- the monitoring-schedule backends (schedules with their cursors = next due, executions);
- the clock (mode and time), the id generator (seed and position), the capture writer's
  samplers and open files.

Loading puts each backend back into its ``BackendDict`` and then repairs what a crash leaves
behind: a processing job or a monitoring execution that was ``InProgress`` when the server
died becomes ``Failed`` with a FailureReason that says so (schedules go on).
"""

from __future__ import annotations

import datetime as dt
import pickle
import sys
import threading
from typing import Any

from moto.core.base_backend import BackendDict

from mmutils.emulator.capture_writer import WRITER
from mmutils.emulator.clock import CLOCK, iso, moto_now
from mmutils.emulator.monitoring import models
from mmutils.emulator.state import STATE

#: services whose state is not in the snapshot (S3 objects are written through)
EXCLUDED = {"s3"}
CRASH_REASON = (
    "InternalServerError: the mmlab emulator stopped while this job was running "
    "(restarted at {when}); the job did not finish. Run it again if you need its results."
)
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


def _moto_entries() -> list[tuple[str, str, str, str, Any]]:
    entries = []
    for bd in list(BackendDict._instances):
        if bd.service_name in EXCLUDED:
            continue
        cls = bd.backend
        for account, per_account in list(bd.items()):
            for region, backend in list(per_account.items()):
                entries.append((cls.__module__, cls.__qualname__, account, region, backend))
    return entries


def _clock_state() -> dict:
    return {k: v for k, v in vars(CLOCK).items() if not isinstance(v, _LOCK_TYPES)}


def _summary(entries: list) -> dict:
    endpoints = sum(
        len(getattr(b, "endpoints", {}) or {})
        for module, _q, _a, _r, b in entries
        if module == "moto.sagemaker.models"
    )
    schedules = sum(len(b.schedules) for b in models.monitoring_backends.values())
    return {
        "endpoints": endpoints,
        "schedules": schedules,
        "written_at": iso(dt.datetime.now(dt.UTC)),
    }


def dumps(attempts: int = 5) -> tuple[bytes, dict]:
    """Pickle the current state.

    Requests keep running meanwhile; a dict that changes size under the pickler is retried.

    Returns:
        ``(pickle bytes, summary)``.

    Raises:
        RuntimeError: the state kept changing during ``attempts`` tries.
    """
    for attempt in range(attempts):
        try:
            entries = _moto_entries()
            with models._lock:
                doc = {
                    "moto": entries,
                    "monitoring": dict(models.monitoring_backends),
                    "clock": _clock_state(),
                    "ids": (STATE.ids._rng.getstate(), STATE.ids.seed_value),
                    "capture": WRITER.export_state(),
                }
                data = pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL)
            return data, _summary(entries)
        except RuntimeError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _backend_dict(module: str, qualname: str) -> BackendDict:
    mod = sys.modules.get(module) or __import__(module, fromlist=["_"])
    for value in vars(mod).values():
        if isinstance(value, BackendDict) and value.backend.__qualname__ == qualname:
            return value
    raise LookupError(f"no BackendDict for {module}.{qualname}")


def load(data: bytes, read_object) -> dict:
    """Put a snapshot's state back (on a server that has not served anything yet).

    Args:
        data: the snapshot's bytes.
        read_object: ``(account, bucket, key) -> bytes | None`` (re-opens capture files).

    Returns:
        ``{"backends": n, "schedules": n, "repaired": [names of jobs/executions failed]}``.
    """
    doc = pickle.loads(data)
    for module, qualname, account, region, backend in doc["moto"]:
        bd = _backend_dict(module, qualname)
        bd[account][region] = backend
    with models._lock:
        models.monitoring_backends.clear()
        models.monitoring_backends.update(doc["monitoring"])
    current = vars(CLOCK)
    for key, value in doc["clock"].items():
        if key in current:
            setattr(CLOCK, key, value)
    rng_state, seed = doc["ids"]
    STATE.ids.seed(seed)
    STATE.ids._rng.setstate(rng_state)
    WRITER.import_state(doc["capture"], read_object)
    repaired = repair(doc["moto"])
    schedules = sum(len(b.schedules) for b in models.monitoring_backends.values())
    return {"backends": len(doc["moto"]), "schedules": schedules, "repaired": repaired}


def repair(entries: list) -> list[str]:
    """Fail the jobs and executions a crash left ``InProgress``; returns their names."""
    reason = CRASH_REASON.format(when=iso(dt.datetime.now(dt.UTC)))
    now = moto_now()
    repaired = []
    for module, _q, _a, _r, backend in entries:
        if module != "moto.sagemaker.models":
            continue
        for job in list(getattr(backend, "processing_jobs", {}).values()):
            status = getattr(job, "processing_job_status", None)
            if status in ("InProgress", "Stopping"):
                job.processing_job_status = "Failed" if status == "InProgress" else "Stopped"
                job.failure_reason = reason if status == "InProgress" else None
                job.processing_end_time = job.last_modified_time = now
                repaired.append(job.processing_job_name)
    for backend in models.monitoring_backends.values():
        for name, items in backend.executions.items():
            for summary in items:
                if summary.get("MonitoringExecutionStatus") in ("Pending", "InProgress"):
                    summary["MonitoringExecutionStatus"] = "Failed"
                    summary["FailureReason"] = reason
                    summary["LastModifiedTime"] = now
                    repaired.append(f"{name}@{summary.get('ScheduledTime')}")
    return repaired
