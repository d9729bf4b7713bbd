"""A warm analyzer: one process with the analysis modules imported that forks a job per request.

A fresh ``python -m mmutils.analyzer`` costs two interpreter starts and an import of pyarrow
and numpy (~0.3 s) before it reads a byte — more than the analysis of an hourly window. The
emulator's processing runtime therefore starts this server once (``python -m
mmutils.analyzer.forkserver``, in the same confined environment as an analyzer, tied to the
emulator) and asks it for one *job process* per analyzer run. A job process is what
``python -m mmutils.analyzer`` would have been, with the same guarantees:

* it is forked from a process that has only imported modules and, once the server has
  been idle after its first job, loaded the compiled capture-scan kernels
  (:func:`warm_compiled`; no job ever ran in it), so
  every job starts from the same clean state, and nothing a job does reaches the server or
  the next job;
* it leads its own session and process group (the emulator kills the group on a time limit,
  StopProcessingJob or shutdown), dies with the server (``PR_SET_PDEATHSIG``), which dies with
  the emulator;
* its environment is exactly the job's (the emulator's :func:`analyzer_env`), its working
  folder the job folder, its stdin ``/dev/null``, its stdout and stderr the emulator's log
  pipe, and it holds no other file descriptor of the server's;
* it runs :func:`mmutils.analyzer.container.main` with the analysis in a forked isolated child
  (:func:`mmutils.analyzer.isolation.call` with ``fork=True``): only that child's report on
  its private pipe counts as a result, exactly as with a new interpreter; the child holds
  neither the status pipe nor the socket, so a customer script cannot write a result there.

Protocol, on the Unix socket whose descriptor is in ``$MMLAB_FORKSERVER_FD``: the emulator
sends one JSON line ``{"env": {...}, "cwd": "..."}`` with two descriptors attached (the log
pipe and the status pipe, ``socket.send_fds``); the server answers with the job process's pid
(a line). The job process writes its exit code (a line) to the status pipe as its last act;
a status pipe that closes without one means the process was killed. The server leaves when
the socket closes.

Known difference from a fresh interpreter: variables read once when a library is imported
(e.g. ``OMP_NUM_THREADS`` for numpy's BLAS) keep the server's values; the analyzer's own
settings (``MMLAB_MAX_BLOCK_SIZE``, ``MMLAB_MAX_RUNTIME``, the job's variables) are read per job.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import json
import os
import select
import signal
import socket
import sys
import time

from mmutils.analyzer import isolation

#: the environment variable naming the server's socket descriptor
FD_ENV = "MMLAB_FORKSERVER_FD"
_PR_SET_PDEATHSIG = 1
_MAX_REQUEST = 1 << 20
#: seconds without a request, after the first job, before numba and the kernels are loaded
_COMPILE_AFTER_IDLE = 1.0


def warm_up() -> None:
    """Import what a job imports (the analysis modules, pyarrow, numpy), nothing that runs."""
    from mmutils.analyzer import (  # noqa: F401 - imported for the forked jobs
        baseline,
        constraints,
        container,
        monitor,
        profile,
    )
    from mmutils.analyzer.startup import skip_pandas_probe

    importlib.import_module("numpy.ma")  # the baseline's CSV conversion uses it

    skip_pandas_probe()


def warm_compiled() -> None:
    """Load numba, the compiled capture scan and CSV cut, the baseline statistics' parser
    (:mod:`mmutils.analyzer.json_numbers`) and the profiler's kernels (KLL's too; each run
    once).

    A fresh process pays ~0.3-0.45 s for them and so uses the scan only on large windows;
    every job forked after this gets it for free (``capture_reader.use_scan``: the kernels
    are loaded). :func:`serve` calls this once, when it has served a job and then received
    no request for :data:`_COMPILE_AFTER_IDLE` seconds: the first job does not wait for
    numba nor share a core with its loading. Without numba (or if it fails to load), jobs
    use pyarrow's readers as before.
    """
    from mmutils.analyzer import capture_reader, profile, readers

    # the capture scan and the CSV cut: each reader remembers a module that failed to load
    for reader, load in (
        (capture_reader, capture_reader._capture_scan),
        (readers, readers._csv_scan),
    ):
        kernels = load()
        if kernels is not None:
            try:
                kernels.warm()
            except Exception:  # noqa: BLE001 - a broken numba: the jobs use pyarrow's readers
                reader._scan_module = False
    with contextlib.suppress(Exception):  # baselines are parsed by json.loads without it
        from mmutils.analyzer import json_numbers

        json_numbers.warm()
    with contextlib.suppress(Exception):  # the profiler falls back to numpy by itself
        if profile.warm_kernels():
            from mmutils.analyzer import kll_compiled

            kll_compiled.warm()


def serve(sock: socket.socket) -> None:
    """Answer requests until the socket closes (see the module docstring)."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # job processes are reaped by the kernel
    served = compiled = False
    while True:
        if served and not compiled:
            # once a job ran and the server then idles for a moment (that job has most
            # likely finished: it does not compete with numba's loading for a core)
            ready, _, _ = select.select([sock], [], [], _COMPILE_AFTER_IDLE)
            if not ready:
                compiled = True
                warm_compiled()
                continue
        try:
            data, fds, _flags, _addr = socket.recv_fds(sock, _MAX_REQUEST, 2)
        except OSError:
            return
        if not data:
            for fd in fds:
                os.close(fd)
            return
        try:
            request = json.loads(data.decode())
            out_fd, status_fd = fds
            pid = _fork_job(request["env"], request["cwd"], out_fd, status_fd, sock.fileno())
        except Exception as exc:  # noqa: BLE001 - a bad request is answered, never fatal
            pid = None
            error = f"{type(exc).__name__}: {exc}"
        finally:
            for fd in fds:
                os.close(fd)
        reply = {"pid": pid} if pid else {"error": error}
        sock.sendall((json.dumps(reply) + "\n").encode())
        served = True


def _fork_job(env: dict, cwd: str, out_fd: int, status_fd: int, sock_fd: int) -> int:
    if not isinstance(env, dict) or not isinstance(cwd, str):
        raise ValueError("a request needs env (an object) and cwd (a string)")
    server = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    code = 255
    try:  # the job process: never returns into the server loop
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        _die_with(server)
        os.close(sock_fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        for fd in {null, out_fd}:
            os.close(fd)
        isolation._close_fds_but(status_fd)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in env.items()})
        time.tzset()
        from mmutils.analyzer import container

        code = container.main(fork=True)
    except BaseException:  # noqa: BLE001 - reported as exit code 255, with the trace
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        with contextlib.suppress(OSError):
            os.write(status_fd, f"{code}\n".encode())
        os._exit(code)


def _die_with(parent: int) -> None:
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(255)


def main() -> int:
    """Entry point: warm up, then serve the socket named by ``$MMLAB_FORKSERVER_FD``."""
    fd = int(os.environ.pop(FD_ENV))
    sock = socket.socket(fileno=fd)
    warm_up()
    serve(sock)
    return 0


if __name__ == "__main__":
    sys.exit(main())
