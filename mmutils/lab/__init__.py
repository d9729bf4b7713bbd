"""The lab layer: sessions for a backend, and what the notebooks use besides the SDK.

Notebooks write ``aws = mmutils.connect(BACKEND, ...)`` for the session and
``from mmutils import lab`` for the helpers re-exported here (``lab.names(PREFIX, aws.bucket)``,
``lab.start_clock(aws, ...)``, ``lab.execution_table(monitor)``…).

Modules:
    session         ``connect()`` → :class:`~mmutils.lab.session.LabSession`; ``boto_session()``;
                    the emulator-pinned boto3 session
    sdk_patches     moto mode's changes to the process (environment, SDK waits, telemetry, STS)
    notebook        resource names, the lab clock, prerequisite checks, waiting, cleanup
    executions      the one reader of monitoring executions and their violations
    traffic         bounded, stoppable traffic for an endpoint
    capture_view    data-capture records as a table, explained, indented
    runner          ``mmlab run``: the notebooks, headless, with papermill
    s3stage         S3 staging of ``mmlab analyze`` (download inputs, upload outputs)
    analyze_command ``mmlab analyze baseline|monitor``

Importing this package is light: it imports neither boto3 nor the SageMaker SDK (``session``,
``sdk_patches`` and the helpers that call the SDK import them when used).
"""

from __future__ import annotations

from mmutils.lab.executions import execution_table, violations_frame
from mmutils.lab.notebook import (
    INSTANCE_TYPE,
    XGBOOST_VERSION,
    LabNames,
    PrerequisiteError,
    delete_endpoint_if_exists,
    delete_schedule_if_exists,
    endpoint_exists,
    names,
    require_endpoint,
    require_s3_object,
    require_schedule,
    start_clock,
    timestamp,
    wait_for_capture_files,
    wait_for_next_execution,
)

__all__ = [
    "INSTANCE_TYPE",
    "XGBOOST_VERSION",
    "LabNames",
    "PrerequisiteError",
    "delete_endpoint_if_exists",
    "delete_schedule_if_exists",
    "endpoint_exists",
    "execution_table",
    "names",
    "require_endpoint",
    "require_s3_object",
    "require_schedule",
    "start_clock",
    "timestamp",
    "violations_frame",
    "wait_for_capture_files",
    "wait_for_next_execution",
]
