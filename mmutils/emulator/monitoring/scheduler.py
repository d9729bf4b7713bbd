"""The scheduler: monitoring schedules fire on the emulator clock, due executions run in order.

Each due execution (cron → :func:`~mmutils.emulator.monitoring.models.next_due`) first writes
every buffered capture record to S3, then finds the capture of its window; a window without
capture fails the execution with ``Job inputs had no data`` and starts no job. Otherwise the
processing job of :func:`~mmutils.emulator.monitoring.executions.build_execution` is created
in moto and run to its end by the processing runtime, and the execution summary (``InProgress``,
then ``Completed``, ``CompletedWithViolations`` or ``Failed``) is recorded in the backend.

A background thread checks every few seconds (real time, and ``NOW`` schedules); moving the
clock through the admin route runs what fell due at once (``STATE.run_due``).
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
import traceback

from moto.sagemaker.models import sagemaker_backends

from mmutils.emulator.clock import moto_now
from mmutils.emulator.monitoring import batch_inputs, model_quality, models
from mmutils.emulator.monitoring.executions import (
    analysis_window,
    build_execution,
    capture_hours,
    iso_z,
)
from mmutils.emulator.monitoring.models import Schedule, endpoint_input, job_definition
from mmutils.emulator.processing import RUNTIME
from mmutils.emulator.processing_jobs import init_processing_job
from mmutils.emulator.state import STATE

NO_DATA = "Job inputs had no data"


class Scheduler:
    """Finds due executions across all schedules and runs them, earliest first."""

    check_interval = 2.0

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def run_due(self) -> list[dict]:
        """Run every execution due at the clock's current time, in time order."""
        done = []
        with STATE.lock:
            while True:
                due = models.next_due(moto_now())
                if due is None:
                    break
                when, account, region, sch = due
                models.mark_fired(sch, when)
                done.append(self.execute(account, region, sch, when))
        return done

    def execute(self, account: str, region: str, sch: Schedule, scheduled: dt.datetime) -> dict:
        """Run one execution of a schedule for its scheduled time; returns the admin summary."""
        try:
            return self._execute(account, region, sch, scheduled)
        except Exception as exc:  # noqa: BLE001 - a bug must not stop the other schedules
            traceback.print_exc(file=sys.stderr)
            summary = self._summary(sch, scheduled, "Failed", f"InternalServerError: {exc}")
            models.get_backend(account, region).record_execution(sch.name, summary)
            return self._report(sch, scheduled, summary, None)

    @staticmethod
    def _summary(sch, scheduled, status, reason=None, arn=None) -> dict:
        now = moto_now()
        doc = {
            "MonitoringScheduleName": sch.name,
            "ScheduledTime": scheduled,
            "CreationTime": now,
            "LastModifiedTime": now,
            "MonitoringExecutionStatus": status,
        }
        if arn:
            doc["ProcessingJobArn"] = arn
        if sch.endpoint_name:
            doc["EndpointName"] = sch.endpoint_name
        if reason:
            doc["FailureReason"] = reason
        if sch.config.get("MonitoringJobDefinitionName"):
            doc["MonitoringJobDefinitionName"] = sch.config["MonitoringJobDefinitionName"]
        doc["MonitoringType"] = sch.monitoring_type
        return doc

    @staticmethod
    def _report(sch, scheduled, summary, job_name_: str | None) -> dict:
        return {
            "schedule": sch.name,
            "scheduled_time": iso_z(scheduled),
            "status": summary["MonitoringExecutionStatus"],
            "processing_job_name": job_name_,
            "failure_reason": summary.get("FailureReason"),
        }

    def _fail(self, account, region, sch, scheduled, reason):
        summary = self._summary(sch, scheduled, "Failed", reason)
        models.get_backend(account, region).record_execution(sch.name, summary)
        return self._report(sch, scheduled, summary, None)

    def _execute(self, account: str, region: str, sch: Schedule, scheduled) -> dict:
        backend = sagemaker_backends[account][region]
        monitoring = models.get_backend(account, region)
        found = job_definition(backend, sch.config)
        if found is None:
            name = sch.config.get("MonitoringJobDefinitionName")
            return self._fail(
                account, region, sch, scheduled, f"Job definition {name} does not exist"
            )
        _, definition = found
        batch = batch_inputs.batch_input(definition)
        if batch is not None:  # batch-transform data: what transform jobs captured
            start, end = analysis_window(sch, batch, scheduled)
            files = batch_inputs.captured_files(
                account, batch.get("DataCapturedDestinationS3Uri", ""), start, end
            )
            if not files:
                return self._fail(account, region, sch, scheduled, NO_DATA)
            requests = [
                batch_inputs.build_batch_execution(
                    sch=sch,
                    definition=definition,
                    batch=batch,
                    files=files,
                    scheduled=scheduled,
                    start=start,
                    end=end,
                )
            ]
        else:
            ep_input = endpoint_input(definition) or {}
            endpoint_name = ep_input.get("EndpointName") or sch.endpoint_name
            endpoint = backend.endpoints.get(endpoint_name or "")
            capture = (endpoint.data_capture_config or {}) if endpoint else {}
            dest = capture.get("DestinationS3Uri")
            start, end = analysis_window(sch, ep_input, scheduled)
            STATE.flush()  # every captured record is in S3 before the window is read
            hours = capture_hours(account, dest, endpoint_name, start, end) if dest else []
            if not hours:
                return self._fail(account, region, sch, scheduled, NO_DATA)
            window = dict(
                sch=sch,
                definition=definition,
                endpoint=endpoint_name,
                dest=dest,
                hours=hours,
                scheduled=scheduled,
                start=start,
                end=end,
            )
            if sch.monitoring_type == "ModelQuality":
                # the ground-truth merge job, then the analysis (monitoring/model_quality.py)
                truth = model_quality.ground_truth_uri(definition) or ""
                folders = (
                    model_quality.ground_truth_hours(account, truth, start, scheduled)
                    if truth
                    else []
                )
                if not folders:
                    reason = f"{NO_DATA}: no ground truth under {truth or '(none)'} for this window"
                    return self._fail(account, region, sch, scheduled, reason)
                requests = model_quality.build_requests(
                    ground_truth=truth, ground_truth_folders=folders, **window
                )
            else:
                requests = [build_execution(**window)]
        # as on the service: Pending (job being created) -> InProgress -> terminal
        record = monitoring.record_execution(sch.name, self._summary(sch, scheduled, "Pending"))
        for request in requests:
            name = request["ProcessingJobName"]
            job = self._job(account, region, sch, request)
            running = self._summary(sch, scheduled, "InProgress", arn=job.arn)
            running["CreationTime"] = record["CreationTime"]
            record = monitoring.record_execution(sch.name, running)
            if job.processing_job_status == "InProgress":
                RUNTIME.run(account, region, name)
            if job.processing_job_status != "Completed":
                break
        status = job.processing_job_status
        if status == "Completed":
            message = job.exit_message or ""
            status = (
                "CompletedWithViolations"
                if message.startswith("CompletedWithViolations")
                else "Completed"
            )
        final = self._summary(sch, scheduled, status, job.failure_reason, arn=job.arn)
        final["CreationTime"] = record["CreationTime"]
        record = monitoring.record_execution(sch.name, final)
        return self._report(sch, scheduled, record, name)

    @staticmethod
    def _job(account: str, region: str, sch: Schedule, request: dict):
        """The processing job of a request: created in moto, or the one that already ran."""
        backend = sagemaker_backends[account][region]
        name = request["ProcessingJobName"]
        if name in backend.processing_jobs:  # already ran (e.g. schedule re-created)
            return backend.processing_jobs[name]
        job = backend.create_processing_job(
            app_specification=request["AppSpecification"],
            experiment_config=None,
            network_config=request["NetworkConfig"],
            processing_inputs=request["ProcessingInputs"],
            processing_job_name=name,
            processing_output_config=request["ProcessingOutputConfig"],
            role_arn=request["RoleArn"],
            tags=[],
            stopping_condition=request["StoppingCondition"],
        )
        init_processing_job(
            job,
            environment=request["Environment"],
            resources=request["ProcessingResources"],
            monitoring_schedule_arn=sch.arn,
        )
        return job

    # --------------------------------------------------------------------------- background
    def start(self) -> None:
        """Check for due executions every few seconds (real time, and ``NOW`` schedules)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="mmlab-scheduler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        last_error = None
        while not self._stop.wait(self.check_interval):
            try:
                self.run_due()
                last_error = None
            except Exception as exc:  # noqa: BLE001 - keep scheduling
                # the same failure every few seconds is logged once, not once per check
                if repr(exc) != last_error:
                    traceback.print_exc(file=sys.stderr)
                last_error = repr(exc)

    def stop(self) -> None:
        """Stop the background checks (an execution in progress finishes first)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


#: The scheduler of this emulator process.
SCHEDULER = Scheduler()


def install() -> None:
    """Wire the scheduler to the admin clock route and start the background checks."""
    STATE.run_due = SCHEDULER.run_due
    STATE.on_stop(SCHEDULER.stop)
    SCHEDULER.start()
