"""Monitoring schedules fire on the emulator clock: cron → due executions, run in order.

Each execution analyses the capture of its window (by default the hour before the scheduled
time) as SageMaker does: capture is flushed, the hour folders of the window become inputs
``endpoint_input_1…`` (LocalPath ``{EndpointInput.LocalPath}/{endpoint}/{variant}/yyyy/mm/dd/HH``),
the baseline files become ``baseline`` and ``constraints``, scripts become
``pre_processor_script``/``post_processor_script``; the processing job
``model-monitoring-{yyyyMMddHHmm}-{24 hex}`` (hex from a hash of schedule ARN and time) runs the
analyzer through the processing runtime and writes to
``{MonitoringOutputs[0].S3Uri}/{endpoint}/{schedule}/yyyy/mm/dd/HH``. A window without capture
fails the execution with ``Job inputs had no data`` and starts no job.

AWS cron has six fields (``cron(0 * ? * * *)``: minutes hours day-of-month month day-of-week
year, day-of-week 1-7 = SUN-SAT); croniter gets the first five with ``?`` → ``*`` and the
day-of-week numbers shifted to 0-6. ``NOW`` is a one-time schedule whose window is
``DataAnalysisStartTime``/``DataAnalysisEndTime`` (offsets like ``-PT1H``) from its creation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sys
import threading
import traceback

from croniter import croniter
from moto.sagemaker.models import sagemaker_backends

from mmutils.emulator import s3io, schedules
from mmutils.emulator.clock import CLOCK
from mmutils.emulator.fidelity import init_processing_job
from mmutils.emulator.state import STATE, naive_utc

NO_DATA = "Job inputs had no data"
ENDPOINT_DATASET_FORMAT = {
    "sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}
}
DEFAULT_ENDPOINT_LOCAL_PATH = "/opt/ml/processing/input/endpoint"
DEFAULT_OUTPUT_LOCAL_PATH = "/opt/ml/processing/output"
STATS_LOCAL_PATH = "/opt/ml/processing/baseline/stats"
CONSTRAINTS_LOCAL_PATH = "/opt/ml/processing/baseline/constraints"
PRE_LOCAL_PATH = "/opt/ml/processing/code/preprocessing"
POST_LOCAL_PATH = "/opt/ml/processing/code/postprocessing"
JOB_PREFIX = {
    "DataQuality": "model-monitoring",
    "ModelQuality": "model-quality-monitoring",
    "ModelBias": "model-bias-monitoring",
    "ModelExplainability": "model-explainability-monitoring",
}
_DURATION = re.compile(r"^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
_DOW_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


# ------------------------------------------------------------------------------ expressions
def parse_offset(text: str) -> dt.timedelta:
    """ISO-8601 duration such as ``-PT1H`` or ``-P1DT2H`` → timedelta.

    Raises:
        ValueError: not such a duration.
    """
    m = _DURATION.match((text or "").strip())
    if not m or not any(m.groups()[1:]):
        raise ValueError(f"not an ISO-8601 duration like -PT1H: {text!r}")
    sign = -1 if m.group(1) else 1
    days, hours, minutes, seconds = (int(g or 0) for g in m.groups()[1:])
    return sign * dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def _shift_dow(field: str) -> str:
    """AWS day-of-week numbers (1-7 = SUN-SAT) → croniter's (0-6)."""

    def one(token: str) -> str:
        return str(int(token) - 1) if token.isdigit() else token

    out = []
    for part in field.split(","):
        base, slash, step = part.partition("/")
        base = "-".join(one(t) for t in base.split("-"))
        out.append(base + (slash + step if slash else ""))
    return ",".join(out)


def to_croniter(expression: str) -> tuple[str, str]:
    """``cron(0 * ? * * *)`` → (``"0 * * * *"``, year field).

    Raises:
        ValueError: not a six-field AWS cron expression.
    """
    m = re.fullmatch(r"\s*cron\((.*)\)\s*", expression or "")
    if not m:
        raise ValueError(f"Invalid ScheduleExpression {expression!r}: expected cron(...) or NOW")
    fields = m.group(1).split()
    if len(fields) != 6:
        raise ValueError(
            f"Invalid ScheduleExpression {expression!r}: AWS cron needs 6 fields "
            "(minutes hours day-of-month month day-of-week year)"
        )
    minute, hour, dom, month, dow, year = fields
    dom = "*" if dom == "?" else dom
    dow = "*" if dow == "?" else _shift_dow(dow.upper())
    spec = f"{minute} {hour} {dom} {month} {dow}"
    if not croniter.is_valid(spec):
        raise ValueError(f"Invalid ScheduleExpression {expression!r}")
    return spec, year


def validate_expression(expression: str, schedule_config: dict) -> None:
    """Check a ScheduleExpression (and, for ``NOW``, its analysis window).

    Raises:
        ValueError: with the reason.
    """
    if expression.strip() == "NOW":
        start = schedule_config.get("DataAnalysisStartTime")
        end = schedule_config.get("DataAnalysisEndTime")
        if not start or not end:
            raise ValueError(
                "DataAnalysisStartTime and DataAnalysisEndTime are required for a one-time "
                "(NOW) monitoring schedule"
            )
        parse_offset(start)
        parse_offset(end)
        return
    to_croniter(expression)


def fire_times(expression: str, after: dt.datetime, until: dt.datetime, limit: int = 10000):
    """Scheduled times of a cron expression in ``(after, until]`` (naive UTC)."""
    spec, year = to_croniter(expression)
    it = croniter(spec, after)
    out = []
    while len(out) < limit:
        nxt = it.get_next(dt.datetime)
        if nxt > until:
            break
        if year in ("*", "?") or str(nxt.year) in year.split(","):
            out.append(nxt)
    return out


# ----------------------------------------------------------------------------- definitions
def _part(definition: dict, suffix: str) -> dict:
    """The ``…{suffix}`` member of a typed or inline job definition."""
    for key, value in definition.items():
        if key.endswith(suffix) and isinstance(value, dict):
            return value
    return {}


def normalise_definition(definition: dict) -> dict:
    """Inline ``MonitoringJobDefinition`` or a typed definition → one common form."""
    app = _part(definition, "AppSpecification")
    baseline = definition.get("BaselineConfig") or _part(definition, "BaselineConfig")
    outputs = definition.get("MonitoringOutputConfig") or _part(definition, "JobOutputConfig") or {}
    resources = definition.get("MonitoringResources") or definition.get("JobResources") or {}
    env = dict(definition.get("Environment") or {})
    env.update(app.get("Environment") or {})
    return {
        "app": app,
        "baseline": baseline or {},
        "endpoint_input": schedules.endpoint_input(definition) or {},
        "outputs": outputs,
        "resources": resources,
        "stopping": definition.get("StoppingCondition") or {},
        "network": definition.get("NetworkConfig") or None,
        "role": definition.get("RoleArn"),
        "env": env,
    }


def job_name(monitoring_type: str, arn: str, scheduled: dt.datetime) -> str:
    """``model-monitoring-{yyyyMMddHHmm}-{24 hex}`` (hex: sha256 of ARN and time)."""
    digest = hashlib.sha256(f"{arn}|{scheduled.isoformat()}".encode()).hexdigest()[:24]
    prefix = JOB_PREFIX.get(monitoring_type, "model-monitoring")
    return f"{prefix}-{scheduled:%Y%m%d%H%M}-{digest}"


def analysis_window(sch: schedules.Schedule, ep_input: dict, scheduled: dt.datetime):
    """(start, end) of the data an execution at ``scheduled`` analyses."""
    cfg = sch.config.get("ScheduleConfig") or {}
    start_text = cfg.get("DataAnalysisStartTime") or ep_input.get("StartTimeOffset") or "-PT1H"
    end_text = cfg.get("DataAnalysisEndTime") or ep_input.get("EndTimeOffset") or "-PT0H"
    end_offset = dt.timedelta(0) if end_text in ("-PT0H", "PT0H") else parse_offset(end_text)
    return scheduled + parse_offset(start_text), scheduled + end_offset


def iso_z(value: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def capture_hours(account: str, dest: str, endpoint: str, start, end) -> list[tuple[str, str]]:
    """``(variant, "yyyy/mm/dd/HH")`` folders of an endpoint's capture inside [start, end)."""
    bucket, prefix = s3io.split_uri(dest)
    base = s3io.join(prefix, endpoint) + "/"
    try:
        keys = s3io.list_keys(account, bucket, base)
    except Exception:  # noqa: BLE001 - no bucket: no data
        return []
    first = start.replace(minute=0, second=0, microsecond=0)
    found = set()
    for key in keys:
        parts = key[len(base) :].split("/")
        if len(parts) != 6 or not parts[5].endswith(".jsonl"):
            continue
        try:
            hour = dt.datetime(*(int(p) for p in parts[1:5]))
        except ValueError:
            continue
        if first <= hour < end:
            found.add((parts[0], "/".join(parts[1:5])))
    return sorted(found)


def _s3_input(name: str, uri: str, local: str) -> dict:
    return {
        "InputName": name,
        "AppManaged": False,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
            "S3CompressionType": "None",
        },
    }


def build_execution(
    *,
    sch: schedules.Schedule,
    definition: dict,
    endpoint: str,
    dest: str,
    hours: list[tuple[str, str]],
    scheduled: dt.datetime,
    start: dt.datetime,
    end: dt.datetime,
) -> dict:
    """The CreateProcessingJob request of one execution (pure)."""
    d = normalise_definition(definition)
    bucket, prefix = s3io.split_uri(dest)
    ep_local = (d["endpoint_input"].get("LocalPath") or DEFAULT_ENDPOINT_LOCAL_PATH).rstrip("/")
    inputs = [
        _s3_input(
            f"endpoint_input_{i}",
            f"s3://{bucket}/{s3io.join(prefix, endpoint, variant, hour)}",
            f"{ep_local}/{endpoint}/{variant}/{hour}",
        )
        for i, (variant, hour) in enumerate(hours, 1)
    ]
    env = dict(d["env"])
    env.setdefault("publish_cloudwatch_metrics", "Enabled")
    env.update(
        {
            "dataset_format": json.dumps(ENDPOINT_DATASET_FORMAT),
            "dataset_source": ep_local,
            "sagemaker_endpoint_name": endpoint,
            "sagemaker_monitoring_schedule_name": sch.name,
            "sagemaker_endpoint_datacapture_prefix": dest,
            "start_time": iso_z(start),
            "end_time": iso_z(end),
            "metric_time": iso_z(end),
        }
    )
    stats = (d["baseline"].get("StatisticsResource") or {}).get("S3Uri")
    constraints = (d["baseline"].get("ConstraintsResource") or {}).get("S3Uri")
    if stats:
        inputs.append(_s3_input("baseline", stats, STATS_LOCAL_PATH))
        env["baseline_statistics"] = f"{STATS_LOCAL_PATH}/{stats.rsplit('/', 1)[-1]}"
    if constraints:
        inputs.append(_s3_input("constraints", constraints, CONSTRAINTS_LOCAL_PATH))
        env["baseline_constraints"] = f"{CONSTRAINTS_LOCAL_PATH}/{constraints.rsplit('/', 1)[-1]}"
    pre = d["app"].get("RecordPreprocessorSourceUri")
    post = d["app"].get("PostAnalyticsProcessorSourceUri")
    if pre:
        inputs.append(_s3_input("pre_processor_script", pre, PRE_LOCAL_PATH))
        env["record_preprocessor_script"] = f"{PRE_LOCAL_PATH}/{pre.rsplit('/', 1)[-1]}"
    if post:
        inputs.append(_s3_input("post_processor_script", post, POST_LOCAL_PATH))
        env["post_analytics_processor_script"] = f"{POST_LOCAL_PATH}/{post.rsplit('/', 1)[-1]}"
    out = (d["outputs"].get("MonitoringOutputs") or [{}])[0].get("S3Output") or {}
    out_local = out.get("LocalPath") or DEFAULT_OUTPUT_LOCAL_PATH
    env["output_path"] = out_local
    report = s3io.join(out.get("S3Uri", ""), endpoint, sch.name, f"{scheduled:%Y/%m/%d/%H}")
    output_config = {
        "Outputs": [
            {
                "OutputName": "result",
                "S3Output": {
                    "S3Uri": report,
                    "LocalPath": out_local,
                    "S3UploadMode": out.get("S3UploadMode") or "EndOfJob",
                },
                "AppManaged": False,
            }
        ]
    }
    if d["outputs"].get("KmsKeyId"):
        output_config["KmsKeyId"] = d["outputs"]["KmsKeyId"]
    app = {"ImageUri": d["app"].get("ImageUri", "")}
    for key in ("ContainerEntrypoint", "ContainerArguments"):
        if d["app"].get(key):
            app[key] = d["app"][key]
    return {
        "ProcessingJobName": job_name(sch.monitoring_type, sch.arn, scheduled),
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": output_config,
        "ProcessingResources": {"ClusterConfig": d["resources"].get("ClusterConfig") or {}},
        "StoppingCondition": d["stopping"] or {"MaxRuntimeInSeconds": 3600},
        "AppSpecification": app,
        "Environment": env,
        "NetworkConfig": d["network"],
        "RoleArn": d["role"],
    }


# ------------------------------------------------------------------------------ the engine
class Scheduler:
    """Finds due executions across all schedules and runs them, earliest first."""

    check_interval = 2.0

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def _next_due(self, now: dt.datetime):
        best = None
        with schedules._lock:
            for (account, region), st in list(schedules.STORES.items()):
                for sch in list(st.schedules.values()):
                    if sch.status != "Scheduled":
                        continue
                    expr = (
                        (sch.config.get("ScheduleConfig") or {}).get("ScheduleExpression")
                    ) or ""
                    if expr.strip() == "NOW":
                        when = None if sch.fired else sch.creation_time
                    else:
                        times = fire_times(expr, sch.cursor or sch.creation_time, now, limit=1)
                        when = times[0] if times else None
                    if when is not None and when <= now and (best is None or when < best[0]):
                        best = (when, account, region, sch)
        return best

    def run_due(self) -> list[dict]:
        """Run every execution due at the clock's current time, in time order."""
        done = []
        with STATE.lock:
            while True:
                due = self._next_due(naive_utc(CLOCK.now()))
                if due is None:
                    break
                when, account, region, sch = due
                sch.cursor = when
                sch.fired = True
                done.append(self.execute(account, region, sch, when))
        return done

    def execute(self, account: str, region: str, sch: schedules.Schedule, scheduled) -> dict:
        """Run one execution of a schedule for its scheduled time; returns the admin summary."""
        try:
            return self._execute(account, region, sch, scheduled)
        except Exception as exc:  # noqa: BLE001 - a bug must not stop the other schedules
            traceback.print_exc(file=sys.stderr)
            summary = self._summary(sch, scheduled, "Failed", f"InternalServerError: {exc}")
            schedules.record_execution(account, region, sch.name, summary)
            return self._report(sch, scheduled, summary, None)

    @staticmethod
    def _summary(sch, scheduled, status, reason=None, arn=None) -> dict:
        now = naive_utc(CLOCK.now())
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
        schedules.record_execution(account, region, sch.name, summary)
        return self._report(sch, scheduled, summary, None)

    def _execute(self, account: str, region: str, sch: schedules.Schedule, scheduled) -> dict:
        backend = sagemaker_backends[account][region]
        found = schedules.job_definition(backend, sch.config)
        if found is None:
            name = sch.config.get("MonitoringJobDefinitionName")
            return self._fail(
                account, region, sch, scheduled, f"Job definition {name} does not exist"
            )
        _, definition = found
        ep_input = schedules.endpoint_input(definition) or {}
        endpoint_name = ep_input.get("EndpointName") or sch.endpoint_name
        endpoint = backend.endpoints.get(endpoint_name or "")
        dest = ((endpoint.data_capture_config or {}).get("DestinationS3Uri")) if endpoint else None
        start, end = analysis_window(sch, ep_input, scheduled)
        STATE.flush()  # every captured record is in S3 before the window is read
        hours = capture_hours(account, dest, endpoint_name, start, end) if dest else []
        if not hours:
            return self._fail(account, region, sch, scheduled, NO_DATA)
        request = build_execution(
            sch=sch,
            definition=definition,
            endpoint=endpoint_name,
            dest=dest,
            hours=hours,
            scheduled=scheduled,
            start=start,
            end=end,
        )
        name = request["ProcessingJobName"]
        if name in backend.processing_jobs:  # already ran (e.g. schedule re-created)
            job = backend.processing_jobs[name]
        else:
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
        running = self._summary(sch, scheduled, "InProgress", arn=job.arn)
        record = schedules.record_execution(account, region, sch.name, running)
        from mmutils.emulator.processing import RUNTIME

        if job.processing_job_status == "InProgress":
            RUNTIME.run(account, region, name)
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
        record = schedules.record_execution(account, region, sch.name, final)
        return self._report(sch, scheduled, record, name)

    # --------------------------------------------------------------------------- background
    def start(self) -> None:
        """Check for due executions every few seconds (real time, and ``NOW`` schedules)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="mmlab-scheduler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.check_interval):
            try:
                self.run_due()
            except Exception:  # noqa: BLE001 - keep scheduling
                traceback.print_exc(file=sys.stderr)

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
