"""Run an analysis in a child process that cannot turn a failure into a success.

Customer scripts (the record pre-processor and the post-analytics processor) run inside the
analysis. Whatever they do — raise, ``sys.exit(0)``, ``os._exit(0)`` at import, hang, start
processes of their own — must end the job as *failed*, never as a success without reports, and
must not outlive the job. An in-process ``try`` cannot catch ``os._exit`` or an endless loop,
so the container entry point (and ``mmlab analyze`` when a script or a time limit is given)
runs the analysis here:

* the child is ``python -m mmutils.analyzer.isolation``; it calls ``module:function(payload)``
  and reports the function's (JSON) return value on a private pipe, then leaves with
  ``os._exit`` (no interpreter teardown). **Only a report counts as a result**: a child that
  exits in any other way (exit code 0 included), is killed by a signal, or outlives
  ``max_runtime`` is a failure, described with the last *phase* it announced
  (:func:`report_phase`);
* the child leads its own process group and is killed with it (so processes started by a
  script go too) when it finishes, times out, or the parent is asked to stop (SIGTERM /
  SIGINT); on Linux it also receives SIGKILL when the parent dies (``PR_SET_PDEATHSIG``), so a
  ``kill -9`` of the parent leaves no analysis running;
* standard output and error are inherited, so log lines flow through unchanged.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import math
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mmutils.analyzer.errors import AnalyzerError

#: environment variable holding the child's call (target, payload, pipe fd, parent pid)
CALL_ENV = "MMLAB_ISOLATED_CALL"
#: environment variable giving a time limit in seconds (container entry point and CLI)
MAX_RUNTIME_ENV = "MMLAB_MAX_RUNTIME"

_PR_SET_PDEATHSIG = 1
_report_fd: int | None = None


@dataclass
class Outcome:
    """How an isolated call ended.

    Attributes:
        result: the target's return value, or None when the child never reported one.
        reported: whether the child reported a result (the only way to succeed).
        returncode: the child's exit status (negative: killed by that signal).
        timed_out: the child outlived ``max_runtime`` and was killed.
        stopped: the parent was asked to stop (SIGTERM / SIGINT) and killed the child.
        phase: the last phase the child announced (see :func:`report_phase`).
    """

    result: Any = None
    reported: bool = False
    returncode: int | None = None
    timed_out: bool = False
    stopped: bool = False
    phase: str | None = None

    def how_it_ended(self) -> str:
        """A short description of an abnormal end: ``exited with code 0``, ``was killed by SIGKILL``."""
        code = self.returncode
        if code is None:
            return "did not end"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"was killed by {name}"
        return f"exited with code {code} before reporting a result"


def parse_max_runtime(value: str | float | None, source: str = MAX_RUNTIME_ENV) -> float | None:
    """Read a time limit in seconds: a positive number, or empty/None for no limit.

    Raises:
        AnalyzerError: the value is not a positive finite number (the message names ``source``).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise AnalyzerError(f"Invalid {source} {value!r}: expected a positive number of seconds")
    return seconds


def report_phase(phase: str) -> None:
    """Announce what the isolated child is doing now (a no-op outside an isolated call)."""
    _send({"phase": phase})


def _send(message: dict) -> None:
    if _report_fd is None:
        return
    data = (json.dumps(message) + "\n").encode()
    with contextlib.suppress(OSError):
        os.write(_report_fd, data)


def _kill_group(proc: subprocess.Popen | _Forked) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


class _Forked:
    """A forked child seen through the part of :class:`subprocess.Popen` that :func:`call` uses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            os.kill(self.pid, signal.SIGKILL)


def _fork_child(target: str, payload: Any, read_fd: int, write_fd: int) -> _Forked:
    """Fork the isolated child from this (already warm) process instead of starting Python.

    The child gets what ``python -m mmutils.analyzer.isolation`` gets: its own process group,
    death with this process, no file descriptor but stdin/stdout/stderr and its report pipe
    (so nothing it runs can write to a channel of its parent's), default signal handlers.
    """
    parent = os.getpid()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()  # nothing buffered is written twice
    pid = os.fork()
    if pid:
        return _Forked(pid)
    try:  # the child: never returns into the parent's code
        os.setpgid(0, 0)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.close(read_fd)
        _close_fds_but(write_fd)
        _die_with_parent(parent)
        _run_target(target, payload, write_fd)
    finally:
        os._exit(255)


@contextlib.contextmanager
def _stop_on_signals(flag: list[bool]) -> Iterator[None]:
    """While the child runs, SIGTERM / SIGINT of the parent set ``flag`` instead of unwinding."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(_signum, _frame):
        flag[0] = True

    saved = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(ValueError, OSError):
            saved[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in saved.items():
            signal.signal(sig, old)


def call(
    target: str,
    payload: Any = None,
    *,
    max_runtime: float | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    fork: bool = False,
) -> Outcome:
    """Call ``module:function(payload)`` in an isolated child process.

    Args:
        target: ``"package.module:function"``; the function takes the JSON payload and returns
            a JSON-serialisable value.
        payload: JSON-serialisable argument.
        max_runtime: seconds before the child (and its process group) is killed; None: no limit.
        env: the child's environment (default: this process's).
        cwd: the child's working folder.
        fork: fork the child from this process (which must have one thread and the
            analysis modules imported: the analyzer's warm fork server, see
            :mod:`mmutils.analyzer.forkserver`) instead of starting a new interpreter;
            ``env`` and ``cwd`` must then be None (the child inherits this process's).

    Returns:
        The :class:`Outcome`; ``outcome.reported`` is True only when the function returned.
    """
    if fork and (env is not None or cwd is not None):
        raise ValueError("a forked child inherits its environment and folder: no env/cwd")
    read_fd, write_fd = os.pipe()
    outcome = Outcome()
    stop = [False]
    deadline = None if max_runtime is None else time.monotonic() + max_runtime
    with _stop_on_signals(stop):
        try:
            if fork:
                proc = _fork_child(target, payload, read_fd, write_fd)
            else:
                child_env = dict(os.environ if env is None else env)
                child_env[CALL_ENV] = json.dumps(
                    {"target": target, "payload": payload, "fd": write_fd, "parent": os.getpid()}
                )
                proc = subprocess.Popen(
                    [sys.executable, "-m", "mmutils.analyzer.isolation"],
                    env=child_env,
                    cwd=cwd,
                    stdin=subprocess.DEVNULL,
                    pass_fds=(write_fd,),
                    process_group=0,
                )
        finally:
            os.close(write_fd)
        buffer = b""
        try:
            with selectors.DefaultSelector() as sel:
                sel.register(read_fd, selectors.EVENT_READ)
                pipe_open = True
                pause = 0.001
                while proc.poll() is None:
                    if stop[0]:
                        outcome.stopped = True
                        break
                    if deadline is not None and time.monotonic() >= deadline:
                        outcome.timed_out = True
                        break
                    if not pipe_open:  # the child is leaving: look again soon, then less often
                        time.sleep(pause)
                        pause = min(pause * 2, 0.05)
                        continue
                    for _key, _events in sel.select(timeout=0.1):
                        chunk = os.read(read_fd, 65536)
                        if chunk:
                            buffer += chunk
                        else:
                            pipe_open = False
                            sel.unregister(read_fd)
        finally:
            _kill_group(proc)  # also reaps whatever a script started in the group
            outcome.returncode = proc.wait()
            with contextlib.suppress(OSError):
                while chunk := _read_nonblocking(read_fd):
                    buffer += chunk
            os.close(read_fd)
    for line in buffer.decode("utf-8", "replace").splitlines():
        try:
            message = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(message, dict):
            continue
        if "phase" in message:
            outcome.phase = message["phase"]
        if "result" in message and not (outcome.timed_out or outcome.stopped):
            outcome.result = message["result"]
            outcome.reported = True
    return outcome


def _read_nonblocking(fd: int) -> bytes:
    os.set_blocking(fd, False)
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return b""


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this process when its parent dies (best effort elsewhere)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(255)


def _close_fds_but(keep: int) -> None:
    """Close every file descriptor above stderr except ``keep`` (what a new process inherits)."""
    try:
        fds = sorted(int(name) for name in os.listdir("/proc/self/fd"))
    except OSError:
        fds = list(range(3, 1024))
    for fd in fds:
        if fd > 2 and fd != keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def _child() -> None:
    spec = json.loads(os.environ.pop(CALL_ENV))
    _die_with_parent(int(spec["parent"]))
    _run_target(spec["target"], spec["payload"], int(spec["fd"]))


def _run_target(target: str, payload: Any, fd: int) -> None:
    """Call ``target(payload)``, report its result on ``fd`` and leave (never returns)."""
    global _report_fd
    _report_fd = fd
    os.set_inheritable(_report_fd, False)  # processes a script starts do not get the pipe
    # this file may run as ``__main__``; the analysis imports it under its own name
    importlib.import_module("mmutils.analyzer.isolation")._report_fd = _report_fd
    module_name, _, function_name = target.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    try:
        result = function(payload)
    except BaseException:  # noqa: BLE001 - anything unreported is a failure, by design
        import traceback

        traceback.print_exc()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(255)
    _send({"result": result})
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    # no interpreter teardown: the result is reported, and native thread pools (pyarrow,
    # numba) need not be torn down
    os._exit(0)


if __name__ == "__main__":
    _child()
