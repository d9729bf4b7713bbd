"""The one place that builds AWS sessions and clients for the lab: ``connect()`` → :class:`Lab`.

``connect("moto")`` starts (or attaches to) the local emulator and returns sessions that cannot
reach AWS, by construction:

- every client and resource of :class:`EmulatorBotoSession` is pinned to the emulator's
  127.0.0.1 URL, even when the caller passes its own ``endpoint_url`` (the SageMaker SDK builds
  its STS clients with ``https://sts.<region>.amazonaws.com``); proxies from the environment are
  ignored; credentials are dummy/emulated ones set on the session, never read from the
  environment, ``AWS_PROFILE`` or ``~/.aws``;
- the process is pointed at the emulator too, so the plain SDK calls a notebook makes
  (``sagemaker.Session()``, ``sagemaker.get_execution_role()``, ``boto3.client("s3")``) work
  and stay local: ``boto3.DEFAULT_SESSION`` becomes the lab's pinned session, ``os.environ``
  gets the variables of :func:`mmutils.emulator.lifecycle.env_vars` (with the emulated role's
  credentials) and the SDK's STS endpoint helper answers the emulator's URL;
- ``get_execution_role()`` returns the emulated ``SageMakerRole``: the session's credentials
  come from ``sts:AssumeRole`` on that role in the emulator's IAM;
- SageMaker SDK waits poll every 0.2 s instead of sleeping 30 s first, for every SDK session
  whose SageMaker client talks to a loopback endpoint; the SDK's telemetry (an HTTP GET to
  ``amazonaws.com`` without a timeout) is dropped for those sessions; the lab's session carries
  an in-memory SDK config so no config file is read or re-validated on every lookup.

``connect("live")`` uses the standard credential chain and never starts the emulator;
``connect("live")`` after ``connect("moto")`` in the same process undoes the process changes.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import json
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import boto3
import botocore.config
import botocore.session
from botocore.configprovider import ConstantProvider

from mmutils.emulator import lifecycle
from mmutils.emulator.client import EmulatorClient

BACKENDS = ("moto", "live")
#: moto's account: every emulated ARN lives here
ACCOUNT_ID = "123456789012"
ROLE_NAME = "SageMakerRole"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/{ROLE_NAME}"
#: SDK poll interval against the emulator (the SDK's own defaults are 5-30 s, slept up front)
FAST_POLL = 0.2
_TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
# proxies={} (not None) stops botocore from reading HTTP(S)_PROXY for the loopback endpoint
_NO_PROXY = botocore.config.Config(proxies={})
# an in-memory SDK config: truthy (so no config file is loaded) and valid; emptied after init
_SDK_CONFIG = {"SchemaVersion": "1.0"}


def is_loopback_url(url: str | None) -> bool:
    """True for ``http(s)://127.x.x.x``/``[::1]``/``localhost`` URLs."""
    if not url:
        return False
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _isolated_botocore_session(region: str) -> botocore.session.Session:
    """A botocore session that ignores profiles, shared config files and the instance metadata."""
    session = botocore.session.Session()
    store = session.get_component("config_store")
    for name, value in {
        "profile": None,
        "config_file": os.devnull,
        "credentials_file": os.devnull,
        "region": region,
        "max_attempts": int(lifecycle.MAX_ATTEMPTS),
        "ignore_configured_endpoint_urls": True,
        "ec2_metadata_service_endpoint": "http://127.0.0.1:1",  # never 169.254.169.254
    }.items():
        store.set_config_provider(name, ConstantProvider(value))
    return session


class EmulatorBotoSession(boto3.Session):
    """A ``boto3.Session`` whose every client and resource talks to the emulator only.

    Args:
        endpoint_url: the emulator's loopback URL.
        region_name: the emulated region.
        aws_access_key_id: emulated credentials (default: dummy ``testing``).
        aws_secret_access_key: idem.
        aws_session_token: idem.

    Raises:
        ValueError: ``endpoint_url`` is not a loopback URL.
    """

    def __init__(
        self,
        endpoint_url: str,
        region_name: str = lifecycle.DEFAULT_REGION,
        aws_access_key_id: str = lifecycle.DUMMY_CREDENTIAL,
        aws_secret_access_key: str = lifecycle.DUMMY_CREDENTIAL,
        aws_session_token: str = lifecycle.DUMMY_CREDENTIAL,
    ):
        if not is_loopback_url(endpoint_url):
            raise ValueError(f"the emulator endpoint must be a loopback URL, not {endpoint_url!r}")
        super().__init__(
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            aws_session_token=aws_session_token,
            region_name=region_name,
            botocore_session=_isolated_botocore_session(region_name),
        )
        self.emulator_endpoint_url = endpoint_url

    def client(self, service_name, *args, **kwargs):
        """``boto3.Session.client``, always at the emulator (any ``endpoint_url`` is replaced)."""
        names = ("region_name", "api_version", "use_ssl", "verify", "endpoint_url")
        kwargs.update(zip(names, args, strict=False))
        if len(args) > len(names):
            raise TypeError("pass client() options after endpoint_url by keyword")
        kwargs["endpoint_url"] = self.emulator_endpoint_url  # whatever the caller asked for
        config = kwargs.get("config")
        kwargs["config"] = config.merge(_NO_PROXY) if config is not None else _NO_PROXY
        return super().client(service_name, **kwargs)

    def resource(self, service_name, *args, **kwargs):
        """``boto3.Session.resource``, always at the emulator."""
        names = ("region_name", "api_version", "use_ssl", "verify", "endpoint_url")
        kwargs.update(zip(names, args, strict=False))
        kwargs["endpoint_url"] = self.emulator_endpoint_url
        return super().resource(service_name, **kwargs)


@dataclass(eq=False)
class Lab:
    """What a notebook needs to talk to one backend.

    Attributes:
        backend: ``"moto"`` or ``"live"``.
        region: the AWS region.
        endpoint_url: the emulator URL (None for live).
        boto_session: the boto3 session every client comes from.
        sagemaker_session: a ``sagemaker.Session`` on ``boto_session``.
        role: the SageMaker execution role ARN.
        emulator: an ``EmulatorClient`` for the emulator's admin API (None for live).
    """

    backend: str
    region: str
    endpoint_url: str | None
    boto_session: Any
    sagemaker_session: Any
    role: str
    emulator: Any = None
    _bucket: str | None = field(default=None, repr=False)

    @property
    def bucket(self) -> str:
        """The SDK's default bucket (``sagemaker-<region>-<account>``), created when missing."""
        if self._bucket is None:
            self._bucket = self.sagemaker_session.default_bucket()
        return self._bucket

    def client(self, name: str, **kwargs):
        """A boto3 client of this backend (``lab.client("s3")``)."""
        return self.boto_session.client(name, **kwargs)

    def resource(self, name: str, **kwargs):
        """A boto3 resource of this backend (``lab.resource("s3")``)."""
        return self.boto_session.resource(name, **kwargs)

    def __repr__(self) -> str:
        where = self.endpoint_url or "AWS"
        return f"Lab(backend={self.backend!r}, region={self.region!r}, at={where!r}, role={self.role!r})"


def boto_session(backend: str = "live", region: str | None = None) -> boto3.Session:
    """A plain boto3 session for a backend, without the SageMaker SDK or any process-wide change.

    Args:
        backend: ``"moto"``: pinned to the running emulator of ``$MMLAB_HOME`` with dummy
            credentials (it must be running); ``"live"``: boto3's default credential chain
            (which also honours ``AWS_ENDPOINT_URL``).
        region: the region (default: the emulator's, or boto3's configured one).
    """
    if backend == "moto":
        info = lifecycle.require_running()
        return EmulatorBotoSession(info.endpoint_url, region or lifecycle.DEFAULT_REGION)
    if backend == "live":
        return boto3.Session(region_name=region)
    raise ValueError(f"backend must be 'moto' or 'live', not {backend!r}")


def connect(
    backend: str = "moto",
    region: str = lifecycle.DEFAULT_REGION,
    *,
    start: bool = True,
    seed: int | None = None,
) -> Lab:
    """Connect to a backend and return the lab's sessions.

    Args:
        backend: ``"moto"`` (the local emulator) or ``"live"`` (a real AWS account).
        region: the AWS region.
        start: moto only: start the emulator when none is running (else fail).
        seed: moto only: make the emulator's ids (event ids, file names, sampling) deterministic.

    Returns:
        A :class:`Lab`. In moto mode the process is also pointed at the emulator (see the module
        docstring), so plain ``sagemaker.Session()`` / ``get_execution_role()`` work.

    Raises:
        ValueError: unknown backend.
        mmutils.emulator.lifecycle.EmulatorError: moto mode with ``start=False`` and no emulator.
    """
    if backend == "moto":
        return _connect_moto(region, start=start, seed=seed)
    if backend == "live":
        _PATCHES.revert()
        return _connect_live(region)
    raise ValueError(f"unknown backend {backend!r}; use one of {BACKENDS}")


# --------------------------------------------------------------------------- live


def _connect_live(region: str) -> Lab:
    import sagemaker

    boto_session = boto3.Session(region_name=region)
    sagemaker_session = sagemaker.Session(boto_session=boto_session)
    role = os.environ.get("SAGEMAKER_ROLE_ARN") or sagemaker.get_execution_role(sagemaker_session)
    return Lab("live", region, None, boto_session, sagemaker_session, role)


# --------------------------------------------------------------------------- moto


def _assume_lab_role(endpoint_url: str, region: str) -> dict:
    """Create ``SageMakerRole`` in the emulator's IAM if missing; credentials of that role."""
    base = EmulatorBotoSession(endpoint_url, region)
    iam = base.client("iam")
    try:
        iam.get_role(RoleName=ROLE_NAME)
    except iam.exceptions.NoSuchEntityException:
        with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
            iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=_TRUST_POLICY)
    answer = base.client("sts").assume_role(RoleArn=ROLE_ARN, RoleSessionName="mmlab")
    return answer["Credentials"]


def emulator_sagemaker_session(boto_session: EmulatorBotoSession):
    """A ``sagemaker.Session`` on an emulator session, with an in-memory (empty) SDK config.

    No SDK config file is read (they could name real resources, and v2 re-validates a loaded
    config on every lookup, about 4 s per call).
    """
    import sagemaker

    session = sagemaker.Session(boto_session=boto_session, sagemaker_config=dict(_SDK_CONFIG))
    session.sagemaker_config = {}
    return session


def _connect_moto(region: str, *, start: bool, seed: int | None) -> Lab:
    info = lifecycle.start() if start else lifecycle.require_running()
    url = info.endpoint_url
    creds = _assume_lab_role(url, region)
    boto_session = EmulatorBotoSession(
        url, region, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    env = lifecycle.env_vars(info, region)
    env.update(
        AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
        AWS_SESSION_TOKEN=creds["SessionToken"],
    )
    _PATCHES.apply(url, env, boto_session)
    sagemaker_session = emulator_sagemaker_session(boto_session)
    emulator = EmulatorClient(url)
    if seed is not None:
        emulator.seed(seed)
    lab = Lab("moto", region, url, boto_session, sagemaker_session, ROLE_ARN, emulator)
    lab.bucket  # noqa: B018 - create the default bucket now: the first cell shows it exists
    return lab


# --------------------------------------------------------------------------- process patches


def _talks_to_emulator(sagemaker_session: Any) -> bool:
    client = getattr(sagemaker_session, "sagemaker_client", None)
    return is_loopback_url(getattr(getattr(client, "meta", None), "endpoint_url", None))


def _fast_wait_for_endpoint(original):
    @functools.wraps(original)
    def wait_for_endpoint(self, endpoint, poll=None, live_logging=False, **kwargs):
        if _talks_to_emulator(self):
            return original(self, endpoint, poll=FAST_POLL, live_logging=False, **kwargs)
        if poll is not None:
            kwargs["poll"] = poll
        return original(self, endpoint, live_logging=live_logging, **kwargs)

    return wait_for_endpoint


def _fast_wait_for_processing_job(original):
    @functools.wraps(original)
    def wait_for_processing_job(self, job, poll=5):
        return original(self, job, poll=FAST_POLL if _talks_to_emulator(self) else poll)

    return wait_for_processing_job


def _fast_logs_for_processing_job(original):
    @functools.wraps(original)
    def logs_for_processing_job(self, job_name, wait=False, poll=10):
        if not _talks_to_emulator(self):
            return original(self, job_name, wait=wait, poll=poll)
        if wait:
            # the SDK re-describes a tailing job only every 30 s; wait here, then print the logs
            # of the finished job (and raise on failure) through the SDK's own code
            client = self.sagemaker_client
            while True:
                desc = client.describe_processing_job(ProcessingJobName=job_name)
                if desc["ProcessingJobStatus"] in ("Completed", "Failed", "Stopped"):
                    break
                time.sleep(FAST_POLL)
        return original(self, job_name, wait=wait, poll=FAST_POLL)

    return logs_for_processing_job


def _fast_schedule_wait(original):
    @functools.wraps(original)
    def _wait_for_schedule_changes_to_apply(self):
        if not _talks_to_emulator(self.sagemaker_session):
            return original(self)
        deadline = time.monotonic() + 180
        while self.describe_schedule()["MonitoringScheduleStatus"] == "Pending":
            if time.monotonic() > deadline:
                raise TimeoutError("monitoring schedule still 'Pending' after 180 s")
            time.sleep(FAST_POLL)
        return None

    return _wait_for_schedule_changes_to_apply


def _quiet_telemetry(original):
    @functools.wraps(original)
    def _send_telemetry_request(status, feature_list, session, *args, **kwargs):
        if session is None or _talks_to_emulator(session):
            return None  # moto mode: no request to amazonaws.com, and no stall on one
        return original(status, feature_list, session, *args, **kwargs)

    return _send_telemetry_request


class _ProcessPatches:
    """Moto mode's changes to this process (environment, boto3 default session, SDK helpers).

    Applied by ``connect("moto")`` (again on every call, with the new session) and undone by
    ``connect("live")``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._saved_env: dict[str, str | None] | None = None
        self._saved_default_session: Any = None
        self._originals: list[tuple[Any, str, Any]] = []
        self.endpoint_url: str | None = None

    def apply(self, endpoint_url: str, env: dict[str, str | None], default_session: Any) -> None:
        with self._lock:
            if self._saved_env is None:
                self._saved_env = {k: os.environ.get(k) for k in env}
                self._saved_default_session = boto3.DEFAULT_SESSION
            _set_environ(env)
            boto3.DEFAULT_SESSION = default_session
            self.endpoint_url = endpoint_url
            if not self._originals:
                self._patch_sdk()

    def _patch(self, owner: Any, name: str, wrapper) -> None:
        original = getattr(owner, name)
        self._originals.append((owner, name, original))
        setattr(owner, name, wrapper(original))

    def _patch_sdk(self) -> None:
        import sagemaker.session as sm_session
        import sagemaker.telemetry.telemetry_logging as telemetry
        from sagemaker.model_monitor import model_monitoring

        self._patch(sm_session.Session, "wait_for_endpoint", _fast_wait_for_endpoint)
        self._patch(sm_session.Session, "wait_for_processing_job", _fast_wait_for_processing_job)
        self._patch(sm_session.Session, "logs_for_processing_job", _fast_logs_for_processing_job)
        self._patch(
            model_monitoring.ModelMonitor,
            "_wait_for_schedule_changes_to_apply",
            _fast_schedule_wait,
        )
        self._patch(telemetry, "_send_telemetry_request", _quiet_telemetry)
        # the SDK builds STS clients with https://sts.<region>.amazonaws.com; any session in
        # this process (not only the lab's pinned one) must ask the emulator instead
        self._patch(sm_session, "sts_regional_endpoint", lambda original: self._sts_endpoint)

    def _sts_endpoint(self, region: str) -> str:
        return self.endpoint_url or "http://127.0.0.1:1"

    def revert(self) -> None:
        with self._lock:
            for owner, name, original in reversed(self._originals):
                setattr(owner, name, original)
            self._originals.clear()
            if self._saved_env is not None:
                _set_environ(self._saved_env)
                boto3.DEFAULT_SESSION = self._saved_default_session
            self._saved_env = None
            self._saved_default_session = None
            self.endpoint_url = None


def _set_environ(env: dict[str, str | None]) -> None:
    for key, value in env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


_PATCHES = _ProcessPatches()
