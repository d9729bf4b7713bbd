"""The emulator's side of the warm analyzer (``mmutils.analyzer.forkserver``).

The processing runtime starts the fork server once, at its first analyzer job, in the
analyzer's confined environment and tied to this process; each later run of the analyzer is a
job process forked by that server (its own process group, the job's environment and folder,
the log pipe as stdout/stderr) instead of a new interpreter — the analyzer's start-up
(~0.3 s: interpreter, pyarrow, numpy) is paid once per emulator, not once per execution.
The server is restarted if it died; ``MMLAB_WARM_ANALYZER=0`` (or ``MMLAB_ANALYZER_MODULE``)
keeps the old way, a new ``python -m mmutils.analyzer`` per job.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
from pathlib import Path

SERVER_MODULE = "mmutils.analyzer.forkserver"
FD_ENV = "MMLAB_FORKSERVER_FD"
SWITCH_ENV = "MMLAB_WARM_ANALYZER"
#: what a job process that ended without writing its exit code reports (it was killed)
KILLED = -int(signal.SIGKILL)


def enabled() -> bool:
    """Whether analyzer jobs run in the warm analyzer (``MMLAB_WARM_ANALYZER`` is not ``0``)."""
    return os.environ.get(SWITCH_ENV, "1") != "0"


class JobProcess:
    """A job process of the fork server, seen like the :class:`subprocess.Popen` it replaces.

    Attributes:
        pid: its pid, which is also its process group.
        stdout: its stdout and stderr, as text lines.
        returncode: its exit code once :meth:`wait` returned; :data:`KILLED` when it ended
            without writing one.
    """

    def __init__(self, pid: int, out_fd: int, status_fd: int) -> None:
        self.pid = pid
        self.stdout = open(out_fd, encoding="utf-8", errors="replace")  # noqa: SIM115
        self._status = status_fd
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """The exit code if :meth:`wait` has seen the end, else None."""
        return self.returncode

    def wait(self) -> int:
        """Wait for the job's exit code (reads the status pipe to its end)."""
        if self.returncode is None:
            data = b""
            with open(self._status, "rb") as status:
                data = status.read()
            self.stdout.close()
            try:
                self.returncode = int(data.decode().strip().splitlines()[-1])
            except (ValueError, IndexError):
                self.returncode = KILLED
        return self.returncode


class WarmAnalyzer:
    """One fork server per emulator process, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: subprocess.Popen | None = None
        self._sock: socket.socket | None = None

    def launch(
        self, command: list[str], server_env: dict, env: dict, cwd: Path, home: Path
    ) -> JobProcess:
        """Fork a job process with ``env`` in ``cwd``.

        Args:
            command: the launcher command line of the server (see ``analyzer_command``).
            server_env: the server's environment if it must be started (no job's variables).
            env: the job process's environment (complete; nothing else is inherited).
            cwd: its working folder (the job folder).
            home: the server's own folder (its HOME and working folder).

        Raises:
            RuntimeError: the server could not be started or refused the request.
        """
        out_r, out_w = os.pipe()
        status_r, status_w = os.pipe()
        request = (json.dumps({"env": env, "cwd": str(cwd)}) + "\n").encode()
        try:
            with self._lock:
                reply = None
                for _attempt in range(2):
                    sock = self._ensure(command, server_env, home)
                    try:
                        socket.send_fds(sock, [request], [out_w, status_w])
                        reply = _read_line(sock)
                    except OSError:
                        reply = None
                    if reply is not None:
                        break
                    self._stop_locked()  # it died: start a new one
        finally:
            os.close(out_w)
            os.close(status_w)
        if not reply or not reply.get("pid"):
            os.close(out_r)
            os.close(status_r)
            detail = (reply or {}).get("error") or "the warm analyzer did not answer"
            raise RuntimeError(f"cannot start the analyzer: {detail}")
        return JobProcess(int(reply["pid"]), out_r, status_r)

    def _ensure(self, command: list[str], env: dict, home: Path) -> socket.socket:
        """The server's socket, starting the server first if it is not running."""
        if self._server is not None and self._server.poll() is None and self._sock is not None:
            return self._sock
        self._stop_locked()
        home.mkdir(parents=True, exist_ok=True)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        server_env = {**env, FD_ENV: str(theirs.fileno())}
        try:
            self._server = subprocess.Popen(
                command,
                cwd=home,
                env=server_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                start_new_session=True,
            )
        finally:
            theirs.close()
        self._sock = ours
        return ours

    def stop(self) -> None:
        """Stop the server (its job processes die with it)."""
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        sock, server = self._sock, self._server
        self._sock = self._server = None
        if sock is not None:
            sock.close()
        if server is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _read_line(sock: socket.socket) -> dict | None:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            return None
        data += chunk
    return json.loads(data)
