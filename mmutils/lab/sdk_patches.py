"""Moto mode's changes to this process: environment, boto3's default session, SDK helpers.

``connect("moto")`` points the whole process at the emulator, so the plain SDK calls a notebook
makes stay local and fast; ``connect("live")`` undoes it all (:func:`revert`). The SageMaker
SDK names wrapped here are listed in :mod:`mmutils.emulator.patch_table`, which is checked
(:func:`~mmutils.emulator.patch_table.check`) before anything is patched, so an SDK release
that renames one fails with a message naming the SDK version and the missing name.

The wrappers change nothing for a session that talks to AWS:

- ``Session.wait_for_endpoint``, ``Session.wait_for_processing_job``,
  ``Session.logs_for_processing_job`` and ``ModelMonitor._wait_for_schedule_changes_to_apply``
  poll every :data:`FAST_POLL` seconds instead of sleeping 5-30 s first, for every SDK session
  whose SageMaker client talks to a loopback endpoint;
- the SDK's telemetry (an HTTP GET to ``amazonaws.com`` without a timeout) is dropped for those
  sessions;
- ``sts_regional_endpoint`` answers the emulator's URL, so the STS clients the SDK builds for
  any session of the process ask the emulator.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import boto3

from mmutils.emulator import patch_table

#: SDK poll interval against the emulator (the SDK's own defaults are 5-30 s, slept up front)
FAST_POLL = 0.2
_FINISHED = ("Completed", "Failed", "Stopped")


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


def _talks_to_emulator(sagemaker_session: Any) -> bool:
    client = getattr(sagemaker_session, "sagemaker_client", None)
    return is_loopback_url(getattr(getattr(client, "meta", None), "endpoint_url", None))


# --------------------------------------------------------------------------- the wrappers


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
                if desc["ProcessingJobStatus"] in _FINISHED:
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


#: patch-table target -> wrapper factory (``original -> replacement``); the STS endpoint
#: helper is added by :class:`ProcessPatches`, which knows the emulator's URL
SDK_WRAPPERS: dict[str, Callable[[Any], Any]] = {
    "sagemaker.session.Session.wait_for_endpoint": _fast_wait_for_endpoint,
    "sagemaker.session.Session.wait_for_processing_job": _fast_wait_for_processing_job,
    "sagemaker.session.Session.logs_for_processing_job": _fast_logs_for_processing_job,
    "sagemaker.model_monitor.model_monitoring.ModelMonitor._wait_for_schedule_changes_to_apply": (
        _fast_schedule_wait
    ),
    "sagemaker.telemetry.telemetry_logging._send_telemetry_request": _quiet_telemetry,
}
STS_ENDPOINT = "sagemaker.session.sts_regional_endpoint"


# --------------------------------------------------------------------------- the process


class ProcessPatches:
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
        """Point the process at the emulator.

        Args:
            endpoint_url: the emulator's URL (the SDK's STS endpoint from now on).
            env: environment variables to set (``None`` removes one); the previous values
                are restored by :meth:`revert`.
            default_session: the new ``boto3.DEFAULT_SESSION``.

        Raises:
            RuntimeError: the installed SageMaker SDK lacks a name mmlab patches (the message
                names the SDK version and the name); nothing is patched then.
        """
        with self._lock:
            first = self._saved_env is None
            if first:
                self._saved_env = {k: os.environ.get(k) for k in env}
                self._saved_default_session = boto3.DEFAULT_SESSION
            # the environment first: importing sagemaker (in check) builds a boto3 session,
            # which must not read the caller's AWS_PROFILE or credentials
            _set_environ(env)
            boto3.DEFAULT_SESSION = default_session
            if not self._originals:
                try:
                    patch_table.check("sagemaker")
                except RuntimeError:
                    if first:
                        _set_environ(self._saved_env)
                        boto3.DEFAULT_SESSION = self._saved_default_session
                        self._saved_env = self._saved_default_session = None
                    raise
            self.endpoint_url = endpoint_url
            if not self._originals:
                self._patch_sdk()

    def _patch(self, target: str, wrapper: Callable[[Any], Any]) -> None:
        owner, name = patch_table.resolve(target)
        original = getattr(owner, name)
        self._originals.append((owner, name, original))
        setattr(owner, name, wrapper(original))

    def _patch_sdk(self) -> None:
        for target, wrapper in SDK_WRAPPERS.items():
            self._patch(target, wrapper)
        # the SDK builds STS clients with https://sts.<region>.amazonaws.com; any session in
        # this process (not only the lab's pinned one) must ask the emulator instead
        self._patch(STS_ENDPOINT, lambda original: self._sts_endpoint)

    def _sts_endpoint(self, region: str) -> str:
        return self.endpoint_url or "http://127.0.0.1:1"

    def revert(self) -> None:
        """Undo every change :meth:`apply` made (nothing happens when none was made)."""
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


#: the process's one set of patches
PATCHES = ProcessPatches()


def revert() -> None:
    """Undo moto mode's changes to this process (what ``connect("live")`` does first)."""
    PATCHES.revert()
