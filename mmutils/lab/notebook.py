"""What the lab notebooks share besides the SDK: resource names, the clock, prerequisites,
waiting, cleanup.

Everything AWS-facing goes through the connected session (:func:`mmutils.connect`); the
notebooks call the SageMaker SDK directly and these helpers only for the bookkeeping around it.
This module imports nothing heavy: ``from mmutils import lab`` stays fast.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import re
import time
from dataclasses import dataclass

from mmutils.errors import MMLabError
from mmutils.formats import s3uri
from mmutils.lab.paging import paged

#: The SageMaker XGBoost container version the lab deploys.
XGBOOST_VERSION = "1.7-1"
#: Instance type for endpoints and monitoring jobs (the emulator accepts moto's list).
INSTANCE_TYPE = "ml.m5.xlarge"
#: The error codes SageMaker answers for a resource that does not exist (``DescribeEndpoint``,
#: ``DeleteModel``… say ``ValidationException``; ``DescribeMonitoringSchedule`` says
#: ``ResourceNotFound``).
_SAGEMAKER_MISSING = frozenset({"ValidationException", "ResourceNotFound"})
#: The error codes S3's ``HeadObject`` answers for a missing object or bucket.
_S3_MISSING = frozenset({"404", "NoSuchKey", "NoSuchBucket", "NotFound"})


#: The tag every live resource of the lab carries (value: :data:`LAB_TAG_VALUE`).
LAB_TAG = "mmlab:lab"
LAB_TAG_VALUE = "model-monitor"
#: The tag naming the ``PREFIX`` a resource belongs to (what ``mmlab cleanup --prefix`` matches).
PREFIX_TAG = "mmlab:prefix"
#: The prefix on the emulator when ``PREFIX`` is left empty.
DEFAULT_PREFIX = "mmlab"


class PrerequisiteError(MMLabError, RuntimeError):
    """A notebook was run before the notebook it builds on (the message says which to run)."""


class NothingCapturedError(MMLabError, RuntimeError):
    """The capture folder is empty: no request was sent (or, on AWS, none delivered yet)."""


@dataclass(frozen=True)
class LabNames:
    """Every name and S3 location of one lab run, derived from the ``PREFIX`` parameter.

    Attributes:
        prefix: the notebooks' ``PREFIX`` parameter.
        bucket: the bucket every S3 location lives in.
    """

    prefix: str
    bucket: str

    @property
    def model(self) -> str:
        """The SageMaker model."""
        return f"{self.prefix}-xgb-churn"

    @property
    def endpoint(self) -> str:
        """The endpoint (and its endpoint config)."""
        return f"{self.prefix}-xgb-churn-endpoint"

    @property
    def baseline_job(self) -> str:
        """The baselining job."""
        return f"{self.prefix}-baseline-job"

    @property
    def schedule(self) -> str:
        """The data-quality monitoring schedule."""
        return f"{self.prefix}-data-quality-schedule"

    def s3(self, *parts: str) -> str:
        """``s3://{bucket}/{prefix}/{parts…}``."""
        return s3uri.join(s3uri.uri(self.bucket), self.prefix, *parts)

    @property
    def model_uri(self) -> str:
        """Where ``model.tar.gz`` is uploaded."""
        return self.s3("model", "model.tar.gz")

    @property
    def capture_uri(self) -> str:
        """The data-capture destination."""
        return self.s3("datacapture")

    @property
    def baseline_data_uri(self) -> str:
        """Where the baseline dataset is uploaded."""
        return self.s3("baselining", "data")

    @property
    def baseline_results_uri(self) -> str:
        """Where the baselining job writes statistics and constraints."""
        return self.s3("baselining", "results")

    @property
    def reports_uri(self) -> str:
        """Where the monitoring executions write their reports."""
        return self.s3("reports")

    @property
    def code_uri(self) -> str:
        """Where the record pre-processor and post-analytics scripts are uploaded."""
        return self.s3("code")

    # notebook 05 (model quality) keeps its own endpoint, schedules and S3 folder

    @property
    def mq_model(self) -> str:
        """Notebook 05's SageMaker model."""
        return f"{self.prefix}-mq-xgb-churn"

    @property
    def mq_endpoint(self) -> str:
        """Notebook 05's endpoint (and endpoint config)."""
        return f"{self.prefix}-mq-xgb-churn-endpoint"

    @property
    def mq_schedule(self) -> str:
        """Notebook 05's model-quality monitoring schedule."""
        return f"{self.prefix}-mq-model-quality-schedule"

    @property
    def mq_data_quality_schedule(self) -> str:
        """Notebook 05's data-quality schedule (on the same endpoint, to compare)."""
        return f"{self.prefix}-mq-data-quality-schedule"

    @property
    def mq_uri(self) -> str:
        """Notebook 05's S3 folder: its capture, ground truth, baseline and reports."""
        return self.s3("model-quality")

    @property
    def mq_reports_uri(self) -> str:
        """Where notebook 05's model-quality executions write their reports."""
        return self.s3("model-quality", "reports")

    @property
    def mq_data_quality_reports_uri(self) -> str:
        """Where notebook 05's data-quality executions write their reports."""
        return self.s3("model-quality", "data-quality-reports")


def names(prefix: str, bucket: str) -> LabNames:
    """The lab's resource names for ``prefix`` in ``bucket``."""
    return LabNames(prefix=prefix, bucket=bucket)


def resolve_prefix(prefix: str, session) -> str:
    """The ``PREFIX`` to use: the parameter, or a default unique per attendee when it is empty.

    On the emulator the default is ``"mmlab"`` (one attendee per emulator). On a live account,
    where a workshop's attendees may share one account, it is ``"mmlab-<who>"``: ``<who>`` is the
    caller's session or user name from ``sts:GetCallerIdentity`` (e.g. the SSO user of an
    assumed role), else the local user name, lower-cased to letters, digits and ``-``.

    Args:
        prefix: the notebook's ``PREFIX`` parameter.
        session: the connected session (:func:`mmutils.connect`).
    """
    if prefix:
        return prefix
    if getattr(session, "emulator", None) is not None or session.backend != "live":
        return DEFAULT_PREFIX
    who = ""
    with contextlib.suppress(Exception):  # a missing permission must not stop the lab
        arn = session.client("sts").get_caller_identity()["Arn"]
        who = arn.rsplit("/", 1)[-1]
    who = who or getpass.getuser()
    slug = re.sub(r"[^a-z0-9]+", "-", who.lower()).strip("-")[:24].strip("-")
    return f"{DEFAULT_PREFIX}-{slug}" if slug else DEFAULT_PREFIX


def lab_tags(prefix: str) -> list[dict]:
    """The tags every resource of the lab carries: the lab, and its ``PREFIX``.

    ``mmlab cleanup --prefix P`` deletes what carries ``mmlab:prefix = P`` and nothing else.
    """
    return [{"Key": LAB_TAG, "Value": LAB_TAG_VALUE}, {"Key": PREFIX_TAG, "Value": prefix}]


def unique_job_name(sagemaker_client, base: str) -> str:
    """``{base}-{n}``: the first processing-job name of that form no job has taken yet.

    SageMaker job names must be unique in an account and region, forever. This numbers them,
    so a notebook can run again (and the emulator's names stay the same run after run), without
    depending on the clock having moved.

    Args:
        sagemaker_client: a boto3 SageMaker client.
        base: the name without the number (at most 58 characters).
    """
    taken = set()
    token = None
    while True:
        kwargs = {"NameContains": base, "MaxResults": 100}
        if token:
            kwargs["NextToken"] = token
        page = sagemaker_client.list_processing_jobs(**kwargs)
        for job in page.get("ProcessingJobSummaries", []):
            match = re.fullmatch(re.escape(base) + r"-(\d+)", job["ProcessingJobName"])
            if match:
                taken.add(int(match.group(1)))
        token = page.get("NextToken")
        if not token:
            break
    n = 1
    while n in taken:
        n += 1
    return f"{base}-{n}"


def start_clock(session, start_time: str) -> str:
    """On the emulator, move the clock to ``start_time`` unless it is already past it; freeze it.

    Notebooks run in order share one emulator, so only the first one moves the clock back to the
    lab's start; the later ones carry on from where the previous notebook left it. On a live
    account this does nothing: AWS runs on real time.

    Args:
        session: the connected session (:func:`mmutils.connect`).
        start_time: ISO text, e.g. ``"2026-01-05T09:00:00Z"``.

    Returns:
        The emulator time after the call (ISO text), or the real UTC time on a live account.
    """
    emulator = getattr(session, "emulator", None)
    if emulator is None:
        return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    state = emulator.clock()
    was_real = state.get("mode") == "real"
    # the lab's outputs are committed: its clock stands still between moves (deterministic
    # times); frozen first, so no real time slips in between the set and the freeze
    if state.get("mode") != "frozen":
        state = emulator.freeze_clock()
    if was_real or _parse_iso(state["now"]) < _parse_iso(start_time):
        state = emulator.set_clock(start_time)
    return state["now"]


def _parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def timestamp(session) -> str:
    """``YYYY-MM-DD-HH-MM-SS`` of the session's clock (the emulator's, or real UTC on AWS).

    Job names must be unique on AWS; deriving them from the emulator clock keeps them unique
    there and deterministic on the emulator.
    """
    emulator = getattr(session, "emulator", None)
    now = _parse_iso(emulator.clock()["now"]) if emulator is not None else dt.datetime.now(dt.UTC)
    return now.strftime("%Y-%m-%d-%H-%M-%S")


# --------------------------------------------------------------------------- error codes


def _error_code(exc: Exception) -> str:
    """The ``Error.Code`` of a botocore ``ClientError``."""
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _is_missing(exc: Exception) -> bool:
    """True when a SageMaker ``ClientError`` says the resource does not exist."""
    return _error_code(exc) in _SAGEMAKER_MISSING


# --------------------------------------------------------------------------- prerequisites


def endpoint_exists(sagemaker_client, name: str) -> bool:
    """True when the endpoint exists (in any status).

    Raises:
        botocore.exceptions.ClientError: any error but "does not exist" (e.g. AccessDenied).
    """
    try:
        sagemaker_client.describe_endpoint(EndpointName=name)
    except sagemaker_client.exceptions.ClientError as exc:
        if _is_missing(exc):
            return False
        raise
    return True


def require_endpoint(sagemaker_client, name: str) -> None:
    """Stop with a clear message when notebook 01 has not deployed the endpoint.

    Raises:
        PrerequisiteError: the endpoint does not exist.
    """
    if not endpoint_exists(sagemaker_client, name):
        raise PrerequisiteError(
            f"The endpoint {name!r} does not exist. Run notebooks/01_capture.ipynb first "
            "(with the same PREFIX and BACKEND)."
        )


def require_s3_object(s3_client, uri: str, notebook: str) -> None:
    """Stop with a clear message when an S3 object a previous notebook writes is missing.

    Raises:
        PrerequisiteError: the object (or its bucket) does not exist.
        botocore.exceptions.ClientError: any other error (e.g. AccessDenied).
    """
    bucket, key = s3uri.split(uri)
    try:
        s3_client.head_object(Bucket=bucket, Key=key)
    except s3_client.exceptions.ClientError as exc:
        if _error_code(exc) not in _S3_MISSING:
            raise
        raise PrerequisiteError(
            f"{uri} is missing. Run notebooks/{notebook} first (with the same PREFIX and BACKEND)."
        ) from exc


def schedule_exists(sagemaker_client, name: str) -> bool:
    """True when the monitoring schedule exists (in any status).

    Raises:
        botocore.exceptions.ClientError: any error but "does not exist" (e.g. AccessDenied).
    """
    try:
        sagemaker_client.describe_monitoring_schedule(MonitoringScheduleName=name)
    except sagemaker_client.exceptions.ClientError as exc:
        if _is_missing(exc):
            return False
        raise
    return True


def require_schedule(sagemaker_client, name: str) -> dict:
    """The schedule's description; stops with a clear message when notebook 03 has not run.

    Raises:
        PrerequisiteError: the schedule does not exist.
        botocore.exceptions.ClientError: any other error (e.g. AccessDenied).
    """
    try:
        return sagemaker_client.describe_monitoring_schedule(MonitoringScheduleName=name)
    except sagemaker_client.exceptions.ClientError as exc:
        if not _is_missing(exc):
            raise
        raise PrerequisiteError(
            f"The monitoring schedule {name!r} does not exist. Run notebooks/03_schedule.ipynb "
            "first (with the same PREFIX and BACKEND)."
        ) from exc


# --------------------------------------------------------------------------- waiting


def wait_for_next_execution(
    monitor, session, *, timeout_minutes: float = 90, poll_seconds: int = 60
):
    """Wait until the schedule has run once more, and return the newest execution.

    On the emulator the clock jumps to the next full hour, which runs the due execution at once.
    On AWS executions start at the top of the hour plus a buffer of 0-20 minutes, so this polls
    (bounded by ``timeout_minutes``).

    Args:
        monitor: the ``DefaultModelMonitor`` that owns the schedule.
        session: the connected session (:func:`mmutils.connect`).
        timeout_minutes: how long to wait on a live account.
        poll_seconds: how often to ask on a live account.

    Returns:
        The newest ``MonitoringExecution``.

    Raises:
        RuntimeError: the emulator ran no execution at the top of the hour.
        TimeoutError: no new execution on AWS within ``timeout_minutes``.
    """
    client = monitor.sagemaker_session.sagemaker_client
    name = monitor.monitoring_schedule_name

    def count() -> int:  # (monitor.list_executions() warns while there are none)
        listed = paged(
            client.list_monitoring_executions,
            "MonitoringExecutionSummaries",
            MonitoringScheduleName=name,
            MaxResults=100,
        )
        return sum(1 for _ in listed)

    before = count()
    emulator = getattr(session, "emulator", None)
    if emulator is not None:
        emulator.advance_to_next_hour()
        if count() <= before:
            raise RuntimeError("the emulator ran no execution at the top of the hour")
        return monitor.list_executions()[-1]
    print(
        "Waiting for the next hourly execution: AWS starts it at the top of the hour plus a "
        f"buffer of 0-20 minutes (giving up after {timeout_minutes:.0f} minutes)."
    )
    deadline = time.monotonic() + timeout_minutes * 60
    while time.monotonic() < deadline:
        if count() > before:
            latest = monitor.list_executions()[-1]
            status = latest.describe()["ProcessingJobStatus"]
            if status in ("Completed", "Failed", "Stopped"):
                return latest
        time.sleep(poll_seconds)
    raise TimeoutError(f"no new execution within {timeout_minutes} minutes")


def wait_for_processing_job(
    session, name: str, *, timeout_minutes: float = 60, poll_seconds: float = 30
) -> dict:
    """Wait until a processing job ends, quietly, and return its description.

    The SDK's own wait prints a dot per poll (a different number each run); this prints one
    line on AWS, where a job takes minutes, and nothing on the emulator, where it takes seconds.
    A kernel interrupt stops the waiting (not the job).

    Args:
        session: the connected session (:func:`mmutils.connect`).
        name: the processing job's name.
        timeout_minutes: give up after this long.
        poll_seconds: live only: how often to ask (the emulator is asked every 0.2 s).

    Returns:
        ``DescribeProcessingJob``'s answer once the status is Completed, Failed or Stopped.

    Raises:
        TimeoutError: the job did not end within ``timeout_minutes``.
    """
    sm = session.client("sagemaker")
    on_emulator = getattr(session, "emulator", None) is not None
    if not on_emulator:
        print(
            f"Waiting for {name}: on AWS a processing job takes about 5 minutes (it starts an "
            f"instance first); checking every {poll_seconds:.0f} s, interrupt to stop waiting."
        )
    deadline = time.monotonic() + timeout_minutes * 60
    while True:
        desc = sm.describe_processing_job(ProcessingJobName=name)
        if desc["ProcessingJobStatus"] in ("Completed", "Failed", "Stopped"):
            return desc
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{name} still {desc['ProcessingJobStatus']} after {timeout_minutes} minutes"
            )
        time.sleep(0.2 if on_emulator else poll_seconds)


def wait_for_capture_files(session, uri: str, *, timeout_minutes: float = 10) -> list[str]:
    """The capture files under ``uri``; on AWS, waits while none has arrived yet.

    The emulator writes capture files as the requests arrive, so there it does not wait: an
    empty folder means no request was sent. AWS delivers the files a few minutes after the
    requests, so there it polls (every 20 s, at most ``timeout_minutes``; a kernel interrupt
    stops it).

    Args:
        session: the connected session (:func:`mmutils.connect`).
        uri: the endpoint's capture folder (``{capture_uri}/{endpoint}``).
        timeout_minutes: live only: how long to wait for the first file.

    Returns:
        The capture files' S3 URIs, sorted.

    Raises:
        NothingCapturedError: no file (on AWS: none within ``timeout_minutes``).
    """
    bucket, key = s3uri.split(uri)
    s3 = session.client("s3")

    def listing() -> list[str]:
        out = []
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=key.rstrip("/") + "/"
        ):
            out += [s3uri.uri(bucket, obj["Key"]) for obj in page.get("Contents", [])]
        return sorted(out)

    files = listing()
    if files:
        return files
    if getattr(session, "emulator", None) is not None:
        raise NothingCapturedError(
            f"No capture file under {uri}: the emulator writes them as requests arrive, so no "
            "request reached the endpoint. Run the traffic cell (Step 4) first."
        )
    print(
        "No capture file yet: AWS delivers them a few minutes after the requests. Waiting "
        f"(checking every 20 s, at most {timeout_minutes:.0f} minutes; interrupt to stop)…"
    )
    deadline = time.monotonic() + timeout_minutes * 60
    while time.monotonic() < deadline:
        time.sleep(20)
        files = listing()
        if files:
            return files
    raise NothingCapturedError(
        f"No capture file under {uri} after {timeout_minutes:.0f} minutes. Check that the "
        "traffic cell sent requests without errors, and that capture is enabled on the endpoint."
    )


# --------------------------------------------------------------------------- versions


def versions(backend: str | None = None) -> str:
    """The versions that matter for the lab, one per line (a notebook's last cell prints them).

    Args:
        backend: the notebook's ``BACKEND``, shown first when given.
    """
    import platform
    from importlib import metadata

    lines = [f"backend  : {backend}"] if backend else []
    lines.append(f"python   : {platform.python_version()}")
    # (label, distributions that provide it: the CPU-only XGBoost wheel is "xgboost-cpu")
    for label, dists in (
        ("mmlab", ("mmlab",)),
        ("sagemaker", ("sagemaker",)),
        ("boto3", ("boto3",)),
        ("moto", ("moto",)),
        ("pandas", ("pandas",)),
        ("xgboost", ("xgboost", "xgboost-cpu")),
    ):
        for dist in dists:
            try:
                lines.append(f"{label:<9}: {metadata.version(dist)}")
                break
            except metadata.PackageNotFoundError:
                continue
    return "\n".join(lines)


# --------------------------------------------------------------------------- cleanup


def delete_schedule_if_exists(sagemaker_client, name: str) -> bool:
    """Stop and delete a monitoring schedule when it exists.

    Returns:
        True when one was deleted, False when there was none.

    Raises:
        botocore.exceptions.ClientError: any error but "does not exist" (e.g. AccessDenied).
    """
    errors = sagemaker_client.exceptions
    try:
        sagemaker_client.describe_monitoring_schedule(MonitoringScheduleName=name)
    except errors.ClientError as exc:
        if _is_missing(exc):
            return False
        raise
    try:  # a stopped (or vanished) schedule answers ValidationException / ResourceNotFound
        sagemaker_client.stop_monitoring_schedule(MonitoringScheduleName=name)
    except errors.ClientError as exc:
        if not _is_missing(exc):
            raise
    sagemaker_client.delete_monitoring_schedule(MonitoringScheduleName=name)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # AWS deletes asynchronously
        try:
            sagemaker_client.describe_monitoring_schedule(MonitoringScheduleName=name)
        except errors.ClientError as exc:
            if _is_missing(exc):
                return True
            raise
        time.sleep(5)
    return True


def delete_endpoint_if_exists(sagemaker_client, endpoint: str, model: str) -> list[str]:
    """Delete the endpoint, its endpoint config and the model when they exist.

    Returns:
        What was deleted, e.g. ``["endpoint mmlab-xgb-churn-endpoint", …]``.

    Raises:
        botocore.exceptions.ClientError: any error but "does not exist" (e.g. AccessDenied).
    """
    errors = sagemaker_client.exceptions
    deleted = []
    config = None
    try:
        config = sagemaker_client.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    except errors.ClientError as exc:
        if not _is_missing(exc):
            raise
    else:
        sagemaker_client.delete_endpoint(EndpointName=endpoint)
        deleted.append(f"endpoint {endpoint}")
    for cfg in {config, endpoint, model} - {None}:
        with _unless_missing(errors):
            sagemaker_client.delete_endpoint_config(EndpointConfigName=cfg)
            deleted.append(f"endpoint config {cfg}")
    with _unless_missing(errors):
        sagemaker_client.delete_model(ModelName=model)
        deleted.append(f"model {model}")
    return deleted


@contextlib.contextmanager
def _unless_missing(errors):
    """Suppress a SageMaker ``ClientError`` that says "does not exist"; re-raise any other."""
    try:
        yield
    except errors.ClientError as exc:
        if not _is_missing(exc):
            raise
