"""The emulator clock: real time, then flowing from where it was put, or frozen (tests).

Every timestamp the lab relies on (capture ``inferenceTime`` and file names, processing-job
times, schedule and execution times) is read from :data:`CLOCK`, so a workshop can jump to the
next hour and see an hourly monitoring execution in seconds.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time

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


#: ``MMLAB_CLOCK=frozen`` in the server's environment: the clock stands still from the start
CLOCK_ENV = "MMLAB_CLOCK"
MODES = ("real", "flowing", "frozen")


class Clock:
    """The emulator clock; thread-safe. Three modes (:attr:`mode`):

    - ``real``: the machine's UTC time (the start, and after :meth:`real`);
    - ``flowing``: after :meth:`set`/:meth:`advance`/:meth:`to_next_hour`, the emulated time keeps
      running at real speed from where it was put, so capture records sent a second apart are a
      second apart, like real traffic (the default);
    - ``frozen``: the time stands still until moved (:meth:`freeze`; or ``MMLAB_CLOCK=frozen``,
      which keeps real time until the first move): deterministic tests and committed notebook
      outputs. Moving a frozen clock keeps it frozen.

    Time never goes backwards through :meth:`advance`.
    """

    def __init__(self, frozen: bool | None = None) -> None:
        self._lock = threading.Lock()
        #: the emulated time at :attr:`_anchor` (None: real time)
        self._base: dt.datetime | None = None
        self._anchor = 0.0
        if frozen is None:
            frozen = os.environ.get(CLOCK_ENV, "").strip().lower() in ("frozen", "freeze")
        # (real time until the clock is first moved; from then on it stands still)
        self._frozen = bool(frozen)
        #: what :meth:`real` (and a reset) returns to: the configured policy
        self._frozen_policy = self._frozen

    @property
    def mode(self) -> str:
        """``"real"``, ``"flowing"`` or ``"frozen"``."""
        if self._base is None:
            return "real"
        return "frozen" if self._frozen else "flowing"

    @property
    def frozen(self) -> bool:
        """Whether the clock stands still between moves."""
        return self._frozen

    def _now(self) -> dt.datetime:
        base = self._base
        if base is None:
            return dt.datetime.now(UTC)
        if self._frozen:
            return base
        return base + dt.timedelta(seconds=time.time() - self._anchor)

    def _put(self, value: dt.datetime) -> dt.datetime:
        self._base = value
        self._anchor = time.time()
        return value

    def now(self) -> dt.datetime:
        """The current emulator time (aware, UTC)."""
        with self._lock:
            return self._now()

    def set(self, when: dt.datetime | str) -> dt.datetime:
        """Put the clock at ``when`` (a datetime or an ISO string); it flows on unless frozen."""
        value = parse_iso(when) if isinstance(when, str) else when.astimezone(UTC)
        with self._lock:
            return self._put(value)

    def advance(self, seconds: float) -> dt.datetime:
        """Move the clock forward by ``seconds``; it flows on from there unless frozen.

        Raises:
            ValueError: ``seconds`` is negative.
        """
        if seconds < 0:
            raise ValueError(f"cannot advance the clock by a negative amount ({seconds} s)")
        with self._lock:
            return self._put(self._now() + dt.timedelta(seconds=seconds))

    def to_next_hour(self) -> dt.datetime:
        """Move the clock to the start of the next hour."""
        with self._lock:
            base = self._now()
            return self._put(
                base.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
            )

    def freeze(self) -> dt.datetime:
        """Stop the clock where it is (it stays frozen through later moves)."""
        with self._lock:
            value = self._put(self._now())
            self._frozen = True
            return value

    def flow(self) -> dt.datetime:
        """Let a frozen clock run on at real speed from where it stands."""
        with self._lock:
            value = self._now()
            self._frozen = False
            if self._base is not None:
                self._put(value)
            return value

    def real(self) -> None:
        """Return to real time; later moves freeze or flow as configured at start."""
        with self._lock:
            self._base = None
            self._frozen = self._frozen_policy

    def snapshot(self) -> dict:
        """``{"now": ISO, "mode": ...}`` as the admin API reports it."""
        with self._lock:
            return {"now": iso(self._now()), "mode": self.mode}


#: The one clock of the emulator process.
CLOCK = Clock()


def moto_now() -> dt.datetime:
    """The emulator time in moto's form (naive UTC)."""
    return naive_utc(CLOCK.now())
