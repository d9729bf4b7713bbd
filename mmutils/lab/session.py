"""The one place that builds AWS sessions and clients for the lab: ``connect()`` → :class:`LabSession`.

``connect("moto")`` starts (or attaches to) the local emulator and returns sessions that cannot
reach AWS, by construction:

- every client and resource of :class:`EmulatorBotoSession` is pinned to the emulator's
  127.0.0.1 URL, even when the caller passes its own ``endpoint_url`` (the SageMaker SDK builds
  its STS clients with ``https://sts.<region>.amazonaws.com``); proxies from the environment are
  ignored; credentials are dummy/emulated ones set on the session, never read from the
  environment, ``AWS_PROFILE`` or ``~/.aws``;
- the process is pointed at the emulator too (:mod:`mmutils.lab.sdk_patches`), so the plain SDK
  calls a notebook makes (``sagemaker.Session()``, ``sagemaker.get_execution_role()``,
  ``boto3.client("s3")``) work and stay local: ``boto3.DEFAULT_SESSION`` becomes the lab's
  pinned session, ``os.environ`` gets the variables of
  :func:`mmutils.emulator.lifecycle.env_vars` (with the emulated role's credentials) and the
  SDK's STS endpoint helper answers the emulator's URL;
- ``get_execution_role()`` returns the emulated ``SageMakerRole``: the session's credentials
  come from ``sts:AssumeRole`` on that role in the emulator's IAM;
- SageMaker SDK waits poll every 0.2 s, the SDK's telemetry is dropped for emulator sessions,
  and the lab's session carries an in-memory SDK config so no config file is read or
  re-validated on every lookup.

``connect("live")`` uses the standard credential chain and never starts the emulator;
``connect("live")`` after ``connect("moto")`` in the same process undoes the process changes.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.config
import botocore.session
from botocore.configprovider import ConstantProvider

from mmutils.emulator import lifecycle
from mmutils.emulator.admin_client import EmulatorClient
from mmutils.lab import sdk_patches
from mmutils.lab.sdk_patches import is_loopback_url

BACKENDS = ("moto", "live")
#: moto's account: every emulated ARN lives here
ACCOUNT_ID = "123456789012"
ROLE_NAME = "SageMakerRole"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/{ROLE_NAME}"
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
# client()/resource() arguments that may be passed by position, in boto3's order
_CLIENT_ARGS = ("region_name", "api_version", "use_ssl", "verify", "endpoint_url")


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
        kwargs.update(zip(_CLIENT_ARGS, args, strict=False))
        if len(args) > len(_CLIENT_ARGS):
            raise TypeError("pass client() options after endpoint_url by keyword")
        kwargs["endpoint_url"] = self.emulator_endpoint_url  # whatever the caller asked for
        config = kwargs.get("config")
        kwargs["config"] = config.merge(_NO_PROXY) if config is not None else _NO_PROXY
        return super().client(service_name, **kwargs)

    def resource(self, service_name, *args, **kwargs):
        """``boto3.Session.resource``, always at the emulator."""
        kwargs.update(zip(_CLIENT_ARGS, args, strict=False))
        kwargs["endpoint_url"] = self.emulator_endpoint_url
        return super().resource(service_name, **kwargs)


@dataclass(eq=False)
class LabSession:
    """What a notebook needs to talk to one backend (``aws = mmutils.connect(BACKEND)``).

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
        """A boto3 client of this backend (``aws.client("s3")``)."""
        return self.boto_session.client(name, **kwargs)

    def resource(self, name: str, **kwargs):
        """A boto3 resource of this backend (``aws.resource("s3")``)."""
        return self.boto_session.resource(name, **kwargs)

    def __repr__(self) -> str:
        where = self.endpoint_url or "AWS"
        return (
            f"LabSession(backend={self.backend!r}, region={self.region!r}, at={where!r}, "
            f"role={self.role!r})"
        )


def boto_session(backend: str = "live", region: str | None = None) -> boto3.Session:
    """A plain boto3 session for a backend, without the SageMaker SDK or any process-wide change.

    Args:
        backend: ``"moto"``: pinned to the running emulator of ``$MMLAB_HOME`` with dummy
            credentials (it must be running); ``"live"``: boto3's default credential chain
            (which also honours ``AWS_ENDPOINT_URL``).
        region: the region (default: the emulator's, or boto3's configured one).

    Raises:
        ValueError: unknown backend.
        mmutils.emulator.admin_client.EmulatorError: moto, and no emulator is running.
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
) -> LabSession:
    """Connect to a backend and return the lab's sessions.

    Args:
        backend: ``"moto"`` (the local emulator) or ``"live"`` (a real AWS account).
        region: the AWS region.
        start: moto only: start the emulator when none is running (else fail).
        seed: moto only: make the emulator's ids (event ids, file names, sampling) deterministic.

    Returns:
        A :class:`LabSession`. In moto mode the process is also pointed at the emulator (see the
        module docstring), so plain ``sagemaker.Session()`` / ``get_execution_role()`` work.

    Raises:
        ValueError: unknown backend.
        RuntimeError: moto mode, and the installed SageMaker SDK lacks a name mmlab patches.
        mmutils.emulator.admin_client.EmulatorError: moto mode with ``start=False`` and no
            emulator.
    """
    from mmutils.lab import ipython_errors

    if backend == "moto":
        session = _connect_moto(region, start=start, seed=seed)
    elif backend == "live":
        sdk_patches.revert()
        session = _connect_live(region)
    else:
        raise ValueError(f"unknown backend {backend!r}; use one of {BACKENDS}")
    ipython_errors.install()  # after the SDK's import (it installs rich tracebacks)
    return session


# --------------------------------------------------------------------------- live


def _connect_live(region: str) -> LabSession:
    import sagemaker

    boto = boto3.Session(region_name=region)
    sagemaker_session = sagemaker.Session(boto_session=boto)
    role = os.environ.get("SAGEMAKER_ROLE_ARN") or sagemaker.get_execution_role(sagemaker_session)
    return LabSession("live", region, None, boto, sagemaker_session, role)


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


def emulator_sagemaker_session(boto: EmulatorBotoSession):
    """A ``sagemaker.Session`` on an emulator session, with an in-memory (empty) SDK config.

    No SDK config file is read (they could name real resources, and v2 re-validates a loaded
    config on every lookup, about 4 s per call).
    """
    import sagemaker

    session = sagemaker.Session(boto_session=boto, sagemaker_config=dict(_SDK_CONFIG))
    session.sagemaker_config = {}
    return session


def _connect_moto(region: str, *, start: bool, seed: int | None) -> LabSession:
    info = lifecycle.start() if start else lifecycle.require_running()
    url = info.endpoint_url
    creds = _assume_lab_role(url, region)
    boto = EmulatorBotoSession(
        url, region, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    )
    env = lifecycle.env_vars(info, region)
    env.update(
        AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
        AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
        AWS_SESSION_TOKEN=creds["SessionToken"],
    )
    sdk_patches.PATCHES.apply(url, env, boto)
    sagemaker_session = emulator_sagemaker_session(boto)
    emulator = EmulatorClient(url)
    if seed is not None:
        emulator.seed(seed)
    session = LabSession("moto", region, url, boto, sagemaker_session, ROLE_ARN, emulator)
    session.bucket  # noqa: B018 - create the default bucket now: the first cell shows it exists
    return session
