"""The lab layer: sessions for a backend, and what the notebooks use besides the SDK.

Notebooks write ``aws = mmutils.connect(BACKEND, ...)`` for the session and
``from mmutils import lab`` for the helpers re-exported here (``lab.names(PREFIX, aws.bucket)``,
``lab.start_clock(aws, ...)``, ``lab.execution_table(monitor)``…).

Modules:
    session         ``connect()`` → :class:`~mmutils.lab.session.LabSession`; ``boto_session()``;
                    the emulator-pinned boto3 session
    sdk_patches     moto mode's changes to the process (environment, SDK waits, telemetry, STS)
    notebook        resource names, tags, the lab clock, prerequisite checks, waiting, versions
    ipython_errors  mmlab's errors as one short message in a notebook (no traceback)
    cleanup         ``mmlab cleanup --prefix P``: delete what a lab left, by its tags
    executions      the one reader of monitoring executions and their violations
    traffic         bounded, stoppable traffic for an endpoint
    capture_view    data-capture records as a table, explained, indented
    runner          ``mmlab run``: the notebooks, headless, with papermill
    s3stage         S3 staging of ``mmlab analyze`` (download inputs, upload outputs)
    analyze_command ``mmlab analyze baseline|monitor``

Importing this package is light: it imports neither boto3 nor the SageMaker SDK (``session``,
``sdk_patches`` and the helpers that call the SDK import them when used). In IPython it registers
the handler that shows mmlab's errors as a short message (:mod:`mmutils.lab.ipython_errors`).
"""

from __future__ import annotations

from mmutils.lab import ipython_errors
from mmutils.lab.executions import (
    drift_first,
    execution_table,
    lab_executions,
    violations_frame,
)
from mmutils.lab.notebook import (
    INSTANCE_TYPE,
    XGBOOST_VERSION,
    LabNames,
    NothingCapturedError,
    PrerequisiteError,
    delete_endpoint_if_exists,
    delete_schedule_if_exists,
    endpoint_exists,
    lab_tags,
    names,
    require_endpoint,
    require_s3_object,
    require_schedule,
    resolve_prefix,
    schedule_exists,
    start_clock,
    timestamp,
    unique_job_name,
    versions,
    wait_for_capture_files,
    wait_for_next_execution,
    wait_for_processing_job,
)

ipython_errors.install()

__all__ = [
    "INSTANCE_TYPE",
    "XGBOOST_VERSION",
    "LabNames",
    "NothingCapturedError",
    "PrerequisiteError",
    "delete_endpoint_if_exists",
    "delete_schedule_if_exists",
    "drift_first",
    "endpoint_exists",
    "execution_table",
    "lab_executions",
    "lab_tags",
    "names",
    "require_endpoint",
    "require_s3_object",
    "require_schedule",
    "resolve_prefix",
    "schedule_exists",
    "start_clock",
    "timestamp",
    "unique_job_name",
    "versions",
    "violations_frame",
    "wait_for_capture_files",
    "wait_for_next_execution",
    "wait_for_processing_job",
]
