"""Bounded, stoppable traffic for an endpoint, with a progress bar.

The original lab started an endless background thread that only a kernel restart could stop.
Here every run is bounded (a list of rows, or ``max_requests``), can be stopped (kernel
interrupt, ``stop`` event, or ``TrafficHandle.stop()``), and reports what it sent.

An interrupt means *stop*: :func:`send` prints what it sent, then lets the ``KeyboardInterrupt``
go on, so the cell fails and a Run-All does not go on to the next cells.

Progress (``MMLAB_PROGRESS``):

- ``widget``: a tqdm widget (JupyterLab; needs ``ipywidgets``);
- ``text``: no intermediate frames, one line at the end (headless runs: ``mmlab run``, nbval,
  the committed outputs);
- ``0`` / ``off``: nothing;
- unset (``auto``): a widget in a Jupyter kernel when ``ipywidgets`` is installed, else a
  text bar on a terminal.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

#: How progress is shown (see the module docstring).
PROGRESS_ENV = "MMLAB_PROGRESS"


@dataclass
class TrafficResult:
    """What a traffic run did."""

    sent: int = 0
    errors: int = 0
    stopped: bool = False
    predictions: list[str] = field(default_factory=list)
    last_error: str | None = None

    def __str__(self) -> str:
        state = "stopped early" if self.stopped else "done"
        text = f"{self.sent} requests sent, {self.errors} errors ({state})"
        if self.last_error:
            text += f"; last error: {self.last_error}"
        return text


def _predict_fn(target) -> Callable[[str], object]:
    """A function that sends one CSV row to ``target`` (a Predictor or a callable)."""
    if hasattr(target, "predict"):
        return target.predict
    if callable(target):
        return target
    raise TypeError(f"cannot send traffic to {target!r}: pass a sagemaker Predictor or a callable")


def _seconds(duration) -> float:
    if duration is None:
        return 0.0
    if isinstance(duration, int | float):
        return float(duration)
    from mmutils.emulator.admin_client import parse_duration

    return float(parse_duration(str(duration)))


def progress_mode() -> str:
    """``"widget"``, ``"text"``, ``"line"`` (a terminal bar) or ``"off"``, from ``MMLAB_PROGRESS``."""
    value = os.environ.get(PROGRESS_ENV, "auto").strip().lower()
    if value in ("0", "off", "none", "false"):
        return "off"
    if value in ("widget", "text"):
        return value
    if _in_jupyter_kernel() and _has_ipywidgets():
        return "widget"
    return "line" if sys.stdout.isatty() else "text"


def _in_jupyter_kernel() -> bool:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _has_ipywidgets() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


class _FinalLine:
    """Progress for headless runs: nothing while running, ``desc: n/total requests`` at the end."""

    def __init__(self, total: int | None, desc: str):
        self.total, self.desc, self.n = total, desc, 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def close(self) -> None:
        print(f"{self.desc}: {self.n}/{self.total} requests", file=sys.stdout, flush=True)


def _progress_bar(total: int | None, desc: str, enabled: bool):
    mode = progress_mode() if enabled else "off"
    if mode == "off":
        return None
    if mode == "text":
        return _FinalLine(total, desc)
    if mode == "widget":
        from tqdm.notebook import tqdm as tqdm_widget

        return tqdm_widget(total=total, desc=desc, unit="req", mininterval=0.5)
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="req", file=sys.stdout, mininterval=0.5, ncols=90)


def send(
    target,
    rows: Iterable[str],
    *,
    max_requests: int | None = None,
    session=None,
    spread_over=None,
    stop: threading.Event | None = None,
    progress: bool = True,
    desc: str = "traffic",
    keep_predictions: int = 5,
) -> TrafficResult:
    """Send CSV rows to an endpoint, one request per row, and return what happened.

    Args:
        target: a ``sagemaker.predictor.Predictor`` with a CSV serializer, or any callable
            taking one CSV row.
        rows: the rows to send; cycled when ``max_requests`` is larger than the rows.
        max_requests: stop after this many requests (default: one pass over ``rows``).
        session: the connected session (:func:`mmutils.connect`). With the emulator and
            ``spread_over``, the emulator clock advances evenly between requests, so the
            captured traffic is spread over that much emulated time (on a live account time
            passes by itself and ``spread_over`` is ignored).
        spread_over: emulated duration of the run, seconds or ``"30m"``-style text.
        stop: an event; setting it (e.g. from another thread) ends the run after the current request.
        progress: draw a progress bar.
        desc: the progress bar's label.
        keep_predictions: how many of the first answers to keep in the result.

    Returns:
        A :class:`TrafficResult`.

    Raises:
        KeyboardInterrupt: the kernel was interrupted; what was sent is printed first, and
            nothing keeps sending.
    """
    predict = _predict_fn(target)
    rows = list(rows) if not isinstance(rows, list) else rows
    if not rows:
        raise ValueError("no rows to send")
    total = max_requests if max_requests is not None else len(rows)
    emulator = getattr(session, "emulator", None) if session is not None else None
    step = _seconds(spread_over) / total if (emulator is not None and total) else 0.0
    result = TrafficResult()
    bar = _progress_bar(total, desc, progress)
    try:
        for row in itertools.islice(itertools.cycle(rows), total):
            if stop is not None and stop.is_set():
                result.stopped = True
                break
            try:
                answer = predict(row)
            except Exception as exc:  # an endpoint error must not end a workshop's run
                result.errors += 1
                result.last_error = f"{type(exc).__name__}: {exc}"
            else:
                if len(result.predictions) < keep_predictions:
                    result.predictions.append(_as_text(answer))
            result.sent += 1
            if bar is not None:
                bar.update(1)
            if step:
                emulator.advance(step)
    except KeyboardInterrupt:
        result.stopped = True
        if bar is not None:
            bar.close()
            bar = None
        print(f"Interrupted: {result}. Nothing keeps sending; the cells below do not run.")
        raise
    finally:
        if bar is not None:
            bar.close()
    return result


def _as_text(answer) -> str:
    if isinstance(answer, bytes):
        return answer.decode("utf-8", "replace").strip()
    if isinstance(answer, list):  # CSVDeserializer: [[...]]
        flat = [str(v) for row in answer for v in (row if isinstance(row, list) else [row])]
        return ",".join(flat)
    return str(answer).strip()


class TrafficHandle:
    """Traffic running in a background thread; ``stop()`` ends it, ``join()`` waits for it."""

    def __init__(self, target, rows, *, interval: float = 1.0, max_requests: int | None = None):
        self._stop = threading.Event()
        self.result = TrafficResult()
        self._interval = interval
        self._thread = threading.Thread(
            target=self._run, args=(target, rows, max_requests), daemon=True, name="mmlab-traffic"
        )
        self._thread.start()

    def _run(self, target, rows, max_requests):
        predict = _predict_fn(target)
        rows = list(rows)
        for row in itertools.islice(itertools.cycle(rows), max_requests):
            if self._stop.is_set():
                self.result.stopped = True
                return
            try:
                predict(row)
            except Exception as exc:
                self.result.errors += 1
                self.result.last_error = f"{type(exc).__name__}: {exc}"
            self.result.sent += 1
            self._stop.wait(self._interval)

    @property
    def running(self) -> bool:
        """True while the thread is sending."""
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> TrafficResult:
        """Stop sending and wait for the thread to end."""
        self._stop.set()
        self._thread.join(timeout)
        return self.result

    def join(self, timeout: float | None = None) -> TrafficResult:
        """Wait until the run ends by itself (bounded by ``max_requests``)."""
        self._thread.join(timeout)
        return self.result

    def __repr__(self) -> str:
        state = "running" if self.running else "ended"
        return f"<TrafficHandle {state}: {self.result}>"


def start_background(target, rows, *, interval: float = 1.0, max_requests: int | None = 3600):
    """Send traffic in a background thread, bounded by ``max_requests`` (default an hour at 1/s).

    Returns:
        A :class:`TrafficHandle`; call ``.stop()`` to end it early. Nothing keeps running after
        ``max_requests``, and the thread is a daemon, so it never blocks a kernel shutdown.
    """
    return TrafficHandle(target, rows, interval=interval, max_requests=max_requests)


def wait(seconds: float) -> None:
    """Sleep in small steps so a kernel interrupt is honoured promptly."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(left, 0.5))
