"""The emulator process: moto's server with the lab's extensions, on 127.0.0.1 only.

Run ``python -m mmutils.emulator.server --host 127.0.0.1 --port PORT [--state-dir DIR]``.
When ready it prints one line, ``mmlab emulator listening on http://127.0.0.1:PORT``; SIGTERM or
SIGINT stop it cleanly (buffered capture records are written to S3 first).

:class:`EmulatorServer` runs the same server in a thread of the current process (tests).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence

from mmutils.emulator import patch_table

#: the modules whose ``install()`` patches moto, in order (stop hooks run in reverse: the
#: scheduler stops first, then the processing runtime, then the capture writer)
EXTENSIONS = (
    "mmutils.emulator.routing",
    "mmutils.emulator.validation",
    "mmutils.emulator.persistence.service",
    "mmutils.emulator.admin_routes",
    "mmutils.emulator.service_defaults",
    "mmutils.emulator.endpoints",
    "mmutils.emulator.monitoring.models",
    "mmutils.emulator.monitoring.responses",
    "mmutils.emulator.monitoring.alerts",
    "mmutils.emulator.hosting",
    "mmutils.emulator.capture_writer",
    "mmutils.emulator.processing",
    "mmutils.emulator.transform",
    "mmutils.emulator.monitoring.scheduler",
    "mmutils.emulator.identity",
    "mmutils.emulator.proxy",
)

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
READY_LINE = "mmlab emulator listening on http://{host}:{port}"

_installed = False
_install_lock = threading.Lock()


def install() -> None:
    """Check every moto name of the patch table, then apply every extension (idempotent).

    Raises:
        RuntimeError: the installed moto lacks a name the emulator patches or uses (the message
            names the moto version and each missing name).
    """
    global _installed
    with _install_lock:
        if _installed:
            return
        patch_table.check("moto")
        for name in EXTENSIONS:
            importlib.import_module(name).install()
        _installed = True


class EmulatorServer:
    """moto's WSGI app with the extensions, served by werkzeug in a background thread.

    Args:
        host: a loopback address.
        port: the port (0 picks a free one; see :attr:`port` after :meth:`start`).
        state_dir: folder for processing-job folders (default: a temporary folder).
        persist: keep the emulator's state in ``{state_dir}/state`` (load it at start, save
            it as it changes; needs ``state_dir``).
        fresh: with ``persist``, delete the saved state first.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        state_dir: str | None = None,
        *,
        persist: bool = False,
        fresh: bool = False,
    ):
        if persist and not state_dir:
            raise ValueError("persist=True needs a state_dir")
        self.persist = persist
        self.fresh = fresh
        self.loaded: dict = {}
        if host not in LOOPBACK:
            raise ValueError(f"the emulator listens on loopback only (127.0.0.1), not {host!r}")
        self.host = "127.0.0.1" if host == "localhost" else host
        self.requested_port = port
        self.state_dir = state_dir
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port actually bound."""
        return self._server.server_address[1] if self._server else self.requested_port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> EmulatorServer:
        """Patch moto, bind the port and serve in a daemon thread."""
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        from mmutils.emulator.state import STATE

        if self.state_dir:
            STATE.state_dir = self.state_dir
        install()
        from mmutils.emulator.processing import reap_orphans

        reap_orphans(STATE.state_dir)  # analyzers a killed emulator left behind
        if self.persist:
            from mmutils.emulator.persistence.service import PERSISTENCE

            self.loaded = PERSISTENCE.open(STATE.state_dir, fresh=self.fresh)
        from mmutils.emulator.capture_writer import WRITER
        from mmutils.emulator.monitoring.scheduler import SCHEDULER

        WRITER.start()  # (re)start the background work: a stopped server may be started again
        SCHEDULER.start()
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            self.host, self.requested_port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._server.daemon_threads = True
        os.environ.setdefault("MOTO_PORT", str(self.port))
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="mmlab-emulator-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Write buffered capture, stop background work, then stop serving."""
        from mmutils.emulator.state import STATE

        STATE.stop()
        if self.persist:
            from mmutils.emulator.persistence.service import PERSISTENCE

            PERSISTENCE.close()  # after the stop hooks: the capture flush is in the last save
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m mmutils.emulator.server",
        description="moto + the SageMaker Model Monitor extensions of the mmlab emulator",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (127.0.0.1 only)")
    parser.add_argument("--port", type=int, default=5055, help="port (0: any free port)")
    parser.add_argument("--state-dir", default=None, help="folder for processing-job folders")
    parser.add_argument("--verbose", action="store_true", help="log every HTTP request")
    parser.add_argument(
        "--parent-pid",
        type=int,
        default=None,
        help="stop when this process (the one that started the server) ends",
    )
    parser.add_argument(
        "--no-persist",
        action="store_true",
        help="keep nothing on disk (default: state persists in STATE_DIR/state)",
    )
    parser.add_argument("--fresh", action="store_true", help="delete the saved state first")
    return parser.parse_args(argv)


def watch_parent(parent: int, stop: threading.Event, interval: float = 0.5) -> threading.Thread:
    """Set ``stop`` once ``parent`` is gone (it was killed, even with SIGKILL): a private
    emulator never outlives the ``mmlab run`` that started it."""

    def alive() -> bool:
        if os.getppid() == parent:
            return True
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        try:  # a zombie parent is gone too
            stat = open(f"/proc/{parent}/stat").read()  # noqa: SIM115 - one short read
            return stat.rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return True

    def loop() -> None:
        while not stop.wait(interval):
            if not alive():
                stop.set()
                with contextlib.suppress(OSError):  # stdout may be a pipe nobody reads now
                    print(f"mmlab emulator: parent process {parent} is gone; stopping", flush=True)

    thread = threading.Thread(target=loop, name="mmlab-parent-watch", daemon=True)
    thread.start()
    return thread


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGTERM/SIGINT; returns the exit code."""
    args = _parse_args(argv)
    if args.host not in LOOPBACK:
        print(
            f"error: refusing to listen on {args.host!r}; the emulator binds loopback only "
            "(--host 127.0.0.1)",
            file=sys.stderr,
        )
        return 2
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    stop = threading.Event()

    def _on_signal(signum, frame):  # noqa: ARG001 - signal handler signature
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    from mmutils.emulator.persistence.folder import IncompatibleState

    persist = (
        bool(args.state_dir) and not args.no_persist and os.environ.get("MMLAB_PERSIST") != "0"
    )
    server = EmulatorServer(args.host, args.port, args.state_dir, persist=persist, fresh=args.fresh)
    try:
        server.start()
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    except IncompatibleState as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 3
    print(READY_LINE.format(host=server.host, port=server.port), flush=True)
    if args.parent_pid:
        watch_parent(args.parent_pid, stop)
    if server.loaded:
        loaded = server.loaded
        print(
            f"mmlab emulator state: {loaded['buckets']} buckets, {loaded['objects']} objects, "
            f"{loaded['schedules']} schedules loaded in {loaded['seconds']} s"
            + (
                f"; failed after the crash: {', '.join(loaded['repaired'])}"
                if loaded["repaired"]
                else ""
            ),
            flush=True,
        )
    while not stop.wait(3600):
        pass
    server.stop()
    print("mmlab emulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
