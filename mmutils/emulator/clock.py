"""The emulator clock: real time by default, or a manual clock that stands still until advanced.

Every timestamp the lab relies on (capture ``inferenceTime`` and file names, processing-job
times, schedule and execution times) is read from :data:`CLOCK`, so a workshop can jump to the
next hour and see an hourly monitoring execution in seconds.
"""

from __future__ import annotations

import datetime as dt
import threading

UTC = dt.UTC


def parse_iso(text: str) -> dt.datetime:
    """Parse an ISO-8601 time (``Z`` or an offset; naive means UTC) into an aware UTC datetime.

    Raises:
        ValueError: the text is not an ISO-8601 time.
    """
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (AttributeError, ValueError) as exc:
        raise ValueError(f"not an ISO-8601 time: {text!r}") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def naive_utc(value: dt.datetime) -> dt.datetime:
    """moto's form of a time: naive UTC (an aware time is converted; a naive one is kept)."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def iso(value: dt.datetime) -> str:
    """Format a time as ISO-8601 UTC with milliseconds and a ``Z`` suffix."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Clock:
    """A thread-safe clock that is either real (``mode == "real"``) or manual.

    In manual mode :meth:`now` returns the same instant until :meth:`set`, :meth:`advance` or
    :meth:`to_next_hour` moves it; time never goes backwards through :meth:`advance`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._manual: dt.datetime | None = None

    @property
    def mode(self) -> str:
        """``"real"`` or ``"manual"``."""
        return "real" if self._manual is None else "manual"

    def now(self) -> dt.datetime:
        """The current emulator time (aware, UTC)."""
        manual = self._manual
        return dt.datetime.now(UTC) if manual is None else manual

    def set(self, when: dt.datetime | str) -> dt.datetime:
        """Switch to manual mode at ``when`` (a datetime or an ISO string)."""
        value = parse_iso(when) if isinstance(when, str) else when.astimezone(UTC)
        with self._lock:
            self._manual = value
        return value

    def advance(self, seconds: float) -> dt.datetime:
        """Move the clock forward; in real mode this first freezes it at the current time.

        Raises:
            ValueError: ``seconds`` is negative.
        """
        if seconds < 0:
            raise ValueError(f"cannot advance the clock by a negative amount ({seconds} s)")
        with self._lock:
            base = self._manual or dt.datetime.now(UTC)
            self._manual = base + dt.timedelta(seconds=seconds)
            return self._manual

    def to_next_hour(self) -> dt.datetime:
        """Move the clock to the start of the next hour (manual mode)."""
        with self._lock:
            base = self._manual or dt.datetime.now(UTC)
            self._manual = base.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
            return self._manual

    def real(self) -> None:
        """Return to real time."""
        with self._lock:
            self._manual = None

    def snapshot(self) -> dict:
        """``{"now": ISO, "mode": ...}`` as the admin API reports it."""
        return {"now": iso(self.now()), "mode": self.mode}


#: The one clock of the emulator process.
CLOCK = Clock()


def moto_now() -> dt.datetime:
    """The emulator time in moto's form (naive UTC)."""
    return naive_utc(CLOCK.now())
