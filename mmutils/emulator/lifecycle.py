"""Start, attach to, inspect and stop the detached emulator server; its state file.

One emulator per ``$MMLAB_HOME`` (default ``~/.mmlab``). :func:`start` launches
``python -m mmutils.emulator.server`` in its own session (it outlives the kernel or shell that
started it), bound to 127.0.0.1 on a free port, waits until it answers its health route, and
records ``{pid, port, endpoint_url, started_at, log, version, state_dir}`` in
``$MMLAB_HOME/emulator.json``. Every later call proves the recorded server is still ours (the
health route names the service and the pid) before using it; a stale file is removed. A lock
file serialises starts and stops, so two kernels starting at once end up with one server.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from mmutils.emulator.admin_client import EmulatorClient, EmulatorError
from mmutils.paths import REPO_ROOT

STATE_FILE = "emulator.json"
LOCK_FILE = "emulator.lock"
LOG_NAME = "emulator.log"
#: what ``env_lines`` exports besides the endpoint (dummy credentials: never a real account)
DUMMY_CREDENTIAL = "testing"
DEFAULT_REGION = "us-east-1"
#: fail fast offline: an unimplemented action answers 500, which botocore would retry
MAX_ATTEMPTS = "2"
_READY = re.compile(r"mmlab emulator listening on http://127\.0\.0\.1:(\d+)")
# processes this interpreter started, so stop() can reap them (no zombie left behind)
_CHILDREN: dict[int, subprocess.Popen] = {}


@dataclass(frozen=True)
class EmulatorInfo:
    """A running emulator, as recorded in the state file.

    Attributes:
        pid: the server's process id.
        port: its TCP port on 127.0.0.1.
        endpoint_url: ``http://127.0.0.1:PORT``.
        started_at: ISO-8601 UTC start time.
        log: path of the server's stdout/stderr log.
        version: the mmutils version the server reports.
        state_dir: the server's working folder (processing jobs, log).
    """

    pid: int
    port: int
    endpoint_url: str
    started_at: str
    log: str
    version: str
    state_dir: str

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> EmulatorInfo:
        """Build from the state file's JSON object (unknown keys are ignored)."""
        names = {f.name for f in fields(cls)}
        missing = names - set(doc)
        if missing:
            raise ValueError(f"state file lacks {sorted(missing)}")
        info = cls(**{k: doc[k] for k in names})
        if not isinstance(info.pid, int) or not isinstance(info.port, int) or info.pid <= 0:
            raise ValueError(f"state file has a bad pid/port: {info.pid!r}/{info.port!r}")
        # never follow a state file to anything but our own loopback port
        if info.endpoint_url != f"http://127.0.0.1:{info.port}":
            raise ValueError(f"state file endpoint {info.endpoint_url!r} is not 127.0.0.1")
        return info


def mmlab_home() -> Path:
    """The folder holding the state file: ``$MMLAB_HOME``, else ``~/.mmlab``."""
    return Path(os.environ.get("MMLAB_HOME") or Path.home() / ".mmlab").expanduser()


def state_path() -> Path:
    """``$MMLAB_HOME/emulator.json``."""
    return mmlab_home() / STATE_FILE


# --------------------------------------------------------------------------- health


def health(endpoint_url: str, timeout: float = 2.0) -> dict | None:
    """The health document of the server at ``endpoint_url``, or None when none answers as ours."""
    return EmulatorClient(endpoint_url, timeout=timeout).health_or_none()


# --------------------------------------------------------------------------- process checks


def _reap() -> None:
    """Collect the exit status of servers this process started that have ended (no zombies)."""
    for pid, child in list(_CHILDREN.items()):
        if child.poll() is not None:
            del _CHILDREN[pid]


def _pid_alive(pid: int) -> bool:
    """True when ``pid`` is a live (not zombie) process."""
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    try:  # a zombie still answers kill(0); /proc tells the truth on Linux
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _is_ours(info: EmulatorInfo) -> bool:
    """The recorded process is alive and the recorded port answers as that very process."""
    if not _pid_alive(info.pid):
        return False
    doc = health(info.endpoint_url)
    return doc is not None and doc.get("pid") == info.pid


def _looks_like_our_server(info: EmulatorInfo) -> bool:
    """For a server that no longer answers: its command line is our server with our state dir."""
    argv = _cmdline(info.pid)
    return "mmutils.emulator.server" in argv and info.state_dir in argv


# --------------------------------------------------------------------------- state file


@contextlib.contextmanager
def _locked(home: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``home`` (blocks while another process holds it)."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / LOCK_FILE, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _read_state(home: Path) -> EmulatorInfo | None:
    path = home / STATE_FILE
    try:
        doc = json.loads(path.read_text())
        return EmulatorInfo.from_dict(doc)
    except FileNotFoundError:
        return None
    except (ValueError, TypeError):
        # unreadable: nothing in it can be trusted, so nothing will be signalled
        path.unlink(missing_ok=True)
        return None


def _write_state(home: Path, info: EmulatorInfo) -> None:
    """Write the state file atomically (temp file + rename in the same folder)."""
    path = home / STATE_FILE
    tmp = path.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(info), indent=2) + "\n")
    os.replace(tmp, path)


def _running(home: Path) -> EmulatorInfo | None:
    """The recorded emulator if it is ours and alive; removes a stale state file. Lock held."""
    info = _read_state(home)
    if info is None:
        return None
    if _is_ours(info):
        return info
    (home / STATE_FILE).unlink(missing_ok=True)
    return None


# --------------------------------------------------------------------------- public API


def status() -> EmulatorInfo | None:
    """The running emulator of ``$MMLAB_HOME``, or None (a stale state file is removed)."""
    _reap()
    home = mmlab_home()
    if not (home / STATE_FILE).exists():
        return None
    with _locked(home):
        return _running(home)


def require_running() -> EmulatorInfo:
    """The running emulator.

    Raises:
        EmulatorError: none is running (the message says how to start one).
    """
    info = status()
    if info is None:
        raise EmulatorError(
            f"no emulator is running (state file {state_path()}); start one with "
            "`mmlab emulator start` or mmutils.connect('moto')"
        )
    return info


def start(
    port: int | None = None,
    state_dir: str | os.PathLike | None = None,
    timeout: float = 60.0,
    *,
    tied: bool = False,
    fresh: bool = False,
) -> EmulatorInfo:
    """Start the emulator, or attach to the one already running for ``$MMLAB_HOME``.

    The emulator keeps its state in ``{state_dir}/state`` and loads it when it starts again
    (docs/persistence.md).

    Args:
        port: TCP port on 127.0.0.1 (default: a free port chosen by the server). Ignored when an
            emulator is already running: that one is returned.
        state_dir: the server's working folder (default ``$MMLAB_HOME/emulator``); its log is
            ``emulator.log`` there.
        timeout: seconds to wait for the server to answer its health route.
        tied: a private emulator: it stops by itself when this process ends, even when this
            process is killed with SIGKILL (``mmlab run``).
        fresh: start empty, deleting the saved state (a running emulator is reset instead).

    Returns:
        The running emulator.

    Raises:
        EmulatorError: the server exited or did not become healthy in time (the message holds
            the end of its log).
    """
    _reap()
    home = mmlab_home()
    with _locked(home):
        info = _running(home)
        if info is not None:
            if fresh:
                EmulatorClient(info.endpoint_url, timeout=30.0).reset()
            return info
        extra = ["--parent-pid", str(os.getpid())] if tied else []
        info = _launch(home, port, Path(state_dir or default_state_dir()), timeout, extra, fresh)
        _write_state(home, info)
        return info


def _server_env() -> dict[str, str]:
    """The child's environment: importable mmutils, dummy credentials, no profile, no proxy."""
    env = dict(os.environ)
    env.update({k: v for k, v in env_vars(None).items() if v is not None})
    for key, value in env_vars(None).items():
        if value is None:
            env.pop(key, None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def default_state_dir() -> Path:
    """``$MMLAB_HOME/emulator``: the server's working folder; its saved state is in ``state/``."""
    return mmlab_home() / "emulator"


def saved_state_dir() -> Path:
    """The working folder of the running emulator, else the default one."""
    info = _read_state(mmlab_home()) if (mmlab_home() / STATE_FILE).exists() else None
    return Path(info.state_dir) if info is not None else default_state_dir()


def _launch(
    home: Path,
    port: int | None,
    state_dir: Path,
    timeout: float,
    extra: list[str] | None = None,
    fresh: bool = False,
) -> EmulatorInfo:
    state_dir = state_dir.expanduser().resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / LOG_NAME
    cmd = [
        sys.executable,
        "-m",
        "mmutils.emulator.server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port or 0),
        "--state-dir",
        str(state_dir),
        *(extra or []),
    ]
    if fresh:
        cmd.append("--fresh")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # detached: survives the kernel/shell that started it
            close_fds=True,
            env=_server_env(),
            cwd=str(state_dir),
        )
    _CHILDREN[proc.pid] = proc
    deadline = time.monotonic() + timeout
    bound_port = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EmulatorError(
                f"the emulator exited with code {proc.returncode} before it was ready; "
                f"log {log_path}:\n{_tail(log_path)}"
            )
        if bound_port is None:
            match = _READY.search(log_path.read_text(errors="replace"))
            bound_port = int(match.group(1)) if match else None
        if bound_port is not None:
            doc = health(f"http://127.0.0.1:{bound_port}", timeout=1.0)
            if doc is not None and doc.get("pid") == proc.pid:
                return EmulatorInfo(
                    pid=proc.pid,
                    port=bound_port,
                    endpoint_url=f"http://127.0.0.1:{bound_port}",
                    started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    log=str(log_path),
                    version=str(doc.get("version", "")),
                    state_dir=str(state_dir),
                )
        time.sleep(0.05)
    _terminate(proc.pid)
    raise EmulatorError(
        f"the emulator did not become healthy within {timeout:.0f} s and was stopped; "
        f"log {log_path}:\n{_tail(log_path)}"
    )


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(log unreadable: {exc})"


def _wait_gone(pid: int, timeout: float) -> bool:
    child = _CHILDREN.get(pid)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=0.05)
        if not _pid_alive(pid):
            _CHILDREN.pop(pid, None)
            return True
        time.sleep(0.05)
    return False


def _terminate(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM, wait, then SIGKILL (the server writes buffered capture on SIGTERM)."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        except OSError as exc:
            if exc.errno != errno.ESRCH:
                raise
            break
        if _wait_gone(pid, wait):
            return
    if _pid_alive(pid):
        raise EmulatorError(f"emulator pid {pid} did not exit after SIGKILL")


def stop(timeout: float = 10.0) -> EmulatorInfo | None:
    """Stop the emulator this ``$MMLAB_HOME`` started.

    Only a process proven to be that emulator is signalled: its health route must report the
    recorded pid (or, if it no longer answers, its command line must be our server with the
    recorded state dir). A state file pointing anywhere else is removed and nothing is killed.

    Args:
        timeout: seconds between SIGTERM and SIGKILL.

    Returns:
        The emulator that was stopped, or None when none was running.
    """
    home = mmlab_home()
    with _locked(home):
        info = _read_state(home)
        if info is None:
            return None
        ours = _pid_alive(info.pid) and (_is_ours(info) or _looks_like_our_server(info))
        if ours:
            _terminate(info.pid, timeout)
        (home / STATE_FILE).unlink(missing_ok=True)
        return info if ours else None


def reset() -> dict:
    """Wipe every emulated resource and forget it: the running emulator is emptied (moto's
    ``POST /moto-api/reset``, which clears lab state and the saved state too); with none
    running, the saved state of ``$MMLAB_HOME`` is deleted.

    Returns:
        The server's answer, or ``{"deleted": folder}`` when none was running.
    """
    info = status()
    if info is None:
        from mmutils.emulator.persistence import folder

        root = folder.root_of(default_state_dir())
        folder.wipe(root)
        return {"deleted": str(root)}
    return EmulatorClient(info.endpoint_url, timeout=30.0).reset()


def proxy_env(info: EmulatorInfo) -> dict[str, str]:
    """``HTTPS_PROXY``/``HTTP_PROXY`` and ``AWS_CA_BUNDLE`` of the emulator's HTTPS proxy.

    With them, a request to an explicit AWS address (the SageMaker SDK's STS client,
    ``endpoint_url="https://s3.<region>.amazonaws.com"``) is answered by the emulator, and a
    request to any other host is refused by the proxy (see :mod:`mmutils.emulator.proxy`);
    ``NO_PROXY`` keeps the emulator's own address direct. Empty when the emulator runs without
    its proxy.
    """
    doc = health(info.endpoint_url) or {}
    proxy = doc.get("proxy") or {}
    if not proxy.get("url") or not proxy.get("ca_bundle"):
        return {}
    return {
        "HTTPS_PROXY": proxy["url"],
        "https_proxy": proxy["url"],
        "HTTP_PROXY": proxy["url"],
        "http_proxy": proxy["url"],
        "AWS_CA_BUNDLE": proxy["ca_bundle"],
    }


def env_vars(info: EmulatorInfo | None, region: str = DEFAULT_REGION) -> dict[str, str | None]:
    """The environment a process needs to talk to the emulator and never to AWS.

    ``None`` values mean *unset* (a real profile or an SDK config file must not apply).

    Args:
        info: the running emulator (None: everything but ``AWS_ENDPOINT_URL``).
        region: the emulated region.
    """
    env: dict[str, str | None] = {}
    if info is not None:
        env["AWS_ENDPOINT_URL"] = info.endpoint_url
        env.update(proxy_env(info))
    env.update(
        {
            "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIAL,
            "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIAL,
            "AWS_SESSION_TOKEN": DUMMY_CREDENTIAL,
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "AWS_MAX_ATTEMPTS": MAX_ATTEMPTS,
            # no shared config/credentials file: a profile there could name real endpoints
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "AWS_PROFILE": None,
            "AWS_DEFAULT_PROFILE": None,
            "SAGEMAKER_USER_CONFIG_OVERRIDE": None,
            "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": None,
        }
    )
    return env


def env_lines(info: EmulatorInfo | None = None, region: str = DEFAULT_REGION) -> list[str]:
    """Shell lines (``export …`` / ``unset …``) that point a shell or kernel at the emulator.

    Args:
        info: the emulator (default: the running one).
        region: the emulated region.

    Raises:
        EmulatorError: ``info`` is None and no emulator is running.
    """
    info = info or require_running()
    lines = []
    for key, value in env_vars(info, region).items():
        lines.append(f"unset {key}" if value is None else f"export {key}={shlex.quote(value)}")
    return lines
