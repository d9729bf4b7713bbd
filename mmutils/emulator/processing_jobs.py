"""Processing-job records as SageMaker keeps them (moto's ``FakeProcessingJob``, completed).

moto 5.2.5's CreateProcessingJob drops ``Environment`` and ``ProcessingResources`` and makes the
job ``Completed`` at once. Here a job keeps both and starts ``InProgress`` at the emulator
clock's time (:func:`init_processing_job`); the run that ends it sets the final status,
``ExitMessage``, ``FailureReason`` and ``ProcessingEndTime`` (:func:`finish_processing_job`).

The requests that create and stop jobs, and the runtime that runs them, are in
:mod:`mmutils.emulator.processing`; the scheduler creates its executions' jobs here too.
"""

from __future__ import annotations

from moto.sagemaker.models import FakeProcessingJob

from mmutils.emulator.clock import moto_now

#: the states a job no longer leaves except to ``Stopped``
STOPPING = ("Stopped", "Stopping")


def init_processing_job(
    job: FakeProcessingJob,
    *,
    environment: dict | None,
    resources: dict | None,
    monitoring_schedule_arn: str | None = None,
) -> None:
    """Give a freshly created moto job the fields and the ``InProgress`` state SageMaker has.

    Args:
        job: the job moto just created.
        environment: the request's ``Environment``.
        resources: the request's ``ProcessingResources``.
        monitoring_schedule_arn: the schedule whose execution this job is, if any.
    """
    now = moto_now()
    job.creation_time = now
    job.last_modified_time = now
    job.processing_start_time = now
    job.processing_end_time = None
    job.processing_job_status = "InProgress"
    job.environment = environment or None
    job.processing_resources = resources
    job.exit_message = None
    job.failure_reason = None
    job.monitoring_schedule_arn = monitoring_schedule_arn


def finish_processing_job(
    job: FakeProcessingJob,
    status: str,
    *,
    exit_message: str | None = None,
    failure_reason: str | None = None,
) -> None:
    """Set a job's final state (``Stopped`` when it was stopped meanwhile).

    Args:
        job: the job.
        status: ``Completed``, ``Failed`` or ``Stopped``.
        exit_message: the analyzer's ``output/message``.
        failure_reason: why the job failed.
    """
    if job.processing_job_status in STOPPING and status != "Stopped":
        status = "Stopped"
    now = moto_now()
    job.processing_job_status = status
    job.processing_end_time = now
    job.last_modified_time = now
    job.exit_message = exit_message or None
    job.failure_reason = failure_reason or None


def mark_stopped(job: FakeProcessingJob) -> None:
    """Stamp the end of a job moto has just stopped (StopProcessingJob)."""
    job.processing_end_time = job.last_modified_time = moto_now()
